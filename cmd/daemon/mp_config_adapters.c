/* mp_config_adapters.c — the `adapters:` list (see mp_config_adapters.h). */
#include "mp_config_adapters.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eng_name.h"

static bool cfga__name(const char *s) { return eng_name_valid(s, strlen(s)); }

static bool cfga__path(const char *s)
{
    size_t p = strlen(MP_ADAPTERS_PREFIX);
    return strncmp(s, MP_ADAPTERS_PREFIX, p) == 0 && s[p] != '\0' && strlen(s) <= 200 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/-") ==
               strlen(s) &&
           !strstr(s, "..") && !strstr(s, "//");
}

static bool cfga__field(const char *s) { return strlen(s) <= 64 && !strpbrk(s, "\r\n"); }

static int cfga__type(const char *s, void *dst)
{
    return ingest_adapt_kind_parse(s, (enum ingest_adapt_kind *)dst);
}

/* tenants: a non-empty list of distinct tenant names */
static int cfga__tenants(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                         yaml_node_t *v, void *base)
{
    struct mp_adapter_conf *a = base;
    char q[MP_YAML_QBUF], sub[MP_YAML_PATH_MAX];
    size_t n = v->type == YAML_SEQUENCE_NODE ? mp_yaml_len(v) : 0;
    if (n == 0 || n > INGEST_ADAPT_MAX_TENANTS)
        return mp_yaml_fail(y, v, path, "expected a list of 1..%d tenant names, got %s",
                            INGEST_ADAPT_MAX_TENANTS, mp_yaml_quote(q, sizeof(q), v));
    if (!(a->tenants = calloc(n, sizeof(*a->tenants))))
        return mp_yaml_nomem(y, v, path);
    for (size_t i = 0; i < n; i++) {
        const char *s;
        snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
        int rc = mp_yaml_text(y, sub, mp_yaml_item(y, v, i), ENG_NAME_GRAMMAR, &s);
        if (rc != MP_OK)
            return rc;
        for (size_t j = 0; j < a->ntenants; j++)
            if (strcmp(a->tenants[j], s) == 0)
                return mp_yaml_fail(y, mp_yaml_item(y, v, i), sub, "duplicate tenant \"%s\"", s);
        if (!cfga__name(s))
            return mp_yaml_fail(y, mp_yaml_item(y, v, i), sub, "expected %s, got %s",
                                ENG_NAME_GRAMMAR, mp_yaml_quote(q, sizeof(q), mp_yaml_item(y, v, i)));
        if (!(a->tenants[a->ntenants] = strdup(s)))
            return mp_yaml_nomem(y, v, path);
        a->ntenants++;
    }
    return MP_OK;
}

#define AF(f) MP_YAML_FIELD(struct mp_adapter_conf, f)
static const struct mp_yaml_key cfga__keys[] = {
    {.name = "name", .type = MP_YAML_STR, AF(name), .required = true, .check = cfga__name,
     .what = ENG_NAME_GRAMMAR},
    {.name = "type", .type = MP_YAML_PARSE, AF(type), .required = true, .parse = cfga__type,
     .what = "json, mailgun, postmark, sendgrid or ses"},
    {.name = "path", .type = MP_YAML_STR, AF(path), .required = true, .check = cfga__path,
     .what = "a path under " MP_ADAPTERS_PREFIX " of [A-Za-z0-9._/-] (no .. or //)"},
    {.name = "tenant", .type = MP_YAML_STR, AF(tenant), .check = cfga__name,
     .what = ENG_NAME_GRAMMAR},
    {.name = "tenant_field", .type = MP_YAML_STR, AF(tenant_field), .check = cfga__field,
     .what = "a field name of at most 64 bytes"},
    {.name = "tenants", .type = MP_YAML_FN, .fn = cfga__tenants},
    {.name = "mailbox_field", .type = MP_YAML_STR, AF(mailbox_field), .check = cfga__field,
     .what = "a field name of at most 64 bytes"},
    {.name = "signing_key", .type = MP_YAML_STR, AF(signing_key), .what = "a string"},
    {.name = "sns_certificate", .type = MP_YAML_FN, .fn = mp_config_adapters_ses},
    {.name = "sns_hosts", .type = MP_YAML_FN, .fn = mp_config_adapters_ses},
    {.name = "topic_arns", .type = MP_YAML_FN, .fn = mp_config_adapters_ses},
    {.name = "dedup_window", .type = MP_YAML_DURATION, AF(dedup_window_ms), .min = 60000,
     .max = 30 * 24 * 3600 * 1000LL, .what = "a duration from 1m to 30d"},
    {0},
};

/* What one entry needs as a whole; refused at the key's line. */
static int cfga__check(struct mp_yaml *y, const struct mp_config *cfg, size_t i,
                       yaml_node_t *item, const char *path)
{
    const struct mp_adapter_conf *a = &cfg->adapters[i];
    char sub[MP_YAML_PATH_MAX];
    const char *key = NULL, *why = NULL;
    char kerr[160], kwhy[192];
    if ((why = mp_config_adapters_ses_check(a, &key)) != NULL)
        ; /* signing_key, and the SES keys */
    else if (!a->tenant == !a->tenant_field)
        key = "tenant", why = "set exactly one of tenant and tenant_field";
    else if (a->tenant_field && !a->tenants)
        key = "tenants", why = "required key missing (with tenant_field: the allowed tenants)";
    else if (a->tenant && a->tenants)
        key = "tenants", why = "only with tenant_field";
    else if (a->type == INGEST_ADAPT_POSTMARK && !strchr(a->signing_key, ':'))
        key = "signing_key", why = "type postmark: expected basic auth as \"user:password\"";
    else if (a->type == INGEST_ADAPT_SENDGRID &&
             ingest_adapt_key_load(a->signing_key, NULL, kerr, sizeof(kerr)) != MP_OK) {
        snprintf(kwhy, sizeof(kwhy), "type sendgrid: %s", kerr);
        key = "signing_key", why = kwhy;
    }
    for (size_t j = 0; !key && j < i; j++) {
        if (strcmp(cfg->adapters[j].name, a->name) == 0)
            key = "name", why = "duplicate adapter name";
        else if (strcmp(cfg->adapters[j].path, a->path) == 0)
            key = "path", why = "duplicate adapter path";
    }
    if (!key)
        return MP_OK;
    yaml_node_t *at = mp_yaml_find(y, item, key);
    mp_yaml_join(sub, sizeof(sub), path, key);
    return mp_yaml_fail(y, at ? at : item, sub, "%s", why);
}

int mp_config_adapters(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                       yaml_node_t *v, void *base)
{
    struct mp_config *cfg = base;
    char sub[MP_YAML_PATH_MAX];
    int rc = mp_yaml_seq_array(y, v, path, "a list of adapters", sizeof(*cfg->adapters),
                               &cfg->adapters, &cfg->n_adapters);
    for (size_t i = 0; rc == MP_OK && i < cfg->n_adapters; i++) {
        yaml_node_t *item = mp_yaml_item(y, v, i);
        snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
        cfg->adapters[i].dedup_window_ms = MP_ADAPTERS_DEDUP_DEFAULT_MS;
        rc = mp_yaml_walk(y, item, sub, cfga__keys, &cfg->adapters[i], NULL);
        if (rc == MP_OK)
            rc = cfga__check(y, cfg, i, item, sub);
    }
    return rc;
}

void mp_config_adapters_free_list(struct mp_adapter_conf *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct mp_adapter_conf *a = &list[i];
        mp_yaml_free_strings(cfga__keys, a);
        mp_config_adapters_ses_free(a);
        for (size_t j = 0; j < a->ntenants; j++)
            free(a->tenants[j]);
        free(a->tenants);
    }
    free(list);
}

void mp_config_adapters_free(struct mp_config *cfg)
{
    mp_config_adapters_free_list(cfg->adapters, cfg->n_adapters);
    cfg->adapters = NULL;
    cfg->n_adapters = 0;
}
