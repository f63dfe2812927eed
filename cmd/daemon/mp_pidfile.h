/* mp_pidfile.h — the daemon's pid file: one decimal pid and a newline, so
 * `kill -HUP "$(cat DATA_DIR/run.pid)"` signals this daemon and no other.
 *
 * Contract:
 *   - mp_pidfile_write() is called after the data directory's lock is held
 *     (mailpulsed's LOCK.mailpulsed flock), so a second daemon on the same
 *     data directory fails on the lock and never reaches it. It writes
 *     "<pid>\n" to a temporary file beside `path` and renames it over
 *     `path`, so a reader sees the old file or the whole new one, never a
 *     half-written one. An existing file is replaced when the pid in it is
 *     ours, is not a running process (stale: a daemon that was killed), or
 *     is not a mailpulsed (a recycled pid, by /proc/PID/comm). It is
 *     refused (MP_ERR_STATE) when it names another running mailpulsed: that
 *     can only happen with a --pid-file shared by two data directories.
 *     MP_OK, MP_ERR_STATE or MP_ERR_IO with one line in err.
 *   - mp_pidfile_remove() unlinks `path` on a clean exit, only while it
 *     still holds `pid` (a file another daemon has since written stays).
 * Threads: the main thread, at start and at exit. No state.
 */
#ifndef MP_PIDFILE_H
#define MP_PIDFILE_H

#include <stddef.h>
#include <sys/types.h>

#include "mp.h"

/* The default path's name inside the data directory. */
#define MP_PIDFILE_NAME "run.pid"

int mp_pidfile_write(const char *path, pid_t pid, char *err, size_t errlen);
void mp_pidfile_remove(const char *path, pid_t pid);
/* The pid in the file at `path`: MP_OK, MP_ERR_NOTFOUND (no file) or
 * MP_ERR_PARSE (not one decimal pid and a newline). */
int mp_pidfile_read(const char *path, pid_t *out);

#endif
