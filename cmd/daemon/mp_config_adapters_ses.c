/* mp_config_adapters_ses.c — the `adapters:` keys of type ses (see
 * mp_config_adapters.h): sns_certificate, sns_hosts, topic_arns. */
#include "mp_config_adapters.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#define SES_HOST_WHAT "a host name (a label may be *) with an optional :port"

/* host[:port]: labels of [a-z0-9-] or a whole "*", port 1..65535 */
bool mp_config_sns_host_ok(const char *s)
{
    const char *colon = strchr(s, ':');
    size_t hl = colon ? (size_t)(colon - s) : strlen(s);
    if (hl == 0 || hl > 253 || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-.*") != hl)
        return false;
    for (size_t i = 0; i < hl;) { /* each label non-empty; "*" only as a whole one */
        size_t ll = 0;
        while (i + ll < hl && s[i + ll] != '.')
            ll++;
        if (ll == 0 || (ll != 1 && memchr(s + i, '*', ll)))
            return false;
        i += ll;
        if (i < hl && ++i == hl)
            return false; /* a trailing dot */
    }
    if (!colon)
        return true;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    return colon[1] >= '1' && colon[1] <= '9' && *end == '\0' && port <= 65535;
}

static bool ses__arn_ok(const char *s)
{
    return strncmp(s, "arn:", 4) == 0 && strlen(s) <= 256 && mp_yaml_no_space(s);
}

/* A non-empty list of distinct strings that pass ok(). */
static int ses__list(struct mp_yaml *y, const char *path, yaml_node_t *v, bool (*ok)(const char *),
                     const char *what, char ***out, size_t *n)
{
    char q[MP_YAML_QBUF], sub[MP_YAML_PATH_MAX];
    size_t len = v->type == YAML_SEQUENCE_NODE ? mp_yaml_len(v) : 0;
    if (len == 0 || len > 64)
        return mp_yaml_fail(y, v, path, "expected a list of 1..64 of %s, got %s", what,
                            mp_yaml_quote(q, sizeof(q), v));
    if (!(*out = calloc(len, sizeof(**out))))
        return mp_yaml_nomem(y, v, path);
    for (size_t i = 0; i < len; i++) {
        const char *s;
        yaml_node_t *it = mp_yaml_item(y, v, i);
        snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
        int rc = mp_yaml_text(y, sub, it, what, &s);
        if (rc != MP_OK)
            return rc;
        if (!ok(s))
            return mp_yaml_fail(y, it, sub, "expected %s, got %s", what,
                                mp_yaml_quote(q, sizeof(q), it));
        for (size_t j = 0; j < *n; j++)
            if (strcmp((*out)[j], s) == 0)
                return mp_yaml_fail(y, it, sub, "duplicate entry \"%s\"", s);
        if (!((*out)[*n] = strdup(s)))
            return mp_yaml_nomem(y, v, path);
        (*n)++;
    }
    return MP_OK;
}

/* sns_certificate: a PEM certificate file, read now so --check finds a bad one */
static int ses__cert(struct mp_yaml *y, const char *path, yaml_node_t *v,
                     struct mp_adapter_conf *a)
{
    const char *s;
    int rc = mp_yaml_text(y, path, v, "the path of a PEM certificate file", &s);
    if (rc != MP_OK)
        return rc;
    if (mp_yaml_resolve(y, s, &a->sns_certificate) != MP_OK)
        return mp_yaml_nomem(y, v, path);
    FILE *f = fopen(a->sns_certificate, "r");
    X509 *c = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    X509_free(c);
    if (!c)
        return mp_yaml_fail(y, v, path, "cannot read a PEM certificate from %s",
                            a->sns_certificate);
    return MP_OK;
}

int mp_config_adapters_ses(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                           yaml_node_t *v, void *base)
{
    struct mp_adapter_conf *a = base;
    if (strcmp(k->name, "sns_certificate") == 0)
        return ses__cert(y, path, v, a);
    if (strcmp(k->name, "sns_hosts") == 0)
        return ses__list(y, path, v, mp_config_sns_host_ok, SES_HOST_WHAT, &a->sns_hosts,
                         &a->n_sns_hosts);
    return ses__list(y, path, v, ses__arn_ok, "an SNS topic ARN (arn:...)", &a->topic_arns,
                     &a->n_topic_arns);
}

const char *mp_config_adapters_ses_check(const struct mp_adapter_conf *a, const char **key)
{
    int ses = a->type == INGEST_ADAPT_SES;
    *key = NULL;
    if (!ses && !a->signing_key)
        *key = "signing_key";
    else if (ses && a->signing_key)
        return *key = "signing_key",
               "type ses: not used (SNS signs with a certificate: sns_certificate, or one "
               "fetched from sns_hosts)";
    if (*key)
        return "required key missing";
    if (!ses && (a->sns_certificate || a->sns_hosts || a->topic_arns)) {
        *key = a->sns_certificate ? "sns_certificate" : a->sns_hosts ? "sns_hosts" : "topic_arns";
        return "only with type ses";
    }
    return NULL;
}

void mp_config_adapters_ses_free(struct mp_adapter_conf *a)
{
    free(a->sns_certificate);
    for (size_t j = 0; j < a->n_sns_hosts; j++)
        free(a->sns_hosts[j]);
    for (size_t j = 0; j < a->n_topic_arns; j++)
        free(a->topic_arns[j]);
    free(a->sns_hosts);
    free(a->topic_arns);
}
