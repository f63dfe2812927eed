/* unit_util.c — shared helpers of the unit suites (see unit_util.h). */
#include "unit_util.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "e2e_harness.h"

void unit_tmpdir(const char *tag, char dir[UNIT_PATH_MAX])
{
    char err[256] = "";
    int rc = e2e_tmpdir_create(tag, dir, UNIT_PATH_MAX, err, sizeof(err));
    ck_assert_msg(rc == MP_OK, "temp dir: %s", err);
}

void unit_tmpdir_remove(const char *dir)
{
    if (dir == NULL || dir[0] == '\0')
        return;
    e2e_tmpdir_remove(dir);
    ck_assert_msg(access(dir, F_OK) != 0, "%s is still there", dir);
}

struct eng_store *unit_store_open(const char *dir)
{
    char err[256] = "", path[UNIT_PATH_MAX + 8];
    snprintf(path, sizeof(path), "%s/db", dir);
    struct eng_store *s = NULL;
    int rc = eng_store_open(path, &s, err, sizeof(err));
    ck_assert_msg(rc == MP_OK, "open: %s", err);
    return s;
}

void unit_threads_start(struct unit_threads *t, size_t n, void *(*fn)(void *), void *args,
                        size_t size)
{
    ck_assert_uint_le(n, UNIT_MAX_THREADS);
    t->n = 0;
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(pthread_create(&t->th[i], NULL, fn, (char *)args + i * size), 0);
        t->n++;
    }
}

void unit_threads_join(struct unit_threads *t)
{
    for (size_t i = 0; i < t->n; i++) {
        void *ret = NULL;
        pthread_join(t->th[i], &ret);
        ck_assert_msg(ret == NULL, "thread %zu returned %p", i, ret);
    }
    t->n = 0;
}

void unit_threads_run(size_t n, void *(*fn)(void *), void *args, size_t size)
{
    struct unit_threads t;
    unit_threads_start(&t, n, fn, args, size);
    unit_threads_join(&t);
}
