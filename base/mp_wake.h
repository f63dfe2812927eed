/* mp_wake.h — a wake word: one thread sleeps until another says there is
 * work, or a timeout passes, without the sayer paying a system call while
 * nobody sleeps.
 *
 * Contract: one sleeper (mp_wake_wait) at a time, any number of wakers.
 * The sleeper's side is begin / check for work / wait:
 *     uint32_t s = mp_wake_prepare(w);    // announces it is about to sleep
 *     if (no work) mp_wake_wait(w, s, timeout_ns);
 *     mp_wake_done(w);
 * A producer publishes its work first (any store or RMW), then calls
 * mp_wake_notify(w): a seq_cst fence orders the work before the load of the
 * sleeping flag, and prepare's seq_cst fence orders the flag before the
 * sleeper's check, so either the sleeper sees the work or the producer sees
 * the flag and bumps the word, which makes a wait begun on the old value
 * return at once. No wake-up is lost; spurious ones are harmless (the
 * sleeper checks again). mp_wake_notify() costs a fence and a load when
 * nobody sleeps, a futex wake when someone does. Linux futexes, private to
 * the process. No allocation; a zeroed struct is ready.
 */
#ifndef MP_WAKE_H
#define MP_WAKE_H

#include <pthread.h>
#include <stdint.h>

#include "mp_atomic.h"

struct mp_wake {
    mp_atomic_u32 word;     /* bumped by each notify that finds a sleeper */
    mp_atomic_u32 sleeping; /* 1 between prepare and done */
};

/* A slot where one watcher leaves its wake word for a module to notify
 * (the evaluator and the silences tell the gate of changes). Set and
 * notify under a mutex, so that once mp_watch_set(NULL) returns the old
 * word is never touched again: the watcher may then free it. */
struct mp_watch {
    pthread_mutex_t mu;
    struct mp_wake *w;
};

uint32_t mp_wake_prepare(struct mp_wake *w);
/* Sleeps until the word moves off `seen`, timeout_ns passes (<= 0: no
 * sleep) or a signal; returns nothing: the caller checks for work. */
void mp_wake_wait(struct mp_wake *w, uint32_t seen, int64_t timeout_ns);
void mp_wake_done(struct mp_wake *w);
void mp_wake_notify(struct mp_wake *w);

void mp_watch_init(struct mp_watch *s);
void mp_watch_destroy(struct mp_watch *s);
void mp_watch_set(struct mp_watch *s, struct mp_wake *w);
/* Notifies the watcher's word, if one is set. */
void mp_watch_notify(struct mp_watch *s);

#endif
