/* ingest_adapt_ses.c — Amazon SES events through SNS (see ingest_adapt.h).
 *
 * The body is SNS's envelope:
 *   {"Type": "Notification" | "SubscriptionConfirmation" | "UnsubscribeConfirmation",
 *    "MessageId", "TopicArn", "Subject" (optional), "Message", "Timestamp",
 *    "SignatureVersion": "1" | "2", "Signature": base64, "SigningCertURL",
 *    "Token" and "SubscribeURL" (confirmations), "UnsubscribeURL"}
 * signed over "Key\nValue\n" of Message, MessageId, Subject (if present),
 * Timestamp, TopicArn, Type (Notification) or Message, MessageId,
 * SubscribeURL, Timestamp, Token, TopicArn, Type (confirmations), with
 * SHA1withRSA (version 1) or SHA256withRSA (version 2). The signature is
 * checked before anything of Message is read.
 *
 * A Notification's Message is the SES record as a JSON string:
 *   {"eventType" (configuration-set event publishing) or "notificationType"
 *    (identity notifications): "Bounce", ...,
 *    "mail": {"timestamp", "source": "Name <a@b>", "destination": [...],
 *             "tags": {"name": ["value"]}, ...},
 *    "bounce": {"bounceType": "Permanent"|"Transient"|"Undetermined",
 *               "bouncedRecipients": [{"emailAddress"}], "timestamp"}, ...}
 * Each record gives one event per recipient it names (Send and Reject: per
 * mail.destination; Open, Click, Subscription: one, for the first
 * destination, since SES does not say which recipient acted). Bounce
 * Undetermined counts as bounce_soft (SES could not tell it permanent and
 * does not suppress the address); Reject as blocked (SES refused to send);
 * Subscription as unsubscribe only when it opts out (unsubscribeAll, or a
 * topic "OptOut"). Rendering Failure and AmazonSnsSubscriptionSucceeded
 * count nothing. Event ids: the SNS MessageId, "/<i>" appended when one
 * record gives several events. */
#include "ingest_adapt_impl.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "eng_types.h"
#include "mp_buf.h"

#define SES_SIG_MAX 1024 /* bytes of a decoded signature (RSA-8192) */

static int ses__copy(char *dst, size_t cap, const char *s)
{
    if (!s || strlen(s) >= cap)
        return -1;
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

/* The envelope's fields into sns; MP_ERR_INVAL names the first bad one. */
static int ses__envelope(json_t *root, struct ingest_adapt_sns *sns, char *err, size_t errlen)
{
    const char *bad = NULL, *type = adapt__str(root, "Type");
    memset(sns, 0, sizeof(*sns));
    int conf = type && (strcmp(type, "SubscriptionConfirmation") == 0 ||
                        strcmp(type, "UnsubscribeConfirmation") == 0);
    if (!json_is_object(root))
        bad = "body: expected an SNS message object";
    else if (!conf && (!type || strcmp(type, "Notification") != 0))
        bad = "Type: expected Notification, SubscriptionConfirmation or UnsubscribeConfirmation";
    else if (ses__copy(sns->type, sizeof(sns->type), type) ||
             ses__copy(sns->message_id, INGEST_ADAPT_ID_MAX - 8, adapt__str(root, "MessageId")) ||
             !sns->message_id[0])
        bad = "MessageId: expected a string of 1..119 bytes";
    else if (ses__copy(sns->topic_arn, sizeof(sns->topic_arn), adapt__str(root, "TopicArn")))
        bad = "TopicArn: expected a string of at most 256 bytes";
    else if (ses__copy(sns->cert_url, sizeof(sns->cert_url), adapt__str(root, "SigningCertURL")))
        bad = "SigningCertURL: expected a URL of at most 1023 bytes";
    else if (adapt__rfc3339(adapt__str(root, "Timestamp"), &sns->time_ms) != 0)
        bad = "Timestamp: expected an ISO 8601 UTC time";
    else if (!adapt__str(root, "Message"))
        bad = "Message: expected a string";
    else if (conf && (ses__copy(sns->subscribe_url, sizeof(sns->subscribe_url),
                                adapt__str(root, "SubscribeURL")) ||
                      !adapt__str(root, "Token")))
        bad = "SubscribeURL, Token: expected strings (a URL of at most 2047 bytes)";
    if (bad) {
        snprintf(err, errlen, "%s", bad);
        return MP_ERR_INVAL;
    }
    return MP_OK;
}

int ingest_adapt_sns_peek(const char *body, size_t len, struct ingest_adapt_sns *sns, char *err,
                          size_t errlen)
{
    json_t *root;
    int rc = adapt__load(body, len, &root, err, errlen);
    if (rc == MP_OK) {
        rc = ses__envelope(root, sns, err, errlen);
        json_decref(root);
    }
    return rc;
}

/* The canonical string SNS signs for this Type, into b; -1 when a field
 * it needs is missing. */
static int ses__canonical(json_t *root, struct mp_buf *b)
{
    static const char *const note[] = {"Message", "MessageId", "Subject", "Timestamp",
                                       "TopicArn", "Type", NULL};
    static const char *const confirm[] = {"Message",  "MessageId", "SubscribeURL", "Timestamp",
                                          "Token",    "TopicArn",  "Type",         NULL};
    const char *const *keys = strcmp(adapt__str(root, "Type"), "Notification") == 0 ? note : confirm;
    for (size_t i = 0; keys[i]; i++) {
        json_t *v = json_object_get(root, keys[i]);
        if (!v && strcmp(keys[i], "Subject") == 0)
            continue; /* the only optional one */
        if (!json_is_string(v))
            return -1;
        if (mp_buf_printf(b, "%s\n", keys[i]) != MP_OK ||
            mp_buf_append(b, json_string_value(v), json_string_length(v)) != MP_OK ||
            mp_buf_puts(b, "\n") != MP_OK)
            return -1;
    }
    return 0;
}

/* 1: the envelope's signature verifies against cert. */
static int ses__sig_ok(const struct x509_st *cert, json_t *root)
{
    const char *ver = adapt__str(root, "SignatureVersion"), *b64 = adapt__str(root, "Signature");
    const EVP_MD *md = !ver ? NULL : strcmp(ver, "1") == 0 ? EVP_sha1()
                                   : strcmp(ver, "2") == 0 ? EVP_sha256() : NULL;
    unsigned char sig[SES_SIG_MAX + 3];
    size_t bl = b64 ? strlen(b64) : 0;
    EVP_PKEY *pk = cert ? X509_get0_pubkey(cert) : NULL;
    if (!md || !pk || bl == 0 || bl % 4 != 0 || bl / 4 * 3 > sizeof(sig))
        return 0;
    int n = EVP_DecodeBlock(sig, (const unsigned char *)b64, (int)bl);
    if (n < 0)
        return 0;
    n -= (b64[bl - 1] == '=') + (b64[bl - 2] == '='); /* counted as zero bytes */
    struct mp_buf b = {0};
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && ses__canonical(root, &b) == 0 &&
             EVP_DigestVerifyInit(ctx, NULL, md, NULL, pk) == 1 &&
             EVP_DigestVerify(ctx, sig, (size_t)n, (const unsigned char *)b.p, b.len) == 1;
    EVP_MD_CTX_free(ctx);
    mp_buf_free(&b);
    return ok;
}

static int ses__topic_ok(const struct ingest_adapt_conf *conf, const char *arn)
{
    int ok = conf->ntopic_arns == 0;
    for (size_t i = 0; !ok && i < conf->ntopic_arns; i++)
        ok = strcmp(conf->topic_arns[i], arn) == 0;
    return ok;
}

/* How one SES event type is read. */
struct ses_kind {
    const char *name;
    const char *obj;    /* the member with its details */
    const char *list;   /* its recipient list; NULL: mail.destination */
    const char *member; /* of each list item; NULL: items are addresses */
    int type;           /* 0: not counted */
    int first_only;     /* one event, for the first recipient */
};

static const struct ses_kind ses__kinds[] = {
    {"Send", "send", NULL, NULL, ENG_SENT, 0},
    {"Delivery", "delivery", "recipients", NULL, ENG_DELIVERED, 0},
    {"Bounce", "bounce", "bouncedRecipients", "emailAddress", ENG_BOUNCE_HARD, 0},
    {"Complaint", "complaint", "complainedRecipients", "emailAddress", ENG_COMPLAINT, 0},
    {"Reject", "reject", NULL, NULL, ENG_BLOCKED, 0},
    {"DeliveryDelay", "deliveryDelay", "delayedRecipients", "emailAddress", ENG_DEFERRED, 0},
    {"Open", "open", NULL, NULL, ENG_OPEN, 1},
    {"Click", "click", NULL, NULL, ENG_CLICK, 1},
    {"Subscription", "subscription", NULL, NULL, ENG_UNSUBSCRIBE, 1},
    {"Rendering Failure", "failure", NULL, NULL, 0, 0},
    {"RenderingFailure", "failure", NULL, NULL, 0, 0},
    {"AmazonSnsSubscriptionSucceeded", NULL, NULL, NULL, 0, 0},
};

/* The event type of this record (0: not counted); -1 unknown. */
static int ses__type(const struct ses_kind *k, json_t *detail)
{
    if (k->type == ENG_BOUNCE_HARD) {
        const char *bt = adapt__str(detail, "bounceType");
        if (!bt)
            return -1;
        /* Undetermined: SES could not tell it permanent, and does not
         * suppress the address: a soft bounce */
        return strcmp(bt, "Permanent") == 0 ? ENG_BOUNCE_HARD : ENG_BOUNCE_SOFT;
    }
    if (k->type == ENG_UNSUBSCRIBE) { /* an opt-out, not any preference change */
        json_t *pref = json_object_get(detail, "newTopicPreferences"), *t;
        size_t i;
        int out = json_is_true(json_object_get(pref, "unsubscribeAll"));
        json_array_foreach(json_object_get(pref, "topicSubscriptionStatus"), i, t)
            out |= strcmp(adapt__str(t, "subscriptionStatus") ? adapt__str(t, "subscriptionStatus")
                                                               : "", "OptOut") == 0;
        return out ? ENG_UNSUBSCRIBE : 0;
    }
    return k->type;
}

/* mail.tags ({"name": ["value", ...]}) as {"name": "value"} for the
 * tenant and mailbox fields. */
static json_t *ses__tags(json_t *mail)
{
    json_t *flat = json_object(), *v;
    const char *key;
    json_object_foreach(json_object_get(mail, "tags"), key, v) {
        json_t *s = json_is_array(v) ? json_array_get(v, 0) : v;
        if (flat && json_is_string(s))
            json_object_set(flat, key, s);
    }
    return flat;
}

struct ses_rec {
    const struct ses_kind *k;
    int type;
    json_t *rcpts; /* the recipient list */
    int64_t time_ms;
    const char *source;
    json_t *tags;
};

/* One event per recipient of r. */
static int ses__events(const struct ingest_adapt_conf *conf, const struct ses_rec *r,
                       const char *msgid, struct ingest_adapt_out *out, char *err, size_t errlen)
{
    size_t n = json_array_size(r->rcpts), i;
    if (r->k->first_only && n > 1)
        n = 1;
    if (n == 0) {
        snprintf(err, errlen, "Message: %s has no recipients", r->k->name);
        return MP_ERR_INVAL;
    }
    int rc = MP_OK;
    for (i = 0; rc == MP_OK && i < n; i++) {
        json_t *it = json_array_get(r->rcpts, i);
        const char *addr = r->k->member ? adapt__str(it, r->k->member) : json_string_value(it);
        char where[96];
        struct ingest_adapt_event *ev;
        snprintf(where, sizeof(where), "Message.%s[%zu]",
                 r->k->list ? r->k->list : "mail.destination", i);
        if ((rc = adapt__push(out, &ev, err, errlen)) != MP_OK)
            break;
        ev->type = r->type;
        ev->time_ms = r->time_ms;
        if (n == 1)
            snprintf(ev->id, sizeof(ev->id), "%s", msgid);
        else
            snprintf(ev->id, sizeof(ev->id), "%s/%zu", msgid, i);
        if ((rc = adapt__domain(ev, addr, where, err, errlen)) == MP_OK &&
            (!r->source || (rc = adapt__mailbox(ev, r->source, "Message.mail.source", err,
                                                errlen)) == MP_OK))
            rc = adapt__fields(conf, r->tags, ev, "Message.mail.tags", err, errlen);
    }
    return rc;
}

/* The SES record in Message to events. */
int adapt__ses_record(const struct ingest_adapt_conf *conf, const char *msg, const char *msgid,
                      struct ingest_adapt_out *out, char *err, size_t errlen)
{
    json_t *rec;
    char sub[400];
    if (adapt__load(msg, strlen(msg), &rec, sub, sizeof(sub)) != MP_OK) {
        snprintf(err, errlen, "Message: %s", sub + 6); /* past "body: " */
        return MP_ERR_INVAL;
    }
    const char *et = adapt__str(rec, "eventType");
    if (!et)
        et = adapt__str(rec, "notificationType");
    struct ses_rec r = {.k = NULL};
    for (size_t i = 0; et && i < MP_ARRAY_LEN(ses__kinds); i++)
        if (strcmp(et, ses__kinds[i].name) == 0)
            r.k = &ses__kinds[i];
    json_t *mail = json_object_get(rec, "mail"), *detail = NULL;
    int rc = MP_ERR_INVAL;
    if (r.k)
        detail = r.k->obj ? json_object_get(rec, r.k->obj) : NULL;
    if (!r.k)
        snprintf(err, errlen, "Message.eventType: \"%.40s\" is not an SES event type",
                 et ? et : "(missing)");
    else if (r.k->type == 0 || (r.type = ses__type(r.k, detail)) == 0)
        rc = MP_OK; /* taken, not counted */
    else if (!json_is_object(mail) || !json_is_object(detail) || r.type < 0)
        snprintf(err, errlen, "Message: expected objects mail and %s%s", r.k->obj,
                 r.type < 0 ? " (with bounceType)" : "");
    else if (adapt__rfc3339(adapt__str(detail, "timestamp") ? adapt__str(detail, "timestamp")
                                                            : adapt__str(mail, "timestamp"),
                            &r.time_ms) != 0)
        snprintf(err, errlen, "Message.%s.timestamp: expected an ISO 8601 UTC time", r.k->obj);
    else {
        r.rcpts = json_object_get(r.k->list ? detail : mail,
                                  r.k->list ? r.k->list : "destination");
        r.source = adapt__str(mail, "source");
        r.tags = ses__tags(mail);
        rc = r.tags ? ses__events(conf, &r, msgid, out, err, errlen) : MP_ERR_NOMEM;
        json_decref(r.tags);
    }
    json_decref(rec);
    return rc;
}

int adapt__ses(const struct ingest_adapt_conf *conf, json_t *root, struct ingest_adapt_out *out,
               char *err, size_t errlen)
{
    int rc = ses__envelope(root, &out->sns, err, errlen);
    if (rc != MP_OK)
        return rc;
    if (!ses__sig_ok(conf->sns_cert, root)) {
        snprintf(err, errlen, "Signature: missing, of an unknown SignatureVersion, or wrong "
                 "for the signing certificate");
        return INGEST_ADAPT_ERR_SIG;
    }
    if (!ses__topic_ok(conf, out->sns.topic_arn)) {
        snprintf(err, errlen, "TopicArn: \"%.200s\" is not one of this endpoint's topic_arns",
                 out->sns.topic_arn);
        return INGEST_ADAPT_ERR_SIG;
    }
    if (strcmp(out->sns.type, "Notification") != 0)
        return MP_OK; /* a confirmation: no events; the caller confirms */
    return adapt__ses_record(conf, adapt__str(root, "Message"), out->sns.message_id, out, err, errlen);
}
