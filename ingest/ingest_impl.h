/* ingest_impl.h — private to ingest/ingest_*.c: the structs the pipeline
 * (ingest_proc.c), the dispatcher (ingest_dispatch.c) and the workers
 * (ingest_worker.c) share. Nothing outside ingest/ includes this.
 *
 *   ingest_proc.c      one frame: admit, decode, validate, record
 *   ingest_dispatch.c  the thread owning the bound PULL and ROUTER sockets:
 *                      every frame to a fixed worker by producer (order)
 *   ingest_route.c     producer -> worker: sticky, least loaded first
 *   ingest_worker.c    worker threads (PUSH frames, acked groups), start/stop
 *
 * Dispatcher <-> worker: one inproc PAIR per worker. Down: a PUSH frame is
 * one part [frame]; an acked one two parts [routing id][frame]; with Curve
 * on, either is preceded by a part [client index] (4 bytes, host order). Up: an ack
 * is [routing id][Ack]; a worker that has drained and leaves sends one
 * empty part.
 */
#ifndef INGEST_IMPL_H
#define INGEST_IMPL_H

#include <pthread.h>
#include <zmq.h>

#include "ingest_journal.h"
#include "ingest_worker.h"
#include "mp_atomic.h"
#include "mp_log.h"

struct proc_figures {
    mp_atomic_u64 frames, bytes, events, accepted, duplicates;
    mp_atomic_u64 rejected[INGEST_REASON_COUNT];
};

/* Lookahead: an event is validated and its lookups started (eng_prep_start)
 * PIPE_D events before its keys are warmed, 2 * PIPE_D before its counters
 * are, and 3 * PIPE_D before it is recorded, so the cache misses of about a
 * dozen events overlap instead of following one another. */
#define PIPE_D 4
#define PIPE_RING 16 /* a power of two > 3 * PIPE_D: a slot outlives its record */
_Static_assert(PIPE_RING > 3 * PIPE_D && (PIPE_RING & (PIPE_RING - 1)) == 0, "pipe ring");

struct pipe_slot {
    struct eng_event ev;
    struct eng_prep prep;
    int valid;
    char names[INGEST_NAMEBUF_LEN]; /* ev's lower-cased mailbox and domain */
};

struct ingest_proc {
    struct pipe_slot pipe[PIPE_RING];
    struct eng_table *t;
    struct eng_thread *th;
    struct eng_frame *frame; /* one wire frame = one engine frame */
    struct ingest_arena *arena; /* decoded frames live here until ingest_proc_close */
    struct ingest_limits lim;
    struct proc_figures fig[INGEST_ENDPOINTS]; /* by endpoint: ingest_proc_set_endpoint */
    int ep;
    struct mp_ratelimit *rl; /* INGEST_REASON_COUNT entries, owned by whoever created them */
    struct mp_ratelimit own_rl[INGEST_REASON_COUNT];
    const struct ingest_curve *curve; /* NULL: no tenant check */
    uint32_t client;                  /* of the frames being applied */
    int first_reason;                 /* of the last ingest_proc_frame's refusals */
};

/* What the acked path did, for /metrics (ingest_figures). */
struct ack_figures {
    mp_atomic_u64 acks[INGEST_ACK_STATUSES];
};

struct worker {
    struct ingest *in;
    struct ingest_proc *proc;
    struct ingest_producers *floor;     /* its retry floors (its own) */
    void *pair;      /* the worker's end (its thread) */
    void *disp_pair; /* the dispatcher's end */
    pthread_t tid;
    int started;
    struct ack_figures fig;
};

struct ingest {
    void *zctx;
    void *pull;   /* bound PULL (dispatcher thread) */
    void *router; /* bound ROUTER, NULL without ingest.router (dispatcher thread) */
    struct ingest_journal *journal; /* NULL: no acked path, no PUSH dedup */
    int nparts;                     /* the journal's producer tables */
    pthread_mutex_t *part_mu;       /* one per table: workers share them */
    uint32_t ack_max_pending;
    pthread_t disp_tid;
    int disp_started;
    mp_atomic_u32 stopping; /* ingest_stop -> dispatcher: stop reading */
    mp_atomic_u32 draining; /* dispatcher -> workers: nothing more is coming */
    int nworkers;
    struct worker *workers;
    struct ack_figures disp_fig; /* acks the dispatcher answered itself */
    struct ingest_curve *curve;  /* NULL without ingest.curve */
    struct mp_ratelimit rl[INGEST_REASON_COUNT];
    struct mp_ratelimit retry_rl;
};

void ingest__proc_add(const struct ingest_proc *p, struct ingest_figures *out);
/* Packs and sends one Ack [rid][Ack] on `sock` (DONTWAIT when `nowait`);
 * the rid message is copied, not consumed. 0 or -1. */
int ingest__send_ack(void *sock, zmq_msg_t *rid, uint64_t seq, int status, uint32_t accepted,
                     uint32_t rejected, const char *error, int nowait);
void *ingest__dispatch_main(void *arg);
/* Retry floors keep a producer's batches in order across a RETRY: once
 * (pid, s) was answered RETRY, its later batches (sequence > s) are
 * answered RETRY too, until the producer resends s (or anything <= s).
 * check: 1 when the batch must be answered RETRY (and clears the floor once
 * the resend reaches it); note: (pid, s) was answered RETRY. Batches
 * without producer_id or sequence have no floor. */
int ingest__floor_check(struct ingest_producers *floor, const struct ingest_frame_shape *sh);
void ingest__floor_note(struct ingest_producers *floor, const struct ingest_frame_shape *sh);

#endif
