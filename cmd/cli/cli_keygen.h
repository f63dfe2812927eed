/* cli_keygen.h — `mailpulse keygen`: a CurveZMQ key pair for ingest.curve,
 * and the client side of Curve for the commands that push to the daemon.
 *
 * Contract: cli_keygen_cmd is the subcommand mailpulse.c dispatches to. It
 * makes a key pair with zmq_curve_keypair() and prints it as YAML lines to
 * paste: the public key as `public_key: "<Z85>"` (a producer's entry in
 * ingest.curve.clients, or what producers pass as --server-key when the
 * pair is the daemon's), and the secret as `secret_key: "<Z85>"`. With
 * --secret-file PATH the secret is written there instead (the key and a
 * newline, mode 0600, a new file: an existing one is never overwritten) and
 * `secret_key_file: "PATH"` is printed in its place, so the secret never
 * reaches the terminal. Returns MP_OK; MP_ERR_INVAL for bad usage (exit 2);
 * MP_ERR_IO when the file cannot be made (exit 1, one line on stderr).
 *
 * cli_curve_client() makes `sock` a CurveZMQ client before it connects:
 * the daemon's public key (server_key, Z85) and the producer's key pair,
 * read from secret_key_file (ingest_curve_read_key_file: the same format
 * and checks as the daemon's secret_key_file), its public half derived.
 * Both NULL: nothing to do, MP_OK. One without the other, or a malformed
 * server key: a usage error (MP_ERR_INVAL); an unreadable or refused file:
 * MP_ERR_IO, after one line on stderr naming the option.
 *
 * cli_producer_open() is the socket both producers (send's PUSH, the acked
 * DEALER of send --ack and replay) open to the daemon: a new context, a
 * socket of `type` with the int options given, a ZMQ_PAIR receiving the
 * socket's monitor events, the Curve client keys (cli_curve_client) and the
 * connect. MP_OK, or the failure printed: MP_ERR_IO for ZeroMQ, a usage
 * error for keys or an endpoint it cannot connect to. What was made stays
 * in *ctx, *sock and *mon (NULL otherwise) for the caller to close.
 *
 * Threads: the main thread. No state.
 */
#ifndef CLI_KEYGEN_H
#define CLI_KEYGEN_H

#include "cli_opt.h"

extern const struct cli_cmd cli_keygen_cmd;

int cli_curve_client(const struct cli_cmd *cmd, void *sock, const char *server_key,
                     const char *secret_key_file);

struct cli_sockopt {
    int name;  /* ZMQ_LINGER, ZMQ_SNDHWM, ... */
    int value;
};
struct cli_producer {
    int type;                        /* ZMQ_PUSH or ZMQ_DEALER */
    const struct cli_sockopt *opts;  /* set before the monitor and connect */
    size_t n_opts;
    int events;                      /* ZMQ_EVENT_* the monitor reports */
    const char *endpoint, *server_key, *secret_key_file;
};
int cli_producer_open(const struct cli_cmd *cmd, const struct cli_producer *p, void **ctx,
                      void **sock, void **mon);

#endif
