/* mp_tenants.c — GET /v1/tenants (see mp_tenants.h). */
#include "mp_tenants.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "mp_buf.h"
#include "mp_stats.h"

struct tenants__params {
    int win;
    size_t limit;
};

struct tenants__one {
    const char *name; /* owned by the table */
    const struct eng_key *k;
};

struct tenants__walk {
    const struct eng_table *t;
    const char *only;
    struct tenants__one *e;
    size_t n, cap;
    int nomem;
};

/* window= and limit=, each at most once: MP_OK or MP_ERR_INVAL with *out
 * the 400 body. */
static int tenants__params(const struct mp_http_request *req, struct tenants__params *p,
                           json_t **out)
{
    char echo[72];
    int seen_win = 0, seen_limit = 0;
    for (size_t i = 0; i < req->nargs; i++) {
        const char *n = req->args[i].name, *v = req->args[i].value;
        int w;
        unsigned long lim;
        if (strcmp(n, "window") == 0 && !seen_win && v && eng_window_parse(v, &w) == 0 &&
            w != ENG_WIN_PREV_7D) {
            p->win = w;
            seen_win = 1;
        } else if (strcmp(n, "limit") == 0 && !seen_limit && v &&
                   mp_stats_limit(v, MP_TENANTS_LIMIT_MAX, &lim) == 0) {
            p->limit = lim;
            seen_limit = 1;
        } else {
            mp_stats_echo(n, strlen(n), echo, sizeof(echo));
            return mp_stats_fail(out, MP_ERR_INVAL,
                                 "bad or repeated query parameter \"%s\"; allowed: "
                                 "window=1h|24h|7d, limit=1..%d",
                                 echo, MP_TENANTS_LIMIT_MAX);
        }
    }
    return MP_OK;
}

static void tenants__visit(void *arg, struct eng_key *k)
{
    struct tenants__walk *w = arg;
    const char *name = eng_key_tenant(w->t, k);
    if (w->nomem || (w->only && strcmp(name, w->only) != 0))
        return;
    if (MP_GROW(w->e, w->cap, w->n + 1) != MP_OK) {
        w->nomem = 1;
        return;
    }
    w->e[w->n++] = (struct tenants__one){name, k};
}

static int tenants__cmp(const void *a, const void *b)
{
    return strcmp(((const struct tenants__one *)a)->name, ((const struct tenants__one *)b)->name);
}

/* One tenant's entry; NULL without memory. */
static json_t *tenants__entry(const struct eng_table *t, const struct tenants__one *e, int win)
{
    const struct eng_key *k = e->k;
    uint64_t c[ENG_NTYPES];
    char day[16];
    json_t *first = json_null();
    int64_t d = eng_key_first_day(k);
    if (d >= 0) {
        time_t s = (time_t)(d * 86400);
        struct tm tm;
        strftime(day, sizeof(day), "%Y-%m-%d", gmtime_r(&s, &tm));
        first = json_string(day);
    }
    mp_stats_read(t, k, win, c);
    json_t *o = json_pack("{s:s, s:I, s:o}", "tenant", e->name, "keys",
                          (json_int_t)eng_key_children_count(k), "first_seen", first);
    if (o && mp_stats_add_figures(o, c) != 0) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

static int tenants__build(const struct eng_table *t, const struct mp_http_request *req,
                          const char *only, json_t **out)
{
    struct tenants__params p = {.win = ENG_WIN_24H, .limit = MP_TENANTS_LIMIT_DEFAULT};
    int rc = tenants__params(req, &p, out);
    if (rc != MP_OK)
        return rc;
    struct tenants__walk w = {.t = t, .only = only};
    eng_table_tenants(t, tenants__visit, &w);
    json_t *o = NULL, *list = NULL;
    if (w.nomem)
        goto nomem;
    if (w.n) /* qsort of a NULL base is undefined even for 0 elements */
        qsort(w.e, w.n, sizeof(*w.e), tenants__cmp);
    size_t n = w.n < p.limit ? w.n : p.limit;
    o = json_pack("{s:s, s:I, s:I, s:b}", "window", eng_window_name(p.win), "limit",
                  (json_int_t)p.limit, "tenants_total", (json_int_t)w.n, "truncated", w.n > n);
    if (!o || !(list = json_array()) || json_object_set_new(o, "tenants", list) != 0)
        goto nomem;
    for (size_t i = 0; i < n; i++)
        if (json_array_append_new(list, tenants__entry(t, &w.e[i], p.win)) != 0)
            goto nomem;
    free(w.e);
    *out = o;
    return MP_OK;
nomem:
    json_decref(o); /* holds list once set (set_new takes it even when it fails) */
    free(w.e);
    return MP_ERR_NOMEM;
}

void mp_tenants_reply(const struct eng_table *t, const struct mp_http_request *req,
                      const char *only, struct mp_http_reply *out)
{
    json_t *j = NULL;
    int rc = tenants__build(t, req, only, &j);
    mp_stats_render(rc, j, out);
}
