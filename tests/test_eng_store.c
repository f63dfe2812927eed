/* test_eng_store.c — engine/eng_store and the table's persistence.
 *
 * Counts survive flush + close + reopen exactly, in every window; events
 * older than the daily ring go to the store (backfill) and are summed by the
 * merge operator; a bucket leaving a ring is written before it is cleared;
 * retention deletes old buckets; what was never flushed is not there after a
 * reopen (the documented fire-and-forget window). Every counter write
 * (flush, ring advance, eviction) is one commit bracketed by the flush hook;
 * on a full disk (a real tmpfs) a flush fails whole, keeps its marks, the
 * store refuses writes but serves reads, and once space is back it recovers
 * and the next flush writes everything, with the scopes agreeing exactly.
 * Stored counts above 2^32 load back exactly. A flush with a hook stores
 * exactly the cut its begin() fixed while writers keep writing
 * (copy-on-write capture), in plain flushes and in evictions.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eng_store.h"
#include "eng_table.h"
#include "eng_testkit.h"
#include "check_main.h"
#include "mp_atomic.h"

#define T0 (1795348800000LL + 2 * 60 * 1000) /* 2026-11-22 12:02 UTC */
#define HOUR (3600 * 1000LL)
#define DAY (24 * HOUR)

static char dir[UNIT_PATH_MAX];

struct kv_seen {
    int n;
    char keys[8][16];
};

static int kv_collect(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    struct kv_seen *seen = arg;
    ck_assert_int_lt(seen->n, 8);
    ck_assert_uint_lt(kl, 16);
    memcpy(seen->keys[seen->n], k, kl);
    seen->keys[seen->n][kl] = 0;
    ck_assert_uint_eq(vl, 1);
    ck_assert_int_eq(v[0], k[kl - 1]);
    seen->n++;
    return MP_OK;
}

/* Records a spread of events; returns nothing, checked by check_spread. */
static void record_spread(struct eng_table *t)
{
    int64_t hour = T0 - T0 % HOUR, today = T0 - T0 % DAY;
    for (int i = 0; i < 30; i++)
        ck_assert_int_eq(tk_rec(t, "acme", "a@acme.io", "gmail.com", ENG_SENT, T0), MP_OK);
    ck_assert_int_eq(tk_rec(t, "acme", "a@acme.io", "gmail.com", ENG_BOUNCE_HARD, T0), MP_OK);
    ck_assert_int_eq(tk_rec(t, "acme", "b@acme.io", "yahoo.com", ENG_OPEN, hour - 5 * HOUR), MP_OK);
    ck_assert_int_eq(tk_rec(t, "acme", "b@acme.io", "yahoo.com", ENG_CLICK, today - 3 * DAY), MP_OK);
    ck_assert_int_eq(tk_rec(t, "beta", "x@beta.io", "gmail.com", ENG_COMPLAINT, today - 9 * DAY),
                     MP_OK);
}

static void check_spread(struct eng_table *t)
{
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_TENANT, "acme", NULL, ENG_WIN_1H, ENG_SENT), 30);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_MAILBOX, "acme", "a@acme.io", ENG_WIN_1H, ENG_BOUNCE_HARD),
                      1);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_DOMAIN, "acme", "gmail.com", ENG_WIN_24H, ENG_SENT), 30);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_DOMAIN, "acme", "yahoo.com", ENG_WIN_24H, ENG_OPEN), 1);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_TENANT, "acme", NULL, ENG_WIN_7D, ENG_CLICK), 1);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_MAILBOX, "acme", "b@acme.io", ENG_WIN_7D, ENG_OPEN), 1);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_TENANT, "beta", NULL, ENG_WIN_PREV_7D, ENG_COMPLAINT), 1);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_DOMAIN, "beta", "gmail.com", ENG_WIN_7D, ENG_COMPLAINT), 0);
    ck_assert_uint_eq(eng_table_nkeys(t), 5 + 3); /* acme 1+2+2, beta 1+1+1 */
}

/* Most cases start from a store and a table over it (4,096 keys, clock at
 * T0); a case may replace either, and teardown closes what is open. */
static struct eng_store *s;
static struct eng_table *t;

_Static_assert(T0 == TK_T0, "the fixture's table starts at T0");
static void setup(void) { tk_open("eng_store", dir, &s, &t); }

/* A case that mounts a tmpfs at mnt sets mounted; teardown unmounts it. */
static char mnt[UNIT_PATH_MAX + 8];
static int mounted;

static void teardown(void)
{
    eng_table_destroy(t);
    eng_store_close(s);
    t = NULL;
    s = NULL;
    if (mounted) /* before the dir goes: the mount is inside it */
        unit_tmpfs_umount(mnt);
    mounted = 0;
    unit_tmpdir_remove(dir);
}

/* The alert side's column families: puts and deletes commit with the batch,
 * prefix scans stop at the prefix, and everything survives a reopen. */
START_TEST(kv_families_persist)
{
    struct eng_store_batch *b = eng_store_batch_new(s);
    const char *keys[] = {"a/1", "a/2", "b/1", "ab/1"};
    for (int i = 0; i < 4; i++)
        eng_store_batch_kv_put(b, ENG_KV_OUTBOX, keys[i], strlen(keys[i]), &keys[i][strlen(keys[i]) - 1], 1);
    eng_store_batch_kv_put(b, ENG_KV_DEAD, "a/9", 3, "9", 1);
    ck_assert_int_eq(eng_store_commit(s, b, 0), MP_OK);
    struct kv_seen seen = {0};
    ck_assert_int_eq(eng_store_kv_scan(s, ENG_KV_OUTBOX, "a/", 2, kv_collect, &seen), MP_OK);
    ck_assert_int_eq(seen.n, 2);
    ck_assert_str_eq(seen.keys[0], "a/1");
    ck_assert_str_eq(seen.keys[1], "a/2");
    eng_store_batch_kv_del(b, ENG_KV_OUTBOX, "a/1", 3);
    ck_assert_int_eq(eng_store_commit(s, b, 1), MP_OK);
    eng_store_batch_free(b);
    eng_store_close(s);

    s = unit_store_open(dir);
    memset(&seen, 0, sizeof(seen));
    ck_assert_int_eq(eng_store_kv_scan(s, ENG_KV_OUTBOX, NULL, 0, kv_collect, &seen), MP_OK);
    ck_assert_int_eq(seen.n, 3);
    ck_assert_str_eq(seen.keys[0], "a/2");
    ck_assert_str_eq(seen.keys[1], "ab/1");
    ck_assert_str_eq(seen.keys[2], "b/1");
    memset(&seen, 0, sizeof(seen));
    ck_assert_int_eq(eng_store_kv_scan(s, ENG_KV_DEAD, NULL, 0, kv_collect, &seen), MP_OK);
    ck_assert_int_eq(seen.n, 1);
    memset(&seen, 0, sizeof(seen));
    ck_assert_int_eq(eng_store_kv_scan(s, ENG_KV_ALERTS, NULL, 0, kv_collect, &seen), MP_OK);
    ck_assert_int_eq(seen.n, 0);
}
END_TEST

/* issue 10's store figures: commits and their batches' bytes add up, an
 * empty commit still counts, and an idle store is not stalled. */
START_TEST(write_figures_count)
{
    struct eng_store_health h0, h1, h2;
    eng_store_health(s, &h0);
    struct eng_store_batch *b = eng_store_batch_new(s);
    static char v[1000];
    eng_store_batch_kv_put(b, ENG_KV_DEAD, "k", 1, v, sizeof(v));
    ck_assert_int_eq(eng_store_commit(s, b, 0), MP_OK);
    eng_store_health(s, &h1);
    ck_assert_uint_eq(h1.commits, h0.commits + 1);
    ck_assert_uint_ge(h1.bytes_written, h0.bytes_written + sizeof(v) + 1);
    ck_assert_uint_lt(h1.bytes_written, h0.bytes_written + sizeof(v) + 100);
    ck_assert_int_eq(eng_store_commit(s, b, 1), MP_OK); /* empty */
    eng_store_health(s, &h2);
    ck_assert_uint_eq(h2.commits, h1.commits + 1);
    ck_assert_uint_eq(h2.write_stopped, 0);
    ck_assert_uint_eq(h2.write_failures, 0);
    eng_store_batch_free(b);
}
END_TEST

START_TEST(encoding)
{
    uint64_t c[ENG_NTYPES] = {0}, d[ENG_NTYPES];
    char v[ENG_STORE_VALUE_MAX];
    size_t n = eng_store_encode(c, v);
    ck_assert_uint_eq(n, 2); /* empty: just the mask */
    ck_assert_int_eq(eng_store_decode(v, n, d), MP_OK);
    c[0] = 1;
    c[6] = 300;
    c[11] = UINT64_MAX;
    n = eng_store_encode(c, v);
    ck_assert_int_eq(eng_store_decode(v, n, d), MP_OK);
    ck_assert_mem_eq(c, d, sizeof(c));
    ck_assert_int_eq(eng_store_decode(v, n - 1, d), MP_ERR_PARSE); /* truncated */
    ck_assert_int_eq(eng_store_decode(v, 1, d), MP_ERR_PARSE);
    char bad[3] = {0, (char)0xf0, 0}; /* a type bit past the last type */
    ck_assert_int_eq(eng_store_decode(bad, 3, d), MP_ERR_PARSE);
}
END_TEST

START_TEST(merge_adds)
{
    struct eng_store_batch *b = eng_store_batch_new(s);
    uint64_t c[ENG_NTYPES] = {0}, out[ENG_NTYPES];
    c[ENG_SENT - 1] = 5;
    eng_store_batch_put(b, ENG_RES_DAY, 100, ENG_SCOPE_TENANT, 1, 0, c);
    ck_assert_int_eq(eng_store_commit(s, b, 0), MP_OK);
    c[ENG_SENT - 1] = 2;
    c[ENG_OPEN - 1] = 7;
    eng_store_batch_add(b, ENG_RES_DAY, 100, ENG_SCOPE_TENANT, 1, 0, c);
    eng_store_batch_add(b, ENG_RES_DAY, 100, ENG_SCOPE_TENANT, 1, 0, c);
    eng_store_batch_add(b, ENG_RES_DAY, 101, ENG_SCOPE_TENANT, 1, 0, c);
    ck_assert_int_eq(eng_store_commit(s, b, 1), MP_OK);
    ck_assert_int_eq(eng_store_sum(s, ENG_RES_DAY, 100, 100, ENG_SCOPE_TENANT, 1, 0, out), MP_OK);
    ck_assert_uint_eq(out[ENG_SENT - 1], 9);
    ck_assert_uint_eq(out[ENG_OPEN - 1], 14);
    ck_assert_int_eq(eng_store_sum(s, ENG_RES_DAY, 99, 101, ENG_SCOPE_TENANT, 1, 0, out), MP_OK);
    ck_assert_uint_eq(out[ENG_SENT - 1], 11);
    /* other keys and resolutions are apart */
    ck_assert_int_eq(eng_store_sum(s, ENG_RES_HOUR, 100, 100, ENG_SCOPE_TENANT, 1, 0, out), MP_OK);
    ck_assert_uint_eq(out[ENG_SENT - 1], 0);
    ck_assert_int_eq(eng_store_sum(s, ENG_RES_DAY, 100, 100, ENG_SCOPE_TENANT, 2, 0, out), MP_OK);
    ck_assert_uint_eq(out[ENG_SENT - 1], 0);
    /* range delete drops older buckets only */
    eng_store_batch_drop_before(b, ENG_RES_DAY, 101);
    ck_assert_int_eq(eng_store_commit(s, b, 0), MP_OK);
    ck_assert_int_eq(eng_store_sum(s, ENG_RES_DAY, 0, 200, ENG_SCOPE_TENANT, 1, 0, out), MP_OK);
    ck_assert_uint_eq(out[ENG_SENT - 1], 2);
    eng_store_batch_free(b);
}
END_TEST

START_TEST(flush_close_reopen_equal)
{
    record_spread(t);
    check_spread(t);
    size_t n = 0;
    ck_assert_int_eq(eng_table_flush(t, 1, &n), MP_OK);
    ck_assert_uint_gt(n, 0);
    ck_assert_int_eq(eng_table_flush(t, 0, &n), MP_OK); /* nothing changed since */
    tk_restart(dir, &s, &t, 4096, T0 + 60 * 1000, 0); /* a minute later, same buckets */
    check_spread(t);
    /* names kept their ids: a new name gets a fresh one, old ones still match */
    ck_assert_int_eq(tk_rec(t, "gamma", "g@gamma.io", "gmail.com", ENG_SENT, T0), MP_OK);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_DOMAIN, "acme", "gmail.com", ENG_WIN_24H, ENG_SENT), 30);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_DOMAIN, "gamma", "gmail.com", ENG_WIN_24H, ENG_SENT), 1);
    /* and a second round trip with more data adds up */
    ck_assert_int_eq(tk_rec(t, "acme", "a@acme.io", "gmail.com", ENG_SENT, T0), MP_OK);
    ck_assert_int_eq(eng_table_flush(t, 1, NULL), MP_OK);
    tk_restart(dir, &s, &t, 4096, T0 + 120 * 1000, 0);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_TENANT, "acme", NULL, ENG_WIN_1H, ENG_SENT), 31);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_TENANT, "gamma", NULL, ENG_WIN_1H, ENG_SENT), 1);
}
END_TEST

START_TEST(unflushed_is_lost)
{
    ck_assert_int_eq(tk_rec(t, "acme", "a@acme.io", "gmail.com", ENG_SENT, T0), MP_OK);
    ck_assert_int_eq(eng_table_flush(t, 0, NULL), MP_OK);
    ck_assert_int_eq(tk_rec(t, "acme", "a@acme.io", "gmail.com", ENG_SENT, T0), MP_OK);
    tk_restart(dir, &s, &t, 4096, T0, 0); /* as if killed: no final flush */
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_TENANT, "acme", NULL, ENG_WIN_1H, ENG_SENT), 1);
}
END_TEST

START_TEST(backfill_and_retention)
{
    int64_t today = T0 - T0 % DAY, d20 = (today - 20 * DAY) / DAY;
    /* 20 days old: older than the daily ring, within the retention */
    ck_assert_int_eq(tk_rec(t, "acme", "a@acme.io", "gmail.com", ENG_SENT, today - 20 * DAY), MP_OK);
    ck_assert_int_eq(tk_rec(t, "acme", "a@acme.io", "gmail.com", ENG_SENT, today - 20 * DAY + 5),
                     MP_OK);
    ck_assert_int_eq(tk_rec(t, "acme", "a@acme.io", "gmail.com", ENG_SENT, today - 35 * DAY), MP_OK);
    ck_assert_int_eq(tk_rec(t, "acme", "a@acme.io", "gmail.com", ENG_SENT, today - 35 * DAY - 1),
                     MP_ERR_INVAL);
    /* not in memory */
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_TENANT, "acme", NULL, ENG_WIN_PREV_7D, ENG_SENT), 0);
    ck_assert_int_eq(eng_table_flush(t, 0, NULL), MP_OK);
    tk_restart(dir, &s, &t, 4096, T0, 0); /* the names the backfill used were persisted with it */
    /* the keys come back for their first-seen day (the earliest event,
     * 35 days ago), with nothing in memory */
    struct eng_key *k;
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_TENANT, "acme", NULL, &k), MP_OK);
    ck_assert_int_eq(eng_key_first_day(k), today / DAY - 35);
    ck_assert_int_eq(eng_key_age_days(t, k), 35);
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_MAILBOX, "acme", "a@acme.io", &k), MP_OK);
    ck_assert_int_eq(eng_key_first_day(k), today / DAY - 35);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_TENANT, "acme", NULL, ENG_WIN_PREV_7D, ENG_SENT), 0);
    uint64_t out[ENG_NTYPES];
    /* ids: the store is the record; tenant "acme" is id 1 (first interned) */
    ck_assert_int_eq(eng_store_sum(s, ENG_RES_DAY, d20, d20, ENG_SCOPE_TENANT, 1, 0, out), MP_OK);
    ck_assert_uint_eq(out[ENG_SENT - 1], 2);
    ck_assert_int_eq(
        eng_store_sum(s, ENG_RES_DAY, d20 - 15, d20 - 15, ENG_SCOPE_TENANT, 1, 0, out), MP_OK);
    ck_assert_uint_eq(out[ENG_SENT - 1], 1);
    /* 10 days on, the 35-day-old bucket is past the retention and deleted;
     * the 20-day-old one (now 30) stays */
    eng_table_tick(t, T0 + 10 * DAY);
    ck_assert_int_eq(eng_table_flush(t, 0, NULL), MP_OK);
    ck_assert_int_eq(
        eng_store_sum(s, ENG_RES_DAY, d20 - 15, d20 - 15, ENG_SCOPE_TENANT, 1, 0, out), MP_OK);
    ck_assert_uint_eq(out[ENG_SENT - 1], 0);
    ck_assert_int_eq(eng_store_sum(s, ENG_RES_DAY, d20, d20, ENG_SCOPE_TENANT, 1, 0, out), MP_OK);
    ck_assert_uint_eq(out[ENG_SENT - 1], 2);
}
END_TEST

START_TEST(leaving_bucket_is_written)
{
    int64_t d0 = T0 / DAY;
    ck_assert_int_eq(tk_rec(t, "acme", "a@acme.io", "gmail.com", ENG_DELIVERED, T0), MP_OK);
    /* never flushed explicitly: the day leaves the daily ring 14 days on,
     * and tick writes it on its way out */
    for (int i = 1; i <= 15; i++)
        eng_table_tick(t, T0 + i * DAY);
    uint64_t out[ENG_NTYPES];
    ck_assert_int_eq(eng_store_sum(s, ENG_RES_DAY, d0, d0, ENG_SCOPE_DOMAIN, 1, 3, out), MP_OK);
    ck_assert_uint_eq(out[ENG_DELIVERED - 1], 1);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_TENANT, "acme", NULL, ENG_WIN_PREV_7D, ENG_DELIVERED), 0);
}
END_TEST

START_TEST(refuses_other_schema_and_bad_dir)
{
    char err[256] = "";
    struct eng_store *bad = NULL;
    ck_assert_int_eq(eng_store_open("/proc/nope/db", &bad, err, sizeof(err)), MP_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err, "/proc/nope/db"));
}
END_TEST

START_TEST(idle_keys_leave_and_come_back)
{
    eng_table_destroy(t);
    t = tk_table(4096, T0, s, HOUR);
    record_spread(t);
    uint64_t series = eng_table_nseries(t), cold, ev, loads;
    ck_assert_uint_gt(series, 0);
    eng_table_tick(t, T0 + 30 * 60 * 1000);
    ck_assert_uint_eq(eng_table_evict(t, T0 + 30 * 60 * 1000), 0); /* not idle yet */
    /* two hours on: every key is idle; unflushed counts go to the store */
    eng_table_tick(t, T0 + 2 * HOUR);
    ck_assert_uint_eq(eng_table_evict(t, T0 + 2 * HOUR), 8);
    ck_assert_uint_eq(eng_table_nseries(t), 0);
    eng_table_residency(t, &cold, &ev, &loads);
    ck_assert_uint_eq(cold, 8);
    ck_assert_uint_eq(ev, 8);
    /* a cold key reads as unstable until warmed; warming restores it */
    struct eng_key *k;
    uint32_t tok;
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_DOMAIN, "acme", "gmail.com", &k), MP_OK);
    ck_assert_int_eq(eng_key_read_begin(k, &tok), 0);
    ck_assert_int_eq(eng_table_key_warm(t, k), MP_OK);
    ck_assert_int_eq(eng_key_read_begin(k, &tok), 1);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_DOMAIN, "acme", "gmail.com", ENG_WIN_24H, ENG_SENT), 30);
    /* a new event for a cold key brings it back and adds to it */
    ck_assert_int_eq(tk_rec(t, "acme", "b@acme.io", "yahoo.com", ENG_OPEN, T0 + 2 * HOUR), MP_OK);
    ck_assert_int_eq(eng_table_key_warm(t, k), MP_OK);
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_MAILBOX, "acme", "b@acme.io", &k), MP_OK);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_MAILBOX, "acme", "b@acme.io", ENG_WIN_24H, ENG_OPEN), 2);
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_TENANT, "beta", NULL, &k), MP_OK);
    ck_assert_int_eq(eng_table_key_warm(t, k), MP_OK);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_TENANT, "beta", NULL, ENG_WIN_PREV_7D, ENG_COMPLAINT), 1);
    eng_table_residency(t, &cold, &ev, &loads);
    ck_assert_uint_eq(loads, 5); /* gmail.com; acme, b@acme.io, yahoo.com (the event); beta */
    ck_assert_uint_eq(cold, 3);
    /* recycled series: memory did not grow */
    ck_assert_uint_le(eng_table_nseries(t), series);
    /* and all of it survives a restart */
    ck_assert_int_eq(eng_table_flush(t, 1, NULL), MP_OK);
    tk_restart(dir, &s, &t, 4096, T0 + 2 * HOUR, 0);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_MAILBOX, "acme", "b@acme.io", ENG_WIN_24H, ENG_OPEN), 2);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_TENANT, "acme", NULL, ENG_WIN_24H, ENG_SENT), 30);
}
END_TEST

struct evictor {
    struct eng_table *t;
    mp_atomic_u32 stop; /* release by the case, acquire by the thread */
    size_t evicted;
};

static void *evict_loop(void *arg)
{
    struct evictor *e = arg;
    int64_t now = T0;
    while (!mp_load_acquire(&e->stop)) {
        now += 1; /* idle is 1 ms: every key not written since the last pass */
        eng_table_tick(e->t, now);
        e->evicted += eng_table_evict(e->t, now);
        ck_assert_int_eq(eng_table_flush(e->t, 0, NULL), MP_OK);
    }
    return NULL;
}

/* ---- concurrency: flushes while writers write lose nothing ------------- */

#define W 4
#define PER 50000

static void sent_event(const struct tk_worker *w, int i, char *mb, struct eng_event *ev)
{
    snprintf(mb, TK_MB_MAX, "u%d@a.io", (i + w->id) % 300);
    *ev = (struct eng_event){"acme", 4, mb, strlen(mb), "gmail.com", 9, ENG_SENT, T0, NULL, 0};
}

static void *writer(void *arg)
{
    tk_write_events(arg, PER, 100, sent_event);
    return NULL;
}

static void writers_start(pthread_t th[W], struct tk_worker w[W])
{
    for (int i = 0; i < W; i++) {
        w[i] = (struct tk_worker){t, i};
        pthread_create(&th[i], NULL, writer, &w[i]);
    }
}

static void writers_join(pthread_t th[W])
{
    for (int i = 0; i < W; i++)
        pthread_join(th[i], NULL);
}

/* The writers' events over their 300 mailboxes, in window `win`. */
static uint64_t mailbox_sum(int win)
{
    uint64_t sum = 0;
    for (int m = 0; m < 300; m++) {
        char mb[32];
        snprintf(mb, sizeof(mb), "u%d@a.io", m);
        sum += tk_win(t, ENG_SCOPE_MAILBOX, "acme", mb, win, ENG_SENT);
    }
    return sum;
}

START_TEST(evict_during_writes_exact)
{
    /* idle after 1 ms of the (test-driven) clock: keys come and go all the time */
    eng_table_destroy(t);
    t = tk_table(4096, T0, s, 1);
    pthread_t th[W], ev;
    struct tk_worker w[W];
    struct evictor e = {.t = t};
    pthread_create(&ev, NULL, evict_loop, &e);
    writers_start(th, w);
    writers_join(th);
    mp_store_release(&e.stop, 1);
    pthread_join(ev, NULL);
    ck_assert_uint_gt(e.evicted, 0);
    ck_assert_int_eq(eng_table_flush(t, 1, NULL), MP_OK);
    tk_restart(dir, &s, &t, 4096, T0, 0);
    ck_assert_uint_eq(mailbox_sum(ENG_WIN_24H), (uint64_t)W * PER);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_TENANT, "acme", NULL, ENG_WIN_7D, ENG_SENT),
                      (uint64_t)W * PER);
}
END_TEST

START_TEST(flush_during_writes_exact)
{
    pthread_t th[W];
    struct tk_worker w[W];
    writers_start(th, w);
    /* the daemon's main thread: ticks (same buckets) and flushes meanwhile */
    for (int i = 0; i < 50; i++) {
        eng_table_tick(t, T0);
        ck_assert_int_eq(eng_table_flush(t, 0, NULL), MP_OK);
        usleep(2000);
    }
    writers_join(th);
    ck_assert_int_eq(eng_table_flush(t, 1, NULL), MP_OK);
    tk_restart(dir, &s, &t, 4096, T0, 0);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_TENANT, "acme", NULL, ENG_WIN_1H, ENG_SENT),
                      (uint64_t)W * PER);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_DOMAIN, "acme", "gmail.com", ENG_WIN_24H, ENG_SENT),
                      (uint64_t)W * PER);
    ck_assert_uint_eq(mailbox_sum(ENG_WIN_7D), (uint64_t)W * PER);
}
END_TEST

/* Keys are found by a hash seeded per table from the OS, but their names'
 * ids come from the store: after a restart (a new table, a new seed) the
 * same names find the same keys and counts, new events for them land on
 * the same stored ids, and new names get fresh ids. */
START_TEST(restart_new_seed_same_ids)
{
    uint64_t seed0 = eng_table_hash_seed(t);
    /* the first event's names are interned in order: acme 1, a@acme.io 2, gmail.com 3 */
    ck_assert_int_eq(tk_rec(t, "acme", "a@acme.io", "gmail.com", ENG_SENT, T0), MP_OK);
    ck_assert_int_eq(tk_rec(t, "acme", "b@acme.io", "yahoo.com", ENG_OPEN, T0), MP_OK);
    ck_assert_int_eq(tk_rec(t, "zeta", "z@zeta.io", "gmail.com", ENG_CLICK, T0), MP_OK);
    ck_assert_int_eq(eng_table_flush(t, 1, NULL), MP_OK);
    for (int round = 0; round < 2; round++) {
        tk_restart(dir, &s, &t, 4096, T0 + 60 * 1000, 0);
        /* a new seed: equal by chance once in 2^64 */
        ck_assert_uint_ne(eng_table_hash_seed(t), seed0);
        seed0 = eng_table_hash_seed(t);
        ck_assert_uint_eq(eng_table_nkeys(t), 8); /* acme 1+2+2, zeta 1+1+1 */
        ck_assert_uint_eq(tk_win(t, ENG_SCOPE_MAILBOX, "acme", "a@acme.io", ENG_WIN_1H, ENG_SENT),
                          1 + (uint64_t)round);
        ck_assert_uint_eq(tk_win(t, ENG_SCOPE_DOMAIN, "acme", "yahoo.com", ENG_WIN_7D, ENG_OPEN), 1);
        ck_assert_uint_eq(tk_win(t, ENG_SCOPE_DOMAIN, "zeta", "gmail.com", ENG_WIN_24H, ENG_CLICK),
                          1);
        struct eng_key *k;
        ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_DOMAIN, "zeta", "gmail.com", &k), MP_OK);
        ck_assert_str_eq(eng_key_tenant(t, k), "zeta");
        ck_assert_str_eq(eng_key_name(t, k), "gmail.com");
        ck_assert_int_eq(tk_rec(t, "acme", "a@acme.io", "gmail.com", ENG_SENT, T0), MP_OK);
        ck_assert_int_eq(eng_table_flush(t, 1, NULL), MP_OK);
        /* the new event reached the store under the ids of the first process */
        uint64_t out[ENG_NTYPES];
        int64_t fb = T0 / ENG_FINE_MS;
        ck_assert_int_eq(eng_store_sum(s, ENG_RES_FINE, fb, fb, ENG_SCOPE_MAILBOX, 1, 2, out), MP_OK);
        ck_assert_uint_eq(out[ENG_SENT - 1], 2 + (uint64_t)round);
        ck_assert_int_eq(eng_store_sum(s, ENG_RES_FINE, fb, fb, ENG_SCOPE_DOMAIN, 1, 3, out), MP_OK);
        ck_assert_uint_eq(out[ENG_SENT - 1], 2 + (uint64_t)round);
        ck_assert_int_eq(eng_store_sum(s, ENG_RES_FINE, fb, fb, ENG_SCOPE_TENANT, 1, 0, out), MP_OK);
        ck_assert_uint_eq(out[ENG_SENT - 1], 2 + (uint64_t)round);
    }
}
END_TEST


/* ---- the flush hook ----------------------------------------------------------- */

/* What the hook saw, in order: 'b' begin, 'e' end, 'd' done(MP_OK),
 * 'f' done(failed). begin() adds one journal entry to the batch. */
struct hook_log {
    char ev[64];
    int n;
    int seq; /* journal entries begin() added */
};

static void hook_begin(void *arg, struct eng_store_batch *b)
{
    struct hook_log *h = arg;
    char k[16];
    snprintf(k, sizeof(k), "w%03d", ++h->seq % 1000);
    eng_store_batch_kv_put(b, ENG_KV_JOURNAL, k, 4, "x", 1);
    ck_assert_int_lt(h->n, 63);
    h->ev[h->n++] = 'b';
}

static void hook_end(void *arg)
{
    struct hook_log *h = arg;
    h->ev[h->n++] = 'e';
}

static void hook_done(void *arg, int rc)
{
    struct hook_log *h = arg;
    h->ev[h->n++] = rc == MP_OK ? 'd' : 'f';
}

static int kv_count(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    (*(int *)arg)++;
    return MP_OK;
}

static int journal_entries(void)
{
    int n = 0;
    ck_assert_int_eq(eng_store_kv_scan(s, ENG_KV_JOURNAL, NULL, 0, kv_count, &n), MP_OK);
    return n;
}

static void set_hook(struct hook_log *h)
{
    memset(h, 0, sizeof(*h));
    struct eng_flush_hook fh = {hook_begin, hook_end, hook_done, h};
    eng_table_set_flush_hook(t, &fh);
}

/* Flush, ring advance and eviction: each one bracket, and what begin()
 * added is in the store with the counters. */
START_TEST(flush_hook_brackets_every_write)
{
    eng_table_destroy(t);
    t = tk_table(4096, T0, s, HOUR);
    struct hook_log h;
    set_hook(&h);
    record_spread(t);
    ck_assert_int_eq(eng_table_flush(t, 0, NULL), MP_OK);
    ck_assert_str_eq(h.ev, "bed");
    ck_assert_int_eq(journal_entries(), 1);
    /* five minutes on: the fine ring advances, its leaving bucket is a flush */
    ck_assert_int_eq(tk_rec(t, "acme", "a@acme.io", "gmail.com", ENG_SENT, T0), MP_OK);
    eng_table_tick(t, T0 + ENG_FINE_MS);
    ck_assert_str_eq(h.ev, "bedbed");
    ck_assert_int_eq(journal_entries(), 2);
    uint64_t out[ENG_NTYPES];
    int64_t fb = T0 / ENG_FINE_MS;
    /* that flush wrote every dirty key, not only the leaving slot */
    ck_assert_int_eq(eng_store_sum(s, ENG_RES_FINE, fb, fb, ENG_SCOPE_TENANT, 1, 0, out), MP_OK);
    ck_assert_uint_eq(out[ENG_SENT - 1], 31);
    /* eviction of idle keys: one more bracket */
    ck_assert_int_eq(tk_rec(t, "acme", "a@acme.io", "gmail.com", ENG_SENT, T0 + ENG_FINE_MS),
                     MP_OK);
    ck_assert_uint_eq(eng_table_evict(t, T0 + 3 * HOUR), 8);
    ck_assert_str_eq(h.ev, "bedbedbed");
    ck_assert_int_eq(journal_entries(), 3);
    ck_assert_int_eq(eng_store_sum(s, ENG_RES_FINE, fb + 1, fb + 1, ENG_SCOPE_TENANT, 1, 0, out),
                     MP_OK);
    ck_assert_uint_eq(out[ENG_SENT - 1], 1);
    /* removed: no more calls */
    eng_table_set_flush_hook(t, NULL);
    ck_assert_int_eq(eng_table_flush(t, 0, NULL), MP_OK);
    ck_assert_int_eq(h.n, 9);
}
END_TEST

/* ---- the copy-on-write cut -------------------------------------------------------- */

/* The journal's protocol in small: a writer applies one "batch" (one event
 * for each of CUT_KEYS mailboxes, in one frame) under the shared lock;
 * begin() takes it exclusively and records W, the batches applied. The
 * flush reads the counters after end(), while writers go on: the store must
 * still hold exactly W batches' counts, on every key and every scope. */
#define CUT_KEYS 1500
#define CUT_WRITERS 2

struct cut {
    struct eng_table *t;
    pthread_rwlock_t lock;
    mp_atomic_u64 batches;
    mp_atomic_u32 stop, failed;
    uint64_t w; /* begin()'s W */
};

static void cut_begin(void *arg, struct eng_store_batch *b)
{
    struct cut *c = arg;
    pthread_rwlock_wrlock(&c->lock);
    c->w = mp_load_relaxed(&c->batches);
}

static void cut_end(void *arg) { pthread_rwlock_unlock(&((struct cut *)arg)->lock); }

static void cut_done(void *arg, int rc) { ck_assert_int_eq(rc, MP_OK); }

static void *cut_writer(void *arg)
{
    struct cut *c = arg;
    struct tk_writer tw;
    tk_writer_begin(&tw, c->t);
    char mb[32];
    while (!mp_load_acquire(&c->stop)) {
        pthread_rwlock_rdlock(&c->lock);
        for (int i = 0; i < CUT_KEYS; i++) {
            snprintf(mb, sizeof(mb), "m%d@a.io", i);
            struct eng_event ev = {"acme", 4, mb, strlen(mb), "gmail.com", 9, ENG_SENT, T0, NULL, 0};
            if (eng_frame_record(c->t, tw.f, &ev) != MP_OK) /* no ck_assert: one write(2) each */
                mp_store_relaxed(&c->failed, 1);
        }
        tk_writer_batch(&tw);
        mp_add_relaxed(&c->batches, 1);
        pthread_rwlock_unlock(&c->lock);
    }
    tk_writer_end(&tw);
    return NULL;
}

struct cut_ids {
    uint32_t tenant, domain, mb[CUT_KEYS];
};

static int cut_name(void *arg, uint32_t id, const char *name, size_t len)
{
    struct cut_ids *ids = arg;
    int m;
    if (len == 4 && memcmp(name, "acme", 4) == 0)
        ids->tenant = id;
    else if (len == 9 && memcmp(name, "gmail.com", 9) == 0)
        ids->domain = id;
    else if (sscanf(name, "m%d@", &m) == 1 && m >= 0 && m < CUT_KEYS)
        ids->mb[m] = id;
    return MP_OK;
}

static uint64_t cut_stored(int res, int64_t bucket, int scope, uint32_t tid, uint32_t nid)
{
    uint64_t out[ENG_NTYPES];
    if (eng_store_sum(s, res, bucket, bucket, scope, tid, nid, out) != MP_OK)
        return UINT64_MAX;
    return out[ENG_SENT - 1];
}

/* Every stored count is exactly c->w batches' (the mailboxes in the day
 * and the fine bucket; tenant and domain sum every mailbox). */
static void cut_check(const struct cut *c, struct cut_ids *ids)
{
    ck_assert_int_eq(eng_store_load_names(s, cut_name, ids), MP_OK);
    const int64_t fb = T0 / ENG_FINE_MS, day = T0 / DAY;
    ck_assert_uint_eq(cut_stored(ENG_RES_DAY, day, ENG_SCOPE_TENANT, ids->tenant, 0),
                      c->w * CUT_KEYS);
    ck_assert_uint_eq(cut_stored(ENG_RES_FINE, fb, ENG_SCOPE_DOMAIN, ids->tenant, ids->domain),
                      c->w * CUT_KEYS);
    int bad = -1; /* the first mailbox off the cut */
    for (int m = 0; m < CUT_KEYS && bad < 0; m++)
        if (cut_stored(ENG_RES_DAY, day, ENG_SCOPE_MAILBOX, ids->tenant, ids->mb[m]) != c->w ||
            cut_stored(ENG_RES_FINE, fb, ENG_SCOPE_MAILBOX, ids->tenant, ids->mb[m]) != c->w)
            bad = m;
    ck_assert_int_eq(bad, -1);
    ck_assert_uint_eq(mp_load_relaxed(&c->failed), 0);
}

START_TEST(flush_cut_exact_while_writers_run)
{
    eng_table_destroy(t);
    t = tk_table(4 * CUT_KEYS, T0, s, 1); /* evict after 1 ms of the test's clock */
    struct cut c = {.t = t};
    pthread_rwlockattr_t ra; /* writer-preferring, as the journal's: else begin() starves */
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&c.lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    struct eng_flush_hook fh = {cut_begin, cut_end, cut_done, &c};
    eng_table_set_flush_hook(t, &fh);
    pthread_t th[CUT_WRITERS];
    for (int i = 0; i < CUT_WRITERS; i++)
        pthread_create(&th[i], NULL, cut_writer, &c);
    struct cut_ids ids = {0};
    int64_t now = T0;
    uint64_t last = 0;
    /* flushes and evictions (each a cut) while batches keep coming */
    for (int i = 0; i < 24; i++) {
        eng_table_tick(t, ++now);
        if (i % 6 == 5)
            eng_table_evict(t, now);
        else
            ck_assert_int_eq(eng_table_flush(t, 0, NULL), MP_OK);
        cut_check(&c, &ids);
        ck_assert_uint_ge(c.w, last);
        last = c.w;
    }
    mp_store_release(&c.stop, 1);
    for (int i = 0; i < CUT_WRITERS; i++)
        pthread_join(th[i], NULL);
    ck_assert_uint_gt(last, 0); /* writers ran between the cuts */
    ck_assert_int_eq(eng_table_flush(t, 1, NULL), MP_OK);
    cut_check(&c, &ids);
    ck_assert_uint_eq(c.w, mp_load_relaxed(&c.batches));
    eng_table_set_flush_hook(t, NULL);
    pthread_rwlock_destroy(&c.lock);
}
END_TEST

/* ---- a full disk ------------------------------------------------------------------ */

static void mount_tmpfs(int mb)
{
    snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
    unit_tmpfs_mount(mnt, mb);
    mounted = 1;
}

/* The disk cases: the fixture's table and store go, and a tmpfs of mb MiB
 * is mounted at mnt for the case's own store. */
static void small_disk(int mb)
{
    eng_table_destroy(t);
    t = NULL;
    eng_store_close(s);
    s = NULL;
    mount_tmpfs(mb);
}

/* Records n events of `type` for tenant `tn` over `nmb` mailboxes and
 * `ndom` domains. */
static void record_many(const char *tn, int first, int n, int nmb, int ndom, int type, int64_t ts)
{
    for (int i = first; i < first + n; i++) {
        char mb[32], dom[32];
        snprintf(mb, sizeof(mb), "m%d@%s.io", i % nmb, tn);
        snprintf(dom, sizeof(dom), "d%d.example", i % ndom);
        ck_assert_int_eq(tk_rec(t, tn, mb, dom, type, ts), MP_OK);
    }
}

static void sum_child(void *arg, struct eng_key *k)
{
    uint64_t out[ENG_NTYPES];
    eng_key_sum_window(t, k, ENG_WIN_24H, out);
    *(uint64_t *)arg += out[ENG_SENT - 1];
}

/* tenant total == sum over its mailboxes == sum over its domains == want */
static void check_scopes(const char *tn, uint64_t want)
{
    struct eng_key *tk;
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_TENANT, tn, NULL, &tk), MP_OK);
    uint64_t mb = 0, dom = 0;
    eng_table_children(t, tk, ENG_SCOPE_MAILBOX, sum_child, &mb);
    eng_table_children(t, tk, ENG_SCOPE_DOMAIN, sum_child, &dom);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_TENANT, tn, NULL, ENG_WIN_24H, ENG_SENT), want);
    ck_assert_uint_eq(mb, want);
    ck_assert_uint_eq(dom, want);
}

struct name_find {
    const char *name;
    uint32_t id;
};

static int name_find_fn(void *arg, uint32_t id, const char *name, size_t len)
{
    struct name_find *nf = arg;
    if (len == strlen(nf->name) && memcmp(name, nf->name, len) == 0)
        nf->id = id;
    return MP_OK;
}

START_TEST(disk_full_flush_all_or_nothing)
{
    small_disk(8);
    s = unit_store_open(mnt);
    t = tk_table(4096, T0, s, 0);
    struct hook_log h;
    set_hook(&h);
    record_many("acme", 0, 600, 300, 40, ENG_SENT, T0);
    ck_assert_int_eq(eng_table_flush(t, 0, NULL), MP_OK);
    unit_disk_fill(mnt);
    /* more counts, new keys and names, a backfilled day: all held */
    record_many("acme", 600, 900, 450, 60, ENG_SENT, T0);
    record_many("beta", 0, 300, 300, 30, ENG_SENT, T0);
    int64_t d20 = (T0 - T0 % DAY) / DAY - 20;
    ck_assert_int_eq(tk_rec(t, "beta", "m1@beta.io", "d1.example", ENG_SENT, d20 * DAY), MP_OK);
    ck_assert_int_eq(eng_table_flush(t, 1, NULL), MP_ERR_IO);
    ck_assert_str_eq(h.ev, "bedbef");
    struct eng_store_health hs;
    eng_store_health(s, &hs);
    ck_assert_int_eq(hs.failed, 1);
    ck_assert_uint_ge(hs.write_failures, 1);
    /* refused now, fast, and the hook still brackets the attempt */
    ck_assert_int_eq(eng_table_flush(t, 0, NULL), MP_ERR_IO);
    ck_assert_str_eq(h.ev, "bedbefbef");
    eng_store_health(s, &hs);
    ck_assert_uint_ge(hs.refused, 1);
    ck_assert_int_eq(eng_store_recover(s), MP_ERR_IO); /* still full */
    /* reads go on, from the memory and from the store */
    uint64_t out[ENG_NTYPES];
    int64_t fb = T0 / ENG_FINE_MS;
    ck_assert_int_eq(eng_store_sum(s, ENG_RES_FINE, fb, fb, ENG_SCOPE_TENANT, 1, 0, out), MP_OK);
    ck_assert_uint_eq(out[ENG_SENT - 1], 600);
    check_scopes("acme", 1500);
    unit_disk_free(mnt);
    ck_assert_int_eq(eng_store_recover(s), MP_OK);
    eng_store_health(s, &hs);
    ck_assert_int_eq(hs.failed, 0);
    ck_assert_uint_eq(hs.recoveries, 1);
    ck_assert_int_eq(eng_table_flush(t, 0, NULL), MP_OK);
    ck_assert_str_eq(h.ev, "bedbefbefbed");
    /* two commits made it: the first flush's journal entry, and the last one's */
    ck_assert_int_eq(journal_entries(), 2);
    tk_restart(mnt, &s, &t, 4096, T0 + 60 * 1000, 0);
    check_scopes("acme", 1500);
    check_scopes("beta", 300);
    struct name_find nf = {"beta", 0};
    ck_assert_int_eq(eng_store_load_names(s, name_find_fn, &nf), MP_OK);
    ck_assert_uint_ne(nf.id, 0);
    ck_assert_int_eq(eng_store_sum(s, ENG_RES_DAY, d20, d20, ENG_SCOPE_TENANT, nf.id, 0, out),
                     MP_OK);
    ck_assert_uint_eq(out[ENG_SENT - 1], 1); /* the backfill, written once */
}
END_TEST

/* A write error keeps the store failed until a reopen; a batch committed
 * while failed writes nothing, and a recovery keeps what was committed. */
START_TEST(store_refuses_until_recovered)
{
    small_disk(4);
    s = unit_store_open(mnt);
    struct eng_store_batch *b = eng_store_batch_new(s);
    eng_store_batch_kv_put(b, ENG_KV_PRODUCERS, "p1", 2, "1", 1);
    ck_assert_int_eq(eng_store_commit(s, b, 1), MP_OK);
    unit_disk_fill(mnt);
    static char big[256 * 1024];
    memset(big, 'v', sizeof(big));
    eng_store_batch_kv_put(b, ENG_KV_PRODUCERS, "p2", 2, big, sizeof(big));
    ck_assert_int_eq(eng_store_commit(s, b, 1), MP_ERR_IO);
    for (int i = 0; i < 3; i++) {
        eng_store_batch_kv_put(b, ENG_KV_PRODUCERS, "p3", 2, "3", 1);
        ck_assert_int_eq(eng_store_commit(s, b, i & 1), MP_ERR_IO);
    }
    int n = 0;
    ck_assert_int_eq(eng_store_kv_scan(s, ENG_KV_PRODUCERS, NULL, 0, kv_count, &n), MP_OK);
    ck_assert_int_eq(n, 1);
    unit_disk_free(mnt);
    ck_assert_int_eq(eng_store_recover(s), MP_OK);
    eng_store_batch_kv_put(b, ENG_KV_PRODUCERS, "p4", 2, "4", 1);
    ck_assert_int_eq(eng_store_commit(s, b, 1), MP_OK);
    eng_store_batch_free(b);
    eng_store_close(s);
    s = unit_store_open(mnt);
    n = 0;
    ck_assert_int_eq(eng_store_kv_scan(s, ENG_KV_PRODUCERS, NULL, 0, kv_count, &n), MP_OK);
    ck_assert_int_eq(n, 2); /* p1, p4 */
    /* and a range delete of the journal family commits like the rest */
    b = eng_store_batch_new(s);
    eng_store_batch_kv_put(b, ENG_KV_JOURNAL, "j1", 2, "a", 1);
    eng_store_batch_kv_put(b, ENG_KV_JOURNAL, "j2", 2, "b", 1);
    eng_store_batch_kv_put(b, ENG_KV_JOURNAL, "j3", 2, "c", 1);
    ck_assert_int_eq(eng_store_commit(s, b, 0), MP_OK);
    eng_store_batch_kv_del_range(b, ENG_KV_JOURNAL, "j1", 2, "j3", 2);
    ck_assert_int_eq(eng_store_commit(s, b, 0), MP_OK);
    eng_store_batch_free(b);
    n = 0;
    ck_assert_int_eq(eng_store_kv_scan(s, ENG_KV_JOURNAL, NULL, 0, kv_count, &n), MP_OK);
    ck_assert_int_eq(n, 1); /* j3: hi is exclusive */
}
END_TEST

/* A daily bucket that leaves the ring while the disk is full is held in
 * memory and written once the store recovers. */
START_TEST(leaving_day_held_while_full)
{
    small_disk(8);
    s = unit_store_open(mnt);
    t = tk_table(4096, T0, s, 0);
    int64_t d0 = T0 / DAY;
    record_many("acme", 0, 200, 100, 10, ENG_DELIVERED, T0);
    ck_assert_int_eq(eng_table_flush(t, 0, NULL), MP_OK);
    record_many("acme", 200, 300, 100, 10, ENG_DELIVERED, T0);
    unit_disk_fill(mnt);
    ck_assert_int_eq(eng_table_flush(t, 0, NULL), MP_ERR_IO); /* the write fails */
    for (int i = 1; i <= 15; i++)                          /* refused: the day leaves */
        eng_table_tick(t, T0 + i * DAY);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_TENANT, "acme", NULL, ENG_WIN_PREV_7D, ENG_DELIVERED),
                      0);
    unit_disk_free(mnt);
    ck_assert_int_eq(eng_store_recover(s), MP_OK);
    ck_assert_int_eq(eng_table_flush(t, 1, NULL), MP_OK);
    uint64_t out[ENG_NTYPES];
    ck_assert_int_eq(eng_store_sum(s, ENG_RES_DAY, d0, d0, ENG_SCOPE_TENANT, 1, 0, out), MP_OK);
    ck_assert_uint_eq(out[ENG_DELIVERED - 1], 500);
}
END_TEST

struct reader {
    mp_atomic_u32 stop; /* release by the case, acquire by the thread */
    uint64_t reads, bad;
};

/* Reads one entry and scans a family, over and over, through reopens. */
static void *read_loop(void *arg)
{
    struct reader *r = arg;
    while (!mp_load_acquire(&r->stop)) {
        int n = 0;
        uint64_t out[ENG_NTYPES];
        if (eng_store_kv_scan(s, ENG_KV_PRODUCERS, NULL, 0, kv_count, &n) != MP_OK || n < 1)
            r->bad++;
        if (eng_store_sum(s, ENG_RES_DAY, 7, 7, ENG_SCOPE_TENANT, 1, 0, out) != MP_OK ||
            out[ENG_SENT - 1] != 42)
            r->bad++;
        r->reads++;
    }
    return NULL;
}

/* Readers go on while failed writes and recoveries reopen the handle. */
START_TEST(reads_during_reopen)
{
    small_disk(4);
    s = unit_store_open(mnt);
    struct eng_store_batch *b = eng_store_batch_new(s);
    uint64_t c[ENG_NTYPES] = {0};
    c[ENG_SENT - 1] = 42;
    eng_store_batch_put(b, ENG_RES_DAY, 7, ENG_SCOPE_TENANT, 1, 0, c);
    eng_store_batch_kv_put(b, ENG_KV_PRODUCERS, "p1", 2, "1", 1);
    ck_assert_int_eq(eng_store_commit(s, b, 1), MP_OK);
    struct reader r = {0};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, read_loop, &r), 0);
    static char big[256 * 1024];
    for (int round = 0; round < 3; round++) {
        unit_disk_fill(mnt);
        eng_store_batch_kv_put(b, ENG_KV_DEAD, "x", 1, big, sizeof(big));
        ck_assert_int_eq(eng_store_commit(s, b, 1), MP_ERR_IO);
        unit_disk_free(mnt);
        ck_assert_int_eq(eng_store_recover(s), MP_OK);
    }
    mp_store_release(&r.stop, 1);
    pthread_join(th, NULL);
    eng_store_batch_free(b);
    struct eng_store_health h;
    eng_store_health(s, &h);
    ck_assert_uint_eq(h.recoveries, 3);
    ck_assert_uint_gt(r.reads, 0);
    ck_assert_uint_eq(r.bad, 0);
}
END_TEST

/* A start on a full disk fails with an error that names the store. */
START_TEST(open_on_full_disk_fails_cleanly)
{
    small_disk(4);
    unit_disk_fill(mnt);
    char path[UNIT_PATH_MAX + 16], err[512] = "";
    snprintf(path, sizeof(path), "%s/db", mnt);
    struct eng_store *x = NULL;
    ck_assert_int_eq(eng_store_open(path, &x, err, sizeof(err)), MP_ERR_IO);
    ck_assert_ptr_null(x);
    ck_assert_msg(strstr(err, path) && strstr(err, "No space left on device"), "err: %s", err);
}
END_TEST

/* ---- 64-bit counters -------------------------------------------------------------- */

START_TEST(counts_above_2_32_load_exactly)
{
    const uint64_t big = 5000000000ULL; /* > 2^32 */
    struct eng_store_batch *b = eng_store_batch_new(s);
    eng_store_batch_name(b, 1, "acme", 4);
    uint64_t c[ENG_NTYPES] = {0};
    c[ENG_SENT - 1] = big;
    eng_store_batch_put(b, ENG_RES_FINE, T0 / ENG_FINE_MS, ENG_SCOPE_TENANT, 1, 0, c);
    eng_store_batch_put(b, ENG_RES_HOUR, T0 / HOUR, ENG_SCOPE_TENANT, 1, 0, c);
    eng_store_batch_put(b, ENG_RES_DAY, T0 / DAY, ENG_SCOPE_TENANT, 1, 0, c);
    ck_assert_int_eq(eng_store_commit(s, b, 1), MP_OK);
    eng_store_batch_free(b);
    tk_restart(dir, &s, &t, 4096, T0, 0);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_TENANT, "acme", NULL, ENG_WIN_1H, ENG_SENT), big);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_TENANT, "acme", NULL, ENG_WIN_24H, ENG_SENT), big);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_TENANT, "acme", NULL, ENG_WIN_7D, ENG_SENT), big);
    /* counting on from there, and back through the store */
    ck_assert_int_eq(tk_rec(t, "acme", "a@acme.io", "gmail.com", ENG_SENT, T0), MP_OK);
    ck_assert_int_eq(eng_table_flush(t, 1, NULL), MP_OK);
    tk_restart(dir, &s, &t, 4096, T0, 0);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_TENANT, "acme", NULL, ENG_WIN_1H, ENG_SENT), big + 1);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_TENANT, "acme", NULL, ENG_WIN_7D, ENG_SENT), big + 1);
}
END_TEST

CHECK_SUITE("eng_store", 120, setup, teardown, encoding, kv_families_persist, write_figures_count,
            merge_adds, flush_close_reopen_equal, unflushed_is_lost, backfill_and_retention,
            leaving_bucket_is_written, refuses_other_schema_and_bad_dir, flush_during_writes_exact,
            idle_keys_leave_and_come_back, evict_during_writes_exact, restart_new_seed_same_ids,
            flush_hook_brackets_every_write, disk_full_flush_all_or_nothing,
            store_refuses_until_recovered, open_on_full_disk_fails_cleanly,
            counts_above_2_32_load_exactly, reads_during_reopen, leaving_day_held_while_full,
            flush_cut_exact_while_writers_run)

