/* bench_flood — the daemon's resident memory under hostile producers.
 *
 * Part "flood" (issue 9: an unbounded producer once queued ~50M events,
 * over 3 GB): starts the real daemon (bench_common.h's config: 2 workers,
 * the default ingest limits), then `--senders` threads, each with its own
 * PUSH socket, send pre-built frames of 500 events (--tenants tenants of
 * the bench key model, skew 1.0) as fast as ZeroMQ lets them for
 * `--seconds`. Every 0.5 s the main thread samples the daemon's VmRSS
 * (/proc/PID/status) and its lag: events handed to ZeroMQ by the senders
 * minus mailpulse_events_accepted_total. Then the senders close (linger 0:
 * what sits in their own queues is dropped, the daemon's queues drain),
 * the daemon is given until accepted stops moving for 2 s, and the RSS is
 * read again 3 s later ("after").
 *
 * Part "bigframe" (issue 9: one 450 MB frame of 10M events took RSS to
 * 3.0 GiB and left 2.3 GiB): a fresh daemon, then one frame of
 * `--big-events` events (the same 45-byte event repeated; about 450 MB for
 * 10M) on a PUSH socket of its own, with RSS sampled every 50 ms for 5 s
 * (peak), and "after" 5 s later; then a 6 MiB frame (between
 * max_frame_bytes, 4 MiB, and ZMQ_MAXMSGSIZE, twice that), which must be
 * counted as frame_too_large, and one good frame of 500 events, which must
 * count: the daemon still serves.
 *
 * Prints one line per run and part, then the medians:
 *   bench_flood part=flood run=… rss_before_mb=… rss_peak_mb=… …
 *   bench_flood part=bigframe run=… frame_mb=… rss_peak_mb=… …
 */

#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <zmq.h>

#include "bench_common.h"
#include "mp_atomic.h"

#define FLOOD_FRAMES 400 /* distinct frames the senders cycle through */
#define FLOOD_SAMPLE_MS 500
#define FLOOD_MAX_SENDERS 16
#define FLOOD_MAX_RUNS 9

/* The daemon's resident set, MiB, from /proc/PID/status; -1 when gone. */
static double rss_mb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    double kb = -1;
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = atof(line + 6);
    if (f)
        fclose(f);
    return kb < 0 ? -1 : kb / 1024.0;
}

static double accepted(const struct bench_daemon *d)
{
    return bench_daemon_metric(d->http_port, "mailpulse_events_accepted_total");
}

static double rejected(const struct bench_daemon *d, const char *reason)
{
    char series[128], *body = NULL;
    double v = -1;
    snprintf(series, sizeof(series), "mailpulse_rejected_total{reason=\"%s\"}", reason);
    if (bench_http_get(d->http_port, "/metrics", 2000, &body) != 200 ||
        e2e_metric_double(body, series, &v) != MP_OK)
        v = -1;
    free(body);
    return v;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int daemon_up(struct bench_daemon *d)
{
    if (bench_daemon_prepare(d, 2, 0, "warn") != 0 || bench_daemon_exec(d) != 0 ||
        bench_daemon_wait_healthy(d, 50, 30000) != 0) {
        fprintf(stderr, "bench_flood: the daemon did not start (log: %s)\n", d->log);
        return -1;
    }
    return 0;
}

/* ---- part flood ------------------------------------------------------------ */

struct sender {
    pthread_t th;
    const struct bench_frames *fs;
    const char *endpoint;
    size_t first;
    _Atomic uint64_t frames; /* handed to ZeroMQ; read by the sampler (relaxed: a figure) */
    _Atomic int *stop;       /* set by main (relaxed: polled every frame, 100 ms at worst) */
    int failed;
};

static void *sender_main(void *arg)
{
    struct sender *s = arg;
    void *ctx = zmq_ctx_new();
    void *sock = ctx ? zmq_socket(ctx, ZMQ_PUSH) : NULL;
    int linger = 0, tmo = 100;
    if (!sock || zmq_connect(sock, s->endpoint) != 0) {
        s->failed = 1;
        goto out;
    }
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(sock, ZMQ_SNDTIMEO, &tmo, sizeof(tmo)); /* so stop is seen */
    for (size_t i = s->first; !mp_load_relaxed(s->stop); i = (i + 1) % s->fs->n) {
        if (zmq_send_const(sock, s->fs->f[i].buf, s->fs->f[i].len, 0) < 0) {
            if (zmq_errno() == EAGAIN || zmq_errno() == EINTR)
                continue;
            s->failed = 1;
            break;
        }
        mp_add_relaxed(&s->frames, 1);
    }
out:
    if (sock)
        zmq_close(sock);
    if (ctx)
        zmq_ctx_term(ctx);
    return NULL;
}

struct flood_result {
    double rss_before, rss_peak, rss_end, rss_after; /* MiB */
    double sent, acc, lag_max, lag_end, drain_s, rate;
};

static uint64_t sent_frames(struct sender *s, int n)
{
    uint64_t f = 0;
    for (int i = 0; i < n; i++)
        f += mp_load_relaxed(&s[i].frames);
    return f;
}

/* After the senders stopped: until accepted holds still for 2 s (at most
 * 120 s). Returns the seconds it took. */
static double drain(const struct bench_daemon *d, double *acc)
{
    int64_t t0 = mp_mono_ns(), still_since = t0;
    double last = accepted(d);
    while (mp_mono_ns() - t0 < 120 * 1000000000LL) {
        sleep_ms(250);
        double a = accepted(d);
        if (a != last) {
            last = a;
            still_since = mp_mono_ns();
        } else if (mp_mono_ns() - still_since >= 2000000000LL) {
            break;
        }
    }
    *acc = last;
    return (double)(still_since - t0) / 1e9;
}

static int flood_run(const struct bench_frames *fs, int nsend, double seconds, int verbose,
                     struct flood_result *r)
{
    struct bench_daemon d;
    struct sender s[FLOOD_MAX_SENDERS];
    _Atomic int stop;
    mp_atomic_init(&stop, 0);
    memset(r, 0, sizeof(*r));
    if (daemon_up(&d) != 0) {
        bench_daemon_cleanup(&d, 1);
        return -1;
    }
    sleep_ms(1000);
    r->rss_before = r->rss_peak = rss_mb(d.proc.pid);
    double acc0 = accepted(&d);
    for (int i = 0; i < nsend; i++) {
        s[i] = (struct sender){.fs = fs, .endpoint = d.endpoint, .first = (size_t)i * 37,
                               .stop = &stop};
        mp_atomic_init(&s[i].frames, 0);
        pthread_create(&s[i].th, NULL, sender_main, &s[i]);
    }
    int64_t t0 = mp_mono_ns();
    for (int k = 1; (double)k * FLOOD_SAMPLE_MS / 1000.0 <= seconds; k++) {
        int64_t wake = t0 + (int64_t)k * FLOOD_SAMPLE_MS * 1000000;
        int64_t left = wake - mp_mono_ns();
        if (left > 0)
            sleep_ms((int)(left / 1000000));
        double rss = rss_mb(d.proc.pid), a = accepted(&d) - acc0;
        double sent = (double)sent_frames(s, nsend) * BENCH_BATCH;
        r->rss_peak = rss > r->rss_peak ? rss : r->rss_peak;
        r->lag_max = sent - a > r->lag_max ? sent - a : r->lag_max;
        r->rss_end = rss;
        r->lag_end = sent - a;
        if (verbose)
            printf("# t=%.1f rss_mb=%.0f sent=%.0f accepted=%.0f lag=%.0f\n",
                   (double)(mp_mono_ns() - t0) / 1e9, rss, sent, a, sent - a);
    }
    mp_store_relaxed(&stop, 1);
    int failed = 0;
    for (int i = 0; i < nsend; i++) {
        pthread_join(s[i].th, NULL);
        failed |= s[i].failed;
    }
    r->sent = (double)sent_frames(s, nsend) * BENCH_BATCH;
    double burst_s = (double)(mp_mono_ns() - t0) / 1e9;
    r->drain_s = drain(&d, &r->acc);
    r->acc -= acc0;
    r->rate = r->acc / (burst_s + r->drain_s);
    sleep_ms(3000);
    r->rss_after = rss_mb(d.proc.pid);
    int alive = e2e_proc_running(&d.proc);
    bench_daemon_cleanup(&d, !alive);
    if (failed || !alive)
        fprintf(stderr, "bench_flood: %s\n", alive ? "a sender failed" : "the daemon died");
    return failed || !alive ? -1 : 0;
}

/* ---- part bigframe --------------------------------------------------------- */

/* One frame of n copies of one event, built on the wire directly (packing
 * 10M event structs would cost the bench gigabytes). */
static uint8_t *big_frame(size_t n, int64_t now, size_t *len)
{
    Mailpulse__V1__Event e = MAILPULSE__V1__EVENT__INIT;
    e.tenant = "acme";
    e.mailbox = "ab@acme.example"; /* 45 bytes an event on the wire: 10M make 450 MB */
    e.recipient_domain = "gmail.com";
    e.type = (Mailpulse__V1__EventType)ENG_SENT;
    e.time_ms = now;
    uint8_t one[128];
    size_t el = mailpulse__v1__event__pack(&e, one);
    if (el >= 128) /* one length byte below */
        return NULL;
    *len = n * (el + 2);
    uint8_t *f = malloc(*len);
    for (size_t i = 0; f && i < n; i++) {
        f[i * (el + 2)] = 0x0a; /* field 1, length-delimited */
        f[i * (el + 2) + 1] = (uint8_t)el;
        memcpy(f + i * (el + 2) + 2, one, el);
    }
    return f;
}

struct big_result {
    double frame_mb, rss_before, rss_peak, rss_after;
    double mid_mb, mid_refused, good_counted;
    int healthy;
};

/* Sends one frame (copied: zmq_send) on a new PUSH socket. */
static int push_one(const char *endpoint, const void *buf, size_t len)
{
    void *ctx = zmq_ctx_new();
    void *s = ctx ? zmq_socket(ctx, ZMQ_PUSH) : NULL;
    int linger = 5000, rc = -1;
    if (s && zmq_connect(s, endpoint) == 0) {
        zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
        rc = zmq_send(s, buf, len, 0) == (int)len ? 0 : -1;
    }
    if (s)
        zmq_close(s);
    if (ctx)
        zmq_ctx_term(ctx);
    return rc;
}

static int big_run(size_t nbig, struct big_result *r)
{
    struct bench_daemon d;
    memset(r, 0, sizeof(*r));
    size_t len, midlen;
    int64_t now = mp_now_ms();
    uint8_t *big = big_frame(nbig, now, &len);
    uint8_t *mid = big_frame(6 * 1024 * 1024 / 47, now, &midlen);
    struct bench_model m;
    struct bench_frames good = {0};
    int rc = -1;
    if (!big || !mid || bench_model_init(&m, 1, 0) != 0)
        goto out;
    if (bench_frames_build(&m, 1, 7, now, 0, &good) != 0 || daemon_up(&d) != 0)
        goto out_model;
    r->frame_mb = (double)len / (1024 * 1024);
    r->mid_mb = (double)midlen / (1024 * 1024);
    sleep_ms(1000);
    r->rss_before = r->rss_peak = rss_mb(d.proc.pid);
    if (push_one(d.endpoint, big, len) != 0)
        fprintf(stderr, "bench_flood: the big frame was not sent\n");
    for (int i = 0; i < 100; i++) { /* 5 s */
        double x = rss_mb(d.proc.pid);
        r->rss_peak = x > r->rss_peak ? x : r->rss_peak;
        sleep_ms(50);
    }
    sleep_ms(5000);
    r->rss_after = rss_mb(d.proc.pid);
    double rej0 = rejected(&d, "frame_too_large"), acc0 = accepted(&d);
    push_one(d.endpoint, mid, midlen);
    push_one(d.endpoint, good.f[0].buf, good.f[0].len);
    for (int i = 0; i < 100 && accepted(&d) < acc0 + BENCH_BATCH; i++)
        sleep_ms(100);
    r->mid_refused = rejected(&d, "frame_too_large") - rej0;
    r->good_counted = accepted(&d) - acc0;
    r->healthy = bench_http_get(d.http_port, "/healthz", 2000, NULL) == 200;
    rc = r->healthy ? 0 : -1;
    bench_daemon_cleanup(&d, !r->healthy);
out_model:
    bench_frames_free(&good);
    bench_model_free(&m);
out:
    free(big);
    free(mid);
    return rc;
}

/* ---- main ------------------------------------------------------------------ */

static void print_flood(int run, int nsend, double secs, const struct flood_result *r)
{
    printf("bench_flood part=flood run=%d senders=%d seconds=%.0f rss_before_mb=%.0f "
           "rss_peak_mb=%.0f rss_end_of_burst_mb=%.0f rss_after_mb=%.0f sent_events=%.0f "
           "accepted_events=%.0f lag_max_events=%.0f lag_end_events=%.0f drain_s=%.1f "
           "events_per_s=%.0f\n",
           run, nsend, secs, r->rss_before, r->rss_peak, r->rss_end, r->rss_after, r->sent,
           r->acc, r->lag_max, r->lag_end, r->drain_s, r->rate);
}

static void print_big(int run, size_t n, const struct big_result *r)
{
    printf("bench_flood part=bigframe run=%d events=%zu frame_mb=%.0f rss_before_mb=%.0f "
           "rss_peak_mb=%.0f rss_after_mb=%.0f mid_frame_mb=%.1f mid_frame_too_large=%.0f "
           "good_frame_accepted=%.0f healthy=%d\n",
           run, n, r->frame_mb, r->rss_before, r->rss_peak, r->rss_after, r->mid_mb,
           r->mid_refused, r->good_counted, r->healthy);
}

/* The median of one double field over n results of `size` bytes each. */
static double median_at(const void *results, size_t size, size_t off, int n)
{
    double v[FLOOD_MAX_RUNS];
    for (int i = 0; i < n; i++)
        memcpy(&v[i], (const char *)results + (size_t)i * size + off, sizeof(double));
    return bench_median(v, n);
}
#define MEDIAN_OF(arr, type, field, n) median_at((arr), sizeof(type), offsetof(type, field), (n))

int main(int argc, char **argv)
{
    uint32_t nsend = 4, runs = 3, tenants = 200;
    uint64_t nbig = 10000000;
    double seconds = 20;
    const char *part = "all";
    int verbose = 0;
    const struct bench_opt opts[] = {
        {"seconds", 's', BENCH_OPT_DOUBLE, &seconds}, {"senders", 'n', BENCH_OPT_U32, &nsend},
        {"runs", 'r', BENCH_OPT_U32, &runs},          {"tenants", 't', BENCH_OPT_U32, &tenants},
        {"big-events", 'b', BENCH_OPT_U64, &nbig},    {"part", 'p', BENCH_OPT_STR, &part},
        {"verbose", 'v', BENCH_OPT_FLAG, &verbose},
    };
    int ex = bench_opts(argc, argv, opts, MP_ARRAY_LEN(opts),
                        "usage: bench_flood [--part all|flood|bigframe] [--seconds 20] "
                        "[--senders 4] [--runs 3] [--tenants 200] [--big-events 10000000] "
                        "[--verbose]\n");
    if (ex >= 0)
        return ex;
    if (nsend < 1 || nsend > FLOOD_MAX_SENDERS || runs < 1 || runs > FLOOD_MAX_RUNS ||
        tenants < 1 || nbig < 1) {
        fprintf(stderr, "bench_flood: senders 1..%d, runs 1..%d, tenants and big-events >= 1\n",
                FLOOD_MAX_SENDERS, FLOOD_MAX_RUNS);
        return 2;
    }
    int do_flood = strcmp(part, "bigframe") != 0, do_big = strcmp(part, "flood") != 0;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = 0;
    if (do_flood) {
        struct bench_model m;
        struct bench_frames fs = {0};
        struct flood_result r[FLOOD_MAX_RUNS];
        if (bench_model_init(&m, tenants, 1.0) != 0 ||
            bench_frames_build(&m, FLOOD_FRAMES, 42, mp_now_ms(), 0, &fs) != 0)
            return 1;
        int n = 0;
        for (uint32_t i = 0; i < runs; i++)
            if (flood_run(&fs, (int)nsend, seconds, verbose, &r[n]) == 0)
                print_flood((int)i + 1, (int)nsend, seconds, &r[n++]);
            else
                rc = 1;
        if (n)
            printf("bench_flood part=flood median_of=%d rss_before_mb=%.0f rss_peak_mb=%.0f "
                   "rss_end_of_burst_mb=%.0f rss_after_mb=%.0f lag_max_events=%.0f "
                   "drain_s=%.1f events_per_s=%.0f\n",
                   n, MEDIAN_OF(r, struct flood_result, rss_before, n), MEDIAN_OF(r, struct flood_result, rss_peak, n),
                   MEDIAN_OF(r, struct flood_result, rss_end, n), MEDIAN_OF(r, struct flood_result, rss_after, n),
                   MEDIAN_OF(r, struct flood_result, lag_max, n), MEDIAN_OF(r, struct flood_result, drain_s, n), MEDIAN_OF(r, struct flood_result, rate, n));
        bench_frames_free(&fs);
        bench_model_free(&m);
    }
    if (do_big) {
        struct big_result r[FLOOD_MAX_RUNS];
        int n = 0;
        for (uint32_t i = 0; i < runs; i++)
            if (big_run((size_t)nbig, &r[n]) == 0)
                print_big((int)i + 1, (size_t)nbig, &r[n++]);
            else
                rc = 1;
        if (n)
            printf("bench_flood part=bigframe median_of=%d rss_before_mb=%.0f rss_peak_mb=%.0f "
                   "rss_after_mb=%.0f\n",
                   n, MEDIAN_OF(r, struct big_result, rss_before, n), MEDIAN_OF(r, struct big_result, rss_peak, n),
                   MEDIAN_OF(r, struct big_result, rss_after, n));
    }
    curl_global_cleanup();
    return rc;
}
