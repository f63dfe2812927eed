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
#include <getopt.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "mailpulse.pb-c.h"
#include "mp.h"

#define MAX_N 10000

struct recv_state {
    pthread_mutex_t lock;
    int64_t got_ns[MAX_N]; /* receipt time per tenant index, 0 = not yet */
    int requests;
};

struct req {
    char *buf;
    size_t len;
};

static enum MHD_Result on_req(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **con_cls)
{
    struct recv_state *st = cls;
    struct req *r = *con_cls;
    if (!r) {
        *con_cls = calloc(1, sizeof(struct req));
        return *con_cls ? MHD_YES : MHD_NO;
    }
    if (*size) {
        char *nb = realloc(r->buf, r->len + *size + 1);
        if (!nb)
            return MHD_NO;
        memcpy(nb + r->len, data, *size);
        r->buf = nb;
        r->len += *size;
        r->buf[r->len] = '\0';
        *size = 0;
        return MHD_YES;
    }
    int64_t now = mp_mono_ns();
    json_t *j = r->buf ? json_loads(r->buf, 0, NULL) : NULL;
    const char *tenant =
        json_string_value(json_object_get(json_object_get(j, "groupLabels"), "tenant"));
    int idx;
    if (tenant && sscanf(tenant, "lat-%d", &idx) == 1 && idx >= 0 && idx < MAX_N) {
        pthread_mutex_lock(&st->lock);
        if (!st->got_ns[idx])
            st->got_ns[idx] = now;
        st->requests++;
        pthread_mutex_unlock(&st->lock);
    }
    json_decref(j);
    free(r->buf);
    free(r);
    *con_cls = NULL;
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof(a);
    bind(s, (struct sockaddr *)&a, sizeof(a));
    getsockname(s, (struct sockaddr *)&a, &l);
    close(s);
    return ntohs(a.sin_port);
}

static void send_batch(void *sock, const char *tenant, int type, int count, int64_t now)
{
    Mailpulse__V1__Event *evs = calloc((size_t)count, sizeof(*evs));
    Mailpulse__V1__Event **pe = calloc((size_t)count, sizeof(*pe));
    for (int i = 0; i < count; i++) {
        mailpulse__v1__event__init(&evs[i]);
        evs[i].tenant = (char *)tenant;
        evs[i].mailbox = (char *)"sales@bench.example";
        evs[i].recipient_domain = (char *)"gmail.com";
        evs[i].type = (Mailpulse__V1__EventType)type;
        evs[i].time_ms = now;
        pe[i] = &evs[i];
    }
    Mailpulse__V1__EventBatch b = MAILPULSE__V1__EVENT_BATCH__INIT;
    b.n_events = (size_t)count;
    b.events = pe;
    size_t len = mailpulse__v1__event_batch__get_packed_size(&b);
    uint8_t *buf = malloc(len);
    mailpulse__v1__event_batch__pack(&b, buf);
    zmq_send(sock, buf, len, 0);
    free(buf);
    free(pe);
    free(evs);
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

static size_t discard(char *p, size_t sz, size_t n, void *u)
{
    (void)p;
    (void)u;
    return sz * n;
}

static int wait_healthy(int port)
{
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", port);
    for (int i = 0; i < 100; i++) {
        CURL *c = curl_easy_init();
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 200L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        long code = 0;
        if (curl_easy_perform(c) == CURLE_OK)
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_cleanup(c);
        if (code == 200)
            return 0;
        usleep(100 * 1000);
    }
    return -1;
}

int main(int argc, char **argv)
{
    int n = 200;
    double load_eps = 0;
    static const struct option opts[] = {{"n", required_argument, NULL, 'n'},
                                         {"load", required_argument, NULL, 'l'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "n:l:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'n': n = atoi(optarg); break;
        case 'l': load_eps = atof(optarg); break;
        case 'h':
            printf("usage: bench_latency [--n CROSSINGS] [--load EVENTS_PER_SEC]\n");
            return 0;
        default: return 2;
        }
    }
    if (n < 1 || n > MAX_N || load_eps < 0) {
        fprintf(stderr, "bench_latency: --n must be 1..%d, --load >= 0\n", MAX_N);
        return 2;
    }
    const char *bindir = getenv("MP_BIN_DIR") ? getenv("MP_BIN_DIR") : "bin";
    char dir[] = "/tmp/mp-bench-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    int zport = free_port(), hport = free_port(), rport = free_port();
    char cfg[256], endpoint[64], log[256];
    snprintf(cfg, sizeof(cfg), "%s/mailpulse.yaml", dir);
    snprintf(log, sizeof(log), "%s/mailpulsed.log", dir);
    snprintf(endpoint, sizeof(endpoint), "tcp://127.0.0.1:%d", zport);
    FILE *f = fopen(cfg, "w");
    fprintf(f,
            "data_dir: ./data\nlog_level: warn\ningest:\n  pull: %s\n  workers: 2\n"
            "http:\n  listen: 127.0.0.1:%d\nreceivers:\n  - name: bench\n    type: webhook\n"
            "    url: http://127.0.0.1:%d/hook\n    secret: bench\nroutes:\n  default: [bench]\n",
            endpoint, hport, rport);
    fclose(f);

    static struct recv_state st = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)rport),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct MHD_Daemon *mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
                                              on_req, &st, MHD_OPTION_SOCK_ADDR, &sa,
                                              MHD_OPTION_END);
    if (!mhd) {
        fprintf(stderr, "bench_latency: cannot start receiver\n");
        return 1;
    }
    char daemon_path[512];
    snprintf(daemon_path, sizeof(daemon_path), "%s/mailpulsed", bindir);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *lf = freopen(log, "w", stderr);
        (void)lf;
        execl(daemon_path, daemon_path, "-c", cfg, (char *)NULL);
        _exit(127);
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = 1;
    if (wait_healthy(hport) != 0) {
        fprintf(stderr, "bench_latency: daemon did not become healthy; see %s\n", log);
        goto out;
    }
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
        int64_t deadline = t0 + 3000000000LL, t1 = 0;
        while (mp_mono_ns() < deadline) {
            pthread_mutex_lock(&st.lock);
            t1 = st.got_ns[i];
            pthread_mutex_unlock(&st.lock);
            if (t1)
                break;
            usleep(200);
        }
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
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    MHD_stop_daemon(mhd);
    curl_global_cleanup();
    if (rc == 0) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_latency: could not remove %s\n", dir);
    }
    return rc;
}
