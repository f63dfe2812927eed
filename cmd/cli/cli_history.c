/* cli_history.c — client side of the series API (see cli_history.h). */
#include "cli_history.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli_api.h"
#include "cli_stats.h"
#include "cli_table.h"
#include "mp_buf.h"

#define HIST__TIME_W 16
#define HIST__RATE_W 9
#define HIST__COLS_MAX 16 /* time, 12 types, rate */

int cli_history_url(const char *api, const char *tenant, const struct cli_history_query *q,
                    char **out)
{
    const char *names[] = {"scope", "name", "types", "rate", "step", "from", "to"};
    const char *vals[] = {q->scope, q->name, q->types, q->rate, q->step, q->from, q->to};
    struct mp_buf b = MP_BUF_INIT;
    int rc = cli_api_url_start(&b, api, "/v1/tenants/");
    if (rc == MP_OK)
        rc = cli_api_url_escape(&b, tenant);
    if (rc == MP_OK)
        rc = mp_buf_puts(&b, "/series");
    char sep = '?';
    for (size_t i = 0; rc == MP_OK && i < MP_ARRAY_LEN(names); i++) {
        if (!vals[i])
            continue;
        rc = mp_buf_printf(&b, "%c%s=", sep, names[i]);
        if (rc == MP_OK)
            rc = cli_api_url_escape(&b, vals[i]);
        sep = '&';
    }
    if (rc == MP_OK && !(*out = mp_buf_take(&b)))
        rc = MP_ERR_NOMEM;
    mp_buf_free(&b);
    return rc;
}

/* The answer's parts, checked: points, types, and whether it has a rate. */
struct hist__doc {
    json_t *root, *points, *types;
    const char *step;
    int rate;
};

static int hist__load(const char *body, struct hist__doc *d)
{
    d->root = json_loads(body, 0, NULL);
    d->points = json_object_get(d->root, "points");
    d->types = json_object_get(d->root, "types");
    d->step = json_string_value(json_object_get(d->root, "step"));
    d->rate = json_is_string(json_object_get(d->root, "rate"));
    if (!json_is_array(d->points) || !json_is_array(d->types) || !d->step ||
        json_array_size(d->types) > HIST__COLS_MAX - 2) {
        json_decref(d->root);
        return MP_ERR_PARSE;
    }
    return MP_OK;
}

/* o[key] when a string, else "?" (a body from the API, but never trusted). */
static const char *hist__str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "?";
}

/* "YYYY-MM-DD" for days, "MM-DD HH:MM" else, from the point's RFC 3339 t. */
static void hist__time(const char *step, const char *t, char *out, size_t n)
{
    if (strcmp(step, "1d") == 0 && strlen(t) >= 10)
        snprintf(out, n, "%.10s", t);
    else
        cli_table_time(t, 0, out, n);
}

static void hist__header(FILE *f, const struct hist__doc *d, struct cli_col *cols, size_t *ncols)
{
    size_t nt = json_array_size(d->types);
    unsigned avail = CLI_TABLE_WIDTH - 2 - (HIST__TIME_W + 1) - (d->rate ? HIST__RATE_W + 1 : 0);
    unsigned w = nt ? avail / (unsigned)nt - 1 : 9;
    w = w > 12 ? 12 : w < 4 ? 4 : w;
    size_t n = 0;
    cols[n++] = (struct cli_col){"time (UTC)", HIST__TIME_W, 0};
    for (size_t i = 0; i < nt; i++)
        cols[n++] = (struct cli_col){json_string_value(json_array_get(d->types, i)), w, 1};
    if (d->rate)
        cols[n++] = (struct cli_col){"rate", HIST__RATE_W, 1};
    *ncols = n;
    cli_table_row(f, "  ", cols, n, NULL);
}

int cli_history_print(FILE *f, const char *body)
{
    struct hist__doc d;
    if (hist__load(body, &d) != MP_OK)
        return MP_ERR_PARSE;
    const char *name = json_string_value(json_object_get(d.root, "name"));
    fprintf(f, "tenant %s, %s%s%s, step %s\n%s .. %s%s%s\n\n", hist__str(d.root, "tenant"),
            hist__str(d.root, "scope"), name ? " " : "", name ? name : "", d.step,
            hist__str(d.root, "from"), hist__str(d.root, "to"), d.rate ? ", rate " : "",
            d.rate ? hist__str(d.root, "rate") : "");
    struct cli_col cols[HIST__COLS_MAX];
    size_t ncols, i;
    hist__header(f, &d, cols, &ncols);
    json_t *pt;
    json_array_foreach(d.points, i, pt)
    {
        char text[HIST__COLS_MAX][32];
        const char *cells[HIST__COLS_MAX];
        json_t *counts = json_object_get(pt, "counts"), *r = json_object_get(pt, "rate");
        hist__time(d.step, hist__str(pt, "t"), text[0], sizeof(text[0]));
        size_t c = 1;
        for (; c < ncols - (d.rate ? 1 : 0); c++)
            cli_table_count(json_integer_value(json_object_get(counts, cols[c].header)),
                            cols[c].width, text[c], sizeof(text[c]));
        if (d.rate)
            cli_stats_percent(json_number_value(r), !json_is_number(r), text[c], sizeof(text[c]));
        for (size_t k = 0; k < ncols; k++)
            cells[k] = text[k];
        cli_table_row(f, "  ", cols, ncols, cells);
    }
    json_decref(d.root);
    return MP_OK;
}

int cli_history_csv(FILE *f, const char *body)
{
    struct hist__doc d;
    if (hist__load(body, &d) != MP_OK)
        return MP_ERR_PARSE;
    size_t i, k;
    json_t *pt, *ty;
    fputs("time", f);
    json_array_foreach(d.types, k, ty)
        fprintf(f, ",%s", json_is_string(ty) ? json_string_value(ty) : "?");
    fputs(d.rate ? ",rate\n" : "\n", f);
    json_array_foreach(d.points, i, pt)
    {
        json_t *counts = json_object_get(pt, "counts"), *r = json_object_get(pt, "rate");
        fputs(hist__str(pt, "t"), f);
        json_array_foreach(d.types, k, ty)
            fprintf(f, ",%" JSON_INTEGER_FORMAT,
                    json_integer_value(json_object_get(counts, json_string_value(ty))));
        if (d.rate && json_is_number(r))
            fprintf(f, ",%.10g", json_number_value(r));
        else if (d.rate)
            fputs(",", f);
        fputs("\n", f);
    }
    json_decref(d.root);
    return MP_OK;
}

/* ---- the command ---------------------------------------------------------- */

enum hist_opt { H_TENANT, H_SCOPE, H_NAME, H_TYPES, H_RATE, H_STEP, H_FROM, H_TO, H_CSV, H_API,
                H_TIMEOUT_MS, H_JSON, H_TOKEN };

static const struct cli_opt hist__opts[] = {
    [H_TENANT] = {"tenant", "T", "tenant (required): 1..64 of A-Z a-z 0-9 . _ -"},
    [H_SCOPE] = {"scope", "SCOPE", "tenant (default), mailbox, recipient_domain, ..."},
    [H_NAME] = {"name", "NAME", "the mailbox, domain, ... (required but for tenant)"},
    [H_TYPES] = {"types", "T,T", "event types, comma-separated (default: all, or\n"
                                 "the rate's two with --rate)"},
    [H_RATE] = {"rate", "NUM/DEN", "also the ratio per step, e.g. bounce_hard/sent"},
    [H_STEP] = {"step", "STEP", "5m, 1h or 1d (default 1h)"},
    [H_FROM] = {"from", "TIME", "first step, RFC 3339 or Unix seconds (default: as\n"
                                "far back as the step reaches)"},
    [H_TO] = {"to", "TIME", "last step (default: now)"},
    [H_CSV] = {"csv", NULL, "write CSV instead of a table"},
    CLI_API_OPT_ROWS(H_API, H_TIMEOUT_MS, H_JSON, H_TOKEN),
};

static const char hist__usage[] =
    "usage: mailpulse history --tenant T [--scope S --name N] [--types T,T]\n"
    "                         [--rate NUM/DEN] [--step 5m|1h|1d] [--from TIME]\n"
    "                         [--to TIME] [--csv | --json] [--api URL]\n"
    "                         [--timeout-ms MS] [--token TOKEN]\n"
    "\n"
    "Prints a key's counts per step, oldest first, read from the daemon's\n"
    "GET /v1/tenants/{tenant}/series: 5m steps reach back 65 minutes, 1h steps\n"
    "engine.hour_retention (7 days by default), 1d steps the whole retention\n"
    "(RocksDB beyond what memory holds: 25 hours, 13 days).\n"
    "With --rate, the ratio per step as a percentage (\"-\" without a\n"
    "denominator). --csv writes time,<types>[,rate] with RFC 3339 times;\n"
    "--json prints the API's body as is. The daemon checks every value and\n"
    "says what is wrong (e.g. a from before the retention).\n" CLI_API_EXIT_STATUS;

static int hist__run(const struct cli_cmd *cmd, int argc, char **argv)
{
    struct cli_api_opts o = CLI_API_OPTS_INIT;
    struct cli_history_query q = {0};
    const char **slot[] = {[H_SCOPE] = &q.scope, [H_NAME] = &q.name, [H_TYPES] = &q.types,
                           [H_RATE] = &q.rate,   [H_STEP] = &q.step, [H_FROM] = &q.from,
                           [H_TO] = &q.to};
    int csv = 0, rc;
    struct cli_args a = CLI_ARGS(cmd, argc, argv);
    while ((rc = cli_api_next(&a, &o)) == MP_OK) {
        if (a.idx == H_CSV) {
            csv = 1;
        } else if (a.idx < MP_ARRAY_LEN(slot) && slot[a.idx]) {
            if (!*a.val)
                return cli_usage_error(cmd, "--%s: empty value", a.opt->name);
            *slot[a.idx] = a.val;
        }
    }
    if (rc != MP_ERR_NOTFOUND)
        return rc == CLI_HELP ? MP_OK : rc;
    if (o.tenant == NULL)
        return cli_usage_error(cmd, "missing required option --tenant T");
    if (csv && o.json)
        return cli_usage_error(cmd, "--csv and --json: choose one");
    char *url = NULL;
    rc = cli_history_url(o.api, o.tenant, &q, &url);
    return cli_api_show(cmd, rc, url, &o, csv ? cli_history_csv : cli_history_print,
                        "series JSON");
}

const struct cli_cmd cli_history_cmd = {
    "history", "print a key's counts per 5m, 1h or 1d step over the retention", hist__usage,
    hist__opts, MP_ARRAY_LEN(hist__opts), hist__run};
