/* mp_stats.h — per-tenant stats as JSON, for GET /v1/tenants/{tenant}/stats.
 *
 * Request (path and query arguments as struct mp_http_request carries them):
 *   /v1/tenants/{tenant}/stats?window=1h|24h|7d[&by=mailbox|recipient_domain][&limit=N]
 *   - window: default 24h when absent (the window people read first; 1h is
 *     what the bounce rule watches, 7d the weekly view);
 *   - by: group the tenant's keys of that scope; absent: tenant totals only;
 *   - limit: groups returned with by=, 1..MP_STATS_LIMIT_MAX, default
 *     MP_STATS_LIMIT_DEFAULT; only valid together with by=.
 *   Unknown, repeated or empty parameters are refused, never ignored: a
 *   misspelt "windw=1h" must not silently answer the 24h default.
 *
 * Response (MP_OK):
 *   {"tenant", "window",
 *    "counts": {"sent": n, ..., "spam_trap": n}   every type, in wire order,
 *    "rates":  {"bounce_rate": x|null, ...}       see below,
 *    with by= also "by", "limit", "groups_total" (groups with any event in
 *    the window, among the keys read), "keys_scanned" (keys of the scope
 *    read), "truncated" (true when the tenant has more keys of the scope
 *    than MP_STATS_SCAN_MAX: the newest MP_STATS_SCAN_MAX were read) and
 *    "groups": [{"mailbox"|"recipient_domain": name, "counts", "rates"}]
 *    sorted by sent descending, then name ascending, cut to `limit`. Keys
 *    with no event in the window are left out.}
 *   Rates are plain numbers, null when their denominator is 0:
 *   bounce_rate = bounce_hard/sent, soft_bounce_rate = bounce_soft/sent,
 *   block_rate = blocked/sent, deferral_rate = deferred/sent,
 *   delivery_rate = delivered/sent, complaint_rate = complaint/delivered,
 *   engagement_rate = (open+click+reply)/delivered,
 *   unsubscribe_rate = unsubscribe/delivered. They are not clamped: events
 *   arrive independently, so e.g. opens may exceed deliveries. Spam-trap
 *   hits are a count, in "counts" only.
 *
 * Errors: *out is {"error": "what is wrong; what is allowed"} and the return
 * code says which HTTP status fits: MP_ERR_NOTFOUND (404) for a path not of
 * the form above and for a valid tenant with no counted events (404 rather
 * than 200 with zeros, so a typo in a tenant name is visible), and, from
 * mp_stats_reply_only(), for a tenant other than `only` (the same answer,
 * byte for byte, whether that tenant exists or not);
 * MP_ERR_INVAL (400) for a malformed tenant name or a bad parameter.
 * Request text is echoed in messages cut to 64 bytes, with bytes outside
 * printable ASCII shown as '?'. MP_ERR_NOMEM leaves *out NULL.
 *
 * Threads: reads the table lock-free (eng_key_sum_window), so any thread may
 * call these while ingest writes. Each key is read consistently (whole
 * frames only, a few retries, then what was read); tenant totals and groups
 * are separate reads and may differ by events that landed in between.
 * Cost of one request, bounded whatever the tenant holds: at most
 * MP_STATS_SCAN_MAX keys read (each one window sum, and one store read when
 * the key was evicted), a selection of the top `limit` in a heap of at most
 * `limit` groups (O(keys read x log limit) time, O(limit) memory, no sort of
 * everything), then a sort and the JSON of at most MP_STATS_LIMIT_MAX
 * groups. Past the bound the tenant's remaining keys of the scope are only
 * stepped over in its child list (no read).
 */
#ifndef MP_STATS_H
#define MP_STATS_H

#include <jansson.h>

#include "eng_name.h"
#include "eng_table.h"
#include "mp.h"
#include "mp_http.h"

#define MP_STATS_PREFIX "/v1/tenants/" /* route prefix the handler owns */
#define MP_STATS_LIMIT_DEFAULT 100
#define MP_STATS_LIMIT_MAX 10000
/* Keys of one scope read by one grouped request: the default per-tenant key
 * cap (limits.tenant_max_keys), so with the default limits every key of a
 * tenant is read; a tenant allowed more gets the newest this many, and
 * "truncated": true. */
#define MP_STATS_SCAN_MAX 100000
/* Significant digits of rates in the JSON text: readable ("0.03", not
 * "0.029999999999999999") and far finer than any threshold. */
#define MP_STATS_REAL_DIGITS 10

/* The 404 message for a tenant not counted (or not the caller's to see), a
 * format taking the tenant; the API's other tenant routes answer with it too. */
#define MP_STATS_UNKNOWN_TENANT "unknown tenant \"%s\": no events have been counted for it"

/* Builds the answer to `req` (see above). *out is a new reference. */
int mp_stats_build(const struct eng_table *t, const struct mp_http_request *req, json_t **out);

/* mp_stats_build() with another bound on the keys read (the tests' way to
 * reach it without 100,000 keys). scan_max >= 1. */
int mp_stats_build_scan(const struct eng_table *t, const struct mp_http_request *req,
                        size_t scan_max, json_t **out);

/* mp_stats_build() rendered into an HTTP reply: 200, 400, 404 or 500. */
void mp_stats_reply(const struct eng_table *t, const struct mp_http_request *req,
                    struct mp_http_reply *out);
/* The same for a caller who may see tenant `only` alone (NULL: any). */
void mp_stats_reply_only(const struct eng_table *t, const struct mp_http_request *req,
                         const char *only, struct mp_http_reply *out);

/* For the other tenant routes (mp_series.h, mp_scrape.h), so they answer
 * as this one does:
 *   mp_stats_echo()        request text for a message, as described above;
 *   mp_stats_fail()        *out = {"error": message}, returns rc
 *                          (MP_ERR_NOMEM when it cannot);
 *   mp_stats_tenant_path() the tenant of "/v1/tenants/{tenant}/<route>":
 *                          MP_OK, MP_ERR_NOTFOUND (another shape: *out the
 *                          404 body, naming `expected`) or MP_ERR_INVAL (a
 *                          bad tenant name: *out the 400 body);
 *   mp_stats_render()      a build's rc and body as the HTTP reply (200, 400,
 *                          404, 500), taking j;
 *   mp_stats_nrates(), mp_stats_rate()  the rates above, by index: the name,
 *                          and in *v the rate of counts c (*defined 0,
 *                          *v 0, when the denominator is 0). */
void mp_stats_echo(const char *s, size_t len, char *out, size_t n);
int mp_stats_fail(json_t **out, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int mp_stats_tenant_path(const char *path, const char *route, const char *expected,
                         char tenant[ENG_NAME_MAX + 1], json_t **out);
void mp_stats_render(int rc, json_t *j, struct mp_http_reply *out);
/*   mp_stats_read()        one key's window sums, whole frames only (a
 *                          few tries while writers touch it), bringing an
 *                          evicted key back from the store;
 *   mp_stats_add_figures() "counts" and "rates" of c added to o; -1
 *                          without memory. */
/*   mp_stats_limit()       a count parameter: digits only (no sign, space,
 *                          hex or suffix), no more of them than max has,
 *                          1..max; 0 with *v set, or -1. */
int mp_stats_limit(const char *s, unsigned long max, unsigned long *v);
/*   mp_stats_args()        the query into slots[i] by names[i] (slots
 *                          left NULL when absent): MP_OK, or MP_ERR_INVAL
 *                          and the 400 body (an unknown parameter, listing
 *                          the allowed ones; a repeated or empty one). */
int mp_stats_args(const struct mp_http_request *req, const char *const *names,
                  const char **const *slots, size_t n, json_t **err);
void mp_stats_read(const struct eng_table *t, const struct eng_key *k, int win,
                   uint64_t c[ENG_NTYPES]);
int mp_stats_add_figures(json_t *o, const uint64_t c[ENG_NTYPES]);
size_t mp_stats_nrates(void);
const char *mp_stats_rate(size_t i, const uint64_t c[ENG_NTYPES], double *v, int *defined);

#endif
