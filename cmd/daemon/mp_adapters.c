/* mp_adapters.c — the ESP webhook endpoints (see mp_adapters.h). */
#include "mp_adapters.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eng_hash.h"
#include "ingest_adapt.h"
#include "ingest_worker.h"
#include "mp_atomic.h"
#include "mp_adapters_durable.h"
#include "mp_adapters_sns.h"
#include "mp_config.h"
#include "mp_log.h"

/* An adapter's figures, by name: they outlive the sets, so an adapter that
 * a reload keeps (same name) keeps counting where it was. */
struct adapters__stats {
    struct adapters__stats *next;
    mp_atomic_u64 requests, accepted, duplicates, bad_sig, malformed, unavailable, sns_confirmed;
    char name[]; /* the adapter's */
};

struct adapters__one {
    const struct mp_adapter_conf *c;
    struct ingest_adapt_conf ac;
    struct ingest_adapt_key *key; /* sendgrid: the verification key */
    struct mp_sns *sns;           /* type ses */
    struct adapters__stats *st;
};

/* The adapters of one config, swapped whole by a reload. A request holds a
 * reference from finding its adapter to its answer, so a set a reload
 * replaced is freed by whoever drops its last reference. */
struct adapters__set {
    struct adapters__one *a;
    size_t n;
    struct mp_adapter_conf *owned; /* a reload's list (the start's is the config's) */
    size_t nowned;
    unsigned refs; /* under set_mu */
};

struct mp_adapters {
    pthread_mutex_t set_mu;       /* guards cur, its refs, stats */
    struct adapters__set *cur;
    struct adapters__stats *stats;
    struct ingest_limits lim;
    pthread_mutex_t mu; /* guards dur and proc */
    struct mp_adur *dur; /* the dedup set and the journal writes */
    struct ingest_proc *proc;
    uint64_t seed; /* the dedup set's, stored with it: ids hash alike after a restart */
};

static void adapters__set_free(struct adapters__set *s)
{
    if (!s)
        return;
    for (size_t i = 0; s->a && i < s->n; i++) {
        ingest_adapt_key_free(s->a[i].key);
        mp_sns_destroy(s->a[i].sns);
    }
    free(s->a);
    mp_config_adapters_free_list(s->owned, s->nowned);
    free(s);
}

/* Under set_mu: the figures of the adapter called name, made on first use. */
static struct adapters__stats *adapters__stats_of(struct mp_adapters *m, const char *name)
{
    struct adapters__stats *st = m->stats;
    while (st && strcmp(st->name, name) != 0)
        st = st->next;
    if (!st && (st = calloc(1, sizeof(*st) + strlen(name) + 1)) != NULL) {
        strcpy(st->name, name);
        st->next = m->stats;
        m->stats = st;
    }
    return st;
}

/* The set of conf[0..n): keys loaded, SNS state made, figures by name. */
static int adapters__set_build(struct mp_adapters *m, const struct mp_adapter_conf *conf,
                               size_t n, struct adapters__set **out, char *err, size_t errlen)
{
    struct adapters__set *s = calloc(1, sizeof(*s));
    int rc = s && (n == 0 || (s->a = calloc(n, sizeof(*s->a)))) ? MP_OK : MP_ERR_NOMEM;
    for (size_t i = 0; rc == MP_OK && i < n; i++) {
        const struct mp_adapter_conf *c = &conf[i];
        struct adapters__one *a = &s->a[s->n++];
        a->c = c;
        a->ac = (struct ingest_adapt_conf){.kind = c->type,
                                           .tenant = c->tenant,
                                           .tenant_field = c->tenant_field,
                                           .tenants = (const char *const *)c->tenants,
                                           .ntenants = c->ntenants,
                                           .mailbox_field = c->mailbox_field,
                                           .signing_key = c->signing_key,
                                           .topic_arns = (const char *const *)c->topic_arns,
                                           .ntopic_arns = c->n_topic_arns};
        pthread_mutex_lock(&m->set_mu);
        a->st = adapters__stats_of(m, c->name);
        pthread_mutex_unlock(&m->set_mu);
        if (!a->st)
            rc = MP_ERR_NOMEM;
        /* checked at config load; a failure here is memory */
        if (rc == MP_OK && c->type == INGEST_ADAPT_SENDGRID)
            rc = ingest_adapt_key_load(c->signing_key, &a->key, err, errlen);
        if (rc == MP_OK && c->type == INGEST_ADAPT_SES)
            rc = mp_sns_create(c, &a->sns, err, errlen);
    }
    if (rc != MP_OK) {
        adapters__set_free(s);
        return rc;
    }
    *out = s;
    return MP_OK;
}

/* A request's reference to the adapters in use (NULL: none are). */
static struct adapters__set *adapters__hold(struct mp_adapters *m)
{
    if (!m)
        return NULL;
    pthread_mutex_lock(&m->set_mu);
    struct adapters__set *s = m->cur;
    s->refs++;
    pthread_mutex_unlock(&m->set_mu);
    return s;
}

static void adapters__drop(struct mp_adapters *m, struct adapters__set *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&m->set_mu);
    bool last = --s->refs == 0 && s != m->cur;
    pthread_mutex_unlock(&m->set_mu);
    if (last)
        adapters__set_free(s);
}

static uint64_t adapters__key(const struct mp_adapters *m, const struct adapters__one *a,
                              const char *kind, const char *id)
{
    char buf[64 + 8 + INGEST_ADAPT_ID_MAX + 3];
    int n = snprintf(buf, sizeof(buf), "%s%c%s%c%s", a->c->name, 0, kind, 0, id);
    return eng_hash_name(buf, (size_t)n, m->seed);
}

int mp_adapters_create(const struct mp_adapter_conf *conf, size_t n, struct eng_table *t,
                       const struct ingest_limits *lim, struct ingest_journal *journal,
                       const char *seen_path, struct mp_adapters **out, char *err,
                       size_t errlen)
{
    *out = NULL;
    struct mp_adapters *m = calloc(1, sizeof(*m));
    int rc;
    /* ESP feeds often carry no sender: such events count without a
     * mailbox (the wire path keeps it required) */
    struct ingest_limits al = *lim;
    al.mailbox_optional = 1;
    if (!m)
        return MP_ERR_NOMEM;
    pthread_mutex_init(&m->set_mu, NULL);
    pthread_mutex_init(&m->mu, NULL);
    m->lim = al;
    if ((rc = mp_adur_open(journal, seen_path, mp_now_ms(), &m->dur, err, errlen)) == MP_OK)
        rc = ingest_proc_create(t, &al, &m->proc);
    if (rc == MP_OK) {
        m->seed = mp_adur_seed(m->dur);
        rc = adapters__set_build(m, conf, n, &m->cur, err, errlen);
    }
    if (rc != MP_OK) {
        mp_adapters_destroy(m);
        return rc;
    }
    *out = m;
    return MP_OK;
}

int mp_adapters_reload(struct mp_adapters *m, struct mp_config *nc)
{
    char err[512] = "";
    struct adapters__set *s = NULL;
    if (!m)
        return MP_OK;
    int rc = adapters__set_build(m, nc->adapters, nc->n_adapters, &s, err, sizeof(err));
    if (rc != MP_OK) {
        mp_error("adapters_reload_failed err=%s kept=\"the adapters in use\"",
                 MP_LOG_Q(err[0] ? err : "out of memory"));
        return rc;
    }
    s->owned = nc->adapters; /* taken from the config: the set frees the list */
    s->nowned = nc->n_adapters;
    nc->adapters = NULL;
    nc->n_adapters = 0;
    pthread_mutex_lock(&m->set_mu);
    struct adapters__set *was = m->cur;
    size_t kept = 0;
    for (size_t i = 0; i < s->n; i++)
        for (size_t j = 0; j < was->n; j++)
            kept += strcmp(s->a[i].c->name, was->a[j].c->name) == 0;
    m->cur = s;
    bool idle = was->refs == 0; /* else its last request frees it */
    pthread_mutex_unlock(&m->set_mu);
    mp_info("adapters_reloaded adapters=%zu kept=%zu added=%zu removed=%zu", s->n, kept,
            s->n - kept, was->n - kept);
    if (idle)
        adapters__set_free(was);
    return MP_OK;
}

void mp_adapters_destroy(struct mp_adapters *m)
{
    if (!m)
        return;
    ingest_proc_destroy(m->proc);
    mp_adur_close(m->dur);
    adapters__set_free(m->cur);
    for (struct adapters__stats *st = m->stats, *next; st; st = next) {
        next = st->next;
        free(st);
    }
    pthread_mutex_destroy(&m->mu);
    pthread_mutex_destroy(&m->set_mu);
    free(m);
}

/* The header check of postmark, json and sendgrid (mailgun signs in the
 * body). */
static int adapters__auth(const struct adapters__one *a, const struct mp_http_request *req,
                          int64_t now)
{
    const char *h = mp_http_header(req, "Authorization");
    switch (a->c->type) {
    case INGEST_ADAPT_POSTMARK: return ingest_adapt_basic_ok(a->c->signing_key, h);
    case INGEST_ADAPT_JSON: return ingest_adapt_bearer_ok(a->c->signing_key, h);
    case INGEST_ADAPT_SENDGRID:
        return ingest_adapt_sendgrid_ok(
            a->key, mp_http_header(req, "X-Twilio-Email-Event-Webhook-Timestamp"),
            mp_http_header(req, "X-Twilio-Email-Event-Webhook-Signature"),
            req->body ? req->body : "", req->body_len, now);
    default: return 1;
    }
}

/* Every event against the ingest rules before any is recorded, so a body
 * is taken whole or not at all. Fills evs (the wire form the recorder
 * takes); 0, or -1 with err. */
static int adapters__validate(const struct mp_adapters *m, const struct ingest_adapt_out *o,
                              Mailpulse__V1__Event *evs, int64_t now, char *err, size_t errlen)
{
    char buf[INGEST_NAMEBUF_LEN];
    struct eng_event ee;
    for (size_t i = 0; i < o->n; i++) {
        Mailpulse__V1__Event e = MAILPULSE__V1__EVENT__INIT;
        e.tenant = o->ev[i].tenant;
        e.mailbox = o->ev[i].mailbox;
        e.recipient_domain = o->ev[i].domain;
        e.type = (Mailpulse__V1__EventType)o->ev[i].type;
        e.time_ms = o->ev[i].time_ms;
        e.event_id = o->ev[i].id;
        evs[i] = e;
        int r = ingest_validate_event(&evs[i], now, &m->lim, buf, &ee);
        if (r != INGEST_OK) {
            snprintf(err, errlen, "events[%zu]: %s", i, ingest_reason_name(r));
            return -1;
        }
    }
    return 0;
}

/* Overload: past MP_ADAPTERS_BUSY_MS behind other requests (each holds the
 * lock through a synced journal write), 0 so the caller answers 503 and the
 * service retries later instead of piling connections up. */
static int adapters__lock(struct mp_adapters *m)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += MP_ADAPTERS_BUSY_MS / 1000;
    dl.tv_nsec += (long)(MP_ADAPTERS_BUSY_MS % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L)
        dl.tv_sec++, dl.tv_nsec -= 1000000000L;
    return pthread_mutex_timedlock(&m->mu, &dl) == 0;
}

/* The new events (ptrs) and their dedup entries (keys, untils; the token's
 * last) made durable together and applied (mp_adapters_durable.h). */
static int adapters__commit(struct mp_adapters *m, const struct adapters__one *a,
                            Mailpulse__V1__Event **ptrs, size_t k, const uint64_t *keys,
                            const int64_t *untils, size_t nk, int64_t now, uint32_t *acc,
                            uint32_t *rej)
{
    char pid[128];
    snprintf(pid, sizeof(pid), "adapter:%s", a->c->name);
    struct mp_adur_frame *f = NULL;
    size_t nf = 0;
    int rc = mp_adur_pack(ptrs, k, pid, &m->lim, &f, &nf);
    if (rc == MP_OK)
        rc = mp_adur_record(m->dur, m->proc, f, nf, keys, untils, nk, now, acc, rej);
    mp_adur_frames_free(f, nf);
    return rc == MP_OK ? 200 : rc == MP_ERR_INVAL ? 413 : 503;
}

/* Under the mutex: drops what was seen, then makes the rest and their ids
 * durable in one journal write and applies them. Returns the HTTP status
 * (200, 401 for a replayed Mailgun token, 413 for an event over the frame
 * limit, 503 with the dedup table full or the journal failing, 500). */
static int adapters__record(struct mp_adapters *m, struct adapters__one *a,
                            struct ingest_adapt_out *o, Mailpulse__V1__Event *evs, int64_t now,
                            uint32_t *acc, uint32_t *dup, uint32_t *rej)
{
    Mailpulse__V1__Event **ptrs = calloc(o->n + 1, sizeof(*ptrs));
    uint64_t *keys = calloc(o->n + 1, sizeof(*keys));
    int64_t *untils = calloc(o->n + 1, sizeof(*untils));
    size_t k = 0, nk = 0;
    int status = 200;
    if (!ptrs || !keys || !untils) {
        free(ptrs);
        free(keys);
        free(untils);
        return 500;
    }
    if (!adapters__lock(m)) {
        free(ptrs);
        free(keys);
        free(untils);
        return 503;
    }
    uint64_t tok = o->token[0] ? adapters__key(m, a, "token", o->token) : 0;
    int replay = tok && mp_adur_has(m->dur, tok, now);
    for (size_t i = 0; i < o->n; i++) {
        uint64_t h = o->ev[i].id[0] ? adapters__key(m, a, "event", o->ev[i].id) : 0;
        int again = h && mp_adur_has(m->dur, h, now);
        for (size_t j = 0; h && !again && j < nk; j++)
            again = keys[j] == h; /* the same id twice in one body */
        if (again) {
            (*dup)++;
            continue;
        }
        if (h) { /* events without an id are recorded, never deduplicated */
            keys[nk] = h;
            untils[nk++] = now + a->c->dedup_window_ms;
        }
        ptrs[k++] = &evs[i];
    }
    /* A used token is a replay. Mailgun signs only timestamp + token, so a
     * captured signature on a new event is forged: 401. The same event
     * again (a retry after a lost 200) is answered as a duplicate. */
    if (replay && k > 0)
        status = 401;
    if (tok) { /* the token with the ids: one write per request */
        keys[nk] = tok;
        untils[nk++] = now + 2000 * INGEST_ADAPT_MAX_AGE_S;
    }
    /* remembered only once durable, with the events: a failed request is
     * retried whole, a committed one is a duplicate whatever crashes */
    if (status == 200 && (k > 0 || nk > 0))
        status = adapters__commit(m, a, ptrs, k, keys, untils, nk, now, acc, rej);
    pthread_mutex_unlock(&m->mu);
    free(ptrs);
    free(keys);
    free(untils);
    return status;
}

static struct adapters__one *adapters__find(struct adapters__set *s, const char *path)
{
    for (size_t i = 0; s && i < s->n; i++)
        if (strcmp(s->a[i].c->path, path) == 0)
            return &s->a[i];
    return NULL;
}

void mp_adapters_reply(struct mp_adapters *m, const struct mp_http_request *req,
                       struct mp_http_reply *out)
{
    struct adapters__set *set = adapters__hold(m);
    struct adapters__one *a = adapters__find(set, req->path);
    struct ingest_adapt_out o = {0};
    char err[512], msg[640];
    int64_t now = mp_now_ms();
    uint32_t acc = 0, dup = 0, rej = 0;
    if (!a) {
        mp_http_error(out, 404, "no adapter at this path (see adapters: in the config)");
        adapters__drop(m, set);
        return;
    }
    mp_add_relaxed(&a->st->requests, 1);
    struct ingest_adapt_conf ac = a->ac;
    X509 *cert = NULL; /* ses: the certificate of this body's SigningCertURL */
    int rc = adapters__auth(a, req, now) ? MP_OK : INGEST_ADAPT_ERR_SIG;
    if (rc == MP_OK && a->sns)
        rc = mp_sns_prepare(a->sns, req->body ? req->body : "", req->body_len, &cert, err,
                            sizeof(err));
    ac.sns_cert = cert;
    if (rc == MP_OK)
        rc = ingest_adapt_parse(&ac, req->body ? req->body : "", req->body_len, now, &o, err,
                                sizeof(err));
    X509_free(cert);
    int sns_status = rc == MP_OK && a->sns ? mp_sns_after(a->sns, &o.sns, a->c->dedup_window_ms,
                                                          now, err, sizeof(err)) : 0;
    if (sns_status == 200 && strcmp(o.sns.type, "SubscriptionConfirmation") == 0)
        mp_add_relaxed(&a->st->sns_confirmed, 1);
    if (sns_status)
        o.n = 0; /* answered without recording */
    Mailpulse__V1__Event *evs = rc == MP_OK ? calloc(o.n + 1, sizeof(*evs)) : NULL;
    if (rc == MP_OK && !evs)
        rc = MP_ERR_NOMEM;
    if (rc == MP_OK && adapters__validate(m, &o, evs, now, err, sizeof(err)) != 0)
        rc = MP_ERR_INVAL;
    int status = sns_status ? sns_status
                 : rc == MP_OK ? adapters__record(m, a, &o, evs, now, &acc, &dup, &rej)
                 : rc == INGEST_ADAPT_ERR_SIG ? 401 : rc == MP_ERR_INVAL ? 400 : 500;
    if (status == 401) {
        mp_add_relaxed(&a->st->bad_sig, 1);
        mp_http_error(out, 401, "bad, missing, stale or replayed signature (or credentials)");
    } else if (status == 400) {
        mp_add_relaxed(&a->st->malformed, 1);
        snprintf(msg, sizeof(msg), "%s", err);
        mp_http_error(out, 400, msg);
    } else if (status == 503) {
        /* ESPs retry on 5xx; Retry-After says when (counted, and logged by
         * the journal's writer when its commit failed) */
        mp_add_relaxed(&a->st->unavailable, 1);
        mp_http_error(out, 503, sns_status == 503
                                    ? "the SubscribeURL could not be fetched; retry later"
                                    : "busy, or the journal or dedup set cannot take the events "
                                      "now; retry later");
        out->retry_after_s = MP_ADAPTERS_RETRY_AFTER_S;
    } else if (status != 200) {
        mp_http_error(out, status,
                      status == 413 ? "an event is larger than ingest.max_frame_bytes"
                                    : "internal");
    } else {
        mp_add_relaxed(&a->st->accepted, acc);
        mp_add_relaxed(&a->st->duplicates, dup);
        char body[128];
        snprintf(body, sizeof(body), "{\"accepted\":%u,\"duplicates\":%u,\"rejected\":%u}", acc,
                 dup, rej);
        out->status = 200;
        out->content_type = "application/json";
        out->body = strdup(body);
        out->len = out->body ? strlen(body) : 0;
        if (!out->body)
            out->status = 500;
    }
    free(evs);
    ingest_adapt_out_free(&o);
    adapters__drop(m, set);
}

int mp_adapters_metrics(struct mp_adapters *m, struct mp_buf *b)
{
    static const struct {
        const char *name, *help;
        size_t off;
    } rows[] = {
        {"requests", "Webhook requests per adapter.", offsetof(struct adapters__stats, requests)},
        {"events_accepted", "Events an adapter recorded.",
         offsetof(struct adapters__stats, accepted)},
        {"events_duplicate", "Events an adapter dropped as already recorded (dedup_window).",
         offsetof(struct adapters__stats, duplicates)},
        {"bad_signature", "Requests refused 401 (signature, credentials, replayed token).",
         offsetof(struct adapters__stats, bad_sig)},
        {"malformed", "Requests refused 400 (malformed body or event).",
         offsetof(struct adapters__stats, malformed)},
        {"unavailable", "Requests answered 503 with Retry-After (busy, journal commit failed, "
                        "dedup set full); the service retries.",
         offsetof(struct adapters__stats, unavailable)},
        {"sns_confirmed", "SNS subscriptions an ses adapter confirmed (GET SubscribeURL, 2xx).",
         offsetof(struct adapters__stats, sns_confirmed)},
    };
    int rc = MP_OK;
    if (!m)
        return MP_OK;
    pthread_mutex_lock(&m->set_mu); /* the set in use: its names, their figures */
    const struct adapters__set *s = m->cur;
    for (size_t r = 0; s->n && rc == MP_OK && r < MP_ARRAY_LEN(rows); r++) {
        rc = mp_buf_printf(b, "# HELP mailpulse_adapter_%s_total %s\n# TYPE mailpulse_adapter_%s_total counter\n",
                           rows[r].name, rows[r].help, rows[r].name);
        for (size_t i = 0; rc == MP_OK && i < s->n; i++) {
            const struct adapters__stats *st = s->a[i].st;
            const mp_atomic_u64 *v =
                (const mp_atomic_u64 *)(const void *)((const char *)st + rows[r].off);
            rc = mp_buf_printf(b, "mailpulse_adapter_%s_total{adapter=\"%s\"} %llu\n",
                               rows[r].name, st->name, (unsigned long long)mp_load_relaxed(v));
        }
    }
    pthread_mutex_unlock(&m->set_mu);
    return rc;
}
