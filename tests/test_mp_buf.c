/* test_mp_buf.c — Check suite "mp_buf": base/mp_buf, the one growable
 * buffer and the array-growth helper.
 *
 * The buffer stays NUL-terminated, grows across many appends and long
 * printf output, resets without freeing, hands its bytes over with take
 * (an empty string when nothing was appended), and refuses sizes that
 * would overflow, leaving itself as it was. mp_grow() doubles from 8 and
 * leaves the array and its capacity alone on overflow.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "mp_buf.h"

START_TEST(append_and_terminate)
{
    struct mp_buf b = MP_BUF_INIT;
    ck_assert_ptr_null(b.p);
    ck_assert_int_eq(mp_buf_append(&b, "ab", 2), MP_OK);
    ck_assert_uint_eq(b.len, 2);
    ck_assert_str_eq(b.p, "ab");
    ck_assert_int_eq(mp_buf_append(&b, "", 0), MP_OK);
    ck_assert_int_eq(mp_buf_puts(&b, "cd"), MP_OK);
    ck_assert_str_eq(b.p, "abcd");
    ck_assert_uint_ge(b.cap, b.len + 1);
    /* Binary data: a NUL inside counts, and the buffer still ends with one. */
    ck_assert_int_eq(mp_buf_append(&b, "x\0y", 3), MP_OK);
    ck_assert_uint_eq(b.len, 7);
    ck_assert_int_eq(memcmp(b.p, "abcdx\0y", 8), 0);
    mp_buf_free(&b);
    ck_assert_ptr_null(b.p);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.cap, 0);
}
END_TEST

START_TEST(grows_over_many_appends)
{
    struct mp_buf b = MP_BUF_INIT;
    for (int i = 0; i < 10000; i++)
        ck_assert_int_eq(mp_buf_printf(&b, "%d,", i % 10), MP_OK);
    ck_assert_uint_eq(b.len, 20000);
    ck_assert_uint_eq(strlen(b.p), 20000);
    ck_assert_int_eq(memcmp(b.p + 19990, "5,6,7,8,9,", 10), 0);
    mp_buf_free(&b);
}
END_TEST

/* Output longer than the formatter's 256-byte scratch takes the second
 * path: reserve, then format in place. */
START_TEST(printf_long)
{
    struct mp_buf b = MP_BUF_INIT;
    char big[1000];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ck_assert_int_eq(mp_buf_puts(&b, "<"), MP_OK);
    ck_assert_int_eq(mp_buf_printf(&b, "%s|%d", big, 42), MP_OK);
    ck_assert_uint_eq(b.len, 1 + 999 + 3);
    ck_assert_int_eq(b.p[0], '<');
    ck_assert_str_eq(b.p + 1000, "|42");
    ck_assert_uint_eq(strlen(b.p), b.len);
    mp_buf_free(&b);
}
END_TEST

START_TEST(reset_and_take)
{
    struct mp_buf b = MP_BUF_INIT;
    char *p = mp_buf_take(&b); /* nothing appended: "" */
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p, "");
    free(p);
    mp_buf_reset(&b); /* on an empty buffer: fine */
    ck_assert_int_eq(mp_buf_puts(&b, "hello"), MP_OK);
    size_t cap = b.cap;
    mp_buf_reset(&b);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_str_eq(b.p, "");
    ck_assert_uint_eq(b.cap, cap); /* memory kept */
    ck_assert_int_eq(mp_buf_puts(&b, "hi"), MP_OK);
    p = mp_buf_take(&b);
    ck_assert_str_eq(p, "hi");
    ck_assert_ptr_null(b.p);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.cap, 0);
    free(p);
    mp_buf_free(&b);
}
END_TEST

START_TEST(overflow_refused)
{
    struct mp_buf b = MP_BUF_INIT;
    ck_assert_int_eq(mp_buf_puts(&b, "keep"), MP_OK);
    char *p = b.p;
    size_t cap = b.cap;
    ck_assert_int_eq(mp_buf_reserve(&b, SIZE_MAX), MP_ERR_NOMEM);
    ck_assert_int_eq(mp_buf_reserve(&b, SIZE_MAX - 4), MP_ERR_NOMEM);
    ck_assert_int_eq(mp_buf_append(&b, "x", SIZE_MAX / 2 + 1), MP_ERR_NOMEM);
    ck_assert_ptr_eq(b.p, p);
    ck_assert_uint_eq(b.cap, cap);
    ck_assert_str_eq(b.p, "keep");
    mp_buf_free(&b);
}
END_TEST

START_TEST(grow_arrays)
{
    int *a = NULL;
    size_t cap = 0;
    ck_assert_int_eq(MP_GROW(a, cap, 0), MP_OK);
    ck_assert_ptr_null(a); /* nothing needed, nothing allocated */
    ck_assert_int_eq(MP_GROW(a, cap, 1), MP_OK);
    ck_assert_uint_eq(cap, 8);
    for (int i = 0; i < 8; i++)
        a[i] = i;
    ck_assert_int_eq(MP_GROW(a, cap, 9), MP_OK);
    ck_assert_uint_eq(cap, 16);
    ck_assert_int_eq(a[7], 7); /* kept across the move */
    ck_assert_int_eq(MP_GROW(a, cap, 100), MP_OK);
    ck_assert_uint_eq(cap, 128);
    ck_assert_int_eq(MP_GROW(a, cap, 50), MP_OK); /* never shrinks */
    ck_assert_uint_eq(cap, 128);
    int *before = a;
    ck_assert_int_eq(MP_GROW(a, cap, SIZE_MAX), MP_ERR_NOMEM);
    ck_assert_int_eq(MP_GROW(a, cap, SIZE_MAX / 2), MP_ERR_NOMEM); /* x sizeof(int) overflows */
    ck_assert_ptr_eq(a, before);
    ck_assert_uint_eq(cap, 128);
    free(a);
}
END_TEST

CHECK_SUITE("mp_buf", 0, NULL, NULL, append_and_terminate, grows_over_many_appends, printf_long,
            reset_and_take, overflow_refused, grow_arrays)
