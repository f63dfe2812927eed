/* ingest_validate.c — frame decoding and event validation (see ingest_validate.h). */
#include "ingest_validate.h"
#include "eng_name.h"

#include <string.h>

static const char *const validate__reasons[INGEST_REASON_COUNT] = {
    [INGEST_OK] = "ok",
    [INGEST_REJ_BAD_FRAME] = "bad_frame",
    [INGEST_REJ_EMPTY_BATCH] = "empty_batch",
    [INGEST_REJ_TENANT] = "tenant_invalid",
    [INGEST_REJ_MAILBOX] = "mailbox_invalid",
    [INGEST_REJ_DOMAIN] = "domain_invalid",
    [INGEST_REJ_TYPE] = "type_unknown",
    [INGEST_REJ_TIME_MISSING] = "time_missing",
    [INGEST_REJ_TIME_OLD] = "time_too_old",
    [INGEST_REJ_TIME_FUTURE] = "time_in_future",
    [INGEST_REJ_CAPACITY] = "capacity",
    [INGEST_REJ_INTERNAL] = "internal",
    [INGEST_REJ_FRAME_LARGE] = "frame_too_large",
    [INGEST_REJ_BATCH_LARGE] = "batch_too_large",
    [INGEST_REJ_PRODUCER_ID] = "producer_id_too_long",
    [INGEST_REJ_TENANT_KEY_CAP] = "tenant_key_cap",
    [INGEST_REJ_TENANT_RATE_CAP] = "tenant_rate_cap",
    [INGEST_REJ_TENANT_FORBIDDEN] = "tenant_forbidden", /* [i9-curve] */
    [INGEST_REJ_CAMPAIGN] = "campaign_invalid",
};

const char *ingest_reason_name(int reason)
{
    if (reason < 0 || reason >= INGEST_REASON_COUNT)
        return "unknown";
    return validate__reasons[reason];
}

static char validate__lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

int ingest_norm_domain(const char *src, size_t len, char *dst, size_t *outlen)
{
    if (len > 0 && src[len - 1] == '.')
        len--; /* the fully qualified form names the same host */
    if (len < 1 || len > 253)
        return 0;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        char c = validate__lower(src[i]);
        if (c == '.') {
            if (label == 0 || dst[i - 1] == '-')
                return 0;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
            if (c == '-' && label == 0)
                return 0;
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
        dst[i] = c;
    }
    if (label == 0 || dst[len - 1] == '-')
        return 0;
    dst[len] = '\0';
    *outlen = len;
    return 1;
}

int ingest_norm_mailbox(const char *src, size_t len, char *dst, size_t *outlen)
{
    if (len < 3 || len > 254)
        return 0;
    const char *at = memchr(src, '@', len);
    if (!at || memchr(at + 1, '@', len - (size_t)(at - src) - 1))
        return 0;
    size_t local = (size_t)(at - src);
    if (local < 1 || local > 64)
        return 0;
    for (size_t i = 0; i < local; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c <= ' ' || c >= 0x7f) /* no spaces, controls or raw UTF-8 */
            return 0;
        dst[i] = validate__lower((char)c);
    }
    dst[local] = '@';
    size_t dlen;
    if (!ingest_norm_domain(at + 1, len - local - 1, dst + local + 1, &dlen))
        return 0;
    *outlen = local + 1 + dlen;
    return 1;
}

/* Campaign names come from ESPs and people (tags, workflow names, "Black
 * Friday 2026"): printable ASCII, spaces included. No controls (log lines)
 * and no bytes past ASCII: a label value must be valid UTF-8 for the JSON
 * library, and ASCII needs no decoder to check. */
static int validate__campaign(const char *s, size_t len)
{
    if (len > INGEST_CAMPAIGN_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < ' ' || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

int ingest_validate_event(const Mailpulse__V1__Event *e, int64_t now_ms,
                          const struct ingest_limits *lim, char *buf, struct eng_event *ev)
{
    const char *tenant = e->tenant ? e->tenant : "";
    const char *mailbox = e->mailbox ? e->mailbox : "";
    const char *domain = e->recipient_domain ? e->recipient_domain : "";
    size_t tlen = strlen(tenant), mlen = strlen(mailbox), dlen = strlen(domain);

    if (!eng_name_valid(tenant, tlen))
        return INGEST_REJ_TENANT;
    size_t mout, dout;
    if (mlen == 0 && lim->mailbox_optional) {
        buf[0] = '\0';
        mout = 0;
    } else if (mlen > 254 || !ingest_norm_mailbox(mailbox, mlen, buf, &mout)) {
        return INGEST_REJ_MAILBOX;
    }
    char *dbuf = buf + mout + 1;
    if (dlen > 254 || !ingest_norm_domain(domain, dlen, dbuf, &dout))
        return INGEST_REJ_DOMAIN;
    int type = (int)e->type;
    if (type < ENG_TYPE_MIN || type > ENG_TYPE_MAX)
        return INGEST_REJ_TYPE;
    if (e->time_ms == 0)
        return INGEST_REJ_TIME_MISSING;
    if (e->time_ms < now_ms - lim->retention_ms)
        return INGEST_REJ_TIME_OLD;
    if (e->time_ms > now_ms + lim->future_ms)
        return INGEST_REJ_TIME_FUTURE;
    const char *campaign = e->campaign ? e->campaign : "";
    size_t clen = strlen(campaign);
    if (!validate__campaign(campaign, clen))
        return INGEST_REJ_CAMPAIGN;

    ev->tenant = tenant;
    ev->tenant_len = tlen;
    ev->mailbox = buf;
    ev->mailbox_len = mout;
    ev->domain = dbuf;
    ev->domain_len = dout;
    ev->type = type;
    ev->time_ms = e->time_ms;
    ev->campaign = campaign;
    ev->campaign_len = clen;
    return INGEST_OK;
}
