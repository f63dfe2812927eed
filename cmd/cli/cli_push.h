/* cli_push.h — the PUSH half of the CLI's producers (`mailpulse send`,
 * `mailpulse replay --push`): one ZeroMQ PUSH socket connected to the
 * daemon's PULL endpoint (`ingest.pull`), frames handed to it, and an
 * honest answer at the end about whether they can have left.
 *
 * Contract: cli_push_open() makes a context and a PUSH socket (a CurveZMQ
 * client first when conf names keys, through cli_curve_client) and
 * connects it. Frames queue even before the connection is up (no
 * ZMQ_IMMEDIATE), so a producer started just before the daemon, or across
 * a daemon restart, still delivers; at most conf->hwm frames queue, and a
 * cli_push_frame() that finds the queue full waits conf->timeout_ms for
 * room, then gives up. A monitor on the socket records whether a TCP
 * connection was ever made: without one no frame can have left.
 * PUSH is fire and forget: nothing here knows whether the daemon counted a
 * frame, only whether it certainly did not.
 *
 * Return codes:
 *   cli_push_open   MP_OK with *out set; MP_ERR_INVAL for a bad endpoint or
 *                   Curve options (a usage error, printed); MP_ERR_IO on a
 *                   socket failure (printed). On error *out is NULL and
 *                   nothing is left open.
 *   cli_push_frame  MP_OK queued; MP_ERR_AGAIN the endpoint took nothing for
 *                   timeout_ms (queue full); MP_ERR_IO otherwise (errno has
 *                   zmq's reason). Nothing printed.
 *   cli_push_close  with flush: MP_OK every queued frame left; MP_ERR_NOTFOUND
 *                   no connection was made within timeout_ms (nothing left;
 *                   the frames are dropped at once); MP_ERR_AGAIN the linger
 *                   ran out with frames still queued. Without flush (an error
 *                   path): drops what is queued, MP_OK. Nothing printed; the
 *                   caller words the failure (it knows its option names).
 *                   NULL is a no-op. The handle is freed either way.
 *
 * Threads: one thread per handle; it owns its ZeroMQ context.
 */
#ifndef CLI_PUSH_H
#define CLI_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "cli_opt.h"

#define CLI_PUSH_DEFAULT_ENDPOINT "tcp://127.0.0.1:7400"
#define CLI_PUSH_LINGER_SLACK_MS 20 /* a close this near the linger ran it out */

struct cli_push_conf {
    const char *endpoint;
    int64_t timeout_ms;          /* 1..CLI_MAX_TIMEOUT_MS: send wait, linger, connect wait */
    int hwm;                     /* frames queued before a send waits */
    const char *server_key;      /* CurveZMQ: the daemon's public key, or NULL */
    const char *secret_key_file; /* CurveZMQ: this producer's secret key file, or NULL */
};

struct cli_push;

int cli_push_open(const struct cli_cmd *cmd, const struct cli_push_conf *conf,
                  struct cli_push **out);
int cli_push_frame(struct cli_push *p, const void *buf, size_t len);
/* Waits up to wait_ms for a connection; 1 once one was made, else 0. */
int cli_push_await(struct cli_push *p, int64_t wait_ms);
int cli_push_close(struct cli_push *p, int flush);

#endif
