/* cli_alerts.c — client side of the alerts API (see cli_alerts.h). */
#include "cli_alerts.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cli_api.h"
#include "cli_opt.h"
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
    const char *v = alerts__str(an, key, "-");
    const char *kind = alerts__str(an, "kind", "ratio");
    if (strcmp(v, "-") != 0 && (strcmp(kind, "ratio") == 0 || strcmp(kind, "drop") == 0 ||
                                strcmp(kind, "trend") == 0))
        snprintf(out, n, "%.2f%%", strtod(v, NULL) * 100.0);
    else if (strcmp(v, "-") != 0 && strcmp(kind, "spike") == 0)
        snprintf(out, n, "%sx", v);
    else
        snprintf(out, n, "%s", v);
}

#define ALERTS__ACTIVE_ROW "%-8s %-8s %-22s %-20s %-16s %-28s %9s %9s %8s %6s  %s\n"
#define ALERTS__DEAD_ROW "%-24s %-20s %-20s %-18s %8s  %s\n"

/* One row per pending or firing alert (NULL: the header). */
static void alerts__active_row(FILE *f, json_t *a)
{
    if (!a) {
        fprintf(f, ALERTS__ACTIVE_ROW, "STATE", "SEVERITY", "RULE", "TENANT", "SCOPE", "NAME",
                "VALUE", "THRESHOLD", "NUM/DEN", "WINDOW", "SINCE");
        return;
    }
    json_t *l = json_object_get(a, "labels"), *an = json_object_get(a, "annotations");
    const char *mb = alerts__str(l, "mailbox", NULL), *dom = alerts__str(l, "recipient_domain", NULL);
    char val[32], thr[32], nd[48];
    alerts__value(an, "value", val, sizeof(val));
    alerts__value(an, "threshold", thr, sizeof(thr));
    snprintf(nd, sizeof(nd), "%s/%s", alerts__str(an, "numerator", "-"),
             alerts__str(an, "denominator", "-"));
    fprintf(f, ALERTS__ACTIVE_ROW, alerts__str(a, "status", "-"), alerts__str(l, "severity", "-"),
            alerts__str(l, "rule", alerts__str(l, "alertname", "-")), alerts__str(l, "tenant", "-"),
            mb ? "mailbox" : dom ? "recipient_domain" : "tenant", mb ? mb : dom ? dom : "-", val,
            thr, nd, alerts__str(an, "window", "-"), alerts__str(a, "startsAt", "-"));
}

/* One row per dead letter (NULL: the header). */
static void alerts__dead_row(FILE *f, json_t *d)
{
    if (!d) {
        fprintf(f, ALERTS__DEAD_ROW, "DIED", "RECEIVER", "TENANT", "REASON", "ATTEMPTS",
                "IDEMPOTENCY-KEY");
        return;
    }
    char attempts[24];
    snprintf(attempts, sizeof(attempts), "%lld",
             (long long)json_integer_value(json_object_get(d, "attempts")));
    fprintf(f, ALERTS__DEAD_ROW, alerts__str(d, "died", "-"), alerts__str(d, "receiver", "-"),
            alerts__str(d, "tenant", "-"), alerts__str(d, "reason", "-"), attempts,
            alerts__str(d, "idempotency_key", "-"));
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
                  ALERTS_JSON, ALERTS_TOKEN, ALERTS_HELP };

static const struct cli_opt alerts__opts[] = {
    [ALERTS_TENANT] = {"tenant", "T", "only this tenant's alerts"},
    [ALERTS_DEAD] = {"dead", NULL, "list dead letters (notifications given up on) instead"},
    [ALERTS_LIMIT] = {"limit", "N", "with --dead: at most N, 1..999999 (default 1000)"},
    CLI_API_OPT_ROWS(ALERTS_API, ALERTS_TIMEOUT_MS, ALERTS_JSON),
    CLI_API_TOKEN_ROW(ALERTS_TOKEN),
    [ALERTS_HELP] = CLI_OPT_HELP,
};

static const char alerts__usage[] =
    "usage: mailpulse alerts [--tenant T] [--dead [--limit N]] [--api URL]\n"
    "                        [--timeout-ms MS] [--json] [--token TOKEN]\n"
    "\n"
    "Prints the pending and firing alerts (GET /v1/alerts): state, severity,\n"
    "rule, tenant, scope and name, value against threshold, numerator and\n"
    "denominator, window, and since when. With --dead, the notifications the\n"
    "outbox gave up on (GET /v1/alerts/dead): a receiver's 4xx, or too old.\n"
    "Exit status: 0 printed, 1 the daemon could not be reached or refused the\n"
    "request, 2 bad usage.\n";

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
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cli_alerts_url(o.api, o.tenant, dead, (long)limit, &url);
    rc = cli_api_show(cmd, rc, url, &o, dead ? cli_alerts_print_dead : cli_alerts_print,
                      "alerts JSON");
    curl_global_cleanup();
    return rc;
}

const struct cli_cmd cli_alerts_cmd = {
    "alerts", "list pending and firing alerts, or dead letters, from the daemon", alerts__usage,
    alerts__opts, MP_ARRAY_LEN(alerts__opts), alerts__run};
