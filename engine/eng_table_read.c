/* eng_table_read.c — the table's read side, used by stats and the
 * evaluator (see eng_table.h): the dirty list, consistent reads of a key,
 * sums over buckets and named windows, a tenant's children.
 */
#include "eng_table.h"

#include <string.h>

#include "eng_table_impl.h"

size_t eng_table_drain_dirty(struct eng_table *t, void (*fn)(void *arg, struct eng_key *k),
                             void *arg)
{
    /* acquire: pairs with the pushers' release CAS, so each key's dirty_next
     * is visible. Taking the whole list makes ABA impossible. */
    struct eng_key *k = mp_xchg_acquire(&t->dirty_head, NULL);
    size_t n = 0;
    while (k) {
        struct eng_key *next = k->dirty_next; /* read before the key can be re-pushed */
        /* acq_rel: pairs with the frame end that set the bit (see there) */
        mp_and_acq_rel(&k->seq, ~SEQ_DIRTY);
        fn(arg, k);
        k = next;
        n++;
    }
    return n;
}

void eng_table_wait_dirty(struct eng_table *t, int64_t timeout_ns)
{
    uint32_t seen = mp_wake_prepare(&t->dirty_wake);
    if (!mp_load_acquire(&t->dirty_head))
        mp_wake_wait(&t->dirty_wake, seen, timeout_ns);
    mp_wake_done(&t->dirty_wake);
}

void eng_table_wake(struct eng_table *t) { mp_wake_notify(&t->dirty_wake); }

int eng_key_read_begin(const struct eng_key *k, uint32_t *token)
{
    struct eng_key *kk = (struct eng_key *)k;
    /* acquire: pairs with eng_frame_end's release, so the adds of every
     * frame counted in gen are visible to the reads that follow */
    uint64_t w = mp_load_acquire(&kk->seq);
    *token = SEQ_GEN(w);
    return SEQ_INFLIGHT(w) == 0 &&
           mp_load_acquire(&kk->state) == KEY_HOT;
}

int eng_key_read_end(const struct eng_key *k, uint32_t token)
{
    struct eng_key *kk = (struct eng_key *)k;
    /* acquire fence: if the sums saw an add of a frame that began after
     * read_begin, this fence synchronises with that frame's release fence,
     * so the loads below see its inflight increment (or its end, in gen). */
    mp_fence_acquire();
    uint64_t w = mp_load_relaxed(&kk->seq); /* the dirty bit does not matter here */
    return SEQ_INFLIGHT(w) == 0 && SEQ_GEN(w) == token &&
           mp_load_relaxed(&kk->state) == KEY_HOT;
}

/* Sums, per type in mask `types`, `n` buckets of resolution `res` ending
 * `back` buckets before the current one, clipped to the held range. */
void eng_key_sum_types(const struct eng_table *t, const struct eng_key *k, int res, int back,
                       int n, unsigned types, uint64_t out[ENG_NTYPES])
{
    memset(out, 0, sizeof(uint64_t) * ENG_NTYPES);
    struct eng_table *tt = (struct eng_table *)t;
    int64_t cur;
    int held_back, ring;
    switch (res) {
    case ENG_RES_FINE: cur = mp_load_seq_cst(&tt->cur_fine); held_back = ENG_FINE_BACK; ring = ENG_FINE_SLOTS; break;
    case ENG_RES_HOUR: cur = mp_load_seq_cst(&tt->cur_hour); held_back = ENG_HOUR_BACK; ring = ENG_HOUR_SLOTS; break;
    case ENG_RES_DAY: cur = mp_load_seq_cst(&tt->cur_day); held_back = t->day_back; ring = t->day_slots; break;
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
        eng_count *c = table__ring(s, res);
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
    case ENG_WIN_1H: eng_key_sum_types(t, k, ENG_RES_FINE, 0, 12, ~0u, out); return;
    case ENG_WIN_24H: eng_key_sum_types(t, k, ENG_RES_HOUR, 0, 24, ~0u, out); return;
    case ENG_WIN_7D: eng_key_sum_types(t, k, ENG_RES_DAY, 0, 7, ~0u, out); return;
    case ENG_WIN_PREV_7D: eng_key_sum_types(t, k, ENG_RES_DAY, 7, 7, ~0u, out); return;
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
    /* acquire: pairs with the release that linked each key (a push, or a
     * relink by eng_table_reclaim) */
    for (struct eng_key *k = mp_load_acquire(&((struct eng_key *)tk)->children); k;
         k = mp_load_acquire(&k->sibling))
        if (k->scope == scope) {
            fn(arg, k);
            n++;
        }
    return n;
}

size_t eng_table_tenants(const struct eng_table *t, void (*fn)(void *arg, struct eng_key *k),
                         void *arg)
{
    size_t n = 0;
    /* acquire: pairs with the release CAS that pushed each tenant key */
    for (struct eng_key *k = mp_load_acquire(&((struct eng_table *)t)->tenants); k;
         k = mp_load_acquire(&k->sibling)) {
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
    eng_key_sum_types(t, k, ENG_RES_FINE, 0, nbuckets, ~0u, out);
}

void eng_key_sum_days(const struct eng_table *t, const struct eng_key *k, int back, int ndays,
                      uint64_t out[ENG_NTYPES])
{
    eng_key_sum_types(t, k, ENG_RES_DAY, back, ndays, ~0u, out);
}
