/*
 * cmd_export.c - "segscope export": a segscope.policy/v1 policy as
 * nftables, iptables-restore or normalised JSON.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "reports/export.h"

static const char export_usage[] =
    "usage: segscope export --policy FILE --format FMT [-o FILE]\n"
    "\n"
    "Write a segscope.policy/v1 policy (segscope recommend's output, or one of\n"
    "your own) as rules a firewall loads.  The policy is validated first, as\n"
    "segscope check does.  Rules apply to forwarded traffic, default deny,\n"
    "replies allowed by connection tracking.\n"
    "\n"
    "Options:\n"
    "      --policy FILE        the policy ('-' = standard input)\n"
    "      --format FMT         nftables (or nft): a script for nft -f, one table\n"
    "                           inet segscope with a set per segment;\n"
    "                           iptables: IPv4 rules for iptables-restore (no ipset);\n"
    "                           ip6tables: IPv6 rules for ip6tables-restore;\n"
    "                           json: the policy normalised\n"
    "  -o, --output FILE        write to FILE instead of standard output\n"
    "  -h, --help               this help\n";

static int
export_exec(int argc, char **argv)
{
    enum { OPT_POLICY = 1, OPT_FORMAT };
    static const struct option longopts[] = {
        {"policy", required_argument, NULL, OPT_POLICY},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL, *out_path = NULL, *fmt_name = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_POLICY: path = optarg; break;
        case OPT_FORMAT: fmt_name = optarg; break;
        case 'o': out_path = optarg; break;
        case 'h': fputs(export_usage, stdout); return 0;
        default:
            fputs(export_usage, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_err("unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    if (!path) {
        cli_err("export needs --policy FILE (see segscope export --help)");
        return EXIT_USAGE;
    }
    if (!fmt_name) {
        cli_err("export needs --format nftables, iptables, ip6tables or json");
        return EXIT_USAGE;
    }
    const export_format *fmt = export_find_format(fmt_name);
    if (!fmt) {
        cli_err("--format: '%s' is not nftables, iptables, ip6tables or json", fmt_name);
        return EXIT_USAGE;
    }
    char err[1024];
    export_policy *x = export_load(path, err, sizeof(err));
    if (!x) {
        cli_err("%s", err);
        return strstr(err, "out of memory") ? EXIT_RUNTIME : EXIT_INPUT;
    }
    FILE *out = cli_open_out(out_path);
    if (!out) {
        export_free(x);
        return EXIT_RUNTIME;
    }
    int rc = fmt->write(out, x) < 0 ? EXIT_RUNTIME : 0;
    if (cli_close_out(out, out_path) < 0)
        rc = EXIT_RUNTIME;
    export_free(x);
    return rc;
}

const cli_cmd cmd_export = {
    .name = "export",
    .summary = "write a policy as nftables, iptables-restore or normalised JSON",
    .usage = export_usage,
    .exec = export_exec,
};
