/* alert_sender_loop.c — the sender thread: libcurl multi, one request in
 * flight per receiver, retries with backoff, Slack pacing and merging (see
 * alert_sender.h; private state and the thread rules in alert_sender_impl.h).
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
 *
 * Everything here runs on the sender thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_notify.h"
#include "alert_slack.h"
#include "alert_sender_impl.h"
#include "mp_thread.h"

static struct rstat *loop__rstat(struct alert_sender *s, struct rq *q);

void alert_rq_clear_msg(struct rq *q)
{
    free(q->msg_body);
    free(q->msg_idem);
    q->msg_body = q->msg_idem = NULL;
    q->msg_len = 0;
    q->group_n = 0;
}

void alert_rq_abort(struct alert_sender *s, struct rq *q)
{
    if (!q->easy)
        return;
    curl_multi_remove_handle(s->multi, q->easy);
    curl_easy_cleanup(q->easy);
    curl_slist_free_all(q->hdrs);
    curl_slist_free_all(q->rcpt);
    q->easy = NULL;
    q->hdrs = NULL;
    q->rcpt = NULL;
}

/* Dead-letters the current message's notes (or the head alone). */
static void loop__dead_group(struct alert_sender *s, struct rq *q, const char *reason)
{
    size_t g = q->group_n ? q->group_n : 1;
    for (size_t i = 0; i < g && q->head; i++)
        alert_outbox_dead(s, alert_rq_pop(q), reason);
    alert_rq_clear_msg(q);
}

static int loop__expired(const struct alert_sender *s, const struct note *n, int64_t wall)
{
    return wall - n->created_ms >= s->opts.max_age_ms;
}

/* Slack: merges the queued notes (up to SENDER_SLACK_MERGE_MAX, in order)
 * into one message (alert_slack_merge). Leaves group_n = 1 and no
 * msg_body when there is nothing to merge or memory runs out (sending one
 * at a time still works). */
static void loop__form_group(struct rq *q)
{
    q->group_n = 1;
    if (q->type != ALERT_RECEIVER_SLACK || !q->head->next)
        return;
    const char *bodies[SENDER_SLACK_MERGE_MAX];
    size_t lens[SENDER_SLACK_MERGE_MAX], n = 0;
    for (struct note *x = q->head; x && n < SENDER_SLACK_MERGE_MAX; x = x->next, n++) {
        bodies[n] = x->body;
        lens[n] = x->len;
    }
    char *body = NULL;
    size_t g = alert_slack_merge(bodies, lens, n, &body);
    size_t il = strlen(q->head->idem) + 24;
    char *idem = g ? malloc(il) : NULL;
    if (!body || !idem) {
        free(body);
        free(idem);
        return;
    }
    snprintf(idem, il, "%s+%zu", q->head->idem, g);
    q->msg_body = body;
    q->msg_len = strlen(body);
    q->msg_idem = idem;
    q->group_n = g;
}

/* Receivers' answers are not read: only the status counts. */
static size_t loop__discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

/* The request headers of a message; NULL when out of memory (a NULL slist
 * would send the request without its key, so every append is checked). */
static struct curl_slist *loop__headers(const struct rq *q, const char *body, size_t len,
                                        const char *idem)
{
    char sig[128], sh[256];
    size_t kl = strlen(idem) + 20;
    char *ik = malloc(kl);
    struct curl_slist *h = NULL, *t = NULL;
    if (!ik)
        return NULL;
    snprintf(ik, kl, "Idempotency-Key: %s", idem);
    if (q->secret) {
        /* Per attempt: receivers reject stale timestamps. */
        alert_sign(q->secret, mp_now_ms() / 1000, body, len, sig, sizeof(sig));
        snprintf(sh, sizeof(sh), "X-Mailpulse-Signature: %s", sig);
    }
    const char *all[] = {"Content-Type: application/json", "Expect:" /* no 100-continue */, ik,
                         q->secret ? sh : NULL};
    for (size_t i = 0; i < MP_ARRAY_LEN(all) && all[i]; i++) {
        if (!(t = curl_slist_append(h, all[i]))) {
            curl_slist_free_all(h);
            h = NULL;
            break;
        }
        h = t;
    }
    free(ik);
    return h;
}

/* Email: libcurl reads the message from here while uploading it. */
static size_t loop__upload(char *buf, size_t size, size_t nitems, void *arg)
{
    struct rq *q = arg;
    size_t n = size * nitems < q->up_left ? size * nitems : q->up_left;
    memcpy(buf, q->up, n);
    q->up += n;
    q->up_left -= n;
    return n;
}

/* "Name <a@b>" or "a@b" as SMTP's "<a@b>" (into out). */
static void loop__angle(const char *s, size_t len, char *out, size_t n)
{
    const char *lt = memchr(s, '<', len), *gt = lt ? memchr(lt, '>', len - (size_t)(lt - s)) : NULL;
    while (!lt && len && *s == ' ')
        s++, len--;
    if (lt && gt)
        snprintf(out, n, "%.*s", (int)(gt - lt + 1), lt);
    else
        snprintf(out, n, "<%.*s>", (int)len, s);
}

/* Email: the SMTP side of a message (the receiver's from, to, auth, TLS).
 * MP_OK or MP_ERR_NOMEM. */
static int loop__smtp(CURL *e, struct rq *q, const char *body, size_t len)
{
    char addr[320];
    const char *to = q->rc.mail_to ? q->rc.mail_to : "";
    struct curl_slist *t;
    while (*to) {
        size_t l = strcspn(to, ",");
        loop__angle(to, l, addr, sizeof(addr));
        if (!(t = curl_slist_append(q->rcpt, addr)))
            return MP_ERR_NOMEM;
        q->rcpt = t;
        to += l + (to[l] == ',');
    }
    const char *from = q->rc.mail_from ? q->rc.mail_from : "";
    loop__angle(from, strlen(from), addr, sizeof(addr));
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, addr); /* copied by libcurl */
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, q->rcpt);
    q->up = body;
    q->up_left = len;
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, loop__upload);
    curl_easy_setopt(e, CURLOPT_READDATA, q);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(e, CURLOPT_USE_SSL,
                     q->rc.tls == ALERT_TLS_NONE ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
    if (q->rc.auth_username)
        curl_easy_setopt(e, CURLOPT_USERNAME, q->rc.auth_username);
    if (q->rc.auth_password)
        curl_easy_setopt(e, CURLOPT_PASSWORD, q->rc.auth_password);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    return MP_OK;
}

static void loop__start_msg(struct alert_sender *s, struct rq *q, int64_t now)
{
    struct note *n = q->head;
    const char *body = q->msg_body ? q->msg_body : n->body;
    size_t len = q->msg_body ? q->msg_len : n->len;
    const char *idem = q->msg_idem ? q->msg_idem : n->idem;
    CURL *e = curl_easy_init();
    struct curl_slist *h = e ? loop__headers(q, body, len, idem) : NULL;
    if (!h)
        goto err;
    curl_easy_setopt(e, CURLOPT_URL, q->url);
    if (q->type == ALERT_RECEIVER_EMAIL) {
        if (loop__smtp(e, q, body, len) != MP_OK)
            goto err;
    } else {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body); /* not copied: lives until the end */
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)len);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    }
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, loop__discard);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "mailpulse/0.1");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)s->opts.timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)s->opts.timeout_ms);
    curl_easy_setopt(e, CURLOPT_PRIVATE, q);
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
    mp_add_relaxed(&loop__rstat(s, q)->attempts, 1);
    return;
err:
    /* Out of memory: try again shortly rather than spin. */
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
    curl_slist_free_all(q->rcpt);
    q->rcpt = NULL;
    q->next_ms = now + 100;
}

/* The figures slot of q's name: found or added (sender thread only, see
 * struct rstat); past the cap, names share the last slot, "(other)". */
static struct rstat *loop__rstat(struct alert_sender *s, struct rq *q)
{
    if (q->st)
        return q->st;
    uint32_t n = mp_load_relaxed(&s->nrstat); /* we are its only writer */
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(s->rstat[i].name, q->name) == 0) /* no name is "(other)" */
            return q->st = &s->rstat[i];
    if (n > ALERT_SENDER_RECEIVERS_MAX) /* full: the shared last slot */
        return q->st = &s->rstat[ALERT_SENDER_RECEIVERS_MAX];
    struct rstat *r = &s->rstat[n];
    snprintf(r->name, sizeof(r->name), "%s", n < ALERT_SENDER_RECEIVERS_MAX ? q->name : "(other)");
    mp_hist_init(&r->latency, mp_hist_latency_ns, MP_HIST_LATENCY_N);
    mp_store_release(&s->nrstat, n + 1); /* publishes the name written above */
    return q->st = r;
}

/* Decides what the receiver does now; lowers *wait_ms to its next due time. */
static void loop__step(struct alert_sender *s, struct rq *q, int64_t now, int *wait_ms)
{
    if (!q->head || q->easy)
        return;
    int64_t wall = mp_now_ms();
    int wrote = 0;
    if (q->group_n && loop__expired(s, q->head, wall)) {
        loop__dead_group(s, q, "expired"); /* the group lives and dies as one */
        wrote = 1;
    }
    while (!q->group_n && q->head && loop__expired(s, q->head, wall)) {
        alert_outbox_dead(s, alert_rq_pop(q), "expired");
        wrote = 1;
    }
    if (wrote)
        alert_outbox_commit(s, "expired");
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
        loop__form_group(q);
    loop__start_msg(s, q, now);
}

/* A 2xx: the message's notes leave the queue and the outbox. */
static void loop__delivered(struct alert_sender *s, struct rq *q, long code)
{
    size_t g = q->group_n ? q->group_n : 1;
    mp_debug("alert_delivered receiver=%s status=%ld notes=%zu attempts=%u", MP_LOG_Q(q->name),
             code, g, q->head->attempts);
    struct rstat *st = loop__rstat(s, q); /* one observation per message, at its 2xx */
    int64_t age = mp_now_ms() - q->head->created_ms;
    mp_hist_observe(&st->latency, age > 0 ? (uint64_t)age * 1000000u : 0);
    mp_add_relaxed(&st->delivered, g);
    for (size_t i = 0; i < g && q->head; i++) {
        struct note *n = alert_rq_pop(q);
        if (s->opts.store)
            alert_outbox_del(s, n);
        alert_note_free(n);
    }
    /* A failed delete means a resend after a restart, which the
     * Idempotency-Key lets the receiver ignore. */
    alert_outbox_commit(s, "delivered");
    alert_rq_clear_msg(q);
    mp_add_relaxed(&s->delivered, g);
    mp_add_relaxed(&s->merged, g - 1);
    mp_sub_relaxed(&s->queued, g);
}

/* A retryable failure: the head waits for the backoff (or Retry-After). */
static void loop__retry_later(struct alert_sender *s, struct rq *q, long code, CURLcode res,
                              curl_off_t retry_after)
{
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
    q->next_ms = sender_mono_ms() + d;
    alert_outbox_store_attempts(s, q);
    /* One line a second at most: an outage with short backoffs across many
     * receivers would otherwise flood the log (the figures count them all). */
    uint64_t suppressed = 0;
    if (mp_ratelimit_allow(&s->retry_log, mp_now_ms(), 1000, &suppressed)) {
        /* CURLE_OK: the receiver answered, and its status is the reason
         * (curl's own text would be "No error"). */
        char why[32];
        snprintf(why, sizeof(why), "http %ld", code);
        mp_warn("alert_retry receiver=%s status=%ld err=%s attempt=%u next_in_ms=%lld "
                "suppressed=%llu",
                MP_LOG_Q(q->name), code, MP_LOG_Q(res == CURLE_OK ? why : curl_easy_strerror(res)),
                q->head->attempts, (long long)d, (unsigned long long)suppressed);
    }
}

static void loop__finish(struct alert_sender *s, struct rq *q, CURLcode res)
{
    long code = 0;
    curl_off_t retry_after = -1;
    curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &code);
    if (res == CURLE_OK && (code == 429 || code == 503))
        curl_easy_getinfo(q->easy, CURLINFO_RETRY_AFTER, &retry_after);
    alert_rq_abort(s, q);
    if (code == 429)
        mp_add_relaxed(&s->rate_limited, 1);
    if (res == CURLE_OK && code >= 200 && code < 300) {
        loop__delivered(s, q, code);
        return;
    }
    mp_add_relaxed(&s->failed, 1);
    mp_add_relaxed(&loop__rstat(s, q)->failures, 1);
    int smtp = q->type == ALERT_RECEIVER_EMAIL;
    /* SMTP: 4xx is "try again later", 5xx is a refusal; HTTP the other way. */
    int retry = smtp ? code < 500
                     : res != CURLE_OK || code == 408 || code == 429 || code >= 500 || code < 400;
    char reason[24] = "expired";
    if (!retry || loop__expired(s, q->head, mp_now_ms())) {
        if (!retry)
            snprintf(reason, sizeof(reason), "%s_%d", smtp ? "smtp" : "http", (int)(code % 1000));
        loop__dead_group(s, q, reason);
        alert_outbox_commit(s, "dead");
        return;
    }
    loop__retry_later(s, q, code, res, retry_after);
}

/* Moves inbox notes to their receivers' queues. */
static void loop__take_inbox(struct alert_sender *s, struct note *in)
{
    int wrote = 0;
    while (in) {
        struct note *next = in->next;
        struct rq *q = alert_rq_find(&s->cur, in->receiver);
        if (q) {
            alert_rq_push(q, in);
        } else {
            /* Removed between its submit and now. */
            alert_outbox_dead(s, in, "receiver_removed");
            wrote = 1;
        }
        in = next;
    }
    if (wrote)
        alert_outbox_commit(s, "receiver_removed");
}

/* Hands finished requests to loop__finish; 1 when there was one. */
static int loop__reap(struct alert_sender *s)
{
    CURLMsg *m;
    int left, any = 0;
    while ((m = curl_multi_info_read(s->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct rq *q = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&q);
        loop__finish(s, q, m->data.result);
        any = 1;
    }
    return any;
}

/* At the end: what is left stays in the outbox for the next start. */
static void loop__stopped(struct alert_sender *s)
{
    size_t left = 0;
    for (size_t i = 0; i < s->cur.n; i++) {
        struct rq *q = s->cur.rq[i];
        alert_rq_abort(s, q);
        for (struct note *n = q->head; n; n = n->next)
            left++;
    }
    if (left && s->opts.store)
        mp_info("alert_sender_stopped undelivered=%zu kept=outbox", left);
    else if (left)
        mp_error("alert_sender_stopped undelivered=%zu dropped=%zu", left, left);
}

void *alert_sender_loop_main(void *arg)
{
    struct alert_sender *s = arg;
    mp_thread_name("mp-sender", -1);
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
            alert_sender_apply(s, pend);
        loop__take_inbox(s, in);
        int64_t now = sender_mono_ms();
        int busy = 0, wait_ms = 1000;
        int64_t oldest = 0;
        for (size_t i = 0; i < s->cur.n; i++) {
            struct rq *q = s->cur.rq[i];
            loop__step(s, q, now, &wait_ms);
            busy |= q->head != NULL;
            if (q->head && (!oldest || q->head->created_ms < oldest)) /* queues are FIFO */
                oldest = q->head->created_ms;
        }
        mp_store_relaxed(&s->oldest_ms, oldest);
        if (stopping && (!busy || now >= deadline))
            break;
        int running = 0;
        curl_multi_perform(s->multi, &running);
        if (loop__reap(s))
            wait_ms = 0; /* the next in line may go now */
        if (stopping && wait_ms > 50)
            wait_ms = 50;
        curl_multi_poll(s->multi, NULL, 0, wait_ms, NULL);
    }
    loop__stopped(s);
    return NULL;
}
