/* alert_external.h — alerts raised by sources that are not counters.
 *
 * The evaluator's alerts come from rules over the engine's counters. Some
 * signals are not counts: a blocklist listing (cmd/daemon/mp_dnsbl.h), a
 * figure read from DMARC reports. Such a source decides itself whether its
 * alert fires, and hands the decision to the evaluator here; from then on the
 * alert lives the life of every other one: firing and resolved, the state in
 * the store and its restore at start (a firing external alert stays firing
 * across a restart without a second "firing", its resolve still goes out),
 * grouping, routes, silences, reminders, the send gate, GET /v1/alerts and
 * the Alertmanager API.
 *
 * Identity: (rule, tenant, labels in the given order). A second call with
 * the same identity updates the same alert: a new severity escalates or
 * de-escalates it (receivers are told, as for a counter rule), new
 * annotations replace the old ones (receivers see them with the next
 * notification; a change of annotations alone is no news). Severity
 * ALERT_SEV_NONE resolves it (nothing when it does not fire). The
 * fingerprint hashes the rule name, tenant and then each label's name and
 * value, so keep the labels' order fixed for one alert.
 *
 * Labels and annotations: names [A-Za-z_][A-Za-z0-9_]*, distinct; a label
 * never one the evaluator sets itself (alertname, rule, severity, tenant,
 * mailbox, recipient_domain, provider, campaign); values up to
 * ALERT_EXT_VALUE_MAX bytes; at most ALERT_EXT_LABELS_MAX of each. The
 * annotation "summary" replaces the summary line (default: "<rule>
 * <severity> for tenant <t> <label> <value>..."); Slack, PagerDuty and email
 * show it (and the labels) where a rule's alert shows its figures. Silences
 * match the labels as any other; the evaluator's route matching does too,
 * but the config's `routes` matchers take their fixed label set only
 * (alertname, severity, tenant...), so route external alerts by alertname.
 *
 * The source owns the state: an alert it stops mentioning stays as it is
 * (firing stays firing, across restarts too) until it sends ALERT_SEV_NONE.
 * A call finds its alert by a scan of the evaluator's records (external
 * alerts are expected to be few: tell changes, not every check's result).
 *
 * The alert is tenant-scoped: with gate_sev set (ALERT_SEV_WARNING: at
 * warning and critical, ALERT_SEV_CRITICAL: at critical), the send gate
 * pauses every send of the tenant while it fires, as a tenant-scope rule
 * with `gate:` does. repeat_ms: a reminder after this long firing (0: none).
 *
 * Rule names must not be those of the rules file's counter rules (they
 * would share routes' `rule` matchers with a different meaning); the source
 * owns its names (blocklisted). The one exception by design: the DMARC
 * rules (kinds dmarc_rate/dmarc_count, cmd/daemon/mp_dmarc_rules.h) are
 * rules of the file that the counter evaluator never runs (scopes 0), and
 * their source raises them under their own names here. A reload of the
 * rules file leaves external alerts alone.
 *
 * Threads: any thread, any number at once. The call copies everything and
 * queues it; the evaluator applies it at its next pass (the call wakes it), so
 * it never waits on evaluation and evaluation never waits on the source.
 * Returns MP_OK; MP_ERR_INVAL (a bad name, label or severity: nothing
 * queued); MP_ERR_NOMEM; MP_ERR_FULL (ALERT_EXT_QUEUE_MAX calls waiting:
 * the evaluator is stuck; the caller retries at its next check).
 */
#ifndef ALERT_EXTERNAL_H
#define ALERT_EXTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "alert_eval.h"
#include "alert_notify.h"

#define ALERT_EXT_LABELS_MAX 8
#define ALERT_EXT_VALUE_MAX 1024
#define ALERT_EXT_QUEUE_MAX 65536

struct alert_external {
    const char *rule;   /* the alertname: [a-z0-9_], shorter than ALERT_NAME_MAX */
    const char *tenant;
    int severity;       /* ALERT_SEV_WARNING or _CRITICAL fires; ALERT_SEV_NONE resolves */
    int gate_sev;       /* 0: no pause; else as alert_rule.gate_sev */
    int64_t repeat_ms;  /* 0: no reminders */
    const struct alert_label *labels;      /* identity, beside rule and tenant */
    size_t nlabels;
    const struct alert_label *annotations; /* text for people; "summary" replaces the line */
    size_t nannotations;
};

/* Checks x as alert_eval_external would (no evaluator needed): MP_OK or
 * MP_ERR_INVAL with the reason in err. */
int alert_external_check(const struct alert_external *x, char *err, size_t errlen);
/* Raises, updates or resolves external alert x (see above). */
int alert_eval_external(struct alert_eval *e, const struct alert_external *x);

#endif
