/* eng_table.c — lock-free key table with event-time bucket rings (see eng_table.h).
 *
 * Layout: an open-addressed, linearly probed array of 64-bit slots, each a
 * key pointer (48 bits) tagged with the top 16 bits of the key's hash. A
 * slot goes from 0 to a tagged key exactly once (CAS, release) and never
 * changes, so lookups are plain acquire loads and need no lock; a probe
 * reads a key only when the tag matches. The hash is computed from the
 * event's bytes (scope, tenant, name), and keys hold their name inline, so
 * the per-event path neither interns nor reads the name dictionary: names
 * get their ids (for the store and the readers) once, when the key is made.
 * Keys are never freed before the table is destroyed (an evicted key keeps
 * its header).
 *
 * Series: a key holds a type -> series id index (12 ids, 0 for none);
 * series live in a pool of huge-page-sized chunks, so the id of an event's
 * type leads straight to its counters. An id goes from 0 to a series once
 * per residency (CAS, release); eviction takes the ids back.
 *
 * The hot path's cache misses are the key slot, the key and the counters;
 * eng_prep_*() lets a writer start them a few events ahead.
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
#include <stddef.h>
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

/* One event type's counters for one key. Series live in a pool of
 * fixed-stride chunks and are named by a 32-bit id (0: none), so a key holds
 * a type -> series index of 12 small ids instead of a list to walk. */
struct eng_series {
    mp_atomic_u32 fine[ENG_FINE_SLOTS];
    mp_atomic_u32 hour[ENG_HOUR_SLOTS];
    mp_atomic_u32 day[]; /* day_slots */
};

/* A pool chunk is one 2 MiB huge page holding as many series as fit (8,738
 * of 240 B with a store: 32 B spare). A power-of-two count would leave up
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
    struct eng_key *parent; /* tenant key of a mailbox/domain key; NULL for a tenant */
    uint8_t scope;
    uint8_t name_len;       /* bytes in name[] */
    uint16_t pad_;
    uint32_t id;
    mp_atomic_u64 seq;      /* gen | dirty | inflight (see SEQ_*) */
    mp_atomic_u32 state;    /* KEY_HOT .. KEY_LOADING */
    mp_atomic_u64 fmask;    /* ring slots changed since the last flush (see table__bit) */
    mp_atomic_i64 last_ms;  /* last write or load (table clock, coarse) */
    mp_atomic_u32 sid[ENG_NTYPES]; /* type - 1 -> series id, 0 until the type is seen */
    uint32_t tenant_id;
    uint32_t name_id;       /* mailbox or domain id; 0 for tenant scope */
    struct eng_key *dirty_next;            /* written by the frame end that set dirty */
    _Atomic(struct eng_key *) children;    /* tenant keys: its mailbox/domain keys */
    struct eng_key *sibling;               /* next child of the same tenant (immutable) */
    char name[];                           /* name_len bytes, not NUL-terminated */
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
    size_t series_size;      /* pool stride, a multiple of 16 */
    struct eng_arena *arena; /* keys */
    mp_atomic_u64 nseries;

    /* Series pool: id -> ser_dir[id / ser_per] + (id % ser_per) *
     * series_size. Chunks are added under ser_lock and never freed before
     * destroy, so a stale reader always reads mapped memory. */
    _Atomic(char *) *ser_dir;
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
    pthread_mutex_t free_lock;     /* guards free_ids (not on the per-event path) */
    uint32_t *free_ids;            /* recycled series ids (evicted keys, lost races) */
    size_t nfree, capfree;
    mp_atomic_u32 nfree_hint;      /* nfree, for a lock-free peek */
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
static void table__recycle_all(struct eng_table *t, struct eng_key *k);
static inline struct eng_series *table__series(struct eng_table *t, struct eng_key *k, int type);
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
#ifndef FLUSH_BATCH_MAX
#define FLUSH_BATCH_MAX 20000 /* entries per commit: bounds a flush batch's memory */
#endif
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
    t->series_size = (sizeof(struct eng_series) + (size_t)t->day_slots * sizeof(mp_atomic_u32) +
                      15) & ~(size_t)15;
    /* At most 12 live series per key; lost races and evictions give their
     * ids back, so the slack only covers ids held by racing writers. */
    t->ser_per = (uint32_t)(HUGE_PAGE / t->series_size);
    /* Division by the invariant ser_per (Granlund-Montgomery): with
     * l = ceil(log2 ser_per) and m = ceil(2^(31 + l) / ser_per), m * ser_per
     * exceeds 2^(31 + l) by less than 2^l, so (id * m) >> (31 + l) is the
     * exact quotient for every id < 2^31; id * m < 2^64. */
    unsigned l = 0;
    while ((1u << l) < t->ser_per)
        l++;
    t->ser_rshift = SER_ID_BITS + l;
    t->ser_recip = ((1ULL << t->ser_rshift) + t->ser_per - 1) / t->ser_per;
    uint64_t max_series = ((uint64_t)opts->max_keys + 1) * ENG_NTYPES + 2ULL * t->ser_per;
    if (max_series > (1ULL << SER_ID_BITS) - 1 - t->ser_per)
        max_series = (1ULL << SER_ID_BITS) - 1 - t->ser_per; /* ids stay < 2^31 */
    t->ser_ndir = (uint32_t)((max_series + t->ser_per - 1) / t->ser_per);
    t->ser_dir = calloc(t->ser_ndir, sizeof(*t->ser_dir));
    pthread_mutex_init(&t->ser_lock, NULL);
    atomic_init(&t->ser_next, 1);
    uint64_t nslots = 16;
    while (nslots < (uint64_t)opts->max_keys * 2)
        nslots <<= 1;
    t->mask = nslots - 1;
    t->slots = eng_big_alloc(nslots * sizeof(*t->slots));
    t->by_id = calloc((size_t)opts->max_keys + 1, sizeof(*t->by_id));
    if (!t->slots || !t->by_id || !t->ser_dir)
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
    free(t->by_id); /* keys live in the arena */
    eng_arena_destroy(t->arena);
    for (uint32_t i = 0; t->ser_dir && i < t->ser_ndir; i++)
        eng_big_free(mp_load_relaxed(&t->ser_dir[i]), HUGE_PAGE);
    free(t->ser_dir);
    pthread_mutex_destroy(&t->ser_lock);
    free(t->free_ids);
    eng_big_free(t->slots, (size_t)(t->mask + 1) * sizeof(*t->slots));
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

/* A key's hash is computed from the wire bytes: the tenant's hash seeds the
 * hash of a mailbox or domain name, so one hash of (scope, tenant, name)
 * finds the key without interning anything. */
#define SEED_TENANT 0x5851f42d4c957f2dULL
#define SEED_SCOPE 0x9e3779b97f4a7c15ULL
#define NAME_MAX_LEN 255 /* as eng_intern: longer names are refused */
#define NAME_PREFETCH 16 /* lookahead warms the name's line up to here */

#ifdef __SIZEOF_INT128__
/* A multiply-fold hash of the wyhash family: 16 bytes per 64x64->128-bit
 * multiply, against one 64-bit mix per 8 bytes in mp_hash_bytes; three
 * names are hashed per event. Not persisted anywhere, so free to change. */
static inline uint64_t table__mum(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t table__r8(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t table__r4(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint64_t table__hash(const char *p, size_t len, uint64_t seed)
{
    const uint64_t k0 = 0xa0761d6478bd642fULL, k1 = 0xe7037ed1a0b428dbULL;
    uint64_t a, b;
    seed ^= table__mum(seed ^ k0, (uint64_t)len ^ k1);
    if (len <= 16) {
        if (len >= 4) {
            size_t q = (len >> 3) << 2; /* 0 or 4: the four reads cover every byte */
            a = table__r4(p) << 32 | table__r4(p + q);
            b = table__r4(p + len - 4) << 32 | table__r4(p + len - 4 - q);
        } else if (len > 0) {
            a = (uint64_t)(unsigned char)p[0] << 16 | (uint64_t)(unsigned char)p[len >> 1] << 8 |
                (unsigned char)p[len - 1];
            b = 0;
        } else {
            a = b = 0;
        }
    } else {
        size_t i = len;
        for (; i > 16; i -= 16, p += 16)
            seed = table__mum(table__r8(p) ^ k1, table__r8(p + 8) ^ seed);
        a = table__r8(p + i - 16); /* the last 16 bytes, overlapping */
        b = table__r8(p + i - 8);
    }
    return table__mum(k1 ^ (uint64_t)len, table__mum(a ^ k1, b ^ seed));
}
#else
static inline uint64_t table__hash(const char *p, size_t len, uint64_t seed)
{
    return mp_hash_bytes(p, len, seed);
}
#endif

static inline uint64_t table__tenant_hash(const char *s, size_t len)
{
    return table__hash(s, len, SEED_TENANT);
}

static inline uint64_t table__child_hash(uint64_t th, int scope, const char *s, size_t len)
{
    return table__hash(s, len, th ^ (SEED_SCOPE * (uint64_t)(scope + 1)));
}

#define SLOT_PTR_BITS 48
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

static struct eng_key *table__lookup(const struct eng_table *t, uint64_t h, int scope,
                                     const struct eng_key *parent, const char *name, size_t len)
{
    const uint64_t tag = table__tag(h);
    for (uint64_t i = h & t->mask, n = 0; n <= t->mask; i = (i + 1) & t->mask, n++) {
        /* acquire: pairs with the release CAS that published the key */
        uint64_t w = mp_load_acquire(&t->slots[i]);
        if (!w)
            return NULL;
        if (w >> SLOT_PTR_BITS == tag && table__key_is(table__slot_key(w), scope, parent, name, len))
            return table__slot_key(w);
    }
    return NULL;
}

/* Builds a new, unpublished key. Names are interned here, once per key
 * (the store and the readers name keys by id), never per event. */
static int table__new_key(struct eng_table *t, int scope, struct eng_key *parent,
                          const char *name, size_t len, struct eng_key **out)
{
    uint32_t tid, nid = 0;
    int rc;
    if (scope == ENG_SCOPE_TENANT) {
        if ((rc = eng_intern_get(t->names, name, len, &tid)) != MP_OK)
            return rc;
    } else {
        tid = parent->tenant_id;
        if ((rc = eng_intern_get(t->names, name, len, &nid)) != MP_OK)
            return rc;
    }
    /* Claim an id first (checked so next_id cannot run away and wrap); a
     * lost race wastes the id and a few arena bytes, never correctness. */
    if (mp_load_relaxed(&t->next_id) > t->max_keys)
        return MP_ERR_FULL;
    uint32_t id = mp_add_relaxed(&t->next_id, 1);
    if (id > t->max_keys)
        return MP_ERR_FULL;
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
    memcpy(k->name, name, len);
    *out = k;
    return MP_OK;
}

/* Finds or creates the key (scope, parent, name) whose hash is h. */
static int table__get_key(struct eng_table *t, uint64_t h, int scope, struct eng_key *parent,
                          const char *name, size_t len, struct eng_key **out)
{
    const uint64_t tag = table__tag(h);
    struct eng_key *mine = NULL;
    for (uint64_t i = h & t->mask, n = 0; n <= t->mask; i = (i + 1) & t->mask, n++) {
        /* acquire: pairs with the release CAS that published the key */
        uint64_t w = mp_load_acquire(&t->slots[i]);
        if (!w) {
            int rc;
            if (!mine && (rc = table__new_key(t, scope, parent, name, len, &mine)) != MP_OK)
                return rc;
            if (parent)
                mine->sibling = mp_load_relaxed(&parent->children);
            uint64_t expect = 0;
            /* release: the key's fields are visible to whoever loads the slot */
            if (mp_cas_acq_rel(&t->slots[i], &expect, tag << SLOT_PTR_BITS | (uintptr_t)mine)) {
                mp_store_release(&t->by_id[mine->id], mine);
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
            w = expect; /* lost: compare with the winner, then probe on with ours */
        }
        if (w >> SLOT_PTR_BITS == tag &&
            table__key_is(table__slot_key(w), scope, parent, name, len)) {
            *out = table__slot_key(w);
            return MP_OK; /* a key we built and lost stays unused in the arena */
        }
    }
    return MP_ERR_FULL;
}

/* ---- series ---------------------------------------------------------------- */

static inline struct eng_series *table__sptr(const struct eng_table *t, uint32_t sid)
{
    /* acquire: pairs with the release store that published the chunk (the
     * id itself reached us through an acquire load, so this is belt and
     * braces, and free on the platforms we run on) */
    uint32_t chunk = (uint32_t)(((uint64_t)sid * t->ser_recip) >> t->ser_rshift);
    char *c = mp_load_acquire(&t->ser_dir[chunk]);
    return (struct eng_series *)(c + (size_t)(sid - chunk * t->ser_per) * t->series_size);
}

static void table__free_id(struct eng_table *t, uint32_t sid)
{
    pthread_mutex_lock(&t->free_lock);
    if (t->nfree == t->capfree) {
        size_t cap = t->capfree ? 2 * t->capfree : 1024;
        uint32_t *n = realloc(t->free_ids, cap * sizeof(*n));
        if (!n) { /* the id is lost; its memory stays in the pool */
            pthread_mutex_unlock(&t->free_lock);
            return;
        }
        t->free_ids = n;
        t->capfree = cap;
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
static struct eng_series *table__series_new(struct eng_table *t, struct eng_key *k, int type)
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
    table__free_id(t, mine); /* someone else created it first; ours was never seen */
    return table__sptr(t, expect);
}

/* The key's series for `type`, created on first use. */
static inline struct eng_series *table__series(struct eng_table *t, struct eng_key *k, int type)
{
    /* acquire: pairs with the release CAS that published the id */
    uint32_t sid = mp_load_acquire(&k->sid[type - 1]);
    return sid ? table__sptr(t, sid) : table__series_new(t, k, type);
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
            atomic_fetch_add(&k->seq, SEQ_ONE_FRAME);
            *idx = f->n++;
            return table__ensure_hot(t, k);
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
            atomic_fetch_or_explicit(&k->fmask, f->bits[i], memory_order_release);
        mp_store_relaxed(&k->last_ms, now);
        /* One RMW: gen + 1, inflight - 1, dirty set. release: a reader that
         * sees the new gen (or inflight back to 0) also sees every add of
         * this frame, and so does the evaluator whose clearing RMW of the
         * dirty bit reads from this one (or a later one). Dirty is set with
         * the frame's end, so an evaluator that found the key unstable and
         * skipped it gets it back. Only the frame that sets the bit links
         * the key, so a key is on the list at most once. */
        uint64_t w = mp_load_relaxed(&k->seq);
        while (!atomic_compare_exchange_weak_explicit(&k->seq, &w, (w + SEQ_END_FRAME) | SEQ_DIRTY,
                                                      memory_order_acq_rel, memory_order_relaxed))
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
        } while (!atomic_compare_exchange_weak_explicit(&t->dirty_head, &head, first,
                                                        memory_order_release,
                                                        memory_order_relaxed));
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

static inline int table__names_ok(const struct eng_event *ev)
{
    /* 1..NAME_MAX_LEN bytes each (size_t wraps for 0) */
    return ev->tenant_len - 1 < NAME_MAX_LEN && ev->mailbox_len - 1 < NAME_MAX_LEN &&
           ev->domain_len - 1 < NAME_MAX_LEN;
}

/* One hash per key from the wire bytes. */
static inline void table__event_hashes(const struct eng_event *ev, uint64_t h[ENG_NSCOPES])
{
    h[0] = table__tenant_hash(ev->tenant, ev->tenant_len);
    h[1] = table__child_hash(h[0], ENG_SCOPE_MAILBOX, ev->mailbox, ev->mailbox_len);
    h[2] = table__child_hash(h[0], ENG_SCOPE_DOMAIN, ev->domain, ev->domain_len);
}

/* eng_frame_record with the key hashes already computed (h), or not (NULL). */
static inline int frame__record(struct eng_table *t, struct eng_frame *f,
                                const struct eng_event *ev, const uint64_t *hin)
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

    if (!table__names_ok(ev))
        return MP_ERR_INVAL;
    uint64_t h[ENG_NSCOPES];
    if (hin) {
        memcpy(h, hin, sizeof(h));
    } else {
        table__event_hashes(ev, h);
        /* the three slot loads are independent: start them together */
        __builtin_prefetch(&t->slots[h[1] & t->mask]);
        __builtin_prefetch(&t->slots[h[2] & t->mask]);
    }
    struct eng_key *keys[ENG_NSCOPES];
    int rc = table__get_key(t, h[0], ENG_SCOPE_TENANT, NULL, ev->tenant, ev->tenant_len, &keys[0]);
    if (rc == MP_OK)
        rc = table__get_key(t, h[1], ENG_SCOPE_MAILBOX, keys[0], ev->mailbox, ev->mailbox_len,
                            &keys[1]);
    if (rc == MP_OK)
        rc = table__get_key(t, h[2], ENG_SCOPE_DOMAIN, keys[0], ev->domain, ev->domain_len,
                            &keys[2]);
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

int eng_frame_record(struct eng_table *t, struct eng_frame *f, const struct eng_event *ev)
{
    return frame__record(t, f, ev, NULL);
}

/* ---- lookahead --------------------------------------------------------------- */

void eng_prep_start(const struct eng_table *t, const struct eng_event *ev, struct eng_prep *p)
{
    p->k[0] = p->k[1] = p->k[2] = NULL;
    p->ok = table__names_ok(ev);
    if (!p->ok)
        return;
    table__event_hashes(ev, p->h);
    for (int i = 0; i < ENG_NSCOPES; i++)
        __builtin_prefetch(&t->slots[p->h[i] & t->mask]);
}

void eng_prep_keys(const struct eng_table *t, struct eng_prep *p)
{
    if (!p->ok)
        return;
    for (int i = 0; i < ENG_NSCOPES; i++) {
        const uint64_t tag = table__tag(p->h[i]);
        p->k[i] = NULL;
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
    return frame__record(t, f, ev, p->ok ? p->h : NULL);
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
    uint64_t w = atomic_load_explicit(&kk->seq, memory_order_acquire);
    *token = SEQ_GEN(w);
    return SEQ_INFLIGHT(w) == 0 &&
           atomic_load_explicit(&kk->state, memory_order_acquire) == KEY_HOT;
}

int eng_key_read_end(const struct eng_key *k, uint32_t token)
{
    struct eng_key *kk = (struct eng_key *)k;
    /* acquire fence: if the sums saw an add of a frame that began after
     * read_begin, this fence synchronises with that frame's release fence,
     * so the loads below see its inflight increment (or its end, in gen). */
    atomic_thread_fence(memory_order_acquire);
    uint64_t w = mp_load_relaxed(&kk->seq); /* the dirty bit does not matter here */
    return SEQ_INFLIGHT(w) == 0 && SEQ_GEN(w) == token &&
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
        for (int ty = 0; ty < ENG_NTYPES; ty++) {
            /* acquire: pairs with the release CAS that published the id */
            uint32_t sid = mp_load_acquire(&k->sid[ty]);
            if (!sid)
                continue;
            struct eng_series *s = table__sptr(t, sid);
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

static void table__counts(const struct eng_table *t, const struct eng_key *k, int res,
                          uint64_t slot, uint64_t out[ENG_NTYPES])
{
    for (int ty = 0; ty < ENG_NTYPES; ty++) {
        uint32_t sid = mp_load_acquire(&((struct eng_key *)k)->sid[ty]);
        out[ty] = 0;
        if (!sid)
            continue;
        struct eng_series *s = table__sptr(t, sid);
        mp_atomic_u32 *c = res == ENG_RES_FINE ? s->fine : res == ENG_RES_HOUR ? s->hour : s->day;
        out[ty] = mp_load_relaxed(&c[slot]);
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
        if (atomic_fetch_and_explicit(&k->fmask, ~bit, memory_order_acquire) & bit)
            table__put(t, b, k, res, slot, bucket);
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
    table__flush_slot(t, b, res, slot, bucket);
    /* names after the keys: a key seen above was published after its names
     * were interned, so they are drained here, into the same batch */
    eng_intern_drain_new(t->names, table__name, b);
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
                table__put(t, b, k, res, (uint64_t)slot, bucket);
            }
        }
        if (keep)
            atomic_fetch_or_explicit(&k->fmask, keep, memory_order_relaxed);
        if (eng_store_batch_count(b) >= FLUSH_BATCH_MAX) { /* bound the batch's memory */
            eng_intern_drain_new(t->names, table__name, b); /* see below */
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
    /* Names again: a key created after the drain above, and flushed in the
     * loop, has names interned after that drain too (they are interned
     * before the key is published). Same batch, so no counter reaches the
     * store without its names. */
    eng_intern_drain_new(t->names, table__name, b);
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
    const char *tn = eng_intern_name(t->names, tid);
    size_t tlen = strlen(tn);
    uint64_t th = table__tenant_hash(tn, tlen);
    int rc = table__get_key(t, th, ENG_SCOPE_TENANT, NULL, tn, tlen, &tk);
    if (rc == MP_OK) {
        k = tk;
        if (scope != ENG_SCOPE_TENANT) {
            const char *nn = eng_intern_name(t->names, nid);
            size_t nlen = strlen(nn);
            rc = table__get_key(t, table__child_hash(th, scope, nn, nlen), scope, tk, nn, nlen, &k);
        }
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
                atomic_fetch_add_explicit(&k->seq, SEQ_GEN_ONLY, memory_order_release);
                table__recycle_all(t, k);
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
    atomic_fetch_add(&k->seq, SEQ_ONE_FRAME); /* hold the key, as a frame does */
    rc = table__ensure_hot(t, k);
    atomic_fetch_add_explicit(&k->seq, SEQ_END_FRAME, memory_order_release);
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
    table__free_id(t, sid);
}

/* Detaches and recycles every series of a key that no writer holds (state
 * EVICTING or LOADING). A stale reader fails read_end on gen. */
static void table__recycle_all(struct eng_table *t, struct eng_key *k)
{
    for (int ty = 0; ty < ENG_NTYPES; ty++) {
        uint32_t sid = atomic_exchange(&k->sid[ty], 0);
        if (sid)
            table__recycle(t, sid);
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
            SEQ_INFLIGHT(mp_load_relaxed(&k->seq)))
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
        if (SEQ_INFLIGHT(atomic_load(&k->seq)) != 0) { /* a frame got in first: keep it */
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
                    table__put(t, b, k, res, (uint64_t)slot, bucket);
            }
        }
        victims[n] = k;
        masks[n++] = m;
    }
    eng_intern_drain_new(t->names, table__name, b); /* names of keys made meanwhile */
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
        /* readers that began earlier see a changed gen and drop their sums */
        atomic_fetch_add_explicit(&k->seq, SEQ_GEN_ONLY, memory_order_release);
        table__recycle_all(t, k);
        mp_add_relaxed(&t->cold, 1);
        atomic_store(&k->state, KEY_COLD);
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
        /* acq_rel: pairs with the frame end that set the bit (see there) */
        atomic_fetch_and_explicit(&k->seq, ~SEQ_DIRTY, memory_order_acq_rel);
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
    for (int ty = 0; ty < ENG_NTYPES; ty++) {
        if (!(types & (1u << (ty + 1))))
            continue;
        /* acquire: pairs with the release CAS that published the id */
        uint32_t sid = mp_load_acquire(&((struct eng_key *)k)->sid[ty]);
        if (!sid)
            continue;
        struct eng_series *s = table__sptr(t, sid);
        mp_atomic_u32 *c = res == ENG_RES_FINE ? s->fine : res == ENG_RES_HOUR ? s->hour : s->day;
        uint64_t sum = 0;
        for (int i = 0, slot = first; i < len; i++) {
            sum += mp_load_relaxed(&c[slot]);
            if (++slot == ring)
                slot = 0;
        }
        out[ty] += sum;
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
    size_t tlen = strlen(tenant);
    if (tlen - 1 >= NAME_MAX_LEN || scope < 0 || scope >= ENG_NSCOPES)
        return MP_ERR_NOTFOUND;
    uint64_t th = table__tenant_hash(tenant, tlen);
    struct eng_key *k = table__lookup(t, th, ENG_SCOPE_TENANT, NULL, tenant, tlen);
    if (k && scope != ENG_SCOPE_TENANT) {
        size_t len = name ? strlen(name) : 0;
        if (len - 1 >= NAME_MAX_LEN)
            return MP_ERR_NOTFOUND;
        k = table__lookup(t, table__child_hash(th, scope, name, len), scope, k, name, len);
    }
    if (!k)
        return MP_ERR_NOTFOUND;
    *out = k;
    return MP_OK;
}

uint32_t eng_table_nkeys(const struct eng_table *t) { return mp_load_relaxed(&t->nkeys); }

uint64_t eng_table_nseries(const struct eng_table *t) { return mp_load_relaxed(&t->nseries); }

size_t eng_table_series_bytes(const struct eng_table *t) { return t->series_size; }

size_t eng_table_bytes(const struct eng_table *t)
{
    return eng_arena_used(t->arena) + (size_t)mp_load_relaxed(&t->ser_next) * t->series_size +
           (size_t)t->ser_ndir * sizeof(void *) + (size_t)(t->mask + 1) * sizeof(*t->slots) +
           ((size_t)t->max_keys + 1) * sizeof(void *) + eng_intern_bytes(t->names);
}

int64_t eng_table_now_fine(const struct eng_table *t)
{
    return atomic_load(&((struct eng_table *)t)->cur_fine);
}
