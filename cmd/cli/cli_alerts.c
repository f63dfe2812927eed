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

/* The array under `key` of a body, in *root (a new reference) and *list.
 * MP_OK with rows to print; MP_ERR_NOTFOUND when it is empty (`none` was
 * printed); MP_ERR_PARSE for a body of another shape. */
static int alerts__list(FILE *f, const char *body, const char *key, const char *none,
                        json_t **root, json_t **list)
{
    *root = json_loads(body, 0, NULL);
    *list = json_object_get(*root, key);
    if (!json_is_array(*list))
        return MP_ERR_PARSE;
    if (json_array_size(*list) == 0) {
        fprintf(f, "%s\n", none);
        return MP_ERR_NOTFOUND;
    }
    return MP_OK;
}

int cli_alerts_print(FILE *f, const char *body)
{
    json_t *root, *list;
    int rc = alerts__list(f, body, "alerts", "no pending or firing alerts", &root, &list);
    if (rc != MP_OK) {
        json_decref(root);
        return rc == MP_ERR_NOTFOUND ? MP_OK : rc;
    }
    fprintf(f, "%-8s %-8s %-22s %-20s %-16s %-28s %9s %9s %8s %6s  %s\n", "STATE", "SEVERITY",
            "RULE", "TENANT", "SCOPE", "NAME", "VALUE", "THRESHOLD", "NUM/DEN", "WINDOW",
            "SINCE");
    size_t i;
    json_t *a;
    json_array_foreach(list, i, a)
    {
        json_t *l = json_object_get(a, "labels"), *an = json_object_get(a, "annotations");
        const char *mb = alerts__str(l, "mailbox", NULL), *dom = alerts__str(l, "recipient_domain", NULL);
        char val[32], thr[32], nd[48];
        alerts__value(an, "value", val, sizeof(val));
        alerts__value(an, "threshold", thr, sizeof(thr));
        snprintf(nd, sizeof(nd), "%s/%s", alerts__str(an, "numerator", "-"),
                 alerts__str(an, "denominator", "-"));
        fprintf(f, "%-8s %-8s %-22s %-20s %-16s %-28s %9s %9s %8s %6s  %s\n",
                alerts__str(a, "status", "-"), alerts__str(l, "severity", "-"),
                alerts__str(l, "rule", alerts__str(l, "alertname", "-")),
                alerts__str(l, "tenant", "-"), mb ? "mailbox" : dom ? "recipient_domain" : "tenant",
                mb ? mb : dom ? dom : "-", val, thr, nd, alerts__str(an, "window", "-"),
                alerts__str(a, "startsAt", "-"));
    }
    json_decref(root);
    return MP_OK;
}

int cli_alerts_print_dead(FILE *f, const char *body)
{
    json_t *root, *list;
    int rc = alerts__list(f, body, "dead", "no dead letters", &root, &list);
    if (rc != MP_OK) {
        json_decref(root);
        return rc == MP_ERR_NOTFOUND ? MP_OK : rc;
    }
    fprintf(f, "%-24s %-20s %-20s %-18s %8s  %s\n", "DIED", "RECEIVER", "TENANT", "REASON",
            "ATTEMPTS", "IDEMPOTENCY-KEY");
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d)
    {
        fprintf(f, "%-24s %-20s %-20s %-18s %8lld  %s\n", alerts__str(d, "died", "-"),
                alerts__str(d, "receiver", "-"), alerts__str(d, "tenant", "-"),
                alerts__str(d, "reason", "-"),
                (long long)json_integer_value(json_object_get(d, "attempts")),
                alerts__str(d, "idempotency_key", "-"));
    }
    json_decref(root);
    return MP_OK;
}

/* ---- the command ---------------------------------------------------------- */

enum alerts_opt { ALERTS_TENANT, ALERTS_DEAD, ALERTS_LIMIT, ALERTS_API, ALERTS_TIMEOUT_MS,
                  ALERTS_JSON, ALERTS_HELP };

static const struct cli_opt alerts__opts[] = {
    [ALERTS_TENANT] = {"tenant", "T", "only this tenant's alerts"},
    [ALERTS_DEAD] = {"dead", NULL, "list dead letters (notifications given up on) instead"},
    [ALERTS_LIMIT] = {"limit", "N", "with --dead: at most N, 1..999999 (default 1000)"},
    [ALERTS_API] = {"api", "URL", "the daemon's HTTP API (default " CLI_API_DEFAULT ")"},
    [ALERTS_TIMEOUT_MS] = {"timeout-ms", "MS", "give up after MS ms, 1..3600000 (default 5000)"},
    [ALERTS_JSON] = {"json", NULL, "print the API's JSON body as is"},
    [ALERTS_HELP] = {"help", NULL, "show this help"},
};

static const char alerts__usage[] =
    "usage: mailpulse alerts [--tenant T] [--dead [--limit N]] [--api URL]\n"
    "                        [--timeout-ms MS] [--json]\n"
    "\n"
    "Prints the pending and firing alerts (GET /v1/alerts): state, severity,\n"
    "rule, tenant, scope and name, value against threshold, numerator and\n"
    "denominator, window, and since when. With --dead, the notifications the\n"
    "outbox gave up on (GET /v1/alerts/dead): a receiver's 4xx, or too old.\n"
    "Exit status: 0 printed, 1 the daemon could not be reached or refused the\n"
    "request, 2 bad usage.\n";

static int alerts__run(const struct cli_cmd *cmd, int argc, char **argv)
{
    const char *tenant = NULL, *api = CLI_API_DEFAULT;
    int64_t limit = 0, timeout_ms = 5000;
    int json = 0, dead = 0;
    struct cli_args a = {cmd, argc, argv, 1};
    size_t idx;
    const char *val;
    int rc;
    while ((rc = cli_next(&a, &idx, &val)) == MP_OK) {
        const struct cli_opt *opt = &cmd->opts[idx];
        switch ((enum alerts_opt)idx) {
        case ALERTS_TENANT:
            if ((rc = cli_opt_tenant(cmd, val, &tenant)) != MP_OK)
                return rc;
            break;
        case ALERTS_DEAD: dead = 1; break;
        case ALERTS_LIMIT:
            if ((rc = cli_opt_i64(cmd, opt, val, 1, 999999, &limit)) != MP_OK)
                return rc;
            break;
        case ALERTS_API:
            if ((rc = cli_opt_api(cmd, val, &api)) != MP_OK)
                return rc;
            break;
        case ALERTS_TIMEOUT_MS:
            if ((rc = cli_opt_i64(cmd, opt, val, 1, CLI_MAX_TIMEOUT_MS, &timeout_ms)) != MP_OK)
                return rc;
            break;
        case ALERTS_JSON: json = 1; break;
        case ALERTS_HELP: cli_print_help(cmd, stdout); return MP_OK;
        }
    }
    if (rc != MP_ERR_NOTFOUND)
        return rc;
    if (limit && !dead)
        return cli_usage_error(cmd, "--limit goes with --dead");

    char *url = NULL;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if ((rc = cli_alerts_url(api, tenant, dead, (long)limit, &url)) != MP_OK)
        cli_fail(cmd, "out of memory");
    else
        rc = cli_api_show(cmd, url, timeout_ms, json,
                          dead ? cli_alerts_print_dead : cli_alerts_print, "alerts JSON");
    free(url);
    curl_global_cleanup();
    return rc;
}

const struct cli_cmd cli_alerts_cmd = {
    "alerts", "list pending and firing alerts, or dead letters, from the daemon", alerts__usage,
    alerts__opts, MP_ARRAY_LEN(alerts__opts), alerts__run};
