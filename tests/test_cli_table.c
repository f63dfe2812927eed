/* test_cli_table.c — Check suite "cli_table": cmd/cli/cli_table, the
 * fixed-width rows of `mailpulse stats` and `mailpulse alerts`.
 *
 * fit(): as is when it fits, else head...tail (middle ellipsis) in exactly
 * the width, just the head under 5 columns, cut between UTF-8 characters
 * (counted as one column each), control and stray bytes as '?'. count():
 * as is when it fits, else k/M/G with one decimal under 100. time(): ISO
 * UTC to "MM-DD HH:MM[:SS]", anything else as is. row(): right-aligned
 * numbers end under their headers, no trailing blanks.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "cli_table.h"
#include "mp.h"

START_TEST(fit)
{
    static const struct {
        const char *in;
        unsigned width;
        const char *want;
    } cases[] = {
        {"abc", 5, "abc"},
        {"abcdef", 6, "abcdef"},
        {"abcdefghij", 7, "ab...ij"},
        {"abcdefghij", 8, "abc...ij"},
        {"newsletter@acme.example", 16, "newslet...xample"},
        {"abcdef", 4, "abcd"},
        {"", 3, ""},
        {"a\nb\x1b[2J", 10, "a?b?[2J"},
        {"caf\xc3\xa9-\xc3\xa9t\xc3\xa9-longer", 9, "caf...ger"},
        {"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 5, "\xc3\xa9...\xc3\xa9"},
        {"a\xff" "b", 5, "a?b"},
        {"a\xc2\x85" "b", 5, "a??b"}, /* NEL: a C1 control, two stray bytes */
    };
    for (size_t i = 0; i < MP_ARRAY_LEN(cases); i++) {
        char out[CLI_TABLE_CELL];
        cli_table_fit(cases[i].in, cases[i].width, out, sizeof(out));
        ck_assert_msg(strcmp(out, cases[i].want) == 0, "case %zu: \"%s\", expected \"%s\"", i, out,
                      cases[i].want);
    }
    char tiny[4];
    cli_table_fit("abcdefgh", 8, tiny, sizeof(tiny)); /* never past n */
    ck_assert_str_eq(tiny, "abc");
}
END_TEST

START_TEST(count_and_time)
{
    static const struct {
        int64_t v;
        unsigned width;
        const char *want;
    } cases[] = {
        {0, 9, "0"},           {999999999, 9, "999999999"}, {1000000000, 9, "1.0G"},
        {12345678901, 9, "12.3G"}, {123456789012, 8, "123G"}, {1234567, 5, "1.2M"},
        {99949, 4, "99.9k"},   {-5, 9, "-5"},               {-1234567890, 9, "-1.2G"},
    };
    for (size_t i = 0; i < MP_ARRAY_LEN(cases); i++) {
        char out[32];
        cli_table_count(cases[i].v, cases[i].width, out, sizeof(out));
        ck_assert_msg(strcmp(out, cases[i].want) == 0, "%lld in %u: \"%s\", expected \"%s\"",
                      (long long)cases[i].v, cases[i].width, out, cases[i].want);
    }
    char t[64];
    cli_table_time("2026-11-22T10:01:02.000Z", 0, t, sizeof(t));
    ck_assert_str_eq(t, "11-22 10:01");
    cli_table_time("2026-11-22T10:01:02.000Z", 1, t, sizeof(t));
    ck_assert_str_eq(t, "11-22 10:01:02");
    cli_table_time("-", 1, t, sizeof(t));
    ck_assert_str_eq(t, "-");
    cli_table_time("yesterday at noon", 0, t, sizeof(t));
    ck_assert_str_eq(t, "yesterday at noon");
}
END_TEST

START_TEST(rows)
{
    static const struct cli_col cols[] = {{"NAME", 6, 0}, {"COUNT", 7, 1}, {"NOTE", 8, 0}};
    const char *r1[] = {"a", "12", "x"}, *r2[] = {"very-long-name", "1234567", "tail note!"};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    cli_table_row(f, "  ", cols, 3, NULL);
    cli_table_row(f, "  ", cols, 3, r1);
    cli_table_row(f, "  ", cols, 3, r2);
    fclose(f);
    ck_assert_str_eq(buf, "  NAME     COUNT NOTE\n"
                          "  a           12 x\n"
                          "  ve...e 1234567 tai...e!\n");
    free(buf);
}
END_TEST

CHECK_SUITE("cli_table", 0, NULL, NULL, fit, count_and_time, rows)
