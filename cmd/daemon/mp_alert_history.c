/* mp_alert_history.c — GET /v1/tenants/{tenant}/alerts/history (see
 * mp_alert_history.h). */
#include <string.h>

#include "alert_history.h"
#include "eng_types.h"
#include "mp_alert_history.h"
#include "mp_series.h"
#include "mp_stats.h"

#define HIST__ECHO 72
#define HIST__LABELS_MAX 24

static const char hist__expected[] =
    "expected /v1/tenants/{tenant}/alerts/history?scope=S&name=N&alert=A&from=TIME&to=TIME"
    "&limit=N";

struct hist__query {
    const char *scope, *name, *alert, *from, *to, *limit;
};

/* scope= and name= into q->scope (-1: all) and q->name. */
static int hist__scope(const struct hist__query *a, struct alert_history_query *q, json_t **err)
{
    char echo[HIST__ECHO];
    q->scope = -1;
    if (a->scope && strcmp(a->scope, "external") == 0)
        q->scope = ALERT_HISTORY_EXTERNAL;
    for (int s = 0; a->scope && q->scope < 0 && s < ENG_NSCOPES; s++)
        if (eng_scope_name(s) && strcmp(a->scope, eng_scope_name(s)) == 0)
            q->scope = s;
    if (a->scope && q->scope < 0) {
        mp_stats_echo(a->scope, strlen(a->scope), echo, sizeof(echo));
        return mp_stats_fail(err, MP_ERR_INVAL, "unknown scope \"%s\"; allowed: a scope of "
                                                "/series (tenant, mailbox, ...) or external",
                             echo);
    }
    if (a->name && (q->scope < 0 || q->scope == ENG_SCOPE_TENANT ||
                    q->scope == ALERT_HISTORY_EXTERNAL))
        return mp_stats_fail(err, MP_ERR_INVAL,
                             "name needs a scope with names (mailbox, recipient_domain, "
                             "provider, mailbox_provider, campaign)");
    if (a->name && !mp_series_name_ok(a->name)) {
        mp_stats_echo(a->name, strlen(a->name), echo, sizeof(echo));
        return mp_stats_fail(err, MP_ERR_INVAL, MP_SERIES_NAME_BAD, echo, MP_SERIES_NAME_MAX);
    }
    q->name = a->name;
    return MP_OK;
}

static int hist__params(const struct mp_http_request *req, int64_t retention_ms, int64_t now,
                        struct alert_history_query *q, json_t **err)
{
    static const char *const names[] = {"scope", "name", "alert", "from", "to", "limit"};
    struct hist__query a = {0};
    const char **slots[] = {&a.scope, &a.name, &a.alert, &a.from, &a.to, &a.limit};
    unsigned long lim = ALERT_HISTORY_LIMIT_DEFAULT;
    int rc = mp_stats_args(req, names, slots, MP_ARRAY_LEN(names), err);
    if (rc == MP_OK)
        rc = hist__scope(&a, q, err);
    if (rc != MP_OK)
        return rc;
    if (a.alert && strlen(a.alert) > ALERT_NAME_MAX - 1)
        return mp_stats_fail(err, MP_ERR_INVAL, "bad alert: an alertname of 1..%d bytes",
                             ALERT_NAME_MAX - 1);
    q->alertname = a.alert;
    q->to_ms = now;
    q->from_ms = now - retention_ms;
    if ((a.from && mp_series_time("from", a.from, &q->from_ms, err) != MP_OK) ||
        (a.to && mp_series_time("to", a.to, &q->to_ms, err) != MP_OK))
        return MP_ERR_INVAL;
    if (q->from_ms > q->to_ms)
        return mp_stats_fail(err, MP_ERR_INVAL, "from is after to; from <= to, both included");
    if (a.limit && mp_stats_limit(a.limit, ALERT_HISTORY_LIMIT_MAX, &lim) != 0)
        return mp_stats_fail(err, MP_ERR_INVAL, "bad limit; allowed: an integer 1..%d "
                                                "(default %d)",
                             ALERT_HISTORY_LIMIT_MAX, ALERT_HISTORY_LIMIT_DEFAULT);
    q->limit = lim;
    return MP_OK;
}

/* Entry e's alert labels as label pairs (borrowed from e); how many. */
static size_t hist__labels(json_t *e, struct alert_label *l, size_t cap)
{
    const char *k;
    json_t *v;
    size_t n = 0;
    json_object_foreach(json_object_get(json_object_get(e, "alert"), "labels"), k, v)
    {
        if (n < cap && json_is_string(v))
            l[n++] = (struct alert_label){k, json_string_value(v)};
    }
    return n;
}

/* Adds the silences matching the entries' alerts (once each, with the
 * fingerprints they match) to o as "silences"; -1 without memory. */
static int hist__silences(struct alert_silences *ss, json_t *entries, const char *only,
                          int64_t now, json_t *o)
{
    json_t *byid = json_object(), *seen = json_object(), *arr = json_array(), *e;
    size_t i;
    int rc = byid && seen && arr ? 0 : -1;
    json_array_foreach(entries, i, e)
    {
        const char *fp = json_string_value(
            json_object_get(json_object_get(e, "alert"), "fingerprint"));
        if (rc || !ss || !fp || json_object_get(seen, fp))
            continue;
        struct alert_label l[HIST__LABELS_MAX];
        json_t *m = alert_silence_matching(ss, l, hist__labels(e, l, HIST__LABELS_MAX), only, now),
               *s;
        size_t j;
        rc = m && json_object_set_new(seen, fp, json_true()) == 0 ? 0 : -1;
        json_array_foreach(m, j, s)
        {
            const char *id = json_string_value(json_object_get(s, "id"));
            json_t *have = id ? json_object_get(byid, id) : NULL;
            if (!id || rc)
                continue;
            if (!have && (json_object_set_new(s, "fingerprints", json_array()) != 0 ||
                          json_object_set(byid, id, s) != 0 || json_array_append(arr, s) != 0))
                rc = -1;
            have = json_object_get(byid, id);
            if (!rc && json_array_append_new(json_object_get(have, "fingerprints"),
                                             json_string(fp)) != 0)
                rc = -1;
        }
        json_decref(m);
    }
    if (!rc && json_object_set(o, "silences", arr) != 0)
        rc = -1;
    json_decref(arr);
    json_decref(seen);
    json_decref(byid);
    return rc;
}

int mp_alert_history_build(struct eng_store *astore, struct alert_silences *silences,
                           const struct mp_http_request *req, const char *only,
                           int64_t retention_ms, int64_t now_ms, json_t **out)
{
    char tenant[ENG_NAME_MAX + 1], from[40], to[40];
    struct alert_history_query q = {0};
    *out = NULL;
    int rc = mp_stats_tenant_path(req->path, MP_ALERT_HISTORY_ROUTE, hist__expected, tenant, out);
    if (rc == MP_OK)
        rc = hist__params(req, retention_ms, now_ms, &q, out);
    if (rc != MP_OK)
        return rc;
    if (only && strcmp(only, tenant) != 0)
        return mp_stats_fail(out, MP_ERR_NOTFOUND, MP_STATS_UNKNOWN_TENANT, tenant);
    if (!astore)
        return MP_ERR_IO;
    q.tenant = tenant;
    json_t *o = NULL;
    if ((rc = alert_history_read(astore, &q, &o)) != MP_OK)
        return rc;
    alert_format_time(q.from_ms, from, sizeof(from));
    alert_format_time(q.to_ms, to, sizeof(to));
    if (json_object_set_new(o, "tenant", json_string(tenant)) != 0 ||
        json_object_set_new(o, "from", json_string(from)) != 0 ||
        json_object_set_new(o, "to", json_string(to)) != 0 ||
        json_object_set_new(o, "limit", json_integer((json_int_t)q.limit)) != 0 ||
        hist__silences(silences, json_object_get(o, "entries"), only, now_ms, o) != 0) {
        json_decref(o);
        return MP_ERR_NOMEM;
    }
    *out = o;
    return MP_OK;
}

void mp_alert_history_reply(struct eng_store *astore, struct alert_silences *silences,
                            const struct mp_http_request *req, const char *only,
                            int64_t retention_ms, struct mp_http_reply *out)
{
    json_t *j = NULL;
    int rc = mp_alert_history_build(astore, silences, req, only, retention_ms, mp_now_ms(), &j);
    if (rc == MP_ERR_IO) {
        json_decref(j);
        mp_http_error(out, 503, astore ? "the alerts store could not be read"
                                       : "no alerts store (the daemon runs without data_dir)");
        return;
    }
    mp_stats_render(rc, j, out);
}
