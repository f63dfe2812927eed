/* fuzz_decode.c — libFuzzer target for the ingest edge: ingest_decode_batch()
 * on arbitrary bytes, then ingest_validate_event() on every decoded event.
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
 * The unpacker itself is the system libprotobuf-c, which ASan does not
 * instrument, so ASan alone would miss its over-reads. Each input is
 * therefore decoded from the end of a buffer followed by a PROT_NONE page
 * (as in tests/test_ingest_validate.c): reading one byte too far faults.
 *
 * Built with -DFUZZ_WRITE_SEEDS instead, the file is a small program that
 * writes a seed corpus of real batches into the directory named by argv[1]
 * (see README.md). Not part of `make`: tests/fuzz is not globbed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ingest_validate.h"
#include "mp.h"
#include "eng_name.h"

#define FUZZ_NOW 1795000000000LL
#define FUZZ_RETENTION (35 * 24 * 3600 * 1000LL)

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

#define FUZZ_GUARDED_MAX (1024 * 1024) /* larger inputs are decoded in place */

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct ingest_limits lim = {.retention_ms = FUZZ_RETENTION,
                                             .future_ms = INGEST_FUTURE_MS_DEFAULT};
    Mailpulse__V1__EventBatch *b = NULL;
    int rc = ingest_decode_batch(fuzz__guarded(data, size), size, &b);
    if (rc != MP_OK) {
        if (rc != MP_ERR_INVAL || b != NULL)
            abort();
        return 0;
    }
    for (size_t i = 0; i < b->n_events; i++) {
        /* heap, exactly INGEST_NAMEBUF_LEN: ASan sees any write past it */
        char *buf = malloc(INGEST_NAMEBUF_LEN);
        if (!buf)
            abort();
        struct eng_event ev;
        int r = ingest_validate_event(b->events[i], FUZZ_NOW, &lim, buf, &ev);
        if (r == INGEST_OK)
            fuzz__check_accepted(b->events[i], buf, &ev, &lim);
        else if (r < INGEST_REJ_TENANT || r > INGEST_REJ_TIME_FUTURE)
            abort();
        free(buf);
    }
    ingest_batch_free(b);

    /* The workers' path: the same bytes through the arena decoder must
     * give the same verdict and the same events. */
    static struct ingest_arena *arena;
    if (!arena && ingest_arena_create(&arena) != MP_OK)
        abort();
    Mailpulse__V1__EventBatch *a = NULL, *m = NULL;
    const uint8_t *g = fuzz__guarded(data, size);
    int ra = ingest_decode_batch_arena(arena, g, size, &a);
    int rm = ingest_decode_batch(g, size, &m);
    if ((ra == MP_OK) != (rm == MP_OK))
        abort();
    if (ra == MP_OK) {
        if (a->n_events != m->n_events)
            abort();
        for (size_t i = 0; i < a->n_events; i++)
            if (strcmp(a->events[i]->tenant, m->events[i]->tenant) != 0 ||
                strcmp(a->events[i]->mailbox, m->events[i]->mailbox) != 0 ||
                strcmp(a->events[i]->recipient_domain, m->events[i]->recipient_domain) != 0 ||
                a->events[i]->type != m->events[i]->type ||
                a->events[i]->time_ms != m->events[i]->time_ms)
                abort();
        ingest_batch_free(m);
    }
    ingest_arena_reset(arena);
    return 0;
}

#ifdef FUZZ_WRITE_SEEDS
#include <stdio.h>

/* One seed: the batch of `n` events, written to dir/name. */
static int seeds__write(const char *dir, const char *name, Mailpulse__V1__Event *ev, size_t n)
{
    Mailpulse__V1__Event *evp[8];
    for (size_t i = 0; i < n; i++)
        evp[i] = &ev[i];
    Mailpulse__V1__EventBatch b = MAILPULSE__V1__EVENT_BATCH__INIT;
    b.n_events = n;
    b.events = evp;
    b.producer_id = "seed";
    b.sequence = 42;
    size_t len = mailpulse__v1__event_batch__get_packed_size(&b);
    uint8_t *wire = malloc(len ? len : 1);
    if (!wire)
        return -1;
    mailpulse__v1__event_batch__pack(&b, wire);
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(wire, 1, len, f) == len;
    if (f)
        ok = (fclose(f) == 0) && ok;
    free(wire);
    return ok ? 0 : -1;
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

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    const char *d = argv[1];
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
    rc |= seeds__write(d, "seed-one", one, 1);
    rc |= seeds__write(d, "seed-mixed", mixed, MP_ARRAY_LEN(mixed));
    rc |= seeds__write(d, "seed-all-fields", &full, 1);
    rc |= seeds__write(d, "seed-empty", NULL, 0);
    if (rc != 0)
        fprintf(stderr, "could not write the seeds into %s\n", d);
    return rc ? 1 : 0;
}
#endif
