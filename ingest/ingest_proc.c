/* ingest_proc.c — the per-frame pipeline (see ingest_worker.h, ingest_proc_*):
 * frame limits off the wire, decode into the proc's arena, validate every
 * event and record it with lookahead. No sockets, no threads of its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest_impl.h"

/* ---- per-frame pipeline ------------------------------------------------ */

void ingest_proc_destroy(struct ingest_proc *p)
{
    if (!p)
        return;
    eng_frame_destroy(p->frame);
    ingest_arena_destroy(p->arena);
    eng_thread_unregister(p->th);
    free(p);
}

int ingest_proc_create(struct eng_table *t, const struct ingest_limits *lim,
                       struct ingest_proc **out)
{
    struct ingest_proc *p = calloc(1, sizeof(*p));
    if (!p)
        return MP_ERR_NOMEM;
    p->t = t;
    p->lim = *lim;
    if (p->lim.max_frame_bytes == 0)
        p->lim.max_frame_bytes = INGEST_MAX_FRAME_BYTES_DEFAULT;
    if (p->lim.max_batch_events == 0)
        p->lim.max_batch_events = INGEST_MAX_BATCH_EVENTS_DEFAULT;
    p->rl = p->own_rl;
    int rc = eng_thread_register(t, &p->th);
    if (rc == MP_OK)
        rc = eng_frame_create(&p->frame);
    if (rc == MP_OK)
        rc = ingest_arena_create(&p->arena);
    if (rc != MP_OK) {
        ingest_proc_destroy(p); /* frees what was made; NULL parts are no-ops */
        return rc;
    }
    *out = p;
    return MP_OK;
}

struct eng_thread *ingest_proc_thread(struct ingest_proc *p) { return p->th; }

static void proc__reject(struct ingest_proc *p, int reason, uint64_t n, const char *producer,
                         const char *detail, int64_t now_ms)
{
    mp_add_relaxed(&p->fig[p->ep].rejected[reason], n);
    uint64_t suppressed;
    if (mp_ratelimit_allow(&p->rl[reason], now_ms, 1000, &suppressed))
        mp_warn("ingest_reject reason=%s producer=%s detail=%s suppressed=%llu",
                ingest_reason_name(reason), MP_LOG_Q(producer), MP_LOG_Q(detail),
                (unsigned long long)suppressed);
}

/* A short, log-safe rendering of an untrusted string. */
static const char *proc__show(const char *s, char *buf, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; s && s[i] && j + 1 < n; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[j++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '?';
    }
    buf[j] = '\0';
    return buf;
}

static void proc__reject_event(struct ingest_proc *p, const Mailpulse__V1__EventBatch *b, size_t i,
                               int reason, int64_t now_ms)
{
    const Mailpulse__V1__Event *e = b->events[i];
    char d[96], s1[40];
    snprintf(d, sizeof(d), "event %zu tenant=%s type=%d time_ms=%lld", i,
             proc__show(e->tenant, s1, sizeof(s1)), (int)e->type, (long long)e->time_ms);
    proc__reject(p, reason, 1, b->producer_id, d, now_ms);
}

/* The frame limits, before a byte is decoded: unpacking allocates per
 * field (about 5x the frame), so size, event count and producer_id length
 * are read off the wire first (ingest_decode_shape). A frame whose top level
 * does not parse is left to the decoder, which refuses it as bad_frame.
 * Returns INGEST_OK or the whole-frame reason, with `d` describing it. */
static int proc__admit(const struct ingest_proc *p, const void *buf, size_t len, char *d,
                       size_t dn, struct ingest_frame_shape *shp)
{
    struct ingest_frame_shape sh0, *shp2 = shp ? shp : &sh0;
    memset(shp2, 0, sizeof(*shp2));
    if (len > p->lim.max_frame_bytes) {
        snprintf(d, dn, "frame of %zu bytes, max_frame_bytes %zu", len, p->lim.max_frame_bytes);
        return INGEST_REJ_FRAME_LARGE;
    }
    if (ingest_decode_shape(buf, len, shp2) != MP_OK)
        return INGEST_OK;
    const struct ingest_frame_shape sh = *shp2;
    if (sh.n_events > p->lim.max_batch_events) {
        snprintf(d, dn, "batch of %zu events, max_batch_events %u", sh.n_events,
                 (unsigned)p->lim.max_batch_events);
        return INGEST_REJ_BATCH_LARGE;
    }
    if (sh.producer_id_len > INGEST_PRODUCER_ID_MAX) {
        snprintf(d, dn, "producer_id of %zu bytes, at most %d", sh.producer_id_len,
                 INGEST_PRODUCER_ID_MAX);
        return INGEST_REJ_PRODUCER_ID;
    }
    return INGEST_OK;
}

int ingest_proc_open(struct ingest_proc *p, const void *buf, size_t len, int64_t now_ms,
                     Mailpulse__V1__EventBatch **out, struct ingest_frame_shape *sh)
{
    mp_add_relaxed(&p->fig[p->ep].frames, 1);
    mp_add_relaxed(&p->fig[p->ep].bytes, len);
    Mailpulse__V1__EventBatch *b = NULL;
    char why[96];
    int whole = proc__admit(p, buf, len, why, sizeof(why), sh);
    if (whole != INGEST_OK) {
        proc__reject(p, whole, 1, NULL, why, now_ms);
        return whole;
    }
    if (ingest_decode_batch_arena(p->arena, buf, len, &b) != MP_OK) {
        char d[64];
        snprintf(d, sizeof(d), "%zu bytes do not decode as EventBatch", len);
        proc__reject(p, INGEST_REJ_BAD_FRAME, 1, NULL, d, now_ms);
        return INGEST_REJ_BAD_FRAME;
    }
    if (b->n_events == 0) {
        proc__reject(p, INGEST_REJ_EMPTY_BATCH, 1, b->producer_id, "batch has no events", now_ms);
        return INGEST_REJ_EMPTY_BATCH;
    }
    *out = b;
    return INGEST_OK;
}

void ingest_proc_close(struct ingest_proc *p)
{
    ingest_arena_reset(p->arena); /* every batch opened since the last close goes with it */
}

/* Records one validated event; MP_OK or the reason it was refused. */
static int proc__record(struct ingest_proc *p, struct pipe_slot *s, int64_t now_ms)
{
    int rc;
    while ((rc = eng_frame_record_prep(p->t, p->frame, &s->ev, &s->prep)) == MP_ERR_AGAIN) {
        /* the table is resetting a ring after a clock jump: step
         * out of the read side so that reset can finish */
        eng_thread_quiescent(p->th);
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (rc == MP_OK)
        return INGEST_OK;
    /* MP_ERR_INVAL: valid by the wall clock, outside the table's held
     * range (its tick lags the clock by up to one interval). */
    return rc == MP_ERR_FULL        ? INGEST_REJ_CAPACITY
           : rc == ENG_ERR_KEY_CAP  ? INGEST_REJ_TENANT_KEY_CAP /* per-tenant limits */
           : rc == ENG_ERR_RATE_CAP ? INGEST_REJ_TENANT_RATE_CAP
           : rc == MP_ERR_INVAL     ? (s->ev.time_ms > now_ms ? INGEST_REJ_TIME_FUTURE
                                                              : INGEST_REJ_TIME_OLD)
                                    : INGEST_REJ_INTERNAL;
}

uint32_t ingest_proc_apply(struct ingest_proc *p, const Mailpulse__V1__EventBatch *b,
                           int64_t now_ms, uint32_t *rejected, int *first)
{
    uint32_t ok = 0, bad = 0;
    int first_r = INGEST_OK;
    mp_add_relaxed(&p->fig[p->ep].events, b->n_events);
    eng_frame_set_now(p->frame, now_ms); /* the rate cap's clock */
    const size_t n = b->n_events;
    for (size_t i = 0; i < n + 3 * PIPE_D; i++) {
        if (i < n) {
            struct pipe_slot *s = &p->pipe[i % PIPE_RING];
            int r = ingest_validate_event(b->events[i], now_ms, &p->lim, s->names, &s->ev);
            if (r == INGEST_OK && p->curve &&
                !ingest_curve_allows(p->curve, p->client, s->ev.tenant, s->ev.tenant_len))
                r = INGEST_REJ_TENANT_FORBIDDEN; /* outside its Curve client's tenants */
            s->valid = r == INGEST_OK;
            if (s->valid) {
                eng_prep_start(p->t, &s->ev, &s->prep);
            } else {
                bad++;
                first_r = first_r ? first_r : r;
                proc__reject_event(p, b, i, r, now_ms);
            }
        }
        if (i >= PIPE_D && i - PIPE_D < n && p->pipe[(i - PIPE_D) % PIPE_RING].valid)
            eng_prep_keys(p->t, &p->pipe[(i - PIPE_D) % PIPE_RING].prep);
        if (i >= 2 * PIPE_D && i - 2 * PIPE_D < n) {
            struct pipe_slot *s = &p->pipe[(i - 2 * PIPE_D) % PIPE_RING];
            if (s->valid)
                eng_prep_counters(p->t, &s->ev, &s->prep);
        }
        if (i < 3 * PIPE_D || i - 3 * PIPE_D >= n)
            continue;
        size_t j = i - 3 * PIPE_D;
        struct pipe_slot *s = &p->pipe[j % PIPE_RING];
        if (!s->valid)
            continue;
        int r = proc__record(p, s, now_ms);
        if (r == INGEST_OK) {
            ok++;
            continue;
        }
        bad++;
        first_r = first_r ? first_r : r;
        proc__reject_event(p, b, j, r, now_ms);
    }
    /* The whole frame becomes visible to the evaluator at once. */
    eng_frame_end(p->t, p->frame);
    mp_add_relaxed(&p->fig[p->ep].accepted, ok);
    if (rejected)
        *rejected = bad;
    if (first)
        *first = first_r;
    return ok;
}

uint32_t ingest_proc_frame(struct ingest_proc *p, const void *buf, size_t len, int64_t now_ms,
                           uint32_t *rejected)
{
    Mailpulse__V1__EventBatch *b = NULL;
    uint32_t ok = 0, bad = 0;
    int first = ingest_proc_open(p, buf, len, now_ms, &b, NULL);
    if (first == INGEST_OK)
        ok = ingest_proc_apply(p, b, now_ms, &bad, &first);
    p->first_reason = first;
    ingest_proc_close(p);
    if (rejected)
        *rejected = bad;
    return ok;
}

void ingest_proc_duplicate(struct ingest_proc *p) { mp_add_relaxed(&p->fig[p->ep].duplicates, 1); }

void ingest_proc_set_client(struct ingest_proc *p, const struct ingest_curve *c, uint32_t client)
{
    p->curve = c;
    p->client = client;
}

int ingest_proc_first_reason(const struct ingest_proc *p) { return p->first_reason; }

void ingest__proc_add(const struct ingest_proc *p, struct ingest_figures *out)
{
    for (int e = 0; e < INGEST_ENDPOINTS; e++) {
        const struct proc_figures *f = &p->fig[e];
        struct ingest_endpoint_figures *o = &out->ep[e];
        uint64_t v;
        out->frames += v = mp_load_relaxed(&f->frames);
        o->frames += v;
        out->bytes += v = mp_load_relaxed(&f->bytes);
        o->bytes += v;
        out->events += v = mp_load_relaxed(&f->events);
        o->events += v;
        out->accepted += v = mp_load_relaxed(&f->accepted);
        o->accepted += v;
        out->duplicates += mp_load_relaxed(&f->duplicates);
        for (int r = 0; r < INGEST_REASON_COUNT; r++) {
            out->rejected[r] += v = mp_load_relaxed(&f->rejected[r]);
            o->rejected[r] += v;
        }
    }
}

void ingest_proc_set_endpoint(struct ingest_proc *p, int ep)
{
    p->ep = ep == INGEST_EP_ROUTER ? INGEST_EP_ROUTER : INGEST_EP_PULL;
}

void ingest_proc_figures(const struct ingest_proc *p, struct ingest_figures *out)
{
    memset(out, 0, sizeof(*out));
    ingest__proc_add(p, out);
}

