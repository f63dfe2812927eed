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
 *
 * Authentication, on a second server over the same parts with an admin
 * token and tokens for acme and beta: every route x {no token, a bad
 * token, admin, acme, beta} answers its status (401 with WWW-Authenticate,
 * 403 for a tenant on /metrics, 404 for a foreign tenant); a foreign
 * tenant's 404 is byte for byte the 404 of a tenant that does not exist
 * (asked before and after beta has events); /healthz stays open;
 * metrics_open opens /metrics only; an open API refuses a non-loopback
 * listen, an API with tokens takes it. The send gate's routes (/v1/gate,
 * /v1/gate/pauses) are rows of the same matrix.
 */
#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zmq.h>

#include "alert_eval.h"
#include "alert_rule.h"
#include "alert_sender.h"
#include "auth_matrix.h"
#include "check_main.h"
#include "cli_api.h"
#include "e2e_harness.h"
#include "eng_table.h"
#include "ingest_worker.h"
#include "mp_api.h"
#include "mp_auth.h"
#include "mp_gate.h"
#include "mp_buf.h"
#include "mp_log.h"

#define DAY (24 * 3600 * 1000LL)

static struct {
    void *zctx;
    struct mp_metrics_flush flush;
    struct mp_metrics_sources src;
    struct mp_api *http;
    char base[64];
    char adir[512]; /* the alerts store's directory (past alerts are read from it) */
} W;

#define T_ADMIN "Bearer admin-0123456789abcdef"
#define T_ACME "Bearer acme-0123456789abcdef"
#define T_BETA "Bearer beta-0123456789abcdef"
#define T_BAD "Bearer nobody-0123456789abcdef"

/* An API over W.src on a free port of `host`; base gets its URL. */
static void start_api(const char *host, const struct mp_auth *auth, struct mp_api **api,
                      char *base, size_t n)
{
    char err[512] = "";
    *api = NULL;
    for (int attempt = 0; attempt < 10 && !*api; attempt++) {
        uint16_t port;
        char listen[32];
        ck_assert_int_eq(e2e_free_port(&port, NULL, 0, err, sizeof(err)), MP_OK);
        snprintf(listen, sizeof(listen), "%s:%u", host, (unsigned)port);
        snprintf(base, n, "http://127.0.0.1:%u", (unsigned)port);
        int rc = mp_api_start(listen, &W.src, auth, api, err, sizeof(err));
        ck_assert_msg(rc == MP_OK || rc == MP_ERR_IO, "%s", err);
    }
    ck_assert_msg(*api != NULL, "%s", err);
}

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
    ck_assert_int_eq(alert_silences_open(NULL, NULL, NULL, &W.src.silences, err, sizeof(err)),
                     MP_OK);
    struct alert_eval_opts eo = {.rules = rules, .routes = routes, .max_keys = 4096,
                                 .group_interval_ms = 1000, .silences = W.src.silences};
    ck_assert_int_eq(alert_eval_start(W.src.table, W.src.sender, &eo, &W.src.eval), MP_OK);
    static const struct mp_gate_conf gc = {.cool_down_ms = 60000};
    static const struct mp_providers_conf pc = {0};
    ck_assert_msg(mp_gate_start(&gc, &pc, W.src.eval, W.src.silences, &W.src.gate, err,
                                sizeof(err)) == MP_OK, "%s", err);
    W.zctx = zmq_ctx_new();
    ck_assert_ptr_nonnull(W.zctx);
    struct ingest_opts io = {.pull_endpoint = "inproc://test_mp_api", .workers = 1,
                             .limits = {.retention_ms = 35 * DAY, .future_ms = 60000}};
    ck_assert_msg(ingest_start(W.src.table, W.zctx, &io, &W.src.ingest, err, sizeof(err)) ==
                      MP_OK,
                  "%s", err);
    W.src.flush = &W.flush;
    W.src.started_ms = mp_now_ms();
    ck_assert_int_eq(e2e_tmpdir_create("mpapi", W.adir, sizeof(W.adir), err, sizeof(err)), MP_OK);
    ck_assert_msg(eng_store_open(W.adir, &W.src.astore, err, sizeof(err)) == MP_OK, "%s", err);
    start_api("127.0.0.1", NULL, &W.http, W.base, sizeof(W.base));
}

static void teardown(void)
{
    mp_api_stop(W.http);
    ingest_stop(W.src.ingest);
    mp_gate_stop(W.src.gate);
    alert_eval_stop(W.src.eval);
    alert_sender_stop(W.src.sender, 100);
    alert_silences_free(W.src.silences);
    eng_store_close(W.src.astore);
    e2e_tmpdir_remove(W.adir);
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
    ck_assert_uint_eq(v, 5); /* tenant, mailbox, domain, provider, mailbox_provider keys */
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

/* ---- authentication ------------------------------------------------------ */

struct hdrs {
    char www[256];
};

static size_t on_body(char *b, size_t size, size_t n, void *arg)
{
    return mp_buf_append(arg, b, size * n) == MP_OK ? size * n : 0;
}

static size_t on_header(char *b, size_t size, size_t n, void *arg)
{
    struct hdrs *h = arg;
    size_t len = size * n;
    if (len > 17 && strncasecmp(b, "WWW-Authenticate:", 17) == 0)
        snprintf(h->www, sizeof(h->www), "%.*s", (int)(len - 17), b + 17);
    return len;
}

/* GET base+path with header `auth` (NULL: none): the status; *body is the
 * caller's; www receives the WWW-Authenticate header ("" without one). */
static long aget(const char *base, const char *path, const char *auth, char **body,
                 char *www, size_t wn)
{
    char url[512];
    struct mp_buf b = MP_BUF_INIT;
    struct hdrs h = {""};
    struct curl_slist *hl = NULL;
    char line[256];
    snprintf(url, sizeof(url), "%s%s", base, path);
    CURL *e = curl_easy_init();
    ck_assert_ptr_nonnull(e);
    if (auth) {
        snprintf(line, sizeof(line), "Authorization: %s", auth);
        hl = curl_slist_append(NULL, line);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
    }
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &h);
    ck_assert_msg(curl_easy_perform(e) == CURLE_OK, "%s", url);
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(e);
    curl_slist_free_all(hl);
    *body = mp_buf_take(&b);
    ck_assert_ptr_nonnull(*body);
    mp_buf_free(&b);
    if (www)
        snprintf(www, wn, "%s", h.www);
    return status;
}

static struct mp_auth *auth_new(int metrics_open)
{
    struct mp_auth_tenant_conf t[] = {{"acme", (char *)T_ACME + 7}, {"beta", (char *)T_BETA + 7}};
    struct mp_auth_conf c = {.admin = (char *)T_ADMIN + 7, .n_tenants = 2, .tenants = t,
                             .metrics_open = metrics_open};
    struct mp_auth *a = NULL;
    ck_assert_int_eq(mp_auth_create(&c, &a), MP_OK);
    return a;
}

static const char *const tokens[AUTH_NWHO] = {NULL, T_BAD, T_ADMIN, T_ACME, T_BETA};

/* What acme's token gets for beta's stats and alerts, in one string. */
static char *acme_view_of_beta(const char *base)
{
    static const char *paths[] = {"/v1/tenants/beta/stats", "/v1/alerts?tenant=beta",
                                  "/v1/alerts/dead?tenant=beta"};
    struct mp_buf all = MP_BUF_INIT;
    for (size_t i = 0; i < 3; i++) {
        char *body = NULL;
        ck_assert_int_eq(aget(base, paths[i], T_ACME, &body, NULL, 0), 404);
        ck_assert_int_eq(mp_buf_printf(&all, "%s\n", body), MP_OK);
        free(body);
    }
    char *s = mp_buf_take(&all);
    mp_buf_free(&all);
    return s;
}

START_TEST(auth_routes)
{
    struct mp_auth *auth = auth_new(0);
    struct mp_api *api = NULL;
    char base[64], www[256], *body = NULL;
    start_api("127.0.0.1", auth, &api, base, sizeof(base));
    push("acme", 1 /* EVENT_TYPE_SENT */, 2);

    /* beta not counted yet: admin's 404 is what "does not exist" looks like. */
    ck_assert_int_eq(aget(base, "/v1/tenants/beta/stats", T_ADMIN, &body, NULL, 0), 404);
    char *missing = body;
    ck_assert_ptr_nonnull(strstr(missing, "unknown tenant \\\"beta\\\""));
    char *before = acme_view_of_beta(base);
    ck_assert_int_eq(strncmp(before, missing, strlen(missing)), 0);
    push("beta", 1 /* EVENT_TYPE_SENT */, 3);
    ck_assert_int_eq(aget(base, "/v1/tenants/beta/stats", T_ADMIN, &body, NULL, 0), 200);
    ck_assert_ptr_nonnull(strstr(body, "\"sent\":3"));
    free(body);
    char *after = acme_view_of_beta(base);
    ck_assert_str_eq(after, before); /* existence does not show */
    free(before);
    free(after);
    free(missing);

    for (size_t i = 0; i < MP_ARRAY_LEN(auth_matrix); i++) {
        for (size_t t = 0; t < AUTH_NWHO; t++) {
            long got = aget(base, auth_matrix[i].path, tokens[t], &body, www, sizeof(www));
            ck_assert_msg(got == auth_matrix[i].want[t], "%s with %s: %ld, expected %ld: %s",
                          auth_matrix[i].path, tokens[t] ? tokens[t] : "no token", got,
                          auth_matrix[i].want[t], body);
            if (got == 401)
                ck_assert_msg(strstr(www, "Bearer realm=\"mailpulse\"") != NULL, "%s", www);
            else
                ck_assert_str_eq(www, "");
            /* A token never comes back in an answer. */
            ck_assert_ptr_null(strstr(body, "0123456789abcdef"));
            free(body);
        }
    }
    /* Lists filtered to the token's tenant. */
    ck_assert_int_eq(aget(base, "/v1/tenants/acme/stats", T_ACME, &body, NULL, 0), 200);
    ck_assert_ptr_nonnull(strstr(body, "\"sent\":2"));
    free(body);
    mp_api_stop(api);
    mp_auth_destroy(auth);
}
END_TEST

START_TEST(auth_metrics_open)
{
    struct mp_auth *auth = auth_new(1);
    struct mp_api *api = NULL;
    char base[64], *body = NULL;
    start_api("127.0.0.1", auth, &api, base, sizeof(base));
    ck_assert_int_eq(aget(base, "/metrics", NULL, &body, NULL, 0), 200);
    ck_assert_ptr_nonnull(strstr(body, "mailpulse_keys"));
    free(body);
    ck_assert_int_eq(aget(base, "/metrics", T_ACME, &body, NULL, 0), 200);
    free(body);
    ck_assert_int_eq(aget(base, "/v1/alerts", NULL, &body, NULL, 0), 401);
    free(body);
    ck_assert_int_eq(aget(base, "/v1/tenants/acme/stats", T_BAD, &body, NULL, 0), 401);
    free(body);
    mp_api_stop(api);
    mp_auth_destroy(auth);
}
END_TEST

/* Without tokens: loopback only; with tokens any address. */
START_TEST(auth_listen_rule)
{
    char err[512] = "";
    struct mp_api *api = NULL;
    struct mp_auth *none = NULL;
    struct mp_auth_conf empty = {0};
    ck_assert_int_eq(mp_auth_create(&empty, &none), MP_OK);
    ck_assert_int_eq(mp_api_start("0.0.0.0:1", &W.src, NULL, &api, err, sizeof(err)),
                     MP_ERR_INVAL);
    ck_assert_msg(strstr(err, "http.listen \"0.0.0.0:1\" is not a loopback address"), "%s", err);
    ck_assert_int_eq(mp_api_start("[::]:1", &W.src, none, &api, err, sizeof(err)), MP_ERR_INVAL);
    ck_assert_int_eq(mp_api_start("192.0.2.1:1", &W.src, none, &api, err, sizeof(err)),
                     MP_ERR_INVAL);
    ck_assert_ptr_null(api);
    mp_auth_destroy(none);

    struct mp_auth *auth = auth_new(0);
    char base[64], *body = NULL;
    start_api("0.0.0.0", auth, &api, base, sizeof(base));
    ck_assert_int_eq(aget(base, "/v1/alerts", T_ADMIN, &body, NULL, 0), 200);
    free(body);
    mp_api_stop(api);
    mp_auth_destroy(auth);
}
END_TEST

CHECK_SUITE("mp_api", 30, setup, teardown, healthz_and_metrics, stats_route, alerts_routes,
            other_methods, auth_routes, auth_metrics_open, auth_listen_rule)
