/* bench_latency — crossing-to-webhook latency of the real daemon on loopback.
 *
 * Starts bin/mailpulsed (found through $MP_BIN_DIR, default ./bin) with a
 * temporary config whose default receiver is an HTTP server inside this
 * process. For each of N fresh tenants it sends 100 `sent` events, waits for
 * them to be counted, then sends the batch that carries the crossing hard
 * bounces and measures CLOCK_MONOTONIC from just before that zmq_send to the
 * moment the receiver has the whole alert request. Optionally a background
 * producer keeps the engine busy with --load EPS events per second.
 *
 * Prints:  latency_ms n=N load_eps=E p50=… p90=… p99=… max=…
 */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "../tests/http_receiver.h" /* bench/ sees no -Itests: the path says where */
#include "bench_common.h"

#define MAX_N 10000

struct recv_state {
    pthread_mutex_t lock;
    int64_t got_ns[MAX_N]; /* receipt time per tenant index, 0 = not yet */
    int requests;
};

/* The receiver's hook: the first alert request per tenant "lat-N" stamps
 * the time its body was complete. */
static void on_req(void *arg, const struct hrx_req *r)
{
    struct recv_state *st = arg;
    json_t *j = json_loadb(r->body, r->len, 0, NULL);
    const char *tenant =
        json_string_value(json_object_get(json_object_get(j, "groupLabels"), "tenant"));
    int idx;
    if (tenant && sscanf(tenant, "lat-%d", &idx) == 1 && idx >= 0 && idx < MAX_N) {
        pthread_mutex_lock(&st->lock);
        if (!st->got_ns[idx])
            st->got_ns[idx] = r->mono_ns;
        st->requests++;
        pthread_mutex_unlock(&st->lock);
    }
    json_decref(j);
}

static void send_batch(void *sock, const char *tenant, int type, int count, int64_t now)
{
    e2e_send_events(sock, tenant, "sales@bench.example", "gmail.com", type, (size_t)count, now);
}

struct load {
    void *zctx;
    const char *endpoint;
    double eps;
    volatile int stop;
    uint64_t sent;
};

static void *load_main(void *arg)
{
    struct load *l = arg;
    void *s = zmq_socket(l->zctx, ZMQ_PUSH);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_connect(s, l->endpoint);
    int64_t start = mp_mono_ns();
    char tenant[32];
    int n = 0;
    while (!l->stop) {
        /* spread the load over 1000 tenants' keys; ~0.1% bounces never cross */
        snprintf(tenant, sizeof(tenant), "bg-%d", n++ % 1000);
        send_batch(s, tenant, n % 1000 == 0 ? 3 : 1, 500, mp_now_ms());
        l->sent += 500;
        double due_s = (double)l->sent / l->eps;
        int64_t ahead_ns = start + (int64_t)(due_s * 1e9) - mp_mono_ns();
        if (ahead_ns > 0) {
            struct timespec ts = {ahead_ns / 1000000000, ahead_ns % 1000000000};
            nanosleep(&ts, NULL);
        }
    }
    zmq_close(s);
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The temp dir, the receiver and the daemon the run measures. */
struct rig {
    char dir[E2E_PATH_MAX], cfg[E2E_PATH_MAX + 32], data[E2E_PATH_MAX + 32];
    char bin[E2E_PATH_MAX], endpoint[64], listen[32], healthz[64], url[64];
    struct hrx *recv;
    struct e2e_proc daemon;
    char err[E2E_ERR_MAX];
};

/* Temp dir, ports, config, receiver, daemon: 0 once /healthz answers 200. */
static int rig_start(struct rig *g, struct recv_state *st)
{
    uint16_t p[2];
    setenv("MP_BIN_DIR", "bin", 0);
    if (e2e_bin_path("mailpulsed", g->bin, sizeof(g->bin), g->err, sizeof(g->err)) != MP_OK ||
        e2e_tmpdir_create("bench", g->dir, sizeof(g->dir), g->err, sizeof(g->err)) != MP_OK ||
        e2e_free_port(&p[0], NULL, 0, g->err, sizeof(g->err)) != MP_OK ||
        e2e_free_port(&p[1], p, 1, g->err, sizeof(g->err)) != MP_OK ||
        hrx_start(0, &g->recv, g->err, sizeof(g->err)) != MP_OK)
        return -1;
    hrx_set_hook(g->recv, on_req, st);
    snprintf(g->cfg, sizeof(g->cfg), "%s/mailpulse.yaml", g->dir);
    snprintf(g->data, sizeof(g->data), "%s/data", g->dir);
    snprintf(g->endpoint, sizeof(g->endpoint), "tcp://127.0.0.1:%u", (unsigned)p[0]);
    snprintf(g->listen, sizeof(g->listen), "127.0.0.1:%u", (unsigned)p[1]);
    snprintf(g->healthz, sizeof(g->healthz), "http://%s/healthz", g->listen);
    snprintf(g->url, sizeof(g->url), "http://127.0.0.1:%u/hook", (unsigned)hrx_port(g->recv));
    const struct e2e_receiver_conf rec[] = {{"bench", g->url, "bench"}};
    const struct e2e_daemon_conf c = {.data_dir = g->data, .pull = g->endpoint,
                                      .http_listen = g->listen, .workers = 2, .receivers = rec,
                                      .nreceivers = 1, .default_route = "bench",
                                      .log_level = "warn"};
    char *argv[] = {g->bin, "-c", g->cfg, NULL};
    if (e2e_config_write(g->cfg, &c, g->err, sizeof(g->err)) != MP_OK ||
        e2e_spawn(&g->daemon, "mailpulsed", g->dir, argv, g->err, sizeof(g->err)) != MP_OK ||
        e2e_wait_http_ok(&g->daemon, g->healthz, 10000, g->err, sizeof(g->err)) != MP_OK)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    int n = 200;
    double load_eps = 0;
    const struct bench_opt opts[] = {
        {"n", 'n', BENCH_OPT_INT, &n},
        {"load", 'l', BENCH_OPT_DOUBLE, &load_eps},
    };
    int ex = bench_opts(argc, argv, opts, MP_ARRAY_LEN(opts),
                        "usage: bench_latency [--n CROSSINGS] [--load EVENTS_PER_SEC]\n");
    if (ex >= 0)
        return ex;
    if (n < 1 || n > MAX_N || load_eps < 0) {
        fprintf(stderr, "bench_latency: --n must be 1..%d, --load >= 0\n", MAX_N);
        return 2;
    }
    static struct recv_state st = {.lock = PTHREAD_MUTEX_INITIALIZER};
    static struct rig g;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = 1;
    if (rig_start(&g, &st) != 0) {
        fprintf(stderr, "bench_latency: %s\n", g.err);
        goto out;
    }
    const char *endpoint = g.endpoint;
    void *zctx = zmq_ctx_new();
    void *sock = zmq_socket(zctx, ZMQ_PUSH);
    int linger = 1000;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_connect(sock, endpoint);
    struct load ld = {.zctx = zctx, .endpoint = endpoint, .eps = load_eps};
    pthread_t lt;
    if (load_eps > 0) {
        pthread_create(&lt, NULL, load_main, &ld);
        sleep(1); /* let the load settle */
    }
    int64_t *lat = calloc((size_t)n, sizeof(*lat));
    int got = 0;
    for (int i = 0; i < n; i++) {
        char tenant[32];
        snprintf(tenant, sizeof(tenant), "lat-%d", i);
        send_batch(sock, tenant, 1, 100, mp_now_ms());
        usleep(20 * 1000); /* the 100 sent are counted before the crossing */
        int64_t t0 = mp_mono_ns();
        send_batch(sock, tenant, 3, 2, mp_now_ms()); /* 2 of 100: exactly 2% */
        int64_t t1 = bench_wait_set(&st.lock, &st.got_ns[i], t0 + 3000000000LL);
        if (!t1) {
            fprintf(stderr, "bench_latency: no alert for %s within 3 s\n", tenant);
            continue;
        }
        lat[got++] = t1 - t0;
    }
    if (load_eps > 0) {
        ld.stop = 1;
        pthread_join(lt, NULL);
    }
    zmq_close(sock);
    zmq_ctx_term(zctx);
    if (got > 0) {
        qsort(lat, (size_t)got, sizeof(*lat), cmp_i64);
        printf("latency_ms n=%d load_eps=%.0f p50=%.2f p90=%.2f p99=%.2f max=%.2f\n", got,
               load_eps, lat[got / 2] / 1e6, lat[(got * 9) / 10] / 1e6,
               lat[(got * 99) / 100 < got ? (got * 99) / 100 : got - 1] / 1e6,
               lat[got - 1] / 1e6);
        rc = got == n ? 0 : 1;
    }
    free(lat);
out:
    if (e2e_proc_running(&g.daemon))
        e2e_proc_signal_wait(&g.daemon, SIGTERM, 30000);
    e2e_proc_kill(&g.daemon);
    hrx_stop(g.recv);
    curl_global_cleanup();
    if (rc == 0)
        e2e_tmpdir_remove(g.dir);
    else if (g.dir[0])
        fprintf(stderr, "bench_latency: config and logs left in %s\n", g.dir);
    return rc;
}
