/* mp_config_dnsbl.h — the `blocklists` section of the daemon's config: what
 * the blocklist checker (mp_dnsbl.h) asks, of which zones, through which
 * resolver.
 *
 *   blocklists:
 *     interval: 15m             # 1s..24h between rounds (each jittered by up to -10%)
 *     timeout: 5s               # 100ms..60s per try of one query
 *     tries: 2                  # 1..5
 *     resolver: 127.0.0.1:53    # ip:port or [ip6]:port; absent: the system resolver
 *     pause_sends: false        # true: a listing pauses the tenant's sends (the gate)
 *     zones:
 *       zen.spamhaus.org:
 *         type: ip              # ip (addresses, RFC 5782 2.1) or domain (names, 2.2)
 *         resolver: ...         # this zone's own; absent: the section's
 *         codes:                # return code -> its meaning, as the list documents it
 *           127.0.0.2: "SBL: spam source"
 *     tenants:
 *       acme:
 *         ips: [192.0.2.10, "2001:db8::25"]
 *         domains: [acme.example]
 *         zones: [zen.spamhaus.org]  # absent: every zone of the matching type
 *
 * Contract: mp_config_dnsbl() is an MP_YAML_FN row handler whose field is a
 * struct mp_dnsbl_conf. It refuses, as "file:line: key: why": a section that
 * is not a mapping, unknown keys, durations and counts out of range, a
 * resolver that is not an address literal with a port (c-ares asks servers
 * by address: a host name would need a resolver to find the resolver), a
 * zone name that is not a host name, a type other than ip or domain, a code
 * outside 127.0.0.0/8 or inside 127.255.255.0/24 (the error replies, never
 * listings: mp_dnsq.h), a code given twice; a tenant name outside ENG_NAME_GRAMMAR, an address that is not an
 * IPv4 or IPv6 literal, a domain that is not a host name, a tenant with
 * neither ips nor domains, a tenant zone that is not defined or whose type
 * matches none of the tenant's lists, duplicates, tenants without zones, and
 * more than MP_DNSBL_QUERIES_MAX queries a round. Without the section no
 * checker runs. mp_config_dnsbl_free() releases what the handler stored.
 * Not thread-safe (config loading); a loaded conf is read-only, any thread.
 */
#ifndef MP_CONFIG_DNSBL_H
#define MP_CONFIG_DNSBL_H

#include <stddef.h>
#include <stdint.h>

#include "mp_yaml.h"

enum mp_dnsbl_type { MP_DNSBL_IP = 0, MP_DNSBL_DOMAIN = 1 };

#define MP_DNSBL_QUERIES_MAX 10000
#define MP_DNSBL_INTERVAL_DEFAULT_MS (15 * 60 * 1000LL)

struct mp_dnsbl_code {
    char *code;    /* "127.0.0.2" */
    char *meaning;
};

struct mp_dnsbl_zone {
    char *name;     /* lower-case, no trailing dot */
    int type;       /* enum mp_dnsbl_type */
    char *resolver; /* NULL: the section's */
    struct mp_dnsbl_code *codes;
    size_t ncodes;
};

struct mp_dnsbl_tenant {
    char *tenant;
    char **ips, **domains;
    size_t nips, ndomains;
    size_t *zones; /* indices into the conf's zones */
    size_t nzones;
};

struct mp_dnsbl_conf {
    int enabled; /* the section is there */
    int64_t interval_ms, timeout_ms;
    int64_t tries;
    int pause_sends;
    char *resolver; /* NULL: the system resolver */
    struct mp_dnsbl_zone *zones;
    size_t nzones;
    struct mp_dnsbl_tenant *tenants;
    size_t ntenants;
};

/* Sets the defaults (no section: disabled). */
void mp_config_dnsbl_defaults(struct mp_dnsbl_conf *c);
int mp_config_dnsbl(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                    yaml_node_t *v, void *base);
void mp_config_dnsbl_free(struct mp_dnsbl_conf *c);
/* The meaning zone z documents for return code `code`, NULL when none. */
const char *mp_config_dnsbl_meaning(const struct mp_dnsbl_zone *z, const char *code);
/* The zone named `name`, NULL when none. */
const struct mp_dnsbl_zone *mp_config_dnsbl_zone(const struct mp_dnsbl_conf *c, const char *name);
/* 1 when s is an address literal with a port, as `resolver` takes it. */
int mp_config_dnsbl_resolver_ok(const char *s);

#endif
