/* test_alert_email.c — alerts/alert_email: the notification email.
 *
 * Headers (From, To, Subject = the title, Date in RFC 5322 form, a
 * Message-ID that is the same for the same notification and differs for
 * another, MIME-Version, multipart/alternative with its boundary closing the
 * message), CRLF line endings throughout, text lines wrapped at 76 on
 * spaces (a long mailbox stays whole), the HTML part escaping '<' and '&',
 * resolved alerts and the removed-rule wording, and the external URL in
 * both parts only when set.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_email.h"
#include "alert_rule.h"
#include "alert_testkit.h"
#include "check_main.h"

#define T_START ATK_T_START

static struct alert_ruleset *rules; /* the defaults: bounce_rate is every case's rule */

static void setup(void) { ck_assert_int_eq(alert_ruleset_defaults(&rules), MP_OK); }
static void teardown(void) { alert_ruleset_free(rules); }

static const struct alert_receiver RC = {.name = "mail", .type = ALERT_RECEIVER_EMAIL,
                                         .url = "smtp://127.0.0.1:25",
                                         .mail_from = "mp <mp@x.example>",
                                         .mail_to = "a@x.example, b@x.example"};

static void has(const char *msg, const char *needle)
{
    ck_assert_msg(strstr(msg, needle) != NULL, "no \"%s\" in:\n%s", needle, msg);
}

/* Every line ends in CRLF (no bare LF) and is at most `max` long. */
static void lines_ok(const char *msg, size_t max)
{
    for (const char *l = msg; *l;) {
        const char *e = strstr(l, "\r\n");
        ck_assert_msg(e != NULL, "last line without CRLF: %s", l);
        ck_assert_msg(memchr(l, '\n', (size_t)(e - l)) == NULL, "bare LF in: %.*s", (int)(e - l), l);
        ck_assert_msg((size_t)(e - l) <= max, "line of %zu: %.*s", (size_t)(e - l), (int)(e - l), l);
        l = e + 2;
    }
}

START_TEST(headers_and_parts)
{
    struct alert_instance a[2] = {atk_instance(rules, NULL, "outlook.com", 10000, 231),
                                  atk_instance(rules, "s@acme.example", NULL, 10000, 231)};
    char *m = alert_email_message(&RC, "https://mp.example/alerts", a, 2, T_START);
    ck_assert_ptr_nonnull(m);
    ck_assert_msg(strncmp(m, "From: mp <mp@x.example>\r\nTo: a@x.example, b@x.example\r\n"
                             "Subject: [FIRING:2] team-a bounce_rate warning\r\n"
                             "Date: Sun, 22 Nov 2026 16:19:16 +0000\r\n"
                             "Message-ID: <", 150) == 0, "%s", m);
    has(m, "\r\nMIME-Version: 1.0\r\n");
    const char *bd = strstr(m, "boundary=\"");
    ck_assert_ptr_nonnull(bd);
    char boundary[64], close[80];
    ck_assert_int_eq(sscanf(bd, "boundary=\"%63[^\"]\"", boundary), 1);
    snprintf(close, sizeof(close), "\r\n--%s--\r\n", boundary);
    ck_assert_msg(strlen(m) >= strlen(close) && strcmp(m + strlen(m) - strlen(close), close) == 0,
                  "does not end with the closing boundary: %s", m);
    has(m, "Content-Type: text/plain; charset=utf-8\r\n");
    has(m, "Content-Type: text/html; charset=utf-8\r\n");
    has(m, "\r\nWARNING bounce_rate, recipient domain outlook.com\r\n"
           "  value 2.31% (warning at 2.00%)\r\n  231 of 10000 sent over 1h\r\n"
           "  since 2026-11-22T16:19:16.150Z\r\n");
    has(m, "\r\nhttps://mp.example/alerts\r\n");
    has(m, "<a href=\"https://mp.example/alerts\">");
    lines_ok(m, 78);

    /* same notification, same Message-ID; another decision time, another */
    char *m2 = alert_email_message(&RC, "https://mp.example/alerts", a, 2, T_START);
    char *m3 = alert_email_message(&RC, NULL, a, 2, T_START + 1000);
    const char *id = strstr(m, "Message-ID: "), *id2 = strstr(m2, "Message-ID: "),
               *id3 = strstr(m3, "Message-ID: ");
    ck_assert_int_eq(strncmp(id, id2, 60), 0);
    ck_assert_int_ne(strncmp(id, id3, 40), 0);
    ck_assert_ptr_null(strstr(m3, "mp.example")); /* no URL, no link */
    free(m);
    free(m2);
    free(m3);
}
END_TEST

START_TEST(wrapping_and_escaping)
{
    char mb[200];
    snprintf(mb, sizeof(mb), "%s", "a-very-long-mailbox-name-that-goes-on-and-on&<x>@"
                                    "newsletters.some-long-domain.example");
    struct alert_instance a = atk_instance(rules, mb, NULL, 10000, 231);
    char *m = alert_email_message(&RC, NULL, &a, 1, T_START);
    ck_assert_ptr_nonnull(m);
    /* the head line wraps before the mailbox, which stays whole */
    has(m, "\r\nWARNING bounce_rate, mailbox\r\n    a-very-long-mailbox-name");
    has(m, "on-and-on&amp;&lt;x&gt;@");
    lines_ok(m, 998); /* SMTP's limit; 78 where words allow */
    free(m);
}
END_TEST

START_TEST(resolved_and_removed)
{
    struct alert_instance a = atk_instance(rules, NULL, "outlook.com", 10000, 40);
    a.status = ALERT_STATUS_RESOLVED;
    a.severity = ALERT_SEV_WARNING;
    a.ends_ms = T_START + 60000;
    char *m = alert_email_message(&RC, NULL, &a, 1, T_START + 60000);
    has(m, "Subject: [RESOLVED] team-a bounce_rate warning\r\n");
    has(m, "\r\nRESOLVED bounce_rate, recipient domain outlook.com\r\n  now 0.40% (warning at "
           "2.00%)\r\n");
    has(m, "  resolved at 2026-11-22T16:20:16.150Z\r\n");
    free(m);
    a.rule_removed = 1;
    m = alert_email_message(&RC, NULL, &a, 1, T_START + 60000);
    has(m, "  rule bounce_rate was removed from the rules file\r\n");
    free(m);
}
END_TEST

CHECK_SUITE("alert_email", 0, setup, teardown, headers_and_parts, wrapping_and_escaping,
            resolved_and_removed)
