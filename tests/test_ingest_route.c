/* test_ingest_route.c — ingest/ingest_route.c, the producer -> worker table.
 *
 *   balances_few_producers: 4 producers over 2 workers land 2 and 2, 6 over
 *     3 land 2, 2, 2, whatever their ids hash to (a hash of the id put all
 *     4 on one worker in 1 run of 8 of bench_ack).
 *   sticky_then_moves_when_idle: a producer keeps its worker while it sends,
 *     even when another worker empties; after idle_ms of silence it may
 *     move to the least loaded one.
 *   expire_and_full: expiry drops only idle entries and their load; past
 *     `cap` a new producer gets h % workers and nothing is tracked; bad
 *     arguments are refused.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "ingest_route.h"

static int route_of(struct ingest_route *r, const char *id, int64_t now)
{
    return ingest_route_worker(r, ingest_route_hash(r, id, strlen(id)), now);
}

START_TEST(balances_few_producers)
{
    for (int workers = 2; workers <= 3; workers++) {
        struct ingest_route *r;
        ck_assert_int_eq(ingest_route_create(workers, 64, 1000, &r), MP_OK);
        int count[3] = {0};
        for (int i = 0; i < 2 * workers; i++) {
            char id[32];
            snprintf(id, sizeof(id), "bench-ack-31858-0-%d", i);
            int w = route_of(r, id, 10);
            ck_assert_int_ge(w, 0);
            ck_assert_int_lt(w, workers);
            count[w]++;
        }
        for (int w = 0; w < workers; w++) {
            ck_assert_int_eq(count[w], 2);
            ck_assert_uint_eq(ingest_route_load(r, w), 2);
        }
        ck_assert_uint_eq(ingest_route_count(r), (size_t)(2 * workers));
        ingest_route_destroy(r);
    }
}
END_TEST

START_TEST(sticky_then_moves_when_idle)
{
    struct ingest_route *r;
    ck_assert_int_eq(ingest_route_create(2, 64, 1000, &r), MP_OK);
    int a = route_of(r, "a", 0), b = route_of(r, "b", 0), c = route_of(r, "c", 0);
    ck_assert_int_ne(a, b);
    ck_assert_int_eq(c, a); /* the tie goes to the lowest index: 0, 1, 0 */
    /* b goes quiet and expires: worker b is empty, yet a and c stay put */
    for (int64_t t = 100; t <= 3000; t += 100) {
        ck_assert_int_eq(route_of(r, "a", t), a);
        ck_assert_int_eq(route_of(r, "c", t), c);
    }
    ingest_route_expire(r, 3000);
    ck_assert_uint_eq(ingest_route_count(r), 2);
    ck_assert_uint_eq(ingest_route_load(r, b), 0);
    /* c falls silent for longer than idle_ms: its next frame may move, and
     * does, to the worker with no producers */
    ck_assert_int_eq(route_of(r, "c", 4500), b);
    ck_assert_uint_eq(ingest_route_load(r, a), 1);
    ck_assert_uint_eq(ingest_route_load(r, b), 1);
    ck_assert_int_eq(route_of(r, "c", 4600), b);
    ingest_route_destroy(r);
}
END_TEST

START_TEST(expire_and_full)
{
    struct ingest_route *r;
    ck_assert_int_eq(ingest_route_create(2, 4, 1000, &r), MP_OK);
    for (int i = 0; i < 4; i++) {
        char id[16];
        snprintf(id, sizeof(id), "p%d", i);
        route_of(r, id, i < 2 ? 0 : 900);
    }
    ck_assert_uint_eq(ingest_route_count(r), 4);
    /* full: a fifth producer is placed by its hash, and not kept */
    uint64_t h = ingest_route_hash(r, "p4", 2);
    ck_assert_int_eq(ingest_route_worker(r, h, 950), (int)(h % 2));
    ck_assert_uint_eq(ingest_route_count(r), 4);
    /* p0 and p1 are idle at 1500 (seen at 0), p2 and p3 are not */
    ingest_route_expire(r, 1500);
    ck_assert_uint_eq(ingest_route_count(r), 2);
    ck_assert_uint_eq(ingest_route_load(r, 0) + ingest_route_load(r, 1), 2);
    /* the survivors kept their workers through the rebuild */
    int w2 = route_of(r, "p2", 1600), w3 = route_of(r, "p3", 1600);
    ck_assert_int_ne(w2, w3);
    ck_assert_uint_eq(ingest_route_count(r), 2);
    ingest_route_destroy(r);
    ck_assert_int_eq(ingest_route_create(0, 4, 1000, &r), MP_ERR_INVAL);
    ck_assert_int_eq(ingest_route_create(2, 3, 1000, &r), MP_ERR_INVAL);
    ck_assert_int_eq(ingest_route_create(2, 4, 0, &r), MP_ERR_INVAL);
    /* one worker: always 0, nothing tracked */
    ck_assert_int_eq(ingest_route_create(1, 4, 1000, &r), MP_OK);
    ck_assert_int_eq(route_of(r, "x", 0), 0);
    ck_assert_uint_eq(ingest_route_count(r), 0);
    ingest_route_destroy(r);
}
END_TEST

CHECK_SUITE("ingest_route", 30, NULL, NULL, balances_few_producers, sticky_then_moves_when_idle,
            expire_and_full)
