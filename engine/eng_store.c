/* eng_store.c — RocksDB column families, key layout, adding merge (see eng_store.h). */
#include "eng_store.h"

#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eng_table.h"
#include "mp_buf.h"
#include "mp_log.h"

#define STORE_SCHEMA "1"
#define STORE_KEY_LEN 18

enum { CF_DEFAULT = 0, CF_NAMES = 1, CF_COUNTERS = 2, CF_KV0 = 3, CF_COUNT = CF_KV0 + ENG_KV_COUNT };

struct eng_store {
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_options_t *cf_opts[CF_COUNT];
    rocksdb_mergeoperator_t *merge;
    rocksdb_column_family_handle_t *cf[CF_COUNT];
    rocksdb_writeoptions_t *wo, *wo_sync;
    rocksdb_readoptions_t *ro;
};

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

static void store__key(char *k, int res, int64_t bucket, int scope, uint32_t tid, uint32_t nid)
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

static void store__unkey(const char *k, int64_t *bucket, int *scope, uint32_t *tid, uint32_t *nid)
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

void eng_store_close(struct eng_store *s)
{
    if (!s)
        return;
    if (s->db) {
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
                mp_error("store_flush_at_close_failed err=%s", MP_LOG_Q(rerr));
                rocksdb_free(rerr);
            }
        }
        rocksdb_flushoptions_destroy(fo);
    }
    for (int i = 0; i < CF_COUNT; i++)
        if (s->cf[i])
            rocksdb_column_family_handle_destroy(s->cf[i]);
    if (s->db)
        rocksdb_close(s->db);
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
    free(s);
}

int eng_store_open(const char *dir, struct eng_store **out, char *err, size_t errlen)
{
    int rc = MP_ERR_NOMEM;
    char *rerr = NULL;
    struct eng_store *s = calloc(1, sizeof(*s));
    if (!s)
        goto fail;
    if (mkdir(dir, 0750) != 0) {
        struct stat sb;
        if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            snprintf(err, errlen, "store %s: cannot create directory", dir);
            rc = MP_ERR_IO;
            goto fail;
        }
    }
    s->opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(s->opts, 1);
    rocksdb_options_set_create_missing_column_families(s->opts, 1);
    rocksdb_options_increase_parallelism(s->opts, 2);
    s->merge = rocksdb_mergeoperator_create(NULL, store__merge_destroy, store__full_merge, store__partial_merge,
                                            store__free_value, store__merge_name);
    const char *names[CF_COUNT] = {"default", "names",  "counters", "alerts",
                                   "outbox",  "dead",   "journal",  "producers"};
    for (int i = 0; i < CF_COUNT; i++) {
        s->cf_opts[i] = rocksdb_options_create_copy(s->opts);
        rocksdb_options_set_compression(s->cf_opts[i], rocksdb_lz4_compression);
    }
    rocksdb_options_set_merge_operator(s->cf_opts[CF_COUNTERS], s->merge);
    s->db = rocksdb_open_column_families(s->opts, dir, CF_COUNT, names,
                                         (const rocksdb_options_t *const *)s->cf_opts, s->cf,
                                         &rerr);
    if (rerr) {
        snprintf(err, errlen, "store %s: %s", dir, rerr);
        rocksdb_free(rerr);
        rerr = NULL;
        rc = MP_ERR_IO;
        goto fail;
    }
    s->wo = rocksdb_writeoptions_create();
    s->wo_sync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(s->wo_sync, 1);
    s->ro = rocksdb_readoptions_create();

    /* Schema check: refuse a store written by an incompatible layout. */
    size_t vlen = 0;
    char *v = rocksdb_get_cf(s->db, s->ro, s->cf[CF_DEFAULT], "schema", 6, &vlen, &rerr);
    if (rerr) {
        snprintf(err, errlen, "store %s: %s", dir, rerr);
        rocksdb_free(rerr);
        rc = MP_ERR_IO;
        goto fail;
    }
    if (v && (vlen != strlen(STORE_SCHEMA) || memcmp(v, STORE_SCHEMA, vlen) != 0)) {
        snprintf(err, errlen, "store %s: schema %.*s, this build reads schema %s", dir,
                 (int)vlen, v, STORE_SCHEMA);
        rocksdb_free(v);
        rc = MP_ERR_IO;
        goto fail;
    }
    if (!v) {
        rocksdb_put_cf(s->db, s->wo_sync, s->cf[CF_DEFAULT], "schema", 6, STORE_SCHEMA,
                       strlen(STORE_SCHEMA), &rerr);
        if (rerr) {
            snprintf(err, errlen, "store %s: %s", dir, rerr);
            rocksdb_free(rerr);
            rc = MP_ERR_IO;
            goto fail;
        }
    }
    rocksdb_free(v);
    *out = s;
    return MP_OK;
fail:
    eng_store_close(s);
    return rc;
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

/* Moves the waiting puts into the write batch, in key order. */
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
    rocksdb_writebatch_put_cf(b->wb, b->s->cf[CF_NAMES], k, 4, name, len);
}

void eng_store_batch_put(struct eng_store_batch *b, int res, int64_t bucket, int scope,
                         uint32_t tid, uint32_t nid, const uint64_t counts[ENG_NTYPES])
{
    if (MP_GROW(b->puts, b->capput, b->nput + 1) != MP_OK ||
        MP_GROW(b->order, b->caporder, b->nput + 1) != MP_OK) {
        /* no memory to wait in: straight into the batch, in order */
        store__emit_puts(b);
        char k[STORE_KEY_LEN], v[ENG_STORE_VALUE_MAX];
        store__key(k, res, bucket, scope, tid, nid);
        size_t vl = eng_store_encode(counts, v);
        rocksdb_writebatch_put_cf(b->wb, b->s->cf[CF_COUNTERS], k, STORE_KEY_LEN, v, vl);
        return;
    }
    struct put_ent *e = &b->puts[b->nput];
    store__key(e->k, res, bucket, scope, tid, nid);
    e->vl = (uint8_t)eng_store_encode(counts, e->v);
    e->seq = (uint32_t)b->nput++;
}

void eng_store_batch_add(struct eng_store_batch *b, int res, int64_t bucket, int scope,
                         uint32_t tid, uint32_t nid, const uint64_t counts[ENG_NTYPES])
{
    store__emit_puts(b); /* keep the caller's order on the counters */
    char k[STORE_KEY_LEN], v[ENG_STORE_VALUE_MAX];
    store__key(k, res, bucket, scope, tid, nid);
    size_t vl = eng_store_encode(counts, v);
    rocksdb_writebatch_merge_cf(b->wb, b->s->cf[CF_COUNTERS], k, STORE_KEY_LEN, v, vl);
}

void eng_store_batch_drop_before(struct eng_store_batch *b, int res, int64_t bucket)
{
    store__emit_puts(b); /* keep the caller's order on the counters */
    char lo[STORE_KEY_LEN], hi[STORE_KEY_LEN];
    store__key(lo, res, INT64_MIN, 0, 0, 0);
    store__key(hi, res, bucket, 0, 0, 0);
    rocksdb_writebatch_delete_range_cf(b->wb, b->s->cf[CF_COUNTERS], lo, STORE_KEY_LEN, hi,
                                       STORE_KEY_LEN);
}

int eng_store_commit(struct eng_store *s, struct eng_store_batch *b, int sync)
{
    char *rerr = NULL;
    store__emit_puts(b);
    rocksdb_write(s->db, sync ? s->wo_sync : s->wo, b->wb, &rerr);
    rocksdb_writebatch_clear(b->wb);
    if (rerr) {
        mp_error("store_write_failed err=%s", MP_LOG_Q(rerr));
        rocksdb_free(rerr);
        return MP_ERR_IO;
    }
    return MP_OK;
}

/* Ends a scan: destroys the iterator and returns rc, or MP_ERR_IO when the
 * iterator failed (cf >= 0 names the kv family in the log). */
static int store__iter_end(rocksdb_iterator_t *it, int rc, int cf)
{
    char *rerr = NULL;
    rocksdb_iter_get_error(it, &rerr);
    if (rerr) {
        if (cf >= 0)
            mp_error("store_read_failed cf=%d err=%s", cf, MP_LOG_Q(rerr));
        else
            mp_error("store_read_failed err=%s", MP_LOG_Q(rerr));
        rocksdb_free(rerr);
        rc = MP_ERR_IO;
    }
    rocksdb_iter_destroy(it);
    return rc;
}

/* ---- key/value column families ------------------------------------------------------ */

void eng_store_batch_kv_put(struct eng_store_batch *b, int kv, const void *k, size_t kl,
                            const void *v, size_t vl)
{
    rocksdb_writebatch_put_cf(b->wb, b->s->cf[CF_KV0 + kv], k, kl, v, vl);
}

void eng_store_batch_kv_del(struct eng_store_batch *b, int kv, const void *k, size_t kl)
{
    rocksdb_writebatch_delete_cf(b->wb, b->s->cf[CF_KV0 + kv], k, kl);
}

void eng_store_batch_kv_del_range(struct eng_store_batch *b, int kv, const void *lo,
                                  size_t lol, const void *hi, size_t hil)
{
    rocksdb_writebatch_delete_range_cf(b->wb, b->s->cf[CF_KV0 + kv], lo, lol, hi, hil);
}

int eng_store_kv_scan(struct eng_store *s, int kv, const void *prefix, size_t plen,
                      int (*fn)(void *arg, const char *k, size_t kl, const char *v, size_t vl),
                      void *arg)
{
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ro, s->cf[CF_KV0 + kv]);
    int rc = MP_OK;
    if (plen)
        rocksdb_iter_seek(it, prefix, plen);
    else
        rocksdb_iter_seek_to_first(it);
    for (; rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t kl, vl;
        const char *k = rocksdb_iter_key(it, &kl);
        if (plen && (kl < plen || memcmp(k, prefix, plen) != 0))
            break;
        const char *v = rocksdb_iter_value(it, &vl);
        if ((rc = fn(arg, k, kl, v, vl)) != MP_OK)
            break;
    }
    return store__iter_end(it, rc, kv);
}

/* ---- reads ------------------------------------------------------------------------ */

int eng_store_load_names(struct eng_store *s,
                         int (*fn)(void *arg, uint32_t id, const char *name, size_t len),
                         void *arg)
{
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ro, s->cf[CF_NAMES]);
    int rc = MP_OK;
    for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t kl, vl;
        const unsigned char *k = (const unsigned char *)rocksdb_iter_key(it, &kl);
        const char *v = rocksdb_iter_value(it, &vl);
        if (kl != 4) {
            mp_error("store_bad_name_key len=%zu", kl);
            rc = MP_ERR_PARSE;
            break;
        }
        uint32_t id = (uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 | (uint32_t)k[2] << 8 | k[3];
        if ((rc = fn(arg, id, v, vl)) != MP_OK)
            break;
    }
    return store__iter_end(it, rc, -1);
}

int eng_store_load_counts(struct eng_store *s, int res, int64_t lo, int64_t hi,
                          int (*fn)(void *arg, int64_t bucket, int scope, uint32_t tid,
                                    uint32_t nid, const uint64_t counts[ENG_NTYPES]),
                          void *arg)
{
    char start[STORE_KEY_LEN], end[STORE_KEY_LEN];
    store__key(start, res, lo, 0, 0, 0);
    store__key(end, res, hi == INT64_MAX ? hi : hi + 1, 0, 0, 0);
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    rocksdb_readoptions_set_iterate_upper_bound(ro, end, STORE_KEY_LEN);
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, ro, s->cf[CF_COUNTERS]);
    int rc = MP_OK;
    for (rocksdb_iter_seek(it, start, STORE_KEY_LEN); rocksdb_iter_valid(it);
         rocksdb_iter_next(it)) {
        size_t kl, vl;
        const char *k = rocksdb_iter_key(it, &kl);
        const char *v = rocksdb_iter_value(it, &vl);
        uint64_t counts[ENG_NTYPES];
        if (kl != STORE_KEY_LEN || k[0] != (char)res || eng_store_decode(v, vl, counts) != MP_OK) {
            mp_error("store_bad_counter_entry key_len=%zu value_len=%zu", kl, vl);
            rc = MP_ERR_PARSE;
            break;
        }
        int64_t bucket;
        int scope;
        uint32_t tid, nid;
        store__unkey(k, &bucket, &scope, &tid, &nid);
        if ((rc = fn(arg, bucket, scope, tid, nid, counts)) != MP_OK)
            break;
    }
    rc = store__iter_end(it, rc, -1);
    rocksdb_readoptions_destroy(ro);
    return rc;
}

int eng_store_sum(struct eng_store *s, int res, int64_t lo, int64_t hi, int scope, uint32_t tid,
                  uint32_t nid, uint64_t out[ENG_NTYPES])
{
    memset(out, 0, sizeof(uint64_t) * ENG_NTYPES);
    char *rerr = NULL;
    for (int64_t b = lo; b <= hi; b++) {
        char k[STORE_KEY_LEN];
        store__key(k, res, b, scope, tid, nid);
        size_t vl = 0;
        char *v = rocksdb_get_cf(s->db, s->ro, s->cf[CF_COUNTERS], k, STORE_KEY_LEN, &vl, &rerr);
        if (rerr) {
            mp_error("store_read_failed err=%s", MP_LOG_Q(rerr));
            rocksdb_free(rerr);
            return MP_ERR_IO;
        }
        if (!v)
            continue;
        uint64_t c[ENG_NTYPES];
        int rc = eng_store_decode(v, vl, c);
        rocksdb_free(v);
        if (rc != MP_OK)
            return rc;
        for (int t = 0; t < ENG_NTYPES; t++)
            out[t] += c[t];
    }
    return MP_OK;
}
