/* eng_table_first.c — each key's first-seen day (see eng_table.h,
 * eng_key_first_day(), and eng_table_impl.h for the layout).
 *
 * Why a key keeps it: a warm-up ramp (alerts' `ramp` rule) measures a
 * mailbox's allowance by the days since its first event, and a warm-up
 * lasts longer than the store keeps counters (2-8 weeks against the 35-day
 * retention), so the day cannot be read back from the counters.
 *
 * Writers lower the day with a CAS (table__first_seen, inline in the impl
 * header: one relaxed load per key and event when nothing changes) and put
 * the key on a lock-free list once (first_q). The flush drains the list
 * into its batch (ENG_KV_FIRSTSEEN: scope | tenant id | name id, big-endian,
 * -> the day + 1, 4 bytes big-endian), in the same commit as the counters;
 * a failed commit gives the keys back. At create, every stored day is read
 * back and its key made (a header; its counters stay in the store), so a
 * key keeps its day across restarts as it does across eviction (a cold key
 * keeps its header). A reclaimed key (idle for the whole retention, empty)
 * forgets its day and its record goes: a mailbox silent that long starts a
 * new warm-up, as the practice says it must.
 *
 * Threads: writers (lower), the flush thread (write, undo), create (load),
 * the reclaim pass (forget, while writers are out).
 */
#include "eng_table.h"

#include <stdlib.h>
#include <string.h>

#include "eng_table_impl.h"
#include "mp_buf.h"
#include "mp_log.h"

#define FIRST_KEY_LEN 9

static void first__put32(char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (char)(v >> (24 - 8 * i));
}

static uint32_t first__get32(const char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = v << 8 | (unsigned char)p[i];
    return v;
}

static void first__push(struct eng_table *t, struct eng_key *k)
{
    /* acq_rel: the flush's exchange back to 0 happens before it reads the
     * day, so a day lowered after that read finds 0 here and pushes again */
    if (mp_xchg_acq_rel(&k->first_q, 1))
        return; /* already on the list (or being pushed): the flush reads the newest day */
    struct eng_key *head = mp_load_relaxed(&t->first_head);
    do {
        k->first_next = head;
    } while (!mp_cas_weak_release(&t->first_head, &head, k));
}

void eng_table__first_lower(struct eng_table *t, struct eng_key *k, uint32_t v)
{
    uint32_t cur = mp_load_relaxed(&k->first_day);
    while (!cur || v < cur) {
        /* relaxed: the day orders nothing but itself; the push below is
         * what hands it to the flush */
        if (mp_cas_relaxed(&k->first_day, &cur, v)) {
            if (t->store)
                first__push(t, k);
            return;
        }
    }
}

static void first__key(const struct eng_key *k, char out[FIRST_KEY_LEN])
{
    out[0] = (char)k->scope;
    first__put32(out + 1, k->tenant_id);
    first__put32(out + 5, k->name_id);
}

/* Deletes first (a reclaimed key's record), then puts: a key made again
 * under the same name after a reclaim stands behind its dead twin's delete
 * in the same batch. */
void eng_table__first_write(struct eng_table *t, struct eng_store_batch *b)
{
    t->nfirst_taken = 0;
    /* acquire: pairs with each push's release CAS (first_next, the key) */
    for (struct eng_key *k = mp_xchg_acquire(&t->first_head, NULL), *next; k; k = next) {
        next = k->first_next; /* before first_q drops: a writer may push k again */
        mp_store_seq_cst(&k->first_q, 0);
        if (MP_GROW(t->first_taken, t->capfirst_taken, t->nfirst_taken + 1) != MP_OK) {
            mp_error("store_flush_lost what=first_seen id=%u err=nomem", k->id);
            continue;
        }
        t->first_taken[t->nfirst_taken++] = k;
    }
    char key[FIRST_KEY_LEN], val[4];
    for (size_t i = 0; i < t->nfirst_taken; i++) {
        struct eng_key *k = t->first_taken[i];
        first__key(k, key);
        if (!mp_load_relaxed(&k->first_day))
            eng_store_batch_kv_del(b, ENG_KV_FIRSTSEEN, key, sizeof(key));
    }
    for (size_t i = 0; i < t->nfirst_taken; i++) {
        struct eng_key *k = t->first_taken[i];
        uint32_t v = mp_load_relaxed(&k->first_day);
        if (!v)
            continue;
        first__key(k, key);
        first__put32(val, v);
        eng_store_batch_kv_put(b, ENG_KV_FIRSTSEEN, key, sizeof(key), val, sizeof(val));
    }
}

void eng_table__first_undo(struct eng_table *t)
{
    for (size_t i = 0; i < t->nfirst_taken; i++)
        first__push(t, t->first_taken[i]);
    t->nfirst_taken = 0;
}

void eng_table__first_forget(struct eng_table *t, struct eng_key *k)
{
    mp_store_relaxed(&k->first_day, 0);
    if (t->store)
        first__push(t, k);
}

static int first__load_one(void *arg, const char *key, size_t kl, const char *val, size_t vl)
{
    struct eng_table *t = arg;
    if (kl != FIRST_KEY_LEN || vl != 4 || (unsigned char)key[0] >= ENG_NSCOPES) {
        mp_error("store_load_first_seen_bad key_len=%zu value_len=%zu", kl, vl);
        return MP_ERR_PARSE;
    }
    int scope = (unsigned char)key[0];
    uint32_t tid = first__get32(key + 1), nid = first__get32(key + 5), v = first__get32(val);
    const char *tn = eng_intern_name(t->names, tid);
    const char *nn = scope == ENG_SCOPE_TENANT ? tn : eng_intern_name(t->names, nid);
    if (!tn || !nn || !v) {
        mp_error("store_load_orphan what=first_seen scope=%d tenant_id=%u name_id=%u", scope, tid,
                 nid);
        return MP_ERR_PARSE;
    }
    size_t tlen = strlen(tn), nlen = strlen(nn);
    uint64_t th = table__tenant_hash(t, tn, tlen);
    struct eng_key *k;
    int rc = eng_table__get_key(t, th, ENG_SCOPE_TENANT, NULL, tn, tlen, &k);
    if (rc == MP_OK && scope != ENG_SCOPE_TENANT)
        rc = eng_table__get_key(t, table__child_hash(th, scope, nn, nlen), scope, k, nn, nlen, &k);
    if (rc != MP_OK)
        return rc;
    /* as stored: not on the list, so nothing is written back */
    uint32_t cur = mp_load_relaxed(&k->first_day);
    if (!cur || v < cur)
        mp_store_relaxed(&k->first_day, v);
    return MP_OK;
}

int eng_table__first_load(struct eng_table *t)
{
    return eng_store_kv_scan(t->store, ENG_KV_FIRSTSEEN, NULL, 0, first__load_one, t);
}

int64_t eng_key_first_day(const struct eng_key *k)
{
    uint32_t v = mp_load_relaxed(&((struct eng_key *)k)->first_day);
    return v ? (int64_t)v - 1 : -1;
}

int64_t eng_key_tenant_first_day(const struct eng_key *k)
{
    return eng_key_first_day(k->parent ? k->parent : k);
}

int64_t eng_key_age_days(const struct eng_table *t, const struct eng_key *k)
{
    int64_t first = eng_key_first_day(k);
    int64_t today = mp_load_seq_cst(&((struct eng_table *)t)->cur_day);
    if (first < 0 || today == ENG_NO_BUCKET)
        return -1;
    return today > first ? today - first : 0; /* a backdated clock reads day 0 */
}
