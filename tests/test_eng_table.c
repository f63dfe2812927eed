/* test_eng_table.c — engine/eng_table (eng_table*.c).
 *
 * Window edges, late events, retention and future limits, ring rotation
 * (including a clock jump longer than the ring), key/name capacity, and the
 * concurrency contract: several writers hammering the same keys while a
 * ticker rotates buckets and a drainer empties the dirty list lose no
 * increment. Run it under `make SANITIZER=thread test` for the race proof.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eng_table.h"
#include "eng_testkit.h"
#include "check_main.h"
#include "mp_atomic.h"

/* A fixed clock: 2026-11-22 12:00:00 UTC, mid-day and mid-bucket. */
#define T0 (1795348800000LL + 2 * 60 * 1000)
#define MIN (60 * 1000LL)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

static struct eng_table *mk(uint32_t max_keys, int64_t now)
{
    return tk_table(max_keys, now, NULL, 0);
}

/* Most cases use one table of 1,024 keys with its clock at T0; a case may
 * replace it, and teardown destroys what is there. */
static struct eng_table *t;

static void setup(void) { t = mk(1024, T0); }

static void teardown(void) { eng_table_destroy(t); }

START_TEST(three_scopes)
{
    ck_assert_int_eq(tk_rec(t, "acme", "a@acme.example", "gmail.com", ENG_SENT, T0), MP_OK);
    ck_assert_int_eq(tk_rec(t, "acme", "a@acme.example", "yahoo.com", ENG_SENT, T0), MP_OK);
    ck_assert_int_eq(tk_rec(t, "acme", "b@acme.example", "gmail.com", ENG_BOUNCE_HARD, T0), MP_OK);
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_TENANT, "acme", NULL, 12, ENG_SENT), 2);
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_TENANT, "acme", NULL, 12, ENG_BOUNCE_HARD), 1);
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_MAILBOX, "acme", "a@acme.example", 12, ENG_SENT), 2);
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_MAILBOX, "acme", "b@acme.example", 12, ENG_SENT), 0);
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_DOMAIN, "acme", "gmail.com", 12, ENG_SENT), 1);
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_DOMAIN, "acme", "gmail.com", 12, ENG_BOUNCE_HARD), 1);
    ck_assert_uint_eq(tk_days(t, ENG_SCOPE_DOMAIN, "acme", "yahoo.com", 0, 1, ENG_SENT), 1);
    /* 1 tenant + 2 mailboxes + 2 domains */
    ck_assert_uint_eq(eng_table_nkeys(t), 5);
    /* names and scopes read back */
    struct eng_key *k;
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_MAILBOX, "acme", "b@acme.example", &k), MP_OK);
    ck_assert_str_eq(eng_key_tenant(t, k), "acme");
    ck_assert_str_eq(eng_key_name(t, k), "b@acme.example");
    ck_assert_int_eq(eng_key_scope(k), ENG_SCOPE_MAILBOX);
    ck_assert_ptr_eq(eng_table_key(t, eng_key_id(k)), k);
    /* another tenant's same mailbox is another key */
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_MAILBOX, "beta", "b@acme.example", &k),
                     MP_ERR_NOTFOUND);
}
END_TEST

START_TEST(window_edges)
{
    int64_t cur = T0 - T0 % ENG_FINE_MS; /* start of the current bucket */
    /* first ms of the oldest bucket of a 12-bucket (1h) window, last ms before it */
    ck_assert_int_eq(tk_rec(t, "a", "m@a.io", "d.io", ENG_SENT, cur - 11 * ENG_FINE_MS), MP_OK);
    ck_assert_int_eq(tk_rec(t, "a", "m@a.io", "d.io", ENG_OPEN, cur - 11 * ENG_FINE_MS - 1), MP_OK);
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_TENANT, "a", NULL, 12, ENG_SENT), 1);
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_TENANT, "a", NULL, 12, ENG_OPEN), 0);
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_TENANT, "a", NULL, 11, ENG_SENT), 0);
    ck_assert_uint_eq(tk_days(t, ENG_SCOPE_TENANT, "a", NULL, 0, 1, ENG_OPEN), 1);
    /* one bucket later the sent event has slid out of the hour */
    eng_table_tick(t, cur + ENG_FINE_MS);
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_TENANT, "a", NULL, 12, ENG_SENT), 0);
    ck_assert_uint_eq(tk_days(t, ENG_SCOPE_TENANT, "a", NULL, 0, 1, ENG_SENT), 1);
}
END_TEST

START_TEST(late_and_future)
{
    int64_t cur = T0 - T0 % ENG_FINE_MS;
    /* late but within the held fine range (13 buckets back): lands in its bucket */
    ck_assert_int_eq(tk_rec(t, "a", "m@a.io", "d.io", ENG_SENT, cur - 13 * ENG_FINE_MS), MP_OK);
    /* older than the fine ring: only the daily ring keeps it */
    ck_assert_int_eq(tk_rec(t, "a", "m@a.io", "d.io", ENG_SENT, T0 - 3 * HOUR), MP_OK);
    ck_assert_int_eq(tk_rec(t, "a", "m@a.io", "d.io", ENG_SENT, T0 - 3 * DAY), MP_OK);
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_TENANT, "a", NULL, 12, ENG_SENT), 0);
    ck_assert_uint_eq(tk_days(t, ENG_SCOPE_TENANT, "a", NULL, 0, 1, ENG_SENT), 2);
    ck_assert_uint_eq(tk_days(t, ENG_SCOPE_TENANT, "a", NULL, 3, 1, ENG_SENT), 1);
    ck_assert_uint_eq(tk_days(t, ENG_SCOPE_TENANT, "a", NULL, 0, 7, ENG_SENT), 3);
    /* one fine bucket ahead is held; two are not */
    ck_assert_int_eq(tk_rec(t, "a", "m@a.io", "d.io", ENG_CLICK, cur + ENG_FINE_MS), MP_OK);
    ck_assert_int_eq(tk_rec(t, "a", "m@a.io", "d.io", ENG_CLICK, cur + 2 * ENG_FINE_MS),
                     MP_ERR_INVAL);
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_TENANT, "a", NULL, 12, ENG_CLICK), 0);
    eng_table_tick(t, cur + ENG_FINE_MS);
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_TENANT, "a", NULL, 1, ENG_CLICK), 1);
}
END_TEST

START_TEST(retention_edge)
{
    int64_t today = T0 - T0 % DAY;
    /* the oldest held day is today - 35; anything before it is refused */
    ck_assert_int_eq(tk_rec(t, "a", "m@a.io", "d.io", ENG_SENT, today - 35 * DAY), MP_OK);
    ck_assert_int_eq(tk_rec(t, "a", "m@a.io", "d.io", ENG_SENT, today - 35 * DAY - 1), MP_ERR_INVAL);
    ck_assert_uint_eq(tk_days(t, ENG_SCOPE_TENANT, "a", NULL, 35, 1, ENG_SENT), 1);
    /* a day later that bucket has left the retention and was cleared */
    eng_table_tick(t, T0 + DAY);
    ck_assert_uint_eq(tk_days(t, ENG_SCOPE_TENANT, "a", NULL, 0, 40, ENG_SENT), 0);
    /* the slot it used is clean for the new front day */
    ck_assert_int_eq(tk_rec(t, "a", "m@a.io", "d.io", ENG_SENT, T0 + DAY), MP_OK);
    ck_assert_uint_eq(tk_days(t, ENG_SCOPE_TENANT, "a", NULL, 0, 40, ENG_SENT), 1);
}
END_TEST

START_TEST(rotation_reuses_clean_slots)
{
    int64_t now = T0;
    /* walk forward two full rings, one event per bucket: the hour always
     * holds exactly the last 12 */
    for (int i = 0; i < 2 * ENG_FINE_SLOTS; i++) {
        ck_assert_int_eq(tk_rec(t, "a", "m@a.io", "d.io", ENG_SENT, now), MP_OK);
        uint64_t want = (uint64_t)(i + 1 < 12 ? i + 1 : 12);
        ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_TENANT, "a", NULL, 12, ENG_SENT), want);
        now += ENG_FINE_MS;
        eng_table_tick(t, now);
    }
}
END_TEST

START_TEST(clock_jump)
{
    ck_assert_int_eq(tk_rec(t, "a", "m@a.io", "d.io", ENG_SENT, T0), MP_OK);
    eng_table_tick(t, T0 + 50 * DAY); /* longer than both rings */
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_TENANT, "a", NULL, 12, ENG_SENT), 0);
    ck_assert_uint_eq(tk_days(t, ENG_SCOPE_TENANT, "a", NULL, 0, 36, ENG_SENT), 0);
    ck_assert_int_eq(tk_rec(t, "a", "m@a.io", "d.io", ENG_SENT, T0 + 50 * DAY), MP_OK);
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_TENANT, "a", NULL, 12, ENG_SENT), 1);
    ck_assert_uint_eq(tk_days(t, ENG_SCOPE_TENANT, "a", NULL, 0, 36, ENG_SENT), 1);
    /* the clock going back does not move the rings back */
    eng_table_tick(t, T0);
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_TENANT, "a", NULL, 12, ENG_SENT), 1);
}
END_TEST

START_TEST(capacity)
{
    eng_table_destroy(t); /* another size than the fixture's */
    t = mk(16, T0);
    int ok = 0, full = 0;
    for (int i = 0; i < 40; i++) {
        char mb[32];
        snprintf(mb, sizeof(mb), "u%d@a.io", i);
        int rc = tk_rec(t, "a", mb, "d.io", ENG_SENT, T0);
        ck_assert(rc == MP_OK || rc == MP_ERR_FULL);
        rc == MP_OK ? ok++ : full++;
    }
    ck_assert_int_gt(full, 0);
    ck_assert_uint_le(eng_table_nkeys(t), 16);
    /* every accepted event reached the tenant key: nothing counted twice or lost */
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_TENANT, "a", NULL, 12, ENG_SENT), (uint64_t)ok);
}
END_TEST

START_TEST(name_lengths)
{
    char big[300];
    memset(big, 'n', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    big[255] = '\0'; /* 255 bytes: the longest name */
    ck_assert_int_eq(tk_rec(t, "a", big, big, ENG_SENT, T0), MP_OK);
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_MAILBOX, "a", big, 12, ENG_SENT), 1);
    big[255] = 'n'; /* 299 bytes */
    ck_assert_int_eq(tk_rec(t, "a", big, "d.io", ENG_SENT, T0), MP_ERR_INVAL);
    ck_assert_int_eq(tk_rec(t, "a", "m@a.io", big, ENG_SENT, T0), MP_ERR_INVAL);
    ck_assert_int_eq(tk_rec(t, big, "m@a.io", "d.io", ENG_SENT, T0), MP_ERR_INVAL);
    ck_assert_int_eq(tk_rec(t, "", "m@a.io", "d.io", ENG_SENT, T0), MP_ERR_INVAL);
    ck_assert_int_eq(tk_rec(t, "a", "m@a.io", "", ENG_SENT, T0), MP_ERR_INVAL);
    /* nothing of the refused events was counted or created */
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_TENANT, "a", NULL, 12, ENG_SENT), 1);
    size_t keys = eng_table_nkeys(t);
    ck_assert_uint_eq(keys, 3);
    /* no mailbox is none (an ESP feed without a sender), not a refusal:
     * it counts at the tenant and the domain and makes no mailbox key */
    ck_assert_int_eq(tk_rec(t, "a", "", "d.io", ENG_SENT, T0), MP_OK);
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_TENANT, "a", NULL, 12, ENG_SENT), 2);
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_DOMAIN, "a", "d.io", 12, ENG_SENT), 1);
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_MAILBOX, "a", "", 12, ENG_SENT), 0);
    ck_assert_uint_gt(eng_table_nkeys(t), keys); /* the domain (and provider) keys */
}
END_TEST

/* Frames publish their newly dirty keys as one chain: every key once, even
 * when later frames touch it again before the drain, and again after it. */
static void collect_ids(void *arg, struct eng_key *k)
{
    uint32_t *seen = arg; /* seen[0]: count; seen[id]: times visited */
    seen[0]++;
    seen[eng_key_id(k)]++;
}

START_TEST(dirty_chain_once)
{
    struct eng_frame *f;
    ck_assert_int_eq(eng_frame_create(&f), MP_OK);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 40; i++) {
            char mb[32];
            snprintf(mb, sizeof(mb), "u%d@a.io", i % 20);
            struct eng_event ev = {"acme", 4, mb, strlen(mb), "d.io", 4, ENG_SENT, T0, NULL, 0};
            ck_assert_int_eq(eng_frame_record(t, f, &ev), MP_OK);
        }
        eng_frame_end(t, f);
    }
    /* 1 tenant + 20 mailboxes + 1 domain, each on the list once */
    uint32_t seen[64] = {0};
    ck_assert_uint_eq(eng_table_drain_dirty(t, collect_ids, seen), 22);
    for (int id = 1; id < 64; id++)
        ck_assert_uint_le(seen[id], 1);
    memset(seen, 0, sizeof(seen));
    ck_assert_uint_eq(eng_table_drain_dirty(t, collect_ids, seen), 0);
    /* drained keys come back with their next frame */
    struct eng_event ev = {"acme", 4, "u3@a.io", 7, "d.io", 4, ENG_OPEN, T0, NULL, 0};
    ck_assert_int_eq(eng_frame_record(t, f, &ev), MP_OK);
    eng_frame_end(t, f);
    ck_assert_uint_eq(eng_table_drain_dirty(t, collect_ids, seen), 3);
    eng_frame_destroy(f);
}
END_TEST

/* The lookahead calls change no result: the same events through
 * eng_prep_* + eng_frame_record_prep (stages skipped or not, names bad or
 * not) count exactly as through eng_frame_record. */
START_TEST(prep_same_results)
{
    struct eng_table *a = mk(1024, T0), *b = mk(1024, T0);
    struct eng_frame *fa, *fb;
    ck_assert_int_eq(eng_frame_create(&fa), MP_OK);
    ck_assert_int_eq(eng_frame_create(&fb), MP_OK);
    for (int i = 0; i < 300; i++) {
        char tn[16], mb[32], dm[32];
        snprintf(tn, sizeof(tn), "t%d", i % 7);
        snprintf(mb, sizeof(mb), "m%d@x.io", i % 11);
        snprintf(dm, sizeof(dm), "d%d.io", i % 5);
        struct eng_event ev = {tn, strlen(tn), mb, strlen(mb), dm, strlen(dm), 1 + i % 12,
                               T0 - (i % 3) * HOUR, NULL, 0};
        if (i % 50 == 7)
            ev.mailbox_len = 0; /* refused either way */
        if (i % 50 == 9)
            ev.time_ms = T0 + DAY; /* refused either way */
        struct eng_prep p;
        eng_prep_start(b, &ev, &p);
        if (i % 3 != 0)
            eng_prep_keys(b, &p);
        if (i % 4 != 0)
            eng_prep_counters(b, &ev, &p);
        ck_assert_int_eq(eng_frame_record_prep(b, fb, &ev, &p), eng_frame_record(a, fa, &ev));
        if (i % 60 == 59) {
            eng_frame_end(a, fa);
            eng_frame_end(b, fb);
        }
    }
    eng_frame_end(a, fa);
    eng_frame_end(b, fb);
    ck_assert_uint_eq(eng_table_nkeys(a), eng_table_nkeys(b));
    ck_assert_uint_eq(eng_table_nseries(a), eng_table_nseries(b));
    for (uint32_t id = 1; id <= eng_table_nkeys(a); id++) {
        struct eng_key *ka = eng_table_key(a, id), *kb;
        ck_assert_ptr_nonnull(ka);
        ck_assert_int_eq(eng_table_find(b, eng_key_scope(ka), eng_key_tenant(a, ka),
                                        eng_key_name(a, ka), &kb),
                         MP_OK);
        for (int win = ENG_WIN_1H; win <= ENG_WIN_PREV_7D; win++) {
            uint64_t ca[ENG_NTYPES], cb[ENG_NTYPES];
            eng_key_sum_window(a, ka, win, ca);
            eng_key_sum_window(b, kb, win, cb);
            ck_assert_mem_eq(ca, cb, sizeof(ca));
        }
    }
    eng_frame_destroy(fa);
    eng_frame_destroy(fb);
    eng_table_destroy(a);
    eng_table_destroy(b);
}
END_TEST

START_TEST(named_windows)
{
    int64_t hour = T0 - T0 % HOUR, today = T0 - T0 % DAY;
    ck_assert_int_eq(tk_rec(t, "a", "m@a.io", "d.io", ENG_OPEN, T0), MP_OK);
    ck_assert_int_eq(tk_rec(t, "a", "m@a.io", "d.io", ENG_OPEN, hour - 23 * HOUR), MP_OK);
    ck_assert_int_eq(tk_rec(t, "a", "m@a.io", "d.io", ENG_OPEN, hour - 23 * HOUR - 1), MP_OK);
    ck_assert_int_eq(tk_rec(t, "a", "m@a.io", "d.io", ENG_OPEN, today - 6 * DAY), MP_OK);
    ck_assert_int_eq(tk_rec(t, "a", "m@a.io", "d.io", ENG_OPEN, today - 7 * DAY), MP_OK);
    ck_assert_int_eq(tk_rec(t, "a", "m@a.io", "d.io", ENG_OPEN, today - 13 * DAY), MP_OK);
    ck_assert_int_eq(tk_rec(t, "a", "m@a.io", "d.io", ENG_OPEN, today - 14 * DAY), MP_OK);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_TENANT, "a", NULL, ENG_WIN_1H, ENG_OPEN), 1);
    /* 24 h: the current hour and the 23 before; one ms earlier is out */
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_TENANT, "a", NULL, ENG_WIN_24H, ENG_OPEN), 2);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_DOMAIN, "a", "d.io", ENG_WIN_7D, ENG_OPEN),
                      3 + (hour - 23 * HOUR - 1 >= today - 6 * DAY ? 1 : 0));
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_MAILBOX, "a", "m@a.io", ENG_WIN_PREV_7D, ENG_OPEN), 2);
    /* an hour later the oldest hourly bucket has left the 24 h window */
    eng_table_tick(t, T0 + HOUR);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_TENANT, "a", NULL, ENG_WIN_24H, ENG_OPEN), 1);
    int w;
    ck_assert_int_eq(eng_window_parse("24h", &w), 0);
    ck_assert_int_eq(w, ENG_WIN_24H);
    ck_assert_int_eq(eng_window_parse("7d", &w), 0);
    ck_assert_int_eq(w, ENG_WIN_7D);
    ck_assert_int_eq(eng_window_parse("2h", &w), -1);
    ck_assert_str_eq(eng_window_name(ENG_WIN_1H), "1h");
}
END_TEST

struct names {
    struct eng_table *t;
    char seen[8][64];
    int n;
};

static void collect(void *arg, struct eng_key *k)
{
    struct names *nm = arg;
    ck_assert_int_lt(nm->n, 8);
    snprintf(nm->seen[nm->n++], 64, "%s", eng_key_name(nm->t, k));
}

START_TEST(children_and_lazy_series)
{
    ck_assert_int_eq(tk_rec(t, "a", "x@a.io", "gmail.com", ENG_SENT, T0), MP_OK);
    ck_assert_int_eq(tk_rec(t, "a", "y@a.io", "gmail.com", ENG_SENT, T0), MP_OK);
    ck_assert_int_eq(tk_rec(t, "a", "y@a.io", "yahoo.com", ENG_SENT, T0), MP_OK);
    ck_assert_int_eq(tk_rec(t, "b", "z@b.io", "aol.com", ENG_SENT, T0), MP_OK);
    /* one type so far: one series per key (3 + 2 for tenant a, 3 for b: 8 keys) */
    ck_assert_uint_eq(eng_table_nkeys(t), 8);
    ck_assert_uint_eq(eng_table_nseries(t), 8);
    ck_assert_int_eq(tk_rec(t, "a", "x@a.io", "gmail.com", ENG_OPEN, T0), MP_OK);
    ck_assert_uint_eq(eng_table_nseries(t), 11); /* a, x@a.io, gmail.com got an open series */
    ck_assert_int_eq(tk_rec(t, "a", "x@a.io", "gmail.com", ENG_OPEN, T0), MP_OK);
    ck_assert_uint_eq(eng_table_nseries(t), 11);

    struct eng_key *ta;
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_TENANT, "a", NULL, &ta), MP_OK);
    struct names nm = {.t = t};
    ck_assert_uint_eq(eng_table_children(t, ta, ENG_SCOPE_MAILBOX, collect, &nm), 2);
    ck_assert_str_eq(nm.seen[0], "y@a.io"); /* newest first */
    ck_assert_str_eq(nm.seen[1], "x@a.io");
    nm.n = 0;
    ck_assert_uint_eq(eng_table_children(t, ta, ENG_SCOPE_DOMAIN, collect, &nm), 2);
    ck_assert_str_eq(nm.seen[0], "yahoo.com");
    ck_assert_str_eq(nm.seen[1], "gmail.com");
}
END_TEST

/* Each table draws its own hash seed (eng_hash.h), so two tables (or two
 * runs) probe the same names differently; results do not depend on it. */
START_TEST(two_tables_two_seeds)
{
    struct eng_table *a = mk(64, T0), *b = mk(64, T0);
    ck_assert_uint_ne(eng_table_hash_seed(a), eng_table_hash_seed(b)); /* 1 in 2^64 */
    ck_assert_int_eq(tk_rec(a, "acme", "m@a.io", "d.io", ENG_SENT, T0), MP_OK);
    ck_assert_int_eq(tk_rec(b, "acme", "m@a.io", "d.io", ENG_SENT, T0), MP_OK);
    ck_assert_uint_eq(tk_fine(a, ENG_SCOPE_DOMAIN, "acme", "d.io", 12, ENG_SENT),
                      tk_fine(b, ENG_SCOPE_DOMAIN, "acme", "d.io", 12, ENG_SENT));
    eng_table_destroy(a);
    eng_table_destroy(b);
}
END_TEST

/* ---- concurrency --------------------------------------------------------- */

#define WRITERS 4
#define PER_WRITER 100000
#define MAILBOXES 500

struct hammer {
    struct eng_table *t;
    int id;
    mp_atomic_u32 stop_drain; /* release by the case, acquire by the drainer */
    uint64_t drained;
};

static void *hammer_writer(void *arg)
{
    struct hammer *h = arg;
    struct eng_thread *th;
    ck_assert_int_eq(eng_thread_register(h->t, &th), MP_OK);
    eng_thread_online(th);
    char mb[32];
    for (int i = 0; i < PER_WRITER; i++) {
        /* all writers hit the same tenant and domain keys and race to create
         * the same mailbox keys */
        snprintf(mb, sizeof(mb), "u%d@a.io", (i * 7 + h->id) % MAILBOXES);
        struct eng_event ev = {"acme", 4,  mb, strlen(mb), "gmail.com", 9,
                               i % 2 ? ENG_SENT : ENG_BOUNCE_HARD, T0, NULL, 0};
        ck_assert_int_eq(eng_table_record(h->t, th, &ev), MP_OK);
        if (i % 256 == 0)
            eng_thread_quiescent(th); /* lets a concurrent tick finish */
    }
    eng_thread_unregister(th);
    return NULL;
}

static void count_key(void *arg, struct eng_key *k)
{
    (void)k;
    (*(uint64_t *)arg)++;
}

static void *hammer_drainer(void *arg)
{
    struct hammer *h = arg;
    while (!mp_load_acquire(&h->stop_drain))
        eng_table_drain_dirty(h->t, count_key, &h->drained);
    return NULL;
}

static void *hammer_ticker(void *arg)
{
    struct hammer *h = arg;
    /* Rotate ten buckets while writers write into T0's bucket, which stays
     * held (and inside the hour) throughout. */
    for (int i = 1; i <= 10; i++)
        eng_table_tick(h->t, T0 + i * ENG_FINE_MS);
    return NULL;
}

START_TEST(hammer_exact_totals)
{
    eng_table_destroy(t); /* another size than the fixture's */
    t = mk(1 << 12, T0);
    pthread_t w[WRITERS], drainer, ticker;
    struct hammer hs[WRITERS], hd = {.t = t}, ht = {.t = t};
    for (int i = 0; i < WRITERS; i++) {
        hs[i] = (struct hammer){.t = t, .id = i};
        pthread_create(&w[i], NULL, hammer_writer, &hs[i]);
    }
    pthread_create(&drainer, NULL, hammer_drainer, &hd);
    pthread_create(&ticker, NULL, hammer_ticker, &ht);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(w[i], NULL);
    pthread_join(ticker, NULL);
    mp_store_release(&hd.stop_drain, 1);
    pthread_join(drainer, NULL);

    const uint64_t total = (uint64_t)WRITERS * PER_WRITER;
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_TENANT, "acme", NULL, 12, ENG_SENT), total / 2);
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_TENANT, "acme", NULL, 12, ENG_BOUNCE_HARD), total / 2);
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_DOMAIN, "acme", "gmail.com", 12, ENG_SENT), total / 2);
    ck_assert_uint_eq(tk_days(t, ENG_SCOPE_DOMAIN, "acme", "gmail.com", 0, 1, ENG_BOUNCE_HARD),
                      total / 2);
    uint64_t mb_sum = 0;
    for (int m = 0; m < MAILBOXES; m++) {
        char mb[32];
        snprintf(mb, sizeof(mb), "u%d@a.io", m);
        mb_sum += tk_fine(t, ENG_SCOPE_MAILBOX, "acme", mb, 12, ENG_SENT) +
                  tk_fine(t, ENG_SCOPE_MAILBOX, "acme", mb, 12, ENG_BOUNCE_HARD);
    }
    ck_assert_uint_eq(mb_sum, total);
    /* racing creators made each key exactly once */
    ck_assert_uint_eq(eng_table_nkeys(t), 1 + 1 + MAILBOXES);
    /* every dirty key was handed out; afterwards the list is empty */
    uint64_t rest = 0;
    eng_table_drain_dirty(t, count_key, &rest);
    ck_assert_uint_ge(hd.drained + rest, 1 + 1 + MAILBOXES);
    rest = 0;
    ck_assert_uint_eq(eng_table_drain_dirty(t, count_key, &rest), 0);
}
END_TEST

/* Many writers create the same new keys at once through the byte-hashed
 * lookup: every writer walks the same tenants, mailboxes and domains in its
 * own order, with several types, through frames, in a table small enough
 * that probe chains are long. Each key must be made exactly once (no
 * duplicate under a race, no key mistaken for another), and every
 * increment must land. */
#define RACE_WRITERS 6
#define RACE_TENANTS 8
#define RACE_NAMES 24  /* per tenant, used as mailbox and (another scope) domain */
#define RACE_ROUNDS 40

static void *race_writer(void *arg)
{
    struct tk_worker *r = arg;
    struct tk_writer w;
    tk_writer_begin(&w, r->t);
    const int n = RACE_TENANTS * RACE_NAMES;
    for (int round = 0; round < RACE_ROUNDS; round++) {
        for (int j = 0; j < n; j++) {
            /* a different walk per writer and round */
            int x = (j * 7 + r->id * 13 + round * 5) % n;
            int tn = x % RACE_TENANTS, nm = x / RACE_TENANTS;
            char tenant[16], name[32];
            /* "t1" + "2x" and "t12" + "x" hash and compare apart */
            snprintf(tenant, sizeof(tenant), "t%d", tn);
            snprintf(name, sizeof(name), "%dx", nm);
            /* the domain of name nm is the mailbox name of nm + 1: the
             * same bytes under another scope are another key */
            char dom[32];
            snprintf(dom, sizeof(dom), "%dx", (nm + 1) % RACE_NAMES);
            struct eng_event ev = {tenant, strlen(tenant), name, strlen(name), dom, strlen(dom),
                                   1 + (round + r->id) % 3, T0, NULL, 0};
            ck_assert_int_eq(eng_frame_record(r->t, w.f, &ev), MP_OK);
        }
        tk_writer_batch(&w);
    }
    tk_writer_end(&w);
    return NULL;
}

START_TEST(racing_creators_exact)
{
    /* 8 + 2 * 8 * 24 = 392 keys in a table of 400: 1,024 slots, long chains */
    eng_table_destroy(t); /* another size than the fixture's */
    t = mk(400, T0);
    pthread_t w[RACE_WRITERS];
    struct tk_worker rs[RACE_WRITERS];
    for (int i = 0; i < RACE_WRITERS; i++) {
        rs[i] = (struct tk_worker){.t = t, .id = i};
        pthread_create(&w[i], NULL, race_writer, &rs[i]);
    }
    for (int i = 0; i < RACE_WRITERS; i++)
        pthread_join(w[i], NULL);

    const int nkeys = RACE_TENANTS + 2 * RACE_TENANTS * RACE_NAMES;
    ck_assert_uint_eq(eng_table_nkeys(t), (uint32_t)nkeys);
    /* every (writer, round) pair used one of 3 types, so each key has 3 */
    ck_assert_uint_eq(eng_table_nseries(t), (uint64_t)nkeys * 3);
    /* per type: how many (writer, round) pairs used it */
    uint64_t per_type[3] = {0, 0, 0};
    for (int i = 0; i < RACE_WRITERS; i++)
        for (int round = 0; round < RACE_ROUNDS; round++)
            per_type[(round + i) % 3]++;
    for (int tn = 0; tn < RACE_TENANTS; tn++) {
        char tenant[16];
        snprintf(tenant, sizeof(tenant), "t%d", tn);
        for (int ty = 0; ty < 3; ty++)
            ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_TENANT, tenant, NULL, 12, ty + 1),
                              per_type[ty] * RACE_NAMES);
        for (int nm = 0; nm < RACE_NAMES; nm++) {
            char name[32];
            snprintf(name, sizeof(name), "%dx", nm);
            for (int ty = 0; ty < 3; ty++) {
                ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_MAILBOX, tenant, name, 12, ty + 1),
                                  per_type[ty]);
                ck_assert_uint_eq(tk_days(t, ENG_SCOPE_DOMAIN, tenant, name, 0, 1, ty + 1),
                                  per_type[ty]);
            }
            struct eng_key *k;
            ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_DOMAIN, tenant, name, &k), MP_OK);
            ck_assert_str_eq(eng_key_tenant(t, k), tenant);
            ck_assert_str_eq(eng_key_name(t, k), name);
            ck_assert_int_eq(eng_key_scope(k), ENG_SCOPE_DOMAIN);
        }
        /* each child is on its tenant's list exactly once */
        struct eng_key *tk;
        uint64_t n = 0;
        ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_TENANT, tenant, NULL, &tk), MP_OK);
        ck_assert_uint_eq(eng_table_children(t, tk, ENG_SCOPE_MAILBOX, count_key, &n),
                          RACE_NAMES);
        ck_assert_uint_eq(eng_table_children(t, tk, ENG_SCOPE_DOMAIN, count_key, &n),
                          RACE_NAMES);
    }
    /* no key answers for bytes it does not hold */
    struct eng_key *k;
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_TENANT, "t", NULL, &k), MP_ERR_NOTFOUND);
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_MAILBOX, "t1", "1", &k), MP_ERR_NOTFOUND);
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_MAILBOX, "t", "11x", &k), MP_ERR_NOTFOUND);
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_MAILBOX, "t1", "", &k), MP_ERR_NOTFOUND);
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_MAILBOX, "t1", NULL, &k), MP_ERR_NOTFOUND);
}
END_TEST

/* ---- frames ------------------------------------------------------------ */

#define FRAME_EVENTS 100
#define FRAMES 3000

struct framer {
    struct eng_table *t;
    mp_atomic_u32 done; /* release by the writer, acquire by the case */
    uint64_t stable_reads, unstable_reads, torn;
};

static void *frame_writer(void *arg)
{
    struct framer *fr = arg;
    struct tk_writer w;
    tk_writer_begin(&w, fr->t);
    for (int i = 0; i < FRAMES; i++) {
        for (int j = 0; j < FRAME_EVENTS; j++) {
            struct eng_event ev = {"acme", 4, "m@a.io", 6, "gmail.com", 9, ENG_SENT, T0, NULL, 0};
            ck_assert_int_eq(eng_frame_record(fr->t, w.f, &ev), MP_OK);
        }
        tk_writer_batch(&w);
    }
    tk_writer_end(&w);
    mp_store_release(&fr->done, 1);
    return NULL;
}

static void *frame_reader(void *arg)
{
    struct framer *fr = arg;
    struct eng_key *k = NULL;
    while (!mp_load_acquire(&fr->done)) {
        if (!k && eng_table_find(fr->t, ENG_SCOPE_DOMAIN, "acme", "gmail.com", &k) != MP_OK)
            continue;
        uint32_t tok;
        uint64_t c[ENG_NTYPES], d[ENG_NTYPES];
        if (!eng_key_read_begin(k, &tok)) {
            fr->unstable_reads++;
            continue;
        }
        eng_key_sum_fine(fr->t, k, 12, c);
        eng_key_sum_days(fr->t, k, 0, 1, d);
        if (!eng_key_read_end(k, tok)) {
            fr->unstable_reads++;
            continue;
        }
        fr->stable_reads++;
        if (c[ENG_SENT - 1] % FRAME_EVENTS || d[ENG_SENT - 1] != c[ENG_SENT - 1])
            fr->torn++;
    }
    return NULL;
}

START_TEST(frames_are_atomic_to_readers)
{
    struct framer fr = {.t = t};
    pthread_t w, r;
    pthread_create(&r, NULL, frame_reader, &fr);
    pthread_create(&w, NULL, frame_writer, &fr);
    pthread_join(w, NULL);
    pthread_join(r, NULL);
    ck_assert_uint_eq(fr.torn, 0);
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_TENANT, "acme", NULL, 12, ENG_SENT),
                      (uint64_t)FRAMES * FRAME_EVENTS);
    /* a finished frame leaves the key stable and dirty */
    struct eng_key *k;
    uint32_t tok;
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_MAILBOX, "acme", "m@a.io", &k), MP_OK);
    ck_assert_int_eq(eng_key_read_begin(k, &tok), 1);
    ck_assert_int_eq(eng_key_read_end(k, tok), 1);
    uint64_t n = 0;
    ck_assert_uint_eq(eng_table_drain_dirty(t, count_key, &n), 3);
}
END_TEST

START_TEST(frame_in_progress_reads_unstable)
{
    eng_table_destroy(t); /* another size than the fixture's */
    t = mk(3 * ENG_FRAME_KEYS, T0);
    struct eng_frame *f;
    ck_assert_int_eq(eng_frame_create(&f), MP_OK);
    struct eng_event ev = {"acme", 4, "m@a.io", 6, "gmail.com", 9, ENG_SENT, T0, NULL, 0};
    ck_assert_int_eq(eng_frame_record(t, f, &ev), MP_OK);
    struct eng_key *k;
    uint32_t tok;
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_TENANT, "acme", NULL, &k), MP_OK);
    ck_assert_int_eq(eng_key_read_begin(k, &tok), 0); /* mid-frame */
    uint64_t n = 0;
    ck_assert_uint_eq(eng_table_drain_dirty(t, count_key, &n), 0); /* not dirty yet */
    eng_frame_end(t, f);
    ck_assert_int_eq(eng_key_read_begin(k, &tok), 1);
    /* a frame that starts and ends during a read invalidates it */
    ck_assert_int_eq(eng_frame_record(t, f, &ev), MP_OK);
    eng_frame_end(t, f);
    ck_assert_int_eq(eng_key_read_end(k, tok), 0);
    ck_assert_uint_eq(eng_table_drain_dirty(t, count_key, &n), 3);
    /* more distinct keys than a frame tracks: published in parts, none lost */
    for (int i = 0; i < ENG_FRAME_KEYS; i++) {
        char mb[32];
        snprintf(mb, sizeof(mb), "u%d@a.io", i);
        struct eng_event e2 = {"big", 3, mb, strlen(mb), "d.io", 4, ENG_SENT, T0, NULL, 0};
        ck_assert_int_eq(eng_frame_record(t, f, &e2), MP_OK);
    }
    eng_frame_end(t, f);
    ck_assert_uint_eq(tk_fine(t, ENG_SCOPE_TENANT, "big", NULL, 12, ENG_SENT), ENG_FRAME_KEYS);
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_TENANT, "big", NULL, &k), MP_OK);
    ck_assert_int_eq(eng_key_read_begin(k, &tok), 1);
    eng_frame_destroy(f);
}
END_TEST

Suite *test_suite(void)
{
    /* one case: the concurrency tests need the long timeout under sanitizers */
    return check_suite("eng_table", 120, setup, teardown,
                       CHECK_TESTS(three_scopes, window_edges, late_and_future, retention_edge,
                                   rotation_reuses_clean_slots, clock_jump, capacity,
                                   name_lengths, dirty_chain_once, prep_same_results,
                                   named_windows, children_and_lazy_series,
                                   frame_in_progress_reads_unstable, hammer_exact_totals,
                                   racing_creators_exact, frames_are_atomic_to_readers,
                                   two_tables_two_seeds));
}
