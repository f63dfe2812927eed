/* test_eng_name.c — engine/eng_name: the one grammar of outside names. */
#include <check.h>
#include <string.h>

#include "eng_name.h"
#include "mp.h"
#include "check_main.h"

START_TEST(grammar)
{
    static const struct {
        const char *s;
        int len; /* -1: strlen */
        int valid;
    } cases[] = {
        {"acme", -1, 1},         {"a", -1, 1},          {"Acme-Corp_2.eu", -1, 1},
        {"...", -1, 1},          {"", -1, 0},           {"acme corp", -1, 0},
        {"acme/x", -1, 0},       {"acmé", -1, 0},       {"acme!!", 4, 1},
        {"acme!!", 5, 0},        {"ac\0me", 5, 0},      {"acme", 0, 0},
        {"tab\there", -1, 0},    {"colon:x", -1, 0},    {"at@x", -1, 0},
    };
    for (size_t i = 0; i < MP_ARRAY_LEN(cases); i++) {
        size_t len = cases[i].len < 0 ? strlen(cases[i].s) : (size_t)cases[i].len;
        ck_assert_msg(eng_name_valid(cases[i].s, len) == cases[i].valid, "case %zu (%s)", i,
                      cases[i].s);
    }
    ck_assert_int_eq(eng_name_valid(NULL, 3), 0);
}
END_TEST

START_TEST(length_limit)
{
    char s[ENG_NAME_MAX + 2];
    memset(s, 'x', sizeof(s));
    ck_assert_int_eq(eng_name_valid(s, ENG_NAME_MAX), 1);
    ck_assert_int_eq(eng_name_valid(s, ENG_NAME_MAX + 1), 0);
    ck_assert_str_eq(ENG_NAME_GRAMMAR, "1..64 characters of [A-Za-z0-9._-]");
}
END_TEST

CHECK_SUITE("eng_name", 0, NULL, NULL, grammar, length_limit)
