/* eng_store_impl.h — the store's insides, shared by engine/eng_store*.c only.
 *
 * Private: eng_store.c opens, closes, builds batches, commits and recovers;
 * eng_store_read.c scans and reads. Both use the DB handle under `lock`
 * (see struct eng_store).
 */
#ifndef ENG_STORE_IMPL_H
#define ENG_STORE_IMPL_H

#include <pthread.h>
#include <rocksdb/c.h>
#include <stdint.h>

#include "eng_store.h"
#include "mp_atomic.h"
#include "mp_log.h"

#define STORE_KEY_LEN 18

enum { CF_DEFAULT = 0, CF_NAMES = 1, CF_COUNTERS = 2, CF_KV0 = 3, CF_COUNT = CF_KV0 + ENG_KV_COUNT };

/* Write failures (see eng_store.h): the first failed write puts the store
 * in the failed state; writes are then refused without a RocksDB call, and
 * every so often (STORE_BACKOFF_MIN_NS doubling to _MAX_NS) a commit tries
 * to recover by closing and reopening the DB, once the file system shows
 * STORE_RECOVER_MIN_FREE bytes free. */
#define STORE_BACKOFF_MIN_NS 1000000000LL
#define STORE_BACKOFF_MAX_NS 4000000000LL
#define STORE_RECOVER_MIN_FREE (1u << 20)
#define STORE_REOPEN_WAIT_MS 250 /* longest wait for readers to let go of the handle */
#define STORE_LOG_EVERY_MS 10000

struct eng_store {
    char *dir;
    /* Shared by every use of db and cf[] (batch building included: a batch
     * names its column families through the handles); exclusive while the
     * handle is reopened. Reader-preferring, so a thread that reads (a
     * scan) may build and commit a batch inside its callback. */
    pthread_rwlock_t lock;
    pthread_mutex_t rec_mu;  /* one recovery at a time; guards the fields below it */
    int64_t next_try_ns;     /* earliest recovery attempt (mp_mono_ns) */
    int64_t backoff_ns;
    int64_t failed_at_ns;
    mp_atomic_u32 failed;    /* 1 from a failed write until a reopen succeeds */
    mp_atomic_u64 failures, refused, recoveries;
    mp_atomic_u64 commits, bytes_written; /* successful writes and their batches' bytes */
    struct mp_ratelimit rl_refused, rl_recover;
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_options_t *cf_opts[CF_COUNT];
    rocksdb_mergeoperator_t *merge;
    rocksdb_column_family_handle_t *cf[CF_COUNT];
    rocksdb_writeoptions_t *wo, *wo_sync;
    rocksdb_readoptions_t *ro;
};

/* Counter key layout (see eng_store.h): k needs STORE_KEY_LEN bytes. */
void eng_store__key(char *k, int res, int64_t bucket, int scope, uint32_t tid, uint32_t nid);
void eng_store__unkey(const char *k, int64_t *bucket, int *scope, uint32_t *tid, uint32_t *nid);

#endif
