/*
 * output.h - what the report writers (reports/out_*.c) share: a cell as
 * text for people or for machines, and the summary as name/value pairs.
 * Internal to reports/; the public side is report.h.
 */
#ifndef SEGSCOPE_OUTPUT_H
#define SEGSCOPE_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

#include "reports/report.h"

/*
 * A non-text cell as text into buf: for people ("21,421", "5.7 MB",
 * "2024-03-11 08:00", "91%") or for machines ("21421", "5700000",
 * "2024-03-11T08:00:00Z", "0.9100"; an unset time is "").  Returns buf.
 * Text and list cells are not formatted here: their strings are written
 * through the format's escaper.
 */
const char *out_cell_people(const rt_col *col, const rt_cell *c, char *buf, size_t len);
const char *out_cell_machine(const rt_col *col, const rt_cell *c, char *buf, size_t len);

/* One headline number of the summary. */
typedef struct out_metric {
    const char *id;             /* machine name */
    const char *title;          /* for people */
    char value[96];             /* formatted for people */
    char raw[64];               /* formatted for machines */
} out_metric;

#define OUT_MAX_METRICS 32
/* The summary as metrics, in display order. Returns the count. */
size_t out_summary_metrics(const report_summary *s, out_metric *m, size_t max);

/* "2024-03-11 00:00:29 UTC" (people) into buf. */
const char *out_time_people(uint64_t ns, char *buf, size_t len);

/* Rows people's formats show of t (rt_show, or all). */
size_t out_rows_shown(const rtable *t);

#endif
