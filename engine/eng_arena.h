/* eng_arena.h — a concurrent bump allocator for engine objects.
 *
 * Contract: eng_arena_alloc() hands out zeroed, 16-byte aligned blocks from
 * large chunks; any thread may call it; it takes a lock only when a chunk
 * runs out (once per ENG_ARENA_CHUNK bytes), never per object. Blocks are
 * freed all at once by eng_arena_destroy(). The table's keys are small,
 * numerous and live as long as the table, so per-object malloc headers and
 * fragmentation would cost more than the keys themselves. (Counter series
 * live in the table's own pool of eng_big_alloc() chunks.)
 * Returns NULL when memory runs out or size exceeds a chunk.
 */
#ifndef ENG_ARENA_H
#define ENG_ARENA_H

#include <stddef.h>

#include "mp.h"

#define ENG_ARENA_CHUNK (4u << 20)

struct eng_arena;

int eng_arena_create(struct eng_arena **out);
void eng_arena_destroy(struct eng_arena *a);
void *eng_arena_alloc(struct eng_arena *a, size_t size);
/* Bytes handed out (not chunk capacity). */
size_t eng_arena_used(const struct eng_arena *a);

/* Large zeroed regions for arrays the hot path reads at random (key slots,
 * counter series, key chunks): mapped lazily (resident once touched) and,
 * where the kernel allows (transparent huge pages, "madvise" mode), backed
 * by 2 MiB pages, so that random access over hundreds of MiB does not miss
 * the TLB on nearly every load. NULL when memory runs out. Free with
 * eng_big_free() and the same size. Any thread. */
void *eng_big_alloc(size_t size);
void eng_big_free(void *p, size_t size);

#endif
