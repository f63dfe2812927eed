/* eng_table_record.c — the table's hot path (see eng_table.h, and
 * eng_table_impl.h for the layout): finding or creating an event's keys
 * (up to six), their series, frames, and the lookahead that overlaps their cache
 * misses. The hot path's cache misses are the key slot, the key and the
 * counters; eng_prep_*() lets a writer start them a few events ahead. Kept
 * in one file so the compiler sees the whole per-event path at once.
 */
#include "eng_table.h"

#include <stdlib.h>
#include <string.h>

#include "eng_table_impl.h"
#include "mp_buf.h"
#include "mp_log.h"

#define NAME_PREFETCH 16 /* lookahead warms the name's line up to here */

/* ---- keys ---------------------------------------------------------------- */

/* Builds a new, unpublished key. Names are interned here, once per key
 * (the store and the readers name keys by id), never per event. */
static int table__new_key(struct eng_table *t, int scope, struct eng_key *parent,
                          const char *name, size_t len, struct eng_key **out)
{
    uint32_t tid, nid = 0, mbox;
    int rc;
    struct eng_tenant *ten = NULL;
    if (scope == ENG_SCOPE_TENANT) {
        if (!(ten = eng_table__tenant_new(t, name, len)))
            return MP_ERR_NOMEM;
        if ((rc = eng_intern_get(t->names, name, len, &tid)) != MP_OK)
            return rc;
    } else {
        tid = parent->tenant_id;
        if ((rc = eng_intern_get(t->names, name, len, &nid)) != MP_OK)
            return rc;
        /* "mailbox/provider": readers label it by its parts, so the
         * mailbox is a name too (eng_key_mailbox finds it); the provider
         * holds no '/', so the last one splits them */
        const char *slash = scope == ENG_SCOPE_MAILBOX_PROVIDER ? memrchr(name, '/', len) : NULL;
        if (slash && (rc = eng_intern_get(t->names, name, (size_t)(slash - name), &mbox)) != MP_OK)
            return rc;
    }
    /* Claim an id first: a reclaimed one, else a fresh one (checked so
     * next_id cannot run away and wrap); a lost race gives the id back and
     * wastes a few arena bytes, never correctness. */
    uint32_t id = eng_table__take_key_id(t);
    if (!id) {
        if (mp_load_relaxed(&t->next_id) > t->max_keys)
            return MP_ERR_FULL;
        id = mp_add_relaxed(&t->next_id, 1);
        if (id > t->max_keys)
            return MP_ERR_FULL;
    }
    struct eng_key *k = eng_arena_alloc(t->arena, sizeof(*k) + len);
    if (!k)
        return MP_ERR_NOMEM;
    if ((uint64_t)(uintptr_t)k >> SLOT_PTR_BITS) {
        /* a slot holds a 48-bit pointer; no platform we build for maps
         * heap memory above that, but never mistake one key for another */
        mp_error("key_alloc_out_of_range ptr=%p", (void *)k);
        return MP_ERR_NOMEM;
    }
    k->parent = parent;
    k->scope = (uint8_t)scope;
    k->name_len = (uint8_t)len;
    k->id = id;
    k->tenant_id = tid;
    k->name_id = nid;
    k->ten = ten;
    if (ten)
        ten->key = k;
    memcpy(k->name, name, len);
    *out = k;
    return MP_OK;
}

/* The key cap: reserves a place among the tenant's keys before a new key
 * is made (and its name interned), so racing writers never pass the cap
 * together. `force` (loading) reserves past the cap: stored keys always
 * load. MP_OK, or ENG_ERR_KEY_CAP with nothing reserved. */
static int table__reserve(struct eng_key *parent, int force)
{
    struct eng_tenant *ten = parent->ten;
    uint32_t was = mp_add_relaxed(&ten->nkeys, 1), max = mp_load_relaxed(&ten->max_keys);
    if (force || max == 0 || was < max)
        return MP_OK;
    mp_sub_relaxed(&ten->nkeys, 1);
    return ENG_ERR_KEY_CAP;
}

/* Finds or creates the key (scope, parent, name) whose hash is h (the
 * slow part of an event's key lookups, and of loading). */
static int table__get_key(struct eng_table *t, uint64_t h, int scope, struct eng_key *parent,
                          const char *name, size_t len, int force, struct eng_key **out)
{
    const uint64_t tag = table__tag(h);
    struct eng_key *mine = NULL;
    int rc = MP_ERR_FULL, reserved = 0;
restart:;
    /* A new key goes into the first free slot of its chain: a tombstone
     * (eng_table_reclaim.c) or the empty slot that ends the chain, and only
     * once the whole chain is known not to hold it. Tombstones are made only
     * while no writer is inside a record, so every writer inserting one key
     * aims at the same slot, and a failed CAS starts the probe again. */
    uint64_t first_free = UINT64_MAX;
    for (uint64_t i = h & t->mask, n = 0; n <= t->mask; i = (i + 1) & t->mask, n++) {
        /* acquire: pairs with the release CAS that published the key */
        uint64_t w = mp_load_acquire(&t->slots[i]);
        if (w == SLOT_TOMB) {
            if (first_free == UINT64_MAX)
                first_free = i;
            continue;
        }
        if (!w) {
            if (!mine && parent && !reserved) {
                if ((rc = table__reserve(parent, force)) != MP_OK)
                    return rc;
                reserved = 1;
            }
            if (!mine && (rc = table__new_key(t, scope, parent, name, len, &mine)) != MP_OK)
                goto unreserve;
            mp_store_relaxed(&mine->sibling,
                             mp_load_relaxed(parent ? &parent->children : &t->tenants));
            uint64_t at = first_free != UINT64_MAX ? first_free : i;
            uint64_t expect = at == i ? 0 : SLOT_TOMB;
            /* release: the key's fields are visible to whoever loads the slot */
            if (mp_cas_acq_rel(&t->slots[at], &expect, tag << SLOT_PTR_BITS | (uintptr_t)mine)) {
                mp_store_release(&t->by_id[mine->id], mine);
                mp_add_relaxed(&t->nkeys, 1);
                /* push on the tenant's child list (a tenant key: on the
                 * table's tenant list); sibling is written before the
                 * release CAS that publishes it */
                struct eng_key *head = mp_load_relaxed(&mine->sibling);
                while (!mp_cas_weak_release(parent ? &parent->children : &t->tenants, &head, mine))
                    mp_store_relaxed(&mine->sibling, head);
                *out = mine;
                return MP_OK;
            }
            goto restart; /* lost the slot: the winner may be this very key */
        }
        if (w >> SLOT_PTR_BITS == tag &&
            table__key_is(table__slot_key(w), scope, parent, name, len)) {
            *out = table__slot_key(w);
            rc = MP_OK;
            if (mine) {
                eng_table__free_key_id(t, mine->id); /* ours was never seen; its bytes stay */
                goto unreserve;
            }
            return MP_OK;
        }
    }
    rc = MP_ERR_FULL;
    if (mine)
        eng_table__free_key_id(t, mine->id);
unreserve:
    if (reserved)
        mp_sub_relaxed(&parent->ten->nkeys, 1); /* the place we reserved was not taken */
    return rc;
}

/* The same for the other files (loading, which never refuses a stored key
 * for the cap): the hot path above keeps its static copy, which the
 * compiler may inline into frame__record. */
int eng_table__get_key(struct eng_table *t, uint64_t h, int scope, struct eng_key *parent,
                       const char *name, size_t len, struct eng_key **out)
{
    return table__get_key(t, h, scope, parent, name, len, 1, out);
}

/* ---- series ---------------------------------------------------------------- */

void eng_table__free_id(struct eng_table *t, uint32_t sid)
{
    pthread_mutex_lock(&t->free_lock);
    if (MP_GROW(t->free_ids, t->capfree, t->nfree + 1) != MP_OK) {
        pthread_mutex_unlock(&t->free_lock); /* the id is lost; its memory stays in the pool */
        return;
    }
    t->free_ids[t->nfree++] = sid;
    mp_store_relaxed(&t->nfree_hint, (uint32_t)t->nfree);
    pthread_mutex_unlock(&t->free_lock);
}

/* A zeroed, unpublished series id, or 0 when the pool is exhausted. */
static uint32_t table__alloc_series(struct eng_table *t)
{
    uint32_t sid = 0;
    if (mp_load_relaxed(&t->nfree_hint)) { /* a peek; the lock decides */
        pthread_mutex_lock(&t->free_lock);
        if (t->nfree) {
            sid = t->free_ids[--t->nfree];
            mp_store_relaxed(&t->nfree_hint, (uint32_t)t->nfree);
        }
        pthread_mutex_unlock(&t->free_lock);
        if (sid)
            return sid; /* zeroed by table__recycle */
    }
    if (mp_load_relaxed(&t->ser_next) >= (uint64_t)t->ser_ndir * t->ser_per)
        return 0;
    sid = mp_add_relaxed(&t->ser_next, 1);
    if (sid >= (uint64_t)t->ser_ndir * t->ser_per)
        return 0;
    uint32_t c = sid / t->ser_per; /* not per event: here only for a new series */
    if (c >= t->ser_ndir)
        return 0;
    if (!mp_load_acquire(&t->ser_dir[c])) {
        pthread_mutex_lock(&t->ser_lock);
        if (!mp_load_relaxed(&t->ser_dir[c])) {
            /* fresh zero pages, resident only once touched */
            char *mem = eng_big_alloc(HUGE_PAGE);
            if (!mem) {
                pthread_mutex_unlock(&t->ser_lock);
                return 0; /* the id is lost with its chunk; NOMEM for the caller */
            }
            mp_store_release(&t->ser_dir[c], mem);
        }
        pthread_mutex_unlock(&t->ser_lock);
    }
    return sid;
}

/* Creates the key's series for `type` (slow path of table__series). */
struct eng_series *eng_table__series_new(struct eng_table *t, struct eng_key *k, int type)
{
    uint32_t mine = table__alloc_series(t);
    if (!mine)
        return NULL;
    uint32_t expect = 0;
    /* release: the zeroed series is visible to whoever loads the id */
    if (mp_cas_acq_rel(&k->sid[type - 1], &expect, mine)) {
        mp_add_relaxed(&t->nseries, 1);
        return table__sptr(t, mine);
    }
    eng_table__free_id(t, mine); /* someone else created it first; ours was never seen */
    return table__sptr(t, expect);
}


/* ---- frames ---------------------------------------------------------------- */

struct eng_frame {
    uint32_t mask;         /* set capacity - 1 (power of two) */
    uint32_t n;            /* keys in `list` */
    uint32_t max;          /* end the frame when n reaches this */
    uint32_t *set;         /* open-addressed: index into `list` + 1, 0 empty */
    struct eng_key **list; /* distinct keys touched, in order */
    uint64_t *bits;        /* per list entry: ring slots touched (flush mask) */
    int64_t now_ms;        /* the rate cap's clock; 0: the table's */
};

void eng_frame_set_now(struct eng_frame *f, int64_t now_ms) { f->now_ms = now_ms; }

static void frame__init(struct eng_frame *f, uint32_t *set, uint32_t setcap,
                        struct eng_key **list, uint64_t *bits, uint32_t max)
{
    f->mask = setcap - 1;
    f->n = 0;
    f->max = max;
    f->set = set;
    f->list = list;
    f->bits = bits;
    f->now_ms = 0;
    memset(set, 0, setcap * sizeof(*set));
}

void eng_frame_destroy(struct eng_frame *f)
{
    if (!f)
        return;
    free(f->set);
    free(f->list);
    free(f->bits);
    free(f);
}

int eng_frame_create(struct eng_frame **out)
{
    struct eng_frame *f = calloc(1, sizeof(*f));
    if (!f)
        return MP_ERR_NOMEM;
    uint32_t *set = calloc(2 * ENG_FRAME_KEYS, sizeof(*set));
    struct eng_key **list = calloc(ENG_FRAME_KEYS, sizeof(*list));
    uint64_t *bits = calloc(ENG_FRAME_KEYS, sizeof(*bits));
    f->set = set;
    f->list = list;
    f->bits = bits;
    if (!set || !list || !bits) {
        eng_frame_destroy(f);
        return MP_ERR_NOMEM;
    }
    frame__init(f, set, 2 * ENG_FRAME_KEYS, list, bits, ENG_FRAME_KEYS);
    *out = f;
    return MP_OK;
}

/* Returns k's index in the frame; on first touch counts the frame in and
 * makes sure the key's counters are in memory. */
static int frame__touch(struct eng_table *t, struct eng_frame *f, struct eng_key *k,
                        uint32_t *idx)
{
    uint64_t h = mp_hash_mix64((uint64_t)(uintptr_t)k);
    for (uint32_t i = (uint32_t)h & f->mask;; i = (i + 1) & f->mask) {
        uint32_t x = f->set[i];
        if (x && f->list[x - 1] == k) {
            *idx = x - 1;
            return MP_OK;
        }
        if (!x) {
            f->set[i] = f->n + 1;
            f->bits[f->n] = 0;
            f->list[f->n] = k;
            /* seq_cst: with the evictor's seq_cst store of EVICTING and load
             * of inflight, either it sees this frame and backs off, or the
             * state check below sees EVICTING and waits for COLD. */
            mp_add_seq_cst(&k->seq, SEQ_ONE_FRAME);
            *idx = f->n++;
            /* seq_cst, as eng_table__ensure_hot loads it; the call only for
             * a key that is not HOT (evicted, or being evicted or loaded) */
            if (mp_load_seq_cst(&k->state) != KEY_HOT) {
                int rc = eng_table__ensure_hot(t, k);
                if (rc != MP_OK)
                    return rc;
            }
            /* before this frame's first add to k (a hot key is held) */
            table__cow(t, k);
            return MP_OK;
        }
    }
}

void eng_frame_end(struct eng_table *t, struct eng_frame *f)
{
    const int64_t now = mp_load_relaxed(&t->now_ms);
    struct eng_key *first = NULL, *last = NULL; /* keys this frame made dirty */
    for (uint32_t i = 0; i < f->n; i++) {
        /* the frame's early keys have left the near caches by now */
        if (i + 8 < f->n)
            __builtin_prefetch(f->list[i + 8], 1);
        struct eng_key *k = f->list[i];
        /* release: the flusher's acquire exchange of fmask then sees the
         * adds of the slots it names */
        if (f->bits[i])
            mp_or_release(&k->fmask, f->bits[i]);
        mp_store_relaxed(&k->last_ms, now);
        /* One RMW: gen + 1, inflight - 1, dirty set. release: a reader that
         * sees the new gen (or inflight back to 0) also sees every add of
         * this frame, and so does the evaluator whose clearing RMW of the
         * dirty bit reads from this one (or a later one). Dirty is set with
         * the frame's end, so an evaluator that found the key unstable and
         * skipped it gets it back. Only the frame that sets the bit links
         * the key, so a key is on the list at most once. */
        uint64_t w = mp_load_relaxed(&k->seq);
        while (!mp_cas_weak_acq_rel(&k->seq, &w, (w + SEQ_END_FRAME) | SEQ_DIRTY))
            ;
        if (!(w & SEQ_DIRTY)) {
            k->dirty_next = first;
            first = k;
            if (!last)
                last = k;
        }
    }
    if (first) {
        /* one push for the frame's whole chain (the list head is shared by
         * every writer); release: each dirty_next above is visible to the
         * drainer's acquire exchange */
        struct eng_key *head = mp_load_relaxed(&t->dirty_head);
        do {
            last->dirty_next = head;
        } while (!mp_cas_weak_release(&t->dirty_head, &head, first));
        /* a fence and a load per frame; a futex wake only when the
         * evaluator sleeps on an empty list */
        mp_wake_notify(&t->dirty_wake);
    }
    if (f->n * 4 < f->mask) { /* few keys: clear only what was used */
        for (uint32_t i = 0; i < f->n; i++) {
            uint64_t h = mp_hash_mix64((uint64_t)(uintptr_t)f->list[i]);
            for (uint32_t j = (uint32_t)h & f->mask; f->set[j]; j = (j + 1) & f->mask)
                f->set[j] = 0;
        }
    } else {
        memset(f->set, 0, (f->mask + 1) * sizeof(*f->set));
    }
    f->n = 0;
}

/* The name of the event's key of `scope` (1..ENG_NSCOPES-1), from the
 * event and its prep (table__prep_names). */
static inline const char *table__scope_name(const struct eng_event *ev, const struct eng_prep *p,
                                            int scope, size_t *len)
{
    switch (scope) {
    case ENG_SCOPE_MAILBOX: *len = ev->mailbox_len; return ev->mailbox;
    case ENG_SCOPE_DOMAIN: *len = ev->domain_len; return ev->domain;
    case ENG_SCOPE_PROVIDER: *len = p->prov_len; return p->mbp + (p->mbp_len - p->prov_len);
    case ENG_SCOPE_MAILBOX_PROVIDER: *len = p->mbp_len; return p->mbp;
    default: *len = ev->campaign_len; return ev->campaign;
    }
}

/* An event older than the daily ring goes to the store (added at the next
 * flush), for each of its scopes. Rare: history being backfilled. */
static int table__backfill(struct eng_table *t, const struct eng_event *ev,
                           const struct eng_prep *p, int64_t day)
{
    struct backfill *bf = malloc(sizeof(*bf));
    if (!bf)
        return MP_ERR_NOMEM;
    bf->day = day;
    bf->type = ev->type;
    memset(bf->ids, 0, sizeof(bf->ids));
    int rc = eng_intern_get(t->names, ev->tenant, ev->tenant_len, &bf->tid);
    for (int sc = 1; rc == MP_OK && sc < ENG_NSCOPES; sc++) {
        size_t len;
        const char *name = table__scope_name(ev, p, sc, &len);
        if (p->present & (1u << sc))
            rc = eng_intern_get(t->names, name, len, &bf->ids[sc]);
    }
    if (rc != MP_OK) {
        free(bf);
        return rc;
    }
    struct backfill *head = mp_load_relaxed(&t->backfill);
    do {
        bf->next = head;
    } while (!mp_cas_weak_release(&t->backfill, &head, bf)); /* release: bf's fields to the flusher */
    return MP_OK;
}

static inline int table__names_ok(const struct eng_event *ev)
{
    /* 1..NAME_MAX_LEN bytes each (size_t wraps for 0); the mailbox and the
     * campaign 0..NAME_MAX_LEN (0: the event has none) */
    return ev->tenant_len - 1 < NAME_MAX_LEN && ev->mailbox_len <= NAME_MAX_LEN &&
           ev->domain_len - 1 < NAME_MAX_LEN && ev->campaign_len <= NAME_MAX_LEN;
}

/* The event's scopes, the names the table derives (the provider, from the
 * map, and "mailbox/provider", copied into p so a retry after a quiescent
 * point never reads a replaced map), and one hash per key from the bytes.
 * The caller checked table__names_ok. */
static inline void table__prep_names(const struct eng_table *t, const struct eng_event *ev,
                                     struct eng_prep *p)
{
    size_t plen;
    /* acquire: pairs with eng_table_set_providers' exchange */
    const char *prov = eng_providers_lookup(mp_load_acquire(&((struct eng_table *)t)->prov),
                                            ev->domain, ev->domain_len, &plen);
    if (ev->mailbox_len) /* none: ev->mailbox may be NULL */
        memcpy(p->mbp, ev->mailbox, ev->mailbox_len);
    p->mbp[ev->mailbox_len] = '/';
    memcpy(p->mbp + ev->mailbox_len + 1, prov, plen);
    p->mbp_len = (uint16_t)(ev->mailbox_len + 1 + plen);
    p->prov_len = (uint16_t)plen;
    p->present = 1u << ENG_SCOPE_TENANT | 1u << ENG_SCOPE_DOMAIN | 1u << ENG_SCOPE_PROVIDER;
    /* no mailbox (an ESP feed without a sender): no mailbox and no
     * mailbox_provider key, rather than one named "" or "/google" */
    if (ev->mailbox_len)
        p->present |= 1u << ENG_SCOPE_MAILBOX;
    if (ev->mailbox_len && p->mbp_len <= NAME_MAX_LEN) /* else none (eng_table.h) */
        p->present |= 1u << ENG_SCOPE_MAILBOX_PROVIDER;
    if (ev->campaign_len)
        p->present |= 1u << ENG_SCOPE_CAMPAIGN;
    p->present &= t->scopes;
    p->h[0] = table__tenant_hash(t, ev->tenant, ev->tenant_len);
    for (int sc = 1; sc < ENG_NSCOPES; sc++) {
        size_t len;
        const char *name = table__scope_name(ev, p, sc, &len);
        p->h[sc] = p->present & (1u << sc) ? table__child_hash(p->h[0], sc, name, len) : 0;
    }
}

/* The rate cap (GCRA, one CAS): the event may pass when the tenant's
 * theoretical arrival time is at most burst_ns ahead of now; passing moves
 * it one interval on. Returns 1 when it passes. */
static inline int table__rate_take(struct eng_tenant *ten, int64_t now_ms)
{
    const int64_t now = now_ms * 1000000;
    const int64_t burst = (int64_t)mp_load_relaxed(&ten->burst_ns);
    const int64_t interval = (int64_t)mp_load_relaxed(&ten->interval_ns);
    int64_t tat = mp_load_relaxed(&ten->tat_ns);
    for (;;) {
        int64_t base = tat > now ? tat : now;
        if (base - now > burst)
            return 0;
        /* relaxed: the word orders nothing but itself */
        if (mp_cas_relaxed(&ten->tat_ns, &tat, base + interval))
            return 1;
    }
}

/* The event's keys, found or made, under the tenant's limits: the rate
 * first (an event over it makes no key), then the key cap. */
static inline int frame__keys(struct eng_table *t, const struct eng_frame *f,
                              const struct eng_event *ev, const struct eng_prep *p,
                              struct eng_key *keys[ENG_NSCOPES])
{
    int rc = table__get_key(t, p->h[0], ENG_SCOPE_TENANT, NULL, ev->tenant, ev->tenant_len, 0,
                            &keys[0]);
    if (rc != MP_OK)
        return rc;
    struct eng_tenant *ten = keys[0]->ten;
    if (mp_load_relaxed(&ten->interval_ns) &&
        !table__rate_take(ten, f->now_ms ? f->now_ms : mp_load_relaxed(&t->now_ms))) {
        eng_table__limit_reject(t, ten, ENG_LIM_RATE);
        return ENG_ERR_RATE_CAP;
    }
    for (int sc = 1; rc == MP_OK && sc < ENG_NSCOPES; sc++) {
        size_t len;
        const char *name = table__scope_name(ev, p, sc, &len);
        keys[sc] = NULL;
        if (p->present & (1u << sc))
            rc = table__get_key(t, p->h[sc], sc, keys[0], name, len, 0, &keys[sc]);
    }
    if (rc == ENG_ERR_KEY_CAP)
        eng_table__limit_reject(t, ten, ENG_LIM_KEYS);
    return rc;
}

/* eng_frame_record with the event's prep (names and hashes) already made
 * (pin), or not (NULL). */
static inline int frame__record(struct eng_table *t, struct eng_frame *f,
                                const struct eng_event *ev, const struct eng_prep *pin)
{
    if (ev->type < ENG_TYPE_MIN || ev->type > ENG_TYPE_MAX)
        return MP_ERR_INVAL;
    int64_t b = table__floordiv(ev->time_ms, ENG_FINE_MS);
    int64_t hb = table__floordiv(ev->time_ms, ENG_HOUR_MS);
    int64_t d = table__floordiv(ev->time_ms, ENG_DAY_MS);
    /* seq_cst: after this thread's seq_cst quiescent store (eng_qsbr.h) */
    int64_t cf = mp_load_seq_cst(&t->cur_fine);
    int64_t ch = mp_load_seq_cst(&t->cur_hour);
    int64_t cd = mp_load_seq_cst(&t->cur_day);
    if (cd == ENG_NO_BUCKET) /* a day ring reset is in progress (clock jumped) */
        return MP_ERR_AGAIN;
    /* seq_cst, as cur_day: a reclaim pass is unlinking keys (it waits for
     * this writer's next quiescent point, then for the retry) */
    if (mp_load_seq_cst(&t->reclaiming))
        return MP_ERR_AGAIN;
    if (d < cd - t->retention_days || d > cd + 1 || (cf != ENG_NO_BUCKET && b > cf + 1))
        return MP_ERR_INVAL;
    if (!table__names_ok(ev))
        return MP_ERR_INVAL;
    struct eng_prep local;
    const struct eng_prep *p = pin;
    if (!p) {
        table__prep_names(t, ev, &local);
        p = &local;
        /* the slot loads are independent: start them together */
        for (int sc = 1; sc < ENG_NSCOPES; sc++)
            if (p->present & (1u << sc))
                __builtin_prefetch(&t->slots[p->h[sc] & t->mask]);
    }
    /* only with a store: older than every ring, so the event goes to the
     * store alone; its keys are still made (the caps count them) for
     * their first-seen day */
    const int backfill = d < cd - t->day_back;
    /* Each ring takes the event when its bucket is held; a late event lands
     * in its own bucket of every ring that still holds it. */
    int in_fine = cf != ENG_NO_BUCKET && b >= cf - ENG_FINE_BACK;
    int in_hour = ch != ENG_NO_BUCKET && hb >= ch - ENG_HOUR_BACK && hb <= ch + 1;

    struct eng_key *keys[ENG_NSCOPES];
    int rc = frame__keys(t, f, ev, p, keys);
    if (rc != MP_OK)
        return rc;
    if (__builtin_expect(backfill, 0)) {
        for (int sc = 0; sc < ENG_NSCOPES; sc++)
            if (keys[sc])
                table__first_seen(t, keys[sc], d);
        return table__backfill(t, ev, p, d);
    }

    if (f->n + ENG_NSCOPES > f->max)
        eng_frame_end(t, f); /* too many distinct keys: publish what we have */
    uint64_t fs = table__mod(b, ENG_FINE_SLOTS);
    uint64_t hs = table__mod(hb, ENG_HOUR_SLOTS);
    uint64_t ds = table__mod(d, t->day_slots);
    uint64_t bits = 0;
    if (t->store)
        bits = (in_fine ? 1ULL << (BIT_FINE + fs) : 0) | (in_hour ? 1ULL << (BIT_HOUR + hs) : 0) |
               1ULL << (BIT_DAY + ds);
    struct eng_series *ser[ENG_NSCOPES];
    int n = 0;
    for (int sc = 0; sc < ENG_NSCOPES; sc++) {
        if (!keys[sc])
            continue;
        uint32_t idx;
        /* touch (and warm) first: a series pointer taken before the frame
         * holds the key could belong to another key after an eviction */
        if ((rc = frame__touch(t, f, keys[sc], &idx)) != MP_OK)
            return rc;
        f->bits[idx] |= bits;
        if (!(ser[n++] = table__series(t, keys[sc], ev->type)))
            return MP_ERR_NOMEM;
        table__first_seen(t, keys[sc], d);
    }
    /* release fence: pairs with the reader's acquire fence in
     * eng_key_read_end(); a reader that sees any add below also sees the
     * inflight increments above. */
    mp_fence_release();

    for (int i = 0; i < n; i++) {
        if (in_fine)
            mp_add_relaxed(&ser[i]->fine[fs], 1);
        if (in_hour)
            mp_add_relaxed(&ser[i]->hour[hs], 1);
        mp_add_relaxed(&ser[i]->day[ds], 1);
    }
    return MP_OK;
}

int eng_frame_record(struct eng_table *t, struct eng_frame *f, const struct eng_event *ev)
{
    return frame__record(t, f, ev, NULL);
}

/* ---- lookahead --------------------------------------------------------------- */

void eng_prep_start(const struct eng_table *t, const struct eng_event *ev, struct eng_prep *p)
{
    memset(p->k, 0, sizeof(p->k));
    p->ok = table__names_ok(ev);
    if (!p->ok)
        return;
    table__prep_names(t, ev, p);
    for (int i = 0; i < ENG_NSCOPES; i++)
        if (p->present & (1u << i))
            __builtin_prefetch(&t->slots[p->h[i] & t->mask]);
}

void eng_prep_keys(const struct eng_table *t, struct eng_prep *p)
{
    if (!p->ok)
        return;
    for (int i = 0; i < ENG_NSCOPES; i++) {
        const uint64_t tag = table__tag(p->h[i]);
        p->k[i] = NULL;
        if (!(p->present & (1u << i)))
            continue;
        /* the first slot with the key's tag names it, nearly always; the
         * record verifies, this only warms the lines */
        for (uint64_t j = p->h[i] & t->mask, n = 0; n < 4; j = (j + 1) & t->mask, n++) {
            uint64_t w = mp_load_acquire(&t->slots[j]);
            if (!w)
                break;
            if (w >> SLOT_PTR_BITS == tag) {
                const char *k = (const char *)table__slot_key(w);
                p->k[i] = (const struct eng_key *)k;
                __builtin_prefetch(k, 1);
                __builtin_prefetch(k + 64, 1);
                __builtin_prefetch(k + offsetof(struct eng_key, name) + NAME_PREFETCH);
                break;
            }
        }
    }
}

void eng_prep_counters(const struct eng_table *t, const struct eng_event *ev,
                       const struct eng_prep *p)
{
    if (!p->ok || ev->type < ENG_TYPE_MIN || ev->type > ENG_TYPE_MAX)
        return;
    uint64_t fs = table__mod(table__floordiv(ev->time_ms, ENG_FINE_MS), ENG_FINE_SLOTS);
    uint64_t hs = table__mod(table__floordiv(ev->time_ms, ENG_HOUR_MS), ENG_HOUR_SLOTS);
    uint64_t ds = table__mod(table__floordiv(ev->time_ms, ENG_DAY_MS), t->day_slots);
    for (int i = 0; i < ENG_NSCOPES; i++) {
        if (!p->k[i])
            continue;
        /* a key is never freed before the table, so reading a candidate
         * that turns out to be another key is harmless */
        uint32_t sid = mp_load_acquire(&((struct eng_key *)p->k[i])->sid[ev->type - 1]);
        if (!sid)
            continue;
        struct eng_series *s = table__sptr(t, sid);
        __builtin_prefetch(&s->fine[fs], 1);
        __builtin_prefetch(&s->hour[hs], 1);
        __builtin_prefetch(&s->day[ds], 1);
    }
}

int eng_frame_record_prep(struct eng_table *t, struct eng_frame *f, const struct eng_event *ev,
                          const struct eng_prep *p)
{
    return frame__record(t, f, ev, p->ok ? p : NULL);
}

int eng_table_record(struct eng_table *t, struct eng_thread *th, const struct eng_event *ev)
{
    MP_UNUSED(th); /* the caller's online state is what matters, not the handle */
    uint32_t set[16]; /* a power of two over the keys, so a probe ends */
    struct eng_key *list[ENG_NSCOPES];
    uint64_t bits[ENG_NSCOPES];
    struct eng_frame f;
    frame__init(&f, set, 16, list, bits, ENG_NSCOPES);
    int rc = eng_frame_record(t, &f, ev);
    eng_frame_end(t, &f);
    return rc;
}
