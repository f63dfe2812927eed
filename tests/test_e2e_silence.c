/* test_e2e_silence.c — Check suite "e2e_silence": silences through the
 * Alertmanager API v2, driven by Debian's amtool (a client nobody here
 * wrote) against the real daemon, with a real receiver.
 *
 * Cases:
 *   amtool_silence_lifecycle
 *       `amtool silence add tenant=acme alertname=bounce_rate` before the
 *       crossing; the five bounce alerts (tenant, mailbox, domain, provider
 *       google, the mailbox at google) fire and
 *       are listed firing by /v1/alerts, but the receiver hears nothing;
 *       `amtool silence query` lists the silence, `amtool alert query -s`
 *       shows the alerts silenced by it and plain `amtool alert query` does
 *       not; the silence survives a restart (query again, still no
 *       request); `amtool silence expire` brings exactly one firing
 *       notification carrying all five; another tenant's alert is not
 *       silenced (it is notified at once).
 *   api_validation
 *       POST /api/v2/silences refuses bad bodies with 400 and a message;
 *       GET /api/v2/silence/<unknown> is 404; unknown paths 404.
 *   cli_silence
 *       `mailpulse silence add|query|expire`: add prints the id, query's
 *       table lists it active (rows within 100 columns), expire ends it,
 *       query hides it then and --expired shows it expired.
 *   silence_runs_out
 *       A silence added with `mailpulse silence add --duration 4s` mutes a
 *       crossing; when it runs out on its own (no expire), the alert still
 *       firing is notified once, as firing, and only after the end.
 *   silenced_member_left_out
 *       A group's member silenced after it was told firing (a silence on
 *       its mailbox) is left out of the group's next notification, which
 *       another mailbox's crossing brings; once the silence is expired the
 *       sweep tells it again, as firing, in a whole-group notification.
 *   tenant_tokens
 *       With http.tokens, amtool (its --http.config.file carrying a bearer
 *       token) as tenant acme may add a silence pinning acme, not one for
 *       beta or one without a tenant; acme's query lists only acme's
 *       silences, the admin's lists both; without a token: 401.
 *
 * amtool comes from $AMTOOL or /usr/bin/amtool (package
 * prometheus-alertmanager, scripts/deps.sh). Programs from $MP_BIN_DIR.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "check_main.h"
#include "e2e_suite.h"

#define ALERT_MS 8000 /* crossing -> webhook, generous on a busy box */
#define QUIET_MS 1500 /* how long "nothing more arrives" is watched */
#define COUNT_MS 15000
#define AMTOOL_MS 15000

enum { T_SENT = 1, T_BOUNCE_HARD = 3 };

EW_FIXTURE("e2esil")

static const char *amtool_path(void)
{
    const char *p = getenv("AMTOOL");
    return p && *p ? p : "/usr/bin/amtool";
}

/* Runs amtool with args (NULL-terminated) against the daemon; it must exit
 * 0. Its stdout (free it). */
static char *amtool(const char *name, const char *const *args)
{
    char url[160];
    char *argv[24];
    size_t n = 0;
    snprintf(url, sizeof(url), "--alertmanager.url=%s", W.base);
    argv[n++] = (char *)amtool_path();
    argv[n++] = url;
    for (; *args && n < 23; args++)
        argv[n++] = (char *)*args;
    argv[n] = NULL;
    struct e2e_proc p;
    must(e2e_run(&p, name, W.dir, argv, AMTOOL_MS, W.err, sizeof(W.err)) == MP_OK,
         "amtool %s did not finish: %s", name, W.err);
    char *out = NULL, *errtext = NULL;
    size_t len;
    e2e_read_file(p.out_path, &out, &len);
    e2e_read_file(p.err_path, &errtext, &len);
    must(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0, "amtool %s failed: %s", name,
         errtext ? errtext : "");
    free(errtext);
    return out ? out : strdup("");
}

static json_t *amtool_json(const char *name, const char *const *args)
{
    char *out = amtool(name, args);
    json_t *j = json_loads(out, 0, NULL);
    must(j != NULL, "amtool %s: not JSON: %.500s", name, out);
    free(out);
    return j;
}

/* Requests receiver k got whose body's status is "firing". */
static size_t firing_count(size_t k)
{
    size_t n = hrx_count(W.raw[k]), f = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *b = ew_req_json(&W, ew_req(&W, k, i));
        f += ew_streq(ew_jstr(b, "status"), "firing");
        json_decref(b);
    }
    return f;
}

/* One mailbox's crossing at gmail.com fires bounce_rate at tenant, mailbox,
 * recipient_domain, provider (google) and mailbox_provider (the defaults). */
#define NALERTS 5

/* Polls /v1/alerts until `tenant` has `want` firing alerts. */
static void wait_firing(const char *tenant, size_t want)
{
    char path[96];
    snprintf(path, sizeof(path), "/v1/alerts?tenant=%s", tenant);
    int64_t deadline = mp_mono_ns() + (int64_t)ALERT_MS * 1000000;
    size_t got = 0;
    for (;;) {
        json_t *j = ew_get_json(&W, path, 200), *a;
        size_t i;
        got = 0;
        json_array_foreach(json_object_get(j, "alerts"), i, a) got +=
            ew_streq(ew_jstr(a, "status"), "firing");
        json_decref(j);
        if (got == want || mp_mono_ns() > deadline)
            break;
        usleep(20000);
    }
    must(got == want, "tenant %s: %zu firing alerts, expected %zu", tenant, got, want);
}

/* Receiver k gets nothing more than `n` requests for QUIET_MS. */
static void stays_quiet(size_t k, size_t n)
{
    must(hrx_wait(W.raw[k], n + 1, QUIET_MS) == MP_ERR_AGAIN,
         "receiver got %zu requests, expected %zu (silenced)", hrx_count(W.raw[k]), n);
}

/* The silences amtool lists (json), with the one of id found in it. */
static int query_has(const char *id, const char *state)
{
    json_t *j = amtool_json("silence-query", (const char *[]){"silence", "query", "-o", "json",
                                                              NULL}), *s;
    size_t i;
    int found = 0;
    json_array_foreach(j, i, s)
    {
        json_t *st = json_object_get(s, "status");
        found |= ew_streq(ew_jstr(s, "id"), id) && ew_streq(ew_jstr(st, "state"), state);
    }
    json_decref(j);
    return found;
}

/* How many alerts `amtool alert query` lists (silenced too: -s), and how
 * many of those name silence id in status.silencedBy. */
static size_t alert_query(int silenced, const char *id, size_t *by_id)
{
    const char *with_s[] = {"alert", "query", "-s", "-a", "-o", "json", "tenant=acme", NULL};
    const char *plain[] = {"alert", "query", "-o", "json", "tenant=acme", NULL};
    json_t *j = amtool_json("alert-query", silenced ? with_s : plain), *a;
    size_t i, n = json_array_size(j);
    *by_id = 0;
    json_array_foreach(j, i, a)
    {
        json_t *by = json_object_get(json_object_get(a, "status"), "silencedBy"), *x;
        size_t y;
        json_array_foreach(by, y, x)* by_id += ew_streq(json_string_value(x), id);
    }
    json_decref(j);
    return n;
}

START_TEST(amtool_silence_lifecycle)
{
    must(access(amtool_path(), X_OK) == 0, "%s missing: apt-get install prometheus-alertmanager",
         amtool_path());
    size_t k = ew_start_hook(&W, "sil", 200, (struct e2e_daemon_conf){0});
    char *out = amtool("silence-add", (const char *[]){"silence", "add", "tenant=acme",
                                                       "alertname=bounce_rate",
                                                       "--comment=maintenance of the MTA",
                                                       "--author=ops@example.com",
                                                       "--duration=1h", NULL});
    char id[64] = "";
    sscanf(out, "%63s", id);
    free(out);
    must(strlen(id) == 36, "amtool silence add printed no id: \"%s\"", id);
    must(query_has(id, "active"), "amtool silence query does not list %s as active", id);

    /* the crossing: 2.5% bounces, NALERTS alerts */
    ew_send(&W, "acme", "news@acme.example", "gmail.com", T_SENT, 1000, mp_now_ms());
    ew_send(&W, "acme", "news@acme.example", "gmail.com", T_BOUNCE_HARD, 25, mp_now_ms());
    wait_firing("acme", NALERTS);
    stays_quiet(k, 0);
    size_t by;
    must(alert_query(1, id, &by) == NALERTS && by == NALERTS,
         "amtool alert query -s: expected %d alerts silenced by %s, got %zu of them", NALERTS, id,
         by);
    must(alert_query(0, id, &by) == 0, "amtool alert query (not silenced) lists silenced alerts");

    /* another tenant is not silenced: notified at once */
    ew_send(&W, "beta", "news@beta.example", "gmail.com", T_SENT, 1000, mp_now_ms());
    ew_send(&W, "beta", "news@beta.example", "gmail.com", T_BOUNCE_HARD, 25, mp_now_ms());
    must(hrx_wait(W.raw[k], 1, ALERT_MS) == MP_OK, "beta's alert was not notified");
    /* Its NALERTS alerts may fire in two evaluator passes (a frame's keys
     * are marked dirty one by one): then the group's first notification
     * goes at once and the rest follows within group_interval (1s), as the
     * README says. So: every request is beta's, the last holds them all. */
    wait_firing("beta", NALERTS);
    usleep(1500 * 1000); /* past group_interval: a follow-up is out */
    size_t base = hrx_count(W.raw[k]);
    must(base == 1 || base == 2, "beta's crossing sent %zu notifications", base);
    json_t *b = NULL;
    for (size_t i = 0; i < base; i++) {
        json_decref(b);
        b = ew_req_json(&W, ew_req(&W, k, i));
        must(ew_streq(ew_jstr(json_object_get(b, "groupLabels"), "tenant"), "beta"),
             "notification %zu is not beta's", i);
    }
    must(json_array_size(json_object_get(b, "alerts")) == NALERTS,
         "beta's last notification holds %zu alerts, expected %d",
         json_array_size(json_object_get(b, "alerts")), NALERTS);
    json_decref(b);
    stays_quiet(k, base);

    /* the silence survives a restart, and still mutes */
    ew_wait_metric(&W, "mailpulse_events_accepted_total", W.sent, COUNT_MS);
    ew_stop_ok(&W, &W.daemon);
    ew_spawn_daemon(&W);
    must(query_has(id, "active"), "after a restart amtool silence query lacks %s", id);
    wait_firing("acme", NALERTS);
    stays_quiet(k, base);

    /* expiry: exactly one firing notification with all of them */
    out = amtool("silence-expire", (const char *[]){"silence", "expire", id, NULL});
    free(out);
    must(query_has(id, "expired") || !query_has(id, "active"), "silence %s still active", id);
    must(hrx_wait(W.raw[k], base + 1, ALERT_MS) == MP_OK, "expiry brought no notification");
    b = ew_req_json(&W, ew_req(&W, k, base));
    char *d = ew_jdump(b, 1500);
    must(ew_streq(ew_jstr(b, "status"), "firing") &&
             json_array_size(json_object_get(b, "alerts")) == NALERTS &&
             ew_streq(ew_jstr(json_object_get(b, "groupLabels"), "tenant"), "acme"),
         "expected acme's %d alerts firing: %s", NALERTS, d);
    free(d);
    json_decref(b);
    stays_quiet(k, base + 1);
    must(firing_count(k) == base + 1, "firing notifications: %zu", firing_count(k));
    must(alert_query(0, id, &by) == NALERTS,
         "amtool alert query: the alerts are not active again");
    W.passed = 1;
}
END_TEST

/* POST body to base+path with method; the status, the body in *resp. */
static long http_send(const char *method, const char *path, const char *body, char **resp)
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", W.base, path);
    CURL *c = curl_easy_init();
    must(c != NULL, "curl_easy_init");
    FILE *mem;
    char *buf = NULL;
    size_t blen = 0;
    mem = open_memstream(&buf, &blen);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, mem);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    CURLcode rc = curl_easy_perform(c);
    long st = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    fclose(mem);
    must(rc == CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(rc));
    *resp = buf;
    return st;
}

static void must_refuse(const char *body, const char *needle)
{
    char *resp = NULL;
    long st = http_send("POST", "/api/v2/silences", body, &resp);
    must(st == 400 && strstr(resp, needle), "POST %s: %ld %s (wanted 400 with \"%s\")", body, st,
         resp, needle);
    free(resp);
}

START_TEST(api_validation)
{
    ew_start_daemon(&W, (struct e2e_daemon_conf){0});
    const char *t = "\"startsAt\":\"2020-01-01T00:00:00Z\",\"endsAt\":\"2999-01-01T00:00:00Z\"";
    char body[1024];
    must_refuse("not json", "JSON object");
    snprintf(body, sizeof(body), "{\"matchers\":[],%s,\"createdBy\":\"a\",\"comment\":\"c\"}", t);
    must_refuse(body, "matchers");
    snprintf(body, sizeof(body),
             "{\"matchers\":[{\"name\":\"tenant\",\"value\":\".*\",\"isRegex\":true}],%s,"
             "\"createdBy\":\"a\",\"comment\":\"c\"}", t);
    must_refuse(body, "empty string");
    snprintf(body, sizeof(body),
             "{\"matchers\":[{\"name\":\"tenant\",\"value\":\"a\",\"isRegex\":false}],%s,"
             "\"createdBy\":\"\",\"comment\":\"c\"}", t);
    must_refuse(body, "createdBy");
    snprintf(body, sizeof(body),
             "{\"matchers\":[{\"name\":\"tenant\",\"value\":\"a\",\"isRegex\":false}],"
             "\"startsAt\":\"yesterday\",\"endsAt\":\"2999-01-01T00:00:00Z\","
             "\"createdBy\":\"a\",\"comment\":\"c\"}");
    must_refuse(body, "RFC 3339");
    char *resp = NULL;
    long st = http_send("GET", "/api/v2/silence/00000000-0000-4000-8000-000000000000", NULL, &resp);
    must(st == 404, "unknown silence: %ld %s", st, resp);
    free(resp);
    st = http_send("GET", "/api/v2/nothing", NULL, &resp);
    must(st == 404, "unknown path: %ld %s", st, resp);
    free(resp);
    snprintf(body, sizeof(body),
             "{\"matchers\":[{\"name\":\"tenant\",\"value\":\"a\",\"isRegex\":false}],%s,"
             "\"createdBy\":\"a\",\"comment\":\"c\"}", t);
    st = http_send("POST", "/api/v2/silences", body, &resp);
    must(st == 200 && strstr(resp, "silenceID"), "good silence: %ld %s", st, resp);
    free(resp);
    json_t *s = ew_get_json(&W, "/api/v2/status", 200);
    must(ew_streq(ew_jstr(json_object_get(s, "cluster"), "status"), "disabled"), "status");
    json_decref(s);
    W.passed = 1;
}
END_TEST

/* Runs `mailpulse silence ARGS --api BASE`: its exit status, stdout in *out. */
static int cli(const char *name, const char *const *args, char **out)
{
    char *argv[24];
    size_t n = 0;
    argv[n++] = W.mailpulse;
    argv[n++] = (char *)"silence";
    for (; *args && n < 21; args++)
        argv[n++] = (char *)*args;
    argv[n++] = (char *)"--api";
    argv[n++] = W.base;
    argv[n] = NULL;
    struct e2e_proc p;
    size_t len;
    must(e2e_run(&p, name, W.dir, argv, AMTOOL_MS, W.err, sizeof(W.err)) == MP_OK,
         "mailpulse silence %s: %s", name, W.err);
    *out = NULL;
    e2e_read_file(p.out_path, out, &len);
    if (!*out)
        *out = strdup("");
    return WIFEXITED(p.status) ? WEXITSTATUS(p.status) : -1;
}

static void lines_fit(const char *text)
{
    for (const char *p = text; *p;) {
        size_t l = strcspn(p, "\n");
        must(l <= 100, "a line of %zu columns: %.*s", l, (int)l, p);
        p += l + (p[l] != '\0');
    }
}

START_TEST(cli_silence)
{
    ew_start_daemon(&W, (struct e2e_daemon_conf){0});
    char *out, id[64] = "";
    must(cli("add", (const char *[]){"add", "--tenant", "acme", "--matcher",
                                     "alertname=~\"bounce.*\"", "--comment", "MTA swap",
                                     "--author", "ops", "--duration", "2h", NULL},
             &out) == 0,
         "silence add failed: %s", out);
    sscanf(out, "%63s", id);
    free(out);
    must(strlen(id) == 36, "add printed no id: %s", id);
    must(cli("query", (const char *[]){"query", NULL}, &out) == 0, "query failed");
    must(strstr(out, id) && strstr(out, "active") && strstr(out, "tenant=acme") &&
             strstr(out, "alertname=~bounce.*") && strstr(out, "ops"),
         "query table: %s", out);
    lines_fit(out);
    free(out);
    must(cli("query-json", (const char *[]){"query", "--json", "--tenant", "acme", NULL},
             &out) == 0 && strstr(out, "\"comment\":\"MTA swap\""),
         "query --json: %s", out);
    free(out);
    must(cli("bad", (const char *[]){"add", "--tenant", "acme", NULL}, &out) == 2,
         "add without --comment is not a usage error");
    free(out);
    must(cli("expire", (const char *[]){"expire", "--id", id, NULL}, &out) == 0, "expire: %s",
         out);
    free(out);
    must(cli("query2", (const char *[]){"query", NULL}, &out) == 0 && !strstr(out, id),
         "expired silence still listed: %s", out);
    free(out);
    must(cli("query3", (const char *[]){"query", "--expired", NULL}, &out) == 0 &&
             strstr(out, id) && strstr(out, "expired"),
         "query --expired: %s", out);
    free(out);
    must(cli("expire404", (const char *[]){"expire", "--id",
                                           "00000000-0000-4000-8000-000000000000", NULL},
             &out) == 1,
         "expire of an unknown id did not fail");
    free(out);
    W.passed = 1;
}
END_TEST

START_TEST(silence_runs_out)
{
    size_t k = ew_start_hook(&W, "out", 200, (struct e2e_daemon_conf){0});
    char *out;
    must(cli("add", (const char *[]){"add", "--tenant", "acme", "--comment", "short",
                                     "--author", "ops", "--duration", "4s", NULL},
             &out) == 0,
         "silence add: %s", out);
    free(out);
    /* endsAt is the client's clock + 4 s, cut to whole seconds: over 3 s away */
    int64_t ends_ns = mp_mono_ns() + 2000 * 1000000LL;
    ew_send(&W, "acme", "news@acme.example", "gmail.com", T_SENT, 1000, mp_now_ms());
    ew_send(&W, "acme", "news@acme.example", "gmail.com", T_BOUNCE_HARD, 25, mp_now_ms());
    wait_firing("acme", NALERTS);
    must(hrx_wait(W.raw[k], 1, 8000) == MP_OK, "no notification after the silence ran out");
    const struct hrx_req *r = ew_req(&W, k, 0);
    must(r->mono_ns >= ends_ns, "notified %lld ms before the silence's end",
         (long long)((ends_ns - r->mono_ns) / 1000000));
    json_t *b = ew_req_json(&W, r);
    must(ew_streq(ew_jstr(b, "status"), "firing") &&
             json_array_size(json_object_get(b, "alerts")) == NALERTS,
         "expected the %d alerts firing", NALERTS);
    json_decref(b);
    stays_quiet(k, 1);
    W.passed = 1;
}
END_TEST

/* The mailboxes (labels.mailbox) of request i of receiver k, joined by ' '
 * in their order; "-" for an alert without one. */
static void mailboxes_of(size_t k, size_t i, char *out, size_t n, const char **status)
{
    json_t *b = ew_req_json(&W, ew_req(&W, k, i)), *a;
    size_t x;
    out[0] = '\0';
    *status = ew_streq(ew_jstr(b, "status"), "firing") ? "firing" : "resolved";
    json_array_foreach(json_object_get(b, "alerts"), x, a)
    {
        const char *mb = ew_jstr(json_object_get(a, "labels"), "mailbox");
        size_t len = strlen(out);
        snprintf(out + len, n - len, "%s%s", len ? " " : "", mb ? mb : "-");
    }
    json_decref(b);
}

#define SM_A "a@acme.example"
#define SM_B "b@acme.example"

START_TEST(silenced_member_left_out)
{
    const struct e2e_alerting_conf al = {.group_interval = "200ms"};
    size_t k = ew_start_hook(&W, "mem", 200, (struct e2e_daemon_conf){.alerting = &al});
    char *out, id[64] = "", mbs[512];
    const char *st;
    ew_send(&W, "acme", SM_A, "gmail.com", T_SENT, 1000, mp_now_ms());
    ew_send(&W, "acme", SM_A, "gmail.com", T_BOUNCE_HARD, 25, mp_now_ms()); /* 2.50% */
    must(hrx_wait(W.raw[k], 1, ALERT_MS) == MP_OK, "no notification for a's crossing");
    mailboxes_of(k, 0, mbs, sizeof(mbs), &st);
    must(strstr(mbs, SM_A) != NULL, "a's crossing: %s", mbs);
    must(cli("add", (const char *[]){"add", "--tenant", "acme", "--matcher", "mailbox=" SM_A,
                                     "--comment", "a is being fixed", "--author", "ops",
                                     "--duration", "2h", NULL},
             &out) == 0,
         "silence add: %s", out);
    sscanf(out, "%63s", id);
    free(out);
    /* b crosses: its news brings a notification of the group, without a */
    ew_send(&W, "acme", SM_B, "gmail.com", T_SENT, 1000, mp_now_ms());
    ew_send(&W, "acme", SM_B, "gmail.com", T_BOUNCE_HARD, 30, mp_now_ms()); /* 3% */
    must(hrx_wait(W.raw[k], 2, ALERT_MS) == MP_OK, "no notification for b's crossing");
    mailboxes_of(k, 1, mbs, sizeof(mbs), &st);
    must(strstr(mbs, SM_B) && !strstr(mbs, SM_A) && strcmp(st, "firing") == 0,
         "b's crossing (%s): \"%s\", want b and not the silenced a", st, mbs);
    must(cli("expire", (const char *[]){"expire", "--id", id, NULL}, &out) == 0, "expire: %s",
         out);
    free(out);
    /* the sweep tells a again, as firing, with the group */
    must(hrx_wait(W.raw[k], 3, ALERT_MS) == MP_OK, "a not told again after the expiry");
    mailboxes_of(k, 2, mbs, sizeof(mbs), &st);
    must(strstr(mbs, SM_A) && strstr(mbs, SM_B) && strcmp(st, "firing") == 0,
         "after the expiry (%s): \"%s\", want a among the group", st, mbs);
    stays_quiet(k, 3);
    W.passed = 1;
}
END_TEST

#define ADMIN "adm-7f3c9e1d2b4a6c8e0f1a"
#define ACME "acm-5b2d8f0e4c6a1e3d9b7f"

/* amtool as `token`'s holder (an http config file with the bearer token):
 * its exit status, stdout in *out. */
static int amtool_as(const char *token, const char *name, const char *const *args, char **out)
{
    char cfg[E2E_PATH_MAX + 64], text[256], url[160], flag[E2E_PATH_MAX + 100];
    char *argv[24];
    size_t n = 0, len;
    snprintf(cfg, sizeof(cfg), "%s/http-%s.yml", W.dir, name);
    snprintf(text, sizeof(text), "authorization:\n  type: Bearer\n  credentials: %s\n", token);
    must(e2e_write_file(cfg, text, W.err, sizeof(W.err)) == MP_OK, "%s", W.err);
    snprintf(url, sizeof(url), "--alertmanager.url=%s", W.base);
    snprintf(flag, sizeof(flag), "--http.config.file=%s", cfg);
    argv[n++] = (char *)amtool_path();
    argv[n++] = url;
    argv[n++] = flag;
    for (; *args && n < 23; args++)
        argv[n++] = (char *)*args;
    argv[n] = NULL;
    struct e2e_proc p;
    must(e2e_run(&p, name, W.dir, argv, AMTOOL_MS, W.err, sizeof(W.err)) == MP_OK, "%s",
         W.err);
    *out = NULL;
    e2e_read_file(p.out_path, out, &len);
    if (!*out)
        *out = strdup("");
    return WIFEXITED(p.status) ? WEXITSTATUS(p.status) : -1;
}

START_TEST(tenant_tokens)
{
    char text[2048], *out;
    const char *port = strrchr(W.http, ':');
    snprintf(text, sizeof(text),
             "data_dir: \"%s\"\ningest:\n  pull: \"%s\"\n  workers: 2\nhttp:\n"
             "  listen: \"127.0.0.1%s\"\n  tokens:\n    admin: " ADMIN "\n    tenants:\n"
             "      acme: " ACME "\n",
             W.data, W.pull, port);
    must(e2e_write_file(W.cfg, text, W.err, sizeof(W.err)) == MP_OK, "%s", W.err);
    ew_spawn_daemon(&W);
    const char *add_acme[] = {"silence", "add", "tenant=acme", "alertname=bounce_rate",
                              "--comment=c", "--author=a", NULL};
    const char *add_beta[] = {"silence", "add", "tenant=beta", "--comment=c", "--author=a", NULL};
    const char *add_any[] = {"silence", "add", "alertname=x", "--comment=c", "--author=a", NULL};
    const char *query[] = {"silence", "query", "-q", NULL};
    char acme_id[64] = "", beta_id[64] = "";
    must(amtool_as(ACME, "acme-add", add_acme, &out) == 0, "acme's silence refused: %s", out);
    sscanf(out, "%63s", acme_id);
    free(out);
    must(amtool_as(ACME, "acme-beta", add_beta, &out) != 0, "acme added a silence for beta");
    free(out);
    must(amtool_as(ACME, "acme-any", add_any, &out) != 0, "acme added a silence for any tenant");
    free(out);
    must(amtool_as(ADMIN, "admin-beta", add_beta, &out) == 0, "admin's silence refused");
    sscanf(out, "%63s", beta_id);
    free(out);
    must(amtool_as(ACME, "acme-query", query, &out) == 0 && strstr(out, acme_id) &&
             !strstr(out, beta_id),
         "acme's query: %s", out);
    free(out);
    must(amtool_as(ADMIN, "admin-query", query, &out) == 0 && strstr(out, acme_id) &&
             strstr(out, beta_id),
         "admin's query: %s", out);
    free(out);
    const char *expire_beta[] = {"silence", "expire", beta_id, NULL};
    must(amtool_as(ACME, "acme-expire", expire_beta, &out) != 0, "acme expired beta's silence");
    free(out);
    char *body = NULL;
    long st = 0;
    must(e2e_http_get(W.base, 5000, &st, &body) == MP_OK, "GET");
    free(body);
    snprintf(text, sizeof(text), "%s/api/v2/silences", W.base);
    must(e2e_http_get(text, 5000, &st, &body) == MP_OK && st == 401, "no token: %ld", st);
    free(body);
    W.passed = 1;
}
END_TEST

EW_SUITE("e2e_silence", 60, setup, teardown, {amtool_silence_lifecycle, 0}, {api_validation, 0},
         {cli_silence, 0}, {silence_runs_out, 0}, {silenced_member_left_out, 0}, {tenant_tokens, 0})
