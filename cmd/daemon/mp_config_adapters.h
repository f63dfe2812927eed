/* mp_config_adapters.h — the `adapters:` list of the daemon config: the
 * HTTP endpoints that take an ESP's own webhook format (mp_adapters.h).
 *
 * Contract: the handler mp_config.c's top-level walk calls for `adapters`
 * (an MP_YAML_FN row; base is the struct mp_config), and the release of
 * what it filled. Refusals are mp_yaml's "file:line: path: reason". Each
 * entry: name (unique, ENG_NAME_GRAMMAR), type (json, mailgun, postmark, ses),
 * path (unique, under MP_ADAPTERS_PREFIX, of [A-Za-z0-9._/-]), signing_key
 * (mailgun: the HMAC webhook signing key; postmark: basic auth as
 * "user:password"; json: a token sent as Authorization: Bearer; not with
 * ses, which takes sns_certificate (a PEM file), sns_hosts (the hosts a
 * SigningCertURL and SubscribeURL may name; default sns.*.amazonaws.com)
 * and topic_arns (the TopicArns taken; default any) instead), then
 * exactly one of tenant (every event's tenant; json events may name it or
 * leave it out) and tenant_field (the custom field that names it:
 * Mailgun user-variables, Postmark Metadata, json the event's tenant) with
 * `tenants` (required with tenant_field, only with it: the allowed
 * tenants), mailbox_field (optional: the custom field naming the sending
 * mailbox, over the feed's sender) and dedup_window (1m..30d, default
 * 24h). Single-threaded, like the whole config load.
 */
#ifndef MP_CONFIG_ADAPTERS_H
#define MP_CONFIG_ADAPTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest_adapt.h"
#include "mp_config.h"
#include "mp_yaml.h"

#define MP_ADAPTERS_PREFIX "/hooks/"
#define MP_ADAPTERS_DEDUP_DEFAULT_MS (24 * 3600 * 1000LL)

struct mp_adapter_conf {
    char *name;
    enum ingest_adapt_kind type;
    char *path;
    char *tenant;        /* NULL with tenant_field */
    char *tenant_field;
    char **tenants;      /* with tenant_field */
    size_t ntenants;
    char *mailbox_field; /* NULL: the feed's sender */
    char *signing_key;
    int64_t dedup_window_ms;
    /* type ses (mp_config_adapters_ses.c) */
    char *sns_certificate; /* a PEM file (resolved path); NULL: fetch SigningCertURL */
    char **sns_hosts;      /* allowed hosts of SigningCertURL, SubscribeURL; 0: default */
    size_t n_sns_hosts;
    char **topic_arns;     /* allowed TopicArns; 0: any */
    size_t n_topic_arns;
};

int mp_config_adapters(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                       yaml_node_t *v, void *base);
/* type ses: the MP_YAML_FN of sns_certificate, sns_hosts and topic_arns;
 * the entry's whole check (NULL, or the reason with *key the key to blame:
 * signing_key required except for ses, refused for it; the SNS keys only
 * with ses); the release of the SNS fields. */
int mp_config_adapters_ses(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                           yaml_node_t *v, void *base);
const char *mp_config_adapters_ses_check(const struct mp_adapter_conf *a, const char **key);
void mp_config_adapters_ses_free(struct mp_adapter_conf *a);
/* An sns_hosts entry: host[:port], labels of [a-z0-9-] or a whole "*". */
bool mp_config_sns_host_ok(const char *s);
/* Frees cfg->adapters and everything in them; n_adapters becomes 0. */
void mp_config_adapters_free(struct mp_config *cfg);
/* The same for a list taken out of a config (mp_adapters_reload owns one). */
void mp_config_adapters_free_list(struct mp_adapter_conf *list, size_t n);

#endif
