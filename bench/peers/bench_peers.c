/* bench_peers — the crossing of bench_latency, through Prometheus + Alertmanager.
 *
 * The home-grown alternative to mailpulse: an exporter with a counter per
 * tenant and event type, Prometheus scraping it and evaluating a bounce-rate
 * alerting rule, Alertmanager posting the alert to a webhook. Everything runs
 * on loopback, from a temporary directory:
 *
 *   - this process serves `mail_events_total{tenant,type}` on a free port
 *     (libmicrohttpd), and the webhook on another;
 *   - Debian's `prometheus` and `prometheus-alertmanager` binaries are started
 *     directly (not the system services) with their own config and data
 *     directories, free ports, clustering off, and are stopped at the end
 *     (they also die with this process: PR_SET_PDEATHSIG);
 *   - Prometheus: scrape_interval 1s, evaluation_interval 1s, the rule
 *     bounce_rate (hard * 50 >= sent over increase(...[1h]), at least 100
 *     sent, for: 0s). See rules_yml below for why not hard / sent >= 0.02;
 *   - Alertmanager: group_by [alertname, tenant], group_wait 0s,
 *     group_interval 1s, repeat_interval 1h, one webhook receiver.
 *
 * Every crossing tenant "peer-I" (I < N) is exported from the start with
 * sent 0 and bounce_hard 0 (increase() cannot see a counter's first value,
 * so a counter must exist at 0 before it counts; client libraries say to
 * initialise labelled counters for this reason). For each I in turn:
 *   1. sent := 100; wait until Prometheus's query API returns 100 for it
 *      (the scrape is ingested);
 *   2. wait a uniformly random 0–1000 ms, so the crossing lands at a random
 *      phase of the 1 s scrape and evaluation cycles;
 *   3. t0 = CLOCK_MONOTONIC, then bounce_hard := 2 (exactly 2 %, as
 *      bench_latency sends 2 of 100);
 *   4. t1 = the moment the webhook has the whole request for peer-I.
 * Optionally (--bg-tenants, default 1000) background tenants' counters grow
 * at --bg-eps events/s in all (0.1 % hard bounces, never crossing), so the
 * rule evaluates over as many tenants as bench_latency's background load
 * touches.
 *
 * Prints:  peers_latency_ms n=N p50=… p90=… p99=… max=…
 * and a breakdown (medians): change → first scrape serving it, that scrape →
 * the rule evaluation that fired (the alert's startsAt), evaluation → webhook.
 */
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <sys/prctl.h>

#include "../bench_common.h"
#include "../../tests/http_receiver.h" /* bench/ sees no -Itests: the path says where */
#include "mp_buf.h"

#define MAX_N 2000
#define MAX_BG 100000

struct state {
    pthread_mutex_t lock;
    int n;                 /* crossing tenants peer-0 .. peer-(n-1) */
    uint64_t sent[MAX_N];
    uint64_t hard[MAX_N];
    int64_t hard_scraped_ns[MAX_N]; /* first scrape that served hard > 0, 0 = not yet */
    int64_t got_ns[MAX_N];          /* webhook receipt, 0 = not yet */
    int64_t starts_at_ns[MAX_N];    /* the alert's startsAt (wall ns) */
    int bg_tenants;
    double bg_eps;
    int64_t bg_start_ns;
    int64_t scrapes;
    int64_t last_scrape_wall_ns;
    int requests;
};

static struct state st = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- the exporter ------------------------------------------------------- */

static enum MHD_Result on_metrics(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
    (void)cls;
    (void)version;
    (void)data;
    (void)size;
    (void)con_cls;
    if (strcmp(method, "GET") != 0 || strcmp(url, "/metrics") != 0) {
        struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        enum MHD_Result ret = MHD_queue_response(c, 404, r);
        MHD_destroy_response(r);
        return ret;
    }
    struct mp_buf b = MP_BUF_INIT;
    mp_buf_printf(&b, "# HELP mail_events_total Email delivery events by tenant and type.\n"
                "# TYPE mail_events_total counter\n");
    int64_t now = mp_mono_ns();
    pthread_mutex_lock(&st.lock);
    st.scrapes++;
    st.last_scrape_wall_ns = wall_ns();
    for (int i = 0; i < st.n; i++) {
        mp_buf_printf(&b, "mail_events_total{tenant=\"peer-%d\",type=\"sent\"} %llu\n", i,
                (unsigned long long)st.sent[i]);
        mp_buf_printf(&b, "mail_events_total{tenant=\"peer-%d\",type=\"bounce_hard\"} %llu\n", i,
                (unsigned long long)st.hard[i]);
        if (st.hard[i] && !st.hard_scraped_ns[i])
            st.hard_scraped_ns[i] = now;
    }
    if (st.bg_tenants > 0) {
        /* bg events so far, spread evenly; 1 in 1000 is a hard bounce */
        double per = st.bg_eps * (double)(now - st.bg_start_ns) / 1e9 / st.bg_tenants;
        for (int t = 0; t < st.bg_tenants; t++) {
            double v = per * (1.0 + (t % 7) * 1e-3);
            mp_buf_printf(&b, "mail_events_total{tenant=\"bg-%d\",type=\"sent\"} %.0f\n", t, v);
            mp_buf_printf(&b, "mail_events_total{tenant=\"bg-%d\",type=\"bounce_hard\"} %.0f\n", t,
                    v / 1000);
        }
    }
    pthread_mutex_unlock(&st.lock);
    size_t len = b.len;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, mp_buf_take(&b), MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4");
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- the webhook -------------------------------------------------------- */

/* RFC 3339 with fraction, UTC ("2026-11-22T19:20:01.123456789Z") -> wall ns. */
static int64_t parse_rfc3339(const char *s)
{
    struct tm tm = {0};
    int frac_start = 0;
    if (!s || sscanf(s, "%d-%d-%dT%d:%d:%d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                     &tm.tm_min, &tm.tm_sec, &frac_start) != 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    int64_t ns = (int64_t)timegm(&tm) * 1000000000LL;
    const char *p = s + frac_start;
    if (*p == '.') {
        int64_t scale = 100000000LL;
        for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
            ns += (*p - '0') * scale;
    }
    return *p == 'Z' ? ns : 0; /* Prometheus sends UTC */
}

/* The receiver's hook: the first "firing" request per tenant "peer-N"
 * stamps the time its body was complete, and the alert's startsAt. */
static void on_hook(void *arg, const struct hrx_req *r)
{
    (void)arg;
    json_t *j = json_loadb(r->body, r->len, 0, NULL);
    const char *status = json_string_value(json_object_get(j, "status"));
    const char *tenant =
        json_string_value(json_object_get(json_object_get(j, "groupLabels"), "tenant"));
    json_t *a0 = json_array_get(json_object_get(j, "alerts"), 0);
    int64_t starts = parse_rfc3339(json_string_value(json_object_get(a0, "startsAt")));
    int idx;
    pthread_mutex_lock(&st.lock);
    st.requests++;
    if (status && strcmp(status, "firing") == 0 && tenant &&
        sscanf(tenant, "peer-%d", &idx) == 1 && idx >= 0 && idx < st.n && !st.got_ns[idx]) {
        st.got_ns[idx] = r->mono_ns;
        st.starts_at_ns[idx] = starts;
    }
    pthread_mutex_unlock(&st.lock);
    json_decref(j);
}

/* ---- the peers ---------------------------------------------------------- */

static struct MHD_Daemon *serve(int port, MHD_AccessHandlerCallback cb)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, cb, NULL,
                            MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
}

/* A peer's command line: --config.file=<dir>/<name>.yml, its storage flag
 * (a format taking dir), --web.listen-address=127.0.0.1:<port>, `extra`
 * (NULL: none) and --log.level=warn; its stderr goes to <dir>/<name>.log. */
struct peer {
    char cfg[E2E_PATH_MAX + 64], store[E2E_PATH_MAX + 64], web[64], log[E2E_PATH_MAX + 64];
    char *argv[8];
    pid_t pid;
};

static void peer_args(struct peer *p, const char *bin, const char *dir, const char *name,
                      const char *store_fmt, int port, const char *extra)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->cfg, sizeof(p->cfg), "--config.file=%s/%s.yml", dir, name);
    snprintf(p->store, sizeof(p->store), store_fmt, dir);
    snprintf(p->web, sizeof(p->web), "--web.listen-address=127.0.0.1:%d", port);
    snprintf(p->log, sizeof(p->log), "%s/%s.log", dir, name);
    size_t n = 0;
    p->argv[n++] = (char *)bin;
    p->argv[n++] = p->cfg;
    p->argv[n++] = p->store;
    p->argv[n++] = p->web;
    if (extra)
        p->argv[n++] = (char *)extra;
    p->argv[n++] = (char *)"--log.level=warn";
    p->argv[n] = NULL;
}

static pid_t spawn(const char *log, char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (!freopen(log, "w", stderr) || !freopen("/dev/null", "w", stdout))
            _exit(126);
        execvp(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

static void stop(pid_t pid, const char *name)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 100; i++) { /* 10 s */
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        usleep(100 * 1000);
    }
    fprintf(stderr, "bench_peers: %s did not stop on SIGTERM in 10 s; killing\n", name);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static int wait_200(int port, const char *path, int seconds)
{
    for (int i = 0; i < seconds * 10; i++) {
        if (bench_http_get(port, path, 500, NULL) == 200)
            return 0;
        usleep(100 * 1000);
    }
    return -1;
}

/* GET path from Prometheus: its JSON answer's "data" member (a new
 * reference), or NULL. */
static json_t *prom_data(int port, const char *path)
{
    char *body = NULL;
    json_t *data = NULL;
    if (bench_http_get(port, path, 2000, &body) == 200 && body) {
        json_t *j = json_loads(body, 0, NULL);
        data = json_incref(json_object_get(j, "data"));
        json_decref(j);
    }
    free(body);
    return data;
}

/* The value of an instant query's first sample; NAN when none. */
static double prom_query(int port, const char *q)
{
    CURL *c = curl_easy_init();
    char *e = curl_easy_escape(c, q, 0);
    char path[400];
    snprintf(path, sizeof(path), "/api/v1/query?query=%s", e);
    curl_free(e);
    curl_easy_cleanup(c);
    json_t *d = prom_data(port, path);
    json_t *r0 = json_array_get(json_object_get(d, "result"), 0);
    const char *s = json_string_value(json_array_get(json_object_get(r0, "value"), 1));
    double v = s ? strtod(s, NULL) : NAN;
    json_decref(d);
    return v;
}

/* Active Alertmanagers known to Prometheus's notifier. */
static int prom_alertmanagers(int port)
{
    json_t *d = prom_data(port, "/api/v1/alertmanagers");
    int n = (int)json_array_size(json_object_get(d, "activeAlertmanagers"));
    json_decref(d);
    return n;
}

/* The rule group's last evaluation (wall ns), from /api/v1/rules; 0 if unknown. */
static int64_t prom_last_eval(int port)
{
    json_t *d = prom_data(port, "/api/v1/rules");
    json_t *g0 = json_array_get(json_object_get(d, "groups"), 0);
    int64_t t = parse_rfc3339(json_string_value(json_object_get(g0, "lastEvaluation")));
    json_decref(d);
    return t;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_ms(int64_t *v, int n, int pct)
{
    int i = (n * pct) / 100;
    return v[i < n ? i : n - 1] / 1e6;
}

static const char prom_yml[] =
    "global:\n"
    "  scrape_interval: 1s\n"
    "  scrape_timeout: 1s\n"
    "  evaluation_interval: 1s\n"
    "rule_files: [rules.yml]\n"
    "alerting:\n"
    "  alertmanagers:\n"
    "    - static_configs:\n"
    "        - targets: ['127.0.0.1:%d']\n"
    "scrape_configs:\n"
    "  - job_name: peer\n"
    "    static_configs:\n"
    "      - targets: ['127.0.0.1:%d']\n";

/* hard / sent >= 2 %, written as hard * 50 >= sent. increase() extrapolates
 * both counters of a tenant by the same floating-point factor F, which
 * changes at every evaluation, and (2F) / (100F) >= 0.02 is false for about
 * 8 % of factors (rounding; simulated), so with the ratio form an exact
 * 2-in-100 crossing sometimes fires one evaluation (1 s) late: 40 crossings
 * with the ratio form had a scrape-to-firing maximum of 1669 ms against a
 * 669 ms phase. 2F * 50 equals the rounded 100F exactly. The `and` keeps
 * 0 * 50 >= 0 from firing before anything is sent and requires 100 sent, as
 * mailpulse's rule does. */
static const char rules_yml[] =
    "groups:\n"
    "  - name: mailpulse_peer\n"
    "    rules:\n"
    "      - alert: bounce_rate\n"
    "        expr: |\n"
    "          sum by (tenant) (increase(mail_events_total{type=\"bounce_hard\"}[1h])) * 50\n"
    "            >= sum by (tenant) (increase(mail_events_total{type=\"sent\"}[1h]))\n"
    "          and sum by (tenant) (increase(mail_events_total{type=\"sent\"}[1h])) >= 100\n"
    "        for: 0s\n"
    "        labels:\n"
    "          severity: warning\n";

static const char am_yml[] =
    "route:\n"
    "  receiver: harness\n"
    "  group_by: [alertname, tenant]\n"
    "  group_wait: 0s\n"
    "  group_interval: 1s\n"
    "  repeat_interval: 1h\n"
    "receivers:\n"
    "  - name: harness\n"
    "    webhook_configs:\n"
    "      - url: http://127.0.0.1:%d/hook\n"
    "        send_resolved: false\n";

int main(int argc, char **argv)
{
    int n = 100, keep = 0;
    unsigned seed = 1;
    st.bg_tenants = 1000;
    st.bg_eps = 200000;
    const char *prom_bin = getenv("PROMETHEUS") ? getenv("PROMETHEUS") : "prometheus";
    const char *am_bin =
        getenv("ALERTMANAGER") ? getenv("ALERTMANAGER") : "prometheus-alertmanager";
    const struct bench_opt opts[] = {
        {"n", 'n', BENCH_OPT_INT, &n},
        {"bg-tenants", 0, BENCH_OPT_INT, &st.bg_tenants},
        {"bg-eps", 0, BENCH_OPT_DOUBLE, &st.bg_eps},
        {"seed", 0, BENCH_OPT_U32, &seed},
        {"keep", 0, BENCH_OPT_FLAG, &keep},
    };
    int ex = bench_opts(argc, argv, opts, MP_ARRAY_LEN(opts),
                        "usage: bench_peers [--n CROSSINGS] [--bg-tenants T] [--bg-eps EPS] "
                        "[--seed S] [--keep]\n"
                        "env: PROMETHEUS, ALERTMANAGER (binaries; default prometheus, "
                        "prometheus-alertmanager)\n");
    if (ex >= 0)
        return ex;
    if (n < 1 || n > MAX_N || st.bg_tenants < 0 || st.bg_tenants > MAX_BG || st.bg_eps < 0) {
        fprintf(stderr, "bench_peers: --n 1..%d, --bg-tenants 0..%d, --bg-eps >= 0\n", MAX_N,
                MAX_BG);
        return 2;
    }
    st.n = n;
    st.bg_start_ns = mp_mono_ns();
    curl_global_init(CURL_GLOBAL_DEFAULT);

    char dir[E2E_PATH_MAX], err[E2E_ERR_MAX];
    if (e2e_tmpdir_create("peers", dir, sizeof(dir), err, sizeof(err)) != MP_OK) {
        fprintf(stderr, "bench_peers: %s\n", err);
        return 1;
    }
    int eport = bench_free_port(), hport = bench_free_port(), pport = bench_free_port(),
        aport = bench_free_port();
    if (eport < 0 || hport < 0 || pport < 0 || aport < 0) {
        fprintf(stderr, "bench_peers: no free ports\n");
        return 1;
    }
    char p[E2E_PATH_MAX + 32], text[4096];
    snprintf(text, sizeof(text), prom_yml, aport, eport);
    snprintf(p, sizeof(p), "%s/prometheus.yml", dir);
    int bad = e2e_write_file(p, text, err, sizeof(err)) != MP_OK;
    snprintf(p, sizeof(p), "%s/rules.yml", dir);
    bad |= e2e_write_file(p, rules_yml, err, sizeof(err)) != MP_OK;
    snprintf(text, sizeof(text), am_yml, hport);
    snprintf(p, sizeof(p), "%s/alertmanager.yml", dir);
    bad |= e2e_write_file(p, text, err, sizeof(err)) != MP_OK;
    if (bad) {
        fprintf(stderr, "bench_peers: cannot write configs in %s\n", dir);
        return 1;
    }

    struct MHD_Daemon *exp = serve(eport, on_metrics);
    struct hrx *hook = NULL;
    if (hrx_start((uint16_t)hport, &hook, err, sizeof(err)) == MP_OK)
        hrx_set_hook(hook, on_hook, NULL);
    if (!exp || !hook) {
        fprintf(stderr, "bench_peers: cannot start the exporter or the webhook\n");
        return 1;
    }

    struct peer am, prom;
    peer_args(&am, am_bin, dir, "alertmanager", "--storage.path=%s/am-data", aport,
              "--cluster.listen-address=");
    peer_args(&prom, prom_bin, dir, "prometheus", "--storage.tsdb.path=%s/prom-data", pport, NULL);

    int rc = 1, got = 0;
    int64_t *lat = calloc((size_t)n, sizeof(*lat)), *scr = calloc((size_t)n, sizeof(*scr)),
            *evl = calloc((size_t)n, sizeof(*evl)), *dlv = calloc((size_t)n, sizeof(*dlv));
    int nb = 0;
    am.pid = spawn(am.log, am.argv);
    prom.pid = spawn(prom.log, prom.argv);
    if (wait_200(aport, "/-/ready", 30) != 0) {
        fprintf(stderr, "bench_peers: alertmanager not ready in 30 s; see %s\n", am.log);
        goto out;
    }
    if (wait_200(pport, "/-/ready", 60) != 0) {
        fprintf(stderr, "bench_peers: prometheus not ready in 60 s; see %s\n", prom.log);
        goto out;
    }
    /* the target is up (one scrape holds every tenant at 0) and the notifier
     * knows the Alertmanager */
    int ok = 0;
    for (int i = 0; i < 300 && !ok; i++) {
        ok = prom_query(pport, "up{job=\"peer\"}") == 1 && prom_alertmanagers(pport) > 0;
        if (!ok)
            usleep(100 * 1000);
    }
    if (!ok) {
        fprintf(stderr, "bench_peers: target not up or no alertmanager in 30 s; see %s\n", prom.log);
        goto out;
    }
    sleep(2); /* a few more zero samples */
    /* wall = mono + off, for the alerts' startsAt */
    int64_t off = wall_ns() - mp_mono_ns();
    char vers[256] = "?";
    {
        char *body = NULL;
        if (bench_http_get(pport, "/api/v1/status/buildinfo", 2000, &body) == 200 && body) {
            json_t *j = json_loads(body, 0, NULL);
            const char *v = json_string_value(
                json_object_get(json_object_get(j, "data"), "version"));
            snprintf(vers, sizeof(vers), "%s", v ? v : "?");
            json_decref(j);
        }
        free(body);
    }

    for (int i = 0; i < n; i++) {
        char q[128];
        snprintf(q, sizeof(q), "mail_events_total{tenant=\"peer-%d\",type=\"sent\"}", i);
        pthread_mutex_lock(&st.lock);
        st.sent[i] = 100;
        pthread_mutex_unlock(&st.lock);
        int64_t dl = mp_mono_ns() + 10000000000LL;
        while (prom_query(pport, q) != 100 && mp_mono_ns() < dl)
            usleep(10 * 1000);
        if (mp_mono_ns() >= dl) {
            fprintf(stderr, "bench_peers: sent=100 for peer-%d not scraped in 10 s\n", i);
            continue;
        }
        usleep((useconds_t)(rand_r(&seed) % 1000000)); /* a random phase */
        pthread_mutex_lock(&st.lock);
        int64_t t0 = mp_mono_ns();
        st.hard[i] = 2; /* 2 of 100: exactly 2 % */
        pthread_mutex_unlock(&st.lock);
        int64_t t1 = bench_wait_set(&st.lock, &st.got_ns[i], t0 + 30000000000LL);
        pthread_mutex_lock(&st.lock);
        int64_t ts = st.hard_scraped_ns[i], sa = st.starts_at_ns[i];
        pthread_mutex_unlock(&st.lock);
        if (!t1) {
            fprintf(stderr, "bench_peers: no alert for peer-%d within 30 s\n", i);
            continue;
        }
        lat[got++] = t1 - t0;
        if (ts && sa) {
            int64_t sa_mono = sa - off;
            scr[nb] = ts - t0;
            evl[nb] = sa_mono - ts;
            dlv[nb] = t1 - sa_mono;
            nb++;
        }
    }
    int64_t scrape_wall, eval_wall;
    pthread_mutex_lock(&st.lock);
    scrape_wall = st.last_scrape_wall_ns;
    pthread_mutex_unlock(&st.lock);
    eval_wall = prom_last_eval(pport);

    if (got > 0) {
        qsort(lat, (size_t)got, sizeof(*lat), cmp_i64);
        printf("peers_latency_ms n=%d bg_tenants=%d bg_eps=%.0f p50=%.2f p90=%.2f p99=%.2f "
               "max=%.2f min=%.2f prometheus=%s\n",
               got, st.bg_tenants, st.bg_eps, pct_ms(lat, got, 50), pct_ms(lat, got, 90),
               pct_ms(lat, got, 99), lat[got - 1] / 1e6, lat[0] / 1e6, vers);
        if (nb > 0) {
            qsort(scr, (size_t)nb, sizeof(*scr), cmp_i64);
            qsort(evl, (size_t)nb, sizeof(*evl), cmp_i64);
            qsort(dlv, (size_t)nb, sizeof(*dlv), cmp_i64);
            /* evaluation phase: where in the 1 s cycle the rule runs after a scrape */
            long phase = -1;
            if (scrape_wall && eval_wall)
                phase = (long)((((eval_wall - scrape_wall) % 1000000000LL) + 1000000000LL) %
                               1000000000LL / 1000000);
            printf("peers_breakdown_ms n=%d change_to_scrape_p50=%.1f scrape_to_eval_p50=%.1f "
                   "scrape_to_eval_max=%.1f eval_to_webhook_p50=%.1f eval_to_webhook_max=%.1f "
                   "eval_after_scrape=%ld\n",
                   nb, pct_ms(scr, nb, 50), pct_ms(evl, nb, 50), evl[nb - 1] / 1e6,
                   pct_ms(dlv, nb, 50), dlv[nb - 1] / 1e6, phase);
        }
        fflush(stdout);
        rc = got == n ? 0 : 1;
    }
out:
    stop(prom.pid, "prometheus");
    stop(am.pid, "alertmanager");
    MHD_stop_daemon(exp);
    hrx_stop(hook);
    curl_global_cleanup();
    free(lat);
    free(scr);
    free(evl);
    free(dlv);
    if (rc == 0 && !keep) {
        e2e_tmpdir_remove(dir);
    } else {
        fprintf(stderr, "bench_peers: configs and logs kept in %s\n", dir);
    }
    return rc;
}
