/* test_mp_log.c — Check suite "mp_log": base/mp_log, the line logger and
 * the lock-free rate limiter.
 *
 * The logger writes one whole "ts=... level=... msg=..." line per call to
 * stderr (captured here through a pipe), drops lines under the level,
 * and cuts an overlong line to one terminated line with a marker; a message
 * holding newlines or other controls is still one line. mp_log_quote() is
 * checked byte class by byte class (quotes, backslash, controls, DEL, NUL,
 * well-formed and malformed UTF-8, the UTF-8 line breaks), at its cut (whole
 * escapes only, an honest "...(+N bytes)"), in every buffer size from 0 up
 * (never a byte past n), and by decoding random input back. The rate limiter lets
 * one call through per interval and counts the rest; with four threads
 * hammering the same instant exactly one wins and none of the others is
 * lost from the suppressed count. With --log-format json (MP_LOG_JSON)
 * every line jansson reads back as one JSON object with ts, level and msg:
 * forged newlines, quotes, backslashes, NUL, bad UTF-8 and U+2028 in values
 * (quoted or, a bug, bare) never end a line or add a member; a quoted value
 * comes back as the text that was logged; an overlong line ends with
 * "cut"; a key named msg cannot replace msg.
 */
#include <check.h>
#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "check_main.h"
#include "mp_log.h"
#include "unit_util.h"

/* Runs fn with stderr sent into a pipe, and returns what it wrote
 * (malloc'd, NUL-terminated). */
static char *capture_stderr(void (*fn)(void))
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    /* room for the JSON fuzz lines: a full pipe would block the writer */
    ck_assert_int_ge(fcntl(p[1], F_SETPIPE_SZ, 1 << 20), 1 << 20);
    int saved = dup(STDERR_FILENO);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(dup2(p[1], STDERR_FILENO), 0);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(p[1]);
    size_t cap = 1 << 20, len = 0;
    char *out = malloc(cap + 1);
    ck_assert_ptr_nonnull(out);
    ssize_t n;
    while ((n = read(p[0], out + len, cap - len)) > 0)
        len += (size_t)n;
    close(p[0]);
    out[len] = '\0';
    return out;
}

static void log_three(void)
{
    mp_log_set_level(MP_LOG_INFO);
    mp_debug("hidden k=%d", 1);
    mp_info("shown k=%d who=%s", 2, "me");
    mp_error("bad err=\"%s\"", "x y");
}

START_TEST(lines_and_levels)
{
    char *out = capture_stderr(log_three);
    ck_assert_ptr_null(strstr(out, "hidden"));
    const char *a = strstr(out, " level=info msg=shown k=2 who=me\n");
    const char *b = strstr(out, " level=error msg=bad err=\"x y\"\n");
    ck_assert_msg(a && b && a < b, "%s", out);
    ck_assert_int_eq(strncmp(out, "ts=", 3), 0);
    /* ts=YYYY-MM-DDTHH:MM:SS.mmmZ, 24 characters after "ts=" */
    ck_assert_int_eq(out[3 + 4], '-');
    ck_assert_int_eq(out[3 + 10], 'T');
    ck_assert_int_eq(out[3 + 23], 'Z');
    int lines = 0;
    for (const char *c = out; *c; c++)
        lines += *c == '\n';
    ck_assert_int_eq(lines, 2);
    free(out);
}
END_TEST

static void log_long(void)
{
    char big[5000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    mp_warn("long v=%s", big);
}

START_TEST(overlong_line_stays_one_line)
{
    char *out = capture_stderr(log_long);
    size_t len = strlen(out);
    ck_assert_uint_gt(len, 1000);
    ck_assert_uint_le(len, 2048);
    ck_assert_int_eq(out[len - 1], '\n');
    ck_assert_ptr_eq(strchr(out, '\n'), out + len - 1);
    free(out);
}
END_TEST

START_TEST(level_names)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++) {
        enum mp_log_level l = MP_LOG_ERROR;
        ck_assert_int_eq(mp_log_level_parse(names[i], &l), 0);
        ck_assert_int_eq(l, i);
    }
    enum mp_log_level l = MP_LOG_WARN;
    ck_assert_int_eq(mp_log_level_parse("INFO", &l), -1);
    ck_assert_int_eq(mp_log_level_parse("", &l), -1);
    ck_assert_int_eq(mp_log_level_parse("warning", &l), -1);
    ck_assert_int_eq(l, MP_LOG_WARN); /* untouched on refusal */
}
END_TEST

START_TEST(ratelimit_one_per_interval)
{
    struct mp_ratelimit rl = {0};
    uint64_t sup = 99;
    ck_assert_int_eq(mp_ratelimit_allow(&rl, 1000, 500, &sup), 1);
    ck_assert_uint_eq(sup, 0);
    for (int i = 0; i < 7; i++)
        ck_assert_int_eq(mp_ratelimit_allow(&rl, 1000 + i * 70, 500, &sup), 0);
    ck_assert_int_eq(mp_ratelimit_allow(&rl, 1499, 500, &sup), 0);
    ck_assert_int_eq(mp_ratelimit_allow(&rl, 1500, 500, &sup), 1);
    ck_assert_uint_eq(sup, 8);
    ck_assert_int_eq(mp_ratelimit_allow(&rl, 2100, 500, &sup), 1);
    ck_assert_uint_eq(sup, 0);
}
END_TEST

#define RL_THREADS 4
#define RL_CALLS 20000

struct rl_arg {
    struct mp_ratelimit *rl;
    uint64_t allowed, suppressed_seen;
};

static void *rl_hammer(void *p)
{
    struct rl_arg *a = p;
    for (int i = 0; i < RL_CALLS; i++) {
        uint64_t sup = 0;
        if (mp_ratelimit_allow(a->rl, 5000, 1000, &sup)) {
            a->allowed++;
            a->suppressed_seen += sup;
        }
    }
    return NULL;
}

START_TEST(ratelimit_races_lose_nothing)
{
    struct mp_ratelimit rl = {0};
    struct rl_arg a[RL_THREADS];
    for (int i = 0; i < RL_THREADS; i++)
        a[i] = (struct rl_arg){.rl = &rl};
    unit_threads_run(RL_THREADS, rl_hammer, a, sizeof(a[0]));
    uint64_t allowed = 0;
    for (int i = 0; i < RL_THREADS; i++)
        allowed += a[i].allowed;
    ck_assert_uint_eq(allowed, 1); /* one instant, one interval: one line */
    /* Every refused call is counted, and handed to the next allowed one. */
    uint64_t sup = 0;
    ck_assert_int_eq(mp_ratelimit_allow(&rl, 6000, 1000, &sup), 1);
    ck_assert_uint_eq(sup + a[0].suppressed_seen + a[1].suppressed_seen + a[2].suppressed_seen +
                          a[3].suppressed_seen,
                      (uint64_t)RL_THREADS * RL_CALLS - 1);
}
END_TEST

/* ---- mp_log_quote ------------------------------------------------------- */

/* mp_log_quote() of len bytes at s in a buffer of MP_LOG_QUOTE_SIZE must
 * be exactly `want`. */
#define QUOTE_IS(s, len, want)                                                                   \
    do {                                                                                         \
        char q_[MP_LOG_QUOTE_SIZE];                                                              \
        const char *r_ = mp_log_quote(q_, sizeof(q_), (s), (len));                               \
        ck_assert_ptr_eq(r_, q_);                                                                \
        ck_assert_str_eq(q_, (want));                                                            \
    } while (0)

START_TEST(quote_plain_and_escapes)
{
    QUOTE_IS("acme", 4, "\"acme\"");
    QUOTE_IS("", 0, "\"\"");
    QUOTE_IS(NULL, 5, "\"\"");
    QUOTE_IS("sales@acme.example k=v", 22, "\"sales@acme.example k=v\"");
    QUOTE_IS("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
    QUOTE_IS("\n\r\t", 3, "\"\\n\\r\\t\"");
    QUOTE_IS("\x01\x1b\x1f\x7f", 4, "\"\\x01\\x1b\\x1f\\x7f\"");
    QUOTE_IS("a\0b", 3, "\"a\\x00b\""); /* the length rules, not the NUL */
    QUOTE_IS("abc", 2, "\"ab\"");
    ck_assert_str_eq(MP_LOG_Q("x\nts=1 level=error msg=store_flush_failed"),
                     "\"x\\nts=1 level=error msg=store_flush_failed\"");
    ck_assert_str_eq(MP_LOG_Q(NULL), "\"\"");
}
END_TEST

START_TEST(quote_utf8)
{
    QUOTE_IS("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
             "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    QUOTE_IS("\xc2\xa0", 2, "\"\xc2\xa0\""); /* NBSP: printable, kept */
    QUOTE_IS("\x80", 1, "\"\\x80\"");        /* a lone continuation byte */
    QUOTE_IS("\xff\xfe", 2, "\"\\xff\\xfe\"");
    QUOTE_IS("\xc0\xaf", 2, "\"\\xc0\\xaf\"");          /* overlong '/' */
    QUOTE_IS("\xe0\x80\xaf", 3, "\"\\xe0\\x80\\xaf\""); /* overlong, 3 bytes */
    QUOTE_IS("\xed\xa0\x80", 3, "\"\\xed\\xa0\\x80\""); /* a surrogate */
    QUOTE_IS("\xf4\x90\x80\x80", 4, "\"\\xf4\\x90\\x80\\x80\""); /* past U+10FFFF */
    QUOTE_IS("\xe2\x82", 2, "\"\\xe2\\x82\"");                 /* cut short */
    QUOTE_IS("\xe2\x82" "a", 3, "\"\\xe2\\x82a\"");            /* resyncs on 'a' */
    /* Well-formed but a line break to some readers: NEL, U+2028, U+2029. */
    QUOTE_IS("\xc2\x85", 2, "\"\\xc2\\x85\"");
    QUOTE_IS("\xe2\x80\xa8|\xe2\x80\xa9", 7, "\"\\xe2\\x80\\xa8|\\xe2\\x80\\xa9\"");
}
END_TEST

/* The N of a trailing "...(+N bytes)\"" in q, or -1 when q has none. */
static long quote_cut_count(const char *q)
{
    const char *m = strstr(q, "...(+");
    if (!m)
        return -1;
    char *end = NULL;
    long v = strtol(m + 5, &end, 10);
    ck_assert_str_eq(end, " bytes)\"");
    return v;
}

START_TEST(quote_cut_at_the_bound)
{
    char in[1000], q[MP_LOG_QUOTE_SIZE];
    memset(in, 'a', sizeof(in));
    /* Exactly MP_LOG_VALUE_MAX bytes fit whole; one more does not. */
    mp_log_quote(q, sizeof(q), in, MP_LOG_VALUE_MAX);
    ck_assert_uint_eq(strlen(q), MP_LOG_VALUE_MAX + 2);
    ck_assert_int_eq(quote_cut_count(q), -1);
    for (size_t len = MP_LOG_VALUE_MAX + 1; len <= sizeof(in); len += 247) {
        mp_log_quote(q, sizeof(q), in, len);
        long rest = quote_cut_count(q);
        size_t shown = strspn(q + 1, "a");
        ck_assert_int_eq(q[0], '"');
        ck_assert_uint_le(strlen(q), MP_LOG_VALUE_MAX + 2);
        ck_assert_uint_gt(strlen(q), MP_LOG_VALUE_MAX - 4); /* the room is used */
        ck_assert_int_eq((long)shown + rest, (long)len);    /* the count is honest */
    }
    /* A cut never splits an escape... */
    memset(in, '\n', sizeof(in));
    mp_log_quote(q, sizeof(q), in, sizeof(in));
    size_t esc = strstr(q, "...") - (q + 1);
    ck_assert_uint_eq(esc % 2, 0);
    ck_assert_int_eq((long)esc / 2 + quote_cut_count(q), (long)sizeof(in));
    for (size_t i = 0; i < esc; i += 2)
        ck_assert(q[1 + i] == '\\' && q[2 + i] == 'n');
    /* ...nor a UTF-8 sequence. */
    for (size_t i = 0; i + 3 <= sizeof(in); i += 3)
        memcpy(in + i, "\xe2\x82\xac", 3);
    mp_log_quote(q, sizeof(q), in, 999);
    size_t text = strstr(q, "...") - (q + 1);
    ck_assert_uint_eq(text % 3, 0);
    ck_assert_int_eq(memcmp(q + 1, in, text), 0);
    ck_assert_int_eq((long)text + quote_cut_count(q), 999);
}
END_TEST

START_TEST(quote_tiny_buffers)
{
    /* Too small for two quotes and a NUL: dst untouched, a literal back. */
    char b[8];
    memset(b, 'Z', sizeof(b));
    ck_assert_str_eq(mp_log_quote(NULL, 0, "abc", 3), "\"...\"");
    ck_assert_str_eq(mp_log_quote(b, 0, "abc", 3), "\"...\"");
    ck_assert_str_eq(mp_log_quote(b, 2, "abc", 3), "\"...\"");
    ck_assert_str_eq(mp_log_quote(b, 2, "", 0), "\"\"");
    ck_assert_int_eq(b[0], 'Z');
    ck_assert_str_eq(mp_log_quote(b, 3, "abc", 3), "\"\"");
    ck_assert_str_eq(mp_log_quote(b, 5, "abc", 3), "\"ab\"");
    ck_assert_str_eq(mp_log_quote(b, 6, "abc", 3), "\"abc\"");
    ck_assert_str_eq(mp_log_quote(b, 6, "abcd", 4), "\"...\"");
    ck_assert_str_eq(mp_log_quote(b, 8, "abcdefgh", 8), "\"ab...\"");
    ck_assert_str_eq(mp_log_quote(b, 8, "\n\n\n", 3), "\"\\n...\"");

    /* Every size: a quoted, NUL-terminated value inside the first n bytes,
     * nothing written past them, no raw control byte. */
    char in[600];
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = "a\"\\\n\x01\xc3\xa9\xff"[i % 8];
    char buf[MP_LOG_QUOTE_SIZE + 64];
    for (size_t n = 3; n < sizeof(buf); n++) {
        memset(buf, 'Z', sizeof(buf));
        const char *r = mp_log_quote(buf, n, in, sizeof(in));
        ck_assert_ptr_eq(r, buf);
        size_t len = strlen(buf);
        ck_assert_uint_lt(len, n);
        ck_assert_uint_le(len, MP_LOG_VALUE_MAX + 2);
        ck_assert(len >= 2 && buf[0] == '"' && buf[len - 1] == '"');
        for (size_t i = n; i < sizeof(buf); i++)
            ck_assert_int_eq(buf[i], 'Z');
        for (size_t i = 0; i < len; i++)
            ck_assert((unsigned char)buf[i] >= 0x20 && buf[i] != 0x7f);
    }
}
END_TEST

/* Decodes the quoted value q (as mp_log_quote writes it) into out; returns
 * its length, and the cut count in *rest (0 when whole). */
static size_t quote_decode(const char *q, unsigned char *out, long *rest)
{
    size_t len = strlen(q), o = 0;
    ck_assert(len >= 2 && q[0] == '"' && q[len - 1] == '"');
    long r = quote_cut_count(q);
    const char *end = r >= 0 ? strstr(q, "...(+") : q + len - 1;
    *rest = r >= 0 ? r : 0;
    for (const char *p = q + 1; p < end;) {
        ck_assert_int_ne(*p, '"'); /* a quote inside is always escaped */
        if (*p != '\\') {
            out[o++] = (unsigned char)*p++;
            continue;
        }
        char c = p[1];
        if (c == 'x') {
            ck_assert(isxdigit((unsigned char)p[2]) && isxdigit((unsigned char)p[3]));
            char h[3] = {p[2], p[3], 0};
            out[o++] = (unsigned char)strtol(h, NULL, 16);
            p += 4;
            continue;
        }
        ck_assert_msg(strchr("nrt\"\\", c) && c, "bad escape \\%c in %s", c, q);
        out[o++] = c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : (unsigned char)c;
        p += 2;
    }
    return o;
}

START_TEST(quote_decodes_back)
{
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    unsigned char in[400], out[MP_LOG_QUOTE_SIZE];
    char q[MP_LOG_QUOTE_SIZE];
    for (int it = 0; it < 3000; it++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t len = (size_t)(x % sizeof(in));
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            /* skewed to the interesting bytes */
            static const unsigned char pick[] = {'a', '"', '\\', '\n', 0, 0x7f, 0xc3, 0xa9, 0xe2};
            in[i] = (x & 1) ? (unsigned char)(x >> 8) : pick[(x >> 8) % sizeof(pick)];
        }
        mp_log_quote(q, sizeof(q), (const char *)in, len);
        long rest;
        size_t n = quote_decode(q, out, &rest);
        ck_assert_uint_eq(n + (size_t)rest, len);
        ck_assert_int_eq(memcmp(out, in, n), 0);
    }
}
END_TEST

/* ---- mp_log() itself: one line whatever it is given ---------------------- */

static void log_forged(void)
{
    mp_log_set_level(MP_LOG_INFO);
    mp_warn("raw v=%s end=1", "x\nts=2026-01-01T00:00:00.000Z level=error msg=store_flush_failed\r\n");
    mp_warn("ctl v=%s", "\x1b[2J\x7f\tz");
    mp_warn("q v=%s", MP_LOG_Q("a\"b\nc"));
}

START_TEST(message_newline_stays_one_line)
{
    char *out = capture_stderr(log_forged);
    int lines = 0;
    for (const char *c = out; *c; c++) {
        lines += *c == '\n';
        ck_assert_int_ne(*c, '\r');
        if (*c == '\n')
            ck_assert(c[1] == '\0' || strncmp(c + 1, "ts=", 3) == 0);
    }
    ck_assert_int_eq(lines, 3);
    ck_assert_msg(strstr(out, " level=warn msg=raw v=x\\nts=2026-01-01T00:00:00.000Z level=error "
                              "msg=store_flush_failed\\r\\n end=1\n"),
                  "%s", out);
    ck_assert_msg(strstr(out, " msg=ctl v=\\x1b[2J\\x7f\\tz\n"), "%s", out);
    ck_assert_msg(strstr(out, " msg=q v=\"a\\\"b\\nc\"\n"), "%s", out);
    free(out);
}
END_TEST

START_TEST(overlong_line_says_what_was_cut)
{
    char *out = capture_stderr(log_long);
    size_t len = strlen(out);
    ck_assert_uint_le(len, MP_LOG_LINE_MAX);
    ck_assert_uint_gt(len, MP_LOG_LINE_MAX - 40);
    const char *v = strstr(out, " msg=long v=");
    const char *m = strstr(out, "...(+");
    ck_assert(v && m);
    char *end = NULL;
    long rest = strtol(m + 5, &end, 10);
    ck_assert_str_eq(end, " bytes)\n");
    v += strlen(" msg=long v=");
    ck_assert_uint_eq(strspn(v, "x"), (size_t)(m - v));
    ck_assert_int_eq((long)(m - v) + rest, 4999); /* what was shown + what was not */
    free(out);
}
END_TEST

/* ---- JSON lines ------------------------------------------------------------ */

/* Every line of out parsed with jansson: each one an object with ts, level
 * and msg strings. Returns the array of them (caller decrefs). */
static json_t *json_lines(const char *out)
{
    json_t *all = json_array();
    for (const char *p = out; *p;) {
        const char *nl = strchr(p, '\n');
        ck_assert_msg(nl != NULL, "unterminated line: %s", p);
        json_error_t e;
        json_t *j = json_loadb(p, (size_t)(nl - p), JSON_ALLOW_NUL, &e);
        ck_assert_msg(json_is_object(j), "not one JSON object (%s): %.*s", e.text, (int)(nl - p), p);
        ck_assert(json_is_string(json_object_get(j, "ts")));
        ck_assert(json_is_string(json_object_get(j, "level")));
        ck_assert(json_is_string(json_object_get(j, "msg")));
        json_array_append_new(all, j);
        p = nl + 1;
    }
    return all;
}

static const char *jstr(json_t *lines, size_t i, const char *key)
{
    const char *v = json_string_value(json_object_get(json_array_get(lines, i), key));
    ck_assert_msg(v != NULL, "line %zu has no %s", i, key);
    return v;
}

static void log_json_forged(void)
{
    char q[MP_LOG_QUOTE_SIZE];
    mp_log_set_format(MP_LOG_JSON);
    log_forged();
    mp_info("started version=%s n=%d path=%s", "0.1.0", 3, MP_LOG_Q("/tmp/a b\\c"));
    mp_info("keys msg=%s level=%s ts=%s", MP_LOG_Q("forged"), "x", "y");
    mp_info("bytes v=%s u=%s", mp_log_quote(q, sizeof(q), "a\0b\xff\xe2\x80\xa8\"}\n{", 11),
            MP_LOG_Q("caf\xc3\xa9"));
    mp_info("raw v=%s", "a\" b=\"{\"\\");
    mp_info("plain words here k=1");
    mp_log_set_format(MP_LOG_TEXT);
}

START_TEST(json_lines_stay_json)
{
    char *out = capture_stderr(log_json_forged);
    json_t *l = json_lines(out);
    ck_assert_uint_eq(json_array_size(l), 8);
    ck_assert_str_eq(jstr(l, 0, "level"), "warn");
    ck_assert_str_eq(jstr(l, 0, "msg"), "raw");
    ck_assert_str_eq(jstr(l, 2, "msg"), "q");
    ck_assert_str_eq(jstr(l, 2, "v"), "a\"b\nc"); /* the quoted value, as logged */
    ck_assert_str_eq(jstr(l, 3, "msg"), "started");
    ck_assert_str_eq(jstr(l, 3, "version"), "0.1.0");
    ck_assert_str_eq(jstr(l, 3, "n"), "3");
    ck_assert_str_eq(jstr(l, 3, "path"), "/tmp/a b\\c");
    ck_assert_uint_eq(json_object_size(json_array_get(l, 3)), 6);
    ck_assert_msg(strlen(jstr(l, 3, "ts")) == 24 && jstr(l, 3, "ts")[23] == 'Z', "%s", out);
    ck_assert_str_eq(jstr(l, 4, "msg"), "keys"); /* a key named msg is _msg */
    ck_assert_str_eq(jstr(l, 4, "_msg"), "forged");
    ck_assert_str_eq(jstr(l, 4, "_level"), "x");
    ck_assert_str_eq(jstr(l, 4, "level"), "info");
    /* NUL and ASCII escapes decode; other bytes stay \xHH text */
    json_t *v = json_object_get(json_array_get(l, 5), "v");
    static const char want[] = "a\0b\\xff\\xe2\\x80\\xa8\"}\n{";
    ck_assert_uint_eq(json_string_length(v), sizeof(want) - 1);
    ck_assert_int_eq(memcmp(json_string_value(v), want, sizeof(want) - 1), 0);
    ck_assert_str_eq(jstr(l, 5, "u"), "caf\xc3\xa9");
    ck_assert_str_eq(jstr(l, 7, "msg"), "plain words here");
    ck_assert_str_eq(jstr(l, 7, "k"), "1");
    json_decref(l);
    free(out);
}
END_TEST

static void log_json_random(void)
{
    uint64_t x = 0x2545f4914f6cdd1dULL;
    unsigned char in[600];
    mp_log_set_format(MP_LOG_JSON);
    for (int it = 0; it < 400; it++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t len = (size_t)(x % (it % 50 == 0 ? sizeof(in) : 80));
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            static const unsigned char pick[] = {'a', '"', '\\', '\n', ' ', '=', '{', 0x7f,
                                                 0xc3, 0xe2, 0x80, 0xa8, '\r', 0};
            in[i] = (x & 1) ? (unsigned char)(x >> 8) : pick[(x >> 8) % sizeof(pick)];
        }
        in[len] = '\0';
        char q[MP_LOG_QUOTE_SIZE];
        mp_info("fuzz i=%d q=%s raw=%s", it, mp_log_quote(q, sizeof(q), (const char *)in, len),
                (const char *)in);
    }
    mp_info("long v=%s w=%s", MP_LOG_Q("x"), (const char *)memset((char[5000]){0}, '"', 4999));
    mp_log_set_format(MP_LOG_TEXT);
}

/* 400 random values, quoted and bare, and an overlong line: every line is
 * one JSON object, numbered in order, none longer than MP_LOG_JSON_LINE_MAX. */
START_TEST(json_lines_survive_random_values)
{
    char *out = capture_stderr(log_json_random);
    json_t *l = json_lines(out);
    ck_assert_uint_eq(json_array_size(l), 401);
    for (size_t i = 0; i < 400; i++) {
        char want[16];
        snprintf(want, sizeof(want), "%zu", i);
        /* words of a bare value (a caller's bug) may join msg; never a line */
        ck_assert_int_eq(strncmp(jstr(l, i, "msg"), "fuzz", 4), 0);
        ck_assert_str_eq(jstr(l, i, "i"), want);
        ck_assert(json_is_string(json_object_get(json_array_get(l, i), "q")));
    }
    ck_assert_int_eq(strncmp(jstr(l, 400, "msg"), "long", 4), 0);
    ck_assert_str_eq(jstr(l, 400, "v"), "x");
    for (const char *p = out, *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
        ck_assert_uint_le((size_t)(nl - p) + 1, MP_LOG_JSON_LINE_MAX);
    json_decref(l);
    free(out);
}
END_TEST

START_TEST(format_names)
{
    enum mp_log_format f = MP_LOG_JSON;
    ck_assert_int_eq(mp_log_format_parse("text", &f), 0);
    ck_assert_int_eq(f, MP_LOG_TEXT);
    ck_assert_int_eq(mp_log_format_parse("json", &f), 0);
    ck_assert_int_eq(f, MP_LOG_JSON);
    ck_assert_int_eq(mp_log_format_parse("JSON", &f), -1);
    ck_assert_int_eq(mp_log_format_parse("", &f), -1);
}
END_TEST

CHECK_SUITE("mp_log", 0, NULL, NULL, lines_and_levels, overlong_line_stays_one_line, level_names,
            ratelimit_one_per_interval, ratelimit_races_lose_nothing, quote_plain_and_escapes,
            quote_utf8, quote_cut_at_the_bound, quote_tiny_buffers, quote_decodes_back,
            message_newline_stays_one_line, overlong_line_says_what_was_cut, json_lines_stay_json,
            json_lines_survive_random_values, format_names)
