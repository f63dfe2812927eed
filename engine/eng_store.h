/* eng_store.h — RocksDB as the system of record for counters and names.
 *
 * Column families:
 *   default   meta (schema version)
 *   names     4-byte big-endian id -> the interned string
 *   counters  res(1) | bucket(8, big-endian, sign-flipped) | scope(1) |
 *             tenant id(4) | name id(4)  ->  per-type counts
 *   alerts    alert lifecycle state (layout owned by alert_eval)
 *   outbox    notifications not yet delivered (layout owned by alert_sender)
 *   dead      notifications given up on (layout owned by alert_sender)
 *   journal   acked ingest batches not yet covered by a counter flush
 *             (layout owned by the ingest journal)
 *   producers last applied sequence per producer (layout owned likewise)
 *   firstseen each key's first-seen day (layout owned by eng_table_first.c)
 *   dmarc     DMARC aggregate report counts and seen reports (eng_dmarc.h)
 * A store written by an older build (fewer families) opens: missing
 * families are created.
 * Bucket-first keys make "everything of resolution R in buckets [lo, hi]"
 * one range scan (restart) and "everything older than the retention" one
 * range delete. Counts are encoded as a 16-bit type mask + one varint per
 * present type; an adding merge operator sums them, so backfilled events can
 * be added without reading.
 *
 * Threads: a batch belongs to one thread; commits, loads and the store
 * itself are safe from any thread (RocksDB is; the DB handle sits behind a
 * reader-writer lock because recovery reopens it). Writes go through the
 * WAL; commit(sync=0) survives a killed process (the WAL is in the page
 * cache), commit(sync=1) survives a machine crash too.
 *
 * Write errors (disk full, I/O errors): a commit either writes its whole
 * batch or nothing. After a failed commit the store is "failed": further
 * commits return MP_ERR_IO at once, without calling RocksDB (after a failed
 * WAL append RocksDB must not be written to until it has recovered), and
 * reads go on being served. A commit made while failed also tries, at most
 * every 1 s doubling to 4 s and only when the file system has 1 MiB free,
 * to recover by closing and reopening the DB (the WAL replays every commit
 * that succeeded); when it succeeds the store is writable again and that
 * commit goes through. Logs: store_write_failed, store_write_refused
 * (rate-limited), store_recover_waiting, store_recover_failed,
 * store_recovered.
 *
 * Returns MP_OK, MP_ERR_IO (err/log says why), MP_ERR_NOMEM, MP_ERR_PARSE
 * (a stored value that does not decode: the load stops and says where).
 */
#ifndef ENG_STORE_H
#define ENG_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "eng_types.h"
#include "mp.h"

struct eng_store;
struct eng_store_batch;

int eng_store_open(const char *dir, struct eng_store **out, char *err, size_t errlen);
void eng_store_close(struct eng_store *s);

struct eng_store_batch *eng_store_batch_new(struct eng_store *s);
void eng_store_batch_free(struct eng_store_batch *b);
size_t eng_store_batch_count(const struct eng_store_batch *b);
void eng_store_batch_name(struct eng_store_batch *b, uint32_t id, const char *name, size_t len);
/* Sets the counts of one (resolution, bucket, key) to `counts` (absolute). */
void eng_store_batch_put(struct eng_store_batch *b, int res, int64_t bucket, int scope,
                         uint32_t tid, uint32_t nid, const uint64_t counts[ENG_NTYPES]);
/* Adds `counts` to what is stored (merge). */
void eng_store_batch_add(struct eng_store_batch *b, int res, int64_t bucket, int scope,
                         uint32_t tid, uint32_t nid, const uint64_t counts[ENG_NTYPES]);
/* Deletes every bucket of resolution `res` older than `bucket`. */
void eng_store_batch_drop_before(struct eng_store_batch *b, int res, int64_t bucket);
/* Writes the batch atomically and empties it (also on failure: a caller
 * that must write it again builds it again). MP_OK, or MP_ERR_IO: nothing
 * of the batch was written (a write error, or the store is failed). */
int eng_store_commit(struct eng_store *s, struct eng_store_batch *b, int sync);
/* Syncs the WAL: every commit returned before is durable (as a sync
 * commit's) when this returns MP_OK. MP_ERR_IO when the store is failed or
 * the sync fails (the store then counts a write failure). */
int eng_store_sync(struct eng_store *s);

/* Write health, for /metrics and tests. Any thread. */
struct eng_store_health {
    int failed;              /* 1: writes are refused until a recovery succeeds */
    uint64_t write_failures; /* commits (and recovery reopens) that failed */
    uint64_t refused;        /* commits refused while failed */
    uint64_t recoveries;     /* reopens that made the store writable again */
    uint64_t commits;        /* batches written */
    uint64_t bytes_written;  /* their serialized size (rocksdb_writebatch_data) */
    uint64_t write_stopped;  /* RocksDB's rocksdb.is-write-stopped now (1: stalled) */
    uint64_t delayed_rate;   /* rocksdb.actual-delayed-write-rate now, bytes/s (0: none) */
};
void eng_store_health(struct eng_store *s, struct eng_store_health *h);
/* MP_OK when a commit now would reach RocksDB (the store is writable, or
 * has just recovered); MP_ERR_IO (counted as refused) while it is failed:
 * a caller can skip building a batch that would be refused. */
int eng_store_writable(struct eng_store *s);
/* Tries to recover now, without waiting for the backoff (tests, and a
 * caller that knows space came back). MP_OK when the store is writable. */
int eng_store_recover(struct eng_store *s);

int eng_store_load_names(struct eng_store *s,
                         int (*fn)(void *arg, uint32_t id, const char *name, size_t len),
                         void *arg);
/* Calls fn for every stored entry of `res` with lo <= bucket <= hi. A
 * non-zero return from fn stops the scan and is returned. */
int eng_store_load_counts(struct eng_store *s, int res, int64_t lo, int64_t hi,
                          int (*fn)(void *arg, int64_t bucket, int scope, uint32_t tid,
                                    uint32_t nid, const uint64_t counts[ENG_NTYPES]),
                          void *arg);
/* Sums stored counts of one key over buckets [lo, hi] of `res`. */
int eng_store_sum(struct eng_store *s, int res, int64_t lo, int64_t hi, int scope, uint32_t tid,
                  uint32_t nid, uint64_t out[ENG_NTYPES]);

/* Plain key/value column families for the alert side. Their layouts belong
 * to their owners; one batch can change several families atomically (alert
 * state and the outbox entries it causes). The daemon keeps them in a store
 * of their own (data_dir/alerts) so that small alert writes never queue
 * behind a large counter flush. */
enum eng_store_kv { ENG_KV_ALERTS = 0, ENG_KV_OUTBOX = 1, ENG_KV_DEAD = 2,
                    ENG_KV_JOURNAL = 3, ENG_KV_PRODUCERS = 4, ENG_KV_FIRSTSEEN = 5,
                    ENG_KV_DMARC = 6, ENG_KV_HISTORY = 7, ENG_KV_COUNT = 8 };
void eng_store_batch_kv_put(struct eng_store_batch *b, int kv, const void *k, size_t kl,
                            const void *v, size_t vl);
void eng_store_batch_kv_del(struct eng_store_batch *b, int kv, const void *k, size_t kl);
/* Deletes every entry of `kv` with lo <= key < hi (byte order). */
void eng_store_batch_kv_del_range(struct eng_store_batch *b, int kv, const void *lo,
                                  size_t lol, const void *hi, size_t hil);
/* Calls fn for every entry of `kv` whose key starts with `prefix` (plen 0:
 * all), in key order. A non-zero return from fn stops the scan and is
 * returned. */
int eng_store_kv_scan(struct eng_store *s, int kv, const void *prefix, size_t plen,
                      int (*fn)(void *arg, const char *k, size_t kl, const char *v, size_t vl),
                      void *arg);

/* Calls fn for every entry of `kv` with lo <= key < hi (byte order), from
 * the last down (newest first where keys end in a big-endian time). A
 * non-zero return from fn stops the scan and is returned. */
int eng_store_kv_scan_back(struct eng_store *s, int kv, const void *lo, size_t lol,
                           const void *hi, size_t hil,
                           int (*fn)(void *arg, const char *k, size_t kl, const char *v,
                                     size_t vl),
                           void *arg);

/* Encoding, exposed for tests. enc needs ENG_STORE_VALUE_MAX bytes. */
#define ENG_STORE_VALUE_MAX (2 + ENG_NTYPES * 10)
size_t eng_store_encode(const uint64_t counts[ENG_NTYPES], char *enc);
int eng_store_decode(const char *v, size_t len, uint64_t counts[ENG_NTYPES]);

/* A RocksDB checkpoint of the store in `dir` (engine/eng_store_checkpoint.c):
 * a consistent copy of every column family as of one moment, made of hard
 * links to the immutable table files (a copy where `dir` is on another file
 * system) after the memtables are flushed. `dir` must not exist; its parent
 * must. The copy opens with eng_store_open() like the original. Any thread;
 * writers go on meanwhile (what they commit after the moment is not in it).
 * MP_OK, MP_ERR_INVAL (dir NULL or empty), MP_ERR_IO (err says why). */
int eng_store_checkpoint(struct eng_store *s, const char *dir, char *err, size_t errlen);

#endif
