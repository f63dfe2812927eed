/* cli_replay.c — `mailpulse replay FILE` (see cli_replay.h). */
#include "cli_replay.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "cli_events_file.h"
#include "cli_push.h"
#include "cli_send_ack.h"
#include "mailpulse.pb-c.h"
#include "mp_buf.h"

#define REPLAY_MAX_BATCH 10000
#define REPLAY_TTY_EVERY_MS 200
#define REPLAY_SLEEP_STEP_MS 100 /* a paced wait wakes this often to redraw */

enum replay_opt {
    RP_ENDPOINT, RP_FORMAT, RP_BATCH, RP_SPEED, RP_REBASE, RP_PRODUCER, RP_WINDOW,
    RP_ACK_TIMEOUT_MS, RP_RETRIES, RP_PUSH, RP_FALLBACK, RP_TIMEOUT_MS,
};

static const struct cli_opt replay__opts[] = {
    [RP_ENDPOINT] = {"endpoint", "E",
                     "the daemon's acked endpoint, ingest.router\n"
                     "(default $" CLI_ENV_ROUTER ", else " SEND_ACK_DEFAULT_ENDPOINT ");\n"
                     "with --push its PULL endpoint, ingest.pull\n"
                     "(default $" CLI_ENV_ENDPOINT ", else " CLI_PUSH_DEFAULT_ENDPOINT ")"},
    [RP_FORMAT] = {"format", "F",
                   "jsonl or csv (default: from the file name: .jsonl,\n"
                   ".ndjson, .json or .csv)"},
    [RP_BATCH] = {"batch", "N", "events per frame, 1..10000 (default 500)"},
    [RP_SPEED] = {"speed", "X",
                  "play the events' gaps X times faster: 1 real time,\n"
                  "0.5 half speed, 0 or max as fast as possible (default)"},
    [RP_REBASE] = {"rebase-time", NULL,
                   "shift every time by one offset, keeping the gaps, so\n"
                   "the file plays as now: the newest event is stamped as\n"
                   "the replay ends (at real time or slower: the oldest\n"
                   "as it starts)"},
    [RP_PRODUCER] = {"producer", "ID", "producer_id (default mailpulse-replay-<pid>-<us>)"},
    [RP_WINDOW] = {"window", "N", "batches in flight at max speed, 1..4096 (default 32)"},
    [RP_ACK_TIMEOUT_MS] = {"ack-timeout-ms", "MS",
                           "resend a batch not acked within MS ms (default 2000)"},
    [RP_RETRIES] = {"retries", "N", "resends of one batch before giving up (default 10)"},
    [RP_PUSH] = {"push", NULL,
                 "send over PUSH to ingest.pull instead: no acks, so\n"
                 "nothing is resent, and the end says what was sent,\n"
                 "not what was accepted"},
    [RP_FALLBACK] = {"fallback-push", NULL,
                     "with --endpoint or $" CLI_ENV_ROUTER " as well: when no\n"
                     "connection to it is made within 1.5 s, send over PUSH\n"
                     "(what replay does without them)"},
    [RP_TIMEOUT_MS] = {"timeout-ms", "MS",
                       "over PUSH: fail when no connection is made, or the\n"
                       "endpoint takes no frame, within MS ms; also the wait at\n"
                       "exit to flush (1..3600000, default 10000)"},
};

static const char replay__usage[] =
    "usage: mailpulse replay FILE [--format jsonl|csv] [--rebase-time] [--speed X]\n"
    "                        [--push] [--endpoint E] [--batch N] [options]\n"
    "\n"
    "Plays an events file into the daemon's acked endpoint (ingest.router),\n"
    "BATCH events per frame, each batch resent until acked. Without --endpoint\n"
    "and $" CLI_ENV_ROUTER " (or with --fallback-push), when no connection to the\n"
    "acked endpoint is made within 1.5 s (an engine without ingest.router),\n"
    "it says so on stderr and sends over PUSH to $" CLI_ENV_ENDPOINT ", else\n"
    CLI_PUSH_DEFAULT_ENDPOINT "; nothing had left by then, so nothing is sent\n"
    "twice. --push sends over PUSH from the start. FILE is JSON Lines\n"
    "(one object per line) or CSV (a header line naming the columns), '-' for\n"
    "stdin (give --format). Columns, as in proto/mailpulse.proto's Event:\n"
    "  tenant, mailbox, recipient_domain (or recipient: its domain is taken),\n"
    "  type (a name of `mailpulse send --type`, or 1..12),\n"
    "  time (RFC 3339, e.g. 2026-11-22T16:30:01.250Z, or Unix milliseconds),\n"
    "  event_id and campaign (optional).\n"
    "Blank lines and lines starting with '#' are skipped. Every line is\n"
    "checked before anything is sent; a rejected line is reported as\n"
    "FILE:LINE: reason, and the good lines are still sent, in file order.\n"
    "Progress goes to stderr; at the end stdout has\n"
    "    replayed lines=N events=E rejected_lines=R file=FILE\n"
    "    acked batches=N events=N accepted=N rejected=N ...\n"
    "or, over PUSH (fire and forget: what was sent, not what was counted),\n"
    "    sent events=N batches=M endpoint=E\n"
    "Exit status: 0 every line good and every event accepted (over PUSH: every\n"
    "frame reached a connection), 1 a line was rejected, the daemon rejected\n"
    "events, a batch was not acked, or over PUSH no connection was made within\n"
    "--timeout-ms or frames were left queued; 2 bad usage.\n";

/* One good line: strings live in the replay's arena (offsets, NUL-ended). */
struct replay_ev {
    size_t tenant, mailbox, domain, event_id, campaign; /* SIZE_MAX: not given */
    int32_t type;
    int64_t time_ms;
};

struct replay {
    const struct cli_cmd *cmd;
    const char *path;
    enum cli_evf_format fmt;
    int have_fmt, rebase, tty;
    int push, fallback;   /* --push; fall back to PUSH when no router answers */
    const char *push_ep;  /* the PULL endpoint of --push and of the fallback */
    int64_t timeout_ms;   /* PUSH: --timeout-ms */
    double speed; /* 0: max */
    int64_t batch;
    struct replay_ev *ev;
    size_t n, cap, lines, rejected, next;
    struct mp_buf arena;
    int64_t tmin, tmax, offset_ms;
    int64_t start_ns, last_draw_ns;
    const char *producer;
    /* the batch being packed */
    Mailpulse__V1__Event *pe;
    Mailpulse__V1__Event **pp;
};

static size_t replay__str(struct replay *r, const char *s)
{
    if (s[0] == '\0')
        return SIZE_MAX;
    size_t off = r->arena.len;
    if (mp_buf_append(&r->arena, s, strlen(s) + 1) != MP_OK)
        return SIZE_MAX - 1;
    return off;
}

static int replay__keep(struct replay *r, const struct cli_evf_event *e)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;
        struct replay_ev *p = realloc(r->ev, cap * sizeof(*p));
        if (p == NULL)
            return MP_ERR_NOMEM;
        r->ev = p;
        r->cap = cap;
    }
    struct replay_ev *x = &r->ev[r->n];
    x->tenant = replay__str(r, e->tenant);
    x->mailbox = replay__str(r, e->mailbox);
    x->domain = replay__str(r, e->domain);
    x->event_id = replay__str(r, e->event_id);
    x->campaign = replay__str(r, e->campaign);
    if (x->tenant == SIZE_MAX - 1 || x->mailbox == SIZE_MAX - 1 || x->domain == SIZE_MAX - 1 ||
        x->event_id == SIZE_MAX - 1 || x->campaign == SIZE_MAX - 1)
        return MP_ERR_NOMEM;
    x->type = e->type;
    x->time_ms = e->time_ms;
    if (r->n == 0 || e->time_ms < r->tmin)
        r->tmin = e->time_ms;
    if (r->n == 0 || e->time_ms > r->tmax)
        r->tmax = e->time_ms;
    r->n++;
    return MP_OK;
}

static void replay__reject(struct replay *r, size_t line, const char *why)
{
    r->rejected++;
    if (r->rejected <= CLI_REPLAY_SHOW_REJECTS)
        fprintf(stderr, "%s:%zu: %s\n", r->path, line, why);
}

/* Reads and checks every line of the file. */
static int replay__load(struct replay *r)
{
    int rc = MP_OK;
    FILE *f = strcmp(r->path, "-") == 0 ? stdin : fopen(r->path, "r");
    struct cli_evf *p = NULL;
    char *line = NULL, why[320];
    size_t cap = 0;
    ssize_t len;
    if (f == NULL) {
        cli_fail(r->cmd, "cannot open %s: %s", r->path, strerror(errno));
        return MP_ERR_IO;
    }
    if (cli_evf_new(r->fmt, &p) != MP_OK) {
        rc = MP_ERR_NOMEM;
        goto out;
    }
    struct cli_evf_event *e = malloc(sizeof(*e));
    if (e == NULL) {
        rc = MP_ERR_NOMEM;
        goto out;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        r->lines++;
        size_t n = (size_t)len;
        if (n > 0 && line[n - 1] == '\n')
            n--;
        if (n > CLI_REPLAY_MAX_LINE) {
            snprintf(why, sizeof(why), "line of %zu bytes, at most %zu", n, CLI_REPLAY_MAX_LINE);
            replay__reject(r, r->lines, why);
            continue;
        }
        int got = cli_evf_line(p, line, n, e, why, sizeof(why));
        if (got == CLI_EVF_EVENT && (rc = replay__keep(r, e)) != MP_OK)
            break;
        if (got < 0)
            replay__reject(r, r->lines, why);
    }
    free(e);
    if (rc == MP_OK && ferror(f)) {
        cli_fail(r->cmd, "cannot read %s: %s", r->path, strerror(errno));
        rc = MP_ERR_IO;
    }
out:
    if (rc == MP_ERR_NOMEM)
        cli_fail(r->cmd, "out of memory reading %s", r->path);
    if (r->rejected > CLI_REPLAY_SHOW_REJECTS)
        fprintf(stderr, "%s: ... and %zu more rejected lines\n", r->path,
                r->rejected - CLI_REPLAY_SHOW_REJECTS);
    free(line);
    cli_evf_free(p);
    if (f != stdin)
        fclose(f);
    return rc;
}

/* ----------------------------------------------------------------- progress */

static void replay__progress(struct replay *r, int final)
{
    int64_t now = mp_mono_ns();
    int64_t every = r->tty ? REPLAY_TTY_EVERY_MS : CLI_REPLAY_PLAIN_EVERY_MS;
    if (!final && (now - r->last_draw_ns) / 1000000 < every)
        return;
    r->last_draw_ns = now;
    double secs = (double)(now - r->start_ns) / 1e9;
    double rate = secs > 0 ? (double)r->next / secs : 0;
    double eta;
    if (r->next >= r->n)
        eta = 0;
    else if (r->speed > 0)
        eta = (double)(r->tmax - r->ev[r->next].time_ms) / 1000.0 / r->speed;
    else
        eta = rate > 0 ? (double)(r->n - r->next) / rate : NAN;
    unsigned pct = r->n ? (unsigned)(r->next * 100 / r->n) : 100;
    char etab[32];
    if (isnan(eta))
        snprintf(etab, sizeof(etab), "?");
    else
        snprintf(etab, sizeof(etab), "%.0fs", eta);
    if (r->tty) {
        char bar[31];
        size_t fill = (size_t)pct * 30 / 100;
        memset(bar, '#', fill);
        memset(bar + fill, '.', 30 - fill);
        bar[30] = '\0';
        fprintf(stderr, "\r[%s] %3u%% %zu/%zu events %.0f ev/s ETA %s   %s", bar, pct, r->next,
                r->n, rate, etab, final ? "\n" : "");
    } else {
        fprintf(stderr, "replay progress events=%zu/%zu percent=%u rate=%.0f/s eta=%s\n", r->next,
                r->n, pct, rate, etab);
    }
    fflush(stderr);
}

/* ------------------------------------------------------------------ sending */

/* When event i is due, on the monotonic clock (paced runs only). */
static int64_t replay__due_ns(const struct replay *r, size_t i)
{
    return r->start_ns + (int64_t)((double)(r->ev[i].time_ms - r->tmin) * 1e6 / r->speed);
}

static char *replay__s(const struct replay *r, size_t off)
{
    return off == SIZE_MAX ? (char *)"" : r->arena.p + off;
}

/* send_ack_next_fn: the events due now, at most BATCH; paced, waits for
 * the next one when none is due. */
static int replay__next(void *arg, uint64_t seq, struct mp_buf *frame, int64_t *events)
{
    struct replay *r = arg;
    size_t k = 0;
    replay__progress(r, 0);
    if (r->next >= r->n)
        return 0;
    if (r->speed > 0) {
        int64_t due;
        while ((due = replay__due_ns(r, r->next)) > mp_mono_ns()) {
            int64_t ms = (due - mp_mono_ns()) / 1000000 + 1;
            struct timespec ts = {0, (ms < REPLAY_SLEEP_STEP_MS ? ms : REPLAY_SLEEP_STEP_MS) *
                                         1000000L};
            nanosleep(&ts, NULL);
            replay__progress(r, 0);
        }
    }
    int64_t now = mp_mono_ns();
    while (r->next < r->n && (int64_t)k < r->batch &&
           (r->speed <= 0 || replay__due_ns(r, r->next) <= now)) {
        const struct replay_ev *x = &r->ev[r->next++];
        Mailpulse__V1__Event *e = &r->pe[k];
        mailpulse__v1__event__init(e);
        e->tenant = replay__s(r, x->tenant);
        e->mailbox = replay__s(r, x->mailbox);
        e->recipient_domain = replay__s(r, x->domain);
        e->event_id = replay__s(r, x->event_id);
        e->campaign = replay__s(r, x->campaign);
        e->type = (Mailpulse__V1__EventType)x->type;
        e->time_ms = x->time_ms + r->offset_ms;
        r->pp[k++] = e;
    }
    return send_ack_pack(r->cmd, r->pp, k, r->producer, seq, frame, events);
}

/* ------------------------------------------------------------------ options */

static int replay__speed(const struct cli_cmd *cmd, const char *val, double *out)
{
    char *end;
    if (strcmp(val, "max") == 0) {
        *out = 0;
        return MP_OK;
    }
    errno = 0;
    double v = strtod(val, &end);
    if (errno != 0 || end == val || *end != '\0' || !(v >= 0) || v > 1e9)
        return cli_usage_error(cmd, "--speed: expected max, 0 or a number up to 1e9 "
                                    "(1 = real time), got \"%s\"", val);
    *out = v;
    return MP_OK;
}

/* Takes FILE out of argv (argv[0] stays): the first argument that is
 * neither an option nor an option's value, wherever it stands, so
 * `replay --rebase-time FILE` works too; cli_next() takes no positionals. */
static void replay__take_file(struct replay *r, int *argc, char **argv)
{
    for (int i = 1; i < *argc; i++) {
        const char *s = argv[i];
        if (s[0] == '-' && s[1] == '-' && strchr(s, '=') == NULL) {
            for (size_t k = 0; k < r->cmd->n_opts; k++)
                if (strcmp(s + 2, r->cmd->opts[k].name) == 0 && r->cmd->opts[k].arg != NULL)
                    i++; /* its value */
            continue;
        }
        if (s[0] == '-' && s[1] != '\0')
            continue;
        r->path = s;
        memmove(&argv[i], &argv[i + 1], (size_t)(*argc - i - 1) * sizeof(*argv));
        (*argc)--;
        return;
    }
}

/* Where the batches go: --push and its PULL endpoint; else the acked
 * endpoint, with the fallback to PUSH unless the acked endpoint was chosen
 * (--endpoint or $MAILPULSE_ROUTER) without --fallback-push. acked_opt is
 * the first acked-only option given, have_timeout says --timeout-ms was. */
static int replay__endpoints(struct replay *r, struct send_ack_conf *conf, int have_endpoint,
                             const char *acked_opt, int have_timeout)
{
    int rc;
    r->push_ep = CLI_PUSH_DEFAULT_ENDPOINT;
    if (r->push) {
        if (acked_opt != NULL)
            return cli_usage_error(r->cmd, "--%s is for the acked endpoint; --push has no acks",
                                   acked_opt);
        if (r->fallback)
            return cli_usage_error(r->cmd, "give one of --push and --fallback-push");
        if (have_endpoint)
            r->push_ep = conf->endpoint;
        return cli_opt_env_endpoint(r->cmd, have_endpoint, CLI_ENV_ENDPOINT, &r->push_ep);
    }
    if (!have_endpoint && cli_env(CLI_ENV_ROUTER) == NULL)
        r->fallback = 1; /* nothing chose the acked endpoint: try it, else PUSH */
    if ((rc = cli_opt_env_endpoint(r->cmd, have_endpoint, CLI_ENV_ROUTER, &conf->endpoint)) !=
        MP_OK)
        return rc;
    if (have_timeout && !r->fallback)
        return cli_usage_error(r->cmd, "--timeout-ms is for PUSH (--push, or --fallback-push); "
                                       "the acked endpoint takes --ack-timeout-ms and --retries");
    return r->fallback ? cli_opt_env_endpoint(r->cmd, 0, CLI_ENV_ENDPOINT, &r->push_ep) : MP_OK;
}

static int replay__parse(struct replay *r, struct send_ack_conf *conf, int argc, char **argv)
{
    replay__take_file(r, &argc, argv);
    struct cli_args a = CLI_ARGS(r->cmd, argc, argv);
    int rc, have_window = 0, have_endpoint = 0, have_timeout = 0;
    const char *acked_opt = NULL;
    while ((rc = cli_next(&a)) == MP_OK) {
        switch ((enum replay_opt)a.idx) {
        case RP_ENDPOINT: conf->endpoint = a.val, have_endpoint = 1; break;
        case RP_FORMAT:
            if (cli_evf_format_parse(a.val, &r->fmt) != MP_OK)
                return cli_usage_error(r->cmd, "--format: expected jsonl or csv, got \"%s\"",
                                       a.val);
            r->have_fmt = 1;
            break;
        case RP_BATCH: rc = cli_arg_i64(&a, 1, REPLAY_MAX_BATCH, &r->batch); break;
        case RP_SPEED: rc = replay__speed(r->cmd, a.val, &r->speed); break;
        case RP_REBASE: r->rebase = 1; break;
        case RP_PRODUCER: r->producer = a.val; break;
        case RP_WINDOW:
            rc = cli_arg_i64(&a, 1, SEND_ACK_MAX_WINDOW, &conf->window);
            have_window = 1;
            break;
        case RP_ACK_TIMEOUT_MS:
            rc = cli_arg_i64(&a, 1, CLI_MAX_TIMEOUT_MS, &conf->ack_timeout_ms);
            break;
        case RP_RETRIES: rc = cli_arg_i64(&a, 0, SEND_ACK_MAX_RETRIES, &conf->retries); break;
        case RP_PUSH: r->push = 1; break;
        case RP_FALLBACK: r->fallback = 1; break;
        case RP_TIMEOUT_MS:
            rc = cli_arg_i64(&a, 1, CLI_MAX_TIMEOUT_MS, &r->timeout_ms);
            have_timeout = 1;
            break;
        }
        if (rc != MP_OK)
            return rc;
        if (acked_opt == NULL &&
            (a.idx == RP_WINDOW || a.idx == RP_ACK_TIMEOUT_MS || a.idx == RP_RETRIES))
            acked_opt = a.opt->name;
    }
    if (rc != MP_ERR_NOTFOUND)
        return rc;
    if ((rc = replay__endpoints(r, conf, have_endpoint, acked_opt, have_timeout)) != MP_OK)
        return rc;
    if (r->path == NULL)
        return cli_usage_error(r->cmd, "missing FILE: mailpulse replay FILE [options]");
    if (!r->have_fmt && cli_evf_format_of(r->path, &r->fmt) != MP_OK)
        return cli_usage_error(r->cmd, "%s: cannot tell the format from the name; give "
                                       "--format jsonl or --format csv", r->path);
    /* Paced: one batch at a time, since send_ack_run() asks for batches
     * until its window is full and a paced batch waits for its time. */
    if (r->speed > 0) {
        if (have_window)
            return cli_usage_error(r->cmd, "--window is for max speed; --speed sends one "
                                           "batch at a time");
        conf->window = 1;
    }
    return MP_OK;
}

/* (Re)starts the play from the first event: the clock of the pacing, and
 * --rebase-time's offset. No event stamped after the moment it is sent
 * (the daemon refuses events a few minutes ahead): faster than real time
 * the newest event is stamped as the replay ends, slower the oldest as it
 * starts. */
static void replay__start(struct replay *r)
{
    r->next = 0;
    if (r->rebase && r->n > 0) {
        int64_t now = mp_now_ms();
        if (r->speed <= 0)
            r->offset_ms = now - r->tmax;
        else if (r->speed >= 1)
            r->offset_ms = now + (int64_t)((double)(r->tmax - r->tmin) / r->speed) - r->tmax;
        else
            r->offset_ms = now - r->tmin;
    }
    r->start_ns = r->last_draw_ns = mp_mono_ns();
}

/* The replay over PUSH to r->push_ep, sequences from 1 (the daemon drops
 * a repeated (producer_id, sequence) on this endpoint too). *events and
 * *batches count what was handed to the socket. */
static int replay__push(struct replay *r, int64_t *events, uint64_t *batches)
{
    /* The queue bounded in bytes, at about 128 bytes an event (64 MiB). */
    int64_t hwm = ((int64_t)64 << 20) / (r->batch * 128);
    const struct cli_push_conf pc = {r->push_ep, r->timeout_ms,
                                     (int)(hwm < 16 ? 16 : hwm > 1000 ? 1000 : hwm), NULL, NULL};
    struct cli_push *c = NULL;
    struct mp_buf buf = MP_BUF_INIT;
    int rc;
    replay__start(r);
    if ((rc = cli_push_open(r->cmd, &pc, &c)) != MP_OK)
        goto out;
    for (;;) {
        int64_t n = 0;
        mp_buf_reset(&buf);
        if ((rc = replay__next(r, 1 + *batches, &buf, &n)) <= 0)
            break;
        if ((rc = cli_push_frame(c, buf.p, buf.len)) != MP_OK) {
            cli_fail(r->cmd, "%s after %" PRIu64 " frames: %s", r->push_ep, *batches,
                     rc == MP_ERR_AGAIN ? "the endpoint took no frame within --timeout-ms"
                                        : zmq_strerror(errno));
            goto out;
        }
        *events += n;
        /* Not connected by --timeout-ms after the first frame: the same
         * answer the closing flush would give, without playing it all. */
        if ((*batches)++ == 0 && !cli_push_await(c, r->timeout_ms)) {
            rc = MP_ERR_NOTFOUND;
            break;
        }
    }
    if (rc == 0) {
        rc = cli_push_close(c, 1);
        c = NULL;
    }
    if (rc == MP_ERR_NOTFOUND) {
        cli_fail(r->cmd, "no connection to %s was made within --timeout-ms %" PRId64 ", so no "
                         "frame was delivered (is the daemon running? PUSH cannot know more)",
                 r->push_ep, r->timeout_ms);
        rc = MP_ERR_AGAIN;
    } else if (rc == MP_ERR_AGAIN) {
        cli_fail(r->cmd, "%s did not take every queued frame within --timeout-ms %" PRId64
                         "; some were dropped", r->push_ep, r->timeout_ms);
    }
out:
    cli_push_close(c, 0); /* no-op after the flushing close */
    mp_buf_free(&buf);
    return rc;
}

/* The batches to the acked endpoint, or over PUSH (--push, or the
 * fallback when no router answered); prints the last line of the run. */
static int replay__send(struct replay *r, struct send_ack_conf *conf)
{
    struct send_ack_result res;
    int64_t events = 0;
    uint64_t batches = 0;
    int rc = MP_OK;
    memset(&res, 0, sizeof(res));
    if (!r->push && r->n > 0) {
        replay__start(r);
        rc = r->fallback ? send_ack_run_within(r->cmd, conf, CLI_REPLAY_ROUTER_WAIT_MS, 1,
                                               replay__next, r, &res)
                         : send_ack_run(r->cmd, conf, 1, replay__next, r, &res);
        /* Only when nothing can have been applied: no connection, no ack. */
        if (r->fallback && rc == MP_ERR_NOTFOUND && !res.connected && res.batches == 0) {
            fprintf(stderr, "mailpulse replay: no ingest.router at %s; sending over PUSH to %s "
                            "instead (no acks)\n", conf->endpoint, r->push_ep);
            r->push = 1;
        }
    }
    if (r->push && r->n > 0)
        rc = replay__push(r, &events, &batches);
    replay__progress(r, 1);
    printf("replayed lines=%zu events=%zu rejected_lines=%zu file=%s\n", r->lines, r->n,
           r->rejected, r->path);
    if (!r->push) {
        send_ack_print(stdout, &res, conf->endpoint);
    } else if (rc == MP_OK) {
        printf("sent events=%" PRId64 " batches=%" PRIu64 " endpoint=%s\n", events, batches,
               r->push_ep);
        fflush(stdout);
    }
    if (rc == MP_OK && r->rejected > 0) {
        cli_fail(r->cmd, "%zu line(s) of %s rejected; the other %zu event(s) were sent",
                 r->rejected, r->path, r->n);
        rc = MP_ERR_PARSE;
    } else if (rc == MP_OK && res.rejected > 0) {
        cli_fail(r->cmd, "the daemon rejected %" PRIu64 " event(s) (see ack_error above)",
                 res.rejected);
        rc = MP_ERR_PARSE;
    }
    return rc;
}

static int replay__run(const struct cli_cmd *cmd, int argc, char **argv)
{
    struct replay r = {.cmd = cmd, .batch = 500, .arena = MP_BUF_INIT, .tty = isatty(2),
                       .timeout_ms = 10000};
    struct send_ack_conf conf = {SEND_ACK_DEFAULT_ENDPOINT, 32, 2000, 10, NULL, NULL};
    char producer[64];
    int rc = replay__parse(&r, &conf, argc, argv);
    if (rc != MP_OK)
        return rc == CLI_HELP ? MP_OK : rc;
    if ((rc = replay__load(&r)) != MP_OK)
        goto out;
    if (r.producer == NULL) {
        snprintf(producer, sizeof(producer), "mailpulse-replay-%ld-%" PRId64, (long)getpid(),
                 mp_now_ms() * 1000);
        r.producer = producer;
    }
    r.pe = calloc((size_t)r.batch, sizeof(*r.pe));
    r.pp = calloc((size_t)r.batch, sizeof(*r.pp));
    if (r.pe == NULL || r.pp == NULL) {
        cli_fail(cmd, "out of memory");
        rc = MP_ERR_NOMEM;
        goto out;
    }
    rc = replay__send(&r, &conf);
out:
    free(r.pe);
    free(r.pp);
    free(r.ev);
    mp_buf_free(&r.arena);
    return rc;
}

const struct cli_cmd cli_replay_cmd = {
    "replay", "play a JSON Lines or CSV events file into the daemon (acked, or PUSH)",
    replay__usage,
    replay__opts, MP_ARRAY_LEN(replay__opts), replay__run};
