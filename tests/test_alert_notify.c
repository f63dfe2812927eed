/* test_alert_notify.c — alerts/alert_notify: what a notification says.
 *
 * Webhook bodies carry the Alertmanager v4 layout (firing and resolved), and
 * a group's body its groupKey and groupLabels per group_by, truncatedAlerts
 * under max_alerts, externalURL and each alert's generatorURL;
 * summaries and titles name the alert for people with mp_fmt's figures
 * (Slack: test_alert_slack.c, PagerDuty: test_alert_pagerduty.c); the
 * signature header is t=<s>,v1=HMAC-SHA256 over
 * "<t>." + body, checked against a published vector and against OpenSSL's
 * own one-shot HMAC; the fingerprint keeps an alert's identity across
 * severities and is FROZEN (vectors below, computed with the code as it was
 * before the hash was frozen: they must never change); the idempotency key
 * is stable for the same notification, differs for any other, and is
 * frozen too.
 */
#include <check.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_notify.h"
#include "alert_rule.h"
#include "alert_testkit.h"
#include "check_main.h"

#define T_START ATK_T_START

static struct alert_ruleset *rules; /* the defaults: bounce_rate is every case's rule */

static void setup(void) { ck_assert_int_eq(alert_ruleset_defaults(&rules), MP_OK); }
static void teardown(void) { alert_ruleset_free(rules); }

START_TEST(webhook_layout)
{
    struct alert_instance a[2] = {atk_instance(rules, "sales@acme.example", NULL, 1000, 30),
                                  atk_instance(rules, NULL, "gmail.com", 1000, 30)};
    json_t *j = atk_parsed(alert_notify_webhook("ops", a, 2));
    ck_assert_str_eq(atk_jstr(j, "version"), "4");
    ck_assert_str_eq(atk_jstr(j, "status"), "firing");
    ck_assert_str_eq(atk_jstr(j, "receiver"), "ops");
    ck_assert_str_eq(atk_jstr(json_object_get(j, "groupLabels"), "tenant"), "team-a");
    json_t *common = json_object_get(j, "commonLabels");
    ck_assert_str_eq(atk_jstr(common, "alertname"), "bounce_rate");
    /* mailbox and domain differ between the two: not common */
    ck_assert_ptr_null(json_object_get(common, "mailbox"));
    ck_assert_ptr_null(json_object_get(common, "recipient_domain"));
    ck_assert_ptr_nonnull(json_object_get(j, "commonAnnotations"));
    json_t *alerts = json_object_get(j, "alerts");
    ck_assert_uint_eq(json_array_size(alerts), 2);
    json_t *a0 = json_array_get(alerts, 0);
    json_t *l0 = json_object_get(a0, "labels"), *an0 = json_object_get(a0, "annotations");
    ck_assert_str_eq(atk_jstr(a0, "status"), "firing");
    ck_assert_str_eq(atk_jstr(l0, "severity"), "warning");
    ck_assert_str_eq(atk_jstr(l0, "tenant"), "team-a");
    ck_assert_str_eq(atk_jstr(l0, "mailbox"), "sales@acme.example");
    ck_assert_ptr_null(json_object_get(l0, "recipient_domain"));
    ck_assert_str_eq(atk_jstr(an0, "value"), "0.03");
    ck_assert_str_eq(atk_jstr(an0, "threshold"), "0.02");
    ck_assert_str_eq(atk_jstr(an0, "numerator"), "30");
    ck_assert_str_eq(atk_jstr(an0, "denominator"), "1000");
    ck_assert_str_eq(atk_jstr(an0, "window"), "1h");
    ck_assert_ptr_nonnull(strstr(atk_jstr(an0, "summary"), "sales@acme.example"));
    ck_assert_str_eq(atk_jstr(a0, "startsAt"), "2026-11-22T16:19:16.150Z");
    ck_assert_str_eq(atk_jstr(a0, "endsAt"), "0001-01-01T00:00:00Z");
    ck_assert_uint_eq(strlen(atk_jstr(a0, "fingerprint")), 16);
    json_t *l1 = json_object_get(json_array_get(alerts, 1), "labels");
    ck_assert_str_eq(atk_jstr(l1, "recipient_domain"), "gmail.com");
    /* the rest of the v4 envelope */
    ck_assert_str_eq(atk_jstr(j, "groupKey"), "{}:{tenant=\"team-a\"}");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "truncatedAlerts")), 0);
    ck_assert_str_eq(atk_jstr(j, "externalURL"), "");
    ck_assert_str_eq(atk_jstr(a0, "generatorURL"), "");
    json_decref(j);
}
END_TEST

/* A group's body: groupKey and groupLabels follow group_by (the tenant is
 * always one, empty labels left out), status is firing while any alert
 * fires, max_alerts truncates with truncatedAlerts, and generatorURL points
 * under externalURL at the daemon's listing of the alert's tenant. */
START_TEST(webhook_group_fields)
{
    struct alert_instance a[3] = {atk_instance(rules, "sales@acme.example", NULL, 1000, 30),
                                  atk_instance(rules, NULL, "gmail.com", 1000, 30),
                                  atk_instance(rules, NULL, "yahoo.com", 1000, 80)};
    a[1].status = ALERT_STATUS_RESOLVED;
    a[1].ends_ms = T_START + 1000;
    struct alert_notify_group g = {.group_by = ALERT_LABEL_ALERTNAME | ALERT_LABEL_DOMAIN,
                                   .route_key = "{}/{severity=\"critical\"}",
                                   .max_alerts = 2,
                                   .external_url = "https://mp.example:7480/"};
    json_t *j = atk_parsed(alert_notify_webhook_group(&g, "pager", a, 3));
    ck_assert_str_eq(atk_jstr(j, "status"), "firing");
    ck_assert_str_eq(atk_jstr(j, "receiver"), "pager");
    /* a[0] names no recipient domain: that label is left out of its key */
    ck_assert_str_eq(atk_jstr(j, "groupKey"),
                     "{}/{severity=\"critical\"}:{alertname=\"bounce_rate\", tenant=\"team-a\"}");
    json_t *gl = json_object_get(j, "groupLabels");
    ck_assert_uint_eq(json_object_size(gl), 2);
    ck_assert_str_eq(atk_jstr(gl, "alertname"), "bounce_rate");
    ck_assert_str_eq(atk_jstr(gl, "tenant"), "team-a");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "truncatedAlerts")), 1);
    json_t *alerts = json_object_get(j, "alerts");
    ck_assert_uint_eq(json_array_size(alerts), 2);
    ck_assert_str_eq(atk_jstr(j, "externalURL"), "https://mp.example:7480/");
    char fp[17], want[200];
    alert_fingerprint(&a[1], fp);
    snprintf(want, sizeof(want), "https://mp.example:7480/v1/alerts?tenant=team-a#%s", fp);
    ck_assert_str_eq(atk_jstr(json_array_get(alerts, 1), "generatorURL"), want);
    ck_assert_str_eq(atk_jstr(json_array_get(alerts, 1), "fingerprint"), fp);
    json_decref(j);
    /* grouped by recipient domain: the label is in the key */
    struct alert_notify_group bydom = {.group_by = ALERT_LABEL_DOMAIN};
    char key[256];
    alert_notify_group_key(&bydom, &a[1], key, sizeof(key));
    ck_assert_str_eq(key, "{}:{recipient_domain=\"gmail.com\", tenant=\"team-a\"}");
    /* the truncated alert still counts for status; all resolved: resolved */
    a[0].status = a[2].status = ALERT_STATUS_RESOLVED;
    j = atk_parsed(alert_notify_webhook_group(&g, "pager", a, 3));
    ck_assert_str_eq(atk_jstr(j, "status"), "resolved");
    json_decref(j);
    a[2].status = ALERT_STATUS_FIRING; /* only the one cut off fires */
    j = atk_parsed(alert_notify_webhook_group(&g, "pager", a, 3));
    ck_assert_str_eq(atk_jstr(j, "status"), "firing");
    json_decref(j);
    /* no limit, no external URL: everything, and empty URLs */
    g.max_alerts = 0;
    g.external_url = NULL;
    j = atk_parsed(alert_notify_webhook_group(&g, "pager", a, 3));
    ck_assert_uint_eq(json_array_size(json_object_get(j, "alerts")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "truncatedAlerts")), 0);
    ck_assert_str_eq(atk_jstr(j, "externalURL"), "");
    ck_assert_str_eq(atk_jstr(json_array_get(json_object_get(j, "alerts"), 0), "generatorURL"), "");
    json_decref(j);
}
END_TEST

START_TEST(label_names)
{
    ck_assert_uint_eq(alert_label_bit("tenant"), ALERT_LABEL_TENANT);
    ck_assert_uint_eq(alert_label_bit("recipient_domain"), ALERT_LABEL_DOMAIN);
    ck_assert_uint_eq(alert_label_bit("severity"), 0); /* changes while firing: not a group label */
    ck_assert_uint_eq(alert_label_bit("Tenant"), 0);
    struct alert_instance a = atk_instance(rules, "m@x.example", NULL, 1000, 30);
    ck_assert_str_eq(alert_label_value(&a, ALERT_LABEL_MAILBOX), "m@x.example");
    ck_assert_str_eq(alert_label_value(&a, ALERT_LABEL_DOMAIN), "");
    ck_assert_str_eq(alert_label_value(&a, ALERT_LABEL_RULE), ""); /* name == alertname */
}
END_TEST

START_TEST(webhook_resolved)
{
    struct alert_instance a = atk_instance(rules, NULL, "gmail.com", 1000, 10);
    a.status = ALERT_STATUS_RESOLVED;
    a.severity = ALERT_SEV_CRITICAL;
    a.ends_ms = a.starts_ms + 60000;
    json_t *j = atk_parsed(alert_notify_webhook("ops", &a, 1));
    ck_assert_str_eq(atk_jstr(j, "status"), "resolved");
    json_t *a0 = json_array_get(json_object_get(j, "alerts"), 0);
    ck_assert_str_eq(atk_jstr(a0, "status"), "resolved");
    ck_assert_str_eq(atk_jstr(a0, "endsAt"), "2026-11-22T16:20:16.150Z");
    json_decref(j);
}
END_TEST

START_TEST(fingerprint_identity)
{
    struct alert_instance w = atk_instance(rules, "a@x.example", NULL, 1000, 30);
    struct alert_instance c = atk_instance(rules, "a@x.example", NULL, 1000, 80);
    struct alert_instance other = atk_instance(rules, "b@x.example", NULL, 1000, 30);
    struct alert_instance dom = atk_instance(rules, NULL, "a@x.example", 1000, 30);
    char f1[17], f2[17], f3[17], f4[17];
    alert_fingerprint(&w, f1);
    alert_fingerprint(&c, f2);
    alert_fingerprint(&other, f3);
    alert_fingerprint(&dom, f4);
    ck_assert_int_ne(w.severity, c.severity);
    ck_assert_str_eq(f1, f2); /* escalation keeps the alert's identity */
    ck_assert_str_ne(f1, f3);
    ck_assert_str_ne(f1, f4); /* same text as a domain is another alert */
}
END_TEST

/* FROZEN: receivers and the alert store key on these values. They were
 * computed with alert_fingerprint() as it stood on mp_hash_bytes(), before
 * the hash was frozen. If this test fails, the change is wrong, not the
 * vectors. */
START_TEST(fingerprint_vector)
{
    static const struct {
        const char *rule, *tenant, *mailbox, *domain, *want;
    } v[] = {
        {"bounce_rate", "team-a", "sales@acme.example", NULL, "2181a838587a784d"},
        {"bounce_rate", "team-a", NULL, "gmail.com", "9f5b43e03a132e16"},
        {"bounce_rate", "team-a", NULL, NULL, "d976cfa28a83e8d0"},
        {"a_very_long_rule_name_for_testing", "tenant-with-a-long-name-x",
         "someone.with.long.address@example.org", NULL, "621860190a9368d1"},
    };
    for (size_t i = 0; i < MP_ARRAY_LEN(v); i++) {
        struct alert_rule r;
        memset(&r, 0, sizeof(r));
        snprintf(r.name, sizeof(r.name), "%s", v[i].rule);
        struct alert_instance a = {.rule = &r, .tenant = v[i].tenant, .mailbox = v[i].mailbox,
                                   .domain = v[i].domain};
        char fp[17];
        alert_fingerprint(&a, fp);
        ck_assert_msg(strcmp(fp, v[i].want) == 0, "vector %zu: %s, frozen as %s", i, fp, v[i].want);
    }
    /* only the identity counts: status, severity, value and times do not */
    struct alert_instance a = atk_instance(rules, "sales@acme.example", NULL, 1000, 80);
    a.status = ALERT_STATUS_RESOLVED;
    a.ends_ms = T_START + 1;
    char fp[17];
    alert_fingerprint(&a, fp);
    ck_assert_str_eq(fp, "2181a838587a784d");
}
END_TEST

/* FROZEN too, computed like the fingerprints: one firing warning (the
 * first), then it with a resolved critical, decided at T_START + 3850. */
START_TEST(idem_key_vector_and_stable)
{
    struct alert_instance a[2] = {atk_instance(rules, "sales@acme.example", NULL, 1000, 30),
                                  atk_instance(rules, NULL, "gmail.com", 1000, 80)};
    a[1].status = ALERT_STATUS_RESOLVED;
    a[1].starts_ms = 1795364300000LL;
    a[1].ends_ms = 1795364359000LL;
    const int64_t at = 1795364360000LL;
    char k[ALERT_IDEM_LEN], k2[ALERT_IDEM_LEN];
    alert_notify_idem_key(a, 1, at, "ops", k);
    ck_assert_str_eq(k, "d14280a2122c5b68");
    alert_notify_idem_key(a, 1, at, "team-a-slack", k);
    ck_assert_str_eq(k, "dea14702514c38ec");
    alert_notify_idem_key(a, 2, at, "team-a-slack", k);
    ck_assert_str_eq(k, "29ab491ed09b8802");
    alert_notify_idem_key(a, 2, at, "ops", k);
    ck_assert_str_eq(k, "2758af1ce03549a5");
    /* the same notification, asked again: the same key */
    alert_notify_idem_key(a, 2, at, "ops", k2);
    ck_assert_str_eq(k2, k);
    /* any other notification: another key */
    alert_notify_idem_key(a, 2, at + 1, "ops", k);
    ck_assert_str_ne(k, k2); /* decided later: a reminder */
    a[0].severity = ALERT_SEV_CRITICAL;
    alert_notify_idem_key(a, 2, at, "ops", k);
    ck_assert_str_ne(k, k2);
    a[0].severity = ALERT_SEV_WARNING;
    a[0].starts_ms++;
    alert_notify_idem_key(a, 2, at, "ops", k);
    ck_assert_str_ne(k, k2);
}
END_TEST

/* A resolve told after its rule left the rules file says so, instead of
 * describing a window the rule no longer has. */
START_TEST(removed_rule_summary)
{
    struct alert_instance a = atk_instance(rules, "a@x.example", NULL, 1000, 30);
    a.status = ALERT_STATUS_RESOLVED;
    a.ends_ms = a.starts_ms + 1000;
    a.rule_removed = 1;
    char text[512];
    alert_notify_summary(&a, text, sizeof(text));
    ck_assert_str_eq(text, "bounce_rate resolved for tenant team-a mailbox a@x.example: "
                           "rule bounce_rate was removed from the rules file");
}
END_TEST

/* Summaries and titles read as people write them: one formatter (mp_fmt)
 * for every figure, the firing count and what the alerts share. */
START_TEST(summary_and_title)
{
    struct alert_instance a[2] = {atk_instance(rules, NULL, "outlook.com", 10000, 231),
                                  atk_instance(rules, "s@acme.example", NULL, 10500, 42)};
    char text[512];
    alert_notify_summary(&a[0], text, sizeof(text));
    ck_assert_str_eq(text, "bounce_rate 2.31% for tenant team-a recipient domain outlook.com "
                           "(231 of 10000 sent over 1h), warning at 2.00%");
    alert_notify_title(a, 1, text, sizeof(text));
    ck_assert_str_eq(text, "[FIRING:1] team-a bounce_rate warning");
    a[1].severity = ALERT_SEV_CRITICAL;
    alert_notify_title(a, 2, text, sizeof(text));
    ck_assert_str_eq(text, "[FIRING:2] team-a bounce_rate");
    a[0].status = a[1].status = ALERT_STATUS_RESOLVED;
    alert_notify_title(a, 1, text, sizeof(text));
    ck_assert_str_eq(text, "[RESOLVED] team-a bounce_rate warning");
    alert_notify_value_text(a[1].rule, 4000000, text, sizeof(text)); /* 0.4% in ppb */
    ck_assert_str_eq(text, "0.40%");
}
END_TEST

START_TEST(signature_vector)
{
    /* Expected value computed independently (Python hmac) over "1." + body. */
    const char *body = "what do ya want for nothing?";
    char sig[128];
    alert_sign("Jefe", 1, body, strlen(body), sig, sizeof(sig));
    ck_assert_str_eq(sig,
                     "t=1,v1=a9049465ce89cfb8e9aac62333abda66f80e3403f51f57f6bae3c3a4485eca38");
}
END_TEST

/* The header against OpenSSL's one-shot HMAC over the concatenated
 * "<t>." + body (alert_sign streams the two parts without copying). */
START_TEST(signature_matches_openssl)
{
    static const struct {
        const char *secret;
        long long t;
        const char *body;
    } v[] = {
        {"s3cret", 1795364356LL, "{\"version\":\"4\",\"alerts\":[]}"},
        {"k", 0, ""},
        {"a much longer secret than the sha256 block size of sixty-four bytes, to be hashed",
         4102444800LL, "{\"text\":\"merged\\n\\nmessage\"}"},
    };
    for (size_t i = 0; i < MP_ARRAY_LEN(v); i++) {
        char msg[512], want[160], got[128];
        int ml = snprintf(msg, sizeof(msg), "%lld.%s", v[i].t, v[i].body);
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int maclen = 0;
        ck_assert_ptr_nonnull(HMAC(EVP_sha256(), v[i].secret, (int)strlen(v[i].secret),
                                   (const unsigned char *)msg, (size_t)ml, mac, &maclen));
        ck_assert_uint_eq(maclen, 32);
        int w = snprintf(want, sizeof(want), "t=%lld,v1=", v[i].t);
        for (unsigned b = 0; b < maclen; b++)
            w += snprintf(want + w, sizeof(want) - (size_t)w, "%02x", mac[b]);
        alert_sign(v[i].secret, v[i].t, v[i].body, strlen(v[i].body), got, sizeof(got));
        ck_assert_msg(strcmp(got, want) == 0, "vector %zu: %s, want %s", i, got, want);
    }
}
END_TEST

CHECK_SUITE("alert_notify", 0, setup, teardown, webhook_layout, webhook_group_fields, label_names,
            webhook_resolved, fingerprint_identity, fingerprint_vector, idem_key_vector_and_stable,
            removed_rule_summary, summary_and_title, signature_vector, signature_matches_openssl)
