/* alert_eval.h — the evaluator: dirty keys -> rules -> alert lifecycle ->
 * grouped notifications -> the sender's durable outbox.
 *
 * Contract: one evaluator thread per engine. It drains the table's dirty keys
 * every millisecond, so an alert follows its crossing event within
 * milliseconds, and once a second sweeps the alerts that are pending or
 * firing, which is what time alone changes: windows sliding (resolves),
 * `for` durations expiring, reminders after the repeat interval. It only
 * ever sees whole frames (see eng_frame_* in eng_table.h), so one batch that
 * carries a crossing yields one notification with the batch's full figures.
 *
 * Lifecycle per (key, rule): inactive -> pending (while `for` runs) ->
 * firing -> resolved (inactive again). Receivers hear of: firing, a change of
 * severity, a reminder after the rule's repeat interval, and the resolve;
 * never once per event. A pending alert that falls back is dropped silently.
 * Slow rules (those reading daily buckets: engagement_drop, the spikes,
 * rising_trend) run at most once a second per key; a key that changes more
 * often has them run at the next sweep, so they follow within ~2 s.
 *
 * Grouping: a tenant's first notification goes at once; further ones within
 * group_interval_ms of the last request for that tenant wait until the
 * interval ends and go out together, in one request per receiver. Changes
 * that cancel out meanwhile (fired and resolved inside the wait) send
 * nothing.
 *
 * Durability (with a store): every state change is written to the store's
 * alerts column family, together with what receivers were last told; a
 * notification's outbox entries and the state saying it was sent commit in
 * one batch. At start the state is read back: a firing alert stays firing
 * without a second "firing" notification, and its resolve is still sent; a
 * notification that was decided but not yet handed over is sent then. An
 * alert whose key no longer exists, or whose rule has left the rules file,
 * is resolved at start (one request per tenant).
 *
 * Routing: a tenant's notifications go to the receivers of its route, or to
 * the default route when it has none; never to another tenant's receivers.
 *
 * Threads: start/stop/reload from one thread; figures and active_json from
 * any thread.
 */
#ifndef ALERT_EVAL_H
#define ALERT_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "alert_rule.h"
#include "alert_sender.h"
#include "eng_store.h"
#include "eng_table.h"
#include "mp.h"

struct alert_routes;
struct alert_eval;

/* Routes: receiver indices into the receiver list they were built with. */
int alert_routes_create(struct alert_routes **out);
void alert_routes_destroy(struct alert_routes *r);
int alert_routes_set_default(struct alert_routes *r, const size_t *idx, size_t n);
/* MP_ERR_INVAL when the tenant already has a route. */
int alert_routes_add(struct alert_routes *r, const char *tenant, const size_t *idx, size_t n);
/* Receivers for `tenant` (its own route, else the default). */
void alert_routes_lookup(const struct alert_routes *r, const char *tenant, const size_t **idx,
                         size_t *n);

struct alert_eval_opts {
    struct alert_ruleset *rules;              /* owned by the evaluator from start */
    const struct alert_receiver *receivers;   /* copied */
    size_t nreceivers;
    struct alert_routes *routes;              /* owned by the evaluator from start */
    uint32_t max_keys;                        /* the table's capacity */
    struct eng_store *store;                  /* alert state (the sender's store:
                                                 commits go through it); NULL: memory only */
    int64_t group_interval_ms;                /* 0: 1000 */
};

struct alert_eval_figures {
    uint64_t passes, keys_evaluated, notifications, unrouted, reloads;
    uint64_t firing, pending;  /* alerts in that state now */
    uint64_t unstable;         /* key reads skipped because a frame was mid-write */
    uint64_t state_errors;     /* state writes that failed (logged) */
    uint64_t restored;         /* alerts read back at start */
};

/* Starts the thread. With a store, restores alert state first. On error the
 * rules and routes in opts are freed all the same. */
int alert_eval_start(struct eng_table *t, struct alert_sender *s,
                     const struct alert_eval_opts *opts, struct alert_eval **out);
/* Runs a last pass (so events already counted are evaluated), then stops. */
void alert_eval_stop(struct alert_eval *e);
/* Hands new rules, receivers and routes to the evaluator, which switches at
 * its next pass. Alerts keep their state across the switch when their rule
 * keeps its name; alerts of a rule that is gone are resolved. Takes
 * ownership of rules and routes (freed on error too). MP_OK or MP_ERR_NOMEM. */
int alert_eval_reload(struct alert_eval *e, struct alert_ruleset *rules,
                      const struct alert_receiver *receivers, size_t nreceivers,
                      struct alert_routes *routes);
void alert_eval_figures(struct alert_eval *e, struct alert_eval_figures *out);
/* The pending and firing alerts (of `tenant`, or all when NULL), as a
 * malloc'd JSON document {"alerts": [...]}, sorted by tenant, rule, scope
 * and name. NULL on allocation failure. */
char *alert_eval_active_json(struct alert_eval *e, const char *tenant);

#endif
