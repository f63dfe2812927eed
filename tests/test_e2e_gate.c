/* test_e2e_gate.c — Check suite "e2e_gate": the send gate through the real
 * daemon, over HTTP and the Postfix policy protocol (real loopback sockets;
 * the policy client here speaks the protocol as Postfix's smtpd does).
 *
 * Cases:
 *   pause_then_lift
 *       A rule gated on critical (bounce_rate at recipient_domain scope)
 *       crosses critical for acme's sends to gmail.com. GET /v1/gate then
 *       answers pause with the alert as its reason and the cool-down as
 *       retry_after_s; the policy server answers DEFER_IF_PERMIT 4.7.1 with
 *       a readable reason for mail from news@acme.example to gmail.com, and
 *       DUNNO to yahoo.com, for a sender of no tenant, and over HTTP the
 *       yahoo.com send is allowed. /v1/gate/pauses lists the pause, and
 *       /metrics counts it. Enough clean sends resolve the alert: the pause
 *       cools down (listed cooling_down with lifts_at) and lifts only at
 *       resolve + gate.cool_down (3 s here), after which both interfaces
 *       allow; the lift is counted.
 *   pause_notified
 *       With gate.notify: true the pause is its own alert for acme's
 *       receiver: gate_paused fires (labels gate_scope recipient_domain,
 *       gate_name gmail.com, gate_rule bounce_rate; the summary names both)
 *       when the pause begins and resolves when it lifts.
 *   mailbox_provider_pause
 *       The same rule at mailbox_provider scope: 30 hard bounces in 100
 *       sends from news@acme.example to gmail.com fire it critical for
 *       news@acme.example/google. /v1/gate then answers pause for that
 *       mailbox to googlemail.com (never sent to: the daemon's provider map
 *       names it Google's) and gmail.com, with the alert (scope
 *       mailbox_provider, mailbox and provider) as its reason; allow for
 *       yahoo.com, another mailbox, or no mailbox; an explicit ?provider=
 *       overrides the derived one. The policy server defers that sender's
 *       gmail.com recipient (DEFER_IF_PERMIT 4.7.1 naming the alert) and
 *       answers DUNNO to yahoo.com and to another mailbox; /v1/gate/pauses
 *       lists the pause with both mailbox and provider. A domain the config's
 *       `providers:` gives Google pauses too; after a SIGHUP whose
 *       `providers:` moves googlemail.com to "other" (and drops that
 *       domain), both are allowed and gmail.com stays paused.
 *   bad_queries
 *       /v1/gate without a tenant, with a bad mailbox or domain, or an
 *       unknown parameter: 400 naming each; /v1/gate/pauses?tenant=a%20b 400.
 *   postfix_defers_paused_mail
 *       A real Postfix from Debian (a private instance: its own config,
 *       queue and data directories in the case's temp dir, smtpd on a free
 *       loopback port, `check_policy_service inet:127.0.0.1:PORT` before
 *       permit_mynetworks) in front of the daemon: with acme -> gmail.com
 *       paused, RCPT TO:<bob@gmail.com> is answered 450 4.7.1 with the
 *       gate's reason, and a mail to bob@yahoo.com is accepted and queued
 *       (its transport discards it). Needs root (Postfix's master) and
 *       $POSTFIX or /usr/sbin/postfix (package postfix, scripts/deps.sh).
 *
 * Programs from $MP_BIN_DIR.
 */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "alert_silence.h"
#include "check_main.h"
#include "e2e_suite.h"

#define GATE_MS 10000 /* crossing -> pause, generous on a busy box */
#define COOL_S 3

enum { T_SENT = 1, T_BOUNCE_HARD = 3 };

static uint16_t policy_port;

static char pf_etc[E2E_PATH_MAX + 64]; /* a Postfix instance's config dir, "" when none */

static const char *postfix_bin(void)
{
    const char *p = getenv("POSTFIX");
    return p && *p ? p : "/usr/sbin/postfix";
}

/* `postfix -c pf_etc <cmd>`: its exit status (0 ok). */
static int postfix_cmd(const char *cmd)
{
    struct e2e_proc p;
    char *argv[] = {(char *)postfix_bin(), "-c", pf_etc, (char *)cmd, NULL};
    if (e2e_run(&p, "postfix", W.dir, argv, 30000, W.err, sizeof(W.err)) != MP_OK)
        return -1;
    return WIFEXITED(p.status) ? WEXITSTATUS(p.status) : -1;
}

static void setup(void)
{
    pf_etc[0] = '\0';
    ew_setup(&W, "e2egate");
}

static void teardown(void)
{
    if (pf_etc[0])
        postfix_cmd("stop");
    ew_teardown(&W);
}

#define RULES                                                                            \
    "rules:\n  - name: bounce_rate\n    kind: ratio\n    scopes: [recipient_domain]\n"   \
    "    numerator: [bounce_hard]\n    denominator: [sent]\n    window: 5m\n"            \
    "    min_volume: 10\n    warning: 10%\n    critical: 20%\n    keep_firing_for: 0s\n" \
    "    gate: {action: pause, severity: critical}\n"

/* RULES at mailbox_provider scope: the mailbox's sends to one provider. */
#define RULES_MBP                                                                        \
    "rules:\n  - name: bounce_rate\n    kind: ratio\n    scopes: [mailbox_provider]\n"   \
    "    numerator: [bounce_hard]\n    denominator: [sent]\n    window: 5m\n"            \
    "    min_volume: 10\n    warning: 10%\n    critical: 20%\n    keep_firing_for: 0s\n" \
    "    gate: {action: pause, severity: critical}\n"

/* The config c with `rules`, a gate section (the policy server on
 * policy_port) and `extra` (more sections, "" for none). */
static void write_config_c(const char *rules, const char *extra, struct e2e_daemon_conf c)
{
    char *cfg = NULL, gate[512];
    size_t len;
    must_ok(e2e_write_file(W.rules, rules, W.err, sizeof(W.err)));
    c.rules = W.rules;
    ew_write_config(&W, c);
    must(e2e_read_file(W.cfg, &cfg, &len) == MP_OK, "cannot read %s", W.cfg);
    snprintf(gate, sizeof(gate),
             "gate:\n  policy_listen: 127.0.0.1:%u\n  cool_down: %ds\n"
             "  tenants:\n    acme: [acme.example]\n%s",
             (unsigned)policy_port, COOL_S, extra);
    char *all = malloc(len + strlen(gate) + 2);
    must(all != NULL, "out of memory");
    snprintf(all, len + strlen(gate) + 2, "%s\n%s", cfg, gate);
    free(cfg);
    int rc = e2e_write_file(W.cfg, all, W.err, sizeof(W.err));
    free(all);
    must_ok(rc);
}

static void write_config(const char *rules, const char *extra)
{
    write_config_c(rules, extra, (struct e2e_daemon_conf){0});
}

/* The daemon with write_config(rules, extra) (policy server on a free port). */
static void start_with(const char *rules, const char *extra)
{
    policy_port = ew_port(&W);
    write_config(rules, extra);
    ew_spawn_daemon(&W);
}

static void start(void) { start_with(RULES, ""); }

/* GET /v1/gate?<query>: the decision ("allow" or "pause"); *j the body. */
static const char *decide(const char *query, json_t **j)
{
    char path[512];
    snprintf(path, sizeof(path), "/v1/gate?%s", query);
    *j = ew_get_json(&W, path, 200);
    const char *d = ew_jstr(*j, "decision");
    must(d && (strcmp(d, "allow") == 0 || strcmp(d, "pause") == 0), "bad decision in %s", path);
    return d;
}

/* Polls /v1/gate?<query> until it answers `want`; the ms it took. */
static int64_t wait_decision(const char *query, const char *want, int timeout_ms)
{
    int64_t t0 = mp_now_ms();
    for (;;) {
        json_t *j;
        int ok = strcmp(decide(query, &j), want) == 0;
        json_decref(j);
        if (ok)
            return mp_now_ms() - t0;
        must(mp_now_ms() - t0 < timeout_ms, "/v1/gate?%s did not answer %s within %d ms", query,
             want, timeout_ms);
        usleep(20000);
    }
}

/* One policy request over a fresh connection; the answer line (free it). */
static char *policy(const char *sender, const char *rcpt)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(policy_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    char req[1024], *buf = calloc(1, 2048);
    size_t len = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    must(fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
         "cannot connect to the policy server on port %u", (unsigned)policy_port);
    int n = snprintf(req, sizeof(req),
                     "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
                     "client_address=127.0.0.1\nsender=%s\nrecipient=%s\n\n",
                     sender, rcpt);
    must(write(fd, req, (size_t)n) == n, "policy write failed");
    while (!strstr(buf, "\n\n")) {
        struct pollfd p = {fd, POLLIN, 0};
        must(poll(&p, 1, 5000) == 1, "no policy answer within 5 s");
        ssize_t r = read(fd, buf + len, 2047 - len);
        must(r > 0, "the policy server closed the connection");
        len += (size_t)r;
    }
    close(fd);
    *strstr(buf, "\n\n") = '\0';
    return buf;
}

/* One policy ask and what its answer must be: it starts with `want`, and
 * holds `also` (NULL: it is exactly `want`). */
struct policy_case {
    const char *sender, *rcpt, *want, *also;
};

static void policy_expect(const struct policy_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *a = policy(c[i].sender, c[i].rcpt), msg[2200];
        int ok = c[i].also ? strncmp(a, c[i].want, strlen(c[i].want)) == 0 && strstr(a, c[i].also)
                           : strcmp(a, c[i].want) == 0;
        snprintf(msg, sizeof(msg), "%s -> %s: policy answer: %s", c[i].sender, c[i].rcpt, a);
        free(a);
        must(ok, "%s", msg);
    }
}

#define PAUSED "action=DEFER_IF_PERMIT 4.7.1 mailpulse gate: sending paused (bounce_rate): "

#define Q_GMAIL "tenant=acme&mailbox=news@acme.example&recipient_domain=gmail.com"
#define Q_YAHOO "tenant=acme&mailbox=news@acme.example&recipient_domain=yahoo.com"

START_TEST(pause_then_lift)
{
    start();
    json_t *j;
    must(strcmp(decide(Q_GMAIL, &j), "allow") == 0, "paused before any alert");
    json_decref(j);
    ew_send(&W, "acme", "news@acme.example", "gmail.com", T_SENT, 100, mp_now_ms());
    ew_send(&W, "acme", "news@acme.example", "gmail.com", T_BOUNCE_HARD, 30, mp_now_ms());
    wait_decision(Q_GMAIL, "pause", GATE_MS);

    must(strcmp(decide(Q_GMAIL, &j), "pause") == 0, "the pause went away");
    json_t *r = json_array_get(json_object_get(j, "reasons"), 0);
    must(ew_streq(ew_jstr(r, "rule"), "bounce_rate") && ew_streq(ew_jstr(r, "scope"),
         "recipient_domain") && ew_streq(ew_jstr(r, "recipient_domain"), "gmail.com") &&
         ew_streq(ew_jstr(r, "severity"), "critical") && ew_streq(ew_jstr(r, "state"), "paused"),
         "reason: %s", ew_jdump(j, 900));
    must(json_integer_value(json_object_get(j, "retry_after_s")) == COOL_S, "retry_after_s: %s",
         ew_jdump(j, 900));
    json_decref(j);
    must(strcmp(decide(Q_YAHOO, &j), "allow") == 0, "yahoo.com paused: %s", ew_jdump(j, 900));
    json_decref(j);

    static const struct policy_case asks[] = {
        {"news@acme.example", "bob@gmail.com", PAUSED "bounce_rate ", "gmail.com"},
        {"news@acme.example", "bob@gmail.com", PAUSED, "; retry in 3s"},
        {"news@acme.example", "bob@yahoo.com", "action=DUNNO", NULL},
        {"x@other.example", "bob@gmail.com", "action=DUNNO", NULL}, /* a sender of no tenant */
    };
    policy_expect(asks, MP_ARRAY_LEN(asks));

    j = ew_get_json(&W, "/v1/gate/pauses?tenant=acme", 200);
    must(json_array_size(json_object_get(j, "pauses")) == 1, "pauses: %s", ew_jdump(j, 900));
    json_decref(j);
    must(ew_metric(&W, "mailpulse_gate_paused_total") == 1, "gate_paused_total");
    must(ew_metric(&W, "mailpulse_policy_paused_total") == 2, "policy_paused_total (two asks)");

    /* clean sends: 30 of 430 is under the resolve line (90% of 10%) */
    ew_send(&W, "acme", "news@acme.example", "gmail.com", T_SENT, 300, mp_now_ms());
    int64_t t0 = mp_now_ms(), lifts = 0;
    while (!lifts) { /* cooling: still paused, with the time it lifts */
        j = ew_get_json(&W, "/v1/gate/pauses?tenant=acme", 200);
        json_t *p = json_array_get(json_object_get(j, "pauses"), 0);
        must(p != NULL, "the pause lifted without cooling down");
        if (ew_streq(ew_jstr(p, "state"), "cooling_down"))
            must(mp_time_parse(ew_jstr(p, "lifts_at"), &lifts) == MP_OK,
                 "lifts_at: %s", ew_jdump(j, 900));
        json_decref(j);
        must(lifts || mp_now_ms() - t0 < GATE_MS, "the alert did not resolve");
        if (!lifts)
            usleep(20000);
    }
    must(strcmp(decide(Q_GMAIL, &j), "pause") == 0 || mp_now_ms() >= lifts,
         "lifted before its cool-down ended");
    json_decref(j);
    wait_decision(Q_GMAIL, "allow", GATE_MS + COOL_S * 1000);
    must(mp_now_ms() >= lifts - 50, "lifted %lld ms early", (long long)(lifts - mp_now_ms()));
    policy_expect(&(struct policy_case){"news@acme.example", "bob@gmail.com", "action=DUNNO",
                                        NULL}, 1);
    must(ew_metric(&W, "mailpulse_gate_lifted_total") == 1, "gate_lifted_total");
    ew_pass(&W);
}
END_TEST

/* Waits for a delivery to receiver k whose alerts hold a gate_paused alert
 * with `status`; that alert (a new reference; the caller frees it). */
static json_t *wait_gate_alert(size_t k, const char *status, int timeout_ms)
{
    int64_t t0 = mp_now_ms();
    for (size_t seen = 0;; seen++) {
        must(hrx_wait(W.raw[k], seen + 1, timeout_ms) == MP_OK,
             "no gate_paused %s notification within %d ms (%zu deliveries)", status, timeout_ms,
             hrx_count(W.raw[k]));
        json_t *j = json_loads(ew_req(&W, k, seen)->body, 0, NULL), *a;
        size_t i;
        json_array_foreach(json_object_get(j, "alerts"), i, a) {
            json_t *l = json_object_get(a, "labels");
            if (ew_streq(ew_jstr(l, "alertname"), "gate_paused") &&
                ew_streq(ew_jstr(a, "status"), status)) {
                json_incref(a);
                json_decref(j);
                return a;
            }
        }
        json_decref(j);
        must(mp_now_ms() - t0 < timeout_ms, "no gate_paused %s notification", status);
    }
}

/* gate.notify: true makes the pause an alert of its own for the tenant's
 * receivers: gate_paused fires (labels gate_scope, gate_name, gate_rule;
 * a summary naming the domain and the rule) when the pause begins, and
 * resolves when the pause lifts after its cool-down. */
START_TEST(pause_notified)
{
    size_t k = ew_raw(&W, "ops", "secret-ops", 200);
    const struct e2e_receiver_conf rec[] = {{"ops-hook", W.raw_url[k], W.raw_secret[k]}};
    policy_port = ew_port(&W);
    write_config_c(RULES, "  notify: true\n",
                   (struct e2e_daemon_conf){.receivers = rec, .nreceivers = 1,
                                            .default_route = "ops-hook"});
    ew_spawn_daemon(&W);
    ew_send(&W, "acme", "news@acme.example", "gmail.com", T_SENT, 100, mp_now_ms());
    ew_send(&W, "acme", "news@acme.example", "gmail.com", T_BOUNCE_HARD, 30, mp_now_ms());
    wait_decision(Q_GMAIL, "pause", GATE_MS);
    json_t *a = wait_gate_alert(k, "firing", GATE_MS);
    json_t *l = json_object_get(a, "labels");
    const char *sum = ew_jstr(json_object_get(a, "annotations"), "summary");
    must(ew_streq(ew_jstr(l, "tenant"), "acme") && ew_streq(ew_jstr(l, "gate_scope"),
         "recipient_domain") && ew_streq(ew_jstr(l, "gate_name"), "gmail.com") &&
         ew_streq(ew_jstr(l, "gate_rule"), "bounce_rate") && ew_streq(ew_jstr(l, "severity"),
         "warning") && sum && strstr(sum, "gmail.com") && strstr(sum, "bounce_rate"),
         "gate_paused: %s", ew_jdump(a, 900));
    json_decref(a);
    ew_send(&W, "acme", "news@acme.example", "gmail.com", T_SENT, 300, mp_now_ms());
    wait_decision(Q_GMAIL, "allow", GATE_MS + COOL_S * 1000);
    a = wait_gate_alert(k, "resolved", GATE_MS);
    must(ew_streq(ew_jstr(json_object_get(a, "labels"), "gate_name"), "gmail.com"),
         "resolved: %s", ew_jdump(a, 900));
    json_decref(a);
    ew_pass(&W);
}
END_TEST

#define Q_MBP "tenant=acme&mailbox=news@acme.example&recipient_domain="

START_TEST(mailbox_provider_pause)
{
    start_with(RULES_MBP, "providers:\n  google: [corp-on-workspace.example]\n");
    json_t *j;
    ew_send(&W, "acme", "news@acme.example", "gmail.com", T_SENT, 100, mp_now_ms());
    ew_send(&W, "acme", "news@acme.example", "gmail.com", T_BOUNCE_HARD, 30, mp_now_ms());
    /* never sent to: googlemail.com is Google's too, by the daemon's map */
    wait_decision(Q_MBP "googlemail.com", "pause", GATE_MS);
    must(strcmp(decide(Q_MBP "googlemail.com", &j), "pause") == 0, "the pause went away");
    json_t *r = json_array_get(json_object_get(j, "reasons"), 0);
    must(ew_streq(ew_jstr(r, "rule"), "bounce_rate") &&
             ew_streq(ew_jstr(r, "scope"), "mailbox_provider") &&
             ew_streq(ew_jstr(r, "mailbox"), "news@acme.example") &&
             ew_streq(ew_jstr(r, "provider"), "google") &&
             ew_streq(ew_jstr(r, "severity"), "critical"),
         "reason: %s", ew_jdump(j, 900));
    json_decref(j);
    static const struct {
        const char *query, *want;
    } cases[] = {
        {Q_MBP "gmail.com", "pause"},
        {Q_MBP "yahoo.com", "allow"},
        {"tenant=acme&mailbox=ops@acme.example&recipient_domain=gmail.com", "allow"},
        {"tenant=acme&recipient_domain=gmail.com", "allow"}, /* no mailbox: not covered */
        {Q_MBP "corp-on-workspace.example", "pause"},        /* google by `providers:` */
        {Q_MBP "gmail.com&provider=yahoo", "allow"},         /* ?provider= overrides */
        {Q_MBP "yahoo.com&provider=google", "pause"},
    };
    for (size_t i = 0; i < MP_ARRAY_LEN(cases); i++) {
        must(strcmp(decide(cases[i].query, &j), cases[i].want) == 0, "%s: %s", cases[i].query,
             ew_jdump(j, 900));
        json_decref(j);
    }
    static const struct policy_case asks[] = {
        {"news@acme.example", "bob@gmail.com", PAUSED, "news@acme.example"},
        {"news@acme.example", "bob@yahoo.com", "action=DUNNO", NULL},
        {"ops@acme.example", "bob@gmail.com", "action=DUNNO", NULL}, /* another mailbox */
    };
    policy_expect(asks, MP_ARRAY_LEN(asks));
    j = ew_get_json(&W, "/v1/gate/pauses?tenant=acme", 200);
    json_t *p = json_array_get(json_object_get(j, "pauses"), 0);
    must(json_array_size(json_object_get(j, "pauses")) == 1 &&
             ew_streq(ew_jstr(p, "scope"), "mailbox_provider") &&
             ew_streq(ew_jstr(p, "mailbox"), "news@acme.example") &&
             ew_streq(ew_jstr(p, "provider"), "google"),
         "pauses: %s", ew_jdump(j, 900));
    json_decref(j);
    /* a SIGHUP with googlemail.com moved to "other" reaches the gate's map */
    write_config(RULES_MBP, "providers:\n  other: [googlemail.com]\n");
    must(kill(W.daemon.pid, SIGHUP) == 0, "kill SIGHUP: %s", strerror(errno));
    wait_decision(Q_MBP "googlemail.com", "allow", GATE_MS);
    wait_decision(Q_MBP "corp-on-workspace.example", "allow", GATE_MS);
    must(strcmp(decide(Q_MBP "gmail.com", &j), "pause") == 0, "gmail.com after the reload: %s",
         ew_jdump(j, 900));
    json_decref(j);
    ew_pass(&W);
}
END_TEST

START_TEST(bad_queries)
{
    start();
    static const struct {
        const char *q, *want;
    } bad[] = {
        {"mailbox=a@b.example", "tenant: required"},
        {"tenant=acme&mailbox=nobody", "mailbox: expected an address"},
        {"tenant=acme&recipient_domain=-bad-", "recipient_domain: expected a host name"},
        {"tenant=acme&tenant=beta", "tenant: repeated"},
        {"tenant=acme&colour=red", "colour: unknown parameter"},
    };
    char path[256];
    for (size_t i = 0; i < MP_ARRAY_LEN(bad); i++) {
        snprintf(path, sizeof(path), "/v1/gate?%s", bad[i].q);
        json_t *j = ew_get_json(&W, path, 400);
        const char *e = ew_jstr(j, "error");
        must(e && strstr(e, bad[i].want), "%s: %s", path, ew_jdump(j, 500));
        json_decref(j);
    }
    json_decref(ew_get_json(&W, "/v1/gate/pauses?tenant=a%20b", 400));
    ew_pass(&W);
}
END_TEST

/* ---- a real Postfix ---- */

/* Reads one SMTP reply (every line of it) into buf; its code. */
static int smtp_reply(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (;;) {
        /* the last line of a reply is "ddd text\r\n" */
        const char *l = buf, *nl;
        while ((nl = strstr(l, "\r\n")) && nl[2])
            l = nl + 2;
        if (nl && !nl[2] && strlen(l) >= 4 && l[3] == ' ')
            return atoi(l);
        struct pollfd p = {fd, POLLIN, 0};
        must(poll(&p, 1, 15000) == 1, "no SMTP reply within 15 s (got %s)", buf);
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        must(r > 0, "smtpd closed the connection (got %s)", buf);
        len += (size_t)r;
        buf[len] = '\0';
    }
}

static int smtp(int fd, const char *line, char *buf, size_t cap)
{
    must(write(fd, line, strlen(line)) == (ssize_t)strlen(line), "SMTP write failed");
    return smtp_reply(fd, buf, cap);
}

/* A private Postfix on `port` asking the gate's policy server. */
static void postfix_start(uint16_t port)
{
    char main_cf[4 * E2E_PATH_MAX + 2048], master_cf[2048], path[E2E_PATH_MAX + 128],
        pf[E2E_PATH_MAX + 32];
    snprintf(pf, sizeof(pf), "%s/postfix", W.dir);
    snprintf(pf_etc, sizeof(pf_etc), "%s/etc", pf);
    static const char *const sub[] = {"", "/etc", "/spool", "/data"};
    /* Postfix's daemons run as user postfix: they must reach the queue */
    must(chmod(W.dir, 0755) == 0, "chmod %s failed", W.dir);
    for (size_t i = 0; i < MP_ARRAY_LEN(sub); i++) {
        snprintf(path, sizeof(path), "%s%s", pf, sub[i]);
        must(mkdir(path, 0755) == 0, "mkdir %s failed", path);
    }
    snprintf(main_cf, sizeof(main_cf),
             "compatibility_level = 3.6\nqueue_directory = %s/spool\ndata_directory = %s/data\n"
             "maillog_file = %s/maillog\nmaillog_file_prefixes = %s\ninet_interfaces = 127.0.0.1\ninet_protocols = ipv4\n"
             "myhostname = mx.gate-test.example\nmydestination =\nmynetworks = 127.0.0.0/8\n"
             "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n"
             "smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:%u,\n"
             "    permit_mynetworks, reject_unauth_destination\n"
             "smtpd_policy_service_default_action = 451 4.3.5 gate unreachable\n"
             "default_transport = discard\nrelay_transport = discard\n",
             pf, pf, pf, pf, (unsigned)policy_port);
    snprintf(master_cf, sizeof(master_cf),
             "127.0.0.1:%u inet n - n - - smtpd\npickup unix n - n 60 1 pickup\n"
             "cleanup unix n - n - 0 cleanup\nqmgr unix n - n 300 1 qmgr\n"
             "rewrite unix - - n - - trivial-rewrite\nbounce unix - - n - 0 bounce\n"
             "defer unix - - n - 0 bounce\ntrace unix - - n - 0 bounce\n"
             "verify unix - - n - 1 verify\nflush unix n - n 1000? 0 flush\n"
             "proxymap unix - - n - - proxymap\nshowq unix n - n - - showq\n"
             "error unix - - n - - error\nretry unix - - n - - error\n"
             "discard unix - - n - - discard\nanvil unix - - n - 1 anvil\n"
             "scache unix - - n - 1 scache\npostlog unix-dgram n - n - 1 postlogd\n",
             (unsigned)port);
    snprintf(path, sizeof(path), "%s/main.cf", pf_etc);
    must_ok(e2e_write_file(path, main_cf, W.err, sizeof(W.err)));
    snprintf(path, sizeof(path), "%s/master.cf", pf_etc);
    must_ok(e2e_write_file(path, master_cf, W.err, sizeof(W.err)));
    must(postfix_cmd("set-permissions") == 0, "postfix set-permissions failed: %s", W.err);
    must(postfix_cmd("start") == 0, "postfix start failed (see %s/maillog)", pf);
    int64_t t0 = mp_now_ms();
    while (e2e_tcp_probe(port) != MP_OK) {
        must(mp_now_ms() - t0 < 15000, "Postfix's smtpd not listening on %u", (unsigned)port);
        usleep(50000);
    }
}

START_TEST(postfix_defers_paused_mail)
{
    must(access(postfix_bin(), X_OK) == 0 && geteuid() == 0,
         "%s missing (apt-get install postfix: scripts/deps.sh) or not root", postfix_bin());
    start();
    ew_send(&W, "acme", "news@acme.example", "gmail.com", T_SENT, 100, mp_now_ms());
    ew_send(&W, "acme", "news@acme.example", "gmail.com", T_BOUNCE_HARD, 30, mp_now_ms());
    wait_decision(Q_GMAIL, "pause", GATE_MS);
    uint16_t port = ew_port(&W);
    postfix_start(port);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    char buf[4096];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    must(fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect to smtpd");
    must(smtp_reply(fd, buf, sizeof(buf)) == 220, "banner: %s", buf);
    must(smtp(fd, "EHLO client.test\r\n", buf, sizeof(buf)) == 250, "EHLO: %s", buf);
    must(smtp(fd, "MAIL FROM:<news@acme.example>\r\n", buf, sizeof(buf)) == 250, "MAIL: %s", buf);
    int code = smtp(fd, "RCPT TO:<bob@gmail.com>\r\n", buf, sizeof(buf));
    must(code == 450 && strstr(buf, "4.7.1") &&
             strstr(buf, "mailpulse gate: sending paused (bounce_rate): bounce_rate") &&
             strstr(buf, "gmail.com"),
         "RCPT to the paused domain: %s", buf);
    must(smtp(fd, "RSET\r\n", buf, sizeof(buf)) == 250, "RSET: %s", buf);
    must(smtp(fd, "MAIL FROM:<news@acme.example>\r\n", buf, sizeof(buf)) == 250, "MAIL: %s", buf);
    must(smtp(fd, "RCPT TO:<bob@yahoo.com>\r\n", buf, sizeof(buf)) == 250,
         "RCPT to an unpaused domain: %s", buf);
    must(smtp(fd, "DATA\r\n", buf, sizeof(buf)) == 354, "DATA: %s", buf);
    must(smtp(fd, "Subject: gate test\r\n\r\nhello\r\n.\r\n", buf, sizeof(buf)) == 250 &&
             strstr(buf, "queued as"),
         "the unpaused mail was not accepted: %s", buf);
    smtp(fd, "QUIT\r\n", buf, sizeof(buf));
    close(fd);
    must(ew_metric(&W, "mailpulse_policy_paused_total") == 1 &&
             ew_metric(&W, "mailpulse_policy_requests_total") == 2,
         "the policy server's counts");
    must(postfix_cmd("stop") == 0, "postfix stop failed");
    pf_etc[0] = '\0';
    ew_pass(&W);
}
END_TEST

EW_SUITE("e2e_gate", 60, setup, teardown, {pause_then_lift, 0}, {pause_notified, 0}, {mailbox_provider_pause, 0},
         {bad_queries, 0},
         {postfix_defers_paused_mail, 0})
