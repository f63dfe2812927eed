/* test_e2e_demo.c — Check suite "e2e_demo": `mailpulse demo` and
 * `mailpulse replay` as real processes against the real mailpulsed.
 *
 * Each case has its own temp directory, ports and daemon, with the acked
 * endpoint (ingest.router) on and the default rules (tests/e2e_world.h).
 *
 * Cases:
 *   demo_sink          `mailpulse demo --seconds 3` with its sink where the
 *                      daemon's only receiver posts: exit 0; the sink printed
 *                      team A's bounce_rate alert (gmail.com) and nothing for
 *                      team B; the API's active alerts agree.
 *   demo_port_taken    the receiver's address is held by an in-process
 *                      receiver: the demo says the port is taken, falls back
 *                      to the API, exits 0; the receiver got team A's alert,
 *                      signed, and no request names team B.
 *   replay_example     `mailpulse replay examples/team-a-bad-list.jsonl
 *                      --rebase-time --fallback-push`: every line accepted
 *                      (acked: the router is there, so no fallback), exit 0;
 *                      the receiver gets team-a's alert naming gmail.com,
 *                      and team-b none.
 *   replay_push        the same file with --push to a daemon without
 *                      ingest.router: "sent events=2000 batches=4", exit 0;
 *                      team-a's alert at the receiver, and its counts in
 *                      the stats exactly the file's (500 sent, 477
 *                      delivered, 23 bounce_hard).
 *   replay_fallback    a daemon without ingest.router, $MAILPULSE_ENDPOINT
 *                      its PULL endpoint, the acked endpoint a free port
 *                      (with --fallback-push: the default tcp://...:7401
 *                      may be taken on a shared machine): the stderr line
 *                      "no ingest.router at ...; sending over PUSH to ...",
 *                      exit 0, and each event counted exactly once.
 *   replay_rejects     a CSV with bad lines: each reported as FILE:LINE:
 *                      reason, the summary counts them, exit 1, and the good
 *                      lines are counted by the daemon.
 *   no_daemon_usage    no daemon: demo says so (exit 1), replay --push says
 *                      no connection was made (exit 1); replay and demo
 *                      refuse bad usage with exit 2 and the reason.
 *
 * Programs come from $MP_BIN_DIR; the examples are read from the working
 * directory (the repository root, as `make check-tests` runs).
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "ack_client.h"
#include "check_main.h"
#include "e2e_suite.h"

#define RUN_MS 60000   /* one CLI run, on a loaded machine */
#define ALERT_MS 15000 /* events acked -> the alert at the receiver */

static char router[64];

static void setup(void)
{
    ew_setup(&W, "demo");
    W.ready_ms = 15000;
}

static void teardown(void) { ew_teardown(&W); }

/* A daemon with one receiver "ops" at `url` (default route) and the router. */
static void start(const char *url, const char *secret)
{
    const struct e2e_receiver_conf rec[] = {{"ops", url, secret}};
    ak_write_config(&W,
                    (struct e2e_daemon_conf){.receivers = rec, .nreceivers = 1,
                                             .default_route = "ops"},
                    2, NULL, router, sizeof(router));
    ew_spawn_daemon(&W);
}

/* The same daemon without ingest.router: PULL only. */
static void start_pull_only(const char *url, const char *secret)
{
    const struct e2e_receiver_conf rec[] = {{"ops", url, secret}};
    ew_write_config(&W, (struct e2e_daemon_conf){.receivers = rec, .nreceivers = 1,
                                                 .default_route = "ops"});
    ew_spawn_daemon(&W);
}

/* An in-process receiver "ops" answering 200, then the daemon by `how`
 * (start or start_pull_only) with it: the receiver's index. */
static size_t start_with_raw(void (*how)(const char *url, const char *secret))
{
    size_t k = ew_raw(&W, "ops", "secret-ops", 200);
    how(W.raw_url[k], W.raw_secret[k]);
    return k;
}

/* Runs bin/mailpulse with argv[1..] (NULL-terminated); its exit status. */
static int run_cli(const char *name, char **argv)
{
    argv[0] = W.mailpulse;
    memset(&W.cli, 0, sizeof(W.cli));
    EW_MUST_OK(&W, e2e_run(&W.cli, name, W.dir, argv, RUN_MS, W.err, sizeof(W.err)));
    EW_MUST(&W, WIFEXITED(W.cli.status), "mailpulse %s did not exit normally", name);
    return WEXITSTATUS(W.cli.status);
}

static void has(const char *path, const char *needle, int want)
{
    char tail[2048];
    e2e_file_tail(path, tail, sizeof(tail));
    EW_MUST(&W, e2e_file_contains(path, needle) == want, "%s %s \"%s\"; it ends:\n%s", path,
            want ? "lacks" : "has", needle, tail);
}

/* Active alerts of `tenant` in GET /v1/alerts. */
static size_t api_alerts(const char *tenant)
{
    json_t *j = ew_get_json(&W, "/v1/alerts", 200), *a;
    size_t i, n = 0;
    json_array_foreach(json_object_get(j, "alerts"), i, a)
        n += ew_streq(ew_jstr(json_object_get(a, "labels"), "tenant"), tenant);
    json_decref(j);
    return n;
}

/* Alerts of `tenant` (at `domain` when not NULL) in receiver k's requests
 * so far; *others counts the alerts of tenant `other`. */
static size_t raw_alerts(size_t k, const char *tenant, const char *domain, const char *other,
                         size_t *others)
{
    size_t n = 0;
    *others = 0;
    for (size_t i = 0; i < hrx_count(W.raw[k]); i++) {
        json_t *body = ew_req_json(&W, ew_req(&W, k, i)), *a;
        size_t j;
        json_array_foreach(json_object_get(body, "alerts"), j, a) {
            json_t *l = json_object_get(a, "labels");
            n += ew_streq(ew_jstr(l, "tenant"), tenant) &&
                 (domain == NULL || ew_streq(ew_jstr(l, "recipient_domain"), domain));
            *others += ew_streq(ew_jstr(l, "tenant"), other);
        }
        json_decref(body);
    }
    return n;
}

/* Polls receiver k until it holds an alert of tenant at domain. */
static void wait_raw_alert(size_t k, const char *tenant, const char *domain)
{
    size_t others, n = 0;
    for (int64_t end = mp_mono_ns() + ALERT_MS * 1000000LL; mp_mono_ns() < end;) {
        if ((n = raw_alerts(k, tenant, domain, "", &others)) > 0)
            return;
        hrx_wait(W.raw[k], hrx_count(W.raw[k]) + 1, 50);
    }
    EW_MUST(&W, n > 0, "no alert of %s at %s reached the receiver", tenant, domain);
}

/* counts[type] of `tenant` in GET /v1/tenants/T/stats?window=1h, polled
 * until every one reaches want[i] (events go through the workers and the
 * store after the CLI ends); then each must equal it, so a duplicate shows. */
static void wait_counts(const char *tenant, const char *const *types, const json_int_t *want,
                        size_t n)
{
    json_int_t got[8] = {0};
    char url[256];
    int done = 0;
    ck_assert(n <= MP_ARRAY_LEN(got));
    snprintf(url, sizeof(url), "%s/v1/tenants/%s/stats?window=1h", W.base, tenant);
    for (int64_t end = mp_mono_ns() + ALERT_MS * 1000000LL; !done && mp_mono_ns() < end;) {
        long status = 0;
        char *body = NULL;
        if (e2e_http_get(url, 5000, &status, &body) == MP_OK && status == 200) {
            json_t *j = json_loads(body, 0, NULL), *c = json_object_get(j, "counts");
            done = 1;
            for (size_t i = 0; i < n; i++) {
                got[i] = json_integer_value(json_object_get(c, types[i]));
                done &= got[i] >= want[i];
            }
            json_decref(j);
        }
        free(body);
        if (!done)
            usleep(20 * 1000);
    }
    for (size_t i = 0; i < n; i++)
        EW_MUST(&W, got[i] == want[i], "%s: %s=%lld, want %lld", tenant, types[i],
                (long long)got[i], (long long)want[i]);
}

/* Team A's alert at gmail.com reaches receiver k, and none of team B's. */
static void team_a_alone(size_t k, const char *team_a, const char *team_b)
{
    size_t b;
    wait_raw_alert(k, team_a, "gmail.com");
    raw_alerts(k, team_a, NULL, team_b, &b);
    EW_MUST(&W, b == 0, "%s got %zu alert(s)", team_b, b);
}

/* `mailpulse replay <the example file> --rebase-time <more...>` (the suites
 * run from the tree's top): it must replay the whole file and exit 0. */
static void replay_example_file(const char *what, char *const more[])
{
    char file[PATH_MAX], *argv[12] = {NULL, "replay", file, "--rebase-time"};
    size_t n = 4;
    EW_MUST(&W, realpath("examples/team-a-bad-list.jsonl", file) != NULL,
            "examples/team-a-bad-list.jsonl not found from the working directory");
    for (size_t i = 0; more[i] && n + 1 < MP_ARRAY_LEN(argv); i++)
        argv[n++] = more[i];
    argv[n] = NULL;
    int rc = run_cli("replay", argv);
    has(W.cli.out_path, "replayed lines=2003 events=2000 rejected_lines=0", 1);
    EW_MUST(&W, rc == 0, "%s exited %d", what, rc);
}

START_TEST(demo_sink)
{
    uint16_t port = ew_port(&W);
    char url[96], listen[64], seconds[] = "3";
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/hook", (unsigned)port);
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)port);
    start(url, NULL);
    char *argv[] = {NULL, "demo", "--seconds", seconds, "--endpoint", router, "--api", W.base,
                    "--listen", listen, "--run", "e2e", NULL};
    int rc = run_cli("demo", argv);
    has(W.cli.out_path, "Sink listening on ", 1);
    /* warning or critical: a loaded machine may evaluate past the 2% line */
    has(W.cli.out_path, " bounce_rate tenant=demo-team-a-e2e recipient_domain=gmail.com", 1);
    has(W.cli.out_path, "] FIRING ", 1);
    has(W.cli.out_path, "<- team A's bad list", 1);
    has(W.cli.out_path, "tenant=demo-team-b-e2e", 0);
    has(W.cli.out_path, "no alert, as it should be", 1);
    has(W.cli.out_path, "mailpulse alerts --tenant demo-team-a-e2e", 1);
    EW_MUST(&W, rc == 0, "demo exited %d", rc);
    EW_MUST(&W, api_alerts("demo-team-a-e2e") >= 1, "no active alert for team A in the API");
    EW_MUST(&W, api_alerts("demo-team-b-e2e") == 0, "team B has an active alert");
    ew_pass(&W);
}
END_TEST

START_TEST(demo_port_taken)
{
    size_t k = start_with_raw(start);
    char listen[64], seconds[] = "3";
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)hrx_port(W.raw[k]));
    /* the endpoints from the environment this time, as a user's shell has them */
    setenv("MAILPULSE_ROUTER", router, 1);
    setenv("MAILPULSE_API", W.base, 1);
    char *argv[] = {NULL, "demo", "--seconds", seconds, "--listen", listen, "--run", "taken",
                    NULL};
    int rc = run_cli("demo", argv);
    has(W.cli.out_path, "The built-in sink cannot listen on ", 1);
    has(W.cli.out_path, "in the API's active alerts", 1);
    EW_MUST(&W, rc == 0, "demo exited %d", rc);
    team_a_alone(k, "demo-team-a-taken", "demo-team-b-taken");
    ew_pass(&W);
}
END_TEST

START_TEST(replay_example)
{
    size_t k = start_with_raw(start);
    setenv("MAILPULSE_ROUTER", router, 1); /* stands in for --endpoint */
    char *const more[] = {"--fallback-push", NULL};
    replay_example_file("replay", more);
    has(W.cli.out_path, "accepted=2000 rejected=0", 1);
    has(W.cli.err_path, "no ingest.router", 0);
    has(W.cli.out_path, "sent events=", 0);
    team_a_alone(k, "team-a", "team-b");
    ew_pass(&W);
}
END_TEST

START_TEST(replay_push)
{
    size_t k = start_with_raw(start_pull_only);
    char *const more[] = {"--push", "--endpoint", W.pull, NULL};
    replay_example_file("replay --push", more);
    char want[128];
    snprintf(want, sizeof(want), "sent events=2000 batches=4 endpoint=%s\n", W.pull);
    has(W.cli.out_path, want, 1);
    has(W.cli.out_path, "acked ", 0);
    const char *const types[] = {"sent", "delivered", "bounce_hard"};
    const json_int_t counts[] = {500, 477, 23};
    wait_counts("team-a", types, counts, MP_ARRAY_LEN(types));
    team_a_alone(k, "team-a", "team-b");
    ew_pass(&W);
}
END_TEST

START_TEST(replay_fallback)
{
    start_pull_only("http://127.0.0.1:9/none", NULL);
    char file[E2E_PATH_MAX + 32], text[1024], acked[64];
    snprintf(file, sizeof(file), "%s/events.jsonl", W.dir);
    int64_t now = mp_now_ms();
    size_t len = 0;
    for (int i = 0; i < 5; i++)
        len += (size_t)snprintf(text + len, sizeof(text) - len,
                                "{\"tenant\":\"fb\",\"mailbox\":\"a@fb.example\","
                                "\"recipient_domain\":\"gmail.com\",\"type\":\"%s\","
                                "\"time\":%lld}\n",
                                i < 3 ? "sent" : "delivered", (long long)now);
    EW_MUST_OK(&W, e2e_write_file(file, text, W.err, sizeof(W.err)));
    snprintf(acked, sizeof(acked), "tcp://127.0.0.1:%u", (unsigned)ew_port(&W)); /* nothing */
    setenv("MAILPULSE_ENDPOINT", W.pull, 1);
    setenv("MAILPULSE_ROUTER", acked, 1);
    char *argv[] = {NULL, "replay", file, "--fallback-push", "--batch", "2", NULL};
    int64_t t0 = mp_mono_ns();
    int rc = run_cli("replay", argv);
    int64_t took_ms = (mp_mono_ns() - t0) / 1000000;
    char want[256];
    snprintf(want, sizeof(want),
             "mailpulse replay: no ingest.router at %s; sending over PUSH to %s instead (no "
             "acks)\n", acked, W.pull);
    has(W.cli.err_path, want, 1);
    snprintf(want, sizeof(want), "sent events=5 batches=3 endpoint=%s\n", W.pull);
    has(W.cli.out_path, want, 1);
    has(W.cli.out_path, "acked ", 0);
    EW_MUST(&W, rc == 0, "replay exited %d", rc);
    /* the short wait, not --ack-timeout-ms x (1 + --retries) = 22 s */
    EW_MUST(&W, took_ms < 15000, "the fallback took %lld ms", (long long)took_ms);
    const char *const types[] = {"sent", "delivered"};
    const json_int_t counts[] = {3, 2};
    wait_counts("fb", types, counts, MP_ARRAY_LEN(types));
    ew_pass(&W);
}
END_TEST

START_TEST(replay_rejects)
{
    start("http://127.0.0.1:9/none", NULL);
    char file[E2E_PATH_MAX + 32];
    snprintf(file, sizeof(file), "%s/events.csv", W.dir);
    char text[1024];
    int64_t now = mp_now_ms();
    snprintf(text, sizeof(text),
             "tenant,mailbox,recipient,type,time\n"
             "rp,a@rp.example,u@gmail.com,sent,%lld\n"
             "rp,a@rp.example,u@gmail.com,bonce,%lld\n"
             "\n"
             "rp,a@rp.example,u@gmail.com,sent\n"
             "rp,a@rp.example,\"x, y\"@gmail.com,sent,%lld\n"
             "rp,a@rp.example,\"x, y@gmail.com\",delivered,%lld\n",
             (long long)now, (long long)now, (long long)now, (long long)now);
    EW_MUST_OK(&W, e2e_write_file(file, text, W.err, sizeof(W.err)));
    char *argv[] = {NULL, "replay", "--endpoint", router, file, NULL}; /* FILE last works too */
    int rc = run_cli("replay", argv);
    char want[E2E_PATH_MAX + 128];
    snprintf(want, sizeof(want), "%s:3: type: unknown event type \"bonce\"", file);
    has(W.cli.err_path, want, 1);
    snprintf(want, sizeof(want), "%s:5: 4 fields, the header has 5", file);
    has(W.cli.err_path, want, 1);
    snprintf(want, sizeof(want), "%s:6: field 3: text after the closing quote", file);
    has(W.cli.err_path, want, 1);
    has(W.cli.err_path, "3 line(s) of", 1);
    has(W.cli.out_path, "rejected_lines=3", 1);
    has(W.cli.out_path, "accepted=2 rejected=0", 1);
    EW_MUST(&W, rc == 1, "replay exited %d, want 1", rc);
    /* Acked means durable; the counts follow within moments. */
    json_int_t sent = 0, delivered = 0;
    for (int64_t end = mp_mono_ns() + ALERT_MS * 1000000LL; mp_mono_ns() < end;) {
        long status = 0;
        char url[256], *body = NULL;
        snprintf(url, sizeof(url), "%s/v1/tenants/rp/stats?window=1h", W.base);
        if (e2e_http_get(url, 5000, &status, &body) == MP_OK && status == 200) {
            json_t *j = json_loads(body, 0, NULL), *c = json_object_get(j, "counts");
            sent = json_integer_value(json_object_get(c, "sent"));
            delivered = json_integer_value(json_object_get(c, "delivered"));
            json_decref(j);
        }
        free(body);
        if (sent == 1 && delivered == 1)
            break;
        usleep(20 * 1000);
    }
    EW_MUST(&W, sent == 1 && delivered == 1, "counts sent=%lld delivered=%lld", (long long)sent,
            (long long)delivered);
    ew_pass(&W);
}
END_TEST

START_TEST(no_daemon_usage)
{
    char api[64];
    snprintf(api, sizeof(api), "http://127.0.0.1:%u", (unsigned)ew_port(&W));
    char *demo[] = {NULL, "demo", "--api", api, NULL};
    EW_MUST(&W, run_cli("demo", demo) == 1, "demo without a daemon did not exit 1");
    has(W.cli.err_path, "mailpulse demo: no daemon answers at ", 1);
    char *bad_run[] = {NULL, "demo", "--run", "a/b", NULL};
    EW_MUST(&W, run_cli("demo", bad_run) == 2, "demo --run a/b did not exit 2");
    has(W.cli.err_path, "--run: expected 1..20 of [A-Za-z0-9._-]", 1);
    char *no_file[] = {NULL, "replay", NULL};
    EW_MUST(&W, run_cli("replay", no_file) == 2, "replay without FILE did not exit 2");
    has(W.cli.err_path, "missing FILE", 1);
    char *no_fmt[] = {NULL, "replay", "events.txt", NULL};
    EW_MUST(&W, run_cli("replay", no_fmt) == 2, "replay of a .txt did not exit 2");
    has(W.cli.err_path, "give --format jsonl or --format csv", 1);
    char *speed[] = {NULL, "replay", "a.csv", "--speed", "-1", NULL};
    EW_MUST(&W, run_cli("replay", speed) == 2, "replay --speed -1 did not exit 2");
    has(W.cli.err_path, "--speed: expected max", 1);
    char *push_window[] = {NULL, "replay", "a.csv", "--push", "--window", "2", NULL};
    EW_MUST(&W, run_cli("replay", push_window) == 2, "replay --push --window did not exit 2");
    has(W.cli.err_path, "--window is for the acked endpoint; --push has no acks", 1);
    char *both[] = {NULL, "replay", "a.csv", "--push", "--fallback-push", NULL};
    EW_MUST(&W, run_cli("replay", both) == 2, "replay --push --fallback-push did not exit 2");
    has(W.cli.err_path, "give one of --push and --fallback-push", 1);
    char ep[64];
    snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%u", (unsigned)ew_port(&W)); /* nothing there */
    char *acked_tmo[] = {NULL, "replay", "a.csv", "--endpoint", ep, "--timeout-ms", "5", NULL};
    EW_MUST(&W, run_cli("replay", acked_tmo) == 2, "replay --endpoint --timeout-ms did not exit 2");
    has(W.cli.err_path, "--timeout-ms is for PUSH", 1);
    char file[E2E_PATH_MAX + 32];
    snprintf(file, sizeof(file), "%s/one.csv", W.dir);
    EW_MUST_OK(&W, e2e_write_file(file, "tenant,mailbox,recipient,type,time\n"
                                        "t,a@t.example,u@gmail.com,sent,1700000000000\n",
                                  W.err, sizeof(W.err)));
    char *push_none[] = {NULL, "replay", file, "--push", "--endpoint", ep, "--timeout-ms", "300",
                         NULL};
    EW_MUST(&W, run_cli("replay", push_none) == 1, "replay --push to nothing did not exit 1");
    has(W.cli.err_path, "was made within --timeout-ms 300, so no frame was delivered", 1);
    has(W.cli.out_path, "sent events=", 0);
    char *missing[] = {NULL, "replay", "/nonexistent/a.csv", NULL};
    EW_MUST(&W, run_cli("replay", missing) == 1, "replay of a missing file did not exit 1");
    has(W.cli.err_path, "cannot open /nonexistent/a.csv", 1);
    W.passed = 1;
}
END_TEST

EW_SUITE("e2e_demo", 120, setup, teardown, {demo_sink, 0}, {demo_port_taken, 0},
         {replay_example, 0}, {replay_push, 0}, {replay_fallback, 0}, {replay_rejects, 0},
         {no_daemon_usage, 0})
