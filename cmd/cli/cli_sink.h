/* cli_sink.h — `mailpulse sink`: a local HTTP receiver for webhook alerts.
 *
 * Contract: cli_sink_cmd is the subcommand (options, usage, run until
 * SIGINT or SIGTERM) that mailpulse.c dispatches to; --listen is parsed by
 * mp_addr_parse(), the one listen-address parser (IPv4, [IPv6], localhost,
 * names). cli_sink_start() resolves that address (mp_addr_resolve) and
 * serves HTTP on one internal libmicrohttpd thread until cli_sink_stop(). Every POST, on any
 * path, is read whole and answered with the configured status (413 when the
 * body is larger than max_body, 405 for other methods, which are otherwise
 * ignored). For each POST the sink
 *   - prints readable lines to `print` and flushes it: one line per alert
 *     when the body is an Alertmanager v4 webhook, e.g.
 *       [2026-11-22T16:30:01.123Z] FIRING warning bounce_rate tenant=acme
 *       mailbox=sales@acme.example recipient_domain=gmail.com value=0.08
 *       threshold=0.02 (80/1000 over 1h)
 *     (one line, wrapped here; the timestamp is when the request arrived),
 *     otherwise one line with the path and the raw body;
 *   - when out_path is set, appends one compact JSON object per request to
 *     that file with a single write, so a reader polling the file never sees
 *     half a line: received_ms (wall clock), mono_ns (CLOCK_MONOTONIC, for
 *     latency measurement against the sender's clock on the same host),
 *     path, status (what was answered), headers (names lower-cased, repeated
 *     headers joined with ", "), body_bytes, and either body (the parsed
 *     JSON) or body_raw (the body as a string, invalid UTF-8 replaced by
 *     U+FFFD); a 413 line carries body_too_large=true instead of a body.
 *
 * Threads: start and stop are called from one thread. All request handling,
 * printing and file writing happen on the sink's single internal thread, so
 * `print` must not be written by anyone else while the sink runs.
 *
 * Ownership: the config is copied; `print` must outlive the sink; out_path
 * is only read by cli_sink_start().
 *
 * Returns: MP_OK, or MP_ERR_INVAL (bad config), MP_ERR_IO (out file cannot
 * be opened, address cannot be resolved or bound; `err` then holds one line
 * saying why), MP_ERR_NOMEM.
 */
#ifndef CLI_SINK_H
#define CLI_SINK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli_opt.h"
#include "mp.h"
#include "mp_addr.h"

extern const struct cli_cmd cli_sink_cmd;

struct cli_sink_config {
    struct mp_addr listen; /* from mp_addr_parse(); port 1..65535 */
    unsigned status;      /* answer to every accepted POST, 200..599 */
    size_t max_body;      /* bodies above this many bytes get 413 */
    const char *out_path; /* JSON lines file, appended to; NULL for none */
    FILE *print;          /* readable lines, e.g. stdout */
};

struct cli_sink;

/* Starts serving. On MP_OK *out owns a running sink; on error nothing is
 * left running or open and *out is untouched. */
int cli_sink_start(const struct cli_sink_config *cfg, struct cli_sink **out, char *err,
                   size_t errlen);

/* Stops serving: waits for the sink's thread, closes every connection and
 * the out file, frees the sink. NULL is a no-op. */
void cli_sink_stop(struct cli_sink *sink);

#endif
