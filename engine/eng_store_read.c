/* eng_store_read.c — scans and point reads of the store (see eng_store.h).
 * Every read holds the DB handle shared, so a recovery's reopen waits for it.
 */
#include <stdlib.h>
#include <string.h>

#include "eng_store_impl.h"

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

static int store__kv_scan_locked(struct eng_store *s, int kv, const void *prefix, size_t plen,
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

int eng_store_kv_scan(struct eng_store *s, int kv, const void *prefix, size_t plen,
                      int (*fn)(void *arg, const char *k, size_t kl, const char *v, size_t vl),
                      void *arg)
{
    pthread_rwlock_rdlock(&s->lock);
    int rc = s->db ? store__kv_scan_locked(s, kv, prefix, plen, fn, arg) : MP_ERR_IO;
    pthread_rwlock_unlock(&s->lock);
    return rc;
}

static int store__kv_back_locked(struct eng_store *s, int kv, const void *lo, size_t lol,
                                 const void *hi, size_t hil,
                                 int (*fn)(void *arg, const char *k, size_t kl, const char *v,
                                           size_t vl),
                                 void *arg)
{
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ro, s->cf[CF_KV0 + kv]);
    int rc = MP_OK;
    rocksdb_iter_seek_for_prev(it, hi, hil); /* the last key <= hi */
    for (; rocksdb_iter_valid(it); rocksdb_iter_prev(it)) {
        size_t kl, vl;
        const char *k = rocksdb_iter_key(it, &kl);
        size_t n = kl < hil ? kl : hil;
        int c = memcmp(k, hi, n);
        if (c == 0 && kl >= hil)
            continue; /* hi itself, or past it: the range ends before hi */
        n = kl < lol ? kl : lol;
        c = memcmp(k, lo, n);
        if (c < 0 || (c == 0 && kl < lol))
            break;
        const char *v = rocksdb_iter_value(it, &vl);
        if ((rc = fn(arg, k, kl, v, vl)) != MP_OK)
            break;
    }
    return store__iter_end(it, rc, kv);
}

int eng_store_kv_scan_back(struct eng_store *s, int kv, const void *lo, size_t lol,
                           const void *hi, size_t hil,
                           int (*fn)(void *arg, const char *k, size_t kl, const char *v,
                                     size_t vl),
                           void *arg)
{
    pthread_rwlock_rdlock(&s->lock);
    int rc = s->db ? store__kv_back_locked(s, kv, lo, lol, hi, hil, fn, arg) : MP_ERR_IO;
    pthread_rwlock_unlock(&s->lock);
    return rc;
}

/* ---- reads ------------------------------------------------------------------------ */

static int store__load_names_locked(struct eng_store *s,
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

int eng_store_load_names(struct eng_store *s,
                         int (*fn)(void *arg, uint32_t id, const char *name, size_t len),
                         void *arg)
{
    pthread_rwlock_rdlock(&s->lock);
    int rc = s->db ? store__load_names_locked(s, fn, arg) : MP_ERR_IO;
    pthread_rwlock_unlock(&s->lock);
    return rc;
}

static int store__load_counts_locked(struct eng_store *s, int res, int64_t lo, int64_t hi,
                          int (*fn)(void *arg, int64_t bucket, int scope, uint32_t tid,
                                    uint32_t nid, const uint64_t counts[ENG_NTYPES]),
                          void *arg)
{
    char start[STORE_KEY_LEN], end[STORE_KEY_LEN];
    eng_store__key(start, res, lo, 0, 0, 0);
    eng_store__key(end, res, hi == INT64_MAX ? hi : hi + 1, 0, 0, 0);
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
        eng_store__unkey(k, &bucket, &scope, &tid, &nid);
        if ((rc = fn(arg, bucket, scope, tid, nid, counts)) != MP_OK)
            break;
    }
    rc = store__iter_end(it, rc, -1);
    rocksdb_readoptions_destroy(ro);
    return rc;
}

int eng_store_load_counts(struct eng_store *s, int res, int64_t lo, int64_t hi,
                          int (*fn)(void *arg, int64_t bucket, int scope, uint32_t tid,
                                    uint32_t nid, const uint64_t counts[ENG_NTYPES]),
                          void *arg)
{
    pthread_rwlock_rdlock(&s->lock);
    int rc = s->db ? store__load_counts_locked(s, res, lo, hi, fn, arg) : MP_ERR_IO;
    pthread_rwlock_unlock(&s->lock);
    return rc;
}

static int store__sum_locked(struct eng_store *s, int res, int64_t lo, int64_t hi, int scope, uint32_t tid,
                  uint32_t nid, uint64_t out[ENG_NTYPES])
{
    memset(out, 0, sizeof(uint64_t) * ENG_NTYPES);
    char *rerr = NULL;
    for (int64_t b = lo; b <= hi; b++) {
        char k[STORE_KEY_LEN];
        eng_store__key(k, res, b, scope, tid, nid);
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

int eng_store_sum(struct eng_store *s, int res, int64_t lo, int64_t hi, int scope, uint32_t tid,
                  uint32_t nid, uint64_t out[ENG_NTYPES])
{
    memset(out, 0, sizeof(uint64_t) * ENG_NTYPES);
    pthread_rwlock_rdlock(&s->lock);
    int rc = s->db ? store__sum_locked(s, res, lo, hi, scope, tid, nid, out) : MP_ERR_IO;
    pthread_rwlock_unlock(&s->lock);
    return rc;
}
