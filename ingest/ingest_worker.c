/* ingest_worker.c — PULL endpoint, proxy and worker threads (see ingest_worker.h).
 *
 * Why a proxy: a ZeroMQ socket belongs to one thread, and a TCP endpoint can
 * be bound once. The proxy thread owns the bound PULL socket and forwards
 * frames to an inproc PUSH socket that the workers PULL from; inproc moves
 * message pointers, not bytes, and PUSH spreads frames across idle workers.
 * High-water marks make producers block rather than drop when we fall behind.
 */
#include "ingest_worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "mp_atomic.h"
#include "mp_log.h"

#define WORKER_INPROC "inproc://mailpulse-ingest-work"
#define WORKER_CONTROL "inproc://mailpulse-ingest-control"
#define WORKER_HWM 20000 /* frames queued per socket before producers block */

struct proc_figures {
    mp_atomic_u64 frames, bytes, events, accepted;
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

/* Shared by every proc of one ingest: one rate limit per reason. */
struct ingest_proc {
    struct pipe_slot pipe[PIPE_RING];
    struct eng_table *t;
    struct eng_thread *th;
    struct eng_frame *frame; /* one wire frame = one engine frame */
    struct ingest_arena *arena; /* decoded frames live here until the next frame */
    struct ingest_limits lim;
    struct proc_figures fig;
    struct mp_ratelimit *rl; /* INGEST_REASON_COUNT entries, owned by whoever created them */
    struct mp_ratelimit own_rl[INGEST_REASON_COUNT];
    const struct ingest_curve *curve; /* [i9-curve] NULL: no tenant check */
    uint32_t client;                  /* [i9-curve] of the frame being processed */
    int first_reason;                 /* [i9-curve] of the last frame's refusals */
};

struct worker {
    struct ingest *in;
    struct ingest_proc *proc;
    pthread_t tid;
    int started;
};

struct ingest {
    void *zctx;
    void *front;   /* PULL, bound to the public endpoint (proxy thread) */
    void *back;    /* PUSH, bound inproc (proxy thread) */
    void *control; /* PAIR, our end of the proxy's control socket */
    pthread_t proxy_tid;
    int proxy_started;
    mp_atomic_u32 stopping;
    int nworkers;
    struct worker *workers;
    struct mp_ratelimit rl[INGEST_REASON_COUNT];
    struct ingest_curve *curve; /* [i9-curve] NULL when off */
};

/* ---- per-frame pipeline ------------------------------------------------ */

void ingest_proc_destroy(struct ingest_proc *p)
{
    if (!p)
        return;
    eng_frame_destroy(p->frame);
    ingest_arena_destroy(p->arena);
    eng_thread_unregister(p->th);
    free(p);
}

int ingest_proc_create(struct eng_table *t, const struct ingest_limits *lim,
                       struct ingest_proc **out)
{
    struct ingest_proc *p = calloc(1, sizeof(*p));
    if (!p)
        return MP_ERR_NOMEM;
    p->t = t;
    p->lim = *lim;
    if (p->lim.max_frame_bytes == 0)
        p->lim.max_frame_bytes = INGEST_MAX_FRAME_BYTES_DEFAULT;
    if (p->lim.max_batch_events == 0)
        p->lim.max_batch_events = INGEST_MAX_BATCH_EVENTS_DEFAULT;
    p->rl = p->own_rl;
    int rc = eng_thread_register(t, &p->th);
    if (rc == MP_OK)
        rc = eng_frame_create(&p->frame);
    if (rc == MP_OK)
        rc = ingest_arena_create(&p->arena);
    if (rc != MP_OK) {
        ingest_proc_destroy(p); /* frees what was made; NULL parts are no-ops */
        return rc;
    }
    *out = p;
    return MP_OK;
}

struct eng_thread *ingest_proc_thread(struct ingest_proc *p) { return p->th; }

/* [i9-curve] */
void ingest_proc_set_client(struct ingest_proc *p, const struct ingest_curve *c, uint32_t client)
{
    p->curve = c;
    p->client = client;
}

int ingest_proc_first_reason(const struct ingest_proc *p) { return p->first_reason; }

static void proc__reject(struct ingest_proc *p, int reason, uint64_t n, const char *producer,
                         const char *detail, int64_t now_ms)
{
    mp_add_relaxed(&p->fig.rejected[reason], n);
    if (p->first_reason == INGEST_OK) /* [i9-curve] */
        p->first_reason = reason;
    uint64_t suppressed;
    if (mp_ratelimit_allow(&p->rl[reason], now_ms, 1000, &suppressed))
        mp_warn("ingest_reject reason=%s producer=%s detail=%s suppressed=%llu",
                ingest_reason_name(reason), MP_LOG_Q(producer), MP_LOG_Q(detail),
                (unsigned long long)suppressed);
}

/* A short, log-safe rendering of an untrusted string. */
static const char *proc__show(const char *s, char *buf, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; s && s[i] && j + 1 < n; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[j++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '?';
    }
    buf[j] = '\0';
    return buf;
}

static void proc__reject_event(struct ingest_proc *p, const Mailpulse__V1__EventBatch *b, size_t i,
                               int reason, int64_t now_ms)
{
    const Mailpulse__V1__Event *e = b->events[i];
    char d[96], s1[40];
    snprintf(d, sizeof(d), "event %zu tenant=%s type=%d time_ms=%lld", i,
             proc__show(e->tenant, s1, sizeof(s1)), (int)e->type, (long long)e->time_ms);
    proc__reject(p, reason, 1, b->producer_id, d, now_ms);
}

/* The frame limits, before a byte is decoded: unpacking allocates per
 * field (about 5x the frame), so size, event count and producer_id length
 * are read off the wire first (ingest_decode_shape). A frame whose top level
 * does not parse is left to the decoder, which refuses it as bad_frame.
 * Returns INGEST_OK or the whole-frame reason, with `d` describing it. */
static int proc__admit(const struct ingest_proc *p, const void *buf, size_t len, char *d,
                       size_t dn)
{
    struct ingest_frame_shape sh;
    if (len > p->lim.max_frame_bytes) {
        snprintf(d, dn, "frame of %zu bytes, max_frame_bytes %zu", len, p->lim.max_frame_bytes);
        return INGEST_REJ_FRAME_LARGE;
    }
    if (ingest_decode_shape(buf, len, &sh) != MP_OK)
        return INGEST_OK;
    if (sh.n_events > p->lim.max_batch_events) {
        snprintf(d, dn, "batch of %zu events, max_batch_events %u", sh.n_events,
                 (unsigned)p->lim.max_batch_events);
        return INGEST_REJ_BATCH_LARGE;
    }
    if (sh.producer_id_len > INGEST_PRODUCER_ID_MAX) {
        snprintf(d, dn, "producer_id of %zu bytes, at most %d", sh.producer_id_len,
                 INGEST_PRODUCER_ID_MAX);
        return INGEST_REJ_PRODUCER_ID;
    }
    return INGEST_OK;
}

uint32_t ingest_proc_frame(struct ingest_proc *p, const void *buf, size_t len, int64_t now_ms,
                           uint32_t *rejected)
{
    uint32_t ok = 0, bad = 0;
    p->first_reason = INGEST_OK; /* [i9-curve] */
    mp_add_relaxed(&p->fig.frames, 1);
    mp_add_relaxed(&p->fig.bytes, len);
    Mailpulse__V1__EventBatch *b = NULL;
    char why[96];
    int whole = proc__admit(p, buf, len, why, sizeof(why));
    if (whole != INGEST_OK) {
        proc__reject(p, whole, 1, NULL, why, now_ms);
        goto out;
    }
    if (ingest_decode_batch_arena(p->arena, buf, len, &b) != MP_OK) {
        char d[64];
        snprintf(d, sizeof(d), "%zu bytes do not decode as EventBatch", len);
        proc__reject(p, INGEST_REJ_BAD_FRAME, 1, NULL, d, now_ms);
        goto out;
    }
    if (b->n_events == 0) {
        proc__reject(p, INGEST_REJ_EMPTY_BATCH, 1, b->producer_id, "batch has no events", now_ms);
        goto out;
    }
    mp_add_relaxed(&p->fig.events, b->n_events);
    const size_t n = b->n_events;
    for (size_t i = 0; i < n + 3 * PIPE_D; i++) {
        if (i < n) {
            struct pipe_slot *s = &p->pipe[i % PIPE_RING];
            int r = ingest_validate_event(b->events[i], now_ms, &p->lim, s->names, &s->ev);
            if (r == INGEST_OK && p->curve && /* [i9-curve] */
                !ingest_curve_allows(p->curve, p->client, s->ev.tenant, s->ev.tenant_len))
                r = INGEST_REJ_TENANT_FORBIDDEN;
            s->valid = r == INGEST_OK;
            if (s->valid) {
                eng_prep_start(p->t, &s->ev, &s->prep);
            } else {
                bad++;
                proc__reject_event(p, b, i, r, now_ms);
            }
        }
        if (i >= PIPE_D && i - PIPE_D < n && p->pipe[(i - PIPE_D) % PIPE_RING].valid)
            eng_prep_keys(p->t, &p->pipe[(i - PIPE_D) % PIPE_RING].prep);
        if (i >= 2 * PIPE_D && i - 2 * PIPE_D < n) {
            struct pipe_slot *s = &p->pipe[(i - 2 * PIPE_D) % PIPE_RING];
            if (s->valid)
                eng_prep_counters(p->t, &s->ev, &s->prep);
        }
        if (i < 3 * PIPE_D || i - 3 * PIPE_D >= n)
            continue;
        size_t j = i - 3 * PIPE_D;
        struct pipe_slot *s = &p->pipe[j % PIPE_RING];
        if (!s->valid)
            continue;
        int rc;
        while ((rc = eng_frame_record_prep(p->t, p->frame, &s->ev, &s->prep)) == MP_ERR_AGAIN) {
            /* the table is resetting a ring after a clock jump: step
             * out of the read side so that reset can finish */
            eng_thread_quiescent(p->th);
            struct timespec ts = {0, 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (rc == MP_OK) {
            ok++;
            continue;
        }
        /* MP_ERR_INVAL: valid by the wall clock, outside the table's held
         * range (its tick lags the clock by up to one interval). */
        int r = rc == MP_ERR_FULL    ? INGEST_REJ_CAPACITY
                : rc == MP_ERR_INVAL ? (s->ev.time_ms > now_ms ? INGEST_REJ_TIME_FUTURE
                                                               : INGEST_REJ_TIME_OLD)
                                     : INGEST_REJ_INTERNAL;
        bad++;
        proc__reject_event(p, b, j, r, now_ms);
    }
    /* The whole frame becomes visible to the evaluator at once. */
    eng_frame_end(p->t, p->frame);
    mp_add_relaxed(&p->fig.accepted, ok);
out:
    ingest_arena_reset(p->arena); /* the batch goes with it */
    if (rejected)
        *rejected = bad;
    return ok;
}

static void proc__add(const struct proc_figures *f, struct ingest_figures *out)
{
    out->frames += mp_load_relaxed(&f->frames);
    out->bytes += mp_load_relaxed(&f->bytes);
    out->events += mp_load_relaxed(&f->events);
    out->accepted += mp_load_relaxed(&f->accepted);
    for (int r = 0; r < INGEST_REASON_COUNT; r++)
        out->rejected[r] += mp_load_relaxed(&f->rejected[r]);
}

/* [i9-curve] A Curve endpoint's frame comes as [client index, frame]
 * (ingest_curve_forward): the index goes to the proc, msg gets the frame.
 * Returns 0, or -1 when the second part cannot be read. */
static int worker__curve_frame(struct worker *w, void *sock, zmq_msg_t *msg)
{
    uint32_t client = INGEST_CURVE_NO_CLIENT;
    if (zmq_msg_more(msg)) {
        client = ingest_curve_take_client(msg);
        while (zmq_msg_recv(msg, sock, 0) < 0)
            if (zmq_errno() != EINTR && zmq_errno() != EAGAIN)
                return -1;
    }
    ingest_proc_set_client(w->proc, w->in->curve, client);
    return 0;
}

void ingest_proc_figures(const struct ingest_proc *p, struct ingest_figures *out)
{
    memset(out, 0, sizeof(*out));
    proc__add(&p->fig, out);
}

/* ---- threads --------------------------------------------------------------- */

static void *worker__main(void *arg)
{
    struct worker *w = arg;
    struct ingest *in = w->in;
    void *sock = zmq_socket(in->zctx, ZMQ_PULL);
    int hwm = WORKER_HWM, tmo = 100;
    zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof(hwm));
    /* A timeout lets the worker notice `stopping` once the queue is empty. */
    zmq_setsockopt(sock, ZMQ_RCVTIMEO, &tmo, sizeof(tmo));
    if (zmq_connect(sock, WORKER_INPROC) != 0) {
        mp_error("ingest_worker_connect err=%s", MP_LOG_Q(zmq_strerror(zmq_errno())));
        zmq_close(sock);
        return NULL;
    }
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    for (;;) {
        /* Offline while blocked in recv, so a tick never waits on us. */
        int n = zmq_msg_recv(&msg, sock, 0);
        if (n < 0) {
            int e = zmq_errno();
            if (e == EAGAIN) {
                if (mp_load_acquire(&in->stopping))
                    break; /* queue drained and no more frames are coming */
                continue;
            }
            if (e == EINTR)
                continue;
            break; /* ETERM and friends */
        }
        if (in->curve && worker__curve_frame(w, sock, &msg) != 0) /* [i9-curve] */
            break;
        eng_thread_online(w->proc->th);
        ingest_proc_frame(w->proc, zmq_msg_data(&msg), zmq_msg_size(&msg), mp_now_ms(), NULL);
        eng_thread_offline(w->proc->th);
    }
    zmq_msg_close(&msg);
    zmq_close(sock);
    return NULL;
}

static void *proxy__main(void *arg)
{
    struct ingest *in = arg;
    void *ctl = zmq_socket(in->zctx, ZMQ_PAIR);
    if (zmq_connect(ctl, WORKER_CONTROL) != 0) {
        mp_error("ingest_proxy_control err=%s", MP_LOG_Q(zmq_strerror(zmq_errno())));
        zmq_close(ctl);
        return NULL;
    }
    /* Returns when the control socket says TERMINATE (or the context ends). */
    if (in->curve) /* [i9-curve] carries each frame's client to the worker */
        ingest_curve_forward(in->curve, in->front, in->back, ctl);
    else
        zmq_proxy_steerable(in->front, in->back, NULL, ctl);
    zmq_close(ctl);
    return NULL;
}

void ingest_stop(struct ingest *in)
{
    if (!in)
        return;
    if (in->proxy_started) {
        zmq_send(in->control, "TERMINATE", 9, 0);
        pthread_join(in->proxy_tid, NULL);
    }
    /* The proxy no longer forwards; workers drain what is queued inproc and
     * leave on their first empty receive. */
    mp_store_release(&in->stopping, 1);
    for (int i = 0; i < in->nworkers; i++)
        if (in->workers[i].started)
            pthread_join(in->workers[i].tid, NULL);
    if (in->front)
        zmq_close(in->front);
    if (in->back)
        zmq_close(in->back);
    if (in->control)
        zmq_close(in->control);
    for (int i = 0; in->workers && i < in->nworkers; i++)
        ingest_proc_destroy(in->workers[i].proc);
    free(in->workers);
    ingest_curve_destroy(in->curve); /* [i9-curve] stops the ZAP handler */
    free(in);
}

/* [i9-curve] The table, the ZAP handler (before any bind, so no handshake
 * can miss it) and the server options of the PULL socket. The ROUTER
 * endpoint, once bound, takes the same ingest_curve_server_opts(). */
static int ingest__curve_setup(struct ingest *in, const struct ingest_curve_conf *conf, char *err,
                               size_t errlen)
{
    int rc = ingest_curve_create(conf, &in->curve);
    if (rc != MP_OK) {
        snprintf(err, errlen, "ingest.curve: %s", mp_strerror(rc));
        return rc;
    }
    if ((rc = ingest_curve_start(in->curve, in->zctx, err, errlen)) != MP_OK)
        return rc;
    if (ingest_curve_server_opts(in->curve, in->front) != MP_OK) {
        snprintf(err, errlen, "ingest.curve: server options: %s", zmq_strerror(zmq_errno()));
        return MP_ERR_IO;
    }
    /* Producers need the public key; the secret never reaches a log. */
    mp_info("ingest_curve server_public_key=%s clients=%zu",
            MP_LOG_Q(ingest_curve_server_public(in->curve)), ingest_curve_n_clients(in->curve));
    return MP_OK;
}

int ingest_start(struct eng_table *t, void *zmq_ctx, const struct ingest_opts *opts,
                 struct ingest **out, char *err, size_t errlen)
{
    int rc = MP_ERR_NOMEM;
    struct ingest *in = calloc(1, sizeof(*in));
    if (!in)
        goto err;
    in->zctx = zmq_ctx;
    in->nworkers = opts->workers;
    in->workers = calloc((size_t)opts->workers, sizeof(*in->workers));
    if (!in->workers)
        goto err;
    for (int i = 0; i < opts->workers; i++) {
        in->workers[i].in = in;
        rc = ingest_proc_create(t, &opts->limits, &in->workers[i].proc);
        if (rc != MP_OK)
            goto err;
        in->workers[i].proc->rl = in->rl; /* one log budget per reason for all workers */
    }

    rc = MP_ERR_IO;
    int hwm = WORKER_HWM, linger = 0;
    in->front = zmq_socket(zmq_ctx, ZMQ_PULL);
    in->back = zmq_socket(zmq_ctx, ZMQ_PUSH);
    in->control = zmq_socket(zmq_ctx, ZMQ_PAIR);
    if (!in->front || !in->back || !in->control) {
        snprintf(err, errlen, "zmq_socket: %s", zmq_strerror(zmq_errno()));
        goto err;
    }
    zmq_setsockopt(in->front, ZMQ_RCVHWM, &hwm, sizeof(hwm));
    zmq_setsockopt(in->back, ZMQ_SNDHWM, &hwm, sizeof(hwm));
    zmq_setsockopt(in->front, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(in->control, ZMQ_LINGER, &linger, sizeof(linger));
    /* libzmq drops the connection of a peer whose message exceeds
     * ZMQ_MAXMSGSIZE, before buffering it whole, and says nothing we could
     * count. Twice the frame limit leaves a band where an oversized frame
     * still arrives, costs one buffer (never a decode), and is refused and
     * counted (frame_too_large, with a log line) so the producer's operator
     * can see why; only a frame over twice the limit loses its connection. */
    int64_t maxmsg = 2 * (int64_t)(opts->limits.max_frame_bytes ? opts->limits.max_frame_bytes
                                                                : INGEST_MAX_FRAME_BYTES_DEFAULT);
    zmq_setsockopt(in->front, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
    if (opts->curve && opts->curve->enabled && /* [i9-curve] */
        (rc = ingest__curve_setup(in, opts->curve, err, errlen)) != MP_OK)
        goto err;
    rc = MP_ERR_IO;
    if (zmq_bind(in->front, opts->pull_endpoint) != 0) {
        snprintf(err, errlen, "cannot bind ingest.pull %s: %s", opts->pull_endpoint,
                 zmq_strerror(zmq_errno()));
        goto err;
    }
    if (zmq_bind(in->back, WORKER_INPROC) != 0 || zmq_bind(in->control, WORKER_CONTROL) != 0) {
        snprintf(err, errlen, "cannot bind inproc queue: %s", zmq_strerror(zmq_errno()));
        goto err;
    }
    for (int i = 0; i < opts->workers; i++) {
        if (pthread_create(&in->workers[i].tid, NULL, worker__main, &in->workers[i]) != 0) {
            snprintf(err, errlen, "cannot start ingest worker %d", i);
            goto err;
        }
        in->workers[i].started = 1;
    }
    if (pthread_create(&in->proxy_tid, NULL, proxy__main, in) != 0) {
        snprintf(err, errlen, "cannot start ingest proxy");
        goto err;
    }
    in->proxy_started = 1;
    *out = in;
    return MP_OK;
err:
    ingest_stop(in);
    return rc;
}

void ingest_figures(const struct ingest *in, struct ingest_figures *out)
{
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < in->nworkers; i++)
        proc__add(&in->workers[i].proc->fig, out);
    if (in->curve) /* [i9-curve] */
        out->curve_denied = ingest_curve_denied(in->curve);
}
