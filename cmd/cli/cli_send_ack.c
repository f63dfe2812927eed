/* cli_send_ack.c — `mailpulse send --ack`: a DEALER, a window of batches in
 * flight, resends on RETRY and on a missing ack (see cli_send_ack.h). */
#include "cli_send_ack.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "cli_keygen.h"
#include "mailpulse.pb-c.h"

enum slot_state {
    SLOT_FREE,
    SLOT_DUE,     /* to be sent at due_ns (first send, or a resend) */
    SLOT_WAITING, /* sent; its ack is due by due_ns */
};

struct slot {
    enum slot_state state;
    uint64_t seq;
    int64_t events;
    int64_t due_ns;
    int64_t sends;   /* times sent so far */
    const char *why; /* what the last resend was for */
    struct mp_buf frame;
};

/* The window is a ring: batch seq lives in slots[(seq - seq0) % window],
 * and no batch is sent while one `window` sequences older is unacked. So
 * walking the ring from `base` visits batches in sequence order, which is
 * the order every (re)send goes out in: the daemon keeps the last applied
 * sequence per producer and takes anything at or below it for a
 * duplicate, so a later batch must never overtake an earlier one that is
 * not applied yet. */
struct run {
    const struct cli_cmd *cmd;
    const struct send_ack_conf *conf;
    void *ctx, *sock, *mon;
    struct slot *slots;
    uint64_t seq0, base, next_seq; /* base: lowest unacked; next_seq: next new one */
    int more;                      /* `next` may still give batches */
    int64_t retry_gate_ns;         /* no RETRY'd batch goes out before this */
    int64_t noconn_ns;             /* since when a send found no connection; 0: none */
    uint64_t jitter;               /* splitmix state for backoff jitter */
    int failed;                    /* MP_ERR_* that ends the run, or MP_OK */
    int64_t connect_ms;            /* send_ack_run_within's; 0: none */
    send_ack_next_fn next;
    void *arg;
    struct send_ack_result *res;
};

static uint64_t ack__rand(struct run *r)
{
    uint64_t z = (r->jitter += 0x9e3779b97f4a7c15ULL); /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Backoff before the n-th resend after RETRY: doubling, capped, and
 * between half and all of it, so producers told to wait do not come back
 * in step. */
static int64_t ack__backoff_ns(struct run *r, int64_t sends)
{
    int64_t ms = SEND_ACK_BACKOFF_MS;
    for (int64_t i = 1; i < sends && ms < SEND_ACK_BACKOFF_MAX_MS; i++)
        ms *= 2;
    if (ms > SEND_ACK_BACKOFF_MAX_MS)
        ms = SEND_ACK_BACKOFF_MAX_MS;
    int64_t half = ms * 1000000 / 2;
    return half + (int64_t)(ack__rand(r) % (uint64_t)(half + 1));
}

static struct slot *ack__slot(struct run *r, uint64_t seq)
{
    return &r->slots[(seq - r->seq0) % (uint64_t)r->conf->window];
}

/* ZMQ_IMMEDIATE: frames queue only on a live connection, and those queued
 * on one that breaks are dropped with it rather than carried over to the
 * next: a batch lost with a connection must not be overtaken by a later
 * one sent after the reconnect. The monitor tells the run when a
 * connection breaks, so it resends in order what was in flight. */
static int ack__open(struct run *r)
{
    /* the window bounds what is queued: no high-water marks */
    static const struct cli_sockopt opts[] = {
        {ZMQ_LINGER, 0}, {ZMQ_IMMEDIATE, 1}, {ZMQ_SNDHWM, 0}, {ZMQ_RCVHWM, 0}};
    const struct cli_producer prod = {.type = ZMQ_DEALER, .opts = opts,
                                      .n_opts = MP_ARRAY_LEN(opts),
                                      .events = ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED,
                                      .endpoint = r->conf->endpoint,
                                      .server_key = r->conf->server_key,
                                      .secret_key_file = r->conf->secret_key_file};
    return cli_producer_open(r->cmd, &prod, &r->ctx, &r->sock, &r->mon);
}

/* Lingering is off: what matters is the acks, and a batch without one was
 * reported as such. */
static void ack__close(struct run *r)
{
    if (r->mon != NULL)
        zmq_close(r->mon);
    if (r->sock != NULL)
        zmq_close(r->sock);
    if (r->ctx != NULL)
        while (zmq_ctx_term(r->ctx) != 0 && errno == EINTR)
            ;
    r->mon = r->sock = r->ctx = NULL;
}

/* Takes new batches from `next` while the window has room. */
static int ack__fill(struct run *r, int64_t now)
{
    while (r->more && r->next_seq - r->base < (uint64_t)r->conf->window) {
        struct slot *s = ack__slot(r, r->next_seq);
        mp_buf_reset(&s->frame);
        s->events = 0;
        int rc = r->next(r->arg, r->next_seq, &s->frame, &s->events);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            r->more = 0;
            break;
        }
        *s = (struct slot){SLOT_DUE, r->next_seq, s->events, now, 0, NULL, s->frame};
        r->next_seq++;
    }
    return MP_OK;
}

/* A resend of s, for `why`, at `due`; ends the run when s has had its
 * retries. */
static void ack__resend(struct run *r, struct slot *s, const char *why, int64_t due)
{
    if (s->sends > r->conf->retries) {
        cli_fail(r->cmd,
                 "%s: batch sequence %" PRIu64 " not acked after %" PRId64
                 " attempts (--retries %" PRId64 "; last: %s)%s",
                 r->conf->endpoint, s->seq, s->sends, r->conf->retries, why,
                 r->res->batches == 0 && r->res->retry_acks == 0 ? " (is the daemon running, "
                                                                   "with ingest.router here?)"
                                                                 : "");
        r->failed = MP_ERR_AGAIN;
        return;
    }
    s->state = SLOT_DUE;
    s->due_ns = due;
    s->why = why;
    r->res->retries++;
}

/* A send found no connection (ZMQ_IMMEDIATE): not an attempt, the batch
 * waits and tries again shortly; but no connection for as long as every
 * retry would take ends the run. */
static int ack__no_connection(struct run *r, struct slot *s, int64_t now)
{
    int64_t limit = r->conf->ack_timeout_ms * 1000000 * (r->conf->retries + 1);
    if (r->noconn_ns == 0)
        r->noconn_ns = now;
    /* before the first connection, connect_ms decides (send_ack_run_within) */
    int first = r->connect_ms > 0 && !r->res->connected;
    if (!first && now - r->noconn_ns >= limit) {
        cli_fail(r->cmd,
                 "%s: no connection for %" PRId64 " ms (--ack-timeout-ms x (1 + --retries)); "
                 "batch sequence %" PRIu64 " not acked (is the daemon running, with "
                 "ingest.router here?)",
                 r->conf->endpoint, (now - r->noconn_ns) / 1000000, s->seq);
        r->failed = MP_ERR_AGAIN;
        return r->failed;
    }
    s->due_ns = now + SEND_ACK_RECONNECT_POLL_MS * 1000000;
    return MP_OK;
}

/* Sends, in sequence order, every batch that is due, and times out those
 * whose ack is late. The first batch that cannot go (not due yet, or no
 * connection) stops the round, so none overtakes it. */
static int ack__send_due(struct run *r, int64_t now)
{
    int blocked = 0;
    for (uint64_t q = r->base; q < r->next_seq && r->failed == MP_OK; q++) {
        struct slot *s = ack__slot(r, q);
        if (s->state == SLOT_WAITING && s->due_ns <= now)
            ack__resend(r, s, "timeout", now);
        if (s->state != SLOT_DUE || blocked)
            continue;
        if (s->due_ns > now) {
            blocked = 1;
            continue;
        }
        if (zmq_send(r->sock, s->frame.p ? s->frame.p : "", s->frame.len, ZMQ_DONTWAIT) < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                cli_fail(r->cmd, "%s: send: %s", r->conf->endpoint, zmq_strerror(errno));
                return MP_ERR_IO;
            }
            return ack__no_connection(r, s, now);
        }
        r->noconn_ns = 0;
        r->res->connected = 1; /* a frame left: whatever the monitor says */
        s->sends++;
        s->state = SLOT_WAITING;
        s->due_ns = now + r->conf->ack_timeout_ms * 1000000;
    }
    return r->failed;
}

/* Remembers the first batch whose ack named `text`, and counts them. */
static void ack__reason(struct send_ack_result *res, const char *text, uint64_t seq)
{
    if (text == NULL || text[0] == '\0')
        text = "(no error text)";
    for (size_t i = 0; i < res->nreasons; i++)
        if (strncmp(res->reasons[i].text, text, sizeof(res->reasons[i].text) - 1) == 0) {
            res->reasons[i].batches++;
            return;
        }
    if (res->nreasons == SEND_ACK_MAX_REASONS)
        return;
    struct send_ack_reason *x = &res->reasons[res->nreasons++];
    snprintf(x->text, sizeof(x->text), "%s", text);
    x->batches = 1;
    x->first_sequence = seq;
}

/* Frees s, and moves base past every acked batch. */
static void ack__free_slot(struct run *r, struct slot *s)
{
    s->state = SLOT_FREE;
    while (r->base < r->next_seq && ack__slot(r, r->base)->state == SLOT_FREE)
        r->base++;
}

static void ack__take_ok(struct run *r, struct slot *s, const Mailpulse__V1__Ack *a)
{
    struct send_ack_result *res = r->res;
    res->batches++;
    res->events += s->events;
    if (a->status == MAILPULSE__V1__ACK_STATUS__ACK_STATUS_DUPLICATE) {
        res->duplicate++;
    } else {
        res->accepted += a->accepted;
        res->rejected += a->rejected;
        if (a->rejected > 0)
            ack__reason(res, a->error, s->seq);
    }
    ack__free_slot(r, s);
}

/* One ack frame: what it says about its batch. */
static void ack__take(struct run *r, const uint8_t *p, size_t len, int64_t now)
{
    struct send_ack_result *res = r->res;
    Mailpulse__V1__Ack *a = mailpulse__v1__ack__unpack(NULL, len, p);
    struct slot *s = NULL;
    if (a != NULL && a->sequence >= r->base && a->sequence < r->next_seq)
        s = ack__slot(r, a->sequence);
    if (s == NULL || s->state == SLOT_FREE) {
        res->ignored++;
        goto out;
    }
    switch (a->status) {
    case MAILPULSE__V1__ACK_STATUS__ACK_STATUS_OK:
    case MAILPULSE__V1__ACK_STATUS__ACK_STATUS_DUPLICATE: ack__take_ok(r, s, a); break;
    case MAILPULSE__V1__ACK_STATUS__ACK_STATUS_REJECTED:
        res->refused++;
        ack__reason(res, a->error, s->seq);
        ack__free_slot(r, s);
        break;
    case MAILPULSE__V1__ACK_STATUS__ACK_STATUS_RETRY:
        res->retry_acks++;
        /* Only an answer to the send in flight: a resend already queued
         * after a timeout goes as planned. One gate for every RETRY'd
         * batch, so the earliest goes first again (the daemon answers
         * RETRY to a producer's later batches until it has that one). */
        if (s->state == SLOT_WAITING) {
            int64_t due = now + ack__backoff_ns(r, s->sends);
            if (due > r->retry_gate_ns)
                r->retry_gate_ns = due;
            ack__resend(r, s, "RETRY", r->retry_gate_ns);
        }
        break;
    default: res->ignored++; break;
    }
out:
    if (a != NULL)
        mailpulse__v1__ack__free_unpacked(a, NULL);
}

/* A connection broke: whatever was in flight on it went with it (or its
 * ack did), so all of it goes again, in order. */
static void ack__disconnected(struct run *r, int64_t now)
{
    for (uint64_t q = r->base; q < r->next_seq && r->failed == MP_OK; q++) {
        struct slot *s = ack__slot(r, q);
        if (s->state == SLOT_WAITING)
            ack__resend(r, s, "connection lost", now);
    }
}

/* Drains the monitor (two frames per event: event + value, then the
 * address); notes a connection; 1 when one broke. */
static int ack__monitor(struct run *r)
{
    int broke = 0;
    zmq_msg_t m;
    zmq_msg_init(&m);
    while (zmq_msg_recv(&m, r->mon, ZMQ_DONTWAIT) >= 0) {
        uint16_t ev = 0;
        if (zmq_msg_size(&m) == 6) {
            memcpy(&ev, zmq_msg_data(&m), sizeof(ev));
            broke |= ev == ZMQ_EVENT_DISCONNECTED;
            r->res->connected |= ev == ZMQ_EVENT_CONNECTED;
        }
    }
    zmq_msg_close(&m);
    return broke;
}

/* Waits until the next batch is due (or an ack or a monitor event comes),
 * then takes every ack waiting. */
static int ack__recv(struct run *r, int64_t now)
{
    int64_t wake = now + (int64_t)100 * 1000000;
    for (uint64_t q = r->base; q < r->next_seq; q++) {
        const struct slot *s = ack__slot(r, q);
        if (s->state != SLOT_FREE && s->due_ns < wake)
            wake = s->due_ns;
    }
    long tmo = wake > now ? (long)((wake - now + 999999) / 1000000) : 0;
    zmq_pollitem_t it[2] = {{r->sock, 0, ZMQ_POLLIN, 0}, {r->mon, 0, ZMQ_POLLIN, 0}};
    if (zmq_poll(it, 2, tmo) < 0 && errno != EINTR) {
        cli_fail(r->cmd, "zmq_poll: %s", zmq_strerror(errno));
        return MP_ERR_IO;
    }
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, r->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            if (errno != EAGAIN && errno != EINTR) {
                cli_fail(r->cmd, "%s: receive: %s", r->conf->endpoint, zmq_strerror(errno));
                return MP_ERR_IO;
            }
            break;
        }
        ack__take(r, zmq_msg_data(&m), zmq_msg_size(&m), mp_mono_ns());
        zmq_msg_close(&m);
    }
    /* After the acks: those that came before the break stand. */
    if (ack__monitor(r))
        ack__disconnected(r, mp_mono_ns());
    return MP_OK;
}

int send_ack_run(const struct cli_cmd *cmd, const struct send_ack_conf *conf, uint64_t seq0,
                 send_ack_next_fn next, void *arg, struct send_ack_result *out)
{
    return send_ack_run_within(cmd, conf, 0, seq0, next, arg, out);
}

int send_ack_run_within(const struct cli_cmd *cmd, const struct send_ack_conf *conf,
                        int64_t connect_ms, uint64_t seq0, send_ack_next_fn next, void *arg,
                        struct send_ack_result *out)
{
    memset(out, 0, sizeof(*out));
    struct run r = {.cmd = cmd, .conf = conf, .connect_ms = connect_ms, .more = 1,
                    .seq0 = seq0, .base = seq0, .next_seq = seq0, .res = out, .next = next, .arg = arg,
                    .jitter = (uint64_t)mp_mono_ns() ^ ((uint64_t)getpid() << 32)};
    int rc = MP_ERR_NOMEM;
    int64_t t0 = mp_mono_ns(); /* connect_ms counts from here */
    r.slots = calloc((size_t)conf->window, sizeof(*r.slots));
    if (r.slots == NULL) {
        cli_fail(cmd, "out of memory");
        goto out;
    }
    if ((rc = ack__open(&r)) != MP_OK)
        goto out;
    for (;;) {
        int64_t now = mp_mono_ns();
        if (connect_ms > 0 && !out->connected && now - t0 >= connect_ms * 1000000) {
            rc = MP_ERR_NOTFOUND; /* no frame left the socket (cli_send_ack.h) */
            goto out;
        }
        if ((rc = ack__fill(&r, now)) != MP_OK)
            goto out;
        if (r.base == r.next_seq)
            break;
        if ((rc = ack__send_due(&r, now)) != MP_OK || (rc = ack__recv(&r, now)) != MP_OK)
            goto out;
    }
    if (out->refused > 0) {
        cli_fail(cmd, "%s refused %" PRIu64 " batch(es) whole (status REJECTED)", conf->endpoint,
                 out->refused);
        rc = MP_ERR_STATE;
    }
out:
    ack__close(&r);
    for (size_t i = 0; r.slots != NULL && i < (size_t)conf->window; i++)
        mp_buf_free(&r.slots[i].frame);
    free(r.slots);
    return rc;
}

void send_ack_print(FILE *f, const struct send_ack_result *r, const char *endpoint)
{
    fprintf(f,
            "acked batches=%" PRIu64 " events=%" PRId64 " accepted=%" PRIu64 " rejected=%" PRIu64
            " duplicate=%" PRIu64 " refused=%" PRIu64 " retries=%" PRIu64 " endpoint=%s\n",
            r->batches, r->events, r->accepted, r->rejected, r->duplicate, r->refused,
            r->retries, endpoint);
    for (size_t i = 0; i < r->nreasons; i++) {
        fputs("ack_error reason=\"", f);
        for (const char *c = r->reasons[i].text; *c; c++) /* the daemon's text, quoted */
            fprintf(f, *c == '"' || *c == '\\' ? "\\%c" : (*c < 0x20 || *c == 0x7f) ? "\\x%02x"
                                                                                    : "%c",
                    (unsigned char)*c);
        fprintf(f, "\" batches=%" PRIu64 " first_sequence=%" PRIu64 "\n", r->reasons[i].batches,
                r->reasons[i].first_sequence);
    }
    fflush(f);
}

int send_ack_pack(const struct cli_cmd *cmd, Mailpulse__V1__Event **ev, size_t n,
                  const char *producer, uint64_t sequence, struct mp_buf *frame,
                  int64_t *events)
{
    Mailpulse__V1__EventBatch b = MAILPULSE__V1__EVENT_BATCH__INIT;
    b.events = ev;
    b.n_events = n;
    b.producer_id = (char *)producer;
    b.sequence = sequence;
    size_t len = mailpulse__v1__event_batch__get_packed_size(&b);
    if (mp_buf_reserve(frame, len) != MP_OK) {
        cli_fail(cmd, "out of memory");
        return MP_ERR_NOMEM;
    }
    mailpulse__v1__event_batch__pack(&b, (uint8_t *)frame->p);
    frame->len = len;
    *events = (int64_t)n;
    return 1;
}
