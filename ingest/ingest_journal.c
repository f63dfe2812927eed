/* ingest_journal.c — journal of acked batches and the flush hook (see
 * ingest_journal.h). */
#include "ingest_journal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest_decode.h"
#include "mp_atomic.h"
#include "mp_log.h"

struct ingest_journal {
    struct eng_table *t;
    struct eng_store *s;  /* the counters' store: W and the producer tables */
    struct eng_store *js; /* the entries' store (s, or a store of their own) */
    int parts;
    int64_t ttl_ms;
    struct ingest_producers **prod;
    /* Writers hold it shared from commit through apply; the flush hook
     * takes it exclusively (writer-preferring, so a stream of commits never
     * holds a flush back). */
    pthread_rwlock_t lock;
    mp_atomic_u64 next_id; /* ids are allocated under the shared lock */
    uint64_t cut_w;        /* flush thread: what begin() put */
    uint64_t cut_keep;     /* flush thread: the lowest id the collection keeps */
    /* Tickets (ingest_journal_take): ids taken and not yet all applied.
     * busy is claimed by CAS; lo, n, applied are written by the owner under
     * the shared lock and read by the cut under the exclusive one. */
    struct {
        mp_atomic_u32 busy;
        uint64_t lo, n, applied;
    } tk[INGEST_JOURNAL_TICKETS];
    /* The cut's uncovered ranges at open (ids <= W still to replay). */
    uint64_t (*open_rng)[2];
    size_t open_nrng;
    mp_atomic_u64 watermark, commits, failures, batches, group_max, replayed;
};

void ingest_journal_key(uint64_t id, char k[9])
{
    k[0] = 'j';
    for (int i = 0; i < 8; i++)
        k[1 + i] = (char)(id >> (56 - 8 * i));
}

/* Big-endian n-byte integers (n <= 8), as the journal's keys and values
 * store them, so they sort and read alike on every host. */
static uint64_t journal__get_be(const char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | (unsigned char)p[i];
    return v;
}

static void journal__put_be(char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (char)(v >> (8 * (n - 1 - i)));
}

#define JOURNAL_HEAD 12 /* receive time (8) + Curve client (4) */

/* ---- the flush hook --------------------------------------------------------- */

/* Deletes the entries below id `keep` (the covered ones, W's exceptions kept). */
static void journal__del_below(struct eng_store_batch *b, uint64_t keep)
{
    char lo[9], hi[9];
    ingest_journal_key(0, lo);
    ingest_journal_key(keep, hi);
    eng_store_batch_kv_del_range(b, ENG_KV_JOURNAL, lo, sizeof(lo), hi, sizeof(hi));
}

static void journal__begin(void *arg, struct eng_store_batch *b)
{
    struct ingest_journal *j = arg;
    pthread_rwlock_wrlock(&j->lock);
    /* Every id allocated so far is committed and applied (or its commit
     * failed and wrote nothing): the counters read next cover exactly them. */
    uint64_t w = mp_load_relaxed(&j->next_id) - 1, keep = w + 1;
    /* ... except the ids of tickets not yet applied (taken, maybe being
     * written or applied right now): the value lists them as ranges, a
     * replay applies them, the collection keeps them. */
    char wv[8 + 16 * INGEST_JOURNAL_TICKETS];
    size_t vl = 8;
    journal__put_be(wv, w, 8);
    for (int i = 0; i < INGEST_JOURNAL_TICKETS; i++) {
        if (!mp_load_relaxed(&j->tk[i].busy) || j->tk[i].applied >= j->tk[i].n)
            continue;
        uint64_t a = j->tk[i].lo + j->tk[i].applied, z = j->tk[i].lo + j->tk[i].n;
        journal__put_be(wv + vl, a, 8);
        journal__put_be(wv + vl + 8, z, 8);
        vl += 16;
        if (a < keep)
            keep = a;
    }
    eng_store_batch_kv_put(b, ENG_KV_JOURNAL, "w", 1, wv, vl);
    if (j->js == j->s) /* one store: the entries go in the same write */
        journal__del_below(b, keep);
    j->cut_w = w;
    j->cut_keep = keep;
    int64_t now = mp_now_ms();
    for (int i = 0; i < j->parts; i++)
        ingest_producers_cut(j->prod[i], b, now, j->ttl_ms);
}

static void journal__end(void *arg)
{
    struct ingest_journal *j = arg;
    pthread_rwlock_unlock(&j->lock);
}

/* Entries in a store of their own go once the flush that covers them is
 * durable: the counters' WAL is synced first, so no crash can keep the
 * deletion and lose the counts (the flush itself is not a synced write).
 * A failure leaves them: a replay skips entries <= W, and the next
 * collection's range starts at 0. */
static void journal__collect(struct ingest_journal *j, uint64_t w, uint64_t keep)
{
    if (eng_store_sync(j->s) != MP_OK) {
        mp_warn("journal_collect_skipped reason=counters_sync_failed watermark=%llu",
                (unsigned long long)w);
        return;
    }
    struct eng_store_batch *b = eng_store_batch_new(j->js);
    if (!b)
        return;
    journal__del_below(b, keep);
    if (eng_store_commit(j->js, b, 0) != MP_OK)
        mp_warn("journal_collect_failed watermark=%llu", (unsigned long long)w);
    eng_store_batch_free(b);
}

static void journal__done(void *arg, int rc)
{
    struct ingest_journal *j = arg;
    /* No lock: cut_done only moves the tables' flushed marks, which only
     * this thread reads (ingest_producers.h). Taking the lock here could
     * deadlock: a writer whose frame met a key being evicted by this flush
     * waits, holding the lock shared, until the eviction ends after us. */
    for (int i = 0; i < j->parts; i++)
        ingest_producers_cut_done(j->prod[i], rc == MP_OK);
    if (rc == MP_OK)
        mp_store_relaxed(&j->watermark, j->cut_w);
    if (rc == MP_OK && j->js != j->s)
        journal__collect(j, j->cut_w, j->cut_keep);
}

/* ---- open / close ------------------------------------------------------------ */

static int journal__load_producer(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    struct ingest_journal *j = arg;
    uint64_t seq;
    int64_t seen;
    if (kl == 0 || kl > 4096 || ingest_producers_decode(v, vl, &seq, &seen) != MP_OK) {
        mp_error("journal_bad_producer_entry key_len=%zu value_len=%zu", kl, vl);
        return MP_ERR_PARSE;
    }
    struct ingest_producers *p = j->prod[ingest_producers_part(k, kl, j->parts)];
    int rc = ingest_producers_set(p, k, kl, seq, seen);
    return rc == MP_ERR_FULL ? MP_OK : rc; /* over the bound: forgotten, like an expired id */
}

static int journal__max_id(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    MP_UNUSED(v);
    MP_UNUSED(vl);
    uint64_t *max = arg;
    if (kl != 9)
        return MP_ERR_PARSE;
    uint64_t id = journal__get_be(k + 1, 8);
    if (id > *max)
        *max = id;
    return MP_OK;
}

/* "w": W, then (lo, hi) pairs: ids lo <= id < hi at or below W that the
 * counters do not cover (an older build wrote W alone). */
static int journal__read_w(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    struct ingest_journal *j = arg;
    if (kl != 1 || vl < 8 || (vl - 8) % 16 || (vl - 8) / 16 > INGEST_JOURNAL_TICKETS)
        return MP_ERR_PARSE;
    mp_store_relaxed(&j->watermark, journal__get_be(v, 8));
    j->open_nrng = (vl - 8) / 16;
    if (j->open_nrng && !(j->open_rng = calloc(j->open_nrng, sizeof(*j->open_rng))))
        return MP_ERR_NOMEM;
    for (size_t i = 0; i < j->open_nrng; i++) {
        j->open_rng[i][0] = journal__get_be(v + 8 + 16 * i, 8);
        j->open_rng[i][1] = journal__get_be(v + 16 + 16 * i, 8);
    }
    return MP_OK;
}

/* 1 when the counters W was stored with hold entry `id`'s effects. */
static int journal__covered(const struct ingest_journal *j, uint64_t w, uint64_t id)
{
    if (id > w)
        return 0;
    for (size_t i = 0; i < j->open_nrng; i++)
        if (id >= j->open_rng[i][0] && id < j->open_rng[i][1])
            return 0;
    return 1;
}

/* ---- moving a journal kept with the counters into its own store ---- */

struct migrate_ctx {
    struct eng_store_batch *to, *from;
    size_t n;
};

static int journal__migrate_one(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    struct migrate_ctx *c = arg;
    if (kl == 1 && k[0] == 'w')
        return MP_OK; /* the watermark stays with the counters it describes */
    eng_store_batch_kv_put(c->to, ENG_KV_JOURNAL, k, kl, v, vl);
    eng_store_batch_kv_del(c->from, ENG_KV_JOURNAL, k, kl);
    c->n++;
    return MP_OK;
}

/* A data directory written before the journal had a store of its own keeps
 * its entries (and the adapters' rows) in the counters' store: they move,
 * copied in one synced write and then deleted from the old place. A crash
 * between the two moves them again, to the same keys. */
static int journal__migrate(struct ingest_journal *j, char *err, size_t errlen)
{
    struct migrate_ctx c = {eng_store_batch_new(j->js), eng_store_batch_new(j->s), 0};
    int rc = c.to && c.from ? MP_OK : MP_ERR_NOMEM;
    if (rc == MP_OK)
        rc = eng_store_kv_scan(j->s, ENG_KV_JOURNAL, NULL, 0, journal__migrate_one, &c);
    if (rc == MP_OK && c.n && (rc = eng_store_commit(j->js, c.to, 1)) == MP_OK)
        rc = eng_store_commit(j->s, c.from, 1);
    if (rc != MP_OK)
        snprintf(err, errlen, "journal: cannot move its entries to their own store: %s",
                 mp_strerror(rc));
    else if (c.n)
        mp_info("journal_moved entries=%zu", c.n);
    eng_store_batch_free(c.to);
    eng_store_batch_free(c.from);
    return rc;
}

void ingest_journal_close(struct ingest_journal *j)
{
    if (!j)
        return;
    eng_table_set_flush_hook(j->t, NULL);
    for (int i = 0; j->prod && i < j->parts; i++)
        ingest_producers_destroy(j->prod[i]);
    free(j->prod);
    free(j->open_rng);
    pthread_rwlock_destroy(&j->lock);
    free(j);
}

static int journal__init(struct ingest_journal *j, const struct ingest_journal_opts *o)
{
    j->t = o->table;
    j->s = o->store;
    j->js = o->journal_store ? o->journal_store : o->store;
    j->parts = o->parts < 1 ? 1 : o->parts;
    j->ttl_ms = o->producer_ttl_ms > 0 ? o->producer_ttl_ms : INGEST_PRODUCER_TTL_DEFAULT_MS;
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&j->lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    if ((j->prod = calloc((size_t)j->parts, sizeof(*j->prod))) == NULL)
        return MP_ERR_NOMEM;
    for (int i = 0; i < j->parts; i++)
        if (ingest_producers_create(&j->prod[i]) != MP_OK)
            return MP_ERR_NOMEM;
    return MP_OK;
}

int ingest_journal_open(const struct ingest_journal_opts *o, struct ingest_journal **out,
                        char *err, size_t errlen)
{
    struct ingest_journal *j = calloc(1, sizeof(*j));
    if (!j)
        return MP_ERR_NOMEM;
    int rc = journal__init(j, o);
    uint64_t w = 0, max = 0;
    if (rc == MP_OK && j->js != j->s)
        rc = journal__migrate(j, err, errlen);
    if (rc == MP_OK && (rc = eng_store_kv_scan(j->s, ENG_KV_JOURNAL, "w", 1, journal__read_w,
                                               j)) != MP_OK)
        snprintf(err, errlen, "journal: cannot read the watermark: %s", mp_strerror(rc));
    if (rc == MP_OK && (rc = eng_store_kv_scan(j->js, ENG_KV_JOURNAL, "j", 1, journal__max_id,
                                               &max)) != MP_OK)
        snprintf(err, errlen, "journal: cannot read the entries: %s", mp_strerror(rc));
    if (rc == MP_OK && (rc = eng_store_kv_scan(j->s, ENG_KV_PRODUCERS, NULL, 0,
                                               journal__load_producer, j)) != MP_OK)
        snprintf(err, errlen, "journal: cannot read the producer table: %s", mp_strerror(rc));
    if (rc != MP_OK) {
        ingest_journal_close(j);
        return rc;
    }
    for (int i = 0; i < j->parts; i++)
        ingest_producers_mark_durable(j->prod[i]);
    w = mp_load_relaxed(&j->watermark);
    mp_store_relaxed(&j->next_id, (max > w ? max : w) + 1);
    j->cut_w = w;
    struct eng_flush_hook h = {journal__begin, journal__end, journal__done, j};
    eng_table_set_flush_hook(j->t, &h);
    *out = j;
    return MP_OK;
}

/* ---- replay -------------------------------------------------------------------- */

struct replay_ctx {
    struct ingest_journal *j;
    uint64_t w;
    int (*fn)(void *arg, int64_t recv_ms, uint32_t client, const void *frame, size_t len);
    void *arg;
    uint64_t n;
};

static int journal__replay_one(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    struct replay_ctx *c = arg;
    if (kl != 9 || vl < JOURNAL_HEAD) {
        mp_error("journal_bad_entry key_len=%zu value_len=%zu", kl, vl);
        return MP_ERR_PARSE;
    }
    if (journal__covered(c->j, c->w, journal__get_be(k + 1, 8)))
        return MP_OK; /* covered by a flush whose delete has not reached it */
    int64_t recv_ms = (int64_t)journal__get_be(v, 8);
    uint32_t client = (uint32_t)journal__get_be(v + 8, 4);
    const char *frame = v + JOURNAL_HEAD;
    size_t len = vl - JOURNAL_HEAD;
    struct ingest_frame_shape sh;
    if (ingest_decode_shape(frame, len, &sh) == MP_OK && sh.pid_len && sh.sequence) {
        struct ingest_producers *p =
            c->j->prod[ingest_producers_part(sh.pid, sh.pid_len, c->j->parts)];
        ingest_producers_set(p, sh.pid, sh.pid_len, sh.sequence, recv_ms);
    }
    c->n++;
    return c->fn(c->arg, recv_ms, client, frame, len);
}

int ingest_journal_replay(struct ingest_journal *j,
                          int (*fn)(void *arg, int64_t recv_ms, uint32_t client,
                                    const void *frame, size_t len),
                          void *arg)
{
    struct replay_ctx c = {j, mp_load_relaxed(&j->watermark), fn, arg, 0};
    int rc = eng_store_kv_scan(j->js, ENG_KV_JOURNAL, "j", 1, journal__replay_one, &c);
    mp_store_relaxed(&j->replayed, c.n);
    if (c.n || rc != MP_OK)
        mp_info("journal_replayed batches=%llu watermark=%llu rc=%d", (unsigned long long)c.n,
                (unsigned long long)c.w, rc);
    return rc;
}

/* ---- writers ---------------------------------------------------------------------- */

struct ingest_producers *ingest_journal_producers(struct ingest_journal *j, int part)
{
    return j->prod[part];
}

int ingest_journal_parts(const struct ingest_journal *j) { return j->parts; }

void ingest_journal_lock(struct ingest_journal *j) { pthread_rwlock_rdlock(&j->lock); }

void ingest_journal_unlock(struct ingest_journal *j) { pthread_rwlock_unlock(&j->lock); }

struct eng_store *ingest_journal_store(const struct ingest_journal *j) { return j->js; }

int ingest_journal_commit(struct ingest_journal *j, const struct ingest_journal_rec *r, size_t n)
{
    return ingest_journal_commit_with(j, r, n, NULL, NULL);
}

/* One synced write of entries id..id+n-1 (and extra's rows). */
static int journal__write(struct ingest_journal *j, uint64_t id, const struct ingest_journal_rec *r,
                          size_t n, int (*extra)(void *arg, struct eng_store_batch *b), void *arg)
{
    struct eng_store_batch *b = eng_store_batch_new(j->js);
    if (!b)
        return MP_ERR_NOMEM;
    int rc = MP_OK;
    for (size_t i = 0; i < n && rc == MP_OK; i++) {
        char k[9], *v = malloc(JOURNAL_HEAD + r[i].len);
        if (!v) {
            rc = MP_ERR_NOMEM;
            break;
        }
        ingest_journal_key(id + i, k);
        journal__put_be(v, (uint64_t)r[i].recv_ms, 8);
        journal__put_be(v + 8, r[i].client, 4);
        memcpy(v + JOURNAL_HEAD, r[i].frame, r[i].len);
        eng_store_batch_kv_put(b, ENG_KV_JOURNAL, k, sizeof(k), v, JOURNAL_HEAD + r[i].len);
        free(v); /* the batch holds a copy */
        /* With the entries in their own store the sequence travels in the
         * frame only: a replay raises it, and the flush that covers the
         * entry writes the producer table to the counters' store. */
        if (r[i].pid_len && r[i].seq && j->js == j->s) {
            char pv[INGEST_PRODUCER_VALUE_LEN];
            ingest_producers_encode(r[i].seq, r[i].recv_ms, pv);
            eng_store_batch_kv_put(b, ENG_KV_PRODUCERS, r[i].pid, r[i].pid_len, pv, sizeof(pv));
        }
    }
    if (rc == MP_OK && extra)
        rc = extra(arg, b);
    if (rc == MP_OK)
        rc = eng_store_commit(j->js, b, 1);
    eng_store_batch_free(b);
    if (rc != MP_OK) {
        mp_add_relaxed(&j->failures, 1);
        return rc;
    }
    mp_add_relaxed(&j->commits, 1);
    mp_add_relaxed(&j->batches, n);
    uint64_t g = mp_load_relaxed(&j->group_max);
    if (n > g)
        mp_store_relaxed(&j->group_max, n); /* racy max: a figure, not a bound */
    return MP_OK;
}

int ingest_journal_commit_with(struct ingest_journal *j, const struct ingest_journal_rec *r,
                               size_t n, int (*extra)(void *arg, struct eng_store_batch *b),
                               void *arg)
{
    /* under the shared lock: no cut sees these ids before they are applied */
    uint64_t id = mp_add_relaxed(&j->next_id, n); /* returns the old value: ids id..id+n-1 */
    return journal__write(j, id, r, n, extra, arg);
}

int ingest_journal_take(struct ingest_journal *j, size_t n, int *ticket)
{
    int rc = MP_ERR_FULL;
    for (int i = 0; i < INGEST_JOURNAL_TICKETS; i++) {
        uint32_t free_ = 0;
        if (!mp_cas_acq_rel(&j->tk[i].busy, &free_, 1))
            continue;
        j->tk[i].lo = mp_add_relaxed(&j->next_id, n);
        j->tk[i].n = n;
        j->tk[i].applied = 0;
        *ticket = i;
        rc = MP_OK;
        break;
    }
    return rc;
}

int ingest_journal_write(struct ingest_journal *j, int ticket, const struct ingest_journal_rec *r,
                         size_t n)
{
    return journal__write(j, j->tk[ticket].lo, r, n, NULL, NULL);
}

void ingest_journal_applied(struct ingest_journal *j, int ticket) { j->tk[ticket].applied++; }

void ingest_journal_release(struct ingest_journal *j, int ticket)
{
    j->tk[ticket].n = 0;
    mp_store_release(&j->tk[ticket].busy, 0);
}

void ingest_journal_figures(const struct ingest_journal *j, struct ingest_journal_figures *out)
{
    out->commits = mp_load_relaxed(&j->commits);
    out->commit_failures = mp_load_relaxed(&j->failures);
    out->batches = mp_load_relaxed(&j->batches);
    out->group_max = mp_load_relaxed(&j->group_max);
    out->replayed = mp_load_relaxed(&j->replayed);
    out->watermark = mp_load_relaxed(&j->watermark);
}
