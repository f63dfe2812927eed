/* mp_thread.h — stopping a loop thread: the one way the daemon's loop
 * threads (the evaluator, the gate's publisher, the policy server) are
 * asked to end and joined.
 *
 * Contract: such a thread polls a stop flag (mp_atomic_u32, read with
 * mp_load_acquire) between passes. mp_thread_stop() sets the flag with
 * release order, so what the caller wrote before asking is visible to the
 * loop's last pass, then joins the thread when `started` says
 * pthread_create() succeeded (a half-made owner is stopped safely).
 *
 * mp_thread_name() names the calling thread ("mp-worker-1"; Linux keeps 15
 * bytes, a longer name is cut) so `top -H`, perf and gdb tell the daemon's
 * threads apart; a thread calls it first thing in its main.
 *
 * Threads: mp_thread_stop from the owner's thread, once per start;
 * mp_thread_name from the thread it names. No state.
 */
#ifndef MP_THREAD_H
#define MP_THREAD_H

#include <pthread.h>
#include <stdio.h>

#include "mp_atomic.h"

static inline void mp_thread_stop(mp_atomic_u32 *stop, int started, pthread_t tid)
{
    mp_store_release(stop, 1);
    if (started)
        pthread_join(tid, NULL);
}

static inline void mp_thread_name(const char *name, int index)
{
    char n[64];
    if (index >= 0)
        snprintf(n, sizeof(n), "%s-%d", name, index);
    else
        snprintf(n, sizeof(n), "%s", name);
    n[15] = '\0'; /* the kernel's limit; pthread_setname_np refuses longer */
    pthread_setname_np(pthread_self(), n);
}

#endif
