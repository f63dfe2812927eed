/* test_cli_send.c — Check suite "cli_send": cmd/cli/cli_send, what
 * `mailpulse send` puts on the wire, received by a PULL socket of the test.
 *
 * COUNT events in frames of BATCH, each frame one EventBatch with the given
 * tenant, mailbox, domain, type, time and producer, sequences counting up
 * from --sequence-start; --raw-file sends the file's bytes as one frame and
 * --empty-frame a zero-length one; bad or conflicting options are usage
 * errors (MP_ERR_INVAL, exit 2) before anything is sent. PUSH to a port
 * nothing listens on fails, every time.
 *
 * --ack runs against a real ZeroMQ ROUTER in a thread of the test (a peer
 * with a script, not the daemon): it answers RETRY, drops an ack, answers
 * a resend DUPLICATE, rejects events; the CLI resends what it must, gives
 * up after --retries, and prints what the acks said.
 */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "check_main.h"
#include "cli_send.h"
#include "e2e_harness.h"
#include "unit_util.h"
#include "mailpulse.pb-c.h"
#include "mp_atomic.h"

static void *zctx, *pull;
static char endpoint[64], dir[512];

static void setup(void)
{
    char err[256] = "";
    ck_assert_int_eq(e2e_tmpdir_create("cli_send", dir, sizeof(dir), err, sizeof(err)), MP_OK);
    zctx = zmq_ctx_new();
    pull = unit_pull_bind(zctx, 5000, endpoint);
}

static void teardown(void)
{
    zmq_close(pull);
    zmq_ctx_term(zctx);
    e2e_tmpdir_remove(dir);
}

static int run(char **argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    return cli_send_cmd.run(&cli_send_cmd, argc, argv);
}

/* The next frame; *len its size; the caller frees. */
static char *frame(size_t *len)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    int n = zmq_msg_recv(&m, pull, 0);
    ck_assert_msg(n >= 0, "no frame: %s", zmq_strerror(zmq_errno()));
    char *p = malloc((size_t)n + 1);
    memcpy(p, zmq_msg_data(&m), (size_t)n);
    *len = (size_t)n;
    zmq_msg_close(&m);
    return p;
}

START_TEST(events_in_batches)
{
    char *argv[] = {"send", "--endpoint", endpoint, "--tenant", "acme", "--mailbox",
                    "s@acme.example", "--domain", "gmail.com", "--type", "bounce_hard",
                    "--count", "5", "--batch", "2", "--sequence-start", "10", "--time-ms",
                    "1234", "--producer", "p1", NULL};
    ck_assert_int_eq(run(argv), MP_OK);
    static const size_t want[] = {2, 2, 1};
    for (size_t i = 0; i < MP_ARRAY_LEN(want); i++) {
        size_t len;
        char *p = frame(&len);
        Mailpulse__V1__EventBatch *b =
            mailpulse__v1__event_batch__unpack(NULL, len, (const uint8_t *)p);
        ck_assert_ptr_nonnull(b);
        ck_assert_uint_eq(b->n_events, want[i]);
        ck_assert_uint_eq(b->sequence, 10 + i);
        ck_assert_str_eq(b->producer_id, "p1");
        ck_assert_str_eq(b->events[0]->tenant, "acme");
        ck_assert_str_eq(b->events[0]->mailbox, "s@acme.example");
        ck_assert_str_eq(b->events[0]->recipient_domain, "gmail.com");
        ck_assert_int_eq(b->events[0]->type, 3); /* EVENT_TYPE_BOUNCE_HARD */
        ck_assert_int_eq(b->events[0]->time_ms, 1234);
        mailpulse__v1__event_batch__free_unpacked(b, NULL);
        free(p);
    }
    /* Without --producer, an id of the run's own, so two runs never share
     * one (the daemon deduplicates by producer_id and sequence). */
    char *anon[] = {"send", "--endpoint", endpoint, "--tenant", "acme", "--mailbox",
                    "s@acme.example", "--domain", "gmail.com", "--type", "sent", NULL};
    ck_assert_int_eq(run(anon), MP_OK);
    size_t len;
    char *p = frame(&len);
    Mailpulse__V1__EventBatch *b = mailpulse__v1__event_batch__unpack(NULL, len, (const uint8_t *)p);
    ck_assert_ptr_nonnull(b);
    ck_assert_msg(strncmp(b->producer_id, "mailpulse-cli-", 14) == 0 && strlen(b->producer_id) > 20,
                  "producer %s", b->producer_id);
    mailpulse__v1__event_batch__free_unpacked(b, NULL);
    free(p);
}
END_TEST

START_TEST(raw_and_empty_frames)
{
    char path[600], err[256];
    snprintf(path, sizeof(path), "%s/frame.bin", dir);
    ck_assert_int_eq(e2e_write_file(path, "not protobuf\n", err, sizeof(err)), MP_OK);
    char *raw[] = {"send", "--endpoint", endpoint, "--raw-file", path, NULL};
    ck_assert_int_eq(run(raw), MP_OK);
    size_t len;
    char *p = frame(&len);
    ck_assert_uint_eq(len, 13);
    ck_assert_int_eq(memcmp(p, "not protobuf\n", 13), 0);
    free(p);
    char *empty[] = {"send", "--endpoint", endpoint, "--empty-frame", NULL};
    ck_assert_int_eq(run(empty), MP_OK);
    p = frame(&len);
    ck_assert_uint_eq(len, 0);
    free(p);
    char *missing[] = {"send", "--endpoint", endpoint, "--raw-file", "/nonexistent/x", NULL};
    ck_assert_int_eq(run(missing), MP_ERR_IO);
}
END_TEST

/* $MAILPULSE_ENDPOINT stands in for --endpoint; --endpoint beats it; a bad
 * one is a usage error. ($MAILPULSE_ROUTER is --ack's: not read here.) */
START_TEST(endpoint_from_env)
{
    size_t len;
    char *empty[] = {"send", "--empty-frame", NULL};
    ck_assert_int_eq(setenv("MAILPULSE_ENDPOINT", endpoint, 1), 0);
    ck_assert_int_eq(setenv("MAILPULSE_ROUTER", "bad", 1), 0);
    ck_assert_int_eq(run(empty), MP_OK);
    free(frame(&len));
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(setenv("MAILPULSE_ENDPOINT", "127.0.0.1:1", 1), 0);
    ck_assert_int_eq(run(empty), MP_ERR_INVAL);
    char *flag[] = {"send", "--endpoint", endpoint, "--empty-frame", NULL};
    ck_assert_int_eq(run(flag), MP_OK);
    free(frame(&len));
    char *ack[] = {"send", "--ack", "--tenant", "a", "--mailbox", "m", "--domain", "d",
                   "--type", "sent", NULL};
    ck_assert_int_eq(run(ack), MP_ERR_INVAL); /* $MAILPULSE_ROUTER is "bad" */
    unsetenv("MAILPULSE_ENDPOINT");
    unsetenv("MAILPULSE_ROUTER");
}
END_TEST

START_TEST(usage_errors)
{
    char *no_fields[] = {"send", "--tenant", "a", NULL};
    char *both_types[] = {"send", "--type", "sent", "--raw-type", "9", NULL};
    char *bad_type[] = {"send", "--type", "nope", NULL};
    char *both_times[] = {"send", "--tenant", "a", "--mailbox", "m", "--domain", "d", "--type",
                          "1", "--time-ms", "1", "--age", "2", NULL};
    char *raw_and_event[] = {"send", "--tenant", "a", "--empty-frame", NULL};
    char *raw_and_empty[] = {"send", "--raw-file", "x", "--empty-frame", NULL};
    char *count0[] = {"send", "--count", "0", NULL};
    char *batch_big[] = {"send", "--batch", "10001", NULL};
    char *seq_neg[] = {"send", "--sequence-start", "-1", NULL};
    char *bad_endpoint[] = {"send", "--endpoint", "nope://x", "--empty-frame", NULL};
    char **cases[] = {no_fields, both_types, bad_type, both_times, raw_and_event,
                      raw_and_empty, count0, batch_big, seq_neg, bad_endpoint};
    for (size_t i = 0; i < MP_ARRAY_LEN(cases); i++)
        ck_assert_msg(run(cases[i]) == MP_ERR_INVAL, "case %zu (%s %s)", i, cases[i][1],
                      cases[i][2]);
    char *help[] = {"send", "--help", "--bogus", NULL};
    ck_assert_int_eq(run(help), MP_OK);
    ck_assert_str_eq(cli_send_cmd.name, "send");
}
END_TEST

START_TEST(push_without_listener_fails_every_time)
{
    char err[256], closed[64];
    uint16_t port;
    ck_assert_int_eq(e2e_free_port(&port, NULL, 0, err, sizeof(err)), MP_OK);
    snprintf(closed, sizeof(closed), "tcp://127.0.0.1:%u", (unsigned)port);
    char *argv[] = {"send", "--endpoint", closed, "--tenant", "acme", "--mailbox",
                    "s@acme.example", "--domain", "gmail.com", "--type", "sent", "--count", "3",
                    "--timeout-ms", "200", NULL};
    for (int i = 0; i < 5; i++)
        ck_assert_msg(run(argv) == MP_ERR_AGAIN, "run %d exited 0 with nobody listening", i);
}
END_TEST

/* ---- --ack against a scripted ROUTER peer ---------------------------------- */

/* What the peer answers to the n-th sight (1, 2, ...) of batch `seq`. */
enum peer_say { SAY_OK, SAY_RETRY, SAY_DROP, SAY_DUPLICATE, SAY_REJECTED };
struct peer;
typedef enum peer_say (*peer_script)(struct peer *pe, uint64_t seq, int sight);

#define PEER_MAX_SEQ 64

struct peer {
    void *router;
    peer_script script;
    MP_ATOMIC(int) stop; /* set by the test thread; the peer only polls it (relaxed: the
                          * join is what orders the peer's counts before the test reads) */
    pthread_t th;
    int sights[PEER_MAX_SEQ]; /* frames seen per sequence */
    int frames, bad;
    char producer[128];
    /* script_daemon's state: as the daemon keeps it per producer */
    uint64_t last_applied, floor;
    uint64_t applied[PEER_MAX_SEQ];
    int napplied;
};

static void peer_answer(struct peer *pe, zmq_msg_t *id, const Mailpulse__V1__EventBatch *b)
{
    uint64_t seq = b->sequence;
    int sight = seq < PEER_MAX_SEQ ? ++pe->sights[seq] : 1;
    enum peer_say say = pe->script(pe, seq, sight);
    if (say == SAY_DROP)
        return;
    Mailpulse__V1__Ack a = MAILPULSE__V1__ACK__INIT;
    a.sequence = seq;
    static const Mailpulse__V1__AckStatus st[] = {
        [SAY_OK] = MAILPULSE__V1__ACK_STATUS__ACK_STATUS_OK,
        [SAY_RETRY] = MAILPULSE__V1__ACK_STATUS__ACK_STATUS_RETRY,
        [SAY_DUPLICATE] = MAILPULSE__V1__ACK_STATUS__ACK_STATUS_DUPLICATE,
        [SAY_REJECTED] = MAILPULSE__V1__ACK_STATUS__ACK_STATUS_REJECTED};
    a.status = st[say];
    if (say == SAY_OK) {
        /* Batch 4 has one event refused, as the daemon would say it. */
        a.rejected = seq == 4;
        a.accepted = (uint32_t)b->n_events - a.rejected;
        a.error = seq == 4 ? (char *)"time_too_old" : (char *)"";
    }
    if (say == SAY_REJECTED)
        a.error = (char *)"batch_too_large";
    uint8_t buf[256];
    size_t len = mailpulse__v1__ack__pack(&a, buf);
    zmq_msg_send(id, pe->router, ZMQ_SNDMORE);
    zmq_send(pe->router, buf, len, 0);
}

static void *peer_main(void *arg)
{
    struct peer *pe = arg;
    while (!mp_load_relaxed(&pe->stop)) {
        zmq_pollitem_t it = {pe->router, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 20) <= 0)
            continue;
        zmq_msg_t id, m;
        zmq_msg_init(&id);
        zmq_msg_init(&m);
        if (zmq_msg_recv(&id, pe->router, 0) >= 0 && zmq_msg_more(&id) &&
            zmq_msg_recv(&m, pe->router, 0) >= 0) {
            pe->frames++;
            Mailpulse__V1__EventBatch *b = mailpulse__v1__event_batch__unpack(
                NULL, zmq_msg_size(&m), zmq_msg_data(&m));
            if (b == NULL) {
                pe->bad++;
            } else {
                snprintf(pe->producer, sizeof(pe->producer), "%s", b->producer_id);
                peer_answer(pe, &id, b);
                mailpulse__v1__event_batch__free_unpacked(b, NULL);
            }
        }
        zmq_msg_close(&id);
        zmq_msg_close(&m);
    }
    return NULL;
}

static struct peer *peer_start(peer_script script, char *ep, size_t eplen)
{
    char err[256];
    uint16_t port;
    struct peer *pe = calloc(1, sizeof(*pe));
    pe->script = script;
    pe->router = zmq_socket(zctx, ZMQ_ROUTER);
    ck_assert_ptr_nonnull(pe->router);
    ck_assert_int_eq(e2e_free_port(&port, NULL, 0, err, sizeof(err)), MP_OK);
    snprintf(ep, eplen, "tcp://127.0.0.1:%u", (unsigned)port);
    ck_assert_int_eq(zmq_bind(pe->router, ep), 0);
    ck_assert_int_eq(pthread_create(&pe->th, NULL, peer_main, pe), 0);
    return pe;
}

/* Joins the peer; its counts are the test's to read after this. */
static void peer_stop(struct peer *pe)
{
    mp_store_relaxed(&pe->stop, 1);
    pthread_join(pe->th, NULL);
    zmq_close(pe->router);
}

/* Runs the command with its stdout into `out` (NUL-terminated). */
static int run_captured(char **argv, char *out, size_t outlen)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/stdout.txt", dir);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_ge(dup2(fd, STDOUT_FILENO), 0);
    close(fd);
    int rc = run(argv);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(out, 1, outlen - 1, f);
    out[n] = '\0';
    fclose(f);
    return rc;
}

/* `send --ack` of acme's sent events to `ep`, plus `extra` (NULL-ended),
 * its stdout into `out`. */
static int run_ack(const char *ep, char *const *extra, char *out, size_t outlen)
{
    char *argv[32] = {"send", "--ack", "--endpoint", (char *)ep, "--tenant", "acme",
                      "--mailbox", "s@acme.example", "--domain", "gmail.com", "--type", "sent"};
    size_t n = 12;
    while (*extra && n < MP_ARRAY_LEN(argv) - 1)
        argv[n++] = *extra++;
    argv[n] = NULL;
    return run_captured(argv, out, outlen);
}

/* Batch 2: RETRY, then OK. Batch 3: the first ack is lost, the resend is
 * answered DUPLICATE (the daemon had applied it). Batch 4: one event
 * rejected. The rest OK at once. */
static enum peer_say script_mixed(struct peer *pe, uint64_t seq, int sight)
{
    if (seq == 2 && sight == 1)
        return SAY_RETRY;
    if (seq == 3)
        return sight == 1 ? SAY_DROP : SAY_DUPLICATE;
    return SAY_OK;
}

START_TEST(ack_resends_on_retry_and_lost_ack)
{
    char ep[64], out[2048];
    struct peer *pe = peer_start(script_mixed, ep, sizeof(ep));
    char *extra[] = {"--count", "10", "--batch", "2", "--window", "4", "--ack-timeout-ms",
                     "1500", "--retries", "3", NULL};
    int rc = run_ack(ep, extra, out, sizeof(out));
    peer_stop(pe);
    int frames = pe->frames, s2 = pe->sights[2], s3 = pe->sights[3], s5 = pe->sights[5];
    int bad = pe->bad;
    ck_assert_msg(strncmp(pe->producer, "mailpulse-cli-", 14) == 0, "producer %s", pe->producer);
    free(pe);
    ck_assert_msg(rc == MP_OK, "rc %d, out: %s", rc, out);
    ck_assert_int_eq(bad, 0);
    ck_assert_int_eq(s2, 2); /* resent after RETRY */
    ck_assert_int_eq(s3, 2); /* resent after the lost ack */
    ck_assert_int_eq(s5, 1);
    ck_assert_int_eq(frames, 7);
    ck_assert_msg(strstr(out, "acked batches=5 events=10 accepted=7 rejected=1 duplicate=1 "
                              "refused=0 retries=2 endpoint=") == out,
                  "summary: %s", out);
    ck_assert_msg(strstr(out, "\nack_error reason=\"time_too_old\" batches=1 first_sequence=4\n"),
                  "reasons: %s", out);
}
END_TEST

static enum peer_say script_retry(struct peer *pe, uint64_t seq, int sight) { return SAY_RETRY; }
static enum peer_say script_reject(struct peer *pe, uint64_t seq, int sight)
{
    return SAY_REJECTED;
}

/* The daemon's rules, in small: a sequence at or below the last applied is
 * a duplicate; once a batch was answered RETRY (here batch 2, twice),
 * every later batch is answered RETRY until it comes back. A producer that
 * resent out of order would lose a batch to "duplicate". */
static enum peer_say script_daemon(struct peer *pe, uint64_t seq, int sight)
{
    if (seq <= pe->last_applied)
        return SAY_DUPLICATE;
    if (seq == 2 && sight <= 2) {
        pe->floor = 2;
        return SAY_RETRY;
    }
    if (pe->floor != 0 && seq > pe->floor)
        return SAY_RETRY;
    pe->floor = 0;
    pe->last_applied = seq;
    pe->applied[pe->napplied++] = seq;
    return SAY_OK;
}

START_TEST(ack_resends_in_order)
{
    char ep[64], out[2048];
    struct peer *pe = peer_start(script_daemon, ep, sizeof(ep));
    char *extra[] = {"--count", "12", "--batch", "1", "--window", "8", "--retries", "10", NULL};
    int rc = run_ack(ep, extra, out, sizeof(out));
    peer_stop(pe);
    ck_assert_msg(rc == MP_OK, "rc %d, out: %s", rc, out);
    ck_assert_msg(strstr(out, "acked batches=12 events=12 accepted=11 rejected=1 duplicate=0 ") ==
                      out,
                  "summary: %s", out);
    ck_assert_int_eq(pe->napplied, 12);
    for (int i = 0; i < pe->napplied; i++)
        ck_assert_uint_eq(pe->applied[i], (uint64_t)i + 1);
    ck_assert_int_ge(pe->sights[2], 3);
    free(pe);
}
END_TEST

START_TEST(ack_gives_up_after_retries)
{
    char ep[64], out[2048];
    struct peer *pe = peer_start(script_retry, ep, sizeof(ep));
    char *extra[] = {"--producer", "p9", "--sequence-start", "7", "--retries", "2", NULL};
    int rc = run_ack(ep, extra, out, sizeof(out));
    peer_stop(pe);
    int sights = pe->sights[7];
    free(pe);
    ck_assert_msg(rc == MP_ERR_AGAIN, "rc %d, out: %s", rc, out);
    ck_assert_int_eq(sights, 3); /* the send and 2 resends, no more */
    ck_assert_msg(strstr(out, "acked batches=0 events=0 accepted=0 rejected=0 duplicate=0 "
                              "refused=0 retries=2 ") == out,
                  "summary: %s", out);

    pe = peer_start(script_reject, ep, sizeof(ep));
    char *rej[] = {"--count", "3", "--batch", "1", NULL};
    rc = run_ack(ep, rej, out, sizeof(out));
    peer_stop(pe);
    free(pe);
    ck_assert_msg(rc == MP_ERR_STATE, "rc %d, out: %s", rc, out);
    ck_assert_msg(strstr(out, " refused=3 retries=0 "), "summary: %s", out);
    ck_assert_msg(strstr(out, "ack_error reason=\"batch_too_large\" batches=3 first_sequence=1"),
                  "reasons: %s", out);
}
END_TEST

START_TEST(ack_usage_errors)
{
    char *window_alone[] = {"send", "--tenant", "a", "--mailbox", "m", "--domain", "d", "--type",
                            "1", "--window", "4", NULL};
    char *ack_raw[] = {"send", "--ack", "--empty-frame", NULL};
    char *ack_push_timeout[] = {"send", "--ack", "--tenant", "a", "--mailbox", "m", "--domain",
                                "d", "--type", "1", "--timeout-ms", "5", NULL};
    char *ack_seq0[] = {"send", "--ack", "--tenant", "a", "--mailbox", "m", "--domain", "d",
                        "--type", "1", "--sequence-start", "0", NULL};
    char *ack_wrap[] = {"send", "--ack", "--tenant", "a", "--mailbox", "m", "--domain", "d",
                        "--type", "1", "--count", "3", "--batch", "1", "--sequence-start",
                        "18446744073709551615", NULL};
    char *window0[] = {"send", "--ack", "--window", "0", NULL};
    char **cases[] = {window_alone, ack_raw, ack_push_timeout, ack_seq0, ack_wrap, window0};
    for (size_t i = 0; i < MP_ARRAY_LEN(cases); i++)
        ck_assert_msg(run(cases[i]) == MP_ERR_INVAL, "case %zu", i);
}
END_TEST

CHECK_SUITE("cli_send", 30, setup, teardown, events_in_batches, raw_and_empty_frames,
            endpoint_from_env, usage_errors, push_without_listener_fails_every_time,
            ack_resends_on_retry_and_lost_ack, ack_gives_up_after_retries, ack_resends_in_order,
            ack_usage_errors)
