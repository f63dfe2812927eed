/* test_cli_alerts.c — cmd/cli_alerts: URLs and the tables of `mailpulse alerts`.
 *
 * URLs escape the tenant and put the query together right; the active table
 * shows each alert's state, rule, scope, value as a percentage (fractions),
 * a factor (spikes) or a count, and its window; the dead-letter table shows
 * reason and attempts; other JSON shapes are refused, not printed as empty.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_alerts.h"
#include "check_main.h"

/* What fn prints for body, which must return want_rc; the caller frees. */
static char *printed(int (*fn)(FILE *, const char *), const char *body, int want_rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fn(f, body), want_rc);
    fclose(f);
    return buf;
}

START_TEST(urls)
{
    char *u = NULL;
    ck_assert_int_eq(cli_alerts_url("http://h:1/", NULL, 0, 0, &u), MP_OK);
    ck_assert_str_eq(u, "http://h:1/v1/alerts");
    free(u);
    ck_assert_int_eq(cli_alerts_url("http://h:1", "a b", 0, 0, &u), MP_OK);
    ck_assert_str_eq(u, "http://h:1/v1/alerts?tenant=a%20b");
    free(u);
    ck_assert_int_eq(cli_alerts_url("http://h:1", "acme", 1, 20, &u), MP_OK);
    ck_assert_str_eq(u, "http://h:1/v1/alerts/dead?tenant=acme&limit=20");
    free(u);
    ck_assert_int_eq(cli_alerts_url("http://h:1", NULL, 1, 5, &u), MP_OK);
    ck_assert_str_eq(u, "http://h:1/v1/alerts/dead?limit=5");
    free(u);
    ck_assert_int_eq(cli_alerts_url("http://h:1//", "a/b", 1, 0, &u), MP_OK);
    ck_assert_str_eq(u, "http://h:1/v1/alerts/dead?tenant=a%2Fb");
    free(u);
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
    char *out = printed(cli_alerts_print, body, MP_OK);
    ck_assert_msg(strstr(out, "STATE") && strstr(out, "THRESHOLD"), "%s", out);
    const char *l1 = strstr(out, "\nfiring");
    const char *l2 = strstr(out, "\npending");
    ck_assert_msg(l1 && l2 && l1 < l2, "rows out of order: %s", out);
    ck_assert_msg(strstr(l1, "8.00%") && strstr(l1, "4.00%") && strstr(l1, "80/1000") &&
                      strstr(l1, "s@acme.example") && strstr(l1, "mailbox"),
                  "%s", out);
    ck_assert_msg(strstr(l2, "4.5x") && strstr(l2, "3x") && strstr(l2, "900/-") &&
                      strstr(l2, "tenant"),
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
        char *out = printed(cases[i].fn, cases[i].body, cases[i].rc);
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
    char *out = printed(cli_alerts_print_dead, body, MP_OK);
    ck_assert_msg(strncmp(out, "DIED ", 5) == 0 && strstr(out, "IDEMPOTENCY-KEY\n"), "%s", out);
    ck_assert_msg(strstr(out, "http_400") && strstr(out, "ops") && strstr(out, "abc") &&
                      strstr(out, "2026-11-22T10:00:00.000Z"),
                  "%s", out);
    const char *row = strstr(out, "\n2026-11-22T10:00:00.000Z");
    ck_assert_msg(row && strstr(row, "       1  abc\n"), "attempts and key: %s", out);
    free(out);
}
END_TEST

Suite *test_suite(void)
{
    return check_suite("cli_alerts", 0, NULL, NULL,
                       CHECK_TESTS(urls, active_table, dead_table, empty_and_other_shapes));
}
