/* ingest_decode.c — wire frames to EventBatch, with malloc or a per-thread
 * arena (see ingest_decode.h).
 */
#include "ingest_decode.h"

#include <stdlib.h>
#include <string.h>

/* Reads a varint at *p (< end); returns 0 on a malformed one. */
static int decode__varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t r = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t b = *(*p)++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return 1;
        }
    }
    return 0;
}

/* Skips one field's value of wire type `wt`; 0 when it cannot. */
static int decode__skip(const uint8_t **p, const uint8_t *end, unsigned wt)
{
    uint64_t v;
    switch (wt) {
    case 0: return decode__varint(p, end, &v);
    case 1: if (end - *p < 8) return 0; *p += 8; return 1;
    case 5: if (end - *p < 4) return 0; *p += 4; return 1;
    case 2:
        if (!decode__varint(p, end, &v) || v > (uint64_t)(end - *p))
            return 0;
        *p += v;
        return 1;
    default: return 0;
    }
}

/* protobuf-c hands strings over as C strings, so a NUL inside tenant,
 * mailbox or recipient_domain would silently cut the name short ("acme\0x"
 * would count as "acme"). Walk the raw frame and blank such a field, which
 * validation then refuses with that field's reason. Only frames holding a
 * zero byte at all pay for this walk. */
static void decode__blank_nul_names(const void *buf, size_t len, Mailpulse__V1__EventBatch *b,
                                      int owned)
{
    const uint8_t *p = buf, *end = p + len;
    size_t idx = 0;
    while (p < end) {
        uint64_t tag, l;
        if (!decode__varint(&p, end, &tag))
            return;
        if ((tag >> 3) != 1 || (tag & 7) != 2) {
            if (!decode__skip(&p, end, (unsigned)(tag & 7)))
                return;
            continue;
        }
        if (!decode__varint(&p, end, &l) || l > (uint64_t)(end - p))
            return;
        const uint8_t *q = p, *qend = p + l;
        p = qend;
        if (idx >= b->n_events)
            return;
        Mailpulse__V1__Event *e = b->events[idx++];
        while (q < qend) {
            uint64_t ftag, fl;
            if (!decode__varint(&q, qend, &ftag))
                break;
            unsigned field = (unsigned)(ftag >> 3), wt = (unsigned)(ftag & 7);
            if (wt != 2 || field < 1 || field > 3) {
                if (!decode__skip(&q, qend, wt))
                    break;
                continue;
            }
            if (!decode__varint(&q, qend, &fl) || fl > (uint64_t)(qend - q))
                break;
            if (memchr(q, 0, fl)) {
                char **f = field == 1 ? &e->tenant : field == 2 ? &e->mailbox : &e->recipient_domain;
                if (owned && *f && *f != protobuf_c_empty_string)
                    free(*f); /* unpacked with the default (malloc) allocator */
                *f = (char *)protobuf_c_empty_string;
            }
            q += fl;
        }
    }
}

int ingest_decode_shape(const void *buf, size_t len, struct ingest_frame_shape *out)
{
    const uint8_t *p = buf, *end = p + len;
    struct ingest_frame_shape sh = {0};
    while (p < end) {
        uint64_t tag, l;
        if (!decode__varint(&p, end, &tag))
            return MP_ERR_INVAL;
        unsigned field = (unsigned)(tag >> 3), wt = (unsigned)(tag & 7);
        if (field == 3 && wt == 0) {
            if (!decode__varint(&p, end, &sh.sequence))
                return MP_ERR_INVAL;
            continue;
        }
        if ((field != 1 && field != 2) || wt != 2) {
            if (!decode__skip(&p, end, wt))
                return MP_ERR_INVAL;
            continue;
        }
        if (!decode__varint(&p, end, &l) || l > (uint64_t)(end - p))
            return MP_ERR_INVAL;
        if (field == 2) {
            sh.pid = (const char *)p;
            sh.pid_len = (size_t)l;
        }
        p += l;
        if (field == 1)
            sh.n_events++;
        else if (l > sh.producer_id_len)
            sh.producer_id_len = (size_t)l;
    }
    *out = sh;
    return MP_OK;
}

int ingest_decode_batch(const void *buf, size_t len, Mailpulse__V1__EventBatch **out)
{
    Mailpulse__V1__EventBatch *b = mailpulse__v1__event_batch__unpack(NULL, len, buf);
    if (!b)
        return MP_ERR_INVAL;
    if (memchr(buf, 0, len))
        decode__blank_nul_names(buf, len, b, 1);
    *out = b;
    return MP_OK;
}

/* ---- arena ---------------------------------------------------------------- */

#define ARENA_BLOCK (256 * 1024)

struct arena_block {
    struct arena_block *next;
    size_t used, size;
    _Alignas(16) char mem[]; /* 16-byte aligned blocks: sizes are rounded to 16 too */
};

struct ingest_arena {
    ProtobufCAllocator pa;
    struct arena_block *head; /* current block first; older ones after */
};

static void *decode__arena_alloc(void *data, size_t size)
{
    struct ingest_arena *a = data;
    size = (size + 15) & ~(size_t)15;
    struct arena_block *b = a->head;
    if (!b || b->used + size > b->size) {
        size_t bs = size > ARENA_BLOCK ? size : ARENA_BLOCK;
        struct arena_block *nb = malloc(sizeof(*nb) + bs);
        if (!nb)
            return NULL;
        nb->next = a->head;
        nb->used = 0;
        nb->size = bs;
        a->head = b = nb;
    }
    void *p = b->mem + b->used;
    b->used += size;
    return p;
}

static void decode__arena_free(void *data, void *p)
{
    MP_UNUSED(data);
    MP_UNUSED(p); /* everything goes at ingest_arena_reset() */
}

int ingest_arena_create(struct ingest_arena **out)
{
    struct ingest_arena *a = calloc(1, sizeof(*a));
    if (!a)
        return MP_ERR_NOMEM;
    a->pa.alloc = decode__arena_alloc;
    a->pa.free = decode__arena_free;
    a->pa.allocator_data = a;
    *out = a;
    return MP_OK;
}

void ingest_arena_reset(struct ingest_arena *a)
{
    /* keep the newest block (the steady-state frame fits it), drop the rest;
     * an outsized block (one large allocation) goes too, so the memory of a
     * burst of large frames returns once they are done */
    struct arena_block *b = a->head;
    if (!b)
        return;
    if (b->size > ARENA_BLOCK) {
        a->head = NULL;
        while (b) {
            struct arena_block *n = b->next;
            free(b);
            b = n;
        }
        return;
    }
    struct arena_block *old = b->next;
    b->next = NULL;
    b->used = 0;
    while (old) {
        struct arena_block *n = old->next;
        free(old);
        old = n;
    }
}

void ingest_arena_destroy(struct ingest_arena *a)
{
    if (!a)
        return;
    ingest_arena_reset(a);
    free(a->head);
    free(a);
}

int ingest_decode_batch_arena(struct ingest_arena *a, const void *buf, size_t len,
                              Mailpulse__V1__EventBatch **out)
{
    Mailpulse__V1__EventBatch *b = mailpulse__v1__event_batch__unpack(&a->pa, len, buf);
    if (!b)
        return MP_ERR_INVAL; /* what it allocated goes at the next reset */
    if (memchr(buf, 0, len))
        decode__blank_nul_names(buf, len, b, 0);
    *out = b;
    return MP_OK;
}

void ingest_batch_free(Mailpulse__V1__EventBatch *b)
{
    if (b)
        mailpulse__v1__event_batch__free_unpacked(b, NULL);
}

