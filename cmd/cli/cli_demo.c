/* cli_demo.c — `mailpulse demo`: "Team A's bad list", live (see cli_demo.h). */
#include "cli_demo.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli_alerts.h"
#include "cli_api.h"
#include "cli_send_ack.h"
#include "cli_sink.h"
#include "cli_stats.h"
#include "mailpulse.pb-c.h"
#include "mp_addr.h"
#include "mp_buf.h"

#define DEMO_RATE_PER_S 400      /* sent per second per tenant to gmail.com */
#define DEMO_SIDE_PER_S 100      /* and to yahoo.com */
#define DEMO_GOOD_PERMILLE 5     /* 0.5% hard bounces */
#define DEMO_BAD_PERMILLE 80     /* team A at gmail.com once its bad list starts */
#define DEMO_WARNING 0.02        /* rules.example.yaml's bounce_rate */
#define DEMO_CRITICAL 0.04
#define DEMO_NSTREAMS 4          /* (tenant, domain) pairs */
#define DEMO_SLOTS_MAX 4096

enum demo_opt { DM_ENDPOINT, DM_API, DM_LISTEN, DM_SECONDS, DM_FAST, DM_RUN };

static const struct cli_opt demo__opts[] = {
    [DM_ENDPOINT] = {"endpoint", "E",
                     "the daemon's acked endpoint, ingest.router\n"
                     "(default $" CLI_ENV_ROUTER ", else " SEND_ACK_DEFAULT_ENDPOINT ")"},
    [DM_API] = {"api", "URL",
                "the daemon's HTTP API, a URL or host:port\n"
                "(default $" CLI_ENV_API ", else " CLI_API_DEFAULT ")"},
    [DM_LISTEN] = {"listen", "HOST:PORT",
                   "where the built-in sink takes the alerts (default\n" DEMO_DEFAULT_LISTEN
                   ", the example config's receiver \"ops\")"},
    [DM_SECONDS] = {"seconds", "N", "how long to send, 1..3600 (default 30)"},
    [DM_FAST] = {"fast", NULL, "the same story in 5 seconds"},
    [DM_RUN] = {"run", "ID",
                "tenant suffix: demo-team-a-ID (default: the UTC time,\n"
                "so each run starts from zero counts)"},
};

static const char demo__usage[] =
    "usage: mailpulse demo [--seconds N | --fast] [--listen HOST:PORT]\n"
    "                      [--endpoint E] [--api URL] [--run ID]\n"
    "\n"
    "Plays \"Team A's bad list\" against a running daemon (`make run`): two\n"
    "tenants, demo-team-a-RUN and demo-team-b-RUN, send to gmail.com and\n"
    "yahoo.com at a 0.5% hard-bounce rate; after the first 30% of the run team\n"
    "A's gmail.com traffic bounces at 8%. Once a second it prints both\n"
    "tenants' bounce rates (from the stats API) against the default rule\n"
    "bounce_rate (warning 2%, critical 4%), and every alert its built-in sink\n"
    "receives. The sink listens where mailpulse.example.yaml's receiver \"ops\"\n"
    "posts (127.0.0.1:9000); with another config, point --listen at your\n"
    "receiver's address. Events go to the acked endpoint (ingest.router).\n"
    "When the API wants a token (http.tokens), it is read from $" CLI_API_TOKEN_ENV ".\n"
    "Exit status: 0 team A's alert arrived and team B's did not, 1 it did not\n"
    "(or the daemon cannot be reached), 2 bad usage.\n";

struct demo_stream {
    const char *tenant, *mailbox, *domain;
    int bad; /* goes bad at DEMO_BAD_PERCENT */
    int per_s;
    uint64_t sent, bounced;
    uint64_t milli; /* bounces due so far, in thousandths */
};

struct demo {
    const struct cli_cmd *cmd;
    const char *api, *endpoint, *listen, *token;
    int64_t seconds;
    char run[32], tenant_a[80], tenant_b[80], producer[80];
    struct demo_stream st[DEMO_NSTREAMS];
    int64_t ticks, tick, start_ns, last_view_ns;
    uint64_t events;
    /* the sink, its pipe, and what came through it */
    struct cli_sink *sink;
    int pipe_rd;
    FILE *pipe_wr;
    struct mp_buf pending; /* a line not yet complete */
    unsigned alerts_a, alerts_b, alerts_other;
    int64_t first_a_ms; /* after the start, -1 before */
    /* the batch */
    Mailpulse__V1__Event ev[DEMO_NSTREAMS][3];
    Mailpulse__V1__Event *slots[DEMO_SLOTS_MAX];
};

/* ------------------------------------------------------------------ the sink */

/* One line the sink printed: shown, and counted by its tenant= label. */
static void demo__sink_line(struct demo *d, const char *line)
{
    const char *t = strstr(line, " tenant=");
    const char *who = "";
    if (t != NULL && strstr(line, "] FIRING ") != NULL) {
        t += 8;
        size_t n = strcspn(t, " ");
        if (n == strlen(d->tenant_a) && strncmp(t, d->tenant_a, n) == 0) {
            if (d->alerts_a++ == 0)
                d->first_a_ms = (mp_mono_ns() - d->start_ns) / 1000000;
            who = "   <- team A's bad list";
        } else if (n == strlen(d->tenant_b) && strncmp(t, d->tenant_b, n) == 0) {
            d->alerts_b++;
            who = "   <- team B: should not happen";
        } else {
            d->alerts_other++;
            who = "   (not this demo's tenant)";
        }
    }
    printf("  ALERT %s%s\n", line, who);
}

/* Reads what the sink wrote so far, line by line. */
static void demo__drain(struct demo *d)
{
    char buf[4096];
    ssize_t n;
    if (d->sink == NULL)
        return;
    while ((n = read(d->pipe_rd, buf, sizeof(buf))) > 0) {
        if (mp_buf_append(&d->pending, buf, (size_t)n) != MP_OK)
            return;
        char *start = d->pending.p, *nl;
        while ((nl = memchr(start, '\n', d->pending.len - (size_t)(start - d->pending.p)))) {
            *nl = '\0';
            demo__sink_line(d, start);
            start = nl + 1;
        }
        size_t rest = d->pending.len - (size_t)(start - d->pending.p);
        memmove(d->pending.p, start, rest);
        d->pending.len = rest;
    }
    fflush(stdout);
}

/* The sink on --listen writing into a pipe; a taken address is said and
 * is no failure (the API is asked instead). */
static int demo__sink_start(struct demo *d)
{
    struct cli_sink_config cfg = {.status = 200, .max_body = (size_t)1 << 20};
    char why[320], err[512];
    int fds[2];
    if (mp_addr_parse(d->listen, &cfg.listen, why, sizeof(why)) != MP_OK)
        return cli_usage_error(d->cmd, "--listen: %s", why);
    if (pipe2(fds, O_CLOEXEC) != 0) {
        cli_fail(d->cmd, "pipe: %s", strerror(errno));
        return MP_ERR_IO;
    }
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    d->pipe_rd = fds[0];
    d->pipe_wr = fdopen(fds[1], "w");
    if (d->pipe_wr == NULL) {
        close(fds[1]);
        cli_fail(d->cmd, "fdopen: %s", strerror(errno));
        return MP_ERR_IO;
    }
    cfg.print = d->pipe_wr;
    if (cli_sink_start(&cfg, &d->sink, err, sizeof(err)) != MP_OK) {
        printf("! The built-in sink %s.\n"
               "  Is `mailpulse sink` (or another demo) running there? Alerts will be\n"
               "  read from the daemon's API instead; give --listen to use another address.\n",
               err);
        d->sink = NULL;
        return MP_OK;
    }
    printf("Sink listening on %s (the example config's receiver \"ops\" posts there).\n",
           d->listen);
    return MP_OK;
}

/* -------------------------------------------------------------- the API */

/* GET api+path as JSON: NULL when there is no 200 JSON answer. */
static json_t *demo__get(struct demo *d, int url_rc, char *url, long *status)
{
    char *body = NULL, err[256];
    json_t *j = NULL;
    *status = 0;
    if (url_rc == MP_OK &&
        cli_api_get_auth(url, d->token, 2000, status, &body, err, sizeof(err)) == MP_OK &&
        *status == 200)
        j = json_loads(body, 0, NULL);
    free(body);
    free(url);
    return j;
}

static int demo__is(const json_t *v, const char *s)
{
    return json_is_string(v) && strcmp(json_string_value(v), s) == 0;
}

/* A tenant's sent count and bounce rate over 1 h (0 and -1 without any),
 * and its bounce rate at gmail.com, where team A's list goes bad. */
static void demo__tenant_rate(struct demo *d, const char *tenant, int64_t *sent, double *rate,
                              double *gmail)
{
    char *url = NULL;
    long status;
    int rc = cli_stats_url(d->api, tenant, "1h", "recipient_domain", 0, &url);
    json_t *j = demo__get(d, rc, url, &status), *g;
    json_t *v = json_object_get(json_object_get(j, "rates"), "bounce_rate");
    *sent = json_integer_value(json_object_get(json_object_get(j, "counts"), "sent"));
    *rate = json_is_number(v) ? json_number_value(v) : -1;
    *gmail = -1;
    size_t i;
    json_array_foreach(json_object_get(j, "groups"), i, g) {
        if (demo__is(json_object_get(g, "recipient_domain"), "gmail.com")) {
            v = json_object_get(json_object_get(g, "rates"), "bounce_rate");
            *gmail = json_is_number(v) ? json_number_value(v) : -1;
        }
    }
    json_decref(j);
}

/* Active alerts per demo tenant, from GET /v1/alerts. */
static int demo__api_alerts(struct demo *d, unsigned *a, unsigned *b)
{
    char *url = NULL;
    long status;
    int rc = cli_alerts_url(d->api, NULL, 0, 0, &url);
    json_t *j = demo__get(d, rc, url, &status);
    json_t *list = json_object_get(j, "alerts"), *al;
    size_t i;
    *a = *b = 0;
    json_array_foreach(list, i, al) {
        const char *t = json_string_value(json_object_get(json_object_get(al, "labels"), "tenant"));
        *a += t && strcmp(t, d->tenant_a) == 0;
        *b += t && strcmp(t, d->tenant_b) == 0;
    }
    json_decref(j);
    return list != NULL ? MP_OK : MP_ERR_IO;
}

static const char *demo__level(double rate)
{
    return rate >= DEMO_CRITICAL ? "crit" : rate >= DEMO_WARNING ? "warn" : "ok";
}

/* One line: events so far, then per tenant its sent count and bounce
 * rates (the tenant's, and at gmail.com) against the rule's levels. */
static void demo__view(struct demo *d, int force)
{
    int64_t now = mp_mono_ns();
    if (!force && now - d->last_view_ns < 1000000000LL)
        return;
    d->last_view_ns = now;
    printf("%5.1fs %6" PRIu64 " events", (double)(now - d->start_ns) / 1e9, d->events);
    /* Fits 100 columns: "  4.8s  10000 events | A  2500 4.68% crit gmail 5.75% crit | B ..." */
    const char *names[2] = {d->tenant_a, d->tenant_b};
    for (int t = 0; t < 2; t++) {
        int64_t sent;
        double rate, gmail;
        char pr[32], pg[32];
        demo__tenant_rate(d, names[t], &sent, &rate, &gmail);
        cli_stats_percent(rate, rate < 0, pr, sizeof(pr));
        cli_stats_percent(gmail, gmail < 0, pg, sizeof(pg));
        printf(" | %c %5" PRId64 " %6s %-4s gmail %6s %-4s", t ? 'B' : 'A', sent, pr,
               demo__level(rate), pg, demo__level(gmail));
    }
    putchar('\n');
    fflush(stdout);
}

/* ----------------------------------------------------------------- sending */

/* Fills one stream's three Events: sent, delivered, bounce_hard. */
static void demo__events_init(struct demo *d)
{
    for (size_t s = 0; s < DEMO_NSTREAMS; s++) {
        static const int types[3] = {MAILPULSE__V1__EVENT_TYPE__EVENT_TYPE_SENT,
                                     MAILPULSE__V1__EVENT_TYPE__EVENT_TYPE_DELIVERED,
                                     MAILPULSE__V1__EVENT_TYPE__EVENT_TYPE_BOUNCE_HARD};
        for (size_t k = 0; k < 3; k++) {
            Mailpulse__V1__Event *e = &d->ev[s][k];
            mailpulse__v1__event__init(e);
            e->tenant = (char *)d->st[s].tenant;
            e->mailbox = (char *)d->st[s].mailbox;
            e->recipient_domain = (char *)d->st[s].domain;
            e->type = (Mailpulse__V1__EventType)types[k];
            e->campaign = (char *)"demo";
        }
    }
}

/* send_ack_next_fn: one tick's events, sent when the tick is due. */
static int demo__next(void *arg, uint64_t seq, struct mp_buf *frame, int64_t *events)
{
    struct demo *d = arg;
    if (d->tick >= d->ticks)
        return 0;
    int64_t due = d->start_ns + d->tick * DEMO_TICK_MS * 1000000LL;
    for (int64_t now; (now = mp_mono_ns()) < due;) {
        int64_t ms = (due - now) / 1000000 + 1;
        struct timespec ts = {0, (ms < 50 ? ms : 50) * 1000000L};
        nanosleep(&ts, NULL);
        demo__drain(d);
    }
    demo__view(d, d->tick == 0);
    int bad = d->tick * 100 >= d->ticks * DEMO_BAD_PERCENT;
    int64_t now_ms = mp_now_ms();
    size_t n = 0;
    for (size_t s = 0; s < DEMO_NSTREAMS; s++) {
        struct demo_stream *st = &d->st[s];
        int permille = st->bad && bad ? DEMO_BAD_PERMILLE : DEMO_GOOD_PERMILLE;
        uint64_t sent = (uint64_t)st->per_s * DEMO_TICK_MS / 1000;
        /* Bounces to date follow the rate exactly, whatever the rounding. */
        st->milli += sent * (uint64_t)permille;
        uint64_t want = st->milli / 1000;
        uint64_t bounces = want - st->bounced;
        st->sent += sent;
        st->bounced = want;
        uint64_t counts[3] = {sent, sent - bounces, bounces};
        for (size_t k = 0; k < 3; k++) {
            d->ev[s][k].time_ms = now_ms;
            for (uint64_t i = 0; i < counts[k] && n < DEMO_SLOTS_MAX; i++)
                d->slots[n++] = &d->ev[s][k];
        }
    }
    int rc = send_ack_pack(d->cmd, d->slots, n, d->producer, seq, frame, events);
    if (rc == 1) {
        d->events += n;
        d->tick++;
    }
    return rc;
}

/* ---------------------------------------------------------------- the story */

static int demo__parse(struct demo *d, int argc, char **argv)
{
    struct cli_args a = CLI_ARGS(d->cmd, argc, argv);
    int rc, have_endpoint = 0, have_api = 0;
    while ((rc = cli_next(&a)) == MP_OK) {
        switch ((enum demo_opt)a.idx) {
        case DM_ENDPOINT: d->endpoint = a.val, have_endpoint = 1; break;
        case DM_API: rc = cli_opt_api(d->cmd, a.val, &d->api), have_api = 1; break;
        case DM_LISTEN: d->listen = a.val; break;
        case DM_SECONDS: rc = cli_arg_i64(&a, 1, DEMO_MAX_SECONDS, &d->seconds); break;
        case DM_FAST: d->seconds = DEMO_FAST_SECONDS; break;
        case DM_RUN:
            if (strlen(a.val) > 20 || strspn(a.val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
                                                    "TUVWXYZ0123456789._-") != strlen(a.val) ||
                a.val[0] == '\0')
                return cli_usage_error(d->cmd, "--run: expected 1..20 of [A-Za-z0-9._-], got "
                                               "\"%s\"", a.val);
            snprintf(d->run, sizeof(d->run), "%s", a.val);
            break;
        }
        if (rc != MP_OK)
            return rc;
    }
    if (rc != MP_ERR_NOTFOUND)
        return rc;
    /* the acked endpoint: $MAILPULSE_ROUTER, as for send --ack */
    if ((rc = cli_opt_env_endpoint(d->cmd, have_endpoint, CLI_ENV_ROUTER, &d->endpoint)) != MP_OK)
        return rc;
    return cli_opt_env_api(d->cmd, have_api, &d->api);
}

static void demo__streams(struct demo *d)
{
    snprintf(d->tenant_a, sizeof(d->tenant_a), "demo-team-a-%s", d->run);
    snprintf(d->tenant_b, sizeof(d->tenant_b), "demo-team-b-%s", d->run);
    d->st[0] = (struct demo_stream){d->tenant_a, "news@team-a.example", "gmail.com", 1,
                                    DEMO_RATE_PER_S, 0, 0, 0};
    d->st[1] = (struct demo_stream){d->tenant_a, "news@team-a.example", "yahoo.com", 0,
                                    DEMO_SIDE_PER_S, 0, 0, 0};
    d->st[2] = (struct demo_stream){d->tenant_b, "news@team-b.example", "gmail.com", 0,
                                    DEMO_RATE_PER_S, 0, 0, 0};
    d->st[3] = (struct demo_stream){d->tenant_b, "news@team-b.example", "yahoo.com", 0,
                                    DEMO_SIDE_PER_S, 0, 0, 0};
    demo__events_init(d);
}

/* After the last event: team A's alert, for at most DEMO_WAIT_MS. */
static void demo__await(struct demo *d, unsigned *api_a, unsigned *api_b)
{
    int64_t until = mp_mono_ns() + DEMO_WAIT_MS * 1000000LL;
    int said = 0;
    while (mp_mono_ns() < until) {
        demo__drain(d);
        if (d->sink != NULL && d->alerts_a > 0)
            break;
        if (d->sink == NULL && demo__api_alerts(d, api_a, api_b) == MP_OK && *api_a > 0)
            break;
        if (!said++)
            printf("Waiting up to %d s for team A's alert...\n", DEMO_WAIT_MS / 1000);
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    /* B must stay quiet: one more look for anything that came late. */
    demo__drain(d);
    demo__api_alerts(d, api_a, api_b);
}

static int demo__summary(struct demo *d, unsigned api_a, unsigned api_b)
{
    demo__view(d, 1);
    unsigned a = d->sink ? d->alerts_a : api_a, b = d->sink ? d->alerts_b + api_b : api_b;
    const char *via = d->sink ? "at the sink" : "in the API's active alerts";
    printf("\nWhat happened\n");
    printf("  %" PRIu64 " events sent in %" PRId64 " s.\n", d->events, d->seconds);
    printf("  team A (%s): its gmail.com list went bad at %d%% hard bounces; ", d->tenant_a,
           DEMO_BAD_PERMILLE / 10);
    if (a > 0 && d->sink)
        printf("%u alert(s) %s, the first %.1f s into the run.\n", a, via,
               (double)d->first_a_ms / 1000.0);
    else if (a > 0)
        printf("%u alert(s) %s.\n", a, via);
    else
        printf("NO alert %s.\n", via);
    printf("  team B (%s): steady at 0.5%%; %s.\n", d->tenant_b,
           b ? "it got an alert, which it should not have" : "no alert, as it should be");
    if (a == 0)
        printf("\n  No alert for team A: does the daemon's config route alerts to %s\n"
               "  (mailpulse.example.yaml's receiver \"ops\" posts to http://127.0.0.1:9000/hook)\n"
               "  and use the default rules (bounce_rate: warning 2%%, critical 4%% over 1h)?\n",
               d->listen);
    printf("\nLook further:\n  mailpulse alerts --tenant %s\n"
           "  mailpulse stats --tenant %s --window 1h --by recipient_domain\n",
           d->tenant_a, d->tenant_a);
    fflush(stdout);
    return a > 0 && b == 0 ? MP_OK : MP_ERR_STATE;
}

static int demo__run(const struct cli_cmd *cmd, int argc, char **argv)
{
    struct demo *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return MP_ERR_NOMEM;
    *d = (struct demo){.cmd = cmd, .api = CLI_API_DEFAULT, .endpoint = SEND_ACK_DEFAULT_ENDPOINT,
                       .listen = DEMO_DEFAULT_LISTEN, .seconds = DEMO_DEFAULT_SECONDS,
                       .pipe_rd = -1, .pending = MP_BUF_INIT, .first_a_ms = -1};
    time_t t0 = time(NULL);
    strftime(d->run, sizeof(d->run), "%Y%m%d%H%M%S", gmtime(&t0));
    const char *tok = getenv(CLI_API_TOKEN_ENV);
    d->token = tok && *tok ? tok : NULL;
    int rc = demo__parse(d, argc, argv);
    signal(SIGPIPE, SIG_IGN);
    if (rc != MP_OK) {
        rc = rc == CLI_HELP ? MP_OK : rc;
        goto out;
    }
    demo__streams(d);
    /* A producer id per process: the daemon deduplicates by (producer, sequence). */
    snprintf(d->producer, sizeof(d->producer), "mailpulse-demo-%ld-%" PRId64, (long)getpid(),
             mp_now_ms());
    long status = 0;
    char *url = NULL, *body = NULL, err[256];
    {
        struct mp_buf b = MP_BUF_INIT;
        rc = cli_api_url_start(&b, d->api, "/healthz");
        url = rc == MP_OK ? mp_buf_take(&b) : NULL;
        mp_buf_free(&b);
    }
    if (url == NULL || cli_api_get_auth(url, d->token, 2000, &status, &body, err, sizeof(err)) !=
                           MP_OK) {
        cli_fail(cmd, "no daemon answers at %s (%s). Start one with `make run`, or give --api.",
                 d->api, url ? err : "out of memory");
        free(url);
        rc = MP_ERR_IO;
        goto out;
    }
    free(url);
    free(body);
    if ((rc = demo__sink_start(d)) != MP_OK)
        goto out;
    printf("Team A's bad list: %s and %s send through one engine for %" PRId64
           " s;\nafter %d%% of it, team A's gmail.com list starts bouncing at %d%%.\n"
           "Rule bounce_rate (default rules): warning 2%%, critical 4%% over 1h, per tenant,\n"
           "mailbox and recipient domain. Each second: events sent, and per team (A, B)\n"
           "its sent count, bounce rate and bounce rate at gmail.com (ok, warn, crit).\n\n",
           d->tenant_a, d->tenant_b, d->seconds, DEMO_BAD_PERCENT, DEMO_BAD_PERMILLE / 10);
    fflush(stdout);

    /* A few resends only: a missing router should be said within seconds. */
    struct send_ack_conf conf = {d->endpoint, 1, 2000, 3, NULL, NULL};
    struct send_ack_result res;
    d->ticks = d->seconds * 1000 / DEMO_TICK_MS;
    d->start_ns = d->last_view_ns = mp_mono_ns();
    rc = send_ack_run(cmd, &conf, 1, demo__next, d, &res);
    if (rc != MP_OK) {
        send_ack_print(stderr, &res, d->endpoint);
        cli_fail(cmd, "the events did not all get acked at %s: the demo sends to the acked "
                      "endpoint, so the daemon's config needs ingest.router (the example "
                      "config has it on 7401), or give --endpoint",
                 d->endpoint);
        goto out;
    }
    unsigned api_a = 0, api_b = 0;
    demo__await(d, &api_a, &api_b);
    rc = demo__summary(d, api_a, api_b);
out:
    cli_sink_stop(d->sink);
    if (d->pipe_wr != NULL)
        fclose(d->pipe_wr);
    if (d->pipe_rd >= 0)
        close(d->pipe_rd);
    mp_buf_free(&d->pending);
    free(d);
    return rc;
}

const struct cli_cmd cli_demo_cmd = {
    "demo", "play \"Team A's bad list\" against a running daemon, with a live view",
    demo__usage, demo__opts, MP_ARRAY_LEN(demo__opts), demo__run};
