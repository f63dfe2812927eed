/* mp_dmarc.h — DMARC aggregate reports into the daemon: the intake route,
 * the stats route, the per-tenant scrape's dmarc series and the refusal
 * counters of /metrics. The reader is ingest/ingest_dmarc.h, the counts
 * engine/eng_dmarc.h.
 *
 *   POST /v1/dmarc                  body: the report XML, .gz or .zip
 *                                   (Content-Type: message/rfc822: a whole
 *                                   mail message carrying one), at most
 *                                   MP_HTTP_BODY_LARGE_MAX bytes
 *     200 {"status":"counted"|"duplicate","tenant","domain","org_name",
 *          "provider","report_id","form","records","messages"}
 *     400 {"error":"feedback/report_metadata/report_id: missing"} (the
 *          reader's reason; nothing counted), a date_range ending more
 *          than MP_DMARC_FUTURE_S ahead, or no tenant for the domain
 *     403 a tenant token posting a report whose domain is another tenant's
 *     500 the store refused the write (nothing counted; a resend counts it)
 *   GET /v1/tenants/{tenant}/dmarc[?days=N]   (N 1..3660, default 7)
 *     200 {"tenant","days","from","to","totals":{counts, rates},
 *          "domains":[{"domain","provider",counts, rates}],
 *          "sources":[{"day","domain","provider","ip",counts}]}
 *     counts: messages, dmarc_pass, dmarc_fail, dkim_pass, dkim_fail,
 *     spf_pass, spf_fail, disposition_none|quarantine|reject; rates:
 *     dmarc_fail_rate, dkim_fail_rate, spf_fail_rate (fail/messages, null
 *     without messages). A tenant with no rows answers zeros, not 404.
 *
 * The tenant of a report is the one whose gate.tenants list holds its
 * policy_published/domain (mp_config_gate_tenant), else dmarc.tenant; a
 * tenant token's report must be its own tenant's (an unmapped domain is
 * then the token's tenant). Each record counts on the UTC day of its
 * report's date_range midpoint, per (tenant, header_from, provider from
 * org_name, source_ip).
 *
 * Metrics: mailpulse_dmarc_reports_total{result="counted"|"duplicate"} and
 * mailpulse_dmarc_refused_total{reason=...} with reasons: envelope (not
 * XML/gzip/zip/message, or a broken archive), xml (not well-formed,
 * DOCTYPE), report (a missing or bad element), tenant (no tenant for the
 * domain, or another tenant's), store (the write failed).
 * Per tenant (mp_dmarc_scrape): mailpulse_tenant_dmarc_<count>_total
 * {tenant,domain,provider}, the sums over the kept days.
 *
 * A counted report has its tenant's DMARC rules evaluated (mp_dmarc_rules.h);
 * a duplicate changes nothing, so it is not.
 *
 * Threads: the handlers run on the HTTP threads, several at once; the
 * counters are atomics, the counts eng_dmarc's. Reports are read one at a
 * time (a mutex): libxml2's tree costs about 20x the XML's size. Ownership: the store and
 * config are borrowed and must outlive mp_dmarc_destroy().
 */
#ifndef MP_DMARC_H
#define MP_DMARC_H

#include <stddef.h>

#include "eng_store.h"
#include "mp.h"
#include "mp_buf.h"
#include "mp_config.h"
#include "mp_http.h"
#include "mp_dmarc_rules.h"

#define MP_DMARC_ROUTE "/v1/dmarc"
#define MP_DMARC_STATS_ROUTE "dmarc" /* the last segment under /v1/tenants/{t}/ */
#define MP_DMARC_SOURCES_MAX 1000    /* rows in the stats' "sources" */
#define MP_DMARC_FUTURE_S (2 * 86400) /* a date_range ending later than now + this: refused */

struct mp_dmarc;

/* rules: told of each report counted (mp_dmarc_rules.h), borrowed; NULL: none. */
int mp_dmarc_create(struct eng_store *s, const struct mp_config *cfg,
                    struct mp_dmarc_rules *rules, struct mp_dmarc **out);
void mp_dmarc_destroy(struct mp_dmarc *m);

/* POST /v1/dmarc; `only` is the token's tenant (NULL: admin or no tokens). */
void mp_dmarc_post(struct mp_dmarc *m, const char *only, const struct mp_http_request *req,
                   struct mp_http_reply *out);
/* GET /v1/tenants/{tenant}/dmarc */
void mp_dmarc_stats(struct mp_dmarc *m, const char *only, const struct mp_http_request *req,
                    struct mp_http_reply *out);
/* Appends the tenant's dmarc series to a per-tenant scrape; a 404 (no
 * events) for a tenant with dmarc rows becomes a 200 holding just them. */
void mp_dmarc_scrape(struct mp_dmarc *m, const char *only, const struct mp_http_request *req,
                     struct mp_http_reply *out);
/* The /metrics lines. */
int mp_dmarc_metrics(struct mp_dmarc *m, struct mp_buf *b);

#endif
