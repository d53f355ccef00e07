/*
 * out_dot.c - the segment map as Graphviz DOT (--format dot), also what
 * the HTML report lays out (reports/layout.c).
 *
 * Each segment is a cluster (a coloured box titled with its id) holding
 * one node that says what is in it: workloads, example members, its
 * reach under the policy, and the annotation of a hub (a segment used by
 * or reaching many others, whose edges are folded).  The Internet (and
 * "any", "cidr:" references) are plain nodes.  Edges are the rules
 * between two nodes, labelled with their services; lateral-movement
 * services are red, Internet edges orange, and the pen grows with the
 * observed flows.  Node names are synthetic (n0, n1...): only labels
 * carry strings, as HTML-like labels escaped with esc_html() (Graphviz
 * decodes the entities) or, for tooltips, quoted strings escaped with
 * esc_dot().
 */
#include <math.h>
#include <string.h>

#include "reports/escape.h"
#include "reports/report.h"

#define FONT "Helvetica,Arial,sans-serif"

/* Colours of a node: fill, border, border width. */
static void
node_colours(unsigned f, const char **fill, const char **border, double *pen)
{
    *pen = 1.2;
    if (f & RMAP_INTERNET) {
        *fill = "#fff6d8";
        *border = "#b08900";
    } else if (f & RMAP_CROWN) {
        *fill = "#fdecea";
        *border = "#c62828";
        *pen = 2.5;
    } else if (f & RMAP_EXPOSED) {
        *fill = "#fff1e0";
        *border = "#e07b00";
    } else if (f & RMAP_CLIENTS) {
        *fill = "#e8f0fe";
        *border = "#3d6bb3";
    } else if (f & RMAP_INFRA) {
        *fill = "#eef0f3";
        *border = "#6b7785";
    } else {
        *fill = "#eaf6ec";
        *border = "#3f8f4a";
    }
}

/* A line of an HTML-like label: <TR><TD ...>text</TD></TR>. */
static void
label_line(FILE *out, const char *colour, int bold, double size, const char *pre, const char *text)
{
    fprintf(out, "<TR><TD ALIGN=\"LEFT\"><FONT POINT-SIZE=\"%.0f\" COLOR=\"%s\">%s", size, colour,
            bold ? "<B>" : "");
    if (pre)
        fputs(pre, out);
    esc_html(out, text);
    fprintf(out, "%s</FONT></TD></TR>", bold ? "</B>" : "");
}

/* Cut a string for a label: at most max bytes, at a UTF-8 boundary, "..." appended if cut. */
static const char *
cut(const char *s, char *buf, size_t len, size_t max)
{
    size_t n = strlen(s);
    if (max >= len)
        max = len - 1;
    if (n <= max)
        return s;
    size_t k = max > 3 ? max - 3 : 0;
    while (k && ((unsigned char)s[k] & 0xc0) == 0x80)
        k--;
    memcpy(buf, s, k);
    memcpy(buf + k, "...", 4);
    return buf;
}

int
report_write_dot(const report *r, FILE *out, int for_svg)
{
    const report_map *m = report_get_map(r);
    char b[256], c[160];
    fprintf(out, "digraph segscope {\n");
    fprintf(out, "  graph [rankdir=LR, compound=true, newrank=true, nodesep=0.22, ranksep=0.55, "
                 "fontname=\"" FONT "\", fontsize=11, bgcolor=\"transparent\", pad=0.1];\n");
    fprintf(out, "  node [shape=plain, fontname=\"" FONT "\", fontsize=11];\n");
    fprintf(out, "  edge [fontname=\"" FONT "\", fontsize=10, arrowsize=0.7, color=\"#5f6b7a\", "
                 "fontcolor=\"#3a4452\"];\n");
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        const report_map_node *x = &m->nodes[i];
        const char *fill, *border;
        double pen;
        node_colours(x->flags, &fill, &border, &pen);
        if (x->flags & RMAP_INTERNET) {
            fprintf(out, "  n%u [shape=box, style=\"rounded,filled\", fillcolor=\"%s\", color=\"%s\", "
                         "penwidth=%.1f, margin=\"0.15,0.06\", label=<<B>", i, fill, border, pen);
            esc_html(out, cut(x->id, b, sizeof(b), 40));
            fprintf(out, "</B>>");
            if (for_svg) {
                fprintf(out, ", tooltip=\"");
                esc_dot(out, x->name);
                fputc('"', out);
            }
            fprintf(out, "];\n");
            continue;
        }
        fprintf(out, "  subgraph cluster_%u {\n", i);
        fprintf(out, "    style=\"rounded,filled\"; fillcolor=\"%s\"; color=\"%s\"; penwidth=%.1f; "
                     "margin=5; labeljust=\"l\"; fontsize=13;\n", fill, border, pen);
        fprintf(out, "    label=<<B>");
        esc_html(out, cut(x->id, b, sizeof(b), 40));
        fprintf(out, "</B>>;\n");
        if (for_svg) {
            fprintf(out, "    tooltip=\"");
            esc_dot(out, cut(x->id, b, sizeof(b), 120));
            fprintf(out, "\";\n");
        }
        fprintf(out, "    n%u [label=<<TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"1\">", i);
        /* what it is: the colour says the kind (legend), the text what is in it and its reach */
        snprintf(c, sizeof(c), "%u workload%s \xc2\xb7 can reach %.0f", x->hosts, x->hosts == 1 ? "" : "s",
                 x->blast_policy);
        label_line(out, "#1f2933", 0, 11, NULL, c);
        if (x->n_examples) {
            size_t o = 0;
            c[0] = 0;
            for (uint32_t k = 0; k < x->n_examples && k < 2 && o < sizeof(c); k++)
                o += (size_t)snprintf(c + o, sizeof(c) - o, "%s%s", k ? ", " : "", cut(x->examples[k], b, sizeof(b), 16));
            if (x->hosts > 2 && o < sizeof(c))
                snprintf(c + o, sizeof(c) - o, ", ...");
            label_line(out, "#52606d", 0, 10, NULL, c);
        }
        if (x->hub_in) {
            snprintf(c, sizeof(c), "\xe2\x86\x90 used by %u segments:", x->hub_in);
            label_line(out, "#1f4f99", 0, 10, NULL, c);
            label_line(out, "#1f4f99", 0, 10, NULL, cut(x->hub_in_services, b, sizeof(b), 44));
        }
        if (x->hub_out) {
            snprintf(c, sizeof(c), "\xe2\x86\x92 reaches %u segments:", x->hub_out);
            const char *col = x->hub_out_lateral ? "#b71c1c" : "#1f4f99";
            label_line(out, col, x->hub_out_lateral, 10, NULL, c);
            label_line(out, col, x->hub_out_lateral, 10, NULL, cut(x->hub_out_services, b, sizeof(b), 44));
        }
        if (x->flags & RMAP_RISKY)
            label_line(out, "#b71c1c", 1, 10, NULL, "high-risk flows");
        fprintf(out, "</TABLE>>");
        if (for_svg) {
            fprintf(out, ", tooltip=\"");
            esc_dot(out, cut(x->name && *x->name ? x->name : x->id, b, sizeof(b), 120));
            fputc('"', out);
        }
        fprintf(out, "];\n  }\n");
    }
    for (uint32_t i = 0; i < m->n_edges; i++) {
        const report_map_edge *e = &m->edges[i];
        int inet = (m->nodes[e->from].flags | m->nodes[e->to].flags) & RMAP_INTERNET;
        const char *col = e->lateral ? "#c62828" : inet ? "#e07b00" : "#5f6b7a";
        double pen = 0.8 + log10(1.0 + (double)e->flows) / 1.6;
        if (pen > 4)
            pen = 4;
        fprintf(out, "  n%u -> n%u [", e->from, e->to);
        if (!(m->nodes[e->from].flags & RMAP_INTERNET))
            fprintf(out, "ltail=cluster_%u, ", e->from);
        if (!(m->nodes[e->to].flags & RMAP_INTERNET))
            fprintf(out, "lhead=cluster_%u, ", e->to);
        fprintf(out, "color=\"%s\", penwidth=%.2f, %slabel=\"%s", col, pen,
                e->risk >= 2 ? "style=dashed, fontcolor=\"#8e1b1b\", " : "", e->risk >= 2 ? "\xe2\x9a\xa0 " : "");
        esc_dot(out, cut(e->services, b, sizeof(b), 44));
        fprintf(out, "\"");
        if (for_svg) {
            fprintf(out, ", tooltip=\"");
            esc_dot(out, m->nodes[e->from].id);
            fprintf(out, " -> ");
            esc_dot(out, m->nodes[e->to].id);
            fprintf(out, ": ");
            esc_dot(out, e->services);
            fprintf(out, " (%u rule%s, %llu flows)\"", e->n_rules, e->n_rules == 1 ? "" : "s",
                    (unsigned long long)e->flows);
        }
        fprintf(out, "];\n");
    }
    fprintf(out, "}\n");
    return ferror(out) ? -1 : 0;
}

static int
dot_begin(report_out *o)
{
    return report_write_dot(o->r, o->f, 0);
}

static int
dot_table(report_out *o, const rtable *t)
{
    (void)o;
    (void)t;
    return 0;                       /* the map only */
}

static int
dot_end(report_out *o)
{
    return ferror(o->f) ? -1 : 0;
}

const report_format report_fmt_dot = {
    .name = "dot",
    .ext = "dot",
    .desc = "the segment map as Graphviz DOT (render with dot -Tsvg)",
    .multi = 0,
    .begin = dot_begin,
    .table = dot_table,
    .end = dot_end,
};
