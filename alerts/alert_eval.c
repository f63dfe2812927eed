/* alert_eval.c — evaluator thread, alert lifecycle and tenant routes (see alert_eval.h).
 *
 * Each pass: evaluate dirty keys (value -> severity -> lifecycle state); the
 * state machine only marks an alert "to notify" in its tenant's group. Apart
 * from evaluation, groups whose interval has passed are turned into
 * notifications from the alerts' *current* state and what receivers were last
 * told (netdata's split of state change from notification), so changes that
 * cancel out while a group waits send nothing. State and outbox entries then
 * commit in one batch.
 *
 * Alert records live in a pool; a (key id, rule) slot array points into it,
 * so an inactive alert costs 4 bytes. The evaluator thread is the only
 * writer; it takes `mu` for every write that /v1/alerts readers may see.
 */
#include "alert_eval.h"

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
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

enum { ST_INACTIVE = 0, ST_PENDING = 1, ST_FIRING = 2 };

struct arec {
    uint32_t key_id;
    uint16_t rule;
    uint8_t used, status, severity; /* status: ST_*; severity: what the value reaches */
    uint8_t nstatus, nseverity;     /* what receivers were last told (INACTIVE or FIRING) */
    uint8_t queued, repeat_due, dirty;
    uint32_t next_free;
    int64_t since_ms;    /* pending since */
    int64_t starts_ms;   /* firing since */
    int64_t ends_ms;     /* resolved at */
    int64_t notified_ms; /* last notification handed to the outbox */
    struct alert_value v;
};

/* A tenant's notification group. */
struct tgroup {
    char *tenant;
    int64_t last_sent_ms;
    int busy; /* on the busy list */
    size_t n, cap;
    uint32_t *recs;
};

struct eval_cfg {
    struct alert_ruleset *rules;
    struct alert_receiver *receivers; /* owned copies */
    size_t nreceivers;
    struct alert_routes *routes;
};

struct alert_eval {
    struct eng_table *t;
    struct alert_sender *s;
    struct eng_store *store;
    struct eng_store_batch *wb;
    uint32_t max_keys;
    int64_t group_ms;
    struct eval_cfg cfg;
    size_t nrules;

    pthread_mutex_t mu; /* guards recs (and their fields), cfg.rules for readers */
    uint32_t *slot;     /* (max_keys + 1) * nrules: rec index, 0 = none */
    struct arec *recs;  /* recs[0] unused */
    uint32_t nrecs, caprecs, free_head;

    struct tgroup **groups; /* open addressing by tenant */
    size_t ngroups, capgroups;
    struct tgroup **busy;
    size_t nbusy, capbusy;
    uint32_t *dirty;
    size_t ndirty, capdirty;
    /* Slow rules (daily windows: drop, spike over days, trend) move with
     * days of data; a hot key is dirty every millisecond. They run at most
     * once a second per key: slow_at is when they last ran, and a key
     * skipped meanwhile waits in slow_pend for the next sweep. */
    int64_t *slow_at;     /* max_keys + 1 */
    uint8_t *slow_mark;   /* max_keys + 1: in slow_pend */
    uint32_t *slow_pend;
    size_t nslow, capslow;
    struct alert_note *notes;
    size_t nnotes, capnotes;

    pthread_mutex_t reload_mu;
    struct eval_cfg next;
    int has_next;

    pthread_t tid;
    int started;
    mp_atomic_u32 stop;
    mp_atomic_u64 passes, keys, notifications, unrouted, unstable, reloads, state_errors,
        restored;
};

static void cfg__free(struct eval_cfg *c)
{
    alert_ruleset_free(c->rules);
    alert_routes_destroy(c->routes);
    for (size_t i = 0; i < c->nreceivers; i++) {
        free((char *)c->receivers[i].name);
        free((char *)c->receivers[i].url);
        free((char *)c->receivers[i].secret);
    }
    free(c->receivers);
    memset(c, 0, sizeof(*c));
}

static int cfg__copy_receivers(struct eval_cfg *c, const struct alert_receiver *r, size_t n)
{
    c->receivers = calloc(n ? n : 1, sizeof(*c->receivers));
    if (!c->receivers)
        return MP_ERR_NOMEM;
    c->nreceivers = n;
    for (size_t i = 0; i < n; i++) {
        c->receivers[i].type = r[i].type;
        c->receivers[i].name = strdup(r[i].name);
        c->receivers[i].url = strdup(r[i].url);
        c->receivers[i].secret = r[i].secret ? strdup(r[i].secret) : NULL;
        if (!c->receivers[i].name || !c->receivers[i].url || (r[i].secret && !c->receivers[i].secret))
            return MP_ERR_NOMEM;
    }
    return MP_OK;
}

static int vec__push(void **arr, size_t *n, size_t *cap, size_t elem, const void *item)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        void *na = realloc(*arr, nc * elem);
        if (!na)
            return MP_ERR_NOMEM;
        *arr = na;
        *cap = nc;
    }
    memcpy((char *)*arr + *n * elem, item, elem);
    (*n)++;
    return MP_OK;
}

/* ---- records ---- */

static struct arec *rec__get(struct alert_eval *e, uint32_t i) { return &e->recs[i]; }

/* Under mu. Returns the new record's index, 0 when out of memory. */
static uint32_t rec__new(struct alert_eval *e, uint32_t key_id, size_t rule)
{
    uint32_t i = e->free_head;
    if (i) {
        e->free_head = e->recs[i].next_free;
    } else {
        if (e->nrecs == e->caprecs) {
            uint32_t cap = e->caprecs ? e->caprecs * 2 : 64;
            struct arec *nr = realloc(e->recs, (size_t)cap * sizeof(*nr));
            if (!nr)
                return 0;
            e->recs = nr;
            e->caprecs = cap;
            if (e->nrecs == 0)
                e->nrecs = 1; /* index 0 means "none" */
        }
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

/* Under mu. */
static void rec__free(struct alert_eval *e, uint32_t i)
{
    struct arec *r = &e->recs[i];
    if (r->key_id && e->slot[(size_t)r->key_id * e->nrules + r->rule] == i)
        e->slot[(size_t)r->key_id * e->nrules + r->rule] = 0;
    r->used = 0;
    r->next_free = e->free_head;
    e->free_head = i;
}

static void rec__dirty(struct alert_eval *e, uint32_t i)
{
    struct arec *r = &e->recs[i];
    if (r->dirty)
        return;
    r->dirty = 1;
    if (vec__push((void **)&e->dirty, &e->ndirty, &e->capdirty, sizeof(uint32_t), &i) != MP_OK)
        r->dirty = 0; /* written with the next change */
}

/* ---- persistence ---- */

/* Stored value, version 1, host byte order (the store never leaves the host). */
struct stored {
    uint8_t ver, status, severity, nstatus, nseverity, pad[3];
    int64_t since_ms, starts_ms, ends_ms, notified_ms;
    uint64_t num, den, base_num, base_den, value_ppb;
    /* version 2: the alertname receivers know the alert by, so its resolve
     * can name it even after its rule left the rules file */
    char alertname[ALERT_NAME_MAX];
};
#define STORED_V1_SIZE offsetof(struct stored, alertname)

/* key: rule name NUL scope('0'+s) tenant NUL name */
static size_t state__key(char *buf, size_t cap, const char *rule, int scope, const char *tenant,
                         const char *name)
{
    int n = snprintf(buf, cap, "%s%c%c%s%c%s", rule, 0, '0' + scope, tenant, 0, name ? name : "");
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

static void state__save(struct alert_eval *e, uint32_t i)
{
    struct arec *r = rec__get(e, i);
    if (!e->wb || !r->used)
        return;
    struct eng_key *k = eng_table_key(e->t, r->key_id);
    if (!k)
        return;
    const struct alert_rule *rule = &alert_ruleset_for(e->cfg.rules, eng_key_tenant(e->t, k))[r->rule];
    char key[400];
    size_t kl = state__key(key, sizeof(key), rule->name, eng_key_scope(k), eng_key_tenant(e->t, k),
                           eng_key_name(e->t, k));
    if (r->status == ST_INACTIVE && r->nstatus == ST_INACTIVE) {
        eng_store_batch_kv_del(e->wb, ENG_KV_ALERTS, key, kl);
        return;
    }
    struct stored st = {.ver = 2,
                        .status = r->status,
                        .severity = r->severity,
                        .nstatus = r->nstatus,
                        .nseverity = r->nseverity,
                        .since_ms = r->since_ms,
                        .starts_ms = r->starts_ms,
                        .ends_ms = r->ends_ms,
                        .notified_ms = r->notified_ms,
                        .num = r->v.num,
                        .den = r->v.den,
                        .base_num = r->v.base_num,
                        .base_den = r->v.base_den,
                        .value_ppb = r->v.value_ppb};
    snprintf(st.alertname, sizeof(st.alertname), "%s", rule->alertname);
    eng_store_batch_kv_put(e->wb, ENG_KV_ALERTS, key, kl, &st, sizeof(st));
}

/* ---- groups ---- */

static struct tgroup *group__get(struct alert_eval *e, const char *tenant)
{
    if (e->ngroups * 2 >= e->capgroups) {
        size_t cap = e->capgroups ? e->capgroups * 2 : 64;
        struct tgroup **ng = calloc(cap, sizeof(*ng));
        if (!ng)
            return NULL;
        for (size_t i = 0; i < e->capgroups; i++) {
            struct tgroup *g = e->groups[i];
            if (!g)
                continue;
            size_t h = mp_hash_bytes(g->tenant, strlen(g->tenant), 0) & (cap - 1);
            while (ng[h])
                h = (h + 1) & (cap - 1);
            ng[h] = g;
        }
        free(e->groups);
        e->groups = ng;
        e->capgroups = cap;
    }
    size_t h = mp_hash_bytes(tenant, strlen(tenant), 0) & (e->capgroups - 1);
    while (e->groups[h]) {
        if (strcmp(e->groups[h]->tenant, tenant) == 0)
            return e->groups[h];
        h = (h + 1) & (e->capgroups - 1);
    }
    struct tgroup *g = calloc(1, sizeof(*g));
    if (!g || !(g->tenant = strdup(tenant))) {
        free(g);
        return NULL;
    }
    e->groups[h] = g;
    e->ngroups++;
    return g;
}

/* Marks record i "to notify" in its tenant's group. */
static void eval__queue(struct alert_eval *e, uint32_t i, const char *tenant)
{
    struct arec *r = rec__get(e, i);
    if (r->queued)
        return;
    struct tgroup *g = group__get(e, tenant);
    if (!g || vec__push((void **)&g->recs, &g->n, &g->cap, sizeof(uint32_t), &i) != MP_OK) {
        mp_error("alert_queue_nomem tenant=%s", tenant);
        return;
    }
    r->queued = 1;
    if (!g->busy && vec__push((void **)&e->busy, &e->nbusy, &e->capbusy, sizeof(g), &g) == MP_OK)
        g->busy = 1;
}

/* Takes record i out of its tenant's group list (it is being freed while
 * queued). */
static void group__unlist(struct alert_eval *e, const char *tenant, uint32_t i)
{
    struct tgroup *g = group__get(e, tenant);
    if (!g)
        return;
    for (size_t x = 0; x < g->n; x++) {
        if (g->recs[x] == i) {
            memmove(&g->recs[x], &g->recs[x + 1], (g->n - x - 1) * sizeof(*g->recs));
            g->n--;
            return;
        }
    }
}

/* ---- notifications ---- */

static void eval__instance(struct alert_eval *e, struct eng_key *k, const struct alert_rule *rule,
                           struct alert_instance *a)
{
    memset(a, 0, sizeof(*a));
    a->rule = rule;
    a->tenant = eng_key_tenant(e->t, k);
    int scope = eng_key_scope(k);
    if (scope == ENG_SCOPE_MAILBOX)
        a->mailbox = eng_key_name(e->t, k);
    else if (scope == ENG_SCOPE_DOMAIN)
        a->domain = eng_key_name(e->t, k);
}

/* Builds one request per receiver of the tenant's route for alerts `a`
 * and adds them to this pass's notes. */
static void eval__deliver(struct alert_eval *e, const char *tenant, const struct alert_instance *a,
                          size_t n, int64_t now)
{
    const size_t *idx;
    size_t nr;
    alert_routes_lookup(e->cfg.routes, tenant, &idx, &nr);
    if (nr == 0) {
        mp_add_relaxed(&e->unrouted, n);
        mp_warn("alert_unrouted tenant=%s alerts=%zu", tenant, n);
    }
    /* The idempotency key names exactly this notification: the alerts, their
     * status and severity, when they started, and when it was decided. */
    uint64_t h = 0x1d3a5c7e9f0b2d4fULL;
    for (size_t x = 0; x < n; x++) {
        char fp[17];
        alert_fingerprint(&a[x], fp);
        int64_t parts[4] = {a[x].status, a[x].severity, a[x].starts_ms, now};
        h = mp_hash_bytes(fp, 16, h);
        h = mp_hash_bytes(parts, sizeof(parts), h);
    }
    for (size_t x = 0; x < nr; x++) {
        const struct alert_receiver *rc = &e->cfg.receivers[idx[x]];
        char *body = rc->type == ALERT_RECEIVER_SLACK ? alert_notify_slack(a, n)
                                                      : alert_notify_webhook(rc->name, a, n);
        if (!body) {
            mp_error("alert_body_nomem receiver=%s tenant=%s", rc->name, tenant);
            continue;
        }
        /* the note outlives this pass's config (a reload may free it before
         * the flush), so it owns copies of every string */
        char *idem = malloc(40);
        char *ten = strdup(tenant);
        char *rname = strdup(rc->name);
        if (!idem || !ten || !rname) {
            free(idem);
            free(ten);
            free(rname);
            free(body);
            continue;
        }
        snprintf(idem, 40, "%016llx",
                 (unsigned long long)mp_hash_bytes(rc->name, strlen(rc->name), h));
        struct alert_note note = {.receiver = rname, .tenant = ten, .body = body, .idem = idem};
        if (vec__push((void **)&e->notes, &e->nnotes, &e->capnotes, sizeof(note), &note) != MP_OK) {
            free(idem);
            free(ten);
            free(rname);
            free(body);
            continue;
        }
        mp_add_relaxed(&e->notifications, 1);
    }
    for (size_t x = 0; x < n; x++)
        mp_info("alert_%s rule=%s severity=%s tenant=%s mailbox=%s recipient_domain=%s "
                "num=%llu den=%llu receivers=%zu",
                a[x].status == ALERT_STATUS_FIRING ? "firing" : "resolved", a[x].rule->name,
                alert_severity_name(a[x].severity), a[x].tenant, a[x].mailbox ? a[x].mailbox : "-",
                a[x].domain ? a[x].domain : "-", (unsigned long long)a[x].v.num,
                (unsigned long long)a[x].v.den, nr);
}

/* Resolves told at once, for alerts that leave no record to queue (their
 * rule is gone at a reload, or their rule or key at a start): one request
 * per tenant and receiver for all of a tenant's, as grouping promises, not
 * one per alert (a removed rule firing on many keys was a storm). Counts as
 * the tenant's last request. Reorders a[] (stable per tenant). */
static void eval__deliver_by_tenant(struct alert_eval *e, struct alert_instance *a, size_t n,
                                    int64_t now)
{
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        for (size_t x = j; x < n; x++) {
            if (strcmp(a[x].tenant, a[i].tenant) != 0)
                continue;
            struct alert_instance t = a[x];
            memmove(&a[j + 1], &a[j], (x - j) * sizeof(*a));
            a[j++] = t;
        }
        eval__deliver(e, a[i].tenant, &a[i], j - i, now);
        struct tgroup *g = group__get(e, a[i].tenant);
        if (g)
            g->last_sent_ms = now;
        i = j;
    }
}

/* Turns group g into notifications from its records' current state. */
static void eval__send_group(struct alert_eval *e, struct tgroup *g, int64_t now)
{
    struct alert_instance *a = malloc((g->n ? g->n : 1) * sizeof(*a));
    size_t na = 0;
    if (!a) {
        mp_error("alert_group_nomem tenant=%s", g->tenant);
        return; /* the group stays; retried next pass */
    }
    pthread_mutex_lock(&e->mu);
    for (size_t x = 0; x < g->n; x++) {
        uint32_t i = g->recs[x];
        struct arec *r = rec__get(e, i);
        r->queued = 0;
        struct eng_key *k = r->used ? eng_table_key(e->t, r->key_id) : NULL;
        if (!k)
            continue;
        /* every record goes through the flush's check once more: one that
         * has nothing left to tell (fired and resolved inside the wait) is
         * freed there */
        rec__dirty(e, i);
        const struct alert_rule *rule = &alert_ruleset_for(e->cfg.rules, g->tenant)[r->rule];
        struct alert_instance *ai = &a[na];
        eval__instance(e, k, rule, ai);
        ai->v = r->v;
        if (r->status == ST_FIRING) {
            if (r->nstatus == ST_FIRING && r->nseverity == r->severity && !r->repeat_due)
                continue; /* nothing new: e.g. escalated and back inside the wait */
            ai->status = ALERT_STATUS_FIRING;
            ai->severity = r->severity;
            ai->starts_ms = r->starts_ms;
            r->nstatus = ST_FIRING;
            r->nseverity = r->severity;
        } else {
            if (r->nstatus != ST_FIRING)
                continue; /* fired and resolved inside the wait, or never told */
            ai->status = ALERT_STATUS_RESOLVED;
            ai->severity = r->nseverity;
            ai->starts_ms = r->starts_ms;
            ai->ends_ms = r->ends_ms ? r->ends_ms : now;
            r->nstatus = ST_INACTIVE;
        }
        r->repeat_due = 0;
        r->notified_ms = now;
        rec__dirty(e, i);
        na++;
    }
    pthread_mutex_unlock(&e->mu);
    g->n = 0;
    if (na) {
        eval__deliver(e, g->tenant, a, na, now);
        g->last_sent_ms = now;
    }
    free(a);
}

/* Saves dirty records, frees finished ones, sends ready groups, and commits
 * state and outbox entries in one batch. */
static void eval__flush(struct alert_eval *e, int64_t now, int force)
{
    for (size_t x = 0; x < e->nbusy;) {
        struct tgroup *g = e->busy[x];
        if (force || g->last_sent_ms == 0 || now - g->last_sent_ms >= e->group_ms) {
            eval__send_group(e, g, now);
            if (g->n == 0) {
                g->busy = 0;
                e->busy[x] = e->busy[--e->nbusy];
                continue;
            }
        }
        x++;
    }
    for (size_t x = 0; x < e->ndirty; x++) {
        uint32_t i = e->dirty[x];
        struct arec *r = rec__get(e, i);
        r->dirty = 0;
        state__save(e, i);
        if (r->used && r->status == ST_INACTIVE && r->nstatus == ST_INACTIVE && !r->queued) {
            pthread_mutex_lock(&e->mu);
            rec__free(e, i);
            pthread_mutex_unlock(&e->mu);
        }
    }
    e->ndirty = 0;
    if (e->nnotes) {
        int rc = alert_sender_submit(e->s, e->notes, e->nnotes, e->wb);
        if (rc != MP_OK && rc != MP_ERR_INVAL) {
            mp_add_relaxed(&e->state_errors, 1);
            mp_error("alert_submit_failed notes=%zu err=%s", e->nnotes, mp_strerror(rc));
        }
        for (size_t x = 0; x < e->nnotes; x++) {
            free((char *)e->notes[x].receiver);
            free((char *)e->notes[x].tenant);
            free((char *)e->notes[x].idem);
        }
        e->nnotes = 0;
    } else if (e->wb && eng_store_batch_count(e->wb) > 0) {
        /* through the sender, which serializes commits to the store it
         * shares with us: RocksDB hands batches between committing threads
         * in a way ThreadSanitizer cannot follow */
        if (alert_sender_submit(e->s, NULL, 0, e->wb) != MP_OK) {
            mp_add_relaxed(&e->state_errors, 1);
            mp_error("alert_state_write_failed");
        }
    }
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
        i = rec__new(e, id, ri);
        pthread_mutex_unlock(&e->mu);
        if (!i) {
            mp_error("alert_state_nomem rule=%s", rule->name);
            return;
        }
    }
    const char *tenant = eng_key_tenant(e->t, k);
    pthread_mutex_lock(&e->mu);
    struct arec *r = rec__get(e, i);
    int was = r->status, sev = v->severity;
    r->v = *v;
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
        if (alert_rule_resolves(rule, v)) {
            r->status = ST_INACTIVE;
            r->ends_ms = now;
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
    if (changed || was == -1)
        rec__dirty(e, i);
    if (notify)
        eval__queue(e, i, tenant);
}

/* Evaluates rules `only` (or all of the key's scope when only == SIZE_MAX)
 * on a consistent read of `k`. A key that a frame is still writing, or that
 * changed during the read, is left alone: that frame's end marks it dirty
 * again, so it is evaluated once the frame is whole. */
static void eval__eval_key(struct alert_eval *e, struct eng_key *k, size_t only, int mode,
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
        if ((only != SIZE_MAX && ri != only) || !(r->scopes & (1u << scope)) ||
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
        if (!e->slow_mark[id] &&
            vec__push((void **)&e->slow_pend, &e->nslow, &e->capslow, sizeof(id), &id) == MP_OK)
            e->slow_mark[id] = 1;
    }
    eval__eval_key(e, k, SIZE_MAX, mode, p->now);
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
            eval__eval_key(e, k, SIZE_MAX, EV_SLOW, now);
    }
    e->nslow = 0;
    for (uint32_t i = 1; i < e->nrecs; i++) {
        struct arec *r = rec__get(e, i);
        if (!r->used || r->status == ST_INACTIVE)
            continue;
        struct eng_key *k = eng_table_key(e->t, r->key_id);
        /* an idle key with a live alert may have left memory: bring it back,
         * so its window can slide below the threshold and resolve */
        if (!k || eng_table_key_warm(e->t, k) != MP_OK)
            continue;
        eval__eval_key(e, k, r->rule, EV_ALL, now);
        r = rec__get(e, i); /* the pool may have moved */
        if (r->status != ST_FIRING || r->nstatus != ST_FIRING || r->queued)
            continue;
        const struct alert_rule *rule =
            &alert_ruleset_for(e->cfg.rules, eng_key_tenant(e->t, k))[r->rule];
        if (rule->repeat_ms > 0 && now - r->notified_ms >= rule->repeat_ms) {
            r->repeat_due = 1;
            eval__queue(e, i, eng_key_tenant(e->t, k));
        }
    }
}

/* ---- reload ---- */

static void eval__switch(struct alert_eval *e, struct eval_cfg *nc, int64_t now)
{
    size_t nn = alert_ruleset_count(nc->rules);
    uint32_t *nslot = calloc(((size_t)e->max_keys + 1) * nn, sizeof(*nslot));
    if (!nslot) {
        mp_error("alert_reload_nomem");
        cfg__free(nc);
        return;
    }
    /* Alerts of rules that are gone resolve now, told with the old rule
     * (its pointers stay valid until the old config is freed below). */
    struct alert_instance *gone = NULL;
    size_t ngone = 0, capgone = 0;
    /* Under mu from the first record rewritten to the new config in place:
     * /v1/alerts and /metrics read records and config together under mu,
     * and a record's rule index is only meaningful with its own rule set
     * (a new index read with the old set picked the wrong rule, or read
     * past a tenant's override array). TSan saw these writes race. */
    pthread_mutex_lock(&e->mu);
    for (uint32_t i = 1; i < e->nrecs; i++) {
        struct arec *r = rec__get(e, i);
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
        if (r->nstatus == ST_FIRING) {
            struct alert_instance a;
            eval__instance(e, k, old, &a);
            a.v = r->v;
            a.status = ALERT_STATUS_RESOLVED;
            a.severity = r->nseverity;
            a.starts_ms = r->starts_ms;
            a.ends_ms = now;
            a.rule_removed = 1;
            if (vec__push((void **)&gone, &ngone, &capgone, sizeof(a), &a) != MP_OK)
                eval__deliver(e, tenant, &a, 1, now); /* alone, but told */
        }
        r->status = r->nstatus = ST_INACTIVE;
        /* A queued record is still listed in its tenant's group: unlist it.
         * Left there, its index, reused by the next new alert of any tenant,
         * went out with this tenant's group, to this tenant's receivers
         * (and was then "already told" for its own tenant). */
        if (r->queued)
            group__unlist(e, tenant, i);
        r->queued = 0;
        state__save(e, i); /* deletes, keyed by the old rule's name */
        r->key_id = 0;     /* not in the new slot array */
        rec__free(e, i);
    }
    eval__deliver_by_tenant(e, gone, ngone, now); /* old routes, as before */
    free(gone);
    /* queued records keep their queue entries: indices are unchanged */
    struct eval_cfg old = e->cfg;
    e->cfg = *nc;
    free(e->slot);
    e->slot = nslot;
    e->nrules = nn;
    pthread_mutex_unlock(&e->mu);
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
    return MP_OK;
}

/* ---- restore ---- */

/* A resolve owed at start for an alert whose rule or key is gone: one block
 * holds everything the notification needs (the instance points into it). */
struct gone_alert {
    struct alert_rule rule; /* the rule, or a stand-in when it left the rules file */
    char key[400];          /* the state's key: rule, scope, tenant, name */
    struct alert_instance a;
};

struct restore_ctx {
    struct alert_eval *e;
    int64_t now;
    size_t dropped;
    struct gone_alert **gone; /* told together, per tenant, after the scan */
    size_t ngone, capgone;
};

/* Owes a resolve for stored alert `st` (key `key`, whose tenant and name
 * start at the given offsets); `live` is its rule, NULL when the rule left
 * the rules file. */
static void eval__owe_resolve(struct restore_ctx *c, const struct alert_rule *live,
                              const char *key, size_t kl, size_t tenant_off, size_t name_off,
                              int scope, const struct stored *st)
{
    struct gone_alert *g = calloc(1, sizeof(*g));
    if (!g) {
        mp_error("alert_resolve_nomem tenant=%s", key + tenant_off);
        return;
    }
    memcpy(g->key, key, kl + 1);
    if (live) {
        g->rule = *live;
    } else {
        /* Its config is gone. Receivers know the alert by its name (the
         * fingerprint is built from it) and its alertname, stored with the
         * state since version 2 (before: the name); the notification says
         * the rule was removed instead of describing a window. */
        /* names are shorter than ALERT_NAME_MAX (the rules loader checks) */
        snprintf(g->rule.name, sizeof(g->rule.name), "%.*s", ALERT_NAME_MAX - 1, key);
        snprintf(g->rule.alertname, sizeof(g->rule.alertname), "%.*s", ALERT_NAME_MAX - 1,
                 st->alertname[0] ? st->alertname : key);
        g->a.rule_removed = 1;
    }
    g->a.rule = &g->rule;
    g->a.status = ALERT_STATUS_RESOLVED;
    g->a.severity = st->nseverity;
    g->a.starts_ms = st->starts_ms;
    g->a.ends_ms = c->now;
    g->a.tenant = g->key + tenant_off;
    g->a.mailbox = scope == ENG_SCOPE_MAILBOX ? g->key + name_off : NULL;
    g->a.domain = scope == ENG_SCOPE_DOMAIN ? g->key + name_off : NULL;
    g->a.v.num = st->num;
    g->a.v.den = st->den;
    g->a.v.base_num = st->base_num;
    g->a.v.base_den = st->base_den;
    g->a.v.value_ppb = st->value_ppb;
    if (vec__push((void **)&c->gone, &c->ngone, &c->capgone, sizeof(g), &g) != MP_OK) {
        eval__deliver(c->e, g->a.tenant, &g->a, 1, c->now); /* alone, but told */
        free(g);
    }
}

/* Tells the owed resolves, one request per tenant and receiver, and frees them. */
static void eval__tell_gone(struct restore_ctx *c)
{
    struct alert_instance *a = c->ngone ? malloc(c->ngone * sizeof(*a)) : NULL;
    for (size_t x = 0; a && x < c->ngone; x++)
        a[x] = c->gone[x]->a;
    if (a)
        eval__deliver_by_tenant(c->e, a, c->ngone, c->now);
    else
        for (size_t x = 0; x < c->ngone; x++)
            eval__deliver(c->e, c->gone[x]->a.tenant, &c->gone[x]->a, 1, c->now);
    free(a);
    for (size_t x = 0; x < c->ngone; x++)
        free(c->gone[x]);
    free(c->gone);
    c->gone = NULL;
    c->ngone = c->capgone = 0;
}

static int eval__restore_one(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    struct restore_ctx *c = arg;
    struct alert_eval *e = c->e;
    char key[400];
    struct stored st;
    memset(&st, 0, sizeof(st));
    if (kl >= sizeof(key) || (vl != sizeof(st) && vl != STORED_V1_SIZE)) {
        mp_warn("alert_state_unreadable key_len=%zu value_len=%zu", kl, vl);
        return MP_OK;
    }
    memcpy(key, k, kl);
    key[kl] = '\0';
    memcpy(&st, v, vl);
    st.alertname[sizeof(st.alertname) - 1] = '\0';
    const char *rule = key;
    size_t rl = strlen(rule);
    if (rl + 2 > kl || st.ver != (vl == STORED_V1_SIZE ? 1 : 2)) {
        mp_warn("alert_state_unreadable rule=%s", rule);
        return MP_OK;
    }
    int scope = key[rl + 1] - '0';
    const char *tenant = key + rl + 2;
    const char *name = tenant + strlen(tenant) + 1;
    if (name > key + kl)
        name = key + kl;
    int ri = alert_ruleset_find(e->cfg.rules, rule);
    struct eng_key *ek = NULL;
    if (scope < 0 || scope >= ENG_NSCOPES || ri < 0 ||
        eng_table_find(e->t, scope, tenant, scope == ENG_SCOPE_TENANT ? NULL : name, &ek) != MP_OK) {
        /* The rule or the key is gone: what receivers were told fires is
         * resolved now (an alert whose rule left the file used to be dropped
         * in silence and stayed open at its receivers for good). */
        if (st.nstatus == ST_FIRING)
            eval__owe_resolve(c, ri >= 0 ? &alert_ruleset_for(e->cfg.rules, tenant)[ri] : NULL,
                              key, kl, (size_t)(tenant - key), (size_t)(name - key), scope, &st);
        if (ri < 0)
            mp_warn("alert_state_dropped rule=%s tenant=%s why=\"rule no longer exists\" "
                    "resolve_owed=%s",
                    rule, tenant, st.nstatus == ST_FIRING ? "yes" : "no");
        if (e->wb)
            eng_store_batch_kv_del(e->wb, ENG_KV_ALERTS, k, kl);
        c->dropped++;
        return MP_OK;
    }
    pthread_mutex_lock(&e->mu);
    uint32_t i = rec__new(e, eng_key_id(ek), (size_t)ri);
    if (i) {
        struct arec *r = rec__get(e, i);
        r->status = st.status;
        r->severity = st.severity;
        r->nstatus = st.nstatus;
        r->nseverity = st.nseverity;
        r->since_ms = st.since_ms;
        r->starts_ms = st.starts_ms;
        r->ends_ms = st.ends_ms;
        r->notified_ms = st.notified_ms;
        r->v.num = st.num;
        r->v.den = st.den;
        r->v.base_num = st.base_num;
        r->v.base_den = st.base_den;
        r->v.value_ppb = st.value_ppb;
        r->v.severity = st.severity;
        r->v.enough = 1;
    }
    pthread_mutex_unlock(&e->mu);
    if (!i)
        return MP_ERR_NOMEM;
    struct arec *r = rec__get(e, i);
    /* decided before the restart but never handed to the outbox: send now */
    if ((r->status == ST_FIRING) != (r->nstatus == ST_FIRING) ||
        (r->status == ST_FIRING && r->severity != r->nseverity))
        eval__queue(e, i, tenant);
    mp_add_relaxed(&e->restored, 1);
    return MP_OK;
}

/* ---- thread ---- */

static void *eval__main(void *arg)
{
    struct alert_eval *e = arg;
    int64_t last_sweep = mp_mono_ns();
    for (;;) {
        int stopping = (int)mp_load_acquire(&e->stop);
        struct eval_pass p = {e, mp_now_ms()};
        pthread_mutex_lock(&e->reload_mu);
        struct eval_cfg nc = e->next;
        int has = e->has_next;
        e->has_next = 0;
        memset(&e->next, 0, sizeof(e->next));
        pthread_mutex_unlock(&e->reload_mu);
        if (has)
            eval__switch(e, &nc, p.now);
        size_t n = eng_table_drain_dirty(e->t, eval__key, &p);
        int64_t mono = mp_mono_ns();
        if (mono - last_sweep >= 1000000000LL) {
            eval__sweep(e, p.now);
            last_sweep = mono;
        }
        eval__flush(e, p.now, stopping);
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

static void eval__free(struct alert_eval *e)
{
    cfg__free(&e->cfg);
    if (e->has_next)
        cfg__free(&e->next);
    for (size_t i = 0; i < e->capgroups; i++) {
        if (e->groups[i]) {
            free(e->groups[i]->tenant);
            free(e->groups[i]->recs);
            free(e->groups[i]);
        }
    }
    for (size_t x = 0; x < e->nnotes; x++) {
        free(e->notes[x].body);
        free((char *)e->notes[x].receiver);
        free((char *)e->notes[x].tenant);
        free((char *)e->notes[x].idem);
    }
    free(e->notes);
    free(e->groups);
    free(e->busy);
    free(e->dirty);
    free(e->slot);
    free(e->recs);
    free(e->slow_at);
    free(e->slow_mark);
    free(e->slow_pend);
    eng_store_batch_free(e->wb);
    pthread_mutex_destroy(&e->mu);
    pthread_mutex_destroy(&e->reload_mu);
    free(e);
}

int alert_eval_start(struct eng_table *t, struct alert_sender *s,
                     const struct alert_eval_opts *opts, struct alert_eval **out)
{
    int rc = MP_ERR_NOMEM;
    struct alert_eval *e = calloc(1, sizeof(*e));
    if (!e) {
        alert_ruleset_free(opts->rules);
        alert_routes_destroy(opts->routes);
        return MP_ERR_NOMEM;
    }
    pthread_mutex_init(&e->mu, NULL);
    pthread_mutex_init(&e->reload_mu, NULL);
    e->t = t;
    e->s = s;
    e->store = opts->store;
    e->max_keys = opts->max_keys;
    e->group_ms = opts->group_interval_ms > 0 ? opts->group_interval_ms : 1000;
    e->cfg.rules = opts->rules;
    e->cfg.routes = opts->routes;
    if (!opts->rules || !opts->routes) {
        rc = MP_ERR_INVAL;
        goto err;
    }
    e->nrules = alert_ruleset_count(opts->rules);
    if (e->nrules == 0 || e->nrules > ALERT_RULES_MAX) {
        rc = MP_ERR_INVAL;
        goto err;
    }
    if (cfg__copy_receivers(&e->cfg, opts->receivers, opts->nreceivers) != MP_OK)
        goto err;
    e->slot = calloc(((size_t)opts->max_keys + 1) * e->nrules, sizeof(*e->slot));
    e->slow_at = calloc((size_t)opts->max_keys + 1, sizeof(*e->slow_at));
    e->slow_mark = calloc((size_t)opts->max_keys + 1, sizeof(*e->slow_mark));
    if (!e->slot || !e->slow_at || !e->slow_mark)
        goto err;
    if (e->store) {
        if (!(e->wb = eng_store_batch_new(e->store)))
            goto err;
        struct restore_ctx c = {.e = e, .now = mp_now_ms()};
        rc = eng_store_kv_scan(e->store, ENG_KV_ALERTS, NULL, 0, eval__restore_one, &c);
        if (rc == MP_OK)
            eval__tell_gone(&c);
        for (size_t x = 0; x < c.ngone; x++) /* left only when the scan failed */
            free(c.gone[x]);
        free(c.gone);
        if (rc != MP_OK)
            goto err;
        mp_info("alert_state_restored alerts=%llu dropped=%zu",
                (unsigned long long)mp_load_relaxed(&e->restored), c.dropped);
        eval__flush(e, c.now, 1);
    }
    if (pthread_create(&e->tid, NULL, eval__main, e) != 0) {
        rc = MP_ERR_STATE;
        goto err;
    }
    e->started = 1;
    *out = e;
    return MP_OK;
err:
    eval__free(e);
    return rc;
}

void alert_eval_stop(struct alert_eval *e)
{
    if (!e)
        return;
    mp_store_release(&e->stop, 1);
    if (e->started)
        pthread_join(e->tid, NULL);
    eval__free(e);
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

/* ---- /v1/alerts ---- */

struct active_row {
    const char *tenant, *rule, *name;
    int scope;
    json_t *obj;
};

static int active__cmp(const void *x, const void *y)
{
    const struct active_row *a = x, *b = y;
    int c = strcmp(a->tenant, b->tenant);
    if (!c)
        c = strcmp(a->rule, b->rule);
    if (!c)
        c = a->scope - b->scope;
    if (!c)
        c = strcmp(a->name, b->name);
    return c;
}

char *alert_eval_active_json(struct alert_eval *e, const char *tenant)
{
    json_t *root = json_object(), *list = json_array();
    struct active_row *rows = NULL;
    size_t nrows = 0, caprows = 0;
    char *out = NULL;
    pthread_mutex_lock(&e->mu);
    for (uint32_t i = 1; i < e->nrecs; i++) {
        const struct arec *r = &e->recs[i];
        if (!r->used || r->status == ST_INACTIVE)
            continue;
        struct eng_key *k = eng_table_key(e->t, r->key_id);
        if (!k)
            continue;
        const char *ten = eng_key_tenant(e->t, k);
        if (tenant && strcmp(ten, tenant) != 0)
            continue;
        const struct alert_rule *rule = &alert_ruleset_for(e->cfg.rules, ten)[r->rule];
        struct alert_instance a;
        eval__instance(e, k, rule, &a);
        a.v = r->v;
        a.status = ALERT_STATUS_FIRING;
        a.severity = r->severity;
        a.starts_ms = r->status == ST_FIRING ? r->starts_ms : r->since_ms;
        json_t *o = alert_notify_alert_json(&a);
        if (!o)
            continue;
        char ts[40];
        /* one field for the state: the webhook entry's status, which here
         * may also be "pending" */
        json_object_set_new(o, "status", json_string(r->status == ST_FIRING ? "firing" : "pending"));
        alert_format_time(r->notified_ms, ts, sizeof(ts));
        json_object_set_new(o, "lastNotifiedAt", json_string(r->notified_ms ? ts : ""));
        const char *name = eng_key_name(e->t, k);
        struct active_row row = {ten, rule->name, name ? name : "", eng_key_scope(k), o};
        if (vec__push((void **)&rows, &nrows, &caprows, sizeof(row), &row) != MP_OK)
            json_decref(o);
    }
    if (rows)
        qsort(rows, nrows, sizeof(*rows), active__cmp);
    pthread_mutex_unlock(&e->mu);
    for (size_t x = 0; x < nrows; x++)
        json_array_append_new(list, rows[x].obj);
    free(rows);
    json_object_set_new(root, "alerts", list);
    out = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return out;
}
