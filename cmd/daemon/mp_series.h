/* mp_series.h — a key's history per step, for GET /v1/tenants/{tenant}/series.
 *
 * Request:
 *   /v1/tenants/{tenant}/series?scope=S&name=N&types=T,T&rate=NUM/DEN
 *                              &step=5m|1h|1d&from=TIME&to=TIME
 *   - scope: a scope of the engine (eng_scope_name(): tenant, mailbox,
 *     recipient_domain, and whatever scopes the engine adds), default tenant;
 *   - name: the mailbox, domain, ... as counted (mailboxes and domains are
 *     lower-cased at ingest), 1..255 bytes of UTF-8 without control bytes; required
 *     for any scope but tenant, refused for tenant;
 *   - types: event type names (eng_type_name()), comma-separated, each at
 *     most once; default every type (with rate=: none but the rate's);
 *   - rate: "num/den" of two type names: the ratio per step (null when the
 *     step has no den);
 *   - step: 5m, 1h or 1d (default 1h), the engine's bucket widths;
 *   - from, to: RFC 3339 (2026-11-20T00:00:00Z, any offset) or Unix
 *     seconds; each selects the step bucket holding it, both included.
 *     Default to: now; default from: the oldest bucket the step reaches.
 *   How far back a step reaches (engine/eng_table_history.h): 5m the last
 *   65 minutes, 1h the last 25 hours (memory only: the store keeps those
 *   resolutions for restarts only), 1d the whole retention (memory for the
 *   last 13 days, RocksDB before). A from before that, or a to past the
 *   next bucket, is refused (400), never cut silently.
 *   Bound: at most MP_SERIES_VALUES_MAX values per answer (points x (types
 *   + rate)); more is 400. Unknown, repeated or empty parameters are 400.
 *
 * Response (200):
 *   {"tenant", "scope", "name" (not for tenant scope), "step", "from", "to"
 *    (the first and last bucket's start, RFC 3339 UTC), "types": [names],
 *    "rate": "num/den" (with rate=),
 *    "points": [{"t": RFC 3339 start of the bucket, "ts": Unix seconds,
 *                "counts": {type: n, ...}, "rate": x|null}]}
 *   one point per bucket, oldest first, zeros included.
 * Errors as mp_stats.h: {"error": "..."}; 400 (MP_ERR_INVAL) for a bad
 * parameter, before the tenant is looked at; 404 (MP_ERR_NOTFOUND) for
 * another path shape, a tenant not counted, a tenant other than `only`
 * (the very answer of a tenant never counted), or a key with no events.
 *
 * Threads: any thread (eng_history_read). Cost: at most
 * ENG_HISTORY_MAX_BUCKETS bucket reads of one key, one RocksDB point read
 * per stored day.
 */
#ifndef MP_SERIES_H
#define MP_SERIES_H

#include <jansson.h>
#include <stdint.h>

#include "eng_table.h"
#include "mp.h"
#include "mp_http.h"

#define MP_SERIES_ROUTE "series"
#define MP_SERIES_VALUES_MAX 5000
#define MP_SERIES_NAME_MAX 255

/* A request's parameters, checked (mp_series_params). */
struct mp_series_params {
    int scope;
    const char *name;  /* into the request; NULL for tenant scope */
    unsigned types;    /* bit `type` per type asked for */
    int ntypes;
    int rate_num, rate_den; /* types; 0: no rate */
    int res;                /* ENG_RES_* */
    int64_t lo, hi;         /* buckets of res, lo <= hi */
};

/* Checks req's query against the table's reach at now_ms: MP_OK, or
 * MP_ERR_INVAL with *err the 400 body ({"error": ...}; MP_ERR_NOMEM: none).
 * MP_ERR_AGAIN (a ring reset) is answered as 503-worthy by the caller. */
int mp_series_params(const struct eng_table *t, const struct mp_http_request *req,
                     int64_t now_ms, struct mp_series_params *p, json_t **err);

/* The whole answer for a caller who may see tenant `only` (NULL: any). */
int mp_series_build(struct eng_table *t, const struct mp_http_request *req, const char *only,
                    int64_t now_ms, json_t **out);
void mp_series_reply_only(struct eng_table *t, const struct mp_http_request *req,
                          const char *only, struct mp_http_reply *out);

/* 1 when name= is one the engine could have counted: 1..MP_SERIES_NAME_MAX
 * bytes of well-formed UTF-8 without control characters (the history route
 * reads it the same way); MP_SERIES_NAME_BAD is the 400's text (the name,
 * echoed, and the bound). */
int mp_series_name_ok(const char *name);
#define MP_SERIES_NAME_BAD \
    "bad name \"%s\"; allowed: 1..%d bytes of UTF-8, no control characters"

/* TIME (a from= or to= parameter named `what`): RFC 3339 or Unix seconds,
 * into Unix ms; MP_ERR_INVAL with the 400 body in *err. */
int mp_series_time(const char *what, const char *s, int64_t *ms, json_t **err);

#endif
