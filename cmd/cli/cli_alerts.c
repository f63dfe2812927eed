/* cli_alerts.c — client side of the alerts API (see cli_alerts.h). */
#include "cli_alerts.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli_api.h"
#include "cli_opt.h"
#include "cli_table.h"
#include "mp_buf.h"

int cli_alerts_url(const char *api, const char *tenant, int dead, long limit, char **out)
{
    struct mp_buf b = MP_BUF_INIT;
    int rc = cli_api_url_start(&b, api, dead ? "/v1/alerts/dead" : "/v1/alerts");
    if (rc == MP_OK && tenant && (rc = mp_buf_puts(&b, "?tenant=")) == MP_OK)
        rc = cli_api_url_escape(&b, tenant);
    if (rc == MP_OK && limit > 0)
        rc = mp_buf_printf(&b, "%climit=%ld", tenant ? '&' : '?', limit);
    if (rc == MP_OK && !(*out = mp_buf_take(&b)))
        rc = MP_ERR_NOMEM;
    mp_buf_free(&b);
    return rc;
}

static const char *alerts__str(json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && *s ? s : dflt;
}

/* Percent for fraction rules, as is otherwise ("3" hits, "4.5" x). */
static void alerts__value(json_t *an, const char *key, char *out, size_t n)
{
    cli_table_rate(alerts__str(an, "kind", "ratio"), alerts__str(an, key, NULL), out, n);
}

/* 100 columns at most: the long names (rule, tenant, scope) are cut in the
 * middle, times are UTC without the year; --json has every field whole. */
enum { AC_STATE, AC_SEV, AC_RULE, AC_TENANT, AC_SCOPE, AC_VALUE, AC_THRESH, AC_NUMDEN, AC_WIN,
       AC_SINCE, AC_N };
static const struct cli_col alerts__active_cols[AC_N] = {
    [AC_STATE] = {"STATE", 7, 0},      [AC_SEV] = {"SEV", 4, 0},
    [AC_RULE] = {"RULE", 14, 0},       [AC_TENANT] = {"TENANT", 10, 0},
    [AC_SCOPE] = {"SCOPE", 16, 0},     [AC_VALUE] = {"VALUE", 7, 1},
    [AC_THRESH] = {"THRESH", 7, 1},    [AC_NUMDEN] = {"NUM/DEN", 11, 1},
    [AC_WIN] = {"WIN", 4, 0},          [AC_SINCE] = {"SINCE UTC", 11, 0},
};
enum { DC_DIED, DC_RECEIVER, DC_TENANT, DC_REASON, DC_ATTEMPTS, DC_KEY, DC_N };
static const struct cli_col alerts__dead_cols[DC_N] = {
    [DC_DIED] = {"DIED UTC", 14, 0},   [DC_RECEIVER] = {"RECEIVER", 16, 0},
    [DC_TENANT] = {"TENANT", 14, 0},   [DC_REASON] = {"REASON", 16, 0},
    [DC_ATTEMPTS] = {"ATTEMPTS", 8, 1}, [DC_KEY] = {"IDEMPOTENCY-KEY", 27, 0},
};

/* A number that passed its column: rounded, keeping its '%' or 'x'. */
static void alerts__num_fit(char *buf, size_t n, unsigned width)
{
    size_t len = strlen(buf);
    char *end;
    double v = strtod(buf, &end);
    if (len <= width || end == buf)
        return;
    char unit[2] = {*end == '%' || *end == 'x' ? *end : '\0', '\0'};
    snprintf(buf, n, "%.0f%s", v, unit);
    if (strlen(buf) > width && v < 9.2e18 && v > -9.2e18) {
        cli_table_count((int64_t)v, width - (unit[0] != '\0'), buf, n);
        strncat(buf, unit, n - strlen(buf) - 1);
    }
}

/* "NUM/DEN", each side as a compact count when the whole passes `width`. */
static void alerts__num_den(json_t *an, char *out, size_t n, unsigned width)
{
    const char *num = alerts__str(an, "numerator", "-"), *den = alerts__str(an, "denominator", "-");
    snprintf(out, n, "%s/%s", num, den);
    int64_t a, b;
    if (strlen(out) <= width || cli_parse_i64(num, INT64_MIN, INT64_MAX, &a) != MP_OK ||
        cli_parse_i64(den, INT64_MIN, INT64_MAX, &b) != MP_OK)
        return;
    char l[32], r[32];
    cli_table_count(a, (width - 1) / 2, l, sizeof(l));
    cli_table_count(b, (width - 1) / 2, r, sizeof(r));
    snprintf(out, n, "%s/%s", l, r);
}

/* The severities people use, in four letters; others as they are (cut). */
static const char *alerts__sev(const char *s)
{
    return strcmp(s, "critical") == 0 ? "crit" : strcmp(s, "warning") == 0 ? "warn" : s;
}

/* One row per pending or firing alert (NULL: the header). SCOPE is
 * "(tenant)", the mailbox, or "to:" and the recipient domain. */
static void alerts__active_row(FILE *f, json_t *a)
{
    if (!a) {
        cli_table_row(f, "", alerts__active_cols, AC_N, NULL);
        return;
    }
    json_t *l = json_object_get(a, "labels"), *an = json_object_get(a, "annotations");
    const char *mb = alerts__str(l, "mailbox", NULL), *dom = alerts__str(l, "recipient_domain", NULL);
    char val[32], thr[32], nd[96], scope[CLI_TABLE_CELL], since[64];
    alerts__value(an, "value", val, sizeof(val));
    alerts__value(an, "threshold", thr, sizeof(thr));
    alerts__num_fit(val, sizeof(val), alerts__active_cols[AC_VALUE].width);
    alerts__num_fit(thr, sizeof(thr), alerts__active_cols[AC_THRESH].width);
    alerts__num_den(an, nd, sizeof(nd), alerts__active_cols[AC_NUMDEN].width);
    snprintf(scope, sizeof(scope), "%s%.200s", dom && !mb ? "to:" : "",
             mb ? mb : dom ? dom : "(tenant)");
    cli_table_time(alerts__str(a, "startsAt", "-"), 0, since, sizeof(since));
    const char *cells[AC_N] = {
        [AC_STATE] = alerts__str(a, "status", "-"),
        [AC_SEV] = alerts__sev(alerts__str(l, "severity", "-")),
        [AC_RULE] = alerts__str(l, "rule", alerts__str(l, "alertname", "-")),
        [AC_TENANT] = alerts__str(l, "tenant", "-"),
        [AC_SCOPE] = scope,
        [AC_VALUE] = val,
        [AC_THRESH] = thr,
        [AC_NUMDEN] = nd,
        [AC_WIN] = alerts__str(an, "window", "-"),
        [AC_SINCE] = since,
    };
    cli_table_row(f, "", alerts__active_cols, AC_N, cells);
}

/* One row per dead letter (NULL: the header). */
static void alerts__dead_row(FILE *f, json_t *d)
{
    if (!d) {
        cli_table_row(f, "", alerts__dead_cols, DC_N, NULL);
        return;
    }
    char attempts[24], died[64];
    cli_table_count(json_integer_value(json_object_get(d, "attempts")), 8, attempts,
                    sizeof(attempts));
    cli_table_time(alerts__str(d, "died", "-"), 1, died, sizeof(died));
    const char *cells[DC_N] = {
        [DC_DIED] = died,
        [DC_RECEIVER] = alerts__str(d, "receiver", "-"),
        [DC_TENANT] = alerts__str(d, "tenant", "-"),
        [DC_REASON] = alerts__str(d, "reason", "-"),
        [DC_ATTEMPTS] = attempts,
        [DC_KEY] = alerts__str(d, "idempotency_key", "-"),
    };
    cli_table_row(f, "", alerts__dead_cols, DC_N, cells);
}

/* The array under `key` of a body as a table: `none` when it is empty,
 * else the header and one row per element. MP_ERR_PARSE (nothing printed)
 * for a body of another shape. */
static int alerts__table(FILE *f, const char *body, const char *key, const char *none,
                         void (*row)(FILE *f, json_t *item))
{
    json_t *root = json_loads(body, 0, NULL);
    json_t *list = json_object_get(root, key);
    int rc = json_is_array(list) ? MP_OK : MP_ERR_PARSE;
    if (rc == MP_OK && json_array_size(list) == 0) {
        fprintf(f, "%s\n", none);
    } else if (rc == MP_OK) {
        size_t i;
        json_t *item;
        row(f, NULL);
        json_array_foreach(list, i, item)
            row(f, item);
    }
    json_decref(root);
    return rc;
}

int cli_alerts_print(FILE *f, const char *body)
{
    return alerts__table(f, body, "alerts", "no pending or firing alerts", alerts__active_row);
}

int cli_alerts_print_dead(FILE *f, const char *body)
{
    return alerts__table(f, body, "dead", "no dead letters", alerts__dead_row);
}

/* ---- the command ---------------------------------------------------------- */

enum alerts_opt { ALERTS_TENANT, ALERTS_DEAD, ALERTS_LIMIT, ALERTS_API, ALERTS_TIMEOUT_MS,
                  ALERTS_JSON, ALERTS_TOKEN };

static const struct cli_opt alerts__opts[] = {
    [ALERTS_TENANT] = {"tenant", "T", "only this tenant's alerts"},
    [ALERTS_DEAD] = {"dead", NULL, "list dead letters (notifications given up on) instead"},
    [ALERTS_LIMIT] = {"limit", "N", "with --dead: at most N, 1..999999 (default 1000)"},
    CLI_API_OPT_ROWS(ALERTS_API, ALERTS_TIMEOUT_MS, ALERTS_JSON, ALERTS_TOKEN),
};

static const char alerts__usage[] =
    "usage: mailpulse alerts [--tenant T] [--dead [--limit N]] [--api URL]\n"
    "                        [--timeout-ms MS] [--json] [--token TOKEN]\n"
    "\n"
    "Prints the pending and firing alerts (GET /v1/alerts): state, severity,\n"
    "rule, tenant, scope ((tenant), the mailbox, or to:DOMAIN), value against\n"
    "threshold, numerator/denominator, window, and since when (UTC). With\n"
    "--dead, the notifications the outbox gave up on (GET /v1/alerts/dead): a\n"
    "receiver's 4xx, or too old. The table fits 100 columns: long names are\n"
    "cut in the middle (\"acme-news...example\"), numbers are right-aligned;\n"
    "--json prints the API's body as is, every field whole.\n" CLI_API_EXIT_STATUS;

static int alerts__run(const struct cli_cmd *cmd, int argc, char **argv)
{
    struct cli_api_opts o = CLI_API_OPTS_INIT;
    int64_t limit = 0;
    int dead = 0;
    struct cli_args a = CLI_ARGS(cmd, argc, argv);
    int rc;
    while ((rc = cli_api_next(&a, &o)) == MP_OK) {
        switch ((enum alerts_opt)a.idx) {
        case ALERTS_DEAD: dead = 1; break;
        case ALERTS_LIMIT:
            if ((rc = cli_arg_i64(&a, 1, 999999, &limit)) != MP_OK)
                return rc;
            break;
        default: break; /* --help and the shared options: cli_api_next() */
        }
    }
    if (rc != MP_ERR_NOTFOUND)
        return rc == CLI_HELP ? MP_OK : rc;
    if (limit && !dead)
        return cli_usage_error(cmd, "--limit goes with --dead");

    char *url = NULL;
    rc = cli_alerts_url(o.api, o.tenant, dead, (long)limit, &url);
    return cli_api_show(cmd, rc, url, &o, dead ? cli_alerts_print_dead : cli_alerts_print,
                        "alerts JSON");
}

const struct cli_cmd cli_alerts_cmd = {
    "alerts", "list pending and firing alerts, or dead letters, from the daemon", alerts__usage,
    alerts__opts, MP_ARRAY_LEN(alerts__opts), alerts__run};
