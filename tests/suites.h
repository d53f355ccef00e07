/* suites.h - one Check suite per module, gathered by check_main.c. */
#ifndef SEGSCOPE_SUITES_H
#define SEGSCOPE_SUITES_H
#include <check.h>
Suite *suite_decode(void);
Suite *suite_pcapfile(void);
Suite *suite_flowtab(void);
Suite *suite_pool(void);
Suite *suite_fuzz_regress(void);
Suite *suite_dpi(void);
Suite *suite_zeekconn(void);
Suite *suite_graph(void);
Suite *suite_ident(void);
Suite *suite_labels(void);
Suite *suite_geo(void);
Suite *suite_recommend(void);
Suite *suite_report(void);
#endif
