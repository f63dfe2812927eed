/* test_mp_series.c — Check suite "mp_series": cmd/daemon/mp_series, the
 * history API, over a real table backed by a real store (RocksDB in a temp
 * dir), and the engine reader under it (engine/eng_table_history).
 *
 * Cases:
 *   days_memory_and_store  20 days of events, day d holding d + 1 sent and
 *                          d hard bounces: step=1d answers every day
 *                          exactly, at tenant and mailbox scope, the days
 *                          older than the daily ring (14..19) from the
 *                          store, and again after a restart (every day
 *                          then from loaded memory or the store); the
 *                          rate series is bounce_hard/sent per day, null
 *                          on a day without sent; types= picks the counts.
 *   hours_and_minutes      step=1h and step=5m per bucket, their default
 *                          from (the oldest bucket the step reaches).
 *   key_not_counted        a mailbox, a tenant never counted: 404.
 *   token_wall             a caller limited to acme gets for beta the very
 *                          answer of a tenant never counted; for acme 200.
 *   values_bounded         the default reach of 1d (the retention), and the
 *                          engine's refusal of a range past its span;
 *   values_bound_reached   at a 400-day retention, all types and a rate are
 *                          past MP_SERIES_VALUES_MAX (400); fewer fit.
 *   must_reject (table)    every refused parameter: 400 and its reason.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check_main.h"
#include "eng_table_history.h"
#include "eng_testkit.h"
#include "mp_series.h"
#include "mp_stats.h"

#define MB "ops@acme.example"
#define DOM "gmail.com"
#define NDAYS 20
#define T0_DAY (TK_T0 / TK_DAY)

static char dir[UNIT_PATH_MAX];
static struct eng_store *store;
static struct eng_table *table;

/* The table the cases share: day d back holds d + 1 sent, d hard bounces
 * (so day 0 has no bounce and each day differs), flushed to the store. */
static void setup(void)
{
    unit_tmpdir("mp-series", dir);
    store = unit_store_open(dir);
    table = tk_table(1024, TK_T0, store, 0);
    for (int d = 0; d < NDAYS; d++) {
        int64_t tm = TK_T0 - d * TK_DAY;
        for (int i = 0; i <= d; i++)
            ck_assert_int_eq(tk_rec(table, "acme", MB, DOM, ENG_SENT, tm), MP_OK);
        for (int i = 0; i < d; i++)
            ck_assert_int_eq(tk_rec(table, "acme", MB, DOM, ENG_BOUNCE_HARD, tm), MP_OK);
    }
    ck_assert_int_eq(tk_rec(table, "beta", "x@beta.example", DOM, ENG_SENT, TK_T0), MP_OK);
    ck_assert_int_eq(eng_table_flush(table, 0, NULL), MP_OK);
}

static void teardown(void)
{
    eng_table_destroy(table);
    eng_store_close(store);
    unit_tmpdir_remove(dir);
}

/* The answer to path?kv (NULL-terminated name, value pairs) for `only`. */
static int build(const char *path, const char *const *kv, const char *only, json_t **out)
{
    struct mp_http_arg args[16];
    size_t n = 0;
    for (; kv && kv[2 * n]; n++)
        args[n] = (struct mp_http_arg){kv[2 * n], kv[2 * n + 1]};
    struct mp_http_request req = {.method = "GET", .path = path, .args = args, .nargs = n};
    return mp_series_build(table, &req, only, TK_T0, out);
}

static json_t *must_get(const char *const *kv)
{
    json_t *j = NULL;
    int rc = build("/v1/tenants/acme/series", kv, NULL, &j);
    char *dump = j ? json_dumps(j, JSON_COMPACT) : NULL;
    ck_assert_msg(rc == MP_OK, "%s: %.300s", mp_strerror(rc), dump ? dump : "(null)");
    free(dump);
    return j;
}

static json_int_t pcount(json_t *pt, const char *type)
{
    json_t *v = json_object_get(json_object_get(pt, "counts"), type);
    ck_assert_msg(json_is_integer(v), "counts.%s missing", type);
    return json_integer_value(v);
}

/* Every day of the 20 as the setup put it (from 19 days back, oldest first). */
static void days_are(const char *scope, const char *name)
{
    char from[16];
    snprintf(from, sizeof(from), "%lld", (long long)((T0_DAY - NDAYS) * 86400));
    const char *kv[] = {"scope", scope, "step", "1d", "from", from, "rate", "bounce_hard/sent",
                        name ? "name" : NULL, name, NULL};
    json_t *j = must_get(kv);
    json_t *pts = json_object_get(j, "points");
    ck_assert_uint_eq(json_array_size(pts), NDAYS + 1); /* from 20 days back to today */
    ck_assert_str_eq(json_string_value(json_object_get(j, "rate")), "bounce_hard/sent");
    for (int i = 0; i <= NDAYS; i++) {
        int d = NDAYS - i; /* days back */
        json_t *pt = json_array_get(pts, (size_t)i);
        ck_assert_int_eq(json_integer_value(json_object_get(pt, "ts")), (T0_DAY - d) * 86400);
        json_int_t sent = d < NDAYS ? d + 1 : 0, bounced = d < NDAYS ? d : 0;
        ck_assert_msg(pcount(pt, "sent") == sent && pcount(pt, "bounce_hard") == bounced,
                      "%s day -%d: sent %lld bounce_hard %lld, expected %lld %lld", scope, d,
                      (long long)pcount(pt, "sent"), (long long)pcount(pt, "bounce_hard"),
                      (long long)sent, (long long)bounced);
        ck_assert_uint_eq(json_object_size(json_object_get(pt, "counts")), 2);
        json_t *r = json_object_get(pt, "rate");
        if (sent == 0)
            ck_assert(json_is_null(r));
        else
            ck_assert(json_real_value(r) == (double)bounced / (double)sent);
    }
    json_decref(j);
}

START_TEST(days_memory_and_store)
{
    /* the oldest days are in the store only: the daily ring lacks them */
    ck_assert_uint_eq(tk_days(table, ENG_SCOPE_TENANT, "acme", NULL, NDAYS - 1, 1, ENG_SENT), 0);
    ck_assert_uint_eq(tk_days(table, ENG_SCOPE_TENANT, "acme", NULL, 13, 1, ENG_SENT), 14);
    days_are("tenant", NULL);
    days_are("mailbox", MB);
    days_are("recipient_domain", DOM);
    tk_restart(dir, &store, &table, 1024, TK_T0, 0);
    days_are("tenant", NULL);
    days_are("mailbox", MB);
    /* types= picks the counts, in wire order */
    const char *kv[] = {"step", "1d", "types", "delivered,sent", NULL};
    json_t *j = must_get(kv);
    json_t *pt = json_array_get(json_object_get(j, "points"), 0);
    ck_assert_uint_eq(json_object_size(json_object_get(pt, "counts")), 2);
    ck_assert_int_eq(pcount(pt, "delivered"), 0);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "types"), 0)), "sent");
    ck_assert_ptr_null(json_object_get(pt, "rate"));
    json_decref(j);
}
END_TEST

START_TEST(hours_and_minutes)
{
    /* two events 3 hours back, one 10 minutes back (today's own came at T0) */
    ck_assert_int_eq(tk_rec(table, "acme", MB, DOM, ENG_OPEN, TK_T0 - 3 * TK_HOUR), MP_OK);
    ck_assert_int_eq(tk_rec(table, "acme", MB, DOM, ENG_OPEN, TK_T0 - 3 * TK_HOUR), MP_OK);
    ck_assert_int_eq(tk_rec(table, "acme", MB, DOM, ENG_OPEN, TK_T0 - 10 * TK_MIN), MP_OK);
    const char *kv[] = {"types", "open", "scope", "mailbox", "name", MB, NULL};
    json_t *j = must_get(kv); /* step 1h by default, back 25 hours */
    json_t *pts = json_object_get(j, "points");
    ck_assert_uint_eq(json_array_size(pts), ENG_HOUR_BACK + 1);
    size_t last = json_array_size(pts) - 1;
    ck_assert_int_eq(pcount(json_array_get(pts, last), "open"), 0);     /* 12:00 */
    ck_assert_int_eq(pcount(json_array_get(pts, last - 1), "open"), 1); /* 11:00 */
    ck_assert_int_eq(pcount(json_array_get(pts, last - 3), "open"), 2); /* 09:00 */
    ck_assert_str_eq(json_string_value(json_object_get(j, "step")), "1h");
    json_decref(j);
    const char *kv5[] = {"types", "open,sent", "step", "5m", NULL};
    j = must_get(kv5);
    pts = json_object_get(j, "points");
    ck_assert_uint_eq(json_array_size(pts), ENG_FINE_BACK + 1);
    last = json_array_size(pts) - 1;
    ck_assert_int_eq(pcount(json_array_get(pts, last), "sent"), 1); /* 12:00 bucket */
    ck_assert_int_eq(pcount(json_array_get(pts, last - 2), "open"), 1); /* 11:50 */
    json_decref(j);
}
END_TEST

START_TEST(key_not_counted)
{
    json_t *j = NULL;
    const char *kv[] = {"scope", "mailbox", "name", "nobody@acme.example", NULL};
    ck_assert_int_eq(build("/v1/tenants/acme/series", kv, NULL, &j), MP_ERR_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "error")), "nobody@"));
    json_decref(j);
    ck_assert_int_eq(build("/v1/tenants/gamma/series", NULL, NULL, &j), MP_ERR_NOTFOUND);
    json_decref(j);
}
END_TEST

START_TEST(token_wall)
{
    json_t *a = NULL, *b = NULL;
    ck_assert_int_eq(build("/v1/tenants/beta/series", NULL, "acme", &a), MP_ERR_NOTFOUND);
    ck_assert_int_eq(build("/v1/tenants/beta/series", NULL, NULL, &b), MP_OK);
    json_decref(b);
    ck_assert_int_eq(build("/v1/tenants/gamma/series", NULL, "acme", &b), MP_ERR_NOTFOUND);
    /* the body is {"error": that message}: the same for both but the name */
    char want[128];
    snprintf(want, sizeof(want), MP_STATS_UNKNOWN_TENANT, "beta");
    ck_assert_str_eq(json_string_value(json_object_get(a, "error")), want);
    ck_assert_uint_eq(json_object_size(a), 1);
    snprintf(want, sizeof(want), MP_STATS_UNKNOWN_TENANT, "gamma");
    ck_assert_str_eq(json_string_value(json_object_get(b, "error")), want);
    json_decref(a);
    json_decref(b);
    ck_assert_int_eq(build("/v1/tenants/acme/series", NULL, "acme", &a), MP_OK);
    json_decref(a);
}
END_TEST

/* A 256-byte name: one byte over the 255 a key name may have. */
#define NAME_16B "abcdefghijklmnop"
#define NAME_256B                                                                             \
    NAME_16B NAME_16B NAME_16B NAME_16B NAME_16B NAME_16B NAME_16B NAME_16B NAME_16B NAME_16B \
        NAME_16B NAME_16B NAME_16B NAME_16B NAME_16B NAME_16B
_Static_assert(sizeof(NAME_256B) - 1 == 256, "the over-long name is 256 bytes");

/* A refused request: its query, the return code, a part of the message. */
static const struct {
    const char *kv[12];
    int rc;
    const char *says;
} rejects[] = {
    {{"windw", "1h"}, MP_ERR_INVAL, "unknown query parameter \"windw\""},
    {{"step", "1h", "step", "1d"}, MP_ERR_INVAL, "step given more than once"},
    {{"step", ""}, MP_ERR_INVAL, "step is empty"},
    {{"step", "2h"}, MP_ERR_INVAL, "bad step \"2h\"; allowed: 5m, 1h, 1d"},
    {{"scope", "planet"}, MP_ERR_INVAL, "unknown scope \"planet\"; allowed: tenant, mailbox, "
                                        "recipient_domain"},
    {{"scope", "mailbox"}, MP_ERR_INVAL, "scope=mailbox needs name="},
    {{"name", MB}, MP_ERR_INVAL, "name is for the other scopes"},
    {{"scope", "mailbox", "name", "a\nb"}, MP_ERR_INVAL, "bad name"},
    {{"scope", "mailbox", "name", "a\x8e" "b"}, MP_ERR_INVAL, "bad name"}, /* not UTF-8 (fuzz_query) */
    {{"scope", "mailbox", "name", NAME_256B}, MP_ERR_INVAL, "allowed: 1..255 bytes"},
    {{"types", "sent,bounces"}, MP_ERR_INVAL, "unknown event type \"bounces\" in types"},
    {{"types", "sent,sent"}, MP_ERR_INVAL, "type sent given more than once"},
    {{"types", "sent,"}, MP_ERR_INVAL, "types ends with a comma"},
    {{"rate", "bounce_hard"}, MP_ERR_INVAL, "rate is num/den"},
    {{"rate", "bounce_hard/sends"}, MP_ERR_INVAL, "unknown event type \"sends\" in rate"},
    {{"from", "yesterday"}, MP_ERR_INVAL, "bad from \"yesterday\""},
    {{"to", "2026-11-31T00:00:00"}, MP_ERR_INVAL, "bad to"},
    {{"from", "2026-11-22T12:00:00Z", "to", "2026-11-22T10:00:00Z"}, MP_ERR_INVAL,
     "from is after to"},
    {{"step", "1d", "from", "2026-10-01T00:00:00Z"}, MP_ERR_INVAL,
     "range too long: step=1d reaches back to 2026-10-18T00:00:00Z"},
    {{"step", "5m", "from", "2026-11-22T10:00:00Z"}, MP_ERR_INVAL,
     "range too long: step=5m reaches back to 2026-11-22T10:55:00Z"},
    {{"step", "1h", "to", "2026-11-23T12:00:00Z"}, MP_ERR_INVAL, "to is in the future"},
    {{"step", "1h", "to", "2026-11-01T00:00:00Z"}, MP_ERR_INVAL,
     "range too long: step=1h reaches back to 2026-11-21T11:00:00Z"},
    {{"step", "1d", "from", "0", "to", "1"}, MP_ERR_INVAL, "range too long"},
    {{"from", "2026-11-22T11:00:00-01:00", "to", "2026-11-22T11:59:59Z"}, MP_ERR_INVAL,
     "from is after to"},
};

START_TEST(must_reject)
{
    json_t *j = NULL;
    int rc = build("/v1/tenants/acme/series", rejects[_i].kv, NULL, &j);
    const char *msg = json_string_value(json_object_get(j, "error"));
    ck_assert_msg(rc == rejects[_i].rc && msg && strstr(msg, rejects[_i].says),
                  "row %d: rc %d, message %s; expected %d with \"%s\"", _i, rc,
                  msg ? msg : "(none)", rejects[_i].rc, rejects[_i].says);
    json_decref(j);
}
END_TEST

/* The bound on values: 36 days x 12 types fit; the engine refuses more
 * buckets than it may read. */
START_TEST(values_bounded)
{
    const char *kv[] = {"step", "1d", NULL};
    json_t *j = must_get(kv);
    /* the retention (35 days) back from today, today included */
    ck_assert_uint_eq(json_array_size(json_object_get(j, "points")), 35 + 1);
    json_decref(j);
    uint64_t *c = malloc(sizeof(uint64_t) * ENG_NTYPES * 2);
    int64_t lo, hi;
    ck_assert_int_eq(eng_history_span(table, ENG_RES_DAY, &lo, &hi), MP_OK);
    ck_assert_int_eq(hi, T0_DAY + 1);
    ck_assert_int_eq(eng_history_read(table, ENG_SCOPE_TENANT, "acme", NULL, ENG_RES_DAY, lo - 1,
                                      lo, ~0u, c), MP_ERR_INVAL);
    ck_assert_int_eq(eng_history_read(table, ENG_SCOPE_TENANT, "acme", NULL, ENG_RES_DAY, hi,
                                      hi, ~0u, c), MP_OK);
    free(c);
}
END_TEST

/* At the longest retention the config allows (400 days), every type and a
 * rate over every day pass the bound on values: 400; fewer types fit. */
START_TEST(values_bound_reached)
{
    struct eng_table_opts o = {.max_keys = 64, .retention_ms = 400 * TK_DAY};
    struct eng_table *big;
    ck_assert_int_eq(eng_table_create(&o, TK_T0, &big), MP_OK);
    ck_assert_int_eq(tk_rec(big, "acme", MB, DOM, ENG_SENT, TK_T0 - 399 * TK_DAY), MP_OK);
    struct mp_http_arg all[] = {{"step", "1d"}, {"rate", "bounce_hard/sent"}, {"types",
        "sent,delivered,bounce_hard,bounce_soft,deferred,blocked,complaint,open,click,reply,"
        "unsubscribe,spam_trap"}};
    struct mp_http_request req = {.method = "GET", .path = "/v1/tenants/acme/series",
                                  .args = all, .nargs = 3};
    json_t *j = NULL;
    ck_assert_int_eq(mp_series_build(big, &req, NULL, TK_T0, &j), MP_ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "error")),
                                 "too many values: 401 points x 13 series, at most 5000"));
    json_decref(j);
    req.nargs = 1; /* every type, no rate: 401 x 12 fit */
    ck_assert_int_eq(mp_series_build(big, &req, NULL, TK_T0, &j), MP_OK);
    json_t *pts = json_object_get(j, "points");
    ck_assert_uint_eq(json_array_size(pts), 401);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(json_array_get(pts, 1),
                                                                        "counts"), "sent")), 1);
    json_decref(j);
    eng_table_destroy(big);
}
END_TEST

CHECK_SUITE_TABLES("mp_series", 30, setup, teardown,
                   CHECK_TESTS(days_memory_and_store, hours_and_minutes, key_not_counted,
                               token_wall, values_bounded, values_bound_reached),
                   CHECK_LOOPS(CHECK_LOOP(must_reject, rejects)))
