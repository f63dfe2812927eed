/* test_cli_stats.c — Check suite "cli_stats": cmd/cli_stats, what
 * `mailpulse stats` builds and prints.
 *
 * The request URL (tenant percent-encoded, optional parameters), rates as
 * percentages through mp_fmt ("-" for null, "0.0010%" for tiny ones), the tenant table and
 * the group table from a fixed API body (the error text of an error body is
 * in test_cli_api); long names and counts still fit 100 columns, numbers
 * right-aligned under their headers. The real binary against the real daemon is in test_e2e_stats.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_stats.h"
#include "check_main.h"
#include "unit_util.h"

START_TEST(percent)
{
    static const struct {
        double v;
        int is_null;
        const char *want;
    } cases[] = {
        {0.03, 0, "3.00%"},     {1.0 / 3.0, 0, "33.33%"}, {0.00001, 0, "0.0010%"},
        {0.0001, 0, "0.010%"},  {0.0, 0, "0%"},        {0.0, 1, "-"},
        {1.5, 0, "150.00%"},    {1.0, 0, "100.00%"},
    };
    for (size_t i = 0; i < MP_ARRAY_LEN(cases); i++) {
        char b[32];
        cli_stats_percent(cases[i].v, cases[i].is_null, b, sizeof(b));
        ck_assert_msg(strcmp(b, cases[i].want) == 0, "%.17g: \"%s\", expected \"%s\"", cases[i].v,
                      b, cases[i].want);
    }
}
END_TEST

START_TEST(url)
{
    char *u = NULL;
    ck_assert_int_eq(cli_stats_url("http://h:1/", "a b/c", "7d", "mailbox", 5, &u), MP_OK);
    ck_assert_str_eq(u, "http://h:1/v1/tenants/a%20b%2Fc/stats?window=7d&by=mailbox&limit=5");
    free(u);
    ck_assert_int_eq(cli_stats_url("http://h:1", "acme", "24h", NULL, 0, &u), MP_OK);
    ck_assert_str_eq(u, "http://h:1/v1/tenants/acme/stats?window=24h");
    free(u);
    ck_assert_int_eq(cli_stats_url("http://h:1//", "", "1h", "recipient_domain", 0, &u), MP_OK);
    ck_assert_str_eq(u, "http://h:1/v1/tenants//stats?window=1h&by=recipient_domain");
    free(u);
}
END_TEST

/* An answer as mp_stats renders it: acme over 24h, two of three mailboxes. */
static const char body[] =
    "{\"tenant\":\"acme\",\"window\":\"24h\","
    "\"counts\":{\"sent\":153,\"delivered\":136,\"bounce_hard\":12,\"bounce_soft\":1,"
    "\"deferred\":5,\"blocked\":1,\"complaint\":1,\"open\":14,\"click\":3,\"reply\":1,"
    "\"unsubscribe\":2,\"spam_trap\":1},"
    "\"rates\":{\"bounce_rate\":0.07843137255,\"soft_bounce_rate\":0.006535947712,"
    "\"block_rate\":0.006535947712,\"deferral_rate\":0.03267973856,\"delivery_rate\":0.8888888889,"
    "\"complaint_rate\":0.007352941176,\"engagement_rate\":0.1323529412,"
    "\"unsubscribe_rate\":0.01470588235},"
    "\"by\":\"mailbox\",\"limit\":2,\"groups_total\":3,\"groups\":["
    "{\"mailbox\":\"b@acme.example\",\"counts\":{\"sent\":100,\"delivered\":90,\"bounce_hard\":10,"
    "\"bounce_soft\":0,\"deferred\":0,\"blocked\":0,\"complaint\":0,\"open\":0,\"click\":0,"
    "\"reply\":0,\"unsubscribe\":0,\"spam_trap\":0},\"rates\":{\"bounce_rate\":0.1,"
    "\"soft_bounce_rate\":0.0,\"block_rate\":0.0,\"deferral_rate\":0.0,\"delivery_rate\":0.9,"
    "\"complaint_rate\":0.0,\"engagement_rate\":0.0,\"unsubscribe_rate\":0.0}},"
    "{\"mailbox\":\"only-opens@acme.example\",\"counts\":{\"sent\":0,\"delivered\":0,"
    "\"bounce_hard\":0,\"bounce_soft\":0,\"deferred\":0,\"blocked\":0,\"complaint\":0,\"open\":4,"
    "\"click\":0,\"reply\":0,\"unsubscribe\":0,\"spam_trap\":0},\"rates\":{\"bounce_rate\":null,"
    "\"soft_bounce_rate\":null,\"block_rate\":null,\"deferral_rate\":null,\"delivery_rate\":null,"
    "\"complaint_rate\":null,\"engagement_rate\":null,\"unsubscribe_rate\":null}}]}";

#define has(text, s) ck_assert_msg(strstr((text), (s)) != NULL, "no \"%s\" in:\n%s", (s), (text))

START_TEST(tables)
{
    char *t = unit_printed(cli_stats_print, body, MP_OK);
    has(t, "tenant acme, window 24h\n");
    /* counts left, rates right, in the daemon's order */
    has(t, "\n  sent                  153    bounce_rate           7.84%\n");
    has(t, "\n  delivered             136    soft_bounce_rate      0.65%\n");
    has(t, "\n  open                   14    unsubscribe_rate      1.47%\n");
    has(t, "\n  spam_trap               1\n");
    has(t, "by mailbox: 3 with events in the window, most sent first");
    has(t, "  mailbox                   sent delivered  bnc_hard complaint spam_trap  bounce%"
           "   compl%  engage%\n");
    has(t, "  b@acme.example             100        90        10         0         0   10.00%"
           "       0%       0%\n");
    has(t, "  only-open....example         0         0         0         0         0        -"
           "        -        -\n");
    has(t, "2 of 3 shown; --limit N shows more");
    free(t);
}
END_TEST

/* Realistic long data: a 64-character tenant, an 80-character mailbox, an
 * 11-digit count. Every line fits 100 columns, the name is cut in the middle
 * (both ends kept), the numbers end in the same column as their headers. */
START_TEST(wide_data_fits_100)
{
    static const char wide[] =
        "{\"tenant\":\"t234567890123456789012345678901234567890123456789012345678901234\","
        "\"window\":\"7d\",\"counts\":{\"sent\":12345678901,\"delivered\":9},"
        "\"rates\":{\"bounce_rate\":0.5},\"by\":\"recipient_domain\",\"groups_total\":1,"
        "\"groups\":[{\"recipient_domain\":\"mx-first-part.some-very-long-subdomain-name.of."
        "a-company.example.co.uk.end\",\"counts\":{\"sent\":12345678901,\"delivered\":"
        "999999999,\"bounce_hard\":1000000000,\"complaint\":7,\"spam_trap\":0},"
        "\"rates\":{\"bounce_rate\":1.0,\"complaint_rate\":0.00001,\"engagement_rate\":null}}]}";
    char *t = unit_printed(cli_stats_print, wide, MP_OK);
    ck_assert_uint_ge(unit_lines_fit(t, 100), 6);
    const char *hdr = strstr(t, "\n  recipient_domain ");
    const char *row = strstr(t, "\n  mx-first-");
    ck_assert_msg(hdr && row, "%s", t);
    ck_assert_msg(strstr(row, "  mx-first-...o.uk.end ") != NULL, "middle ellipsis keeps both ends: %s", t);
    /* right alignment: each number ends where its header ends */
    static const char *const heads[] = {"sent", "delivered", "bnc_hard", "complaint",
                                        "spam_trap", "bounce%", "compl%", "engage%"};
    static const char *const vals[] = {"12.3G", "999999999", "1.0G", "7", "0", "100.00%",
                                       "0.0010%", "-"};
    for (size_t i = 0; i < MP_ARRAY_LEN(heads); i++) {
        const char *h = strstr(hdr + 1, heads[i]);
        ck_assert_msg(h != NULL, "no header %s: %s", heads[i], t);
        size_t end = (size_t)(h - hdr) + strlen(heads[i]), vl = strlen(vals[i]);
        ck_assert_msg(memcmp(row + end - vl, vals[i], vl) == 0 && row[end - vl - 1] == ' ' &&
                          (row[end] == ' ' || row[end] == '\n'),
                      "%s does not end under %s:\n%s", vals[i], heads[i], t);
    }
    free(t);
}
END_TEST

START_TEST(not_stats)
{
    free(unit_printed(cli_stats_print, "{\"error\":\"x\"}", MP_ERR_PARSE));
    free(unit_printed(cli_stats_print, "not json", MP_ERR_PARSE));
    free(unit_printed(cli_stats_print, "", MP_ERR_PARSE));
}
END_TEST

static Suite *suite(void)
{
    return check_suite("cli_stats", 0, NULL, NULL,
                       CHECK_TESTS(percent, url, tables, wide_data_fits_100, not_stats));
}

Suite *test_suite(void)
{
    return suite();
}
