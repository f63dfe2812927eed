/* mp_http.c — libmicrohttpd wrapper with a route table (see mp_http.h). */
#include "mp_http.h"

#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "mp_addr.h"
#include "mp_log.h"
#include "mp_thread.h"

#define HTTP__REAP_MS 200 /* how often the reaper looks at request heads */

/* One open connection, from libmicrohttpd's STARTED notice to its CLOSED
 * one (the socket is closed only after CLOSED, so while a conn is on the
 * list its fd is the connection's). */
struct http__conn {
    struct http__conn *prev, *next;
    int fd;
    int64_t since_ms; /* when the request head being read began */
    int in_request;   /* head complete: the request is being answered */
    int cut;          /* the reaper shut it down */
};

/* One request, *con_cls from its head to its completion. */
struct http__state {
    struct http__state *next; /* in the handler queue */
    struct MHD_Connection *c;
    const char *url, *method; /* libmicrohttpd's, valid until completion */
    struct mp_http_reply r;
    char allow[64]; /* methods of the routes the path matched, for 405 */
    int done;       /* a handler thread has filled r */
    int body_ok;    /* MP_HTTP_BODY route: the body is read into body */
    size_t body_max; /* its limit: MP_HTTP_BODY_MAX, _LARGE_MAX or _HOOKS_MAX */
    char *body;     /* NUL-terminated; len bytes, too_big once over MP_HTTP_BODY_MAX */
    size_t len;
    int too_big;
};

struct mp_http {
    struct MHD_Daemon *d;
    const struct mp_http_route *routes;
    size_t nroutes;
    void *arg;
    struct mp_http_opts o;
    struct mp_ratelimit log_rl;
    pthread_mutex_t mu; /* guards conns, the queue and stop */
    pthread_cond_t cv;  /* the reaper's */
    pthread_cond_t qcv; /* the handler threads' */
    struct http__conn conns; /* list head */
    struct http__state *qhead, *qtail;
    unsigned pending; /* requests between the stop check and the queue */
    int stop;
    int reaper_on;
    pthread_t reaper;
    pthread_t *workers;
    unsigned nworkers; /* started */
};

void mp_http_error(struct mp_http_reply *out, int status, const char *msg)
{
    json_t *j = json_pack("{s:s}", "error", msg);
    out->status = status;
    out->content_type = "application/json";
    out->body = json_dumps(j, JSON_COMPACT);
    out->len = out->body ? strlen(out->body) : 0;
    json_decref(j);
}

const char *mp_http_arg_get(const struct mp_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->nargs; i++)
        if (strcmp(req->args[i].name, name) == 0)
            return req->args[i].value;
    return NULL;
}

/* What a handler gets: the request, and behind it the connection its
 * headers are read from (mp_http_header). */
struct http__request {
    struct mp_http_request req; /* first: mp_http_header() casts back */
    struct MHD_Connection *c;
};

const char *mp_http_header(const struct mp_http_request *req, const char *name)
{
    const struct http__request *hr = (const struct http__request *)(const void *)req;
    return MHD_lookup_connection_value(hr->c, MHD_HEADER_KIND, name);
}

static int http__match(const struct mp_http_route *r, const char *url)
{
    if (r->flags & MP_HTTP_PREFIX)
        return strncmp(url, r->path, strlen(r->path)) == 0;
    return strcmp(url, r->path) == 0;
}

/* Query arguments as libmicrohttpd parsed them; nargs past the array's end
 * counts the ones that did not fit. */
struct http__args {
    struct mp_http_arg a[MP_HTTP_MAX_ARGS];
    size_t n;
};

static enum MHD_Result http__arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    MP_UNUSED(kind);
    struct http__args *args = cls;
    if (args->n < MP_HTTP_MAX_ARGS)
        args->a[args->n] = (struct mp_http_arg){key ? key : "", value};
    args->n++;
    return MHD_YES;
}

/* The connection's entry (NULL when it has none). */
static struct http__conn *http__conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* in_request 1: the head is complete; 0: the answer went out and the next
 * head's clock starts. */
static void http__mark(struct mp_http *h, struct MHD_Connection *c, int in_request)
{
    struct http__conn *hc = http__conn_of(c);
    if (!hc)
        return;
    pthread_mutex_lock(&h->mu);
    hc->in_request = in_request;
    hc->since_ms = mp_mono_ns() / 1000000;
    pthread_mutex_unlock(&h->mu);
}

static int http__has_body(struct MHD_Connection *c)
{
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding"))
        return 1;
    return cl && strspn(cl, "0 ") != strlen(cl);
}

/* Answered before the body is read; libmicrohttpd then closes the
 * connection instead of reading what follows. */
static enum MHD_Result http__refuse_body(struct MHD_Connection *c)
{
    static const char body[] = "{\"error\":\"request bodies are not accepted\"}";
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Connection", "close");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_CONTENT_TOO_LARGE, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* The route for st's path and method, or NULL; st->allow gets the methods
 * of the routes the path matched (none: an unknown path). */
static const struct mp_http_route *http__route(const struct mp_http *h, struct http__state *st)
{
    const char *method = st->method;
    st->allow[0] = '\0';
    for (size_t i = 0; i < h->nroutes; i++) {
        const struct mp_http_route *rt = &h->routes[i];
        if (!http__match(rt, st->url))
            continue;
        size_t al = strlen(st->allow);
        snprintf(st->allow + al, sizeof(st->allow) - al, "%s%s%s", al ? ", " : "", rt->method,
                 strcmp(rt->method, "GET") == 0 ? ", HEAD" : "");
        /* HEAD is GET without the body (libmicrohttpd drops it). */
        if (strcmp(rt->method, method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0))
            return rt;
    }
    return NULL;
}

/* Fills st->r: rt's answer, or (rt NULL) 405 when st->allow names methods
 * of the path, else 404. */
static void http__run(struct mp_http *h, struct http__state *st, const struct mp_http_route *rt)
{
    struct mp_http_reply *r = &st->r;
    if (rt && !rt->rfn) {
        rt->fn(h->arg, st->url, r);
    } else if (rt) {
        struct http__args args = {.n = 0};
        MHD_get_connection_values(st->c, MHD_GET_ARGUMENT_KIND, http__arg, &args);
        if (args.n > MP_HTTP_MAX_ARGS) {
            char msg[96];
            snprintf(msg, sizeof(msg), "too many query arguments (%zu); at most %d", args.n,
                     MP_HTTP_MAX_ARGS);
            mp_http_error(r, 400, msg);
        } else {
            struct http__request hr = {
                {st->method, st->url, args.a, args.n, st->body, st->body ? st->len : 0}, st->c};
            rt->rfn(h->arg, &hr.req, r);
        }
    }
    if (!r->status) {
        char msg[128];
        snprintf(msg, sizeof(msg), "method %.16s not allowed; allowed: %s", st->method,
                 st->allow);
        mp_http_error(r, st->allow[0] ? 405 : 404, st->allow[0] ? msg : "no such path");
    }
}

static void http__dispatch(struct mp_http *h, struct http__state *st)
{
    http__run(h, st, http__route(h, st));
}

/* Queues st->r; its body goes to libmicrohttpd. */
static enum MHD_Result http__respond(struct MHD_Connection *c, struct http__state *st)
{
    struct mp_http_reply *r = &st->r;
    struct MHD_Response *resp =
        r->body ? MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE)
                : MHD_create_response_from_buffer(0, (char *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    r->body = NULL;
    MHD_add_response_header(resp, "Content-Type",
                            r->content_type ? r->content_type : "application/json");
    if (r->status == 405 && st->allow[0])
        MHD_add_response_header(resp, "Allow", st->allow);
    if (r->retry_after_s > 0) {
        char ra[24];
        snprintf(ra, sizeof(ra), "%d", r->retry_after_s);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (r->cache_control)
        MHD_add_response_header(resp, "Cache-Control", r->cache_control);
    if (r->etag)
        MHD_add_response_header(resp, "ETag", r->etag);
    if (r->location)
        MHD_add_response_header(resp, "Location", r->location);
    if (r->status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Bearer realm=\"mailpulse\"");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Whether the request's route is MP_HTTP_INLINE (answered on the I/O
 * thread: it is cheap, and must not wait behind the handler threads). */
static int http__inline(const struct mp_http *h, const char *url)
{
    for (size_t i = 0; i < h->nroutes; i++)
        if (http__match(&h->routes[i], url))
            return (h->routes[i].flags & MP_HTTP_INLINE) != 0;
    return 0;
}

/* Hands st to the handler threads, its connection suspended until one has
 * answered: 0 when stopping (the caller answers it itself). No MHD call is
 * made under h->mu (libmicrohttpd calls http__notify under its own locks);
 * `pending` keeps the handler threads from leaving while st is on its way. */
static int http__enqueue(struct mp_http *h, struct http__state *st)
{
    pthread_mutex_lock(&h->mu);
    int ok = !h->stop;
    h->pending += (unsigned)ok;
    pthread_mutex_unlock(&h->mu);
    if (!ok)
        return 0;
    MHD_suspend_connection(st->c);
    pthread_mutex_lock(&h->mu);
    st->next = NULL;
    if (h->qtail)
        h->qtail->next = st;
    else
        h->qhead = st;
    h->qtail = st;
    h->pending--;
    pthread_cond_broadcast(&h->qcv);
    pthread_mutex_unlock(&h->mu);
    return 1;
}

/* A handler thread: runs queued requests until stopped with none left. */
static void *http__work(void *arg)
{
    struct mp_http *h = arg;
    mp_thread_name("mp-http", -1);
    for (;;) {
        pthread_mutex_lock(&h->mu);
        while (!h->qhead && !(h->stop && h->pending == 0))
            pthread_cond_wait(&h->qcv, &h->mu);
        struct http__state *st = h->qhead;
        if (st && (h->qhead = st->next) == NULL)
            h->qtail = NULL;
        pthread_mutex_unlock(&h->mu);
        if (!st)
            return NULL;
        http__dispatch(h, st);
        st->done = 1;
        /* st is libmicrohttpd's again from here: it may be freed. */
        MHD_resume_connection(st->c);
    }
}

/* Appends a piece of an MP_HTTP_BODY route's body (bodies elsewhere are
 * refused at the first call, or drained). */
static void http__take_body(struct http__state *st, const char *data, size_t n)
{
    if (!st->body_ok || st->too_big)
        return;
    char *nb = st->len + n <= st->body_max ? realloc(st->body, st->len + n + 1) : NULL;
    if (!nb) {
        st->too_big = 1; /* over the limit (or no memory): answered 413 */
        return;
    }
    memcpy(nb + st->len, data, n);
    st->len += n;
    nb[st->len] = '\0';
    st->body = nb;
}

static enum MHD_Result http__handle(void *cls, struct MHD_Connection *c, const char *url,
                                    const char *method, const char *version,
                                    const char *upload_data, size_t *upload_size, void **con_cls)
{
    struct mp_http *h = cls;
    struct http__state *st = *con_cls;
    /* First call per request: headers only. A body is refused before it is
     * read (413 for a route's method, else the 404 or 405 it would get); one
     * that slips by (Content-Length: 0 with data) is drained. */
    if (st == NULL) {
        if ((st = calloc(1, sizeof(*st))) == NULL)
            return MHD_NO;
        *con_cls = st;
        http__mark(h, c, 1);
        if (!http__has_body(c))
            return MHD_YES;
        *st = (struct http__state){.c = c, .url = url, .method = method};
        const struct mp_http_route *rt = http__route(h, st);
        if (rt && (rt->flags & MP_HTTP_BODY)) {
            st->body_ok = 1;
            st->body_max = (rt->flags & MP_HTTP_BODY_LARGE)   ? MP_HTTP_BODY_LARGE_MAX
                           : (rt->flags & MP_HTTP_BODY_HOOKS) ? MP_HTTP_BODY_HOOKS_MAX
                                                              : MP_HTTP_BODY_MAX;
            return MHD_YES;
        }
        if (rt)
            return http__refuse_body(c);
        http__run(h, st, NULL);
        return http__respond(c, st);
    }
    if (*upload_size) {
        http__take_body(st, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (st->done)
        return http__respond(c, st);
    if (st->too_big) {
        free(st->body);
        st->body = NULL;
        return http__refuse_body(c);
    }
    *st = (struct http__state){.c = c, .url = url, .method = method, .body = st->body,
                               .len = st->len, .body_ok = st->body_ok};
    if (!http__inline(h, url) && http__enqueue(h, st))
        return MHD_YES;
    http__dispatch(h, st);
    return http__respond(c, st);
}

/* libmicrohttpd's messages: one line through mp_log, quoted (they can hold
 * a client's address or request text), rate-limited. */
__attribute__((format(printf, 2, 0))) static void http__log(void *cls, const char *fmt,
                                                             va_list ap)
{
    struct mp_http *h = cls;
    char text[512];
    uint64_t suppressed = 0;
    vsnprintf(text, sizeof(text), fmt, ap);
    size_t n = strlen(text);
    while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        text[--n] = '\0';
    if (mp_ratelimit_allow(&h->log_rl, mp_mono_ns() / 1000000, MP_HTTP_LOG_INTERVAL_MS,
                           &suppressed))
        mp_warn("http_server msg=%s suppressed=%llu", MP_LOG_Q(text),
                (unsigned long long)suppressed);
}

static void http__notify(void *cls, struct MHD_Connection *c, void **socket_context,
                         enum MHD_ConnectionNotificationCode code)
{
    struct mp_http *h = cls;
    struct http__conn *hc = *socket_context;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (!ci || (hc = calloc(1, sizeof(*hc))) == NULL)
            return; /* untracked: the idle timeout still bounds it */
        hc->fd = ci->connect_fd;
        hc->since_ms = mp_mono_ns() / 1000000;
        pthread_mutex_lock(&h->mu);
        hc->next = h->conns.next;
        hc->prev = &h->conns;
        hc->next->prev = hc;
        h->conns.next = hc;
        pthread_mutex_unlock(&h->mu);
        *socket_context = hc;
    } else if (hc) {
        pthread_mutex_lock(&h->mu);
        hc->prev->next = hc->next;
        hc->next->prev = hc->prev;
        pthread_mutex_unlock(&h->mu);
        free(hc);
        *socket_context = NULL;
    }
}

static void http__completed(void *cls, struct MHD_Connection *c, void **con_cls,
                            enum MHD_RequestTerminationCode toe)
{
    MP_UNUSED(toe);
    struct http__state *st = *con_cls;
    if (st) {
        free(st->r.body);
        free(st->body);
    }
    free(st);
    *con_cls = NULL;
    http__mark(cls, c, 0);
}

/* Cuts every connection whose request head is older than header_timeout:
 * shutdown() (never close(): the fd is libmicrohttpd's) makes its next read
 * end, and libmicrohttpd closes it. */
static void *http__reap(void *arg)
{
    struct mp_http *h = arg;
    mp_thread_name("mp-http-reap", -1);
    pthread_mutex_lock(&h->mu);
    while (!h->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += HTTP__REAP_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&h->cv, &h->mu, &ts);
        int64_t now = mp_mono_ns() / 1000000;
        for (struct http__conn *c = h->conns.next; c != &h->conns; c = c->next) {
            if (c->in_request || c->cut || now - c->since_ms < h->o.header_timeout_ms)
                continue;
            shutdown(c->fd, SHUT_RDWR);
            c->cut = 1;
        }
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

/* Every connection is a descriptor. A limit above what RLIMIT_NOFILE
 * leaves (minus a reserve for the store, ZeroMQ and the log) would let
 * accept() fail with EMFILE mid-flood instead of refusing cleanly at the
 * limit, so the limit comes down to fit, once, with a line that says so. */
static void http__fit_nofile(struct mp_http_opts *o)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return;
    rlim_t room = rl.rlim_cur > 2 * MP_HTTP_FD_RESERVE ? rl.rlim_cur - MP_HTTP_FD_RESERVE
                                                         : rl.rlim_cur / 2;
    if (o->max_connections <= room)
        return;
    mp_warn("http_connections_capped max_connections=%u to=%llu nofile=%llu", o->max_connections,
            (unsigned long long)room, (unsigned long long)rl.rlim_cur);
    o->max_connections = (unsigned)room;
}

static void http__opts(struct mp_http_opts *o, const struct mp_http_opts *in)
{
    *o = in ? *in : (struct mp_http_opts){0};
    if (!o->threads)
        o->threads = MP_HTTP_THREADS_DEFAULT;
    if (!o->max_connections)
        o->max_connections = MP_HTTP_MAX_CONN_DEFAULT;
    if (!o->max_per_ip)
        o->max_per_ip = MP_HTTP_MAX_PER_IP_DEFAULT;
    if (o->timeout_ms <= 0)
        o->timeout_ms = MP_HTTP_TIMEOUT_MS_DEFAULT;
    if (o->header_timeout_ms <= 0)
        o->header_timeout_ms = MP_HTTP_HEADER_TIMEOUT_MS_DEFAULT;
    http__fit_nofile(o);
}

/* An IPv6 socket needs the flag, or libmicrohttpd takes the address as a
 * sockaddr_in. Dual stack: "[::]" also answers IPv4, as a wildcard should.
 * MHD_USE_AUTO is epoll here: select() would stop at FD_SETSIZE (1024)
 * connections. */
static struct MHD_Daemon *http__daemon(struct mp_http *h, uint16_t port,
                                       const struct sockaddr_storage *ss)
{
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (ss->ss_family == AF_INET6)
        flags |= MHD_USE_DUAL_STACK;
    /* A pool of one is no pool: libmicrohttpd warns about the option. */
    struct MHD_OptionItem pool[] = {
        {h->o.threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, h->o.threads, NULL},
        {MHD_OPTION_END, 0, NULL}};
    /* The logger first, or libmicrohttpd says so on stderr. */
    return MHD_start_daemon(
        flags, port, NULL, NULL, http__handle, h, MHD_OPTION_EXTERNAL_LOGGER, http__log, h,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)ss, MHD_OPTION_ARRAY, pool, MHD_OPTION_CONNECTION_LIMIT,
        h->o.max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, h->o.max_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)((h->o.timeout_ms + 999) / 1000),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MP_HTTP_CONN_MEMORY,
        MHD_OPTION_NOTIFY_CONNECTION, http__notify, h,
        MHD_OPTION_NOTIFY_COMPLETED, http__completed, h, MHD_OPTION_END);
}

static int http__threads(struct mp_http *h)
{
    if ((h->workers = calloc(h->o.threads, sizeof(*h->workers))) == NULL)
        return MP_ERR_NOMEM;
    for (; h->nworkers < h->o.threads; h->nworkers++)
        if (pthread_create(&h->workers[h->nworkers], NULL, http__work, h) != 0)
            return MP_ERR_NOMEM;
    if (pthread_create(&h->reaper, NULL, http__reap, h) != 0)
        return MP_ERR_NOMEM;
    h->reaper_on = 1;
    return MP_OK;
}

int mp_http_start(const char *listen, const struct mp_http_route *routes, size_t nroutes,
                  void *arg, struct mp_http **out, char *err, size_t errlen)
{
    return mp_http_start_opts(listen, routes, nroutes, arg, NULL, out, err, errlen);
}

int mp_http_start_opts(const char *listen, const struct mp_http_route *routes, size_t nroutes,
                       void *arg, const struct mp_http_opts *opts, struct mp_http **out,
                       char *err, size_t errlen)
{
    struct mp_addr addr;
    struct sockaddr_storage ss;
    socklen_t sslen;
    char why[512];
    int rc = mp_addr_parse(listen, &addr, why, sizeof(why));
    if (rc == MP_OK)
        rc = mp_addr_resolve(&addr, &ss, &sslen, why, sizeof(why));
    if (rc != MP_OK) {
        snprintf(err, errlen, "http.listen %s", why);
        return rc;
    }
    struct mp_http *h = calloc(1, sizeof(*h));
    if (!h)
        return MP_ERR_NOMEM;
    h->routes = routes;
    h->nroutes = nroutes;
    h->arg = arg;
    http__opts(&h->o, opts);
    h->conns.next = h->conns.prev = &h->conns;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    pthread_cond_init(&h->qcv, NULL);
    if ((h->d = http__daemon(h, addr.port, &ss)) == NULL) {
        snprintf(err, errlen, "cannot listen on http.listen %s (address in use?)", listen);
        rc = MP_ERR_IO;
    } else if ((rc = http__threads(h)) != MP_OK) {
        snprintf(err, errlen, "http: cannot start the server's threads");
    } else {
        *out = h;
        return MP_OK;
    }
    mp_http_stop(h);
    return rc;
}

void mp_http_stop(struct mp_http *h)
{
    if (!h)
        return;
    /* Our threads first: the handler threads answer what is queued (every
     * suspended connection is resumed, as MHD_stop_daemon requires) and
     * later requests are answered inline; the reaper touches only what the
     * server's CLOSED notices, sent from MHD_stop_daemon, take off the list. */
    pthread_mutex_lock(&h->mu);
    h->stop = 1;
    pthread_cond_broadcast(&h->qcv);
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    for (unsigned i = 0; i < h->nworkers; i++)
        pthread_join(h->workers[i], NULL);
    if (h->reaper_on)
        pthread_join(h->reaper, NULL);
    if (h->d)
        MHD_stop_daemon(h->d);
    free(h->workers);
    pthread_cond_destroy(&h->qcv);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    free(h);
}
