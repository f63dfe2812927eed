/* cli_alerts.h — `mailpulse alerts`: a client of GET /v1/alerts and
 * GET /v1/alerts/dead.
 *
 * Contract: cli_alerts_cmd is the subcommand (options, usage, run) that
 * mailpulse.c dispatches to; it fetches through cli_api.h.
 * cli_alerts_url() builds the request URL (the tenant is
 * percent-encoded; the daemon validates it). cli_alerts_print() renders a
 * 200 body of /v1/alerts ({"alerts": [...]}, alert_eval.h) as a table, one
 * row per pending or firing alert; cli_alerts_print_dead() renders
 * /v1/alerts/dead ({"dead": [...]}, alert_sender.h); either prints
 * nothing for a body of another shape. Threads: the functions, any; the
 * command, the main thread. No global state beyond libcurl's.
 * Returns MP_OK; MP_ERR_NOMEM; MP_ERR_PARSE (a body of another shape).
 */
#ifndef CLI_ALERTS_H
#define CLI_ALERTS_H

#include <stddef.h>
#include <stdio.h>

#include "cli_opt.h"
#include "mp.h"

extern const struct cli_cmd cli_alerts_cmd;

/* api + "/v1/alerts" (or "/v1/alerts/dead") [+ "?tenant=T"] [&limit=N]. */
int cli_alerts_url(const char *api, const char *tenant, int dead, long limit, char **out);
int cli_alerts_print(FILE *f, const char *body);
int cli_alerts_print_dead(FILE *f, const char *body);

#endif
