/* test_cl_part.c — the partition map (cluster/cl_part.h): the frozen
 * tenant hash (golden values computed outside this code), its spread,
 * the assignment's bound, its independence from the order of the node
 * list, and how few partitions move when a node leaves or joins. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "cl_part.h"

#define P 64

START_TEST(tenant_hash_frozen)
{
    /* FNV-1a 64 of the bytes, by Python: 514768821131075087 for "acme" */
    ck_assert_uint_eq(cl_part_of("acme", 64), 15);
    ck_assert_uint_eq(cl_part_of("acme", 4096), 3599);
    ck_assert_uint_eq(cl_part_of("team-a", 64), 22);
    ck_assert_uint_eq(cl_part_of("acme", 1), 0);
    uint32_t hits[P] = {0};
    char t[32];
    for (int i = 0; i < 64000; i++) {
        snprintf(t, sizeof(t), "tenant-%d", i);
        hits[cl_part_of(t, P)]++;
    }
    for (int p = 0; p < P; p++) /* 1000 each on average */
        ck_assert_msg(hits[p] > 850 && hits[p] < 1150, "partition %d: %u tenants", p, hits[p]);
}
END_TEST

static const char *const NODES[] = {"node-a", "node-b", "node-c", "node-d", "node-e"};

/* owner ids of nodes[0..n) into ids[] (a map by id, not by index). */
static void map_of(const char *const *nodes, size_t n, const char *ids[P])
{
    uint16_t own[P];
    ck_assert_int_eq(cl_part_assign(nodes, n, P, own), MP_OK);
    uint32_t load[8] = {0};
    for (int p = 0; p < P; p++) {
        ck_assert_uint_lt(own[p], n);
        ids[p] = nodes[own[p]];
        load[own[p]]++;
    }
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(load[i] <= (P + n - 1) / n, "%s owns %u of %d", nodes[i], load[i], P);
}

static int moved(const char *a[P], const char *b[P])
{
    int m = 0;
    for (int p = 0; p < P; p++)
        m += strcmp(a[p], b[p]) != 0;
    return m;
}

START_TEST(spread_and_order)
{
    const char *x[P], *y[P];
    const char *rev[] = {"node-c", "node-b", "node-a"};
    map_of(NODES, 3, x);
    map_of(rev, 3, y);
    ck_assert_int_eq(moved(x, y), 0); /* the same set, any order: the same map */
    map_of(NODES, 1, x);
    for (int p = 0; p < P; p++)
        ck_assert_str_eq(x[p], "node-a");
}
END_TEST

/* n nodes, then the same less one (each in turn) and plus one: what moves. */
START_TEST(few_move)
{
    const char *before[P], *after[P];
    for (size_t n = 2; n <= 4; n++) {
        map_of(NODES, n, before);
        for (size_t gone = 0; gone < n; gone++) {
            const char *rest[8];
            size_t k = 0, own = 0;
            for (size_t i = 0; i < n; i++)
                if (i != gone)
                    rest[k++] = NODES[i];
            for (int p = 0; p < P; p++)
                own += strcmp(before[p], NODES[gone]) == 0;
            map_of(rest, k, after);
            int m = moved(before, after);
            /* its own partitions, plus at most what the new bound shifts */
            ck_assert_msg((size_t)m >= own && (size_t)m <= own + P / n,
                          "%zu nodes, %s leaves (owned %zu): %d moved", n, NODES[gone], own, m);
        }
        map_of(NODES, n + 1, after);
        int m = moved(before, after);
        ck_assert_msg(m >= P / (int)(n + 1) - 1 && m <= 2 * ((P + (int)n) / (int)(n + 1)),
                      "%zu -> %zu nodes: %d moved", n, n + 1, m);
    }
}
END_TEST

START_TEST(refused)
{
    uint16_t own[P];
    const char *dup[] = {"a", "b", "a"}, *empty[] = {"a", ""}, *none[] = {NULL};
    char big[CL_NODE_ID_MAX + 2];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    const char *longid[] = {big};
    ck_assert_int_eq(cl_part_assign(dup, 3, P, own), MP_ERR_INVAL);
    ck_assert_int_eq(cl_part_assign(empty, 2, P, own), MP_ERR_INVAL);
    ck_assert_int_eq(cl_part_assign(none, 1, P, own), MP_ERR_INVAL);
    ck_assert_int_eq(cl_part_assign(longid, 1, P, own), MP_ERR_INVAL);
    ck_assert_int_eq(cl_part_assign(NODES, 0, P, own), MP_ERR_INVAL);
    ck_assert_int_eq(cl_part_assign(NODES, 2, 0, own), MP_ERR_INVAL);
    ck_assert_int_eq(cl_part_assign(NODES, 2, CL_PARTS_MAX + 1, own), MP_ERR_INVAL);
}
END_TEST

Suite *test_suite(void)
{
    return check_suite("cl_part", 0, NULL, NULL,
                       CHECK_TESTS(tenant_hash_frozen, spread_and_order, few_move, refused));
}
