/* alert_sender.h — delivers notifications to receivers over HTTP, from a
 * durable outbox.
 *
 * Contract: one sender thread drives libcurl's multi interface, so many
 * receivers are served at once without a thread per request, and a slow or
 * dead receiver never delays another. Per receiver, notifications leave in
 * the order submitted: the next one waits until the one before it got a 2xx
 * or was dead-lettered.
 *
 * Durability (with opts.store): alert_sender_submit() writes each
 * notification to the store's outbox column family in the caller's batch and
 * commits that batch before queueing, so whatever else the caller put in the
 * batch (alert state) lands atomically with it. An entry is deleted after a
 * 2xx. At start the outbox is read back and sent again in the original order
 * (a receiver that no longer exists gets its entries dead-lettered with
 * reason "receiver_removed"). alert_sender_stop() leaves undelivered entries
 * in the outbox. Without a store the queue lives in memory (tests).
 *
 * Failures: a connect error, timeout, 408, 429 or 5xx is retried with
 * exponential backoff and full jitter (backoff_ms doubling up to
 * backoff_max_ms), until the notification is older than max_age_ms; then it
 * is dead-lettered ("expired"). Any other 4xx dead-letters at once
 * ("http_<code>"). A 429 or 503 with Retry-After (seconds) waits that long
 * instead of the backoff (capped at backoff_max_ms). Dead letters live in the
 * store's dead column family (or memory) and are listed by
 * alert_sender_dead_json().
 *
 * Slack receivers: at most one request per slack_interval_ms (default 1000)
 * per webhook. Notifications that queue up meanwhile are merged, in order,
 * into one message (their attachments in one list, see alert_slack.h), up
 * to 20 per message, so a burst costs one request a second and loses
 * nothing.
 *
 * Email receivers: the note's body is the whole RFC 5322 message
 * (alert_email.h), uploaded over SMTP (MAIL FROM, one RCPT TO per address
 * of mail_to); success is libcurl's CURLE_OK with a 2xx SMTP reply, a 5xx
 * SMTP reply dead-letters ("smtp_<code>"), anything else is retried like an
 * HTTP failure. Signatures and Idempotency-Key do not apply (the message
 * has a Message-ID, stable across retries).
 *
 * Every HTTP request carries Content-Type: application/json, Idempotency-Key
 * (stable across retries of one notification; a merged Slack message has the
 * key of its first notification plus "+<count>") and, when the receiver has
 * a secret, X-Mailpulse-Signature (see alert_notify.h), computed per attempt.
 *
 * Threads: submit, set_receivers, figures and dead_json from any thread;
 * start/stop from one. The sender's own thread does the sending.
 *
 * Ownership: receivers are copied (strings too); a note's body belongs to
 * the sender from the submit call on, even when it fails; dead_json's
 * document is the caller's (free()).
 *
 * The pieces (sharing alert_sender_impl.h, private): alert_sender.c (start,
 * stop, submit, receiver lists), alert_outbox.c (outbox and dead letters in
 * the store, the load at start, dead_json), alert_sender_loop.c (the thread:
 * libcurl multi, order, retries, Slack pacing; the merged text itself is
 * alert_slack_merge()).
 */
#ifndef ALERT_SENDER_H
#define ALERT_SENDER_H

#include <stddef.h>
#include <stdint.h>

#include "mp_hist.h"

#include "eng_store.h"
#include "mp.h"

enum alert_receiver_type {
    ALERT_RECEIVER_WEBHOOK = 0,
    ALERT_RECEIVER_SLACK = 1,
    ALERT_RECEIVER_PAGERDUTY = 2, /* Events API v2, one request per alert (alert_pagerduty.h) */
    ALERT_RECEIVER_EMAIL = 3,     /* SMTP through libcurl, one message per notification */
};

/* Email: how the SMTP connection is protected. STARTTLS is required (not
 * tried) so a downgrade cannot send alerts in clear; IMPLICIT is smtps://. */
enum alert_email_tls { ALERT_TLS_STARTTLS = 0, ALERT_TLS_NONE = 1, ALERT_TLS_IMPLICIT = 2 };

struct alert_receiver {
    const char *name;
    int type; /* enum alert_receiver_type */
    const char *url;
    const char *secret; /* NULL: requests are not signed */
    /* Slack (alert_slack.h); NULL: the webhook's own setting. */
    const char *channel, *username, *icon_emoji;
    const char *routing_key; /* PagerDuty: the integration's key */
    /* Email (alert_email.h): url is smtp:// or smtps://host[:port]. */
    const char *mail_from, *mail_to;           /* to: addresses joined by ", " */
    const char *auth_username, *auth_password; /* NULL: no AUTH */
    int tls;                                   /* enum alert_email_tls */
};

/* Deep copy of every string of `src` into `dst` (zeroed first); on
 * MP_ERR_NOMEM `dst` holds what was copied, for alert_receiver_clear(). */
int alert_receiver_copy(struct alert_receiver *dst, const struct alert_receiver *src);
/* Frees the strings of a copy and zeroes it. */
void alert_receiver_clear(struct alert_receiver *r);

struct alert_sender;

struct alert_sender_opts {
    struct eng_store *store;   /* NULL: in-memory queue and dead letters */
    int64_t backoff_ms;        /* first retry delay; doubles per attempt (500) */
    int64_t backoff_max_ms;    /* cap on one delay (60000) */
    int64_t timeout_ms;        /* one request, connect included (5000) */
    int64_t max_age_ms;        /* retried until this old, then dead (24 h) */
    int64_t slack_interval_ms; /* min gap between requests to one Slack webhook (1000) */
};

/* One notification to submit. */
struct alert_note {
    const char *receiver; /* receiver name */
    const char *tenant;   /* for the dead-letter listing */
    char *body;           /* malloc'd JSON; the sender takes ownership, even on error */
    const char *idem;     /* Idempotency-Key */
};

struct alert_sender_figures {
    uint64_t submitted, delivered, attempts, failed_attempts;
    uint64_t dead;          /* dead letters written since start */
    uint64_t dead_stored;   /* dead letters held now (store or memory) */
    uint64_t queued;        /* in the outbox now */
    uint64_t rate_limited;  /* 429 answers */
    uint64_t merged;        /* Slack notifications sent inside another's message */
    int64_t oldest_ms;      /* wall-clock creation of the oldest queued note; 0: none */
};

/* One receiver's figures since start (kept by name across reloads, so a
 * receiver that leaves keeps its last counts; at most
 * ALERT_SENDER_RECEIVERS_MAX names, later ones are not counted apart). */
#define ALERT_SENDER_RECEIVERS_MAX 64
struct alert_receiver_figures {
    char name[65];
    uint64_t attempts, failures, delivered;
    struct mp_hist_snap latency; /* creation of a note to its 2xx, per delivered message */
};

/* `receivers` is copied (strings too). Loads the outbox when opts.store is
 * set. MP_OK, MP_ERR_NOMEM, MP_ERR_IO. */
int alert_sender_start(const struct alert_receiver *receivers, size_t n,
                       const struct alert_sender_opts *opts, struct alert_sender **out);
/* Waits up to drain_ms for queued notifications, then stops and frees.
 * Undelivered entries stay in the outbox (with a store) or are logged and
 * dropped (without). */
void alert_sender_stop(struct alert_sender *s, int64_t drain_ms);

/* Queues `n` notifications. With a store, appends their outbox entries to
 * `b` (the caller's batch, may already hold other changes; NULL: a batch of
 * its own) and commits it, then queues them; when the commit fails nothing
 * is queued and MP_ERR_IO is returned. A note naming an unknown receiver is
 * refused (counted, logged) and the others still go. MP_OK, MP_ERR_INVAL
 * (some note refused), MP_ERR_STATE (stopping), MP_ERR_NOMEM, MP_ERR_IO. */
int alert_sender_submit(struct alert_sender *s, struct alert_note *notes, size_t n,
                        struct eng_store_batch *b);

/* Replaces the receiver list (SIGHUP reload). Receivers are matched by
 * name: a kept one keeps its queue (with its new url/secret/type), a new one
 * starts empty, a removed one has its queue dead-lettered as
 * "receiver_removed". MP_OK or MP_ERR_NOMEM (nothing changed). */
int alert_sender_set_receivers(struct alert_sender *s, const struct alert_receiver *receivers,
                               size_t n);

void alert_sender_figures(struct alert_sender *s, struct alert_sender_figures *out);
/* Fills up to `cap` receivers' figures (in the order first seen) and
 * returns how many. Any thread. */
size_t alert_sender_receiver_figures(struct alert_sender *s, struct alert_receiver_figures *out,
                                     size_t cap);

/* The dead letters, oldest first, as a malloc'd JSON document:
 *   {"dead": [{"id", "receiver", "tenant", "idempotency_key", "reason",
 *              "attempts", "created", "died", "body"}]}
 * where created/died are RFC 3339 (alert_format_time) and body is the parsed
 * JSON of the notification. tenant NULL: all; limit 0: no limit. NULL on
 * allocation or store failure. */
char *alert_sender_dead_json(struct alert_sender *s, const char *tenant, size_t limit);

#endif
