/* ingest_adapt_sendgrid.c — SendGrid's Event Webhook (see ingest_adapt.h):
 * one JSON array of events per request,
 *   [{"email": "a@b", "timestamp": <unix s>, "event": "delivered",
 *     "sg_event_id": "...", "sg_message_id": "...",
 *     "type": "bounce"|"blocked" (bounce only), <custom args>...}, ...]
 * Custom args (unique_args) sit at the top level of each event: they are
 * where tenant_field and mailbox_field are read (SendGrid sends no sender).
 * The Signed Event Webhook puts an ECDSA P-256 / SHA-256 signature of
 * timestamp + raw body in the X-Twilio-Email-Event-Webhook-Signature header
 * (base64 DER) and the timestamp in X-Twilio-Email-Event-Webhook-Timestamp;
 * ingest_adapt_sendgrid_ok() checks both before the body is read. */
#include "ingest_adapt_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "eng_types.h"

struct ingest_adapt_key {
    EVP_PKEY *pk;
};

/* The key's base64 text: the console's one line, or PEM (its ----- lines
 * dropped, whitespace skipped). Returns the DER length, or -1. */
static int sendgrid__key_der(const char *s, unsigned char *der, size_t cap)
{
    char b64[1024];
    size_t n = 0;
    for (const char *p = s; *p;) {
        if (*p == '-') { /* a PEM armour line */
            p += strcspn(p, "\n");
            continue;
        }
        if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') {
            if (n + 1 >= sizeof(b64))
                return -1;
            b64[n++] = *p;
        }
        p++;
    }
    b64[n] = '\0';
    return adapt__b64(b64, n, der, cap);
}

int ingest_adapt_key_load(const char *b64, struct ingest_adapt_key **out, char *err,
                          size_t errlen)
{
    unsigned char der[512];
    char group[64] = "";
    size_t glen = 0;
    int n = b64 ? sendgrid__key_der(b64, der, sizeof(der)) : -1;
    const unsigned char *p = der;
    EVP_PKEY *pk = n > 0 ? d2i_PUBKEY(NULL, &p, n) : NULL;
    if (out)
        *out = NULL;
    if (!pk || p != der + n) {
        snprintf(err, errlen, "expected the Signed Event Webhook's verification key "
                              "(base64 DER SubjectPublicKeyInfo, as the console shows it)");
        EVP_PKEY_free(pk);
        return MP_ERR_INVAL;
    }
    if (!EVP_PKEY_is_a(pk, "EC") ||
        EVP_PKEY_get_group_name(pk, group, sizeof(group), &glen) != 1 ||
        strcmp(group, "prime256v1") != 0) {
        snprintf(err, errlen, "expected an ECDSA P-256 public key, got %s%s%s",
                 EVP_PKEY_get0_type_name(pk) ? EVP_PKEY_get0_type_name(pk) : "another type",
                 group[0] ? " on " : "", group);
        EVP_PKEY_free(pk);
        return MP_ERR_INVAL;
    }
    struct ingest_adapt_key *k = out ? malloc(sizeof(*k)) : NULL;
    if (!k) {
        EVP_PKEY_free(pk);
        if (!out)
            return MP_OK; /* only checked */
        snprintf(err, errlen, "out of memory");
        return MP_ERR_NOMEM;
    }
    k->pk = pk;
    *out = k;
    return MP_OK;
}

void ingest_adapt_key_free(struct ingest_adapt_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pk);
    free(k);
}

int ingest_adapt_sendgrid_ok(const struct ingest_adapt_key *k, const char *ts, const char *sig,
                             const char *body, size_t len, int64_t now_ms)
{
    unsigned char der[128];
    if (!k || !ts || !sig || !*ts || strlen(ts) > 12 || strspn(ts, "0123456789") != strlen(ts))
        return 0;
    if (llabs(now_ms / 1000 - atoll(ts)) > INGEST_ADAPT_MAX_AGE_S)
        return 0;
    int n = adapt__b64(sig, strlen(sig), der, sizeof(der));
    if (n <= 0)
        return 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    /* EVP_PKEY is only read here: one key serves every request's thread */
    int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k->pk) == 1 &&
             EVP_DigestVerifyUpdate(ctx, ts, strlen(ts)) == 1 &&
             EVP_DigestVerifyUpdate(ctx, body, len) == 1 &&
             EVP_DigestVerifyFinal(ctx, der, (size_t)n) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* The event's type; 0 for the events taken but not counted; -1 unknown.
 * dropped: SendGrid never sent the message (a suppressed or invalid
 * address: the bounce, complaint or unsubscribe behind it came as its own
 * event), so it is no outcome at a mailbox provider. */
static int sendgrid__type(json_t *o, const char *event, int *type)
{
    static const struct adapt_name_type map[] = {
        {"processed", ENG_SENT},        {"delivered", ENG_DELIVERED},
        {"deferred", ENG_DEFERRED},     {"open", ENG_OPEN},
        {"click", ENG_CLICK},           {"spamreport", ENG_COMPLAINT},
        {"unsubscribe", ENG_UNSUBSCRIBE}, {"group_unsubscribe", ENG_UNSUBSCRIBE},
        {"dropped", 0},                 {"group_resubscribe", 0},
        {"account_status_change", 0},
    };
    if (event && strcmp(event, "bounce") == 0) {
        /* type absent: the older feeds' bounce, a permanent failure */
        const char *bt = adapt__str(o, "type");
        if (!bt || strcmp(bt, "bounce") == 0)
            *type = ENG_BOUNCE_HARD;
        else if (strcmp(bt, "blocked") == 0)
            *type = ENG_BLOCKED;
        else
            return -1;
        return 0;
    }
    *type = adapt__type_of(map, MP_ARRAY_LEN(map), event);
    return *type < 0 ? -1 : 0;
}

static int sendgrid__one(const struct ingest_adapt_conf *conf, json_t *o, size_t i,
                         struct ingest_adapt_out *out, char *err, size_t errlen)
{
    char where[48], sub[64];
    struct ingest_adapt_event *ev;
    int type, rc;
    snprintf(where, sizeof(where), "events[%zu]", i);
    if (!json_is_object(o)) {
        snprintf(err, errlen, "%s: expected an event object", where);
        return MP_ERR_INVAL;
    }
    const char *event = adapt__str(o, "event");
    if (sendgrid__type(o, event, &type) != 0) {
        snprintf(err, errlen, "%s.event: \"%.32s\"%s is not one mailpulse takes (processed, "
                 "delivered, deferred, bounce, dropped, open, click, spamreport, unsubscribe, "
                 "group_unsubscribe, group_resubscribe)", where, event ? event : "(missing)",
                 event && strcmp(event, "bounce") == 0 ? " with that type" : "");
        return MP_ERR_INVAL;
    }
    if (type == 0)
        return MP_OK; /* taken, not counted */
    if ((rc = adapt__push(out, &ev, err, errlen)) != MP_OK)
        return rc;
    ev->type = type;
    json_t *tsv = json_object_get(o, "timestamp");
    double ts = json_is_number(tsv) ? json_number_value(tsv) : NAN;
    if (!isfinite(ts) || ts < 1e9 || ts > 1e11) {
        snprintf(err, errlen, "%s.timestamp: expected Unix seconds", where);
        return MP_ERR_INVAL;
    }
    ev->time_ms = (int64_t)(ts * 1000.0);
    snprintf(sub, sizeof(sub), "%s.sg_event_id", where);
    if ((rc = adapt__id(ev, json_object_get(o, "sg_event_id"), sub, err, errlen)) != MP_OK)
        return rc;
    snprintf(sub, sizeof(sub), "%s.email", where);
    if ((rc = adapt__domain(ev, adapt__str(o, "email"), sub, err, errlen)) != MP_OK)
        return rc;
    return adapt__fields(conf, o, ev, where, err, errlen);
}

int adapt__sendgrid(const struct ingest_adapt_conf *conf, json_t *root,
                    struct ingest_adapt_out *out, char *err, size_t errlen)
{
    return adapt__each(conf, root, "SendGrid events", sendgrid__one, out, err, errlen);
}
