/* alert_sender.h — delivers notification bodies to receivers over HTTP.
 *
 * Contract: one sender thread drives libcurl's multi interface, so many
 * receivers are served at once without a thread per request, and a slow or
 * dead receiver never delays another. Per receiver, notifications leave in
 * the order submitted: the next one waits until the one before it got a 2xx
 * or was given up on. A failed attempt (connect error, timeout, non-2xx) is
 * retried with exponential backoff and jitter up to `max_attempts`.
 *
 * Every request carries Content-Type: application/json, Idempotency-Key
 * (stable across retries of one notification) and, when the receiver has a
 * secret, X-Mailpulse-Signature (see alert_notify.h).
 *
 * Today the queue lives in memory: notifications still queued at
 * alert_sender_stop() after its drain deadline are logged and dropped. The
 * durable RocksDB outbox arrives with the alerts issue.
 *
 * alert_sender_submit() may be called from any thread; it takes ownership of
 * `body` (malloc'd) even on error. Figures may be read from any thread.
 */
#ifndef ALERT_SENDER_H
#define ALERT_SENDER_H

#include <stddef.h>
#include <stdint.h>

#include "mp.h"

enum alert_receiver_type { ALERT_RECEIVER_WEBHOOK = 0, ALERT_RECEIVER_SLACK = 1 };

struct alert_receiver {
    const char *name;
    int type; /* enum alert_receiver_type */
    const char *url;
    const char *secret; /* NULL: requests are not signed */
};

struct alert_sender;

struct alert_sender_opts {
    int max_attempts;         /* >= 1 */
    int64_t backoff_ms;       /* first retry delay; doubles per attempt */
    int64_t backoff_max_ms;   /* cap on one delay */
    int64_t timeout_ms;       /* one request, connect included */
};

struct alert_sender_figures {
    uint64_t submitted, delivered, attempts, failed_attempts, dropped, queued;
};

/* `receivers` is copied (strings too). */
int alert_sender_start(const struct alert_receiver *receivers, size_t n,
                       const struct alert_sender_opts *opts, struct alert_sender **out);
/* Waits up to drain_ms for queued notifications, then stops and frees. */
void alert_sender_stop(struct alert_sender *s, int64_t drain_ms);
/* Queues `body` for receiver index `r`. MP_OK, MP_ERR_INVAL (bad index),
 * MP_ERR_STATE (stopping), MP_ERR_NOMEM. */
int alert_sender_submit(struct alert_sender *s, size_t r, char *body, const char *idem_key);
void alert_sender_figures(struct alert_sender *s, struct alert_sender_figures *out);

#endif
