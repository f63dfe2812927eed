/* alert_sender.c — the sender's API: start and stop, submit (outbox first,
 * then the inbox), receiver lists and their hand-over to the sender thread,
 * figures (see alert_sender.h; private state and the thread rules in
 * alert_sender_impl.h; the store is alert_outbox.c, the thread
 * alert_sender_loop.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_sender_impl.h"


/* ---- lists and receivers ---- */

void alert_note_chain(struct note **head, struct note **tail, struct note *first,
                      struct note *last)
{
    if (*tail)
        (*tail)->next = first;
    else
        *head = first;
    *tail = last;
}

void alert_rq_push(struct rq *q, struct note *n)
{
    n->next = NULL;
    alert_note_chain(&q->head, &q->tail, n, n);
}

struct note *alert_rq_pop(struct rq *q)
{
    struct note *n = q->head;
    q->head = n->next;
    if (!q->head)
        q->tail = NULL;
    n->next = NULL;
    return n;
}


static void rq__free(struct rq *q)
{
    if (!q)
        return;
    free(q->name);
    free(q->url);
    free(q->secret);
    alert_receiver_clear(&q->rc);
    free(q->msg_body);
    free(q->msg_idem);
    alert_note_free_list(q->head);
    free(q);
}

static void rqset__free(struct rqset *set)
{
    for (size_t i = 0; set && i < set->n; i++)
        rq__free(set->rq[i]);
    if (set)
        free(set->rq);
}

static void names__free(struct names *nm)
{
    for (size_t i = 0; nm && i < nm->n; i++)
        free(nm->v[i]);
    if (nm)
        free(nm->v);
    free(nm);
}

static char *sender__dup(const char *s) { return s ? strdup(s) : NULL; }

/* The string fields of struct alert_receiver, for copy and clear. */
#define SENDER_RC_STRINGS(r)                                                                   \
    {&(r)->name, &(r)->url, &(r)->secret, &(r)->channel, &(r)->username, &(r)->icon_emoji,     \
     &(r)->routing_key, &(r)->mail_from, &(r)->mail_to, &(r)->auth_username,                 \
     &(r)->auth_password}

int alert_receiver_copy(struct alert_receiver *dst, const struct alert_receiver *src)
{
    struct alert_receiver tmp = *src;
    const char **from[] = SENDER_RC_STRINGS(&tmp);
    const char **to[] = SENDER_RC_STRINGS(dst);
    memset(dst, 0, sizeof(*dst));
    dst->type = src->type;
    dst->tls = src->tls;
    for (size_t i = 0; i < MP_ARRAY_LEN(to); i++)
        if (*from[i] && !(*to[i] = strdup(*from[i])))
            return MP_ERR_NOMEM;
    return MP_OK;
}

void alert_receiver_clear(struct alert_receiver *r)
{
    const char **f[] = SENDER_RC_STRINGS(r);
    for (size_t i = 0; i < MP_ARRAY_LEN(f); i++)
        free((char *)*f[i]);
    memset(r, 0, sizeof(*r));
}

struct rq *alert_rq_find(const struct rqset *set, const char *name)
{
    for (size_t i = 0; i < set->n; i++) /* NULL: taken over while applying a new list */
        if (set->rq[i] && strcmp(set->rq[i]->name, name) == 0)
            return set->rq[i];
    return NULL;
}

/* Copies `receivers` into fresh queue objects and a name list. MP_OK or
 * MP_ERR_NOMEM (nothing allocated). */
static int sender__build(const struct alert_receiver *receivers, size_t n, struct rqset *set,
                         struct names **names)
{
    struct names *nm = calloc(1, sizeof(*nm));
    set->n = 0;
    set->rq = calloc(n ? n : 1, sizeof(*set->rq));
    if (!nm || !set->rq)
        goto err;
    nm->v = calloc(n ? n : 1, sizeof(*nm->v));
    if (!nm->v)
        goto err;
    for (size_t i = 0; i < n; i++) {
        /* Receivers are matched by name: a second one of the same name
         * could never be told apart, so only the first counts. */
        if (alert_rq_find(set, receivers[i].name)) {
            mp_warn("alert_receiver_duplicate receiver=%s kept=first", MP_LOG_Q(receivers[i].name));
            continue;
        }
        struct rq *q = calloc(1, sizeof(*q));
        if (!q)
            goto err;
        set->rq[set->n++] = q;
        q->name = sender__dup(receivers[i].name);
        q->url = sender__dup(receivers[i].url);
        q->secret = sender__dup(receivers[i].secret);
        q->type = receivers[i].type;
        int copied = alert_receiver_copy(&q->rc, &receivers[i]);
        char *nmv = sender__dup(receivers[i].name);
        if (nmv)
            nm->v[nm->n++] = nmv;
        if (!q->name || !q->url || (receivers[i].secret && !q->secret) || !nmv ||
            copied != MP_OK)
            goto err;
    }
    *names = nm;
    return MP_OK;
err:
    rqset__free(set);
    set->rq = NULL;
    set->n = 0;
    names__free(nm);
    return MP_ERR_NOMEM;
}

/* ---- submit ---- */

static int sender__known(const struct names *nm, const char *name)
{
    for (size_t i = 0; i < nm->n; i++)
        if (strcmp(nm->v[i], name) == 0)
            return 1;
    return 0;
}

/* Turns submitted note `an` into one of ours, taking its body: MP_OK;
 * MP_ERR_INVAL when refused (counted, logged, body freed); MP_ERR_NOMEM.
 * *out is set whenever a note was made, even when encoding it then failed
 * (the caller frees it with the others). */
static int sender__take(struct alert_sender *s, struct alert_note *an, struct note **out)
{
    char *body = an->body;
    an->body = NULL;
    const char *tenant = an->tenant ? an->tenant : "", *idem = an->idem ? an->idem : "";
    pthread_mutex_lock(&s->lock);
    int known = an->receiver && sender__known(s->names, an->receiver);
    pthread_mutex_unlock(&s->lock);
    if (!known || !body || strlen(tenant) > SENDER_STR_MAX || strlen(idem) > SENDER_STR_MAX) {
        mp_add_relaxed(&s->refused, 1);
        mp_error("alert_submit_refused receiver=%s why=\"%s\"",
                 MP_LOG_Q(an->receiver ? an->receiver : "-"),
                 !known ? "unknown receiver" : !body ? "no body" : "field too long");
        free(body);
        return MP_ERR_INVAL;
    }
    struct note *nt = alert_note_new(an->receiver, strlen(an->receiver), tenant, strlen(tenant),
                                     idem, strlen(idem), body, strlen(body));
    if (!nt) {
        free(body);
        return MP_ERR_NOMEM;
    }
    nt->created_ms = mp_now_ms();
    *out = nt;
    /* Encoded now, put in the batch only once all are: running out of
     * memory half way must not leave part of them in the caller's batch. */
    return s->opts.store ? alert_outbox_encode(nt) : MP_OK;
}

/* Puts the notes' outbox entries in b and commits it (even with no note of
 * ours: the caller's changes must land), then hands the notes to the sender
 * thread. MP_OK, or the store's error with nothing queued. */
static int sender__enqueue(struct alert_sender *s, struct eng_store_batch *b, struct note *head,
                           struct note *last, size_t count)
{
    if (s->opts.store) {
        for (struct note *nt = head; nt; nt = nt->next) {
            nt->seq = ++s->seq;
            alert_outbox_put(b, nt);
        }
        int rc = alert_outbox_commit_batch(s, b);
        if (rc != MP_OK)
            return rc;
    }
    if (!head)
        return MP_OK;
    pthread_mutex_lock(&s->lock);
    alert_note_chain(&s->inbox_head, &s->inbox_tail, head, last);
    pthread_mutex_unlock(&s->lock);
    mp_add_relaxed(&s->submitted, count);
    mp_add_relaxed(&s->queued, count);
    curl_multi_wakeup(s->multi);
    return MP_OK;
}

int alert_sender_submit(struct alert_sender *s, struct alert_note *notes, size_t n,
                        struct eng_store_batch *b)
{
    int rc = MP_OK, refused = 0;
    struct note *head = NULL, *last = NULL;
    struct eng_store_batch *own = NULL;
    size_t count = 0;
    pthread_mutex_lock(&s->submit_lock);
    pthread_mutex_lock(&s->lock);
    int stopping = s->stopping;
    pthread_mutex_unlock(&s->lock);
    if (stopping)
        rc = MP_ERR_STATE;
    else if (s->opts.store && !b && !(b = own = eng_store_batch_new(s->opts.store)))
        rc = MP_ERR_NOMEM;
    for (size_t i = 0; rc == MP_OK && i < n; i++) {
        struct note *nt = NULL;
        int r = sender__take(s, &notes[i], &nt);
        if (nt)
            alert_note_chain(&head, &last, nt, nt);
        if (r == MP_ERR_INVAL)
            refused = 1;
        else if (r != MP_OK)
            rc = r;
        else
            count++;
    }
    if (rc == MP_OK && (rc = sender__enqueue(s, b, head, last, count)) == MP_OK) {
        head = NULL; /* the sender thread's now */
        if (refused)
            rc = MP_ERR_INVAL;
    }
    pthread_mutex_unlock(&s->submit_lock);
    /* On error, whatever was not queued is dropped: bodies are ours even then. */
    alert_note_free_list(head);
    for (size_t i = 0; rc != MP_OK && rc != MP_ERR_INVAL && i < n; i++) {
        free(notes[i].body);
        notes[i].body = NULL;
    }
    eng_store_batch_free(own);
    return rc;
}

/* ---- set_receivers ---- */

int alert_sender_set_receivers(struct alert_sender *s, const struct alert_receiver *receivers,
                               size_t n)
{
    struct rqset *set = calloc(1, sizeof(*set));
    struct names *nm = NULL;
    if (!set || sender__build(receivers, n, set, &nm) != MP_OK) {
        free(set);
        return MP_ERR_NOMEM;
    }
    pthread_mutex_lock(&s->lock);
    struct rqset *old_pending = s->pending;
    struct names *old_names = s->names;
    s->pending = set; /* a newer list replaces one not applied yet */
    s->names = nm;
    pthread_mutex_unlock(&s->lock);
    rqset__free(old_pending);
    free(old_pending);
    names__free(old_names);
    curl_multi_wakeup(s->multi);
    return MP_OK;
}

/* Sender thread: switch to `set`. Kept receivers keep their queue object
 * (and any request in flight, whose handle points at it) and take the new
 * url/secret/type; removed ones are dead-lettered and freed. */
void alert_sender_apply(struct alert_sender *s, struct rqset *set)
{
    for (size_t i = 0; i < set->n; i++) {
        struct rq *nq = set->rq[i], *oq = alert_rq_find(&s->cur, nq->name);
        if (!oq)
            continue;
        /* A new endpoint owes nothing to the old one's backoff. */
        if (strcmp(oq->url, nq->url) != 0)
            oq->next_ms = 0;
        char *t = oq->url;
        oq->url = nq->url;
        nq->url = t;
        t = oq->secret;
        oq->secret = nq->secret;
        nq->secret = t;
        oq->type = nq->type;
        struct alert_receiver rt = oq->rc; /* email settings follow the new file */
        oq->rc = nq->rc;
        nq->rc = rt;
        set->rq[i] = oq;
        rq__free(nq);
        for (size_t j = 0; j < s->cur.n; j++)
            if (s->cur.rq[j] == oq)
                s->cur.rq[j] = NULL;
    }
    for (size_t j = 0; j < s->cur.n; j++) {
        struct rq *q = s->cur.rq[j];
        size_t removed = 0;
        if (!q)
            continue;
        alert_rq_abort(s, q);
        alert_rq_clear_msg(q);
        while (q->head) {
            alert_outbox_dead(s, alert_rq_pop(q), "receiver_removed");
            removed++;
        }
        mp_info("alert_receiver_removed receiver=%s dead=%zu", MP_LOG_Q(q->name), removed);
        rq__free(q);
    }
    alert_outbox_commit(s, "receiver_removed");
    free(s->cur.rq);
    s->cur = *set;
    free(set);
}

/* ---- start / stop ---- */

int alert_sender_start(const struct alert_receiver *receivers, size_t n,
                       const struct alert_sender_opts *opts, struct alert_sender **out)
{
    int rc = MP_ERR_NOMEM;
    struct alert_sender *s = calloc(1, sizeof(*s));
    if (!s)
        return rc;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->submit_lock, NULL);
    pthread_mutex_init(&s->commit_lock, NULL);
    s->opts = *opts;
    /* Zero means "the documented default", so a partly filled opts works. */
    if (s->opts.backoff_ms <= 0)
        s->opts.backoff_ms = 500;
    if (s->opts.backoff_max_ms <= 0)
        s->opts.backoff_max_ms = 60000;
    if (s->opts.timeout_ms <= 0)
        s->opts.timeout_ms = 5000;
    if (s->opts.max_age_ms <= 0)
        s->opts.max_age_ms = 24 * 3600 * 1000LL;
    if (s->opts.slack_interval_ms <= 0)
        s->opts.slack_interval_ms = 1000;
    s->rng = (uint64_t)mp_mono_ns() | 1;
    s->multi = curl_multi_init();
    if (!s->multi || sender__build(receivers, n, &s->cur, &s->names) != MP_OK)
        goto err;
    if (s->opts.store) {
        if (!(s->tb = eng_store_batch_new(s->opts.store)))
            goto err;
        if ((rc = alert_outbox_load(s)) != MP_OK)
            goto err;
    }
    if (pthread_create(&s->tid, NULL, alert_sender_loop_main, s) != 0) {
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
        pthread_mutex_lock(&s->submit_lock);
        pthread_mutex_lock(&s->lock);
        s->stopping = 1;
        s->drain_deadline = sender_mono_ms() + drain_ms;
        pthread_mutex_unlock(&s->lock);
        pthread_mutex_unlock(&s->submit_lock);
        curl_multi_wakeup(s->multi);
        pthread_join(s->tid, NULL);
    }
    alert_note_free_list(s->inbox_head);
    alert_note_free_list(s->dead_head);
    if (s->pending) {
        rqset__free(s->pending);
        free(s->pending);
    }
    rqset__free(&s->cur);
    names__free(s->names);
    if (s->tb)
        eng_store_batch_free(s->tb);
    if (s->multi)
        curl_multi_cleanup(s->multi);
    pthread_mutex_destroy(&s->submit_lock);
    pthread_mutex_destroy(&s->commit_lock);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void alert_sender_figures(struct alert_sender *s, struct alert_sender_figures *out)
{
    out->submitted = mp_load_relaxed(&s->submitted);
    out->delivered = mp_load_relaxed(&s->delivered);
    out->attempts = mp_load_relaxed(&s->attempts);
    out->failed_attempts = mp_load_relaxed(&s->failed);
    out->dead = mp_load_relaxed(&s->dead);
    out->dead_stored = mp_load_relaxed(&s->dead_stored);
    out->queued = mp_load_relaxed(&s->queued);
    out->rate_limited = mp_load_relaxed(&s->rate_limited);
    out->merged = mp_load_relaxed(&s->merged);
    out->oldest_ms = mp_load_relaxed(&s->oldest_ms);
}

size_t alert_sender_receiver_figures(struct alert_sender *s, struct alert_receiver_figures *out,
                                     size_t cap)
{
    uint32_t n = mp_load_acquire(&s->nrstat); /* the names below it are whole */
    size_t k = 0;
    for (uint32_t i = 0; i < n && k < cap; i++, k++) {
        struct rstat *r = &s->rstat[i];
        memcpy(out[k].name, r->name, sizeof(out[k].name));
        out[k].attempts = mp_load_relaxed(&r->attempts);
        out[k].failures = mp_load_relaxed(&r->failures);
        out[k].delivered = mp_load_relaxed(&r->delivered);
        mp_hist_read(&r->latency, &out[k].latency);
    }
    return k;
}
