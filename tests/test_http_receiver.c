/* test_http_receiver.c — Check suite "http_receiver": the shared test
 * receiver (tests/http_receiver.h) driven with libcurl over loopback.
 *
 * Proves: a free port is picked and served; each request's method, path,
 * headers and exact body bytes (a NUL included) are kept in arrival order
 * with the status it got; the default answer is 200 "ok", and another
 * status once set; a script answers the next requests in order (status,
 * Retry-After, a delay) and then falls back to the default; hrx_wait meets
 * its count or says MP_ERR_AGAIN at its deadline; hrx_forget starts the
 * count again; the hook sees every request once it is recorded; a port
 * already taken is refused.
 */
#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_receiver.h"
#include "check_main.h"

struct answer {
    long status;
    char retry_after[32];
    char body[64];
    size_t len;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct answer *a = arg;
    size_t n = size * nmemb;
    size_t room = sizeof(a->body) - 1 - a->len;
    size_t k = n < room ? n : room;
    memcpy(a->body + a->len, data, k);
    a->len += k;
    a->body[a->len] = '\0';
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    struct answer *a = arg;
    size_t n = size * nmemb;
    if (n > 13 && strncasecmp(data, "Retry-After: ", 13) == 0)
        snprintf(a->retry_after, sizeof(a->retry_after), "%.*s", (int)strcspn(data + 13, "\r\n"),
                 data + 13);
    return n;
}

/* `method` path on the receiver with `len` body bytes (NULL: none) and one
 * extra header (NULL: none). */
static struct answer call(struct hrx *s, const char *method, const char *path, const char *body,
                          size_t len, const char *header)
{
    struct answer a = {0};
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", (unsigned)hrx_port(s), path);
    CURL *e = curl_easy_init();
    ck_assert_ptr_nonnull(e);
    struct curl_slist *hs = header ? curl_slist_append(NULL, header) : NULL;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &a);
    CURLcode rc = curl_easy_perform(e);
    ck_assert_msg(rc == CURLE_OK, "%s %s: %s", method, url, curl_easy_strerror(rc));
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &a.status);
    curl_slist_free_all(hs);
    curl_easy_cleanup(e);
    return a;
}

static struct hrx *start(void)
{
    struct hrx *s = NULL;
    char err[256] = "";
    ck_assert_msg(hrx_start(0, &s, err, sizeof(err)) == MP_OK, "%s", err);
    ck_assert_uint_gt(hrx_port(s), 0);
    return s;
}

static void setup(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }
static void teardown(void) { curl_global_cleanup(); }

START_TEST(records_requests)
{
    struct hrx *s = start();
    static const char body[] = "{\"a\":1}\0tail"; /* a NUL inside: the bytes, not a string */
    struct answer a = call(s, "POST", "/hook-x", body, sizeof(body) - 1, "X-Test: v1");
    ck_assert_int_eq(a.status, 200);
    ck_assert_str_eq(a.body, "ok\n");
    a = call(s, "PUT", "/other", NULL, 0, NULL);
    ck_assert_int_eq(a.status, 200);
    ck_assert_uint_eq(hrx_count(s), 2);
    const struct hrx_req *r = hrx_get(s, 0);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->method, "POST");
    ck_assert_str_eq(r->path, "/hook-x");
    ck_assert_uint_eq(r->len, sizeof(body) - 1);
    ck_assert_int_eq(memcmp(r->body, body, r->len), 0);
    ck_assert_int_eq(r->body[r->len], '\0');
    ck_assert_uint_eq(r->status, 200);
    ck_assert_str_eq(hrx_req_header(r, "x-test"), "v1"); /* names case-insensitive */
    ck_assert_ptr_null(hrx_req_header(r, "X-Absent"));
    const struct hrx_req *r2 = hrx_get(s, 1);
    ck_assert_str_eq(r2->method, "PUT");
    ck_assert_uint_eq(r2->len, 0);
    ck_assert_str_eq(r2->body, "");
    ck_assert_int_ge(r2->mono_ns, r->mono_ns);
    ck_assert_ptr_null(hrx_get(s, 2));
    hrx_stop(s);
}
END_TEST

START_TEST(status_and_script)
{
    struct hrx *s = start();
    hrx_set_status(s, 503);
    struct answer a = call(s, "POST", "/h", "x", 1, NULL);
    ck_assert_int_eq(a.status, 503);
    ck_assert_str_eq(a.body, "scripted failure\n");
    ck_assert_str_eq(a.retry_after, "");
    const struct hrx_step steps[] = {{429, 7, 0}, {400, -1, 0}};
    hrx_script(s, steps, MP_ARRAY_LEN(steps));
    a = call(s, "POST", "/h", "x", 1, NULL);
    ck_assert_int_eq(a.status, 429);
    ck_assert_str_eq(a.retry_after, "7");
    a = call(s, "POST", "/h", "x", 1, NULL);
    ck_assert_int_eq(a.status, 400);
    ck_assert_str_eq(a.retry_after, "");
    a = call(s, "POST", "/h", "x", 1, NULL); /* the script is used up: the default again */
    ck_assert_int_eq(a.status, 503);
    hrx_set_default(s, (struct hrx_step){200, 3, 0});
    a = call(s, "POST", "/h", "x", 1, NULL);
    ck_assert_int_eq(a.status, 200);
    ck_assert_str_eq(a.retry_after, "3");
    ck_assert_uint_eq(hrx_count(s), 5);
    static const unsigned want[] = {503, 429, 400, 503, 200};
    for (size_t i = 0; i < MP_ARRAY_LEN(want); i++)
        ck_assert_uint_eq(hrx_get(s, i)->status, want[i]);
    hrx_stop(s);
}
END_TEST

START_TEST(delay_before_answer)
{
    struct hrx *s = start();
    hrx_set_default(s, (struct hrx_step){200, -1, 300});
    int64_t t0 = mp_mono_ns();
    struct answer a = call(s, "POST", "/slow", "x", 1, NULL);
    int64_t took_ms = (mp_mono_ns() - t0) / 1000000;
    ck_assert_int_eq(a.status, 200);
    ck_assert_int_ge(took_ms, 290);
    /* recorded before the delay: the time is the body's arrival */
    ck_assert_int_le((hrx_get(s, 0)->mono_ns - t0) / 1000000, 250);
    hrx_stop(s);
}
END_TEST

START_TEST(wait_and_forget)
{
    struct hrx *s = start();
    int64_t t0 = mp_mono_ns();
    ck_assert_int_eq(hrx_wait(s, 1, 100), MP_ERR_AGAIN);
    ck_assert_int_ge((mp_mono_ns() - t0) / 1000000, 95);
    call(s, "POST", "/a", "1", 1, NULL);
    call(s, "POST", "/b", "2", 1, NULL);
    ck_assert_int_eq(hrx_wait(s, 2, 1000), MP_OK);
    hrx_forget(s);
    ck_assert_uint_eq(hrx_count(s), 0);
    ck_assert_ptr_null(hrx_get(s, 0));
    call(s, "POST", "/c", "3", 1, NULL);
    ck_assert_int_eq(hrx_wait(s, 1, 1000), MP_OK);
    ck_assert_str_eq(hrx_get(s, 0)->path, "/c");
    hrx_stop(s);
}
END_TEST

struct seen {
    int n;
    char path[32];
};

static void hook(void *arg, const struct hrx_req *r)
{
    struct seen *sn = arg;
    sn->n++;
    snprintf(sn->path, sizeof(sn->path), "%s", r->path);
}

START_TEST(hook_sees_each_request)
{
    struct hrx *s = start();
    struct seen sn = {0};
    hrx_set_hook(s, hook, &sn);
    call(s, "POST", "/one", "1", 1, NULL); /* curl returns after the answer: the hook ran */
    ck_assert_int_eq(sn.n, 1);
    ck_assert_str_eq(sn.path, "/one");
    call(s, "POST", "/two", "2", 1, NULL);
    ck_assert_int_eq(sn.n, 2);
    ck_assert_str_eq(sn.path, "/two");
    hrx_stop(s);
}
END_TEST

START_TEST(port_taken_refused)
{
    struct hrx *a = start(), *b = NULL;
    char err[256] = "";
    ck_assert_int_eq(hrx_start(hrx_port(a), &b, err, sizeof(err)), MP_ERR_IO);
    ck_assert_ptr_null(b);
    ck_assert_ptr_nonnull(strstr(err, "cannot listen"));
    hrx_stop(a);
    hrx_stop(NULL); /* a no-op */
}
END_TEST

CHECK_SUITE("http_receiver", 20, setup, teardown, records_requests, status_and_script,
            delay_before_answer, wait_and_forget, hook_sees_each_request, port_taken_refused)
