/* ingest_producers.c — per-worker producer sequence table (see
 * ingest_producers.h): a chained hash table of malloc'd entries. */
#include "ingest_producers.h"

#include <stdlib.h>
#include <string.h>

#include "mp_hash.h"

struct prod_ent {
    struct prod_ent *next;
    uint64_t seq;
    int64_t seen_ms;
    uint64_t ver; /* table version of its last change */
    size_t len;
    char pid[];
};

struct ingest_producers {
    struct prod_ent **slot;
    size_t nslot, n;
    uint64_t ver, cut_ver, flushed_ver; /* changes; what the last cut put; what is durable */
};

#define PRODUCERS_SEED 0x6d61696c70756c73ULL

int ingest_producers_part(const char *pid, size_t len, int parts)
{
    return parts <= 1 ? 0 : (int)(mp_hash_bytes(pid, len, PRODUCERS_SEED) % (uint64_t)parts);
}

int ingest_producers_create(struct ingest_producers **out)
{
    struct ingest_producers *p = calloc(1, sizeof(*p));
    if (!p)
        return MP_ERR_NOMEM;
    p->nslot = 64;
    p->slot = calloc(p->nslot, sizeof(*p->slot));
    if (!p->slot) {
        free(p);
        return MP_ERR_NOMEM;
    }
    *out = p;
    return MP_OK;
}

void ingest_producers_destroy(struct ingest_producers *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nslot; i++)
        for (struct prod_ent *e = p->slot[i], *n; e; e = n) {
            n = e->next;
            free(e);
        }
    free(p->slot);
    free(p);
}

static struct prod_ent **producers__find(const struct ingest_producers *p, const char *pid,
                                         size_t len)
{
    size_t h = (size_t)(mp_hash_bytes(pid, len, ~PRODUCERS_SEED) & (p->nslot - 1));
    struct prod_ent **pp = &p->slot[h];
    while (*pp && ((*pp)->len != len || memcmp((*pp)->pid, pid, len) != 0))
        pp = &(*pp)->next;
    return pp;
}

uint64_t ingest_producers_last(const struct ingest_producers *p, const char *pid, size_t len)
{
    struct prod_ent *e = *producers__find(p, pid, len);
    return e ? e->seq : 0;
}

/* Doubles the slot array; on no memory the chains just grow longer. */
static void producers__grow(struct ingest_producers *p)
{
    size_t ns = p->nslot * 2;
    struct prod_ent **s = calloc(ns, sizeof(*s));
    if (!s)
        return;
    for (size_t i = 0; i < p->nslot; i++)
        for (struct prod_ent *e = p->slot[i], *n; e; e = n) {
            n = e->next;
            size_t h = (size_t)(mp_hash_bytes(e->pid, e->len, ~PRODUCERS_SEED) & (ns - 1));
            e->next = s[h];
            s[h] = e;
        }
    free(p->slot);
    p->slot = s;
    p->nslot = ns;
}

int ingest_producers_set(struct ingest_producers *p, const char *pid, size_t len, uint64_t seq,
                         int64_t now_ms)
{
    struct prod_ent **pp = producers__find(p, pid, len);
    struct prod_ent *e = *pp;
    if (!e) {
        if (p->n >= INGEST_PRODUCERS_MAX)
            return MP_ERR_FULL;
        if ((e = calloc(1, sizeof(*e) + len)) == NULL)
            return MP_ERR_NOMEM;
        memcpy(e->pid, pid, len);
        e->len = len;
        *pp = e;
        if (++p->n > p->nslot - p->nslot / 4)
            producers__grow(p);
    }
    if (seq > e->seq)
        e->seq = seq;
    e->seen_ms = now_ms;
    e->ver = ++p->ver;
    return MP_OK;
}

size_t ingest_producers_count(const struct ingest_producers *p) { return p->n; }

void ingest_producers_del(struct ingest_producers *p, const char *pid, size_t len)
{
    struct prod_ent **pp = producers__find(p, pid, len);
    struct prod_ent *e = *pp;
    if (!e)
        return;
    *pp = e->next;
    free(e);
    p->n--;
}

void ingest_producers_mark_durable(struct ingest_producers *p)
{
    p->flushed_ver = p->cut_ver = p->ver;
}

void ingest_producers_cut(struct ingest_producers *p, struct eng_store_batch *b, int64_t now_ms,
                          int64_t ttl_ms)
{
    char v[INGEST_PRODUCER_VALUE_LEN];
    for (size_t i = 0; i < p->nslot; i++) {
        struct prod_ent **pp = &p->slot[i];
        while (*pp) {
            struct prod_ent *e = *pp;
            if (ttl_ms > 0 && now_ms - e->seen_ms > ttl_ms) {
                /* idle past the TTL: forgotten here and in the store */
                eng_store_batch_kv_del(b, ENG_KV_PRODUCERS, e->pid, e->len);
                *pp = e->next;
                free(e);
                p->n--;
                continue;
            }
            if (e->ver > p->flushed_ver) {
                ingest_producers_encode(e->seq, e->seen_ms, v);
                eng_store_batch_kv_put(b, ENG_KV_PRODUCERS, e->pid, e->len, v, sizeof(v));
            }
            pp = &e->next;
        }
    }
    p->cut_ver = p->ver;
}

void ingest_producers_cut_done(struct ingest_producers *p, int ok)
{
    if (ok)
        p->flushed_ver = p->cut_ver; /* else the next cut puts them again */
}

void ingest_producers_encode(uint64_t seq, int64_t seen_ms, char out[INGEST_PRODUCER_VALUE_LEN])
{
    for (int i = 0; i < 8; i++) {
        out[i] = (char)(seq >> (56 - 8 * i));
        out[8 + i] = (char)((uint64_t)seen_ms >> (56 - 8 * i));
    }
}

int ingest_producers_decode(const char *v, size_t len, uint64_t *seq, int64_t *seen_ms)
{
    if (len != INGEST_PRODUCER_VALUE_LEN)
        return MP_ERR_PARSE;
    uint64_t s = 0, t = 0;
    for (int i = 0; i < 8; i++) {
        s = s << 8 | (unsigned char)v[i];
        t = t << 8 | (unsigned char)v[8 + i];
    }
    *seq = s;
    *seen_ms = (int64_t)t;
    return MP_OK;
}
