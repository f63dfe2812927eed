/* test_cli_push.c — Check suite "cli_push": cmd/cli/cli_push, the PUSH
 * connection of `mailpulse send` and `mailpulse replay --push`, against a
 * real PULL socket of the test on a free loopback port.
 *
 * Cases:
 *   frames_delivered  three frames (one empty) arrive at the PULL socket in
 *                     order, byte for byte; await says connected; the
 *                     flushing close returns MP_OK.
 *   no_listener       nothing on the port: a frame still queues, await
 *                     says not connected, the flushing close returns
 *                     MP_ERR_NOTFOUND within its timeout, every time.
 *   queue_full        nothing on the port, hwm 1: a send finds the queue
 *                     full and gives up with MP_ERR_AGAIN after timeout_ms.
 *   bad_options       a malformed endpoint and half the Curve options are
 *                     usage errors (MP_ERR_INVAL) that leave nothing open;
 *                     closing NULL is a no-op.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "check_main.h"
#include "cli_push.h"
#include "e2e_harness.h"
#include "unit_util.h"

static const struct cli_cmd cmd = {"push-test", "", "", NULL, 0, NULL};
static void *zctx, *pull;
static char bound[64], unbound[64];

static void setup(void)
{
    char err[256] = "";
    uint16_t other;
    zctx = zmq_ctx_new();
    pull = unit_pull_bind(zctx, 5000, bound);
    ck_assert_int_eq(e2e_free_port(&other, NULL, 0, err, sizeof(err)), MP_OK);
    snprintf(unbound, sizeof(unbound), "tcp://127.0.0.1:%u", (unsigned)other);
}

static void teardown(void)
{
    zmq_close(pull);
    zmq_ctx_term(zctx);
}

START_TEST(frames_delivered)
{
    const struct cli_push_conf pc = {bound, 5000, 1000, NULL, NULL};
    struct cli_push *p = NULL;
    ck_assert_int_eq(cli_push_open(&cmd, &pc, &p), MP_OK);
    ck_assert_ptr_nonnull(p);
    static const char *const frames[] = {"first", "", "third frame"};
    for (size_t i = 0; i < MP_ARRAY_LEN(frames); i++)
        ck_assert_int_eq(cli_push_frame(p, frames[i], strlen(frames[i])), MP_OK);
    ck_assert_int_eq(cli_push_await(p, 5000), 1);
    ck_assert_int_eq(cli_push_close(p, 1), MP_OK);
    for (size_t i = 0; i < MP_ARRAY_LEN(frames); i++) {
        char buf[64];
        int n = zmq_recv(pull, buf, sizeof(buf), 0);
        ck_assert_msg(n >= 0, "frame %zu: %s", i, zmq_strerror(zmq_errno()));
        ck_assert_int_eq(n, (int)strlen(frames[i]));
        ck_assert_int_eq(memcmp(buf, frames[i], (size_t)n), 0);
    }
}
END_TEST

START_TEST(no_listener)
{
    for (int round = 0; round < 3; round++) {
        const struct cli_push_conf pc = {unbound, 200, 1000, NULL, NULL};
        struct cli_push *p = NULL;
        ck_assert_int_eq(cli_push_open(&cmd, &pc, &p), MP_OK);
        ck_assert_int_eq(cli_push_frame(p, "x", 1), MP_OK); /* queued, not sent */
        ck_assert_int_eq(cli_push_await(p, 0), 0);
        int64_t t0 = mp_mono_ns();
        ck_assert_int_eq(cli_push_close(p, 1), MP_ERR_NOTFOUND);
        int64_t ms = (mp_mono_ns() - t0) / 1000000;
        ck_assert_msg(ms < 5000, "the close took %lld ms", (long long)ms);
    }
}
END_TEST

START_TEST(queue_full)
{
    const struct cli_push_conf pc = {unbound, 100, 1, NULL, NULL};
    struct cli_push *p = NULL;
    int rc = MP_OK, sent = 0;
    ck_assert_int_eq(cli_push_open(&cmd, &pc, &p), MP_OK);
    while (sent < 100 && (rc = cli_push_frame(p, "x", 1)) == MP_OK)
        sent++;
    ck_assert_msg(rc == MP_ERR_AGAIN, "rc %d after %d frames", rc, sent);
    ck_assert_int_eq(cli_push_close(p, 0), MP_OK);
}
END_TEST

START_TEST(bad_options)
{
    struct cli_push *p = (struct cli_push *)&p;
    const struct cli_push_conf bad = {"tcp://no-port-here", 100, 10, NULL, NULL};
    ck_assert_int_eq(cli_push_open(&cmd, &bad, &p), MP_ERR_INVAL);
    ck_assert_ptr_null(p);
    /* a server key without the producer's secret key file */
    const struct cli_push_conf half = {bound, 100, 10, "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7",
                                       NULL};
    p = (struct cli_push *)&p;
    ck_assert_int_eq(cli_push_open(&cmd, &half, &p), MP_ERR_INVAL);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(cli_push_close(NULL, 1), MP_OK);
}
END_TEST

CHECK_SUITE("cli_push", 30, setup, teardown, frames_delivered, no_listener, queue_full, bad_options)
