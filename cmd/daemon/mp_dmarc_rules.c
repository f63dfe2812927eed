/* mp_dmarc_rules.c — see mp_dmarc_rules.h.
 *
 * One evaluation of a tenant: one scan of its rows over the widest window
 * (14 days and the 2 ahead), summed per key and per day, so each rule sums
 * its own days; then, per (rule, key), the severity the counts reach with
 * the hysteresis of alert_dmarc_next, told when it differs from what was
 * told last. What was told lives here (a list the thread alone touches);
 * keys with a state are evaluated even when the scan no longer finds them,
 * which is how days leaving the window resolve.
 */
#include "mp_dmarc_rules.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert_dmarc.h"
#include "alert_external.h"
#include "eng_dmarc.h"
#include "eng_name.h"
#include "mp_atomic.h"
#include "mp_buf.h"
#include "mp_config_gate.h"
#include "mp_log.h"
#include "mp_thread.h"

#define DR_AHEAD 2                         /* days a report may end ahead (MP_DMARC_FUTURE_S) */
#define DR_DAYS (14 + DR_AHEAD)            /* the widest window and the days ahead */

struct dr_key {
    char domain[254], reporter[33]; /* reporter "": the domain over all reporters */
    uint64_t c[DR_DAYS][ENG_DMARC_NCOUNTS]; /* [hi - day] */
};

struct dr_state {
    char rule[ALERT_NAME_MAX], alertname[ALERT_NAME_MAX];
    char *tenant;
    char domain[254], reporter[33];
    int sev;
};

struct dr_tenant {
    char *name;
    int dirty;
};

struct mp_dmarc_rules {
    struct eng_dmarc *d;
    struct alert_eval *eval;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* under mu */
    struct alert_ruleset *pending; /* a reload's rules, taken at the next turn */
    struct dr_tenant *tenants;
    size_t ntenants, captenants;
    int stop;
    /* the thread's */
    struct alert_ruleset *rules;
    struct dr_state *st;
    size_t nst, capst;
    struct dr_key *keys;
    size_t nkeys, capkeys;
    int64_t today;
    pthread_t tid;
    int started;
    mp_atomic_u64 evals, told;
};

/* ---- tenants (under mu) ---- */

static int dr__tenant_add(struct mp_dmarc_rules *m, const char *t)
{
    for (size_t i = 0; i < m->ntenants; i++)
        if (strcmp(m->tenants[i].name, t) == 0) {
            m->tenants[i].dirty = 1;
            return MP_OK;
        }
    char *c = strdup(t);
    if (!c || MP_GROW(m->tenants, m->captenants, m->ntenants + 1) != MP_OK) {
        free(c);
        return MP_ERR_NOMEM;
    }
    m->tenants[m->ntenants++] = (struct dr_tenant){c, 1};
    return MP_OK;
}

static void dr__all_dirty(struct mp_dmarc_rules *m)
{
    for (size_t i = 0; i < m->ntenants; i++)
        m->tenants[i].dirty = 1;
}

/* ---- one tenant ---- */

static struct dr_key *dr__key(struct mp_dmarc_rules *m, const char *domain, const char *reporter)
{
    for (size_t i = 0; i < m->nkeys; i++)
        if (strcmp(m->keys[i].domain, domain) == 0 && strcmp(m->keys[i].reporter, reporter) == 0)
            return &m->keys[i];
    if (MP_GROW(m->keys, m->capkeys, m->nkeys + 1) != MP_OK)
        return NULL;
    struct dr_key *k = &m->keys[m->nkeys++];
    memset(k, 0, sizeof(*k));
    snprintf(k->domain, sizeof(k->domain), "%s", domain);
    snprintf(k->reporter, sizeof(k->reporter), "%s", reporter);
    return k;
}

static int dr__row(void *arg, const struct eng_dmarc_row *row)
{
    struct mp_dmarc_rules *m = arg;
    int64_t at = m->today + DR_AHEAD - row->day;
    if (at < 0 || at >= DR_DAYS)
        return MP_OK;
    struct dr_key *k[2] = {dr__key(m, row->domain, ""), dr__key(m, row->domain, row->provider)};
    for (int j = 0; j < 2; j++) {
        if (!k[j])
            return MP_ERR_NOMEM;
        for (int i = 0; i < ENG_DMARC_NCOUNTS; i++)
            k[j]->c[at][i] += row->c[i];
    }
    return MP_OK;
}

static struct dr_state *dr__state(struct mp_dmarc_rules *m, const char *rule, const char *tenant,
                                  const struct dr_key *k)
{
    for (size_t i = 0; i < m->nst; i++) {
        struct dr_state *s = &m->st[i];
        if (strcmp(s->rule, rule) == 0 && strcmp(s->tenant, tenant) == 0 &&
            strcmp(s->domain, k->domain) == 0 && strcmp(s->reporter, k->reporter) == 0)
            return s;
    }
    return NULL;
}

/* Tells the evaluator (rule r or, r NULL, the state's gone rule) that key k
 * of tenant is at sev; MP_OK when queued. */
static int dr__tell(struct mp_dmarc_rules *m, const struct alert_rule *r, const char *alertname,
                    const char *tenant, const struct dr_key *k, int sev,
                    const struct alert_value *v)
{
    char summary[1024], value[32], msgs[24], cnt[24];
    struct alert_label labels[2] = {{"domain", k->domain}, {"reporter", k->reporter}};
    struct alert_label ann[5];
    size_t na = 0;
    if (r && sev != ALERT_SEV_NONE) {
        alert_format_rule_value(r, v->value_ppb, value, sizeof(value));
        snprintf(msgs, sizeof(msgs), "%llu", (unsigned long long)v->den);
        snprintf(cnt, sizeof(cnt), "%llu", (unsigned long long)v->num);
        snprintf(summary, sizeof(summary), "%s %s for tenant %s domain %s%s%s: %s %s of %s "
                 "messages in DMARC reports over %s (%s)",
                 r->alertname, sev == ALERT_SEV_CRITICAL ? "critical" : "warning", tenant,
                 k->domain, k->reporter[0] ? " reporter " : "", k->reporter, cnt, r->num_label,
                 r->kind == ALERT_KIND_DMARC_RATE ? msgs : "all", r->window.text, value);
        ann[na++] = (struct alert_label){"summary", summary};
        ann[na++] = (struct alert_label){"value", value};
        ann[na++] = (struct alert_label){r->num_label, cnt};
        if (r->kind == ALERT_KIND_DMARC_RATE)
            ann[na++] = (struct alert_label){"messages", msgs};
        ann[na++] = (struct alert_label){"window", r->window.text};
    }
    struct alert_external x = {.rule = alertname, .tenant = tenant, .severity = sev,
                               .gate_sev = r ? r->gate_sev : 0, .repeat_ms = r ? r->repeat_ms : 0,
                               .labels = labels, .nlabels = k->reporter[0] ? 2 : 1,
                               .annotations = ann, .nannotations = na};
    int rc = alert_eval_external(m->eval, &x);
    if (rc != MP_OK)
        mp_error("dmarc_alert_failed rule=%s tenant=%s domain=%s err=\"%s\"", alertname,
                 MP_LOG_Q(tenant), MP_LOG_Q(k->domain), mp_strerror(rc));
    else
        mp_add_relaxed(&m->told, 1);
    return rc;
}

/* Rule r on key k of tenant t: tells a change and records it. */
static void dr__judge(struct mp_dmarc_rules *m, const struct alert_rule *r, const char *t,
                      const struct dr_key *k)
{
    uint64_t c[ENG_DMARC_NCOUNTS] = {0};
    for (int at = 0; at < r->window.n + DR_AHEAD && at < DR_DAYS; at++)
        for (int i = 0; i < ENG_DMARC_NCOUNTS; i++)
            c[i] += k->c[at][i];
    struct alert_value v;
    alert_dmarc_eval(r, c, &v);
    struct dr_state *s = dr__state(m, r->name, t, k);
    int sev = alert_dmarc_next(r, s ? s->sev : ALERT_SEV_NONE, &v);
    if (s && s->sev == sev && strcmp(s->alertname, r->alertname) == 0)
        return;
    if (s && strcmp(s->alertname, r->alertname) != 0 && s->sev != ALERT_SEV_NONE &&
        dr__tell(m, NULL, s->alertname, t, k, ALERT_SEV_NONE, NULL) != MP_OK)
        return; /* renamed: the old name resolves first */
    if (dr__tell(m, r, r->alertname, t, k, sev, &v) != MP_OK)
        return; /* told again at the next evaluation */
    if (!s) {
        if (MP_GROW(m->st, m->capst, m->nst + 1) != MP_OK)
            return;
        s = &m->st[m->nst++];
        memset(s, 0, sizeof(*s));
        snprintf(s->rule, sizeof(s->rule), "%s", r->name);
        snprintf(s->domain, sizeof(s->domain), "%s", k->domain);
        snprintf(s->reporter, sizeof(s->reporter), "%s", k->reporter);
        if (!(s->tenant = strdup(t))) {
            m->nst--;
            return;
        }
    }
    snprintf(s->alertname, sizeof(s->alertname), "%s", r->alertname);
    s->sev = sev;
}

/* States of tenant t whose rule is gone: resolved and forgotten. */
static void dr__gone(struct mp_dmarc_rules *m, const char *t)
{
    for (size_t i = 0; i < m->nst;) {
        struct dr_state *s = &m->st[i];
        int idx = strcmp(s->tenant, t) == 0 ? alert_ruleset_find(m->rules, s->rule) : 0;
        if (idx >= 0) {
            i++;
            continue;
        }
        struct dr_key k = {0};
        snprintf(k.domain, sizeof(k.domain), "%s", s->domain);
        snprintf(k.reporter, sizeof(k.reporter), "%s", s->reporter);
        if (s->sev != ALERT_SEV_NONE &&
            dr__tell(m, NULL, s->alertname, t, &k, ALERT_SEV_NONE, NULL) != MP_OK) {
            i++;
            continue;
        }
        free(s->tenant);
        m->st[i] = m->st[--m->nst];
    }
}

static void dr__tenant(struct mp_dmarc_rules *m, const char *t)
{
    m->today = mp_now_ms() / 1000 / 86400;
    m->nkeys = 0;
    dr__gone(m, t);
    size_t n = alert_ruleset_count(m->rules);
    if (n == 0)
        return;
    int rc = eng_dmarc_scan(m->d, t, m->today + DR_AHEAD - DR_DAYS + 1, m->today + DR_AHEAD,
                            dr__row, m);
    for (size_t i = 0; rc == MP_OK && i < m->nst; i++) /* known keys the scan missed: zeros */
        if (strcmp(m->st[i].tenant, t) == 0 && !dr__key(m, m->st[i].domain, m->st[i].reporter))
            rc = MP_ERR_NOMEM;
    if (rc != MP_OK) { /* a partial read would resolve what still holds */
        mp_error("dmarc_rules_read_failed tenant=%s err=\"%s\"", MP_LOG_Q(t), mp_strerror(rc));
        return;
    }
    const struct alert_rule *rules = alert_ruleset_for(m->rules, t);
    for (size_t k = 0; k < m->nkeys; k++)
        for (size_t r = 0; r < n; r++)
            dr__judge(m, &rules[r], t, &m->keys[k]);
    mp_add_relaxed(&m->evals, 1);
}

/* ---- the thread ---- */

static void *dr__main(void *arg)
{
    struct mp_dmarc_rules *m = arg;
    mp_thread_name("mp-dmarc", -1);
    int64_t next_sweep = 0;
    char t[ENG_NAME_MAX + 1];
    pthread_mutex_lock(&m->mu);
    while (!m->stop) {
        if (m->pending) {
            alert_ruleset_free(m->rules); /* the thread's alone: no reader left */
            m->rules = m->pending;
            m->pending = NULL;
            dr__all_dirty(m);
        }
        int64_t now = mp_mono_ns() / 1000000;
        if (now >= next_sweep) {
            dr__all_dirty(m);
            next_sweep = now + MP_DMARC_RULES_SWEEP_MS;
        }
        size_t i = 0;
        while (i < m->ntenants && !m->tenants[i].dirty)
            i++;
        if (i == m->ntenants) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            int64_t ms = next_sweep - now;
            ts.tv_sec += ms / 1000;
            ts.tv_nsec += (ms % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&m->cv, &m->mu, &ts);
            continue;
        }
        m->tenants[i].dirty = 0;
        snprintf(t, sizeof(t), "%s", m->tenants[i].name);
        pthread_mutex_unlock(&m->mu);
        dr__tenant(m, t);
        pthread_mutex_lock(&m->mu);
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

static void dr__free(struct mp_dmarc_rules *m)
{
    for (size_t i = 0; i < m->ntenants; i++)
        free(m->tenants[i].name);
    for (size_t i = 0; i < m->nst; i++)
        free(m->st[i].tenant);
    free(m->tenants);
    free(m->st);
    free(m->keys);
    alert_ruleset_free(m->rules);
    alert_ruleset_free(m->pending);
    eng_dmarc_close(m->d);
    pthread_cond_destroy(&m->cv);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

/* The tenants a start knows: gate.tenants' and dmarc.tenant. */
static int dr__config_tenants(struct mp_dmarc_rules *m, const struct mp_config *cfg)
{
    int rc = MP_OK;
    for (size_t i = 0; cfg && rc == MP_OK && i < cfg->gate.n_domains; i++)
        rc = dr__tenant_add(m, cfg->gate.domains[i].tenant);
    if (cfg && rc == MP_OK && cfg->dmarc_tenant)
        rc = dr__tenant_add(m, cfg->dmarc_tenant);
    return rc;
}

int mp_dmarc_rules_start(struct eng_store *s, const struct mp_config *cfg,
                         struct alert_eval *eval, struct alert_ruleset *rules,
                         struct mp_dmarc_rules **out)
{
    *out = NULL;
    struct mp_dmarc_rules *m = calloc(1, sizeof(*m));
    pthread_condattr_t ca;
    if (!m) {
        alert_ruleset_free(rules);
        return MP_ERR_NOMEM;
    }
    m->eval = eval;
    m->rules = rules;
    pthread_mutex_init(&m->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->cv, &ca);
    pthread_condattr_destroy(&ca);
    int rc = eng_dmarc_open(s, cfg ? cfg->dmarc_retention_days : 0, &m->d);
    if (rc == MP_OK)
        rc = dr__config_tenants(m, cfg);
    if (rc == MP_OK && pthread_create(&m->tid, NULL, dr__main, m) != 0)
        rc = MP_ERR_STATE;
    if (rc != MP_OK) {
        dr__free(m);
        return rc;
    }
    m->started = 1;
    mp_info("dmarc_rules_started rules=%zu tenants=%zu", alert_ruleset_count(rules),
            m->ntenants);
    *out = m;
    return MP_OK;
}

void mp_dmarc_rules_stop(struct mp_dmarc_rules *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    m->stop = 1;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
    if (m->started)
        pthread_join(m->tid, NULL);
    dr__free(m);
}

void mp_dmarc_rules_reload(struct mp_dmarc_rules *m, struct alert_ruleset *rules)
{
    if (!m) {
        alert_ruleset_free(rules);
        return;
    }
    pthread_mutex_lock(&m->mu);
    alert_ruleset_free(m->pending);
    m->pending = rules;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

void mp_dmarc_rules_report(struct mp_dmarc_rules *m, const char *tenant)
{
    if (!m || !tenant)
        return;
    pthread_mutex_lock(&m->mu);
    if (dr__tenant_add(m, tenant) != MP_OK) /* evaluated at the next sweep, if it is known */
        mp_error("dmarc_rules_tenant_lost tenant=%s err=\"out of memory\"", MP_LOG_Q(tenant));
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

void mp_dmarc_rules_figures(struct mp_dmarc_rules *m, uint64_t *evals, uint64_t *told)
{
    *evals = m ? mp_load_relaxed(&m->evals) : 0;
    *told = m ? mp_load_relaxed(&m->told) : 0;
}
