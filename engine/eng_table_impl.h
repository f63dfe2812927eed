/* eng_table_impl.h — the key table's insides, shared by its .c files only.
 *
 * Private: nothing outside engine/eng_table*.c includes this. eng_table.h is
 * the table's public face; struct eng_table and struct eng_key stay opaque
 * there, and these files share them here:
 *   eng_table.c          create/destroy, key identity, lookups, figures
 *   eng_table_record.c   the hot path: keys, series, frames, lookahead
 *   eng_table_ring.c     time: tick moves the rings and clears after a grace period
 *   eng_table_persist.c  the store: flush, load, evict, warm
 *   eng_table_read.c     readers: dirty list, consistent reads, sums, windows
 *   eng_table_limits.c   noisy-neighbour limits: per-tenant state, rejections
 *   eng_table_history.c  history: a key's buckets from memory, then the store
 *   eng_table_reclaim.c  idle, empty keys leave the table and the store
 *   eng_table_first.c    each key's first-seen day: kept, stored, restored
 * Cross-file functions are named eng_table__verb (private, not static).
 *
 * Layout: an open-addressed, linearly probed array of 64-bit slots, each a
 * key pointer (48 bits) tagged with the top 16 bits of the key's hash. A
 * slot goes from 0 to a tagged key exactly once (CAS, release) and never
 * changes, so lookups are plain acquire loads and need no lock; a probe
 * reads a key only when the tag matches. The hash is computed from the
 * event's bytes (scope, tenant, name) under the table's random seed
 * (eng_hash.h), and keys hold their name inline, so the per-event path
 * neither interns nor reads the name dictionary: names get their ids (for
 * the store and the readers) once, when the key is made. Keys are never
 * freed before the table is destroyed (an evicted key keeps its header).
 *
 * Series: a key holds a type -> series id index (12 ids, 0 for none);
 * series live in a pool of huge-page-sized chunks, so the id of an event's
 * type leads straight to its counters. An id goes from 0 to a series once
 * per residency (CAS, release); eviction takes the ids back.
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
#ifndef ENG_TABLE_IMPL_H
#define ENG_TABLE_IMPL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "eng_arena.h"
#include "eng_hash.h"
#include "eng_intern.h"
#include "eng_qsbr.h"
#include "eng_store.h"
#include "eng_table.h"
#include "mp_atomic.h"
#include "mp_log.h"
#include "mp_wake.h"


/* One event type's counters for one key. Series live in a pool of
 * fixed-stride chunks and are named by a 32-bit id (0: none), so a key holds
 * a type -> series index of 12 small ids instead of a list to walk.
 * Counters are 64-bit, as in the store: 2^32 events of one type for one key
 * in one day is about 50k/s sustained, which one tenant can reach, and a
 * 32-bit bucket would wrap silently. 64 bits do not wrap in practice
 * (2^64 events: 584 years at 1G events/s). */
typedef mp_atomic_u64 eng_count;
struct eng_series {
    eng_count fine[ENG_FINE_SLOTS];
    eng_count hour[ENG_HOUR_SLOTS];
    eng_count day[]; /* day_slots */
};

/* A pool chunk is one 2 MiB huge page holding as many series as fit (4,369
 * of 480 B with a store: 32 B spare). A power-of-two count would leave up
 * to 1/16 of every huge page unused but resident; the id -> chunk division
 * is a multiply and a shift instead (see table__sptr). */
#define HUGE_PAGE (2u << 20)
#define SER_ID_BITS 31 /* series ids < 2^31: the reciprocal below is exact */

/* Key residency. A COLD key keeps its header (id, names, lists) in the
 * table; its counters live only in the store until it is touched again. */
enum { KEY_HOT = 0, KEY_EVICTING = 1, KEY_COLD = 2, KEY_LOADING = 3 };

/* Frame state in one word: gen (frames ended that touched the key) in the
 * high 32 bits, the dirty mark in bit 31, inflight (frames in progress that
 * touch it) in bits 0-30. Frame end bumps gen, drops inflight and sets
 * dirty in a single RMW. */
#define SEQ_ONE_FRAME 1ULL                   /* inflight + 1 */
#define SEQ_END_FRAME ((1ULL << 32) - 1)     /* gen + 1, inflight - 1 (no borrow: inflight >= 1) */
#define SEQ_GEN_ONLY (1ULL << 32)            /* gen + 1 */
#define SEQ_DIRTY (1ULL << 31)               /* on the dirty list, or about to be */
#define SEQ_INFLIGHT(w) ((uint32_t)((w) & (SEQ_DIRTY - 1)))
#define SEQ_GEN(w) ((uint32_t)((w) >> 32))

/* A key is identified by its bytes, not by interned ids: scope, parent
 * (the tenant key, NULL for a tenant key) and its own name (the tenant for
 * a tenant key), stored inline so a probe that matches the slot tag
 * compares against lines it loads anyway. The identity and the hot frame
 * fields come first; the name ids exist for the store and for readers. */
struct eng_key {
    struct eng_key *parent; /* tenant key of any other key; NULL for a tenant */
    uint8_t scope;
    uint8_t name_len;       /* bytes in name[] */
    uint16_t dead;          /* reclaimed (eng_table_reclaim.c; its thread only) */
    uint32_t id;
    mp_atomic_u64 seq;      /* gen | dirty | inflight (see SEQ_*) */
    mp_atomic_u32 state;    /* KEY_HOT .. KEY_LOADING */
    mp_atomic_u32 first_day; /* first event's UTC day + 1; 0: none yet (eng_table_first.c) */
    mp_atomic_u32 cap_epoch; /* the flush epoch whose cut holds its counters (see table__cow) */
    mp_atomic_u64 fmask;    /* ring slots changed since the last flush (see table__bit) */
    mp_atomic_i64 last_ms;  /* last write or load (table clock, coarse) */
    mp_atomic_u32 sid[ENG_NTYPES]; /* type - 1 -> series id, 0 until the type is seen */
    uint32_t tenant_id;
    uint32_t name_id;       /* mailbox or domain id; 0 for tenant scope */
    struct eng_key *dirty_next;            /* written by the frame end that set dirty */
    MP_ATOMIC(struct eng_key *) children;    /* tenant keys: its keys of the other scopes */
    /* next child of the same tenant: set before the key is published, then
     * changed only by eng_table_reclaim (writers excluded) to unlink a
     * reclaimed neighbour; readers walk it concurrently. For a tenant key:
     * the next tenant key on the table's `tenants` list (set once, before
     * the push; tenant keys are never reclaimed). */
    MP_ATOMIC(struct eng_key *) sibling;
    struct eng_tenant *ten;                /* tenant keys: limits state; NULL for children */
    struct eng_key *first_next;            /* on the first-seen list (eng_table_first.c) */
    mp_atomic_u32 first_q;                 /* 1: on that list, or about to be */
    char name[];                           /* name_len bytes, not NUL-terminated */
};

/* A tenant's limits and their state (eng_table.h, "Limits"), allocated with
 * its tenant key (eng_table_limits.c). Every writer that records for a
 * rate-capped tenant CASes tat_ns, as it adds to the tenant's counters. */
struct eng_tenant {
    mp_atomic_i64 tat_ns;              /* GCRA: theoretical arrival time */
    /* The limits: set when the key is made, changed by eng_table_set_limits
     * (relaxed: each word stands alone; a writer may mix old and new for
     * the one event in flight while they change). */
    mp_atomic_u64 interval_ns;         /* 1e9 / max_eps; 0: no rate cap */
    mp_atomic_u64 burst_ns;            /* tolerance: one second's worth */
    mp_atomic_u32 max_keys;            /* 0: no key cap */
    mp_atomic_u32 nkeys;               /* keys of the other scopes held (or reserved) */
    mp_atomic_u32 listed;              /* 0: not yet; 1: on the limited list; 2: over its bound */
    mp_atomic_u64 rejected[ENG_LIM_COUNT];
    struct eng_key *key;               /* the tenant key */
    struct eng_tenant *limited_next;   /* immutable once pushed */
};

/* Where a new tenant key's limits come from (eng_table_opts.limits*):
 * immutable, replaced whole by eng_table_set_limits. */
struct eng_limits_src {
    struct eng_tenant_limits def;
    eng_limits_fn fn;
    void *arg;
};

struct eng_table {
    uint32_t max_keys;
    int64_t retention_ms;
    int day_back;  /* held days: current - day_back .. current + 1 */
    int day_slots; /* day_back + 3: held range plus one spare */
    size_t series_size;      /* pool stride, a multiple of 16 */
    struct eng_arena *arena; /* keys */
    mp_atomic_u64 nseries;

    /* Series pool: id -> ser_dir[id / ser_per] + (id % ser_per) *
     * series_size. Chunks are added under ser_lock and never freed before
     * destroy, so a stale reader always reads mapped memory. */
    MP_ATOMIC(char *) *ser_dir;
    uint32_t ser_ndir;
    uint32_t ser_per;      /* series per chunk */
    uint64_t ser_recip;    /* id / ser_per == (id * ser_recip) >> ser_rshift */
    unsigned ser_rshift;
    mp_atomic_u32 ser_next; /* next never-used id (ids start at 1) */
    pthread_mutex_t ser_lock;

    struct eng_intern *names;
    uint64_t mask;
    /* Key slots: (tag << 48) | key pointer, 0 when empty. The tag is the
     * top 16 bits of the key's hash (never 0), so a probe skips a slot of
     * another key without loading that key. */
    mp_atomic_u64 *slots;
    MP_ATOMIC(struct eng_key *) *by_id;
    mp_atomic_u32 next_id;
    mp_atomic_u32 nkeys;

    /* Current buckets; seq_cst so the grace-period handshake below holds. */
    mp_atomic_i64 cur_fine;
    mp_atomic_i64 cur_hour;
    mp_atomic_i64 cur_day;
    /* The flush epoch being captured, 0 when none (eng_table_persist.c):
     * read on every key's first touch in a frame, written twice a flush,
     * so it sits with the read-mostly current buckets. */
    mp_atomic_u32 cap_active;

    MP_ATOMIC(struct eng_key *) dirty_head;
    struct mp_wake dirty_wake;     /* the drainer sleeps on it (eng_table_wait_dirty) */

    struct eng_store *store;       /* NULL: memory only */
    int64_t evict_idle_ms;         /* 0: never evict */
    mp_atomic_i64 now_ms;          /* coarse clock, set by tick */
    pthread_mutex_t free_lock;     /* guards free_ids (not on the per-event path) */
    uint32_t *free_ids;            /* recycled series ids (evicted keys, lost races) */
    size_t nfree, capfree;
    mp_atomic_u32 nfree_hint;      /* nfree, for a lock-free peek */
    mp_atomic_u64 evictions, loads, cold;
    int retention_days;            /* oldest day accepted: current - retention_days */
    int hour_keep;                 /* hours the store keeps: >= ENG_HOUR_BACK */
    MP_ATOMIC(struct backfill *) backfill; /* events for days older than the ring */
    int64_t dropped_before[3];     /* per resolution: store deletes done below this bucket */
    /* Flushes (tick thread only; see eng_table_persist.c). */
    struct eng_flush_hook hook;    /* around every counter write; begin NULL: none */
    /* Copy-on-write capture (table__cow): guards the flush's batch and
     * cap_job while writers capture keys into it. */
    pthread_mutex_t cap_mu;
    uint32_t cap_epoch;            /* the last epoch opened (flush thread) */
    struct flush_job *cap_job;     /* under cap_mu: the flush capturing, NULL when none */
    struct mp_ratelimit leave_rl;  /* failed ring-advance writes: one log line a second */
    struct held_put *held;         /* daily buckets that left the ring while writes failed */
    size_t nheld, capheld;
    uint32_t *names_held;          /* name ids drained by a flush whose commit failed */
    size_t nnames_held, capnames_held;

    MP_ATOMIC(struct eng_limits_src *) lsrc; /* acquire: writers making a tenant key */
    MP_ATOMIC(struct eng_tenant *) limited; /* tenants that hit a cap, newest first */
    MP_ATOMIC(struct eng_key *) tenants;    /* every tenant key, newest first (via sibling) */
    mp_atomic_u32 nlimited;
    mp_atomic_u64 limited_other[ENG_LIM_COUNT];

    /* Reclaim (eng_table_reclaim.c). While `reclaiming`, writers step out
     * (MP_ERR_AGAIN) so slots can be tombstoned; ids of reclaimed keys wait
     * in free_keys for the next new key. */
    mp_atomic_u32 reclaiming;
    pthread_mutex_t key_lock;  /* guards free_keys (not on the per-event path) */
    uint32_t *free_keys;
    size_t nfree_keys, capfree_keys;
    mp_atomic_u32 nfree_keys_hint;
    mp_atomic_u64 reclaimed;

    /* First-seen days to store (eng_table_first.c): keys whose day fell,
     * pushed by writers, drained by the flush; what a failed commit took. */
    MP_ATOMIC(struct eng_key *) first_head;
    struct eng_key **first_taken;
    size_t nfirst_taken, capfirst_taken;

    uint64_t seed;             /* eng_hash_name seed, from eng_hash_seed() at create */
    /* domain -> provider; acquire: writers read it per event (online), and
     * eng_table_set_providers frees the old one after a grace period */
    MP_ATOMIC(struct eng_providers *) prov;
    unsigned scopes;           /* eng_table_opts.scopes, tenant included; immutable */
    struct eng_qsbr *qsbr;     /* grace periods: writers and warming readers register here */
};

_Static_assert(ENG_FINE_SLOTS >= ENG_FINE_BACK + 3, "fine ring needs one spare slot");
_Static_assert(ENG_FINE_WINDOW_MAX <= ENG_FINE_BACK + 1, "fine window exceeds held range");
_Static_assert(ENG_HOUR_SLOTS >= ENG_HOUR_BACK + 3, "hour ring needs one spare slot");
_Static_assert(ENG_HOUR_BACK + 1 >= 24, "hour ring must hold the 24 h window");

#define ENG_NO_BUCKET INT64_MIN /* published while a ring is being reset */

/* An event for a day older than the daily ring: it goes to the store only. */
struct backfill {
    struct backfill *next;
    int64_t day;
    uint32_t tid, ids[ENG_NSCOPES]; /* name id per scope (0: the tenant, or no key) */
    int type;
};

/* A daily (or, when the store keeps hours, hourly) bucket that left the
 * ring before the store took it: written by the next flush that commits
 * (absolute value, as a flush writes it). */
struct held_put {
    int64_t bucket;
    uint32_t tid, nid;
    uint8_t scope, res;
    uint64_t counts[ENG_NTYPES];
};

/* Flush mask layout: one bit per ring slot, fine | hour | day. */
#define BIT_FINE 0
#define BIT_HOUR ENG_FINE_SLOTS
#define BIT_DAY (ENG_FINE_SLOTS + ENG_HOUR_SLOTS)
#define STORE_DAY_BACK 13 /* with a store: 7 d + the 7 d before, in memory */
_Static_assert(BIT_DAY + STORE_DAY_BACK + 3 <= 64, "flush mask must fit 64 bits");

static inline int64_t table__floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static inline uint64_t table__mod(int64_t a, int64_t m)
{
    int64_t r = a % m;
    return (uint64_t)(r < 0 ? r + m : r);
}

/* ---- names and hashes ------------------------------------------------------ */

/* A key's hash is computed from the wire bytes: the tenant's hash seeds the
 * hash of a mailbox or domain name, so one hash of (scope, tenant, name)
 * finds the key without interning anything. The table's random seed goes
 * into the tenant's hash and so into every hash of the table. */
#define SEED_TENANT 0x5851f42d4c957f2dULL
#define SEED_SCOPE 0x9e3779b97f4a7c15ULL
#define NAME_MAX_LEN 255 /* as eng_intern: longer names are refused */

static inline uint64_t table__tenant_hash(const struct eng_table *t, const char *s, size_t len)
{
    return eng_hash_name(s, len, t->seed ^ SEED_TENANT);
}

static inline uint64_t table__child_hash(uint64_t th, int scope, const char *s, size_t len)
{
    return eng_hash_name(s, len, th ^ (SEED_SCOPE * (uint64_t)(scope + 1)));
}

#define SLOT_PTR_BITS 48
/* A reclaimed key's slot (eng_table_reclaim.c): not empty, so probes go on
 * past it, and of tag 0, which no key has (table__tag), so no probe takes
 * it for a key; a new key may take it (eng_table_record.c). */
#define SLOT_TOMB 1ULL
#define SLOT_PTR_MASK ((1ULL << SLOT_PTR_BITS) - 1)

static inline uint64_t table__tag(uint64_t h)
{
    uint64_t tag = h >> SLOT_PTR_BITS;
    return tag ? tag : 1;
}

static inline struct eng_key *table__slot_key(uint64_t w)
{
    return (struct eng_key *)(uintptr_t)(w & SLOT_PTR_MASK);
}

/* a == b for n bytes, inline: names are short, and a libc call per probe
 * costs more than the compare. Loads stay inside [a, a + n) and [b, b + n). */
static inline int table__bytes_eq(const char *a, const char *b, size_t n)
{
    uint64_t x, y;
    if (n >= 8) {
        size_t i = 0;
        for (; i + 8 <= n; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);
            if (x != y)
                return 0;
        }
        if (i == n)
            return 1;
        memcpy(&x, a + n - 8, 8); /* the tail, overlapping what was compared */
        memcpy(&y, b + n - 8, 8);
        return x == y;
    }
    if (n >= 4) {
        uint32_t x0, y0, x1, y1;
        memcpy(&x0, a, 4);
        memcpy(&y0, b, 4);
        memcpy(&x1, a + n - 4, 4);
        memcpy(&y1, b + n - 4, 4);
        return x0 == y0 && x1 == y1;
    }
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

static inline int table__key_is(const struct eng_key *k, int scope, const struct eng_key *parent,
                                const char *name, size_t len)
{
    return k->parent == parent && k->scope == scope && k->name_len == len &&
           table__bytes_eq(k->name, name, len);
}

/* ---- series and rings -------------------------------------------------------- */

static inline struct eng_series *table__sptr(const struct eng_table *t, uint32_t sid)
{
    /* acquire: pairs with the release store that published the chunk (the
     * id itself reached us through an acquire load, so this is belt and
     * braces, and free on the platforms we run on) */
    uint32_t chunk = (uint32_t)(((uint64_t)sid * t->ser_recip) >> t->ser_rshift);
    char *c = mp_load_acquire(&t->ser_dir[chunk]);
    return (struct eng_series *)(c + (size_t)(sid - chunk * t->ser_per) * t->series_size);
}

/* Creates the key's series for `type` (slow path of table__series); NULL
 * when the pool is exhausted. */
struct eng_series *eng_table__series_new(struct eng_table *t, struct eng_key *k, int type);

/* The key's series for `type`, created on first use. */
static inline struct eng_series *table__series(struct eng_table *t, struct eng_key *k, int type)
{
    /* acquire: pairs with the release CAS that published the id */
    uint32_t sid = mp_load_acquire(&k->sid[type - 1]);
    return sid ? table__sptr(t, sid) : eng_table__series_new(t, k, type);
}

/* The counters of resolution `res` in series s. */
static inline eng_count *table__ring(struct eng_series *s, int res)
{
    return res == ENG_RES_FINE ? s->fine : res == ENG_RES_HOUR ? s->hour : s->day;
}

/* The three rings' current bucket, held depth and size, per resolution. */
struct table_rings {
    int64_t cur[3];
    int back[3];
    int ring[3];
};

static inline void table__rings(const struct eng_table *t, struct table_rings *r)
{
    struct eng_table *tt = (struct eng_table *)t;
    r->cur[ENG_RES_FINE] = mp_load_seq_cst(&tt->cur_fine);
    r->cur[ENG_RES_HOUR] = mp_load_seq_cst(&tt->cur_hour);
    r->cur[ENG_RES_DAY] = mp_load_seq_cst(&tt->cur_day);
    r->back[ENG_RES_FINE] = ENG_FINE_BACK;
    r->back[ENG_RES_HOUR] = ENG_HOUR_BACK;
    r->back[ENG_RES_DAY] = t->day_back;
    r->ring[ENG_RES_FINE] = ENG_FINE_SLOTS;
    r->ring[ENG_RES_HOUR] = ENG_HOUR_SLOTS;
    r->ring[ENG_RES_DAY] = t->day_slots;
}

/* ---- across the table's files ---------------------------------------------- */

/* Finds or creates the key (scope, parent, name) whose hash is h
 * (eng_table_record.c). MP_OK, MP_ERR_FULL, MP_ERR_NOMEM. */
int eng_table__get_key(struct eng_table *t, uint64_t h, int scope, struct eng_key *parent,
                       const char *name, size_t len, struct eng_key **out);
/* Gives a series id back to the pool (eng_table_record.c). */
void eng_table__free_id(struct eng_table *t, uint32_t sid);
/* Brings a cold key's counters back (eng_table_persist.c); the caller
 * holds the key in a frame. */
int eng_table__ensure_hot(struct eng_table *t, struct eng_key *k);
/* The slow path of table__cow: captures k into epoch e's flush unless the
 * flush or another writer did, or the epoch has closed. */
void eng_table__capture(struct eng_table *t, struct eng_key *k, uint32_t e);
/* Copy-on-write cut. A flush with a hook fixes its cut (the journal
 * watermark W) under the hook's exclusive section and opens a capture
 * epoch there; writers then resume while it reads the counters. A writer
 * about to change a key calls this first: a key not yet captured in the
 * open epoch has its marked slots copied into the flush's batch before the
 * writer's first add, so the batch holds every key as it was at the cut
 * (every batch <= W applied, none after), as if the flush had read
 * everything under the lock. Writers outside the hook's lock (PUSH without
 * a sequence) may capture or not: their effects are never replayed, and a
 * flush writes absolute values, so either side of the cut counts them once.
 * acquire: pairs with the release store of the epoch at the key's capture,
 * so the capture's reads happen before our adds and cannot see them. */
static inline void table__cow(struct eng_table *t, struct eng_key *k)
{
    uint32_t e = mp_load_acquire(&t->cap_active);
    if (e && mp_load_acquire(&k->cap_epoch) != e)
        eng_table__capture(t, k, e);
}
/* Limits (eng_table_limits.c): a new tenant key's state, NULL without
 * memory; a rejection counted for the tenant (reason ENG_LIM_*). */
struct eng_tenant *eng_table__tenant_new(struct eng_table *t, const char *name, size_t len);
void eng_table__limit_reject(struct eng_table *t, struct eng_tenant *ten, int reason);
/* Key ids (eng_table_reclaim.c): a reclaimed id for a new key (0: none),
 * and an id given back (a reclaimed key's, or one a lost race never used). */
uint32_t eng_table__take_key_id(struct eng_table *t);
void eng_table__free_key_id(struct eng_table *t, uint32_t id);
/* Loads names and held buckets from the store at create (eng_table_persist.c). */
int eng_table__load(struct eng_table *t);
/* Writes the bucket leaving a ring before tick clears it, as part of a full
 * flush (eng_table_persist.c). */
void eng_table__flush_leaving(struct eng_table *t, int res, uint64_t slot, int64_t bucket);
/* First-seen days (eng_table_first.c). table__first_seen() below is the
 * writers' side; the flush puts the fallen days in its batch (_write) and
 * gives them back when the commit fails (_undo); the load restores them
 * (_load, after the names); reclaim forgets a key's (_forget). */
void eng_table__first_lower(struct eng_table *t, struct eng_key *k, uint32_t v);
void eng_table__first_write(struct eng_table *t, struct eng_store_batch *b);
void eng_table__first_undo(struct eng_table *t);
int eng_table__first_load(struct eng_table *t);
void eng_table__first_forget(struct eng_table *t, struct eng_key *k);

/* A writer's event of UTC day `day` for key k: the key's first-seen day
 * falls to it when it is earlier (rare: a new key, or history backfilled),
 * else one relaxed load on a line the frame has just touched. */
static inline void table__first_seen(struct eng_table *t, struct eng_key *k, int64_t day)
{
    uint32_t v = (uint32_t)(day + 1), cur = mp_load_relaxed(&k->first_day);
    if (__builtin_expect(!cur || v < cur, 0))
        eng_table__first_lower(t, k, v);
}

/* Frees what the flushes hold for a later commit (eng_table_persist.c). */
void eng_table__persist_free(struct eng_table *t);

#endif
