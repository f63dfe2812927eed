/* mp_config_gate.c — the `gate` section (see mp_config_gate.h). */
#include "mp_config_gate.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "eng_name.h"
#include "ingest_validate.h"
#include "mp.h"
#include "mp_addr.h"

static const char *const gate__actions[] = {"DEFER_IF_PERMIT", "DEFER", "HOLD"};

const char *mp_config_gate_action_name(int action)
{
    return action >= 0 && action < (int)MP_ARRAY_LEN(gate__actions) ? gate__actions[action]
                                                                     : "DUNNO";
}

static int gate__action(const char *s, void *dst)
{
    for (size_t i = 0; i < MP_ARRAY_LEN(gate__actions); i++)
        if (strcmp(s, gate__actions[i]) == 0) {
            *(int *)dst = (int)i;
            return 0;
        }
    return -1;
}

static bool gate__listen_ok(const char *s)
{
    struct mp_addr a;
    return mp_addr_parse(s, &a, NULL, 0) == MP_OK;
}

static int gate__cmp(const void *x, const void *y)
{
    return strcmp(((const struct mp_gate_map *)x)->key, ((const struct mp_gate_map *)y)->key);
}

/* Adds (key, tenant) to the map; MP_OK or MP_ERR_NOMEM. */
static int gate__add(struct mp_gate_map **m, size_t *n, const char *key, const char *tenant)
{
    struct mp_gate_map *nm = realloc(*m, (*n + 1) * sizeof(**m));
    if (!nm)
        return MP_ERR_NOMEM;
    *m = nm;
    nm[*n] = (struct mp_gate_map){strdup(key), strdup(tenant)};
    (*n)++;
    return nm[*n - 1].key && nm[*n - 1].tenant ? MP_OK : MP_ERR_NOMEM;
}

/* One tenant's list of sender domains, at path gate.tenants.<tenant>. */
static int gate__domains(struct mp_yaml *y, struct mp_gate_conf *g, yaml_node_t *list,
                         const char *path, const char *tenant)
{
    char q[MP_YAML_QBUF], dom[256];
    if (list->type != YAML_SEQUENCE_NODE || mp_yaml_len(list) == 0)
        return mp_yaml_expected(y, list, path, "a non-empty list of sender domains");
    for (size_t i = 0; i < mp_yaml_len(list); i++) {
        yaml_node_t *it = mp_yaml_item(y, list, i);
        const char *s;
        size_t len;
        if (mp_yaml_scalar(y, path, it, "a sender domain such as acme.example", &s) != MP_OK)
            return MP_ERR_PARSE;
        if (strlen(s) >= sizeof(dom) || !ingest_norm_domain(s, strlen(s), dom, &len))
            return mp_yaml_fail(y, it, path, "expected a host name such as acme.example, got %s",
                                mp_yaml_quote(q, sizeof(q), it));
        for (size_t j = 0; j < g->n_domains; j++)
            if (strcmp(g->domains[j].key, dom) == 0)
                return mp_yaml_fail(y, it, path, "%s is already tenant %s's: a sender domain "
                                    "belongs to one tenant", dom, g->domains[j].tenant);
        if (gate__add(&g->domains, &g->n_domains, dom, tenant) != MP_OK)
            return mp_yaml_nomem(y, it, path);
    }
    return MP_OK;
}

/* gate.tenants (tenant -> domain list) or gate.sasl_users (user -> tenant). */
static int gate__map(struct mp_yaml *y, yaml_node_t *v, const char *path, struct mp_gate_conf *g,
                     bool users)
{
    char q[MP_YAML_QBUF], sub[MP_YAML_PATH_MAX];
    int rc;
    if (v->type != YAML_MAPPING_NODE)
        return mp_yaml_expected(y, v, path, users ? "a mapping of sasl_username to tenant"
                                                  : "a mapping of tenant to sender domains");
    if ((rc = mp_yaml_check_keys(y, v, path)) != MP_OK)
        return rc;
    for (size_t i = 0; i < mp_yaml_len(v); i++) {
        yaml_node_t *kn = mp_yaml_pair_key(y, v, i), *val = mp_yaml_pair_value(y, v, i);
        const char *name = (const char *)kn->data.scalar.value, *tenant;
        /* a sasl_username may be an address: printable, no spaces, bounded */
        if (users ? !mp_yaml_no_space(name) || strlen(name) > 255
                  : !eng_name_valid(name, strlen(name)))
            return mp_yaml_fail(y, kn, path, "invalid %s %s: expected %s",
                                users ? "sasl_username" : "tenant name",
                                mp_yaml_quote(q, sizeof(q), kn),
                                users ? "1..255 printable characters without spaces"
                                      : ENG_NAME_GRAMMAR);
        mp_yaml_join(sub, sizeof(sub), path, name);
        if (!users) {
            rc = gate__domains(y, g, val, sub, name);
        } else if ((rc = mp_yaml_scalar(y, sub, val, "a tenant name", &tenant)) == MP_OK) {
            if (!eng_name_valid(tenant, strlen(tenant)))
                return mp_yaml_fail(y, val, sub, "expected a tenant name (" ENG_NAME_GRAMMAR
                                    "), got %s", mp_yaml_quote(q, sizeof(q), val));
            if (gate__add(&g->users, &g->n_users, name, tenant) != MP_OK)
                return mp_yaml_nomem(y, val, sub);
        }
        if (rc != MP_OK)
            return rc;
    }
    return MP_OK;
}

#define GF(f) MP_YAML_FIELD(struct mp_gate_conf, f)
static const struct mp_yaml_key gate__keys[] = {
    {.name = "policy_listen", .type = MP_YAML_STR, GF(policy_listen), .check = gate__listen_ok,
     .what = "host:port such as 127.0.0.1:7402 or [::1]:7402"},
    {.name = "cool_down", .type = MP_YAML_DURATION, GF(cool_down_ms), .flags = MP_YAML_ZERO_BARE,
     .min = 0, .max = 24 * 3600 * 1000LL, .what = "0s or a duration such as 15m (at most 24h)"},
    {.name = "policy_action", .type = MP_YAML_PARSE, GF(action), .parse = gate__action,
     .what = "DEFER_IF_PERMIT, DEFER or HOLD"},
    {.name = "notify", .type = MP_YAML_BOOL, GF(notify)},
    {.name = "tenants", .type = MP_YAML_DEFER},
    {.name = "sasl_users", .type = MP_YAML_DEFER},
    {0},
};

int mp_config_gate(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                   yaml_node_t *v, void *base)
{
    struct mp_gate_conf *g = (struct mp_gate_conf *)(void *)((char *)base + k->off);
    char sub[MP_YAML_PATH_MAX];
    int rc;
    if ((rc = mp_yaml_walk_what(y, v, path, "a mapping (policy_listen, tenants, cool_down, ...)",
                                gate__keys, g, NULL)) != MP_OK)
        return rc;
    yaml_node_t *t = mp_yaml_find(y, v, "tenants"), *u = mp_yaml_find(y, v, "sasl_users");
    mp_yaml_join(sub, sizeof(sub), path, "tenants");
    if (t && (rc = gate__map(y, t, sub, g, false)) != MP_OK)
        return rc;
    mp_yaml_join(sub, sizeof(sub), path, "sasl_users");
    if (u && (rc = gate__map(y, u, sub, g, true)) != MP_OK)
        return rc;
    if (g->n_domains)
        qsort(g->domains, g->n_domains, sizeof(*g->domains), gate__cmp);
    if (g->n_users)
        qsort(g->users, g->n_users, sizeof(*g->users), gate__cmp);
    return MP_OK;
}

void mp_config_gate_free(struct mp_gate_conf *g)
{
    struct mp_gate_map *m[2] = {g->domains, g->users};
    size_t n[2] = {g->n_domains, g->n_users};
    for (int x = 0; x < 2; x++) {
        for (size_t i = 0; i < n[x]; i++) {
            free(m[x][i].key);
            free(m[x][i].tenant);
        }
        free(m[x]);
    }
    free(g->policy_listen);
    memset(g, 0, sizeof(*g));
}

static const char *gate__find(const struct mp_gate_map *m, size_t n, const char *key)
{
    struct mp_gate_map k = {(char *)key, NULL};
    const struct mp_gate_map *f = n ? bsearch(&k, m, n, sizeof(*m), gate__cmp) : NULL;
    return f ? f->tenant : NULL;
}

const char *mp_config_gate_tenant(const struct mp_gate_conf *g, const char *domain,
                                  const char *user)
{
    const char *t = user && *user ? gate__find(g->users, g->n_users, user) : NULL;
    return t ? t : domain ? gate__find(g->domains, g->n_domains, domain) : NULL;
}
