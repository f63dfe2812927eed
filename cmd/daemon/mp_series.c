/* mp_series.c — a key's history per step as JSON (see mp_series.h). */
#include "mp_series.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert_silence.h"
#include "eng_table_history.h"
#include "mp_stats.h"

#define SERIES__ECHO 72 /* room for mp_stats_echo's text */

static const char series__expected[] =
    "expected /v1/tenants/{tenant}/series?scope=S&name=N&types=T,T&rate=NUM/DEN"
    "&step=5m|1h|1d&from=TIME&to=TIME";

/* The steps: the engine's bucket widths. */
static const struct {
    const char *name;
    int res;
    int64_t width_ms;
} series__steps[] = {{"5m", ENG_RES_FINE, ENG_FINE_MS},
                     {"1h", ENG_RES_HOUR, ENG_HOUR_MS},
                     {"1d", ENG_RES_DAY, ENG_DAY_MS}};

/* The query, one slot per parameter; NULL: absent. */
struct series__query {
    const char *scope, *name, *types, *rate, *step, *from, *to;
};

static int series__collect(const struct mp_http_request *req, struct series__query *q,
                           json_t **err)
{
    static const char *const names[] = {"scope", "name", "types", "rate", "step", "from", "to"};
    const char **slots[] = {&q->scope, &q->name, &q->types, &q->rate, &q->step, &q->from, &q->to};
    memset(q, 0, sizeof(*q));
    return mp_stats_args(req, names, slots, MP_ARRAY_LEN(names), err);
}

/* "tenant, mailbox, ..." from the engine's scope table. */
static void series__scope_list(char *out, size_t n)
{
    size_t o = 0;
    out[0] = '\0';
    for (int s = 0; s < ENG_NSCOPES && o < n; s++)
        o += (size_t)snprintf(out + o, n - o, "%s%s", s ? ", " : "", eng_scope_name(s));
}

static int series__scope(const struct series__query *q, struct mp_series_params *p, json_t **err)
{
    char echo[SERIES__ECHO], list[256];
    p->scope = q->scope ? -1 : ENG_SCOPE_TENANT;
    for (int s = 0; q->scope && s < ENG_NSCOPES; s++)
        if (eng_scope_name(s) && strcmp(q->scope, eng_scope_name(s)) == 0)
            p->scope = s;
    if (p->scope < 0) {
        series__scope_list(list, sizeof(list));
        mp_stats_echo(q->scope, strlen(q->scope), echo, sizeof(echo));
        return mp_stats_fail(err, MP_ERR_INVAL, "unknown scope \"%s\"; allowed: %s (default "
                                                "tenant)", echo, list);
    }
    p->name = q->name;
    if (p->scope == ENG_SCOPE_TENANT && q->name)
        return mp_stats_fail(err, MP_ERR_INVAL, "name is for the other scopes; scope=tenant "
                                                "is the tenant itself (leave name out)");
    if (p->scope != ENG_SCOPE_TENANT && !q->name)
        return mp_stats_fail(err, MP_ERR_INVAL, "scope=%s needs name=... (the %s, as counted)",
                             eng_scope_name(p->scope), eng_scope_name(p->scope));
    if (q->name && !mp_series_name_ok(q->name)) {
        mp_stats_echo(q->name, strlen(q->name), echo, sizeof(echo));
        return mp_stats_fail(err, MP_ERR_INVAL, MP_SERIES_NAME_BAD, echo, MP_SERIES_NAME_MAX);
    }
    return MP_OK;
}

int mp_series_name_ok(const char *name)
{
    size_t len = strlen(name), ok = 0;
    while (ok < len && (unsigned char)name[ok] >= 0x20 && name[ok] != 0x7f)
        ok++;
    if (ok < len || len == 0 || len > MP_SERIES_NAME_MAX)
        return 0;
    /* the answer carries the name: jansson refuses what is not UTF-8 */
    json_t *j = json_stringn(name, len);
    json_decref(j);
    return j != NULL;
}

/* One type name of [s, s + len): its type, or 0 (and the 400) when unknown. */
static int series__type(const char *s, size_t len, const char *what, json_t **err)
{
    char name[32], echo[SERIES__ECHO];
    int type = 0;
    if (len < sizeof(name)) {
        memcpy(name, s, len);
        name[len] = '\0';
        if (eng_type_parse(name, &type) != 0)
            type = 0;
    }
    if (!type) {
        mp_stats_echo(s, len, echo, sizeof(echo));
        mp_stats_fail(err, MP_ERR_INVAL, "unknown event type \"%s\" in %s; allowed: sent, "
                                         "delivered, bounce_hard, bounce_soft, deferred, "
                                         "blocked, complaint, open, click, reply, unsubscribe, "
                                         "spam_trap", echo, what);
    }
    return type;
}

static int series__types(const struct series__query *q, struct mp_series_params *p, json_t **err)
{
    p->rate_num = p->rate_den = 0;
    if (q->rate) {
        const char *slash = strchr(q->rate, '/');
        if (!slash)
            return mp_stats_fail(err, MP_ERR_INVAL, "rate is num/den of two event types, "
                                                    "e.g. rate=bounce_hard/sent");
        if (!(p->rate_num = series__type(q->rate, (size_t)(slash - q->rate), "rate", err)) ||
            !(p->rate_den = series__type(slash + 1, strlen(slash + 1), "rate", err)))
            return MP_ERR_INVAL;
    }
    p->types = 0;
    if (!q->types)
        p->types = q->rate ? (1u << p->rate_num) | (1u << p->rate_den)
                           : ((1u << (ENG_TYPE_MAX + 1)) - 1) & ~1u;
    for (const char *s = q->types; s && *s;) {
        size_t len = strcspn(s, ",");
        int type = series__type(s, len, "types", err);
        if (!type)
            return MP_ERR_INVAL;
        if (p->types & (1u << type))
            return mp_stats_fail(err, MP_ERR_INVAL, "type %s given more than once in types",
                                 eng_type_name(type));
        p->types |= 1u << type;
        s += len;
        if (*s == ',' && !*++s)
            return mp_stats_fail(err, MP_ERR_INVAL, "types ends with a comma");
    }
    p->ntypes = __builtin_popcount(p->types);
    return MP_OK;
}

int mp_series_time(const char *what, const char *s, int64_t *ms, json_t **err)
{
    char echo[SERIES__ECHO];
    size_t len = strlen(s);
    if (len <= 12 && strspn(s, "0123456789") == len) {
        *ms = strtoll(s, NULL, 10) * 1000;
        return MP_OK;
    }
    if (mp_time_parse(s, ms) == MP_OK)
        return MP_OK;
    mp_stats_echo(s, len, echo, sizeof(echo));
    return mp_stats_fail(err, MP_ERR_INVAL, "bad %s \"%s\"; allowed: RFC 3339 (e.g. "
                                            "2026-11-20T00:00:00Z) or Unix seconds", what, echo);
}

/* "2026-11-20T00:00:00Z" for a Unix time in ms. */
static void series__iso(int64_t ms, char *out, size_t n)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int series__step(const struct series__query *q, struct mp_series_params *p,
                        int64_t *width, json_t **err)
{
    char echo[SERIES__ECHO];
    const char *step = q->step ? q->step : "1h";
    for (size_t i = 0; i < MP_ARRAY_LEN(series__steps); i++)
        if (strcmp(step, series__steps[i].name) == 0) {
            p->res = series__steps[i].res;
            *width = series__steps[i].width_ms;
            return MP_OK;
        }
    mp_stats_echo(step, strlen(step), echo, sizeof(echo));
    return mp_stats_fail(err, MP_ERR_INVAL, "bad step \"%s\"; allowed: 5m, 1h, 1d (default 1h)",
                         echo);
}

/* from/to into buckets, checked against what the step reaches (span). */
static int series__range(const struct eng_table *t, const struct series__query *q,
                         int64_t now_ms, int64_t width, struct mp_series_params *p, json_t **err)
{
    int64_t slo, shi, from_ms, to_ms;
    char a[32], b[32];
    int rc = eng_history_span(t, p->res, &slo, &shi);
    if (rc != MP_OK)
        return rc;
    if ((q->from && mp_series_time("from", q->from, &from_ms, err) != MP_OK) ||
        (q->to && mp_series_time("to", q->to, &to_ms, err) != MP_OK))
        return MP_ERR_INVAL;
    /* floor division: every time here is after 1970 */
    p->hi = q->to ? to_ms / width : now_ms / width;
    if (!q->to && p->hi > shi)
        p->hi = shi;
    p->lo = q->from ? from_ms / width : slo;
    if (q->from && p->lo > p->hi)
        return mp_stats_fail(err, MP_ERR_INVAL, "from is after to; from <= to, both included");
    if (p->lo < slo || p->hi < slo) {
        series__iso(slo * width, a, sizeof(a));
        return mp_stats_fail(err, MP_ERR_INVAL, "range too long: step=%s reaches back to %s "
                                                "(%s); use a later from%s",
                             q->step ? q->step : "1h", a,
                             p->res == ENG_RES_DAY    ? "the retention"
                             : p->res == ENG_RES_HOUR ? "engine.hour_retention"
                                                      : "memory holds no more",
                             p->res == ENG_RES_DAY ? "" : ", or a coarser step");
    }
    if (p->hi > shi) {
        series__iso(shi * width, b, sizeof(b));
        return mp_stats_fail(err, MP_ERR_INVAL, "to is in the future: the last bucket is %s", b);
    }
    int64_t values = (p->hi - p->lo + 1) * (p->ntypes + (p->rate_num ? 1 : 0));
    if (values > MP_SERIES_VALUES_MAX || p->hi - p->lo >= ENG_HISTORY_MAX_BUCKETS)
        return mp_stats_fail(err, MP_ERR_INVAL, "too many values: %lld points x %d series, at "
                                                "most %d; narrow from/to, ask fewer types or a "
                                                "coarser step",
                             (long long)(p->hi - p->lo + 1),
                             p->ntypes + (p->rate_num ? 1 : 0), MP_SERIES_VALUES_MAX);
    return MP_OK;
}

int mp_series_params(const struct eng_table *t, const struct mp_http_request *req,
                     int64_t now_ms, struct mp_series_params *p, json_t **err)
{
    struct series__query q;
    int64_t width = ENG_HOUR_MS;
    int rc = series__collect(req, &q, err);
    if (rc == MP_OK)
        rc = series__scope(&q, p, err);
    if (rc == MP_OK)
        rc = series__types(&q, p, err);
    if (rc == MP_OK)
        rc = series__step(&q, p, &width, err);
    if (rc == MP_OK)
        rc = series__range(t, &q, now_ms, width, p, err);
    return rc;
}

/* ---- the answer ---------------------------------------------------------- */

/* The step of resolution res (one of series__steps, by construction). */
static size_t series__step_of(int res)
{
    size_t i = 0;
    while (i + 1 < MP_ARRAY_LEN(series__steps) && series__steps[i].res != res)
        i++;
    return i;
}

static int64_t series__width(int res) { return series__steps[series__step_of(res)].width_ms; }

/* One point: {"t", "ts", "counts", "rate"?}; NULL without memory. */
static json_t *series__point(const struct mp_series_params *p, int64_t b, const uint64_t *c)
{
    char iso[32];
    int64_t ms = b * series__width(p->res);
    series__iso(ms, iso, sizeof(iso));
    json_t *o = json_pack("{s:s, s:I}", "t", iso, "ts", (json_int_t)(ms / 1000));
    json_t *counts = json_object();
    if (!o || json_object_set_new(o, "counts", counts) != 0)
        goto fail;
    for (int ty = ENG_TYPE_MIN; ty <= ENG_TYPE_MAX; ty++)
        if ((p->types & (1u << ty)) &&
            json_object_set_new(counts, eng_type_name(ty), json_integer((json_int_t)c[ty - 1])))
            goto fail;
    if (p->rate_num) {
        uint64_t num = c[p->rate_num - 1], den = c[p->rate_den - 1];
        if (json_object_set_new(o, "rate", den ? json_real((double)num / (double)den)
                                               : json_null()) != 0)
            goto fail;
    }
    return o;
fail:
    json_decref(o);
    return NULL;
}

/* The answer's head: tenant, scope, name, step, from, to, types, rate. */
static json_t *series__head(const char *tenant, const struct mp_series_params *p)
{
    char from[32], to[32], rate[64];
    series__iso(p->lo * series__width(p->res), from, sizeof(from));
    series__iso(p->hi * series__width(p->res), to, sizeof(to));
    json_t *o = json_pack("{s:s, s:s}", "tenant", tenant, "scope", eng_scope_name(p->scope));
    json_t *types = json_array();
    if (!o || (p->name && json_object_set_new(o, "name", json_string(p->name)) != 0) ||
        json_object_set_new(o, "step", json_string(series__steps[series__step_of(p->res)].name)) != 0 ||
        json_object_set_new(o, "from", json_string(from)) != 0 ||
        json_object_set_new(o, "to", json_string(to)) != 0 ||
        json_object_set_new(o, "types", types) != 0)
        goto fail;
    for (int ty = ENG_TYPE_MIN; ty <= ENG_TYPE_MAX; ty++)
        if ((p->types & (1u << ty)) && json_array_append_new(types, json_string(eng_type_name(ty))))
            goto fail;
    snprintf(rate, sizeof(rate), "%s/%s", eng_type_name(p->rate_num), eng_type_name(p->rate_den));
    if (p->rate_num && json_object_set_new(o, "rate", json_string(rate)) != 0)
        goto fail;
    return o;
fail:
    json_decref(o);
    return NULL;
}

static int series__answer(struct eng_table *t, const char *tenant,
                          const struct mp_series_params *p, json_t **out)
{
    size_t n = (size_t)(p->hi - p->lo + 1);
    unsigned mask = p->types | (p->rate_num ? (1u << p->rate_num) | (1u << p->rate_den) : 0);
    uint64_t *c = malloc(n * ENG_NTYPES * sizeof(*c));
    if (!c)
        return MP_ERR_NOMEM;
    int rc = eng_history_read(t, p->scope, tenant, p->name, p->res, p->lo, p->hi, mask, c);
    if (rc == MP_ERR_NOTFOUND && p->scope == ENG_SCOPE_TENANT)
        rc = mp_stats_fail(out, rc, MP_STATS_UNKNOWN_TENANT, tenant);
    else if (rc == MP_ERR_NOTFOUND)
        rc = mp_stats_fail(out, rc, "no events have been counted for %s \"%.255s\" of tenant "
                                    "\"%s\"", eng_scope_name(p->scope), p->name, tenant);
    free(rc == MP_OK ? NULL : c);
    if (rc != MP_OK)
        return rc;
    json_t *o = series__head(tenant, p), *pts = json_array();
    if (!o || !pts || json_object_set(o, "points", pts) != 0) /* set: pts stays ours */
        rc = MP_ERR_NOMEM;
    for (size_t i = 0; rc == MP_OK && i < n; i++)
        if (json_array_append_new(pts, series__point(p, p->lo + (int64_t)i, c + i * ENG_NTYPES)))
            rc = MP_ERR_NOMEM;
    json_decref(pts);
    free(c);
    if (rc == MP_OK)
        *out = o;
    else
        json_decref(o);
    return rc;
}

int mp_series_build(struct eng_table *t, const struct mp_http_request *req, const char *only,
                    int64_t now_ms, json_t **out)
{
    char tenant[ENG_NAME_MAX + 1];
    struct mp_series_params p;
    *out = NULL;
    int rc = mp_stats_tenant_path(req->path, MP_SERIES_ROUTE, series__expected, tenant, out);
    if (rc == MP_OK)
        rc = mp_series_params(t, req, now_ms, &p, out);
    if (rc != MP_OK)
        return rc;
    /* A tenant the caller may not see is answered as one never counted. */
    if (only && strcmp(only, tenant) != 0)
        return mp_stats_fail(out, MP_ERR_NOTFOUND, MP_STATS_UNKNOWN_TENANT, tenant);
    return series__answer(t, tenant, &p, out);
}

void mp_series_reply_only(struct eng_table *t, const struct mp_http_request *req,
                          const char *only, struct mp_http_reply *out)
{
    json_t *j = NULL;
    int rc = mp_series_build(t, req, only, mp_now_ms(), &j);
    if (rc == MP_ERR_AGAIN || rc == MP_ERR_IO) {
        json_decref(j);
        mp_http_error(out, 503, rc == MP_ERR_AGAIN ? "the clock jumped; the rings are being "
                                                     "reset, ask again"
                                                   : "the store could not be read");
        return;
    }
    mp_stats_render(rc, j, out);
}
