/* eng_table.c — the key table's life and identity (see eng_table.h and,
 * for the layout and the other files, eng_table_impl.h): create/destroy,
 * writer registration, key names and ids, lookups without creating, and the
 * figures for /metrics.
 */
#include "eng_table.h"

#include <stdlib.h>
#include <string.h>

#include "eng_table_impl.h"
#include "mp_log.h"

void eng_table_destroy(struct eng_table *t)
{
    if (!t)
        return;
    while (t->backfill) { /* unflushed backfill: the caller chose not to flush */
        struct backfill *n = t->backfill->next;
        free(t->backfill);
        t->backfill = n;
    }
    eng_table__persist_free(t);
    free(t->by_id); /* keys live in the arena */
    eng_arena_destroy(t->arena);
    for (uint32_t i = 0; t->ser_dir && i < t->ser_ndir; i++)
        eng_big_free(mp_load_relaxed(&t->ser_dir[i]), HUGE_PAGE);
    free(t->ser_dir);
    pthread_mutex_destroy(&t->ser_lock);
    free(t->free_ids);
    eng_big_free(t->slots, (size_t)(t->mask + 1) * sizeof(*t->slots));
    eng_intern_destroy(t->names);
    eng_qsbr_destroy(t->qsbr);
    pthread_mutex_destroy(&t->free_lock);
    pthread_mutex_destroy(&t->key_lock);
    pthread_mutex_destroy(&t->cap_mu);
    free(t->free_keys);
    free(mp_load_relaxed(&t->lsrc));
    eng_providers_destroy(mp_load_relaxed(&t->prov));
    free(t);
}

/* Hours the store keeps: the hour retention in whole hours, at most the
 * retention, at least what the ring holds (less would keep nothing). */
static int table__hour_keep(const struct eng_table_opts *opts)
{
    int64_t keep = opts->store ? opts->hour_retention_ms : 0;
    if (keep > opts->retention_ms)
        keep = opts->retention_ms;
    keep /= ENG_HOUR_MS;
    return keep > ENG_HOUR_BACK ? (int)keep : ENG_HOUR_BACK;
}

int eng_table_create(const struct eng_table_opts *opts, int64_t now_ms, struct eng_table **out)
{
    int rc = MP_ERR_INVAL;
    struct eng_table *t = NULL;
    struct eng_providers *prov = opts->providers;
    if (opts->max_keys < 16 || opts->retention_ms < ENG_DAY_MS)
        goto err;
    rc = MP_ERR_NOMEM;
    t = calloc(1, sizeof(*t));
    if (!t || (!prov && eng_providers_create(&prov) != MP_OK))
        goto err;
    mp_atomic_init(&t->prov, prov);
    t->scopes = (opts->scopes ? opts->scopes & ENG_SCOPES_ALL : ENG_SCOPES_ALL) |
                1u << ENG_SCOPE_TENANT;
    prov = NULL; /* the table's now */
    t->seed = eng_hash_seed(); /* producers choose the names: see eng_hash.h */
    t->max_keys = opts->max_keys;
    t->retention_ms = opts->retention_ms;
    t->retention_days = (int)((opts->retention_ms + ENG_DAY_MS - 1) / ENG_DAY_MS);
    t->store = opts->store;
    t->evict_idle_ms = opts->store ? opts->evict_idle_ms : 0;
    t->hour_keep = table__hour_keep(opts);
    pthread_mutex_init(&t->free_lock, NULL);
    pthread_mutex_init(&t->key_lock, NULL);
    pthread_mutex_init(&t->cap_mu, NULL);
    struct eng_limits_src *src = malloc(sizeof(*src));
    if (!src)
        goto err;
    *src = (struct eng_limits_src){opts->limits, opts->limits_fn, opts->limits_arg};
    mp_atomic_init(&t->lsrc, src);
    mp_atomic_init(&t->now_ms, now_ms);
    /* With a store, memory holds what rules and stats read (7 d and the 7 d
     * before); older days live in the store. Without one, memory is all. */
    t->day_back = t->store ? STORE_DAY_BACK
                           : (t->retention_days > STORE_DAY_BACK ? t->retention_days : STORE_DAY_BACK);
    t->day_slots = t->day_back + 3;
    t->series_size = (sizeof(struct eng_series) + (size_t)t->day_slots * sizeof(eng_count) +
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
    mp_atomic_init(&t->ser_next, 1);
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
    if (rc == MP_OK)
        rc = eng_qsbr_create(&t->qsbr);
    if (rc != MP_OK)
        goto err;
    mp_atomic_init(&t->next_id, 1);
    mp_atomic_init(&t->cur_fine, table__floordiv(now_ms, ENG_FINE_MS));
    mp_atomic_init(&t->cur_hour, table__floordiv(now_ms, ENG_HOUR_MS));
    mp_atomic_init(&t->cur_day, table__floordiv(now_ms, ENG_DAY_MS));
    if (t->store && (rc = eng_table__load(t)) != MP_OK)
        goto err;
    *out = t;
    return MP_OK;
err:
    eng_providers_destroy(prov);
    eng_table_destroy(t);
    return rc;
}

void eng_table_set_providers(struct eng_table *t, struct eng_providers *p)
{
    /* acq_rel (release is what matters): the map's contents reach the
     * writers' acquire load */
    struct eng_providers *old = mp_xchg_acq_rel(&t->prov, p);
    eng_qsbr_synchronize(t->qsbr); /* no writer reads the old map after this */
    eng_providers_destroy(old);
}

int eng_thread_register(struct eng_table *t, struct eng_thread **out)
{
    return eng_qsbr_register(t->qsbr, out);
}

uint64_t eng_table_hash_seed(const struct eng_table *t) { return t->seed; }

/* ---- identity and lookups ---------------------------------------------------- */

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

/* A mailbox_provider key's name is "mailbox/provider": its last slash, with
 * the name in *n; NULL for a key of another scope. */
static const char *key__mp_slash(const struct eng_table *t, const struct eng_key *k,
                                 const char **n)
{
    if (k->scope != ENG_SCOPE_MAILBOX_PROVIDER)
        return NULL;
    *n = eng_key_name(t, k);
    return *n ? strrchr(*n, '/') : NULL;
}

const char *eng_key_mailbox(const struct eng_table *t, const struct eng_key *k)
{
    if (k->scope == ENG_SCOPE_MAILBOX)
        return eng_key_name(t, k);
    /* interned with the key (table__new_key), so found: the key needs no field for it */
    const char *n, *slash = key__mp_slash(t, k, &n);
    uint32_t id;
    if (!slash || eng_intern_find(t->names, n, (size_t)(slash - n), &id) != MP_OK)
        return NULL;
    return eng_intern_name(t->names, id);
}

const char *eng_key_provider(const struct eng_table *t, const struct eng_key *k)
{
    if (k->scope == ENG_SCOPE_PROVIDER)
        return eng_key_name(t, k);
    const char *n, *slash = key__mp_slash(t, k, &n);
    return slash ? slash + 1 : NULL;
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
    uint64_t th = table__tenant_hash(t, tenant, tlen);
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

