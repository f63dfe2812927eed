/* alert_rule.h — rate rules and their evaluation.
 *
 * Contract: a rule is immutable config (netdata's split: config apart from
 * runtime state). alert_rule_eval() is a pure function of a rule and a
 * window's per-type counts: it computes numerator, denominator, the value
 * and the severity the value reaches, comparing exactly in integers (no
 * float rounding at the threshold: 20 of 1000 is exactly 2%). Any thread.
 *
 * Today one kind exists: ratio rules (sum of numerator types / sum of
 * denominator types over a fine window). The rules file, the other default
 * rules and per-tenant overrides arrive with the rules issue; until then
 * alert_rules_builtin() is the rule set.
 */
#ifndef ALERT_RULE_H
#define ALERT_RULE_H

#include <stddef.h>
#include <stdint.h>

#include "eng_table.h"
#include "eng_types.h"

/* Stable numbers: they will reach disk with alert state. */
enum alert_severity { ALERT_SEV_NONE = 0, ALERT_SEV_WARNING = 1, ALERT_SEV_CRITICAL = 2 };

#define ALERT_PPB 1000000000ULL /* thresholds are fractions in parts per billion */

struct alert_rule {
    const char *name;        /* the alertname label */
    unsigned scopes;         /* bit (1u << ENG_SCOPE_*) per scope evaluated */
    unsigned num_types;      /* bit (1u << type) per numerator event type */
    unsigned den_types;      /* bit (1u << type) per denominator event type */
    const char *den_label;   /* "sent": names the denominator in summaries */
    int fine_buckets;        /* window length in ENG_FINE_MS buckets */
    const char *window;      /* "1h": the window as users read it */
    uint64_t min_volume;     /* no alert while the denominator is smaller */
    uint64_t warning_ppb;    /* value >= this: warning */
    uint64_t critical_ppb;   /* value >= this: critical (0: never) */
    uint64_t resolve_ppb;    /* a firing alert resolves below this */
};

struct alert_value {
    uint64_t num, den;
    double value;  /* num / den, for display only */
    int severity;  /* enum alert_severity the value reaches (NONE below min_volume) */
    int enough;    /* den >= min_volume */
};

void alert_rule_eval(const struct alert_rule *r, const uint64_t counts[ENG_NTYPES],
                     struct alert_value *out);
/* 1 when a firing alert with this value should resolve. */
int alert_rule_resolves(const struct alert_rule *r, const struct alert_value *v);

/* The built-in rule set (static storage). */
const struct alert_rule *alert_rules_builtin(size_t *n);

/* Formats a fraction in ppb as a plain decimal ("0.02"), no exponent. */
void alert_format_ppb(uint64_t ppb, char *buf, size_t n);
/* Formats a value as a plain decimal with up to 6 decimals ("0.08"). */
void alert_format_value(double v, char *buf, size_t n);

#endif
