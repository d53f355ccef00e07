/*
 * rtable.c - the tables of a report (see rtable.h).
 *
 * Rows are arrays of ncols cells in one growing array (row-major); the
 * current row is the last one and `fill` is the next column to set.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reports/escape.h"
#include "reports/rtable.h"

struct rtable {
    char *id, *title, *intro;   /* names (owned) */
    char *note, *empty;         /* texts for people (owned, NULL if none) */
    rt_col *cols;               /* columns (owned array, static strings) */
    size_t ncols;               /* columns */
    rt_cell *cells;             /* nrows * ncols cells */
    size_t nrows, cap;          /* rows used, rows allocated */
    size_t fill;                /* next column of the current row */
    size_t show;                /* rows shown by people's formats (0 = all) */
    int oom;                    /* an allocation failed */
};

/* Table strings are valid UTF-8 whatever came in (escape.h). */
static char *
dup(const char *s)
{
    return esc_utf8_dup(s);
}

rtable *
rt_create(const char *id, const char *title, const char *intro, const rt_col *cols, size_t ncols)
{
    rtable *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->id = dup(id);
    t->title = dup(title);
    t->intro = dup(intro);
    t->cols = malloc(ncols * sizeof(*cols));
    if (!t->id || !t->title || !t->intro || !t->cols) {
        rt_free(t);
        return NULL;
    }
    memcpy(t->cols, cols, ncols * sizeof(*cols));
    t->ncols = ncols;
    t->fill = ncols;
    return t;
}

void
rt_free(rtable *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nrows * t->ncols; i++) {
        free(t->cells[i].s);
        for (uint32_t k = 0; k < t->cells[i].n; k++)
            free(t->cells[i].v[k]);
        free(t->cells[i].v);
    }
    free(t->cells);
    free(t->cols);
    free(t->id);
    free(t->title);
    free(t->intro);
    free(t->note);
    free(t->empty);
    free(t);
}

void
rt_row(rtable *t)
{
    if (t->nrows == t->cap) {
        size_t ncap = t->cap ? 2 * t->cap : 64;
        rt_cell *c = realloc(t->cells, ncap * t->ncols * sizeof(*c));
        if (!c) {
            t->oom = 1;
            t->fill = t->ncols;     /* drop this row's cells */
            return;
        }
        t->cells = c;
        t->cap = ncap;
    }
    memset(&t->cells[t->nrows * t->ncols], 0, t->ncols * sizeof(rt_cell));
    t->nrows++;
    t->fill = 0;
}

/* The next cell of the current row, or NULL (no row, row full, or a type mismatch). */
static rt_cell *
next(rtable *t, rt_type a, rt_type b)
{
    if (t->fill >= t->ncols || !t->nrows)
        return NULL;
    rt_type ty = t->cols[t->fill].type;
    if (ty != a && ty != b) {
        t->oom = 1;                 /* a programming error: make it visible */
        return NULL;
    }
    return &t->cells[(t->nrows - 1) * t->ncols + t->fill++];
}

void
rt_str(rtable *t, const char *s)
{
    rt_cell *c = next(t, RT_STR, RT_STR);
    if (c && !(c->s = dup(s)))
        t->oom = 1;
}

void
rt_int(rtable *t, uint64_t v)
{
    rt_cell *c = next(t, RT_INT, RT_INT);
    if (c)
        c->u = v;
}

void
rt_num(rtable *t, double v)
{
    rt_cell *c = next(t, RT_NUM, RT_PCT);
    if (c)
        c->d = v;
}

void
rt_time(rtable *t, uint64_t ns)
{
    rt_cell *c = next(t, RT_TIME, RT_TIME);
    if (c)
        c->u = ns;
}

void
rt_bytes(rtable *t, uint64_t v)
{
    rt_cell *c = next(t, RT_BYTES, RT_BYTES);
    if (c)
        c->u = v;
}

void
rt_list_begin(rtable *t)
{
    next(t, RT_LIST, RT_LIST);
}

void
rt_item(rtable *t, const char *s)
{
    if (!t->nrows || t->fill == 0 || t->cols[t->fill - 1].type != RT_LIST)
        return;
    rt_cell *c = &t->cells[(t->nrows - 1) * t->ncols + t->fill - 1];
    char **v = realloc(c->v, (c->n + 1) * sizeof(*v));
    if (!v) {
        t->oom = 1;
        return;
    }
    c->v = v;
    if (!(v[c->n] = dup(s))) {
        t->oom = 1;
        return;
    }
    c->n++;
}

static void
set_text(rtable *t, char **dst, const char *s)
{
    free(*dst);
    *dst = s ? esc_utf8_dup(s) : NULL;
    if (s && !*dst)
        t->oom = 1;
}

void
rt_set_note(rtable *t, const char *note)
{
    set_text(t, &t->note, note);
}

void
rt_set_empty(rtable *t, const char *text)
{
    set_text(t, &t->empty, text);
}

void
rt_set_show(rtable *t, size_t rows)
{
    t->show = rows;
}

const char *
rt_id(const rtable *t)
{
    return t->id;
}

const char *
rt_title(const rtable *t)
{
    return t->title;
}

const char *
rt_intro(const rtable *t)
{
    return t->intro;
}

const char *
rt_note(const rtable *t)
{
    return t->note ? t->note : "";
}

const char *
rt_empty(const rtable *t)
{
    return t->empty ? t->empty : "";
}

size_t
rt_show(const rtable *t)
{
    return t->show;
}

size_t
rt_ncols(const rtable *t)
{
    return t->ncols;
}

size_t
rt_nrows(const rtable *t)
{
    return t->nrows;
}

int
rt_oom(const rtable *t)
{
    return t->oom;
}

const rt_col *
rt_colinfo(const rtable *t, size_t c)
{
    return c < t->ncols ? &t->cols[c] : NULL;
}

const rt_cell *
rt_get(const rtable *t, size_t row, size_t col)
{
    if (row >= t->nrows || col >= t->ncols)
        return NULL;
    /* the last row may be incomplete: cells past `fill` were never set */
    if (row == t->nrows - 1 && col >= t->fill)
        return NULL;
    return &t->cells[row * t->ncols + col];
}

double
rt_col_max(const rtable *t, size_t col)
{
    double mx = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        const rt_cell *c = rt_get(t, r, col);
        if (!c)
            continue;
        double v = (t->cols[col].type == RT_NUM || t->cols[col].type == RT_PCT) ? c->d : (double)c->u;
        if (v > mx)
            mx = v;
    }
    return mx;
}

/* ---- formatting ----------------------------------------------------------- */

const char *
rt_fmt_time(uint64_t ns, char *buf, size_t len)
{
    struct tm tm;
    time_t s = (time_t)(ns / 1000000000ULL);
    if (!ns || !gmtime_r(&s, &tm)) {
        snprintf(buf, len, "-");
        return buf;
    }
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

const char *
rt_fmt_bytes(uint64_t v, char *buf, size_t len)
{
    static const char *const unit[] = { "kB", "MB", "GB", "TB", "PB", "EB" };
    if (v < 1000) {
        snprintf(buf, len, "%" PRIu64 " B", v);
        return buf;
    }
    double d = (double)v / 1000;
    int u = 0;
    while (d >= 999.95 && u < 5) {
        d /= 1000;
        u++;
    }
    snprintf(buf, len, d < 9.995 ? "%.2f %s" : d < 99.95 ? "%.1f %s" : "%.0f %s", d, unit[u]);
    return buf;
}

const char *
rt_fmt_int(uint64_t v, char *buf, size_t len)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < len; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o < len ? o : len - 1] = 0;
    return buf;
}
