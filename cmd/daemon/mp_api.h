/* mp_api.h — the daemon's HTTP API: its routes and their handlers.
 *
 *   GET /healthz                        {"status":"ok"}
 *   GET /metrics                        Prometheus text (mp_metrics.h)
 *   GET /v1/tenants/{tenant}/stats      a tenant's counts and rates (mp_stats.h)
 *   GET /v1/tenants/{tenant}/series     a key's counts per 5m|1h|1d step over
 *                                       the retention (mp_series.h)
 *   GET /v1/tenants/{tenant}/metrics    the tenant's counters, Prometheus text
 *                                       (mp_scrape.h); tokens as for stats
 *   GET /v1/tenants/{tenant}/dmarc[?days=N]
 *                                       the tenant's DMARC report counts (mp_dmarc.h)
 *   POST /v1/dmarc                      a DMARC aggregate report: XML, .gz, .zip
 *                                       or a mail message (mp_dmarc.h); a tenant
 *                                       token posts its own tenant's reports
 *   GET /v1/alerts[?tenant=T]           pending and firing alerts (alert_eval.h)
 *   GET /v1/rules[?tenant=T]            the rules in force for T, thresholds
 *                                       included (alert_eval.h), scoped like
 *                                       /v1/alerts
 *   GET /ui/...                         the web UI's static files (mp_ui.h),
 *                                       open like /healthz; /ui redirects
 *   GET /v1/alerts/dead[?tenant=T][&limit=N]
 *                                       dead letters, at most N (default 1000)
 *   POST /v1/admin/checkpoint[?name=NAME]
 *                                       RocksDB checkpoints of both stores in
 *                                       data_dir/checkpoints/NAME/{db,alerts}
 *                                       (admin only; default NAME: the UTC time
 *                                       as 20261202T031500Z): 200 with
 *                                       {"name","path"}, 409 when NAME exists,
 *                                       500 (and nothing left) when it fails
 *   GET /v1/gate?tenant=T&...           the send gate's decision (mp_gate.h)
 *   GET /v1/gate/pauses[?tenant=T]      what the gate pauses (mp_gate.h)
 *   GET|POST|DELETE /api/v2/...         Alertmanager's API v2 (mp_amapi.h),
 *                                       scoped like /v1/alerts
 *   POST /hooks/...                     the ESP webhook adapters
 *                                       (mp_adapters.h): their own
 *                                       credentials, never the tokens below
 *
 * Contract: mp_api_start() serves these on `listen` (mp_http.h: host:port as
 * mp_addr.h parses it, IPv4, [IPv6] or a name) until mp_api_stop(). Every
 * error answer is {"error": "..."} from mp_http_error(): 400 for a bad,
 * unknown or repeated query parameter (tenant=NAME of eng_name.h,
 * limit=1..999999 on /dead only), 404 for an unknown path, 405 for another
 * method, 500 when memory runs out.
 *
 * Authentication (mp_auth.h), checked before anything else: /healthz and
 * the UI's files are open; every other route needs `Authorization: Bearer <token>` once a
 * token is configured, else 401 (with WWW-Authenticate). /metrics needs the
 * admin token (403 for a tenant token) unless metrics_open. A tenant token
 * sees its own tenant only: stats of another tenant, and /v1/alerts[/dead]
 * with ?tenant= another, answer 404 with the very body of a tenant never
 * counted (MP_STATS_UNKNOWN_TENANT), whether that tenant exists or not;
 * the lists without ?tenant= hold its own tenant's entries only. An admin
 * token (or an API without tokens) sees everything, as before. Without
 * tokens the API is served on a loopback address only: another listen is
 * MP_ERR_INVAL with err "http.listen \"...\" is not a loopback address ...".
 *
 * Threads: handlers run on the HTTP server's threads, several at once, and
 * only read what is safe to read from there (see mp_metrics.h, mp_stats.h, alert_eval.h,
 * alert_sender.h). Ownership: `src` and `auth` (NULL: no tokens) are
 * borrowed and must stay valid, with every part in them, until
 * mp_api_stop() has returned.
 * With src->cfg, mp_api_start() also opens the adapters' dedup set (and
 * imports an old data_dir/adapters.seen, mp_adapters.h): MP_ERR_IO when it
 * cannot. mp_api_reload_adapters() (main thread, SIGHUP) swaps in the
 * adapters of a newly loaded config (mp_adapters_reload: takes its list).
 * Returns MP_ERR_INVAL as above, MP_ERR_NOMEM, or what mp_http_start() returns.
 */
#ifndef MP_API_H
#define MP_API_H

#include <stddef.h>

#include "mp.h"
#include "mp_auth.h"
#include "mp_http.h"
#include "mp_metrics.h"

struct mp_api;

int mp_api_start(const char *listen, const struct mp_metrics_sources *src,
                 const struct mp_auth *auth, struct mp_api **out, char *err, size_t errlen);
/* mp_api_start() with the server's limits (mp_http.h; NULL: the defaults). */
int mp_api_start_opts(const char *listen, const struct mp_metrics_sources *src,
                      const struct mp_auth *auth, const struct mp_http_opts *opts,
                      struct mp_api **out, char *err, size_t errlen);
void mp_api_stop(struct mp_api *api);
struct mp_config;
void mp_api_reload_adapters(struct mp_api *api, struct mp_config *nc);

#endif
