/*
 * rtable.h - the tables of a report: typed columns, rows of cells.
 *
 * A report (report.h) is a summary, a map and a list of tables; every
 * output format (html, md, json, csv) writes the same tables, so they
 * carry the same content.  A table has an id (the CSV file suffix, the
 * JSON key), a title and an introduction for people, typed columns and
 * rows.  Cells are filled in column order: rt_row() starts a row, one
 * rt_<type>() call per column fills it.  The table owns copies of every
 * string.  Strings are never trusted: each writer escapes them for its
 * format (reports/escape.h, or json-c for JSON).
 *
 * Memory: an allocation failure marks the table (rt_oom()) and drops the
 * rest of that row; writers still write what is there, the caller
 * reports the failure.
 */
#ifndef SEGSCOPE_RTABLE_H
#define SEGSCOPE_RTABLE_H

#include <stddef.h>
#include <stdint.h>

/* What a column holds. */
typedef enum rt_type {
    RT_STR = 0,                 /* text */
    RT_INT,                     /* unsigned integer */
    RT_NUM,                     /* a number with one decimal */
    RT_PCT,                     /* a fraction 0..1 written as a percentage */
    RT_TIME,                    /* ns since the epoch; ISO 8601 UTC ("-" and null for 0) */
    RT_BYTES,                   /* a byte count (people's formats: "5.7 MB") */
    RT_LIST,                    /* a list of texts (CSV: joined with "; ") */
} rt_type;

/* How people's formats (HTML) present a column. */
enum {
    RT_H_BADGE = 1,             /* the value is one of a few words (high, denied...): a coloured badge */
    RT_H_BAR = 2,               /* a number drawn with a bar scaled to the column's maximum */
    RT_H_MONO = 4,              /* addresses, services: fixed-width */
    RT_H_WRAP = 8,              /* long text: may wrap */
    RT_H_NUM = 16,              /* right-aligned */
};

/* One column. */
typedef struct rt_col {
    const char *id;             /* machine name: CSV header, JSON key */
    const char *title;          /* header for people */
    rt_type type;               /* what its cells hold */
    unsigned hints;             /* RT_H_* */
} rt_col;

/* One cell (the type is the column's). */
typedef struct rt_cell {
    char *s;                    /* RT_STR: the text (never NULL once set) */
    char **v;                   /* RT_LIST: the items */
    uint32_t n;                 /* RT_LIST: items in v */
    uint64_t u;                 /* RT_INT, RT_TIME, RT_BYTES */
    double d;                   /* RT_NUM, RT_PCT */
} rt_cell;

typedef struct rtable rtable;

/*
 * A table with ncols columns (cols is copied; its strings must be
 * static).  intro is a sentence or two for people (may be NULL).  NULL
 * on OOM.
 */
rtable *rt_create(const char *id, const char *title, const char *intro,
                  const rt_col *cols, size_t ncols);
/* NULL is fine. */
void rt_free(rtable *t);

/* Start a new row. */
void rt_row(rtable *t);
/* Fill the next cell of the current row (the column's type must match). */
void rt_str(rtable *t, const char *s);          /* NULL is stored as "" */
void rt_int(rtable *t, uint64_t v);
void rt_num(rtable *t, double v);               /* RT_NUM or RT_PCT */
void rt_time(rtable *t, uint64_t ns);
void rt_bytes(rtable *t, uint64_t v);
/* A list: rt_list_begin(), then rt_item() per item. */
void rt_list_begin(rtable *t);
void rt_item(rtable *t, const char *s);
/* A note shown under the table by people's formats ("12 more rows..."); replaces any earlier one. */
void rt_set_note(rtable *t, const char *note);
/* Rows people's formats show at most (0 = all); the others are counted in a note. */
void rt_set_show(rtable *t, size_t rows);
/* What people's formats say when the table has no rows. */
void rt_set_empty(rtable *t, const char *text);

const char *rt_id(const rtable *t);
const char *rt_title(const rtable *t);
const char *rt_intro(const rtable *t);          /* "" when none */
const char *rt_note(const rtable *t);           /* "" when none */
const char *rt_empty(const rtable *t);          /* "" when none */
size_t rt_show(const rtable *t);
size_t rt_ncols(const rtable *t);
const rt_col *rt_colinfo(const rtable *t, size_t c);
size_t rt_nrows(const rtable *t);
/* A cell, or NULL if the row was cut short by an allocation failure. */
const rt_cell *rt_get(const rtable *t, size_t row, size_t col);
/* 1 if an allocation failed. */
int rt_oom(const rtable *t);

/* Formatting shared by the writers. */
/* "2024-03-11T00:00:29Z" into buf; "-" for 0. */
const char *rt_fmt_time(uint64_t ns, char *buf, size_t len);
/* "5.7 MB", "812 B" into buf. */
const char *rt_fmt_bytes(uint64_t v, char *buf, size_t len);
/* "21,421" into buf. */
const char *rt_fmt_int(uint64_t v, char *buf, size_t len);
/* The largest value of a numeric column (0 if none), for bars. */
double rt_col_max(const rtable *t, size_t col);

#endif
