/* cli_stats.c — client side of the stats API (see cli_stats.h). */
#include "cli_stats.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli_api.h"
#include "cli_opt.h"
#include "cli_table.h"
#include "eng_types.h"
#include "mp_buf.h"
#include "mp_fmt.h"

/* Group table columns: the figures people scan first, in 100 columns (the
 * name cut in the middle when longer than its column, counts past nine
 * digits as 1.2G). The rest are in the tenant table and in --json. */
static const char *const stats__group_counts[] = {"sent", "delivered", "bounce_hard", "complaint",
                                                  "spam_trap"};
static const char *const stats__group_rates[] = {"bounce_rate", "complaint_rate",
                                                 "engagement_rate"};
enum { SG_NAME, SG_COUNTS, SG_RATES = SG_COUNTS + 5, SG_N = SG_RATES + 3 };
static const struct cli_col stats__group_cols[SG_N] = {
    [SG_NAME] = {"", 20, 0},
    [SG_COUNTS] = {"sent", 9, 1},      {"delivered", 9, 1}, {"bnc_hard", 9, 1},
    {"complaint", 9, 1},               {"spam_trap", 9, 1},
    [SG_RATES] = {"bounce%", 8, 1},    {"compl%", 8, 1},    {"engage%", 8, 1},
};
_Static_assert(MP_ARRAY_LEN(stats__group_counts) == SG_RATES - SG_COUNTS, "count columns");
_Static_assert(MP_ARRAY_LEN(stats__group_rates) == SG_N - SG_RATES, "rate columns");

int cli_stats_url(const char *api, const char *tenant, const char *window, const char *by,
                  long limit, char **out)
{
    struct mp_buf b = MP_BUF_INIT;
    int rc = cli_api_url_start(&b, api, "/v1/tenants/");
    if (rc == MP_OK)
        rc = cli_api_url_escape(&b, tenant);
    if (rc == MP_OK)
        rc = mp_buf_printf(&b, "/stats?window=%s", window);
    if (rc == MP_OK && by)
        rc = mp_buf_printf(&b, "&by=%s", by);
    if (rc == MP_OK && limit > 0)
        rc = mp_buf_printf(&b, "&limit=%ld", limit);
    if (rc == MP_OK && !(*out = mp_buf_take(&b)))
        rc = MP_ERR_NOMEM;
    mp_buf_free(&b);
    return rc;
}

void cli_stats_percent(double v, int is_null, char *out, size_t n)
{
    if (is_null)
        snprintf(out, n, "-");
    else
        mp_fmt_pct(v, out, n);
}

static void stats__rate_text(json_t *rates, const char *name, char *out, size_t n)
{
    json_t *v = json_object_get(rates, name);
    if (!v)
        snprintf(out, n, "?");
    else
        cli_stats_percent(json_number_value(v), json_is_null(v), out, n);
}

/* Counts (left) and rates (right), one pair per line. */
static void stats__print_tenant(FILE *f, json_t *counts, json_t *rates)
{
    size_t nc = json_object_size(counts), nr = json_object_size(rates);
    void *ci = json_object_iter(counts), *ri = json_object_iter(rates);
    for (size_t i = 0; i < nc || i < nr; i++) {
        char left[64] = "", pct[32];
        if (ci) {
            snprintf(left, sizeof(left), "%-12s %12" JSON_INTEGER_FORMAT, json_object_iter_key(ci),
                     json_integer_value(json_object_iter_value(ci)));
            ci = json_object_iter_next(counts, ci);
        }
        if (ri) {
            json_t *v = json_object_iter_value(ri);
            cli_stats_percent(json_number_value(v), json_is_null(v), pct, sizeof(pct));
            fprintf(f, "  %-25s    %-17s %9s\n", left, json_object_iter_key(ri), pct);
            ri = json_object_iter_next(rates, ri);
        } else {
            fprintf(f, "  %s\n", left);
        }
    }
}

static void stats__print_groups(FILE *f, json_t *root, const char *by, json_t *groups)
{
    struct cli_col cols[SG_N];
    memcpy(cols, stats__group_cols, sizeof(cols));
    cols[SG_NAME].header = by;
    cli_table_row(f, "  ", cols, SG_N, NULL);
    size_t i;
    json_t *g;
    json_array_foreach(groups, i, g)
    {
        const char *name = json_string_value(json_object_get(g, by));
        json_t *counts = json_object_get(g, "counts"), *rates = json_object_get(g, "rates");
        char text[SG_N][32];
        const char *cells[SG_N];
        cells[SG_NAME] = name ? name : "?";
        for (size_t c = 0; c < MP_ARRAY_LEN(stats__group_counts); c++) {
            cli_table_count(json_integer_value(json_object_get(counts, stats__group_counts[c])),
                            cols[SG_COUNTS + c].width, text[SG_COUNTS + c], sizeof(text[0]));
            cells[SG_COUNTS + c] = text[SG_COUNTS + c];
        }
        for (size_t c = 0; c < MP_ARRAY_LEN(stats__group_rates); c++) {
            stats__rate_text(rates, stats__group_rates[c], text[SG_RATES + c], sizeof(text[0]));
            cells[SG_RATES + c] = text[SG_RATES + c];
        }
        cli_table_row(f, "  ", cols, SG_N, cells);
    }
    json_int_t total = json_integer_value(json_object_get(root, "groups_total"));
    if ((size_t)total > json_array_size(groups))
        fprintf(f, "  ... %zu of %" JSON_INTEGER_FORMAT " shown; --limit N shows more "
                   "(at most 10000)\n",
                json_array_size(groups), total);
}

int cli_stats_print(FILE *f, const char *body)
{
    json_t *j = json_loads(body, 0, NULL);
    const char *tenant = json_string_value(json_object_get(j, "tenant"));
    const char *window = json_string_value(json_object_get(j, "window"));
    json_t *counts = json_object_get(j, "counts"), *rates = json_object_get(j, "rates");
    if (!tenant || !window || !json_is_object(counts) || !json_is_object(rates)) {
        json_decref(j);
        return MP_ERR_PARSE;
    }
    fprintf(f, "tenant %s, window %s\n\n", tenant, window);
    stats__print_tenant(f, counts, rates);
    const char *by = json_string_value(json_object_get(j, "by"));
    json_t *groups = json_object_get(j, "groups");
    if (by && json_is_array(groups)) {
        fprintf(f, "\nby %s: %" JSON_INTEGER_FORMAT " with events in the window, "
                   "most sent first\n\n",
                by, json_integer_value(json_object_get(j, "groups_total")));
        if (json_array_size(groups))
            stats__print_groups(f, j, by, groups);
    }
    json_decref(j);
    return MP_OK;
}

/* ---- the command ---------------------------------------------------------- */

#define STATS_MAX_LIMIT 10000

enum stats_opt { STATS_TENANT, STATS_WINDOW, STATS_BY, STATS_LIMIT, STATS_API, STATS_TIMEOUT_MS,
                 STATS_JSON, STATS_TOKEN };

static const struct cli_opt stats__opts[] = {
    [STATS_TENANT] = {"tenant", "T", "tenant (required): 1..64 of A-Z a-z 0-9 . _ -"},
    [STATS_WINDOW] = {"window", "W", "1h, 24h or 7d (default 24h)"},
    [STATS_BY] = {"by", "SCOPE",
                  "also one row per key of SCOPE: mailbox, recipient_domain, provider,\n"
                  "mailbox_provider or campaign"},
    [STATS_LIMIT] = {"limit", "N",
                     "rows with --by, 1..10000 (default 100, the most\n"
                     "sent first)"},
    CLI_API_OPT_ROWS(STATS_API, STATS_TIMEOUT_MS, STATS_JSON, STATS_TOKEN),
};

static const char stats__usage[] =
    "usage: mailpulse stats --tenant T [--window 1h|24h|7d] [--by SCOPE]\n"
    "                       [--limit N] [--api URL] [--timeout-ms MS] [--json]\n"
    "                       [--token TOKEN]\n"
    "\n"
    "Prints a tenant's counts and rates over a rolling window, read from the\n"
    "daemon's GET /v1/tenants/{tenant}/stats. Rates are percentages: bounce,\n"
    "soft bounce, block, deferral and delivery of sent; complaint, engagement\n"
    "(opens + clicks + replies) and unsubscribe of delivered; \"-\" when the\n"
    "denominator is 0. With --by, one row per mailbox or recipient domain that\n"
    "had events in the window, most sent first, in 100 columns: a long name is\n"
    "cut in the middle, counts past nine digits read 1.2G; numbers are\n"
    "right-aligned. --json prints the API's body as is, every field whole.\n"
    "Exit status: 0 printed, 1 the daemon could not be reached or refused the\n"
    "request (its error message is printed, e.g. for an unknown tenant),\n"
    "2 bad usage.\n";

static int stats__run(const struct cli_cmd *cmd, int argc, char **argv)
{
    struct cli_api_opts o = CLI_API_OPTS_INIT;
    const char *window = "24h", *by = NULL;
    int64_t limit = 0;
    struct cli_args a = CLI_ARGS(cmd, argc, argv);
    int rc;
    while ((rc = cli_api_next(&a, &o)) == MP_OK) {
        const char *val = a.val;
        switch ((enum stats_opt)a.idx) {
        case STATS_WINDOW:
            if (strcmp(val, "1h") != 0 && strcmp(val, "24h") != 0 && strcmp(val, "7d") != 0)
                return cli_usage_error(cmd, "--window: expected 1h, 24h or 7d, got \"%s\"", val);
            window = val;
            break;
        case STATS_BY:
            by = NULL;
            for (int sc = ENG_SCOPE_TENANT + 1; !by && sc < ENG_NSCOPES; sc++)
                if (strcmp(val, eng_scope_name(sc)) == 0)
                    by = val;
            if (!by)
                return cli_usage_error(cmd, "--by: expected mailbox, recipient_domain, provider, "
                                       "mailbox_provider or campaign, got \"%s\"", val);
            break;
        case STATS_LIMIT:
            if ((rc = cli_arg_i64(&a, 1, STATS_MAX_LIMIT, &limit)) != MP_OK)
                return rc;
            break;
        default: break; /* --help and the shared options: cli_api_next() */
        }
    }
    if (rc != MP_ERR_NOTFOUND)
        return rc == CLI_HELP ? MP_OK : rc;
    if (o.tenant == NULL)
        return cli_usage_error(cmd, "missing required option --tenant T");
    if (limit && by == NULL)
        return cli_usage_error(cmd, "--limit needs --by mailbox or --by recipient_domain");

    char *url = NULL;
    rc = cli_stats_url(o.api, o.tenant, window, by, (long)limit, &url);
    return cli_api_show(cmd, rc, url, &o, cli_stats_print, "stats JSON");
}

const struct cli_cmd cli_stats_cmd = {
    "stats", "print a tenant's counts and rates from the daemon's HTTP API", stats__usage,
    stats__opts, MP_ARRAY_LEN(stats__opts), stats__run};
