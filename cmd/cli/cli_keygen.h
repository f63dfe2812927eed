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
 * Threads: the main thread. No state.
 */
#ifndef CLI_KEYGEN_H
#define CLI_KEYGEN_H

#include "cli_opt.h"

extern const struct cli_cmd cli_keygen_cmd;

int cli_curve_client(const struct cli_cmd *cmd, void *sock, const char *server_key,
                     const char *secret_key_file);

#endif
