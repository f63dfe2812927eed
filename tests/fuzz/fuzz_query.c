/* fuzz_query.c — libFuzzer target for the query parameters of the tenant
 * routes, outside input every API call carries: /v1/tenants/{t}/stats,
 * /series and /alerts/history (mp_stats.h, mp_series.h,
 * mp_alert_history.h) over a real engine table and a real alerts store
 * (RocksDB in a temp dir) holding a few past alerts.
 *
 * Input: the first line is the path (prefixed "/v1/tenants/acme/" unless it
 * starts with '/'), every further line one parameter, "name=value" ("name"
 * alone: no value); each string is its own malloc'd copy of exactly its
 * length, so ASan catches a read past one. It aborts when the contract
 * breaks: a build's rc other than MP_OK, MP_ERR_INVAL, MP_ERR_NOTFOUND (or
 * MP_ERR_IO for a history read), no body, a 400/404 body without "error",
 * or a 200 body without its route's members.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alert_history.h"
#include "alert_rule.h"
#include "eng_store.h"
#include "eng_table.h"
#include "mp_alert_history.h"
#include "mp_series.h"
#include "mp_stats.h"

#define Q_ARGS_MAX 32
#define DAY_MS (86400LL * 1000)

/* The target's fixture, made once (libFuzzer runs in one process), and
 * removed at exit: the store's directory, made by mkdtemp from DIR_TEMPLATE. */
#define DIR_TEMPLATE "/tmp/fuzz_query.XXXXXX"
static struct eng_table *T;
static struct eng_store *S;
static char Dir[sizeof(DIR_TEMPLATE)];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void fixture_free(void)
{
    eng_store_close(S);
    eng_table_destroy(T);
    nftw(Dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[256];
    struct eng_table_opts to = {.max_keys = 1024, .retention_ms = 35 * DAY_MS};
    struct alert_history *h = NULL;
    struct alert_ruleset *rules = NULL;
    memcpy(Dir, DIR_TEMPLATE, sizeof(Dir));
    if (!mkdtemp(Dir) || eng_store_open(Dir, &S, err, sizeof(err)) != MP_OK ||
        eng_table_create(&to, mp_now_ms(), &T) != MP_OK ||
        alert_history_new(0, &h) != MP_OK || alert_ruleset_defaults(&rules) != MP_OK)
        abort();
    struct eng_store_batch *b = eng_store_batch_new(S);
    struct alert_instance a = {.rule = alert_ruleset_for(rules, "acme"), .tenant = "acme",
                               .mailbox = "a@x.example", .starts_ms = mp_now_ms()};
    for (int ev = ALERT_HIST_FIRED; ev <= ALERT_HIST_SILENCED; ev++)
        if (alert_history_add(h, b, ev, &a, ENG_SCOPE_MAILBOX, "a@x.example", NULL, 0,
                              mp_now_ms() - ev * 1000) != MP_OK)
            abort();
    if (eng_store_commit(S, b, 0) != MP_OK)
        abort();
    eng_store_batch_free(b);
    alert_history_free(h);
    alert_ruleset_free(rules);
    atexit(fixture_free);
    return 0;
}

static char *dup_n(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/* rc and body as the route's contract has them. */
static void judge(int rc, json_t *j, const char *member, int io_ok)
{
    if (rc != MP_OK && rc != MP_ERR_INVAL && rc != MP_ERR_NOTFOUND && !(io_ok && rc == MP_ERR_IO))
        abort();
    if (rc == MP_ERR_IO)
        return;
    if (!j)
        abort();
    if (rc != MP_OK && !json_is_string(json_object_get(j, "error")))
        abort();
    if (rc == MP_OK && !json_object_get(j, member))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mp_http_arg args[Q_ARGS_MAX];
    char *own[2 * Q_ARGS_MAX + 1];
    size_t nown = 0, nargs = 0;
    const uint8_t *end = data + size, *nl = memchr(data, '\n', size);
    size_t plen = nl ? (size_t)(nl - data) : size;
    int rel = plen == 0 || data[0] != '/';
    char *path = malloc(plen + 32);
    if (!path)
        return 0;
    size_t o = rel ? (size_t)snprintf(path, 32, "/v1/tenants/acme/") : 0;
    memcpy(path + o, data, plen);
    path[o + plen] = '\0';
    for (const uint8_t *p = nl ? nl + 1 : end; p < end && nargs < Q_ARGS_MAX;) {
        const uint8_t *e = memchr(p, '\n', (size_t)(end - p));
        size_t n = e ? (size_t)(e - p) : (size_t)(end - p);
        const uint8_t *eq = memchr(p, '=', n);
        char *name = dup_n(p, eq ? (size_t)(eq - p) : n);
        char *value = eq ? dup_n(eq + 1, n - (size_t)(eq - p) - 1) : NULL;
        own[nown++] = name;
        if (value)
            own[nown++] = value;
        if (!name)
            break;
        args[nargs++] = (struct mp_http_arg){name, value};
        p = e ? e + 1 : end;
    }
    struct mp_http_request req = {.method = "GET", .path = path, .args = args, .nargs = nargs};
    json_t *j = NULL;
    int rc = mp_stats_build(T, &req, &j);
    judge(rc, j, "tenant", 0);
    json_decref(j);
    j = NULL;
    rc = mp_series_build(T, &req, NULL, mp_now_ms(), &j);
    judge(rc, j, "points", 0);
    json_decref(j);
    j = NULL;
    rc = mp_alert_history_build(S, NULL, &req, NULL, 35 * DAY_MS, mp_now_ms(), &j);
    judge(rc, j, "entries", 1);
    json_decref(j);
    for (size_t i = 0; i < nown; i++)
        free(own[i]);
    free(path);
    return 0;
}
