/* test_install.c — `make install`, the tree it makes, and that it runs.
 *
 *   install_tree_runs: `make install DESTDIR=<tmp> PREFIX=/usr` puts the two
 *     programs, the config, the rules, the unit and the man pages where the
 *     README says; the installed config names /var/lib/mailpulse and
 *     rules.yaml; a copy of it next to it (so rules.yaml resolves the same)
 *     with only data_dir and the ports changed passes --check, and the
 *     installed mailpulsed started on it answers /healthz and stops on
 *     SIGTERM with exit 0.
 *   unit_verifies: `systemd-analyze verify` accepts the installed unit
 *     (its paths pointed into DESTDIR, since nothing is installed in /usr)
 *     and the unit has the hardening the README promises.
 *   man_pages_match_help: every option of `mailpulsed --help`, and every
 *     command of `mailpulse --help` with every option of its
 *     `mailpulse help CMD`, is in the man page (a command's options in its
 *     own subsection).
 *
 * The source tree is $MP_SRC_DIR, else the current directory (make runs the
 * suites from there). The `make install` child inherits MAKEFLAGS from the
 * `make test` that runs us, so it installs the build under test (its
 * CC/SANITIZER) without rebuilding anything.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "e2e_suite.h"

static char SRC[E2E_PATH_MAX], DEST[E2E_PATH_MAX + 16];

static void setup(void)
{
    ew_setup(&W, "install");
    ew_src_dir(&W, SRC, "mailpulse.example.yaml");
    snprintf(DEST, sizeof(DEST), "%s/dest", W.dir);
}

static void teardown(void) { ew_teardown(&W); }

/* Runs argv to completion; it must exit 0. Returns its stdout (free it). */
static char *run_ok(const char *name, char *const argv[], int timeout_ms)
{
    struct e2e_proc p;
    char *out = NULL, tail[1024];
    size_t len = 0;
    must_ok(e2e_run(&p, name, W.dir, argv, timeout_ms, W.err, sizeof(W.err)));
    e2e_file_tail(p.err_path, tail, sizeof(tail));
    must(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0, "%s: %s; stderr: %s", argv[0],
         (e2e_proc_describe(&p, W.err, sizeof(W.err)), W.err), tail);
    must(e2e_read_file(p.out_path, &out, &len) == MP_OK, "%s: no stdout file", name);
    return out;
}

static void make_install(void)
{
    char destdir[E2E_PATH_MAX + 32];
    snprintf(destdir, sizeof(destdir), "DESTDIR=%s", DEST);
    char *argv[] = {"/usr/bin/make", "-C", SRC, "--no-print-directory", "install", destdir,
                    "PREFIX=/usr", NULL};
    free(run_ok("make-install", argv, 300000));
}

static void must_file(const char *rel, mode_t mode)
{
    char path[E2E_PATH_MAX * 2];
    struct stat st;
    snprintf(path, sizeof(path), "%s%s", DEST, rel);
    must(stat(path, &st) == 0 && S_ISREG(st.st_mode), "%s not installed", rel);
    must((st.st_mode & 07777) == mode, "%s: mode %o, want %o", rel,
         (unsigned)(st.st_mode & 07777), (unsigned)mode);
}

/* text with the one line `from` replaced by `to`; `from` must be there once. */
static char *replace_line(char *text, const char *from, const char *to)
{
    char *at = strstr(text, from);
    must(at && (at == text || at[-1] == '\n') && at[strlen(from)] == '\n' &&
             strstr(at + 1, from) == NULL,
         "installed config: line \"%s\" not there exactly once", from);
    size_t head = (size_t)(at - text), n = strlen(text) - strlen(from) + strlen(to) + 1;
    char *out = malloc(n);
    must(out != NULL, "oom");
    snprintf(out, n, "%.*s%s%s", (int)head, text, to, at + strlen(from));
    free(text);
    return out;
}

START_TEST(install_tree_runs)
{
    make_install();
    must_file("/usr/bin/mailpulsed", 0755);
    must_file("/usr/bin/mailpulse", 0755);
    must_file("/usr/etc/mailpulse/mailpulse.yaml", 0644);
    must_file("/usr/etc/mailpulse/rules.yaml", 0644);
    must_file("/usr/etc/mailpulse/mailpulse.example.yaml", 0644);
    must_file("/usr/etc/mailpulse/rules.example.yaml", 0644);
    must_file("/usr/lib/systemd/system/mailpulse.service", 0644);
    must_file("/usr/share/man/man8/mailpulsed.8", 0644);
    must_file("/usr/share/man/man1/mailpulse.1", 0644);

    char cfg[E2E_PATH_MAX * 2], copy[E2E_PATH_MAX * 2], bin[E2E_PATH_MAX * 2], line[E2E_PATH_MAX * 2];
    char *text = NULL;
    size_t len = 0;
    snprintf(cfg, sizeof(cfg), "%s/usr/etc/mailpulse/mailpulse.yaml", DEST);
    snprintf(copy, sizeof(copy), "%s/usr/etc/mailpulse/test.yaml", DEST);
    snprintf(bin, sizeof(bin), "%s/usr/bin/mailpulsed", DEST);
    must(e2e_read_file(cfg, &text, &len) == MP_OK, "%s unreadable", cfg);
    must(strstr(text, "\nrules: rules.yaml\n") != NULL, "installed config names no rules.yaml");
    snprintf(line, sizeof(line), "data_dir: %s", W.data);
    text = replace_line(text, "data_dir: /var/lib/mailpulse", line);
    snprintf(line, sizeof(line), "  pull: %s", W.pull);
    text = replace_line(text, "  pull: tcp://127.0.0.1:7400", line);
    snprintf(line, sizeof(line), "  router: tcp://127.0.0.1:%u", (unsigned)ew_port(&W));
    text = replace_line(text, "  router: tcp://127.0.0.1:7401", line);
    snprintf(line, sizeof(line), "  listen: %s", W.http);
    text = replace_line(text, "  listen: 127.0.0.1:7480", line);
    must_ok(e2e_write_file(copy, text, W.err, sizeof(W.err)));
    free(text);

    char *check[] = {bin, "-c", copy, "--check", NULL};
    free(run_ok("installed-check", check, 30000));
    char *start[] = {bin, "-c", copy, NULL};
    must_ok(e2e_spawn(&W.daemon, "installed", W.dir, start, W.err, sizeof(W.err)));
    must_ok(e2e_wait_http_ok(&W.daemon, W.healthz, EW_READY_MS, W.err, sizeof(W.err)));
    ew_stop_ok(&W, &W.daemon);
    struct stat st;
    must(stat(W.data, &st) == 0 && S_ISDIR(st.st_mode), "no data dir %s after a run", W.data);
    W.passed = 1;
}
END_TEST

START_TEST(unit_verifies)
{
    make_install();
    char unit[E2E_PATH_MAX * 2], copy[E2E_PATH_MAX * 2], from[E2E_PATH_MAX * 2];
    char *text = NULL, *t;
    size_t len = 0;
    snprintf(unit, sizeof(unit), "%s/usr/lib/systemd/system/mailpulse.service", DEST);
    must(e2e_read_file(unit, &text, &len) == MP_OK, "%s unreadable", unit);
    static const char *const want[] = {
        "\nExecStart=/usr/bin/mailpulsed -c /usr/etc/mailpulse/mailpulse.yaml\n",
        "\nExecReload=/bin/kill -HUP $MAINPID\n", "\nRestart=on-failure\n",
        "\nDynamicUser=yes\n", "\nStateDirectory=mailpulse\n",
        "\nReadWritePaths=/var/lib/mailpulse\n", "\nProtectSystem=strict\n",
        "\nProtectHome=yes\n", "\nPrivateTmp=yes\n", "\nNoNewPrivileges=yes\n",
    };
    for (size_t i = 0; i < MP_ARRAY_LEN(want); i++)
        must(strstr(text, want[i]) != NULL, "unit lacks %s", want[i] + 1);
    /* Nothing is installed in /usr: verify the same unit with its program
     * and config paths in DESTDIR (verify checks the executables exist). */
    snprintf(from, sizeof(from), "%s/usr/bin/", DEST);
    size_t cap = len * 2 + 4096, o = 0;
    char *out = malloc(cap);
    must(out != NULL, "oom");
    for (t = text; *t;) {
        if (strncmp(t, "/usr/bin/", 9) == 0 || strncmp(t, "/usr/etc/", 9) == 0) {
            o += (size_t)snprintf(out + o, cap - o, "%s", DEST);
        }
        out[o++] = *t++;
    }
    out[o] = '\0';
    free(text);
    snprintf(copy, sizeof(copy), "%s/mailpulse.service", W.dir);
    must_ok(e2e_write_file(copy, out, W.err, sizeof(W.err)));
    free(out);
    struct e2e_proc p;
    char *argv[] = {"/usr/bin/systemd-analyze", "verify", "--man=no", copy, NULL};
    must(access(argv[0], X_OK) == 0, "systemd-analyze missing: scripts/deps.sh installs systemd");
    must_ok(e2e_run(&p, "verify", W.dir, argv, 60000, W.err, sizeof(W.err)));
    char tail[2048];
    e2e_file_tail(p.err_path, tail, sizeof(tail));
    must(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0, "systemd-analyze verify: %s", tail);
    char *said = NULL;
    size_t said_len = 0;
    must(e2e_read_file(p.err_path, &said, &said_len) == MP_OK, "no stderr file");
    must(said_len == 0, "systemd-analyze verify warned: %s", tail);
    free(said);
    W.passed = 1;
}
END_TEST

/* Man page text with roff's "\-" made "-", so options read as in --help. */
static char *man_text(const char *rel)
{
    char path[E2E_PATH_MAX * 2], *text = NULL;
    size_t len = 0, o = 0;
    snprintf(path, sizeof(path), "%s/%s", SRC, rel);
    must(e2e_read_file(path, &text, &len) == MP_OK, "%s unreadable", path);
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\\' && text[i + 1] == '-')
            continue;
        text[o++] = text[i];
    }
    text[o] = '\0';
    return text;
}

/* Every "-x" / "--name" that starts an option line of `help` ("  -c, --config
 * FILE  ...", "  --tenant T  ...") must be in [from, to) of the man page. */
static void options_in(const char *help, const char *what, const char *from, const char *to)
{
    size_t n = 0;
    for (const char *l = help; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        const char *p = l;
        while (*p == ' ')
            p++;
        if (p - l < 2 || p - l > 4 || *p != '-')
            continue;
        while (*p == '-') {
            char opt[64];
            size_t k = 0;
            while (p[k] && p[k] != ' ' && p[k] != ',' && p[k] != '\n' && k < sizeof(opt) - 1)
                k++;
            snprintf(opt, sizeof(opt), "%.*s", (int)k, p);
            char *hit = NULL;
            for (const char *s = from; (s = strstr(s, opt)) && s < to; s += k) {
                char after = s[k];
                if (after == ' ' || after == '"' || after == ',' || after == '\n' ||
                    after == '\\' || after == ']' || after == '|') {
                    hit = (char *)s;
                    break;
                }
            }
            must(hit != NULL, "%s: option %s of --help is not in its man page section", what, opt);
            n++;
            p += k;
            while (*p == ',' || *p == ' ')
                p++;
            if (*p != '-')
                break;
        }
    }
    must(n > 0, "%s: no options found in its help (format changed?)", what);
}

START_TEST(man_pages_match_help)
{
    char *d8 = man_text("man/mailpulsed.8"), *m1 = man_text("man/mailpulse.1");
    char *argv_d[] = {W.mailpulsed, "--help", NULL};
    char *help = run_ok("daemon-help", argv_d, 10000);
    options_in(help, "mailpulsed", d8, d8 + strlen(d8));
    free(help);

    char *argv_c[] = {W.mailpulse, "--help", NULL};
    char *top = run_ok("cli-help", argv_c, 10000), *cmds = strstr(top, "\ncommands:\n");
    must(cmds != NULL, "mailpulse --help has no commands: list");
    size_t ncmd = 0;
    for (const char *l = cmds + 11; *l == ' '; l = strchr(l, '\n') + 1) {
        char cmd[32], sec[64], name[48];
        if (sscanf(l, " %31s", cmd) != 1)
            break;
        snprintf(sec, sizeof(sec), ".SS \"mailpulse %s\"", cmd);
        char *start = strstr(m1, sec);
        must(start != NULL, "mailpulse.1 has no subsection for command %s", cmd);
        char *end = strstr(start + 1, "\n.S");
        if (end == NULL)
            end = start + strlen(start);
        ncmd++;
        if (strcmp(cmd, "help") != 0) {
            char *argv_h[] = {W.mailpulse, "help", cmd, NULL};
            snprintf(name, sizeof(name), "help-%s", cmd);
            char *h = run_ok(name, argv_h, 10000), *opts = strstr(h, "\noptions:\n");
            must(opts != NULL, "mailpulse help %s has no options: list", cmd);
            options_in(opts, cmd, start, end);
            free(h);
        }
        if (strchr(l, '\n') == NULL)
            break;
    }
    must(ncmd >= 5, "only %zu commands read from mailpulse --help", ncmd);
    free(top);
    free(d8);
    free(m1);
    W.passed = 1;
}
END_TEST

EW_SUITE("install", 300, setup, teardown, {install_tree_runs, 0}, {unit_verifies, 0},
         {man_pages_match_help, 0})
