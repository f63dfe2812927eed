/* alert_pagerduty.c — PagerDuty Events API v2 events (see alert_pagerduty.h). */
#include "alert_pagerduty.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* The figures, for people reading the incident: the same values the
 * webhook annotations carry, shown through mp_fmt, plus the labels. */
static json_t *pd__details(const struct alert_instance *a)
{
    const struct alert_rule *r = a->rule;
    json_t *d = json_object();
    if (a->external) { /* no figures: its labels and annotations */
        json_object_set_new(d, "alertname", json_string(r->alertname));
        alert_notify_scope_json(d, a);
        for (size_t i = 0; i < a->nlabels; i++)
            json_object_set_new(d, a->labels[i].name, json_string(a->labels[i].value));
        for (size_t i = 0; i < a->nannotations; i++)
            json_object_set_new(d, a->annotations[i].name, json_string(a->annotations[i].value));
        return d;
    }
    alert_notify_figures_json(d, a, true);
    json_object_set_new(d, "kind", json_string(alert_kind_name(r->kind)));
    json_object_set_new(d, "alertname", json_string(r->alertname));
    alert_notify_scope_json(d, a);
    return d;
}

char *alert_pagerduty_event(const struct alert_receiver *rc, const char *external_url,
                            const struct alert_instance *a)
{
    char summary[ALERT_PAGERDUTY_SUMMARY_MAX], scope[200], source[320], fp[17], ts[40];
    alert_notify_summary(a, summary, sizeof(summary)); /* cut to the API's limit */
    alert_notify_scope(a, scope, sizeof(scope));
    snprintf(source, sizeof(source), "mailpulse tenant %s%s", a->tenant, scope);
    alert_fingerprint(a, fp);
    alert_format_time(a->starts_ms, ts, sizeof(ts));
    const char *sev = a->severity == ALERT_SEV_CRITICAL ? "critical" : "warning";
    json_t *payload = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o}", "summary", summary, "source",
                                source, "severity", sev, "timestamp", ts, "component", a->tenant,
                                "group", a->tenant, "class", a->rule->alertname,
                                "custom_details", pd__details(a));
    json_t *root = payload ? json_pack("{s:s,s:s,s:s,s:s,s:o}", "routing_key",
                                       rc && rc->routing_key ? rc->routing_key : "",
                                       "event_action",
                                       a->status == ALERT_STATUS_FIRING ? "trigger" : "resolve",
                                       "dedup_key", fp, "client", "mailpulse", "payload", payload)
                           : NULL;
    if (root && external_url && *external_url)
        json_object_set_new(root, "client_url", json_string(external_url));
    char *out = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    return out;
}
