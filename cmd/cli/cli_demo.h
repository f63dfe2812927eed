/* cli_demo.h — `mailpulse demo`: plays PRODUCT.md's "Team A's bad list"
 * against a running daemon, with a live view and a built-in sink.
 *
 * Contract: cli_demo_cmd is the subcommand mailpulse.c dispatches to. It
 *   - starts the sink of `mailpulse sink` (cli_sink_start) on --listen
 *     (default 127.0.0.1:9000, where mailpulse.example.yaml's receiver "ops"
 *     posts); when that address is taken it says so and goes on, checking
 *     the alerts through the HTTP API instead;
 *   - checks the daemon answers on --api, then sends, through the acked
 *     endpoint (--endpoint, ingest.router, cli_send_ack), every
 *     DEMO_TICK_MS for --seconds: two tenants of this run,
 *     demo-team-a-<run> and demo-team-b-<run> (<run> is the UTC time, so a
 *     rerun starts from zero counts in the 1 h window), each sending from
 *     one mailbox to gmail.com and yahoo.com at a 0.5% hard-bounce rate;
 *     from DEMO_BAD_PERCENT of the run on, team A's gmail.com traffic
 *     bounces at 8% (its bad list);
 *   - once a second prints both tenants' counts and bounce rates from the
 *     stats API against the default bounce_rate rule (warning 2%, critical
 *     4%), and every alert the sink receives, as `mailpulse sink` prints it;
 *   - waits up to DEMO_WAIT_MS after the last event for team A's alert,
 *     then prints a summary and the commands to look further.
 * Returns MP_OK when team A's alert arrived (at the sink, or, without the
 * sink, in the API's active alerts) and team B's did not; MP_ERR_STATE
 * otherwise (exit 1, with what was missing and why it may be); MP_ERR_IO
 * when the API does not answer, or what send_ack_run() returned when the
 * events were not acked (no ingest.router?); MP_ERR_INVAL for bad usage.
 *
 * Threads: the main thread sends and prints; the sink's thread writes its
 * lines into a pipe the main thread reads, so stdout has one writer.
 */
#ifndef CLI_DEMO_H
#define CLI_DEMO_H

#include "cli_opt.h"

#define DEMO_TICK_MS 250
#define DEMO_DEFAULT_SECONDS 30
#define DEMO_FAST_SECONDS 5
#define DEMO_MAX_SECONDS 3600
#define DEMO_WAIT_MS 5000
#define DEMO_BAD_PERCENT 30
#define DEMO_DEFAULT_LISTEN "127.0.0.1:9000"

extern const struct cli_cmd cli_demo_cmd;

#endif
