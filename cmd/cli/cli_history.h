/* cli_history.h — `mailpulse history`: a client of
 * GET /v1/tenants/{tenant}/series (cmd/daemon/mp_series.h).
 *
 * Contract: cli_history_cmd is the subcommand mailpulse.c dispatches to; it
 * fetches through cli_api.h. cli_history_url() builds the request URL
 * (every value percent-encoded; the daemon validates them);
 * cli_history_print() renders a 200 body as a table: one row per step, the
 * bucket's start (UTC: "YYYY-MM-DD" for 1d, "MM-DD HH:MM" else), one
 * right-aligned column per type in the answer's order, then the rate as a
 * percentage ("-" when the step had no denominator); columns narrow to fit
 * CLI_TABLE_WIDTH (counts that do not fit read 1.2k, 3.4M). cli_history_csv()
 * writes the same as CSV: a header "time,<type>...[,rate]", then RFC 3339
 * times, counts and the rate as a plain number (empty when null).
 *
 * Threads: any thread for url/print/csv; the command, the main thread.
 * Ownership: *out of cli_history_url is malloc'd; the caller frees.
 * Returns: MP_OK; MP_ERR_NOMEM; MP_ERR_PARSE (a 200 body not of that shape).
 */
#ifndef CLI_HISTORY_H
#define CLI_HISTORY_H

#include <stdio.h>

#include "cli_opt.h"
#include "mp.h"

extern const struct cli_cmd cli_history_cmd;

/* The request's parameters; NULL ones are not sent (the daemon's default). */
struct cli_history_query {
    const char *scope, *name, *types, *rate, *step, *from, *to;
};

int cli_history_url(const char *api, const char *tenant, const struct cli_history_query *q,
                    char **out);
int cli_history_print(FILE *f, const char *body);
int cli_history_csv(FILE *f, const char *body);

#endif
