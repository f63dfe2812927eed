/* test_mp_api.c — Check suite "mp_api": cmd/daemon/mp_api, the daemon's
 * HTTP routes, served for real over the parts they read (a key table, an
 * ingest endpoint, an evaluator with the default rules and a sender with no
 * receivers), asked through the CLI's API client.
 *
 * /healthz answers {"status":"ok"}; /metrics is the exposition of the live
 * figures; the stats route answers a tenant with events and 404s one
 * without; /v1/alerts and /v1/alerts/dead answer their lists and refuse
 * bad, unknown and repeated query parameters with 400 (one error helper,
 * one {"error": ...} shape); other paths 404 and other methods 405.
 */
#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "alert_eval.h"
#include "alert_rule.h"
#include "alert_sender.h"
#include "check_main.h"
#include "cli_api.h"
#include "e2e_harness.h"
#include "eng_table.h"
#include "ingest_worker.h"
#include "mp_api.h"
#include "mp_log.h"

#define DAY (24 * 3600 * 1000LL)

static struct {
    void *zctx;
    struct mp_metrics_flush flush;
    struct mp_metrics_sources src;
    struct mp_http *http;
    char base[64];
} W;

static void setup(void)
{
    char err[512] = "";
    memset(&W, 0, sizeof(W));
    curl_global_init(CURL_GLOBAL_DEFAULT);
    mp_log_set_level(MP_LOG_WARN);
    struct eng_table_opts to = {.max_keys = 4096, .retention_ms = 35 * DAY};
    ck_assert_int_eq(eng_table_create(&to, mp_now_ms(), &W.src.table), MP_OK);
    struct alert_sender_opts so = {.backoff_ms = 50, .backoff_max_ms = 200, .timeout_ms = 1000,
                                   .max_age_ms = 60000, .slack_interval_ms = 1000};
    ck_assert_int_eq(alert_sender_start(NULL, 0, &so, &W.src.sender), MP_OK);
    struct alert_ruleset *rules = NULL;
    struct alert_routes *routes = NULL;
    ck_assert_int_eq(alert_ruleset_defaults(&rules), MP_OK);
    ck_assert_int_eq(alert_routes_create(&routes), MP_OK);
    ck_assert_int_eq(alert_routes_set_default(routes, NULL, 0), MP_OK);
    struct alert_eval_opts eo = {.rules = rules, .routes = routes, .max_keys = 4096,
                                 .group_interval_ms = 1000};
    ck_assert_int_eq(alert_eval_start(W.src.table, W.src.sender, &eo, &W.src.eval), MP_OK);
    W.zctx = zmq_ctx_new();
    ck_assert_ptr_nonnull(W.zctx);
    struct ingest_opts io = {.pull_endpoint = "inproc://test_mp_api", .workers = 1,
                             .limits = {.retention_ms = 35 * DAY, .future_ms = 60000}};
    ck_assert_msg(ingest_start(W.src.table, W.zctx, &io, &W.src.ingest, err, sizeof(err)) ==
                      MP_OK,
                  "%s", err);
    W.src.flush = &W.flush;
    W.src.started_ms = mp_now_ms();
    for (int attempt = 0; attempt < 10 && !W.http; attempt++) {
        uint16_t port;
        char listen[32];
        ck_assert_int_eq(e2e_free_port(&port, NULL, 0, err, sizeof(err)), MP_OK);
        snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)port);
        snprintf(W.base, sizeof(W.base), "http://%s", listen);
        int rc = mp_api_start(listen, &W.src, &W.http, err, sizeof(err));
        ck_assert_msg(rc == MP_OK || rc == MP_ERR_IO, "%s", err);
    }
    ck_assert_msg(W.http != NULL, "%s", err);
}

static void teardown(void)
{
    mp_http_stop(W.http);
    ingest_stop(W.src.ingest);
    alert_eval_stop(W.src.eval);
    alert_sender_stop(W.src.sender, 100);
    zmq_ctx_term(W.zctx);
    eng_table_destroy(W.src.table);
    curl_global_cleanup();
}

/* GET base+path; returns the status, *body (caller frees). */
static long get(const char *path, char **body)
{
    char url[512], err[256] = "";
    long status = 0;
    snprintf(url, sizeof(url), "%s%s", W.base, path);
    ck_assert_msg(cli_api_get(url, 5000, &status, body, err, sizeof(err)) == MP_OK, "%s: %s",
                  url, err);
    return status;
}

static void expect(const char *path, long status, const char *want)
{
    char *body = NULL;
    long got = get(path, &body);
    ck_assert_msg(got == status, "%s: %ld, expected %ld: %s", path, got, status, body);
    ck_assert_msg(strstr(body, want) != NULL, "%s: no \"%s\" in %s", path, want, body);
    free(body);
}

/* n events pushed to the ingest endpoint, as a producer would; returns once
 * ingest has counted them (so the figures and the table show them). */
static void push(const char *tenant, int wire_type, size_t n)
{
    char err[256] = "";
    void *sock = NULL;
    struct ingest_figures f0, f;
    ingest_figures(W.src.ingest, &f0);
    ck_assert_msg(e2e_push_open(W.zctx, "inproc://test_mp_api", 1000, &sock, err,
                                sizeof(err)) == MP_OK,
                  "%s", err);
    ck_assert_int_eq(e2e_send_events(sock, tenant, "m@x.example", "gmail.com", wire_type, n,
                                     mp_now_ms()),
                     MP_OK);
    zmq_close(sock);
    for (int i = 0; i < 500; i++) {
        ingest_figures(W.src.ingest, &f);
        if (f.accepted >= f0.accepted + n)
            return;
        usleep(10 * 1000);
    }
    ck_abort_msg("ingest counted %llu of %zu events in 5 s",
                 (unsigned long long)(f.accepted - f0.accepted), n);
}

START_TEST(healthz_and_metrics)
{
    char *body = NULL;
    ck_assert_int_eq(get("/healthz", &body), 200);
    ck_assert_str_eq(body, "{\"status\":\"ok\"}");
    free(body);
    push("acme", 1 /* EVENT_TYPE_SENT */, 3);
    mp_metrics_flush_record(&W.flush, 7, 2000000, 1);
    ck_assert_int_eq(get("/metrics", &body), 200);
    uint64_t v = 0;
    ck_assert_int_eq(e2e_metric(body, "mailpulse_keys", &v), MP_OK);
    ck_assert_uint_eq(v, 3); /* tenant, mailbox and domain keys */
    ck_assert_int_eq(e2e_metric(body, "mailpulse_store_flush_entries_total", &v), MP_OK);
    ck_assert_uint_eq(v, 7);
    ck_assert_int_eq(e2e_metric(body, "mailpulse_ingest_frames_total", &v), MP_OK);
    ck_assert_uint_eq(v, 1);
    ck_assert_int_eq(e2e_metric(body, "mailpulse_events_accepted_total", &v), MP_OK);
    ck_assert_uint_eq(v, 3);
    ck_assert_ptr_nonnull(strstr(body, "\nmailpulse_store_flush_last_seconds 0.002000\n"));
    free(body);
}
END_TEST

START_TEST(stats_route)
{
    push("acme", 1 /* EVENT_TYPE_SENT */, 4);
    expect("/v1/tenants/acme/stats?window=1h", 200, "\"sent\":4");
    expect("/v1/tenants/nobody/stats", 404, "\"error\":");
    expect("/v1/tenants/acme/stats?windw=1h", 400, "unknown query parameter");
}
END_TEST

START_TEST(alerts_routes)
{
    expect("/v1/alerts", 200, "{\"alerts\":[]");
    expect("/v1/alerts?tenant=acme", 200, "\"alerts\":");
    expect("/v1/alerts/dead?tenant=acme&limit=5", 200, "\"dead\":");
    expect("/v1/alerts?tenant=bad%20name", 400,
           "{\"error\":\"bad or repeated query parameter \\\"tenant\\\"; allowed: tenant=NAME "
           "(1..64 of A-Z a-z 0-9 . _ -)\"}");
    expect("/v1/alerts?tenant=a&tenant=b", 400, "bad or repeated query parameter \\\"tenant\\\"");
    expect("/v1/alerts?limit=5", 400, "query parameter \\\"limit\\\""); /* /dead only */
    expect("/v1/alerts/dead?limit=0", 400, "limit=1..999999");
    expect("/v1/alerts/dead?limit=1000000", 400, "limit=1..999999");
    expect("/v1/alerts/dead?limit=5x", 400, "limit=1..999999");
    expect("/v1/alerts/dead?x", 400, "\\\"x\\\"");
    expect("/v1/alerts/other", 404, "{\"error\":\"no such path\"}");
    expect("/v2", 404, "{\"error\":\"no such path\"}");
}
END_TEST

START_TEST(other_methods)
{
    char url[128];
    snprintf(url, sizeof(url), "%s/metrics", W.base);
    CURL *e = curl_easy_init();
    ck_assert_ptr_nonnull(e);
    FILE *devnull = fopen("/dev/null", "w");
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, "x");
    curl_easy_setopt(e, CURLOPT_WRITEDATA, devnull);
    ck_assert_int_eq(curl_easy_perform(e), CURLE_OK);
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    ck_assert_int_eq(status, 405);
    curl_easy_cleanup(e);
    fclose(devnull);
}
END_TEST

Suite *test_suite(void)
{
    return check_suite("mp_api", 30, setup, teardown,
                       CHECK_TESTS(healthz_and_metrics, stats_route, alerts_routes,
                                   other_methods));
}
