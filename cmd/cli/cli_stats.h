/* cli_stats.h — `mailpulse stats`: a client of GET /v1/tenants/{tenant}/stats.
 *
 * Contract: cli_stats_cmd is the subcommand (options, usage, run) that
 * mailpulse.c dispatches to; it fetches through cli_api.h.
 * cli_stats_url() builds the request URL (the tenant is percent-encoded, so
 * any value reaches the daemon, which validates it); cli_stats_print()
 * renders a 200 body (mp_stats.h) as readable tables: the tenant's counts
 * and rates side by side, then, with groups, one row per group with the
 * main counts and rates. Rates are printed as percentages with two decimals
 * ("<0.01%" for a tiny non-zero rate, "-" when the denominator was 0).
 * Counts and rates are printed in the order and with the names the daemon
 * sends, so a new type or rate shows up without a client change.
 *
 * Threads: the functions, any thread; the command, the main thread (it
 * prints). No global state beyond libcurl's.
 * Ownership: strings returned through char ** are malloc'd; the caller frees.
 * Returns: MP_OK; MP_ERR_NOMEM; MP_ERR_PARSE (a 200 body that is not stats
 * JSON).
 */
#ifndef CLI_STATS_H
#define CLI_STATS_H

#include <stddef.h>
#include <stdio.h>

#include "cli_opt.h"
#include "mp.h"

extern const struct cli_cmd cli_stats_cmd;

/* api + "/v1/tenants/" + escaped tenant + "/stats?window=W[&by=B][&limit=N]"
 * (by NULL: no grouping; limit 0: not sent). A trailing '/' of api is
 * dropped. */
int cli_stats_url(const char *api, const char *tenant, const char *window, const char *by,
                  long limit, char **out);

/* Prints a 200 body. */
int cli_stats_print(FILE *f, const char *body);

/* A rate as printed (base/mp_fmt): "12.34%", "0.0012%", "-" (is_null). */
void cli_stats_percent(double v, int is_null, char *out, size_t n);

#endif
