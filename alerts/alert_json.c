/* alert_json.c — the body of GET /v1/alerts: the pending and firing alerts
 * (see alert_eval_active_json in alert_eval.h; private state in
 * alert_eval_impl.h), the firing alerts for the send gate
 * (alert_eval_each_firing), and the rules in force for GET /v1/rules
 * (alert_eval_rules_json).
 *
 * Any thread: the records and the rules are read under the evaluator's mu,
 * the JSON is serialised after it is released.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "alert_eval_impl.h"
#include "eng_dmarc.h"
#include "eng_types.h"
#include "mp_buf.h"

struct active_row {
    const char *tenant, *rule, *name;
    int scope;
    json_t *obj;
};

static int json__cmp(const void *x, const void *y)
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

/* Under mu. Record r of key k as a webhook alert entry whose status may also
 * be "pending", with lastNotifiedAt; NULL on allocation failure. */
static json_t *json__alert(const struct arec *r, struct alert_instance a)
{
    a.v = r->v;
    a.status = ALERT_STATUS_FIRING;
    a.severity = r->severity;
    a.starts_ms = r->status == ST_FIRING ? r->starts_ms : r->since_ms;
    json_t *o = alert_notify_alert_json(&a);
    if (!o)
        return NULL;
    char ts[40];
    /* one field for the state: the webhook entry's status, which here may
     * also be "pending" */
    json_object_set_new(o, "status", json_string(r->status == ST_FIRING ? "firing" : "pending"));
    alert_format_time(r->notified_ms, ts, sizeof(ts));
    json_object_set_new(o, "lastNotifiedAt", json_string(r->notified_ms ? ts : ""));
    return o;
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
        struct alert_instance a;
        const char *ten = alert_eval_rec_instance(e, r, &a);
        if (!ten || (tenant && strcmp(ten, tenant) != 0))
            continue;
        json_t *o = json__alert(r, a);
        if (!o)
            continue;
        if (MP_GROW(rows, caprows, nrows + 1) != MP_OK) {
            json_decref(o);
            continue;
        }
        struct eng_key *k = eng_table_key(e->t, r->key_id);
        const char *name = k ? eng_key_name(e->t, k) : r->ext ? r->ext->fp : NULL;
        rows[nrows++] = (struct active_row){ten, a.rule->name, name ? name : "",
                                            k ? eng_key_scope(k) : ENG_NSCOPES, o};
    }
    if (rows)
        qsort(rows, nrows, sizeof(*rows), json__cmp);
    pthread_mutex_unlock(&e->mu);
    for (size_t x = 0; x < nrows; x++)
        json_array_append_new(list, rows[x].obj);
    free(rows);
    json_object_set_new(root, "alerts", list);
    out = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return out;
}

void alert_eval_each_firing(struct alert_eval *e, alert_eval_firing_fn fn, void *arg)
{
    pthread_mutex_lock(&e->mu);
    for (uint32_t i = 1; i < e->nrecs; i++) {
        const struct arec *r = &e->recs[i];
        struct alert_instance a;
        if (!r->used || r->status != ST_FIRING || !alert_eval_rec_instance(e, r, &a))
            continue;
        a.v = r->v;
        a.status = ALERT_STATUS_FIRING;
        a.severity = r->severity;
        a.starts_ms = r->starts_ms;
        fn(arg, &a);
    }
    pthread_mutex_unlock(&e->mu);
}

/* The event types of a bit set (bit per type, 1..ENG_NTYPES) as names. */
static json_t *json__types(unsigned bits)
{
    json_t *a = json_array();
    for (int t = 1; a && t <= ENG_NTYPES; t++)
        if (bits & (1u << t))
            json_array_append_new(a, json_string(eng_type_name(t)));
    return a;
}

/* A threshold for people and pages: the fraction, count or factor the
 * rule compares (ppb / 1e9); null for a level the rule does not have. */
static json_t *json__level(uint64_t ppb)
{
    return ppb ? json_real((double)ppb / (double)ALERT_PPB) : json_null();
}

static json_t *json__rule(const struct alert_rule *r)
{
    json_t *o = json_object(), *sc = json_array();
    for (int s = 0; sc && s < ENG_NSCOPES; s++)
        if (r->scopes & (1u << s))
            json_array_append_new(sc, json_string(eng_scope_name(s)));
    json_object_set_new(o, "name", json_string(r->name));
    json_object_set_new(o, "alertname", json_string(r->alertname));
    json_object_set_new(o, "kind", json_string(alert_kind_name(r->kind)));
    json_object_set_new(o, "enabled", json_boolean(r->enabled));
    json_object_set_new(o, "scopes", sc);
    json_object_set_new(o, "numerator", json__types(r->num_types));
    json_object_set_new(o, "denominator", json__types(r->den_types));
    if (r->kind == ALERT_KIND_DMARC_RATE || r->kind == ALERT_KIND_DMARC_COUNT) /* scopes [] */
        json_object_set_new(o, "count", json_string(eng_dmarc_count_name(r->dmarc_count)));
    json_object_set_new(o, "window", json_string(r->window.text));
    json_object_set_new(o, "min_volume", json_integer((json_int_t)r->min_volume));
    json_object_set_new(o, "warning", json__level(r->warning_ppb));
    json_object_set_new(o, "critical", json__level(r->critical_ppb));
    return o;
}

char *alert_eval_rules_json(struct alert_eval *e, const char *tenant)
{
    json_t *root = json_object(), *list = json_array();
    char *out = NULL;
    if (!root || !list)
        goto done;
    /* Copied under mu (a reload switches cfg.rules under it), serialised after. */
    pthread_mutex_lock(&e->mu);
    size_t n = alert_ruleset_count(e->cfg.rules);
    const struct alert_rule *rules = alert_ruleset_for(e->cfg.rules, tenant ? tenant : "");
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json__rule(&rules[i]));
    pthread_mutex_unlock(&e->mu);
    json_object_set_new(root, "tenant", tenant ? json_string(tenant) : json_null());
    json_object_set_new(root, "rules", list);
    list = NULL;
    out = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(10));
done:
    json_decref(list);
    json_decref(root);
    return out;
}
