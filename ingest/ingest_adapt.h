/* ingest_adapt.h — ESP webhook bodies (json, Mailgun, Postmark, SendGrid, SES) turned into
 * mailpulse events: the pure part of the HTTP adapters.
 *
 * Contract: ingest_adapt_parse() reads one whole webhook body of `kind`
 * and fills `out` with every event it carries, or refuses the whole body
 * (MP_ERR_INVAL, err names the first reason: "events[3].type: unknown
 * type \"x\""): nothing is half-read, so a caller records all of `out` or
 * nothing. Each event gets its tenant (conf->tenant, or the body's
 * conf->tenant_field, which must then be one of conf->tenants), its
 * mailbox (from the feed, or conf->mailbox_field; empty when neither
 * carries one: the event still counts at its tenant and domain), the
 * recipient's domain, a type (eng_types.h), a time and the service's own
 * event id (the dedup key; may be empty for the json type).
 *
 * Signatures: Mailgun signs inside the body, so ingest_adapt_parse()
 * checks it (conf->signing_key, HMAC-SHA256 of timestamp+token, compared in
 * constant time) and returns INGEST_ADAPT_ERR_SIG for a bad or missing one, and
 * for a timestamp more than INGEST_ADAPT_MAX_AGE_S off `now_ms`; the token
 * comes back in out->token for the caller's replay check. Postmark and
 * json authenticate with HTTP headers: ingest_adapt_basic_ok() and
 * ingest_adapt_bearer_ok() (constant time too). SendGrid signs timestamp +
 * raw body with ECDSA P-256 in headers: ingest_adapt_sendgrid_ok() under a
 * key from ingest_adapt_key_load() (the body is not read for it).
 * SES comes through SNS,
 * which signs the envelope with RSA (SignatureVersion 1: SHA1, 2: SHA256)
 * over its canonical string: ingest_adapt_parse() verifies it against
 * conf->sns_cert (INGEST_ADAPT_ERR_SIG when absent, wrong, or the TopicArn
 * is not one of conf->topic_arns) and fills out->sns; a Notification gives
 * the SES record's events, a Subscription/UnsubscribeConfirmation none
 * (the caller confirms: out->sns.subscribe_url).
 *
 * Pure: no I/O, no globals; any thread. `out` is the caller's, freed with
 * ingest_adapt_out_free() whatever the result.
 */
#ifndef INGEST_ADAPT_H
#define INGEST_ADAPT_H

#include <stddef.h>
#include <stdint.h>

#include "mp.h"

struct x509_st; /* OpenSSL's X509 */

enum ingest_adapt_kind {
    INGEST_ADAPT_JSON = 0,
    INGEST_ADAPT_MAILGUN = 1,
    INGEST_ADAPT_POSTMARK = 2,
    INGEST_ADAPT_SENDGRID = 3,
    INGEST_ADAPT_SES = 4,
};

#define INGEST_ADAPT_MAX_EVENTS 10000 /* events in one body */
#define INGEST_ADAPT_ID_MAX 128       /* bytes of a service's event id */
#define INGEST_ADAPT_MAX_AGE_S 300    /* Mailgun, SendGrid: signature timestamp skew */
#define INGEST_ADAPT_MAX_TENANTS 64
/* ingest_adapt_parse(): the body's signature is bad, missing or too old */
#define INGEST_ADAPT_ERR_SIG (-64)

struct ingest_adapt_conf {
    enum ingest_adapt_kind kind;
    const char *tenant;        /* fixed tenant, or NULL (then tenant_field) */
    const char *tenant_field;  /* a field of the event's custom data / metadata */
    const char *const *tenants; /* allowed tenants for tenant_field */
    size_t ntenants;
    const char *mailbox_field; /* NULL: the feed's sender */
    const char *signing_key;   /* mailgun: HMAC key */
    /* ses: the certificate the caller trusts for this body (the configured
     * one, or SigningCertURL's from an allowed host), and the allowed
     * TopicArns (none: any) */
    const struct x509_st *sns_cert;
    const char *const *topic_arns;
    size_t ntopic_arns;
};

/* ses: the SNS envelope of a body (ingest_adapt_sns_peek(), and out->sns
 * after ingest_adapt_parse()). */
struct ingest_adapt_sns {
    char type[32]; /* Notification, SubscriptionConfirmation, UnsubscribeConfirmation */
    char message_id[INGEST_ADAPT_ID_MAX + 1];
    char topic_arn[257];
    char cert_url[1024];      /* SigningCertURL */
    char subscribe_url[2048]; /* SubscriptionConfirmation: SubscribeURL */
    int64_t time_ms;          /* Timestamp */
};

struct ingest_adapt_event {
    char tenant[65];
    char mailbox[255];
    char domain[254];
    int type;
    int64_t time_ms;
    char id[INGEST_ADAPT_ID_MAX + 1];
};

struct ingest_adapt_out {
    struct ingest_adapt_event *ev;
    size_t n, cap;
    char token[INGEST_ADAPT_ID_MAX + 1]; /* mailgun: the signature's token */
    struct ingest_adapt_sns sns;         /* ses: the envelope (signature checked) */
};

int ingest_adapt_parse(const struct ingest_adapt_conf *conf, const char *body, size_t len,
                       int64_t now_ms, struct ingest_adapt_out *out, char *err, size_t errlen);
void ingest_adapt_out_free(struct ingest_adapt_out *out);

/* "user:password" against an Authorization: Basic header (NULL: absent). */
int ingest_adapt_basic_ok(const char *userpass, const char *header);
/* `token` against an Authorization: Bearer header (NULL: absent). */
int ingest_adapt_bearer_ok(const char *token, const char *header);

/* SendGrid's verification key (base64 DER SubjectPublicKeyInfo, or PEM),
 * ECDSA P-256 only. MP_OK (out NULL: only checked), or MP_ERR_INVAL with
 * err naming what is wrong. Freed with ingest_adapt_key_free(); read-only
 * once loaded, so any thread may verify with it. */
struct ingest_adapt_key;
int ingest_adapt_key_load(const char *b64, struct ingest_adapt_key **out, char *err,
                          size_t errlen);
void ingest_adapt_key_free(struct ingest_adapt_key *k);
/* 1 when `sig` (the X-Twilio-Email-Event-Webhook-Signature header, base64
 * DER ECDSA) verifies SHA-256 of ts + body under k and `ts` (the
 * ...-Timestamp header, Unix seconds) is within INGEST_ADAPT_MAX_AGE_S of
 * now_ms; 0 otherwise (NULL headers too). */
int ingest_adapt_sendgrid_ok(const struct ingest_adapt_key *k, const char *ts, const char *sig,
                             const char *body, size_t len, int64_t now_ms);

/* ses: the SNS envelope of body, read but NOT verified (the caller needs
 * SigningCertURL to find the certificate before ingest_adapt_parse()
 * verifies); MP_OK or MP_ERR_INVAL with err. */
int ingest_adapt_sns_peek(const char *body, size_t len, struct ingest_adapt_sns *sns, char *err,
                          size_t errlen);

/* "json", "mailgun", "postmark", "sendgrid", "ses" -> kind; 0, or -1 when unknown. */
int ingest_adapt_kind_parse(const char *s, enum ingest_adapt_kind *out);

#endif
