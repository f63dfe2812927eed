/* test_alert_history.c — past alerts in a real RocksDB store
 * (alerts/alert_history.h): entries written through batches read back
 * oldest first per tenant, the filters (scope, name, alertname, from/to),
 * the limit keeping the newest, the hourly prune of entries older than the
 * retention, and eng_store_kv_scan_back's bounds.
 */
#include <check.h>
#include <string.h>

#include "alert_history.h"
#include "alert_rule.h"
#include "alert_testkit.h"
#include "check_main.h"
#include "eng_types.h"
#include "unit_util.h"

#define HOUR (3600LL * 1000)
#define DAY (24 * HOUR)

static struct {
    char dir[UNIT_PATH_MAX];
    struct eng_store *s;
    struct alert_history *h;
    struct alert_ruleset *rules;
} W;

static void setup(void)
{
    unit_tmpdir("alhist", W.dir);
    W.s = unit_store_open(W.dir);
    ck_assert_int_eq(alert_history_new(10 * DAY, &W.h), MP_OK);
    ck_assert_int_eq(alert_ruleset_defaults(&W.rules), MP_OK);
}

static void teardown(void)
{
    alert_history_free(W.h);
    alert_ruleset_free(W.rules);
    eng_store_close(W.s);
    unit_tmpdir_remove(W.dir);
}

/* One entry of tenant's mailbox alert at `at` (its own batch). */
static void add(const char *tenant, const char *mailbox, int ev, int64_t at)
{
    struct alert_instance a = atk_instance(W.rules, mailbox, NULL, 1000, 30);
    a.tenant = tenant;
    a.starts_ms = at;
    struct eng_store_batch *b = eng_store_batch_new(W.s);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(alert_history_add(W.h, b, ev, &a, mailbox ? ENG_SCOPE_MAILBOX
                                                               : ENG_SCOPE_TENANT,
                                       mailbox, NULL, 0, at),
                     MP_OK);
    ck_assert_int_eq(eng_store_commit(W.s, b, 0), MP_OK);
    eng_store_batch_free(b);
}

static json_t *read_q(struct alert_history_query q)
{
    json_t *o = NULL;
    ck_assert_int_eq(alert_history_read(W.s, &q, &o), MP_OK);
    ck_assert_ptr_nonnull(o);
    return o;
}

static size_t count(json_t *o) { return json_array_size(json_object_get(o, "entries")); }

static const char *ev_at(json_t *o, size_t i)
{
    return atk_jstr(json_array_get(json_object_get(o, "entries"), i), "event");
}

START_TEST(per_tenant_in_order)
{
    int64_t t = ATK_T_START;
    add("acme", "a@x.example", ALERT_HIST_FIRED, t);
    add("acme", "b@x.example", ALERT_HIST_FIRED, t + 10);
    add("acme-2", "a@x.example", ALERT_HIST_FIRED, t + 5); /* a tenant name's prefix */
    add("acme", "a@x.example", ALERT_HIST_SEVERITY, t + 20);
    add("acme", "a@x.example", ALERT_HIST_RESOLVED, t + 30);
    add("acme", NULL, ALERT_HIST_FIRED, t + 30); /* same ms: both kept */
    struct alert_history_query q = {.tenant = "acme", .scope = -1, .from_ms = t, .to_ms = t + 30};
    json_t *o = read_q(q);
    ck_assert_uint_eq(count(o), 5);
    ck_assert_str_eq(ev_at(o, 0), "fired");
    ck_assert_str_eq(ev_at(o, 2), "severity");
    ck_assert(json_is_false(json_object_get(o, "truncated")));
    json_t *e0 = json_array_get(json_object_get(o, "entries"), 0);
    ck_assert_str_eq(atk_jstr(e0, "scope"), "mailbox");
    ck_assert_str_eq(atk_jstr(e0, "name"), "a@x.example");
    ck_assert_str_eq(atk_jstr(json_object_get(json_object_get(e0, "alert"), "labels"), "tenant"),
                     "acme");
    json_decref(o);

    q.scope = ENG_SCOPE_MAILBOX;
    q.name = "a@x.example";
    o = read_q(q);
    ck_assert_uint_eq(count(o), 3);
    ck_assert_str_eq(ev_at(o, 2), "resolved");
    json_decref(o);

    q.name = NULL;
    q.from_ms = t + 10; /* both bounds included */
    q.to_ms = t + 20;
    o = read_q(q);
    ck_assert_uint_eq(count(o), 2);
    json_decref(o);

    q = (struct alert_history_query){.tenant = "acme", .scope = -1, .from_ms = t,
                                     .to_ms = t + 100, .limit = 2};
    o = read_q(q); /* the newest two, oldest first */
    ck_assert_uint_eq(count(o), 2);
    ck_assert(json_is_true(json_object_get(o, "truncated")));
    ck_assert_str_eq(ev_at(o, 0), "resolved");
    json_decref(o);

    q = (struct alert_history_query){.tenant = "acme", .scope = -1, .from_ms = t,
                                     .to_ms = t + 100, .alertname = "complaint_rate"};
    o = read_q(q);
    ck_assert_uint_eq(count(o), 0);
    json_decref(o);
    q.alertname = "bounce_rate";
    o = read_q(q);
    ck_assert_uint_eq(count(o), 5);
    json_decref(o);

    q = (struct alert_history_query){.tenant = "acm", .scope = -1, .from_ms = 0,
                                     .to_ms = t + 100};
    o = read_q(q); /* a prefix of a tenant's name is another tenant */
    ck_assert_uint_eq(count(o), 0);
    json_decref(o);
}
END_TEST

START_TEST(pruned_after_retention)
{
    int64_t t = ATK_T_START;
    add("acme", "a@x.example", ALERT_HIST_FIRED, t);
    add("beta", "a@x.example", ALERT_HIST_FIRED, t);
    add("acme", "a@x.example", ALERT_HIST_RESOLVED, t + 9 * DAY);
    struct alert_history_query q = {.tenant = "acme", .scope = -1, .from_ms = 0,
                                    .to_ms = t + 20 * DAY};
    json_t *o = read_q(q);
    ck_assert_uint_eq(count(o), 2); /* 9 days: inside the 10 */
    json_decref(o);
    add("acme", "a@x.example", ALERT_HIST_FIRED, t + 10 * DAY + HOUR);
    o = read_q(q);
    ck_assert_uint_eq(count(o), 2); /* the first went, the others stay */
    ck_assert_str_eq(ev_at(o, 0), "resolved");
    json_decref(o);
    q.tenant = "beta";
    o = read_q(q); /* another tenant's are its own writes' to prune */
    ck_assert_uint_eq(count(o), 1);
    json_decref(o);
}
END_TEST

static int collect(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    char *out = arg;
    (void)v;
    (void)vl;
    strncat(out, k, kl);
    strcat(out, ",");
    return 0;
}

START_TEST(scan_back_bounds)
{
    static const char *const keys[] = {"a", "b", "ba", "bb", "c"};
    struct eng_store_batch *b = eng_store_batch_new(W.s);
    for (size_t i = 0; i < 5; i++)
        eng_store_batch_kv_put(b, ENG_KV_HISTORY, keys[i], strlen(keys[i]), "v", 1);
    ck_assert_int_eq(eng_store_commit(W.s, b, 0), MP_OK);
    eng_store_batch_free(b);
    char out[64] = "";
    ck_assert_int_eq(eng_store_kv_scan_back(W.s, ENG_KV_HISTORY, "b", 1, "bb", 2, collect, out),
                     MP_OK);
    ck_assert_str_eq(out, "ba,b,"); /* lo included, hi not, newest first */
    out[0] = '\0';
    ck_assert_int_eq(eng_store_kv_scan_back(W.s, ENG_KV_HISTORY, "a", 1, "z", 1, collect, out),
                     MP_OK);
    ck_assert_str_eq(out, "c,bb,ba,b,a,");
    out[0] = '\0';
    ck_assert_int_eq(eng_store_kv_scan_back(W.s, ENG_KV_HISTORY, "bz", 2, "c", 1, collect, out),
                     MP_OK);
    ck_assert_str_eq(out, "");
}
END_TEST

Suite *test_suite(void)
{
    return check_suite("alert_history", 30, setup, teardown,
                       CHECK_TESTS(per_tenant_in_order, pruned_after_retention,
                                   scan_back_bounds));
}
