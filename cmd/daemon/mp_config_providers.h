/* mp_config_providers.h — the `providers:` section of the daemon's config:
 * recipient domains added to mailbox providers, or moved between them, on
 * top of the built-in table (engine/eng_provider.h), one handler of the
 * mp_config schema kept apart so mp_config.c stays one sitting's read.
 *
 *   providers:
 *     acme-corp: [acme-mail.example, mx.acme.example]
 *     google: [corp-on-workspace.example]   # a known provider gains a domain
 *     other: [aol.com]                      # a built-in domain leaves its provider
 *
 * Contract: mp_config_providers() is an MP_YAML_FN row handler; the row's
 * field is a struct mp_providers_conf, filled on MP_OK. What it refuses,
 * each as "file:line: key: why":
 *   - not a mapping; duplicate provider names (the walker's);
 *   - a provider name outside ENG_PROVIDER_GRAMMAR (lower case: it is a
 *     label value and part of a key name);
 *   - a value that is not a non-empty list of domains; a domain that is not
 *     a host name (ingest_norm_domain: the same rule as events'; it is
 *     lower-cased); a domain listed twice, under one provider or two;
 *   - more than ENG_PROVIDERS_MAX providers with the built-in ones, or more
 *     than ENG_PROVIDER_DOMAINS_MAX domains.
 * mp_config_providers_build() makes the map the key table takes
 * (eng_table_opts.providers, eng_table_set_providers on SIGHUP): MP_OK or
 * MP_ERR_NOMEM (the loader already refused everything else). On refusal
 * the partly filled conf is left for mp_config_providers_free(), which
 * mp_config_free() calls. Not thread-safe (config loading).
 */
#ifndef MP_CONFIG_PROVIDERS_H
#define MP_CONFIG_PROVIDERS_H

#include <stddef.h>

#include "eng_provider.h"
#include "eng_table.h"
#include "mp_yaml.h"

struct mp_provider_domain {
    char *provider, *domain; /* owned */
};

struct mp_providers_conf {
    struct mp_provider_domain *e;
    size_t n, cap;
};

int mp_config_providers(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                        yaml_node_t *v, void *base);
int mp_config_providers_build(const struct mp_providers_conf *c, struct eng_providers **out);
/* On SIGHUP, from the table's tick thread: builds the map and hands it to
 * t (eng_table_set_providers), so later events map by it. MP_OK, or
 * MP_ERR_NOMEM with the map in use kept (logged: reload_providers_failed). */
int mp_config_providers_apply(const struct mp_providers_conf *c, struct eng_table *t);
void mp_config_providers_free(struct mp_providers_conf *c);

#endif
