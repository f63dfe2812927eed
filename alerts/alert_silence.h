/* alert_silence.h — silences: scoped, timed mutes of alert notifications,
 * with Alertmanager v2's shapes (api/v2/openapi.yaml: postableSilence,
 * gettableSilence, matcher).
 *
 * A silence has an id (a random UUID), matchers on alert labels (name,
 * value, isRegex, isEqual: =, !=, =~, !~), startsAt, endsAt, createdBy,
 * comment and updatedAt; its state is "pending" before startsAt, "active"
 * until endsAt, "expired" after. It mutes an alert while active and every
 * matcher matches the alert's labels. A label the alert does not carry has
 * the value "" (as in Alertmanager). Regexes are POSIX extended (regcomp),
 * anchored at both ends like Alertmanager's RE2 ^(?:...)$; RE2-only syntax
 * such as (?:...) or \d is refused as a bad regex.
 *
 * Validation (put): 1..ALERT_SILENCE_MATCHERS_MAX matchers, names
 * [a-zA-Z_][a-zA-Z0-9_]* of at most 128 bytes, values at most
 * ALERT_SILENCE_VALUE_MAX bytes, regexes that compile, at least one matcher
 * that does not match the empty string (else it would silence everything),
 * RFC 3339 times with endsAt after startsAt and not in the past, createdBy
 * and comment non-empty and bounded. At most ALERT_SILENCES_MAX silences are
 * kept, expired ones included; expired silences are dropped
 * ALERT_SILENCE_RETENTION_MS after their end (as Alertmanager's retention).
 *
 * Scope: `only` (a tenant token's tenant; NULL: everything) limits a call
 * to the silences whose matchers pin that tenant (an equality matcher
 * tenant="<only>"): a put must pin it (else MP_ERR_INVAL, with a message),
 * get/expire of another answer MP_ERR_NOTFOUND, lists leave them out.
 *
 * Persistence (with a store): each silence is one entry of the store's
 * alerts column family under the key ALERT_SILENCE_KEY_PREFIX + id, its
 * value the silence's JSON; alert_silences_open reads them back. Writes go
 * through `commit` (the daemon passes one that hands the batch to the
 * alert sender, which serializes commits to the store it shares).
 *
 * Threads: every function may be called from any thread (one mutex); the
 * HTTP threads put and expire, the evaluator asks alert_silence_mutes.
 * Returned strings are malloc'd and the caller's (free()).
 * Returns MP_OK, MP_ERR_INVAL (err says why), MP_ERR_FULL (too many),
 * MP_ERR_NOTFOUND, MP_ERR_NOMEM, MP_ERR_IO (the commit failed: nothing
 * changed).
 */
#ifndef ALERT_SILENCE_H
#define ALERT_SILENCE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "alert_notify.h"
#include "eng_store.h"
#include "mp.h"
#include "mp_time.h"

#define ALERT_SILENCES_MAX 10000
#define ALERT_SILENCE_MATCHERS_MAX 32
#define ALERT_SILENCE_NAME_MAX 128
#define ALERT_SILENCE_VALUE_MAX 1024
#define ALERT_SILENCE_AUTHOR_MAX 256
#define ALERT_SILENCE_COMMENT_MAX 4096
#define ALERT_SILENCE_RETENTION_MS (120LL * 3600 * 1000)
#define ALERT_SILENCE_ID_LEN 37 /* 36 + NUL */
/* Starts with a NUL byte, which no alert state key does (alert_state.c). */
#define ALERT_SILENCE_KEY_PREFIX "\0silence/"
#define ALERT_SILENCE_KEY_PREFIX_LEN 9

struct alert_silences;

/* struct alert_label (one label of an alert, borrowed): alert_notify.h. */

typedef int (*alert_silence_commit_fn)(void *arg, struct eng_store_batch *b);

/* store NULL: in memory only (commit unused). With a store and commit NULL,
 * batches are committed with eng_store_commit directly. */
int alert_silences_open(struct eng_store *store, alert_silence_commit_fn commit, void *arg,
                        struct alert_silences **out, char *err, size_t errlen);
void alert_silences_free(struct alert_silences *s);
/* Has w notified (mp_wake_notify) after every change: a silence created,
 * replaced or expired early (not when one runs out by time: a watcher that
 * cares sets its own deadline). One watcher; NULL stops it, and once that
 * call returns the old one is not touched again. Any thread. */
struct mp_wake;
void alert_silences_watch(struct alert_silences *s, struct mp_wake *w);

/* Creates (no "id") or replaces (an "id" that exists and has not expired)
 * a silence from a postableSilence JSON body; the id in id_out. */
int alert_silence_put_json(struct alert_silences *s, const char *body, size_t len,
                           const char *only, int64_t now_ms, char id_out[ALERT_SILENCE_ID_LEN],
                           char *err, size_t errlen);
/* Ends a silence now (a pending one never starts). Expiring an expired
 * silence is MP_OK and changes nothing. */
int alert_silence_expire(struct alert_silences *s, const char *id, const char *only,
                         int64_t now_ms);
/* A gettableSilence document in *out, or MP_ERR_NOTFOUND. */
int alert_silence_get_json(struct alert_silences *s, const char *id, const char *only,
                           int64_t now_ms, char **out);
/* A JSON array of gettableSilence: those whose matchers' labels satisfy
 * every filter matcher (filters: Alertmanager's matcher strings such as
 * tenant="acme" or alertname=~"bounce.*"; a silence matches a filter when
 * it has an equality matcher of that label whose value the filter
 * accepts). Sorted as Alertmanager: active, pending, expired. Bad filter:
 * MP_ERR_INVAL with err. */
int alert_silence_list_json(struct alert_silences *s, const char *const *filters, size_t nf,
                            const char *only, int64_t now_ms, char **out, char *err,
                            size_t errlen);
/* How many active silences mute labels l[0..n) now; the first `cap` ids go
 * to ids (may be NULL with cap 0). */
size_t alert_silence_mutes(struct alert_silences *s, const struct alert_label *l, size_t n,
                           int64_t now_ms, char (*ids)[ALERT_SILENCE_ID_LEN], size_t cap);
/* The labels receivers see for alert a (alert_notify.c's label set:
 * alertname, rule when it differs, severity, tenant, mailbox,
 * recipient_domain, provider, campaign, an external alert's own) in l; how many. Borrowed from a. */
#define ALERT_SILENCE_LABELS_MAX 16 /* 8 scope labels + an external alert's */
size_t alert_silence_labels(const struct alert_instance *a,
                            struct alert_label l[ALERT_SILENCE_LABELS_MAX]);
/* 1 when an active silence mutes alert a now (s NULL: 0). */
int alert_silence_mutes_instance(struct alert_silences *s, const struct alert_instance *a,
                                 int64_t now_ms);
size_t alert_silence_count(struct alert_silences *s);
/* The silences `only` may see (NULL: all; see Scope), in any state, that
 * match labels l[0..n), as gettable silences, in a new JSON array (the
 * past alerts' time axis: when a silence held them); NULL without memory. */
json_t *alert_silence_matching(struct alert_silences *s, const struct alert_label *l, size_t n,
                               const char *only, int64_t now_ms);

/* Matchers on their own, for /api/v2/alerts?filter=: parses one matcher
 * string (name, op, value, value optionally "quoted") and tells whether
 * labels l[0..n) satisfy it: 1 yes, 0 no, MP_ERR_INVAL (err) unparsable. */
int alert_silence_filter_match(const char *filter, const struct alert_label *l, size_t n,
                               char *err, size_t errlen);

/* RFC 3339 times: mp_time_parse() (base/mp_time.h). */

#endif
