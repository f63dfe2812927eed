/* eng_arena.c — lock-free bump allocation over mutex-guarded chunks (see eng_arena.h). */
#include "eng_arena.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "mp_atomic.h"

struct chunk {
    struct chunk *prev;
    mp_atomic_u64 used; /* bytes claimed, may overshoot the size on the last claim */
    char *mem;
};

struct eng_arena {
    MP_ATOMIC(struct chunk *) cur;
    pthread_mutex_t grow; /* taken only to add a chunk */
    mp_atomic_u64 used;
};

#define BIG_PAGE (2u << 20)

void *eng_big_alloc(size_t size)
{
    if (size < BIG_PAGE) /* too small for a huge page: plain zeroed memory */
        return calloc(1, size);
    /* Over-map by one huge page and trim, so the region starts on a 2 MiB
     * boundary (the kernel backs only aligned 2 MiB ranges with huge pages). */
    size_t len = (size + BIG_PAGE - 1) & ~(size_t)(BIG_PAGE - 1);
    char *raw = mmap(NULL, len + BIG_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    char *p = (char *)(((uintptr_t)raw + BIG_PAGE - 1) & ~(uintptr_t)(BIG_PAGE - 1));
    if (p > raw)
        munmap(raw, (size_t)(p - raw));
    if (raw + BIG_PAGE > p)
        munmap(p + len, (size_t)(raw + BIG_PAGE - p));
#ifdef MADV_HUGEPAGE
    madvise(p, len, MADV_HUGEPAGE); /* a hint: without THP, 4 KiB pages */
#endif
    return p;
}

void eng_big_free(void *p, size_t size)
{
    if (!p)
        return;
    if (size < BIG_PAGE) {
        free(p);
        return;
    }
    munmap(p, (size + BIG_PAGE - 1) & ~(size_t)(BIG_PAGE - 1));
}

static struct chunk *arena__chunk(struct chunk *prev)
{
    struct chunk *c = calloc(1, sizeof(*c));
    /* fresh zero pages: resident only once touched, so RSS follows what
     * is actually handed out (in huge pages where the kernel allows) */
    char *mem = c ? eng_big_alloc(ENG_ARENA_CHUNK) : NULL;
    if (!mem) {
        free(c);
        return NULL;
    }
    c->prev = prev;
    c->mem = mem;
    return c;
}

int eng_arena_create(struct eng_arena **out)
{
    struct eng_arena *a = calloc(1, sizeof(*a));
    struct chunk *c = a ? arena__chunk(NULL) : NULL;
    if (!c) {
        free(a);
        return MP_ERR_NOMEM;
    }
    pthread_mutex_init(&a->grow, NULL);
    mp_atomic_init(&a->cur, c);
    *out = a;
    return MP_OK;
}

void eng_arena_destroy(struct eng_arena *a)
{
    if (!a)
        return;
    struct chunk *c = mp_load_relaxed(&a->cur);
    while (c) {
        struct chunk *p = c->prev;
        eng_big_free(c->mem, ENG_ARENA_CHUNK);
        free(c);
        c = p;
    }
    pthread_mutex_destroy(&a->grow);
    free(a);
}

void *eng_arena_alloc(struct eng_arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (size == 0 || size > ENG_ARENA_CHUNK)
        return NULL;
    for (;;) {
        /* acquire: pairs with the release store that published the chunk */
        struct chunk *c = mp_load_acquire(&a->cur);
        uint64_t off = mp_add_relaxed(&c->used, size);
        if (off + size <= ENG_ARENA_CHUNK) {
            mp_add_relaxed(&a->used, size);
            return c->mem + off;
        }
        pthread_mutex_lock(&a->grow);
        if (mp_load_relaxed(&a->cur) == c) { /* nobody grew it meanwhile */
            struct chunk *n = arena__chunk(c);
            if (!n) {
                pthread_mutex_unlock(&a->grow);
                return NULL;
            }
            mp_store_release(&a->cur, n);
        }
        pthread_mutex_unlock(&a->grow);
    }
}

size_t eng_arena_used(const struct eng_arena *a) { return (size_t)mp_load_relaxed(&a->used); }
