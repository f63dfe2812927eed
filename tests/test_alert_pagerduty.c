/* test_alert_pagerduty.c — alerts/alert_pagerduty: Events API v2 events.
 *
 * A firing alert is a trigger, a resolved one a resolve, both with the
 * alert's fingerprint as dedup_key (the same across warning -> critical);
 * severities map one to one; the payload carries summary, source, severity,
 * timestamp and custom details with the figures; client_url only with an
 * external URL; a very long summary is cut to the API's 1024 bytes.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_pagerduty.h"
#include "alert_rule.h"
#include "alert_testkit.h"
#include "check_main.h"

static struct alert_ruleset *rules; /* the defaults: bounce_rate is every case's rule */

static void setup(void) { ck_assert_int_eq(alert_ruleset_defaults(&rules), MP_OK); }
static void teardown(void) { alert_ruleset_free(rules); }

START_TEST(trigger_and_resolve)
{
    struct alert_instance a = atk_instance(rules, NULL, "outlook.com", 10000, 231);
    struct alert_receiver rc = {.name = "pager", .type = ALERT_RECEIVER_PAGERDUTY,
                                .routing_key = "R0UTINGKEY"};
    char fp[17];
    alert_fingerprint(&a, fp);
    json_t *j = atk_parsed(alert_pagerduty_event(&rc, "https://mp.example", &a));
    ck_assert_str_eq(atk_jstr(j, "routing_key"), "R0UTINGKEY");
    ck_assert_str_eq(atk_jstr(j, "event_action"), "trigger");
    ck_assert_str_eq(atk_jstr(j, "dedup_key"), fp);
    ck_assert_str_eq(atk_jstr(j, "client"), "mailpulse");
    ck_assert_str_eq(atk_jstr(j, "client_url"), "https://mp.example");
    json_t *p = json_object_get(j, "payload");
    ck_assert_str_eq(atk_jstr(p, "severity"), "warning");
    ck_assert_str_eq(atk_jstr(p, "source"), "mailpulse tenant team-a recipient domain outlook.com");
    ck_assert_str_eq(atk_jstr(p, "summary"), "bounce_rate 2.31% for tenant team-a recipient domain "
                                         "outlook.com (231 of 10000 sent over 1h), warning at "
                                         "2.00%");
    ck_assert_str_eq(atk_jstr(p, "timestamp"), "2026-11-22T16:19:16.150Z");
    ck_assert_str_eq(atk_jstr(p, "class"), "bounce_rate");
    json_t *d = json_object_get(p, "custom_details");
    ck_assert_str_eq(atk_jstr(d, "value"), "2.31%");
    ck_assert_str_eq(atk_jstr(d, "threshold"), "2.00%");
    ck_assert_int_eq(json_integer_value(json_object_get(d, "numerator")), 231);
    ck_assert_int_eq(json_integer_value(json_object_get(d, "denominator")), 10000);
    ck_assert_str_eq(atk_jstr(d, "window"), "1h");
    ck_assert_str_eq(atk_jstr(d, "recipient_domain"), "outlook.com");
    json_decref(j);

    /* escalated to critical: same incident, critical severity */
    a.severity = ALERT_SEV_CRITICAL;
    j = atk_parsed(alert_pagerduty_event(&rc, NULL, &a));
    ck_assert_str_eq(atk_jstr(j, "dedup_key"), fp);
    ck_assert_str_eq(atk_jstr(json_object_get(j, "payload"), "severity"), "critical");
    ck_assert_ptr_null(json_object_get(j, "client_url"));
    json_decref(j);

    a.status = ALERT_STATUS_RESOLVED;
    j = atk_parsed(alert_pagerduty_event(&rc, NULL, &a));
    ck_assert_str_eq(atk_jstr(j, "event_action"), "resolve");
    ck_assert_str_eq(atk_jstr(j, "dedup_key"), fp);
    json_decref(j);
}
END_TEST

START_TEST(summary_cut_to_limit)
{
    char mb[1200];
    memset(mb, 'm', sizeof(mb) - 1);
    mb[sizeof(mb) - 1] = '\0';
    struct alert_instance a = atk_instance(rules, mb, NULL, 10000, 231);
    struct alert_receiver rc = {.name = "pager", .type = ALERT_RECEIVER_PAGERDUTY,
                                .routing_key = "k"};
    json_t *j = atk_parsed(alert_pagerduty_event(&rc, NULL, &a));
    const char *s = atk_jstr(json_object_get(j, "payload"), "summary");
    ck_assert_uint_le(strlen(s), ALERT_PAGERDUTY_SUMMARY_MAX - 1);
    ck_assert_uint_ge(strlen(s), 200);
    json_decref(j);
}
END_TEST

CHECK_SUITE("alert_pagerduty", 0, setup, teardown, trigger_and_resolve, summary_cut_to_limit)
