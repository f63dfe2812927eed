/* test_mp_stats.c — Check suite "mp_stats": cmd/mp_stats, the stats JSON.
 *
 * A table is filled with events placed at fixed offsets from a fixed clock,
 * so every window's figures are known exactly: counts per type, every rate
 * (compared as the exact double num/den) and null for a zero denominator,
 * window edges (the 24 h window is the current hour and the 23 before),
 * grouping by mailbox and by recipient domain, the sort order (sent
 * descending, then name), limit and groups_total, the bound on keys read
 * per request (keys_scanned, truncated: the newest keys), and every kind of refused
 * request (must_reject: bad path, tenant, window, by, limit, unknown and
 * repeated parameters) with the status it maps to and the message it gives,
 * and the HTTP rendering (status codes, short real numbers).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "eng_table.h"
#include "mp_stats.h"
#include "check_main.h"

/* A fixed clock: 2026-11-22 12:02:00 UTC. */
#define T0 (1795348800000LL + 2 * 60 * 1000)
#define MIN (60 * 1000LL)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

static struct eng_table *mk(uint32_t max_keys)
{
    struct eng_table_opts o = {.max_keys = max_keys, .retention_ms = 35 * DAY};
    struct eng_table *t;
    ck_assert_int_eq(eng_table_create(&o, T0, &t), MP_OK);
    return t;
}

/* Records n events of one type for (tenant, mailbox, domain) at time tm. */
static void put(struct eng_table *t, const char *tenant, const char *mb, const char *dom,
                int type, int n, int64_t tm)
{
    struct eng_event ev = {tenant, strlen(tenant), mb, strlen(mb), dom, strlen(dom), type, tm, NULL, 0};
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(eng_table_record(t, NULL, &ev), MP_OK);
}

/* Builds the answer to path?args (args: NULL-terminated name, value pairs;
 * a value of NULL stands for "?name" without '='). */
static int build(struct eng_table *t, const char *path, const char *const *kv, json_t **out)
{
    struct mp_http_arg args[16];
    size_t n = 0;
    for (; kv && kv[2 * n]; n++)
        args[n] = (struct mp_http_arg){kv[2 * n], kv[2 * n + 1]};
    struct mp_http_request req = {.method = "GET", .path = path, .args = args, .nargs = n};
    return mp_stats_build(t, &req, out);
}

/* The answer for tenant/window[/by[/limit]]; must be MP_OK. */
static json_t *must_get(struct eng_table *t, const char *tenant, const char *window,
                        const char *by, const char *limit)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/tenants/%s/stats", tenant);
    const char *kv[8] = {0};
    int i = 0;
    if (window) {
        kv[i++] = "window";
        kv[i++] = window;
    }
    if (by) {
        kv[i++] = "by";
        kv[i++] = by;
    }
    if (limit) {
        kv[i++] = "limit";
        kv[i++] = limit;
    }
    json_t *j = NULL;
    int rc = build(t, path, kv, &j);
    char *dump = j ? json_dumps(j, JSON_COMPACT) : NULL;
    ck_assert_msg(rc == MP_OK, "%s window=%s by=%s: %s: %s", tenant, window, by, mp_strerror(rc),
                  dump ? dump : "(null)");
    free(dump);
    return j;
}

/* The answer's i-th group, and an integer member of an object. */
static json_t *group_at(json_t *j, size_t i) { return json_array_get(json_object_get(j, "groups"), i); }

static json_int_t jint(json_t *o, const char *key) { return json_integer_value(json_object_get(o, key)); }

static uint64_t count(json_t *o, const char *type)
{
    json_t *v = json_object_get(json_object_get(o, "counts"), type);
    ck_assert_msg(json_is_integer(v), "counts.%s missing", type);
    return (uint64_t)json_integer_value(v);
}

/* rates.name must be exactly num/den, or null when den is 0. */
static void rate_is(json_t *o, const char *name, uint64_t num, uint64_t den)
{
    json_t *v = json_object_get(json_object_get(o, "rates"), name);
    ck_assert_msg(v != NULL, "rates.%s missing", name);
    if (den == 0) {
        ck_assert_msg(json_is_null(v), "rates.%s: expected null", name);
        return;
    }
    ck_assert_msg(json_is_real(v), "rates.%s: not a number", name);
    double want = (double)num / (double)den;
    ck_assert_msg(json_real_value(v) == want, "rates.%s = %.17g, expected %llu/%llu = %.17g",
                  name, json_real_value(v), (unsigned long long)num, (unsigned long long)den,
                  want);
}

/* Every count and every rate of an object, from the 12 expected counts. */
static void figures_are(json_t *o, const uint64_t c[ENG_NTYPES])
{
    ck_assert_uint_eq(json_object_size(json_object_get(o, "counts")), ENG_NTYPES);
    for (int ty = ENG_TYPE_MIN; ty <= ENG_TYPE_MAX; ty++)
        ck_assert_msg(count(o, eng_type_name(ty)) == c[ty - 1], "counts.%s = %llu, expected %llu",
                      eng_type_name(ty), (unsigned long long)count(o, eng_type_name(ty)),
                      (unsigned long long)c[ty - 1]);
#define C(ty) c[(ty) - 1]
    ck_assert_uint_eq(json_object_size(json_object_get(o, "rates")), 8);
    rate_is(o, "bounce_rate", C(ENG_BOUNCE_HARD), C(ENG_SENT));
    rate_is(o, "soft_bounce_rate", C(ENG_BOUNCE_SOFT), C(ENG_SENT));
    rate_is(o, "block_rate", C(ENG_BLOCKED), C(ENG_SENT));
    rate_is(o, "deferral_rate", C(ENG_DEFERRED), C(ENG_SENT));
    rate_is(o, "delivery_rate", C(ENG_DELIVERED), C(ENG_SENT));
    rate_is(o, "complaint_rate", C(ENG_COMPLAINT), C(ENG_DELIVERED));
    rate_is(o, "engagement_rate", C(ENG_OPEN) + C(ENG_CLICK) + C(ENG_REPLY), C(ENG_DELIVERED));
    rate_is(o, "unsubscribe_rate", C(ENG_UNSUBSCRIBE), C(ENG_DELIVERED));
#undef C
    ck_assert_ptr_null(json_object_get(json_object_get(o, "rates"), "spam_trap_hits"));
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* ---- the seeded world -------------------------------------------------------
 *
 * tenant acme:
 *   a@acme.example -> gmail.com    at T0        every type (the "now" mix)
 *   e@acme.example -> gmail.com    at T0 - 30m  sent 10, delivered 10, open 5
 *   b@acme.example -> yahoo.com    at T0 - 2h   sent 100, delivered 90, bounce_hard 10
 *   f@acme.example -> yahoo.com    at T0 - 23h  sent 3   (first minute of the 24h window)
 *   f@acme.example -> yahoo.com    at T0 - 23h - 3m  deferred 4 (just before it)
 *   c@acme.example -> gmail.com    at T0 - 3d   sent 50, delivered 50, open 10, complaint 2
 *   d@acme.example -> outlook.com  at T0 - 10d  sent 7   (in no window)
 * tenant beta (same mailbox names, must not leak into acme):
 *   a@acme.example -> gmail.com    at T0        sent 1000, bounce_hard 999
 */

/* The "now" mix, indexed by type - 1. */
static const uint64_t now_mix[ENG_NTYPES] = {40, 36, 2, 1, 5, 1, 1, 9, 3, 1, 2, 1};

static struct eng_table *seeded(void)
{
    struct eng_table *t = mk(1024);
    for (int ty = ENG_TYPE_MIN; ty <= ENG_TYPE_MAX; ty++)
        put(t, "acme", "a@acme.example", "gmail.com", ty, (int)now_mix[ty - 1], T0);
    put(t, "acme", "e@acme.example", "gmail.com", ENG_SENT, 10, T0 - 30 * MIN);
    put(t, "acme", "e@acme.example", "gmail.com", ENG_DELIVERED, 10, T0 - 30 * MIN);
    put(t, "acme", "e@acme.example", "gmail.com", ENG_OPEN, 5, T0 - 30 * MIN);
    put(t, "acme", "b@acme.example", "yahoo.com", ENG_SENT, 100, T0 - 2 * HOUR);
    put(t, "acme", "b@acme.example", "yahoo.com", ENG_DELIVERED, 90, T0 - 2 * HOUR);
    put(t, "acme", "b@acme.example", "yahoo.com", ENG_BOUNCE_HARD, 10, T0 - 2 * HOUR);
    put(t, "acme", "f@acme.example", "yahoo.com", ENG_SENT, 3, T0 - 23 * HOUR);
    put(t, "acme", "f@acme.example", "yahoo.com", ENG_DEFERRED, 4, T0 - 23 * HOUR - 3 * MIN);
    put(t, "acme", "c@acme.example", "gmail.com", ENG_SENT, 50, T0 - 3 * DAY);
    put(t, "acme", "c@acme.example", "gmail.com", ENG_DELIVERED, 50, T0 - 3 * DAY);
    put(t, "acme", "c@acme.example", "gmail.com", ENG_OPEN, 10, T0 - 3 * DAY);
    put(t, "acme", "c@acme.example", "gmail.com", ENG_COMPLAINT, 2, T0 - 3 * DAY);
    put(t, "acme", "d@acme.example", "outlook.com", ENG_SENT, 7, T0 - 10 * DAY);
    put(t, "beta", "a@acme.example", "gmail.com", ENG_SENT, 1000, T0);
    put(t, "beta", "a@acme.example", "gmail.com", ENG_BOUNCE_HARD, 999, T0);
    return t;
}

/* Expected acme totals per window. */
static void expect_acme(int win, uint64_t c[ENG_NTYPES])
{
    memcpy(c, now_mix, sizeof(now_mix));
    c[ENG_SENT - 1] += 10; /* e, 30 min ago */
    c[ENG_DELIVERED - 1] += 10;
    c[ENG_OPEN - 1] += 5;
    if (win == ENG_WIN_1H)
        return;
    c[ENG_SENT - 1] += 100 + 3; /* b 2 h ago; f at the 24 h edge */
    c[ENG_DELIVERED - 1] += 90;
    c[ENG_BOUNCE_HARD - 1] += 10;
    if (win == ENG_WIN_24H)
        return;
    c[ENG_DEFERRED - 1] += 4; /* f, 3 min before the 24 h window */
    c[ENG_SENT - 1] += 50;    /* c, 3 days ago */
    c[ENG_DELIVERED - 1] += 50;
    c[ENG_OPEN - 1] += 10;
    c[ENG_COMPLAINT - 1] += 2;
}

static const struct {
    const char *name;
    int win;
} windows[] = {{"1h", ENG_WIN_1H}, {"24h", ENG_WIN_24H}, {"7d", ENG_WIN_7D}};

START_TEST(window_totals_exact)
{
    struct eng_table *t = seeded();
    uint64_t c[ENG_NTYPES];
    expect_acme(windows[_i].win, c);
    json_t *j = must_get(t, "acme", windows[_i].name, NULL, NULL);
    ck_assert_str_eq(str(j, "tenant"), "acme");
    ck_assert_str_eq(str(j, "window"), windows[_i].name);
    figures_are(j, c);
    /* no grouping asked: no group fields */
    ck_assert_ptr_null(json_object_get(j, "groups"));
    ck_assert_ptr_null(json_object_get(j, "groups_total"));
    json_decref(j);
    eng_table_destroy(t);
}
END_TEST

START_TEST(default_window_is_24h)
{
    struct eng_table *t = seeded();
    uint64_t c[ENG_NTYPES];
    expect_acme(ENG_WIN_24H, c);
    json_t *j = must_get(t, "acme", NULL, NULL, NULL);
    ck_assert_str_eq(str(j, "window"), "24h");
    figures_are(j, c);
    json_decref(j);
    eng_table_destroy(t);
}
END_TEST

START_TEST(tenants_are_separate)
{
    struct eng_table *t = seeded();
    json_t *j = must_get(t, "beta", "1h", "mailbox", NULL);
    uint64_t c[ENG_NTYPES] = {0};
    c[ENG_SENT - 1] = 1000;
    c[ENG_BOUNCE_HARD - 1] = 999;
    figures_are(j, c);
    ck_assert_int_eq(jint(j, "groups_total"), 1);
    figures_are(group_at(j, 0), c);
    json_decref(j);
    /* acme's numbers do not move because of beta */
    j = must_get(t, "acme", "1h", NULL, NULL);
    ck_assert_uint_eq(count(j, "sent"), 50);
    ck_assert_uint_eq(count(j, "bounce_hard"), 2);
    json_decref(j);
    eng_table_destroy(t);
}
END_TEST

START_TEST(null_rates)
{
    struct eng_table *t = mk(64);
    put(t, "only-sent", "m@x.io", "d.io", ENG_SENT, 4, T0);
    put(t, "only-sent", "m@x.io", "d.io", ENG_BOUNCE_HARD, 1, T0);
    put(t, "only-opens", "m@x.io", "d.io", ENG_OPEN, 3, T0);
    json_t *j = must_get(t, "only-sent", "1h", NULL, NULL);
    uint64_t c[ENG_NTYPES] = {0};
    c[ENG_SENT - 1] = 4;
    c[ENG_BOUNCE_HARD - 1] = 1;
    figures_are(j, c); /* complaint, engagement, unsubscribe: null */
    json_decref(j);
    j = must_get(t, "only-opens", "7d", NULL, NULL);
    memset(c, 0, sizeof(c));
    c[ENG_OPEN - 1] = 3;
    figures_are(j, c); /* every rate null */
    json_decref(j);
    /* a tenant whose events all left the window: 200 with zeros (it is known) */
    put(t, "old", "m@x.io", "d.io", ENG_SENT, 1, T0 - 2 * HOUR);
    j = must_get(t, "old", "1h", "mailbox", NULL);
    memset(c, 0, sizeof(c));
    figures_are(j, c);
    ck_assert_int_eq(jint(j, "groups_total"), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "groups")), 0);
    json_decref(j);
    eng_table_destroy(t);
}
END_TEST

/* Group names in answer order. */
static void groups_are(json_t *j, const char *key, const char *const *names, size_t n)
{
    json_t *g = json_object_get(j, "groups");
    ck_assert_msg(json_array_size(g) == n, "%zu groups, expected %zu", json_array_size(g), n);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(str(json_array_get(g, i), key), names[i]);
}

START_TEST(group_by_mailbox)
{
    struct eng_table *t = seeded();
    /* 1h: a (40 sent), e (10) */
    json_t *j = must_get(t, "acme", "1h", "mailbox", NULL);
    ck_assert_str_eq(str(j, "by"), "mailbox");
    ck_assert_int_eq(jint(j, "limit"), MP_STATS_LIMIT_DEFAULT);
    ck_assert_int_eq(jint(j, "groups_total"), 2);
    groups_are(j, "mailbox", (const char *[]){"a@acme.example", "e@acme.example"}, 2);
    figures_are(group_at(j, 0), now_mix);
    json_decref(j);

    /* 24h: b 100, a 40, e 10, f 3 (c is 3 days old, d 10 days: left out) */
    j = must_get(t, "acme", "24h", "mailbox", NULL);
    ck_assert_int_eq(jint(j, "groups_total"), 4);
    groups_are(j, "mailbox",
               (const char *[]){"b@acme.example", "a@acme.example", "e@acme.example",
                                "f@acme.example"},
               4);
    uint64_t b[ENG_NTYPES] = {0};
    b[ENG_SENT - 1] = 100;
    b[ENG_DELIVERED - 1] = 90;
    b[ENG_BOUNCE_HARD - 1] = 10;
    figures_are(group_at(j, 0), b);
    json_decref(j);

    /* 7d: b 100, c 50, a 40, e 10, f 3 (f's deferrals count now too) */
    j = must_get(t, "acme", "7d", "mailbox", NULL);
    ck_assert_int_eq(jint(j, "groups_total"), 5);
    groups_are(j, "mailbox",
               (const char *[]){"b@acme.example", "c@acme.example", "a@acme.example",
                                "e@acme.example", "f@acme.example"},
               5);
    json_t *f = group_at(j, 4);
    ck_assert_uint_eq(count(f, "sent"), 3);
    ck_assert_uint_eq(count(f, "deferred"), 4);
    rate_is(f, "deferral_rate", 4, 3); /* not clamped */
    json_decref(j);
    eng_table_destroy(t);
}
END_TEST

START_TEST(group_by_domain)
{
    struct eng_table *t = seeded();
    /* 24h: gmail.com a+e = 50 sent; yahoo.com b+f = 103 */
    json_t *j = must_get(t, "acme", "24h", "recipient_domain", NULL);
    ck_assert_str_eq(str(j, "by"), "recipient_domain");
    ck_assert_int_eq(jint(j, "groups_total"), 2);
    groups_are(j, "recipient_domain", (const char *[]){"yahoo.com", "gmail.com"}, 2);
    json_t *g = group_at(j, 1);
    ck_assert_ptr_null(json_object_get(g, "mailbox"));
    uint64_t c[ENG_NTYPES];
    memcpy(c, now_mix, sizeof(c));
    c[ENG_SENT - 1] += 10;
    c[ENG_DELIVERED - 1] += 10;
    c[ENG_OPEN - 1] += 5;
    figures_are(g, c);
    json_decref(j);
    /* 7d: gmail.com 100 (a 40 + e 10 + c 50), yahoo.com 103 (b 100 + f 3) */
    j = must_get(t, "acme", "7d", "recipient_domain", NULL);
    groups_are(j, "recipient_domain", (const char *[]){"yahoo.com", "gmail.com"}, 2);
    ck_assert_uint_eq(count(group_at(j, 1), "sent"), 100);
    ck_assert_uint_eq(count(group_at(j, 1), "complaint"), 3);
    json_decref(j);
    eng_table_destroy(t);
}
END_TEST

START_TEST(sort_ties_by_name)
{
    struct eng_table *t = mk(64);
    put(t, "acme", "z@a.io", "d.io", ENG_SENT, 5, T0);
    put(t, "acme", "a@a.io", "d.io", ENG_SENT, 5, T0);
    put(t, "acme", "m@a.io", "d.io", ENG_SENT, 5, T0);
    put(t, "acme", "q@a.io", "d.io", ENG_SENT, 6, T0);
    put(t, "acme", "b@a.io", "d.io", ENG_OPEN, 9, T0); /* 0 sent but active: last */
    json_t *j = must_get(t, "acme", "1h", "mailbox", NULL);
    groups_are(j, "mailbox", (const char *[]){"q@a.io", "a@a.io", "m@a.io", "z@a.io", "b@a.io"},
               5);
    json_decref(j);
    /* the limit keeps the first ones of that same order */
    j = must_get(t, "acme", "1h", "mailbox", "3");
    ck_assert_int_eq(jint(j, "groups_total"), 5);
    ck_assert_int_eq(jint(j, "limit"), 3);
    groups_are(j, "mailbox", (const char *[]){"q@a.io", "a@a.io", "m@a.io"}, 3);
    json_decref(j);
    eng_table_destroy(t);
}
END_TEST

/* 250 mailboxes, mailbox i sent i + 1 times (in a shuffled order, so the
 * table's child order says nothing). */
START_TEST(limit_and_groups_total)
{
    struct eng_table *t = mk(1024);
    for (int k = 0; k < 250; k++) {
        int i = (k * 97) % 250; /* 97 is prime to 250: a permutation */
        char mb[32];
        snprintf(mb, sizeof(mb), "m%03d@acme.example", i);
        put(t, "acme", mb, "gmail.com", ENG_SENT, i + 1, T0);
    }
    static const struct {
        const char *limit;
        size_t want;
    } cases[] = {{NULL, 100}, {"1", 1}, {"10", 10}, {"249", 249}, {"250", 250}, {"10000", 250}};
    for (size_t c = 0; c < MP_ARRAY_LEN(cases); c++) {
        json_t *j = must_get(t, "acme", "1h", "mailbox", cases[c].limit);
        json_t *g = json_object_get(j, "groups");
        ck_assert_int_eq(jint(j, "groups_total"), 250);
        ck_assert_uint_eq(json_array_size(g), cases[c].want);
        for (size_t x = 0; x < cases[c].want; x++) {
            char mb[32];
            snprintf(mb, sizeof(mb), "m%03zu@acme.example", 249 - x);
            ck_assert_str_eq(str(json_array_get(g, x), "mailbox"), mb);
            ck_assert_uint_eq(count(json_array_get(g, x), "sent"), 250 - x);
        }
        json_decref(j);
    }
    /* the domain scope holds one group with everything */
    json_t *j = must_get(t, "acme", "1h", "recipient_domain", "1");
    ck_assert_int_eq(jint(j, "groups_total"), 1);
    ck_assert_uint_eq(count(group_at(j, 0), "sent"),
                      250 * 251 / 2);
    json_decref(j);
    eng_table_destroy(t);
}
END_TEST

/* ---- refused requests ---------------------------------------------------------- */

static const char long65[] =
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"; /* 65 */
static const char long64[] =
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"; /* 64 */

static const struct {
    const char *path;
    const char *kv[8];
    int rc;
    const char *msg; /* a substring of the error */
} rejects[] = {
    /* paths */
    {"/v1/tenants/acme", {0}, MP_ERR_NOTFOUND, "expected /v1/tenants/{tenant}/stats"},
    {"/v1/tenants/", {0}, MP_ERR_NOTFOUND, "no such path \"/v1/tenants/\""},
    {"/v1/tenants/acme/stats/", {0}, MP_ERR_NOTFOUND, "no such path"},
    {"/v1/tenants/acme/stat", {0}, MP_ERR_NOTFOUND, "no such path"},
    {"/v1/tenants/acme/stats/x", {0}, MP_ERR_NOTFOUND, "no such path"},
    {"/v1/tenants/a/b/stats", {0}, MP_ERR_NOTFOUND, "no such path"},
    {"/v1/tenantsacme/stats", {0}, MP_ERR_NOTFOUND, "no such path"},
    {"/v1/tenants/acme/stats\xff", {0}, MP_ERR_NOTFOUND, "\"/v1/tenants/acme/stats?\""},
    /* tenant names */
    {"/v1/tenants//stats", {0}, MP_ERR_INVAL, "bad tenant name \"\" (0 bytes); allowed: 1..64"},
    {"/v1/tenants/a b/stats", {0}, MP_ERR_INVAL, "bad tenant name \"a b\""},
    {"/v1/tenants/a%20b/stats", {0}, MP_ERR_INVAL, "bad tenant name \"a%20b\""},
    {"/v1/tenants/\xc3\xa9t\xff/stats", {0}, MP_ERR_INVAL, "bad tenant name \"??t?\" (4 bytes)"},
    {"/v1/tenants/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/stats",
     {0},
     MP_ERR_INVAL,
     "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" (65 bytes)"},
    /* valid but unknown */
    {"/v1/tenants/nobody/stats", {0}, MP_ERR_NOTFOUND, "unknown tenant \"nobody\""},
    {"/v1/tenants/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/stats",
     {0},
     MP_ERR_NOTFOUND,
     "unknown tenant"},
    /* bad parameters beat an unknown tenant: the request is wrong either way */
    {"/v1/tenants/nobody/stats", {"window", "2h"}, MP_ERR_INVAL, "bad window \"2h\""},
    /* window */
    {"/v1/tenants/acme/stats", {"window", "2h"}, MP_ERR_INVAL, "allowed: 1h, 24h, 7d"},
    {"/v1/tenants/acme/stats", {"window", ""}, MP_ERR_INVAL, "bad window \"\""},
    {"/v1/tenants/acme/stats", {"window", NULL}, MP_ERR_INVAL, "bad window \"\""},
    {"/v1/tenants/acme/stats", {"window", "1H"}, MP_ERR_INVAL, "bad window"},
    {"/v1/tenants/acme/stats", {"window", "prev7d"}, MP_ERR_INVAL, "bad window"},
    {"/v1/tenants/acme/stats", {"window", "24h "}, MP_ERR_INVAL, "bad window"},
    {"/v1/tenants/acme/stats", {"window", "1h", "window", "7d"}, MP_ERR_INVAL,
     "window given more than once"},
    /* by */
    {"/v1/tenants/acme/stats", {"by", "domain"}, MP_ERR_INVAL,
     "bad by \"domain\"; allowed: mailbox, recipient_domain, provider, "
     "mailbox_provider, campaign"},
    {"/v1/tenants/acme/stats", {"by", ""}, MP_ERR_INVAL, "bad by"},
    {"/v1/tenants/acme/stats", {"by", "tenant"}, MP_ERR_INVAL, "bad by"},
    {"/v1/tenants/acme/stats", {"by", "mailbox", "by", "mailbox"}, MP_ERR_INVAL,
     "by given more than once"},
    /* limit */
    {"/v1/tenants/acme/stats", {"by", "mailbox", "limit", "0"}, MP_ERR_INVAL,
     "bad limit \"0\"; allowed: an integer 1..10000"},
    {"/v1/tenants/acme/stats", {"by", "mailbox", "limit", "10001"}, MP_ERR_INVAL, "bad limit"},
    {"/v1/tenants/acme/stats", {"by", "mailbox", "limit", "-1"}, MP_ERR_INVAL, "bad limit"},
    {"/v1/tenants/acme/stats", {"by", "mailbox", "limit", "+5"}, MP_ERR_INVAL, "bad limit"},
    {"/v1/tenants/acme/stats", {"by", "mailbox", "limit", " 5"}, MP_ERR_INVAL, "bad limit"},
    {"/v1/tenants/acme/stats", {"by", "mailbox", "limit", "1e3"}, MP_ERR_INVAL, "bad limit"},
    {"/v1/tenants/acme/stats", {"by", "mailbox", "limit", "0x10"}, MP_ERR_INVAL, "bad limit"},
    {"/v1/tenants/acme/stats", {"by", "mailbox", "limit", "18446744073709551617"}, MP_ERR_INVAL,
     "bad limit"},
    {"/v1/tenants/acme/stats", {"by", "mailbox", "limit", ""}, MP_ERR_INVAL, "bad limit"},
    {"/v1/tenants/acme/stats", {"limit", "5"}, MP_ERR_INVAL, "limit applies to grouped stats"},
    /* unknown parameters are refused, not ignored */
    {"/v1/tenants/acme/stats", {"windw", "1h"}, MP_ERR_INVAL,
     "unknown query parameter \"windw\"; allowed: window, by, limit"},
    {"/v1/tenants/acme/stats", {"", "x"}, MP_ERR_INVAL, "unknown query parameter \"\""},
};

START_TEST(must_reject)
{
    struct eng_table *t = seeded();
    json_t *j = NULL;
    int rc = build(t, rejects[_i].path, rejects[_i].kv, &j);
    const char *msg = str(j, "error");
    ck_assert_msg(rc == rejects[_i].rc, "case %d (%s): %s, expected %s; error %s", _i,
                  rejects[_i].path, mp_strerror(rc), mp_strerror(rejects[_i].rc),
                  msg ? msg : "(none)");
    ck_assert_msg(msg && strstr(msg, rejects[_i].msg), "case %d: error \"%s\" lacks \"%s\"", _i,
                  msg ? msg : "(none)", rejects[_i].msg);
    ck_assert_uint_eq(json_object_size(j), 1); /* {"error": ...} and nothing else */
    json_decref(j);
    eng_table_destroy(t);
}
END_TEST

START_TEST(longest_tenant_name_accepted)
{
    struct eng_table *t = mk(64);
    ck_assert_uint_eq(strlen(long64), 64);
    ck_assert_uint_eq(strlen(long65), 65);
    put(t, long64, "m@x.io", "d.io", ENG_SENT, 2, T0);
    json_t *j = must_get(t, long64, "24h", NULL, NULL);
    ck_assert_str_eq(str(j, "tenant"), long64);
    ck_assert_uint_eq(count(j, "sent"), 2);
    json_decref(j);
    eng_table_destroy(t);
}
END_TEST

/* ---- the HTTP rendering ------------------------------------------------------- */

static void reply(struct eng_table *t, const char *path, const char *const *kv,
                  struct mp_http_reply *r)
{
    struct mp_http_arg args[8];
    size_t n = 0;
    for (; kv && kv[2 * n]; n++)
        args[n] = (struct mp_http_arg){kv[2 * n], kv[2 * n + 1]};
    struct mp_http_request req = {.method = "GET", .path = path, .args = args, .nargs = n};
    memset(r, 0, sizeof(*r));
    mp_stats_reply(t, &req, r);
    ck_assert_ptr_nonnull(r->body);
    ck_assert_uint_eq(r->len, strlen(r->body));
    ck_assert_str_eq(r->content_type, "application/json");
}

START_TEST(reply_status_and_text)
{
    struct eng_table *t = seeded();
    struct mp_http_reply r;
    reply(t, "/v1/tenants/beta/stats", (const char *[]){"window", "1h", NULL}, &r);
    ck_assert_int_eq(r.status, 200);
    /* rates render short: 999/1000, not 0.99899999999999999911 */
    ck_assert_msg(strstr(r.body, "\"bounce_rate\":0.999,") != NULL, "%s", r.body);
    ck_assert_msg(strstr(r.body, "\"complaint_rate\":null") != NULL, "%s", r.body);
    static const char head[] = "{\"tenant\":\"beta\",\"window\":\"1h\",\"counts\":{\"sent\":1000,";
    ck_assert_msg(strncmp(r.body, head, strlen(head)) == 0, "%s", r.body);
    free(r.body);
    reply(t, "/v1/tenants/acme/stats", (const char *[]){"window", "2h", NULL}, &r);
    ck_assert_int_eq(r.status, 400);
    free(r.body);
    reply(t, "/v1/tenants/nobody/stats", NULL, &r);
    ck_assert_int_eq(r.status, 404);
    json_t *j = json_loads(r.body, 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_ptr_nonnull(str(j, "error"));
    json_decref(j);
    free(r.body);
    reply(t, "/v1/tenants/acme/nope", NULL, &r);
    ck_assert_int_eq(r.status, 404);
    free(r.body);
    eng_table_destroy(t);
}
END_TEST

/* One request reads at most scan_max keys of the scope, the newest first,
 * and says so: 300 mailboxes created in order, mailbox i sent 300 - i times,
 * so the oldest hold the most and a cut read shows it. */
static json_t *must_scan(struct eng_table *t, size_t scan_max, const char *limit)
{
    struct mp_http_arg args[] = {{"window", "1h"}, {"by", "mailbox"}, {"limit", limit}};
    struct mp_http_request req = {.method = "GET", .path = "/v1/tenants/acme/stats",
                                  .args = args, .nargs = MP_ARRAY_LEN(args)};
    json_t *j = NULL;
    ck_assert_int_eq(mp_stats_build_scan(t, &req, scan_max, &j), MP_OK);
    return j;
}

START_TEST(scan_is_bounded)
{
    struct eng_table *t = mk(1024);
    for (int i = 0; i < 300; i++) {
        char mb[32];
        snprintf(mb, sizeof(mb), "m%03d@acme.example", i);
        put(t, "acme", mb, "gmail.com", ENG_SENT, 300 - i, T0);
    }
    static const struct {
        size_t scan_max;
        int truncated;
        size_t scanned, first; /* keys read; the mailbox number of the top group */
    } cases[] = {{1, 1, 1, 299},      {100, 1, 100, 200}, {299, 1, 299, 1},
                 {300, 0, 300, 0},    {301, 0, 300, 0},   {MP_STATS_SCAN_MAX, 0, 300, 0}};
    for (size_t c = 0; c < MP_ARRAY_LEN(cases); c++) {
        json_t *j = must_scan(t, cases[c].scan_max, "5");
        ck_assert_int_eq(json_integer_value(json_object_get(j, "keys_scanned")),
                         (json_int_t)cases[c].scanned);
        ck_assert_int_eq(jint(j, "groups_total"),
                         (json_int_t)cases[c].scanned);
        ck_assert(json_is_boolean(json_object_get(j, "truncated")));
        ck_assert_int_eq(json_is_true(json_object_get(j, "truncated")), cases[c].truncated);
        json_t *g = json_object_get(j, "groups");
        size_t want = cases[c].scanned < 5 ? cases[c].scanned : 5;
        ck_assert_uint_eq(json_array_size(g), want);
        for (size_t x = 0; x < want; x++) {
            char mb[32];
            snprintf(mb, sizeof(mb), "m%03zu@acme.example", cases[c].first + x);
            ck_assert_str_eq(str(json_array_get(g, x), "mailbox"), mb);
            ck_assert_uint_eq(count(json_array_get(g, x), "sent"), 300 - cases[c].first - x);
        }
        /* the tenant totals are never cut */
        ck_assert_uint_eq(count(j, "sent"), 300 * 301 / 2);
        json_decref(j);
    }
    /* the daemon's bound: all 300 read, not truncated */
    json_t *j = must_get(t, "acme", "1h", "mailbox", NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "keys_scanned")), 300);
    ck_assert(json_is_false(json_object_get(j, "truncated")));
    json_decref(j);
    /* keys with nothing in the window are read (and count against the
     * bound) but make no group */
    put(t, "acme", "old@acme.example", "gmail.com", ENG_SENT, 1, T0 - 2 * HOUR);
    j = must_scan(t, 2, "5");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "keys_scanned")), 2);
    ck_assert_int_eq(jint(j, "groups_total"), 1);
    ck_assert_str_eq(str(group_at(j, 0), "mailbox"),
                     "m299@acme.example");
    json_decref(j);
    eng_table_destroy(t);
}
END_TEST

CHECK_SUITE_TABLES("mp_stats", 0, NULL, NULL,
                   CHECK_TESTS(default_window_is_24h, tenants_are_separate, null_rates,
                               group_by_mailbox, group_by_domain, sort_ties_by_name,
                               limit_and_groups_total, scan_is_bounded,
                               longest_tenant_name_accepted, reply_status_and_text),
                   CHECK_LOOPS(CHECK_LOOP(window_totals_exact, windows),
                               CHECK_LOOP(must_reject, rejects)))
