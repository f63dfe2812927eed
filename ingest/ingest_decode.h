/* ingest_decode.h — the edge's first step: a wire frame to an EventBatch.
 *
 * Contract: ingest_decode_batch() unpacks one frame with protobuf-c's
 * default allocator (malloc; free the batch with ingest_batch_free()).
 * ingest_decode_batch_arena() reads it into a per-thread bump arena
 * instead, with a reader written for EventBatch (not protobuf-c's generic
 * unpack: one walk per level, one block for the events, one copy per name)
 * that gives the same batch and the same verdict as ingest_decode_batch()
 * on every input (ingest_decode.c lists the wire rules it follows;
 * tests/test_ingest_decode.c and tests/fuzz/fuzz_decode.c compare the two).
 * The ingest workers decode every frame into theirs and reset it
 * afterwards, which takes malloc/free off the hot path; such a batch lives
 * until ingest_arena_reset() and is never passed to ingest_batch_free().
 * Unknown fields are skipped, not kept (protobuf-c keeps them; nothing
 * reads them). One arena per thread; the functions themselves are
 * reentrant, any thread.
 *
 * A frame that is not a well-formed EventBatch is "bad input"
 * (MP_ERR_INVAL): a frame is always whole on ZeroMQ, so there is no "need
 * more" case at this layer. A NUL byte inside tenant, mailbox or
 * recipient_domain on the wire makes that field invalid: the decoders blank
 * such a field (protobuf-c would otherwise hand over the name cut short at
 * the NUL), and validation (ingest_validate.h) refuses it with that field's
 * reason.
 *
 * Returns: MP_OK, MP_ERR_INVAL (malformed bytes; with an arena, what the
 * reader allocated goes at the next reset), MP_ERR_NOMEM (arena create, or
 * the arena cannot grow).
 */
#ifndef INGEST_DECODE_H
#define INGEST_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "mailpulse.pb-c.h"
#include "mp.h"

/* The shape of a frame from its top-level fields alone, without unpacking
 * (protobuf-c allocates per field, so a batch's size is known before any
 * allocation): the number of events (field 1) and the longest producer_id
 * (field 2; a repeated field counts its longest copy). MP_OK, or
 * MP_ERR_INVAL when the top level does not parse (the unpack would refuse
 * it too). Reentrant, no allocation.
 * Also what the dispatcher and the dedup need without a decode: the
 * producer_id the unpack would keep (the last copy; `pid` points into buf,
 * NULL when absent) and the sequence (field 3, last copy; 0 when absent). */
struct ingest_frame_shape {
    size_t n_events;
    size_t producer_id_len;
    const char *pid;
    size_t pid_len;
    uint64_t sequence;
};
int ingest_decode_shape(const void *buf, size_t len, struct ingest_frame_shape *out);

int ingest_decode_batch(const void *buf, size_t len, Mailpulse__V1__EventBatch **out);
void ingest_batch_free(Mailpulse__V1__EventBatch *b);

/* The arena: blocks of 256 KiB (or one block of the request's size when a
 * single allocation is larger), 16-byte aligned allocations; reset keeps the
 * newest block for the next frame and frees the others. */
struct ingest_arena;
int ingest_arena_create(struct ingest_arena **out);
void ingest_arena_destroy(struct ingest_arena *a);
void ingest_arena_reset(struct ingest_arena *a);
int ingest_decode_batch_arena(struct ingest_arena *a, const void *buf, size_t len,
                              Mailpulse__V1__EventBatch **out);

#endif
