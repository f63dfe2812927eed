/* mp_log.c — key=value line logger, value quoting and lock-free rate limiter
 * (see mp_log.h). */
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

/* ---- escaping ------------------------------------------------------------- */

/* Longest escape of one unit: a 3-byte sequence as \xHH\xHH\xHH. */
#define LOG__UNIT_MAX 12

/* Length (2..4) of the well-formed UTF-8 sequence at p, whose first byte is
 * >= 0x80; 0 when it is not one. The ranges are Unicode's table 3-7: only
 * the second byte's range depends on the first, which rules out overlong
 * forms, surrogates and values past U+10FFFF. */
static size_t log__utf8_len(const unsigned char *p, size_t n)
{
    unsigned char b0 = p[0], lo = 0x80, hi = 0xBF;
    if (b0 < 0xC2 || b0 > 0xF4)
        return 0;
    size_t len = b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4;
    if (n < len)
        return 0;
    if (b0 == 0xE0)
        lo = 0xA0;
    else if (b0 == 0xED)
        hi = 0x9F;
    else if (b0 == 0xF0)
        lo = 0x90;
    else if (b0 == 0xF4)
        hi = 0x8F;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

/* Well-formed, yet a line break to some readers: the C1 controls (NEL is
 * U+0085) and U+2028 / U+2029. */
static int log__utf8_breaks(const unsigned char *p, size_t len)
{
    return (len == 2 && p[0] == 0xC2 && p[1] < 0xA0) ||
           (len == 3 && p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9));
}

/* The escaped form of the unit at p (one byte, or one UTF-8 sequence) into
 * out; returns its length and sets *used to the input bytes it covers.
 * `value`: inside quotes, so " and \ are escaped too. */
static size_t log__unit(const unsigned char *p, size_t n, int value, char *out, size_t *used)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char c = p[0];
    size_t len = 1;
    *used = 1;
    if (c >= 0x80) {
        len = log__utf8_len(p, n);
        if (len && !log__utf8_breaks(p, len)) {
            memcpy(out, p, len);
            *used = len;
            return len;
        }
        len = len ? len : 1; /* a stray byte alone, so the next one resyncs */
        *used = len;
    } else if (c == '\n' || c == '\r' || c == '\t' || (value && (c == '"' || c == '\\'))) {
        out[0] = '\\';
        out[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : (char)c;
        return 2;
    } else if (c >= 0x20 && c != 0x7f) {
        out[0] = (char)c;
        return 1;
    }
    for (size_t i = 0; i < len; i++) {
        out[4 * i] = '\\';
        out[4 * i + 1] = 'x';
        out[4 * i + 2] = hex[p[i] >> 4];
        out[4 * i + 3] = hex[p[i] & 0xF];
    }
    return 4 * len;
}

/* Escapes s[0..len) into dst while whole units fit in `room` bytes; returns
 * the bytes written and sets *used to the input bytes they cover. */
static size_t log__escape(char *dst, size_t room, const char *s, size_t len, int value,
                          size_t *used)
{
    size_t o = 0, i = 0;
    while (i < len) {
        char u[LOG__UNIT_MAX];
        size_t k, m = log__unit((const unsigned char *)s + i, len - i, value, u, &k);
        if (o + m > room)
            break;
        memcpy(dst + o, u, m);
        o += m;
        i += k;
    }
    *used = i;
    return o;
}

/* Escapes the first `len` of the `total` bytes of s into at most `room`
 * bytes of dst. When not everything fits, the text is cut early enough for
 * "...(+N bytes)" (N: bytes of the total not shown) to follow, or just "..."
 * when room is too small for the count. Returns the bytes written. */
static size_t log__cut(char *dst, size_t room, const char *s, size_t len, size_t total, int value)
{
    size_t used;
    size_t o = log__escape(dst, room, s, len, value, &used);
    if (used == total)
        return o;
    char mark[48];
    /* Reserve for the largest count; the real one is never longer. */
    size_t ml = (size_t)snprintf(mark, sizeof(mark), "...(+%zu bytes)", total);
    if (ml > room)
        ml = room >= 3 ? 3 : 0;
    o = log__escape(dst, room - ml, s, len, value, &used);
    if (ml > 3)
        ml = (size_t)snprintf(mark, sizeof(mark), "...(+%zu bytes)", total - used);
    memcpy(dst + o, mark, ml);
    return o + ml;
}

const char *mp_log_quote(char *dst, size_t n, const char *s, size_t len)
{
    if (s == NULL)
        len = 0;
    if (dst == NULL || n < 3)
        return len ? "\"...\"" : "\"\"";
    size_t room = n - 3 < MP_LOG_VALUE_MAX ? n - 3 : MP_LOG_VALUE_MAX;
    dst[0] = '"';
    size_t o = 1 + log__cut(dst + 1, room, s, len, len, 1);
    dst[o++] = '"';
    dst[o] = '\0';
    return dst;
}

const char *mp_log_quote_str(char *dst, size_t n, const char *s)
{
    return mp_log_quote(dst, n, s, s ? strlen(s) : 0);
}

/* ---- lines ------------------------------------------------------------------ */

void mp_log(enum mp_log_level lvl, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (lvl < log__level)
        return;
    char msg[MP_LOG_LINE_MAX], line[MP_LOG_LINE_MAX];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s msg=",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, names[lvl]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t total = m < 0 ? 0 : (size_t)m;
    size_t have = total < sizeof(msg) ? total : sizeof(msg) - 1;
    /* Whatever a caller passed, the message cannot end the line early:
     * controls are escaped, and an overlong one is cut with a marker. */
    size_t len = (size_t)n + log__cut(line + n, sizeof(line) - (size_t)n - 1, msg, have, total, 0);
    line[len++] = '\n';
    /* One write(2) per line keeps lines from different threads whole. */
    ssize_t w = write(STDERR_FILENO, line, len);
    MP_UNUSED(w);
}

/* ---- rate limiter ------------------------------------------------------------- */

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
