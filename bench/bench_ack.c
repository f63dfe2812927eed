/* bench_ack — acked ingest (DEALER -> `ingest.router`, one Ack per batch,
 * sent once the batch is durable) beside fire-and-forget PUSH, on one
 * daemon in one run, and the ack latency at half the acked rate.
 *
 * Workload: --frames pre-serialized 500-event EventBatch frames drawn from
 * the Zipf(1.0) key model of bench_common.h over --tenants tenants (default
 * 2,000: 102,000 possible keys); a warm-up PUSH pass creates the keys
 * before anything is measured. Serialization is not part of any figure: an
 * acked send copies the frame and appends its producer_id and sequence
 * (protobuf keeps the last value of a field), a few microseconds.
 *
 * The real daemon ($MP_BIN_DIR/mailpulsed, free loopback ports, --workers
 * ingest workers) runs throughout. --rounds rounds (default 5), each of
 * --seconds (default 5) per mode, interleaved PUSH, acked, PUSH, acked...
 * so drift on a shared machine hits both alike; medians over rounds:
 *   - PUSH: --producers PUSH sockets (one thread, round robin: the daemon
 *     pins a connection to a worker, so as many connections as the acked
 *     side has producers) send as fast as the daemon takes frames, kept
 *     at most --backlog events ahead of mailpulse_events_accepted_total
 *     (so the daemon stays saturated without ZeroMQ queues filling); eps =
 *     the rise of that counter from 0.5 s into the round to its end / time.
 *     Then the backlog drains before the next round.
 *   - acked: --producers DEALER sockets (threads of this process, default
 *     4), each with its own producer_id and sequences from 1, each keeping
 *     --window batches in flight (default 32); a RETRY is resent after
 *     10 ms, a batch without an ack for 5 s is resent; eps = events in
 *     batches acked OK from 0.5 s into the round to its end / time.
 * Then latency: the same producers paced to half the median acked rate in
 * all (or to --latency-eps, so two builds can be compared at one rate),
 * for --latency-seconds (default 10); each batch's latency is its first
 * send to its OK ack (RETRYs included), p50 and p99 over every batch.
 *
 * Prints one result line per figure:
 *   bench_ack_push eps=... rounds=...
 *   bench_ack_acked eps=... rounds=... producers=P window=W retry_acks=N
 *   bench_ack_ratio acked_over_push=... target=0.70 met=yes|no
 *   bench_ack_latency p50_ms=... p99_ms=... at_eps=... batches=N target_p99_ms=10 met=yes|no
 */
#include <pthread.h>
#include <zmq.h>

#include "bench_common.h"
#include "mp_atomic.h"

#define ACK_RETRY_NS (10 * 1000000LL)
#define ACK_LOST_NS (5000 * 1000000LL)
#define WARM_NS (500 * 1000000LL)
#define MAX_ROUNDS 64
#define MAX_PRODUCERS 64
#define MAX_WINDOW 1024

struct conf {
    double seconds, latency_seconds, latency_eps;
    int rounds, producers, window, workers;
    uint32_t tenants;
    size_t nframes;
    uint64_t backlog;
};

/* A frame stamped for one producer: the events' bytes, then field 2
 * (producer_id) and field 3 (sequence). */
static size_t stamp(uint8_t *out, const struct bench_frame *f, const char *producer, uint64_t seq)
{
    size_t n = f->len, plen = strlen(producer);
    memcpy(out, f->buf, n);
    out[n++] = 0x12; /* field 2, length-delimited; plen < 128 */
    out[n++] = (uint8_t)plen;
    memcpy(out + n, producer, plen);
    n += plen;
    out[n++] = 0x18; /* field 3, varint */
    do {
        out[n++] = (uint8_t)((seq & 0x7f) | (seq > 0x7f ? 0x80 : 0));
        seq >>= 7;
    } while (seq);
    return n;
}

/* The daemon must read a stamped frame as that producer and sequence. */
static int stamp_check(const struct bench_frames *fs)
{
    uint8_t *buf = malloc(fs->f[0].len + 96);
    size_t n = stamp(buf, &fs->f[0], "bench-ack-check", 300);
    Mailpulse__V1__EventBatch *b = mailpulse__v1__event_batch__unpack(NULL, n, buf);
    int ok = b && b->sequence == 300 && strcmp(b->producer_id, "bench-ack-check") == 0 &&
             b->n_events == BENCH_BATCH;
    if (b)
        mailpulse__v1__event_batch__free_unpacked(b, NULL);
    free(buf);
    return ok ? 0 : -1;
}

/* ---- PUSH ------------------------------------------------------------------- */

/* Sends for `seconds`, at most c->backlog events ahead of the daemon's
 * count; returns the events sent. */
static uint64_t push_for(void **socks, const struct bench_frames *fs, double seconds,
                         const struct conf *c, int http_port, size_t *next)
{
    uint64_t frames = 0;
    double base = bench_daemon_metric(http_port, "mailpulse_events_accepted_total");
    int64_t deadline = mp_mono_ns() + (int64_t)(seconds * 1e9);
    while (mp_mono_ns() < deadline) {
        if (frames % 50 == 0) {
            double acc;
            while ((acc = bench_daemon_metric(http_port, "mailpulse_events_accepted_total")) >= 0 &&
                   (double)frames * BENCH_BATCH - (acc - base) > (double)c->backlog &&
                   mp_mono_ns() < deadline)
                usleep(2000);
        }
        const struct bench_frame *f = &fs->f[*next];
        if (zmq_send_const(socks[*next % (size_t)c->producers], f->buf, f->len, 0) < 0) {
            if (zmq_errno() == EINTR || zmq_errno() == EAGAIN)
                continue;
            break;
        }
        frames++;
        *next = (*next + 1) % fs->n;
    }
    return frames * BENCH_BATCH;
}

/* Waits until the daemon has counted `want` events in all (10 s at most). */
static void push_drain(int http_port, double want)
{
    int64_t deadline = mp_mono_ns() + 10000000000LL;
    while (bench_daemon_metric(http_port, "mailpulse_events_accepted_total") < want &&
           mp_mono_ns() < deadline)
        usleep(20000);
}

/* One PUSH round: the accepted counter's rise per second after the warm-up. */
static double push_round(void **socks, const struct bench_frames *fs, const struct conf *c,
                         int http_port, size_t *next)
{
    double before = bench_daemon_metric(http_port, "mailpulse_events_accepted_total");
    uint64_t sent = push_for(socks, fs, WARM_NS / 1e9, c, http_port, next);
    double a0 = bench_daemon_metric(http_port, "mailpulse_events_accepted_total");
    int64_t t0 = mp_mono_ns();
    sent += push_for(socks, fs, c->seconds - WARM_NS / 1e9, c, http_port, next);
    double a1 = bench_daemon_metric(http_port, "mailpulse_events_accepted_total");
    int64_t t1 = mp_mono_ns();
    push_drain(http_port, before + (double)sent);
    return (a1 - a0) / ((double)(t1 - t0) / 1e9);
}

/* ---- acked ------------------------------------------------------------------ */

struct slot {
    int busy;
    uint64_t seq;
    int64_t first_ns, sent_ns, resend_ns; /* resend_ns: 0 unless a RETRY asked for it */
};

struct producer {
    const struct bench_frames *fs;
    const char *endpoint;
    const struct conf *c;
    char id[48];
    uint64_t next_seq;
    size_t next_frame;
    int64_t interval_ns;   /* paced: one batch per interval; 0: as fast as acked */
    int64_t until_ns;      /* no new batch after this */
    MP_ATOMIC(uint64_t) *acked_events; /* shared; read by the main thread */
    uint64_t retry_acks, resends;
    double *lat_ms;        /* paced runs: one per batch acked OK */
    size_t nlat, caplat;
    int failed;
    pthread_t th;
};

static int ack_send(struct producer *p, void *sock, uint8_t *buf, struct slot *s, int64_t now)
{
    size_t n = stamp(buf, &p->fs->f[s->seq % p->fs->n], p->id, s->seq);
    if (zmq_send(sock, buf, n, 0) < 0)
        return -1;
    s->sent_ns = now;
    s->resend_ns = 0;
    return 0;
}

/* One ack: frees its slot on OK or DUPLICATE, schedules a resend on RETRY. */
static void ack_take(struct producer *p, struct slot *slots, zmq_msg_t *m, int64_t now)
{
    Mailpulse__V1__Ack *a =
        mailpulse__v1__ack__unpack(NULL, zmq_msg_size(m), (const uint8_t *)zmq_msg_data(m));
    if (a == NULL)
        return;
    for (int i = 0; i < p->c->window; i++) {
        struct slot *s = &slots[i];
        if (!s->busy || s->seq != a->sequence)
            continue;
        if (a->status == MAILPULSE__V1__ACK_STATUS__ACK_STATUS_RETRY) {
            p->retry_acks++;
            s->resend_ns = now + ACK_RETRY_NS;
        } else if (a->status == MAILPULSE__V1__ACK_STATUS__ACK_STATUS_OK ||
                   a->status == MAILPULSE__V1__ACK_STATUS__ACK_STATUS_DUPLICATE) {
            mp_add_relaxed(p->acked_events, (uint64_t)a->accepted);
            if (p->lat_ms && p->nlat < p->caplat)
                p->lat_ms[p->nlat++] = (double)(now - s->first_ns) / 1e6;
            s->busy = 0;
        } else {
            p->failed = 1; /* REJECTED: the bench's frames are valid */
            s->busy = 0;
        }
        break;
    }
    mailpulse__v1__ack__free_unpacked(a, NULL);
}

/* Fills free slots (paced: when the next batch is due), resends what
 * RETRY or a lost ack asks for; returns the busy slots. */
static int ack_pump(struct producer *p, void *sock, uint8_t *buf, struct slot *slots,
                    int64_t now, int64_t *next_due)
{
    int busy = 0;
    for (int i = 0; i < p->c->window && !p->failed; i++) {
        struct slot *s = &slots[i];
        if (!s->busy && now < p->until_ns && (!p->interval_ns || now >= *next_due)) {
            *s = (struct slot){1, p->next_seq++, now, 0, 0};
            if (ack_send(p, sock, buf, s, now) != 0)
                p->failed = 1;
            if (p->interval_ns)
                *next_due += p->interval_ns;
        } else if (s->busy && ((s->resend_ns && now >= s->resend_ns) ||
                               now - s->sent_ns > ACK_LOST_NS)) {
            p->resends++;
            if (ack_send(p, sock, buf, s, now) != 0)
                p->failed = 1;
        }
        busy += s->busy;
    }
    return busy;
}

static void *ack_main(void *arg)
{
    struct producer *p = arg;
    void *ctx = zmq_ctx_new(), *sock = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof(zero));
    struct slot *slots = calloc((size_t)p->c->window, sizeof(*slots));
    uint8_t *buf = malloc(p->fs->f[0].len + 4096);
    if (!slots || !buf || zmq_connect(sock, p->endpoint) != 0)
        p->failed = 1;
    int64_t next_due = mp_mono_ns(), stop = p->until_ns + ACK_LOST_NS;
    for (;;) {
        int64_t now = mp_mono_ns();
        int busy = p->failed ? 0 : ack_pump(p, sock, buf, slots, now, &next_due);
        if ((busy == 0 && now >= p->until_ns) || now > stop)
            break;
        zmq_pollitem_t it = {sock, 0, ZMQ_POLLIN, 0};
        zmq_poll(&it, 1, 1);
        zmq_msg_t m;
        zmq_msg_init(&m);
        while (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) >= 0)
            ack_take(p, slots, &m, mp_mono_ns());
        zmq_msg_close(&m);
    }
    free(slots);
    free(buf);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return NULL;
}

/* Runs c->producers producers for `seconds` (each paced to `eps_each`
 * events/s when not 0); returns the acked events per second from the
 * warm-up to the end, or -1. `ps` keeps their counts. */
static double ack_run(struct producer *ps, const struct bench_frames *fs, const char *endpoint,
                      const struct conf *c, double seconds, double eps_each, int round)
{
    MP_ATOMIC(uint64_t) acked;
    mp_atomic_init(&acked, 0);
    int64_t start = mp_mono_ns(), until = start + (int64_t)(seconds * 1e9);
    for (int i = 0; i < c->producers; i++) {
        struct producer *p = &ps[i];
        double *lat = p->lat_ms;
        size_t cap = p->caplat;
        *p = (struct producer){.fs = fs, .endpoint = endpoint, .c = c, .next_seq = 1,
                               .until_ns = until, .acked_events = &acked, .lat_ms = lat,
                               .caplat = cap};
        snprintf(p->id, sizeof(p->id), "bench-ack-%d-%d-%d", (int)getpid(), round, i);
        p->interval_ns = eps_each > 0 ? (int64_t)(1e9 * BENCH_BATCH / eps_each) : 0;
        pthread_create(&p->th, NULL, ack_main, p);
    }
    usleep((useconds_t)(WARM_NS / 1000));
    uint64_t a0 = mp_load_relaxed(&acked);
    int64_t t0 = mp_mono_ns();
    while (mp_mono_ns() < until)
        usleep(1000);
    uint64_t a1 = mp_load_relaxed(&acked);
    int64_t t1 = mp_mono_ns();
    int failed = 0;
    for (int i = 0; i < c->producers; i++) {
        pthread_join(ps[i].th, NULL);
        failed |= ps[i].failed;
    }
    return failed ? -1 : (double)(a1 - a0) / ((double)(t1 - t0) / 1e9);
}

/* ---- the run ------------------------------------------------------------------ */

static double pct(double *v, size_t n, double q)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof(*v), bench__cmp_double);
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

static int rounds(struct bench_daemon *d, const struct bench_frames *fs, const struct conf *c,
                  struct producer *ps, double *push, double *acked, uint64_t *retry_acks)
{
    void *ctx = zmq_ctx_new(), *socks[MAX_PRODUCERS];
    int tmo = 100, linger = 0, rc = 0;
    for (int i = 0; i < c->producers; i++) {
        socks[i] = zmq_socket(ctx, ZMQ_PUSH);
        zmq_setsockopt(socks[i], ZMQ_SNDTIMEO, &tmo, sizeof(tmo));
        zmq_setsockopt(socks[i], ZMQ_LINGER, &linger, sizeof(linger));
        if (zmq_connect(socks[i], d->endpoint) != 0)
            rc = -1;
    }
    size_t next = 0;
    /* Warm-up: every key of the frames exists before anything is timed. */
    uint64_t w = push_for(socks, fs, (double)fs->n * BENCH_BATCH / 200000.0 + 1, c, d->http_port,
                          &next);
    push_drain(d->http_port, (double)w);
    for (int r = 0; r < c->rounds && rc == 0; r++) {
        push[r] = push_round(socks, fs, c, d->http_port, &next);
        acked[r] = ack_run(ps, fs, d->router, c, c->seconds, 0, r);
        for (int i = 0; i < c->producers; i++)
            *retry_acks += ps[i].retry_acks;
        fprintf(stderr, "# round %d: push %.0f eps, acked %.0f eps\n", r + 1, push[r], acked[r]);
        if (push[r] <= 0 || acked[r] <= 0)
            rc = -1;
    }
    for (int i = 0; i < c->producers; i++)
        zmq_close(socks[i]);
    zmq_ctx_term(ctx);
    return rc;
}

/* Half the acked rate, paced: every batch's latency to its OK ack. */
static void latency(struct bench_daemon *d, const struct bench_frames *fs, const struct conf *c,
                    struct producer *ps, double at_eps)
{
    size_t cap = (size_t)(at_eps * c->latency_seconds / BENCH_BATCH / c->producers) + 1024;
    for (int i = 0; i < c->producers; i++) {
        ps[i].lat_ms = malloc(cap * sizeof(double));
        ps[i].caplat = ps[i].lat_ms ? cap : 0;
    }
    double got = ack_run(ps, fs, d->router, c, c->latency_seconds, at_eps / c->producers,
                         c->rounds);
    size_t n = 0;
    uint64_t retry = 0;
    for (int i = 0; i < c->producers; i++)
        n += ps[i].nlat;
    double *all = malloc((n + 1) * sizeof(double));
    n = 0;
    for (int i = 0; all && i < c->producers; i++) {
        memcpy(all + n, ps[i].lat_ms, ps[i].nlat * sizeof(double));
        n += ps[i].nlat;
        retry += ps[i].retry_acks;
        free(ps[i].lat_ms);
    }
    double p50 = pct(all, n, 0.50), p99 = pct(all, n, 0.99);
    printf("bench_ack_latency p50_ms=%.2f p99_ms=%.2f max_ms=%.2f at_eps=%.0f got_eps=%.0f "
           "batches=%zu retry_acks=%llu target_p99_ms=10 met=%s\n",
           p50, p99, pct(all, n, 1.0), at_eps, got, n, (unsigned long long)retry,
           p99 <= 10 ? "yes" : "no");
    free(all);
}

static int run(const struct conf *c)
{
    struct bench_model m;
    struct bench_frames fs;
    struct bench_daemon d;
    static struct producer ps[MAX_PRODUCERS];
    double push[MAX_ROUNDS], acked[MAX_ROUNDS];
    uint64_t retry_acks = 0;
    char l1[1024], l2[1024];
    if (bench_model_init(&m, c->tenants, 1.0) != 0 ||
        bench_frames_build(&m, c->nframes, 4242, mp_now_ms(), 0, &fs) != 0 || stamp_check(&fs)) {
        fprintf(stderr, "bench_ack: cannot build frames\n");
        return 1;
    }
    if (bench_daemon_prepare(&d, c->workers, 2097152, "info") != 0 ||
        bench_daemon_router(&d) != 0 || bench_daemon_exec(&d) != 0 ||
        bench_daemon_wait_healthy(&d, 50, 20000) != 0) {
        fprintf(stderr, "bench_ack: daemon did not start; see %s\n", d.log);
        bench_daemon_cleanup(&d, 1);
        return 1;
    }
    printf("# %zu frames x %d events over %u tenants; %d rounds of %.1f s per mode; %d "
           "producers x window %d; daemon workers %d\n",
           fs.n, BENCH_BATCH, c->tenants, c->rounds, c->seconds, c->producers, c->window,
           c->workers);
    fflush(stdout);
    if (rounds(&d, &fs, c, ps, push, acked, &retry_acks) != 0) {
        fprintf(stderr, "bench_ack: a round failed; daemon log kept in %s\n", d.log);
        bench_daemon_cleanup(&d, 1);
        return 1;
    }
    double pm = bench_median(push, c->rounds), am = bench_median(acked, c->rounds);
    printf("bench_ack_push eps=%.0f rounds=%s\n", pm, bench_list(push, c->rounds, 0, l1,
                                                                  sizeof(l1)));
    printf("bench_ack_acked eps=%.0f rounds=%s producers=%d window=%d retry_acks=%llu\n", am,
           bench_list(acked, c->rounds, 0, l2, sizeof(l2)), c->producers, c->window,
           (unsigned long long)retry_acks);
    printf("bench_ack_ratio acked_over_push=%.3f target=0.70 met=%s\n", am / pm,
           am / pm >= 0.70 ? "yes" : "no");
    fflush(stdout);
    latency(&d, &fs, c, ps, c->latency_eps > 0 ? c->latency_eps : am / 2);
    bench_daemon_cleanup(&d, 0);
    bench_frames_free(&fs);
    bench_model_free(&m);
    return 0;
}

int main(int argc, char **argv)
{
    struct conf c = {.seconds = 5, .latency_seconds = 10, .rounds = 5, .producers = 4,
                     .window = 32, .workers = 2, .tenants = 2000, .nframes = 400,
                     .backlog = 500000};
    const struct bench_opt opts[] = {
        {"seconds", 's', BENCH_OPT_DOUBLE, &c.seconds},
        {"rounds", 'r', BENCH_OPT_INT, &c.rounds},
        {"producers", 'p', BENCH_OPT_INT, &c.producers},
        {"window", 'W', BENCH_OPT_INT, &c.window},
        {"latency-seconds", 'L', BENCH_OPT_DOUBLE, &c.latency_seconds},
        {"latency-eps", 'e', BENCH_OPT_DOUBLE, &c.latency_eps},
        {"workers", 'w', BENCH_OPT_INT, &c.workers},
        {"tenants", 't', BENCH_OPT_U32, &c.tenants},
        {"frames", 'f', BENCH_OPT_SIZE, &c.nframes},
        {"backlog", 'b', BENCH_OPT_U64, &c.backlog},
    };
    int ex = bench_opts(
        argc, argv, opts, MP_ARRAY_LEN(opts),
        "usage: bench_ack [--seconds S] [--rounds N] [--producers N] [--window N]\n"
        "                 [--latency-seconds S] [--workers N] [--tenants N] [--frames N]\n"
        "                 [--backlog EVENTS] [--latency-eps E]\n"
        "  PUSH and acked throughput in interleaved rounds of S s each (default 5 s,\n"
        "  5 rounds), then ack latency at half the acked rate for --latency-seconds\n"
        "  (default 10), or at E events/s (to compare builds at one rate).\n"
        "  Needs $MP_BIN_DIR/mailpulsed with ingest.router.\n");
    if (ex >= 0)
        return ex;
    if (c.seconds < 1 || c.rounds < 1 || c.rounds > MAX_ROUNDS || c.producers < 1 ||
        c.producers > MAX_PRODUCERS || c.window < 1 || c.window > MAX_WINDOW ||
        c.latency_seconds < 1 || c.latency_eps < 0 || c.workers < 1 || c.tenants < 1 ||
        c.nframes < 1) {
        fprintf(stderr, "bench_ack: --seconds >= 1, --rounds 1..%d, --producers 1..%d, "
                        "--window 1..%d, --latency-seconds >= 1, --latency-eps >= 0, the rest >= 1\n",
                MAX_ROUNDS, MAX_PRODUCERS, MAX_WINDOW);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return run(&c);
}
