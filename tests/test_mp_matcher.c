/* test_mp_matcher.c — the matcher value as people type it: quoted with
 * escapes, or as it is. One loop case per row. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "mp_matcher.h"

struct value_case {
    const char *in, *want;
};

static const struct value_case value_cases[] = {
    {"plain", "plain"},
    {"", ""},
    {"\"", "\""},   /* one quote is no quoting */
    {"\"\"", ""},   /* the empty quoted value */
    {"\"a b\"", "a b"},
    {"\"say \\\"hi\\\"\"", "say \"hi\""},
    {"\"a\\\\b\"", "a\\b"},
    {"\"a\\\"", "a\\"},   /* a backslash before the closing quote stays */
    {"x\"y\"", "x\"y\""}, /* quotes only count at both ends */
    {"\"unclosed", "\"unclosed"},
    {"gmail\\.com|yahoo\\.com", "gmail\\.com|yahoo\\.com"}, /* unquoted: as it is */
};

START_TEST(values)
{
    const struct value_case *c = &value_cases[_i];
    char *v = mp_matcher_value(c->in);
    ck_assert_ptr_nonnull(v);
    ck_assert_msg(strcmp(v, c->want) == 0, "%s: got \"%s\", want \"%s\"", c->in, v, c->want);
    free(v);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("mp_matcher");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, values, 0, (int)(sizeof(value_cases) / sizeof(value_cases[0])));
    suite_add_tcase(s, tc);
    return s;
}
