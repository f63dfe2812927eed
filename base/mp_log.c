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
static enum mp_log_format log__format = MP_LOG_TEXT;

void mp_log_set_level(enum mp_log_level lvl) { log__level = lvl; }
void mp_log_set_format(enum mp_log_format fmt) { log__format = fmt; }

int mp_log_format_parse(const char *s, enum mp_log_format *out)
{
    if (strcmp(s, "text") == 0 || strcmp(s, "json") == 0) {
        *out = s[0] == 't' ? MP_LOG_TEXT : MP_LOG_JSON;
        return 0;
    }
    return -1;
}

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

/* ---- JSON lines ------------------------------------------------------------- */

/* A bounded output: puts stop (and set `full`) when the next piece would
 * not leave `reserve` bytes for the closing members. */
struct log__out {
    char *p;
    size_t len, cap;
    int full;
};

static void log__jput(struct log__out *o, const char *s, size_t n)
{
    if (o->full || o->len + n > o->cap) {
        o->full = 1;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

/* One byte inside a JSON string: " \ and controls escaped. */
static void log__jbyte(struct log__out *o, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
    if (c == '"' || c == '\\') {
        e[1] = (char)c;
        log__jput(o, e, 2);
    } else if (c < 0x20 || c == 0x7f) {
        log__jput(o, e, 6);
    } else {
        log__jput(o, (const char *)&c, 1);
    }
}

static int log__hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A quoted value's text (between the quotes, as mp_log_quote wrote it)
 * unescaped into the JSON string; \xHH of a byte >= 0x80 stays as text. */
static void log__junquote(struct log__out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\' && i + 1 < n) {
            char x = s[i + 1];
            int hi = i + 3 < n ? log__hexval(s[i + 2]) : -1, lo = hi >= 0 ? log__hexval(s[i + 3]) : -1;
            if (x == 'n' || x == 'r' || x == 't' || x == '"' || x == '\\') {
                c = x == 'n' ? '\n' : x == 'r' ? '\r' : x == 't' ? '\t' : (unsigned char)x;
                i++;
            } else if (x == 'x' && lo >= 0 && hi < 8) {
                c = (unsigned char)(hi * 16 + lo);
                i += 3;
            }
        }
        log__jbyte(o, c);
    }
}

/* The next word of s[*i..n): [*ks, *ke) its key (empty: not a k=v word),
 * [*vs, *ve) its value or the whole word, *quoted when the value was in
 * quotes (the span is then between them). 0 at the end. */
static int log__word(const char *s, size_t n, size_t *i, size_t *ks, size_t *ke, size_t *vs,
                     size_t *ve, int *quoted)
{
    size_t p = *i;
    while (p < n && s[p] == ' ')
        p++;
    if (p == n)
        return 0;
    size_t k = p;
    while (k < n && (s[k] == '_' || s[k] == '.' || s[k] == '-' || (s[k] >= '0' && s[k] <= '9') ||
                     ((s[k] | 0x20) >= 'a' && (s[k] | 0x20) <= 'z')))
        k++;
    *quoted = 0;
    *ks = *ke = p;
    if (k > p && k < n && s[k] == '=') {
        *ke = k;
        p = k + 1;
        if (p < n && s[p] == '"') {
            size_t q = ++p;
            while (q < n && s[q] != '"')
                q += s[q] == '\\' && q + 1 < n ? 2 : 1;
            *vs = p;
            *ve = q < n ? q : n;
            *quoted = 1;
            *i = q < n ? q + 1 : n;
            return 1;
        }
    }
    *vs = p;
    while (p < n && s[p] != ' ')
        p++;
    *ve = p;
    *i = p;
    return 1;
}

/* The text line's parts as one JSON object and a newline into out (cap
 * bytes); returns its length. */
static size_t log__json(char *out, size_t cap, const char *ts, const char *lvl, const char *msg,
                        size_t n)
{
    struct log__out o = {out, 0, cap - 32, 0}; /* room for the cut member and "}\n" */
    size_t i = 0, ks, ke, vs, ve, words = 0;
    int quoted;
    log__jput(&o, "{\"ts\":\"", 7);
    log__jput(&o, ts, strlen(ts));
    log__jput(&o, "\",\"level\":\"", 11);
    log__jput(&o, lvl, strlen(lvl));
    log__jput(&o, "\",\"msg\":\"", 9);
    while (log__word(msg, n, &i, &ks, &ke, &vs, &ve, &quoted))
        if (ke == ks)
            for (size_t j = (words++ ? vs - 1 : vs); j < ve; j++)
                log__jbyte(&o, j < vs ? ' ' : (unsigned char)msg[j]);
    log__jput(&o, "\"", 1);
    for (i = 0; !o.full && log__word(msg, n, &i, &ks, &ke, &vs, &ve, &quoted);) {
        if (ke == ks)
            continue;
        size_t mark = o.len;
        int reserved = (ke - ks == 2 && memcmp(msg + ks, "ts", 2) == 0) ||
                       (ke - ks == 5 && memcmp(msg + ks, "level", 5) == 0) ||
                       (ke - ks == 3 && memcmp(msg + ks, "msg", 3) == 0);
        log__jput(&o, reserved ? ",\"_" : ",\"", reserved ? 3 : 2);
        log__jput(&o, msg + ks, ke - ks);
        log__jput(&o, "\":\"", 3);
        if (quoted)
            log__junquote(&o, msg + vs, ve - vs);
        else
            for (size_t j = vs; j < ve; j++)
                log__jbyte(&o, (unsigned char)msg[j]);
        log__jput(&o, "\"", 1);
        if (o.full)
            o.len = mark; /* the member that did not fit goes whole */
    }
    o.cap = cap;
    int cut = o.full;
    o.full = 0;
    if (cut)
        log__jput(&o, ",\"cut\":\"true\"", 13);
    log__jput(&o, "}\n", 2);
    return o.len;
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
    char json[MP_LOG_JSON_LINE_MAX];
    const char *out = line;
    if (log__format == MP_LOG_JSON) {
        char ts_text[32];
        snprintf(ts_text, sizeof(ts_text), "%.*s", 24, line + 3); /* after "ts=" */
        len = log__json(json, sizeof(json), ts_text, names[lvl], line + n, len - 1 - (size_t)n);
        out = json;
    }
    /* One write(2) per line keeps lines from different threads whole. */
    ssize_t w = write(STDERR_FILENO, out, len);
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
