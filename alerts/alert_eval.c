/* alert_eval.c — evaluator thread and tenant routes (see alert_eval.h).
 *
 * Each pass: value -> severity -> changed? -> hysteresis -> record a pending
 * notification; then, apart from evaluation, the pending notifications are
 * grouped per tenant and handed to the sender (netdata's split of state
 * change from notification).
 */
#include "alert_eval.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert_notify.h"
#include "mp_atomic.h"
#include "mp_hash.h"
#include "mp_log.h"

/* ---- routes ---------------------------------------------------------------- */

struct route {
    char *tenant;
    size_t n;
    size_t *idx;
};

struct alert_routes {
    struct route def;
    size_t n, cap;
    struct route *r; /* few entries, config-sized: a linear scan is fine */
};

int alert_routes_create(struct alert_routes **out)
{
    struct alert_routes *r = calloc(1, sizeof(*r));
    if (!r)
        return MP_ERR_NOMEM;
    *out = r;
    return MP_OK;
}

void alert_routes_destroy(struct alert_routes *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->r[i].tenant);
        free(r->r[i].idx);
    }
    free(r->r);
    free(r->def.idx);
    free(r);
}

static int routes__fill(struct route *rt, const size_t *idx, size_t n)
{
    size_t *copy = n ? malloc(n * sizeof(*copy)) : NULL;
    if (n && !copy)
        return MP_ERR_NOMEM;
    if (n)
        memcpy(copy, idx, n * sizeof(*copy));
    free(rt->idx);
    rt->idx = copy;
    rt->n = n;
    return MP_OK;
}

int alert_routes_set_default(struct alert_routes *r, const size_t *idx, size_t n)
{
    return routes__fill(&r->def, idx, n);
}

int alert_routes_add(struct alert_routes *r, const char *tenant, const size_t *idx, size_t n)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->r[i].tenant, tenant) == 0)
            return MP_ERR_INVAL;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        struct route *nr = realloc(r->r, cap * sizeof(*nr));
        if (!nr)
            return MP_ERR_NOMEM;
        r->r = nr;
        r->cap = cap;
    }
    struct route *rt = &r->r[r->n];
    memset(rt, 0, sizeof(*rt));
    rt->tenant = strdup(tenant);
    if (!rt->tenant || routes__fill(rt, idx, n) != MP_OK) {
        free(rt->tenant);
        return MP_ERR_NOMEM;
    }
    r->n++;
    return MP_OK;
}

void alert_routes_lookup(const struct alert_routes *r, const char *tenant, const size_t **idx,
                         size_t *n)
{
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->r[i].tenant, tenant) == 0) {
            *idx = r->r[i].idx;
            *n = r->r[i].n;
            return;
        }
    }
    *idx = r->def.idx;
    *n = r->def.n;
}

/* ---- evaluator -------------------------------------------------------------- */

struct astate {
    uint8_t active;
    uint8_t severity;
    uint32_t pos; /* index in the active list while active */
    int64_t starts_ms;
};

struct pending {
    struct alert_instance a;
};

struct alert_eval {
    struct eng_table *t;
    struct alert_sender *s;
    struct alert_eval_opts o;
    struct astate *st; /* (max_keys + 1) * nrules; calloc'd, so untouched pages stay unbacked */
    uint64_t *active;  /* key id << 8 | rule index */
    size_t nactive, capactive;
    struct pending *pend;
    size_t npend, cappend;
    pthread_t tid;
    int started;
    mp_atomic_u32 stop;
    mp_atomic_u64 passes, keys, notifications, unrouted, unstable;
    mp_atomic_u64 firing;
};

static struct astate *eval__state(struct alert_eval *e, uint32_t key_id, size_t rule)
{
    return &e->st[(size_t)key_id * e->o.nrules + rule];
}

static void eval__pend(struct alert_eval *e, const struct alert_instance *a)
{
    if (e->npend == e->cappend) {
        size_t cap = e->cappend ? e->cappend * 2 : 64;
        struct pending *np = realloc(e->pend, cap * sizeof(*np));
        if (!np) {
            mp_error("alert_pending_nomem rule=%s tenant=%s", a->rule->name, a->tenant);
            return;
        }
        e->pend = np;
        e->cappend = cap;
    }
    e->pend[e->npend++].a = *a;
}

static int eval__activate(struct alert_eval *e, uint32_t key_id, size_t rule, struct astate *st)
{
    if (e->nactive == e->capactive) {
        size_t cap = e->capactive ? e->capactive * 2 : 64;
        uint64_t *na = realloc(e->active, cap * sizeof(*na));
        if (!na)
            return MP_ERR_NOMEM;
        e->active = na;
        e->capactive = cap;
    }
    st->pos = (uint32_t)e->nactive;
    e->active[e->nactive++] = (uint64_t)key_id << 8 | rule;
    st->active = 1;
    mp_add_relaxed(&e->firing, 1);
    return MP_OK;
}

static void eval__deactivate(struct alert_eval *e, struct astate *st)
{
    uint64_t last = e->active[--e->nactive];
    if (st->pos < e->nactive) {
        e->active[st->pos] = last;
        eval__state(e, (uint32_t)(last >> 8), last & 0xff)->pos = st->pos;
    }
    st->active = 0;
    atomic_fetch_sub_explicit(&e->firing, 1, memory_order_relaxed);
}

/* Applies one rule's freshly computed value to its alert state. */
static void eval__apply(struct alert_eval *e, struct eng_key *k, size_t ri,
                        const struct alert_value *v, int64_t now)
{
    const struct alert_rule *r = &e->o.rules[ri];
    uint32_t id = eng_key_id(k);
    struct astate *st = eval__state(e, id, ri);
    struct alert_instance a = {.rule = r, .tenant = eng_key_tenant(e->t, k), .v = *v};
    int scope = eng_key_scope(k);
    if (scope == ENG_SCOPE_MAILBOX)
        a.mailbox = eng_key_name(e->t, k);
    else if (scope == ENG_SCOPE_DOMAIN)
        a.domain = eng_key_name(e->t, k);

    if (!st->active) {
        if (a.v.severity == ALERT_SEV_NONE || eval__activate(e, id, ri, st) != MP_OK)
            return;
        st->severity = (uint8_t)a.v.severity;
        st->starts_ms = now;
        a.status = ALERT_STATUS_FIRING;
        a.severity = a.v.severity;
        a.starts_ms = now;
        eval__pend(e, &a);
        return;
    }
    a.starts_ms = st->starts_ms;
    if (alert_rule_resolves(r, &a.v)) {
        a.status = ALERT_STATUS_RESOLVED;
        a.severity = st->severity;
        a.ends_ms = now;
        eval__deactivate(e, st);
        eval__pend(e, &a);
        return;
    }
    /* In the hysteresis band (between resolve and warning) the alert stays
     * up as a warning. */
    int sev = a.v.severity == ALERT_SEV_NONE ? ALERT_SEV_WARNING : a.v.severity;
    if (sev != st->severity) {
        st->severity = (uint8_t)sev;
        a.status = ALERT_STATUS_FIRING;
        a.severity = sev;
        eval__pend(e, &a);
    }
}

/* Evaluates rules `only` (or all of the key's scope when only == SIZE_MAX)
 * on a consistent read of `k`. A key that a frame is still writing, or that
 * changed during the read, is left alone: that frame's end marks it dirty
 * again, so it is evaluated once the frame is whole. */
static void eval__eval_key(struct alert_eval *e, struct eng_key *k, size_t only, int64_t now)
{
    struct alert_value v[256];
    uint64_t counts[ENG_NTYPES];
    int scope = eng_key_scope(k);
    uint32_t token;
    if (!eng_key_read_begin(k, &token)) {
        mp_add_relaxed(&e->unstable, 1);
        return;
    }
    for (size_t ri = 0; ri < e->o.nrules; ri++) {
        const struct alert_rule *r = &e->o.rules[ri];
        if ((only != SIZE_MAX && ri != only) || !(r->scopes & (1u << scope)))
            continue;
        eng_key_sum_fine(e->t, k, r->fine_buckets, counts);
        alert_rule_eval(r, counts, &v[ri]);
    }
    if (!eng_key_read_end(k, token)) {
        mp_add_relaxed(&e->unstable, 1);
        return;
    }
    for (size_t ri = 0; ri < e->o.nrules; ri++) {
        const struct alert_rule *r = &e->o.rules[ri];
        if ((only != SIZE_MAX && ri != only) || !(r->scopes & (1u << scope)))
            continue;
        eval__apply(e, k, ri, &v[ri], now);
    }
}

struct eval_pass {
    struct alert_eval *e;
    int64_t now;
};

static void eval__key(void *arg, struct eng_key *k)
{
    struct eval_pass *p = arg;
    eval__eval_key(p->e, k, SIZE_MAX, p->now);
    mp_add_relaxed(&p->e->keys, 1);
}

static void eval__sweep(struct alert_eval *e, int64_t now)
{
    /* Iterate backwards: resolving swap-removes from the list. */
    for (size_t i = e->nactive; i-- > 0;) {
        if (i >= e->nactive)
            continue;
        uint64_t a = e->active[i];
        struct eng_key *k = eng_table_key(e->t, (uint32_t)(a >> 8));
        /* an idle key with a firing alert may have left memory: bring it
         * back, so its window can slide below the threshold and resolve */
        if (k && eng_table_key_warm(e->t, k) == MP_OK)
            eval__eval_key(e, k, a & 0xff, now);
    }
}

static int eval__cmp_tenant(const void *x, const void *y)
{
    const struct pending *a = x, *b = y;
    return strcmp(a->a.tenant, b->a.tenant);
}

/* Sends this pass's notifications: one request per tenant and receiver. */
static void eval__flush(struct alert_eval *e)
{
    if (e->npend == 0)
        return;
    qsort(e->pend, e->npend, sizeof(*e->pend), eval__cmp_tenant);
    size_t n = e->npend;
    struct alert_instance *group = malloc(n * sizeof(*group));
    if (!group) {
        mp_error("alert_flush_nomem pending=%zu", n);
        e->npend = 0;
        return;
    }
    for (size_t i = 0; i < n;) {
        size_t j = i, g = 0;
        while (j < n && strcmp(e->pend[j].a.tenant, e->pend[i].a.tenant) == 0)
            group[g++] = e->pend[j++].a;
        const size_t *idx;
        size_t nr;
        alert_routes_lookup(e->o.routes, group[0].tenant, &idx, &nr);
        if (nr == 0) {
            mp_add_relaxed(&e->unrouted, g);
            mp_warn("alert_unrouted tenant=%s alerts=%zu", group[0].tenant, g);
        }
        /* The idempotency key names exactly this notification: the alerts,
         * their status and severity, and when they started. */
        uint64_t h = 0x1d3a5c7e9f0b2d4fULL;
        for (size_t x = 0; x < g; x++) {
            char fp[17];
            alert_fingerprint(&group[x], fp);
            int64_t parts[3] = {group[x].status, group[x].severity, group[x].starts_ms};
            h = mp_hash_bytes(fp, 16, h);
            h = mp_hash_bytes(parts, sizeof(parts), h);
        }
        for (size_t x = 0; x < nr; x++) {
            const struct alert_receiver *rc = &e->o.receivers[idx[x]];
            char *body = rc->type == ALERT_RECEIVER_SLACK ? alert_notify_slack(group, g)
                                                          : alert_notify_webhook(rc->name, group, g);
            char idem[64];
            snprintf(idem, sizeof(idem), "%016llx",
                     (unsigned long long)mp_hash_bytes(rc->name, strlen(rc->name), h));
            struct alert_note an = {
                .receiver = rc->name, .tenant = group[0].tenant, .body = body, .idem = idem};
            if (!body || alert_sender_submit(e->s, &an, 1, NULL) != MP_OK)
                mp_error("alert_submit_failed receiver=%s tenant=%s", rc->name, group[0].tenant);
            else
                mp_add_relaxed(&e->notifications, 1);
        }
        for (size_t x = 0; x < g; x++)
            mp_info("alert_%s rule=%s severity=%s tenant=%s mailbox=%s recipient_domain=%s "
                    "num=%llu den=%llu receivers=%zu",
                    group[x].status == ALERT_STATUS_FIRING ? "firing" : "resolved",
                    group[x].rule->name, alert_severity_name(group[x].severity), group[x].tenant,
                    group[x].mailbox ? group[x].mailbox : "-",
                    group[x].domain ? group[x].domain : "-", (unsigned long long)group[x].v.num,
                    (unsigned long long)group[x].v.den, nr);
        i = j;
    }
    free(group);
    e->npend = 0;
}

static void *eval__main(void *arg)
{
    struct alert_eval *e = arg;
    int64_t last_sweep = mp_mono_ns();
    for (;;) {
        int stopping = (int)mp_load_acquire(&e->stop);
        struct eval_pass p = {e, mp_now_ms()};
        size_t n = eng_table_drain_dirty(e->t, eval__key, &p);
        int64_t mono = mp_mono_ns();
        if (mono - last_sweep >= 1000000000LL) {
            eval__sweep(e, p.now);
            last_sweep = mono;
        }
        eval__flush(e);
        mp_add_relaxed(&e->passes, 1);
        if (stopping)
            break; /* this was the last pass, after the writers stopped */
        if (n == 0) {
            struct timespec ts = {0, 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

int alert_eval_start(struct eng_table *t, struct alert_sender *s,
                     const struct alert_eval_opts *opts, struct alert_eval **out)
{
    if (opts->nrules == 0 || opts->nrules > 255)
        return MP_ERR_INVAL;
    struct alert_eval *e = calloc(1, sizeof(*e));
    if (!e)
        return MP_ERR_NOMEM;
    e->t = t;
    e->s = s;
    e->o = *opts;
    e->st = calloc(((size_t)opts->max_keys + 1) * opts->nrules, sizeof(*e->st));
    if (!e->st || pthread_create(&e->tid, NULL, eval__main, e) != 0) {
        free(e->st);
        free(e);
        return MP_ERR_NOMEM;
    }
    e->started = 1;
    *out = e;
    return MP_OK;
}

void alert_eval_stop(struct alert_eval *e)
{
    if (!e)
        return;
    mp_store_release(&e->stop, 1);
    if (e->started)
        pthread_join(e->tid, NULL);
    free(e->st);
    free(e->active);
    free(e->pend);
    free(e);
}

void alert_eval_figures(struct alert_eval *e, struct alert_eval_figures *out)
{
    out->passes = mp_load_relaxed(&e->passes);
    out->keys_evaluated = mp_load_relaxed(&e->keys);
    out->firing = mp_load_relaxed(&e->firing);
    out->notifications = mp_load_relaxed(&e->notifications);
    out->unrouted = mp_load_relaxed(&e->unrouted);
    out->unstable = mp_load_relaxed(&e->unstable);
}
