/* eng_table.h — the key table: per-key, event-time-bucketed counters.
 *
 * A key is a scope plus names: (tenant), (tenant, mailbox),
 * (tenant, recipient_domain), (tenant, provider), (tenant, mailbox,
 * provider) or (tenant, campaign); an event counts in up to six keys (the
 * campaign key only when it carries a campaign; the mailbox and
 * mailbox_provider keys only when it carries a mailbox: mailbox_len 0, as
 * ESP feeds without a sender give, counts at the other scopes). The provider is the
 * recipient domain's, from the table's provider map (eng_provider.h); a
 * mailbox_provider key's name is "mailbox/provider" (the provider never
 * holds '/': split at the last one), and an event whose mailbox is too
 * long for that name (over 255 bytes with the provider) has no
 * mailbox_provider key. For each event type it has seen (and only
 * those: a key pays for the types it uses), a key holds three rings of
 * counters keyed by *event time*:
 *   - fine:   ENG_FINE_SLOTS buckets of 5 minutes (windows up to 1 h);
 *   - hourly: ENG_HOUR_SLOTS buckets of 1 hour (the 24 h window);
 *   - daily:  one bucket per UTC day, enough for the retention (7 d, the
 *             7 d before, daily trends).
 *
 * Threads and ordering
 *   - Writer threads (ingest workers) register once with eng_thread_register()
 *     and call eng_table_record() between eng_thread_online() and
 *     eng_thread_offline(); between batches they call eng_thread_quiescent().
 *     record() takes no lock: string and key lookups are lock-free (publish
 *     by CAS), counters are relaxed atomic adds.
 *   - One maintenance thread calls eng_table_tick() as time passes. Tick
 *     moves the held bucket range forward, waits for a grace period (every
 *     online writer passes a quiescent point), and only then clears the
 *     buckets that left the range. A writer therefore never adds into a
 *     bucket that is being cleared, and no increment is lost (QSBR,
 *     engine/eng_qsbr.h).
 *   - Readers (evaluator, stats) may read any key at any time through
 *     eng_key_sum_*(); sums are of relaxed loads, exact once writers are done.
 *   - eng_table_drain_dirty() is for one consumer thread at a time.
 *
 * Hashing: keys are found by a hash of their names under a seed drawn from
 * the OS per table (eng_hash.h), so producers cannot aim names at one probe
 * chain. The names' ids, which the store keys counters by, come from the
 * store, never from the hash, so a restart under a new seed finds the same
 * stored counters (key ids, eng_key_id(), are per process as before).
 *
 * Implementation: engine/eng_table*.c share the opaque structs through the
 * private engine/eng_table_impl.h (which lists what each file does).
 *
 * Ownership: the table owns keys and names; struct eng_key pointers and name
 * strings stay valid until eng_table_destroy(), which must not race.
 * With a store (eng_table_opts.store) the table is backed by RocksDB: see
 * eng_table_flush() and eng_table_evict(); without one it lives in memory.
 */
#ifndef ENG_TABLE_H
#define ENG_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "eng_provider.h"
#include "eng_qsbr.h"
#include "eng_types.h"
#include "mp.h"

#define ENG_FINE_MS (5 * 60 * 1000LL)   /* fine bucket width */
#define ENG_FINE_SLOTS 16               /* ring size */
#define ENG_FINE_BACK 13                /* held: current-13 .. current+1 */
#define ENG_FINE_WINDOW_MAX 12          /* longest fine window (1 h) */
#define ENG_HOUR_MS (3600 * 1000LL)     /* hourly bucket width */
#define ENG_HOUR_SLOTS 28               /* ring size */
#define ENG_HOUR_BACK 25                /* held: current-25 .. current+1 */
#define ENG_DAY_MS (24 * 3600 * 1000LL) /* daily bucket width (UTC days) */

/* Bucket resolutions, and the named windows users and rules ask for. */
enum eng_res { ENG_RES_FINE = 0, ENG_RES_HOUR = 1, ENG_RES_DAY = 2 };
enum eng_window {
    ENG_WIN_1H = 0,      /* current 5-min bucket + the 11 before (55..60 min) */
    ENG_WIN_24H = 1,     /* current hour + the 23 before */
    ENG_WIN_7D = 2,      /* today (UTC) + the 6 days before */
    ENG_WIN_PREV_7D = 3, /* the 7 days before ENG_WIN_7D */
};
/* "1h", "24h", "7d" (and "prev7d") -> window; 0, or -1 when unknown. */
int eng_window_parse(const char *s, int *win);
const char *eng_window_name(int win);

struct eng_table;
struct eng_key;
struct eng_thread;
struct eng_frame;

struct eng_store;
struct eng_store_batch;

/* Noisy-neighbour limits of one tenant (see "Limits" below). */
struct eng_tenant_limits {
    uint32_t max_keys; /* keys of every scope but tenant the tenant may hold; 0: no cap */
    uint32_t max_eps;  /* sustained events per second; 0: no cap */
};
/* Gives the limits of `tenant` (len bytes, not NUL-terminated). Called once
 * per tenant key, when it is created (from a writer thread, or at load), so
 * it must be thread-safe and quick; `out` arrives holding the table's
 * default (eng_table_opts.limits). */
typedef void (*eng_limits_fn)(void *arg, const char *tenant, size_t len,
                              struct eng_tenant_limits *out);

struct eng_table_opts {
    uint32_t max_keys;    /* capacity of the key table (>= 16) */
    int64_t retention_ms; /* events older than this are refused */
    /* Optional system of record. With a store, the table loads the names
     * and the held buckets from it at create, eng_table_flush() writes what
     * changed, and events older than the in-memory daily ring (14 days) but
     * within the retention go straight to the store (backfill). Without
     * one, the daily ring covers the whole retention and nothing persists. */
    struct eng_store *store;
    /* With a store: keys with no write for this long leave memory at the
     * next eng_table_evict() (0: never). */
    int64_t evict_idle_ms;
    /* With a store: hourly buckets stay in it this long (whole hours, at
     * most the retention), so the series API reads 1 h steps that far back;
     * 0, or less than the hour ring's 25 h: only while the ring holds them
     * (the store keeps them just for restarts). */
    int64_t hour_retention_ms;
    /* Per-tenant limits: the default, and an optional per-tenant lookup
     * (limits_fn(limits_arg, ...)); both zero: no limits. */
    struct eng_tenant_limits limits;
    eng_limits_fn limits_fn;
    void *limits_arg; /* must outlive the table */
    /* The provider map (eng_provider.h); NULL: the built-in table. The
     * table owns it from the call on (freed on failure too). */
    struct eng_providers *providers;
    /* The scopes events count in (bits 1u << ENG_SCOPE_*; the tenant is
     * always one); 0: all six, as the daemon runs. ENG_SCOPES_CLASSIC
     * keeps the first three only (the engine suites that count keys, and
     * bench_ingest's side-by-side figure). */
    unsigned scopes;
};

/* Creates a table whose clock starts at now_ms (and, with a store, loads
 * its state: names, then every held bucket). */
int eng_table_create(const struct eng_table_opts *opts, int64_t now_ms, struct eng_table **out);

/* Writes to the store what changed since the last flush: new names, the
 * buckets writers touched (absolute values), backfilled events (added), and
 * deletes buckets past the retention, in ONE commit: all or nothing. When
 * the commit fails, everything it would have written stays marked (dirty
 * slots, backfill, names, retention deletes), so the next flush writes it
 * again and the stored scopes always agree with each other. Call it from
 * the thread that calls eng_table_tick() (tick flushes a bucket before it
 * clears it). sync=1 also fsyncs the WAL. No-op without a store.
 * Returns MP_OK, MP_ERR_IO (the store refused: see eng_store.h) or
 * MP_ERR_NOMEM; *entries (may be NULL) gets the count written. */
int eng_table_flush(struct eng_table *t, int sync, size_t *entries);

/* A cut around every write of counters to the store. */
struct eng_flush_hook {
    /* Before the flush reads any counter, with the batch it will commit:
     * the hook may add entries to b (a journal watermark, a journal
     * range delete) and take a lock that holds back writers whose
     * effects must fall wholly on one side of the cut. */
    void (*begin)(void *arg, struct eng_store_batch *b);
    /* Once the cut is fixed, before the commit: the table has opened a
     * copy-on-write epoch (eng_table_impl.h, table__cow), so writers that
     * resume now capture each key's counters as of the cut before they
     * change it, and the batch still holds exactly the cut. The flush reads
     * the counters after end(), except a ring advance's leaving slot, which
     * no writer reaches any more (before it). Without a hook's begin() no
     * epoch opens and end() comes after the reads, as before. */
    void (*end)(void *arg);
    /* After the commit; rc is its result (MP_OK: b is durable, with
     * what begin() added). */
    void (*done)(void *arg, int rc);
    void *arg;
};
/* Installs (h != NULL, copied) or removes the hook. Call before any
 * flush can run concurrently (at start, before ingest starts).
 * Every write of counters (eng_table_flush, the ring-advance write in
 * eng_table_tick, eng_table_evict) is one full flush bracketed
 * begin -> (read counters) -> end -> commit -> done; none is called while
 * the tick waits for a grace period. */
void eng_table_set_flush_hook(struct eng_table *t, const struct eng_flush_hook *h);
void eng_table_destroy(struct eng_table *t);

/* Writer registration for the grace-period protocol (eng_qsbr.h: the
 * registered thread's eng_thread_online/quiescent/offline/unregister). A
 * registered thread starts offline. Returns MP_OK or MP_ERR_NOMEM. */
int eng_thread_register(struct eng_table *t, struct eng_thread **out);

/* One validated event. Strings need not be NUL-terminated. */
struct eng_event {
    const char *tenant;
    size_t tenant_len;
    const char *mailbox;  /* optional: mailbox_len 0 means none */
    size_t mailbox_len;
    const char *domain;
    size_t domain_len;
    int type;       /* ENG_TYPE_MIN..ENG_TYPE_MAX */
    int64_t time_ms;
    const char *campaign; /* optional: campaign_len 0 means none */
    size_t campaign_len;
};

/* Replaces the provider map (taking ownership of p, freeing the old one
 * after a grace period, so no writer still reads it). Keys made before
 * keep their names; later events map by p. Tick thread. */
void eng_table_set_providers(struct eng_table *t, struct eng_providers *p);

/* Frames: the unit in which the evaluator sees changes. A writer records a
 * frame's events with eng_frame_record() and publishes them with
 * eng_frame_end(); a reader using eng_key_read_begin()/_end() never sees a
 * key with part of a frame applied (a key touched by a frame in progress, or
 * changed during the read, reads as unstable and is marked dirty again when
 * that frame ends). A frame tracks up to ENG_FRAME_KEYS distinct keys;
 * eng_frame_record() ends and restarts the frame when that fills up, so a
 * larger frame becomes visible in parts. One frame object per thread. */
#define ENG_FRAME_KEYS 4096

int eng_frame_create(struct eng_frame **out);
void eng_frame_destroy(struct eng_frame *f);
/* Adds one event to its keys; same returns as eng_table_record(). */
int eng_frame_record(struct eng_table *t, struct eng_frame *f, const struct eng_event *ev);
/* Publishes the frame: its keys become stable and are marked dirty. */
void eng_frame_end(struct eng_table *t, struct eng_frame *f);
/* The wall clock (ms) the rate cap charges the frame's next events at, until
 * set again (a writer sets it per batch); 0 (the start): the table's coarse
 * clock, set by tick. */
void eng_frame_set_now(struct eng_frame *f, int64_t now_ms);

/* Lookahead (optional). An event's lookups are chains of dependent memory
 * loads (key slot, key, counters) that miss the caches when keys are many.
 * A writer holding its next events can start those chains early, a few
 * events apart, so that the loads of several events overlap:
 *   eng_prep_start(t, ev, p)      hashes the names, prefetches the key slots;
 *   eng_prep_keys(t, p)           later: prefetches the keys in those slots;
 *   eng_prep_counters(t, ev, p)   later: prefetches the counters ev adds to;
 *   eng_frame_record_prep(t, f, ev, p)  records ev exactly as eng_frame_record().
 * Hints only: no result depends on them, any stage but the first may be
 * skipped, and they change nothing the other threads can see. `ev` and the
 * bytes it points to must stay unchanged from eng_prep_start() to the
 * record. The writer calls them while online, like eng_frame_record(). */
#define ENG_PREP_NAME_MAX (255 + 1 + ENG_PROVIDER_NAME_MAX)
struct eng_prep { /* private to the table */
    uint64_t h[ENG_NSCOPES];
    const struct eng_key *k[ENG_NSCOPES];
    unsigned present;          /* scopes the event has keys in (bit per scope) */
    int ok;
    uint16_t mbp_len, prov_len; /* mbp: "mailbox/provider"; the provider is its tail */
    char mbp[ENG_PREP_NAME_MAX];
};
void eng_prep_start(const struct eng_table *t, const struct eng_event *ev, struct eng_prep *p);
void eng_prep_keys(const struct eng_table *t, struct eng_prep *p);
void eng_prep_counters(const struct eng_table *t, const struct eng_event *ev,
                       const struct eng_prep *p);
int eng_frame_record_prep(struct eng_table *t, struct eng_frame *f, const struct eng_event *ev,
                          const struct eng_prep *p);

/* Adds one event to its keys as a frame of its own and marks them
 * dirty. The caller must be online. Returns MP_OK; MP_ERR_INVAL when the event time lies outside the
 * held range (older than the retention, or more than one fine bucket ahead)
 * or a name is empty/over-long; MP_ERR_FULL when a new key or name does not
 * fit; MP_ERR_NOMEM; MP_ERR_AGAIN while tick resets the day ring after a clock
 * jump longer than the ring (the caller goes quiescent and retries). Nothing
 * is counted on error. With limits (eng_table_opts.limits): ENG_ERR_RATE_CAP
 * when the tenant is over its rate, ENG_ERR_KEY_CAP when a new mailbox or
 * domain key would take the tenant over its key cap (see "Limits"). */
int eng_table_record(struct eng_table *t, struct eng_thread *th, const struct eng_event *ev);

/* Advances the held range to now_ms and clears buckets that left it. Blocks
 * until online writers pass a quiescent point. One caller thread only. */
void eng_table_tick(struct eng_table *t, int64_t now_ms);

/* Calls fn(arg, key) for every key that was marked dirty since the last
 * drain, clearing its mark first, so an event that lands during fn marks the
 * key again. Returns the number of keys visited. */
size_t eng_table_drain_dirty(struct eng_table *t, void (*fn)(void *arg, struct eng_key *k),
                             void *arg);
/* The drainer's sleep: returns once a key is dirty (at once if one is), on
 * eng_table_wake(), after timeout_ns, or spuriously (the caller looks
 * again). A frame end that dirties a key wakes it (base/mp_wake.h: writers
 * pay a fence per frame, a system call only while the drainer sleeps).
 * The drain thread only. eng_table_wake(): any thread, e.g. to hand the
 * drainer other work or ask it to stop. */
void eng_table_wait_dirty(struct eng_table *t, int64_t timeout_ns);
void eng_table_wake(struct eng_table *t);

/* Consistent reads of one key. read_begin returns 0 when a frame touching
 * the key is in progress; otherwise it sets *token, the caller reads sums,
 * and read_end returns 1 when nothing changed meanwhile (the sums show whole
 * frames only), 0 when they must be discarded. */
int eng_key_read_begin(const struct eng_key *k, uint32_t *token);
int eng_key_read_end(const struct eng_key *k, uint32_t token);

/* Sums, per type (out[type - 1]), `n` buckets of resolution `res` ending
 * `back` buckets before the current one, clipped to the held range, for the
 * types in mask `types` (bit 1u << type; ~0u: all) only; the others read 0. */
void eng_key_sum_types(const struct eng_table *t, const struct eng_key *k, int res, int back,
                       int n, unsigned types, uint64_t out[ENG_NTYPES]);
void eng_key_sum_window(const struct eng_table *t, const struct eng_key *k, int win,
                        uint64_t out[ENG_NTYPES]);

/* Calls fn for every key of `scope` (any but ENG_SCOPE_TENANT) that
 * belongs to the tenant of tenant key `tk`, newest first. Lock-free; keys
 * created meanwhile may or may not be visited. Returns the count visited. */
size_t eng_table_children(const struct eng_table *t, const struct eng_key *tk, int scope,
                          void (*fn)(void *arg, struct eng_key *k), void *arg);

/* Calls fn for every tenant key, newest first, and returns the count.
 * Lock-free, any thread; tenant keys made meanwhile may or may not be
 * visited (tenant keys are never reclaimed, so the walk is always safe). */
size_t eng_table_tenants(const struct eng_table *t, void (*fn)(void *arg, struct eng_key *k),
                         void *arg);

/* Shorthands of eng_key_sum_types() for every type (the tests read windows
 * through them). The last `nbuckets` fine buckets up to and including the
 * current one (nbuckets 1..ENG_FINE_WINDOW_MAX). out[type - 1]. */
void eng_key_sum_fine(const struct eng_table *t, const struct eng_key *k, int nbuckets,
                      uint64_t out[ENG_NTYPES]);
/* Sums daily buckets [current_day - back - ndays + 1, current_day - back]. */
void eng_key_sum_days(const struct eng_table *t, const struct eng_key *k, int back, int ndays,
                      uint64_t out[ENG_NTYPES]);

/* Key identity. Ids are dense small integers (< max_keys + 1), stable for the
 * key's life; callers index side tables with them. A reclaimed key's id goes
 * to a later key (see eng_table_reclaim: never while a live alert holds it). */
/* The UTC day (days since 1970-01-01) of the key's earliest event, or -1
 * before its first. Kept for the key's whole life in the table: across
 * eviction, across restarts (stored with the counters), longer than the
 * counters' retention; a reclaimed key forgets it (eng_table_first.c).
 * Any thread; relaxed (a day only ever falls). */
int64_t eng_key_first_day(const struct eng_key *k);
/* Whole days from that day to the table's current day: 0 on the key's
 * first day, 2 on its third; -1 before its first event. */
int64_t eng_key_age_days(const struct eng_table *t, const struct eng_key *k);
/* The first-seen day of the key's tenant (the key's own for a tenant key). */
int64_t eng_key_tenant_first_day(const struct eng_key *k);
uint32_t eng_key_id(const struct eng_key *k);
int eng_key_scope(const struct eng_key *k);
const char *eng_key_tenant(const struct eng_table *t, const struct eng_key *k);
/* The key's own name (mailbox, recipient domain, provider,
 * "mailbox/provider" or campaign); NULL for tenant scope. */
const char *eng_key_name(const struct eng_table *t, const struct eng_key *k);
/* The mailbox of a mailbox or mailbox_provider key, the provider of a
 * provider or mailbox_provider key; NULL for the other scopes. */
const char *eng_key_mailbox(const struct eng_table *t, const struct eng_key *k);
const char *eng_key_provider(const struct eng_table *t, const struct eng_key *k);
/* Key by id, or NULL. */
struct eng_key *eng_table_key(const struct eng_table *t, uint32_t id);
/* Finds an existing key without creating it: MP_OK or MP_ERR_NOTFOUND.
 * `name` is ignored (may be NULL) for tenant scope. */
int eng_table_find(const struct eng_table *t, int scope, const char *tenant, const char *name,
                   struct eng_key **out);

/* Idle keys leave memory: for every key with no write (or load) for
 * evict_idle_ms, writes what the store lacks, drops its counters (their
 * memory is reused) and marks it cold; its header stays, so ids, names and
 * lists hold. The next event for a cold key, or eng_table_key_warm(), reads
 * its held buckets back from the store. Call from the tick thread. Returns
 * the number of keys evicted. No-op without a store. */
size_t eng_table_evict(struct eng_table *t, int64_t now_ms);
/* Brings a cold key's counters back from the store (readers call this before
 * reading a key that may be cold: stats, the evaluator's sweep). Any thread.
 * MP_OK, or MP_ERR_IO / MP_ERR_NOMEM (the key stays cold). */
int eng_table_key_warm(struct eng_table *t, struct eng_key *k);
void eng_table_residency(const struct eng_table *t, uint64_t *cold, uint64_t *evictions,
                         uint64_t *loads);

/* ---- Limits ------------------------------------------------------------------
 * Key cap: a tenant key counts its keys of every other scope (mailbox,
 * domain, provider, mailbox_provider, campaign: an atomic count
 * on the tenant's key, reserved before a key is made, so racing writers
 * never pass the cap); a new one past max_keys is refused with
 * ENG_ERR_KEY_CAP before its name is interned, so a tenant over its cap
 * takes neither table slots nor names from the others. Its existing keys
 * (and the tenant key itself) keep counting. Keys loaded from the store at
 * create always load, and count. A reclaimed key (eng_table_reclaim)
 * gives its place back.
 * Rate cap: a GCRA token bucket per tenant (one CAS on the tenant's key per
 * event, lock-free, shared by every writer): max_eps sustained with a burst
 * allowance of one second's worth (max_eps events at once). An event over
 * it is refused with ENG_ERR_RATE_CAP before any key is made; an event that
 * passes the rate check is charged even when refused later.
 * Rejections are counted per tenant: the first ENG_LIMITED_MAX tenants
 * that hit a cap are listed by eng_table_limited(); the rest are summed in
 * eng_table_limited_other(), so the figures stay bounded. */
/* Replaces the limits (as eng_table_opts.limits, limits_fn, limits_arg) for
 * every tenant, existing ones included: a lowered cap refuses new keys only
 * (a tenant keeps the keys it has), a rate change keeps the bucket's debt.
 * From the tick thread; returns after a grace period, so no writer still
 * calls the previous fn and its arg may be freed. MP_OK or MP_ERR_NOMEM
 * (the old limits stay). */
int eng_table_set_limits(struct eng_table *t, const struct eng_tenant_limits *def,
                         eng_limits_fn fn, void *arg);
#define ENG_ERR_KEY_CAP (-101)
#define ENG_ERR_RATE_CAP (-102)
enum { ENG_LIM_KEYS = 0, ENG_LIM_RATE = 1, ENG_LIM_COUNT = 2 };
#define ENG_LIMITED_MAX 1024
/* Calls fn for every listed tenant with its rejections, per ENG_LIM_*.
 * Any thread. Returns the count visited. */
size_t eng_table_limited(const struct eng_table *t,
                         void (*fn)(void *arg, const char *tenant,
                                    const uint64_t rejected[ENG_LIM_COUNT]),
                         void *arg);
/* Rejections of the tenants past the first ENG_LIMITED_MAX. */
void eng_table_limited_other(const struct eng_table *t, uint64_t out[ENG_LIM_COUNT]);
/* The tenant key's count of its other keys (0 for other scopes). */
uint32_t eng_key_children_count(const struct eng_key *tk);

/* ---- Reclaim -------------------------------------------------------------------
 * Keys leave the table for good, so a one-off flood does not hold capacity
 * forever: a key of any scope but tenant with no event for the retention, nothing
 * left in any window (every in-memory counter zero, nothing unflushed), in
 * no frame in progress and not dirty, and not pinned (pinned(arg, id)
 * returns 1 while a live alert, pending or firing or owing a resolve, holds
 * key id: the evaluator's alert_eval_key_live) leaves: lookups no longer
 * find it, its slot and id go to the next new keys, its tenant's key count
 * (the key cap) and eng_table_nkeys() drop, and eng_table_children() no
 * longer lists it. Its stored counters are already gone (a flush drops every
 * bucket past the retention). A reader that holds the key from before reads
 * zeros; its memory stays until eng_table_destroy(). Tenant keys stay, and
 * so do names (the name dictionary keeps them). A later event for the same
 * names makes a new key (a new id, possibly a reused one). "Idle" is the
 * key's last write or load: a key loaded at a restart starts its idle time
 * again (keys with nothing in the held buckets are not loaded at all).
 * Call from the tick thread (the one that calls tick, flush and evict);
 * pinned is called from it. While it unlinks keys (one grace period and a
 * pass over the slots) writers get MP_ERR_AGAIN and retry. At most
 * ENG_RECLAIM_MAX keys per call. Returns the number reclaimed. */
#define ENG_RECLAIM_MAX 262144
typedef int (*eng_pin_fn)(void *arg, uint32_t key_id);
size_t eng_table_reclaim(struct eng_table *t, int64_t now_ms, eng_pin_fn pinned, void *arg);
uint64_t eng_table_reclaimed(const struct eng_table *t); /* keys reclaimed so far */

/* Figures for /metrics. */
uint32_t eng_table_nkeys(const struct eng_table *t);
uint64_t eng_table_nseries(const struct eng_table *t); /* (key, type) pairs in memory */
size_t eng_table_bytes(const struct eng_table *t);
/* Bytes one counter series (one key, one event type) takes. */
size_t eng_table_series_bytes(const struct eng_table *t);

/* The seed of this table's key hash (eng_hash.h), drawn from the OS at
 * create: for tests and diagnostics (two tables, or two runs, differ). */
uint64_t eng_table_hash_seed(const struct eng_table *t);

#endif
