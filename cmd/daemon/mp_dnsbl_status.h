/* mp_dnsbl_status.h — one tenant's blocklist status as JSON, for
 * GET /v1/tenants/{tenant}/blocklists: every check the blocklist checker
 * (mp_dnsbl.h) runs for the tenant, clean ones included, with what its
 * answers said.
 *
 * Response (MP_OK, 200):
 *   {"tenant": T,
 *    "configured": true|false,  false: no checker runs (no `blocklists:`
 *                               section, one without tenants, or one
 *                               removed by a reload)
 *    "interval_seconds": N|null, the section's interval (null: not configured)
 *    "zones": [names],           the zones the tenant is checked against,
 *                                in config order ([]: none)
 *    "checks": [{"target": "192.0.2.10"|"acme.example",
 *                "type": "ip"|"domain", "zone": name,
 *                "status": "listed"|"clean"|"unknown",
 *                "since": T,           since when the status holds (unknown:
 *                                      since the check was made, at the start
 *                                      or the reload that added it)
 *                "checked": T|null,    the last answer (listed or clean)
 *                "last_error": reason|null, mp_dnsq's reason name of the
 *                                      last error (timeout, servfail, ...)
 *                "last_error_at": T|null,
 *                "return_code", "meaning", "txt": strings when listed and
 *                                      known, else null}]}
 *   Times are RFC 3339 UTC with milliseconds. Checks are sorted ip before
 *   domain, then by target, then zone (byte order). A tenant the section
 *   does not name has "zones": [] and "checks": []. The status lives in
 *   memory: after a restart every check is unknown until its first answer.
 *
 * Errors as mp_stats.h ({"error": ...}): 404 for another path shape and,
 * from mp_dnsbl_status_reply, for a tenant other than `only` (byte for
 * byte the stats route's unknown tenant); 400 for a bad tenant name or any
 * query parameter (the route takes none, and the message names it).
 *
 * Threads: any thread (mp_dnsbl_visit: the checker's status lock for one
 * pass over its checks; the JSON is sorted after the lock is released).
 */
#ifndef MP_DNSBL_STATUS_H
#define MP_DNSBL_STATUS_H

#include <jansson.h>

#include "mp_dnsbl.h"
#include "mp_http.h"

#define MP_DNSBL_STATUS_ROUTE "blocklists" /* the last segment under /v1/tenants/{t}/ */

/* The document above for tenant (a valid name) in *out, a new reference.
 * d NULL: not configured. MP_OK or MP_ERR_NOMEM (*out NULL). */
int mp_dnsbl_status_json(struct mp_dnsbl *d, const char *tenant, json_t **out);
/* GET /v1/tenants/{tenant}/blocklists for a caller who may see tenant
 * `only` alone (NULL: any): 200, 400, 404 or 500. */
void mp_dnsbl_status_reply(struct mp_dnsbl *d, const char *only, const struct mp_http_request *req,
                           struct mp_http_reply *out);

#endif
