/* test_alert_eval_ext.c — external alerts (alerts/alert_external.h,
 * alert_eval_ext.c) in the real evaluator, with a real RocksDB store, the
 * real sender and an in-process receiver.
 *
 * alert_external_check refuses what the header says it does; a raised alert
 * is notified once with its labels and annotations (its summary the
 * source's), an escalation is news and a repeat of the same call is not, a
 * resolve is told and a resolve of nothing is nothing; labels make the
 * identity (two zones, two alerts); the state survives an evaluator restart
 * on the same store (firing, untold, then resolved); a silence on an
 * external label mutes it (still listed); the send gate sees it with its
 * gate severity; rules-file reloads leave it alone.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert_eval.h"
#include "alert_external.h"
#include "alert_render.h"
#include "alert_sender.h"
#include "alert_silence.h"
#include "alert_testkit.h"
#include "check_main.h"
#include "e2e_harness.h"
#include "eng_store.h"
#include "eng_table.h"
#include "http_receiver.h"
#include "unit_util.h"

#define DAY (24 * 3600 * 1000LL)

static struct {
    struct atk_bench b;
    struct alert_silences *silences;
    struct alert_eval *eval;
} X;

static const struct alert_receiver HOOK = {.name = "hook", .type = ALERT_RECEIVER_WEBHOOK};

/* A rules file of one count rule `name` (the external alerts' neighbour),
 * and the route of every tenant to the hook. */
static struct alert_ruleset *count_rules(const char *name, struct alert_routes **routes)
{
    struct alert_rule rule = atk_rule(name, ALERT_KIND_COUNT, 1u << ENG_SPAM_TRAP);
    rule.critical_ppb = 1;
    alert_rule_derive(&rule);
    *routes = atk_hook_route();
    return atk_ruleset_of(&rule, 1);
}

static void start_eval(void)
{
    struct alert_receiver r = HOOK;
    r.url = X.b.url;
    struct alert_routes *routes;
    struct alert_ruleset *rs = count_rules("counted", &routes);
    struct alert_eval_opts eo = {.rules = rs, .receivers = &r, .nreceivers = 1, .routes = routes,
                                 .max_keys = 1024, .store = X.b.store, .group_interval_ms = 50,
                                 .silences = X.silences};
    ck_assert_int_eq(alert_eval_start(X.b.table, X.b.sender, &eo, &X.eval), MP_OK);
}

static void setup(void)
{
    char err[512] = "";
    memset(&X, 0, sizeof(X));
    atk_bench_start(&X.b, "alert_eval_ext", 1024, &HOOK);
    ck_assert_int_eq(alert_silences_open(NULL, NULL, NULL, &X.silences, err, sizeof(err)), MP_OK);
    start_eval();
}

static void teardown(void)
{
    alert_eval_stop(X.eval);
    alert_silences_free(X.silences);
    atk_bench_stop(&X.b);
}

/* blocklisted for acme, ip 192.0.2.10 in `zone`, at severity sev. */
static int raise_bl(const char *zone, int sev, const char *code)
{
    struct alert_label l[] = {{"ip", "192.0.2.10"}, {"zone", zone}};
    struct alert_label an[] = {{"summary", "192.0.2.10 is listed"}, {"return_code", code}};
    struct alert_external x = {.rule = "blocklisted", .tenant = "acme", .severity = sev,
                               .gate_sev = ALERT_SEV_CRITICAL, .labels = l, .nlabels = 2,
                               .annotations = an, .nannotations = 2};
    return alert_eval_external(X.eval, &x);
}

/* Request i's only alert (it must have exactly one). */
static json_t *alert_of(size_t i)
{
    ck_assert_msg(hrx_wait(X.b.sink, i + 1, 4000) == MP_OK, "request %zu did not come", i);
    json_t *b = json_loads(hrx_get(X.b.sink, i)->body, 0, NULL);
    ck_assert_ptr_nonnull(b);
    json_t *alerts = json_object_get(b, "alerts");
    ck_assert_uint_eq(json_array_size(alerts), 1);
    json_t *a = json_incref(json_array_get(alerts, 0));
    json_decref(b);
    return a;
}

static const char *lab(json_t *a, const char *k)
{
    return json_string_value(json_object_get(json_object_get(a, "labels"), k));
}

static const char *ann(json_t *a, const char *k)
{
    return json_string_value(json_object_get(json_object_get(a, "annotations"), k));
}

static void quiet(size_t n, int ms)
{
    usleep((useconds_t)ms * 1000);
    ck_assert_uint_eq(hrx_count(X.b.sink), n);
}

static size_t active(void)
{
    char *js = alert_eval_active_json(X.eval, "acme");
    json_t *j = json_loads(js, 0, NULL);
    size_t n = json_array_size(json_object_get(j, "alerts"));
    json_decref(j);
    free(js);
    return n;
}

START_TEST(check_refuses)
{
    char err[200];
    struct alert_label ok[] = {{"ip", "192.0.2.10"}};
    struct alert_label reserved[] = {{"tenant", "x"}}, dup[] = {{"a", "1"}, {"a", "2"}};
    struct alert_label bad[] = {{"9x", "1"}}, noval[] = {{"a", NULL}};
    struct alert_label many[ALERT_EXT_LABELS_MAX + 1];
    for (size_t i = 0; i <= ALERT_EXT_LABELS_MAX; i++)
        many[i] = (struct alert_label){"l", "v"};
    struct alert_external base = {.rule = "blocklisted", .tenant = "acme",
                                  .severity = ALERT_SEV_CRITICAL, .labels = ok, .nlabels = 1};
    ck_assert_int_eq(alert_external_check(&base, err, sizeof(err)), MP_OK);
    struct alert_external x = base;
    x.rule = "Blocklisted";
    ck_assert_int_eq(alert_external_check(&x, err, sizeof(err)), MP_ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(err, "bad rule name"));
    x = base, x.tenant = "";
    ck_assert_int_eq(alert_external_check(&x, err, sizeof(err)), MP_ERR_INVAL);
    x = base, x.severity = 3;
    ck_assert_int_eq(alert_external_check(&x, err, sizeof(err)), MP_ERR_INVAL);
    struct { const struct alert_label *l; size_t n; const char *why; } rows[] = {
        {reserved, 1, "evaluator's own"}, {dup, 2, "given twice"}, {bad, 1, "bad label name"},
        {noval, 1, "no value"}, {many, ALERT_EXT_LABELS_MAX + 1, "at most"}};
    for (size_t i = 0; i < sizeof(rows) / sizeof(*rows); i++) {
        x = base, x.labels = rows[i].l, x.nlabels = rows[i].n;
        ck_assert_int_eq(alert_external_check(&x, err, sizeof(err)), MP_ERR_INVAL);
        ck_assert_msg(strstr(err, rows[i].why), "row %zu: %s", i, err);
        ck_assert_int_eq(alert_eval_external(X.eval, &x), MP_ERR_INVAL);
    }
    /* annotations have a namespace of their own: only the grammar and twice */
    struct alert_label sum[] = {{"summary", "s"}, {"tenant", "t"}}, an_dup[] = {{"s", "1"}, {"s", "2"}};
    x = base, x.annotations = sum, x.nannotations = 2;
    ck_assert_int_eq(alert_external_check(&x, err, sizeof(err)), MP_OK);
    x = base, x.annotations = an_dup, x.nannotations = 2;
    ck_assert_int_eq(alert_external_check(&x, err, sizeof(err)), MP_ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(err, "annotation s given twice"));
}
END_TEST

START_TEST(fires_escalates_resolves)
{
    ck_assert_int_eq(raise_bl("bl.test", ALERT_SEV_WARNING, "127.0.0.2"), MP_OK);
    json_t *a = alert_of(0);
    ck_assert_str_eq(json_string_value(json_object_get(a, "status")), "firing");
    ck_assert_str_eq(lab(a, "alertname"), "blocklisted");
    ck_assert_str_eq(lab(a, "severity"), "warning");
    ck_assert_str_eq(lab(a, "tenant"), "acme");
    ck_assert_str_eq(lab(a, "ip"), "192.0.2.10");
    ck_assert_str_eq(lab(a, "zone"), "bl.test");
    ck_assert_str_eq(ann(a, "summary"), "192.0.2.10 is listed");
    ck_assert_str_eq(ann(a, "return_code"), "127.0.0.2");
    ck_assert_ptr_null(ann(a, "window")); /* no counter figures */
    json_decref(a);
    ck_assert_int_eq(raise_bl("bl.test", ALERT_SEV_WARNING, "127.0.0.2"), MP_OK);
    quiet(1, 300); /* the same again: no news */
    ck_assert_int_eq(raise_bl("bl.test", ALERT_SEV_CRITICAL, "127.0.0.4"), MP_OK);
    a = alert_of(1);
    ck_assert_str_eq(lab(a, "severity"), "critical");
    ck_assert_str_eq(ann(a, "return_code"), "127.0.0.4");
    json_decref(a);
    ck_assert_uint_eq(active(), 1);
    ck_assert_int_eq(raise_bl("bl.test", ALERT_SEV_NONE, ""), MP_OK);
    a = alert_of(2);
    ck_assert_str_eq(json_string_value(json_object_get(a, "status")), "resolved");
    json_decref(a);
    ck_assert_uint_eq(active(), 0);
    ck_assert_int_eq(raise_bl("other.test", ALERT_SEV_NONE, ""), MP_OK);
    quiet(3, 300); /* resolving what never fired: nothing */
}
END_TEST

START_TEST(labels_make_the_identity)
{
    ck_assert_int_eq(raise_bl("one.test", ALERT_SEV_CRITICAL, "127.0.0.2"), MP_OK);
    ck_assert_int_eq(raise_bl("two.test", ALERT_SEV_CRITICAL, "127.0.0.2"), MP_OK);
    ck_assert_int_eq(hrx_wait(X.b.sink, 1, 4000), MP_OK);
    for (int i = 0; i < 100 && active() < 2; i++)
        usleep(10000);
    ck_assert_uint_eq(active(), 2);
    char *js = alert_eval_active_json(X.eval, NULL);
    json_t *j = json_loads(js, 0, NULL);
    json_t *l = json_object_get(j, "alerts");
    const char *f0 = json_string_value(json_object_get(json_array_get(l, 0), "fingerprint"));
    const char *f1 = json_string_value(json_object_get(json_array_get(l, 1), "fingerprint"));
    ck_assert_str_ne(f0, f1);
    json_decref(j);
    free(js);
}
END_TEST

START_TEST(state_survives_a_restart)
{
    ck_assert_int_eq(raise_bl("bl.test", ALERT_SEV_CRITICAL, "127.0.0.2"), MP_OK);
    json_decref(alert_of(0));
    usleep(200 * 1000); /* the state commit */
    alert_eval_stop(X.eval);
    start_eval();
    ck_assert_uint_eq(active(), 1);
    quiet(1, 300); /* read back firing, not told again */
    ck_assert_int_eq(raise_bl("bl.test", ALERT_SEV_CRITICAL, "127.0.0.2"), MP_OK);
    quiet(1, 300); /* the source saying so again is no news either */
    ck_assert_int_eq(raise_bl("bl.test", ALERT_SEV_NONE, ""), MP_OK);
    json_t *a = alert_of(1);
    ck_assert_str_eq(json_string_value(json_object_get(a, "status")), "resolved");
    ck_assert_str_eq(lab(a, "zone"), "bl.test");
    json_decref(a);
}
END_TEST

static void gate_probe(void *arg, const struct alert_instance *a)
{
    int *seen = arg;
    if (a->external && strcmp(a->rule->name, "blocklisted") == 0 &&
        a->rule->gate_sev == ALERT_SEV_CRITICAL && strcmp(a->tenant, "acme") == 0 &&
        a->severity == ALERT_SEV_CRITICAL && !a->mailbox && !a->domain)
        (*seen)++;
}

START_TEST(silence_mutes_and_gate_sees_it)
{
    char id[ALERT_SILENCE_ID_LEN], err[256];
    const char *s = "{\"matchers\":[{\"name\":\"zone\",\"value\":\"bl.test\",\"isRegex\":false,"
                    "\"isEqual\":true}],\"startsAt\":\"2020-01-01T00:00:00Z\","
                    "\"endsAt\":\"2099-01-01T00:00:00Z\",\"createdBy\":\"t\",\"comment\":\"c\"}";
    ck_assert_msg(alert_silence_put_json(X.silences, s, strlen(s), NULL, mp_now_ms(), id, err,
                                         sizeof(err)) == MP_OK, "%s", err);
    ck_assert_int_eq(raise_bl("bl.test", ALERT_SEV_CRITICAL, "127.0.0.2"), MP_OK);
    quiet(0, 400);
    ck_assert_uint_eq(active(), 1); /* tracked, only not told */
    int seen = 0;
    alert_eval_each_firing(X.eval, gate_probe, &seen);
    ck_assert_int_eq(seen, 1);
    /* the same alert on another zone is not silenced */
    ck_assert_int_eq(raise_bl("other.test", ALERT_SEV_CRITICAL, "127.0.0.2"), MP_OK);
    json_t *a = alert_of(0);
    ck_assert_str_eq(lab(a, "zone"), "other.test");
    json_decref(a);
}
END_TEST

START_TEST(reload_leaves_it_alone)
{
    ck_assert_int_eq(raise_bl("bl.test", ALERT_SEV_CRITICAL, "127.0.0.2"), MP_OK);
    json_decref(alert_of(0));
    struct alert_routes *routes;
    struct alert_receiver r = HOOK;
    r.url = X.b.url;
    struct alert_ruleset *rs = count_rules("other", &routes);
    ck_assert_int_eq(alert_eval_reload(X.eval, rs, &r, 1, routes), MP_OK);
    quiet(1, 400); /* its rule is not in any rules file: nothing resolves */
    ck_assert_uint_eq(active(), 1);
}
END_TEST

/* Slack, PagerDuty and email show an external alert's summary and labels,
 * never counter figures it does not have. */
START_TEST(receivers_render_the_summary)
{
    struct alert_rule rule;
    memset(&rule, 0, sizeof(rule));
    snprintf(rule.name, sizeof(rule.name), "blocklisted");
    snprintf(rule.alertname, sizeof(rule.alertname), "blocklisted");
    struct alert_label l[] = {{"ip", "192.0.2.10"}, {"zone", "bl.test"}};
    struct alert_label an[] = {{"summary", "IP 192.0.2.10 of tenant acme is listed on bl.test"},
                               {"return_code", "127.0.0.2"}};
    struct alert_instance a = {.rule = &rule, .severity = ALERT_SEV_CRITICAL, .tenant = "acme",
                               .starts_ms = mp_now_ms(), .external = 1, .labels = l,
                               .nlabels = 2, .annotations = an, .nannotations = 2};
    static const int types[] = {ALERT_RECEIVER_SLACK, ALERT_RECEIVER_PAGERDUTY,
                                ALERT_RECEIVER_EMAIL};
    for (size_t i = 0; i < sizeof(types) / sizeof(*types); i++) {
        struct alert_receiver rc = {.name = "r", .type = types[i], .url = "http://h/x",
                                    .routing_key = "0123456789abcdef0123456789abcdef",
                                    .mail_from = "a@b.example", .mail_to = "c@d.example"};
        char *body = alert_render_for(types[i])->body(&rc, NULL, &a, 1, mp_now_ms());
        ck_assert_ptr_nonnull(body);
        ck_assert_msg(strstr(body, "is listed on bl.test") && strstr(body, "192.0.2.10"),
                      "type %d: %s", types[i], body);
        ck_assert_msg(!strstr(body, "0.00%") && !strstr(body, "threshold"), "type %d: %s",
                      types[i], body);
        free(body);
    }
}
END_TEST

CHECK_SUITE("alert_eval_ext", 30, setup, teardown, check_refuses, fires_escalates_resolves,
            labels_make_the_identity, state_survives_a_restart, silence_mutes_and_gate_sees_it,
            reload_leaves_it_alone, receivers_render_the_summary)
