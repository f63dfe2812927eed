/* test_e2e_adapters_crash.c — Check suite "e2e_adapters_crash": an
 * adapter's 200 means durable (cmd/daemon/mp_adapters_durable.h), end to
 * end on the real daemon, with SIGKILLs.
 *
 *   kill_after_each_200
 *       engine.flush_interval 60s, so no counter flush ever covers what is
 *       posted: AC_CYCLES cycles of 1-3 json bodies (AC_PER Event objects,
 *       new ids) and one signed Mailgun webhook, each answered 200, then a
 *       SIGKILL right after the last 200 and a restart. After each restart
 *       the previous cycle's last json body and its Mailgun request are
 *       posted again: duplicates, accepted 0. At the end the stats API's
 *       tenant total, mailbox sum and domain sum equal the events the 200s
 *       accepted, for both tenants: nothing lost, nothing counted twice.
 *       (Before the journal, every cycle lost its events: the counts lived
 *       in memory until a flush that never came, while the dedup file said
 *       "seen".)
 *   kill_across_flushes
 *       The same with flush_interval 100ms and the kill 0..AC_JITTER_MS
 *       after the last 200 (seeded; MP_CRASH_SEED replays it), so kills
 *       land before, during and after flushes that cover journal entries.
 *   disk_full_503_then_durable
 *       data_dir on a small tmpfs, then filled: a POST is answered 503 with
 *       a Retry-After header and counted in
 *       mailpulse_adapter_unavailable_total, nothing applied; once space
 *       returns the same POST (the service's retry) is 200; after a SIGKILL
 *       and a restart it is counted once and a replay is a duplicate. Needs
 *       root (mount), as test_e2e_disk.
 *   curve_on_replay_counts
 *       With ingest.curve on (one client, for another tenant), a json
 *       adapter's events journaled before a SIGKILL (flush 60s) are counted
 *       by the replay: the adapter's batches carry the trusted client
 *       (ingest_journal.h), not the no-client one that Curve refuses.
 */
#include <check.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "adapt_fixture.h"
#include "check_main.h"
#include "e2e_suite.h"
#include "unit_util.h"

#define AC_CYCLES 12
#define AC_PER 20
#define AC_JITTER_MS 300
#define AC_WAIT_MS 30000
#define JS_AUTH "Authorization: Bearer crash-json-token"
#define MG_KEY "key-crash-mailgun"
#define TJ "crash-json"
#define TM "crash-mg"

static const char *const mailboxes[] = {"a@crash.example", "b@crash.example", "c@crash.example"};
static const char *const domains[] = {"gmail.com", "yahoo.com", "outlook.com", "icloud.com"};
static uint64_t rng_state;
static int mounted;

static void setup(void)
{
    ew_setup(&W, "adcrash");
    W.ready_ms = 20000;
}

static void teardown(void)
{
    if (mounted) {
        e2e_proc_kill(&W.daemon); /* the store's files are on the tmpfs */
        unit_tmpfs_umount(W.data);
    }
    mounted = 0;
    ew_teardown(&W);
}

/* The config: a json and a mailgun adapter, the given flush interval. */
static void write_config(const char *flush)
{
    ew_write_config(&W, (struct e2e_daemon_conf){0});
    ew_append_config(&W,
                     "engine:\n  flush_interval: %s\n"
                     "adapters:\n"
                     "  - name: crash-json\n    type: json\n    path: /hooks/crash-json\n"
                     "    tenant: " TJ "\n    signing_key: \"crash-json-token\"\n"
                     "  - name: crash-mailgun\n    type: mailgun\n    path: /hooks/crash-mailgun\n"
                     "    tenant: " TM "\n    signing_key: \"" MG_KEY "\"\n",
                     flush);
}

static void kill_restart(void)
{
    must(e2e_proc_signal_wait(&W.daemon, SIGKILL, EW_STOP_MS) == MP_OK &&
             WIFSIGNALED(W.daemon.status),
         "SIGKILL did not end %s", W.daemon.name);
    ew_spawn_daemon(&W);
}

/* POSTs body; the status, the answer in a (unit_answer_free'd by the caller). */
static long post(const char *path, const char *auth, const char *body, struct unit_answer *a)
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", W.base, path);
    unit_http("POST", url, body, strlen(body), auth, 10000, a);
    return a->status;
}

/* POSTs and wants 200 with `accepted` and `dups`. */
static void post_want(const char *path, const char *auth, const char *body, int accepted,
                      int dups)
{
    struct unit_answer a;
    char want[96];
    snprintf(want, sizeof(want), "{\"accepted\":%d,\"duplicates\":%d,", accepted, dups);
    long st = post(path, auth, body, &a);
    must(st == 200 && strstr(a.body.p, want), "POST %s: %ld %s (wanted 200 %s)", path, st,
         a.body.p, want);
    mp_buf_free(&a.body);
}

/* A json body of AC_PER `sent` events with ids "<tag>-<i>" (malloc'd). */
static char *json_body(const char *tag)
{
    struct mp_buf b = {0};
    int64_t now = mp_now_ms();
    must_ok(mp_buf_puts(&b, "["));
    for (int i = 0; i < AC_PER; i++)
        must_ok(mp_buf_printf(&b,
                              "%s{\"mailbox\":\"%s\",\"recipientDomain\":\"%s\",\"type\":1,"
                              "\"timeMs\":%lld,\"eventId\":\"%s-%d\"}",
                              i ? "," : "", mailboxes[i % 3], domains[i % 4], (long long)now,
                              tag, i));
    must_ok(mp_buf_puts(&b, "]"));
    return b.p;
}

/* A signed Mailgun `accepted` webhook (a sent event) with id and token. */
static char *mailgun_body(const char *id, const char *token)
{
    char *raw = afx_load("mailgun_delivered.json");
    long long ts = (long long)(mp_now_ms() / 1000);
    char *a = afx_set(raw, "event-data", "event", "accepted", 0);
    char *b = afx_set(a, "event-data", "id", id, 0);
    char *c = afx_set(b, "event-data", "timestamp", NULL, ts);
    char *d = afx_mailgun_sign(c, MG_KEY, ts, token);
    free(raw);
    free(a);
    free(b);
    free(c);
    return d;
}

/* Sum of counts.sent over a stats answer's groups (or its counts). */
static int64_t sent_in(const char *tenant, const char *by)
{
    char path[160];
    snprintf(path, sizeof(path), "/v1/tenants/%s/stats?window=24h%s%s%s", tenant,
             by ? "&by=" : "", by ? by : "", by ? "&limit=1000" : "");
    json_t *doc = ew_get_json(&W, path, 200);
    int64_t sum = 0;
    if (!by) {
        sum = json_integer_value(json_object_get(json_object_get(doc, "counts"), "sent"));
    } else {
        size_t i;
        json_t *g;
        json_array_foreach(json_object_get(doc, "groups"), i, g) sum +=
            json_integer_value(json_object_get(json_object_get(g, "counts"), "sent"));
    }
    json_decref(doc);
    return sum;
}

static void check_totals(const char *tenant, int64_t want, int by)
{
    int64_t t = sent_in(tenant, NULL);
    int64_t m = by ? sent_in(tenant, "mailbox") : want;
    int64_t d = by ? sent_in(tenant, "recipient_domain") : want;
    must(t == want && m == want && d == want,
         "%s: acknowledged %lld; the stats say tenant %lld, mailbox sum %lld, domain sum %lld",
         tenant, (long long)want, (long long)t, (long long)m, (long long)d);
}

/* The cycles of the first two cases; jitter_ms 0: the kill right after
 * the last 200. */
static void cycles(int jitter_ms)
{
    int64_t acked_js = 0, acked_mg = 0;
    char *last_js = NULL, *last_mg = NULL;
    ew_spawn_daemon(&W);
    for (int c = 0; c < AC_CYCLES; c++) {
        if (last_js) { /* the service's retry of what it got a 200 for */
            post_want("/hooks/crash-json", JS_AUTH, last_js, 0, AC_PER);
            post_want("/hooks/crash-mailgun", NULL, last_mg, 0, 1);
            free(last_js);
            free(last_mg);
        }
        int posts = 1 + (int)(ew_rng(&rng_state) % 3);
        char tag[48], tok[48];
        snprintf(tok, sizeof(tok), "tok-%d", c);
        snprintf(tag, sizeof(tag), "mg-%d", c);
        last_mg = mailgun_body(tag, tok);
        post_want("/hooks/crash-mailgun", NULL, last_mg, 1, 0);
        acked_mg++;
        last_js = NULL;
        for (int p = 0; p < posts; p++) {
            free(last_js);
            snprintf(tag, sizeof(tag), "js-%d-%d", c, p);
            last_js = json_body(tag);
            post_want("/hooks/crash-json", JS_AUTH, last_js, AC_PER, 0);
            acked_js += AC_PER;
        }
        if (jitter_ms)
            usleep((useconds_t)(ew_rng(&rng_state) % (uint64_t)jitter_ms) * 1000);
        kill_restart();
    }
    post_want("/hooks/crash-json", JS_AUTH, last_js, 0, AC_PER);
    post_want("/hooks/crash-mailgun", NULL, last_mg, 0, 1);
    free(last_js);
    free(last_mg);
    check_totals(TJ, acked_js, 1);
    check_totals(TM, acked_mg, 0);
    must(ew_metric(&W, "mailpulse_adapter_unavailable_total{adapter=\"crash-json\"}") == 0,
         "a 503 during the cycles");
}

START_TEST(kill_after_each_200)
{
    rng_state = 42;
    write_config("60s");
    cycles(0);
    ew_pass(&W);
}
END_TEST

START_TEST(kill_across_flushes)
{
    rng_state = ew_crash_seed("kill_across_flushes");
    write_config("100ms");
    cycles(AC_JITTER_MS);
    ew_pass(&W);
}
END_TEST

START_TEST(disk_full_503_then_durable)
{
    unit_tmpfs_mount(W.data, 16);
    mounted = 1;
    write_config("100ms");
    ew_spawn_daemon(&W);
    char *first = json_body("before");
    post_want("/hooks/crash-json", JS_AUTH, first, AC_PER, 0);
    unit_disk_fill(W.data);
    char *body = json_body("full");
    struct unit_answer a;
    long st = 0;
    /* a flush may still find room for a moment: the first failing write
     * is the one answered 503 */
    for (int i = 0; i < AC_WAIT_MS / 50 && (st = post("/hooks/crash-json", JS_AUTH, body, &a)) ==
                                               200; i++) {
        mp_buf_free(&a.body);
        free(body);
        char tag[32];
        snprintf(tag, sizeof(tag), "full-%d", i);
        body = json_body(tag);
        usleep(50 * 1000);
    }
    must(st == 503 && atoi(a.retry_after) > 0, "on a full disk: %ld, Retry-After \"%s\", %s", st,
         a.retry_after, a.body.p);
    mp_buf_free(&a.body);
    uint64_t ok_before = ew_metric(&W, "mailpulse_adapter_events_accepted_total{adapter=\"crash-json\"}");
    must(ew_metric(&W, "mailpulse_adapter_unavailable_total{adapter=\"crash-json\"}") >= 1,
         "the 503 not counted");
    unit_disk_free(W.data);
    for (int i = 0; i < AC_WAIT_MS / 100 && (st = post("/hooks/crash-json", JS_AUTH, body, &a)) !=
                                                200; i++) {
        mp_buf_free(&a.body);
        usleep(100 * 1000);
    }
    must(st == 200 && strstr(a.body.p, "\"accepted\":20,\"duplicates\":0"),
         "the retry after space returned: %ld %s", st, a.body.p);
    mp_buf_free(&a.body);
    int64_t want = (int64_t)ok_before + AC_PER;
    kill_restart();
    post_want("/hooks/crash-json", JS_AUTH, body, 0, AC_PER);
    check_totals(TJ, want, 1);
    free(first);
    free(body);
    ew_pass(&W);
}
END_TEST

/* `mailpulse keygen --secret-file <dir>/<name>.key`: its public key. */
static void keygen(const char *name, char pub[41])
{
    struct e2e_proc p;
    char file[E2E_PATH_MAX + 32], *out = NULL;
    memset(&p, 0, sizeof(p));
    snprintf(file, sizeof(file), "%s/%s.key", W.dir, name);
    char *argv[] = {W.mailpulse, "keygen", "--secret-file", file, NULL};
    must_ok(e2e_run(&p, name, W.dir, argv, 20000, W.err, sizeof(W.err)));
    must_ok(e2e_read_file(p.out_path, &out, NULL));
    const char *at = strstr(out, "public_key: \"");
    must(at && strlen(at) > 13 + 40, "keygen output: %s", out);
    memcpy(pub, at + 13, 40);
    pub[40] = '\0';
    free(out);
}

START_TEST(curve_on_replay_counts)
{
    char server[41], client[41];
    keygen("server", server);
    keygen("client", client);
    write_config("60s");
    char *text = NULL, *cfg = NULL;
    must_ok(e2e_read_file(W.cfg, &text, NULL));
    const char *at = strstr(text, "\ningest:\n");
    must(at != NULL, "no ingest: section in %s", W.cfg);
    size_t head = (size_t)(at - text) + strlen("\ningest:\n");
    must(asprintf(&cfg,
                  "%.*s  curve:\n    secret_key_file: server.key\n    clients:\n"
                  "      - public_key: \"%s\"\n        tenants: [other]\n%s",
                  (int)head, text, client, text + head) > 0,
         "asprintf");
    must_ok(e2e_write_file(W.cfg, cfg, W.err, sizeof(W.err)));
    free(text);
    free(cfg);
    ew_spawn_daemon(&W);
    char *body = json_body("curve");
    post_want("/hooks/crash-json", JS_AUTH, body, AC_PER, 0);
    kill_restart();
    post_want("/hooks/crash-json", JS_AUTH, body, 0, AC_PER);
    check_totals(TJ, AC_PER, 1);
    must(ew_metric(&W, "mailpulse_rejected_total{reason=\"tenant_forbidden\"}") == 0,
         "the replay refused the adapter's events");
    free(body);
    ew_pass(&W);
}
END_TEST

EW_SUITE("e2e_adapters_crash", 240, setup, teardown, {kill_after_each_200, 0},
         {kill_across_flushes, 0}, {disk_full_503_then_durable, 0}, {curve_on_replay_counts, 0})
