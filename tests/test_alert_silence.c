/* test_alert_silence.c — alerts/alert_silence: silences.
 *
 * Matchers (=, !=, =~, !~; regexes anchored at both ends as Alertmanager's
 * RE2 ^(?:...)$; a missing label is ""), states over time (pending, active,
 * expired), validation of every field, the tenant pin, bounds, the store
 * round trip (and that an expired silence stays expired after a reload),
 * filters, and a concurrency smoke (threads putting, expiring and matching
 * at once; run under TSan by `make SANITIZER=thread`).
 */
#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_silence.h"
#include "check_main.h"
#include "unit_util.h"

#define T0 1800000000000LL /* 2027-01-15T08:00:00Z */
#define MIN 60000LL

static char dir[UNIT_PATH_MAX];
static struct alert_silences *S;

static void setup(void)
{
    char err[256];
    dir[0] = '\0';
    ck_assert_int_eq(alert_silences_open(NULL, NULL, NULL, &S, err, sizeof(err)), MP_OK);
}

static void teardown(void)
{
    alert_silences_free(S);
    if (dir[0])
        unit_tmpdir_remove(dir);
}

static void fmt_time(int64_t ms, char *buf, size_t n) { alert_format_time(ms, buf, n); }

/* A postableSilence with matchers `m` (a JSON array text) from start to end. */
static char *body(const char *m, int64_t start, int64_t end)
{
    char s[40], e[40], *out = malloc(8192);
    fmt_time(start, s, sizeof(s));
    fmt_time(end, e, sizeof(e));
    snprintf(out, 8192,
             "{\"matchers\":%s,\"startsAt\":\"%s\",\"endsAt\":\"%s\",\"createdBy\":\"ops\","
             "\"comment\":\"maintenance\"}",
             m, s, e);
    return out;
}

static int put_rc(const char *m, int64_t start, int64_t end, const char *only, char *id,
                  char *err)
{
    char *b = body(m, start, end);
    int rc = alert_silence_put_json(S, b, strlen(b), only, T0, id, err, 256);
    free(b);
    return rc;
}

static void put_ok(const char *m, int64_t start, int64_t end, char *id)
{
    char err[256] = "";
    int rc = put_rc(m, start, end, NULL, id, err);
    ck_assert_msg(rc == MP_OK, "put %s: %d %s", m, rc, err);
}

static void put_bad(const char *m, const char *needle)
{
    char err[256] = "", id[ALERT_SILENCE_ID_LEN];
    int rc = put_rc(m, T0, T0 + 60 * MIN, NULL, id, err);
    ck_assert_msg(rc == MP_ERR_INVAL && strstr(err, needle), "put %s: %d \"%s\", wanted \"%s\"",
                  m, rc, err, needle);
}

static size_t mutes(const char *tenant, const char *alertname, const char *domain, int64_t now)
{
    struct alert_label l[4] = {{"tenant", tenant}, {"alertname", alertname},
                               {"severity", "warning"}};
    size_t n = 3;
    if (domain)
        l[n++] = (struct alert_label){"recipient_domain", domain};
    return alert_silence_mutes(S, l, n, now, NULL, 0);
}

#define M(name, value, re, eq)                                                              \
    "{\"name\":\"" name "\",\"value\":\"" value "\",\"isRegex\":" re ",\"isEqual\":" eq "}"

START_TEST(matchers_and_anchoring)
{
    char id[ALERT_SILENCE_ID_LEN];
    put_ok("[" M("tenant", "acme", "false", "true") "," M("alertname", "bounce", "true",
                                                           "true") "]",
           T0, T0 + 60 * MIN, id);
    ck_assert_uint_eq(mutes("acme", "bounce", NULL, T0), 1);
    /* anchored: "bounce" does not match "bounce_rate" nor "xbounce" */
    ck_assert_uint_eq(mutes("acme", "bounce_rate", NULL, T0), 0);
    ck_assert_uint_eq(mutes("acme", "xbounce", NULL, T0), 0);
    ck_assert_uint_eq(mutes("acme2", "bounce", NULL, T0), 0);
    put_ok("[" M("tenant", "beta", "false", "true") "," M("recipient_domain", "gmail\\\\.com|yahoo\\\\.com",
                                                           "true", "false") "]",
           T0, T0 + 60 * MIN, id);
    /* !~: every domain but gmail and yahoo, and the alert without a domain */
    ck_assert_uint_eq(mutes("beta", "x", "outlook.com", T0), 1);
    ck_assert_uint_eq(mutes("beta", "x", "gmail.com", T0), 0);
    ck_assert_uint_eq(mutes("beta", "x", "gmailxcom", T0), 1); /* the dot is escaped */
    ck_assert_uint_eq(mutes("beta", "x", NULL, T0), 1);
    put_ok("[" M("tenant", "gamma", "false", "true") "," M("severity", "critical", "false",
                                                            "false") "]",
           T0, T0 + 60 * MIN, id);
    ck_assert_uint_eq(mutes("gamma", "x", NULL, T0), 1); /* warning != critical */
}
END_TEST

START_TEST(states_over_time)
{
    char id[ALERT_SILENCE_ID_LEN], *doc = NULL;
    put_ok("[" M("tenant", "acme", "false", "true") "]", T0 + 10 * MIN, T0 + 20 * MIN, id);
    ck_assert_uint_eq(mutes("acme", "a", NULL, T0), 0); /* pending */
    ck_assert_uint_eq(mutes("acme", "a", NULL, T0 + 10 * MIN), 1);
    ck_assert_uint_eq(mutes("acme", "a", NULL, T0 + 20 * MIN - 1), 1);
    ck_assert_uint_eq(mutes("acme", "a", NULL, T0 + 20 * MIN), 0); /* expired */
    ck_assert_int_eq(alert_silence_get_json(S, id, NULL, T0, &doc), MP_OK);
    ck_assert_msg(strstr(doc, "\"state\":\"pending\""), "%s", doc);
    free(doc);
    ck_assert_int_eq(alert_silence_get_json(S, id, NULL, T0 + 15 * MIN, &doc), MP_OK);
    ck_assert_msg(strstr(doc, "\"state\":\"active\"") && strstr(doc, "\"createdBy\":\"ops\""),
                  "%s", doc);
    free(doc);
    /* expiring a pending silence: it never starts */
    ck_assert_int_eq(alert_silence_expire(S, id, NULL, T0 + 5 * MIN), MP_OK);
    ck_assert_uint_eq(mutes("acme", "a", NULL, T0 + 15 * MIN), 0);
    ck_assert_int_eq(alert_silence_get_json(S, id, NULL, T0 + 15 * MIN, &doc), MP_OK);
    ck_assert_msg(strstr(doc, "\"state\":\"expired\""), "%s", doc);
    free(doc);
    ck_assert_int_eq(alert_silence_expire(S, id, NULL, T0 + 16 * MIN), MP_OK); /* again: no-op */
    ck_assert_int_eq(alert_silence_expire(S, "00000000-0000-4000-8000-000000000000", NULL, T0),
                     MP_ERR_NOTFOUND);
}
END_TEST

START_TEST(validation)
{
    put_bad("[]", "matchers");
    put_bad("[" M("9tenant", "a", "false", "true") "]", "bad matcher name");
    put_bad("[" M("tenant", "(", "true", "true") "]", "bad regex");
    put_bad("[" M("tenant", ".*", "true", "true") "]", "empty string");
    put_bad("[" M("tenant", "a", "false", "false") "]", "empty string"); /* != a matches "" */
    put_bad("[{\"name\":\"tenant\",\"value\":\"a\"}]", "isRegex");
    char err[256] = "", id[ALERT_SILENCE_ID_LEN];
    ck_assert_int_eq(put_rc("[" M("tenant", "a", "false", "true") "]", T0, T0 - MIN, NULL, id,
                            err),
                     MP_ERR_INVAL);
    ck_assert_msg(strstr(err, "after startsAt"), "%s", err);
    ck_assert_int_eq(put_rc("[" M("tenant", "a", "false", "true") "]", T0 - 9 * MIN, T0 - MIN,
                            NULL, id, err),
                     MP_ERR_INVAL);
    ck_assert_msg(strstr(err, "past"), "%s", err);
    const char *bad[] = {"x", "{}", "[1]",
                         "{\"matchers\":[" M("tenant", "a", "false", "true") "],"
                         "\"startsAt\":\"2027-01-15\",\"endsAt\":\"2027-01-16T00:00:00Z\","
                         "\"createdBy\":\"o\",\"comment\":\"c\"}",
                         "{\"matchers\":[" M("tenant", "a", "false", "true") "],"
                         "\"startsAt\":\"2027-01-15T08:00:00Z\",\"endsAt\":\"2099-01-16T00:00:00Z\","
                         "\"createdBy\":\"o\",\"comment\":\"\"}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        ck_assert_msg(alert_silence_put_json(S, bad[i], strlen(bad[i]), NULL, T0, id, err,
                                             sizeof(err)) == MP_ERR_INVAL,
                      "accepted %s", bad[i]);
    /* sizes: a value over ALERT_SILENCE_VALUE_MAX */
    char *big = malloc(ALERT_SILENCE_VALUE_MAX + 200);
    int off = snprintf(big, 64, "[{\"name\":\"tenant\",\"isRegex\":false,\"value\":\"");
    memset(big + off, 'v', ALERT_SILENCE_VALUE_MAX + 1);
    strcpy(big + off + ALERT_SILENCE_VALUE_MAX + 1, "\"}]");
    put_bad(big, "longer than");
    free(big);
    ck_assert_int_eq(alert_silence_count(S), 0);
}
END_TEST

START_TEST(tenant_pin)
{
    char err[256] = "", id[ALERT_SILENCE_ID_LEN], other[ALERT_SILENCE_ID_LEN], *doc;
    ck_assert_int_eq(put_rc("[" M("alertname", "a", "false", "true") "]", T0, T0 + MIN, "acme",
                            id, err),
                     MP_ERR_INVAL);
    ck_assert_msg(strstr(err, "tenant=\"acme\""), "%s", err);
    ck_assert_int_eq(put_rc("[" M("tenant", "acme", "true", "true") "]", T0, T0 + MIN, "acme",
                            id, err),
                     MP_ERR_INVAL); /* a regex does not pin */
    ck_assert_int_eq(put_rc("[" M("tenant", "acme", "false", "true") "]", T0, T0 + MIN, "acme",
                            id, err),
                     MP_OK);
    put_ok("[" M("tenant", "beta", "false", "true") "]", T0, T0 + MIN, other);
    ck_assert_int_eq(alert_silence_get_json(S, other, "acme", T0, &doc), MP_ERR_NOTFOUND);
    ck_assert_int_eq(alert_silence_expire(S, other, "acme", T0), MP_ERR_NOTFOUND);
    ck_assert_int_eq(alert_silence_list_json(S, NULL, 0, "acme", T0, &doc, err, sizeof(err)),
                     MP_OK);
    ck_assert_msg(strstr(doc, id) && !strstr(doc, other), "%s", doc);
    free(doc);
    ck_assert_int_eq(alert_silence_list_json(S, NULL, 0, NULL, T0, &doc, err, sizeof(err)),
                     MP_OK);
    ck_assert_msg(strstr(doc, id) && strstr(doc, other), "%s", doc);
    free(doc);
    const char *f[] = {"tenant=\"beta\""};
    ck_assert_int_eq(alert_silence_list_json(S, f, 1, NULL, T0, &doc, err, sizeof(err)), MP_OK);
    ck_assert_msg(!strstr(doc, id) && strstr(doc, other), "%s", doc);
    free(doc);
    const char *badf[] = {"tenant~beta"};
    ck_assert_int_eq(alert_silence_list_json(S, badf, 1, NULL, T0, &doc, err, sizeof(err)),
                     MP_ERR_INVAL);
    /* replacing: another tenant's id is not found for acme */
    char *b = body("[" M("tenant", "acme", "false", "true") "]", T0, T0 + MIN);
    char *withid = malloc(strlen(b) + 64);
    sprintf(withid, "{\"id\":\"%s\",%s", other, b + 1);
    ck_assert_int_eq(alert_silence_put_json(S, withid, strlen(withid), "acme", T0, id, err,
                                            sizeof(err)),
                     MP_ERR_NOTFOUND);
    free(withid);
    free(b);
}
END_TEST

START_TEST(filters)
{
    struct alert_label l[] = {{"tenant", "acme"}, {"alertname", "bounce_rate"}};
    char err[256];
    ck_assert_int_eq(alert_silence_filter_match("tenant=acme", l, 2, err, sizeof(err)), 1);
    ck_assert_int_eq(alert_silence_filter_match("tenant=\"acme\"", l, 2, err, sizeof(err)), 1);
    ck_assert_int_eq(alert_silence_filter_match("alertname=~\"bounce.*\"", l, 2, err,
                                                sizeof(err)),
                     1);
    ck_assert_int_eq(alert_silence_filter_match("alertname=~bounce", l, 2, err, sizeof(err)), 0);
    ck_assert_int_eq(alert_silence_filter_match("tenant!=acme", l, 2, err, sizeof(err)), 0);
    ck_assert_int_eq(alert_silence_filter_match("mailbox!~.+", l, 2, err, sizeof(err)), 1);
    ck_assert_int_eq(alert_silence_filter_match("=x", l, 2, err, sizeof(err)), MP_ERR_INVAL);
}
END_TEST

START_TEST(bounds)
{
    char id[ALERT_SILENCE_ID_LEN], err[256] = "";
    char *b = body("[" M("tenant", "acme", "false", "true") "]", T0, T0 + MIN);
    for (int i = 0; i < ALERT_SILENCES_MAX; i++)
        ck_assert_int_eq(alert_silence_put_json(S, b, strlen(b), NULL, T0, id, err, sizeof(err)),
                         MP_OK);
    ck_assert_int_eq(alert_silence_put_json(S, b, strlen(b), NULL, T0, id, err, sizeof(err)),
                     MP_ERR_FULL);
    ck_assert_msg(strstr(err, "too many silences"), "%s", err);
    free(b);
    /* once past the retention, expired ones make room */
    int64_t later = T0 + MIN + ALERT_SILENCE_RETENTION_MS + 1;
    b = body("[" M("tenant", "acme", "false", "true") "]", later, later + MIN);
    ck_assert_int_eq(alert_silence_put_json(S, b, strlen(b), NULL, later, id, err, sizeof(err)),
                     MP_OK);
    ck_assert_uint_eq(alert_silence_count(S), 1);
    free(b);
}
END_TEST

START_TEST(store_round_trip)
{
    char err[256], a[ALERT_SILENCE_ID_LEN], x[ALERT_SILENCE_ID_LEN], *doc = NULL;
    unit_tmpdir("alert_silence", dir);
    struct eng_store *st = unit_store_open(dir);
    alert_silences_free(S);
    ck_assert_int_eq(alert_silences_open(st, NULL, NULL, &S, err, sizeof(err)), MP_OK);
    put_ok("[" M("tenant", "acme", "false", "true") "," M("alertname", "b.*", "true", "true") "]",
           T0, T0 + 60 * MIN, a);
    put_ok("[" M("tenant", "beta", "false", "true") "]", T0, T0 + 60 * MIN, x);
    ck_assert_int_eq(alert_silence_expire(S, x, NULL, T0 + MIN), MP_OK);
    ck_assert_int_eq(alert_silence_get_json(S, a, NULL, T0, &doc), MP_OK);
    alert_silences_free(S);
    S = NULL;
    ck_assert_int_eq(alert_silences_open(st, NULL, NULL, &S, err, sizeof(err)), MP_OK);
    ck_assert_uint_eq(alert_silence_count(S), 2);
    char *again = NULL;
    ck_assert_int_eq(alert_silence_get_json(S, a, NULL, T0, &again), MP_OK);
    ck_assert_str_eq(doc, again);
    ck_assert_uint_eq(mutes("acme", "bounce", NULL, T0 + 2 * MIN), 1);
    ck_assert_uint_eq(mutes("beta", "bounce", NULL, T0 + 2 * MIN), 0); /* stays expired */
    free(doc);
    free(again);
    alert_silences_free(S);
    S = NULL;
    eng_store_close(st);
    ck_assert_int_eq(alert_silences_open(NULL, NULL, NULL, &S, err, sizeof(err)), MP_OK);
}
END_TEST

/* ---- concurrency smoke ---- */

static void *smoke__writer(void *arg)
{
    char id[ALERT_SILENCE_ID_LEN], err[256];
    char *b = body("[" M("tenant", "acme", "false", "true") "]", T0, T0 + 60 * MIN);
    for (int i = 0; i < 300; i++) {
        if (alert_silence_put_json(S, b, strlen(b), NULL, T0, id, err, sizeof(err)) == MP_OK &&
            (i & 1))
            alert_silence_expire(S, id, NULL, T0);
    }
    free(b);
    return arg;
}

static void *smoke__reader(void *arg)
{
    size_t *hits = arg;
    for (int i = 0; i < 2000; i++)
        *hits += mutes("acme", "x", NULL, T0) > 0;
    return NULL;
}

START_TEST(concurrency_smoke)
{
    pthread_t w[2], r[2];
    size_t hits[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        pthread_create(&w[i], NULL, smoke__writer, NULL);
        pthread_create(&r[i], NULL, smoke__reader, &hits[i]);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(w[i], NULL);
        pthread_join(r[i], NULL);
    }
    ck_assert_uint_eq(alert_silence_count(S), 600);
    ck_assert_uint_eq(mutes("acme", "x", NULL, T0 + 1), 300); /* the unexpired half */
    char *doc = NULL, err[64];
    ck_assert_int_eq(alert_silence_list_json(S, NULL, 0, NULL, T0 + 1, &doc, err, sizeof(err)),
                     MP_OK);
    json_t *j = json_loads(doc, 0, NULL);
    ck_assert_uint_eq(json_array_size(j), 600);
    /* sorted: active before expired */
    const char *first = json_string_value(
        json_object_get(json_object_get(json_array_get(j, 0), "status"), "state"));
    ck_assert_str_eq(first, "active");
    json_decref(j);
    free(doc);
}
END_TEST

CHECK_SUITE("alert_silence", 60, setup, teardown, matchers_and_anchoring, states_over_time,
            validation, tenant_pin, filters, bounds, store_round_trip, concurrency_smoke)
