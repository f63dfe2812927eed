/* mp_stats.c — per-tenant stats JSON from the key table (see mp_stats.h). */
#include "mp_stats.h"

#include "mp_buf.h"
#include "mp_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest_validate.h"
#include "eng_name.h"

#define STATS__ECHO_MAX 64 /* request bytes quoted back in an error message */
#define STATS__READ_TRIES 4

static const char stats__expected[] =
    "expected /v1/tenants/{tenant}/stats?window=1h|24h|7d"
    "[&by=mailbox|recipient_domain|provider|mailbox_provider|campaign][&limit=N]";

/* The windows the API offers (the engine also knows prev7d, for rules). */
static const struct {
    const char *name;
    int win;
} stats__windows[] = {{"1h", ENG_WIN_1H}, {"24h", ENG_WIN_24H}, {"7d", ENG_WIN_7D}};

/* by= takes a scope's name (eng_scope_name), any but tenant's; it is also
 * the group object's name key. */

/* A rate: the sum of up to three numerator types over one denominator type. */
struct stats__rate {
    const char *name;
    int num[3]; /* types; 0 ends the list early */
    int den;
};

static const struct stats__rate stats__rates[] = {
    {"bounce_rate", {ENG_BOUNCE_HARD}, ENG_SENT},
    {"soft_bounce_rate", {ENG_BOUNCE_SOFT}, ENG_SENT},
    {"block_rate", {ENG_BLOCKED}, ENG_SENT},
    {"deferral_rate", {ENG_DEFERRED}, ENG_SENT},
    {"delivery_rate", {ENG_DELIVERED}, ENG_SENT},
    {"complaint_rate", {ENG_COMPLAINT}, ENG_DELIVERED},
    {"engagement_rate", {ENG_OPEN, ENG_CLICK, ENG_REPLY}, ENG_DELIVERED},
    {"unsubscribe_rate", {ENG_UNSUBSCRIBE}, ENG_DELIVERED},
};

/* ---- errors ----------------------------------------------------------------- */

/* Copies request text for an error message: at most STATS__ECHO_MAX bytes,
 * anything outside printable ASCII as '?', so the message is valid UTF-8
 * (jansson refuses anything else) and short whatever was sent. */
static void stats__echo(const char *s, size_t len, char *out, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < len && i < STATS__ECHO_MAX && o + 1 < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        out[o++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    if (len > STATS__ECHO_MAX && o + 4 <= n) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

/* Sets *out to {"error": msg} and returns rc (MP_ERR_NOMEM when it cannot). */
static int stats__fail(json_t **out, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int stats__fail(json_t **out, int rc, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    *out = json_pack("{s:s}", "error", msg);
    return *out ? rc : MP_ERR_NOMEM;
}

/* ---- reading the table ----------------------------------------------------- */

/* One key's window sums showing whole frames only; after a few unstable
 * tries (a writer keeps touching the key) the last read is taken as is. */
void mp_stats_read(const struct eng_table *t, const struct eng_key *k, int win,
                   uint64_t c[ENG_NTYPES])
{
    /* An idle key may have left memory: reading it brings it back (a read
     * of the table's state, though it loads; hence the casts). */
    int rc = eng_table_key_warm((struct eng_table *)t, (struct eng_key *)k);
    if (rc != MP_OK)
        mp_error("stats_key_load_failed err=\"%s\"", mp_strerror(rc));
    for (int i = 0; i < STATS__READ_TRIES; i++) {
        uint32_t token;
        int stable = eng_key_read_begin(k, &token);
        eng_key_sum_window(t, k, win, c);
        if (stable && eng_key_read_end(k, token))
            return;
    }
}

/* ---- JSON ------------------------------------------------------------------- */

static json_t *stats__counts(const uint64_t c[ENG_NTYPES])
{
    json_t *o = json_object();
    for (int ty = ENG_TYPE_MIN; o && ty <= ENG_TYPE_MAX; ty++)
        if (json_object_set_new(o, eng_type_name(ty), json_integer((json_int_t)c[ty - 1])) != 0) {
            json_decref(o);
            o = NULL;
        }
    return o;
}

static json_t *stats__rates_json(const uint64_t c[ENG_NTYPES])
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < MP_ARRAY_LEN(stats__rates); i++) {
        double x;
        int defined;
        const char *name = mp_stats_rate(i, c, &x, &defined);
        json_t *v = defined ? json_real(x) : json_null();
        if (json_object_set_new(o, name, v) != 0) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
}

int mp_stats_limit(const char *s, unsigned long max, unsigned long *v)
{
    size_t len = strlen(s), digits = 1;
    for (unsigned long m = max; m >= 10; m /= 10)
        digits++;
    if (len < 1 || len > digits || strspn(s, "0123456789") != len)
        return -1;
    unsigned long x = strtoul(s, NULL, 10);
    if (x < 1 || x > max)
        return -1;
    *v = x;
    return 0;
}

int mp_stats_add_figures(json_t *o, const uint64_t c[ENG_NTYPES])
{
    if (json_object_set_new(o, "counts", stats__counts(c)) != 0)
        return -1;
    return json_object_set_new(o, "rates", stats__rates_json(c));
}

/* ---- groups: the top `limit` by sent, one bounded pass, memory O(limit) ----- */

struct stats__group {
    const char *name; /* owned by the table */
    uint64_t c[ENG_NTYPES];
};

struct stats__groups {
    const struct eng_table *t;
    int win;
    size_t limit;
    struct stats__group *g; /* a heap whose root is the worst group kept */
    size_t n, cap;
    size_t total;    /* groups with any event in the window */
    size_t scanned;  /* keys read, at most scan_max */
    size_t scan_max; /* then the rest is stepped over: truncated */
    int truncated;
    int nomem;
};

/* 1 when a sorts before b: more sent first, then by name. */
static int stats__before(const struct stats__group *a, const struct stats__group *b)
{
    uint64_t sa = a->c[ENG_SENT - 1], sb = b->c[ENG_SENT - 1];
    if (sa != sb)
        return sa > sb;
    return strcmp(a->name, b->name) < 0;
}

static int stats__cmp(const void *a, const void *b)
{
    return stats__before(a, b) ? -1 : stats__before(b, a) ? 1 : 0;
}

static void stats__sift_down(struct stats__groups *s, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < s->n && stats__before(&s->g[w], &s->g[l]))
            w = l;
        if (r < s->n && stats__before(&s->g[w], &s->g[r]))
            w = r;
        if (w == i)
            return;
        struct stats__group tmp = s->g[i];
        s->g[i] = s->g[w];
        s->g[w] = tmp;
        i = w;
    }
}

static void stats__sift_up(struct stats__groups *s, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!stats__before(&s->g[p], &s->g[i]))
            return;
        struct stats__group tmp = s->g[i];
        s->g[i] = s->g[p];
        s->g[p] = tmp;
        i = p;
    }
}

static void stats__visit(void *arg, struct eng_key *k)
{
    struct stats__groups *s = arg;
    if (s->nomem)
        return;
    if (s->scanned == s->scan_max) {
        s->truncated = 1; /* no read, no store load: the bound on one request */
        return;
    }
    s->scanned++;
    struct stats__group cand = {.name = eng_key_name(s->t, k)};
    mp_stats_read(s->t, k, s->win, cand.c);
    uint64_t any = 0;
    for (int i = 0; i < ENG_NTYPES; i++)
        any |= cand.c[i];
    if (!any || !cand.name)
        return;
    s->total++;
    if (s->n < s->limit) {
        /* Grows by doubling: never past 2 x limit, so memory stays O(limit). */
        if (MP_GROW(s->g, s->cap, s->n + 1) != MP_OK) {
            s->nomem = 1;
            return;
        }
        s->g[s->n++] = cand;
        stats__sift_up(s, s->n - 1);
    } else if (stats__before(&cand, &s->g[0])) {
        s->g[0] = cand;
        stats__sift_down(s, 0);
    }
}

/* ---- the request ------------------------------------------------------------ */

struct stats__params {
    int win;
    int by; /* a scope (not ENG_SCOPE_TENANT), or -1 */
    size_t limit;
};

static int stats__params(const struct mp_http_request *req, struct stats__params *p, json_t **out)
{
    const char *window = NULL, *by = NULL, *limit = NULL;
    char echo[STATS__ECHO_MAX + 4];
    for (size_t i = 0; i < req->nargs; i++) {
        const struct mp_http_arg *a = &req->args[i];
        const char **slot = strcmp(a->name, "window") == 0 ? &window
                            : strcmp(a->name, "by") == 0   ? &by
                            : strcmp(a->name, "limit") == 0 ? &limit
                                                             : NULL;
        if (!slot) {
            stats__echo(a->name, strlen(a->name), echo, sizeof(echo));
            return stats__fail(out, MP_ERR_INVAL,
                               "unknown query parameter \"%s\"; allowed: window, by, limit", echo);
        }
        if (*slot)
            return stats__fail(out, MP_ERR_INVAL, "query parameter %s given more than once",
                               a->name);
        *slot = a->value ? a->value : "";
    }

    p->win = -1;
    if (!window)
        p->win = ENG_WIN_24H;
    for (size_t i = 0; window && i < MP_ARRAY_LEN(stats__windows); i++)
        if (strcmp(window, stats__windows[i].name) == 0)
            p->win = stats__windows[i].win;
    if (p->win < 0) {
        stats__echo(window, strlen(window), echo, sizeof(echo));
        return stats__fail(out, MP_ERR_INVAL,
                           "bad window \"%s\"; allowed: 1h, 24h, 7d (default 24h)", echo);
    }

    p->by = -1;
    for (int sc = ENG_SCOPE_TENANT + 1; by && sc < ENG_NSCOPES; sc++)
        if (strcmp(by, eng_scope_name(sc)) == 0)
            p->by = sc;
    if (by && p->by < 0) {
        stats__echo(by, strlen(by), echo, sizeof(echo));
        return stats__fail(out, MP_ERR_INVAL,
                           "bad by \"%s\"; allowed: mailbox, recipient_domain, provider, "
                           "mailbox_provider, campaign (or leave it out for tenant totals)",
                           echo);
    }

    p->limit = MP_STATS_LIMIT_DEFAULT;
    if (limit) {
        unsigned long v = 0;
        if (mp_stats_limit(limit, MP_STATS_LIMIT_MAX, &v) != 0) {
            stats__echo(limit, strlen(limit), echo, sizeof(echo));
            return stats__fail(out, MP_ERR_INVAL, "bad limit \"%s\"; allowed: an integer 1..%d "
                                                  "(default %d)",
                               echo, MP_STATS_LIMIT_MAX, MP_STATS_LIMIT_DEFAULT);
        }
        if (p->by < 0)
            return stats__fail(out, MP_ERR_INVAL,
                               "limit applies to grouped stats only; add by=mailbox or "
                               "by=recipient_domain, or leave limit out");
        p->limit = v;
    }
    return MP_OK;
}

int mp_stats_args(const struct mp_http_request *req, const char *const *names,
                  const char **const *slots, size_t n, json_t **err)
{
    char echo[STATS__ECHO_MAX + 4], allowed[256];
    size_t o = 0;
    for (size_t i = 0; i < n && o < sizeof(allowed); i++)
        o += (size_t)snprintf(allowed + o, sizeof(allowed) - o, "%s%s", i ? ", " : "", names[i]);
    for (size_t i = 0; i < req->nargs; i++) {
        const struct mp_http_arg *a = &req->args[i];
        size_t k = 0;
        while (k < n && strcmp(a->name, names[k]) != 0)
            k++;
        if (k == n) {
            mp_stats_echo(a->name, strlen(a->name), echo, sizeof(echo));
            return mp_stats_fail(err, MP_ERR_INVAL,
                                 "unknown query parameter \"%s\"; allowed: %s", echo, allowed);
        }
        if (*slots[k])
            return mp_stats_fail(err, MP_ERR_INVAL, "query parameter %s given more than once",
                                 names[k]);
        if (!a->value || !*a->value)
            return mp_stats_fail(err, MP_ERR_INVAL, "query parameter %s is empty", names[k]);
        *slots[k] = a->value;
    }
    return MP_OK;
}

/* Splits "/v1/tenants/{tenant}/<route>" into the tenant (pointer and
 * length into path); MP_ERR_NOTFOUND for any other shape. */
static int stats__path(const char *path, const char *route, const char **tenant, size_t *len)
{
    size_t plen = strlen(MP_STATS_PREFIX);
    if (strncmp(path, MP_STATS_PREFIX, plen) != 0)
        return MP_ERR_NOTFOUND;
    const char *seg = path + plen, *slash = strchr(seg, '/');
    if (!slash || slash[1] == '\0' || strcmp(slash + 1, route) != 0)
        return MP_ERR_NOTFOUND;
    *tenant = seg;
    *len = (size_t)(slash - seg);
    return MP_OK;
}

int mp_stats_tenant_path(const char *path, const char *route, const char *expected,
                         char tenant[ENG_NAME_MAX + 1], json_t **out)
{
    char echo[STATS__ECHO_MAX + 4];
    const char *seg;
    size_t len;
    if (stats__path(path, route, &seg, &len) != MP_OK) {
        stats__echo(path, strlen(path), echo, sizeof(echo));
        return stats__fail(out, MP_ERR_NOTFOUND, "no such path \"%s\"; %s", echo, expected);
    }
    if (!eng_name_valid(seg, len)) {
        stats__echo(seg, len, echo, sizeof(echo));
        return stats__fail(out, MP_ERR_INVAL,
                           "bad tenant name \"%s\" (%zu bytes); allowed: 1..64 characters of "
                           "A-Z a-z 0-9 . _ -",
                           echo, len);
    }
    memcpy(tenant, seg, len);
    tenant[len] = '\0';
    return MP_OK;
}

/* A group's name members: its scope's, and for "mailbox/provider" also
 * the two parts (split at the last '/', as the engine names the key). */
static json_t *stats__group_names(int by, const char *name)
{
    json_t *e = json_pack("{s:s}", eng_scope_name(by), name);
    const char *slash = by == ENG_SCOPE_MAILBOX_PROVIDER ? strrchr(name, '/') : NULL;
    if (e && slash &&
        (json_object_set_new(e, "mailbox", json_stringn(name, (size_t)(slash - name))) != 0 ||
         json_object_set_new(e, "provider", json_string(slash + 1)) != 0)) {
        json_decref(e);
        return NULL;
    }
    return e;
}

/* Adds the groups of scope `by` to o; -1 when out of memory. */
static int stats__add_groups(const struct eng_table *t, const struct eng_key *tk, int by,
                             struct stats__groups *g, json_t *o)
{
    const char *name = eng_scope_name(by);
    eng_table_children(t, tk, by, stats__visit, g);
    if (g->nomem)
        return -1;
    if (g->n)
        qsort(g->g, g->n, sizeof(*g->g), stats__cmp);
    json_t *arr = json_array();
    if (json_object_set_new(o, "by", json_string(name)) != 0 ||
        json_object_set_new(o, "limit", json_integer((json_int_t)g->limit)) != 0 ||
        json_object_set_new(o, "groups_total", json_integer((json_int_t)g->total)) != 0 ||
        json_object_set_new(o, "keys_scanned", json_integer((json_int_t)g->scanned)) != 0 ||
        json_object_set_new(o, "truncated", json_boolean(g->truncated)) != 0 ||
        json_object_set_new(o, "groups", arr) != 0)
        return -1;
    for (size_t i = 0; i < g->n; i++) {
        json_t *e = stats__group_names(by, g->g[i].name);
        if (e && mp_stats_add_figures(e, g->g[i].c) != 0) {
            json_decref(e);
            e = NULL;
        }
        if (!e || json_array_append_new(arr, e) != 0) /* takes e even when it fails */
            return -1;
    }
    return 0;
}

static int stats__build(const struct eng_table *t, const struct mp_http_request *req,
                        const char *only, size_t scan_max, json_t **out)
{
    char tenant[ENG_NAME_MAX + 1];
    *out = NULL;
    int rc = mp_stats_tenant_path(req->path, "stats", stats__expected, tenant, out);
    if (rc != MP_OK)
        return rc;

    struct stats__params p = {.win = ENG_WIN_24H, .by = -1, .limit = MP_STATS_LIMIT_DEFAULT};
    rc = stats__params(req, &p, out);
    if (rc != MP_OK)
        return rc;
    struct eng_key *tk;
    /* A tenant the caller may not see is answered as one never counted. */
    if ((only && strcmp(only, tenant) != 0) ||
        eng_table_find(t, ENG_SCOPE_TENANT, tenant, NULL, &tk) != MP_OK)
        return stats__fail(out, MP_ERR_NOTFOUND, MP_STATS_UNKNOWN_TENANT, tenant);

    uint64_t c[ENG_NTYPES];
    mp_stats_read(t, tk, p.win, c);
    struct stats__groups g = {.t = t, .win = p.win, .limit = p.limit, .scan_max = scan_max};
    json_t *o = json_pack("{s:s, s:s}", "tenant", tenant, "window", eng_window_name(p.win));
    if (!o || mp_stats_add_figures(o, c) != 0)
        goto nomem;
    if (p.by >= 0 && stats__add_groups(t, tk, p.by, &g, o) != 0)
        goto nomem;
    free(g.g);
    *out = o;
    return MP_OK;
nomem:
    free(g.g);
    json_decref(o);
    return MP_ERR_NOMEM;
}

int mp_stats_build(const struct eng_table *t, const struct mp_http_request *req, json_t **out)
{
    return stats__build(t, req, NULL, MP_STATS_SCAN_MAX, out);
}

int mp_stats_build_scan(const struct eng_table *t, const struct mp_http_request *req,
                        size_t scan_max, json_t **out)
{
    return stats__build(t, req, NULL, scan_max ? scan_max : 1, out);
}

void mp_stats_reply(const struct eng_table *t, const struct mp_http_request *req,
                    struct mp_http_reply *out)
{
    mp_stats_reply_only(t, req, NULL, out);
}

void mp_stats_reply_only(const struct eng_table *t, const struct mp_http_request *req,
                         const char *only, struct mp_http_reply *out)
{
    json_t *j = NULL;
    int rc = stats__build(t, req, only, MP_STATS_SCAN_MAX, &j);
    mp_stats_render(rc, j, out);
}

void mp_stats_render(int rc, json_t *j, struct mp_http_reply *out)
{
    if (rc == MP_ERR_NOMEM || !j) {
        json_decref(j);
        mp_http_error(out, 500, "out of memory");
        return;
    }
    out->status = rc == MP_OK ? 200 : rc == MP_ERR_NOTFOUND ? 404 : 400;
    out->content_type = "application/json";
    out->body = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(MP_STATS_REAL_DIGITS));
    out->len = out->body ? strlen(out->body) : 0;
    json_decref(j);
    if (!out->body)
        mp_http_error(out, 500, "out of memory");
}

void mp_stats_echo(const char *s, size_t len, char *out, size_t n)
{
    stats__echo(s, len, out, n);
}

int mp_stats_fail(json_t **out, int rc, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return stats__fail(out, rc, "%s", msg);
}

size_t mp_stats_nrates(void) { return MP_ARRAY_LEN(stats__rates); }

/* The rate stats__rates[i] of c; *defined 0 when its denominator is 0. */
const char *mp_stats_rate(size_t i, const uint64_t c[ENG_NTYPES], double *v, int *defined)
{
    const struct stats__rate *r = &stats__rates[i];
    uint64_t num = 0, den = c[r->den - 1];
    for (size_t j = 0; j < MP_ARRAY_LEN(r->num) && r->num[j]; j++)
        num += c[r->num[j] - 1];
    *defined = den != 0;
    *v = den ? (double)num / (double)den : 0.0;
    return r->name;
}
