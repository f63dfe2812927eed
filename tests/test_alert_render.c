/* test_alert_render.c — alerts/alert_render: the renderer table.
 *
 * Every receiver type has its row (named, with a body function); only
 * PagerDuty is per alert; an unknown type falls back to the webhook's row
 * rather than to NULL; each row's body is the type's own format (the
 * webhook's version "4", Slack's attachments, PagerDuty's event_action,
 * email's Subject header) for the same alert.
 */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "alert_render.h"
#include "alert_rule.h"
#include "check_main.h"

static struct alert_ruleset *rules;

static void setup(void) { ck_assert_int_eq(alert_ruleset_defaults(&rules), MP_OK); }
static void teardown(void) { alert_ruleset_free(rules); }

START_TEST(table_rows)
{
    static const struct {
        int type;
        const char *name;
        int per_alert;
        const char *marker;
    } want[] = {
        {ALERT_RECEIVER_WEBHOOK, "webhook", 0, "\"version\":\"4\""},
        {ALERT_RECEIVER_SLACK, "slack", 0, "\"attachments\":"},
        {ALERT_RECEIVER_PAGERDUTY, "pagerduty", 1, "\"event_action\":\"trigger\""},
        {ALERT_RECEIVER_EMAIL, "email", 0, "\r\nSubject: [FIRING:1] t bounce_rate warning\r\n"},
    };
    int i = alert_ruleset_find(rules, "bounce_rate");
    ck_assert_int_ge(i, 0);
    struct alert_instance a = {.rule = &alert_ruleset_for(rules, "t")[i],
                               .status = ALERT_STATUS_FIRING,
                               .severity = ALERT_SEV_WARNING,
                               .tenant = "t",
                               .starts_ms = 1795364356150LL};
    a.v.num = 25;
    a.v.den = 1000;
    a.v.value_ppb = 25000000;
    for (size_t k = 0; k < MP_ARRAY_LEN(want); k++) {
        const struct alert_render *r = alert_render_for(want[k].type);
        ck_assert_ptr_nonnull(r);
        ck_assert_str_eq(r->type_name, want[k].name);
        ck_assert_int_eq(r->per_alert, want[k].per_alert);
        struct alert_receiver rc = {.name = "r", .type = want[k].type, .routing_key = "k",
                                    .mail_from = "a@x", .mail_to = "b@x"};
        char *body = r->body(&rc, NULL, &a, 1, a.starts_ms);
        ck_assert_ptr_nonnull(body);
        ck_assert_msg(strstr(body, want[k].marker), "%s: no %s in %s", want[k].name,
                      want[k].marker, body);
        free(body);
    }
    ck_assert_str_eq(alert_render_for(99)->type_name, "webhook");
    ck_assert_str_eq(alert_render_for(-1)->type_name, "webhook");
}
END_TEST

CHECK_SUITE("alert_render", 0, setup, teardown, table_rows)
