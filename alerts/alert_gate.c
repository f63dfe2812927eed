/* alert_gate.c — the send gate (see alert_gate.h).
 *
 * Two sides. The writer (sync, one thread at a time under sync_mu) keeps the
 * pauses in `recs`, sorted by (tenant, scope, name, rule), and merges each
 * sync's firing alerts into them in one pass over both sorted lists. When
 * anything changed it copies the pauses into a fresh immutable snapshot and
 * swaps it in under the write lock, which is held for the pointer swap only.
 * Readers take the read lock for a binary search and a copy of what they
 * found. The rwlock prefers writers, so a flood of decisions never holds a
 * new snapshot back.
 */
#include "alert_gate.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert_notify.h"
#include "mp_atomic.h"
#include "mp_buf.h"
#include "mp_log.h"
#include "mp_thread.h"
#include "mp_wake.h"

struct gate_rec {
    struct alert_gate_pause p;
    struct alert_rule rule; /* for the silence check: its labels */
};

struct gate_snap {
    size_t n;
    struct alert_gate_pause p[]; /* sorted as recs */
};

struct alert_gate {
    struct alert_gate_opts o;
    pthread_rwlock_t rw;
    struct gate_snap *snap; /* under rw */

    pthread_mutex_t sync_mu; /* one sync at a time; guards recs and the scratch */
    struct gate_rec *recs, *next;
    size_t n, cap, capnext;
    const struct alert_gate_alert **in;
    size_t capin;

    /* alert_gate_run */
    struct alert_eval *eval;
    pthread_t tid;
    int running;
    mp_atomic_u32 stop;
    struct mp_wake wake; /* the evaluator and the silences notify it */
    struct alert_gate_alert *buf;
    size_t nbuf, capbuf;

    /* figures: relaxed counts, each on its own */
    mp_atomic_u64 events[ALERT_GATE_NEVENTS], decisions, decisions_paused, syncs, npaused,
        ncooling;
};

static const char *const gate__scopes[ALERT_GATE_NSCOPES] = {
    "tenant", "mailbox", "recipient_domain", "provider", "mailbox_provider"};
static const char *const gate__events[ALERT_GATE_NEVENTS] = {"paused", "cooling", "rearmed",
                                                             "lifted", "silenced"};

const char *alert_gate_scope_name(int scope)
{
    return scope >= 0 && scope < ALERT_GATE_NSCOPES ? gate__scopes[scope] : "unknown";
}

const char *alert_gate_event_name(int event)
{
    return event >= 0 && event < ALERT_GATE_NEVENTS ? gate__events[event] : "unknown";
}

static int gate__cmp_key(const char *tenant, int scope, const char *name, const char *rule,
                         const struct alert_gate_pause *p)
{
    int c = strcmp(tenant, p->tenant);
    if (!c)
        c = scope - p->scope;
    if (!c)
        c = strcmp(name, p->name);
    if (!c && rule)
        c = strcmp(rule, p->rule);
    return c;
}

static int gate__cmp_in(const void *x, const void *y)
{
    const struct alert_gate_alert *a = *(const struct alert_gate_alert *const *)x;
    const struct alert_gate_alert *b = *(const struct alert_gate_alert *const *)y;
    int c = strcmp(a->tenant, b->tenant);
    if (!c)
        c = a->scope - b->scope;
    if (!c)
        c = strcmp(a->name, b->name);
    if (!c)
        c = strcmp(a->rule.name, b->rule.name);
    return c;
}

/* The scope of instance a, and its name (mailbox_provider: "mailbox/provider"
 * into buf); -1 for a campaign alert, which no send can match. */
static int gate__scope_of(const struct alert_instance *a, char *buf, size_t cap,
                          const char **name)
{
    if (a->campaign)
        return -1;
    if (a->mailbox && a->provider) {
        int n = snprintf(buf, cap, "%s/%s", a->mailbox, a->provider);
        *name = buf;
        return n >= 0 && (size_t)n < cap ? ALERT_GATE_MAILBOX_PROVIDER : -1;
    }
    *name = a->mailbox ? a->mailbox : a->domain ? a->domain : a->provider ? a->provider : "";
    return a->mailbox ? ALERT_GATE_MAILBOX : a->domain ? ALERT_GATE_DOMAIN
           : a->provider ? ALERT_GATE_PROVIDER : ALERT_GATE_TENANT;
}

int alert_gate_from_instance(const struct alert_instance *a, struct alert_gate_alert *out)
{
    const char *name = "";
    memset(out, 0, sizeof(*out));
    int scope = gate__scope_of(a, out->name, sizeof(out->name), &name);
    if (scope < 0 || !a->rule || !a->tenant || strlen(a->tenant) >= sizeof(out->tenant) ||
        strlen(name) >= sizeof(out->name))
        return -1;
    out->rule = *a->rule;
    out->severity = a->severity;
    out->scope = scope;
    memcpy(out->tenant, a->tenant, strlen(a->tenant) + 1);
    memmove(out->name, name, strlen(name) + 1);
    out->starts_ms = a->starts_ms;
    alert_notify_summary(a, out->summary, sizeof(out->summary));
    return 0;
}

int alert_gate_new(const struct alert_gate_opts *opts, struct alert_gate **out)
{
    struct alert_gate *g = calloc(1, sizeof(*g));
    pthread_rwlockattr_t attr;
    if (!g || !(g->snap = calloc(1, sizeof(*g->snap)))) {
        free(g);
        return MP_ERR_NOMEM;
    }
    g->o = opts ? *opts : (struct alert_gate_opts){0};
    if (g->o.cool_down_ms == 0)
        g->o.cool_down_ms = ALERT_GATE_COOL_DOWN_DEFAULT_MS;
    if (g->o.period_ms <= 0)
        g->o.period_ms = ALERT_GATE_PERIOD_DEFAULT_MS;
    pthread_rwlockattr_init(&attr);
    /* glibc's default lets a steady stream of readers starve the writer */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&g->rw, &attr);
    pthread_rwlockattr_destroy(&attr);
    pthread_mutex_init(&g->sync_mu, NULL);
    *out = g;
    return MP_OK;
}

void alert_gate_free(struct alert_gate *g)
{
    if (!g)
        return;
    alert_gate_stop(g);
    pthread_rwlock_destroy(&g->rw);
    pthread_mutex_destroy(&g->sync_mu);
    free(g->snap);
    free(g->recs);
    free(g->next);
    free(g->in);
    free(g->buf);
    free(g);
}

/* ---- the writer side ---- */

/* 1 when an active silence mutes the alert behind pause r now. */
static int gate__muted(const struct alert_gate *g, const struct gate_rec *r, int64_t now)
{
    if (!g->o.silences)
        return 0;
    struct alert_instance a = {.rule = &r->rule,
                               .status = ALERT_STATUS_FIRING,
                               .severity = r->p.severity,
                               .tenant = r->p.tenant};
    char mbox[ALERT_GATE_NAME_MAX];
    const char *slash = strrchr(r->p.name, '/'); /* the provider never holds one */
    if (r->p.scope == ALERT_GATE_MAILBOX)
        a.mailbox = r->p.name;
    else if (r->p.scope == ALERT_GATE_DOMAIN)
        a.domain = r->p.name;
    else if (r->p.scope == ALERT_GATE_PROVIDER)
        a.provider = r->p.name;
    else if (r->p.scope == ALERT_GATE_MAILBOX_PROVIDER && slash) {
        snprintf(mbox, sizeof(mbox), "%.*s", (int)(slash - r->p.name), r->p.name);
        a.mailbox = mbox;
        a.provider = slash + 1;
    }
    return alert_silence_mutes_instance(g->o.silences, &a, now);
}

static void gate__event(struct alert_gate *g, int ev, const struct gate_rec *r, int64_t now)
{
    const struct alert_gate_pause *p = &r->p;
    mp_add_relaxed(&g->events[ev], 1);
    mp_info("gate_%s scope=%s tenant=%s name=%s rule=%s severity=%s lifts_in_ms=%lld",
            gate__events[ev], gate__scopes[p->scope], MP_LOG_Q(p->tenant),
            MP_LOG_Q(p->name[0] ? p->name : "-"), MP_LOG_Q(p->rule),
            alert_severity_name(p->severity), (long long)(p->cooling ? p->lift_ms - now : 0));
    if (g->o.on_change) {
        struct alert_gate_change c = {ev, p};
        g->o.on_change(g->o.change_arg, &c);
    }
}

static void gate__fill(struct gate_rec *r, const struct alert_gate_alert *a)
{
    r->rule = a->rule;
    r->p.severity = a->severity;
    memcpy(r->p.summary, a->summary, sizeof(r->p.summary));
}

static void gate__new_rec(struct gate_rec *r, const struct alert_gate_alert *a, int64_t now)
{
    memset(r, 0, sizeof(*r));
    r->p.scope = a->scope;
    memcpy(r->p.tenant, a->tenant, sizeof(r->p.tenant));
    memcpy(r->p.name, a->name, sizeof(r->p.name));
    snprintf(r->p.rule, sizeof(r->p.rule), "%s", a->rule.name);
    snprintf(r->p.alertname, sizeof(r->p.alertname), "%s",
             a->rule.alertname[0] ? a->rule.alertname : a->rule.name);
    r->p.since_ms = now;
    gate__fill(r, a);
}

/* A pause whose alert no longer fires (or is silenced): 1 to keep it. */
static int gate__unfired(struct alert_gate *g, struct gate_rec *r, int64_t now, int *changed)
{
    if (gate__muted(g, r, now)) {
        gate__event(g, ALERT_GATE_SILENCED, r, now);
    } else if (!r->p.cooling && g->o.cool_down_ms > 0) {
        r->p.cooling = 1;
        r->p.resolved_ms = now;
        r->p.lift_ms = now + g->o.cool_down_ms;
        gate__event(g, ALERT_GATE_COOLING, r, now);
        *changed = 1;
        return 1;
    } else if (r->p.cooling && now < r->p.lift_ms) {
        return 1;
    } else {
        gate__event(g, ALERT_GATE_LIFTED, r, now);
    }
    *changed = 1;
    return 0;
}

/* The firing alerts a gate applies to, sorted, one per key. */
static size_t gate__eligible(struct alert_gate *g, const struct alert_gate_alert *a, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int gs = a[i].rule.gate_sev;
        if (!gs || (gs == ALERT_SEV_CRITICAL && a[i].severity != ALERT_SEV_CRITICAL) ||
            a[i].scope < 0 || a[i].scope >= ALERT_GATE_NSCOPES || !a[i].tenant[0])
            continue;
        g->in[m++] = &a[i];
    }
    qsort(g->in, m, sizeof(*g->in), gate__cmp_in);
    size_t u = 0;
    for (size_t i = 0; i < m; i++)
        if (!u || gate__cmp_in(&g->in[u - 1], &g->in[i]) != 0)
            g->in[u++] = g->in[i];
    return u;
}

static int gate__publish(struct alert_gate *g)
{
    struct gate_snap *s = malloc(sizeof(*s) + (g->n ? g->n : 1) * sizeof(s->p[0]));
    uint64_t cooling = 0;
    if (!s)
        return MP_ERR_NOMEM;
    s->n = g->n;
    for (size_t i = 0; i < g->n; i++) {
        s->p[i] = g->recs[i].p;
        cooling += (uint64_t)g->recs[i].p.cooling;
    }
    pthread_rwlock_wrlock(&g->rw);
    struct gate_snap *old = g->snap;
    g->snap = s;
    pthread_rwlock_unlock(&g->rw);
    free(old); /* no reader holds it: they read only under the read lock */
    mp_store_relaxed(&g->npaused, (uint64_t)g->n);
    mp_store_relaxed(&g->ncooling, cooling);
    return MP_OK;
}

/* Merges the sorted eligible alerts in[0..m) with the sorted pauses into
 * g->next; *changed when any decision or shown figure moved. */
static void gate__merge(struct alert_gate *g, size_t m, int64_t now, int *changed)
{
    size_t i = 0, j = 0, k = 0;
    while (i < m || j < g->n) {
        const struct alert_gate_alert *a = i < m ? g->in[i] : NULL;
        struct gate_rec *r = j < g->n ? &g->recs[j] : NULL;
        int c = !a ? 1 : !r ? -1 : gate__cmp_key(a->tenant, a->scope, a->name, a->rule.name, &r->p);
        struct gate_rec *w = &g->next[k];
        if (c < 0) { /* a new firing alert */
            gate__new_rec(w, a, now);
            i++;
            if (gate__muted(g, w, now))
                continue;
            gate__event(g, ALERT_GATE_PAUSED, w, now);
            *changed = 1;
            k++;
        } else if (c > 0) { /* a pause whose alert is no longer in the list */
            *w = *r;
            j++;
            k += (size_t)gate__unfired(g, w, now, changed);
        } else { /* still firing */
            *w = *r;
            i++;
            j++;
            *changed |= w->p.severity != a->severity;
            gate__fill(w, a);
            if (gate__muted(g, w, now)) {
                gate__event(g, ALERT_GATE_SILENCED, w, now);
                *changed = 1;
                continue;
            }
            if (w->p.cooling) {
                w->p.cooling = 0;
                w->p.lift_ms = w->p.resolved_ms = 0;
                gate__event(g, ALERT_GATE_REARMED, w, now);
                *changed = 1;
            }
            k++;
        }
    }
    struct gate_rec *t = g->recs;
    size_t tc = g->cap;
    g->recs = g->next;
    g->cap = g->capnext;
    g->next = t;
    g->capnext = tc;
    g->n = k;
}

int alert_gate_sync(struct alert_gate *g, const struct alert_gate_alert *a, size_t n,
                    int64_t now_ms)
{
    if (!g || (n && !a))
        return MP_ERR_INVAL;
    int changed = 0, rc = MP_OK;
    pthread_mutex_lock(&g->sync_mu);
    if (MP_GROW(g->in, g->capin, n + 1) != MP_OK ||
        MP_GROW(g->next, g->capnext, g->n + n + 1) != MP_OK) {
        rc = MP_ERR_NOMEM; /* the pauses stay as they were */
    } else {
        gate__merge(g, gate__eligible(g, a, n), now_ms, &changed);
        if (changed)
            rc = gate__publish(g);
    }
    pthread_mutex_unlock(&g->sync_mu);
    mp_add_relaxed(&g->syncs, 1);
    return rc;
}

/* ---- the thread ---- */

/* Under the evaluator's mu: copies the gated firing alerts. */
static void gate__collect(void *arg, const struct alert_instance *a)
{
    struct alert_gate *g = arg;
    if (!a->rule->gate_sev || MP_GROW(g->buf, g->capbuf, g->nbuf + 1) != MP_OK)
        return;
    if (alert_gate_from_instance(a, &g->buf[g->nbuf]) == 0)
        g->nbuf++;
}

/* Milliseconds until the first cooling pause lifts (INT64_MAX: none). */
static int64_t gate__next_lift_ms(struct alert_gate *g, int64_t now)
{
    int64_t best = INT64_MAX;
    pthread_mutex_lock(&g->sync_mu);
    for (size_t i = 0; i < g->n; i++)
        if (g->recs[i].p.cooling && g->recs[i].p.lift_ms - now < best)
            best = g->recs[i].p.lift_ms > now ? g->recs[i].p.lift_ms - now : 0;
    pthread_mutex_unlock(&g->sync_mu);
    return best;
}

/* Syncs when told (an alert fired, resolved or changed severity; a silence
 * came or was expired), when a cooling pause is due to lift, and at least
 * every period (silences that run out by time, rules reloaded); at most
 * once per ALERT_GATE_SYNC_MIN_MS, so a storm of changes costs a bounded
 * number of syncs. Idle, it sleeps. */
static void *gate__main(void *arg)
{
    struct alert_gate *g = arg;
    mp_thread_name("mp-gate", -1);
    while (!mp_load_acquire(&g->stop)) {
        int64_t t0 = mp_mono_ns();
        uint32_t seen = mp_wake_prepare(&g->wake); /* a notify from here on wakes the wait */
        g->nbuf = 0;
        alert_eval_each_firing(g->eval, gate__collect, g);
        int64_t now = mp_now_ms();
        if (alert_gate_sync(g, g->buf, g->nbuf, now) != MP_OK)
            mp_error("gate_sync_nomem alerts=%zu", g->nbuf);
        int64_t ms = gate__next_lift_ms(g, now);
        if (ms > g->o.period_ms)
            ms = g->o.period_ms;
        if (ms < ALERT_GATE_SYNC_MIN_MS)
            ms = ALERT_GATE_SYNC_MIN_MS;
        struct timespec gap = {0, ALERT_GATE_SYNC_MIN_MS * 1000000L};
        nanosleep(&gap, NULL); /* changes meanwhile are one sync, not many */
        if (!mp_load_acquire(&g->stop))
            mp_wake_wait(&g->wake, seen, t0 + ms * 1000000LL - mp_mono_ns());
        mp_wake_done(&g->wake);
    }
    return NULL;
}

int alert_gate_run(struct alert_gate *g, struct alert_eval *e)
{
    if (!g || !e || g->running)
        return MP_ERR_INVAL;
    g->eval = e;
    if (pthread_create(&g->tid, NULL, gate__main, g) != 0)
        return MP_ERR_STATE;
    g->running = 1;
    alert_eval_watch(e, &g->wake);
    if (g->o.silences)
        alert_silences_watch(g->o.silences, &g->wake);
    return MP_OK;
}

void alert_gate_stop(struct alert_gate *g)
{
    if (!g || !g->running)
        return;
    /* nobody notifies the wake word past these two calls */
    alert_eval_watch(g->eval, NULL);
    if (g->o.silences)
        alert_silences_watch(g->o.silences, NULL);
    mp_store_release(&g->stop, 1);
    mp_wake_notify(&g->wake);
    mp_thread_stop(&g->stop, 1, g->tid);
    g->running = 0;
}

/* ---- readers ---- */

/* First index in s whose key is >= (tenant, scope, name). */
static size_t gate__lower(const struct gate_snap *s, const char *tenant, int scope,
                          const char *name)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (gate__cmp_key(tenant, scope, name, NULL, &s->p[mid]) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int64_t gate__retry_s(const struct alert_gate *g, const struct alert_gate_pause *p,
                             int64_t now)
{
    int64_t ms = p->cooling ? p->lift_ms - now : g->o.cool_down_ms;
    int64_t s = (ms + 999) / 1000;
    return s < 1 ? 1 : s;
}

int alert_gate_decide(struct alert_gate *g, const struct alert_gate_query *q, int64_t now_ms,
                      struct alert_gate_answer *out)
{
    if (!g || !q || !q->tenant || !out)
        return MP_ERR_INVAL;
    char mbp[2 * ALERT_GATE_NAME_MAX];
    const char *names[ALERT_GATE_NSCOPES] = {"", q->mailbox, q->domain, q->provider, NULL};
    if (q->mailbox && q->provider &&
        (size_t)snprintf(mbp, sizeof(mbp), "%s/%s", q->mailbox, q->provider) < sizeof(mbp))
        names[ALERT_GATE_MAILBOX_PROVIDER] = mbp;
    out->decision = ALERT_GATE_ALLOW;
    out->nreasons = out->nshown = 0;
    out->retry_after_s = 0;
    pthread_rwlock_rdlock(&g->rw);
    const struct gate_snap *s = g->snap;
    for (int sc = 0; s->n && sc < ALERT_GATE_NSCOPES; sc++) {
        if (!names[sc])
            continue;
        for (size_t i = gate__lower(s, q->tenant, sc, names[sc]);
             i < s->n && gate__cmp_key(q->tenant, sc, names[sc], NULL, &s->p[i]) == 0; i++) {
            int64_t r = gate__retry_s(g, &s->p[i], now_ms);
            if (r > out->retry_after_s)
                out->retry_after_s = r;
            if (out->nshown < ALERT_GATE_REASONS_MAX)
                out->reasons[out->nshown++] = s->p[i];
            out->nreasons++;
        }
    }
    pthread_rwlock_unlock(&g->rw);
    mp_add_relaxed(&g->decisions, 1);
    if (out->nreasons) {
        out->decision = ALERT_GATE_PAUSE;
        mp_add_relaxed(&g->decisions_paused, 1);
    }
    return MP_OK;
}

json_t *alert_gate_pause_json(const struct alert_gate_pause *p)
{
    char since[40], lifts[40];
    static const char *const field[ALERT_GATE_NSCOPES] = {NULL, "mailbox", "recipient_domain",
                                                          "provider", NULL};
    alert_format_time(p->since_ms, since, sizeof(since));
    alert_format_time(p->lift_ms, lifts, sizeof(lifts));
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "scope",
                          gate__scopes[p->scope], "tenant", p->tenant, "rule", p->rule,
                          "alertname", p->alertname, "severity", alert_severity_name(p->severity),
                          "state", p->cooling ? "cooling_down" : "paused", "since", since,
                          "reason", p->summary);
    const char *slash = strrchr(p->name, '/'); /* mailbox_provider: "mailbox/provider" */
    if (o && field[p->scope])
        json_object_set_new(o, field[p->scope], json_string(p->name));
    if (o && p->scope == ALERT_GATE_MAILBOX_PROVIDER && slash) {
        json_object_set_new(o, "mailbox", json_stringn(p->name, (size_t)(slash - p->name)));
        json_object_set_new(o, "provider", json_string(slash + 1));
    }
    if (o)
        json_object_set_new(o, "lifts_at", p->cooling ? json_string(lifts) : json_null());
    return o;
}

char *alert_gate_pauses_json(struct alert_gate *g, const char *tenant, int64_t now_ms)
{
    MP_UNUSED(now_ms);
    struct alert_gate_pause *copy = NULL;
    size_t n = 0;
    pthread_rwlock_rdlock(&g->rw);
    const struct gate_snap *s = g->snap;
    if (s->n && (copy = malloc(s->n * sizeof(*copy))))
        for (size_t i = 0; i < s->n; i++)
            if (!tenant || strcmp(tenant, s->p[i].tenant) == 0)
                copy[n++] = s->p[i];
    pthread_rwlock_unlock(&g->rw);
    json_t *root = json_object(), *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, alert_gate_pause_json(&copy[i]));
    free(copy);
    json_object_set_new(root, "pauses", list);
    char *out = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    return out;
}

void alert_gate_figures(struct alert_gate *g, struct alert_gate_figures *out)
{
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < ALERT_GATE_NEVENTS; i++)
        out->events[i] = mp_load_relaxed(&g->events[i]);
    out->paused = mp_load_relaxed(&g->npaused);
    out->cooling = mp_load_relaxed(&g->ncooling);
    out->decisions = mp_load_relaxed(&g->decisions);
    out->decisions_paused = mp_load_relaxed(&g->decisions_paused);
    out->syncs = mp_load_relaxed(&g->syncs);
}
