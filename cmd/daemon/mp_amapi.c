/* mp_amapi.c — Alertmanager API v2 routes (see mp_amapi.h).
 *
 * Alerts are read as /v1/alerts reads them (alert_eval_active_json) and
 * reshaped into gettableAlert, their silencedBy asked of the silences; so
 * the evaluator knows nothing of this API.
 */
#include "mp_amapi.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_eval.h"
#include "alert_sender.h"
#include "alert_silence.h"
#include "mp_log.h"
#include "mp_stats.h"

#define AMAPI__FILTERS_MAX 16

static void amapi__json(json_t *j, struct mp_http_reply *out)
{
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    out->body = body;
    out->status = body ? 200 : 500;
    out->content_type = "application/json";
    out->len = body ? strlen(body) : 0;
}

static void amapi__body(char *body, struct mp_http_reply *out)
{
    out->body = body;
    out->status = body ? 200 : 500;
    out->content_type = "application/json";
    out->len = body ? strlen(body) : 0;
}

static void amapi__status(const struct mp_metrics_sources *src, struct mp_http_reply *out)
{
    char up[40];
    alert_format_time(src->started_ms, up, sizeof(up));
    amapi__json(json_pack("{s:{s:s, s:[]}, s:{s:s, s:s, s:s, s:s, s:s, s:s}, s:{s:s}, s:s}",
                          "cluster", "status", "disabled", "peers", "versionInfo", "version",
                          MP_VERSION, "revision", "", "branch", "", "buildUser", "mailpulse",
                          "buildDate", "", "goVersion", "none (mailpulse, C)", "config",
                          "original", "", "uptime", up),
                out);
}

static void amapi__receivers(const struct mp_metrics_sources *src, struct mp_http_reply *out)
{
    struct alert_receiver_figures *rf = calloc(ALERT_SENDER_RECEIVERS_MAX, sizeof(*rf));
    json_t *arr = json_array();
    size_t n = rf && src->sender
                   ? alert_sender_receiver_figures(src->sender, rf, ALERT_SENDER_RECEIVERS_MAX)
                   : 0;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s}", "name", rf[i].name));
    free(rf);
    amapi__json(arr, out);
}

/* The query of /alerts and /silences: filter=MATCHER (repeatable) and,
 * for alerts, the booleans and receiver. 0, or -1 after answering 400. */
struct amapi__q {
    const char *filters[AMAPI__FILTERS_MAX];
    size_t nf;
    int active, silenced, inhibited, unprocessed;
};

static int amapi__bool(const char *v, int *out)
{
    if (v && strcmp(v, "true") == 0)
        *out = 1;
    else if (v && strcmp(v, "false") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

static int amapi__query(const struct mp_http_request *req, int alerts, struct amapi__q *q,
                        struct mp_http_reply *out)
{
    char msg[320];
    *q = (struct amapi__q){.active = 1, .silenced = 1, .inhibited = 1, .unprocessed = 1};
    for (size_t i = 0; i < req->nargs; i++) {
        const char *n = req->args[i].name, *v = req->args[i].value;
        int ok = 0;
        if (strcmp(n, "filter") == 0 && v && q->nf < AMAPI__FILTERS_MAX) {
            q->filters[q->nf++] = v;
            ok = 1;
        } else if (alerts && strcmp(n, "receiver") == 0) {
            ok = 1; /* every alert goes to its tenant's route: nothing to narrow */
        } else if (alerts) {
            int *b = strcmp(n, "active") == 0        ? &q->active
                     : strcmp(n, "silenced") == 0    ? &q->silenced
                     : strcmp(n, "inhibited") == 0   ? &q->inhibited
                     : strcmp(n, "unprocessed") == 0 ? &q->unprocessed
                                                     : NULL;
            ok = b && amapi__bool(v, b) == 0;
        }
        if (!ok) {
            snprintf(msg, sizeof(msg),
                     "bad query parameter \"%.64s\"; allowed: filter=MATCHER (at most %d)%s", n,
                     AMAPI__FILTERS_MAX,
                     alerts ? ", active, silenced, inhibited, unprocessed=true|false, receiver"
                            : "");
            mp_http_error(out, 400, msg);
            return -1;
        }
    }
    return 0;
}

/* One /v1/alerts entry as a gettableAlert, or NULL when q leaves it out
 * (or it is pending: Alertmanager only hears of firing alerts). *bad is set
 * (and err filled) for a filter that does not parse. */
static json_t *amapi__alert(const struct mp_metrics_sources *src, json_t *a,
                            const struct amapi__q *q, int64_t now, int *bad, char *err,
                            size_t errlen)
{
    struct alert_label l[16];
    size_t n = 0;
    const char *k;
    json_t *v, *labels = json_object_get(a, "labels");
    const char *st = json_string_value(json_object_get(a, "status"));
    if (!st || strcmp(st, "firing") != 0)
        return NULL;
    json_object_foreach(labels, k, v)
    {
        if (n < 16 && json_is_string(v))
            l[n++] = (struct alert_label){k, json_string_value(v)};
    }
    for (size_t i = 0; i < q->nf; i++) {
        int m = alert_silence_filter_match(q->filters[i], l, n, err, errlen);
        if (m < 0)
            *bad = 1;
        if (m != 1)
            return NULL;
    }
    char ids[8][ALERT_SILENCE_ID_LEN];
    size_t ns = alert_silence_mutes(src->silences, l, n, now, ids, 8);
    if ((ns && !q->silenced) || (!ns && !q->active))
        return NULL;
    json_t *by = json_array(), *o = json_object();
    for (size_t i = 0; i < ns && i < 8; i++)
        json_array_append_new(by, json_string(ids[i]));
    json_object_set(o, "labels", labels);
    json_object_set(o, "annotations", json_object_get(a, "annotations"));
    json_object_set(o, "startsAt", json_object_get(a, "startsAt"));
    json_object_set(o, "endsAt", json_object_get(a, "endsAt"));
    const char *ln = json_string_value(json_object_get(a, "lastNotifiedAt"));
    json_object_set(o, "updatedAt", json_object_get(a, ln && *ln ? "lastNotifiedAt" : "startsAt"));
    json_object_set(o, "generatorURL", json_object_get(a, "generatorURL"));
    json_object_set(o, "fingerprint", json_object_get(a, "fingerprint"));
    json_object_set_new(o, "receivers", json_array());
    json_object_set_new(o, "status",
                        json_pack("{s:s, s:o, s:[]}", "state", ns ? "suppressed" : "active",
                                  "silencedBy", by, "inhibitedBy"));
    return o;
}

/* The firing alerts `only` may see, as a gettableAlerts array; NULL after
 * answering (400 or 500). */
static json_t *amapi__alert_list(const struct mp_metrics_sources *src, const char *only,
                                 const struct amapi__q *q, struct mp_http_reply *out)
{
    char *doc = alert_eval_active_json(src->eval, only);
    json_t *root = doc ? json_loads(doc, 0, NULL) : NULL, *arr = json_array(), *a;
    free(doc);
    size_t i;
    int bad = 0;
    char err[256] = "";
    int64_t now = mp_now_ms();
    json_array_foreach(json_object_get(root, "alerts"), i, a)
    {
        json_t *o = amapi__alert(src, a, q, now, &bad, err, sizeof(err));
        if (bad)
            break;
        if (o)
            json_array_append_new(arr, o);
    }
    json_decref(root);
    if (bad || !root) {
        json_decref(arr);
        mp_http_error(out, bad ? 400 : 500, bad ? err : "out of memory");
        return NULL;
    }
    return arr;
}

static void amapi__alerts(const struct mp_metrics_sources *src, const char *only, int groups,
                          const struct mp_http_request *req, struct mp_http_reply *out)
{
    struct amapi__q q;
    if (amapi__query(req, 1, &q, out) != 0)
        return;
    json_t *arr = amapi__alert_list(src, only, &q, out), *a;
    if (!arr || !groups) {
        if (arr)
            amapi__json(arr, out);
        return;
    }
    /* /alerts/groups: one group per tenant (the list is sorted by tenant) */
    json_t *gs = json_array(), *g = NULL;
    const char *last = NULL;
    size_t i;
    json_array_foreach(arr, i, a)
    {
        const char *t = json_string_value(json_object_get(json_object_get(a, "labels"), "tenant"));
        if (!t)
            t = "";
        if (!g || strcmp(last, t) != 0) {
            g = json_pack("{s:{s:s}, s:{s:s}, s:[]}", "labels", "tenant", t, "receiver", "name",
                          "", "alerts");
            json_array_append_new(gs, g);
            last = t;
        }
        json_array_append(json_object_get(g, "alerts"), a);
    }
    amapi__json(gs, out);
    json_decref(arr);
}

static int amapi__rc_status(int rc)
{
    return rc == MP_ERR_INVAL || rc == MP_ERR_FULL ? 400 : rc == MP_ERR_NOTFOUND ? 404 : 500;
}

static void amapi__silences(const struct mp_metrics_sources *src, const char *only,
                            const struct mp_http_request *req, struct mp_http_reply *out)
{
    char err[512] = "", id[ALERT_SILENCE_ID_LEN];
    int rc;
    if (strcmp(req->method, "POST") == 0) {
        rc = alert_silence_put_json(src->silences, req->body, req->body_len, only, mp_now_ms(),
                                    id, err, sizeof(err));
        if (rc == MP_OK) {
            mp_info("alert_silence_put id=%s", id);
            amapi__json(json_pack("{s:s}", "silenceID", id), out);
        } else {
            mp_http_error(out, amapi__rc_status(rc), err[0] ? err : mp_strerror(rc));
        }
        return;
    }
    struct amapi__q q;
    char *body = NULL;
    if (amapi__query(req, 0, &q, out) != 0)
        return;
    rc = alert_silence_list_json(src->silences, q.filters, q.nf, only, mp_now_ms(), &body, err,
                                 sizeof(err));
    if (rc == MP_OK)
        amapi__body(body, out);
    else
        mp_http_error(out, amapi__rc_status(rc), err[0] ? err : mp_strerror(rc));
}

static int amapi__uuid(const char *id)
{
    if (strlen(id) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? id[i] != '-' : !strchr("0123456789abcdefABCDEF", id[i]))
            return 0;
    }
    return 1;
}

static void amapi__silence(const struct mp_metrics_sources *src, const char *only,
                           const char *id, const struct mp_http_request *req,
                           struct mp_http_reply *out)
{
    char msg[128];
    if (!amapi__uuid(id)) {
        mp_http_error(out, 400, "bad silence id: a UUID (8-4-4-4-12 hex digits)");
        return;
    }
    snprintf(msg, sizeof(msg), "silence %s not found", id);
    if (strcmp(req->method, "DELETE") == 0) {
        int rc = alert_silence_expire(src->silences, id, only, mp_now_ms());
        if (rc == MP_OK) {
            amapi__body(strdup("{}"), out);
        } else {
            mp_http_error(out, amapi__rc_status(rc), rc == MP_ERR_NOTFOUND ? msg : mp_strerror(rc));
        }
        return;
    }
    char *body = NULL;
    int rc = alert_silence_get_json(src->silences, id, only, mp_now_ms(), &body);
    if (rc == MP_OK)
        amapi__body(body, out);
    else
        mp_http_error(out, amapi__rc_status(rc), rc == MP_ERR_NOTFOUND ? msg : mp_strerror(rc));
}

/* Which methods path p (below the prefix) takes; NULL: no such path. */
static const char *amapi__methods(const char *p)
{
    if (strcmp(p, "status") == 0 || strcmp(p, "receivers") == 0 || strcmp(p, "alerts") == 0 ||
        strcmp(p, "alerts/groups") == 0)
        return "GET";
    if (strcmp(p, "silences") == 0)
        return "GET, POST";
    if (strncmp(p, "silence/", 8) == 0 && p[8] && !strchr(p + 8, '/'))
        return "GET, DELETE";
    return NULL;
}

void mp_amapi_reply(const struct mp_metrics_sources *src, const char *only,
                    const struct mp_http_request *req, struct mp_http_reply *out)
{
    const char *p = req->path + strlen(MP_AMAPI_PREFIX), *allow = amapi__methods(p);
    const char *m = strcmp(req->method, "HEAD") == 0 ? "GET" : req->method;
    char msg[96];
    if (!allow) {
        mp_http_error(out, 404, "no such path");
    } else if (!strstr(allow, m)) {
        snprintf(msg, sizeof(msg), "method %.16s not allowed; allowed: %s", req->method, allow);
        mp_http_error(out, 405, msg);
    } else if (!src->silences || !src->eval) {
        mp_http_error(out, 503, "alerting is not running");
    } else if (strcmp(p, "status") == 0) {
        amapi__status(src, out);
    } else if (strcmp(p, "receivers") == 0) {
        amapi__receivers(src, out);
    } else if (strncmp(p, "alerts", 6) == 0) {
        amapi__alerts(src, only, p[6] == '/', req, out);
    } else if (strcmp(p, "silences") == 0) {
        amapi__silences(src, only, req, out);
    } else {
        amapi__silence(src, only, p + 8, req, out);
    }
}
