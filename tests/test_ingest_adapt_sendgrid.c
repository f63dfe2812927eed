/* test_ingest_adapt_sendgrid.c — ingest/ingest_adapt_sendgrid.c: SendGrid's
 * documented Event Webhook bodies (tests/fixtures/adapters/sendgrid_*.json)
 * to events, what is taken but not counted, the refusals, the
 * verification key's checks and the Signed Event Webhook's signature (an EC
 * key made here, the fixtures signed with it by adapt_fixture.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt_fixture.h"
#include "check_main.h"
#include "eng_types.h"
#include "ingest_adapt.h"

#include <openssl/x509.h>

#define TS 1764657600LL /* 2025-12-02T06:40:00Z, the fixtures' time */

static const char *const allowed[] = {"acme", "beta"};
static const struct ingest_adapt_conf fields = {.kind = INGEST_ADAPT_SENDGRID,
                                                .tenant_field = "tenant", .tenants = allowed,
                                                .ntenants = 2, .mailbox_field = "mailbox"};
static const struct ingest_adapt_conf fixed = {.kind = INGEST_ADAPT_SENDGRID, .tenant = "acme"};

static int parse(const struct ingest_adapt_conf *c, const char *body, struct ingest_adapt_out *o,
                 char *err)
{
    return ingest_adapt_parse(c, body, strlen(body), TS * 1000, o, err, 256);
}

#define must_reject(c, body, why) afx_must_reject((c), (body), TS * 1000, (why))

START_TEST(maps_each_event)
{
    static const struct {
        int type;
        const char *domain, *id;
        long long t;
    } want[] = {
        {ENG_SENT, "gmail.example", "rbtnWrG1DVDGGGFHFyun0A==", TS},
        {ENG_DEFERRED, "gmail.example", "t7LEShmowp86DTdUW8M-GQ==", TS + 1},
        {ENG_DELIVERED, "gmail.example", "rWVYmVk90MjZJ9iohOBa3w==", TS + 2},
        {ENG_BOUNCE_HARD, "yahoo.example", "6g4ZI7SA-xmRDv57GoPIPw==", TS + 3},
        {ENG_BLOCKED, "outlook.example", "6g4ZI7SA-xmRDv57GoPIPx==", TS + 4},
        /* dropped (TS + 5): taken, not counted */
        {ENG_OPEN, "gmail.example", "FOTFFO0ecsBE-zxFXfs6WA==", TS + 6},
        {ENG_CLICK, "gmail.example", "kCAi1KttyQdEKHhdC-nuEA==", TS + 7},
        {ENG_COMPLAINT, "gmail.example", "37nvH5QBz858KGVYCM4uOA==", TS + 8},
        {ENG_UNSUBSCRIBE, "gmail.example", "zz_BjPgU_5pS-J8vlfB1sg==", TS + 9},
        {ENG_UNSUBSCRIBE, "gmail.example", "ahSCB7xYcXFb-hEaawsPRw==", TS + 10},
        /* group_resubscribe (TS + 11): taken, not counted */
    };
    struct ingest_adapt_out o = {0};
    char err[256] = "", *body = afx_load("sendgrid_events.json");
    ck_assert_msg(parse(&fields, body, &o, err) == MP_OK, "%s", err);
    ck_assert_uint_eq(o.n, MP_ARRAY_LEN(want));
    for (size_t i = 0; i < o.n; i++) {
        ck_assert_int_eq(o.ev[i].type, want[i].type);
        ck_assert_str_eq(o.ev[i].domain, want[i].domain);
        ck_assert_str_eq(o.ev[i].id, want[i].id);
        ck_assert_int_eq(o.ev[i].time_ms, want[i].t * 1000);
        ck_assert_str_eq(o.ev[i].tenant, "acme");                   /* the custom arg */
        ck_assert_str_eq(o.ev[i].mailbox, "news@acme.example");     /* the custom arg */
    }
    ck_assert_str_eq(o.token, ""); /* no token: the signature covers the body */
    ingest_adapt_out_free(&o);
    free(body);
}
END_TEST

/* SendGrid sends no sender: without mailbox_field (or with the custom arg
 * absent) the event has no mailbox and still counts at its other scopes. */
START_TEST(no_mailbox)
{
    struct ingest_adapt_out o = {0};
    char err[256] = "", *body = afx_load("sendgrid_delivered.json");
    ck_assert_msg(parse(&fixed, body, &o, err) == MP_OK, "%s", err);
    ck_assert_uint_eq(o.n, 1);
    ck_assert_str_eq(o.ev[0].mailbox, "");
    ck_assert_str_eq(o.ev[0].tenant, "acme");
    ck_assert_str_eq(o.ev[0].domain, "gmail.example");
    ck_assert_int_eq(o.ev[0].type, ENG_DELIVERED);
    ingest_adapt_out_free(&o);
    struct ingest_adapt_conf c = fixed;
    c.mailbox_field = "mailbox";
    ck_assert_int_eq(parse(&c, body, &o, err), MP_OK);
    ck_assert_str_eq(o.ev[0].mailbox, "");
    ingest_adapt_out_free(&o);
    free(body);
}
END_TEST

START_TEST(body_refusals)
{
    const char *ok = "\"email\":\"a@gmail.example\",\"timestamp\":1764657600,"
                     "\"sg_event_id\":\"e1\"";
    static const struct afx_refusal shapes[] = {
        {"{", "not JSON"},
        {"{\"event\":\"delivered\"}", "expected a JSON array"},
        {"[1]", "events[0]: expected an event object"}};
    afx_must_reject_all(&fixed, TS * 1000, shapes, sizeof(shapes) / sizeof(shapes[0]));
    char body[512];
    snprintf(body, sizeof(body), "[{%s,\"event\":\"delivered\"},{%s,\"event\":\"stored\"}]", ok,
             ok);
    must_reject(&fixed, body, "events[1].event: \"stored\""); /* the first is not kept */
    snprintf(body, sizeof(body), "[{%s,\"event\":\"bounce\",\"type\":\"soft\"}]", ok);
    must_reject(&fixed, body, "with that type");
    must_reject(&fixed, "[{\"email\":\"a@gmail.example\",\"timestamp\":1764657600,"
                        "\"event\":\"delivered\"}]", "events[0].sg_event_id");
    must_reject(&fixed, "[{\"email\":\"nobody\",\"timestamp\":1764657600,\"sg_event_id\":\"e\","
                        "\"event\":\"delivered\"}]", "events[0].email");
    must_reject(&fixed, "[{\"email\":\"a@gmail.example\",\"timestamp\":\"soon\","
                        "\"sg_event_id\":\"e\",\"event\":\"delivered\"}]", "events[0].timestamp");
    snprintf(body, sizeof(body), "[{%s,\"event\":\"open\",\"tenant\":\"gamma\"}]", ok);
    must_reject(&fields, body, "tenant \"gamma\" is not one this endpoint takes");
    snprintf(body, sizeof(body), "[{%s,\"event\":\"open\",\"tenant\":\"acme\",\"mailbox\":\"x\"}]",
             ok);
    must_reject(&fields, body, "events[0].mailbox: not a mail address");
    snprintf(body, sizeof(body), "[{%s,\"event\":\"open\",\"event\":\"click\"}]", ok);
    must_reject(&fixed, body, "not JSON");
    /* an empty array is a body with nothing to count */
    struct ingest_adapt_out o = {0};
    char err[256];
    ck_assert_int_eq(parse(&fixed, "[]", &o, err), MP_OK);
    ck_assert_uint_eq(o.n, 0);
    ingest_adapt_out_free(&o);
}
END_TEST

START_TEST(key_checks)
{
    char pub[256], err[256] = "", pem[512];
    EVP_PKEY *k = afx_sendgrid_key(pub, sizeof(pub));
    struct ingest_adapt_key *key = NULL;
    ck_assert_int_eq(ingest_adapt_key_load(pub, &key, err, sizeof(err)), MP_OK);
    ingest_adapt_key_free(key);
    ck_assert_int_eq(ingest_adapt_key_load(pub, NULL, err, sizeof(err)), MP_OK);
    /* PEM armour, as some copy it, reads the same */
    snprintf(pem, sizeof(pem), "-----BEGIN PUBLIC KEY-----\n%.64s\n%s\n-----END PUBLIC KEY-----\n",
             pub, strlen(pub) > 64 ? pub + 64 : "");
    ck_assert_int_eq(ingest_adapt_key_load(pem, NULL, err, sizeof(err)), MP_OK);
    const char *bad[] = {"", "not base64!", "c2VjcmV0", "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"};
    for (size_t i = 0; i < MP_ARRAY_LEN(bad); i++) {
        err[0] = '\0';
        ck_assert_int_eq(ingest_adapt_key_load(bad[i], NULL, err, sizeof(err)), MP_ERR_INVAL);
        ck_assert_msg(strstr(err, "verification key") != NULL, "%s", err);
    }
    /* a valid key of the wrong kind: an RSA one, a P-384 one */
    EVP_PKEY *other[2] = {EVP_RSA_gen(1024), EVP_EC_gen("P-384")};
    for (int i = 0; i < 2; i++) {
        unsigned char *der = NULL;
        int n = i2d_PUBKEY(other[i], &der);
        char b64[1024];
        EVP_EncodeBlock((unsigned char *)b64, der, n);
        OPENSSL_free(der);
        ck_assert_int_eq(ingest_adapt_key_load(b64, NULL, err, sizeof(err)), MP_ERR_INVAL);
        ck_assert_msg(strstr(err, "expected an ECDSA P-256 public key") != NULL, "%s", err);
        EVP_PKEY_free(other[i]);
    }
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(signature)
{
    char pub[256], pub2[256], err[256], ts[24];
    EVP_PKEY *k = afx_sendgrid_key(pub, sizeof(pub)), *k2 = afx_sendgrid_key(pub2, sizeof(pub2));
    struct ingest_adapt_key *key;
    ck_assert_int_eq(ingest_adapt_key_load(pub, &key, err, sizeof(err)), MP_OK);
    char *body = afx_load("sendgrid_events.json");
    size_t len = strlen(body);
    snprintf(ts, sizeof(ts), "%lld", TS);
    char *sig = afx_sendgrid_sign(k, ts, body, len), *sig2 = afx_sendgrid_sign(k2, ts, body, len);
    int64_t now = TS * 1000;
    ck_assert_int_eq(ingest_adapt_sendgrid_ok(key, ts, sig, body, len, now), 1);
    /* the edges of the age: 300 s either way fresh, 301 not */
    ck_assert_int_eq(ingest_adapt_sendgrid_ok(key, ts, sig, body, len, now + 300000), 1);
    ck_assert_int_eq(ingest_adapt_sendgrid_ok(key, ts, sig, body, len, now - 300000), 1);
    ck_assert_int_eq(ingest_adapt_sendgrid_ok(key, ts, sig, body, len, now + 301000), 0);
    ck_assert_int_eq(ingest_adapt_sendgrid_ok(key, ts, sig, body, len, now - 301000), 0);
    /* another key's signature; a body changed by one byte; another time */
    ck_assert_int_eq(ingest_adapt_sendgrid_ok(key, ts, sig2, body, len, now), 0);
    body[10] ^= 1;
    ck_assert_int_eq(ingest_adapt_sendgrid_ok(key, ts, sig, body, len, now), 0);
    body[10] ^= 1;
    ck_assert_int_eq(ingest_adapt_sendgrid_ok(key, ts, sig, body, len - 1, now), 0);
    ck_assert_int_eq(ingest_adapt_sendgrid_ok(key, "1764657601", sig, body, len, now), 0);
    /* missing or malformed headers */
    ck_assert_int_eq(ingest_adapt_sendgrid_ok(key, NULL, sig, body, len, now), 0);
    ck_assert_int_eq(ingest_adapt_sendgrid_ok(key, ts, NULL, body, len, now), 0);
    ck_assert_int_eq(ingest_adapt_sendgrid_ok(key, "", sig, body, len, now), 0);
    ck_assert_int_eq(ingest_adapt_sendgrid_ok(key, "17646576OO", sig, body, len, now), 0);
    ck_assert_int_eq(ingest_adapt_sendgrid_ok(key, ts, "", body, len, now), 0);
    ck_assert_int_eq(ingest_adapt_sendgrid_ok(key, ts, "!!!!", body, len, now), 0);
    ck_assert_int_eq(ingest_adapt_sendgrid_ok(key, ts, "AAAA", body, len, now), 0);
    ck_assert_int_eq(ingest_adapt_sendgrid_ok(NULL, ts, sig, body, len, now), 0);
    free(sig);
    free(sig2);
    free(body);
    ingest_adapt_key_free(key);
    EVP_PKEY_free(k);
    EVP_PKEY_free(k2);
}
END_TEST

CHECK_SUITE("ingest_adapt_sendgrid", 30, NULL, NULL, maps_each_event, no_mailbox, body_refusals,
            key_checks, signature)
