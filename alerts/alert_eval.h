/* alert_eval.h — the evaluator: dirty keys -> rules -> alert lifecycle ->
 * grouped notifications -> the sender's durable outbox.
 *
 * Contract: one evaluator thread per engine. It drains the table's dirty keys
 * as soon as a frame's end makes one dirty (it sleeps on the table's wake
 * word, eng_table_wait_dirty, and a frame end that dirties a key wakes it),
 * so an alert follows its crossing event within milliseconds and an idle
 * evaluator wakes about once a second, not once a millisecond; it sleeps no
 * longer than the next sweep or the next notification group due, and a
 * reload or stop wakes it. Once a second it sweeps the alerts that are pending or
 * firing, which is what time alone changes: windows sliding (resolves),
 * `for` durations expiring, reminders after the repeat interval. It only
 * ever sees whole frames (see eng_frame_* in eng_table.h), so one batch that
 * carries a crossing yields one notification with the batch's full figures.
 *
 * Lifecycle per (key, rule): inactive -> pending (while `for` runs) ->
 * firing -> (under the resolve line for the rule's keep_firing_for) ->
 * resolved (inactive again); back over the line before keep_firing_for
 * ends, it stays the same firing alert and nobody hears of the dip. A rule
 * disabled (for all, or for the alert's tenant) resolves at once, and
 * receivers are told the rule is disabled, with the last real figures. Receivers hear of: firing, a change of
 * severity, a reminder after the rule's repeat interval, and the resolve;
 * never once per event. A pending alert that falls back is dropped silently.
 * Slow rules (those reading daily buckets: engagement_drop, the spikes,
 * rising_trend) run at most once a second per key; a key that changes more
 * often has them run at the next sweep, so they follow within ~2 s.
 *
 * Re-evaluation: after the start (the restore included) and after every
 * reload that changes rules, every key is evaluated again for the rules
 * that changed for its tenant, by a walk over key ids in slices of at most
 * 2 ms per pass (alert_eval_walk.c), so within one sweep period at 1M keys
 * for a changed rule; dirty keys keep their latency meanwhile.
 *
 * Grouping (Alertmanager's): a group is a tenant's alerts with the same
 * values of the group_by labels (opts.group_by; the tenant is always one, so
 * a group never mixes tenants). A group's first notification goes at once;
 * further ones within group_interval_ms of the group's last request wait
 * until the interval ends and go out together. Each notification carries
 * the whole group: every alert of it receivers were told fires (and still
 * does), plus those with news (firing, escalated, reminded, or resolved
 * since the group's last one); its status is firing while any of them fires.
 * Changes that cancel out meanwhile (fired and resolved inside the wait)
 * send nothing. Each alert goes to the route entries it matches
 * (alert_route.h); each entry's receivers get one request per group, with
 * the alerts of the group that reach that entry, when one of those has news.
 * group_by, max_alerts and external_url are fixed at start (a reload keeps
 * them).
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
 * Silences (alert_silence.h): an alert an active silence mutes keeps its
 * state and figures, but its news is kept back (a resolve inside the
 * silence goes unheard, as in Alertmanager); the sweep tells a muted alert
 * still firing once as firing when no silence mutes it any more. While
 * silenced it is not among the members of a whole-group notification either.
 *
 * Routing: a tenant's notifications go to the receivers of the entries of
 * its route (or of the default route when it has none) that its alerts
 * match; never to another tenant's receivers.
 *
 * Threads: start/stop/reload from one thread; figures and active_json from
 * any thread. The evaluator's own thread runs everything else.
 *
 * Ownership: rules and routes passed to start and reload belong to the
 * evaluator from the call on (freed by it even when the call fails);
 * receivers are copied. active_json's document is the caller's (free()).
 *
 * The pieces (sharing alert_eval_impl.h, private): alert_eval.c (records,
 * lifecycle, reload, the thread), alert_eval_walk.c (re-evaluation after a
 * start or reload), alert_group.c (grouping, notifications, the flush),
 * alert_state.c (state records, restore at start), alert_json.c
 * (active_json). Tenant routes are alert_route.h, included here for the
 * callers that build them.
 */
#ifndef ALERT_EVAL_H
#define ALERT_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "alert_notify.h"
#include "alert_route.h"
#include "alert_rule.h"
#include "alert_sender.h"
#include "alert_silence.h"
#include "mp_hist.h"
#include "eng_store.h"
#include "eng_table.h"
#include "mp.h"

struct alert_eval;

struct alert_eval_opts {
    struct alert_ruleset *rules;              /* owned by the evaluator from start */
    const struct alert_receiver *receivers;   /* copied */
    size_t nreceivers;
    struct alert_routes *routes;              /* owned by the evaluator from start */
    uint32_t max_keys;                        /* the table's capacity */
    struct eng_store *store;                  /* alert state (the sender's store:
                                                 commits go through it); NULL: memory only */
    int64_t group_interval_ms;                /* 0: 1000 */
    unsigned group_by;                        /* ALERT_LABEL_* (alert_notify.h); tenant always */
    size_t max_alerts;                        /* alerts per webhook body; 0: no limit */
    const char *external_url;                 /* copied; NULL: none */
    struct alert_silences *silences;          /* borrowed, outlives the evaluator;
                                                 NULL: none (alert_silence.h) */
    int64_t history_retention_ms;             /* past alerts (alert_history.h) are kept
                                                 this long; 0: 35 days */
};

struct alert_eval_figures {
    uint64_t passes, keys_evaluated, notifications, unrouted, reloads;
    uint64_t firing, pending;  /* alerts in that state now */
    uint64_t unstable;         /* key reads skipped because a frame was mid-write */
    uint64_t state_errors;     /* state writes that failed (logged) */
    uint64_t restored;         /* alerts read back at start */
    uint64_t dirty_last;       /* keys drained by the last pass that found any */
    uint64_t walks;            /* re-evaluations (after a reload or the start) finished */
    uint64_t walk_keys;        /* keys they evaluated */
    uint64_t walk_last_ns;     /* the last one: from the switch to the walk's end */
    uint64_t walk_last_cpu_ns; /* the last one: the evaluator thread's CPU in its slices */
    struct mp_hist_snap pass;  /* durations of passes that did work (keys, sweep or reload) */
    struct mp_hist_snap sweep; /* durations of the once-a-second sweeps */
};

/* Starts the thread. With a store, restores alert state first (and sends
 * what the restore owes). MP_OK; MP_ERR_INVAL (no rules or routes, or more
 * than ALERT_RULES_MAX rules); MP_ERR_NOMEM; MP_ERR_IO (the store); MP_ERR_STATE
 * (no thread). On error the rules and routes in opts are freed all the same. */
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
/* An eng_pin_fn for eng_table_reclaim (arg: the evaluator): 1 while key
 * key_id holds an alert record (pending, firing, or owing receivers news).
 * Any thread (takes mu). */
int alert_eval_key_live(void *arg, uint32_t key_id);
/* The pending and firing alerts (of `tenant`, or all when NULL), as a
 * malloc'd JSON document {"alerts": [...]}, sorted by tenant, rule, scope
 * and name. NULL on allocation failure. */
char *alert_eval_active_json(struct alert_eval *e, const char *tenant);
/* The rules in force for `tenant` (its overrides applied; NULL: the base
 * rules), as a malloc'd JSON document {"tenant": T|null, "rules": [{name,
 * alertname, kind, enabled, scopes, numerator, denominator, window,
 * min_volume, warning, critical}]}, thresholds as the plain fraction, count
 * or factor the rule compares (null: no such level). For GET /v1/rules.
 * Any thread (takes mu); NULL on allocation failure. */
char *alert_eval_rules_json(struct alert_eval *e, const char *tenant);
/* Calls fn for every firing alert (pending ones are not), under the
 * evaluator's mu: fn must be quick and never call the evaluator; a's
 * strings and rule are valid for the call only (the send gate copies). */
typedef void (*alert_eval_firing_fn)(void *arg, const struct alert_instance *a);
void alert_eval_each_firing(struct alert_eval *e, alert_eval_firing_fn fn, void *arg);
/* Has w notified (base/mp_wake.h) whenever an alert of a rule with `gate:`
 * (rule->gate_sev) fires, resolves or changes severity, from the
 * evaluator's thread: what alert_eval_each_firing would list of gated
 * rules has changed (a reload that adds or drops a gate is not told: the
 * gate re-reads at its own period). One watcher; NULL stops it, and once that call
 * returns the old one is not touched again. Any thread. */
struct mp_wake;
void alert_eval_watch(struct alert_eval *e, struct mp_wake *w);

#endif
