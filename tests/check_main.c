/* check_main.c — the shared main() of the Check suites (see check_main.h). */
#include "check_main.h"

Suite *check_suite(const char *name, int timeout_s, void (*setup)(void), void (*teardown)(void),
                   const TTest *const *tests)
{
    Suite *s = suite_create(name);
    TCase *tc = tcase_create("core");
    if (setup || teardown)
        tcase_add_checked_fixture(tc, setup, teardown);
    if (timeout_s > 0)
        tcase_set_timeout(tc, timeout_s);
    for (; *tests; tests++)
        tcase_add_test(tc, *tests);
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
