/* test_cli_history.c — Check suite "cli_history": cmd/cli/cli_history, what
 * `mailpulse history` builds and prints.
 *
 * The request URL (values percent-encoded, absent ones not sent), the table
 * from a fixed API body (days as dates, hours as "MM-DD HH:MM", counts
 * right-aligned under their types, the rate as a percentage, "-" for
 * null; every row within 100 columns, with all 12 types too), the CSV
 * (header, RFC 3339 times, plain rate, empty for null) and bodies of
 * another shape refused. The real binary against the real daemon is in
 * test_e2e_history.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "cli_history.h"
#include "cli_table.h"

START_TEST(url)
{
    char *u = NULL;
    struct cli_history_query q = {.scope = "mailbox", .name = "a b@x.example", .step = "1d",
                                  .rate = "bounce_hard/sent", .from = "2026-11-01T00:00:00Z"};
    ck_assert_int_eq(cli_history_url("http://h:1/", "acme", &q, &u), MP_OK);
    ck_assert_str_eq(u, "http://h:1/v1/tenants/acme/series?scope=mailbox&name=a%20b%40x.example"
                        "&rate=bounce_hard%2Fsent&step=1d&from=2026-11-01T00%3A00%3A00Z");
    free(u);
    struct cli_history_query none = {0};
    ck_assert_int_eq(cli_history_url("http://h:1", "a/b", &none, &u), MP_OK);
    ck_assert_str_eq(u, "http://h:1/v1/tenants/a%2Fb/series");
    free(u);
}
END_TEST

static const char days[] =
    "{\"tenant\":\"acme\",\"scope\":\"mailbox\",\"name\":\"ops@acme.example\",\"step\":\"1d\","
    "\"from\":\"2026-11-20T00:00:00Z\",\"to\":\"2026-11-21T00:00:00Z\","
    "\"types\":[\"sent\",\"bounce_hard\"],\"rate\":\"bounce_hard/sent\",\"points\":["
    "{\"t\":\"2026-11-20T00:00:00Z\",\"ts\":1795132800,\"counts\":{\"sent\":200,"
    "\"bounce_hard\":10},\"rate\":0.05},"
    "{\"t\":\"2026-11-21T00:00:00Z\",\"ts\":1795219200,\"counts\":{\"sent\":0,"
    "\"bounce_hard\":0},\"rate\":null}]}";

static char *run(int (*fn)(FILE *, const char *), const char *body, int want_rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_int_eq(fn(f, body), want_rc);
    fclose(f);
    return buf;
}

/* Every line of s is at most CLI_TABLE_WIDTH columns (ASCII here). */
static void fits(const char *s)
{
    for (const char *p = s; *p;) {
        size_t n = strcspn(p, "\n");
        ck_assert_msg(n <= CLI_TABLE_WIDTH, "%zu columns: %.*s", n, (int)n, p);
        p += n + (p[n] == '\n');
    }
}

START_TEST(table)
{
    char *out = run(cli_history_print, days, MP_OK);
    ck_assert_ptr_nonnull(strstr(out, "tenant acme, mailbox ops@acme.example, step 1d\n"
                                      "2026-11-20T00:00:00Z .. 2026-11-21T00:00:00Z, rate "
                                      "bounce_hard/sent\n"));
    ck_assert_ptr_nonnull(strstr(out, "  2026-11-20 "));
    ck_assert_ptr_nonnull(strstr(out, "  2026-11-21 "));
    ck_assert_ptr_nonnull(strstr(out, "5.00%\n"));
    ck_assert_ptr_nonnull(strstr(out, "-\n"));
    /* the counts end under their headers' right edges */
    const char *hdr = strstr(out, "time (UTC)"), *row = strstr(out, "  2026-11-20 ");
    const char *hs = strstr(hdr, "sent"), *rs = strstr(row, "200");
    ck_assert_int_eq((hs + 4) - hdr, (rs + 3) - (row + 2));
    fits(out);
    free(out);
}
END_TEST

START_TEST(table_hours_all_types)
{
    static const char body[] =
        "{\"tenant\":\"acme\",\"scope\":\"tenant\",\"step\":\"1h\",\"from\":\"2026-11-22T10:00:00Z\","
        "\"to\":\"2026-11-22T10:00:00Z\",\"types\":[\"sent\",\"delivered\",\"bounce_hard\","
        "\"bounce_soft\",\"deferred\",\"blocked\",\"complaint\",\"open\",\"click\",\"reply\","
        "\"unsubscribe\",\"spam_trap\"],\"points\":[{\"t\":\"2026-11-22T10:00:00Z\",\"ts\":1,"
        "\"counts\":{\"sent\":123456789,\"delivered\":1}}]}";
    char *out = run(cli_history_print, body, MP_OK);
    ck_assert_ptr_nonnull(strstr(out, "  11-22 10:00 "));
    fits(out);
    free(out);
}
END_TEST

START_TEST(csv)
{
    char *out = run(cli_history_csv, days, MP_OK);
    ck_assert_str_eq(out, "time,sent,bounce_hard,rate\n"
                          "2026-11-20T00:00:00Z,200,10,0.05\n"
                          "2026-11-21T00:00:00Z,0,0,\n");
    free(out);
}
END_TEST

START_TEST(other_shapes)
{
    static const char *const bodies[] = {"", "{}", "[]", "{\"points\":[],\"types\":[]}",
                                         "{\"error\":\"x\"}"};
    for (size_t i = 0; i < MP_ARRAY_LEN(bodies); i++) {
        free(run(cli_history_print, bodies[i], MP_ERR_PARSE));
        free(run(cli_history_csv, bodies[i], MP_ERR_PARSE));
    }
}
END_TEST

CHECK_SUITE("cli_history", 0, NULL, NULL, url, table, table_hours_all_types, csv, other_shapes)
