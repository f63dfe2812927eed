/* test_mp_tenants.c — Check suite "mp_tenants": cmd/daemon/mp_tenants (GET
 * /v1/tenants) and the engine's tenant list under it (eng_table_tenants).
 *
 *   listed:     three tenants recorded out of name order come back sorted
 *               by name, each with its keys of the other scopes, its
 *               first-seen day and its counts and rates in the window;
 *               tenants_total, limit and truncated; window=1h leaves out
 *               what is older.
 *   only:       a tenant's own view lists it alone; a tenant never counted
 *               sees an empty list (no other name).
 *   refused:    unknown, repeated, empty and out-of-range parameters are
 *               400 with the allowed ones named.
 *   concurrent: two writers make 2,000 tenants between them while a reader
 *               walks the list; every walk is a prefix of the final list
 *               (no key twice, none unknown) and the last one holds all.
 *               (Run under ThreadSanitizer by `make test SANITIZER=thread`.)
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check_main.h"
#include "eng_table.h"
#include "eng_testkit.h"
#include "mp_atomic.h"
#include "mp_tenants.h"

#define T0 TK_T0
#define HOUR TK_HOUR

/* A table counting all six scopes (the key counts below are for six). */
static struct eng_table *mk(uint32_t max_keys) { return tk_table_scopes(max_keys, T0, NULL, 0, 0); }

static void put(struct eng_table *t, const char *tenant, const char *mb, int type, int n,
                int64_t tm)
{
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(tk_rec(t, tenant, mb, "gmail.com", type, tm), MP_OK);
}

/* GET /v1/tenants?kv... as `only`; returns the status and *out the body. */
static long get(struct eng_table *t, const char *only, const char *const *kv, json_t **out)
{
    struct mp_http_arg args[8];
    size_t n = 0;
    for (; kv && kv[2 * n]; n++)
        args[n] = (struct mp_http_arg){kv[2 * n], kv[2 * n + 1]};
    struct mp_http_request req = {.method = "GET", .path = MP_TENANTS_ROUTE, .args = args,
                                  .nargs = n};
    struct mp_http_reply r = {0};
    mp_tenants_reply(t, &req, only, &r);
    ck_assert_ptr_nonnull(r.body);
    *out = json_loadb(r.body, r.len, 0, NULL);
    ck_assert_msg(*out != NULL, "not JSON: %.*s", (int)r.len, r.body);
    free(r.body);
    return (long)r.status;
}

static const char *name_at(json_t *j, size_t i)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(j, "tenants"), i),
                                             "tenant"));
}

static json_int_t int_of(json_t *o, const char *path1, const char *path2)
{
    json_t *v = json_object_get(o, path1);
    if (path2)
        v = json_object_get(v, path2);
    ck_assert_msg(json_is_integer(v), "%s.%s is not an integer", path1, path2 ? path2 : "");
    return json_integer_value(v);
}

START_TEST(listed)
{
    struct eng_table *t = mk(1024);
    put(t, "zeta", "a@z.io", ENG_SENT, 5, T0 - 2 * HOUR);
    put(t, "acme", "a@acme.io", ENG_SENT, 100, T0);
    put(t, "acme", "b@acme.io", ENG_SENT, 100, T0 - 3 * HOUR);
    put(t, "acme", "b@acme.io", ENG_BOUNCE_HARD, 4, T0 - 3 * HOUR);
    put(t, "beta", "a@beta.io", ENG_DELIVERED, 7, T0);
    json_t *j;
    ck_assert_int_eq(get(t, NULL, NULL, &j), 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "window")), "24h");
    ck_assert_int_eq(int_of(j, "tenants_total", NULL), 3);
    ck_assert_int_eq(int_of(j, "limit", NULL), MP_TENANTS_LIMIT_DEFAULT);
    ck_assert(json_is_false(json_object_get(j, "truncated")));
    ck_assert_str_eq(name_at(j, 0), "acme");
    ck_assert_str_eq(name_at(j, 1), "beta");
    ck_assert_str_eq(name_at(j, 2), "zeta");
    json_t *acme = json_array_get(json_object_get(j, "tenants"), 0);
    ck_assert_int_eq(int_of(acme, "counts", "sent"), 200);
    ck_assert_int_eq(int_of(acme, "counts", "bounce_hard"), 4);
    ck_assert(json_real_value(json_object_get(json_object_get(acme, "rates"), "bounce_rate")) ==
              4.0 / 200.0);
    /* two mailboxes, one domain, one provider (gmail), two mailbox x provider */
    ck_assert_int_eq(int_of(acme, "keys", NULL), 6);
    ck_assert_str_eq(json_string_value(json_object_get(acme, "first_seen")), "2026-11-22");
    json_decref(j);

    /* 1h: acme's 3-hour-old events and zeta's are out; beta's delivered in */
    static const char *const h1[] = {"window", "1h", NULL};
    ck_assert_int_eq(get(t, NULL, h1, &j), 200);
    acme = json_array_get(json_object_get(j, "tenants"), 0);
    ck_assert_int_eq(int_of(acme, "counts", "sent"), 100);
    ck_assert_int_eq(int_of(json_array_get(json_object_get(j, "tenants"), 2), "counts", "sent"), 0);
    json_decref(j);

    static const char *const lim[] = {"limit", "2", "window", "7d", NULL};
    ck_assert_int_eq(get(t, NULL, lim, &j), 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "tenants")), 2);
    ck_assert_int_eq(int_of(j, "tenants_total", NULL), 3);
    ck_assert(json_is_true(json_object_get(j, "truncated")));
    ck_assert_str_eq(name_at(j, 1), "beta");
    json_decref(j);
    eng_table_destroy(t);
}
END_TEST

START_TEST(only)
{
    struct eng_table *t = mk(1024);
    put(t, "acme", "a@acme.io", ENG_SENT, 3, T0);
    put(t, "beta", "a@beta.io", ENG_SENT, 3, T0);
    json_t *j;
    ck_assert_int_eq(get(t, "beta", NULL, &j), 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "tenants")), 1);
    ck_assert_str_eq(name_at(j, 0), "beta");
    ck_assert_int_eq(int_of(j, "tenants_total", NULL), 1);
    char *s = json_dumps(j, 0);
    ck_assert_msg(!strstr(s, "acme"), "beta's view names acme: %s", s);
    free(s);
    json_decref(j);
    ck_assert_int_eq(get(t, "gamma", NULL, &j), 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "tenants")), 0);
    ck_assert_int_eq(int_of(j, "tenants_total", NULL), 0);
    json_decref(j);
    eng_table_destroy(t);
}
END_TEST

START_TEST(refused)
{
    struct eng_table *t = mk(64);
    static const char *const bad[][5] = {
        {"windw", "1h", NULL}, {"window", "prev7d", NULL}, {"window", "", NULL},
        {"window", NULL, NULL}, {"limit", "0", NULL},      {"limit", "100001", NULL},
        {"limit", "-3", NULL}, {"limit", "1e3", NULL},     {"window", "1h", "window", "1h", NULL},
        {"tenant", "acme", NULL}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *j;
        ck_assert_int_eq(get(t, NULL, bad[i], &j), 400);
        const char *e = json_string_value(json_object_get(j, "error"));
        ck_assert_msg(e && strstr(e, "allowed: window=1h|24h|7d, limit=1..100000"),
                      "case %zu: %s", i, e ? e : "(no error)");
        json_decref(j);
    }
    eng_table_destroy(t);
}
END_TEST

/* ---- concurrent: writers make tenants while a reader walks ---- */

#define CW_WRITERS 2
#define CW_TENANTS 1000 /* per writer */

struct cw {
    struct tk_worker w; /* first: tk_write_events hands it back */
    char ten[32];       /* the tenant of the event being made */
    mp_atomic_u32 *done;
};

/* The i-th event of writer w: one send for a new tenant "t<id>-<i>". */
static void cw_event(const struct tk_worker *w, int i, char *mb, struct eng_event *ev)
{
    struct cw *c = (struct cw *)w;
    snprintf(c->ten, sizeof(c->ten), "t%d-%d", w->id, i);
    snprintf(mb, TK_MB_MAX, "a@b.io");
    *ev = (struct eng_event){c->ten, strlen(c->ten), mb, strlen(mb), "gmail.com", 9,
                             ENG_SENT, T0, NULL, 0};
}

static void *cw_writer(void *arg)
{
    struct cw *c = arg;
    tk_write_events(&c->w, CW_TENANTS, 64, cw_event);
    mp_add_release(c->done, 1);
    return NULL;
}

struct cw_walk {
    const struct eng_table *t;
    size_t n, bad;
};

static void cw_visit(void *arg, struct eng_key *k)
{
    struct cw_walk *w = arg;
    const char *name = eng_key_tenant(w->t, k);
    int a, b;
    if (eng_key_scope(k) != ENG_SCOPE_TENANT || sscanf(name, "t%d-%d", &a, &b) != 2)
        w->bad++;
    w->n++;
}

START_TEST(concurrent)
{
    struct eng_table *t = mk(16384);
    mp_atomic_u32 done = 0;
    struct cw c[CW_WRITERS];
    pthread_t tid[CW_WRITERS];
    for (int i = 0; i < CW_WRITERS; i++) {
        c[i] = (struct cw){.w = {t, i}, .done = &done};
        ck_assert_int_eq(pthread_create(&tid[i], NULL, cw_writer, &c[i]), 0);
    }
    size_t walks = 0, last = 0;
    while (mp_load_acquire(&done) < CW_WRITERS) {
        struct cw_walk w = {t, 0, 0};
        size_t n = eng_table_tenants(t, cw_visit, &w);
        ck_assert_uint_eq(n, w.n);
        ck_assert_uint_eq(w.bad, 0);
        ck_assert_uint_le(n, CW_WRITERS * CW_TENANTS);
        last = n;
        walks++;
    }
    for (int i = 0; i < CW_WRITERS; i++)
        pthread_join(tid[i], NULL);
    struct cw_walk w = {t, 0, 0};
    ck_assert_uint_eq(eng_table_tenants(t, cw_visit, &w), CW_WRITERS * CW_TENANTS);
    ck_assert_uint_eq(w.bad, 0);
    ck_assert_uint_ge(walks, 1);
    ck_assert_uint_le(last, CW_WRITERS * CW_TENANTS);
    json_t *j;
    static const char *const lim[] = {"limit", "3", NULL};
    ck_assert_int_eq(get(t, NULL, lim, &j), 200);
    ck_assert_int_eq(int_of(j, "tenants_total", NULL), CW_WRITERS * CW_TENANTS);
    ck_assert_str_eq(name_at(j, 0), "t0-0");
    ck_assert_str_eq(name_at(j, 1), "t0-1");
    ck_assert_str_eq(name_at(j, 2), "t0-10");
    json_decref(j);
    eng_table_destroy(t);
}
END_TEST

CHECK_SUITE("mp_tenants", 60, NULL, NULL, listed, only, refused, concurrent)
