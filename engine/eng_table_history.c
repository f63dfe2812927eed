/* eng_table_history.c — a key's counts per bucket, memory then store (see
 * eng_table_history.h, and eng_table_impl.h for the rings). */
#include "eng_table_history.h"

#include <string.h>

#include "eng_table_impl.h"

#define HISTORY__READ_TRIES 4

int eng_history_span(const struct eng_table *t, int res, int64_t *lo, int64_t *hi)
{
    if (res < ENG_RES_FINE || res > ENG_RES_DAY)
        return MP_ERR_INVAL;
    struct table_rings r;
    table__rings(t, &r);
    if (r.cur[res] == ENG_NO_BUCKET)
        return MP_ERR_AGAIN;
    /* days: what the writers accept (eng_table_record.c), all of it stored;
     * hours: what the store keeps (engine.hour_retention, at least the ring) */
    *lo = r.cur[res] - (res == ENG_RES_DAY    ? t->retention_days
                        : res == ENG_RES_HOUR && t->store ? t->hour_keep
                                                          : r.back[res]);
    *hi = r.cur[res] + 1;
    return MP_OK;
}

/* Buckets [lo, hi] of the key's ring `res` that the ring holds (r), into
 * out as eng_history_read() lays it out. */
static void history__memory(const struct eng_table *t, const struct eng_key *k,
                            const struct table_rings *r, int res, int64_t lo, int64_t hi,
                            unsigned types, uint64_t *out)
{
    int64_t first = r->cur[res] - r->back[res], last = r->cur[res] + 1;
    for (int ty = ENG_TYPE_MIN; ty <= ENG_TYPE_MAX; ty++) {
        if (!(types & (1u << ty)))
            continue;
        /* acquire: pairs with the release CAS that published the id */
        uint32_t sid = mp_load_acquire(&((struct eng_key *)k)->sid[ty - 1]);
        if (!sid)
            continue;
        eng_count *c = table__ring(table__sptr(t, sid), res);
        for (int64_t b = lo > first ? lo : first; b <= hi && b <= last; b++)
            out[(b - lo) * ENG_NTYPES + ty - 1] =
                mp_load_relaxed(&c[table__mod(b, r->ring[res])]);
    }
}

/* The memory part of a key, whole frames only (a few tries, then as read). */
static void history__memory_stable(const struct eng_table *t, const struct eng_key *k,
                                   const struct table_rings *r, int res, int64_t lo,
                                   int64_t hi, unsigned types, uint64_t *out)
{
    size_t n = (size_t)(hi - lo + 1) * ENG_NTYPES;
    for (int i = 0; i < HISTORY__READ_TRIES; i++) {
        uint32_t token;
        int stable = eng_key_read_begin(k, &token);
        memset(out, 0, n * sizeof(*out));
        history__memory(t, k, r, res, lo, hi, types, out);
        if (stable && eng_key_read_end(k, token))
            return;
    }
}

/* The ids the store keys the counters of (scope, tenant, name) by, from
 * the key when memory has it, else from the name dictionary. */
static int history__ids(struct eng_table *t, int scope, const char *tenant, const char *name,
                        struct eng_key **k, uint32_t *tid, uint32_t *nid)
{
    *k = NULL;
    if (eng_table_find(t, scope, tenant, name, k) == MP_OK) {
        *tid = (*k)->tenant_id;
        *nid = (*k)->name_id;
        return MP_OK;
    }
    *nid = 0;
    if (!t->store || eng_intern_find(t->names, tenant, strlen(tenant), tid) != MP_OK)
        return MP_ERR_NOTFOUND;
    if (scope != ENG_SCOPE_TENANT &&
        (!name || eng_intern_find(t->names, name, strlen(name), nid) != MP_OK))
        return MP_ERR_NOTFOUND;
    return MP_OK;
}

int eng_history_read(struct eng_table *t, int scope, const char *tenant, const char *name,
                     int res, int64_t lo, int64_t hi, unsigned types, uint64_t *out)
{
    int64_t slo, shi;
    int rc = eng_history_span(t, res, &slo, &shi);
    if (rc != MP_OK)
        return rc;
    if (lo > hi || lo < slo || hi > shi || hi - lo >= ENG_HISTORY_MAX_BUCKETS ||
        scope < 0 || scope >= ENG_NSCOPES)
        return MP_ERR_INVAL;
    struct eng_key *k;
    uint32_t tid, nid;
    if ((rc = history__ids(t, scope, tenant, name, &k, &tid, &nid)) != MP_OK)
        return rc;
    if (k && (rc = eng_table_key_warm(t, k)) != MP_OK)
        return rc;
    /* One snapshot of the rings for both parts: a tick in between moves a
     * day from memory to the store only after writing it there. */
    struct table_rings r;
    table__rings(t, &r);
    if (r.cur[res] == ENG_NO_BUCKET)
        return MP_ERR_AGAIN;
    memset(out, 0, (size_t)(hi - lo + 1) * ENG_NTYPES * sizeof(*out));
    if (k)
        history__memory_stable(t, k, &r, res, lo, hi, types, out);
    /* Older than the ring (days, and hours when the store keeps them, are
     * stored that far back), or every bucket of a key memory does not hold. */
    int64_t first = k ? r.cur[res] - r.back[res] : hi + 1;
    for (int64_t b = lo; t->store && res != ENG_RES_FINE && b <= hi && b < first; b++) {
        uint64_t c[ENG_NTYPES];
        if ((rc = eng_store_sum(t->store, res, b, b, scope, tid, nid, c)) != MP_OK)
            return rc;
        for (int ty = ENG_TYPE_MIN; ty <= ENG_TYPE_MAX; ty++)
            if (types & (1u << ty))
                out[(b - lo) * ENG_NTYPES + ty - 1] = c[ty - 1];
    }
    return MP_OK;
}
