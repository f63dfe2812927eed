/* test_mp_adapters_sns.c — Check suite for cmd/daemon/mp_adapters_sns.c:
 * which SigningCertURLs and SubscribeURLs are allowed (the default
 * sns.*.amazonaws.com, explicit sns_hosts, the loopback http entry, the
 * look-alikes and user-info tricks refused), the configured certificate
 * returned whatever the URL, and a refused SubscribeURL not fetched. */
#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapt_fixture_sns.h"
#include "check_main.h"
#include "mp_adapters_sns.h"

static struct mp_sns *make(struct mp_adapter_conf *c)
{
    struct mp_sns *s = NULL;
    char err[256];
    ck_assert_msg(mp_sns_create(c, &s, err, sizeof(err)) == MP_OK, "%s", err);
    return s;
}

struct url_case {
    const char *url;
    int ok; /* mp_sns_url_ok() must say this */
};

static void check_urls(const struct mp_sns *s, const struct url_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(mp_sns_url_ok(s, cases[i].url) == cases[i].ok, "%s: wanted %d",
                      cases[i].url, cases[i].ok);
}

START_TEST(default_hosts)
{
    static const struct url_case cases[] = {
        {"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem", 1},
        {"https://SNS.EU-WEST-1.amazonaws.com/x.pem", 1},
        {"https://sns.us-east-1.amazonaws.com:443/x.pem", 1},
        {"https://sns.us-east-1.amazonaws.com:8443/x.pem", 0},
        {"http://sns.us-east-1.amazonaws.com/x.pem", 0},
        {"https://sns.amazonaws.com/x.pem", 0},
        {"https://sns.a.b.amazonaws.com/x.pem", 0},
        {"https://sns.us-east-1.amazonaws.com.evil.example/x.pem", 0},
        {"https://evil.example/sns.us-east-1.amazonaws.com/x.pem", 0},
        {"https://user@sns.us-east-1.amazonaws.com/x.pem", 0},
        {"https://sns.us-east-1.amazonaws.com@evil.example/x.pem", 0},
        {"ftp://sns.us-east-1.amazonaws.com/x.pem", 0},
        {"sns.us-east-1.amazonaws.com/x.pem", 0},
        {"not a url", 0},
        {"", 0},
    };
    struct mp_adapter_conf c = {.name = "ses", .type = INGEST_ADAPT_SES};
    struct mp_sns *s = make(&c);
    check_urls(s, cases, sizeof(cases) / sizeof(cases[0]));
    mp_sns_destroy(s);
}
END_TEST

START_TEST(configured_hosts)
{
    static const struct url_case cases[] = {
        {"http://127.0.0.1:8080/confirm?Token=1", 1},
        {"https://127.0.0.1:8080/confirm", 1},
        {"http://127.0.0.1:8081/confirm", 0},
        {"http://127.0.0.1/confirm", 0},
        {"http://localhost:8080/confirm", 0},
        {"https://sns.cn-north-1.amazonaws.com.cn/x.pem", 1},
        {"https://sns.us-east-1.amazonaws.com/x.pem", 0}, /* the default is replaced */
        {"http://hooks.example/x", 0},                    /* http: only loopback */
        {"https://hooks.example/x", 1},
        {"https://hooks.example:443/x", 1},
    };
    char *hosts[] = {"127.0.0.1:8080", "sns.*.amazonaws.com.cn", "hooks.example"};
    struct mp_adapter_conf c = {.name = "ses", .type = INGEST_ADAPT_SES, .sns_hosts = hosts,
                                .n_sns_hosts = 3};
    struct mp_sns *s = make(&c);
    check_urls(s, cases, sizeof(cases) / sizeof(cases[0]));
    char err[256];
    /* refused before any connection: 127.0.0.2 is not allowed */
    ck_assert_int_eq(mp_sns_confirm(s, "http://127.0.0.2:9/confirm", err, sizeof(err)),
                     MP_ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(err, "SubscribeURL"));
    ck_assert_ptr_null(mp_sns_cert(s, "https://evil.example/x.pem", err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "SigningCertURL"));
    mp_sns_destroy(s);
}
END_TEST

START_TEST(configured_certificate)
{
    char pem[64], err[256];
    EVP_PKEY *key;
    X509 *cert;
    snprintf(pem, sizeof(pem), "/tmp/mp-sns-test-%d.pem", (int)getpid());
    afx_sns_key(&key, &cert);
    afx_sns_pem(cert, pem);
    struct mp_adapter_conf c = {.name = "ses", .type = INGEST_ADAPT_SES, .sns_certificate = pem};
    struct mp_sns *s = make(&c);
    X509 *got = mp_sns_cert(s, "https://anything.example/x.pem", err, sizeof(err));
    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(X509_cmp(got, cert), 0);
    X509_free(got);
    mp_sns_destroy(s);
    c.sns_certificate = "/nonexistent/sns.pem";
    ck_assert_int_eq(mp_sns_create(&c, &s, err, sizeof(err)), MP_ERR_IO);
    ck_assert_ptr_null(s);
    unlink(pem);
    EVP_PKEY_free(key);
    X509_free(cert);
}
END_TEST

void test_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }
void test_fini(void) { curl_global_cleanup(); }

CHECK_SUITE("mp_adapters_sns", 30, NULL, NULL, default_hosts, configured_hosts,
            configured_certificate)
