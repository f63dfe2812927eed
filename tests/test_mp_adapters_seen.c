/* test_mp_adapters_seen.c — cmd/daemon/mp_adapters_seen.c: the adapters'
 * dedup set: membership until expiry, growth, the file kept across a
 * reopen (same seed, expired entries dropped, a torn tail ignored), a file
 * that is not one refused. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "mp_adapters_seen.h"
#include "unit_util.h"

START_TEST(memory_set_expires_and_grows)
{
    struct mp_seen *s;
    char err[256];
    ck_assert_int_eq(mp_seen_open(NULL, 1000, &s, err, sizeof(err)), MP_OK);
    uint64_t h[3] = {11, 22, 33};
    int64_t u[3] = {2000, 3000, 4000};
    ck_assert_int_eq(mp_seen_add(s, h, u, 3, 1000), MP_OK);
    ck_assert(mp_seen_has(s, 22, 2999));
    ck_assert(!mp_seen_has(s, 22, 3000)); /* forgotten at its until */
    ck_assert(!mp_seen_has(s, 44, 1000));
    /* 10000 more: grown past the first 1024 slots, all still there */
    for (uint64_t i = 0; i < 10000; i++) {
        uint64_t k = 1000 + i * 7919;
        int64_t until = 99999;
        ck_assert_int_eq(mp_seen_add(s, &k, &until, 1, 1500), MP_OK);
    }
    for (uint64_t i = 0; i < 10000; i++)
        ck_assert(mp_seen_has(s, 1000 + i * 7919, 1500));
    ck_assert_uint_ge(mp_seen_count(s), 10000);
    mp_seen_close(s);
}
END_TEST

START_TEST(file_survives_reopen)
{
    char dir[UNIT_PATH_MAX], path[UNIT_PATH_MAX + 32], err[256];
    unit_tmpdir("seen", dir);
    snprintf(path, sizeof(path), "%s/adapters.seen", dir);
    struct mp_seen *s;
    ck_assert_int_eq(mp_seen_open(path, 1000, &s, err, sizeof(err)), MP_OK);
    uint64_t seed = mp_seen_seed(s);
    uint64_t h[2] = {5, 6};
    int64_t u[2] = {2000, 9000};
    ck_assert_int_eq(mp_seen_add(s, h, u, 2, 1000), MP_OK);
    mp_seen_close(s);
    /* a crash mid-append: half a record at the end */
    int fd = open(path, O_WRONLY | O_APPEND);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "12345678", 8), 8);
    close(fd);
    ck_assert_int_eq(mp_seen_open(path, 3000, &s, err, sizeof(err)), MP_OK);
    ck_assert_uint_eq(mp_seen_seed(s), seed);
    ck_assert(!mp_seen_has(s, 5, 3000)); /* expired before the reopen */
    ck_assert(mp_seen_has(s, 6, 3000));
    ck_assert_uint_eq(mp_seen_count(s), 1);
    uint64_t k = 7;
    int64_t until = 9000;
    ck_assert_int_eq(mp_seen_add(s, &k, &until, 1, 3000), MP_OK);
    mp_seen_close(s);
    /* rewritten at the reopen: header + 2 records, the torn tail gone */
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_size, 16 + 2 * 16);
    ck_assert_int_eq(mp_seen_open(path, 3000, &s, err, sizeof(err)), MP_OK);
    ck_assert(mp_seen_has(s, 6, 3000) && mp_seen_has(s, 7, 3000));
    mp_seen_close(s);
    /* not a dedup file: refused, named */
    fd = open(path, O_WRONLY | O_TRUNC);
    ck_assert_int_eq(write(fd, "hello world, not ours", 21), 21);
    close(fd);
    ck_assert_int_eq(mp_seen_open(path, 3000, &s, err, sizeof(err)), MP_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err, "not an adapters dedup file"));
    unit_tmpdir_remove(dir);
}
END_TEST

CHECK_SUITE("mp_adapters_seen", 30, NULL, NULL, memory_set_expires_and_grows, file_survives_reopen)
