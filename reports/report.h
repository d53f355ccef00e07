/*
 * report.h - the audit report: built once, written in any format.
 *
 * report_build() reads a workload graph database and a segmentation
 * policy (a segscope.policy/v1 file, or the policy recommended in-process
 * by recommender/recommend.h, exactly what "segscope recommend" writes)
 * and computes everything the report shows:
 *
 *   summary     time window, captures, packets, flows, hosts, segments,
 *               rules, blast-radius reduction, headline counts
 *   findings    a few sentences a reader should see first
 *   map         segments and the Internet as nodes, rules folded per
 *               segment pair as edges labelled with their services
 *               (segments used by, or reaching, many others are "hubs":
 *               their edges are folded into an annotation)
 *   tables      risks, risky flows, blast radius per workload, blocked
 *               traffic, attack paths, segments, rules with their
 *               evidence, review list, inventory with identities and
 *               where each came from, unknown devices, external peers
 *               by country and ASN, captures
 *
 * Everything is a function of the database, the policy and the labels:
 * no clock, no environment; every list is sorted, so the same inputs give
 * byte-identical output in every format.  Evidence of a rule is the
 * observed traffic the policy admits through it (first matching rule),
 * computed here for any policy; what only the recommender knows (rule
 * basis, review reasons, segment explanations, transitive blast radius,
 * attack paths) is read from the policy document's extra keys when
 * present.
 *
 * The writers are output records (report_format) in reports/out_*.c:
 * html, md, json, csv and dot; see report_find_format().
 */
#ifndef SEGSCOPE_REPORT_H
#define SEGSCOPE_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "recommender/recommend.h"
#include "reports/rtable.h"

/* What to build from. */
typedef struct report_cfg {
    const char *db;             /* graph database directory */
    const char *policy_path;    /* segscope.policy/v1 file ("-" = stdin), or NULL: recommend in-process */
    const char *labels_path;    /* labels file applied on top of the stored labels, or NULL */
    rec_cfg rec;                /* knobs of the in-process recommendation */
    size_t max_rows;            /* rows of a long table shown by people's formats (default 1000; 0 = all) */
    size_t max_kept;            /* risky / blocked flow rows kept at most (default 100000) */
} report_cfg;

void report_cfg_default(report_cfg *cfg);

/* Headline numbers. */
typedef struct report_summary {
    const char *db;             /* the database directory, as given */
    const char *policy_source;  /* where the policy came from, for people */
    uint64_t first_ns, last_ns; /* time window observed (packets) */
    uint64_t captures;          /* capture runs ingested */
    uint64_t packets, bytes, flows; /* summed over edges */
    uint64_t hosts, hosts_internal, hosts_external; /* graph nodes */
    uint64_t edges;             /* graph edges */
    uint64_t corrupt;           /* records skipped because they did not decode */
    uint32_t workloads;         /* internal hosts that sent traffic (the blast radius population) */
    uint32_t segments, rules;   /* in the policy */
    uint32_t review;            /* review entries in the policy document (0 if none) */
    double blast_flat;          /* mean one-hop reach per workload, flat network */
    double blast_observed;      /* ... what was observed */
    double blast_policy;        /* ... under the policy */
    double blast_reduction;     /* 1 - policy / flat */
    int has_lateral;            /* the document had transitive (lateral) blast radius */
    double lateral_flat, lateral_policy, lateral_reduction; /* if has_lateral */
    uint64_t flows_allowed, flows_denied; /* observed flows the policy admits / denies */
    uint64_t edges_denied;      /* observed (client, server, service) triples it denies */
    uint32_t risky[4];          /* risky edges per severity (index enum risk_sev) */
    uint32_t risky_allowed[4];  /* ... of which the policy still admits */
    uint32_t unknown_devices;   /* internal hosts with no name and no label */
    uint32_t attack_paths;      /* paths to crown jewels in the document */
    uint32_t crown_segments;    /* segments holding a host labelled crown_jewel=true */
    uint32_t external_peers;    /* external addresses seen */
    uint32_t countries;         /* distinct countries among them (known ones) */
} report_summary;

/* Map node flags. */
enum {
    RMAP_CLIENTS = 1,           /* user devices */
    RMAP_INFRA = 2,             /* shared infrastructure */
    RMAP_EXPOSED = 4,           /* reachable from the Internet under the policy */
    RMAP_CROWN = 8,             /* holds a crown jewel */
    RMAP_SCANNER = 16,          /* holds a scanner */
    RMAP_INTERNET = 32,         /* the node is the Internet */
    RMAP_RISKY = 64,            /* a high-risk flow touches it */
};

/* A node of the map: a segment or the Internet. */
typedef struct report_map_node {
    const char *id;             /* segment id, or "internet" */
    const char *name;           /* segment name ("" if none) */
    uint32_t hosts;             /* workloads in it */
    uint32_t n_examples;        /* example members in examples[] */
    const char *examples[3];    /* example member names or addresses */
    unsigned flags;             /* RMAP_* */
    double blast_policy;        /* mean one-hop reach of its workloads under the policy */
    uint32_t hub_in;            /* > 0: a hub used by this many segments (edges folded) */
    uint32_t hub_out;           /* > 0: a hub reaching this many segments (edges folded) */
    const char *hub_in_services;  /* services of the folded in-edges ("udp/123 NTP, ...") */
    const char *hub_out_services; /* services of the folded out-edges */
    int hub_out_lateral;        /* a folded out-edge is a lateral-movement service */
} report_map_node;

/* An edge of the map: the rules from one node to another. */
typedef struct report_map_edge {
    uint32_t from, to;          /* node indices */
    const char *services;       /* "tcp/443 TLS, tcp/80 HTTP +2 more" */
    uint32_t n_rules;           /* rules folded in */
    uint64_t flows;             /* observed flows they admit */
    int lateral;                /* one is a lateral-movement service (SSH, RDP, SMB...) */
    int risk;                   /* worst risk severity of its services (risk.h), 0 if none */
} report_map_edge;

/* The map. */
typedef struct report_map {
    uint32_t n_nodes, n_edges;  /* entries in nodes[], edges[] */
    const report_map_node *nodes; /* segments, then the Internet and other references */
    const report_map_edge *edges; /* rules folded per pair, hubs' edges left out */
    uint32_t omitted_segments;  /* segments left out of a very large map */
    uint32_t hub_threshold;     /* segments a hub is used by / reaches */
} report_map;

typedef struct report report;

/*
 * Build the report.  NULL on failure with a one-line reason in err and
 * *code set to an exit code (EXIT_INPUT for a bad database, policy or
 * labels file; EXIT_RUNTIME otherwise).
 */
report *report_build(const report_cfg *cfg, int *code, char *err, size_t errlen);
/* NULL is fine. */
void report_free(report *r);

const report_summary *report_get_summary(const report *r);
const report_map *report_get_map(const report *r);
/* The tables, in the order people should read them. */
size_t report_n_tables(const report *r);
const rtable *report_table(const report *r, size_t i);
/* A table by id, or NULL. */
const rtable *report_table_find(const report *r, const char *id);
/* "segscope 0.1.0". */
const char *report_generator(void);

/* ---- output formats ------------------------------------------------------------
 *
 * The house's output record ({name, ext, begin, node, edge, end}) with
 * node/edge generalised to tables: a report is a sequence of tables, and
 * the map is nodes and edges of its own (report_map).  The driver
 * (report_write) calls begin, then table for each table, then end.  A
 * format with `multi` set (csv) writes one file per table: the driver
 * gives each table its own FILE.
 */
typedef struct report_out {
    FILE *f;                    /* where to write (csv: the current table's file) */
    const report *r;            /* what */
    void *state;                /* the format's own state between calls */
} report_out;

typedef struct report_format {
    const char *name;           /* --format value */
    const char *ext;            /* file extension that selects it (no dot) */
    const char *desc;           /* one line for --help */
    int multi;                  /* 1: one file per table (and one for the summary) */
    int (*begin)(report_out *o);                    /* document start; 0 or -1 */
    int (*table)(report_out *o, const rtable *t);   /* one table; 0 or -1 */
    int (*end)(report_out *o);                      /* document end, free state; 0 or -1 */
} report_format;

extern const report_format report_fmt_html, report_fmt_md, report_fmt_json,
                           report_fmt_csv, report_fmt_dot;

/* The format named name, or NULL. */
const report_format *report_find_format(const char *name);
/* The format whose extension ends path ("x.html", "x.md", "x.json", "x.csv", "x.dot"), or NULL. */
const report_format *report_format_for_path(const char *path);
/* The formats, NULL-terminated. */
extern const report_format *const report_formats[];

/*
 * Write the report in format fmt.  Single-file formats write to out.
 * Multi-file formats (csv) write PREFIX-TABLE.csv files, where PREFIX is
 * path without a ".csv" ending, or DIR/TABLE.csv when path is a directory
 * or ends with '/' (created if missing); out is not used.  0, or -1 with
 * a reason in err.
 */
int report_write(const report *r, const report_format *fmt, FILE *out, const char *path,
                 char *err, size_t errlen);

/* The map as DOT text (out_dot.c): what --format dot writes and what the HTML lays out. */
int report_write_dot(const report *r, FILE *out, int for_svg);

#endif
