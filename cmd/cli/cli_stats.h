/* cli_stats.h — `mailpulse stats`: a client of GET /v1/tenants/{tenant}/stats.
 *
 * Contract: cli_stats_url() builds the request URL (the tenant is
 * percent-encoded, so any value reaches the daemon, which validates it);
 * cli_stats_get() performs the GET with libcurl (the caller has called
 * curl_global_init()); cli_stats_print() renders a 200 body (mp_stats.h)
 * as readable tables: the tenant's counts and rates side by side, then,
 * with groups, one row per group with the main counts and rates. Rates are
 * printed as percentages with two decimals ("<0.01%" for a tiny non-zero
 * rate, "-" when the denominator was 0). Counts and rates are printed in the
 * order and with the names the daemon sends, so a new type or rate shows up
 * without a client change.
 *
 * Threads: any thread; no global state beyond libcurl's.
 * Ownership: strings returned through char ** are malloc'd; the caller frees.
 * Returns: MP_OK; MP_ERR_NOMEM; MP_ERR_IO (no HTTP answer: `err` holds
 * libcurl's reason); MP_ERR_PARSE (a 200 body that is not stats JSON).
 */
#ifndef CLI_STATS_H
#define CLI_STATS_H

#include <stddef.h>
#include <stdio.h>

#include "mp.h"

#define CLI_STATS_DEFAULT_API "http://127.0.0.1:7480"
#define CLI_STATS_BODY_MAX ((size_t)64 << 20) /* larger answers are cut off: MP_ERR_IO */

/* api + "/v1/tenants/" + escaped tenant + "/stats?window=W[&by=B][&limit=N]"
 * (by NULL: no grouping; limit 0: not sent). A trailing '/' of api is
 * dropped. */
int cli_stats_url(const char *api, const char *tenant, const char *window, const char *by,
                  long limit, char **out);

/* GET url (proxies bypassed: the API is local): MP_OK with *status and
 * *body (NUL-terminated, may be empty). */
int cli_stats_get(const char *url, long timeout_ms, long *status, char **body, char *err,
                  size_t errlen);

/* The "error" message of an error body, copied into out; "" when the body
 * is not {"error": "..."}. */
void cli_stats_error_text(const char *body, char *out, size_t n);

/* Prints a 200 body. */
int cli_stats_print(FILE *f, const char *body);

/* A rate as printed: "12.34%", "<0.01%", "-" (is_null). */
void cli_stats_percent(double v, int is_null, char *out, size_t n);

#endif
