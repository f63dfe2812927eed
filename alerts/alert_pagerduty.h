/* alert_pagerduty.h — the PagerDuty Events API v2 event of one alert.
 *
 * Contract: a pure function of its arguments, any thread; the body is a
 * malloc'd NUL-terminated JSON string owned by the caller (NULL when memory
 * runs out).
 *
 * PagerDuty keys incidents on one alert, not on a group, so each alert of a
 * notification is its own event (and its own outbox entry, in order behind
 * the receiver's others): a trigger for a firing alert, a resolve for a
 * resolved one, both with dedup_key = alert_fingerprint() (stable across
 * escalation, restarts and resends), so the resolve closes the incident the
 * trigger opened:
 *   {"routing_key": rc->routing_key, "event_action": "trigger"|"resolve",
 *    "dedup_key": "<fingerprint>", "client": "mailpulse",
 *    "client_url"?: externalURL,
 *    "payload": {"summary": alert_notify_summary() (at most 1024 bytes),
 *                "source": "mailpulse tenant <t>[ mailbox m|recipient domain d]",
 *                "severity": "critical"|"warning", "timestamp": startsAt,
 *                "component": "<tenant>", "group": "<tenant>", "class": "<alertname>",
 *                "custom_details": {"value", "threshold", "numerator",
 *                   "denominator"?, "window", "kind", the labels ...}}}
 * A resolve carries the payload too (PagerDuty ignores it; people reading
 * the event log do not). Severity: critical -> critical, warning -> warning.
 * The receiver's url defaults to MP_PAGERDUTY_URL (cmd/daemon/mp_config.h).
 */
#ifndef ALERT_PAGERDUTY_H
#define ALERT_PAGERDUTY_H

#include "alert_notify.h"
#include "alert_sender.h"

#define ALERT_PAGERDUTY_SUMMARY_MAX 1024 /* the API's limit */

char *alert_pagerduty_event(const struct alert_receiver *rc, const char *external_url,
                            const struct alert_instance *a);

#endif
