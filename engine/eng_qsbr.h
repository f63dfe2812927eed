/* eng_qsbr.h — grace periods by quiescent states (QSBR) for the key table.
 *
 * Contract: a domain (struct eng_qsbr) keeps a global epoch and a registry
 * of threads. A registered thread (struct eng_thread) is offline or online;
 * while online it announces a quiescent point with eng_thread_quiescent()
 * between units of work (the ingest workers: between frames), where it holds
 * no pointer into state that a grace period protects.
 * eng_qsbr_synchronize() returns once every thread that was online when it
 * began has passed a quiescent point or gone offline: the caller (the
 * table's tick) may then reuse what it retired before the call.
 *
 * Memory order (the hand-offs the table relies on):
 *   - eng_thread_quiescent() and eng_thread_online() are a seq_cst store of
 *     the epoch the thread saw: with the updater's seq_cst stores before
 *     eng_qsbr_synchronize() (the table publishes its new bucket range so),
 *     either the thread's next seq_cst loads see the new state or the
 *     updater sees the thread's old epoch and waits for it (store-load order);
 *   - eng_thread_offline() is a release store: the thread's writes before it
 *     happen-before whatever the updater does after the grace period (its
 *     acquire load of the thread's word).
 *
 * Threads: register/unregister and synchronize take the registry lock (never
 * on the per-event path); online/quiescent/offline are lock-free and called
 * by the registered thread only. One synchronizer at a time.
 * eng_qsbr_destroy() frees the threads still registered and must not race.
 *
 * Why not liburcu's QSBR flavour: its registry is per process and per thread
 * (rcu_register_thread() in thread-local storage), while ours is per table
 * (tests and benches run several tables, the daemon's readers register
 * briefly to warm a key); its quiescent point costs the same full barrier
 * ours does, and it is not on the per-event path either way (one per frame
 * of up to 500 events). So the table keeps this small module and the build
 * does not depend on liburcu.
 *
 * Returns: MP_OK or MP_ERR_NOMEM.
 */
#ifndef ENG_QSBR_H
#define ENG_QSBR_H

#include "mp.h"

struct eng_qsbr;
struct eng_thread;

int eng_qsbr_create(struct eng_qsbr **out);
void eng_qsbr_destroy(struct eng_qsbr *q);
/* Registers the calling thread; it starts offline. */
int eng_qsbr_register(struct eng_qsbr *q, struct eng_thread **out);
/* Blocks until a grace period has elapsed (see above). */
void eng_qsbr_synchronize(struct eng_qsbr *q);

/* Goes offline, leaves the registry and frees th (NULL is a no-op). */
void eng_thread_unregister(struct eng_thread *th);
void eng_thread_online(struct eng_thread *th);
void eng_thread_quiescent(struct eng_thread *th);
void eng_thread_offline(struct eng_thread *th);

#endif
