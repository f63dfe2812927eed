/* test_cli_alerts.c — cmd/cli_alerts: URLs and the tables of `mailpulse alerts`.
 *
 * URLs escape the tenant and put the query together right; the active table
 * shows each alert's state, rule, scope, value as a percentage (fractions),
 * a factor (spikes) or a count, and its window; the dead-letter table shows
 * reason and attempts; other JSON shapes are refused, not printed as empty.
 * Long data still fits 100 columns (names cut in the middle, big numbers
 * compacted, control bytes shown as '?') with numbers right-aligned.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_alerts.h"
#include "check_main.h"
#include "unit_util.h"

START_TEST(urls)
{
    static const struct {
        const char *api, *tenant;
        int dead;
        long limit;
        const char *want;
    } cases[] = {
        {"http://h:1/", NULL, 0, 0, "http://h:1/v1/alerts"},
        {"http://h:1", "a b", 0, 0, "http://h:1/v1/alerts?tenant=a%20b"},
        {"http://h:1", "acme", 1, 20, "http://h:1/v1/alerts/dead?tenant=acme&limit=20"},
        {"http://h:1", NULL, 1, 5, "http://h:1/v1/alerts/dead?limit=5"},
        {"http://h:1//", "a/b", 1, 0, "http://h:1/v1/alerts/dead?tenant=a%2Fb"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *u = NULL;
        ck_assert_int_eq(cli_alerts_url(cases[i].api, cases[i].tenant, cases[i].dead,
                                        cases[i].limit, &u),
                         MP_OK);
        ck_assert_str_eq(u, cases[i].want);
        free(u);
    }
}
END_TEST

START_TEST(active_table)
{
    const char *body =
        "{\"alerts\":[{\"status\":\"firing\",\"startsAt\":\"2026-11-22T10:00:00.000Z\","
        "\"labels\":{\"alertname\":\"bounce_rate\",\"severity\":\"critical\",\"tenant\":\"acme\","
        "\"mailbox\":\"s@acme.example\"},\"annotations\":{\"value\":\"0.08\",\"threshold\":\"0.04\","
        "\"numerator\":\"80\",\"denominator\":\"1000\",\"window\":\"1h\"}},"
        "{\"status\":\"pending\",\"startsAt\":\"2026-11-22T10:01:00.000Z\","
        "\"labels\":{\"alertname\":\"volume_spike\",\"severity\":\"warning\",\"tenant\":\"beta\"},"
        "\"annotations\":{\"value\":\"4.5\",\"threshold\":\"3\",\"numerator\":\"900\","
        "\"window\":\"1d\",\"kind\":\"spike\"}}]}";
    char *out = unit_printed(cli_alerts_print, body, MP_OK);
    ck_assert_msg(strncmp(out, "STATE   SEV  RULE           TENANT     SCOPE              VALUE"
                              "  THRESH     NUM/DEN WIN  SINCE UTC\n", 99) == 0, "%s", out);
    const char *l1 = strstr(out, "\nfiring");
    const char *l2 = strstr(out, "\npending");
    ck_assert_msg(l1 && l2 && l1 < l2, "rows out of order: %s", out);
    ck_assert_msg(strncmp(l1, "\nfiring  crit bounce_rate    acme       s@acme.example     8.00%"
                              "   4.00%     80/1000 1h   11-22 10:00\n", 100) == 0,
                  "%s", out);
    ck_assert_msg(strcmp(l2, "\npending warn volume_spike   beta       (tenant)            4.5x"
                             "    3.0x       900/- 1d   11-22 10:01\n") == 0,
                  "%s", out);
    free(out);
}
END_TEST

/* Empty lists say so; a body of another shape prints nothing and is
 * refused. */
START_TEST(empty_and_other_shapes)
{
    static const struct {
        int (*fn)(FILE *, const char *);
        const char *body;
        int rc;
        const char *want;
    } cases[] = {
        {cli_alerts_print, "{\"alerts\":[]}", MP_OK, "no pending or firing alerts\n"},
        {cli_alerts_print, "{\"dead\":[]}", MP_ERR_PARSE, ""},
        {cli_alerts_print, "{\"alerts\":{}}", MP_ERR_PARSE, ""},
        {cli_alerts_print_dead, "{\"dead\":[]}", MP_OK, "no dead letters\n"},
        {cli_alerts_print_dead, "not json", MP_ERR_PARSE, ""},
        {cli_alerts_print_dead, "{\"alerts\":[]}", MP_ERR_PARSE, ""},
    };
    for (size_t i = 0; i < MP_ARRAY_LEN(cases); i++) {
        char *out = unit_printed(cases[i].fn, cases[i].body, cases[i].rc);
        ck_assert_msg(strcmp(out, cases[i].want) == 0, "%s: \"%s\"", cases[i].body, out);
        free(out);
    }
}
END_TEST

START_TEST(dead_table)
{
    const char *body = "{\"dead\":[{\"id\":7,\"receiver\":\"ops\",\"tenant\":\"acme\","
                       "\"idempotency_key\":\"abc\",\"reason\":\"http_400\",\"attempts\":1,"
                       "\"created\":\"x\",\"died\":\"2026-11-22T10:00:00.000Z\",\"body\":{}}]}";
    char *out = unit_printed(cli_alerts_print_dead, body, MP_OK);
    ck_assert_msg(strcmp(out, "DIED UTC       RECEIVER         TENANT         REASON           "
                              "ATTEMPTS IDEMPOTENCY-KEY\n"
                              "11-22 10:00:00 ops              acme           http_400         "
                              "       1 abc\n") == 0,
                  "%s", out);
    free(out);
}
END_TEST

/* Where header `h` ends in the header line, the row's cell must end too
 * (right-aligned), with a blank before it. */
static void ends_under(const char *out, const char *row, const char *h, const char *val)
{
    const char *at = strstr(out, h);
    ck_assert_msg(at && at < strchr(out, '\n'), "no header %s: %s", h, out);
    size_t end = (size_t)(at - out) + strlen(h), vl = strlen(val);
    ck_assert_msg(memcmp(row + end - vl, val, vl) == 0 && row[end - vl - 1] == ' ' &&
                      (row[end] == ' ' || row[end] == '\n'),
                  "%s does not end under %s:\n%s", val, h, out);
}

/* Realistic long data: a long rule name, a 64-character tenant, a long
 * recipient domain, a control byte in a label, counts past a billion, a
 * spike factor of many digits, a long idempotency key. Each line fits 100
 * columns; names are cut in the middle; numbers end under their headers. */
START_TEST(wide_data_fits_100)
{
    const char *body =
        "{\"alerts\":[{\"status\":\"firing\",\"startsAt\":\"2026-11-22T10:00:00.000Z\","
        "\"labels\":{\"rule\":\"complaint_rate_of_the_newsletter_stream\",\"severity\":"
        "\"critical\",\"tenant\":\"t234567890123456789012345678901234567890123456789012345678901234\","
        "\"recipient_domain\":\"mx.very-long-subdomain.example-company.co.uk\"},"
        "\"annotations\":{\"value\":\"0.123456\",\"threshold\":\"0.001\",\"numerator\":"
        "\"1234567890\",\"denominator\":\"98765432109\",\"window\":\"24h\"}},"
        "{\"status\":\"pending\",\"startsAt\":\"2026-11-22T10:01:00.000Z\",\"labels\":{\"rule\":"
        "\"spike\\u001b[2J\",\"severity\":\"page-the-oncall\",\"tenant\":\"b\",\"mailbox\":"
        "\"newsletter-weekly-digest@marketing.acme.example\"},\"annotations\":{\"value\":"
        "\"123456.789\",\"threshold\":\"3\",\"numerator\":\"900\",\"kind\":\"spike\","
        "\"window\":\"7d\"}}]}";
    char *out = unit_printed(cli_alerts_print, body, MP_OK);
    ck_assert_uint_eq(unit_lines_fit(out, 100), 3);
    ck_assert_msg(strchr(out, 0x1b) == NULL, "a control byte reached the terminal: %s", out);
    const char *r1 = strstr(out, "\nfiring"), *r2 = strstr(out, "\npending");
    ck_assert_msg(r1 && r2, "%s", out);
    r1++, r2++;
    ck_assert_msg(strstr(r1, " compla...tream t234...234 to:mx.v....co.uk "),
                  "middle ellipsis: %s", out);
    ck_assert_msg(strstr(r2, "spike?[2J ") && strstr(r2, "page ") &&
                      strstr(r2, " newslet...xample "),
                  "%s", out);
    const struct {
        const char *row, *header, *want;
    } cols[] = {
        {r1, "VALUE", "12.35%"}, {r1, "THRESH", "0.10%"}, {r1, "NUM/DEN", "1.2G/98.8G"},
        {r2, "VALUE", "123457x"}, {r2, "THRESH", "3.0x"}, {r2, "NUM/DEN", "900/-"},
    };
    for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
        ends_under(out, cols[i].row, cols[i].header, cols[i].want);
    free(out);

    const char *dead = "{\"dead\":[{\"receiver\":\"pagerduty-events-v2-eu-central\","
                       "\"tenant\":\"t234567890123456789012345678901234567890123456789012345678901234\","
                       "\"idempotency_key\":\"0123456789abcdef0123456789abcdef0123456789abcdef\","
                       "\"reason\":\"http_400_bad_request_from_receiver\",\"attempts\":123456789012,"
                       "\"died\":\"2026-11-22T10:00:00.000Z\"}]}";
    out = unit_printed(cli_alerts_print_dead, dead, MP_OK);
    ck_assert_uint_eq(unit_lines_fit(out, 100), 2);
    const char *row = strchr(out, '\n') + 1;
    ck_assert_msg(strstr(row, " 0123456789ab...456789abcdef\n") && strstr(row, " pagerdu...entral "),
                  "%s", out);
    ends_under(out, row, "ATTEMPTS", "123G");
    free(out);
}
END_TEST

CHECK_SUITE("cli_alerts", 0, NULL, NULL, urls, active_table, dead_table, wide_data_fits_100,
            empty_and_other_shapes)
