/* eng_table_persist.c — the table and its store (see eng_table.h, and
 * eng_table_impl.h for the layout): flush what changed, load at create,
 * evict idle keys and warm them back on touch.
 */
#include "eng_table.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "eng_table_impl.h"
#include "mp_buf.h"
#include "mp_log.h"

static void table__recycle_all(struct eng_table *t, struct eng_key *k);

static void table__counts(const struct eng_table *t, const struct eng_key *k, int res,
                          uint64_t slot, uint64_t out[ENG_NTYPES])
{
    for (int ty = 0; ty < ENG_NTYPES; ty++) {
        uint32_t sid = mp_load_acquire(&((struct eng_key *)k)->sid[ty]);
        out[ty] = 0;
        if (!sid)
            continue;
        struct eng_series *s = table__sptr(t, sid);
        out[ty] = mp_load_relaxed(&table__ring(s, res)[slot]);
    }
}

static void table__put(const struct eng_table *t, struct eng_store_batch *b,
                       const struct eng_key *k, int res, uint64_t slot, int64_t bucket)
{
    uint64_t c[ENG_NTYPES];
    table__counts(t, k, res, slot, c);
    eng_store_batch_put(b, res, bucket, k->scope, k->tenant_id, k->name_id, c);
}

static int table__bit(int res, uint64_t slot)
{
    return (int)slot + (res == ENG_RES_FINE ? BIT_FINE : res == ENG_RES_HOUR ? BIT_HOUR : BIT_DAY);
}

static void table__flush_slot(struct eng_table *t, struct eng_store_batch *b, int res,
                              uint64_t slot, int64_t bucket)
{
    uint64_t bit = 1ULL << table__bit(res, slot);
    uint32_t n = mp_load_relaxed(&t->next_id);
    for (uint32_t id = 1; id < n && id <= t->max_keys; id++) {
        struct eng_key *k = mp_load_acquire(&t->by_id[id]);
        if (!k || !(mp_load_relaxed(&k->fmask) & bit))
            continue;
        /* acquire: pairs with the writers' release fetch_or */
        if (mp_and_acquire(&k->fmask, ~bit) & bit)
            table__put(t, b, k, res, slot, bucket);
    }
}

static void table__name(void *arg, uint32_t id, const char *s, size_t len)
{
    eng_store_batch_name(arg, id, s, len);
}

/* Writes the bucket leaving a ring (tick, after the grace period, before
 * the clear), with any new names first. */
void eng_table__flush_leaving(struct eng_table *t, int res, uint64_t slot, int64_t bucket)
{
    /* With a hook (a journal), every stored count must be covered by the
     * watermark its flush writes: flush everything under the hook first;
     * the leaving slot holds nothing newer (no writer reaches it since the
     * grace period), so it may follow in a commit of its own. */
    if (t->hook.begin && eng_table_flush(t, 0, NULL) != MP_OK)
        mp_error("store_flush_failed at=ring_advance_full res=%d", res);
    struct eng_store_batch *b = eng_store_batch_new(t->store);
    if (!b) {
        mp_error("store_flush_failed at=ring_advance res=%d err=nomem", res);
        return;
    }
    table__flush_slot(t, b, res, slot, bucket);
    /* names after the keys: a key seen above was published after its names
     * were interned, so they are drained here, into the same batch */
    eng_intern_drain_new(t->names, table__name, b);
    if (eng_store_commit(t->store, b, 0) != MP_OK)
        mp_error("store_flush_failed at=ring_advance res=%d", res);
    eng_store_batch_free(b);
}

/* Puts into b the held buckets of k whose slots are marked in m, and
 * returns the marks of the one spare slot per ring: it maps to no held
 * bucket (a writer already on the next bucket set it), so the caller keeps
 * the bit for the next flush or drops it. */
static uint64_t table__put_marked(const struct eng_table *t, struct eng_store_batch *b,
                                  const struct eng_key *k, uint64_t m,
                                  const struct table_rings *r)
{
    uint64_t spare = 0;
    for (int res = 0; res < 3 && m; res++) {
        if (r->cur[res] == ENG_NO_BUCKET)
            continue;
        for (int slot = 0; slot < r->ring[res]; slot++) {
            uint64_t bit = 1ULL << table__bit(res, (uint64_t)slot);
            if (!(m & bit))
                continue;
            /* the held bucket living in this slot */
            int64_t top = r->cur[res] + 1;
            int64_t bucket = top - (int64_t)table__mod(top - slot, r->ring[res]);
            if (bucket < r->cur[res] - r->back[res])
                spare |= bit;
            else
                table__put(t, b, k, res, (uint64_t)slot, bucket);
        }
    }
    return spare;
}

int eng_table_flush(struct eng_table *t, int sync, size_t *entries)
{
    if (entries)
        *entries = 0;
    if (!t->store)
        return MP_OK;
    struct eng_store_batch *b = eng_store_batch_new(t->store);
    if (!b)
        return MP_ERR_NOMEM;
    size_t written = 0;
    int rc = MP_OK;
    if (t->hook.begin)
        t->hook.begin(t->hook.arg, b);
    /* Names first, in the same commit as (or an earlier one than) any
     * counter that refers to them. */
    eng_intern_drain_new(t->names, table__name, b);

    /* acquire: pairs with the release CAS of each backfill push */
    struct backfill *bf = mp_xchg_acquire(&t->backfill, NULL);
    while (bf) {
        uint64_t c[ENG_NTYPES] = {0};
        c[bf->type - 1] = 1;
        for (int sc = 0; sc < ENG_NSCOPES; sc++)
            eng_store_batch_add(b, ENG_RES_DAY, bf->day, sc, bf->tid, bf->ids[sc], c);
        struct backfill *next = bf->next;
        free(bf);
        bf = next;
    }

    struct table_rings r;
    table__rings(t, &r);
    const int64_t *cur = r.cur;
    uint32_t n = mp_load_relaxed(&t->next_id);
    for (uint32_t id = 1; id < n && id <= t->max_keys; id++) {
        struct eng_key *k = mp_load_acquire(&t->by_id[id]);
        if (!k || !mp_load_relaxed(&k->fmask))
            continue;
        /* acquire: pairs with the writers' release fetch_or at frame end, so
         * the adds of every slot named in m are visible below */
        uint64_t m = mp_xchg_acquire(&k->fmask, 0);
        uint64_t keep = table__put_marked(t, b, k, m, &r);
        if (keep)
            mp_or_relaxed(&k->fmask, keep);
        if (eng_store_batch_count(b) >= FLUSH_BATCH_MAX) { /* bound the batch's memory */
            eng_intern_drain_new(t->names, table__name, b); /* see below */
            written += eng_store_batch_count(b);
            if ((rc = eng_store_commit(t->store, b, 0)) != MP_OK) {
                if (t->hook.begin) {
                    t->hook.end(t->hook.arg);
                    t->hook.done(t->hook.arg, rc);
                }
                goto out;
            }
        }
    }
    /* Retention: fine and hourly entries only serve restarts, so they leave
     * the store once their ring lets go; daily ones stay for the retention. */
    const int64_t cut[3] = {cur[0] - ENG_FINE_BACK, cur[1] - ENG_HOUR_BACK,
                            cur[2] - t->retention_days};
    for (int res = 0; res < 3; res++) {
        if (cur[res] == ENG_NO_BUCKET || cut[res] <= t->dropped_before[res])
            continue;
        eng_store_batch_drop_before(b, res, cut[res]);
        t->dropped_before[res] = cut[res];
    }
    /* Names again: a key created after the drain above, and flushed in the
     * loop, has names interned after that drain too (they are interned
     * before the key is published). Same batch, so no counter reaches the
     * store without its names. */
    eng_intern_drain_new(t->names, table__name, b);
    written += eng_store_batch_count(b);
    if (t->hook.begin)
        t->hook.end(t->hook.arg);
    rc = eng_store_commit(t->store, b, sync);
    if (t->hook.begin)
        t->hook.done(t->hook.arg, rc);
out:
    eng_store_batch_free(b);
    if (entries)
        *entries = written;
    return rc;
}

void eng_table_set_flush_hook(struct eng_table *t, const struct eng_flush_hook *h)
{
    if (h)
        t->hook = *h;
    else
        memset(&t->hook, 0, sizeof(t->hook));
}

static int table__load_name(void *arg, uint32_t id, const char *s, size_t len)
{
    struct eng_table *t = arg;
    int rc = eng_intern_put(t->names, id, s, len);
    if (rc != MP_OK)
        mp_error("store_load_name_failed id=%u err=\"%s\"", id, mp_strerror(rc));
    return rc;
}

/* Sets k's counters of bucket `bucket` (resolution res) to counts, creating
 * the series of the types that have any. The caller owns the key (loading
 * at create, or in state LOADING). */
static int table__set_counts(struct eng_table *t, struct eng_key *k, int res, int64_t bucket,
                             const uint64_t counts[ENG_NTYPES])
{
    const int ring = res == ENG_RES_FINE ? ENG_FINE_SLOTS
                     : res == ENG_RES_HOUR ? ENG_HOUR_SLOTS
                                           : t->day_slots;
    uint64_t slot = table__mod(bucket, ring);
    for (int ty = 0; ty < ENG_NTYPES; ty++) {
        if (!counts[ty])
            continue;
        struct eng_series *s = table__series(t, k, ty + 1);
        if (!s)
            return MP_ERR_NOMEM;
        mp_store_relaxed(&table__ring(s, res)[slot], (uint32_t)counts[ty]);
    }
    return MP_OK;
}

struct load_ctx {
    struct eng_table *t;
    int res;
    uint64_t entries;
};

static int table__load_counts(void *arg, int64_t bucket, int scope, uint32_t tid, uint32_t nid,
                              const uint64_t counts[ENG_NTYPES])
{
    struct load_ctx *lc = arg;
    struct eng_table *t = lc->t;
    if (scope < 0 || scope >= ENG_NSCOPES || !eng_intern_name(t->names, tid) ||
        (scope != ENG_SCOPE_TENANT && !eng_intern_name(t->names, nid))) {
        mp_error("store_load_orphan scope=%d tenant_id=%u name_id=%u", scope, tid, nid);
        return MP_ERR_PARSE;
    }
    struct eng_key *tk, *k = NULL;
    const char *tn = eng_intern_name(t->names, tid);
    size_t tlen = strlen(tn);
    uint64_t th = table__tenant_hash(t, tn, tlen);
    int rc = eng_table__get_key(t, th, ENG_SCOPE_TENANT, NULL, tn, tlen, &tk);
    if (rc == MP_OK) {
        k = tk;
        if (scope != ENG_SCOPE_TENANT) {
            const char *nn = eng_intern_name(t->names, nid);
            size_t nlen = strlen(nn);
            rc = eng_table__get_key(t, table__child_hash(th, scope, nn, nlen), scope, tk, nn, nlen,
                                    &k);
        }
    }
    if (rc != MP_OK)
        return rc;
    mp_store_relaxed(&k->last_ms, mp_load_relaxed(&t->now_ms)); /* loaded counts as touched */
    if ((rc = table__set_counts(t, k, lc->res, bucket, counts)) != MP_OK)
        return rc;
    lc->entries++;
    return MP_OK;
}

int eng_table__load(struct eng_table *t)
{
    int64_t t0 = mp_mono_ns();
    int rc = eng_store_load_names(t->store, table__load_name, t);
    if (rc != MP_OK)
        return rc;
    struct table_rings r;
    table__rings(t, &r);
    uint64_t entries = 0;
    for (int res = 0; res < 3; res++) {
        struct load_ctx lc = {t, res, 0};
        rc = eng_store_load_counts(t->store, res, r.cur[res] - r.back[res], r.cur[res] + 1,
                                   table__load_counts, &lc);
        if (rc != MP_OK)
            return rc;
        entries += lc.entries;
    }
    /* Everything now in memory is also in the store. */
    mp_info("store_loaded names=%u keys=%u entries=%llu ms=%lld", eng_intern_count(t->names),
            eng_table_nkeys(t), (unsigned long long)entries,
            (long long)((mp_mono_ns() - t0) / 1000000));
    return MP_OK;
}

/* ---- residency: idle keys leave memory, come back on touch ---------------- */

/* Reads every held bucket of `k` back from the store. The caller owns the
 * key in state LOADING, so nobody else adds to or reads its series. */
static int table__load_key(struct eng_table *t, struct eng_key *k)
{
    struct table_rings r;
    table__rings(t, &r);
    for (int res = 0; res < 3; res++) {
        if (r.cur[res] == ENG_NO_BUCKET)
            continue;
        for (int64_t b = r.cur[res] - r.back[res]; b <= r.cur[res] + 1; b++) {
            uint64_t c[ENG_NTYPES];
            int rc = eng_store_sum(t->store, res, b, b, k->scope, k->tenant_id, k->name_id, c);
            if (rc != MP_OK)
                return rc;
            if ((rc = table__set_counts(t, k, res, b, c)) != MP_OK)
                return rc;
        }
    }
    return MP_OK;
}

int eng_table__ensure_hot(struct eng_table *t, struct eng_key *k)
{
    for (;;) {
        uint32_t st = mp_load_seq_cst(&k->state);
        if (st == KEY_HOT)
            return MP_OK;
        if (st == KEY_COLD) {
            uint32_t expect = KEY_COLD;
            if (!mp_cas_seq_cst(&k->state, &expect, KEY_LOADING))
                continue;
            int rc = table__load_key(t, k);
            mp_store_relaxed(&k->last_ms, mp_load_relaxed(&t->now_ms));
            if (rc != MP_OK) {
                mp_error("key_load_failed id=%u err=\"%s\"", k->id, mp_strerror(rc));
                /* what was loaded is dropped again: the store still has it */
                mp_add_release(&k->seq, SEQ_GEN_ONLY);
                table__recycle_all(t, k);
                mp_store_seq_cst(&k->state, KEY_COLD);
                return rc;
            }
            mp_add_relaxed(&t->loads, 1);
            mp_add_seq_cst(&t->cold, (uint64_t)-1);
            /* release (seq_cst): the loaded series are visible to whoever
             * sees HOT */
            mp_store_seq_cst(&k->state, KEY_HOT);
            return MP_OK;
        }
        /* EVICTING or LOADING: another thread finishes it shortly */
        sched_yield();
    }
}

int eng_table_key_warm(struct eng_table *t, struct eng_key *k)
{
    if (mp_load_seq_cst(&k->state) == KEY_HOT)
        return MP_OK;
    /* Loading writes ring slots, so take part in the grace-period protocol
     * like a writer: tick will not clear a slot under us. */
    struct eng_thread *th;
    int rc = eng_thread_register(t, &th);
    if (rc != MP_OK)
        return rc;
    eng_thread_online(th);
    /* seq_cst: holds the key against the evictor, as frame__touch does */
    mp_add_seq_cst(&k->seq, SEQ_ONE_FRAME);
    rc = eng_table__ensure_hot(t, k);
    mp_add_release(&k->seq, SEQ_END_FRAME); /* release: the loaded series to readers */
    eng_thread_unregister(th);
    return rc;
}

/* Zeroes a detached series and puts its id on the free list. */
static void table__recycle(struct eng_table *t, uint32_t sid)
{
    struct eng_series *s = table__sptr(t, sid);
    for (int i = 0; i < ENG_FINE_SLOTS; i++)
        mp_store_relaxed(&s->fine[i], 0);
    for (int i = 0; i < ENG_HOUR_SLOTS; i++)
        mp_store_relaxed(&s->hour[i], 0);
    for (int i = 0; i < t->day_slots; i++)
        mp_store_relaxed(&s->day[i], 0);
    mp_add_relaxed(&t->nseries, (uint64_t)-1);
    eng_table__free_id(t, sid);
}

/* Detaches and recycles every series of a key that no writer holds (state
 * EVICTING or LOADING). A stale reader fails read_end on gen. */
static void table__recycle_all(struct eng_table *t, struct eng_key *k)
{
    for (int ty = 0; ty < ENG_NTYPES; ty++) {
        uint32_t sid = mp_xchg_seq_cst(&k->sid[ty], 0);
        if (sid)
            table__recycle(t, sid);
    }
}

/* A key eviction claimed, with the flush marks it had. */
struct victim {
    struct eng_key *k;
    uint64_t m;
};

/* Claims k for eviction (EVICTING) unless a frame holds it; 1 when claimed. */
static int table__claim(struct eng_key *k)
{
    /* seq_cst: with frame__touch's seq_cst add to inflight and its load of
     * the state, either we see its frame here and back off, or it sees
     * EVICTING and waits for COLD. */
    mp_store_seq_cst(&k->state, KEY_EVICTING);
    if (SEQ_INFLIGHT(mp_load_seq_cst(&k->seq)) != 0) { /* a frame got in first: keep it */
        mp_store_seq_cst(&k->state, KEY_HOT);
        return 0;
    }
    return 1;
}

size_t eng_table_evict(struct eng_table *t, int64_t now_ms)
{
    if (!t->store || t->evict_idle_ms <= 0)
        return 0;
    struct table_rings r;
    table__rings(t, &r);
    struct eng_store_batch *b = eng_store_batch_new(t->store);
    size_t cap = 0, n = 0;
    struct victim *v = NULL;
    if (!b)
        goto out;
    /* names first: an evicted key's counters may use a fresh name */
    eng_intern_drain_new(t->names, table__name, b);

    /* Pass 1: claim idle keys (EVICTING) and write what the store lacks. */
    uint32_t top = mp_load_relaxed(&t->next_id);
    for (uint32_t id = 1; id < top && id <= t->max_keys; id++) {
        struct eng_key *k = mp_load_acquire(&t->by_id[id]);
        if (!k || mp_load_relaxed(&k->state) != KEY_HOT ||
            now_ms - mp_load_relaxed(&k->last_ms) < t->evict_idle_ms ||
            SEQ_INFLIGHT(mp_load_relaxed(&k->seq)))
            continue;
        if (MP_GROW(v, cap, n + 1) != MP_OK)
            break; /* evict what we have */
        if (!table__claim(k))
            continue;
        /* From here no writer holds the key; new ones wait for COLD.
         * acquire: pairs with the writers' release fetch_or at frame end. */
        uint64_t m = mp_xchg_acquire(&k->fmask, 0);
        table__put_marked(t, b, k, m, &r); /* a spare slot's bit holds nothing held */
        v[n++] = (struct victim){k, m};
    }
    eng_intern_drain_new(t->names, table__name, b); /* names of keys made meanwhile */
    if (eng_store_commit(t->store, b, 0) != MP_OK) {
        /* The store did not take them: the keys stay in memory, with their
         * unflushed slots marked again for the next flush. */
        mp_error("evict_commit_failed keys=%zu", n);
        for (size_t i = 0; i < n; i++) {
            mp_or_relaxed(&v[i].k->fmask, v[i].m);
            mp_store_seq_cst(&v[i].k->state, KEY_HOT);
        }
        n = 0;
        goto out;
    }
    /* Pass 2: the store holds everything; let go of the counters. */
    for (size_t i = 0; i < n; i++) {
        struct eng_key *k = v[i].k;
        /* release: readers that began earlier see a changed gen and drop
         * their sums */
        mp_add_release(&k->seq, SEQ_GEN_ONLY);
        table__recycle_all(t, k);
        mp_add_relaxed(&t->cold, 1);
        mp_store_seq_cst(&k->state, KEY_COLD);
    }
    mp_add_relaxed(&t->evictions, n);
out:
    eng_store_batch_free(b);
    free(v);
    return n;
}

void eng_table_residency(const struct eng_table *t, uint64_t *cold, uint64_t *evictions,
                         uint64_t *loads)
{
    *cold = mp_load_relaxed(&t->cold);
    *evictions = mp_load_relaxed(&t->evictions);
    *loads = mp_load_relaxed(&t->loads);
}
