/* ingest_worker.h — the ZeroMQ PULL endpoint and the ingest worker threads.
 *
 * Contract: ingest_start() binds the PULL endpoint, starts one proxy thread
 * that moves frames from it to an inproc queue, and `workers` threads that
 * each take frames from that queue, decode, validate and record them into the
 * engine table. Frames are processed whole; within a frame every valid event
 * counts even when others are rejected. Rejections are counted per reason and
 * logged at most once per second per reason.
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
 * ingest_stop() stops the proxy, lets the workers drain the frames already
 * queued, joins every thread and frees everything; call it once, from the
 * thread that started. ingest_figures() may be called from any thread at any
 * time; the figures are monotonic counters.
 *
 * ingest_proc_*: the per-frame pipeline without sockets, one per thread, for
 * the benchmarks and unit tests.
 *
 * [i9-curve] With opts->curve enabled (ingest_curve.h), the PULL socket is a
 * CURVE server behind the ZAP handler, the proxy is ingest_curve_forward()
 * (it carries each frame's client to the worker: message properties do not
 * survive inproc), and an event for a tenant outside its client's list is
 * refused as tenant_forbidden. ingest_proc_set_client() names the client of
 * the frames that follow (for a socket of its own, e.g. the ROUTER's);
 * ingest_proc_first_reason() is the first reason of the last frame's
 * refusals (INGEST_OK when none), for an ack's error.
 */
#ifndef INGEST_WORKER_H
#define INGEST_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "eng_table.h"
#include "ingest_curve.h" /* [i9-curve] */
#include "ingest_validate.h"
#include "mp.h"

struct ingest;
struct ingest_proc;

struct ingest_opts {
    const char *pull_endpoint; /* e.g. tcp://127.0.0.1:7400 */
    int workers;               /* >= 1 */
    struct ingest_limits limits;
    const struct ingest_curve_conf *curve; /* [i9-curve] NULL or !enabled: no Curve */
};

struct ingest_figures {
    uint64_t frames;    /* frames received */
    uint64_t bytes;     /* bytes received */
    uint64_t events;    /* events decoded */
    uint64_t accepted;  /* events counted */
    uint64_t rejected[INGEST_REASON_COUNT]; /* events (or frames, for the
                                                frame reasons) by reason */
    uint64_t curve_denied; /* [i9-curve] handshakes the ZAP handler refused */
};

/* MP_OK; MP_ERR_IO when the endpoint cannot be bound (err says why);
 * MP_ERR_NOMEM. `zmq_ctx` is the caller's ZeroMQ context. */
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
/* [i9-curve] c NULL: no tenant check (the default). */
void ingest_proc_set_client(struct ingest_proc *p, const struct ingest_curve *c, uint32_t client);
int ingest_proc_first_reason(const struct ingest_proc *p);

#endif
