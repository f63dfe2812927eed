/* test_alert_dmarc.c — Check suite "alert_dmarc": the DMARC rules'
 * decisions (alerts/alert_dmarc.h) and their pick out of a rule set.
 *
 *   rate_thresholds   1% / 5% over messages, exactly (10 of 1000 is 1%,
 *                     9 of 1000 is not), severities warning and critical
 *   min_volume        under the volume there is nothing to say, at it there is
 *   severity_change   warning -> critical -> warning (de-escalation), the
 *                     hysteresis under the warning line, resolve under the
 *                     resolve line, a disabled rule resolves
 *   count_rule        dmarc_count: whole counts, min_volume on the count
 *   pick              only the DMARC rules, in order, with their overrides
 */
#include <check.h>
#include <string.h>

#include "alert_dmarc.h"
#include "alert_rules_file.h"
#include "check_main.h"
#include "mp.h"

static struct alert_rule rate_rule(void)
{
    struct alert_rule r = {.name = "dmarc_fail_rate", .kind = ALERT_KIND_DMARC_RATE,
                           .enabled = 1, .dmarc_count = ENG_DMARC_FAIL, .min_volume = 100,
                           .warning_ppb = 10000000, .critical_ppb = 50000000,
                           .resolve_ratio_ppb = 900000000};
    alert_rule_derive(&r);
    return r;
}

static int sev_of(const struct alert_rule *r, uint64_t messages, uint64_t failed)
{
    uint64_t c[ENG_DMARC_NCOUNTS] = {0};
    c[ENG_DMARC_MESSAGES] = messages;
    c[r->dmarc_count] = failed;
    struct alert_value v;
    alert_dmarc_eval(r, c, &v);
    return v.severity;
}

START_TEST(rate_thresholds)
{
    struct alert_rule r = rate_rule();
    ck_assert_int_eq(sev_of(&r, 1000, 9), ALERT_SEV_NONE);
    ck_assert_int_eq(sev_of(&r, 1000, 10), ALERT_SEV_WARNING); /* exactly 1% */
    ck_assert_int_eq(sev_of(&r, 1000, 49), ALERT_SEV_WARNING);
    ck_assert_int_eq(sev_of(&r, 1000, 50), ALERT_SEV_CRITICAL);
    ck_assert_int_eq(sev_of(&r, 1000, 1000), ALERT_SEV_CRITICAL);
    uint64_t c[ENG_DMARC_NCOUNTS] = {0};
    c[ENG_DMARC_MESSAGES] = 195;
    c[ENG_DMARC_FAIL] = 5;
    c[ENG_DMARC_DKIM_FAIL] = 195; /* another counter: not this rule's */
    struct alert_value v;
    alert_dmarc_eval(&r, c, &v);
    ck_assert_uint_eq(v.num, 5);
    ck_assert_uint_eq(v.den, 195);
    ck_assert_uint_eq(v.value_ppb, 25641025); /* 5/195, floored */
    ck_assert_int_eq(v.severity, ALERT_SEV_WARNING);
}
END_TEST

START_TEST(min_volume)
{
    struct alert_rule r = rate_rule();
    ck_assert_int_eq(sev_of(&r, 99, 99), ALERT_SEV_NONE); /* all failing, too few */
    ck_assert_int_eq(sev_of(&r, 100, 99), ALERT_SEV_CRITICAL);
    ck_assert_int_eq(sev_of(&r, 0, 0), ALERT_SEV_NONE);
    r.min_volume = 0; /* no messages is still nothing, not a division */
    ck_assert_int_eq(sev_of(&r, 0, 0), ALERT_SEV_NONE);
    ck_assert_int_eq(sev_of(&r, 1, 1), ALERT_SEV_CRITICAL);
}
END_TEST

static int next(const struct alert_rule *r, int prev, uint64_t messages, uint64_t failed)
{
    uint64_t c[ENG_DMARC_NCOUNTS] = {0};
    c[ENG_DMARC_MESSAGES] = messages;
    c[r->dmarc_count] = failed;
    struct alert_value v;
    alert_dmarc_eval(r, c, &v);
    return alert_dmarc_next(r, prev, &v);
}

START_TEST(severity_change)
{
    struct alert_rule r = rate_rule(); /* resolve line: 0.9% */
    ck_assert_int_eq(next(&r, ALERT_SEV_NONE, 1000, 20), ALERT_SEV_WARNING);
    ck_assert_int_eq(next(&r, ALERT_SEV_WARNING, 1000, 60), ALERT_SEV_CRITICAL);
    ck_assert_int_eq(next(&r, ALERT_SEV_CRITICAL, 1000, 20), ALERT_SEV_WARNING);
    /* 0.95%: under the warning line, over the resolve line: stays */
    ck_assert_int_eq(next(&r, ALERT_SEV_WARNING, 10000, 95), ALERT_SEV_WARNING);
    ck_assert_int_eq(next(&r, ALERT_SEV_CRITICAL, 10000, 95), ALERT_SEV_CRITICAL);
    /* ... but a quiet key does not start firing there */
    ck_assert_int_eq(next(&r, ALERT_SEV_NONE, 10000, 95), ALERT_SEV_NONE);
    ck_assert_int_eq(next(&r, ALERT_SEV_WARNING, 10000, 89), ALERT_SEV_NONE);
    ck_assert_int_eq(next(&r, ALERT_SEV_WARNING, 50, 50), ALERT_SEV_NONE); /* under volume */
    r.enabled = 0;
    ck_assert_int_eq(next(&r, ALERT_SEV_CRITICAL, 1000, 500), ALERT_SEV_NONE);
}
END_TEST

START_TEST(count_rule)
{
    struct alert_rule r = {.name = "dmarc_reject", .kind = ALERT_KIND_DMARC_COUNT, .enabled = 1,
                           .dmarc_count = ENG_DMARC_DISP_REJECT, .min_volume = 1,
                           .warning_ppb = 10 * ALERT_PPB, .critical_ppb = 100 * ALERT_PPB,
                           .resolve_ratio_ppb = 900000000};
    alert_rule_derive(&r);
    ck_assert_int_eq(sev_of(&r, 0, 9), ALERT_SEV_NONE);
    ck_assert_int_eq(sev_of(&r, 0, 10), ALERT_SEV_WARNING); /* messages do not matter */
    ck_assert_int_eq(sev_of(&r, 1000000, 100), ALERT_SEV_CRITICAL);
    ck_assert_int_eq(next(&r, ALERT_SEV_WARNING, 0, 9), ALERT_SEV_WARNING); /* 9 >= 9 */
    ck_assert_int_eq(next(&r, ALERT_SEV_WARNING, 0, 8), ALERT_SEV_NONE);
    struct alert_rule counter = r;
    counter.kind = ALERT_KIND_COUNT; /* not a DMARC rule: never judged here */
    ck_assert_int_eq(alert_dmarc_is(&counter), 0);
    ck_assert_int_eq(sev_of(&counter, 0, 1000), ALERT_SEV_NONE);
}
END_TEST

START_TEST(pick)
{
    static const char y[] =
        "rules:\n"
        "  - name: b\n    kind: ratio\n    numerator: [bounce_hard]\n    denominator: [sent]\n"
        "    window: 1h\n    warning: 2%\n"
        "  - name: d\n    kind: dmarc_rate\n    count: dmarc_fail\n    warning: 1%\n"
        "  - name: r\n    kind: dmarc_count\n    count: disposition_reject\n    critical: 5\n"
        "overrides:\n  - tenant: acme\n    rule: r\n    critical: 50\n"
        "  - tenant: beta\n    rule: b\n    warning: 3%\n";
    struct alert_ruleset *rs = NULL, *d = NULL;
    char err[512];
    ck_assert_int_eq(alert_rules_parse("t.yaml", y, strlen(y), &rs, err, sizeof(err)), MP_OK);
    ck_assert_int_eq(alert_dmarc_pick(rs, &d), MP_OK);
    ck_assert_uint_eq(alert_ruleset_count(d), 2);
    ck_assert_str_eq(alert_ruleset_for(d, "x")[0].name, "d");
    ck_assert_str_eq(alert_ruleset_for(d, "x")[1].name, "r");
    ck_assert_uint_eq(alert_ruleset_for(d, "x")[1].critical_ppb, 5 * ALERT_PPB);
    ck_assert_uint_eq(alert_ruleset_for(d, "acme")[1].critical_ppb, 50 * ALERT_PPB);
    ck_assert_uint_eq(alert_ruleset_noverrides(d), 1); /* beta's override is not a DMARC rule's */
    alert_ruleset_free(d);
    alert_ruleset_free(rs);
}
END_TEST

CHECK_SUITE("alert_dmarc", 0, NULL, NULL, rate_thresholds, min_volume, severity_change,
            count_rule, pick)
