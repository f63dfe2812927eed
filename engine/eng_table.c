/* eng_table.c — lock-free key table with event-time bucket rings (see eng_table.h).
 *
 * Layout: an open-addressed, linearly probed array of key pointers. A slot
 * goes from NULL to a key exactly once (CAS, release) and never changes, so
 * lookups are plain acquire loads and need no lock. Keys are never freed
 * before the table is destroyed (eviction comes with the store).
 *
 * Rings: a bucket index b (event time / width) lives in slot b % ring. The
 * table publishes a "current" bucket; writers accept b in
 * [current - back, current + 1]. The ring is one slot larger than that held
 * range, and tick advances the range by one bucket at a time:
 *   1. publish current + 1 (its new front slot was cleared one step earlier);
 *   2. wait a grace period: every online writer passes a quiescent point, so
 *      none still adds into the bucket that just left the range;
 *   3. clear the slot of the bucket that left — it becomes the spare that the
 *      next step will publish as the new front.
 * So slots outside the held range are always zero and no writer ever adds to
 * a slot while it is cleared.
 */
#include "eng_table.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <time.h>

#include "eng_arena.h"
#include "eng_intern.h"
#include "eng_store.h"
#include "mp_log.h"
#include "mp_atomic.h"
#include "mp_hash.h"

/* One event type's counters for one key. `next` and `type` do not change
 * while the series is on its key's list. */
struct eng_series {
    /* Atomic (relaxed) because an evicted series is recycled while a stale
     * reader may still walk it; such a read is discarded (see read_end). */
    _Atomic(struct eng_series *) next;
    mp_atomic_u32 type; /* ENG_TYPE_MIN..ENG_TYPE_MAX */
    mp_atomic_u32 fine[ENG_FINE_SLOTS];
    mp_atomic_u32 hour[ENG_HOUR_SLOTS];
    mp_atomic_u32 day[]; /* day_slots */
};

#define SNEXT(s) mp_load_relaxed(&(s)->next)
#define STYPE(s) mp_load_relaxed(&(s)->type)

/* Key residency. A COLD key keeps its header (id, names, lists) in the
 * table; its counters live only in the store until it is touched again. */
enum { KEY_HOT = 0, KEY_EVICTING = 1, KEY_COLD = 2, KEY_LOADING = 3 };

struct eng_key {
    uint64_t hash;
    uint32_t id;
    uint32_t tenant_id;
    uint32_t name_id; /* mailbox or domain id; 0 for tenant scope */
    uint8_t scope;
    mp_atomic_u32 dirty;         /* 1 while on the dirty list */
    mp_atomic_u32 inflight;      /* frames in progress that touch this key */
    mp_atomic_u32 gen;           /* frames ended that touched this key */
    struct eng_key *dirty_next;  /* written by the pusher that set dirty 0->1 */
    _Atomic(struct eng_series *) series;   /* one per event type seen, newest first */
    _Atomic(struct eng_key *) children;    /* tenant keys: its mailbox/domain keys */
    struct eng_key *sibling;               /* next child of the same tenant (immutable) */
    mp_atomic_u64 fmask; /* ring slots changed since the last flush (see table__bit) */
    mp_atomic_u32 state;  /* KEY_HOT .. KEY_LOADING */
    mp_atomic_i64 last_ms; /* last write or load (table clock, coarse) */
};

struct eng_thread {
    struct eng_table *t;
    mp_atomic_u64 ctr; /* 0: offline; else the epoch seen at the last quiescent point */
    struct eng_thread *next;
};

struct eng_table {
    uint32_t max_keys;
    int64_t retention_ms;
    int day_back;  /* held days: current - day_back .. current + 1 */
    int day_slots; /* day_back + 3: held range plus one spare */
    size_t series_size;
    struct eng_arena *arena; /* keys and series */
    mp_atomic_u64 nseries;

    struct eng_intern *names;
    uint64_t mask;
    _Atomic(struct eng_key *) *slots;
    _Atomic(struct eng_key *) *by_id;
    mp_atomic_u32 next_id;
    mp_atomic_u32 nkeys;

    /* Current buckets; seq_cst so the grace-period handshake below holds. */
    _Atomic int64_t cur_fine;
    _Atomic int64_t cur_hour;
    _Atomic int64_t cur_day;

    struct eng_key *_Atomic dirty_head;

    struct eng_store *store;       /* NULL: memory only */
    int64_t evict_idle_ms;         /* 0: never evict */
    mp_atomic_i64 now_ms;          /* coarse clock, set by tick */
    pthread_mutex_t free_lock;     /* guards free_series (not on the per-event path) */
    _Atomic(struct eng_series *) free_series; /* recycled series of evicted keys */
    mp_atomic_u64 evictions, loads, cold;
    int retention_days;            /* oldest day accepted: current - retention_days */
    struct backfill *_Atomic backfill; /* events for days older than the ring */
    int64_t dropped_before[3];     /* per resolution: store deletes done below this bucket */

    mp_atomic_u64 epoch;
    pthread_mutex_t reg_lock; /* guards `threads`; taken only on (un)register and tick */
    struct eng_thread *threads;
};

_Static_assert(ENG_FINE_SLOTS >= ENG_FINE_BACK + 3, "fine ring needs one spare slot");
_Static_assert(ENG_FINE_WINDOW_MAX <= ENG_FINE_BACK + 1, "fine window exceeds held range");
_Static_assert(ENG_HOUR_SLOTS >= ENG_HOUR_BACK + 3, "hour ring needs one spare slot");
_Static_assert(ENG_HOUR_BACK + 1 >= 24, "hour ring must hold the 24 h window");

#define ENG_NO_BUCKET INT64_MIN /* published while a ring is being reset */

static int table__load(struct eng_table *t);
static int table__ensure_hot(struct eng_table *t, struct eng_key *k);
static void table__recycle_list(struct eng_table *t, struct eng_series *s);
static int table__get_key(struct eng_table *t, int scope, uint32_t tid, uint32_t nid,
                          struct eng_key *parent, struct eng_key **out);
static struct eng_series *table__series(struct eng_table *t, struct eng_key *k, int type);
static void table__flush_leaving(struct eng_table *t, int res, uint64_t slot, int64_t bucket);

/* An event for a day older than the daily ring: it goes to the store only. */
struct backfill {
    struct backfill *next;
    int64_t day;
    uint32_t tid, ids[ENG_NSCOPES]; /* name id per scope (0 for the tenant) */
    int type;
};

/* Flush mask layout: one bit per ring slot, fine | hour | day. */
#define BIT_FINE 0
#define BIT_HOUR ENG_FINE_SLOTS
#define BIT_DAY (ENG_FINE_SLOTS + ENG_HOUR_SLOTS)
#define STORE_DAY_BACK 13 /* with a store: 7 d + the 7 d before, in memory */
_Static_assert(BIT_DAY + STORE_DAY_BACK + 3 <= 64, "flush mask must fit 64 bits");

static int64_t table__floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static uint64_t table__mod(int64_t a, int64_t m)
{
    int64_t r = a % m;
    return (uint64_t)(r < 0 ? r + m : r);
}

int eng_table_create(const struct eng_table_opts *opts, int64_t now_ms, struct eng_table **out)
{
    int rc = MP_ERR_INVAL;
    struct eng_table *t = NULL;
    if (opts->max_keys < 16 || opts->retention_ms < ENG_DAY_MS)
        goto err;
    rc = MP_ERR_NOMEM;
    t = calloc(1, sizeof(*t));
    if (!t)
        goto err;
    pthread_mutex_init(&t->reg_lock, NULL);
    t->max_keys = opts->max_keys;
    t->retention_ms = opts->retention_ms;
    t->retention_days = (int)((opts->retention_ms + ENG_DAY_MS - 1) / ENG_DAY_MS);
    t->store = opts->store;
    t->evict_idle_ms = opts->store ? opts->evict_idle_ms : 0;
    pthread_mutex_init(&t->free_lock, NULL);
    atomic_init(&t->now_ms, now_ms);
    /* With a store, memory holds what rules and stats read (7 d and the 7 d
     * before); older days live in the store. Without one, memory is all. */
    t->day_back = t->store ? STORE_DAY_BACK
                           : (t->retention_days > STORE_DAY_BACK ? t->retention_days : STORE_DAY_BACK);
    t->day_slots = t->day_back + 3;
    t->series_size = sizeof(struct eng_series) + (size_t)t->day_slots * sizeof(mp_atomic_u32);
    uint64_t nslots = 16;
    while (nslots < (uint64_t)opts->max_keys * 2)
        nslots <<= 1;
    t->mask = nslots - 1;
    t->slots = calloc(nslots, sizeof(*t->slots));
    t->by_id = calloc((size_t)opts->max_keys + 1, sizeof(*t->by_id));
    if (!t->slots || !t->by_id)
        goto err;
    /* Each key names at most one new string besides its tenant. */
    rc = eng_intern_create(opts->max_keys + 1024, &t->names);
    if (rc == MP_OK)
        rc = eng_arena_create(&t->arena);
    if (rc != MP_OK)
        goto err;
    atomic_init(&t->next_id, 1);
    atomic_init(&t->epoch, 1);
    atomic_init(&t->cur_fine, table__floordiv(now_ms, ENG_FINE_MS));
    atomic_init(&t->cur_hour, table__floordiv(now_ms, ENG_HOUR_MS));
    atomic_init(&t->cur_day, table__floordiv(now_ms, ENG_DAY_MS));
    if (t->store && (rc = table__load(t)) != MP_OK)
        goto err;
    *out = t;
    return MP_OK;
err:
    eng_table_destroy(t);
    return rc;
}

void eng_table_destroy(struct eng_table *t)
{
    if (!t)
        return;
    while (t->backfill) { /* unflushed backfill: the caller chose not to flush */
        struct backfill *n = t->backfill->next;
        free(t->backfill);
        t->backfill = n;
    }
    free(t->by_id); /* keys and series live in the arena */
    eng_arena_destroy(t->arena);
    free(t->slots);
    eng_intern_destroy(t->names);
    while (t->threads) {
        struct eng_thread *n = t->threads->next;
        free(t->threads);
        t->threads = n;
    }
    pthread_mutex_destroy(&t->reg_lock);
    pthread_mutex_destroy(&t->free_lock);
    free(t);
}

/* ---- grace periods (QSBR) ---------------------------------------------- */

int eng_thread_register(struct eng_table *t, struct eng_thread **out)
{
    struct eng_thread *th = calloc(1, sizeof(*th));
    if (!th)
        return MP_ERR_NOMEM;
    th->t = t;
    atomic_init(&th->ctr, 0);
    pthread_mutex_lock(&t->reg_lock);
    th->next = t->threads;
    t->threads = th;
    pthread_mutex_unlock(&t->reg_lock);
    *out = th;
    return MP_OK;
}

void eng_thread_unregister(struct eng_thread *th)
{
    if (!th)
        return;
    struct eng_table *t = th->t;
    eng_thread_offline(th);
    pthread_mutex_lock(&t->reg_lock);
    for (struct eng_thread **pp = &t->threads; *pp; pp = &(*pp)->next) {
        if (*pp == th) {
            *pp = th->next;
            break;
        }
    }
    pthread_mutex_unlock(&t->reg_lock);
    free(th);
}

void eng_thread_quiescent(struct eng_thread *th)
{
    /* seq_cst store then seq_cst loads of cur_*: with tick's seq_cst store of
     * cur_* before its epoch bump, either this thread sees the new range or
     * tick sees this thread's old epoch and waits for it (store-load order). */
    atomic_store(&th->ctr, atomic_load(&th->t->epoch));
}

void eng_thread_online(struct eng_thread *th) { eng_thread_quiescent(th); }

void eng_thread_offline(struct eng_thread *th)
{
    /* release: this thread's counter adds happen-before tick's acquire load
     * of ctr, and so before any clearing tick does after the grace period. */
    mp_store_release(&th->ctr, 0);
}

static void table__synchronize(struct eng_table *t)
{
    uint64_t target = atomic_fetch_add(&t->epoch, 1) + 1;
    pthread_mutex_lock(&t->reg_lock);
    for (struct eng_thread *th = t->threads; th; th = th->next) {
        for (;;) {
            uint64_t c = mp_load_acquire(&th->ctr);
            if (c == 0 || c >= target)
                break;
            struct timespec ts = {0, 50 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    pthread_mutex_unlock(&t->reg_lock);
}

/* ---- keys ---------------------------------------------------------------- */

static uint64_t table__key_hash(int scope, uint32_t tid, uint32_t nid)
{
    return mp_hash_mix64(((uint64_t)tid << 32 | nid) ^ ((uint64_t)scope << 62) ^
                         0x5851f42d4c957f2dULL);
}

static struct eng_key *table__lookup(const struct eng_table *t, uint64_t h, int scope,
                                     uint32_t tid, uint32_t nid)
{
    for (uint64_t i = h & t->mask, n = 0; n <= t->mask; i = (i + 1) & t->mask, n++) {
        /* acquire: pairs with the release CAS that published the key */
        struct eng_key *k = mp_load_acquire(&t->slots[i]);
        if (!k)
            return NULL;
        if (k->hash == h && k->scope == scope && k->tenant_id == tid && k->name_id == nid)
            return k;
    }
    return NULL;
}

static int table__get_key(struct eng_table *t, int scope, uint32_t tid, uint32_t nid,
                          struct eng_key *parent, struct eng_key **out)
{
    uint64_t h = table__key_hash(scope, tid, nid);
    for (uint64_t i = h & t->mask, n = 0; n <= t->mask; i = (i + 1) & t->mask, n++) {
        struct eng_key *k = mp_load_acquire(&t->slots[i]);
        if (!k) {
            /* Claim an id first (checked so next_id cannot run away and
             * wrap); a lost race below wastes the id and a few arena
             * bytes, never correctness. */
            if (mp_load_relaxed(&t->next_id) > t->max_keys)
                return MP_ERR_FULL;
            uint32_t id = mp_add_relaxed(&t->next_id, 1);
            if (id > t->max_keys)
                return MP_ERR_FULL;
            struct eng_key *mine = eng_arena_alloc(t->arena, sizeof(*mine));
            if (!mine)
                return MP_ERR_NOMEM;
            mine->hash = h;
            mine->id = id;
            mine->tenant_id = tid;
            mine->name_id = nid;
            mine->scope = (uint8_t)scope;
            if (parent)
                mine->sibling = mp_load_relaxed(&parent->children);
            struct eng_key *expect = NULL;
            if (mp_cas_acq_rel(&t->slots[i], &expect, mine)) {
                mp_store_release(&t->by_id[id], mine);
                mp_add_relaxed(&t->nkeys, 1);
                if (parent) {
                    /* push on the tenant's child list; sibling is written
                     * before the release CAS that publishes it */
                    struct eng_key *head = mine->sibling;
                    while (!atomic_compare_exchange_weak_explicit(
                        &parent->children, &head, mine, memory_order_release,
                        memory_order_relaxed))
                        mine->sibling = head;
                }
                *out = mine;
                return MP_OK;
            }
            k = expect; /* lost: compare with the winner */
        }
        if (k->hash == h && k->scope == scope && k->tenant_id == tid && k->name_id == nid) {
            *out = k;
            return MP_OK;
        }
    }
    return MP_ERR_FULL;
}

/* The key's series for `type`, created on first use. */
static struct eng_series *table__series(struct eng_table *t, struct eng_key *k, int type)
{
    /* acquire: pairs with the release CAS that published each series */
    struct eng_series *head = mp_load_acquire(&k->series);
    for (struct eng_series *s = head; s; s = SNEXT(s))
        if (STYPE(s) == (uint32_t)type)
            return s;
    struct eng_series *mine = NULL;
    if (mp_load_relaxed(&t->free_series)) { /* a peek; the lock decides */
        pthread_mutex_lock(&t->free_lock);
        mine = mp_load_relaxed(&t->free_series);
        if (mine)
            mp_store_relaxed(&t->free_series, SNEXT(mine));
        pthread_mutex_unlock(&t->free_lock);
    }
    if (!mine && !(mine = eng_arena_alloc(t->arena, t->series_size)))
        return NULL;
    mp_store_relaxed(&mine->type, (uint32_t)type);
    for (;;) {
        mp_store_relaxed(&mine->next, head);
        if (atomic_compare_exchange_weak_explicit(&k->series, &head, mine, memory_order_release,
                                                  memory_order_acquire)) {
            mp_add_relaxed(&t->nseries, 1);
            return mine;
        }
        /* someone pushed first: maybe the same type */
        for (struct eng_series *s = head; s && s != SNEXT(mine); s = SNEXT(s))
            if (STYPE(s) == (uint32_t)type)
                return s; /* ours stays unused in the arena */
    }
}

static void table__mark_dirty(struct eng_table *t, struct eng_key *k)
{
    /* acq_rel: the counter adds before this exchange are visible to the
     * evaluator, whose clearing exchange reads from this one (or from a later
     * RMW in the same chain). Only the thread that flips 0->1 pushes, so a
     * key is on the list at most once. */
    if (mp_xchg_acq_rel(&k->dirty, 1) != 0)
        return;
    struct eng_key *head = mp_load_relaxed(&t->dirty_head);
    do {
        k->dirty_next = head;
    } while (!atomic_compare_exchange_weak_explicit(&t->dirty_head, &head, k,
                                                    memory_order_release, memory_order_relaxed));
}

struct eng_frame {
    uint32_t mask;         /* set capacity - 1 (power of two) */
    uint32_t n;            /* keys in `list` */
    uint32_t max;          /* end the frame when n reaches this */
    uint32_t *set;         /* open-addressed: index into `list` + 1, 0 empty */
    struct eng_key **list; /* distinct keys touched, in order */
    uint64_t *bits;        /* per list entry: ring slots touched (flush mask) */
};

static void frame__init(struct eng_frame *f, uint32_t *set, uint32_t setcap,
                        struct eng_key **list, uint64_t *bits, uint32_t max)
{
    f->mask = setcap - 1;
    f->n = 0;
    f->max = max;
    f->set = set;
    f->list = list;
    f->bits = bits;
    memset(set, 0, setcap * sizeof(*set));
}

int eng_frame_create(struct eng_frame **out)
{
    struct eng_frame *f = calloc(1, sizeof(*f));
    uint32_t *set = calloc(2 * ENG_FRAME_KEYS, sizeof(*set));
    struct eng_key **list = calloc(ENG_FRAME_KEYS, sizeof(*list));
    uint64_t *bits = calloc(ENG_FRAME_KEYS, sizeof(*bits));
    if (!f || !set || !list || !bits) {
        free(f);
        free(set);
        free(list);
        free(bits);
        return MP_ERR_NOMEM;
    }
    frame__init(f, set, 2 * ENG_FRAME_KEYS, list, bits, ENG_FRAME_KEYS);
    *out = f;
    return MP_OK;
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
            atomic_fetch_add(&k->inflight, 1);
            *idx = f->n++;
            return table__ensure_hot(t, k);
        }
    }
}

void eng_frame_end(struct eng_table *t, struct eng_frame *f)
{
    for (uint32_t i = 0; i < f->n; i++) {
        struct eng_key *k = f->list[i];
        /* release: the flusher's acquire exchange of fmask then sees the
         * adds of the slots it names */
        if (f->bits[i])
            atomic_fetch_or_explicit(&k->fmask, f->bits[i], memory_order_release);
        mp_store_relaxed(&k->last_ms, mp_load_relaxed(&t->now_ms));
        /* release: a reader that sees the new gen (or inflight back to 0)
         * also sees every add of this frame. gen first, so a reader that
         * sees inflight drop has a changed gen to compare against. */
        atomic_fetch_add_explicit(&k->gen, 1, memory_order_release);
        atomic_fetch_sub_explicit(&k->inflight, 1, memory_order_release);
        /* dirty last: an evaluator that found the key unstable and skipped
         * it gets it back here */
        table__mark_dirty(t, k);
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

/* An event older than the daily ring goes to the store (added at the next
 * flush), for all three scopes. Rare: history being backfilled. */
static int table__backfill(struct eng_table *t, const struct eng_event *ev, int64_t day)
{
    struct backfill *bf = malloc(sizeof(*bf));
    if (!bf)
        return MP_ERR_NOMEM;
    bf->day = day;
    bf->type = ev->type;
    bf->ids[0] = 0;
    int rc = eng_intern_get(t->names, ev->tenant, ev->tenant_len, &bf->tid);
    if (rc == MP_OK)
        rc = eng_intern_get(t->names, ev->mailbox, ev->mailbox_len, &bf->ids[1]);
    if (rc == MP_OK)
        rc = eng_intern_get(t->names, ev->domain, ev->domain_len, &bf->ids[2]);
    if (rc != MP_OK) {
        free(bf);
        return rc;
    }
    struct backfill *head = mp_load_relaxed(&t->backfill);
    do {
        bf->next = head;
    } while (!atomic_compare_exchange_weak_explicit(&t->backfill, &head, bf, memory_order_release,
                                                    memory_order_relaxed));
    return MP_OK;
}

int eng_frame_record(struct eng_table *t, struct eng_frame *f, const struct eng_event *ev)
{
    if (ev->type < ENG_TYPE_MIN || ev->type > ENG_TYPE_MAX)
        return MP_ERR_INVAL;
    int64_t b = table__floordiv(ev->time_ms, ENG_FINE_MS);
    int64_t hb = table__floordiv(ev->time_ms, ENG_HOUR_MS);
    int64_t d = table__floordiv(ev->time_ms, ENG_DAY_MS);
    int64_t cf = atomic_load(&t->cur_fine);
    int64_t ch = atomic_load(&t->cur_hour);
    int64_t cd = atomic_load(&t->cur_day);
    if (cd == ENG_NO_BUCKET) /* a day ring reset is in progress (clock jumped) */
        return MP_ERR_AGAIN;
    if (d < cd - t->retention_days || d > cd + 1 || (cf != ENG_NO_BUCKET && b > cf + 1))
        return MP_ERR_INVAL;
    if (d < cd - t->day_back) /* only with a store: older than every ring */
        return table__backfill(t, ev, d);
    /* Each ring takes the event when its bucket is held; a late event lands
     * in its own bucket of every ring that still holds it. */
    int in_fine = cf != ENG_NO_BUCKET && b >= cf - ENG_FINE_BACK;
    int in_hour = ch != ENG_NO_BUCKET && hb >= ch - ENG_HOUR_BACK && hb <= ch + 1;

    uint32_t tid, mid, did;
    int rc = eng_intern_get(t->names, ev->tenant, ev->tenant_len, &tid);
    if (rc == MP_OK)
        rc = eng_intern_get(t->names, ev->mailbox, ev->mailbox_len, &mid);
    if (rc == MP_OK)
        rc = eng_intern_get(t->names, ev->domain, ev->domain_len, &did);
    struct eng_key *keys[ENG_NSCOPES];
    if (rc == MP_OK)
        rc = table__get_key(t, ENG_SCOPE_TENANT, tid, 0, NULL, &keys[0]);
    if (rc == MP_OK)
        rc = table__get_key(t, ENG_SCOPE_MAILBOX, tid, mid, keys[0], &keys[1]);
    if (rc == MP_OK)
        rc = table__get_key(t, ENG_SCOPE_DOMAIN, tid, did, keys[0], &keys[2]);
    if (rc != MP_OK)
        return rc;

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
    for (int i = 0; i < ENG_NSCOPES; i++) {
        uint32_t idx;
        /* touch (and warm) first: a series pointer taken before the frame
         * holds the key could belong to another key after an eviction */
        if ((rc = frame__touch(t, f, keys[i], &idx)) != MP_OK)
            return rc;
        f->bits[idx] |= bits;
        if (!(ser[i] = table__series(t, keys[i], ev->type)))
            return MP_ERR_NOMEM;
    }
    /* release fence: pairs with the reader's acquire fence in
     * eng_key_read_end(); a reader that sees any add below also sees the
     * inflight increments above. */
    atomic_thread_fence(memory_order_release);

    for (int i = 0; i < ENG_NSCOPES; i++) {
        if (in_fine)
            mp_add_relaxed(&ser[i]->fine[fs], 1);
        if (in_hour)
            mp_add_relaxed(&ser[i]->hour[hs], 1);
        mp_add_relaxed(&ser[i]->day[ds], 1);
    }
    return MP_OK;
}

int eng_table_record(struct eng_table *t, struct eng_thread *th, const struct eng_event *ev)
{
    MP_UNUSED(th); /* the caller's online state is what matters, not the handle */
    uint32_t set[8];
    struct eng_key *list[ENG_NSCOPES];
    uint64_t bits[ENG_NSCOPES];
    struct eng_frame f;
    frame__init(&f, set, 8, list, bits, ENG_NSCOPES);
    int rc = eng_frame_record(t, &f, ev);
    eng_frame_end(t, &f);
    return rc;
}

int eng_key_read_begin(const struct eng_key *k, uint32_t *token)
{
    struct eng_key *kk = (struct eng_key *)k;
    /* acquire: pairs with eng_frame_end's release, so the adds of every
     * frame counted in gen are visible to the reads that follow */
    *token = atomic_load_explicit(&kk->gen, memory_order_acquire);
    return atomic_load_explicit(&kk->inflight, memory_order_acquire) == 0 &&
           atomic_load_explicit(&kk->state, memory_order_acquire) == KEY_HOT;
}

int eng_key_read_end(const struct eng_key *k, uint32_t token)
{
    struct eng_key *kk = (struct eng_key *)k;
    /* acquire fence: if the sums saw an add of a frame that began after
     * read_begin, this fence synchronises with that frame's release fence,
     * so the loads below see its inflight increment (or its end, in gen). */
    atomic_thread_fence(memory_order_acquire);
    return mp_load_relaxed(&kk->inflight) == 0 && mp_load_relaxed(&kk->gen) == token &&
           mp_load_relaxed(&kk->state) == KEY_HOT;
}

/* ---- time ------------------------------------------------------------------ */

/* Zeroes ring slot `slot` of resolution `res` in every series of every key. */
static void table__clear(struct eng_table *t, int res, uint64_t slot)
{
    uint32_t n = mp_load_relaxed(&t->next_id);
    for (uint32_t id = 1; id < n && id <= t->max_keys; id++) {
        struct eng_key *k = mp_load_acquire(&t->by_id[id]);
        if (!k)
            continue;
        for (struct eng_series *s = mp_load_acquire(&k->series); s; s = SNEXT(s)) {
            mp_atomic_u32 *c = res == ENG_RES_FINE ? s->fine : res == ENG_RES_HOUR ? s->hour : s->day;
            mp_store_relaxed(&c[slot], 0);
        }
    }
}

/* Moves one ring forward to `want`. One step at a time keeps the invariant
 * described at the top of this file. A jump longer than the ring (the
 * process was stopped or the machine slept) instead retires the whole ring:
 * publish "nothing held", wait a grace period, clear every slot, publish the
 * new current bucket. Events arriving meanwhile skip the fine ring only. */
static void table__advance(struct eng_table *t, _Atomic int64_t *cur, int64_t want, int back,
                           int ring, int res)
{
    int64_t c = atomic_load(cur);
    if (want - c > ring) {
        if (t->store)
            eng_table_flush(t, 0, NULL); /* keep what the old ring held */
        atomic_store(cur, ENG_NO_BUCKET);
        table__synchronize(t);
        for (int s = 0; s < ring; s++)
            table__clear(t, res, (uint64_t)s);
        atomic_store(cur, want);
        return;
    }
    while (c < want) {
        atomic_store(cur, c + 1);
        table__synchronize(t);
        /* the bucket leaving the ring goes to the store before it is cleared */
        uint64_t slot = table__mod(c - back, ring);
        if (t->store)
            table__flush_leaving(t, res, slot, c - back);
        table__clear(t, res, slot);
        c++;
    }
}

void eng_table_tick(struct eng_table *t, int64_t now_ms)
{
    mp_store_relaxed(&t->now_ms, now_ms);
    table__advance(t, &t->cur_fine, table__floordiv(now_ms, ENG_FINE_MS), ENG_FINE_BACK,
                   ENG_FINE_SLOTS, ENG_RES_FINE);
    table__advance(t, &t->cur_hour, table__floordiv(now_ms, ENG_HOUR_MS), ENG_HOUR_BACK,
                   ENG_HOUR_SLOTS, ENG_RES_HOUR);
    table__advance(t, &t->cur_day, table__floordiv(now_ms, ENG_DAY_MS), t->day_back,
                   t->day_slots, ENG_RES_DAY);
}

/* ---- persistence ----------------------------------------------------------- */

static void table__counts(const struct eng_key *k, int res, uint64_t slot,
                          uint64_t out[ENG_NTYPES])
{
    memset(out, 0, sizeof(uint64_t) * ENG_NTYPES);
    for (struct eng_series *s = mp_load_acquire(&((struct eng_key *)k)->series); s; s = SNEXT(s)) {
        mp_atomic_u32 *c = res == ENG_RES_FINE ? s->fine : res == ENG_RES_HOUR ? s->hour : s->day;
        out[STYPE(s) - 1] = mp_load_relaxed(&c[slot]);
    }
}

static void table__put(struct eng_store_batch *b, const struct eng_key *k, int res, uint64_t slot,
                       int64_t bucket)
{
    uint64_t c[ENG_NTYPES];
    table__counts(k, res, slot, c);
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
        if (atomic_fetch_and_explicit(&k->fmask, ~bit, memory_order_acquire) & bit)
            table__put(b, k, res, slot, bucket);
    }
}

static void table__name(void *arg, uint32_t id, const char *s, size_t len)
{
    eng_store_batch_name(arg, id, s, len);
}

/* Writes the bucket leaving a ring (tick, after the grace period, before
 * the clear), with any new names first. */
static void table__flush_leaving(struct eng_table *t, int res, uint64_t slot, int64_t bucket)
{
    struct eng_store_batch *b = eng_store_batch_new(t->store);
    if (!b) {
        mp_error("store_flush_failed at=ring_advance res=%d err=nomem", res);
        return;
    }
    eng_intern_drain_new(t->names, table__name, b);
    table__flush_slot(t, b, res, slot, bucket);
    if (eng_store_commit(t->store, b, 0) != MP_OK)
        mp_error("store_flush_failed at=ring_advance res=%d", res);
    eng_store_batch_free(b);
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
    /* Names first, in the same commit as (or an earlier one than) any
     * counter that refers to them. */
    eng_intern_drain_new(t->names, table__name, b);

    /* acquire: pairs with the release CAS of each backfill push */
    struct backfill *bf = atomic_exchange_explicit(&t->backfill, NULL, memory_order_acquire);
    while (bf) {
        uint64_t c[ENG_NTYPES] = {0};
        c[bf->type - 1] = 1;
        for (int sc = 0; sc < ENG_NSCOPES; sc++)
            eng_store_batch_add(b, ENG_RES_DAY, bf->day, sc, bf->tid, bf->ids[sc], c);
        struct backfill *next = bf->next;
        free(bf);
        bf = next;
    }

    const int64_t cur[3] = {atomic_load(&t->cur_fine), atomic_load(&t->cur_hour),
                            atomic_load(&t->cur_day)};
    const int back[3] = {ENG_FINE_BACK, ENG_HOUR_BACK, t->day_back};
    const int ring[3] = {ENG_FINE_SLOTS, ENG_HOUR_SLOTS, t->day_slots};
    uint32_t n = mp_load_relaxed(&t->next_id);
    for (uint32_t id = 1; id < n && id <= t->max_keys; id++) {
        struct eng_key *k = mp_load_acquire(&t->by_id[id]);
        if (!k || !mp_load_relaxed(&k->fmask))
            continue;
        /* acquire: pairs with the writers' release fetch_or at frame end, so
         * the adds of every slot named in m are visible below */
        uint64_t m = atomic_exchange_explicit(&k->fmask, 0, memory_order_acquire), keep = 0;
        for (int res = 0; res < 3; res++) {
            if (cur[res] == ENG_NO_BUCKET)
                continue;
            for (int slot = 0; slot < ring[res]; slot++) {
                uint64_t bit = 1ULL << table__bit(res, (uint64_t)slot);
                if (!(m & bit))
                    continue;
                /* The held bucket living in this slot. The one spare slot
                 * maps to none: a writer already on the next bucket set it,
                 * so keep the bit for the next flush. */
                int64_t top = cur[res] + 1;
                int64_t bucket = top - (int64_t)table__mod(top - slot, ring[res]);
                if (bucket < cur[res] - back[res]) {
                    keep |= bit;
                    continue;
                }
                table__put(b, k, res, (uint64_t)slot, bucket);
            }
        }
        if (keep)
            atomic_fetch_or_explicit(&k->fmask, keep, memory_order_relaxed);
        if (eng_store_batch_count(b) >= 20000) { /* bound the batch's memory */
            written += eng_store_batch_count(b);
            if ((rc = eng_store_commit(t->store, b, 0)) != MP_OK)
                goto out;
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
    written += eng_store_batch_count(b);
    rc = eng_store_commit(t->store, b, sync);
out:
    eng_store_batch_free(b);
    if (entries)
        *entries = written;
    return rc;
}

static int table__load_name(void *arg, uint32_t id, const char *s, size_t len)
{
    struct eng_table *t = arg;
    int rc = eng_intern_put(t->names, id, s, len);
    if (rc != MP_OK)
        mp_error("store_load_name_failed id=%u err=\"%s\"", id, mp_strerror(rc));
    return rc;
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
    int rc = table__get_key(t, ENG_SCOPE_TENANT, tid, 0, NULL, &tk);
    if (rc == MP_OK) {
        k = tk;
        if (scope != ENG_SCOPE_TENANT)
            rc = table__get_key(t, scope, tid, nid, tk, &k);
    }
    if (rc != MP_OK)
        return rc;
    mp_store_relaxed(&k->last_ms, mp_load_relaxed(&t->now_ms)); /* loaded counts as touched */
    const int ring = lc->res == ENG_RES_FINE ? ENG_FINE_SLOTS
                     : lc->res == ENG_RES_HOUR ? ENG_HOUR_SLOTS
                                              : t->day_slots;
    uint64_t slot = table__mod(bucket, ring);
    for (int ty = 0; ty < ENG_NTYPES; ty++) {
        if (!counts[ty])
            continue;
        struct eng_series *s = table__series(t, k, ty + 1);
        if (!s)
            return MP_ERR_NOMEM;
        mp_atomic_u32 *c = lc->res == ENG_RES_FINE ? s->fine : lc->res == ENG_RES_HOUR ? s->hour : s->day;
        mp_store_relaxed(&c[slot], (uint32_t)counts[ty]);
    }
    lc->entries++;
    return MP_OK;
}

static int table__load(struct eng_table *t)
{
    int64_t t0 = mp_mono_ns();
    int rc = eng_store_load_names(t->store, table__load_name, t);
    if (rc != MP_OK)
        return rc;
    const int64_t cur[3] = {atomic_load(&t->cur_fine), atomic_load(&t->cur_hour),
                            atomic_load(&t->cur_day)};
    const int back[3] = {ENG_FINE_BACK, ENG_HOUR_BACK, t->day_back};
    uint64_t entries = 0;
    for (int res = 0; res < 3; res++) {
        struct load_ctx lc = {t, res, 0};
        rc = eng_store_load_counts(t->store, res, cur[res] - back[res], cur[res] + 1,
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
    const int64_t cur[3] = {atomic_load(&t->cur_fine), atomic_load(&t->cur_hour),
                            atomic_load(&t->cur_day)};
    const int back[3] = {ENG_FINE_BACK, ENG_HOUR_BACK, t->day_back};
    const int ring[3] = {ENG_FINE_SLOTS, ENG_HOUR_SLOTS, t->day_slots};
    for (int res = 0; res < 3; res++) {
        if (cur[res] == ENG_NO_BUCKET)
            continue;
        for (int64_t b = cur[res] - back[res]; b <= cur[res] + 1; b++) {
            uint64_t c[ENG_NTYPES];
            int rc = eng_store_sum(t->store, res, b, b, k->scope, k->tenant_id, k->name_id, c);
            if (rc != MP_OK)
                return rc;
            for (int ty = 0; ty < ENG_NTYPES; ty++) {
                if (!c[ty])
                    continue;
                struct eng_series *s = table__series(t, k, ty + 1);
                if (!s)
                    return MP_ERR_NOMEM;
                mp_atomic_u32 *cc = res == ENG_RES_FINE ? s->fine : res == ENG_RES_HOUR ? s->hour : s->day;
                mp_store_relaxed(&cc[table__mod(b, ring[res])], (uint32_t)c[ty]);
            }
        }
    }
    return MP_OK;
}

static int table__ensure_hot(struct eng_table *t, struct eng_key *k)
{
    for (;;) {
        uint32_t st = atomic_load(&k->state);
        if (st == KEY_HOT)
            return MP_OK;
        if (st == KEY_COLD) {
            uint32_t expect = KEY_COLD;
            if (!atomic_compare_exchange_strong(&k->state, &expect, KEY_LOADING))
                continue;
            int rc = table__load_key(t, k);
            mp_store_relaxed(&k->last_ms, mp_load_relaxed(&t->now_ms));
            if (rc != MP_OK) {
                mp_error("key_load_failed id=%u err=\"%s\"", k->id, mp_strerror(rc));
                /* what was loaded is dropped again: the store still has it */
                atomic_fetch_add_explicit(&k->gen, 1, memory_order_release);
                table__recycle_list(t, atomic_exchange(&k->series, NULL));
                atomic_store(&k->state, KEY_COLD);
                return rc;
            }
            mp_add_relaxed(&t->loads, 1);
            atomic_fetch_sub(&t->cold, 1);
            /* release (seq_cst): the loaded series are visible to whoever
             * sees HOT */
            atomic_store(&k->state, KEY_HOT);
            return MP_OK;
        }
        /* EVICTING or LOADING: another thread finishes it shortly */
        sched_yield();
    }
}

int eng_table_key_warm(struct eng_table *t, struct eng_key *k)
{
    if (atomic_load(&k->state) == KEY_HOT)
        return MP_OK;
    /* Loading writes ring slots, so take part in the grace-period protocol
     * like a writer: tick will not clear a slot under us. */
    struct eng_thread *th;
    int rc = eng_thread_register(t, &th);
    if (rc != MP_OK)
        return rc;
    eng_thread_online(th);
    atomic_fetch_add(&k->inflight, 1); /* hold the key, as a frame does */
    rc = table__ensure_hot(t, k);
    atomic_fetch_add_explicit(&k->gen, 1, memory_order_release);
    atomic_fetch_sub_explicit(&k->inflight, 1, memory_order_release);
    eng_thread_unregister(th);
    return rc;
}

/* Zeroes a detached series and puts it on the free list. */
static void table__recycle(struct eng_table *t, struct eng_series *s)
{
    for (int i = 0; i < ENG_FINE_SLOTS; i++)
        mp_store_relaxed(&s->fine[i], 0);
    for (int i = 0; i < ENG_HOUR_SLOTS; i++)
        mp_store_relaxed(&s->hour[i], 0);
    for (int i = 0; i < t->day_slots; i++)
        mp_store_relaxed(&s->day[i], 0);
    mp_add_relaxed(&t->nseries, (uint64_t)-1);
    pthread_mutex_lock(&t->free_lock);
    mp_store_relaxed(&s->next, mp_load_relaxed(&t->free_series));
    mp_store_relaxed(&t->free_series, s);
    pthread_mutex_unlock(&t->free_lock);
}

static void table__recycle_list(struct eng_table *t, struct eng_series *s)
{
    while (s) {
        struct eng_series *n = SNEXT(s);
        table__recycle(t, s); /* a stale reader fails read_end on gen */
        s = n;
    }
}

size_t eng_table_evict(struct eng_table *t, int64_t now_ms)
{
    if (!t->store || t->evict_idle_ms <= 0)
        return 0;
    const int64_t cur[3] = {atomic_load(&t->cur_fine), atomic_load(&t->cur_hour),
                            atomic_load(&t->cur_day)};
    const int back[3] = {ENG_FINE_BACK, ENG_HOUR_BACK, t->day_back};
    const int ring[3] = {ENG_FINE_SLOTS, ENG_HOUR_SLOTS, t->day_slots};
    struct eng_store_batch *b = eng_store_batch_new(t->store);
    size_t cap = 1024, n = 0;
    struct eng_key **victims = malloc(cap * sizeof(*victims));
    uint64_t *masks = malloc(cap * sizeof(*masks));
    if (!b || !victims || !masks)
        goto out;
    /* names first: an evicted key's counters may use a fresh name */
    eng_intern_drain_new(t->names, table__name, b);

    /* Pass 1: claim idle keys (EVICTING) and write what the store lacks. */
    uint32_t top = mp_load_relaxed(&t->next_id);
    for (uint32_t id = 1; id < top && id <= t->max_keys; id++) {
        struct eng_key *k = mp_load_acquire(&t->by_id[id]);
        if (!k || mp_load_relaxed(&k->state) != KEY_HOT ||
            now_ms - mp_load_relaxed(&k->last_ms) < t->evict_idle_ms ||
            mp_load_relaxed(&k->inflight))
            continue;
        if (n == cap) {
            struct eng_key **nv = realloc(victims, 2 * cap * sizeof(*nv));
            uint64_t *nm = nv ? realloc(masks, 2 * cap * sizeof(*nm)) : NULL;
            if (nv)
                victims = nv;
            if (!nm)
                break; /* evict what we have */
            masks = nm;
            cap *= 2;
        }
        atomic_store(&k->state, KEY_EVICTING);
        if (atomic_load(&k->inflight) != 0) { /* a frame got in first: keep it */
            atomic_store(&k->state, KEY_HOT);
            continue;
        }
        /* From here no writer holds the key; new ones wait for COLD. */
        uint64_t m = atomic_exchange_explicit(&k->fmask, 0, memory_order_acquire);
        for (int res = 0; res < 3 && m; res++) {
            for (int slot = 0; slot < ring[res]; slot++) {
                if (!(m & (1ULL << table__bit(res, (uint64_t)slot))))
                    continue;
                int64_t hi = cur[res] + 1;
                int64_t bucket = hi - (int64_t)table__mod(hi - slot, ring[res]);
                if (bucket >= cur[res] - back[res])
                    table__put(b, k, res, (uint64_t)slot, bucket);
            }
        }
        victims[n] = k;
        masks[n++] = m;
    }
    if (eng_store_commit(t->store, b, 0) != MP_OK) {
        /* The store did not take them: the keys stay in memory, with their
         * unflushed slots marked again for the next flush. */
        mp_error("evict_commit_failed keys=%zu", n);
        for (size_t i = 0; i < n; i++) {
            atomic_fetch_or_explicit(&victims[i]->fmask, masks[i], memory_order_relaxed);
            atomic_store(&victims[i]->state, KEY_HOT);
        }
        n = 0;
        goto out;
    }
    /* Pass 2: the store holds everything; let go of the counters. */
    for (size_t i = 0; i < n; i++) {
        struct eng_key *k = victims[i];
        struct eng_series *s = atomic_exchange(&k->series, NULL);
        /* readers that began earlier see a changed gen and drop their sums */
        atomic_fetch_add_explicit(&k->gen, 1, memory_order_release);
        mp_add_relaxed(&t->cold, 1);
        atomic_store(&k->state, KEY_COLD);
        table__recycle_list(t, s);
    }
    mp_add_relaxed(&t->evictions, n);
out:
    eng_store_batch_free(b);
    free(victims);
    free(masks);
    return n;
}

void eng_table_residency(const struct eng_table *t, uint64_t *cold, uint64_t *evictions,
                         uint64_t *loads)
{
    *cold = mp_load_relaxed(&t->cold);
    *evictions = mp_load_relaxed(&t->evictions);
    *loads = mp_load_relaxed(&t->loads);
}

/* ---- readers ------------------------------------------------------------- */

size_t eng_table_drain_dirty(struct eng_table *t, void (*fn)(void *arg, struct eng_key *k),
                             void *arg)
{
    /* acquire: pairs with the pushers' release CAS, so each key's dirty_next
     * is visible. Taking the whole list makes ABA impossible. */
    struct eng_key *k = atomic_exchange_explicit(&t->dirty_head, NULL, memory_order_acquire);
    size_t n = 0;
    while (k) {
        struct eng_key *next = k->dirty_next; /* read before the key can be re-pushed */
        mp_xchg_acq_rel(&k->dirty, 0);
        fn(arg, k);
        k = next;
        n++;
    }
    return n;
}

void eng_key_sum(const struct eng_table *t, const struct eng_key *k, int res, int back, int n,
                 uint64_t out[ENG_NTYPES])
{
    eng_key_sum_types(t, k, res, back, n, ~0u, out);
}

void eng_key_sum_types(const struct eng_table *t, const struct eng_key *k, int res, int back,
                       int n, unsigned types, uint64_t out[ENG_NTYPES])
{
    memset(out, 0, sizeof(uint64_t) * ENG_NTYPES);
    struct eng_table *tt = (struct eng_table *)t;
    int64_t cur;
    int held_back, ring;
    switch (res) {
    case ENG_RES_FINE: cur = atomic_load(&tt->cur_fine); held_back = ENG_FINE_BACK; ring = ENG_FINE_SLOTS; break;
    case ENG_RES_HOUR: cur = atomic_load(&tt->cur_hour); held_back = ENG_HOUR_BACK; ring = ENG_HOUR_SLOTS; break;
    case ENG_RES_DAY: cur = atomic_load(&tt->cur_day); held_back = t->day_back; ring = t->day_slots; break;
    default: return;
    }
    if (cur == ENG_NO_BUCKET || n < 1)
        return;
    int64_t hi = cur - back, lo = hi - n + 1;
    if (lo < cur - held_back)
        lo = cur - held_back;
    if (hi > cur + 1)
        hi = cur + 1;
    if (lo > hi)
        return;
    /* one modulo per call, not per bucket: the evaluator sums ~10 windows
     * per key, and a 64-bit division per bucket was most of its cost */
    int first = (int)table__mod(lo, ring), len = (int)(hi - lo + 1);
    for (struct eng_series *s = mp_load_acquire(&((struct eng_key *)k)->series); s; s = SNEXT(s)) {
        if (!(types & (1u << STYPE(s))))
            continue;
        mp_atomic_u32 *c = res == ENG_RES_FINE ? s->fine : res == ENG_RES_HOUR ? s->hour : s->day;
        uint64_t sum = 0;
        for (int i = 0, slot = first; i < len; i++) {
            sum += mp_load_relaxed(&c[slot]);
            if (++slot == ring)
                slot = 0;
        }
        out[STYPE(s) - 1] += sum;
    }
}

void eng_key_sum_window(const struct eng_table *t, const struct eng_key *k, int win,
                        uint64_t out[ENG_NTYPES])
{
    switch (win) {
    case ENG_WIN_1H: eng_key_sum(t, k, ENG_RES_FINE, 0, 12, out); return;
    case ENG_WIN_24H: eng_key_sum(t, k, ENG_RES_HOUR, 0, 24, out); return;
    case ENG_WIN_7D: eng_key_sum(t, k, ENG_RES_DAY, 0, 7, out); return;
    case ENG_WIN_PREV_7D: eng_key_sum(t, k, ENG_RES_DAY, 7, 7, out); return;
    default: memset(out, 0, sizeof(uint64_t) * ENG_NTYPES);
    }
}

static const char *const table__windows[] = {"1h", "24h", "7d", "prev7d"};

int eng_window_parse(const char *s, int *win)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, table__windows[i]) == 0) {
            *win = i;
            return 0;
        }
    return -1;
}

const char *eng_window_name(int win)
{
    return win >= 0 && win < 4 ? table__windows[win] : NULL;
}

size_t eng_table_children(const struct eng_table *t, const struct eng_key *tk, int scope,
                          void (*fn)(void *arg, struct eng_key *k), void *arg)
{
    MP_UNUSED(t);
    size_t n = 0;
    for (struct eng_key *k = mp_load_acquire(&((struct eng_key *)tk)->children); k; k = k->sibling)
        if (k->scope == scope) {
            fn(arg, k);
            n++;
        }
    return n;
}

void eng_key_sum_fine(const struct eng_table *t, const struct eng_key *k, int nbuckets,
                      uint64_t out[ENG_NTYPES])
{
    if (nbuckets > ENG_FINE_WINDOW_MAX)
        nbuckets = ENG_FINE_WINDOW_MAX;
    eng_key_sum(t, k, ENG_RES_FINE, 0, nbuckets, out);
}

void eng_key_sum_days(const struct eng_table *t, const struct eng_key *k, int back, int ndays,
                      uint64_t out[ENG_NTYPES])
{
    eng_key_sum(t, k, ENG_RES_DAY, back, ndays, out);
}

uint32_t eng_key_id(const struct eng_key *k) { return k->id; }
int eng_key_scope(const struct eng_key *k) { return k->scope; }

const char *eng_key_tenant(const struct eng_table *t, const struct eng_key *k)
{
    return eng_intern_name(t->names, k->tenant_id);
}

const char *eng_key_name(const struct eng_table *t, const struct eng_key *k)
{
    return k->name_id ? eng_intern_name(t->names, k->name_id) : NULL;
}

struct eng_key *eng_table_key(const struct eng_table *t, uint32_t id)
{
    if (id == 0 || id > t->max_keys)
        return NULL;
    return mp_load_acquire(&t->by_id[id]);
}

int eng_table_find(const struct eng_table *t, int scope, const char *tenant, const char *name,
                   struct eng_key **out)
{
    uint32_t tid, nid = 0;
    if (eng_intern_find(t->names, tenant, strlen(tenant), &tid) != MP_OK)
        return MP_ERR_NOTFOUND;
    if (scope != ENG_SCOPE_TENANT) {
        if (!name || eng_intern_find(t->names, name, strlen(name), &nid) != MP_OK)
            return MP_ERR_NOTFOUND;
    }
    struct eng_key *k = table__lookup(t, table__key_hash(scope, tid, nid), scope, tid, nid);
    if (!k)
        return MP_ERR_NOTFOUND;
    *out = k;
    return MP_OK;
}

uint32_t eng_table_nkeys(const struct eng_table *t) { return mp_load_relaxed(&t->nkeys); }

uint64_t eng_table_nseries(const struct eng_table *t) { return mp_load_relaxed(&t->nseries); }

size_t eng_table_series_bytes(const struct eng_table *t) { return (t->series_size + 15) & ~(size_t)15; }

size_t eng_table_bytes(const struct eng_table *t)
{
    return eng_arena_used(t->arena) + (size_t)(t->mask + 1) * sizeof(void *) +
           ((size_t)t->max_keys + 1) * sizeof(void *) + eng_intern_bytes(t->names);
}

int64_t eng_table_now_fine(const struct eng_table *t)
{
    return atomic_load(&((struct eng_table *)t)->cur_fine);
}
