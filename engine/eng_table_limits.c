/* eng_table_limits.c — the noisy-neighbour limits' state (see eng_table.h,
 * "Limits", and eng_table_impl.h): a tenant key's limits, set when the key
 * is made, and the per-tenant rejection counts /metrics shows. The per-event
 * checks (the key cap's reservation, the rate cap's GCRA) sit on the hot
 * path in eng_table_record.c.
 */
#include "eng_table.h"

#include <stdlib.h>

#include "eng_table_impl.h"

/* Sets ten's limits from src (the tenant's name: len bytes at name). */
static void limits__apply(const struct eng_limits_src *src, struct eng_tenant *ten,
                          const char *name, size_t len)
{
    struct eng_tenant_limits lim = src->def;
    uint64_t interval = 0, burst = 0;
    if (src->fn)
        src->fn(src->arg, name, len, &lim);
    if (lim.max_eps) {
        /* GCRA: one event per interval sustained; a burst of max_eps events
         * (one second's worth) passes at once: tolerance (max_eps - 1)
         * intervals, so the max_eps-th event of a burst is the last one in. */
        interval = 1000000000ULL / lim.max_eps;
        if (interval == 0)
            interval = 1;
        burst = interval * (lim.max_eps - 1);
    }
    mp_store_relaxed(&ten->max_keys, lim.max_keys);
    mp_store_relaxed(&ten->burst_ns, burst);
    mp_store_relaxed(&ten->interval_ns, interval);
}

struct eng_tenant *eng_table__tenant_new(struct eng_table *t, const char *name, size_t len)
{
    struct eng_tenant *ten = eng_arena_alloc(t->arena, sizeof(*ten)); /* zeroed */
    if (!ten)
        return NULL;
    /* acquire: pairs with eng_table_set_limits' release exchange; the
     * source stays until a grace period after it is replaced */
    limits__apply(mp_load_acquire(&t->lsrc), ten, name, len);
    return ten;
}

int eng_table_set_limits(struct eng_table *t, const struct eng_tenant_limits *def,
                         eng_limits_fn fn, void *arg)
{
    struct eng_limits_src *src = malloc(sizeof(*src));
    if (!src)
        return MP_ERR_NOMEM;
    *src = (struct eng_limits_src){def ? *def : (struct eng_tenant_limits){0}, fn, arg};
    /* release: src's fields to the writers' acquire load */
    struct eng_limits_src *old = mp_xchg_acq_rel(&t->lsrc, src);
    /* Every writer passes a quiescent point: none still reads old (or its
     * arg), and every tenant key made from it is in by_id for the walk. */
    eng_qsbr_synchronize(t->qsbr);
    free(old);
    uint32_t top = mp_load_relaxed(&t->next_id);
    for (uint32_t id = 1; id < top && id <= t->max_keys; id++) {
        struct eng_key *k = mp_load_acquire(&t->by_id[id]);
        if (k && k->ten)
            limits__apply(src, k->ten, k->name, k->name_len);
    }
    return MP_OK;
}

/* The tenant's first rejection lists it (up to ENG_LIMITED_MAX tenants);
 * later ones only count. listed goes 0 -> 1 (or 2) once, by CAS, so a
 * tenant is pushed at most once. */
void eng_table__limit_reject(struct eng_table *t, struct eng_tenant *ten, int reason)
{
    uint32_t st = mp_load_acquire(&ten->listed);
    if (st == 0) {
        uint32_t want = mp_add_relaxed(&t->nlimited, 1) < ENG_LIMITED_MAX ? 1 : 2;
        uint32_t expect = 0;
        if (mp_cas_acq_rel(&ten->listed, &expect, want)) {
            st = want;
            if (want == 1) {
                /* release: ten's fields (key) are visible to the reader's
                 * acquire load of the head */
                struct eng_tenant *head = mp_load_relaxed(&t->limited);
                do {
                    ten->limited_next = head;
                } while (!mp_cas_weak_release(&t->limited, &head, ten));
            }
        } else {
            st = expect; /* another writer listed it first */
        }
    }
    if (st == 1)
        mp_add_relaxed(&ten->rejected[reason], 1);
    else
        mp_add_relaxed(&t->limited_other[reason], 1);
}

size_t eng_table_limited(const struct eng_table *t,
                         void (*fn)(void *arg, const char *tenant,
                                    const uint64_t rejected[ENG_LIM_COUNT]),
                         void *arg)
{
    size_t n = 0;
    struct eng_table *tt = (struct eng_table *)t;
    /* acquire: pairs with the release CAS that pushed the newest entry;
     * limited_next is immutable once pushed, and tenant keys live until the
     * table does (eng_table_reclaim never takes one) */
    for (struct eng_tenant *ten = mp_load_acquire(&tt->limited); ten; ten = ten->limited_next) {
        uint64_t r[ENG_LIM_COUNT];
        for (int i = 0; i < ENG_LIM_COUNT; i++)
            r[i] = mp_load_relaxed(&ten->rejected[i]);
        fn(arg, eng_key_tenant(t, ten->key), r);
        n++;
    }
    return n;
}

void eng_table_limited_other(const struct eng_table *t, uint64_t out[ENG_LIM_COUNT])
{
    struct eng_table *tt = (struct eng_table *)t;
    for (int i = 0; i < ENG_LIM_COUNT; i++)
        out[i] = mp_load_relaxed(&tt->limited_other[i]);
}

uint32_t eng_key_children_count(const struct eng_key *k)
{
    return k->ten ? mp_load_relaxed(&k->ten->nkeys) : 0;
}
