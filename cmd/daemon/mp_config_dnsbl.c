/* mp_config_dnsbl.c — the `blocklists` section (see mp_config_dnsbl.h). */
#include "mp_config_dnsbl.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "eng_name.h"
#include "mp.h"
#include "mp_addr.h"
#include "mp_dnsq.h"

void mp_config_dnsbl_defaults(struct mp_dnsbl_conf *c)
{
    memset(c, 0, sizeof(*c));
    c->interval_ms = MP_DNSBL_INTERVAL_DEFAULT_MS;
    c->timeout_ms = 5000;
    c->tries = 2;
}

int mp_config_dnsbl_resolver_ok(const char *s)
{
    struct mp_addr a;
    unsigned char b[16];
    return mp_addr_parse(s, &a, NULL, 0) == MP_OK &&
           inet_pton(a.ipv6 ? AF_INET6 : AF_INET, a.host, b) == 1;
}

static bool dnsbl__resolver_ok(const char *s) { return mp_config_dnsbl_resolver_ok(s); }

#define RESOLVER_WHAT "an address with a port such as 127.0.0.1:53 or [::1]:53 (no host name)"

/* A host name (zone or domain) lower-cased into out (MP_DNSQ_NAME_MAX). */
static bool dnsbl__host(const char *s, char *out)
{
    char q[MP_DNSQ_NAME_MAX + 4];
    size_t len = strlen(s);
    /* mp_dnsq_domain_name checks and lower-cases "s.x"; cut the ".x" off */
    if (len > 250 || mp_dnsq_is_ip(s) || mp_dnsq_domain_name(s, "x", q, sizeof(q)) != MP_OK)
        return false;
    q[strlen(q) - 2] = '\0';
    memcpy(out, q, strlen(q) + 1);
    return true;
}

static int dnsbl__type(const char *s, void *dst)
{
    int t = strcmp(s, "ip") == 0 ? MP_DNSBL_IP : strcmp(s, "domain") == 0 ? MP_DNSBL_DOMAIN : -1;
    if (t < 0)
        return -1;
    *(int *)dst = t;
    return 0;
}

/* A return code: an IPv4 address in 127/8, not 127.255.255.x. */
static bool dnsbl__code_ok(const char *s)
{
    unsigned char b[4];
    return inet_pton(AF_INET, s, b) == 1 && b[0] == 127 && !(b[1] == 255 && b[2] == 255);
}

/* zones.<name>.codes */
static int dnsbl__codes(struct mp_yaml *y, yaml_node_t *v, const char *path,
                        struct mp_dnsbl_zone *z)
{
    char q[MP_YAML_QBUF], sub[MP_YAML_PATH_MAX];
    const char *meaning;
    int rc;
    if (v->type != YAML_MAPPING_NODE)
        return mp_yaml_expected(y, v, path, "a mapping of return code to meaning");
    if ((rc = mp_yaml_check_keys(y, v, path)) != MP_OK)
        return rc;
    if (!(z->codes = calloc(mp_yaml_len(v) + 1, sizeof(*z->codes))))
        return mp_yaml_nomem(y, v, path);
    for (size_t i = 0; i < mp_yaml_len(v); i++) {
        yaml_node_t *kn = mp_yaml_pair_key(y, v, i), *val = mp_yaml_pair_value(y, v, i);
        const char *code = (const char *)kn->data.scalar.value;
        if (!dnsbl__code_ok(code))
            return mp_yaml_fail(y, kn, path, "invalid return code %s: expected an address in "
                                "127.0.0.0/8 such as 127.0.0.2 (127.255.255.x are the lists' "
                                "error replies, never listings)", mp_yaml_quote(q, sizeof(q), kn));
        mp_yaml_join(sub, sizeof(sub), path, code);
        if ((rc = mp_yaml_text(y, sub, val, "the code's meaning, as the list documents it",
                               &meaning)) != MP_OK)
            return rc;
        z->codes[z->ncodes] = (struct mp_dnsbl_code){strdup(code), strdup(meaning)};
        if (!z->codes[z->ncodes].code || !z->codes[z->ncodes].meaning)
            return mp_yaml_nomem(y, val, sub);
        z->ncodes++;
    }
    return MP_OK;
}

#define ZF(f) MP_YAML_FIELD(struct mp_dnsbl_zone, f)
static const struct mp_yaml_key dnsbl__zone_keys[] = {
    {.name = "type", .type = MP_YAML_PARSE, ZF(type), .parse = dnsbl__type,
     .what = "ip or domain"},
    {.name = "resolver", .type = MP_YAML_STR, ZF(resolver), .check = dnsbl__resolver_ok,
     .what = RESOLVER_WHAT},
    {.name = "codes", .type = MP_YAML_DEFER},
    {0},
};

static int dnsbl__zones(struct mp_yaml *y, yaml_node_t *v, const char *path,
                        struct mp_dnsbl_conf *c)
{
    char q[MP_YAML_QBUF], sub[MP_YAML_PATH_MAX], csub[MP_YAML_PATH_MAX], name[MP_DNSQ_NAME_MAX];
    int rc;
    if (v->type != YAML_MAPPING_NODE || mp_yaml_len(v) == 0)
        return mp_yaml_expected(y, v, path, "a mapping of zone name to {type, codes, resolver}");
    if ((rc = mp_yaml_check_keys(y, v, path)) != MP_OK)
        return rc;
    if (!(c->zones = calloc(mp_yaml_len(v), sizeof(*c->zones))))
        return mp_yaml_nomem(y, v, path);
    for (size_t i = 0; i < mp_yaml_len(v); i++) {
        yaml_node_t *kn = mp_yaml_pair_key(y, v, i), *val = mp_yaml_pair_value(y, v, i);
        const char *zn = (const char *)kn->data.scalar.value;
        struct mp_dnsbl_zone *z = &c->zones[c->nzones++];
        if (!dnsbl__host(zn, name))
            return mp_yaml_fail(y, kn, path, "invalid zone %s: expected a DNS name such as "
                                "zen.spamhaus.org", mp_yaml_quote(q, sizeof(q), kn));
        if (mp_config_dnsbl_zone(c, name))
            return mp_yaml_fail(y, kn, path, "zone %s given twice", name);
        z->type = -1;
        mp_yaml_join(sub, sizeof(sub), path, zn);
        if ((rc = mp_yaml_walk_what(y, val, sub, "a mapping (type, codes, resolver)",
                                    dnsbl__zone_keys, z, NULL)) != MP_OK)
            return rc;
        if (!(z->name = strdup(name)))
            return mp_yaml_nomem(y, kn, sub);
        if (z->type < 0)
            return mp_yaml_fail(y, val, sub, "type: missing: ip (addresses) or domain (names)");
        yaml_node_t *codes = mp_yaml_find(y, val, "codes");
        mp_yaml_join(csub, sizeof(csub), sub, "codes");
        if (codes && (rc = dnsbl__codes(y, codes, csub, z)) != MP_OK)
            return rc;
    }
    return MP_OK;
}

/* A list of distinct strings at path, each checked by ok (lower-cased
 * domains through dnsbl__host), into *out. */
static int dnsbl__list(struct mp_yaml *y, yaml_node_t *v, const char *path, bool ips,
                       char ***out, size_t *n)
{
    char q[MP_YAML_QBUF], name[MP_DNSQ_NAME_MAX];
    const char *what = ips ? "a list of IPv4 or IPv6 addresses" : "a list of domains";
    if (v->type != YAML_SEQUENCE_NODE || mp_yaml_len(v) == 0)
        return mp_yaml_expected(y, v, path, what);
    if (!(*out = calloc(mp_yaml_len(v), sizeof(**out))))
        return mp_yaml_nomem(y, v, path);
    for (size_t i = 0; i < mp_yaml_len(v); i++) {
        yaml_node_t *it = mp_yaml_item(y, v, i);
        const char *s;
        if (mp_yaml_scalar(y, path, it, what, &s) != MP_OK)
            return MP_ERR_PARSE;
        if (ips ? !mp_dnsq_is_ip(s) || strlen(s) >= sizeof(name) : !dnsbl__host(s, name))
            return mp_yaml_fail(y, it, path, "expected %s, got %s",
                                ips ? "an IPv4 or IPv6 address such as 192.0.2.10 or 2001:db8::25"
                                    : "a domain such as acme.example",
                                mp_yaml_quote(q, sizeof(q), it));
        if (ips)
            memcpy(name, s, strlen(s) + 1);
        for (size_t j = 0; j < *n; j++)
            if (strcmp((*out)[j], name) == 0)
                return mp_yaml_fail(y, it, path, "%s given twice", name);
        if (!((*out)[(*n)++] = strdup(name)))
            return mp_yaml_nomem(y, it, path);
    }
    return MP_OK;
}

/* tenants.<t>.zones, or every zone of a type the tenant has targets of. */
static int dnsbl__tenant_zones(struct mp_yaml *y, yaml_node_t *v, const char *path,
                               const struct mp_dnsbl_conf *c, struct mp_dnsbl_tenant *t)
{
    char q[MP_YAML_QBUF];
    if (!(t->zones = calloc(c->nzones ? c->nzones : 1, sizeof(*t->zones))))
        return mp_yaml_nomem(y, v, path);
    for (size_t i = 0; !v && i < c->nzones; i++)
        if ((c->zones[i].type == MP_DNSBL_IP ? t->nips : t->ndomains) > 0)
            t->zones[t->nzones++] = i;
    if (!v)
        return MP_OK;
    if (v->type != YAML_SEQUENCE_NODE || mp_yaml_len(v) == 0)
        return mp_yaml_expected(y, v, path, "a list of zones of blocklists.zones");
    for (size_t i = 0; i < mp_yaml_len(v); i++) {
        yaml_node_t *it = mp_yaml_item(y, v, i);
        const char *s;
        if (mp_yaml_scalar(y, path, it, "a zone of blocklists.zones", &s) != MP_OK)
            return MP_ERR_PARSE;
        const struct mp_dnsbl_zone *z = mp_config_dnsbl_zone(c, s);
        if (!z)
            return mp_yaml_fail(y, it, path, "unknown zone %s: not in blocklists.zones",
                                mp_yaml_quote(q, sizeof(q), it));
        size_t zi = (size_t)(z - c->zones);
        for (size_t j = 0; j < t->nzones; j++)
            if (t->zones[j] == zi)
                return mp_yaml_fail(y, it, path, "zone %s given twice", z->name);
        if ((z->type == MP_DNSBL_IP ? t->nips : t->ndomains) == 0)
            return mp_yaml_fail(y, it, path, "zone %s is a%s zone, and the tenant lists no %s",
                                z->name, z->type == MP_DNSBL_IP ? "n ip" : " domain",
                                z->type == MP_DNSBL_IP ? "ips" : "domains");
        t->zones[t->nzones++] = zi;
    }
    return MP_OK;
}

static int dnsbl__tenant(struct mp_yaml *y, yaml_node_t *v, const char *path,
                         struct mp_dnsbl_conf *c, struct mp_dnsbl_tenant *t)
{
    static const struct mp_yaml_key keys[] = {{.name = "ips", .type = MP_YAML_DEFER},
                                              {.name = "domains", .type = MP_YAML_DEFER},
                                              {.name = "zones", .type = MP_YAML_DEFER},
                                              {0}};
    char sub[MP_YAML_PATH_MAX];
    int rc;
    if ((rc = mp_yaml_walk_what(y, v, path, "a mapping (ips, domains, zones)", keys, t,
                                NULL)) != MP_OK)
        return rc;
    yaml_node_t *ips = mp_yaml_find(y, v, "ips"), *doms = mp_yaml_find(y, v, "domains");
    mp_yaml_join(sub, sizeof(sub), path, "ips");
    if (ips && (rc = dnsbl__list(y, ips, sub, true, &t->ips, &t->nips)) != MP_OK)
        return rc;
    mp_yaml_join(sub, sizeof(sub), path, "domains");
    if (doms && (rc = dnsbl__list(y, doms, sub, false, &t->domains, &t->ndomains)) != MP_OK)
        return rc;
    if (!ips && !doms)
        return mp_yaml_fail(y, v, path, "neither ips nor domains: nothing to check");
    mp_yaml_join(sub, sizeof(sub), path, "zones");
    if ((rc = dnsbl__tenant_zones(y, mp_yaml_find(y, v, "zones"), sub, c, t)) != MP_OK)
        return rc;
    if (t->nzones == 0)
        return mp_yaml_fail(y, v, path, "no zone of blocklists.zones has the type of its "
                            "lists (ip zones check ips, domain zones domains)");
    return MP_OK;
}

static int dnsbl__tenants(struct mp_yaml *y, yaml_node_t *v, const char *path,
                          struct mp_dnsbl_conf *c)
{
    char q[MP_YAML_QBUF], sub[MP_YAML_PATH_MAX];
    size_t queries = 0;
    int rc;
    if (v->type != YAML_MAPPING_NODE || mp_yaml_len(v) == 0)
        return mp_yaml_expected(y, v, path, "a mapping of tenant to {ips, domains, zones}");
    if ((rc = mp_yaml_check_keys(y, v, path)) != MP_OK)
        return rc;
    if (c->nzones == 0)
        return mp_yaml_fail(y, v, path, "no blocklists.zones to check the tenants against");
    if (!(c->tenants = calloc(mp_yaml_len(v), sizeof(*c->tenants))))
        return mp_yaml_nomem(y, v, path);
    for (size_t i = 0; i < mp_yaml_len(v); i++) {
        yaml_node_t *kn = mp_yaml_pair_key(y, v, i), *val = mp_yaml_pair_value(y, v, i);
        const char *name = (const char *)kn->data.scalar.value;
        struct mp_dnsbl_tenant *t = &c->tenants[c->ntenants++];
        if (!eng_name_valid(name, strlen(name)))
            return mp_yaml_fail(y, kn, path, "invalid tenant name %s: expected %s",
                                mp_yaml_quote(q, sizeof(q), kn), ENG_NAME_GRAMMAR);
        if (!(t->tenant = strdup(name)))
            return mp_yaml_nomem(y, kn, path);
        mp_yaml_join(sub, sizeof(sub), path, name);
        if ((rc = dnsbl__tenant(y, val, sub, c, t)) != MP_OK)
            return rc;
        for (size_t z = 0; z < t->nzones; z++)
            queries += c->zones[t->zones[z]].type == MP_DNSBL_IP ? t->nips : t->ndomains;
        if (queries > MP_DNSBL_QUERIES_MAX)
            return mp_yaml_fail(y, kn, path, "more than %d queries a round (targets times "
                                "zones): split the check or raise nothing", MP_DNSBL_QUERIES_MAX);
    }
    return MP_OK;
}

#define DF(f) MP_YAML_FIELD(struct mp_dnsbl_conf, f)
static const struct mp_yaml_key dnsbl__keys[] = {
    {.name = "interval", .type = MP_YAML_DURATION, DF(interval_ms), .min = 1000,
     .max = 24 * 3600 * 1000LL, .what = "a duration from 1s to 24h such as 15m"},
    {.name = "timeout", .type = MP_YAML_DURATION, DF(timeout_ms), .min = 100, .max = 60000,
     .what = "a duration from 100ms to 60s such as 5s"},
    {.name = "tries", .type = MP_YAML_INT, DF(tries), .min = 1, .max = 5, .what = "1 to 5"},
    {.name = "resolver", .type = MP_YAML_STR, DF(resolver), .check = dnsbl__resolver_ok,
     .what = RESOLVER_WHAT},
    {.name = "pause_sends", .type = MP_YAML_BOOL, DF(pause_sends)},
    {.name = "zones", .type = MP_YAML_DEFER},
    {.name = "tenants", .type = MP_YAML_DEFER},
    {0},
};

int mp_config_dnsbl(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                    yaml_node_t *v, void *base)
{
    struct mp_dnsbl_conf *c = (struct mp_dnsbl_conf *)(void *)((char *)base + k->off);
    char sub[MP_YAML_PATH_MAX];
    int rc;
    if ((rc = mp_yaml_walk_what(y, v, path, "a mapping (interval, resolver, zones, tenants, ...)",
                                dnsbl__keys, c, NULL)) != MP_OK)
        return rc;
    c->enabled = 1;
    yaml_node_t *z = mp_yaml_find(y, v, "zones"), *t = mp_yaml_find(y, v, "tenants");
    mp_yaml_join(sub, sizeof(sub), path, "zones");
    if (z && (rc = dnsbl__zones(y, z, sub, c)) != MP_OK)
        return rc;
    mp_yaml_join(sub, sizeof(sub), path, "tenants");
    if (t && (rc = dnsbl__tenants(y, t, sub, c)) != MP_OK)
        return rc;
    return MP_OK;
}

static void dnsbl__free_strs(char **s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

void mp_config_dnsbl_free(struct mp_dnsbl_conf *c)
{
    for (size_t i = 0; i < c->nzones; i++) {
        struct mp_dnsbl_zone *z = &c->zones[i];
        for (size_t j = 0; j < z->ncodes; j++) {
            free(z->codes[j].code);
            free(z->codes[j].meaning);
        }
        free(z->codes);
        free(z->name);
        free(z->resolver);
    }
    free(c->zones);
    for (size_t i = 0; i < c->ntenants; i++) {
        struct mp_dnsbl_tenant *t = &c->tenants[i];
        free(t->tenant);
        dnsbl__free_strs(t->ips, t->nips);
        dnsbl__free_strs(t->domains, t->ndomains);
        free(t->zones);
    }
    free(c->tenants);
    free(c->resolver);
    memset(c, 0, sizeof(*c));
}

const char *mp_config_dnsbl_meaning(const struct mp_dnsbl_zone *z, const char *code)
{
    for (size_t i = 0; i < z->ncodes; i++)
        if (strcmp(z->codes[i].code, code) == 0)
            return z->codes[i].meaning;
    return NULL;
}

const struct mp_dnsbl_zone *mp_config_dnsbl_zone(const struct mp_dnsbl_conf *c, const char *name)
{
    for (size_t i = 0; i < c->nzones; i++)
        if (c->zones[i].name && strcmp(c->zones[i].name, name) == 0)
            return &c->zones[i];
    return NULL;
}
