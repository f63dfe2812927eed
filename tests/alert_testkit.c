/* alert_testkit.c — see alert_testkit.h. */
#include "alert_testkit.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_route.h"
#include "alert_sender.h"
#include "e2e_harness.h"
#include "eng_store.h"
#include "eng_table.h"
#include "http_receiver.h"
#include "mp.h"
#include "unit_util.h"

struct alert_instance atk_instance(const struct alert_ruleset *rules, const char *mailbox,
                                   const char *domain, uint64_t sent, uint64_t bounces)
{
    int i = alert_ruleset_find(rules, "bounce_rate");
    ck_assert_int_ge(i, 0);
    struct alert_instance a = {.rule = &alert_ruleset_for(rules, "team-a")[i],
                               .status = ALERT_STATUS_FIRING,
                               .tenant = "team-a",
                               .mailbox = mailbox,
                               .domain = domain,
                               .starts_ms = ATK_T_START};
    a.v.num = bounces;
    a.v.den = sent;
    a.v.value_ppb = bounces * ALERT_PPB / sent;
    a.v.enough = 1;
    a.v.severity = a.v.value_ppb >= a.rule->critical_ppb  ? ALERT_SEV_CRITICAL
                   : a.v.value_ppb >= a.rule->warning_ppb ? ALERT_SEV_WARNING
                                                          : ALERT_SEV_NONE;
    a.severity = a.v.severity;
    return a;
}

const char *atk_jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

void atk_alerts_summary(json_t *body, const char *const *labels, char *out, size_t n)
{
    size_t i;
    json_t *a;
    out[0] = '\0';
    json_array_foreach(json_object_get(body, "alerts"), i, a)
    {
        json_t *l = json_object_get(a, "labels");
        const char *st = atk_jstr(a, "status");
        size_t len = strlen(out);
        snprintf(out + len, n - len, "%s%s", len ? " " : "", st ? st : "(null)");
        for (const char *const *k = labels; *k; k++) {
            const char *v = atk_jstr(l, *k);
            len = strlen(out);
            snprintf(out + len, n - len, ":%s", v ? v : "(null)");
        }
    }
}

json_t *atk_parsed(char *body)
{
    ck_assert_ptr_nonnull(body);
    json_error_t je;
    json_t *j = json_loads(body, 0, &je);
    ck_assert_msg(j != NULL, "body is not JSON: %s: %s", je.text, body);
    free(body);
    return j;
}

void atk_bench_start(struct atk_bench *b, const char *tag, size_t max_keys,
                     const struct alert_receiver *hook)
{
    char err[512] = "";
    memset(b, 0, sizeof(*b));
    unit_tmpdir(tag, b->dir);
    b->store = unit_store_open(b->dir);
    struct eng_table_opts o = {.max_keys = max_keys, .retention_ms = 35 * 24 * 3600 * 1000LL,
                               .store = b->store};
    ck_assert_int_eq(eng_table_create(&o, mp_now_ms(), &b->table), MP_OK);
    ck_assert_ptr_nonnull(b->table);
    uint16_t port;
    ck_assert_int_eq(e2e_free_port(&port, NULL, 0, err, sizeof(err)), MP_OK);
    ck_assert_msg(hrx_start(port, &b->sink, err, sizeof(err)) == MP_OK, "%s", err);
    ck_assert_ptr_nonnull(b->sink);
    ck_assert_int_lt(snprintf(b->url, sizeof(b->url), "http://127.0.0.1:%u/hook", port),
                     (int)sizeof(b->url));
    struct alert_receiver r = *hook;
    r.url = b->url;
    struct alert_sender_opts so = {.store = b->store, .backoff_ms = 50, .backoff_max_ms = 200,
                                   .timeout_ms = 2000, .max_age_ms = 60000,
                                   .slack_interval_ms = 1000};
    ck_assert_int_eq(alert_sender_start(&r, 1, &so, &b->sender), MP_OK);
    ck_assert_ptr_nonnull(b->sender);
}

void atk_bench_stop(struct atk_bench *b)
{
    alert_sender_stop(b->sender, 1000);
    hrx_stop(b->sink);
    eng_table_destroy(b->table);
    eng_store_close(b->store);
    unit_tmpdir_remove(b->dir);
}

struct alert_rule atk_rule(const char *name, int kind, unsigned num_types)
{
    struct alert_rule r;
    memset(&r, 0, sizeof(r));
    snprintf(r.name, sizeof(r.name), "%s", name);
    ck_assert_str_eq(r.name, name);
    r.kind = kind;
    r.enabled = 1;
    r.scopes = 1u << ENG_SCOPE_TENANT;
    r.num_types = num_types;
    ck_assert_int_eq(alert_window_parse("1h", &r.window), 0);
    return r;
}

struct alert_ruleset *atk_ruleset_of(const struct alert_rule *rules, size_t n)
{
    struct alert_ruleset *rs;
    ck_assert_int_eq(alert_ruleset_new(&rs), MP_OK);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(alert_ruleset_add(rs, &rules[i]), MP_OK);
    ck_assert_uint_eq(alert_ruleset_count(rs), n);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_ge(alert_ruleset_find(rs, rules[i].name), 0);
    return rs;
}

struct alert_routes *atk_hook_route(void)
{
    struct alert_routes *routes;
    const size_t *got;
    size_t idx = 0, n = 0;
    ck_assert_int_eq(alert_routes_create(&routes), MP_OK);
    ck_assert_int_eq(alert_routes_set_default(routes, &idx, 1), MP_OK);
    alert_routes_lookup(routes, "any-tenant", &got, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(got[0], 0);
    return routes;
}
