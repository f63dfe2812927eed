/* mp_metrics_tenant.h — the per-tenant rows of GET /metrics: events refused
 * by the noisy-neighbour limits (limits:, engine/eng_table.h "Limits").
 *
 *   mailpulse_tenant_events_rejected_total{tenant="acme",reason="tenant_key_cap"} 42
 *   mailpulse_tenant_events_rejected_unlisted_total{reason="tenant_key_cap"} 0
 *
 * Cardinality is bounded: only tenants that hit a cap have series, at most
 * ENG_LIMITED_MAX of them (the engine's list); the rest, and any tenant
 * whose stored name is not of the tenant grammar (eng_name.h, so always
 * label-safe), are summed in the _unlisted_ row. Both reasons are printed
 * for every listed tenant, so a series never appears half.
 *
 * t may be NULL (no rows but the zero _unlisted_ ones). Any thread (the engine's figures are lock-free reads). Appends to `out`;
 * MP_OK or MP_ERR_NOMEM.
 */
#ifndef MP_METRICS_TENANT_H
#define MP_METRICS_TENANT_H

#include "eng_table.h"
#include "mp_buf.h"

int mp_metrics_tenant_render(const struct eng_table *t, struct mp_buf *out);

#endif
