/*
 * output.c - the report's format table, the driver that runs a format,
 * and what the writers share (see report.h and output.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "reports/output.h"

const report_format *const report_formats[] = {
    &report_fmt_html, &report_fmt_md, &report_fmt_json, &report_fmt_csv, &report_fmt_dot, NULL,
};

const report_format *
report_find_format(const char *name)
{
    for (size_t i = 0; report_formats[i]; i++)
        if (strcmp(report_formats[i]->name, name) == 0)
            return report_formats[i];
    if (strcmp(name, "markdown") == 0)
        return &report_fmt_md;
    if (strcmp(name, "htm") == 0)
        return &report_fmt_html;
    return NULL;
}

const report_format *
report_format_for_path(const char *path)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    const char *slash = path ? strrchr(path, '/') : NULL;
    if (!dot || (slash && slash > dot))
        return NULL;
    return report_find_format(dot + 1);
}

const char *
out_time_people(uint64_t ns, char *buf, size_t len)
{
    struct tm tm;
    time_t s = (time_t)(ns / 1000000000ULL);
    if (!ns || !gmtime_r(&s, &tm)) {
        snprintf(buf, len, "-");
        return buf;
    }
    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

const char *
out_cell_people(const rt_col *col, const rt_cell *c, char *buf, size_t len)
{
    buf[0] = 0;
    switch (col->type) {
    case RT_INT: return rt_fmt_int(c->u, buf, len);
    case RT_NUM: snprintf(buf, len, "%.1f", c->d); return buf;
    case RT_PCT: snprintf(buf, len, "%.0f%%", 100 * c->d); return buf;
    case RT_BYTES: return rt_fmt_bytes(c->u, buf, len);
    case RT_TIME: {
        struct tm tm;
        time_t s = (time_t)(c->u / 1000000000ULL);
        if (!c->u || !gmtime_r(&s, &tm))
            snprintf(buf, len, "-");
        else
            strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
        return buf;
    }
    default: return buf;
    }
}

const char *
out_cell_machine(const rt_col *col, const rt_cell *c, char *buf, size_t len)
{
    buf[0] = 0;
    switch (col->type) {
    case RT_INT:
    case RT_BYTES: snprintf(buf, len, "%" PRIu64, c->u); return buf;
    case RT_NUM:
    case RT_PCT: snprintf(buf, len, "%.4f", c->d); return buf;
    case RT_TIME:
        if (c->u)
            rt_fmt_time(c->u, buf, len);
        return buf;
    default: return buf;
    }
}

size_t
out_rows_shown(const rtable *t)
{
    size_t n = rt_nrows(t), s = rt_show(t);
    return s && s < n ? s : n;
}

size_t
out_summary_metrics(const report_summary *s, out_metric *m, size_t max)
{
    size_t n = 0;
    char a[64], b[64];
#define METRIC(ID, TITLE, RAWFMT, RAWVAL, ...) do { \
        if (n < max) { \
            m[n].id = ID; m[n].title = TITLE; \
            snprintf(m[n].value, sizeof(m[n].value), __VA_ARGS__); \
            snprintf(m[n].raw, sizeof(m[n].raw), RAWFMT, RAWVAL); \
            n++; \
        } } while (0)
    METRIC("first_seen", "First packet", "%s", s->first_ns ? rt_fmt_time(s->first_ns, a, sizeof(a)) : "",
           "%s", out_time_people(s->first_ns, b, sizeof(b)));
    METRIC("last_seen", "Last packet", "%s", s->last_ns ? rt_fmt_time(s->last_ns, a, sizeof(a)) : "",
           "%s", out_time_people(s->last_ns, b, sizeof(b)));
    double hours = s->last_ns > s->first_ns ? (double)(s->last_ns - s->first_ns) / 3.6e12 : 0;
    METRIC("hours_observed", "Hours observed", "%.2f", hours, "%.1f", hours);
    METRIC("captures", "Captures ingested", "%" PRIu64, s->captures, "%s", rt_fmt_int(s->captures, a, sizeof(a)));
    METRIC("packets", "Packets", "%" PRIu64, s->packets, "%s", rt_fmt_int(s->packets, a, sizeof(a)));
    METRIC("bytes", "Bytes", "%" PRIu64, s->bytes, "%s", rt_fmt_bytes(s->bytes, a, sizeof(a)));
    METRIC("flows", "Flows", "%" PRIu64, s->flows, "%s", rt_fmt_int(s->flows, a, sizeof(a)));
    METRIC("hosts", "Hosts", "%" PRIu64, s->hosts, "%s", rt_fmt_int(s->hosts, a, sizeof(a)));
    METRIC("hosts_internal", "Internal hosts", "%" PRIu64, s->hosts_internal, "%s",
           rt_fmt_int(s->hosts_internal, a, sizeof(a)));
    METRIC("hosts_external", "External hosts", "%" PRIu64, s->hosts_external, "%s",
           rt_fmt_int(s->hosts_external, a, sizeof(a)));
    METRIC("workloads", "Workloads (internal hosts that sent traffic)", "%u", s->workloads, "%s",
           rt_fmt_int(s->workloads, a, sizeof(a)));
    METRIC("edges", "Client-server-service triples", "%" PRIu64, s->edges, "%s", rt_fmt_int(s->edges, a, sizeof(a)));
    METRIC("segments", "Segments", "%u", s->segments, "%u", s->segments);
    METRIC("rules", "Allow rules", "%u", s->rules, "%u", s->rules);
    METRIC("review", "Review entries", "%u", s->review, "%u", s->review);
    METRIC("blast_flat", "Blast radius before (flat network, mean workloads reachable)", "%.4f", s->blast_flat,
           "%.1f", s->blast_flat);
    METRIC("blast_observed", "Workloads actually used (mean)", "%.4f", s->blast_observed, "%.1f", s->blast_observed);
    METRIC("blast_policy", "Blast radius after (under the policy, mean)", "%.4f", s->blast_policy, "%.1f",
           s->blast_policy);
    METRIC("blast_reduction", "Blast-radius reduction", "%.4f", s->blast_reduction, "%.0f%%",
           100 * s->blast_reduction);
    if (s->has_lateral) {
        METRIC("lateral_flat", "Lateral reach before (transitive over SSH, RDP, SMB...)", "%.4f", s->lateral_flat,
               "%.1f", s->lateral_flat);
        METRIC("lateral_policy", "Lateral reach after", "%.4f", s->lateral_policy, "%.1f", s->lateral_policy);
        METRIC("lateral_reduction", "Lateral reach reduction", "%.4f", s->lateral_reduction, "%.0f%%",
               100 * s->lateral_reduction);
    }
    METRIC("flows_allowed", "Observed flows the policy admits", "%" PRIu64, s->flows_allowed, "%s",
           rt_fmt_int(s->flows_allowed, a, sizeof(a)));
    METRIC("flows_blocked", "Observed flows the policy blocks", "%" PRIu64, s->flows_denied, "%s",
           rt_fmt_int(s->flows_denied, a, sizeof(a)));
    METRIC("risky_high", "High-risk connections (still allowed)", "%u", s->risky[3], "%u (%u)", s->risky[3],
           s->risky_allowed[3]);
    METRIC("risky_medium", "Medium-risk connections (still allowed)", "%u", s->risky[2], "%u (%u)", s->risky[2],
           s->risky_allowed[2]);
    METRIC("risky_low", "Low-risk connections (still allowed)", "%u", s->risky[1], "%u (%u)", s->risky[1],
           s->risky_allowed[1]);
    METRIC("unknown_devices", "Unknown devices", "%u", s->unknown_devices, "%u", s->unknown_devices);
    METRIC("attack_paths", "Attack paths to crown jewels", "%u", s->attack_paths, "%u", s->attack_paths);
    METRIC("external_peers", "External peers", "%u", s->external_peers, "%u", s->external_peers);
    METRIC("corrupt_records", "Database records skipped (corrupt)", "%" PRIu64, s->corrupt, "%" PRIu64, s->corrupt);
#undef METRIC
    return n;
}

/* ---- the driver ------------------------------------------------------------------ */

/* mkdir -p for one level (the parent must exist). 0 or -1. */
static int
ensure_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) == 0)
        return S_ISDIR(st.st_mode) ? 0 : -1;
    return mkdir(dir, 0777);
}

int
report_write(const report *r, const report_format *fmt, FILE *out, const char *path,
             char *err, size_t errlen)
{
    report_out o = { .f = out, .r = r, .state = NULL };
    if (!fmt->multi) {
        int rc = fmt->begin(&o);
        for (size_t i = 0; rc == 0 && i < report_n_tables(r); i++)
            rc = fmt->table(&o, report_table(r, i));
        if (fmt->end(&o) < 0)
            rc = -1;
        if (rc < 0)
            snprintf(err, errlen, "write error");
        return rc;
    }
    /* one file per table: PREFIX-TABLE.csv or DIR/TABLE.csv */
    if (!path || !*path || strcmp(path, "-") == 0) {
        snprintf(err, errlen, "--format %s writes one file per table: give -o DIR/ or -o PREFIX", fmt->name);
        return -1;
    }
    size_t pl = strlen(path);
    struct stat st;
    int isdir = path[pl - 1] == '/' || (stat(path, &st) == 0 && S_ISDIR(st.st_mode));
    char *prefix = malloc(pl + 2);
    if (!prefix) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(prefix, path, pl + 1);
    size_t el = strlen(fmt->ext);
    if (!isdir && pl > el + 1 && prefix[pl - el - 1] == '.' && strcmp(prefix + pl - el, fmt->ext) == 0)
        prefix[pl - el - 1] = 0;
    if (isdir) {
        while (pl > 1 && prefix[pl - 1] == '/')
            prefix[--pl] = 0;
        if (ensure_dir(prefix) < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : ENOTDIR));
            free(prefix);
            return -1;
        }
    }
    int rc = 0;
    size_t n = report_n_tables(r);
    for (size_t i = 0; rc == 0 && i <= n; i++) {
        /* file 0 is the summary (begin), then one per table */
        const char *id = i == 0 ? "summary" : rt_id(report_table(r, i - 1));
        size_t fl = strlen(prefix) + strlen(id) + el + 4;
        char *fn = malloc(fl);
        if (!fn) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
        snprintf(fn, fl, "%s%s%s.%s", prefix, isdir ? "/" : "-", id, fmt->ext);
        FILE *f = fopen(fn, "w");
        if (!f) {
            snprintf(err, errlen, "%s: %s", fn, strerror(errno));
            free(fn);
            rc = -1;
            break;
        }
        o.f = f;
        rc = i == 0 ? fmt->begin(&o) : fmt->table(&o, report_table(r, i - 1));
        if (ferror(f))
            rc = -1;
        if (fclose(f) != 0)
            rc = -1;
        if (rc < 0)
            snprintf(err, errlen, "%s: write error", fn);
        free(fn);
    }
    o.f = NULL;
    if (fmt->end(&o) < 0 && rc == 0) {
        snprintf(err, errlen, "write error");
        rc = -1;
    }
    free(prefix);
    return rc;
}
