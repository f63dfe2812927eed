/* test_e2e_groups.c — end to end: whole-group notifications and route
 * matchers, as a receiver built for Alertmanager sees them.
 *
 * A real mailpulsed (from $MP_BIN_DIR) with a rules file of one bounce
 * rule on the mailbox scope, fed through its ZeroMQ PULL socket, notifying
 * in-process HTTP receivers (tests/http_receiver.h) on free loopback ports;
 * every request's signature is checked (tests/e2e_world.h). Every wait polls
 * with a timeout.
 *
 * Cases
 *   whole_group_carried
 *       A second mailbox's alert firing in the tenant's group carries the
 *       first one too (same fingerprint, still firing); one of the two
 *       resolving sends both, status still "firing", the resolved one
 *       marked so; the last resolving is "resolved" with only itself.
 *       groupKey {}:{tenant="..."}, externalURL from alerting.external_url,
 *       and each alert's generatorURL under it, naming its tenant.
 *   truncation_and_severity_route
 *       alerting.max_alerts: 2 — the third warning of a group sends two
 *       alerts and truncatedAlerts 1. Routes in the list form: critical to
 *       the pager (first match wins), the rest to another receiver: a
 *       critical alert reaches the pager alone, under its entry's groupKey,
 *       and the other receiver hears nothing of it.
 *   group_to_pagerduty_and_slack
 *       The same group through the other receiver types, with
 *       alerting.external_url: a second mailbox firing sends Slack one
 *       message carrying both ("[FIRING:2] ...", a line per alert, the title
 *       linking to externalURL), but PagerDuty only the new alert's trigger:
 *       PagerDuty keys incidents per alert, and the unchanged one's incident
 *       stands (no second trigger for it); its events carry client_url.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "alert_testkit.h"
#include "check_main.h"
#include "e2e_suite.h"

#define ALERT_MS 5000 /* crossing -> webhook, generous on a busy box */
#define QUIET_MS 1500 /* how long "nothing more arrives" is watched */
#define COUNT_MS 15000

enum { T_SENT = 1, T_BOUNCE_HARD = 3 };

#define GMAIL "gmail.com"
#define EXT_URL "http://mailpulse.test:7480"

#define jdump(j) ew_jdump((j), 1800)

EW_FIXTURE("e2eg")

/* Mailbox scope only, so each mailbox is one alert: warning 2%, critical 10%. */
#define RULES                                                                                    \
    "rules:\n"                                                                                   \
    "  - name: bounce_rate\n"                                                                    \
    "    kind: ratio\n"                                                                          \
    "    numerator: [bounce_hard]\n"                                                             \
    "    denominator: [sent]\n"                                                                  \
    "    scopes: [mailbox]\n"                                                                    \
    "    window: 1h\n"                                                                           \
    "    min_volume: 100\n"                                                                      \
    "    warning: 2%\n"                                                                          \
    "    critical: 10%\n"

/* Starts the daemon on `c` with the rules above and `extra` (top-level
 * YAML: alerting, routes) appended to the config the harness wrote. */
static void start_with(struct e2e_daemon_conf c, const char *extra)
{
    char *text = NULL;
    must_ok(e2e_write_file(W.rules, RULES, W.err, sizeof(W.err)));
    c.rules = W.rules;
    ew_write_config(&W, c);
    must(e2e_read_file(W.cfg, &text, NULL) == MP_OK, "cannot read %s", W.cfg);
    size_t n = strlen(text) + strlen(extra) + 1;
    char *all = malloc(n);
    must(all != NULL, "out of memory");
    snprintf(all, n, "%s%s", text, extra);
    must_ok(e2e_write_file(W.cfg, all, W.err, sizeof(W.err)));
    free(all);
    free(text);
    ew_spawn_daemon(&W);
}

/* Request i (2xx ones, in order) of receiver k, once it has arrived. */
static json_t *wait_body(size_t k, size_t i, const char *what)
{
    int64_t deadline = mp_mono_ns() + (int64_t)ALERT_MS * 1000000;
    while (ew_ok_count(&W, k) <= i && mp_mono_ns() < deadline)
        usleep(5000);
    must(ew_ok_count(&W, k) > i, "%s: receiver %zu got %zu requests within %d ms, want %zu", what, k,
         ew_ok_count(&W, k), ALERT_MS, i + 1);
    for (size_t x = 0, seen = 0; x < hrx_count(W.raw[k]); x++) {
        const struct hrx_req *r = ew_req(&W, k, x);
        if (r->status >= 300)
            continue;
        if (seen++ == i)
            return ew_req_json(&W, r);
    }
    must(0, "%s: request %zu vanished", what, i);
    return NULL;
}

/* "<status>:<mailbox>:<severity>" of each alert, joined by ' '. */
static void summary(json_t *body, char *out, size_t n)
{
    static const char *const labels[] = {"mailbox", "severity", NULL};
    atk_alerts_summary(body, labels, out, n);
}

static void expect_body(json_t *body, const char *status, const char *alerts, const char *what)
{
    char got[1024];
    char *d = jdump(body);
    summary(body, got, sizeof(got));
    must(ew_streq(ew_jstr(body, "status"), status), "%s: status %s, want %s: %s", what,
         ew_jstr(body, "status"), status, d);
    must(strcmp(got, alerts) == 0, "%s: alerts \"%s\", want \"%s\": %s", what, got, alerts, d);
    free(d);
}

static void send_rate(const char *tenant, const char *mailbox, size_t sent, size_t bounces)
{
    ew_send(&W, tenant, mailbox, GMAIL, T_SENT, sent, mp_now_ms());
    ew_wait_metric(&W, "mailpulse_events_accepted_total", W.sent, COUNT_MS);
    if (bounces)
        ew_send(&W, tenant, mailbox, GMAIL, T_BOUNCE_HARD, bounces, mp_now_ms());
}

static void expect_quiet(size_t k, size_t n, const char *what)
{
    usleep(QUIET_MS * 1000);
    must(ew_ok_count(&W, k) == n, "%s: receiver %zu got %zu requests, want %zu", what, k, ew_ok_count(&W, k),
         n);
}

#define WG "acme-wg"
#define WG_A "a@acme-wg.example"
#define WG_B "b@acme-wg.example"

START_TEST(whole_group_carried)
{
    size_t k = ew_raw(&W, "wg", "secret-wg", 200);
    const struct e2e_receiver_conf rec[] = {{"wg-hook", W.raw_url[k], W.raw_secret[k]}};
    start_with((struct e2e_daemon_conf){.receivers = rec, .nreceivers = 1,
                                        .default_route = "wg-hook"},
               "alerting:\n  group_interval: 200ms\n  group_by: [tenant]\n"
               "  external_url: " EXT_URL "\n");
    send_rate(WG, WG_A, 1000, 30); /* a: 3%, warning */
    json_t *b0 = wait_body(k, 0, "a fires");
    expect_body(b0, "firing", "firing:" WG_A ":warning", "a fires");
    must(ew_streq(ew_jstr(b0, "groupKey"), "{}:{tenant=\"" WG "\"}"), "groupKey %s",
         ew_jstr(b0, "groupKey"));
    must(ew_streq(ew_jstr(b0, "externalURL"), EXT_URL), "externalURL %s",
         ew_jstr(b0, "externalURL"));
    json_t *a0 = json_array_get(json_object_get(b0, "alerts"), 0);
    char want[256];
    snprintf(want, sizeof(want), EXT_URL "/v1/alerts?tenant=" WG "#%s",
             ew_jstr(a0, "fingerprint"));
    must(ew_streq(ew_jstr(a0, "generatorURL"), want), "generatorURL %s, want %s",
         ew_jstr(a0, "generatorURL"), want);

    send_rate(WG, WG_B, 1000, 30); /* b: 3% too: the second notification carries a */
    json_t *b1 = wait_body(k, 1, "b fires");
    expect_body(b1, "firing", "firing:" WG_A ":warning firing:" WG_B ":warning", "b fires");
    json_t *a1 = json_array_get(json_object_get(b1, "alerts"), 0);
    must(ew_streq(ew_jstr(a1, "fingerprint"), ew_jstr(a0, "fingerprint")) &&
             ew_streq(ew_jstr(a1, "startsAt"), ew_jstr(a0, "startsAt")),
         "a is not the same alert in the second notification");

    send_rate(WG, WG_B, 2000, 0); /* b: 30/3000 = 1%: resolves, a still fires */
    json_t *b2 = wait_body(k, 2, "b resolves");
    expect_body(b2, "firing", "firing:" WG_A ":warning resolved:" WG_B ":warning", "b resolves");

    send_rate(WG, WG_A, 2000, 0); /* a resolves: the group's last */
    json_t *b3 = wait_body(k, 3, "a resolves");
    expect_body(b3, "resolved", "resolved:" WG_A ":warning", "a resolves");
    expect_quiet(k, 4, "after the group resolved");
    json_decref(b0);
    json_decref(b1);
    json_decref(b2);
    json_decref(b3);
    ew_pass(&W);
}
END_TEST

#define TR "acme-tr"

START_TEST(truncation_and_severity_route)
{
    size_t kp = ew_raw(&W, "pager", "secret-p", 200), kr = ew_raw(&W, "rest", "secret-r", 200);
    const struct e2e_receiver_conf rec[] = {{"pager", W.raw_url[kp], W.raw_secret[kp]},
                                            {"rest", W.raw_url[kr], W.raw_secret[kr]}};
    start_with((struct e2e_daemon_conf){.receivers = rec, .nreceivers = 2},
               "alerting:\n  group_interval: 200ms\n  max_alerts: 2\n"
               "routes:\n  default:\n"
               "    - match: {severity: critical}\n      receivers: [pager]\n"
               "    - receivers: [rest]\n");
    static const char *const mb[] = {"m1@acme-tr.example", "m2@acme-tr.example",
                                     "m3@acme-tr.example", "m4@acme-tr.example"};
    for (size_t i = 0; i < 3; i++) { /* three warnings, one after the other */
        send_rate(TR, mb[i], 1000, 30);
        json_t *b = wait_body(kr, i, "a warning");
        size_t n = json_array_size(json_object_get(b, "alerts"));
        json_int_t trunc = json_integer_value(json_object_get(b, "truncatedAlerts"));
        char *d = jdump(b);
        must(n == (i < 2 ? i + 1 : 2) && trunc == (i < 2 ? 0 : 1),
             "warning %zu: %zu alerts, truncatedAlerts %lld: %s", i, n, (long long)trunc, d);
        must(ew_streq(ew_jstr(b, "status"), "firing") &&
                 ew_streq(ew_jstr(b, "groupKey"), "{}:{tenant=\"" TR "\"}"),
             "warning %zu: %s", i, d);
        free(d);
        json_decref(b);
    }
    send_rate(TR, mb[3], 1000, 200); /* m4: 20%, critical: the pager's */
    json_t *p = wait_body(kp, 0, "the critical alert");
    char want[128];
    snprintf(want, sizeof(want), "firing:%s:critical", mb[3]);
    expect_body(p, "firing", want, "the pager");
    must(ew_streq(ew_jstr(p, "groupKey"), "{}/{severity=\"critical\"}:{tenant=\"" TR "\"}"),
         "pager groupKey %s", ew_jstr(p, "groupKey"));
    must(ew_streq(ew_jstr(p, "receiver"), "pager"), "receiver %s", ew_jstr(p, "receiver"));
    expect_quiet(kr, 3, "the rest receiver after the critical alert");
    must(ew_ok_count(&W, kp) == 1, "the pager got %zu requests, want 1", ew_ok_count(&W, kp));
    json_decref(p);
    ew_pass(&W);
}
END_TEST

#define PG "acme-pg"
#define PG_A "a@acme-pg.example"
#define PG_B "b@acme-pg.example"

START_TEST(group_to_pagerduty_and_slack)
{
    size_t kp = ew_raw(&W, "pd", "s-pd", 202), ks = ew_raw(&W, "chat", "s-chat", 200);
    char extra[2048];
    snprintf(extra, sizeof(extra),
             "alerting:\n  group_interval: 200ms\n  external_url: " EXT_URL "\n"
             "receivers:\n"
             "  - name: pd\n    type: pagerduty\n    routing_key: R0UTINGKEY0123456789\n"
             "    url: \"%s\"\n    secret: s-pd\n"
             "  - name: chat\n    type: slack\n    url: \"%s\"\n    secret: s-chat\n"
             "routes:\n  default: [pd, chat]\n",
             W.raw_url[kp], W.raw_url[ks]);
    start_with((struct e2e_daemon_conf){0}, extra);
    send_rate(PG, PG_A, 1000, 30); /* a: 3%, warning */
    json_t *p0 = wait_body(kp, 0, "a's trigger"), *s0 = wait_body(ks, 0, "a's slack message");
    char *d = jdump(p0);
    must(ew_streq(ew_jstr(p0, "event_action"), "trigger") &&
             ew_streq(ew_jstr(p0, "client_url"), EXT_URL),
         "a's trigger: %s", d);
    free(d);
    send_rate(PG, PG_B, 1000, 30); /* b: 3% too */
    json_t *p1 = wait_body(kp, 1, "b's trigger"), *s1 = wait_body(ks, 1, "b's slack message");
    d = jdump(p1);
    must(ew_streq(ew_jstr(p1, "event_action"), "trigger") &&
             !ew_streq(ew_jstr(p1, "dedup_key"), ew_jstr(p0, "dedup_key")),
         "b's trigger is another incident than a's: %s", d);
    must(strstr(ew_jstr(json_object_get(p1, "payload"), "summary"), PG_B) != NULL,
         "the second trigger is b's: %s", d);
    free(d);
    json_t *at = json_array_get(json_object_get(s1, "attachments"), 0);
    d = jdump(s1);
    must(ew_streq(ew_jstr(at, "title"), "[FIRING:2] " PG " bounce_rate warning") &&
             ew_streq(ew_jstr(at, "title_link"), EXT_URL),
         "slack title and link: %s", d);
    must(ew_jstr(at, "text") && strstr(ew_jstr(at, "text"), PG_A) &&
             strstr(ew_jstr(at, "text"), PG_B),
         "slack carries both alerts: %s", d);
    free(d);
    expect_quiet(kp, 2, "pagerduty: a's incident is not triggered again");
    json_decref(p0);
    json_decref(s0);
    json_decref(p1);
    json_decref(s1);
    ew_pass(&W);
}
END_TEST

EW_SUITE("e2e_groups", 45, setup, teardown, {whole_group_carried, 0},
         {truncation_and_severity_route, 0}, {group_to_pagerduty_and_slack, 0})
