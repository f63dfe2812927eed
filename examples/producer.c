/* producer.c — a minimal mailpulse producer in C: libzmq and the protobuf-c
 * code generated from proto/mailpulse.proto (the Makefile builds it as
 * build/<cc>/examples/producer; tests/test_e2e_producers.c runs it against
 * the real daemon).
 *
 *   producer push ENDPOINT TENANT COUNT   PUSH to ingest.pull, fire and forget
 *   producer ack  ENDPOINT TENANT COUNT   DEALER to ingest.router, one Ack per batch
 *
 * It sends COUNT "sent" events of TENANT (mailbox news@TENANT.example,
 * recipient domain gmail.com, time now) in batches of 500. The acked mode
 * keeps one batch in flight, the simplest correct producer: it resends the
 * same bytes after RETRY (with a backoff) or after 2 s without an ack, goes
 * on after OK or DUPLICATE (counted once either way), and stops on
 * REJECTED. A real producer keeps a window of batches in flight (acks come
 * in any order) and resends in sequence order; see the README, "Producer
 * guide", and cmd/cli/cli_send_ack.c.
 *
 * Exit status: 0 all sent (push: handed to a connection; ack: all acked),
 * 1 failure, 2 usage.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "mailpulse.pb-c.h"

#define BATCH 500
#define ACK_TIMEOUT_MS 2000
#define MAX_RESENDS 20

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One serialized EventBatch of n events (malloc'd, *len set), or NULL. */
static uint8_t *pack_batch(const char *tenant, const char *mailbox, size_t n,
                           const char *producer_id, uint64_t sequence, size_t *len)
{
    Mailpulse__V1__Event *ev = calloc(n, sizeof(*ev));
    Mailpulse__V1__Event **evp = calloc(n, sizeof(*evp));
    Mailpulse__V1__EventBatch b = MAILPULSE__V1__EVENT_BATCH__INIT;
    uint8_t *buf = NULL;
    int64_t t = now_ms();
    if (ev && evp) {
        for (size_t i = 0; i < n; i++) {
            mailpulse__v1__event__init(&ev[i]);
            ev[i].tenant = (char *)tenant;
            ev[i].mailbox = (char *)mailbox;
            ev[i].recipient_domain = "gmail.com";
            ev[i].type = MAILPULSE__V1__EVENT_TYPE__EVENT_TYPE_SENT;
            ev[i].time_ms = t;
            evp[i] = &ev[i];
        }
        b.n_events = n;
        b.events = evp;
        b.producer_id = (char *)producer_id;
        b.sequence = sequence;
        *len = mailpulse__v1__event_batch__get_packed_size(&b);
        if ((buf = malloc(*len ? *len : 1)) != NULL)
            mailpulse__v1__event_batch__pack(&b, buf);
    }
    free(ev);
    free(evp);
    return buf;
}

/* A socket of `type` connected to endpoint: ZMQ_IMMEDIATE (nothing queues
 * while there is no connection), the linger, and a send timeout when
 * sndtimeo > 0. NULL after saying why. */
static void *open_socket(void *ctx, int type, int linger, int sndtimeo, const char *endpoint)
{
    void *s = zmq_socket(ctx, type);
    int one = 1;
    if (s == NULL) {
        fprintf(stderr, "producer: socket: %s\n", zmq_strerror(zmq_errno()));
        return NULL;
    }
    zmq_setsockopt(s, ZMQ_IMMEDIATE, &one, sizeof(one));
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
    if (sndtimeo > 0)
        zmq_setsockopt(s, ZMQ_SNDTIMEO, &sndtimeo, sizeof(sndtimeo));
    if (zmq_connect(s, endpoint) != 0) {
        fprintf(stderr, "producer: connect %s: %s\n", endpoint, zmq_strerror(zmq_errno()));
        zmq_close(s);
        return NULL;
    }
    return s;
}

/* PUSH: every frame handed to a connection (ZMQ_IMMEDIATE: none is queued
 * while there is none), then a bounded linger for what is in flight. */
static int run_push(void *ctx, const char *endpoint, const char *tenant, const char *mailbox,
                    long count)
{
    void *s = open_socket(ctx, ZMQ_PUSH, 5000, 5000, endpoint);
    int rc = 0;
    char pid[64];
    if (s == NULL)
        return 1;
    snprintf(pid, sizeof(pid), "example-c-push-%ld", (long)getpid());
    for (long sent = 0, seq = 1; sent < count && rc == 0; seq++) {
        size_t n = (size_t)(count - sent < BATCH ? count - sent : BATCH), len = 0;
        uint8_t *buf = pack_batch(tenant, mailbox, n, pid, (uint64_t)seq, &len);
        if (buf == NULL || zmq_send(s, buf, len, 0) != (int)len) {
            fprintf(stderr, "producer: send: %s\n", buf ? zmq_strerror(zmq_errno()) : "no memory");
            rc = 1;
        }
        free(buf);
        sent += (long)n;
    }
    zmq_close(s);
    if (rc == 0)
        printf("pushed events=%ld endpoint=%s\n", count, endpoint);
    return rc;
}

/* Waits up to ACK_TIMEOUT_MS for the Ack of `seq`: its status, or -1 (none). */
static int wait_ack(void *s, uint64_t seq, uint32_t *accepted)
{
    uint8_t buf[4096];
    zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
    int64_t deadline = now_ms() + ACK_TIMEOUT_MS;
    for (int64_t left; (left = deadline - now_ms()) > 0;) {
        if (zmq_poll(&it, 1, (long)left) <= 0)
            continue;
        int n = zmq_recv(s, buf, sizeof(buf), 0);
        if (n < 0 || n > (int)sizeof(buf))
            continue;
        Mailpulse__V1__Ack *a = mailpulse__v1__ack__unpack(NULL, (size_t)n, buf);
        if (a == NULL)
            continue;
        int st = a->sequence == seq ? (int)a->status : -2;
        if (st == MAILPULSE__V1__ACK_STATUS__ACK_STATUS_REJECTED)
            fprintf(stderr, "producer: batch %" PRIu64 " rejected: %s\n", seq, a->error);
        if (st != -2)
            *accepted = a->accepted;
        mailpulse__v1__ack__free_unpacked(a, NULL);
        if (st != -2) /* an ack of an earlier resend: not ours, wait on */
            return st;
    }
    return -1;
}

/* Acked: one batch in flight, resent (same bytes, same sequence) until an
 * ack says OK or DUPLICATE. */
static int run_ack(void *ctx, const char *endpoint, const char *tenant, const char *mailbox,
                   long count)
{
    void *s = open_socket(ctx, ZMQ_DEALER, 0, 0, endpoint);
    int rc = 0;
    char pid[64];
    long acked = 0, accepted = 0, resends = 0;
    if (s == NULL)
        return 1;
    /* A producer id per run, sequences from 1 (0 is never deduplicated). */
    snprintf(pid, sizeof(pid), "example-c-%ld-%" PRId64, (long)getpid(), now_ms());
    for (uint64_t seq = 1; acked < count && rc == 0; seq++) {
        size_t n = (size_t)(count - acked < BATCH ? count - acked : BATCH), len = 0;
        uint8_t *buf = pack_batch(tenant, mailbox, n, pid, seq, &len);
        int st = -1, tries = 0;
        uint32_t acc = 0;
        while (buf && tries++ <= MAX_RESENDS) {
            if (zmq_send(s, buf, len, ZMQ_DONTWAIT) == (int)len)
                st = wait_ack(s, seq, &acc);
            else
                usleep(100 * 1000); /* no connection yet: ZMQ_IMMEDIATE refused it */
            if (st == MAILPULSE__V1__ACK_STATUS__ACK_STATUS_OK ||
                st == MAILPULSE__V1__ACK_STATUS__ACK_STATUS_DUPLICATE ||
                st == MAILPULSE__V1__ACK_STATUS__ACK_STATUS_REJECTED)
                break;
            if (st == MAILPULSE__V1__ACK_STATUS__ACK_STATUS_RETRY)
                usleep((useconds_t)(50000 * tries)); /* overload: back off */
            resends++;
        }
        free(buf);
        if (st != MAILPULSE__V1__ACK_STATUS__ACK_STATUS_OK &&
            st != MAILPULSE__V1__ACK_STATUS__ACK_STATUS_DUPLICATE) {
            fprintf(stderr, "producer: batch %" PRIu64 " not acked (status %d)\n", seq, st);
            rc = 1;
        }
        acked += (long)n;
        accepted += acc;
    }
    zmq_close(s);
    if (rc == 0)
        printf("acked events=%ld accepted=%ld resends=%ld endpoint=%s\n", acked, accepted,
               resends, endpoint);
    return rc;
}

int main(int argc, char **argv)
{
    char *end = NULL, mailbox[128];
    long count = argc == 5 ? strtol(argv[4], &end, 10) : 0;
    if (argc != 5 || (strcmp(argv[1], "push") && strcmp(argv[1], "ack")) || !end || *end ||
        count < 1 || count > 100000000 || strlen(argv[3]) > 64) {
        fprintf(stderr, "usage: producer push|ack ENDPOINT TENANT COUNT\n");
        return 2;
    }
    snprintf(mailbox, sizeof(mailbox), "news@%s.example", argv[3]);
    void *ctx = zmq_ctx_new();
    int rc = strcmp(argv[1], "push") == 0 ? run_push(ctx, argv[2], argv[3], mailbox, count)
                                          : run_ack(ctx, argv[2], argv[3], mailbox, count);
    zmq_ctx_term(ctx);
    return rc;
}
