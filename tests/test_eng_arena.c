/* test_eng_arena.c — engine/eng_arena: the bump allocator and big regions.
 *
 * Blocks are zeroed, 16-byte aligned and never overlap, within a chunk and
 * across chunks; the used figure counts what was handed out; a zero or
 * over-chunk size is refused; racing threads get disjoint blocks; big
 * regions are zeroed, writable and (from 2 MiB) huge-page aligned.
 */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eng_arena.h"
#include "check_main.h"

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

START_TEST(aligned_zeroed_disjoint)
{
    struct eng_arena *a;
    ck_assert_int_eq(eng_arena_create(&a), MP_OK);
    unsigned char *blocks[200];
    size_t used = 0;
    for (int i = 0; i < 200; i++) {
        size_t size = 1 + (size_t)i * 3;
        blocks[i] = eng_arena_alloc(a, size);
        ck_assert_ptr_nonnull(blocks[i]);
        ck_assert_uint_eq((uintptr_t)blocks[i] % 16, 0);
        ck_assert(all_zero(blocks[i], size));
        memset(blocks[i], i + 1, size);
        used += (size + 15) & ~(size_t)15;
    }
    /* every block still holds its own pattern: nothing overlapped */
    for (int i = 0; i < 200; i++)
        for (size_t j = 0; j < 1 + (size_t)i * 3; j++)
            ck_assert_uint_eq(blocks[i][j], (unsigned)(i + 1) & 0xff);
    ck_assert_uint_eq(eng_arena_used(a), used);
    eng_arena_destroy(a);
}
END_TEST

START_TEST(limits_and_chunks)
{
    struct eng_arena *a;
    ck_assert_int_eq(eng_arena_create(&a), MP_OK);
    ck_assert_ptr_null(eng_arena_alloc(a, 0));
    ck_assert_ptr_null(eng_arena_alloc(a, ENG_ARENA_CHUNK + 1));
    ck_assert_uint_eq(eng_arena_used(a), 0);
    /* three blocks of more than half a chunk: each needs a chunk of its own */
    unsigned char *p[3];
    for (int i = 0; i < 3; i++) {
        p[i] = eng_arena_alloc(a, ENG_ARENA_CHUNK / 2 + 16);
        ck_assert_ptr_nonnull(p[i]);
        ck_assert(all_zero(p[i], ENG_ARENA_CHUNK / 2 + 16));
        memset(p[i], 0xa0 + i, ENG_ARENA_CHUNK / 2 + 16);
    }
    unsigned char *whole = eng_arena_alloc(a, ENG_ARENA_CHUNK); /* exactly one chunk */
    ck_assert_ptr_nonnull(whole);
    ck_assert(all_zero(whole, ENG_ARENA_CHUNK));
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(p[i][ENG_ARENA_CHUNK / 2 + 15], 0xa0 + i);
    eng_arena_destroy(a);
    eng_arena_destroy(NULL); /* like free() */
}
END_TEST

#define THREADS 4
#define PER 20000

struct filler {
    struct eng_arena *a;
    uint32_t id;
    uint32_t *blocks[PER];
};

static void *fill(void *arg)
{
    struct filler *f = arg;
    for (int i = 0; i < PER; i++) {
        f->blocks[i] = eng_arena_alloc(f->a, 48); /* 4 MiB chunks run out meanwhile */
        ck_assert_ptr_nonnull(f->blocks[i]);
        for (int j = 0; j < 12; j++)
            f->blocks[i][j] = f->id << 24 | (uint32_t)i;
    }
    return NULL;
}

START_TEST(racing_threads_disjoint)
{
    struct eng_arena *a;
    ck_assert_int_eq(eng_arena_create(&a), MP_OK);
    static struct filler fs[THREADS];
    pthread_t th[THREADS];
    for (uint32_t i = 0; i < THREADS; i++) {
        fs[i].a = a;
        fs[i].id = i + 1;
        pthread_create(&th[i], NULL, fill, &fs[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    for (uint32_t i = 0; i < THREADS; i++)
        for (int k = 0; k < PER; k++)
            for (int j = 0; j < 12; j++)
                ck_assert_uint_eq(fs[i].blocks[k][j], (i + 1) << 24 | (uint32_t)k);
    ck_assert_uint_eq(eng_arena_used(a), (size_t)THREADS * PER * 48);
    eng_arena_destroy(a);
}
END_TEST

START_TEST(big_regions)
{
    unsigned char *small = eng_big_alloc(4096);
    ck_assert_ptr_nonnull(small);
    ck_assert(all_zero(small, 4096));
    memset(small, 1, 4096);
    eng_big_free(small, 4096);
    size_t size = (4u << 20) + 1; /* not a multiple of the huge page */
    unsigned char *big = eng_big_alloc(size);
    ck_assert_ptr_nonnull(big);
    ck_assert_uint_eq((uintptr_t)big % (2u << 20), 0);
    ck_assert(all_zero(big, size));
    big[0] = big[size - 1] = 0x5a;
    ck_assert_uint_eq(big[size - 1], 0x5a);
    eng_big_free(big, size);
    eng_big_free(NULL, size);
}
END_TEST

CHECK_SUITE("eng_arena", 60, NULL, NULL, aligned_zeroed_disjoint, limits_and_chunks,
            racing_threads_disjoint, big_regions)
