/* alert_testkit.c — see alert_testkit.h. */
#include "alert_testkit.h"

#include <check.h>
#include <stdlib.h>

struct alert_instance atk_instance(const struct alert_ruleset *rules, const char *mailbox,
                                   const char *domain, uint64_t sent, uint64_t bounces)
{
    int i = alert_ruleset_find(rules, "bounce_rate");
    ck_assert_int_ge(i, 0);
    struct alert_instance a = {.rule = &alert_ruleset_for(rules, "team-a")[i],
                               .status = ALERT_STATUS_FIRING,
                               .tenant = "team-a",
                               .mailbox = mailbox,
                               .domain = domain,
                               .starts_ms = ATK_T_START};
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

const char *atk_jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

json_t *atk_parsed(char *body)
{
    ck_assert_ptr_nonnull(body);
    json_error_t je;
    json_t *j = json_loads(body, 0, &je);
    ck_assert_msg(j != NULL, "body is not JSON: %s: %s", je.text, body);
    free(body);
    return j;
}
