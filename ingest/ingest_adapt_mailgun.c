/* ingest_adapt_mailgun.c — Mailgun's webhooks (see ingest_adapt.h):
 *   {"signature": {"timestamp": "<unix s>", "token": "<50 hex>",
 *                  "signature": "<hex HMAC-SHA256(key, timestamp + token)>"},
 *    "event-data": {"event": "delivered", "id": "...", "timestamp": 1521472262.9,
 *                   "recipient": "a@b", "severity": "permanent" (failed only),
 *                   "envelope": {"sender": "..."}, "message": {"headers": {"from": ...}},
 *                   "user-variables": {...}}}
 * One event per request. The signature is checked before anything of the
 * event is read. */
#include "ingest_adapt_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "eng_types.h"

/* 1: the signature block is present, fresh and HMAC-correct. */
static int mailgun__sig_ok(const struct ingest_adapt_conf *conf, json_t *sig, int64_t now_ms,
                           struct ingest_adapt_out *out)
{
    /* the timestamp is documented as an int and sent as a string: take both */
    char tsbuf[24];
    const char *ts = adapt__str(sig, "timestamp"), *tok = adapt__str(sig, "token");
    if (!ts && json_is_integer(json_object_get(sig, "timestamp"))) {
        snprintf(tsbuf, sizeof(tsbuf), "%lld",
                 (long long)json_integer_value(json_object_get(sig, "timestamp")));
        ts = tsbuf;
    }
    const char *hex = adapt__str(sig, "signature");
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    char want[2 * EVP_MAX_MD_SIZE + 1], msg[64 + INGEST_ADAPT_ID_MAX];
    if (!conf->signing_key || !ts || !tok || !hex || !*tok || strlen(ts) > 12 ||
        strspn(ts, "0123456789") != strlen(ts) || strlen(tok) > INGEST_ADAPT_ID_MAX)
        return 0;
    long long t = atoll(ts);
    if (llabs(now_ms / 1000 - t) > INGEST_ADAPT_MAX_AGE_S)
        return 0;
    int n = snprintf(msg, sizeof(msg), "%s%s", ts, tok);
    if (!HMAC(EVP_sha256(), conf->signing_key, (int)strlen(conf->signing_key),
              (const unsigned char *)msg, (size_t)n, mac, &maclen))
        return 0;
    for (unsigned i = 0; i < maclen; i++)
        snprintf(want + 2 * i, 3, "%02x", mac[i]);
    if (strlen(hex) != 2 * maclen || CRYPTO_memcmp(want, hex, 2 * maclen) != 0)
        return 0;
    snprintf(out->token, sizeof(out->token), "%s", tok);
    return 1;
}

static int mailgun__type(const char *event, const char *severity, int *type)
{
    static const struct adapt_name_type map[] = {
        {"accepted", ENG_SENT},      {"delivered", ENG_DELIVERED},
        {"opened", ENG_OPEN},        {"clicked", ENG_CLICK},
        {"unsubscribed", ENG_UNSUBSCRIBE}, {"complained", ENG_COMPLAINT},
    };
    if (event && strcmp(event, "failed") == 0) {
        /* temporary: Mailgun retries the message, as a deferral does */
        if (severity && strcmp(severity, "permanent") == 0)
            *type = ENG_BOUNCE_HARD;
        else if (severity && strcmp(severity, "temporary") == 0)
            *type = ENG_DEFERRED;
        else
            return -1;
        return 0;
    }
    int t = adapt__type_of(map, MP_ARRAY_LEN(map), event);
    if (t < 0)
        return -1;
    *type = t;
    return 0;
}

int adapt__mailgun(const struct ingest_adapt_conf *conf, json_t *root, int64_t now_ms,
                   struct ingest_adapt_out *out, char *err, size_t errlen)
{
    if (!mailgun__sig_ok(conf, json_object_get(root, "signature"), now_ms, out)) {
        snprintf(err, errlen, "signature: missing, not fresh (%d s) or wrong",
                 INGEST_ADAPT_MAX_AGE_S);
        return INGEST_ADAPT_ERR_SIG;
    }
    json_t *ed = json_object_get(root, "event-data");
    struct ingest_adapt_event *ev;
    if (!json_is_object(ed)) {
        snprintf(err, errlen, "event-data: expected an object");
        return MP_ERR_INVAL;
    }
    int rc = adapt__push(out, &ev, err, errlen);
    if (rc != MP_OK)
        return rc;
    const char *event = adapt__str(ed, "event");
    json_t *hdrs = json_object_get(json_object_get(ed, "message"), "headers");
    const char *from = adapt__str(json_object_get(ed, "envelope"), "sender");
    double ts = json_number_value(json_object_get(ed, "timestamp"));
    if (!from || !*from)
        from = adapt__str(hdrs, "from");
    if (mailgun__type(event, adapt__str(ed, "severity"), &ev->type) != 0) {
        snprintf(err, errlen, "event-data.event: \"%.32s\"%s is not one mailpulse takes "
                 "(accepted, delivered, failed, opened, clicked, unsubscribed, complained)",
                 event ? event : "(missing)", event && strcmp(event, "failed") == 0
                 ? " without severity permanent/temporary" : "");
        return MP_ERR_INVAL;
    }
    if (!isfinite(ts) || ts < 1e9 || ts > 1e11) {
        snprintf(err, errlen, "event-data.timestamp: expected Unix seconds");
        return MP_ERR_INVAL;
    }
    ev->time_ms = (int64_t)(ts * 1000.0);
    if ((rc = adapt__id(ev, json_object_get(ed, "id"), "event-data.id", err, errlen)) == MP_OK &&
        (rc = adapt__domain(ev, adapt__str(ed, "recipient"), "event-data.recipient", err,
                            errlen)) == MP_OK &&
        (!from || (rc = adapt__mailbox(ev, from, "event-data.envelope.sender", err, errlen)) ==
                      MP_OK))
        rc = adapt__fields(conf, json_object_get(ed, "user-variables"), ev,
                           "event-data.user-variables", err, errlen);
    return rc;
}
