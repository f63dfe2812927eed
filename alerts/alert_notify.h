/* alert_notify.h — notification payloads: Alertmanager v4 webhook and Slack.
 *
 * Contract: pure builders, any thread. Bodies are built with jansson and
 * returned as malloc'd NUL-terminated strings owned by the caller (NULL on
 * allocation failure). An alert's identity (fingerprint) covers the rule
 * name, tenant, mailbox and recipient domain but not the severity, so an
 * alert that escalates from warning to critical stays the same alert.
 *
 * alert_sign() computes the X-Mailpulse-Signature header value:
 *   t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>
 */
#ifndef ALERT_NOTIFY_H
#define ALERT_NOTIFY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "alert_rule.h"

enum alert_status { ALERT_STATUS_FIRING = 0, ALERT_STATUS_RESOLVED = 1 };

/* One alert as it goes out. Strings are borrowed for the call's duration. */
struct alert_instance {
    const struct alert_rule *rule;
    int status;   /* enum alert_status */
    int severity; /* enum alert_severity (the last one while firing, for resolved) */
    const char *tenant;
    const char *mailbox; /* NULL unless mailbox scope */
    const char *domain;  /* NULL unless recipient-domain scope */
    struct alert_value v;
    int64_t starts_ms;
    int64_t ends_ms; /* 0 while firing */
    int rule_removed; /* resolved because its rule left the rules file */
};

/* 16 hex digits + NUL. */
void alert_fingerprint(const struct alert_instance *a, char out[17]);
const char *alert_severity_name(int sev);

/* One alert as the webhook's "alerts" entries carry it (status, labels,
 * annotations, startsAt, endsAt, generatorURL, fingerprint); a new reference. */
json_t *alert_notify_alert_json(const struct alert_instance *a);
char *alert_notify_webhook(const char *receiver, const struct alert_instance *a, size_t n);
char *alert_notify_slack(const struct alert_instance *a, size_t n);

/* out must hold at least 100 bytes. */
void alert_sign(const char *secret, int64_t unix_s, const char *body, size_t len, char *out,
                size_t outlen);

/* RFC 3339 UTC with milliseconds ("2026-11-22T16:30:01.123Z"); 0 gives
 * Alertmanager's "0001-01-01T00:00:00Z". buf >= 32 bytes. */
void alert_format_time(int64_t ms, char *buf, size_t n);

#endif
