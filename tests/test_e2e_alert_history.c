/* test_e2e_alert_history.c — Check suite "e2e_alert_history": past alerts
 * through GET /v1/tenants/{tenant}/alerts/history, on the real daemon with
 * a real receiver.
 *
 * Cases:
 *   lifecycle_kept
 *       One mailbox's bounce rate crosses the warning line (2.5%), then the
 *       critical one (4.5%), then falls back (0.45%): the mailbox's history
 *       is fired (warning), severity (critical), resolved, in that order,
 *       each with the alert as the webhook carried it; the tenant scope has
 *       its own three; alert=, limit= (the newest, truncated) and from/to
 *       select as documented. A silence on the mailbox, then a second
 *       crossing: fired, then silenced naming the silence's id, and the
 *       answer lists that silence with the alert's fingerprint. After a
 *       restart every entry is still there, and nothing fired anew.
 *   tokens_and_refusals
 *       With http.tokens: acme's token reads acme's history, beta's gets the
 *       unknown tenant's 404 for it (the same as for a tenant never
 *       counted); bad parameters are 400 with a message naming them.
 *
 * Programs from $MP_BIN_DIR.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "alert_silence.h"
#include "auth_matrix.h"
#include "check_main.h"
#include "e2e_adapt.h"
#include "e2e_suite.h"

#define WAIT_MS 8000
enum { T_SENT = 1, T_BOUNCE_HARD = 3 };
#define MB "news@acme.example"
#define HIST "/v1/tenants/acme/alerts/history"

EW_FIXTURE("e2ehist")

static void rules_write(void)
{
    EW_MUST_OK(&W, e2e_write_file(W.rules,
                                  "rules:\n"
                                  "  - name: bounce_rate\n"
                                  "    kind: ratio\n"
                                  "    scopes: [tenant, mailbox]\n"
                                  "    numerator: [bounce_hard]\n"
                                  "    denominator: [sent]\n"
                                  "    window: 1h\n"
                                  "    min_volume: 100\n"
                                  "    warning: 2%\n"
                                  "    critical: 4%\n"
                                  "    keep_firing_for: 0s\n",
                                  W.err, sizeof(W.err)));
}

/* The entries of GET path (200). */
static json_t *entries(const char *path)
{
    json_t *j = ew_get_json(&W, path, 200);
    json_t *e = json_incref(json_object_get(j, "entries"));
    must(json_is_array(e), "%s: no entries array", path);
    json_decref(j);
    return e;
}

/* Polls path until it holds n entries; returns them. */
static json_t *wait_entries(const char *path, size_t n)
{
    int64_t deadline = mp_mono_ns() + (int64_t)WAIT_MS * 1000000;
    json_t *e = entries(path);
    while (json_array_size(e) < n && mp_mono_ns() < deadline) {
        json_decref(e);
        usleep(20000);
        e = entries(path);
    }
    must(json_array_size(e) == n, "%s: %zu entries, expected %zu: %s", path,
         json_array_size(e), n, ew_jdump(e, 2000));
    return e;
}

/* Polls path until its last entry is a resolve; returns the entries. */
static json_t *wait_resolved(const char *path)
{
    int64_t deadline = mp_mono_ns() + (int64_t)WAIT_MS * 1000000;
    json_t *e = entries(path);
    while (!ew_streq(ew_jstr(json_array_get(e, json_array_size(e) - 1), "event"), "resolved") &&
           mp_mono_ns() < deadline) {
        json_decref(e);
        usleep(20000);
        e = entries(path);
    }
    must(json_array_size(e) >= 3, "%s: no resolve: %s", path, ew_jdump(e, 2000));
    return e;
}

static const char *label(json_t *entry, const char *name)
{
    return ew_jstr(json_object_get(json_object_get(entry, "alert"), "labels"), name);
}

/* Entry i is `event` at severity `sev` for the alert of `scope`. */
static void is_step(json_t *list, size_t i, const char *event, const char *sev,
                    const char *scope)
{
    json_t *e = json_array_get(list, i);
    must(ew_streq(ew_jstr(e, "event"), event) && (!sev || ew_streq(label(e, "severity"), sev)) &&
             ew_streq(ew_jstr(e, "scope"), scope) && ew_streq(label(e, "alertname"), "bounce_rate") &&
             ew_streq(label(e, "tenant"), "acme"),
         "entry %zu: want %s %s at %s, got %s", i, event, sev ? sev : "any", scope, ew_jdump(e, 1500));
    const char *status = ew_jstr(json_object_get(e, "alert"), "status");
    must(ew_streq(status, strcmp(event, "resolved") == 0 ? "resolved" : "firing"),
         "entry %zu: alert status %s", i, status ? status : "(none)");
}

/* The entries' times never go back, and none is before t0. */
static void in_order(json_t *list, int64_t t0)
{
    int64_t prev = t0;
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        int64_t at = 0;
        must(mp_time_parse(ew_jstr(e, "at"), &at) == MP_OK && at >= prev,
             "entry %zu at %s: before the one before it or the start", i, ew_jstr(e, "at"));
        prev = at;
    }
}

/* POST /api/v2/silences muting the mailbox; its id into id. */
static void silence_mailbox(char id[64])
{
    char out[512];
    const char *hdrs[] = {"Content-Type: application/json", NULL};
    const char *body = "{\"matchers\":[{\"name\":\"tenant\",\"value\":\"acme\",\"isRegex\":false},"
                       "{\"name\":\"mailbox\",\"value\":\"" MB "\",\"isRegex\":false}],"
                       "\"startsAt\":\"2020-01-01T00:00:00Z\",\"endsAt\":\"2099-01-01T00:00:00Z\","
                       "\"createdBy\":\"ops\",\"comment\":\"list being cleaned\"}";
    long st = ead_post(&W, "/api/v2/silences", hdrs, body, out, sizeof(out));
    json_t *j = json_loads(out, 0, NULL);
    must(st == 200 && ew_jstr(j, "silenceID"), "silence: %ld %s", st, out);
    snprintf(id, 64, "%s", ew_jstr(j, "silenceID"));
    json_decref(j);
}

static void check_silenced(json_t *mb, size_t at, const char *id)
{
    json_t *e = json_array_get(mb, at), *ids = json_object_get(e, "silences");
    must(json_array_size(ids) == 1 && ew_streq(json_string_value(json_array_get(ids, 0)), id),
         "silenced entry names %s", ew_jdump(ids, 300));
    json_t *j = ew_get_json(&W, HIST "?scope=mailbox&name=" MB, 200);
    json_t *s = json_array_get(json_object_get(j, "silences"), 0);
    const char *fp = ew_jstr(json_object_get(e, "alert"), "fingerprint");
    json_t *fps = json_object_get(s, "fingerprints");
    must(json_array_size(json_object_get(j, "silences")) == 1 && ew_streq(ew_jstr(s, "id"), id) &&
             fp && json_array_size(fps) == 1 &&
             ew_streq(json_string_value(json_array_get(fps, 0)), fp),
         "the answer's silences: %s", ew_jdump(json_object_get(j, "silences"), 1500));
    json_decref(j);
}

START_TEST(lifecycle_kept)
{
    const struct e2e_alerting_conf al = {.group_interval = "100ms"};
    rules_write();
    size_t k = ew_start_hook(&W, "hist", 200, (struct e2e_daemon_conf){.rules = W.rules,
                                                                       .alerting = &al});
    int64_t t0 = mp_now_ms();
    ew_send(&W, "acme", MB, "gmail.com", T_SENT, 1000, mp_now_ms());
    ew_send(&W, "acme", MB, "gmail.com", T_BOUNCE_HARD, 25, mp_now_ms()); /* 2.5% */
    json_decref(wait_entries(HIST "?scope=mailbox&name=" MB, 1));
    ew_send(&W, "acme", MB, "gmail.com", T_BOUNCE_HARD, 20, mp_now_ms()); /* 4.5% */
    json_decref(wait_entries(HIST "?scope=mailbox&name=" MB, 2));
    /* 0.45% in the end; the frames of 500 pass 3% on the way (warning) */
    ew_send(&W, "acme", MB, "gmail.com", T_SENT, 9000, mp_now_ms());
    json_t *mb = wait_resolved(HIST "?scope=mailbox&name=" MB);
    size_t nmb = json_array_size(mb);
    is_step(mb, 0, "fired", "warning", "mailbox");
    is_step(mb, 1, "severity", "critical", "mailbox");
    for (size_t i = 2; i + 1 < nmb; i++)
        is_step(mb, i, "severity", "warning", "mailbox");
    is_step(mb, nmb - 1, "resolved", NULL, "mailbox");
    must(ew_streq(label(json_array_get(mb, 0), "mailbox"), MB), "mailbox label");
    in_order(mb, t0 - 1000);
    json_t *ten = wait_resolved(HIST "?scope=tenant");
    size_t nten = json_array_size(ten);
    is_step(ten, 0, "fired", "warning", "tenant");
    is_step(ten, 1, "severity", "critical", "tenant");
    json_decref(ten);
    json_decref(wait_entries(HIST, nmb + nten));
    json_decref(wait_entries(HIST "?alert=complaint_rate", 0));
    json_t *j = ew_get_json(&W, HIST "?scope=mailbox&name=" MB "&limit=1", 200);
    must(json_array_size(json_object_get(j, "entries")) == 1 &&
             json_is_true(json_object_get(j, "truncated")) &&
             ew_streq(ew_jstr(json_array_get(json_object_get(j, "entries"), 0), "event"),
                      "resolved"),
         "limit=1: %s", ew_jdump(j, 1500));
    json_decref(j);
    char path[256];
    snprintf(path, sizeof(path), HIST "?to=%lld", (long long)(t0 / 1000 - 5));
    json_decref(wait_entries(path, 0));
    snprintf(path, sizeof(path), HIST "?from=%lld", (long long)(mp_now_ms() / 1000 + 5));
    json_decref(ew_get_json(&W, path, 400)); /* after the default to (now) */
    json_decref(mb);
    must(hrx_wait(W.raw[k], 2, WAIT_MS) == MP_OK, "the receiver heard %zu requests",
         hrx_count(W.raw[k])); /* what the history shows was told too */

    char id[64];
    silence_mailbox(id);
    ew_send(&W, "acme", MB, "gmail.com", T_BOUNCE_HARD, 300, mp_now_ms()); /* 3.45% */
    mb = wait_entries(HIST "?scope=mailbox&name=" MB, nmb + 2);
    is_step(mb, nmb, "fired", "warning", "mailbox");
    is_step(mb, nmb + 1, "silenced", "warning", "mailbox");
    check_silenced(mb, nmb + 1, id);
    json_decref(mb);

    ew_stop_ok(&W, &W.daemon);
    ew_spawn_daemon(&W);
    usleep(1500 * 1000); /* the walk after the start, a sweep */
    mb = entries(HIST "?scope=mailbox&name=" MB);
    must(json_array_size(mb) >= nmb + 2, "after the restart: %zu entries", json_array_size(mb));
    is_step(mb, nmb, "fired", "warning", "mailbox");
    is_step(mb, nmb - 1, "resolved", NULL, "mailbox");
    for (size_t i = nmb + 2; i < json_array_size(mb); i++)
        must(!ew_streq(ew_jstr(json_array_get(mb, i), "event"), "fired"),
             "fired anew after the restart: %s", ew_jdump(mb, 3000));
    json_decref(mb);
    W.passed = 1;
}
END_TEST

static long get_as(const char *path, const char *token, char **body)
{
    return ew_get_auth(&W, path, token, body);
}

START_TEST(tokens_and_refusals)
{
    rules_write();
    ew_start_hook(&W, "tok", 200, (struct e2e_daemon_conf){.rules = W.rules,
                                                           .http_extra = AUTH_TOKENS_YAML});
    ew_send(&W, "acme", MB, "gmail.com", T_SENT, 1000, mp_now_ms());
    ew_send(&W, "acme", MB, "gmail.com", T_BOUNCE_HARD, 25, mp_now_ms());
    char *body = NULL;
    int64_t deadline = mp_mono_ns() + (int64_t)WAIT_MS * 1000000;
    long st;
    for (;;) {
        free(body);
        st = get_as(HIST, AUTH_TOKEN_ACME, &body);
        if ((st == 200 && strstr(body, "\"fired\"")) || mp_mono_ns() > deadline)
            break;
        usleep(20000);
    }
    must(st == 200 && strstr(body, "\"fired\""), "acme's own: %ld %s", st, body);
    free(body);
    st = get_as(HIST, AUTH_TOKEN_BETA, &body);
    must(st == 404 && strstr(body, "unknown tenant") && !strstr(body, "fired"),
         "beta on acme: %ld %s", st, body);
    free(body);
    static const struct {
        const char *q, *needle;
    } bad[] = {
        {"?scope=nope", "unknown scope"},
        {"?name=x", "name needs a scope"},
        {"?scope=tenant&name=x", "name needs a scope"},
        {"?limit=0", "bad limit"},
        {"?limit=10001", "bad limit"},
        {"?from=2026-13-01T00:00:00Z", "bad from"},
        {"?from=200&to=100", "from is after to"},
        {"?window=1h", "unknown query parameter"},
        {"?limit=5&limit=6", "more than once"},
    };
    for (size_t i = 0; i < MP_ARRAY_LEN(bad); i++) {
        char path[160];
        snprintf(path, sizeof(path), HIST "%s", bad[i].q);
        st = get_as(path, AUTH_TOKEN_ADMIN, &body);
        must(st == 400 && strstr(body, bad[i].needle), "%s: %ld %s", bad[i].q, st, body);
        free(body);
    }
    W.passed = 1;
}
END_TEST

EW_SUITE("e2e_alert_history", 60, setup, teardown, {lifecycle_kept, 0}, {tokens_and_refusals, 0})
