/* test_cli_events_file.c — Check suite "cli_events_file": cmd/cli/
 * cli_events_file, the JSON Lines and CSV lines of `mailpulse replay`:
 * every column, recipient -> domain, both time forms, CSV quoting and
 * headers, and the reasons bad lines are refused with. The shipped
 * examples/team-a-bad-list.{jsonl,csv} parse whole. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "cli_events_file.h"
#include "e2e_harness.h"

static struct cli_evf *P;
static struct cli_evf_event EV;
static char WHY[320];

static void open_fmt(enum cli_evf_format f)
{
    cli_evf_free(P);
    ck_assert_int_eq(cli_evf_new(f, &P), MP_OK);
}

static void setup(void) { P = NULL; }
static void teardown(void) { cli_evf_free(P); }

static int line(const char *s) { return cli_evf_line(P, s, strlen(s), &EV, WHY, sizeof(WHY)); }

/* The line must parse into EV. */
static void must_event(const char *s)
{
    int rc = line(s);
    ck_assert_msg(rc == CLI_EVF_EVENT, "%s: %d %s", s, rc, WHY);
}

/* The line must be refused with a reason containing `want`. */
static void must_reject(const char *s, const char *want)
{
    int rc = line(s);
    ck_assert_msg(rc == MP_ERR_PARSE, "%s: accepted (%d)", s, rc);
    ck_assert_msg(strstr(WHY, want) != NULL, "%s: reason \"%s\", want \"%s\"", s, WHY, want);
}

START_TEST(json_every_column)
{
    open_fmt(CLI_EVF_JSONL);
    must_event("{\"tenant\":\"acme\",\"mailbox\":\"news@acme.example\",\"recipient_domain\":"
               "\"gmail.com\",\"type\":\"bounce_hard\",\"time\":\"2026-11-22T16:30:01.250Z\","
               "\"event_id\":\"e-1\",\"campaign\":\"nov\"}\r");
    ck_assert_str_eq(EV.tenant, "acme");
    ck_assert_str_eq(EV.mailbox, "news@acme.example");
    ck_assert_str_eq(EV.domain, "gmail.com");
    ck_assert_int_eq(EV.type, 3);
    ck_assert_int_eq(EV.time_ms, 1795365001250LL);
    ck_assert_str_eq(EV.event_id, "e-1");
    ck_assert_str_eq(EV.campaign, "nov");
    /* recipient gives its domain; time as an integer; type by number, any case */
    must_event("{\"tenant\":\"b\",\"mailbox\":\"a@b\",\"recipient\":\"x@y@Outlook.com\","
               "\"type\":\"SENT\",\"time\":1795365001000}");
    ck_assert_str_eq(EV.domain, "Outlook.com");
    ck_assert_int_eq(EV.type, 1);
    ck_assert_int_eq(EV.time_ms, 1795365001000LL);
    ck_assert_str_eq(EV.event_id, "");
    must_event("{\"tenant\":\"b\",\"mailbox\":\"a@b\",\"recipient_domain\":\"d\",\"type\":\"12\","
               "\"time\":\"1795365001000\"}");
    ck_assert_int_eq(EV.type, 12);
}
END_TEST

START_TEST(json_refusals)
{
    open_fmt(CLI_EVF_JSONL);
    const char *ok = "\"mailbox\":\"a@b\",\"recipient_domain\":\"d\",\"time\":1795365001000";
    char buf[512];
#define WITH(extra) (snprintf(buf, sizeof(buf), "{%s,%s}", ok, extra), buf)
    must_reject(WITH("\"tenant\":\"t\",\"type\":\"bonce\""), "unknown event type \"bonce\"");
    must_reject(WITH("\"tenant\":\"t\",\"type\":\"0\""), "unknown event type");
    must_reject(WITH("\"tenant\":\"t\",\"type\":\"13\""), "unknown event type");
    must_reject(WITH("\"tenant\":\"a b\",\"type\":\"sent\""), "tenant: \"a b\" is not");
    must_reject(WITH("\"tenant\":\"t\",\"type\":\"sent\",\"colour\":\"red\""),
                "unknown key \"colour\"");
    must_reject(WITH("\"tenant\":\"t\",\"type\":\"sent\",\"recipient\":\"x@y\""),
                "one of recipient_domain and recipient");
    must_reject(WITH("\"tenant\":\"t\",\"type\":3"), "type: expected a string");
    must_reject(WITH("\"type\":\"sent\""), "missing tenant");
    must_reject("{\"tenant\":\"t\",\"mailbox\":\"a@b\",\"type\":\"sent\",\"time\":1795365001000}",
                "missing recipient_domain");
    must_reject("{\"tenant\":\"t\",\"mailbox\":\"ab\",\"recipient_domain\":\"d\",\"type\":"
                "\"sent\",\"time\":1795365001000}",
                "mailbox: \"ab\" is not an address");
    must_reject("{\"tenant\":\"t\",\"mailbox\":\"a@b\",\"recipient\":\"nobody\",\"type\":"
                "\"sent\",\"time\":1795365001000}",
                "recipient: \"nobody\"");
    /* a reason quoting the line stays one printable line */
    must_reject("{\"te\\nant\\u001b[31m\":\"t\"}", "unknown key \"te?ant?[31m\"");
    must_reject("{\"tenant\":\"t\"", "not JSON");
    must_reject("[1,2]", "not a JSON object");
    must_reject("{\"tenant\":\"t\",\"tenant\":\"u\"}", "not JSON");
#undef WITH
    /* skipped, not refused */
    ck_assert_int_eq(line(""), CLI_EVF_SKIP);
    ck_assert_int_eq(line("   \t\r"), CLI_EVF_SKIP);
    ck_assert_int_eq(line("# a comment"), CLI_EVF_SKIP);
}
END_TEST

START_TEST(times)
{
    int64_t ms;
    struct { const char *s; int64_t want; } good[] = {
        {"2026-11-22T16:30:01Z", 1795365001000LL},
        {"2026-11-22t16:30:01z", 1795365001000LL},
        {"2026-11-22 16:30:01Z", 1795365001000LL},
        {"2026-11-22T17:30:01.25+01:00", 1795365001250LL},
        {"2026-11-22T16:00:01.123456-00:30", 1795365001123LL},
        {"2024-02-29T00:00:00Z", 1709164800000LL},
        {"1795365001000", 1795365001000LL},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ck_assert_msg(cli_evf_parse_time(good[i].s, &ms, WHY, sizeof(WHY)) == MP_OK, "%s: %s",
                      good[i].s, WHY);
        ck_assert_msg(ms == good[i].want, "%s: %lld", good[i].s, (long long)ms);
    }
    const char *bad[] = {"2026-11-22T16:30:01",   "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
                         "2026-11-22T24:00:00Z",  "2026-11-22T16:30:01.Z", "2026-11-22T16:30Z",
                         "2026-11-22T16:30:01+1", "1764644400",           "99999999999999999999",
                         "",                      "-5",                   "1e12"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(cli_evf_parse_time(bad[i], &ms, WHY, sizeof(WHY)) == MP_ERR_PARSE,
                      "%s accepted", bad[i]);
    ck_assert_int_eq(cli_evf_parse_time("1764644400", &ms, WHY, sizeof(WHY)), MP_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(WHY, "Unix seconds?"));
}
END_TEST

START_TEST(csv_columns_and_quoting)
{
    open_fmt(CLI_EVF_CSV);
    ck_assert_int_eq(line("time,type,recipient,mailbox,tenant,campaign,event_id"), CLI_EVF_SKIP);
    must_event("1795365001000,complaint,\"Jo, \"\"the\"\" user@gmail.com\",a@b,acme,\"\",");
    ck_assert_str_eq(EV.domain, "gmail.com");
    ck_assert_int_eq(EV.type, 7);
    ck_assert_str_eq(EV.tenant, "acme");
    ck_assert_str_eq(EV.campaign, "");
    must_event("2026-11-22T16:30:01Z,open,u@yahoo.com,a@b,acme,\"spring, sale\",id-9\r");
    ck_assert_str_eq(EV.campaign, "spring, sale");
    ck_assert_str_eq(EV.event_id, "id-9");
    must_reject("2026-11-22T16:30:01Z,open,u@yahoo.com,a@b,acme", "5 fields, the header has 7");
    must_reject("2026-11-22T16:30:01Z,open,\"u@yahoo.com,a@b,acme,,", "unterminated quote");
    must_reject("2026-11-22T16:30:01Z,open,\"u\"x,a@b,acme,,", "text after the closing quote");
    must_reject("2026-11-22T16:30:01Z,open,u\"@x,a@b,acme,,", "a quote inside");
    must_reject("2026-11-22T16:30:01Z,bogus,u@x,a@b,acme,,", "unknown event type \"bogus\"");
    must_reject("16:30,open,u@x,a@b,acme,,", "time: \"16:30\"");
}
END_TEST

START_TEST(csv_bad_headers)
{
    open_fmt(CLI_EVF_CSV);
    must_reject("tenant,mailbox,recipient_domain,type,when", "unknown column \"when\"");
    must_reject("tenant,mailbox,d,sent,1795365001000", "no valid header");
    open_fmt(CLI_EVF_CSV);
    must_reject("tenant,mailbox,type,time", "header: missing recipient_domain");
    open_fmt(CLI_EVF_CSV);
    must_reject("tenant,tenant,mailbox,recipient,type,time", "column tenant twice");
    open_fmt(CLI_EVF_CSV);
    must_reject("tenant,mailbox,recipient,recipient_domain,type,time", "not both");
    open_fmt(CLI_EVF_CSV);
    ck_assert_int_eq(line("# comment first"), CLI_EVF_SKIP);
    ck_assert_int_eq(line("tenant,mailbox,recipient_domain,type,time"), CLI_EVF_SKIP);
    must_event("t,a@b,d,sent,1795365001000");
}
END_TEST

START_TEST(formats)
{
    enum cli_evf_format f;
    ck_assert_int_eq(cli_evf_format_of("x/a.JSONL", &f), MP_OK);
    ck_assert_int_eq(f, CLI_EVF_JSONL);
    ck_assert_int_eq(cli_evf_format_of("a.ndjson", &f), MP_OK);
    ck_assert_int_eq(cli_evf_format_of("a.csv", &f), MP_OK);
    ck_assert_int_eq(f, CLI_EVF_CSV);
    ck_assert_int_eq(cli_evf_format_of("a.txt", &f), MP_ERR_NOTFOUND);
    ck_assert_int_eq(cli_evf_format_of("dir.csv/a", &f), MP_ERR_NOTFOUND);
    ck_assert_int_eq(cli_evf_format_parse("csv", &f), MP_OK);
    ck_assert_int_eq(cli_evf_format_parse("xml", &f), MP_ERR_INVAL);
}
END_TEST

/* Both shipped examples parse whole, to the same events: the story of
 * Team A (team-a's gmail.com list bounces above 4%) and a steady team B. */
static void example(const char *path, enum cli_evf_format f, unsigned counts[2][2])
{
    char *text = NULL;
    size_t len = 0;
    ck_assert_msg(e2e_read_file(path, &text, &len) == MP_OK, "cannot read %s", path);
    open_fmt(f);
    size_t lineno = 0;
    for (char *s = text, *nl; s < text + len; s = nl + 1) {
        nl = memchr(s, '\n', len - (size_t)(s - text));
        ck_assert_ptr_nonnull(nl);
        lineno++;
        int rc = cli_evf_line(P, s, (size_t)(nl - s), &EV, WHY, sizeof(WHY));
        ck_assert_msg(rc >= 0, "%s:%zu: %s", path, lineno, WHY);
        if (rc == CLI_EVF_EVENT && strcmp(EV.domain, "gmail.com") == 0) {
            int t = strcmp(EV.tenant, "team-a") == 0 ? 0 : 1;
            counts[t][0] += EV.type == 1;
            counts[t][1] += EV.type == 3;
        }
    }
    free(text);
}

START_TEST(shipped_examples)
{
    unsigned j[2][2] = {{0}}, c[2][2] = {{0}};
    example("examples/team-a-bad-list.jsonl", CLI_EVF_JSONL, j);
    example("examples/team-a-bad-list.csv", CLI_EVF_CSV, c);
    ck_assert_mem_eq(j, c, sizeof(j));
    ck_assert_uint_ge(j[0][0], 100); /* the rule's min_volume */
    ck_assert_msg(j[0][1] * 100 > j[0][0] * 4, "team-a: %u/%u", j[0][1], j[0][0]);
    ck_assert_msg(j[1][1] * 100 < j[1][0] * 2, "team-b: %u/%u", j[1][1], j[1][0]);
}
END_TEST

CHECK_SUITE("cli_events_file", 30, setup, teardown, json_every_column, json_refusals, times,
            csv_columns_and_quoting, csv_bad_headers, formats, shipped_examples)
