/* test_e2e_restart.c — the real daemon keeps its counts across restarts.
 *
 *   sigterm_restart_equal: events at several ages (now, hours, days, and a
 *     20-day-old backfill) for two tenants; the stats API's answers for every
 *     window and grouping are byte-identical after SIGTERM and a restart.
 *   sigkill_loses_at_most_unflushed: counts that a flush has written survive
 *     SIGKILL; the daemon comes back and serves them.
 *
 * Real parts only: bin/mailpulsed from MP_BIN_DIR on free loopback ports,
 * ZeroMQ PUSH, HTTP over libcurl (tests/e2e_harness.h).
 */
#include <check.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "e2e_harness.h"
#include "check_main.h"

#define HOUR (3600 * 1000LL)
#define DAY (24 * HOUR)

struct rig {
    char dir[E2E_PATH_MAX], cfg[E2E_PATH_MAX + 32], data[E2E_PATH_MAX + 32], bin[E2E_PATH_MAX];
    char pull[64], http[64], base[96];
    char err[2048];
    struct e2e_proc daemon;
    void *zctx, *push;
    int passed;
};

static struct rig R;

#define must(cond, fmt, ...) ck_assert_msg((cond), fmt " [logs in %s]", ##__VA_ARGS__, R.dir)
#define must_ok(expr) must((expr) == MP_OK, "%s: %s", #expr, R.err)

static void rig_setup(void)
{
    memset(&R, 0, sizeof(R));
    curl_global_init(CURL_GLOBAL_DEFAULT);
    must_ok(e2e_bin_path("mailpulsed", R.bin, sizeof(R.bin), R.err, sizeof(R.err)));
    must_ok(e2e_tmpdir_create("restart", R.dir, sizeof(R.dir), R.err, sizeof(R.err)));
    snprintf(R.cfg, sizeof(R.cfg), "%s/mailpulse.yaml", R.dir);
    snprintf(R.data, sizeof(R.data), "%s/data", R.dir);
    uint16_t p1, p2;
    must_ok(e2e_free_port(&p1, NULL, 0, R.err, sizeof(R.err)));
    must_ok(e2e_free_port(&p2, &p1, 1, R.err, sizeof(R.err)));
    snprintf(R.pull, sizeof(R.pull), "tcp://127.0.0.1:%u", (unsigned)p1);
    snprintf(R.http, sizeof(R.http), "127.0.0.1:%u", (unsigned)p2);
    snprintf(R.base, sizeof(R.base), "http://%s", R.http);
    struct e2e_daemon_conf c = {
        .data_dir = R.data, .pull = R.pull, .http_listen = R.http, .workers = 2};
    must_ok(e2e_config_write(R.cfg, &c, R.err, sizeof(R.err)));
    R.zctx = zmq_ctx_new();
}

static void rig_teardown(void)
{
    if (R.push) {
        int zero = 0;
        zmq_setsockopt(R.push, ZMQ_LINGER, &zero, sizeof(zero));
        zmq_close(R.push);
    }
    if (R.zctx)
        zmq_ctx_term(R.zctx);
    e2e_proc_kill(&R.daemon);
    if (R.passed)
        e2e_tmpdir_remove(R.dir);
    curl_global_cleanup();
}

static void start_daemon(void)
{
    char *argv[] = {R.bin, "-c", R.cfg, NULL};
    memset(&R.daemon, 0, sizeof(R.daemon));
    must_ok(e2e_spawn(&R.daemon, "mailpulsed", R.dir, argv, R.err, sizeof(R.err)));
    char url[128];
    snprintf(url, sizeof(url), "%s/healthz", R.base);
    must_ok(e2e_wait_http_ok(&R.daemon, url, 15000, R.err, sizeof(R.err)));
    if (!R.push)
        must_ok(e2e_push_open(R.zctx, R.pull, 5000, &R.push, R.err, sizeof(R.err)));
}

static uint64_t metric(const char *series)
{
    char url[128], *body = NULL;
    long status = 0;
    uint64_t v = 0;
    snprintf(url, sizeof(url), "%s/metrics", R.base);
    must(e2e_http_get(url, 3000, &status, &body) == MP_OK && status == 200, "GET /metrics: %ld",
         status);
    must(e2e_metric(body, series, &v) == MP_OK, "no series %s", series);
    free(body);
    return v;
}

static void wait_metric_at_least(const char *series, uint64_t want)
{
    for (int i = 0; i < 500; i++) {
        if (metric(series) >= want)
            return;
        usleep(10 * 1000);
    }
    must(0, "%s stayed below %llu", series, (unsigned long long)want);
}

static char *stats(const char *tenant, const char *query)
{
    char url[256], *body = NULL;
    long status = 0;
    snprintf(url, sizeof(url), "%s/v1/tenants/%s/stats?%s", R.base, tenant, query);
    must(e2e_http_get(url, 3000, &status, &body) == MP_OK, "GET %s: no answer", url);
    must(status == 200, "GET %s: %ld %s", url, status, body ? body : "");
    return body;
}

static const char *const queries[] = {
    "window=1h", "window=24h", "window=7d",
    "window=1h&by=mailbox", "window=24h&by=recipient_domain", "window=7d&by=mailbox",
};

static void send_spread(int64_t now)
{
    int64_t today = now - now % DAY;
    struct {
        const char *tenant, *mailbox, *domain;
        int type;
        size_t n;
        int64_t t;
    } rows[] = {
        {"acme", "a@acme.example", "gmail.com", 1, 1200, now},
        {"acme", "a@acme.example", "gmail.com", 2, 1100, now},
        {"acme", "b@acme.example", "yahoo.com", 1, 300, now - 3 * HOUR},
        {"acme", "b@acme.example", "yahoo.com", 8, 120, now - 5 * HOUR},
        {"acme", "a@acme.example", "outlook.com", 7, 4, today - 3 * DAY},
        {"acme", "a@acme.example", "gmail.com", 1, 500, today - 20 * DAY}, /* backfill */
        {"beta", "x@beta.example", "gmail.com", 1, 700, now},
        {"beta", "x@beta.example", "gmail.com", 3, 9, now},
    };
    uint64_t total = 0;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        must_ok(e2e_send_events(R.push, rows[i].tenant, rows[i].mailbox, rows[i].domain,
                                rows[i].type, rows[i].n, rows[i].t));
        total += rows[i].n;
    }
    wait_metric_at_least("mailpulse_events_accepted_total", total);
}

START_TEST(sigterm_restart_equal)
{
    start_daemon();
    send_spread(mp_now_ms());
    char *before[2][6];
    const char *tenants[2] = {"acme", "beta"};
    for (int t = 0; t < 2; t++)
        for (int q = 0; q < 6; q++)
            before[t][q] = stats(tenants[t], queries[q]);
    must(strstr(before[0][0], "1200") != NULL, "acme 1h stats lack the 1200 sent: %s",
         before[0][0]);

    must_ok(e2e_proc_signal_wait(&R.daemon, SIGTERM, 10000));
    must(WIFEXITED(R.daemon.status) && WEXITSTATUS(R.daemon.status) == 0,
         "daemon did not exit 0 on SIGTERM");
    must(e2e_file_contains(R.daemon.err_path, "store_final_flush"), "no final flush logged");

    start_daemon();
    must(e2e_file_contains(R.daemon.err_path, "store_loaded"), "restart did not load the store");
    for (int t = 0; t < 2; t++)
        for (int q = 0; q < 6; q++) {
            char *after = stats(tenants[t], queries[q]);
            must(strcmp(before[t][q], after) == 0,
                 "tenant %s %s differs after restart:\n before %s\n after  %s", tenants[t],
                 queries[q], before[t][q], after);
            free(after);
            free(before[t][q]);
        }
    must_ok(e2e_proc_signal_wait(&R.daemon, SIGTERM, 10000));
    R.passed = 1;
}
END_TEST

START_TEST(sigkill_loses_at_most_unflushed)
{
    start_daemon();
    must_ok(e2e_send_events(R.push, "acme", "a@acme.example", "gmail.com", 1, 2500,
                            mp_now_ms()));
    wait_metric_at_least("mailpulse_events_accepted_total", 2500);
    /* two flushes after the events were counted: the second began after
     * they were all in memory, so it wrote them */
    uint64_t f0 = metric("mailpulse_store_flushes_total");
    wait_metric_at_least("mailpulse_store_flushes_total", f0 + 2);
    char *before = stats("acme", "window=24h&by=recipient_domain");

    must_ok(e2e_proc_signal_wait(&R.daemon, SIGKILL, 10000));
    start_daemon();
    char *after = stats("acme", "window=24h&by=recipient_domain");
    must(strcmp(before, after) == 0, "flushed counts changed across SIGKILL:\n before %s\n after  %s",
         before, after);
    free(before);
    free(after);
    must_ok(e2e_proc_signal_wait(&R.daemon, SIGTERM, 10000));
    R.passed = 1;
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("e2e_restart");
    TCase *tc = tcase_create("restart");
    tcase_add_checked_fixture(tc, rig_setup, rig_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, sigterm_restart_equal);
    tcase_add_test(tc, sigkill_loses_at_most_unflushed);
    suite_add_tcase(s, tc);
    return s;
}

Suite *test_suite(void)
{
    return suite();
}
