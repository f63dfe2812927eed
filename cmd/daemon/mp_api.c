/* mp_api.c — the daemon's HTTP routes and handlers (see mp_api.h). */
#include "mp_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_eval.h"
#include "alert_sender.h"
#include "eng_name.h"
#include "mp_stats.h"

/* A handler's JSON body from the alert side: 200, or 500 without memory. */
static void api__json(char *body, struct mp_http_reply *out)
{
    out->body = body;
    out->status = body ? 200 : 500;
    out->content_type = "application/json";
    out->len = body ? strlen(body) : 0;
}

static void api__healthz(void *arg, const char *path, struct mp_http_reply *out)
{
    MP_UNUSED(arg);
    MP_UNUSED(path);
    api__json(strdup("{\"status\":\"ok\"}"), out);
}

static void api__metrics(void *arg, const char *path, struct mp_http_reply *out)
{
    MP_UNUSED(path);
    mp_metrics_reply(arg, out);
}

/* GET /v1/tenants/{tenant}/stats: the table is read lock-free (mp_stats.h). */
static void api__stats(void *arg, const struct mp_http_request *req, struct mp_http_reply *out)
{
    const struct mp_metrics_sources *src = arg;
    mp_stats_reply(src->table, req, out);
}

/* Checks the query of /v1/alerts[/dead]: tenant=T (a valid tenant name) and,
 * where allowed, limit=N. Returns 0, or answers 400 and returns -1. */
static int api__alert_args(const struct mp_http_request *req, int allow_limit,
                           const char **tenant, size_t *limit, struct mp_http_reply *out)
{
    char msg[256];
    *tenant = NULL;
    *limit = 0;
    for (size_t i = 0; i < req->nargs; i++) {
        const char *n = req->args[i].name, *v = req->args[i].value;
        if (strcmp(n, "tenant") == 0 && v && !*tenant && eng_name_valid(v, strlen(v))) {
            *tenant = v;
        } else if (allow_limit && strcmp(n, "limit") == 0 && v && *v &&
                   strspn(v, "0123456789") == strlen(v) && strlen(v) <= 6 && !*limit &&
                   atol(v) > 0) {
            *limit = (size_t)atol(v);
        } else {
            snprintf(msg, sizeof(msg),
                     "bad or repeated query parameter \"%.64s\"; allowed: tenant=NAME (1..64 of "
                     "A-Z a-z 0-9 . _ -)%s",
                     n, allow_limit ? ", limit=1..999999" : "");
            mp_http_error(out, 400, msg);
            return -1;
        }
    }
    return 0;
}

/* GET /v1/alerts[?tenant=T]: pending and firing alerts. The route is exact,
 * so mp_http answers 404 for anything below /v1/alerts but /dead. */
static void api__alerts(void *arg, const struct mp_http_request *req, struct mp_http_reply *out)
{
    const struct mp_metrics_sources *src = arg;
    const char *tenant;
    size_t limit;
    if (api__alert_args(req, 0, &tenant, &limit, out) == 0)
        api__json(alert_eval_active_json(src->eval, tenant), out);
}

/* GET /v1/alerts/dead[?tenant=T][&limit=N]: notifications given up on. */
static void api__dead(void *arg, const struct mp_http_request *req, struct mp_http_reply *out)
{
    const struct mp_metrics_sources *src = arg;
    const char *tenant;
    size_t limit;
    if (api__alert_args(req, 1, &tenant, &limit, out) == 0)
        api__json(alert_sender_dead_json(src->sender, tenant, limit ? limit : 1000), out);
}

static const struct mp_http_route api__routes[] = {
    {"GET", "/healthz", api__healthz, 0, NULL},
    {"GET", "/metrics", api__metrics, 0, NULL},
    {"GET", MP_STATS_PREFIX, NULL, MP_HTTP_PREFIX, api__stats},
    {"GET", "/v1/alerts/dead", NULL, 0, api__dead},
    {"GET", "/v1/alerts", NULL, 0, api__alerts},
};

int mp_api_start(const char *listen, const struct mp_metrics_sources *src, struct mp_http **out,
                 char *err, size_t errlen)
{
    /* The handlers only read through src; mp_http passes its arg as void *. */
    return mp_http_start(listen, api__routes, MP_ARRAY_LEN(api__routes), (void *)src, out, err,
                         errlen);
}
