/* mp_pidfile.c — write, read and remove the daemon's pid file (see
 * mp_pidfile.h). */
#include "mp_pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int mp_pidfile_read(const char *path, pid_t *out)
{
    char buf[32];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? MP_ERR_NOTFOUND : MP_ERR_PARSE;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 1 || buf[n - 1] != '\n' || buf[0] < '1' || buf[0] > '9')
        return MP_ERR_PARSE;
    buf[n - 1] = '\0';
    char *end;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (errno || *end || v <= 0 || v > (long)0x7fffffff)
        return MP_ERR_PARSE;
    *out = (pid_t)v;
    return MP_OK;
}

/* 1 when pid is a running mailpulsed other than `self`. A pid that is
 * running but whose comm we cannot read counts as one (the safe side). */
static int pidfile__live_daemon(pid_t pid, pid_t self)
{
    if (pid == self || (kill(pid, 0) != 0 && errno == ESRCH))
        return 0;
    char p[64], comm[32] = "";
    snprintf(p, sizeof(p), "/proc/%ld/comm", (long)pid);
    FILE *f = fopen(p, "re");
    if (!f)
        return 1;
    int got = fgets(comm, sizeof(comm), f) != NULL;
    fclose(f);
    return !got || strcmp(comm, "mailpulsed\n") == 0;
}

int mp_pidfile_write(const char *path, pid_t pid, char *err, size_t errlen)
{
    pid_t old;
    if (mp_pidfile_read(path, &old) == MP_OK && pidfile__live_daemon(old, pid)) {
        snprintf(err, errlen, "pid file %s names mailpulsed %ld, which is running", path,
                 (long)old);
        return MP_ERR_STATE;
    }
    char tmp[4200], text[32];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)pid);
    int len = snprintf(text, sizeof(text), "%ld\n", (long)pid);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int ok = fd >= 0 && write(fd, text, (size_t)len) == len;
    int saved = errno;
    if (fd >= 0 && close(fd) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = 0;
        saved = errno;
    }
    if (!ok) {
        if (fd >= 0)
            unlink(tmp);
        snprintf(err, errlen, "pid file %s: %s", path, strerror(saved));
        return MP_ERR_IO;
    }
    return MP_OK;
}

void mp_pidfile_remove(const char *path, pid_t pid)
{
    pid_t in;
    if (mp_pidfile_read(path, &in) == MP_OK && in == pid)
        unlink(path);
}
