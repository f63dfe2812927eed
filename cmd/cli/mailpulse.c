/* mailpulse.c — the `mailpulse` command-line tool.
 *
 *   mailpulse send   build test events and push them to the daemon as
 *                    EventBatch frames over ZeroMQ (or push raw frames)
 *   mailpulse sink   a local HTTP receiver that prints and records webhooks
 *   mailpulse stats  a tenant's counts and rates from the daemon's HTTP API
 *   mailpulse alerts pending and firing alerts, or dead letters
 *   mailpulse help   list the commands
 *
 * Every command takes --help. Exit status: 0 success, 1 the work failed
 * (endpoint unreachable, address in use, ...), 2 bad usage: an unknown
 * option, a missing or malformed value. Usage errors name the option and
 * the value expected; values are checked for syntax only, because the
 * daemon's own validation is what the tests exercise.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <pthread.h>
#include <zmq.h>

#include "cli_sink.h"
#include "cli_alerts.h"
#include "cli_stats.h"
#include "ingest_validate.h"
#include "mailpulse.pb-c.h"
#include "mp.h"
#include "eng_name.h"

enum cli_exit { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

/* ---------------------------------------------------------------- options */

struct cli_opt {
    const char *name; /* long name without the leading "--" */
    const char *arg;  /* placeholder of its value; NULL for a flag */
    const char *help; /* '\n' continues the text on the next line */
};

struct cli_cmd;
typedef int (*cli_run_fn)(const struct cli_cmd *cmd, int argc, char **argv);

struct cli_cmd {
    const char *name;
    const char *summary; /* one line for the command list */
    const char *usage;   /* synopsis and description, printed by --help */
    const struct cli_opt *opts;
    size_t n_opts;
    cli_run_fn run; /* argv[0] is the command name; returns MP_OK/MP_ERR_* */
};

/* Walks a command's argv. */
struct cli_args {
    const struct cli_cmd *cmd;
    int argc;
    char **argv;
    int i;
};

static void cli__print_help(const struct cli_cmd *cmd, FILE *f)
{
    fputs(cmd->usage, f);
    fputs("\noptions:\n", f);
    for (size_t i = 0; i < cmd->n_opts; i++) {
        const struct cli_opt *o = &cmd->opts[i];
        char left[64];
        snprintf(left, sizeof(left), "%s--%s%s%s", strcmp(o->name, "help") == 0 ? "-h, " : "",
                 o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(f, "  %-22s ", left);
        for (const char *h = o->help; *h; h++) {
            fputc(*h, f);
            if (*h == '\n')
                fprintf(f, "  %-22s ", "");
        }
        fputc('\n', f);
    }
}

/* Prints "mailpulse CMD: message" and a pointer to --help to stderr.
 * Returns MP_ERR_INVAL so callers can `return cli__usage_error(...)`. */
static int cli__usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int cli__usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "mailpulse %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nRun 'mailpulse %s --help' for the options.\n", cmd->name);
    return MP_ERR_INVAL;
}

/* Prints "mailpulse CMD: message" to stderr for a failure at run time. */
static void cli__fail(const struct cli_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void cli__fail(const struct cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "mailpulse %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Reads the option at a->argv[a->i], as "--name value", "--name=value",
 * "--flag" or "-h". Returns MP_OK with *idx (into cmd->opts) and *val (NULL
 * for a flag), MP_ERR_NOTFOUND past the last argument, or MP_ERR_INVAL after
 * printing why. Exact names only: no abbreviations, no positionals. */
static int cli__next(struct cli_args *a, size_t *idx, const char **val)
{
    if (a->i >= a->argc)
        return MP_ERR_NOTFOUND;
    const char *arg = a->argv[a->i++];
    const char *name;
    if (strcmp(arg, "-h") == 0)
        name = "help";
    else if (strncmp(arg, "--", 2) == 0 && arg[2] != '\0')
        name = arg + 2;
    else if (arg[0] == '-')
        return cli__usage_error(a->cmd, "unknown option '%s'", arg);
    else
        return cli__usage_error(a->cmd, "unexpected argument '%s'", arg);

    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    for (size_t i = 0; i < a->cmd->n_opts; i++) {
        const struct cli_opt *o = &a->cmd->opts[i];
        if (strlen(o->name) != len || strncmp(o->name, name, len) != 0)
            continue;
        if (o->arg == NULL) {
            if (eq != NULL)
                return cli__usage_error(a->cmd, "--%s takes no value", o->name);
            *val = NULL;
        } else if (eq != NULL) {
            *val = eq + 1;
        } else if (a->i < a->argc) {
            *val = a->argv[a->i++]; /* taken as is, even "" or "-x" */
        } else {
            return cli__usage_error(a->cmd, "--%s needs a value (%s)", o->name, o->arg);
        }
        *idx = i;
        return MP_OK;
    }
    return cli__usage_error(a->cmd, "unknown option '--%.*s'", (int)len, name);
}

/* Whole decimal integers only: no spaces, no suffixes, no hex. */
static int cli__parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    const char *d = (s[0] == '-' || s[0] == '+') ? s + 1 : s;
    if (*d < '0' || *d > '9')
        return MP_ERR_INVAL;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return MP_ERR_INVAL;
    *out = v;
    return MP_OK;
}

static int cli__parse_u64(const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9') /* strtoull would wrap "-1" */
        return MP_ERR_INVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return MP_ERR_INVAL;
    *out = v;
    return MP_OK;
}

/* Parses an option's integer value, or prints a usage error naming it. */
static int cli__opt_i64(const struct cli_cmd *cmd, const struct cli_opt *o, const char *val,
                        int64_t min, int64_t max, int64_t *out)
{
    if (cli__parse_i64(val, min, max, out) == MP_OK)
        return MP_OK;
    return cli__usage_error(cmd, "--%s: expected an integer %" PRId64 "..%" PRId64 ", got \"%s\"",
                            o->name, min, max, val);
}

/* ------------------------------------------------------------------- send */

#define SEND_DEFAULT_ENDPOINT "tcp://127.0.0.1:7400"
#define SEND_DEFAULT_PRODUCER "mailpulse-cli"
#define SEND_MAX_COUNT 100000000
#define SEND_MAX_BATCH 10000
#define SEND_MAX_AGE_S 10000000000LL         /* ~317 years either way */
#define SEND_MAX_TIMEOUT_MS 3600000
#define SEND_RAW_MAX ((size_t)256 << 20)      /* --raw-file size limit */
#define SEND_QUEUE_BYTES ((int64_t)64 << 20)  /* frames queued before send blocks */

/* Index = wire value (proto/mailpulse.proto, EventType). */
static const char *const send__type_names[] = {
    "unspecified", "sent",  "delivered", "bounce_hard", "bounce_soft",
    "deferred",    "blocked", "complaint", "open",      "click",
    "reply",       "unsubscribe", "spam_trap",
};
_Static_assert(MP_ARRAY_LEN(send__type_names) == MAILPULSE__V1__EVENT_TYPE__EVENT_TYPE_SPAM_TRAP + 1,
               "one name per EventType value");
_Static_assert(MAILPULSE__V1__EVENT_TYPE__EVENT_TYPE_BOUNCE_HARD == 3, "names follow wire values");

enum send_opt {
    SEND_TENANT, SEND_MAILBOX, SEND_DOMAIN, SEND_TYPE, SEND_RAW_TYPE, SEND_COUNT, SEND_BATCH,
    SEND_TIME_MS, SEND_AGE, SEND_PRODUCER, SEND_SEQUENCE_START, SEND_ENDPOINT, SEND_TIMEOUT_MS,
    SEND_RAW_FILE, SEND_EMPTY_FRAME, SEND_HELP,
};

static const struct cli_opt send__opts[] = {
    [SEND_TENANT] = {"tenant", "T", "tenant (required; sent as given, even empty)"},
    [SEND_MAILBOX] = {"mailbox", "M", "sending mailbox, e.g. sales@acme.example (required)"},
    [SEND_DOMAIN] = {"domain", "D", "recipient domain, e.g. gmail.com (required)"},
    [SEND_TYPE] = {"type", "TYPE",
                   "event type (required unless --raw-type): sent,\n"
                   "delivered, bounce_hard, bounce_soft, deferred, blocked,\n"
                   "complaint, open, click, reply, unsubscribe, spam_trap,\n"
                   "or its number 0..12"},
    [SEND_RAW_TYPE] = {"raw-type", "N",
                       "send N (any 32-bit integer) as the type, so unknown\n"
                       "types can be sent on purpose"},
    [SEND_COUNT] = {"count", "N", "number of events, 1..100000000 (default 1)"},
    [SEND_BATCH] = {"batch", "N", "events per frame, 1..10000 (default 500)"},
    [SEND_TIME_MS] = {"time-ms", "T", "event time, Unix milliseconds (default: now)"},
    [SEND_AGE] = {"age", "S",
                  "event time S seconds before now (negative: in the\n"
                  "future); excludes --time-ms"},
    [SEND_PRODUCER] = {"producer", "ID",
                       "producer_id of every batch (default " SEND_DEFAULT_PRODUCER ")"},
    [SEND_SEQUENCE_START] = {"sequence-start", "N",
                             "sequence of the first batch, then +1 per batch\n"
                             "(default: Unix time in microseconds, so runs increase)"},
    [SEND_ENDPOINT] = {"endpoint", "E",
                       "ZeroMQ endpoint to connect to\n(default " SEND_DEFAULT_ENDPOINT ")"},
    [SEND_TIMEOUT_MS] = {"timeout-ms", "MS",
                         "fail when the endpoint takes no frame for MS ms, and\n"
                         "wait at most MS ms at exit to flush queued frames\n"
                         "(1..3600000, default 10000)"},
    [SEND_RAW_FILE] = {"raw-file", "PATH", "send the bytes of PATH verbatim as one frame"},
    [SEND_EMPTY_FRAME] = {"empty-frame", NULL, "send one zero-length frame"},
    [SEND_HELP] = {"help", NULL, "show this help"},
};

static const char send__usage[] =
    "usage: mailpulse send --tenant T --mailbox M --domain D --type TYPE [options]\n"
    "       mailpulse send --raw-file PATH [--endpoint E] [--timeout-ms MS]\n"
    "       mailpulse send --empty-frame [--endpoint E] [--timeout-ms MS]\n"
    "\n"
    "Pushes COUNT identical events to the daemon's ZeroMQ PULL endpoint, BATCH\n"
    "events per frame; each frame is one serialized EventBatch of\n"
    "proto/mailpulse.proto. Values are checked for syntax only: the daemon does\n"
    "the real validation, so an empty tenant or an unknown type is sent as given.\n"
    "When every frame has been handed over it prints\n"
    "    sent events=N batches=M endpoint=E\n"
    "Exit status: 0 sent, 1 the endpoint did not take every frame in time,\n"
    "2 bad usage.\n";

struct send_opts {
    const char *tenant, *mailbox, *domain; /* NULL when not given */
    int have_type;
    int32_t type;
    int64_t count, batch;
    int have_time_ms, have_age;
    int64_t time_ms, age_s;
    const char *producer;
    int have_sequence;
    uint64_t sequence;
    const char *endpoint;
    int64_t timeout_ms;
    const char *raw_file;
    int empty_frame;
    const char *event_opt; /* first event-building option seen, for errors */
    int help;
};

/* Where frames go: a PUSH socket and its context. */
struct send_conn {
    void *ctx;
    void *sock;
    int64_t timeout_ms;
};

static int send__parse_type(const char *val, int32_t *out)
{
    int64_t n;
    if (cli__parse_i64(val, 0, MAILPULSE__V1__EVENT_TYPE__EVENT_TYPE_SPAM_TRAP, &n) == MP_OK) {
        *out = (int32_t)n;
        return MP_OK;
    }
    for (size_t i = 0; i < MP_ARRAY_LEN(send__type_names); i++) {
        if (strcasecmp(val, send__type_names[i]) == 0) {
            *out = (int32_t)i;
            return MP_OK;
        }
    }
    return MP_ERR_INVAL;
}

static int send__parse(const struct cli_cmd *cmd, int argc, char **argv, struct send_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->count = 1;
    o->batch = 500;
    o->producer = SEND_DEFAULT_PRODUCER;
    o->endpoint = SEND_DEFAULT_ENDPOINT;
    o->timeout_ms = 10000;

    struct cli_args a = {cmd, argc, argv, 1};
    size_t idx;
    const char *val;
    int rc;
    int64_t n;
    while ((rc = cli__next(&a, &idx, &val)) == MP_OK) {
        const struct cli_opt *opt = &cmd->opts[idx];
        if (idx != SEND_ENDPOINT && idx != SEND_TIMEOUT_MS && idx != SEND_RAW_FILE &&
            idx != SEND_EMPTY_FRAME && idx != SEND_HELP && o->event_opt == NULL)
            o->event_opt = opt->name;
        switch ((enum send_opt)idx) {
        case SEND_TENANT: o->tenant = val; break;
        case SEND_MAILBOX: o->mailbox = val; break;
        case SEND_DOMAIN: o->domain = val; break;
        case SEND_TYPE:
            if (o->have_type)
                return cli__usage_error(cmd, "give one of --type and --raw-type");
            if (send__parse_type(val, &o->type) != MP_OK)
                return cli__usage_error(cmd,
                                        "--type: unknown event type \"%s\" (names: sent, delivered, "
                                        "bounce_hard, bounce_soft, deferred, blocked, complaint, open, "
                                        "click, reply, unsubscribe, spam_trap, or 0..12; --raw-type N "
                                        "sends any number)",
                                        val);
            o->have_type = 1;
            break;
        case SEND_RAW_TYPE:
            if (o->have_type)
                return cli__usage_error(cmd, "give one of --type and --raw-type");
            if ((rc = cli__opt_i64(cmd, opt, val, INT32_MIN, INT32_MAX, &n)) != MP_OK)
                return rc;
            o->type = (int32_t)n;
            o->have_type = 1;
            break;
        case SEND_COUNT:
            if ((rc = cli__opt_i64(cmd, opt, val, 1, SEND_MAX_COUNT, &o->count)) != MP_OK)
                return rc;
            break;
        case SEND_BATCH:
            if ((rc = cli__opt_i64(cmd, opt, val, 1, SEND_MAX_BATCH, &o->batch)) != MP_OK)
                return rc;
            break;
        case SEND_TIME_MS:
            if ((rc = cli__opt_i64(cmd, opt, val, INT64_MIN, INT64_MAX, &o->time_ms)) != MP_OK)
                return rc;
            o->have_time_ms = 1;
            break;
        case SEND_AGE:
            if ((rc = cli__opt_i64(cmd, opt, val, -SEND_MAX_AGE_S, SEND_MAX_AGE_S, &o->age_s)) !=
                MP_OK)
                return rc;
            o->have_age = 1;
            break;
        case SEND_PRODUCER: o->producer = val; break;
        case SEND_SEQUENCE_START:
            if (cli__parse_u64(val, &o->sequence) != MP_OK)
                return cli__usage_error(cmd, "--%s: expected an integer 0..%" PRIu64 ", got \"%s\"",
                                        opt->name, UINT64_MAX, val);
            o->have_sequence = 1;
            break;
        case SEND_ENDPOINT: o->endpoint = val; break;
        case SEND_TIMEOUT_MS:
            if ((rc = cli__opt_i64(cmd, opt, val, 1, SEND_MAX_TIMEOUT_MS, &o->timeout_ms)) != MP_OK)
                return rc;
            break;
        case SEND_RAW_FILE: o->raw_file = val; break;
        case SEND_EMPTY_FRAME: o->empty_frame = 1; break;
        case SEND_HELP: o->help = 1; return MP_OK;
        }
    }
    if (rc != MP_ERR_NOTFOUND)
        return rc;

    if (o->raw_file != NULL || o->empty_frame) {
        if (o->raw_file != NULL && o->empty_frame)
            return cli__usage_error(cmd, "give one of --raw-file and --empty-frame");
        if (o->event_opt != NULL)
            return cli__usage_error(cmd, "--%s cannot be combined with --%s", o->event_opt,
                                    o->raw_file ? "raw-file" : "empty-frame");
        return MP_OK;
    }
    if (o->have_time_ms && o->have_age)
        return cli__usage_error(cmd, "give one of --time-ms and --age");
    char missing[96] = "";
    if (o->tenant == NULL)
        strcat(missing, " --tenant");
    if (o->mailbox == NULL)
        strcat(missing, " --mailbox");
    if (o->domain == NULL)
        strcat(missing, " --domain");
    if (!o->have_type)
        strcat(missing, " --type");
    if (missing[0] != '\0')
        return cli__usage_error(cmd, "missing required option(s):%s", missing);
    return MP_OK;
}

/* Opens a PUSH socket connected to `endpoint`. `hwm` frames may queue before
 * a send blocks; a send blocked for timeout_ms fails, and closing waits up to
 * timeout_ms (linger) for queued frames to reach the endpoint. Frames queue
 * even before the connection is up (no ZMQ_IMMEDIATE), so a sender started
 * just before the daemon, or across a daemon restart, still delivers. */
static int send__open(const struct cli_cmd *cmd, struct send_conn *c, const char *endpoint,
                      int64_t timeout_ms, int hwm)
{
    int timeout = (int)timeout_ms;
    c->timeout_ms = timeout_ms;
    c->ctx = zmq_ctx_new();
    if (c->ctx == NULL) {
        cli__fail(cmd, "zmq_ctx_new: %s", zmq_strerror(errno));
        return MP_ERR_IO;
    }
    c->sock = zmq_socket(c->ctx, ZMQ_PUSH);
    if (c->sock == NULL || zmq_setsockopt(c->sock, ZMQ_LINGER, &timeout, sizeof(timeout)) != 0 ||
        zmq_setsockopt(c->sock, ZMQ_SNDTIMEO, &timeout, sizeof(timeout)) != 0 ||
        zmq_setsockopt(c->sock, ZMQ_SNDHWM, &hwm, sizeof(hwm)) != 0) {
        cli__fail(cmd, "zmq socket setup: %s", zmq_strerror(errno));
        return MP_ERR_IO;
    }
    if (zmq_connect(c->sock, endpoint) != 0)
        return cli__usage_error(cmd, "--endpoint: cannot connect to \"%s\": %s", endpoint,
                                zmq_strerror(errno));
    return MP_OK;
}

/* Queues one frame; MP_ERR_AGAIN when the endpoint took nothing for the
 * timeout. */
static int send__frame(struct send_conn *c, const void *buf, size_t len)
{
    for (;;) {
        if (zmq_send(c->sock, buf, len, 0) >= 0)
            return MP_OK;
        if (errno != EINTR)
            return errno == EAGAIN ? MP_ERR_AGAIN : MP_ERR_IO;
    }
}

/* Closes the socket and context. With `flush`, waits for queued frames and
 * returns MP_ERR_AGAIN when the linger ran out, i.e. frames were dropped:
 * zmq_ctx_term() returns early as soon as every frame is out. Without
 * `flush` (an error path) it drops them at once. Safe on a partly opened
 * connection. */
static int send__close(struct send_conn *c, int flush)
{
    int rc = MP_OK;
    int64_t t0 = mp_mono_ns();
    if (c->sock != NULL) {
        if (!flush) {
            int zero = 0;
            zmq_setsockopt(c->sock, ZMQ_LINGER, &zero, sizeof(zero));
        }
        zmq_close(c->sock);
        c->sock = NULL;
    }
    if (c->ctx != NULL) {
        while (zmq_ctx_term(c->ctx) != 0 && errno == EINTR)
            ;
        c->ctx = NULL;
        if (flush && (mp_mono_ns() - t0) / 1000000 >= c->timeout_ms)
            rc = MP_ERR_AGAIN;
    }
    return rc;
}

/* Default first sequence: microseconds since the epoch, so successive runs
 * of one producer keep increasing unless told otherwise. */
static uint64_t send__default_sequence(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Sends o->count events in frames of o->batch. *events and *batches count
 * what was handed to the socket, also on failure. */
static int send__events(const struct cli_cmd *cmd, const struct send_opts *o, int64_t *events,
                        uint64_t *batches)
{
    int rc;
    struct send_conn c = {0};
    uint8_t *buf = NULL;
    size_t cap = 0;
    Mailpulse__V1__Event **slots = NULL;

    /* Every event of a run is the same, so every slot points at one Event.
     * protobuf-c wants char *; pack only reads them. */
    Mailpulse__V1__Event ev = MAILPULSE__V1__EVENT__INIT;
    ev.tenant = (char *)o->tenant;
    ev.mailbox = (char *)o->mailbox;
    ev.recipient_domain = (char *)o->domain;
    ev.type = (Mailpulse__V1__EventType)o->type;
    slots = malloc((size_t)o->batch * sizeof(*slots));
    if (slots == NULL) {
        rc = MP_ERR_NOMEM;
        cli__fail(cmd, "out of memory");
        goto out;
    }
    for (int64_t i = 0; i < o->batch; i++)
        slots[i] = &ev;

    Mailpulse__V1__EventBatch b = MAILPULSE__V1__EVENT_BATCH__INIT;
    b.events = slots;
    b.producer_id = (char *)o->producer;
    uint64_t seq0 = o->have_sequence ? o->sequence : send__default_sequence();

    /* Bound the send queue in bytes, not frames: 1-event frames may queue by
     * the hundred thousand, 10000-event frames only by the thousand. */
    ev.time_ms = mp_now_ms();
    b.n_events = (size_t)(o->count < o->batch ? o->count : o->batch);
    int64_t frame = (int64_t)mailpulse__v1__event_batch__get_packed_size(&b);
    int64_t hwm = SEND_QUEUE_BYTES / (frame > 0 ? frame : 1);
    hwm = hwm < 1000 ? 1000 : hwm > 100000 ? 100000 : hwm;
    if ((rc = send__open(cmd, &c, o->endpoint, o->timeout_ms, (int)hwm)) != MP_OK)
        goto out;

    for (int64_t left = o->count; left > 0;) {
        b.n_events = (size_t)(left < o->batch ? left : o->batch);
        b.sequence = seq0 + *batches; /* wraps at 2^64, like any counter */
        /* Stamped per frame, so a long run carries the time it is sent. */
        ev.time_ms = o->have_time_ms ? o->time_ms : mp_now_ms() - o->age_s * 1000;

        size_t len = mailpulse__v1__event_batch__get_packed_size(&b);
        if (len > cap) {
            uint8_t *nb = realloc(buf, len);
            if (nb == NULL) {
                rc = MP_ERR_NOMEM;
                cli__fail(cmd, "out of memory");
                goto out;
            }
            buf = nb;
            cap = len;
        }
        mailpulse__v1__event_batch__pack(&b, buf);
        if ((rc = send__frame(&c, buf, len)) != MP_OK) {
            cli__fail(cmd, "%s after %" PRIu64 " of %" PRId64 " frames: %s", o->endpoint, *batches,
                      (o->count + o->batch - 1) / o->batch,
                      rc == MP_ERR_AGAIN ? "the endpoint took no frame within --timeout-ms"
                                         : zmq_strerror(errno));
            goto out;
        }
        left -= (int64_t)b.n_events;
        *events += (int64_t)b.n_events;
        *batches += 1;
    }
    rc = send__close(&c, 1);
    if (rc != MP_OK)
        cli__fail(cmd, "%s did not take every queued frame within --timeout-ms %" PRId64
                       "; some were dropped (is the daemon running?)",
                  o->endpoint, o->timeout_ms);
out:
    send__close(&c, 0); /* no-op after the flushing close */
    free(buf);
    free(slots);
    return rc;
}

/* Reads a whole file of at most SEND_RAW_MAX bytes into *buf (caller frees). */
static int send__read_file(const struct cli_cmd *cmd, const char *path, char **buf, size_t *len)
{
    int rc = MP_OK;
    char *data = NULL;
    size_t n = 0, cap = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        cli__fail(cmd, "--raw-file: cannot open %s: %s", path, strerror(errno));
        return MP_ERR_IO;
    }
    for (;;) {
        if (n == cap) {
            if (cap >= SEND_RAW_MAX) {
                cli__fail(cmd, "--raw-file: %s is larger than %zu bytes", path, SEND_RAW_MAX);
                rc = MP_ERR_INVAL;
                goto out;
            }
            cap = cap ? cap * 2 : 65536;
            char *nd = realloc(data, cap + 1); /* +1: a frame may be the whole limit */
            if (nd == NULL) {
                cli__fail(cmd, "out of memory");
                rc = MP_ERR_NOMEM;
                goto out;
            }
            data = nd;
        }
        size_t got = fread(data + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        cli__fail(cmd, "--raw-file: cannot read %s: %s", path, strerror(errno));
        rc = MP_ERR_IO;
        goto out;
    }
    *buf = data;
    *len = n;
    data = NULL;
out:
    free(data);
    fclose(f);
    return rc;
}

/* --raw-file and --empty-frame: one frame, bytes as given. */
static int send__raw(const struct cli_cmd *cmd, const struct send_opts *o, uint64_t *batches)
{
    int rc;
    struct send_conn c = {0};
    char *data = NULL;
    size_t len = 0;
    if (o->raw_file != NULL && (rc = send__read_file(cmd, o->raw_file, &data, &len)) != MP_OK)
        goto out;
    if ((rc = send__open(cmd, &c, o->endpoint, o->timeout_ms, 1000)) != MP_OK)
        goto out;
    if ((rc = send__frame(&c, data ? data : "", len)) != MP_OK) {
        cli__fail(cmd, "%s: %s", o->endpoint,
                  rc == MP_ERR_AGAIN ? "the endpoint took no frame within --timeout-ms"
                                     : zmq_strerror(errno));
        goto out;
    }
    *batches = 1;
    rc = send__close(&c, 1);
    if (rc != MP_OK)
        cli__fail(cmd, "%s did not take the frame within --timeout-ms %" PRId64
                       " (is the daemon running?)",
                  o->endpoint, o->timeout_ms);
out:
    send__close(&c, 0);
    free(data);
    return rc;
}

static int cmd_send(const struct cli_cmd *cmd, int argc, char **argv)
{
    struct send_opts o;
    int rc = send__parse(cmd, argc, argv, &o);
    if (rc != MP_OK)
        return rc;
    if (o.help) {
        cli__print_help(cmd, stdout);
        return MP_OK;
    }

    int64_t events = 0;
    uint64_t batches = 0;
    if (o.raw_file != NULL || o.empty_frame)
        rc = send__raw(cmd, &o, &batches);
    else
        rc = send__events(cmd, &o, &events, &batches);
    if (rc != MP_OK)
        return rc;
    printf("sent events=%" PRId64 " batches=%" PRIu64 " endpoint=%s\n", events, batches,
           o.endpoint);
    fflush(stdout);
    return MP_OK;
}

/* ------------------------------------------------------------------- sink */

#define SINK_DEFAULT_MAX_BODY ((int64_t)1 << 20)
#define SINK_MAX_MAX_BODY ((int64_t)1 << 30)

enum sink_opt { SINK_LISTEN, SINK_STATUS, SINK_OUT, SINK_MAX_BODY, SINK_HELP };

static const struct cli_opt sink__opts[] = {
    [SINK_LISTEN] = {"listen", "HOST:PORT",
                     "address to serve on (required): an IPv4 address or\n"
                     "localhost, and a port 1..65535"},
    [SINK_STATUS] = {"status", "CODE",
                     "HTTP status answered to every POST, 200..599\n"
                     "(default 200); e.g. 503 to play a receiver that is down"},
    [SINK_OUT] = {"out", "FILE", "append one JSON line per request to FILE"},
    [SINK_MAX_BODY] = {"max-body", "BYTES",
                       "larger bodies are answered 413, 0..1073741824\n"
                       "(default 1048576)"},
    [SINK_HELP] = {"help", NULL, "show this help"},
};

static const char sink__usage[] =
    "usage: mailpulse sink --listen HOST:PORT [--status CODE] [--out FILE]\n"
    "                      [--max-body BYTES]\n"
    "\n"
    "Serves HTTP and takes POSTs on any path, like a webhook receiver would.\n"
    "Each request is printed to stdout: one line per alert for an Alertmanager\n"
    "v4 webhook body, e.g.\n"
    "    [2026-11-22T16:30:01.123Z] FIRING warning bounce_rate tenant=acme ...\n"
    "      ... value=0.08 threshold=0.02 (80/1000 over 1h)\n"
    "(the time is when the request arrived), otherwise the path and the raw\n"
    "body. With --out each request is also appended to FILE as one JSON line:\n"
    "received_ms, mono_ns (CLOCK_MONOTONIC, for latency), path, status,\n"
    "headers (lower-cased names), body_bytes, and body (parsed JSON) or\n"
    "body_raw (the body as a string). Prints \"sink listening on HOST:PORT\"\n"
    "to stderr once ready and runs until SIGINT or SIGTERM.\n"
    "Exit status: 0 stopped by a signal, 1 cannot listen or open FILE,\n"
    "2 bad usage.\n";

static int cmd_sink(const struct cli_cmd *cmd, int argc, char **argv)
{
    struct cli_sink_config cfg = {.status = 200, .max_body = (size_t)SINK_DEFAULT_MAX_BODY,
                                  .print = stdout};
    const char *listen = NULL;
    struct cli_args a = {cmd, argc, argv, 1};
    size_t idx;
    const char *val;
    int rc;
    int64_t n;
    while ((rc = cli__next(&a, &idx, &val)) == MP_OK) {
        const struct cli_opt *opt = &cmd->opts[idx];
        switch ((enum sink_opt)idx) {
        case SINK_LISTEN:
            if (cli_sink_parse_listen(val, &cfg.addr, &cfg.port) != MP_OK)
                return cli__usage_error(cmd,
                                        "--listen: expected HOST:PORT with an IPv4 address or "
                                        "localhost and a port 1..65535, got \"%s\"",
                                        val);
            listen = val;
            break;
        case SINK_STATUS:
            if ((rc = cli__opt_i64(cmd, opt, val, 200, 599, &n)) != MP_OK)
                return rc;
            cfg.status = (unsigned)n;
            break;
        case SINK_OUT: cfg.out_path = val; break;
        case SINK_MAX_BODY:
            if ((rc = cli__opt_i64(cmd, opt, val, 0, SINK_MAX_MAX_BODY, &n)) != MP_OK)
                return rc;
            cfg.max_body = (size_t)n;
            break;
        case SINK_HELP: cli__print_help(cmd, stdout); return MP_OK;
        }
    }
    if (rc != MP_ERR_NOTFOUND)
        return rc;
    if (listen == NULL)
        return cli__usage_error(cmd, "missing required option --listen HOST:PORT");

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
        cli__fail(cmd, "%s", err);
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

/* GET `url` from the daemon's HTTP API. MP_OK with *body on a 200;
 * otherwise says why (unreachable, or the daemon's own error message) and
 * returns MP_ERR_IO or MP_ERR_NOMEM (*body may still need freeing). */
static int cli__api_get(const struct cli_cmd *cmd, const char *url, int64_t timeout_ms,
                        char **body)
{
    char err[CURL_ERROR_SIZE + 64];
    long status = 0;
    int rc = cli_stats_get(url, (long)timeout_ms, &status, body, err, sizeof(err));
    if (rc != MP_OK) {
        cli__fail(cmd, "cannot get %s: %s (is mailpulsed running with http.listen there?)", url,
                  rc == MP_ERR_NOMEM ? "out of memory" : err);
        return rc;
    }
    if (status == 200)
        return MP_OK;
    cli_stats_error_text(*body, err, sizeof(err));
    if (err[0])
        cli__fail(cmd, "the daemon answered %ld: %s", status, err);
    else
        cli__fail(cmd, "the daemon answered %ld to %s: %.200s", status, url, *body);
    return MP_ERR_IO;
}

/* ------------------------------------------------------------------ stats */

#define STATS_MAX_LIMIT 10000

enum stats_opt { STATS_TENANT, STATS_WINDOW, STATS_BY, STATS_LIMIT, STATS_API, STATS_TIMEOUT_MS,
                 STATS_JSON, STATS_HELP };

static const struct cli_opt stats__opts[] = {
    [STATS_TENANT] = {"tenant", "T", "tenant (required): 1..64 of A-Z a-z 0-9 . _ -"},
    [STATS_WINDOW] = {"window", "W", "1h, 24h or 7d (default 24h)"},
    [STATS_BY] = {"by", "SCOPE", "also one row per mailbox or recipient_domain"},
    [STATS_LIMIT] = {"limit", "N",
                     "rows with --by, 1..10000 (default 100, the most\n"
                     "sent first)"},
    [STATS_API] = {"api", "URL", "the daemon's HTTP API (default " CLI_STATS_DEFAULT_API ")"},
    [STATS_TIMEOUT_MS] = {"timeout-ms", "MS", "give up after MS ms, 1..3600000 (default 5000)"},
    [STATS_JSON] = {"json", NULL, "print the API's JSON body as is"},
    [STATS_HELP] = {"help", NULL, "show this help"},
};

static const char stats__usage[] =
    "usage: mailpulse stats --tenant T [--window 1h|24h|7d] [--by mailbox|recipient_domain]\n"
    "                       [--limit N] [--api URL] [--timeout-ms MS] [--json]\n"
    "\n"
    "Prints a tenant's counts and rates over a rolling window, read from the\n"
    "daemon's GET /v1/tenants/{tenant}/stats. Rates are percentages: bounce,\n"
    "soft bounce, block, deferral and delivery of sent; complaint, engagement\n"
    "(opens + clicks + replies) and unsubscribe of delivered; \"-\" when the\n"
    "denominator is 0. With --by, one row per mailbox or recipient domain that\n"
    "had events in the window, most sent first.\n"
    "Exit status: 0 printed, 1 the daemon could not be reached or refused the\n"
    "request (its error message is printed, e.g. for an unknown tenant),\n"
    "2 bad usage.\n";

static int cmd_stats(const struct cli_cmd *cmd, int argc, char **argv)
{
    const char *tenant = NULL, *window = "24h", *by = NULL, *api = CLI_STATS_DEFAULT_API;
    int64_t limit = 0, timeout_ms = 5000;
    int json = 0;
    struct cli_args a = {cmd, argc, argv, 1};
    size_t idx;
    const char *val;
    int rc;
    while ((rc = cli__next(&a, &idx, &val)) == MP_OK) {
        const struct cli_opt *opt = &cmd->opts[idx];
        switch ((enum stats_opt)idx) {
        case STATS_TENANT:
            if (!eng_name_valid(val, strlen(val)))
                return cli__usage_error(cmd,
                                        "--tenant: expected 1..64 characters of A-Z a-z 0-9 . _ -, "
                                        "got \"%s\"",
                                        val);
            tenant = val;
            break;
        case STATS_WINDOW:
            if (strcmp(val, "1h") != 0 && strcmp(val, "24h") != 0 && strcmp(val, "7d") != 0)
                return cli__usage_error(cmd, "--window: expected 1h, 24h or 7d, got \"%s\"", val);
            window = val;
            break;
        case STATS_BY:
            if (strcmp(val, "mailbox") != 0 && strcmp(val, "recipient_domain") != 0)
                return cli__usage_error(cmd,
                                        "--by: expected mailbox or recipient_domain, got \"%s\"",
                                        val);
            by = val;
            break;
        case STATS_LIMIT:
            if ((rc = cli__opt_i64(cmd, opt, val, 1, STATS_MAX_LIMIT, &limit)) != MP_OK)
                return rc;
            break;
        case STATS_API:
            if (strncmp(val, "http://", 7) != 0 && strncmp(val, "https://", 8) != 0)
                return cli__usage_error(cmd, "--api: expected an http:// or https:// URL, got \"%s\"",
                                        val);
            api = val;
            break;
        case STATS_TIMEOUT_MS:
            if ((rc = cli__opt_i64(cmd, opt, val, 1, SEND_MAX_TIMEOUT_MS, &timeout_ms)) != MP_OK)
                return rc;
            break;
        case STATS_JSON: json = 1; break;
        case STATS_HELP: cli__print_help(cmd, stdout); return MP_OK;
        }
    }
    if (rc != MP_ERR_NOTFOUND)
        return rc;
    if (tenant == NULL)
        return cli__usage_error(cmd, "missing required option --tenant T");
    if (limit && by == NULL)
        return cli__usage_error(cmd, "--limit needs --by mailbox or --by recipient_domain");

    char *url = NULL, *body = NULL;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if ((rc = cli_stats_url(api, tenant, window, by, (long)limit, &url)) != MP_OK) {
        cli__fail(cmd, "out of memory");
        goto out;
    }
    if ((rc = cli__api_get(cmd, url, timeout_ms, &body)) != MP_OK)
        goto out;
    if (json) {
        printf("%s\n", body);
    } else if ((rc = cli_stats_print(stdout, body)) != MP_OK) {
        cli__fail(cmd, "%s answered 200 but not with stats JSON: %.200s", url, body);
        goto out;
    }
    fflush(stdout);
out:
    free(url);
    free(body);
    curl_global_cleanup();
    return rc;
}

/* ----------------------------------------------------------------- alerts */

enum alerts_opt { ALERTS_TENANT, ALERTS_DEAD, ALERTS_LIMIT, ALERTS_API, ALERTS_TIMEOUT_MS,
                  ALERTS_JSON, ALERTS_HELP };

static const struct cli_opt alerts__opts[] = {
    [ALERTS_TENANT] = {"tenant", "T", "only this tenant's alerts"},
    [ALERTS_DEAD] = {"dead", NULL, "list dead letters (notifications given up on) instead"},
    [ALERTS_LIMIT] = {"limit", "N", "with --dead: at most N, 1..999999 (default 1000)"},
    [ALERTS_API] = {"api", "URL", "the daemon's HTTP API (default " CLI_STATS_DEFAULT_API ")"},
    [ALERTS_TIMEOUT_MS] = {"timeout-ms", "MS", "give up after MS ms, 1..3600000 (default 5000)"},
    [ALERTS_JSON] = {"json", NULL, "print the API's JSON body as is"},
    [ALERTS_HELP] = {"help", NULL, "show this help"},
};

static const char alerts__usage[] =
    "usage: mailpulse alerts [--tenant T] [--dead [--limit N]] [--api URL]\n"
    "                        [--timeout-ms MS] [--json]\n"
    "\n"
    "Prints the pending and firing alerts (GET /v1/alerts): state, severity,\n"
    "rule, tenant, scope and name, value against threshold, numerator and\n"
    "denominator, window, and since when. With --dead, the notifications the\n"
    "outbox gave up on (GET /v1/alerts/dead): a receiver's 4xx, or too old.\n"
    "Exit status: 0 printed, 1 the daemon could not be reached or refused the\n"
    "request, 2 bad usage.\n";

static int cmd_alerts(const struct cli_cmd *cmd, int argc, char **argv)
{
    const char *tenant = NULL, *api = CLI_STATS_DEFAULT_API;
    int64_t limit = 0, timeout_ms = 5000;
    int json = 0, dead = 0;
    struct cli_args a = {cmd, argc, argv, 1};
    size_t idx;
    const char *val;
    int rc;
    while ((rc = cli__next(&a, &idx, &val)) == MP_OK) {
        const struct cli_opt *opt = &cmd->opts[idx];
        switch ((enum alerts_opt)idx) {
        case ALERTS_TENANT:
            if (!eng_name_valid(val, strlen(val)))
                return cli__usage_error(cmd,
                                        "--tenant: expected 1..64 characters of A-Z a-z 0-9 . _ -, "
                                        "got \"%s\"",
                                        val);
            tenant = val;
            break;
        case ALERTS_DEAD: dead = 1; break;
        case ALERTS_LIMIT:
            if ((rc = cli__opt_i64(cmd, opt, val, 1, 999999, &limit)) != MP_OK)
                return rc;
            break;
        case ALERTS_API:
            if (strncmp(val, "http://", 7) != 0 && strncmp(val, "https://", 8) != 0)
                return cli__usage_error(cmd, "--api: expected an http:// or https:// URL, got \"%s\"",
                                        val);
            api = val;
            break;
        case ALERTS_TIMEOUT_MS:
            if ((rc = cli__opt_i64(cmd, opt, val, 1, SEND_MAX_TIMEOUT_MS, &timeout_ms)) != MP_OK)
                return rc;
            break;
        case ALERTS_JSON: json = 1; break;
        case ALERTS_HELP: cli__print_help(cmd, stdout); return MP_OK;
        }
    }
    if (rc != MP_ERR_NOTFOUND)
        return rc;
    if (limit && !dead)
        return cli__usage_error(cmd, "--limit goes with --dead");

    char *url = NULL, *body = NULL;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if ((rc = cli_alerts_url(api, tenant, dead, (long)limit, &url)) != MP_OK) {
        cli__fail(cmd, "out of memory");
        goto out;
    }
    if ((rc = cli__api_get(cmd, url, timeout_ms, &body)) != MP_OK)
        goto out;
    if (json)
        printf("%s\n", body);
    else if ((rc = (dead ? cli_alerts_print_dead : cli_alerts_print)(stdout, body)) != MP_OK)
        cli__fail(cmd, "%s answered 200 but not with alerts JSON: %.200s", url, body);
    fflush(stdout);
out:
    free(url);
    free(body);
    curl_global_cleanup();
    return rc;
}

/* ------------------------------------------------------------------- main */

static const struct cli_cmd cli__cmds[] = {
    {"send", "send test events to the daemon as EventBatch frames over ZeroMQ", send__usage,
     send__opts, MP_ARRAY_LEN(send__opts), cmd_send},
    {"sink", "run a local HTTP receiver that prints and records webhook alerts", sink__usage,
     sink__opts, MP_ARRAY_LEN(sink__opts), cmd_sink},
    {"stats", "print a tenant's counts and rates from the daemon's HTTP API", stats__usage,
     stats__opts, MP_ARRAY_LEN(stats__opts), cmd_stats},
    {"alerts", "list pending and firing alerts, or dead letters, from the daemon", alerts__usage,
     alerts__opts, MP_ARRAY_LEN(alerts__opts), cmd_alerts},
};

static void cli__print_commands(FILE *f)
{
    fputs("usage: mailpulse <command> [options]\n"
          "\n"
          "Sends test events to a mailpulse daemon, reads its stats and receives its\n"
          "webhook alerts.\n"
          "\n"
          "commands:\n",
          f);
    for (size_t i = 0; i < MP_ARRAY_LEN(cli__cmds); i++)
        fprintf(f, "  %-6s %s\n", cli__cmds[i].name, cli__cmds[i].summary);
    fprintf(f, "  %-6s %s\n", "help", "show this list, or 'help <command>' for a command's options");
    fputs("\nRun 'mailpulse <command> --help' for a command's options.\n", f);
}

static const struct cli_cmd *cli__find(const char *name)
{
    for (size_t i = 0; i < MP_ARRAY_LEN(cli__cmds); i++)
        if (strcmp(cli__cmds[i].name, name) == 0)
            return &cli__cmds[i];
    return NULL;
}

static int cli__exit_code(int rc)
{
    if (rc == MP_OK)
        return CLI_EXIT_OK;
    return rc == MP_ERR_INVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli__print_commands(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 ||
        (strcmp(name, "help") == 0 && argc == 2)) {
        cli__print_commands(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "help") == 0) {
        const struct cli_cmd *cmd = argc == 3 ? cli__find(argv[2]) : NULL;
        if (cmd == NULL) {
            fprintf(stderr, "mailpulse help: expected one command name, e.g. 'mailpulse help send'\n");
            return CLI_EXIT_USAGE;
        }
        cli__print_help(cmd, stdout);
        return CLI_EXIT_OK;
    }
    const struct cli_cmd *cmd = cli__find(name);
    if (cmd == NULL) {
        fprintf(stderr, "mailpulse: unknown command '%s'\n\n", name);
        cli__print_commands(stderr);
        return CLI_EXIT_USAGE;
    }
    return cli__exit_code(cmd->run(cmd, argc - 1, argv + 1));
}
