/* ingest_dispatch.c — the dispatcher thread (see ingest_worker.h, "Order",
 * and ingest_impl.h for the inproc protocol).
 *
 * Why one thread owns both endpoints: a ZeroMQ socket belongs to one
 * thread, and the acks of every worker leave through the one ROUTER. The
 * dispatcher never blocks: a PUSH frame whose worker's queue is full is
 * held (and the PULL socket no longer read, so producers feel the
 * high-water marks as before) until that queue has room; an acked batch
 * that cannot be queued, or whose worker already has ack_max_pending
 * batches in flight, is answered RETRY at once. Acks from the workers are
 * always read, so a worker never waits on us while we wait on it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest_impl.h"
#include "ingest_route.h"
#include "mp_hash.h"
#include "mp_thread.h"

#define DISP_BURST 256  /* messages taken from one socket per poll round */
#define DISP_POLL_MS 100 /* how soon `stopping` is noticed */

int ingest__send_ack(void *sock, zmq_msg_t *rid, uint64_t seq, int status, uint32_t accepted,
                     uint32_t rejected, const char *error, int nowait)
{
    Mailpulse__V1__Ack a = MAILPULSE__V1__ACK__INIT;
    a.sequence = seq;
    a.status = (Mailpulse__V1__AckStatus)status;
    a.accepted = accepted;
    a.rejected = rejected;
    a.error = (char *)(error ? error : "");
    uint8_t buf[256];
    size_t n = mailpulse__v1__ack__get_packed_size(&a);
    if (n > sizeof(buf))
        return -1; /* error strings are our own short names */
    mailpulse__v1__ack__pack(&a, buf);
    zmq_msg_t r;
    zmq_msg_init(&r);
    zmq_msg_copy(&r, rid);
    int fl = nowait ? ZMQ_DONTWAIT : 0;
    if (zmq_msg_send(&r, sock, ZMQ_SNDMORE | fl) < 0) {
        zmq_msg_close(&r);
        return -1;
    }
    return zmq_send(sock, buf, n, fl) < 0 ? -1 : 0;
}

int ingest__floor_check(struct ingest_producers *floor, const struct ingest_frame_shape *sh)
{
    if (!floor || !sh->pid_len || !sh->sequence)
        return 0;
    uint64_t f = ingest_producers_last(floor, sh->pid, sh->pid_len);
    if (!f)
        return 0;
    if (sh->sequence > f)
        return 1;
    ingest_producers_del(floor, sh->pid, sh->pid_len); /* the resend: in order again */
    return 0;
}

void ingest__floor_note(struct ingest_producers *floor, const struct ingest_frame_shape *sh)
{
    if (floor && sh->pid_len && sh->sequence &&
        !ingest_producers_last(floor, sh->pid, sh->pid_len))
        ingest_producers_set(floor, sh->pid, sh->pid_len, sh->sequence, 0); /* full: not kept */
}

struct disp {
    struct ingest *in;
    struct ingest_producers *floor;
    uint32_t *pending; /* acked batches in flight, per worker */
    int held_w;        /* worker of the held PUSH frame, -1: none */
    zmq_msg_t held;
    uint32_t held_client; /* its Curve client */
    int byes;
    int draining;
    void *mon[2]; /* Curve: handshake monitors of PULL and ROUTER (NULL: none) */
    struct ingest_route *route; /* producer_id -> worker */
    int64_t now_ms, next_expire_ms;
};

/* The worker a frame goes to: by producer_id through the route table
 * (the least busy worker at its first frame, then always that one), else
 * by the connection (`conn`: a PULL connection's descriptor, taken modulo
 * the workers since descriptors are small and consecutive, so a few
 * producers spread evenly; a hash of the ROUTER's routing id).
 * *sh (may be NULL) gets the frame's shape (zeroed when it does not parse). */
static int disp__worker(struct disp *d, const void *buf, size_t len, uint64_t conn,
                        struct ingest_frame_shape *sh)
{
    const struct ingest *in = d->in;
    struct ingest_frame_shape sh0;
    sh = sh ? sh : &sh0;
    if (ingest_decode_shape(buf, len, sh) != MP_OK)
        memset(sh, 0, sizeof(*sh));
    if (in->nworkers == 1)
        return 0;
    if (sh->pid_len)
        return ingest_route_worker(d->route, ingest_route_hash(d->route, sh->pid, sh->pid_len),
                                   d->now_ms);
    return (int)(conn % (uint64_t)in->nworkers);
}

static void disp__retry(struct disp *d, zmq_msg_t *rid, const struct ingest_frame_shape *sh,
                        const char *why)
{
    struct ingest *in = d->in;
    ingest__floor_note(d->floor, sh);
    mp_add_relaxed(&in->disp_fig.acks[MAILPULSE__V1__ACK_STATUS__ACK_STATUS_RETRY], 1);
    ingest__send_ack(in->router, rid, sh->sequence, MAILPULSE__V1__ACK_STATUS__ACK_STATUS_RETRY,
                     0, 0, why, 1);
    uint64_t suppressed;
    if (mp_ratelimit_allow(&in->retry_rl, mp_now_ms(), 1000, &suppressed))
        mp_warn("ingest_ack_retry reason=%s suppressed=%llu", MP_LOG_Q(why),
                (unsigned long long)suppressed);
}

/* With Curve, a message goes down as [client][...]: properties such as the
 * User-Id do not survive the inproc hop. -1 when the queue is full (then
 * nothing was sent). */
static int disp__client(const struct ingest *in, void *s, uint32_t client)
{
    if (!in->curve)
        return 0;
    return zmq_send(s, &client, sizeof(client), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ? -1 : 0;
}

/* Reads PUSH frames until none is waiting or one must be held. */
static void disp__pull(struct disp *d)
{
    struct ingest *in = d->in;
    for (int i = 0; i < DISP_BURST && d->held_w < 0; i++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, in->pull, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        int fd = zmq_msg_get(&m, ZMQ_SRCFD);
        int w = disp__worker(d, zmq_msg_data(&m), zmq_msg_size(&m), (uint64_t)(fd < 0 ? 0 : fd),
                             NULL);
        uint32_t client = in->curve ? ingest_curve_msg_client(in->curve, &m) : 0;
        if (disp__client(in, in->workers[w].disp_pair, client) < 0 ||
            zmq_msg_send(&m, in->workers[w].disp_pair, ZMQ_DONTWAIT) < 0) {
            d->held_w = w; /* its queue is full: keep it, stop reading PULL */
            d->held = m;
            d->held_client = client;
            return;
        }
    }
}

static void disp__held(struct disp *d)
{
    if (d->held_w < 0)
        return;
    void *s = d->in->workers[d->held_w].disp_pair;
    if (disp__client(d->in, s, d->held_client) == 0 && zmq_msg_send(&d->held, s, ZMQ_DONTWAIT) >= 0)
        d->held_w = -1;
}

/* One acked message: [routing id][frame]; more parts are refused whole. */
static void disp__routed(struct disp *d, zmq_msg_t *rid, zmq_msg_t *body, int extra)
{
    struct ingest *in = d->in;
    const void *buf = zmq_msg_data(body);
    size_t len = zmq_msg_size(body);
    if (extra) {
        mp_add_relaxed(&in->disp_fig.acks[MAILPULSE__V1__ACK_STATUS__ACK_STATUS_REJECTED], 1);
        ingest__send_ack(in->router, rid, 0, MAILPULSE__V1__ACK_STATUS__ACK_STATUS_REJECTED, 0, 0,
                         ingest_reason_name(INGEST_REJ_BAD_FRAME), 1);
        return;
    }
    uint64_t conn = mp_hash_mix64(mp_hash_bytes(zmq_msg_data(rid), zmq_msg_size(rid), 0));
    struct ingest_frame_shape sh;
    int w = disp__worker(d, buf, len, conn, &sh);
    if (ingest__floor_check(d->floor, &sh)) {
        disp__retry(d, rid, &sh, "retry_earlier");
        return;
    }
    if (d->pending[w] >= in->ack_max_pending) {
        disp__retry(d, rid, &sh, "ack_max_pending");
        return;
    }
    void *s = in->workers[w].disp_pair;
    uint32_t client = in->curve ? ingest_curve_msg_client(in->curve, body) : 0;
    if (disp__client(in, s, client) < 0 || zmq_msg_send(rid, s, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        disp__retry(d, rid, &sh, "queue_full");
        return;
    }
    zmq_msg_send(body, s, 0); /* the second part of a message always follows */
    d->pending[w]++;
}

static void disp__router(struct disp *d)
{
    struct ingest *in = d->in;
    for (int i = 0; i < DISP_BURST; i++) {
        zmq_msg_t rid, body;
        zmq_msg_init(&rid);
        zmq_msg_init(&body);
        int extra = 0;
        if (zmq_msg_recv(&rid, in->router, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&rid);
            zmq_msg_close(&body);
            return;
        }
        if (zmq_msg_more(&rid))
            zmq_msg_recv(&body, in->router, 0);
        else
            extra = 1; /* no frame at all */
        while (zmq_msg_more(&body)) { /* a message of several frames */
            zmq_msg_t x;
            zmq_msg_init(&x);
            zmq_msg_recv(&x, in->router, 0);
            extra = 1;
            int more = zmq_msg_more(&x);
            zmq_msg_close(&x);
            if (!more)
                break;
        }
        disp__routed(d, &rid, &body, extra);
        zmq_msg_close(&rid);
        zmq_msg_close(&body);
    }
}

/* Acks (and byes) from worker w, forwarded to the ROUTER. */
static void disp__acks(struct disp *d, int w)
{
    struct ingest *in = d->in;
    void *s = in->workers[w].disp_pair;
    for (int i = 0; i < DISP_BURST; i++) {
        zmq_msg_t a, b;
        zmq_msg_init(&a);
        if (zmq_msg_recv(&a, s, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&a);
            return;
        }
        if (!zmq_msg_more(&a)) { /* the worker has drained and leaves */
            d->byes++;
            zmq_msg_close(&a);
            continue;
        }
        zmq_msg_init(&b);
        zmq_msg_recv(&b, s, 0);
        if (d->pending[w])
            d->pending[w]--;
        /* ROUTER drops what it cannot route (the peer is gone) or queue:
         * the producer resends, and the resend is a DUPLICATE */
        if (zmq_msg_send(&a, in->router, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
            zmq_msg_send(&b, in->router, ZMQ_DONTWAIT);
        zmq_msg_close(&a);
        zmq_msg_close(&b);
    }
}

/* One poll round; 0 once every worker has drained and left. */
static int disp__round(struct disp *d, zmq_pollitem_t *it)
{
    struct ingest *in = d->in;
    if (!d->draining && mp_load_acquire(&in->stopping))
        d->draining = 1;
    if (d->draining && d->held_w < 0 && !mp_load_relaxed(&in->draining))
        mp_store_release(&in->draining, 1); /* nothing more goes down */
    if (d->draining && d->byes >= in->nworkers)
        return 0;
    int n = 0, ip = -1, ir = -1;
    for (int w = 0; w < in->nworkers; w++)
        it[n++] = (zmq_pollitem_t){.socket = in->workers[w].disp_pair,
                                   .events = ZMQ_POLLIN | (d->held_w == w ? ZMQ_POLLOUT : 0)};
    if (!d->draining && d->held_w < 0) {
        ip = n;
        it[n++] = (zmq_pollitem_t){.socket = in->pull, .events = ZMQ_POLLIN};
    }
    if (!d->draining && in->router) {
        ir = n;
        it[n++] = (zmq_pollitem_t){.socket = in->router, .events = ZMQ_POLLIN};
    }
    int im = n;
    for (int k = 0; k < 2; k++)
        if (d->mon[k])
            it[n++] = (zmq_pollitem_t){.socket = d->mon[k], .events = ZMQ_POLLIN};
    if (zmq_poll(it, n, DISP_POLL_MS) < 0)
        return zmq_errno() == EINTR ? 1 : 0;
    d->now_ms = mp_now_ms();
    if (d->now_ms >= d->next_expire_ms) {
        ingest_route_expire(d->route, d->now_ms);
        d->next_expire_ms = d->now_ms + 1000;
    }
    for (int k = im; k < n; k++)
        if (it[k].revents & ZMQ_POLLIN)
            ingest_curve_monitor_event(in->curve, it[k].socket);
    for (int w = 0; w < in->nworkers; w++) {
        if (it[w].revents & ZMQ_POLLIN)
            disp__acks(d, w);
        if (it[w].revents & ZMQ_POLLOUT)
            disp__held(d);
    }
    if (ip >= 0 && (it[ip].revents & ZMQ_POLLIN))
        disp__pull(d);
    if (ir >= 0 && (it[ir].revents & ZMQ_POLLIN))
        disp__router(d);
    return 1;
}

void *ingest__dispatch_main(void *arg)
{
    struct ingest *in = arg;
    mp_thread_name("mp-dispatch", -1);
    struct disp d = {.in = in, .held_w = -1};
    d.pending = calloc((size_t)in->nworkers, sizeof(*d.pending));
    zmq_pollitem_t *it = calloc((size_t)in->nworkers + 4, sizeof(*it));
    if (in->curve) { /* opened here: a monitor belongs to its socket's thread */
        d.mon[0] = ingest_curve_monitor_open(in->curve, in->pull);
        d.mon[1] = in->router ? ingest_curve_monitor_open(in->curve, in->router) : NULL;
    }
    if (!d.pending || !it || ingest_producers_create(&d.floor) != MP_OK ||
        ingest_route_create(in->nworkers, INGEST_ROUTE_CAP, INGEST_ROUTE_IDLE_MS, &d.route) !=
            MP_OK) {
        mp_error("ingest_dispatch_nomem workers=%d", in->nworkers);
        mp_store_release(&in->draining, 1);
    } else {
        while (disp__round(&d, it))
            ;
    }
    if (d.held_w >= 0)
        zmq_msg_close(&d.held);
    ingest_curve_monitor_close(in->pull, d.mon[0]);
    ingest_curve_monitor_close(in->router, d.mon[1]);
    free(it);
    free(d.pending);
    ingest_producers_destroy(d.floor);
    ingest_route_destroy(d.route);
    return NULL;
}
