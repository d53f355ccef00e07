/*
 * out_html.c - the report as one self-contained HTML file (--format html).
 *
 * No script and no fetch: inline CSS, the map as inline SVG laid out by
 * Graphviz in-process (reports/layout.c), and a Content-Security-Policy
 * that forbids scripts and every network access, so even a string that
 * slipped its escaping could not run.  Every string goes through
 * esc_html().  Reading order: headline cards, what the policy changes
 * (before/after bars), findings, the map, then the tables (risks first).
 * A print stylesheet lays it out on A4 landscape.
 */
#include <stdlib.h>
#include <string.h>

#include "reports/escape.h"
#include "reports/layout.h"
#include "reports/output.h"

static const char css[] =
    ":root{--fg:#1f2933;--muted:#52606d;--line:#d9e2ec;--bg:#f5f7fa;--accent:#2f5fa8}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',Arial,sans-serif;"
    "color:var(--fg);background:#fff}\n"
    "header{padding:18px 28px 12px;border-bottom:1px solid var(--line);background:#f8fafc}\n"
    "h1{font-size:23px;margin:0 0 4px}\n"
    ".sub{color:var(--muted);font-size:13px}.sub b{color:var(--fg);font-weight:600}\n"
    "nav{position:sticky;top:0;z-index:2;background:#fff;border-bottom:1px solid var(--line);"
    "padding:6px 28px;font-size:13px;white-space:nowrap;overflow-x:auto}\n"
    "nav a{margin-right:14px;color:var(--accent);text-decoration:none}\n"
    "main{padding:6px 28px 40px}\n"
    "section{margin:20px 0}\n"
    "h2{font-size:18px;margin:0 0 6px;padding-bottom:4px;border-bottom:2px solid var(--line)}\n"
    ".intro{color:var(--muted);margin:4px 0 10px;max-width:120ch}\n"
    ".note{color:var(--muted);font-size:12.5px;margin:6px 0}\n"
    ".empty{color:var(--muted);font-style:italic}\n"
    ".top{display:grid;grid-template-columns:minmax(520px,1fr) minmax(420px,1fr);gap:22px;align-items:start}\n"
    ".cards{display:grid;grid-template-columns:repeat(4,1fr);gap:8px}\n"
    ".card{border:1px solid var(--line);border-radius:8px;padding:8px 11px;background:#fff}\n"
    ".card .v{font-size:21px;font-weight:650;white-space:nowrap}\n"
    ".card .k{font-size:12px;color:var(--muted)}\n"
    ".card.good{border-color:#7cb98a;background:#f1f8f2}.card.bad{border-color:#e3a0a0;background:#fdf3f3}\n"
    ".ba{margin-top:12px;border:1px solid var(--line);border-radius:8px;padding:10px 12px}\n"
    ".ba h3{font-size:14px;margin:0 0 6px}\n"
    ".ba .row{display:grid;grid-template-columns:220px 1fr 60px;gap:8px;align-items:center;margin:4px 0;"
    "font-size:13px}\n"
    ".track{background:#eef1f4;border-radius:4px;height:14px;overflow:hidden}\n"
    ".fill{display:block;height:14px;border-radius:4px}\n"
    ".f-before{background:#c62828}.f-used{background:#8896a6}.f-after{background:#2e7d32}\n"
    ".ba .num{text-align:right;font-weight:600;font-variant-numeric:tabular-nums}\n"
    "ul.findings{list-style:none;padding:0;margin:0}\n"
    "h3.sm{font-size:14px;margin:16px 0 4px}\n"
    "table.mini td{padding:3px 6px;font-size:12.5px}table.mini .m{font-family:ui-monospace,'DejaVu Sans Mono',"
    "Menlo,monospace;font-size:11.5px;color:var(--muted)}\n"
    "ul.findings li{padding:6px 0;border-bottom:1px solid var(--line);display:grid;"
    "grid-template-columns:74px 1fr;gap:8px;align-items:baseline}\n"
    "table{border-collapse:collapse;width:100%;font-size:12.5px}\n"
    "th,td{border-bottom:1px solid var(--line);padding:4px 7px;text-align:left;vertical-align:top}\n"
    "th{background:var(--bg);font-weight:600;white-space:nowrap}\n"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "td.m{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,monospace;font-size:11.5px}\n"
    "td.w{min-width:26ch;max-width:70ch}\n"
    "td{overflow-wrap:break-word}td.t{white-space:nowrap}\n"
    "tbody tr:nth-child(even){background:#fafbfc}\n"
    ".b{display:inline-block;padding:1px 7px;border-radius:10px;font-size:11.5px;font-weight:600;"
    "background:#e4e7eb;color:#323f4b;white-space:nowrap}\n"
    ".b-high,.b-blocked,.b-lateral,.b-scanner{background:#fdecea;color:#b71c1c}\n"
    ".b-medium,.b-rare,.b-unanswered,.b-dead{background:#fff1e0;color:#9a4f00}\n"
    ".b-low,.b-info{background:#e8f0fe;color:#1f4f99}\n"
    ".b-good,.b-allowed{background:#e6f4ea;color:#1e6b2c}\n"
    ".bar{display:inline-block;height:9px;background:#c62828;border-radius:2px;vertical-align:middle;"
    "margin-right:6px}\n"
    ".scroll{overflow-x:auto}\n"
    ".map{border:1px solid var(--line);border-radius:8px;padding:8px;background:#fcfdfe}\n"
    ".map svg{max-width:100%;height:auto;display:block;margin:0 auto}\n"
    ".legend{font-size:12px;color:var(--muted);margin:4px 0 8px;display:flex;flex-wrap:wrap;gap:4px 14px}\n"
    ".sw{display:inline-block;width:12px;height:12px;border-radius:3px;border:1.5px solid;"
    "vertical-align:-2px;margin-right:4px}\n"
    ".ln{display:inline-block;width:18px;height:0;border-top:2.5px solid;vertical-align:3px;margin-right:4px}\n"
    "footer{color:var(--muted);font-size:12px;padding:10px 28px;border-top:1px solid var(--line)}\n"
    "@media (max-width:1100px){.top{grid-template-columns:1fr}}\n"
    "@media print{@page{size:A4 landscape;margin:9mm}nav{display:none}body{font-size:10.5px}"
    "header{background:none}main{padding:0}.scroll{overflow:visible}table{font-size:8.5px}"
    "td.m{font-size:8px}h2{break-after:avoid}tr,.card,li{break-inside:avoid}"
    ".map{break-inside:avoid}.top{grid-template-columns:1fr 1fr}"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}\n";

/* Writer state. */
typedef struct html_state {
    int map_done;               /* the map section was written */
} html_state;

/* A CSS class word from a value: lower-case letters only (values are fixed words). */
static void
badge(FILE *f, const char *v)
{
    fputs("<span class=\"b b-", f);
    for (const char *p = v; *p && p - v < 24; p++)
        if (*p >= 'a' && *p <= 'z')
            fputc(*p, f);
    fputs("\">", f);
    esc_html(f, v);
    fputs("</span>", f);
}

static void
card(FILE *f, const char *cls, const char *value, const char *key)
{
    fprintf(f, "<div class=\"card %s\"><div class=\"v\">", cls);
    esc_html(f, value);
    fputs("</div><div class=\"k\">", f);
    esc_html(f, key);
    fputs("</div></div>\n", f);
}

static void
ba_row(FILE *f, const char *label, const char *cls, double v, double max)
{
    double w = max > 0 ? 100.0 * v / max : 0;
    if (w > 100)
        w = 100;
    if (v > 0 && w < 0.6)
        w = 0.6;
    fprintf(f, "<div class=\"row\"><span>");
    esc_html(f, label);
    fprintf(f, "</span><span class=\"track\"><span class=\"fill %s\" style=\"width:%.1f%%\"></span></span>"
               "<span class=\"num\">%.1f</span></div>\n", cls, w, v);
}

/* The cell of column id in row r, or NULL. */
static const rt_cell *
cell(const rtable *t, size_t r, const char *id)
{
    for (size_t c = 0; c < rt_ncols(t); c++)
        if (strcmp(rt_colinfo(t, c)->id, id) == 0)
            return rt_get(t, r, c);
    return NULL;
}

/* The first risky connection of each kind, so the first screen answers "which flows are the riskiest". */
static void
riskiest(report_out *o)
{
    FILE *f = o->f;
    const rtable *rk = report_table_find(o->r, "risky_flows");
    size_t n = rk ? rt_nrows(rk) : 0;
    if (n) {
        fputs("<h3 class=\"sm\">Riskiest connections (the first of each kind; "
              "<a href=\"#t-risky_flows\">all risky flows</a>)</h3>\n<table class=\"mini\"><tbody>\n", f);
        const char *shown[6];
        size_t ns = 0;
        for (size_t r = 0; r < n && ns < 6; r++) {
            const rt_cell *sev = cell(rk, r, "severity"), *what = cell(rk, r, "risks"), *cl = cell(rk, r, "client"),
                          *sv = cell(rk, r, "server"), *svc = cell(rk, r, "service"), *pol = cell(rk, r, "policy");
            if (!sev || !what || !cl || !sv || !svc || !pol || !what->n)
                continue;
            int dup = 0;
            for (size_t k = 0; k < ns; k++)
                dup |= strcmp(shown[k], what->v[0]) == 0;
            if (dup)
                continue;
            shown[ns++] = what->v[0];
            const rt_cell *fl = cell(rk, r, "flows");
            char nb[32];
            fputs("<tr><td>", f);
            badge(f, sev->s);
            fputs("</td><td>", f);
            esc_html(f, what->v[0]);
            fputs("</td><td class=\"m\">", f);
            esc_html(f, cl->s);
            fputs(" &rarr; ", f);
            esc_html(f, sv->s);
            fputs("</td><td class=\"m\">", f);
            esc_html(f, svc->s);
            fputs("</td><td class=\"n\">", f);
            if (fl)
                esc_html(f, rt_fmt_int(fl->u, nb, sizeof(nb)));
            fputs(" flows</td><td>", f);
            badge(f, pol->s);
            fputs("</td></tr>\n", f);
        }
        fputs("</tbody></table>\n", f);
    }
}

static int
html_begin(report_out *o)
{
    const report_summary *s = report_get_summary(o->r);
    FILE *f = o->f;
    char a[64], b[64], c[96];
    html_state *st = calloc(1, sizeof(*st));
    if (!st)
        return -1;
    o->state = st;
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; img-src data:\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta name=\"generator\" content=\"", f);
    esc_html(f, report_generator());
    fputs("\">\n<title>Segmentation audit: ", f);
    esc_html(f, s->db);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header>\n"
               "<h1>Segmentation audit report</h1>\n<div class=\"sub\">Observed <b>", css);
    esc_html(f, out_time_people(s->first_ns, a, sizeof(a)));
    fputs("</b> to <b>", f);
    esc_html(f, out_time_people(s->last_ns, b, sizeof(b)));
    fputs("</b> &middot; database <b>", f);
    esc_html(f, s->db);
    fputs("</b> &middot; policy: ", f);
    esc_html(f, s->policy_source);
    fputs("</div>\n</header>\n<nav><a href=\"#summary\">Summary</a><a href=\"#map\">Map</a>", f);
    for (size_t i = 0; i < report_n_tables(o->r); i++) {
        const rtable *t = report_table(o->r, i);
        if (strcmp(rt_id(t), "findings") == 0)
            continue;
        fprintf(f, "<a href=\"#t-");
        esc_html(f, rt_id(t));
        fprintf(f, "\">");
        esc_html(f, rt_title(t));
        fprintf(f, "</a>");
    }
    fputs("</nav>\n<main>\n<section id=\"summary\">\n<div class=\"top\">\n<div>\n<div class=\"cards\">\n", f);
    double hours = s->last_ns > s->first_ns ? (double)(s->last_ns - s->first_ns) / 3.6e12 : 0;
    snprintf(c, sizeof(c), "%.1f h", hours);
    card(f, "", c, "observed");
    card(f, "", rt_fmt_int(s->captures, a, sizeof(a)), "captures ingested");
    card(f, "", rt_fmt_int(s->packets, a, sizeof(a)), "packets");
    card(f, "", rt_fmt_int(s->flows, a, sizeof(a)), "flows");
    char d[32];
    snprintf(c, sizeof(c), "%s", rt_fmt_int(s->workloads, a, sizeof(a)));
    snprintf(b, sizeof(b), "workloads (%s internal, %s external hosts)",
             rt_fmt_int(s->hosts_internal, a, sizeof(a)), rt_fmt_int(s->hosts_external, d, sizeof(d)));
    card(f, "", c, b);
    card(f, "", rt_fmt_int(s->segments, a, sizeof(a)), "segments");
    snprintf(b, sizeof(b), "allow rules (%u to review)", s->review);
    card(f, "", rt_fmt_int(s->rules, a, sizeof(a)), b);
    snprintf(c, sizeof(c), "-%.0f%%", 100 * s->blast_reduction);
    card(f, s->blast_reduction >= 0.5 ? "good" : "bad", c, "blast radius after the policy");
    snprintf(c, sizeof(c), "%u", s->risky[3]);
    snprintf(b, sizeof(b), "high-risk connections (%u still allowed)", s->risky_allowed[3]);
    card(f, s->risky_allowed[3] ? "bad" : s->risky[3] ? "" : "good", c, b);
    snprintf(c, sizeof(c), "%u", s->risky[2]);
    snprintf(b, sizeof(b), "medium-risk connections (%u still allowed)", s->risky_allowed[2]);
    card(f, s->risky_allowed[2] ? "bad" : "", c, b);
    card(f, s->flows_denied ? "bad" : "good", rt_fmt_int(s->flows_denied, a, sizeof(a)), "observed flows it would block");
    card(f, s->unknown_devices ? "bad" : "", rt_fmt_int(s->unknown_devices, a, sizeof(a)), "unknown devices");
    fputs("</div>\n<div class=\"ba\"><h3>What one compromised workload can reach (mean workloads)</h3>\n", f);
    double mx = s->blast_flat;
    ba_row(f, "Before: flat network", "f-before", s->blast_flat, mx);
    ba_row(f, "Actually used", "f-used", s->blast_observed, mx);
    ba_row(f, "After: under the policy", "f-after", s->blast_policy, mx);
    if (s->has_lateral) {
        double lm = s->lateral_flat;
        ba_row(f, "Chained SSH/RDP/SMB hops, before", "f-before", s->lateral_flat, lm > 0 ? lm : 1);
        ba_row(f, "Chained hops, after", "f-after", s->lateral_policy, lm > 0 ? lm : 1);
    }
    fputs("</div>\n</div>\n<div>\n", f);     /* the findings go in the right column */
    return ferror(f) ? -1 : 0;
}

static void
map_section(report_out *o)
{
    FILE *f = o->f;
    const report_map *m = report_get_map(o->r);
    fputs("<section id=\"map\">\n<h2>Segment map</h2>\n<p class=\"intro\">Boxes are segments (workloads, "
          "examples, how many workloads one member can reach under the policy); arrows are the allowed "
          "rules between them, labelled with their services. ", f);
    fprintf(f, "Segments used by, or reaching, %u segments or more are hubs: their rules are written in "
               "the box instead of drawn.</p>\n", m->hub_threshold);
    fputs("<div class=\"legend\">"
          "<span><i class=\"sw\" style=\"background:#e8f0fe;border-color:#3d6bb3\"></i>user devices</span>"
          "<span><i class=\"sw\" style=\"background:#eef0f3;border-color:#6b7785\"></i>infrastructure</span>"
          "<span><i class=\"sw\" style=\"background:#eaf6ec;border-color:#3f8f4a\"></i>application</span>"
          "<span><i class=\"sw\" style=\"background:#fff1e0;border-color:#e07b00\"></i>Internet-facing</span>"
          "<span><i class=\"sw\" style=\"background:#fdecea;border-color:#c62828\"></i>crown jewel</span>"
          "<span><i class=\"sw\" style=\"background:#fff6d8;border-color:#b08900\"></i>Internet / outside</span>"
          "<span><i class=\"ln\" style=\"border-color:#5f6b7a\"></i>allowed service</span>"
          "<span><i class=\"ln\" style=\"border-color:#c62828\"></i>lateral-movement service (SSH, RDP, SMB, "
          "databases...)</span>"
          "<span><i class=\"ln\" style=\"border-color:#e07b00\"></i>to or from the Internet</span>"
          "<span><i class=\"ln\" style=\"border-color:#8e1b1b;border-top-style:dashed\"></i>\xe2\x9a\xa0 risky service "
          "(clear-text, obsolete or unauthenticated protocol)</span>"
          "</div>\n", f);
    if (m->omitted_segments)
        fprintf(f, "<p class=\"note\">%u smaller segments are left out of the drawing (see Segments).</p>\n",
                m->omitted_segments);
    char *dot = NULL, err[256];
    size_t dl = 0, sl = 0;
    FILE *mf = open_memstream(&dot, &dl);
    char *svg = NULL;
    if (mf) {
        int rc = report_write_dot(o->r, mf, 1);
        if (fclose(mf) == 0 && rc == 0)
            svg = layout_svg(dot, dl, "dot", &sl, err, sizeof(err));
        else
            snprintf(err, sizeof(err), "out of memory");
    } else {
        snprintf(err, sizeof(err), "out of memory");
    }
    free(dot);
    /* Graphviz escapes label text; refuse anything scriptable all the same */
    if (svg && (strstr(svg, "<script") || strstr(svg, "<SCRIPT") || strstr(svg, "javascript:") ||
                strstr(svg, "<foreignObject"))) {
        free(svg);
        svg = NULL;
        snprintf(err, sizeof(err), "the drawing held markup it must not");
    }
    if (svg) {
        fputs("<div class=\"map scroll\">\n", f);
        fwrite(svg, 1, sl, f);
        fputs("</div>\n", f);
    } else {
        fputs("<p class=\"note\">The map could not be drawn: ", f);
        esc_html(f, err);
        fputs(". The same map is available as Graphviz DOT with --format dot.</p>\n", f);
    }
    free(svg);
    fputs("</section>\n", f);
}

static void
findings(report_out *o, const rtable *t)
{
    FILE *f = o->f;
    fputs("<h2 id=\"t-findings\">Findings</h2>\n<ul class=\"findings\">\n", f);
    for (size_t r = 0; r < rt_nrows(t); r++) {
        const rt_cell *lv = rt_get(t, r, 0), *tx = rt_get(t, r, 1);
        if (!lv || !tx)
            continue;
        fputs("<li><span>", f);
        badge(f, lv->s);
        fputs("</span><span>", f);
        esc_html(f, tx->s);
        fputs("</span></li>\n", f);
    }
    fputs("</ul>\n</div>\n</div>\n", f);
    riskiest(o);
    fputs("</section>\n", f);
}

static int
html_table(report_out *o, const rtable *t)
{
    FILE *f = o->f;
    html_state *st = o->state;
    if (strcmp(rt_id(t), "findings") == 0) {
        findings(o, t);
        map_section(o);
        st->map_done = 1;
        return ferror(f) ? -1 : 0;
    }
    if (!st->map_done) {
        fputs("</div>\n</div>\n</section>\n", f);
        map_section(o);
        st->map_done = 1;
    }
    size_t nc = rt_ncols(t), nr = rt_nrows(t), shown = out_rows_shown(t);
    char buf[64];
    fprintf(f, "<section id=\"t-");
    esc_html(f, rt_id(t));
    fprintf(f, "\">\n<h2>");
    esc_html(f, rt_title(t));
    fprintf(f, "</h2>\n");
    if (*rt_intro(t)) {
        fputs("<p class=\"intro\">", f);
        esc_html(f, rt_intro(t));
        fputs("</p>\n", f);
    }
    if (!nr) {
        fputs("<p class=\"empty\">", f);
        esc_html(f, rt_empty(t));
        fputs("</p>\n", f);
    } else {
        /* bars are scaled to the largest integer of the table (the "before" column) */
        double scale = 0;
        for (size_t c = 0; c < nc; c++)
            if (rt_colinfo(t, c)->type == RT_INT && (rt_colinfo(t, c)->hints & RT_H_NUM)) {
                double v = rt_col_max(t, c);
                if (v > scale)
                    scale = v;
            }
        fputs("<div class=\"scroll\"><table>\n<thead><tr>", f);
        for (size_t c = 0; c < nc; c++) {
            const rt_col *col = rt_colinfo(t, c);
            fprintf(f, "<th%s>", (col->hints & RT_H_NUM) ? " class=\"n\"" : "");
            esc_html(f, col->title);
            fputs("</th>", f);
        }
        fputs("</tr></thead>\n<tbody>\n", f);
        for (size_t r = 0; r < shown; r++) {
            fputs("<tr>", f);
            for (size_t c = 0; c < nc; c++) {
                const rt_col *col = rt_colinfo(t, c);
                const rt_cell *cell = rt_get(t, r, c);
                const char *cls = (col->hints & RT_H_NUM) ? " class=\"n\"" : (col->hints & RT_H_MONO) ? " class=\"m\"" :
                                  (col->hints & RT_H_WRAP) ? " class=\"w\"" : col->type == RT_TIME ? " class=\"t\"" : "";
                fprintf(f, "<td%s>", cls);
                if (!cell) {
                    fputs("</td>", f);
                    continue;
                }
                if (col->type == RT_STR) {
                    if ((col->hints & RT_H_BADGE) && *cell->s)
                        badge(f, cell->s);
                    else
                        esc_html(f, cell->s);
                } else if (col->type == RT_LIST) {
                    for (uint32_t k = 0; k < cell->n; k++) {
                        if (k)
                            fputs("<br>", f);
                        esc_html(f, cell->v[k]);
                    }
                } else {
                    if ((col->hints & RT_H_BAR) && scale > 0) {
                        double v = col->type == RT_INT ? (double)cell->u : cell->d;
                        fprintf(f, "<span class=\"bar\" style=\"width:%.0fpx\"></span>", 60.0 * v / scale);
                    }
                    esc_html(f, out_cell_people(col, cell, buf, sizeof(buf)));
                }
                fputs("</td>", f);
            }
            fputs("</tr>\n", f);
        }
        fputs("</tbody></table></div>\n", f);
        if (shown < nr)
            fprintf(f, "<p class=\"note\">%zu more rows in the CSV and JSON formats.</p>\n", nr - shown);
    }
    if (*rt_note(t)) {
        fputs("<p class=\"note\">", f);
        esc_html(f, rt_note(t));
        fputs("</p>\n", f);
    }
    fputs("</section>\n", f);
    return ferror(f) ? -1 : 0;
}

static int
html_end(report_out *o)
{
    FILE *f = o->f;
    html_state *st = o->state;
    if (st && !st->map_done) {
        fputs("</div>\n</div>\n</section>\n", f);
        map_section(o);
    }
    fputs("</main>\n<footer>Generated by ", f);
    esc_html(f, report_generator());
    fputs(" from the database and the policy alone: the same inputs give the same report. "
          "Risks are judged from application names, ports and directions.</footer>\n</body>\n</html>\n", f);
    free(st);
    o->state = NULL;
    return ferror(f) ? -1 : 0;
}

const report_format report_fmt_html = {
    .name = "html",
    .ext = "html",
    .desc = "one self-contained HTML file (inline CSS and SVG map, printable)",
    .multi = 0,
    .begin = html_begin,
    .table = html_table,
    .end = html_end,
};
