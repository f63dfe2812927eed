/* test_eng_qsbr.c — engine/eng_qsbr: grace periods.
 *
 * A grace period waits for an online thread until it passes a quiescent
 * point or goes offline, and does not wait for offline or unregistered
 * threads; a thread that passed a quiescent point after the period began
 * releases it.
 */
#include <check.h>
#include <pthread.h>
#include <time.h>

#include "eng_qsbr.h"
#include "check_main.h"
#include "mp_atomic.h"

struct sync {
    struct eng_qsbr *q;
    mp_atomic_u32 done; /* release by the writer, acquire by the case */
};

static void *synchronizer(void *arg)
{
    struct sync *s = arg;
    eng_qsbr_synchronize(s->q);
    mp_store_release(&s->done, 1);
    return NULL;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static int done(struct sync *s) { return (int)mp_load_acquire(&s->done); }

START_TEST(no_online_thread_no_wait)
{
    struct eng_qsbr *q;
    ck_assert_int_eq(eng_qsbr_create(&q), MP_OK);
    eng_qsbr_synchronize(q); /* nobody registered */
    struct eng_thread *a, *b;
    ck_assert_int_eq(eng_qsbr_register(q, &a), MP_OK);
    ck_assert_int_eq(eng_qsbr_register(q, &b), MP_OK);
    eng_qsbr_synchronize(q); /* registered threads start offline */
    eng_thread_online(a);
    eng_thread_offline(a);
    eng_qsbr_synchronize(q);
    eng_thread_online(b);
    eng_thread_unregister(b); /* goes offline and leaves */
    eng_qsbr_synchronize(q);
    eng_thread_unregister(NULL);
    eng_qsbr_destroy(q); /* frees `a`, still registered */
}
END_TEST

/* An online thread holds the grace period until its next quiescent point
 * (release = 0) or until it goes offline (release = 1). */
static void holds_until(int release)
{
    struct eng_qsbr *q;
    ck_assert_int_eq(eng_qsbr_create(&q), MP_OK);
    struct eng_thread *th;
    ck_assert_int_eq(eng_qsbr_register(q, &th), MP_OK);
    eng_thread_online(th);
    struct sync s = {q, 0};
    pthread_t p;
    pthread_create(&p, NULL, synchronizer, &s);
    sleep_ms(50);
    ck_assert_int_eq(done(&s), 0); /* still waiting for us */
    if (release)
        eng_thread_offline(th);
    else
        eng_thread_quiescent(th);
    pthread_join(p, NULL);
    ck_assert_int_eq(done(&s), 1);
    /* online again: the next period waits again */
    eng_thread_online(th);
    s.done = 0;
    pthread_create(&p, NULL, synchronizer, &s);
    sleep_ms(20);
    ck_assert_int_eq(done(&s), 0);
    eng_thread_unregister(th);
    pthread_join(p, NULL);
    ck_assert_int_eq(done(&s), 1);
    eng_qsbr_destroy(q);
}

START_TEST(online_holds_until_quiescent) { holds_until(0); }
END_TEST

START_TEST(online_holds_until_offline) { holds_until(1); }
END_TEST

CHECK_SUITE("eng_qsbr", 30, NULL, NULL, no_online_thread_no_wait, online_holds_until_quiescent,
            online_holds_until_offline)
