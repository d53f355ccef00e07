/*
 * cmd_flows.c - "segscope flows": one record per bidirectional flow.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "reports/flowfmt.h"

typedef struct flows_ctx {
    flowfmt *w;
} flows_ctx;

static void
flows_on_end(void *ctx, flow *f)
{
    flows_ctx *c = ctx;
    flowfmt_write(c->w, f, NULL);
}

static const char flows_usage[] =
    "usage: segscope flows (-r FILE... | -i IFACE...) [OPTIONS]\n"
    "\n"
    "Write one record per bidirectional flow; end A is the client.\n"
    "\n"
    "Output:\n"
    "  -o, --output FILE        write to FILE instead of standard output\n"
    "      --format FMT         csv (default) or json (one object per line)\n"
    "      --stats              print every counter on standard error at the end\n"
    "  -q, --quiet              no summary line on standard error\n"
    CAPOPT_HELP;

static int
flows_exec(int argc, char **argv)
{
    enum { OPT_FORMAT = CAPOPT_LAST + 1, OPT_STATS };
    static const struct option longopts[] = {
        CAPOPT_LONG,
        {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"stats", no_argument, NULL, OPT_STATS},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    eng_cfg cfg;
    const char *out_path = NULL;
    int fmt = FLOWFMT_CSV, stats = 0, quiet = 0, opt, r;

    eng_cfg_default(&cfg);
    optind = 1;
    while ((opt = getopt_long(argc, argv, CAPOPT_SHORT "o:qh", longopts, NULL)) != -1) {
        if ((r = capopt_handle(&cfg, opt, optarg)) < 0)
            return EXIT_USAGE;
        if (r > 0)
            continue;
        switch (opt) {
        case 'o': out_path = optarg; break;
        case OPT_FORMAT:
            fmt = flowfmt_parse(optarg);
            if (fmt < 0 || fmt == FLOWFMT_ZEEK) {
                cli_err("--format: '%s' is not csv or json", optarg);
                return EXIT_USAGE;
            }
            break;
        case OPT_STATS: stats = 1; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(flows_usage, stdout); return 0;
        default:
            fputs(flows_usage, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_err("unexpected argument '%s' (inputs are given with -r or -i)", argv[optind]);
        return EXIT_USAGE;
    }
    if (capopt_finish(&cfg) < 0)
        return EXIT_USAGE;

    char err[1024];
    int code;
    flows_ctx ctx = {0};
    eng_hooks hooks = { .flow_end = flows_on_end, .ctx = &ctx };
    eng *e = eng_create(&cfg, &hooks, &code, err, sizeof(err));
    if (!e) {
        cli_err("%s", err);
        return code;
    }
    FILE *out = cli_open_out(out_path);
    if (!out) {
        eng_free(e);
        return EXIT_RUNTIME;
    }
    ctx.w = flowfmt_create(out, (flowfmt_kind)fmt, NULL, 0);
    if (!ctx.w) {
        cli_err("out of memory");
        eng_free(e);
        return EXIT_RUNTIME;
    }
    cli_install_signals();
    int rc = eng_run(e, &cli_stop, err, sizeof(err));
    flowfmt_free(ctx.w);
    if (cli_close_out(out, out_path) < 0 && rc == 0)
        rc = EXIT_RUNTIME;
    if (stats)
        eng_print_stats(e, stderr);
    if (!quiet)
        eng_print_summary(e, stderr);
    if (rc)
        cli_err("%s", err);
    eng_free(e);
    return rc;
}

const cli_cmd cmd_flows = {
    .name = "flows",
    .summary = "write one record per bidirectional flow (CSV or JSON)",
    .usage = flows_usage,
    .exec = flows_exec,
};
