/* unit_util.c — shared helpers of the unit suites (see unit_util.h). */
#include "unit_util.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <strings.h>
#include <zmq.h>

#include "e2e_harness.h"

void unit_tmpdir(const char *tag, char dir[UNIT_PATH_MAX])
{
    char err[256] = "";
    int rc = e2e_tmpdir_create(tag, dir, UNIT_PATH_MAX, err, sizeof(err));
    ck_assert_msg(rc == MP_OK, "temp dir: %s", err);
}

void unit_tmpdir_remove(const char *dir)
{
    if (dir == NULL || dir[0] == '\0')
        return;
    e2e_tmpdir_remove(dir);
    ck_assert_msg(access(dir, F_OK) != 0, "%s is still there", dir);
}

void unit_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    ck_assert_int_ge(fputs(text, f), 0);
    ck_assert_int_eq(fclose(f), 0);
}

void unit_refused_at(const char *err, const char *file, const struct unit_refusal *r, int i)
{
    char want[1024];
    snprintf(want, sizeof(want), "%s:%d: %s", file, r->line, r->want);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "case %d:\n got: %s\nwant: %s...", i, err,
                  want);
}

void unit_refused_near(const char *err, const char *file, const struct unit_refusal *r, int i)
{
    char prefix[1024];
    snprintf(prefix, sizeof(prefix), "%s:%d: ", file, r->line);
    size_t n = strlen(prefix);
    ck_assert_msg(strncmp(err, prefix, n) == 0, "case %d: want line %d: %s", i, r->line, err);
    ck_assert_msg(strstr(err + n, r->want) != NULL, "case %d:\n got: %s\nwant: \"%s\" in it", i,
                  err, r->want);
}

struct eng_store *unit_store_open(const char *dir)
{
    char err[256] = "", path[UNIT_PATH_MAX + 8];
    snprintf(path, sizeof(path), "%s/db", dir);
    struct eng_store *s = NULL;
    int rc = eng_store_open(path, &s, err, sizeof(err));
    ck_assert_msg(rc == MP_OK, "open: %s", err);
    return s;
}

/* Mounts made by this process, unmounted at exit too: a failed case ends
 * its (forked) process without running its teardown. */
#define UNIT_MOUNTS 4
static char unit__mounts[UNIT_MOUNTS][UNIT_PATH_MAX + 32];

static void unit__umount_all(void)
{
    for (int i = 0; i < UNIT_MOUNTS; i++)
        if (unit__mounts[i][0])
            unit_tmpfs_umount(unit__mounts[i]);
}

void unit_tmpfs_mount(const char *dir, int mb)
{
    static int registered;
    if (!registered && atexit(unit__umount_all) == 0)
        registered = 1;
    ck_assert_msg(mkdir(dir, 0700) == 0 || errno == EEXIST, "mkdir %s: %s", dir, strerror(errno));
    char opt[32];
    snprintf(opt, sizeof(opt), "size=%dm", mb);
    int rc = mount("tmpfs", dir, "tmpfs", 0, opt);
    ck_assert_msg(rc == 0, "mount -t tmpfs -o %s tmpfs %s failed: %s (this case needs root)", opt,
                  dir, strerror(errno));
    for (int i = 0; i < UNIT_MOUNTS; i++)
        if (!unit__mounts[i][0]) {
            snprintf(unit__mounts[i], sizeof(unit__mounts[i]), "%s", dir);
            break;
        }
}

void unit_tmpfs_umount(const char *dir)
{
    for (int i = 0; i < UNIT_MOUNTS; i++)
        if (strcmp(unit__mounts[i], dir) == 0)
            unit__mounts[i][0] = '\0';
    if (umount2(dir, MNT_DETACH) != 0)
        fprintf(stderr, "umount %s: %s\n", dir, strerror(errno));
}

void unit_disk_fill(const char *dir)
{
    char path[UNIT_PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/fill", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
    static const char zeros[65536];
    /* halving chunks: down to the last byte the file system will take */
    for (size_t chunk = sizeof(zeros); chunk > 0; chunk /= 2)
        while (write(fd, zeros, chunk) == (ssize_t)chunk)
            ;
    close(fd);
}

void unit_disk_free(const char *dir)
{
    char path[UNIT_PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/fill", dir);
    ck_assert_msg(unlink(path) == 0, "%s: %s", path, strerror(errno));
}

void unit_threads_start(struct unit_threads *t, size_t n, void *(*fn)(void *), void *args,
                        size_t size)
{
    ck_assert_uint_le(n, UNIT_MAX_THREADS);
    t->n = 0;
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(pthread_create(&t->th[i], NULL, fn, (char *)args + i * size), 0);
        t->n++;
    }
}

void unit_threads_join(struct unit_threads *t)
{
    for (size_t i = 0; i < t->n; i++) {
        void *ret = NULL;
        pthread_join(t->th[i], &ret);
        ck_assert_msg(ret == NULL, "thread %zu returned %p", i, ret);
    }
    t->n = 0;
}

void unit_threads_run(size_t n, void *(*fn)(void *), void *args, size_t size)
{
    struct unit_threads t;
    unit_threads_start(&t, n, fn, args, size);
    unit_threads_join(&t);
}

void *unit_pull_bind(void *zctx, int rcv_timeout_ms, char endpoint[64])
{
    char err[256] = "";
    uint16_t port;
    void *pull = zmq_socket(zctx, ZMQ_PULL);
    ck_assert_ptr_nonnull(pull);
    ck_assert_int_eq(zmq_setsockopt(pull, ZMQ_RCVTIMEO, &rcv_timeout_ms, sizeof(rcv_timeout_ms)),
                     0);
    ck_assert_msg(e2e_free_port(&port, NULL, 0, err, sizeof(err)) == MP_OK, "%s", err);
    snprintf(endpoint, 64, "tcp://127.0.0.1:%u", (unsigned)port);
    ck_assert_int_eq(zmq_bind(pull, endpoint), 0);
    return pull;
}

static size_t unit__body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct unit_answer *a = arg;
    return mp_buf_append(&a->body, data, size * nmemb) == MP_OK ? size * nmemb : 0;
}

/* Keeps the Content-Type, Allow and Retry-After header values. */
static size_t unit__header(char *data, size_t size, size_t nmemb, void *arg)
{
    struct unit_answer *a = arg;
    size_t n = size * nmemb;
    struct {
        const char *name;
        char *dst;
    } want[] = {{"content-type:", a->ctype}, {"allow:", a->allow}, {"retry-after:", a->retry_after}};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        size_t k = strlen(want[i].name);
        if (n > k && strncasecmp(data, want[i].name, k) == 0) {
            size_t v = k;
            while (v < n && data[v] == ' ')
                v++;
            size_t e = n;
            while (e > v && (data[e - 1] == '\r' || data[e - 1] == '\n'))
                e--;
            snprintf(want[i].dst, sizeof(a->ctype), "%.*s", (int)(e - v), data + v);
        }
    }
    return n;
}

void unit_http(const char *method, const char *url, const char *body, size_t len,
               const char *header, long timeout_ms, struct unit_answer *a)
{
    memset(a, 0, sizeof(*a));
    struct curl_slist *h = header ? curl_slist_append(NULL, header) : NULL;
    CURL *e = curl_easy_init();
    ck_assert_ptr_nonnull(e);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, unit__body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, unit__header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, a);
    if (body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    if (method && strcmp(method, "HEAD") == 0)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else if (method && strcmp(method, "GET") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    CURLcode cc = curl_easy_perform(e);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &a->status);
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
    ck_assert_msg(cc == CURLE_OK, "%s %s: %s", method ? method : "GET", url,
                  curl_easy_strerror(cc));
    if (!a->body.p)
        ck_assert_int_eq(mp_buf_puts(&a->body, ""), MP_OK);
}

char *unit_printed(int (*fn)(FILE *, const char *), const char *body, int want_rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fn(f, body), want_rc);
    fclose(f);
    return buf;
}

size_t unit_lines_fit(const char *t, size_t max)
{
    size_t n = 0;
    for (const char *p = t, *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1, n++)
        ck_assert_msg((size_t)(nl - p) <= max, "line %zu is %zu wide:\n%.*s", n,
                      (size_t)(nl - p), (int)(nl - p), p);
    return n;
}
