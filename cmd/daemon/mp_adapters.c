/* mp_adapters.c — the ESP webhook endpoints (see mp_adapters.h). */
#include "mp_adapters.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eng_hash.h"
#include "ingest_adapt.h"
#include "ingest_worker.h"
#include "mp_atomic.h"
#include "mp_log.h"

struct adapters__one {
    const struct mp_adapter_conf *c;
    struct ingest_adapt_conf ac;
    mp_atomic_u64 requests, accepted, duplicates, bad_sig, malformed;
};

/* The dedup set: open addressing over keyed 64-bit hashes, each with the
 * time (ms) it may be forgotten; 0 is an empty slot. */
struct adapters__seen {
    uint64_t *h;
    int64_t *until;
    size_t cap, n;
};

struct mp_adapters {
    struct adapters__one *a;
    size_t n;
    struct ingest_limits lim;
    pthread_mutex_t mu; /* guards seen and proc */
    struct adapters__seen seen;
    struct ingest_proc *proc;
    uint64_t seed;
};

static int seen__alloc(struct adapters__seen *s, size_t cap)
{
    s->h = calloc(cap, sizeof(*s->h));
    s->until = calloc(cap, sizeof(*s->until));
    s->cap = cap;
    s->n = 0;
    return s->h && s->until ? MP_OK : MP_ERR_NOMEM;
}

static void seen__free(struct adapters__seen *s)
{
    free(s->h);
    free(s->until);
}

static size_t seen__find(const struct adapters__seen *s, uint64_t h)
{
    size_t i = h & (s->cap - 1);
    while (s->until[i] && s->h[i] != h)
        i = (i + 1) & (s->cap - 1);
    return i;
}

static int seen__has(const struct adapters__seen *s, uint64_t h, int64_t now)
{
    size_t i = seen__find(s, h);
    return s->until[i] > now;
}

/* Rebuilt without the expired entries, twice as large while still over a
 * quarter full. MP_ERR_FULL past MP_ADAPTERS_SEEN_MAX. */
static int seen__rebuild(struct adapters__seen *s, int64_t now)
{
    size_t live = 0;
    for (size_t i = 0; i < s->cap; i++)
        live += s->until[i] > now;
    size_t cap = s->cap;
    while (live * 4 >= cap)
        cap *= 2;
    if (cap > MP_ADAPTERS_SEEN_MAX)
        return MP_ERR_FULL;
    struct adapters__seen ns;
    if (seen__alloc(&ns, cap) != MP_OK) {
        seen__free(&ns);
        return MP_ERR_NOMEM;
    }
    for (size_t i = 0; i < s->cap; i++) {
        if (s->until[i] > now) {
            size_t j = seen__find(&ns, s->h[i]);
            ns.h[j] = s->h[i];
            ns.until[j] = s->until[i];
            ns.n++;
        }
    }
    seen__free(s);
    *s = ns;
    return MP_OK;
}

static int seen__add(struct adapters__seen *s, uint64_t h, int64_t until, int64_t now)
{
    int rc = MP_OK;
    if ((s->n + 1) * 2 > s->cap && (rc = seen__rebuild(s, now)) != MP_OK)
        return rc;
    size_t i = seen__find(s, h);
    if (!s->until[i])
        s->n++;
    s->h[i] = h;
    s->until[i] = until;
    return MP_OK;
}

static uint64_t adapters__key(const struct mp_adapters *m, const struct adapters__one *a,
                              const char *kind, const char *id)
{
    char buf[64 + 8 + INGEST_ADAPT_ID_MAX + 3];
    int n = snprintf(buf, sizeof(buf), "%s%c%s%c%s", a->c->name, 0, kind, 0, id);
    return eng_hash_name(buf, (size_t)n, m->seed);
}

int mp_adapters_create(const struct mp_adapter_conf *conf, size_t n, struct eng_table *t,
                       const struct ingest_limits *lim, struct mp_adapters **out)
{
    *out = NULL;
    if (n == 0)
        return MP_OK;
    struct mp_adapters *m = calloc(1, sizeof(*m));
    if (!m || !(m->a = calloc(n, sizeof(*m->a))) || seen__alloc(&m->seen, 1024) != MP_OK ||
        ingest_proc_create(t, lim, &m->proc) != MP_OK) {
        mp_adapters_destroy(m);
        return MP_ERR_NOMEM;
    }
    pthread_mutex_init(&m->mu, NULL);
    m->n = n;
    m->lim = *lim;
    m->seed = eng_hash_seed();
    for (size_t i = 0; i < n; i++) {
        const struct mp_adapter_conf *c = &conf[i];
        m->a[i].c = c;
        m->a[i].ac = (struct ingest_adapt_conf){.kind = c->type,
                                                .tenant = c->tenant,
                                                .tenant_field = c->tenant_field,
                                                .tenants = (const char *const *)c->tenants,
                                                .ntenants = c->ntenants,
                                                .mailbox_field = c->mailbox_field,
                                                .signing_key = c->signing_key};
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
    seen__free(&m->seen);
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
    int64_t until = now + a->c->dedup_window_ms;
    if (!ptrs || !keys) {
        free(ptrs);
        free(keys);
        return 500;
    }
    pthread_mutex_lock(&m->mu);
    uint64_t tok = o->token[0] ? adapters__key(m, a, "token", o->token) : 0;
    if (tok && seen__has(&m->seen, tok, now))
        status = 401;
    for (size_t i = 0; status == 200 && i < o->n; i++) {
        uint64_t h = o->ev[i].id[0] ? adapters__key(m, a, "event", o->ev[i].id) : 0;
        int again = h && seen__has(&m->seen, h, now);
        for (size_t j = 0; h && !again && j < k; j++)
            again = keys[j] == h; /* the same id twice in one body */
        if (again) {
            (*dup)++;
            continue;
        }
        keys[k] = h;
        ptrs[k++] = &evs[i];
    }
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
    /* remembered only once recorded: a failed request is retried whole */
    for (size_t j = 0; status == 200 && j < k; j++)
        if (keys[j] && seen__add(&m->seen, keys[j], until, now) != MP_OK)
            status = 503;
    if (status == 200 && tok && seen__add(&m->seen, tok, now + 2000 * INGEST_ADAPT_MAX_AGE_S,
                                          now) != MP_OK)
        status = 503;
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
    int rc = adapters__auth(a, req) ? ingest_adapt_parse(&a->ac, req->body ? req->body : "",
                                                         req->body_len, now, &o, err, sizeof(err))
                                    : INGEST_ADAPT_ERR_SIG;
    Mailpulse__V1__Event *evs = rc == MP_OK ? calloc(o.n + 1, sizeof(*evs)) : NULL;
    if (rc == MP_OK && !evs)
        rc = MP_ERR_NOMEM;
    if (rc == MP_OK && adapters__validate(m, &o, evs, now, err, sizeof(err)) != 0)
        rc = MP_ERR_INVAL;
    int status = rc == MP_OK ? adapters__record(m, a, &o, evs, now, &acc, &dup, &rej)
                 : rc == INGEST_ADAPT_ERR_SIG ? 401 : rc == MP_ERR_INVAL ? 400 : 500;
    if (status == 401) {
        mp_add_relaxed(&a->bad_sig, 1);
        mp_http_error(out, 401, "bad, missing, stale or replayed signature (or credentials)");
    } else if (status == 400) {
        mp_add_relaxed(&a->malformed, 1);
        snprintf(msg, sizeof(msg), "%s", err);
        mp_http_error(out, 400, msg);
    } else if (status != 200) {
        mp_http_error(out, status, status == 503 ? "dedup table full; retry later" : "internal");
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
