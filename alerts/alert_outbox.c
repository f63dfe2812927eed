/* alert_outbox.c — the sender's durable records: notes and their encoding,
 * the outbox and dead-letter column families, the load at start and the
 * dead-letter listing (see alert_sender.h, "Durability" and "Failures";
 * private state in alert_sender_impl.h).
 *
 * Store layout (column families owned by the sender):
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
 * Threads: the sender thread (and alert_sender_start before it exists),
 * except alert_sender_dead_json (any thread: the store, or the in-memory
 * list under s->lock) and the note helpers (any thread, on their own notes).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_notify.h"
#include "alert_sender_impl.h"

#define SENDER_VER_OUTBOX 1
#define SENDER_VER_DEAD 2

/* ---- notes and their encoding ---- */

void alert_note_free(struct note *n)
{
    if (!n)
        return;
    free(n->body);
    free(n->enc);
    free(n);
}

void alert_note_free_list(struct note *n)
{
    while (n) {
        struct note *next = n->next;
        alert_note_free(n);
        n = next;
    }
}

struct note *alert_note_new(const char *receiver, size_t rl, const char *tenant, size_t tl,
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
    struct note *n = alert_note_new(r, rl, t, tl, k, kl, body, bl);
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

/* ---- outbox and dead-letter writes ---- */

int alert_outbox_encode(struct note *n)
{
    n->enc = note__encode(n, 0, &n->enc_len);
    return n->enc ? MP_OK : MP_ERR_NOMEM;
}

void alert_outbox_put(struct eng_store_batch *b, struct note *n)
{
    char k[8];
    put_be(k, n->seq, 8);
    eng_store_batch_kv_put(b, ENG_KV_OUTBOX, k, 8, n->enc, n->enc_len);
    free(n->enc);
    n->enc = NULL;
}

void alert_outbox_del(struct alert_sender *s, const struct note *n)
{
    char k[8];
    put_be(k, n->seq, 8);
    eng_store_batch_kv_del(s->tb, ENG_KV_OUTBOX, k, 8);
}

int alert_outbox_commit_batch(struct alert_sender *s, struct eng_store_batch *b)
{
    pthread_mutex_lock(&s->commit_lock);
    int rc = eng_store_commit(s->opts.store, b, 0);
    pthread_mutex_unlock(&s->commit_lock);
    return rc;
}

int alert_outbox_commit(struct alert_sender *s, const char *what)
{
    if (!s->opts.store || eng_store_batch_count(s->tb) == 0)
        return MP_OK;
    int rc = alert_outbox_commit_batch(s, s->tb);
    if (rc != MP_OK)
        mp_error("alert_outbox_write_failed what=%s err=\"%s\"", what, mp_strerror(rc));
    return rc;
}

/* With a store: the dead entry of `n` in s->tb, its outbox entry deleted. */
static void outbox__store_dead(struct alert_sender *s, struct note *n)
{
    char k[8];
    size_t vl = 0;
    char *v = note__encode(n, 1, &vl);
    if (!v) { /* left in the outbox: it is sent again after a restart */
        mp_error("alert_dead_not_stored idem=%s err=\"out of memory\"", n->idem);
        return;
    }
    put_be(k, n->dead_id, 8);
    eng_store_batch_kv_put(s->tb, ENG_KV_DEAD, k, 8, v, vl);
    alert_outbox_del(s, n);
    free(v);
}

void alert_outbox_dead(struct alert_sender *s, struct note *n, const char *reason)
{
    /* `next` may still be a queue or inbox link; as the dead list's tail it
     * must end the list. */
    n->next = NULL;
    n->died_ms = mp_now_ms();
    snprintf(n->reason, sizeof(n->reason), "%s", reason);
    pthread_mutex_lock(&s->lock);
    n->dead_id = ++s->dead_id;
    if (!s->opts.store)
        alert_note_chain(&s->dead_head, &s->dead_tail, n, n);
    pthread_mutex_unlock(&s->lock);
    mp_error("alert_dead receiver=%s tenant=%s idem=%s reason=%s attempts=%u",
             MP_LOG_Q(n->receiver), MP_LOG_Q(n->tenant), n->idem, reason, n->attempts);
    if (s->opts.store) {
        outbox__store_dead(s, n);
        alert_note_free(n);
    }
    mp_add_relaxed(&s->dead, 1);
    mp_add_relaxed(&s->dead_stored, 1);
    mp_sub_relaxed(&s->queued, 1);
}

void alert_outbox_store_attempts(struct alert_sender *s, struct rq *q)
{
    if (!s->opts.store)
        return;
    struct note *n = q->head;
    for (size_t i = 0; i < q->group_n && n; i++, n = n->next)
        if (alert_outbox_encode(n) == MP_OK) /* else the stored count only lags */
            alert_outbox_put(s->tb, n);
    alert_outbox_commit(s, "attempts");
}

/* ---- load at start ---- */

struct load_ctx {
    struct alert_sender *s;
    uint64_t max_key;
    size_t loaded, removed, bad;
};

static int outbox__load_one(void *arg, const char *k, size_t kl, const char *v, size_t vl)
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
    struct rq *q = alert_rq_find(&c->s->cur, n->receiver);
    if (q) {
        alert_rq_push(q, n);
        c->loaded++;
    } else {
        alert_outbox_dead(c->s, n, "receiver_removed");
        c->removed++;
    }
    return MP_OK;
}

static int outbox__load_dead(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    struct load_ctx *c = arg;
    (void)v;
    (void)vl;
    if (kl == 8 && get_be(k, 8) > c->max_key)
        c->max_key = get_be(k, 8);
    c->loaded++;
    return MP_OK;
}

int alert_outbox_load(struct alert_sender *s)
{
    struct load_ctx dc = {.s = s};
    int rc = eng_store_kv_scan(s->opts.store, ENG_KV_DEAD, NULL, 0, outbox__load_dead, &dc);
    if (rc != MP_OK)
        return rc;
    s->dead_id = dc.max_key;
    mp_store_relaxed(&s->dead_stored, dc.loaded);
    struct load_ctx oc = {.s = s};
    rc = eng_store_kv_scan(s->opts.store, ENG_KV_OUTBOX, NULL, 0, outbox__load_one, &oc);
    if (rc == MP_OK)
        rc = alert_outbox_commit(s, "receiver_removed");
    if (rc != MP_OK)
        return rc;
    s->seq = oc.max_key;
    mp_info("alert_outbox_loaded queued=%zu receiver_removed=%zu bad=%zu dead_stored=%zu",
            oc.loaded, oc.removed, oc.bad, dc.loaded + oc.removed);
    return MP_OK;
}

/* ---- dead letter listing ---- */

struct dead_ctx {
    json_t *arr;
    const char *tenant;
    size_t limit;
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

static int dead__scan(void *arg, const char *k, size_t kl, const char *v, size_t vl)
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
    alert_note_free(n);
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
        rc = eng_store_kv_scan(s->opts.store, ENG_KV_DEAD, NULL, 0, dead__scan, &c);
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
