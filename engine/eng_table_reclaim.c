/* eng_table_reclaim.c — keys leave the table for good (see eng_table.h,
 * eng_table_reclaim(), and eng_table_impl.h for the layout).
 *
 * A mailbox or domain key that has had no event for the retention, holds
 * nothing in any window (every in-memory counter zero, nothing unflushed),
 * is in no frame and on no dirty list, and holds no live alert (the
 * caller's pin callback: the evaluator knows) is reclaimed:
 *   - its slot becomes a tombstone (SLOT_TOMB), which the next new key whose
 *     chain passes it takes (eng_table_record.c);
 *   - its id leaves by_id and waits in free_keys for the next new key; its
 *     series ids go back to the pool;
 *   - it leaves its tenant's child list, and the tenant's key count (the
 *     key cap, "Limits") and the table's drop by one;
 *   - it forgets its first-seen day, whose record the next flush deletes.
 * Its stored counters are already gone: the flush drops every bucket past
 * the retention, and a key idle that long has none younger. Tenant keys
 * stay (their limits state and rejection counts live on them).
 *
 * Why writers step out: slots go from key to tombstone only while no
 * writer is inside a record (`reclaiming`, then a grace period), so the
 * tombstones a writer sees never change under it except by being taken,
 * and two writers inserting one key always aim at the same slot. Readers
 * (stats, the evaluator) run on: a reader that found the key before it
 * left reads a key with zero counts; its memory stays in the arena (keys
 * are not freed before the table), and its sibling still leads into the
 * list. Tombstones that end a probe chain become empty again, so chains do
 * not grow with floods that came and went.
 */
#include "eng_table.h"

#include <stdlib.h>

#include "eng_table_impl.h"
#include "mp_buf.h"
#include "mp_log.h"

uint32_t eng_table__take_key_id(struct eng_table *t)
{
    uint32_t id = 0;
    if (!mp_load_relaxed(&t->nfree_keys_hint)) /* a peek; the lock decides */
        return 0;
    pthread_mutex_lock(&t->key_lock);
    if (t->nfree_keys) {
        id = t->free_keys[--t->nfree_keys];
        mp_store_relaxed(&t->nfree_keys_hint, (uint32_t)t->nfree_keys);
    }
    pthread_mutex_unlock(&t->key_lock);
    return id;
}

void eng_table__free_key_id(struct eng_table *t, uint32_t id)
{
    pthread_mutex_lock(&t->key_lock);
    if (MP_GROW(t->free_keys, t->capfree_keys, t->nfree_keys + 1) == MP_OK) {
        t->free_keys[t->nfree_keys++] = id;
        mp_store_relaxed(&t->nfree_keys_hint, (uint32_t)t->nfree_keys);
    } /* else the id is lost: the table holds one key fewer, never a wrong one */
    pthread_mutex_unlock(&t->key_lock);
}

/* Nothing left in memory: every counter of every series zero. */
static int reclaim__empty(const struct eng_table *t, const struct eng_key *k)
{
    for (int ty = 0; ty < ENG_NTYPES; ty++) {
        uint32_t sid = mp_load_acquire(&((struct eng_key *)k)->sid[ty]);
        if (!sid)
            continue;
        struct eng_series *s = table__sptr(t, sid);
        for (int i = 0; i < ENG_FINE_SLOTS; i++)
            if (mp_load_relaxed(&s->fine[i]))
                return 0;
        for (int i = 0; i < ENG_HOUR_SLOTS; i++)
            if (mp_load_relaxed(&s->hour[i]))
                return 0;
        for (int i = 0; i < t->day_slots; i++)
            if (mp_load_relaxed(&s->day[i]))
                return 0;
    }
    return 1;
}

/* Whether k may go (see the top); `pinned` is asked last, as it locks. */
static int reclaim__idle(const struct eng_table *t, struct eng_key *k, int64_t now_ms,
                         eng_pin_fn pinned, void *arg)
{
    uint32_t st = mp_load_seq_cst(&k->state);
    uint64_t seq = mp_load_seq_cst(&k->seq);
    return k->scope != ENG_SCOPE_TENANT && !k->dead && (st == KEY_HOT || st == KEY_COLD) &&
           !SEQ_INFLIGHT(seq) && !(seq & SEQ_DIRTY) && !mp_load_relaxed(&k->fmask) &&
           now_ms - mp_load_relaxed(&k->last_ms) >= t->retention_ms && reclaim__empty(t, k) &&
           !(pinned && pinned(arg, k->id));
}

/* Tombstones k's slot. The key is found by its own hash. */
static void reclaim__unslot(struct eng_table *t, const struct eng_key *k)
{
    const struct eng_key *p = k->parent;
    uint64_t h = table__child_hash(table__tenant_hash(t, p->name, p->name_len), k->scope, k->name,
                                   k->name_len);
    for (uint64_t i = h & t->mask, n = 0; n <= t->mask; i = (i + 1) & t->mask, n++) {
        uint64_t w = mp_load_acquire(&t->slots[i]);
        if (!w)
            break;
        if (table__slot_key(w) == k && w != SLOT_TOMB) {
            /* release: nothing to publish but the slot's new meaning */
            mp_store_release(&t->slots[i], SLOT_TOMB);
            return;
        }
    }
    mp_error("reclaim_slot_missing id=%u", k->id); /* a table bug: the key stays unslotted */
}

/* Takes k out: claimed (EVICTING) so no reader warms it meanwhile, then
 * unslotted, unindexed, its series given back; it ends HOT with no series,
 * which a reader holding it reads as zeros. 0 when k changed since. */
static int reclaim__take(struct eng_table *t, struct eng_key *k, int64_t now_ms,
                         eng_pin_fn pinned, void *arg)
{
    uint32_t st = mp_load_seq_cst(&k->state);
    /* asked again: the evaluator makes a record only for a key it reads
     * changed (dirty), which no writer can make it now, and a key idle for
     * the retention has no change left for it to read */
    if (!reclaim__idle(t, k, now_ms, pinned, arg) ||
        !mp_cas_seq_cst(&k->state, &st, KEY_EVICTING))
        return 0;
    reclaim__unslot(t, k);
    mp_store_release(&t->by_id[k->id], NULL);
    for (int ty = 0; ty < ENG_NTYPES; ty++) {
        uint32_t sid = mp_xchg_acq_rel(&k->sid[ty], 0);
        if (sid) { /* its counters are all zero: the pool takes zeroed series */
            eng_table__free_id(t, sid);
            mp_sub_relaxed(&t->nseries, 1);
        }
    }
    if (st == KEY_COLD)
        mp_sub_relaxed(&t->cold, 1);
    k->dead = 1;
    eng_table__first_forget(t, k); /* its stored day goes with the next flush */
    mp_sub_relaxed(&t->nkeys, 1);
    mp_sub_relaxed(&k->parent->ten->nkeys, 1);
    mp_store_seq_cst(&k->state, KEY_HOT);
    return 1;
}

/* Drops the dead keys from tk's child list. Writers are out, so nothing
 * pushes meanwhile; a reader on a dead key still follows its sibling. */
static void reclaim__relink(struct eng_key *tk)
{
    struct eng_key *k = mp_load_acquire(&tk->children);
    while (k && k->dead)
        k = mp_load_relaxed(&k->sibling);
    mp_store_release(&tk->children, k);
    while (k) {
        struct eng_key *next = mp_load_relaxed(&k->sibling), *live = next;
        while (live && live->dead)
            live = mp_load_relaxed(&live->sibling);
        if (live != next)
            mp_store_release(&k->sibling, live);
        k = live;
    }
}

/* Tombstones that end a chain become empty: no key lies past an empty
 * slot in its chain, so none is reached through them. One backward sweep
 * from an empty slot; with none (a table of tombstones), nothing to do. */
static void reclaim__sweep(struct eng_table *t)
{
    uint64_t e = 0;
    while (e <= t->mask && mp_load_relaxed(&t->slots[e]) != 0)
        e++;
    if (e > t->mask)
        return;
    int after_empty = 1;
    for (uint64_t n = 0, i = (e - 1) & t->mask; n < t->mask; n++, i = (i - 1) & t->mask) {
        uint64_t w = mp_load_relaxed(&t->slots[i]);
        if (w == SLOT_TOMB && after_empty)
            mp_store_release(&t->slots[i], 0);
        else
            after_empty = w == 0;
    }
}

size_t eng_table_reclaim(struct eng_table *t, int64_t now_ms, eng_pin_fn pinned, void *arg)
{
    struct eng_key **v = NULL;
    size_t n = 0, cap = 0, done = 0;
    uint32_t top = mp_load_relaxed(&t->next_id);
    for (uint32_t id = 1; id < top && id <= t->max_keys && n < ENG_RECLAIM_MAX; id++) {
        struct eng_key *k = mp_load_acquire(&t->by_id[id]);
        if (!k || !reclaim__idle(t, k, now_ms, pinned, arg))
            continue;
        if (MP_GROW(v, cap, n + 1) != MP_OK)
            break; /* reclaim what we have */
        v[n++] = k;
    }
    if (n == 0)
        goto out;
    /* seq_cst: pairs with the writers' seq_cst load in frame__record; after
     * the grace period every writer has passed a quiescent point and its
     * next record sees the flag, so none is inside a record below */
    mp_store_seq_cst(&t->reclaiming, 1);
    eng_qsbr_synchronize(t->qsbr);
    for (size_t i = 0; i < n; i++) {
        if (!reclaim__take(t, v[i], now_ms, pinned, arg)) {
            v[i] = NULL;
            continue;
        }
        done++;
    }
    for (size_t i = 0; i < n; i++) {
        struct eng_key *tk = v[i] ? v[i]->parent : NULL;
        if (tk && !tk->dead) {
            tk->dead = 1; /* a mark for this loop: relink each tenant once */
            reclaim__relink(tk);
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!v[i])
            continue;
        v[i]->parent->dead = 0;
        eng_table__free_key_id(t, v[i]->id);
    }
    reclaim__sweep(t);
    mp_store_seq_cst(&t->reclaiming, 0);
    mp_add_relaxed(&t->reclaimed, done);
    if (done)
        mp_info("keys_reclaimed n=%zu keys=%u", done, (unsigned)mp_load_relaxed(&t->nkeys));
out:
    free(v);
    return done;
}

uint64_t eng_table_reclaimed(const struct eng_table *t)
{
    return mp_load_relaxed(&((struct eng_table *)t)->reclaimed);
}
