/* http_receiver.c — the shared in-process HTTP test receiver (see
 * http_receiver.h for the contract). */
#include "http_receiver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "mp_buf.h"

struct hrx {
    struct MHD_Daemon *d;
    uint16_t port;
    hrx_hook hook;
    void *hook_arg;
    pthread_mutex_t lock; /* guards everything below */
    struct hrx_req **reqs;
    size_t n, cap;
    struct hrx_step script[HRX_MAX_STEPS];
    size_t nscript, next;
    struct hrx_step dflt;
    const char *ok_body; /* a 2xx answer's body (hrx_set_body); NULL: "ok\n" */
};

/* A request being received: the record, and its body as it grows. */
struct hrx__pending {
    struct hrx_req *r;
    struct mp_buf body;
};

static void hrx__sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void hrx__req_free(struct hrx_req *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nheaders; i++)
        free(r->headers[i].name); /* the value lives in the same allocation */
    free(r->headers);
    free(r->method);
    free(r->path);
    free(r->body);
    free(r);
}

static void hrx__pending_free(struct hrx__pending *p)
{
    if (p == NULL)
        return;
    hrx__req_free(p->r);
    mp_buf_free(&p->body);
    free(p);
}

static enum MHD_Result hrx__header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    struct hrx_req *r = cls;
    struct hrx_header *nh = realloc(r->headers, (r->nheaders + 1) * sizeof(*nh));
    if (nh == NULL)
        return MHD_NO;
    r->headers = nh;
    key = key ? key : "";
    value = value ? value : "";
    size_t kl = strlen(key) + 1, vl = strlen(value) + 1;
    char *kv = malloc(kl + vl); /* "name\0value\0": one allocation per header */
    if (kv == NULL)
        return MHD_NO;
    memcpy(kv, key, kl);
    memcpy(kv + kl, value, vl);
    nh[r->nheaders].name = kv;
    nh[r->nheaders].value = kv + kl;
    r->nheaders++;
    return MHD_YES;
}

static struct hrx__pending *hrx__begin(struct MHD_Connection *conn, const char *url,
                                       const char *method)
{
    struct hrx__pending *p = calloc(1, sizeof(*p));
    if (p == NULL || (p->r = calloc(1, sizeof(*p->r))) == NULL) {
        free(p);
        return NULL;
    }
    p->r->method = strdup(method);
    p->r->path = strdup(url);
    if (p->r->method == NULL || p->r->path == NULL) {
        hrx__pending_free(p);
        return NULL;
    }
    MHD_get_connection_values(conn, MHD_HEADER_KIND, hrx__header, p->r);
    return p;
}

/* Records r (ownership passes to the receiver) and picks its answer.
 * 0 when out of memory (r is then still the caller's). */
static int hrx__publish(struct hrx *s, struct hrx_req *r, struct hrx_step *st, hrx_hook *hook,
                        void **hook_arg, char **ok_body)
{
    pthread_mutex_lock(&s->lock);
    int ok = MP_GROW(s->reqs, s->cap, s->n + 1) == MP_OK;
    if (ok) {
        *st = s->next < s->nscript ? s->script[s->next++] : s->dflt;
        *hook = s->hook;
        *hook_arg = s->hook_arg;
        /* copied under the lock: the caller may replace and free it */
        *ok_body = s->ok_body ? strdup(s->ok_body) : NULL;
        r->status = st->status;
        s->reqs[s->n++] = r;
    }
    pthread_mutex_unlock(&s->lock);
    return ok;
}

/* ok_body: NULL or this answer's own copy of hrx_set_body's (freed here,
 * or by libmicrohttpd with the response). */
static enum MHD_Result hrx__answer(struct MHD_Connection *conn, const struct hrx_step *st,
                                   char *ok_body)
{
    if (st->status >= 300) {
        free(ok_body);
        ok_body = NULL;
    }
    const char *text = st->status >= 300 ? "scripted failure\n" : ok_body ? ok_body : "ok\n";
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        strlen(text), (void *)text, ok_body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) {
        free(ok_body);
        return MHD_NO;
    }
    if (st->retry_after >= 0) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%d", st->retry_after);
        MHD_add_response_header(resp, "Retry-After", ra);
    }
    enum MHD_Result ret = MHD_queue_response(conn, st->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result hrx__request(void *cls, struct MHD_Connection *conn, const char *url,
                                    const char *method, const char *version, const char *upload,
                                    size_t *upload_size, void **req_cls)
{
    (void)version;
    struct hrx *s = cls;
    struct hrx__pending *p = *req_cls;
    if (p == NULL) {
        *req_cls = p = hrx__begin(conn, url, method);
        return p ? MHD_YES : MHD_NO;
    }
    if (*upload_size > 0) {
        if (mp_buf_append(&p->body, upload, *upload_size) != MP_OK)
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    struct hrx_req *r = p->r;
    r->len = p->body.len;
    r->body = p->body.p ? mp_buf_take(&p->body) : calloc(1, 1);
    if (r->body == NULL)
        return MHD_NO;
    r->mono_ns = mp_mono_ns();
    struct hrx_step st;
    hrx_hook hook = NULL;
    void *hook_arg = NULL;
    char *ok_body = NULL;
    if (!hrx__publish(s, r, &st, &hook, &hook_arg, &ok_body))
        return MHD_NO;
    p->r = NULL; /* from here the request belongs to the receiver, immutable */
    if (hook)
        hook(hook_arg, r);
    if (st.delay_ms > 0)
        hrx__sleep_ms(st.delay_ms);
    return hrx__answer(conn, &st, ok_body);
}

static void hrx__completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                           enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    hrx__pending_free(*req_cls); /* what was never published goes here */
    *req_cls = NULL;
}

int hrx_start(uint16_t port, struct hrx **out, char *err, size_t errlen)
{
    struct hrx *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return MP_ERR_NOMEM;
    }
    pthread_mutex_init(&s->lock, NULL);
    s->dflt = (struct hrx_step){200, -1, 0};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* A thread per connection: a delayed answer must not stall the server. */
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
                            NULL, NULL, hrx__request, s, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, hrx__completed,
                            s, MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    const union MHD_DaemonInfo *di =
        s->d ? MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (di == NULL) {
        if (err && errlen)
            snprintf(err, errlen, "test receiver cannot listen on 127.0.0.1:%u",
                     (unsigned)port);
        hrx_stop(s);
        return MP_ERR_IO;
    }
    s->port = di->port;
    *out = s;
    return MP_OK;
}

void hrx_stop(struct hrx *s)
{
    if (s == NULL)
        return;
    if (s->d)
        MHD_stop_daemon(s->d);
    for (size_t i = 0; i < s->n; i++)
        hrx__req_free(s->reqs[i]);
    free(s->reqs);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

uint16_t hrx_port(const struct hrx *s) { return s->port; }

void hrx_set_hook(struct hrx *s, hrx_hook fn, void *arg)
{
    pthread_mutex_lock(&s->lock);
    s->hook = fn;
    s->hook_arg = arg;
    pthread_mutex_unlock(&s->lock);
}

void hrx_set_default(struct hrx *s, struct hrx_step st)
{
    pthread_mutex_lock(&s->lock);
    s->dflt = st;
    pthread_mutex_unlock(&s->lock);
}

void hrx_set_body(struct hrx *s, const char *body)
{
    pthread_mutex_lock(&s->lock);
    s->ok_body = body;
    pthread_mutex_unlock(&s->lock);
}

void hrx_set_status(struct hrx *s, unsigned status)
{
    hrx_set_default(s, (struct hrx_step){status, -1, 0});
}

void hrx_script(struct hrx *s, const struct hrx_step *steps, size_t n)
{
    if (n > HRX_MAX_STEPS)
        n = HRX_MAX_STEPS;
    pthread_mutex_lock(&s->lock);
    memcpy(s->script, steps, n * sizeof(*steps));
    s->nscript = n;
    s->next = 0;
    pthread_mutex_unlock(&s->lock);
}

size_t hrx_count(struct hrx *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->n;
    pthread_mutex_unlock(&s->lock);
    return n;
}

int hrx_wait(struct hrx *s, size_t n, int timeout_ms)
{
    int64_t deadline = mp_mono_ns() + (int64_t)timeout_ms * 1000000;
    while (hrx_count(s) < n) {
        if (mp_mono_ns() >= deadline)
            return MP_ERR_AGAIN;
        hrx__sleep_ms(5);
    }
    return MP_OK;
}

const struct hrx_req *hrx_get(struct hrx *s, size_t i)
{
    pthread_mutex_lock(&s->lock);
    const struct hrx_req *r = i < s->n ? s->reqs[i] : NULL;
    pthread_mutex_unlock(&s->lock);
    return r;
}

void hrx_forget(struct hrx *s)
{
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n; i++)
        hrx__req_free(s->reqs[i]);
    s->n = 0;
    pthread_mutex_unlock(&s->lock);
}

const char *hrx_req_header(const struct hrx_req *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}
