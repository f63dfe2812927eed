/* alert_eval.c — the evaluator thread and the alert lifecycle (see
 * alert_eval.h; the pieces' shared state is in alert_eval_impl.h).
 *
 * Each pass: take a pending reload, evaluate dirty keys (value -> severity
 * -> lifecycle state), once a second sweep what time alone changes, then
 * flush (alert_group.c): the state machine here only marks an alert "to
 * notify" in its tenant's group; notifications, state records
 * (alert_state.c) and outbox entries go out from the flush.
 *
 * Alert records live in a pool; a (key id, rule) slot array points into it,
 * so an inactive alert costs 4 bytes. The evaluator thread is the only
 * writer; it takes `mu` for every write that /v1/alerts readers may see.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert_eval_impl.h"
#include "eng_hash.h"
#include "mp_buf.h"
#include "mp_log.h"
#include "mp_thread.h"
#include "mp_wake.h"

static void cfg__free(struct eval_cfg *c)
{
    alert_ruleset_free(c->rules);
    alert_routes_destroy(c->routes);
    for (size_t i = 0; i < c->nreceivers; i++)
        alert_receiver_clear(&c->receivers[i]);
    free(c->receivers);
    memset(c, 0, sizeof(*c));
}

static int cfg__copy_receivers(struct eval_cfg *c, const struct alert_receiver *r, size_t n)
{
    c->receivers = calloc(n ? n : 1, sizeof(*c->receivers));
    if (!c->receivers)
        return MP_ERR_NOMEM;
    c->nreceivers = n;
    for (size_t i = 0; i < n; i++)
        if (alert_receiver_copy(&c->receivers[i], &r[i]) != MP_OK)
            return MP_ERR_NOMEM;
    return MP_OK;
}

/* ---- records ---- */

uint32_t alert_eval_rec_new(struct alert_eval *e, uint32_t key_id, size_t rule)
{
    uint32_t i = e->free_head;
    if (i) {
        e->free_head = e->recs[i].next_free;
    } else {
        /* index 0 means "none": the pool starts at 1 */
        size_t first = e->nrecs ? e->nrecs : 1;
        if (first >= UINT32_MAX || MP_GROW(e->recs, e->caprecs, first + 1) != MP_OK)
            return 0;
        e->nrecs = (uint32_t)first;
        i = e->nrecs++;
    }
    struct arec *r = &e->recs[i];
    memset(r, 0, sizeof(*r));
    r->used = 1;
    r->key_id = key_id;
    r->rule = (uint16_t)rule;
    if (key_id)
        e->slot[(size_t)key_id * e->nrules + rule] = i;
    return i;
}

void alert_eval_rec_free(struct alert_eval *e, uint32_t i)
{
    struct arec *r = &e->recs[i];
    alert_ext_free(r->ext);
    r->ext = NULL;
    if (r->key_id && e->slot[(size_t)r->key_id * e->nrules + r->rule] == i)
        e->slot[(size_t)r->key_id * e->nrules + r->rule] = 0;
    r->used = 0;
    r->next_free = e->free_head;
    e->free_head = i;
}

void alert_eval_rec_dirty(struct alert_eval *e, uint32_t i)
{
    struct arec *r = &e->recs[i];
    if (r->dirty)
        return;
    if (MP_GROW(e->dirty, e->capdirty, e->ndirty + 1) != MP_OK)
        return; /* written with the next change */
    r->dirty = 1;
    e->dirty[e->ndirty++] = i;
}

void alert_eval_instance(const struct alert_eval *e, struct eng_key *k,
                         const struct alert_rule *rule, struct alert_instance *a)
{
    memset(a, 0, sizeof(*a));
    a->rule = rule;
    a->tenant = eng_key_tenant(e->t, k);
    int scope = eng_key_scope(k);
    a->mailbox = eng_key_mailbox(e->t, k);
    a->provider = eng_key_provider(e->t, k);
    if (scope == ENG_SCOPE_DOMAIN)
        a->domain = eng_key_name(e->t, k);
    else if (scope == ENG_SCOPE_CAMPAIGN)
        a->campaign = eng_key_name(e->t, k);
}

const char *alert_eval_rec_instance(const struct alert_eval *e, const struct arec *r,
                                    struct alert_instance *a)
{
    if (r->ext) {
        alert_ext_instance(r->ext, a);
        return r->ext->tenant;
    }
    struct eng_key *k = r->used ? eng_table_key(e->t, r->key_id) : NULL;
    if (!k)
        return NULL;
    const char *tenant = eng_key_tenant(e->t, k);
    alert_eval_instance(e, k, &alert_ruleset_for(e->cfg.rules, tenant)[r->rule], a);
    return tenant;
}

/* ---- lifecycle ---- */

enum { EV_ALL = 0, EV_FAST = 1, EV_SLOW = 2 };
#define EVAL_SLOW_MS 1000

static int rule__slow(const struct alert_rule *r)
{
    return r->kind == ALERT_KIND_TREND || r->window.res == ENG_RES_DAY ||
           ((r->kind == ALERT_KIND_DROP || r->kind == ALERT_KIND_SPIKE) &&
            r->baseline.res == ENG_RES_DAY);
}

/* keep_firing_for: 1 while firing record r, whose value v is under the
 * resolve line, has not stayed there for the rule's keep_ms yet (starting
 * the clock at the first value under it). A value back over the line stops
 * the clock; a disabled rule never keeps anything up. */
static int eval__keeps_firing(struct arec *r, const struct alert_rule *rule,
                              const struct alert_value *v, int64_t now)
{
    if (!rule->enabled || !alert_rule_resolves(rule, v)) {
        r->under_ms = 0;
        return 0;
    }
    if (rule->keep_ms <= 0)
        return 0;
    if (!r->under_ms)
        r->under_ms = now;
    return now - r->under_ms < rule->keep_ms;
}

/* Applies one rule's freshly computed value to its alert state. */
static void eval__apply(struct alert_eval *e, struct eng_key *k, size_t ri,
                        const struct alert_rule *rule, const struct alert_value *v, int64_t now)
{
    uint32_t id = eng_key_id(k);
    uint32_t *slot = &e->slot[(size_t)id * e->nrules + ri];
    uint32_t i = *slot;
    if (!i) {
        if (v->severity == ALERT_SEV_NONE)
            return;
        pthread_mutex_lock(&e->mu);
        i = alert_eval_rec_new(e, id, ri);
        pthread_mutex_unlock(&e->mu);
        if (!i) {
            mp_error("alert_state_nomem rule=%s", MP_LOG_Q(rule->name));
            return;
        }
    }
    alert_eval_step(e, i, rule, v, eng_key_tenant(e->t, k), now);
}

void alert_eval_step(struct alert_eval *e, uint32_t i, const struct alert_rule *rule,
                     const struct alert_value *v, const char *tenant, int64_t now)
{
    pthread_mutex_lock(&e->mu);
    struct arec *r = &e->recs[i];
    int was = r->status, sev = v->severity;
    if (rule->enabled)
        r->v = *v; /* disabled: keep the last real figures, never zeros */
    switch (r->status) {
    case ST_INACTIVE:
        if (sev == ALERT_SEV_NONE)
            break;
        r->severity = (uint8_t)sev;
        if (rule->for_ms > 0) {
            r->status = ST_PENDING;
            r->since_ms = now;
        } else {
            r->status = ST_FIRING;
            if (r->nstatus != ST_FIRING) /* back before its resolve went out: same alert */
                r->starts_ms = now;
            r->ends_ms = 0;
        }
        break;
    case ST_PENDING:
        if (sev == ALERT_SEV_NONE) {
            r->status = ST_INACTIVE; /* fell back before `for` ran out: nobody hears */
        } else {
            r->severity = (uint8_t)sev;
            if (now - r->since_ms >= rule->for_ms) {
                r->status = ST_FIRING;
                r->starts_ms = now;
                r->ends_ms = 0;
            }
        }
        break;
    case ST_FIRING:
        if (eval__keeps_firing(r, rule, v, now)) {
            /* under the line, but not for keep_firing_for yet: stays up as it is */
        } else if (!rule->enabled || alert_rule_resolves(rule, v)) {
            r->status = ST_INACTIVE;
            r->ends_ms = now;
            r->under_ms = 0;
        } else if (sev == ALERT_SEV_NONE) {
            /* in the hysteresis band: stays up, at the lowest level the rule has */
            if (rule->warning_ppb && r->severity != ALERT_SEV_WARNING) {
                r->severity = ALERT_SEV_WARNING;
                was = -1;
            }
        } else if (sev != r->severity) {
            r->severity = (uint8_t)sev;
            was = -1;
        }
        break;
    }
    int changed = was != r->status;
    int notify = (changed && (r->status == ST_FIRING || was == ST_FIRING)) ||
                 (was == -1 && r->status == ST_FIRING);
    pthread_mutex_unlock(&e->mu);
    if (notify && e->hist) /* was -1: a change of severity while firing */
        alert_state_history_rec(e, r,
                                r->status != ST_FIRING ? ALERT_HIST_RESOLVED
                                : was == -1            ? ALERT_HIST_SEVERITY
                                                       : ALERT_HIST_FIRED,
                                NULL, 0, now);
    if (changed || was == -1)
        alert_eval_rec_dirty(e, i);
    if (notify) {
        alert_group_queue(e, i, tenant);
        /* only the gate watches, and it copies gated alerts only: a storm
         * of ungated alerts must not make it walk every firing one under
         * mu 200 times a second (16% of a core in bench_ack) */
        if (rule->gate_sev)
            mp_watch_notify(&e->watch);
    }
}

void alert_eval_watch(struct alert_eval *e, struct mp_wake *w) { mp_watch_set(&e->watch, w); }

/* Evaluates the rules in `mask` (bit per rule index) that apply to the
 * key's scope on a consistent read of `k`. A key that a frame is still writing, or that
 * changed during the read, is left alone: that frame's end marks it dirty
 * again, so it is evaluated once the frame is whole. */
static void eval__eval_key(struct alert_eval *e, struct eng_key *k, uint64_t mask, int mode,
                           int64_t now)
{
    struct alert_value v[ALERT_RULES_MAX];
    struct alert_sums sums;
    int scope = eng_key_scope(k);
    uint32_t id = eng_key_id(k), token;
    const struct alert_rule *rules = alert_ruleset_for(e->cfg.rules, eng_key_tenant(e->t, k));
    size_t n = e->nrules;
    if (!eng_key_read_begin(k, &token)) {
        mp_add_relaxed(&e->unstable, 1);
        return;
    }
    alert_sums_init(&sums, e->t, k);
    uint64_t skip = 0; /* rules this call leaves alone */
    for (size_t ri = 0; ri < n; ri++) {
        const struct alert_rule *r = &rules[ri];
        int slow = rule__slow(r);
        if (!(mask & (1ULL << ri)) || !(r->scopes & (1u << scope)) ||
            (mode == EV_FAST && slow) || (mode == EV_SLOW && !slow)) {
            skip |= 1ULL << ri;
            continue;
        }
        if (r->enabled)
            alert_rule_eval(r, &sums, &v[ri]);
        else
            memset(&v[ri], 0, sizeof(v[ri])); /* disabled: whatever fires resolves */
    }
    if (!eng_key_read_end(k, token)) {
        mp_add_relaxed(&e->unstable, 1);
        return;
    }
    for (size_t ri = 0; ri < n; ri++) {
        const struct alert_rule *r = &rules[ri];
        if (skip & (1ULL << ri))
            continue;
        if (!r->enabled && !e->slot[(size_t)id * n + ri])
            continue;
        eval__apply(e, k, ri, r, &v[ri], now);
    }
}

void alert_eval_key_rules(struct alert_eval *e, struct eng_key *k, uint64_t mask, int64_t now)
{
    eval__eval_key(e, k, mask, EV_ALL, now);
}

struct eval_pass {
    struct alert_eval *e;
    int64_t now;
};

static void eval__key(void *arg, struct eng_key *k)
{
    struct eval_pass *p = arg;
    struct alert_eval *e = p->e;
    uint32_t id = eng_key_id(k);
    int mode = EV_ALL;
    if (p->now - e->slow_at[id] >= EVAL_SLOW_MS) {
        e->slow_at[id] = p->now;
    } else {
        mode = EV_FAST;
        if (!e->slow_mark[id] && MP_GROW(e->slow_pend, e->capslow, e->nslow + 1) == MP_OK) {
            e->slow_pend[e->nslow++] = id;
            e->slow_mark[id] = 1;
        }
    }
    eval__eval_key(e, k, ALERT_EVAL_ALL, mode, p->now);
    mp_add_relaxed(&e->keys, 1);
}

/* What time alone changes: windows slide, `for` runs out, reminders fall due. */
static void eval__sweep(struct alert_eval *e, int64_t now)
{
    /* slow rules of keys that changed since their last run */
    for (size_t x = 0; x < e->nslow; x++) {
        uint32_t id = e->slow_pend[x];
        struct eng_key *k = eng_table_key(e->t, id);
        e->slow_mark[id] = 0;
        e->slow_at[id] = now;
        if (k && eng_table_key_warm(e->t, k) == MP_OK)
            eval__eval_key(e, k, ALERT_EVAL_ALL, EV_SLOW, now);
    }
    e->nslow = 0;
    for (uint32_t i = 1; i < e->nrecs; i++) {
        struct arec *r = &e->recs[i];
        if (!r->used || r->status == ST_INACTIVE)
            continue;
        if (r->ext) { /* its source decides its state; time brings reminders only */
            alert_ext_sweep(e, i, now);
            continue;
        }
        struct eng_key *k = eng_table_key(e->t, r->key_id);
        /* an idle key with a live alert may have left memory: bring it back,
         * so its window can slide below the threshold and resolve */
        if (!k || eng_table_key_warm(e->t, k) != MP_OK)
            continue;
        eval__eval_key(e, k, 1ULL << r->rule, EV_ALL, now);
        r = &e->recs[i]; /* the pool may have moved */
        if (r->muted && r->status == ST_FIRING && !r->queued)
            alert_group_unmuted(e, i, now);
        if (r->status != ST_FIRING || r->nstatus != ST_FIRING || r->queued)
            continue;
        const struct alert_rule *rule =
            &alert_ruleset_for(e->cfg.rules, eng_key_tenant(e->t, k))[r->rule];
        if (rule->repeat_ms > 0 && now - r->notified_ms >= rule->repeat_ms) {
            r->repeat_due = 1;
            alert_group_queue(e, i, eng_key_tenant(e->t, k));
        }
    }
}

/* ---- reload ---- */

static void eval__switch(struct alert_eval *e, struct eval_cfg *nc, int64_t now)
{
    size_t nn = alert_ruleset_count(nc->rules);
    uint32_t *nslot = calloc(((size_t)e->max_keys + 1) * nn, sizeof(*nslot));
    /* Alerts of rules that are gone resolve now, told with the old rule
     * (its pointers stay valid until the old config is freed below), once
     * the new config is in place: their groups' other members carry rule
     * indices of the new rules by then. Room for all, so none is told alone. */
    struct alert_instance *gone = malloc((e->nrecs ? e->nrecs : 1) * sizeof(*gone));
    size_t ngone = 0;
    if (!nslot || !gone) {
        mp_error("alert_reload_nomem");
        free(nslot);
        free(gone);
        cfg__free(nc);
        return;
    }
    /* Under mu from the first record rewritten to the new config in place:
     * /v1/alerts and /metrics read records and config together under mu,
     * and a record's rule index is only meaningful with its own rule set
     * (a new index read with the old set picked the wrong rule, or read
     * past a tenant's override array). TSan saw these writes race. */
    pthread_mutex_lock(&e->mu);
    for (uint32_t i = 1; i < e->nrecs; i++) {
        struct arec *r = &e->recs[i];
        struct eng_key *k = r->used ? eng_table_key(e->t, r->key_id) : NULL;
        if (!k)
            continue;
        const char *tenant = eng_key_tenant(e->t, k);
        const struct alert_rule *old = &alert_ruleset_for(e->cfg.rules, tenant)[r->rule];
        int ni = alert_ruleset_find(nc->rules, old->name);
        if (ni >= 0) {
            r->rule = (uint16_t)ni;
            nslot[(size_t)r->key_id * nn + (size_t)ni] = i;
            continue;
        }
        /* Out of its group first (queue and members): a queued record left
         * listed there, its index reused by the next new alert of any tenant,
         * went out with this tenant's group, to this tenant's receivers (and
         * was then "already told" for its own tenant); a member would be
         * listed as firing next to its own resolve. */
        alert_group_unlist(e, tenant, i);
        if (r->nstatus == ST_FIRING) {
            struct alert_instance a;
            alert_eval_instance(e, k, old, &a);
            a.v = r->v;
            a.status = ALERT_STATUS_RESOLVED;
            a.severity = r->nseverity;
            a.starts_ms = r->starts_ms;
            a.ends_ms = now;
            a.rule_removed = 1;
            gone[ngone++] = a;
            alert_state_history(e, r, &a, ALERT_HIST_RESOLVED, NULL, 0, now);
        }
        r->status = r->nstatus = ST_INACTIVE;
        alert_state_save(e, i); /* deletes, keyed by the old rule's name */
        r->key_id = 0;     /* not in the new slot array */
        alert_eval_rec_free(e, i);
    }
    /* queued records keep their queue entries: indices are unchanged */
    struct eval_cfg old = e->cfg;
    e->cfg = *nc;
    free(e->slot);
    e->slot = nslot;
    e->nrules = nn;
    alert_group_deliver_by_tenant(e, gone, ngone, now); /* the new routes */
    free(gone);
    pthread_mutex_unlock(&e->mu);
    alert_walk_begin(e, old.rules); /* every key, under the rules that changed */
    cfg__free(&old);
    mp_add_relaxed(&e->reloads, 1);
    mp_info("alert_rules_reloaded rules=%zu tenants_with_overrides=%zu receivers=%zu", nn,
            alert_ruleset_noverrides(e->cfg.rules), e->cfg.nreceivers);
}

int alert_eval_reload(struct alert_eval *e, struct alert_ruleset *rules,
                      const struct alert_receiver *receivers, size_t nreceivers,
                      struct alert_routes *routes)
{
    struct eval_cfg nc = {.rules = rules, .routes = routes};
    if (cfg__copy_receivers(&nc, receivers, nreceivers) != MP_OK) {
        cfg__free(&nc);
        return MP_ERR_NOMEM;
    }
    pthread_mutex_lock(&e->reload_mu);
    if (e->has_next)
        cfg__free(&e->next);
    e->next = nc;
    e->has_next = 1;
    pthread_mutex_unlock(&e->reload_mu);
    eng_table_wake(e->t); /* applied by the next pass, not after a sleep */
    return MP_OK;
}

/* ---- thread ---- */

/* Until a key turns dirty (the frame's end wakes us), a reload or stop
 * (they wake us too), the next sweep (every second: `for`, resolves,
 * silences ending) or the next group due, whichever comes first. An idle
 * evaluator wakes about once a second instead of polling. */
static void eval__sleep(struct alert_eval *e, int64_t last_sweep, int64_t now)
{
    int64_t ns = last_sweep + 1000000000LL - mp_mono_ns();
    int64_t group_ms = alert_group_next_due_ms(e, now);
    if (group_ms < ns / 1000000)
        ns = group_ms * 1000000;
    if (ns > 0)
        eng_table_wait_dirty(e->t, ns);
}

static void *eval__main(void *arg)
{
    struct alert_eval *e = arg;
    mp_thread_name("mp-eval", -1);
    int64_t last_sweep = mp_mono_ns();
    for (;;) {
        int stopping = (int)mp_load_acquire(&e->stop);
        struct eval_pass p = {e, mp_now_ms()};
        int64_t t0 = mp_mono_ns(); /* timed per pass, never per key */
        pthread_mutex_lock(&e->reload_mu);
        struct eval_cfg nc = e->next;
        int has = e->has_next;
        e->has_next = 0;
        memset(&e->next, 0, sizeof(e->next));
        pthread_mutex_unlock(&e->reload_mu);
        if (has)
            eval__switch(e, &nc, p.now);
        alert_ext_drain(e, p.now);
        size_t n = eng_table_drain_dirty(e->t, eval__key, &p);
        size_t walked = alert_walk_step(e, p.now);
        int64_t mono = mp_mono_ns();
        int swept = mono - last_sweep >= 1000000000LL;
        if (swept) {
            eval__sweep(e, p.now);
            last_sweep = mono;
            mp_hist_observe(&e->sweep_hist, (uint64_t)(mp_mono_ns() - mono));
        }
        alert_group_flush(e, p.now, stopping);
        mp_add_relaxed(&e->passes, 1);
        if (n)
            mp_store_relaxed(&e->dirty_last, n);
        if (n || swept || has || walked) /* idle passes (1 ms apart) would drown the figures */
            mp_hist_observe(&e->pass_hist, (uint64_t)(mp_mono_ns() - t0));
        if (stopping)
            break; /* this was the last pass, after the writers stopped */
        if (n == 0 && walked == 0) /* a walk goes on at once: it is bounded per pass */
            eval__sleep(e, last_sweep, p.now);
    }
    return NULL;
}

static void eval__free(struct alert_eval *e)
{
    cfg__free(&e->cfg);
    if (e->has_next)
        cfg__free(&e->next);
    alert_group_free_all(e);
    mp_watch_destroy(&e->watch); /* the gate has unwatched before stop */
    alert_ext_free_queue(e);
    for (uint32_t i = 1; i < e->nrecs; i++)
        if (e->recs[i].used)
            alert_ext_free(e->recs[i].ext);
    free((char *)e->ng.external_url);
    alert_walk_free(e);
    free(e->dirty);
    free(e->slot);
    free(e->recs);
    free(e->slow_at);
    free(e->slow_mark);
    free(e->slow_pend);
    eng_store_batch_free(e->wb);
    alert_history_free(e->hist);
    pthread_mutex_destroy(&e->mu);
    pthread_mutex_destroy(&e->reload_mu);
    pthread_mutex_destroy(&e->ext_mu);
    free(e);
}

/* Everything but the thread: validation, the arrays, the restore. */
static int eval__init(struct alert_eval *e, const struct alert_eval_opts *opts)
{
    if (!opts->rules || !opts->routes)
        return MP_ERR_INVAL;
    e->silences = opts->silences;
    e->nrules = alert_ruleset_count(opts->rules);
    if (e->nrules == 0 || e->nrules > ALERT_RULES_MAX)
        return MP_ERR_INVAL;
    if (cfg__copy_receivers(&e->cfg, opts->receivers, opts->nreceivers) != MP_OK)
        return MP_ERR_NOMEM;
    e->slot = calloc(((size_t)opts->max_keys + 1) * e->nrules, sizeof(*e->slot));
    e->slow_at = calloc((size_t)opts->max_keys + 1, sizeof(*e->slow_at));
    e->slow_mark = calloc((size_t)opts->max_keys + 1, sizeof(*e->slow_mark));
    if (!e->slot || !e->slow_at || !e->slow_mark)
        return MP_ERR_NOMEM;
    alert_walk_begin(e, NULL); /* at start, keys read back are evaluated too */
    if (!e->store)
        return MP_OK;
    if (!(e->wb = eng_store_batch_new(e->store)) ||
        alert_history_new(opts->history_retention_ms, &e->hist) != MP_OK)
        return MP_ERR_NOMEM;
    return alert_state_restore(e);
}

int alert_eval_start(struct eng_table *t, struct alert_sender *s,
                     const struct alert_eval_opts *opts, struct alert_eval **out)
{
    struct alert_eval *e = calloc(1, sizeof(*e));
    if (!e) {
        alert_ruleset_free(opts->rules);
        alert_routes_destroy(opts->routes);
        return MP_ERR_NOMEM;
    }
    pthread_mutex_init(&e->mu, NULL);
    pthread_mutex_init(&e->reload_mu, NULL);
    mp_watch_init(&e->watch);
    pthread_mutex_init(&e->ext_mu, NULL);
    mp_hist_init(&e->pass_hist, mp_hist_latency_ns, MP_HIST_LATENCY_N);
    mp_hist_init(&e->sweep_hist, mp_hist_latency_ns, MP_HIST_LATENCY_N);
    e->t = t;
    e->s = s;
    e->store = opts->store;
    e->max_keys = opts->max_keys;
    e->group_ms = opts->group_interval_ms > 0 ? opts->group_interval_ms : 1000;
    e->group_seed = eng_hash_seed(); /* tenant names come from producers */
    e->ng.group_by = (opts->group_by & ALERT_LABEL_ALL) | ALERT_LABEL_TENANT;
    e->ng.max_alerts = opts->max_alerts;
    e->cfg.rules = opts->rules;
    e->cfg.routes = opts->routes;
    int rc = opts->external_url && !(e->ng.external_url = strdup(opts->external_url))
                 ? MP_ERR_NOMEM
                 : eval__init(e, opts);
    if (rc == MP_OK && pthread_create(&e->tid, NULL, eval__main, e) != 0)
        rc = MP_ERR_STATE;
    if (rc != MP_OK) {
        eval__free(e);
        return rc;
    }
    e->started = 1;
    *out = e;
    return MP_OK;
}

void alert_eval_stop(struct alert_eval *e)
{
    if (!e)
        return;
    /* the flag first, then the wake: a sleeping thread sees it at once */
    mp_store_release(&e->stop, 1);
    eng_table_wake(e->t);
    mp_thread_stop(&e->stop, e->started, e->tid);
    eval__free(e);
}

/* Issue 9 (key reclaim): the table's pin hook. A key with a record (an
 * alert not inactive, or still owing news) is live. */
int alert_eval_key_live(void *arg, uint32_t key_id)
{
    struct alert_eval *e = arg;
    int live = 0;
    pthread_mutex_lock(&e->mu);
    for (size_t r = 0; !live && r < e->nrules; r++)
        live = e->slot[(size_t)key_id * e->nrules + r] != 0;
    pthread_mutex_unlock(&e->mu);
    return live;
}

void alert_eval_figures(struct alert_eval *e, struct alert_eval_figures *out)
{
    memset(out, 0, sizeof(*out));
    out->passes = mp_load_relaxed(&e->passes);
    out->keys_evaluated = mp_load_relaxed(&e->keys);
    out->notifications = mp_load_relaxed(&e->notifications);
    out->unrouted = mp_load_relaxed(&e->unrouted);
    out->unstable = mp_load_relaxed(&e->unstable);
    out->reloads = mp_load_relaxed(&e->reloads);
    out->state_errors = mp_load_relaxed(&e->state_errors);
    out->restored = mp_load_relaxed(&e->restored);
    out->dirty_last = mp_load_relaxed(&e->dirty_last);
    out->walks = mp_load_relaxed(&e->walks);
    out->walk_keys = mp_load_relaxed(&e->walk_keys);
    out->walk_last_ns = mp_load_relaxed(&e->walk_last_ns);
    out->walk_last_cpu_ns = mp_load_relaxed(&e->walk_last_cpu_ns);
    mp_hist_read(&e->pass_hist, &out->pass);
    mp_hist_read(&e->sweep_hist, &out->sweep);
    pthread_mutex_lock(&e->mu);
    for (uint32_t i = 1; i < e->nrecs; i++) {
        const struct arec *r = &e->recs[i];
        if (r->used && r->status == ST_FIRING)
            out->firing++;
        else if (r->used && r->status == ST_PENDING)
            out->pending++;
    }
    pthread_mutex_unlock(&e->mu);
}
