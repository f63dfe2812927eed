/* test_cli_silence.c — cmd/cli_silence: the pieces of `mailpulse silence`.
 *
 * Matchers as people type them become Alertmanager's matcher JSON (all four
 * operators, quoted values with escapes; bad names and operators refused);
 * durations take s, m, h and d within bounds; the query table shows id,
 * state, end, author and matchers within 100 columns, says so when there
 * are none, and refuses a body of another shape.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "unit_util.h"
#include "cli_silence.h"

static void matcher_is(const char *text, const char *name, const char *value, int re, int eq)
{
    json_t *m = NULL;
    ck_assert_msg(cli_silence_matcher(text, &m) == MP_OK, "%s refused", text);
    ck_assert_str_eq(json_string_value(json_object_get(m, "name")), name);
    ck_assert_str_eq(json_string_value(json_object_get(m, "value")), value);
    ck_assert_int_eq(json_is_true(json_object_get(m, "isRegex")), re);
    ck_assert_int_eq(json_is_true(json_object_get(m, "isEqual")), eq);
    json_decref(m);
}

START_TEST(matchers)
{
    matcher_is("tenant=acme", "tenant", "acme", 0, 1);
    matcher_is("severity!=warning", "severity", "warning", 0, 0);
    matcher_is("alertname=~\"bounce.*\"", "alertname", "bounce.*", 1, 1);
    matcher_is("recipient_domain!~gmail\\.com", "recipient_domain", "gmail\\.com", 1, 0);
    matcher_is("mailbox=\"a\\\"b\"", "mailbox", "a\"b", 0, 1);
    matcher_is("tenant=", "tenant", "", 0, 1);
    const char *bad[] = {"", "=x", "9a=b", "tenant", "tenant~x", "ten-ant=x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        json_t *m = NULL;
        ck_assert_msg(cli_silence_matcher(bad[i], &m) == MP_ERR_INVAL, "accepted \"%s\"", bad[i]);
    }
}
END_TEST

START_TEST(durations)
{
    int64_t ms = 0;
    ck_assert_int_eq(cli_silence_duration("90s", &ms), MP_OK);
    ck_assert_int_eq(ms, 90000);
    ck_assert_int_eq(cli_silence_duration("2h", &ms), MP_OK);
    ck_assert_int_eq(ms, 7200000);
    ck_assert_int_eq(cli_silence_duration("7d", &ms), MP_OK);
    ck_assert_int_eq(ms, 7 * 86400000LL);
    ck_assert_int_eq(cli_silence_duration("3650d", &ms), MP_OK);
    const char *bad[] = {"", "0h", "-1h", "1", "1w", "1h30m", "3651d", "h", "+1h"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        ck_assert_msg(cli_silence_duration(bad[i], &ms) == MP_ERR_INVAL, "accepted \"%s\"",
                      bad[i]);
}
END_TEST

START_TEST(table)
{
    char *out = unit_printed(cli_silence_print, "[]", MP_OK);
    ck_assert_str_eq(out, "no silences\n");
    free(out);
    out = unit_printed(cli_silence_print, "{\"silences\":[]}", MP_ERR_PARSE);
    ck_assert_str_eq(out, "");
    free(out);
    const char *body =
        "[{\"id\":\"6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab\",\"status\":{\"state\":\"active\"},"
        "\"endsAt\":\"2026-12-02T05:47:00.000Z\",\"createdBy\":\"ops@a-very-long-company.example\","
        "\"comment\":\"c\",\"matchers\":[{\"name\":\"tenant\",\"value\":\"acme\",\"isRegex\":false,"
        "\"isEqual\":true},{\"name\":\"recipient_domain\",\"value\":\"gmail\\\\.com|yahoo\\\\.com|"
        "outlook\\\\.com\",\"isRegex\":true,\"isEqual\":false}]}]";
    out = unit_printed(cli_silence_print, body, MP_OK);
    ck_assert_msg(strstr(out, "ID") && strstr(out, "MATCHERS") &&
                      strstr(out, "6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab active  12-02 05:47") &&
                      strstr(out, "tenant=acme"),
                  "%s", out);
    for (const char *p = out; *p;) {
        size_t l = strcspn(p, "\n");
        ck_assert_msg(l <= 100, "line of %zu: %.*s", l, (int)l, p);
        p += l + (p[l] != '\0');
    }
    free(out);
}
END_TEST

CHECK_SUITE("cli_silence", 0, NULL, NULL, matchers, durations, table)
