/* mp_dnsbl.c — the blocklist checker (see mp_dnsbl.h).
 *
 * At start the conf is flattened into checks, one per (tenant, target,
 * zone), each with its query name, grouped by the resolver that asks for
 * them. A check remembers what it last told the evaluator, so a round
 * hands over changes only: a listing (or a new return code or TXT), and a
 * delisting. UNKNOWN (the start) tells either, so an alert restored firing
 * from the store is resolved by the first clean answer.
 *
 * Apart from that alert state (what the evaluator was told, the checker's
 * alone), a check keeps its status (what the answers said, for
 * mp_dnsbl_visit): the checker writes it, and swaps the checks and the conf
 * on a reload, under status_mu; readers take status_mu too. The checker
 * reads its own checks without the lock (it is their only writer).
 */
#include "mp_dnsbl.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "alert_external.h"
#include "mp_atomic.h"
#include "mp_log.h"
#include "mp_thread.h"

enum { CHK_UNKNOWN = 0, CHK_CLEAN = 1, CHK_LISTED = 2 };

struct dnsbl_check {
    const struct mp_dnsbl_tenant *t;
    const struct mp_dnsbl_zone *z;
    const char *target;
    char name[MP_DNSQ_NAME_MAX];
    int state;
    char code[MP_DNSQ_CODE_MAX], txt[MP_DNSQ_TXT_MAX]; /* what the alert says now */
    struct dnsbl_status {                              /* what the answers said */
        int status;                                    /* enum mp_dnsbl_status */
        int64_t since_ms, checked_ms, error_ms;        /* wall clock, 0: never */
        int error_reason;                              /* of the last error */
        char code[MP_DNSQ_CODE_MAX], txt[MP_DNSQ_TXT_MAX]; /* listed: the answer */
    } st;
};

/* The checks asked through one resolver (NULL: the system's). */
struct dnsbl_group {
    const char *resolver;
    size_t *idx, n;
    struct mp_dnsq_query *q;
};

struct mp_dnsbl {
    const struct mp_dnsbl_conf *c; /* the start's (borrowed) or owned */
    struct mp_dnsbl_conf *owned;   /* the last reload's, which c points to */
    pthread_mutex_t mu;            /* guards pending */
    /* Guards, against mp_dnsbl_visit, the checks' status and the swap of
     * c, checks and nchecks on a reload (the checker's writes of them). */
    pthread_mutex_t status_mu;
    struct mp_dnsbl_conf *pending; /* handed over by mp_dnsbl_reload, not yet applied */
    struct alert_eval *eval;
    struct dnsbl_check *checks;
    size_t nchecks;
    struct dnsbl_group *groups;
    size_t ngroups;
    uint64_t rng;
    pthread_t tid;
    int started;
    mp_atomic_u32 stop;
    mp_atomic_u64 rounds, queries, listed, listings, last_ns, errors[MP_DNSQ_NREASONS];
};

/* ---- set-up ---- */

static int dnsbl__add(struct mp_dnsbl *d, const struct mp_dnsbl_tenant *t,
                      const struct mp_dnsbl_zone *z, const char *target)
{
    struct dnsbl_check *k = &d->checks[d->nchecks];
    int rc = z->type == MP_DNSBL_IP ? mp_dnsq_ip_name(target, z->name, k->name, sizeof(k->name))
                                    : mp_dnsq_domain_name(target, z->name, k->name,
                                                          sizeof(k->name));
    if (rc != MP_OK) { /* the config checked both parts; only the length is left */
        mp_warn("dnsbl_skipped tenant=%s target=%s zone=%s why=\"query name too long\"",
                MP_LOG_Q(t->tenant), MP_LOG_Q(target), MP_LOG_Q(z->name));
        return MP_OK;
    }
    k->t = t;
    k->z = z;
    k->target = target;
    k->st.since_ms = mp_now_ms(); /* unknown since it was made */
    d->nchecks++;
    return MP_OK;
}

static int dnsbl__group(struct mp_dnsbl *d, size_t ci)
{
    const char *res = d->checks[ci].z->resolver ? d->checks[ci].z->resolver : d->c->resolver;
    struct dnsbl_group *g = NULL;
    for (size_t i = 0; !g && i < d->ngroups; i++)
        if ((!res && !d->groups[i].resolver) ||
            (res && d->groups[i].resolver && strcmp(res, d->groups[i].resolver) == 0))
            g = &d->groups[i];
    if (!g) {
        g = &d->groups[d->ngroups++];
        g->resolver = res;
        if (!(g->idx = calloc(d->nchecks, sizeof(*g->idx))) ||
            !(g->q = calloc(d->nchecks, sizeof(*g->q))))
            return MP_ERR_NOMEM;
    }
    g->q[g->n].name = d->checks[ci].name;
    g->idx[g->n++] = ci;
    return MP_OK;
}

static int dnsbl__plan(struct mp_dnsbl *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->c->ntenants; i++) {
        const struct mp_dnsbl_tenant *t = &d->c->tenants[i];
        for (size_t z = 0; z < t->nzones; z++)
            n += d->c->zones[t->zones[z]].type == MP_DNSBL_IP ? t->nips : t->ndomains;
    }
    if (!(d->checks = calloc(n ? n : 1, sizeof(*d->checks))) ||
        !(d->groups = calloc(n ? n : 1, sizeof(*d->groups))))
        return MP_ERR_NOMEM;
    for (size_t i = 0; i < d->c->ntenants; i++) {
        const struct mp_dnsbl_tenant *t = &d->c->tenants[i];
        for (size_t zi = 0; zi < t->nzones; zi++) {
            const struct mp_dnsbl_zone *z = &d->c->zones[t->zones[zi]];
            char **tg = z->type == MP_DNSBL_IP ? t->ips : t->domains;
            size_t nt = z->type == MP_DNSBL_IP ? t->nips : t->ndomains;
            for (size_t x = 0; x < nt; x++)
                dnsbl__add(d, t, z, tg[x]);
        }
    }
    for (size_t i = 0; i < d->nchecks; i++)
        if (dnsbl__group(d, i) != MP_OK)
            return MP_ERR_NOMEM;
    return MP_OK;
}

/* ---- a round ---- */

/* Tells the evaluator check k's news: listed (answer a) or, a NULL, clean. */
static void dnsbl__tell(struct mp_dnsbl *d, struct dnsbl_check *k, const struct mp_dnsq_answer *a)
{
    const char *meaning = NULL;
    char summary[1024];
    struct alert_label labels[2] = {{k->z->type == MP_DNSBL_IP ? "ip" : "domain", k->target},
                                    {"zone", k->z->name}};
    struct alert_label ann[5];
    size_t na = 0;
    if (a) {
        meaning = strchr(a->code, ',') ? NULL : mp_config_dnsbl_meaning(k->z, a->code);
        snprintf(summary, sizeof(summary), "%s %s of tenant %s is listed on %s: %s%s%s%s",
                 k->z->type == MP_DNSBL_IP ? "IP" : "domain", k->target, k->t->tenant,
                 k->z->name, a->code, meaning ? " (" : "", meaning ? meaning : "",
                 meaning ? ")" : "");
        ann[na++] = (struct alert_label){"summary", summary};
        ann[na++] = (struct alert_label){"return_code", a->code};
        if (meaning)
            ann[na++] = (struct alert_label){"meaning", meaning};
        if (a->txt[0])
            ann[na++] = (struct alert_label){"txt", a->txt};
        ann[na++] = (struct alert_label){"query", k->name};
    }
    struct alert_external x = {.rule = MP_DNSBL_RULE, .tenant = k->t->tenant,
                               .severity = a ? ALERT_SEV_CRITICAL : ALERT_SEV_NONE,
                               .gate_sev = d->c->pause_sends ? ALERT_SEV_CRITICAL : 0,
                               .repeat_ms = MP_DNSBL_REPEAT_MS,
                               .labels = labels, .nlabels = 2, .annotations = ann,
                               .nannotations = na};
    int rc = alert_eval_external(d->eval, &x);
    if (rc != MP_OK) { /* told again next round: the state stays as it was */
        mp_error("dnsbl_alert_failed tenant=%s target=%s zone=%s err=\"%s\"",
                 MP_LOG_Q(k->t->tenant), MP_LOG_Q(k->target), MP_LOG_Q(k->z->name),
                 mp_strerror(rc));
        return;
    }
    if (a) {
        if (k->state != CHK_LISTED) {
            mp_add_relaxed(&d->listings, 1);
            mp_add_relaxed(&d->listed, 1);
            mp_warn("dnsbl_listed tenant=%s target=%s zone=%s code=%s txt=%s",
                    MP_LOG_Q(k->t->tenant), MP_LOG_Q(k->target), MP_LOG_Q(k->z->name),
                    MP_LOG_Q(a->code), MP_LOG_Q(a->txt));
        }
        snprintf(k->code, sizeof(k->code), "%s", a->code);
        snprintf(k->txt, sizeof(k->txt), "%s", a->txt);
        k->state = CHK_LISTED;
        return;
    }
    if (k->state == CHK_LISTED) {
        mp_sub_relaxed(&d->listed, 1);
        mp_info("dnsbl_delisted tenant=%s target=%s zone=%s", MP_LOG_Q(k->t->tenant),
                MP_LOG_Q(k->target), MP_LOG_Q(k->z->name));
    }
    k->state = CHK_CLEAN;
}

/* An error answer's reason, as counted (one out of range is "other"). */
static int dnsbl__reason(const struct mp_dnsq_answer *a)
{
    return a->reason > 0 && a->reason < MP_DNSQ_NREASONS ? a->reason : MP_DNSQ_OTHER;
}

static void dnsbl__answer(struct mp_dnsbl *d, struct dnsbl_check *k, const struct mp_dnsq_answer *a)
{
    mp_add_relaxed(&d->queries, 1);
    if (a->result == MP_DNSQ_ERROR) {
        mp_add_relaxed(&d->errors[dnsbl__reason(a)], 1);
        return; /* neither listed nor clean: the alert keeps its state */
    }
    if (a->result == MP_DNSQ_LISTED) {
        if (k->state != CHK_LISTED || strcmp(k->code, a->code) != 0 || strcmp(k->txt, a->txt) != 0)
            dnsbl__tell(d, k, a);
    } else if (k->state != CHK_CLEAN) {
        dnsbl__tell(d, k, NULL);
    }
}

/* A group's answers into its checks' status, the DNS work done: under
 * status_mu, so a reader sees each check whole. An error leaves the status
 * as it was (as it leaves the alert). */
static void dnsbl__note(struct mp_dnsbl *d, const struct dnsbl_group *gr)
{
    int64_t now = mp_now_ms();
    pthread_mutex_lock(&d->status_mu);
    for (size_t i = 0; i < gr->n; i++) {
        const struct mp_dnsq_answer *a = &gr->q[i].ans;
        struct dnsbl_status *s = &d->checks[gr->idx[i]].st;
        if (a->result == MP_DNSQ_ERROR) {
            s->error_ms = now;
            s->error_reason = dnsbl__reason(a);
            continue;
        }
        int listed = a->result == MP_DNSQ_LISTED;
        int st = listed ? MP_DNSBL_LISTED : MP_DNSBL_CLEAN;
        if (s->status != st)
            s->since_ms = now;
        s->status = st;
        s->checked_ms = now;
        snprintf(s->code, sizeof(s->code), "%s", listed ? a->code : "");
        snprintf(s->txt, sizeof(s->txt), "%s", listed ? a->txt : "");
    }
    pthread_mutex_unlock(&d->status_mu);
}

static void dnsbl__round(struct mp_dnsbl *d)
{
    int64_t t0 = mp_mono_ns();
    size_t errs = 0;
    for (size_t g = 0; g < d->ngroups && !mp_load_acquire(&d->stop); g++) {
        struct dnsbl_group *gr = &d->groups[g];
        char err[256] = "";
        if (mp_dnsq_run(gr->resolver, (int)d->c->timeout_ms, (int)d->c->tries, gr->q, gr->n,
                        &d->stop, err, sizeof(err)) != MP_OK)
            mp_error("dnsbl_resolver_failed resolver=%s err=\"%s\"",
                     gr->resolver ? gr->resolver : "system", err);
        if (mp_load_acquire(&d->stop))
            return; /* answers cut short by the stop are no answers */
        dnsbl__note(d, gr);
        for (size_t i = 0; i < gr->n; i++) {
            errs += gr->q[i].ans.result == MP_DNSQ_ERROR;
            dnsbl__answer(d, &d->checks[gr->idx[i]], &gr->q[i].ans);
        }
    }
    uint64_t ns = (uint64_t)(mp_mono_ns() - t0);
    mp_store_relaxed(&d->last_ns, ns);
    mp_add_relaxed(&d->rounds, 1);
    mp_info("dnsbl_round queries=%zu listed=%llu errors=%zu ms=%llu", d->nchecks,
            (unsigned long long)mp_load_relaxed(&d->listed), errs,
            (unsigned long long)(ns / 1000000));
}

/* ---- reload ---- */

static void dnsbl__free(struct mp_dnsbl *d);

/* Orders checks by (query name, tenant): a check's identity. */
static int dnsbl__cmp(const void *a, const void *b)
{
    const struct dnsbl_check *x = *(const struct dnsbl_check *const *)a;
    const struct dnsbl_check *y = *(const struct dnsbl_check *const *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->t->tenant, y->t->tenant);
}

/* Checker thread: the new conf's plan takes over. A check kept (same
 * tenant, target and zone) keeps what it last told; one gone resolves its
 * alert (so a target taken out of the file does not stay listed forever);
 * a new one is asked at the next round, which comes within a second. */
static void dnsbl__apply(struct mp_dnsbl *d, struct mp_dnsbl_conf *nc)
{
    struct mp_dnsbl *nd = calloc(1, sizeof(*nd));
    struct dnsbl_check **old = calloc(d->nchecks ? d->nchecks : 1, sizeof(*old));
    char *matched = calloc(d->nchecks ? d->nchecks : 1, 1);
    if (nd)
        nd->c = nc;
    if (!nd || !old || !matched || dnsbl__plan(nd) != MP_OK) {
        mp_error("dnsbl_reload_failed err=\"out of memory\" kept=\"the blocklists in use\"");
        if (nd)
            dnsbl__free(nd);
        free(old);
        free(matched);
        mp_config_dnsbl_free(nc);
        free(nc);
        return;
    }
    for (size_t i = 0; i < d->nchecks; i++)
        old[i] = &d->checks[i];
    qsort(old, d->nchecks, sizeof(*old), dnsbl__cmp);
    size_t kept = 0;
    uint64_t listed = 0;
    for (size_t i = 0; i < nd->nchecks; i++) {
        struct dnsbl_check *k = &nd->checks[i], **o = bsearch(&k, old, d->nchecks, sizeof(*old),
                                                                dnsbl__cmp);
        if (!o)
            continue;
        matched[o - old] = 1;
        k->st = (*o)->st; /* nd is not visible yet: no lock */
        k->state = (*o)->state;
        memcpy(k->code, (*o)->code, sizeof(k->code));
        memcpy(k->txt, (*o)->txt, sizeof(k->txt));
        kept++;
        listed += k->state == CHK_LISTED;
    }
    for (size_t i = 0; i < d->nchecks; i++) /* UNKNOWN too: it may be restored firing */
        if (!matched[i] && old[i]->state != CHK_CLEAN)
            dnsbl__tell(d, old[i], NULL);
    /* the swap: nd leaves with the old plan, freed once readers see the new */
    struct dnsbl_check *ck = d->checks;
    struct dnsbl_group *gr = d->groups;
    size_t nck = d->nchecks, ngr = d->ngroups;
    struct mp_dnsbl_conf *was = d->owned;
    pthread_mutex_lock(&d->status_mu);
    d->checks = nd->checks, d->nchecks = nd->nchecks;
    d->c = d->owned = nc;
    pthread_mutex_unlock(&d->status_mu);
    d->groups = nd->groups, d->ngroups = nd->ngroups;
    nd->checks = ck, nd->nchecks = nck, nd->groups = gr, nd->ngroups = ngr;
    mp_store_relaxed(&d->listed, listed);
    mp_info("dnsbl_reloaded checks=%zu kept=%zu added=%zu removed=%zu resolvers=%zu "
            "interval_ms=%lld", d->nchecks, kept, d->nchecks - kept, nck - kept, d->ngroups,
            (long long)nc->interval_ms);
    dnsbl__free(nd);
    free(old);
    free(matched);
    if (was) {
        mp_config_dnsbl_free(was);
        free(was);
    }
}

static struct mp_dnsbl_conf *dnsbl__take(struct mp_dnsbl *d)
{
    pthread_mutex_lock(&d->mu);
    struct mp_dnsbl_conf *nc = d->pending;
    d->pending = NULL;
    pthread_mutex_unlock(&d->mu);
    return nc;
}

int mp_dnsbl_reload(struct mp_dnsbl *d, struct mp_dnsbl_conf *c)
{
    if (!d) {
        if (c->enabled && c->ntenants)
            mp_warn("dnsbl_reload_skipped why=\"no blocklists were checked at start: the "
                    "section takes effect at the next start\"");
        return MP_OK;
    }
    struct mp_dnsbl_conf *m = malloc(sizeof(*m));
    if (!m) {
        mp_error("dnsbl_reload_failed err=\"out of memory\" kept=\"the blocklists in use\"");
        return MP_ERR_NOMEM;
    }
    *m = *c;
    mp_config_dnsbl_defaults(c); /* the checker owns the strings now */
    pthread_mutex_lock(&d->mu);
    struct mp_dnsbl_conf *was = d->pending; /* a newer file replaces one not yet applied */
    d->pending = m;
    pthread_mutex_unlock(&d->mu);
    if (was) {
        mp_config_dnsbl_free(was);
        free(was);
    }
    return MP_OK;
}

/* ---- the thread ---- */

static uint64_t dnsbl__rand(struct mp_dnsbl *d)
{
    d->rng ^= d->rng << 13; /* xorshift64: jitter, not secrets */
    d->rng ^= d->rng >> 7;
    d->rng ^= d->rng << 17;
    return d->rng;
}

static void *dnsbl__main(void *arg)
{
    struct mp_dnsbl *d = arg;
    mp_thread_name("mp-dnsbl", -1);
    int64_t tenth = d->c->interval_ms / 10;
    int64_t first = tenth < 10000 ? tenth : 10000;
    int64_t next = mp_mono_ns() / 1000000 + (int64_t)(dnsbl__rand(d) % (uint64_t)(first + 1));
    while (!mp_load_acquire(&d->stop)) {
        int64_t now = mp_mono_ns() / 1000000;
        struct mp_dnsbl_conf *nc = dnsbl__take(d);
        if (nc) {
            dnsbl__apply(d, nc);
            tenth = d->c->interval_ms / 10;
            next = now + (int64_t)(dnsbl__rand(d) % 1000); /* the new targets soon */
        }
        if (now < next || d->nchecks == 0) {
            /* the stop flag and a reload, 10 times a second */
            int64_t ms = now < next && next - now < 100 ? next - now : 100;
            struct timespec ts = {0, ms * 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        dnsbl__round(d);
        next = mp_mono_ns() / 1000000 + d->c->interval_ms -
               (int64_t)(dnsbl__rand(d) % (uint64_t)(tenth + 1));
    }
    return NULL;
}

static void dnsbl__free(struct mp_dnsbl *d)
{
    if (d->owned) {
        mp_config_dnsbl_free(d->owned);
        free(d->owned);
    }
    if (d->pending) {
        mp_config_dnsbl_free(d->pending);
        free(d->pending);
    }
    for (size_t i = 0; d->groups && i < d->ngroups; i++) {
        free(d->groups[i].idx);
        free(d->groups[i].q);
    }
    free(d->groups);
    free(d->checks);
    free(d);
}

int mp_dnsbl_start(const struct mp_dnsbl_conf *c, struct alert_eval *eval, struct mp_dnsbl **out,
                   char *err, size_t errlen)
{
    *out = NULL;
    if (!c->enabled || c->ntenants == 0)
        return MP_OK;
    struct mp_dnsbl *d = calloc(1, sizeof(*d));
    if (d) {
        d->c = c;
        d->eval = eval;
        pthread_mutex_init(&d->mu, NULL);
        pthread_mutex_init(&d->status_mu, NULL);
    }
    if (!d || dnsbl__plan(d) != MP_OK) {
        snprintf(err, errlen, "blocklists: out of memory");
        if (d)
            dnsbl__free(d);
        return MP_ERR_NOMEM;
    }
    if (getrandom(&d->rng, sizeof(d->rng), 0) != (ssize_t)sizeof(d->rng) || d->rng == 0)
        d->rng = (uint64_t)mp_mono_ns() | 1;
    if (pthread_create(&d->tid, NULL, dnsbl__main, d) != 0) {
        snprintf(err, errlen, "blocklists: no thread");
        dnsbl__free(d);
        return MP_ERR_STATE;
    }
    d->started = 1;
    mp_info("dnsbl_started checks=%zu resolvers=%zu interval_ms=%lld", d->nchecks, d->ngroups,
            (long long)c->interval_ms);
    *out = d;
    return MP_OK;
}

void mp_dnsbl_stop(struct mp_dnsbl *d)
{
    if (!d)
        return;
    mp_thread_stop(&d->stop, d->started, d->tid);
    pthread_mutex_destroy(&d->mu);
    pthread_mutex_destroy(&d->status_mu);
    dnsbl__free(d);
}

const char *mp_dnsbl_status_name(int status)
{
    return status == MP_DNSBL_LISTED ? "listed" : status == MP_DNSBL_CLEAN ? "clean" : "unknown";
}

int mp_dnsbl_visit(struct mp_dnsbl *d, const char *tenant, const struct mp_dnsbl_visitor *v)
{
    if (!d)
        return MP_ERR_NOTFOUND;
    pthread_mutex_lock(&d->status_mu);
    const struct mp_dnsbl_tenant *t = NULL;
    for (size_t i = 0; !t && i < d->c->ntenants; i++)
        if (strcmp(d->c->tenants[i].tenant, tenant) == 0)
            t = &d->c->tenants[i];
    int rc = v->section(v->arg, d->c, t);
    for (size_t i = 0; rc == MP_OK && t && i < d->nchecks; i++) {
        const struct dnsbl_check *k = &d->checks[i];
        const struct dnsbl_status *s = &k->st;
        if (k->t != t) /* the checks point into d->c's tenants */
            continue;
        int listed = s->status == MP_DNSBL_LISTED;
        struct mp_dnsbl_check_view w = {
            .tenant = t->tenant, .target = k->target, .zone = k->z->name, .type = k->z->type,
            .status = s->status, .since_ms = s->since_ms, .checked_ms = s->checked_ms,
            .error_ms = s->error_ms, .error_reason = s->error_reason,
            .code = listed ? s->code : NULL, .txt = listed ? s->txt : NULL,
            .meaning = listed && !strchr(s->code, ',') ? mp_config_dnsbl_meaning(k->z, s->code)
                                                       : NULL};
        rc = v->check(v->arg, &w);
    }
    pthread_mutex_unlock(&d->status_mu);
    return rc;
}

void mp_dnsbl_figures(const struct mp_dnsbl *d, struct mp_dnsbl_figures *out)
{
    memset(out, 0, sizeof(*out));
    if (!d)
        return;
    out->rounds = mp_load_relaxed(&d->rounds);
    out->queries = mp_load_relaxed(&d->queries);
    out->listed = mp_load_relaxed(&d->listed);
    out->listings = mp_load_relaxed(&d->listings);
    out->last_round_ns = mp_load_relaxed(&d->last_ns);
    for (int i = 0; i < MP_DNSQ_NREASONS; i++)
        out->errors[i] = mp_load_relaxed(&d->errors[i]);
}

int mp_dnsbl_render_metrics(const struct mp_dnsbl *d, struct mp_buf *out)
{
    struct mp_dnsbl_figures f;
    mp_dnsbl_figures(d, &f);
    int rc = mp_buf_printf(
        out,
        "# HELP mailpulse_dnsbl_rounds_total Blocklist check rounds finished.\n"
        "# TYPE mailpulse_dnsbl_rounds_total counter\nmailpulse_dnsbl_rounds_total %llu\n"
        "# HELP mailpulse_dnsbl_queries_total Blocklist queries answered (errors included).\n"
        "# TYPE mailpulse_dnsbl_queries_total counter\nmailpulse_dnsbl_queries_total %llu\n"
        "# HELP mailpulse_dnsbl_listed Targets (IP or domain, per zone) listed now.\n"
        "# TYPE mailpulse_dnsbl_listed gauge\nmailpulse_dnsbl_listed %llu\n"
        "# HELP mailpulse_dnsbl_listings_total Changes from not listed to listed.\n"
        "# TYPE mailpulse_dnsbl_listings_total counter\nmailpulse_dnsbl_listings_total %llu\n"
        "# HELP mailpulse_dnsbl_last_round_seconds How long the last round took.\n"
        "# TYPE mailpulse_dnsbl_last_round_seconds gauge\n"
        "mailpulse_dnsbl_last_round_seconds %.6f\n"
        "# HELP mailpulse_dnsbl_errors_total Blocklist queries that failed, by reason (never "
        "read as listed or not listed).\n# TYPE mailpulse_dnsbl_errors_total counter\n",
        (unsigned long long)f.rounds, (unsigned long long)f.queries,
        (unsigned long long)f.listed, (unsigned long long)f.listings,
        (double)f.last_round_ns / 1e9);
    for (int i = 1; rc == MP_OK && i < MP_DNSQ_NREASONS; i++)
        rc = mp_buf_printf(out, "mailpulse_dnsbl_errors_total{reason=\"%s\"} %llu\n",
                           mp_dnsq_reason_name(i), (unsigned long long)f.errors[i]);
    return rc;
}
