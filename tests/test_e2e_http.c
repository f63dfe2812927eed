/* test_e2e_http.c — Check suite "e2e_http": the real mailpulsed's HTTP
 * server stays up under connection floods (issue 9, probe finding 5).
 *
 * Each case measures every /healthz request (a new connection from
 * 127.0.0.1 each time, through the CLI's API client) while the flood lasts
 * and asserts that every one answered 200 within HEALTHZ_LIVE_MS (the
 * daemon before issue 9 failed them outright, or took seconds) and that the
 * median took under HEALTHZ_MAX_MS (the 100 ms). The slowest single
 * request is printed, not asserted: on a shared 2-core machine one request
 * can lose a scheduling quantum to the flood, which is noise, not a stall:
 *   idle_flood     2,000 idle TCP connections, 100 from each of 127.0.0.2
 *                  .. 127.0.0.21 (under the per-address limit, so every one
 *                  is held: afterwards each of them still gets a 200 for its
 *                  own /healthz);
 *   slowloris      200 connections (127.0.0.30, 127.0.0.31) that send a
 *                  request line and then one header line a second: the
 *                  daemon cuts each once http.header_timeout (3s) has passed
 *                  since it began, though none was ever idle for long;
 *   heavy_queries  20 clients asking, over and over, for a tenant's 20,000
 *                  mailboxes (?by=mailbox&limit=10000).
 * The figures are printed ("healthz_p50_ms=... healthz_max_ms=...").
 *
 * Loopback clients share 127.0.0.1, so the floods come from other addresses
 * of 127.0.0.0/8 (all loopback on Linux): the per-address limit then does
 * not stand between the probe and the daemon, and the flood is really held.
 * The test raises its own RLIMIT_NOFILE soft limit; mailpulsed raises its
 * own. Every socket is closed before a case ends.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "cli_api.h"
#include "e2e_suite.h"
#include "mp_http.h"

#define HEALTHZ_MAX_MS 100   /* the median's bound */
#define HEALTHZ_LIVE_MS 1000 /* every request's bound */
#define PROBE_MAX 512
#define IDLE_CONNS 2000
#define PER_ADDR 100 /* under http.max_connections_per_ip's default 128 */
#define LORIS_CONNS 200
#define LORIS_RUN_MS 6000
#define HEADER_TIMEOUT_MS 3000
/* idle_flood's: its connections wait, idle, while the 2,000 are dialled
 * and 30 probes run, which on a loaded machine took over 3 s and had the
 * daemon rightly cut some (CI saw 1,872 of 2,000 answer); the cut itself
 * is slowloris's case. */
#define FLOOD_HEADER_TIMEOUT_MS 60000
#define HEAVY_CLIENTS 20
#define HEAVY_MAILBOXES 20000
#define HEAVY_RUN_MS 4000
#define HEAVY_QUERY_TIMEOUT_MS 60000

enum { T_SENT = 1 };

static int64_t now_ms(void)
{
    return mp_mono_ns() / 1000000;
}

/* The soft limit up to the hard one, and the hard one up to `need` when we
 * may (CAP_SYS_RESOURCE, which not every root has): a flood needs
 * thousands of fds. The daemon inherits what is set here. Returns the soft
 * limit now in force. */
static rlim_t raise_nofile(rlim_t need)
{
    struct rlimit rl;
    must(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit");
    if (rl.rlim_max < need) {
        struct rlimit up = {need, need};
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            rl = up;
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        must(setrlimit(RLIMIT_NOFILE, &rl) == 0, "setrlimit");
    }
    return rl.rlim_cur;
}

/* Starts the daemon with http.header_timeout at header_ms. */
static void start_daemon(int header_ms)
{
    char text[4096];
    snprintf(text, sizeof(text),
             "data_dir: \"%s\"\n"
             "ingest: {pull: \"%s\", workers: 2}\n"
             "http:\n"
             "  listen: \"%s\"\n"
             "  header_timeout: %dms\n",
             W.data, W.pull, W.http, header_ms);
    EW_MUST_OK(&W, e2e_write_file(W.cfg, text, W.err, sizeof(W.err)));
    ew_spawn_daemon(&W);
}

/* A connection to the daemon's HTTP port from 127.0.0.<host>. */
static int dial_from(unsigned host)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    must(fd >= 0, "socket: %s", strerror(errno));
    struct sockaddr_in src = {.sin_family = AF_INET};
    src.sin_addr.s_addr = htonl(0x7f000000u | host);
    must(bind(fd, (struct sockaddr *)&src, sizeof(src)) == 0, "bind 127.0.0.%u: %s", host,
         strerror(errno));
    struct sockaddr_in dst = {.sin_family = AF_INET};
    dst.sin_port = htons((uint16_t)atoi(strrchr(W.http, ':') + 1));
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    must(connect(fd, (struct sockaddr *)&dst, sizeof(dst)) == 0, "connect from 127.0.0.%u: %s",
         host, strerror(errno));
    return fd;
}

/* /healthz latencies: each one (up to PROBE_MAX), the slowest, how many. */
struct probe {
    int64_t ms[PROBE_MAX];
    int64_t max_ms;
    int n;
};

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* One /healthz: must be 200; its time goes into p. */
static void probe_once(struct probe *p)
{
    char err[256] = "";
    long status = 0;
    char *body = NULL;
    int64_t t0 = now_ms();
    int rc = cli_api_get(W.healthz, 5000, &status, &body, err, sizeof(err));
    int64_t took = now_ms() - t0;
    free(body);
    must(rc == MP_OK && status == 200, "/healthz: rc %d status %ld: %s (after %lld ms; daemon %s)",
         rc, status, err, (long long)took, e2e_proc_running(&W.daemon) ? "running" : "exited");
    must(took < HEALTHZ_LIVE_MS, "/healthz took %lld ms (request %d), limit %d ms",
         (long long)took, p->n, HEALTHZ_LIVE_MS);
    if (took > p->max_ms)
        p->max_ms = took;
    if (p->n < PROBE_MAX)
        p->ms[p->n] = took;
    p->n++;
}

/* The case's verdict on /healthz, then a clean stop. */
static void probe_report(const char *flood, struct probe *p)
{
    int n = p->n < PROBE_MAX ? p->n : PROBE_MAX;
    must(n > 0, "%s: no /healthz was asked", flood);
    qsort(p->ms, (size_t)n, sizeof(p->ms[0]), cmp_i64);
    int64_t p50 = p->ms[n / 2], p90 = p->ms[(n * 9) / 10];
    printf("e2e_http %s: healthz_p50_ms=%lld healthz_p90_ms=%lld healthz_max_ms=%lld over %d "
           "requests\n",
           flood, (long long)p50, (long long)p90, (long long)p->max_ms, p->n);
    fflush(stdout);
    must(p50 < HEALTHZ_MAX_MS, "%s: median /healthz %lld ms (of %d), limit %d ms", flood,
         (long long)p50, p->n, HEALTHZ_MAX_MS);
    ew_pass(&W);
}

/* Reads the start of an answer until its status line is whole (a response
 * may come in more than one segment), until `until` (mp_mono_ns) at most.
 * The bytes read (the line cut at CR, NUL-terminated in buf), or -1 when
 * nothing came in time. */
static int status_line(int fd, char *buf, size_t cap, int64_t until)
{
    size_t n = 0;
    while (n + 1 < cap && !memchr(buf, '\r', n)) {
        int64_t left = (until - mp_mono_ns()) / 1000000;
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&pf, 1, (int)left) != 1)
            return n ? (int)n : -1;
        ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    char *cr = strchr(buf, '\r');
    if (cr)
        *cr = '\0';
    return (int)n;
}

START_TEST(idle_flood)
{
    /* A machine whose hard open-files limit cannot hold the whole flood
     * (in this process, and in the daemon, which keeps MP_HTTP_FD_RESERVE
     * for itself) gets the largest flood it can hold, said out loud. */
    rlim_t lim = raise_nofile(IDLE_CONNS + 256);
    int conns = IDLE_CONNS;
    if (lim < (rlim_t)IDLE_CONNS + MP_HTTP_FD_RESERVE + 64) {
        must(lim > MP_HTTP_FD_RESERVE + 64 + PER_ADDR, "RLIMIT_NOFILE %llu: no room for a flood",
             (unsigned long long)lim);
        conns = (int)(lim - MP_HTTP_FD_RESERVE - 64);
        printf("e2e_http idle_flood: RLIMIT_NOFILE hard limit %llu holds %d connections, not %d\n",
               (unsigned long long)lim, conns, IDLE_CONNS);
    }
    start_daemon(FLOOD_HEADER_TIMEOUT_MS);
    static int fds[IDLE_CONNS];
    for (int i = 0; i < conns; i++)
        fds[i] = dial_from(2u + (unsigned)(i / PER_ADDR));
    usleep(300 * 1000);
    struct probe p = {0};
    for (int i = 0; i < 30; i++) {
        probe_once(&p);
        usleep(50 * 1000);
    }
    /* Every flood connection was held, not queued or dropped: each answers. */
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    for (int i = 0; i < conns; i++)
        must(send(fds[i], req, sizeof(req) - 1, MSG_NOSIGNAL) == (ssize_t)sizeof(req) - 1,
             "flood connection %d: send: %s", i, strerror(errno));
    int ok = 0;
    char why[256] = "";
    /* one deadline for all: this asserts that each is answered (the probes
     * above judge the speed), and a sanitizer build answers 2,000 slowly */
    int64_t until = mp_mono_ns() + 30000LL * 1000000;
    for (int i = 0; i < conns; i++) {
        char buf[64];
        int got = status_line(fds[i], buf, sizeof(buf), until);
        if (got >= 12 && strncmp(buf, "HTTP/1.1 200", 12) == 0)
            ok++;
        else if (!why[0]) /* the first failure, said: a timeout, a close or another status */
            snprintf(why, sizeof(why), "connection %d: %s", i,
                     got < 0 ? "no answer within 30 s" : got < 12 ? "closed early" : buf);
        close(fds[i]);
    }
    must(ok == conns, "%d of %d flood connections answered /healthz (first failure: %s)", ok,
         conns, why);
    probe_report("idle_flood", &p);
}
END_TEST

START_TEST(slowloris)
{
    raise_nofile(LORIS_CONNS + 256);
    start_daemon(HEADER_TIMEOUT_MS);
    static int fds[LORIS_CONNS];
    static int64_t cut_ms[LORIS_CONNS];
    int64_t t0 = now_ms();
    for (int i = 0; i < LORIS_CONNS; i++) {
        fds[i] = dial_from(30u + (unsigned)(i / PER_ADDR));
        cut_ms[i] = -1;
        must(send(fds[i], "GET /healthz HTTP/1.1\r\n", 23, MSG_NOSIGNAL) == 23, "send");
    }
    struct probe p = {0};
    int64_t next_line = t0 + 1000;
    while (now_ms() - t0 < LORIS_RUN_MS) {
        probe_once(&p);
        int64_t now = now_ms();
        for (int i = 0; i < LORIS_CONNS; i++) {
            if (cut_ms[i] >= 0)
                continue;
            char b[64];
            struct pollfd pf = {.fd = fds[i], .events = POLLIN};
            if (poll(&pf, 1, 0) == 1 && recv(fds[i], b, sizeof(b), MSG_DONTWAIT) <= 0)
                cut_ms[i] = now - t0;
            else if (now >= next_line && send(fds[i], "X-Slow: 1\r\n", 11, MSG_NOSIGNAL) < 0)
                cut_ms[i] = now - t0;
        }
        if (now >= next_line)
            next_line += 1000;
        usleep(50 * 1000);
    }
    int64_t first = -1, last = -1;
    for (int i = 0; i < LORIS_CONNS; i++) {
        close(fds[i]);
        must(cut_ms[i] >= 0, "slowloris connection %d still open after %d ms", i, LORIS_RUN_MS);
        if (first < 0 || cut_ms[i] < first)
            first = cut_ms[i];
        if (cut_ms[i] > last)
            last = cut_ms[i];
    }
    printf("e2e_http slowloris: cut between %lld and %lld ms (header_timeout %d ms)\n",
           (long long)first, (long long)last, HEADER_TIMEOUT_MS);
    must(first >= HEADER_TIMEOUT_MS - 100 && last <= HEADER_TIMEOUT_MS + 2000,
         "slowloris cut between %lld and %lld ms, header_timeout %d ms", (long long)first,
         (long long)last, HEADER_TIMEOUT_MS);
    probe_report("slowloris", &p);
}
END_TEST

struct heavy {
    pthread_t t;
    int64_t until_ms;
    int asked, failed;
    char why[512]; /* the first failure */
};

static void *heavy_run(void *arg)
{
    struct heavy *h = arg;
    char url[256], err[256];
    snprintf(url, sizeof(url), "%s/v1/tenants/big/stats?by=mailbox&limit=10000", W.base);
    while (now_ms() < h->until_ms) {
        long status = 0;
        char *body = NULL;
        /* 60 s: twenty of these queue for a handful of HTTP threads, and a
         * sanitizer build on a loaded machine takes seconds for each; what
         * is bounded here is /healthz, not them */
        int rc = cli_api_get(url, HEAVY_QUERY_TIMEOUT_MS, &status, &body, err, sizeof(err));
        if (rc != MP_OK || status != 200 || !body || strlen(body) < 10000 * 10) {
            if (!h->failed++)
                snprintf(h->why, sizeof(h->why), "rc %d status %ld body %zu bytes: %s", rc,
                         status, body ? strlen(body) : 0, err);
        }
        free(body);
        h->asked++;
    }
    return NULL;
}

START_TEST(heavy_queries)
{
    start_daemon(HEADER_TIMEOUT_MS);
    static struct e2e_event ev[E2E_EVENTS_PER_FRAME];
    static char names[E2E_EVENTS_PER_FRAME][32];
    int64_t t = (int64_t)time(NULL) * 1000;
    for (int f = 0; f < HEAVY_MAILBOXES / E2E_EVENTS_PER_FRAME; f++) {
        for (int i = 0; i < E2E_EVENTS_PER_FRAME; i++) {
            snprintf(names[i], sizeof(names[i]), "m%06d@example.com", f * E2E_EVENTS_PER_FRAME + i);
            ev[i] = (struct e2e_event){"big", names[i], "example.com", T_SENT, t};
        }
        ew_send_frame(&W, ev, E2E_EVENTS_PER_FRAME, NULL);
    }
    ew_wait_metric(&W, "mailpulse_events_accepted_total", HEAVY_MAILBOXES, 20000);
    static struct heavy hv[HEAVY_CLIENTS];
    int64_t until = now_ms() + HEAVY_RUN_MS;
    for (int i = 0; i < HEAVY_CLIENTS; i++) {
        hv[i] = (struct heavy){.until_ms = until};
        must(pthread_create(&hv[i].t, NULL, heavy_run, &hv[i]) == 0, "pthread_create");
    }
    usleep(200 * 1000);
    struct probe p = {0};
    while (now_ms() < until - 200) {
        probe_once(&p);
        usleep(50 * 1000);
    }
    int asked = 0, failed = 0;
    const char *why = "";
    for (int i = 0; i < HEAVY_CLIENTS; i++) {
        pthread_join(hv[i].t, NULL);
        asked += hv[i].asked;
        failed += hv[i].failed;
        if (hv[i].failed && !*why)
            why = hv[i].why;
    }
    printf("e2e_http heavy_queries: %d heavy queries, %d failed\n", asked, failed);
    must(failed == 0 && asked >= HEAVY_CLIENTS, "%d of %d heavy queries failed (first: %s)",
         failed, asked, why);
    probe_report("heavy_queries", &p);
}
END_TEST

static void http_setup(void)
{
    ew_setup(&W, "e2e-http");
}

static void http_teardown(void)
{
    ew_teardown(&W);
}

Suite *test_suite(void)
{
    const struct ew_case flood_cases[] = {
        {idle_flood, 0},
        {slowloris, 0},
        {heavy_queries, 0},
    };
    return ew_suite("e2e_http", 150, http_setup, http_teardown, flood_cases,
                    MP_ARRAY_LEN(flood_cases));
}
