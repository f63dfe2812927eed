/* alert_eval.h — the evaluator: dirty keys -> rules -> alert state -> notifications.
 *
 * Contract: one evaluator thread per engine. It drains the table's dirty keys
 * every millisecond, so an alert follows its crossing event within
 * milliseconds, and re-evaluates firing alerts once a second, which resolves
 * alerts whose window slid below the threshold. An alert notifies when it
 * starts firing, when its severity changes and when it resolves; never once
 * per event. It only ever sees whole frames (see eng_frame_* in eng_table.h),
 * so one batch that carries a crossing yields one notification with the
 * batch's full figures. Notifications raised in one pass are grouped per
 * tenant and receiver into one request.
 *
 * Routing: a tenant's notifications go to the receivers of its route, or to
 * the default route when it has none; never to another tenant's receivers.
 *
 * State (which alerts fire) lives in memory in this issue; it moves to
 * RocksDB, with `for` durations, repeat intervals and the rules file, in the
 * alerts issue. Start/stop from one thread; figures from any thread.
 */
#ifndef ALERT_EVAL_H
#define ALERT_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "alert_rule.h"
#include "alert_sender.h"
#include "eng_table.h"
#include "mp.h"

struct alert_routes;
struct alert_eval;

/* Routes: receiver indices into the sender's receiver list. */
int alert_routes_create(struct alert_routes **out);
void alert_routes_destroy(struct alert_routes *r);
int alert_routes_set_default(struct alert_routes *r, const size_t *idx, size_t n);
/* MP_ERR_INVAL when the tenant already has a route. */
int alert_routes_add(struct alert_routes *r, const char *tenant, const size_t *idx, size_t n);
/* Receivers for `tenant` (its own route, else the default). */
void alert_routes_lookup(const struct alert_routes *r, const char *tenant, const size_t **idx,
                         size_t *n);

struct alert_eval_opts {
    const struct alert_rule *rules;
    size_t nrules;
    const struct alert_receiver *receivers; /* same order as the sender's */
    size_t nreceivers;
    const struct alert_routes *routes;      /* borrowed; must outlive the evaluator */
    uint32_t max_keys;                      /* the table's capacity */
};

struct alert_eval_figures {
    uint64_t passes, keys_evaluated, firing, notifications, unrouted;
    uint64_t unstable; /* key reads skipped because a frame was mid-write */
};

int alert_eval_start(struct eng_table *t, struct alert_sender *s,
                     const struct alert_eval_opts *opts, struct alert_eval **out);
/* Runs a last pass (so events already counted are evaluated), then stops. */
void alert_eval_stop(struct alert_eval *e);
void alert_eval_figures(struct alert_eval *e, struct alert_eval_figures *out);

#endif
