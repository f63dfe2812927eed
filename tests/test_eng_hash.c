/* test_eng_hash.c — engine/eng_hash: the seeded hash of untrusted names.
 *
 * Seeds come from the OS and differ; a hash depends on the seed and on
 * exactly `len` bytes, never reads outside them (names sit at the end of a
 * page followed by a PROT_NONE page), and spreads typical names evenly.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "eng_hash.h"
#include "check_main.h"

START_TEST(seeds_differ)
{
    uint64_t a = eng_hash_seed(), b = eng_hash_seed(), c = eng_hash_seed();
    /* equal by chance once in 2^64 */
    ck_assert_uint_ne(a, b);
    ck_assert_uint_ne(b, c);
    ck_assert_uint_ne(a, c);
}
END_TEST

START_TEST(depends_on_seed_and_len_only)
{
    const char *s = "gmail.comXYZ";
    uint64_t s1 = 0x1234, s2 = 0x1235;
    ck_assert_uint_eq(eng_hash_name(s, 9, s1), eng_hash_name("gmail.com", 9, s1));
    ck_assert_uint_ne(eng_hash_name(s, 9, s1), eng_hash_name(s, 9, s2));
    ck_assert_uint_ne(eng_hash_name(s, 9, s1), eng_hash_name(s, 10, s1));
    /* every length class (0, 1..3, 4..16, longer) sees every byte */
    char buf[64];
    for (size_t len = 1; len <= 40; len++) {
        memset(buf, 'a', sizeof(buf));
        uint64_t h = eng_hash_name(buf, len, s1);
        for (size_t i = 0; i < len; i++) {
            buf[i] = 'b';
            ck_assert_msg(eng_hash_name(buf, len, s1) != h, "len %zu byte %zu ignored", len, i);
            buf[i] = 'a';
        }
    }
    ck_assert_uint_eq(eng_hash_name("", 0, s1), eng_hash_name("x", 0, s1));
}
END_TEST

/* Names at the very end of a readable page: an over-read faults. */
START_TEST(reads_stay_in_bounds)
{
    long pg = sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(m, MAP_FAILED);
    ck_assert_int_eq(mprotect(m + pg, (size_t)pg, PROT_NONE), 0);
    for (size_t len = 0; len <= 64; len++) {
        char *p = m + pg - len;
        memset(p, 'n', len);
        (void)eng_hash_name(p, len, 42);
    }
    munmap(m, 2 * (size_t)pg);
}
END_TEST

/* 20,000 mailbox-like names into 32,768 slots: no slot gets a long chain. */
START_TEST(spreads_names)
{
    enum { N = 20000, SLOTS = 1 << 15 };
    static unsigned char load[SLOTS];
    uint64_t seed = eng_hash_seed();
    char name[32];
    int worst = 0;
    for (int i = 0; i < N; i++) {
        int n = snprintf(name, sizeof(name), "u%d@acme.example", i);
        uint64_t h = eng_hash_name(name, (size_t)n, seed);
        int l = ++load[h & (SLOTS - 1)];
        worst = l > worst ? l : worst;
    }
    ck_assert_int_le(worst, 12); /* ~0.6 expected per slot; 12 is far in the tail */
}
END_TEST

CHECK_SUITE("eng_hash", 0, NULL, NULL, seeds_differ, depends_on_seed_and_len_only,
            reads_stay_in_bounds, spreads_names)
