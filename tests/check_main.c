/* check_main.c — the shared main() of the Check suites (see check_main.h). */
#include "check_main.h"

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
