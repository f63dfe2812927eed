/* mp_adapters.c — the ESP webhook endpoints (see mp_adapters.h). */
#include "mp_adapters.h"

#include <pthread.h>
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
#include "mp_log.h"

struct adapters__one {
    const struct mp_adapter_conf *c;
    struct ingest_adapt_conf ac;
    struct ingest_adapt_key *key; /* sendgrid: the verification key */
    struct mp_sns *sns;           /* type ses */
    mp_atomic_u64 requests, accepted, duplicates, bad_sig, malformed, unavailable, sns_confirmed;
};

struct mp_adapters {
    struct adapters__one *a;
    size_t n;
    struct ingest_limits lim;
    pthread_mutex_t mu; /* guards dur and proc */
    struct mp_adur *dur; /* the dedup set and the journal writes */
    struct ingest_proc *proc;
    uint64_t seed; /* the dedup set's, stored with it: ids hash alike after a restart */
};

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
    if (n == 0)
        return MP_OK;
    struct mp_adapters *m = calloc(1, sizeof(*m));
    int rc = MP_ERR_NOMEM;
    /* ESP feeds often carry no sender: such events count without a
     * mailbox (the wire path keeps it required) */
    struct ingest_limits al = *lim;
    al.mailbox_optional = 1;
    if (m && (m->a = calloc(n, sizeof(*m->a))) &&
        (rc = mp_adur_open(journal, seen_path, mp_now_ms(), &m->dur, err, errlen)) == MP_OK)
        rc = ingest_proc_create(t, &al, &m->proc);
    if (rc != MP_OK) {
        mp_adapters_destroy(m);
        return rc;
    }
    pthread_mutex_init(&m->mu, NULL);
    m->n = n;
    m->lim = al;
    m->seed = mp_adur_seed(m->dur);
    for (size_t i = 0; i < n; i++) {
        const struct mp_adapter_conf *c = &conf[i];
        m->a[i].c = c;
        m->a[i].ac = (struct ingest_adapt_conf){.kind = c->type,
                                                .tenant = c->tenant,
                                                .tenant_field = c->tenant_field,
                                                .tenants = (const char *const *)c->tenants,
                                                .ntenants = c->ntenants,
                                                .mailbox_field = c->mailbox_field,
                                                .signing_key = c->signing_key,
                                                .topic_arns = (const char *const *)c->topic_arns,
                                                .ntopic_arns = c->n_topic_arns};
        /* checked at config load; a failure here is memory */
        if (c->type == INGEST_ADAPT_SENDGRID &&
            (rc = ingest_adapt_key_load(c->signing_key, &m->a[i].key, err, errlen)) != MP_OK)
            break;
        if (c->type == INGEST_ADAPT_SES && (rc = mp_sns_create(c, &m->a[i].sns, err, errlen)))
            break;
    }
    if (rc != MP_OK) {
        mp_adapters_destroy(m);
        return rc;
    }
    *out = m;
    return MP_OK;
}

void mp_adapters_destroy(struct mp_adapters *m)
{
    if (!m)
        return;
    if (m->proc) {
        ingest_proc_destroy(m->proc);
        pthread_mutex_destroy(&m->mu);
    }
    mp_adur_close(m->dur);
    for (size_t i = 0; m->a && i < m->n; i++) {
        ingest_adapt_key_free(m->a[i].key);
        mp_sns_destroy(m->a[i].sns);
    }
    free(m->a);
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

static struct adapters__one *adapters__find(struct mp_adapters *m, const char *path)
{
    for (size_t i = 0; m && i < m->n; i++)
        if (strcmp(m->a[i].c->path, path) == 0)
            return &m->a[i];
    return NULL;
}

void mp_adapters_reply(struct mp_adapters *m, const struct mp_http_request *req,
                       struct mp_http_reply *out)
{
    struct adapters__one *a = adapters__find(m, req->path);
    struct ingest_adapt_out o = {0};
    char err[512], msg[640];
    int64_t now = mp_now_ms();
    uint32_t acc = 0, dup = 0, rej = 0;
    if (!a) {
        mp_http_error(out, 404, "no adapter at this path (see adapters: in the config)");
        return;
    }
    mp_add_relaxed(&a->requests, 1);
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
        mp_add_relaxed(&a->sns_confirmed, 1);
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
        mp_add_relaxed(&a->bad_sig, 1);
        mp_http_error(out, 401, "bad, missing, stale or replayed signature (or credentials)");
    } else if (status == 400) {
        mp_add_relaxed(&a->malformed, 1);
        snprintf(msg, sizeof(msg), "%s", err);
        mp_http_error(out, 400, msg);
    } else if (status == 503) {
        /* ESPs retry on 5xx; Retry-After says when (counted, and logged by
         * the journal's writer when its commit failed) */
        mp_add_relaxed(&a->unavailable, 1);
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
        mp_add_relaxed(&a->accepted, acc);
        mp_add_relaxed(&a->duplicates, dup);
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
}

int mp_adapters_metrics(struct mp_adapters *m, struct mp_buf *b)
{
    static const struct {
        const char *name, *help;
        size_t off;
    } rows[] = {
        {"requests", "Webhook requests per adapter.", offsetof(struct adapters__one, requests)},
        {"events_accepted", "Events an adapter recorded.", offsetof(struct adapters__one, accepted)},
        {"events_duplicate", "Events an adapter dropped as already recorded (dedup_window).",
         offsetof(struct adapters__one, duplicates)},
        {"bad_signature", "Requests refused 401 (signature, credentials, replayed token).",
         offsetof(struct adapters__one, bad_sig)},
        {"malformed", "Requests refused 400 (malformed body or event).",
         offsetof(struct adapters__one, malformed)},
        {"unavailable", "Requests answered 503 with Retry-After (busy, journal commit failed, "
                        "dedup set full); the service retries.",
         offsetof(struct adapters__one, unavailable)},
        {"sns_confirmed", "SNS subscriptions an ses adapter confirmed (GET SubscribeURL, 2xx).",
         offsetof(struct adapters__one, sns_confirmed)},
    };
    int rc = MP_OK;
    for (size_t r = 0; m && rc == MP_OK && r < MP_ARRAY_LEN(rows); r++) {
        rc = mp_buf_printf(b, "# HELP mailpulse_adapter_%s_total %s\n# TYPE mailpulse_adapter_%s_total counter\n",
                           rows[r].name, rows[r].help, rows[r].name);
        for (size_t i = 0; rc == MP_OK && i < m->n; i++) {
            const mp_atomic_u64 *v = (const mp_atomic_u64 *)(const void *)((const char *)&m->a[i] + rows[r].off);
            rc = mp_buf_printf(b, "mailpulse_adapter_%s_total{adapter=\"%s\"} %llu\n", rows[r].name,
                               m->a[i].c->name, (unsigned long long)mp_load_relaxed(v));
        }
    }
    return rc;
}
