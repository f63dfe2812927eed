/* cli_send_ack.c — `mailpulse send --ack`: a DEALER, a window of batches in
 * flight, resends on RETRY and on a missing ack (see cli_send_ack.h). */
#include "cli_send_ack.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

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
    int64_t sends;    /* times sent so far */
    const char *why;  /* what the last resend was for: "RETRY", "timeout" */
    struct mp_buf frame;
};

struct run {
    const struct cli_cmd *cmd;
    const struct send_ack_conf *conf;
    void *ctx, *sock;
    struct slot *slots;
    size_t busy;       /* slots not FREE */
    int more;          /* `next` may still give batches */
    uint64_t next_seq;
    uint64_t jitter;   /* splitmix state for backoff jitter */
    int failed;        /* MP_ERR_* that ends the run, or MP_OK */
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

static int ack__open(struct run *r)
{
    int zero = 0, hwm = 0; /* the window bounds what is queued */
    r->ctx = zmq_ctx_new();
    if (r->ctx == NULL) {
        cli_fail(r->cmd, "zmq_ctx_new: %s", zmq_strerror(errno));
        return MP_ERR_IO;
    }
    r->sock = zmq_socket(r->ctx, ZMQ_DEALER);
    if (r->sock == NULL || zmq_setsockopt(r->sock, ZMQ_LINGER, &zero, sizeof(zero)) != 0 ||
        zmq_setsockopt(r->sock, ZMQ_SNDHWM, &hwm, sizeof(hwm)) != 0 ||
        zmq_setsockopt(r->sock, ZMQ_RCVHWM, &hwm, sizeof(hwm)) != 0) {
        cli_fail(r->cmd, "zmq socket setup: %s", zmq_strerror(errno));
        return MP_ERR_IO;
    }
    if (zmq_connect(r->sock, r->conf->endpoint) != 0)
        return cli_usage_error(r->cmd, "--endpoint: cannot connect to \"%s\": %s",
                               r->conf->endpoint, zmq_strerror(errno));
    return MP_OK;
}

/* Lingering is off: what matters is the acks, and a batch without one was
 * reported as such. */
static void ack__close(struct run *r)
{
    if (r->sock != NULL)
        zmq_close(r->sock);
    if (r->ctx != NULL)
        while (zmq_ctx_term(r->ctx) != 0 && errno == EINTR)
            ;
    r->sock = r->ctx = NULL;
}

/* Fills free slots from `next` while the window has room. */
static int ack__fill(struct run *r, int64_t now)
{
    for (size_t i = 0; r->more && i < (size_t)r->conf->window; i++) {
        struct slot *s = &r->slots[i];
        if (s->state != SLOT_FREE)
            continue;
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
        r->busy++;
    }
    return MP_OK;
}

/* A resend of s, for `why`; ends the run when s has had its retries. */
static void ack__resend(struct run *r, struct slot *s, const char *why, int64_t due)
{
    if (s->sends > r->conf->retries) {
        cli_fail(r->cmd,
                 "%s: batch sequence %" PRIu64 " not acked after %" PRId64
                 " sends (--retries %" PRId64 "; last: %s)%s",
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

/* Sends every slot that is due; times out those whose ack is late. A send
 * that would block (it should not: no high-water mark) waits for the next
 * round. */
static int ack__send_due(struct run *r, int64_t now)
{
    for (size_t i = 0; i < (size_t)r->conf->window && r->failed == MP_OK; i++) {
        struct slot *s = &r->slots[i];
        if (s->state == SLOT_WAITING && s->due_ns <= now)
            ack__resend(r, s, "timeout", now);
        if (s->state != SLOT_DUE || s->due_ns > now)
            continue;
        if (zmq_send(r->sock, s->frame.p ? s->frame.p : "", s->frame.len, ZMQ_DONTWAIT) < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return MP_OK;
            cli_fail(r->cmd, "%s: send: %s", r->conf->endpoint, zmq_strerror(errno));
            return MP_ERR_IO;
        }
        s->sends++;
        s->state = SLOT_WAITING;
        s->due_ns = now + r->conf->ack_timeout_ms * 1000000;
    }
    return r->failed;
}

static struct slot *ack__find(struct run *r, uint64_t seq)
{
    for (size_t i = 0; i < (size_t)r->conf->window; i++)
        if (r->slots[i].state != SLOT_FREE && r->slots[i].seq == seq)
            return &r->slots[i];
    return NULL;
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

static void ack__free_slot(struct run *r, struct slot *s)
{
    s->state = SLOT_FREE;
    r->busy--;
}

/* One ack frame: what it says about its batch. */
static void ack__take(struct run *r, const uint8_t *p, size_t len, int64_t now)
{
    struct send_ack_result *res = r->res;
    Mailpulse__V1__Ack *a = mailpulse__v1__ack__unpack(NULL, len, p);
    struct slot *s = a ? ack__find(r, a->sequence) : NULL;
    if (s == NULL) {
        res->ignored++;
        goto out;
    }
    switch (a->status) {
    case MAILPULSE__V1__ACK_STATUS__ACK_STATUS_OK:
    case MAILPULSE__V1__ACK_STATUS__ACK_STATUS_DUPLICATE:
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
        break;
    case MAILPULSE__V1__ACK_STATUS__ACK_STATUS_REJECTED:
        res->refused++;
        ack__reason(res, a->error, s->seq);
        ack__free_slot(r, s);
        break;
    case MAILPULSE__V1__ACK_STATUS__ACK_STATUS_RETRY:
        res->retry_acks++;
        /* Only an answer to the send in flight: a resend already queued
         * after a timeout goes as planned. */
        if (s->state == SLOT_WAITING)
            ack__resend(r, s, "RETRY", now + ack__backoff_ns(r, s->sends));
        break;
    default: res->ignored++; break;
    }
out:
    if (a != NULL)
        mailpulse__v1__ack__free_unpacked(a, NULL);
}

/* Waits until the next slot is due (or an ack comes), then takes every ack
 * waiting. */
static int ack__recv(struct run *r, int64_t now)
{
    int64_t wake = now + (int64_t)100 * 1000000;
    for (size_t i = 0; i < (size_t)r->conf->window; i++)
        if (r->slots[i].state != SLOT_FREE && r->slots[i].due_ns < wake)
            wake = r->slots[i].due_ns;
    long tmo = wake > now ? (long)((wake - now + 999999) / 1000000) : 0;
    zmq_pollitem_t it = {r->sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, tmo) < 0 && errno != EINTR) {
        cli_fail(r->cmd, "zmq_poll: %s", zmq_strerror(errno));
        return MP_ERR_IO;
    }
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, r->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            if (errno == EAGAIN || errno == EINTR)
                return MP_OK;
            cli_fail(r->cmd, "%s: receive: %s", r->conf->endpoint, zmq_strerror(errno));
            return MP_ERR_IO;
        }
        ack__take(r, zmq_msg_data(&m), zmq_msg_size(&m), mp_mono_ns());
        zmq_msg_close(&m);
    }
}

int send_ack_run(const struct cli_cmd *cmd, const struct send_ack_conf *conf, uint64_t seq0,
                 send_ack_next_fn next, void *arg, struct send_ack_result *out)
{
    memset(out, 0, sizeof(*out));
    struct run r = {.cmd = cmd, .conf = conf, .more = 1, .next_seq = seq0, .res = out,
                    .next = next, .arg = arg,
                    .jitter = (uint64_t)mp_mono_ns() ^ ((uint64_t)getpid() << 32)};
    int rc = MP_ERR_NOMEM;
    r.slots = calloc((size_t)conf->window, sizeof(*r.slots));
    if (r.slots == NULL) {
        cli_fail(cmd, "out of memory");
        goto out;
    }
    if ((rc = ack__open(&r)) != MP_OK)
        goto out;
    for (;;) {
        int64_t now = mp_mono_ns();
        if ((rc = ack__fill(&r, now)) != MP_OK)
            goto out;
        if (r.busy == 0)
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
