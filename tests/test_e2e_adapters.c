/* test_e2e_adapters.c — Check suite "e2e_adapters": the ESP webhook
 * adapters (cmd/daemon/mp_adapters.h) end to end, on the real daemon.
 *
 * One daemon with three adapters (json, mailgun, postmark), each for a
 * tenant of its own, and a real receiver (tests/http_receiver.h). Cases:
 *   json_crosses_bounce_rate
 *       one POST of 100 sent + 10 bounce_hard Event objects crosses the
 *       default bounce_rate (critical 4%, min_volume 100): the receiver gets
 *       a firing bounce_rate alert for acme-json; the same body posted again
 *       counts 0 (duplicates 110), and again after a restart (the dedup set
 *       is kept in data_dir); a wrong Bearer token is 401 and counted;
 *       a body with one bad event among good ones is 400 and records none.
 *   mailgun_crosses_bounce_rate
 *       100 `accepted` + 10 `failed` (permanent) webhooks, each signed as
 *       Mailgun signs (HMAC-SHA256 of timestamp + token), reach acme-mg's
 *       bounce_rate alert; one `delivered` replayed with a fresh signature is
 *       counted once, and so is the same request again; its signature on
 *       another event (a token replay) and a wrong key are 401, counted in
 *       mailpulse_adapter_bad_signature_total.
 *   postmark_crosses_bounce_rate
 *       100 sent over ZeroMQ (Postmark has no "sent" record) and 10 Bounce
 *       records (HardBounce, tenant from Metadata) reach acme-pm's
 *       bounce_rate alert; a Delivery posted twice counts once; wrong basic
 *       auth is 401; a Metadata tenant outside `tenants` is 400.
 * Fixtures: tests/fixtures/adapters/, their times and ids rewritten to now.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "adapt_fixture.h"
#include "check_main.h"
#include "e2e_adapt.h"
#include "e2e_suite.h"

#define ALERT_MS 8000
#define MG_KEY "key-e2e-mailgun"
#define PM_AUTH "pm-user:pm-pass"
#define JS_TOKEN "json-e2e-token"

EW_FIXTURE("e2ead")

/* The daemon with the three adapters and receiver k as the default route. */
static void start(size_t k)
{
    const struct e2e_receiver_conf rec[] = {{"hook", W.raw_url[k], W.raw_secret[k]}};
    ew_write_config(&W, (struct e2e_daemon_conf){.receivers = rec, .nreceivers = 1,
                                                 .default_route = "hook"});
    FILE *f = fopen(W.cfg, "a");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "adapters:\n"
               "  - name: acme-json\n    type: json\n    path: /hooks/acme-json\n"
               "    tenant: acme-json\n    signing_key: \"" JS_TOKEN "\"\n"
               "  - name: acme-mailgun\n    type: mailgun\n    path: /hooks/acme-mailgun\n"
               "    tenant: acme-mg\n    signing_key: \"" MG_KEY "\"\n"
               "  - name: acme-postmark\n    type: postmark\n    path: /hooks/acme-postmark\n"
               "    tenant_field: tenant\n    tenants: [acme-pm]\n"
               "    mailbox_field: mailbox\n    signing_key: \"" PM_AUTH "\"\n");
    fclose(f);
    ew_spawn_daemon(&W);
}

/* POSTs body to path with the given Authorization (NULL: none); the status,
 * and the answer's body into out (may be NULL). */
static long post(const char *path, const char *auth, const char *body, char *out, size_t outn)
{
    char hdr[256];
    const char *hdrs[] = {hdr, NULL};
    snprintf(hdr, sizeof(hdr), "Authorization: %s", auth ? auth : "");
    return ead_post(&W, path, auth ? hdrs : NULL, body, out, outn);
}

static void post_ok(const char *path, const char *auth, const char *body, const char *want)
{
    char hdr[256];
    const char *hdrs[] = {hdr, NULL};
    snprintf(hdr, sizeof(hdr), "Authorization: %s", auth ? auth : "");
    ead_post_ok(&W, path, auth ? hdrs : NULL, body, want);
}

/* Waits for a firing bounce_rate alert of `tenant` at receiver k. */
static void wait_alert(size_t k, const char *tenant)
{
    ead_wait_alert(&W, k, tenant, "bounce_rate", ALERT_MS);
}

/* mailpulse_adapter_<what>_total of one adapter must be `want`. */
static void expect(const char *adapter, const char *what, uint64_t want)
{
    ead_expect(&W, adapter, what, want);
}

/* One json Event object. */
static void json_event(json_t *arr, const char *type, long long t, int i)
{
    char id[32];
    snprintf(id, sizeof(id), "e-%d", i);
    json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:I, s:s}", "mailbox",
                                         "news@acme-json.example", "recipientDomain",
                                         "yahoo.example", "type", type, "timeMs",
                                         (json_int_t)t, "eventId", id));
}

START_TEST(json_crosses_bounce_rate)
{
    size_t k = ew_raw(&W, "js", "secret-js", 200);
    start(k);
    long long now = mp_now_ms();
    json_t *arr = json_array();
    for (int i = 0; i < 110; i++)
        json_event(arr, i < 100 ? "EVENT_TYPE_SENT" : "EVENT_TYPE_BOUNCE_HARD", now, i);
    char *body = json_dumps(arr, JSON_COMPACT);
    post_ok("/hooks/acme-json", "Bearer " JS_TOKEN, body, "\"accepted\":110");
    wait_alert(k, "acme-json");
    /* the service retries the same body: nothing counted twice */
    post_ok("/hooks/acme-json", "Bearer " JS_TOKEN, body, "\"accepted\":0,\"duplicates\":110");
    expect("acme-json", "events_accepted", 110);
    /* and after a restart: the dedup set is in data_dir */
    ew_stop_ok(&W, &W.daemon);
    ew_spawn_daemon(&W);
    post_ok("/hooks/acme-json", "Bearer " JS_TOKEN, body, "\"accepted\":0,\"duplicates\":110");
    EW_MUST(&W, post("/hooks/acme-json", "Bearer wrong", body, NULL, 0) == 401, "bad token");
    EW_MUST(&W, post("/hooks/acme-json", NULL, body, NULL, 0) == 401, "no token");
    expect("acme-json", "bad_signature", 2);
    free(body);
    /* one bad event among new good ones: 400, and none of them recorded */
    json_t *mixed = json_array();
    json_event(mixed, "EVENT_TYPE_SENT", now, 500);
    json_event(mixed, "EVENT_TYPE_SENT", now - 90LL * 24 * 3600 * 1000, 501); /* too old */
    body = json_dumps(mixed, JSON_COMPACT);
    char ans[1024];
    long st = post("/hooks/acme-json", "Bearer " JS_TOKEN, body, ans, sizeof(ans));
    EW_MUST(&W, st == 400 && strstr(ans, "events[1]: time_too_old"), "mixed: %ld %s", st, ans);
    post_ok("/hooks/acme-json", "Bearer " JS_TOKEN, "[]", "\"accepted\":0");
    expect("acme-json", "events_accepted", 0); /* counted since the restart */
    EW_MUST(&W, post("/hooks/unknown", NULL, "[]", NULL, 0) == 404, "unknown path");
    free(body);
    json_decref(arr);
    json_decref(mixed);
    W.passed = 1;
}
END_TEST

/* A Mailgun body from `fixture`: event, id, timestamp now, signed. */
static char *mailgun_body(const char *raw, const char *event, const char *id, const char *token,
                          const char *key)
{
    char *a = afx_set(raw, "event-data", "event", event, 0);
    char *b = afx_set(a, "event-data", "id", id, 0);
    char *c = afx_set(b, "event-data", "timestamp", NULL, (long long)(mp_now_ms() / 1000));
    char *d = afx_mailgun_sign(c, key, mp_now_ms() / 1000, token);
    free(a);
    free(b);
    free(c);
    return d;
}

START_TEST(mailgun_crosses_bounce_rate)
{
    size_t k = ew_raw(&W, "mg", "secret-mg", 200);
    start(k);
    char *ok = afx_load("mailgun_delivered.json"), *fail = afx_load("mailgun_failed_permanent.json");
    char id[64], tok[64];
    for (int i = 0; i < 110; i++) {
        snprintf(id, sizeof(id), "mg-%d", i);
        snprintf(tok, sizeof(tok), "tok-%d", i);
        char *body = mailgun_body(i < 100 ? ok : fail, i < 100 ? "accepted" : "failed", id, tok,
                                  MG_KEY);
        post_ok("/hooks/acme-mailgun", NULL, body, "\"accepted\":1");
        free(body);
    }
    wait_alert(k, "acme-mg");
    /* a delivered event sent again under a fresh signature: counted once */
    char *d1 = mailgun_body(ok, "delivered", "mg-dlv", "tok-d1", MG_KEY);
    char *d2 = mailgun_body(ok, "delivered", "mg-dlv", "tok-d2", MG_KEY);
    post_ok("/hooks/acme-mailgun", NULL, d1, "\"accepted\":1");
    post_ok("/hooks/acme-mailgun", NULL, d2, "\"accepted\":0,\"duplicates\":1");
    /* the same request again (a retry after a lost 200) is a duplicate; its
     * signature on another event is a forgery; a wrong key is refused */
    post_ok("/hooks/acme-mailgun", NULL, d2, "\"accepted\":0,\"duplicates\":1");
    char *forged = afx_set(d2, "event-data", "id", "mg-forged", 0);
    EW_MUST(&W, post("/hooks/acme-mailgun", NULL, forged, NULL, 0) == 401, "token replay");
    free(forged);
    char *bad = mailgun_body(ok, "delivered", "mg-bad", "tok-bad", "not-the-key");
    EW_MUST(&W, post("/hooks/acme-mailgun", NULL, bad, NULL, 0) == 401, "wrong key");
    expect("acme-mailgun", "bad_signature", 2);
    expect("acme-mailgun", "events_accepted", 111);
    expect("acme-mailgun", "events_duplicate", 2);
    free(d1);
    free(d2);
    free(bad);
    free(ok);
    free(fail);
    W.passed = 1;
}
END_TEST

/* A Postmark record from raw with its time field now and its id. */
static char *postmark_body(const char *raw, const char *tfield, const char *idkey, long long id,
                           const char *sid)
{
    char when[40];
    time_t t = (time_t)(mp_now_ms() / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    char *a = afx_set(raw, "", tfield, when, 0);
    char *b = afx_set(a, "", idkey, sid, id);
    free(a);
    return b;
}

START_TEST(postmark_crosses_bounce_rate)
{
    size_t k = ew_raw(&W, "pm", "secret-pm", 200);
    start(k);
    /* "user:pass" base64: cG0tdXNlcjpwbS1wYXNz is pm-user:pm-pass */
    const char *auth = "Basic cG0tdXNlcjpwbS1wYXNz";
    ew_send(&W, "acme-pm", "news@acme.example", "yahoo.example", 1 /* sent */, 100,
            mp_now_ms());
    ew_wait_metric(&W, "mailpulse_events_accepted_total", 100, 10000);
    char *raw = afx_load("postmark_bounce_hard.json");
    char *bounce = afx_set(raw, "Metadata", "tenant", "acme-pm", 0);
    for (int i = 0; i < 10; i++) {
        char *body = postmark_body(bounce, "BouncedAt", "ID", 1000 + i, NULL);
        post_ok("/hooks/acme-postmark", auth, body, "\"accepted\":1");
        free(body);
    }
    wait_alert(k, "acme-pm");
    char *draw = afx_load("postmark_delivery.json");
    char *dlv0 = afx_set(draw, "Metadata", "tenant", "acme-pm", 0);
    char *dlv = postmark_body(dlv0, "DeliveredAt", "MessageID", 0, "m-1");
    post_ok("/hooks/acme-postmark", auth, dlv, "\"accepted\":1");
    post_ok("/hooks/acme-postmark", auth, dlv, "\"accepted\":0,\"duplicates\":1");
    EW_MUST(&W, post("/hooks/acme-postmark", "Basic cG0tdXNlcjp3cm9uZw==", dlv, NULL, 0) == 401,
            "wrong password");
    EW_MUST(&W, post("/hooks/acme-postmark", NULL, dlv, NULL, 0) == 401, "no auth");
    char *other = afx_set(dlv, "Metadata", "tenant", "acme-json", 0);
    char ans[1024];
    long st = post("/hooks/acme-postmark", auth, other, ans, sizeof(ans));
    EW_MUST(&W, st == 400 && strstr(ans, "Metadata.tenant"), "other tenant: %ld %s", st, ans);
    expect("acme-postmark", "bad_signature", 2);
    expect("acme-postmark", "events_accepted", 11);
    expect("acme-postmark", "events_duplicate", 1);
    char *owned[] = {raw, bounce, draw, dlv0, dlv, other};
    for (size_t i = 0; i < MP_ARRAY_LEN(owned); i++)
        free(owned[i]);
    W.passed = 1;
}
END_TEST

EW_SUITE("e2e_adapters", 60, setup, teardown, {json_crosses_bounce_rate, 0},
         {mailgun_crosses_bounce_rate, 0}, {postmark_crosses_bounce_rate, 0})
