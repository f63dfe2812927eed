/* test_mp_http.c — Check suite "mp_http": cmd/daemon/mp_http, the daemon's
 * HTTP server, started for real and asked with libcurl.
 *
 * It listens on 127.0.0.1 and on [::1] (the listen address goes through
 * mp_addr, as config validation's does), routes exact paths and prefixes,
 * passes query arguments and the percent-decoded path to request handlers,
 * answers 404 for unknown paths and 405 with an Allow header for other
 * methods, serves HEAD as GET without a body, refuses too many arguments
 * with 400, and refuses bad or unresolvable listen addresses and a port in
 * use with the reason in err.
 */
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "cli_api.h"
#include "e2e_harness.h"
#include "mp_http.h"

static void hello(void *arg, const char *path, struct mp_http_reply *out)
{
    out->status = 200;
    out->content_type = "text/plain";
    out->body = strdup(arg ? (const char *)arg : path);
    out->len = strlen(out->body);
}

/* Echoes method, path and arguments as JSON. */
static void echo(void *arg, const struct mp_http_request *req, struct mp_http_reply *out)
{
    MP_UNUSED(arg);
    json_t *args = json_array();
    for (size_t i = 0; i < req->nargs; i++)
        json_array_append_new(args, json_pack("[s,s?]", req->args[i].name, req->args[i].value));
    const char *b = mp_http_arg_get(req, "b");
    json_t *o = json_pack("{s:s,s:s,s:o,s:s?}", "method", req->method, "path", req->path, "args",
                          args, "b", b);
    out->status = 200;
    out->content_type = "application/json";
    out->body = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    out->len = strlen(out->body);
    json_decref(o);
}

static void teapot(void *arg, const char *path, struct mp_http_reply *out)
{
    MP_UNUSED(arg);
    MP_UNUSED(path);
    mp_http_error(out, 418, "short and stout");
}

static const struct mp_http_route routes[] = {
    {"GET", "/hello", hello, 0, NULL},
    {"GET", "/q", NULL, 0, echo},
    {"GET", "/p/", NULL, MP_HTTP_PREFIX, echo},
    {"POST", "/tea", teapot, 0, NULL},
};

struct server {
    struct mp_http *h;
    char base[64]; /* http://host:port */
};

/* Starts the routes on `fmt` (a host:port format with %u for the port) on a
 * port free a moment ago; a port taken in between is retried. */
static void start(struct server *s, const char *fmt, const char *urlfmt)
{
    char err[512] = "";
    for (int attempt = 0; attempt < 10; attempt++) {
        uint16_t port;
        ck_assert_int_eq(e2e_free_port(&port, NULL, 0, err, sizeof(err)), MP_OK);
        char listen[64];
        snprintf(listen, sizeof(listen), fmt, (unsigned)port);
        int rc = mp_http_start(listen, routes, MP_ARRAY_LEN(routes), NULL, &s->h, err,
                               sizeof(err));
        if (rc == MP_OK) {
            snprintf(s->base, sizeof(s->base), urlfmt, (unsigned)port);
            return;
        }
        ck_assert_msg(rc == MP_ERR_IO, "%s: %s", listen, err);
    }
    ck_abort_msg("no free port to listen on: %s", err);
}

/* One request: method (NULL: GET), status, body (caller frees) and, when
 * allow is not NULL, the Allow header's value. */
struct answer {
    long status;
    struct mp_buf body;
    char allow[128];
    char ctype[128];
};

static size_t on_body(char *d, size_t sz, size_t n, void *arg)
{
    struct answer *a = arg;
    return mp_buf_append(&a->body, d, sz * n) == MP_OK ? sz * n : 0;
}

static size_t on_header(char *d, size_t sz, size_t n, void *arg)
{
    struct answer *a = arg;
    size_t len = sz * n;
    char *dst = NULL;
    size_t skip = 0;
    if (len > 6 && strncasecmp(d, "Allow:", 6) == 0)
        dst = a->allow, skip = 6;
    else if (len > 13 && strncasecmp(d, "Content-Type:", 13) == 0)
        dst = a->ctype, skip = 13;
    if (dst) {
        while (skip < len && d[skip] == ' ')
            skip++;
        size_t m = strcspn(d + skip, "\r\n");
        if (m > len - skip)
            m = len - skip;
        snprintf(dst, 128, "%.*s", (int)m, d + skip);
    }
    return len;
}

static void ask(const struct server *s, const char *method, const char *path, struct answer *a)
{
    char url[512];
    snprintf(url, sizeof(url), "%s%s", s->base, path);
    memset(a, 0, sizeof(*a));
    CURL *e = curl_easy_init();
    ck_assert_ptr_nonnull(e);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, a);
    if (method && strcmp(method, "HEAD") == 0)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else if (method)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    CURLcode cc = curl_easy_perform(e);
    ck_assert_msg(cc == CURLE_OK, "%s %s: %s", method ? method : "GET", url,
                  curl_easy_strerror(cc));
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &a->status);
    curl_easy_cleanup(e);
    if (!a->body.p)
        ck_assert_int_eq(mp_buf_puts(&a->body, ""), MP_OK);
}

/* GET through the CLI's one API client, as `mailpulse stats` does. */
static void get_hello(const struct server *s)
{
    char url[128], err[256] = "";
    long status = 0;
    char *body = NULL;
    snprintf(url, sizeof(url), "%s/hello", s->base);
    ck_assert_msg(cli_api_get(url, 5000, &status, &body, err, sizeof(err)) == MP_OK, "%s: %s",
                  url, err);
    ck_assert_int_eq(status, 200);
    ck_assert_str_eq(body, "/hello");
    free(body);
}

START_TEST(serves_ipv4)
{
    struct server s;
    start(&s, "127.0.0.1:%u", "http://127.0.0.1:%u");
    get_hello(&s);
    mp_http_stop(s.h);
}
END_TEST

START_TEST(serves_ipv6)
{
    struct server s;
    start(&s, "[::1]:%u", "http://[::1]:%u");
    get_hello(&s);
    struct answer a;
    ask(&s, NULL, "/q?x=1", &a);
    ck_assert_int_eq(a.status, 200);
    ck_assert_str_eq(a.body.p, "{\"args\":[[\"x\",\"1\"]],\"b\":null,\"method\":\"GET\",\"path\":\"/q\"}");
    mp_buf_free(&a.body);
    mp_http_stop(s.h);
}
END_TEST

START_TEST(serves_localhost)
{
    struct server s;
    start(&s, "localhost:%u", "http://127.0.0.1:%u");
    get_hello(&s);
    mp_http_stop(s.h);
}
END_TEST

START_TEST(routes_and_errors)
{
    struct server s;
    struct answer a;
    start(&s, "127.0.0.1:%u", "http://127.0.0.1:%u");

    ask(&s, NULL, "/nope", &a);
    ck_assert_int_eq(a.status, 404);
    ck_assert_str_eq(a.body.p, "{\"error\":\"no such path\"}");
    ck_assert_str_eq(a.ctype, "application/json");
    mp_buf_free(&a.body);

    ask(&s, "POST", "/hello", &a);
    ck_assert_int_eq(a.status, 405);
    ck_assert_str_eq(a.allow, "GET, HEAD");
    ck_assert_str_eq(a.body.p, "{\"error\":\"method POST not allowed; allowed: GET, HEAD\"}");
    mp_buf_free(&a.body);

    ask(&s, "DELETE", "/tea", &a);
    ck_assert_int_eq(a.status, 405);
    ck_assert_str_eq(a.allow, "POST");
    mp_buf_free(&a.body);

    ask(&s, "POST", "/tea", &a);
    ck_assert_int_eq(a.status, 418);
    ck_assert_str_eq(a.body.p, "{\"error\":\"short and stout\"}");
    mp_buf_free(&a.body);

    ask(&s, "HEAD", "/hello", &a);
    ck_assert_int_eq(a.status, 200);
    ck_assert_str_eq(a.body.p, "");
    ck_assert_str_eq(a.ctype, "text/plain");
    mp_buf_free(&a.body);

    /* A prefix route sees the whole path, percent-decoded. */
    ask(&s, NULL, "/p/a%2Fb?b=two&flag&empty=", &a);
    ck_assert_int_eq(a.status, 200);
    ck_assert_str_eq(a.body.p, "{\"args\":[[\"b\",\"two\"],[\"flag\",null],[\"empty\",\"\"]],"
                               "\"b\":\"two\",\"method\":\"GET\",\"path\":\"/p/a/b\"}");
    mp_buf_free(&a.body);
    mp_http_stop(s.h);
}
END_TEST

START_TEST(too_many_args)
{
    struct server s;
    struct answer a;
    start(&s, "127.0.0.1:%u", "http://127.0.0.1:%u");
    char path[512] = "/q?";
    for (int i = 0; i <= MP_HTTP_MAX_ARGS; i++)
        snprintf(path + strlen(path), sizeof(path) - strlen(path), "a%d=1&", i);
    ask(&s, NULL, path, &a);
    ck_assert_int_eq(a.status, 400);
    ck_assert_msg(strstr(a.body.p, "too many query arguments (33); at most 32") != NULL, "%s",
                  a.body.p);
    mp_buf_free(&a.body);
    path[strlen("/q?") + strlen("a0=1&") * 10] = '\0'; /* a0..a9: fine */
    ask(&s, NULL, path, &a);
    ck_assert_int_eq(a.status, 200);
    mp_buf_free(&a.body);
    mp_http_stop(s.h);
}
END_TEST

START_TEST(bad_listen)
{
    static const struct {
        const char *listen;
        int rc;
        const char *msg;
    } cases[] = {
        {"::1:7480", MP_ERR_INVAL, "http.listen ::1:7480: expected host:port with port 1..65535"},
        {"127.0.0.1", MP_ERR_INVAL, "http.listen 127.0.0.1: expected host:port"},
        {"127.0.0.1:0", MP_ERR_INVAL, "http.listen 127.0.0.1:0: expected host:port"},
        {"[::1:80", MP_ERR_INVAL, "IPv6 in brackets"},
        {"no-such-host.invalid:80", MP_ERR_NOTFOUND,
         "http.listen no-such-host.invalid: cannot resolve"},
    };
    for (size_t i = 0; i < MP_ARRAY_LEN(cases); i++) {
        struct mp_http *h = NULL;
        char err[512] = "";
        ck_assert_int_eq(mp_http_start(cases[i].listen, routes, MP_ARRAY_LEN(routes), NULL, &h,
                                       err, sizeof(err)),
                         cases[i].rc);
        ck_assert_msg(strstr(err, cases[i].msg) != NULL, "%s: %s", cases[i].listen, err);
        ck_assert_ptr_null(h);
    }
}
END_TEST

START_TEST(port_in_use)
{
    struct server s;
    start(&s, "127.0.0.1:%u", "http://127.0.0.1:%u");
    const char *port = strrchr(s.base, ':') + 1;
    char listen[64], err[512] = "";
    snprintf(listen, sizeof(listen), "127.0.0.1:%s", port);
    struct mp_http *h2 = NULL;
    ck_assert_int_eq(mp_http_start(listen, routes, 1, NULL, &h2, err, sizeof(err)), MP_ERR_IO);
    ck_assert_msg(strstr(err, "cannot listen on http.listen 127.0.0.1:") != NULL, "%s", err);
    mp_http_stop(s.h);
    mp_http_stop(NULL); /* a no-op */
}
END_TEST

/* libcurl for the client side, per case (each runs in its own process). */
static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void teardown(void)
{
    curl_global_cleanup();
}

Suite *test_suite(void)
{
    return check_suite("mp_http", 30, setup, teardown,
                       CHECK_TESTS(serves_ipv4, serves_ipv6, serves_localhost, routes_and_errors,
                                   too_many_args, bad_listen, port_in_use));
}
