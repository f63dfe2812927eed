/* test_eng_reclaim.c — Check suite "eng_reclaim": keys leave the table for
 * good (engine/eng_table_reclaim.c, eng_table.h "Reclaim"), on a controlled
 * clock (the table's ticks, never the wall clock).
 *
 * Cases:
 *   flood_reclaimed_neighbour_kept
 *       3,000 keys of one tenant, idle past the 35-day retention, leave:
 *       lookups miss them, the tenant's key count and the table's drop, its
 *       child list is empty; another tenant's 1,000 keys in the same probe
 *       chains, still in use, are all found with their counts; the tenant
 *       at its cap can make 3,000 new keys again, on the reclaimed ids, and
 *       recording a name twice finds one key (no duplicate in a chain).
 *   not_before_the_retention
 *       34 days idle: nothing leaves.
 *   pinned_key_stays
 *       A key the pin callback names stays; the callback is asked only for
 *       candidates.
 *   cold_keys_with_store
 *       With a store and eviction: keys evicted (cold), then reclaimed; the
 *       cold count drops to 0; a restart brings none of them back.
 *   writers_during_reclaim
 *       Two writer threads record another tenant's events (retrying on
 *       MP_ERR_AGAIN) while passes reclaim a flood; every event counts once.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "eng_testkit.h"
#include "mp_atomic.h"

#define RET_DAYS 35

static struct eng_table *rc_table(uint32_t max_keys, struct eng_store *s, int64_t idle,
                                  uint32_t cap)
{
    struct eng_table_opts o = {.max_keys = max_keys, .retention_ms = RET_DAYS * TK_DAY, .store = s,
                               .evict_idle_ms = idle, .limits = {.max_keys = cap}};
    struct eng_table *t = NULL;
    ck_assert_int_eq(eng_table_create(&o, TK_T0, &t), MP_OK);
    return t;
}

static int rec_i(struct eng_table *t, const char *tenant, int i, int64_t when)
{
    char mb[64];
    snprintf(mb, sizeof(mb), "u%d@%s.example", i, tenant);
    return tk_rec(t, tenant, mb, "shared.example", ENG_SENT, when);
}

static uint64_t count_i(struct eng_table *t, const char *tenant, int i)
{
    char mb[64];
    snprintf(mb, sizeof(mb), "u%d@%s.example", i, tenant);
    return tk_days(t, ENG_SCOPE_MAILBOX, tenant, mb, 0, 1, ENG_SENT);
}

static int found_i(struct eng_table *t, const char *tenant, int i)
{
    char mb[64];
    struct eng_key *k;
    snprintf(mb, sizeof(mb), "u%d@%s.example", i, tenant);
    return eng_table_find(t, ENG_SCOPE_MAILBOX, tenant, mb, &k) == MP_OK;
}

static struct eng_key *tkey(struct eng_table *t, const char *tenant)
{
    struct eng_key *k = NULL;
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_TENANT, tenant, NULL, &k), MP_OK);
    return k;
}

static void drained(void *arg, struct eng_key *k)
{
    (void)arg;
    (void)k;
}

/* What the evaluator does: a key on the dirty list is never reclaimed. */
static size_t reclaim(struct eng_table *t, int64_t now, eng_pin_fn fn, void *arg)
{
    eng_table_drain_dirty(t, drained, NULL);
    return eng_table_reclaim(t, now, fn, arg);
}

static void count_child(void *arg, struct eng_key *k)
{
    (void)k;
    (*(size_t *)arg)++;
}

START_TEST(flood_reclaimed_neighbour_kept)
{
    struct eng_table *t = rc_table(8192, NULL, 0, 3001);
    for (int i = 0; i < 3000; i++)
        ck_assert_int_eq(rec_i(t, "flood", i, TK_T0), MP_OK);
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(rec_i(t, "calm", i, TK_T0), MP_OK);
    uint32_t top_before = 2 + 3001 + 1001;
    ck_assert_uint_eq(eng_table_nkeys(t), top_before);
    ck_assert_int_eq(rec_i(t, "flood", 3000, TK_T0), ENG_ERR_KEY_CAP);
    const int64_t later = TK_T0 + (RET_DAYS + 1) * TK_DAY;
    eng_table_tick(t, later);
    for (int i = 0; i < 1000; i++) /* calm is still in use */
        ck_assert_int_eq(rec_i(t, "calm", i, later), MP_OK);
    ck_assert_uint_eq(reclaim(t, later, NULL, NULL), 3001);
    ck_assert_uint_eq(eng_table_reclaimed(t), 3001);
    ck_assert_uint_eq(eng_table_nkeys(t), 2 + 1001);
    ck_assert_uint_eq(eng_key_children_count(tkey(t, "flood")), 0);
    size_t nc = 0;
    ck_assert_uint_eq(eng_table_children(t, tkey(t, "flood"), ENG_SCOPE_MAILBOX, count_child, &nc),
                      0);
    for (int i = 0; i < 3000; i++)
        ck_assert(!found_i(t, "flood", i));
    for (int i = 0; i < 1000; i++) {
        ck_assert(found_i(t, "calm", i));
        ck_assert_uint_eq(count_i(t, "calm", i), 1); /* today's event; day 0 left the ring */
    }
    ck_assert_uint_eq(eng_table_children(t, tkey(t, "calm"), ENG_SCOPE_MAILBOX, count_child, &nc),
                      1000);
    ck_assert_uint_eq(reclaim(t, later, NULL, NULL), 0); /* nothing left to take */
    /* the flood's place is free again: new keys, on the reclaimed ids */
    for (int i = 0; i < 3000; i++)
        ck_assert_int_eq(rec_i(t, "flood", 10000 + i, later), MP_OK);
    ck_assert_int_eq(rec_i(t, "flood", 20000, later), ENG_ERR_KEY_CAP);
    for (int i = 0; i < 3000; i++) {
        ck_assert_int_eq(rec_i(t, "flood", 10000 + i, later), MP_OK);
        ck_assert_uint_eq(count_i(t, "flood", 10000 + i), 2); /* one key per name */
        char mb[64];
        struct eng_key *k;
        snprintf(mb, sizeof(mb), "u%d@flood.example", 10000 + i);
        ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_MAILBOX, "flood", mb, &k), MP_OK);
        ck_assert_uint_le(eng_key_id(k), top_before);
    }
    ck_assert_uint_eq(eng_table_nkeys(t), top_before);
    /* a name whose key left comes back as a new key, counting from zero */
    eng_table_tick(t, later + (RET_DAYS + 1) * TK_DAY);
    ck_assert_uint_eq(reclaim(t, later + (RET_DAYS + 1) * TK_DAY, NULL, NULL), 3001 + 1001);
    ck_assert_int_eq(rec_i(t, "flood", 7, later + (RET_DAYS + 1) * TK_DAY), MP_OK);
    ck_assert_uint_eq(count_i(t, "flood", 7), 1);
    ck_assert_uint_eq(eng_key_children_count(tkey(t, "flood")), 2);
    ck_assert_uint_eq(eng_key_children_count(tkey(t, "calm")), 0);
    ck_assert_uint_eq(eng_table_nkeys(t), 4);
    eng_table_destroy(t);
}
END_TEST

START_TEST(not_before_the_retention)
{
    struct eng_table *t = rc_table(4096, NULL, 0, 0);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(rec_i(t, "a", i, TK_T0), MP_OK);
    eng_table_tick(t, TK_T0 + (RET_DAYS - 1) * TK_DAY);
    ck_assert_uint_eq(reclaim(t, TK_T0 + (RET_DAYS - 1) * TK_DAY, NULL, NULL), 0);
    ck_assert_uint_eq(eng_table_nkeys(t), 102);
    eng_table_destroy(t);
}
END_TEST

struct pin {
    uint32_t id;
    int asked;
};

static int pin_one(void *arg, uint32_t id)
{
    struct pin *p = arg;
    p->asked++;
    return id == p->id;
}

START_TEST(pinned_key_stays)
{
    struct eng_table *t = rc_table(4096, NULL, 0, 0);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(rec_i(t, "a", i, TK_T0), MP_OK);
    char mb[] = "u3@a.example";
    struct eng_key *k;
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_MAILBOX, "a", mb, &k), MP_OK);
    struct pin p = {.id = eng_key_id(k)};
    const int64_t later = TK_T0 + (RET_DAYS + 1) * TK_DAY;
    eng_table_tick(t, later);
    ck_assert_uint_eq(reclaim(t, later, pin_one, &p), 10); /* 9 mailboxes + domain */
    ck_assert_int_eq(p.asked, 2 * 11 - 1); /* candidates only (not the tenant key), twice:
                                             * chosen, then taken (the pinned one once) */
    ck_assert(found_i(t, "a", 3));
    ck_assert(!found_i(t, "a", 4));
    ck_assert_uint_eq(eng_key_children_count(tkey(t, "a")), 1);
    eng_table_destroy(t);
}
END_TEST

START_TEST(cold_keys_with_store)
{
    char dir[UNIT_PATH_MAX];
    unit_tmpdir("eng_reclaim", dir);
    struct eng_store *s = unit_store_open(dir);
    struct eng_table *t = rc_table(4096, s, TK_DAY, 0);
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(rec_i(t, "a", i, TK_T0), MP_OK);
    ck_assert_int_eq(eng_table_flush(t, 1, NULL), MP_OK);
    ck_assert_uint_eq(eng_table_evict(t, TK_T0 + 2 * TK_DAY), 52);
    uint64_t cold, ev, loads;
    eng_table_residency(t, &cold, &ev, &loads);
    ck_assert_uint_eq(cold, 52);
    const int64_t later = TK_T0 + (RET_DAYS + 1) * TK_DAY;
    eng_table_tick(t, later);
    ck_assert_int_eq(eng_table_flush(t, 1, NULL), MP_OK); /* drops what is past the retention */
    ck_assert_uint_eq(reclaim(t, later, NULL, NULL), 51);
    eng_table_residency(t, &cold, &ev, &loads);
    ck_assert_uint_eq(cold, 1); /* the tenant key stays */
    ck_assert_uint_eq(eng_table_nkeys(t), 1);
    uint64_t sum[ENG_NTYPES];
    const int64_t day = later / TK_DAY;
    ck_assert_int_eq(eng_store_sum(s, ENG_RES_DAY, day - 400, day + 1, ENG_SCOPE_TENANT, 1, 0, sum),
                     MP_OK);
    ck_assert_uint_eq(sum[ENG_SENT - 1], 0); /* nothing of it left in the store */
    ck_assert_int_eq(eng_table_flush(t, 1, NULL), MP_OK);
    eng_table_destroy(t);
    eng_store_close(s);
    s = unit_store_open(dir);
    struct eng_table_opts o = {.max_keys = 4096, .retention_ms = RET_DAYS * TK_DAY, .store = s};
    ck_assert_int_eq(eng_table_create(&o, later, &t), MP_OK);
    /* the tenant key (never reclaimed) comes back for its first-seen day;
     * the reclaimed ones forgot theirs, and their records went */
    ck_assert_uint_eq(eng_table_nkeys(t), 1);
    struct eng_key *tk;
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_TENANT, "a", NULL, &tk), MP_OK);
    ck_assert_int_eq(eng_key_first_day(tk), TK_T0 / TK_DAY);
    ck_assert(!found_i(t, "a", 7));
    eng_table_destroy(t);
    eng_store_close(s);
    unit_tmpdir_remove(dir);
}
END_TEST

struct wr {
    struct eng_table *t;
    int64_t when;
    mp_atomic_u32 *stop;
    mp_atomic_u32 begun; /* a first batch is in */
    uint64_t n;
};

static void *writer_main(void *arg)
{
    struct wr *w = arg;
    struct tk_writer tw;
    tk_writer_begin(&tw, w->t);
    do {
        for (int i = 0; i < 50; i++) {
            struct eng_event ev = {"calm", 4, "ops@calm.example", 16, "calm.example", 12,
                                   ENG_SENT, w->when};
            int rc;
            while ((rc = eng_frame_record(w->t, tw.f, &ev)) == MP_ERR_AGAIN)
                eng_thread_quiescent(tw.th); /* a pass is unlinking keys */
            ck_assert_int_eq(rc, MP_OK);
            w->n++;
        }
        tk_writer_batch(&tw);
        mp_store_release(&w->begun, 1);
    } while (!mp_load_acquire(w->stop));
    tk_writer_end(&tw);
    return NULL;
}

START_TEST(writers_during_reclaim)
{
    struct eng_table *t = rc_table(65536, NULL, 0, 0);
    int64_t now = TK_T0;
    mp_atomic_u32 stop;
    mp_atomic_init(&stop, 0);
    struct wr w[2];
    pthread_t th[2];
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 5000; i++)
            ck_assert_int_eq(rec_i(t, "flood", round * 5000 + i, now), MP_OK);
        now += (RET_DAYS + 1) * TK_DAY;
        eng_table_tick(t, now);
        if (round > 0) /* calm is in use: the writers below may not have written yet */
            ck_assert_int_eq(tk_rec(t, "calm", "ops@calm.example", "calm.example", ENG_SENT, now),
                             MP_OK);
        mp_store_release(&stop, 0);
        for (int i = 0; i < 2; i++) {
            w[i] = (struct wr){.t = t, .when = now, .stop = &stop};
            mp_atomic_init(&w[i].begun, 0);
            ck_assert_int_eq(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
        }
        for (int i = 0; i < 2; i++) /* the pass below runs while they write */
            while (!mp_load_acquire(&w[i].begun))
                usleep(100);
        ck_assert_uint_eq(reclaim(t, now, NULL, NULL), 5001);
        mp_store_release(&stop, 1);
        uint64_t sent = round > 0;
        for (int i = 0; i < 2; i++) {
            pthread_join(th[i], NULL);
            sent += w[i].n;
        }
        ck_assert_uint_eq(tk_days(t, ENG_SCOPE_MAILBOX, "calm", "ops@calm.example", 0, 1,
                                  ENG_SENT), sent);
        ck_assert_uint_eq(eng_table_nkeys(t), 2 + 2); /* two tenants, calm's two keys */
    }
    eng_table_destroy(t);
}
END_TEST

Suite *test_suite(void)
{
    return check_suite("eng_reclaim", 60, NULL, NULL,
                       CHECK_TESTS(flood_reclaimed_neighbour_kept, not_before_the_retention,
                                   pinned_key_stays, cold_keys_with_store,
                                   writers_during_reclaim));
}
