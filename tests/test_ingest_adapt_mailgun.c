/* test_ingest_adapt_mailgun.c — ingest/ingest_adapt_mailgun.c: Mailgun's
 * documented webhook bodies (tests/fixtures/adapters/mailgun_*.json) to
 * events, the signature (HMAC-SHA256 of timestamp + token, fresh within
 * INGEST_ADAPT_MAX_AGE_S), and the refusals. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt_fixture.h"
#include "check_main.h"
#include "eng_types.h"
#include "ingest_adapt.h"

#define KEY "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
#define TS 1764657600LL /* 2025-12-02T06:40:00Z */
#define TOKEN "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"

static const struct ingest_adapt_conf conf = {.kind = INGEST_ADAPT_MAILGUN, .tenant = "acme",
                                              .signing_key = KEY};

/* The fixture, signed at TS, parsed at now (s). */
static int parse_at(const struct ingest_adapt_conf *c, const char *fixture, const char *key,
                    long long now, struct ingest_adapt_out *o, char *err)
{
    char *raw = afx_load(fixture);
    return afx_parse_signed(c, raw, afx_mailgun_sign(raw, key, TS, TOKEN), now * 1000, o, err);
}

START_TEST(maps_each_event)
{
    static const struct {
        const char *fixture;
        int type;
        const char *mailbox, *domain, *id;
    } cases[] = {
        {"mailgun_delivered.json", ENG_DELIVERED, "news@acme.example", "gmail.example",
         "CPgfbmQMTCKtHW6uIWtuVe"},
        {"mailgun_failed_permanent.json", ENG_BOUNCE_HARD, "news@acme.example", "yahoo.example",
         "G9Bn5sl1TC6cZBqXC2YSPw"},
        {"mailgun_failed_temporary.json", ENG_DEFERRED, "news@acme.example", "yahoo.example",
         "Tq3aYIqVS0mDzqJ9rdV1kA"},
        /* no envelope: the message's From header, "Name <addr>" */
        {"mailgun_complained.json", ENG_COMPLAINT, "news@acme.example", "gmail.example",
         "ncV2XwymRUKbPek_MIM-Gw"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ingest_adapt_out o = {0};
        char err[256] = "";
        ck_assert_msg(parse_at(&conf, cases[i].fixture, KEY, TS, &o, err) == MP_OK, "%s: %s",
                      cases[i].fixture, err);
        ck_assert_uint_eq(o.n, 1);
        ck_assert_int_eq(o.ev[0].type, cases[i].type);
        ck_assert_str_eq(o.ev[0].tenant, "acme");
        ck_assert_str_eq(o.ev[0].mailbox, cases[i].mailbox);
        ck_assert_str_eq(o.ev[0].domain, cases[i].domain);
        ck_assert_str_eq(o.ev[0].id, cases[i].id);
        ck_assert_str_eq(o.token, TOKEN);
        ingest_adapt_out_free(&o);
    }
    struct ingest_adapt_out o = {0};
    char err[256];
    ck_assert_int_eq(parse_at(&conf, "mailgun_delivered.json", KEY, TS, &o, err), MP_OK);
    ck_assert_int_eq(o.ev[0].time_ms, 1521472262908LL);
    ingest_adapt_out_free(&o);
}
END_TEST

START_TEST(fields_from_user_variables)
{
    static const char *const allowed[] = {"acme"};
    struct ingest_adapt_conf c = {.kind = INGEST_ADAPT_MAILGUN, .tenant_field = "tenant",
                                  .tenants = allowed, .ntenants = 1,
                                  .mailbox_field = "mailbox", .signing_key = KEY};
    struct ingest_adapt_out o = {0};
    char err[256] = "";
    ck_assert_int_eq(parse_at(&c, "mailgun_delivered.json", KEY, TS, &o, err), MP_OK);
    ck_assert_str_eq(o.ev[0].tenant, "acme");
    ck_assert_str_eq(o.ev[0].mailbox, "promo@acme.example");
    ingest_adapt_out_free(&o);
    /* an opened event carries no sender: the configured field, or none
     * (it counts at the tenant and domain) */
    ck_assert_int_eq(parse_at(&conf, "mailgun_opened.json", KEY, TS, &o, err), MP_OK);
    ck_assert_str_eq(o.ev[0].mailbox, "");
    ingest_adapt_out_free(&o);
    struct ingest_adapt_conf m = conf;
    m.mailbox_field = "mailbox";
    ck_assert_int_eq(parse_at(&m, "mailgun_opened.json", KEY, TS, &o, err), MP_OK);
    ck_assert_int_eq(o.ev[0].type, ENG_OPEN);
    ck_assert_str_eq(o.ev[0].mailbox, "news@acme.example");
    ingest_adapt_out_free(&o);
    /* no tenant field in the body: refused, named */
    ck_assert_int_eq(parse_at(&c, "mailgun_failed_permanent.json", KEY, TS, &o, err),
                     MP_ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(err, "event-data.user-variables.tenant"));
    ingest_adapt_out_free(&o);
}
END_TEST

START_TEST(signature_refusals)
{
    struct ingest_adapt_out o = {0};
    char err[256];
    ck_assert_int_eq(parse_at(&conf, "mailgun_delivered.json", "another-key", TS, &o, err),
                     INGEST_ADAPT_ERR_SIG);
    ck_assert_uint_eq(o.n, 0);
    /* too old, too far ahead; at the edge still fresh */
    ck_assert_int_eq(parse_at(&conf, "mailgun_delivered.json", KEY, TS + 301, &o, err),
                     INGEST_ADAPT_ERR_SIG);
    ck_assert_int_eq(parse_at(&conf, "mailgun_delivered.json", KEY, TS - 301, &o, err),
                     INGEST_ADAPT_ERR_SIG);
    ck_assert_int_eq(parse_at(&conf, "mailgun_delivered.json", KEY, TS + 300, &o, err), MP_OK);
    ingest_adapt_out_free(&o);
    /* the timestamp as a JSON integer (its documented type) verifies too */
    {
        char *raw0 = afx_load("mailgun_delivered.json"), *b0 = afx_mailgun_sign(raw0, KEY, TS, TOKEN);
        char *b1 = afx_set(b0, "signature", "timestamp", NULL, TS);
        ck_assert_int_eq(ingest_adapt_parse(&conf, b1, strlen(b1), TS * 1000, &o, err, 256), MP_OK);
        ingest_adapt_out_free(&o);
        free(raw0);
        free(b0);
        free(b1);
    }
    /* the fixture as published: its signature is not ours */
    char *raw = afx_load("mailgun_delivered.json");
    ck_assert_int_eq(ingest_adapt_parse(&conf, raw, strlen(raw), TS * 1000, &o, err, 256),
                     INGEST_ADAPT_ERR_SIG);
    /* a body changed after signing is still signed (Mailgun signs only the
     * timestamp and token): the replay check on the token is the caller's */
    free(raw);
    const char *nosig = "{\"event-data\":{}}";
    ck_assert_int_eq(ingest_adapt_parse(&conf, nosig, strlen(nosig), TS * 1000, &o, err, 256),
                     INGEST_ADAPT_ERR_SIG);
    struct ingest_adapt_conf nokey = conf;
    nokey.signing_key = NULL;
    ck_assert_int_eq(parse_at(&nokey, "mailgun_delivered.json", KEY, TS, &o, err),
                     INGEST_ADAPT_ERR_SIG);
}
END_TEST

START_TEST(body_refusals)
{
    struct ingest_adapt_out o = {0};
    char err[256] = "", *raw = afx_load("mailgun_delivered.json");
    static const struct afx_member_case cases[] = {
        {"event", "stored", "event-data.event: \"stored\""},
        {"event", "failed", "without severity"},
        {"recipient", "nobody", "event-data.recipient"},
        {"id", "", "event-data.id"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *mod = afx_set(raw, "event-data", cases[i].key, cases[i].val, 0);
        char *body = afx_mailgun_sign(mod, KEY, TS, TOKEN);
        ck_assert_int_eq(ingest_adapt_parse(&conf, body, strlen(body), TS * 1000, &o, err, 256),
                         MP_ERR_INVAL);
        ck_assert_msg(strstr(err, cases[i].why) != NULL, "err \"%s\" lacks \"%s\"", err,
                      cases[i].why);
        ck_assert_uint_eq(o.n, 0);
        free(mod);
        free(body);
    }
    char *mod = afx_set(raw, "event-data", "timestamp", NULL, 12);
    char *body = afx_mailgun_sign(mod, KEY, TS, TOKEN);
    ck_assert_int_eq(ingest_adapt_parse(&conf, body, strlen(body), TS * 1000, &o, err, 256),
                     MP_ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(err, "event-data.timestamp"));
    free(mod);
    free(body);
    free(raw);
    ingest_adapt_out_free(&o);
}
END_TEST

CHECK_SUITE("ingest_adapt_mailgun", 30, NULL, NULL, maps_each_event, fields_from_user_variables,
            signature_refusals, body_refusals)
