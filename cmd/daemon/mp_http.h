/* mp_http.h — the daemon's HTTP server: libmicrohttpd and a route table.
 *
 * Contract: mp_http_start() binds `listen`, a host:port as mp_addr.h parses
 * and resolves it (the one parser config validation uses too): an IPv4
 * literal, a bracketed IPv6 literal ("[::1]:7480"; "[::]" is dual stack and
 * takes IPv4 as well), "localhost" (127.0.0.1) or a name (its first
 * address). It serves from libmicrohttpd's polling threads until
 * mp_http_stop(). The handlers (the routes) live elsewhere (mp_api.h). Routes are a table of
 * (method, path, handler); a handler fills a struct mp_http_reply whose body
 * the server frees. Unknown paths get 404 and wrong methods 405 (with an
 * Allow header), both with a JSON error body. Handlers run on the server's
 * threads, several at once, and must only read thread-safe figures.
 *
 * A route matches its path exactly, or, with MP_HTTP_PREFIX, every path that
 * starts with it (the handler then parses the rest and answers 404 itself
 * for what it does not know). Routes are tried in table order. A route with
 * `rfn` set gets a struct mp_http_request instead of the bare path: the
 * method and the query arguments, percent-decoded by libmicrohttpd, in the
 * order given (at most MP_HTTP_MAX_ARGS; more is answered 400). The path the
 * handlers see is percent-decoded too, so "%2F" arrives as '/' and a "%00"
 * ends it. Everything in the request is valid during the handler call only.
 * mp_http_header() gives a handler a request header (the Authorization
 * header, for mp_api.h to judge); a 401 answer gets `WWW-Authenticate: Bearer realm="mailpulse"`
 * (RFC 6750). Header values are never logged.
 *
 * Staying up (struct mp_http_opts, mp_http_start_opts()): connections are
 * read and written by `threads` polling threads (epoll); handlers run on
 * `threads` handler threads of their own, the connection suspended
 * meanwhile, except routes flagged MP_HTTP_INLINE (cheap ones such as
 * /healthz), answered at once on the polling thread: so no number of slow
 * handlers delays an inline route; at most `max_connections` connections overall and
 * `max_per_ip` from one client address (libmicrohttpd accepts and closes the
 * rest at once; max_connections comes down, with a warning line, to fit
 * RLIMIT_NOFILE minus MP_HTTP_FD_RESERVE); a connection idle for `timeout_ms` is closed, and so is one
 * whose request head (request line and headers) is not complete
 * `header_timeout_ms` after it began (a slowloris that trickles a header line
 * now and then resets the idle timer, not this one: a reaper thread cuts it
 * with shutdown()). A request head takes at most MP_HTTP_CONN_MEMORY bytes
 * (more: libmicrohttpd answers 431/414). Only MP_HTTP_BODY routes take a
 * body (at most MP_HTTP_BODY_MAX bytes, MP_HTTP_BODY_LARGE_MAX with
 * MP_HTTP_BODY_LARGE, else 413); elsewhere a request
 * with one (Content-Length > 0 or Transfer-Encoding) is answered 413 (or
 * the 404/405 its path and method get) without reading it, and the
 * connection closed. libmicrohttpd's own
 * messages go to mp_log as `http_server msg="..." suppressed=N` (quoted, the
 * trailing newline cut), at most one per MP_HTTP_LOG_INTERVAL_MS.
 */
#ifndef MP_HTTP_H
#define MP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "mp.h"

struct mp_http;

struct mp_http_reply {
    int status;
    const char *content_type;
    char *body; /* malloc'd; freed by the server */
    size_t len;
    int retry_after_s; /* > 0: a Retry-After header (a 503 the client should retry) */
    /* Optional response headers (NULL: none), static strings or strings
     * that outlive the server (mp_ui.h's compiled-in files): */
    const char *cache_control; /* Cache-Control */
    const char *etag;          /* ETag */
    const char *location;      /* Location (a redirect) */
};

typedef void (*mp_http_handler)(void *arg, const char *path, struct mp_http_reply *out);

#define MP_HTTP_MAX_ARGS 32

/* One query argument; value is NULL for "?flag" (no '='), "" for "?flag=". */
struct mp_http_arg {
    const char *name;
    const char *value;
};

struct mp_http_request {
    const char *method; /* "GET", "HEAD" (handled as GET), ... */
    const char *path;
    const struct mp_http_arg *args;
    size_t nargs;
    const char *body; /* MP_HTTP_BODY routes: the request body, NUL-terminated; else NULL */
    size_t body_len;
};

typedef void (*mp_http_request_handler)(void *arg, const struct mp_http_request *req,
                                        struct mp_http_reply *out);

#define MP_HTTP_PREFIX 1 /* route flag: `path` is a prefix */
#define MP_HTTP_INLINE 2 /* route flag: cheap, answered on the I/O thread */
/* route flag: takes a request body of at most MP_HTTP_BODY_MAX bytes (more:
 * 413), handed to an rfn handler as req->body; other routes refuse bodies */
#define MP_HTTP_BODY 4
#define MP_HTTP_BODY_MAX (64 * 1024)
/* route flags, with MP_HTTP_BODY: a larger body. MP_HTTP_BODY_LARGE: up to
 * MP_HTTP_BODY_LARGE_MAX (an archive upload: POST /v1/dmarc, behind its
 * token); MP_HTTP_BODY_HOOKS: up to MP_HTTP_BODY_HOOKS_MAX (the ESP
 * webhooks, read before their signature is checked: SendGrid posts batches
 * of up to 768 KB) */
#define MP_HTTP_BODY_LARGE 8
#define MP_HTTP_BODY_LARGE_MAX (16 * 1024 * 1024)
#define MP_HTTP_BODY_HOOKS 16
#define MP_HTTP_BODY_HOOKS_MAX (1024 * 1024)

struct mp_http_route {
    const char *method;
    const char *path;
    mp_http_handler fn;          /* called with the path; NULL when rfn is set */
    int flags;                   /* 0, MP_HTTP_PREFIX, MP_HTTP_INLINE (or both) */
    mp_http_request_handler rfn; /* when set, called instead of fn */
};

/* The value of the first query argument called `name`, or NULL when absent
 * (or given without '='). */
const char *mp_http_arg_get(const struct mp_http_request *req, const char *name);
/* The value of request header `name` (any case), or NULL when absent. Only
 * for a request the server passed to the handler, during the call. */
const char *mp_http_header(const struct mp_http_request *req, const char *name);

/* The server's limits; a 0 field takes its default (below). */
struct mp_http_opts {
    unsigned threads;         /* polling and handler threads (each), MP_HTTP_THREADS_DEFAULT */
    unsigned max_connections; /* overall, MP_HTTP_MAX_CONN_DEFAULT */
    unsigned max_per_ip;      /* per client address, MP_HTTP_MAX_PER_IP_DEFAULT */
    int64_t timeout_ms;       /* idle connection, MP_HTTP_TIMEOUT_MS_DEFAULT (whole seconds, rounded up) */
    int64_t header_timeout_ms; /* whole request head, MP_HTTP_HEADER_TIMEOUT_MS_DEFAULT */
};

#define MP_HTTP_THREADS_DEFAULT 4
#define MP_HTTP_MAX_CONN_DEFAULT 4096
#define MP_HTTP_MAX_PER_IP_DEFAULT 128
#define MP_HTTP_TIMEOUT_MS_DEFAULT 10000
#define MP_HTTP_HEADER_TIMEOUT_MS_DEFAULT 10000
#define MP_HTTP_CONN_MEMORY (32 * 1024)
#define MP_HTTP_FD_RESERVE 256 /* descriptors kept for the rest of the daemon */
#define MP_HTTP_LOG_INTERVAL_MS 1000

/* MP_OK; MP_ERR_INVAL (bad host:port) or MP_ERR_NOTFOUND (a name that does
 * not resolve), err then "http.listen <mp_addr's reason>"; MP_ERR_IO (cannot
 * bind; err says why); MP_ERR_NOMEM. */
int mp_http_start(const char *listen, const struct mp_http_route *routes, size_t nroutes,
                  void *arg, struct mp_http **out, char *err, size_t errlen);
/* mp_http_start() with limits; opts NULL: every default. */
int mp_http_start_opts(const char *listen, const struct mp_http_route *routes, size_t nroutes,
                       void *arg, const struct mp_http_opts *opts, struct mp_http **out,
                       char *err, size_t errlen);
void mp_http_stop(struct mp_http *h);

/* Helper for handlers: a JSON error body {"error": msg}. */
void mp_http_error(struct mp_http_reply *out, int status, const char *msg);

#endif
