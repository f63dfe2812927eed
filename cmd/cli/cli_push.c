/* cli_push.c — a PUSH socket, its monitor and its closing flush (see
 * cli_push.h). */
#include "cli_push.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "cli_keygen.h"

struct cli_push {
    void *ctx;
    void *sock;
    void *mon; /* PAIR receiving the socket's ZMQ_EVENT_CONNECTED */
    int connected;
    int64_t timeout_ms;
};

int cli_push_open(const struct cli_cmd *cmd, const struct cli_push_conf *conf,
                  struct cli_push **out)
{
    int rc, timeout = (int)conf->timeout_ms;
    struct cli_push *p = calloc(1, sizeof(*p));
    *out = NULL;
    if (p == NULL) {
        cli_fail(cmd, "out of memory");
        return MP_ERR_NOMEM;
    }
    p->timeout_ms = conf->timeout_ms;
    const struct cli_sockopt opts[] = {
        {ZMQ_LINGER, timeout}, {ZMQ_SNDTIMEO, timeout}, {ZMQ_SNDHWM, conf->hwm}};
    const struct cli_producer prod = {.type = ZMQ_PUSH, .opts = opts, .n_opts = MP_ARRAY_LEN(opts),
                                      .events = ZMQ_EVENT_CONNECTED, .endpoint = conf->endpoint,
                                      .server_key = conf->server_key,
                                      .secret_key_file = conf->secret_key_file};
    if ((rc = cli_producer_open(cmd, &prod, &p->ctx, &p->sock, &p->mon)) != MP_OK)
        goto err;
    *out = p;
    return MP_OK;
err:
    cli_push_close(p, 0);
    return rc;
}

/* Each monitor event is two frames: event + value, then the address. */
int cli_push_await(struct cli_push *p, int64_t wait_ms)
{
    int64_t deadline = mp_mono_ns() + wait_ms * 1000000;
    while (!p->connected && p->mon != NULL) {
        int64_t left = (deadline - mp_mono_ns()) / 1000000;
        zmq_pollitem_t it = {p->mon, 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(&it, 1, left > 0 ? (long)left : 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        zmq_msg_t m;
        zmq_msg_init(&m);
        int more = 1;
        while (more && zmq_msg_recv(&m, p->mon, 0) >= 0) {
            uint16_t ev = 0;
            if (zmq_msg_size(&m) == 6) {
                memcpy(&ev, zmq_msg_data(&m), sizeof(ev));
                p->connected |= ev == ZMQ_EVENT_CONNECTED;
            }
            more = zmq_msg_more(&m);
        }
        zmq_msg_close(&m);
    }
    return p->connected;
}

int cli_push_frame(struct cli_push *p, const void *buf, size_t len)
{
    for (;;) {
        if (zmq_send(p->sock, buf, len, 0) >= 0)
            return MP_OK;
        if (errno != EINTR)
            return errno == EAGAIN ? MP_ERR_AGAIN : MP_ERR_IO;
    }
}

/* The flush fails the same way every time frames certainly did not all
 * leave: no connection within the timeout (then nothing left), or the
 * linger ran out (zmq_ctx_term() returns early as soon as every frame is
 * out; ZeroMQ's coarse clock may end the linger a few ms short, hence the
 * slack). */
int cli_push_close(struct cli_push *p, int flush)
{
    int rc = MP_OK;
    if (p == NULL)
        return MP_OK;
    if (flush && !cli_push_await(p, p->timeout_ms))
        rc = MP_ERR_NOTFOUND;
    if (p->mon != NULL)
        zmq_close(p->mon);
    int64_t t0 = mp_mono_ns();
    if (p->sock != NULL) {
        if (!flush || rc != MP_OK) {
            int zero = 0;
            zmq_setsockopt(p->sock, ZMQ_LINGER, &zero, sizeof(zero));
        }
        zmq_close(p->sock);
    }
    if (p->ctx != NULL) {
        while (zmq_ctx_term(p->ctx) != 0 && errno == EINTR)
            ;
        if (flush && rc == MP_OK &&
            (mp_mono_ns() - t0) / 1000000 + CLI_PUSH_LINGER_SLACK_MS >= p->timeout_ms)
            rc = MP_ERR_AGAIN;
    }
    free(p);
    return rc;
}
