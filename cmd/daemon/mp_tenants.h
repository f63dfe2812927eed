/* mp_tenants.h — the list of tenants, for GET /v1/tenants.
 *
 * Request: /v1/tenants[?window=1h|24h|7d][&limit=N]
 *   - window: the figures' window, default 24h (as the stats route);
 *   - limit: tenants returned, 1..MP_TENANTS_LIMIT_MAX, default
 *     MP_TENANTS_LIMIT_DEFAULT, the first by name.
 *   Unknown, repeated or empty parameters are refused (400), never ignored.
 *
 * Response (200):
 *   {"window", "limit", "tenants_total" (tenants the caller may see),
 *    "truncated" (more than `limit` of them),
 *    "tenants": [{"tenant", "keys" (its keys of every other scope),
 *                 "first_seen" ("YYYY-MM-DD" of its first event, UTC, or
 *                 null), "counts", "rates" (as mp_stats.h)}] by name}
 * `only` (a tenant token's tenant) lists that tenant alone, and nothing
 * when it was never counted: a tenant token learns no other tenant's name.
 * NULL (the admin token, or an API without tokens) lists every tenant.
 *
 * Threads: the table is read lock-free (eng_table_tenants, mp_stats_read);
 * any thread. Cost: one walk of the tenant list and a sort of the names
 * (O(tenants log tenants), one pointer each), then at most `limit` window
 * reads (a store read for an evicted tenant key).
 */
#ifndef MP_TENANTS_H
#define MP_TENANTS_H

#include "eng_table.h"
#include "mp_http.h"

#define MP_TENANTS_ROUTE "/v1/tenants"
#define MP_TENANTS_LIMIT_DEFAULT 1000
#define MP_TENANTS_LIMIT_MAX 100000

void mp_tenants_reply(const struct eng_table *t, const struct mp_http_request *req,
                      const char *only, struct mp_http_reply *out);

#endif
