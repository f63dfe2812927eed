/* mp_atomic.h — the one place mailpulse touches C11 atomics.
 *
 * Contract: thin, inline wrappers over <stdatomic.h> whose names say the
 * memory order, so each call site reads as a statement of intent. Every
 * cross-thread hand-off in the code base states at its call site why the
 * chosen order suffices. Counters use relaxed adds: their totals are read
 * after a synchronising hand-off (a dirty-flag exchange, a thread join).
 */
#ifndef MP_ATOMIC_H
#define MP_ATOMIC_H

#include <stdatomic.h>
#include <stdint.h>

typedef _Atomic uint32_t mp_atomic_u32;
typedef _Atomic uint64_t mp_atomic_u64;
typedef _Atomic int64_t mp_atomic_i64;

#define mp_load_relaxed(p) atomic_load_explicit((p), memory_order_relaxed)
#define mp_load_acquire(p) atomic_load_explicit((p), memory_order_acquire)
#define mp_store_relaxed(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)
#define mp_store_release(p, v) atomic_store_explicit((p), (v), memory_order_release)
#define mp_add_relaxed(p, v) atomic_fetch_add_explicit((p), (v), memory_order_relaxed)
#define mp_xchg_acq_rel(p, v) atomic_exchange_explicit((p), (v), memory_order_acq_rel)
#define mp_cas_acq_rel(p, expp, v)                                                    \
    atomic_compare_exchange_strong_explicit((p), (expp), (v), memory_order_acq_rel, \
                                            memory_order_acquire)
#define mp_fence_seq_cst() atomic_thread_fence(memory_order_seq_cst)
/* Gauges that go down as well as up (the sender's queued count). */
#define mp_sub_relaxed(p, v) atomic_fetch_sub_explicit((p), (v), memory_order_relaxed)
/* Initialises an atomic before any other thread can see it (no order). */
#define mp_atomic_init(p, v) atomic_init((p), (v))
/* Rate limiters: who wins a slot matters, nothing is published through it. */
#define mp_xchg_relaxed(p, v) atomic_exchange_explicit((p), (v), memory_order_relaxed)
#define mp_cas_relaxed(p, expp, v)                                                    \
    atomic_compare_exchange_strong_explicit((p), (expp), (v), memory_order_relaxed, \
                                            memory_order_relaxed)

/* Added for the engine's lock-free table (keys, frames, rings, lists). */
#define MP_ATOMIC(T) _Atomic(T)
#define mp_load_seq_cst(p) atomic_load_explicit((p), memory_order_seq_cst)
#define mp_store_seq_cst(p, v) atomic_store_explicit((p), (v), memory_order_seq_cst)
#define mp_add_release(p, v) atomic_fetch_add_explicit((p), (v), memory_order_release)
#define mp_add_seq_cst(p, v) atomic_fetch_add_explicit((p), (v), memory_order_seq_cst)
#define mp_or_relaxed(p, v) atomic_fetch_or_explicit((p), (v), memory_order_relaxed)
#define mp_or_release(p, v) atomic_fetch_or_explicit((p), (v), memory_order_release)
#define mp_and_acquire(p, v) atomic_fetch_and_explicit((p), (v), memory_order_acquire)
#define mp_and_acq_rel(p, v) atomic_fetch_and_explicit((p), (v), memory_order_acq_rel)
#define mp_xchg_acquire(p, v) atomic_exchange_explicit((p), (v), memory_order_acquire)
#define mp_xchg_seq_cst(p, v) atomic_exchange_explicit((p), (v), memory_order_seq_cst)
#define mp_cas_seq_cst(p, expp, v)                                                    \
    atomic_compare_exchange_strong_explicit((p), (expp), (v), memory_order_seq_cst, \
                                            memory_order_seq_cst)
/* Weak CAS for retry loops (list pushes, RMW loops); failure order relaxed:
 * a failed attempt only reloads the value it will retry with. */
#define mp_cas_weak_release(p, expp, v)                                             \
    atomic_compare_exchange_weak_explicit((p), (expp), (v), memory_order_release, \
                                          memory_order_relaxed)
#define mp_cas_weak_acq_rel(p, expp, v)                                             \
    atomic_compare_exchange_weak_explicit((p), (expp), (v), memory_order_acq_rel, \
                                          memory_order_relaxed)
#define mp_fence_release() atomic_thread_fence(memory_order_release)
#define mp_fence_acquire() atomic_thread_fence(memory_order_acquire)

#endif
