/* fuzz_decode.c — libFuzzer target for the ingest edge, the whole per-frame
 * pipeline a worker runs: ingest_decode_shape() and the frame limits, then
 * ingest_decode_batch() and ingest_validate_event() on every decoded event,
 * and the same bytes through ingest_proc_frame() into a real engine table.
 *
 * Beyond "no crash, no sanitizer report", it checks the validator's promises
 * (ingest_validate.h) on every event it accepts, and aborts when one fails:
 * tenant 1..64 of [A-Za-z0-9._-]; mailbox <= 254 bytes, one '@', a 1..64-byte
 * printable local part, lower case, a host name after the '@'; domain a
 * lower-case host name <= 253 bytes, labels 1..63, no edge hyphens, no
 * trailing dot; both names inside the caller's buffer; normalising a
 * normalised name changes nothing; type 1..12; time inside the window.
 * Refusals must carry an event-level reason.
 *
 * The shape walk must agree with the unpacker: whatever unpacks has a shape,
 * with the same number of events and a producer_id no longer than the
 * longest the walk saw. The pipeline must refuse a frame over
 * FUZZ_MAX_FRAME, a batch over the default max_batch_events and a
 * producer_id over INGEST_PRODUCER_ID_MAX whole, without decoding an event
 * (its "events" figure stays put), and otherwise account for every event it
 * decoded: accepted + refused == decoded.
 *
 * The unpacker itself is the system libprotobuf-c, which ASan does not
 * instrument, so ASan alone would miss its over-reads. Each input is
 * therefore decoded from the end of a buffer followed by a PROT_NONE page
 * (as in tests/test_ingest_validate.c): reading one byte too far faults.
 *
 * Built with -DFUZZ_WRITE_SEEDS instead, the file is a small program that
 * writes the seed corpus (tests/fuzz/corpus/decode, `make fuzz-seeds`) into
 * the directory named by argv[1]: real batches, and the large ones that
 * reach each limit from both sides (see README.md). Not part of `make`:
 * tests/fuzz is not globbed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "eng_name.h"
#include "eng_table.h"
#include "ingest_validate.h"
#include "ingest_worker.h"
#include "mp.h"
#include "mp_log.h"
#include "../batch_equal.h"

#define FUZZ_NOW 1795000000000LL
#define FUZZ_RETENTION (35 * 24 * 3600 * 1000LL)
/* The pipeline's frame limit: 1 MiB (a legal ingest.max_frame_bytes), so a
 * committed seed of a little over 1 MiB reaches frame_too_large; the batch
 * and producer_id limits are the defaults. make fuzz's -max_len is above it. */
#define FUZZ_MAX_FRAME (1 << 20)
#define FUZZ_TABLE_KEYS 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz__is_lower_host(const char *s, size_t len)
{
    if (len < 1 || len > 253 || s[len - 1] == '.')
        return 0;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return 0;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
            if ((c == '-' && label == 0) || ++label > 63)
                return 0;
        } else {
            return 0;
        }
    }
    return s[len - 1] != '-';
}

/* Aborts (libFuzzer records the input) when an accepted event breaks the
 * contract. */
static void fuzz__check_accepted(const Mailpulse__V1__Event *e, const char *buf,
                                 const struct eng_event *ev, const struct ingest_limits *lim)
{
    if (ev->tenant != e->tenant || ev->tenant_len != strlen(e->tenant) ||
        !eng_name_valid(ev->tenant, ev->tenant_len))
        abort();
    if (ev->mailbox < buf || ev->mailbox + ev->mailbox_len >= buf + INGEST_NAMEBUF_LEN ||
        ev->domain < buf || ev->domain + ev->domain_len >= buf + INGEST_NAMEBUF_LEN)
        abort();
    if (ev->mailbox[ev->mailbox_len] != '\0' || ev->domain[ev->domain_len] != '\0')
        abort();

    /* mailbox: local '@' host */
    if (ev->mailbox_len < 3 || ev->mailbox_len > 254)
        abort();
    const char *at = memchr(ev->mailbox, '@', ev->mailbox_len);
    if (!at || memchr(at + 1, '@', ev->mailbox_len - (size_t)(at - ev->mailbox) - 1))
        abort();
    size_t local = (size_t)(at - ev->mailbox);
    if (local < 1 || local > 64)
        abort();
    for (size_t i = 0; i < local; i++) {
        unsigned char c = (unsigned char)ev->mailbox[i];
        if (c <= ' ' || c >= 0x7f || (c >= 'A' && c <= 'Z'))
            abort();
    }
    if (!fuzz__is_lower_host(at + 1, ev->mailbox_len - local - 1))
        abort();
    if (!fuzz__is_lower_host(ev->domain, ev->domain_len))
        abort();

    /* normalising is idempotent */
    char again[INGEST_NAMEBUF_LEN];
    size_t n = 0;
    if (!ingest_norm_mailbox(ev->mailbox, ev->mailbox_len, again, &n) ||
        n != ev->mailbox_len || memcmp(again, ev->mailbox, n) != 0)
        abort();
    if (!ingest_norm_domain(ev->domain, ev->domain_len, again, &n) || n != ev->domain_len ||
        memcmp(again, ev->domain, n) != 0)
        abort();

    if (ev->type < 1 || ev->type > 12 || ev->type != (int)e->type)
        abort();
    if (ev->time_ms != e->time_ms || ev->time_ms == 0 ||
        ev->time_ms < FUZZ_NOW - lim->retention_ms || ev->time_ms > FUZZ_NOW + lim->future_ms)
        abort();
}

/* Inputs up to -max_len (make fuzz: FUZZ_MAX_LEN) are copied flush against
 * a guard page; larger ones, never made by make fuzz, are decoded in place. */
#define FUZZ_GUARDED_MAX (2 * 1024 * 1024)

/* Copies the input flush against a PROT_NONE page. The mapping is made once
 * and reused: an mmap per input would cost more than the decode. */
static const uint8_t *fuzz__guarded(const uint8_t *data, size_t size)
{
    static uint8_t *region; /* FUZZ_GUARDED_MAX bytes, then the guard page */
    if (size > FUZZ_GUARDED_MAX)
        return data;
    if (!region) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        uint8_t *m = mmap(NULL, FUZZ_GUARDED_MAX + page, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED || mprotect(m + FUZZ_GUARDED_MAX, page, PROT_NONE) != 0)
            abort();
        region = m;
    }
    uint8_t *dst = region + FUZZ_GUARDED_MAX - size;
    if (size)
        memcpy(dst, data, size);
    return dst;
}

/* The functions below take `g`, the input as fuzz__guarded() placed it
 * (copied once per input: a 1 MiB seed copied per step would cost more than
 * the decode), and only read it. */

/* The decoder and the validator on their own, with the contract checks.
 * Returns the number of events the frame decodes to, or -1 when it does
 * not decode; *valid receives how many of them the validator accepts. */
static long fuzz__decode_validate(const uint8_t *g, size_t size,
                                  const struct ingest_limits *lim, long *valid)
{
    *valid = 0;
    Mailpulse__V1__EventBatch *b = NULL;
    int rc = ingest_decode_batch(g, size, &b);
    if (rc != MP_OK) {
        if (rc != MP_ERR_INVAL || b != NULL)
            abort();
        return -1;
    }
    /* whatever unpacks has a shape that matches it */
    struct ingest_frame_shape sh;
    if (ingest_decode_shape(g, size, &sh) != MP_OK ||
        sh.n_events != b->n_events || strlen(b->producer_id) > sh.producer_id_len)
        abort();
    for (size_t i = 0; i < b->n_events; i++) {
        /* heap, exactly INGEST_NAMEBUF_LEN: ASan sees any write past it */
        char *buf = malloc(INGEST_NAMEBUF_LEN);
        if (!buf)
            abort();
        struct eng_event ev;
        int r = ingest_validate_event(b->events[i], FUZZ_NOW, lim, buf, &ev);
        if (r == INGEST_OK) {
            fuzz__check_accepted(b->events[i], buf, &ev, lim);
            ++*valid;
        } else if ((r < INGEST_REJ_TENANT || r > INGEST_REJ_TIME_FUTURE) &&
                   r != INGEST_REJ_CAMPAIGN) /* the event-level reasons */
            abort();
        free(buf);
    }
    long n = (long)b->n_events;
    ingest_batch_free(b);
    return n;
}

/* The workers' decoder: the same bytes through the arena decoder must give
 * the same verdict and the same events. */
static void fuzz__arena_agrees(const uint8_t *g, size_t size)
{
    static struct ingest_arena *arena;
    if (!arena && ingest_arena_create(&arena) != MP_OK)
        abort();
    Mailpulse__V1__EventBatch *a = NULL, *m = NULL;
    int ra = ingest_decode_batch_arena(arena, g, size, &a);
    int rm = ingest_decode_batch(g, size, &m);
    if ((ra == MP_OK) != (rm == MP_OK))
        abort();
    if (ra == MP_OK) {
        if (batch_equal(a, m) != NULL)
            abort();
        ingest_batch_free(m);
    }
    ingest_arena_reset(arena);
}

/* The whole-frame reason the limits must give these bytes, INGEST_OK when
 * the frame is to be decoded; worked out here from the shape walk, apart
 * from the worker's own code. */
static int fuzz__expected_whole(const uint8_t *g, size_t size)
{
    struct ingest_frame_shape sh;
    if (size > FUZZ_MAX_FRAME)
        return INGEST_REJ_FRAME_LARGE;
    if (ingest_decode_shape(g, size, &sh) != MP_OK)
        return INGEST_OK; /* left to the decoder: bad_frame */
    if (sh.n_events > INGEST_MAX_BATCH_EVENTS_DEFAULT)
        return INGEST_REJ_BATCH_LARGE;
    if (sh.producer_id_len > INGEST_PRODUCER_ID_MAX)
        return INGEST_REJ_PRODUCER_ID;
    return INGEST_OK;
}

/* The worker's pipeline, limits first, into a real table (created once; it
 * fills up over a run, and then capacity refusals are part of the walk). */
static void fuzz__pipeline(const uint8_t *g, size_t size, long decoded, long valid,
                           const struct ingest_limits *lim)
{
    static struct eng_table *t;
    static struct ingest_proc *p;
    if (!t) {
        struct eng_table_opts to = {.max_keys = FUZZ_TABLE_KEYS, .retention_ms = FUZZ_RETENTION};
        struct ingest_limits pl = *lim;
        pl.max_frame_bytes = FUZZ_MAX_FRAME; /* max_batch_events: 0, the default */
        if (eng_table_create(&to, FUZZ_NOW, &t) != MP_OK || ingest_proc_create(t, &pl, &p) != MP_OK)
            abort();
        eng_thread_online(ingest_proc_thread(p));
    }
    int whole = fuzz__expected_whole(g, size);
    struct ingest_figures before, after;
    ingest_proc_figures(p, &before);
    uint32_t bad = UINT32_MAX;
    uint32_t ok = ingest_proc_frame(p, g, size, FUZZ_NOW, &bad);
    ingest_proc_figures(p, &after);
    if (after.frames != before.frames + 1 || after.bytes != before.bytes + size ||
        after.accepted != before.accepted + ok)
        abort();
    if (whole != INGEST_OK || decoded < 0) {
        /* refused whole, nothing decoded, one count of the right reason */
        int reason = whole != INGEST_OK ? whole : INGEST_REJ_BAD_FRAME;
        if (ok != 0 || bad != 0 || after.events != before.events ||
            after.rejected[reason] != before.rejected[reason] + 1)
            abort();
        return;
    }
    /* every decoded event accounted for; the table may refuse valid ones
     * (capacity), never count an invalid one */
    if (after.events != before.events + (uint64_t)decoded ||
        (uint64_t)ok + bad != (uint64_t)decoded || (long)ok > valid)
        abort();
    if (decoded == 0 &&
        after.rejected[INGEST_REJ_EMPTY_BATCH] != before.rejected[INGEST_REJ_EMPTY_BATCH] + 1)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct ingest_limits lim = {.retention_ms = FUZZ_RETENTION,
                                             .future_ms = INGEST_FUTURE_MS_DEFAULT};
    static int quiet;
    if (!quiet) {
        mp_log_set_level(MP_LOG_ERROR); /* the pipeline's rate-limited warnings */
        quiet = 1;
    }
    const uint8_t *g = fuzz__guarded(data, size);
    long valid;
    long decoded = fuzz__decode_validate(g, size, &lim, &valid);
    fuzz__arena_agrees(g, size);
    fuzz__pipeline(g, size, decoded, valid, &lim);
    return 0;
}

#ifdef FUZZ_WRITE_SEEDS
#include <stdio.h>

static int seeds__file(const char *dir, const char *name, const uint8_t *wire, size_t len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(wire, 1, len, f) == len;
    if (f)
        ok = (fclose(f) == 0) && ok;
    return ok ? 0 : -1;
}

/* One seed: the batch of `n` events (given as one array), written to
 * dir/name. */
static int seeds__batch(const char *dir, const char *name, const char *producer,
                        Mailpulse__V1__Event *ev, size_t n)
{
    Mailpulse__V1__Event **evp = calloc(n ? n : 1, sizeof(*evp));
    if (!evp)
        return -1;
    for (size_t i = 0; i < n; i++)
        evp[i] = &ev[i];
    Mailpulse__V1__EventBatch b = MAILPULSE__V1__EVENT_BATCH__INIT;
    b.n_events = n;
    b.events = evp;
    b.producer_id = (char *)producer;
    b.sequence = 42;
    size_t len = mailpulse__v1__event_batch__get_packed_size(&b);
    uint8_t *wire = malloc(len ? len : 1);
    int rc = -1;
    if (wire) {
        mailpulse__v1__event_batch__pack(&b, wire);
        rc = seeds__file(dir, name, wire, len);
    }
    free(wire);
    free(evp);
    return rc;
}

static Mailpulse__V1__Event seeds__event(const char *tenant, const char *mailbox,
                                         const char *domain, int type, int64_t time_ms)
{
    Mailpulse__V1__Event e = MAILPULSE__V1__EVENT__INIT;
    e.tenant = (char *)tenant;
    e.mailbox = (char *)mailbox;
    e.recipient_domain = (char *)domain;
    e.type = (Mailpulse__V1__EventType)type;
    e.time_ms = time_ms;
    return e;
}

/* A string of `n` copies of c (the caller frees it). */
static char *seeds__run(char c, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memset(s, c, n);
        s[n] = '\0';
    }
    return s;
}

/* `n` copies of one event. */
static int seeds__many(const char *dir, const char *name, Mailpulse__V1__Event e, size_t n)
{
    Mailpulse__V1__Event *v = malloc(n * sizeof(*v));
    if (!v)
        return -1;
    for (size_t i = 0; i < n; i++)
        v[i] = e;
    int rc = seeds__batch(dir, name, "seed", v, n);
    free(v);
    return rc;
}

/* The small seeds: real batches, good and bad events, every field. */
static int seeds__small(const char *d)
{
    Mailpulse__V1__Event one[] = {
        seeds__event("acme", "alice@example.com", "gmail.com", 1, FUZZ_NOW)};
    Mailpulse__V1__Event mixed[] = {
        seeds__event("acme", "Alice@Example.COM", "Gmail.COM.", 2, FUZZ_NOW - 60000),
        seeds__event("globex", "bob@mail-1.globex.io", "yahoo.co.uk", 12, FUZZ_NOW + 300000),
        seeds__event("ac me", "no-at-sign", "bad_domain", 0, 0),
        seeds__event("acme", "a@b@c", "-x-.com", -1, FUZZ_NOW - FUZZ_RETENTION - 1),
    };
    Mailpulse__V1__Event full = seeds__event("t", "x@y", "a..b", 13, FUZZ_NOW);
    full.event_id = "evt-1";
    full.campaign = "spring";
    full.sent_time_ms = FUZZ_NOW - 1000;
    int rc = 0;
    rc |= seeds__batch(d, "seed-one", "seed", one, 1);
    rc |= seeds__batch(d, "seed-mixed", "seed", mixed, MP_ARRAY_LEN(mixed));
    rc |= seeds__batch(d, "seed-all-fields", "seed", &full, 1);
    rc |= seeds__batch(d, "seed-empty", "seed", NULL, 0);
    /* two producer_id copies, the long one first: the unpacker keeps the
     * last, the shape walk the longest (257 bytes, over the limit) */
    uint8_t two[2 + 257 + 2 + 1 + 2];
    size_t n = 0;
    two[n++] = 0x12; /* field 2, length-delimited */
    two[n++] = 0x81; /* 257, varint */
    two[n++] = 0x02;
    memset(two + n, 'p', 257);
    n += 257;
    two[n++] = 0x12;
    two[n++] = 0x01;
    two[n++] = 'q';
    two[n++] = 0x0a; /* one empty event */
    two[n++] = 0x00;
    rc |= seeds__file(d, "seed-producer-id-twice", two, n);
    /* a NUL inside the names on the wire */
    Mailpulse__V1__Event nul = seeds__event("acme", "a@b.example", "b.example", 1, FUZZ_NOW);
    Mailpulse__V1__EventBatch b = MAILPULSE__V1__EVENT_BATCH__INIT;
    Mailpulse__V1__Event *np = &nul;
    b.n_events = 1;
    b.events = &np;
    uint8_t wire[128];
    size_t len = mailpulse__v1__event_batch__pack(&b, wire);
    for (size_t i = 0; i + 1 < len; i++)
        if (wire[i] == 'b' && wire[i + 1] == '.')
            wire[i] = '\0';
    rc |= seeds__file(d, "seed-nul-in-names", wire, len);
    return rc;
}

/* The large seeds, each on both sides of a limit: max_batch_events (the
 * default, 10,000: empty events of two bytes each, and 1,000 valid ones),
 * INGEST_PRODUCER_ID_MAX (256 and 257 bytes, and 300 KB), FUZZ_MAX_FRAME
 * (1 MiB: one frame of exactly 1 MiB with a long campaign, one with a
 * 1 MiB mailbox, just over). About 2.4 MB in all. */
static int seeds__large(const char *d)
{
    int rc = 0;
    Mailpulse__V1__Event empty = MAILPULSE__V1__EVENT__INIT;
    rc |= seeds__many(d, "large-batch-at-limit", empty, INGEST_MAX_BATCH_EVENTS_DEFAULT);
    rc |= seeds__many(d, "large-batch-over-limit", empty, INGEST_MAX_BATCH_EVENTS_DEFAULT + 1);
    rc |= seeds__many(d, "large-batch-1000-valid",
                      seeds__event("t", "a@b.example", "b.example", 1, FUZZ_NOW), 1000);
    Mailpulse__V1__Event one = seeds__event("acme", "a@b.example", "b.example", 2, FUZZ_NOW);
    char *p256 = seeds__run('p', INGEST_PRODUCER_ID_MAX);
    char *p257 = seeds__run('p', INGEST_PRODUCER_ID_MAX + 1);
    char *p300k = seeds__run('p', 300 * 1000);
    char *big = seeds__run('m', FUZZ_MAX_FRAME);
    if (!p256 || !p257 || !p300k || !big) {
        rc = -1;
        goto out;
    }
    rc |= seeds__batch(d, "large-producer-id-256", p256, &one, 1);
    rc |= seeds__batch(d, "large-producer-id-257", p257, &one, 1);
    rc |= seeds__batch(d, "large-producer-id-300k", p300k, &one, 1);
    /* exactly FUZZ_MAX_FRAME bytes: the campaign fills what the rest leaves */
    Mailpulse__V1__Event at = one;
    at.campaign = big + 128; /* short by more than the rest of the frame... */
    Mailpulse__V1__Event *atp = &at;
    Mailpulse__V1__EventBatch b = MAILPULSE__V1__EVENT_BATCH__INIT;
    b.n_events = 1;
    b.events = &atp;
    b.producer_id = "seed";
    b.sequence = 42; /* as seeds__batch writes it */
    size_t len = mailpulse__v1__event_batch__get_packed_size(&b);
    if (len > FUZZ_MAX_FRAME) {
        rc = -1;
        goto out;
    }
    at.campaign -= FUZZ_MAX_FRAME - len; /* ...then lengthened to the byte */
    len = mailpulse__v1__event_batch__get_packed_size(&b);
    if (len != FUZZ_MAX_FRAME) {
        rc = -1;
        goto out;
    }
    rc |= seeds__batch(d, "large-frame-at-limit", "seed", &at, 1);
    Mailpulse__V1__Event over = one;
    over.mailbox = big; /* 1 MiB of mailbox: the frame is over */
    rc |= seeds__batch(d, "large-frame-over-limit", "seed", &over, 1);
out:
    free(p256);
    free(p257);
    free(p300k);
    free(big);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    int rc = seeds__small(argv[1]) | seeds__large(argv[1]);
    if (rc != 0)
        fprintf(stderr, "could not write the seeds into %s\n", argv[1]);
    return rc ? 1 : 0;
}
#endif
