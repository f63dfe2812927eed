/* alert_gate.h — the send gate: pause decisions from firing alerts.
 *
 * A rule with `gate:` (alert_rule.gate_sev) turns its firing alerts into
 * pauses. While such an alert fires (at critical, for a rule gated on
 * critical only), the gate answers "pause" for the sends it covers:
 *   tenant alert            every send of the tenant;
 *   mailbox alert           sends from that mailbox of the tenant;
 *   recipient_domain alert  the tenant's sends to that domain;
 *   provider alert          the tenant's sends whose recipient domain maps to
 *                           that provider (the caller names the recipient
 *                           domain's provider in the query: alerts/ holds no
 *                           provider map, the daemon's is in cmd/);
 *   mailbox_provider alert  sends from that mailbox to that provider only
 *                           (its name is "mailbox/provider", as the engine's
 *                           key; the query needs both mailbox and provider).
 * A campaign alert pauses nothing (a send names no campaign here).
 * When the alert resolves (or falls below critical, for a critical-only
 * gate) the pause cools down for opts.cool_down_ms, then lifts; an alert
 * that fires again meanwhile re-arms it (the same pause goes on). An active
 * silence on the alert (alert_silence.h) lifts its pause at once, cooling
 * or not, and while it lasts a firing alert pauses nothing.
 *
 * Every change of a decision (paused, cooling, rearmed, lifted, silenced) is
 * logged as one line, counted (alert_gate_figures) and handed to
 * opts.on_change (NULL: none), on the thread that called sync.
 *
 * Threads: alert_gate_decide, alert_gate_pauses_json and alert_gate_figures
 * from any thread, any number at once; alert_gate_sync from one thread at a
 * time (the gate's own thread once alert_gate_run has started it). That
 * thread is pushed, not polling: it watches the evaluator and the silences
 * (alert_eval_watch, alert_silences_watch) and syncs when either says
 * something changed, when a cooling pause is due to lift, and at least every
 * opts.period_ms (1 s: silences that run out by time, reloads), at most once
 * per ALERT_GATE_SYNC_MIN_MS. Readers
 * see an immutable snapshot: sync builds a new one off to the side and swaps
 * the pointer under a rwlock held only for the swap, so a decision costs one
 * uncontended read lock and a binary search, and never waits on a sync.
 *
 * Returns MP_OK, MP_ERR_NOMEM, MP_ERR_INVAL (bad arguments), MP_ERR_STATE
 * (no thread). Returned strings are malloc'd and the caller's (free()).
 */
#ifndef ALERT_GATE_H
#define ALERT_GATE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "alert_eval.h"
#include "alert_rule.h"
#include "alert_silence.h"
#include "mp.h"

/* Scopes a pause covers; stable numbers (they reach logs and the wire). */
enum alert_gate_scope {
    ALERT_GATE_TENANT = 0,
    ALERT_GATE_MAILBOX = 1,
    ALERT_GATE_DOMAIN = 2,   /* recipient_domain */
    ALERT_GATE_PROVIDER = 3, /* the recipient domain's provider */
    ALERT_GATE_MAILBOX_PROVIDER = 4, /* a mailbox's sends to a provider */
    ALERT_GATE_NSCOPES = 5,
};

/* What a change of decision was. */
enum alert_gate_event {
    ALERT_GATE_PAUSED = 0,   /* a new pause */
    ALERT_GATE_COOLING = 1,  /* its alert resolved: lifts after the cool-down */
    ALERT_GATE_REARMED = 2,  /* fired again while cooling: paused again */
    ALERT_GATE_LIFTED = 3,   /* the cool-down ran out */
    ALERT_GATE_SILENCED = 4, /* a silence lifted it */
    ALERT_GATE_NEVENTS = 5,
};

#define ALERT_GATE_NAME_MAX 256  /* a mailbox is at most 254 bytes */
#define ALERT_GATE_TEXT_MAX 256  /* a reason, for people */
#define ALERT_GATE_REASONS_MAX 8 /* reasons one answer carries (the count is whole) */
#define ALERT_GATE_COOL_DOWN_DEFAULT_MS (15 * 60 * 1000LL)
/* alert_gate_run: syncs when the evaluator or the silences say something
 * changed, when a cooling pause is due, and at least this often */
#define ALERT_GATE_PERIOD_DEFAULT_MS 1000
#define ALERT_GATE_SYNC_MIN_MS 5 /* and at most once per this */

/* One firing alert as sync takes it: a copy, nothing borrowed. */
struct alert_gate_alert {
    struct alert_rule rule; /* the rule as it applies to the tenant */
    int severity;           /* enum alert_severity */
    int scope;              /* enum alert_gate_scope */
    char tenant[ALERT_GATE_NAME_MAX];
    char name[ALERT_GATE_NAME_MAX]; /* mailbox, domain, provider or "mailbox/provider";
                                       "" for a tenant */
    char summary[ALERT_GATE_TEXT_MAX];
    int64_t starts_ms;
};

/* One pause, as decisions and the list show it. */
struct alert_gate_pause {
    int scope;
    char tenant[ALERT_GATE_NAME_MAX];
    char name[ALERT_GATE_NAME_MAX];
    char rule[ALERT_NAME_MAX], alertname[ALERT_NAME_MAX];
    int severity;
    int cooling;         /* its alert resolved; lifts at lift_ms */
    int64_t since_ms;    /* paused since */
    int64_t lift_ms;     /* cooling: when it lifts; else 0 */
    int64_t resolved_ms; /* cooling: when its alert resolved */
    char summary[ALERT_GATE_TEXT_MAX];
};

struct alert_gate_query {
    const char *tenant;   /* required */
    const char *mailbox;  /* NULL: not asked */
    const char *domain;   /* recipient domain; NULL: not asked */
    const char *provider; /* the domain's provider; NULL: none (then no provider
                             or mailbox_provider pause covers the send) */
};

enum alert_gate_decision { ALERT_GATE_ALLOW = 0, ALERT_GATE_PAUSE = 1 };

struct alert_gate_answer {
    int decision;        /* enum alert_gate_decision */
    size_t nreasons;     /* every pause that covers the send */
    size_t nshown;       /* the first ones, in reasons[] (<= ALERT_GATE_REASONS_MAX) */
    int64_t retry_after_s; /* pause: the earliest a retry may be allowed; allow: 0 */
    struct alert_gate_pause reasons[ALERT_GATE_REASONS_MAX];
};

struct alert_gate_change {
    int event; /* enum alert_gate_event */
    const struct alert_gate_pause *pause;
};
typedef void (*alert_gate_change_fn)(void *arg, const struct alert_gate_change *c);

struct alert_gate_opts {
    int64_t cool_down_ms;             /* 0: ALERT_GATE_COOL_DOWN_DEFAULT_MS; < 0: none */
    struct alert_silences *silences;  /* borrowed, outlives the gate; NULL: none */
    alert_gate_change_fn on_change;   /* NULL: none */
    void *change_arg;
    int64_t period_ms; /* alert_gate_run's longest sleep between syncs; 0: the default */
};

struct alert_gate_figures {
    uint64_t events[ALERT_GATE_NEVENTS]; /* changes, by enum alert_gate_event */
    uint64_t paused, cooling;            /* pauses now, of them cooling */
    uint64_t decisions, decisions_paused;
    uint64_t syncs;
};

struct alert_gate;

int alert_gate_new(const struct alert_gate_opts *opts, struct alert_gate **out);
/* Stops the thread (if any) and frees. NULL: no-op. */
void alert_gate_free(struct alert_gate *g);

/* The alerts a[0..n) fire now (any rules: those without a gate, or below
 * the gate's severity, are passed over). Updates pauses as the contract
 * says and publishes a new snapshot when anything changed. */
int alert_gate_sync(struct alert_gate *g, const struct alert_gate_alert *a, size_t n,
                    int64_t now_ms);
/* Starts a thread that, every period, reads the evaluator's firing alerts
 * (alert_eval_each_firing) and syncs. e must outlive the gate's thread
 * (alert_gate_stop before alert_eval_stop). */
int alert_gate_run(struct alert_gate *g, struct alert_eval *e);
void alert_gate_stop(struct alert_gate *g);

/* The decision for one send. MP_OK, or MP_ERR_INVAL (no tenant). */
int alert_gate_decide(struct alert_gate *g, const struct alert_gate_query *q, int64_t now_ms,
                      struct alert_gate_answer *out);
/* {"pauses":[...]} of `tenant` (NULL: all), sorted by tenant, scope, name,
 * rule; NULL without memory. */
char *alert_gate_pauses_json(struct alert_gate *g, const char *tenant, int64_t now_ms);
/* One pause as JSON (scope, tenant, mailbox/recipient_domain/provider (a
 * mailbox_provider pause: both mailbox and provider),
 * rule, alertname, severity, state paused|cooling_down, since, lifts_at,
 * reason); a new reference, NULL without memory. */
json_t *alert_gate_pause_json(const struct alert_gate_pause *p);
void alert_gate_figures(struct alert_gate *g, struct alert_gate_figures *out);

/* "tenant", "mailbox", "recipient_domain", "provider", "mailbox_provider" */
const char *alert_gate_scope_name(int scope);
/* "paused", "cooling", "rearmed", "lifted", "silenced" */
const char *alert_gate_event_name(int event);

/* The gate's alert from evaluator instance a (its scope from the fields a
 * carries); 0, or -1 when a's strings do not fit or a is a campaign alert
 * (no send names a campaign, so it pauses nothing). */
int alert_gate_from_instance(const struct alert_instance *a, struct alert_gate_alert *out);

#endif
