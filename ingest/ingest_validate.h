/* ingest_validate.h — the edge's second step: validate each decoded event.
 *
 * Contract: pure functions, any thread, no allocation. (Decoding a frame,
 * which allocates, is ingest_decode.h.)
 *
 * ingest_validate_event() checks one event against the rules of the wire
 * contract and returns INGEST_OK or the reason it is refused; on INGEST_OK
 * *ev points into the decoded event and into `buf`, where the lower-cased
 * mailbox and recipient domain are written (buf must hold
 * INGEST_NAMEBUF_LEN bytes and outlive *ev).
 *
 * Rules: tenant 1..64 chars of [A-Za-z0-9._-]; mailbox one '@' between a
 * non-empty local part (<= 64 bytes, printable ASCII, no spaces) and a valid
 * host name, <= 254 bytes in all, lower-cased (empty only with
 * lim->mailbox_optional: then ev->mailbox_len is 0); recipient_domain a host name
 * of dot-separated labels of [a-z0-9-] (1..63 each, no leading or trailing
 * '-') up to 253 bytes, lower-cased, one trailing dot dropped; type 1..12;
 * time set, not older than the retention and at most `future_ms` ahead;
 * campaign optional (empty: none), else 1..INGEST_CAMPAIGN_MAX bytes of
 * printable ASCII (spaces too), kept as sent (case matters: it is the
 * producer's name for it).
 * A field blanked by the decoder (a NUL inside it on the wire) is refused
 * with that field's reason.
 */
#ifndef INGEST_VALIDATE_H
#define INGEST_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "eng_table.h"
#include "ingest_decode.h" /* every caller that validates events decodes them first */
#include "mailpulse.pb-c.h"
#include "mp.h"

/* Reasons are stable: they name /metrics series and log lines. */
enum ingest_reason {
    INGEST_OK = 0,
    INGEST_REJ_BAD_FRAME,      /* not a decodable EventBatch (per frame) */
    INGEST_REJ_EMPTY_BATCH,    /* a batch with no events (per frame) */
    INGEST_REJ_TENANT,         /* tenant missing or malformed */
    INGEST_REJ_MAILBOX,        /* mailbox missing or malformed */
    INGEST_REJ_DOMAIN,         /* recipient domain missing or malformed */
    INGEST_REJ_TYPE,           /* unknown or unspecified event type */
    INGEST_REJ_TIME_MISSING,   /* time_ms not set (0) */
    INGEST_REJ_TIME_OLD,       /* older than the retention */
    INGEST_REJ_TIME_FUTURE,    /* further ahead than allowed */
    INGEST_REJ_CAPACITY,       /* key table or name dictionary full */
    INGEST_REJ_INTERNAL,       /* out of memory and the like */
    INGEST_REJ_FRAME_LARGE,    /* frame over max_frame_bytes (per frame, never decoded) */
    INGEST_REJ_BATCH_LARGE,    /* batch over max_batch_events (per frame, never decoded) */
    INGEST_REJ_PRODUCER_ID,    /* producer_id over INGEST_PRODUCER_ID_MAX bytes (per frame) */
    INGEST_REJ_TENANT_KEY_CAP, /* a new key would take the tenant over limits.*max_keys */
    INGEST_REJ_TENANT_RATE_CAP, /* the tenant is over limits.*max_events_per_second */
    INGEST_REJ_TENANT_FORBIDDEN, /* [i9-curve] a tenant outside its Curve client's list */
    INGEST_REJ_CAMPAIGN,       /* campaign set but malformed */
    INGEST_REASON_COUNT
};

#define INGEST_CAMPAIGN_MAX 255 /* the key table's name limit */
#define INGEST_NAMEBUF_LEN 512 /* lower-cased mailbox (<= 254) + domain (<= 253) */
#define INGEST_FUTURE_MS_DEFAULT (5 * 60 * 1000LL)
#define INGEST_MAX_FRAME_BYTES_DEFAULT (4 << 20)
#define INGEST_MAX_BATCH_EVENTS_DEFAULT 10000
/* A producer_id names a producer in logs and (with acked ingest) in the
 * persisted sequence table: a bound, not truncation, since two long ids cut
 * to one prefix would share one sequence. */
#define INGEST_PRODUCER_ID_MAX 256

/* Frame limits are checked before a byte is decoded (ingest_worker.h). A
 * zero max_frame_bytes or max_batch_events means the default above, so a
 * zero-filled struct is a safe one. */
struct ingest_limits {
    int64_t retention_ms; /* events older than now - retention are refused */
    int64_t future_ms;    /* events later than now + future_ms are refused */
    size_t max_frame_bytes;    /* larger frames: frame_too_large */
    uint32_t max_batch_events; /* more events: batch_too_large, the whole frame */
    /* 1: an empty mailbox is no mailbox (the event counts at its other
     * scopes) instead of mailbox_invalid. The wire keeps it 0 (the proto
     * names mailbox as the sending address); the HTTP adapters set it, as
     * ESP feeds do not always carry a sender. */
    int mailbox_optional;
};

/* "bad_frame", "tenant_invalid", ...; never NULL. */
const char *ingest_reason_name(int reason);

int ingest_validate_event(const Mailpulse__V1__Event *e, int64_t now_ms,
                          const struct ingest_limits *lim, char *buf, struct eng_event *ev);

/* Building blocks of the rules, exposed for the tests and the fuzz target.
 * Return 1 when valid.
 * (Tenant names: eng_name_valid() in engine/eng_name.h.) */
/* Validates and lower-cases src into dst (>= len + 1 bytes); *outlen is set. */
int ingest_norm_domain(const char *src, size_t len, char *dst, size_t *outlen);
int ingest_norm_mailbox(const char *src, size_t len, char *dst, size_t *outlen);

#endif
