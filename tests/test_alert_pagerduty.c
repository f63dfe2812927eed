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
#include "check_main.h"

#define T_START 1795364356150LL /* 2026-11-22T16:19:16.150Z */

static struct alert_ruleset *rules; /* the defaults: bounce_rate is every case's rule */

static void setup(void) { ck_assert_int_eq(alert_ruleset_defaults(&rules), MP_OK); }
static void teardown(void) { alert_ruleset_free(rules); }

/* A firing bounce_rate alert of tenant team-a: `bounces` of `sent` over the
 * rule's window, at the severity that value reaches. */
static struct alert_instance instance(const char *mailbox, const char *domain, uint64_t sent,
                                      uint64_t bounces)
{
    int i = alert_ruleset_find(rules, "bounce_rate");
    ck_assert_int_ge(i, 0);
    struct alert_instance a = {.rule = &alert_ruleset_for(rules, "team-a")[i],
                               .status = ALERT_STATUS_FIRING,
                               .tenant = "team-a",
                               .mailbox = mailbox,
                               .domain = domain,
                               .starts_ms = T_START};
    a.v.num = bounces;
    a.v.den = sent;
    a.v.value_ppb = bounces * ALERT_PPB / sent;
    a.v.enough = 1;
    a.v.severity = a.v.value_ppb >= a.rule->critical_ppb  ? ALERT_SEV_CRITICAL
                   : a.v.value_ppb >= a.rule->warning_ppb ? ALERT_SEV_WARNING
                                                          : ALERT_SEV_NONE;
    a.severity = a.v.severity;
    return a;
}

static const char *jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* A built body as JSON (the body is freed); the caller json_decref()s it. */
static json_t *parsed(char *body)
{
    ck_assert_ptr_nonnull(body);
    json_error_t je;
    json_t *j = json_loads(body, 0, &je);
    ck_assert_msg(j != NULL, "body is not JSON: %s: %s", je.text, body);
    free(body);
    return j;
}

START_TEST(trigger_and_resolve)
{
    struct alert_instance a = instance(NULL, "outlook.com", 10000, 231);
    struct alert_receiver rc = {.name = "pager", .type = ALERT_RECEIVER_PAGERDUTY,
                                .routing_key = "R0UTINGKEY"};
    char fp[17];
    alert_fingerprint(&a, fp);
    json_t *j = parsed(alert_pagerduty_event(&rc, "https://mp.example", &a));
    ck_assert_str_eq(jstr(j, "routing_key"), "R0UTINGKEY");
    ck_assert_str_eq(jstr(j, "event_action"), "trigger");
    ck_assert_str_eq(jstr(j, "dedup_key"), fp);
    ck_assert_str_eq(jstr(j, "client"), "mailpulse");
    ck_assert_str_eq(jstr(j, "client_url"), "https://mp.example");
    json_t *p = json_object_get(j, "payload");
    ck_assert_str_eq(jstr(p, "severity"), "warning");
    ck_assert_str_eq(jstr(p, "source"), "mailpulse tenant team-a recipient domain outlook.com");
    ck_assert_str_eq(jstr(p, "summary"), "bounce_rate 2.31% for tenant team-a recipient domain "
                                         "outlook.com (231 of 10000 sent over 1h), warning at "
                                         "2.00%");
    ck_assert_str_eq(jstr(p, "timestamp"), "2026-11-22T16:19:16.150Z");
    ck_assert_str_eq(jstr(p, "class"), "bounce_rate");
    json_t *d = json_object_get(p, "custom_details");
    ck_assert_str_eq(jstr(d, "value"), "2.31%");
    ck_assert_str_eq(jstr(d, "threshold"), "2.00%");
    ck_assert_int_eq(json_integer_value(json_object_get(d, "numerator")), 231);
    ck_assert_int_eq(json_integer_value(json_object_get(d, "denominator")), 10000);
    ck_assert_str_eq(jstr(d, "window"), "1h");
    ck_assert_str_eq(jstr(d, "recipient_domain"), "outlook.com");
    json_decref(j);

    /* escalated to critical: same incident, critical severity */
    a.severity = ALERT_SEV_CRITICAL;
    j = parsed(alert_pagerduty_event(&rc, NULL, &a));
    ck_assert_str_eq(jstr(j, "dedup_key"), fp);
    ck_assert_str_eq(jstr(json_object_get(j, "payload"), "severity"), "critical");
    ck_assert_ptr_null(json_object_get(j, "client_url"));
    json_decref(j);

    a.status = ALERT_STATUS_RESOLVED;
    j = parsed(alert_pagerduty_event(&rc, NULL, &a));
    ck_assert_str_eq(jstr(j, "event_action"), "resolve");
    ck_assert_str_eq(jstr(j, "dedup_key"), fp);
    json_decref(j);
}
END_TEST

START_TEST(summary_cut_to_limit)
{
    char mb[1200];
    memset(mb, 'm', sizeof(mb) - 1);
    mb[sizeof(mb) - 1] = '\0';
    struct alert_instance a = instance(mb, NULL, 10000, 231);
    struct alert_receiver rc = {.name = "pager", .type = ALERT_RECEIVER_PAGERDUTY,
                                .routing_key = "k"};
    json_t *j = parsed(alert_pagerduty_event(&rc, NULL, &a));
    const char *s = jstr(json_object_get(j, "payload"), "summary");
    ck_assert_uint_le(strlen(s), ALERT_PAGERDUTY_SUMMARY_MAX - 1);
    ck_assert_uint_ge(strlen(s), 200);
    json_decref(j);
}
END_TEST

Suite *test_suite(void)
{
    return check_suite("alert_pagerduty", 0, setup, teardown,
                       CHECK_TESTS(trigger_and_resolve, summary_cut_to_limit));
}
