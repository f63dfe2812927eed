/* alert_route.c — tenant routes (see alert_route.h). */
#include "alert_route.h"

#include <stdlib.h>
#include <string.h>

#include "mp_buf.h"

struct route {
    char *tenant;
    size_t n;
    size_t *idx;
};

struct alert_routes {
    struct route def;
    size_t n, cap;
    struct route *r; /* few entries, config-sized: a linear scan is fine */
};

int alert_routes_create(struct alert_routes **out)
{
    struct alert_routes *r = calloc(1, sizeof(*r));
    if (!r)
        return MP_ERR_NOMEM;
    *out = r;
    return MP_OK;
}

void alert_routes_destroy(struct alert_routes *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->r[i].tenant);
        free(r->r[i].idx);
    }
    free(r->r);
    free(r->def.idx);
    free(r);
}

static int route__fill(struct route *rt, const size_t *idx, size_t n)
{
    size_t *copy = n ? malloc(n * sizeof(*copy)) : NULL;
    if (n && !copy)
        return MP_ERR_NOMEM;
    if (n)
        memcpy(copy, idx, n * sizeof(*copy));
    free(rt->idx);
    rt->idx = copy;
    rt->n = n;
    return MP_OK;
}

/* The tenant's own route, NULL when it has none. */
static const struct route *route__find(const struct alert_routes *r, const char *tenant)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->r[i].tenant, tenant) == 0)
            return &r->r[i];
    return NULL;
}

int alert_routes_set_default(struct alert_routes *r, const size_t *idx, size_t n)
{
    return route__fill(&r->def, idx, n);
}

int alert_routes_add(struct alert_routes *r, const char *tenant, const size_t *idx, size_t n)
{
    if (route__find(r, tenant))
        return MP_ERR_INVAL;
    if (MP_GROW(r->r, r->cap, r->n + 1) != MP_OK)
        return MP_ERR_NOMEM;
    struct route *rt = &r->r[r->n];
    memset(rt, 0, sizeof(*rt));
    rt->tenant = strdup(tenant);
    if (!rt->tenant || route__fill(rt, idx, n) != MP_OK) {
        free(rt->tenant);
        return MP_ERR_NOMEM;
    }
    r->n++;
    return MP_OK;
}

void alert_routes_lookup(const struct alert_routes *r, const char *tenant, const size_t **idx,
                         size_t *n)
{
    const struct route *rt = route__find(r, tenant);
    if (!rt)
        rt = &r->def;
    *idx = rt->idx;
    *n = rt->n;
}
