/*
 * check_main.c - runs every unit-test suite.
 * One suite: CK_RUN_SUITE=decode; debug: CK_FORK=no gdb tests/check_segscope
 */
#include <stdlib.h>

#include "tests/suites.h"

int
main(void)
{
    SRunner *sr = srunner_create(suite_decode());
    srunner_add_suite(sr, suite_pcapfile());
    srunner_add_suite(sr, suite_pool());
    srunner_add_suite(sr, suite_flowtab());
    srunner_add_suite(sr, suite_fuzz_regress());
    srunner_add_suite(sr, suite_dpi());
    srunner_add_suite(sr, suite_zeekconn());
    srunner_add_suite(sr, suite_graph());
    srunner_add_suite(sr, suite_ident());
    srunner_add_suite(sr, suite_labels());
    srunner_add_suite(sr, suite_geo());
    srunner_add_suite(sr, suite_recommend());
    srunner_add_suite(sr, suite_report());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
