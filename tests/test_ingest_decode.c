/* test_ingest_decode.c — ingest/ingest_decode: frames to batches, and the
 * decoder's per-thread arena.
 *
 * The arena decoder gives the same batch as the malloc one; its memory is
 * 16-byte aligned; a reset keeps the newest block, so the next frame reuses
 * the same memory; a frame larger than a block decodes whole; a malformed
 * frame is refused by both, and a NUL inside a name is blanked by both.
 * The arena decoder is the workers' own wire reader, not protobuf-c: it must
 * agree with protobuf-c's unpack field for field and verdict for verdict, on
 * hand-made edges of the wire format, on 60,000 mutations of a frame that
 * uses every field, and on the fuzz corpus (tests/fuzz/corpus/decode).
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <stdio.h>

#include "batch_equal.h"
#include "ingest_decode.h"
#include "mp.h"
#include "check_main.h"

/* One frame of n events, tenant "acme", mailboxes of `mlen` bytes. */
static uint8_t *frame(size_t n, size_t mlen, size_t *len)
{
    Mailpulse__V1__Event *ev = calloc(n, sizeof(*ev));
    Mailpulse__V1__Event **evp = calloc(n, sizeof(*evp));
    char *mb = malloc(mlen + 1);
    ck_assert(ev && evp && mb);
    memset(mb, 'm', mlen);
    mb[mlen] = '\0';
    for (size_t i = 0; i < n; i++) {
        mailpulse__v1__event__init(&ev[i]);
        ev[i].tenant = "acme";
        ev[i].mailbox = mb;
        ev[i].recipient_domain = "gmail.com";
        ev[i].type = MAILPULSE__V1__EVENT_TYPE__EVENT_TYPE_SENT;
        ev[i].time_ms = 1795000000000LL + (int64_t)i;
        evp[i] = &ev[i];
    }
    Mailpulse__V1__EventBatch b = MAILPULSE__V1__EVENT_BATCH__INIT;
    b.n_events = n;
    b.events = evp;
    *len = mailpulse__v1__event_batch__get_packed_size(&b);
    uint8_t *out = malloc(*len);
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(mailpulse__v1__event_batch__pack(&b, out), *len);
    free(mb);
    free(evp);
    free(ev);
    return out;
}

static void same_batch(const Mailpulse__V1__EventBatch *a, const Mailpulse__V1__EventBatch *m)
{
    ck_assert_uint_eq(a->n_events, m->n_events);
    for (size_t i = 0; i < a->n_events; i++) {
        ck_assert_str_eq(a->events[i]->tenant, m->events[i]->tenant);
        ck_assert_str_eq(a->events[i]->mailbox, m->events[i]->mailbox);
        ck_assert_str_eq(a->events[i]->recipient_domain, m->events[i]->recipient_domain);
        ck_assert_int_eq(a->events[i]->type, m->events[i]->type);
        ck_assert_int_eq(a->events[i]->time_ms, m->events[i]->time_ms);
    }
}

START_TEST(arena_matches_malloc_and_reuses)
{
    struct ingest_arena *ar;
    ck_assert_int_eq(ingest_arena_create(&ar), MP_OK);
    size_t len;
    uint8_t *w = frame(100, 20, &len);
    Mailpulse__V1__EventBatch *a, *m, *again;
    ck_assert_int_eq(ingest_decode_batch_arena(ar, w, len, &a), MP_OK);
    ck_assert_int_eq(ingest_decode_batch(w, len, &m), MP_OK);
    same_batch(a, m);
    ck_assert_uint_eq((uintptr_t)a % 16, 0);
    ck_assert_uint_eq((uintptr_t)a->events % 16, 0);
    ck_assert_uint_eq((uintptr_t)a->events[1] % 16, 0);
    ingest_arena_reset(ar);
    /* the steady state: the next frame lands in the same block, at its start */
    ck_assert_int_eq(ingest_decode_batch_arena(ar, w, len, &again), MP_OK);
    ck_assert_ptr_eq(again, a);
    same_batch(again, m);
    ingest_batch_free(m);
    ingest_arena_destroy(ar);
    free(w);
}
END_TEST

/* A frame needing more than one 256 KiB block, and one string larger than a
 * block: decoded whole; after a reset the arena still works. */
START_TEST(arena_grows_past_a_block)
{
    struct ingest_arena *ar;
    ck_assert_int_eq(ingest_arena_create(&ar), MP_OK);
    size_t len1, len2;
    uint8_t *many = frame(5000, 200, &len1), *huge = frame(2, 300 * 1024, &len2);
    Mailpulse__V1__EventBatch *a, *m;
    for (int round = 0; round < 2; round++) {
        ck_assert_int_eq(ingest_decode_batch_arena(ar, many, len1, &a), MP_OK);
        ck_assert_int_eq(ingest_decode_batch(many, len1, &m), MP_OK);
        same_batch(a, m);
        ingest_batch_free(m);
        ck_assert_int_eq(ingest_decode_batch_arena(ar, huge, len2, &a), MP_OK);
        ck_assert_uint_eq(strlen(a->events[1]->mailbox), 300 * 1024);
        ingest_arena_reset(ar);
    }
    ingest_arena_destroy(ar);
    ingest_arena_destroy(NULL);
    free(many);
    free(huge);
}
END_TEST

START_TEST(both_refuse_and_blank_alike)
{
    struct ingest_arena *ar;
    ck_assert_int_eq(ingest_arena_create(&ar), MP_OK);
    size_t len;
    uint8_t *w = frame(3, 8, &len);
    Mailpulse__V1__EventBatch *a = NULL, *m = NULL;
    /* cut short: malformed for both */
    ck_assert_int_eq(ingest_decode_batch_arena(ar, w, len - 1, &a), MP_ERR_INVAL);
    ck_assert_int_eq(ingest_decode_batch(w, len - 1, &m), MP_ERR_INVAL);
    /* a NUL in the second event's mailbox ("mmmmmmmm" -> "mm\0mmmmm") */
    uint8_t *at = memmem(w, len, "mmmmmmmm", 8);
    ck_assert_ptr_nonnull(at);
    at = memmem(at + 8, len - (size_t)(at + 8 - w), "mmmmmmmm", 8);
    ck_assert_ptr_nonnull(at);
    at[2] = 0;
    ck_assert_int_eq(ingest_decode_batch_arena(ar, w, len, &a), MP_OK);
    ck_assert_int_eq(ingest_decode_batch(w, len, &m), MP_OK);
    ck_assert_str_eq(a->events[1]->mailbox, "");
    ck_assert_str_eq(m->events[1]->mailbox, "");
    ck_assert_str_eq(a->events[0]->mailbox, "mmmmmmmm");
    same_batch(a, m);
    ingest_batch_free(m);
    ingest_arena_destroy(ar);
    free(w);
}
END_TEST

/* The shape is read off the wire without unpacking: the event count,
 * the longest producer_id (a repeated field counts its longest copy), and
 * MP_ERR_INVAL exactly where the top level does not parse. */
START_TEST(shape_counts_without_unpacking)
{
    struct ingest_frame_shape sh = {.n_events = 99, .producer_id_len = 99};
    size_t len;
    uint8_t *w = frame(1234, 20, &len);
    ck_assert_int_eq(ingest_decode_shape(w, len, &sh), MP_OK);
    ck_assert_uint_eq(sh.n_events, 1234);
    ck_assert_uint_eq(sh.producer_id_len, 0);
    /* a truncated frame: the last event's length runs past the end */
    ck_assert_int_eq(ingest_decode_shape(w, len - 1, &sh), MP_ERR_INVAL);
    ck_assert_uint_eq(sh.n_events, 1234); /* untouched on refusal */
    free(w);
    ck_assert_int_eq(ingest_decode_shape("", 0, &sh), MP_OK);
    ck_assert_uint_eq(sh.n_events, 0);
    /* producer_id "ab", then "abcd", an unknown varint field 9 and sequence */
    static const uint8_t pid[] = {0x12, 2, 'a', 'b', 0x12, 4, 'a', 'b', 'c', 'd', 0x48, 0x7f,
                                  0x18, 0x05, 0x0a, 0x00};
    ck_assert_int_eq(ingest_decode_shape(pid, sizeof(pid), &sh), MP_OK);
    ck_assert_uint_eq(sh.producer_id_len, 4);
    ck_assert_uint_eq(sh.n_events, 1);
    /* what the dispatcher and the dedup read: the last copy, the sequence */
    ck_assert_uint_eq(sh.pid_len, 4);
    ck_assert_int_eq(memcmp(sh.pid, "abcd", 4), 0);
    ck_assert_uint_eq(sh.sequence, 5);
    static const uint8_t last[] = {0x12, 4, 'w', 'x', 'y', 'z', 0x18, 0x09, 0x12, 1, 'q'};
    ck_assert_int_eq(ingest_decode_shape(last, sizeof(last), &sh), MP_OK);
    ck_assert_uint_eq(sh.producer_id_len, 4); /* the longest, for the limit */
    ck_assert_uint_eq(sh.pid_len, 1);         /* the one the unpack keeps */
    ck_assert_int_eq(sh.pid[0], 'q');
    ck_assert_uint_eq(sh.sequence, 9);
    ck_assert_int_eq(ingest_decode_shape("", 0, &sh), MP_OK);
    ck_assert_ptr_null(sh.pid);
    ck_assert_uint_eq(sh.sequence, 0);
    static const uint8_t bad_wt[] = {0x0f, 0x00}, bad_varint[] = {0x18, 0xff};
    ck_assert_int_eq(ingest_decode_shape(bad_wt, sizeof(bad_wt), &sh), MP_ERR_INVAL);
    ck_assert_int_eq(ingest_decode_shape(bad_varint, sizeof(bad_varint), &sh), MP_ERR_INVAL);
}
END_TEST

/* A frame whose event array outgrows a block leaves an outsized block at
 * the head; the reset frees it (the memory of a large frame returns), and
 * the arena still decodes afterwards. */
START_TEST(arena_drops_outsized_block)
{
    struct ingest_arena *ar;
    ck_assert_int_eq(ingest_arena_create(&ar), MP_OK);
    size_t len;
    uint8_t *w = frame(40000, 1, &len); /* 40,000 pointers: 320 KB in one allocation */
    Mailpulse__V1__EventBatch *b;
    ck_assert_int_eq(ingest_decode_batch_arena(ar, w, len, &b), MP_OK);
    ck_assert_uint_eq(b->n_events, 40000);
    ingest_arena_reset(ar);
    ck_assert_int_eq(ingest_decode_batch_arena(ar, w, len, &b), MP_OK);
    ck_assert_uint_eq(b->n_events, 40000);
    ck_assert_str_eq(b->events[39999]->tenant, "acme");
    ingest_arena_reset(ar);
    ingest_arena_reset(ar); /* an empty arena resets too */
    free(w);
    ingest_arena_destroy(ar);
}
END_TEST


/* Both decoders on the same bytes: the same verdict, the same fields. */
static void agree(struct ingest_arena *ar, const void *buf, size_t len, const char *what)
{
    Mailpulse__V1__EventBatch *a = NULL, *m = NULL;
    int ra = ingest_decode_batch_arena(ar, buf, len, &a);
    int rm = ingest_decode_batch(buf, len, &m);
    ck_assert_msg((ra == MP_OK) == (rm == MP_OK), "%s (%zu bytes): arena %d, protobuf-c %d", what,
                  len, ra, rm);
    if (rm == MP_OK) {
        const char *diff = batch_equal(a, m);
        ck_assert_msg(diff == NULL, "%s (%zu bytes): %s differs", what, len, diff);
        ingest_batch_free(m);
    }
    ingest_arena_reset(ar);
}

/* Every field of both messages, a repeated producer_id and sequence, and
 * unknown fields of every wire type at both levels. */
static uint8_t *rich_frame(size_t *len)
{
    Mailpulse__V1__Event ev[3], *evp[3];
    for (int i = 0; i < 3; i++) {
        mailpulse__v1__event__init(&ev[i]);
        ev[i].tenant = "acme";
        ev[i].mailbox = i == 1 ? "sales@acme.example" : "ops@acme.example";
        ev[i].recipient_domain = "gmail.com";
        ev[i].type = (Mailpulse__V1__EventType)(i + 3);
        ev[i].time_ms = 1795000000000LL + i;
        ev[i].event_id = i == 2 ? "" : "ev-1";
        ev[i].campaign = "spring";
        ev[i].sent_time_ms = 1794999999000LL;
        evp[i] = &ev[i];
    }
    Mailpulse__V1__EventBatch b = MAILPULSE__V1__EVENT_BATCH__INIT;
    b.n_events = 3;
    b.events = evp;
    b.producer_id = "p-1";
    b.sequence = 300;
    size_t n = mailpulse__v1__event_batch__get_packed_size(&b);
    static const uint8_t extra[] = {
        0x48, 0x96, 0x01,                         /* unknown field 9, varint */
        0x51, 1, 2, 3, 4, 5, 6, 7, 8,             /* field 10, 64-bit */
        0x5a, 2, 'x', 'y',                        /* field 11, length-prefixed */
        0x65, 1, 2, 3, 4,                         /* field 12, 32-bit */
        0x12, 3, 'p', '-', '2',                   /* producer_id again: the last wins */
        0x18, 0x07,                               /* sequence again */
        0x0a, 14, 0x0a, 3, 'a', 0, 'b', 0x0a, 1, 'c', /* tenant: a NUL in one copy */
        0x48, 0x01, 0x20, 0x0b, 0x28, 0x05};      /* unknown 9, type 11, time_ms 5 */
    uint8_t *out = malloc(n + sizeof(extra));
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(mailpulse__v1__event_batch__pack(&b, out), n);
    memcpy(out + n, extra, sizeof(extra));
    *len = n + sizeof(extra);
    return out;
}

START_TEST(wire_reader_agrees_on_edges)
{
    struct ingest_arena *ar;
    ck_assert_int_eq(ingest_arena_create(&ar), MP_OK);
    static const struct { const char *what; uint8_t b[24]; size_t n; } edge[] = {
        {"empty", {0}, 0},
        {"tag of field 0", {0x00}, 1},
        {"tag of field 0 with a value", {0x00, 0x00}, 2},
        {"tag of field 0, wire type 7", {0x07}, 1},
        {"two-byte tag of field 0 (an unknown field)", {0x80, 0x00, 0x00}, 3},
        {"non-minimal tag of events", {0x8a, 0x00, 0x00}, 3},
        {"six-byte tag", {0x8a, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00}, 7},
        {"five-byte tag, top bits", {0xfa, 0xff, 0xff, 0xff, 0x0f, 0x00}, 6},
        {"events as a varint", {0x08, 0x01}, 2},
        {"producer_id as a varint", {0x10, 0x01}, 2},
        {"sequence length-prefixed", {0x1a, 0x00}, 2},
        {"start group", {0x0b}, 1},
        {"end group", {0x1c}, 1},
        {"wire type 6", {0x0e}, 1},
        {"wire type 7", {0x0f}, 1},
        {"sequence, 11-byte varint", {0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 12},
        {"sequence, 10-byte varint past 64 bits", {0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, 11},
        {"length prefix of 6 bytes", {0x12, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00, 'a'}, 8},
        {"length prefix of 5 bytes", {0x12, 0x81, 0x80, 0x80, 0x80, 0x00, 'a'}, 7},
        {"length over INT_MAX", {0x12, 0xff, 0xff, 0xff, 0xff, 0x0f}, 6},
        {"length past the end", {0x12, 0x05, 'a'}, 3},
        {"64-bit cut short", {0x09, 1, 2, 3}, 4},
        {"32-bit cut short", {0x0d, 1, 2}, 3},
        {"type of 10 bytes", {0x0a, 11, 0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 13},
        {"time_ms negative", {0x0a, 11, 0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 13},
        {"tenant as a varint", {0x0a, 2, 0x08, 0x01}, 4},
        {"type length-prefixed", {0x0a, 2, 0x22, 0x00}, 4},
        {"campaign as 32-bit", {0x0a, 5, 0x3d, 1, 2, 3, 4}, 7},
        {"event with unknown 64-bit", {0x0a, 9, 0x49, 1, 2, 3, 4, 5, 6, 7, 8}, 11},
        {"event cut inside", {0x0a, 3, 0x0a, 5, 'a'}, 5},
        {"NUL then clean copy", {0x0a, 8, 0x12, 2, 'a', 0, 0x12, 2, 'b', 'c'}, 10},
        {"NUL in event_id (kept)", {0x0a, 4, 0x32, 2, 'a', 0}, 6},
        {"sequence then events", {0x18, 0x01, 0x0a, 0x00, 0x18, 0x02}, 6},
    };
    for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
        agree(ar, edge[i].b, edge[i].n, edge[i].what);
    size_t len;
    uint8_t *w = rich_frame(&len);
    Mailpulse__V1__EventBatch *a;
    ck_assert_int_eq(ingest_decode_batch_arena(ar, w, len, &a), MP_OK);
    ck_assert_uint_eq(a->n_events, 4);
    ck_assert_str_eq(a->producer_id, "p-2");
    ck_assert_uint_eq(a->sequence, 7);
    ck_assert_str_eq(a->events[1]->mailbox, "sales@acme.example");
    ck_assert_str_eq(a->events[2]->campaign, "spring");
    ck_assert_int_eq(a->events[2]->sent_time_ms, 1794999999000LL);
    ck_assert_str_eq(a->events[3]->tenant, "");
    ck_assert_int_eq(a->events[3]->type, 11);
    ingest_arena_reset(ar);
    agree(ar, w, len, "rich frame");
    free(w);
    ingest_arena_destroy(ar);
}
END_TEST

/* One, two or three bytes of the rich frame replaced, or the frame cut,
 * 60,000 times (a fixed seed: a failure reproduces). */
START_TEST(wire_reader_agrees_on_mutations)
{
    struct ingest_arena *ar;
    ck_assert_int_eq(ingest_arena_create(&ar), MP_OK);
    size_t len;
    uint8_t *w = rich_frame(&len), *m = malloc(len);
    ck_assert_ptr_nonnull(m);
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    int decoded = 0;
    for (int round = 0; round < 60000; round++) {
        memcpy(m, w, len);
        size_t n = len;
        int k = 1 + round % 3;
        for (int j = 0; j < k; j++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            m[(x >> 8) % len] = (uint8_t)x;
        }
        if (round % 7 == 0)
            n = (size_t)(x >> 20) % (len + 1);
        Mailpulse__V1__EventBatch *b = NULL;
        if (ingest_decode_batch(m, n, &b) == MP_OK) {
            decoded++;
            ingest_batch_free(b);
        }
        agree(ar, m, n, "mutation");
    }
    /* the walk must cover both verdicts, or it proves little */
    ck_assert_int_gt(decoded, 1000);
    ck_assert_int_lt(decoded, 59000);
    free(m);
    free(w);
    ingest_arena_destroy(ar);
}
END_TEST

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    uint8_t *b = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

START_TEST(wire_reader_agrees_on_fuzz_corpus)
{
    const char *src = getenv("MP_SRC_DIR");
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/decode", src ? src : ".");
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s (set MP_SRC_DIR)", dir);
    struct ingest_arena *ar;
    ck_assert_int_eq(ingest_arena_create(&ar), MP_OK);
    int files = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096 + 256];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        size_t len;
        uint8_t *b = read_all(path, &len);
        agree(ar, b, len, de->d_name);
        free(b);
        files++;
    }
    closedir(d);
    ck_assert_int_ge(files, 10);
    ingest_arena_destroy(ar);
}
END_TEST

/* 60 s: the 60,000 mutations of wire_reader_agrees_on_mutations take about
 * 4 s under ThreadSanitizer, past Check's default of 4 (a CI run timed out) */
CHECK_SUITE("ingest_decode", 60, NULL, NULL, arena_matches_malloc_and_reuses,
            arena_grows_past_a_block, both_refuse_and_blank_alike, shape_counts_without_unpacking,
            arena_drops_outsized_block, wire_reader_agrees_on_edges,
            wire_reader_agrees_on_mutations, wire_reader_agrees_on_fuzz_corpus)
