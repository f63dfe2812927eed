/* test_unit_util.c — Check suite "unit_util": the unit suites' shared
 * helpers (tests/unit_util.h): a temp dir is made, holds a store that
 * opens again, and goes whole; threads run side by side on their own
 * argument and are all joined.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "unit_util.h"
#include "mp_atomic.h"
#include "check_main.h"

START_TEST(tmpdir_and_store)
{
    char dir[UNIT_PATH_MAX];
    unit_tmpdir("unit_util", dir);
    struct stat st;
    ck_assert_int_eq(stat(dir, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_ptr_nonnull(strstr(dir, "mp_unit_util."));
    struct eng_store *s = unit_store_open(dir);
    ck_assert_ptr_nonnull(s);
    eng_store_close(s);
    s = unit_store_open(dir); /* the same store again */
    ck_assert_ptr_nonnull(s);
    eng_store_close(s);
    char db[UNIT_PATH_MAX + 8];
    snprintf(db, sizeof(db), "%s/db", dir);
    ck_assert_int_eq(access(db, F_OK), 0);
    unit_tmpdir_remove(dir);
    ck_assert_int_ne(access(dir, F_OK), 0);
    unit_tmpdir_remove(""); /* a no-op */
}
END_TEST

struct worker {
    mp_atomic_u32 *running, *peak;
    int id, done;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    /* Relaxed: the figures are read after the joins, which synchronise. */
    uint32_t now = mp_add_relaxed(w->running, 1) + 1;
    uint32_t peak = mp_load_relaxed(w->peak);
    while (now > peak && !mp_cas_relaxed(w->peak, &peak, now))
        ;
    usleep(20000); /* long enough for the others to start meanwhile */
    mp_sub_relaxed(w->running, 1);
    w->done = w->id + 1;
    return NULL;
}

START_TEST(threads_side_by_side)
{
    mp_atomic_u32 running = 0, peak = 0;
    struct worker w[8];
    for (int i = 0; i < 8; i++)
        w[i] = (struct worker){&running, &peak, i, 0};
    unit_threads_run(8, work, w, sizeof(w[0]));
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(w[i].done, i + 1);
    ck_assert_int_eq(mp_load_relaxed(&running), 0);
    ck_assert_int_gt(mp_load_relaxed(&peak), 1);

    struct unit_threads t;
    mp_store_relaxed(&peak, 0);
    for (int i = 0; i < 4; i++)
        w[i].done = 0;
    unit_threads_start(&t, 4, work, w, sizeof(w[0]));
    ck_assert_uint_eq(t.n, 4);
    unit_threads_join(&t);
    ck_assert_uint_eq(t.n, 0);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(w[i].done, i + 1);
}
END_TEST

/* A printer for unit_printed: echoes the body, refuses "bad". */
static int echo(FILE *f, const char *body)
{
    if (strcmp(body, "bad") == 0)
        return -1;
    fputs(body, f);
    return 0;
}

START_TEST(printed_and_lines)
{
    char *t = unit_printed(echo, "ab\ncde\n", 0);
    ck_assert_str_eq(t, "ab\ncde\n");
    ck_assert_uint_eq(unit_lines_fit(t, 3), 2);
    free(t);
    t = unit_printed(echo, "bad", -1);
    ck_assert_str_eq(t, "");
    free(t);
    ck_assert_uint_eq(unit_lines_fit("no newline", 1), 0); /* only whole lines count */
}
END_TEST

/* The PULL socket takes what a PUSH connected to its endpoint sends. */
START_TEST(pull_bind_receives)
{
    char endpoint[64], got[8] = "";
    void *zctx = zmq_ctx_new();
    void *pull = unit_pull_bind(zctx, 5000, endpoint);
    ck_assert_int_eq(strncmp(endpoint, "tcp://127.0.0.1:", 16), 0);
    void *push = zmq_socket(zctx, ZMQ_PUSH);
    ck_assert_int_eq(zmq_connect(push, endpoint), 0);
    ck_assert_int_eq(zmq_send(push, "frame", 5, 0), 5);
    ck_assert_int_eq(zmq_recv(pull, got, sizeof(got), 0), 5);
    ck_assert_int_eq(memcmp(got, "frame", 5), 0);
    zmq_close(push);
    zmq_close(pull);
    zmq_ctx_term(zctx);
}
END_TEST

/* A line wider than max is an assertion (this case must fail). */
START_TEST(lines_fit_refuses_wide)
{
    unit_lines_fit("abcd\n", 3);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = check_suite("unit_util", 30, NULL, NULL,
                           CHECK_TESTS(tmpdir_and_store, threads_side_by_side, printed_and_lines,
                                       pull_bind_receives));
    TCase *tc = tcase_create("refusals");
    tcase_add_exit_test(tc, lines_fit_refuses_wide, 1);
    suite_add_tcase(s, tc);
    return s;
}
