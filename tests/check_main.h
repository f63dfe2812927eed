/* check_main.h — the one main() every Check suite shares (check_main.c).
 *
 * Contract: each tests/test_<module>.c defines test_suite(), which builds
 * and returns its Suite (Check owns it once the runner has it). It may also
 * define test_init(), run once before the runner starts (log level, global
 * library init), and test_fini(), run once after it ends. main() returns 0
 * when every case passed, 1 otherwise. CK_FORK is left to the environment
 * (scripts/run-tests.sh sets CK_FORK=yes: each case in its own process).
 */
#ifndef CHECK_MAIN_H
#define CHECK_MAIN_H

#include <check.h>

Suite *test_suite(void);

/* The usual suite in one call: one TCase named "core" with the given
 * checked fixture (either may be NULL), a timeout in seconds (0 keeps
 * Check's default) and the tests of CHECK_TESTS(a, b, c) in order. */
Suite *check_suite(const char *name, int timeout_s, void (*setup)(void), void (*teardown)(void),
                   const TTest *const *tests);
#define CHECK_TESTS(...) ((const TTest *const[]){__VA_ARGS__, NULL})
/* A suite whose table-driven tests run once per row: check_suite() plus a
 * second TCase "tables" with the same fixture and timeout, holding each
 * CHECK_LOOP(test, table) of CHECK_LOOPS(...) as a loop test over the
 * table's rows (_i is the row). */
struct check_loop {
    const TTest *test;
    int rows;
};
#define CHECK_LOOP(test, table) {(test), (int)(sizeof(table) / sizeof((table)[0]))}
#define CHECK_LOOPS(...) ((const struct check_loop[]){__VA_ARGS__, {NULL, 0}})
Suite *check_suite_tables(const char *name, int timeout_s, void (*setup)(void),
                          void (*teardown)(void), const TTest *const *tests,
                          const struct check_loop *loops);
/* test_suite() as that: CHECK_SUITE_TABLES("name", timeout_s, setup,
 * teardown, CHECK_TESTS(a, b), CHECK_LOOPS(CHECK_LOOP(c, rows), ...)). */
#define CHECK_SUITE_TABLES(name, timeout_s, setup, teardown, tests, loops)                       \
    Suite *test_suite(void)                                                                      \
    {                                                                                            \
        return check_suite_tables(name, timeout_s, setup, teardown, tests, loops);               \
    }
/* The usual test_suite() in one place: CHECK_SUITE("name", timeout_s, setup,
 * teardown, test_a, test_b, ...) defines it as that check_suite() over
 * CHECK_TESTS(test_a, test_b, ...). A suite with more TCases writes its own. */
#define CHECK_SUITE(name, timeout_s, setup, teardown, ...)                                       \
    Suite *test_suite(void)                                                                      \
    {                                                                                            \
        return check_suite(name, timeout_s, setup, teardown, CHECK_TESTS(__VA_ARGS__));          \
    }
/* Optional hooks: weak, so a suite that needs none defines none. */
void test_init(void) __attribute__((weak));
void test_fini(void) __attribute__((weak));

#endif
