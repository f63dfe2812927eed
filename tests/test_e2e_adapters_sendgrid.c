/* test_e2e_adapters_sendgrid.c — Check suite "e2e_adapters_sendgrid": the
 * SendGrid Event Webhook adapter (type sendgrid) and events without a
 * mailbox, end to end on the real daemon.
 *
 * One daemon with a P-256 key made by the test (its public key is the
 * adapters' signing_key, as the console's verification key is), three
 * adapters and a real receiver (tests/http_receiver.h). Cases:
 *   sendgrid_crosses_bounce_rate
 *       one body signed as the Signed Event Webhook signs (ECDSA over
 *       timestamp + body) with 100 processed + 10 bounce events of tenant
 *       acme-sg (a custom arg) and 5 delivered of beta-sg crosses the
 *       default bounce_rate: the receiver gets acme-sg's firing alert. The
 *       same body signed again, and the same request again, count 0
 *       (duplicates by sg_event_id); a batch over 64 KiB is taken whole;
 *       another key's signature, no signature
 *       and a stale timestamp are 401, counted; a body with one unknown
 *       event, one with a too-old event among good ones, and one not JSON
 *       are 400, counted, and record nothing.
 *   no_mailbox_counts_at_tenant_and_domain
 *       SendGrid events without a mailbox custom arg, and Postmark Delivery
 *       records (which carry no From) without mailbox_field, count at the
 *       tenant, the recipient domain and the provider; stats by mailbox and
 *       by mailbox_provider have no group, and the tenant's scrape has no
 *       mailbox label.
 * Fixtures: tests/fixtures/adapters/, their times and ids rewritten to now.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "adapt_fixture.h"
#include "check_main.h"
#include "e2e_adapt.h"
#include "e2e_suite.h"

#define ALERT_MS 8000
#define PM_AUTH "Basic cG0tdXNlcjpwbS1wYXNz" /* pm-user:pm-pass */

EW_FIXTURE("e2esg")

static EVP_PKEY *KEY; /* the "SendGrid" side's private key */

/* The daemon with the adapters and receiver k as the default route. */
static void start(size_t k)
{
    char pub[256];
    KEY = afx_sendgrid_key(pub, sizeof(pub));
    const struct e2e_receiver_conf rec[] = {{"hook", W.raw_url[k], W.raw_secret[k]}};
    ew_write_config(&W, (struct e2e_daemon_conf){.receivers = rec, .nreceivers = 1,
                                                 .default_route = "hook"});
    ew_append_config(&W, "adapters:\n"
                         "  - name: sg\n    type: sendgrid\n    path: /hooks/sg\n"
                         "    tenant_field: tenant\n    tenants: [acme-sg, beta-sg]\n"
                         "    mailbox_field: mailbox\n    signing_key: \"%s\"\n"
                         "  - name: sg-nomb\n    type: sendgrid\n    path: /hooks/sg-nomb\n"
                         "    tenant: nomb-sg\n    signing_key: \"%s\"\n"
                         "  - name: pm-nomb\n    type: postmark\n    path: /hooks/pm-nomb\n"
                         "    tenant: nomb-pm\n    signing_key: \"pm-user:pm-pass\"\n",
                     pub, pub);
    ew_spawn_daemon(&W);
}

static void stop_key(void)
{
    EVP_PKEY_free(KEY);
    KEY = NULL;
}

/* POSTs body signed at ts (Unix s) with key k (NULL: no signature headers). */
static long sg_post(const char *path, EVP_PKEY *k, long long ts, const char *body, char *out,
                    size_t outn)
{
    char tsb[24], h1[256], h2[64];
    snprintf(tsb, sizeof(tsb), "%lld", ts);
    char *sig = k ? afx_sendgrid_sign(k, tsb, body, strlen(body)) : NULL;
    snprintf(h1, sizeof(h1), "X-Twilio-Email-Event-Webhook-Signature: %s", sig ? sig : "");
    snprintf(h2, sizeof(h2), "X-Twilio-Email-Event-Webhook-Timestamp: %s", tsb);
    const char *hdrs[] = {h1, h2, NULL};
    long st = ead_post(&W, path, k ? hdrs : NULL, body, out, outn);
    free(sig);
    return st;
}

static void sg_ok(const char *path, const char *body, const char *want)
{
    char ans[1024];
    long st = sg_post(path, KEY, mp_now_ms() / 1000, body, ans, sizeof(ans));
    must(st == 200 && strstr(ans, want), "POST %s: %ld %s (wanted 200 %s)", path, st, ans, want);
}

/* One SendGrid event of `event` at t (Unix s); tenant/mailbox custom args
 * when not NULL. */
static void sg_event(json_t *arr, const char *event, long long t, const char *id,
                     const char *rcpt, const char *tenant, const char *mailbox)
{
    json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s}", "email", rcpt, "timestamp", (json_int_t)t,
                          "event", event, "sg_event_id", id, "sg_message_id", "m.filter0001.0");
    if (strcmp(event, "bounce") == 0)
        json_object_set_new(o, "type", json_string("bounce"));
    if (tenant)
        json_object_set_new(o, "tenant", json_string(tenant));
    if (mailbox)
        json_object_set_new(o, "mailbox", json_string(mailbox));
    json_array_append_new(arr, o);
}

static char *dump(json_t *arr)
{
    char *s = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    must(s != NULL, "json_dumps");
    return s;
}

/* 400 with `why` in the answer. */
static void sg_refused(const char *body, const char *why)
{
    char ans[1024];
    long st = sg_post("/hooks/sg", KEY, mp_now_ms() / 1000, body, ans, sizeof(ans));
    must(st == 400 && strstr(ans, why), "wanted 400 %s: %ld %s", why, st, ans);
}

START_TEST(sendgrid_crosses_bounce_rate)
{
    size_t k = ew_raw(&W, "sg", "secret-sg", 200);
    start(k);
    long long now = mp_now_ms() / 1000;
    char id[32];
    json_t *arr = json_array();
    for (int i = 0; i < 115; i++) {
        snprintf(id, sizeof(id), "sg-%d", i);
        sg_event(arr, i < 100 ? "processed" : i < 110 ? "bounce" : "delivered", now, id,
                 "u@yahoo.example", i < 110 ? "acme-sg" : "beta-sg", "news@acme-sg.example");
    }
    char *body = dump(arr);
    sg_ok("/hooks/sg", body, "\"accepted\":115");
    ead_wait_alert(&W, k, "acme-sg", "bounce_rate", ALERT_MS);
    /* SendGrid retries: signed anew, or the same request again */
    sg_ok("/hooks/sg", body, "\"accepted\":0,\"duplicates\":115");
    sg_ok("/hooks/sg", body, "\"accepted\":0,\"duplicates\":115");
    ead_expect(&W, "sg", "events_accepted", 115);
    ead_expect(&W, "sg", "events_duplicate", 230);
    /* the signature: another key's, none, a stale one (6 minutes old) */
    char pub2[256];
    EVP_PKEY *other = afx_sendgrid_key(pub2, sizeof(pub2));
    must(sg_post("/hooks/sg", other, now, body, NULL, 0) == 401, "other key");
    must(sg_post("/hooks/sg", NULL, now, body, NULL, 0) == 401, "no signature");
    must(sg_post("/hooks/sg", KEY, mp_now_ms() / 1000 - 360, body, NULL, 0) == 401, "stale");
    ead_expect(&W, "sg", "bad_signature", 3);
    EVP_PKEY_free(other);
    free(body);
    /* a batch over 64 KiB (SendGrid posts up to 768 KB): taken whole */
    arr = json_array();
    for (int i = 0; i < 700; i++) {
        snprintf(id, sizeof(id), "sg-big-%d", i);
        sg_event(arr, "delivered", now, id, "u@gmail.example", "beta-sg", "news@beta.example");
    }
    body = dump(arr);
    must(strlen(body) > 64 * 1024, "the big body is %zu bytes", strlen(body));
    sg_ok("/hooks/sg", body, "\"accepted\":700");
    free(body);
    ead_expect(&W, "sg", "events_accepted", 815);
    /* whole body or nothing: new good events with one bad one */
    arr = json_array();
    sg_event(arr, "delivered", now, "sg-new-1", "u@yahoo.example", "acme-sg", NULL);
    sg_event(arr, "stored", now, "sg-new-2", "u@yahoo.example", "acme-sg", NULL);
    body = dump(arr);
    sg_refused(body, "events[1].event: \\\"stored\\\"");
    free(body);
    arr = json_array();
    sg_event(arr, "delivered", now, "sg-new-1", "u@yahoo.example", "acme-sg", NULL);
    sg_event(arr, "delivered", now - 90LL * 24 * 3600, "sg-new-3", "u@yahoo.example", "acme-sg",
             NULL);
    body = dump(arr);
    sg_refused(body, "events[1]: time_too_old");
    sg_refused("[{\"event\":", "not JSON");
    ead_expect(&W, "sg", "malformed", 3);
    ead_expect(&W, "sg", "events_accepted", 815);
    /* none of it was recorded: the good event is new afterwards */
    json_t *one = json_array();
    sg_event(one, "delivered", now, "sg-new-1", "u@yahoo.example", "acme-sg", NULL);
    char *b1 = dump(one);
    sg_ok("/hooks/sg", b1, "\"accepted\":1,\"duplicates\":0");
    free(b1);
    free(body);
    stop_key();
    W.passed = 1;
}
END_TEST

/* groups_total of the tenant's 24h stats by `by`. */
static long long groups(const char *tenant, const char *by)
{
    char path[160];
    snprintf(path, sizeof(path), "/v1/tenants/%s/stats?window=24h&by=%s", tenant, by);
    json_t *j = ew_get_json(&W, path, 200);
    long long n = json_integer_value(json_object_get(j, "groups_total"));
    json_decref(j);
    return n;
}

static long long count(const char *tenant, const char *type)
{
    char path[160];
    snprintf(path, sizeof(path), "/v1/tenants/%s/stats?window=24h", tenant);
    json_t *j = ew_get_json(&W, path, 200);
    long long n = json_integer_value(json_object_get(json_object_get(j, "counts"), type));
    json_decref(j);
    return n;
}

static void no_mailbox_scopes(const char *tenant)
{
    must(groups(tenant, "recipient_domain") == 1, "%s: one domain", tenant);
    must(groups(tenant, "provider") == 1, "%s: one provider", tenant);
    must(groups(tenant, "mailbox") == 0, "%s: no mailbox group", tenant);
    must(groups(tenant, "mailbox_provider") == 0, "%s: no mailbox_provider group", tenant);
    char path[128], *text = NULL;
    snprintf(path, sizeof(path), "/v1/tenants/%s/metrics", tenant);
    must(ew_get_auth(&W, path, NULL, &text) == 200, "%s scrape", tenant);
    must(strstr(text, "scope=\"recipient_domain\"") && !strstr(text, "mailbox=") &&
             !strstr(text, "scope=\"mailbox"),
         "%s scrape has a mailbox label: %.600s", tenant, text);
    free(text);
}

START_TEST(no_mailbox_counts_at_tenant_and_domain)
{
    size_t k = ew_raw(&W, "nm", "secret-nm", 200);
    start(k);
    long long now = mp_now_ms() / 1000;
    json_t *arr = json_array();
    sg_event(arr, "processed", now, "nm-1", "a@gmail.example", NULL, NULL);
    sg_event(arr, "delivered", now, "nm-2", "a@gmail.example", NULL, NULL);
    sg_event(arr, "delivered", now, "nm-3", "b@gmail.example", NULL, NULL);
    sg_event(arr, "bounce", now, "nm-4", "c@gmail.example", NULL, NULL);
    char *body = dump(arr);
    sg_ok("/hooks/sg-nomb", body, "\"accepted\":4");
    free(body);
    must(count("nomb-sg", "sent") == 1 && count("nomb-sg", "delivered") == 2 &&
             count("nomb-sg", "bounce_hard") == 1,
         "nomb-sg counts");
    no_mailbox_scopes("nomb-sg");
    /* Postmark's Delivery carries no From: it counts without a mailbox */
    char when[40], *raw = afx_load("postmark_delivery.json");
    time_t t = (time_t)now;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    char *dlv = afx_set(raw, "", "DeliveredAt", when, 0);
    const char *auth[] = {"Authorization: " PM_AUTH, NULL};
    ead_post_ok(&W, "/hooks/pm-nomb", auth, dlv, "\"accepted\":1");
    must(count("nomb-pm", "delivered") == 1, "nomb-pm delivered");
    no_mailbox_scopes("nomb-pm");
    free(raw);
    free(dlv);
    stop_key();
    W.passed = 1;
}
END_TEST

EW_SUITE("e2e_adapters_sendgrid", 60, setup, teardown, {sendgrid_crosses_bounce_rate, 0},
         {no_mailbox_counts_at_tenant_and_domain, 0})
