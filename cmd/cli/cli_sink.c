/* cli_sink.c — local HTTP receiver that prints and records webhook alerts
 * (see cli_sink.h for the contract). */
#include "cli_sink.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "cli_opt.h"
#include "cli_table.h"
#include "mp_addr.h"
#include "mp_atomic.h"
#include "mp_buf.h"
#include "mp_log.h"

/* Raw bodies are printed up to this many bytes; the file keeps them whole. */
#define SINK_PRINT_MAX 4096
/* Idle connections are dropped after this many seconds. */
#define SINK_CONN_TIMEOUT_S 30u
/* Room for an ISO 8601 UTC time with milliseconds, and then some. */
#define SINK_TS_LEN 40

struct cli_sink {
    struct cli_sink_config cfg;
    struct MHD_Daemon *daemon;
    int out_fd; /* -1 without --out */
    /* 0 while cli_sink_start() runs, 1 once the daemon is up. libmicrohttpd
     * messages before that become the start error (last_log); after it they
     * are logged. Main reads last_log only when the start failed, after
     * libmicrohttpd has joined its thread, so the flag publishes nothing and
     * relaxed order suffices; it is atomic only because two threads touch it. */
    mp_atomic_u32 started;
    char last_log[256];
};

/* State of one request, kept across the handler's calls. */
struct sink__req {
    struct mp_buf body; /* what was kept of the body (up to max_body) */
    uint64_t seen;  /* bytes announced or received, also those dropped */
    int too_large;  /* seen > max_body: the body is not kept */
};

/* ------------------------------------------------------------ text helpers */

/* Length of the well-formed UTF-8 sequence at p (1..4), 0 if malformed. */
static size_t sink__utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3Fu);
    }
    /* Overlong forms, surrogates and values past U+10FFFF are malformed. */
    if (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)))
        return 0;
    if (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))
        return 0;
    return len;
}

/* A JSON string of n bytes at s. JSON strings must be UTF-8, and a receiver
 * log must not drop a request because its bytes are odd, so malformed bytes
 * become U+FFFD. Returns NULL only when out of memory. */
static json_t *sink__json_text(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    if (j != NULL)
        return j;

    char *clean = malloc(n * 3 + 1); /* each bad byte grows to 3 */
    if (clean == NULL)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t len = sink__utf8_len(p + i, n - i);
        if (len == 0) {
            memcpy(clean + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            memcpy(clean + o, p + i, len);
            o += len;
            i += len;
        }
    }
    j = json_stringn(clean, o);
    free(clean);
    return j;
}

/* Writes n bytes of untrusted text on one line: control bytes are escaped so
 * a request can never forge or break the line structure of the output. */
static void sink__put_text(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (c < 0x20 || c == 0x7F)
                fprintf(f, "\\x%02x", c);
            else
                fputc(c, f);
        }
    }
}

static void sink__put_str(FILE *f, const char *s) { sink__put_text(f, s, strlen(s)); }

static void sink__put_upper(FILE *f, const char *s)
{
    for (; *s; s++) {
        char c = (char)toupper((unsigned char)*s);
        sink__put_text(f, &c, 1);
    }
}

/* The text of a JSON scalar: Alertmanager annotations are strings, but a
 * sender may well use numbers. Returns a pointer into the value or into buf,
 * or NULL for a missing value or an object/array. */
static const char *sink__scalar(const json_t *v, char *buf, size_t n)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    if (json_is_real(v)) {
        /* Shortest form that reads back exactly: 0.08, not 0.0800000000000. */
        double d = json_real_value(v);
        for (int prec = 6; prec <= 17; prec++) {
            snprintf(buf, n, "%.*g", prec, d);
            if (strtod(buf, NULL) == d)
                break;
        }
        return buf;
    }
    if (json_is_boolean(v))
        return json_is_true(v) ? "true" : "false";
    if (json_is_null(v))
        return "null";
    return NULL;
}

/* "2026-11-22T16:30:01.123Z" into buf of at least SINK_TS_LEN bytes. */
static void sink__format_ts(int64_t ms, char *buf)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(buf, SINK_TS_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, SINK_TS_LEN - n, ".%03uZ", (unsigned)(ms % 1000));
}

/* ---------------------------------------------------------------- printing */

/* " key=value" when obj has key; " value" when bare. */
static void sink__put_field(FILE *f, const json_t *obj, const char *key, int bare)
{
    char buf[64];
    const char *v = sink__scalar(json_object_get(obj, key), buf, sizeof(buf));
    if (v == NULL)
        return;
    fputc(' ', f);
    if (!bare)
        fprintf(f, "%s=", key);
    sink__put_str(f, v);
}

/* " key=2.31%": a value annotation for people (cli_table_rate). */
static void sink__put_rate(FILE *f, const json_t *ann, const char *key)
{
    char buf[64], out[CLI_TABLE_CELL];
    const char *v = sink__scalar(json_object_get(ann, key), buf, sizeof(buf));
    if (v == NULL)
        return;
    cli_table_rate(json_string_value(json_object_get(ann, "kind")), v, out, sizeof(out));
    fprintf(f, " %s=", key);
    sink__put_str(f, out);
}

static void sink__print_alert(FILE *f, const char *ts, const json_t *alert, const char *group_status)
{
    const json_t *labels = json_object_get(alert, "labels");
    const json_t *ann = json_object_get(alert, "annotations");
    const char *status = json_string_value(json_object_get(alert, "status"));
    if (status == NULL)
        status = group_status ? group_status : "unknown";

    fprintf(f, "[%s] ", ts);
    sink__put_upper(f, status);
    sink__put_field(f, labels, "severity", 1);
    sink__put_field(f, labels, "alertname", 1);
    sink__put_field(f, labels, "tenant", 0);
    sink__put_field(f, labels, "mailbox", 0);
    sink__put_field(f, labels, "recipient_domain", 0);
    sink__put_rate(f, ann, "value");
    sink__put_rate(f, ann, "threshold");

    char nb[64], db[64], wb[64];
    const char *num = sink__scalar(json_object_get(ann, "numerator"), nb, sizeof(nb));
    const char *den = sink__scalar(json_object_get(ann, "denominator"), db, sizeof(db));
    const char *win = sink__scalar(json_object_get(ann, "window"), wb, sizeof(wb));
    if ((num && den) || win) {
        fputs(" (", f);
        if (num && den) {
            sink__put_str(f, num);
            fputc('/', f);
            sink__put_str(f, den);
            if (win)
                fputc(' ', f);
        }
        if (win) {
            fputs("over ", f);
            sink__put_str(f, win);
        }
        fputc(')', f);
    }
    fputc('\n', f);
}

static int sink__is_alertmanager(const json_t *body)
{
    const char *version = json_string_value(json_object_get(body, "version"));
    return version != NULL && strcmp(version, "4") == 0 &&
           json_is_array(json_object_get(body, "alerts"));
}

static void sink__print(FILE *f, int64_t received_ms, const char *path, const struct sink__req *r,
                        const json_t *body, unsigned status)
{
    char ts[SINK_TS_LEN];
    sink__format_ts(received_ms, ts);

    if (r->too_large) {
        fprintf(f, "[%s] POST ", ts);
        sink__put_str(f, path);
        fprintf(f, " rejected: body of %" PRIu64 " bytes is over --max-body, answered %u\n",
                r->seen, status);
    } else if (body != NULL && sink__is_alertmanager(body)) {
        const json_t *alerts = json_object_get(body, "alerts");
        const char *group_status = json_string_value(json_object_get(body, "status"));
        size_t i;
        const json_t *alert;
        json_array_foreach(alerts, i, alert) {
            if (json_is_object(alert))
                sink__print_alert(f, ts, alert, group_status);
        }
        if (json_array_size(alerts) == 0) {
            fprintf(f, "[%s] POST ", ts);
            sink__put_str(f, path);
            fputs(" alertmanager webhook with no alerts\n", f);
        }
    } else {
        fprintf(f, "[%s] POST ", ts);
        sink__put_str(f, path);
        size_t len = r->body.len;
        fprintf(f, " (%zu bytes) ", len);
        sink__put_text(f, r->body.p ? r->body.p : "", len < SINK_PRINT_MAX ? len : SINK_PRINT_MAX);
        if (len > SINK_PRINT_MAX)
            fprintf(f, " ...(%zu more bytes)", len - SINK_PRINT_MAX);
        fputc('\n', f);
    }
    fflush(f);
}

/* ------------------------------------------------------------- JSON lines */

static enum MHD_Result sink__add_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                        const char *value)
{
    json_t *headers = cls;
    char name[256];
    size_t n = strlen(key);
    if (n >= sizeof(name))
        n = sizeof(name) - 1;
    for (size_t i = 0; i < n; i++)
        name[i] = (char)tolower((unsigned char)key[i]);
    name[n] = '\0';
    if (value == NULL)
        value = "";

    /* A repeated header is one list, as HTTP defines it. */
    const char *prev = json_string_value(json_object_get(headers, name));
    json_t *v;
    if (prev != NULL) {
        size_t plen = strlen(prev), vlen = strlen(value);
        char *joined = malloc(plen + 2 + vlen);
        if (joined == NULL)
            return MHD_YES;
        memcpy(joined, prev, plen);
        memcpy(joined + plen, ", ", 2);
        memcpy(joined + plen + 2, value, vlen);
        v = sink__json_text(joined, plen + 2 + vlen);
        free(joined);
    } else {
        v = sink__json_text(value, strlen(value));
    }
    /* set_new consumes v even when it fails, e.g. for a name that is not
     * UTF-8: such a header is dropped rather than losing the whole line. */
    if (v != NULL)
        json_object_set_new(headers, name, v);
    return MHD_YES;
}

/* Builds the request's JSON line and appends it with one writev(2): O_APPEND
 * plus a single call keeps the line whole for a concurrent reader. */
static int sink__write_line(struct cli_sink *s, struct MHD_Connection *conn, int64_t received_ms,
                            int64_t mono_ns, const char *path, const struct sink__req *r,
                            json_t *body, unsigned status)
{
    int rc = MP_ERR_NOMEM;
    char *text = NULL;
    json_t *rec = json_object();
    json_t *headers = json_object();
    if (rec == NULL || headers == NULL)
        goto out;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, sink__add_header, headers);

    if (json_object_set_new(rec, "received_ms", json_integer(received_ms)) != 0 ||
        json_object_set_new(rec, "mono_ns", json_integer(mono_ns)) != 0 ||
        json_object_set_new(rec, "path", sink__json_text(path, strlen(path))) != 0 ||
        json_object_set_new(rec, "status", json_integer(status)) != 0 ||
        json_object_set(rec, "headers", headers) != 0 ||
        json_object_set_new(rec, "body_bytes", json_integer((json_int_t)r->seen)) != 0)
        goto out;
    int set;
    if (r->too_large)
        set = json_object_set_new(rec, "body_too_large", json_true());
    else if (body != NULL)
        set = json_object_set(rec, "body", body);
    else
        set = json_object_set_new(rec, "body_raw", sink__json_text(r->body.p ? r->body.p : "", r->body.len));
    if (set != 0)
        goto out;

    text = json_dumps(rec, JSON_COMPACT);
    if (text == NULL)
        goto out;
    size_t len = strlen(text);
    struct iovec iov[2] = {{text, len}, {"\n", 1}};
    ssize_t w;
    do {
        w = writev(s->out_fd, iov, 2);
    } while (w < 0 && errno == EINTR);
    if (w != (ssize_t)(len + 1)) {
        if (w >= 0)
            errno = EIO; /* short write, e.g. the disk is full */
        rc = MP_ERR_IO;
        goto out;
    }
    rc = MP_OK;
out:
    free(text);
    json_decref(headers);
    json_decref(rec);
    return rc;
}

/* ----------------------------------------------------------- HTTP handling */

static enum MHD_Result sink__reply(struct MHD_Connection *conn, unsigned status, const char *text)
{
    /* PERSISTENT: the texts are string literals; MHD only reads them. */
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Prints and records one finished request, then answers it. */
static enum MHD_Result sink__finish(struct cli_sink *s, struct MHD_Connection *conn,
                                    const char *path, struct sink__req *r)
{
    /* Stamp first: printing to a slow pipe must not add to measured latency. */
    int64_t received_ms = mp_now_ms();
    int64_t mono_ns = mp_mono_ns();
    unsigned status = r->too_large ? MHD_HTTP_CONTENT_TOO_LARGE : s->cfg.status;

    json_t *body = NULL;
    if (!r->too_large) {
        json_error_t jerr;
        body = json_loadb(r->body.p ? r->body.p : "", r->body.len, JSON_DECODE_ANY, &jerr);
    }
    sink__print(s->cfg.print, received_ms, path, r, body, status);
    if (s->out_fd >= 0) {
        int rc = sink__write_line(s, conn, received_ms, mono_ns, path, r, body, status);
        if (rc != MP_OK)
            mp_warn("sink_out_write_failed err=\"%s\" detail=%s", mp_strerror(rc),
                    MP_LOG_Q(rc == MP_ERR_IO ? strerror(errno) : "-"));
    }
    json_decref(body);

    const char *text = "ok\n";
    if (r->too_large)
        text = "body too large\n";
    else if (status >= 300)
        text = "mailpulse sink: answering with the configured failure status\n";
    return sink__reply(conn, status, text);
}

/* Keeps at most max_body bytes; past that it only counts, so the request
 * can still be read to its end and answered 413 on the same connection. */
static int sink__append(struct cli_sink *s, struct sink__req *r, const char *data, size_t n)
{
    r->seen += n;
    if (r->too_large)
        return MP_OK;
    if (r->seen > s->cfg.max_body) {
        r->too_large = 1;
        mp_buf_free(&r->body);
        return MP_OK;
    }
    return mp_buf_append(&r->body, data, n);
}

/* libmicrohttpd calls this once with the headers, once per piece of body,
 * and once more when the body is complete (*upload_data_size == 0). */
static enum MHD_Result sink__on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                        const char *method, const char *version,
                                        const char *upload_data, size_t *upload_data_size,
                                        void **req_cls)
{
    struct cli_sink *s = cls;
    struct sink__req *r = *req_cls;

    if (r == NULL) {
        if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
            return sink__reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only POST is accepted\n");
        r = calloc(1, sizeof(*r));
        if (r == NULL)
            return MHD_NO;
        *req_cls = r;
        /* Refuse an announced oversize body before it is sent: answering now
         * skips "100 Continue", and MHD closes the connection after. */
        const char *clen = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                       MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (clen != NULL) {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(clen, &end, 10);
            if (errno == 0 && end != clen && *end == '\0' && n > s->cfg.max_body) {
                r->seen = n;
                r->too_large = 1;
                return sink__finish(s, conn, url, r);
            }
        }
        return MHD_YES;
    }

    if (*upload_data_size > 0) {
        if (sink__append(s, r, upload_data, *upload_data_size) != MP_OK)
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    return sink__finish(s, conn, url, r);
}

static void sink__on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                               enum MHD_RequestTerminationCode toe)
{
    struct sink__req *r = *req_cls;
    if (r == NULL)
        return;
    mp_buf_free(&r->body);
    free(r);
    *req_cls = NULL;
}

static void sink__on_log(void *cls, const char *fmt, va_list ap)
{
    struct cli_sink *s = cls;
    char line[sizeof(s->last_log)];
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\r\n")] = '\0';
    if (mp_load_relaxed(&s->started))
        mp_warn("sink_http err=%s", MP_LOG_Q(line));
    else
        memcpy(s->last_log, line, sizeof(line));
}

/* --------------------------------------------------------------- lifecycle */

int cli_sink_start(const struct cli_sink_config *cfg, struct cli_sink **out, char *err,
                   size_t errlen)
{
    int rc;
    struct cli_sink *s = NULL;
    struct sockaddr_storage ss;
    socklen_t sslen;

    if (cfg->listen.port == 0 || cfg->status < 200 || cfg->status > 599 || cfg->print == NULL) {
        snprintf(err, errlen, "invalid sink configuration");
        rc = MP_ERR_INVAL;
        goto err;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        rc = MP_ERR_NOMEM;
        goto err;
    }
    s->cfg = *cfg;
    s->cfg.out_path = NULL; /* only read here */
    s->out_fd = -1;
    mp_atomic_init(&s->started, 0);

    if (cfg->out_path != NULL) {
        s->out_fd = open(cfg->out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (s->out_fd < 0) {
            snprintf(err, errlen, "cannot open %s: %s", cfg->out_path, strerror(errno));
            rc = MP_ERR_IO;
            goto err;
        }
    }

    char why[320];
    if (mp_addr_resolve(&cfg->listen, &ss, &sslen, why, sizeof(why)) != MP_OK) {
        snprintf(err, errlen, "cannot listen on %s", why);
        rc = MP_ERR_IO;
        goto err;
    }
    /* One internal polling thread: every callback runs on it, which is what
     * lets the handlers print and append without locks. An IPv6 address
     * needs the flag (dual stack: "[::]" takes IPv4 too). */
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_DUAL_STACK;
    s->daemon = MHD_start_daemon(
        flags, cfg->listen.port, NULL, NULL, sink__on_request, s,
        MHD_OPTION_EXTERNAL_LOGGER, sink__on_log, s, /* first, to catch start errors */
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_NOTIFY_COMPLETED, sink__on_completed, s,
        MHD_OPTION_CONNECTION_TIMEOUT, SINK_CONN_TIMEOUT_S,
        MHD_OPTION_END);
    if (s->daemon == NULL) {
        const char *h = cfg->listen.host;
        snprintf(err, errlen, "cannot listen on %s%s%s:%u: %s", cfg->listen.ipv6 ? "[" : "", h,
                 cfg->listen.ipv6 ? "]" : "", (unsigned)cfg->listen.port,
                 s->last_log[0] ? s->last_log : "libmicrohttpd failed to start");
        rc = MP_ERR_IO;
        goto err;
    }
    mp_store_relaxed(&s->started, 1);
    *out = s;
    return MP_OK;

err:
    cli_sink_stop(s); /* what was opened so far: no server yet */
    return rc;
}

void cli_sink_stop(struct cli_sink *sink)
{
    if (sink == NULL)
        return;
    if (sink->daemon != NULL)
        MHD_stop_daemon(sink->daemon);
    if (sink->out_fd >= 0)
        close(sink->out_fd);
    free(sink);
}

/* ---------------------------------------------------------------- command */

#define SINK_DEFAULT_MAX_BODY ((int64_t)1 << 20)
#define SINK_MAX_MAX_BODY ((int64_t)1 << 30)

enum sink_opt { SINK_LISTEN, SINK_STATUS, SINK_OUT, SINK_MAX_BODY };

static const struct cli_opt sink__opts[] = {
    [SINK_LISTEN] = {"listen", "HOST:PORT",
                     "address to serve on (required): an IPv4 address,\n"
                     "[IPv6] (e.g. [::1]:9000), localhost or a host name,\n"
                     "and a port 1..65535"},
    [SINK_STATUS] = {"status", "CODE",
                     "HTTP status answered to every POST, 200..599\n"
                     "(default 200); e.g. 503 to play a receiver that is down"},
    [SINK_OUT] = {"out", "FILE", "append one JSON line per request to FILE"},
    [SINK_MAX_BODY] = {"max-body", "BYTES",
                       "larger bodies are answered 413, 0..1073741824\n"
                       "(default 1048576)"},
};

static const char sink__usage[] =
    "usage: mailpulse sink --listen HOST:PORT [--status CODE] [--out FILE]\n"
    "                      [--max-body BYTES]\n"
    "\n"
    "Serves HTTP and takes POSTs on any path, like a webhook receiver would.\n"
    "Each request is printed to stdout: one line per alert for an Alertmanager\n"
    "v4 webhook body, e.g.\n"
    "    [2026-11-22T16:30:01.123Z] FIRING warning bounce_rate tenant=acme ...\n"
    "      ... value=8.00% threshold=2.00% (80/1000 over 1h)\n"
    "(the time is when the request arrived), otherwise the path and the raw\n"
    "body. With --out each request is also appended to FILE as one JSON line:\n"
    "received_ms, mono_ns (CLOCK_MONOTONIC, for latency), path, status,\n"
    "headers (lower-cased names), body_bytes, and body (parsed JSON) or\n"
    "body_raw (the body as a string). Prints \"sink listening on HOST:PORT\"\n"
    "to stderr once ready and runs until SIGINT or SIGTERM.\n"
    "Exit status: 0 stopped by a signal, 1 cannot listen or open FILE,\n"
    "2 bad usage.\n";

static int sink__run(const struct cli_cmd *cmd, int argc, char **argv)
{
    struct cli_sink_config cfg = {.status = 200, .max_body = (size_t)SINK_DEFAULT_MAX_BODY,
                                  .print = stdout};
    const char *listen = NULL;
    char why[320];
    struct cli_args a = CLI_ARGS(cmd, argc, argv);
    int rc;
    int64_t n;
    while ((rc = cli_next(&a)) == MP_OK) {
        const char *val = a.val;
        switch ((enum sink_opt)a.idx) {
        case SINK_LISTEN:
            if (mp_addr_parse(val, &cfg.listen, why, sizeof(why)) != MP_OK)
                return cli_usage_error(cmd, "--listen: %s", why);
            listen = val;
            break;
        case SINK_STATUS:
            if ((rc = cli_arg_i64(&a, 200, 599, &n)) != MP_OK)
                return rc;
            cfg.status = (unsigned)n;
            break;
        case SINK_OUT: cfg.out_path = val; break;
        case SINK_MAX_BODY:
            if ((rc = cli_arg_i64(&a, 0, SINK_MAX_MAX_BODY, &n)) != MP_OK)
                return rc;
            cfg.max_body = (size_t)n;
            break;
        }
    }
    if (rc != MP_ERR_NOTFOUND)
        return rc == CLI_HELP ? MP_OK : rc;
    if (listen == NULL)
        return cli_usage_error(cmd, "missing required option --listen HOST:PORT");

    /* Wait for SIGINT/SIGTERM with sigwait() instead of a handler: no flag
     * to share. They are blocked before the server's thread exists, so that
     * thread inherits the mask and the signal is left to this one. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    /* A reader that went away must not kill the sink mid-request. */
    signal(SIGPIPE, SIG_IGN);

    struct cli_sink *sink = NULL;
    char err[512];
    rc = cli_sink_start(&cfg, &sink, err, sizeof(err));
    if (rc != MP_OK) {
        cli_fail(cmd, "%s", err);
        return rc == MP_ERR_INVAL ? MP_ERR_IO : rc; /* config was checked: not a usage error */
    }
    fprintf(stderr, "sink listening on %s\n", listen);
    fflush(stderr);

    int sig;
    while (sigwait(&stop, &sig) != 0)
        ;
    cli_sink_stop(sink);
    fflush(stdout);
    return MP_OK;
}

const struct cli_cmd cli_sink_cmd = {
    "sink", "run a local HTTP receiver that prints and records webhook alerts", sink__usage,
    sink__opts, MP_ARRAY_LEN(sink__opts), sink__run};
