/* ingest_adapt.c — the adapters' shared helpers, the json type and the
 * entry point (see ingest_adapt.h). */
#include "ingest_adapt_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "eng_name.h"
#include "eng_types.h"
#include "ingest_validate.h"

int adapt__push(struct ingest_adapt_out *out, struct ingest_adapt_event **ev, char *err,
                size_t errlen)
{
    if (out->n >= INGEST_ADAPT_MAX_EVENTS) {
        snprintf(err, errlen, "body: more than %d events", INGEST_ADAPT_MAX_EVENTS);
        return MP_ERR_INVAL;
    }
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 8;
        struct ingest_adapt_event *p = realloc(out->ev, cap * sizeof(*p));
        if (!p) {
            snprintf(err, errlen, "out of memory");
            return MP_ERR_NOMEM;
        }
        out->ev = p;
        out->cap = cap;
    }
    *ev = &out->ev[out->n++];
    memset(*ev, 0, sizeof(**ev));
    return MP_OK;
}

void ingest_adapt_out_free(struct ingest_adapt_out *out)
{
    free(out->ev);
    memset(out, 0, sizeof(*out));
}

const char *adapt__str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

int adapt__type_of(const struct adapt_name_type *map, size_t n, const char *name)
{
    for (size_t i = 0; name && i < n; i++)
        if (strcmp(name, map[i].name) == 0)
            return map[i].type;
    return -1;
}

int adapt__load(const char *body, size_t len, json_t **out, char *err, size_t errlen)
{
    json_error_t je;
    /* JSON_REJECT_DUPLICATES: one key twice is two readings of one event */
    *out = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!*out) {
        snprintf(err, errlen, "body: not JSON: %s (line %d)", je.text, je.line);
        return MP_ERR_INVAL;
    }
    return MP_OK;
}

int adapt__mailbox(struct ingest_adapt_event *ev, const char *addr, const char *where, char *err,
                   size_t errlen)
{
    const char *lt = strrchr(addr, '<'), *s = lt ? lt + 1 : addr;
    size_t len = lt ? strcspn(s, ">") : strlen(s), outlen;
    while (len && s[len - 1] == ' ')
        len--;
    while (len && *s == ' ')
        s++, len--;
    if (len == 0 || len >= sizeof(ev->mailbox) || (lt && s[len] != '>') ||
        !ingest_norm_mailbox(s, len, ev->mailbox, &outlen)) {
        snprintf(err, errlen, "%s: not a mail address: \"%.64s\"", where, addr);
        return MP_ERR_INVAL;
    }
    return MP_OK;
}

int adapt__domain(struct ingest_adapt_event *ev, const char *rcpt, const char *where, char *err,
                  size_t errlen)
{
    const char *at = rcpt ? strrchr(rcpt, '@') : NULL;
    size_t len = at ? strcspn(at + 1, ">") : 0, outlen;
    if (!at || len == 0 || len >= sizeof(ev->domain) ||
        !ingest_norm_domain(at + 1, len, ev->domain, &outlen)) {
        snprintf(err, errlen, "%s: not a recipient address: \"%.64s\"", where,
                 rcpt ? rcpt : "(missing)");
        return MP_ERR_INVAL;
    }
    return MP_OK;
}

static int adapt__tenant_set(const struct ingest_adapt_conf *conf, struct ingest_adapt_event *ev,
                             const char *t, const char *where, char *err, size_t errlen)
{
    int ok = t && eng_name_valid(t, strlen(t));
    if (ok && conf->tenant) {
        ok = strcmp(t, conf->tenant) == 0;
    } else if (ok && conf->ntenants) {
        ok = 0;
        for (size_t i = 0; !ok && i < conf->ntenants; i++)
            ok = strcmp(t, conf->tenants[i]) == 0;
    }
    if (!ok) {
        snprintf(err, errlen, "%s: tenant \"%.64s\" is not one this endpoint takes", where,
                 t ? t : "(missing)");
        return MP_ERR_INVAL;
    }
    memcpy(ev->tenant, t, strlen(t) + 1); /* eng_name_valid: at most 64 bytes */
    return MP_OK;
}

int adapt__fields(const struct ingest_adapt_conf *conf, json_t *fields,
                  struct ingest_adapt_event *ev, const char *where, char *err, size_t errlen)
{
    char sub[224];
    const char *t = conf->tenant;
    if (conf->tenant_field) {
        snprintf(sub, sizeof(sub), "%.100s.%.100s", where, conf->tenant_field);
        t = adapt__str(fields, conf->tenant_field);
    }
    int rc = adapt__tenant_set(conf, ev, t, conf->tenant_field ? sub : where, err, errlen);
    if (rc == MP_OK && conf->mailbox_field) {
        const char *m = adapt__str(fields, conf->mailbox_field);
        snprintf(sub, sizeof(sub), "%.100s.%.100s", where, conf->mailbox_field);
        if (m) /* absent: the feed's own sender stays */
            rc = adapt__mailbox(ev, m, sub, err, errlen);
    }
    return rc;
}

int adapt__id(struct ingest_adapt_event *ev, json_t *v, const char *where, char *err,
              size_t errlen)
{
    char num[32];
    const char *s = json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
        s = num;
    }
    if (!s || !*s || strlen(s) > INGEST_ADAPT_ID_MAX) {
        snprintf(err, errlen, "%s: expected an event id (1..%d bytes)", where,
                 INGEST_ADAPT_ID_MAX);
        return MP_ERR_INVAL;
    }
    snprintf(ev->id, sizeof(ev->id), "%s", s);
    return MP_OK;
}

int adapt__rfc3339(const char *s, int64_t *ms)
{
    struct tm tm = {0};
    int n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                     &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n != 19)
        return -1;
    const char *p = s + 19;
    int64_t frac = 0, scale = 1000;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++) {
            if (scale > 1)
                frac += (*p - '0') * (scale /= 10);
        }
    }
    /* Z, or an offset: Postmark's own examples carry -04:00 */
    int off_min = 0, oh, om, n2 = 0;
    if (strcmp(p, "Z") != 0) {
        if ((*p != '+' && *p != '-') || sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n2) != 2 ||
            n2 != 5 || p[6] != '\0' || oh > 23 || om > 59)
            return -1;
        off_min = (*p == '-' ? -1 : 1) * (oh * 60 + om);
    }
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_year < 1970)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *ms = ((int64_t)timegm(&tm) - off_min * 60LL) * 1000 + frac;
    return 0;
}

/* --- json: an array of Event objects in the proto's JSON names ---------- */

/* proto3 JSON takes the lowerCamelCase name and the original one */
static json_t *adapt__get2(json_t *o, const char *camel, const char *snake)
{
    json_t *v = json_object_get(o, camel);
    return v ? v : json_object_get(o, snake);
}

static int adapt__json_type(json_t *v, int *type)
{
    if (json_is_integer(v)) {
        *type = (int)json_integer_value(v);
        return *type >= ENG_TYPE_MIN && *type <= ENG_TYPE_MAX ? 0 : -1;
    }
    const char *s = json_string_value(v);
    char low[32];
    if (!s || strncmp(s, "EVENT_TYPE_", 11) != 0 || strlen(s + 11) >= sizeof(low))
        return -1;
    size_t i = 0;
    for (; s[11 + i]; i++)
        low[i] = (char)(s[11 + i] >= 'A' && s[11 + i] <= 'Z' ? s[11 + i] + 32 : s[11 + i]);
    low[i] = '\0';
    return eng_type_parse(low, type);
}

/* int64 fields come as numbers or (proto3 JSON) decimal strings */
static int adapt__json_ms(json_t *v, int64_t *ms)
{
    const char *s = json_string_value(v);
    char *end;
    if (json_is_integer(v)) {
        *ms = json_integer_value(v);
        return *ms > 0 ? 0 : -1;
    }
    if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 15)
        return -1;
    *ms = strtoll(s, &end, 10);
    return *ms > 0 ? 0 : -1;
}

static int adapt__json_one(const struct ingest_adapt_conf *conf, json_t *o, size_t i,
                           struct ingest_adapt_out *out, char *err, size_t errlen)
{
    char where[48];
    struct ingest_adapt_event *ev;
    snprintf(where, sizeof(where), "events[%zu]", i);
    if (!json_is_object(o)) {
        snprintf(err, errlen, "%s: expected an Event object", where);
        return MP_ERR_INVAL;
    }
    int rc = adapt__push(out, &ev, err, errlen);
    if (rc != MP_OK)
        return rc;
    const char *t = adapt__str(o, "tenant"), *m = adapt__str(o, "mailbox");
    const char *d = json_string_value(adapt__get2(o, "recipientDomain", "recipient_domain"));
    json_t *id = adapt__get2(o, "eventId", "event_id");
    size_t dl;
    if ((rc = adapt__tenant_set(conf, ev, t ? t : conf->tenant, where, err, errlen)) != MP_OK)
        return rc;
    if (m && *m && (rc = adapt__mailbox(ev, m, where, err, errlen)) != MP_OK)
        return rc;
    rc = MP_ERR_INVAL;
    if (!d || strlen(d) >= sizeof(ev->domain) || !ingest_norm_domain(d, strlen(d), ev->domain, &dl))
        snprintf(err, errlen, "%s.recipientDomain: expected a host name", where);
    else if (adapt__json_type(json_object_get(o, "type"), &ev->type) != 0)
        snprintf(err, errlen, "%s.type: expected EVENT_TYPE_<NAME> or 1..%d", where, ENG_TYPE_MAX);
    else if (adapt__json_ms(adapt__get2(o, "timeMs", "time_ms"), &ev->time_ms) != 0)
        snprintf(err, errlen, "%s.timeMs: expected Unix milliseconds", where);
    else if (id && (rc = adapt__id(ev, id, where, err, errlen)) != MP_OK)
        return rc;
    else
        rc = MP_OK;
    return rc;
}

int adapt__each(const struct ingest_adapt_conf *conf, json_t *root, const char *what,
                adapt_one_fn one, struct ingest_adapt_out *out, char *err, size_t errlen)
{
    if (!json_is_array(root)) {
        snprintf(err, errlen, "body: expected a JSON array of %s", what);
        return MP_ERR_INVAL;
    }
    int rc = MP_OK;
    for (size_t i = 0; rc == MP_OK && i < json_array_size(root); i++)
        rc = one(conf, json_array_get(root, i), i, out, err, errlen);
    return rc;
}

int ingest_adapt_parse(const struct ingest_adapt_conf *conf, const char *body, size_t len,
                       int64_t now_ms, struct ingest_adapt_out *out, char *err, size_t errlen)
{
    json_t *root;
    int rc = adapt__load(body, len, &root, err, errlen);
    if (rc != MP_OK)
        return rc;
    switch (conf->kind) {
    case INGEST_ADAPT_MAILGUN: rc = adapt__mailgun(conf, root, now_ms, out, err, errlen); break;
    case INGEST_ADAPT_POSTMARK: rc = adapt__postmark(conf, root, out, err, errlen); break;
    case INGEST_ADAPT_SENDGRID: rc = adapt__sendgrid(conf, root, out, err, errlen); break;
    case INGEST_ADAPT_SES: rc = adapt__ses(conf, root, out, err, errlen); break;
    default:
        rc = adapt__each(conf, root, "Event objects", adapt__json_one, out, err, errlen);
        break;
    }
    json_decref(root);
    if (rc != MP_OK)
        out->n = 0; /* nothing half-read */
    return rc;
}

int ingest_adapt_kind_parse(const char *s, enum ingest_adapt_kind *out)
{
    static const struct {
        const char *name;
        enum ingest_adapt_kind kind;
    } names[] = {{"json", INGEST_ADAPT_JSON},
                 {"mailgun", INGEST_ADAPT_MAILGUN},
                 {"postmark", INGEST_ADAPT_POSTMARK},
                 {"sendgrid", INGEST_ADAPT_SENDGRID},
                 {"ses", INGEST_ADAPT_SES}};
    for (size_t i = 0; i < MP_ARRAY_LEN(names); i++) {
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].kind;
            return 0;
        }
    }
    return -1;
}

/* Constant time over the expected length: an attacker learns no prefix. */
static int adapt__same(const char *want, const char *got)
{
    size_t wl = strlen(want), gl = strlen(got);
    return wl == gl && CRYPTO_memcmp(want, got, wl) == 0;
}

int ingest_adapt_bearer_ok(const char *token, const char *header)
{
    if (!token || !header || strncasecmp(header, "Bearer ", 7) != 0)
        return 0;
    return adapt__same(token, header + 7);
}

int adapt__b64(const char *s, size_t sl, unsigned char *out, size_t cap)
{
    if (sl == 0 || sl % 4 != 0 || sl / 4 * 3 > cap)
        return -1;
    int n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)sl);
    if (n < 0)
        return -1;
    /* EVP_DecodeBlock counts the '=' padding as zero bytes */
    return n - (s[sl - 1] == '=') - (s[sl - 2] == '=');
}

int ingest_adapt_basic_ok(const char *userpass, const char *header)
{
    unsigned char dec[512];
    if (!userpass || !header || strncasecmp(header, "Basic ", 6) != 0)
        return 0;
    const char *b64 = header + 6;
    int n = adapt__b64(b64, strlen(b64), dec, sizeof(dec) - 1);
    if (n < 0)
        return 0;
    dec[n] = '\0';
    return memchr(dec, '\0', (size_t)n) == NULL && adapt__same(userpass, (const char *)dec);
}
