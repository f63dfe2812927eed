/* cli_send.c — `mailpulse send`: test events, or raw frames, pushed to the
 * daemon over ZeroMQ (see cli_send.h). */
#include "cli_send.h"
#include "cli_send_ack.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "cli_push.h"
#include "mailpulse.pb-c.h"
#include "mp_buf.h"

#define SEND_DEFAULT_ENDPOINT CLI_PUSH_DEFAULT_ENDPOINT
#define SEND_DEFAULT_PRODUCER "mailpulse-cli"
#define SEND_MAX_COUNT 100000000
#define SEND_MAX_BATCH 10000
#define SEND_MAX_AGE_S 10000000000LL         /* ~317 years either way */
#define CLI_MAX_TIMEOUT_MS 3600000
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

/* Event-building options come first (send__parse counts everything before
 * SEND_ENDPOINT as one); connection options after SEND_ENDPOINT. */
enum send_opt {
    SEND_TENANT, SEND_MAILBOX, SEND_DOMAIN, SEND_TYPE, SEND_RAW_TYPE, SEND_COUNT, SEND_BATCH,
    SEND_TIME_MS, SEND_AGE, SEND_PRODUCER, SEND_SEQUENCE_START, SEND_ENDPOINT, SEND_TIMEOUT_MS,
    SEND_RAW_FILE, SEND_EMPTY_FRAME, SEND_ACK, SEND_WINDOW, SEND_ACK_TIMEOUT_MS, SEND_RETRIES,
    SEND_SERVER_KEY, SEND_SECRET_KEY_FILE,
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
                       "producer_id of every batch (default: a new one per run,\n"
                       SEND_DEFAULT_PRODUCER "-<pid>-<microseconds>)"},
    [SEND_SEQUENCE_START] = {"sequence-start", "N",
                             "sequence of the first batch, then +1 per batch\n"
                             "(default: Unix time in microseconds, so runs increase;\n"
                             "with --ack 1, and 0 is refused: it is never deduplicated)"},
    [SEND_ENDPOINT] = {"endpoint", "E",
                       "ZeroMQ endpoint to connect to (default: $" CLI_ENV_ENDPOINT ",\n"
                       "else " SEND_DEFAULT_ENDPOINT "; with --ack $" CLI_ENV_ROUTER ",\n"
                       "else " SEND_ACK_DEFAULT_ENDPOINT ")"},
    [SEND_TIMEOUT_MS] = {"timeout-ms", "MS",
                         "fail when the endpoint takes no frame for MS ms, and\n"
                         "wait at most MS ms at exit to flush queued frames\n"
                         "(1..3600000, default 10000; PUSH only)"},
    [SEND_RAW_FILE] = {"raw-file", "PATH", "send the bytes of PATH verbatim as one frame"},
    [SEND_EMPTY_FRAME] = {"empty-frame", NULL, "send one zero-length frame"},
    [SEND_ACK] = {"ack", NULL,
                  "acked: a DEALER to the daemon's ingest.router, one Ack\n"
                  "per batch, resends until every batch is acked"},
    [SEND_WINDOW] = {"window", "N", "with --ack: batches in flight, 1..4096 (default 32)"},
    [SEND_ACK_TIMEOUT_MS] = {"ack-timeout-ms", "MS",
                             "with --ack: resend a batch whose ack has not come\n"
                             "within MS ms (1..3600000, default 2000)"},
    [SEND_RETRIES] = {"retries", "N",
                      "with --ack: resends of one batch (after RETRY or a\n"
                      "timeout) before giving up, 0..1000000 (default 10)"},
    [SEND_SERVER_KEY] = {"server-key", "Z85",
                         "the daemon's CurveZMQ public key (ingest.curve);\n"
                         "needs --secret-key-file"},
    [SEND_SECRET_KEY_FILE] = {"secret-key-file", "PATH",
                              "this producer's CurveZMQ secret key, as written by\n"
                              "mailpulse keygen --secret-file"},
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
    "PUSH is fire and forget: it cannot know whether the daemon counted a\n"
    "frame. Exit status 0 means every frame reached a connection to E;\n"
    "1 means some certainly did not: no connection to E was made within\n"
    "--timeout-ms (always so when nothing listens there), or frames were\n"
    "still queued when it ran out; 2 bad usage.\n"
    "\n"
    "With --ack the batches go to the daemon's ingest.router endpoint and each\n"
    "is resent until its Ack says OK or DUPLICATE (applied once, whatever\n"
    "was resent), with a backoff after RETRY. Sequences then start at 1 under\n"
    "the run's own producer id; give --producer and --sequence-start to\n"
    "continue (or resend) a producer's stream.\n"
    "At the end it prints what the acks said:\n"
    "    acked batches=N events=N accepted=N rejected=N duplicate=N refused=N retries=N endpoint=E\n"
    "    ack_error reason=\"...\" batches=N first_sequence=S   (one per error text)\n"
    "Exit status with --ack: 0 every batch acked OK or DUPLICATE (events the\n"
    "daemon rejected one by one are in rejected=), 1 a batch was refused whole\n"
    "or not acked after --retries resends, 2 bad usage.\n";

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
    int ack, have_endpoint, have_timeout, have_producer;
    int64_t window, ack_timeout_ms, retries;
    const char *ack_opt; /* first --ack-only option seen, for errors */
    const char *event_opt; /* first event-building option seen, for errors */
    char producer_buf[64]; /* the per-run default producer id of --ack */
    const char *server_key, *secret_key_file; /* NULL: no Curve */
};

static int send__parse_type(const char *val, int32_t *out)
{
    int64_t n;
    if (cli_parse_i64(val, 0, MAILPULSE__V1__EVENT_TYPE__EVENT_TYPE_SPAM_TRAP, &n) == MP_OK) {
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

/* Default first sequence: microseconds since the epoch, so successive runs
 * of one producer keep increasing unless told otherwise. */
static uint64_t send__default_sequence(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int send__check(const struct cli_cmd *cmd, struct send_opts *o);

/* The options after SEND_ENDPOINT: where frames go and how. */
static int send__parse_conn(const struct cli_args *a, struct send_opts *o)
{
    int rc;
    switch ((enum send_opt)a->idx) {
    case SEND_ENDPOINT:
        o->endpoint = a->val;
        o->have_endpoint = 1;
        return MP_OK;
    case SEND_TIMEOUT_MS:
        if ((rc = cli_arg_i64(a, 1, CLI_MAX_TIMEOUT_MS, &o->timeout_ms)) == MP_OK)
            o->have_timeout = 1;
        return rc;
    case SEND_RAW_FILE: o->raw_file = a->val; return MP_OK;
    case SEND_EMPTY_FRAME: o->empty_frame = 1; return MP_OK;
    case SEND_ACK: o->ack = 1; return MP_OK;
    case SEND_WINDOW: return cli_arg_i64(a, 1, SEND_ACK_MAX_WINDOW, &o->window);
    case SEND_ACK_TIMEOUT_MS: return cli_arg_i64(a, 1, CLI_MAX_TIMEOUT_MS, &o->ack_timeout_ms);
    case SEND_RETRIES: return cli_arg_i64(a, 0, SEND_ACK_MAX_RETRIES, &o->retries);
    case SEND_SERVER_KEY: o->server_key = a->val; return MP_OK;
    case SEND_SECRET_KEY_FILE: o->secret_key_file = a->val; return MP_OK;
    default: return MP_ERR_INVAL;
    }
}

static int send__parse(const struct cli_cmd *cmd, int argc, char **argv, struct send_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->count = 1;
    o->batch = 500;
    o->endpoint = SEND_DEFAULT_ENDPOINT;
    o->timeout_ms = 10000;
    o->window = 32;
    o->ack_timeout_ms = 2000;
    o->retries = 10;

    struct cli_args a = CLI_ARGS(cmd, argc, argv);
    int rc;
    int64_t n;
    while ((rc = cli_next(&a)) == MP_OK) {
        const char *val = a.val;
        if (a.idx < SEND_ENDPOINT && o->event_opt == NULL)
            o->event_opt = a.opt->name;
        if (a.idx >= SEND_WINDOW && a.idx <= SEND_RETRIES && o->ack_opt == NULL)
            o->ack_opt = a.opt->name;
        switch ((enum send_opt)a.idx) {
        case SEND_TENANT: o->tenant = val; break;
        case SEND_MAILBOX: o->mailbox = val; break;
        case SEND_DOMAIN: o->domain = val; break;
        case SEND_TYPE:
            if (o->have_type)
                return cli_usage_error(cmd, "give one of --type and --raw-type");
            if (send__parse_type(val, &o->type) != MP_OK)
                return cli_usage_error(cmd,
                                        "--type: unknown event type \"%s\" (names: sent, delivered, "
                                        "bounce_hard, bounce_soft, deferred, blocked, complaint, open, "
                                        "click, reply, unsubscribe, spam_trap, or 0..12; --raw-type N "
                                        "sends any number)",
                                        val);
            o->have_type = 1;
            break;
        case SEND_RAW_TYPE:
            if (o->have_type)
                return cli_usage_error(cmd, "give one of --type and --raw-type");
            if ((rc = cli_arg_i64(&a, INT32_MIN, INT32_MAX, &n)) != MP_OK)
                return rc;
            o->type = (int32_t)n;
            o->have_type = 1;
            break;
        case SEND_COUNT:
            if ((rc = cli_arg_i64(&a, 1, SEND_MAX_COUNT, &o->count)) != MP_OK)
                return rc;
            break;
        case SEND_BATCH:
            if ((rc = cli_arg_i64(&a, 1, SEND_MAX_BATCH, &o->batch)) != MP_OK)
                return rc;
            break;
        case SEND_TIME_MS:
            if ((rc = cli_arg_i64(&a, INT64_MIN, INT64_MAX, &o->time_ms)) != MP_OK)
                return rc;
            o->have_time_ms = 1;
            break;
        case SEND_AGE:
            if ((rc = cli_arg_i64(&a, -SEND_MAX_AGE_S, SEND_MAX_AGE_S, &o->age_s)) !=
                MP_OK)
                return rc;
            o->have_age = 1;
            break;
        case SEND_PRODUCER:
            o->producer = val;
            o->have_producer = 1;
            break;
        case SEND_SEQUENCE_START:
            if (cli_parse_u64(val, &o->sequence) != MP_OK)
                return cli_usage_error(cmd, "--%s: expected an integer 0..%" PRIu64 ", got \"%s\"",
                                        a.opt->name, UINT64_MAX, val);
            o->have_sequence = 1;
            break;
        default:
            if ((rc = send__parse_conn(&a, o)) != MP_OK)
                return rc;
            break;
        }
    }
    return rc == MP_ERR_NOTFOUND ? send__check(cmd, o) : rc;
}

/* --ack's defaults: its endpoint and sequences from 1. */
static int send__check_ack(const struct cli_cmd *cmd, struct send_opts *o)
{
    if (!o->have_endpoint)
        o->endpoint = SEND_ACK_DEFAULT_ENDPOINT;
    if (!o->have_sequence) {
        o->sequence = 1;
        o->have_sequence = 1;
    }
    uint64_t nbatches = (uint64_t)((o->count + o->batch - 1) / o->batch);
    if (o->sequence > UINT64_MAX - (nbatches - 1))
        return cli_usage_error(cmd, "--sequence-start: %" PRIu64 " + %" PRIu64
                                    " batches would wrap past 2^64-1, where a wrap to 0 is never "
                                    "deduplicated",
                               o->sequence, nbatches);
    return MP_OK;
}

/* What the options say together: one way to give the frames, and every
 * event field when events are built. */
/* Where frames go: --endpoint, else $MAILPULSE_ENDPOINT (PUSH) or
 * $MAILPULSE_ROUTER (--ack), else the built-in default; checked for syntax
 * either way, and a bad variable is named. */
static int send__endpoint(const struct cli_cmd *cmd, struct send_opts *o)
{
    const char *var = o->ack ? CLI_ENV_ROUTER : CLI_ENV_ENDPOINT, *env = cli_env(var);
    char what[32];
    if (o->have_endpoint)
        return cli_opt_endpoint(cmd, "--endpoint", o->endpoint, &o->endpoint);
    if (!env)
        return MP_OK;
    snprintf(what, sizeof(what), "$%s", var);
    o->have_endpoint = 1;
    return cli_opt_endpoint(cmd, what, env, &o->endpoint);
}

static int send__check(const struct cli_cmd *cmd, struct send_opts *o)
{
    int rc = send__endpoint(cmd, o);
    if (rc != MP_OK)
        return rc;
    if (o->ack_opt != NULL && !o->ack)
        return cli_usage_error(cmd, "--%s needs --ack", o->ack_opt);
    if (o->ack && (o->raw_file != NULL || o->empty_frame))
        return cli_usage_error(cmd, "--ack sends events, not --%s",
                               o->raw_file ? "raw-file" : "empty-frame");
    if (o->ack && o->have_timeout)
        return cli_usage_error(cmd, "--timeout-ms is for PUSH; with --ack give --ack-timeout-ms "
                                    "and --retries");
    if (o->ack && o->have_sequence && o->sequence == 0)
        return cli_usage_error(cmd, "--sequence-start: 0 is never deduplicated, so a resend "
                                    "would count twice; with --ack start at 1 or more");
    if (o->raw_file != NULL || o->empty_frame) {
        if (o->raw_file != NULL && o->empty_frame)
            return cli_usage_error(cmd, "give one of --raw-file and --empty-frame");
        if (o->event_opt != NULL)
            return cli_usage_error(cmd, "--%s cannot be combined with --%s", o->event_opt,
                                    o->raw_file ? "raw-file" : "empty-frame");
        return MP_OK;
    }
    if (o->have_time_ms && o->have_age)
        return cli_usage_error(cmd, "give one of --time-ms and --age");
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
        return cli_usage_error(cmd, "missing required option(s):%s", missing);
    /* A producer id of its own per run (a new id per session, as Kafka's
     * idempotent producer takes): the daemon deduplicates by (producer_id,
     * sequence) on both endpoints, so two runs under one id would drop
     * each other's batches, and a second --ack run from 1 would be all
     * DUPLICATE. */
    if (!o->have_producer) {
        snprintf(o->producer_buf, sizeof(o->producer_buf), "%s-%ld-%" PRIu64,
                 SEND_DEFAULT_PRODUCER, (long)getpid(), send__default_sequence());
        o->producer = o->producer_buf;
    }
    if (o->ack)
        return send__check_ack(cmd, o);
    return MP_OK;
}

/* The closing flush of a run (it closes *c): says when frames were left
 * behind. */
static int send__flush(const struct cli_cmd *cmd, struct cli_push **c,
                       const struct send_opts *o, const char *what, const char *dropped)
{
    int rc = cli_push_close(*c, 1);
    *c = NULL;
    if (rc == MP_ERR_NOTFOUND) {
        cli_fail(cmd, "no connection to %s was made within --timeout-ms %" PRId64
                      ", so no frame was delivered (is the daemon running? PUSH cannot "
                      "know more; --ack can)",
                 o->endpoint, o->timeout_ms);
        rc = MP_ERR_AGAIN;
    } else if (rc != MP_OK) {
        cli_fail(cmd, "%s did not take %s within --timeout-ms %" PRId64 "%s", o->endpoint, what,
                 o->timeout_ms, dropped);
    }
    return rc;
}

/* The events of a run, packed batch by batch: every event of a run is the
 * same, so every slot points at one Event (protobuf-c wants char *; pack
 * only reads them). */
struct send_builder {
    const struct send_opts *o;
    Mailpulse__V1__Event ev;
    Mailpulse__V1__Event **slots;
    Mailpulse__V1__EventBatch b;
    int64_t left;
};

static int send__builder_init(struct send_builder *sb, const struct send_opts *o)
{
    memset(sb, 0, sizeof(*sb));
    sb->o = o;
    sb->left = o->count;
    mailpulse__v1__event__init(&sb->ev);
    sb->ev.tenant = (char *)o->tenant;
    sb->ev.mailbox = (char *)o->mailbox;
    sb->ev.recipient_domain = (char *)o->domain;
    sb->ev.type = (Mailpulse__V1__EventType)o->type;
    sb->ev.time_ms = mp_now_ms();
    sb->slots = malloc((size_t)o->batch * sizeof(*sb->slots));
    if (sb->slots == NULL)
        return MP_ERR_NOMEM;
    for (int64_t i = 0; i < o->batch; i++)
        sb->slots[i] = &sb->ev;
    mailpulse__v1__event_batch__init(&sb->b);
    sb->b.events = sb->slots;
    sb->b.producer_id = (char *)o->producer;
    sb->b.n_events = (size_t)(o->count < o->batch ? o->count : o->batch);
    return MP_OK;
}

/* The next batch, as sequence `seq`, into `frame`: 1, or 0 when every
 * event is out (send_ack_next_fn). */
static int send__builder_next(void *arg, uint64_t seq, struct mp_buf *frame, int64_t *events)
{
    struct send_builder *sb = arg;
    const struct send_opts *o = sb->o;
    if (sb->left <= 0)
        return 0;
    sb->b.n_events = (size_t)(sb->left < o->batch ? sb->left : o->batch);
    sb->b.sequence = seq;
    /* Stamped per frame, so a long run carries the time it is sent. */
    sb->ev.time_ms = o->have_time_ms ? o->time_ms : mp_now_ms() - o->age_s * 1000;
    size_t len = mailpulse__v1__event_batch__get_packed_size(&sb->b);
    if (mp_buf_reserve(frame, len) != MP_OK) {
        fprintf(stderr, "mailpulse send: out of memory\n");
        return MP_ERR_NOMEM;
    }
    mailpulse__v1__event_batch__pack(&sb->b, (uint8_t *)frame->p);
    frame->len = len;
    sb->left -= (int64_t)sb->b.n_events;
    *events = (int64_t)sb->b.n_events;
    return 1;
}

/* Sends o->count events in frames of o->batch over PUSH. *events and
 * *batches count what was handed to the socket, also on failure. */
static int send__events(const struct cli_cmd *cmd, const struct send_opts *o, int64_t *events,
                        uint64_t *batches)
{
    int rc;
    struct cli_push *c = NULL;
    struct cli_push_conf pc = {o->endpoint, o->timeout_ms, 0, o->server_key, o->secret_key_file};
    struct mp_buf buf = MP_BUF_INIT; /* one packed frame at a time */
    struct send_builder sb;
    if ((rc = send__builder_init(&sb, o)) != MP_OK) {
        cli_fail(cmd, "out of memory");
        goto out;
    }
    uint64_t seq0 = o->have_sequence ? o->sequence : send__default_sequence();

    /* Bound the send queue in bytes, not frames: 1-event frames may queue by
     * the hundred thousand, 10000-event frames only by the thousand. */
    int64_t frame = (int64_t)mailpulse__v1__event_batch__get_packed_size(&sb.b);
    int64_t hwm = SEND_QUEUE_BYTES / (frame > 0 ? frame : 1);
    hwm = hwm < 1000 ? 1000 : hwm > 100000 ? 100000 : hwm;
    pc.hwm = (int)hwm;
    if ((rc = cli_push_open(cmd, &pc, &c)) != MP_OK)
        goto out;

    for (;;) {
        int64_t n = 0;
        mp_buf_reset(&buf);
        /* The sequence wraps at 2^64, like any counter. */
        if ((rc = send__builder_next(&sb, seq0 + *batches, &buf, &n)) <= 0)
            break;
        if ((rc = cli_push_frame(c, buf.p, buf.len)) != MP_OK) {
            cli_fail(cmd, "%s after %" PRIu64 " of %" PRId64 " frames: %s", o->endpoint, *batches,
                      (o->count + o->batch - 1) / o->batch,
                      rc == MP_ERR_AGAIN ? "the endpoint took no frame within --timeout-ms"
                                         : zmq_strerror(errno));
            goto out;
        }
        *events += n;
        *batches += 1;
    }
    if (rc == 0)
        rc = send__flush(cmd, &c, o, "every queued frame", "; some were dropped");
out:
    cli_push_close(c, 0); /* no-op after the flushing close */
    mp_buf_free(&buf);
    free(sb.slots);
    return rc;
}

/* --ack: the same batches through cli_send_ack, then what the acks said. */
static int send__acked(const struct cli_cmd *cmd, const struct send_opts *o)
{
    struct send_builder sb;
    struct send_ack_result res;
    const struct send_ack_conf conf = {o->endpoint,   o->window,     o->ack_timeout_ms,
                                       o->retries,    o->server_key, o->secret_key_file};
    if (send__builder_init(&sb, o) != MP_OK) {
        free(sb.slots);
        cli_fail(cmd, "out of memory");
        return MP_ERR_NOMEM;
    }
    int rc = send_ack_run(cmd, &conf, o->sequence, send__builder_next, &sb, &res);
    free(sb.slots);
    send_ack_print(stdout, &res, o->endpoint);
    return rc;
}

/* Reads a whole file of at most SEND_RAW_MAX bytes into *buf (caller frees). */
static int send__read_file(const struct cli_cmd *cmd, const char *path, char **buf, size_t *len)
{
    int rc = MP_OK;
    struct mp_buf data = MP_BUF_INIT;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        cli_fail(cmd, "--raw-file: cannot open %s: %s", path, strerror(errno));
        return MP_ERR_IO;
    }
    for (;;) {
        /* One byte past the limit is enough to know the file is too large. */
        size_t want = SEND_RAW_MAX + 1 - data.len;
        if (want > 65536)
            want = 65536;
        if (mp_buf_reserve(&data, want) != MP_OK) {
            cli_fail(cmd, "out of memory");
            rc = MP_ERR_NOMEM;
            goto out;
        }
        size_t got = fread(data.p + data.len, 1, want, f);
        data.len += got;
        data.p[data.len] = '\0';
        if (data.len > SEND_RAW_MAX) {
            cli_fail(cmd, "--raw-file: %s is larger than %zu bytes", path, SEND_RAW_MAX);
            rc = MP_ERR_INVAL;
            goto out;
        }
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        cli_fail(cmd, "--raw-file: cannot read %s: %s", path, strerror(errno));
        rc = MP_ERR_IO;
        goto out;
    }
    *len = data.len;
    if (!(*buf = mp_buf_take(&data)))
        rc = MP_ERR_NOMEM;
out:
    mp_buf_free(&data);
    fclose(f);
    return rc;
}

/* --raw-file and --empty-frame: one frame, bytes as given. */
static int send__raw(const struct cli_cmd *cmd, const struct send_opts *o, uint64_t *batches)
{
    int rc;
    struct cli_push *c = NULL;
    const struct cli_push_conf pc = {o->endpoint, o->timeout_ms, 1000, o->server_key,
                                     o->secret_key_file};
    char *data = NULL;
    size_t len = 0;
    if (o->raw_file != NULL && (rc = send__read_file(cmd, o->raw_file, &data, &len)) != MP_OK)
        goto out;
    if ((rc = cli_push_open(cmd, &pc, &c)) != MP_OK)
        goto out;
    if ((rc = cli_push_frame(c, data ? data : "", len)) != MP_OK) {
        cli_fail(cmd, "%s: %s", o->endpoint,
                  rc == MP_ERR_AGAIN ? "the endpoint took no frame within --timeout-ms"
                                     : zmq_strerror(errno));
        goto out;
    }
    *batches = 1;
    rc = send__flush(cmd, &c, o, "the frame", "");
out:
    cli_push_close(c, 0);
    free(data);
    return rc;
}

static int send__run(const struct cli_cmd *cmd, int argc, char **argv)
{
    struct send_opts o;
    int rc = send__parse(cmd, argc, argv, &o);
    if (rc != MP_OK)
        return rc == CLI_HELP ? MP_OK : rc;

    int64_t events = 0;
    uint64_t batches = 0;
    if (o.ack)
        return send__acked(cmd, &o);
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

const struct cli_cmd cli_send_cmd = {
    "send", "send test events to the daemon as EventBatch frames over ZeroMQ", send__usage,
    send__opts, MP_ARRAY_LEN(send__opts), send__run};
