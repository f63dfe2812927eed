/* test_ingest_adapt_postmark.c — ingest/ingest_adapt_postmark.c: Postmark's
 * documented webhook records (tests/fixtures/adapters/postmark_*.json) to
 * events, the bounce types, what is taken but not counted, and the
 * refusals. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt_fixture.h"
#include "check_main.h"
#include "eng_types.h"
#include "ingest_adapt.h"

static const char *const allowed[] = {"acme", "beta"};
static const struct ingest_adapt_conf conf = {.kind = INGEST_ADAPT_POSTMARK,
                                              .tenant_field = "tenant", .tenants = allowed,
                                              .ntenants = 2, .mailbox_field = "mailbox",
                                              .signing_key = "pm:secret"};

static int parse(const char *body, struct ingest_adapt_out *o, char *err)
{
    return ingest_adapt_parse(&conf, body, strlen(body), 0, o, err, 256);
}

START_TEST(maps_each_record)
{
    static const struct {
        const char *fixture;
        int type;
        const char *domain;
    } cases[] = {
        {"postmark_delivery.json", ENG_DELIVERED, "gmail.example"},
        {"postmark_bounce_hard.json", ENG_BOUNCE_HARD, "yahoo.example"},
        {"postmark_bounce_soft.json", ENG_BOUNCE_SOFT, "yahoo.example"},
        {"postmark_spam_complaint.json", ENG_COMPLAINT, "hotmail.example"},
        {"postmark_open.json", ENG_OPEN, "gmail.example"},
        {"postmark_click.json", ENG_CLICK, "gmail.example"},
        {"postmark_subscription_change.json", ENG_UNSUBSCRIBE, "gmail.example"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ingest_adapt_out o = {0};
        char err[256] = "", *body = afx_load(cases[i].fixture);
        ck_assert_msg(parse(body, &o, err) == MP_OK, "%s: %s", cases[i].fixture, err);
        ck_assert_uint_eq(o.n, 1);
        ck_assert_int_eq(o.ev[0].type, cases[i].type);
        ck_assert_str_eq(o.ev[0].tenant, "acme");
        ck_assert_str_eq(o.ev[0].mailbox, "news@acme.example");
        ck_assert_str_eq(o.ev[0].domain, cases[i].domain);
        ck_assert_msg(o.ev[0].id[0] != '\0', "%s: no id", cases[i].fixture);
        ingest_adapt_out_free(&o);
        free(body);
    }
    struct ingest_adapt_out o = {0};
    char err[256], *body = afx_load("postmark_bounce_hard.json");
    ck_assert_int_eq(parse(body, &o, err), MP_OK);
    ck_assert_str_eq(o.ev[0].id, "4323372036854775807"); /* Bounce's own ID */
    ck_assert_int_eq(o.ev[0].time_ms, 1572971634907LL);  /* 2019-11-05T16:33:54.907Z */
    ingest_adapt_out_free(&o);
    free(body);
    /* Postmark's own examples carry offsets: 13:28:10.27-04:00 is 17:28:10.27Z */
    char *raw = afx_load("postmark_bounce_hard.json");
    char *off = afx_set(raw, "", "BouncedAt", "2014-08-01T13:28:10.2735393-04:00", 0);
    ck_assert_int_eq(parse(off, &o, err), MP_OK);
    ck_assert_int_eq(o.ev[0].time_ms, 1406914090273LL);
    ingest_adapt_out_free(&o);
    free(off);
    free(raw);
    /* an open's id is its message, recipient and time: a second open counts */
    body = afx_load("postmark_open.json");
    ck_assert_int_eq(parse(body, &o, err), MP_OK);
    ck_assert_str_eq(o.ev[0].id, "Open:883953f4-6105-42a2-a16a-77a8eac79483:john@gmail.example:"
                                 "2019-11-05T16:33:54.9070259Z");
    ingest_adapt_out_free(&o);
    free(body);
}
END_TEST

START_TEST(taken_not_counted)
{
    struct ingest_adapt_out o = {0};
    char err[256], *raw = afx_load("postmark_bounce_hard.json");
    static const char *const types[] = {"AutoResponder", "AddressChange", "Unknown",
                                        "ManuallyDeactivated"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        char *body = afx_set(raw, "", "Type", types[i], 0);
        ck_assert_int_eq(parse(body, &o, err), MP_OK);
        ck_assert_uint_eq(o.n, 0);
        free(body);
    }
    free(raw);
    /* Transient and SpamNotification count as soft bounce and complaint */
    raw = afx_load("postmark_bounce_soft.json");
    char *body = afx_set(raw, "", "Type", "Transient", 0);
    ck_assert_int_eq(parse(body, &o, err), MP_OK);
    ck_assert_int_eq(o.ev[0].type, ENG_BOUNCE_SOFT);
    free(body);
    body = afx_set(raw, "", "Type", "SpamNotification", 0);
    ck_assert_int_eq(parse(body, &o, err), MP_OK);
    ck_assert_int_eq(o.ev[o.n - 1].type, ENG_COMPLAINT);
    free(body);
    free(raw);
    ingest_adapt_out_free(&o);
    /* a suppression for a hard bounce came as its Bounce: not counted again */
    raw = afx_load("postmark_subscription_change.json");
    body = afx_set(raw, "", "SuppressionReason", "HardBounce", 0);
    ck_assert_int_eq(parse(body, &o, err), MP_OK);
    ck_assert_uint_eq(o.n, 0);
    free(body);
    free(raw);
    ingest_adapt_out_free(&o);
}
END_TEST

START_TEST(refusals)
{
    static const struct {
        const char *fixture, *key, *val, *why;
    } cases[] = {
        {"postmark_delivery.json", "RecordType", "Inbound", "RecordType: expected"},
        {"postmark_delivery.json", "DeliveredAt", "yesterday", "DeliveredAt: expected an RFC"},
        {"postmark_delivery.json", "DeliveredAt", "2019-11-05T16:33:54", "DeliveredAt"},
        {"postmark_delivery.json", "DeliveredAt", "2019-11-05T16:33:54+2:00", "DeliveredAt"},
        {"postmark_delivery.json", "Recipient", "john", "Recipient: not a recipient"},
        {"postmark_bounce_hard.json", "From", "news", "From: not a mail address"},
        {"postmark_click.json", "MessageID", "", "MessageID"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ingest_adapt_out o = {0};
        char err[256] = "", *raw = afx_load(cases[i].fixture);
        char *body = afx_set(raw, "", cases[i].key, cases[i].val, 0);
        ck_assert_int_eq(parse(body, &o, err), MP_ERR_INVAL);
        ck_assert_msg(strstr(err, cases[i].why) != NULL, "err \"%s\" lacks \"%s\"", err,
                      cases[i].why);
        ck_assert_uint_eq(o.n, 0);
        ingest_adapt_out_free(&o);
        free(body);
        free(raw);
    }
    /* a tenant outside the allowed list, and none at all */
    struct ingest_adapt_out o = {0};
    char err[256], *raw = afx_load("postmark_delivery.json");
    char *body = afx_set(raw, "Metadata", "tenant", "gamma", 0);
    ck_assert_int_eq(parse(body, &o, err), MP_ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(err, "Metadata.tenant: tenant \"gamma\""));
    free(body);
    ck_assert_int_eq(parse("[]", &o, err), MP_ERR_INVAL);
    free(raw);
    ingest_adapt_out_free(&o);
}
END_TEST

CHECK_SUITE("ingest_adapt_postmark", 30, NULL, NULL, maps_each_record, taken_not_counted, refusals)
