/* cli_send.h — `mailpulse send`: builds test events and pushes them to the
 * daemon's ZeroMQ PULL endpoint as EventBatch frames (proto/mailpulse.proto),
 * or pushes one raw frame (--raw-file, --empty-frame).
 *
 * Contract: cli_send_cmd is the subcommand (options, usage, run) that
 * mailpulse.c dispatches to. COUNT identical events go out BATCH per frame,
 * each frame stamped with the time it is sent (or --time-ms / --age), with
 * sequence numbers counting up from --sequence-start. Values are checked for
 * syntax only: the daemon does the real validation, so an empty tenant or
 * an unknown type is sent as given. On success it prints
 *     sent events=N batches=M endpoint=E
 * and returns MP_OK; MP_ERR_INVAL for bad usage (exit 2); MP_ERR_AGAIN when
 * the endpoint did not take every frame within --timeout-ms, MP_ERR_IO or
 * MP_ERR_NOMEM (exit 1), with one line on stderr saying why.
 *
 * Threads: the main thread; it owns its ZeroMQ context for the run.
 */
#ifndef CLI_SEND_H
#define CLI_SEND_H

#include "cli_opt.h"

extern const struct cli_cmd cli_send_cmd;

#endif
