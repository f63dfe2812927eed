/* test_e2e_receivers.c — Check suite "e2e_receivers": the PagerDuty and
 * Slack receivers, end to end, against the real daemon and in-process HTTP
 * receivers (tests/http_receiver) standing in for PagerDuty and Slack.
 *
 * pagerduty_and_slack: one tenant's mailbox crosses the bounce warning
 * (25 of 1000, 2.50%): three alerts (tenant, mailbox, recipient domain).
 * PagerDuty answers 429 at first: the events are retried from the outbox
 * and, once it answers 202, delivered in order (the first refused is the
 * first delivered). It gets one trigger per alert, with the routing key, three distinct
 * dedup_keys (the fingerprints the webhook would carry), severity warning
 * and the figures; Slack gets one message with the receiver's channel,
 * username and icon, an amber attachment titled
 * "[FIRING:3] acme-pd bounce_rate warning" and one line per alert. Diluted
 * to 25 of 1500 (1.67%) the three resolve: PagerDuty gets three resolves
 * with the same dedup_keys, Slack a green "[RESOLVED]" message. The Slack
 * bodies are printed (stderr) as they went out: the README shows them.
 * Both receivers sign like the webhook (X-Mailpulse-Signature, checked).
 *
 * email_delivered: an email receiver (tls: none, two recipients) against a
 * real SMTP server, tests/smtp_sink.py (Debian's python3-aiosmtpd) on a
 * free loopback port. The crossing above delivers one message with both
 * recipients in the envelope; its headers (From, To, Subject = the Slack
 * title, Date, Message-ID, MIME-Version, multipart/alternative) and both
 * parts are checked, and no line is over 78 characters. The message is
 * printed (stderr) as delivered: the README shows it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "check_main.h"
#include "e2e_suite.h"

#define ALERT_MS 5000   /* crossing -> request, generous on a busy box */
#define RESOLVE_MS 15000 /* dilution -> resolve (keep_firing_for may hold it) */
#define COUNT_MS 15000
#define T_SENT 1
#define T_BOUNCE_HARD 3
#define PD_TENANT "acme-pd"
#define PD_MB "news@acme-pd.example"
#define GMAIL "gmail.com"

#define jstr ew_jstr
#define streq ew_streq

EW_FIXTURE("e2er")

static void w_wait_accepted(void)
{
    ew_wait_metric(&W, "mailpulse_events_accepted_total", W.sent, COUNT_MS);
}

/* Bodies receiver k answered with 2xx, in arrival order. */
/* The config as the harness writes it, plus our receivers and route. */
static void write_config(const char *pd_url, const char *slack_url)
{
    const struct e2e_alerting_conf al = {.retry_initial = "50ms", .retry_max = "200ms"};
    /* the default rules; the resolve comes as soon as under the line (not
     * after the default keep_firing_for of 10m) */
    ew_rules_example3(&W, "overrides:\n  - tenant: " PD_TENANT "\n    rule: bounce_rate\n"
                         "    keep_firing_for: 0s\n");
    ew_write_config(&W, (struct e2e_daemon_conf){.alerting = &al, .rules = W.rules});
    ew_append_config(&W,
            "receivers:\n"
            "  - name: pd\n"
            "    type: pagerduty\n"
            "    routing_key: R0UTINGKEY0123456789\n"
            "    url: \"%s\"\n"
            "    secret: s-pd\n"
            "  - name: chat\n"
            "    type: slack\n"
            "    url: \"%s\"\n"
            "    channel: \"#deliverability\"\n"
            "    username: mailpulse\n"
            "    icon_emoji: \":email:\"\n"
            "    secret: s-chat\n"
            "routes:\n"
            "  default: [pd, chat]\n",
            pd_url, slack_url);
}

/* The PagerDuty events in bodies[from..from+3): all `action`, the routing
 * key, and their dedup_keys (sorted into dk) distinct. */
static void check_pd(json_t *bodies, size_t from, const char *action, char dk[3][17])
{
    for (size_t i = 0; i < 3; i++) {
        json_t *ev = json_array_get(bodies, from + i);
        char *d = ew_jdump(ev, 1500);
        json_t *p = json_object_get(ev, "payload");
        must(streq(jstr(ev, "event_action"), action), "event %zu is not a %s: %s", from + i,
             action, d);
        must(streq(jstr(ev, "routing_key"), "R0UTINGKEY0123456789"), "routing key: %s", d);
        must(jstr(ev, "dedup_key") && strlen(jstr(ev, "dedup_key")) == 16, "dedup_key: %s", d);
        must(streq(jstr(p, "severity"), "warning"), "severity: %s", d);
        must(jstr(p, "summary") && strstr(jstr(p, "summary"), "bounce_rate") &&
                 strstr(jstr(p, "summary"), PD_TENANT),
             "summary: %s", d);
        json_t *cd = json_object_get(p, "custom_details");
        must(json_integer_value(json_object_get(cd, "numerator")) == 25, "numerator: %s", d);
        snprintf(dk[i], 17, "%s", jstr(ev, "dedup_key"));
        for (size_t j = 0; j < i; j++)
            must(strcmp(dk[i], dk[j]) != 0, "two events of one notification share dedup_key %s",
                 dk[i]);
        free(d);
    }
    qsort(dk, 3, 17, (int (*)(const void *, const void *))strcmp);
}

static json_t *slack_att(json_t *msg)
{
    return json_array_get(json_object_get(msg, "attachments"), 0);
}

START_TEST(pagerduty_and_slack)
{
    /* PagerDuty starts out answering 429 (its rate limit): the events wait in
     * the outbox and go, in order, once it takes them. */
    size_t kp = ew_raw(&W, "pd", "s-pd", 429), ks = ew_raw(&W, "chat", "s-chat", 200);
    write_config(W.raw_url[kp], W.raw_url[ks]);
    ew_spawn_daemon(&W);
    ew_send(&W, PD_TENANT, PD_MB, GMAIL, T_SENT, 1000, mp_now_ms());
    w_wait_accepted();
    ew_send(&W, PD_TENANT, PD_MB, GMAIL, T_BOUNCE_HARD, 25, mp_now_ms()); /* 2.50% */
    int64_t until = mp_mono_ns() + (int64_t)ALERT_MS * 1000000;
    while (hrx_count(W.raw[kp]) < 3 && mp_mono_ns() < until)
        usleep(5000);
    must(hrx_count(W.raw[kp]) >= 3, "PagerDuty saw %zu attempts while answering 429",
         hrx_count(W.raw[kp]));
    hrx_set_status(W.raw[kp], 202);

    ew_wait_ok(&W, kp, 3, ALERT_MS, "pagerduty triggers");
    ew_wait_ok(&W, ks, 1, ALERT_MS, "slack firing");
    json_t *pd = ew_ok_bodies(&W, kp), *sl = ew_ok_bodies(&W, ks);
    char trig[3][17], res[3][17];
    check_pd(pd, 0, "trigger", trig);
    /* the first refused event is the first delivered: order kept per receiver */
    json_t *first = ew_req_json(&W, ew_req(&W, kp, 0));
    must(streq(jstr(first, "dedup_key"), jstr(json_array_get(pd, 0), "dedup_key")),
         "the retried event was overtaken");
    json_decref(first);
    json_t *m = json_array_get(sl, 0), *at = slack_att(m);
    char *d = ew_jdump(m, 2000);
    fprintf(stderr, "slack firing body: %s\n", d);
    must(streq(jstr(m, "channel"), "#deliverability") && streq(jstr(m, "username"), "mailpulse") &&
             streq(jstr(m, "icon_emoji"), ":email:"),
         "slack receiver options: %s", d);
    must(streq(jstr(at, "color"), "#f2a900"), "warning is amber: %s", d);
    must(streq(jstr(at, "title"), "[FIRING:3] " PD_TENANT " bounce_rate warning"), "title: %s", d);
    const char *text = jstr(at, "text");
    must(text && strstr(text, "*2.50%* (warning at 2.00%) · 25 of 1000 sent over 1h") &&
             strstr(text, "mailbox " PD_MB) && strstr(text, "recipient domain " GMAIL),
         "lines: %s", d);
    free(d);
    json_decref(pd);
    json_decref(sl);

    w_wait_accepted();
    ew_send(&W, PD_TENANT, PD_MB, GMAIL, T_SENT, 500, mp_now_ms()); /* 25 of 1500: 1.67% */
    ew_wait_ok(&W, kp, 6, RESOLVE_MS, "pagerduty resolves");
    ew_wait_ok(&W, ks, 2, RESOLVE_MS, "slack resolved");
    pd = ew_ok_bodies(&W, kp);
    sl = ew_ok_bodies(&W, ks);
    must(json_array_size(pd) == 6, "expected 3 triggers and 3 resolves, got %zu",
         json_array_size(pd));
    check_pd(pd, 3, "resolve", res);
    must(memcmp(trig, res, sizeof(trig)) == 0, "resolves name other incidents than the triggers");
    m = json_array_get(sl, 1);
    at = slack_att(m);
    d = ew_jdump(m, 2000);
    fprintf(stderr, "slack resolved body: %s\n", d);
    must(streq(jstr(at, "color"), "#2eb67d"), "resolved is green: %s", d);
    must(streq(jstr(at, "title"), "[RESOLVED] " PD_TENANT " bounce_rate warning"), "title: %s", d);
    must(jstr(at, "text") && strstr(jstr(at, "text"), "now *1.67%*"), "resolved lines: %s", d);
    free(d);
    json_decref(pd);
    json_decref(sl);
    ew_pass(&W);
}
END_TEST

/* Polls for dir/<name> up to timeout_ms; its text (free it) or NULL. */
static char *wait_file(const char *dir, const char *name, int timeout_ms)
{
    char path[E2E_PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int64_t deadline = mp_mono_ns() + (int64_t)timeout_ms * 1000000;
    char *text = NULL;
    while (e2e_read_file(path, &text, NULL) != MP_OK && mp_mono_ns() < deadline)
        usleep(10000);
    return text;
}

START_TEST(email_delivered)
{
    uint16_t port = ew_port(&W);
    char ports[8], mdir[E2E_PATH_MAX + 16], url[64];
    snprintf(ports, sizeof(ports), "%u", port);
    snprintf(mdir, sizeof(mdir), "%s/mail", W.dir);
    must(mkdir(mdir, 0700) == 0, "mkdir %s", mdir);
    struct e2e_proc smtp = {0};
    char *argv[] = {"/usr/bin/python3", "tests/smtp_sink.py", ports, mdir, NULL};
    EW_MUST_OK(&W, e2e_spawn(&smtp, "smtp_sink", W.dir, argv, W.err, sizeof(W.err)));
    int64_t deadline = mp_mono_ns() + 10000 * 1000000LL;
    while (e2e_tcp_probe(port) != MP_OK && e2e_proc_running(&smtp) && mp_mono_ns() < deadline)
        usleep(20000);
    char tail[600];
    e2e_file_tail(smtp.err_path, tail, sizeof(tail));
    must(e2e_tcp_probe(port) == MP_OK, "the SMTP server did not start: %s", tail);

    snprintf(url, sizeof(url), "smtp://127.0.0.1:%u", port);
    ew_rules_example3(&W, ""); /* three alerts: see ew_rules_example3 */
    ew_write_config(&W, (struct e2e_daemon_conf){.rules = W.rules});
    ew_append_config(&W,
            "receivers:\n"
            "  - name: mail\n"
            "    type: email\n"
            "    url: \"%s\"\n"
            "    from: \"mailpulse <mailpulse@example.test>\"\n"
            "    to: [oncall@example.test, deliverability@example.test]\n"
            "    tls: none\n"
            "routes:\n"
            "  default: [mail]\n",
            url);
    ew_spawn_daemon(&W);
    ew_send(&W, PD_TENANT, PD_MB, GMAIL, T_SENT, 1000, mp_now_ms());
    w_wait_accepted();
    ew_send(&W, PD_TENANT, PD_MB, GMAIL, T_BOUNCE_HARD, 25, mp_now_ms()); /* 2.50% */

    char *env = wait_file(mdir, "1.env", ALERT_MS);
    char *msg = wait_file(mdir, "1.eml", ALERT_MS);
    must(env && msg, "no message delivered within %d ms", ALERT_MS);
    fprintf(stderr, "email as delivered:\n%s\n", msg);
    must(strstr(env, "MAIL FROM mailpulse@example.test\n") &&
             strstr(env, "RCPT TO oncall@example.test\n") &&
             strstr(env, "RCPT TO deliverability@example.test\n"),
         "envelope: %s", env);
    const char *want[] = {
        "From: mailpulse <mailpulse@example.test>\r\n",
        "To: oncall@example.test, deliverability@example.test\r\n",
        "Subject: [FIRING:3] " PD_TENANT " bounce_rate warning\r\n",
        "MIME-Version: 1.0\r\n",
        "Content-Type: multipart/alternative; boundary=",
        "Content-Type: text/plain; charset=utf-8\r\n",
        "Content-Type: text/html; charset=utf-8\r\n",
        "WARNING bounce_rate, mailbox " PD_MB "\r\n",
        "\r\n  value 2.50% (warning at 2.00%)\r\n",
        "\r\n  25 of 1000 sent over 1h\r\n",
        "<h3>[FIRING:3] " PD_TENANT " bounce_rate warning</h3>",
    };
    for (size_t i = 0; i < MP_ARRAY_LEN(want); i++)
        must(strstr(msg, want[i]) != NULL, "no \"%s\" in the message:\n%.3000s", want[i], msg);
    must(strstr(msg, "\r\nDate: ") && strstr(msg, " +0000\r\n"), "no Date: %.2000s", msg);
    must(strstr(msg, "\r\nMessage-ID: <") && strstr(msg, "@mailpulse>\r\n"),
         "no Message-ID: %.2000s", msg);
    for (const char *l = msg; *l;) {
        const char *e = strstr(l, "\r\n");
        size_t len = e ? (size_t)(e - l) : strlen(l);
        must(len <= 78, "a line of %zu characters: %.*s", len, (int)len, l);
        l += len + (e ? 2 : 0);
    }
    free(env);
    free(msg);
    ew_stop_ok(&W, &W.daemon);
    must(e2e_proc_signal_wait(&smtp, SIGTERM, EW_STOP_MS) == MP_OK, "smtp_sink did not stop");
    W.passed = 1;
}
END_TEST

EW_SUITE("e2e_receivers", 60, setup, teardown, {pagerduty_and_slack, 0}, {email_delivered, 0})
