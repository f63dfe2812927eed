/* unit_util.h — helpers the unit suites share: a temp directory per case, a
 * fresh RocksDB store in it, and N threads started and joined together.
 *
 * What it does
 *   - unit_tmpdir(): mkdtemp() under $TMPDIR (or /tmp), realpath'd (the
 *     config loader resolves paths), named after `tag`;
 *     unit_tmpdir_remove() removes it and everything under it;
 *   - unit_write_file(): a file with a given text (configs, keys, pid files);
 *     unit_refused_at(): that a loader's message names the line and problem;
 *   - unit_store_open(): eng_store_open("<dir>/db");
 *   - unit_threads_start()/unit_threads_join(): n threads on
 *     fn(args + i * size), started together and joined together (the case's
 *     own thread may tick or flush in between); unit_threads_run() is both;
 *   - unit_pull_bind(): a ZeroMQ PULL socket bound on a free loopback
 *     port, for the CLI producers' suites to receive what they send;
 *   - unit_http(): one HTTP request through libcurl, for the suites that
 *     check what a server answers (status, body, Content-Type, Allow);
 *   - unit_printed(): what a printer (cli_*_print) writes for a body, and
 *     unit_lines_fit(): that every line of a text fits a terminal width.
 *
 * These are Check-aware: a failure is an assertion (ck_assert_msg) that
 * ends the case, so the functions return only what worked.
 *
 * Threads: call from the test's thread; the started threads are the
 * caller's code. No globals.
 *
 * Ownership: the caller owns `dir` (a buffer of UNIT_PATH_MAX) and the
 * store (eng_store_close it).
 */
#ifndef UNIT_UTIL_H
#define UNIT_UTIL_H

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

#include "eng_store.h"
#include "mp_buf.h"

#define UNIT_PATH_MAX 512

/* Makes the directory into dir (UNIT_PATH_MAX bytes). */
void unit_tmpdir(const char *tag, char dir[UNIT_PATH_MAX]);
/* Removes it (it must go: a failure is an assertion). "" is a no-op. */
void unit_tmpdir_remove(const char *dir);
/* Writes text to path (created or truncated): a failure is an assertion. */
void unit_write_file(const char *path, const char *text);
/* A text a loader must refuse (a config, a rules file), and the start of
 * the message it must give after "<file>:<line>: ". */
struct unit_refusal {
    const char *yaml, *want;
    int line;
};
/* err must begin with "<file>:<r->line>: <r->want>" (an assertion naming
 * row i of the caller's table otherwise). */
void unit_refused_at(const char *err, const char *file, const struct unit_refusal *r, int i);
/* Looser, for messages whose wording around the problem varies: err begins
 * with "<file>:<r->line>: " and holds r->want somewhere after it. */
void unit_refused_near(const char *err, const char *file, const struct unit_refusal *r, int i);
/* A store at <dir>/db (created when missing). */
struct eng_store *unit_store_open(const char *dir);

/* A full disk, for real: unit_tmpfs_mount() makes `dir` (when missing) and
 * mounts a tmpfs of `mb` MiB on it (the suites run as root, as CI does: a
 * failed mount is an assertion that says so); unit_tmpfs_umount() detaches
 * it (teardown: always). unit_disk_fill() fills the file system of `dir`
 * to the last byte with <dir>/fill; unit_disk_free() removes that file. */
void unit_tmpfs_mount(const char *dir, int mb);
void unit_tmpfs_umount(const char *dir);
void unit_disk_fill(const char *dir);
void unit_disk_free(const char *dir);
#define UNIT_MAX_THREADS 64

struct unit_threads {
    pthread_t th[UNIT_MAX_THREADS];
    size_t n;
};

/* Starts fn(args + i * size) for i in 0..n-1 on n threads (n <=
 * UNIT_MAX_THREADS). */
void unit_threads_start(struct unit_threads *t, size_t n, void *(*fn)(void *), void *args,
                        size_t size);
/* Joins them all; their return values must all be NULL. */
void unit_threads_join(struct unit_threads *t);
/* Start, then join. */
void unit_threads_run(size_t n, void *(*fn)(void *), void *args, size_t size);

/* A PULL socket of zctx with a receive timeout of rcv_timeout_ms, bound
 * on a free port of 127.0.0.1; endpoint receives "tcp://127.0.0.1:PORT".
 * The caller zmq_close()s it. */
void *unit_pull_bind(void *zctx, int rcv_timeout_ms, char endpoint[64]);

/* What a server answered unit_http(). */
struct unit_answer {
    long status;
    struct mp_buf body; /* NUL-terminated, "" when empty (mp_buf_free it) */
    char ctype[128];    /* the Content-Type header's value, "" without one */
    char allow[128];    /* the Allow header's value, "" without one */
    char retry_after[128]; /* the Retry-After header's value, "" without one */
};
/* method (NULL or "GET"; "HEAD" asks for no body; any other is sent as
 * it is) on url, with body[0..len) when body is set (a POST unless method
 * says otherwise) and one more header line when header is set. An answer
 * must come within timeout_ms (an assertion otherwise). */
void unit_http(const char *method, const char *url, const char *body, size_t len,
               const char *header, long timeout_ms, struct unit_answer *a);

/* What fn prints for body (into a memory stream); fn must return want_rc.
 * The caller frees the text. */
char *unit_printed(int (*fn)(FILE *, const char *), const char *body, int want_rc);
/* Every line of t is at most max wide (an assertion naming the line);
 * returns the number of lines. */
size_t unit_lines_fit(const char *t, size_t max);

#endif
