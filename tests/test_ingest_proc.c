/* test_ingest_proc.c — Check suite for the per-frame pipeline in
 * ingest/ingest_worker.c (ingest_proc_*): decode → validate → record into
 * the engine table, with per-reason figures.
 *
 * No sockets: each case builds a real table (eng_table_create) and a proc,
 * brings the proc's thread online, feeds serialized EventBatch frames to
 * ingest_proc_frame() and checks three things against each other:
 *   - the return value and *rejected of every frame;
 *   - ingest_proc_figures(), every counter and every reason exactly;
 *   - the table: eng_table_find() + eng_key_sum_fine()/eng_key_sum_days()
 *     for the tenant, mailbox and recipient-domain keys, per type, exactly,
 *     and eng_table_nkeys() (refused events must not create keys).
 * The clock is fixed (NOW) and never ticks, so bucket placement is exact.
 * must_count() is the table helper. Run with CK_FORK=yes.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eng_table.h"
#include "eng_types.h"
#include "ingest_validate.h"
#include "ingest_worker.h"
#include "mp.h"
#include "mp_log.h"
#include "e2e_harness.h"
#include "check_main.h"

#define NOW 1795000000000LL /* 100 s into a 5-minute bucket, ~11 h into a UTC day */
#define MIN_MS (60 * 1000LL)
#define RETENTION (35 * ENG_DAY_MS)
#define FUTURE INGEST_FUTURE_MS_DEFAULT

_Static_assert(NOW % ENG_FINE_MS >= 60 * 1000, "NOW - 1 min must stay in NOW's fine bucket");
_Static_assert(NOW % ENG_DAY_MS >= 30 * MIN_MS &&
                   NOW % ENG_DAY_MS + FUTURE < ENG_DAY_MS,
               "NOW - 20 min and NOW + FUTURE must fall on NOW's day");

/* --- fixture: one table, one proc, online ------------------------------------ */

struct fixture {
    struct eng_table *t;
    struct ingest_proc *p;
};

static void fixture_open(struct fixture *f, uint32_t max_keys)
{
    /* the key counts below are the first three scopes' */
    struct eng_table_opts to = {.max_keys = max_keys, .retention_ms = RETENTION,
                                .scopes = ENG_SCOPES_CLASSIC};
    struct ingest_limits lim = {.retention_ms = RETENTION, .future_ms = FUTURE};
    ck_assert_int_eq(eng_table_create(&to, NOW, &f->t), MP_OK);
    ck_assert_int_eq(ingest_proc_create(f->t, &lim, &f->p), MP_OK);
    ck_assert_ptr_nonnull(ingest_proc_thread(f->p));
    eng_thread_online(ingest_proc_thread(f->p));
}

static void fixture_close(struct fixture *f)
{
    eng_thread_offline(ingest_proc_thread(f->p));
    ingest_proc_destroy(f->p);
    eng_table_destroy(f->t);
}

/* Every case starts from one table of 4,096 keys and its proc, online. */
static struct fixture fx;

static void setup(void) { fixture_open(&fx, 4096); }

static void teardown(void) { fixture_close(&fx); }

/* --- frames -------------------------------------------------------------------- */

/* Events as the e2e harness builds them; its packer serializes them. */
#define ev_spec e2e_event

/* Serializes the events as one EventBatch; free() the result. */
static uint8_t *pack(const struct ev_spec *specs, size_t n, const char *producer, size_t *len)
{
    uint8_t *out = NULL;
    ck_assert_int_eq(e2e_batch_pack(specs, n, producer, &out, len), MP_OK);
    ck_assert_ptr_nonnull(out);
    return out;
}

/* Packs and feeds one frame; checks the accepted/refused counts. */
#define must_feed(f, specs, n, want_ok, want_bad) \
    must_feed_at(__FILE__, __LINE__, (f), (specs), (n), (want_ok), (want_bad))

static void must_feed_at(const char *file, int line, struct fixture *f,
                         const struct ev_spec *specs, size_t n, uint32_t want_ok,
                         uint32_t want_bad)
{
    size_t len;
    uint8_t *frame = pack(specs, n, "test-producer", &len);
    uint32_t bad = 0xdeadbeef;
    uint32_t ok = ingest_proc_frame(f->p, frame, len, NOW, &bad);
    free(frame);
    ck_assert_msg(ok == want_ok && bad == want_bad, "%s:%d: accepted %u refused %u, want %u/%u",
                  file, line, ok, bad, want_ok, want_bad);
}

/* --- figures and counts ---------------------------------------------------------- */

/* Every counter of the proc's figures, exactly; the reasons not named in
 * `rej` must be zero. */
struct want_figures {
    uint64_t frames, bytes, events, accepted;
    uint64_t rej[INGEST_REASON_COUNT];
};

#define must_figures(f, ...) \
    must_figures_at(__FILE__, __LINE__, (f), &(const struct want_figures)__VA_ARGS__)

static void must_figures_at(const char *file, int line, const struct fixture *f,
                            const struct want_figures *w)
{
    struct ingest_figures got;
    memset(&got, 0xff, sizeof(got)); /* figures() must set every field */
    ingest_proc_figures(f->p, &got);
    ck_assert_msg(got.frames == w->frames, "%s:%d: frames %llu, want %llu", file, line,
                  (unsigned long long)got.frames, (unsigned long long)w->frames);
    if (w->bytes != UINT64_MAX)
        ck_assert_msg(got.bytes == w->bytes, "%s:%d: bytes %llu, want %llu", file, line,
                      (unsigned long long)got.bytes, (unsigned long long)w->bytes);
    ck_assert_msg(got.events == w->events, "%s:%d: events %llu, want %llu", file, line,
                  (unsigned long long)got.events, (unsigned long long)w->events);
    ck_assert_msg(got.accepted == w->accepted, "%s:%d: accepted %llu, want %llu", file, line,
                  (unsigned long long)got.accepted, (unsigned long long)w->accepted);
    for (int r = 0; r < INGEST_REASON_COUNT; r++)
        ck_assert_msg(got.rejected[r] == w->rej[r], "%s:%d: rejected[%s] %llu, want %llu", file,
                      line, ingest_reason_name(r), (unsigned long long)got.rejected[r],
                      (unsigned long long)w->rej[r]);
}

/* Which sum of a key to read. */
enum window { FINE_NOW, FINE_HOUR, TODAY, DAY_MINUS_2, ALL_DAYS };

static const char *window_name(enum window w)
{
    static const char *const n[] = {"fine(1)", "fine(12)", "days(0,1)", "days(2,1)",
                                    "days(-1,37)"};
    return n[w];
}

static void key_sum(const struct eng_table *t, const struct eng_key *k, enum window w,
                    uint64_t out[ENG_NTYPES])
{
    switch (w) {
    case FINE_NOW:
        eng_key_sum_fine(t, k, 1, out);
        break;
    case FINE_HOUR:
        eng_key_sum_fine(t, k, ENG_FINE_WINDOW_MAX, out);
        break;
    case TODAY:
        eng_key_sum_days(t, k, 0, 1, out);
        break;
    case DAY_MINUS_2:
        eng_key_sum_days(t, k, 2, 1, out);
        break;
    case ALL_DAYS: /* tomorrow back through the whole retention */
        eng_key_sum_days(t, k, -1, 37, out);
        break;
    }
}

/* The key (scope, tenant, name) exists and its `w` sum is exactly `want`
 * (indexed by type - 1, types not named are 0). */
#define must_count(t, scope, tenant, name, w, ...)                                  \
    must_count_at(__FILE__, __LINE__, (t), (scope), (tenant), (name), (w),           \
                  (const uint64_t[ENG_NTYPES])__VA_ARGS__)
#define T(type) [ENG_##type - 1] /* designator: T(SENT) = 2 */

static void must_count_at(const char *file, int line, const struct eng_table *t, int scope,
                          const char *tenant, const char *name, enum window w,
                          const uint64_t want[ENG_NTYPES])
{
    struct eng_key *k = NULL;
    ck_assert_msg(eng_table_find(t, scope, tenant, name, &k) == MP_OK,
                  "%s:%d: no %s key for tenant \"%s\" name \"%s\"", file, line,
                  eng_scope_name(scope), tenant, name ? name : "");
    ck_assert_int_eq(eng_key_scope(k), scope);
    ck_assert_str_eq(eng_key_tenant(t, k), tenant);
    if (scope == ENG_SCOPE_TENANT)
        ck_assert_ptr_null(eng_key_name(t, k));
    else
        ck_assert_str_eq(eng_key_name(t, k), name);
    uint64_t got[ENG_NTYPES];
    key_sum(t, k, w, got);
    for (int ty = 0; ty < ENG_NTYPES; ty++)
        ck_assert_msg(got[ty] == want[ty], "%s:%d: %s \"%s\"/\"%s\" %s %s = %llu, want %llu",
                      file, line, eng_scope_name(scope), tenant, name ? name : "",
                      window_name(w), eng_type_name(ty + 1), (unsigned long long)got[ty],
                      (unsigned long long)want[ty]);
}

#define must_not_find(t, scope, tenant, name) \
    must_not_find_at(__FILE__, __LINE__, (t), (scope), (tenant), (name))

static void must_not_find_at(const char *file, int line, const struct eng_table *t, int scope,
                             const char *tenant, const char *name)
{
    struct eng_key *k = NULL;
    ck_assert_msg(eng_table_find(t, scope, tenant, name, &k) == MP_ERR_NOTFOUND,
                  "%s:%d: unexpected %s key for tenant \"%s\" name \"%s\"", file, line,
                  eng_scope_name(scope), tenant, name ? name : "");
}

/* --- cases ------------------------------------------------------------------------- */

#define TEN ENG_SCOPE_TENANT
#define MBX ENG_SCOPE_MAILBOX
#define DOMS ENG_SCOPE_DOMAIN

/* Seven valid events (two tenants, mixed case, a trailing dot, past/future
 * edges) and eight refused ones, one or two per reason, in one frame. */
static const struct ev_spec mixed[] = {
    /* accepted */
    {"acme", "alice@example.com", "gmail.com", ENG_SENT, NOW},
    {"acme", "alice@example.com", "gmail.com", ENG_DELIVERED, NOW},
    {"acme", "Alice@Example.COM", "Gmail.COM", ENG_SENT, NOW - 1 * MIN_MS},
    {"acme", "bob@example.com", "yahoo.com", ENG_BOUNCE_HARD, NOW - 20 * MIN_MS},
    {"acme", "bob@example.com", "gmail.com.", ENG_COMPLAINT, NOW - 2 * ENG_DAY_MS},
    {"acme", "alice@example.com", "outlook.com", ENG_SPAM_TRAP, NOW + FUTURE},
    {"globex", "carol@globex.io", "gmail.com", ENG_SENT, NOW},
    /* refused */
    {"ac me", "dave@example.com", "gmail.com", ENG_SENT, NOW},
    {"acme", "nobody", "gmail.com", ENG_SENT, NOW},
    {"acme", "dave@example.com", "bad_domain.com", ENG_SENT, NOW},
    {"acme", "dave@example.com", "gmail.com", 0, NOW},
    {"acme", "dave@example.com", "gmail.com", 13, NOW},
    {"acme", "dave@example.com", "gmail.com", ENG_SENT, 0},
    {"acme", "dave@example.com", "gmail.com", ENG_SENT, NOW - RETENTION - 1},
    {"acme", "dave@example.com", "gmail.com", ENG_SENT, NOW + FUTURE + 1},
};
#define MIXED_OK 7
#define MIXED_BAD 8

START_TEST(test_mixed_batch_counts)
{
    size_t len;
    uint8_t *frame = pack(mixed, MP_ARRAY_LEN(mixed), "p1", &len);
    uint32_t bad = 0;
    ck_assert_uint_eq(ingest_proc_frame(fx.p, frame, len, NOW, &bad), MIXED_OK);
    ck_assert_uint_eq(bad, MIXED_BAD);
    must_figures(&fx, {.frames = 1,
                      .bytes = len,
                      .events = MP_ARRAY_LEN(mixed),
                      .accepted = MIXED_OK,
                      .rej = {
                          [INGEST_REJ_TENANT] = 1,
                          [INGEST_REJ_MAILBOX] = 1,
                          [INGEST_REJ_DOMAIN] = 1,
                          [INGEST_REJ_TYPE] = 2,
                          [INGEST_REJ_TIME_MISSING] = 1,
                          [INGEST_REJ_TIME_OLD] = 1,
                          [INGEST_REJ_TIME_FUTURE] = 1,
                      }});
    free(frame);
}
END_TEST

START_TEST(test_mixed_batch_in_table)
{
    must_feed(&fx, mixed, MP_ARRAY_LEN(mixed), MIXED_OK, MIXED_BAD);
    const struct eng_table *t = fx.t;

    /* tenant acme: the current bucket, the hour, today, two days ago, all */
    must_count(t, TEN, "acme", NULL, FINE_NOW, {T(SENT) = 2, T(DELIVERED) = 1});
    must_count(t, TEN, "acme", NULL, FINE_HOUR,
               {T(SENT) = 2, T(DELIVERED) = 1, T(BOUNCE_HARD) = 1});
    must_count(t, TEN, "acme", NULL, TODAY,
               {T(SENT) = 2, T(DELIVERED) = 1, T(BOUNCE_HARD) = 1, T(SPAM_TRAP) = 1});
    must_count(t, TEN, "acme", NULL, DAY_MINUS_2, {T(COMPLAINT) = 1});
    must_count(t, TEN, "acme", NULL, ALL_DAYS,
               {T(SENT) = 2, T(DELIVERED) = 1, T(BOUNCE_HARD) = 1, T(SPAM_TRAP) = 1,
                T(COMPLAINT) = 1});
    must_count(t, TEN, "globex", NULL, FINE_NOW, {T(SENT) = 1});
    must_count(t, TEN, "globex", NULL, ALL_DAYS, {T(SENT) = 1});

    /* mailboxes: "Alice@Example.COM" counted as alice@example.com */
    must_count(t, MBX, "acme", "alice@example.com", FINE_NOW, {T(SENT) = 2, T(DELIVERED) = 1});
    must_count(t, MBX, "acme", "alice@example.com", TODAY,
               {T(SENT) = 2, T(DELIVERED) = 1, T(SPAM_TRAP) = 1});
    must_count(t, MBX, "acme", "bob@example.com", FINE_NOW, {0});
    must_count(t, MBX, "acme", "bob@example.com", FINE_HOUR, {T(BOUNCE_HARD) = 1});
    must_count(t, MBX, "acme", "bob@example.com", DAY_MINUS_2, {T(COMPLAINT) = 1});
    must_count(t, MBX, "acme", "bob@example.com", ALL_DAYS,
               {T(BOUNCE_HARD) = 1, T(COMPLAINT) = 1});
    must_count(t, MBX, "globex", "carol@globex.io", TODAY, {T(SENT) = 1});

    /* recipient domains: "Gmail.COM" and "gmail.com." are gmail.com; the
     * same domain under two tenants is two keys */
    must_count(t, DOMS, "acme", "gmail.com", FINE_NOW, {T(SENT) = 2, T(DELIVERED) = 1});
    must_count(t, DOMS, "acme", "gmail.com", ALL_DAYS,
               {T(SENT) = 2, T(DELIVERED) = 1, T(COMPLAINT) = 1});
    must_count(t, DOMS, "acme", "yahoo.com", FINE_HOUR, {T(BOUNCE_HARD) = 1});
    must_count(t, DOMS, "acme", "outlook.com", TODAY, {T(SPAM_TRAP) = 1});
    must_count(t, DOMS, "acme", "outlook.com", FINE_HOUR, {0}); /* next bucket, not yet */
    must_count(t, DOMS, "globex", "gmail.com", ALL_DAYS, {T(SENT) = 1});

    /* refused events left no trace; names are stored normalised only */
    must_not_find(t, TEN, "ac me", NULL);
    must_not_find(t, MBX, "acme", "dave@example.com");
    must_not_find(t, MBX, "acme", "nobody");
    must_not_find(t, DOMS, "acme", "bad_domain.com");
    must_not_find(t, MBX, "acme", "Alice@Example.COM");
    must_not_find(t, DOMS, "acme", "Gmail.COM");
    must_not_find(t, DOMS, "acme", "gmail.com.");
    must_not_find(t, MBX, "globex", "alice@example.com");
    /* acme: tenant, alice, bob, gmail, yahoo, outlook; globex: tenant,
     * carol, gmail */
    ck_assert_uint_eq(eng_table_nkeys(t), 9);
}
END_TEST

/* The same mailbox and domain in different case, across two frames. */
START_TEST(test_case_folds_to_one_key)
{
    static const struct ev_spec a[] = {
        {"acme", "Bob@Example.COM", "Gmail.COM", ENG_SENT, NOW},
        {"acme", "BOB@EXAMPLE.COM", "GMAIL.COM.", ENG_BOUNCE_SOFT, NOW},
    };
    static const struct ev_spec b[] = {
        {"acme", "bob@example.com", "gmail.com", ENG_SENT, NOW},
        {"acme", "bob@Example.com", "gMail.com", ENG_OPEN, NOW},
    };
    must_feed(&fx, a, MP_ARRAY_LEN(a), 2, 0);
    must_feed(&fx, b, MP_ARRAY_LEN(b), 2, 0);
    uint64_t want[ENG_NTYPES] = {T(SENT) = 2, T(BOUNCE_SOFT) = 1, T(OPEN) = 1};
    for (enum window w = FINE_NOW; w <= ALL_DAYS; w++) {
        if (w == DAY_MINUS_2)
            continue;
        must_count_at(__FILE__, __LINE__, fx.t, TEN, "acme", NULL, w, want);
        must_count_at(__FILE__, __LINE__, fx.t, MBX, "acme", "bob@example.com", w, want);
        must_count_at(__FILE__, __LINE__, fx.t, DOMS, "acme", "gmail.com", w, want);
    }
    must_not_find(fx.t, DOMS, "acme", "Gmail.COM");
    must_not_find(fx.t, MBX, "acme", "Bob@Example.COM");
    ck_assert_uint_eq(eng_table_nkeys(fx.t), 3);
    must_figures(&fx, {.frames = 2, .bytes = UINT64_MAX, .events = 4, .accepted = 4});
}
END_TEST

START_TEST(test_garbage_frame)
{
    /* field 1 (events) promising 5 bytes and giving 2; an unterminated
     * varint; a reserved wire type */
    static const uint8_t g1[] = {0x0a, 0x05, 'a', 'b'};
    static const uint8_t g2[] = {0x18, 0xff, 0xff, 0xff};
    static const uint8_t g3[] = {0x0f, 0x00};
    uint32_t bad = 0xdeadbeef;
    ck_assert_uint_eq(ingest_proc_frame(fx.p, g1, sizeof(g1), NOW, &bad), 0);
    /* no event was decoded, so none is refused; the frame is counted as
     * bad_frame in the figures */
    ck_assert_uint_eq(bad, 0);
    must_figures(&fx, {.frames = 1, .bytes = sizeof(g1), .rej = {[INGEST_REJ_BAD_FRAME] = 1}});

    ck_assert_uint_eq(ingest_proc_frame(fx.p, g2, sizeof(g2), NOW, NULL), 0);
    ck_assert_uint_eq(ingest_proc_frame(fx.p, g3, sizeof(g3), NOW, &bad), 0);
    must_figures(&fx, {.frames = 3,
                      .bytes = sizeof(g1) + sizeof(g2) + sizeof(g3),
                      .rej = {[INGEST_REJ_BAD_FRAME] = 3}});
    ck_assert_uint_eq(eng_table_nkeys(fx.t), 0);
}
END_TEST

START_TEST(test_empty_frame)
{
    uint32_t bad = 0xdeadbeef;
    static const uint8_t none[1] = {0};
    /* zero bytes decode as a batch with no events */
    ck_assert_uint_eq(ingest_proc_frame(fx.p, none, 0, NOW, &bad), 0);
    ck_assert_uint_eq(bad, 0);
    must_figures(&fx, {.frames = 1, .bytes = 0, .rej = {[INGEST_REJ_EMPTY_BATCH] = 1}});

    /* a batch that carries only its producer id is empty too */
    size_t len;
    uint8_t *frame = pack(NULL, 0, "lonely-producer", &len);
    ck_assert_uint_gt(len, 0);
    ck_assert_uint_eq(ingest_proc_frame(fx.p, frame, len, NOW, &bad), 0);
    ck_assert_uint_eq(bad, 0);
    must_figures(&fx, {.frames = 2, .bytes = len, .rej = {[INGEST_REJ_EMPTY_BATCH] = 2}});
    free(frame);
    ck_assert_uint_eq(eng_table_nkeys(fx.t), 0);
}
END_TEST

/* Figures add up across frames of every kind. */
START_TEST(test_figures_accumulate)
{
    size_t len;
    uint8_t *frame = pack(mixed, MP_ARRAY_LEN(mixed), "p", &len);
    static const uint8_t garbage[] = {0x0a, 0x7f};
    static const uint8_t none[1] = {0};
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(ingest_proc_frame(fx.p, frame, len, NOW, NULL), MIXED_OK);
        ck_assert_uint_eq(ingest_proc_frame(fx.p, garbage, sizeof(garbage), NOW, NULL), 0);
        ck_assert_uint_eq(ingest_proc_frame(fx.p, none, 0, NOW, NULL), 0);
    }
    must_figures(&fx, {.frames = 9,
                      .bytes = 3 * (len + sizeof(garbage)),
                      .events = 3 * MP_ARRAY_LEN(mixed),
                      .accepted = 3 * MIXED_OK,
                      .rej = {
                          [INGEST_REJ_BAD_FRAME] = 3,
                          [INGEST_REJ_EMPTY_BATCH] = 3,
                          [INGEST_REJ_TENANT] = 3,
                          [INGEST_REJ_MAILBOX] = 3,
                          [INGEST_REJ_DOMAIN] = 3,
                          [INGEST_REJ_TYPE] = 6,
                          [INGEST_REJ_TIME_MISSING] = 3,
                          [INGEST_REJ_TIME_OLD] = 3,
                          [INGEST_REJ_TIME_FUTURE] = 3,
                      }});
    must_count(fx.t, TEN, "acme", NULL, FINE_NOW, {T(SENT) = 6, T(DELIVERED) = 3});
    ck_assert_uint_eq(eng_table_nkeys(fx.t), 9);
    free(frame);
}
END_TEST

/* max_keys 16 and 20 distinct mailboxes of one tenant to one domain: each
 * event needs its tenant key, its mailbox key and its domain key, so two
 * keys are shared and 14 mailboxes fit; the other 6 events are refused for
 * capacity and leave nothing behind. Keys that exist keep counting. */
START_TEST(test_key_capacity)
{
    fixture_close(&fx); /* a smaller table than the fixture's */
    fixture_open(&fx, 16);
    enum { N = 20, FIT = 16 - 2 };
    struct ev_spec ev[N];
    char names[N][32];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "user%02d@example.com", i);
        ev[i] = (struct ev_spec){"acme", names[i], "gmail.com", ENG_SENT, NOW};
    }
    size_t len;
    uint8_t *frame = pack(ev, N, "p", &len);
    uint32_t bad = 0;
    uint32_t ok = ingest_proc_frame(fx.p, frame, len, NOW, &bad);
    free(frame);
    ck_assert_uint_eq(ok + bad, N);
    ck_assert_uint_eq(ok, FIT);
    ck_assert_uint_eq(bad, N - FIT);
    must_figures(&fx, {.frames = 1,
                      .bytes = len,
                      .events = N,
                      .accepted = FIT,
                      .rej = {[INGEST_REJ_CAPACITY] = N - FIT}});
    ck_assert_uint_eq(eng_table_nkeys(fx.t), 16);

    /* every accepted event is counted once on each of its keys */
    must_count(fx.t, TEN, "acme", NULL, FINE_NOW, {T(SENT) = FIT});
    must_count(fx.t, DOMS, "acme", "gmail.com", TODAY, {T(SENT) = FIT});
    int found = 0;
    for (int i = 0; i < N; i++) {
        struct eng_key *k;
        if (eng_table_find(fx.t, MBX, "acme", names[i], &k) != MP_OK)
            continue;
        found++;
        must_count(fx.t, MBX, "acme", names[i], FINE_NOW, {T(SENT) = 1});
    }
    ck_assert_int_eq(found, FIT);

    /* full, yet an event for keys that exist still counts; a new one does not */
    struct ev_spec again[2];
    int known = -1, unknown = -1;
    for (int i = 0; i < N; i++) {
        struct eng_key *k;
        if (eng_table_find(fx.t, MBX, "acme", names[i], &k) == MP_OK)
            known = known < 0 ? i : known;
        else
            unknown = unknown < 0 ? i : unknown;
    }
    ck_assert(known >= 0 && unknown >= 0);
    again[0] = (struct ev_spec){"acme", names[known], "gmail.com", ENG_DELIVERED, NOW};
    again[1] = (struct ev_spec){"acme", names[unknown], "gmail.com", ENG_DELIVERED, NOW};
    must_feed(&fx, again, 2, 1, 1);
    must_count(fx.t, MBX, "acme", names[known], FINE_NOW, {T(SENT) = 1, T(DELIVERED) = 1});
    must_count(fx.t, TEN, "acme", NULL, FINE_NOW, {T(SENT) = FIT, T(DELIVERED) = 1});
    must_figures(&fx, {.frames = 2,
                      .bytes = UINT64_MAX,
                      .events = N + 2,
                      .accepted = FIT + 1,
                      .rej = {[INGEST_REJ_CAPACITY] = N - FIT + 1}});
    ck_assert_uint_eq(eng_table_nkeys(fx.t), 16);
}
END_TEST

/* A frame as large as the contract allows per name, many events: every
 * name at its longest, upper case, through the whole pipeline. */
START_TEST(test_longest_names_recorded)
{
    char mbox[255], dom[255], want_m[255], want_d[255];
    memset(mbox, 'M', 64);
    mbox[64] = '@';
    for (int i = 65; i < 254; i++) /* 189-byte host: labels of 63 */
        mbox[i] = ((i - 65 + 1) % 64 == 0) ? '.' : 'H';
    mbox[254] = '\0';
    for (int i = 0; i < 253; i++)
        dom[i] = ((i + 1) % 64 == 0) ? '.' : 'D';
    dom[253] = '\0';
    for (int i = 0; i <= 254; i++) /* the NULs too */
        want_m[i] = (mbox[i] >= 'A' && mbox[i] <= 'Z') ? (char)(mbox[i] + 32) : mbox[i];
    for (int i = 0; i <= 253; i++)
        want_d[i] = (dom[i] >= 'A' && dom[i] <= 'Z') ? (char)(dom[i] + 32) : dom[i];
    char tenant[65];
    memset(tenant, 'T', 64);
    tenant[64] = '\0';
    struct ev_spec ev = {tenant, mbox, dom, ENG_COMPLAINT, NOW};
    must_feed(&fx, &ev, 1, 1, 0);
    must_count(fx.t, TEN, tenant, NULL, FINE_NOW, {T(COMPLAINT) = 1});
    must_count(fx.t, MBX, tenant, want_m, FINE_NOW, {T(COMPLAINT) = 1});
    must_count(fx.t, DOMS, tenant, want_d, FINE_NOW, {T(COMPLAINT) = 1});
}
END_TEST

/* --- limits before allocation ---------------------------------------------------- */

/* `n` good events of one tenant and mailbox, for frames of a given size. */
static struct ev_spec *many(size_t n, const char *mailbox)
{
    struct ev_spec *v = calloc(n, sizeof(*v));
    ck_assert_ptr_nonnull(v);
    for (size_t i = 0; i < n; i++)
        v[i] = (struct ev_spec){"acme", mailbox, "gmail.com", ENG_SENT, NOW};
    return v;
}

/* A frame over max_frame_bytes, a batch over max_batch_events: refused
 * whole, one count each, nothing decoded (events stays 0) and no key made;
 * the edges themselves pass. */
START_TEST(test_frame_and_batch_limits)
{
    fixture_close(&fx);
    struct eng_table_opts to = {.max_keys = 4096, .retention_ms = RETENTION};
    struct ingest_limits lim = {.retention_ms = RETENTION, .future_ms = FUTURE,
                                .max_frame_bytes = 600, .max_batch_events = 3};
    ck_assert_int_eq(eng_table_create(&to, NOW, &fx.t), MP_OK);
    ck_assert_int_eq(ingest_proc_create(fx.t, &lim, &fx.p), MP_OK);
    eng_thread_online(ingest_proc_thread(fx.p));

    struct ev_spec *v = many(4, "a@b.example");
    size_t len4, len3;
    uint8_t *four = pack(v, 4, "p", &len4), *three = pack(v, 3, "p", &len3);
    ck_assert_uint_lt(len4, 600);
    uint32_t bad = 0xdeadbeef;
    ck_assert_uint_eq(ingest_proc_frame(fx.p, four, len4, NOW, &bad), 0);
    ck_assert_uint_eq(bad, 0); /* no event was decoded, so none is refused */
    must_figures(&fx, {.frames = 1, .bytes = len4, .rej = {[INGEST_REJ_BATCH_LARGE] = 1}});
    ck_assert_uint_eq(eng_table_nkeys(fx.t), 0);
    ck_assert_uint_eq(ingest_proc_frame(fx.p, three, len3, NOW, &bad), 3);
    ck_assert_uint_eq(bad, 0);

    /* Three events, each with a 254-byte mailbox: over 600 bytes. */
    char mbox[255];
    memset(mbox, 'm', 64);
    mbox[64] = '@';
    memset(mbox + 65, 'd', 189);
    for (int i = 0; i < 3; i++)
        mbox[65 + 60 * i + 59] = '.'; /* labels of at most 63 */
    mbox[254] = '\0';
    struct ev_spec *big = many(3, mbox);
    size_t lenb;
    uint8_t *large = pack(big, 3, "p", &lenb);
    ck_assert_uint_gt(lenb, 600);
    ck_assert_uint_eq(ingest_proc_frame(fx.p, large, lenb, NOW, &bad), 0);
    ck_assert_uint_eq(bad, 0);
    must_figures(&fx, {.frames = 3,
                      .bytes = len4 + len3 + lenb,
                      .events = 3,
                      .accepted = 3,
                      .rej = {[INGEST_REJ_BATCH_LARGE] = 1, [INGEST_REJ_FRAME_LARGE] = 1}});
    /* the same frame is fine once the limit allows it: the mailbox is valid */
    ingest_proc_destroy(fx.p);
    lim.max_frame_bytes = lenb;
    ck_assert_int_eq(ingest_proc_create(fx.t, &lim, &fx.p), MP_OK);
    eng_thread_online(ingest_proc_thread(fx.p));
    ck_assert_uint_eq(ingest_proc_frame(fx.p, large, lenb, NOW, &bad), 3);
    ck_assert_uint_eq(bad, 0);
    free(v);
    free(big);
    free(four);
    free(three);
    free(large);
}
END_TEST

/* Zero limits are the documented defaults: 10,000 events pass, 10,001 do
 * not (the fixture's limits leave both fields zero). */
START_TEST(test_default_batch_limit)
{
    struct ev_spec *v = many(INGEST_MAX_BATCH_EVENTS_DEFAULT + 1, "a@b.example");
    size_t len;
    uint8_t *frame = pack(v, INGEST_MAX_BATCH_EVENTS_DEFAULT + 1, "p", &len);
    ck_assert_uint_lt(len, INGEST_MAX_FRAME_BYTES_DEFAULT);
    ck_assert_uint_eq(ingest_proc_frame(fx.p, frame, len, NOW, NULL), 0);
    must_figures(&fx, {.frames = 1, .bytes = len, .rej = {[INGEST_REJ_BATCH_LARGE] = 1}});
    free(frame);
    frame = pack(v, INGEST_MAX_BATCH_EVENTS_DEFAULT, "p", &len);
    ck_assert_uint_eq(ingest_proc_frame(fx.p, frame, len, NOW, NULL),
                      INGEST_MAX_BATCH_EVENTS_DEFAULT);
    free(frame);
    free(v);
}
END_TEST

/* producer_id: up to INGEST_PRODUCER_ID_MAX bytes; one more refuses the
 * batch whole (producer_id_too_long), before it is decoded or logged. */
START_TEST(test_producer_id_bound)
{
    char id[INGEST_PRODUCER_ID_MAX + 2];
    memset(id, 'p', sizeof(id) - 1);
    id[INGEST_PRODUCER_ID_MAX] = '\0';
    struct ev_spec *v = many(2, "a@b.example");
    size_t len1, len2;
    uint8_t *ok = pack(v, 2, id, &len1);
    id[INGEST_PRODUCER_ID_MAX] = 'p';
    id[INGEST_PRODUCER_ID_MAX + 1] = '\0';
    uint8_t *over = pack(v, 2, id, &len2);
    uint32_t bad = 0xdeadbeef;
    ck_assert_uint_eq(ingest_proc_frame(fx.p, over, len2, NOW, &bad), 0);
    ck_assert_uint_eq(bad, 0);
    ck_assert_uint_eq(ingest_proc_frame(fx.p, ok, len1, NOW, &bad), 2);
    must_figures(&fx, {.frames = 2,
                      .bytes = len1 + len2,
                      .events = 2,
                      .accepted = 2,
                      .rej = {[INGEST_REJ_PRODUCER_ID] = 1}});
    free(ok);
    free(over);
    free(v);
}
END_TEST

CHECK_SUITE("ingest_proc", 0, setup, teardown, test_mixed_batch_counts, test_mixed_batch_in_table,
            test_case_folds_to_one_key, test_garbage_frame, test_empty_frame,
            test_figures_accumulate, test_key_capacity, test_longest_names_recorded,
            test_frame_and_batch_limits, test_default_batch_limit, test_producer_id_bound)

void test_init(void)
{
    /* Refusals are the point of these cases; their warn lines are noise. */
    mp_log_set_level(MP_LOG_ERROR);
}

