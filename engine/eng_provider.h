/* eng_provider.h — mailbox providers: which company's servers receive mail
 * for a recipient domain (gmail.com and googlemail.com are both "google").
 *
 * A provider map starts from the built-in table (eng_provider_builtin(),
 * listed in the README) and takes additions and overrides from the config
 * (eng_providers_set()); a domain it does not hold maps to "other". The
 * key table asks it once per event for the provider and mailbox_provider
 * scopes (eng_table.h), so a lookup is one hash of the domain and a probe
 * of a small array that stays in the caches.
 *
 * Threads: build a map on one thread (create, set), then hand it over
 * (eng_table_opts.providers, eng_table_set_providers); once handed over it
 * is immutable and eng_providers_lookup() may run on any thread.
 * Ownership: the creator owns a map until it hands it to a table, which
 * frees it (eng_providers_destroy) when it is replaced or destroyed.
 *
 * Names: a provider name is 1..ENG_PROVIDER_NAME_MAX bytes of [a-z0-9._-]
 * (lower case: it is a label value and a key name, and never holds '/',
 * which separates it from the mailbox in a mailbox_provider key's name).
 * Domains are given lower-cased and validated (the caller's edge does that:
 * ingest_norm_domain).
 */
#ifndef ENG_PROVIDER_H
#define ENG_PROVIDER_H

#include <stddef.h>

#define ENG_PROVIDER_NAME_MAX 32
#define ENG_PROVIDERS_MAX 64         /* providers in one map, "other" included */
#define ENG_PROVIDER_DOMAINS_MAX 65536 /* domains in one map */
#define ENG_PROVIDER_OTHER "other"
#define ENG_PROVIDER_GRAMMAR "1..32 characters of [a-z0-9._-]"

struct eng_providers;

/* A map holding the built-in table. MP_OK or MP_ERR_NOMEM. */
int eng_providers_create(struct eng_providers **out);
void eng_providers_destroy(struct eng_providers *p);

/* Maps `domain` (len bytes) to `provider`, a new one or a known one; a
 * domain mapped before (built in, or by an earlier call) moves. Mapping to
 * "other" takes a built-in domain out of its provider. Returns MP_OK;
 * MP_ERR_INVAL for a malformed provider name or an empty or over-long
 * (> 253 bytes) domain; MP_ERR_FULL past ENG_PROVIDERS_MAX providers or
 * ENG_PROVIDER_DOMAINS_MAX domains; MP_ERR_NOMEM. On error the map is
 * unchanged. */
int eng_providers_set(struct eng_providers *p, const char *provider, const char *domain,
                      size_t len);

/* The provider of `domain` (len bytes, lower case), "other" when unknown.
 * Never NULL; *name_len gets its length. The string lives as long as p. */
const char *eng_providers_lookup(const struct eng_providers *p, const char *domain, size_t len,
                                 size_t *name_len);

/* 1 when s[0..len) is a valid provider name (see "Names"). */
int eng_provider_name_valid(const char *s, size_t len);

/* The built-in table, entry i (0..): sets *provider and *domain and
 * returns 1, or returns 0 past the end. For the README and the tests. */
int eng_provider_builtin(size_t i, const char **provider, const char **domain);

#endif
