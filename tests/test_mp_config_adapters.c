/* test_mp_config_adapters.c — Check suite for cmd/daemon/mp_config_adapters.c,
 * the `adapters:` list, loaded through mp_config_load() as the daemon (and
 * --check) load it. The refusal table pins the line, the key path and the
 * reason. Run with CK_FORK=yes. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapt_fixture_sns.h"
#include "check_main.h"
#include "mp_config.h"
#include "mp_config_adapters.h"
#include "config_testkit.h"
#include "unit_util.h"

#define HEAD "ingest:\n  pull: tcp://127.0.0.1:7400\nadapters:\n"
#define SES "  - name: acme-ses\n    type: ses\n    path: /hooks/acme-ses\n"
#define MG "  - name: acme-mailgun\n    type: mailgun\n    path: /hooks/acme-mailgun\n"
#define SG "  - name: sg\n    type: sendgrid\n    path: /hooks/sg\n    tenant: acme\n"
/* a P-256 public key as SendGrid's console shows it (base64 DER), and a P-384 one */
#define SG_KEY "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEfy4gWxuU4NS6cSGT7ozNi9wJ3yT+EKI0AZLEwM6M5DeX" \
               "qvWSYogumgHkFJdVXGt7He9CkIM9Z49AAXjv9vXkMw=="
#define SG_P384 "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEHOawhb4DBiEbgRtMeJWH4x3tro703JBimmVNnSNzVNx/DHD0" \
                "Iw07L42HW8bTp6TipKSAx8YckjPKwV8FlLz0/0AnUuugVnz1s7YwQTBQ2GBu6JlH+oyDO1LnICkoseZ9"

START_TEST(loads_sendgrid)
{
    struct mp_config *cfg = NULL;
    char err[1024];
    const char *yaml = HEAD SG "    mailbox_field: sender\n    signing_key: \"" SG_KEY "\"\n";
    ck_assert_msg(ctk_load(yaml, &cfg, err, sizeof(err)) == MP_OK, "%s", err);
    ck_assert_uint_eq(cfg->n_adapters, 1);
    ck_assert_int_eq(cfg->adapters[0].type, INGEST_ADAPT_SENDGRID);
    ck_assert_str_eq(cfg->adapters[0].mailbox_field, "sender");
    mp_config_free(cfg);
}
END_TEST

START_TEST(loads_ses)
{
    struct mp_config *cfg = NULL;
    char err[1024], pem[64], yaml[1024];
    EVP_PKEY *key;
    X509 *cert;
    snprintf(pem, sizeof(pem), "/tmp/mp-cfg-ses-%d.pem", (int)getpid());
    afx_sns_key(&key, &cert);
    afx_sns_pem(cert, pem);
    snprintf(yaml, sizeof(yaml), HEAD SES "    tenant: acme\n"
             "  - name: ses2\n    type: ses\n    path: /hooks/ses2\n    tenant: acme\n"
             "    sns_certificate: %s\n    sns_hosts: [\"sns.*.amazonaws.com\", \"127.0.0.1:8080\"]\n"
             "    topic_arns: [\"arn:aws:sns:us-east-1:123456789012:acme\"]\n", pem);
    ck_assert_msg(ctk_load(yaml, &cfg, err, sizeof(err)) == MP_OK, "%s", err);
    const struct mp_adapter_conf *a = cfg->adapters;
    ck_assert_int_eq(a[0].type, INGEST_ADAPT_SES);
    ck_assert_ptr_null(a[0].signing_key);
    ck_assert_uint_eq(a[0].n_sns_hosts, 0);
    ck_assert_str_eq(a[1].sns_certificate, pem);
    ck_assert_uint_eq(a[1].n_sns_hosts, 2);
    ck_assert_str_eq(a[1].sns_hosts[1], "127.0.0.1:8080");
    ck_assert_uint_eq(a[1].n_topic_arns, 1);
    mp_config_free(cfg);
    unlink(pem);
    EVP_PKEY_free(key);
    X509_free(cert);
}
END_TEST

START_TEST(loads_each_type)
{
    struct mp_config *cfg = NULL;
    char err[1024];
    const char *yaml = HEAD MG "    tenant: acme\n    signing_key: \"k1\"\n"
                       "  - name: pm\n    type: postmark\n    path: /hooks/pm\n"
                       "    tenant_field: tenant\n    tenants: [acme, beta]\n"
                       "    mailbox_field: sender\n    signing_key: \"u:p\"\n"
                       "    dedup_window: 1h\n"
                       "  - name: js\n    type: json\n    path: /hooks/a/js\n"
                       "    tenant: acme\n    signing_key: tok\n";
    ck_assert_msg(ctk_load(yaml, &cfg, err, sizeof(err)) == MP_OK, "%s", err);
    ck_assert_uint_eq(cfg->n_adapters, 3);
    const struct mp_adapter_conf *a = cfg->adapters;
    ck_assert_int_eq(a[0].type, INGEST_ADAPT_MAILGUN);
    ck_assert_str_eq(a[0].tenant, "acme");
    ck_assert_int_eq(a[0].dedup_window_ms, MP_ADAPTERS_DEDUP_DEFAULT_MS);
    ck_assert_int_eq(a[1].type, INGEST_ADAPT_POSTMARK);
    ck_assert_uint_eq(a[1].ntenants, 2);
    ck_assert_str_eq(a[1].tenants[1], "beta");
    ck_assert_str_eq(a[1].mailbox_field, "sender");
    ck_assert_int_eq(a[1].dedup_window_ms, 3600 * 1000);
    ck_assert_int_eq(a[2].type, INGEST_ADAPT_JSON);
    ck_assert_str_eq(a[2].path, "/hooks/a/js");
    mp_config_free(cfg);
}
END_TEST

static const struct ctk_refusal refuse[] = {
    {HEAD "  - name: x\n    type: smtp\n    path: /hooks/x\n    tenant: a\n    signing_key: k\n",
     ":5: adapters[0].type: expected json, mailgun, postmark, sendgrid or ses"},
    {HEAD SG "    signing_key: \"not a key\"\n",
     ":8: adapters[0].signing_key: type sendgrid: expected the Signed Event Webhook's "
     "verification key"},
    {HEAD SG "    signing_key: \"" SG_KEY "x\"\n", "type sendgrid: expected the Signed"},
    {HEAD SG "    signing_key: \"" SG_P384 "\"\n",
     "adapters[0].signing_key: type sendgrid: expected an ECDSA P-256 public key, got EC on "
     "secp384r1"},
    /* ses: no signing_key; the SNS keys only with it, each checked */
    {HEAD SES "    tenant: a\n    signing_key: k\n", ":8: adapters[0].signing_key: type ses: not used"},
    {HEAD MG "    tenant: a\n    signing_key: k\n    sns_hosts: [sns.x.example]\n",
     ":9: adapters[0].sns_hosts: only with type ses"},
    {HEAD MG "    tenant: a\n    signing_key: k\n    topic_arns: [\"arn:aws:sns:x:1:t\"]\n",
     ":9: adapters[0].topic_arns: only with type ses"},
    {HEAD SES "    tenant: a\n    sns_certificate: /nonexistent/sns.pem\n",
     ":8: adapters[0].sns_certificate: cannot read a PEM certificate from /nonexistent/sns.pem"},
    {HEAD SES "    tenant: a\n    sns_hosts: []\n", ":8: adapters[0].sns_hosts: expected a list of 1..64"},
    {HEAD SES "    tenant: a\n    sns_hosts: [\"sns.*.amazonaws.com\", \"ev*l.example\"]\n",
     ":8: adapters[0].sns_hosts[1]: expected a host name (a label may be *)"},
    {HEAD SES "    tenant: a\n    sns_hosts: [\"127.0.0.1:0\"]\n", "adapters[0].sns_hosts[0]: expected"},
    {HEAD SES "    tenant: a\n    sns_hosts: [\"Sns.example.\"]\n", "adapters[0].sns_hosts[0]: expected"},
    {HEAD SES "    tenant: a\n    sns_hosts: [a.example, a.example]\n",
     "adapters[0].sns_hosts[1]: duplicate entry"},
    {HEAD SES "    tenant: a\n    topic_arns: [acme-topic]\n",
     ":8: adapters[0].topic_arns[0]: expected an SNS topic ARN"},
    {HEAD MG "    signing_key: k\n", "adapters[0].tenant: set exactly one of tenant"},
    {HEAD MG "    tenant: a\n    tenant_field: t\n    tenants: [a]\n    signing_key: k\n",
     "adapters[0].tenant: set exactly one"},
    {HEAD MG "    tenant_field: t\n    signing_key: k\n", "adapters[0].tenants: required"},
    {HEAD MG "    tenant: a\n    tenants: [a]\n    signing_key: k\n",
     ":8: adapters[0].tenants: only with tenant_field"},
    {HEAD MG "    tenant_field: t\n    tenants: [a, a]\n    signing_key: k\n",
     "adapters[0].tenants[1]: duplicate tenant"},
    {HEAD MG "    tenant: a\n", "adapters[0].signing_key: required key missing"},
    {HEAD "  - name: p\n    type: postmark\n    path: /hooks/p\n    tenant: a\n"
          "    signing_key: nocolon\n",
     ":8: adapters[0].signing_key: type postmark: expected basic auth"},
    {HEAD "  - name: p\n    type: json\n    path: /v1/p\n    tenant: a\n    signing_key: k\n",
     ":6: adapters[0].path: expected a path under /hooks/"},
    {HEAD "  - name: p\n    type: json\n    path: /hooks/../x\n    tenant: a\n"
          "    signing_key: k\n",
     "adapters[0].path"},
    {HEAD MG "    tenant: a\n    signing_key: k\n" MG "    tenant: b\n    signing_key: k\n",
     ":9: adapters[1].name: duplicate adapter name"},
    {HEAD MG "    tenant: a\n    signing_key: k\n"
             "  - name: two\n    type: json\n    path: /hooks/acme-mailgun\n    tenant: b\n"
             "    signing_key: k\n",
     ":11: adapters[1].path: duplicate adapter path"},
    {HEAD MG "    tenant: a\n    signing_key: k\n    dedup_window: 10s\n",
     "adapters[0].dedup_window: expected a duration from 1m to 30d"},
    {HEAD MG "    tenant: a\n    signing_key: k\n    color: red\n", "adapters[0].color"},
    {"ingest:\n  pull: tcp://127.0.0.1:7400\nadapters: {}\n", "expected a list of adapters"},
};

START_TEST(refusals) { ctk_refused(refuse[_i].yaml, refuse[_i].want, _i); }
END_TEST

CHECK_SUITE_TABLES("mp_config_adapters", 30, NULL, NULL,
                   CHECK_TESTS(loads_each_type, loads_sendgrid, loads_ses),
                   CHECK_LOOPS(CHECK_LOOP(refusals, refuse)))
