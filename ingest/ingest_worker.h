/* ingest_worker.h — the ZeroMQ endpoints (PULL, and ROUTER for acked
 * ingest) and the ingest worker threads.
 *
 * Contract: ingest_start() binds the PULL endpoint (and the ROUTER one when
 * opts->router_endpoint is set), starts one dispatcher thread owning them
 * and `workers` threads that decode, validate and record frames into the
 * engine table. Frames are processed whole; within a frame every valid event
 * counts even when others are rejected. Rejections are counted per reason and
 * logged at most once per second per reason.
 *
 * Order: the dispatcher sends every frame to a FIXED worker: by the
 * batch's producer_id (read off the wire) through the route table
 * (ingest_route.h: the least loaded worker at the producer's first frame,
 * then always that one while it sends), or by the connection (PULL: its
 * socket; ROUTER: the routing id) when producer_id is empty. One producer's
 * frames are therefore applied in the order it sent them, on both
 * endpoints; different producers spread evenly over the workers.
 *
 * Acked ingest (ROUTER; producers use DEALER): one EventBatch per message,
 * one Ack per batch (same routing id, Ack.sequence = the batch's), sent
 * only once the batch is durable: a worker takes what is queued for it (up
 * to INGEST_GROUP_MAX batches) into ONE synced journal write
 * (ingest_journal.h: frames, receive times, producer sequences), then
 * applies them one by one, acking each as soon as it is applied (refused,
 * duplicate and RETRY batches are answered before the write). Statuses:
 * OK (accepted/rejected, `error` names the
 * first rejection reason), DUPLICATE ((producer_id, sequence) already
 * applied; sequence 0 is never deduplicated), REJECTED (the whole frame:
 * bad frame, limits; `error` names the reason), RETRY (nothing applied:
 * more than ack_max_pending batches in flight for the worker, its queue
 * full, the journal commit failed, the producer table full, or an earlier
 * batch of the same producer was answered RETRY: a producer resends from
 * its first RETRY, in order, so no later batch overtakes it).
 * With a journal, a PUSH batch carrying producer_id and sequence is applied
 * at most once too (its sequence is persisted by the counter flush that
 * stores its counts).
 *
 * Limits before allocation (opts->limits, ingest_validate.h): a frame over
 * max_frame_bytes (frame_too_large), a batch of more than max_batch_events
 * events (batch_too_large) or with a producer_id over INGEST_PRODUCER_ID_MAX
 * bytes (producer_id_too_long) is refused whole, counted once, and never
 * decoded: the counts come from a walk of the wire bytes. The PULL socket
 * also sets ZMQ_MAXMSGSIZE to twice max_frame_bytes: libzmq then drops the
 * connection of a peer that sends a larger message (not counted: libzmq
 * does not report it), so a message is never buffered past that size.
 *
 * ingest_stop() stops reading the endpoints, lets the workers drain (and
 * ack) the frames already queued, joins every thread and frees everything; call it once, from the
 * thread that started. ingest_figures() may be called from any thread at any
 * time; the figures are monotonic counters.
 *
 * ingest_proc_*: the per-frame pipeline without sockets, one per thread, for
 * the benchmarks and unit tests.
 *
 * Curve: with opts->curve enabled (ingest_curve.h), both endpoints are
 * CURVE servers behind the ZAP handler. Message properties do not survive
 * the inproc hop, so the dispatcher reads each message's client (its
 * User-Id) and sends it ahead of the frame as a part of its own; the
 * journal keeps it with the frame, so a replay checks the same client. An
 * event for a tenant outside its client's list is refused as
 * tenant_forbidden (and named in the ack). ingest_proc_set_client() names
 * the client of the frames that follow; ingest_proc_first_reason() is the
 * first reason of the last ingest_proc_frame()'s refusals (INGEST_OK when
 * none).
 */
#ifndef INGEST_WORKER_H
#define INGEST_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "eng_table.h"
#include "ingest_curve.h"
#include "ingest_validate.h"
#include "mp.h"

struct ingest;
struct ingest_proc;

#define INGEST_GROUP_MAX 128 /* acked batches in one journal commit */
#define INGEST_GROUP_BYTES (16u << 20) /* ... and their frame bytes (at least one frame) */
#define INGEST_ACK_MAX_PENDING_DEFAULT 1024
#define INGEST_ACK_MAX_PENDING_MAX 1000000
#define INGEST_ACK_STATUSES 4 /* MAILPULSE__V1__ACK_STATUS__ACK_STATUS_OK .. _RETRY */

struct ingest_journal;

struct ingest_opts {
    const char *pull_endpoint;   /* e.g. tcp://127.0.0.1:7400 */
    const char *router_endpoint; /* NULL: no acked endpoint; needs `journal` */
    int workers;                 /* >= 1; the journal's parts when it is set */
    struct ingest_limits limits;
    /* Optional: the acked path's journal and the producer tables (PUSH
     * dedup too). Replayed by ingest_start before any socket opens. */
    struct ingest_journal *journal;
    uint32_t ack_max_pending; /* acked batches in flight per worker; 0: default */
    const struct ingest_curve_conf *curve; /* NULL or !enabled: no Curve */
};

/* Which endpoint a frame came in on: ingest.pull (PUSH) or ingest.router
 * (acked; journal replays count here too). */
enum { INGEST_EP_PULL = 0, INGEST_EP_ROUTER = 1, INGEST_ENDPOINTS = 2 };
struct ingest_endpoint_figures {
    uint64_t frames, bytes, events, accepted;
    uint64_t rejected[INGEST_REASON_COUNT];
};

struct ingest_figures {
    uint64_t frames;    /* frames received */
    uint64_t bytes;     /* bytes received */
    uint64_t events;    /* events decoded */
    uint64_t accepted;  /* events counted */
    uint64_t duplicates; /* batches not applied: (producer_id, sequence) seen */
    uint64_t rejected[INGEST_REASON_COUNT]; /* events (or frames, for the
                                                frame reasons) by reason */
    uint64_t acks[INGEST_ACK_STATUSES]; /* acks sent, by status */
    uint64_t curve_denied; /* handshakes the ZAP handler refused */
    struct ingest_endpoint_figures ep[INGEST_ENDPOINTS]; /* the same, by endpoint */
};

/* MP_OK; MP_ERR_IO when an endpoint cannot be bound or the journal does
 * not replay (err says why); MP_ERR_INVAL (a router without a journal, or
 * workers differing from the journal's parts); MP_ERR_NOMEM. `zmq_ctx` is
 * the caller's ZeroMQ context. */
int ingest_start(struct eng_table *t, void *zmq_ctx, const struct ingest_opts *opts,
                 struct ingest **out, char *err, size_t errlen);
void ingest_stop(struct ingest *in);
void ingest_figures(const struct ingest *in, struct ingest_figures *out);

/* Per-thread frame pipeline. The thread must be online in the table
 * (eng_thread_online) around ingest_proc_frame(). */
int ingest_proc_create(struct eng_table *t, const struct ingest_limits *lim,
                       struct ingest_proc **out);
void ingest_proc_destroy(struct ingest_proc *p);
struct eng_thread *ingest_proc_thread(struct ingest_proc *p);
/* Processes one frame; adds to the proc's figures. Returns the number of
 * events accepted; *rejected (may be NULL) receives the number refused. */
uint32_t ingest_proc_frame(struct ingest_proc *p, const void *buf, size_t len, int64_t now_ms,
                           uint32_t *rejected);
void ingest_proc_figures(const struct ingest_proc *p, struct ingest_figures *out);
/* The same pipeline in steps, so several batches can stay decoded (an
 * acked group): ingest_proc_open() counts the frame, checks the frame
 * limits and decodes into the proc's arena: INGEST_OK with *b set, or the
 * whole-frame reason (counted and logged); sh (may be NULL) gets the wire
 * shape (producer_id, sequence). ingest_proc_apply() validates and records
 * b's events (online, like ingest_proc_frame), returns the number accepted,
 * *rejected and *first (the first rejection's reason, INGEST_OK for none;
 * both may be NULL). ingest_proc_close() frees every batch opened since the
 * last close. ingest_proc_duplicate() counts one batch not applied. */
int ingest_proc_open(struct ingest_proc *p, const void *buf, size_t len, int64_t now_ms,
                     Mailpulse__V1__EventBatch **b, struct ingest_frame_shape *sh);
uint32_t ingest_proc_apply(struct ingest_proc *p, const Mailpulse__V1__EventBatch *b,
                           int64_t now_ms, uint32_t *rejected, int *first);
void ingest_proc_close(struct ingest_proc *p);
void ingest_proc_duplicate(struct ingest_proc *p);
/* c NULL: no tenant check (the default). */
void ingest_proc_set_client(struct ingest_proc *p, const struct ingest_curve *c, uint32_t client);
/* The endpoint (INGEST_EP_*) the next frames' figures are counted under. */
void ingest_proc_set_endpoint(struct ingest_proc *p, int ep);
int ingest_proc_first_reason(const struct ingest_proc *p);

#endif
