/* mp_adapters.h — the daemon's ESP webhook endpoints (config: adapters:,
 * mp_config_adapters.h; bodies: ingest/ingest_adapt.h).
 *
 * Contract: mp_adapters_reply() answers one POST under MP_ADAPTERS_PREFIX:
 *   404  no adapter has this path;
 *   401  postmark: basic auth wrong or missing; json: Authorization: Bearer
 *        <signing_key> wrong or missing; mailgun: signature wrong, missing,
 *        more than INGEST_ADAPT_MAX_AGE_S old, or its token already used
 *        for another event (a replay: Mailgun signs timestamp and token, not
 *        the body; the same event under its used token is a retry, answered
 *        as a duplicate); sendgrid: the X-Twilio-Email-Event-Webhook-
 *        Signature header not an ECDSA signature of the -Timestamp header
 *        + body under the configured key, or the timestamp more than
 *        INGEST_ADAPT_MAX_AGE_S off; ses: the SNS signature wrong or no
 *        certificate for it (sns_certificate, or SigningCertURL on an
 *        allowed host: mp_adapters_sns.h), a TopicArn not in topic_arns, or
 *        a Timestamp older than dedup_window. Counted in
 *        mailpulse_adapter_bad_signature_total;
 *   400  the body is malformed, or an event fails the ingest rules
 *        (ingest_validate.h), with the first reason: nothing is recorded;
 *        ses: also a SubscriptionConfirmation whose SubscribeURL is not on
 *        an allowed host (not fetched);
 *   413  one event alone is larger than ingest.max_frame_bytes (it could
 *        not be journaled as a frame the replay takes);
 *   503  with Retry-After: MP_ADAPTERS_RETRY_AFTER_S: the request waited
 *        MP_ADAPTERS_BUSY_MS behind the others, the journal's synced write
 *        failed (disk full, store error), or the dedup set is full
 *        (MP_SEEN_MAX); ses: the SubscribeURL GET failed. Nothing of the
 *        request is applied or remembered;
 *        the service retries. Counted in mailpulse_adapter_unavailable_total;
 *   200  {"accepted":N,"duplicates":D,"rejected":R} once the request's new
 *        events AND their dedup ids are durable: one synced write of the
 *        acked path's journal (ingest_journal.h), as frames of producer
 *        "adapter:<name>" (sequence 0), then applied to the engine table
 *        as the acked workers apply (rejected: refused by the tenant
 *        limits). After a SIGKILL right after the 200, the restart replays
 *        the journal entries no counter flush covered and loads the ids:
 *        every acknowledged event is counted exactly once and a retry is a
 *        duplicate (mp_adapters_durable.h: the crash windows). ses: a
 *        confirmation, once verified (and a SubscriptionConfirmation's
 *        SubscribeURL answered 2xx), is a 200 with all three 0 (counted in
 *        mailpulse_adapter_sns_confirmed_total).
 * Events whose service id was recorded within the adapter's dedup_window
 * are counted as duplicates and not recorded again. The dedup set (a keyed
 * 64-bit hash of adapter name and id per entry, mp_adapters_seen.h) lives
 * in the counters store beside the journal; a data_dir/MP_ADAPTERS_SEEN_FILE
 * of an older version is imported at the first start and removed.
 *
 * mp_adapters_reload() (SIGHUP) swaps in the adapters of a newly loaded
 * config: paths, types, keys, tenants and windows apply to the next
 * request; a request already running finishes with the adapters it began
 * with. An adapter that keeps its name keeps its figures and its dedup
 * entries (the ids are keyed by name: a renamed adapter starts a new dedup
 * set); a removed one answers 404 and leaves /metrics. A new list that
 * cannot be built (a SendGrid key, SNS set-up, memory) is logged
 * (adapters_reload_failed) and the running adapters stay.
 *
 * Threads: mp_adapters_reply() and mp_adapters_metrics() from any thread,
 * several at once (one mutex around dedup and recording: the engine writer
 * registration is one, and a body is one journal write; requests are not
 * grouped into one commit, so each pays one sync; a second, short one
 * around the set in use and its reference count); mp_adapters_reload()
 * from one thread at a time (the daemon's main thread).
 * Ownership: the start's `conf` and the table are borrowed until
 * mp_adapters_destroy(), which runs after the HTTP server stopped and
 * before the table goes; a reload takes the new config's list (nc->adapters
 * becomes NULL, n_adapters 0) and frees it with the set it made.
 */
#ifndef MP_ADAPTERS_H
#define MP_ADAPTERS_H

#include <stddef.h>

#include "eng_table.h"
#include "ingest_journal.h"
#include "ingest_validate.h"
#include "mp.h"
#include "mp_buf.h"
#include "mp_config_adapters.h"
#include "mp_http.h"

#define MP_ADAPTERS_BUSY_MS 2000 /* overload: then 503 */
#define MP_ADAPTERS_RETRY_AFTER_S 5 /* the 503's Retry-After */
#define MP_ADAPTERS_SEEN_FILE "adapters.seen" /* in data_dir: the old versions' dedup file */

struct mp_adapters;

/* MP_OK, MP_ERR_NOMEM, or MP_ERR_IO when the dedup set cannot be read
 * from the journal's store or the old file (seen_path, imported) cannot
 * be read (err says why). journal NULL: memory only, nothing durable (unit
 * tests). lim: the ingest limits, so journaled frames pass the replay's.
 * n 0: no adapter yet (every path 404 until a reload brings some); every
 * call also takes a NULL adapters (no journal, as in unit tests). */
int mp_adapters_create(const struct mp_adapter_conf *conf, size_t n, struct eng_table *t,
                       const struct ingest_limits *lim, struct ingest_journal *journal,
                       const char *seen_path, struct mp_adapters **out, char *err,
                       size_t errlen);
void mp_adapters_destroy(struct mp_adapters *a);
struct mp_config;
/* MP_OK (swapped in, logged adapters_reloaded), or MP_ERR_NOMEM /
 * MP_ERR_INVAL with the running adapters kept (logged). a NULL: MP_OK. */
int mp_adapters_reload(struct mp_adapters *a, struct mp_config *nc);
void mp_adapters_reply(struct mp_adapters *a, const struct mp_http_request *req,
                       struct mp_http_reply *out);
/* Appends the adapters' Prometheus rows (per adapter="name") to b. */
int mp_adapters_metrics(struct mp_adapters *a, struct mp_buf *b);

#endif
