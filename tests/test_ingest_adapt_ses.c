/* test_ingest_adapt_ses.c — ingest/ingest_adapt_ses.c: SES event records
 * inside SNS envelopes (tests/fixtures/adapters/ses_*.json, the documented
 * shapes) to events, the SNS signature (versions 1 and 2, over each Type's
 * canonical string, against a key and self-signed certificate made at test
 * time), the TopicArn allow-list, and the refusals. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt_fixture.h"
#include "adapt_fixture_sns.h"
#include "check_main.h"
#include "eng_types.h"
#include "ingest_adapt.h"

#define ARN "arn:aws:sns:us-east-1:123456789012:acme-ses-events"
#define T1_MS 1796193602669LL /* 2026-12-02T06:40:02.669Z, the fixtures' detail time */

static EVP_PKEY *key, *other_key;
static X509 *cert, *other_cert;

static void keys_up(void)
{
    afx_sns_key(&key, &cert);
    afx_sns_key(&other_key, &other_cert);
}

static void keys_down(void)
{
    EVP_PKEY_free(key);
    EVP_PKEY_free(other_key);
    X509_free(cert);
    X509_free(other_cert);
}

static struct ingest_adapt_conf conf_of(const X509 *c)
{
    return (struct ingest_adapt_conf){.kind = INGEST_ADAPT_SES, .tenant = "acme", .sns_cert = c};
}

/* The fixture, signed (version), parsed with conf. */
static int parse(const struct ingest_adapt_conf *c, const char *fixture, int version,
                 struct ingest_adapt_out *o, char *err)
{
    char *raw = afx_load(fixture);
    return afx_parse_signed(c, raw, afx_sns_sign(raw, key, version), T1_MS, o, err);
}

START_TEST(maps_each_event)
{
    static const struct {
        const char *fixture;
        size_t n;
        int type;
        const char *domain0, *domain1;
        long long ms;
    } cases[] = {
        {"ses_send.json", 2, ENG_SENT, "gmail.example", "yahoo.example", 1796193600012LL},
        {"ses_delivery.json", 2, ENG_DELIVERED, "gmail.example", "yahoo.example", T1_MS},
        {"ses_bounce_permanent.json", 2, ENG_BOUNCE_HARD, "yahoo.example", "outlook.example", T1_MS},
        {"ses_bounce_transient.json", 1, ENG_BOUNCE_SOFT, "yahoo.example", NULL, T1_MS},
        {"ses_bounce_undetermined.json", 1, ENG_BOUNCE_SOFT, "yahoo.example", NULL, T1_MS},
        {"ses_complaint.json", 1, ENG_COMPLAINT, "gmail.example", NULL, T1_MS},
        {"ses_reject.json", 1, ENG_BLOCKED, "gmail.example", NULL, 1796193600012LL},
        {"ses_delivery_delay.json", 1, ENG_DEFERRED, "yahoo.example", NULL, T1_MS},
        {"ses_open.json", 1, ENG_OPEN, "gmail.example", NULL, T1_MS},
        {"ses_click.json", 1, ENG_CLICK, "gmail.example", NULL, T1_MS},
        {"ses_subscription.json", 1, ENG_UNSUBSCRIBE, "gmail.example", NULL, T1_MS},
        /* an identity notification: notificationType, no tags */
        {"ses_identity_bounce.json", 1, ENG_BOUNCE_HARD, "yahoo.example", NULL, T1_MS},
    };
    struct ingest_adapt_conf c = conf_of(cert);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int version = 1; version <= 2; version++) {
            struct ingest_adapt_out o = {0};
            char err[256] = "";
            ck_assert_msg(parse(&c, cases[i].fixture, version, &o, err) == MP_OK, "%s v%d: %s",
                          cases[i].fixture, version, err);
            ck_assert_uint_eq(o.n, cases[i].n);
            ck_assert_str_eq(o.sns.type, "Notification");
            ck_assert_str_eq(o.sns.topic_arn, ARN);
            for (size_t j = 0; j < o.n; j++) {
                ck_assert_int_eq(o.ev[j].type, cases[i].type);
                ck_assert_str_eq(o.ev[j].tenant, "acme");
                ck_assert_str_eq(o.ev[j].mailbox, "news@acme.example");
                ck_assert_str_eq(o.ev[j].domain, j ? cases[i].domain1 : cases[i].domain0);
                ck_assert_int_eq(o.ev[j].time_ms, cases[i].ms);
                char want[160];
                if (o.n == 1)
                    snprintf(want, sizeof(want), "%s", o.sns.message_id);
                else
                    snprintf(want, sizeof(want), "%s/%zu", o.sns.message_id, j);
                ck_assert_str_eq(o.ev[j].id, want);
            }
            ingest_adapt_out_free(&o);
        }
    }
}
END_TEST

START_TEST(fields_from_tags)
{
    static const char *const tenants[] = {"acme", "beta"};
    struct ingest_adapt_conf c = {.kind = INGEST_ADAPT_SES, .tenant_field = "tenant",
                                  .tenants = tenants, .ntenants = 2, .mailbox_field = "mailbox",
                                  .sns_cert = cert};
    struct ingest_adapt_out o = {0};
    char err[256] = "";
    ck_assert_msg(parse(&c, "ses_bounce_transient.json", 2, &o, err) == MP_OK, "%s", err);
    ck_assert_str_eq(o.ev[0].tenant, "acme");
    ck_assert_str_eq(o.ev[0].mailbox, "promo@acme.example");
    ingest_adapt_out_free(&o);
    /* identity notifications carry no tags: no tenant */
    ck_assert_int_eq(parse(&c, "ses_identity_bounce.json", 2, &o, err), MP_ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(err, "Message.mail.tags.tenant"));
    ck_assert_uint_eq(o.n, 0);
    ingest_adapt_out_free(&o);
}
END_TEST

START_TEST(confirmation_and_not_counted)
{
    struct ingest_adapt_conf c = conf_of(cert);
    struct ingest_adapt_out o = {0};
    char err[256] = "";
    ck_assert_msg(parse(&c, "ses_subscription_confirmation.json", 2, &o, err) == MP_OK, "%s", err);
    ck_assert_uint_eq(o.n, 0);
    ck_assert_str_eq(o.sns.type, "SubscriptionConfirmation");
    ck_assert_ptr_nonnull(strstr(o.sns.subscribe_url, "Action=ConfirmSubscription"));
    ck_assert_str_eq(o.sns.cert_url, "https://sns.us-east-1.amazonaws.com/"
                                     "SimpleNotificationService-0000000000000000000000.pem");
    ingest_adapt_out_free(&o);
    /* the peek reads the same envelope without a certificate */
    char *raw = afx_load("ses_subscription_confirmation.json");
    struct ingest_adapt_sns sns;
    ck_assert_int_eq(ingest_adapt_sns_peek(raw, strlen(raw), &sns, err, 256), MP_OK);
    ck_assert_str_eq(sns.message_id, "165545c9-2a5c-472c-8df2-7ff2be2b3b1b");
    ck_assert_int_eq(sns.time_ms, 1796193540000LL);
    free(raw);
    /* a subscription change that opts in, a rendering failure: taken, none counted */
    raw = afx_load("ses_subscription.json");
    char *in = afx_set(raw, "", "Message",
                       "{\"eventType\":\"Subscription\",\"mail\":{\"timestamp\":"
                       "\"2026-12-02T06:40:00Z\",\"source\":\"a@acme.example\",\"destination\":"
                       "[\"b@c.example\"]},\"subscription\":{\"timestamp\":\"2026-12-02T06:40:00Z\","
                       "\"newTopicPreferences\":{\"unsubscribeAll\":false,"
                       "\"topicSubscriptionStatus\":[{\"topicName\":\"t\",\"subscriptionStatus\":"
                       "\"OptIn\"}]}}}", 0);
    char *rf = afx_set(raw, "", "Message",
                       "{\"eventType\":\"Rendering Failure\",\"mail\":{},\"failure\":{}}", 0);
    const char *bodies[] = {in, rf};
    for (size_t i = 0; i < 2; i++) {
        char *body = afx_sns_sign(bodies[i], key, 2);
        ck_assert_int_eq(ingest_adapt_parse(&c, body, strlen(body), T1_MS, &o, err, 256), MP_OK);
        ck_assert_uint_eq(o.n, 0);
        free(body);
    }
    free(in);
    free(rf);
    free(raw);
    ingest_adapt_out_free(&o);
}
END_TEST

START_TEST(signature_refusals)
{
    struct ingest_adapt_conf c = conf_of(cert), wrong = conf_of(other_cert),
                             none = conf_of(NULL);
    struct ingest_adapt_out o = {0};
    char err[256];
    ck_assert_int_eq(parse(&wrong, "ses_bounce_permanent.json", 2, &o, err), INGEST_ADAPT_ERR_SIG);
    ck_assert_int_eq(parse(&none, "ses_bounce_permanent.json", 2, &o, err), INGEST_ADAPT_ERR_SIG);
    ck_assert_uint_eq(o.n, 0);
    /* any signed field changed after signing */
    static const struct {
        const char *key, *val;
    } tamper[] = {
        {"Message", "{\"eventType\":\"Send\"}"}, {"MessageId", "other"},
        {"Timestamp", "2026-12-02T06:41:00.000Z"}, {"TopicArn", "arn:aws:sns:x:1:y"},
        {"Subject", "added"}, {"SignatureVersion", "3"}, {"Signature", "!!!!"},
    };
    char *raw = afx_load("ses_bounce_permanent.json"), *signed_ = afx_sns_sign(raw, key, 1);
    for (size_t i = 0; i < sizeof(tamper) / sizeof(tamper[0]); i++) {
        char *body = afx_set(signed_, "", tamper[i].key, tamper[i].val, 0);
        ck_assert_msg(ingest_adapt_parse(&c, body, strlen(body), T1_MS, &o, err, 256) ==
                          INGEST_ADAPT_ERR_SIG, "tampered %s accepted", tamper[i].key);
        ck_assert_uint_eq(o.n, 0);
        free(body);
    }
    /* a confirmation's Token and SubscribeURL are signed too */
    char *craw = afx_load("ses_subscription_confirmation.json"), *cs = afx_sns_sign(craw, key, 2);
    char *evil = afx_set(cs, "", "SubscribeURL", "https://sns.us-east-1.amazonaws.com.evil/", 0);
    ck_assert_int_eq(ingest_adapt_parse(&c, evil, strlen(evil), T1_MS, &o, err, 256),
                     INGEST_ADAPT_ERR_SIG);
    /* the TopicArn allow-list */
    static const char *const arns[] = {"arn:aws:sns:us-east-1:123456789012:other"};
    c.topic_arns = arns;
    c.ntopic_arns = 1;
    ck_assert_int_eq(ingest_adapt_parse(&c, signed_, strlen(signed_), T1_MS, &o, err, 256),
                     INGEST_ADAPT_ERR_SIG);
    ck_assert_ptr_nonnull(strstr(err, "TopicArn"));
    static const char *const ok_arns[] = {"arn:aws:sns:us-east-1:123456789012:other", ARN};
    c.topic_arns = ok_arns;
    c.ntopic_arns = 2;
    ck_assert_int_eq(ingest_adapt_parse(&c, signed_, strlen(signed_), T1_MS, &o, err, 256), MP_OK);
    ck_assert_uint_eq(o.n, 2);
    char *frees[] = {raw, signed_, craw, cs, evil};
    for (size_t i = 0; i < sizeof(frees) / sizeof(frees[0]); i++)
        free(frees[i]);
    ingest_adapt_out_free(&o);
}
END_TEST

START_TEST(body_refusals)
{
    struct ingest_adapt_conf c = conf_of(cert);
    struct ingest_adapt_out o = {0};
    char err[256];
    static const struct afx_member_case env[] = {
        {"Type", "Other", "Type: expected Notification"},
        {"MessageId", "", "MessageId"},
        {"Timestamp", "yesterday", "Timestamp"},
    };
    char *raw = afx_load("ses_bounce_permanent.json");
    for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++) {
        char *mod = afx_set(raw, "", env[i].key, env[i].val, 0);
        ck_assert_int_eq(ingest_adapt_parse(&c, mod, strlen(mod), T1_MS, &o, err, 256),
                         MP_ERR_INVAL);
        ck_assert_msg(strstr(err, env[i].why) != NULL, "err \"%s\" lacks \"%s\"", err,
                      env[i].why);
        free(mod);
    }
    /* signed, but the record inside is malformed */
    static const struct {
        const char *msg, *why;
    } rec[] = {
        {"not json", "Message: not JSON"},
        {"{\"eventType\":\"Received\"}", "Message.eventType: \"Received\""},
        {"{\"eventType\":\"Bounce\",\"mail\":{},\"bounce\":{\"timestamp\":\"2026-12-02T06:40:00Z\"}}",
         "with bounceType"},
        {"{\"eventType\":\"Delivery\",\"mail\":{},\"delivery\":{\"timestamp\":\"x\"}}",
         "Message.delivery.timestamp"},
        {"{\"eventType\":\"Delivery\",\"mail\":{\"source\":\"a@b.example\"},\"delivery\":"
         "{\"timestamp\":\"2026-12-02T06:40:00Z\",\"recipients\":[]}}", "has no recipients"},
        {"{\"eventType\":\"Delivery\",\"mail\":{\"source\":\"a@b.example\"},\"delivery\":"
         "{\"timestamp\":\"2026-12-02T06:40:00Z\",\"recipients\":[\"ok@c.example\",\"nobody\"]}}",
         "Message.recipients[1]"},
    };
    /* a record without mail.source is no refusal: events without a
     * mailbox count at their other scopes (ingest_adapt.h) */
    {
        char *mod = afx_set(raw, "", "Message",
                            "{\"eventType\":\"Send\",\"mail\":{\"timestamp\":"
                            "\"2026-12-02T06:40:00Z\",\"destination\":[\"a@c.example\"]},"
                            "\"send\":{}}", 0),
             *body = afx_sns_sign(mod, key, 2);
        ck_assert_int_eq(ingest_adapt_parse(&c, body, strlen(body), T1_MS, &o, err, 256), MP_OK);
        ck_assert_uint_eq(o.n, 1);
        ck_assert_str_eq(o.ev[0].mailbox, "");
        ck_assert_str_eq(o.ev[0].domain, "c.example");
        ingest_adapt_out_free(&o);
        memset(&o, 0, sizeof(o));
        free(mod);
        free(body);
    }
    for (size_t i = 0; i < sizeof(rec) / sizeof(rec[0]); i++) {
        char *mod = afx_set(raw, "", "Message", rec[i].msg, 0), *body = afx_sns_sign(mod, key, 2);
        ck_assert_int_eq(ingest_adapt_parse(&c, body, strlen(body), T1_MS, &o, err, 256),
                         MP_ERR_INVAL);
        ck_assert_msg(strstr(err, rec[i].why) != NULL, "err \"%s\" lacks \"%s\"", err, rec[i].why);
        ck_assert_uint_eq(o.n, 0);
        free(mod);
        free(body);
    }
    free(raw);
    ingest_adapt_out_free(&o);
}
END_TEST

CHECK_SUITE("ingest_adapt_ses", 60, keys_up, keys_down, maps_each_event, fields_from_tags,
            confirmation_and_not_counted, signature_refusals, body_refusals)
