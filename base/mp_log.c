/* mp_log.c — key=value line logger and lock-free rate limiter (see mp_log.h). */
#include "mp_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mp.h"

/* Process configuration, written once before threads start. */
static enum mp_log_level log__level = MP_LOG_INFO;

void mp_log_set_level(enum mp_log_level lvl) { log__level = lvl; }

int mp_log_level_parse(const char *s, enum mp_log_level *out)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum mp_log_level)i;
            return 0;
        }
    }
    return -1;
}

void mp_log(enum mp_log_level lvl, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (lvl < log__level)
        return;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s msg=",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, names[lvl]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2; /* truncated: still one line */
    line[len++] = '\n';
    /* One write(2) per line keeps lines from different threads whole. */
    ssize_t w = write(STDERR_FILENO, line, len);
    MP_UNUSED(w);
}

int mp_ratelimit_allow(struct mp_ratelimit *rl, int64_t now_ms, int64_t interval_ms,
                       uint64_t *suppressed)
{
    int64_t next = mp_load_relaxed(&rl->next_ms);
    /* Only the thread whose CAS moves next_ms forward gets to log; the others
     * count themselves as suppressed. Relaxed is enough: nothing else is
     * published through this struct. */
    if (now_ms >= next &&
        mp_cas_relaxed(&rl->next_ms, &next, now_ms + interval_ms)) {
        *suppressed = mp_xchg_relaxed(&rl->suppressed, 0);
        return 1;
    }
    mp_add_relaxed(&rl->suppressed, 1);
    return 0;
}
