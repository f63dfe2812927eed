/* adapt_fixture_sns.c — see adapt_fixture_sns.h. */
#include "adapt_fixture_sns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

/* Not ck_assert: the bench (bench_adapters) signs with these too, outside
 * a Check runner; a failed test aborts, which Check reports. */
#define AFX_MUST(c)                                                                         \
    do {                                                                                    \
        if (!(c)) {                                                                         \
            fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #c);                  \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

void afx_sns_key(EVP_PKEY **key, X509 **cert)
{
    *key = EVP_RSA_gen(2048);
    AFX_MUST(*key != NULL);
    X509 *c = X509_new();
    AFX_MUST(c != NULL);
    ASN1_INTEGER_set(X509_get_serialNumber(c), 1);
    X509_gmtime_adj(X509_getm_notBefore(c), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c), 3600L * 24 * 30);
    X509_set_pubkey(c, *key);
    X509_NAME *n = X509_get_subject_name(c);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                               (const unsigned char *)"mailpulse test only: not sns.amazonaws.com",
                               -1, -1, 0);
    X509_set_issuer_name(c, n);
    AFX_MUST(X509_sign(c, *key, EVP_sha256()) > 0);
    *cert = c;
}

void afx_sns_pem(const X509 *cert, const char *path)
{
    FILE *f = fopen(path, "w");
    AFX_MUST(f != NULL);
    AFX_MUST(PEM_write_X509(f, (X509 *)cert) == 1);
    fclose(f);
}

char *afx_sns_sign(const char *body, EVP_PKEY *key, int version)
{
    static const char *const note[] = {"Message", "MessageId", "Subject", "Timestamp",
                                       "TopicArn", "Type", NULL};
    static const char *const confirm[] = {"Message", "MessageId", "SubscribeURL", "Timestamp",
                                          "Token", "TopicArn", "Type", NULL};
    json_t *root = json_loads(body, 0, NULL);
    AFX_MUST(root != NULL);
    const char *type = json_string_value(json_object_get(root, "Type"));
    const char *const *keys = type && strcmp(type, "Notification") == 0 ? note : confirm;
    size_t cap = strlen(body) + 256, len = 0;
    char *msg = malloc(cap);
    AFX_MUST(msg != NULL);
    for (size_t i = 0; keys[i]; i++) {
        const char *v = json_string_value(json_object_get(root, keys[i]));
        if (v)
            len += (size_t)snprintf(msg + len, cap - len, "%s\n%s\n", keys[i], v);
    }
    unsigned char sig[512];
    size_t siglen = sizeof(sig);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    AFX_MUST(EVP_DigestSignInit(ctx, NULL, version == 1 ? EVP_sha1() : EVP_sha256(), NULL,
                                key) == 1);
    AFX_MUST(EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)msg, len) == 1);
    EVP_MD_CTX_free(ctx);
    free(msg);
    char b64[700];
    EVP_EncodeBlock((unsigned char *)b64, sig, (int)siglen);
    json_object_set_new(root, "Signature", json_string(b64));
    json_object_set_new(root, "SignatureVersion", json_string(version == 1 ? "1" : "2"));
    char *out = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    AFX_MUST(out != NULL);
    return out;
}

char *afx_sns_now(const char *body, const char *id, long long ms)
{
    char when[40];
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof(when) - n, ".%03dZ", (int)(ms % 1000));
    json_t *root = json_loads(body, 0, NULL);
    AFX_MUST(root != NULL);
    json_t *rec = json_loads(json_string_value(json_object_get(root, "Message")), 0, NULL);
    const char *k;
    json_t *v;
    json_object_foreach(rec, k, v) { /* mail and the record's detail object */
        if (json_is_object(v) && json_object_get(v, "timestamp"))
            json_object_set_new(v, "timestamp", json_string(when));
    }
    if (rec) { /* a confirmation's Message is text: left as it is */
        char *m = json_dumps(rec, JSON_COMPACT);
        json_decref(rec);
        json_object_set_new(root, "Message", json_string(m));
        free(m);
    }
    json_object_set_new(root, "MessageId", json_string(id));
    json_object_set_new(root, "Timestamp", json_string(when));
    char *out = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    AFX_MUST(out != NULL);
    return out;
}
