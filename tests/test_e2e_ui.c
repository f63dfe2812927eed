/* test_e2e_ui.c — Check suite "e2e_ui": the web UI (/ui/, README "Web UI")
 * in a real browser against the real mailpulsed (tokens for an admin, acme
 * and beta; default rules; RocksDB in the case's temp dir).
 *
 * Case `team_a`: acme has 1,000 mailboxes with one send a day over 35 days
 * (the retention) and the Team A story's mailbox, sales@acme.example, with
 * 100 sent a day and a few hard bounces for 34 days, then 1,000 sent and 50
 * hard bounces now: 5% over the hour, over bounce_rate's 4% critical line.
 * beta has one mailbox. Once the alert fires (polled on /v1/alerts), the C
 * side checks the static files' manners (Content-Type, ETag and its 304,
 * the 308 from /ui, 404s for unknown and traversing names, no token needed),
 * and /v1/rules (beta's override of bounce_rate's lines for beta only,
 * acme's token kept out), then runs tests/ui_e2e.cjs: Debian's headless Chromium, driven by
 * playwright-core (from build/ui/node_modules, the UI build's own `npm ci`),
 * opens the page and checks the refusal pages, the overview (the alert
 * firing, the worst mailbox first), the 1h and 35d charts (their points
 * hold exactly the counts sent, the threshold lines drawn), a silence made
 * from the alert's button, and acme's token kept out of beta. The silence
 * it made must then be in /api/v2/silences, pinned to acme and the mailbox.
 * Before the browser, a DMARC aggregate report dated yesterday (200
 * messages from google.com for acme.example, 10 failing DMARC, DKIM and
 * SPF) is POSTed: the overview's authentication panel must show that row,
 * its 5% DMARC failures at the dmarc_fail_rate rule's critical line and
 * its per-day chart. acme's IPs 192.0.2.10 and 192.0.2.12 are watched on
 * zone bl.test, served by tests/dnsbl_server.py, which lists the first:
 * the blocklist panel must show one listed (with its code's meaning) and
 * one clean. After the silence the 1h chart must mark the alert's past
 * (fired) and the silence in force as a band.
 * The script's figures (overview and chart times) are printed; screenshots
 * go to $MP_ARTEFACTS_DIR/ui (the Makefile sets it under the build dir),
 * else to the case's temp dir.
 *
 * Programs come from $MP_BIN_DIR, the script from $MP_SRC_DIR. On failure
 * the temp dir is kept.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "auth_matrix.h"
#include "check_main.h"
#include "e2e_suite.h"
#include "eng_types.h"
#include "mp_buf.h"
#include "unit_util.h"

#define COUNT_MS 30000
#define ALERT_MS 15000
#define BROWSER_MS 90000
#define DAY_MS (24 * 3600 * 1000LL)
#define NDAYS 35
#define NMAILBOXES 1000
#define MB "sales@acme.example"

EW_FIXTURE("e2e-ui")

static int64_t sales_sent_on(int d) { return d == 0 ? 1000 : 100; }
static int64_t sales_bounced_on(int d) { return d == 0 ? 50 : d % 5; }

/* The history: one send a day for each of the 1,000 mailboxes (500 events a
 * frame), the sales mailbox's days, beta's one mailbox. */
static void feed(int64_t now)
{
    static char names[NMAILBOXES][32];
    struct e2e_event ev[E2E_EVENTS_PER_FRAME];
    size_t n = 0;
    for (int m = 0; m < NMAILBOXES; m++)
        snprintf(names[m], sizeof(names[m]), "m%04d@acme.example", m);
    for (int d = NDAYS - 1; d >= 0; d--)
        for (int m = 0; m < NMAILBOXES; m++) {
            ev[n++] = (struct e2e_event){"acme", names[m], "yahoo.com", ENG_SENT,
                                         now - d * DAY_MS};
            if (n == E2E_EVENTS_PER_FRAME) {
                ew_send_frame(&W, ev, n, NULL);
                n = 0;
            }
        }
    if (n)
        ew_send_frame(&W, ev, n, NULL);
    for (int d = NDAYS - 2; d >= 0; d--) {
        ew_send(&W, "acme", MB, "gmail.com", ENG_SENT, (size_t)sales_sent_on(d), now - d * DAY_MS);
        if (sales_bounced_on(d))
            ew_send(&W, "acme", MB, "gmail.com", ENG_BOUNCE_HARD, (size_t)sales_bounced_on(d),
                    now - d * DAY_MS);
    }
    ew_send(&W, "beta", "x@beta.example", "gmail.com", ENG_SENT, 100, now);
}

/* 1 once /v1/alerts lists bounce_rate firing for the sales mailbox. */
static int mailbox_firing(void)
{
    char *body = NULL;
    long st = ew_get_auth(&W, "/v1/alerts?tenant=acme", AUTH_TOKEN_ADMIN, &body);
    int yes = st == 200 && body && strstr(body, "\"mailbox\":\"" MB "\"") &&
              strstr(body, "\"status\":\"firing\"");
    free(body);
    return yes;
}

/* bounce_rate's lines in /v1/rules?tenant=T (admin), as "warning/critical". */
static void bounce_lines(const char *tenant, const char *token, const char *want)
{
    char path[96], got[64] = "";
    snprintf(path, sizeof(path), "/v1/rules?tenant=%s", tenant);
    char *body = NULL;
    long st = ew_get_auth(&W, path, token, &body);
    json_t *j = json_loads(body ? body : "", 0, NULL), *r;
    size_t i;
    must(st == 200 && j, "%s: %ld %.200s", path, st, body);
    json_array_foreach(json_object_get(j, "rules"), i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "name")), "bounce_rate") == 0)
            snprintf(got, sizeof(got), "%g/%g", json_real_value(json_object_get(r, "warning")),
                     json_real_value(json_object_get(r, "critical")));
    }
    must(strcmp(got, want) == 0, "%s: bounce_rate %s, expected %s", path, got, want);
    json_decref(j);
    free(body);
}

static void rules_per_tenant(void)
{
    bounce_lines("acme", AUTH_TOKEN_ADMIN, "0.02/0.04");
    bounce_lines("beta", AUTH_TOKEN_ADMIN, "0.03/0.06");
    bounce_lines("beta", AUTH_TOKEN_BETA, "0.03/0.06");
    char *body = NULL;
    must(ew_get_auth(&W, "/v1/rules?tenant=beta", AUTH_TOKEN_ACME, &body) == 404,
         "acme's token on beta's rules: %.200s", body);
    free(body);
}

/* GET path without a token, with headers: its status and the whole answer. */
static long raw_get(const char *path, const char *extra_header, char **head)
{
    char url[256];
    snprintf(url, sizeof(url), "http://%s%s", W.http, path);
    char *argv[] = {"/usr/bin/curl", "-s", "-i", "--path-as-is", "-H",
                    (char *)(extra_header ? extra_header : "X-None: 1"), url, NULL};
    struct e2e_proc p;
    memset(&p, 0, sizeof(p));
    must_ok(e2e_run(&p, "curl", W.dir, argv, 10000, W.err, sizeof(W.err)));
    must_ok(e2e_read_file(p.out_path, head, NULL));
    long st = 0;
    must(sscanf(*head, "HTTP/1.1 %ld", &st) == 1, "%s: no status line: %.200s", path, *head);
    return st;
}

static void static_files(void)
{
    char *h, etag[64] = "", hdr[96];
    must(raw_get("/ui/", NULL, &h) == 200, "/ui/: %.300s", h);
    must(strstr(h, "Content-Type: text/html; charset=utf-8\r\n") &&
             strstr(h, "Cache-Control: no-cache\r\n") && strstr(h, "<script type=\"module\""),
         "/ui/ headers or page: %.400s", h);
    const char *e = strstr(h, "ETag: ");
    must(e && sscanf(e, "ETag: %63s", etag) == 1 && etag[0] == '"', "/ui/ has no ETag");
    free(h);
    snprintf(hdr, sizeof(hdr), "If-None-Match: %s", etag);
    must(raw_get("/ui/index.html", hdr, &h) == 304, "If-None-Match %s: %.200s", etag, h);
    free(h);
    must(raw_get("/ui/app.js", NULL, &h) == 200 &&
             strstr(h, "Content-Type: text/javascript; charset=utf-8\r\n"),
         "/ui/app.js: %.300s", h);
    free(h);
    must(raw_get("/ui", NULL, &h) == 308 && strstr(h, "Location: /ui/\r\n"), "/ui: %.300s", h);
    free(h);
    const char *bad[] = {"/ui/../healthz", "/ui/%2e%2e/healthz", "/ui/nothing.js", "/uiapp.js", "/ui//index.html"};
    for (size_t i = 0; i < MP_ARRAY_LEN(bad); i++) {
        must(raw_get(bad[i], NULL, &h) == 404, "%s: %.200s", bad[i], h);
        free(h);
    }
}

/* Runs the browser script; its stdout's JSON figures (the caller's). */
static json_t *browser(const char *outdir)
{
    char src[E2E_PATH_MAX], script[E2E_PATH_MAX + 32], nodepath[E2E_PATH_MAX + 32];
    ew_src_dir(&W, src, "tests/ui_e2e.cjs");
    snprintf(script, sizeof(script), "%s/tests/ui_e2e.cjs", src);
    snprintf(nodepath, sizeof(nodepath), "%s/build/ui/node_modules", src);
    char base[128], s1[64], s35[64];
    int64_t sent35 = 0, bounced35 = 0;
    for (int d = 0; d < NDAYS - 1; d++) {
        sent35 += sales_sent_on(d);
        bounced35 += sales_bounced_on(d);
    }
    snprintf(base, sizeof(base), "http://%s", W.http);
    snprintf(s1, sizeof(s1), "%lld,%lld", (long long)sales_sent_on(0),
             (long long)sales_bounced_on(0));
    snprintf(s35, sizeof(s35), "%lld,%lld", (long long)sent35, (long long)bounced35);
    setenv("NODE_PATH", nodepath, 1);
    setenv("MP_UI_BASE", base, 1);
    setenv("MP_UI_OUT", outdir, 1);
    setenv("MP_UI_ADMIN", AUTH_TOKEN_ADMIN, 1);
    setenv("MP_UI_ACME", AUTH_TOKEN_ACME, 1);
    setenv("MP_UI_MAILBOX", MB, 1);
    setenv("MP_UI_SUM_1H", s1, 1);
    setenv("MP_UI_SUM_35D", s35, 1);
    char *argv[] = {"/usr/bin/env", "node", script, NULL};
    struct e2e_proc p;
    memset(&p, 0, sizeof(p));
    must_ok(e2e_run(&p, "ui_e2e", W.dir, argv, BROWSER_MS, W.err, sizeof(W.err)));
    char tail[2048];
    e2e_file_tail(p.err_path, tail, sizeof(tail));
    must(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0, "ui_e2e.cjs failed: %s", tail);
    char *out = NULL;
    must_ok(e2e_read_file(p.out_path, &out, NULL));
    json_t *j = json_loads(out, 0, NULL);
    must(json_is_object(j) && json_is_true(json_object_get(j, "ok")), "ui_e2e.cjs said %.300s",
         out);
    printf("e2e_ui figures: %s", out);
    free(out);
    return j;
}

/* The silence the page made is in /api/v2/silences, pinned to acme, the
 * rule and the mailbox, made by the page. */
static void silence_listed(const char *id)
{
    char *body = NULL, path[128];
    snprintf(path, sizeof(path), "/api/v2/silence/%s", id);
    must(ew_get_auth(&W, path, AUTH_TOKEN_ACME, &body) == 200, "%s: %.300s", path, body);
    must(strstr(body, "\"createdBy\":\"web-ui\"") && strstr(body, "\"value\":\"acme\"") &&
             strstr(body, "\"value\":\"bounce_rate\"") && strstr(body, "\"value\":\"" MB "\""),
         "the page's silence: %.600s", body);
    free(body);
    must(ew_get_auth(&W, "/api/v2/silences", AUTH_TOKEN_ADMIN, &body) == 200 && strstr(body, id),
         "/api/v2/silences lacks %s", id);
    free(body);
}

/* One report for acme.example (dmarc.tenant: acme), dated yesterday. */
static void post_dmarc(void)
{
    long long day = (mp_now_ms() / DAY_MS - 1) * 86400;
    char xml[4096], url[128], ans[512];
    const char *rec = "<record><row><source_ip>192.0.2.%d</source_ip><count>%d</count>"
                      "<policy_evaluated><disposition>none</disposition><dkim>%s</dkim>"
                      "<spf>%s</spf></policy_evaluated></row><identifiers><header_from>"
                      "acme.example</header_from></identifiers><auth_results><dkim><domain>"
                      "acme.example</domain><result>%s</result></dkim><spf><domain>"
                      "acme.example</domain><result>%s</result></spf></auth_results></record>";
    char r1[1024], r2[1024];
    snprintf(r1, sizeof(r1), rec, 10, 190, "pass", "pass", "pass", "pass");
    snprintf(r2, sizeof(r2), rec, 66, 10, "fail", "fail", "fail", "fail");
    snprintf(xml, sizeof(xml),
             "<?xml version=\"1.0\"?><feedback><report_metadata><org_name>google.com</org_name>"
             "<email>noreply-dmarc-support@google.com</email><report_id>ui-1</report_id>"
             "<date_range><begin>%lld</begin><end>%lld</end></date_range></report_metadata>"
             "<policy_published><domain>acme.example</domain><p>none</p></policy_published>"
             "%s%s</feedback>", day, day + 86399, r1, r2);
    snprintf(url, sizeof(url), "%s/v1/dmarc", W.base);
    struct unit_answer a;
    unit_http("POST", url, xml, strlen(xml), "Authorization: Bearer " AUTH_TOKEN_ADMIN, 30000, &a);
    snprintf(ans, sizeof(ans), "%s", a.body.p ? a.body.p : "");
    mp_buf_free(&a.body);
    must(a.status == 200 && strstr(ans, "\"status\":\"counted\""), "POST /v1/dmarc: %ld %s",
         a.status, ans);
}

START_TEST(team_a)
{
    /* beta's own bounce_rate lines: /v1/rules answers each tenant its own. */
    ew_rules_example(&W, "overrides:\n  - {tenant: beta, rule: bounce_rate, warning: 3%, critical: 6%}\n");
    ew_write_config(&W, (struct e2e_daemon_conf){
                            .rules = W.rules, .http_extra = "  metrics_open: true\n" AUTH_TOKENS_YAML});
    ew_append_config(&W, "dmarc:\n  tenant: acme\n");
    struct e2e_proc dns;
    uint16_t dport = ew_dns_start(&W, &dns);
    ew_zone_write(&W, "10.2.0.192.bl.test A 127.0.0.2\n");
    ew_append_config(&W,
                     "blocklists:\n  interval: 2s\n  timeout: 300ms\n  tries: 1\n"
                     "  resolver: \"127.0.0.1:%u\"\n  zones:\n    bl.test:\n      type: ip\n"
                     "      codes:\n        127.0.0.2: \"test listing: spam source\"\n"
                     "  tenants:\n    acme: {ips: [192.0.2.10, 192.0.2.12]}\n",
                     (unsigned)dport);
    ew_spawn_daemon(&W);
    /* Days are UTC days back from now: do not straddle midnight. */
    int64_t to_midnight = DAY_MS - mp_now_ms() % DAY_MS;
    if (to_midnight < 120000)
        usleep((useconds_t)(to_midnight + 1000) * 1000);
    feed(mp_now_ms());
    ew_wait_metric(&W, "mailpulse_events_accepted_total", W.sent, COUNT_MS);
    int64_t until = mp_now_ms() + ALERT_MS;
    while (!mailbox_firing() && mp_now_ms() < until)
        usleep(50 * 1000);
    must(mailbox_firing(), "bounce_rate never fired for " MB);
    static_files();
    rules_per_tenant();
    post_dmarc();

    char outdir[E2E_PATH_MAX + 8];
    const char *art = getenv("MP_ARTEFACTS_DIR");
    snprintf(outdir, sizeof(outdir), "%s/ui", art && *art ? art : W.dir);
    mkdir(art && *art ? art : W.dir, 0755);
    mkdir(outdir, 0755);
    json_t *fig = browser(outdir);
    silence_listed(json_string_value(json_object_get(fig, "silence_id")));
    must(json_integer_value(json_object_get(fig, "mailbox_rows")) >= NMAILBOXES,
         "the overview's mailbox rows: %lld",
         (long long)json_integer_value(json_object_get(fig, "mailbox_rows")));
    must(json_integer_value(json_object_get(fig, "chart_35d_points")) >= NDAYS - 1,
         "35d chart: %lld points",
         (long long)json_integer_value(json_object_get(fig, "chart_35d_points")));
    json_decref(fig);
    must(e2e_proc_signal_wait(&dns, SIGTERM, EW_STOP_MS) == MP_OK, "dnsbl_server did not stop");
    W.passed = 1;
}
END_TEST

EW_SUITE("e2e_ui", 150, setup, teardown, {team_a, 0})
