/* test_ingest_decode.c — ingest/ingest_decode: frames to batches, and the
 * decoder's per-thread arena.
 *
 * The arena decoder gives the same batch as the malloc one; its memory is
 * 16-byte aligned; a reset keeps the newest block, so the next frame reuses
 * the same memory; a frame larger than a block decodes whole; a malformed
 * frame is refused by both, and a NUL inside a name is blanked by both.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

CHECK_SUITE("ingest_decode", 0, NULL, NULL, arena_matches_malloc_and_reuses,
            arena_grows_past_a_block, both_refuse_and_blank_alike, shape_counts_without_unpacking,
            arena_drops_outsized_block)
