/* test_e2e_checkpoint.c — backups of the data directory through
 * POST /v1/admin/checkpoint, and a restore from one.
 *
 *   checkpoint_restores: events for two tenants, flushed; a checkpoint is
 *     made; a second one of the same name is 409; the daemon is stopped and
 *     started on the checkpoint as its data_dir: every stats answer equals
 *     the original's byte for byte.
 *   checkpoint_refusals: a bad name is 400, GET is 405, and with tokens a
 *     tenant token is 403 and no token 401.
 *
 * Real parts: bin/mailpulsed on free loopback ports, ZeroMQ PUSH, HTTP
 * through libcurl.
 */
#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "e2e_suite.h"

EW_FIXTURE("checkpoint")

static size_t body_cb(char *p, size_t sz, size_t n, void *arg)
{
    char **b = arg;
    size_t have = *b ? strlen(*b) : 0, add = sz * n;
    char *nb = realloc(*b, have + add + 1);
    if (!nb)
        return 0;
    memcpy(nb + have, p, add);
    nb[have + add] = '\0';
    *b = nb;
    return add;
}

/* POST (or `method`) base+path with an empty body; the status, *body set. */
static long request(const char *method, const char *path, const char *token, char **body)
{
    char url[512], auth[256];
    long status = 0;
    struct curl_slist *h = NULL;
    CURL *c = curl_easy_init();
    must(c != NULL, "curl_easy_init");
    *body = NULL;
    snprintf(url, sizeof(url), "%s%s", W.base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "POST") == 0)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    if (token) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    must(rc == CURLE_OK, "%s %s: %s", method, url, curl_easy_strerror(rc));
    return status;
}

static char *stats(const char *tenant, const char *query)
{
    char path[256], *body;
    snprintf(path, sizeof(path), "/v1/tenants/%s/stats?%s", tenant, query);
    long st = request("GET", path, NULL, &body);
    must(st == 200, "GET %s: %ld %s", path, st, body ? body : "");
    return body;
}

static const char *const queries[] = {"window=1h", "window=24h&by=recipient_domain",
                                      "window=7d&by=mailbox"};

START_TEST(checkpoint_restores)
{
    ew_start_daemon(&W, (struct e2e_daemon_conf){0});
    int64_t now = (int64_t)time(NULL) * 1000;
    ew_send(&W, "acme", "a@acme.example", "gmail.com", 1, 1200, now);
    ew_send(&W, "acme", "b@acme.example", "yahoo.com", 3, 40, now - 3600 * 1000);
    ew_send(&W, "beta", "n@beta.example", "gmail.com", 1, 500, now - 2 * 86400 * 1000LL);
    ew_wait_metric(&W, "mailpulse_events_accepted_total", W.sent, 10000);
    /* Counted is not yet flushed: wait for two flushes after the count. */
    uint64_t f0 = ew_metric(&W, "mailpulse_store_flushes_total");
    for (int i = 0; i < 1000 && ew_metric(&W, "mailpulse_store_flushes_total") < f0 + 2; i++)
        usleep(10 * 1000);
    must(ew_metric(&W, "mailpulse_store_flushes_total") >= f0 + 2, "no flush within 10 s");

    char *body = NULL, want_path[E2E_PATH_MAX + 64];
    long st = request("POST", "/v1/admin/checkpoint?name=b1", NULL, &body);
    must(st == 200, "checkpoint: %ld %s", st, body ? body : "");
    snprintf(want_path, sizeof(want_path), "\"path\":\"%s/checkpoints/b1\"", W.data);
    must(strstr(body, want_path) && strstr(body, "\"name\":\"b1\""), "checkpoint said %s", body);
    free(body);
    st = request("POST", "/v1/admin/checkpoint?name=b1", NULL, &body);
    must(st == 409 && strstr(body, "exists"), "second b1: %ld %s", st, body ? body : "");
    free(body);

    char *before[2][MP_ARRAY_LEN(queries)];
    const char *tenants[2] = {"acme", "beta"};
    for (size_t t = 0; t < 2; t++)
        for (size_t q = 0; q < MP_ARRAY_LEN(queries); q++)
            before[t][q] = stats(tenants[t], queries[q]);
    must(strstr(before[0][0], "\"sent\":1200"), "acme before: %s", before[0][0]);
    ew_stop_ok(&W, &W.daemon);

    /* Restore: the checkpoint is a data directory as it is. */
    size_t dl = strlen(W.data);
    must(dl + sizeof("/checkpoints/b1") <= sizeof(W.data), "data path too long");
    memcpy(W.data + dl, "/checkpoints/b1", sizeof("/checkpoints/b1"));
    ew_write_config(&W, (struct e2e_daemon_conf){0});
    ew_spawn_daemon(&W);
    for (size_t t = 0; t < 2; t++)
        for (size_t q = 0; q < MP_ARRAY_LEN(queries); q++) {
            char *after = stats(tenants[t], queries[q]);
            must(strcmp(after, before[t][q]) == 0, "%s %s after restore:\n%s\nbefore:\n%s",
                 tenants[t], queries[q], after, before[t][q]);
            free(after);
            free(before[t][q]);
        }
    W.passed = 1;
}
END_TEST

START_TEST(checkpoint_refusals)
{
    static const char admin[] = "admin-token-0123456789abcdef";
    static const char tenant[] = "acme-token-0123456789abcdef";
    char yaml[4096], *body;
    snprintf(yaml, sizeof(yaml),
             "data_dir: \"%s\"\ningest:\n  pull: \"%s\"\n  workers: 2\nhttp:\n  listen: \"%s\"\n"
             "  tokens:\n    admin: \"%s\"\n    tenants:\n      acme: \"%s\"\n",
             W.data, W.pull, W.http, admin, tenant);
    must_ok(e2e_write_file(W.cfg, yaml, W.err, sizeof(W.err)));
    ew_spawn_daemon(&W);
    const struct {
        const char *method, *path, *token;
        long want;
        const char *what;
    } refused[] = {
        {"POST", "/v1/admin/checkpoint", NULL, 401, "no token"},
        {"POST", "/v1/admin/checkpoint", tenant, 403, "tenant token"},
        {"POST", "/v1/admin/checkpoint?name=../x", admin, 400, "bad name"},
        {"GET", "/v1/admin/checkpoint", admin, 405, "GET"},
    };
    long st;
    for (size_t i = 0; i < MP_ARRAY_LEN(refused); i++) {
        st = request(refused[i].method, refused[i].path, refused[i].token, &body);
        must(st == refused[i].want, "%s: %ld %s", refused[i].what, st, body ? body : "");
        free(body);
    }
    st = request("POST", "/v1/admin/checkpoint", admin, &body);
    must(st == 200 && strstr(body, "/checkpoints/"), "default name: %ld %s", st,
         body ? body : "");
    free(body);
    W.passed = 1;
}
END_TEST

EW_SUITE("e2e_checkpoint", 60, setup, teardown, {checkpoint_restores, 0}, {checkpoint_refusals, 0})
