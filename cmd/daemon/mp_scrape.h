/* mp_scrape.h — one tenant's numbers in the Prometheus text format, for
 * GET /v1/tenants/{tenant}/metrics, so a tenant's own Prometheus or
 * Grafana can scrape them with the tenant's token.
 *
 *   mailpulse_tenant_events_total{tenant="acme",scope="mailbox",mailbox="a@x.example",type="sent"} 12
 *     counter: events of the current UTC day (by event time) of each key
 *     and type; it resets at 00:00 UTC, which Prometheus' rate() and
 *     increase() take as a counter reset. A late event for an earlier day
 *     is not in it (the series API has every day: mp_series.h).
 *   mailpulse_tenant_window_events{...,type="sent",window="1h"} 40
 *     gauge: events in the rolling windows 1h, 24h and 7d, the windows the
 *     default rules and the stats API read.
 *   mailpulse_tenant_rate{...,rate="bounce_rate",window="1h"} 0.05
 *     gauge: the stats API's rates (mp_stats.h: bounce_rate =
 *     bounce_hard/sent, ...) over those windows, as the rules compute
 *     them; a rate whose denominator is 0 has no sample.
 *   mailpulse_tenant_scrape_keys{tenant="acme"} 3 and
 *   mailpulse_tenant_scrape_truncated{tenant="acme"} 0|1
 *     gauges: keys written, and 1 when the tenant had more keys than
 *     MP_SCRAPE_KEYS_MAX (read: the tenant key, then each scope's newest
 *     first; the rest left out unread).
 * Labels: tenant; scope (eng_scope_name(): tenant, mailbox,
 * recipient_domain, and any scope the engine adds); for a scope other than
 * tenant one label named after the scope holding the key's name; type;
 * window; rate. Values are escaped (\\, \", \n). Keys and types with no
 * event in any window nor today are left out, so a key pays for what it
 * sees.
 *
 * Errors as mp_stats.h ({"error": ...}): 404 for another path shape, a
 * tenant not counted or other than `only` (byte for byte the answer of a
 * tenant never counted), 400 for a bad tenant name or any query parameter
 * (the route takes none).
 *
 * Threads: any thread (lock-free reads of the table; a cold key is warmed
 * as stats warms it). Cost: at most MP_SCRAPE_KEYS_MAX keys read (empty
 * ones included), each once; the text holds at most that many keys.
 */
#ifndef MP_SCRAPE_H
#define MP_SCRAPE_H

#include "eng_table.h"
#include "mp.h"
#include "mp_buf.h"
#include "mp_http.h"

#define MP_SCRAPE_ROUTE "metrics"
#define MP_SCRAPE_KEYS_MAX 10000

/* Appends the tenant's text to out (keys_max >= 1 bounds the keys).
 * MP_OK, MP_ERR_NOTFOUND (no such tenant), MP_ERR_NOMEM. */
int mp_scrape_render(struct eng_table *t, const char *tenant, size_t keys_max,
                     struct mp_buf *out);

/* The route: 200 text/plain; version=0.0.4, or the JSON errors above. */
void mp_scrape_reply_only(struct eng_table *t, const struct mp_http_request *req,
                          const char *only, struct mp_http_reply *out);

#endif
