/* test_alert_slack.c — alerts/alert_slack: the Slack message people read.
 *
 * One attachment per notification: amber for a firing warning, red as soon
 * as one alert is critical, green when all are resolved; the title
 * "[FIRING:n] tenant alertname severity"; one line per alert with scope,
 * value, threshold and the figures over the window (mp_fmt's percentages);
 * channel/username/icon_emoji only when the receiver sets them; a title
 * link only with an external URL. Merging: attachments concatenated in
 * order, old {"text"} bodies joined, and a stop before a body that cannot
 * join (not Slack, or another channel).
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_rule.h"
#include "alert_slack.h"
#include "alert_testkit.h"
#include "check_main.h"

static struct alert_ruleset *rules; /* the defaults: bounce_rate is every case's rule */

static void setup(void) { ck_assert_int_eq(alert_ruleset_defaults(&rules), MP_OK); }
static void teardown(void) { alert_ruleset_free(rules); }

static json_t *att0(json_t *j)
{
    return json_array_get(json_object_get(j, "attachments"), 0);
}

START_TEST(colour_title_lines)
{
    struct alert_instance a[2] = {atk_instance(rules, NULL, "outlook.com", 10000, 231),
                                  atk_instance(rules, "s@acme.example", NULL, 10500, 42)};
    struct alert_receiver rc = {.name = "chat", .type = ALERT_RECEIVER_SLACK,
                                .channel = "#deliverability", .username = "mailpulse",
                                .icon_emoji = ":email:"};
    json_t *j = atk_parsed(alert_slack_body(&rc, "https://mp.example/alerts", a, 1));
    ck_assert_str_eq(atk_jstr(j, "channel"), "#deliverability");
    ck_assert_str_eq(atk_jstr(j, "username"), "mailpulse");
    ck_assert_str_eq(atk_jstr(j, "icon_emoji"), ":email:");
    json_t *at = att0(j);
    ck_assert_str_eq(atk_jstr(at, "color"), "#f2a900");
    ck_assert_str_eq(atk_jstr(at, "title"), "[FIRING:1] team-a bounce_rate warning");
    ck_assert_str_eq(atk_jstr(at, "title_link"), "https://mp.example/alerts");
    ck_assert_str_eq(atk_jstr(at, "text"), ":warning: *warning* bounce_rate recipient domain "
                                       "outlook.com: *2.31%* (warning at 2.00%) · 231 of 10000 "
                                       "sent over 1h");
    json_decref(j);

    /* a critical among them turns it red; no receiver options, no link */
    a[1].v.value_ppb = 50000000;
    a[1].severity = ALERT_SEV_CRITICAL;
    struct alert_receiver bare = {.name = "chat", .type = ALERT_RECEIVER_SLACK};
    j = atk_parsed(alert_slack_body(&bare, NULL, a, 2));
    ck_assert_ptr_null(json_object_get(j, "channel"));
    ck_assert_ptr_null(json_object_get(j, "username"));
    at = att0(j);
    ck_assert_str_eq(atk_jstr(at, "color"), "#d50200");
    ck_assert_ptr_null(json_object_get(at, "title_link"));
    ck_assert_str_eq(atk_jstr(at, "title"), "[FIRING:2] team-a bounce_rate");
    const char *text = atk_jstr(at, "text");
    const char *nl = strchr(text, '\n');
    ck_assert_msg(nl && !strchr(nl + 1, '\n'), "one line per alert: %s", text);
    ck_assert_msg(strstr(nl + 1, ":red_circle: *critical* bounce_rate mailbox s@acme.example: "
                                 "*5.00%* (critical at 4.00%) · 42 of 10500 sent over 1h"),
                  "%s", text);
    json_decref(j);

    /* all resolved: green, [RESOLVED], "now" the value */
    a[0].status = a[1].status = ALERT_STATUS_RESOLVED;
    a[0].v.value_ppb = 4000000;
    j = atk_parsed(alert_slack_body(&bare, NULL, a, 1));
    at = att0(j);
    ck_assert_str_eq(atk_jstr(at, "color"), "#2eb67d");
    ck_assert_str_eq(atk_jstr(at, "title"), "[RESOLVED] team-a bounce_rate warning");
    ck_assert_msg(strstr(atk_jstr(at, "text"), ":white_check_mark: *resolved* bounce_rate "
                                            "recipient domain outlook.com: now *0.40%*"),
                  "%s", atk_jstr(at, "text"));
    json_decref(j);
}
END_TEST

START_TEST(removed_rule_line)
{
    struct alert_instance a = atk_instance(rules, "a@x.example", NULL, 1000, 30);
    a.status = ALERT_STATUS_RESOLVED;
    a.rule_removed = 1;
    json_t *j = atk_parsed(alert_slack_body(NULL, NULL, &a, 1));
    ck_assert_str_eq(atk_jstr(att0(j), "text"), ":white_check_mark: *resolved* bounce_rate mailbox "
                                            "a@x.example: rule bounce_rate was removed from the "
                                            "rules file");
    json_decref(j);
}
END_TEST

/* The merged body of bodies[0..n) (NULL when nothing merged); *g the count. */
static json_t *merged(const char *const *bodies, size_t n, size_t *g)
{
    size_t lens[8];
    ck_assert_uint_le(n, MP_ARRAY_LEN(lens));
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(bodies[i]);
    char *body = NULL;
    *g = alert_slack_merge(bodies, lens, n, &body);
    ck_assert_msg((*g == 0) == (body == NULL), "merged %zu, body %s", *g, body ? body : "NULL");
    return body ? atk_parsed(body) : NULL;
}

START_TEST(merge_attachments_and_text)
{
    size_t g;
    const char *three[] = {"{\"channel\":\"#a\",\"attachments\":[{\"title\":\"one\"}]}",
                           "{\"channel\":\"#a\",\"attachments\":[{\"title\":\"two\"}]}",
                           "{\"channel\":\"#b\",\"attachments\":[{\"title\":\"three\"}]}"};
    json_t *j = merged(three, 3, &g);
    ck_assert_uint_eq(g, 2); /* another channel cannot ride along */
    ck_assert_str_eq(atk_jstr(j, "channel"), "#a");
    json_t *atts = json_object_get(j, "attachments");
    ck_assert_uint_eq(json_array_size(atts), 2);
    ck_assert_str_eq(atk_jstr(json_array_get(atts, 0), "title"), "one");
    ck_assert_str_eq(atk_jstr(json_array_get(atts, 1), "title"), "two");
    ck_assert_ptr_null(json_object_get(j, "text"));
    json_decref(j);
    /* bodies from before attachments (an old outbox) still join by text */
    const char *old[] = {"{\"text\":\"a\"}", "{\"text\":\"b \\\"q\\\"\"}", "{\"blocks\":[]}",
                         "{\"text\":\"c\"}"};
    j = merged(old, 4, &g);
    ck_assert_uint_eq(g, 2);
    ck_assert_str_eq(atk_jstr(j, "text"), "a\n\nb \"q\"");
    json_decref(j);
    ck_assert_ptr_null(merged(old, 1, &g));
    ck_assert_uint_eq(g, 0);
    const char *bad_first[] = {"{\"text\":1}", "{\"text\":\"x\"}"};
    ck_assert_ptr_null(merged(bad_first, 2, &g));
    const char *not_json[] = {"{\"text\":\"x\"}", "not json"};
    ck_assert_ptr_null(merged(not_json, 2, &g));
}
END_TEST

CHECK_SUITE("alert_slack", 0, setup, teardown, colour_title_lines, removed_rule_line,
            merge_attachments_and_text)
