/* eng_arena.c — lock-free bump allocation over mutex-guarded chunks (see eng_arena.h). */
#include "eng_arena.h"

#include <pthread.h>
#include <stdlib.h>

#include "mp_atomic.h"

struct chunk {
    struct chunk *prev;
    mp_atomic_u64 used; /* bytes claimed, may overshoot the size on the last claim */
    char *mem;
};

struct eng_arena {
    _Atomic(struct chunk *) cur;
    pthread_mutex_t grow; /* taken only to add a chunk */
    mp_atomic_u64 used;
};

static struct chunk *arena__chunk(struct chunk *prev)
{
    struct chunk *c = calloc(1, sizeof(*c));
    /* calloc of a large block is fresh zero pages from mmap: resident only
     * once touched, so RSS follows what is actually handed out */
    char *mem = c ? calloc(1, ENG_ARENA_CHUNK) : NULL;
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
    atomic_init(&a->cur, c);
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
        free(c->mem);
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
