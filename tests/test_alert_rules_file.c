/* test_alert_rules_file.c — Check suite for alerts/alert_rules_file.c (the
 * rules file parser and the built-in defaults it builds from the embedded
 * rules.example.yaml).
 *
 * Most cases parse text in memory (alert_rules_parse, named NAME in
 * messages); the file entry point is run on rules.example.yaml and on a
 * missing file. Run from the repository root, with CK_FORK=yes as
 * scripts/run-tests.sh does.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_rule.h"
#include "alert_rules_file.h"
#include "eng_dmarc.h"
#include "check_main.h"
#include "eng_table.h"
#include "mp.h"
#include "unit_util.h"

#define NAME "rules.yaml"

static struct alert_ruleset *rules_parse(const char *yaml, char *err, size_t errlen, int *rc)
{
    struct alert_ruleset *rs = NULL;
    *rc = alert_rules_parse(NAME, yaml, strlen(yaml), &rs, err, errlen);
    return rs;
}

/* yaml must parse; its rules (alert_ruleset_free them). */
static struct alert_ruleset *rules_ok(const char *yaml)
{
    char err[512] = "";
    int rc;
    struct alert_ruleset *rs = rules_parse(yaml, err, sizeof(err), &rc);
    ck_assert_msg(rc == MP_OK, "%s", err);
    return rs;
}

static void rule_eq(const struct alert_rule *a, const struct alert_rule *b)
{
    ck_assert_str_eq(a->name, b->name);
    ck_assert_str_eq(a->alertname, b->alertname);
    ck_assert_msg(a->kind == b->kind && a->enabled == b->enabled && a->scopes == b->scopes &&
                      a->num_types == b->num_types && a->den_types == b->den_types,
                  "%s: kind/enabled/scopes/types differ", a->name);
    ck_assert_msg(a->window.res == b->window.res && a->window.back == b->window.back &&
                      a->window.n == b->window.n && strcmp(a->window.text, b->window.text) == 0,
                  "%s: window %d/%d/%d/%s vs %d/%d/%d/%s", a->name, a->window.res,
                  a->window.back, a->window.n, a->window.text, b->window.res, b->window.back,
                  b->window.n, b->window.text);
    ck_assert_msg(a->baseline.res == b->baseline.res && a->baseline.back == b->baseline.back &&
                      a->baseline.n == b->baseline.n,
                  "%s: baseline %d/%d/%d vs %d/%d/%d", a->name, a->baseline.res, a->baseline.back,
                  a->baseline.n, b->baseline.res, b->baseline.back, b->baseline.n);
    ck_assert_msg(a->days == b->days && a->min_volume == b->min_volume &&
                      a->min_count == b->min_count && a->warning_ppb == b->warning_ppb &&
                      a->critical_ppb == b->critical_ppb &&
                      a->resolve_ratio_ppb == b->resolve_ratio_ppb &&
                      a->resolve_ppb == b->resolve_ppb && a->for_ms == b->for_ms &&
                      a->repeat_ms == b->repeat_ms && a->keep_ms == b->keep_ms &&
                      a->ramp_start == b->ramp_start && a->ramp_step == b->ramp_step &&
                      a->ramp_cap == b->ramp_cap,
                  "%s: numbers differ", a->name);
    ck_assert_msg(a->dmarc_count == b->dmarc_count, "%s: count differs", a->name);
    ck_assert_str_eq(a->num_label, b->num_label);
    ck_assert_str_eq(a->den_label, b->den_label);
}

#define RULE1 "rules:\n  - name: r1\n    kind: ratio\n    numerator: [bounce_hard]\n" \
              "    denominator: [sent]\n    window: 1h\n    warning: 2%\n"

START_TEST(test_rules_overrides)
{
    struct alert_ruleset *rs = rules_ok(
        RULE1 "    critical: 0.04\n    for: 5m\n    repeat_interval: 0s\n"
              "overrides:\n  - tenant: acme\n    rule: r1\n    warning: 1%\n"
              "  - tenant: acme\n    rule: r1\n    enabled: false\n"
              "  - tenant: beta\n    rule: r1\n    critical: 10%\n");
    const struct alert_rule *base = alert_ruleset_for(rs, "other");
    const struct alert_rule *acme = alert_ruleset_for(rs, "acme");
    const struct alert_rule *beta = alert_ruleset_for(rs, "beta");
    ck_assert_uint_eq(base->warning_ppb, 20000000);
    ck_assert_uint_eq(base->critical_ppb, 40000000);
    ck_assert_uint_eq(base->resolve_ppb, 18000000);
    ck_assert_int_eq(base->for_ms, 300000);
    ck_assert_int_eq(base->repeat_ms, 0);
    ck_assert_int_eq(base->window.n, 12);
    ck_assert_uint_eq(acme->warning_ppb, 10000000); /* both acme overrides stack */
    ck_assert_int_eq(acme->enabled, 0);
    ck_assert_uint_eq(acme->resolve_ppb, 9000000);
    ck_assert_uint_eq(acme->critical_ppb, 40000000);
    ck_assert_uint_eq(beta->critical_ppb, 100000000);
    ck_assert_int_eq(beta->enabled, 1);
    ck_assert_uint_eq(alert_ruleset_noverrides(rs), 2);
    alert_ruleset_free(rs);
}
END_TEST

/* 62 nested flow lists, opened and closed. */
#define OPEN8 "[[[[[[[["
#define CLOSE8 "]]]]]]]]"
#define OPEN62 OPEN8 OPEN8 OPEN8 OPEN8 OPEN8 OPEN8 OPEN8 "[[[[[["
#define CLOSE62 CLOSE8 CLOSE8 CLOSE8 CLOSE8 CLOSE8 CLOSE8 CLOSE8 "]]]]]]"

static const struct unit_refusal rules_reject[] = {
    {"", "(top level): empty file", 1},
    {"rules: []\n", "rules: expected a non-empty list of rules", 1},
    {"rules:\n  - name: r1\n    kind: ratio\n    numerator: [bounce_hard]\n    window: 1h\n"
     "    warning: 2%\n",
     "rules[0].denominator: required for a ratio rule", 2},
    {RULE1 "    colour: red\n", "rules[0].colour: unknown key", 8},
    {"rules:\n  - name: r1\n    kind: ratios\n", "rules[0].kind: expected one of ratio", 3},
    {"rules:\n  - name: r1\n    kind: ratio\n    numerator: [bounced]\n",
     "rules[0].numerator: expected event types", 4},
    {"rules:\n  - name: r1\n    kind: ratio\n    numerator: [sent, sent]\n",
     "rules[0].numerator: \"sent\" listed twice", 4},
    {"rules:\n  - name: r1\n    kind: ratio\n    numerator: [sent]\n    scopes: [tenant, org]\n",
     "rules[0].scopes: expected scopes", 5},
    {"rules:\n  - name: r1\n    kind: ratio\n    numerator: [bounce_hard]\n"
     "    denominator: [sent]\n    window: 7m\n",
     "rules[0].window: expected a window", 6},
    {RULE1 "    critical: 1%\n", "rules[0].critical: critical must be above warning", 2},
    /* rules that can never fire (or fire on every key) */
    {"rules:\n  - name: r1\n    kind: ratio\n    numerator: [sent]\n"
     "    denominator: [sent]\n    window: 1h\n    warning: 2%\n",
     "rules[0].denominator: the same event types as numerator: the rate is always 100%, so a "
     "ratio rule fires on every key with traffic", 2},
    {"rules:\n  - name: t\n    kind: trend\n    numerator: [sent, delivered]\n"
     "    denominator: [delivered, sent]\n    warning: 1%\n",
     "rules[0].denominator: the same event types as numerator: the rate is always 100%, so a "
     "trend rule can never fire", 2},
    {"rules:\n  - name: s\n    kind: spike\n    numerator: [sent]\n    window: 1h\n"
     "    baseline: 6h\n    warning: 1x\n",
     "rules[0].warning: a spike rule's threshold is a factor above 1, such as 3x", 2},
    {"rules:\n  - name: s\n    kind: spike\n    numerator: [sent]\n    window: 1h\n"
     "    baseline: 6h\n    warning: 3x\n"
     "overrides:\n  - tenant: acme\n    rule: s\n    warning: 0.5\n",
     "overrides[0].warning: a spike rule's threshold is a factor above 1, such as 3x", 9},
    {"rules:\n  - name: r1\n    kind: ratio\n    numerator: [bounce_hard]\n"
     "    denominator: [sent]\n    window: 1h\n    warning: 120%\n",
     "rules[0].warning: a ratio rule's threshold is a fraction", 2},
    {"rules:\n  - name: r1\n    kind: ratio\n    numerator: [bounce_hard]\n"
     "    denominator: [sent]\n    window: 1h\n    warning: 2 %\n",
     "rules[0].warning: expected a positive number", 7},
    {"rules:\n  - name: r1\n    kind: ratio\n    numerator: [bounce_hard]\n"
     "    denominator: [sent]\n    window: 1h\n",
     "rules[0].warning: a rule needs a warning or a critical threshold", 2},
    {"rules:\n  - name: c\n    kind: count\n    numerator: [spam_trap]\n    window: 1h\n"
     "    critical: 1.5\n",
     "rules[0].critical: a count rule's threshold is a whole number", 2},
    {"rules:\n  - name: c\n    kind: count\n    numerator: [spam_trap]\n"
     "    denominator: [sent]\n    window: 1h\n    critical: 1\n",
     "rules[0].denominator: a count rule has no denominator", 2},
    {"rules:\n  - name: s\n    kind: spike\n    numerator: [sent]\n    window: 1d\n"
     "    warning: 3x\n",
     "rules[0].baseline: required for a spike rule", 2},
    {"rules:\n  - name: s\n    kind: spike\n    numerator: [sent]\n    window: 7d\n"
     "    baseline: 10d\n    warning: 3x\n",
     "rules[0].baseline: window plus baseline reach back 17 buckets; memory holds 14", 2},
    {"rules:\n  - name: t\n    kind: trend\n    numerator: [bounce_hard]\n"
     "    denominator: [sent]\n    window: 1d\n    warning: 1%\n",
     "rules[0].window: a trend rule compares whole days", 2},
    {RULE1 "    for: soon\n", "rules[0].for: expected 0s or a duration", 8},
    {RULE1 "    resolve_ratio: 1.5\n", "rules[0].resolve_ratio: expected a fraction", 8},
    {RULE1 "    enabled: yes\n", "rules[0].enabled: expected true or false", 8},
    {RULE1 "  - name: r1\n    kind: count\n    numerator: [spam_trap]\n    window: 1h\n"
           "    critical: 1\n",
     "rules[1].name: duplicate rule name \"r1\"", 8},
    {RULE1 "overrides:\n  - tenant: acme\n    rule: nope\n",
     "overrides[0].rule: no rule named \"nope\" in this file", 9},
    {RULE1 "overrides:\n  - tenant: acme\n    rule: r1\n    window: 2h\n",
     "overrides[0].window: unknown key", 11},
    {RULE1 "overrides:\n  - tenant: \"a b\"\n    rule: r1\n",
     "overrides[0].tenant: expected 1..64 characters", 9},
    {RULE1 "overrides:\n  - tenant: t" "123456789012345678901234567890123456789012345678901234567890123"
           "4\n    rule: r1\n",
     "overrides[0].tenant: expected 1..64 characters", 9},
    {"rules:\n  - name: r" "123456789012345678901234567890123456789012345678901234567890123\n",
     "rules[0].name: expected 1..63 characters", 2},
    {RULE1 "overrides:\n  - tenant: acme\n    rule: r1\n    critical: 1%\n",
     "overrides[0].critical: critical must be above warning", 9},
    {RULE1 "defaults:\n  for: forever\n", "defaults.for: expected 0s or a duration", 9},
    {RULE1 "    keep_firing_for: 25h\n", "rules[0].keep_firing_for: expected 0s or a duration such as 10m (at most 24h)", 8},
    {RULE1 "    keep_firing_for: -1m\n", "rules[0].keep_firing_for: expected 0s or a duration", 8},
    {RULE1 "overrides:\n  - tenant: acme\n    rule: r1\n    keep_firing_for: soon\n",
     "overrides[0].keep_firing_for: expected 0s or a duration", 11},
    {RULE1 "defaults:\n  keep_firing_for: 2d\n", "defaults.keep_firing_for: expected 0s or a duration", 9},
    {RULE1 "    gate: stop\n", "rules[0].gate: expected pause or {action: pause, severity: critical}", 8},
    {RULE1 "    gate: {action: hold}\n", "rules[0].gate.action: expected pause", 8},
    {RULE1 "    gate: {action: pause, severity: page}\n",
     "rules[0].gate.severity: expected warning or critical", 8},
    {RULE1 "    gate: {severity: warning}\n", "rules[0].gate.action: required key missing", 8},
    {RULE1 "    gate: {action: pause, severity: critical}\n",
     "rules[0].gate: severity critical, but the rule has no critical threshold", 8},
    {RULE1 "    gate: {action: pause, for: 1m}\n", "rules[0].gate.for: unknown key", 8},
    {RULE1 "extra: 1\n", "extra: unknown key (known here: defaults, rules, overrides)", 8},
    /* warm-up ramps */
    {"rules:\n  - name: w\n    kind: ramp\n    numerator: [sent]\n    window: 1d\n"
     "    warning: 1x\n",
     "rules[0].window: a ramp rule reads today's sends against its allowance (start, step, "
     "cap); it takes no window", 2},
    {"rules:\n  - name: w\n    kind: ramp\n    numerator: [sent]\n    denominator: [delivered]\n"
     "    warning: 1x\n",
     "rules[0].denominator: a ramp rule reads today's sends against its allowance", 2},
    {"rules:\n  - name: w\n    kind: ramp\n    numerator: [sent]\n    warning: 0.5x\n",
     "rules[0].warning: a ramp rule's threshold is a factor of the allowance, at least 1x", 2},
    {"rules:\n  - name: w\n    kind: ramp\n    numerator: [sent]\n    start: 100\n"
     "    cap: 50\n    warning: 1x\n",
     "rules[0].cap: cap (50) is below start (100)", 2},
    {"rules:\n  - name: w\n    kind: ramp\n    numerator: [sent]\n    start: 0\n"
     "    warning: 1x\n",
     "rules[0].start: expected", 5},
    {RULE1 "    step: 20\n", "rules[0].step: only ramp rules take start, step and cap", 2},
    {RULE1 "overrides:\n  - tenant: acme\n    rule: r1\n    start: 100\n",
     "overrides[0].start: rule r1 is not a ramp rule; only ramp rules take start, step and cap",
     9},
    /* DMARC rules */
    {"rules:\n  - name: d\n    kind: dmarc_rate\n    warning: 1%\n",
     "rules[0].count: required for a dmarc_rate rule (a DMARC count: dmarc_fail", 2},
    {"rules:\n  - name: d\n    kind: dmarc_rate\n    count: dmarc_fial\n    warning: 1%\n",
     "rules[0].count: expected a DMARC count: dmarc_fail, dkim_fail", 4},
    {"rules:\n  - name: d\n    kind: dmarc_rate\n    count: messages\n    warning: 1%\n",
     "rules[0].count: expected a DMARC count", 4},
    {"rules:\n  - name: d\n    kind: dmarc_rate\n    count: dmarc_fail\n    window: 1h\n"
     "    warning: 1%\n",
     "rules[0].window: a dmarc_rate rule counts whole days of reports: 1d..14d", 2},
    {"rules:\n  - name: d\n    kind: dmarc_rate\n    count: dmarc_fail\n    window: 15d\n"
     "    warning: 1%\n",
     "rules[0].window: expected a window", 5},
    {"rules:\n  - name: d\n    kind: dmarc_rate\n    count: dmarc_fail\n"
     "    numerator: [sent]\n    warning: 1%\n",
     "rules[0].numerator: a dmarc_rate rule reads DMARC report counts per domain and reporter; "
     "it takes no numerator", 2},
    {"rules:\n  - name: d\n    kind: dmarc_rate\n    count: dmarc_fail\n"
     "    scopes: [tenant]\n    warning: 1%\n",
     "rules[0].scopes: a dmarc_rate rule reads DMARC report counts per domain and reporter; "
     "it takes no scopes", 2},
    {"rules:\n  - name: d\n    kind: dmarc_rate\n    count: dmarc_fail\n    for: 1h\n"
     "    warning: 1%\n",
     "rules[0].for: a dmarc_rate rule reads DMARC report counts", 2},
    {"rules:\n  - name: d\n    kind: dmarc_rate\n    count: dmarc_fail\n    warning: 120%\n",
     "rules[0].warning: a dmarc_rate rule's threshold is a fraction: at most 100%", 2},
    {"rules:\n  - name: d\n    kind: dmarc_count\n    count: disposition_reject\n"
     "    critical: 2.5\n",
     "rules[0].critical: a dmarc_count rule's threshold is a whole number of messages", 2},
    {"rules:\n  - name: d\n    kind: dmarc_rate\n    count: dmarc_fail\n    warning: 5%\n"
     "    critical: 1%\n",
     "rules[0].critical: critical must be above warning", 2},
    {RULE1 "    count: dmarc_fail\n",
     "rules[0].count: only dmarc_rate and dmarc_count rules take count", 2},
    {"rules:\n  - name: r1\n    kind: ratio\n    denominator: [sent]\n    window: 1h\n"
     "    warning: 2%\n",
     "rules[0].numerator: required key missing", 2},
    {"rules:\n  - name: d\n    kind: dmarc_rate\n    count: dmarc_fail\n    warning: 1%\n"
     "overrides:\n  - tenant: acme\n    rule: d\n    for: 1h\n",
     "overrides[0].for: rule d is a dmarc_rate rule: it takes no for", 7},
    /* Nesting: 64 levels (top, defaults, 62 lists) reach the key check; 65
     * are refused by the depth limit before the file is loaded. */
    {RULE1 "defaults:\n  for: " OPEN62 CLOSE62 "\n", "defaults.for: expected 0s or a duration", 9},
    {RULE1 "defaults:\n  for: [" OPEN62 CLOSE62 "]\n",
     "(top level): nested deeper than 64 levels", 9},
};

START_TEST(test_rules_reject)
{
    char err[1024] = "";
    int rc;
    struct alert_ruleset *rs = rules_parse(rules_reject[_i].yaml, err, sizeof(err), &rc);
    ck_assert_msg(rc == MP_ERR_PARSE && rs == NULL, "case %d: loaded (rc %d)", _i, rc);
    unit_refused_at(err, NAME, &rules_reject[_i], _i);
}
END_TEST


/* --- the built-in defaults ----------------------------------------------- */

#define T(x) (1u << (x))
#define ALL_SCOPES (T(ENG_SCOPE_TENANT) | T(ENG_SCOPE_MAILBOX) | T(ENG_SCOPE_DOMAIN))
#define PROV_SCOPES (T(ENG_SCOPE_PROVIDER) | T(ENG_SCOPE_MAILBOX_PROVIDER))
#define SIX_SCOPES (ALL_SCOPES | PROV_SCOPES | T(ENG_SCOPE_CAMPAIGN))
#define H (3600 * 1000LL)
#define W(res, back, n, text) {(res), (back), (n), text}

/* The defaults as the README documents them (its "Rules" table), written out
 * by hand: the parsed example must give exactly these. Thresholds in ppb
 * (2% is 20,000,000; 3x is 3e9); resolve is 90% of the lowest threshold. */
static const struct alert_rule want_defaults[] = {
    {.name = "bounce_rate", .alertname = "bounce_rate", .kind = ALERT_KIND_RATIO, .enabled = 1,
     .scopes = SIX_SCOPES, .num_types = T(ENG_BOUNCE_HARD), .den_types = T(ENG_SENT),
     .window = W(ENG_RES_FINE, 0, 12, "1h"), .min_volume = 100, .warning_ppb = 20000000,
     .critical_ppb = 40000000, .resolve_ratio_ppb = 900000000, .resolve_ppb = 18000000,
     .keep_ms = 10 * 60 * 1000LL, .repeat_ms = 4 * H, .num_label = "bounce_hard", .den_label = "sent"},
    {.name = "complaint_rate", .alertname = "complaint_rate", .kind = ALERT_KIND_RATIO,
     .enabled = 1, .scopes = SIX_SCOPES, .num_types = T(ENG_COMPLAINT),
     .den_types = T(ENG_DELIVERED), .window = W(ENG_RES_HOUR, 0, 24, "24h"), .min_volume = 1000,
     .warning_ppb = 1000000, .critical_ppb = 3000000, .resolve_ratio_ppb = 900000000,
     .resolve_ppb = 900000, .keep_ms = 10 * 60 * 1000LL, .repeat_ms = 4 * H, .num_label = "complaint",
     .den_label = "delivered"},
    {.name = "engagement_drop", .alertname = "engagement_drop", .kind = ALERT_KIND_DROP,
     .enabled = 1, .scopes = ALL_SCOPES, .num_types = T(ENG_OPEN) | T(ENG_CLICK) | T(ENG_REPLY),
     .den_types = T(ENG_DELIVERED), .window = W(ENG_RES_DAY, 0, 7, "7d"),
     .baseline = W(ENG_RES_DAY, 7, 7, "7d"), .min_volume = 1000, .warning_ppb = 200000000,
     .critical_ppb = 500000000, .resolve_ratio_ppb = 900000000, .resolve_ppb = 180000000,
     .repeat_ms = 24 * H, .num_label = "open+click+reply", .den_label = "delivered"},
    {.name = "spam_trap", .alertname = "spam_trap", .kind = ALERT_KIND_COUNT, .enabled = 1,
     .scopes = ALL_SCOPES, .num_types = T(ENG_SPAM_TRAP), .window = W(ENG_RES_HOUR, 0, 24, "24h"),
     .min_volume = 1, .critical_ppb = ALERT_PPB, .resolve_ratio_ppb = 900000000,
     .resolve_ppb = 900000000, .repeat_ms = 4 * H, .num_label = "spam_trap"},
    {.name = "block_rate", .alertname = "block_rate", .kind = ALERT_KIND_RATIO, .enabled = 1,
     .scopes = ALL_SCOPES | PROV_SCOPES, .num_types = T(ENG_BLOCKED), .den_types = T(ENG_SENT),
     .window = W(ENG_RES_FINE, 0, 12, "1h"), .min_volume = 200, .warning_ppb = 30000000,
     .critical_ppb = 100000000, .resolve_ratio_ppb = 900000000, .resolve_ppb = 27000000,
     .keep_ms = 10 * 60 * 1000LL, .repeat_ms = 4 * H, .num_label = "blocked", .den_label = "sent"},
    {.name = "deferral_rate", .alertname = "deferral_rate", .kind = ALERT_KIND_RATIO,
     .enabled = 1, .scopes = ALL_SCOPES | PROV_SCOPES, .num_types = T(ENG_DEFERRED),
     .den_types = T(ENG_SENT),
     .window = W(ENG_RES_FINE, 0, 12, "1h"), .min_volume = 200, .warning_ppb = 100000000,
     .critical_ppb = 250000000, .resolve_ratio_ppb = 900000000, .resolve_ppb = 90000000,
     .for_ms = 10 * 60 * 1000LL, .keep_ms = 10 * 60 * 1000LL, .repeat_ms = 4 * H, .num_label = "deferred",
     .den_label = "sent"},
    {.name = "unsubscribe_spike", .alertname = "unsubscribe_spike", .kind = ALERT_KIND_SPIKE,
     .enabled = 1, .scopes = ALL_SCOPES | T(ENG_SCOPE_CAMPAIGN), .num_types = T(ENG_UNSUBSCRIBE),
     .den_types = T(ENG_DELIVERED), .window = W(ENG_RES_HOUR, 0, 24, "24h"),
     .baseline = W(ENG_RES_DAY, 1, 7, "7d"), .min_volume = 500, .min_count = 10,
     .warning_ppb = 3 * ALERT_PPB, .critical_ppb = 10 * ALERT_PPB,
     .resolve_ratio_ppb = 900000000, .resolve_ppb = 2700000000ULL, .repeat_ms = 4 * H,
     .num_label = "unsubscribe", .den_label = "delivered"},
    {.name = "rising_trend_bounce", .alertname = "rising_trend", .kind = ALERT_KIND_TREND,
     .enabled = 1, .scopes = ALL_SCOPES, .num_types = T(ENG_BOUNCE_HARD),
     .den_types = T(ENG_SENT), .window = W(0, 0, 0, "3d"), .days = 3, .min_volume = 200,
     .warning_ppb = 10000000, .resolve_ratio_ppb = 900000000, .resolve_ppb = 9000000,
     .repeat_ms = 24 * H, .num_label = "bounce_hard", .den_label = "sent"},
    {.name = "rising_trend_complaint", .alertname = "rising_trend", .kind = ALERT_KIND_TREND,
     .enabled = 1, .scopes = ALL_SCOPES, .num_types = T(ENG_COMPLAINT),
     .den_types = T(ENG_DELIVERED), .window = W(0, 0, 0, "3d"), .days = 3, .min_volume = 1000,
     .warning_ppb = 500000, .resolve_ratio_ppb = 900000000, .resolve_ppb = 450000,
     .repeat_ms = 24 * H, .num_label = "complaint", .den_label = "delivered"},
    {.name = "volume_spike", .alertname = "volume_spike", .kind = ALERT_KIND_SPIKE, .enabled = 1,
     .scopes = T(ENG_SCOPE_TENANT) | T(ENG_SCOPE_MAILBOX), .num_types = T(ENG_SENT),
     .window = W(ENG_RES_DAY, 0, 1, "1d"), .baseline = W(ENG_RES_DAY, 1, 7, "7d"),
     .min_volume = 500, .warning_ppb = 3 * ALERT_PPB, .critical_ppb = 10 * ALERT_PPB,
     .resolve_ratio_ppb = 900000000, .resolve_ppb = 2700000000ULL, .repeat_ms = 24 * H,
     .num_label = "sent"},
    {.name = "warmup_ramp", .alertname = "warmup_ramp", .kind = ALERT_KIND_RAMP, .enabled = 1,
     .scopes = T(ENG_SCOPE_MAILBOX), .num_types = T(ENG_SENT),
     .window = W(ENG_RES_DAY, 0, 1, "today"), .ramp_start = 40, .ramp_step = 20,
     .ramp_cap = 1000, .warning_ppb = ALERT_PPB, .critical_ppb = 2 * ALERT_PPB,
     .resolve_ratio_ppb = 900000000, .resolve_ppb = 900000000, .repeat_ms = 24 * H,
     .num_label = "sent"},
    /* DMARC rules: no scopes (the counter evaluator never reads them) */
    {.name = "dmarc_fail_rate", .alertname = "dmarc_fail_rate", .kind = ALERT_KIND_DMARC_RATE,
     .enabled = 1, .dmarc_count = ENG_DMARC_FAIL, .window = W(ENG_RES_DAY, 0, 7, "7d"),
     .min_volume = 100, .warning_ppb = 10000000, .critical_ppb = 50000000,
     .resolve_ratio_ppb = 900000000, .resolve_ppb = 9000000, .repeat_ms = 24 * H,
     .num_label = "dmarc_fail", .den_label = "messages"},
    {.name = "dkim_fail_rate", .alertname = "dkim_fail_rate", .kind = ALERT_KIND_DMARC_RATE,
     .enabled = 1, .dmarc_count = ENG_DMARC_DKIM_FAIL, .window = W(ENG_RES_DAY, 0, 7, "7d"),
     .min_volume = 100, .warning_ppb = 20000000, .critical_ppb = 100000000,
     .resolve_ratio_ppb = 900000000, .resolve_ppb = 18000000, .repeat_ms = 24 * H,
     .num_label = "dkim_fail", .den_label = "messages"},
    {.name = "spf_fail_rate", .alertname = "spf_fail_rate", .kind = ALERT_KIND_DMARC_RATE,
     .enabled = 1, .dmarc_count = ENG_DMARC_SPF_FAIL, .window = W(ENG_RES_DAY, 0, 7, "7d"),
     .min_volume = 100, .warning_ppb = 50000000, .critical_ppb = 200000000,
     .resolve_ratio_ppb = 900000000, .resolve_ppb = 45000000, .repeat_ms = 24 * H,
     .num_label = "spf_fail", .den_label = "messages"},
    {.name = "dmarc_reject", .alertname = "dmarc_reject", .kind = ALERT_KIND_DMARC_COUNT,
     .enabled = 1, .dmarc_count = ENG_DMARC_DISP_REJECT, .window = W(ENG_RES_DAY, 0, 7, "7d"),
     .min_volume = 1, .warning_ppb = 10 * ALERT_PPB, .critical_ppb = 100 * ALERT_PPB,
     .resolve_ratio_ppb = 900000000, .resolve_ppb = 9 * ALERT_PPB, .repeat_ms = 24 * H,
     .num_label = "disposition_reject", .den_label = ""},
};

/* DMARC rules: the accepted forms, the default window, an override. */
START_TEST(test_rules_dmarc)
{
    char err[1024] = "";
    int rc;
    struct alert_ruleset *rs = rules_parse(
        "defaults:\n  for: 10m\n  keep_firing_for: 5m\nrules:\n"
        "  - name: dkim\n    kind: dmarc_rate\n    count: dkim_fail\n    min_volume: 50\n"
        "    warning: 2%\n    critical: 10%\n    gate: pause\n"
        "  - name: rej\n    alertname: rejected\n    kind: dmarc_count\n"
        "    count: disposition_reject\n    window: 1d\n    critical: 3\n"
        "overrides:\n  - tenant: acme\n    rule: dkim\n    min_volume: 1000\n"
        "    warning: 1%\n  - tenant: quiet\n    rule: rej\n    enabled: false\n",
        err, sizeof(err), &rc);
    ck_assert_msg(rc == MP_OK && rs, "%s", err);
    const struct alert_rule *b = alert_ruleset_for(rs, "other");
    ck_assert_int_eq(b[0].kind, ALERT_KIND_DMARC_RATE);
    ck_assert_int_eq(b[0].dmarc_count, ENG_DMARC_DKIM_FAIL);
    ck_assert_uint_eq(b[0].scopes, 0); /* never read by the counter evaluator */
    ck_assert_int_eq(b[0].window.res, ENG_RES_DAY);
    ck_assert_int_eq(b[0].window.n, 7); /* the default window */
    ck_assert_int_eq(b[0].for_ms, 0);   /* the defaults' for does not apply */
    ck_assert_int_eq(b[0].keep_ms, 0);
    ck_assert_int_eq(b[0].gate_sev, ALERT_SEV_WARNING);
    ck_assert_uint_eq(b[0].min_volume, 50);
    ck_assert_str_eq(b[0].den_label, "messages");
    ck_assert_int_eq(b[1].kind, ALERT_KIND_DMARC_COUNT);
    ck_assert_str_eq(b[1].alertname, "rejected");
    ck_assert_int_eq(b[1].window.n, 1);
    ck_assert_uint_eq(b[1].critical_ppb, 3 * ALERT_PPB);
    ck_assert_uint_eq(alert_ruleset_for(rs, "acme")[0].min_volume, 1000);
    ck_assert_uint_eq(alert_ruleset_for(rs, "acme")[0].warning_ppb, 10000000);
    ck_assert_uint_eq(alert_ruleset_for(rs, "acme")[0].resolve_ppb, 9000000);
    ck_assert_int_eq(alert_ruleset_for(rs, "quiet")[1].enabled, 0);
    alert_ruleset_free(rs);
}
END_TEST

/* The built-in defaults are the documented ones, rule by rule, field by field. */
START_TEST(test_defaults_documented)
{
    struct alert_ruleset *def = NULL;
    ck_assert_int_eq(alert_ruleset_defaults(&def), MP_OK);
    ck_assert_uint_eq(alert_ruleset_count(def), MP_ARRAY_LEN(want_defaults));
    ck_assert_uint_eq(alert_ruleset_noverrides(def), 0);
    for (size_t i = 0; i < MP_ARRAY_LEN(want_defaults); i++) {
        rule_eq(&alert_ruleset_for(def, "x")[i], &want_defaults[i]);
        ck_assert_str_eq(alert_ruleset_for(def, "x")[i].baseline.text, want_defaults[i].baseline.text);
    }
    alert_ruleset_free(def);
}
END_TEST

/* What is built in is rules.example.yaml byte for byte (a stale build would
 * show here), and loading the file gives the same rules as the defaults. */
START_TEST(test_defaults_are_the_example)
{
    struct alert_ruleset *file = NULL, *def = NULL;
    char err[512] = "";
    FILE *f = fopen("rules.example.yaml", "rb");
    ck_assert_ptr_nonnull(f);
    char *text = calloc(1, alert_rules_example_len + 2);
    ck_assert_ptr_nonnull(text);
    size_t got = fread(text, 1, alert_rules_example_len + 1, f);
    fclose(f);
    ck_assert_uint_eq(got, alert_rules_example_len);
    ck_assert_uint_eq(strlen(alert_rules_example), alert_rules_example_len);
    ck_assert_int_eq(memcmp(text, alert_rules_example, got), 0);
    free(text);

    int rc = alert_rules_load("rules.example.yaml", &file, err, sizeof(err));
    ck_assert_msg(rc == MP_OK, "rules.example.yaml: %s", err);
    ck_assert_int_eq(alert_ruleset_defaults(&def), MP_OK);
    ck_assert_uint_eq(alert_ruleset_count(file), alert_ruleset_count(def));
    for (size_t i = 0; i < alert_ruleset_count(def); i++)
        rule_eq(&alert_ruleset_for(file, "x")[i], &alert_ruleset_for(def, "x")[i]);
    alert_ruleset_free(file);
    alert_ruleset_free(def);
}
END_TEST

/* The file entry point: a missing file is an I/O refusal naming it. */
START_TEST(test_load_missing_file)
{
    struct alert_ruleset *rs = NULL;
    char err[512] = "";
    ck_assert_int_eq(alert_rules_load("no-such-rules.yaml", &rs, err, sizeof(err)), MP_ERR_IO);
    ck_assert_ptr_null(rs);
    ck_assert_msg(strncmp(err, "no-such-rules.yaml: cannot open: ", 33) == 0, "%s", err);
    ck_assert_int_eq(alert_rules_load(NULL, &rs, err, sizeof(err)), MP_ERR_INVAL);
    ck_assert_int_eq(alert_rules_load("rules.example.yaml", NULL, err, sizeof(err)), MP_ERR_INVAL);
    ck_assert_int_eq(alert_rules_parse(NAME, NULL, 1, &rs, err, sizeof(err)), MP_ERR_INVAL);
    ck_assert_ptr_null(rs);
}
END_TEST

/* Defaults: the `defaults:` section applies where a rule sets nothing, and
 * a rule's own value wins. */
START_TEST(test_rules_defaults_section)
{
    struct alert_ruleset *rs = rules_ok(
        "defaults:\n  for: 5m\n  repeat_interval: 0\n  resolve_ratio: 50%\n"
        RULE1 "  - name: r2\n    kind: count\n    numerator: [spam_trap]\n    window: 1h\n"
        "    critical: 2\n    for: 0s\n    repeat_interval: 1h\n    enabled: false\n");
    const struct alert_rule *r = alert_ruleset_for(rs, "t");
    ck_assert_int_eq(r[0].for_ms, 300000);
    ck_assert_int_eq(r[0].repeat_ms, 0);
    ck_assert_uint_eq(r[0].resolve_ratio_ppb, 500000000);
    ck_assert_uint_eq(r[0].resolve_ppb, 10000000);
    ck_assert_int_eq(r[0].enabled, 1);
    ck_assert_int_eq(r[1].for_ms, 0);
    ck_assert_int_eq(r[1].repeat_ms, 3600000);
    ck_assert_int_eq(r[1].enabled, 0);
    ck_assert_uint_eq(r[1].critical_ppb, 2 * ALERT_PPB);
    ck_assert_str_eq(r[1].alertname, "r2");
    alert_ruleset_free(rs);
}
END_TEST

/* keep_firing_for: from `defaults:`, a rule's own value, and a tenant's
 * override (which changes nothing else); 0s when nothing sets it. */
START_TEST(test_rules_keep_firing_for)
{
    struct alert_ruleset *rs = rules_ok(
        "defaults:\n  keep_firing_for: 5m\n"
        RULE1 "  - name: r2\n    kind: count\n    numerator: [spam_trap]\n    window: 1h\n"
        "    critical: 2\n    keep_firing_for: 0s\n"
        "overrides:\n  - tenant: acme\n    rule: r1\n    keep_firing_for: 24h\n");
    const struct alert_rule *r = alert_ruleset_for(rs, "t");
    const struct alert_rule *acme = alert_ruleset_for(rs, "acme");
    ck_assert_int_eq(r[0].keep_ms, 300000);
    ck_assert_int_eq(r[1].keep_ms, 0);
    ck_assert_int_eq(acme[0].keep_ms, 24 * 3600 * 1000LL);
    ck_assert_uint_eq(acme[0].warning_ppb, r[0].warning_ppb);
    ck_assert_int_eq(acme[1].keep_ms, 0);
    alert_ruleset_free(rs);
    rs = rules_ok(RULE1);
    ck_assert_int_eq(alert_ruleset_for(rs, "t")[0].keep_ms, 0);
    alert_ruleset_free(rs);
}
END_TEST

/* gate: pause (any firing severity), {action: pause, severity: critical}
 * (critical only), nothing (no gate). */
#define GATED RULE1 "    gate: pause\n" \
    "  - name: r2\n    kind: count\n    numerator: [spam_trap]\n    window: 1h\n" \
    "    critical: 2\n    gate: {action: pause, severity: critical}\n" \
    "  - name: r3\n    kind: count\n    numerator: [spam_trap]\n    window: 1h\n    critical: 2\n"
START_TEST(test_rules_gate)
{
    struct alert_ruleset *rs = NULL;
    char err[512] = "";
    ck_assert_msg(alert_rules_parse(NAME, GATED, strlen(GATED), &rs, err, sizeof(err)) == MP_OK,
                  "%s", err);
    const struct alert_rule *r = alert_ruleset_for(rs, "t");
    ck_assert_int_eq(r[0].gate_sev, ALERT_SEV_WARNING);
    ck_assert_int_eq(r[1].gate_sev, ALERT_SEV_CRITICAL);
    ck_assert_int_eq(r[2].gate_sev, 0);
    alert_ruleset_free(rs);
}
END_TEST

/* The plain cases in one call; the table-driven (loop) ones beside them. */
CHECK_SUITE_TABLES("alert_rules_file", 0, NULL, NULL,
                   CHECK_TESTS(test_defaults_documented, test_defaults_are_the_example,
                               test_load_missing_file, test_rules_defaults_section,
                               test_rules_overrides, test_rules_dmarc, test_rules_keep_firing_for,
                               test_rules_gate),
                   CHECK_LOOPS(CHECK_LOOP(test_rules_reject, rules_reject)))
