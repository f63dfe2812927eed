/* mp_api.h — the daemon's HTTP API: its routes and their handlers.
 *
 *   GET /healthz                        {"status":"ok"}
 *   GET /metrics                        Prometheus text (mp_metrics.h)
 *   GET /v1/tenants/{tenant}/stats      a tenant's counts and rates (mp_stats.h)
 *   GET /v1/alerts[?tenant=T]           pending and firing alerts (alert_eval.h)
 *   GET /v1/alerts/dead[?tenant=T][&limit=N]
 *                                       dead letters, at most N (default 1000)
 *
 * Contract: mp_api_start() serves these on `listen` (mp_http.h: host:port as
 * mp_addr.h parses it, IPv4, [IPv6] or a name) until mp_http_stop(). Every
 * error answer is {"error": "..."} from mp_http_error(): 400 for a bad,
 * unknown or repeated query parameter (tenant=NAME of eng_name.h,
 * limit=1..999999 on /dead only), 404 for an unknown path, 405 for another
 * method, 500 when memory runs out.
 *
 * Threads: handlers run on the HTTP server's thread and only read what is
 * safe to read from there (see mp_metrics.h, mp_stats.h, alert_eval.h,
 * alert_sender.h). Ownership: `src` is borrowed and must stay valid, with
 * every part in it, until mp_http_stop() has returned.
 * Returns what mp_http_start() returns.
 */
#ifndef MP_API_H
#define MP_API_H

#include <stddef.h>

#include "mp.h"
#include "mp_http.h"
#include "mp_metrics.h"

int mp_api_start(const char *listen, const struct mp_metrics_sources *src, struct mp_http **out,
                 char *err, size_t errlen);

#endif
