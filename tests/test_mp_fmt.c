/* test_mp_fmt.c — Check suite "mp_fmt": base/mp_fmt, rates and factors
 * for people.
 *
 * Two significant digits below 1% (with the decade that rounding crosses:
 * 0.0999% is "0.10%", 0.999% is "1.00%"), two decimals from 1% on, 0 as
 * "0%", the sign kept, NaN and infinities as "-", factors with one
 * decimal, and a short buffer cut rather than overrun.
 */
#include <check.h>
#include <math.h>
#include <string.h>

#include "check_main.h"
#include "mp_fmt.h"

static const struct {
    double frac;
    const char *want;
} pct_cases[] = {
    {0.0, "0%"},
    {1e-9, "0.00000010%"},
    {0.0000123, "0.0012%"},
    {0.0012, "0.12%"},
    {0.0012345, "0.12%"},
    {0.005, "0.50%"},
    {0.000999, "0.10%"},   /* 0.0999% rounds to 0.100: two digits, 0.10 */
    {0.00999, "1.00%"},    /* 0.999% rounds up to 1% */
    {0.01, "1.00%"},
    {0.0231, "2.31%"},
    {0.0040, "0.40%"},
    {1.0 / 3.0, "33.33%"},
    {0.99996, "100.00%"},
    {1.0, "100.00%"},
    {1.5, "150.00%"},
    {-0.005, "-0.50%"},
};

START_TEST(percentages)
{
    char b[MP_FMT_LEN];
    for (size_t i = 0; i < sizeof(pct_cases) / sizeof(pct_cases[0]); i++)
        ck_assert_msg(strcmp(mp_fmt_pct(pct_cases[i].frac, b, sizeof(b)), pct_cases[i].want) == 0,
                      "%g: got %s, want %s", pct_cases[i].frac, b, pct_cases[i].want);
    /* 99.995% sits on a binary edge: either neighbour, never 3 decimals */
    mp_fmt_pct(0.99995, b, sizeof(b));
    ck_assert_msg(strcmp(b, "99.99%") == 0 || strcmp(b, "100.00%") == 0, "got %s", b);
}
END_TEST

START_TEST(not_finite)
{
    char b[MP_FMT_LEN];
    ck_assert_str_eq(mp_fmt_pct(NAN, b, sizeof(b)), "-");
    ck_assert_str_eq(mp_fmt_pct(INFINITY, b, sizeof(b)), "-");
    ck_assert_str_eq(mp_fmt_pct(-INFINITY, b, sizeof(b)), "-");
    ck_assert_str_eq(mp_fmt_factor(NAN, b, sizeof(b)), "-");
    ck_assert_str_eq(mp_fmt_factor(INFINITY, b, sizeof(b)), "-");
}
END_TEST

START_TEST(factors)
{
    char b[MP_FMT_LEN];
    ck_assert_str_eq(mp_fmt_factor(3.2, b, sizeof(b)), "3.2x");
    ck_assert_str_eq(mp_fmt_factor(3.25001, b, sizeof(b)), "3.3x");
    ck_assert_str_eq(mp_fmt_factor(0, b, sizeof(b)), "0.0x");
    ck_assert_str_eq(mp_fmt_factor(12, b, sizeof(b)), "12.0x");
}
END_TEST

START_TEST(short_buffer)
{
    char b[8];
    memset(b, 'z', sizeof(b));
    mp_fmt_pct(1e-9, b, 4);
    ck_assert_str_eq(b, "0.0");
    ck_assert_int_eq(b[4], 'z');
}
END_TEST

CHECK_SUITE("mp_fmt", 0, NULL, NULL, percentages, not_finite, factors, short_buffer)
