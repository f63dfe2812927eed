/* alert_sender.c — libcurl multi sender with per-receiver order (see alert_sender.h).
 *
 * The submitting threads and the sender thread share one mutex-protected
 * inbox; submit wakes the sender with curl_multi_wakeup(). The sender moves
 * inbox items to per-receiver FIFOs and keeps at most one request in flight
 * per receiver (that is what keeps the order), any number across receivers.
 */
#include "alert_sender.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "alert_notify.h"
#include "mp_atomic.h"
#include "mp_log.h"

struct note {
    struct note *next;
    size_t receiver;
    char *body;
    size_t len;
    char idem[80];
    int attempts;
    int64_t next_ms; /* not before this (monotonic ms) */
};

struct rq {
    struct alert_receiver r; /* owned copies of the strings */
    struct note *head, *tail;
    CURL *easy;               /* non-NULL while the head is in flight */
    struct curl_slist *hdrs;
};

struct alert_sender {
    struct alert_sender_opts opts;
    size_t n;
    struct rq *q;
    CURLM *multi;
    pthread_t tid;
    int started;

    pthread_mutex_t lock; /* guards inbox, stopping, drain_deadline */
    struct note *inbox_head, *inbox_tail;
    int stopping;
    int64_t drain_deadline;

    mp_atomic_u64 submitted, delivered, attempts, failed, dropped, queued;
    uint64_t rng;
};

static int64_t sender__mono_ms(void) { return mp_mono_ns() / 1000000; }

static void note__free(struct note *n)
{
    if (!n)
        return;
    free(n->body);
    free(n);
}

static int sender__submit_one(struct alert_sender *s, struct alert_note *an)
{
    size_t r = 0;
    char *body = an->body;
    an->body = NULL;
    while (r < s->n && strcmp(s->q[r].r.name, an->receiver ? an->receiver : "") != 0)
        r++;
    if (r >= s->n || !body) {
        mp_error("alert_submit_refused receiver=%s why=\"unknown receiver\"",
                 an->receiver ? an->receiver : "-");
        free(body);
        return MP_ERR_INVAL;
    }
    struct note *n = calloc(1, sizeof(*n));
    if (!n) {
        free(body);
        return MP_ERR_NOMEM;
    }
    n->receiver = r;
    n->body = body;
    n->len = strlen(body);
    snprintf(n->idem, sizeof(n->idem), "%s", an->idem ? an->idem : "");
    pthread_mutex_lock(&s->lock);
    if (s->stopping) {
        pthread_mutex_unlock(&s->lock);
        note__free(n);
        return MP_ERR_STATE;
    }
    if (s->inbox_tail)
        s->inbox_tail->next = n;
    else
        s->inbox_head = n;
    s->inbox_tail = n;
    pthread_mutex_unlock(&s->lock);
    mp_add_relaxed(&s->submitted, 1);
    mp_add_relaxed(&s->queued, 1);
    return MP_OK;
}

int alert_sender_submit(struct alert_sender *s, struct alert_note *notes, size_t n,
                        struct eng_store_batch *b)
{
    (void)b; /* the durable outbox is not wired in yet */
    int rc = MP_OK;
    for (size_t i = 0; i < n; i++) {
        int r = sender__submit_one(s, &notes[i]);
        if (r != MP_OK && rc == MP_OK)
            rc = r;
    }
    curl_multi_wakeup(s->multi);
    return rc;
}

int alert_sender_set_receivers(struct alert_sender *s, const struct alert_receiver *receivers,
                               size_t n)
{
    (void)s;
    (void)receivers;
    (void)n;
    return MP_ERR_STATE;
}

char *alert_sender_dead_json(struct alert_sender *s, const char *tenant, size_t limit)
{
    (void)s;
    (void)tenant;
    (void)limit;
    return strdup("{\"dead\":[]}");
}

static void sender__start_head(struct alert_sender *s, struct rq *q, int64_t now)
{
    struct note *n = q->head;
    CURL *e = curl_easy_init();
    if (!e)
        return; /* retried on the next loop */
    struct curl_slist *h = NULL;
    char buf[200];
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
    snprintf(buf, sizeof(buf), "Idempotency-Key: %s", n->idem);
    h = curl_slist_append(h, buf);
    if (q->r.secret) {
        char sig[128];
        alert_sign(q->r.secret, mp_now_ms() / 1000, n->body, n->len, sig, sizeof(sig));
        snprintf(buf, sizeof(buf), "X-Mailpulse-Signature: %s", sig);
        h = curl_slist_append(h, buf);
    }
    curl_easy_setopt(e, CURLOPT_URL, q->r.url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, n->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)n->len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "mailpulse/0.1");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)s->opts.timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)s->opts.timeout_ms);
    curl_easy_setopt(e, CURLOPT_PRIVATE, q);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    q->easy = e;
    q->hdrs = h;
    n->attempts++;
    n->next_ms = now;
    mp_add_relaxed(&s->attempts, 1);
    curl_multi_add_handle(s->multi, e);
}

static void sender__finish(struct alert_sender *s, struct rq *q, CURLcode res)
{
    long code = 0;
    curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &code);
    curl_multi_remove_handle(s->multi, q->easy);
    curl_easy_cleanup(q->easy);
    curl_slist_free_all(q->hdrs);
    q->easy = NULL;
    q->hdrs = NULL;
    struct note *n = q->head;
    if (res == CURLE_OK && code >= 200 && code < 300) {
        mp_debug("alert_delivered receiver=%s status=%ld attempts=%d", q->r.name, code,
                 n->attempts);
        mp_add_relaxed(&s->delivered, 1);
        goto done;
    }
    mp_add_relaxed(&s->failed, 1);
    if (n->attempts >= 8) {
        mp_error("alert_dropped receiver=%s status=%ld err=\"%s\" attempts=%d", q->r.name, code,
                 curl_easy_strerror(res), n->attempts);
        mp_add_relaxed(&s->dropped, 1);
        goto done;
    }
    int64_t d = s->opts.backoff_ms << (n->attempts - 1 < 20 ? n->attempts - 1 : 20);
    if (d > s->opts.backoff_max_ms)
        d = s->opts.backoff_max_ms;
    /* jitter: 50..100% of the delay, so many receivers do not retry in step */
    s->rng = s->rng * 6364136223846793005ULL + 1442695040888963407ULL;
    d = d / 2 + (int64_t)((s->rng >> 33) % (uint64_t)(d / 2 + 1));
    n->next_ms = sender__mono_ms() + d;
    mp_warn("alert_retry receiver=%s status=%ld err=\"%s\" attempt=%d next_in_ms=%lld", q->r.name,
            code, curl_easy_strerror(res), n->attempts, (long long)d);
    return;
done:
    q->head = n->next;
    if (!q->head)
        q->tail = NULL;
    note__free(n);
    atomic_fetch_sub_explicit(&s->queued, 1, memory_order_relaxed);
}

static void *sender__main(void *arg)
{
    struct alert_sender *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        struct note *in = s->inbox_head;
        s->inbox_head = s->inbox_tail = NULL;
        int stopping = s->stopping;
        int64_t deadline = s->drain_deadline;
        pthread_mutex_unlock(&s->lock);
        while (in) {
            struct note *next = in->next;
            struct rq *q = &s->q[in->receiver];
            in->next = NULL;
            if (q->tail)
                q->tail->next = in;
            else
                q->head = in;
            q->tail = in;
            in = next;
        }
        int64_t now = sender__mono_ms();
        int busy = 0, wait_ms = 1000;
        for (size_t i = 0; i < s->n; i++) {
            struct rq *q = &s->q[i];
            if (!q->head)
                continue;
            busy = 1;
            if (q->easy)
                continue;
            if (q->head->next_ms <= now)
                sender__start_head(s, q, now);
            else if (q->head->next_ms - now < wait_ms)
                wait_ms = (int)(q->head->next_ms - now);
        }
        if (stopping && (!busy || now >= deadline))
            break;
        int running = 0;
        curl_multi_perform(s->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(s->multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            struct rq *q = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&q);
            sender__finish(s, q, m->data.result);
            wait_ms = 0; /* the next in line may go now */
        }
        if (stopping && wait_ms > 50)
            wait_ms = 50;
        curl_multi_poll(s->multi, NULL, 0, wait_ms, NULL);
    }
    /* Whatever is left is given up on, and said so. */
    for (size_t i = 0; i < s->n; i++) {
        struct rq *q = &s->q[i];
        if (q->easy) {
            curl_multi_remove_handle(s->multi, q->easy);
            curl_easy_cleanup(q->easy);
            curl_slist_free_all(q->hdrs);
            q->easy = NULL;
        }
        size_t lost = 0;
        while (q->head) {
            struct note *n = q->head;
            q->head = n->next;
            note__free(n);
            lost++;
        }
        if (lost) {
            mp_error("alert_dropped_at_stop receiver=%s count=%zu", q->r.name, lost);
            mp_add_relaxed(&s->dropped, lost);
        }
    }
    return NULL;
}

static char *sender__dup(const char *s) { return s ? strdup(s) : NULL; }

int alert_sender_start(const struct alert_receiver *receivers, size_t n,
                       const struct alert_sender_opts *opts, struct alert_sender **out)
{
    int rc = MP_ERR_NOMEM;
    struct alert_sender *s = calloc(1, sizeof(*s));
    if (!s)
        return rc;
    pthread_mutex_init(&s->lock, NULL);
    s->opts = *opts;
    s->rng = (uint64_t)mp_mono_ns() | 1;
    s->n = n;
    s->q = calloc(n ? n : 1, sizeof(*s->q));
    s->multi = curl_multi_init();
    if (!s->q || !s->multi)
        goto err;
    for (size_t i = 0; i < n; i++) {
        s->q[i].r.name = sender__dup(receivers[i].name);
        s->q[i].r.url = sender__dup(receivers[i].url);
        s->q[i].r.secret = sender__dup(receivers[i].secret);
        s->q[i].r.type = receivers[i].type;
        if (!s->q[i].r.name || !s->q[i].r.url || (receivers[i].secret && !s->q[i].r.secret))
            goto err;
    }
    if (pthread_create(&s->tid, NULL, sender__main, s) != 0) {
        rc = MP_ERR_STATE;
        goto err;
    }
    s->started = 1;
    *out = s;
    return MP_OK;
err:
    alert_sender_stop(s, 0);
    return rc;
}

void alert_sender_stop(struct alert_sender *s, int64_t drain_ms)
{
    if (!s)
        return;
    if (s->started) {
        pthread_mutex_lock(&s->lock);
        s->stopping = 1;
        s->drain_deadline = sender__mono_ms() + drain_ms;
        pthread_mutex_unlock(&s->lock);
        curl_multi_wakeup(s->multi);
        pthread_join(s->tid, NULL);
    }
    for (struct note *n = s->inbox_head; n;) {
        struct note *next = n->next;
        note__free(n);
        n = next;
    }
    for (size_t i = 0; s->q && i < s->n; i++) {
        free((char *)s->q[i].r.name);
        free((char *)s->q[i].r.url);
        free((char *)s->q[i].r.secret);
    }
    free(s->q);
    if (s->multi)
        curl_multi_cleanup(s->multi);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void alert_sender_figures(struct alert_sender *s, struct alert_sender_figures *out)
{
    out->submitted = mp_load_relaxed(&s->submitted);
    out->delivered = mp_load_relaxed(&s->delivered);
    out->attempts = mp_load_relaxed(&s->attempts);
    out->failed_attempts = mp_load_relaxed(&s->failed);
    out->dead = mp_load_relaxed(&s->dropped);
    out->queued = mp_load_relaxed(&s->queued);
}
