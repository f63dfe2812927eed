/* test_alert_eval.c — the evaluator (alerts/alert_eval, alert_group,
 * alert_state, alert_json): the alert lifecycle against a real key table, a
 * real RocksDB store, the real sender and an in-process HTTP receiver.
 * Cases named group_* are alert_group's, state_* alert_state's, json_*
 * alert_json's; the rest are the lifecycle's (alert_eval.c).
 *
 * `for` holds an alert pending and fires it only when it has lasted; a
 * pending alert that falls back is never heard of; reminders come after the
 * repeat interval and not before; a tenant's later alerts wait for the group
 * interval and go out in one request, and a fire-and-resolve inside that
 * wait sends nothing; every notification carries the whole group (firing
 * ones, and those resolved since the last), status firing while any fires,
 * and group_by splits groups; state read back from the store keeps a firing alert
 * firing without a second notification and still sends its resolve; a rule
 * that disappears on reload, or while the daemon is down, resolves its
 * alerts; /v1/alerts's JSON shows pending and firing alerts of one tenant
 * only. Issue 11: a reload that lowers a threshold fires a key with no new
 * event (the walk), a reload that changes no rule walks nothing, a rule
 * disabled for a tenant resolves saying so with its last real figures and
 * fires again once re-enabled, and keep_firing_for holds an alert through
 * a dip under its line (one notification) and resolves from the sweep once
 * it has passed. Issue 16: an idle evaluator sleeps until a frame's end
 * wakes it (idle_sleeps_frame_wakes).
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert_eval.h"
#include "alert_gate.h"
#include "alert_rule.h"
#include "alert_sender.h"
#include "e2e_harness.h"
#include "http_receiver.h"
#include "eng_store.h"
#include "eng_table.h"
#include "alert_testkit.h"
#include "check_main.h"
#include "unit_util.h"

#define DAY (24 * 3600 * 1000LL)

struct world {
    struct atk_bench b;
    struct alert_eval *eval;
};

static struct world W;

static void setup(void)
{
    static const struct alert_receiver hook = {.name = "hook", .type = ALERT_RECEIVER_WEBHOOK,
                                               .secret = "s3cret"};
    memset(&W, 0, sizeof(W));
    atk_bench_start(&W.b, "alert_eval", 4096, &hook);
}

static void stop_eval(void)
{
    alert_eval_stop(W.eval);
    W.eval = NULL;
}

static void teardown(void)
{
    stop_eval();
    atk_bench_stop(&W.b);
}

/* r1: bounce_hard / sent over 1h, min 10, warning 10%, critical 50%. */
static struct alert_rule ratio_rule(const char *name, int64_t for_ms, int64_t repeat_ms)
{
    struct alert_rule r = atk_rule(name, ALERT_KIND_RATIO, 1u << ENG_BOUNCE_HARD);
    r.den_types = 1u << ENG_SENT;
    r.min_volume = 10;
    r.warning_ppb = ALERT_PPB / 10;
    r.critical_ppb = ALERT_PPB / 2;
    r.resolve_ratio_ppb = ALERT_PPB * 9 / 10;
    r.for_ms = for_ms;
    r.repeat_ms = repeat_ms;
    return r;
}

static void start_eval_by(const struct alert_rule *rules, size_t n, int64_t group_ms,
                          unsigned group_by)
{
    struct alert_receiver r = {.name = "hook", .type = ALERT_RECEIVER_WEBHOOK, .url = W.b.url,
                               .secret = "s3cret"};
    struct alert_eval_opts eo = {.rules = atk_ruleset_of(rules, n), .receivers = &r,
                                 .nreceivers = 1, .routes = atk_hook_route(), .max_keys = 4096,
                                 .store = W.b.store, .group_interval_ms = group_ms,
                                 .group_by = group_by};
    ck_assert_int_eq(alert_eval_start(W.b.table, W.b.sender, &eo, &W.eval), MP_OK);
}

static void start_eval(const struct alert_rule *rules, size_t n, int64_t group_ms)
{
    start_eval_by(rules, n, group_ms, 0);
}

/* The usual one-rule evaluator: r1 with these `for` and repeat intervals. */
static void start_r1(int64_t for_ms, int64_t repeat_ms, int64_t group_ms)
{
    struct alert_rule r = ratio_rule("r1", for_ms, repeat_ms);
    start_eval(&r, 1, group_ms);
}

static void events(const char *tenant, int type, int n);

/* `sent` sends, then `bounces` hard bounces: r1's ratio crosses (or not). */
static void bounce(const char *tenant, int sent, int bounces)
{
    events(tenant, ENG_SENT, sent);
    events(tenant, ENG_BOUNCE_HARD, bounces);
}

/* n events as one frame, as an ingest worker applies one wire batch: the
 * evaluator sees all of them or none. */
static void events(const char *tenant, int type, int n)
{
    struct eng_event ev = {tenant, strlen(tenant), "m@x.example", 11, "gmail.com", 9, type,
                           mp_now_ms(), NULL, 0};
    struct eng_frame *f;
    ck_assert_int_eq(eng_frame_create(&f), MP_OK);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(eng_frame_record(W.b.table, f, &ev), MP_OK);
    eng_frame_end(W.b.table, f);
    eng_frame_destroy(f);
}

/* The alerts of request i as "<status>:<alertname>:<tenant>:<severity>" joined by ' '. */
static void request_summary(size_t i, char *out, size_t n)
{
    const struct hrx_req *r = hrx_get(W.b.sink, i);
    json_t *j = json_loads(r->body, 0, NULL);
    ck_assert_ptr_nonnull(j);
    static const char *const labels[] = {"alertname", "tenant", "severity", NULL};
    atk_alerts_summary(j, labels, out, n);
    json_decref(j);
}

static void expect_request(size_t i, const char *want, int timeout_ms)
{
    char got[1024];
    ck_assert_msg(hrx_wait(W.b.sink, i + 1, timeout_ms) == MP_OK,
                  "request %zu (%s) did not arrive within %d ms; %zu arrived", i, want,
                  timeout_ms, hrx_count(W.b.sink));
    request_summary(i, got, sizeof(got));
    ck_assert_msg(strcmp(got, want) == 0, "request %zu: got \"%s\", want \"%s\"", i, got, want);
}

static void expect_quiet(size_t count, int ms)
{
    usleep((useconds_t)ms * 1000);
    if (hrx_count(W.b.sink) != count) {
        char got[1024];
        request_summary(count, got, sizeof(got));
        ck_abort_msg("expected %zu requests, got %zu; the extra one: %s", count,
                     hrx_count(W.b.sink), got);
    }
}

static int active_has(const char *tenant, const char *state)
{
    char *js = alert_eval_active_json(W.eval, tenant);
    ck_assert_ptr_nonnull(js);
    char needle[64];
    snprintf(needle, sizeof(needle), "\"status\":\"%s\"", state);
    int yes = strstr(js, needle) != NULL;
    free(js);
    return yes;
}

/* Polls until holds(arg) is 1 or timeout_ms passes: the evaluator (and
 * the gate) run on their own threads, and a loaded machine may take them
 * longer than any fixed sleep. */
static int eventually(int (*holds)(const void *arg), const void *arg, int timeout_ms)
{
    int64_t end = mp_mono_ns() + (int64_t)timeout_ms * 1000000;
    do {
        if (holds(arg))
            return 1;
        usleep(2 * 1000);
    } while (mp_mono_ns() < end);
    return 0;
}

struct active_q {
    const char *tenant, *state;
    int want;
};

static int active_is(const void *arg)
{
    const struct active_q *q = arg;
    return active_has(q->tenant, q->state) == q->want;
}

/* Polls until active_has(tenant, state) equals want. */
static int active_becomes(const char *tenant, const char *state, int want, int timeout_ms)
{
    struct active_q q = {tenant, state, want};
    return eventually(active_is, &q, timeout_ms);
}

START_TEST(pending_for_then_firing)
{
    start_r1(1500, 0, 50);
    bounce("slowburn", 100, 20); /* 20%: warning, but `for` runs */
    ck_assert(active_becomes("slowburn", "pending", 1, 1000));
    ck_assert_uint_eq(hrx_count(W.b.sink), 0);
    /* a flicker that falls back before `for` ends is never heard of */
    bounce("flicker", 100, 20);
    ck_assert(active_becomes("flicker", "pending", 1, 1000));
    events("flicker", ENG_SENT, 1000);
    ck_assert(active_becomes("flicker", "pending", 0, 1000));
    /* the sweep fires slowburn once `for` has passed (sweep: every second) */
    expect_request(0, "firing:r1:slowburn:warning", 3500);
    ck_assert(active_has("slowburn", "firing"));
    expect_quiet(1, 1500);
}
END_TEST

START_TEST(repeat_after_interval_only)
{
    start_r1(0, 2000, 50);
    bounce("t", 100, 60);
    int64_t t0 = mp_mono_ns();
    expect_request(0, "firing:r1:t:critical", 2000);
    events("t", ENG_BOUNCE_HARD, 1); /* still critical: no news */
    expect_request(1, "firing:r1:t:critical", 4000);
    int64_t gap_ms = (mp_mono_ns() - t0) / 1000000;
    ck_assert_msg(gap_ms >= 2000, "reminder after %lld ms, the interval is 2000", (long long)gap_ms);
    /* both are the same alert: same fingerprint and startsAt */
    json_t *a = json_loads(hrx_get(W.b.sink, 0)->body, 0, NULL);
    json_t *b = json_loads(hrx_get(W.b.sink, 1)->body, 0, NULL);
    json_t *a0 = json_array_get(json_object_get(a, "alerts"), 0);
    json_t *b0 = json_array_get(json_object_get(b, "alerts"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(a0, "fingerprint")),
                     json_string_value(json_object_get(b0, "fingerprint")));
    ck_assert_str_eq(json_string_value(json_object_get(a0, "startsAt")),
                     json_string_value(json_object_get(b0, "startsAt")));
    /* a reminder is another notification: another idempotency key */
    ck_assert_str_ne(hrx_req_header(hrx_get(W.b.sink, 0), "Idempotency-Key"),
                     hrx_req_header(hrx_get(W.b.sink, 1), "Idempotency-Key"));
    json_decref(a);
    json_decref(b);
}
END_TEST

START_TEST(group_interval_batches_and_cancels)
{
    struct alert_rule r[2] = {ratio_rule("r1", 0, 0), ratio_rule("r2", 0, 0)};
    r[1].num_types = 1u << ENG_BLOCKED; /* blocked / delivered */
    r[1].den_types = 1u << ENG_DELIVERED;
    start_eval(r, 2, 1500);
    events("g", ENG_DELIVERED, 100);
    bounce("g", 100, 20);
    expect_request(0, "firing:r1:g:warning", 1000); /* the first goes at once */
    int64_t t0 = mp_mono_ns();
    events("g", ENG_BOUNCE_HARD, 40); /* escalates: waits for the interval */
    events("g", ENG_BLOCKED, 20);     /* r2 fires: waits too, same request */
    usleep(200 * 1000);
    ck_assert_uint_eq(hrx_count(W.b.sink), 1);
    expect_request(1, "firing:r1:g:critical firing:r2:g:warning", 2500);
    ck_assert_msg((mp_mono_ns() - t0) / 1000000 >= 1200, "the group went out before its interval");
    /* r2 resolves and fires again inside the next wait: nothing to tell */
    events("g", ENG_DELIVERED, 1000); /* 20/1100: resolves */
    usleep(50 * 1000);
    events("g", ENG_BLOCKED, 200); /* 220/1100: fires again */
    expect_quiet(2, 2000);
}
END_TEST

/* Top-level field `key` of request i. */
static char *request_top(size_t i, const char *key)
{
    json_t *j = json_loads(hrx_get(W.b.sink, i)->body, 0, NULL);
    ck_assert_ptr_nonnull(j);
    const char *v = json_string_value(json_object_get(j, key));
    char *out = strdup(v ? v : "");
    json_decref(j);
    return out;
}

static void expect_field(size_t i, const char *key, const char *want)
{
    char *got = request_top(i, key);
    ck_assert_msg(strcmp(got, want) == 0, "request %zu: %s is \"%s\", want \"%s\"", i, key, got,
                  want);
    free(got);
}

/* Two rules r1 (bounces/sent) and r2 (blocked/delivered) of one tenant. */
static void two_rules(struct alert_rule r[2])
{
    r[0] = ratio_rule("r1", 0, 0);
    r[1] = ratio_rule("r2", 0, 0);
    r[1].num_types = 1u << ENG_BLOCKED;
    r[1].den_types = 1u << ENG_DELIVERED;
}

/* r1 fires for tenant on 20 bounces of 100 sent (request 0 must be
 * `first`), then r2 on 20 blocked of 100 delivered (request 1: `second`). */
static void both_fire(const char *tenant, const char *first, const char *second)
{
    bounce(tenant, 100, 20);
    expect_request(0, first, 2000);
    events(tenant, ENG_DELIVERED, 100);
    events(tenant, ENG_BLOCKED, 20);
    expect_request(1, second, 2000);
}

/* Alertmanager's whole group: a second alert's notification carries the
 * first, one of two resolving lists the resolved one and stays firing, and
 * the last resolving is "resolved" with only itself. */
START_TEST(group_whole_group_carried)
{
    struct alert_rule r[2];
    two_rules(r);
    start_eval(r, 2, 50);
    both_fire("wg", "firing:r1:wg:warning", "firing:r1:wg:warning firing:r2:wg:warning");
    expect_field(0, "status", "firing");
    expect_field(1, "groupKey", "{}:{tenant=\"wg\"}");
    events("wg", ENG_DELIVERED, 1000); /* 20/1120: r2 resolves, r1 still fires */
    expect_request(2, "firing:r1:wg:warning resolved:r2:wg:warning", 2000);
    expect_field(2, "status", "firing");
    events("wg", ENG_SENT, 1000); /* 20/1100: r1 resolves too */
    expect_request(3, "resolved:r1:wg:warning", 2000);
    expect_field(3, "status", "resolved");
    expect_quiet(4, 600);
}
END_TEST

/* group_by alertname: the two rules are two groups, each its own groupKey,
 * and neither notification carries the other's alert. */
START_TEST(group_by_splits_groups)
{
    struct alert_rule r[2];
    two_rules(r);
    start_eval_by(r, 2, 50, ALERT_LABEL_ALERTNAME);
    both_fire("gb", "firing:r1:gb:warning", "firing:r2:gb:warning");
    expect_field(0, "groupKey", "{}:{alertname=\"r1\", tenant=\"gb\"}");
    expect_field(1, "groupKey", "{}:{alertname=\"r2\", tenant=\"gb\"}");
    expect_quiet(2, 600);
}
END_TEST

START_TEST(state_restart_keeps_firing_and_resolves)
{
    start_r1(0, 0, 50);
    bounce("persist", 100, 20);
    expect_request(0, "firing:r1:persist:warning", 2000);
    json_t *first = json_loads(hrx_get(W.b.sink, 0)->body, 0, NULL);
    stop_eval();
    start_r1(0, 0, 50); /* reads the state back from the store */
    struct alert_eval_figures f;
    alert_eval_figures(W.eval, &f);
    ck_assert_uint_eq(f.restored, 1);
    ck_assert_uint_eq(f.firing, 1);
    ck_assert(active_has("persist", "firing"));
    events("persist", ENG_SENT, 1); /* evaluated again: still over, not new */
    expect_quiet(1, 1500);
    events("persist", ENG_SENT, 1000);
    expect_request(1, "resolved:r1:persist:warning", 3000);
    json_t *res = json_loads(hrx_get(W.b.sink, 1)->body, 0, NULL);
    json_t *a0 = json_array_get(json_object_get(first, "alerts"), 0);
    json_t *r0 = json_array_get(json_object_get(res, "alerts"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(a0, "startsAt")),
                     json_string_value(json_object_get(r0, "startsAt")));
    ck_assert_str_ne(json_string_value(json_object_get(r0, "endsAt")), "0001-01-01T00:00:00Z");
    json_decref(first);
    json_decref(res);
    /* resolved is forgotten: a third start restores nothing */
    stop_eval();
    start_r1(0, 0, 50);
    alert_eval_figures(W.eval, &f);
    ck_assert_uint_eq(f.restored, 0);
    expect_quiet(2, 500);
}
END_TEST

/* Rules r1 and "keep" (r[0], r[1]) start and both fire for `tenant`: the
 * first request. */
static void fire_r1_and_keep(struct alert_rule r[2], const char *tenant)
{
    char want[128];
    r[0] = ratio_rule("r1", 0, 0);
    r[1] = ratio_rule("keep", 0, 0);
    start_eval(r, 2, 50);
    bounce(tenant, 100, 20);
    snprintf(want, sizeof(want), "firing:r1:%s:warning firing:keep:%s:warning", tenant, tenant);
    expect_request(0, want, 2000);
}

START_TEST(reload_resolves_removed_rule)
{
    struct alert_rule r[2];
    fire_r1_and_keep(r, "rl");
    struct alert_receiver rc = {.name = "hook", .type = ALERT_RECEIVER_WEBHOOK, .url = W.b.url};
    ck_assert_int_eq(alert_eval_reload(W.eval, atk_ruleset_of(&r[1], 1) /* r1 is gone */, &rc, 1,
                                       atk_hook_route()),
                     MP_OK);
    /* the whole group: "keep" still fires, and says so */
    expect_request(1, "resolved:r1:rl:warning firing:keep:rl:warning", 2000);
    events("rl", ENG_BOUNCE_HARD, 1); /* "keep" kept its state: no second firing */
    expect_quiet(2, 1200);
    struct alert_eval_figures f;
    alert_eval_figures(W.eval, &f);
    ck_assert_uint_eq(f.reloads, 1);
    ck_assert_uint_eq(f.firing, 1);
}
END_TEST

/* A rule that left the rules file while the daemon was down: its firing
 * alert is resolved at start, saying so, and its state is gone; the rule
 * that stayed keeps its alert firing without a second notification. */
START_TEST(state_rule_gone_at_start_resolves)
{
    struct alert_rule r[2];
    fire_r1_and_keep(r, "gone");
    stop_eval();
    start_eval(&r[1], 1, 50);
    expect_request(1, "resolved:r1:gone:warning firing:keep:gone:warning", 2000);
    json_t *j = json_loads(hrx_get(W.b.sink, 1)->body, 0, NULL);
    json_t *a0 = json_array_get(json_object_get(j, "alerts"), 0);
    const char *summary =
        json_string_value(json_object_get(json_object_get(a0, "annotations"), "summary"));
    ck_assert_ptr_nonnull(summary);
    ck_assert_msg(strstr(summary, "rule r1 was removed from the rules file"), "%s", summary);
    json_decref(j);
    struct alert_eval_figures f;
    alert_eval_figures(W.eval, &f);
    ck_assert_uint_eq(f.restored, 1); /* "keep" */
    ck_assert_uint_eq(f.firing, 1);
    expect_quiet(2, 1200);
    /* the owed resolve was told once: a third start owes nothing */
    stop_eval();
    start_eval(&r[1], 1, 50);
    expect_quiet(2, 800);
}
END_TEST

START_TEST(json_active_per_tenant)
{
    start_r1(0, 0, 50);
    bounce("one", 100, 20);
    bounce("two", 100, 60);
    ck_assert_int_eq(hrx_wait(W.b.sink, 2, 2000), MP_OK);
    char *js = alert_eval_active_json(W.eval, "two");
    json_t *j = json_loads(js, 0, NULL);
    json_t *list = json_object_get(j, "alerts");
    ck_assert_uint_eq(json_array_size(list), 1);
    json_t *a = json_array_get(list, 0);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(a, "labels"), "tenant")),
                     "two");
    ck_assert_str_eq(json_string_value(json_object_get(a, "status")), "firing");
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(a, "annotations"), "value")), "0.6");
    json_decref(j);
    free(js);
    js = alert_eval_active_json(W.eval, NULL);
    j = json_loads(js, 0, NULL);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "alerts")), 2);
    json_decref(j);
    free(js);
}
END_TEST

/* A slow rule (daily buckets) on a key that just ran still fires: the key
 * waits for the next sweep instead of being evaluated on every frame. */
START_TEST(slow_rule_follows_within_sweep)
{
    struct alert_rule r;
    memset(&r, 0, sizeof(r));
    snprintf(r.name, sizeof(r.name), "daily_traps");
    r.kind = ALERT_KIND_COUNT;
    r.enabled = 1;
    r.scopes = 1u << ENG_SCOPE_TENANT;
    r.num_types = 1u << ENG_SPAM_TRAP;
    ck_assert_int_eq(alert_window_parse("1d", &r.window), 0);
    r.min_volume = 1;
    r.critical_ppb = 5 * ALERT_PPB;
    r.resolve_ratio_ppb = ALERT_PPB * 9 / 10;
    start_eval(&r, 1, 50);
    events("slow", ENG_SPAM_TRAP, 1); /* evaluated: 1 of 5 */
    usleep(20 * 1000);
    events("slow", ENG_SPAM_TRAP, 4); /* 5: crosses, within a second of the last run */
    expect_request(0, "firing:daily_traps:slow:critical", 2500);
    expect_quiet(1, 1200);
}
END_TEST

/* The table's reclaim pin (issue 9): a key holding an alert is live until
 * its resolve is handed over; other keys are not. */
START_TEST(key_live_pins_alerting_keys)
{
    start_r1(0, 0, 50);
    bounce("pinned", 100, 60);
    events("calm", ENG_SENT, 100);
    expect_request(0, "firing:r1:pinned:critical", 2000);
    struct eng_key *tk, *mk, *ck;
    ck_assert_int_eq(eng_table_find(W.b.table, ENG_SCOPE_TENANT, "pinned", NULL, &tk), MP_OK);
    ck_assert_int_eq(eng_table_find(W.b.table, ENG_SCOPE_MAILBOX, "pinned", "m@x.example", &mk),
                     MP_OK);
    ck_assert_int_eq(eng_table_find(W.b.table, ENG_SCOPE_TENANT, "calm", NULL, &ck), MP_OK);
    ck_assert_int_eq(alert_eval_key_live(W.eval, eng_key_id(tk)), 1);
    ck_assert_int_eq(alert_eval_key_live(W.eval, eng_key_id(mk)), 0); /* r1: tenant scope only */
    ck_assert_int_eq(alert_eval_key_live(W.eval, eng_key_id(ck)), 0);
    events("pinned", ENG_SENT, 100000); /* diluted: resolves */
    expect_request(1, "resolved:r1:pinned:critical", 3000);
    int64_t deadline = mp_mono_ns() + 3000 * 1000000LL;
    while (alert_eval_key_live(W.eval, eng_key_id(tk)) && mp_mono_ns() < deadline)
        usleep(10000);
    ck_assert_int_eq(alert_eval_key_live(W.eval, eng_key_id(tk)), 0);
}
END_TEST

/* ---- issue 11: re-evaluation after a reload, disabled rules, keep_firing_for ---- */

static void reload_rules(struct alert_ruleset *rs)
{
    struct alert_receiver rc = {.name = "hook", .type = ALERT_RECEIVER_WEBHOOK, .url = W.b.url,
                                .secret = "s3cret"};
    ck_assert_int_eq(alert_eval_reload(W.eval, rs, &rc, 1, atk_hook_route()), MP_OK);
}

/* Polls the figures until `walks` re-evaluations have finished. */
static int walks_reach(uint64_t walks, int timeout_ms)
{
    int64_t end = mp_mono_ns() + (int64_t)timeout_ms * 1000000;
    struct alert_eval_figures f;
    do {
        alert_eval_figures(W.eval, &f);
        if (f.walks >= walks)
            return 1;
        usleep(5 * 1000);
    } while (mp_mono_ns() < end);
    return 0;
}

/* Waits until `n` more sweeps have run: a window for news that should not come. */
static void sweeps_pass(int n)
{
    struct alert_eval_figures f;
    alert_eval_figures(W.eval, &f);
    uint64_t want = f.sweep.cum[f.sweep.n] + (uint64_t)n;
    int64_t end = mp_mono_ns() + (int64_t)(n + 3) * 1000 * 1000000;
    do {
        usleep(20 * 1000);
        alert_eval_figures(W.eval, &f);
    } while (f.sweep.cum[f.sweep.n] < want && mp_mono_ns() < end);
    ck_assert_msg(f.sweep.cum[f.sweep.n] >= want, "no %d sweeps within %d s", n, n + 3);
}

static char *request_field(size_t i, const char *annotation)
{
    json_t *j = json_loads(hrx_get(W.b.sink, i)->body, 0, NULL);
    ck_assert_ptr_nonnull(j);
    json_t *a = json_array_get(json_object_get(j, "alerts"), 0);
    const char *v = json_string_value(json_object_get(json_object_get(a, "annotations"), annotation));
    char *out = strdup(v ? v : "");
    json_decref(j);
    return out;
}

/* A key already over a threshold that a reload lowers fires within one
 * sweep, with no event after the reload; the start walk has run too. */
START_TEST(reload_lowered_threshold_fires_quiet_key)
{
    start_r1(0, 0, 50);
    ck_assert(walks_reach(1, 2000)); /* the start's walk */
    bounce("quiet", 1000, 60); /* 6%: under r1's 10% warning */
    sweeps_pass(1);
    ck_assert_uint_eq(hrx_count(W.b.sink), 0);
    struct alert_rule r = ratio_rule("r1", 0, 0);
    r.warning_ppb = ALERT_PPB / 20; /* 5% */
    reload_rules(atk_ruleset_of(&r, 1));
    /* the delivery's time is the sender's; the walk's is the guarantee */
    expect_request(0, "firing:r1:quiet:warning", 3000);
    ck_assert(walks_reach(2, 1000));
    struct alert_eval_figures f;
    alert_eval_figures(W.eval, &f);
    ck_assert_msg(f.walk_last_ns < 1000000000ULL, "the walk took %llu ns; a sweep is 1 s",
                  (unsigned long long)f.walk_last_ns);
    ck_assert_uint_ge(f.walk_keys, 3); /* tenant, mailbox and domain keys of "quiet" */
}
END_TEST

/* A reload that changes no rule walks nothing: the cost follows the change. */
START_TEST(reload_same_rules_walks_nothing)
{
    start_r1(0, 0, 50);
    ck_assert(walks_reach(1, 2000));
    bounce("same", 100, 1);
    struct alert_rule r = ratio_rule("r1", 0, 0);
    reload_rules(atk_ruleset_of(&r, 1));
    int64_t end = mp_mono_ns() + 3000LL * 1000000;
    struct alert_eval_figures f;
    do {
        usleep(5 * 1000);
        alert_eval_figures(W.eval, &f);
    } while (f.reloads < 1 && mp_mono_ns() < end);
    ck_assert_uint_eq(f.reloads, 1);
    sweeps_pass(1);
    alert_eval_figures(W.eval, &f);
    ck_assert_uint_eq(f.walks, 1);
}
END_TEST

/* An override disabling the rule for one tenant resolves its alert with a
 * summary saying so (and the last real figures), leaves the other tenant
 * firing, and its removal fires the alert again without a new event. */
START_TEST(disabled_rule_resolves_honestly_and_returns)
{
    start_r1(0, 0, 50);
    bounce("beta", 1000, 200);
    expect_request(0, "firing:r1:beta:warning", 2000);
    bounce("gamma", 1000, 200);
    expect_request(1, "firing:r1:gamma:warning", 3000);
    struct alert_rule r = ratio_rule("r1", 0, 0);
    struct alert_ruleset *rs = atk_ruleset_of(&r, 1);
    struct alert_rule *o = alert_ruleset_override(rs, "beta", 0);
    ck_assert_ptr_nonnull(o);
    o->enabled = 0;
    alert_rule_derive(o);
    reload_rules(rs);
    expect_request(2, "resolved:r1:beta:warning", 3000);
    char *sum = request_field(2, "summary");
    ck_assert_msg(strstr(sum, "rule r1 disabled for tenant beta") && !strstr(sum, "0 of 0"),
                  "summary: %s", sum);
    free(sum);
    char *num = request_field(2, "numerator");
    ck_assert_str_eq(num, "200"); /* what it was, not zeros */
    free(num);
    ck_assert(active_has("gamma", "firing"));
    reload_rules(atk_ruleset_of(&r, 1)); /* the override removed */
    expect_request(3, "firing:r1:beta:warning", 1500);
}
END_TEST

/* keep_firing_for: firing -> under the resolve line -> over again within
 * 3.5 s is one firing notification; staying under for keep_firing_for
 * resolves from the sweep, with no event. */
START_TEST(keep_firing_for_holds_through_a_dip)
{
    struct alert_rule r = ratio_rule("r1", 0, 0);
    r.keep_ms = 4000;
    start_eval(&r, 1, 50);
    int64_t t0 = mp_mono_ns();
    bounce("flap", 100, 20); /* 20%: warning */
    expect_request(0, "firing:r1:flap:warning", 2000);
    events("flap", ENG_SENT, 2000); /* 20 of 2100: under the 9% resolve line */
    sweeps_pass(1);
    ck_assert(active_has("flap", "firing"));
    events("flap", ENG_BOUNCE_HARD, 300); /* over again */
    int64_t ms = (mp_mono_ns() - t0) / 1000000;
    ck_assert_msg(ms < 3500, "the flap took %lld ms; the case is within 3.5 s", (long long)ms);
    sweeps_pass(2);
    ck_assert_uint_eq(hrx_count(W.b.sink), 1);
    /* under for good: resolves once keep_firing_for has passed, by the sweep */
    events("flap", ENG_SENT, 100000);
    int64_t under = mp_mono_ns();
    expect_request(1, "resolved:r1:flap:warning", 8000);
    ms = (mp_mono_ns() - under) / 1000000;
    ck_assert_msg(ms >= 4000, "resolved %lld ms after going under; keep_firing_for is 4000",
                  (long long)ms);
}
END_TEST

/* Issue 16 (wake on work): an idle evaluator sleeps (about one pass a
 * second: the sweep, not one a millisecond), a frame's end wakes it at once
 * (the crossing is decided long before the next sweep would come), and
 * stop does not wait out the sleep. */
START_TEST(idle_sleeps_frame_wakes)
{
    start_r1(0, 0, 1);
    struct alert_eval_figures f0, f1;
    usleep(200 * 1000); /* past the start's first passes */
    alert_eval_figures(W.eval, &f0);
    usleep(600 * 1000);
    alert_eval_figures(W.eval, &f1);
    ck_assert_msg(f1.passes - f0.passes <= 3, "%llu passes in 600 ms of idling",
                  (unsigned long long)(f1.passes - f0.passes));
    int64_t t0 = mp_mono_ns();
    bounce("wake", 100, 60);
    ck_assert(active_becomes("wake", "firing", 1, 5000));
    int64_t ms = (mp_mono_ns() - t0) / 1000000;
    alert_eval_figures(W.eval, &f0);
    ck_assert_msg(f0.passes - f1.passes <= 10, "%llu passes to decide one crossing",
                  (unsigned long long)(f0.passes - f1.passes));
    /* the sweep is a second away: a decision this quick came from the wake */
    ck_assert_msg(ms < 900, "the crossing was decided %lld ms after the frame", (long long)ms);
    t0 = mp_mono_ns();
    alert_eval_stop(W.eval);
    W.eval = NULL;
    ms = (mp_mono_ns() - t0) / 1000000;
    ck_assert_msg(ms < 900, "stop took %lld ms", (long long)ms);
}
END_TEST

/* Issue 16: the gate's thread is pushed by the evaluator. With a sync
 * period of a minute, only the evaluator's notice can make a crossing a
 * pause within seconds; idle, the thread does not sync (no polling); a
 * resolve starts the cool-down as promptly. */
static int gate_pauses(struct alert_gate *g, const char *tenant)
{
    struct alert_gate_query q = {.tenant = tenant};
    struct alert_gate_answer a;
    ck_assert_int_eq(alert_gate_decide(g, &q, mp_now_ms(), &a), MP_OK);
    return a.decision == ALERT_GATE_PAUSE;
}

struct gate_q {
    struct alert_gate *g;
    const char *tenant;
};

static int gate_paused(const void *arg)
{
    const struct gate_q *q = arg;
    return gate_pauses(q->g, q->tenant);
}

static int gate_cooling(const void *arg)
{
    struct alert_gate_figures f;
    alert_gate_figures(((const struct gate_q *)arg)->g, &f);
    return f.cooling == 1;
}

START_TEST(gate_pushed_by_evaluator)
{
    struct alert_rule r = ratio_rule("r1", 0, 0);
    r.gate_sev = ALERT_SEV_CRITICAL;
    start_eval(&r, 1, 1);
    struct alert_gate_opts go = {.cool_down_ms = 60000, .period_ms = 60000};
    struct alert_gate *g;
    ck_assert_int_eq(alert_gate_new(&go, &g), MP_OK);
    ck_assert_int_eq(alert_gate_run(g, W.eval), MP_OK);
    usleep(100 * 1000);
    struct alert_gate_figures f0, f1;
    alert_gate_figures(g, &f0);
    usleep(500 * 1000);
    alert_gate_figures(g, &f1);
    ck_assert_msg(f1.syncs - f0.syncs <= 1, "%llu syncs in 500 ms of idling",
                  (unsigned long long)(f1.syncs - f0.syncs));
    bounce("gated", 100, 60); /* 60%: critical */
    struct gate_q q = {g, "gated"};
    ck_assert_msg(eventually(gate_paused, &q, 5000), "no pause 5 s after the crossing");
    bounce("gated", 900, 0); /* 6%: under the resolve line: cooling, still paused */
    ck_assert(active_becomes("gated", "firing", 0, 5000));
    ck_assert(eventually(gate_cooling, &q, 5000));
    ck_assert(gate_pauses(g, "gated"));
    alert_gate_free(g);
}
END_TEST

CHECK_SUITE("alert_eval", 30, setup, teardown, pending_for_then_firing, repeat_after_interval_only,
            group_interval_batches_and_cancels, group_whole_group_carried, group_by_splits_groups,
            state_restart_keeps_firing_and_resolves, reload_resolves_removed_rule,
            state_rule_gone_at_start_resolves, json_active_per_tenant,
            slow_rule_follows_within_sweep, key_live_pins_alerting_keys,
            reload_lowered_threshold_fires_quiet_key, reload_same_rules_walks_nothing,
            disabled_rule_resolves_honestly_and_returns, keep_firing_for_holds_through_a_dip,
            idle_sleeps_frame_wakes, gate_pushed_by_evaluator)
