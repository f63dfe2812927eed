/* test_mp_hist.c — Check suite for base/mp_hist.c: bucket edges, the
 * exposition lines, refused bounds, and a multi-writer stress run (CI runs
 * it under ThreadSanitizer too) whose totals must come out exact. */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "mp.h"
#include "mp_hist.h"

static const uint64_t le3[3] = {1000, 1000000, 1000000000}; /* 1 us, 1 ms, 1 s */

START_TEST(buckets_are_inclusive_upper_bounds)
{
    struct mp_hist h;
    struct mp_hist_snap s;
    ck_assert_int_eq(mp_hist_init(&h, le3, 3), MP_OK);
    mp_hist_observe(&h, 0);
    mp_hist_observe(&h, 1000);       /* on the edge: first bucket */
    mp_hist_observe(&h, 1001);       /* just over: second */
    mp_hist_observe(&h, 1000000000); /* third */
    mp_hist_observe(&h, 1000000001); /* +Inf only */
    mp_hist_read(&h, &s);
    ck_assert_uint_eq(s.n, 3);
    ck_assert_uint_eq(s.cum[0], 2);
    ck_assert_uint_eq(s.cum[1], 3);
    ck_assert_uint_eq(s.cum[2], 4);
    ck_assert_uint_eq(s.cum[3], 5);
    ck_assert_uint_eq(s.sum_ns, 0 + 1000 + 1001 + 1000000000ull + 1000000001ull);
}
END_TEST

START_TEST(renders_prometheus_samples)
{
    struct mp_hist h;
    struct mp_hist_snap s;
    struct mp_buf b = MP_BUF_INIT;
    ck_assert_int_eq(mp_hist_init(&h, le3, 3), MP_OK);
    mp_hist_observe(&h, 500);
    mp_hist_observe(&h, 2000000000);
    mp_hist_read(&h, &s);
    ck_assert_int_eq(mp_hist_render(&s, "x_seconds", NULL, &b), MP_OK);
    ck_assert_str_eq(b.p, "x_seconds_bucket{le=\"1e-06\"} 1\n"
                          "x_seconds_bucket{le=\"0.001\"} 1\n"
                          "x_seconds_bucket{le=\"1\"} 1\n"
                          "x_seconds_bucket{le=\"+Inf\"} 2\n"
                          "x_seconds_sum 2.000000500\n"
                          "x_seconds_count 2\n");
    mp_buf_reset(&b);
    ck_assert_int_eq(mp_hist_render(&s, "x_seconds", "receiver=\"ops\"", &b), MP_OK);
    static const char *const labelled[] = {
        "x_seconds_bucket{receiver=\"ops\",le=\"+Inf\"} 2\n",
        "x_seconds_sum{receiver=\"ops\"} 2.000000500\n",
        "x_seconds_count{receiver=\"ops\"} 2\n",
    };
    for (size_t i = 0; i < sizeof(labelled) / sizeof(labelled[0]); i++)
        ck_assert_msg(strstr(b.p, labelled[i]) != NULL, "no %s in:\n%s", labelled[i], b.p);
    mp_buf_free(&b);
}
END_TEST

START_TEST(latency_buckets_and_bad_bounds)
{
    struct mp_hist h;
    static const uint64_t down[2] = {10, 5}, same[2] = {5, 5};
    uint64_t many[MP_HIST_MAX + 1];
    for (size_t i = 0; i < MP_HIST_MAX + 1; i++)
        many[i] = i + 1;
    ck_assert_int_eq(mp_hist_init(&h, mp_hist_latency_ns, MP_HIST_LATENCY_N), MP_OK);
    ck_assert_int_eq(mp_hist_init(&h, down, 2), MP_ERR_INVAL);
    ck_assert_int_eq(mp_hist_init(&h, same, 2), MP_ERR_INVAL);
    ck_assert_int_eq(mp_hist_init(&h, le3, 0), MP_ERR_INVAL);
    ck_assert_int_eq(mp_hist_init(&h, many, MP_HIST_MAX + 1), MP_ERR_INVAL);
    ck_assert_int_eq(mp_hist_init(&h, many, MP_HIST_MAX), MP_OK);
}
END_TEST

#define STRESS_THREADS 4
#define STRESS_EACH 200000

struct stress {
    struct mp_hist *h;
    int seed;
    int stop_reader;
};

static void *stress_writer(void *arg)
{
    struct stress *st = arg;
    for (uint64_t i = 0; i < STRESS_EACH; i++)
        mp_hist_observe(st->h, (i * 7919u + (uint64_t)st->seed) % 2000000000u);
    return NULL;
}

/* A reader beside the writers: every snapshot is cumulative (never
 * decreasing), the invariant the exposition needs. */
static void *stress_reader(void *arg)
{
    struct stress *st = arg;
    struct mp_hist_snap s;
    uint64_t last = 0;
    while (!__atomic_load_n(&st->stop_reader, __ATOMIC_ACQUIRE)) {
        mp_hist_read(st->h, &s);
        for (size_t i = 1; i <= s.n; i++)
            if (s.cum[i] < s.cum[i - 1])
                return (void *)1;
        if (s.cum[s.n] < last)
            return (void *)1;
        last = s.cum[s.n];
    }
    return NULL;
}

START_TEST(many_writers_exact_totals)
{
    struct mp_hist h;
    struct mp_hist_snap s;
    pthread_t w[STRESS_THREADS], r;
    struct stress st[STRESS_THREADS], rs = {&h, 0, 0};
    ck_assert_int_eq(mp_hist_init(&h, mp_hist_latency_ns, MP_HIST_LATENCY_N), MP_OK);
    ck_assert_int_eq(pthread_create(&r, NULL, stress_reader, &rs), 0);
    for (int i = 0; i < STRESS_THREADS; i++) {
        st[i] = (struct stress){&h, i, 0};
        ck_assert_int_eq(pthread_create(&w[i], NULL, stress_writer, &st[i]), 0);
    }
    for (int i = 0; i < STRESS_THREADS; i++)
        ck_assert_int_eq(pthread_join(w[i], NULL), 0);
    __atomic_store_n(&rs.stop_reader, 1, __ATOMIC_RELEASE);
    void *bad = NULL;
    ck_assert_int_eq(pthread_join(r, &bad), 0);
    ck_assert_ptr_null(bad);
    /* The same values observed by one thread give the reference figures. */
    struct mp_hist ref;
    struct mp_hist_snap rsnap;
    ck_assert_int_eq(mp_hist_init(&ref, mp_hist_latency_ns, MP_HIST_LATENCY_N), MP_OK);
    for (int t = 0; t < STRESS_THREADS; t++)
        for (uint64_t i = 0; i < STRESS_EACH; i++)
            mp_hist_observe(&ref, (i * 7919u + (uint64_t)t) % 2000000000u);
    mp_hist_read(&h, &s);
    mp_hist_read(&ref, &rsnap);
    ck_assert_uint_eq(s.cum[s.n], (uint64_t)STRESS_THREADS * STRESS_EACH);
    ck_assert_uint_eq(s.sum_ns, rsnap.sum_ns);
    for (size_t i = 0; i <= s.n; i++)
        ck_assert_uint_eq(s.cum[i], rsnap.cum[i]);
}
END_TEST

CHECK_SUITE("mp_hist", 60, NULL, NULL, buckets_are_inclusive_upper_bounds,
            renders_prometheus_samples, latency_buckets_and_bad_bounds, many_writers_exact_totals)
