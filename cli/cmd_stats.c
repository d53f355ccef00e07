/*
 * cmd_stats.c - "segscope stats": what a graph database holds.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "reports/graphfmt.h"

#define STATS_MAX_CAPTURES 10000 /* capture records listed */
#define STATS_MAX_APPS 1024      /* distinct applications counted */
#define STATS_TOP_APPS 15        /* applications listed */

static const char stats_usage[] =
    "usage: segscope stats --db DIR [--format text|json]\n"
    "\n"
    "Show what a graph database holds: schema version, time window, the\n"
    "captures ingested with their inputs, host and edge counts (internal and\n"
    "external hosts), flows, packets and bytes, and the top applications.\n"
    "Text output is one 'name value' pair a line, then two tables.\n"
    "It opens the database read-only, so it works while a capture runs.\n"
    "\n"
    "      --db DIR             the graph database\n"
    "      --format FMT         text (default) or json\n"
    "  -h, --help               this help\n";

/* What the walks collect. */
typedef struct stats_ctx {
    graph_capture *caps;        /* capture records */
    size_t n_caps, cap_caps;    /* used, allocated */
    graphfmt_app *apps;         /* per application */
    size_t n_apps;              /* used (at most STATS_MAX_APPS) */
    int oom;                    /* an allocation failed */
} stats_ctx;

static int
stats_capture(void *ctx, const graph_capture *c)
{
    stats_ctx *s = ctx;
    if (s->n_caps == STATS_MAX_CAPTURES)
        return 0;
    if (s->n_caps == s->cap_caps) {
        size_t n = s->cap_caps ? s->cap_caps * 2 : 16;
        graph_capture *p = realloc(s->caps, n * sizeof(*p));
        if (!p) {
            s->oom = 1;
            return 1;
        }
        s->caps = p;
        s->cap_caps = n;
    }
    s->caps[s->n_caps++] = *c;
    return 0;
}

static int
stats_edge(void *ctx, const graph_edge *e)
{
    stats_ctx *s = ctx;
    size_t i;
    for (i = 0; i < s->n_apps; i++)
        if (strcmp(s->apps[i].name, e->k.app) == 0)
            break;
    if (i == s->n_apps) {
        if (s->n_apps == STATS_MAX_APPS)
            return 0;
        memset(&s->apps[i], 0, sizeof(s->apps[i]));
        memcpy(s->apps[i].name, e->k.app, sizeof(s->apps[i].name));
        s->n_apps++;
    }
    s->apps[i].edges++;
    s->apps[i].flows += e->flows;
    s->apps[i].bytes += e->bytes[0] + e->bytes[1];
    return 0;
}

static int
by_flows(const void *a, const void *b)
{
    const graphfmt_app *x = a, *y = b;
    if (x->flows != y->flows)
        return x->flows < y->flows ? 1 : -1;
    return strcmp(x->name, y->name);
}

static int
stats_exec(int argc, char **argv)
{
    enum { OPT_DB = 1, OPT_FORMAT };
    static const struct option longopts[] = {
        {"db", required_argument, NULL, OPT_DB},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL;
    int fmt = GRAPHFMT_TEXT, opt, code, rc = EXIT_RUNTIME;
    char err[1024];

    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_DB: db = optarg; break;
        case OPT_FORMAT:
            fmt = graphfmt_parse(optarg);
            if (fmt != GRAPHFMT_TEXT && fmt != GRAPHFMT_JSON) {
                cli_err("--format: '%s' is not text or json", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'h': fputs(stats_usage, stdout); return 0;
        default:
            fputs(stats_usage, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc || !db) {
        if (optind < argc)
            cli_err("unexpected argument '%s'", argv[optind]);
        else
            cli_err("stats: --db DIR is required");
        return EXIT_USAGE;
    }
    graph *g = graph_open(db, GRAPH_READ, &code, err, sizeof(err));
    if (!g) {
        cli_err("%s", err);
        return code;
    }
    stats_ctx s;
    graph_stats st;
    memset(&s, 0, sizeof(s));
    if (!(s.apps = calloc(STATS_MAX_APPS, sizeof(*s.apps)))) {
        cli_err("out of memory");
        goto done;
    }
    if (graph_get_stats(g, &st, err, sizeof(err)) < 0 ||
        graph_foreach_capture(g, stats_capture, &s, err, sizeof(err)) < 0 ||
        graph_foreach_edge(g, stats_edge, &s, err, sizeof(err)) < 0) {
        cli_err("%s", err);
        goto done;
    }
    if (s.oom) {
        cli_err("out of memory");
        goto done;
    }
    qsort(s.apps, s.n_apps, sizeof(*s.apps), by_flows);
    graphfmt_stats(stdout, (graphfmt_kind)fmt, db, &st, s.caps, s.n_caps, s.apps,
                   s.n_apps < STATS_TOP_APPS ? s.n_apps : STATS_TOP_APPS);
    rc = cli_close_out(stdout, NULL) < 0 ? EXIT_RUNTIME : 0;
    if (st.corrupt)
        cli_err("%s: %llu corrupt records skipped", db, (unsigned long long)st.corrupt);
done:
    free(s.caps);
    free(s.apps);
    graph_close(g);
    return rc;
}

const cli_cmd cmd_stats = {
    .name = "stats",
    .summary = "show what a graph database holds",
    .usage = stats_usage,
    .exec = stats_exec,
};
