/* check_main.c — the shared main() of the Check suites (see check_main.h). */
#include "check_main.h"

/* A TCase with the fixture (either may be NULL) and timeout (0: Check's). */
static TCase *check__tcase(const char *name, int timeout_s, void (*setup)(void),
                           void (*teardown)(void))
{
    TCase *tc = tcase_create(name);
    if (setup || teardown)
        tcase_add_checked_fixture(tc, setup, teardown);
    if (timeout_s > 0)
        tcase_set_timeout(tc, timeout_s);
    return tc;
}

Suite *check_suite(const char *name, int timeout_s, void (*setup)(void), void (*teardown)(void),
                   const TTest *const *tests)
{
    Suite *s = suite_create(name);
    TCase *tc = check__tcase("core", timeout_s, setup, teardown);
    for (; *tests; tests++)
        tcase_add_test(tc, *tests);
    suite_add_tcase(s, tc);
    return s;
}

Suite *check_suite_tables(const char *name, int timeout_s, void (*setup)(void),
                          void (*teardown)(void), const TTest *const *tests,
                          const struct check_loop *loops)
{
    Suite *s = check_suite(name, timeout_s, setup, teardown, tests);
    TCase *tc = check__tcase("tables", timeout_s, setup, teardown);
    for (; loops->test; loops++)
        tcase_add_loop_test(tc, loops->test, 0, loops->rows);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (test_init)
        test_init();
    SRunner *sr = srunner_create(test_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (test_fini)
        test_fini();
    return failed ? 1 : 0;
}
