/* e2e_harness.h — end-to-end harness: the real mailpulsed and `mailpulse
 * sink` as child processes, driven through their real sockets.
 *
 * What it does
 *   - picks free loopback TCP ports, makes and removes temp directories,
 *     writes daemon config files from a table (e2e_config_write);
 *   - starts programs from MP_BIN_DIR with fork/execv, stdout and stderr
 *     going to <dir>/<name>.out and <dir>/<name>.err; waits for readiness
 *     by polling (HTTP 200 on a URL, or a TCP connect) against a deadline;
 *     stops them with a signal and a deadline, or SIGKILLs them;
 *   - sends EventBatch frames over a ZeroMQ PUSH socket (500 events per
 *     frame), or any raw bytes as one frame;
 *   - reads the daemon's /metrics (libcurl) and the sink's JSON-lines file
 *     (jansson), polling until a predicate holds or a deadline passes;
 *   (the in-process HTTP receiver is tests/http_receiver.h; the Check-aware
 *   world an e2e case runs in is tests/e2e_world.h.)
 *
 * Return values: every fallible function returns MP_OK or an MP_ERR_* code
 * (mp.h). On error, `err` (when not NULL) holds one line saying what went
 * wrong, including the tail of the process's log where one is involved;
 * out-parameters are untouched unless said otherwise. MP_ERR_AGAIN means a
 * deadline passed.
 *
 * Threads and processes: everything is for one thread (the test's or the
 * bench's). Children are started in the caller's process
 * group (so a test runner that kills the group, as Check does after a forked
 * test, takes them along) and with PR_SET_PDEATHSIG = SIGKILL, so no daemon
 * outlives the process that started it. Nothing here knows about Check: no
 * globals, no assertions, no main().
 *
 * Ownership: the caller owns every struct it passes in; strings returned
 * through char ** are malloc'd and freed by the caller; json_t results are
 * new references (json_decref them).
 *
 * Clocks: mono values are CLOCK_MONOTONIC nanoseconds (mp_mono_ns), the
 * clock `mailpulse sink` writes as "mono_ns", so latencies between the two
 * processes on one host are plain differences.
 */
#ifndef E2E_HARNESS_H
#define E2E_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "mp.h"

#define E2E_PATH_MAX 512
#define E2E_ERR_MAX 4096          /* room for a message plus a log tail */
#define E2E_EVENTS_PER_FRAME 500  /* e2e_send_events splits batches at this */

/* ---- files and directories --------------------------------------------- */

/* Full path of program `prog` in $MP_BIN_DIR. MP_ERR_NOTFOUND when the
 * variable is unset or the file is not executable. */
int e2e_bin_path(const char *prog, char *out, size_t n, char *err, size_t errlen);
/* mkdtemp() under $TMPDIR (or /tmp), realpath'd; `tag` names it. */
int e2e_tmpdir_create(const char *tag, char *out, size_t n, char *err, size_t errlen);
/* Removes `dir` and everything under it. Best effort; NULL/"" is a no-op. */
void e2e_tmpdir_remove(const char *dir);
int e2e_write_file(const char *path, const char *text, char *err, size_t errlen);
/* Whole file, NUL-terminated (*len excludes the NUL; len may be NULL).
 * A missing file is MP_ERR_NOTFOUND. */
int e2e_read_file(const char *path, char **out, size_t *len);
/* 1 when the file exists and contains `needle`, else 0. */
int e2e_file_contains(const char *path, const char *needle);
/* The last `n - 1` bytes of the file (or "(no output)"), always terminated. */
void e2e_file_tail(const char *path, char *out, size_t n);

/* ---- ports -------------------------------------------------------------- */

/* A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0,
 * getsockname, close). Ports already in `avoid` (navoid entries) are not
 * returned, so one test's ports are distinct. */
int e2e_free_port(uint16_t *port, const uint16_t *avoid, size_t navoid, char *err,
                  size_t errlen);
/* MP_OK once a TCP connect to 127.0.0.1:port succeeds. */
int e2e_tcp_probe(uint16_t port);

/* ---- daemon config ------------------------------------------------------ */

struct e2e_receiver_conf {
    const char *name;   /* [A-Za-z0-9._-]{1,64} */
    const char *url;    /* http://... */
    const char *secret; /* NULL: none */
};

struct e2e_route_conf {
    const char *tenant;
    const char *receivers; /* body of a YAML flow list: "a-hook" or "a-hook, ops" */
};

/* The `alerting:` section: each key is a duration as the config takes it
 * ("100ms", "1s"); NULL leaves the key out (the daemon's default). */
struct e2e_alerting_conf {
    const char *group_interval;
    const char *retry_initial;
    const char *retry_max;
    const char *max_age;
    const char *timeout;
};

struct e2e_daemon_conf {
    const char *data_dir;    /* absolute */
    const char *pull;        /* tcp://127.0.0.1:PORT */
    const char *http_listen; /* 127.0.0.1:PORT */
    int workers;             /* 0: key left out */
    const struct e2e_receiver_conf *receivers;
    size_t nreceivers;
    const char *default_route; /* flow list body as in e2e_route_conf; NULL: none */
    const struct e2e_route_conf *routes;
    size_t nroutes;
    const char *rules;                         /* `rules:` path; NULL: built-in defaults */
    const char *log_level;                     /* NULL: key left out */
    uint32_t max_keys;                         /* engine.max_keys; 0: key left out */
    const struct e2e_alerting_conf *alerting;  /* NULL: no `alerting:` section */
    const char *http_extra; /* lines of the http: section after listen, as is; NULL: none */
};

/* Writes the YAML config for `c` to `path`. Strings are double-quoted and
 * escaped. */
int e2e_config_write(const char *path, const struct e2e_daemon_conf *c, char *err,
                     size_t errlen);

/* ---- child processes ---------------------------------------------------- */

struct e2e_proc {
    char name[32];
    pid_t pid;   /* > 0 from spawn until reaped */
    int reaped;  /* 1 once waitpid() returned it */
    int status;  /* the wait status, valid when reaped */
    char out_path[E2E_PATH_MAX]; /* <dir>/<name>.out: stdout */
    char err_path[E2E_PATH_MAX]; /* <dir>/<name>.err: stderr */
};

/* Starts argv[0] (a path) with argv, stdin from /dev/null, stdout/stderr to
 * <dir>/<name>.out/.err (truncated). On MP_OK p->pid is the child. */
int e2e_spawn(struct e2e_proc *p, const char *name, const char *dir, char *const argv[],
              char *err, size_t errlen);
/* Reaps the child if it has exited (no waiting). Returns 1 when it is still
 * running, 0 when it has exited (p->status set) or was never started. */
int e2e_proc_running(struct e2e_proc *p);
/* Waits up to timeout_ms for the child to exit: MP_OK (p->status set) or
 * MP_ERR_AGAIN. */
int e2e_proc_wait(struct e2e_proc *p, int timeout_ms);
/* kill(sig) then e2e_proc_wait(). MP_ERR_STATE when it already exited. */
int e2e_proc_signal_wait(struct e2e_proc *p, int sig, int timeout_ms);
/* SIGKILL and reap if still running; a no-op otherwise. For teardown. */
void e2e_proc_kill(struct e2e_proc *p);
/* "exited 0", "exited 1", "killed by signal 9", "running". */
void e2e_proc_describe(const struct e2e_proc *p, char *out, size_t n);

/* Runs argv to completion (at most timeout_ms), as e2e_spawn + wait; on
 * timeout the child is killed and MP_ERR_AGAIN returned. */
int e2e_run(struct e2e_proc *p, const char *name, const char *dir, char *const argv[],
            int timeout_ms, char *err, size_t errlen);

/* Polls until GET url answers 200, the child exits, or timeout_ms passes.
 * MP_OK; MP_ERR_STATE (the child exited) or MP_ERR_AGAIN, with the last
 * error and the tail of the child's stderr in `err`. */
int e2e_wait_http_ok(struct e2e_proc *p, const char *url, int timeout_ms, char *err,
                     size_t errlen);
/* Same, until a TCP connect to 127.0.0.1:port succeeds. */
int e2e_wait_tcp(struct e2e_proc *p, uint16_t port, int timeout_ms, char *err, size_t errlen);

/* ---- HTTP and /metrics -------------------------------------------------- */

/* GET url with libcurl: MP_OK with *status and *body (malloc'd, may be
 * NULL when not wanted), MP_ERR_IO when no HTTP answer came. Call
 * curl_global_init() once before the first use. */
int e2e_http_get(const char *url, int timeout_ms, long *status, char **body);
/* The value of the Prometheus series `series` (the exact text before the
 * value, labels included: `mailpulse_rejected_total{reason="bad_frame"}`)
 * in `text`. MP_ERR_NOTFOUND when absent, MP_ERR_PARSE when not an integer. */
int e2e_metric(const char *text, const char *series, uint64_t *val);
/* The same for any number ("0.25", "1e+06"): MP_ERR_PARSE when none. */
int e2e_metric_double(const char *text, const char *series, double *val);

/* ---- ZeroMQ producer ---------------------------------------------------- */

/* A PUSH socket connected to `endpoint`, with ZMQ_LINGER = linger_ms (so
 * zmq_ctx_term() flushes what is queued) and a 5 s send timeout. */
int e2e_push_open(void *zctx, const char *endpoint, int linger_ms, void **out, char *err,
                  size_t errlen);

/* One event as the test builds it; type is a raw wire value (99 is fine). */
struct e2e_event {
    const char *tenant, *mailbox, *domain;
    int type;
    int64_t time_ms;
};

/* Serialises the events (and producer_id when not NULL) into one
 * EventBatch: MP_OK with *buf (malloc'd) and *len. n may be 0. */
int e2e_batch_pack(const struct e2e_event *ev, size_t n, const char *producer_id,
                   uint8_t **buf, size_t *len);
/* The same with every event carrying `campaign` (NULL: none). */
int e2e_batch_pack_campaign(const struct e2e_event *ev, size_t n, const char *campaign,
                            const char *producer_id, uint8_t **buf, size_t *len);
/* Sends len bytes as one frame (len 0 is an empty frame). When
 * mono_before_ns is not NULL it receives the monotonic time taken
 * immediately before zmq_send(). */
int e2e_send_frame(void *sock, const void *buf, size_t len, int64_t *mono_before_ns);
/* Sends `count` identical events in frames of E2E_EVENTS_PER_FRAME. */
int e2e_send_events(void *sock, const char *tenant, const char *mailbox, const char *domain,
                    int type, size_t count, int64_t time_ms);

/* ---- JSON lines (the sink's --out file) --------------------------------- */

/* Every complete line of `path` parsed, as a JSON array (empty when the file
 * is missing or empty). A line that does not parse is MP_ERR_PARSE. */
int e2e_jsonl_load(const char *path, json_t **out);
/* Polls e2e_jsonl_load() every 10 ms until pred(records, arg) returns
 * non-zero (MP_OK) or timeout_ms passes (MP_ERR_AGAIN). *out (may be NULL)
 * receives the last records read either way. */
int e2e_jsonl_wait(const char *path, int (*pred)(json_t *records, void *arg), void *arg,
                   int timeout_ms, json_t **out);

#endif
