/* ingest_adapt_postmark.c — Postmark's webhooks (see ingest_adapt.h): one
 * JSON object per request, its kind in RecordType:
 *   Delivery       {MessageID, Recipient, DeliveredAt, Metadata, ...}
 *   Bounce         {ID, Type: "HardBounce"|"SoftBounce"|..., Email, From,
 *                   BouncedAt, MessageID, Metadata, ...}
 *   SpamComplaint  the Bounce shape, Type "SpamComplaint"
 *   Open, Click    {MessageID, Recipient, ReceivedAt, Metadata, ...}
 *   SubscriptionChange {MessageID, Recipient, ChangedAt, SuppressSending,
 *                   SuppressionReason, Metadata, ...}
 * Only Bounce and SpamComplaint carry From; the others take the mailbox
 * from conf->mailbox_field of Metadata (or count without one). Bounce types
 * that are not delivery outcomes (AutoResponder, AddressChange, ...) and
 * subscription changes other than a recipient's own unsubscribe (the
 * bounce or complaint behind a suppression came as its own record) give no
 * event: the body is taken, nothing is counted. */
#include "ingest_adapt_impl.h"

#include <stdio.h>
#include <string.h>

#include "eng_types.h"

/* Bounce Type -> event type; 0 for the types that are not counted. */
static int postmark__bounce(const char *t)
{
    static const struct adapt_name_type map[] = {
        {"HardBounce", ENG_BOUNCE_HARD},    {"BadEmailAddress", ENG_BOUNCE_HARD},
        {"SoftBounce", ENG_BOUNCE_SOFT},    {"Transient", ENG_BOUNCE_SOFT},
        {"DnsError", ENG_BOUNCE_SOFT},      {"SpamNotification", ENG_COMPLAINT},
        {"SpamComplaint", ENG_COMPLAINT},   {"Blocked", ENG_BLOCKED},
        {"DMARCPolicy", ENG_BLOCKED},       {"Unsubscribe", ENG_UNSUBSCRIBE},
    };
    int type = adapt__type_of(map, MP_ARRAY_LEN(map), t);
    return type < 0 ? 0 : type;
}

/* The record's type (0: not counted), its time field and its recipient
 * field; -1 for an unknown RecordType. */
static int postmark__kind(json_t *root, int *type, const char **tfield, const char **rfield)
{
    const char *rt = adapt__str(root, "RecordType");
    *rfield = "Recipient";
    if (!rt)
        return -1;
    if (strcmp(rt, "Delivery") == 0) {
        *type = ENG_DELIVERED;
        *tfield = "DeliveredAt";
    } else if (strcmp(rt, "Bounce") == 0 || strcmp(rt, "SpamComplaint") == 0) {
        *type = strcmp(rt, "Bounce") == 0 ? postmark__bounce(adapt__str(root, "Type"))
                                          : ENG_COMPLAINT;
        *tfield = "BouncedAt";
        *rfield = "Email";
    } else if (strcmp(rt, "Open") == 0 || strcmp(rt, "Click") == 0) {
        *type = rt[0] == 'O' ? ENG_OPEN : ENG_CLICK;
        *tfield = "ReceivedAt";
    } else if (strcmp(rt, "SubscriptionChange") == 0) {
        const char *why = adapt__str(root, "SuppressionReason");
        *type = json_is_true(json_object_get(root, "SuppressSending")) && why &&
                        strcmp(why, "ManualSuppression") == 0
                    ? ENG_UNSUBSCRIBE
                    : 0;
        *tfield = "ChangedAt";
    } else {
        return -1;
    }
    return 0;
}

/* The dedup id: Bounce's own ID; else the record type, message, recipient
 * and time (a message is opened and clicked more than once). */
static int postmark__id(json_t *root, struct ingest_adapt_event *ev, const char *rcpt,
                        const char *when, char *err, size_t errlen)
{
    json_t *id = json_object_get(root, "ID");
    const char *mid = adapt__str(root, "MessageID");
    char buf[512];
    if (id)
        return adapt__id(ev, id, "ID", err, errlen);
    if (!mid || !*mid) {
        snprintf(err, errlen, "MessageID: expected a string");
        return MP_ERR_INVAL;
    }
    snprintf(buf, sizeof(buf), "%s:%s:%s:%s", adapt__str(root, "RecordType"), mid, rcpt, when);
    json_t *s = json_string(buf);
    int rc = adapt__id(ev, s, "MessageID", err, errlen);
    json_decref(s);
    return rc;
}

int adapt__postmark(const struct ingest_adapt_conf *conf, json_t *root,
                    struct ingest_adapt_out *out, char *err, size_t errlen)
{
    const char *tf, *rf;
    int type, rc;
    struct ingest_adapt_event *ev;
    if (!json_is_object(root) || postmark__kind(root, &type, &tf, &rf) != 0) {
        snprintf(err, errlen, "RecordType: expected Delivery, Bounce, SpamComplaint, Open, "
                              "Click or SubscriptionChange");
        return MP_ERR_INVAL;
    }
    const char *when = adapt__str(root, tf), *rcpt = adapt__str(root, rf);
    const char *from = adapt__str(root, "From");
    if ((rc = adapt__push(out, &ev, err, errlen)) != MP_OK)
        return rc;
    ev->type = type;
    if (adapt__rfc3339(when, &ev->time_ms) != 0) {
        snprintf(err, errlen, "%s: expected an RFC 3339 UTC time", tf);
        rc = MP_ERR_INVAL;
    } else if ((rc = adapt__domain(ev, rcpt, rf, err, errlen)) == MP_OK &&
               (!from || !*from || (rc = adapt__mailbox(ev, from, "From", err, errlen)) == MP_OK) &&
               (rc = postmark__id(root, ev, rcpt, when, err, errlen)) == MP_OK) {
        rc = adapt__fields(conf, json_object_get(root, "Metadata"), ev, "Metadata", err, errlen);
    }
    if (rc == MP_OK && type == 0)
        out->n--; /* read whole and checked, but not a delivery outcome */
    return rc;
}
