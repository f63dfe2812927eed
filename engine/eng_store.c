/* eng_store.c — RocksDB column families, key layout, adding merge (see eng_store.h). */
#include "eng_store.h"

#include <errno.h>
#include <pthread.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "eng_table.h"
#include "mp_buf.h"
#include "mp_log.h"

#include "eng_store_impl.h"

#define STORE_SCHEMA "1"

/* Counter puts wait in `puts` and reach the write batch sorted by key: the
 * memtable's skiplist then inserts each next key from where the previous one
 * went (its sequential-insert splice) instead of searching from the top,
 * which is most of a flush's cost (keys arrive in key-id order, not key
 * order). Any other counters operation (merge, range delete) first moves
 * the waiting puts into the batch, so the batch applies in the order the
 * caller wrote it; names and kv entries live in other column families. */
struct put_ent {
    char k[STORE_KEY_LEN];
    uint8_t vl;
    char v[ENG_STORE_VALUE_MAX];
    uint32_t seq; /* arrival: equal keys keep their order */
};

struct eng_store_batch {
    struct eng_store *s;
    rocksdb_writebatch_t *wb;
    int dead; /* an operation found no open DB: the commit fails */
    struct put_ent *puts;
    struct put_ent **order;
    size_t nput, capput, caporder;
};

/* ---- encoding ------------------------------------------------------------- */

size_t eng_store_encode(const uint64_t counts[ENG_NTYPES], char *enc)
{
    uint16_t mask = 0;
    size_t n = 2;
    for (int i = 0; i < ENG_NTYPES; i++) {
        uint64_t v = counts[i];
        if (!v)
            continue;
        mask |= (uint16_t)(1u << i);
        while (v >= 0x80) {
            enc[n++] = (char)(v | 0x80);
            v >>= 7;
        }
        enc[n++] = (char)v;
    }
    enc[0] = (char)(mask & 0xff);
    enc[1] = (char)(mask >> 8);
    return n;
}

int eng_store_decode(const char *v, size_t len, uint64_t counts[ENG_NTYPES])
{
    memset(counts, 0, sizeof(uint64_t) * ENG_NTYPES);
    if (len < 2)
        return MP_ERR_PARSE;
    uint16_t mask = (uint16_t)((unsigned char)v[0] | (unsigned char)v[1] << 8);
    if (mask >> ENG_NTYPES)
        return MP_ERR_PARSE;
    size_t p = 2;
    for (int i = 0; i < ENG_NTYPES; i++) {
        if (!(mask & (1u << i)))
            continue;
        uint64_t x = 0;
        int shift = 0;
        for (;;) {
            if (p >= len || shift > 63)
                return MP_ERR_PARSE;
            unsigned char b = (unsigned char)v[p++];
            x |= (uint64_t)(b & 0x7f) << shift;
            shift += 7;
            if (!(b & 0x80))
                break;
        }
        counts[i] = x;
    }
    return p == len ? MP_OK : MP_ERR_PARSE;
}

void eng_store__key(char *k, int res, int64_t bucket, int scope, uint32_t tid, uint32_t nid)
{
    /* flip the sign bit so big-endian byte order is numeric order */
    uint64_t b = (uint64_t)bucket ^ (1ULL << 63);
    k[0] = (char)res;
    for (int i = 0; i < 8; i++)
        k[1 + i] = (char)(b >> (56 - 8 * i));
    k[9] = (char)scope;
    for (int i = 0; i < 4; i++) {
        k[10 + i] = (char)(tid >> (24 - 8 * i));
        k[14 + i] = (char)(nid >> (24 - 8 * i));
    }
}

void eng_store__unkey(const char *k, int64_t *bucket, int *scope, uint32_t *tid, uint32_t *nid)
{
    const unsigned char *u = (const unsigned char *)k;
    uint64_t b = 0;
    for (int i = 0; i < 8; i++)
        b = b << 8 | u[1 + i];
    *bucket = (int64_t)(b ^ (1ULL << 63));
    *scope = u[9];
    *tid = (uint32_t)u[10] << 24 | (uint32_t)u[11] << 16 | (uint32_t)u[12] << 8 | u[13];
    *nid = (uint32_t)u[14] << 24 | (uint32_t)u[15] << 16 | (uint32_t)u[16] << 8 | u[17];
}

/* ---- merge operator: element-wise add ---------------------------------------- */

static char *store__sum(const char *first, size_t first_len, const char *const *ops,
                        const size_t *op_lens, int nops, unsigned char *ok, size_t *out_len)
{
    uint64_t acc[ENG_NTYPES] = {0}, c[ENG_NTYPES];
    *ok = 0;
    if (first && eng_store_decode(first, first_len, acc) != MP_OK)
        return NULL;
    for (int i = 0; i < nops; i++) {
        if (eng_store_decode(ops[i], op_lens[i], c) != MP_OK)
            return NULL;
        for (int t = 0; t < ENG_NTYPES; t++)
            acc[t] += c[t];
    }
    char *out = malloc(ENG_STORE_VALUE_MAX);
    if (!out)
        return NULL;
    *out_len = eng_store_encode(acc, out);
    *ok = 1;
    return out;
}

static char *store__full_merge(void *st, const char *key, size_t klen, const char *existing,
                               size_t elen, const char *const *ops, const size_t *op_lens,
                               int nops, unsigned char *ok, size_t *out_len)
{
    MP_UNUSED(st);
    MP_UNUSED(key);
    MP_UNUSED(klen);
    return store__sum(existing, elen, ops, op_lens, nops, ok, out_len);
}

static char *store__partial_merge(void *st, const char *key, size_t klen, const char *const *ops,
                                  const size_t *op_lens, int nops, unsigned char *ok,
                                  size_t *out_len)
{
    MP_UNUSED(st);
    MP_UNUSED(key);
    MP_UNUSED(klen);
    return store__sum(NULL, 0, ops, op_lens, nops, ok, out_len);
}

static void store__free_value(void *st, const char *v, size_t len)
{
    MP_UNUSED(st);
    MP_UNUSED(len);
    free((char *)v);
}

static void store__merge_destroy(void *st) { MP_UNUSED(st); /* stateless */ }

static const char *store__merge_name(void *st)
{
    MP_UNUSED(st);
    return "mailpulse.add.v1";
}

/* ---- open / close ------------------------------------------------------------- */

static const char *const store__cf_names[CF_COUNT] = {"default", "names",   "counters", "alerts",
                                                       "outbox",  "dead",    "journal",
                                                       "producers", "firstseen", "dmarc",
                                                       "history"};

/* Closes the DB handle; with flush, writes the memtables out first. The
 * caller holds the lock exclusively (or is the only user). */
static void store__close_db(struct eng_store *s, int flush)
{
    if (!s->db)
        return;
    if (flush) {
        /* Write the memtables out now: with the WAL on, RocksDB would
         * otherwise replay the whole WAL at the next open, which is what a
         * restart would wait for. */
        rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
        rocksdb_flushoptions_set_wait(fo, 1);
        for (int i = 0; i < CF_COUNT; i++) {
            char *rerr = NULL;
            if (s->cf[i])
                rocksdb_flush_cf(s->db, fo, s->cf[i], &rerr);
            if (rerr) {
                mp_error("store_flush_at_close_failed store=%s err=%s", MP_LOG_Q(s->dir),
                         MP_LOG_Q(rerr));
                rocksdb_free(rerr);
                break;
            }
        }
        rocksdb_flushoptions_destroy(fo);
    }
    for (int i = 0; i < CF_COUNT; i++) {
        if (s->cf[i])
            rocksdb_column_family_handle_destroy(s->cf[i]);
        s->cf[i] = NULL;
    }
    /* Safe after a failed write: RocksDB closes a WAL that saw an error
     * without writing to it again (WritableFileWriter::Close). */
    rocksdb_close(s->db);
    s->db = NULL;
}

/* Opens the DB with the options made at eng_store_open (missing column
 * families are created: stores written by an older build open). */
static int store__open_db(struct eng_store *s, char *err, size_t errlen)
{
    char *rerr = NULL;
    s->db = rocksdb_open_column_families(s->opts, s->dir, CF_COUNT, store__cf_names,
                                         (const rocksdb_options_t *const *)s->cf_opts, s->cf,
                                         &rerr);
    if (rerr) {
        snprintf(err, errlen, "store %s: cannot open: %s", s->dir, rerr);
        rocksdb_free(rerr);
        s->db = NULL;
        memset(s->cf, 0, sizeof(s->cf));
        return MP_ERR_IO;
    }
    return MP_OK;
}

void eng_store_close(struct eng_store *s)
{
    if (!s)
        return;
    /* after a failed write the memtables cannot go out either; the WAL
     * holds what they hold */
    store__close_db(s, !mp_load_acquire(&s->failed));
    for (int i = 0; i < CF_COUNT; i++)
        if (s->cf_opts[i])
            rocksdb_options_destroy(s->cf_opts[i]);
    /* the merge operator belongs to the options that hold it */
    if (s->opts)
        rocksdb_options_destroy(s->opts);
    if (s->wo)
        rocksdb_writeoptions_destroy(s->wo);
    if (s->wo_sync)
        rocksdb_writeoptions_destroy(s->wo_sync);
    if (s->ro)
        rocksdb_readoptions_destroy(s->ro);
    pthread_rwlock_destroy(&s->lock);
    pthread_mutex_destroy(&s->rec_mu);
    free(s->dir);
    free(s);
}

/* Refuses a store written by an incompatible layout; stamps ours. */
static int store__schema(struct eng_store *s, char *err, size_t errlen)
{
    char *rerr = NULL;
    size_t vlen = 0;
    char *v = rocksdb_get_cf(s->db, s->ro, s->cf[CF_DEFAULT], "schema", 6, &vlen, &rerr);
    if (!rerr && v && (vlen != strlen(STORE_SCHEMA) || memcmp(v, STORE_SCHEMA, vlen) != 0)) {
        snprintf(err, errlen, "store %s: schema %.*s, this build reads schema %s", s->dir,
                 (int)vlen, v, STORE_SCHEMA);
        rocksdb_free(v);
        return MP_ERR_IO;
    }
    /* Stamped at every open, synced: a store that cannot take a write (a
     * full disk) refuses the start here, with its error, instead of
     * failing the first flush. */
    if (!rerr)
        rocksdb_put_cf(s->db, s->wo_sync, s->cf[CF_DEFAULT], "schema", 6, STORE_SCHEMA,
                       strlen(STORE_SCHEMA), &rerr);
    rocksdb_free(v);
    if (rerr) {
        snprintf(err, errlen, "store %s: cannot write: %s", s->dir, rerr);
        rocksdb_free(rerr);
        return MP_ERR_IO;
    }
    return MP_OK;
}

static void store__make_options(struct eng_store *s)
{
    s->opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(s->opts, 1);
    rocksdb_options_set_create_missing_column_families(s->opts, 1);
    rocksdb_options_increase_parallelism(s->opts, 2);
    /* RocksDB's own LOG file lives on the same disk. In the RocksDB we run
     * on (7.8), its writer asserts when it writes again after a failed write
     * (WritableFileWriter::AssertFalseAndGetStatusForPrevError: the abort a
     * full disk caused; upstream dropped that assertion for the info log in
     * #11314, RocksDB 8.1). At HEADER level nothing is logged after open, and
     * what open logs stays in the writer's buffer, so a full disk never
     * makes it write twice. Our own log says what failed. */
    rocksdb_options_set_info_log_level(s->opts, 5 /* HEADER_LEVEL */);
    rocksdb_options_set_keep_log_file_num(s->opts, 2);
    /* A counter flush is one batch of ~150,000 entries; in RocksDB's
     * default ordered write its memtable insert (0.3-2 s on a loaded
     * machine) held every synced journal write queued behind it, and so
     * every ack (bench_ack: ack p99 0.7 s). unordered_write lets a write
     * group's WAL write go first and each writer insert into the memtable
     * on its own, so a journal write waits at most for the WAL write. What
     * it gives up is atomic reads and immutable snapshots, which nothing
     * here uses: each batch is still one atomic WAL record (all or nothing
     * after a crash, as the flush needs), a thread still reads its own
     * writes, and the one read beside writes (a cold key's load) reads
     * entries no write in flight touches (the key is cold, its last flush
     * returned). Needs allow_concurrent_memtable_write (the default). */
    rocksdb_options_set_unordered_write(s->opts, 1);
    /* The WAL goes to disk in the background every MiB (sync_file_range),
     * so the fsync of a synced journal write carries the last MiB, not
     * the ~15 MB a second of counter flushes before it (bench/RESULTS.md,
     * section 7: ack p99 a median 115 ms against 225 ms, loaded machine). */
    rocksdb_options_set_wal_bytes_per_sync(s->opts, 1 << 20);
    s->merge = rocksdb_mergeoperator_create(NULL, store__merge_destroy, store__full_merge,
                                            store__partial_merge, store__free_value,
                                            store__merge_name);
    for (int i = 0; i < CF_COUNT; i++) {
        s->cf_opts[i] = rocksdb_options_create_copy(s->opts);
        rocksdb_options_set_compression(s->cf_opts[i], rocksdb_lz4_compression);
    }
    rocksdb_options_set_merge_operator(s->cf_opts[CF_COUNTERS], s->merge);
    s->wo = rocksdb_writeoptions_create();
    s->wo_sync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(s->wo_sync, 1);
    s->ro = rocksdb_readoptions_create();
}

int eng_store_open(const char *dir, struct eng_store **out, char *err, size_t errlen)
{
    int rc = MP_ERR_NOMEM;
    struct eng_store *s = calloc(1, sizeof(*s));
    if (!s || !(s->dir = strdup(dir))) {
        free(s);
        snprintf(err, errlen, "store %s: out of memory", dir);
        return MP_ERR_NOMEM;
    }
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_READER_NP);
    pthread_rwlock_init(&s->lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_mutex_init(&s->rec_mu, NULL);
    s->backoff_ns = STORE_BACKOFF_MIN_NS;
    if (mkdir(dir, 0750) != 0) {
        struct stat sb;
        if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            snprintf(err, errlen, "store %s: cannot create directory: %s", dir,
                     strerror(errno));
            rc = MP_ERR_IO;
            goto fail;
        }
    }
    store__make_options(s);
    if ((rc = store__open_db(s, err, errlen)) != MP_OK ||
        (rc = store__schema(s, err, errlen)) != MP_OK)
        goto fail;
    *out = s;
    return MP_OK;
fail:
    /* no flush: nothing was written, and a failed open may be a full disk */
    mp_store_relaxed(&s->failed, 1);
    eng_store_close(s);
    return rc;
}

/* ---- write failures and recovery ------------------------------------------------ */

/* Enters (or stays in) the failed state after a write that returned rerr. */
static void store__failed(struct eng_store *s, const char *what, const char *rerr)
{
    pthread_mutex_lock(&s->rec_mu);
    int64_t now = mp_mono_ns();
    if (!mp_load_relaxed(&s->failed)) {
        s->failed_at_ns = now;
        s->backoff_ns = STORE_BACKOFF_MIN_NS;
    }
    s->next_try_ns = now + s->backoff_ns;
    mp_add_relaxed(&s->failures, 1);
    /* release: pairs with the acquire loads of writers deciding to refuse */
    mp_store_release(&s->failed, 1);
    pthread_mutex_unlock(&s->rec_mu);
    mp_error("store_write_failed store=%s op=%s err=%s retry_ms=%lld", MP_LOG_Q(s->dir), what,
             MP_LOG_Q(rerr), (long long)(s->backoff_ns / 1000000));
}

/* Free bytes on the store's file system; UINT64_MAX when unknown. */
static uint64_t store__free_bytes(const struct eng_store *s)
{
    struct statvfs sv;
    if (statvfs(s->dir, &sv) != 0)
        return UINT64_MAX;
    return (uint64_t)sv.f_bavail * sv.f_frsize;
}

/* Closes and reopens the DB: what RocksDB asks after a write error it
 * cannot resume from by itself (the C API has no DB::Resume()). The WAL
 * replays every write that succeeded; the failed one was never applied.
 * The caller holds rec_mu. */
static int store__reopen(struct eng_store *s)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_nsec += STORE_REOPEN_WAIT_MS * 1000000L;
    dl.tv_sec += dl.tv_nsec / 1000000000L;
    dl.tv_nsec %= 1000000000L;
    /* bounded: a thread inside a scan callback may be the one committing */
    if (pthread_rwlock_timedwrlock(&s->lock, &dl) != 0)
        return MP_ERR_AGAIN;
    char err[512];
    store__close_db(s, 0);
    int rc = store__open_db(s, err, sizeof(err));
    pthread_rwlock_unlock(&s->lock);
    if (rc != MP_OK) {
        mp_error("store_recover_failed store=%s err=%s", MP_LOG_Q(s->dir), MP_LOG_Q(err));
        return rc;
    }
    return MP_OK;
}

/* One recovery attempt, when due (or `force`). MP_OK: the store is writable. */
static int store__recover(struct eng_store *s, int force)
{
    if (!mp_load_acquire(&s->failed))
        return MP_OK;
    if (pthread_mutex_trylock(&s->rec_mu) != 0)
        return MP_ERR_IO; /* another thread is at it */
    int rc = MP_ERR_IO;
    int64_t now = mp_mono_ns();
    if (!mp_load_relaxed(&s->failed)) {
        rc = MP_OK;
        goto out;
    }
    if (!force && now < s->next_try_ns)
        goto out;
    uint64_t free_b = store__free_bytes(s);
    if (free_b < STORE_RECOVER_MIN_FREE) {
        /* still full: reopening would only fail (and lose the handle the
         * readers use); wait for room */
        uint64_t sup;
        if (mp_ratelimit_allow(&s->rl_recover, now / 1000000, STORE_LOG_EVERY_MS, &sup))
            mp_warn("store_recover_waiting store=%s free_bytes=%llu need=%u", MP_LOG_Q(s->dir),
                    (unsigned long long)free_b, STORE_RECOVER_MIN_FREE);
    } else if ((rc = store__reopen(s)) == MP_OK) {
        mp_add_relaxed(&s->recoveries, 1);
        mp_info("store_recovered store=%s down_ms=%lld refused=%llu", MP_LOG_Q(s->dir),
                (long long)((now - s->failed_at_ns) / 1000000),
                (unsigned long long)mp_load_relaxed(&s->refused));
        s->backoff_ns = STORE_BACKOFF_MIN_NS;
        /* release: the new handle is in place before writers see "writable" */
        mp_store_release(&s->failed, 0);
        goto out;
    } else if (rc == MP_ERR_AGAIN) {
        rc = MP_ERR_IO; /* readers held on: try again soon, same backoff */
        s->next_try_ns = now + STORE_BACKOFF_MIN_NS / 4;
        goto out;
    }
    if (s->backoff_ns < STORE_BACKOFF_MAX_NS)
        s->backoff_ns *= 2;
    s->next_try_ns = now + s->backoff_ns;
out:
    pthread_mutex_unlock(&s->rec_mu);
    return rc;
}

int eng_store_recover(struct eng_store *s) { return store__recover(s, 1); }

void eng_store_health(struct eng_store *s, struct eng_store_health *h)
{
    h->failed = (int)mp_load_acquire(&s->failed);
    h->write_failures = mp_load_relaxed(&s->failures);
    h->refused = mp_load_relaxed(&s->refused);
    h->recoveries = mp_load_relaxed(&s->recoveries);
    h->commits = mp_load_relaxed(&s->commits);
    h->bytes_written = mp_load_relaxed(&s->bytes_written);
    h->write_stopped = h->delayed_rate = 0;
    pthread_rwlock_rdlock(&s->lock); /* a recovery may be swapping s->db */
    if (s->db) {
        rocksdb_property_int(s->db, "rocksdb.is-write-stopped", &h->write_stopped);
        rocksdb_property_int(s->db, "rocksdb.actual-delayed-write-rate", &h->delayed_rate);
    }
    pthread_rwlock_unlock(&s->lock);
}

/* ---- batches ------------------------------------------------------------------- */

struct eng_store_batch *eng_store_batch_new(struct eng_store *s)
{
    struct eng_store_batch *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->s = s;
    b->wb = rocksdb_writebatch_create();
    return b;
}

void eng_store_batch_free(struct eng_store_batch *b)
{
    if (!b)
        return;
    rocksdb_writebatch_destroy(b->wb);
    free(b->puts);
    free(b->order);
    free(b);
}

size_t eng_store_batch_count(const struct eng_store_batch *b)
{
    return (size_t)rocksdb_writebatch_count(b->wb) + b->nput;
}

static int store__put_cmp(const void *pa, const void *pb)
{
    const struct put_ent *a = *(const struct put_ent *const *)pa;
    const struct put_ent *b = *(const struct put_ent *const *)pb;
    int c = memcmp(a->k, b->k, STORE_KEY_LEN);
    return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

/* Takes the handle lock for one batch operation: 0 when the DB is open
 * (then the caller unlocks), -1 when it is not (the batch is marked dead). */
static int store__hold(struct eng_store_batch *b)
{
    pthread_rwlock_rdlock(&b->s->lock);
    if (b->s->db)
        return 0;
    pthread_rwlock_unlock(&b->s->lock);
    b->dead = 1;
    return -1;
}

static void store__release(struct eng_store_batch *b) { pthread_rwlock_unlock(&b->s->lock); }

/* Moves the waiting puts into the write batch, in key order. The caller
 * holds the handle lock. */
static void store__emit_puts(struct eng_store_batch *b)
{
    if (!b->nput)
        return;
    for (size_t i = 0; i < b->nput; i++)
        b->order[i] = &b->puts[i];
    qsort(b->order, b->nput, sizeof(*b->order), store__put_cmp);
    for (size_t i = 0; i < b->nput; i++)
        rocksdb_writebatch_put_cf(b->wb, b->s->cf[CF_COUNTERS], b->order[i]->k, STORE_KEY_LEN,
                                  b->order[i]->v, b->order[i]->vl);
    b->nput = 0;
}

void eng_store_batch_name(struct eng_store_batch *b, uint32_t id, const char *name, size_t len)
{
    char k[4] = {(char)(id >> 24), (char)(id >> 16), (char)(id >> 8), (char)id};
    if (store__hold(b))
        return;
    rocksdb_writebatch_put_cf(b->wb, b->s->cf[CF_NAMES], k, 4, name, len);
    store__release(b);
}

void eng_store_batch_put(struct eng_store_batch *b, int res, int64_t bucket, int scope,
                         uint32_t tid, uint32_t nid, const uint64_t counts[ENG_NTYPES])
{
    if (MP_GROW(b->puts, b->capput, b->nput + 1) != MP_OK ||
        MP_GROW(b->order, b->caporder, b->nput + 1) != MP_OK) {
        /* no memory to wait in: straight into the batch, in order */
        if (store__hold(b))
            return;
        store__emit_puts(b);
        char k[STORE_KEY_LEN], v[ENG_STORE_VALUE_MAX];
        eng_store__key(k, res, bucket, scope, tid, nid);
        size_t vl = eng_store_encode(counts, v);
        rocksdb_writebatch_put_cf(b->wb, b->s->cf[CF_COUNTERS], k, STORE_KEY_LEN, v, vl);
        store__release(b);
        return;
    }
    struct put_ent *e = &b->puts[b->nput];
    eng_store__key(e->k, res, bucket, scope, tid, nid);
    e->vl = (uint8_t)eng_store_encode(counts, e->v);
    e->seq = (uint32_t)b->nput++;
}

void eng_store_batch_add(struct eng_store_batch *b, int res, int64_t bucket, int scope,
                         uint32_t tid, uint32_t nid, const uint64_t counts[ENG_NTYPES])
{
    if (store__hold(b))
        return;
    store__emit_puts(b); /* keep the caller's order on the counters */
    char k[STORE_KEY_LEN], v[ENG_STORE_VALUE_MAX];
    eng_store__key(k, res, bucket, scope, tid, nid);
    size_t vl = eng_store_encode(counts, v);
    rocksdb_writebatch_merge_cf(b->wb, b->s->cf[CF_COUNTERS], k, STORE_KEY_LEN, v, vl);
    store__release(b);
}

void eng_store_batch_drop_before(struct eng_store_batch *b, int res, int64_t bucket)
{
    if (store__hold(b))
        return;
    store__emit_puts(b); /* keep the caller's order on the counters */
    char lo[STORE_KEY_LEN], hi[STORE_KEY_LEN];
    eng_store__key(lo, res, INT64_MIN, 0, 0, 0);
    eng_store__key(hi, res, bucket, 0, 0, 0);
    rocksdb_writebatch_delete_range_cf(b->wb, b->s->cf[CF_COUNTERS], lo, STORE_KEY_LEN, hi,
                                       STORE_KEY_LEN);
    store__release(b);
}

static void store__batch_clear(struct eng_store_batch *b)
{
    rocksdb_writebatch_clear(b->wb);
    b->nput = 0;
    b->dead = 0;
}

int eng_store_writable(struct eng_store *s)
{
    /* acquire: pairs with the release store that ended a recovery */
    if (!mp_load_acquire(&s->failed) || store__recover(s, 0) == MP_OK)
        return MP_OK;
    /* Refused without a RocksDB call: after a failed WAL write, RocksDB 7.8
     * must not be written to again before it recovered (upstream #12448),
     * and the caller keeps what it meant to write. */
    uint64_t n = mp_add_relaxed(&s->refused, 1) + 1, sup;
    if (mp_ratelimit_allow(&s->rl_refused, mp_mono_ns() / 1000000, STORE_LOG_EVERY_MS, &sup))
        mp_warn("store_write_refused store=%s refused=%llu reason=recovering", MP_LOG_Q(s->dir),
                (unsigned long long)n);
    return MP_ERR_IO;
}

int eng_store_commit(struct eng_store *s, struct eng_store_batch *b, int sync)
{
    if (eng_store_writable(s) != MP_OK) {
        store__batch_clear(b);
        return MP_ERR_IO;
    }
    char *rerr = NULL;
    pthread_rwlock_rdlock(&s->lock);
    int rc = MP_OK;
    if (!s->db || b->dead) {
        rc = MP_ERR_IO;
    } else {
        store__emit_puts(b);
        size_t bytes = 0;
        rocksdb_writebatch_data(b->wb, &bytes);
        /* RocksDB counts every key comparison into a thread-local perf
         * context by default (perf level "count"): 13% of the flush
         * thread's time under bench_ack, in TLS lookups. Nothing reads
         * those counters; the level is per thread, so each writer sets it. */
        rocksdb_set_perf_level(rocksdb_disable);
        rocksdb_write(s->db, sync ? s->wo_sync : s->wo, b->wb, &rerr);
        if (!rerr) { /* figures for /metrics: counts on their own, relaxed */
            mp_add_relaxed(&s->commits, 1);
            mp_add_relaxed(&s->bytes_written, bytes);
        }
    }
    pthread_rwlock_unlock(&s->lock);
    store__batch_clear(b);
    if (rerr) {
        store__failed(s, sync ? "write_sync" : "write", rerr);
        rocksdb_free(rerr);
        return MP_ERR_IO;
    }
    return rc;
}

int eng_store_sync(struct eng_store *s)
{
    if (eng_store_writable(s) != MP_OK)
        return MP_ERR_IO;
    char *rerr = NULL;
    pthread_rwlock_rdlock(&s->lock);
    int rc = s->db ? MP_OK : MP_ERR_IO;
    if (s->db)
        rocksdb_flush_wal(s->db, 1, &rerr);
    pthread_rwlock_unlock(&s->lock);
    if (rerr) {
        store__failed(s, "sync", rerr);
        rocksdb_free(rerr);
        return MP_ERR_IO;
    }
    return rc;
}

/* ---- key/value column families ------------------------------------------------------ */

void eng_store_batch_kv_put(struct eng_store_batch *b, int kv, const void *k, size_t kl,
                            const void *v, size_t vl)
{
    if (store__hold(b))
        return;
    rocksdb_writebatch_put_cf(b->wb, b->s->cf[CF_KV0 + kv], k, kl, v, vl);
    store__release(b);
}

void eng_store_batch_kv_del(struct eng_store_batch *b, int kv, const void *k, size_t kl)
{
    if (store__hold(b))
        return;
    rocksdb_writebatch_delete_cf(b->wb, b->s->cf[CF_KV0 + kv], k, kl);
    store__release(b);
}

void eng_store_batch_kv_del_range(struct eng_store_batch *b, int kv, const void *lo,
                                  size_t lol, const void *hi, size_t hil)
{
    if (store__hold(b))
        return;
    rocksdb_writebatch_delete_range_cf(b->wb, b->s->cf[CF_KV0 + kv], lo, lol, hi, hil);
    store__release(b);
}
