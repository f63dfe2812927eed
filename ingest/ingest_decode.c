/* ingest_decode.c — wire frames to EventBatch, with malloc or a per-thread
 * arena (see ingest_decode.h).
 */
#include "ingest_decode.h"

#include <limits.h>
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

/* ---- the workers' decoder ------------------------------------------------
 *
 * protobuf-c's unpack is generic: it scans every field into a list, looks
 * each up in the descriptor, then parses the list, with an allocation per
 * event and per string. The workers' decoder below reads EventBatch's two
 * levels directly, in one walk per level, into the arena: one block for the
 * events and their pointers, one copy per name. It gives what protobuf-c
 * 1.4's unpack followed by decode__blank_nul_names gives, field for field,
 * and refuses what it refuses (tests/test_ingest_decode.c and the fuzz
 * target compare the two on every input):
 *   - a tag is a varint of at most 5 bytes, field = value >> 3; a one-byte
 *     tag of field 0 is refused (a longer one reads as an unknown field);
 *   - wire types 0, 1, 2, 5 only; a varint at most 10 bytes (bits past 64
 *     dropped; the enum keeps the low 32); a length prefix at most 5 bytes,
 *     at most INT_MAX and inside the message;
 *   - a known field with another wire type refuses the frame; unknown
 *     fields are skipped (protobuf-c keeps them, nothing here reads them);
 *   - a repeated scalar field: the last copy wins; each `events` copy is
 *     one event;
 *   - a NUL in any copy of tenant, mailbox or recipient_domain leaves that
 *     field empty (see decode__blank_nul_names). */

#define WIRE_VARINT 0
#define WIRE_LEN 2

static int wire__tag(const uint8_t **p, const uint8_t *end, uint32_t *field, unsigned *wt)
{
    const uint8_t *q = *p;
    if ((q[0] & 0xf8) == 0)
        return 0;
    *wt = q[0] & 7;
    uint32_t tag = (uint32_t)(q[0] & 0x7f) >> 3;
    size_t max = (size_t)(end - q) < 5 ? (size_t)(end - q) : 5;
    unsigned shift = 4;
    for (size_t i = 0; i < max; i++) {
        if (i > 0) {
            tag |= (uint32_t)(q[i] & 0x7f) << shift;
            shift += 7;
        }
        if (!(q[i] & 0x80)) {
            *field = tag;
            *p = q + i + 1;
            return 1;
        }
    }
    return 0;
}

static int wire__varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    const uint8_t *q = *p;
    size_t max = (size_t)(end - q) < 10 ? (size_t)(end - q) : 10;
    uint64_t r = 0;
    for (size_t i = 0; i < max; i++) {
        r |= (uint64_t)(q[i] & 0x7f) << (7 * i);
        if (!(q[i] & 0x80)) {
            *v = r;
            *p = q + i + 1;
            return 1;
        }
    }
    return 0;
}

/* A length-prefixed value: its bytes at *val, *n of them. */
static int wire__len(const uint8_t **p, const uint8_t *end, const uint8_t **val, size_t *n)
{
    const uint8_t *q = *p;
    size_t max = (size_t)(end - q) < 5 ? (size_t)(end - q) : 5, l = 0;
    for (size_t i = 0; i < max; i++) {
        l |= (size_t)(q[i] & 0x7f) << (7 * i);
        if (!(q[i] & 0x80)) {
            if (l > INT_MAX || l > (size_t)(end - (q + i + 1)))
                return 0;
            *val = q + i + 1;
            *n = l;
            *p = q + i + 1 + l;
            return 1;
        }
    }
    return 0;
}

/* Skips a value of wire type wt as protobuf-c's scan does. */
static int wire__skip(const uint8_t **p, const uint8_t *end, unsigned wt)
{
    uint64_t v;
    const uint8_t *val;
    size_t n;
    switch (wt) {
    case WIRE_VARINT: return wire__varint(p, end, &v);
    case 1: if (end - *p < 8) return 0; *p += 8; return 1;
    case WIRE_LEN: return wire__len(p, end, &val, &n);
    case 5: if (end - *p < 4) return 0; *p += 4; return 1;
    default: return 0;
    }
}

static char *wire__string(struct ingest_arena *a, const uint8_t *val, size_t n)
{
    char *s = decode__arena_alloc(a, n + 1);
    if (s) {
        memcpy(s, val, n);
        s[n] = 0;
    }
    return s;
}

_Static_assert(sizeof(Mailpulse__V1__EventType) == sizeof(int32_t), "enum stored as int32");

/* One Event's bytes into e (initialised). 1 on success, 0 when they do not
 * decode, -1 when the arena cannot allocate. */
static int wire__event(struct ingest_arena *a, const uint8_t *p, const uint8_t *end,
                       Mailpulse__V1__Event *e)
{
    unsigned nul = 0; /* bit f: a copy of field f held a NUL */
    while (p < end) {
        uint32_t f;
        unsigned wt;
        if (!wire__tag(&p, end, &f, &wt))
            return 0;
        if (f < 1 || f > 8) {
            if (!wire__skip(&p, end, wt))
                return 0;
            continue;
        }
        int is_string = f <= 3 || f == 6 || f == 7;
        if (wt != (is_string ? WIRE_LEN : WIRE_VARINT))
            return 0;
        if (!is_string) {
            uint64_t v;
            if (!wire__varint(&p, end, &v))
                return 0;
            if (f == 4) {
                int32_t t = (int32_t)(uint32_t)v;
                memcpy(&e->type, &t, sizeof(t));
            } else if (f == 5)
                e->time_ms = (int64_t)v;
            else
                e->sent_time_ms = (int64_t)v;
            continue;
        }
        const uint8_t *val;
        size_t n;
        if (!wire__len(&p, end, &val, &n))
            return 0;
        char *s = wire__string(a, val, n);
        if (!s)
            return -1;
        if (f <= 3 && memchr(val, 0, n))
            nul |= 1u << f;
        *(f == 1 ? &e->tenant : f == 2 ? &e->mailbox : f == 3 ? &e->recipient_domain
                  : f == 6 ? &e->event_id : &e->campaign) = s;
    }
    if (nul & 2)
        e->tenant = (char *)protobuf_c_empty_string;
    if (nul & 4)
        e->mailbox = (char *)protobuf_c_empty_string;
    if (nul & 8)
        e->recipient_domain = (char *)protobuf_c_empty_string;
    return 1;
}

/* The top level, once to count the events and check its framing. */
static int wire__count(const uint8_t *p, const uint8_t *end, size_t *n_events)
{
    size_t n = 0;
    while (p < end) {
        uint32_t f;
        unsigned wt;
        if (!wire__tag(&p, end, &f, &wt))
            return 0;
        if ((f == 1 || f == 2) && wt != WIRE_LEN)
            return 0;
        if (f == 3 && wt != WIRE_VARINT)
            return 0;
        if (!wire__skip(&p, end, wt))
            return 0;
        n += f == 1;
    }
    *n_events = n;
    return 1;
}

static const Mailpulse__V1__Event wire__event_init = MAILPULSE__V1__EVENT__INIT;
static const Mailpulse__V1__EventBatch wire__batch_init = MAILPULSE__V1__EVENT_BATCH__INIT;

int ingest_decode_batch_arena(struct ingest_arena *a, const void *buf, size_t len,
                              Mailpulse__V1__EventBatch **out)
{
    const uint8_t *p = buf, *end = p + len;
    size_t n = 0;
    if (!wire__count(p, end, &n))
        return MP_ERR_INVAL;
    /* one block: the pointers, then the events, each 16-byte aligned as
     * every arena allocation is */
    const size_t ptrs = (n * sizeof(void *) + 15) & ~(size_t)15;
    const size_t stride = (sizeof(Mailpulse__V1__Event) + 15) & ~(size_t)15;
    Mailpulse__V1__EventBatch *b = decode__arena_alloc(a, sizeof(*b));
    char *mem = n ? decode__arena_alloc(a, ptrs + n * stride) : NULL;
    if (!b || (n && !mem))
        return MP_ERR_NOMEM;
    *b = wire__batch_init;
    if (n)
        b->events = (Mailpulse__V1__Event **)mem;
    while (p < end) {
        uint32_t f;
        unsigned wt;
        (void)wire__tag(&p, end, &f, &wt); /* the count's walk checked the framing */
        if (f == 3) {
            (void)wire__varint(&p, end, &b->sequence);
            continue;
        }
        if (f != 1 && f != 2) {
            (void)wire__skip(&p, end, wt);
            continue;
        }
        const uint8_t *val;
        size_t vn;
        (void)wire__len(&p, end, &val, &vn);
        if (f == 2) {
            if (!(b->producer_id = wire__string(a, val, vn)))
                return MP_ERR_NOMEM;
            continue;
        }
        Mailpulse__V1__Event *e = (Mailpulse__V1__Event *)(mem + ptrs + b->n_events * stride);
        *e = wire__event_init;
        b->events[b->n_events++] = e;
        int r = wire__event(a, val, val + vn, e);
        if (r <= 0)
            return r < 0 ? MP_ERR_NOMEM : MP_ERR_INVAL; /* the arena's reset takes it */
    }
    *out = b;
    return MP_OK;
}

void ingest_batch_free(Mailpulse__V1__EventBatch *b)
{
    if (b)
        mailpulse__v1__event_batch__free_unpacked(b, NULL);
}

