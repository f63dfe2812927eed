/* ingest_adapt_impl.h — private to ingest/ingest_adapt*.c: what the
 * per-service mappers share (the event list, addresses, tenant and mailbox
 * fields, times). ingest_adapt.c holds these and the json type;
 * ingest_adapt_mailgun.c, ingest_adapt_postmark.c and ingest_adapt_sendgrid.c
 * one service each.
 * Each helper returns MP_OK or MP_ERR_INVAL/NOMEM with err written as
 * "<where>: <reason>". */
#ifndef INGEST_ADAPT_IMPL_H
#define INGEST_ADAPT_IMPL_H

#include <jansson.h>

#include "ingest_adapt.h"

/* A new zeroed event at the end of out (MP_ERR_INVAL past the limit). */
int adapt__push(struct ingest_adapt_out *out, struct ingest_adapt_event **ev, char *err,
                size_t errlen);
/* The mailbox from an address, bare or "Name <a@b>". */
int adapt__mailbox(struct ingest_adapt_event *ev, const char *addr, const char *where, char *err,
                   size_t errlen);
/* The domain of a recipient address. */
int adapt__domain(struct ingest_adapt_event *ev, const char *rcpt, const char *where, char *err,
                  size_t errlen);
/* Tenant (fixed, or conf->tenant_field of `fields`, allowed) and the
 * configured mailbox field of `fields` (a JSON object or NULL). */
int adapt__fields(const struct ingest_adapt_conf *conf, json_t *fields,
                  struct ingest_adapt_event *ev, const char *where, char *err, size_t errlen);
/* The event id, a non-empty string of at most INGEST_ADAPT_ID_MAX bytes. */
int adapt__id(struct ingest_adapt_event *ev, json_t *v, const char *where, char *err,
              size_t errlen);
/* RFC 3339 ("2026-12-02T06:40:00.123Z", "...T01:40:00-05:00"; fraction
 * optional, its first 3 digits kept) -> ms since the epoch. */
int adapt__rfc3339(const char *s, int64_t *ms);
/* A JSON string member, or NULL. */
const char *adapt__str(json_t *o, const char *key);
/* A service's event name and the event type it counts as (0: not counted). */
struct adapt_name_type {
    const char *name;
    int type;
};
/* The type of `name` in map (n rows); -1 when name is NULL or not in it. */
int adapt__type_of(const struct adapt_name_type *map, size_t n, const char *name);
/* The body as JSON; MP_ERR_INVAL "body: <jansson's reason>". */
int adapt__load(const char *body, size_t len, json_t **out, char *err, size_t errlen);

int adapt__mailgun(const struct ingest_adapt_conf *conf, json_t *root, int64_t now_ms,
                   struct ingest_adapt_out *out, char *err, size_t errlen);
/* ses: the SES record (the Notification's Message) to events, ids from
 * msgid; the mapper adapt__ses() runs once the signature verified (the
 * fuzz target calls it directly: a fuzzer cannot sign). */
int adapt__ses_record(const struct ingest_adapt_conf *conf, const char *msg, const char *msgid,
                      struct ingest_adapt_out *out, char *err, size_t errlen);
int adapt__ses(const struct ingest_adapt_conf *conf, json_t *root, struct ingest_adapt_out *out,
               char *err, size_t errlen);
int adapt__postmark(const struct ingest_adapt_conf *conf, json_t *root,
                    struct ingest_adapt_out *out, char *err, size_t errlen);
int adapt__sendgrid(const struct ingest_adapt_conf *conf, json_t *root,
                    struct ingest_adapt_out *out, char *err, size_t errlen);
/* One element (the i-th) of a body that is a JSON array of events. */
typedef int (*adapt_one_fn)(const struct ingest_adapt_conf *conf, json_t *o, size_t i,
                            struct ingest_adapt_out *out, char *err, size_t errlen);
/* `one` over every element of root, which must be an array ("body:
 * expected a JSON array of <what>"); the first refusal stops it. */
int adapt__each(const struct ingest_adapt_conf *conf, json_t *root, const char *what,
                adapt_one_fn one, struct ingest_adapt_out *out, char *err, size_t errlen);
/* Standard base64 (padded) of sl bytes into out (cap bytes): the decoded
 * length, or -1 when it is not base64 or does not fit. */
int adapt__b64(const char *s, size_t sl, unsigned char *out, size_t cap);

#endif
