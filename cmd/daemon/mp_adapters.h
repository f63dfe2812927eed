/* mp_adapters.h — the daemon's ESP webhook endpoints (config: adapters:,
 * mp_config_adapters.h; bodies: ingest/ingest_adapt.h).
 *
 * Contract: mp_adapters_reply() answers one POST under MP_ADAPTERS_PREFIX:
 *   404  no adapter has this path;
 *   401  postmark: basic auth wrong or missing; json: Authorization: Bearer
 *        <signing_key> wrong or missing; mailgun: signature wrong, missing,
 *        more than INGEST_ADAPT_MAX_AGE_S old, or its token already used
 *        (a replay). Counted in mailpulse_adapter_bad_signature_total;
 *   400  the body is malformed, or an event fails the ingest rules
 *        (ingest_validate.h), with the first reason: nothing is recorded;
 *   503  the dedup table is full (the service retries later);
 *   200  {"accepted":N,"duplicates":D,"rejected":R} once every new event is
 *        recorded in the engine table (ingest_proc; rejected: refused by
 *        the tenant limits). Durability: the counts reach RocksDB with the
 *        next counter flush (engine.flush_interval), not before the 2xx.
 * Events whose service id was recorded within the adapter's dedup_window
 * are counted as duplicates and not recorded again. The dedup set lives in
 * memory (a keyed 64-bit hash of adapter name and id per entry, at most
 * MP_ADAPTERS_SEEN_MAX): a restart forgets it.
 *
 * Threads: mp_adapters_reply() and mp_adapters_metrics() from any thread,
 * several at once (one mutex around dedup and recording: the engine writer
 * registration is one, and a body is recorded as one frame).
 * Ownership: `conf` and the table are borrowed until mp_adapters_destroy(),
 * which runs after the HTTP server stopped and before the table goes.
 */
#ifndef MP_ADAPTERS_H
#define MP_ADAPTERS_H

#include <stddef.h>

#include "eng_table.h"
#include "ingest_validate.h"
#include "mp.h"
#include "mp_buf.h"
#include "mp_config_adapters.h"
#include "mp_http.h"

#define MP_ADAPTERS_SEEN_MAX (1u << 22)

struct mp_adapters;

/* MP_OK or MP_ERR_NOMEM. n 0: *out NULL (every call takes NULL). */
int mp_adapters_create(const struct mp_adapter_conf *conf, size_t n, struct eng_table *t,
                       const struct ingest_limits *lim, struct mp_adapters **out);
void mp_adapters_destroy(struct mp_adapters *a);
void mp_adapters_reply(struct mp_adapters *a, const struct mp_http_request *req,
                       struct mp_http_reply *out);
/* Appends the adapters' Prometheus rows (per adapter="name") to b. */
int mp_adapters_metrics(struct mp_adapters *a, struct mp_buf *b);

#endif
