/* test_mp_wake.c — base/mp_wake: the wake word.
 *
 *   notify_without_sleeper  costs no wake: the word stays where it was.
 *   timeout_returns         a wait with nobody to notify ends after its
 *                           timeout (and not long before it).
 *   notify_wakes_sleeper    a sleeper on a 10 s timeout wakes within a
 *                           fraction of it when work is published.
 *   no_lost_wakeups         stress: a producer publishes 20,000 pieces of
 *                           work one at a time, notifying after each; the
 *                           consumer sleeps whenever it has caught up, on a
 *                           2 s timeout. Every piece is seen, and no wait
 *                           runs into its timeout (a lost wake-up would).
 *                           Run under ThreadSanitizer by CI.
 */
#include <check.h>
#include <pthread.h>
#include <time.h>

#include "check_main.h"
#include "mp.h"
#include "mp_wake.h"

START_TEST(notify_without_sleeper)
{
    struct mp_wake w = {0};
    mp_wake_notify(&w);
    mp_wake_notify(&w);
    ck_assert_uint_eq(mp_load_relaxed(&w.word), 0);
    uint32_t s = mp_wake_prepare(&w);
    mp_wake_done(&w);
    mp_wake_notify(&w); /* done: nobody sleeps any more */
    ck_assert_uint_eq(mp_load_relaxed(&w.word), s);
}
END_TEST

START_TEST(timeout_returns)
{
    struct mp_wake w = {0};
    int64_t t0 = mp_mono_ns();
    uint32_t s = mp_wake_prepare(&w);
    mp_wake_wait(&w, s, 50 * 1000000LL);
    mp_wake_done(&w);
    int64_t ms = (mp_mono_ns() - t0) / 1000000;
    ck_assert_msg(ms >= 45 && ms < 2000, "a 50 ms wait took %lld ms", (long long)ms);
    t0 = mp_mono_ns();
    s = mp_wake_prepare(&w);
    mp_wake_wait(&w, s, 0); /* no sleep at all */
    mp_wake_done(&w);
    ck_assert_int_lt(mp_mono_ns() - t0, 1000000000LL);
}
END_TEST

struct shared {
    struct mp_wake w;
    mp_atomic_u32 work;
    int n;
};

static void *producer_one(void *arg)
{
    struct shared *sh = arg;
    struct timespec ts = {0, 100 * 1000000L};
    nanosleep(&ts, NULL); /* the main thread is asleep by then */
    mp_store_release(&sh->work, 1);
    mp_wake_notify(&sh->w);
    return NULL;
}

START_TEST(notify_wakes_sleeper)
{
    struct shared sh = {0};
    pthread_t th;
    int64_t t0 = mp_mono_ns();
    ck_assert_int_eq(pthread_create(&th, NULL, producer_one, &sh), 0);
    while (!mp_load_acquire(&sh.work)) {
        uint32_t s = mp_wake_prepare(&sh.w);
        if (!mp_load_acquire(&sh.work))
            mp_wake_wait(&sh.w, s, 10 * 1000000000LL);
        mp_wake_done(&sh.w);
    }
    int64_t ms = (mp_mono_ns() - t0) / 1000000;
    pthread_join(th, NULL);
    ck_assert_msg(ms < 5000, "woke after %lld ms of a 10 s wait", (long long)ms);
}
END_TEST

static void *producer_many(void *arg)
{
    struct shared *sh = arg;
    for (int i = 0; i < sh->n; i++) {
        mp_add_release(&sh->work, 1);
        mp_wake_notify(&sh->w);
        if (i % 8 == 0) { /* let the consumer catch up and sleep, often */
            struct timespec ts = {0, 20 * 1000L};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

START_TEST(no_lost_wakeups)
{
    struct shared sh = {.n = 20000};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, producer_many, &sh), 0);
    uint32_t seen = 0;
    int timeouts = 0, sleeps = 0;
    while (seen < (uint32_t)sh.n) {
        uint32_t now = mp_load_acquire(&sh.work);
        if (now != seen) {
            ck_assert_uint_gt(now, seen); /* work only grows */
            seen = now;
            continue;
        }
        uint32_t s = mp_wake_prepare(&sh.w);
        if (mp_load_acquire(&sh.work) == seen) {
            int64_t t0 = mp_mono_ns();
            mp_wake_wait(&sh.w, s, 2 * 1000000000LL);
            sleeps++;
            if (mp_mono_ns() - t0 >= 1900000000LL)
                timeouts++;
        }
        mp_wake_done(&sh.w);
    }
    pthread_join(th, NULL);
    ck_assert_uint_eq(seen, (uint32_t)sh.n);
    ck_assert_msg(timeouts == 0, "%d of %d waits ran into their timeout: a lost wake-up",
                  timeouts, sleeps);
    /* about one sleep per pause of the producer: else nothing was tested */
    ck_assert_msg(sleeps > 100, "the consumer slept %d times only", sleeps);
}
END_TEST

CHECK_SUITE("mp_wake", 120, NULL, NULL, notify_without_sleeper, timeout_returns,
            notify_wakes_sleeper, no_lost_wakeups)
