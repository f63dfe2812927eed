/* test_mp_pidfile.c — Check suite "mp_pidfile": cmd/daemon/mp_pidfile, the
 * daemon's pid file.
 *
 * Written as "<pid>\n" and read back; a file naming a dead pid, garbage, or
 * a live process that is not a mailpulsed (a recycled pid) is replaced; one
 * naming a live mailpulsed (a child renamed so with PR_SET_NAME) is refused
 * and left as it was; no temporary file is left beside it; remove() only
 * unlinks a file that still holds the pid given; a directory that does not
 * exist is MP_ERR_IO naming the path.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>

#include "check_main.h"
#include "mp_pidfile.h"
#include "unit_util.h"

static char dir[UNIT_PATH_MAX], path[UNIT_PATH_MAX + 16];

static void setup(void)
{
    unit_tmpdir("pidfile", dir);
    snprintf(path, sizeof(path), "%s/run.pid", dir);
}

static void teardown(void) { unit_tmpdir_remove(dir); }

static void put(const char *text)
{
    unit_write_file(path, text);
}

static size_t entries(void)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

START_TEST(write_read_remove)
{
    char err[256] = "";
    pid_t got = 0;
    ck_assert_int_eq(mp_pidfile_read(path, &got), MP_ERR_NOTFOUND);
    ck_assert_int_eq(mp_pidfile_write(path, 4242, err, sizeof(err)), MP_OK);
    ck_assert_int_eq(mp_pidfile_read(path, &got), MP_OK);
    ck_assert_int_eq(got, 4242);
    ck_assert_uint_eq(entries(), 1); /* the temporary file was renamed */
    mp_pidfile_remove(path, 4243);   /* not ours: stays */
    ck_assert_int_eq(mp_pidfile_read(path, &got), MP_OK);
    mp_pidfile_remove(path, 4242);
    ck_assert_int_eq(mp_pidfile_read(path, &got), MP_ERR_NOTFOUND);
    static const char *bad[] = {"", "\n", "12", "0\n", "-1\n", "12 \n", "x\n", "99999999999\n"};
    for (size_t i = 0; i < MP_ARRAY_LEN(bad); i++) {
        put(bad[i]);
        ck_assert_msg(mp_pidfile_read(path, &got) == MP_ERR_PARSE, "\"%s\"", bad[i]);
    }
    char missing[UNIT_PATH_MAX + 32];
    snprintf(missing, sizeof(missing), "%s/no/run.pid", dir);
    ck_assert_int_eq(mp_pidfile_write(missing, 1, err, sizeof(err)), MP_ERR_IO);
    ck_assert_msg(strstr(err, missing) != NULL, "%s", err);
}
END_TEST

/* A child that sleeps under the given name until killed. */
static pid_t named_child(const char *name)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t c = fork();
    ck_assert_int_ge(c, 0);
    if (c == 0) {
        prctl(PR_SET_NAME, name);
        close(p[0]);
        if (write(p[1], "x", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    close(p[1]);
    char x;
    ck_assert_int_eq(read(p[0], &x, 1), 1); /* renamed by now */
    close(p[0]);
    return c;
}

START_TEST(stale_replaced_live_refused)
{
    char err[256] = "", text[32];
    pid_t got = 0, dead = fork();
    ck_assert_int_ge(dead, 0);
    if (dead == 0)
        _exit(0);
    waitpid(dead, NULL, 0);
    snprintf(text, sizeof(text), "%ld\n", (long)dead);
    put(text);
    ck_assert_int_eq(mp_pidfile_write(path, getpid(), err, sizeof(err)), MP_OK);
    ck_assert_int_eq(mp_pidfile_read(path, &got), MP_OK);
    ck_assert_int_eq(got, getpid());

    put("garbage");
    ck_assert_int_eq(mp_pidfile_write(path, getpid(), err, sizeof(err)), MP_OK);

    pid_t other = named_child("sleeper"); /* a recycled pid: not a mailpulsed */
    snprintf(text, sizeof(text), "%ld\n", (long)other);
    put(text);
    ck_assert_int_eq(mp_pidfile_write(path, getpid(), err, sizeof(err)), MP_OK);

    pid_t live = named_child("mailpulsed");
    snprintf(text, sizeof(text), "%ld\n", (long)live);
    put(text);
    ck_assert_int_eq(mp_pidfile_write(path, getpid(), err, sizeof(err)), MP_ERR_STATE);
    ck_assert_msg(strstr(err, "is running") != NULL, "%s", err);
    ck_assert_int_eq(mp_pidfile_read(path, &got), MP_OK);
    ck_assert_int_eq(got, live);
    kill(other, SIGKILL);
    kill(live, SIGKILL);
    waitpid(other, NULL, 0);
    waitpid(live, NULL, 0);
}
END_TEST

CHECK_SUITE("mp_pidfile", 0, setup, teardown, write_read_remove, stale_replaced_live_refused)
