/* test_e2e_stats.c — Check suite "e2e_stats": the stats API and
 * `mailpulse stats` against the real mailpulsed.
 *
 * Each case runs in its own forked process (CK_FORK=yes) with its own temp
 * directory, ports and daemon (tests/e2e_harness.h). Events for two tenants
 * go in through the daemon's ZeroMQ PULL socket with event times chosen so
 * that each window's figures are exact whatever the wall clock says: now and
 * 30 minutes ago (every window), 2 hours ago (24h and 7d), 3 days ago (7d
 * only), 10 days ago (no window).
 *
 * Cases:
 *   api_exact          every window x (totals, by=mailbox, by=recipient_domain)
 *                      x both tenants: all 12 counts and 8 rates, group order
 *                      (sent desc, then name), limit and groups_total; HEAD.
 *   api_errors         400/404 JSON errors for bad window, by, limit, tenant
 *                      (percent-encoded junk, overlong), path; unknown tenant;
 *                      405 with Allow for other methods; other routes unharmed.
 *   cli                the real `mailpulse stats`: table numbers, --by rows,
 *                      --json, the server's 404 message with exit 1, an
 *                      unreachable daemon (exit 1), bad usage (exit 2).
 *
 * Programs come from $MP_BIN_DIR (set by `make check-tests`). On failure the
 * temp directory (config, logs) is kept and named in the message.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <zmq.h>

#include "e2e_suite.h"
#include "eng_types.h"
#include "mp_buf.h"
#include "check_main.h"
#include "unit_util.h"

#define COUNT_MS 5000  /* events sent -> visible through the API */
#define RUN_MS 10000   /* one `mailpulse stats` run */

#define MIN_MS (60 * 1000LL)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)

/* ---- the data ------------------------------------------------------------------ */

enum { W_1H = 1, W_24H = 2, W_7D = 4 };

static const struct {
    const char *name;
    int bit;
} windows[] = {{"1h", W_1H}, {"24h", W_24H}, {"7d", W_7D}};

/* One batch of identical events. */
struct row {
    const char *tenant, *mailbox, *domain;
    int type;
    size_t n;
    int64_t age_ms;
    int in; /* windows holding it */
};

#define NOW 0, W_1H | W_24H | W_7D
#define AGO_30M (30 * MIN_MS), W_1H | W_24H | W_7D
#define AGO_2H (2 * HOUR_MS), W_24H | W_7D
#define AGO_3D (3 * DAY_MS), W_7D
#define AGO_10D (10 * DAY_MS), 0

#define TA "team-a"
#define TB "team-b"
#define SALES "sales@team-a.example"
#define NEWS "news@team-a.example"
#define OLD "old@team-a.example"
#define INFO "info@team-b.example"

static const struct row rows[] = {
    {TA, SALES, "gmail.com", ENG_SENT, 200, NOW},
    {TA, SALES, "gmail.com", ENG_DELIVERED, 190, NOW},
    {TA, SALES, "gmail.com", ENG_BOUNCE_HARD, 6, NOW},
    {TA, SALES, "gmail.com", ENG_COMPLAINT, 1, NOW},
    {TA, SALES, "gmail.com", ENG_OPEN, 40, NOW},
    {TA, SALES, "gmail.com", ENG_CLICK, 5, NOW},
    {TA, SALES, "yahoo.com", ENG_SENT, 100, AGO_30M},
    {TA, SALES, "yahoo.com", ENG_DELIVERED, 95, AGO_30M},
    {TA, SALES, "yahoo.com", ENG_BOUNCE_SOFT, 2, AGO_30M},
    {TA, SALES, "yahoo.com", ENG_DEFERRED, 3, AGO_30M},
    {TA, NEWS, "gmail.com", ENG_SENT, 300, AGO_2H},
    {TA, NEWS, "gmail.com", ENG_DELIVERED, 280, AGO_2H},
    {TA, NEWS, "gmail.com", ENG_BOUNCE_HARD, 20, AGO_2H},
    {TA, NEWS, "gmail.com", ENG_UNSUBSCRIBE, 4, AGO_2H},
    {TA, NEWS, "gmail.com", ENG_REPLY, 2, AGO_2H},
    {TA, NEWS, "outlook.com", ENG_SENT, 50, AGO_3D},
    {TA, NEWS, "outlook.com", ENG_DELIVERED, 50, AGO_3D},
    {TA, NEWS, "outlook.com", ENG_OPEN, 25, AGO_3D},
    {TA, NEWS, "outlook.com", ENG_SPAM_TRAP, 1, AGO_3D},
    {TA, NEWS, "outlook.com", ENG_BLOCKED, 2, AGO_3D},
    {TA, OLD, "gmail.com", ENG_SENT, 999, AGO_10D},
    {TB, INFO, "gmail.com", ENG_SENT, 80, NOW},
    {TB, INFO, "gmail.com", ENG_DELIVERED, 80, NOW},
    {TB, INFO, "gmail.com", ENG_COMPLAINT, 2, NOW},
    {TB, INFO, "gmail.com", ENG_SENT, 20, AGO_2H},
    {TB, INFO, "gmail.com", ENG_BOUNCE_HARD, 1, AGO_2H},
};

EW_FIXTURE("e2e-stats")

static void w_start_daemon(void) { ew_start_daemon(&W, (struct e2e_daemon_conf){0}); }

/* ---- HTTP ------------------------------------------------------------------------ */

/* method url -> *a (body NUL-terminated, "" when empty). */
static void http(const char *method, const char *url, struct unit_answer *a)
{
    unit_http(method, url, NULL, 0, NULL, 3000, a);
}

/* GET base + path; must answer 200 with JSON. */
static json_t *get_json(const char *path)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s%s", W.base, path);
    struct unit_answer a;
    http("GET", url, &a);
    must(a.status == 200, "GET %s: %ld %s", path, a.status, a.body.p);
    must(strcmp(a.ctype, "application/json") == 0, "GET %s: Content-Type %s", path, a.ctype);
    json_error_t je;
    json_t *j = json_loads(a.body.p, 0, &je);
    must(j != NULL, "GET %s: not JSON (%s): %s", path, je.text, a.body.p);
    mp_buf_free(&a.body);
    return j;
}

/* ---- expectations ---------------------------------------------------------------- */

/* Sums the rows of `tenant` in window `bit` whose mailbox or domain is
 * `name` (NULL: all) into c. */
static void expect(const char *tenant, int bit, int scope, const char *name,
                   uint64_t c[ENG_NTYPES])
{
    memset(c, 0, sizeof(uint64_t) * ENG_NTYPES);
    for (size_t i = 0; i < MP_ARRAY_LEN(rows); i++) {
        const struct row *r = &rows[i];
        if (strcmp(r->tenant, tenant) != 0 || !(r->in & bit))
            continue;
        if (name && strcmp(scope == ENG_SCOPE_MAILBOX ? r->mailbox : r->domain, name) != 0)
            continue;
        c[r->type - 1] += r->n;
    }
}

static int any(const uint64_t c[ENG_NTYPES])
{
    for (int i = 0; i < ENG_NTYPES; i++)
        if (c[i])
            return 1;
    return 0;
}

static void rate_is(json_t *rates, const char *name, uint64_t num, uint64_t den, const char *ctx)
{
    json_t *v = json_object_get(rates, name);
    must(v != NULL, "%s: rates.%s missing", ctx, name);
    if (den == 0) {
        must(json_is_null(v), "%s: rates.%s should be null", ctx, name);
        return;
    }
    double want = (double)num / (double)den, got = json_number_value(v);
    /* the daemon prints 10 significant digits */
    must(json_is_number(v) && fabs(got - want) <= 1e-9 * want,
         "%s: rates.%s = %.17g, expected %llu/%llu", ctx, name, got, (unsigned long long)num,
         (unsigned long long)den);
}

static void figures_are(json_t *o, const uint64_t c[ENG_NTYPES], const char *ctx)
{
    json_t *counts = json_object_get(o, "counts"), *rates = json_object_get(o, "rates");
    must(json_object_size(counts) == ENG_NTYPES, "%s: %zu counts", ctx, json_object_size(counts));
    for (int ty = ENG_TYPE_MIN; ty <= ENG_TYPE_MAX; ty++) {
        json_t *v = json_object_get(counts, eng_type_name(ty));
        must(json_is_integer(v) && (uint64_t)json_integer_value(v) == c[ty - 1],
             "%s: counts.%s = %lld, expected %llu", ctx, eng_type_name(ty),
             (long long)json_integer_value(v), (unsigned long long)c[ty - 1]);
    }
#define C(ty) c[(ty) - 1]
    rate_is(rates, "bounce_rate", C(ENG_BOUNCE_HARD), C(ENG_SENT), ctx);
    rate_is(rates, "soft_bounce_rate", C(ENG_BOUNCE_SOFT), C(ENG_SENT), ctx);
    rate_is(rates, "block_rate", C(ENG_BLOCKED), C(ENG_SENT), ctx);
    rate_is(rates, "deferral_rate", C(ENG_DEFERRED), C(ENG_SENT), ctx);
    rate_is(rates, "delivery_rate", C(ENG_DELIVERED), C(ENG_SENT), ctx);
    rate_is(rates, "complaint_rate", C(ENG_COMPLAINT), C(ENG_DELIVERED), ctx);
    rate_is(rates, "engagement_rate", C(ENG_OPEN) + C(ENG_CLICK) + C(ENG_REPLY), C(ENG_DELIVERED),
            ctx);
    rate_is(rates, "unsubscribe_rate", C(ENG_UNSUBSCRIBE), C(ENG_DELIVERED), ctx);
#undef C
}

/* The expected groups of tenant/window/scope, sorted like the API sorts. */
struct group {
    const char *name;
    uint64_t c[ENG_NTYPES];
};

static int group_cmp(const void *a, const void *b)
{
    const struct group *x = a, *y = b;
    uint64_t sx = x->c[ENG_SENT - 1], sy = y->c[ENG_SENT - 1];
    if (sx != sy)
        return sx > sy ? -1 : 1;
    return strcmp(x->name, y->name);
}

static size_t expect_groups(const char *tenant, int bit, int scope, struct group *g, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < MP_ARRAY_LEN(rows); i++) {
        const struct row *r = &rows[i];
        const char *name = scope == ENG_SCOPE_MAILBOX ? r->mailbox : r->domain;
        if (strcmp(r->tenant, tenant) != 0)
            continue;
        size_t k = 0;
        while (k < n && strcmp(g[k].name, name) != 0)
            k++;
        if (k < n)
            continue;
        must(n < max, "too many groups");
        g[n].name = name;
        expect(tenant, bit, scope, name, g[n].c);
        if (any(g[n].c))
            n++;
    }
    qsort(g, n, sizeof(*g), group_cmp);
    return n;
}

static void w_send_rows(void)
{
    int64_t now = mp_now_ms();
    uint64_t total = 0;
    for (size_t i = 0; i < MP_ARRAY_LEN(rows); i++) {
        const struct row *r = &rows[i];
        must_ok(e2e_send_events(W.push, r->tenant, r->mailbox, r->domain, r->type, r->n,
                                now - r->age_ms));
        total += r->n;
    }
    /* Counted: accepted_total reaches the total, and both tenants' 7d sent
     * show every sent event (the API reads the table itself). */
    int64_t deadline = mp_mono_ns() + (int64_t)COUNT_MS * 1000000;
    uint64_t acc = 0;
    for (;;) {
        long st = 0;
        char *text = NULL;
        if (e2e_http_get(W.metrics, 2000, &st, &text) == MP_OK && st == 200)
            e2e_metric(text, "mailpulse_events_accepted_total", &acc);
        free(text);
        if (acc >= total || mp_mono_ns() > deadline)
            break;
        usleep(5000);
    }
    must(acc == total, "mailpulse_events_accepted_total is %llu, expected %llu",
         (unsigned long long)acc, (unsigned long long)total);
}

/* ---- api_exact ------------------------------------------------------------------- */

START_TEST(api_exact)
{
    w_start_daemon();
    w_send_rows();
    static const char *const tenants[] = {TA, TB};
    static const struct {
        const char *by;
        int scope;
    } bys[] = {{NULL, ENG_SCOPE_TENANT},
               {"mailbox", ENG_SCOPE_MAILBOX},
               {"recipient_domain", ENG_SCOPE_DOMAIN}};
    for (size_t t = 0; t < MP_ARRAY_LEN(tenants); t++)
        for (size_t w = 0; w < MP_ARRAY_LEN(windows); w++)
            for (size_t b = 0; b < MP_ARRAY_LEN(bys); b++) {
                char path[256], ctx[300];
                snprintf(path, sizeof(path), "/v1/tenants/%s/stats?window=%s%s%s", tenants[t],
                         windows[w].name, bys[b].by ? "&by=" : "", bys[b].by ? bys[b].by : "");
                json_t *j = get_json(path);
                char *dump = json_dumps(j, JSON_COMPACT);
                snprintf(ctx, sizeof(ctx), "GET %s", path);
                must(json_is_string(json_object_get(j, "tenant")) &&
                         strcmp(json_string_value(json_object_get(j, "tenant")), tenants[t]) == 0,
                     "%s: tenant: %s", ctx, dump);
                must(json_is_string(json_object_get(j, "window")) &&
                         strcmp(json_string_value(json_object_get(j, "window")),
                                windows[w].name) == 0,
                     "%s: window: %s", ctx, dump);
                uint64_t c[ENG_NTYPES];
                expect(tenants[t], windows[w].bit, ENG_SCOPE_TENANT, NULL, c);
                figures_are(j, c, ctx);
                if (bys[b].by) {
                    struct group g[8];
                    size_t n = expect_groups(tenants[t], windows[w].bit, bys[b].scope, g, 8);
                    json_t *arr = json_object_get(j, "groups");
                    must(json_integer_value(json_object_get(j, "groups_total")) == (json_int_t)n,
                         "%s: groups_total, expected %zu: %s", ctx, n, dump);
                    must(json_array_size(arr) == n, "%s: %zu groups, expected %zu: %s", ctx,
                         json_array_size(arr), n, dump);
                    for (size_t k = 0; k < n; k++) {
                        json_t *o = json_array_get(arr, k);
                        const char *name = json_string_value(json_object_get(o, bys[b].by));
                        must(name && strcmp(name, g[k].name) == 0,
                             "%s: group %zu is %s, expected %s: %s", ctx, k, name ? name : "-",
                             g[k].name, dump);
                        figures_are(o, g[k].c, ctx);
                    }
                } else {
                    must(json_object_get(j, "groups") == NULL, "%s: groups: %s", ctx, dump);
                }
                free(dump);
                json_decref(j);
            }

    /* 24h by mailbox ties at 300 sent: name decides (news < sales) */
    json_t *j = get_json("/v1/tenants/" TA "/stats?window=24h&by=mailbox");
    json_t *arr = json_object_get(j, "groups");
    must(json_array_size(arr) == 2 &&
             strcmp(json_string_value(json_object_get(json_array_get(arr, 0), "mailbox")), NEWS) ==
                 0,
         "tie order");
    json_decref(j);
    /* limit cuts the list, groups_total keeps the count */
    j = get_json("/v1/tenants/" TA "/stats?window=7d&by=recipient_domain&limit=1");
    arr = json_object_get(j, "groups");
    must(json_array_size(arr) == 1 && json_integer_value(json_object_get(j, "groups_total")) == 3 &&
             json_integer_value(json_object_get(j, "limit")) == 1 &&
             strcmp(json_string_value(json_object_get(json_array_get(arr, 0), "recipient_domain")),
                    "gmail.com") == 0,
         "limit=1");
    json_decref(j);
    /* no window: 24h */
    j = get_json("/v1/tenants/" TB "/stats");
    must(strcmp(json_string_value(json_object_get(j, "window")), "24h") == 0, "default window");
    json_decref(j);
    /* HEAD: the GET's status and headers, no body */
    struct unit_answer a;
    char url[256];
    snprintf(url, sizeof(url), "%s/v1/tenants/%s/stats?window=1h", W.base, TA);
    http("HEAD", url, &a);
    must(a.status == 200 && a.body.len == 0 && strcmp(a.ctype, "application/json") == 0,
         "HEAD %s: %ld, %zu body bytes, Content-Type %s", url, a.status, a.body.len, a.ctype);
    mp_buf_free(&a.body);
    W.passed = 1;
}
END_TEST

/* ---- api_errors ------------------------------------------------------------------ */

static const struct {
    const char *method;
    const char *path; /* after the base URL, sent as is */
    long status;
    const char *msg; /* a substring of the "error" */
} errors[] = {
    {"GET", "/v1/tenants/" TA "/stats?window=2h", 400, "bad window \"2h\"; allowed: 1h, 24h, 7d"},
    {"GET", "/v1/tenants/" TA "/stats?window=", 400, "bad window \"\""},
    {"GET", "/v1/tenants/" TA "/stats?window=1h&window=7d", 400, "given more than once"},
    {"GET", "/v1/tenants/" TA "/stats?by=domain", 400, "allowed: mailbox, recipient_domain, provider, mailbox_provider, campaign"},
    {"GET", "/v1/tenants/" TA "/stats?by=mailbox&limit=0", 400, "allowed: an integer 1..10000"},
    {"GET", "/v1/tenants/" TA "/stats?by=mailbox&limit=10001", 400, "bad limit"},
    {"GET", "/v1/tenants/" TA "/stats?limit=5", 400, "limit applies to grouped stats"},
    {"GET", "/v1/tenants/" TA "/stats?windw=1h", 400, "unknown query parameter \"windw\""},
    {"GET", "/v1/tenants/" TA "/stats?window=%FF", 400, "bad window \"?\""},
    {"GET", "/v1/tenants/team%20a/stats", 400, "bad tenant name \"team a\""},
    {"GET", "/v1/tenants/%FF%FE/stats", 400, "bad tenant name \"??\""},
    {"GET", "/v1/tenants/%3Cscript%3E/stats", 400, "bad tenant name \"<script>\""},
    {"GET", "/v1/tenants/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/stats",
     400, "(65 bytes); allowed: 1..64 characters"},
    {"GET", "/v1/tenants/team%2Fa/stats", 404, "expected /v1/tenants/{tenant}/stats"},
    {"GET", "/v1/tenants/%00/stats", 404, "no such path"},
    {"GET", "/v1/tenants/" TA, 404, "expected /v1/tenants/{tenant}/stats"},
    {"GET", "/v1/tenants/" TA "/stats/", 404, "no such path"},
    {"GET", "/v1/tenants/", 404, "no such path"},
    {"GET", "/v1/tenant/" TA "/stats", 404, "no such path"},
    {"GET", "/v1/tenants/team-z/stats", 404, "unknown tenant \"team-z\""},
    {"POST", "/v1/tenants/" TA "/stats", 405, "method POST not allowed; allowed: GET, HEAD"},
    {"DELETE", "/v1/tenants/" TA "/stats", 405, "not allowed"},
    {"PUT", "/v1/tenants/nope/anything", 405, "not allowed"},
    {"POST", "/healthz", 405, "not allowed"},
};

START_TEST(api_errors)
{
    w_start_daemon();
    must_ok(e2e_send_events(W.push, TA, SALES, "gmail.com", ENG_SENT, 1, mp_now_ms()));
    /* wait for team-a to exist, so 404s below are about what they say */
    int64_t deadline = mp_mono_ns() + (int64_t)COUNT_MS * 1000000;
    char url[1024];
    snprintf(url, sizeof(url), "%s/v1/tenants/%s/stats", W.base, TA);
    long st = 0;
    while ((e2e_http_get(url, 2000, &st, NULL) != MP_OK || st != 200) && mp_mono_ns() < deadline)
        usleep(5000);
    must(st == 200, "GET %s: %ld", url, st);

    for (size_t i = 0; i < MP_ARRAY_LEN(errors); i++) {
        struct unit_answer a;
        snprintf(url, sizeof(url), "%s%s", W.base, errors[i].path);
        http(errors[i].method, url, &a);
        must(a.status == errors[i].status, "%s %s: %ld, expected %ld: %s", errors[i].method,
             errors[i].path, a.status, errors[i].status, a.body.p);
        must(strcmp(a.ctype, "application/json") == 0, "%s %s: Content-Type %s",
             errors[i].method, errors[i].path, a.ctype);
        json_t *j = json_loads(a.body.p, 0, NULL);
        const char *msg = json_string_value(json_object_get(j, "error"));
        must(msg && strstr(msg, errors[i].msg), "%s %s: error lacks \"%s\": %s", errors[i].method,
             errors[i].path, errors[i].msg, a.body.p);
        if (a.status == 405)
            must(strcmp(a.allow, "GET, HEAD") == 0, "%s %s: Allow \"%s\"", errors[i].method,
                 errors[i].path, a.allow);
        json_decref(j);
        mp_buf_free(&a.body);
    }
    /* the other routes are unharmed */
    struct unit_answer a;
    http("GET", W.healthz, &a);
    must(a.status == 200, "/healthz: %ld", a.status);
    mp_buf_free(&a.body);
    snprintf(url, sizeof(url), "%s/nope", W.base);
    http("GET", url, &a);
    must(a.status == 404 && strstr(a.body.p, "no such path"), "/nope: %ld %s", a.status, a.body.p);
    mp_buf_free(&a.body);
    W.passed = 1;
}
END_TEST

/* ---- cli ------------------------------------------------------------------------- */

/* Runs `mailpulse stats ARGS...`; returns its exit status. stdout and stderr
 * are in W.cli.out_path / err_path. */
static int w_cli(const char *name, char *const *args)
{
    char *argv[16] = {W.mailpulse, "stats"};
    size_t n = 2;
    for (; args[n - 2]; n++) {
        must(n < MP_ARRAY_LEN(argv) - 1, "too many arguments");
        argv[n] = args[n - 2];
    }
    argv[n] = NULL;
    memset(&W.cli, 0, sizeof(W.cli));
    must_ok(e2e_run(&W.cli, name, W.dir, argv, RUN_MS, W.err, sizeof(W.err)));
    must(WIFEXITED(W.cli.status), "mailpulse stats (%s) did not exit normally", name);
    return WEXITSTATUS(W.cli.status);
}

static void out_has(const char *path, const char *needle)
{
    char tail[3000];
    e2e_file_tail(path, tail, sizeof(tail));
    must(e2e_file_contains(path, needle), "%s lacks \"%s\":\n%s", path, needle, tail);
}

START_TEST(cli)
{
    w_start_daemon();
    w_send_rows();
    char api[128];
    snprintf(api, sizeof(api), "http://%s", W.http);

    /* team-a over 24h: sent 200 + 100 + 300 = 600, hard bounces 26 (4.33%),
     * delivered 565, complaints 1 (0.18%), opens+clicks+replies 47 (8.32%) */
    must(w_cli("stats-24h", (char *[]){"--api", api, "--tenant", TA, "--window", "24h", NULL}) ==
             0,
         "exit status");
    out_has(W.cli.out_path, "tenant team-a, window 24h\n");
    out_has(W.cli.out_path, "  sent                  600    bounce_rate           4.33%\n");
    out_has(W.cli.out_path, "  delivered             565    soft_bounce_rate      0.33%\n");
    out_has(W.cli.out_path, "  complaint               1    engagement_rate       8.32%\n");
    out_has(W.cli.out_path, "complaint_rate        0.18%\n");

    /* by mailbox over 7d: news (350) then sales (300); old is outside */
    must(w_cli("stats-by", (char *[]){"--api", api, "--tenant", TA, "--window", "7d", "--by",
                                      "mailbox", NULL}) == 0,
         "exit status");
    out_has(W.cli.out_path, "by mailbox: 2 with events in the window, most sent first\n");
    out_has(W.cli.out_path, "  news@team-a.example        350       330        20");
    out_has(W.cli.out_path, "  sales@team-a.example       300       285         6");
    must(!e2e_file_contains(W.cli.out_path, OLD), "old mailbox shown");
    char *text = NULL;
    must_ok(e2e_read_file(W.cli.out_path, &text, NULL));
    must(strstr(text, NEWS) < strstr(text, SALES), "news must come first:\n%s", text);
    free(text);

    /* --limit with --by: 1 of 3 domains, and says so */
    must(w_cli("stats-limit", (char *[]){"--api", api, "--tenant", TA, "--window", "7d", "--by",
                                         "recipient_domain", "--limit", "1", NULL}) == 0,
         "exit status");
    out_has(W.cli.out_path, "  gmail.com");
    out_has(W.cli.out_path, "1 of 3 shown");

    /* --json: the body as is */
    must(w_cli("stats-json", (char *[]){"--api", api, "--tenant", TB, "--json", NULL}) == 0,
         "exit status");
    json_t *j = NULL;
    must_ok(e2e_read_file(W.cli.out_path, &text, NULL));
    j = json_loads(text, 0, NULL);
    must(j && json_integer_value(json_object_get(json_object_get(j, "counts"), "sent")) == 100,
         "--json output: %s", text);
    json_decref(j);
    free(text);

    /* unknown tenant: the server's message, exit 1 */
    must(w_cli("stats-unknown", (char *[]){"--api", api, "--tenant", "team-z", NULL}) == 1,
         "exit status for an unknown tenant");
    out_has(W.cli.err_path, "mailpulse stats: the daemon answered 404: unknown tenant \"team-z\"");

    /* nobody listening: exit 1 with the reason */
    char dead[64];
    snprintf(dead, sizeof(dead), "http://127.0.0.1:%u", (unsigned)ew_port(&W));
    must(w_cli("stats-dead", (char *[]){"--api", dead, "--tenant", TA, NULL}) == 1,
         "exit status for an unreachable daemon");
    out_has(W.cli.err_path, "mailpulse stats: cannot get ");
    out_has(W.cli.err_path, "is mailpulsed running");

    /* bad usage: exit 2, nothing asked */
    static const char *const bad[][3] = {
        {"--window", "2h", "expected 1h, 24h or 7d"},
        {"--by", "domain", "expected mailbox, recipient_domain, provider"},
        {"--limit", "0", "--limit: expected an integer 1..10000"},
        {"--tenant", "a b", "--tenant: expected 1..64 characters"},
    };
    for (size_t i = 0; i < MP_ARRAY_LEN(bad); i++) {
        const char *tenant = strcmp(bad[i][0], "--tenant") == 0 ? bad[i][1] : TA;
        must(w_cli("stats-usage",
                   (char *[]){"--api", api, "--tenant", (char *)tenant, (char *)bad[i][0],
                              (char *)bad[i][1], "--by", "mailbox", NULL}) == 2,
             "exit status for %s %s", bad[i][0], bad[i][1]);
        out_has(W.cli.err_path, bad[i][2]);
    }
    must(w_cli("stats-notenant", (char *[]){"--api", api, NULL}) == 2, "no --tenant");
    out_has(W.cli.err_path, "missing required option --tenant");
    W.passed = 1;
}
END_TEST

EW_SUITE("e2e_stats", 45, setup, teardown, {api_exact, 0}, {api_errors, 0}, {cli, 0})
