/* alert_sender.c — durable outbox, libcurl multi sender with per-receiver
 * order, Slack pacing and dead letters (see alert_sender.h).
 *
 * Threads. Submitters write the outbox (their batch), then append the notes
 * to a mutex-protected inbox and wake the sender with curl_multi_wakeup().
 * The sender thread alone owns the per-receiver queues, the curl handles and
 * its own store batch: it moves inbox notes to their receiver's FIFO and
 * keeps at most one request in flight per receiver (that is what keeps the
 * order), any number across receivers. set_receivers() builds the new
 * receiver objects up front and hands them over under the same mutex; the
 * sender applies them before it looks at the inbox taken in the same
 * critical section, so a note always meets the receiver list that was
 * current when it was submitted.
 *
 * Store layout (column families owned by this module):
 *   outbox  key: seq, 8 bytes big-endian — one global sequence, so a scan
 *                returns submit order; restored at start from the max key.
 *           value: ver(1)=1 | created wall ms (8 BE) | attempts (4 BE) |
 *                  receiver, tenant, idempotency key (each 2-byte BE length +
 *                  bytes) | body (the rest).
 *   dead    key: dead id, 8 bytes big-endian (oldest first; restored from
 *                the max key).
 *           value: ver(1)=2 | created (8) | attempts (4) | died wall ms (8) |
 *                  receiver, tenant, idempotency key, reason (length-prefixed
 *                  as above) | body (the rest).
 * Dead-lettering writes the dead entry and deletes the outbox entry in one
 * batch, so a notification is in exactly one of the two.
 *
 * Decisions the header leaves open:
 *   - A merged Slack message expires as one, when its first (oldest) note
 *     reaches max_age: the group is fixed once formed, so its notes cannot
 *     leave it one by one.
 *   - 1xx/3xx answers are retried like 5xx (they are not "another 4xx", and
 *     retrying until max_age loses nothing).
 *   - "Retry-After: 0" takes the backoff: libcurl reports an absent header
 *     as 0 too.
 *   - figures.merged counts on delivery (notes that rode inside another's
 *     2xx message), not when a group is formed.
 */
#include "alert_sender.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_notify.h"
#include "mp_atomic.h"
#include "mp_log.h"

#define SENDER_SLACK_MERGE_MAX 20
#define SENDER_STR_MAX 65535 /* length prefixes are 2 bytes */
#define SENDER_VER_OUTBOX 1
#define SENDER_VER_DEAD 2

struct note {
    struct note *next;
    uint64_t seq; /* outbox key (with a store) */
    char *receiver, *tenant, *idem; /* one block with the struct */
    char *body;                     /* malloc'd, owned */
    size_t len;
    char *enc; /* during submit: the encoded outbox value, until it is in the batch */
    size_t enc_len;
    int64_t created_ms; /* wall clock: max_age survives restarts */
    uint32_t attempts;
    /* Set when dead-lettered (kept in memory only without a store). */
    uint64_t dead_id;
    int64_t died_ms;
    char reason[24];
};

/* One receiver and its queue; owned by the sender thread once handed over. */
struct rq {
    char *name, *url, *secret;
    int type;
    struct note *head, *tail;
    int64_t next_ms;      /* monotonic: the head does not go before this */
    int64_t last_send_ms; /* monotonic start of the last request (Slack pacing) */
    int sent_once;
    /* The message being sent: the first group_n notes of the queue. Fixed
     * from its first attempt until it is delivered or dead, so retries carry
     * the same body and Idempotency-Key. */
    size_t group_n;
    char *msg_body; /* NULL: the head's own body */
    size_t msg_len;
    char *msg_idem; /* NULL: the head's own key */
    CURL *easy;     /* non-NULL while the message is in flight */
    struct curl_slist *hdrs;
};

/* Receivers built before they are handed to the sender thread (start,
 * set_receivers), so applying them needs no allocation. */
struct rqset {
    size_t n;
    struct rq **rq;
};

/* Receiver names as submitters see them (checked under the lock). */
struct names {
    size_t n;
    char **v;
};

struct alert_sender {
    struct alert_sender_opts opts;
    CURLM *multi;
    pthread_t tid;
    int started;

    /* Sender thread only (and start, before the thread exists). */
    struct rqset cur;
    struct eng_store_batch *tb;
    uint64_t rng;

    /* Serialises submitters: sequence order = commit order = queue order.
     * Also taken by stop, so no submit is half done when stopping is set. */
    pthread_mutex_t submit_lock;
    uint64_t seq; /* last outbox seq used; guarded by submit_lock */

    /* Held around every commit this module makes. RocksDB groups writers
     * that commit at the same time and the group's leader copies the
     * others' batches, ordered by RocksDB's own spin-waits on atomics,
     * which ThreadSanitizer cannot see: it reports a race inside
     * std::string with no RocksDB frame on the stack, so tsan.supp's
     * called_from_lib rule does not match. Our commits are small and
     * rare enough that taking turns costs nothing measurable. */
    pthread_mutex_t commit_lock;

    pthread_mutex_t lock; /* guards everything below */
    struct note *inbox_head, *inbox_tail;
    struct rqset *pending; /* receivers handed over by set_receivers */
    struct names *names;
    int stopping;
    int64_t drain_deadline;
    struct note *dead_head, *dead_tail; /* without a store */
    uint64_t dead_id;                   /* last dead id used */

    /* Figures: relaxed adds and loads. Each is a count on its own, read by
     * /metrics and tests; nothing else is published through them, so no
     * ordering with other memory is needed. */
    mp_atomic_u64 submitted, delivered, attempts, failed, dead, dead_stored, queued,
        rate_limited, merged, refused;
    struct mp_ratelimit retry_log; /* sender thread */
};

static int64_t sender__mono_ms(void) { return mp_mono_ns() / 1000000; }

/* ---- notes and their encoding ------------------------------------------------------- */

static void note__free(struct note *n)
{
    if (!n)
        return;
    free(n->body);
    free(n->enc);
    free(n);
}

static void note__free_list(struct note *n)
{
    while (n) {
        struct note *next = n->next;
        note__free(n);
        n = next;
    }
}

/* The strings live in the same block as the struct; `body` is taken. */
static struct note *note__new(const char *receiver, size_t rl, const char *tenant, size_t tl,
                              const char *idem, size_t il, char *body, size_t len)
{
    struct note *n = calloc(1, sizeof(*n) + rl + tl + il + 3);
    if (!n)
        return NULL;
    char *p = (char *)(n + 1);
    n->receiver = p;
    memcpy(p, receiver, rl);
    p += rl + 1;
    n->tenant = p;
    memcpy(p, tenant, tl);
    p += tl + 1;
    n->idem = p;
    memcpy(p, idem, il);
    n->body = body;
    n->len = len;
    return n;
}

static void put_be(char *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        p[i] = (char)(v & 0xff);
}

static uint64_t get_be(const char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | (unsigned char)p[i];
    return v;
}

static char *put_str(char *p, const char *s)
{
    size_t l = strlen(s);
    put_be(p, l, 2);
    memcpy(p + 2, s, l);
    return p + 2 + l;
}

/* Outbox (dead = 0) or dead (dead = 1) value of `n`; malloc'd, NULL on OOM. */
static char *note__encode(const struct note *n, int dead, size_t *len)
{
    size_t l = 1 + 8 + 4 + (dead ? 8 : 0) + 2 + strlen(n->receiver) + 2 + strlen(n->tenant) + 2 +
               strlen(n->idem) + (dead ? 2 + strlen(n->reason) : 0) + n->len;
    char *v = malloc(l), *p = v;
    if (!v)
        return NULL;
    *p++ = dead ? SENDER_VER_DEAD : SENDER_VER_OUTBOX;
    put_be(p, (uint64_t)n->created_ms, 8);
    put_be(p + 8, n->attempts, 4);
    p += 12;
    if (dead) {
        put_be(p, (uint64_t)n->died_ms, 8);
        p += 8;
    }
    p = put_str(p, n->receiver);
    p = put_str(p, n->tenant);
    p = put_str(p, n->idem);
    if (dead)
        p = put_str(p, n->reason);
    memcpy(p, n->body, n->len);
    *len = l;
    return v;
}

/* Reads one length-prefixed string; 0 when it does not fit in [p, end). */
static int get_str(const char **p, const char *end, const char **s, size_t *l)
{
    if (end - *p < 2)
        return 0;
    *l = (size_t)get_be(*p, 2);
    if ((size_t)(end - *p - 2) < *l)
        return 0;
    *s = *p + 2;
    *p += 2 + *l;
    return 1;
}

/* MP_OK, MP_ERR_PARSE (a value that does not decode), MP_ERR_NOMEM. */
static int note__decode(const char *v, size_t vl, int dead, struct note **out)
{
    const char *p = v, *end = v + vl, *r, *t, *k, *why = "";
    size_t rl, tl, kl, whyl = 0;
    size_t fixed = 1 + 8 + 4 + (dead ? 8 : 0);
    if (vl < fixed || v[0] != (dead ? SENDER_VER_DEAD : SENDER_VER_OUTBOX))
        return MP_ERR_PARSE;
    int64_t created = (int64_t)get_be(p + 1, 8);
    uint32_t attempts = (uint32_t)get_be(p + 9, 4);
    int64_t died = dead ? (int64_t)get_be(p + 13, 8) : 0;
    p += fixed;
    if (!get_str(&p, end, &r, &rl) || !get_str(&p, end, &t, &tl) || !get_str(&p, end, &k, &kl) ||
        (dead && !get_str(&p, end, &why, &whyl)))
        return MP_ERR_PARSE;
    size_t bl = (size_t)(end - p);
    char *body = malloc(bl + 1);
    if (!body)
        return MP_ERR_NOMEM;
    memcpy(body, p, bl);
    body[bl] = '\0';
    struct note *n = note__new(r, rl, t, tl, k, kl, body, bl);
    if (!n) {
        free(body);
        return MP_ERR_NOMEM;
    }
    n->created_ms = created;
    n->attempts = attempts;
    n->died_ms = died;
    snprintf(n->reason, sizeof(n->reason), "%.*s", (int)whyl, why);
    *out = n;
    return MP_OK;
}

/* ---- receivers ------------------------------------------------------------------------ */

static void rq__free(struct rq *q)
{
    if (!q)
        return;
    free(q->name);
    free(q->url);
    free(q->secret);
    free(q->msg_body);
    free(q->msg_idem);
    note__free_list(q->head);
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

static struct rq *sender__find(const struct rqset *set, const char *name)
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
        if (sender__find(set, receivers[i].name)) {
            mp_warn("alert_receiver_duplicate receiver=%s kept=first", receivers[i].name);
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
        char *nmv = sender__dup(receivers[i].name);
        if (nmv)
            nm->v[nm->n++] = nmv;
        if (!q->name || !q->url || (receivers[i].secret && !q->secret) || !nmv)
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

static void rq__push(struct rq *q, struct note *n)
{
    n->next = NULL;
    if (q->tail)
        q->tail->next = n;
    else
        q->head = n;
    q->tail = n;
}

static struct note *rq__pop(struct rq *q)
{
    struct note *n = q->head;
    q->head = n->next;
    if (!q->head)
        q->tail = NULL;
    n->next = NULL;
    return n;
}

/* ---- dead letters and store writes (sender thread, or start before it) --------------- */

static int sender__commit(struct alert_sender *s, const char *what)
{
    if (!s->opts.store || eng_store_batch_count(s->tb) == 0)
        return MP_OK;
    pthread_mutex_lock(&s->commit_lock);
    int rc = eng_store_commit(s->opts.store, s->tb, 0);
    pthread_mutex_unlock(&s->commit_lock);
    if (rc != MP_OK)
        mp_error("alert_outbox_write_failed what=%s err=\"%s\"", what, mp_strerror(rc));
    return rc;
}

/* Moves `n` (already off its queue) to the dead letters; the caller commits
 * s->tb. With a store the note is written to `dead`, removed from `outbox`
 * and freed; without, it joins the in-memory list. */
static void sender__dead(struct alert_sender *s, struct note *n, const char *reason)
{
    /* `next` may still be a queue or inbox link; as the dead list's tail it
     * must end the list. */
    n->next = NULL;
    n->died_ms = mp_now_ms();
    snprintf(n->reason, sizeof(n->reason), "%s", reason);
    pthread_mutex_lock(&s->lock);
    n->dead_id = ++s->dead_id;
    if (!s->opts.store) {
        if (s->dead_tail)
            s->dead_tail->next = n;
        else
            s->dead_head = n;
        s->dead_tail = n;
    }
    pthread_mutex_unlock(&s->lock);
    mp_error("alert_dead receiver=%s tenant=%s idem=%s reason=%s attempts=%u", n->receiver,
             n->tenant, n->idem, reason, n->attempts);
    if (s->opts.store) {
        char k[8], ok[8];
        size_t vl = 0;
        char *v = note__encode(n, 1, &vl);
        put_be(k, n->dead_id, 8);
        put_be(ok, n->seq, 8);
        if (v)
            eng_store_batch_kv_put(s->tb, ENG_KV_DEAD, k, 8, v, vl);
        else /* left in the outbox: it is sent again after a restart */
            mp_error("alert_dead_not_stored idem=%s err=\"out of memory\"", n->idem);
        if (v)
            eng_store_batch_kv_del(s->tb, ENG_KV_OUTBOX, ok, 8);
        free(v);
        note__free(n);
    }
    mp_add_relaxed(&s->dead, 1);
    mp_add_relaxed(&s->dead_stored, 1);
    atomic_fetch_sub_explicit(&s->queued, 1, memory_order_relaxed);
}

static void rq__clear_msg(struct rq *q)
{
    free(q->msg_body);
    free(q->msg_idem);
    q->msg_body = q->msg_idem = NULL;
    q->msg_len = 0;
    q->group_n = 0;
}

/* Dead-letters the current message's notes (or the head alone). */
static void rq__dead_group(struct alert_sender *s, struct rq *q, const char *reason)
{
    size_t g = q->group_n ? q->group_n : 1;
    for (size_t i = 0; i < g && q->head; i++)
        sender__dead(s, rq__pop(q), reason);
    rq__clear_msg(q);
}

static void rq__abort(struct alert_sender *s, struct rq *q)
{
    if (!q->easy)
        return;
    curl_multi_remove_handle(s->multi, q->easy);
    curl_easy_cleanup(q->easy);
    curl_slist_free_all(q->hdrs);
    q->easy = NULL;
    q->hdrs = NULL;
}

/* ---- submit ----------------------------------------------------------------------------- */

static int sender__known(const struct names *nm, const char *name)
{
    for (size_t i = 0; i < nm->n; i++)
        if (strcmp(nm->v[i], name) == 0)
            return 1;
    return 0;
}

int alert_sender_submit(struct alert_sender *s, struct alert_note *notes, size_t n,
                        struct eng_store_batch *b)
{
    int rc = MP_OK, refused = 0;
    struct note *head = NULL, **tailp = &head, *last = NULL;
    struct eng_store_batch *own = NULL;
    size_t count = 0;
    pthread_mutex_lock(&s->submit_lock);
    pthread_mutex_lock(&s->lock);
    int stopping = s->stopping;
    pthread_mutex_unlock(&s->lock);
    if (stopping) {
        rc = MP_ERR_STATE;
        goto out;
    }
    if (s->opts.store && !b && !(b = own = eng_store_batch_new(s->opts.store))) {
        rc = MP_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct alert_note *an = &notes[i];
        char *body = an->body;
        an->body = NULL;
        const char *tenant = an->tenant ? an->tenant : "", *idem = an->idem ? an->idem : "";
        pthread_mutex_lock(&s->lock);
        int known = an->receiver && sender__known(s->names, an->receiver);
        pthread_mutex_unlock(&s->lock);
        if (!known || !body || strlen(tenant) > SENDER_STR_MAX || strlen(idem) > SENDER_STR_MAX) {
            mp_add_relaxed(&s->refused, 1);
            mp_error("alert_submit_refused receiver=%s why=\"%s\"",
                     an->receiver ? an->receiver : "-",
                     !known ? "unknown receiver" : !body ? "no body" : "field too long");
            free(body);
            refused = 1;
            continue;
        }
        struct note *nt = note__new(an->receiver, strlen(an->receiver), tenant, strlen(tenant),
                                    idem, strlen(idem), body, strlen(body));
        if (!nt) {
            free(body);
            rc = MP_ERR_NOMEM;
            goto out;
        }
        *tailp = last = nt;
        tailp = &nt->next;
        nt->created_ms = mp_now_ms();
        /* Encoded now, put in the batch only once all are: running out of
         * memory half way must not leave part of them in the caller's batch. */
        if (s->opts.store && !(nt->enc = note__encode(nt, 0, &nt->enc_len))) {
            rc = MP_ERR_NOMEM;
            goto out;
        }
        count++;
    }
    for (struct note *nt = head; s->opts.store && nt; nt = nt->next) {
        char k[8];
        nt->seq = ++s->seq;
        put_be(k, nt->seq, 8);
        eng_store_batch_kv_put(b, ENG_KV_OUTBOX, k, 8, nt->enc, nt->enc_len);
        free(nt->enc);
        nt->enc = NULL;
    }
    /* Commit even with no note of ours: the caller's changes must land. */
    if (s->opts.store) {
        pthread_mutex_lock(&s->commit_lock);
        rc = eng_store_commit(s->opts.store, b, 0);
        pthread_mutex_unlock(&s->commit_lock);
        if (rc != MP_OK)
            goto out;
    }
    if (head) {
        pthread_mutex_lock(&s->lock);
        if (s->inbox_tail)
            s->inbox_tail->next = head;
        else
            s->inbox_head = head;
        s->inbox_tail = last;
        pthread_mutex_unlock(&s->lock);
        head = NULL;
        mp_add_relaxed(&s->submitted, count);
        mp_add_relaxed(&s->queued, count);
        curl_multi_wakeup(s->multi);
    }
    if (refused)
        rc = MP_ERR_INVAL;
out:
    pthread_mutex_unlock(&s->submit_lock);
    /* On error, whatever was not queued is dropped: bodies are ours even then. */
    note__free_list(head);
    for (size_t i = 0; rc != MP_OK && rc != MP_ERR_INVAL && i < n; i++) {
        free(notes[i].body);
        notes[i].body = NULL;
    }
    eng_store_batch_free(own);
    return rc;
}

/* ---- set_receivers ---------------------------------------------------------------------- */

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
static void sender__apply(struct alert_sender *s, struct rqset *set)
{
    for (size_t i = 0; i < set->n; i++) {
        struct rq *nq = set->rq[i], *oq = sender__find(&s->cur, nq->name);
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
        rq__abort(s, q);
        rq__clear_msg(q);
        while (q->head) {
            sender__dead(s, rq__pop(q), "receiver_removed");
            removed++;
        }
        mp_info("alert_receiver_removed receiver=%s dead=%zu", q->name, removed);
        rq__free(q);
    }
    sender__commit(s, "receiver_removed");
    free(s->cur.rq);
    s->cur = *set;
    free(set);
}

/* ---- the sender thread -------------------------------------------------------------------- */

static int sender__expired(const struct alert_sender *s, const struct note *n, int64_t wall)
{
    return wall - n->created_ms >= s->opts.max_age_ms;
}

/* Slack: merges the queued notes (up to 20, in order) into one message.
 * Stops at a note whose body is not {"text": string}, which then goes on
 * its own. Leaves group_n = 1 and no msg_body when there is nothing to
 * merge or memory runs out (sending one at a time still works). */
static void rq__form_group(struct rq *q)
{
    q->group_n = 1;
    if (q->type != ALERT_RECEIVER_SLACK || !q->head->next)
        return;
    json_t *root = NULL;
    char *joined = NULL;
    size_t jl = 0, g = 0;
    for (struct note *n = q->head; n && g < SENDER_SLACK_MERGE_MAX; n = n->next) {
        json_t *doc = json_loadb(n->body, n->len, 0, NULL);
        json_t *text = json_object_get(doc, "text");
        if (!json_is_string(text)) {
            json_decref(doc);
            break;
        }
        size_t tl = json_string_length(text);
        char *nj = realloc(joined, jl + 2 + tl + 1);
        if (!nj) {
            json_decref(doc);
            break;
        }
        joined = nj;
        if (g) {
            memcpy(joined + jl, "\n\n", 2);
            jl += 2;
        }
        memcpy(joined + jl, json_string_value(text), tl);
        jl += tl;
        joined[jl] = '\0';
        json_decref(doc);
        g++;
    }
    if (g < 2)
        goto out;
    root = json_pack("{s:s%}", "text", joined, jl);
    char *body = root ? json_dumps(root, JSON_COMPACT) : NULL;
    size_t il = strlen(q->head->idem) + 24;
    char *idem = malloc(il);
    if (!body || !idem) {
        free(body);
        free(idem);
        goto out;
    }
    snprintf(idem, il, "%s+%zu", q->head->idem, g);
    q->msg_body = body;
    q->msg_len = strlen(body);
    q->msg_idem = idem;
    q->group_n = g;
out:
    json_decref(root);
    free(joined);
}

/* Receivers' answers are not read: only the status counts. */
static size_t sender__discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

static void sender__start_msg(struct alert_sender *s, struct rq *q, int64_t now)
{
    struct note *n = q->head;
    const char *body = q->msg_body ? q->msg_body : n->body;
    size_t len = q->msg_body ? q->msg_len : n->len;
    const char *idem = q->msg_idem ? q->msg_idem : n->idem;
    CURL *e = curl_easy_init();
    struct curl_slist *h = NULL, *t;
    char buf[256];
    if (!e)
        goto err;
    /* Checked append: a NULL slist would send the request without its key. */
#define SENDER_HDR(str)                          \
    do {                                         \
        if (!(t = curl_slist_append(h, (str)))) \
            goto err;                            \
        h = t;                                   \
    } while (0)
    SENDER_HDR("Content-Type: application/json");
    SENDER_HDR("Expect:"); /* no 100-continue round trip */
    char *ik = malloc(strlen(idem) + 20);
    if (!ik)
        goto err;
    sprintf(ik, "Idempotency-Key: %s", idem);
    t = curl_slist_append(h, ik);
    free(ik);
    if (!t)
        goto err;
    h = t;
    if (q->secret) {
        char sig[128];
        /* Per attempt: receivers reject stale timestamps. */
        alert_sign(q->secret, mp_now_ms() / 1000, body, len, sig, sizeof(sig));
        snprintf(buf, sizeof(buf), "X-Mailpulse-Signature: %s", sig);
        SENDER_HDR(buf);
    }
#undef SENDER_HDR
    curl_easy_setopt(e, CURLOPT_URL, q->url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body); /* not copied: lives until the message ends */
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sender__discard);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "mailpulse/0.1");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)s->opts.timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)s->opts.timeout_ms);
    curl_easy_setopt(e, CURLOPT_PRIVATE, q);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (curl_multi_add_handle(s->multi, e) != CURLM_OK)
        goto err;
    q->easy = e;
    q->hdrs = h;
    q->last_send_ms = now;
    q->sent_once = 1;
    struct note *g = n;
    for (size_t i = 0; i < q->group_n && g; i++, g = g->next)
        g->attempts++;
    mp_add_relaxed(&s->attempts, 1);
    return;
err:
    /* Out of memory: try again shortly rather than spin. */
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
    q->next_ms = now + 100;
}

/* Decides what the receiver does now; lowers *wait_ms to its next due time. */
static void sender__step(struct alert_sender *s, struct rq *q, int64_t now, int *wait_ms)
{
    if (!q->head || q->easy)
        return;
    int64_t wall = mp_now_ms();
    int wrote = 0;
    if (q->group_n && sender__expired(s, q->head, wall)) {
        rq__dead_group(s, q, "expired"); /* the group lives and dies as one */
        wrote = 1;
    }
    while (!q->group_n && q->head && sender__expired(s, q->head, wall)) {
        sender__dead(s, rq__pop(q), "expired");
        wrote = 1;
    }
    if (wrote)
        sender__commit(s, "expired");
    if (!q->head)
        return;
    int64_t due = q->next_ms;
    if (q->type == ALERT_RECEIVER_SLACK && q->sent_once &&
        q->last_send_ms + s->opts.slack_interval_ms > due)
        due = q->last_send_ms + s->opts.slack_interval_ms;
    if (due > now) {
        int64_t d = due - now, left = q->head->created_ms + s->opts.max_age_ms - wall;
        if (left < d)
            d = left > 0 ? left : 0;
        if (d < *wait_ms)
            *wait_ms = (int)d;
        return;
    }
    if (!q->group_n)
        rq__form_group(q);
    sender__start_msg(s, q, now);
}

/* Rewrites the outbox entries of the current message with their attempts,
 * so a restart resumes the count (and the dead listing shows it). */
static void sender__store_attempts(struct alert_sender *s, struct rq *q)
{
    if (!s->opts.store)
        return;
    struct note *n = q->head;
    for (size_t i = 0; i < q->group_n && n; i++, n = n->next) {
        char k[8];
        size_t vl;
        char *v = note__encode(n, 0, &vl);
        if (!v)
            continue; /* the stored count only lags */
        put_be(k, n->seq, 8);
        eng_store_batch_kv_put(s->tb, ENG_KV_OUTBOX, k, 8, v, vl);
        free(v);
    }
    sender__commit(s, "attempts");
}

static void sender__finish(struct alert_sender *s, struct rq *q, CURLcode res)
{
    long code = 0;
    curl_off_t retry_after = -1;
    curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &code);
    if (res == CURLE_OK && (code == 429 || code == 503))
        curl_easy_getinfo(q->easy, CURLINFO_RETRY_AFTER, &retry_after);
    rq__abort(s, q);
    size_t g = q->group_n ? q->group_n : 1;
    if (code == 429)
        mp_add_relaxed(&s->rate_limited, 1);
    if (res == CURLE_OK && code >= 200 && code < 300) {
        mp_debug("alert_delivered receiver=%s status=%ld notes=%zu attempts=%u", q->name, code, g,
                 q->head->attempts);
        for (size_t i = 0; i < g && q->head; i++) {
            struct note *n = rq__pop(q);
            if (s->opts.store) {
                char k[8];
                put_be(k, n->seq, 8);
                eng_store_batch_kv_del(s->tb, ENG_KV_OUTBOX, k, 8);
            }
            note__free(n);
        }
        /* A failed delete means a resend after a restart, which the
         * Idempotency-Key lets the receiver ignore. */
        sender__commit(s, "delivered");
        rq__clear_msg(q);
        mp_add_relaxed(&s->delivered, g);
        mp_add_relaxed(&s->merged, g - 1);
        atomic_fetch_sub_explicit(&s->queued, g, memory_order_relaxed);
        return;
    }
    mp_add_relaxed(&s->failed, 1);
    int retry = res != CURLE_OK || code == 408 || code == 429 || code >= 500 || code < 400;
    char reason[24];
    if (!retry) {
        snprintf(reason, sizeof(reason), "http_%ld", code);
        rq__dead_group(s, q, reason);
        sender__commit(s, "dead");
        return;
    }
    if (sender__expired(s, q->head, mp_now_ms())) {
        rq__dead_group(s, q, "expired");
        sender__commit(s, "dead");
        return;
    }
    /* Full jitter: uniform in [0, min(cap, base * 2^(attempts-1))], so
     * receivers that failed together do not retry together. */
    uint32_t a = q->head->attempts ? q->head->attempts : 1;
    int64_t d = s->opts.backoff_ms << (a - 1 < 20 ? a - 1 : 20);
    if (d > s->opts.backoff_max_ms)
        d = s->opts.backoff_max_ms;
    s->rng = s->rng * 6364136223846793005ULL + 1442695040888963407ULL;
    d = (int64_t)((s->rng >> 33) % (uint64_t)(d + 1));
    /* Retry-After replaces the backoff. libcurl reports 0 both for an
     * absent header and for "Retry-After: 0", so only > 0 counts (0 would
     * mean "now" anyway, and the backoff is a better answer to an outage).
     * Compared in seconds first so a huge value cannot overflow. */
    if (retry_after > 0)
        d = retry_after > s->opts.backoff_max_ms / 1000 ? s->opts.backoff_max_ms
                                                        : (int64_t)retry_after * 1000;
    q->next_ms = sender__mono_ms() + d;
    sender__store_attempts(s, q);
    /* One line a second at most: an outage with short backoffs across many
     * receivers would otherwise flood the log (the figures count them all). */
    uint64_t suppressed = 0;
    if (mp_ratelimit_allow(&s->retry_log, mp_now_ms(), 1000, &suppressed))
        mp_warn("alert_retry receiver=%s status=%ld err=\"%s\" attempt=%u next_in_ms=%lld "
                "suppressed=%llu",
                q->name, code, curl_easy_strerror(res), q->head->attempts, (long long)d,
                (unsigned long long)suppressed);
}

static void *sender__main(void *arg)
{
    struct alert_sender *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        struct note *in = s->inbox_head;
        s->inbox_head = s->inbox_tail = NULL;
        struct rqset *pend = s->pending;
        s->pending = NULL;
        int stopping = s->stopping;
        int64_t deadline = s->drain_deadline;
        pthread_mutex_unlock(&s->lock);
        /* Receivers first: the inbox was taken with them and may name a new one. */
        if (pend)
            sender__apply(s, pend);
        int wrote = 0;
        while (in) {
            struct note *next = in->next;
            struct rq *q = sender__find(&s->cur, in->receiver);
            if (q)
                rq__push(q, in);
            else {
                /* Removed between its submit and now. */
                sender__dead(s, in, "receiver_removed");
                wrote = 1;
            }
            in = next;
        }
        if (wrote)
            sender__commit(s, "receiver_removed");
        int64_t now = sender__mono_ms();
        int busy = 0, wait_ms = 1000;
        for (size_t i = 0; i < s->cur.n; i++) {
            sender__step(s, s->cur.rq[i], now, &wait_ms);
            busy |= s->cur.rq[i]->head != NULL;
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
    /* What is left stays in the outbox for the next start (with a store). */
    size_t left = 0;
    for (size_t i = 0; i < s->cur.n; i++) {
        struct rq *q = s->cur.rq[i];
        rq__abort(s, q);
        for (struct note *n = q->head; n; n = n->next)
            left++;
    }
    if (left && s->opts.store)
        mp_info("alert_sender_stopped undelivered=%zu kept=outbox", left);
    else if (left)
        mp_error("alert_sender_stopped undelivered=%zu dropped=%zu", left, left);
    return NULL;
}

/* ---- start / stop --------------------------------------------------------------------- */

struct load_ctx {
    struct alert_sender *s;
    uint64_t max_key;
    size_t loaded, removed, bad;
    int rc;
};

static int sender__load_outbox(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    struct load_ctx *c = arg;
    struct note *n = NULL;
    if (kl != 8) {
        c->bad++;
        return MP_OK;
    }
    uint64_t seq = get_be(k, 8);
    if (seq > c->max_key)
        c->max_key = seq;
    int rc = note__decode(v, vl, 0, &n);
    if (rc == MP_ERR_PARSE) {
        /* Kept where it is for a human to look at; not sent, not lost. */
        mp_error("alert_outbox_bad_entry seq=%llu len=%zu", (unsigned long long)seq, vl);
        c->bad++;
        return MP_OK;
    }
    if (rc != MP_OK)
        return rc;
    n->seq = seq;
    mp_add_relaxed(&c->s->queued, 1);
    struct rq *q = sender__find(&c->s->cur, n->receiver);
    if (q) {
        rq__push(q, n);
        c->loaded++;
    } else {
        sender__dead(c->s, n, "receiver_removed");
        c->removed++;
    }
    return MP_OK;
}

static int sender__load_dead(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    struct load_ctx *c = arg;
    (void)v;
    (void)vl;
    if (kl == 8 && get_be(k, 8) > c->max_key)
        c->max_key = get_be(k, 8);
    c->loaded++;
    return MP_OK;
}

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
        struct load_ctx dc = {.s = s};
        if ((rc = eng_store_kv_scan(s->opts.store, ENG_KV_DEAD, NULL, 0, sender__load_dead,
                                    &dc)) != MP_OK)
            goto err;
        s->dead_id = dc.max_key;
        mp_store_relaxed(&s->dead_stored, dc.loaded);
        struct load_ctx oc = {.s = s};
        rc = eng_store_kv_scan(s->opts.store, ENG_KV_OUTBOX, NULL, 0, sender__load_outbox, &oc);
        if (rc == MP_OK)
            rc = sender__commit(s, "receiver_removed");
        if (rc != MP_OK)
            goto err;
        s->seq = oc.max_key;
        mp_info("alert_outbox_loaded queued=%zu receiver_removed=%zu bad=%zu dead_stored=%zu",
                oc.loaded, oc.removed, oc.bad, dc.loaded + oc.removed);
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
        pthread_mutex_lock(&s->submit_lock);
        pthread_mutex_lock(&s->lock);
        s->stopping = 1;
        s->drain_deadline = sender__mono_ms() + drain_ms;
        pthread_mutex_unlock(&s->lock);
        pthread_mutex_unlock(&s->submit_lock);
        curl_multi_wakeup(s->multi);
        pthread_join(s->tid, NULL);
    }
    note__free_list(s->inbox_head);
    note__free_list(s->dead_head);
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
}

/* ---- dead letter listing ------------------------------------------------------------------ */

struct dead_ctx {
    json_t *arr;
    const char *tenant;
    size_t limit;
    int rc;
};

/* Appends one dead letter; MP_ERR_FULL stops the scan at the limit. */
static int dead__add(struct dead_ctx *c, const struct note *n)
{
    if (c->tenant && strcmp(c->tenant, n->tenant) != 0)
        return MP_OK;
    if (c->limit && json_array_size(c->arr) >= c->limit)
        return MP_ERR_FULL;
    char created[40], died[40];
    alert_format_time(n->created_ms, created, sizeof(created));
    alert_format_time(n->died_ms, died, sizeof(died));
    json_t *body = json_loadb(n->body, n->len, JSON_DECODE_ANY, NULL);
    if (!body) /* not JSON after all: shown as the string it is */
        body = json_stringn(n->body, n->len);
    json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:o}", "id", (json_int_t)n->dead_id,
                          "receiver", n->receiver, "tenant", n->tenant, "idempotency_key",
                          n->idem, "reason", n->reason, "attempts", (json_int_t)n->attempts,
                          "created", created, "died", died, "body", body);
    if (!o || json_array_append_new(c->arr, o) != 0)
        return MP_ERR_NOMEM;
    return MP_OK;
}

static int sender__dead_scan(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    struct dead_ctx *c = arg;
    struct note *n = NULL;
    if (kl != 8)
        return MP_OK;
    int rc = note__decode(v, vl, 1, &n);
    if (rc == MP_ERR_PARSE) {
        mp_error("alert_dead_bad_entry id=%llu len=%zu", (unsigned long long)get_be(k, 8), vl);
        return MP_OK;
    }
    if (rc != MP_OK)
        return rc;
    n->dead_id = get_be(k, 8);
    rc = dead__add(c, n);
    note__free(n);
    return rc;
}

char *alert_sender_dead_json(struct alert_sender *s, const char *tenant, size_t limit)
{
    char *out = NULL;
    json_t *root = json_object();
    struct dead_ctx c = {.arr = json_array(), .tenant = tenant, .limit = limit};
    if (!root || !c.arr)
        goto done;
    int rc = MP_OK;
    if (s->opts.store) {
        rc = eng_store_kv_scan(s->opts.store, ENG_KV_DEAD, NULL, 0, sender__dead_scan, &c);
    } else {
        pthread_mutex_lock(&s->lock);
        for (struct note *n = s->dead_head; n && rc == MP_OK; n = n->next)
            rc = dead__add(&c, n);
        pthread_mutex_unlock(&s->lock);
    }
    if (rc != MP_OK && rc != MP_ERR_FULL)
        goto done;
    json_object_set(root, "dead", c.arr);
    out = json_dumps(root, JSON_COMPACT);
done:
    json_decref(c.arr);
    json_decref(root);
    return out;
}
