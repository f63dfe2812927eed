/* e2e_harness.c — processes, ports, config, ZeroMQ producer, /metrics and
 * JSON lines for the end-to-end suites and the benches (see e2e_harness.h
 * for the contract). */
#include "e2e_harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <zmq.h>

#include "mailpulse.pb-c.h"

extern char **environ;

/* ---- small helpers ------------------------------------------------------- */

static void e2e__sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int64_t e2e__deadline(int timeout_ms) { return mp_mono_ns() + (int64_t)timeout_ms * 1000000; }

static int e2e__past(int64_t deadline) { return mp_mono_ns() >= deadline; }

static int e2e__fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int e2e__fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* ---- files and directories ------------------------------------------------ */

int e2e_bin_path(const char *prog, char *out, size_t n, char *err, size_t errlen)
{
    const char *dir = getenv("MP_BIN_DIR");
    if (dir == NULL || dir[0] == '\0')
        return e2e__fail(err, errlen, MP_ERR_NOTFOUND,
                         "MP_BIN_DIR is not set (run through `make check-tests`)");
    if ((size_t)snprintf(out, n, "%s/%s", dir, prog) >= n)
        return e2e__fail(err, errlen, MP_ERR_INVAL, "path too long: %s/%s", dir, prog);
    if (access(out, X_OK) != 0)
        return e2e__fail(err, errlen, MP_ERR_NOTFOUND, "%s: %s (run `make` first)", out,
                         strerror(errno));
    return MP_OK;
}

int e2e_tmpdir_create(const char *tag, char *out, size_t n, char *err, size_t errlen)
{
    const char *base = getenv("TMPDIR");
    char tmpl[PATH_MAX];
    char real[PATH_MAX];
    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    snprintf(tmpl, sizeof(tmpl), "%s/mp_%s.XXXXXX", base, tag);
    if (mkdtemp(tmpl) == NULL)
        return e2e__fail(err, errlen, MP_ERR_IO, "mkdtemp %s: %s", tmpl, strerror(errno));
    /* realpath: the config loader reports resolved paths; compare like with like. */
    if (realpath(tmpl, real) == NULL || strlen(real) >= n) {
        rmdir(tmpl);
        return e2e__fail(err, errlen, MP_ERR_IO, "realpath %s failed or too long", tmpl);
    }
    memcpy(out, real, strlen(real) + 1);
    return MP_OK;
}

static int e2e__rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(p);
    return 0; /* keep going: best effort */
}

void e2e_tmpdir_remove(const char *dir)
{
    if (dir == NULL || dir[0] == '\0')
        return;
    nftw(dir, e2e__rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int e2e_write_file(const char *path, const char *text, char *err, size_t errlen)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return e2e__fail(err, errlen, MP_ERR_IO, "fopen %s: %s", path, strerror(errno));
    size_t len = strlen(text);
    size_t w = fwrite(text, 1, len, f);
    int rc = fclose(f);
    if (w != len || rc != 0)
        return e2e__fail(err, errlen, MP_ERR_IO, "write %s: %s", path, strerror(errno));
    return MP_OK;
}

int e2e_read_file(const char *path, char **out, size_t *len)
{
    int rc = MP_ERR_IO;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return errno == ENOENT ? MP_ERR_NOTFOUND : MP_ERR_IO;
    for (;;) {
        if (cap - n < 4096) {
            size_t ncap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, ncap);
            if (nb == NULL) {
                rc = MP_ERR_NOMEM;
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f))
        goto out;
    buf[n] = '\0';
    *out = buf;
    buf = NULL;
    if (len)
        *len = n;
    rc = MP_OK;
out:
    free(buf);
    fclose(f);
    return rc;
}

int e2e_file_contains(const char *path, const char *needle)
{
    char *text = NULL;
    size_t len = 0;
    if (e2e_read_file(path, &text, &len) != MP_OK)
        return 0;
    /* memmem: a log may hold a NUL from a bad frame's detail. */
    int found = memmem(text, len, needle, strlen(needle)) != NULL;
    free(text);
    return found;
}

void e2e_file_tail(const char *path, char *out, size_t n)
{
    char *text = NULL;
    size_t len = 0;
    if (n == 0)
        return;
    if (e2e_read_file(path, &text, &len) != MP_OK || len == 0) {
        snprintf(out, n, "(no output)");
        free(text);
        return;
    }
    size_t keep = len < n - 1 ? len : n - 1;
    memcpy(out, text + len - keep, keep);
    out[keep] = '\0';
    free(text);
}

/* ---- ports ---------------------------------------------------------------- */

static int e2e__loopback(struct sockaddr_in *sa, uint16_t port)
{
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return 0;
}

int e2e_free_port(uint16_t *port, const uint16_t *avoid, size_t navoid, char *err,
                  size_t errlen)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        struct sockaddr_in sa;
        socklen_t sl = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return e2e__fail(err, errlen, MP_ERR_IO, "socket: %s", strerror(errno));
        e2e__loopback(&sa, 0);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
            getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
            int e = errno;
            close(fd);
            return e2e__fail(err, errlen, MP_ERR_IO, "bind 127.0.0.1:0: %s", strerror(e));
        }
        close(fd);
        uint16_t p = ntohs(sa.sin_port);
        int dup = 0;
        for (size_t i = 0; i < navoid; i++)
            dup |= avoid[i] == p;
        if (!dup) {
            *port = p;
            return MP_OK;
        }
    }
    return e2e__fail(err, errlen, MP_ERR_AGAIN, "no distinct free port after 50 tries");
}

int e2e_tcp_probe(uint16_t port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return MP_ERR_IO;
    e2e__loopback(&sa, port);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? MP_OK : MP_ERR_IO;
    close(fd);
    return rc;
}

/* ---- daemon config -------------------------------------------------------- */

/* Appends `s` to f as a YAML double-quoted scalar. */
static void e2e__yaml_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* `prefix` (a key, with its newline and indent) then `s` quoted. */
static void e2e__yaml_kv(FILE *f, const char *prefix, const char *s)
{
    fputs(prefix, f);
    e2e__yaml_str(f, s);
}

int e2e_config_write(const char *path, const struct e2e_daemon_conf *c, char *err,
                     size_t errlen)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return e2e__fail(err, errlen, MP_ERR_IO, "fopen %s: %s", path, strerror(errno));
    e2e__yaml_kv(f, "# written by tests/e2e_harness.c\ndata_dir: ", c->data_dir);
    if (c->log_level)
        e2e__yaml_kv(f, "\nlog_level: ", c->log_level);
    e2e__yaml_kv(f, "\ningest:\n  pull: ", c->pull);
    if (c->workers > 0)
        fprintf(f, "\n  workers: %d", c->workers);
    fprintf(f, "\n");
    if (c->http_listen) {
        e2e__yaml_kv(f, "http:\n  listen: ", c->http_listen);
        fprintf(f, "\n%s", c->http_extra ? c->http_extra : "");
    }
    if (c->max_keys > 0)
        fprintf(f, "engine:\n  max_keys: %u\n", c->max_keys);
    if (c->nreceivers > 0)
        fprintf(f, "receivers:\n");
    for (size_t i = 0; i < c->nreceivers; i++) {
        const struct e2e_receiver_conf *r = &c->receivers[i];
        e2e__yaml_kv(f, "  - name: ", r->name);
        e2e__yaml_kv(f, "\n    type: webhook\n    url: ", r->url);
        if (r->secret)
            e2e__yaml_kv(f, "\n    secret: ", r->secret);
        fprintf(f, "\n");
    }
    if (c->default_route || c->nroutes > 0)
        fprintf(f, "routes:\n");
    if (c->default_route)
        fprintf(f, "  default: [%s]\n", c->default_route);
    if (c->nroutes > 0)
        fprintf(f, "  tenants:\n");
    for (size_t i = 0; i < c->nroutes; i++) {
        fprintf(f, "    ");
        e2e__yaml_str(f, c->routes[i].tenant);
        fprintf(f, ": [%s]\n", c->routes[i].receivers);
    }
    if (c->rules) {
        e2e__yaml_kv(f, "rules: ", c->rules);
        fprintf(f, "\n");
    }
    if (c->alerting) {
        const struct e2e_alerting_conf *a = c->alerting;
        const struct {
            const char *key, *val;
        } keys[] = {{"group_interval", a->group_interval}, {"retry_initial", a->retry_initial},
                    {"retry_max", a->retry_max},           {"max_age", a->max_age},
                    {"timeout", a->timeout}};
        fprintf(f, "alerting:\n");
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
            if (!keys[i].val)
                continue;
            fprintf(f, "  %s: ", keys[i].key);
            e2e__yaml_kv(f, "", keys[i].val);
            fprintf(f, "\n");
        }
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return e2e__fail(err, errlen, MP_ERR_IO, "write %s: %s", path, strerror(errno));
    return MP_OK;
}

/* ---- child processes ------------------------------------------------------ */

/* A proxy in the tester's environment must not sit between the daemon and
 * a loopback receiver: the children get the environment without them. */
static int e2e__proxy_var(const char *kv)
{
    static const char *const names[] = {"http_proxy=", "https_proxy=", "all_proxy=",
                                        "HTTP_PROXY=", "HTTPS_PROXY=", "ALL_PROXY="};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strncmp(kv, names[i], strlen(names[i])) == 0)
            return 1;
    return 0;
}

int e2e_spawn(struct e2e_proc *p, const char *name, const char *dir, char *const argv[],
              char *err, size_t errlen)
{
    int rc = MP_ERR_IO;
    int in_fd = -1, out_fd = -1, err_fd = -1;
    char **envp = NULL;

    memset(p, 0, sizeof(*p));
    snprintf(p->name, sizeof(p->name), "%s", name);
    snprintf(p->out_path, sizeof(p->out_path), "%s/%s.out", dir, name);
    snprintf(p->err_path, sizeof(p->err_path), "%s/%s.err", dir, name);

    /* Everything the child needs is prepared here: between fork and exec
     * only async-signal-safe calls (no malloc: the parent has threads). */
    size_t nenv = 0;
    while (environ[nenv])
        nenv++;
    envp = calloc(nenv + 1, sizeof(*envp));
    if (envp == NULL) {
        rc = e2e__fail(err, errlen, MP_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0, j = 0; i < nenv; i++)
        if (!e2e__proxy_var(environ[i]))
            envp[j++] = environ[i];
    in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    out_fd = open(p->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    err_fd = open(p->err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (in_fd < 0 || out_fd < 0 || err_fd < 0) {
        rc = e2e__fail(err, errlen, MP_ERR_IO, "%s: cannot open its log files in %s: %s", name,
                       dir, strerror(errno));
        goto out;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        rc = e2e__fail(err, errlen, MP_ERR_IO, "fork: %s", strerror(errno));
        goto out;
    }
    if (pid == 0) {
        /* Die with the test: a daemon left behind would hold its ports. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        struct sigaction dfl;
        memset(&dfl, 0, sizeof(dfl));
        dfl.sa_handler = SIG_DFL;
        sigaction(SIGPIPE, &dfl, NULL); /* SIG_IGN would survive exec */
        if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
            _exit(127);
        execve(argv[0], argv, envp);
        static const char msg[] = "e2e_spawn: execve failed\n";
        ssize_t w = write(2, msg, sizeof(msg) - 1);
        (void)w;
        _exit(127);
    }
    p->pid = pid;
    rc = MP_OK;
out:
    if (in_fd >= 0)
        close(in_fd);
    if (out_fd >= 0)
        close(out_fd);
    if (err_fd >= 0)
        close(err_fd);
    free(envp);
    return rc;
}

int e2e_proc_running(struct e2e_proc *p)
{
    if (p->pid <= 0 || p->reaped)
        return 0;
    int st;
    pid_t r;
    do {
        r = waitpid(p->pid, &st, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == 0)
        return 1;
    p->reaped = 1;
    p->status = r == p->pid ? st : -1; /* -1: lost (ECHILD), reported as such */
    return 0;
}

int e2e_proc_wait(struct e2e_proc *p, int timeout_ms)
{
    int64_t deadline = e2e__deadline(timeout_ms);
    while (e2e_proc_running(p)) {
        if (e2e__past(deadline))
            return MP_ERR_AGAIN;
        e2e__sleep_ms(5);
    }
    return MP_OK;
}

int e2e_proc_signal_wait(struct e2e_proc *p, int sig, int timeout_ms)
{
    if (!e2e_proc_running(p))
        return MP_ERR_STATE;
    if (kill(p->pid, sig) != 0)
        return MP_ERR_IO;
    return e2e_proc_wait(p, timeout_ms);
}

void e2e_proc_kill(struct e2e_proc *p)
{
    if (!e2e_proc_running(p))
        return;
    kill(p->pid, SIGKILL);
    e2e_proc_wait(p, 5000);
}

void e2e_proc_describe(const struct e2e_proc *p, char *out, size_t n)
{
    if (p->pid <= 0)
        snprintf(out, n, "not started");
    else if (!p->reaped)
        snprintf(out, n, "running");
    else if (p->status == -1)
        snprintf(out, n, "lost (waitpid failed)");
    else if (WIFEXITED(p->status))
        snprintf(out, n, "exited %d", WEXITSTATUS(p->status));
    else if (WIFSIGNALED(p->status))
        snprintf(out, n, "killed by signal %d", WTERMSIG(p->status));
    else
        snprintf(out, n, "wait status 0x%x", (unsigned)p->status);
}

/* "<what>; NAME stderr tail: ...; stdout tail: ..." into err. */
static int e2e__fail_proc(char *err, size_t errlen, int rc, const struct e2e_proc *p,
                          const char *what)
{
    char etail[1200], otail[600], state[64];
    e2e_file_tail(p->err_path, etail, sizeof(etail));
    e2e_file_tail(p->out_path, otail, sizeof(otail));
    e2e_proc_describe(p, state, sizeof(state));
    return e2e__fail(err, errlen, rc, "%s: %s (%s)\n--- %s stderr (tail) ---\n%s\n--- %s stdout (tail) ---\n%s",
                     p->name, what, state, p->err_path, etail, p->out_path, otail);
}

int e2e_run(struct e2e_proc *p, const char *name, const char *dir, char *const argv[],
            int timeout_ms, char *err, size_t errlen)
{
    int rc = e2e_spawn(p, name, dir, argv, err, errlen);
    if (rc != MP_OK)
        return rc;
    if (e2e_proc_wait(p, timeout_ms) != MP_OK) {
        e2e_proc_kill(p);
        char what[64];
        snprintf(what, sizeof(what), "did not exit within %d ms", timeout_ms);
        return e2e__fail_proc(err, errlen, MP_ERR_AGAIN, p, what);
    }
    return MP_OK;
}

int e2e_wait_http_ok(struct e2e_proc *p, const char *url, int timeout_ms, char *err,
                     size_t errlen)
{
    int64_t deadline = e2e__deadline(timeout_ms);
    char last[160] = "no attempt";
    for (;;) {
        if (!e2e_proc_running(p))
            return e2e__fail_proc(err, errlen, MP_ERR_STATE, p, "exited before it was ready");
        long status = 0;
        if (e2e_http_get(url, 500, &status, NULL) == MP_OK) {
            if (status == 200)
                return MP_OK;
            snprintf(last, sizeof(last), "GET %s answered %ld", url, status);
        } else {
            snprintf(last, sizeof(last), "GET %s: no HTTP answer", url);
        }
        if (e2e__past(deadline)) {
            char what[256];
            snprintf(what, sizeof(what), "not ready within %d ms; last: %s", timeout_ms, last);
            return e2e__fail_proc(err, errlen, MP_ERR_AGAIN, p, what);
        }
        e2e__sleep_ms(20);
    }
}

int e2e_wait_tcp(struct e2e_proc *p, uint16_t port, int timeout_ms, char *err, size_t errlen)
{
    int64_t deadline = e2e__deadline(timeout_ms);
    for (;;) {
        if (!e2e_proc_running(p))
            return e2e__fail_proc(err, errlen, MP_ERR_STATE, p, "exited before it was ready");
        if (e2e_tcp_probe(port) == MP_OK)
            return MP_OK;
        if (e2e__past(deadline)) {
            char what[128];
            snprintf(what, sizeof(what), "127.0.0.1:%u refused connections for %d ms",
                     (unsigned)port, timeout_ms);
            return e2e__fail_proc(err, errlen, MP_ERR_AGAIN, p, what);
        }
        e2e__sleep_ms(20);
    }
}

/* ---- HTTP and /metrics ---------------------------------------------------- */

struct e2e__buf {
    char *p;
    size_t len;
    int nomem;
};

static size_t e2e__curl_write(char *data, size_t size, size_t nmemb, void *arg)
{
    struct e2e__buf *b = arg;
    size_t n = size * nmemb;
    char *np = realloc(b->p, b->len + n + 1);
    if (np == NULL) {
        b->nomem = 1;
        return 0;
    }
    memcpy(np + b->len, data, n);
    b->p = np;
    b->len += n;
    b->p[b->len] = '\0';
    return n;
}

int e2e_http_get(const char *url, int timeout_ms, long *status, char **body)
{
    int rc = MP_ERR_IO;
    struct e2e__buf b = {0};
    CURL *e = curl_easy_init();
    if (e == NULL)
        return MP_ERR_NOMEM;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, e2e__curl_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
    if (curl_easy_perform(e) != CURLE_OK)
        goto out;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
    if (body) {
        *body = b.p ? b.p : strdup("");
        b.p = NULL;
    }
    rc = MP_OK;
out:
    free(b.p);
    curl_easy_cleanup(e);
    return rc;
}

/* The value of `series` parsed as an integer (d == NULL) or any number. */
static int e2e__metric(const char *text, const char *series, uint64_t *u, double *d)
{
    size_t sl = strlen(series);
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        if (strncmp(line, series, sl) == 0 && line[sl] == ' ') {
            const char *p = line + sl + 1;
            char *end;
            errno = 0;
            if (d)
                *d = strtod(p, &end);
            else
                *u = strtoull(p, &end, 10);
            if (errno != 0 || end == p || (!d && *end != '\n' && *end != '\0'))
                return MP_ERR_PARSE;
            return MP_OK;
        }
        line = nl ? nl + 1 : NULL;
    }
    return MP_ERR_NOTFOUND;
}

int e2e_metric(const char *text, const char *series, uint64_t *val)
{
    uint64_t v = 0;
    int rc = e2e__metric(text, series, &v, NULL);
    if (rc == MP_OK)
        *val = v;
    return rc;
}

int e2e_metric_double(const char *text, const char *series, double *val)
{
    double v = 0;
    int rc = e2e__metric(text, series, NULL, &v);
    if (rc == MP_OK)
        *val = v;
    return rc;
}

/* ---- ZeroMQ producer ------------------------------------------------------ */

int e2e_push_open(void *zctx, const char *endpoint, int linger_ms, void **out, char *err,
                  size_t errlen)
{
    int tmo = 5000;
    void *s = zmq_socket(zctx, ZMQ_PUSH);
    if (s == NULL)
        return e2e__fail(err, errlen, MP_ERR_IO, "zmq_socket: %s", zmq_strerror(zmq_errno()));
    if (zmq_setsockopt(s, ZMQ_LINGER, &linger_ms, sizeof(linger_ms)) != 0 ||
        zmq_setsockopt(s, ZMQ_SNDTIMEO, &tmo, sizeof(tmo)) != 0 || zmq_connect(s, endpoint) != 0) {
        int e = zmq_errno();
        zmq_close(s);
        return e2e__fail(err, errlen, MP_ERR_IO, "PUSH %s: %s", endpoint, zmq_strerror(e));
    }
    *out = s;
    return MP_OK;
}

int e2e_batch_pack(const struct e2e_event *ev, size_t n, const char *producer_id,
                   uint8_t **buf, size_t *len)
{
    return e2e_batch_pack_campaign(ev, n, NULL, producer_id, buf, len);
}

int e2e_batch_pack_campaign(const struct e2e_event *ev, size_t n, const char *campaign,
                            const char *producer_id, uint8_t **buf, size_t *len)
{
    int rc = MP_ERR_NOMEM;
    Mailpulse__V1__Event *events = calloc(n ? n : 1, sizeof(*events));
    Mailpulse__V1__Event **ptrs = calloc(n ? n : 1, sizeof(*ptrs));
    uint8_t *out = NULL;
    if (events == NULL || ptrs == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        mailpulse__v1__event__init(&events[i]);
        /* protobuf-c only reads through these pointers when packing. */
        events[i].tenant = (char *)(ev[i].tenant ? ev[i].tenant : "");
        events[i].mailbox = (char *)(ev[i].mailbox ? ev[i].mailbox : "");
        events[i].recipient_domain = (char *)(ev[i].domain ? ev[i].domain : "");
        events[i].type = (Mailpulse__V1__EventType)ev[i].type;
        events[i].time_ms = ev[i].time_ms;
        if (campaign)
            events[i].campaign = (char *)campaign;
        ptrs[i] = &events[i];
    }
    Mailpulse__V1__EventBatch b = MAILPULSE__V1__EVENT_BATCH__INIT;
    b.n_events = n;
    b.events = ptrs;
    if (producer_id)
        b.producer_id = (char *)producer_id;
    size_t size = mailpulse__v1__event_batch__get_packed_size(&b);
    out = malloc(size ? size : 1);
    if (out == NULL)
        goto out;
    if (mailpulse__v1__event_batch__pack(&b, out) != size) {
        rc = MP_ERR_STATE;
        goto out;
    }
    *buf = out;
    *len = size;
    out = NULL;
    rc = MP_OK;
out:
    free(out);
    free(ptrs);
    free(events);
    return rc;
}

int e2e_send_frame(void *sock, const void *buf, size_t len, int64_t *mono_before_ns)
{
    static const char empty[1] = "";
    int64_t t = mp_mono_ns();
    int n = zmq_send(sock, len ? buf : empty, len, 0);
    if (mono_before_ns)
        *mono_before_ns = t;
    return n == (int)len ? MP_OK : MP_ERR_IO;
}

int e2e_send_events(void *sock, const char *tenant, const char *mailbox, const char *domain,
                    int type, size_t count, int64_t time_ms)
{
    int rc = MP_ERR_NOMEM;
    size_t chunk = count < E2E_EVENTS_PER_FRAME ? count : E2E_EVENTS_PER_FRAME;
    struct e2e_event *ev = calloc(chunk ? chunk : 1, sizeof(*ev));
    if (ev == NULL)
        return rc;
    for (size_t i = 0; i < chunk; i++)
        ev[i] = (struct e2e_event){tenant, mailbox, domain, type, time_ms};
    rc = MP_OK;
    for (size_t sent = 0; sent < count && rc == MP_OK;) {
        size_t k = count - sent < chunk ? count - sent : chunk;
        uint8_t *buf = NULL;
        size_t len = 0;
        rc = e2e_batch_pack(ev, k, "e2e", &buf, &len);
        if (rc == MP_OK)
            rc = e2e_send_frame(sock, buf, len, NULL);
        free(buf);
        sent += k;
    }
    free(ev);
    return rc;
}

/* ---- JSON lines ----------------------------------------------------------- */

int e2e_jsonl_load(const char *path, json_t **out)
{
    char *text = NULL;
    size_t len = 0;
    json_t *arr = json_array();
    if (arr == NULL)
        return MP_ERR_NOMEM;
    int rc = e2e_read_file(path, &text, &len);
    if (rc == MP_ERR_NOTFOUND) {
        *out = arr;
        return MP_OK;
    }
    if (rc != MP_OK)
        goto err;
    /* Only complete lines: the writer appends a line with one write, but a
     * reader may still catch the file between two of them. */
    for (size_t start = 0; start < len;) {
        char *nl = memchr(text + start, '\n', len - start);
        if (nl == NULL)
            break;
        size_t n = (size_t)(nl - (text + start));
        json_error_t jerr;
        json_t *rec = json_loadb(text + start, n, 0, &jerr);
        if (rec == NULL) {
            rc = MP_ERR_PARSE;
            goto err;
        }
        json_array_append_new(arr, rec);
        start += n + 1;
    }
    free(text);
    *out = arr;
    return MP_OK;
err:
    free(text);
    json_decref(arr);
    return rc;
}

int e2e_jsonl_wait(const char *path, int (*pred)(json_t *records, void *arg), void *arg,
                   int timeout_ms, json_t **out)
{
    int64_t deadline = e2e__deadline(timeout_ms);
    json_t *last = NULL;
    int rc;
    for (;;) {
        json_t *recs = NULL;
        rc = e2e_jsonl_load(path, &recs);
        if (rc != MP_OK)
            break;
        json_decref(last);
        last = recs;
        if (pred(recs, arg)) {
            rc = MP_OK;
            break;
        }
        if (e2e__past(deadline)) {
            rc = MP_ERR_AGAIN;
            break;
        }
        e2e__sleep_ms(10);
    }
    if (out)
        *out = last;
    else
        json_decref(last);
    return rc;
}
