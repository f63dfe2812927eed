/* mp_amapi.h — the subset of Alertmanager's API v2 its tools use (amtool,
 * Grafana's Alertmanager data source), served under /api/v2/ with
 * Alertmanager's JSON shapes (api/v2/openapi.yaml):
 *
 *   GET    /api/v2/status          cluster "disabled", versionInfo, uptime
 *   GET    /api/v2/receivers       [{name}] of the configured receivers
 *   GET    /api/v2/alerts          firing alerts as gettableAlert, with
 *                                  status.state "active" or "suppressed" and
 *                                  status.silencedBy; query: filter=MATCHER
 *                                  (repeatable), active, silenced, inhibited,
 *                                  unprocessed (true|false), receiver (a
 *                                  regex, accepted and ignored: every alert
 *                                  goes to its tenant's route)
 *   GET    /api/v2/alerts/groups   the same alerts grouped by tenant
 *   GET    /api/v2/silences        gettableSilence list; filter=MATCHER
 *   POST   /api/v2/silences        postableSilence -> {"silenceID": id}
 *   GET    /api/v2/silence/{id}    one gettableSilence
 *   DELETE /api/v2/silence/{id}    expires it
 *
 * Errors are {"error": "..."}: 400 for a bad body, field or query
 * parameter (alert_silence.h says what is checked), 404 for an unknown path
 * or silence, 405 for another method, 500 when the store or memory fails.
 *
 * Auth is mp_api's (the caller passes who it is): `only` is a tenant
 * token's tenant, NULL for the admin or an API without tokens. A tenant
 * sees its own tenant's alerts, and only silences pinning its tenant
 * (tenant="<its tenant>"); others answer 404 as never existing.
 *
 * Threads: any HTTP thread; everything read is thread-safe on its own.
 */
#ifndef MP_AMAPI_H
#define MP_AMAPI_H

#include "mp_http.h"
#include "mp_metrics.h"

#define MP_AMAPI_PREFIX "/api/v2/"

/* Answers one request below MP_AMAPI_PREFIX (GET, POST and DELETE). */
void mp_amapi_reply(const struct mp_metrics_sources *src, const char *only,
                    const struct mp_http_request *req, struct mp_http_reply *out);

#endif
