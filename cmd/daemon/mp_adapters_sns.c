/* mp_adapters_sns.c — SNS certificates and confirmations (see
 * mp_adapters_sns.h). */
#include "mp_adapters_sns.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/pem.h>

#include "mp_buf.h"
#include "mp_log.h"

struct sns__entry {
    char *url;
    X509 *cert;
};

struct mp_sns {
    const struct mp_adapter_conf *c;
    X509 *fixed; /* sns_certificate */
    pthread_mutex_t mu;
    struct sns__entry cache[MP_SNS_CACHE];
    size_t next; /* the slot replaced next */
};

int mp_sns_create(const struct mp_adapter_conf *c, struct mp_sns **out, char *err, size_t errlen)
{
    struct mp_sns *s = calloc(1, sizeof(*s));
    *out = NULL;
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return MP_ERR_NOMEM;
    }
    s->c = c;
    if (c->sns_certificate) {
        FILE *f = fopen(c->sns_certificate, "r");
        s->fixed = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
        if (f)
            fclose(f);
        if (!s->fixed) {
            snprintf(err, errlen, "adapter %s: cannot read a PEM certificate from %s", c->name,
                     c->sns_certificate);
            free(s);
            return MP_ERR_IO;
        }
    }
    pthread_mutex_init(&s->mu, NULL);
    *out = s;
    return MP_OK;
}

void mp_sns_destroy(struct mp_sns *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < MP_SNS_CACHE; i++) {
        free(s->cache[i].url);
        X509_free(s->cache[i].cert);
    }
    X509_free(s->fixed);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* host against a pattern of labels, "*" matching one label */
static int sns__host_match(const char *pat, size_t pl, const char *host)
{
    while (pl > 0 && *host) {
        size_t a = strcspn(pat, "."), b = strcspn(host, ".");
        if (a > pl)
            a = pl;
        if (!(a == 1 && *pat == '*' && b > 0) && (a != b || strncmp(pat, host, a) != 0))
            return 0;
        pat += a, pl -= a, host += b;
        if ((pl > 0) != (*host == '.'))
            return 0;
        if (pl > 0)
            pat++, pl--, host++;
    }
    return pl == 0 && *host == '\0';
}

/* 1 when host:port (port 0: none in the URL) is allowed by entry over scheme */
static int sns__entry_ok(const char *entry, int https, const char *host, long port)
{
    const char *colon = strchr(entry, ':');
    size_t hl = colon ? (size_t)(colon - entry) : strlen(entry);
    long want = colon ? atol(colon + 1) : 0;
    if (!sns__host_match(entry, hl, host))
        return 0;
    if (!https && !(colon && hl == 9 && strncmp(entry, "127.0.0.1", 9) == 0))
        return 0; /* plain http: only an explicit loopback entry */
    if (want)
        return port == want || (port == 0 && want == (https ? 443 : 80));
    return port == 0 || port == 443;
}

int mp_sns_url_ok(const struct mp_sns *s, const char *url)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL;
    int ok = 0;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_NO_USER) {
        curl_url_get(u, CURLUPART_PORT, &port, 0); /* NULL: none in the URL */
        int https = strcmp(scheme, "https") == 0;
        for (char *p = host; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        if (https || strcmp(scheme, "http") == 0) {
            const char *def = MP_SNS_DEFAULT_HOST;
            const char *const *hosts = s->c->n_sns_hosts ? (const char *const *)s->c->sns_hosts
                                                         : &def;
            size_t n = s->c->n_sns_hosts ? s->c->n_sns_hosts : 1;
            for (size_t i = 0; !ok && i < n; i++)
                ok = sns__entry_ok(hosts[i], https, host, port ? atol(port) : 0);
        }
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(user);
    curl_url_cleanup(u);
    return ok;
}

static size_t sns__write(char *p, size_t sz, size_t n, void *arg)
{
    struct mp_buf *b = arg;
    if (b->len + sz * n > MP_SNS_CERT_MAX || mp_buf_append(b, p, sz * n) != MP_OK)
        return 0; /* too large: the transfer fails */
    return sz * n;
}

/* GET url into b (when not NULL); MP_OK on a 2xx. */
static int sns__get(const char *url, struct mp_buf *b, char *err, size_t errlen)
{
    struct mp_buf sink = MP_BUF_INIT;
    CURL *e = curl_easy_init();
    long status = 0;
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return MP_ERR_NOMEM;
    }
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* a redirect could leave the hosts */
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sns__write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, b ? b : &sink);
    CURLcode rc = curl_easy_perform(e);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(e);
    mp_buf_free(&sink);
    if (rc != CURLE_OK || status < 200 || status > 299) {
        snprintf(err, errlen, "GET %.200s: %s (HTTP %ld)", url,
                 rc != CURLE_OK ? curl_easy_strerror(rc) : "not a 2xx", status);
        return MP_ERR_IO;
    }
    return MP_OK;
}

X509 *mp_sns_cert(struct mp_sns *s, const char *url, char *err, size_t errlen)
{
    X509 *c = NULL;
    if (s->fixed) {
        X509_up_ref(s->fixed);
        return s->fixed;
    }
    if (!mp_sns_url_ok(s, url)) {
        snprintf(err, errlen, "SigningCertURL %.200s: not https on an allowed host (sns_hosts)",
                 url);
        return NULL;
    }
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; !c && i < MP_SNS_CACHE; i++)
        if (s->cache[i].url && strcmp(s->cache[i].url, url) == 0 && X509_up_ref(s->cache[i].cert))
            c = s->cache[i].cert;
    pthread_mutex_unlock(&s->mu);
    if (c)
        return c;
    struct mp_buf b = MP_BUF_INIT;
    if (sns__get(url, &b, err, errlen) == MP_OK) {
        BIO *bio = BIO_new_mem_buf(b.p, (int)b.len);
        c = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        if (!c)
            snprintf(err, errlen, "SigningCertURL %.200s: not a PEM certificate", url);
    }
    mp_buf_free(&b);
    char *copy = c ? strdup(url) : NULL;
    if (copy && X509_up_ref(c)) { /* one reference for the cache, one for the caller */
        pthread_mutex_lock(&s->mu);
        struct sns__entry *slot = &s->cache[s->next];
        s->next = (s->next + 1) % MP_SNS_CACHE;
        free(slot->url);
        X509_free(slot->cert);
        slot->url = copy;
        slot->cert = c;
        pthread_mutex_unlock(&s->mu);
    } else {
        free(copy);
    }
    return c;
}

int mp_sns_confirm(struct mp_sns *s, const char *url, char *err, size_t errlen)
{
    if (!mp_sns_url_ok(s, url)) {
        snprintf(err, errlen, "SubscribeURL %.200s: not https on an allowed host (sns_hosts)",
                 url);
        return MP_ERR_INVAL;
    }
    return sns__get(url, NULL, err, errlen);
}

int mp_sns_prepare(struct mp_sns *s, const char *body, size_t len, X509 **cert, char *err,
                   size_t errlen)
{
    struct ingest_adapt_sns env;
    *cert = NULL;
    int rc = ingest_adapt_sns_peek(body, len, &env, err, errlen);
    if (rc != MP_OK)
        return rc;
    *cert = mp_sns_cert(s, env.cert_url, err, errlen);
    return *cert ? MP_OK : INGEST_ADAPT_ERR_SIG;
}

int mp_sns_after(struct mp_sns *s, const struct ingest_adapt_sns *sns, int64_t window_ms,
                 int64_t now_ms, char *err, size_t errlen)
{
    if (now_ms - sns->time_ms > window_ms) {
        snprintf(err, errlen, "Timestamp: older than the dedup_window (a replay)");
        return 401;
    }
    if (strcmp(sns->type, "UnsubscribeConfirmation") == 0) {
        mp_info("sns_unsubscribed adapter=%s topic=%s", MP_LOG_Q(s->c->name),
                MP_LOG_Q(sns->topic_arn));
        return 200;
    }
    if (strcmp(sns->type, "SubscriptionConfirmation") != 0)
        return 0;
    int rc = mp_sns_confirm(s, sns->subscribe_url, err, errlen);
    if (rc == MP_OK) {
        mp_info("sns_subscription_confirmed adapter=%s topic=%s", MP_LOG_Q(s->c->name),
                MP_LOG_Q(sns->topic_arn));
        return 200;
    }
    mp_warn("sns_subscription_not_confirmed adapter=%s topic=%s detail=%s",
            MP_LOG_Q(s->c->name), MP_LOG_Q(sns->topic_arn), MP_LOG_Q(err));
    return rc == MP_ERR_INVAL ? 400 : 503;
}
