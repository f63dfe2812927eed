/* test_e2e_history.c — Check suite "e2e_history": the series API, `mailpulse
 * history` and the per-tenant scrape against the real mailpulsed (tokens
 * for an admin, acme and beta; RocksDB in the case's temp dir).
 *
 * Case `twenty_days`: 20 days of events are backfilled for acme (events
 * carry their own times; day d back holds 50 + d sent and d % 4 hard
 * bounces, at one mailbox and gmail.com), beta gets a few. Then:
 *   - step=1d answers every day exactly, per day, with the rate series
 *     bounce_hard/sent (null on the day before the first), at tenant and
 *     mailbox scope; days 14..19 back are older than the daily ring, so
 *     they come from RocksDB (they reach it with the next flush, polled);
 *   - after a restart (memory rebuilt from the store) the same, exactly;
 *   - the 400s: unknown scope, a missing name, a bad step, a from before
 *     the retention, from after to, an unknown type; each with its reason;
 *   - the token wall: acme's token gets beta's series and scrape answered
 *     404, byte for byte what stats answers it for beta; beta's token
 *     reads beta; no token is 401;
 *   - the scrape GET /v1/tenants/acme/metrics with acme's token passes the
 *     strict text checker (tests/prom_text.c) and carries today's counter
 *     and the 7d window exactly;
 *   - `mailpulse history --csv` (acme's token) writes the 20 days as CSV
 *     rows, and the table names the days.
 *
 * Programs come from $MP_BIN_DIR. On failure the temp dir is kept.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "auth_matrix.h"
#include "check_main.h"
#include "e2e_suite.h"
#include "eng_types.h"
#include "prom_text.h"

#define RUN_MS 10000
#define COUNT_MS 15000
#define STORE_MS 15000 /* backfill -> RocksDB: the next flush (1 s) */
#define DAY_MS (24 * 3600 * 1000LL)
#define NDAYS 20

#define MB "ops@acme.example"

EW_FIXTURE("e2e-history")

static int64_t sent_on(int d) { return d < NDAYS ? 50 + d : 0; }
static int64_t bounced_on(int d) { return d < NDAYS ? d % 4 : 0; }

static long get(const char *path, const char *token, char **body)
{
    return ew_get_auth(&W, path, token, body);
}

static json_t *get_json(const char *path, const char *token, long want)
{
    char *body;
    long st = get(path, token, &body);
    json_t *j = json_loads(body ? body : "", 0, NULL);
    must(st == want && json_is_object(j), "%s: %ld %.300s, expected %ld", path, st, body, want);
    free(body);
    return j;
}

/* 0 when every day of the answer to `path` is as sent, else the first day
 * back that differs (its text in why). */
static int days_differ(const char *path, int64_t today, char *why, size_t n)
{
    json_t *j = get_json(path, AUTH_TOKEN_ADMIN, 200);
    json_t *pts = json_object_get(j, "points");
    int bad = -1;
    snprintf(why, n, "%zu points", json_array_size(pts));
    if (json_array_size(pts) != NDAYS + 1)
        bad = NDAYS + 1;
    for (int i = 0; bad < 0 && i <= NDAYS; i++) {
        int d = NDAYS - i;
        json_t *pt = json_array_get(pts, (size_t)i), *c = json_object_get(pt, "counts");
        json_t *r = json_object_get(pt, "rate");
        json_int_t s = json_integer_value(json_object_get(c, "sent"));
        json_int_t b = json_integer_value(json_object_get(c, "bounce_hard"));
        /* the API prints rates with 10 significant digits (mp_stats.h) */
        double want = sent_on(d) ? (double)bounced_on(d) / (double)sent_on(d) : 0;
        int rate_ok = sent_on(d) ? json_is_number(r) && fabs(json_number_value(r) - want) < 1e-10
                                 : json_is_null(r);
        if (json_integer_value(json_object_get(pt, "ts")) != (today - d) * 86400 ||
            s != sent_on(d) || b != bounced_on(d) || !rate_ok) {
            snprintf(why, n, "day -%d: sent %lld bounce_hard %lld, expected %lld %lld", d,
                     (long long)s, (long long)b, (long long)sent_on(d), (long long)bounced_on(d));
            bad = d;
        }
    }
    json_decref(j);
    return bad < 0 ? 0 : bad + 1;
}

/* Polls until both scopes answer every day as sent (the oldest days reach
 * RocksDB with a flush after the events are accepted). */
static void days_match(int64_t today)
{
    char tenant[256], mailbox[256], why[256] = "";
    long long from = (long long)(today - NDAYS) * 86400;
    snprintf(tenant, sizeof(tenant), "/v1/tenants/acme/series?step=1d&from=%lld"
                                     "&rate=bounce_hard/sent", from);
    snprintf(mailbox, sizeof(mailbox), "/v1/tenants/acme/series?step=1d&from=%lld&scope=mailbox"
                                       "&name=" MB "&rate=bounce_hard/sent", from);
    for (int t = 0; t < STORE_MS; t += 100) {
        if (!days_differ(tenant, today, why, sizeof(why)) &&
            !days_differ(mailbox, today, why, sizeof(why)))
            return;
        usleep(100 * 1000);
    }
    must(0, "history never matched what was sent: %s", why);
}

static void bad_request(const char *query, const char *says)
{
    char path[512];
    snprintf(path, sizeof(path), "/v1/tenants/acme/series?%s", query);
    json_t *j = get_json(path, AUTH_TOKEN_ACME, 400);
    const char *e = ew_jstr(j, "error");
    must(e && strstr(e, says), "%s: \"%s\", expected \"%s\"", query, e ? e : "-", says);
    json_decref(j);
}

static void token_wall(void)
{
    char *stats, *series, *scrape, *body;
    must(get("/v1/tenants/beta/stats", AUTH_TOKEN_ACME, &stats) == 404, "acme on beta's stats");
    must(get("/v1/tenants/beta/series?step=1d", AUTH_TOKEN_ACME, &series) == 404, "acme on beta's series");
    must(get("/v1/tenants/beta/metrics", AUTH_TOKEN_ACME, &scrape) == 404, "acme on beta's scrape");
    must(strcmp(stats, series) == 0 && strcmp(stats, scrape) == 0,
         "acme's 404s for beta differ: %s / %s / %s", stats, series, scrape);
    free(stats);
    free(series);
    free(scrape);
    must(get("/v1/tenants/beta/series?step=1d", AUTH_TOKEN_BETA, &body) == 200, "beta's own series");
    free(body);
    must(get("/v1/tenants/acme/series", NULL, &body) == 401, "series without a token");
    free(body);
    must(get("/v1/tenants/acme/metrics", NULL, &body) == 401, "scrape without a token");
    free(body);
}

static void scrape(void)
{
    char *text, why[256];
    uint64_t v;
    must(get("/v1/tenants/acme/metrics", AUTH_TOKEN_ACME, &text) == 200, "acme's scrape");
    must(prom_text_check(text, why, sizeof(why)) == 0, "scrape: %s", why);
    must(e2e_metric(text, "mailpulse_tenant_events_total{tenant=\"acme\",scope=\"mailbox\","
                          "mailbox=\"" MB "\",type=\"sent\"}", &v) == MP_OK && v == 50,
         "today's sent at the mailbox");
    must(e2e_metric(text, "mailpulse_tenant_window_events{tenant=\"acme\",scope=\"tenant\","
                          "type=\"sent\",window=\"7d\"}", &v) == MP_OK &&
             v == 50 + 51 + 52 + 53 + 54 + 55 + 56,
         "the tenant's 7d sent");
    must(strstr(text, "beta") == NULL, "beta in acme's scrape");
    free(text);
}

#define CLI(...) ((char *[]){W.mailpulse, "history", "--api", api, __VA_ARGS__, NULL})

/* Runs `mailpulse history ...` (argv) to its end: its exit status. */
static int w_cli(const char *name, char *const *argv)
{
    memset(&W.cli, 0, sizeof(W.cli));
    must_ok(e2e_run(&W.cli, name, W.dir, argv, RUN_MS, W.err, sizeof(W.err)));
    must(WIFEXITED(W.cli.status), "mailpulse history (%s) did not exit normally", name);
    return WEXITSTATUS(W.cli.status);
}

static void cli(int64_t today)
{
    char api[128], from[32], row[96];
    snprintf(api, sizeof(api), "http://%s", W.http);
    snprintf(from, sizeof(from), "%lld", (long long)(today - NDAYS + 1) * 86400);
    must(w_cli("history-csv", CLI("--tenant", "acme", "--step", "1d", "--from", from, "--types",
                                  "sent,bounce_hard", "--rate", "bounce_hard/sent", "--csv",
                                  "--token", AUTH_TOKEN_ACME)) == 0,
         "history --csv failed");
    must(e2e_file_contains(W.cli.out_path, "time,sent,bounce_hard,rate\n"), "csv header");
    for (int d = 0; d < NDAYS; d++) {
        time_t s = (time_t)((today - d) * 86400);
        struct tm tm;
        gmtime_r(&s, &tm);
        char day[32];
        strftime(day, sizeof(day), "%Y-%m-%dT00:00:00Z", &tm);
        snprintf(row, sizeof(row), "%s,%lld,%lld,%.10g\n", day, (long long)sent_on(d),
                 (long long)bounced_on(d), (double)bounced_on(d) / (double)sent_on(d));
        must(e2e_file_contains(W.cli.out_path, row), "csv lacks %s", row);
    }
    must(w_cli("history-table", CLI("--tenant", "acme", "--step", "1d", "--token", AUTH_TOKEN_ACME)) == 0,
         "history (table) failed");
    must(e2e_file_contains(W.cli.out_path, "tenant acme, tenant, step 1d\n"), "table title");
    must(w_cli("history-bad", CLI("--tenant", "acme", "--step", "2h", "--token", AUTH_TOKEN_ACME)) == 1,
         "history --step 2h: exit 1 (the daemon's 400)");
    must(e2e_file_contains(W.cli.err_path, "bad step"), "history --step 2h: the reason");
}

START_TEST(twenty_days)
{
    ew_start_daemon(&W, (struct e2e_daemon_conf){
                            .http_extra = "  metrics_open: true\n" AUTH_TOKENS_YAML});
    /* Days are UTC days back from today: do not straddle midnight. */
    int64_t to_midnight = DAY_MS - mp_now_ms() % DAY_MS;
    if (to_midnight < 60000)
        usleep((useconds_t)(to_midnight + 1000) * 1000);
    int64_t now = mp_now_ms(), today = now / DAY_MS;
    for (int d = NDAYS - 1; d >= 0; d--) {
        int64_t t = now - d * DAY_MS;
        ew_send(&W, "acme", MB, "gmail.com", ENG_SENT, (size_t)sent_on(d), t);
        if (bounced_on(d))
            ew_send(&W, "acme", MB, "gmail.com", ENG_BOUNCE_HARD, (size_t)bounced_on(d), t);
    }
    ew_send(&W, "beta", "x@beta.example", "gmail.com", ENG_SENT, 3, now);
    ew_wait_metric(&W, "mailpulse_events_accepted_total", W.sent, COUNT_MS);
    days_match(today);

    bad_request("scope=planet", "unknown scope \"planet\"; allowed: tenant, mailbox");
    bad_request("scope=mailbox", "scope=mailbox needs name=");
    bad_request("step=2h", "bad step \"2h\"");
    bad_request("step=1d&from=2026-01-01T00:00:00Z", "range too long: step=1d reaches back");
    bad_request("from=2026-11-22T12:00:00Z&to=2026-11-22T10:00:00Z", "from is after to");
    bad_request("types=sent,bounces", "unknown event type \"bounces\"");
    token_wall();
    scrape();
    cli(today);

    /* After a restart memory holds what the store gave back: the same days. */
    ew_stop_ok(&W, &W.daemon);
    ew_spawn_daemon(&W);
    days_match(today);
    W.passed = 1;
}
END_TEST

EW_SUITE("e2e_history", 120, setup, teardown, {twenty_days, 0})
