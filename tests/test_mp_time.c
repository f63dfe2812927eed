/* test_mp_time.c — RFC 3339 parsing (base/mp_time.h): fractions, offsets,
 * and what is refused. */
#include <check.h>

#include "check_main.h"
#include "mp.h"
#include "mp_time.h"

#define T0 1800000000000LL /* 2027-01-15T08:00:00Z */

START_TEST(accepted)
{
    int64_t ms = 0;
    ck_assert_int_eq(mp_time_parse("2027-01-15T08:00:00Z", &ms), MP_OK);
    ck_assert_int_eq(ms, T0);
    ck_assert_int_eq(mp_time_parse("2027-01-15T09:00:00.5+01:00", &ms), MP_OK);
    ck_assert_int_eq(ms, T0 + 500);
    ck_assert_int_eq(mp_time_parse("2027-01-15T08:00:00.123456789Z", &ms), MP_OK);
    ck_assert_int_eq(ms, T0 + 123);
    ck_assert_int_eq(mp_time_parse("2027-01-15 03:30:00-04:30", &ms), MP_OK);
    ck_assert_int_eq(ms, T0);
    ck_assert_int_eq(mp_time_parse("1970-01-01t00:00:00z", &ms), MP_OK);
    ck_assert_int_eq(ms, 0);
}
END_TEST

START_TEST(refused)
{
    static const char *const bad[] = {
        "2027-01-15T08:00:00",       /* no zone */
        "2027-01-15T08:00:00.Z",     /* a dot without digits */
        "2027-13-15T08:00:00Z",      /* month 13 */
        "2027-01-15T24:00:00Z",      /* hour 24 */
        "2027-01-15T08:00:00+1:00",  /* a short offset */
        "2027-01-15T08:00:00Zjunk",  /* something after it */
        "1969-12-31T23:59:59Z",      /* before 1970 */
        "1800000000",                /* Unix seconds are the caller's to take */
        "",
    };
    int64_t ms = 42;
    for (size_t i = 0; i < MP_ARRAY_LEN(bad); i++)
        ck_assert_msg(mp_time_parse(bad[i], &ms) == MP_ERR_INVAL && ms == 42, "accepted \"%s\"",
                      bad[i]);
    ck_assert_int_eq(mp_time_parse(NULL, &ms), MP_ERR_INVAL);
}
END_TEST

Suite *test_suite(void)
{
    return check_suite("mp_time", 0, NULL, NULL, CHECK_TESTS(accepted, refused));
}
