/* cli_replay.h — `mailpulse replay FILE`: plays an events file (JSON Lines
 * or CSV, columns in cli_events_file.h) into the daemon's acked endpoint
 * (ingest.router), or over PUSH to its PULL endpoint (ingest.pull), in
 * batches, with a progress view.
 *
 * Contract: cli_replay_cmd is the subcommand mailpulse.c dispatches to.
 * The whole file is read and checked first: each rejected line is reported
 * on stderr as "FILE:LINE: reason" (the first CLI_REPLAY_SHOW_REJECTS, then
 * a count); the good lines are then sent in file order, BATCH per frame,
 * through send_ack_run() (cli_send_ack.h), each batch resent until acked;
 * with --push through cli_push (cli_push.h) instead, fire and forget.
 * Which one: --push, PUSH; --endpoint or $MAILPULSE_ROUTER without
 * --fallback-push, acked only; otherwise acked first, through
 * send_ack_run_within() with CLI_REPLAY_ROUTER_WAIT_MS, and when that
 * ends with no connection made and no batch acked (an engine without
 * ingest.router: then no frame can have left), one stderr line
 *     mailpulse replay: no ingest.router at E; sending over PUSH to P instead (no acks)
 * and the whole play again over PUSH to $MAILPULSE_ENDPOINT, else
 * CLI_PUSH_DEFAULT_ENDPOINT: nothing is sent twice.
 * --speed X paces the events by their times (1 = real time), 0 or "max"
 * (the default) sends as fast as the acks allow. --rebase-time shifts every
 * time by one offset, keeping the gaps, so that no event is stamped after
 * the moment it is sent (the daemon refuses events a few minutes ahead):
 * at real time or faster the newest event is stamped as the replay ends
 * (at max speed: now), slower the oldest as it starts; at --speed 1 each
 * event is stamped as it is sent. Progress goes to stderr:
 * a redrawn bar (events/s, ETA) on a terminal, a plain line every
 * CLI_REPLAY_PLAIN_EVERY_MS otherwise. At the end it prints
 *     replayed lines=N events=E rejected_lines=R file=FILE
 * and send_ack_print()'s "acked ..." line to stdout; over PUSH, on success,
 *     sent events=E batches=N endpoint=P
 * (what was handed to a connection: PUSH cannot say what was counted).
 *
 * Returns MP_OK when every line was good and every event acked as accepted;
 * (over PUSH: every frame reached a connection to P);
 * MP_ERR_PARSE when some line was rejected (the others were still sent) or
 * the daemon rejected events; MP_ERR_AGAIN also when over PUSH no
 * connection was made within --timeout-ms (said on stderr), or frames were
 * left queued; MP_ERR_INVAL bad usage; MP_ERR_IO, MP_ERR_AGAIN,
 * MP_ERR_STATE, MP_ERR_NOMEM from reading or sending. The dispatcher turns
 * all but MP_ERR_INVAL (2) into exit status 1.
 *
 * Threads: the main thread.
 */
#ifndef CLI_REPLAY_H
#define CLI_REPLAY_H

#include "cli_opt.h"

#define CLI_REPLAY_SHOW_REJECTS 20
#define CLI_REPLAY_PLAIN_EVERY_MS 2000
#define CLI_REPLAY_MAX_LINE ((size_t)1 << 20)
/* The fallback: no connection to the acked endpoint by then (a connect on
 * a live host answers in milliseconds, a refused one at once). */
#define CLI_REPLAY_ROUTER_WAIT_MS 1500

extern const struct cli_cmd cli_replay_cmd;

#endif
