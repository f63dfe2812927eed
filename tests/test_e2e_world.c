/* test_e2e_world.c — Check suite "e2e_world": the parts of the e2e fixture
 * (tests/e2e_world.h) that need no daemon: the signature check against a
 * fixed vector and against the product's alert_sign(), the header parser's
 * refusals, ew_req() on a signed request through the shared receiver, and
 * the JSON helpers.
 */
#include <check.h>
#include <curl/curl.h>
#include <string.h>
#include <time.h>

#include "alert_notify.h"
#include "e2e_world.h"
#include "check_main.h"

/* HMAC-SHA256("e2e-secret", "1700000000.{\"a\":1}"), computed with Python's
 * hmac module, independently of both OpenSSL calls here and the daemon. */
#define VECTOR "b7f48720c516020c0586e5b22390273a6cd6a68dab3c173c0c730692a1ad03ad"

START_TEST(sig_vector)
{
    char hex[65];
    static const char body[] = "{\"a\":1}";
    ew_sig_hex("e2e-secret", 1700000000LL, body, strlen(body), hex);
    ck_assert_str_eq(hex, VECTOR);
    ew_sig_hex("e2e-secret", 1700000001LL, body, strlen(body), hex);
    ck_assert_str_ne(hex, VECTOR); /* the time is signed too */
}
END_TEST

START_TEST(sig_matches_alert_sign)
{
    static const char body[] = "{\"version\":\"4\",\"status\":\"firing\"}";
    char header[160], v1[65], hex[65];
    long long t = 0;
    alert_sign("top secret", 1795348800, body, strlen(body), header, sizeof(header));
    ck_assert_int_eq(ew_sig_parse(header, &t, v1), 1);
    ck_assert_int_eq(t, 1795348800LL);
    ew_sig_hex("top secret", t, body, strlen(body), hex);
    ck_assert_str_eq(v1, hex);
}
END_TEST

START_TEST(sig_parse_refuses)
{
    static const char *const bad[] = {
        NULL,
        "",
        "v1=" VECTOR,
        "t=,v1=" VECTOR,
        "t=17x,v1=" VECTOR,
        "t=1700000000;v1=" VECTOR,
        "t=1700000000,v1=" VECTOR "0",                       /* 65 hex */
        "t=1700000000,v1=B7F48720C516020C0586E5B22390273A6CD6A68DAB3C173C0C730692A1AD03AD",
        "t=1700000000,v2=" VECTOR,
    };
    long long t;
    char v1[65];
    for (size_t i = 0; i < MP_ARRAY_LEN(bad); i++)
        ck_assert_msg(ew_sig_parse(bad[i], &t, v1) == 0, "accepted: %s", bad[i] ? bad[i] : "NULL");
    ck_assert_int_eq(ew_sig_parse("t=1700000000,v1=" VECTOR, &t, v1), 1);
    ck_assert_str_eq(v1, VECTOR);
}
END_TEST

static size_t discard(char *p, size_t size, size_t n, void *arg) { return size * n; }

/* POSTs body to the receiver with the given headers. */
static void post(struct hrx *s, const char *body, struct curl_slist *hs)
{
    char url[96];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/hook-w", (unsigned)hrx_port(s));
    CURL *e = curl_easy_init();
    ck_assert_ptr_nonnull(e);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    ck_assert_int_eq(curl_easy_perform(e), CURLE_OK);
    curl_easy_cleanup(e);
}

START_TEST(req_checks_signature)
{
    static struct ew_world w; /* by hand: no daemon, no temp dir */
    memset(&w, 0, sizeof(w));
    snprintf(w.dir, sizeof(w.dir), "(none)");
    w.wall0 = mp_now_ms() / 1000;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ck_assert_int_eq(hrx_start(0, &w.raw[0], w.err, sizeof(w.err)), MP_OK);
    w.raw_secret[0] = "s3cret";
    w.nraw = 1;
    static const char body[] = "{\"receiver\":\"w\"}";
    char sig[160], header[200];
    alert_sign("s3cret", mp_now_ms() / 1000, body, strlen(body), sig, sizeof(sig));
    snprintf(header, sizeof(header), "X-Mailpulse-Signature: %s", sig);
    struct curl_slist *hs = curl_slist_append(NULL, header);
    hs = curl_slist_append(hs, "Idempotency-Key: k1");
    post(w.raw[0], body, hs);
    curl_slist_free_all(hs);
    ck_assert_int_eq(hrx_wait(w.raw[0], 1, 2000), MP_OK);
    const struct hrx_req *r = ew_req(&w, 0, 0);
    ck_assert_str_eq(r->body, body);
    json_t *j = ew_req_json(&w, r);
    ck_assert_str_eq(ew_jstr(j, "receiver"), "w");
    ck_assert_ptr_null(ew_jstr(j, "absent"));
    json_decref(j);
    hrx_stop(w.raw[0]);
    curl_global_cleanup();
}
END_TEST

START_TEST(json_helpers)
{
    ck_assert_int_eq(ew_streq("a", "a"), 1);
    ck_assert_int_eq(ew_streq("a", "b"), 0);
    ck_assert_int_eq(ew_streq(NULL, "a"), 0);
    ck_assert_int_eq(ew_streq("a", NULL), 0);
    json_t *j = json_pack("{s:s, s:i}", "s", "0123456789012345678901234567890123456789", "n", 7);
    ck_assert_ptr_null(ew_jstr(j, "n")); /* not a string */
    char *d = ew_jdump(j, 20);
    ck_assert_uint_le(strlen(d), 20);
    ck_assert_ptr_nonnull(strstr(d, "..."));
    free(d);
    d = ew_jdump(j, 1000);
    ck_assert_ptr_null(strstr(d, "..."));
    free(d);
    json_decref(j);
}
END_TEST

CHECK_SUITE("e2e_world", 20, NULL, NULL, sig_vector, sig_matches_alert_sign, sig_parse_refuses,
            req_checks_signature, json_helpers)
