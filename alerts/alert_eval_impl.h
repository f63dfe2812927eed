/* alert_eval_impl.h — PRIVATE to the evaluator: the state its pieces share.
 *
 * Only the evaluator's own files include this header: alert_eval.c (records,
 * lifecycle, reload, the thread), alert_group.c (tenant groups and the
 * notifications built from them), alert_state.c (state records in the store
 * and the restore at start) and alert_json.c (the /v1/alerts body). Anything
 * else uses alert_eval.h; nothing here is a stable interface.
 *
 * Threads (the rules of alert_eval.h, spelled out for the pieces):
 *   - The evaluator thread (and alert_eval_start before the thread exists)
 *     is the only writer of everything in struct alert_eval.
 *   - It takes `mu` for every write that a reader may see: records (recs,
 *     nrecs, slot, each record's fields) and cfg.rules. Readers on other
 *     threads (alert_eval_active_json, alert_eval_figures) take `mu` and read
 *     nothing else but the relaxed counters.
 *   - groups, busy, dirty, slow_*, notes and wb are the evaluator thread's
 *     alone: no lock.
 *   - reload_mu guards `next`/`has_next`, the hand-over from
 *     alert_eval_reload() (any thread) to the evaluator thread.
 * The functions below run on the evaluator thread unless they say otherwise.
 */
#ifndef ALERT_EVAL_IMPL_H
#define ALERT_EVAL_IMPL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "alert_eval.h"
#include "alert_history.h"
#include "alert_notify.h"
#include "alert_route.h"
#include "mp_atomic.h"
#include "mp_hist.h"
#include "mp_wake.h"

/* Lifecycle states. Stored on disk (alert_state.c): fixed numbers. */
enum { ST_INACTIVE = 0, ST_PENDING = 1, ST_FIRING = 2 };

/* One (key, rule) alert that is not inactive, or still owes receivers news. */
struct arec {
    uint32_t key_id;
    uint16_t rule;
    uint8_t used, status, severity; /* status: ST_*; severity: what the value reaches */
    uint8_t nstatus, nseverity;     /* what receivers were last told (INACTIVE or FIRING) */
    uint8_t queued, repeat_due, dirty;
    uint8_t member, mark;   /* alert_group.c: in grp's members; seen by this send */
    uint8_t muted; /* firing news kept back by a silence (alert_group_unmuted) */
    uint32_t next_free;
    struct tgroup *grp;     /* alert_group.c: its notification group, once queued */
    struct aext *ext;       /* an external alert's (key_id 0, rule unused); NULL: a rule's */
    int64_t since_ms;    /* pending since */
    int64_t starts_ms;   /* firing since */
    int64_t ends_ms;     /* resolved at */
    int64_t notified_ms; /* last notification handed to the outbox */
    int64_t under_ms;    /* firing, under the resolve line since (keep_firing_for); 0: not */
    struct alert_value v;
};

/* An external alert (alert_external.h; alert_eval_ext.c): what names it,
 * owned copies. Its stand-in rule makes the lifecycle's checks fire at
 * value 1 and resolve at 0. Replaced whole (under mu) when an update brings
 * new annotations: readers under mu see one or the other. */
struct aext {
    struct alert_rule rule;
    char *tenant;
    struct alert_label *labels, *ann; /* strings in one block with the arrays */
    size_t nlabels, nann;
    char fp[17];                      /* alert_fingerprint: the lookup key */
};

/* One call of alert_eval_external waiting for the evaluator. */
struct aext_req {
    struct aext *x;
    int severity;
};

/* A tenant with overrides, and the rules a switch changed for it. */
struct walk_tenant {
    char *tenant;
    uint64_t mask;
};

/* A notification group: one tenant's alerts with the same values of the
 * group_by labels (alert_group.c). */
struct tgroup {
    char *key;    /* groupKey under the root route: the lookup key */
    char *tenant;
    int64_t last_sent_ms;
    int busy; /* on the busy list */
    size_t n, cap;
    uint32_t *recs;   /* queued: records with news */
    size_t nm, capm;
    uint32_t *members; /* records receivers were last told fire, in this group */
};

struct eval_cfg {
    struct alert_ruleset *rules;
    struct alert_receiver *receivers; /* owned copies */
    size_t nreceivers;
    struct alert_routes *routes;
};

struct alert_eval {
    struct eng_table *t;
    struct mp_watch watch; /* told when an alert fires, resolves or changes severity */
    struct alert_sender *s;
    struct eng_store *store;
    struct alert_silences *silences; /* borrowed; thread-safe on its own */
    struct eng_store_batch *wb;
    struct alert_history *hist; /* past alerts (alert_history.h); NULL without a store */
    uint32_t max_keys;
    int64_t group_ms;
    struct alert_notify_group ng; /* group_by, max_alerts, external_url (owned copy) */
    struct eval_cfg cfg;
    size_t nrules;

    pthread_mutex_t mu; /* guards recs (and their fields), cfg.rules for readers */
    uint32_t *slot;     /* (max_keys + 1) * nrules: rec index, 0 = none */
    struct arec *recs;  /* recs[0] unused */
    size_t caprecs;
    uint32_t nrecs, free_head;

    struct tgroup **groups; /* open addressing by tenant */
    size_t ngroups, capgroups;
    uint64_t group_seed;    /* eng_hash_name seed of groups, from eng_hash_seed() */
    struct tgroup **busy;
    size_t nbusy, capbusy;
    uint32_t *dirty;
    size_t ndirty, capdirty;
    /* Slow rules (daily windows: drop, spike over days, trend) move with
     * days of data; a hot key is dirty every millisecond. They run at most
     * once a second per key: slow_at is when they last ran, and a key
     * skipped meanwhile waits in slow_pend for the next sweep. */
    int64_t *slow_at;   /* max_keys + 1 */
    uint8_t *slow_mark; /* max_keys + 1: in slow_pend */
    uint32_t *slow_pend;
    size_t nslow, capslow;
    struct alert_note *notes;
    size_t nnotes, capnotes;

    /* Re-evaluation after a reload or the start (alert_eval.c): a cursor
     * over key ids, walked in time-bounded slices, one pass after another,
     * evaluating each key for the rules the switch changed for its tenant:
     * walk_base for tenants without overrides in either rule set, walk_t
     * (sorted by tenant) for the others. walk_next 0: no walk. */
    uint32_t walk_next;
    uint64_t walk_base;
    struct walk_tenant *walk_t;
    size_t nwalk_t;
    int64_t walk_t0;                /* mono ns the walk began */
    const char *walk_last_tenant;   /* one-entry cache: keys come in runs of a tenant */
    uint64_t walk_last_mask;
    int64_t walk_cpu;               /* thread CPU ns spent in this walk's slices */
    uint64_t walk_nkeys;            /* keys this walk evaluated */

    pthread_mutex_t reload_mu;
    struct eval_cfg next;
    int has_next;

    /* alert_eval_external's queue (any thread to the evaluator), under ext_mu. */
    pthread_mutex_t ext_mu;
    struct aext_req *ext_q;
    size_t next_q, capext_q;

    pthread_t tid;
    int started;
    mp_atomic_u32 stop;
    /* Figures: relaxed adds and loads, each a count on its own (read by
     * /metrics and tests); nothing is published through them. */
    mp_atomic_u64 passes, keys, notifications, unrouted, unstable, reloads, state_errors,
        restored, walks, walk_keys, walk_last_ns, walk_last_cpu_ns;
    /* Timings per pass and per sweep (mp_hist: relaxed, any reader), and
     * the keys the last working pass drained (the dirty queue's depth as
     * the evaluator found it). Written by the evaluator thread only. */
    struct mp_hist pass_hist, sweep_hist;
    mp_atomic_u64 dirty_last;
};

/* ---- alert_eval.c: records ---- */

/* Under mu. The new record's index (its slot set when key_id != 0), 0 when
 * out of memory. The pool may move: re-read record pointers after a call. */
uint32_t alert_eval_rec_new(struct alert_eval *e, uint32_t key_id, size_t rule);
/* Under mu. */
void alert_eval_rec_free(struct alert_eval *e, uint32_t i);
/* Lists record i for the next flush (state save, maybe free). */
void alert_eval_rec_dirty(struct alert_eval *e, uint32_t i);
/* An instance naming key k's tenant and mailbox or domain under `rule`;
 * status, severity, value and times are zero. Any thread holding mu. */
void alert_eval_instance(const struct alert_eval *e, struct eng_key *k,
                         const struct alert_rule *rule, struct alert_instance *a);

/* Under mu or on the evaluator thread: record r as an instance (status,
 * severity, value and times zero); its tenant, NULL when its key is gone. */
const char *alert_eval_rec_instance(const struct alert_eval *e, const struct arec *r,
                                    struct alert_instance *a);
/* Record i takes value v of `rule` (the lifecycle's one step; queues news). */
void alert_eval_step(struct alert_eval *e, uint32_t i, const struct alert_rule *rule,
                     const struct alert_value *v, const char *tenant, int64_t now);

/* Evaluates key k for the rules in mask (bit per rule index; fast and
 * slow alike) on a consistent read, as a dirty key is. */
#define ALERT_EVAL_ALL (~0ULL)
void alert_eval_key_rules(struct alert_eval *e, struct eng_key *k, uint64_t mask, int64_t now);

/* ---- alert_eval_walk.c: re-evaluation after a reload or the start ---- */

/* Starts a walk over every key for the rules that changed from `old` to
 * e->cfg.rules (old NULL: all rules, at start). A walk already under way
 * widens to every rule. Logs and walks everything when out of memory. */
void alert_walk_begin(struct alert_eval *e, const struct alert_ruleset *old);
/* One slice of the walk (bounded in keys and time); the key ids visited,
 * 0 when no walk is under way. */
size_t alert_walk_step(struct alert_eval *e, int64_t now);
void alert_walk_free(struct alert_eval *e);

/* ---- alert_eval_ext.c: external alerts ---- */

/* Applies the queued alert_eval_external calls. */
void alert_ext_drain(struct alert_eval *e, int64_t now);
/* Sweep of external record i: unmuted news, reminders. */
void alert_ext_sweep(struct alert_eval *e, uint32_t i, int64_t now);
void alert_ext_instance(const struct aext *x, struct alert_instance *a);
void alert_ext_free(struct aext *x);
/* Frees the queue (at stop). */
void alert_ext_free_queue(struct alert_eval *e);
/* alert_state.c's: record i's state key and the JSON naming it (malloc'd);
 * restore of one stored external alert. */
#define ALERT_EXT_KEY_PREFIX "\0ext/"
#define ALERT_EXT_KEY_PREFIX_LEN 5
char *alert_ext_describe(const struct aext *x);
struct aext *alert_ext_from_json(const char *s, size_t len);

/* ---- alert_group.c: groups and notifications ---- */

/* Marks record i "to notify" in its group. */
void alert_group_queue(struct alert_eval *e, uint32_t i, const char *tenant);
/* Lists record i (told firing, restored at start) among its group's
 * members, which every notification of the group carries. */
void alert_group_member(struct alert_eval *e, uint32_t i, const char *tenant);
/* Takes record i out of its group, queue and members (it is freed). */
void alert_group_unlist(struct alert_eval *e, const char *tenant, uint32_t i);
/* Builds the requests for news a[0..n) (one group's: that of a[0]), with
 * the group's other firing members, for the receivers their routes reach,
 * and adds them to this pass's notes. */
void alert_group_deliver(struct alert_eval *e, const char *tenant, const struct alert_instance *a,
                         size_t n, int64_t now);
/* Resolves told at once for alerts that leave no record to queue: one
 * request per group and receiver. Reorders a[] (stable per group). */
void alert_group_deliver_by_tenant(struct alert_eval *e, struct alert_instance *a, size_t n,
                                   int64_t now);
/* Sweep: queues muted firing record i (of key k) once no silence mutes it. */
void alert_group_unmuted(struct alert_eval *e, uint32_t i, int64_t now);
/* Sends ready groups (all when force), saves dirty records, frees finished
 * ones, and commits state and outbox entries in one batch. */
void alert_group_flush(struct alert_eval *e, int64_t now, int force);
/* Milliseconds from now until the next busy group is due (0: one is due;
 * INT64_MAX: none is busy), so the thread sleeps no longer. */
int64_t alert_group_next_due_ms(const struct alert_eval *e, int64_t now);
/* Frees the groups and the notes not yet submitted (at stop). */
void alert_group_free_all(struct alert_eval *e);

/* ---- alert_state.c: persistence and restore ---- */

/* Puts record i's state (or its deletion, once there is nothing to keep)
 * in e->wb. No-op without a store. */
void alert_state_save(struct alert_eval *e, uint32_t i);
/* Adds step ev (ALERT_HIST_*) of record i, whose instance a carries the
 * status, severity and times receivers see, to the history in e->wb, with
 * the ids of the silences that muted it. No-op without a store. */
void alert_state_history(struct alert_eval *e, const struct arec *r,
                         const struct alert_instance *a, int ev, const char *const *ids,
                         size_t nids, int64_t now);
/* The same for record r as it stands: its instance with the status,
 * severity, figures and times of its record (resolved unless firing). */
void alert_state_history_rec(struct alert_eval *e, const struct arec *r, int ev,
                             const char *const *ids, size_t nids, int64_t now);
/* At start, before the thread: reads the stored alerts back into records,
 * queues what was decided but never handed over, and tells the resolves owed
 * for alerts whose rule or key is gone. MP_OK, MP_ERR_NOMEM, MP_ERR_IO. */
int alert_state_restore(struct alert_eval *e);

#endif
