/* eng_qsbr.c — epoch-based quiescent-state grace periods (see eng_qsbr.h).
 *
 * Each thread's word is 0 while offline, else the epoch it saw at its last
 * quiescent point. synchronize bumps the epoch to E and waits until every
 * registered word is 0 or >= E.
 */
#include "eng_qsbr.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "mp_atomic.h"

struct eng_thread {
    struct eng_qsbr *q;
    mp_atomic_u64 ctr; /* 0: offline; else the epoch seen at the last quiescent point */
    struct eng_thread *next;
};

struct eng_qsbr {
    mp_atomic_u64 epoch;
    pthread_mutex_t reg_lock; /* guards `threads`; taken only on (un)register and synchronize */
    struct eng_thread *threads;
};

int eng_qsbr_create(struct eng_qsbr **out)
{
    struct eng_qsbr *q = calloc(1, sizeof(*q));
    if (!q)
        return MP_ERR_NOMEM;
    pthread_mutex_init(&q->reg_lock, NULL);
    mp_atomic_init(&q->epoch, 1);
    *out = q;
    return MP_OK;
}

void eng_qsbr_destroy(struct eng_qsbr *q)
{
    if (!q)
        return;
    while (q->threads) {
        struct eng_thread *n = q->threads->next;
        free(q->threads);
        q->threads = n;
    }
    pthread_mutex_destroy(&q->reg_lock);
    free(q);
}

int eng_qsbr_register(struct eng_qsbr *q, struct eng_thread **out)
{
    struct eng_thread *th = calloc(1, sizeof(*th));
    if (!th)
        return MP_ERR_NOMEM;
    th->q = q;
    mp_atomic_init(&th->ctr, 0);
    pthread_mutex_lock(&q->reg_lock);
    th->next = q->threads;
    q->threads = th;
    pthread_mutex_unlock(&q->reg_lock);
    *out = th;
    return MP_OK;
}

void eng_thread_unregister(struct eng_thread *th)
{
    if (!th)
        return;
    struct eng_qsbr *q = th->q;
    eng_thread_offline(th);
    pthread_mutex_lock(&q->reg_lock);
    for (struct eng_thread **pp = &q->threads; *pp; pp = &(*pp)->next) {
        if (*pp == th) {
            *pp = th->next;
            break;
        }
    }
    pthread_mutex_unlock(&q->reg_lock);
    free(th);
}

void eng_thread_quiescent(struct eng_thread *th)
{
    /* seq_cst store then the caller's seq_cst loads (the table's cur_*): with
     * the updater's seq_cst store of cur_* before its epoch bump, either this
     * thread sees the new range or the updater sees this thread's old epoch
     * and waits for it (store-load order). */
    mp_store_seq_cst(&th->ctr, mp_load_seq_cst(&th->q->epoch));
}

void eng_thread_online(struct eng_thread *th) { eng_thread_quiescent(th); }

void eng_thread_offline(struct eng_thread *th)
{
    /* release: this thread's counter adds happen-before the synchronizer's
     * acquire load of ctr, and so before any clearing it does afterwards. */
    mp_store_release(&th->ctr, 0);
}

void eng_qsbr_synchronize(struct eng_qsbr *q)
{
    uint64_t target = mp_add_seq_cst(&q->epoch, 1) + 1;
    pthread_mutex_lock(&q->reg_lock);
    for (struct eng_thread *th = q->threads; th; th = th->next) {
        for (;;) {
            /* acquire: pairs with the release store in eng_thread_offline
             * and orders the thread's quiescent store before what follows */
            uint64_t c = mp_load_acquire(&th->ctr);
            if (c == 0 || c >= target)
                break;
            struct timespec ts = {0, 50 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    pthread_mutex_unlock(&q->reg_lock);
}
