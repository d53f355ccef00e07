/*
 * graphq.h - the filters of the graph query commands (hosts, edges).
 *
 * Filters on a host: --addr (the address), --cidr (in the range), --label
 * key=value (the host has it: stored labels, or those of --labels FILE
 * applied at query time).  Filters on an edge: --proto, --port (server
 * port, ICMP type), --app (case-insensitive).
 *
 * "hosts" lists hosts that pass every host filter and, when edge filters
 * are given, are an end of at least one edge that passes them.  "edges"
 * lists edges that pass every edge filter and where each host filter is
 * passed by at least one end (each independently: "--cidr 10.0.0.0/8
 * --label role=web" lists edges with an end in 10/8 and an end labelled
 * role=web, the same end or not).
 */
#ifndef SEGSCOPE_GRAPHQ_H
#define SEGSCOPE_GRAPHQ_H

#include <getopt.h>
#include <stdint.h>

#include "analyzer/graph.h"
#include "analyzer/labels.h"
#include "analyzer/netclass.h"

/* A set of addresses (open addressing, grows). */
typedef struct gq_set gq_set;

/* The filters given. */
typedef struct gq_filter {
    int has_addr;               /* --addr given */
    graph_addr addr;            /* its address */
    int has_cidr;               /* --cidr given */
    netclass_cidr cidr;         /* its range */
    int has_label;              /* --label given */
    char label_key[GRAPH_LKEY_LEN]; /* its key */
    const char *label_value;    /* its value (in argv) */
    int proto;                  /* --proto number, -1 = any */
    int port;                   /* --port, -1 = any */
    const char *app;            /* --app, NULL = any */
    labels *labels;             /* --labels FILE loaded, or NULL: the stored labels count */
    gq_set *labelled;           /* hosts with the label (edges with --label) */
    gq_set *ends;               /* ends of matching edges (hosts with edge filters) */
} gq_filter;

/* Long options of the filters, for getopt tables. */
enum {
    GQ_OPT_FIRST = 2000,
    GQ_OPT_ADDR, GQ_OPT_CIDR, GQ_OPT_LABEL, GQ_OPT_PROTO, GQ_OPT_PORT, GQ_OPT_APP,
    GQ_OPT_LABELS, GQ_OPT_DB, GQ_OPT_FORMAT, GQ_OPT_LAST
};
#define GQ_LONG \
    {"db", required_argument, NULL, GQ_OPT_DB}, \
    {"format", required_argument, NULL, GQ_OPT_FORMAT}, \
    {"labels", required_argument, NULL, GQ_OPT_LABELS}, \
    {"addr", required_argument, NULL, GQ_OPT_ADDR}, \
    {"cidr", required_argument, NULL, GQ_OPT_CIDR}, \
    {"label", required_argument, NULL, GQ_OPT_LABEL}, \
    {"proto", required_argument, NULL, GQ_OPT_PROTO}, \
    {"port", required_argument, NULL, GQ_OPT_PORT}, \
    {"app", required_argument, NULL, GQ_OPT_APP}
#define GQ_HELP \
"Database and output:\n" \
"      --db DIR             the graph database (segscope capture --db DIR)\n" \
"      --format FMT         text (default: aligned columns), csv or json (one\n" \
"                           object per line)\n" \
"  -o, --output FILE        write to FILE instead of standard output\n" \
"      --labels FILE        apply the labels of FILE now, instead of those stored\n" \
"Filters (all must hold):\n" \
"      --addr ADDR          this host (edges: either end)\n" \
"      --cidr CIDR          hosts in CIDR (edges: either end)\n" \
"      --label KEY=VALUE    hosts with this label (edges: either end)\n" \
"      --proto PROTO        tcp, udp, icmp, icmpv6, sctp or a protocol number\n" \
"      --port N             server port (ICMP: type)\n" \
"      --app NAME           application protocol (TLS, DNS, SMB...; any case)\n"

void gq_filter_init(gq_filter *f);
/* Free what the filter holds. */
void gq_filter_free(gq_filter *f);
/*
 * Handle one option of the table above (except db and format).  1 handled,
 * 0 not a filter option, -1 bad value (reported; exit EXIT_USAGE), -2 a
 * labels file that cannot be loaded (reported; exit EXIT_INPUT).
 */
int gq_option(gq_filter *f, int opt, const char *arg);

/* What gq_parse_args() read besides the filter. */
typedef struct gq_args {
    const char *db;             /* --db DIR (required) */
    const char *out_path;       /* -o FILE, or NULL for standard output */
    int fmt;                    /* --format, a graphfmt_kind (default text) */
} gq_args;

/*
 * Parse the command line of a query command (hosts, edges): the filter
 * options into f (initialised here), --db, --format, -o, --help.
 * Returns -1 when the command should go on, or the exit code to return
 * (0 after --help); f is freed whenever the return is not -1.
 */
int gq_parse_args(int argc, char **argv, const char *cmd, const char *usage, gq_filter *f,
                  gq_args *a);
/* 1 if there are edge filters (proto, port, app). */
int gq_has_edge_filter(const gq_filter *f);

/*
 * Replace n's labels with those --labels gives it, if a file was given
 * (n is a copy the caller may change).
 */
void gq_apply_labels(const gq_filter *f, graph_node *n);
/* The host filters on one host (labels as they stand in n). */
int gq_node_match(const gq_filter *f, const graph_node *n);
/* The edge filters on one edge (proto, port, app). */
int gq_edge_match(const gq_filter *f, const graph_edge *e);

/*
 * Prepare the sets the filters need, reading g: hosts with --label (for
 * edges), ends of matching edges (for hosts, want_ends).  0, or -1 with a
 * message in err.
 */
int gq_prepare(gq_filter *f, graph *g, int want_labelled, int want_ends, char *err, size_t errlen);
/* Host filters on an edge: each holds for an end. */
int gq_edge_ends_match(const gq_filter *f, const graph_edge *e);
/* A host passes the edge filters (an end of a matching edge). */
int gq_node_has_edge(const gq_filter *f, const graph_node *n);

/* Protocol name or number -> number; -1 if unknown. */
int gq_proto_parse(const char *s);
/* Address text -> graph_addr; 0 or -1. */
int gq_addr_parse(const char *s, graph_addr *a);

#endif
