/* mp_config_curve.c — the ingest.curve section (see mp_config_curve.h). */
#include "mp_config_curve.h"

#include <stdlib.h>
#include <string.h>

#include "eng_name.h"

#define CURVE_CFG__KEY "a Z85 key of 40 characters (mailpulse keygen prints one)"
#define CURVE_CFG__FIELD(base, k) ((void *)((char *)(base) + (k)->off))
enum { CURVE_CFG__SECRET = 1u, CURVE_CFG__SECRET_FILE = 2u };

/* A non-null scalar without a NUL inside, or a refusal naming `what`
 * without echoing the value when `secret`. */
static int curve_cfg__scalar(struct mp_yaml *y, yaml_node_t *v, const char *path, const char *what,
                             int secret, const char **s)
{
    if (v->type != YAML_SCALAR_NODE || mp_yaml_is_null(v) ||
        strlen((const char *)v->data.scalar.value) != v->data.scalar.length)
        return mp_yaml_fail(y, v, path, "expected %s, got %s", what,
                            mp_yaml_is_null(v) ? "null" : secret ? "something else" : mp_yaml_kind(v));
    *s = (const char *)v->data.scalar.value;
    return MP_OK;
}

static int curve_cfg__secret(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                             yaml_node_t *v, void *base)
{
    struct ingest_curve_conf *c = base;
    const char *s;
    int rc = curve_cfg__scalar(y, v, path, "the server's secret key, " CURVE_CFG__KEY, 1, &s);
    if (rc != MP_OK)
        return rc;
    if (!ingest_curve_key_valid(s))
        return mp_yaml_fail(y, v, path, "expected " CURVE_CFG__KEY " (value not shown)");
    memcpy(c->secret_key, s, sizeof(c->secret_key));
    return MP_OK;
}

static int curve_cfg__secret_file(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                                  yaml_node_t *v, void *base)
{
    struct ingest_curve_conf *c = base;
    const char *s;
    char *abs = NULL, why[512];
    int rc = mp_yaml_text(y, path, v, "a file path", &s);
    if (rc != MP_OK)
        return rc;
    if (mp_yaml_resolve(y, s, &abs) != MP_OK)
        return mp_yaml_nomem(y, v, path);
    if (ingest_curve_read_key_file(abs, c->secret_key, why, sizeof(why)) != MP_OK)
        rc = mp_yaml_fail(y, v, path, "%s", why);
    free(abs);
    return rc;
}

static int curve_cfg__public_key(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                                 yaml_node_t *v, void *base)
{
    struct ingest_curve_client_conf *cl = base;
    char q[MP_YAML_QBUF];
    const char *s;
    int rc = curve_cfg__scalar(y, v, path, "a producer's public key, " CURVE_CFG__KEY, 0, &s);
    if (rc != MP_OK)
        return rc;
    if (!ingest_curve_key_valid(s)) /* a public key may be shown */
        return mp_yaml_fail(y, v, path, "expected " CURVE_CFG__KEY ", got %s",
                            mp_yaml_quote(q, sizeof(q), v));
    memcpy(cl->public_key, s, sizeof(cl->public_key));
    return MP_OK;
}

/* One tenant of a client's list; "*" only alone. */
static int curve_cfg__tenant(struct mp_yaml *y, struct ingest_curve_client_conf *cl, yaml_node_t *seq,
                             size_t i, const char *path)
{
    char q[MP_YAML_QBUF];
    yaml_node_t *item = mp_yaml_item(y, seq, i);
    const char *name;
    int rc = mp_yaml_scalar(y, path, item, "a tenant name or \"*\"", &name);
    if (rc != MP_OK)
        return rc;
    if (strcmp(name, "*") == 0) {
        if (mp_yaml_len(seq) != 1)
            return mp_yaml_fail(y, item, path, "\"*\" (any tenant) must be the only item");
        cl->any_tenant = 1;
        return MP_OK;
    }
    if (!eng_name_valid(name, strlen(name)))
        return mp_yaml_fail(y, item, path, "invalid tenant name %s: expected " ENG_NAME_GRAMMAR
                            " or \"*\"", mp_yaml_quote(q, sizeof(q), item));
    for (size_t j = 0; j < cl->n_tenants; j++)
        if (strcmp(cl->tenants[j], name) == 0)
            return mp_yaml_fail(y, item, path, "tenant %s listed twice",
                                mp_yaml_quote(q, sizeof(q), item));
    if ((cl->tenants[cl->n_tenants] = strdup(name)) == NULL)
        return mp_yaml_nomem(y, item, path);
    cl->n_tenants++;
    return MP_OK;
}

static int curve_cfg__tenants(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                              yaml_node_t *v, void *base)
{
    struct ingest_curve_client_conf *cl = base;
    size_t n = mp_yaml_len(v);
    if (v->type != YAML_SEQUENCE_NODE)
        return mp_yaml_expected(y, v, path, "a list of tenant names, or [\"*\"] for any");
    if (n == 0)
        return mp_yaml_fail(y, v, path, "expected at least one tenant, or [\"*\"] for any");
    if (n > INGEST_CURVE_MAX_TENANTS)
        return mp_yaml_fail(y, v, path, "%zu tenants, at most %d per client", n,
                            INGEST_CURVE_MAX_TENANTS);
    if ((cl->tenants = calloc(n, sizeof(*cl->tenants))) == NULL)
        return mp_yaml_nomem(y, v, path);
    int rc = MP_OK;
    for (size_t i = 0; rc == MP_OK && i < n; i++)
        rc = curve_cfg__tenant(y, cl, v, i, path);
    return rc;
}

static const struct mp_yaml_key curve_cfg__client_keys[] = {
    {.name = "public_key", .type = MP_YAML_FN, .required = true, .fn = curve_cfg__public_key},
    {.name = "tenants", .type = MP_YAML_FN, .required = true, .fn = curve_cfg__tenants},
    {0},
};

static int curve_cfg__clients(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                              yaml_node_t *v, void *base)
{
    struct ingest_curve_conf *c = base;
    char sub[MP_YAML_PATH_MAX];
    size_t n = mp_yaml_len(v);
    if (v->type != YAML_SEQUENCE_NODE)
        return mp_yaml_expected(y, v, path, "a list of clients (public_key, tenants)");
    if (n == 0)
        return mp_yaml_fail(y, v, path, "expected at least one client: with none, no producer "
                                        "could connect");
    if (n > INGEST_CURVE_MAX_CLIENTS)
        return mp_yaml_fail(y, v, path, "%zu clients, at most %d", n, INGEST_CURVE_MAX_CLIENTS);
    if ((c->clients = calloc(n, sizeof(*c->clients))) == NULL)
        return mp_yaml_nomem(y, v, path);
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = mp_yaml_item(y, v, i);
        c->n_clients = i + 1; /* what mp_config_free() releases */
        snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
        int rc = mp_yaml_walk(y, item, sub, curve_cfg__client_keys, &c->clients[i], NULL);
        if (rc != MP_OK)
            return rc;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(c->clients[j].public_key, c->clients[i].public_key) != 0)
                continue;
            yaml_node_t *at = mp_yaml_find(y, item, "public_key");
            snprintf(sub, sizeof(sub), "%s[%zu].public_key", path, i);
            return mp_yaml_fail(y, at ? at : item, sub, "public key listed twice (already %s[%zu])",
                                path, j);
        }
    }
    return MP_OK;
}

static const struct mp_yaml_key curve_cfg__keys[] = {
    {.name = "secret_key", .type = MP_YAML_FN, .mark = CURVE_CFG__SECRET, .fn = curve_cfg__secret},
    {.name = "secret_key_file", .type = MP_YAML_FN, .mark = CURVE_CFG__SECRET_FILE,
     .fn = curve_cfg__secret_file},
    {.name = "clients", .type = MP_YAML_FN, .required = true, .fn = curve_cfg__clients},
    {0},
};

int mp_config_curve(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                    yaml_node_t *v, void *base)
{
    struct ingest_curve_conf *c = CURVE_CFG__FIELD(base, k);
    unsigned marks = 0;
    char sub[MP_YAML_PATH_MAX];
    int rc = mp_yaml_walk_what(y, v, path,
                               "a mapping with secret_key or secret_key_file, and clients",
                               curve_cfg__keys, c, &marks);
    if (rc != MP_OK)
        return rc;
    if (marks == 0 || marks == (CURVE_CFG__SECRET | CURVE_CFG__SECRET_FILE)) {
        yaml_node_t *at = mp_yaml_find(y, v, "secret_key_file");
        mp_yaml_join(sub, sizeof(sub), path, marks ? "secret_key_file" : "secret_key");
        return mp_yaml_fail(y, at ? at : v, sub,
                            marks ? "give one of secret_key and secret_key_file, not both"
                                  : "required key missing: give secret_key or secret_key_file");
    }
    c->enabled = 1;
    return MP_OK;
}
