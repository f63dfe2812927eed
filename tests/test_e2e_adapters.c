/* test_e2e_adapters.c — Check suite "e2e_adapters": the ESP webhook
 * adapters (cmd/daemon/mp_adapters.h) end to end, on the real daemon.
 *
 * One daemon with three adapters (json, mailgun, postmark; the ses cases
 * start their own with two ses adapters), each for a
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
 *   ses_crosses_bounce_rate
 *       50 Send records of 2 recipients and 5 Bounce (Permanent) records of 2,
 *       each in an SNS Notification signed (versions 1 and 2) with a key made
 *       at test time whose certificate is the adapter's sns_certificate,
 *       reach acme-ses's bounce_rate alert; the same MessageId again counts
 *       nothing; another key, a field changed after signing, a TopicArn not
 *       in topic_arns and a message older than the dedup window are 401.
 *   ses_subscription_confirmation
 *       a signed SubscriptionConfirmation makes the daemon GET its
 *       SubscribeURL on the loopback server sns_hosts allows (counted,
 *       logged); SubscribeURLs on other hosts (another address, a look-alike
 *       name, user info) are 400 and not fetched; an adapter without a
 *       certificate file fetches SigningCertURL only from an allowed host;
 *       served there, the certificate is fetched once (cached) and the
 *       notifications it signs are counted.
 *   reload_swaps_adapters
 *       a SIGHUP with acme-json's key changed, acme-mailgun removed and
 *       acme-j2 added applies at once (adapters_reloaded kept=2 added=1
 *       removed=1): the removed path is 404 and leaves /metrics, the old key
 *       is 401 and the new one works, acme-json's figures and dedup ids
 *       carry over (the same body is all duplicates), the new adapter
 *       counts for its tenant; a config the reload refuses keeps them all.
 * Fixtures: tests/fixtures/adapters/, their times and ids rewritten to now.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "adapt_fixture.h"
#include "adapt_fixture_sns.h"
#include "check_main.h"
#include "e2e_adapt.h"
#include "e2e_suite.h"

#define ALERT_MS 8000
#define MG_KEY "key-e2e-mailgun"
#define PM_AUTH "pm-user:pm-pass"
#define JS_TOKEN "json-e2e-token"

EW_FIXTURE("e2ead")

/* The config with receiver k as the default route and `adapters` after it. */
static void write_config(size_t k, const char *adapters)
{
    const struct e2e_receiver_conf rec[] = {{"hook", W.raw_url[k], W.raw_secret[k]}};
    ew_write_config(&W, (struct e2e_daemon_conf){.receivers = rec, .nreceivers = 1,
                                                 .default_route = "hook"});
    ew_append_config(&W, "%s", adapters);
}

/* The daemon with the three adapters and receiver k as the default route. */
static void start(size_t k)
{
    write_config(k, "adapters:\n"
               "  - name: acme-json\n    type: json\n    path: /hooks/acme-json\n"
               "    tenant: acme-json\n    signing_key: \"" JS_TOKEN "\"\n"
               "  - name: acme-mailgun\n    type: mailgun\n    path: /hooks/acme-mailgun\n"
               "    tenant: acme-mg\n    signing_key: \"" MG_KEY "\"\n"
               "  - name: acme-postmark\n    type: postmark\n    path: /hooks/acme-postmark\n"
               "    tenant_field: tenant\n    tenants: [acme-pm]\n"
               "    mailbox_field: mailbox\n    signing_key: \"" PM_AUTH "\"\n");
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

/* --- ses: SES events through SNS, signed with a test-only key ----------- */

#define SES_ARN "arn:aws:sns:us-east-1:123456789012:acme-ses-events"

/* The daemon with two ses adapters: acme-ses (the certificate from a file,
 * one topic, sns_hosts the loopback server at `port`) and ses-fetch (no
 * certificate: fetched from SigningCertURL). Alerts go to receiver k. */
static void start_ses(size_t k, unsigned port, EVP_PKEY **key)
{
    char pem[E2E_PATH_MAX + 64];
    X509 *cert;
    const struct e2e_receiver_conf rec[] = {{"hook", W.raw_url[k], W.raw_secret[k]}};
    ew_write_config(&W, (struct e2e_daemon_conf){.receivers = rec, .nreceivers = 1,
                                                 .default_route = "hook"});
    afx_sns_key(key, &cert);
    snprintf(pem, sizeof(pem), "%s/sns-test-only.pem", W.dir);
    afx_sns_pem(cert, pem);
    X509_free(cert);
    FILE *f = fopen(W.cfg, "a");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "adapters:\n"
               "  - name: acme-ses\n    type: ses\n    path: /hooks/acme-ses\n"
               "    tenant: acme-ses\n    sns_certificate: %s\n"
               "    sns_hosts: [\"127.0.0.1:%u\"]\n    topic_arns: [\"" SES_ARN "\"]\n"
               "  - name: ses-fetch\n    type: ses\n    path: /hooks/ses-fetch\n"
               "    tenant: acme-ses\n    sns_hosts: [\"127.0.0.1:%u\"]\n", pem, port, port);
    fclose(f);
    ew_spawn_daemon(&W);
}

/* An SES fixture at `ms` with MessageId id, signed (version) with key. */
static char *ses_body(const char *raw, const char *id, long long ms, EVP_PKEY *key, int version)
{
    char *a = afx_sns_now(raw, id, ms), *b = afx_sns_sign(a, key, version);
    free(a);
    return b;
}

START_TEST(ses_crosses_bounce_rate)
{
    size_t k = ew_raw(&W, "ses", "secret-ses", 200);
    EVP_PKEY *key, *other;
    X509 *ocert;
    start_ses(k, 9 /* discard: nothing is fetched here */, &key);
    afx_sns_key(&other, &ocert);
    char *send = afx_load("ses_send.json"), *bounce = afx_load("ses_bounce_permanent.json");
    char id[64];
    long long now = mp_now_ms();
    /* 50 Send records of 2 recipients, then 5 Bounce records of 2 */
    for (int i = 0; i < 55; i++) {
        snprintf(id, sizeof(id), "ses-msg-%d", i);
        char *body = ses_body(i < 50 ? send : bounce, id, now, key, 1 + i % 2);
        post_ok("/hooks/acme-ses", NULL, body, "\"accepted\":2");
        free(body);
    }
    wait_alert(k, "acme-ses");
    /* SNS delivers again (the same MessageId): counted once */
    char *again = ses_body(bounce, "ses-msg-54", now, key, 2);
    post_ok("/hooks/acme-ses", NULL, again, "\"accepted\":0,\"duplicates\":2");
    /* another key; a field changed after signing; a topic not in topic_arns;
     * a signed message older than the dedup window */
    char *forged = ses_body(bounce, "ses-forged", now, other, 2);
    char *tampered = afx_set(again, "", "MessageId", "ses-tampered", 0);
    char *t0 = afx_set(bounce, "", "TopicArn", "arn:aws:sns:us-east-1:999999999999:other", 0);
    char *topic = ses_body(t0, "ses-topic", now, key, 2);
    char *old = ses_body(bounce, "ses-old", now - 25LL * 3600 * 1000, key, 2);
    const char *bad[] = {forged, tampered, topic, old};
    for (size_t i = 0; i < MP_ARRAY_LEN(bad); i++)
        EW_MUST(&W, post("/hooks/acme-ses", NULL, bad[i], NULL, 0) == 401, "bad %zu not 401", i);
    char ans[1024];
    long st = post("/hooks/acme-ses", NULL, "{\"Type\":\"Notification\"}", ans, sizeof(ans));
    EW_MUST(&W, st == 400 && strstr(ans, "MessageId"), "malformed: %ld %s", st, ans);
    expect("acme-ses", "bad_signature", 4);
    expect("acme-ses", "malformed", 1);
    expect("acme-ses", "events_accepted", 110);
    expect("acme-ses", "events_duplicate", 2);
    char *owned[] = {send, bounce, again, forged, tampered, t0, topic, old};
    for (size_t i = 0; i < MP_ARRAY_LEN(owned); i++)
        free(owned[i]);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
    X509_free(ocert);
    W.passed = 1;
}
END_TEST

/* A SubscriptionConfirmation whose SubscribeURL is url, signed. */
static char *ses_confirmation(const char *url, EVP_PKEY *key)
{
    char *raw = afx_load("ses_subscription_confirmation.json");
    char *a = afx_set(raw, "", "SubscribeURL", url, 0), *b = afx_sns_now(a, "ses-sub-1", mp_now_ms());
    char *c = afx_sns_sign(b, key, 2);
    free(raw);
    free(a);
    free(b);
    return c;
}

START_TEST(ses_subscription_confirmation)
{
    size_t k = ew_raw(&W, "ses", "secret-ses", 200), s = ew_raw(&W, "sns", NULL, 200);
    unsigned port = hrx_port(W.raw[s]);
    EVP_PKEY *key;
    start_ses(k, port, &key);
    char url[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/confirm?Action=ConfirmSubscription&Token=t1",
             port);
    char *ok = ses_confirmation(url, key);
    post_ok("/hooks/acme-ses", NULL, ok, "\"accepted\":0");
    EW_MUST(&W, hrx_count(W.raw[s]) == 1, "SubscribeURL not fetched (%zu)", hrx_count(W.raw[s]));
    const struct hrx_req *r = hrx_get(W.raw[s], 0);
    EW_MUST(&W, strcmp(r->method, "GET") == 0 && strncmp(r->path, "/confirm", 8) == 0,
            "fetched %s %s", r->method, r->path);
    expect("acme-ses", "sns_confirmed", 1);
    ew_wait_log(&W, "sns_subscription_confirmed adapter=\"acme-ses\"", 5000);
    /* hosts sns_hosts does not name: refused, nothing fetched */
    char evil[3][256];
    snprintf(evil[0], sizeof(evil[0]), "http://127.0.0.2:%u/confirm", port);
    snprintf(evil[1], sizeof(evil[1]), "https://sns.us-east-1.amazonaws.com.evil.example/c");
    snprintf(evil[2], sizeof(evil[2]), "http://127.0.0.1:%u@evil.example/c", port);
    for (size_t i = 0; i < 3; i++) {
        char *body = ses_confirmation(evil[i], key), ans[1024];
        long st = post("/hooks/acme-ses", NULL, body, ans, sizeof(ans));
        EW_MUST(&W, st == 400 && strstr(ans, "SubscribeURL"), "%s: %ld %s", evil[i], st, ans);
        free(body);
    }
    EW_MUST(&W, hrx_count(W.raw[s]) == 1, "a disallowed SubscribeURL was fetched");
    expect("acme-ses", "sns_confirmed", 1);
    /* ses-fetch has no certificate file: SigningCertURL from a host not
     * allowed is not fetched (401); from the allowed one it is (the
     * loopback server answers no PEM: 401 too) */
    char *raw = afx_load("ses_send.json"), cert_url[128];
    snprintf(cert_url, sizeof(cert_url), "http://127.0.0.1:%u/cert.pem", port);
    char *away = afx_set(raw, "", "SigningCertURL", "https://evil.example/cert.pem", 0);
    char *near = afx_set(raw, "", "SigningCertURL", cert_url, 0);
    char *b1 = ses_body(away, "f-1", mp_now_ms(), key, 2), *b2 = ses_body(near, "f-2", mp_now_ms(), key, 2);
    EW_MUST(&W, post("/hooks/ses-fetch", NULL, b1, NULL, 0) == 401, "disallowed cert host");
    EW_MUST(&W, hrx_count(W.raw[s]) == 1, "a disallowed SigningCertURL was fetched");
    EW_MUST(&W, post("/hooks/ses-fetch", NULL, b2, NULL, 0) == 401, "not a certificate");
    EW_MUST(&W, hrx_count(W.raw[s]) == 2 && strcmp(hrx_get(W.raw[s], 1)->path, "/cert.pem") == 0,
            "the allowed SigningCertURL was not fetched");
    expect("ses-fetch", "bad_signature", 2);
    /* the allowed host serving the certificate: fetched once, cached, and
     * the notifications signed by its key are taken (no file configured) */
    char pem_path[E2E_PATH_MAX + 64], *pem = NULL, cert_url2[128];
    snprintf(pem_path, sizeof(pem_path), "%s/sns-test-only.pem", W.dir);
    EW_MUST(&W, e2e_read_file(pem_path, &pem, NULL) == MP_OK, "cannot read %s", pem_path);
    hrx_set_body(W.raw[s], pem);
    snprintf(cert_url2, sizeof(cert_url2), "http://127.0.0.1:%u/cert2.pem", port);
    char *near2 = afx_set(raw, "", "SigningCertURL", cert_url2, 0);
    for (int i = 0; i < 2; i++) {
        char fid[32];
        snprintf(fid, sizeof(fid), "f-ok-%d", i);
        char *b = ses_body(near2, fid, mp_now_ms(), key, 2);
        post_ok("/hooks/ses-fetch", NULL, b, "\"accepted\":2");
        free(b);
    }
    EW_MUST(&W, hrx_count(W.raw[s]) == 3 && strcmp(hrx_get(W.raw[s], 2)->path, "/cert2.pem") == 0,
            "the certificate was fetched %zu times, want once", hrx_count(W.raw[s]) - 2);
    expect("ses-fetch", "events_accepted", 4);
    free(near2);
    hrx_set_body(W.raw[s], NULL);
    free(pem);
    char *owned[] = {ok, raw, away, near, b1, b2};
    for (size_t i = 0; i < MP_ARRAY_LEN(owned); i++)
        free(owned[i]);
    EVP_PKEY_free(key);
    W.passed = 1;
}
END_TEST

/* json bodies of events e-<from>..e-<to-1>, all sent now. */
static char *json_sent(int from, int to)
{
    json_t *arr = json_array();
    for (int i = from; i < to; i++)
        json_event(arr, "EVENT_TYPE_SENT", mp_now_ms(), i);
    char *body = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return body;
}

START_TEST(reload_swaps_adapters)
{
    size_t k = ew_raw(&W, "rl", "secret-rl", 200);
    start(k);
    char *b3 = json_sent(0, 3), *b2 = json_sent(10, 12);
    post_ok("/hooks/acme-json", "Bearer " JS_TOKEN, b3, "\"accepted\":3");
    EW_MUST(&W, post("/hooks/acme-j2", "Bearer j2-token", b2, NULL, 0) == 404, "j2 before");
    write_config(k, "adapters:\n"
                    "  - name: acme-json\n    type: json\n    path: /hooks/acme-json\n"
                    "    tenant: acme-json\n    signing_key: \"json-key-2\"\n"
                    "  - name: acme-j2\n    type: json\n    path: /hooks/acme-j2\n"
                    "    tenant: acme-j2\n    signing_key: \"j2-token\"\n"
                    "  - name: acme-postmark\n    type: postmark\n    path: /hooks/acme-postmark\n"
                    "    tenant_field: tenant\n    tenants: [acme-pm]\n"
                    "    mailbox_field: mailbox\n    signing_key: \"" PM_AUTH "\"\n");
    EW_MUST(&W, kill(W.daemon.pid, SIGHUP) == 0, "kill SIGHUP");
    ew_wait_log(&W, "adapters_reloaded adapters=3 kept=2 added=1 removed=1", 5000);
    EW_MUST(&W, post("/hooks/acme-mailgun", NULL, "{}", NULL, 0) == 404, "removed adapter");
    EW_MUST(&W, post("/hooks/acme-json", "Bearer " JS_TOKEN, b3, NULL, 0) == 401, "old key");
    /* same name: the dedup ids and the figures carry over */
    post_ok("/hooks/acme-json", "Bearer json-key-2", b3, "\"accepted\":0,\"duplicates\":3");
    expect("acme-json", "requests", 3);
    expect("acme-json", "events_accepted", 3);
    expect("acme-json", "bad_signature", 1);
    post_ok("/hooks/acme-j2", "Bearer j2-token", b2, "\"accepted\":2");
    expect("acme-j2", "events_accepted", 2);
    json_t *st = ew_get_json(&W, "/v1/tenants/acme-j2/stats?window=1h", 200);
    json_int_t sent = json_integer_value(json_object_get(json_object_get(st, "counts"), "sent"));
    EW_MUST(&W, sent == 2, "acme-j2 sent %lld, want 2", (long long)sent);
    json_decref(st);
    char *m = ew_metrics_text(&W);
    EW_MUST(&W, m && !strstr(m, "adapter=\"acme-mailgun\"") && strstr(m, "adapter=\"acme-j2\""),
            "the removed adapter left /metrics, the new one is there");
    free(m);
    /* a config the reload refuses (two adapters on one path): all stay */
    write_config(k, "adapters:\n"
                    "  - name: x1\n    type: json\n    path: /hooks/x\n"
                    "    tenant: x\n    signing_key: \"k1\"\n"
                    "  - name: x2\n    type: json\n    path: /hooks/x\n"
                    "    tenant: x\n    signing_key: \"k2\"\n");
    EW_MUST(&W, kill(W.daemon.pid, SIGHUP) == 0, "kill SIGHUP");
    ew_wait_log(&W, "duplicate adapter path", 5000);
    free(b2);
    b2 = json_sent(20, 21);
    post_ok("/hooks/acme-j2", "Bearer j2-token", b2, "\"accepted\":1");
    EW_MUST(&W, post("/hooks/x", "Bearer k1", b2, NULL, 0) == 404, "refused file applied");
    free(b2);
    free(b3);
    ew_pass(&W);
}
END_TEST

EW_SUITE("e2e_adapters", 60, setup, teardown, {json_crosses_bounce_rate, 0},
         {mailgun_crosses_bounce_rate, 0}, {postmark_crosses_bounce_rate, 0},
         {ses_crosses_bounce_rate, 0}, {ses_subscription_confirmation, 0},
         {reload_swaps_adapters, 0})
