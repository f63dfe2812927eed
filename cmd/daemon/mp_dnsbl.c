/* mp_dnsbl.c — the blocklist checker (see mp_dnsbl.h).
 *
 * At start the conf is flattened into checks, one per (tenant, target,
 * zone), each with its query name, grouped by the resolver that asks for
 * them. A check remembers what it last told the evaluator, so a round
 * hands over changes only: a listing (or a new return code or TXT), and a
 * delisting. UNKNOWN (the start) tells either, so an alert restored firing
 * from the store is resolved by the first clean answer.
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
};

/* The checks asked through one resolver (NULL: the system's). */
struct dnsbl_group {
    const char *resolver;
    size_t *idx, n;
    struct mp_dnsq_query *q;
};

struct mp_dnsbl {
    const struct mp_dnsbl_conf *c;
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

static void dnsbl__answer(struct mp_dnsbl *d, struct dnsbl_check *k, const struct mp_dnsq_answer *a)
{
    mp_add_relaxed(&d->queries, 1);
    if (a->result == MP_DNSQ_ERROR) {
        mp_add_relaxed(&d->errors[a->reason > 0 && a->reason < MP_DNSQ_NREASONS ? a->reason
                                                                                 : MP_DNSQ_OTHER],
                       1);
        return; /* neither listed nor clean: the alert keeps its state */
    }
    if (a->result == MP_DNSQ_LISTED) {
        if (k->state != CHK_LISTED || strcmp(k->code, a->code) != 0 || strcmp(k->txt, a->txt) != 0)
            dnsbl__tell(d, k, a);
    } else if (k->state != CHK_CLEAN) {
        dnsbl__tell(d, k, NULL);
    }
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
    int64_t tenth = d->c->interval_ms / 10;
    int64_t first = tenth < 10000 ? tenth : 10000;
    int64_t next = mp_mono_ns() / 1000000 + (int64_t)(dnsbl__rand(d) % (uint64_t)(first + 1));
    while (!mp_load_acquire(&d->stop)) {
        int64_t now = mp_mono_ns() / 1000000;
        if (now < next) {
            int64_t ms = next - now < 100 ? next - now : 100; /* the stop flag, 10 times a second */
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
    dnsbl__free(d);
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
