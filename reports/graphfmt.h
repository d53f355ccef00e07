/*
 * graphfmt.h - writers of the workload graph (segscope hosts, edges, stats).
 *
 * Three formats: text (aligned columns for people: rows are held until
 * graphfmt_finish() and printed with column widths that fit), CSV (a
 * header line, then one line per record; every string from traffic goes
 * through esc_csv) and JSON (JSON Lines: one object per record).  Times
 * are UTC "YYYY-MM-DD HH:MM:SS" in text and "sec.nnnnnnnnn" since the
 * epoch in CSV and JSON, as in segscope flows.
 */
#ifndef SEGSCOPE_GRAPHFMT_H
#define SEGSCOPE_GRAPHFMT_H

#include <stdio.h>

#include "analyzer/graph.h"

typedef enum graphfmt_kind { GRAPHFMT_TEXT, GRAPHFMT_CSV, GRAPHFMT_JSON } graphfmt_kind;
/* What a writer lists. */
typedef enum graphfmt_what { GRAPHFMT_HOSTS, GRAPHFMT_EDGES } graphfmt_what;

typedef struct graphfmt graphfmt;

/* "text", "csv", "json" -> kind; -1 if unknown. */
int graphfmt_parse(const char *name);
/* A writer of hosts or edges to out. NULL on OOM. */
graphfmt *graphfmt_create(FILE *out, graphfmt_kind kind, graphfmt_what what);
/* Write one record (text: held until graphfmt_finish). 0, or -1 on OOM. */
int graphfmt_node(graphfmt *w, const graph_node *n);
int graphfmt_edge(graphfmt *w, const graph_edge *e);
/* Print what is held (text) and free the writer.  NULL is fine. */
void graphfmt_finish(graphfmt *w);

/* Traffic of one application, for the stats report. */
typedef struct graphfmt_app {
    char name[GRAPH_APP_LEN];   /* application protocol */
    uint64_t edges;             /* edges with it */
    uint64_t flows;             /* their flows */
    uint64_t bytes;             /* their bytes, both ways */
} graphfmt_app;

/* The "segscope stats" report: the database, its captures, its top applications. */
void graphfmt_stats(FILE *out, graphfmt_kind kind, const char *dir, const graph_stats *st,
                    const graph_capture *caps, size_t n_caps,
                    const graphfmt_app *apps, size_t n_apps);

/* "2024-03-11 08:00:01" (UTC) into buf; "-" for 0. */
const char *graphfmt_time(uint64_t ns, char *buf, size_t len);
/* "tcp/443", "icmp/8", "gre" into buf. */
const char *graphfmt_service(uint8_t proto, uint16_t port, char *buf, size_t len);

#endif
