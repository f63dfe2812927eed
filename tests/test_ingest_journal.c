/* test_ingest_journal.c — ingest/ingest_journal.c and ingest_producers.c
 * against a real RocksDB store and a real key table.
 *
 *   producers_table: last/set (only raises), the part function (stable, in
 *     range, spreads), delete, encode/decode, the bound (MP_ERR_FULL).
 *   producers_cut: a cut puts what changed since the last committed cut,
 *     again after a failed one, and drops ids idle past the TTL.
 *   journal_replay_and_watermark: committed groups come back in id order
 *     with their receive times after a reopen, with the producer sequences;
 *     a counter flush (through the hook) writes the watermark and deletes
 *     what it covers, so the next open replays nothing; producer changes and
 *     expiry reach the store with the flush.
 *   journal_own_store: the daemon's layout, the entries in a store of their
 *     own: a journal left in the counters' store by an older build moves
 *     there at open (nothing of it stays behind but the watermark) and
 *     replays; a flush keeps W with the counters and then deletes the
 *     covered entries from the journal's store; the producer sequences come
 *     back from the replay and, once flushed, from the counters' store.
 *   journal_tickets: ids taken and written outside the lock (the workers'
 *     way): a flush while none of a ticket's batches is applied, then while
 *     one of two is, keeps exactly the unapplied entries (W covers the
 *     rest) and a crash then replays exactly those; once released and
 *     flushed, nothing replays; tickets run out at INGEST_JOURNAL_TICKETS.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "eng_store.h"
#include "eng_table.h"
#include "ingest_journal.h"
#include "ingest_producers.h"
#include "mailpulse.pb-c.h"
#include "unit_util.h"

static char dir[UNIT_PATH_MAX];

static void setup(void) { unit_tmpdir("ingest_journal", dir); }
static void teardown(void) { unit_tmpdir_remove(dir); }

START_TEST(producers_table)
{
    struct ingest_producers *p;
    ck_assert_int_eq(ingest_producers_create(&p), MP_OK);
    ck_assert_uint_eq(ingest_producers_last(p, "a", 1), 0);
    ck_assert_int_eq(ingest_producers_set(p, "a", 1, 5, 100), MP_OK);
    ck_assert_int_eq(ingest_producers_set(p, "a", 1, 3, 200), MP_OK); /* never lowers */
    ck_assert_uint_eq(ingest_producers_last(p, "a", 1), 5);
    ck_assert_uint_eq(ingest_producers_last(p, "ab", 2), 0);
    ingest_producers_del(p, "a", 1);
    ck_assert_uint_eq(ingest_producers_last(p, "a", 1), 0);
    ck_assert_uint_eq(ingest_producers_count(p), 0);
    int seen[4] = {0};
    char id[32];
    for (int i = 0; i < INGEST_PRODUCERS_MAX; i++) {
        int n = snprintf(id, sizeof(id), "producer-%d", i);
        int part = ingest_producers_part(id, (size_t)n, 4);
        ck_assert(part >= 0 && part < 4);
        ck_assert_int_eq(part, ingest_producers_part(id, (size_t)n, 4));
        seen[part]++;
        ck_assert_int_eq(ingest_producers_set(p, id, (size_t)n, (uint64_t)i + 1, 1), MP_OK);
    }
    for (int k = 0; k < 4; k++)
        ck_assert_int_gt(seen[k], INGEST_PRODUCERS_MAX / 8);
    ck_assert_int_eq(ingest_producers_part("x", 1, 1), 0);
    ck_assert_int_eq(ingest_producers_set(p, "one-more", 8, 1, 1), MP_ERR_FULL);
    ck_assert_int_eq(ingest_producers_set(p, "producer-7", 10, 99, 1), MP_OK); /* known: fine */
    ck_assert_uint_eq(ingest_producers_last(p, "producer-7", 10), 99);
    char v[INGEST_PRODUCER_VALUE_LEN];
    uint64_t seq;
    int64_t ms;
    ingest_producers_encode(0x0102030405060708ULL, 1764630000123LL, v);
    ck_assert_int_eq(ingest_producers_decode(v, sizeof(v), &seq, &ms), MP_OK);
    ck_assert_uint_eq(seq, 0x0102030405060708ULL);
    ck_assert_int_eq(ms, 1764630000123LL);
    ck_assert_int_eq(ingest_producers_decode(v, 15, &seq, &ms), MP_ERR_PARSE);
    ingest_producers_destroy(p);
}
END_TEST

struct kv_seen {
    size_t n;
    char keys[8][32];
    uint64_t seq[8];
};

static int kv_collect(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    struct kv_seen *s = arg;
    int64_t ms;
    ck_assert_uint_lt(s->n, 8);
    snprintf(s->keys[s->n], sizeof(s->keys[0]), "%.*s", (int)kl, k);
    ck_assert_int_eq(ingest_producers_decode(v, vl, &s->seq[s->n], &ms), MP_OK);
    s->n++;
    return MP_OK;
}

static void scan_producers(struct eng_store *st, struct kv_seen *s)
{
    memset(s, 0, sizeof(*s));
    ck_assert_int_eq(eng_store_kv_scan(st, ENG_KV_PRODUCERS, NULL, 0, kv_collect, s), MP_OK);
}

START_TEST(producers_cut)
{
    struct eng_store *st = unit_store_open(dir);
    struct ingest_producers *p;
    ck_assert_int_eq(ingest_producers_create(&p), MP_OK);
    const int64_t now = 1764630000000LL, ttl = 60000;
    ingest_producers_set(p, "old", 3, 4, now - 2 * ttl);
    ingest_producers_set(p, "new", 3, 7, now);
    ingest_producers_mark_durable(p); /* as after a load */
    ingest_producers_set(p, "new", 3, 8, now);
    struct eng_store_batch *b = eng_store_batch_new(st);
    ingest_producers_cut(p, b, now, ttl);
    ck_assert_uint_eq(ingest_producers_last(p, "old", 3), 0); /* expired */
    ck_assert_uint_eq(ingest_producers_count(p), 1);
    ck_assert_uint_eq(eng_store_batch_count(b), 2); /* put "new", delete "old" */
    ck_assert_int_eq(eng_store_commit(st, b, 0), MP_OK);
    struct kv_seen s;
    scan_producers(st, &s);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_str_eq(s.keys[0], "new");
    ck_assert_uint_eq(s.seq[0], 8);
    /* the cut failed: the next one puts the entry again */
    ingest_producers_cut_done(p, 0);
    ingest_producers_cut(p, b, now, ttl);
    ck_assert_uint_eq(eng_store_batch_count(b), 1);
    ck_assert_int_eq(eng_store_commit(st, b, 0), MP_OK);
    ingest_producers_cut_done(p, 1);
    /* committed: nothing changed since, nothing to put */
    ingest_producers_cut(p, b, now, ttl);
    ck_assert_uint_eq(eng_store_batch_count(b), 0);
    eng_store_batch_free(b);
    ingest_producers_destroy(p);
    eng_store_close(st);
}
END_TEST

static void *pack(const char *tenant, const char *pid, uint64_t seq, size_t *len)
{
    Mailpulse__V1__Event e = MAILPULSE__V1__EVENT__INIT, *ep = &e;
    e.tenant = (char *)tenant;
    e.mailbox = (char *)"a@b.example";
    e.recipient_domain = (char *)"gmail.com";
    e.type = MAILPULSE__V1__EVENT_TYPE__EVENT_TYPE_SENT;
    e.time_ms = mp_now_ms();
    Mailpulse__V1__EventBatch b = MAILPULSE__V1__EVENT_BATCH__INIT;
    b.n_events = 1;
    b.events = &ep;
    b.producer_id = (char *)pid;
    b.sequence = seq;
    *len = mailpulse__v1__event_batch__get_packed_size(&b);
    void *buf = malloc(*len);
    ck_assert_ptr_nonnull(buf);
    mailpulse__v1__event_batch__pack(&b, buf);
    return buf;
}

struct replayed {
    size_t n;
    int64_t recv[8];
    uint32_t client[8];
    size_t len[8];
};

static int on_replay(void *arg, int64_t recv_ms, uint32_t client, const void *frame, size_t len)
{
    struct replayed *r = arg;
    ck_assert_uint_lt(r->n, 8);
    ck_assert_ptr_nonnull(frame);
    r->recv[r->n] = recv_ms;
    r->client[r->n] = client;
    r->len[r->n++] = len;
    return MP_OK;
}

struct world {
    struct eng_store *st, *js; /* js: the journal's own store, or NULL */
    struct eng_table *t;
    struct ingest_journal *j;
};

/* own: the entries in a store of their own (dir/journal), as the daemon. */
static void world_open_as(struct world *w, int own)
{
    w->st = unit_store_open(dir);
    w->js = NULL;
    if (own) {
        char path[UNIT_PATH_MAX + 16], err[256] = "";
        snprintf(path, sizeof(path), "%s/journal", dir);
        ck_assert_msg(eng_store_open(path, &w->js, err, sizeof(err)) == MP_OK, "%s", err);
    }
    struct eng_table_opts to = {.max_keys = 1024, .retention_ms = 35 * 86400000LL, .store = w->st};
    ck_assert_int_eq(eng_table_create(&to, mp_now_ms(), &w->t), MP_OK);
    struct ingest_journal_opts jo = {.table = w->t, .store = w->st, .journal_store = w->js,
                                     .parts = 2, .producer_ttl_ms = 3600000};
    char err[256] = "";
    ck_assert_msg(ingest_journal_open(&jo, &w->j, err, sizeof(err)) == MP_OK, "%s", err);
}

static void world_open(struct world *w) { world_open_as(w, 0); }

static void world_close(struct world *w)
{
    ingest_journal_close(w->j);
    eng_table_destroy(w->t);
    eng_store_close(w->st);
    eng_store_close(w->js);
}

static int count_one(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    MP_UNUSED(k);
    MP_UNUSED(kl);
    MP_UNUSED(v);
    MP_UNUSED(vl);
    (*(size_t *)arg)++;
    return MP_OK;
}

/* Entries of the journal family under `prefix` in st. */
static size_t journal_rows(struct eng_store *st, const char *prefix)
{
    size_t n = 0;
    ck_assert_int_eq(eng_store_kv_scan(st, ENG_KV_JOURNAL, prefix, strlen(prefix), count_one, &n),
                     MP_OK);
    return n;
}

static uint64_t last_of(struct world *w, const char *pid)
{
    int part = ingest_producers_part(pid, strlen(pid), 2);
    return ingest_producers_last(ingest_journal_producers(w->j, part), pid, strlen(pid));
}

START_TEST(journal_replay_and_watermark)
{
    struct world w;
    world_open(&w);
    size_t l1, l2, l3;
    void *f1 = pack("acme", "p1", 1, &l1), *f2 = pack("acme", "p1", 2, &l2),
         *f3 = pack("beta", "p2", 9, &l3);
    const int64_t t0 = mp_now_ms(); /* receive times: recent, or the TTL expires the ids */
    struct ingest_journal_rec g1[] = {{f1, l1, t0, "p1", 2, 1, INGEST_CURVE_NO_CLIENT},
                                      {f2, l2, t0 + 1, "p1", 2, 2, INGEST_CURVE_NO_CLIENT}};
    struct ingest_journal_rec g2[] = {{f3, l3, t0 + 2, "p2", 2, 9, 7}}; /* Curve client 7 */
    ingest_journal_lock(w.j);
    ck_assert_int_eq(ingest_journal_commit(w.j, g1, 2), MP_OK);
    ck_assert_int_eq(ingest_journal_commit(w.j, g2, 1), MP_OK);
    ingest_journal_unlock(w.j);
    struct ingest_journal_figures fig;
    ingest_journal_figures(w.j, &fig);
    ck_assert_uint_eq(fig.commits, 2);
    ck_assert_uint_eq(fig.batches, 3);
    ck_assert_uint_eq(fig.group_max, 2);
    ck_assert_uint_eq(fig.watermark, 0);
    world_close(&w); /* a crash: no flush since the commits */

    world_open(&w);
    ck_assert_uint_eq(last_of(&w, "p1"), 2);
    ck_assert_uint_eq(last_of(&w, "p2"), 9);
    struct replayed r = {0};
    ck_assert_int_eq(ingest_journal_replay(w.j, on_replay, &r), MP_OK);
    ck_assert_uint_eq(r.n, 3);
    ck_assert_int_eq(r.recv[0], t0);
    ck_assert_int_eq(r.recv[1], t0 + 1);
    ck_assert_int_eq(r.recv[2], t0 + 2);
    ck_assert_uint_eq(r.len[0], l1);
    ck_assert_uint_eq(r.len[2], l3);
    ck_assert_uint_eq(r.client[0], INGEST_CURVE_NO_CLIENT);
    ck_assert_uint_eq(r.client[2], 7); /* the client comes back with its frame */
    /* a PUSH batch's sequence, persisted by the flush; an idle id expires */
    struct ingest_producers *pp = ingest_journal_producers(w.j, ingest_producers_part("p3", 2, 2));
    ingest_journal_lock(w.j);
    ck_assert_int_eq(ingest_producers_set(pp, "p3", 2, 42, mp_now_ms()), MP_OK);
    ingest_journal_unlock(w.j);
    ck_assert_int_eq(eng_table_flush(w.t, 1, NULL), MP_OK); /* covers ids 1..3 */
    ingest_journal_figures(w.j, &fig);
    ck_assert_uint_eq(fig.watermark, 3);
    world_close(&w);

    world_open(&w);
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(ingest_journal_replay(w.j, on_replay, &r), MP_OK);
    ck_assert_uint_eq(r.n, 0);
    ck_assert_uint_eq(last_of(&w, "p3"), 42);
    ck_assert_uint_eq(last_of(&w, "p1"), 2);
    /* new ids continue after the watermark: a commit now replays alone */
    ingest_journal_lock(w.j);
    ck_assert_int_eq(ingest_journal_commit(w.j, g2, 1), MP_OK);
    ingest_journal_unlock(w.j);
    world_close(&w);
    world_open(&w);
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(ingest_journal_replay(w.j, on_replay, &r), MP_OK);
    ck_assert_uint_eq(r.n, 1);
    ck_assert_int_eq(r.recv[0], t0 + 2);
    ingest_journal_figures(w.j, &fig);
    ck_assert_uint_eq(fig.replayed, 1);
    world_close(&w);
    free(f1);
    free(f2);
    free(f3);
}
END_TEST

/* Replays w's journal into r (cleared first); the number replayed. */
static size_t replay_into(struct world *w, struct replayed *r)
{
    memset(r, 0, sizeof(*r));
    ck_assert_int_eq(ingest_journal_replay(w->j, on_replay, r), MP_OK);
    return r->n;
}

/* A crash and a start in the daemon's layout: the number replayed. */
static size_t restart_replay(struct world *w, struct replayed *r)
{
    world_close(w);
    world_open_as(w, 1);
    return replay_into(w, r);
}

static void commit_group(struct world *w, const struct ingest_journal_rec *g, size_t n)
{
    ingest_journal_lock(w->j);
    ck_assert_int_eq(ingest_journal_commit(w->j, g, n), MP_OK);
    ingest_journal_unlock(w->j);
}

START_TEST(journal_own_store)
{
    struct world w;
    world_open(&w); /* an older build: the entries beside the counters */
    size_t l1, l2, l3;
    void *f1 = pack("acme", "p1", 1, &l1), *f2 = pack("acme", "p1", 2, &l2),
         *f3 = pack("beta", "p2", 9, &l3);
    const int64_t t0 = mp_now_ms();
    struct ingest_journal_rec g1[] = {{f1, l1, t0, "p1", 2, 1, INGEST_CURVE_NO_CLIENT},
                                      {f2, l2, t0 + 1, "p1", 2, 2, INGEST_CURVE_NO_CLIENT}};
    struct ingest_journal_rec g2[] = {{f3, l3, t0 + 2, "p2", 2, 9, 7}};
    commit_group(&w, g1, 2);
    world_close(&w); /* a crash, then the upgrade */

    world_open_as(&w, 1);
    ck_assert_ptr_eq(ingest_journal_store(w.j), w.js);
    ck_assert_uint_eq(journal_rows(w.st, "j"), 0); /* moved ... */
    ck_assert_uint_eq(journal_rows(w.js, "j"), 2); /* ... here */
    struct replayed r;
    ck_assert_uint_eq(replay_into(&w, &r), 2);
    ck_assert_int_eq(r.recv[0], t0);
    ck_assert_int_eq(r.recv[1], t0 + 1);
    ck_assert_uint_eq(last_of(&w, "p1"), 2); /* raised by the replay */
    commit_group(&w, g2, 1); /* id 3 */
    ck_assert_uint_eq(journal_rows(w.js, "j"), 3);
    ck_assert_uint_eq(journal_rows(w.st, "j"), 0); /* a commit writes the journal's store only */
    world_close(&w); /* a crash again: id 3 must replay from the journal's store */

    world_open_as(&w, 1);
    ck_assert_uint_eq(replay_into(&w, &r), 3);
    ck_assert_uint_eq(r.client[2], 7);
    ck_assert_uint_eq(last_of(&w, "p2"), 9);
    ck_assert_int_eq(eng_table_flush(w.t, 0, NULL), MP_OK); /* covers 1..3 */
    struct ingest_journal_figures fig;
    ingest_journal_figures(w.j, &fig);
    ck_assert_uint_eq(fig.watermark, 3);
    ck_assert_uint_eq(journal_rows(w.js, "j"), 0); /* collected after the flush */
    ck_assert_uint_eq(journal_rows(w.st, "w"), 1); /* W stays with the counters */
    ck_assert_uint_eq(journal_rows(w.js, "w"), 0);
    world_close(&w);

    world_open_as(&w, 1);
    ck_assert_uint_eq(replay_into(&w, &r), 0);
    /* the flush's producer table, from the counters' store */
    ck_assert_uint_eq(last_of(&w, "p1"), 2);
    ck_assert_uint_eq(last_of(&w, "p2"), 9);
    commit_group(&w, g2, 1); /* id 4: after W */
    ck_assert_uint_eq(restart_replay(&w, &r), 1);
    world_close(&w);
    free(f1);
    free(f2);
    free(f3);
}
END_TEST

START_TEST(journal_tickets)
{
    struct world w;
    world_open_as(&w, 1);
    size_t l1, l2;
    void *f1 = pack("acme", "p1", 1, &l1), *f2 = pack("acme", "p1", 2, &l2);
    const int64_t t0 = mp_now_ms();
    struct ingest_journal_rec g[] = {{f1, l1, t0, "p1", 2, 1, INGEST_CURVE_NO_CLIENT},
                                     {f2, l2, t0 + 1, "p1", 2, 2, INGEST_CURVE_NO_CLIENT}};
    int tk = -1;
    ingest_journal_lock(w.j);
    ck_assert_int_eq(ingest_journal_take(w.j, 2, &tk), MP_OK); /* ids 1, 2 */
    ingest_journal_unlock(w.j);
    ck_assert_int_ge(tk, 0);
    ck_assert_int_eq(ingest_journal_write(w.j, tk, g, 2), MP_OK);
    ck_assert_int_eq(eng_table_flush(w.t, 0, NULL), MP_OK); /* W = 2, neither applied */
    struct ingest_journal_figures fig;
    ingest_journal_figures(w.j, &fig);
    ck_assert_uint_eq(fig.watermark, 2);
    ck_assert_uint_eq(journal_rows(w.js, "j"), 2); /* both kept: uncovered */
    ingest_journal_lock(w.j);
    ingest_journal_applied(w.j, tk); /* id 1 applied (its effects: none here) */
    ingest_journal_unlock(w.j);
    ck_assert_int_eq(eng_table_flush(w.t, 0, NULL), MP_OK);
    ck_assert_uint_eq(journal_rows(w.js, "j"), 1); /* id 1 collected, id 2 kept */
    world_close(&w); /* a crash before id 2 was applied */

    world_open_as(&w, 1);
    struct replayed r;
    ck_assert_uint_eq(replay_into(&w, &r), 1); /* id 2 alone, though W = 2 */
    ck_assert_int_eq(r.recv[0], t0 + 1);
    ck_assert_uint_eq(r.len[0], l2);
    ingest_journal_lock(w.j);
    ck_assert_int_eq(ingest_journal_take(w.j, 1, &tk), MP_OK); /* id 3: ids go on after W */
    ingest_journal_unlock(w.j);
    ck_assert_int_eq(ingest_journal_write(w.j, tk, g, 1), MP_OK);
    ingest_journal_lock(w.j);
    ingest_journal_applied(w.j, tk);
    ingest_journal_release(w.j, tk);
    ingest_journal_unlock(w.j);
    ck_assert_int_eq(eng_table_flush(w.t, 0, NULL), MP_OK); /* covers 1..3: no ranges */
    ck_assert_uint_eq(journal_rows(w.js, "j"), 0);
    /* more writers than tickets: the last is refused, a release frees one */
    int all[INGEST_JOURNAL_TICKETS], extra;
    ingest_journal_lock(w.j);
    for (int i = 0; i < INGEST_JOURNAL_TICKETS; i++)
        ck_assert_int_eq(ingest_journal_take(w.j, 1, &all[i]), MP_OK);
    ck_assert_int_eq(ingest_journal_take(w.j, 1, &extra), MP_ERR_FULL);
    for (int i = 0; i < INGEST_JOURNAL_TICKETS; i++)
        ingest_journal_release(w.j, all[i]); /* written nothing: failed commits */
    ck_assert_int_eq(ingest_journal_take(w.j, 1, &extra), MP_OK);
    ingest_journal_unlock(w.j);
    ck_assert_uint_eq(restart_replay(&w, &r), 0);
    world_close(&w);
    free(f1);
    free(f2);
}
END_TEST

CHECK_SUITE("ingest_journal", 60, setup, teardown, producers_table, producers_cut,
            journal_replay_and_watermark, journal_own_store, journal_tickets)
