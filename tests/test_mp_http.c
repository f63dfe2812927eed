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
 *
 * Staying up (mp_http_opts): the N+1th connection from one address is closed
 * at once, and a new one is taken once one of the N closes; libmicrohttpd's
 * message about it reaches stderr through mp_log, quoted, without its
 * newline; a request head trickled one header line at a time is cut after
 * header_timeout though it is never idle for long; a request with a body is
 * refused 413 (an MP_HTTP_BODY route takes one up to MP_HTTP_BODY_MAX); a
 * slow handler does not hold up another request.
 */
#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_main.h"
#include "unit_util.h"
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

/* Takes its time, as a heavy query would. */
static void slow(void *arg, const char *path, struct mp_http_reply *out)
{
    usleep(1500 * 1000);
    hello(arg, path, out);
}

/* MP_HTTP_BODY: echoes the body's length and its first bytes. */
static void body_echo(void *arg, const struct mp_http_request *req, struct mp_http_reply *out)
{
    MP_UNUSED(arg);
    char buf[64];
    snprintf(buf, sizeof(buf), "%zu:%.20s", req->body_len, req->body ? req->body : "(none)");
    out->status = 200;
    out->body = strdup(buf);
    out->len = strlen(out->body);
}

static const struct mp_http_route routes[] = {
    {"POST", "/body", NULL, MP_HTTP_BODY, body_echo},
    {"POST", "/large", NULL, MP_HTTP_BODY | MP_HTTP_BODY_HOOKS, body_echo},
    {"GET", "/hello", hello, 0, NULL},
    {"GET", "/slow", slow, 0, NULL},
    {"GET", "/fast", hello, MP_HTTP_INLINE, NULL},
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
static void start_with(struct server *s, const char *fmt, const char *urlfmt,
                       const struct mp_http_opts *opts)
{
    char err[512] = "";
    for (int attempt = 0; attempt < 10; attempt++) {
        uint16_t port;
        ck_assert_int_eq(e2e_free_port(&port, NULL, 0, err, sizeof(err)), MP_OK);
        char listen[64];
        snprintf(listen, sizeof(listen), fmt, (unsigned)port);
        int rc = opts ? mp_http_start_opts(listen, routes, MP_ARRAY_LEN(routes), NULL, opts,
                                           &s->h, err, sizeof(err))
                      : mp_http_start(listen, routes, MP_ARRAY_LEN(routes), NULL, &s->h, err,
                                      sizeof(err));
        if (rc == MP_OK) {
            snprintf(s->base, sizeof(s->base), urlfmt, (unsigned)port);
            return;
        }
        ck_assert_msg(rc == MP_ERR_IO, "%s: %s", listen, err);
    }
    ck_abort_msg("no free port to listen on: %s", err);
}

static void start(struct server *s, const char *fmt, const char *urlfmt)
{
    start_with(s, fmt, urlfmt, NULL);
}

/* One request to s: method (NULL: GET) on base + path. */
static void ask(const struct server *s, const char *method, const char *path,
                struct unit_answer *a)
{
    char url[512];
    snprintf(url, sizeof(url), "%s%s", s->base, path);
    unit_http(method, url, NULL, 0, NULL, 5000, a);
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
    struct unit_answer a;
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
    struct unit_answer a;
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
    struct unit_answer a;
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

/* ---- raw connections, for what a well-behaved client never does ---------- */

static int64_t now_ms(void)
{
    return mp_mono_ns() / 1000000;
}

/* A TCP connection to the server on 127.0.0.1. */
static int dial(const struct server *s)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_port = htons((uint16_t)atoi(strrchr(s->base, ':') + 1));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

/* Reads what the server sends into buf (NUL-terminated) until it closes the
 * connection or timeout_ms passes: 1 when it closed, 0 on the timeout. */
static int drain(int fd, char *buf, size_t n, int timeout_ms)
{
    size_t len = 0;
    int64_t end = now_ms() + timeout_ms;
    buf[0] = '\0';
    for (int64_t left; (left = end - now_ms()) > 0;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        char tmp[1024];
        ssize_t r = recv(fd, tmp, sizeof(tmp), 0);
        if (r <= 0)
            return 1;
        size_t take = (size_t)r < n - 1 - len ? (size_t)r : n - 1 - len;
        memcpy(buf + len, tmp, take);
        buf[len += take] = '\0';
    }
    return 0;
}

static void say(int fd, const char *text)
{
    ck_assert_int_eq(send(fd, text, strlen(text), MSG_NOSIGNAL), (ssize_t)strlen(text));
}

#define GET_HELLO "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

START_TEST(per_ip_limit)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    int saved = dup(STDERR_FILENO);
    ck_assert_int_ge(dup2(p[1], STDERR_FILENO), 0);

    struct server s;
    struct mp_http_opts o = {.max_per_ip = 2};
    start_with(&s, "127.0.0.1:%u", "http://127.0.0.1:%u", &o);
    char buf[4096];
    int a = dial(&s), b = dial(&s);
    usleep(200 * 1000); /* both accepted before the third */
    int c = dial(&s);
    ck_assert_msg(drain(c, buf, sizeof(buf), 2000) == 1, "the third connection stayed open");
    ck_assert_str_eq(buf, "");
    close(c);
    ck_assert_int_eq(drain(a, buf, sizeof(buf), 100), 0); /* the first two are still open */
    say(b, GET_HELLO);
    ck_assert_int_eq(drain(b, buf, sizeof(buf), 2000), 1);
    ck_assert_msg(strncmp(buf, "HTTP/1.1 200", 12) == 0, "%s", buf);
    close(b);
    usleep(200 * 1000);
    int d = dial(&s); /* b's place is free again */
    say(d, GET_HELLO);
    ck_assert_int_eq(drain(d, buf, sizeof(buf), 2000), 1);
    ck_assert_msg(strncmp(buf, "HTTP/1.1 200", 12) == 0, "%s", buf);
    close(d);
    close(a);
    mp_http_stop(s.h);

    dup2(saved, STDERR_FILENO);
    close(saved);
    close(p[1]);
    char log[1 << 14];
    ssize_t n = read(p[0], log, sizeof(log) - 1);
    close(p[0]);
    log[n > 0 ? n : 0] = '\0';
    /* One line per message, through mp_log and quoted, newline cut. */
    const char *line = strstr(log, "level=warn msg=http_server msg=\"");
    ck_assert_msg(line != NULL, "no http_server line in: %s", log);
    const char *eol = strchr(line, '\n');
    ck_assert_ptr_nonnull(eol);
    ck_assert_msg(strncmp(eol - strlen("\" suppressed=0"), "\" suppressed=0", 14) == 0, "%.*s",
                  (int)(eol - line), line);
    ck_assert_msg(strstr(line, "\\n\"") == NULL, "newline kept: %.*s", (int)(eol - line), line);
}
END_TEST

START_TEST(header_timeout)
{
    struct server s;
    struct mp_http_opts o = {.timeout_ms = 10000, .header_timeout_ms = 1000};
    start_with(&s, "127.0.0.1:%u", "http://127.0.0.1:%u", &o);
    char buf[4096];
    /* A slowloris: never idle for more than 200 ms, never done. */
    int fd = dial(&s);
    int64_t t0 = now_ms();
    say(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n");
    int closed = 0;
    for (int i = 0; i < 25 && !closed; i++) {
        closed = drain(fd, buf, sizeof(buf), 200);
        if (!closed && send(fd, "X-Slow: 1\r\n", 11, MSG_NOSIGNAL) < 0)
            closed = 1;
    }
    int64_t took = now_ms() - t0;
    close(fd);
    ck_assert_msg(closed, "a trickled request head was never cut");
    ck_assert_msg(took >= 900 && took < 2500, "cut after %lld ms, header_timeout 1000 ms",
                  (long long)took);
    /* A complete request on a fresh connection is answered. */
    fd = dial(&s);
    say(fd, GET_HELLO);
    ck_assert_int_eq(drain(fd, buf, sizeof(buf), 2000), 1);
    ck_assert_msg(strncmp(buf, "HTTP/1.1 200", 12) == 0, "%s", buf);
    close(fd);
    mp_http_stop(s.h);
}
END_TEST

START_TEST(body_refused)
{
    struct server s;
    start(&s, "127.0.0.1:%u", "http://127.0.0.1:%u");
    char buf[4096];
    static const char *const reqs[] = {
        "POST /tea HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        "GET /hello HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    };
    for (size_t i = 0; i < MP_ARRAY_LEN(reqs); i++) {
        int fd = dial(&s);
        say(fd, reqs[i]);
        ck_assert_int_eq(drain(fd, buf, sizeof(buf), 2000), 1); /* and closed */
        ck_assert_msg(strncmp(buf, "HTTP/1.1 413", 12) == 0, "%s", buf);
        ck_assert_msg(strstr(buf, "{\"error\":\"request bodies are not accepted\"}") != NULL, "%s",
                      buf);
        close(fd);
    }
    /* A wrong method keeps its 405, body or not. */
    int fd = dial(&s);
    say(fd, "POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    ck_assert_int_eq(drain(fd, buf, sizeof(buf), 2000), 1);
    ck_assert_msg(strncmp(buf, "HTTP/1.1 405", 12) == 0, "%s", buf);
    close(fd);
    mp_http_stop(s.h);
}
END_TEST

/* Two slow requests on `threads` handler threads, then /hello and /fast
 * (inline): what each took, in ms. */
static void behind_slow(unsigned threads, int64_t *hello_ms, int64_t *fast_ms)
{
    struct server s;
    struct mp_http_opts o = {.threads = threads};
    start_with(&s, "127.0.0.1:%u", "http://127.0.0.1:%u", &o);
    char buf[4096];
    int slowfd[2];
    for (int i = 0; i < 2; i++) {
        slowfd[i] = dial(&s);
        say(slowfd[i], "GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    }
    usleep(100 * 1000); /* the slow ones are in their handlers */
    struct unit_answer a;
    int64_t t0 = now_ms();
    ask(&s, NULL, "/fast", &a);
    *fast_ms = now_ms() - t0;
    ck_assert_int_eq(a.status, 200);
    ck_assert_str_eq(a.body.p, "/fast");
    mp_buf_free(&a.body);
    t0 = now_ms();
    get_hello(&s);
    *hello_ms = now_ms() - t0;
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(drain(slowfd[i], buf, sizeof(buf), 5000), 1);
        ck_assert_msg(strncmp(buf, "HTTP/1.1 200", 12) == 0, "%s", buf);
        close(slowfd[i]);
    }
    mp_http_stop(s.h);
}

START_TEST(slow_handler_does_not_block)
{
    int64_t hello_ms, fast_ms;
    behind_slow(4, &hello_ms, &fast_ms); /* a free handler thread takes /hello */
    ck_assert_msg(hello_ms < 500, "/hello took %lld ms behind two 1.5 s handlers",
                  (long long)hello_ms);
    ck_assert_msg(fast_ms < 500, "/fast took %lld ms", (long long)fast_ms);
    behind_slow(1, &hello_ms, &fast_ms); /* /hello waits its turn; /fast does not */
    ck_assert_msg(hello_ms >= 1000, "/hello took %lld ms with its one thread busy",
                  (long long)hello_ms);
    ck_assert_msg(fast_ms < 500, "inline /fast took %lld ms behind busy handler threads",
                  (long long)fast_ms);
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

/* What a 413 for a body over the route's limit answers. */
#define TOO_BIG_BODY "{\"error\":\"request bodies are not accepted\"}"

/* POSTs a body of n 'x' bytes to url; the request must go through. Returns
 * the HTTP status; *body is the answer's body (the caller frees it). */
static long post_xs(const char *url, size_t n, char **body)
{
    char err[256] = "";
    long st = 0;
    char *big = malloc(n + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, 'x', n);
    big[n] = '\0';
    *body = NULL;
    ck_assert_int_eq(cli_api_request("POST", url, NULL, big, 5000, &st, body, err, sizeof(err)),
                     MP_OK);
    ck_assert_str_eq(err, ""); /* MP_OK leaves no error message */
    free(big);
    return st;
}

/* Only MP_HTTP_BODY routes take a body, of at most MP_HTTP_BODY_MAX bytes
 * (MP_HTTP_BODY_HOOKS_MAX with MP_HTTP_BODY_HOOKS). */
START_TEST(body_routes)
{
    struct server s;
    start(&s, "127.0.0.1:%u", "http://127.0.0.1:%u");
    char url[128], err[256] = "", *body = NULL;
    long st = 0;
    snprintf(url, sizeof(url), "%s/body", s.base);
    ck_assert_int_eq(cli_api_request("POST", url, NULL, "{\"a\":1}", 5000, &st, &body, err,
                                     sizeof(err)),
                     MP_OK);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(body, "7:{\"a\":1}");
    free(body);
    ck_assert_int_eq(cli_api_request("POST", url, NULL, NULL, 5000, &st, &body, err, sizeof(err)),
                     MP_OK);
    ck_assert_str_eq(body, "0:(none)");
    free(body);
    ck_assert_int_eq(post_xs(url, MP_HTTP_BODY_MAX + 1, &body), 413);
    ck_assert_str_eq(body, TOO_BIG_BODY);
    free(body);
    ck_assert_int_eq(post_xs(url, MP_HTTP_BODY_MAX, &body), 200); /* exactly the limit: taken */
    ck_assert_msg(strncmp(body, "65536:xxx", 9) == 0, "%s", body);
    free(body);
    /* an MP_HTTP_BODY_HOOKS route: up to MP_HTTP_BODY_HOOKS_MAX */
    snprintf(url, sizeof(url), "%s/large", s.base);
    ck_assert_int_eq(post_xs(url, MP_HTTP_BODY_HOOKS_MAX, &body), 200); /* exactly the limit */
    ck_assert_msg(strncmp(body, "1048576:xxx", 11) == 0, "%s", body);
    free(body);
    ck_assert_int_eq(post_xs(url, MP_HTTP_BODY_HOOKS_MAX + 1, &body), 413);
    ck_assert_str_eq(body, TOO_BIG_BODY);
    free(body);
    mp_http_stop(s.h);
}
END_TEST

CHECK_SUITE("mp_http", 30, setup, teardown, serves_ipv4, serves_ipv6, serves_localhost,
            routes_and_errors, too_many_args, bad_listen, port_in_use, per_ip_limit, header_timeout,
            body_refused, body_routes, slow_handler_does_not_block)
