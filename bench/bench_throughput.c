/* bench_throughput — end-to-end events per second on this machine, with the
 * raw ZeroMQ ceiling and a Redis HINCRBY counter measured in the same run.
 *
 * Workload: --frames pre-serialized 500-event EventBatch frames (default
 * 1000, i.e. 500,000 events) drawn from the Zipf(1.0) key model of
 * bench_common.h (20,000 tenants x 25 mailboxes x 25 domains, 1,020,000
 * possible keys), event times = when they were built. Producers cycle over
 * them; serialization is not part of any figure.
 *
 * Three parts, one after the other, each for --seconds (default 60):
 *  1. mailpulse: the real daemon ($MP_BIN_DIR/mailpulsed) on free loopback
 *     ports, `workers` ingest workers (default 2 = the cores). A forked
 *     producer process (--producers N: N of them, one connection each; the
 *     daemon pins a connection to one worker, so with one producer one
 *     worker does the work) PUSHes frames as fast as the daemon takes them
 *     (zmq_send_const: no copy) for the duration; meanwhile and afterwards
 *     this process reads mailpulse_events_accepted_total from /metrics
 *     (every 50 ms) until it stops increasing. eps = events counted by the
 *     daemon / (last increase - first send): queued frames count only once
 *     the daemon has counted them. eps_while_sending = the rate from 5 s
 *     after the first send to the producer's last send (producer and daemon
 *     sharing the two cores).
 *     The producer keeps at most --backlog events (default 2,000,000, a few
 *     seconds of work) sent but not yet counted, reading the daemon's count
 *     every 100,000 events: unbounded, the daemon's ZeroMQ queues (high-water
 *     mark 20,000 frames per pipe) take ~50M events (~3 GB) in a minute and
 *     the run becomes minutes of draining. The daemon stays saturated.
 *  2. raw ZeroMQ: the same producer into a PULL socket in another forked
 *     process that only counts frames x 500: the transport's ceiling here.
 *  3. Redis: redis-server (from $REDIS_SERVER or PATH) on a free port, no
 *     persistence; this process is a hiredis client sending, per event, the
 *     same three counters mailpulse keeps (HINCRBY t:<tenant>,
 *     m:<tenant>:<mailbox>, d:<tenant>:<domain>, field = type name), one
 *     frame's 1,500 commands per pipeline round trip, commands pre-formatted
 *     like the frames. eps = events whose three replies came back / time.
 *     (Redis keeps one running total per key; mailpulse keeps 5-minute,
 *     hourly and daily buckets.)
 *
 * Prints one line:  bench_throughput mailpulse_eps=… raw_zmq_eps=… redis_eps=… …
 */
#include <dirent.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/resource.h>
#include <zmq.h>

#include "bench_common.h"

struct prod_report {
    int64_t t_first; /* CLOCK_MONOTONIC ns, just before the first send */
    int64_t t_last;  /* after the last send returned */
    uint64_t frames;
    double cpu_s; /* the producer's user + system time */
};

struct sink_report {
    int64_t t_first, t_last;
    uint64_t frames;
    double cpu_s;
};

static double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* user + system seconds of another process, from /proc/PID/stat; -1 if gone. */
static double proc_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* "name#k=secs …" for the threads of `pid` that used CPU, k being the
 * thread's rank in creation (tid) order, 0 the main thread: the daemon's
 * threads share one name, and creation order tells them apart. */
static void proc_threads_cpu(pid_t pid, char *out, size_t len)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    struct {
        long tid;
        char name[32];
        double s;
    } th[256];
    int n = 0;
    out[0] = '\0';
    DIR *dir = opendir(path);
    for (struct dirent *e; dir && (e = readdir(dir)) && n < 256;) {
        if (e->d_name[0] == '.')
            continue;
        char sp[512], buf[1024];
        snprintf(sp, sizeof(sp), "%s/%s/stat", path, e->d_name);
        FILE *f = fopen(sp, "r");
        if (!f)
            continue;
        size_t k = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[k] = '\0';
        char *l = strchr(buf, '('), *r = strrchr(buf, ')');
        unsigned long ut = 0, st = 0;
        if (!l || !r || r - l - 1 > 31 ||
            sscanf(r + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
            continue;
        th[n].tid = atol(e->d_name);
        memcpy(th[n].name, l + 1, (size_t)(r - l - 1));
        th[n].name[r - l - 1] = '\0';
        th[n].s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
        n++;
    }
    if (dir)
        closedir(dir);
    for (int i = 1; i < n; i++) /* insertion sort by tid */
        for (int j = i; j > 0 && th[j - 1].tid > th[j].tid; j--) {
            __typeof__(th[0]) x = th[j];
            th[j] = th[j - 1];
            th[j - 1] = x;
        }
    size_t o = 0;
    for (int i = 0; i < n && o < len; i++)
        if (th[i].s >= 0.05)
            o += (size_t)snprintf(out + o, len - o, "%s%s#%d=%.1fs", o ? " " : "", th[i].name, i,
                                  th[i].s);
}

/* All n bytes through fd, read or written (EINTR retried): 0, or -1. */
static int fd_all(int fd, void *p, size_t n, int writing)
{
    char *c = p;
    while (n) {
        ssize_t k = writing ? write(fd, c, n) : read(fd, c, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

static int write_all(int fd, const void *p, size_t n) { return fd_all(fd, (void *)p, n, 1); }

static int read_all(int fd, void *p, size_t n) { return fd_all(fd, p, n, 0); }

/* How a producer paces itself: not at all (the raw ZeroMQ part), or by
 * keeping at most `backlog` events sent but not yet counted by the daemon
 * (read from its /metrics on `http_port`). */
struct pace {
    int http_port;    /* 0: no pacing */
    uint64_t backlog; /* events */
    int producers;    /* producers sharing the backlog (each assumes the others keep pace) */
};

/* Child process: PUSH frames to `endpoint` for `seconds`, then an empty
 * frame when `sentinel`, then report through `wfd`. Never returns. */
static void producer_main(const struct bench_frames *fs, const char *endpoint, double seconds,
                          int sentinel, const struct pace *pace, int wfd)
{
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_PUSH);
    int linger = -1; /* close waits until every queued frame is handed over */
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
    /* A full queue can block a send for seconds (ZeroMQ resumes a writer
     * only once the reader has drained half a high-water mark); a timeout
     * keeps the deadline honest. */
    int tmo = 100;
    zmq_setsockopt(s, ZMQ_SNDTIMEO, &tmo, sizeof(tmo));
    if (zmq_connect(s, endpoint) != 0)
        _exit(1);
    struct prod_report rep = {0};
    rep.t_first = mp_mono_ns();
    int64_t deadline = rep.t_first + (int64_t)(seconds * 1e9);
    size_t i = 0;
    /* the clock is read once per frame (500 events): negligible */
    while (mp_mono_ns() < deadline) {
        if (pace->http_port && rep.frames % 200 == 0) {
            /* every 100,000 events: wait while the daemon is too far behind */
            for (;;) {
                double acc = bench_daemon_metric(pace->http_port, "mailpulse_events_accepted_total");
                double mine = (double)rep.frames * BENCH_BATCH * (pace->producers ? pace->producers : 1);
                if (acc < 0 || mine - acc <= (double)pace->backlog ||
                    mp_mono_ns() >= deadline)
                    break;
                usleep(20 * 1000);
            }
            if (mp_mono_ns() >= deadline)
                break;
        }
        if (zmq_send_const(s, fs->f[i].buf, fs->f[i].len, 0) < 0) {
            if (zmq_errno() == EINTR || zmq_errno() == EAGAIN)
                continue; /* the same frame again, if there is time */
            _exit(1);
        }
        rep.frames++;
        i = (i + 1) % fs->n;
    }
    rep.t_last = mp_mono_ns();
    tmo = -1;
    zmq_setsockopt(s, ZMQ_SNDTIMEO, &tmo, sizeof(tmo));
    if (sentinel)
        zmq_send(s, "", 0, 0);
    zmq_close(s);
    zmq_ctx_term(ctx);
    rep.cpu_s = self_cpu_s();
    _exit(write_all(wfd, &rep, sizeof(rep)) == 0 ? 0 : 1);
}

/* pipe + fork. In the child (0 returned) *fd is the pipe's write end, in
 * the parent its read end; -1 when the pipe cannot be made. */
static pid_t fork_piped(int *fd)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        *fd = p[1];
        return 0;
    }
    close(p[1]);
    *fd = p[0];
    return pid;
}

static pid_t spawn_producer(const struct bench_frames *fs, const char *endpoint, double seconds,
                            int sentinel, const struct pace *pace, int *rfd)
{
    pid_t pid = fork_piped(rfd);
    if (pid == 0)
        producer_main(fs, endpoint, seconds, sentinel, pace, *rfd);
    return pid;
}

/* ---- 1. mailpulse --------------------------------------------------------- */

struct mp_result {
    double eps, eps_sending, secs, drain_s;
    uint64_t accepted, sent_events;
    double daemon_cpu_s, producer_cpu_s, rss_mb, keys;
    char persistence[512];
    char threads[1024]; /* the daemon's threads and their CPU time */
    double flushes, flush_s, flush_last_s, flush_entries;
};

#define BENCH_PRODUCERS_MAX 16

/* Reads the reports of producers that have sent theirs; 1 once all have,
 * with `rep` their sum (first send of any, last send of any). */
static int read_reports(int n, const int *rfd, struct prod_report *each, int *got,
                        struct prod_report *rep)
{
    struct pollfd pfd[BENCH_PRODUCERS_MAX];
    int np = 0, map[BENCH_PRODUCERS_MAX];
    for (int i = 0; i < n; i++)
        if (!got[i]) {
            pfd[np] = (struct pollfd){.fd = rfd[i], .events = POLLIN};
            map[np++] = i;
        }
    if (np && poll(pfd, (nfds_t)np, 50) > 0)
        for (int k = 0; k < np; k++)
            if (pfd[k].revents) {
                if (read_all(rfd[map[k]], &each[map[k]], sizeof(each[0])) != 0)
                    return -1;
                got[map[k]] = 1;
            }
    for (int i = 0; i < n; i++)
        if (!got[i])
            return 0;
    *rep = each[0];
    for (int i = 1; i < n; i++) {
        rep->t_first = each[i].t_first < rep->t_first ? each[i].t_first : rep->t_first;
        rep->t_last = each[i].t_last > rep->t_last ? each[i].t_last : rep->t_last;
        rep->frames += each[i].frames;
        rep->cpu_s += each[i].cpu_s;
    }
    return 1;
}

static int run_mailpulse(const struct bench_frames *fs, double seconds, int workers,
                         int producers, uint64_t backlog, struct mp_result *res)
{
    struct bench_daemon d;
    memset(res, 0, sizeof(*res));
    if (bench_daemon_prepare(&d, workers, 2097152, "info") != 0 || bench_daemon_exec(&d) != 0 ||
        bench_daemon_wait_healthy(&d, 50, 20000) != 0) {
        fprintf(stderr, "bench_throughput: daemon did not start; see %s\n", d.log);
        bench_daemon_cleanup(&d, 1);
        return -1;
    }
    bench_daemon_persistence(&d, res->persistence, sizeof(res->persistence));
    bench_unquote(res->persistence);
    double cpu0 = proc_cpu_s(d.proc.pid);
    int rfd[BENCH_PRODUCERS_MAX], got[BENCH_PRODUCERS_MAX] = {0};
    pid_t prod[BENCH_PRODUCERS_MAX];
    struct prod_report each[BENCH_PRODUCERS_MAX];
    struct pace pace = {.http_port = backlog ? d.http_port : 0, .backlog = backlog,
                        .producers = producers};
    /* one connection each: the daemon pins a connection (a producer) to a
     * worker, so several producers are what spreads the work */
    for (int i = 0; i < producers; i++)
        if ((prod[i] = spawn_producer(fs, d.endpoint, seconds, 0, &pace, &rfd[i])) < 0) {
            bench_daemon_cleanup(&d, 1);
            return -1;
        }
    struct prod_report rep = {0};
    int have_rep = 0;
    /* (time, count) samples: the while-sending rate is read off them later,
     * because the producer reports only after its queue has been handed over */
    size_t ns = 0, cap = 4096;
    int64_t *st = malloc(cap * sizeof(*st));
    double *sa = malloc(cap * sizeof(*sa));
    double last = -1;
    int64_t t_change = mp_mono_ns(), start = mp_mono_ns();
    while (st && sa) {
        if (!have_rep) {
            if ((have_rep = read_reports(producers, rfd, each, got, &rep)) < 0) {
                fprintf(stderr, "bench_throughput: producer failed\n");
                have_rep = 0;
                break;
            }
        } else {
            usleep(50 * 1000);
        }
        double a = bench_daemon_metric(d.http_port, "mailpulse_events_accepted_total");
        int64_t now = mp_mono_ns();
        if (a < 0) {
            fprintf(stderr, "bench_throughput: /metrics unreadable\n");
            break;
        }
        if (ns == cap) {
            cap *= 2;
            int64_t *nt = realloc(st, cap * sizeof(*st));
            double *na = realloc(sa, cap * sizeof(*sa));
            if (!nt || !na) {
                free(nt ? nt : st);
                free(na ? na : sa);
                st = NULL;
                sa = NULL;
                break;
            }
            st = nt;
            sa = na;
        }
        st[ns] = now;
        sa[ns++] = a;
        if (a != last) {
            last = a;
            t_change = now;
        }
        if (have_rep && (a >= (double)rep.frames * BENCH_BATCH || now - t_change > 2000000000LL))
            break;
        if (now - start > (int64_t)(seconds * 1e9) + 600 * 1000000000LL)
            break; /* a stuck daemon must not hang `make bench` */
    }
    /* while sending: from 5 s (a quarter of short runs) after the first
     * send, past key creation and start-up, to the last send */
    if (have_rep && st && sa) {
        size_t i0 = ns, i1 = ns;
        int64_t skip = seconds >= 20 ? 5000000000LL : (int64_t)(seconds * 0.25e9);
        for (size_t i = 0; i < ns; i++) {
            if (i0 == ns && st[i] >= rep.t_first + skip)
                i0 = i;
            if (st[i] <= rep.t_last)
                i1 = i;
        }
        if (i0 < ns && i1 < ns && i1 > i0)
            res->eps_sending = (sa[i1] - sa[i0]) / ((double)(st[i1] - st[i0]) / 1e9);
    }
    free(st);
    free(sa);
    for (int i = 0; i < producers; i++) {
        waitpid(prod[i], NULL, 0);
        close(rfd[i]);
    }
    res->daemon_cpu_s = proc_cpu_s(d.proc.pid) - cpu0;
    proc_threads_cpu(d.proc.pid, res->threads, sizeof(res->threads));
    res->rss_mb = bench_daemon_metric(d.http_port, "mailpulse_resident_bytes") / 1048576.0;
    res->keys = bench_daemon_metric(d.http_port, "mailpulse_keys");
    res->flushes = bench_daemon_metric(d.http_port, "mailpulse_store_flushes_total");
    res->flush_s = bench_daemon_metric(d.http_port, "mailpulse_store_flush_seconds_total");
    res->flush_last_s = bench_daemon_metric(d.http_port, "mailpulse_store_flush_last_seconds");
    res->flush_entries = bench_daemon_metric(d.http_port, "mailpulse_store_flush_entries_total");
    bench_daemon_stop(&d);
    if (!have_rep || last <= 0) {
        bench_daemon_cleanup(&d, 1);
        return -1;
    }
    res->accepted = (uint64_t)last;
    res->sent_events = rep.frames * BENCH_BATCH;
    res->secs = (double)(t_change - rep.t_first) / 1e9;
    res->drain_s = (double)(t_change - rep.t_last) / 1e9;
    res->eps = last / res->secs;
    res->producer_cpu_s = rep.cpu_s;
    bench_daemon_cleanup(&d, 0);
    return 0;
}

/* ---- 2. raw ZeroMQ ---------------------------------------------------------- */

static void sink_main(const char *endpoint, int wfd)
{
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_PULL);
    if (zmq_bind(s, endpoint) != 0)
        _exit(1);
    char ready = 1;
    if (write_all(wfd, &ready, 1) != 0)
        _exit(1);
    struct sink_report rep = {0};
    zmq_msg_t m;
    zmq_msg_init(&m);
    for (;;) {
        int n = zmq_msg_recv(&m, s, 0);
        if (n < 0) {
            if (zmq_errno() == EINTR)
                continue;
            _exit(1);
        }
        if (n == 0)
            break; /* the producer's end mark */
        if (!rep.frames)
            rep.t_first = mp_mono_ns();
        rep.frames++;
    }
    rep.t_last = mp_mono_ns();
    zmq_msg_close(&m);
    zmq_close(s);
    zmq_ctx_term(ctx);
    rep.cpu_s = self_cpu_s();
    _exit(write_all(wfd, &rep, sizeof(rep)) == 0 ? 0 : 1);
}

struct zmq_result {
    double eps, secs, sink_cpu_s, producer_cpu_s;
    uint64_t events;
};

static int run_raw_zmq(const struct bench_frames *fs, double seconds, struct zmq_result *res)
{
    char endpoint[64];
    snprintf(endpoint, sizeof(endpoint), "tcp://127.0.0.1:%d", bench_free_port());
    int sfd;
    pid_t sink = fork_piped(&sfd);
    if (sink == 0)
        sink_main(endpoint, sfd);
    char ready;
    if (sink < 0 || read_all(sfd, &ready, 1) != 0)
        return -1;
    int rfd;
    struct pace none = {0};
    pid_t prod = spawn_producer(fs, endpoint, seconds, 1, &none, &rfd);
    struct prod_report pr;
    struct sink_report sr;
    int ok = prod > 0 && read_all(rfd, &pr, sizeof(pr)) == 0 && read_all(sfd, &sr, sizeof(sr)) == 0;
    if (prod > 0)
        waitpid(prod, NULL, 0);
    waitpid(sink, NULL, 0);
    close(rfd);
    close(sfd);
    if (!ok)
        return -1;
    res->events = sr.frames * BENCH_BATCH;
    res->secs = (double)(sr.t_last - pr.t_first) / 1e9;
    res->eps = (double)res->events / res->secs;
    res->sink_cpu_s = sr.cpu_s;
    res->producer_cpu_s = pr.cpu_s;
    return 0;
}

/* ---- 3. Redis ------------------------------------------------------------- */

struct resp_frame {
    char *buf;
    size_t len;
    int ncmds;
};

/* The frames' events as pre-formatted HINCRBY commands, one buffer per frame. */
static struct resp_frame *redis_commands(const struct bench_frames *fs)
{
    struct resp_frame *rf = calloc(fs->n, sizeof(*rf));
    if (!rf)
        return NULL;
    for (size_t i = 0; i < fs->n; i++) {
        Mailpulse__V1__EventBatch *b =
            mailpulse__v1__event_batch__unpack(NULL, fs->f[i].len, fs->f[i].buf);
        if (!b)
            return NULL;
        size_t cap = 0;
        for (size_t j = 0; j < b->n_events; j++) {
            const Mailpulse__V1__Event *e = b->events[j];
            const char *type = eng_type_name((int)e->type);
            char key[3][320];
            snprintf(key[0], sizeof(key[0]), "t:%s", e->tenant);
            snprintf(key[1], sizeof(key[1]), "m:%s:%s", e->tenant, e->mailbox);
            snprintf(key[2], sizeof(key[2]), "d:%s:%s", e->tenant, e->recipient_domain);
            for (int k = 0; k < 3; k++) {
                char *cmd;
                int n = redisFormatCommand(&cmd, "HINCRBY %s %s 1", key[k], type);
                if (n < 0)
                    return NULL;
                if (rf[i].len + (size_t)n > cap) {
                    cap = (cap ? cap * 2 : 65536) + (size_t)n;
                    char *nb = realloc(rf[i].buf, cap);
                    if (!nb)
                        return NULL;
                    rf[i].buf = nb;
                }
                memcpy(rf[i].buf + rf[i].len, cmd, (size_t)n);
                rf[i].len += (size_t)n;
                rf[i].ncmds++;
                redisFreeCommand(cmd);
            }
        }
        mailpulse__v1__event_batch__free_unpacked(b, NULL);
    }
    return rf;
}

struct redis_result {
    double eps, secs, server_cpu_s, client_cpu_s, used_mb;
    uint64_t events, errors;
    long long dbsize;
};

static int run_redis(const struct bench_frames *fs, double seconds, struct redis_result *res)
{
    const char *server = getenv("REDIS_SERVER") ? getenv("REDIS_SERVER") : "redis-server";
    int port = bench_free_port();
    char dir[E2E_PATH_MAX], log[E2E_PATH_MAX + 16], portstr[16];
    if (e2e_tmpdir_create("bench-redis", dir, sizeof(dir), NULL, 0) != MP_OK)
        return -1;
    snprintf(log, sizeof(log), "%s/redis.log", dir);
    snprintf(portstr, sizeof(portstr), "%d", port);
    struct resp_frame *rf = redis_commands(fs);
    if (!rf)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execlp(server, server, "--port", portstr, "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--daemonize", "no", "--dir", dir, "--loglevel", "warning",
               (char *)NULL);
        _exit(127);
    }
    redisContext *c = NULL;
    for (int i = 0; i < 100 && !c; i++) {
        struct timeval tv = {1, 0};
        c = redisConnectWithTimeout("127.0.0.1", port, tv);
        if (c && c->err) {
            redisFree(c);
            c = NULL;
        }
        if (c) {
            redisReply *r = redisCommand(c, "PING");
            if (!r) {
                redisFree(c);
                c = NULL;
            }
            freeReplyObject(r);
        }
        if (!c)
            usleep(100 * 1000);
    }
    int rc = -1;
    if (!c) {
        fprintf(stderr, "bench_throughput: redis-server did not answer; see %s\n", log);
        goto out;
    }
    double server0 = proc_cpu_s(pid), client0 = self_cpu_s();
    int64_t t0 = mp_mono_ns(), deadline = t0 + (int64_t)(seconds * 1e9);
    for (size_t i = 0; mp_mono_ns() < deadline; i = (i + 1) % fs->n) {
        redisAppendFormattedCommand(c, rf[i].buf, rf[i].len);
        for (int k = 0; k < rf[i].ncmds; k++) {
            redisReply *r;
            if (redisGetReply(c, (void **)&r) != REDIS_OK) {
                fprintf(stderr, "bench_throughput: redis: %s\n", c->errstr);
                goto out;
            }
            if (r->type != REDIS_REPLY_INTEGER)
                res->errors++;
            freeReplyObject(r);
        }
        res->events += BENCH_BATCH;
    }
    res->secs = (double)(mp_mono_ns() - t0) / 1e9;
    res->eps = (double)res->events / res->secs;
    res->server_cpu_s = proc_cpu_s(pid) - server0;
    res->client_cpu_s = self_cpu_s() - client0;
    redisReply *r = redisCommand(c, "DBSIZE");
    res->dbsize = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    r = redisCommand(c, "INFO memory");
    const char *um = r && r->type == REDIS_REPLY_STRING ? strstr(r->str, "used_memory:") : NULL;
    res->used_mb = um ? atof(um + strlen("used_memory:")) / 1048576.0 : -1;
    freeReplyObject(r);
    rc = 0;
out:
    if (c) {
        redisReply *bye = redisCommand(c, "SHUTDOWN NOSAVE");
        freeReplyObject(bye);
        redisFree(c);
    }
    kill(pid, SIGTERM); /* in case SHUTDOWN did not get through */
    waitpid(pid, NULL, 0);
    for (size_t i = 0; i < fs->n; i++)
        free(rf[i].buf);
    free(rf);
    e2e_tmpdir_remove(dir);
    return rc;
}

int main(int argc, char **argv)
{
    double seconds = 60, target = 1500000;
    int workers = 2, producers = 1, skip_redis = 0;
    uint64_t backlog = 2000000;
    size_t nframes = 1000;
    if (getenv("BENCH_SECONDS"))
        seconds = atof(getenv("BENCH_SECONDS"));
    const struct bench_opt opts[] = {
        {"seconds", 's', BENCH_OPT_DOUBLE, &seconds}, {"workers", 'w', BENCH_OPT_INT, &workers},
        {"frames", 'f', BENCH_OPT_SIZE, &nframes},    {"no-redis", 'R', BENCH_OPT_FLAG, &skip_redis},
        {"backlog", 'b', BENCH_OPT_U64, &backlog},   {"producers", 'p', BENCH_OPT_INT, &producers},
    };
    int ex = bench_opts(
        argc, argv, opts, MP_ARRAY_LEN(opts),
        "usage: bench_throughput [--seconds S] [--workers N] [--frames N] [--no-redis]\n"
        "                        [--backlog EVENTS] [--producers N]\n"
        "  --seconds defaults to $BENCH_SECONDS, else 60; each of the three parts\n"
        "  runs that long. --backlog: events the producer may have sent ahead of\n"
        "  the daemon's count (default 2000000; 0: no limit, ZeroMQ queues fill).\n"
        "  --producers: PUSH connections in the mailpulse part (default 1, at most 16):\n"
        "  the daemon pins each producer to one worker (per-producer order).\n"
        "  Needs $MP_BIN_DIR/mailpulsed and redis-server.\n");
    if (ex >= 0)
        return ex;
    if (seconds < 1 || workers < 1 || nframes < 1 || producers < 1 ||
        producers > BENCH_PRODUCERS_MAX) {
        fprintf(stderr, "bench_throughput: --seconds >= 1, --workers >= 1, --frames >= 1, "
                        "--producers 1..16\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct bench_model m;
    struct bench_frames fs;
    if (bench_model_init(&m, 20000, 1.0) != 0 ||
        bench_frames_build(&m, nframes, 4242, mp_now_ms(), 0, &fs) != 0) {
        fprintf(stderr, "bench_throughput: cannot build frames\n");
        return 1;
    }
    printf("# %zu frames x %d events, %.0f bytes/event (%.1f KiB/frame), Zipf(1.0) over "
           "1,020,000 keys; %.0f s per part\n",
           fs.n, BENCH_BATCH, (double)fs.bytes / ((double)fs.n * BENCH_BATCH),
           (double)fs.bytes / (double)fs.n / 1024, seconds);
    fflush(stdout);

    struct mp_result mr;
    if (run_mailpulse(&fs, seconds, workers, producers, backlog, &mr) != 0) {
        fprintf(stderr, "bench_throughput: mailpulse part failed\n");
        return 1;
    }
    printf("# mailpulse: %llu of %llu events counted in %.1f s (drain after the producer "
           "stopped: %.1f s) = %.0f events/s; while sending %.0f/s; daemon CPU %.1f s "
           "(%.0f ns/event; threads: %s), producer CPU %.1f s; keys %.0f, RSS %.0f MB; "
           "store flushes %.0f taking %.1f s in all (last %.2f s, %.0f entries written); "
           "persistence: %s\n",
           (unsigned long long)mr.accepted, (unsigned long long)mr.sent_events, mr.secs,
           mr.drain_s, mr.eps, mr.eps_sending, mr.daemon_cpu_s,
           mr.daemon_cpu_s * 1e9 / (double)mr.accepted, mr.threads, mr.producer_cpu_s, mr.keys,
           mr.rss_mb, mr.flushes, mr.flush_s, mr.flush_last_s, mr.flush_entries,
           mr.persistence);
    fflush(stdout);

    struct zmq_result zr = {0};
    if (run_raw_zmq(&fs, seconds, &zr) != 0) {
        fprintf(stderr, "bench_throughput: raw ZeroMQ part failed\n");
        return 1;
    }
    printf("# raw ZeroMQ PUSH->PULL: %llu events in %.1f s = %.0f events/s (%.0f MB/s); "
           "sink CPU %.1f s, producer CPU %.1f s\n",
           (unsigned long long)zr.events, zr.secs, zr.eps,
           zr.eps * ((double)fs.bytes / ((double)fs.n * BENCH_BATCH)) / 1e6, zr.sink_cpu_s,
           zr.producer_cpu_s);
    fflush(stdout);

    struct redis_result rr = {0};
    if (!skip_redis) {
        if (run_redis(&fs, seconds, &rr) != 0) {
            fprintf(stderr, "bench_throughput: Redis part failed\n");
            return 1;
        }
        printf("# redis HINCRBY x3/event, 1500 commands per pipeline: %llu events in %.1f s = "
               "%.0f events/s (%.0f commands/s); errors %llu; server CPU %.1f s, client CPU "
               "%.1f s; %lld keys, used_memory %.0f MB\n",
               (unsigned long long)rr.events, rr.secs, rr.eps, rr.eps * 3,
               (unsigned long long)rr.errors, rr.server_cpu_s, rr.client_cpu_s, rr.dbsize,
               rr.used_mb);
    }
    double ncpu = (double)sysconf(_SC_NPROCESSORS_ONLN);
    double cpu_ns = mr.daemon_cpu_s * 1e9 / (double)mr.accepted;
    printf("bench_throughput mailpulse_eps=%.0f mailpulse_eps_while_sending=%.0f "
           "raw_zmq_eps=%.0f redis_eps=%.0f ratio_mailpulse_to_raw_zmq=%.3f "
           "ratio_mailpulse_to_redis=%.2f seconds=%.0f workers=%d producers=%d backlog=%llu "
           "daemon_cpu_ns_per_event=%.0f "
           "daemon_cores_used=%.2f cpu_bound_eps=%.0f target_eps=%.0f met=%s "
           "persistence=\"%s\"\n",
           mr.eps, mr.eps_sending, zr.eps, rr.eps, mr.eps / zr.eps,
           rr.eps > 0 ? mr.eps / rr.eps : 0, seconds, workers, producers,
           (unsigned long long)backlog, cpu_ns,
           mr.daemon_cpu_s / mr.secs,
           ncpu * 1e9 / cpu_ns, target, mr.eps >= target ? "yes" : "no", mr.persistence);
    printf("# mailpulse_eps: events counted by the daemon / (last increase of "
           "mailpulse_events_accepted_total - first send), producer on the same cores, at "
           "most `backlog` events ahead of the daemon; "
           "raw_zmq_eps: same frames into a counting PULL socket; redis_eps: 3 pipelined "
           "HINCRBY per event. daemon_cpu_ns_per_event: the daemon's CPU time (all threads) "
           "per event counted; cpu_bound_eps = %.0f cores / that: what the daemon's own cost "
           "allows with every core to itself (an upper bound, less sensitive than the rates "
           "to neighbours on a shared machine; daemon_cores_used shows what it got).\n",
           ncpu);
    bench_frames_free(&fs);
    bench_model_free(&m);
    curl_global_cleanup();
    return 0;
}
