/* test_eng_limits.c — Check suite "eng_limits": the key table's
 * noisy-neighbour limits (engine/eng_table.h, "Limits";
 * engine/eng_table_limits.c and the checks in eng_table_record.c).
 *
 * Cases:
 *   key_cap_per_tenant      a tenant's new keys past its cap are refused
 *                           (ENG_ERR_KEY_CAP), its existing keys and its
 *                           tenant key keep counting, another tenant is not
 *                           touched, and the refusals are counted for it;
 *   key_cap_override        the per-tenant lookup sets one tenant's cap;
 *   key_cap_racing_writers  four threads creating keys of one tenant never
 *                           pass the cap together;
 *   key_cap_loads_past_cap  keys in the store always load at a restart with a
 *                           lower cap, and count;
 *   rate_cap_burst_then_rate  a burst of one second's worth passes, then
 *                           only the sustained rate, another tenant free;
 *   rate_cap_shared         four threads share one tenant's bucket: what
 *                           passes in one instant is the burst exactly;
 *   limited_list_bounded    tenants that hit a cap are listed once each.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "unit_util.h"
#include "eng_testkit.h"

static struct eng_table *lim_table(uint32_t max_keys, struct eng_store *s, uint32_t cap,
                                   uint32_t eps, eng_limits_fn fn)
{
    struct eng_table_opts o = {.max_keys = max_keys, .retention_ms = 35 * TK_DAY, .store = s,
                               .limits = {.max_keys = cap, .max_eps = eps}, .limits_fn = fn,
                               .scopes = ENG_SCOPES_CLASSIC}; /* the counts below: 3 scopes */
    struct eng_table *t = NULL;
    ck_assert_int_eq(eng_table_create(&o, TK_T0, &t), MP_OK);
    return t;
}

static int rec_mb(struct eng_table *t, const char *tenant, int i, const char *dom)
{
    char mb[64];
    snprintf(mb, sizeof(mb), "u%d@%s", i, dom);
    return tk_rec(t, tenant, mb, dom, ENG_SENT, TK_T0);
}

/* Mailboxes first..first+n-1 of tenant (one domain): how many counted. */
static int count_new(struct eng_table *t, const char *tenant, int first, int n)
{
    int ok = 0;
    for (int i = first; i < first + n; i++)
        ok += rec_mb(t, tenant, i, "a.example") == MP_OK;
    return ok;
}

struct seen {
    char tenant[8][32];
    uint64_t rej[8][ENG_LIM_COUNT];
    int n;
};

static void seen_fn(void *arg, const char *tenant, const uint64_t rej[ENG_LIM_COUNT])
{
    struct seen *s = arg;
    ck_assert_int_lt(s->n, 8);
    snprintf(s->tenant[s->n], sizeof(s->tenant[0]), "%s", tenant);
    memcpy(s->rej[s->n], rej, sizeof(s->rej[0]));
    s->n++;
}

static struct eng_key *tenant_key(struct eng_table *t, const char *tenant)
{
    struct eng_key *k = NULL;
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_TENANT, tenant, NULL, &k), MP_OK);
    return k;
}

START_TEST(key_cap_per_tenant)
{
    struct eng_table *t = lim_table(4096, NULL, 10, 0, NULL);
    /* one domain key + 9 mailbox keys = 10: the cap */
    for (int i = 0; i < 9; i++)
        ck_assert_int_eq(rec_mb(t, "flood", i, "a.example"), MP_OK);
    ck_assert_uint_eq(eng_key_children_count(tenant_key(t, "flood")), 10);
    for (int i = 9; i < 100; i++)
        ck_assert_int_eq(rec_mb(t, "flood", i, "a.example"), ENG_ERR_KEY_CAP);
    /* a new domain is a new key too */
    ck_assert_int_eq(tk_rec(t, "flood", "u0@a.example", "b.example", ENG_SENT, TK_T0),
                     ENG_ERR_KEY_CAP);
    ck_assert_uint_eq(eng_key_children_count(tenant_key(t, "flood")), 10);
    /* existing keys keep counting, and so does the tenant */
    for (int i = 0; i < 9; i++)
        ck_assert_int_eq(rec_mb(t, "flood", i, "a.example"), MP_OK);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_TENANT, "flood", NULL, ENG_WIN_1H, ENG_SENT), 18);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_MAILBOX, "flood", "u3@a.example", ENG_WIN_1H,
                             ENG_SENT), 2);
    struct eng_key *k;
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_MAILBOX, "flood", "u50@a.example", &k),
                     MP_ERR_NOTFOUND);
    /* another tenant: its own cap, untouched */
    for (int i = 0; i < 9; i++)
        ck_assert_int_eq(rec_mb(t, "calm", i, "a.example"), MP_OK);
    ck_assert_uint_eq(eng_key_children_count(tenant_key(t, "calm")), 10);
    /* 2 + 3 keys of the two tenants, plus 20 children: nothing else was made */
    ck_assert_uint_eq(eng_table_nkeys(t), 22);
    struct seen s = {0};
    ck_assert_uint_eq(eng_table_limited(t, seen_fn, &s), 1);
    ck_assert_str_eq(s.tenant[0], "flood");
    ck_assert_uint_eq(s.rej[0][ENG_LIM_KEYS], 92);
    ck_assert_uint_eq(s.rej[0][ENG_LIM_RATE], 0);
    eng_table_destroy(t);
}
END_TEST

static void big_acme(void *arg, const char *tenant, size_t len, struct eng_tenant_limits *out)
{
    ck_assert_uint_eq(out->max_keys, 4); /* arrives with the default */
    if (len == 4 && memcmp(tenant, "acme", 4) == 0)
        out->max_keys = 50;
}

START_TEST(key_cap_override)
{
    struct eng_table *t = lim_table(4096, NULL, 4, 0, big_acme);
    ck_assert_int_eq(count_new(t, "acme", 0, 100), 49);
    ck_assert_int_eq(count_new(t, "beta", 0, 100), 3);
    eng_table_destroy(t);
}
END_TEST

/* One of four writers racing on t: n events, each from one(r, f, i),
 * batched every `every`; each must be recorded or refused with `cap`. */
struct racer {
    struct eng_table *t;
    int id, ok;
    int n, every, cap;
    int (*one)(const struct racer *r, struct eng_frame *f, int i);
};

static void *racer_main(void *arg)
{
    struct racer *r = arg;
    struct tk_writer w;
    tk_writer_begin(&w, r->t);
    for (int i = 0; i < r->n; i++) {
        int rc = r->one(r, w.f, i);
        ck_assert(rc == MP_OK || rc == r->cap);
        r->ok += rc == MP_OK;
        if (i % r->every == 0)
            tk_writer_batch(&w);
    }
    tk_writer_end(&w);
    return NULL;
}

/* Four racers on t; the events they got in, summed. */
static int run4(struct racer proto)
{
    struct racer r[4];
    int ok = 0;
    for (int i = 0; i < 4; i++) {
        r[i] = proto;
        r[i].id = i;
    }
    unit_threads_run(4, racer_main, r, sizeof(r[0]));
    for (int i = 0; i < 4; i++)
        ok += r[i].ok;
    return ok;
}

/* A new mailbox of tenant flood per event. */
static int new_mailbox(const struct racer *r, struct eng_frame *f, int i)
{
    char mb[64];
    snprintf(mb, sizeof(mb), "w%d-%d@a.example", r->id, i);
    struct eng_event ev = {"flood", 5, mb, strlen(mb), "a.example", 9, ENG_SENT, TK_T0, NULL, 0};
    return eng_frame_record(r->t, f, &ev);
}

START_TEST(key_cap_racing_writers)
{
    struct eng_table *t = lim_table(65536, NULL, 1000, 0, NULL);
    ck_assert_int_eq(run4((struct racer){.t = t, .n = 2000, .every = 64,
                                        .cap = ENG_ERR_KEY_CAP, .one = new_mailbox}),
                     999); /* 1000 keys: the domain and 999 mailboxes */
    ck_assert_uint_eq(eng_key_children_count(tenant_key(t, "flood")), 1000);
    ck_assert_uint_eq(eng_table_nkeys(t), 1001);
    eng_table_destroy(t);
}
END_TEST

START_TEST(key_cap_loads_past_cap)
{
    char dir[UNIT_PATH_MAX];
    unit_tmpdir("eng_limits", dir);
    struct eng_store *s = unit_store_open(dir);
    struct eng_table *t = lim_table(4096, s, 100, 0, NULL);
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(rec_mb(t, "acme", i, "a.example"), MP_OK);
    ck_assert_int_eq(eng_table_flush(t, 1, NULL), MP_OK);
    eng_table_destroy(t);
    eng_store_close(s);
    s = unit_store_open(dir);
    t = lim_table(4096, s, 5, 0, NULL); /* a lower cap at the restart */
    ck_assert_uint_eq(eng_key_children_count(tenant_key(t, "acme")), 21);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_MAILBOX, "acme", "u19@a.example", ENG_WIN_1H,
                             ENG_SENT), 1);
    ck_assert_int_eq(rec_mb(t, "acme", 19, "a.example"), MP_OK);    /* stored keys count */
    ck_assert_int_eq(rec_mb(t, "acme", 20, "a.example"), ENG_ERR_KEY_CAP); /* no new one */
    eng_table_destroy(t);
    eng_store_close(s);
    unit_tmpdir_remove(dir);
}
END_TEST

static int rec_at(struct eng_table *t, struct eng_frame *f, const char *tenant, int64_t now)
{
    struct eng_event ev = {tenant, strlen(tenant), "u@a.example", 11, "a.example", 9,
                           ENG_SENT, TK_T0, NULL, 0};
    eng_frame_set_now(f, now);
    return eng_frame_record(t, f, &ev);
}

START_TEST(rate_cap_burst_then_rate)
{
    struct eng_table *t = lim_table(4096, NULL, 0, 100, NULL);
    struct tk_writer w;
    tk_writer_begin(&w, t);
    int ok = 0, over = 0;
    for (int i = 0; i < 250; i++) {
        int rc = rec_at(t, w.f, "fast", TK_T0);
        ok += rc == MP_OK;
        over += rc == ENG_ERR_RATE_CAP;
    }
    ck_assert_int_eq(ok, 100); /* the burst: one second's worth */
    ck_assert_int_eq(over, 150);
    /* then 100 per second: 10 every 100 ms */
    for (int step = 1; step <= 10; step++) {
        ok = 0;
        for (int i = 0; i < 50; i++)
            ok += rec_at(t, w.f, "fast", TK_T0 + step * 100) == MP_OK;
        ck_assert_int_eq(ok, 10);
    }
    /* another tenant has its own bucket */
    ok = 0;
    for (int i = 0; i < 100; i++)
        ok += rec_at(t, w.f, "other", TK_T0 + 1000) == MP_OK;
    ck_assert_int_eq(ok, 100);
    tk_writer_end(&w);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_TENANT, "fast", NULL, ENG_WIN_1H, ENG_SENT), 200);
    struct seen s = {0};
    ck_assert_uint_eq(eng_table_limited(t, seen_fn, &s), 1);
    ck_assert_str_eq(s.tenant[0], "fast");
    ck_assert_uint_eq(s.rej[0][ENG_LIM_RATE], 150 + 10 * 40);
    eng_table_destroy(t);
}
END_TEST

/* One instant's event of tenant shared. */
static int shared_now(const struct racer *r, struct eng_frame *f, int i)
{
    return rec_at(r->t, f, "shared", TK_T0);
}

START_TEST(rate_cap_shared)
{
    struct eng_table *t = lim_table(4096, NULL, 0, 3000, NULL);
    ck_assert_int_eq(run4((struct racer){.t = t, .n = 5000, .every = 100,
                                        .cap = ENG_ERR_RATE_CAP, .one = shared_now}),
                     3000); /* one instant: the burst, whoever took it */
    eng_table_destroy(t);
}
END_TEST

START_TEST(limited_list_bounded)
{
    struct eng_table *t = lim_table(4096, NULL, 2, 0, NULL);
    const char *ten[] = {"t1", "t2", "t3"};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 10; i++)
            ck_assert_int_eq(rec_mb(t, ten[k], i, "a.example"), i == 0 ? MP_OK : ENG_ERR_KEY_CAP);
    struct seen s = {0};
    ck_assert_uint_eq(eng_table_limited(t, seen_fn, &s), 3);
    for (int k = 0; k < 3; k++) {
        ck_assert_str_eq(s.tenant[k], ten[2 - k]); /* newest first, each once */
        ck_assert_uint_eq(s.rej[k][ENG_LIM_KEYS], 9);
    }
    uint64_t other[ENG_LIM_COUNT];
    eng_table_limited_other(t, other);
    ck_assert_uint_eq(other[ENG_LIM_KEYS], 0);
    eng_table_destroy(t);
}
END_TEST

static void rate_a(void *arg, const char *tenant, size_t len, struct eng_tenant_limits *out)
{
    (void)arg;
    if (len == 1 && tenant[0] == 'a')
        out->max_eps = 100;
}

START_TEST(limits_changed_live)
{
    struct eng_table *t = lim_table(4096, NULL, 5, 0, NULL);
    ck_assert_int_eq(count_new(t, "a", 0, 20), 4);
    struct eng_tenant_limits ten = {.max_keys = 10};
    ck_assert_int_eq(eng_table_set_limits(t, &ten, NULL, NULL), MP_OK);
    ck_assert_int_eq(count_new(t, "a", 100, 20), 5); /* up to the new cap */
    /* a rate for one tenant through the lookup; b, made before, is free */
    ck_assert_int_eq(rec_mb(t, "b", 0, "b.example"), MP_OK);
    ten.max_keys = 11; /* room for rec_at's mailbox */
    ck_assert_int_eq(eng_table_set_limits(t, &ten, rate_a, NULL), MP_OK);
    struct tk_writer w;
    tk_writer_begin(&w, t);
    int ok = 0;
    int okb = 0;
    for (int i = 0; i < 300; i++) {
        ok += rec_at(t, w.f, "a", TK_T0) == MP_OK;
        okb += rec_at(t, w.f, "b", TK_T0) == MP_OK;
    }
    tk_writer_end(&w);
    ck_assert_int_eq(ok, 100);
    ck_assert_int_eq(okb, 300);
    /* lowered under what it holds: no new key, the old ones count on */
    ten.max_keys = 2;
    ck_assert_int_eq(eng_table_set_limits(t, &ten, NULL, NULL), MP_OK);
    ck_assert_int_eq(rec_mb(t, "a", 500, "a.example"), ENG_ERR_KEY_CAP);
    ck_assert_int_eq(rec_mb(t, "a", 0, "a.example"), MP_OK);
    ck_assert_uint_eq(eng_key_children_count(tenant_key(t, "a")), 11);
    eng_table_destroy(t);
}
END_TEST

CHECK_SUITE("eng_limits", 60, NULL, NULL, key_cap_per_tenant, key_cap_override,
            key_cap_racing_writers, key_cap_loads_past_cap, rate_cap_burst_then_rate,
            rate_cap_shared, limited_list_bounded, limits_changed_live)
