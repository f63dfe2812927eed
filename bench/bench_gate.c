/* bench_gate — the send gate's answers per second and latency, over HTTP
 * (GET /v1/gate, keep-alive) and the Postfix policy protocol (a persistent
 * connection per client, as smtpd keeps one), against the real daemon with
 * one pause in force (acme -> gmail.com), while (--ingest, default on)
 * another thread pushes events at full speed into the same daemon.
 *
 * Each of --clients threads asks in a closed loop for --seconds, half its
 * questions for the paused domain, half for an allowed one; every answer is
 * checked (a wrong decision aborts the bench). Latency is per request, from
 * the write to the whole answer read.
 *
 * Prints, per interface:
 *   bench_gate interface=http|policy clients=… ingest=on|off answers=…
 *     answers_per_s=… p50_us=… p99_us=… max_us=… ingest_events_per_s=…
 */
#include <poll.h>
#include <pthread.h>
#include <zmq.h>

#include "bench_common.h"

#define RULES                                                                            \
    "rules:\n  - name: bounce_rate\n    kind: ratio\n    scopes: [recipient_domain]\n"   \
    "    numerator: [bounce_hard]\n    denominator: [sent]\n    window: 5m\n"            \
    "    min_volume: 10\n    warning: 10%\n    critical: 20%\n"                          \
    "    gate: {action: pause, severity: critical}\n"

static int seconds = 3, clients = 2, no_ingest = 0;
static int policy_port, http_port;
static volatile int stop_flag;
static void *zctx;
static const char *endpoint;

struct client {
    pthread_t t;
    int id;
    size_t n, cap;
    double *lat_us;
    int wrong;
};

static void lat_add(struct client *c, double us)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 65536;
        c->lat_us = realloc(c->lat_us, c->cap * sizeof(*c->lat_us));
        if (!c->lat_us)
            exit(1);
    }
    c->lat_us[c->n++] = us;
}

struct body {
    char b[4096];
    size_t len;
};

static size_t curl_sink(char *p, size_t sz, size_t n, void *arg)
{
    struct body *o = arg;
    size_t k = sz * n;
    if (o->len + k < sizeof(o->b)) {
        memcpy(o->b + o->len, p, k);
        o->len += k;
        o->b[o->len] = '\0';
    }
    return k;
}

static void *http_client(void *arg)
{
    struct client *c = arg;
    struct body body;
    char url[2][256];
    for (int k = 0; k < 2; k++)
        snprintf(url[k], sizeof(url[k]),
                 "http://127.0.0.1:%d/v1/gate?tenant=acme&mailbox=news@acme.example"
                 "&recipient_domain=%s", http_port, k ? "yahoo.com" : "gmail.com");
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, curl_sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
    for (unsigned i = 0; !stop_flag; i++) {
        body.len = 0;
        body.b[0] = '\0';
        curl_easy_setopt(h, CURLOPT_URL, url[i & 1]);
        int64_t t0 = mp_mono_ns();
        long st = 0;
        if (curl_easy_perform(h) == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
        lat_add(c, (double)(mp_mono_ns() - t0) / 1e3);
        const char *want = i & 1 ? "\"decision\":\"allow\"" : "\"decision\":\"pause\"";
        c->wrong += st != 200 || !strstr(body.b, want);
    }
    curl_easy_cleanup(h);
    return NULL;
}

static void *policy_client(void *arg)
{
    struct client *c = arg;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)policy_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        c->wrong++;
        return NULL;
    }
    char req[2][512], buf[2048];
    int len[2];
    for (int k = 0; k < 2; k++)
        len[k] = snprintf(req[k], sizeof(req[k]),
                          "request=smtpd_access_policy\nprotocol_state=RCPT\n"
                          "client_address=127.0.0.1\nsender=news@acme.example\n"
                          "recipient=bob@%s\n\n", k ? "yahoo.com" : "gmail.com");
    for (unsigned i = 0; !stop_flag; i++) {
        int64_t t0 = mp_mono_ns();
        size_t got = 0;
        if (write(fd, req[i & 1], (size_t)len[i & 1]) != len[i & 1])
            break;
        buf[0] = '\0';
        while (!strstr(buf, "\n\n")) {
            ssize_t r = read(fd, buf + got, sizeof(buf) - 1 - got);
            if (r <= 0)
                goto out;
            got += (size_t)r;
            buf[got] = '\0';
        }
        lat_add(c, (double)(mp_mono_ns() - t0) / 1e3);
        c->wrong += strncmp(buf, i & 1 ? "action=DUNNO" : "action=DEFER_IF_PERMIT", 12) != 0;
    }
out:
    close(fd);
    return NULL;
}

/* Pushes pre-built frames at full speed until stop_flag; events sent. */
static uint64_t ingest_sent;
static void *ingest_main(void *arg)
{
    (void)arg;
    struct bench_model m;
    struct bench_frames fs;
    void *push = NULL;
    char err[256];
    if (bench_model_init(&m, 1000, 1.0) != 0 ||
        bench_frames_build(&m, 200, 7, mp_now_ms(), 0, &fs) != 0 ||
        e2e_push_open(zctx, endpoint, 0, &push, err, sizeof(err)) != MP_OK)
        return NULL;
    for (size_t i = 0; !stop_flag; i++) {
        const struct bench_frame *f = &fs.f[i % fs.n];
        if (e2e_send_frame(push, f->buf, f->len, NULL) == MP_OK)
            ingest_sent += BENCH_BATCH;
    }
    zmq_close(push);
    bench_frames_free(&fs);
    bench_model_free(&m);
    return NULL;
}

static int run(const char *name, void *(*fn)(void *))
{
    struct client *c = calloc((size_t)clients, sizeof(*c));
    pthread_t ing;
    stop_flag = 0;
    ingest_sent = 0;
    if (!no_ingest)
        pthread_create(&ing, NULL, ingest_main, NULL);
    int64_t t0 = mp_mono_ns();
    for (int i = 0; i < clients; i++)
        pthread_create(&c[i].t, NULL, fn, &c[i]);
    sleep((unsigned)seconds);
    stop_flag = 1;
    size_t n = 0;
    int wrong = 0;
    for (int i = 0; i < clients; i++) {
        pthread_join(c[i].t, NULL);
        n += c[i].n;
        wrong += c[i].wrong;
    }
    double el = (double)(mp_mono_ns() - t0) / 1e9;
    if (!no_ingest)
        pthread_join(ing, NULL);
    double *all = malloc((n ? n : 1) * sizeof(*all));
    size_t k = 0;
    for (int i = 0; i < clients; i++) {
        memcpy(all + k, c[i].lat_us, c[i].n * sizeof(*all));
        k += c[i].n;
        free(c[i].lat_us);
    }
    qsort(all, n, sizeof(*all), bench__cmp_double);
    printf("bench_gate interface=%s clients=%d ingest=%s answers=%zu answers_per_s=%.0f "
           "p50_us=%.0f p99_us=%.0f max_us=%.0f ingest_events_per_s=%.0f wrong=%d\n",
           name, clients, no_ingest ? "off" : "on", n, (double)n / el,
           n ? all[n / 2] : 0.0, n ? all[(size_t)((double)n * 0.99)] : 0.0,
           n ? all[n - 1] : 0.0, (double)ingest_sent / el, wrong);
    fflush(stdout);
    free(all);
    free(c);
    return wrong ? -1 : 0;
}

/* The prepared config plus the rules and the gate section. */
static int configure(struct bench_daemon *d)
{
    char rules[E2E_PATH_MAX + 32], err[256], *text = NULL, *out = NULL;
    snprintf(rules, sizeof(rules), "%s/rules.yaml", d->dir);
    policy_port = bench_free_port();
    if (policy_port < 0 || e2e_write_file(rules, RULES, err, sizeof(err)) != MP_OK ||
        e2e_read_file(d->cfg, &text, NULL) != MP_OK)
        return -1;
    int rc = asprintf(&out, "%s\nrules: \"%s\"\ngate:\n  policy_listen: 127.0.0.1:%d\n"
                            "  tenants:\n    acme: [acme.example]\n",
                      text, rules, policy_port) > 0 &&
                     e2e_write_file(d->cfg, out, err, sizeof(err)) == MP_OK
                 ? 0
                 : -1;
    free(text);
    free(out);
    return rc;
}

/* Crosses the gated rule for acme -> gmail.com and waits for the pause. */
static int pause_gmail(void)
{
    void *push;
    char err[256], *body = NULL;
    if (e2e_push_open(zctx, endpoint, 1000, &push, err, sizeof(err)) != MP_OK)
        return -1;
    e2e_send_events(push, "acme", "news@acme.example", "gmail.com", ENG_SENT, 100, mp_now_ms());
    e2e_send_events(push, "acme", "news@acme.example", "gmail.com", ENG_BOUNCE_HARD, 30,
                    mp_now_ms());
    zmq_close(push);
    for (int i = 0; i < 500; i++) {
        bench_http_get(http_port, "/v1/gate?tenant=acme&recipient_domain=gmail.com", 1000, &body);
        int paused = body && strstr(body, "\"pause\"");
        free(body);
        if (paused)
            return 0;
        usleep(20000);
    }
    return -1;
}

int main(int argc, char **argv)
{
    const struct bench_opt o[] = {{"seconds", 's', BENCH_OPT_INT, &seconds},
                                  {"clients", 'c', BENCH_OPT_INT, &clients},
                                  {"no-ingest", 0, BENCH_OPT_FLAG, &no_ingest}};
    int st = bench_opts(argc, argv, o, MP_ARRAY_LEN(o),
                        "usage: bench_gate [--seconds N] [--clients N] [--no-ingest]\n");
    if (st >= 0)
        return st;
    if (seconds < 1 || clients < 1 || clients > 64)
        return 2;
    struct bench_daemon d;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    zctx = zmq_ctx_new();
    if (bench_daemon_prepare(&d, 2, 1u << 20, "warn") != 0 || configure(&d) != 0 ||
        bench_daemon_exec(&d) != 0 || bench_daemon_wait_healthy(&d, 20, 10000) != 0) {
        fprintf(stderr, "bench_gate: the daemon did not start (logs in %s)\n", d.dir);
        return 1;
    }
    http_port = d.http_port;
    endpoint = d.endpoint;
    int rc = pause_gmail();
    if (rc != 0)
        fprintf(stderr, "bench_gate: no pause within 10 s\n");
    if (rc == 0)
        rc = run("http", http_client);
    if (rc == 0)
        rc = run("policy", policy_client);
    bench_daemon_stop(&d);
    bench_daemon_cleanup(&d, rc != 0);
    zmq_ctx_term(zctx);
    curl_global_cleanup();
    return rc ? 1 : 0;
}
