/* ingest_worker.c — worker threads, start and stop (see ingest_worker.h;
 * the pipeline is ingest_proc.c, the dispatcher ingest_dispatch.c).
 *
 * A worker takes frames from its inproc PAIR. A PUSH frame is applied at
 * once (under the journal's shared lock when it carries producer_id and
 * sequence, so a flush's cut never splits it from its sequence update). An
 * acked frame starts a group: the worker also takes whatever acked frames
 * are already queued (up to INGEST_GROUP_MAX / INGEST_GROUP_BYTES), decides
 * each one's fate (refused, duplicate, to journal), writes the group in one
 * synced commit (a journal ticket: no lock held), applies it a batch at a
 * time under the journal's shared lock and answers each batch as soon as
 * its fate is known.
 */
#include "ingest_worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest_impl.h"
#include "mp_thread.h"

/* Queues count messages, not bytes, so they are kept short: what the
 * daemon holds is at most (peers x ENDPOINT_HWM + workers x WORKER_HWM)
 * frames (each under 2 x max_frame_bytes), and a flat-out producer is held
 * back by its own queue (and TCP) instead of growing ours (bench_flood:
 * 2.4 GB with 20,000-frame queues; see bench/RESULTS.md). */
#define WORKER_HWM 256  /* frames queued per worker before the dispatcher holds back */
#define ENDPOINT_HWM 64 /* frames queued per connected peer on PULL and ROUTER */
#define WORKER_POLL_MS 100 /* how soon a drained worker notices `draining` */

enum {
    ACK_OK = MAILPULSE__V1__ACK_STATUS__ACK_STATUS_OK,
    ACK_DUP = MAILPULSE__V1__ACK_STATUS__ACK_STATUS_DUPLICATE,
    ACK_REJ = MAILPULSE__V1__ACK_STATUS__ACK_STATUS_REJECTED,
    ACK_RETRY = MAILPULSE__V1__ACK_STATUS__ACK_STATUS_RETRY,
    ACK_PENDING = -1, /* goes to the journal */
};

struct grp_ent {
    zmq_msg_t rid, body;
    uint32_t client; /* the Curve client (INGEST_CURVE_NO_CLIENT without Curve) */
    Mailpulse__V1__EventBatch *b;
    struct ingest_frame_shape sh;
    int status;
    int behind; /* a DUPLICATE of a batch in this group: answered after its write */
    uint32_t accepted, rejected;
    const char *error;
};

struct group {
    struct grp_ent e[INGEST_GROUP_MAX];
    struct ingest_journal_rec rec[INGEST_GROUP_MAX];
    size_t n, bytes;
    zmq_msg_t stash; /* a PUSH frame that arrived behind the group */
    uint32_t stash_client;
    int has_stash;
};

/* ---- the producer tables ------------------------------------------------------ */

/* A producer's last sequence lives in the journal's table of part
 * ingest_producers_part(pid): a pure function, so a restart finds it
 * whatever worker the route table (ingest_route.h) gives the producer.
 * Workers share the parts, so each part has a mutex; the flush's cut takes
 * the journal lock exclusively and so never meets a worker here. */
static struct ingest_producers *prod__part(struct ingest *in, const char *pid, size_t len,
                                           pthread_mutex_t **mu)
{
    int k = ingest_producers_part(pid, len, in->nparts);
    *mu = &in->part_mu[k];
    pthread_mutex_lock(*mu);
    return ingest_journal_producers(in->journal, k);
}

static uint64_t prod__last(struct ingest *in, const char *pid, size_t len)
{
    pthread_mutex_t *mu;
    uint64_t last = ingest_producers_last(prod__part(in, pid, len, &mu), pid, len);
    pthread_mutex_unlock(mu);
    return last;
}

static int prod__set(struct ingest *in, const char *pid, size_t len, uint64_t seq, int64_t now)
{
    pthread_mutex_t *mu;
    int rc = ingest_producers_set(prod__part(in, pid, len, &mu), pid, len, seq, now);
    pthread_mutex_unlock(mu);
    return rc;
}

/* 1 when pid is new and its part's table has no room for it. */
static int prod__full(struct ingest *in, const char *pid, size_t len)
{
    pthread_mutex_t *mu;
    struct ingest_producers *p = prod__part(in, pid, len, &mu);
    int full = !ingest_producers_last(p, pid, len) &&
               ingest_producers_count(p) >= INGEST_PRODUCERS_MAX;
    pthread_mutex_unlock(mu);
    return full;
}

/* ---- PUSH frames ------------------------------------------------------------- */

static void worker__push(struct worker *w, uint32_t client, const void *buf, size_t len)
{
    struct ingest_proc *p = w->proc;
    ingest_proc_set_client(p, w->in->curve, client);
    ingest_proc_set_endpoint(p, INGEST_EP_PULL);
    struct ingest_journal *j = w->in->journal;
    int64_t now = mp_now_ms();
    Mailpulse__V1__EventBatch *b = NULL;
    struct ingest_frame_shape sh;
    if (ingest_proc_open(p, buf, len, now, &b, &sh) != INGEST_OK) {
        ingest_proc_close(p);
        return;
    }
    int dedup = j && sh.pid_len && sh.sequence;
    if (dedup)
        ingest_journal_lock(j);
    if (dedup && sh.sequence <= prod__last(w->in, sh.pid, sh.pid_len)) {
        ingest_proc_duplicate(p);
    } else {
        eng_thread_online(p->th);
        ingest_proc_apply(p, b, now, NULL, NULL);
        eng_thread_offline(p->th);
        /* full table: applied, but not deduplicated (counted by its log) */
        if (dedup && prod__set(w->in, sh.pid, sh.pid_len, sh.sequence, now) != MP_OK)
            mp_warn("ingest_producer_table_full producers=%d", INGEST_PRODUCERS_MAX);
    }
    if (dedup)
        ingest_journal_unlock(j);
    ingest_proc_close(p);
}

/* ---- acked groups ------------------------------------------------------------- */

/* The latest sequence of pid: in this group (before entry i; *in_group
 * set) or applied. */
static uint64_t worker__last(const struct worker *w, const struct group *g, size_t i,
                             int *in_group)
{
    const struct ingest_frame_shape *sh = &g->e[i].sh;
    for (size_t k = i; k-- > 0;) {
        const struct grp_ent *o = &g->e[k];
        if (o->status == ACK_PENDING && o->sh.pid_len == sh->pid_len &&
            memcmp(o->sh.pid, sh->pid, sh->pid_len) == 0) {
            *in_group = 1;
            return o->sh.sequence;
        }
    }
    *in_group = 0;
    return prod__last(w->in, sh->pid, sh->pid_len);
}

/* Refused and duplicate batches; the rest become journal records. */
static size_t worker__sort(struct worker *w, struct group *g, int64_t now)
{
    size_t m = 0;
    for (size_t i = 0; i < g->n; i++) {
        struct grp_ent *e = &g->e[i];
        if (e->status != ACK_PENDING)
            continue;
        if (ingest__floor_check(w->floor, &e->sh)) {
            e->status = ACK_RETRY;
            e->error = "retry_earlier";
            continue;
        }
        if (e->sh.pid_len && e->sh.sequence &&
            e->sh.sequence <= worker__last(w, g, i, &e->behind)) {
            e->status = ACK_DUP;
            ingest_proc_duplicate(w->proc);
            continue;
        }
        if (e->sh.pid_len && prod__full(w->in, e->sh.pid, e->sh.pid_len)) {
            e->status = ACK_RETRY;
            e->error = "producer_table_full";
            ingest__floor_note(w->floor, &e->sh);
            continue;
        }
        g->rec[m++] = (struct ingest_journal_rec){
            .frame = zmq_msg_data(&e->body), .len = zmq_msg_size(&e->body), .recv_ms = now,
            .pid = e->sh.pid, .pid_len = e->sh.pid_len, .seq = e->sh.sequence,
            .client = e->client};
    }
    return m;
}

/* Answers entry e of a group whose fate is known. Each batch is answered
 * as soon as it is: the first batch of a 100-batch group does not wait
 * for the other 99 applies (about 1.2 ms each at 500 events). Its frame
 * stays open until the group ends (the journal write and the decoded
 * batch may point into it). */
static void worker__answer(struct worker *w, struct grp_ent *e)
{
    mp_add_relaxed(&w->fig.acks[e->status], 1);
    ingest__send_ack(w->pair, &e->rid, e->sh.sequence, e->status, e->accepted, e->rejected,
                     e->error, 0);
}

/* Applies pending entry e of a committed group: under the shared lock for
 * this batch alone, so a cut waits at most for one batch's apply, never
 * for the fsync (ingest_journal.h, Tickets). */
static void worker__apply_one(struct worker *w, struct grp_ent *e, int tk, int last, int64_t now)
{
    struct ingest_journal *j = w->in->journal;
    ingest_journal_lock(j);
    eng_thread_online(w->proc->th);
    if (e->sh.pid_len && e->sh.sequence)
        prod__set(w->in, e->sh.pid, e->sh.pid_len, e->sh.sequence, now);
    int first = INGEST_OK;
    ingest_proc_set_client(w->proc, w->in->curve, e->client);
    e->accepted = ingest_proc_apply(w->proc, e->b, now, &e->rejected, &first);
    e->status = ACK_OK;
    e->error = first != INGEST_OK ? ingest_reason_name(first) : "";
    ingest_journal_applied(j, tk);
    if (last)
        ingest_journal_release(j, tk);
    eng_thread_offline(w->proc->th);
    ingest_journal_unlock(j);
}

static void worker__commit_apply(struct worker *w, struct group *g, int64_t now)
{
    struct ingest_journal *j = w->in->journal;
    /* The decisions and the ids under the shared lock (the cut expires
     * producer entries); the write and the applies each on their own. */
    ingest_journal_lock(j);
    size_t m = worker__sort(w, g, now), done = 0;
    int tk = -1;
    int rc = m ? ingest_journal_take(j, m, &tk) : MP_OK;
    ingest_journal_unlock(j);
    for (size_t i = 0; i < g->n; i++) /* refused, duplicate, retry: no write to wait for */
        if (g->e[i].status != ACK_PENDING && !g->e[i].behind)
            worker__answer(w, &g->e[i]);
    if (rc == MP_OK && m)
        rc = ingest_journal_write(j, tk, g->rec, m);
    if (rc != MP_OK)
        mp_error("journal_commit_failed batches=%zu err=\"%s\"", m, mp_strerror(rc));
    for (size_t i = 0; i < g->n; i++) {
        struct grp_ent *e = &g->e[i];
        if (e->status != ACK_PENDING && !e->behind)
            continue;
        if (rc != MP_OK) { /* nothing of the group was written: nothing applied */
            e->status = ACK_RETRY;
            e->error = "journal_commit_failed";
            ingest__floor_note(w->floor, &e->sh);
        } else if (e->status == ACK_PENDING) {
            worker__apply_one(w, e, tk, ++done == m, now);
        } /* else a DUPLICATE of a batch now applied: it is one */
        worker__answer(w, e);
    }
    if (rc != MP_OK && tk >= 0) {
        ingest_journal_lock(j);
        ingest_journal_release(j, tk);
        ingest_journal_unlock(j);
    }
}

static void worker__group(struct worker *w, struct group *g)
{
    int64_t now = mp_now_ms();
    ingest_proc_set_endpoint(w->proc, INGEST_EP_ROUTER); /* the group and its apply */
    for (size_t i = 0; i < g->n; i++) {
        struct grp_ent *e = &g->e[i];
        e->status = ACK_PENDING;
        e->behind = 0;
        e->accepted = e->rejected = 0;
        e->error = "";
        int r = ingest_proc_open(w->proc, zmq_msg_data(&e->body), zmq_msg_size(&e->body), now,
                                 &e->b, &e->sh);
        if (r != INGEST_OK) {
            e->status = ACK_REJ;
            e->error = ingest_reason_name(r);
        }
    }
    worker__commit_apply(w, g, now);
    ingest_proc_close(w->proc);
    for (size_t i = 0; i < g->n; i++) { /* every one answered by now */
        struct grp_ent *e = &g->e[i];
        zmq_msg_close(&e->rid);
        zmq_msg_close(&e->body);
    }
    g->n = g->bytes = 0;
}

/* The head of the next message down: with Curve, the client part is read
 * first and the next part goes to m. -1 when nothing came (errno in
 * zmq_errno()). */
static int worker__recv(struct worker *w, zmq_msg_t *m, int flags, uint32_t *client)
{
    *client = INGEST_CURVE_NO_CLIENT;
    if (zmq_msg_recv(m, w->pair, flags) < 0)
        return -1;
    if (!w->in->curve)
        return 0;
    *client = ingest_curve_take_client(m);
    /* the rest of a message is there once its first part is */
    while (zmq_msg_recv(m, w->pair, 0) < 0)
        if (zmq_errno() != EINTR)
            return -1;
    return 0;
}

/* Takes the frame of an acked message whose routing id is in `rid`. */
static void worker__add(struct worker *w, struct group *g, zmq_msg_t *rid, uint32_t client)
{
    struct grp_ent *e = &g->e[g->n++];
    e->rid = *rid;
    e->client = client;
    zmq_msg_init(&e->body);
    zmq_msg_recv(&e->body, w->pair, 0);
    g->bytes += zmq_msg_size(&e->body);
}

/* More acked frames already queued join the group; a PUSH frame ends it. */
static void worker__fill(struct worker *w, struct group *g)
{
    while (g->n < INGEST_GROUP_MAX && g->bytes < INGEST_GROUP_BYTES) {
        zmq_msg_t m;
        uint32_t client;
        zmq_msg_init(&m);
        if (worker__recv(w, &m, ZMQ_DONTWAIT, &client) < 0) {
            zmq_msg_close(&m);
            return;
        }
        if (!zmq_msg_more(&m)) {
            g->stash = m;
            g->stash_client = client;
            g->has_stash = 1;
            return;
        }
        worker__add(w, g, &m, client);
    }
}

static void *worker__main(void *arg)
{
    struct worker *w = arg;
    mp_thread_name("mp-worker", (int)(w - w->in->workers));
    struct ingest *in = w->in;
    struct group *g = calloc(1, sizeof(*g));
    int tmo = WORKER_POLL_MS;
    zmq_setsockopt(w->pair, ZMQ_RCVTIMEO, &tmo, sizeof(tmo));
    while (g) {
        zmq_msg_t m;
        uint32_t client;
        zmq_msg_init(&m);
        /* Offline while blocked in recv, so a tick never waits on us. */
        if (worker__recv(w, &m, 0, &client) < 0) {
            zmq_msg_close(&m);
            int e = zmq_errno();
            if (e == EAGAIN && !mp_load_acquire(&in->draining))
                continue;
            if (e == EINTR)
                continue;
            break; /* drained and nothing more is coming, or ETERM */
        }
        if (zmq_msg_more(&m)) {
            worker__add(w, g, &m, client);
            worker__fill(w, g);
            worker__group(w, g);
            if (!g->has_stash)
                continue;
            m = g->stash;
            client = g->stash_client;
            g->has_stash = 0;
        }
        worker__push(w, client, zmq_msg_data(&m), zmq_msg_size(&m));
        zmq_msg_close(&m);
    }
    free(g);
    zmq_send(w->pair, "", 0, 0); /* bye: the dispatcher may leave once all have said it */
    return NULL;
}

/* ---- start / stop ----------------------------------------------------------------- */

void ingest_stop(struct ingest *in)
{
    if (!in)
        return;
    /* The dispatcher stops reading the endpoints, hands over what it holds,
     * then says `draining`; workers finish their queues (acks included)
     * and leave; the dispatcher forwards their last acks and leaves. */
    mp_store_release(&in->stopping, 1);
    if (in->disp_started)
        pthread_join(in->disp_tid, NULL);
    else
        mp_store_release(&in->draining, 1);
    for (int i = 0; i < in->nworkers; i++)
        if (in->workers[i].started)
            pthread_join(in->workers[i].tid, NULL);
    if (in->pull)
        zmq_close(in->pull);
    if (in->router)
        zmq_close(in->router);
    for (int i = 0; in->workers && i < in->nworkers; i++) {
        if (in->workers[i].pair)
            zmq_close(in->workers[i].pair);
        if (in->workers[i].disp_pair)
            zmq_close(in->workers[i].disp_pair);
        ingest_proc_destroy(in->workers[i].proc);
        ingest_producers_destroy(in->workers[i].floor);
    }
    free(in->workers);
    for (int i = 0; in->part_mu && i < in->nparts; i++)
        pthread_mutex_destroy(&in->part_mu[i]);
    free(in->part_mu);
    ingest_curve_destroy(in->curve); /* after the sockets: stops the ZAP handler */
    free(in);
}

/* A bound endpoint with the frame limits (see the header on MAXMSGSIZE). */
static void *ingest__endpoint(struct ingest *in, int type, const char *ep, const char *what,
                              const struct ingest_opts *opts, char *err, size_t errlen)
{
    void *s = zmq_socket(in->zctx, type);
    if (!s) {
        snprintf(err, errlen, "zmq_socket: %s", zmq_strerror(zmq_errno()));
        return NULL;
    }
    /* acks are small: a producer's whole window of them fits (a ROUTER
     * drops what is over its mark, and the producer would resend) */
    int hwm = ENDPOINT_HWM, ack_hwm = 8192, linger = type == ZMQ_ROUTER ? 1000 : 0;
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof(hwm));
    zmq_setsockopt(s, ZMQ_SNDHWM, &ack_hwm, sizeof(ack_hwm));
    /* ROUTER: the last acks get a second to leave at shutdown */
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
    /* libzmq drops the connection of a peer whose message exceeds
     * ZMQ_MAXMSGSIZE, before buffering it whole, and says nothing we could
     * count. Twice the frame limit leaves a band where an oversized frame
     * still arrives, costs one buffer (never a decode), and is refused and
     * counted (frame_too_large, with a log line) so the producer's operator
     * can see why; only a frame over twice the limit loses its connection. */
    int64_t maxmsg = 2 * (int64_t)(opts->limits.max_frame_bytes ? opts->limits.max_frame_bytes
                                                                : INGEST_MAX_FRAME_BYTES_DEFAULT);
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
    if (in->curve && ingest_curve_server_opts(in->curve, s) != MP_OK) {
        snprintf(err, errlen, "ingest.curve: %s server options: %s", what,
                 zmq_strerror(zmq_errno()));
        zmq_close(s);
        return NULL;
    }
    if (zmq_bind(s, ep) != 0) {
        snprintf(err, errlen, "cannot bind %s %s: %s", what, ep, zmq_strerror(zmq_errno()));
        zmq_close(s);
        return NULL;
    }
    return s;
}

/* Worker i's PAIR, both ends. */
static int ingest__pair(struct ingest *in, int i, char *err, size_t errlen)
{
    struct worker *w = &in->workers[i];
    char ep[96];
    snprintf(ep, sizeof(ep), "inproc://mailpulse-ingest-%p-%d", (void *)in, i);
    w->disp_pair = zmq_socket(in->zctx, ZMQ_PAIR);
    w->pair = zmq_socket(in->zctx, ZMQ_PAIR);
    int hwm = WORKER_HWM, linger = 0;
    if (!w->disp_pair || !w->pair) {
        snprintf(err, errlen, "zmq_socket: %s", zmq_strerror(zmq_errno()));
        return MP_ERR_IO;
    }
    zmq_setsockopt(w->disp_pair, ZMQ_SNDHWM, &hwm, sizeof(hwm));
    zmq_setsockopt(w->pair, ZMQ_RCVHWM, &hwm, sizeof(hwm));
    zmq_setsockopt(w->pair, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(w->disp_pair, ZMQ_LINGER, &linger, sizeof(linger));
    if (zmq_bind(w->disp_pair, ep) != 0 || zmq_connect(w->pair, ep) != 0) {
        snprintf(err, errlen, "cannot bind inproc queue: %s", zmq_strerror(zmq_errno()));
        return MP_ERR_IO;
    }
    return MP_OK;
}

/* The client table and the ZAP handler, before the replay (which checks
 * each journaled batch's client) and before any bind (so no handshake can
 * miss the handler); each endpoint then takes the server options. */
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
    /* Producers need the public key; the secret never reaches a log. */
    mp_info("ingest_curve server_public_key=%s clients=%zu",
            MP_LOG_Q(ingest_curve_server_public(in->curve)), ingest_curve_n_clients(in->curve));
    return MP_OK;
}

/* Journal replay: each entry through its producer's worker's pipeline. */
static int ingest__replay_one(void *arg, int64_t recv_ms, uint32_t client, const void *frame,
                              size_t len)
{
    struct ingest *in = arg;
    struct ingest_frame_shape sh;
    int w = 0;
    if (ingest_decode_shape(frame, len, &sh) == MP_OK && sh.pid_len)
        w = ingest_producers_part(sh.pid, sh.pid_len, in->nworkers);
    struct ingest_proc *p = in->workers[w].proc;
    /* an adapter's batch: its tenants were checked when it was taken, and
     * its events may have no mailbox (the adapters' limits); the workers
     * have not started yet, so their limits are ours to switch */
    int trusted = client == INGEST_JOURNAL_CLIENT_TRUSTED, wire = p->lim.mailbox_optional;
    ingest_proc_set_client(p, trusted ? NULL : in->curve, client);
    ingest_proc_set_endpoint(p, INGEST_EP_ROUTER); /* replayed: acked batches */
    p->lim.mailbox_optional = trusted ? 1 : wire;
    eng_thread_online(p->th);
    ingest_proc_frame(p, frame, len, recv_ms, NULL);
    eng_thread_offline(p->th);
    p->lim.mailbox_optional = wire;
    return MP_OK;
}

static int ingest__procs(struct ingest *in, struct eng_table *t, const struct ingest_opts *opts,
                         char *err, size_t errlen)
{
    for (int i = 0; i < opts->workers; i++) {
        struct worker *w = &in->workers[i];
        w->in = in;
        int rc = ingest_proc_create(t, &opts->limits, &w->proc);
        if (rc != MP_OK)
            return rc;
        w->proc->rl = in->rl; /* one log budget per reason for all workers */
        if ((rc = ingest_producers_create(&w->floor)) != MP_OK)
            return rc;
        if ((rc = ingest__pair(in, i, err, errlen)) != MP_OK)
            return rc;
    }
    return MP_OK;
}

int ingest_start(struct eng_table *t, void *zmq_ctx, const struct ingest_opts *opts,
                 struct ingest **out, char *err, size_t errlen)
{
    if (opts->router_endpoint && !opts->journal) {
        snprintf(err, errlen, "ingest: the router needs a journal");
        return MP_ERR_INVAL;
    }
    int rc = MP_ERR_NOMEM;
    struct ingest *in = calloc(1, sizeof(*in));
    if (!in || !(in->workers = calloc((size_t)opts->workers, sizeof(*in->workers))))
        goto err;
    in->zctx = zmq_ctx;
    in->nworkers = opts->workers;
    in->journal = opts->journal;
    if (in->journal) {
        in->nparts = ingest_journal_parts(in->journal);
        if (!(in->part_mu = calloc((size_t)in->nparts, sizeof(*in->part_mu))))
            goto err;
        for (int i = 0; i < in->nparts; i++)
            pthread_mutex_init(&in->part_mu[i], NULL);
    }
    in->ack_max_pending = opts->ack_max_pending ? opts->ack_max_pending
                                                : INGEST_ACK_MAX_PENDING_DEFAULT;
    if ((rc = ingest__procs(in, t, opts, err, errlen)) != MP_OK)
        goto err;
    /* Recovery before any socket opens: what was acked and not yet covered
     * by a counter flush is applied again, in the order it was acked. */
    if (opts->curve && opts->curve->enabled &&
        (rc = ingest__curve_setup(in, opts->curve, err, errlen)) != MP_OK)
        goto err;
    if (in->journal && (rc = ingest_journal_replay(in->journal, ingest__replay_one, in)) != MP_OK) {
        snprintf(err, errlen, "journal replay failed: %s", mp_strerror(rc));
        goto err;
    }
    rc = MP_ERR_IO;
    if (!(in->pull = ingest__endpoint(in, ZMQ_PULL, opts->pull_endpoint, "ingest.pull", opts, err,
                                      errlen)))
        goto err;
    if (opts->router_endpoint &&
        !(in->router = ingest__endpoint(in, ZMQ_ROUTER, opts->router_endpoint, "ingest.router",
                                        opts, err, errlen)))
        goto err;
    for (int i = 0; i < opts->workers; i++) {
        if (pthread_create(&in->workers[i].tid, NULL, worker__main, &in->workers[i]) != 0) {
            snprintf(err, errlen, "cannot start ingest worker %d", i);
            goto err;
        }
        in->workers[i].started = 1;
    }
    if (pthread_create(&in->disp_tid, NULL, ingest__dispatch_main, in) != 0) {
        snprintf(err, errlen, "cannot start ingest dispatcher");
        goto err;
    }
    in->disp_started = 1;
    *out = in;
    return MP_OK;
err:
    ingest_stop(in);
    return rc;
}

void ingest_figures(const struct ingest *in, struct ingest_figures *out)
{
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < in->nworkers; i++) {
        ingest__proc_add(in->workers[i].proc, out);
        for (int s = 0; s < INGEST_ACK_STATUSES; s++)
            out->acks[s] += mp_load_relaxed(&in->workers[i].fig.acks[s]);
    }
    for (int s = 0; s < INGEST_ACK_STATUSES; s++)
        out->acks[s] += mp_load_relaxed(&in->disp_fig.acks[s]);
    if (in->curve)
        out->curve_denied = ingest_curve_denied(in->curve);
}
