/* test_e2e_auth.c — Check suite "e2e_auth": API authentication against the
 * real mailpulsed (http.tokens, http.metrics_open, the loopback rule).
 *
 * Cases:
 *   per_token     a daemon with an admin token and tokens for acme and beta:
 *                 every route x {no token, a bad token, admin, acme, beta}
 *                 answers its status; acme's 404 for beta's stats, alerts and
 *                 dead letters is byte for byte the 404 of a tenant that does
 *                 not exist (taken before beta had any event, and again after);
 *                 once both tenants' bounce alerts fire, /v1/alerts lists only
 *                 the token's tenant; GET /v1/tenants lists acme and beta
 *                 for the admin and the token's own tenant alone for each
 *                 tenant token; /healthz stays open; `mailpulse stats`
 *                 and `mailpulse alerts` with --token, with $MAILPULSE_TOKEN,
 *                 without (401, exit 1) and on a foreign tenant (404, exit 1);
 *                 no token appears in the daemon's logs or the CLI's output.
 *   metrics_open  /metrics needs no token, everything else still does.
 *   refusal       0.0.0.0 and [::] without tokens: `mailpulsed --check` and a
 *                 start both refuse, with file:line: http.listen and why; with
 *                 a token the same address starts and answers; a too short
 *                 token is refused by key, its value not shown.
 *
 * Programs come from $MP_BIN_DIR. On failure the temp directory (config,
 * logs) is kept and named in the message.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "auth_matrix.h"
#include "check_main.h"
#include "cli_api.h"
#include "e2e_suite.h"

#define RUN_MS 10000
#define COUNT_MS 10000
#define ALERT_MS 10000

#define ADMIN AUTH_TOKEN_ADMIN
#define ACME AUTH_TOKEN_ACME
#define BETA AUTH_TOKEN_BETA
#define BAD "bad-0000000000000000000"

enum { T_SENT = 1, T_BOUNCE_HARD = 3 };

EW_FIXTURE("e2e-auth")

#define TOKENS AUTH_TOKENS_YAML

/* The config: the world's data dir and PULL, http.listen on `host` at the
 * world's HTTP port, then `http_extra` (lines of the http section). */
static void w_config(const char *host, const char *http_extra)
{
    char text[4096];
    const char *port = strrchr(W.http, ':');
    snprintf(text, sizeof(text),
             "data_dir: \"%s\"\n"
             "ingest:\n"
             "  pull: \"%s\"\n"
             "  workers: 2\n"
             "http:\n"
             "  listen: \"%s%s\"\n"
             "%s",
             W.data, W.pull, host, port, http_extra);
    must_ok(e2e_write_file(W.cfg, text, W.err, sizeof(W.err)));
}

/* GET base+path with `token` (NULL: none): the status; *body is the caller's. */
static long get(const char *path, const char *token, char **body)
{
    return ew_get_auth(&W, path, token, body);
}

static long status_of(const char *path, const char *token)
{
    char *body = NULL;
    long st = get(path, token, &body);
    free(body);
    return st;
}

/* Polls path with token until it answers `want`. */
static void wait_status(const char *path, const char *token, long want, int timeout_ms)
{
    long st = 0;
    for (int t = 0; t < timeout_ms; t += 50) {
        if ((st = status_of(path, token)) == want)
            return;
        usleep(50 * 1000);
    }
    must(0, "%s: %ld, expected %ld within %d ms", path, st, want, timeout_ms);
}

/* What acme's token gets for beta: stats, alerts and dead letters, joined. */
static char *acme_view_of_beta(void)
{
    static const char *paths[] = {"/v1/tenants/beta/stats", "/v1/alerts?tenant=beta",
                                  "/v1/alerts/dead?tenant=beta"};
    size_t n = 0;
    char *all = calloc(1, 4096), *body = NULL;
    must(all != NULL, "out of memory");
    for (size_t i = 0; i < MP_ARRAY_LEN(paths); i++) {
        long st = get(paths[i], ACME, &body);
        must(st == 404, "%s with acme's token: %ld %s", paths[i], st, body);
        n += (size_t)snprintf(all + n, 4096 - n, "%s\n", body);
        free(body);
    }
    return all;
}

static const char *const tokens[AUTH_NWHO] = {NULL, BAD, ADMIN, ACME, BETA};

/* The tenants of a /v1/alerts answer: how many alerts of `tenant`, and of others. */
static void alert_tenants(json_t *doc, const char *tenant, size_t *mine, size_t *other)
{
    size_t i;
    json_t *al;
    *mine = *other = 0;
    json_array_foreach(json_object_get(doc, "alerts"), i, al)
    {
        const char *t = json_string_value(json_object_get(json_object_get(al, "labels"), "tenant"));
        if (ew_streq(t, tenant))
            (*mine)++;
        else
            (*other)++;
    }
}

static json_t *get_json(const char *path, const char *token)
{
    char *body = NULL;
    long st = get(path, token, &body);
    json_t *j = json_loads(body, 0, NULL);
    must(st == 200 && j, "%s: %ld %s", path, st, body);
    free(body);
    return j;
}

/* Both tenants' bounce alerts fire; each tenant token lists its own only. */
/* GET /v1/tenants: the admin sees acme and beta, each tenant token its
 * own alone (never the other's name). */
static void tenants_listed(void)
{
    static const struct {
        const char *token, *want, *not;
    } who[] = {{ADMIN, "acme,beta", NULL}, {ACME, "acme", "beta"}, {BETA, "beta", "acme"}};
    for (size_t i = 0; i < MP_ARRAY_LEN(who); i++) {
        char *body = NULL;
        must(get("/v1/tenants", who[i].token, &body) == 200, "/v1/tenants: %s", body);
        json_t *j = json_loads(body, 0, NULL), *l = json_object_get(j, "tenants");
        char names[64] = "";
        for (size_t k = 0; k < json_array_size(l); k++)
            snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", k ? "," : "",
                     json_string_value(json_object_get(json_array_get(l, k), "tenant")));
        must(strcmp(names, who[i].want) == 0 &&
                 json_integer_value(json_object_get(j, "tenants_total")) ==
                     (json_int_t)json_array_size(l),
             "/v1/tenants lists \"%s\", want \"%s\"", names, who[i].want);
        must(!who[i].not || !strstr(body, who[i].not), "/v1/tenants names %s: %s", who[i].not,
             body);
        json_decref(j);
        free(body);
    }
}

static void alerts_filtered(void)
{
    size_t mine = 0, other = 0;
    int64_t now = mp_now_ms();
    ew_send(&W, "acme", "news@acme.example", "gmail.com", T_BOUNCE_HARD, 20, now);
    ew_send(&W, "beta", "news@beta.example", "gmail.com", T_BOUNCE_HARD, 20, now);
    for (int t = 0; t < ALERT_MS; t += 100) {
        json_t *all = get_json("/v1/alerts", ADMIN);
        alert_tenants(all, "acme", &mine, &other);
        json_decref(all);
        if (mine > 0 && other > 0)
            break;
        usleep(100 * 1000);
    }
    must(mine > 0 && other > 0, "no alerts for both tenants within %d ms", ALERT_MS);
    static const struct {
        const char *token, *tenant;
    } who[] = {{ACME, "acme"}, {BETA, "beta"}};
    for (size_t i = 0; i < MP_ARRAY_LEN(who); i++) {
        json_t *j = get_json("/v1/alerts", who[i].token);
        alert_tenants(j, who[i].tenant, &mine, &other);
        must(mine > 0 && other == 0, "%s's /v1/alerts: %zu own, %zu others'", who[i].tenant, mine,
             other);
        json_decref(j);
    }
}

/* Runs argv (W.mailpulse and its arguments, NULL-terminated); returns the
 * exit status, after checking that no token was printed. */
static int w_cli(const char *name, char *const *argv)
{
    memset(&W.cli, 0, sizeof(W.cli));
    must_ok(e2e_run(&W.cli, name, W.dir, argv, RUN_MS, W.err, sizeof(W.err)));
    must(WIFEXITED(W.cli.status), "mailpulse (%s) did not exit normally", name);
    static const char *secrets[] = {ADMIN, ACME, BETA};
    for (size_t i = 0; i < MP_ARRAY_LEN(secrets); i++)
        must(!e2e_file_contains(W.cli.out_path, secrets[i]) &&
                 !e2e_file_contains(W.cli.err_path, secrets[i]),
             "mailpulse (%s) printed a token", name);
    return WEXITSTATUS(W.cli.status);
}

static void file_has(const char *path, const char *needle)
{
    char tail[2000];
    e2e_file_tail(path, tail, sizeof(tail));
    must(e2e_file_contains(path, needle), "%s lacks \"%s\":\n%s", path, needle, tail);
}

/* argv of `mailpulse CMD --api <api> ARGS...`. */
#define CLI(cmd, ...) ((char *[]){W.mailpulse, cmd, "--api", api, __VA_ARGS__, NULL})

static void cli_checks(void)
{
    char api[128];
    snprintf(api, sizeof(api), "http://%s", W.http);
    must(w_cli("stats-token", CLI("stats", "--tenant", "acme", "--token", ACME)) == 0,
         "stats --token acme");
    file_has(W.cli.out_path, "tenant acme, window 24h\n");
    must(w_cli("stats-none", CLI("stats", "--tenant", "acme")) == 1, "stats without a token");
    file_has(W.cli.err_path, "the daemon answered 401: this API needs a token");
    file_has(W.cli.err_path, "give --token or set $MAILPULSE_TOKEN");
    must(w_cli("stats-bad", CLI("stats", "--tenant", "acme", "--token", BAD)) == 1,
         "stats with a bad token");
    file_has(W.cli.err_path, "the daemon answered 401: unknown token");
    must(w_cli("stats-foreign", CLI("stats", "--tenant", "beta", "--token", ACME)) == 1,
         "stats of beta with acme's token");
    file_has(W.cli.err_path, "the daemon answered 404: unknown tenant \"beta\"");
    must(w_cli("stats-badsyntax", CLI("stats", "--tenant", "acme", "--token", "two words")) == 2,
         "a token with a space");
    file_has(W.cli.err_path, "--token: expected 1..512 printable ASCII characters");

    setenv("MAILPULSE_TOKEN", ACME, 1);
    must(w_cli("stats-env", CLI("stats", "--tenant", "acme")) == 0, "stats with $MAILPULSE_TOKEN");
    must(w_cli("alerts-env", CLI("alerts", "--json")) == 0, "alerts with $MAILPULSE_TOKEN");
    file_has(W.cli.out_path, "\"tenant\":\"acme\"");
    must(!e2e_file_contains(W.cli.out_path, "\"tenant\":\"beta\""), "acme's token lists beta");
    /* --token wins over the environment. */
    must(w_cli("alerts-admin", CLI("alerts", "--json", "--token", ADMIN)) == 0,
         "alerts --token admin");
    file_has(W.cli.out_path, "\"tenant\":\"beta\"");
    setenv("MAILPULSE_TOKEN", "bad token", 1);
    must(w_cli("alerts-badenv", CLI("alerts", "--json")) == 2, "a bad $MAILPULSE_TOKEN");
    file_has(W.cli.err_path, "$MAILPULSE_TOKEN: expected 1..512 printable ASCII characters");
    unsetenv("MAILPULSE_TOKEN");
}

START_TEST(per_token)
{
    w_config("127.0.0.1", TOKENS);
    ew_spawn_daemon(&W);
    int64_t now = mp_now_ms();
    ew_send(&W, "acme", "news@acme.example", "gmail.com", T_SENT, 200, now);
    wait_status("/v1/tenants/acme/stats", ADMIN, 200, COUNT_MS);

    /* beta not counted yet: what "does not exist" looks like, to admin and acme */
    char *missing = NULL;
    must(get("/v1/tenants/beta/stats", ADMIN, &missing) == 404, "beta before: %s", missing);
    char *before = acme_view_of_beta();
    must(strncmp(before, missing, strlen(missing)) == 0 && before[strlen(missing)] == '\n',
         "acme's 404 for beta differs from a missing tenant's:\n%s\n%s", before, missing);
    ew_send(&W, "beta", "news@beta.example", "gmail.com", T_SENT, 200, now);
    wait_status("/v1/tenants/beta/stats", ADMIN, 200, COUNT_MS);
    char *after = acme_view_of_beta();
    must(strcmp(before, after) == 0, "beta's existence shows:\n%s\n%s", before, after);
    free(before);
    free(after);
    free(missing);

    for (size_t i = 0; i < MP_ARRAY_LEN(auth_matrix); i++)
        for (size_t t = 0; t < AUTH_NWHO; t++) {
            long st = status_of(auth_matrix[i].path, tokens[t]);
            must(st == auth_matrix[i].want[t], "%s with %s: %ld, expected %ld",
                 auth_matrix[i].path, tokens[t] ? tokens[t] : "no token", st,
                 auth_matrix[i].want[t]);
        }
    tenants_listed();
    alerts_filtered();
    cli_checks();

    ew_stop_ok(&W, &W.daemon);
    static const char *secrets[] = {ADMIN, ACME, BETA, BAD};
    for (size_t i = 0; i < MP_ARRAY_LEN(secrets); i++)
        must(!e2e_file_contains(W.daemon.err_path, secrets[i]) &&
                 !e2e_file_contains(W.daemon.out_path, secrets[i]),
             "a token in the daemon's log");
    file_has(W.daemon.err_path, "started");
    W.passed = 1;
}
END_TEST

START_TEST(metrics_open)
{
    w_config("127.0.0.1", TOKENS "  metrics_open: true\n");
    ew_spawn_daemon(&W);
    char *body = NULL;
    must(get("/metrics", NULL, &body) == 200 && strstr(body, "mailpulse_keys"), "/metrics: %s",
         body);
    free(body);
    must(status_of("/metrics", BAD) == 200, "/metrics with a bad token");
    must(status_of("/v1/alerts", NULL) == 401, "/v1/alerts without a token");
    must(status_of("/v1/tenants/acme/stats", BAD) == 401, "stats with a bad token");
    must(status_of("/v1/alerts/dead", ADMIN) == 200, "dead letters as admin");
    ew_pass(&W);
}
END_TEST

/* `mailpulsed --check` (check 1) or a start (0) on the config: exit 1 and
 * stderr holding `want`. */
static void refused(int check, const char *want)
{
    char *argv[] = {W.mailpulsed, "-c", W.cfg, check ? "--check" : NULL, NULL};
    struct e2e_proc p;
    memset(&p, 0, sizeof(p));
    must_ok(e2e_run(&p, check ? "check" : "start", W.dir, argv, RUN_MS, W.err, sizeof(W.err)));
    char tail[2000];
    e2e_file_tail(p.err_path, tail, sizeof(tail));
    must(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 1, "%s: expected exit 1:\n%s",
         check ? "--check" : "start", tail);
    must(strstr(tail, want) != NULL, "%s: no \"%s\" in:\n%s", check ? "--check" : "start", want,
         tail);
    must(!strstr(tail, "short-secret"), "a token echoed:\n%s", tail);
}

START_TEST(refusal)
{
    char want[1200];
    static const char *hosts[] = {"0.0.0.0", "[::]"};
    for (size_t i = 0; i < MP_ARRAY_LEN(hosts); i++) {
        w_config(hosts[i], "");
        snprintf(want, sizeof(want),
                 "%s:6: http.listen: \"%s%s\" is not a loopback address and http.tokens has no "
                 "token",
                 W.cfg, hosts[i], strrchr(W.http, ':'));
        refused(1, want);
        refused(0, want);
    }
    w_config("127.0.0.1", "  tokens:\n    admin: short-secret\n");
    snprintf(want, sizeof(want), "%s:8: http.tokens.admin: expected a token of 16..512", W.cfg);
    refused(1, want);
    refused(0, want);

    /* With a token the wildcard is allowed, and serves. */
    w_config("0.0.0.0", TOKENS);
    ew_spawn_daemon(&W);
    must(status_of("/v1/alerts", ADMIN) == 200, "/v1/alerts on 0.0.0.0 with the admin token");
    must(status_of("/v1/alerts", NULL) == 401, "/v1/alerts on 0.0.0.0 without a token");
    ew_pass(&W);
}
END_TEST

EW_SUITE("e2e_auth", 60, setup, teardown, {per_token, 0}, {metrics_open, 0}, {refusal, 0})
