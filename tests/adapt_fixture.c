/* adapt_fixture.c — see adapt_fixture.h. */
#include "adapt_fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/x509.h>

char *afx_load(const char *name)
{
    const char *src = getenv("MP_SRC_DIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/tests/fixtures/adapters/%s", src ? src : ".", name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open fixture %s (set MP_SRC_DIR)", path);
    char *buf = calloc(1, 1 << 16);
    ck_assert_ptr_nonnull(buf);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    ck_assert_msg(n > 0, "empty fixture %s", path);
    return buf;
}

static char *afx__dump(json_t *root)
{
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    ck_assert_ptr_nonnull(s);
    return s;
}

char *afx_mailgun_sign(const char *body, const char *key, long long ts, const char *token)
{
    json_t *root = json_loads(body, 0, NULL);
    ck_assert_ptr_nonnull(root);
    char tsb[32], msg[256], hex[65];
    unsigned char mac[32];
    unsigned int len = 0;
    snprintf(tsb, sizeof(tsb), "%lld", ts);
    int n = snprintf(msg, sizeof(msg), "%s%s", tsb, token);
    ck_assert_ptr_nonnull(HMAC(EVP_sha256(), key, (int)strlen(key), (unsigned char *)msg,
                               (size_t)n, mac, &len));
    for (unsigned i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    json_object_set_new(root, "signature",
                        json_pack("{s:s, s:s, s:s}", "timestamp", tsb, "token", token,
                                  "signature", hex));
    return afx__dump(root);
}

char *afx_set(const char *body, const char *obj, const char *key, const char *sval,
              long long ival)
{
    json_t *root = json_loads(body, 0, NULL);
    ck_assert_ptr_nonnull(root);
    json_t *o = *obj ? json_object_get(root, obj) : root;
    ck_assert_msg(json_is_object(o), "fixture has no object %s", obj);
    json_object_set_new(o, key, sval ? json_string(sval) : json_integer(ival));
    return afx__dump(root);
}

/* Not ck_assert: the bench links these too, outside a Check test. */
static void afx__need(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "adapt_fixture: %s failed\n", what);
        abort();
    }
}

EVP_PKEY *afx_sendgrid_key(char *pub, size_t publen)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    afx__need(k != NULL, "EVP_EC_gen");
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k, &der);
    afx__need(n > 0 && publen > (size_t)(n + 2) / 3 * 4, "i2d_PUBKEY");
    EVP_EncodeBlock((unsigned char *)pub, der, n);
    OPENSSL_free(der);
    return k;
}

char *afx_sendgrid_sign(EVP_PKEY *k, const char *ts, const char *body, size_t len)
{
    unsigned char sig[128];
    size_t sl = sizeof(sig);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    afx__need(ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k) == 1 &&
                  EVP_DigestSignUpdate(ctx, ts, strlen(ts)) == 1 &&
                  EVP_DigestSignUpdate(ctx, body, len) == 1 &&
                  EVP_DigestSignFinal(ctx, sig, &sl) == 1,
              "ECDSA signing");
    EVP_MD_CTX_free(ctx);
    char *out = malloc((sl + 2) / 3 * 4 + 1);
    afx__need(out != NULL, "malloc");
    EVP_EncodeBlock((unsigned char *)out, sig, (int)sl);
    return out;
}

void afx_must_reject(const struct ingest_adapt_conf *c, const char *body, int64_t now_ms,
                     const char *why)
{
    struct ingest_adapt_out o = {0};
    char err[256] = "";
    ck_assert_int_eq(ingest_adapt_parse(c, body, strlen(body), now_ms, &o, err, sizeof(err)),
                     MP_ERR_INVAL);
    ck_assert_msg(strstr(err, why) != NULL, "err \"%s\" lacks \"%s\"", err, why);
    ck_assert_uint_eq(o.n, 0);
    ingest_adapt_out_free(&o);
}

int afx_parse_signed(const struct ingest_adapt_conf *c, char *raw, char *body, int64_t now_ms,
                     struct ingest_adapt_out *o, char *err)
{
    int rc = ingest_adapt_parse(c, body, strlen(body), now_ms, o, err, 256);
    free(raw);
    free(body);
    return rc;
}

void afx_must_reject_all(const struct ingest_adapt_conf *c, int64_t now_ms,
                         const struct afx_refusal *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        afx_must_reject(c, rows[i].body, now_ms, rows[i].why);
}
