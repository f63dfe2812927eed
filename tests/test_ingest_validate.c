/* test_ingest_validate.c — Check suite for ingest/ingest_validate.c (frame
 * decoding and per-event validation, the edge of the daemon).
 *
 * What it pins, rule by rule from ingest_validate.h:
 *   - must_accept() / must_reject() are the table helpers: each builds one
 *     Event, validates it in memory *and* after a pack/decode round trip (so
 *     the wire form of odd values such as type -1 is covered too), and
 *     checks the normalised mailbox/domain or the refusal reason;
 *   - every length limit at its edge (tenant 0/1/64/65, local part 64/65,
 *     mailbox 254/255, label 63/64, domain 253/254), every byte value in
 *     tenant, local part and domain label, the time window to the ms, and a
 *     NUL byte inside a wire string (which must not shorten the name);
 *   - ingest_decode_batch(): a real batch, the empty buffer, random bytes
 *     and a mutated real batch (fixed seeds), every truncation of a real
 *     batch (decodes exactly when the cut falls between top-level fields),
 *     and — picohttpparser-style — all of those placed flush against a
 *     PROT_NONE page, so any over-read faults (test_guard_faults proves the
 *     guard works);
 *   - ingest_reason_name(): never NULL, one distinct name per reason.
 *
 * The name buffer handed to the validator carries a canary tail, so a write
 * past INGEST_NAMEBUF_LEN fails even without ASan. No state is shared
 * between cases; run with CK_FORK=yes as scripts/run-tests.sh does.
 */
#include <check.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "eng_types.h"
#include "ingest_validate.h"
#include "mp.h"
#include "check_main.h"
#include "eng_name.h"

#define NOW 1795000000000LL /* a fixed "now" (2026-11-18 UTC), not on a bucket edge */
#define RETENTION (35 * 24 * 3600 * 1000LL)
#define FUTURE INGEST_FUTURE_MS_DEFAULT
#define CANARY_LEN 64
#define CANARY_BYTE 0xA5

static const struct ingest_limits limits = {.retention_ms = RETENTION, .future_ms = FUTURE};

/* --- events, validation and the table helpers -------------------------- */

struct fields {
    const char *tenant, *mailbox, *domain;
    int type;
    int64_t time_ms;
};

static void fields_to_event(const struct fields *f, Mailpulse__V1__Event *e)
{
    mailpulse__v1__event__init(e);
    e->tenant = (char *)f->tenant;
    e->mailbox = (char *)f->mailbox;
    e->recipient_domain = (char *)f->domain;
    e->type = (Mailpulse__V1__EventType)f->type;
    e->time_ms = f->time_ms;
}

/* A name buffer of INGEST_NAMEBUF_LEN bytes followed by a canary. */
static char *namebuf_new(void)
{
    char *b = malloc(INGEST_NAMEBUF_LEN + CANARY_LEN);
    ck_assert_ptr_nonnull(b);
    memset(b, 0, INGEST_NAMEBUF_LEN);
    memset(b + INGEST_NAMEBUF_LEN, CANARY_BYTE, CANARY_LEN);
    return b;
}

static void namebuf_free(const char *file, int line, char *b)
{
    for (size_t i = 0; i < CANARY_LEN; i++)
        ck_assert_msg((unsigned char)b[INGEST_NAMEBUF_LEN + i] == CANARY_BYTE,
                      "%s:%d: validator wrote past INGEST_NAMEBUF_LEN (byte %zu)", file, line,
                      INGEST_NAMEBUF_LEN + i);
    free(b);
}

/* Packs one event as a one-event batch and decodes it again; the caller
 * frees the returned batch. */
static Mailpulse__V1__EventBatch *round_trip(const char *file, int line,
                                             const Mailpulse__V1__Event *e)
{
    Mailpulse__V1__Event *ep = (Mailpulse__V1__Event *)e;
    Mailpulse__V1__EventBatch b = MAILPULSE__V1__EVENT_BATCH__INIT;
    b.n_events = 1;
    b.events = &ep;
    size_t n = mailpulse__v1__event_batch__get_packed_size(&b);
    uint8_t *wire = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(wire);
    ck_assert_uint_eq(mailpulse__v1__event_batch__pack(&b, wire), n);
    Mailpulse__V1__EventBatch *d = NULL;
    int rc = ingest_decode_batch(wire, n, &d);
    free(wire);
    ck_assert_msg(rc == MP_OK, "%s:%d: a packed batch did not decode (%s)", file, line,
                  mp_strerror(rc));
    ck_assert_msg(d->n_events == 1, "%s:%d: decoded %zu events, want 1", file, line, d->n_events);
    return d;
}

#define must_accept(tenant, mailbox, domain, type, time_ms, want_mailbox, want_domain)        \
    must_accept_at(__FILE__, __LINE__,                                                       \
                   &(struct fields){(tenant), (mailbox), (domain), (type), (time_ms)},       \
                   (want_mailbox), (want_domain))
#define must_reject(tenant, mailbox, domain, type, time_ms, reason)                           \
    must_reject_at(__FILE__, __LINE__,                                                       \
                   &(struct fields){(tenant), (mailbox), (domain), (type), (time_ms)}, (reason))

static void check_accepted(const char *file, int line, const char *path, int rc,
                           const Mailpulse__V1__Event *e, const char *buf,
                           const struct eng_event *ev, const char *want_mailbox,
                           const char *want_domain)
{
    ck_assert_msg(rc == INGEST_OK, "%s:%d (%s): mailbox \"%s\" domain \"%s\": refused as %s",
                  file, line, path, e->mailbox, e->recipient_domain, ingest_reason_name(rc));
    ck_assert_msg(ev->tenant == e->tenant && ev->tenant_len == strlen(e->tenant),
                  "%s:%d (%s): tenant does not point at the event's tenant", file, line, path);
    ck_assert_msg(ev->mailbox >= buf && ev->mailbox < buf + INGEST_NAMEBUF_LEN &&
                      ev->domain >= buf && ev->domain < buf + INGEST_NAMEBUF_LEN,
                  "%s:%d (%s): normalised names must live in the caller's buffer", file, line,
                  path);
    ck_assert_msg(ev->mailbox_len == strlen(want_mailbox) &&
                      memcmp(ev->mailbox, want_mailbox, ev->mailbox_len) == 0,
                  "%s:%d (%s): mailbox \"%.*s\", want \"%s\"", file, line, path,
                  (int)ev->mailbox_len, ev->mailbox, want_mailbox);
    ck_assert_msg(ev->domain_len == strlen(want_domain) &&
                      memcmp(ev->domain, want_domain, ev->domain_len) == 0,
                  "%s:%d (%s): domain \"%.*s\", want \"%s\"", file, line, path,
                  (int)ev->domain_len, ev->domain, want_domain);
    ck_assert_msg(ev->type == (int)e->type && ev->time_ms == e->time_ms,
                  "%s:%d (%s): type/time not carried over", file, line, path);
    /* The two names must not overlap: the engine reads both afterwards. */
    ck_assert_msg(ev->mailbox + ev->mailbox_len <= ev->domain ||
                      ev->domain + ev->domain_len <= ev->mailbox,
                  "%s:%d (%s): mailbox and domain overlap in the buffer", file, line, path);
}

static void must_accept_at(const char *file, int line, const struct fields *f,
                           const char *want_mailbox, const char *want_domain)
{
    Mailpulse__V1__Event e;
    fields_to_event(f, &e);
    char *buf = namebuf_new();
    struct eng_event ev;
    memset(&ev, 0, sizeof(ev));
    int rc = ingest_validate_event(&e, NOW, &limits, buf, &ev);
    check_accepted(file, line, "in memory", rc, &e, buf, &ev, want_mailbox, want_domain);
    namebuf_free(file, line, buf);

    Mailpulse__V1__EventBatch *d = round_trip(file, line, &e);
    buf = namebuf_new();
    memset(&ev, 0, sizeof(ev));
    rc = ingest_validate_event(d->events[0], NOW, &limits, buf, &ev);
    check_accepted(file, line, "after decode", rc, d->events[0], buf, &ev, want_mailbox,
                   want_domain);
    namebuf_free(file, line, buf);
    ingest_batch_free(d);
}

static void must_reject_at(const char *file, int line, const struct fields *f, int reason)
{
    Mailpulse__V1__Event e;
    fields_to_event(f, &e);
    char *buf = namebuf_new();
    struct eng_event ev;
    int rc = ingest_validate_event(&e, NOW, &limits, buf, &ev);
    ck_assert_msg(rc == reason,
                  "%s:%d: tenant \"%s\" mailbox \"%s\" domain \"%s\" type %d time %lld: got %s, "
                  "want %s",
                  file, line, f->tenant, f->mailbox, f->domain, f->type, (long long)f->time_ms,
                  ingest_reason_name(rc), ingest_reason_name(reason));
    namebuf_free(file, line, buf);

    Mailpulse__V1__EventBatch *d = round_trip(file, line, &e);
    buf = namebuf_new();
    rc = ingest_validate_event(d->events[0], NOW, &limits, buf, &ev);
    ck_assert_msg(rc == reason, "%s:%d: after decode: got %s, want %s", file, line,
                  ingest_reason_name(rc), ingest_reason_name(reason));
    namebuf_free(file, line, buf);
    ingest_batch_free(d);
}

/* --- string builders for the length edges ------------------------------- */

/* n copies of c, NUL-terminated; free() it. */
static char *rep(char c, size_t n)
{
    char *s = malloc(n + 1);
    ck_assert_ptr_nonnull(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* A host name of exactly n bytes: labels of 63 `letter`s joined by dots,
 * the last one shorter. n % 64 must not be 0 (that would end in a dot). */
static char *host(size_t n, char letter)
{
    ck_assert_msg(n % 64 != 0, "host(%zu) would end in a dot", n);
    char *s = malloc(n + 1);
    ck_assert_ptr_nonnull(s);
    for (size_t i = 0; i < n; i++)
        s[i] = ((i + 1) % 64 == 0) ? '.' : letter;
    s[n] = '\0';
    return s;
}

/* printf into a fresh string; free() it. */
static char *fmt(const char *f, const char *a, const char *b)
{
    size_t n = strlen(f) + strlen(a) + strlen(b) + 1;
    char *s = malloc(n);
    ck_assert_ptr_nonnull(s);
    snprintf(s, n, f, a, b);
    return s;
}

static char *lower(const char *src)
{
    char *s = strdup(src);
    ck_assert_ptr_nonnull(s);
    for (char *p = s; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return s;
}

/* --- the fixed tables ---------------------------------------------------- */

#define MB "alice@example.com"
#define DOM "gmail.com"

struct accept_case {
    struct fields f;
    const char *want_mailbox, *want_domain;
};

static const struct accept_case accept_cases[] = {
    /* tenant: every allowed class of character */
    {{"acme", MB, DOM, 1, NOW}, MB, DOM},
    {{"Acme-EU_2.prod", MB, DOM, 1, NOW}, MB, DOM},
    {{"._-", MB, DOM, 1, NOW}, MB, DOM},
    {{"0", MB, DOM, 1, NOW}, MB, DOM},
    /* mailbox: lower-cased in both parts, printable punctuation allowed */
    {{"acme", "Alice.Smith@Example.COM", DOM, 1, NOW}, "alice.smith@example.com", DOM},
    {{"acme", "ALICE@EXAMPLE.COM", DOM, 1, NOW}, "alice@example.com", DOM},
    {{"acme", "a@b", DOM, 1, NOW}, "a@b", DOM},
    {{"acme", "a+tag@x.io", DOM, 1, NOW}, "a+tag@x.io", DOM},
    {{"acme", "!#$%&'*+/=?^_`{|}~-.\"(),:;<>[\\]@x.io", DOM, 1, NOW},
     "!#$%&'*+/=?^_`{|}~-.\"(),:;<>[\\]@x.io", DOM},
    {{"acme", "bounce@mail-01.example.co.uk", DOM, 1, NOW}, "bounce@mail-01.example.co.uk",
     DOM},
    /* the host part of a mailbox follows the host-name rule, trailing dot too */
    {{"acme", "alice@Example.com.", DOM, 1, NOW}, "alice@example.com", DOM},
    /* domain: lower-cased, one trailing dot dropped, digits and inner hyphens */
    {{"acme", MB, "Gmail.COM", 1, NOW}, MB, "gmail.com"},
    {{"acme", MB, "GMAIL.COM.", 1, NOW}, MB, "gmail.com"},
    {{"acme", MB, "gmail.com.", 1, NOW}, MB, "gmail.com"},
    {{"acme", MB, "localhost", 1, NOW}, MB, "localhost"},
    {{"acme", MB, "a", 1, NOW}, MB, "a"},
    {{"acme", MB, "123.45", 1, NOW}, MB, "123.45"},
    {{"acme", MB, "a-b--c.x-y.com", 1, NOW}, MB, "a-b--c.x-y.com"},
    {{"acme", MB, "xn--bcher-kva.example", 1, NOW}, MB, "xn--bcher-kva.example"},
    /* time: exactly the oldest and the furthest-ahead instants allowed */
    {{"acme", MB, DOM, 1, NOW - RETENTION}, MB, DOM},
    {{"acme", MB, DOM, 1, NOW - RETENTION + 1}, MB, DOM},
    {{"acme", MB, DOM, 1, NOW + FUTURE}, MB, DOM},
    {{"acme", MB, DOM, 1, NOW + FUTURE - 1}, MB, DOM},
};

struct reject_case {
    struct fields f;
    int reason;
};

static const struct reject_case reject_cases[] = {
    /* tenant */
    {{"", MB, DOM, 1, NOW}, INGEST_REJ_TENANT},
    {{"ac me", MB, DOM, 1, NOW}, INGEST_REJ_TENANT},
    {{"acme/eu", MB, DOM, 1, NOW}, INGEST_REJ_TENANT},
    {{"acme@x", MB, DOM, 1, NOW}, INGEST_REJ_TENANT},
    {{"acme:1", MB, DOM, 1, NOW}, INGEST_REJ_TENANT},
    {{"acme\n", MB, DOM, 1, NOW}, INGEST_REJ_TENANT},
    {{"\xc3\xa4" "cme", MB, DOM, 1, NOW}, INGEST_REJ_TENANT},
    /* mailbox: the '@' */
    {{"acme", "", DOM, 1, NOW}, INGEST_REJ_MAILBOX},
    {{"acme", "alice.example.com", DOM, 1, NOW}, INGEST_REJ_MAILBOX},
    {{"acme", "a@b@example.com", DOM, 1, NOW}, INGEST_REJ_MAILBOX},
    {{"acme", "alice@@example.com", DOM, 1, NOW}, INGEST_REJ_MAILBOX},
    {{"acme", "@example.com", DOM, 1, NOW}, INGEST_REJ_MAILBOX},
    {{"acme", "alice@", DOM, 1, NOW}, INGEST_REJ_MAILBOX},
    {{"acme", "@", DOM, 1, NOW}, INGEST_REJ_MAILBOX},
    /* mailbox: spaces, controls, non-ASCII in the local part */
    {{"acme", "al ice@example.com", DOM, 1, NOW}, INGEST_REJ_MAILBOX},
    {{"acme", " alice@example.com", DOM, 1, NOW}, INGEST_REJ_MAILBOX},
    {{"acme", "alice @example.com", DOM, 1, NOW}, INGEST_REJ_MAILBOX},
    {{"acme", "al\tice@example.com", DOM, 1, NOW}, INGEST_REJ_MAILBOX},
    {{"acme", "al\x01ice@example.com", DOM, 1, NOW}, INGEST_REJ_MAILBOX},
    {{"acme", "al\x7fice@example.com", DOM, 1, NOW}, INGEST_REJ_MAILBOX},
    {{"acme", "j\xc3\xb6rg@example.com", DOM, 1, NOW}, INGEST_REJ_MAILBOX},
    /* mailbox: the host part must be a host name */
    {{"acme", "alice@ example.com", DOM, 1, NOW}, INGEST_REJ_MAILBOX},
    {{"acme", "alice@example.com ", DOM, 1, NOW}, INGEST_REJ_MAILBOX},
    {{"acme", "alice@ex\xc3\xa4mple.com", DOM, 1, NOW}, INGEST_REJ_MAILBOX},
    {{"acme", "alice@-example.com", DOM, 1, NOW}, INGEST_REJ_MAILBOX},
    {{"acme", "alice@example-.com", DOM, 1, NOW}, INGEST_REJ_MAILBOX},
    {{"acme", "alice@example..com", DOM, 1, NOW}, INGEST_REJ_MAILBOX},
    {{"acme", "alice@.example.com", DOM, 1, NOW}, INGEST_REJ_MAILBOX},
    {{"acme", "alice@example.com..", DOM, 1, NOW}, INGEST_REJ_MAILBOX},
    {{"acme", "alice@.", DOM, 1, NOW}, INGEST_REJ_MAILBOX},
    {{"acme", "alice@ex_ample.com", DOM, 1, NOW}, INGEST_REJ_MAILBOX},
    {{"acme", "alice@[192.0.2.1]", DOM, 1, NOW}, INGEST_REJ_MAILBOX},
    /* domain */
    {{"acme", MB, "", 1, NOW}, INGEST_REJ_DOMAIN},
    {{"acme", MB, ".", 1, NOW}, INGEST_REJ_DOMAIN},
    {{"acme", MB, "..", 1, NOW}, INGEST_REJ_DOMAIN},
    {{"acme", MB, "a..b", 1, NOW}, INGEST_REJ_DOMAIN},
    {{"acme", MB, ".gmail.com", 1, NOW}, INGEST_REJ_DOMAIN},
    {{"acme", MB, "gmail.com..", 1, NOW}, INGEST_REJ_DOMAIN},
    {{"acme", MB, "-gmail.com", 1, NOW}, INGEST_REJ_DOMAIN},
    {{"acme", MB, "gmail-.com", 1, NOW}, INGEST_REJ_DOMAIN},
    {{"acme", MB, "gmail.-com", 1, NOW}, INGEST_REJ_DOMAIN},
    {{"acme", MB, "gmail.com-", 1, NOW}, INGEST_REJ_DOMAIN},
    {{"acme", MB, "gmail.com-.", 1, NOW}, INGEST_REJ_DOMAIN},
    {{"acme", MB, "-", 1, NOW}, INGEST_REJ_DOMAIN},
    {{"acme", MB, "_dmarc.example.com", 1, NOW}, INGEST_REJ_DOMAIN},
    {{"acme", MB, "ex_ample.com", 1, NOW}, INGEST_REJ_DOMAIN},
    {{"acme", MB, "ex\xc3\xa4mple.com", 1, NOW}, INGEST_REJ_DOMAIN},
    {{"acme", MB, "\xe4xample.com", 1, NOW}, INGEST_REJ_DOMAIN},
    {{"acme", MB, "gmail com", 1, NOW}, INGEST_REJ_DOMAIN},
    {{"acme", MB, " gmail.com", 1, NOW}, INGEST_REJ_DOMAIN},
    {{"acme", MB, "gmail.com/x", 1, NOW}, INGEST_REJ_DOMAIN},
    {{"acme", MB, "alice@gmail.com", 1, NOW}, INGEST_REJ_DOMAIN},
    {{"acme", MB, "[192.0.2.1]", 1, NOW}, INGEST_REJ_DOMAIN},
    /* type */
    {{"acme", MB, DOM, 0, NOW}, INGEST_REJ_TYPE},
    {{"acme", MB, DOM, 13, NOW}, INGEST_REJ_TYPE},
    {{"acme", MB, DOM, -1, NOW}, INGEST_REJ_TYPE},
    {{"acme", MB, DOM, 1000, NOW}, INGEST_REJ_TYPE},
    {{"acme", MB, DOM, INT32_MIN, NOW}, INGEST_REJ_TYPE},
    {{"acme", MB, DOM, INT32_MAX, NOW}, INGEST_REJ_TYPE},
    /* time */
    {{"acme", MB, DOM, 1, 0}, INGEST_REJ_TIME_MISSING},
    {{"acme", MB, DOM, 1, NOW - RETENTION - 1}, INGEST_REJ_TIME_OLD},
    {{"acme", MB, DOM, 1, 1}, INGEST_REJ_TIME_OLD},
    {{"acme", MB, DOM, 1, -1}, INGEST_REJ_TIME_OLD},
    {{"acme", MB, DOM, 1, INT64_MIN}, INGEST_REJ_TIME_OLD},
    {{"acme", MB, DOM, 1, NOW + FUTURE + 1}, INGEST_REJ_TIME_FUTURE},
    {{"acme", MB, DOM, 1, INT64_MAX}, INGEST_REJ_TIME_FUTURE},
};

/* type: every one of 1..12 (a loop test, _i = the type) */
START_TEST(test_every_type)
{
    const struct fields f = {"acme", MB, DOM, _i, NOW};
    must_accept_at("every_type", _i, &f, MB, DOM);
}
END_TEST

START_TEST(test_accept_table)
{
    const struct accept_case *c = &accept_cases[_i];
    /* "accept_cases:N" in a failure names the row */
    must_accept_at("accept_cases", _i, &c->f, c->want_mailbox, c->want_domain);
}
END_TEST

START_TEST(test_reject_table)
{
    const struct reject_case *c = &reject_cases[_i];
    must_reject_at("reject_cases", _i, &c->f, c->reason);
}
END_TEST

/* --- length edges ----------------------------------------------------------- */

START_TEST(test_tenant_lengths)
{
    char *t64 = rep('t', 64), *t65 = rep('t', 65), *u64 = rep('T', 64);
    must_reject("", MB, DOM, 1, NOW, INGEST_REJ_TENANT);
    must_accept("t", MB, DOM, 1, NOW, MB, DOM);
    must_accept(t64, MB, DOM, 1, NOW, MB, DOM);
    must_accept(u64, MB, DOM, 1, NOW, MB, DOM); /* tenants keep their case */
    must_reject(t65, MB, DOM, 1, NOW, INGEST_REJ_TENANT);
    free(t64);
    free(t65);
    free(u64);
}
END_TEST

START_TEST(test_mailbox_local_lengths)
{
    char *l64 = rep('l', 64), *l65 = rep('l', 65), *u64 = rep('L', 64);
    char *m64 = fmt("%s@%s", l64, "example.com"), *m65 = fmt("%s@%s", l65, "example.com");
    char *mu64 = fmt("%s@%s", u64, "EXAMPLE.com");
    char *want_u64 = lower(mu64);
    must_accept("acme", "l@example.com", DOM, 1, NOW, "l@example.com", DOM);
    must_accept("acme", m64, DOM, 1, NOW, m64, DOM);
    must_accept("acme", mu64, DOM, 1, NOW, want_u64, DOM);
    must_reject("acme", m65, DOM, 1, NOW, INGEST_REJ_MAILBOX);
    free(l64), free(l65), free(u64), free(m64), free(m65), free(mu64), free(want_u64);
}
END_TEST

START_TEST(test_mailbox_total_lengths)
{
    /* 64 + '@' + 189 = 254 and one more; then a 1-byte local part with a
     * host that is itself valid (253) but makes the whole 255. */
    char *l64 = rep('l', 64), *h189 = host(189, 'h'), *h190 = host(190, 'h');
    char *h252 = host(252, 'h'), *h253 = host(253, 'h'), *H189 = host(189, 'H');
    char *m254 = fmt("%s@%s", l64, h189), *m255 = fmt("%s@%s", l64, h190);
    char *s254 = fmt("%s@%s", "x", h252), *s255 = fmt("%s@%s", "x", h253);
    char *U254 = fmt("%s@%s", "ABC", H189);
    char *want_U254 = lower(U254);
    ck_assert_uint_eq(strlen(m254), 254);
    ck_assert_uint_eq(strlen(m255), 255);
    ck_assert_uint_eq(strlen(s254), 254);
    ck_assert_uint_eq(strlen(s255), 255);
    must_accept("acme", m254, DOM, 1, NOW, m254, DOM);
    must_reject("acme", m255, DOM, 1, NOW, INGEST_REJ_MAILBOX);
    must_accept("acme", s254, DOM, 1, NOW, s254, DOM);
    must_reject("acme", s255, DOM, 1, NOW, INGEST_REJ_MAILBOX);
    must_accept("acme", U254, DOM, 1, NOW, want_U254, DOM);
    free(l64), free(h189), free(h190), free(h252), free(h253), free(H189);
    free(m254), free(m255), free(s254), free(s255), free(U254), free(want_U254);
}
END_TEST

START_TEST(test_domain_label_lengths)
{
    char *a63 = rep('a', 63), *a64 = rep('a', 64), *A63 = rep('A', 63);
    char *first63 = fmt("%s.%s", a63, "com"), *first64 = fmt("%s.%s", a64, "com");
    char *last63 = fmt("%s.%s", "x", a63), *last64 = fmt("%s.%s", "x", a64);
    char *mid63 = fmt("x.%s.%s", a63, "com"), *mid64 = fmt("x.%s.%s", a64, "com");
    char *upper63 = fmt("%s.%s", A63, "COM"), *want_upper63 = lower(upper63);
    char *mb63 = fmt("alice@%s.%s", a63, "com"), *mb64 = fmt("alice@%s.%s", a64, "com");

    must_accept("acme", MB, a63, 1, NOW, MB, a63);
    must_reject("acme", MB, a64, 1, NOW, INGEST_REJ_DOMAIN);
    must_accept("acme", MB, first63, 1, NOW, MB, first63);
    must_reject("acme", MB, first64, 1, NOW, INGEST_REJ_DOMAIN);
    must_accept("acme", MB, mid63, 1, NOW, MB, mid63);
    must_reject("acme", MB, mid64, 1, NOW, INGEST_REJ_DOMAIN);
    must_accept("acme", MB, last63, 1, NOW, MB, last63);
    must_reject("acme", MB, last64, 1, NOW, INGEST_REJ_DOMAIN);
    must_accept("acme", MB, upper63, 1, NOW, MB, want_upper63);
    /* the same limit inside a mailbox's host part */
    must_accept("acme", mb63, DOM, 1, NOW, mb63, DOM);
    must_reject("acme", mb64, DOM, 1, NOW, INGEST_REJ_MAILBOX);
    free(a63), free(a64), free(A63), free(first63), free(first64), free(last63);
    free(last64), free(mid63), free(mid64), free(upper63), free(want_upper63);
    free(mb63), free(mb64);
}
END_TEST

START_TEST(test_domain_total_lengths)
{
    char *h252 = host(252, 'd'), *h253 = host(253, 'd'), *h254 = host(254, 'd');
    char *H253 = host(253, 'D'), *want_H253 = lower(H253);
    char *h252dot = fmt("%s%s", h252, "."), *h253dot = fmt("%s%s", h253, ".");
    char *h254dot = fmt("%s%s", h254, ".");
    must_accept("acme", MB, h252, 1, NOW, MB, h252);
    must_accept("acme", MB, h253, 1, NOW, MB, h253);
    must_reject("acme", MB, h254, 1, NOW, INGEST_REJ_DOMAIN);
    must_accept("acme", MB, H253, 1, NOW, MB, want_H253);
    /* the trailing dot is not part of the name: 253 + '.' is still 253 */
    must_accept("acme", MB, h252dot, 1, NOW, MB, h252);
    must_accept("acme", MB, h253dot, 1, NOW, MB, h253);
    must_reject("acme", MB, h254dot, 1, NOW, INGEST_REJ_DOMAIN);
    free(h252), free(h253), free(h254), free(H253), free(want_H253);
    free(h252dot), free(h253dot), free(h254dot);
}
END_TEST

/* The longest names the contract allows, both at once and in upper case:
 * the most the validator ever writes into the name buffer. */
START_TEST(test_longest_names_fit_the_buffer)
{
    char *L64 = rep('L', 64), *H189 = host(189, 'H'), *D253 = host(253, 'D');
    char *mbox = fmt("%s@%s", L64, H189), *dom = fmt("%s%s", D253, ".");
    char *want_m = lower(mbox), *want_d = lower(D253);
    ck_assert_uint_eq(strlen(mbox), 254);
    ck_assert_uint_eq(strlen(dom), 254);
    must_accept("acme", mbox, dom, ENG_SPAM_TRAP, NOW, want_m, want_d);
    free(L64), free(H189), free(D253), free(mbox), free(dom), free(want_m), free(want_d);
}
END_TEST

/* --- every byte value ------------------------------------------------------- */

static int is_alnum_ascii(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

START_TEST(test_tenant_bytes)
{
    for (int c = 1; c < 256; c++) {
        char tenant[] = {'a', (char)c, 'b', '\0'};
        if (is_alnum_ascii(c) || c == '.' || c == '_' || c == '-')
            must_accept(tenant, MB, DOM, 1, NOW, MB, DOM);
        else
            must_reject(tenant, MB, DOM, 1, NOW, INGEST_REJ_TENANT);
    }
}
END_TEST

/* Local part: printable ASCII without space; '@' is the separator. */
START_TEST(test_local_part_bytes)
{
    for (int c = 1; c < 256; c++) {
        if (c == '@')
            continue;
        char mbox[] = {'a', (char)c, 'b', '@', 'x', '.', 'i', 'o', '\0'};
        if (c > ' ' && c < 0x7f) {
            char want[sizeof(mbox)];
            memcpy(want, mbox, sizeof(mbox));
            if (c >= 'A' && c <= 'Z')
                want[1] = (char)(c - 'A' + 'a');
            must_accept("acme", mbox, DOM, 1, NOW, want, DOM);
        } else {
            must_reject("acme", mbox, DOM, 1, NOW, INGEST_REJ_MAILBOX);
        }
    }
}
END_TEST

/* Host names: [a-z0-9-] after lower-casing, '.' between labels; the same
 * rule for the recipient domain and the mailbox's host part. */
START_TEST(test_host_bytes)
{
    for (int c = 1; c < 256; c++) {
        char dom[] = {'a', (char)c, 'b', '.', 'c', 'o', 'm', '\0'};
        char mbox[] = {'u', '@', 'a', (char)c, 'b', '.', 'i', 'o', '\0'};
        if (is_alnum_ascii(c) || c == '-' || c == '.') {
            char *want_d = lower(dom), *want_m = lower(mbox);
            must_accept("acme", MB, dom, 1, NOW, MB, want_d);
            must_accept("acme", mbox, DOM, 1, NOW, want_m, DOM);
            free(want_d), free(want_m);
        } else {
            must_reject("acme", MB, dom, 1, NOW, INGEST_REJ_DOMAIN);
            must_reject("acme", mbox, DOM, 1, NOW, INGEST_REJ_MAILBOX);
        }
    }
}
END_TEST

/* A proto3 string may carry a NUL byte; protobuf-c hands it over as a C
 * string, so a validator that stops at the NUL sees only a prefix. The wire
 * value "acme\0x" is not a tenant of [A-Za-z0-9._-], "gmail\0com" not a
 * host name: both must be refused, not counted under "acme" / "gmail". */
START_TEST(test_wire_nul_in_names)
{
    static const struct {
        const char *tenant, *mailbox, *domain;
        const char *marker; /* the byte after this prefix becomes NUL */
        int reason;
    } cases[] = {
        {"acmeZx", MB, DOM, "acme", INGEST_REJ_TENANT},
        {"acme", "alice@example.comZx", DOM, "alice@example.com", INGEST_REJ_MAILBOX},
        {"acme", MB, "gmailZcom", "gmail", INGEST_REJ_DOMAIN},
    };
    char report[512] = "";
    int nfail = 0;
    for (size_t i = 0; i < MP_ARRAY_LEN(cases); i++) {
        Mailpulse__V1__Event e;
        fields_to_event(&(struct fields){cases[i].tenant, cases[i].mailbox, cases[i].domain, 1,
                                         NOW},
                        &e);
        Mailpulse__V1__Event *ep = &e;
        Mailpulse__V1__EventBatch b = MAILPULSE__V1__EVENT_BATCH__INIT;
        b.n_events = 1;
        b.events = &ep;
        uint8_t wire[256];
        size_t n = mailpulse__v1__event_batch__get_packed_size(&b);
        ck_assert_uint_le(n, sizeof(wire));
        mailpulse__v1__event_batch__pack(&b, wire);
        /* find the one 'Z' that follows the marker and make it a NUL */
        size_t ml = strlen(cases[i].marker), hits = 0;
        for (size_t j = 0; j + ml < n; j++)
            if (memcmp(wire + j, cases[i].marker, ml) == 0 && wire[j + ml] == 'Z') {
                wire[j + ml] = '\0';
                hits++;
            }
        ck_assert_uint_eq(hits, 1);

        Mailpulse__V1__EventBatch *d = NULL;
        ck_assert_int_eq(ingest_decode_batch(wire, n, &d), MP_OK);
        ck_assert_uint_eq(d->n_events, 1);
        char *buf = namebuf_new();
        struct eng_event ev;
        int rc = ingest_validate_event(d->events[0], NOW, &limits, buf, &ev);
        if (rc != cases[i].reason) {
            /* show the name the table would have counted */
            const char *got = i == 0 ? ev.tenant : i == 1 ? ev.mailbox : ev.domain;
            size_t gotlen = i == 0 ? ev.tenant_len : i == 1 ? ev.mailbox_len : ev.domain_len;
            size_t used = strlen(report);
            snprintf(report + used, sizeof(report) - used,
                     " [\"%s\\0...\": got %s as \"%.*s\", want %s]", cases[i].marker,
                     ingest_reason_name(rc), rc == INGEST_OK ? (int)gotlen : 0,
                     rc == INGEST_OK ? got : "", ingest_reason_name(cases[i].reason));
            nfail++;
        }
        namebuf_free(__FILE__, __LINE__, buf);
        ingest_batch_free(d);
    }
    ck_assert_msg(nfail == 0, "%d of %zu names with a NUL byte were not refused:%s", nfail,
                  MP_ARRAY_LEN(cases), report);
}
END_TEST

/* --- building blocks: they honour `len`, not the NUL -------------------------- */

START_TEST(test_building_blocks_use_len)
{
    ck_assert_int_eq(eng_name_valid("acme!!", 4), 1);
    ck_assert_int_eq(eng_name_valid("acme!!", 5), 0);
    ck_assert_int_eq(eng_name_valid("acme", 0), 0);

    size_t out = 0;
    char *dst = malloc(10); /* exactly len + 1: ASan sees any write past it */
    ck_assert_int_eq(ingest_norm_domain("Gmail.COM!!!", 9, dst, &out), 1);
    ck_assert_uint_eq(out, 9);
    ck_assert_str_eq(dst, "gmail.com");
    free(dst);

    dst = malloc(11);
    ck_assert_int_eq(ingest_norm_domain("gmail.com.xyz", 10, dst, &out), 1);
    ck_assert_uint_eq(out, 9);
    ck_assert_str_eq(dst, "gmail.com");
    free(dst);

    dst = malloc(9);
    ck_assert_int_eq(ingest_norm_mailbox("Bob@X.io>>>", 8, dst, &out), 1);
    ck_assert_uint_eq(out, 8);
    ck_assert_str_eq(dst, "bob@x.io");
    free(dst);

    /* the length limits hold for the building blocks on their own too */
    char *l64 = rep('l', 64), *h189 = host(189, 'h'), *h190 = host(190, 'h');
    char *h253 = host(253, 'h'), *h254 = host(254, 'h'), *t65 = rep('t', 65);
    char *m254 = fmt("%s@%s", l64, h189), *m255 = fmt("%s@%s", l64, h190);
    char big[INGEST_NAMEBUF_LEN];
    ck_assert_int_eq(ingest_norm_mailbox(m254, 254, big, &out), 1);
    ck_assert_int_eq(ingest_norm_mailbox(m255, 255, big, &out), 0);
    ck_assert_int_eq(ingest_norm_domain(h253, 253, big, &out), 1);
    ck_assert_int_eq(ingest_norm_domain(h254, 254, big, &out), 0);
    ck_assert_int_eq(eng_name_valid(t65, 64), 1);
    ck_assert_int_eq(eng_name_valid(t65, 65), 0);
    free(l64), free(h189), free(h190), free(h253), free(h254), free(t65);
    free(m254), free(m255);

    char small[8];
    ck_assert_int_eq(ingest_norm_mailbox("bob@x.io", 7, small, &out), 1); /* "bob@x.i" */
    ck_assert_str_eq(small, "bob@x.i");
    ck_assert_int_eq(ingest_norm_mailbox("bob@x.io", 4, small, &out), 0); /* "bob@" */
}
END_TEST

/* --- decoding ----------------------------------------------------------------- */

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

#define SAMPLE_EVENTS 3
#define SAMPLE_SEQUENCE ((1ULL << 40) + 5) /* a 6-byte varint */

/* A real batch with every field set somewhere, multi-byte lengths and
 * varints, and a negative enum (a 10-byte varint). */
struct sample {
    Mailpulse__V1__Event ev[SAMPLE_EVENTS];
    char *long_domain;
    uint8_t *wire;
    size_t len;
    /* Offsets where a top-level field ends: a cut exactly there leaves a
     * well-formed, shorter batch; a cut anywhere else must be refused. */
    size_t bound[SAMPLE_EVENTS + 3];
    size_t nbound;
};

static void sample_open(struct sample *s)
{
    memset(s, 0, sizeof(*s));
    s->long_domain = host(200, 'q'); /* pushes event 2 past 127 bytes */
    for (int i = 0; i < SAMPLE_EVENTS; i++)
        mailpulse__v1__event__init(&s->ev[i]);
    s->ev[0].tenant = "acme";
    s->ev[0].mailbox = "Alice@Example.com";
    s->ev[0].recipient_domain = "Gmail.COM";
    s->ev[0].type = MAILPULSE__V1__EVENT_TYPE__EVENT_TYPE_SENT;
    s->ev[0].time_ms = NOW;
    s->ev[0].event_id = "evt-0001";
    s->ev[0].campaign = "spring";
    s->ev[0].sent_time_ms = NOW - 1000;
    s->ev[1].tenant = "globex";
    s->ev[1].mailbox = "bob@globex.io";
    s->ev[1].recipient_domain = "yahoo.com";
    s->ev[1].type = (Mailpulse__V1__EventType)-1;
    s->ev[1].time_ms = NOW - 60000;
    s->ev[1].campaign = "c";
    s->ev[2].tenant = "initech";
    s->ev[2].mailbox = "carol@initech.example";
    s->ev[2].recipient_domain = s->long_domain;
    s->ev[2].type = MAILPULSE__V1__EVENT_TYPE__EVENT_TYPE_SPAM_TRAP;
    s->ev[2].time_ms = NOW + FUTURE;

    Mailpulse__V1__Event *ep[SAMPLE_EVENTS] = {&s->ev[0], &s->ev[1], &s->ev[2]};
    Mailpulse__V1__EventBatch b = MAILPULSE__V1__EVENT_BATCH__INIT;
    b.n_events = SAMPLE_EVENTS;
    b.events = ep;
    b.producer_id = "producer-7";
    b.sequence = SAMPLE_SEQUENCE;
    s->len = mailpulse__v1__event_batch__get_packed_size(&b);
    s->wire = malloc(s->len);
    ck_assert_ptr_nonnull(s->wire);
    ck_assert_uint_eq(mailpulse__v1__event_batch__pack(&b, s->wire), s->len);

    /* Fields go out in field-number order: events (1), producer_id (2),
     * sequence (3); each tag is one byte here. */
    size_t off = 0;
    s->bound[s->nbound++] = off;
    for (int i = 0; i < SAMPLE_EVENTS; i++) {
        size_t n = mailpulse__v1__event__get_packed_size(&s->ev[i]);
        off += 1 + varint_len(n) + n;
        s->bound[s->nbound++] = off;
    }
    off += 1 + varint_len(strlen(b.producer_id)) + strlen(b.producer_id);
    s->bound[s->nbound++] = off;
    off += 1 + varint_len(b.sequence);
    s->bound[s->nbound++] = off;
    ck_assert_uint_eq(off, s->len);
    ck_assert_uint_gt(mailpulse__v1__event__get_packed_size(&s->ev[2]), 127);
}

static void sample_close(struct sample *s)
{
    free(s->wire);
    free(s->long_domain);
}

/* Index of the bound equal to len, or -1 when len cuts inside a field. */
static int sample_bound(const struct sample *s, size_t len)
{
    for (size_t i = 0; i < s->nbound; i++)
        if (s->bound[i] == len)
            return (int)i;
    return -1;
}

static void same_event(const Mailpulse__V1__Event *got, const Mailpulse__V1__Event *want)
{
    ck_assert_str_eq(got->tenant, want->tenant);
    ck_assert_str_eq(got->mailbox, want->mailbox);
    ck_assert_str_eq(got->recipient_domain, want->recipient_domain);
    ck_assert_int_eq(got->type, want->type);
    ck_assert_int_eq(got->time_ms, want->time_ms);
    ck_assert_str_eq(got->event_id, want->event_id);
    ck_assert_str_eq(got->campaign, want->campaign);
    ck_assert_int_eq(got->sent_time_ms, want->sent_time_ms);
}

/* Runs every decoded event through the validator: whatever the bytes, this
 * must return a known reason and never touch memory it does not own. */
static void validate_all(const Mailpulse__V1__EventBatch *b)
{
    for (size_t i = 0; i < b->n_events; i++) {
        char *buf = namebuf_new();
        struct eng_event ev;
        int rc = ingest_validate_event(b->events[i], NOW, &limits, buf, &ev);
        ck_assert_int_ge(rc, INGEST_OK);
        ck_assert_int_lt(rc, INGEST_REASON_COUNT);
        namebuf_free(__FILE__, __LINE__, buf);
    }
}

/* Decodes `len` bytes of the sample at `p` and checks the outcome the cut
 * position dictates. */
static void must_decode_prefix(const struct sample *s, const uint8_t *p, size_t len)
{
    Mailpulse__V1__EventBatch *d = NULL;
    int rc = ingest_decode_batch(p, len, &d);
    int k = sample_bound(s, len);
    if (k < 0) {
        ck_assert_msg(rc == MP_ERR_INVAL,
                      "a batch cut at byte %zu of %zu (inside a field) decoded (rc %d)", len,
                      s->len, rc);
        return;
    }
    ck_assert_msg(rc == MP_OK, "a batch cut at byte %zu of %zu (a field boundary) was refused",
                  len, s->len);
    size_t want_events = (size_t)k < SAMPLE_EVENTS ? (size_t)k : SAMPLE_EVENTS;
    ck_assert_uint_eq(d->n_events, want_events);
    for (size_t i = 0; i < d->n_events; i++)
        same_event(d->events[i], &s->ev[i]);
    ck_assert_str_eq(d->producer_id, k > SAMPLE_EVENTS ? "producer-7" : "");
    ck_assert_uint_eq(d->sequence, k > SAMPLE_EVENTS + 1 ? SAMPLE_SEQUENCE : 0);
    validate_all(d);
    ingest_batch_free(d);
}

START_TEST(test_decode_valid_batch)
{
    struct sample s;
    sample_open(&s);
    Mailpulse__V1__EventBatch *d = NULL;
    ck_assert_int_eq(ingest_decode_batch(s.wire, s.len, &d), MP_OK);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(d->n_events, SAMPLE_EVENTS);
    for (size_t i = 0; i < SAMPLE_EVENTS; i++)
        same_event(d->events[i], &s.ev[i]);
    ck_assert_str_eq(d->producer_id, "producer-7");
    ck_assert_uint_eq(d->sequence, SAMPLE_SEQUENCE);

    char *buf = namebuf_new();
    struct eng_event ev;
    ck_assert_int_eq(ingest_validate_event(d->events[0], NOW, &limits, buf, &ev), INGEST_OK);
    ck_assert_uint_eq(ev.mailbox_len, strlen("alice@example.com"));
    ck_assert_int_eq(memcmp(ev.mailbox, "alice@example.com", ev.mailbox_len), 0);
    ck_assert_uint_eq(ev.domain_len, strlen("gmail.com"));
    ck_assert_int_eq(memcmp(ev.domain, "gmail.com", ev.domain_len), 0);
    ck_assert_int_eq(ingest_validate_event(d->events[1], NOW, &limits, buf, &ev),
                     INGEST_REJ_TYPE);
    ck_assert_int_eq(ingest_validate_event(d->events[2], NOW, &limits, buf, &ev), INGEST_OK);
    ck_assert_int_eq(ev.type, ENG_SPAM_TRAP);
    namebuf_free(__FILE__, __LINE__, buf);
    ingest_batch_free(d);
    ingest_batch_free(NULL); /* like free(): a no-op */
    sample_close(&s);
}
END_TEST

START_TEST(test_decode_empty)
{
    static const uint8_t nothing[1] = {0};
    Mailpulse__V1__EventBatch *d = NULL;
    ck_assert_int_eq(ingest_decode_batch(nothing, 0, &d), MP_OK);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(d->n_events, 0);
    ck_assert_str_eq(d->producer_id, "");
    ck_assert_uint_eq(d->sequence, 0);
    ingest_batch_free(d);
}
END_TEST

/* Every prefix of a real batch, each in a heap block of exactly its size. */
START_TEST(test_decode_truncated)
{
    struct sample s;
    sample_open(&s);
    for (size_t len = 0; len <= s.len; len++) {
        uint8_t *p = malloc(len ? len : 1);
        ck_assert_ptr_nonnull(p);
        memcpy(p, s.wire, len);
        must_decode_prefix(&s, p, len);
        free(p);
    }
    sample_close(&s);
}
END_TEST

/* Cutting inside each string field specifically: the length prefix then
 * promises bytes that are not there. */
START_TEST(test_decode_cut_in_string)
{
    struct sample s;
    sample_open(&s);
    static const char *const names[] = {"Alice@Example.com", "producer-7", "globex", "spring"};
    for (size_t i = 0; i < MP_ARRAY_LEN(names); i++) {
        size_t nl = strlen(names[i]), at = 0;
        for (size_t j = 0; j + nl <= s.len; j++)
            if (memcmp(s.wire + j, names[i], nl) == 0) {
                at = j;
                break;
            }
        ck_assert_uint_gt(at, 0);
        for (size_t cut = at; cut < at + nl; cut++) {
            Mailpulse__V1__EventBatch *d = NULL;
            ck_assert_msg(ingest_decode_batch(s.wire, cut, &d) == MP_ERR_INVAL,
                          "cut at %zu inside \"%s\" decoded", cut, names[i]);
        }
    }
    sample_close(&s);
}
END_TEST

/* --- the page guard: input flush against a PROT_NONE page -------------------- */

struct guard {
    uint8_t *map;
    size_t page;
};

static void guard_open(struct guard *g)
{
    long ps = sysconf(_SC_PAGESIZE);
    ck_assert_int_gt(ps, 0);
    g->page = (size_t)ps;
    g->map = mmap(NULL, 2 * g->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_msg(g->map != MAP_FAILED, "mmap failed");
    ck_assert_int_eq(mprotect(g->map + g->page, g->page, PROT_NONE), 0);
}

/* Copies len bytes so that the last one is the last readable byte. */
static const uint8_t *guard_place(struct guard *g, const void *src, size_t len)
{
    ck_assert_uint_le(len, g->page);
    uint8_t *dst = g->map + g->page - len;
    if (len)
        memcpy(dst, src, len);
    return dst;
}

static void guard_close(struct guard *g) { munmap(g->map, 2 * g->page); }

/* The fault handler's way back into test_guard_faults: a signal handler
 * gets no context argument, so this one jump buffer is file-scope. */
static sigjmp_buf guard_jmp;

static void guard_on_fault(int sig) { siglongjmp(guard_jmp, sig); }

/* The guard itself: the last placed byte reads, the next one faults —
 * otherwise the decode tests below prove nothing. Catching the fault here
 * (rather than letting the test die of it) works forked or not, and under
 * ASan, whose own SEGV report would otherwise turn the signal into exit(1). */
START_TEST(test_guard_faults)
{
    struct guard g;
    guard_open(&g);
    const volatile uint8_t *p = guard_place(&g, "x", 1);
    struct sigaction sa, old_segv, old_bus;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = guard_on_fault;
    sigemptyset(&sa.sa_mask);
    ck_assert_int_eq(sigaction(SIGSEGV, &sa, &old_segv), 0);
    ck_assert_int_eq(sigaction(SIGBUS, &sa, &old_bus), 0);
    volatile int read_last = 0, faulted = 0;
    if (sigsetjmp(guard_jmp, 1) == 0) {
        read_last = p[0] == 'x';
        (void)p[1];
    } else {
        faulted = 1;
    }
    sigaction(SIGSEGV, &old_segv, NULL);
    sigaction(SIGBUS, &old_bus, NULL);
    guard_close(&g);
    ck_assert_msg(read_last, "the last byte before the guard page did not read back");
    ck_assert_msg(faulted, "reading past the placed input did not fault: no guard page");
}
END_TEST

START_TEST(test_decode_guarded)
{
    struct sample s;
    struct guard g;
    sample_open(&s);
    guard_open(&g);
    ck_assert_uint_le(s.len, g.page);
    /* the whole frame, then every prefix ... */
    for (size_t len = s.len + 1; len-- > 0;)
        must_decode_prefix(&s, guard_place(&g, s.wire, len), len);
    /* ... and every suffix: decoding starts mid-stream; any outcome but a
     * fault is fine */
    for (size_t from = 0; from <= s.len; from++) {
        Mailpulse__V1__EventBatch *d = NULL;
        if (ingest_decode_batch(guard_place(&g, s.wire + from, s.len - from), s.len - from,
                                &d) == MP_OK) {
            validate_all(d);
            ingest_batch_free(d);
        }
    }
    guard_close(&g);
    sample_close(&s);
}
END_TEST

/* xorshift64*: a fixed, local PRNG so every run feeds the same bytes. */
static uint64_t rng_next(uint64_t *st)
{
    uint64_t x = *st;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *st = x;
    return x * 0x2545F4914F6CDD1DULL;
}

START_TEST(test_decode_random)
{
    static const size_t lens[] = {1, 2, 3, 4, 5, 7, 8, 10, 11, 16, 31, 64, 127, 128, 129, 255,
                                  256, 1000, 4096};
    uint64_t st = 0x6d61696c70756c73ULL; /* "mailpuls" */
    struct guard g;
    guard_open(&g);
    uint8_t *bytes = malloc(g.page);
    ck_assert_ptr_nonnull(bytes);
    for (size_t li = 0; li < MP_ARRAY_LEN(lens); li++) {
        size_t len = lens[li] <= g.page ? lens[li] : g.page;
        for (int round = 0; round < 200; round++) {
            for (size_t i = 0; i < len; i++)
                bytes[i] = (uint8_t)rng_next(&st);
            Mailpulse__V1__EventBatch *d = NULL;
            int rc = ingest_decode_batch(guard_place(&g, bytes, len), len, &d);
            ck_assert(rc == MP_OK || rc == MP_ERR_INVAL);
            if (rc == MP_OK) {
                validate_all(d);
                ingest_batch_free(d);
            }
        }
    }
    free(bytes);
    guard_close(&g);
}
END_TEST

/* Random bytes rarely get past the first tag; a real batch with a few bytes
 * changed reaches the nested events and string fields. */
START_TEST(test_decode_mutated)
{
    uint64_t st = 0x5eed5eed5eed5eedULL;
    struct sample s;
    struct guard g;
    sample_open(&s);
    guard_open(&g);
    uint8_t *m = malloc(s.len);
    ck_assert_ptr_nonnull(m);
    int decoded = 0;
    for (int round = 0; round < 5000; round++) {
        memcpy(m, s.wire, s.len);
        int flips = 1 + (int)(rng_next(&st) % 4);
        for (int f = 0; f < flips; f++)
            m[rng_next(&st) % s.len] = (uint8_t)rng_next(&st);
        size_t len = s.len - (size_t)(rng_next(&st) % 4 == 0 ? rng_next(&st) % s.len : 0);
        Mailpulse__V1__EventBatch *d = NULL;
        if (ingest_decode_batch(guard_place(&g, m, len), len, &d) == MP_OK) {
            decoded++;
            validate_all(d);
            ingest_batch_free(d);
        }
    }
    ck_assert_int_gt(decoded, 0); /* the mutations did reach the event paths */
    free(m);
    guard_close(&g);
    sample_close(&s);
}
END_TEST

/* The optional campaign: kept as sent (pointer and length into the event),
 * none when empty, refused when malformed. */
START_TEST(test_campaign)
{
    static const struct {
        const char *campaign;
        int ok;
    } cases[] = {
        {"", 1},         {"spring-sale_2026", 1}, {"Tag:Q4/Promo=1", 1}, {"Black Friday", 1},
        {"tab\tx", 0},   {"caf\xc3\xa9", 0},      {"\x7f", 0},      {"line\n", 0},
    };
    char long_ok[INGEST_CAMPAIGN_MAX + 2];
    memset(long_ok, 'c', sizeof(long_ok));
    long_ok[INGEST_CAMPAIGN_MAX] = '\0';
    long_ok[INGEST_CAMPAIGN_MAX + 1] = '\0'; /* ends the one-byte-over case below */
    for (size_t i = 0; i <= MP_ARRAY_LEN(cases) + 1; i++) {
        const char *c = i < MP_ARRAY_LEN(cases) ? cases[i].campaign : long_ok;
        int ok = i < MP_ARRAY_LEN(cases) ? cases[i].ok : i == MP_ARRAY_LEN(cases);
        if (i == MP_ARRAY_LEN(cases) + 1)
            long_ok[INGEST_CAMPAIGN_MAX] = 'c'; /* one byte over */
        struct fields f = {"acme", MB, DOM, 1, NOW};
        Mailpulse__V1__Event e;
        fields_to_event(&f, &e);
        e.campaign = (char *)c;
        char *buf = namebuf_new();
        struct eng_event ev;
        memset(&ev, 0, sizeof(ev));
        int rc = ingest_validate_event(&e, NOW, &limits, buf, &ev);
        ck_assert_msg(rc == (ok ? INGEST_OK : INGEST_REJ_CAMPAIGN), "case %zu: %s", i,
                      ingest_reason_name(rc));
        if (ok)
            ck_assert(ev.campaign == c && ev.campaign_len == strlen(c));
        namebuf_free(__FILE__, __LINE__, buf);
    }
}
END_TEST

/* --- reason names ---------------------------------------------------------- */

START_TEST(test_reason_names)
{
    /* Stable: they name /metrics series and log lines. */
    /* The frozen names, in enum order (a vector, not a copy of the table). */
    static const char *const want[INGEST_REASON_COUNT + 1] = {
        "ok", "bad_frame", "empty_batch", "tenant_invalid", "mailbox_invalid", "domain_invalid",
        "type_unknown", "time_missing", "time_too_old", "time_in_future", "capacity", "internal",
        "frame_too_large", "batch_too_large", "producer_id_too_long", "tenant_key_cap",
        "tenant_rate_cap", "tenant_forbidden", "campaign_invalid",
        NULL /* past the last reason: a new one must be added above */};
    for (int r = 0; r < INGEST_REASON_COUNT; r++) {
        const char *n = ingest_reason_name(r);
        ck_assert_msg(n != NULL && n[0] != '\0', "reason %d has no name", r);
        ck_assert_msg(want[r] != NULL, "reason %d is new: add it to this table", r);
        ck_assert_str_eq(n, want[r]);
        for (int q = 0; q < r; q++)
            ck_assert_msg(strcmp(n, ingest_reason_name(q)) != 0,
                          "reasons %d and %d share the name \"%s\"", q, r, n);
    }
    static const int outside[] = {-1, INGEST_REASON_COUNT, INGEST_REASON_COUNT + 1, 1000,
                                  INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < MP_ARRAY_LEN(outside); i++)
        ck_assert_ptr_nonnull(ingest_reason_name(outside[i]));
}
END_TEST

/* An empty mailbox: mailbox_invalid on the wire; with mailbox_optional
 * (the HTTP adapters) no mailbox, and a malformed one still refused. */
START_TEST(test_mailbox_optional)
{
    Mailpulse__V1__Event e;
    struct eng_event ev;
    char buf[INGEST_NAMEBUF_LEN];
    struct ingest_limits opt = limits;
    opt.mailbox_optional = 1;
    fields_to_event(&(struct fields){"acme", "", "Gmail.COM", ENG_SENT, NOW}, &e);
    ck_assert_int_eq(ingest_validate_event(&e, NOW, &limits, buf, &ev), INGEST_REJ_MAILBOX);
    ck_assert_int_eq(ingest_validate_event(&e, NOW, &opt, buf, &ev), INGEST_OK);
    ck_assert_uint_eq(ev.mailbox_len, 0);
    ck_assert_uint_eq(ev.domain_len, 9);
    ck_assert_int_eq(memcmp(ev.domain, "gmail.com", 9), 0);
    e.mailbox = NULL; /* absent on the wire decodes as NULL */
    ck_assert_int_eq(ingest_validate_event(&e, NOW, &opt, buf, &ev), INGEST_OK);
    ck_assert_uint_eq(ev.mailbox_len, 0);
    e.mailbox = (char *)"no-at";
    ck_assert_int_eq(ingest_validate_event(&e, NOW, &opt, buf, &ev), INGEST_REJ_MAILBOX);
}
END_TEST

/* --- suite ------------------------------------------------------------------- */

Suite *test_suite(void)
{
    Suite *s = suite_create("ingest_validate");

    TCase *rules = tcase_create("rules");
    tcase_add_loop_test(rules, test_accept_table, 0, (int)MP_ARRAY_LEN(accept_cases));
    tcase_add_loop_test(rules, test_every_type, ENG_SENT, ENG_SPAM_TRAP + 1);
    tcase_add_loop_test(rules, test_reject_table, 0, (int)MP_ARRAY_LEN(reject_cases));
    tcase_add_test(rules, test_tenant_lengths);
    tcase_add_test(rules, test_mailbox_local_lengths);
    tcase_add_test(rules, test_mailbox_total_lengths);
    tcase_add_test(rules, test_domain_label_lengths);
    tcase_add_test(rules, test_domain_total_lengths);
    tcase_add_test(rules, test_longest_names_fit_the_buffer);
    tcase_add_test(rules, test_tenant_bytes);
    tcase_add_test(rules, test_local_part_bytes);
    tcase_add_test(rules, test_host_bytes);
    tcase_add_test(rules, test_wire_nul_in_names);
    tcase_add_test(rules, test_building_blocks_use_len);
    tcase_add_test(rules, test_reason_names);
    tcase_add_test(rules, test_campaign);
    tcase_add_test(rules, test_mailbox_optional);
    suite_add_tcase(s, rules);

    TCase *decode = tcase_create("decode");
    tcase_set_timeout(decode, 30);
    tcase_add_test(decode, test_decode_valid_batch);
    tcase_add_test(decode, test_decode_empty);
    tcase_add_test(decode, test_decode_truncated);
    tcase_add_test(decode, test_decode_cut_in_string);
    tcase_add_test(decode, test_guard_faults);
    tcase_add_test(decode, test_decode_guarded);
    tcase_add_test(decode, test_decode_random);
    tcase_add_test(decode, test_decode_mutated);
    suite_add_tcase(s, decode);
    return s;
}
