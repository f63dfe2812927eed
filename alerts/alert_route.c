/* alert_route.c — tenant routes and their matchers (see alert_route.h). */
#include "alert_route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp_buf.h"

struct entry {
    size_t id;
    size_t nm;
    char *label[ALERT_ROUTE_MATCHERS_MAX], *value[ALERT_ROUTE_MATCHERS_MAX];
    size_t n;
    size_t *idx;
    int cont;
    char *key;
};

struct route {
    char *tenant; /* NULL: the default */
    size_t n, cap;
    struct entry *e;
};

struct alert_routes {
    struct route def;
    size_t n, cap;
    struct route *r; /* few entries, config-sized: a linear scan is fine */
    size_t nentries;
};

int alert_routes_create(struct alert_routes **out)
{
    struct alert_routes *r = calloc(1, sizeof(*r));
    if (!r)
        return MP_ERR_NOMEM;
    *out = r;
    return MP_OK;
}

static void entry__free(struct entry *en)
{
    for (size_t m = 0; m < en->nm; m++) {
        free(en->label[m]);
        free(en->value[m]);
    }
    free(en->idx);
    free(en->key);
}

static void route__free(struct route *rt)
{
    for (size_t i = 0; i < rt->n; i++)
        entry__free(&rt->e[i]);
    free(rt->e);
    free(rt->tenant);
    memset(rt, 0, sizeof(*rt));
}

void alert_routes_destroy(struct alert_routes *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        route__free(&r->r[i]);
    free(r->r);
    route__free(&r->def);
    free(r);
}

/* The tenant's own route, NULL when it has none. */
static struct route *route__find(const struct alert_routes *r, const char *tenant)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->r[i].tenant, tenant) == 0)
            return &r->r[i];
    return NULL;
}

/* "{}" or "{}/{a=\"x\", b=\"y\"}" with the labels sorted. */
static char *entry__key(const struct entry *en)
{
    struct mp_buf b = MP_BUF_INIT;
    size_t order[ALERT_ROUTE_MATCHERS_MAX];
    for (size_t m = 0; m < en->nm; m++) {
        size_t x = m;
        while (x > 0 && strcmp(en->label[order[x - 1]], en->label[m]) > 0) {
            order[x] = order[x - 1];
            x--;
        }
        order[x] = m;
    }
    int rc = mp_buf_puts(&b, "{}");
    for (size_t m = 0; rc == MP_OK && m < en->nm; m++)
        rc = mp_buf_printf(&b, "%s%s=\"%s\"", m ? ", " : "/{", en->label[order[m]],
                           en->value[order[m]]);
    if (rc == MP_OK && en->nm)
        rc = mp_buf_puts(&b, "}");
    if (rc != MP_OK) {
        mp_buf_free(&b);
        return NULL;
    }
    return b.p;
}

static int entry__fill(struct entry *en, const struct alert_route_matcher *m, size_t nm,
                       const size_t *idx, size_t n, int cont)
{
    memset(en, 0, sizeof(*en));
    en->cont = cont;
    for (; en->nm < nm; en->nm++) {
        en->label[en->nm] = strdup(m[en->nm].label);
        en->value[en->nm] = strdup(m[en->nm].value);
        if (!en->label[en->nm] || !en->value[en->nm]) {
            en->nm++;
            return MP_ERR_NOMEM;
        }
    }
    if (n && !(en->idx = malloc(n * sizeof(*en->idx))))
        return MP_ERR_NOMEM;
    if (n)
        memcpy(en->idx, idx, n * sizeof(*en->idx));
    en->n = n;
    return (en->key = entry__key(en)) ? MP_OK : MP_ERR_NOMEM;
}

static int route__append(struct alert_routes *r, struct route *rt,
                         const struct alert_route_matcher *m, size_t nm, const size_t *idx,
                         size_t n, int cont)
{
    if (nm > ALERT_ROUTE_MATCHERS_MAX)
        return MP_ERR_INVAL;
    if (n == 0)
        return MP_OK; /* reaches nobody: the alert stays unrouted (and is counted so) */
    if (MP_GROW(rt->e, rt->cap, rt->n + 1) != MP_OK)
        return MP_ERR_NOMEM;
    struct entry *en = &rt->e[rt->n];
    if (entry__fill(en, m, nm, idx, n, cont) != MP_OK) {
        entry__free(en);
        return MP_ERR_NOMEM;
    }
    en->id = r->nentries++;
    rt->n++;
    return MP_OK;
}

/* The route of `tenant` (NULL: the default), created when missing. */
static struct route *route__get(struct alert_routes *r, const char *tenant)
{
    if (!tenant)
        return &r->def;
    struct route *rt = route__find(r, tenant);
    if (rt)
        return rt;
    if (MP_GROW(r->r, r->cap, r->n + 1) != MP_OK)
        return NULL;
    rt = &r->r[r->n];
    memset(rt, 0, sizeof(*rt));
    if (!(rt->tenant = strdup(tenant)))
        return NULL;
    r->n++;
    return rt;
}

int alert_routes_set_default(struct alert_routes *r, const size_t *idx, size_t n)
{
    struct route old = r->def;
    memset(&r->def, 0, sizeof(r->def));
    int rc = route__append(r, &r->def, NULL, 0, idx, n, 0);
    if (rc != MP_OK) {
        route__free(&r->def);
        r->def = old;
        return rc;
    }
    route__free(&old);
    return MP_OK;
}

int alert_routes_add(struct alert_routes *r, const char *tenant, const size_t *idx, size_t n)
{
    if (route__find(r, tenant))
        return MP_ERR_INVAL;
    return alert_routes_add_entry(r, tenant, NULL, 0, idx, n, 0);
}

int alert_routes_add_entry(struct alert_routes *r, const char *tenant,
                           const struct alert_route_matcher *m, size_t nm, const size_t *idx,
                           size_t n, int cont)
{
    if (nm > ALERT_ROUTE_MATCHERS_MAX)
        return MP_ERR_INVAL;
    struct route *rt = route__get(r, tenant);
    return rt ? route__append(r, rt, m, nm, idx, n, cont) : MP_ERR_NOMEM;
}

static const struct route *route__for(const struct alert_routes *r, const char *tenant)
{
    const struct route *rt = route__find(r, tenant);
    return rt ? rt : &r->def;
}

void alert_routes_lookup(const struct alert_routes *r, const char *tenant, const size_t **idx,
                         size_t *n)
{
    const struct route *rt = route__for(r, tenant);
    *idx = rt->n ? rt->e[0].idx : NULL;
    *n = rt->n ? rt->e[0].n : 0;
}

static int entry__matches(const struct entry *en, alert_route_label_fn get, void *arg)
{
    for (size_t m = 0; m < en->nm; m++) {
        const char *v = get(arg, en->label[m]);
        if (!v || !*v || strcmp(v, en->value[m]) != 0)
            return 0;
    }
    return 1;
}

size_t alert_routes_match(const struct alert_routes *r, const char *tenant,
                          alert_route_label_fn get, void *arg, struct alert_route_hit *out,
                          size_t cap)
{
    const struct route *rt = route__for(r, tenant);
    size_t got = 0;
    for (size_t i = 0; i < rt->n && got < cap; i++) {
        const struct entry *en = &rt->e[i];
        if (!entry__matches(en, get, arg))
            continue;
        out[got++] = (struct alert_route_hit){.id = en->id, .idx = en->idx, .n = en->n,
                                              .key = en->key};
        if (!en->cont)
            break;
    }
    return got;
}

size_t alert_routes_entries(const struct alert_routes *r) { return r->nentries; }
