/* mp_dnsbl_status.c — a tenant's blocklist status as JSON (see
 * mp_dnsbl_status.h). The checker's visit builds one object per check under
 * its status lock (copies of the strings, which a reload may free once the
 * lock is released); the sort and the rest come after. */
#include "mp_dnsbl_status.h"

#include <stdlib.h>
#include <string.h>

#include "alert_notify.h"
#include "mp_stats.h"

struct st_build {
    json_t *doc, *zones, *checks;
};

/* RFC 3339 UTC of wall-clock ms, null for 0 (never). */
static json_t *st__time(int64_t ms)
{
    char b[40];
    if (ms <= 0)
        return json_null();
    alert_format_time(ms, b, sizeof(b));
    return json_string(b);
}

static json_t *st__str(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

/* The section's interval: whole seconds as an integer, else a number. */
static json_t *st__interval(const struct mp_dnsbl_conf *c)
{
    if (!c || !c->enabled)
        return json_null();
    if (c->interval_ms % 1000 == 0)
        return json_integer(c->interval_ms / 1000);
    return json_real((double)c->interval_ms / 1000.0);
}

static int st__section(void *arg, const struct mp_dnsbl_conf *c, const struct mp_dnsbl_tenant *t)
{
    struct st_build *b = arg;
    if (json_object_set_new(b->doc, "configured", json_boolean(c && c->enabled)) != 0 ||
        json_object_set_new(b->doc, "interval_seconds", st__interval(c)) != 0)
        return MP_ERR_NOMEM;
    for (size_t i = 0; c && t && i < t->nzones; i++)
        if (json_array_append_new(b->zones, json_string(c->zones[t->zones[i]].name)) != 0)
            return MP_ERR_NOMEM;
    return MP_OK;
}

static int st__check(void *arg, const struct mp_dnsbl_check_view *v)
{
    struct st_build *b = arg;
    const char *reason = v->error_reason ? mp_dnsq_reason_name(v->error_reason) : NULL;
    struct {
        const char *key;
        json_t *v;
    } f[] = {{"target", json_string(v->target)},
             {"type", json_string(v->type == MP_DNSBL_IP ? "ip" : "domain")},
             {"zone", json_string(v->zone)},
             {"status", json_string(mp_dnsbl_status_name(v->status))},
             {"since", st__time(v->since_ms)},
             {"checked", st__time(v->checked_ms)},
             {"last_error", st__str(reason)},
             {"last_error_at", st__time(v->error_ms)},
             {"return_code", st__str(v->code)},
             {"meaning", st__str(v->meaning)},
             {"txt", st__str(v->txt)}};
    json_t *o = json_object();
    int bad = !o;
    for (size_t i = 0; i < MP_ARRAY_LEN(f); i++) /* each value taken, set or not */
        bad |= o ? json_object_set_new(o, f[i].key, f[i].v) != 0 : (json_decref(f[i].v), 1);
    if (bad) {
        json_decref(o);
        return MP_ERR_NOMEM;
    }
    return json_array_append_new(b->checks, o) == 0 ? MP_OK : MP_ERR_NOMEM;
}

static const char *st__get(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* ip before domain (the config's order of a tenant's lists), then target,
 * then zone. */
static int st__cmp(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int c = strcmp(st__get(y, "type"), st__get(x, "type")); /* "ip" > "domain" */
    if (c == 0)
        c = strcmp(st__get(x, "target"), st__get(y, "target"));
    return c ? c : strcmp(st__get(x, "zone"), st__get(y, "zone"));
}

static int st__sort(json_t *arr)
{
    size_t n = json_array_size(arr);
    json_t **v = malloc((n ? n : 1) * sizeof(*v));
    if (!v)
        return MP_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(arr, i));
    qsort(v, n, sizeof(*v), st__cmp);
    json_array_clear(arr);
    int rc = MP_OK;
    for (size_t i = 0; i < n; i++) /* the array had room for them: only our references left */
        if (json_array_append_new(arr, v[i]) != 0)
            rc = MP_ERR_NOMEM;
    free(v);
    return rc;
}

int mp_dnsbl_status_json(struct mp_dnsbl *d, const char *tenant, json_t **out)
{
    struct st_build b = {json_pack("{s:s}", "tenant", tenant), json_array(), json_array()};
    const struct mp_dnsbl_visitor v = {&b, st__section, st__check};
    int rc = b.doc && b.zones && b.checks ? MP_OK : MP_ERR_NOMEM;
    *out = NULL;
    if (rc == MP_OK)
        rc = mp_dnsbl_visit(d, tenant, &v);
    if (rc == MP_ERR_NOTFOUND) /* no checker */
        rc = st__section(&b, NULL, NULL);
    if (rc == MP_OK)
        rc = st__sort(b.checks);
    if (rc == MP_OK && json_object_set_new(b.doc, "zones", json_incref(b.zones)) == 0 &&
        json_object_set_new(b.doc, "checks", json_incref(b.checks)) == 0) {
        *out = json_incref(b.doc);
    } else {
        rc = MP_ERR_NOMEM;
    }
    json_decref(b.doc);
    json_decref(b.zones);
    json_decref(b.checks);
    return rc;
}

static const char st__expected[] = "expected /v1/tenants/{tenant}/blocklists (no parameters)";

void mp_dnsbl_status_reply(struct mp_dnsbl *d, const char *only, const struct mp_http_request *req,
                           struct mp_http_reply *out)
{
    char tenant[ENG_NAME_MAX + 1], echo[72];
    json_t *j = NULL;
    int rc = mp_stats_tenant_path(req->path, MP_DNSBL_STATUS_ROUTE, st__expected, tenant, &j);
    if (rc == MP_OK && req->nargs) {
        mp_stats_echo(req->args[0].name, strlen(req->args[0].name), echo, sizeof(echo));
        rc = mp_stats_fail(&j, MP_ERR_INVAL,
                           "unknown query parameter \"%s\"; this route takes none", echo);
    }
    /* A tenant the caller may not see is answered as one never counted. */
    if (rc == MP_OK && only && strcmp(only, tenant) != 0)
        rc = mp_stats_fail(&j, MP_ERR_NOTFOUND, MP_STATS_UNKNOWN_TENANT, tenant);
    else if (rc == MP_OK)
        rc = mp_dnsbl_status_json(d, tenant, &j);
    mp_stats_render(rc, j, out);
}
