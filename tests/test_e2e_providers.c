/* test_e2e_providers.c — Check suite "e2e_providers": mailbox providers and
 * the provider, mailbox_provider and campaign scopes, end to end (issue 12).
 *
 * Cases:
 *   mailbox_at_google
 *       The real daemon, the built-in rules, a config with a provider of
 *       its own (`providers: {acme-corp: [acme-mail.example]}`). One
 *       mailbox sends 1,000 mails at Google, half to gmail.com and half to
 *       googlemail.com, in campaign "spring", with 5% hard bounces, among
 *       clean traffic (its own to outlook.com, another mailbox's to both
 *       Google domains, yahoo.com and acme-mail.example). The rates: the
 *       mailbox at google 5% (critical), campaign spring 5% (critical);
 *       everything else under the 2% warning: the tenant 0.59%, the
 *       mailbox 1.67%, google 1.25%, gmail.com 1.0%, googlemail.com 1.67%.
 *       Exactly two alerts arrive, signed: bounce_rate critical with labels
 *       tenant, mailbox and provider google (no recipient_domain), routed by
 *       a `match: {provider: google}` entry to its own receiver, and
 *       bounce_rate critical with label campaign spring, to the other;
 *       nothing else within a quiet period. The stats API groups by=provider (google
 *       4,000 sent, both Google domains counted together; acme-corp from
 *       the config) and by=mailbox_provider (the mailbox and provider named).
 *   providers_refused
 *       `mailpulsed --check` refuses a malformed `providers:` section with
 *       file:line: key (the same loader refuses it at a start).
 *
 * Programs come from $MP_BIN_DIR. On failure the temp directory (config,
 * rules, daemon logs) is kept and named in the message.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "e2e_suite.h"
#include "check_main.h"

#define ALERT_MS 5000  /* crossing -> webhook, generous on a busy box */
#define QUIET_MS 1500  /* how long "nothing more arrives" is watched */
#define COUNT_MS 15000 /* events sent -> counted */

enum { T_SENT = 1, T_BOUNCE_HARD = 3 };

EW_FIXTURE("e2ep")

#define TEN "acme-prov"
#define BAD "bad@acme-prov.example"
#define OK "ok@acme-prov.example"

/* `count` events of one kind, in campaign `camp` (NULL: none), in frames of
 * up to 500; w->sent counts them. */
static void send_c(const char *mb, const char *dom, int type, size_t count, const char *camp,
                   int64_t t)
{
    static struct e2e_event ev[500];
    for (size_t done = 0; done < count;) {
        size_t k = count - done < MP_ARRAY_LEN(ev) ? count - done : MP_ARRAY_LEN(ev);
        for (size_t i = 0; i < k; i++)
            ev[i] = (struct e2e_event){TEN, mb, dom, type, t};
        uint8_t *buf = NULL;
        size_t len = 0;
        must_ok(e2e_batch_pack_campaign(ev, k, camp, "e2e-prov", &buf, &len));
        must_ok(e2e_send_frame(W.push, buf, len, NULL));
        free(buf);
        W.sent += k;
        done += k;
    }
}

/* Every alert of every 2xx body receiver k got, in one array (a new ref). */
static json_t *alerts_of(size_t k)
{
    json_t *all = json_array();
    for (size_t i = 0; i < hrx_count(W.raw[k]); i++) {
        const struct hrx_req *r = ew_req(&W, k, i);
        if (r->status >= 300)
            continue;
        json_t *body = ew_req_json(&W, r);
        json_array_extend(all, json_object_get(body, "alerts"));
        json_decref(body);
    }
    return all;
}

static const char *label(json_t *al, const char *name)
{
    return ew_jstr(json_object_get(al, "labels"), name);
}

/* The group of `by` named `name` in a stats answer, or NULL. */
static json_t *group(json_t *st, const char *by, const char *name)
{
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(st, "groups"), i, g)
    {
        if (ew_streq(ew_jstr(g, by), name))
            return g;
    }
    return NULL;
}

static json_int_t count_of(json_t *g, const char *type)
{
    return json_integer_value(json_object_get(json_object_get(g, "counts"), type));
}

static void check_stats(void)
{
    json_t *st = ew_get_json(&W, "/v1/tenants/" TEN "/stats?window=1h&by=provider", 200);
    char *d = ew_jdump(st, 1800);
    json_t *g = group(st, "provider", "google");
    must(g && count_of(g, "sent") == 4000 && count_of(g, "bounce_hard") == 50,
         "by=provider: google should hold gmail.com and googlemail.com, 4000 sent and 50 "
         "bounces: %s", d);
    g = group(st, "provider", "acme-corp");
    must(g && count_of(g, "sent") == 400, "by=provider: acme-corp (from the config): %s", d);
    must(group(st, "provider", "gmail.com") == NULL && group(st, "provider", "microsoft"),
         "by=provider: providers, not domains: %s", d);
    free(d);
    json_decref(st);
    st = ew_get_json(&W, "/v1/tenants/" TEN "/stats?window=1h&by=mailbox_provider", 200);
    d = ew_jdump(st, 1800);
    g = group(st, "mailbox_provider", BAD "/google");
    must(g && ew_streq(ew_jstr(g, "mailbox"), BAD) && ew_streq(ew_jstr(g, "provider"), "google") &&
             count_of(g, "sent") == 1000 && count_of(g, "bounce_hard") == 50,
         "by=mailbox_provider: %s", d);
    free(d);
    json_decref(st);
}

START_TEST(mailbox_at_google)
{
    size_t k = ew_raw(&W, "prov", "secret-prov", 200), kg = ew_raw(&W, "google", "secret-g", 200);
    const struct e2e_receiver_conf rec[] = {{"prov-hook", W.raw_url[k], W.raw_secret[k]},
                                            {"google-hook", W.raw_url[kg], W.raw_secret[kg]}};
    ew_write_config(&W, (struct e2e_daemon_conf){.receivers = rec, .nreceivers = 2});
    FILE *f = fopen(W.cfg, "a");
    must(f != NULL, "cannot append to %s", W.cfg);
    /* a route matcher on the provider label: Google's alerts to their own receiver */
    fputs("providers:\n  acme-corp: [acme-mail.example]\n"
          "routes:\n  default:\n    - match: {provider: google}\n      receivers: [google-hook]\n"
          "    - receivers: [prov-hook]\n",
          f);
    must(fclose(f) == 0, "cannot write %s", W.cfg);
    ew_spawn_daemon(&W);
    int64_t now = mp_now_ms();
    /* the clean volume first: every rate only rises once the bounces land */
    send_c(BAD, "gmail.com", T_SENT, 500, "spring", now);
    send_c(BAD, "googlemail.com", T_SENT, 500, "spring", now);
    send_c(BAD, "outlook.com", T_SENT, 2000, "newsletter", now);
    send_c(OK, "gmail.com", T_SENT, 2000, "newsletter", now);
    send_c(OK, "googlemail.com", T_SENT, 1000, NULL, now);
    send_c(OK, "yahoo.com", T_SENT, 2000, NULL, now);
    send_c(OK, "acme-mail.example", T_SENT, 400, NULL, now);
    ew_wait_metric(&W, "mailpulse_events_accepted_total", W.sent, COUNT_MS);
    must(hrx_count(W.raw[k]) == 0 && hrx_count(W.raw[kg]) == 0, "an alert before any bounce");
    /* the crossing, in one frame: 5% of the mailbox's Google sends */
    static struct e2e_event ev[50];
    for (size_t i = 0; i < 50; i++)
        ev[i] = (struct e2e_event){TEN, BAD, i % 2 ? "googlemail.com" : "gmail.com",
                                   T_BOUNCE_HARD, now};
    uint8_t *buf = NULL;
    size_t len = 0;
    must_ok(e2e_batch_pack_campaign(ev, 50, "spring", "e2e-prov", &buf, &len));
    must_ok(e2e_send_frame(W.push, buf, len, NULL));
    free(buf);
    W.sent += 50;
    int64_t deadline = mp_mono_ns() + ALERT_MS * 1000000LL;
    while ((hrx_count(W.raw[k]) < 1 || hrx_count(W.raw[kg]) < 1) && mp_mono_ns() < deadline)
        usleep(5000);
    usleep(QUIET_MS * 1000); /* and nothing else */
    json_t *al = alerts_of(k), *ag = alerts_of(kg);
    char *dg = ew_jdump(ag, 1500);
    must(json_array_size(ag) == 1 && ew_streq(label(json_array_get(ag, 0), "provider"), "google"),
         "google-hook (match: {provider: google}) should get exactly the Google alert: %s", dg);
    free(dg);
    json_array_extend(al, ag);
    json_decref(ag);
    char *d = ew_jdump(al, 3000);
    must(json_array_size(al) == 2,
         "expected exactly two alerts (mailbox_provider google, campaign spring), got %zu: %s",
         json_array_size(al), d);
    int mbp = 0, camp = 0;
    size_t i;
    json_t *a;
    json_array_foreach(al, i, a)
    {
        must(ew_streq(label(a, "alertname"), "bounce_rate") &&
                 ew_streq(label(a, "severity"), "critical") && ew_streq(label(a, "tenant"), TEN) &&
                 ew_streq(ew_jstr(a, "status"), "firing") && label(a, "recipient_domain") == NULL,
             "alert %zu: %s", i, d);
        const char *value = ew_jstr(json_object_get(a, "annotations"), "value");
        must(ew_streq(value, "0.05"), "alert %zu: value %s, expected 0.05: %s", i,
             value ? value : "-", d);
        if (ew_streq(label(a, "provider"), "google") && ew_streq(label(a, "mailbox"), BAD) &&
            label(a, "campaign") == NULL)
            mbp++;
        else if (ew_streq(label(a, "campaign"), "spring") && label(a, "mailbox") == NULL &&
                 label(a, "provider") == NULL)
            camp++;
    }
    must(mbp == 1 && camp == 1, "expected one mailbox_provider and one campaign alert: %s", d);
    free(d);
    json_decref(al);
    check_stats();
    ew_pass(&W);
}
END_TEST

START_TEST(providers_refused)
{
    ew_write_config(&W, (struct e2e_daemon_conf){0});
    FILE *f = fopen(W.cfg, "a");
    must(f != NULL, "cannot append to %s", W.cfg);
    fputs("providers:\n  acme-corp: [acme-mail.example, \"not a domain\"]\n", f);
    must(fclose(f) == 0, "cannot write %s", W.cfg);
    struct e2e_proc p;
    char *argv[] = {W.mailpulsed, "-c", W.cfg, "--check", NULL};
    must_ok(e2e_run(&p, "check", W.dir, argv, 30000, W.err, sizeof(W.err)));
    must(WIFEXITED(p.status) && WEXITSTATUS(p.status) != 0, "--check accepted it");
    must(e2e_file_contains(p.err_path, "providers.acme-corp: expected a recipient domain (a "
                                       "host name), got \"not a domain\""),
         "--check did not name providers.acme-corp (see %s)", p.err_path);
    W.passed = 1;
}
END_TEST

EW_SUITE("e2e_providers", 60, setup, teardown, {mailbox_at_google, 0}, {providers_refused, 0})
