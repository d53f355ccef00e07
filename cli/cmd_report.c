/*
 * cmd_report.c - "segscope report": the audit report of a graph database
 * and a segmentation policy, in HTML, Markdown, JSON, CSV or DOT.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "reports/report.h"

static const char report_usage[] =
    "usage: segscope report --db DIR [--policy FILE] [--labels FILE] -o FILE [--format FMT]\n"
    "\n"
    "Write the audit report of a graph database: what was observed, the segments\n"
    "and rules of the policy with their evidence, the blast radius before and after,\n"
    "attack paths to crown jewels, risky flows, the inventory with each identity and\n"
    "where it came from, unknown devices, external peers by country and ASN.\n"
    "Without --policy the policy is recommended now, as segscope recommend does.\n"
    "The same database and policy give byte-identical output.\n"
    "\n"
    "Options:\n"
    "      --db DIR             the graph database (written by segscope capture)\n"
    "      --policy FILE        a segscope.policy/v1 document ('-' = standard input);\n"
    "                           default: recommend one in-process\n"
    "      --labels FILE        user labels applied on top of the stored ones (as in\n"
    "                           segscope recommend; crown_jewel=true marks crown jewels)\n"
    "  -o, --output FILE        where to write ('-' = standard output, not for csv);\n"
    "                           csv writes one file per table: -o DIR/ gives DIR/TABLE.csv,\n"
    "                           -o PREFIX gives PREFIX-TABLE.csv (a .csv ending is dropped)\n"
    "      --format FMT         html, md, json, csv or dot (the segment map); default:\n"
    "                           from the extension of -o, else html\n"
    "      --max-rows N         rows of a long table shown in html and md (default 1000,\n"
    "                           0 = all); csv and json always have every row\n"
    "      --min-support N      in-process recommendation: as segscope recommend\n"
    "      --exact-members      in-process recommendation: as segscope recommend\n"
    "      --no-names           in-process recommendation: as segscope recommend\n"
    "  -q, --quiet              no summary line on standard error\n"
    "  -h, --help               this help\n";

static int
report_exec(int argc, char **argv)
{
    enum { OPT_DB = 1, OPT_POLICY, OPT_LABELS, OPT_FORMAT, OPT_MAXROWS, OPT_MINSUP, OPT_EXACT, OPT_NONAMES };
    static const struct option longopts[] = {
        {"db", required_argument, NULL, OPT_DB},
        {"policy", required_argument, NULL, OPT_POLICY},
        {"labels", required_argument, NULL, OPT_LABELS},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"max-rows", required_argument, NULL, OPT_MAXROWS},
        {"min-support", required_argument, NULL, OPT_MINSUP},
        {"exact-members", no_argument, NULL, OPT_EXACT},
        {"no-names", no_argument, NULL, OPT_NONAMES},
        {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    report_cfg cfg;
    report_cfg_default(&cfg);
    const char *out_path = NULL, *fmt_name = NULL;
    int quiet = 0, opt;
    unsigned long long v;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_DB: cfg.db = optarg; break;
        case OPT_POLICY: cfg.policy_path = optarg; break;
        case OPT_LABELS: cfg.labels_path = optarg; break;
        case OPT_FORMAT: fmt_name = optarg; break;
        case OPT_MAXROWS:
            if (cli_parse_u64(optarg, &v) < 0 || v > 100000000ULL) {
                cli_err("--max-rows: '%s' is not a number from 0 to 100000000", optarg);
                return EXIT_USAGE;
            }
            cfg.max_rows = (size_t)v;
            break;
        case OPT_MINSUP:
            if (cli_parse_u64(optarg, &v) < 0 || v < 1 || v > 1000000000ULL) {
                cli_err("--min-support: '%s' is not a number from 1 to 1000000000", optarg);
                return EXIT_USAGE;
            }
            cfg.rec.rules.min_support = v;
            break;
        case OPT_EXACT: cfg.rec.seg.cidr.exact = 1; break;
        case OPT_NONAMES: cfg.rec.seg.use_names = 0; break;
        case 'o': out_path = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(report_usage, stdout); return 0;
        default:
            fputs(report_usage, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_err("unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    if (!cfg.db) {
        cli_err("report needs --db DIR (see segscope report --help)");
        return EXIT_USAGE;
    }
    const report_format *fmt = NULL;
    if (fmt_name) {
        if (!(fmt = report_find_format(fmt_name))) {
            cli_err("--format: '%s' is not html, md, json, csv or dot", fmt_name);
            return EXIT_USAGE;
        }
    } else if (out_path && strcmp(out_path, "-") != 0) {
        fmt = report_format_for_path(out_path);
        if (!fmt && out_path[strlen(out_path) - 1] != '/') {
            cli_err("%s: cannot tell the format from the extension; give --format html, md, json, csv or dot",
                    out_path);
            return EXIT_USAGE;
        }
        if (!fmt)
            fmt = &report_fmt_csv;          /* -o DIR/ */
    } else {
        fmt = &report_fmt_html;
    }
    if (fmt->multi && (!out_path || strcmp(out_path, "-") == 0)) {
        cli_err("--format %s writes one file per table: give -o DIR/ or -o PREFIX", fmt->name);
        return EXIT_USAGE;
    }
    if (!out_path && isatty(STDOUT_FILENO) && fmt == &report_fmt_html) {
        cli_err("report needs -o FILE (or -o - to write HTML to standard output)");
        return EXIT_USAGE;
    }

    char err[1024];
    int code;
    report *r = report_build(&cfg, &code, err, sizeof(err));
    if (!r) {
        cli_err("%s", err);
        return code;
    }
    int rc = 0;
    if (fmt->multi) {
        if (report_write(r, fmt, NULL, out_path, err, sizeof(err)) < 0) {
            cli_err("%s", err);
            rc = EXIT_RUNTIME;
        }
    } else {
        FILE *out = cli_open_out(out_path);
        if (!out) {
            report_free(r);
            return EXIT_RUNTIME;
        }
        if (report_write(r, fmt, out, out_path, err, sizeof(err)) < 0)
            rc = EXIT_RUNTIME;
        if (cli_close_out(out, out_path) < 0)
            rc = EXIT_RUNTIME;
    }
    if (!quiet && rc == 0) {
        const report_summary *s = report_get_summary(r);
        fprintf(stderr, "segscope: report (%s) of %u workloads, %u segments, %u rules; blast radius "
                "%.1f -> %.1f (-%.0f%%); %u high-risk connections (%u still allowed)\n",
                fmt->name, s->workloads, s->segments, s->rules, s->blast_flat, s->blast_policy,
                100 * s->blast_reduction, s->risky[3], s->risky_allowed[3]);
    }
    report_free(r);
    return rc;
}

const cli_cmd cmd_report = {
    .name = "report",
    .summary = "write the audit report (html, md, json, csv, dot) of a database and a policy",
    .usage = report_usage,
    .exec = report_exec,
};
