/*
 * main.c - segscope's entry point: dispatch to a subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const cli_cmd *const commands[] = {
    &cmd_flows,
    &cmd_idents,
    &cmd_capture,
    &cmd_hosts,
    &cmd_edges,
    &cmd_stats,
    &cmd_recommend,
    &cmd_check,
    &cmd_report,
    &cmd_export,
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: segscope COMMAND [OPTIONS]\n"
            "\n"
            "Passive flow analysis and microsegmentation recommendations.\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out,
            "\n"
            "'segscope COMMAND --help' shows a command's options; 'man segscope' has it all.\n");
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("segscope %s\n", PACKAGE_VERSION);
        return 0;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(argv[1], commands[i]->name) == 0)
            return commands[i]->exec(argc - 1, argv + 1);
    cli_err("unknown command '%s' (see segscope --help)", argv[1]);
    return EXIT_USAGE;
}
