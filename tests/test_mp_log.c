/* test_mp_log.c — Check suite "mp_log": base/mp_log, the line logger and
 * the lock-free rate limiter.
 *
 * The logger writes one whole "ts=... level=... msg=..." line per call to
 * stderr (captured here through a pipe), drops lines under the level,
 * and cuts an overlong line to one terminated line. The rate limiter lets
 * one call through per interval and counts the rest; with four threads
 * hammering the same instant exactly one wins and none of the others is
 * lost from the suppressed count.
 */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    int saved = dup(STDERR_FILENO);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(dup2(p[1], STDERR_FILENO), 0);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(p[1]);
    size_t cap = 1 << 16, len = 0;
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

Suite *test_suite(void)
{
    return check_suite("mp_log", 0, NULL, NULL,
                       CHECK_TESTS(lines_and_levels, overlong_line_stays_one_line, level_names,
                                   ratelimit_one_per_interval, ratelimit_races_lose_nothing));
}
