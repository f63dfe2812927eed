/* test_mp_matcher.c — the matcher value as people type it: quoted with
 * escapes, or as it is. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "mp_matcher.h"

START_TEST(values)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"plain", "plain"},
        {"", ""},
        {"\"", "\""},                     /* one quote is no quoting */
        {"\"\"", ""},                     /* the empty quoted value */
        {"\"a b\"", "a b"},
        {"\"say \\\"hi\\\"\"", "say \"hi\""},
        {"\"a\\\\b\"", "a\\b"},
        {"\"a\\\"", "a\\"},               /* a backslash before the closing quote stays */
        {"x\"y\"", "x\"y\""},             /* quotes only count at both ends */
        {"\"unclosed", "\"unclosed"},
        {"gmail\\.com|yahoo\\.com", "gmail\\.com|yahoo\\.com"}, /* unquoted: as it is */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *v = mp_matcher_value(cases[i].in);
        ck_assert_ptr_nonnull(v);
        ck_assert_msg(strcmp(v, cases[i].want) == 0, "%s: got \"%s\", want \"%s\"", cases[i].in,
                      v, cases[i].want);
        free(v);
    }
}
END_TEST

CHECK_SUITE("mp_matcher", 0, NULL, NULL, values)
