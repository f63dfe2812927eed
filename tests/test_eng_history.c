/* test_eng_history.c — engine/eng_table_history: how far back 1 h steps
 * reach, with engine.hour_retention (eng_table_opts.hour_retention_ms).
 *
 *   hours_kept_in_store   an hour's counts, flushed, are read back from the
 *                         store once the hour ring has let them go (30 h
 *                         later), also after a restart, and leave the store
 *                         and the span once the hour retention has passed.
 *   ring_only_without     with hour_retention 0 the same hour is past the
 *                         span (MP_ERR_INVAL) once the ring lets it go, and
 *                         the store has dropped it.
 *   capped_by_retention   an hour retention longer than the retention is
 *                         cut to the retention.
 */
#include <check.h>
#include <string.h>

#include "check_main.h"
#include "eng_store.h"
#include "eng_table.h"
#include "eng_table_history.h"
#include "eng_testkit.h"

#define MB "ops@acme.example"
#define DOM "gmail.com"
#define H0 (TK_T0 / TK_HOUR)

static char dir[UNIT_PATH_MAX];
static struct eng_store *store;
static struct eng_table *table;

static struct eng_table *open_table(int64_t now, int64_t hour_retention, int64_t retention)
{
    struct eng_table_opts o = {.max_keys = 1024, .retention_ms = retention, .store = store,
                               .hour_retention_ms = hour_retention,
                               .scopes = ENG_SCOPES_CLASSIC};
    struct eng_table *t = NULL;
    ck_assert_int_eq(eng_table_create(&o, now, &t), MP_OK);
    return t;
}

static void setup(void)
{
    unit_tmpdir("mp-eng-history", dir);
    store = unit_store_open(dir);
}

static void teardown(void)
{
    if (table)
        eng_table_destroy(table);
    table = NULL;
    eng_store_close(store);
    store = NULL;
    unit_tmpdir_remove(dir);
}

/* Five opens in hour H0 of the mailbox, flushed. */
static void five_opens(void)
{
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(tk_rec(table, "acme", MB, DOM, ENG_OPEN, TK_T0 - i * 10000), MP_OK);
    ck_assert_int_eq(eng_table_flush(table, 0, NULL), MP_OK);
}

/* The clock moves on an hour at a time up to `to` (each ring advance
 * flushes what leaves), then a flush. */
static void walk_to(int64_t from, int64_t to)
{
    for (int64_t now = from + TK_HOUR; now <= to; now += TK_HOUR)
        eng_table_tick(table, now);
    eng_table_tick(table, to);
    ck_assert_int_eq(eng_table_flush(table, 0, NULL), MP_OK);
}

/* The mailbox's opens in hour H0 as the series API reads them, or -1 when
 * H0 is outside the span (the read's MP_ERR_INVAL). */
static long long opens_at_h0(void)
{
    int64_t lo, hi;
    ck_assert_int_eq(eng_history_span(table, ENG_RES_HOUR, &lo, &hi), MP_OK);
    uint64_t out[ENG_NTYPES];
    int rc = eng_history_read(table, ENG_SCOPE_MAILBOX, "acme", MB, ENG_RES_HOUR, H0, H0,
                              1u << ENG_OPEN, out);
    if (H0 < lo) {
        ck_assert_int_eq(rc, MP_ERR_INVAL);
        return -1;
    }
    ck_assert_int_eq(rc, MP_OK);
    return (long long)out[ENG_OPEN - 1];
}

/* What the store holds for H0: the table reopened at `now` with a long
 * hour retention reads H0 from the store (0 once dropped). */
static long long stored_opens_h0(int64_t now)
{
    eng_table_destroy(table);
    table = open_table(now, 30 * TK_DAY, 35 * TK_DAY);
    return opens_at_h0();
}

START_TEST(hours_kept_in_store)
{
    const int64_t keep = 3 * TK_DAY, ret = 35 * TK_DAY;
    table = open_table(TK_T0, keep, ret);
    five_opens();
    ck_assert_int_eq(opens_at_h0(), 5); /* from the ring */
    walk_to(TK_T0, TK_T0 + 30 * TK_HOUR);
    ck_assert_int_eq(opens_at_h0(), 5); /* the ring let it go: from the store */
    eng_table_destroy(table);
    table = open_table(TK_T0 + 30 * TK_HOUR, keep, ret);
    ck_assert_int_eq(opens_at_h0(), 5); /* after a restart too */
    int64_t lo, hi;
    ck_assert_int_eq(eng_history_span(table, ENG_RES_HOUR, &lo, &hi), MP_OK);
    ck_assert_int_eq(hi - lo, 3 * 24 + 1); /* 72 hours back, and the next one */
    walk_to(TK_T0 + 30 * TK_HOUR, TK_T0 + keep + 2 * TK_HOUR);
    ck_assert_int_eq(opens_at_h0(), -1); /* past the hour retention */
    ck_assert_int_eq(stored_opens_h0(TK_T0 + keep + 2 * TK_HOUR), 0); /* and dropped */
}
END_TEST

START_TEST(ring_only_without)
{
    table = open_table(TK_T0, 0, 35 * TK_DAY);
    five_opens();
    ck_assert_int_eq(opens_at_h0(), 5);
    walk_to(TK_T0, TK_T0 + 30 * TK_HOUR);
    ck_assert_int_eq(opens_at_h0(), -1);
    ck_assert_int_eq(stored_opens_h0(TK_T0 + 30 * TK_HOUR), 0); /* kept for restarts only */
}
END_TEST

START_TEST(capped_by_retention)
{
    table = open_table(TK_T0, 60 * TK_DAY, 14 * TK_DAY);
    int64_t lo, hi;
    ck_assert_int_eq(eng_history_span(table, ENG_RES_HOUR, &lo, &hi), MP_OK);
    ck_assert_int_eq(H0 - lo, 14 * 24);
}
END_TEST

CHECK_SUITE("eng_history", 60, setup, teardown, hours_kept_in_store, ring_only_without,
            capped_by_retention)
