/* mp_config_providers.c — the `providers:` section (see mp_config_providers.h). */
#include "mp_config_providers.h"

#include <stdlib.h>
#include <string.h>

#include "ingest_validate.h"
#include "mp_buf.h"
#include "mp_log.h"

int mp_config_providers_build(const struct mp_providers_conf *c, struct eng_providers **out)
{
    struct eng_providers *p = NULL;
    int rc = eng_providers_create(&p);
    for (size_t i = 0; rc == MP_OK && i < c->n; i++)
        rc = eng_providers_set(p, c->e[i].provider, c->e[i].domain, strlen(c->e[i].domain));
    if (rc != MP_OK) {
        eng_providers_destroy(p);
        return rc;
    }
    *out = p;
    return MP_OK;
}

int mp_config_providers_apply(const struct mp_providers_conf *c, struct eng_table *t)
{
    struct eng_providers *p;
    int rc = mp_config_providers_build(c, &p);
    if (rc == MP_OK)
        eng_table_set_providers(t, p);
    else
        mp_error("reload_providers_failed err=\"%s\" kept=\"the providers in use\"",
                 mp_strerror(rc));
    return rc;
}

void mp_config_providers_free(struct mp_providers_conf *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->e[i].provider);
        free(c->e[i].domain);
    }
    free(c->e);
    memset(c, 0, sizeof(*c));
}

/* One domain of provider `prov` (node d, at path): checked, lower-cased,
 * refused when the file lists it already. */
static int prov__domain(struct mp_yaml *y, struct mp_providers_conf *c, const char *path,
                        const char *prov, yaml_node_t *d)
{
    char q[MP_YAML_QBUF], dom[256];
    size_t len;
    const char *s = d->type == YAML_SCALAR_NODE ? (const char *)d->data.scalar.value : NULL;
    if (!s || d->data.scalar.length != strlen(s) || d->data.scalar.length > 254 ||
        !ingest_norm_domain(s, d->data.scalar.length, dom, &len))
        return mp_yaml_fail(y, d, path, "expected a recipient domain (a host name), got %s",
                            mp_yaml_quote(q, sizeof(q), d));
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->e[i].domain, dom) == 0)
            return mp_yaml_fail(y, d, path, "domain %s is listed twice (also under %s)", dom,
                                c->e[i].provider);
    if (c->n >= ENG_PROVIDER_DOMAINS_MAX)
        return mp_yaml_fail(y, d, path, "more than %d domains", ENG_PROVIDER_DOMAINS_MAX);
    if (MP_GROW(c->e, c->cap, c->n + 1) != MP_OK)
        return mp_yaml_nomem(y, d, path);
    struct mp_provider_domain *e = &c->e[c->n];
    e->provider = strdup(prov);
    e->domain = strdup(dom);
    c->n++; /* counted even half-made: the free frees both */
    return e->provider && e->domain ? MP_OK : mp_yaml_nomem(y, d, path);
}

int mp_config_providers(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                        yaml_node_t *v, void *base)
{
    struct mp_providers_conf *c = (struct mp_providers_conf *)((char *)base + k->off);
    char q[MP_YAML_QBUF], sub[MP_YAML_PATH_MAX];
    int rc;
    if (v->type != YAML_MAPPING_NODE)
        return mp_yaml_fail(y, v, path,
                            "expected a mapping of provider name to a list of domains, got %s",
                            mp_yaml_quote(q, sizeof(q), v));
    if ((rc = mp_yaml_check_keys(y, v, path)) != MP_OK)
        return rc;
    for (size_t i = 0; i < mp_yaml_len(v); i++) {
        yaml_node_t *kn = mp_yaml_pair_key(y, v, i), *val = mp_yaml_pair_value(y, v, i);
        const char *prov = (const char *)kn->data.scalar.value;
        if (!eng_provider_name_valid(prov, strlen(prov)))
            return mp_yaml_fail(y, kn, path,
                                "invalid provider name %s: expected " ENG_PROVIDER_GRAMMAR,
                                mp_yaml_quote(q, sizeof(q), kn));
        mp_yaml_join(sub, sizeof(sub), path, prov);
        if (val->type != YAML_SEQUENCE_NODE || mp_yaml_len(val) == 0)
            return mp_yaml_fail(y, val, sub, "expected a non-empty list of domains, got %s",
                                mp_yaml_quote(q, sizeof(q), val));
        for (size_t j = 0; j < mp_yaml_len(val); j++)
            if ((rc = prov__domain(y, c, sub, prov, mp_yaml_item(y, val, j))) != MP_OK)
                return rc;
        /* the provider cap counts the built-in ones: ask the map itself */
        struct eng_providers *p;
        if ((rc = mp_config_providers_build(c, &p)) == MP_ERR_FULL)
            return mp_yaml_fail(y, kn, sub, "more than %d providers with the built-in ones",
                                ENG_PROVIDERS_MAX);
        if (rc != MP_OK)
            return mp_yaml_nomem(y, kn, sub);
        eng_providers_destroy(p);
    }
    return MP_OK;
}
