/* test_ingest_adapt.c — ingest/ingest_adapt.c: the json type (an array of
 * Event objects in the proto's JSON names), tenants, the whole-body
 * refusals, the basic / bearer credential checks and the kinds by name. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt_fixture.h"
#include "check_main.h"
#include "eng_types.h"
#include "ingest_adapt.h"

static const char *const allowed[] = {"acme", "beta"};

static int parse(const struct ingest_adapt_conf *c, const char *body,
                 struct ingest_adapt_out *o, char *err)
{
    return ingest_adapt_parse(c, body, strlen(body), 0, o, err, 256);
}

#define must_reject(c, body, why) afx_must_reject((c), (body), 0, (why))

/* ingest_adapt_kind_parse(name) must give want, and take exactly name: the
 * name with its first letter upper-cased, one letter short, one letter
 * longer, or with a space before or after is refused and leaves the kind as
 * it was. name: lower case, under 32 bytes. */
static void must_kind(const char *name, enum ingest_adapt_kind want)
{
    enum ingest_adapt_kind k;
    char up[40], shorter[40], longer[40], before[40], after[40];
    ck_assert_int_eq(ingest_adapt_kind_parse(name, &k), 0);
    ck_assert_int_eq(k, want);
    snprintf(up, sizeof(up), "%c%s", name[0] - 'a' + 'A', name + 1);
    snprintf(shorter, sizeof(shorter), "%.*s", (int)strlen(name) - 1, name);
    snprintf(longer, sizeof(longer), "%ss", name);
    snprintf(before, sizeof(before), " %s", name);
    snprintf(after, sizeof(after), "%s ", name);
    ck_assert_int_eq(ingest_adapt_kind_parse(up, &k), -1);
    ck_assert_int_eq(ingest_adapt_kind_parse(shorter, &k), -1);
    ck_assert_int_eq(ingest_adapt_kind_parse(longer, &k), -1);
    ck_assert_int_eq(ingest_adapt_kind_parse(before, &k), -1);
    ck_assert_int_eq(ingest_adapt_kind_parse(after, &k), -1);
    ck_assert_int_eq(k, want);
}

START_TEST(json_fixture_maps)
{
    struct ingest_adapt_conf c = {.kind = INGEST_ADAPT_JSON, .tenant = "acme"};
    struct ingest_adapt_out o = {0};
    char err[256] = "", *body = afx_load("json_events.json");
    ck_assert_int_eq(parse(&c, body, &o, err), MP_OK);
    ck_assert_uint_eq(o.n, 3);
    ck_assert_str_eq(o.ev[0].tenant, "acme");
    ck_assert_str_eq(o.ev[0].mailbox, "news@acme.example");
    ck_assert_str_eq(o.ev[0].domain, "gmail.example");
    ck_assert_int_eq(o.ev[0].type, ENG_DELIVERED);
    ck_assert_int_eq(o.ev[0].time_ms, 1764657600000LL); /* int64 as a decimal string */
    ck_assert_str_eq(o.ev[0].id, "j-1");
    ck_assert_str_eq(o.ev[1].domain, "yahoo.example");  /* snake_case names, lower-cased */
    ck_assert_int_eq(o.ev[1].type, ENG_BOUNCE_HARD);
    ck_assert_int_eq(o.ev[1].time_ms, 1764657601000LL);
    ck_assert_str_eq(o.ev[2].tenant, "acme"); /* left out: the endpoint's */
    ck_assert_int_eq(o.ev[2].type, ENG_OPEN); /* the enum's number */
    ck_assert_str_eq(o.ev[2].id, "");
    ingest_adapt_out_free(&o);
    free(body);
}
END_TEST

START_TEST(json_refusals)
{
    struct ingest_adapt_conf c = {.kind = INGEST_ADAPT_JSON, .tenant = "acme"};
    const char *ok = "\"mailbox\":\"a@acme.example\",\"recipientDomain\":\"x.example\","
                     "\"timeMs\":1764657600000";
    static const struct afx_refusal shapes[] = {{"{", "not JSON"},
                                                {"{}", "expected a JSON array"},
                                                {"[1]", "events[0]: expected an Event object"}};
    afx_must_reject_all(&c, 0, shapes, sizeof(shapes) / sizeof(shapes[0]));
    char body[512];
    snprintf(body, sizeof(body), "[{%s,\"type\":\"EVENT_TYPE_BOUNCE\"}]", ok);
    must_reject(&c, body, "events[0].type");
    snprintf(body, sizeof(body), "[{%s,\"type\":13}]", ok);
    must_reject(&c, body, "events[0].type");
    snprintf(body, sizeof(body), "[{%s,\"type\":2,\"tenant\":\"other\"}]", ok);
    must_reject(&c, body, "tenant \"other\" is not one this endpoint takes");
    /* the second event's fault refuses the first too: nothing half-read */
    must_reject(&c, "[{\"mailbox\":\"a@acme.example\",\"recipientDomain\":\"x.example\","
                    "\"type\":2,\"timeMs\":5},{\"type\":2}]",
                "events[1].recipientDomain");
    must_reject(&c, "[{\"mailbox\":\"no-at\",\"recipientDomain\":\"x.example\",\"type\":2,"
                    "\"timeMs\":5}]",
                "not a mail address");
    must_reject(&c, "[{\"mailbox\":\"a@b.example\",\"mailbox\":\"c@d.example\"}]", "not JSON");
}
END_TEST

/* No mailbox: read, with an empty one (counted at the scopes it has) */
START_TEST(json_without_mailbox)
{
    struct ingest_adapt_conf c = {.kind = INGEST_ADAPT_JSON, .tenant = "acme"};
    struct ingest_adapt_out o = {0};
    char err[256] = "";
    ck_assert_int_eq(parse(&c, "[{\"recipientDomain\":\"x.example\",\"type\":2,\"timeMs\":5},"
                               "{\"mailbox\":\"\",\"recipientDomain\":\"y.example\",\"type\":2,"
                               "\"timeMs\":5}]", &o, err), MP_OK);
    ck_assert_uint_eq(o.n, 2);
    ck_assert_str_eq(o.ev[0].mailbox, "");
    ck_assert_str_eq(o.ev[0].domain, "x.example");
    ck_assert_str_eq(o.ev[1].mailbox, "");
    ingest_adapt_out_free(&o);
}
END_TEST

START_TEST(json_allowed_tenants)
{
    struct ingest_adapt_conf c = {.kind = INGEST_ADAPT_JSON, .tenants = allowed, .ntenants = 2};
    struct ingest_adapt_out o = {0};
    char err[256];
    const char *body = "[{\"tenant\":\"beta\",\"mailbox\":\"a@beta.example\","
                       "\"recipientDomain\":\"x.example\",\"type\":2,\"timeMs\":5}]";
    ck_assert_int_eq(parse(&c, body, &o, err), MP_OK);
    ck_assert_str_eq(o.ev[0].tenant, "beta");
    ingest_adapt_out_free(&o);
    must_reject(&c, "[{\"tenant\":\"gamma\",\"mailbox\":\"a@beta.example\","
                    "\"recipientDomain\":\"x.example\",\"type\":2,\"timeMs\":5}]",
                "tenant \"gamma\"");
    must_reject(&c, "[{\"mailbox\":\"a@beta.example\",\"recipientDomain\":\"x.example\","
                    "\"type\":2,\"timeMs\":5}]",
                "tenant \"(missing)\"");
}
END_TEST

START_TEST(credentials)
{
    /* "user:pass" is dXNlcjpwYXNz; "user:pas" is dXNlcjpwYXM= */
    ck_assert(ingest_adapt_basic_ok("user:pass", "Basic dXNlcjpwYXNz"));
    ck_assert(ingest_adapt_basic_ok("user:pas", "basic dXNlcjpwYXM="));
    ck_assert(!ingest_adapt_basic_ok("user:pass", "Basic dXNlcjpwYXM="));
    ck_assert(!ingest_adapt_basic_ok("user:pass", "Bearer dXNlcjpwYXNz"));
    ck_assert(!ingest_adapt_basic_ok("user:pass", "Basic !!!!"));
    ck_assert(!ingest_adapt_basic_ok("user:pass", "Basic "));
    ck_assert(!ingest_adapt_basic_ok("user:pass", NULL));
    ck_assert(ingest_adapt_bearer_ok("t0k", "Bearer t0k"));
    ck_assert(!ingest_adapt_bearer_ok("t0k", "Bearer t0"));
    ck_assert(!ingest_adapt_bearer_ok("t0k", "Bearer t0kk"));
    ck_assert(!ingest_adapt_bearer_ok("t0k", NULL));
}
END_TEST

/* Every kind by its name, and only by exactly its name (the config's
 * adapters' `kind:`). */
START_TEST(kind_names)
{
    static const struct {
        const char *name;
        enum ingest_adapt_kind kind;
    } kinds[] = {{"json", INGEST_ADAPT_JSON},         {"mailgun", INGEST_ADAPT_MAILGUN},
                 {"postmark", INGEST_ADAPT_POSTMARK}, {"sendgrid", INGEST_ADAPT_SENDGRID},
                 {"ses", INGEST_ADAPT_SES}};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        must_kind(kinds[i].name, kinds[i].kind);
    enum ingest_adapt_kind k;
    ck_assert_int_eq(ingest_adapt_kind_parse("smtp", &k), -1);
    ck_assert_int_eq(ingest_adapt_kind_parse("SendGrid", &k), -1);
}
END_TEST

CHECK_SUITE("ingest_adapt", 30, NULL, NULL, json_fixture_maps, json_refusals, json_without_mailbox,
            json_allowed_tenants,
            credentials, kind_names)
