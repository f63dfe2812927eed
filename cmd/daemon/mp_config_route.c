/* mp_config_route.c — the `routes` section (see mp_config_route.h). */
#include "mp_config_route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eng_name.h"

static const char *const route__labels[] = {"alertname", "rule",     "severity",
                                            "tenant",    "mailbox",  "recipient_domain",
                                            "provider",  "campaign"};
#define ROUTE__LABELS                                                                          \
    "alertname, rule, severity, tenant, mailbox, recipient_domain, provider or campaign"

/* Turns a list of receiver names into indices into cfg->receivers. */
static int route__names(struct mp_yaml *y, const struct mp_config *cfg, const char *path,
                        yaml_node_t *v, size_t **out, size_t *n_out)
{
    char q[MP_YAML_QBUF];
    int rc = mp_yaml_seq_array(y, v, path, "a list of receiver names", sizeof(**out), out, n_out);
    for (size_t i = 0; rc == MP_OK && i < *n_out; i++) {
        yaml_node_t *item = mp_yaml_item(y, v, i);
        const char *name;
        size_t r = 0;
        if ((rc = mp_yaml_scalar(y, path, item, "a receiver name", &name)) != MP_OK)
            break;
        while (r < cfg->n_receivers && strcmp(cfg->receivers[r].name, name) != 0)
            r++;
        if (r == cfg->n_receivers)
            return mp_yaml_fail(y, item, path, "unknown receiver %s",
                                mp_yaml_quote(q, sizeof(q), item));
        for (size_t j = 0; j < i; j++)
            if ((*out)[j] == r) /* one receiver twice would get every alert twice */
                return mp_yaml_fail(y, item, path, "receiver %s listed twice",
                                    mp_yaml_quote(q, sizeof(q), item));
        (*out)[i] = r;
    }
    return rc;
}

static int route__match(struct mp_yaml *y, const char *path, yaml_node_t *v,
                        struct mp_route_entry_conf *en)
{
    char q[MP_YAML_QBUF], sub[MP_YAML_PATH_MAX];
    int rc;
    if (v->type != YAML_MAPPING_NODE || mp_yaml_len(v) == 0)
        return mp_yaml_expected(y, v, path, "a mapping of label to value");
    if (mp_yaml_len(v) > MP_ROUTE_MATCHERS_MAX)
        return mp_yaml_fail(y, v, path, "at most %d matchers", MP_ROUTE_MATCHERS_MAX);
    if ((rc = mp_yaml_check_keys(y, v, path)) != MP_OK)
        return rc;
    for (size_t i = 0; i < mp_yaml_len(v); i++) {
        yaml_node_t *kn = mp_yaml_pair_key(y, v, i), *vn = mp_yaml_pair_value(y, v, i);
        const char *label = (const char *)kn->data.scalar.value, *value;
        size_t l = 0;
        while (l < sizeof(route__labels) / sizeof(*route__labels) &&
               strcmp(route__labels[l], label) != 0)
            l++;
        if (l == sizeof(route__labels) / sizeof(*route__labels))
            return mp_yaml_fail(y, kn, path, "unknown label %s: expected " ROUTE__LABELS,
                                mp_yaml_quote(q, sizeof(q), kn));
        mp_yaml_join(sub, sizeof(sub), path, label);
        if ((rc = mp_yaml_text(y, sub, vn, "a label value", &value)) != MP_OK)
            return rc;
        if (!(en->label[en->nm] = strdup(label)) || !(en->value[en->nm] = strdup(value))) {
            en->nm++;
            return mp_yaml_nomem(y, vn, sub);
        }
        en->nm++;
    }
    return MP_OK;
}

/* One entry {match, receivers, continue}. */
static int route__entry(struct mp_yaml *y, const struct mp_config *cfg, const char *path,
                        yaml_node_t *v, struct mp_route_entry_conf *en)
{
    char sub[MP_YAML_PATH_MAX];
    int rc, have_receivers = 0;
    if (v->type != YAML_MAPPING_NODE)
        return mp_yaml_expected(y, v, path, "a route entry {match, receivers, continue}");
    if ((rc = mp_yaml_check_keys(y, v, path)) != MP_OK)
        return rc;
    for (size_t i = 0; rc == MP_OK && i < mp_yaml_len(v); i++) {
        yaml_node_t *kn = mp_yaml_pair_key(y, v, i), *vn = mp_yaml_pair_value(y, v, i);
        const char *key = (const char *)kn->data.scalar.value, *s;
        mp_yaml_join(sub, sizeof(sub), path, key);
        if (strcmp(key, "match") == 0) {
            rc = route__match(y, sub, vn, en);
        } else if (strcmp(key, "receivers") == 0) {
            have_receivers = 1;
            if ((rc = route__names(y, cfg, sub, vn, &en->receivers, &en->n)) == MP_OK &&
                en->n == 0)
                rc = mp_yaml_fail(y, vn, sub, "expected at least one receiver");
        } else if (strcmp(key, "continue") == 0) {
            if ((rc = mp_yaml_scalar(y, sub, vn, "true or false", &s)) == MP_OK) {
                if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
                    en->cont = s[0] == 't';
                else
                    rc = mp_yaml_expected(y, vn, sub, "true or false");
            }
        } else {
            rc = mp_yaml_fail(y, kn, sub, "unknown key (known here: match, receivers, continue)");
        }
    }
    if (rc == MP_OK && !have_receivers)
        rc = mp_yaml_fail(y, v, path, "route entry without receivers");
    return rc;
}

/* A route list in either form: names into (*idx, *n), entries into (*en, *nen). */
static int route__list(struct mp_yaml *y, const struct mp_config *cfg, const char *path,
                       yaml_node_t *v, size_t **idx, size_t *n,
                       struct mp_route_entry_conf **en, size_t *nen)
{
    char sub[MP_YAML_PATH_MAX];
    size_t maps = 0, len = v->type == YAML_SEQUENCE_NODE ? mp_yaml_len(v) : 0;
    for (size_t i = 0; i < len; i++)
        maps += mp_yaml_item(y, v, i)->type == YAML_MAPPING_NODE;
    if (maps == 0)
        return route__names(y, cfg, path, v, idx, n);
    if (maps != len)
        return mp_yaml_fail(y, v, path,
                            "expected a list of receiver names or a list of route entries "
                            "{match, receivers, continue}, not both");
    int rc = mp_yaml_seq_array(y, v, path, "a list of route entries", sizeof(**en), en, nen);
    for (size_t i = 0; rc == MP_OK && i < *nen; i++) {
        snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
        rc = route__entry(y, cfg, sub, mp_yaml_item(y, v, i), &(*en)[i]);
    }
    return rc;
}

static int route__tenants(struct mp_yaml *y, const char *path, yaml_node_t *v,
                          struct mp_config *cfg)
{
    char q[MP_YAML_QBUF], sub[MP_YAML_PATH_MAX];
    int rc;
    if (v->type != YAML_MAPPING_NODE)
        return mp_yaml_expected(y, v, path, "a mapping of tenant name to receivers");
    if ((rc = mp_yaml_check_keys(y, v, path)) != MP_OK)
        return rc;
    if (mp_yaml_len(v) && !(cfg->routes = calloc(mp_yaml_len(v), sizeof(*cfg->routes))))
        return mp_yaml_nomem(y, v, path);
    for (size_t i = 0; i < mp_yaml_len(v); i++) {
        yaml_node_t *kn = mp_yaml_pair_key(y, v, i);
        struct mp_route_conf *r = &cfg->routes[i];
        const char *tenant = (const char *)kn->data.scalar.value;
        cfg->n_routes = i + 1;
        if (!eng_name_valid(tenant, strlen(tenant)))
            return mp_yaml_fail(y, kn, path, "invalid tenant name %s: expected " ENG_NAME_GRAMMAR,
                                mp_yaml_quote(q, sizeof(q), kn));
        if ((r->tenant = strdup(tenant)) == NULL)
            return mp_yaml_nomem(y, kn, path);
        mp_yaml_join(sub, sizeof(sub), path, tenant);
        rc = route__list(y, cfg, sub, mp_yaml_pair_value(y, v, i), &r->receivers, &r->n,
                         &r->entries, &r->n_entries);
        if (rc != MP_OK)
            return rc;
    }
    return MP_OK;
}

int mp_config_route_default(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                            yaml_node_t *v, void *base)
{
    struct mp_config *cfg = base;
    return route__list(y, cfg, path, v, &cfg->default_route, &cfg->n_default_route,
                       &cfg->default_entries, &cfg->n_default_entries);
}

int mp_config_route_tenants(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                            yaml_node_t *v, void *base)
{
    return route__tenants(y, path, v, base);
}

void mp_config_route_entries_free(struct mp_route_entry_conf *e, size_t n)
{
    for (size_t i = 0; e && i < n; i++) {
        for (size_t m = 0; m < e[i].nm; m++) {
            free(e[i].label[m]);
            free(e[i].value[m]);
        }
        free(e[i].receivers);
    }
    free(e);
}
