/* alert_notify.h — what a notification says: the Alertmanager v4 webhook
 * body, the text every receiver shares (summary, title, values through
 * base/mp_fmt), the request signature, the alert fingerprint and the
 * idempotency key. Slack, PagerDuty and email bodies: alert_slack.h,
 * alert_pagerduty.h, alert_email.h.
 *
 * Contract: pure functions of their arguments, no state, any thread. Bodies
 * are built with jansson and returned as malloc'd NUL-terminated strings
 * owned by the caller (free(); NULL on allocation failure). An alert's
 * identity (fingerprint) covers the rule name, tenant, mailbox, recipient
 * domain, provider and campaign but not the severity, so an alert that escalates from warning to
 * critical stays the same alert.
 *
 * FROZEN: alert_fingerprint() and alert_notify_idem_key(). Receivers and
 * the alert store key on these values (a restart, an upgrade and a resend
 * must name the same alert the same way): never change the functions or
 * their constants. (The provider and campaign, added with their scopes,
 * are hashed after the four original labels and only when set, so every
 * alert of the first three scopes keeps its fingerprint.) They hash with a private frozen copy of the original
 * mp_hash_bytes() (alert_notify.c), not with base/mp_hash.h, which may be
 * reseeded or changed; tests/test_alert_notify.c pins both with vectors.
 *
 * alert_sign() computes the X-Mailpulse-Signature header value:
 *   t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>
 */
#ifndef ALERT_NOTIFY_H
#define ALERT_NOTIFY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert_rule.h"

enum alert_status { ALERT_STATUS_FIRING = 0, ALERT_STATUS_RESOLVED = 1 };

/* One label (or annotation) of an alert, borrowed. */
struct alert_label {
    const char *name, *value;
};

/* One alert as it goes out. Strings are borrowed for the call's duration. */
struct alert_instance {
    const struct alert_rule *rule;
    int status;   /* enum alert_status */
    int severity; /* enum alert_severity (the last one while firing, for resolved) */
    const char *tenant;
    const char *mailbox;  /* NULL unless mailbox or mailbox_provider scope */
    const char *domain;   /* NULL unless recipient-domain scope */
    const char *provider; /* NULL unless provider or mailbox_provider scope */
    const char *campaign; /* NULL unless campaign scope */
    struct alert_value v;
    int64_t starts_ms;
    int64_t ends_ms; /* 0 while firing */
    int rule_removed; /* resolved because its rule left the rules file */
    /* External alerts (alert_eval_external, alert_external.h): raised by a
     * source that is not a counter (a blocklist check, DMARC reports). Its
     * labels are part of its identity (the fingerprint hashes them, after
     * the scope labels, only when there are any); its annotations replace
     * the counter figures (summary included). rule is a stand-in. */
    int external;
    const struct alert_label *labels;
    size_t nlabels;
    const struct alert_label *annotations;
    size_t nannotations;
};

/* FROZEN (see above). 16 lowercase hex digits + NUL. */
void alert_fingerprint(const struct alert_instance *a, char out[17]);

#define ALERT_IDEM_LEN 17 /* 16 hex digits + NUL */
/* FROZEN (see above). The Idempotency-Key of the notification of alerts
 * a[0..n) decided at decided_ms (wall clock) for `receiver`: the same inputs
 * give the same key; another alert, status, severity, start, decision time
 * or receiver gives another. */
void alert_notify_idem_key(const struct alert_instance *a, size_t n, int64_t decided_ms,
                           const char *receiver, char out[ALERT_IDEM_LEN]);
const char *alert_severity_name(int sev);

/* Text for people, shared by every receiver's renderer (alert_slack.c,
 * alert_pagerduty.c, alert_email.c):
 *   alert_notify_summary(): the one-line summary the webhook carries in
 *     annotations.summary ("bounce_rate 2.31% for tenant acme mailbox x
 *     (231 of 10000 delivered over 1h), warning at 2.00%");
 *   alert_notify_what(): the figures behind the value, as the summary
 *     gives them in parentheses ("231 of 10000 delivered over 1h"); for an
 *     external alert its labels ("ip 192.0.2.10, zone zen.example");
 *   alert_notify_scope(): " mailbox x", " recipient domain y" or "";
 *   alert_notify_value_text(): a value of rule r (ppb) through base/mp_fmt:
 *     "2.31%" (ratio, drop, trend), "3.2x" (spike), "12" (count);
 *   alert_notify_threshold(): the threshold the alert is measured against
 *     (critical's when critical or no warning is set, else warning's), ppb. */
void alert_notify_summary(const struct alert_instance *a, char *buf, size_t n);
/* The title of a notification of a[0..n), as Slack and email subjects
 * show it: "[FIRING:2] acme bounce_rate warning" (the firing count, the
 * tenant, then the alert name and severity when all alerts share them), or
 * "[RESOLVED] acme bounce_rate warning" when none fires. */
void alert_notify_title(const struct alert_instance *a, size_t n, char *buf, size_t len);
void alert_notify_scope(const struct alert_instance *a, char *buf, size_t n);
void alert_notify_what(const struct alert_instance *a, char *buf, size_t n);
void alert_notify_value_text(const struct alert_rule *r, uint64_t ppb, char *buf, size_t n);
uint64_t alert_notify_threshold(const struct alert_instance *a);

/* One alert as the webhook's "alerts" entries carry it (status, labels,
 * annotations, startsAt, endsAt, generatorURL, fingerprint); a new reference. */
json_t *alert_notify_alert_json(const struct alert_instance *a);
/* Sets the alert's scope in o, as the webhook labels and PagerDuty's
 * custom_details both carry it: "tenant", then "mailbox" and
 * "recipient_domain" when the alert has them. */
void alert_notify_scope_json(json_t *o, const struct alert_instance *a);
/* Sets the figures of a counter alert in o, as the webhook annotations and
 * PagerDuty's custom_details both carry them: "value", "threshold",
 * "numerator", "denominator" (rules with one) and "window". for_people:
 * values through alert_notify_value_text and counts as JSON integers
 * (PagerDuty); else values as the rule's own text and counts as strings
 * (Alertmanager's annotations are strings). */
void alert_notify_figures_json(json_t *o, const struct alert_instance *a, bool for_people);
char *alert_notify_webhook(const char *receiver, const struct alert_instance *a, size_t n);

/* Labels a notification group can be keyed on (alerting.group_by). The
 * bits are in the names' sort order, which is the order groupKey lists them
 * in (Alertmanager sorts label sets the same way). severity is not one: an
 * alert changes severity while it fires, and would change groups. */
enum {
    ALERT_LABEL_ALERTNAME = 1u << 0,
    ALERT_LABEL_MAILBOX = 1u << 1,
    ALERT_LABEL_DOMAIN = 1u << 2, /* recipient_domain */
    ALERT_LABEL_RULE = 1u << 3,
    ALERT_LABEL_TENANT = 1u << 4,
    ALERT_LABEL_ALL = (1u << 5) - 1
};
/* The ALERT_LABEL_* bit of label `name`, 0 when it is not one. */
unsigned alert_label_bit(const char *name);
/* Alert a's value of label `bit` (one ALERT_LABEL_* bit); "" when it has
 * none (mailbox of a domain alert, rule when it equals the alertname). */
const char *alert_label_value(const struct alert_instance *a, unsigned bit);

/* How a group's webhook body is put together. */
struct alert_notify_group {
    unsigned group_by;        /* ALERT_LABEL_* bits; tenant is always added */
    const char *route_key;    /* groupKey prefix; NULL: "{}" (the root route) */
    size_t max_alerts;        /* 0: every alert; else at most this many, truncatedAlerts the rest */
    const char *external_url; /* externalURL; NULL or "": none (and no generatorURL) */
};
/* groupKey of alert a under g, Alertmanager's "<route>:{label=\"value\", ...}"
 * (labels sorted, empty ones left out), e.g. {}:{tenant="acme"}. */
void alert_notify_group_key(const struct alert_notify_group *g, const struct alert_instance *a,
                            char *buf, size_t n);
/* The v4 webhook body of one group's notification: alerts a[0..n) (all of
 * the group's), groupLabels and groupKey from a[0] under g, status firing
 * while any of them fires, generatorURL of each
 * <external_url>/v1/alerts?tenant=<tenant>#<fingerprint>. */
char *alert_notify_webhook_group(const struct alert_notify_group *g, const char *receiver,
                                 const struct alert_instance *a, size_t n);

/* out must hold at least 100 bytes. */
void alert_sign(const char *secret, int64_t unix_s, const char *body, size_t len, char *out,
                size_t outlen);

/* RFC 3339 UTC with milliseconds ("2026-11-22T16:30:01.123Z"); 0 gives
 * Alertmanager's "0001-01-01T00:00:00Z". buf >= 32 bytes. */
void alert_format_time(int64_t ms, char *buf, size_t n);

#endif
