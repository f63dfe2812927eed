/* test_e2e_ops.c — Check suite: what an operator touches, end to end with
 * the real mailpulsed and mailpulse (issue 10, item 3 and item 5's log
 * format).
 *
 *   - the pid file: DATA_DIR/run.pid holds the daemon's pid once it serves,
 *     a SIGHUP sent through it reloads, a second daemon on the same data
 *     directory (refused by the data dir lock) leaves it alone, and a clean
 *     SIGTERM removes it; a stale file (a dead pid, or garbage) is replaced;
 *     --pid-file PATH is honoured (and then no run.pid is written);
 *   - --log-format json: every line the daemon writes parses as one JSON
 *     object with ts, level and msg;
 *   - the CLI as a process: -V / --version print "mailpulse VERSION" like
 *     mailpulsed -V; `help bogus` says the command is unknown, lists the
 *     real ones and exits 2; $MAILPULSE_API and a bare host:port reach the
 *     running daemon, and a bad $MAILPULSE_API is named, exit 2.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "e2e_suite.h"

EW_FIXTURE("e2eo")

/* The pid in the file, or -1 when it is missing; garbage fails the case. */
static long pid_in(const char *path)
{
    char *text = NULL;
    if (e2e_read_file(path, &text, NULL) == MP_ERR_NOTFOUND)
        return -1;
    must(text != NULL, "cannot read %s", path);
    char *end = NULL;
    long v = strtol(text, &end, 10);
    must(v > 0 && end && strcmp(end, "\n") == 0, "%s: not one pid and a newline: \"%s\"", path,
         text);
    free(text);
    return v;
}

/* Polls until `path` holds exactly "<pid>\n": the pid file is the last
 * step of a start, after /healthz already answers, so a slow (sanitizer)
 * build may still show what was there before. Fails after 10 s. */
static void pid_file_wait(const char *path, pid_t pid, const char *what)
{
    char want[32];
    snprintf(want, sizeof(want), "%ld\n", (long)pid);
    int64_t end = mp_mono_ns() + 10000 * 1000000LL;
    char *text = NULL;
    for (;;) {
        free(text);
        text = NULL;
        if (e2e_read_file(path, &text, NULL) == MP_OK && text && strcmp(text, want) == 0)
            break;
        must(mp_mono_ns() < end, "%s: %s holds \"%s\", not the daemon's pid %ld", what, path,
             text ? text : "(nothing)", (long)pid);
        usleep(10 * 1000);
    }
    free(text);
}

/* A pid that was a process a moment ago and is not one now. */
static pid_t dead_pid(void)
{
    pid_t p = fork();
    must(p >= 0, "fork: %s", strerror(errno));
    if (p == 0)
        _exit(0);
    int st;
    must(waitpid(p, &st, 0) == p, "waitpid: %s", strerror(errno));
    return p;
}

/* Runs `mailpulse` with argv (after the program) to its end: the exit
 * status; its stdout and stderr in *out and *err (caller frees). */
static int run_cli(char *const args[], char **out, char **err)
{
    char *argv[16] = {W.mailpulse};
    for (size_t i = 0; args[i]; i++) {
        must(i + 2 < MP_ARRAY_LEN(argv), "too many arguments");
        argv[i + 1] = args[i];
    }
    must_ok(e2e_run(&W.cli, "cli", W.dir, argv, 20000, W.err, sizeof(W.err)));
    must(WIFEXITED(W.cli.status), "mailpulse %s did not exit", args[0]);
    e2e_read_file(W.cli.out_path, out, NULL);
    e2e_read_file(W.cli.err_path, err, NULL);
    must(*out && *err, "no output files of mailpulse %s", args[0]);
    return WEXITSTATUS(W.cli.status);
}

START_TEST(pid_file_in_data_dir)
{
    char pidf[E2E_PATH_MAX + 64], text[32];
    snprintf(pidf, sizeof(pidf), "%s/run.pid", W.data);
    must(mkdir(W.data, 0750) == 0 || errno == EEXIST, "mkdir %s: %s", W.data, strerror(errno));
    snprintf(text, sizeof(text), "%ld\n", (long)dead_pid()); /* a killed daemon's */
    must_ok(e2e_write_file(pidf, text, W.err, sizeof(W.err)));

    ew_start_daemon(&W, (struct e2e_daemon_conf){0});
    pid_file_wait(pidf, W.daemon.pid, "the stale run.pid replaced");
    ew_wait_log(&W, "pid_file path=", 5000);

    /* the documented reload: kill -HUP "$(cat DATA_DIR/run.pid)" */
    must(kill((pid_t)pid_in(pidf), SIGHUP) == 0, "kill -HUP: %s", strerror(errno));
    ew_wait_log(&W, "reloaded rules=", 5000);
    must(e2e_proc_running(&W.daemon), "the daemon exited after SIGHUP");

    /* a second daemon on the same data directory fails on the lock and
     * does not touch the first one's pid file */
    struct e2e_proc second;
    char *argv[] = {W.mailpulsed, "-c", W.cfg, NULL};
    must_ok(e2e_run(&second, "second", W.dir, argv, 20000, W.err, sizeof(W.err)));
    must(WIFEXITED(second.status) && WEXITSTATUS(second.status) == 1,
         "a second daemon on one data dir must exit 1");
    must(e2e_file_contains(second.err_path, "in use by another mailpulsed"),
         "the second daemon's refusal");
    must(pid_in(pidf) == (long)W.daemon.pid, "the second daemon rewrote run.pid");

    ew_stop_ok(&W, &W.daemon);
    must(pid_in(pidf) == -1, "run.pid is still there after a clean exit");

    /* garbage in the file: replaced too */
    must_ok(e2e_write_file(pidf, "not a pid", W.err, sizeof(W.err)));
    ew_spawn_daemon(&W);
    pid_file_wait(pidf, W.daemon.pid, "garbage run.pid replaced");
    ew_stop_ok(&W, &W.daemon);
    must(pid_in(pidf) == -1, "run.pid is still there after the second clean exit");
    W.passed = 1;
}
END_TEST

START_TEST(pid_file_flag_and_json_logs)
{
    char pidf[E2E_PATH_MAX + 64], def[E2E_PATH_MAX + 64], text[32];
    snprintf(pidf, sizeof(pidf), "%s/custom.pid", W.dir);
    snprintf(def, sizeof(def), "%s/run.pid", W.data);
    snprintf(text, sizeof(text), "%ld\n", (long)dead_pid());
    must_ok(e2e_write_file(pidf, text, W.err, sizeof(W.err))); /* stale */
    ew_write_config(&W, (struct e2e_daemon_conf){0});
    char *argv[] = {W.mailpulsed, "-c",           W.cfg, "--pid-file", pidf,
                    "--log-format", "json",       NULL};
    must_ok(e2e_spawn(&W.daemon, "mailpulsed", W.dir, argv, W.err, sizeof(W.err)));
    must_ok(e2e_wait_http_ok(&W.daemon, W.healthz, W.ready_ms, W.err, sizeof(W.err)));
    pid_file_wait(pidf, W.daemon.pid, "the stale --pid-file replaced");
    must(pid_in(def) == -1, "run.pid written beside --pid-file");
    must(kill((pid_t)pid_in(pidf), SIGHUP) == 0, "kill -HUP: %s", strerror(errno));
    ew_wait_log(&W, "\"msg\":\"reloaded\"", 5000);
    ew_stop_ok(&W, &W.daemon);
    must(pid_in(pidf) == -1, "--pid-file is still there after a clean exit");

    /* every line of the log is one JSON object with ts, level and msg */
    char *log = NULL;
    must_ok(e2e_read_file(W.daemon.err_path, &log, NULL));
    size_t lines = 0;
    for (char *p = log, *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1, lines++) {
        json_error_t e;
        json_t *j = json_loadb(p, (size_t)(nl - p), 0, &e);
        must(json_is_object(j) && json_is_string(json_object_get(j, "ts")) &&
                 json_is_string(json_object_get(j, "level")) &&
                 json_is_string(json_object_get(j, "msg")),
             "log line %zu is not a JSON object with ts, level, msg (%s): %.*s", lines, e.text,
             (int)(nl - p), p);
        json_decref(j);
    }
    must(lines >= 4, "only %zu log lines", lines);
    free(log);

    /* a bad --log-format is a usage error */
    struct e2e_proc bad;
    char *bad_argv[] = {W.mailpulsed, "-c", W.cfg, "--log-format", "xml", NULL};
    must_ok(e2e_run(&bad, "bad", W.dir, bad_argv, 20000, W.err, sizeof(W.err)));
    must(WIFEXITED(bad.status) && WEXITSTATUS(bad.status) == 2, "--log-format xml: exit 2");
    must(e2e_file_contains(bad.err_path, "--log-format: expected text or json"), "its refusal");
    W.passed = 1;
}
END_TEST

START_TEST(cli_version_help_and_env)
{
    char *out, *err;
    char *v[] = {"-V", NULL}, *vl[] = {"--version", NULL};
    must(run_cli(v, &out, &err) == 0, "mailpulse -V: exit 0");
    must(strcmp(out, "mailpulse " MP_VERSION "\n") == 0, "mailpulse -V printed \"%s\"", out);
    free(out), free(err);
    must(run_cli(vl, &out, &err) == 0, "mailpulse --version: exit 0");
    must(strcmp(out, "mailpulse " MP_VERSION "\n") == 0, "--version printed \"%s\"", out);
    free(out), free(err);

    char *bogus[] = {"help", "bogus", NULL};
    must(run_cli(bogus, &out, &err) == 2, "mailpulse help bogus: exit 2");
    must(strstr(err, "unknown command 'bogus'") && strstr(err, "  alerts ") &&
             strstr(err, "  stats ") && strstr(err, "  send "),
         "help bogus said: %s", err);
    free(out), free(err);
    char *help_stats[] = {"help", "stats", NULL};
    must(run_cli(help_stats, &out, &err) == 0 && strstr(out, "usage: mailpulse stats"),
         "help stats printed: %s", out);
    free(out), free(err);

    ew_start_daemon(&W, (struct e2e_daemon_conf){0});
    /* $MAILPULSE_API as host:port, no --api: the table from the daemon */
    must(setenv("MAILPULSE_API", W.http, 1) == 0, "setenv");
    char *alerts[] = {"alerts", NULL};
    must(run_cli(alerts, &out, &err) == 0, "alerts with $MAILPULSE_API=%s: %s", W.http, err);
    must(strcmp(out, "no pending or firing alerts\n") == 0, "alerts printed: %s", out);
    free(out), free(err);
    /* --api beats it */
    must(setenv("MAILPULSE_API", "http://127.0.0.1:1", 1) == 0, "setenv");
    char *flag[] = {"alerts", "--json", "--api", W.http, NULL};
    must(run_cli(flag, &out, &err) == 0, "alerts --api %s: %s", W.http, err);
    json_t *j = json_loads(out, 0, NULL);
    must(json_is_array(json_object_get(j, "alerts")), "alerts --json printed: %s", out);
    json_decref(j);
    free(out), free(err);
    /* a bad variable is named, exit 2 */
    must(setenv("MAILPULSE_API", "127.0.0.1", 1) == 0, "setenv");
    must(run_cli(alerts, &out, &err) == 2, "a bad $MAILPULSE_API: exit 2");
    must(strstr(err, "$MAILPULSE_API: expected") != NULL, "its refusal: %s", err);
    free(out), free(err);
    unsetenv("MAILPULSE_API");
    ew_pass(&W);
}
END_TEST

EW_SUITE("e2e_ops", 60, setup, teardown, {pid_file_in_data_dir, 0},
         {pid_file_flag_and_json_logs, 0}, {cli_version_help_and_env, 0})
