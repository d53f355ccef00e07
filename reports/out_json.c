/*
 * out_json.c - the report as one JSON document (--format json).
 *
 *   { "schema": "segscope.report/v1", "generator": ..., "database": ...,
 *     "policy": ..., "summary": { metric: value, ... },
 *     "map": { "nodes": [...], "edges": [...], "hub_threshold": N },
 *     "tables": { ID: { "title", "intro", "note", "rows": [ {col: value} ] } } }
 *
 * Every row of every table (not only those people's formats show).
 * Integers are numbers, fractions numbers with four decimals, times ISO
 * 8601 UTC strings (null when unknown), lists arrays of strings.  json-c
 * escapes the strings; they are valid UTF-8 already (rtable.h).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "reports/output.h"

static json_object *
jnum4(double d)
{
    char b[48];
    snprintf(b, sizeof(b), "%.4f", d);
    return json_object_new_double_s(d, b);
}

static json_object *
jstr(const char *s)
{
    return json_object_new_string(s ? s : "");
}

static int
json_begin(report_out *o)
{
    const report_summary *s = report_get_summary(o->r);
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "schema", jstr("segscope.report/v1"));
    json_object_object_add(doc, "generator", jstr(report_generator()));
    json_object_object_add(doc, "database", jstr(s->db));
    json_object_object_add(doc, "policy", jstr(s->policy_source));
    json_object *sm = json_object_new_object();
    out_metric m[OUT_MAX_METRICS];
    size_t n = out_summary_metrics(s, m, OUT_MAX_METRICS);
    for (size_t i = 0; i < n; i++) {
        json_object *v;
        if (!strcmp(m[i].id, "first_seen") || !strcmp(m[i].id, "last_seen"))
            v = m[i].raw[0] ? jstr(m[i].raw) : NULL;
        else if (strchr(m[i].raw, '.'))
            v = json_object_new_double_s(strtod(m[i].raw, NULL), m[i].raw);
        else
            v = json_object_new_int64((int64_t)strtoull(m[i].raw, NULL, 10));
        json_object_object_add(sm, m[i].id, v);
    }
    json_object_object_add(doc, "summary", sm);

    const report_map *map = report_get_map(o->r);
    json_object *jm = json_object_new_object(), *nodes = json_object_new_array(), *edges = json_object_new_array();
    static const struct { unsigned bit; const char *name; } fl[] = {
        {RMAP_CLIENTS, "user-devices"}, {RMAP_INFRA, "infrastructure"}, {RMAP_EXPOSED, "internet-facing"},
        {RMAP_CROWN, "crown-jewel"}, {RMAP_SCANNER, "scanner"}, {RMAP_INTERNET, "outside"},
        {RMAP_RISKY, "high-risk-flows"},
    };
    for (uint32_t i = 0; i < map->n_nodes; i++) {
        const report_map_node *x = &map->nodes[i];
        json_object *jn = json_object_new_object(), *f = json_object_new_array(), *ex = json_object_new_array();
        json_object_object_add(jn, "id", jstr(x->id));
        json_object_object_add(jn, "name", jstr(x->name));
        json_object_object_add(jn, "workloads", json_object_new_int64(x->hosts));
        for (size_t k = 0; k < sizeof(fl) / sizeof(fl[0]); k++)
            if (x->flags & fl[k].bit)
                json_object_array_add(f, jstr(fl[k].name));
        json_object_object_add(jn, "flags", f);
        for (uint32_t k = 0; k < x->n_examples; k++)
            json_object_array_add(ex, jstr(x->examples[k]));
        json_object_object_add(jn, "examples", ex);
        json_object_object_add(jn, "reach_policy", jnum4(x->blast_policy));
        if (x->hub_in) {
            json_object_object_add(jn, "used_by_segments", json_object_new_int64(x->hub_in));
            json_object_object_add(jn, "used_for", jstr(x->hub_in_services));
        }
        if (x->hub_out) {
            json_object_object_add(jn, "reaches_segments", json_object_new_int64(x->hub_out));
            json_object_object_add(jn, "reaches_with", jstr(x->hub_out_services));
        }
        json_object_array_add(nodes, jn);
    }
    for (uint32_t i = 0; i < map->n_edges; i++) {
        const report_map_edge *e = &map->edges[i];
        json_object *je = json_object_new_object();
        json_object_object_add(je, "from", jstr(map->nodes[e->from].id));
        json_object_object_add(je, "to", jstr(map->nodes[e->to].id));
        json_object_object_add(je, "services", jstr(e->services));
        json_object_object_add(je, "rules", json_object_new_int64(e->n_rules));
        json_object_object_add(je, "flows", json_object_new_int64((int64_t)e->flows));
        json_object_object_add(je, "lateral", json_object_new_boolean(e->lateral));
        json_object_array_add(edges, je);
    }
    json_object_object_add(jm, "nodes", nodes);
    json_object_object_add(jm, "edges", edges);
    json_object_object_add(jm, "hub_threshold", json_object_new_int64(map->hub_threshold));
    json_object_object_add(jm, "omitted_segments", json_object_new_int64(map->omitted_segments));
    json_object_object_add(doc, "map", jm);
    json_object_object_add(doc, "tables", json_object_new_object());
    o->state = doc;
    return 0;
}

static int
json_table(report_out *o, const rtable *t)
{
    json_object *tables = NULL;
    json_object_object_get_ex(o->state, "tables", &tables);
    json_object *jt = json_object_new_object(), *rows = json_object_new_array();
    json_object_object_add(jt, "title", jstr(rt_title(t)));
    json_object_object_add(jt, "intro", jstr(rt_intro(t)));
    if (*rt_note(t))
        json_object_object_add(jt, "note", jstr(rt_note(t)));
    size_t nc = rt_ncols(t), nr = rt_nrows(t);
    char buf[64];
    for (size_t r = 0; r < nr; r++) {
        json_object *row = json_object_new_object();
        for (size_t c = 0; c < nc; c++) {
            const rt_col *col = rt_colinfo(t, c);
            const rt_cell *cell = rt_get(t, r, c);
            json_object *v = NULL;
            if (!cell)
                continue;
            switch (col->type) {
            case RT_STR: v = jstr(cell->s); break;
            case RT_INT:
            case RT_BYTES: v = json_object_new_int64((int64_t)cell->u); break;
            case RT_NUM:
            case RT_PCT: v = jnum4(cell->d); break;
            case RT_TIME: v = cell->u ? jstr(rt_fmt_time(cell->u, buf, sizeof(buf))) : NULL; break;
            case RT_LIST:
                v = json_object_new_array();
                for (uint32_t k = 0; k < cell->n; k++)
                    json_object_array_add(v, jstr(cell->v[k]));
                break;
            }
            json_object_object_add(row, col->id, v);
        }
        json_object_array_add(rows, row);
    }
    json_object_object_add(jt, "rows", rows);
    json_object_object_add(tables, rt_id(t), jt);
    return 0;
}

static int
json_end(report_out *o)
{
    json_object *doc = o->state;
    if (!doc)
        return 0;
    const char *txt = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE);
    int rc = txt && fputs(txt, o->f) >= 0 && fputc('\n', o->f) != EOF ? 0 : -1;
    json_object_put(doc);
    o->state = NULL;
    return rc || ferror(o->f) ? -1 : 0;
}

const report_format report_fmt_json = {
    .name = "json",
    .ext = "json",
    .desc = "one JSON document: summary, map and every row of every table",
    .multi = 0,
    .begin = json_begin,
    .table = json_table,
    .end = json_end,
};
