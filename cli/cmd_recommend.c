/*
 * cmd_recommend.c - "segscope recommend": a least-privilege segmentation
 * policy from the workload graph.
 */
#include <stdlib.h>
#include <string.h>

#include "analyzer/labels.h"
#include "cli/cli.h"
#include "recommender/recommend.h"

static const char recommend_usage[] =
    "usage: segscope recommend --db DIR [OPTIONS]\n"
    "\n"
    "Group the workloads seen in the graph database into segments and write\n"
    "the allow rules between them (default deny) as a segscope.policy/v1\n"
    "document, with evidence, a review list and the blast radius.\n"
    "\n"
    "Options:\n"
    "      --db DIR             the graph database (written by segscope capture)\n"
    "      --labels FILE        user labels (role, app, env, crown_jewel...) applied\n"
    "                           on top of the stored ones; role/app/env decide segments\n"
    "      --min-support N      flows a service needs between two segments to become a\n"
    "                           rule unless other segments corroborate it (default 2);\n"
    "                           the rest goes to the review list\n"
    "      --exact-members      members are the observed addresses only (no CIDR widening)\n"
    "      --no-names           do not use host names to group or name segments\n"
    "      --max-review N       review entries written (default 1000, 0 = all)\n"
    "      --format FMT         json (default) or text\n"
    "  -o, --output FILE        write to FILE instead of standard output\n"
    "  -q, --quiet              no summary line on standard error\n";

static int
recommend_exec(int argc, char **argv)
{
    enum { OPT_DB = 1, OPT_LABELS, OPT_MINSUP, OPT_EXACT, OPT_NONAMES, OPT_MAXREV, OPT_FORMAT };
    static const struct option longopts[] = {
        {"db", required_argument, NULL, OPT_DB},
        {"labels", required_argument, NULL, OPT_LABELS},
        {"min-support", required_argument, NULL, OPT_MINSUP},
        {"exact-members", no_argument, NULL, OPT_EXACT},
        {"no-names", no_argument, NULL, OPT_NONAMES},
        {"max-review", required_argument, NULL, OPT_MAXREV},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *labels_path = NULL, *out_path = NULL;
    int text = 0, quiet = 0, opt;
    unsigned long long v;
    rec_cfg cfg;
    rec_cfg_default(&cfg);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_DB: db = optarg; break;
        case OPT_LABELS: labels_path = optarg; break;
        case OPT_MINSUP:
            if (cli_parse_u64(optarg, &v) < 0 || v < 1 || v > 1000000000ULL) {
                cli_err("--min-support: '%s' is not a number from 1 to 1000000000", optarg);
                return EXIT_USAGE;
            }
            cfg.rules.min_support = v;
            break;
        case OPT_EXACT: cfg.seg.cidr.exact = 1; break;
        case OPT_NONAMES: cfg.seg.use_names = 0; break;
        case OPT_MAXREV:
            if (cli_parse_u64(optarg, &v) < 0 || v > 100000000ULL) {
                cli_err("--max-review: '%s' is not a number from 0 to 100000000", optarg);
                return EXIT_USAGE;
            }
            cfg.max_review = (uint32_t)v;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "json") == 0)
                text = 0;
            else if (strcmp(optarg, "text") == 0)
                text = 1;
            else {
                cli_err("--format: '%s' is not json or text", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'o': out_path = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(recommend_usage, stdout); return 0;
        default:
            fputs(recommend_usage, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_err("unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    if (!db) {
        cli_err("recommend needs --db DIR (see segscope recommend --help)");
        return EXIT_USAGE;
    }
    char err[1024];
    labels *lab = NULL;
    if (labels_path && !(lab = labels_load(labels_path, err, sizeof(err)))) {
        cli_err("%s", err);
        return EXIT_INPUT;
    }
    model *m = model_load_db(db, err, sizeof(err));
    if (!m) {
        cli_err("%s", err);
        labels_free(lab);
        return strstr(err, "out of memory") ? EXIT_RUNTIME : EXIT_INPUT;
    }
    if (lab && model_apply_labels(m, lab) < 0) {
        cli_err("out of memory applying labels");
        labels_free(lab);
        model_free(m);
        return EXIT_RUNTIME;
    }
    labels_free(lab);
    recommendation *r = rec_run(m, &cfg);
    if (!r) {
        cli_err("out of memory");
        model_free(m);
        return EXIT_RUNTIME;
    }
    FILE *out = cli_open_out(out_path);
    if (!out) {
        rec_free(r);
        model_free(m);
        return EXIT_RUNTIME;
    }
    int rc = (text ? rec_write_text(r, out) : rec_write_json(r, out)) < 0 ? EXIT_RUNTIME : 0;
    if (cli_close_out(out, out_path) < 0)
        rc = EXIT_RUNTIME;
    if (!quiet) {
        const blast_summary *bs = blast_get_summary(rec_blast(r));
        fprintf(stderr, "segscope: %u hosts in %u segments, %u rules, %u to review; "
                "one-hop blast radius %.1f -> %.1f hosts (-%.0f%%)\n",
                bs->hosts, seg_count(rec_segments(r)), rules_count(rec_rules(r)),
                rules_review_count(rec_rules(r)), bs->flat, bs->policy, 100 * bs->reduction);
    }
    rec_free(r);
    model_free(m);
    return rc;
}

const cli_cmd cmd_recommend = {
    .name = "recommend",
    .summary = "recommend a microsegmentation policy from the graph database",
    .usage = recommend_usage,
    .exec = recommend_exec,
};
