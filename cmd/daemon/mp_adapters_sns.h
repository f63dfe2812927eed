/* mp_adapters_sns.h — the SES adapter's SNS side in the daemon: which
 * certificate verifies a body, and the subscription confirmation
 * (ingest/ingest_adapt.h verifies; this fetches).
 *
 * Contract: a URL is allowed (mp_sns_url_ok) when it parses (libcurl's URL
 * parser, the one that then fetches it), carries no user info, and its
 * host[:port] matches an entry of the adapter's sns_hosts (default
 * "sns.*.amazonaws.com"; a "*" label matches one label; an entry without a
 * port takes only the scheme's default port) over https; plain http only
 * for an entry "127.0.0.1:PORT" (a loopback stand-in for tests and local
 * relays: nothing leaves the machine in clear). mp_sns_cert() returns the
 * configured sns_certificate whatever the URL, else the certificate
 * fetched from an allowed SigningCertURL (GET, no redirects, 5 s, at most
 * MP_SNS_CERT_MAX bytes, PEM), cached by URL (MP_SNS_CACHE entries, the
 * oldest replaced): a new reference the caller X509_free()s, or NULL with
 * err. mp_sns_confirm() GETs an allowed SubscribeURL (the same limits):
 * MP_OK on a 2xx, MP_ERR_INVAL for a URL not allowed (nothing fetched),
 * MP_ERR_IO otherwise; err says why.
 *
 * Threads: every call from any thread, several at once (the cache has a
 * mutex; fetches run outside it). Ownership: `c` is borrowed until
 * mp_sns_destroy(); needs curl_global_init() done (mailpulsed does).
 */
#ifndef MP_ADAPTERS_SNS_H
#define MP_ADAPTERS_SNS_H

#include <stddef.h>

#include <openssl/x509.h>

#include "ingest_adapt.h"
#include "mp_config_adapters.h"

#define MP_SNS_CERT_MAX (64 * 1024)
#define MP_SNS_CACHE 8
#define MP_SNS_DEFAULT_HOST "sns.*.amazonaws.com"

struct mp_sns;

/* MP_OK, MP_ERR_NOMEM, or MP_ERR_IO when sns_certificate cannot be read. */
int mp_sns_create(const struct mp_adapter_conf *c, struct mp_sns **out, char *err, size_t errlen);
void mp_sns_destroy(struct mp_sns *s);
int mp_sns_url_ok(const struct mp_sns *s, const char *url);
X509 *mp_sns_cert(struct mp_sns *s, const char *url, char *err, size_t errlen);
int mp_sns_confirm(struct mp_sns *s, const char *url, char *err, size_t errlen);

/* The two steps mp_adapters.c takes around ingest_adapt_parse() for a ses
 * body. mp_sns_prepare(): the envelope read (MP_ERR_INVAL: malformed) and
 * the certificate for it in *cert (a reference; INGEST_ADAPT_ERR_SIG when
 * none can be had). mp_sns_after(), once the signature verified: the HTTP
 * status to answer instead of recording, or 0 to record the events: 401
 * for a message older than window_ms (its id may have left the dedup set:
 * a replay), for a SubscriptionConfirmation 200 once SubscribeURL answered
 * 2xx, 400 when its host is not allowed (not fetched), 503 when the GET
 * failed (SNS sends it again); 200 for an UnsubscribeConfirmation. Each
 * outcome of a confirmation is logged. */
int mp_sns_prepare(struct mp_sns *s, const char *body, size_t len, X509 **cert, char *err,
                   size_t errlen);
int mp_sns_after(struct mp_sns *s, const struct ingest_adapt_sns *sns, int64_t window_ms,
                 int64_t now_ms, char *err, size_t errlen);

#endif
