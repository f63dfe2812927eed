/* mp_http.c — libmicrohttpd wrapper with a route table (see mp_http.h). */
#include "mp_http.h"

#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp_addr.h"

struct mp_http {
    struct MHD_Daemon *d;
    const struct mp_http_route *routes;
    size_t nroutes;
    void *arg;
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

static enum MHD_Result http__handle(void *cls, struct MHD_Connection *c, const char *url,
                                    const char *method, const char *version,
                                    const char *upload_data, size_t *upload_size, void **con_cls)
{
    struct mp_http *h = cls;
    /* First call per request: headers only. Bodies are not used by any route,
     * so uploads are drained and ignored. */
    if (*con_cls == NULL) {
        *con_cls = h;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    struct mp_http_reply r = {0};
    int path_known = 0;
    char allow[64] = ""; /* methods of the routes the path matched, for 405 */
    for (size_t i = 0; i < h->nroutes; i++) {
        const struct mp_http_route *rt = &h->routes[i];
        if (!http__match(rt, url))
            continue;
        path_known = 1;
        size_t al = strlen(allow);
        snprintf(allow + al, sizeof(allow) - al, "%s%s%s", al ? ", " : "", rt->method,
                 strcmp(rt->method, "GET") == 0 ? ", HEAD" : "");
        /* HEAD is GET without the body (libmicrohttpd drops it). */
        if (strcmp(rt->method, method) != 0 &&
            !(strcmp(method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0))
            continue;
        if (!rt->rfn) {
            rt->fn(h->arg, url, &r);
            break;
        }
        struct http__args args = {.n = 0};
        MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, http__arg, &args);
        if (args.n > MP_HTTP_MAX_ARGS) {
            char msg[96];
            snprintf(msg, sizeof(msg), "too many query arguments (%zu); at most %d", args.n,
                     MP_HTTP_MAX_ARGS);
            mp_http_error(&r, 400, msg);
            break;
        }
        struct http__request hr = {{method, url, args.a, args.n}, c};
        rt->rfn(h->arg, &hr.req, &r);
        break;
    }
    if (!r.status) {
        char msg[128];
        snprintf(msg, sizeof(msg), "method %.16s not allowed; allowed: %s", method, allow);
        mp_http_error(&r, path_known ? 405 : 404, path_known ? msg : "no such path");
    }
    struct MHD_Response *resp =
        r.body ? MHD_create_response_from_buffer(r.len, r.body, MHD_RESPMEM_MUST_FREE)
               : MHD_create_response_from_buffer(0, (char *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type",
                            r.content_type ? r.content_type : "application/json");
    if (r.status == 405 && allow[0])
        MHD_add_response_header(resp, "Allow", allow);
    if (r.status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Bearer realm=\"mailpulse\"");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)r.status, resp);
    MHD_destroy_response(resp);
    return ret;
}

int mp_http_start(const char *listen, const struct mp_http_route *routes, size_t nroutes,
                  void *arg, struct mp_http **out, char *err, size_t errlen)
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
    /* An IPv6 socket needs the flag, or libmicrohttpd takes the address as a
     * sockaddr_in. Dual stack: "[::]" also answers IPv4, as a wildcard should. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_DUAL_STACK;
    h->d = MHD_start_daemon(flags, addr.port, NULL, NULL, http__handle, h, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                            MHD_OPTION_END);
    if (h->d) {
        *out = h;
        return MP_OK;
    }
    snprintf(err, errlen, "cannot listen on http.listen %s (address in use?)", listen);
    free(h);
    return MP_ERR_IO;
}

void mp_http_stop(struct mp_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->d);
    free(h);
}
