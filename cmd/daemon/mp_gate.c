/* mp_gate.c — the daemon's send gate: wiring and HTTP (see mp_gate.h). */
#include "mp_gate.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_external.h"
#include "eng_name.h"
#include "ingest_validate.h"
#include "mp_log.h"
#include "mp_stats.h"

/* The gate's own copy of the provider map: the key table's is read only by
 * the engine's registered threads (its QSBR grace), and the gate's readers
 * are HTTP and policy threads. A rwlock, held for a lookup and a copy. */
struct mp_gate_provmap {
    pthread_rwlock_t rw;
    struct eng_providers *map; /* under rw */
};

struct mp_gate {
    struct alert_gate *core;
    struct alert_eval *eval; /* gate.notify: where pauses go as alerts */
    struct mp_policy *policy;
    struct mp_gate_provmap prov;
    int prov_init;
};

const char *mp_gate_provider_of(struct mp_gate_provmap *m, const char *domain, char *buf,
                                size_t cap)
{
    size_t n;
    if (!m || !domain || !cap)
        return NULL;
    pthread_rwlock_rdlock(&m->rw);
    const char *p = eng_providers_lookup(m->map, domain, strlen(domain), &n);
    snprintf(buf, cap, "%.*s", (int)n, p);
    pthread_rwlock_unlock(&m->rw);
    return buf;
}

int mp_gate_set_providers(struct mp_gate *g, const struct mp_providers_conf *pc)
{
    struct eng_providers *map = NULL, *old;
    int rc = g ? mp_config_providers_build(pc, &map) : MP_OK;
    if (!g || rc != MP_OK) {
        if (rc != MP_OK)
            mp_error("gate_providers_failed err=\"out of memory\" note=\"the map in use stays\"");
        return rc;
    }
    pthread_rwlock_wrlock(&g->prov.rw);
    old = g->prov.map;
    g->prov.map = map;
    pthread_rwlock_unlock(&g->prov.rw);
    eng_providers_destroy(old);
    return MP_OK;
}

/* gate.notify: a pause (or its rearming) fires the tenant's `gate_paused`
 * alert, its cool-down updates the alert's annotations (no news), its lift
 * or a silence resolves it. Through alert_eval_external, so the tenant's
 * routes, grouping, silences and every receiver type apply as to any alert;
 * it pauses nothing itself. On the gate's thread, during its sync. */
static void gate__notify(void *arg, const struct alert_gate_change *c)
{
    struct mp_gate *g = arg;
    const struct alert_gate_pause *p = c->pause;
    char summary[4 * ALERT_GATE_NAME_MAX], lifts[40] = "-";
    const char *name = p->name[0] ? p->name : p->tenant, *scope = alert_gate_scope_name(p->scope);
    if (p->cooling)
        alert_format_time(p->lift_ms, lifts, sizeof(lifts));
    snprintf(summary, sizeof(summary), "sending paused: %s %s of tenant %s, while %s fires%s%s",
             scope, name, p->tenant, p->rule, p->cooling ? "; it resolved, lifts at " : "",
             p->cooling ? lifts : "");
    const struct alert_label labels[] = {
        {"gate_scope", scope}, {"gate_name", name}, {"gate_rule", p->rule}};
    const struct alert_label ann[] = {
        {"summary", summary}, {"state", p->cooling ? "cooling_down" : "paused"}, {"lifts_at", lifts}};
    int on = c->event == ALERT_GATE_PAUSED || c->event == ALERT_GATE_REARMED ||
             c->event == ALERT_GATE_COOLING;
    struct alert_external x = {.rule = "gate_paused", .tenant = p->tenant,
                               .severity = on ? ALERT_SEV_WARNING : ALERT_SEV_NONE,
                               .labels = labels, .nlabels = MP_ARRAY_LEN(labels),
                               .annotations = ann, .nannotations = MP_ARRAY_LEN(ann)};
    int rc = alert_eval_external(g->eval, &x);
    if (rc != MP_OK)
        mp_warn("gate_notify_failed tenant=%s rule=%s err=\"%s\"", MP_LOG_Q(p->tenant),
                MP_LOG_Q(p->rule), mp_strerror(rc));
}

int mp_gate_start(const struct mp_gate_conf *conf, const struct mp_providers_conf *providers,
                  struct alert_eval *eval, struct alert_silences *silences, struct mp_gate **out,
                  char *err, size_t errlen)
{
    struct mp_gate *g = calloc(1, sizeof(*g));
    struct alert_gate_opts o = {.cool_down_ms = conf->cool_down_ms > 0 ? conf->cool_down_ms : -1,
                                .silences = silences,
                                .on_change = conf->notify ? gate__notify : NULL,
                                .change_arg = g};
    if (g)
        g->eval = eval;
    int rc = g ? alert_gate_new(&o, &g->core) : MP_ERR_NOMEM;
    if (rc == MP_OK) {
        pthread_rwlock_init(&g->prov.rw, NULL);
        g->prov_init = 1;
        rc = mp_gate_set_providers(g, providers);
    }
    if (rc == MP_OK && (rc = alert_gate_run(g->core, eval)) != MP_OK)
        snprintf(err, errlen, "cannot start the send gate: %s", mp_strerror(rc));
    if (rc == MP_OK && conf->policy_listen)
        rc = mp_policy_start(conf->policy_listen, g->core, &g->prov, conf, &g->policy, err,
                             errlen);
    if (rc != MP_OK) {
        if (rc == MP_ERR_NOMEM)
            snprintf(err, errlen, "cannot start the send gate: out of memory");
        mp_gate_stop(g);
        return rc;
    }
    mp_info("gate_started cool_down_ms=%lld notify=%s policy_listen=%s sender_domains=%zu "
            "sasl_users=%zu",
            (long long)conf->cool_down_ms, conf->notify ? "yes" : "no",
            conf->policy_listen ? MP_LOG_Q(conf->policy_listen) : "-", conf->n_domains,
            conf->n_users);
    *out = g;
    return MP_OK;
}

void mp_gate_stop(struct mp_gate *g)
{
    if (!g)
        return;
    mp_policy_stop(g->policy); /* first: it asks the core */
    alert_gate_free(g->core);
    if (g->prov_init) {
        eng_providers_destroy(g->prov.map);
        pthread_rwlock_destroy(&g->prov.rw);
    }
    free(g);
}

struct alert_gate *mp_gate_core(struct mp_gate *g) { return g ? g->core : NULL; }
struct mp_policy *mp_gate_policy(struct mp_gate *g) { return g ? g->policy : NULL; }

/* 200 with body, or 500 without memory (body NULL). */
static void gate__body(char *body, struct mp_http_reply *out)
{
    out->body = body;
    out->status = body ? 200 : 500;
    out->content_type = "application/json";
    out->len = body ? strlen(body) : 0;
}

/* A tenant token's other tenants: 404 as never counted. 0 to go on. */
static int gate__scope(const char *only, const char *tenant, struct mp_http_reply *out)
{
    char msg[256];
    if (!only || strcmp(only, tenant) == 0)
        return 0;
    snprintf(msg, sizeof(msg), MP_STATS_UNKNOWN_TENANT, tenant);
    mp_http_error(out, 404, msg);
    return -1;
}

/* The query of /v1/gate; every problem is named in msg. 0 or -1. */
struct gate__args {
    const char *v[4]; /* tenant, mailbox, recipient_domain, provider */
    char mbox[INGEST_NAMEBUF_LEN], dom[INGEST_NAMEBUF_LEN];
};
static const char *const gate__names[4] = {"tenant", "mailbox", "recipient_domain", "provider"};

static int gate__args(const struct mp_http_request *req, const char *only, struct gate__args *a,
                      char *msg, size_t n)
{
    size_t used = 0, len;
    memset(a->v, 0, sizeof(a->v));
    for (size_t i = 0; i < req->nargs; i++) {
        const char *name = req->args[i].name, *v = req->args[i].value;
        int k = 0;
        while (k < 4 && strcmp(name, gate__names[k]) != 0)
            k++;
        const char *bad = k == 4 ? "unknown parameter" : a->v[k] ? "repeated" : !v ? "no value"
                          : NULL;
        if (!bad && (k == 0 || k == 3) && !eng_name_valid(v, strlen(v)))
            bad = "expected 1..64 of A-Z a-z 0-9 . _ -";
        if (!bad && k == 1 && (strlen(v) >= sizeof(a->mbox) ||
                               !ingest_norm_mailbox(v, strlen(v), a->mbox, &len)))
            bad = "expected an address local@host (at most 254 bytes)";
        if (!bad && k == 2 && (strlen(v) >= sizeof(a->dom) ||
                               !ingest_norm_domain(v, strlen(v), a->dom, &len)))
            bad = "expected a host name such as gmail.com";
        if (bad && used < n)
            used += (size_t)snprintf(msg + used, n - used, "%s%.64s: %s", used ? "; " : "", name,
                                     bad);
        else if (!bad)
            a->v[k] = k == 1 ? a->mbox : k == 2 ? a->dom : v;
    }
    if (!a->v[0])
        a->v[0] = only; /* a tenant token may leave ?tenant= out */
    if (!a->v[0] && used < n)
        used += (size_t)snprintf(msg + used, n - used, "%stenant: required", used ? "; " : "");
    return used ? -1 : 0;
}

void mp_gate_reply(struct mp_gate *g, const char *only, const struct mp_http_request *req,
                   struct mp_http_reply *out)
{
    struct gate__args a;
    struct alert_gate_answer ans;
    char msg[1024];
    if (!g) {
        mp_http_error(out, 503, "the send gate is not running");
        return;
    }
    if (gate__args(req, only, &a, msg, sizeof(msg)) != 0) {
        mp_http_error(out, 400, msg);
        return;
    }
    if (gate__scope(only, a.v[0], out) != 0)
        return;
    char prov[ENG_PROVIDER_NAME_MAX + 1];
    /* ?provider= overrides; else the recipient domain's, from the daemon's map */
    struct alert_gate_query q = {a.v[0], a.v[1], a.v[2],
                                 a.v[3] ? a.v[3]
                                        : mp_gate_provider_of(&g->prov, a.v[2], prov,
                                                              sizeof(prov))};
    alert_gate_decide(g->core, &q, mp_now_ms(), &ans);
    json_t *j = json_object(), *r = json_array();
    for (size_t i = 0; i < ans.nshown; i++)
        json_array_append_new(r, alert_gate_pause_json(&ans.reasons[i]));
    json_object_set_new(j, "decision",
                        json_string(ans.decision == ALERT_GATE_PAUSE ? "pause" : "allow"));
    json_object_set_new(j, "reasons", r);
    json_object_set_new(j, "retry_after_s", json_integer(ans.retry_after_s));
    if (ans.nreasons > ans.nshown)
        json_object_set_new(j, "reasons_total", json_integer((json_int_t)ans.nreasons));
    gate__body(j ? json_dumps(j, JSON_COMPACT) : NULL, out);
    json_decref(j);
}

void mp_gate_reply_pauses(struct mp_gate *g, const char *only, const struct mp_http_request *req,
                          struct mp_http_reply *out)
{
    const char *tenant = NULL;
    if (!g) {
        mp_http_error(out, 503, "the send gate is not running");
        return;
    }
    for (size_t i = 0; i < req->nargs; i++) {
        const char *v = req->args[i].value;
        if (strcmp(req->args[i].name, "tenant") != 0 || !v || tenant ||
            !eng_name_valid(v, strlen(v))) {
            mp_http_error(out, 400, "bad or repeated query parameter; allowed: tenant=NAME (1..64 "
                                    "of A-Z a-z 0-9 . _ -)");
            return;
        }
        tenant = v;
    }
    if (!tenant)
        tenant = only;
    if (tenant && gate__scope(only, tenant, out) != 0)
        return;
    gate__body(alert_gate_pauses_json(g->core, tenant, mp_now_ms()), out);
}
