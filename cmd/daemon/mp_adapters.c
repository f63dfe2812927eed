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
#include "mp_adapters_seen.h"
#include "mp_adapters_sns.h"
#include "mp_log.h"

struct adapters__one {
    const struct mp_adapter_conf *c;
    struct ingest_adapt_conf ac;
    mp_atomic_u64 requests, accepted, duplicates, bad_sig, malformed;
    struct mp_sns *sns; /* type ses */
    mp_atomic_u64 sns_confirmed;
};

struct mp_adapters {
    struct adapters__one *a;
    size_t n;
    struct ingest_limits lim;
    pthread_mutex_t mu; /* guards seen and proc */
    struct mp_seen *seen;
    struct ingest_proc *proc;
    uint64_t seed; /* the dedup file's: ids hash alike after a restart */
};

static uint64_t adapters__key(const struct mp_adapters *m, const struct adapters__one *a,
                              const char *kind, const char *id)
{
    char buf[64 + 8 + INGEST_ADAPT_ID_MAX + 3];
    int n = snprintf(buf, sizeof(buf), "%s%c%s%c%s", a->c->name, 0, kind, 0, id);
    return eng_hash_name(buf, (size_t)n, m->seed);
}

int mp_adapters_create(const struct mp_adapter_conf *conf, size_t n, struct eng_table *t,
                       const struct ingest_limits *lim, const char *seen_path,
                       struct mp_adapters **out, char *err, size_t errlen)
{
    *out = NULL;
    if (n == 0)
        return MP_OK;
    struct mp_adapters *m = calloc(1, sizeof(*m));
    int rc = MP_ERR_NOMEM;
    if (m && (m->a = calloc(n, sizeof(*m->a))) &&
        (rc = mp_seen_open(seen_path, mp_now_ms(), &m->seen, err, errlen)) == MP_OK)
        rc = ingest_proc_create(t, lim, &m->proc);
    if (rc != MP_OK) {
        mp_adapters_destroy(m);
        return rc;
    }
    pthread_mutex_init(&m->mu, NULL);
    m->n = n;
    m->lim = *lim;
    m->seed = mp_seen_seed(m->seen);
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
    mp_seen_close(m->seen);
    for (size_t i = 0; m->a && i < m->n; i++)
        mp_sns_destroy(m->a[i].sns);
    free(m->a);
    free(m);
}

/* The header check of postmark and json (mailgun signs in the body). */
static int adapters__auth(const struct adapters__one *a, const struct mp_http_request *req)
{
    const char *h = mp_http_header(req, "Authorization");
    switch (a->c->type) {
    case INGEST_ADAPT_POSTMARK: return ingest_adapt_basic_ok(a->c->signing_key, h);
    case INGEST_ADAPT_JSON: return ingest_adapt_bearer_ok(a->c->signing_key, h);
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

/* Under the mutex: drops what was seen, records the rest as one frame,
 * then remembers their ids. Returns the HTTP status (200, 401 for a
 * replayed Mailgun token, 503 with the dedup table full, 500). */
static int adapters__record(struct mp_adapters *m, struct adapters__one *a,
                            struct ingest_adapt_out *o, Mailpulse__V1__Event *evs, int64_t now,
                            uint32_t *acc, uint32_t *dup, uint32_t *rej)
{
    Mailpulse__V1__Event **ptrs = calloc(o->n + 1, sizeof(*ptrs));
    uint64_t *keys = calloc(o->n + 1, sizeof(*keys));
    size_t k = 0;
    int status = 200;
    int64_t until[2] = {now + a->c->dedup_window_ms, now + 2000 * INGEST_ADAPT_MAX_AGE_S};
    if (!ptrs || !keys) {
        free(ptrs);
        free(keys);
        return 500;
    }
    /* Overload: past MP_ADAPTERS_BUSY_MS behind other requests (each holds
     * the lock through a sync), answer 503 so the service retries later
     * instead of piling connections up. */
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += MP_ADAPTERS_BUSY_MS / 1000;
    dl.tv_nsec += (long)(MP_ADAPTERS_BUSY_MS % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L)
        dl.tv_sec++, dl.tv_nsec -= 1000000000L;
    if (pthread_mutex_timedlock(&m->mu, &dl) != 0) {
        free(ptrs);
        free(keys);
        return 503;
    }
    uint64_t tok = o->token[0] ? adapters__key(m, a, "token", o->token) : 0;
    int replay = tok && mp_seen_has(m->seen, tok, now);
    for (size_t i = 0; i < o->n; i++) {
        uint64_t h = o->ev[i].id[0] ? adapters__key(m, a, "event", o->ev[i].id) : 0;
        int again = h && mp_seen_has(m->seen, h, now);
        for (size_t j = 0; h && !again && j < k; j++)
            again = keys[j] == h; /* the same id twice in one body */
        if (again) {
            (*dup)++;
            continue;
        }
        keys[k] = h;
        ptrs[k++] = &evs[i];
    }
    /* A used token is a replay. Mailgun signs only timestamp + token, so a
     * captured signature on a new event is forged: 401. The same event
     * again (a retry after a lost 200) is answered as a duplicate. */
    if (replay && k > 0)
        status = 401;
    if (status == 200 && k > 0) {
        Mailpulse__V1__EventBatch b = MAILPULSE__V1__EVENT_BATCH__INIT;
        b.n_events = k;
        b.events = ptrs;
        size_t len = mailpulse__v1__event_batch__get_packed_size(&b);
        uint8_t *wire = malloc(len ? len : 1);
        if (!wire) {
            status = 500;
        } else {
            mailpulse__v1__event_batch__pack(&b, wire);
            struct eng_thread *th = ingest_proc_thread(m->proc);
            eng_thread_online(th);
            *acc = ingest_proc_frame(m->proc, wire, len, now, rej);
            eng_thread_offline(th);
            free(wire);
        }
    }
    /* remembered only once recorded (and synced to the file before the
     * 2xx): a failed request is retried whole */
    size_t nk = 0;
    for (size_t j = 0; j < k; j++)
        if (keys[j])
            keys[nk++] = keys[j];
    int64_t *untils = calloc(nk + 1, sizeof(*untils));
    for (size_t j = 0; untils && j < nk; j++)
        untils[j] = until[0];
    if (untils && tok) { /* the token with the ids: one sync per request */
        keys[nk] = tok;
        untils[nk++] = until[1];
    }
    if (status == 200 && (!untils || mp_seen_add(m->seen, keys, untils, nk, now) != MP_OK))
        status = 503;
    free(untils);
    pthread_mutex_unlock(&m->mu);
    free(ptrs);
    free(keys);
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
    int rc = adapters__auth(a, req) ? MP_OK : INGEST_ADAPT_ERR_SIG;
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
    } else if (status != 200) {
        mp_http_error(out, status,
                      sns_status == 503 ? "the SubscribeURL could not be fetched; retry later"
                      : status == 503 ? "busy, or the dedup set full or not writable; retry later"
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
