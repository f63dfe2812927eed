/* mp_alert_history.h — GET /v1/tenants/{tenant}/alerts/history: a tenant's
 * past alerts (alerts/alert_history.h), with the silences that held them.
 *
 * Request:
 *   /v1/tenants/{tenant}/alerts/history?scope=S&name=N&alert=A&from=TIME
 *                                      &to=TIME&limit=N
 *   - scope: a scope of the engine (tenant, mailbox, recipient_domain,
 *     provider, mailbox_provider, campaign) or "external" (blocklist and
 *     DMARC alerts); default: every scope;
 *   - name: with scope (not tenant or external), that key only, as
 *     counted (mailbox_provider: "mailbox/provider");
 *   - alert: an alertname (1..64 bytes), default every alert;
 *   - from, to: RFC 3339 or Unix seconds (as /series), both included;
 *     default to now and the retention before it; from after to is 400;
 *   - limit: 1..ALERT_HISTORY_LIMIT_MAX, the newest entries (default
 *     ALERT_HISTORY_LIMIT_DEFAULT).
 *   Unknown, repeated or empty parameters are 400.
 *
 * Response (200):
 *   {"tenant", "from", "to" (RFC 3339 UTC), "limit", "truncated",
 *    "entries": [{"at", "event": fired|severity|resolved|silenced,
 *                 "scope", "name", "silences": [ids] (silenced only),
 *                 "alert": the webhook's alert entry (status, labels,
 *                 annotations, startsAt, endsAt, fingerprint)}] oldest first,
 *    "silences": [gettable silences (Alertmanager's shape) that match the
 *                 labels of an entry's alert, any state, each with
 *                 "fingerprints": the entries' alerts it matches]}
 *   A tenant with no past alerts gets 200 with no entries: the answer does
 *   not tell whether such a tenant was ever counted.
 * Errors as mp_stats.h; 404 for a tenant other than `only` (the answer of
 * a tenant never counted); 503 without an alerts store.
 *
 * Threads: any thread (store reads, the silences' lock).
 */
#ifndef MP_ALERT_HISTORY_H
#define MP_ALERT_HISTORY_H

#include <jansson.h>
#include <stdint.h>

#include "alert_silence.h"
#include "eng_store.h"
#include "mp_http.h"

#define MP_ALERT_HISTORY_ROUTE "alerts/history"

/* The answer's body and rc (MP_OK, MP_ERR_INVAL, MP_ERR_NOTFOUND,
 * MP_ERR_NOMEM, MP_ERR_IO); silences may be NULL (none listed). */
int mp_alert_history_build(struct eng_store *astore, struct alert_silences *silences,
                           const struct mp_http_request *req, const char *only,
                           int64_t retention_ms, int64_t now_ms, json_t **out);
void mp_alert_history_reply(struct eng_store *astore, struct alert_silences *silences,
                            const struct mp_http_request *req, const char *only,
                            int64_t retention_ms, struct mp_http_reply *out);

#endif
