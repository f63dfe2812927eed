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

/* A key and flush marks: what a flush cleared, or what eviction claimed. */
struct victim {
    struct eng_key *k;
    uint64_t m;
};

/* ---- flush: one commit, all or nothing ------------------------------------- */

/* Everything one flush took from the table, given back when its commit
 * fails so the next flush writes it again. */
struct flush_job {
    struct eng_table *t;
    struct eng_store_batch *b;
    struct victim *marks; /* keys whose marks this flush cleared, and those marks */
    size_t nmarks, capmarks;
    uint32_t *names;      /* name ids drained */
    size_t nnames, capnames;
    struct backfill *bf;  /* the backfill list taken */
    int64_t dropped[3];   /* dropped_before once the commit holds */
    int nomem;            /* a bookkeeping array could not grow: the flush fails */
    /* the bucket leaving a ring (tick), or leave_res < 0 */
    int leave_res;
    uint64_t leave_slot;
    int64_t leave_bucket;
    struct table_rings cap_r; /* the rings the flush reads with, for writers' captures */
};

/* Remembers that the flush cleared marks m of k. */
static void job__took(struct flush_job *j, struct eng_key *k, uint64_t m)
{
    if (MP_GROW(j->marks, j->capmarks, j->nmarks + 1) != MP_OK) {
        j->nomem = 1;
        mp_or_relaxed(&k->fmask, m); /* nothing to undo with: keep them set */
        return;
    }
    j->marks[j->nmarks++] = (struct victim){k, m};
}

static void job__name(void *arg, uint32_t id, const char *s, size_t len)
{
    struct flush_job *j = arg;
    eng_store_batch_name(j->b, id, s, len);
    if (MP_GROW(j->names, j->capnames, j->nnames + 1) != MP_OK)
        j->nomem = 1; /* the name is in b; if b fails it is lost: fail b */
    else
        j->names[j->nnames++] = id;
}

/* Names first, in the same commit as any counter that refers to them:
 * those a failed flush drained, then the new ones. */
static void job__names(struct flush_job *j)
{
    struct eng_table *t = j->t;
    for (size_t i = 0; i < t->nnames_held; i++) {
        const char *n = eng_intern_name(t->names, t->names_held[i]);
        if (n)
            job__name(j, t->names_held[i], n, strlen(n));
    }
    t->nnames_held = 0;
    eng_intern_drain_new(t->names, job__name, j);
}

/* Held buckets, and events older than the ring (added, not set). */
static void job__held_and_backfill(struct flush_job *j)
{
    struct eng_table *t = j->t;
    for (size_t i = 0; i < t->nheld; i++) {
        const struct held_put *h = &t->held[i];
        eng_store_batch_put(j->b, h->res, h->bucket, h->scope, h->tid, h->nid, h->counts);
    }
    /* acquire: pairs with the release CAS of each backfill push */
    j->bf = mp_xchg_acquire(&t->backfill, NULL);
    for (struct backfill *bf = j->bf; bf; bf = bf->next) {
        uint64_t c[ENG_NTYPES] = {0};
        c[bf->type - 1] = 1;
        for (int sc = 0; sc < ENG_NSCOPES; sc++)
            if (sc == ENG_SCOPE_TENANT || bf->ids[sc]) /* 0: the event has no such key */
                eng_store_batch_add(j->b, ENG_RES_DAY, bf->day, sc, bf->tid, bf->ids[sc], c);
    }
}

/* Every key marked in the leaving slot, its mark cleared: fn(j, k) for
 * each key whose mark this call took. Both users of the slot (a flush that
 * writes it, a refused one that holds it) walk it the same way. */
static void job__each_leaving(struct flush_job *j,
                              void (*fn)(struct flush_job *j, struct eng_key *k, uint64_t bit))
{
    struct eng_table *t = j->t;
    uint64_t bit = 1ULL << table__bit(j->leave_res, j->leave_slot);
    uint32_t n = mp_load_relaxed(&t->next_id);
    for (uint32_t id = 1; id < n && id <= t->max_keys; id++) {
        struct eng_key *k = mp_load_acquire(&t->by_id[id]);
        if (!k || !(mp_load_relaxed(&k->fmask) & bit))
            continue;
        /* acquire: pairs with the writers' release fetch_or */
        if (mp_and_acquire(&k->fmask, ~bit) & bit)
            fn(j, k, bit);
    }
}

static void job__put_leaving(struct flush_job *j, struct eng_key *k, uint64_t bit)
{
    table__put(j->t, j->b, k, j->leave_res, j->leave_slot, j->leave_bucket);
    job__took(j, k, bit);
}

/* The bucket leaving a ring: tick published the next bucket and waited a
 * grace period, so the slot no longer maps to a held bucket. */
static void job__leaving(struct flush_job *j) { job__each_leaving(j, job__put_leaving); }

/* Puts k's marked held buckets into the flush's batch and clears their
 * marks (a spare slot's stay). The caller holds k's cut: the hook's lock,
 * or cap_mu with k not yet captured in the open epoch. */
static void job__capture(struct flush_job *j, struct eng_key *k, const struct table_rings *r)
{
    /* acquire: pairs with the writers' release fetch_or at frame end, so
     * the adds of every slot named in m are visible below */
    uint64_t m = mp_xchg_acquire(&k->fmask, 0);
    if (!m)
        return;
    uint64_t keep = table__put_marked(j->t, j->b, k, m, r);
    if (keep)
        mp_or_relaxed(&k->fmask, keep);
    if (m & ~keep)
        job__took(j, k, m & ~keep);
}

/* Opens a capture epoch, under the hook's exclusive section: from here a
 * writer captures a key before changing it (table__cow). */
static uint32_t job__cap_open(struct flush_job *j)
{
    struct eng_table *t = j->t;
    if (++t->cap_epoch == 0)
        t->cap_epoch = 1; /* 0 means none; a key stale by 2^32 epochs (136 years of flushes) */
    pthread_mutex_lock(&t->cap_mu);
    t->cap_job = j;
    /* release: a writer that sees the epoch sees cap_job under cap_mu; the
     * hook's unlock orders it before every writer that holds the lock */
    mp_store_release(&t->cap_active, t->cap_epoch);
    pthread_mutex_unlock(&t->cap_mu);
    return t->cap_epoch;
}

/* Closes it: no writer captures after this, so the batch is ours again. */
static void job__cap_close(struct flush_job *j)
{
    struct eng_table *t = j->t;
    pthread_mutex_lock(&t->cap_mu);
    mp_store_release(&t->cap_active, 0);
    t->cap_job = NULL;
    pthread_mutex_unlock(&t->cap_mu);
}

void eng_table__capture(struct eng_table *t, struct eng_key *k, uint32_t e)
{
    pthread_mutex_lock(&t->cap_mu);
    struct flush_job *j = t->cap_job;
    if (j && mp_load_relaxed(&t->cap_active) == e && mp_load_relaxed(&k->cap_epoch) != e) {
        job__capture(j, k, &j->cap_r);
        /* release: the reads above happen before the adds of any writer
         * that sees this epoch (table__cow) */
        mp_store_release(&k->cap_epoch, e);
    }
    pthread_mutex_unlock(&t->cap_mu);
}

/* Every key with marks: its marked held buckets. With an epoch open (e),
 * writers run meanwhile, and a key is taken only if no writer captured it
 * first; without one (no hook: no cut to keep) they are read as they are. */
static void job__dirty(struct flush_job *j, const struct table_rings *r, uint32_t e)
{
    struct eng_table *t = j->t;
    uint32_t n = mp_load_relaxed(&t->next_id);
    for (uint32_t id = 1; id < n && id <= t->max_keys; id++) {
        struct eng_key *k = mp_load_acquire(&t->by_id[id]);
        if (!k || !mp_load_relaxed(&k->fmask))
            continue;
        if (!e) {
            job__capture(j, k, r);
            continue;
        }
        if (mp_load_acquire(&k->cap_epoch) == e)
            continue; /* a writer captured it: its marks now are the next flush's */
        pthread_mutex_lock(&t->cap_mu);
        if (mp_load_relaxed(&k->cap_epoch) != e) {
            job__capture(j, k, r);
            mp_store_release(&k->cap_epoch, e);
        }
        pthread_mutex_unlock(&t->cap_mu);
    }
}

/* Retention: fine entries only serve restarts, so they leave the store
 * once their ring lets go; hourly ones stay for engine.hour_retention (at
 * least the ring), daily ones for the retention. */
static void job__retention(struct flush_job *j, const struct table_rings *r)
{
    struct eng_table *t = j->t;
    const int64_t *cur = r->cur;
    const int64_t cut[3] = {cur[0] - ENG_FINE_BACK, cur[1] - t->hour_keep,
                            cur[2] - t->retention_days};
    for (int res = 0; res < 3; res++) {
        j->dropped[res] = t->dropped_before[res];
        if (cur[res] == ENG_NO_BUCKET || cut[res] <= t->dropped_before[res])
            continue;
        eng_store_batch_drop_before(j->b, res, cut[res]);
        j->dropped[res] = cut[res];
    }
}

/* Keeps a daily bucket that leaves the ring unwritten (its slot is about
 * to be cleared): the next flush that commits writes it. */
static void job__hold_one(struct flush_job *j, const struct eng_key *k);
static void job__hold_leaving(struct flush_job *j)
{
    uint64_t bit = 1ULL << table__bit(j->leave_res, j->leave_slot);
    for (size_t i = 0; i < j->nmarks; i++)
        if (j->marks[i].m & bit)
            job__hold_one(j, j->marks[i].k);
}

/* Whether the store keeps the leaving bucket past its ring: days always,
 * hours when engine.hour_retention reaches past the hour ring. */
static int job__leaving_kept(const struct flush_job *j)
{
    return j->leave_res == ENG_RES_DAY ||
           (j->leave_res == ENG_RES_HOUR && j->t->hour_keep > ENG_HOUR_BACK);
}

/* Holds one key's leaving bucket for the next flush that commits. */
static void job__hold_one(struct flush_job *j, const struct eng_key *k)
{
    struct eng_table *t = j->t;
    if (MP_GROW(t->held, t->capheld, t->nheld + 1) != MP_OK) {
        mp_error("store_flush_lost res=%s bucket=%lld err=nomem",
                 j->leave_res == ENG_RES_DAY ? "day" : "hour", (long long)j->leave_bucket);
        return;
    }
    struct held_put *h = &t->held[t->nheld++];
    *h = (struct held_put){.bucket = j->leave_bucket, .tid = k->tenant_id, .nid = k->name_id,
                           .scope = k->scope, .res = (uint8_t)j->leave_res};
    table__counts(t, k, j->leave_res, j->leave_slot, h->counts);
}

static void job__hold_leaving_kept(struct flush_job *j, struct eng_key *k, uint64_t bit)
{
    (void)bit;
    if (job__leaving_kept(j))
        job__hold_one(j, k);
}

/* A refused flush at a ring advance: the leaving slot is cleared next, so
 * its marks go, and a bucket the store keeps is held (job__leaving_kept;
 * the others only served restarts: the next flush deletes them anyway). */
static void job__hold_slot(struct flush_job *j) { job__each_leaving(j, job__hold_leaving_kept); }

/* The commit failed: give back everything the flush took. */
static void job__undo(struct flush_job *j)
{
    struct eng_table *t = j->t;
    uint64_t leave_bit = 0;
    if (j->leave_res >= 0) {
        /* its slot is cleared next: a bucket the store keeps is held for
         * the next flush; the others only served restarts, and the next
         * flush deletes them from the store anyway (retention) */
        if (job__leaving_kept(j))
            job__hold_leaving(j);
        leave_bit = 1ULL << table__bit(j->leave_res, j->leave_slot);
    }
    for (size_t i = 0; i < j->nmarks; i++)
        if (j->marks[i].m & ~leave_bit)
            mp_or_relaxed(&j->marks[i].k->fmask, j->marks[i].m & ~leave_bit);
    if (j->bf) { /* back on the list, in front of what writers pushed meanwhile */
        struct backfill *tail = j->bf;
        while (tail->next)
            tail = tail->next;
        struct backfill *head = mp_load_relaxed(&t->backfill);
        do {
            tail->next = head;
        } while (!mp_cas_weak_release(&t->backfill, &head, j->bf));
        j->bf = NULL;
    }
    eng_table__first_undo(t);
    for (size_t i = 0; i < j->nnames; i++) {
        if (MP_GROW(t->names_held, t->capnames_held, t->nnames_held + 1) != MP_OK) {
            mp_error("store_flush_lost what=names err=nomem");
            break;
        }
        t->names_held[t->nnames_held++] = j->names[i];
    }
}

/* The commit holds: let go of what the flush took. */
static void job__commit_done(struct flush_job *j)
{
    struct eng_table *t = j->t;
    while (j->bf) {
        struct backfill *next = j->bf->next;
        free(j->bf);
        j->bf = next;
    }
    memcpy(t->dropped_before, j->dropped, sizeof(t->dropped_before));
    t->nheld = 0;
}

/* Eviction's part of a flush (see eng_table_evict). */
struct evict_pass {
    int64_t now_ms;
    struct victim *v;
    size_t n, cap;
};
static void table__claim_idle(struct flush_job *j, struct evict_pass *ev,
                              const struct table_rings *r, uint32_t e);

/* One full flush: every write of counters to the store goes through here,
 * so each is one commit, bracketed by the hook, all or nothing. */
static int table__flush_job(struct flush_job *j, int sync, struct evict_pass *ev,
                            size_t *entries)
{
    struct eng_table *t = j->t;
    if (entries)
        *entries = 0;
    if (!(j->b = eng_store_batch_new(t->store)))
        return MP_ERR_NOMEM;
    if (t->hook.begin)
        t->hook.begin(t->hook.arg, j->b);
    if (eng_store_writable(t->store) != MP_OK) {
        /* the store refuses writes until it recovers: read nothing, take
         * nothing; the hook still sees a failed flush */
        if (t->hook.end)
            t->hook.end(t->hook.arg);
        if (t->hook.done)
            t->hook.done(t->hook.arg, MP_ERR_IO);
        if (j->leave_res >= 0)
            job__hold_slot(j);
        eng_store_batch_free(j->b);
        return MP_ERR_IO;
    }
    struct table_rings *r = &j->cap_r;
    table__rings(t, r);
    job__names(j);
    job__held_and_backfill(j);
    if (j->leave_res >= 0)
        job__leaving(j); /* under the lock: rare (a ring advance), and short */
    /* With a hook, the cut is fixed now: the writers go on while the
     * counters are read, capturing what they change first (table__cow). */
    uint32_t e = t->hook.begin ? job__cap_open(j) : 0;
    if (e && t->hook.end)
        t->hook.end(t->hook.arg);
    if (ev)
        table__claim_idle(j, ev, r, e);
    job__dirty(j, r, e);
    if (e)
        job__cap_close(j); /* the batch is ours alone again */
    /* First-seen days that fell, and reclaimed keys'. Either side of the
     * cut: a day only falls, and a replay lowers it to the same day. */
    eng_table__first_write(t, j->b);
    job__retention(j, r);
    /* Names again: a key created after the drain above, and flushed in the
     * loop, has names interned after that drain too (they are interned
     * before the key is published). Same batch, so no counter reaches the
     * store without its names. */
    eng_intern_drain_new(t->names, job__name, j);
    if (!e && t->hook.end)
        t->hook.end(t->hook.arg);
    size_t n = eng_store_batch_count(j->b);
    /* an incomplete flush commits nothing */
    int rc = j->nomem ? MP_ERR_NOMEM : eng_store_commit(t->store, j->b, sync);
    if (t->hook.done)
        t->hook.done(t->hook.arg, rc);
    if (rc == MP_OK) {
        job__commit_done(j);
        if (entries)
            *entries = n;
    } else {
        job__undo(j);
    }
    eng_store_batch_free(j->b);
    free(j->marks);
    free(j->names);
    return rc;
}

void eng_table__flush_leaving(struct eng_table *t, int res, uint64_t slot, int64_t bucket)
{
    struct flush_job j = {.t = t, .leave_res = res, .leave_slot = slot, .leave_bucket = bucket};
    int rc = table__flush_job(&j, 0, NULL, NULL);
    uint64_t suppressed;
    if (rc != MP_OK && mp_ratelimit_allow(&t->leave_rl, mp_now_ms(), 1000, &suppressed))
        mp_error("store_flush_failed at=ring_advance res=%d err=\"%s\"%s suppressed=%llu", res,
                 mp_strerror(rc),
                 res == ENG_RES_DAY ? " held=day" : res == ENG_RES_HOUR && t->hour_keep > ENG_HOUR_BACK ? " held=hour" : "",
                 (unsigned long long)suppressed);
}

int eng_table_flush(struct eng_table *t, int sync, size_t *entries)
{
    if (entries)
        *entries = 0;
    if (!t->store)
        return MP_OK;
    struct flush_job j = {.t = t, .leave_res = -1};
    return table__flush_job(&j, sync, NULL, entries);
}

void eng_table_set_flush_hook(struct eng_table *t, const struct eng_flush_hook *h)
{
    if (h)
        t->hook = *h;
    else
        memset(&t->hook, 0, sizeof(t->hook));
}

void eng_table__persist_free(struct eng_table *t)
{
    free(t->held);
    free(t->names_held);
    free(t->first_taken);
    t->held = NULL;
    t->names_held = NULL;
    t->first_taken = NULL;
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
        mp_store_relaxed(&table__ring(s, res)[slot], counts[ty]);
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
    if ((rc = eng_table__first_load(t)) != MP_OK)
        return rc;
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

/* Pass 1 of eviction, inside the flush: claims idle keys (EVICTING) and
 * puts what the store lacks of them into the flush's batch. */
static void table__claim_idle(struct flush_job *j, struct evict_pass *ev,
                              const struct table_rings *r, uint32_t e)
{
    struct eng_table *t = j->t;
    uint32_t top = mp_load_relaxed(&t->next_id);
    for (uint32_t id = 1; id < top && id <= t->max_keys; id++) {
        struct eng_key *k = mp_load_acquire(&t->by_id[id]);
        if (!k || mp_load_relaxed(&k->state) != KEY_HOT ||
            ev->now_ms - mp_load_relaxed(&k->last_ms) < t->evict_idle_ms ||
            SEQ_INFLIGHT(mp_load_relaxed(&k->seq)))
            continue;
        if (MP_GROW(ev->v, ev->cap, ev->n + 1) != MP_OK)
            break; /* evict what we have */
        if (!table__claim(k))
            continue;
        /* From here no writer holds the key; new ones wait for COLD. With
         * an epoch open, a key a writer captured holds effects past the
         * cut, which this flush must not store: it stays. */
        if (e)
            pthread_mutex_lock(&t->cap_mu);
        if (e && mp_load_relaxed(&k->cap_epoch) == e) {
            pthread_mutex_unlock(&t->cap_mu);
            mp_store_seq_cst(&k->state, KEY_HOT);
            continue;
        }
        /* acquire: pairs with the writers' release fetch_or at frame end. */
        uint64_t m = mp_xchg_acquire(&k->fmask, 0);
        table__put_marked(t, j->b, k, m, r); /* a spare slot's bit holds nothing held */
        ev->v[ev->n++] = (struct victim){k, m};
        if (e) {
            mp_store_release(&k->cap_epoch, e); /* a writer that comes waits for COLD */
            pthread_mutex_unlock(&t->cap_mu);
        }
    }
}

size_t eng_table_evict(struct eng_table *t, int64_t now_ms)
{
    if (!t->store || t->evict_idle_ms <= 0)
        return 0;
    /* The victims' counters go out in a full flush: a partial write would
     * store counts newer than what the hook's cut covers. */
    struct evict_pass ev = {.now_ms = now_ms};
    struct flush_job j = {.t = t, .leave_res = -1};
    if (table__flush_job(&j, 0, &ev, NULL) != MP_OK) {
        /* The store did not take them: the keys stay in memory, with their
         * unflushed slots marked again for the next flush. */
        if (ev.n) /* the flush's own failure is logged by the store */
            mp_error("evict_commit_failed keys=%zu", ev.n);
        for (size_t i = 0; i < ev.n; i++) {
            mp_or_relaxed(&ev.v[i].k->fmask, ev.v[i].m);
            mp_store_seq_cst(&ev.v[i].k->state, KEY_HOT);
        }
        free(ev.v);
        return 0;
    }
    /* Pass 2: the store holds everything; let go of the counters. */
    for (size_t i = 0; i < ev.n; i++) {
        struct eng_key *k = ev.v[i].k;
        /* release: readers that began earlier see a changed gen and drop
         * their sums */
        mp_add_release(&k->seq, SEQ_GEN_ONLY);
        table__recycle_all(t, k);
        mp_add_relaxed(&t->cold, 1);
        mp_store_seq_cst(&k->state, KEY_COLD);
    }
    mp_add_relaxed(&t->evictions, ev.n);
    free(ev.v);
    return ev.n;
}

void eng_table_residency(const struct eng_table *t, uint64_t *cold, uint64_t *evictions,
                         uint64_t *loads)
{
    *cold = mp_load_relaxed(&t->cold);
    *evictions = mp_load_relaxed(&t->evictions);
    *loads = mp_load_relaxed(&t->loads);
}
