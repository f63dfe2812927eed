/* alert_sender_impl.h — PRIVATE to the sender: the state its pieces share.
 *
 * Only the sender's own files include this header: alert_sender.c (start,
 * stop, submit, receiver lists), alert_outbox.c (the store: outbox and dead
 * letters, their encoding, the load at start, the dead-letter listing) and
 * alert_sender_loop.c (the sender thread: libcurl multi, per-receiver order,
 * retries, Slack pacing and merging). Anything else uses alert_sender.h;
 * nothing here is a stable interface.
 *
 * Threads. Submitters write the outbox (their batch), then append the notes
 * to a mutex-protected inbox and wake the sender with curl_multi_wakeup().
 * The sender thread alone owns the per-receiver queues, the curl handles and
 * its own store batch `tb`: it moves inbox notes to their receiver's FIFO
 * and keeps at most one request in flight per receiver (that is what keeps
 * the order), any number across receivers. set_receivers() builds the new
 * receiver objects up front and hands them over under the same mutex; the
 * sender applies them before it looks at the inbox taken in the same
 * critical section, so a note always meets the receiver list that was
 * current when it was submitted. alert_sender_start touches the thread's
 * state before the thread exists (the outbox load).
 *
 * Atomics: the figures only, through mp_atomic.h (relaxed; see the struct).
 */
#ifndef ALERT_SENDER_IMPL_H
#define ALERT_SENDER_IMPL_H

#include <curl/curl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "alert_sender.h"
#include "mp_atomic.h"
#include "mp_hist.h"
#include "mp_log.h"

#define SENDER_SLACK_MERGE_MAX 20
#define SENDER_STR_MAX 65535 /* length prefixes are 2 bytes */

/* One notification: in the inbox, a receiver's queue, or (without a store)
 * the dead list. */
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
    struct rstat *st; /* this name's figures; found by the sender thread at first use */
    struct curl_slist *hdrs;
    struct alert_receiver rc; /* a full copy: the email settings (from, to, auth, tls) */
    struct curl_slist *rcpt;  /* email: RCPT TO list while in flight */
    const char *up;           /* email: what is left to upload of the message */
    size_t up_left;
};

/* One receiver name's figures. The sender thread alone adds slots and
 * writes them; a slot's name is written before nrstat is raised with
 * release, and readers acquire nrstat, so they see whole names. Counts are
 * relaxed: each is read on its own. */
struct rstat {
    char name[65];
    mp_atomic_u64 attempts, failures, delivered;
    struct mp_hist latency;
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
    mp_atomic_i64 oldest_ms; /* sender thread stores (relaxed), /metrics loads */
    mp_atomic_u32 nrstat;
    struct rstat rstat[ALERT_SENDER_RECEIVERS_MAX + 1]; /* the last: every later name */
};

static inline int64_t sender_mono_ms(void) { return mp_mono_ns() / 1000000; }

/* ---- alert_sender.c: notes in lists, receivers ---- */

/* Appends the chain first..last (already linked) to the list head/tail. */
void alert_note_chain(struct note **head, struct note **tail, struct note *first,
                      struct note *last);
void alert_rq_push(struct rq *q, struct note *n);
struct note *alert_rq_pop(struct rq *q);
/* The receiver named `name` in `set`, NULL when there is none. */
struct rq *alert_rq_find(const struct rqset *set, const char *name);
/* Sender thread: switches to the receivers of `set` (and frees it). */
void alert_sender_apply(struct alert_sender *s, struct rqset *set);

/* ---- alert_outbox.c: notes and the store (sender thread, or start) ---- */

/* A note whose strings live in the same block; `body` is taken (not on
 * failure: NULL, the caller still owns it). */
struct note *alert_note_new(const char *receiver, size_t rl, const char *tenant, size_t tl,
                            const char *idem, size_t il, char *body, size_t len);
void alert_note_free(struct note *n);
void alert_note_free_list(struct note *n);
/* The outbox value of `n` in n->enc (MP_OK or MP_ERR_NOMEM). */
int alert_outbox_encode(struct note *n);
/* Puts n->enc at key n->seq in batch b and frees it. */
void alert_outbox_put(struct eng_store_batch *b, struct note *n);
/* Deletes the outbox entry of `n` in s->tb. */
void alert_outbox_del(struct alert_sender *s, const struct note *n);
/* Commits b under commit_lock. MP_OK or the store's error. */
int alert_outbox_commit_batch(struct alert_sender *s, struct eng_store_batch *b);
/* Commits s->tb when it holds anything (logged on failure, with `what`). */
int alert_outbox_commit(struct alert_sender *s, const char *what);
/* Moves `n` (already off its queue) to the dead letters; the caller commits
 * s->tb. With a store the note is written to `dead`, removed from `outbox`
 * and freed; without, it joins the in-memory list. */
void alert_outbox_dead(struct alert_sender *s, struct note *n, const char *reason);
/* Rewrites the outbox entries of q's current message with their attempts
 * and commits. */
void alert_outbox_store_attempts(struct alert_sender *s, struct rq *q);
/* At start: the dead-letter count and last id, then the outbox into the
 * receivers' queues (dead-lettering those of removed receivers).
 * MP_OK, MP_ERR_NOMEM, MP_ERR_IO. */
int alert_outbox_load(struct alert_sender *s);

/* ---- alert_sender_loop.c: the sender thread ---- */

void *alert_sender_loop_main(void *arg);
/* Takes q's request out of the multi handle, if one is in flight. */
void alert_rq_abort(struct alert_sender *s, struct rq *q);
/* Forgets q's current message (its notes stay queued). */
void alert_rq_clear_msg(struct rq *q);

#endif
