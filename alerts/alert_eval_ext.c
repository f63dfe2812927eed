/* alert_eval_ext.c — external alerts (alert_external.h): the check, the
 * queue from any thread to the evaluator, and their records' lifecycle.
 *
 * An external alert is an ordinary record (alert_eval_impl.h) with key_id 0
 * and an `ext` naming it: tenant, labels, annotations and a stand-in rule
 * that fires at value 1 and resolves at 0, so alert_eval_step, the groups,
 * the state records and /v1/alerts treat it as any other. Lookup by
 * fingerprint is a scan of the records: external alerts are few (one per
 * listed address and zone), and a scan runs once per call, never per key.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_eval_impl.h"
#include "alert_external.h"
#include "mp_buf.h"
#include "mp_log.h"

static const char *const ext__reserved[] = {"alertname", "rule",     "severity",
                                            "tenant",    "mailbox",  "recipient_domain",
                                            "provider",  "campaign"};

static int ext__name_ok(const char *s)
{
    if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return 0;
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
    return s[n] == '\0' && n < ALERT_NAME_MAX;
}

static int ext__check_pairs(const char *what, const struct alert_label *l, size_t n, int labels,
                            char *err, size_t errlen)
{
    if (n > ALERT_EXT_LABELS_MAX) {
        snprintf(err, errlen, "%zu %ss, at most %d", n, what, ALERT_EXT_LABELS_MAX);
        return MP_ERR_INVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!ext__name_ok(l[i].name)) {
            snprintf(err, errlen, "bad %s name \"%.64s\": [A-Za-z_][A-Za-z0-9_]*", what,
                     l[i].name ? l[i].name : "");
            return MP_ERR_INVAL;
        }
        for (size_t r = 0; r < sizeof(ext__reserved) / sizeof(*ext__reserved); r++) {
            if (labels && strcmp(l[i].name, ext__reserved[r]) == 0) {
                snprintf(err, errlen, "%s name \"%s\" is the evaluator's own", what, l[i].name);
                return MP_ERR_INVAL;
            }
        }
        if (!l[i].value || strlen(l[i].value) > ALERT_EXT_VALUE_MAX) {
            snprintf(err, errlen, "%s %s: no value, or longer than %d bytes", what, l[i].name,
                     ALERT_EXT_VALUE_MAX);
            return MP_ERR_INVAL;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(l[i].name, l[j].name) == 0) {
                snprintf(err, errlen, "%s %s given twice", what, l[i].name);
                return MP_ERR_INVAL;
            }
        }
    }
    return MP_OK;
}

int alert_external_check(const struct alert_external *x, char *err, size_t errlen)
{
    const char *r = x->rule ? x->rule : "";
    size_t n = strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789_");
    if (n == 0 || r[n] || n >= ALERT_NAME_MAX) {
        snprintf(err, errlen, "bad rule name \"%.64s\": [a-z0-9_], under %d bytes", r,
                 ALERT_NAME_MAX);
        return MP_ERR_INVAL;
    }
    if (!x->tenant || !x->tenant[0] || strlen(x->tenant) > 255) {
        snprintf(err, errlen, "rule %s: no tenant, or longer than 255 bytes", r);
        return MP_ERR_INVAL;
    }
    if (x->severity < ALERT_SEV_NONE || x->severity > ALERT_SEV_CRITICAL || x->gate_sev < 0 ||
        x->gate_sev > ALERT_SEV_CRITICAL || x->repeat_ms < 0) {
        snprintf(err, errlen, "rule %s: bad severity, gate or repeat", r);
        return MP_ERR_INVAL;
    }
    int rc = ext__check_pairs("label", x->labels, x->nlabels, 1, err, errlen);
    return rc != MP_OK ? rc : ext__check_pairs("annotation", x->annotations, x->nannotations, 0,
                                                err, errlen);
}

/* ---- owned copies ---- */

void alert_ext_free(struct aext *x)
{
    if (!x)
        return;
    free(x->tenant);
    free(x->labels); /* one block: arrays and their strings */
    free(x);
}

static size_t ext__pairs_size(const struct alert_label *l, size_t n)
{
    size_t sz = 0;
    for (size_t i = 0; i < n; i++)
        sz += strlen(l[i].name) + strlen(l[i].value) + 2;
    return sz;
}

static char *ext__copy_pairs(struct alert_label *dst, const struct alert_label *src, size_t n,
                             char *p)
{
    for (size_t i = 0; i < n; i++) {
        size_t a = strlen(src[i].name) + 1, b = strlen(src[i].value) + 1;
        dst[i].name = memcpy(p, src[i].name, a);
        dst[i].value = memcpy(p + a, src[i].value, b);
        p += a + b;
    }
    return p;
}

static struct aext *ext__new(const char *rule, const char *tenant, int gate_sev,
                             int64_t repeat_ms, const struct alert_label *l, size_t nl,
                             const struct alert_label *an, size_t na)
{
    struct aext *x = calloc(1, sizeof(*x));
    size_t sz = (nl + na + 1) * sizeof(struct alert_label) + ext__pairs_size(l, nl) +
                ext__pairs_size(an, na);
    if (!x || !(x->tenant = strdup(tenant)) || !(x->labels = malloc(sz))) {
        alert_ext_free(x);
        return NULL;
    }
    x->ann = x->labels + nl;
    x->nlabels = nl;
    x->nann = na;
    char *p = (char *)(x->labels + nl + na + 1);
    p = ext__copy_pairs(x->labels, l, nl, p);
    ext__copy_pairs(x->ann, an, na, p);
    struct alert_rule *r = &x->rule;
    snprintf(r->name, sizeof(r->name), "%s", rule);
    snprintf(r->alertname, sizeof(r->alertname), "%s", rule);
    r->enabled = 1;
    r->scopes = 1u << ENG_SCOPE_TENANT;
    r->critical_ppb = 1; /* the stand-in: fires at 1, resolves under 1 */
    r->resolve_ppb = 1;
    r->resolve_ratio_ppb = 1000000000ULL;
    r->repeat_ms = repeat_ms;
    r->gate_sev = gate_sev;
    struct alert_instance a;
    alert_ext_instance(x, &a);
    alert_fingerprint(&a, x->fp);
    return x;
}

void alert_ext_instance(const struct aext *x, struct alert_instance *a)
{
    memset(a, 0, sizeof(*a));
    a->rule = &x->rule;
    a->tenant = x->tenant;
    a->external = 1;
    a->labels = x->labels;
    a->nlabels = x->nlabels;
    a->annotations = x->ann;
    a->nannotations = x->nann;
}

/* ---- the queue ---- */

int alert_eval_external(struct alert_eval *e, const struct alert_external *x)
{
    char err[200];
    if (alert_external_check(x, err, sizeof(err)) != MP_OK) {
        mp_warn("alert_external_refused why=\"%s\"", err);
        return MP_ERR_INVAL;
    }
    struct aext *ax = ext__new(x->rule, x->tenant, x->gate_sev, x->repeat_ms, x->labels,
                               x->nlabels, x->annotations, x->nannotations);
    if (!ax)
        return MP_ERR_NOMEM;
    int rc = MP_OK;
    pthread_mutex_lock(&e->ext_mu);
    if (e->next_q >= ALERT_EXT_QUEUE_MAX)
        rc = MP_ERR_FULL;
    else if (MP_GROW(e->ext_q, e->capext_q, e->next_q + 1) != MP_OK)
        rc = MP_ERR_NOMEM;
    else
        e->ext_q[e->next_q++] = (struct aext_req){ax, x->severity};
    pthread_mutex_unlock(&e->ext_mu);
    if (rc != MP_OK)
        alert_ext_free(ax);
    else
        eng_table_wake(e->t); /* applied by the next pass, not after a sleep */
    return rc;
}

void alert_ext_free_queue(struct alert_eval *e)
{
    for (size_t i = 0; i < e->next_q; i++)
        alert_ext_free(e->ext_q[i].x);
    free(e->ext_q);
    e->ext_q = NULL;
    e->next_q = e->capext_q = 0;
}

static uint32_t ext__find(const struct alert_eval *e, const struct aext *x)
{
    for (uint32_t i = 1; i < e->nrecs; i++) {
        const struct arec *r = &e->recs[i];
        if (r->used && r->ext && strcmp(r->ext->fp, x->fp) == 0 &&
            strcmp(r->ext->tenant, x->tenant) == 0 && strcmp(r->ext->rule.name, x->rule.name) == 0)
            return i;
    }
    return 0;
}

/* One call: the record found (or made), its naming swapped for the new one,
 * then one lifecycle step. Takes q->x. */
static void ext__apply(struct alert_eval *e, struct aext_req *q, int64_t now)
{
    uint32_t i = ext__find(e, q->x);
    if (!i && q->severity == ALERT_SEV_NONE) {
        alert_ext_free(q->x); /* resolving what does not fire: nothing to do */
        return;
    }
    pthread_mutex_lock(&e->mu);
    if (!i && (i = alert_eval_rec_new(e, 0, 0)) != 0)
        e->recs[i].ext = q->x;
    else if (i) {
        alert_ext_free(e->recs[i].ext);
        e->recs[i].ext = q->x; /* same identity; new annotations, gate, repeat */
    }
    pthread_mutex_unlock(&e->mu);
    if (!i) {
        mp_error("alert_state_nomem rule=%s", MP_LOG_Q(q->x->rule.name));
        alert_ext_free(q->x);
        return;
    }
    struct aext *x = e->recs[i].ext;
    struct alert_value v = {.value_ppb = q->severity != ALERT_SEV_NONE, .severity = q->severity,
                            .enough = 1, .num = q->severity != ALERT_SEV_NONE};
    alert_eval_step(e, i, &x->rule, &v, x->tenant, now);
}

void alert_ext_drain(struct alert_eval *e, int64_t now)
{
    pthread_mutex_lock(&e->ext_mu);
    struct aext_req *q = e->ext_q;
    size_t n = e->next_q;
    e->ext_q = NULL;
    e->next_q = e->capext_q = 0;
    pthread_mutex_unlock(&e->ext_mu);
    for (size_t x = 0; x < n; x++)
        ext__apply(e, &q[x], now);
    free(q);
}

void alert_ext_sweep(struct alert_eval *e, uint32_t i, int64_t now)
{
    struct arec *r = &e->recs[i];
    if (r->muted && r->status == ST_FIRING && !r->queued)
        alert_group_unmuted(e, i, now);
    r = &e->recs[i];
    if (r->status != ST_FIRING || r->nstatus != ST_FIRING || r->queued)
        return;
    if (r->ext->rule.repeat_ms > 0 && now - r->notified_ms >= r->ext->rule.repeat_ms) {
        r->repeat_due = 1;
        alert_group_queue(e, i, r->ext->tenant);
    }
}

/* ---- the stored form (alert_state.c keeps it next to the state) ---- */

static json_t *ext__pairs_json(const struct alert_label *l, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("[ss]", l[i].name, l[i].value));
    return a;
}

char *alert_ext_describe(const struct aext *x)
{
    json_t *o = json_pack("{ss ss si sI so so}", "rule", x->rule.name, "tenant", x->tenant,
                          "gate", x->rule.gate_sev, "repeat_ms", (json_int_t)x->rule.repeat_ms,
                          "labels", ext__pairs_json(x->labels, x->nlabels), "annotations",
                          ext__pairs_json(x->ann, x->nann));
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

/* pairs [[name, value], ...] of j into l (borrowed from j); how many, or
 * (size_t)-1 when malformed. */
static size_t ext__pairs_in(json_t *j, struct alert_label *l)
{
    size_t n = json_array_size(j);
    if (!json_is_array(j) || n > ALERT_EXT_LABELS_MAX)
        return (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(j, i);
        l[i].name = json_string_value(json_array_get(p, 0));
        l[i].value = json_string_value(json_array_get(p, 1));
        if (!l[i].name || !l[i].value)
            return (size_t)-1;
    }
    return n;
}

struct aext *alert_ext_from_json(const char *s, size_t len)
{
    json_t *o = json_loadb(s, len, 0, NULL);
    struct alert_label l[ALERT_EXT_LABELS_MAX], an[ALERT_EXT_LABELS_MAX];
    struct aext *x = NULL;
    if (!o)
        return NULL;
    struct alert_external ex = {
        .rule = json_string_value(json_object_get(o, "rule")),
        .tenant = json_string_value(json_object_get(o, "tenant")),
        .gate_sev = (int)json_integer_value(json_object_get(o, "gate")),
        .repeat_ms = json_integer_value(json_object_get(o, "repeat_ms")),
        .labels = l, .annotations = an};
    ex.nlabels = ext__pairs_in(json_object_get(o, "labels"), l);
    ex.nannotations = ext__pairs_in(json_object_get(o, "annotations"), an);
    char err[200];
    if (ex.nlabels != (size_t)-1 && ex.nannotations != (size_t)-1 &&
        alert_external_check(&ex, err, sizeof(err)) == MP_OK)
        x = ext__new(ex.rule, ex.tenant, ex.gate_sev, ex.repeat_ms, l, ex.nlabels, an,
                     ex.nannotations);
    json_decref(o);
    return x;
}
