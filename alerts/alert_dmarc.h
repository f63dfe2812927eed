/* alert_dmarc.h — the DMARC rules' decisions: kinds dmarc_rate and
 * dmarc_count (alert_rule.h) over one key's DMARC report counts
 * (engine/eng_dmarc.h), and the DMARC rules picked out of a rule set.
 *
 * Contract: alert_dmarc_eval() is a pure function of a rule and the counts
 * summed over the rule's window (the caller sums the days), filling an
 * alert_value as alert_rule_eval() does for counter rules, in the same
 * units (ppb) and with the same exact integer comparisons:
 *   dmarc_rate   c[rule.dmarc_count] / c[ENG_DMARC_MESSAGES]; enough when
 *                messages >= max(min_volume, 1)
 *   dmarc_count  c[rule.dmarc_count] (value: count x 1e9); enough when the
 *                count >= min_volume (0: any)
 * The severity is the highest threshold the value reaches, NONE without
 * enough data. alert_dmarc_next() then applies the hysteresis a counter
 * rule has: a firing alert keeps firing (at its severity) while its value
 * stays at or over the rule's resolve line, and resolves under it, when the
 * data fall under the volume, or when the rule is disabled.
 *
 * alert_dmarc_pick() builds a set holding only the DMARC rules of rs, in
 * rs's order, with rs's per-tenant overrides of them, so a reader of DMARC
 * counts keeps its own copy while the evaluator owns rs.
 *
 * No state; any thread.
 */
#ifndef ALERT_DMARC_H
#define ALERT_DMARC_H

#include <stdint.h>

#include "alert_rule.h"
#include "eng_dmarc.h"

/* 1 for the kinds alert_dmarc evaluates. */
int alert_dmarc_is(const struct alert_rule *r);
void alert_dmarc_eval(const struct alert_rule *r, const uint64_t c[ENG_DMARC_NCOUNTS],
                      struct alert_value *out);
/* The severity an alert that is at `prev` now should be at, given v. */
int alert_dmarc_next(const struct alert_rule *r, int prev, const struct alert_value *v);
/* MP_OK (an empty set when rs holds none) or MP_ERR_NOMEM. */
int alert_dmarc_pick(const struct alert_ruleset *rs, struct alert_ruleset **out);

#endif
