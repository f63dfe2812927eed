/* mp_log.h — one-line key=value logging to stderr, quoting of outside
 * values, and a rate limiter.
 *
 * Contract: mp_log() writes one complete line per call
 * ("ts=... level=info msg=... k=v ...") with a single write(2), so lines from
 * different threads never interleave. It is safe from any thread. The level
 * threshold is process configuration set once at start (mp_log_set_level),
 * the one piece of global state the style allows ("the loaded config").
 *
 * A line is always exactly one line: whatever the format and arguments hold,
 * mp_log() escapes control bytes (a newline becomes the two characters \n,
 * other controls \xHH) and bytes that are not well-formed UTF-8, and a line
 * longer than MP_LOG_LINE_MAX is cut with a "...(+N bytes)" marker. That is
 * the last line of defence; it does not make a value parseable.
 *
 * Values from outside (producer ids, tenant, mailbox and domain names, file
 * paths, HTTP paths, library error strings, YAML values) go through
 * mp_log_quote() / MP_LOG_Q() and are printed with a bare %s (no quotes in
 * the format): `mp_warn("reject producer=%s", MP_LOG_Q(id))` logs
 * `producer="..."`. The quoted form escapes \ and " (\\ and \"), newline,
 * CR and tab (\n \r \t), every other control byte, DEL and every byte that
 * is not part of well-formed UTF-8 (\xHH), and also the UTF-8 line breaks a
 * reader might split on (U+0085 and the C1 controls, U+2028, U+2029: their
 * bytes as \xHH). So a producer can never end a line, close the quotes or
 * add a key of its own. Values that are ours (fixed words, numbers,
 * mp_strerror()) are printed as they are.
 *
 * Format (process configuration like the level, set once at start with
 * mp_log_set_format): MP_LOG_TEXT writes the key=value line above;
 * MP_LOG_JSON writes the same line as one JSON object per line:
 * {"ts":"...","level":"info","msg":"started","version":"0.1.0",...}. The
 * text line is built first (so every escape above has been applied), then
 * split into words: a word k=v (k of A-Z a-z 0-9 _ . -) becomes the member
 * "k":"v", with a quoted value unquoted (\" \\ \n \r \t and \xHH of ASCII
 * bytes decoded; \xHH of other bytes stays as that text, so the string is
 * well-formed UTF-8); any other word joins "msg". Values are strings. A key
 * named ts, level or msg is written as _ts, _level, _msg. In the JSON, " \
 * and control bytes are escaped (\u00XX), so whatever a value holds, each
 * line is one complete JSON object. The text line is at most
 * MP_LOG_LINE_MAX and JSON escaping at most doubles it, so a JSON line fits
 * MP_LOG_JSON_LINE_MAX; were it not to, it would end with the members that
 * fit and "cut":"true", still one object.
 *
 * Hot paths never log per event: they count, and consult an mp_ratelimit
 * before logging. mp_ratelimit_allow() is thread-safe and lock-free; it lets
 * through at most one call per `interval_ms` and reports how many calls were
 * suppressed since the last one allowed.
 */
#ifndef MP_LOG_H
#define MP_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "mp_atomic.h"

enum mp_log_level { MP_LOG_DEBUG = 0, MP_LOG_INFO = 1, MP_LOG_WARN = 2, MP_LOG_ERROR = 3 };

/* Longest line mp_log() writes, its final newline included. */
#define MP_LOG_LINE_MAX 2048
/* Most bytes between the quotes of one quoted value (escapes and the cut
 * marker included), so a line holds several. */
#define MP_LOG_VALUE_MAX 256
/* A buffer that holds any quoted value: the quotes, the text, the NUL. */
#define MP_LOG_QUOTE_SIZE (MP_LOG_VALUE_MAX + 3)

enum mp_log_format { MP_LOG_TEXT = 0, MP_LOG_JSON = 1 };
/* Longest JSON line, its final newline included. */
#define MP_LOG_JSON_LINE_MAX (4 * MP_LOG_LINE_MAX)

void mp_log_set_format(enum mp_log_format fmt);
/* Parses "text|json"; returns 0 and sets *out, or -1. */
int mp_log_format_parse(const char *s, enum mp_log_format *out);

void mp_log_set_level(enum mp_log_level lvl);
/* Parses "debug|info|warn|error"; returns 0 and sets *out, or -1. */
int mp_log_level_parse(const char *s, enum mp_log_level *out);

/* fmt continues the line after "msg=": callers pass `"name k=%s"` style. */
void mp_log(enum mp_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define mp_debug(...) mp_log(MP_LOG_DEBUG, __VA_ARGS__)
#define mp_info(...) mp_log(MP_LOG_INFO, __VA_ARGS__)
#define mp_warn(...) mp_log(MP_LOG_WARN, __VA_ARGS__)
#define mp_error(...) mp_log(MP_LOG_ERROR, __VA_ARGS__)

/* Writes the `len` bytes at s (NUL bytes included: they become \x00) as one
 * quoted, escaped value into dst, NUL-terminated, and returns dst. The
 * output never exceeds n - 1 bytes nor MP_LOG_VALUE_MAX + 2: when the
 * escaped text does not fit, it is cut between two whole escapes or UTF-8
 * sequences and ends with "...(+N bytes)" inside the quotes, N the input
 * bytes not shown (just "..." when the buffer is too small for the count,
 * nothing when n < 6). s may be NULL (as ""). When n < 3 (no room for two quotes and a
 * NUL) dst is left alone and a static "\"...\"" (or "\"\"" for an empty
 * value) is returned instead, so the result is always a quoted string.
 * Thread-safe; allocates nothing. */
const char *mp_log_quote(char *dst, size_t n, const char *s, size_t len);
/* mp_log_quote() of the NUL-terminated string s (NULL as ""). */
const char *mp_log_quote_str(char *dst, size_t n, const char *s);
/* The quoted form of string s in a buffer that lives until the end of the
 * enclosing block: meant for mp_log arguments. */
#define MP_LOG_Q(s) mp_log_quote_str((char[MP_LOG_QUOTE_SIZE]){0}, MP_LOG_QUOTE_SIZE, (s))

struct mp_ratelimit {
    mp_atomic_i64 next_ms;    /* earliest time the next line may go out */
    mp_atomic_u64 suppressed; /* calls refused since the last allowed one */
};

/* Returns 1 when the caller may log now (then *suppressed holds the number of
 * refused calls since the last allowed one), 0 otherwise. */
int mp_ratelimit_allow(struct mp_ratelimit *rl, int64_t now_ms, int64_t interval_ms,
                       uint64_t *suppressed);

#endif
