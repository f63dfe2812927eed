/* ingest_validate.c — frame decoding and event validation (see ingest_validate.h). */
#include "ingest_validate.h"
#include "eng_name.h"

#include <stdlib.h>
#include <string.h>

static const char *const validate__reasons[INGEST_REASON_COUNT] = {
    [INGEST_OK] = "ok",
    [INGEST_REJ_BAD_FRAME] = "bad_frame",
    [INGEST_REJ_EMPTY_BATCH] = "empty_batch",
    [INGEST_REJ_TENANT] = "tenant_invalid",
    [INGEST_REJ_MAILBOX] = "mailbox_invalid",
    [INGEST_REJ_DOMAIN] = "domain_invalid",
    [INGEST_REJ_TYPE] = "type_unknown",
    [INGEST_REJ_TIME_MISSING] = "time_missing",
    [INGEST_REJ_TIME_OLD] = "time_too_old",
    [INGEST_REJ_TIME_FUTURE] = "time_in_future",
    [INGEST_REJ_CAPACITY] = "capacity",
    [INGEST_REJ_INTERNAL] = "internal",
};

const char *ingest_reason_name(int reason)
{
    if (reason < 0 || reason >= INGEST_REASON_COUNT)
        return "unknown";
    return validate__reasons[reason];
}

/* Reads a varint at *p (< end); returns 0 on a malformed one. */
static int validate__varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
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
static int validate__skip(const uint8_t **p, const uint8_t *end, unsigned wt)
{
    uint64_t v;
    switch (wt) {
    case 0: return validate__varint(p, end, &v);
    case 1: if (end - *p < 8) return 0; *p += 8; return 1;
    case 5: if (end - *p < 4) return 0; *p += 4; return 1;
    case 2:
        if (!validate__varint(p, end, &v) || v > (uint64_t)(end - *p))
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
static void validate__blank_nul_names(const void *buf, size_t len, Mailpulse__V1__EventBatch *b,
                                      int owned)
{
    const uint8_t *p = buf, *end = p + len;
    size_t idx = 0;
    while (p < end) {
        uint64_t tag, l;
        if (!validate__varint(&p, end, &tag))
            return;
        if ((tag >> 3) != 1 || (tag & 7) != 2) {
            if (!validate__skip(&p, end, (unsigned)(tag & 7)))
                return;
            continue;
        }
        if (!validate__varint(&p, end, &l) || l > (uint64_t)(end - p))
            return;
        const uint8_t *q = p, *qend = p + l;
        p = qend;
        if (idx >= b->n_events)
            return;
        Mailpulse__V1__Event *e = b->events[idx++];
        while (q < qend) {
            uint64_t ftag, fl;
            if (!validate__varint(&q, qend, &ftag))
                break;
            unsigned field = (unsigned)(ftag >> 3), wt = (unsigned)(ftag & 7);
            if (wt != 2 || field < 1 || field > 3) {
                if (!validate__skip(&q, qend, wt))
                    break;
                continue;
            }
            if (!validate__varint(&q, qend, &fl) || fl > (uint64_t)(qend - q))
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

int ingest_decode_batch(const void *buf, size_t len, Mailpulse__V1__EventBatch **out)
{
    Mailpulse__V1__EventBatch *b = mailpulse__v1__event_batch__unpack(NULL, len, buf);
    if (!b)
        return MP_ERR_INVAL;
    if (memchr(buf, 0, len))
        validate__blank_nul_names(buf, len, b, 1);
    *out = b;
    return MP_OK;
}

/* ---- arena ---------------------------------------------------------------- */

#define ARENA_BLOCK (256 * 1024)

struct arena_block {
    struct arena_block *next;
    size_t used, size;
    char mem[];
};

struct ingest_arena {
    ProtobufCAllocator pa;
    struct arena_block *head; /* current block first; older ones after */
};

static void *arena__alloc(void *data, size_t size)
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

static void arena__free(void *data, void *p)
{
    MP_UNUSED(data);
    MP_UNUSED(p); /* everything goes at ingest_arena_reset() */
}

int ingest_arena_create(struct ingest_arena **out)
{
    struct ingest_arena *a = calloc(1, sizeof(*a));
    if (!a)
        return MP_ERR_NOMEM;
    a->pa.alloc = arena__alloc;
    a->pa.free = arena__free;
    a->pa.allocator_data = a;
    *out = a;
    return MP_OK;
}

void ingest_arena_reset(struct ingest_arena *a)
{
    /* keep the newest block (the steady-state frame fits it), drop the rest */
    struct arena_block *b = a->head;
    if (!b)
        return;
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
        validate__blank_nul_names(buf, len, b, 0);
    *out = b;
    return MP_OK;
}

void ingest_batch_free(Mailpulse__V1__EventBatch *b)
{
    if (b)
        mailpulse__v1__event_batch__free_unpacked(b, NULL);
}

static char validate__lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

int ingest_norm_domain(const char *src, size_t len, char *dst, size_t *outlen)
{
    if (len > 0 && src[len - 1] == '.')
        len--; /* the fully qualified form names the same host */
    if (len < 1 || len > 253)
        return 0;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        char c = validate__lower(src[i]);
        if (c == '.') {
            if (label == 0 || dst[i - 1] == '-')
                return 0;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
            if (c == '-' && label == 0)
                return 0;
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
        dst[i] = c;
    }
    if (label == 0 || dst[len - 1] == '-')
        return 0;
    dst[len] = '\0';
    *outlen = len;
    return 1;
}

int ingest_norm_mailbox(const char *src, size_t len, char *dst, size_t *outlen)
{
    if (len < 3 || len > 254)
        return 0;
    const char *at = memchr(src, '@', len);
    if (!at || memchr(at + 1, '@', len - (size_t)(at - src) - 1))
        return 0;
    size_t local = (size_t)(at - src);
    if (local < 1 || local > 64)
        return 0;
    for (size_t i = 0; i < local; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c <= ' ' || c >= 0x7f) /* no spaces, controls or raw UTF-8 */
            return 0;
        dst[i] = validate__lower((char)c);
    }
    dst[local] = '@';
    size_t dlen;
    if (!ingest_norm_domain(at + 1, len - local - 1, dst + local + 1, &dlen))
        return 0;
    *outlen = local + 1 + dlen;
    return 1;
}

int ingest_validate_event(const Mailpulse__V1__Event *e, int64_t now_ms,
                          const struct ingest_limits *lim, char *buf, struct eng_event *ev)
{
    const char *tenant = e->tenant ? e->tenant : "";
    const char *mailbox = e->mailbox ? e->mailbox : "";
    const char *domain = e->recipient_domain ? e->recipient_domain : "";
    size_t tlen = strlen(tenant), mlen = strlen(mailbox), dlen = strlen(domain);

    if (!eng_name_valid(tenant, tlen))
        return INGEST_REJ_TENANT;
    size_t mout, dout;
    if (mlen > 254 || !ingest_norm_mailbox(mailbox, mlen, buf, &mout))
        return INGEST_REJ_MAILBOX;
    char *dbuf = buf + mout + 1;
    if (dlen > 254 || !ingest_norm_domain(domain, dlen, dbuf, &dout))
        return INGEST_REJ_DOMAIN;
    int type = (int)e->type;
    if (type < ENG_TYPE_MIN || type > ENG_TYPE_MAX)
        return INGEST_REJ_TYPE;
    if (e->time_ms == 0)
        return INGEST_REJ_TIME_MISSING;
    if (e->time_ms < now_ms - lim->retention_ms)
        return INGEST_REJ_TIME_OLD;
    if (e->time_ms > now_ms + lim->future_ms)
        return INGEST_REJ_TIME_FUTURE;

    ev->tenant = tenant;
    ev->tenant_len = tlen;
    ev->mailbox = buf;
    ev->mailbox_len = mout;
    ev->domain = dbuf;
    ev->domain_len = dout;
    ev->type = type;
    ev->time_ms = e->time_ms;
    return INGEST_OK;
}
