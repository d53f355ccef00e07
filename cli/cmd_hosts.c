/*
 * cmd_hosts.c - "segscope hosts": the hosts (nodes) of a graph database.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/graphq.h"
#include "reports/graphfmt.h"

static const char hosts_usage[] =
    "usage: segscope hosts --db DIR [FILTERS] [--format text|csv|json] [-o FILE]\n"
    "\n"
    "List the hosts of a graph database (see segscope capture): address,\n"
    "internal or external, flows as client and as server, bytes, first and\n"
    "last seen, MACs, names learnt from traffic, labels, GeoIP data.\n"
    "\n"
    GQ_HELP
    "  -h, --help               this help\n";

/* What the walk needs. */
typedef struct hosts_ctx {
    gq_filter *f;               /* filters */
    graphfmt *w;                /* writer */
    graph_node *copy;           /* a node with query-time labels */
    uint64_t listed;            /* hosts written */
    int oom;                    /* the writer failed */
} hosts_ctx;

static int
hosts_one(void *ctx, const graph_node *n)
{
    hosts_ctx *c = ctx;
    const graph_node *use = n;
    if (c->f->labels) {
        *c->copy = *n;
        gq_apply_labels(c->f, c->copy);
        use = c->copy;
    }
    if (!gq_node_match(c->f, use) || !gq_node_has_edge(c->f, use))
        return 0;
    c->listed++;
    if (graphfmt_node(c->w, use) < 0) {
        c->oom = 1;
        return 1;
    }
    return 0;
}

static int
hosts_exec(int argc, char **argv)
{
    gq_filter f;
    gq_args args;
    int r, rc = EXIT_RUNTIME;
    char err[1024];

    if ((r = gq_parse_args(argc, argv, "hosts", hosts_usage, &f, &args)) >= 0)
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
    hosts_ctx c = { &f, NULL, malloc(sizeof(graph_node)), 0, 0 };
    FILE *out = NULL;
    if (!c.copy) {
        cli_err("out of memory");
        goto done;
    }
    if (gq_prepare(&f, g, 0, 1, err, sizeof(err)) < 0) {
        cli_err("%s", err);
        goto done;
    }
    if (!(out = cli_open_out(out_path)))
        goto done;
    if (!(c.w = graphfmt_create(out, (graphfmt_kind)fmt, GRAPHFMT_HOSTS))) {
        cli_err("out of memory");
        goto done;
    }
    r = graph_foreach_node(g, hosts_one, &c, err, sizeof(err));
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
    free(c.copy);
    graph_close(g);
    gq_filter_free(&f);
    return rc;
}

const cli_cmd cmd_hosts = {
    .name = "hosts",
    .summary = "list the hosts of a graph database",
    .usage = hosts_usage,
    .exec = hosts_exec,
};
