/*
 * out_csv.c - the report as CSV, one file per table (--format csv).
 *
 * The driver (report_write) opens PREFIX-TABLE.csv or DIR/TABLE.csv for
 * each table; begin writes the summary file (metric,value).  Each table
 * file has a header of column ids and one line per row (every row, not
 * only those people's formats show); lists are joined with "; " into one
 * cell; times are ISO 8601 UTC, empty when unknown; numbers are plain.
 * Every text cell goes through esc_csv(), which also neutralises cells a
 * spreadsheet would run as a formula.
 */
#include <stdlib.h>
#include <string.h>

#include "reports/escape.h"
#include "reports/output.h"

static int
csv_begin(report_out *o)
{
    out_metric m[OUT_MAX_METRICS];
    size_t n = out_summary_metrics(report_get_summary(o->r), m, OUT_MAX_METRICS);
    const report_summary *s = report_get_summary(o->r);
    fprintf(o->f, "metric,value\n");
    fprintf(o->f, "generator,");
    esc_csv(o->f, report_generator());
    fprintf(o->f, "\ndatabase,");
    esc_csv(o->f, s->db);
    fprintf(o->f, "\npolicy,");
    esc_csv(o->f, s->policy_source);
    fputc('\n', o->f);
    for (size_t i = 0; i < n; i++) {
        esc_csv(o->f, m[i].id);
        fputc(',', o->f);
        esc_csv(o->f, m[i].raw);
        fputc('\n', o->f);
    }
    return ferror(o->f) ? -1 : 0;
}

/* A list cell joined with "; " (escaped as one cell). */
static void
csv_list(FILE *f, const rt_cell *c)
{
    size_t len = 1;
    for (uint32_t k = 0; k < c->n; k++)
        len += strlen(c->v[k]) + 2;
    char *buf = malloc(len);
    if (!buf)
        return;
    size_t o = 0;
    for (uint32_t k = 0; k < c->n; k++) {
        size_t l = strlen(c->v[k]);
        if (k) {
            memcpy(buf + o, "; ", 2);
            o += 2;
        }
        memcpy(buf + o, c->v[k], l);
        o += l;
    }
    buf[o] = 0;
    esc_csv(f, buf);
    free(buf);
}

static int
csv_table(report_out *o, const rtable *t)
{
    size_t nc = rt_ncols(t), nr = rt_nrows(t);
    char buf[64];
    for (size_t c = 0; c < nc; c++) {
        if (c)
            fputc(',', o->f);
        esc_csv(o->f, rt_colinfo(t, c)->id);
    }
    fputc('\n', o->f);
    for (size_t r = 0; r < nr; r++) {
        for (size_t c = 0; c < nc; c++) {
            const rt_col *col = rt_colinfo(t, c);
            const rt_cell *cell = rt_get(t, r, c);
            if (c)
                fputc(',', o->f);
            if (!cell)
                continue;
            if (col->type == RT_STR)
                esc_csv(o->f, cell->s);
            else if (col->type == RT_LIST)
                csv_list(o->f, cell);
            else
                esc_csv(o->f, out_cell_machine(col, cell, buf, sizeof(buf)));
        }
        fputc('\n', o->f);
    }
    return ferror(o->f) ? -1 : 0;
}

static int
csv_end(report_out *o)
{
    (void)o;
    return 0;
}

const report_format report_fmt_csv = {
    .name = "csv",
    .ext = "csv",
    .desc = "one CSV file per table: -o DIR/ (DIR/TABLE.csv) or -o PREFIX (PREFIX-TABLE.csv)",
    .multi = 1,
    .begin = csv_begin,
    .table = csv_table,
    .end = csv_end,
};
