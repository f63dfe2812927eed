/* test_e2e.c — Check suite "e2e": the real mailpulsed, driven end to end.
 *
 * Each case runs in its own forked process (CK_FORK=yes) with its own temp
 * directory, ports, daemon and receivers (tests/e2e_harness.h): events go in
 * through the daemon's ZeroMQ PULL socket, alerts come out as HTTP POSTs to
 * `mailpulse sink` processes (or the harness's raw receiver when the exact
 * bytes matter), and /metrics and the daemon's log are read from outside.
 *
 * Cases:
 *   story_team_a_bad_list  PRODUCT.md story 1: one tenant's bad list alerts
 *                          that tenant's receiver once, nobody else's.
 *   signature_verifies     X-Mailpulse-Signature is HMAC-SHA256 over the raw
 *                          body; Idempotency-Key is set.
 *   garbage_then_valid     story 7: every kind of bad frame/event is counted
 *                          under its reason and logged; valid events still count.
 *   clean_sigterm          SIGTERM: exit 0 within 5 s, "msg=stopped".
 *   log_cannot_be_forged   a producer_id holding a forged log line, and one
 *                          at its 256-byte bound full of escapes, are
 *                          logged quoted and cut (one of 100 KB is refused
 *                          as producer_id_too_long unread): every line
 *                          of the daemon's log is one key=value line; a
 *                          retry after a 503 logs err="http 503".
 *   config_refused         unknown keys stop the daemon with file:line: key;
 *                          --help exits 0.
 *
 * Programs come from $MP_BIN_DIR (set by `make check-tests`). On failure the
 * temp directory (config, logs, sink files) is kept and named in the message;
 * on success it is removed. The story prints "e2e latency_ms=..." (crossing
 * batch sent -> webhook received): a figure to watch, not an assertion.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <zmq.h>

#include "e2e_suite.h"
#include "ingest_validate.h"
#include "mp_log.h"
#include "mailpulse.pb-c.h"
#include "check_main.h"

#define ALERT_MS 5000       /* crossing -> webhook, generous on a busy box */
#define QUIET_MS 1500       /* how long "nothing more arrives" is watched */
#define COUNT_MS 5000       /* events sent -> visible in /metrics */

#define T_SENT 1        /* EVENT_TYPE_SENT */
#define T_BOUNCE_HARD 3 /* EVENT_TYPE_BOUNCE_HARD */

#define TENANT_A "team-a"
#define TENANT_B "team-b"
#define MAILBOX_A "sales@team-a.example"
#define MAILBOX_B "news@team-b.example"
#define GMAIL "gmail.com"

EW_FIXTURE("e2e")

/* Writes the config and starts mailpulsed; returns once /healthz is 200. */
static void w_start_daemon(const struct e2e_receiver_conf *rec, size_t nrec,
                           const char *default_route, const struct e2e_route_conf *routes,
                           size_t nroutes)
{
    ew_start_daemon(&W, (struct e2e_daemon_conf){.receivers = rec,
                                                 .nreceivers = nrec,
                                                 .default_route = default_route,
                                                 .routes = routes,
                                                 .nroutes = nroutes});
}

/* Polls /metrics until mailpulse_events_accepted_total reaches n; it must
 * then be exactly n. */
static void w_wait_accepted(uint64_t n)
{
    ew_wait_metric(&W, "mailpulse_events_accepted_total", n, COUNT_MS);
}

static json_t *w_records(size_t sink)
{
    json_t *recs = NULL;
    must(e2e_jsonl_load(W.sink_out[sink], &recs) == MP_OK, "%s does not parse as JSON lines",
         W.sink_out[sink]);
    return recs;
}

#define jstr ew_jstr
/* Abbreviated JSON for failure messages (the message buffer is finite). */
#define jdump(j) ew_jdump((j), 3000)

/* ---- story_team_a_bad_list ------------------------------------------------ */

/* Which of team-a's bounce_rate alerts (tenant, mailbox, domain scope; the
 * provider and mailbox_provider ones come with them) the records hold so far. */
struct coverage {
    int tenant, mailbox, domain;
};

static void coverage_of(json_t *records, struct coverage *c)
{
    size_t i, j;
    json_t *rec, *al;
    memset(c, 0, sizeof(*c));
    json_array_foreach(records, i, rec)
    {
        json_array_foreach(json_object_get(json_object_get(rec, "body"), "alerts"), j, al)
        {
            json_t *l = json_object_get(al, "labels");
            const char *mb = jstr(l, "mailbox"), *dom = jstr(l, "recipient_domain");
            if (mb == NULL && dom == NULL)
                c->tenant++;
            if (mb && strcmp(mb, MAILBOX_A) == 0)
                c->mailbox++;
            if (dom && strcmp(dom, GMAIL) == 0)
                c->domain++;
        }
    }
}

static int covers_all_scopes(json_t *records, void *arg)
{
    (void)arg;
    struct coverage c;
    coverage_of(records, &c);
    return c.tenant && c.mailbox && c.domain;
}

/* The daemon's rendering of a ratio ("0.08", "0.063"): %.6f, zeros trimmed. */
static void ratio_text(uint64_t num, uint64_t den, char *buf, size_t n)
{
    snprintf(buf, n, "%.6f", (double)num / (double)den);
    char *end = buf + strlen(buf) - 1;
    while (*end == '0')
        *end-- = '\0';
    if (*end == '.')
        *end = '\0';
}

/* The request's envelope: how it was sent, and the Alertmanager v4 frame. */
static void check_envelope(json_t *rec, const char *receiver, const char *path, const char *dump)
{
    json_t *h = json_object_get(rec, "headers"), *body = json_object_get(rec, "body");
    must(json_integer_value(json_object_get(rec, "status")) == 200, "sink status: %s", dump);
    must(jstr(rec, "path") && strcmp(jstr(rec, "path"), path) == 0, "path: %s", dump);
    must(jstr(h, "content-type") && strcmp(jstr(h, "content-type"), "application/json") == 0,
         "content-type: %s", dump);
    must(jstr(h, "x-mailpulse-signature") && strncmp(jstr(h, "x-mailpulse-signature"), "t=", 2) == 0,
         "signature header: %s", dump);
    must(jstr(h, "idempotency-key") && jstr(h, "idempotency-key")[0], "idempotency-key: %s", dump);
    must(json_is_object(body), "body is not a JSON object: %s", dump);
    must(jstr(body, "version") && strcmp(jstr(body, "version"), "4") == 0, "version: %s", dump);
    must(jstr(body, "status") && strcmp(jstr(body, "status"), "firing") == 0, "status: %s", dump);
    must(jstr(body, "receiver") && strcmp(jstr(body, "receiver"), receiver) == 0, "receiver: %s",
         dump);
    const char *gt = jstr(json_object_get(body, "groupLabels"), "tenant");
    must(gt && strcmp(gt, TENANT_A) == 0, "groupLabels.tenant: %s", dump);
    must(json_array_size(json_object_get(body, "alerts")) > 0, "no alerts: %s", dump);
}

/* What one alert (one fingerprint) was notified as, in arrival order. */
struct alert_seen {
    char fp[17];
    char scope[64]; /* "tenant", the mailbox or the domain */
    char starts[40];
    int n;          /* notifications */
    int sev[4];     /* 1 warning, 2 critical, per notification */
};

/* Every notification at team-a's receiver, checked alert by alert.
 *
 * Exact: who (alertname, tenant, scope labels), the denominator (all 1000
 * sends were counted before the crossing frame went out), the window, the
 * value rendered from numerator/denominator, severity matching the value,
 * startsAt/fingerprint, and "fires once": each alert has one firing
 * notification, or a warning and then exactly one escalation to critical.
 *
 * Exact too: the numerator and value (80/1000 = "0.08"). The crossing
 * bounces travel in one frame and the daemon evaluates whole frames only,
 * so the first notification already carries the full frame, and each alert
 * fires exactly once (critical at 8%). */
static size_t check_team_a_alerts(json_t *recs, struct alert_seen seen[5])
{
    size_t nseen = 0, i, j;
    json_t *rec, *al;
    char *dump = jdump(recs);
    json_array_foreach(recs, i, rec)
    {
        check_envelope(rec, "a-hook", "/hook-a", dump);
        const char *idem = jstr(json_object_get(rec, "headers"), "idempotency-key");
        for (size_t k = 0; k < i; k++)
            must(strcmp(idem, jstr(json_object_get(json_array_get(recs, k), "headers"),
                                   "idempotency-key")) != 0,
                 "requests %zu and %zu share an idempotency key: %s", k, i, dump);
        json_array_foreach(json_object_get(json_object_get(rec, "body"), "alerts"), j, al)
        {
            json_t *l = json_object_get(al, "labels"), *an = json_object_get(al, "annotations");
            const char *sev = jstr(l, "severity"), *starts = jstr(al, "startsAt");
            const char *fp = jstr(al, "fingerprint"), *num = jstr(an, "numerator");
            const char *mb = jstr(l, "mailbox"), *dom = jstr(l, "recipient_domain");
            const char *prov = jstr(l, "provider"); /* gmail.com is google's */
            must(jstr(al, "status") && strcmp(jstr(al, "status"), "firing") == 0,
                 "request %zu alert %zu status: %s", i, j, dump);
            must(jstr(l, "alertname") && strcmp(jstr(l, "alertname"), "bounce_rate") == 0,
                 "request %zu alert %zu alertname: %s", i, j, dump);
            must(jstr(l, "tenant") && strcmp(jstr(l, "tenant"), TENANT_A) == 0,
                 "request %zu alert %zu tenant: %s", i, j, dump);
            must((mb == NULL || strcmp(mb, MAILBOX_A) == 0) &&
                     (dom == NULL || strcmp(dom, GMAIL) == 0) && !(mb && dom) &&
                     (prov == NULL || strcmp(prov, "google") == 0) && !(prov && dom),
                 "request %zu alert %zu: unexpected scope labels: %s", i, j, dump);
            must(jstr(an, "denominator") && strcmp(jstr(an, "denominator"), "1000") == 0,
                 "request %zu alert %zu denominator: %s", i, j, dump);
            must(jstr(an, "window") && strcmp(jstr(an, "window"), "1h") == 0,
                 "request %zu alert %zu window: %s", i, j, dump);
            must(starts && starts[0] && strncmp(starts, "0001-", 5) != 0,
                 "request %zu alert %zu startsAt: %s", i, j, dump);
            must(fp && strlen(fp) == 16 && strspn(fp, "0123456789abcdef") == 16,
                 "request %zu alert %zu fingerprint: %s", i, j, dump);
            must(num && strspn(num, "0123456789") == strlen(num) && num[0],
                 "request %zu alert %zu numerator: %s", i, j, dump);
            unsigned long n = strtoul(num, NULL, 10);
            char want[32];
            ratio_text(n, 1000, want, sizeof(want));
            must(jstr(an, "value") && strcmp(jstr(an, "value"), want) == 0,
                 "request %zu alert %zu value is not numerator/denominator (%s): %s", i, j, want,
                 dump);
            /* warning >= 2%, critical >= 4%: here 20 and 40 of 1000 */
            int s = n >= 40 ? 2 : 1;
            must(sev && strcmp(sev, s == 2 ? "critical" : "warning") == 0,
                 "request %zu alert %zu: severity %s at %lu/1000: %s", i, j, sev ? sev : "-", n,
                 dump);

            size_t x = 0;
            while (x < nseen && strcmp(seen[x].fp, fp) != 0)
                x++;
            if (x == nseen) {
                must(nseen < 5, "more than five distinct alerts: %s", dump);
                memset(&seen[x], 0, sizeof(seen[x]));
                snprintf(seen[x].fp, sizeof(seen[x].fp), "%s", fp);
                snprintf(seen[x].scope, sizeof(seen[x].scope), "%s%s%s",
                         mb ? mb : dom ? dom : prov ? "" : "tenant", mb && prov ? "/" : "",
                         prov ? prov : "");
                snprintf(seen[x].starts, sizeof(seen[x].starts), "%s", starts);
                nseen++;
            }
            struct alert_seen *a = &seen[x];
            must(strcmp(a->starts, starts) == 0, "alert %s: startsAt changed: %s", a->scope, dump);
            must(a->n == 0, "alert %s notified more than once: %s", a->scope, dump);
            must(n == 80, "alert %s: numerator %lu, the crossing frame held 80: %s", a->scope, n,
                 dump);
            must(strcmp(jstr(an, "value"), "0.08") == 0, "alert %s: value %s: %s", a->scope,
                 jstr(an, "value"), dump);
            a->sev[a->n++] = s;
        }
    }
    for (size_t x = 0; x < nseen; x++) {
        const struct alert_seen *a = &seen[x];
        /* fires once, critical (8% >= 4%) */
        must(a->n == 1 && a->sev[0] == 2,
             "alert %s: %d notifications (first severity %d), expected one critical: %s",
             a->scope, a->n, a->sev[0], dump);
    }
    must(strstr(dump, TENANT_B) == NULL && strstr(dump, MAILBOX_B) == NULL,
         "team-a's receiver was shown team-b's data: %s", dump);
    free(dump);
    return nseen;
}

START_TEST(story_team_a_bad_list)
{
    char url_a[96], url_b[96], url_d[96];
    size_t sa = ew_sink(&W, "sink-a", "/hook-a", url_a, sizeof(url_a));
    size_t sb = ew_sink(&W, "sink-b", "/hook-b", url_b, sizeof(url_b));
    size_t sd = ew_sink(&W, "sink-default", "/hook-default", url_d, sizeof(url_d));
    const struct e2e_receiver_conf rec[] = {
        {"a-hook", url_a, "secret-a"},
        {"b-hook", url_b, "secret-b"},
        {"default-hook", url_d, "secret-d"},
    };
    const struct e2e_route_conf routes[] = {{TENANT_A, "a-hook"}, {TENANT_B, "b-hook"}};
    w_start_daemon(rec, MP_ARRAY_LEN(rec), "default-hook", routes, MP_ARRAY_LEN(routes));

    /* Volume first, counted before any bounce arrives, so the crossing
     * frame below is the one that crosses. B shares A's recipient domain:
     * its keys must stay its own. */
    int64_t now = mp_now_ms();
    must_ok(e2e_send_events(W.push, TENANT_A, MAILBOX_A, GMAIL, T_SENT, 1000, now));
    must_ok(e2e_send_events(W.push, TENANT_B, MAILBOX_B, GMAIL, T_SENT, 1000, now));
    w_wait_accepted(2000);
    must_ok(e2e_send_events(W.push, TENANT_B, MAILBOX_B, GMAIL, T_BOUNCE_HARD, 5, now)); /* 0.5% */
    w_wait_accepted(2005);

    /* The crossing: 80 hard bounces of 1000 sent, one frame. */
    struct e2e_event bounce[80];
    for (size_t i = 0; i < MP_ARRAY_LEN(bounce); i++)
        bounce[i] = (struct e2e_event){TENANT_A, MAILBOX_A, GMAIL, T_BOUNCE_HARD, mp_now_ms()};
    uint8_t *frame = NULL;
    size_t flen = 0;
    int64_t t_send = 0;
    must_ok(e2e_batch_pack(bounce, MP_ARRAY_LEN(bounce), "e2e", &frame, &flen));
    must_ok(e2e_send_frame(W.push, frame, flen, &t_send));
    free(frame);

    json_t *recs = NULL;
    int rc = e2e_jsonl_wait(W.sink_out[sa], covers_all_scopes, NULL, ALERT_MS, &recs);
    char *dump = jdump(recs);
    must(rc == MP_OK,
         "team-a's receiver did not get alerts covering tenant, mailbox %s and domain %s within "
         "%d ms; it got: %s",
         MAILBOX_A, GMAIL, ALERT_MS, dump);
    free(dump);
    json_t *first = json_array_get(recs, 0);
    int64_t latency_ns = json_integer_value(json_object_get(first, "mono_ns")) - t_send;
    printf("e2e latency_ms=%.3f\n", (double)latency_ns / 1e6);
    fflush(stdout);
    must(latency_ns > 0, "sink mono_ns before the send: %lld ns", (long long)latency_ns);
    json_decref(recs);

    /* More bounces while we watch: the rule re-evaluates (dirty keys, and
     * the once-a-second sweep of firing alerts) and must not fire again. */
    must_ok(e2e_send_events(W.push, TENANT_A, MAILBOX_A, GMAIL, T_BOUNCE_HARD, 20, mp_now_ms()));
    usleep(QUIET_MS * 1000);
    w_wait_accepted(2105);

    struct alert_seen seen[5];
    recs = w_records(sa);
    size_t nreq = json_array_size(recs);
    size_t nalerts = check_team_a_alerts(recs, seen);
    dump = jdump(recs);
    must(nalerts == 5,
         "expected 5 alerts (tenant, mailbox, domain, provider, mailbox at provider), got %zu: %s",
         nalerts, dump);
    must(nreq == 1, "expected the five alerts in one request, got %zu requests: %s", nreq,
         dump);
    free(dump);
    json_decref(recs);

    json_t *rb = w_records(sb), *rd = w_records(sd);
    char *db = jdump(rb), *dd = jdump(rd);
    must(json_array_size(rb) == 0, "team-b's receiver got requests: %s", db);
    must(json_array_size(rd) == 0, "the default receiver got requests: %s", dd);
    free(db);
    free(dd);
    json_decref(rb);
    json_decref(rd);

    char *m = ew_metrics_text(&W);
    must(ew_metric_in(&W, m, "mailpulse_alerts_firing") == 5, "alerts_firing != 5:\n%s", m);
    must(ew_metric_in(&W, m, "mailpulse_notifications_total") == nreq,
         "notifications_total != %zu requests received:\n%s", nreq, m);
    must(ew_metric_in(&W, m, "mailpulse_webhook_delivered_total") == nreq,
         "webhook_delivered_total != %zu requests received:\n%s", nreq, m);
    must(ew_metric_in(&W, m, "mailpulse_alerts_unrouted_total") == 0, "unrouted != 0:\n%s", m);
    free(m);

    ew_stop_ok(&W, &W.daemon);
    for (size_t i = 0; i < W.nsinks; i++)
        ew_stop_ok(&W, &W.sinks[i]);
    W.passed = 1;
}
END_TEST

/* ---- signature_verifies --------------------------------------------------- */

START_TEST(signature_verifies)
{
    /* A secret with YAML-significant characters, to be sure the daemon signs
     * with the bytes the operator wrote. */
    static const char secret[] = "e2e: s3cret #1 \"quoted\" \\ end";
    size_t k = ew_raw(&W, "raw", secret, 200);
    const struct e2e_receiver_conf rec[] = {{"a-raw", W.raw_url[k], secret}};
    const struct e2e_route_conf routes[] = {{TENANT_A, "a-raw"}};
    w_start_daemon(rec, MP_ARRAY_LEN(rec), NULL, routes, MP_ARRAY_LEN(routes));

    int64_t wall_before = mp_now_ms();
    must_ok(e2e_send_events(W.push, TENANT_A, MAILBOX_A, GMAIL, T_SENT, 1000, wall_before));
    w_wait_accepted(1000);
    must_ok(e2e_send_events(W.push, TENANT_A, MAILBOX_A, GMAIL, T_BOUNCE_HARD, 80, mp_now_ms()));
    must(hrx_wait(W.raw[k], 1, ALERT_MS) == MP_OK, "no webhook request within %d ms",
         ALERT_MS);
    int64_t wall_after = mp_now_ms();

    const struct hrx_req *r = hrx_get(W.raw[k], 0);
    const char *sig = hrx_req_header(r, "X-Mailpulse-Signature");
    const char *idem = hrx_req_header(r, "Idempotency-Key");
    const char *ctype = hrx_req_header(r, "Content-Type");
    long long t = 0;
    char v1[65], want[65];
    must(strcmp(r->path, "/hook-raw") == 0, "path %s", r->path);
    must(ctype && strcmp(ctype, "application/json") == 0, "Content-Type: %s", ctype ? ctype : "-");
    must(idem && idem[0] != '\0', "Idempotency-Key missing or empty");
    must(ew_sig_parse(sig, &t, v1), "X-Mailpulse-Signature malformed: %s", sig ? sig : "(none)");
    must(t >= wall_before / 1000 - 1 && t <= wall_after / 1000 + 1,
         "signature time t=%lld outside the test's [%lld, %lld]", t,
         (long long)(wall_before / 1000), (long long)(wall_after / 1000));
    ew_sig_hex(secret, t, r->body, r->len, want);
    must(strcmp(v1, want) == 0,
         "signature does not verify: header v1=%s, HMAC-SHA256(secret, \"%lld.\" + %zu body bytes) "
         "= %s; body: %.2000s",
         v1, t, r->len, want, r->body);

    /* The check depends on every byte: one changed byte must not verify. */
    char *tampered = malloc(r->len + 1);
    ck_assert(tampered != NULL);
    memcpy(tampered, r->body, r->len + 1);
    tampered[r->len / 2] ^= 0x01;
    ew_sig_hex(secret, t, tampered, r->len, want);
    must(strcmp(v1, want) != 0, "a tampered body verifies too");
    free(tampered);

    /* And the signed bytes are the alert, for this receiver. */
    json_error_t jerr;
    json_t *body = json_loadb(r->body, r->len, 0, &jerr);
    must(body != NULL, "body is not JSON (%s): %.2000s", jerr.text, r->body);
    must(jstr(body, "receiver") && strcmp(jstr(body, "receiver"), "a-raw") == 0,
         "receiver: %.2000s", r->body);
    json_decref(body);

    ew_pass(&W);
}
END_TEST

/* ---- garbage_then_valid --------------------------------------------------- */

#define G_TENANT "team-g"
#define G_MAILBOX "ops@team-g.example"
#define G_DOMAIN "example.org"

enum when { NOW, FUTURE_1H, ZERO, OLD_40D };

/* `count` copies of one event into a frame; a frame has up to three parts. */
struct part {
    size_t count;
    const char *tenant, *mailbox, *domain;
    int type;
    enum when when;
};

struct frame_case {
    const char *what;
    struct part parts[3];
};

/* Each bad event has exactly one defect; counts differ per reason so that a
 * counter booked under the wrong reason cannot match by accident. */
static const struct frame_case event_frames[] = {
    {"unknown type 99", {{3, G_TENANT, G_MAILBOX, G_DOMAIN, 99, NOW}}},
    {"empty tenant", {{4, "", G_MAILBOX, G_DOMAIN, T_SENT, NOW}}},
    {"1 h in the future", {{5, G_TENANT, G_MAILBOX, G_DOMAIN, T_SENT, FUTURE_1H}}},
    {"time 0", {{6, G_TENANT, G_MAILBOX, G_DOMAIN, T_SENT, ZERO}}},
    {"40 days old", {{2, G_TENANT, G_MAILBOX, G_DOMAIN, T_SENT, OLD_40D}}},
    /* bad names mixed with good events: the good ones still count */
    {"malformed mailbox and domain, mixed with valid events",
     {{7, G_TENANT, "no-at-sign.example", G_DOMAIN, T_SENT, NOW},
      {10, G_TENANT, G_MAILBOX, G_DOMAIN, T_SENT, NOW},
      {8, G_TENANT, G_MAILBOX, "bad_domain!.example", T_SENT, NOW}}},
    {"valid", {{290, G_TENANT, G_MAILBOX, G_DOMAIN, T_SENT, NOW}}},
};

/* Every reason /metrics knows, with what this case must leave in it. */
static const struct {
    const char *reason;
    uint64_t want;
} reasons[] = {
    {"bad_frame", 2},       /* random bytes, truncated batch */
    {"empty_batch", 2},     /* empty frame, batch with only a producer_id */
    {"tenant_invalid", 4},  {"mailbox_invalid", 7}, {"domain_invalid", 8},
    {"type_unknown", 3},    {"time_missing", 6},    {"time_too_old", 2},
    {"time_in_future", 5},  {"capacity", 0},        {"internal", 0},
    {"frame_too_large", 0}, {"batch_too_large", 0}, {"producer_id_too_long", 0},
    {"tenant_key_cap", 0},  {"tenant_rate_cap", 0},
    {"tenant_forbidden", 0}, /* no Curve in this suite: never hit */
    {"campaign_invalid", 0},
};
#define G_ACCEPTED 300
#define G_DECODED 335 /* events in frames that decode: 3+4+5+6+2+25+290 */
#define G_FRAMES 11   /* 4 whole-frame cases + 7 event frames */

static int64_t when_ms(enum when w, int64_t now)
{
    switch (w) {
    case FUTURE_1H: return now + 3600 * 1000LL;
    case ZERO: return 0;
    case OLD_40D: return now - 40 * 24 * 3600 * 1000LL;
    default: return now;
    }
}

/* Sends one frame and checks first, with the same generated decoder the
 * daemon uses, that it is what the case claims: decodes or not, and with
 * how many events. A construction that drifted would otherwise test nothing. */
static void send_checked(const char *what, const uint8_t *buf, size_t len, int decodes,
                         size_t nevents)
{
    Mailpulse__V1__EventBatch *b = mailpulse__v1__event_batch__unpack(NULL, len, buf);
    must((b != NULL) == decodes, "frame \"%s\" (%zu bytes) %s locally, expected it %s", what, len,
         b ? "decodes" : "does not decode", decodes ? "to decode" : "not to");
    if (b) {
        must(b->n_events == nevents, "frame \"%s\" holds %zu events, expected %zu", what,
             b->n_events, nevents);
        mailpulse__v1__event_batch__free_unpacked(b, NULL);
    }
    must_ok(e2e_send_frame(W.push, buf, len, NULL));
}

/* Fixed-seed xorshift64*: the same bytes on every run and every libc. */
static void random_bytes(uint8_t *buf, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        buf[i] = (uint8_t)((seed * 2685821657736338717ULL) >> 56);
    }
}

/* All reason counters, frames and accepted equal what was sent. Fills
 * `why` with the first difference. */
static int garbage_counted(const char *m, char *why, size_t n)
{
    struct {
        const char *series;
        uint64_t want;
    } totals[] = {{"mailpulse_ingest_frames_total", G_FRAMES},
                  {"mailpulse_events_received_total", G_DECODED},
                  {"mailpulse_events_accepted_total", G_ACCEPTED}};
    uint64_t v = 0;
    for (size_t i = 0; i < MP_ARRAY_LEN(totals); i++) {
        if (e2e_metric(m, totals[i].series, &v) != MP_OK || v != totals[i].want) {
            snprintf(why, n, "%s is %llu, expected %llu", totals[i].series, (unsigned long long)v,
                     (unsigned long long)totals[i].want);
            return 0;
        }
    }
    for (size_t i = 0; i < MP_ARRAY_LEN(reasons); i++) {
        char series[96];
        snprintf(series, sizeof(series), "mailpulse_rejected_total{reason=\"%s\"}",
                 reasons[i].reason);
        v = 0;
        if (e2e_metric(m, series, &v) != MP_OK || v != reasons[i].want) {
            snprintf(why, n, "%s is %llu, expected %llu", series, (unsigned long long)v,
                     (unsigned long long)reasons[i].want);
            return 0;
        }
    }
    return 1;
}

START_TEST(garbage_then_valid)
{
    w_start_daemon(NULL, 0, NULL, NULL, 0);
    int64_t now = mp_now_ms();

    /* Whole-frame garbage. */
    uint8_t noise[256];
    random_bytes(noise, sizeof(noise), 0x6d61696c70756c73ULL);
    send_checked("random bytes", noise, sizeof(noise), 0, 0);

    /* One event is field 1 of EventBatch: 0x0a, a length, the event. Half
     * the frame stops inside that length-delimited field, so the declared
     * length runs past the end: never decodable. */
    struct e2e_event one = {G_TENANT, G_MAILBOX, G_DOMAIN, T_SENT, now};
    uint8_t *buf = NULL;
    size_t len = 0;
    must_ok(e2e_batch_pack(&one, 1, NULL, &buf, &len));
    must(buf[0] == 0x0a && buf[1] < 0x80 && (size_t)buf[1] + 2 == len && len / 2 > 2,
         "one-event batch is not laid out as 0a <len> <event> (%zu bytes)", len);
    send_checked("truncated batch", buf, len / 2, 0, 0);
    free(buf);

    send_checked("empty frame", (const uint8_t *)"", 0, 1, 0);
    must_ok(e2e_batch_pack(NULL, 0, "e2e-garbage", &buf, &len));
    send_checked("batch with a producer_id and no events", buf, len, 1, 0);
    free(buf);

    /* Frames of events, bad and good. */
    for (size_t f = 0; f < MP_ARRAY_LEN(event_frames); f++) {
        const struct frame_case *fc = &event_frames[f];
        struct e2e_event ev[E2E_EVENTS_PER_FRAME];
        size_t n = 0;
        for (size_t p = 0; p < MP_ARRAY_LEN(fc->parts) && fc->parts[p].count; p++) {
            const struct part *pt = &fc->parts[p];
            for (size_t k = 0; k < pt->count; k++) {
                must(n < MP_ARRAY_LEN(ev), "frame \"%s\" too large", fc->what);
                ev[n++] = (struct e2e_event){pt->tenant, pt->mailbox, pt->domain, pt->type,
                                             when_ms(pt->when, now)};
            }
        }
        must_ok(e2e_batch_pack(ev, n, "e2e-garbage", &buf, &len));
        send_checked(fc->what, buf, len, 1, n);
        if (f == 0) { /* protobuf-c must carry the unknown enum value through */
            Mailpulse__V1__EventBatch *b = mailpulse__v1__event_batch__unpack(NULL, len, buf);
            must(b && (int)b->events[0]->type == 99, "type 99 did not survive encoding");
            mailpulse__v1__event_batch__free_unpacked(b, NULL);
        }
        free(buf);
    }

    /* Counted exactly: wait for the last frame, then make sure nothing more
     * trickles in. */
    char why[256] = "";
    char *m = NULL;
    int64_t deadline = mp_mono_ns() + (int64_t)COUNT_MS * 1000000;
    for (;;) {
        free(m);
        m = ew_metrics_text(&W);
        if (garbage_counted(m, why, sizeof(why)) || mp_mono_ns() >= deadline)
            break;
        usleep(10000);
    }
    must(garbage_counted(m, why, sizeof(why)), "after %d ms: %s; /metrics:\n%s", COUNT_MS, why, m);
    free(m);
    usleep(200000);
    m = ew_metrics_text(&W);
    must(garbage_counted(m, why, sizeof(why)), "counts moved after settling: %s; /metrics:\n%s", why,
         m);

    /* No reason series beyond the ones this test knows (a new reason must
     * be added to the table above, with its expected count). */
    for (const char *p = m; (p = strstr(p, "\nmailpulse_rejected_total{reason=\"")) != NULL; p++) {
        const char *name = p + strlen("\nmailpulse_rejected_total{reason=\"");
        size_t nl = strcspn(name, "\"");
        int known = 0;
        for (size_t i = 0; i < MP_ARRAY_LEN(reasons); i++)
            known |= strlen(reasons[i].reason) == nl && strncmp(reasons[i].reason, name, nl) == 0;
        must(known, "unexpected reason series: %.*s", (int)nl, name);
    }
    free(m);

    long status = 0;
    must(e2e_http_get(W.healthz, 2000, &status, NULL) == MP_OK && status == 200,
         "daemon not healthy after garbage: /healthz %ld", status);
    must(e2e_proc_running(&W.daemon), "daemon exited");

    /* Each reason that was hit is logged: the first rejection of a reason
     * always passes the per-reason rate limit. */
    for (size_t i = 0; i < MP_ARRAY_LEN(reasons); i++) {
        if (reasons[i].want == 0)
            continue;
        char needle[96], tail[1500];
        snprintf(needle, sizeof(needle), "msg=ingest_reject reason=%s ", reasons[i].reason);
        e2e_file_tail(W.daemon.err_path, tail, sizeof(tail));
        must(e2e_file_contains(W.daemon.err_path, needle), "no \"%s\" line in the log; tail:\n%s",
             needle, tail);
    }

    ew_pass(&W);
}
END_TEST

/* ---- log_cannot_be_forged ------------------------------------------------- */

#define FORGED_LINE "ts=2026-01-01T00:00:00.000Z level=error msg=store_flush_failed"
#define BIG_PRODUCER INGEST_PRODUCER_ID_MAX /* the longest accepted */
#define HUGE_PRODUCER (100 * 1024)

/* 1 when the n bytes at l are one key=value line as mp_log writes them:
 * "ts=... level=... msg=NAME" then " key=value" pairs, each value bare (no
 * space, quote or control) or quoted (escapes only, no raw quote). *msg
 * receives NAME. */
static int log_line_parses(const char *l, size_t n, char *msg, size_t msgn)
{
    static const char *const first[] = {"ts", "level", "msg"};
    size_t i = 0, k = 0;
    for (; i < n; k++) {
        size_t key = i;
        while (i < n && ((l[i] >= 'a' && l[i] <= 'z') || (l[i] >= '0' && l[i] <= '9') ||
                         l[i] == '_'))
            i++;
        if (i == key || i >= n || l[i] != '=')
            return 0;
        if (k < 3 && (strlen(first[k]) != i - key || strncmp(l + key, first[k], i - key) != 0))
            return 0;
        size_t v = ++i;
        if (i < n && l[i] == '"') {
            for (i++; i < n && l[i] != '"'; i++)
                if (l[i] == '\\' && ++i >= n)
                    return 0;
            if (i++ >= n)
                return 0; /* no closing quote */
        } else {
            while (i < n && l[i] != ' ' && l[i] != '"' && (unsigned char)l[i] >= 0x20)
                i++;
        }
        if (k == 2)
            snprintf(msg, msgn, "%.*s", (int)(i - v), l + v);
        if (i < n && l[i++] != ' ')
            return 0;
    }
    return k >= 3;
}

START_TEST(log_cannot_be_forged)
{
    /* A receiver that answers 503: its retries are logged too. */
    size_t k = ew_raw(&W, "down", "secret-down", 503);
    const struct e2e_receiver_conf rec[] = {{"down-hook", W.raw_url[k], W.raw_secret[k]}};
    w_start_daemon(rec, 1, "down-hook", NULL, 0);
    /* An empty batch is rejected as empty_batch, with its producer_id. */
    uint8_t *buf = NULL;
    size_t len = 0;
    must_ok(e2e_batch_pack(NULL, 0, "x\n" FORGED_LINE, &buf, &len));
    must_ok(e2e_send_frame(W.push, buf, len, NULL));
    free(buf);
    /* Forged lines, quotes and backslashes: 100 KB of them (refused before
     * decoding, as producer_id_too_long), then the longest id accepted
     * (256 bytes, which escaping makes longer than a value may be), with
     * an event of an unknown type (a second reason, so its first line is
     * logged too). */
    static const char unit[] = "\"\\\n" FORGED_LINE "\r\n";
    char *big = malloc(HUGE_PRODUCER + 1);
    must(big != NULL, "out of memory");
    for (size_t i = 0; i < HUGE_PRODUCER; i++)
        big[i] = unit[i % (sizeof(unit) - 1)];
    big[HUGE_PRODUCER] = '\0';
    struct e2e_event ev = {"team-f", "a@team-f.example", GMAIL, 99, mp_now_ms()};
    must_ok(e2e_batch_pack(&ev, 1, big, &buf, &len));
    must_ok(e2e_send_frame(W.push, buf, len, NULL));
    free(buf);
    ew_wait_log(&W, "msg=ingest_reject reason=producer_id_too_long ", 5000);
    big[BIG_PRODUCER] = '\0';
    must_ok(e2e_batch_pack(&ev, 1, big, &buf, &len));
    free(big);
    must_ok(e2e_send_frame(W.push, buf, len, NULL));
    free(buf);

    ew_wait_log(&W,
                "msg=ingest_reject reason=empty_batch producer=\"x\\n" FORGED_LINE
                "\" detail=\"batch has no events\" ",
                5000);
    ew_wait_log(&W, "msg=ingest_reject reason=type_unknown producer=\"\\\"\\\\\\nts=2026-", 5000);
    /* An alert for the 503 receiver: a retry names the HTTP status, not
     * libcurl's "No error". */
    must_ok(e2e_send_events(W.push, "team-f", "a@team-f.example", GMAIL, T_SENT, 1000,
                            mp_now_ms()));
    w_wait_accepted(1000);
    must_ok(e2e_send_events(W.push, "team-f", "a@team-f.example", GMAIL, T_BOUNCE_HARD, 80,
                            mp_now_ms()));
    ew_wait_log(&W, "msg=alert_retry receiver=\"down-hook\" status=503 err=\"http 503\" ",
                ALERT_MS);
    ew_stop_ok(&W, &W.daemon);
    must(!e2e_file_contains(W.daemon.err_path, "No error"), "a retry logged \"No error\"");

    char *log = NULL;
    size_t loglen = 0;
    must_ok(e2e_read_file(W.daemon.err_path, &log, &loglen));
    must(loglen > 0 && log[loglen - 1] == '\n', "the log does not end with a whole line");
    size_t nlines = 0, cut = 0;
    for (size_t at = 0; at < loglen; nlines++) {
        const char *l = log + at;
        size_t n = (size_t)((const char *)memchr(l, '\n', loglen - at) - l);
        at += n + 1;
        char msg[64] = "";
        must(n + 1 <= MP_LOG_LINE_MAX, "line %zu is %zu bytes", nlines + 1, n + 1);
        must(log_line_parses(l, n, msg, sizeof(msg)),
             "line %zu is not one key=value line:\n%.*s", nlines + 1, (int)n, l);
        must(strcmp(msg, "store_flush_failed") != 0, "a forged line got in:\n%.*s", (int)n, l);
        const char *p = memmem(l, n, " producer=\"", 11);
        if (p && memmem(l, n, "reason=type_unknown", 19)) {
            /* the 256-byte id: cut to its bound, with the count of the rest */
            const char *m = memmem(l, n, " bytes)\" detail=", 16);
            must(m != NULL, "the long producer_id is not cut:\n%.*s", (int)n, l);
            must((size_t)(m + 7 - (p + 10)) <= MP_LOG_VALUE_MAX + 2,
                 "the producer_id value is %zu bytes", (size_t)(m + 7 - (p + 10)));
            cut++;
        }
    }
    must(cut == 1, "%zu lines with the long producer_id", cut);
    must(nlines >= 7, "only %zu lines in the log", nlines); /* start, 3 rejects, alert, retry, stop */
    free(log);
    W.passed = 1;
}
END_TEST

/* ---- clean_sigterm -------------------------------------------------------- */

START_TEST(clean_sigterm)
{
    w_start_daemon(NULL, 0, NULL, NULL, 0);
    must_ok(e2e_send_events(W.push, "team-s", "a@team-s.example", GMAIL, T_SENT, 1000,
                            mp_now_ms()));
    w_wait_accepted(1000);

    int64_t t0 = mp_mono_ns();
    ew_stop_ok(&W, &W.daemon); /* exit 0 within EW_STOP_MS */
    double took_ms = (double)(mp_mono_ns() - t0) / 1e6;
    char tail[1500];
    e2e_file_tail(W.daemon.err_path, tail, sizeof(tail));
    must(e2e_file_contains(W.daemon.err_path, "msg=stopping signal=TERM"),
         "no \"msg=stopping signal=TERM\" in the log (stopped in %.0f ms); tail:\n%s", took_ms, tail);
    must(e2e_file_contains(W.daemon.err_path, "msg=stopped"),
         "no \"msg=stopped\" in the log (stopped in %.0f ms); tail:\n%s", took_ms, tail);
    W.passed = 1;
}
END_TEST

/* ---- config_refused ------------------------------------------------------- */

/* A config that is valid except for one unknown key at `line`. %s is the
 * pull endpoint. */
static const struct {
    const char *yaml;
    int line;
    const char *key;
} refused[] = {
    {"ingest:\n"
     "  pull: %s\n"
     "  workers: 2\n"
     "bogus_key: 1\n",
     4, "bogus_key"},
    {"ingest:\n"
     "  pull: %s\n"
     "http:\n"
     "  listn: 127.0.0.1:1\n",
     4, "http.listn"},
};

START_TEST(config_refused)
{
    char text[512], want[E2E_PATH_MAX + 128], tail[1500], state[64];
    snprintf(text, sizeof(text), refused[_i].yaml, W.pull);
    must_ok(e2e_write_file(W.cfg, text, W.err, sizeof(W.err)));
    char *argv[] = {W.mailpulsed, "-c", W.cfg, NULL};
    must_ok(e2e_run(&W.daemon, "mailpulsed", W.dir, argv, EW_STOP_MS, W.err, sizeof(W.err)));
    e2e_proc_describe(&W.daemon, state, sizeof(state));
    e2e_file_tail(W.daemon.err_path, tail, sizeof(tail));
    must(WIFEXITED(W.daemon.status) && WEXITSTATUS(W.daemon.status) != 0,
         "expected a non-zero exit for an unknown key, got %s; stderr:\n%s", state, tail);
    snprintf(want, sizeof(want), "%s:%d: %s: unknown key", W.cfg, refused[_i].line,
             refused[_i].key);
    must(e2e_file_contains(W.daemon.err_path, want), "stderr lacks \"%s\"; stderr:\n%s", want,
         tail);
    must(!e2e_file_contains(W.daemon.err_path, "msg=started"), "it started anyway:\n%s", tail);
    W.passed = 1;
}
END_TEST

/* ---- frame_limits ----------------------------------------------------------- */

#define FL_FRAME 4096 /* ingest.max_frame_bytes of this case */
#define FL_BATCH 50   /* ingest.max_batch_events */

/* One frame of n events of `tenant`, each with a 254-byte mailbox (about
 * 300 bytes an event) when `long_names`, else a short one. */
static uint8_t *fl_frame(const char *tenant, size_t n, int long_names, size_t *len)
{
    static char mbox[255];
    memset(mbox, 'm', 64);
    mbox[64] = '@';
    memset(mbox + 65, 'd', 189);
    for (int i = 0; i < 3; i++)
        mbox[65 + 60 * i + 59] = '.';
    mbox[254] = '\0';
    struct e2e_event ev[64];
    must(n <= MP_ARRAY_LEN(ev), "fl_frame: %zu events", n);
    for (size_t i = 0; i < n; i++)
        ev[i] = (struct e2e_event){tenant, long_names ? mbox : G_MAILBOX, G_DOMAIN, T_SENT,
                                   mp_now_ms()};
    uint8_t *buf = NULL;
    must_ok(e2e_batch_pack(ev, n, "e2e-limits", &buf, len));
    return buf;
}

/* The real daemon with a 4 KiB frame limit and 50 events a batch: a frame
 * over the limit and a batch over it are refused whole and counted; a frame
 * over twice the limit costs its sender the connection (ZMQ_MAXMSGSIZE);
 * a good tenant on another connection is served throughout, every event. */
START_TEST(frame_limits)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "data_dir: \"%s\"\ningest:\n  pull: \"%s\"\n  workers: 2\n"
             "  max_frame_bytes: %d\n  max_batch_events: %d\nhttp:\n  listen: \"%s\"\n",
             W.data, W.pull, FL_FRAME, FL_BATCH, W.http);
    must_ok(e2e_write_file(W.cfg, text, W.err, sizeof(W.err)));
    ew_spawn_daemon(&W);

    void *big = NULL;
    must_ok(e2e_push_open(W.zctx, W.pull, 5000, &big, W.err, sizeof(W.err)));
    size_t len;
    uint8_t *f = fl_frame("hog", 20, 1, &len); /* over the limit, under twice it */
    must(len > FL_FRAME && len <= 2 * FL_FRAME, "frame of %zu bytes", len);
    must_ok(e2e_send_frame(big, f, len, NULL));
    free(f);
    f = fl_frame("hog", FL_BATCH + 1, 0, &len); /* small, but one event too many */
    must(len <= FL_FRAME, "batch frame of %zu bytes", len);
    must_ok(e2e_send_frame(big, f, len, NULL));
    free(f);
    f = fl_frame("hog", 40, 1, &len); /* over twice the limit: the connection goes */
    must(len > 2 * FL_FRAME, "frame of %zu bytes", len);
    must_ok(e2e_send_frame(big, f, len, NULL));
    free(f);

    uint64_t good = 0, frames = 0;
    for (int i = 0; i < 20; i++, frames++) {
        f = fl_frame(G_TENANT, FL_BATCH, 0, &len); /* the edge: exactly the batch limit */
        must_ok(e2e_send_frame(W.push, f, len, NULL));
        good += FL_BATCH;
        free(f);
    }
    w_wait_accepted(good);
    ew_wait_metric(&W, "mailpulse_rejected_total{reason=\"frame_too_large\"}", 1, COUNT_MS);
    ew_wait_metric(&W, "mailpulse_rejected_total{reason=\"batch_too_large\"}", 1, COUNT_MS);
    usleep(200000);
    char *m = ew_metrics_text(&W);
    /* the dropped frame never arrived: only the two refused ones and the good */
    must(ew_metric_in(&W, m, "mailpulse_ingest_frames_total") == frames + 2 &&
             ew_metric_in(&W, m, "mailpulse_events_received_total") == good &&
             ew_metric_in(&W, m, "mailpulse_events_accepted_total") == good &&
             ew_metric_in(&W, m, "mailpulse_rejected_total{reason=\"frame_too_large\"}") == 1 &&
             ew_metric_in(&W, m, "mailpulse_rejected_total{reason=\"batch_too_large\"}") == 1,
         "/metrics after the limits:\n%s", m);
    free(m);
    must(e2e_file_contains(W.daemon.err_path, "msg=ingest_reject reason=frame_too_large "),
         "no frame_too_large line in the log");
    must(e2e_file_contains(W.daemon.err_path, "msg=ingest_reject reason=batch_too_large "),
         "no batch_too_large line in the log");

    /* still serving, on the good connection and on the hog's new one */
    f = fl_frame(G_TENANT, 10, 0, &len);
    must_ok(e2e_send_frame(W.push, f, len, NULL));
    free(f);
    w_wait_accepted(good + 10);
    long status = 0;
    must(e2e_http_get(W.healthz, 2000, &status, NULL) == MP_OK && status == 200,
         "daemon not healthy after the limits: /healthz %ld", status);
    zmq_close(big);
    ew_pass(&W);
}
END_TEST

/* ---- check_equals_start ------------------------------------------------------ */

/* Values that once passed --check and then broke the daemon (or its
 * history): each is refused, with file:line:key, by --check and by a start
 * alike, and the start never gets as far as "started". */
static const struct {
    const char *key, *value, *want; /* want follows "<cfg>:4: " */
} check_cases[] = {
    {"retention", "3000000000d", "engine.retention: expected a duration from 14d to 400d"},
    {"retention", "9223372036854775807ms", "engine.retention: expected a duration from 14d to 400d"},
    {"retention", "1h", "engine.retention: expected a duration from 14d to 400d, got \"1h\""},
    {"max_keys", "\"4096\"", "engine.max_keys: expected an integer 1024..268435456, got a quoted"},
};

START_TEST(check_equals_start)
{
    char text[512], want[E2E_PATH_MAX + 160], tail[1500], state[64];
    snprintf(text, sizeof(text), "ingest:\n  pull: %s\nengine:\n  %s: %s\n", W.pull,
             check_cases[_i].key, check_cases[_i].value);
    must_ok(e2e_write_file(W.cfg, text, W.err, sizeof(W.err)));
    snprintf(want, sizeof(want), "%s:4: %s", W.cfg, check_cases[_i].want);
    char *check[] = {W.mailpulsed, "-c", W.cfg, "--check", NULL};
    char *start[] = {W.mailpulsed, "-c", W.cfg, NULL};
    char **argvs[] = {check, start};
    for (int k = 0; k < 2; k++) {
        must_ok(e2e_run(&W.daemon, k ? "mailpulsed-start" : "mailpulsed-check", W.dir, argvs[k],
                        EW_STOP_MS, W.err, sizeof(W.err)));
        e2e_proc_describe(&W.daemon, state, sizeof(state));
        e2e_file_tail(W.daemon.err_path, tail, sizeof(tail));
        must(WIFEXITED(W.daemon.status) && WEXITSTATUS(W.daemon.status) == 1,
             "%s: expected exit 1, got %s; stderr:\n%s", k ? "start" : "--check", state, tail);
        must(e2e_file_contains(W.daemon.err_path, want), "%s: stderr lacks \"%s\":\n%s",
             k ? "start" : "--check", want, tail);
        must(!e2e_file_contains(W.daemon.err_path, "msg=started"), "it started anyway:\n%s", tail);
    }
    W.passed = 1;
}
END_TEST

START_TEST(help_exits_0)
{
    char state[64], out[1500];
    char *argv[] = {W.mailpulsed, "--help", NULL};
    must_ok(e2e_run(&W.daemon, "mailpulsed-help", W.dir, argv, EW_STOP_MS, W.err, sizeof(W.err)));
    e2e_proc_describe(&W.daemon, state, sizeof(state));
    e2e_file_tail(W.daemon.out_path, out, sizeof(out));
    must(WIFEXITED(W.daemon.status) && WEXITSTATUS(W.daemon.status) == 0,
         "mailpulsed --help: %s", state);
    must(e2e_file_contains(W.daemon.out_path, "usage: mailpulsed"), "no usage on stdout:\n%s", out);
    W.passed = 1;
}
END_TEST

EW_SUITE("e2e", 45, setup, teardown, {story_team_a_bad_list, 0}, {signature_verifies, 0},
         {garbage_then_valid, 0}, {clean_sigterm, 0}, {config_refused, (int)MP_ARRAY_LEN(refused)},
         {help_exits_0, 0}, {log_cannot_be_forged, 0}, {frame_limits, 0},
         {check_equals_start, (int)MP_ARRAY_LEN(check_cases)})
