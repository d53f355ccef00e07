/*
 * cmd_edges.c - "segscope edges": the client -> server edges of a graph database.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/graphq.h"
#include "reports/graphfmt.h"

static const char edges_usage[] =
    "usage: segscope edges --db DIR [FILTERS] [--format text|csv|json] [-o FILE]\n"
    "\n"
    "List the edges of a graph database (see segscope capture): one per client,\n"
    "server, protocol, server port (ICMP: type) and application, with flows,\n"
    "packets and bytes each way, first and last seen, days seen, how many flows\n"
    "had their client guessed (capture began mid-stream), server names seen\n"
    "for Internet destinations, and the nDPI risks any of its flows raised\n"
    "(risks: nDPI's names, separated by semicolons).\n"
    "\n"
    GQ_HELP
    "  -h, --help               this help\n";

/* What the walk needs. */
typedef struct edges_ctx {
    gq_filter *f;               /* filters */
    graphfmt *w;                /* writer */
    int oom;                    /* the writer failed */
} edges_ctx;

static int
edges_one(void *ctx, const graph_edge *e)
{
    edges_ctx *c = ctx;
    if (!gq_edge_match(c->f, e) || !gq_edge_ends_match(c->f, e))
        return 0;
    if (graphfmt_edge(c->w, e) < 0) {
        c->oom = 1;
        return 1;
    }
    return 0;
}

static int
edges_exec(int argc, char **argv)
{
    gq_filter f;
    gq_args args;
    int r, rc = EXIT_RUNTIME;
    char err[1024];

    if ((r = gq_parse_args(argc, argv, "edges", edges_usage, &f, &args)) >= 0)
        return r;
    const char *db = args.db, *out_path = args.out_path;
    int fmt = args.fmt;
    int code;
    graph *g = graph_open(db, GRAPH_READ, &code, err, sizeof(err));
    if (!g) {
        cli_err("%s", err);
        gq_filter_free(&f);
        return code;
    }
    edges_ctx c = { &f, NULL, 0 };
    FILE *out = NULL;
    if (gq_prepare(&f, g, 1, 0, err, sizeof(err)) < 0) {
        cli_err("%s", err);
        goto done;
    }
    if (!(out = cli_open_out(out_path)))
        goto done;
    if (!(c.w = graphfmt_create(out, (graphfmt_kind)fmt, GRAPHFMT_EDGES))) {
        cli_err("out of memory");
        goto done;
    }
    r = graph_foreach_edge(g, edges_one, &c, err, sizeof(err));
    graphfmt_finish(c.w);
    if (r < 0)
        cli_err("%s", err);
    else if (c.oom)
        cli_err("out of memory");
    else
        rc = 0;
    if (graph_corrupt(g))
        cli_err("%s: %llu corrupt records skipped", db, (unsigned long long)graph_corrupt(g));
done:
    if (out && cli_close_out(out, out_path) < 0)
        rc = EXIT_RUNTIME;
    graph_close(g);
    gq_filter_free(&f);
    return rc;
}

const cli_cmd cmd_edges = {
    .name = "edges",
    .summary = "list the client -> server edges of a graph database",
    .usage = edges_usage,
    .exec = edges_exec,
};
