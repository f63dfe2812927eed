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

#include "e2e_suite.h"
#include "check_main.h"

#define HOUR (3600 * 1000LL)
#define DAY (24 * HOUR)

static void setup(void)
{
    ew_setup(&W, "restart");
    W.ready_ms = 15000;
    ew_write_config(&W, (struct e2e_daemon_conf){0});
}

static void teardown(void) { ew_teardown(&W); }

/* Polls /metrics until `series` is at least `want`. */
static void wait_metric_at_least(const char *series, uint64_t want)
{
    for (int i = 0; i < 500; i++) {
        if (ew_metric(&W, series) >= want)
            return;
        usleep(10 * 1000);
    }
    must(0, "%s stayed below %llu", series, (unsigned long long)want);
}

static char *stats(const char *tenant, const char *query)
{
    char url[256], *body = NULL;
    long status = 0;
    snprintf(url, sizeof(url), "%s/v1/tenants/%s/stats?%s", W.base, tenant, query);
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
        must_ok(e2e_send_events(W.push, rows[i].tenant, rows[i].mailbox, rows[i].domain,
                                rows[i].type, rows[i].n, rows[i].t));
        total += rows[i].n;
    }
    wait_metric_at_least("mailpulse_events_accepted_total", total);
}

START_TEST(sigterm_restart_equal)
{
    ew_spawn_daemon(&W);
    send_spread(mp_now_ms());
    char *before[2][6];
    const char *tenants[2] = {"acme", "beta"};
    for (int t = 0; t < 2; t++)
        for (int q = 0; q < 6; q++)
            before[t][q] = stats(tenants[t], queries[q]);
    must(strstr(before[0][0], "1200") != NULL, "acme 1h stats lack the 1200 sent: %s",
         before[0][0]);

    must_ok(e2e_proc_signal_wait(&W.daemon, SIGTERM, 10000));
    must(WIFEXITED(W.daemon.status) && WEXITSTATUS(W.daemon.status) == 0,
         "daemon did not exit 0 on SIGTERM");
    must(e2e_file_contains(W.daemon.err_path, "store_final_flush"), "no final flush logged");

    ew_spawn_daemon(&W);
    must(e2e_file_contains(W.daemon.err_path, "store_loaded"), "restart did not load the store");
    for (int t = 0; t < 2; t++)
        for (int q = 0; q < 6; q++) {
            char *after = stats(tenants[t], queries[q]);
            must(strcmp(before[t][q], after) == 0,
                 "tenant %s %s differs after restart:\n before %s\n after  %s", tenants[t],
                 queries[q], before[t][q], after);
            free(after);
            free(before[t][q]);
        }
    must_ok(e2e_proc_signal_wait(&W.daemon, SIGTERM, 10000));
    W.passed = 1;
}
END_TEST

START_TEST(sigkill_loses_at_most_unflushed)
{
    ew_spawn_daemon(&W);
    must_ok(e2e_send_events(W.push, "acme", "a@acme.example", "gmail.com", 1, 2500,
                            mp_now_ms()));
    wait_metric_at_least("mailpulse_events_accepted_total", 2500);
    /* two flushes after the events were counted: the second began after
     * they were all in memory, so it wrote them */
    uint64_t f0 = ew_metric(&W, "mailpulse_store_flushes_total");
    wait_metric_at_least("mailpulse_store_flushes_total", f0 + 2);
    char *before = stats("acme", "window=24h&by=recipient_domain");

    must_ok(e2e_proc_signal_wait(&W.daemon, SIGKILL, 10000));
    ew_spawn_daemon(&W);
    char *after = stats("acme", "window=24h&by=recipient_domain");
    must(strcmp(before, after) == 0, "flushed counts changed across SIGKILL:\n before %s\n after  %s",
         before, after);
    free(before);
    free(after);
    must_ok(e2e_proc_signal_wait(&W.daemon, SIGTERM, 10000));
    W.passed = 1;
}
END_TEST

EW_SUITE("e2e_restart", 60, setup, teardown, {sigterm_restart_equal, 0},
         {sigkill_loses_at_most_unflushed, 0})
