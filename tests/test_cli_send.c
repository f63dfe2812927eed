/* test_cli_send.c — Check suite "cli_send": cmd/cli/cli_send, what
 * `mailpulse send` puts on the wire, received by a PULL socket of the test.
 *
 * COUNT events in frames of BATCH, each frame one EventBatch with the given
 * tenant, mailbox, domain, type, time and producer, sequences counting up
 * from --sequence-start; --raw-file sends the file's bytes as one frame and
 * --empty-frame a zero-length one; bad or conflicting options are usage
 * errors (MP_ERR_INVAL, exit 2) before anything is sent.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "check_main.h"
#include "cli_send.h"
#include "e2e_harness.h"
#include "mailpulse.pb-c.h"

static void *zctx, *pull;
static char endpoint[64], dir[512];

static void setup(void)
{
    char err[256] = "";
    int tmo = 5000;
    uint16_t port;
    ck_assert_int_eq(e2e_tmpdir_create("cli_send", dir, sizeof(dir), err, sizeof(err)), MP_OK);
    zctx = zmq_ctx_new();
    pull = zmq_socket(zctx, ZMQ_PULL);
    ck_assert_ptr_nonnull(pull);
    ck_assert_int_eq(zmq_setsockopt(pull, ZMQ_RCVTIMEO, &tmo, sizeof(tmo)), 0);
    ck_assert_int_eq(e2e_free_port(&port, NULL, 0, err, sizeof(err)), MP_OK);
    snprintf(endpoint, sizeof(endpoint), "tcp://127.0.0.1:%u", (unsigned)port);
    ck_assert_int_eq(zmq_bind(pull, endpoint), 0);
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

Suite *test_suite(void)
{
    return check_suite("cli_send", 30, setup, teardown,
                       CHECK_TESTS(events_in_batches, raw_and_empty_frames, usage_errors));
}
