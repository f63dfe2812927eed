/* mp_api.c — the daemon's HTTP routes and handlers (see mp_api.h). */
#include "mp_api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "alert_eval.h"
#include "alert_sender.h"
#include "mp_adapters.h"
#include "mp_config.h"
#include "mp_amapi.h"
#include "eng_name.h"
#include "mp_addr.h"
#include "mp_auth.h"
#include "alert_history.h"
#include "mp_alert_history.h"
#include "mp_dmarc.h"
#include "mp_dnsbl_status.h"
#include "mp_gate.h"
#include "mp_log.h"
#include "mp_scrape.h"
#include "mp_series.h"
#include "mp_stats.h"
#include "mp_tenants.h"
#include "mp_ui.h"

struct mp_api {
    struct mp_http *http;
    const struct mp_metrics_sources *src;
    const struct mp_auth *auth;
    struct mp_adapters *adapters; /* NULL: no adapters: configured */
    struct mp_dmarc *dmarc;       /* NULL: no store (POST /v1/dmarc answers 503) */
};

/* Who may call a route: anyone; the admin (anyone with metrics_open); a
 * token of any kind, scoped to its tenant; the admin only. */
enum api__class { API__OPEN, API__METRICS, API__TENANT, API__ADMIN };

/* A handler's JSON body from the alert side: 200, or 500 without memory. */
static void api__json(char *body, struct mp_http_reply *out)
{
    out->body = body;
    out->status = body ? 200 : 500;
    out->content_type = "application/json";
    out->len = body ? strlen(body) : 0;
}

/* Judges the caller before anything else (so a caller without a token
 * learns nothing from 400s either): 0 with *only the one tenant the caller
 * may see (NULL: every tenant), or -1 after answering 401 (no or unknown
 * token) or 403 (a tenant token on /metrics). Tokens are never echoed. */
static int api__gate(const struct mp_api *api, enum api__class cls,
                     const struct mp_http_request *req, const char **only,
                     struct mp_http_reply *out)
{
    struct mp_auth_who who;
    *only = NULL;
    if (cls == API__OPEN || (cls == API__METRICS && mp_auth_metrics_open(api->auth)))
        return 0;
    const char *h = mp_http_header(req, "Authorization");
    mp_auth_check(api->auth, h, &who);
    if (who.role == MP_AUTH_DENIED) {
        mp_http_error(out, 401,
                      h ? "unknown token; send Authorization: Bearer <token>"
                        : "this API needs a token: Authorization: Bearer <token>");
        return -1;
    }
    if (cls == API__METRICS && who.role != MP_AUTH_ADMIN) {
        mp_http_error(out, 403, "/metrics needs the admin token (or http.metrics_open: true)");
        return -1;
    }
    if (cls == API__ADMIN && who.role != MP_AUTH_ADMIN) {
        mp_http_error(out, 403, "this route needs the admin token");
        return -1;
    }
    *only = who.tenant;
    return 0;
}

static void api__healthz(void *arg, const struct mp_http_request *req, struct mp_http_reply *out)
{
    MP_UNUSED(arg);
    MP_UNUSED(req);
    api__json(strdup("{\"status\":\"ok\"}"), out);
}

static void api__metrics(void *arg, const struct mp_http_request *req, struct mp_http_reply *out)
{
    const struct mp_api *api = arg;
    const char *only;
    if (api__gate(api, API__METRICS, req, &only, out) != 0)
        return;
    mp_metrics_reply(api->src, out);
    struct mp_buf b = {out->body, out->len, out->len + 1}; /* mp_metrics: a NUL-ended buffer */
    if (out->status == 200 && (api->adapters || api->dmarc) &&
        mp_adapters_metrics(api->adapters, &b) == MP_OK &&
        mp_dmarc_metrics(api->dmarc, &b) == MP_OK) {
        out->body = b.p;
        out->len = b.len;
    } else if (out->status == 200 && (api->adapters || api->dmarc)) {
        mp_buf_free(&b);
        *out = (struct mp_http_reply){0};
        mp_http_error(out, 500, "out of memory");
    }
}

/* POST /hooks/...: an ESP's webhook (mp_adapters.h); its own credentials,
 * never the API's tokens (the services cannot send a Bearer token). */
static void api__hooks(void *arg, const struct mp_http_request *req, struct mp_http_reply *out)
{
    const struct mp_api *api = arg;
    mp_adapters_reply(api->adapters, req, out);
}

/* GET /v1/tenants/{tenant}/stats, /series and /metrics: the table is read
 * lock-free (mp_stats.h, mp_series.h, mp_scrape.h); /dmarc (mp_dmarc.h);
 * /alerts/history, past alerts from the alerts store (mp_alert_history.h);
 * /blocklists, the blocklist checker's status (mp_dnsbl_status.h, without a
 * checker "configured": false). A tenant token's other tenants are answered
 * as never counted. The last path segment picks the route; any other is the
 * stats route's 404. */
static void api__stats(void *arg, const struct mp_http_request *req, struct mp_http_reply *out)
{
    const struct mp_api *api = arg;
    const char *only, *last = strrchr(req->path, '/');
    if (api__gate(api, API__TENANT, req, &only, out) != 0)
        return;
    size_t pl = strlen(req->path), hl = strlen("/" MP_ALERT_HISTORY_ROUTE);
    if (pl > hl && strcmp(req->path + pl - hl, "/" MP_ALERT_HISTORY_ROUTE) == 0) {
        const struct mp_config *c = api->src->cfg;
        mp_alert_history_reply(api->src->astore, api->src->silences, req, only,
                               c && c->retention_ms ? c->retention_ms
                                                    : ALERT_HISTORY_RETENTION_MS_DEFAULT,
                               out);
    } else if (last && strcmp(last + 1, MP_SERIES_ROUTE) == 0) {
        mp_series_reply_only(api->src->table, req, only, out);
    } else if (last && strcmp(last + 1, MP_SCRAPE_ROUTE) == 0) {
        mp_scrape_reply_only(api->src->table, req, only, out);
        if (api->dmarc)
            mp_dmarc_scrape(api->dmarc, only, req, out);
    } else if (last && strcmp(last + 1, MP_DMARC_STATS_ROUTE) == 0 && api->dmarc) {
        mp_dmarc_stats(api->dmarc, only, req, out);
    } else if (last && strcmp(last + 1, MP_DNSBL_STATUS_ROUTE) == 0) {
        mp_dnsbl_status_reply(api->src->dnsbl, only, req, out);
    } else
        mp_stats_reply_only(api->src->table, req, only, out);
}

/* GET /v1/tenants: the tenants the caller may see (mp_tenants.h): every
 * one for the admin, a tenant token's own alone. */
static void api__tenants(void *arg, const struct mp_http_request *req,
                         struct mp_http_reply *out)
{
    const struct mp_api *api = arg;
    const char *only;
    if (api__gate(api, API__TENANT, req, &only, out) == 0)
        mp_tenants_reply(api->src->table, req, only, out);
}

/* The gate of /v1/alerts[/dead] (a tenant's token or an admin's), then
 * its query: tenant=T (a valid tenant name) and, where allowed, limit=N;
 * with a tenant token T defaults to its tenant and must be it. Returns 0,
 * or answers 401/403 (the gate), 400 or 404 and returns -1. */
static int api__alert_args(const struct mp_api *api, const struct mp_http_request *req,
                           int allow_limit, const char **tenant, size_t *limit,
                           struct mp_http_reply *out)
{
    char msg[256];
    const char *only;
    unsigned long lim;
    if (api__gate(api, API__TENANT, req, &only, out) != 0)
        return -1;
    *tenant = NULL;
    *limit = 0;
    for (size_t i = 0; i < req->nargs; i++) {
        const char *n = req->args[i].name, *v = req->args[i].value;
        if (strcmp(n, "tenant") == 0 && v && !*tenant && eng_name_valid(v, strlen(v))) {
            *tenant = v;
        } else if (allow_limit && strcmp(n, "limit") == 0 && v && !*limit &&
                   mp_stats_limit(v, 999999, &lim) == 0) {
            *limit = lim;
        } else {
            snprintf(msg, sizeof(msg),
                     "bad or repeated query parameter \"%.64s\"; allowed: tenant=NAME (1..64 of "
                     "A-Z a-z 0-9 . _ -)%s",
                     n, allow_limit ? ", limit=1..999999" : "");
            mp_http_error(out, 400, msg);
            return -1;
        }
    }
    /* A tenant token lists its own tenant; any other is answered 404, the
     * same for one that exists and one that does not. */
    if (only && !*tenant)
        *tenant = only;
    if (only && strcmp(*tenant, only) != 0) {
        snprintf(msg, sizeof(msg), MP_STATS_UNKNOWN_TENANT, *tenant);
        mp_http_error(out, 404, msg);
        return -1;
    }
    return 0;
}

/* GET /v1/alerts[?tenant=T]: pending and firing alerts; GET
 * /v1/rules[?tenant=T]: the rules in force for a tenant (its overrides
 * applied), for the web UI's threshold lines. The same tenant rule for both
 * (a tenant token: its own tenant; another: the unknown tenant's 404). The
 * routes are exact, so mp_http answers 404 for anything below /v1/alerts
 * but /dead. */
static void api__alerts(void *arg, const struct mp_http_request *req, struct mp_http_reply *out)
{
    const struct mp_api *api = arg;
    const char *tenant;
    size_t limit;
    if (api__alert_args(api, req, 0, &tenant, &limit, out) != 0)
        return;
    if (strcmp(req->path, "/v1/rules") == 0)
        api__json(alert_eval_rules_json(api->src->eval, tenant), out);
    else
        api__json(alert_eval_active_json(api->src->eval, tenant), out);
}

/* GET /ui, /ui/...: the web UI's compiled-in files (mp_ui.h), public like
 * /healthz: they hold no data; every figure the page shows comes from the
 * routes above, with the viewer's token. */
static void api__ui(void *arg, const struct mp_http_request *req, struct mp_http_reply *out)
{
    MP_UNUSED(arg);
    mp_ui_reply(req->path, mp_http_header(req, "If-None-Match"), out);
}

/* GET /v1/alerts/dead[?tenant=T][&limit=N]: notifications given up on. */
static void api__dead(void *arg, const struct mp_http_request *req, struct mp_http_reply *out)
{
    const struct mp_api *api = arg;
    const char *tenant;
    size_t limit;
    if (api__alert_args(api, req, 1, &tenant, &limit, out) == 0)
        api__json(alert_sender_dead_json(api->src->sender, tenant, limit ? limit : 1000), out);
}

/* The checkpoint's name: ?name=NAME (eng_name.h grammar, so it is one path
 * component), else the UTC time. 0, or -1 after answering 400. */
static int api__checkpoint_name(const struct mp_http_request *req, char *name, size_t n,
                                struct mp_http_reply *out)
{
    name[0] = '\0';
    for (size_t i = 0; i < req->nargs; i++) {
        const char *v = req->args[i].value;
        if (strcmp(req->args[i].name, "name") != 0 || !v || name[0] ||
            !eng_name_valid(v, strlen(v)) || strcmp(v, ".") == 0 || strcmp(v, "..") == 0) {
            mp_http_error(out, 400,
                          "bad or repeated query parameter; allowed: name=NAME (1..64 of "
                          "A-Z a-z 0-9 . _ -, not . or ..)");
            return -1;
        }
        snprintf(name, n, "%s", v);
    }
    if (name[0] == '\0') {
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(name, n, "%Y%m%dT%H%M%SZ", &tm);
    }
    return 0;
}

/* POST /v1/admin/checkpoint[?name=NAME]: both stores checkpointed into
 * data_dir/checkpoints/NAME, inside the data dir because that is the one
 * place the daemon may write under its systemd unit, and because RocksDB
 * then hard-links its table files instead of copying them. */
static void api__checkpoint(void *arg, const struct mp_http_request *req,
                            struct mp_http_reply *out)
{
    const struct mp_api *api = arg;
    const struct mp_metrics_sources *src = api->src;
    const char *only;
    char name[72], path[4096], sub[4200], why[1024] = "", msg[1200];
    if (api__gate(api, API__ADMIN, req, &only, out) != 0 ||
        api__checkpoint_name(req, name, sizeof(name), out) != 0)
        return;
    if (!src->store || !src->astore || !src->data_dir) {
        mp_http_error(out, 503, "no store to checkpoint");
        return;
    }
    snprintf(path, sizeof(path), "%s/checkpoints", src->data_dir);
    if (mkdir(path, 0750) != 0 && errno != EEXIST) {
        snprintf(why, sizeof(why), "mkdir %.1000s: %s", path, strerror(errno));
    } else {
        snprintf(path, sizeof(path), "%s/checkpoints/%s", src->data_dir, name);
        if (mkdir(path, 0750) != 0) {
            int e = errno;
            snprintf(msg, sizeof(msg), "checkpoint %s: %s", name,
                     e == EEXIST ? "exists; choose another name" : strerror(e));
            mp_http_error(out, e == EEXIST ? 409 : 500, msg);
            return;
        }
        /* The journal before the counters: an entry the journal's copy
         * lacks was deleted after a flush the counters' copy then holds. */
        snprintf(sub, sizeof(sub), "%s/journal", path);
        int rc = src->jstore ? eng_store_checkpoint(src->jstore, sub, why, sizeof(why)) : MP_OK;
        snprintf(sub, sizeof(sub), "%s/db", path);
        if (rc == MP_OK && eng_store_checkpoint(src->store, sub, why, sizeof(why)) == MP_OK) {
            snprintf(sub, sizeof(sub), "%s/alerts", path);
            eng_store_checkpoint(src->astore, sub, why, sizeof(why));
        }
    }
    if (why[0]) {
        mp_error("checkpoint_failed name=%s err=%s", MP_LOG_Q(name), MP_LOG_Q(why));
        snprintf(msg, sizeof(msg), "checkpoint failed: %s", why);
        mp_http_error(out, 500, msg);
        return;
    }
    mp_info("checkpoint_created name=%s path=%s", MP_LOG_Q(name), MP_LOG_Q(path));
    json_t *j = json_pack("{s:s, s:s}", "name", name, "path", path);
    api__json(j ? json_dumps(j, JSON_COMPACT) : NULL, out);
    json_decref(j);
}

/* POST /v1/dmarc: a DMARC aggregate report (mp_dmarc.h), with this API's
 * tokens: a tenant token posts its own tenant's reports. */
static void api__dmarc(void *arg, const struct mp_http_request *req, struct mp_http_reply *out)
{
    const struct mp_api *api = arg;
    const char *only;
    if (api__gate(api, API__TENANT, req, &only, out) != 0)
        return;
    if (api->dmarc)
        mp_dmarc_post(api->dmarc, only, req, out);
    else
        mp_http_error(out, 503, "no store to count DMARC reports in");
}

/* /api/v2/...: Alertmanager's API (mp_amapi.h), with this API's tokens. */
static void api__amapi(void *arg, const struct mp_http_request *req, struct mp_http_reply *out)
{
    const struct mp_api *api = arg;
    const char *only;
    if (api__gate(api, API__TENANT, req, &only, out) == 0)
        mp_amapi_reply(api->src, only, req, out);
}

/* GET /v1/gate (one decision) and /v1/gate/pauses: the send gate
 * (mp_gate.h), the same tenant rule for both. */
static void api__gate_get(void *arg, const struct mp_http_request *req, struct mp_http_reply *out)
{
    const struct mp_api *api = arg;
    const char *only;
    if (api__gate(api, API__TENANT, req, &only, out) != 0)
        return;
    if (strcmp(req->path, "/v1/gate/pauses") == 0)
        mp_gate_reply_pauses(api->src->gate, only, req, out);
    else
        mp_gate_reply(api->src->gate, only, req, out);
}

static const struct mp_http_route api__routes[] = {
    {"GET", MP_AMAPI_PREFIX, NULL, MP_HTTP_PREFIX, api__amapi},
    {"POST", MP_AMAPI_PREFIX, NULL, MP_HTTP_PREFIX | MP_HTTP_BODY, api__amapi},
    {"DELETE", MP_AMAPI_PREFIX, NULL, MP_HTTP_PREFIX, api__amapi},
    {"POST", "/v1/admin/checkpoint", NULL, 0, api__checkpoint},
    {"GET", "/healthz", NULL, MP_HTTP_INLINE, api__healthz}, /* never behind a heavy query */
    {"GET", "/metrics", NULL, 0, api__metrics},
    {"GET", MP_STATS_PREFIX, NULL, MP_HTTP_PREFIX, api__stats},
    {"GET", MP_TENANTS_ROUTE, NULL, 0, api__tenants},
    {"GET", "/v1/alerts/dead", NULL, 0, api__dead},
    {"GET", "/v1/alerts", NULL, 0, api__alerts},
    {"GET", "/v1/rules", NULL, 0, api__alerts},
    {"GET", MP_UI_PREFIX, NULL, MP_HTTP_PREFIX | MP_HTTP_INLINE, api__ui}, /* a memcpy */
    {"GET", "/v1/gate", NULL, MP_HTTP_INLINE, api__gate_get}, /* a lookup: no queueing */
    {"GET", "/v1/gate/pauses", NULL, 0, api__gate_get},
    {"POST", MP_ADAPTERS_PREFIX, NULL, MP_HTTP_PREFIX | MP_HTTP_BODY | MP_HTTP_BODY_HOOKS,
     api__hooks},
    {"POST", MP_DMARC_ROUTE, NULL, MP_HTTP_BODY | MP_HTTP_BODY_LARGE, api__dmarc},
};

int mp_api_start(const char *listen, const struct mp_metrics_sources *src,
                 const struct mp_auth *auth, struct mp_api **out, char *err, size_t errlen)
{
    return mp_api_start_opts(listen, src, auth, NULL, out, err, errlen);
}

int mp_api_start_opts(const char *listen, const struct mp_metrics_sources *src,
                      const struct mp_auth *auth, const struct mp_http_opts *opts,
                      struct mp_api **out, char *err, size_t errlen)
{
    struct mp_addr addr;
    struct mp_api *api = NULL;
    char why[512];
    int rc;
    /* The rule mp_config refuses by file:line too: no tokens, loopback only.
     * A listen that does not parse is mp_http_start()'s to refuse. */
    if (mp_addr_parse(listen, &addr, NULL, 0) == MP_OK &&
        mp_auth_listen_check(listen, !mp_auth_open(auth), why, sizeof(why)) != MP_OK) {
        snprintf(err, errlen, "http.listen %s", why);
        rc = MP_ERR_INVAL;
    } else if ((api = calloc(1, sizeof(*api))) == NULL) {
        rc = MP_ERR_NOMEM;
    } else {
        *api = (struct mp_api){.src = src, .auth = auth};
        const struct mp_config *c = src->cfg;
        struct ingest_limits lim = {.retention_ms = c ? c->retention_ms : 0,
                                    .future_ms = INGEST_FUTURE_MS_DEFAULT,
                                    .max_frame_bytes = c ? (size_t)c->max_frame_bytes : 0,
                                    .max_batch_events = c ? (uint32_t)c->max_batch_events : 0};
        char seen[4200];
        snprintf(seen, sizeof(seen), "%s/%s", src->data_dir ? src->data_dir : ".",
                 MP_ADAPTERS_SEEN_FILE);
        rc = c ? mp_adapters_create(c->adapters, c->n_adapters, src->table, &lim, src->journal,
                                    src->data_dir ? seen : NULL, &api->adapters, err, errlen)
               : MP_OK;
        if (rc == MP_OK && src->store)
            rc = mp_dmarc_create(src->store, c, src->dmarc_rules, &api->dmarc);
        if (rc == MP_OK)
            rc = mp_http_start_opts(listen, api__routes, MP_ARRAY_LEN(api__routes), api, opts,
                                &api->http, err, errlen);
    }
    if (rc == MP_OK) {
        *out = api;
    } else if (api) {
        mp_adapters_destroy(api->adapters);
        mp_dmarc_destroy(api->dmarc);
        free(api);
    }
    return rc;
}

void mp_api_reload_adapters(struct mp_api *api, struct mp_config *nc)
{
    if (api)
        mp_adapters_reload(api->adapters, nc); /* logs either way */
}

void mp_api_stop(struct mp_api *api)
{
    /* The server first: once it has returned no handler reads api. */
    if (api) {
        mp_http_stop(api->http);
        mp_adapters_destroy(api->adapters);
        mp_dmarc_destroy(api->dmarc);
    }
    free(api);
}
