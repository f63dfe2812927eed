/* eng_table_ring.c — time: tick moves the bucket rings forward and clears
 * the buckets that left them, after a grace period (see eng_table.h, and
 * eng_table_impl.h for the ring invariant this keeps).
 */
#include "eng_table.h"

#include "eng_table_impl.h"

/* Zeroes ring slot `slot` of resolution `res` in every series of every key. */
static void table__clear(struct eng_table *t, int res, uint64_t slot)
{
    uint32_t n = mp_load_relaxed(&t->next_id);
    for (uint32_t id = 1; id < n && id <= t->max_keys; id++) {
        struct eng_key *k = mp_load_acquire(&t->by_id[id]);
        if (!k)
            continue;
        for (int ty = 0; ty < ENG_NTYPES; ty++) {
            /* acquire: pairs with the release CAS that published the id */
            uint32_t sid = mp_load_acquire(&k->sid[ty]);
            if (!sid)
                continue;
            struct eng_series *s = table__sptr(t, sid);
            mp_store_relaxed(&table__ring(s, res)[slot], 0);
        }
    }
}

/* Moves one ring forward to `want`. One step at a time keeps the invariant
 * described at the top of this file. A jump longer than the ring (the
 * process was stopped or the machine slept) instead retires the whole ring:
 * publish "nothing held", wait a grace period, clear every slot, publish the
 * new current bucket. Events arriving meanwhile skip the fine ring only. */
static void table__advance(struct eng_table *t, mp_atomic_i64 *cur, int64_t want, int back,
                           int ring, int res)
{
    int64_t c = mp_load_seq_cst(cur);
    if (want - c > ring) {
        if (t->store)
            eng_table_flush(t, 0, NULL); /* keep what the old ring held */
        /* seq_cst stores of cur before the grace period: see eng_qsbr.h */
        mp_store_seq_cst(cur, ENG_NO_BUCKET);
        eng_qsbr_synchronize(t->qsbr);
        for (int s = 0; s < ring; s++)
            table__clear(t, res, (uint64_t)s);
        mp_store_seq_cst(cur, want);
        return;
    }
    while (c < want) {
        mp_store_seq_cst(cur, c + 1);
        eng_qsbr_synchronize(t->qsbr);
        /* the bucket leaving the ring goes to the store before it is cleared */
        uint64_t slot = table__mod(c - back, ring);
        if (t->store)
            eng_table__flush_leaving(t, res, slot, c - back);
        table__clear(t, res, slot);
        c++;
    }
}

void eng_table_tick(struct eng_table *t, int64_t now_ms)
{
    mp_store_relaxed(&t->now_ms, now_ms);
    table__advance(t, &t->cur_fine, table__floordiv(now_ms, ENG_FINE_MS), ENG_FINE_BACK,
                   ENG_FINE_SLOTS, ENG_RES_FINE);
    table__advance(t, &t->cur_hour, table__floordiv(now_ms, ENG_HOUR_MS), ENG_HOUR_BACK,
                   ENG_HOUR_SLOTS, ENG_RES_HOUR);
    table__advance(t, &t->cur_day, table__floordiv(now_ms, ENG_DAY_MS), t->day_back,
                   t->day_slots, ENG_RES_DAY);
}
