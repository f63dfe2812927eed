/* test_e2e_dmarc.c — Check suite "e2e_dmarc": DMARC aggregate reports into
 * the real daemon (POST /v1/dmarc, cmd/daemon/mp_dmarc.h) and out of it
 * (GET /v1/tenants/{t}/dmarc, the per-tenant scrape, /metrics).
 *
 * gate.tenants maps acme.example to acme, beta.example to beta and
 * gamma.example to gamma (which gets no report). Cases:
 *   reports_land_per_tenant
 *       Google's report inside a mail message (a zip attachment),
 *       Microsoft's as .gz, Yahoo's as plain XML: acme counts Google's and
 *       Microsoft's records (203 messages, 13 DMARC failures, per domain and
 *       provider), beta Yahoo's (17 rejected), gamma nothing; Google's
 *       report resent as .zip is a duplicate and changes nothing; a
 *       truncated gzip, a report without report_id, one dated in 2100 and
 *       one for a domain in no tenant are refused 400 with their reason, change nothing and are
 *       counted by reason; after a restart the counts are the same and the
 *       resend is still a duplicate; beta's scrape carries its dmarc
 *       series.
 *   cli_import
 *       `mailpulse dmarc import` of a .zip and a .gz, and `--mime -` from
 *       standard input (as a Postfix alias runs it): exit 0 and the
 *       counts land; the same message again is a duplicate (exit 0); a
 *       malformed file exits 1; a daemon that is not there exits 75.
 *   fixed_tenant
 *       with dmarc.tenant, a report for a domain in no gate.tenants list
 *       counts for that tenant (the provider named from an unknown
 *       org_name), a mapped one still for its own; a bad ?days= is 400; a
 *       tenant with DMARC counts and no events has a scrape of them alone.
 *   large_report
 *       a 20,000-record report (over 4 MB, past the 64 KiB other routes
 *       take) counts whole; a body over 16 MiB is 413 and changes nothing.
 *   concurrent_posts
 *       eight clients at once post the same two reports and one each of
 *       their own: every report counts exactly once, every post is 200.
 *   rules_fire_and_resolve
 *       the fixtures moved to yesterday (make.py --begin), with the default
 *       rules and a real webhook receiver: Google's report in a mail message
 *       (zip), Microsoft's as .gz and Yahoo's as .zip raise dmarc_fail_rate
 *       warning for acme, domain acme.example (5 of 195 messages, 2.6%),
 *       once, while mail.acme.example (8 messages, under the volume) and
 *       beta.example (20) stay quiet; Google's report resent changes
 *       nothing (no request); a new Google report with 1000 passing
 *       messages (5 of 1195: under the resolve line) resolves it.
 *   rules_reload
 *       a rules file with dmarc_fail_rate alone: Google's (zip) and
 *       Microsoft's (mail message, gzip) reports fire it for acme.example;
 *       an override raising acme's min_volume over its 195 messages and a
 *       SIGHUP resolve it.
 *   tenant_token
 *       with tokens, acme's token posts acme's report (200) but not beta's
 *       (403, nothing counted), and without a token the route is 401.
 */
#include <check.h>
#include <signal.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "auth_matrix.h"
#include "check_main.h"
#include "dmarc_fixture.h"
#include "e2e_suite.h"
#include "unit_util.h"

EW_FIXTURE("e2edm")

#define MIME "Content-Type: message/rfc822"
#define ACME "Authorization: Bearer " AUTH_TOKEN_ACME
#define GATE_YAML                                                                                \
    "gate:\n  tenants:\n    acme: [acme.example]\n    beta: [beta.example]\n"                    \
    "    gamma: [gamma.example]\n"

static void start(const char *http_extra)
{
    ew_write_config(&W, (struct e2e_daemon_conf){.http_extra = http_extra});
    ew_append_config(&W, GATE_YAML);
    ew_spawn_daemon(&W);
}

/* POSTs data to /v1/dmarc with one header line (NULL: none); the status,
 * the answer into out. */
static long post(const void *data, size_t len, const char *header, char *out, size_t outn)
{
    char url[256];
    struct unit_answer a;
    snprintf(url, sizeof(url), "%s/v1/dmarc", W.base);
    unit_http("POST", url, data, len, header, 30000, &a); /* sanitizer builds: slow */
    snprintf(out, outn, "%s", a.body.p ? a.body.p : "");
    mp_buf_free(&a.body);
    return a.status;
}

/* POSTs fixture `name`; the status must be `want` and the answer hold
 * `needle`. */
static void post_fx(const char *name, const char *header, long want, const char *needle)
{
    size_t len;
    char *data = dfx_load(name, &len), ans[4096];
    long st = post(data, len, header, ans, sizeof(ans));
    free(data);
    must(st == want && strstr(ans, needle), "POST %s: %ld %s (wanted %ld with %s)", name, st,
         ans, want, needle);
}

static void post_text(const char *body, long want, const char *needle)
{
    char ans[4096];
    long st = post(body, strlen(body), NULL, ans, sizeof(ans));
    must(st == want && strstr(ans, needle), "POST %.60s: %ld %s (wanted %ld with %s)", body, st,
         ans, want, needle);
}

/* totals[count] of the tenant over every kept day. */
static long long total(const char *tenant, const char *count)
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/tenants/%s/dmarc?days=3660", tenant);
    json_t *j = ew_get_json(&W, path, 200);
    json_t *v = json_object_get(json_object_get(j, "totals"), count);
    must(json_is_integer(v), "%s: totals.%s missing", path, count);
    long long n = (long long)json_integer_value(v);
    json_decref(j);
    return n;
}

/* The (domain, provider) entry's count under "domains". */
static long long by_domain(const char *tenant, const char *domain, const char *provider,
                           const char *count)
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/tenants/%s/dmarc?days=3660", tenant);
    json_t *j = ew_get_json(&W, path, 200), *d;
    size_t i;
    long long n = -1;
    json_array_foreach(json_object_get(j, "domains"), i, d)
    {
        if (!strcmp(json_string_value(json_object_get(d, "domain")), domain) &&
            !strcmp(json_string_value(json_object_get(d, "provider")), provider))
            n = (long long)json_integer_value(json_object_get(d, count));
    }
    json_decref(j);
    return n;
}

static void expect_counts(void)
{
    must(total("acme", "messages") == 203, "acme messages %lld", total("acme", "messages"));
    must(total("acme", "dmarc_fail") == 13, "acme dmarc_fail %lld", total("acme", "dmarc_fail"));
    must(total("acme", "disposition_quarantine") == 5, "acme quarantine");
    must(by_domain("acme", "acme.example", "google", "messages") == 150, "acme google");
    must(by_domain("acme", "acme.example", "google", "dkim_fail") == 30, "acme google dkim");
    must(by_domain("acme", "mail.acme.example", "google", "dmarc_fail") == 8, "acme mail.");
    must(by_domain("acme", "acme.example", "microsoft", "spf_fail") == 5, "acme microsoft");
    must(total("beta", "messages") == 20, "beta messages %lld", total("beta", "messages"));
    must(total("beta", "disposition_reject") == 17, "beta reject");
    must(total("gamma", "messages") == 0, "gamma stays zero");
}

START_TEST(reports_land_per_tenant)
{
    start(NULL);
    post_fx("google_acme.eml", MIME, 200, "\"status\":\"counted\"");
    post_fx("microsoft_acme.xml.gz", NULL, 200, "\"form\":\"gzip\"");
    post_fx("yahoo_beta.xml", NULL, 200, "\"tenant\":\"beta\"");
    expect_counts();
    /* resent, in another envelope: nothing changes */
    post_fx("google_acme.zip", NULL, 200, "\"status\":\"duplicate\"");
    /* refused, each with its reason, nothing counted */
    post_text("\x1f\x8b\x08\x00\x00\x00\x00\x00", 400, "gzip: truncated");
    post_text("<feedback><report_metadata><org_name>x</org_name></report_metadata></feedback>",
              400, "feedback/report_metadata/report_id: missing");
    post_text("<feedback><report_metadata><org_name>x</org_name><report_id>1</report_id>"
              "<date_range><begin>1</begin><end>2</end></date_range></report_metadata>"
              "<policy_published><domain>other.example</domain><p>none</p>"
              "</policy_published></feedback>",
              400, "other.example is in no tenant's gate.tenants list");
    post_text("<feedback><report_metadata><org_name>x</org_name><report_id>f</report_id>"
              "<date_range><begin>4102444800</begin><end>4102531199</end></date_range>"
              "</report_metadata><policy_published><domain>acme.example</domain><p>none</p>"
              "</policy_published></feedback>",
              400, "date_range/end: more than 2 days in the future");
    expect_counts();
    char *m = ew_metrics_text(&W);
    must(ew_metric_in(&W, m, "mailpulse_dmarc_reports_total{result=\"counted\"}") == 3, "counted");
    must(ew_metric_in(&W, m, "mailpulse_dmarc_reports_total{result=\"duplicate\"}") == 1, "dup");
    must(ew_metric_in(&W, m, "mailpulse_dmarc_refused_total{reason=\"envelope\"}") == 1, "env");
    must(ew_metric_in(&W, m, "mailpulse_dmarc_refused_total{reason=\"report\"}") == 2, "report");
    must(ew_metric_in(&W, m, "mailpulse_dmarc_refused_total{reason=\"tenant\"}") == 1, "tenant");
    free(m);
    /* a restart keeps the counts and the seen reports */
    ew_stop_ok(&W, &W.daemon);
    ew_spawn_daemon(&W);
    expect_counts();
    post_fx("microsoft_acme.eml", MIME, 200, "\"status\":\"duplicate\"");
    expect_counts();
    char *body = NULL;
    must(ew_get_auth(&W, "/v1/tenants/beta/metrics", NULL, &body) == 200, "beta scrape");
    must(strstr(body, "mailpulse_tenant_dmarc_disposition_reject_total{tenant=\"beta\","
                      "domain=\"beta.example\",provider=\"yahoo\"} 17\n") != NULL,
         "beta scrape: %.600s", body);
    free(body);
    ew_pass(&W);
}
END_TEST

/* Runs the CLI through sh (for the stdin redirect); its exit status. */
static int cli(const char *args)
{
    char src[E2E_PATH_MAX], cmd[3 * E2E_PATH_MAX];
    ew_src_dir(&W, src, "tests/fixtures/dmarc/make.py");
    snprintf(cmd, sizeof(cmd), "cd %s/tests/fixtures/dmarc && %s dmarc import --api %s %s", src,
             W.mailpulse, W.base, args);
    char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    must_ok(e2e_run(&W.cli, "cli", W.dir, argv, 10000, W.err, sizeof(W.err)));
    must(WIFEXITED(W.cli.status), "cli %s: not exited", args);
    return WEXITSTATUS(W.cli.status);
}

static int cli_out_has(const char *needle)
{
    return e2e_file_contains(W.cli.out_path, needle);
}

START_TEST(cli_import)
{
    start(NULL);
    must(cli("yahoo_beta.zip microsoft_acme.xml.gz") == 0, "import zip + gz");
    must(cli_out_has("yahoo_beta.zip: counted tenant=beta domain=beta.example"), "zip line");
    must(cli_out_has("microsoft_acme.xml.gz: counted tenant=acme"), "gz line");
    must(cli("--mime - < google_acme.eml") == 0, "import --mime -");
    must(cli_out_has("-: counted tenant=acme"), "mime line");
    must(cli("--mime - < google_acme.eml") == 0, "again");
    must(cli_out_has("-: duplicate tenant=acme"), "duplicate line");
    expect_counts();
    must(cli("make.py") == 1, "a file that is no report exits 1");
    must(e2e_file_contains(W.cli.err_path, "make.py: the daemon answered 400: body: not XML"),
         "its reason");
    expect_counts();
    /* nobody listening: try again later (a Postfix pipe keeps the mail) */
    char base[96];
    snprintf(base, sizeof(base), "%s", W.base);
    snprintf(W.base, sizeof(W.base), "http://127.0.0.1:%u", (unsigned)ew_port(&W));
    must(cli("yahoo_beta.xml") == 75, "no daemon: 75");
    snprintf(W.base, sizeof(W.base), "%s", base);
    ew_pass(&W);
}
END_TEST

START_TEST(tenant_token)
{
    start(AUTH_TOKENS_YAML);
    post_fx("google_acme.zip", NULL, 401, "token");
    post_fx("yahoo_beta.zip", ACME, 403,
            "beta.example is not this token's tenant's");
    post_fx("google_acme.zip", ACME, 200, "\"tenant\":\"acme\"");
    char *body = NULL;
    must(ew_get_auth(&W, "/v1/tenants/beta/dmarc?days=3660", AUTH_TOKEN_ACME, &body) == 404,
         "acme's token on beta's counts");
    free(body);
    must(ew_get_auth(&W, "/v1/tenants/beta/dmarc?days=3660", AUTH_TOKEN_ADMIN, &body) == 200 &&
             strstr(body, "\"totals\":{\"messages\":0,"),
         "beta has nothing: %.300s", body);
    free(body);
    must(ew_get_auth(&W, "/v1/tenants/acme/dmarc?days=3660", AUTH_TOKEN_ACME, &body) == 200 &&
             strstr(body, "\"totals\":{\"messages\":158,"),
         "acme's own: %.300s", body);
    free(body);
    ew_pass(&W);
}
END_TEST

START_TEST(fixed_tenant)
{
    ew_write_config(&W, (struct e2e_daemon_conf){0});
    ew_append_config(&W, GATE_YAML "dmarc:\n  tenant: gamma\n  retention_days: 3650\n");
    ew_spawn_daemon(&W);
    post_text("<feedback><report_metadata><org_name>Fastmail Pty Ltd</org_name>"
              "<report_id>fm-1</report_id><date_range><begin>1764547200</begin>"
              "<end>1764633599</end></date_range></report_metadata><policy_published>"
              "<domain>other.example</domain><p>reject</p></policy_published><record><row>"
              "<source_ip>192.0.2.77</source_ip><count>9</count><policy_evaluated>"
              "<disposition>reject</disposition><dkim>fail</dkim><spf>fail</spf>"
              "</policy_evaluated></row><identifiers><header_from>other.example</header_from>"
              "</identifiers></record></feedback>",
              200, "\"tenant\":\"gamma\"");
    post_fx("yahoo_beta.xml", NULL, 200, "\"tenant\":\"beta\""); /* the map still wins */
    must(total("gamma", "disposition_reject") == 9, "gamma reject");
    must(by_domain("gamma", "other.example", "fastmail-pty-ltd", "dmarc_fail") == 9, "by name");
    must(total("beta", "messages") == 20, "beta");
    json_decref(ew_get_json(&W, "/v1/tenants/gamma/dmarc?days=0", 400));
    /* gamma has no events: its scrape is the dmarc series alone */
    char *body = NULL;
    must(ew_get_auth(&W, "/v1/tenants/gamma/metrics", NULL, &body) == 200 &&
             strstr(body, "mailpulse_tenant_dmarc_messages_total{tenant=\"gamma\","
                          "domain=\"other.example\",provider=\"fastmail-pty-ltd\"} 9\n"),
         "gamma scrape: %.400s", body);
    free(body);
    ew_pass(&W);
}
END_TEST

/* A report of n records from n source IPs (one message each, DMARC
 * failing on the odd ones), as one malloc'd string. */
static char *big_report(int n, size_t *len)
{
    struct mp_buf b = MP_BUF_INIT;
    must_ok(mp_buf_puts(&b, "<?xml version=\"1.0\"?><feedback><report_metadata><org_name>"
                            "google.com</org_name><report_id>big-1</report_id><date_range>"
                            "<begin>1764547200</begin><end>1764633599</end></date_range>"
                            "</report_metadata><policy_published><domain>acme.example</domain>"
                            "<p>none</p></policy_published>"));
    for (int i = 0; i < n; i++)
        must_ok(mp_buf_printf(&b,
                              "<record><row><source_ip>10.%d.%d.%d</source_ip><count>1</count>"
                              "<policy_evaluated><disposition>none</disposition><dkim>%s</dkim>"
                              "<spf>fail</spf></policy_evaluated></row><identifiers><header_from>"
                              "acme.example</header_from></identifiers></record>",
                              (i >> 16) & 255, (i >> 8) & 255, i & 255, i % 2 ? "fail" : "pass"));
    must_ok(mp_buf_puts(&b, "</feedback>"));
    *len = b.len;
    return mp_buf_take(&b);
}

/* Larger than the 64 KiB of the other routes' bodies: a 20,000-record
 * report (about 5 MB) is taken whole; over 16 MiB is 413. */
START_TEST(large_report)
{
    start(NULL);
    size_t len;
    char *x = big_report(20000, &len), ans[4096];
    must(len > (4u << 20), "the report is %zu bytes", len);
    long st = post(x, len, NULL, ans, sizeof(ans));
    must(st == 200 && strstr(ans, "\"records\":20000"), "big: %ld %s", st, ans);
    must(total("acme", "messages") == 20000, "20000 messages");
    must(total("acme", "dmarc_fail") == 10000, "10000 fail");
    free(x);
    size_t huge = (16u << 20) + 1;
    char *h = malloc(huge);
    must(h != NULL, "malloc");
    memset(h, ' ', huge);
    h[0] = '<';
    st = post(h, huge, NULL, ans, sizeof(ans));
    must(st == 413, "16 MiB + 1: %ld %s", st, ans);
    free(h);
    must(total("acme", "messages") == 20000, "unchanged");
    ew_pass(&W);
}
END_TEST

#define RACERS 8

struct racer {
    char url[128], unique[1024];
    const char *zip, *xml;
    size_t zip_len, xml_len;
    long status[3];
};

static void *race(void *arg)
{
    struct racer *r = arg;
    struct unit_answer a;
    const char *bodies[3] = {r->zip, r->xml, r->unique};
    size_t lens[3] = {r->zip_len, r->xml_len, strlen(r->unique)};
    for (int i = 0; i < 3; i++) {
        unit_http("POST", r->url, bodies[i], lens[i], NULL, 10000, &a);
        r->status[i] = a.status;
        mp_buf_free(&a.body);
    }
    return NULL;
}

/* Eight clients at once, each posting the same two reports and one of
 * its own: each report counts exactly once (the seen check and the write
 * are one step), every post answers 200. */
START_TEST(concurrent_posts)
{
    start(NULL);
    size_t zl, xl;
    char *zip = dfx_load("google_acme.zip", &zl), *xml = dfx_load("yahoo_beta.xml", &xl);
    struct racer r[RACERS];
    for (int i = 0; i < RACERS; i++) {
        r[i] = (struct racer){.zip = zip, .xml = xml, .zip_len = zl, .xml_len = xl};
        snprintf(r[i].url, sizeof(r[i].url), "%s/v1/dmarc", W.base);
        snprintf(r[i].unique, sizeof(r[i].unique),
                 "<feedback><report_metadata><org_name>Yahoo</org_name><report_id>u-%d"
                 "</report_id><date_range><begin>1764547200</begin><end>1764633599</end>"
                 "</date_range></report_metadata><policy_published><domain>acme.example"
                 "</domain><p>none</p></policy_published><record><row><source_ip>192.0.2.%d"
                 "</source_ip><count>5</count><policy_evaluated><disposition>none"
                 "</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row>"
                 "<identifiers><header_from>acme.example</header_from></identifiers>"
                 "</record></feedback>",
                 i, i + 1);
    }
    unit_threads_run(RACERS, race, r, sizeof(r[0]));
    for (int i = 0; i < RACERS; i++)
        for (int k = 0; k < 3; k++)
            must(r[i].status[k] == 200, "racer %d post %d: %ld", i, k, r[i].status[k]);
    must(total("acme", "messages") == 158 + RACERS * 5, "acme %lld", total("acme", "messages"));
    must(by_domain("acme", "acme.example", "yahoo", "messages") == RACERS * 5, "acme yahoo");
    must(total("beta", "messages") == 20, "beta %lld", total("beta", "messages"));
    char *m = ew_metrics_text(&W);
    must(ew_metric_in(&W, m, "mailpulse_dmarc_reports_total{result=\"counted\"}") == 2 + RACERS,
         "counted");
    must(ew_metric_in(&W, m, "mailpulse_dmarc_reports_total{result=\"duplicate\"}") ==
             2 * (RACERS - 1),
         "duplicates");
    free(m);
    free(zip);
    free(xml);
    ew_pass(&W);
}
END_TEST

/* The dmarc_fail_rate alerts with `status` in every request receiver k got
 * so far, for (tenant, domain, reporter NULL: none); all of them into *any. */
static size_t dmarc_alerts(size_t k, const char *status, const char *tenant, const char *domain,
                           size_t *any)
{
    size_t n = 0, all = 0;
    for (size_t i = 0; i < hrx_count(W.raw[k]); i++) {
        json_t *b = ew_req_json(&W, ew_req(&W, k, i)), *a;
        size_t j;
        json_array_foreach(json_object_get(b, "alerts"), j, a)
        {
            json_t *l = json_object_get(a, "labels");
            if (!ew_streq(ew_jstr(l, "alertname"), "dmarc_fail_rate") ||
                !ew_streq(ew_jstr(a, "status"), status))
                continue;
            all++;
            n += ew_streq(ew_jstr(l, "tenant"), tenant) && ew_streq(ew_jstr(l, "domain"), domain) &&
                 json_object_get(l, "reporter") == NULL;
        }
        json_decref(b);
    }
    if (any)
        *any = all;
    return n;
}

/* Waits until receiver k has had no request for quiet_ms; its count. */
static size_t settle(size_t k, int quiet_ms)
{
    size_t n = hrx_count(W.raw[k]);
    for (int stable = 0; stable < quiet_ms; stable += 100) {
        usleep(100000);
        if (hrx_count(W.raw[k]) != n) {
            n = hrx_count(W.raw[k]);
            stable = 0;
        }
    }
    return n;
}

static void post_file(const char *name, const char *header, long want, const char *needle)
{
    char path[E2E_PATH_MAX + 64], ans[4096];
    snprintf(path, sizeof(path), "%s/%s", W.dir, name);
    FILE *f = fopen(path, "rb");
    must(f != NULL, "cannot open %s", path);
    static char data[1 << 16];
    size_t len = fread(data, 1, sizeof(data), f);
    fclose(f);
    long st = post(data, len, header, ans, sizeof(ans));
    must(st == want && strstr(ans, needle), "POST %s: %ld %s (wanted %ld with %s)", name, st,
         ans, want, needle);
}

/* The fixtures with their dates moved to yesterday, into W.dir; the day. */
static long long moved_fixtures(void)
{
    char src[E2E_PATH_MAX], script[E2E_PATH_MAX + 64], begin[24];
    long long day = (long long)(time(NULL) / 86400 - 1) * 86400;
    ew_src_dir(&W, src, "tests/fixtures/dmarc/make.py");
    snprintf(script, sizeof(script), "%s/tests/fixtures/dmarc/make.py", src);
    snprintf(begin, sizeof(begin), "%lld", day);
    char *argv[] = {"/usr/bin/python3", script, "--begin", begin, "--out", W.dir, NULL};
    must_ok(e2e_run(&W.cli, "make_fixtures", W.dir, argv, 20000, W.err, sizeof(W.err)));
    must(WIFEXITED(W.cli.status) && WEXITSTATUS(W.cli.status) == 0, "make.py failed");
    return day;
}

/* A receiver "dm-hook" and the daemon (rules: that file, NULL: the defaults). */
static size_t start_hooked(const char *rules)
{
    size_t k = ew_raw(&W, "dm", "secret-dm", 200);
    const struct e2e_receiver_conf rec[] = {{"dm-hook", W.raw_url[k], W.raw_secret[k]}};
    ew_write_config(&W, (struct e2e_daemon_conf){.receivers = rec, .nreceivers = 1,
                                                 .default_route = "dm-hook", .rules = rules});
    ew_append_config(&W, GATE_YAML);
    ew_spawn_daemon(&W);
    return k;
}

/* Waits up to 20 s for a dmarc_fail_rate alert of acme.example with status. */
static void wait_acme(size_t k, const char *status)
{
    int64_t deadline = mp_mono_ns() + 20000 * 1000000LL;
    while (dmarc_alerts(k, status, "acme", "acme.example", NULL) == 0 && mp_mono_ns() < deadline)
        usleep(50000);
    must(dmarc_alerts(k, status, "acme", "acme.example", NULL) >= 1,
         "no %s dmarc_fail_rate for acme.example in %zu requests", status, hrx_count(W.raw[k]));
}

START_TEST(rules_fire_and_resolve)
{
    char xml[2048];
    long long day = moved_fixtures();
    size_t k = start_hooked(NULL), any = 0;
    post_file("google_acme.eml", MIME, 200, "\"status\":\"counted\"");
    post_file("microsoft_acme.xml.gz", NULL, 200, "\"form\":\"gzip\"");
    post_file("yahoo_beta.zip", NULL, 200, "\"tenant\":\"beta\"");
    wait_acme(k, "firing");
    size_t seen = settle(k, 2500);
    must(dmarc_alerts(k, "firing", "acme", "acme.example", &any) >= 1,
         "no dmarc_fail_rate for acme.example in %zu requests", seen);
    must(any == dmarc_alerts(k, "firing", "acme", "acme.example", NULL),
         "dmarc_fail_rate fired for another domain, tenant or reporter (%zu alerts)", any);
    json_t *act = ew_get_json(&W, "/v1/alerts", 200), *a;
    size_t i, listed = 0;
    json_array_foreach(json_object_get(act, "alerts"), i, a)
    {
        json_t *l = json_object_get(a, "labels");
        if (!ew_streq(ew_jstr(l, "alertname"), "dmarc_fail_rate"))
            continue;
        listed++;
        must(ew_streq(ew_jstr(l, "severity"), "warning") && ew_streq(ew_jstr(l, "tenant"), "acme") &&
                 ew_streq(ew_jstr(l, "domain"), "acme.example"),
             "/v1/alerts: a dmarc_fail_rate alert not acme's acme.example warning");
    }
    json_decref(act);
    must(listed == 1, "/v1/alerts lists %zu dmarc_fail_rate alerts", listed);

    /* resent: counted before, nothing changes, nobody is told */
    post_file("google_acme.zip", NULL, 200, "\"status\":\"duplicate\"");
    must(settle(k, 2500) == seen, "a resent report sent a notification");

    /* more passing messages: 5 of 1195 is under the resolve line (0.9%) */
    snprintf(xml, sizeof(xml),
             "<?xml version=\"1.0\"?><feedback><report_metadata><org_name>google.com</org_name>"
             "<email>noreply-dmarc-support@google.com</email><report_id>resolve-1</report_id>"
             "<date_range><begin>%lld</begin><end>%lld</end></date_range></report_metadata>"
             "<policy_published><domain>acme.example</domain><p>none</p></policy_published>"
             "<record><row><source_ip>192.0.2.44</source_ip><count>1000</count>"
             "<policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf>"
             "</policy_evaluated></row><identifiers><header_from>acme.example</header_from>"
             "</identifiers><auth_results><dkim><domain>acme.example</domain><result>pass"
             "</result></dkim><spf><domain>acme.example</domain><result>pass</result></spf>"
             "</auth_results></record></feedback>",
             day, day + 86399);
    post_text(xml, 200, "\"status\":\"counted\"");
    wait_acme(k, "resolved");
    ew_pass(&W);
}
END_TEST

#define DMARC_RULE                                                                            \
    "rules:\n  - name: dmarc_fail_rate\n    kind: dmarc_rate\n    count: dmarc_fail\n"         \
    "    min_volume: 100\n    warning: 1%\n    critical: 5%\n"

static void write_rules(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    must(f && fputs(text, f) >= 0 && fclose(f) == 0, "cannot write %s", path);
}

START_TEST(rules_reload)
{
    char rules[E2E_PATH_MAX + 16];
    moved_fixtures();
    snprintf(rules, sizeof(rules), "%s/rules.yaml", W.dir);
    write_rules(rules, DMARC_RULE);
    size_t k = start_hooked(rules);
    post_file("google_acme.zip", NULL, 200, "\"status\":\"counted\"");
    post_file("microsoft_acme.eml", MIME, 200, "\"status\":\"counted\"");
    wait_acme(k, "firing");
    /* acme's override asks for more messages than its 195: the reload resolves it */
    write_rules(rules, DMARC_RULE "overrides:\n  - tenant: acme\n    rule: dmarc_fail_rate\n"
                                  "    min_volume: 1000\n");
    must(kill(W.daemon.pid, SIGHUP) == 0, "kill SIGHUP: %s", strerror(errno));
    ew_wait_log(&W, "reloaded rules=1", 5000);
    wait_acme(k, "resolved");
    ew_pass(&W);
}
END_TEST

EW_SUITE("e2e_dmarc", 60, setup, teardown, {reports_land_per_tenant, 0}, {cli_import, 0},
         {rules_fire_and_resolve, 0}, {rules_reload, 0},
         {tenant_token, 0}, {fixed_tenant, 0}, {large_report, 0}, {concurrent_posts, 0})
