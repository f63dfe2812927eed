/* mp_http.h — the daemon's local HTTP API, served by libmicrohttpd.
 *
 * Contract: mp_http_start() binds host:port and serves from libmicrohttpd's
 * own polling thread until mp_http_stop(). Routes are a table of
 * (method, path, handler); a handler fills a struct mp_http_reply whose body
 * the server frees. Unknown paths get 404 and wrong methods 405, both with a
 * JSON error body. Handlers run on the server thread and must only read
 * thread-safe figures.
 */
#ifndef MP_HTTP_H
#define MP_HTTP_H

#include <stddef.h>

#include "mp.h"

struct mp_http;

struct mp_http_reply {
    int status;
    const char *content_type;
    char *body; /* malloc'd; freed by the server */
    size_t len;
};

typedef void (*mp_http_handler)(void *arg, const char *path, struct mp_http_reply *out);

struct mp_http_route {
    const char *method;
    const char *path;
    mp_http_handler fn;
};

/* MP_OK, MP_ERR_INVAL (bad host:port), MP_ERR_IO (cannot bind; err says why). */
int mp_http_start(const char *listen, const struct mp_http_route *routes, size_t nroutes,
                  void *arg, struct mp_http **out, char *err, size_t errlen);
void mp_http_stop(struct mp_http *h);

/* Helper for handlers: a JSON error body {"error": msg}. */
void mp_http_error(struct mp_http_reply *out, int status, const char *msg);

#endif
