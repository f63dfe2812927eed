/* mp_dmarc_rules.h — the DMARC rules at work: reads the DMARC report counts
 * (engine/eng_dmarc.h) under the rules file's dmarc_rate and dmarc_count
 * rules (alert_dmarc.h) and raises and resolves their alerts through the
 * evaluator's external-alert entry (alerts/alert_external.h), so routes,
 * silences, grouping, reminders, the send gate and the restore at start
 * apply as to every other alert.
 *
 * What is evaluated, per tenant, for each rule (the tenant's overrides
 * applied) over the days of its window (the last `window` UTC days, today
 * included, plus the up to 2 days ahead a report may end on):
 *   per header-from domain:            labels domain=<d>
 *   per (domain, reporting provider):  labels domain=<d>, reporter=<p>
 *                                      (eng_dmarc_provider: google,
 *                                      microsoft, yahoo, or org_name folded)
 * The alertname and `rule` label are the rule's (alertname/name); the
 * annotations say the figures: summary, value, messages, count (the DMARC
 * counter's name and its sum), window. `reporter`, not `provider`: the
 * evaluator's own `provider` label is the recipient's mailbox provider.
 *
 * When: a tenant is evaluated after each report counted for it
 * (mp_dmarc_rules_report, from POST /v1/dmarc), after a rules reload
 * (every tenant), at start and every MP_DMARC_RULES_SWEEP_MS (every tenant
 * known: those of gate.tenants, dmarc.tenant, and those reported since the
 * start), so days leaving the window resolve what they held up. Only
 * changes are told (a new severity, a resolve); the first evaluation of a
 * key after the start tells its state either way, so an alert restored
 * firing from the store resolves when its counts no longer hold it. An
 * alert whose rule left the rules file (or was disabled) resolves at the
 * next evaluation of its tenant.
 *
 * Threads: its own thread does every read and every tell; report and
 * reload are cheap from any thread (a flag and a wake). Ownership: the
 * store, config and evaluator are borrowed and outlive the runner
 * (mp_dmarc_rules_stop before alert_eval_stop); rule sets handed in are
 * the runner's (freed by it, on error too).
 */
#ifndef MP_DMARC_RULES_H
#define MP_DMARC_RULES_H

#include "alert_eval.h"
#include "eng_store.h"
#include "mp.h"
#include "mp_config.h"

#define MP_DMARC_RULES_SWEEP_MS (3600 * 1000LL) /* hourly: reports come daily */

struct mp_dmarc_rules;

/* rules: the DMARC rules (alert_dmarc_pick), taken. MP_OK, MP_ERR_NOMEM,
 * MP_ERR_STATE (no thread). */
int mp_dmarc_rules_start(struct eng_store *s, const struct mp_config *cfg,
                         struct alert_eval *eval, struct alert_ruleset *rules,
                         struct mp_dmarc_rules **out);
/* NULL: no-op. */
void mp_dmarc_rules_stop(struct mp_dmarc_rules *m);
/* New rules (taken); every tenant is evaluated again under them. m NULL:
 * the rules are freed. */
void mp_dmarc_rules_reload(struct mp_dmarc_rules *m, struct alert_ruleset *rules);
/* A report was counted for tenant: evaluate it soon. m NULL: no-op. */
void mp_dmarc_rules_report(struct mp_dmarc_rules *m, const char *tenant);
/* Evaluations of a tenant finished and alerts told (changes), for tests and
 * /metrics. */
void mp_dmarc_rules_figures(struct mp_dmarc_rules *m, uint64_t *evals, uint64_t *told);

#endif
