/* mp_log.h — one-line key=value logging to stderr, and a rate limiter.
 *
 * Contract: mp_log() writes one complete line per call
 * ("ts=... level=info msg=... k=v ...") with a single write(2), so lines from
 * different threads never interleave. It is safe from any thread. The level
 * threshold is process configuration set once at start (mp_log_set_level),
 * the one piece of global state the style allows ("the loaded config").
 *
 * Hot paths never log per event: they count, and consult an mp_ratelimit
 * before logging. mp_ratelimit_allow() is thread-safe and lock-free; it lets
 * through at most one call per `interval_ms` and reports how many calls were
 * suppressed since the last one allowed.
 */
#ifndef MP_LOG_H
#define MP_LOG_H

#include <stdint.h>

#include "mp_atomic.h"

enum mp_log_level { MP_LOG_DEBUG = 0, MP_LOG_INFO = 1, MP_LOG_WARN = 2, MP_LOG_ERROR = 3 };

void mp_log_set_level(enum mp_log_level lvl);
/* Parses "debug|info|warn|error"; returns 0 and sets *out, or -1. */
int mp_log_level_parse(const char *s, enum mp_log_level *out);

/* fmt continues the line after "msg=": callers pass `"name k=%s"` style. */
void mp_log(enum mp_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define mp_debug(...) mp_log(MP_LOG_DEBUG, __VA_ARGS__)
#define mp_info(...) mp_log(MP_LOG_INFO, __VA_ARGS__)
#define mp_warn(...) mp_log(MP_LOG_WARN, __VA_ARGS__)
#define mp_error(...) mp_log(MP_LOG_ERROR, __VA_ARGS__)

struct mp_ratelimit {
    mp_atomic_i64 next_ms;    /* earliest time the next line may go out */
    mp_atomic_u64 suppressed; /* calls refused since the last allowed one */
};

/* Returns 1 when the caller may log now (then *suppressed holds the number of
 * refused calls since the last allowed one), 0 otherwise. */
int mp_ratelimit_allow(struct mp_ratelimit *rl, int64_t now_ms, int64_t interval_ms,
                       uint64_t *suppressed);

#endif
