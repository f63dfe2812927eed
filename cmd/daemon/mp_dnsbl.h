/* mp_dnsbl.h — the blocklist checker: every blocklists.interval, asks each
 * configured zone about each tenant's sending IPs and domains
 * (mp_config_dnsbl.h) and turns the answers into `blocklisted` alerts
 * through the evaluator's external-alert entry (alerts/alert_external.h).
 *
 *   listed (an A answer in 127.0.0.0/8, mp_dnsq.h)
 *       -> `blocklisted` fires, critical, tenant T, labels ip=<address> or
 *          domain=<domain>, and zone=<zone>; annotations: summary,
 *          return_code, meaning (when the zone's config documents the code),
 *          txt (the zone's TXT answer, when it has one), query (the name asked);
 *   not listed (NXDOMAIN) -> that alert resolves;
 *   an error (timeout, SERVFAIL, REFUSED, 127.255.255.x, a non-127 answer,
 *          an unreachable resolver) -> counted by reason, nothing else:
 *          the alert keeps its state (a firing one stays firing, a clean
 *          target stays clean), never read as listed or not listed.
 * Receivers are reminded every 4 hours while a listing lasts (the rules'
 * default repeat_interval). With blocklists.pause_sends the alert pauses the tenant's sends (the
 * gate, as a tenant-scope rule with `gate: critical`).
 *
 * Rounds: the first within a tenth of the interval (at most 10 s) of the
 * start, then one every interval less a random 0..10% (jitter: many daemons
 * started together do not ask a list at the same second). A round runs all
 * of its queries in parallel, per resolver, on the checker's own thread; the
 * evaluator learns of changes through alert_eval_external's queue, so
 * neither ingest nor evaluation ever waits on DNS.
 *
 * Status (mp_dnsbl_visit, rendered by mp_dnsbl_status.h): each check
 * (tenant, target, zone) keeps what its answers said, in memory only (a
 * restart starts every check unknown): listed (with the return code and
 * TXT), clean (NXDOMAIN) or unknown (not asked yet, or only errors so far:
 * an error never changes the status), since when that holds, the wall
 * clock of its last answer and of its last error with the error's reason.
 * A reload that keeps a check keeps its status.
 *
 * Threads: start/stop/reload from the main thread; figures and the metrics text
 * from any thread (relaxed counters); mp_dnsbl_visit from any thread, under
 * the lock the checker takes only to write a round's status or swap its
 * checks on a reload (never while it waits on DNS or tells the evaluator).
 * The conf and the evaluator are borrowed and outlive the checker
 * (mp_dnsbl_stop before alert_eval_stop).
 */
#ifndef MP_DNSBL_H
#define MP_DNSBL_H

#include <stddef.h>
#include <stdint.h>

#include "alert_eval.h"
#include "mp_buf.h"
#include "mp_config_dnsbl.h"
#include "mp_dnsq.h"

#define MP_DNSBL_RULE "blocklisted"
/* A reminder while a listing lasts, as the rules' default repeat_interval. */
#define MP_DNSBL_REPEAT_MS (4 * 3600 * 1000LL)

struct mp_dnsbl;

struct mp_dnsbl_figures {
    uint64_t rounds;   /* rounds finished */
    uint64_t queries;  /* queries answered (listed, not listed or an error) */
    uint64_t listed;   /* (target, zone) pairs listed as of the last answer (gauge) */
    uint64_t listings; /* changes to listed */
    uint64_t errors[MP_DNSQ_NREASONS]; /* by reason (errors[0] unused) */
    uint64_t last_round_ns;
};

/* A check's status; fixed numbers (they reach the wire as names:
 * mp_dnsbl_status_name). */
enum mp_dnsbl_status { MP_DNSBL_UNKNOWN = 0, MP_DNSBL_CLEAN = 1, MP_DNSBL_LISTED = 2 };
/* "unknown", "clean", "listed" ("unknown" for any other value). */
const char *mp_dnsbl_status_name(int status);

/* One check as mp_dnsbl_visit shows it; the strings are valid during the
 * callback only. Times are wall-clock ms, 0 for never. */
struct mp_dnsbl_check_view {
    const char *tenant, *target, *zone;
    int type;          /* enum mp_dnsbl_type */
    int status;        /* enum mp_dnsbl_status */
    int64_t since_ms;  /* the first answer of this status; unknown: when the check was made */
    int64_t checked_ms;  /* the last answer (listed or clean) */
    int64_t error_ms;    /* the last error */
    int error_reason;    /* its enum mp_dnsq_reason; MP_DNSQ_OK: none yet */
    const char *code;    /* listed: "127.0.0.2" (several comma-joined); else NULL */
    const char *meaning; /* listed: the zone's `codes` entry for code; else NULL */
    const char *txt;     /* listed: the TXT answer, "" when none; else NULL */
};

/* What mp_dnsbl_visit calls, under the checker's status lock: keep the
 * callbacks short, and never call the checker from them. A callback's
 * non-MP_OK return stops the visit and is returned. */
struct mp_dnsbl_visitor {
    void *arg;
    /* Once, first: the section in force and the tenant's entry (NULL: the
     * section names no such tenant). */
    int (*section)(void *arg, const struct mp_dnsbl_conf *c, const struct mp_dnsbl_tenant *t);
    /* Then each of the tenant's checks, in plan order. */
    int (*check)(void *arg, const struct mp_dnsbl_check_view *v);
};

/* No section, or no tenants: *out NULL and MP_OK (nothing runs). MP_OK;
 * MP_ERR_NOMEM; MP_ERR_STATE (no thread). */
int mp_dnsbl_start(const struct mp_dnsbl_conf *c, struct alert_eval *eval, struct mp_dnsbl **out,
                   char *err, size_t errlen);
/* A SIGHUP's new `blocklists` section (main thread): the checker takes the
 * strings of *c (left as the defaults, owning nothing) and applies them on
 * its own thread within ~100 ms, between rounds: checks kept (same tenant,
 * target and zone) keep their state, checks gone resolve their alerts,
 * new ones are asked within a second, then every (new) interval. A section
 * emptied or removed stops the checks and resolves every listing. d NULL
 * (nothing was checked at start): a new section is logged as waiting for
 * the next start (the HTTP side reads the checker's figures without a
 * lock, so it is never swapped). MP_OK or MP_ERR_NOMEM (the old section
 * stays). */
int mp_dnsbl_reload(struct mp_dnsbl *d, struct mp_dnsbl_conf *c);
/* Stops the thread (a round under way ends within ~100 ms). NULL: no-op. */
void mp_dnsbl_stop(struct mp_dnsbl *d);
/* d NULL: zeros. */
void mp_dnsbl_figures(const struct mp_dnsbl *d, struct mp_dnsbl_figures *out);
/* Shows tenant's checks to v (see above). d NULL: MP_ERR_NOTFOUND, no
 * callback (no checker runs). Any thread. MP_OK or the callbacks' rc. */
int mp_dnsbl_visit(struct mp_dnsbl *d, const char *tenant, const struct mp_dnsbl_visitor *v);
/* The mailpulse_dnsbl_* families in the Prometheus text format (zeros
 * without a checker, so dashboards find them). MP_OK or MP_ERR_NOMEM. */
int mp_dnsbl_render_metrics(const struct mp_dnsbl *d, struct mp_buf *out);

#endif
