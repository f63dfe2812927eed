/* alert_state.c — the evaluator's alert state in the store, and its restore
 * at start (see alert_eval.h, "Durability"; private state in
 * alert_eval_impl.h).
 *
 * Record layout, alerts column family:
 *   key:   rule name NUL scope('0'+s) tenant NUL name
 *   value: struct stored, host byte order (the store never leaves the
 *          host); version 1 ends before `alertname`, version 2 has it.
 * Status and severity numbers in it are the fixed ST_* and ALERT_SEV_*.
 * An external alert (alert_external.h):
 *   key:   ALERT_EXT_KEY_PREFIX tenant NUL fingerprint
 *   value: struct stored (version 2), then the JSON naming it
 *          (alert_ext_describe: rule, tenant, labels, annotations, gate).
 *
 * Evaluator thread only (and alert_eval_start, before the thread exists).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_eval_impl.h"
#include "mp_buf.h"
#include "mp_log.h"

struct stored {
    uint8_t ver, status, severity, nstatus, nseverity, pad[3];
    int64_t since_ms, starts_ms, ends_ms, notified_ms;
    uint64_t num, den, base_num, base_den, value_ppb;
    /* version 2: the alertname receivers know the alert by, so its resolve
     * can name it even after its rule left the rules file */
    char alertname[ALERT_NAME_MAX];
};
#define STORED_V1_SIZE offsetof(struct stored, alertname)
#define STATE_KEY_MAX 400

static size_t state__key(char *buf, size_t cap, const char *rule, int scope, const char *tenant,
                         const char *name)
{
    int n = snprintf(buf, cap, "%s%c%c%s%c%s", rule, 0, '0' + scope, tenant, 0, name ? name : "");
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* The figures of a stored value (restored records and owed resolves). */
static void state__value_in(struct alert_value *v, const struct stored *st)
{
    v->num = st->num;
    v->den = st->den;
    v->base_num = st->base_num;
    v->base_den = st->base_den;
    v->value_ppb = st->value_ppb;
}

/* An external alert's key (see the top). */
static size_t state__ext_key(char *buf, size_t cap, const struct aext *x)
{
    int n = snprintf(buf, cap, "%c%s%s%c%s", 0, &ALERT_EXT_KEY_PREFIX[1], x->tenant, 0, x->fp);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* The stored value of external record r: st, then its JSON; NULL on no memory. */
static char *state__ext_value(const struct aext *x, const struct stored *st, size_t *len)
{
    char *j = alert_ext_describe(x), *v = NULL;
    if (j && (v = malloc(sizeof(*st) + strlen(j)))) {
        memcpy(v, st, sizeof(*st));
        memcpy(v + sizeof(*st), j, strlen(j));
        *len = sizeof(*st) + strlen(j);
    }
    free(j);
    return v;
}

void alert_state_save(struct alert_eval *e, uint32_t i)
{
    struct arec *r = &e->recs[i];
    if (!e->wb || !r->used)
        return;
    struct eng_key *k = eng_table_key(e->t, r->key_id);
    if (!k && !r->ext)
        return;
    const struct alert_rule *rule =
        r->ext ? &r->ext->rule : &alert_ruleset_for(e->cfg.rules, eng_key_tenant(e->t, k))[r->rule];
    char key[STATE_KEY_MAX];
    size_t kl = r->ext ? state__ext_key(key, sizeof(key), r->ext)
                       : state__key(key, sizeof(key), rule->name, eng_key_scope(k),
                                    eng_key_tenant(e->t, k), eng_key_name(e->t, k));
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
    if (!r->ext) {
        eng_store_batch_kv_put(e->wb, ENG_KV_ALERTS, key, kl, &st, sizeof(st));
        return;
    }
    size_t vl = 0;
    char *v = state__ext_value(r->ext, &st, &vl);
    if (!v) {
        mp_add_relaxed(&e->state_errors, 1);
        mp_error("alert_state_nomem rule=%s", MP_LOG_Q(rule->name));
        return;
    }
    eng_store_batch_kv_put(e->wb, ENG_KV_ALERTS, key, kl, v, vl);
    free(v);
}

void alert_state_history(struct alert_eval *e, const struct arec *r,
                         const struct alert_instance *a, int ev, const char *const *ids,
                         size_t nids, int64_t now)
{
    if (!e->hist || !e->wb)
        return;
    struct eng_key *k = r->ext ? NULL : eng_table_key(e->t, r->key_id);
    if (!r->ext && !k)
        return;
    int scope = k ? eng_key_scope(k) : ALERT_HISTORY_EXTERNAL;
    if (alert_history_add(e->hist, e->wb, ev, a, scope, k ? eng_key_name(e->t, k) : NULL, ids,
                          nids, now) != MP_OK) {
        mp_add_relaxed(&e->state_errors, 1);
        mp_error("alert_history_nomem tenant=%s", MP_LOG_Q(a->tenant));
    }
}

void alert_state_history_rec(struct alert_eval *e, const struct arec *r, int ev,
                             const char *const *ids, size_t nids, int64_t now)
{
    struct alert_instance a;
    if (!e->hist || !alert_eval_rec_instance(e, r, &a))
        return;
    int firing = r->status == ST_FIRING;
    a.v = r->v;
    a.status = firing ? ALERT_STATUS_FIRING : ALERT_STATUS_RESOLVED;
    a.severity = r->severity;
    a.starts_ms = r->starts_ms;
    a.ends_ms = firing ? 0 : r->ends_ms;
    alert_state_history(e, r, &a, ev, ids, nids, now);
}

/* ---- restore ---- */

/* A resolve owed at start for an alert whose rule or key is gone: one block
 * holds everything the notification needs (the instance points into it). */
struct gone_alert {
    struct alert_rule rule; /* the rule, or a stand-in when it left the rules file */
    char key[STATE_KEY_MAX]; /* the state's key: rule, scope, tenant, name */
    struct alert_instance a;
};

struct restore_ctx {
    struct alert_eval *e;
    int64_t now;
    size_t dropped;
    struct gone_alert **gone; /* told together, per tenant, after the scan */
    size_t ngone, capgone;
};

/* A stored record's key, split. */
struct state_key {
    char buf[STATE_KEY_MAX];
    size_t len;
    const char *rule, *tenant, *name;
    int scope;
};

/* The alert's labels from its stored key's scope and name (g's own copy:
 * a mailbox_provider name "mailbox/provider" is split in place, at the
 * last '/', as the engine splits it). */
static void state__labels(struct alert_instance *a, int scope, char *name)
{
    char *slash;
    switch (scope) {
    case ENG_SCOPE_MAILBOX: a->mailbox = name; break;
    case ENG_SCOPE_DOMAIN: a->domain = name; break;
    case ENG_SCOPE_PROVIDER: a->provider = name; break;
    case ENG_SCOPE_CAMPAIGN: a->campaign = name; break;
    case ENG_SCOPE_MAILBOX_PROVIDER:
        if ((slash = strrchr(name, '/')) != NULL) {
            *slash = '\0';
            a->mailbox = name;
            a->provider = slash + 1;
        }
        break;
    default: break;
    }
}

/* Owes a resolve for stored alert `st` (key `sk`); `live` is its rule, NULL
 * when the rule left the rules file. */
static void state__owe_resolve(struct restore_ctx *c, const struct alert_rule *live,
                               const struct state_key *sk, const struct stored *st)
{
    struct gone_alert *g = calloc(1, sizeof(*g));
    if (!g) {
        mp_error("alert_resolve_nomem tenant=%s", MP_LOG_Q(sk->tenant));
        return;
    }
    memcpy(g->key, sk->buf, sk->len + 1);
    if (live) {
        g->rule = *live;
    } else {
        /* Its config is gone. Receivers know the alert by its name (the
         * fingerprint is built from it) and its alertname, stored with the
         * state since version 2 (before: the name); the notification says
         * the rule was removed instead of describing a window. */
        /* names are shorter than ALERT_NAME_MAX (the rules loader checks) */
        snprintf(g->rule.name, sizeof(g->rule.name), "%.*s", ALERT_NAME_MAX - 1, g->key);
        snprintf(g->rule.alertname, sizeof(g->rule.alertname), "%.*s", ALERT_NAME_MAX - 1,
                 st->alertname[0] ? st->alertname : g->key);
        g->a.rule_removed = 1;
    }
    g->a.rule = &g->rule;
    g->a.status = ALERT_STATUS_RESOLVED;
    g->a.severity = st->nseverity;
    g->a.starts_ms = st->starts_ms;
    g->a.ends_ms = c->now;
    g->a.tenant = g->key + (sk->tenant - sk->buf);
    state__labels(&g->a, sk->scope, g->key + (sk->name - sk->buf));
    state__value_in(&g->a.v, st);
    if (MP_GROW(c->gone, c->capgone, c->ngone + 1) != MP_OK) {
        alert_group_deliver(c->e, g->a.tenant, &g->a, 1, c->now); /* alone, but told */
        free(g);
        return;
    }
    c->gone[c->ngone++] = g;
}

/* Tells the owed resolves, one request per tenant and receiver. */
static void state__tell_gone(struct restore_ctx *c)
{
    struct alert_instance *a = c->ngone ? malloc(c->ngone * sizeof(*a)) : NULL;
    for (size_t x = 0; a && x < c->ngone; x++)
        a[x] = c->gone[x]->a;
    if (a)
        alert_group_deliver_by_tenant(c->e, a, c->ngone, c->now);
    else
        for (size_t x = 0; x < c->ngone; x++)
            alert_group_deliver(c->e, c->gone[x]->a.tenant, &c->gone[x]->a, 1, c->now);
    free(a);
}

/* Reads record (k, v) into *sk and *st: 1 when it decodes, 0 (logged) when not. */
static int state__decode(const char *k, size_t kl, const char *v, size_t vl,
                         struct state_key *sk, struct stored *st)
{
    memset(st, 0, sizeof(*st));
    if (kl >= sizeof(sk->buf) || (vl != sizeof(*st) && vl != STORED_V1_SIZE)) {
        mp_warn("alert_state_unreadable key_len=%zu value_len=%zu", kl, vl);
        return 0;
    }
    memcpy(sk->buf, k, kl);
    sk->buf[kl] = '\0';
    sk->len = kl;
    memcpy(st, v, vl);
    st->alertname[sizeof(st->alertname) - 1] = '\0';
    sk->rule = sk->buf;
    size_t rl = strlen(sk->rule);
    if (rl + 2 > kl || st->ver != (vl == STORED_V1_SIZE ? 1 : 2)) {
        mp_warn("alert_state_unreadable rule=%s", MP_LOG_Q(sk->rule));
        return 0;
    }
    sk->scope = sk->buf[rl + 1] - '0';
    sk->tenant = sk->buf + rl + 2;
    sk->name = sk->tenant + strlen(sk->tenant) + 1;
    if (sk->name > sk->buf + kl)
        sk->name = sk->buf + kl;
    return 1;
}

/* The record of a restored alert whose rule (ri) and key (ek) still exist,
 * or of external alert x (ek NULL; taken). */
static int state__revive(struct alert_eval *e, struct eng_key *ek, int ri, const char *tenant,
                         const struct stored *st, struct aext *x)
{
    pthread_mutex_lock(&e->mu);
    uint32_t i = alert_eval_rec_new(e, ek ? eng_key_id(ek) : 0, ek ? (size_t)ri : 0);
    if (!i)
        alert_ext_free(x);
    if (i) {
        struct arec *r = &e->recs[i];
        r->ext = x;
        r->status = st->status;
        r->severity = st->severity;
        r->nstatus = st->nstatus;
        r->nseverity = st->nseverity;
        r->since_ms = st->since_ms;
        r->starts_ms = st->starts_ms;
        r->ends_ms = st->ends_ms;
        r->notified_ms = st->notified_ms;
        state__value_in(&r->v, st);
        r->v.severity = st->severity;
        r->v.enough = 1;
    }
    pthread_mutex_unlock(&e->mu);
    if (!i)
        return MP_ERR_NOMEM;
    struct arec *r = &e->recs[i];
    if (r->nstatus == ST_FIRING) /* every notification of its group lists it */
        alert_group_member(e, i, tenant);
    /* decided before the restart but never handed to the outbox: send now */
    if ((r->status == ST_FIRING) != (r->nstatus == ST_FIRING) ||
        (r->status == ST_FIRING && r->severity != r->nseverity))
        alert_group_queue(e, i, tenant);
    mp_add_relaxed(&e->restored, 1);
    return MP_OK;
}

/* An external alert read back: its source tells it again at its next
 * check (and resolves it then, if that is what it finds). */
static int state__restore_ext(struct restore_ctx *c, const char *v, size_t vl)
{
    struct stored st;
    struct aext *x = NULL;
    if (vl > sizeof(st)) {
        memcpy(&st, v, sizeof(st));
        x = st.ver == 2 ? alert_ext_from_json(v + sizeof(st), vl - sizeof(st)) : NULL;
    }
    if (!x) {
        mp_warn("alert_state_unreadable kind=external value_len=%zu", vl);
        return MP_OK;
    }
    const char *tenant = x->tenant;
    return state__revive(c->e, NULL, 0, tenant, &st, x);
}

static int state__restore_one(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    struct restore_ctx *c = arg;
    struct alert_eval *e = c->e;
    struct state_key sk;
    struct stored st;
    if (kl >= ALERT_SILENCE_KEY_PREFIX_LEN &&
        memcmp(k, ALERT_SILENCE_KEY_PREFIX, ALERT_SILENCE_KEY_PREFIX_LEN) == 0)
        return MP_OK; /* a silence (alert_silence.c), not an alert's state */
    if (kl >= ALERT_EXT_KEY_PREFIX_LEN && memcmp(k, ALERT_EXT_KEY_PREFIX, ALERT_EXT_KEY_PREFIX_LEN) == 0)
        return state__restore_ext(c, v, vl);
    if (!state__decode(k, kl, v, vl, &sk, &st))
        return MP_OK;
    int ri = alert_ruleset_find(e->cfg.rules, sk.rule);
    struct eng_key *ek = NULL;
    if (sk.scope >= 0 && sk.scope < ENG_NSCOPES && ri >= 0 &&
        eng_table_find(e->t, sk.scope, sk.tenant, sk.scope == ENG_SCOPE_TENANT ? NULL : sk.name,
                       &ek) == MP_OK)
        return state__revive(e, ek, ri, sk.tenant, &st, NULL);
    /* The rule or the key is gone: what receivers were told fires is
     * resolved now (an alert whose rule left the file used to be dropped in
     * silence and stayed open at its receivers for good). */
    if (st.nstatus == ST_FIRING)
        state__owe_resolve(c, ri >= 0 ? &alert_ruleset_for(e->cfg.rules, sk.tenant)[ri] : NULL,
                           &sk, &st);
    if (ri < 0)
        mp_warn("alert_state_dropped rule=%s tenant=%s why=\"rule no longer exists\" "
                "resolve_owed=%s",
                MP_LOG_Q(sk.rule), MP_LOG_Q(sk.tenant), st.nstatus == ST_FIRING ? "yes" : "no");
    if (e->wb)
        eng_store_batch_kv_del(e->wb, ENG_KV_ALERTS, k, kl);
    c->dropped++;
    return MP_OK;
}

int alert_state_restore(struct alert_eval *e)
{
    struct restore_ctx c = {.e = e, .now = mp_now_ms()};
    int rc = eng_store_kv_scan(e->store, ENG_KV_ALERTS, NULL, 0, state__restore_one, &c);
    if (rc == MP_OK)
        state__tell_gone(&c);
    for (size_t x = 0; x < c.ngone; x++)
        free(c.gone[x]);
    free(c.gone);
    if (rc != MP_OK)
        return rc;
    mp_info("alert_state_restored alerts=%llu dropped=%zu",
            (unsigned long long)mp_load_relaxed(&e->restored), c.dropped);
    alert_group_flush(e, c.now, 1);
    return MP_OK;
}
