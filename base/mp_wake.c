/* mp_wake.c — the wake word (see mp_wake.h) on Linux futexes. */
#include "mp_wake.h"

#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

uint32_t mp_wake_prepare(struct mp_wake *w)
{
    uint32_t s = mp_load_acquire(&w->word);
    mp_store_relaxed(&w->sleeping, 1);
    /* the flag before the caller's check for work (pairs with notify's) */
    mp_fence_seq_cst();
    return s;
}

void mp_wake_wait(struct mp_wake *w, uint32_t seen, int64_t timeout_ns)
{
    if (timeout_ns <= 0)
        return;
    struct timespec ts = {(time_t)(timeout_ns / 1000000000LL), (long)(timeout_ns % 1000000000LL)};
    /* returns at once when the word is no longer `seen` (EAGAIN) */
    syscall(SYS_futex, (uint32_t *)&w->word, FUTEX_WAIT_PRIVATE, seen, &ts, NULL, 0);
}

void mp_wake_done(struct mp_wake *w) { mp_store_relaxed(&w->sleeping, 0); }

void mp_wake_notify(struct mp_wake *w)
{
    /* the caller's work before the flag's load (pairs with prepare's) */
    mp_fence_seq_cst();
    if (!mp_load_relaxed(&w->sleeping))
        return;
    mp_add_release(&w->word, 1);
    syscall(SYS_futex, (uint32_t *)&w->word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

void mp_watch_init(struct mp_watch *s)
{
    pthread_mutex_init(&s->mu, NULL);
    s->w = NULL;
}

void mp_watch_destroy(struct mp_watch *s) { pthread_mutex_destroy(&s->mu); }

void mp_watch_set(struct mp_watch *s, struct mp_wake *w)
{
    pthread_mutex_lock(&s->mu);
    s->w = w;
    pthread_mutex_unlock(&s->mu);
}

void mp_watch_notify(struct mp_watch *s)
{
    pthread_mutex_lock(&s->mu);
    if (s->w)
        mp_wake_notify(s->w);
    pthread_mutex_unlock(&s->mu);
}
