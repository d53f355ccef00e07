/*
 * cli.h - subcommands and the options they share.
 *
 * Each subcommand lives in cli/cmd_<name>.c and exports one cli_cmd
 * record; cli/main.c gathers them in a table.  Capture options (-r, -i,
 * -f, timeouts...) are parsed by capopt_*() so every command that reads
 * traffic takes them the same way.
 */
#ifndef SEGSCOPE_CLI_H
#define SEGSCOPE_CLI_H

#include <getopt.h>
#include <signal.h>
#include <stdio.h>

#include "capture/engine.h"

typedef struct cli_cmd {
    const char *name;
    const char *summary;        /* one line for --help */
    const char *usage;          /* the full option text for "segscope CMD --help" */
    int (*exec)(int argc, char **argv);
} cli_cmd;

extern const cli_cmd cmd_flows;
extern const cli_cmd cmd_idents;
extern const cli_cmd cmd_capture;
extern const cli_cmd cmd_hosts;
extern const cli_cmd cmd_edges;
extern const cli_cmd cmd_stats;
extern const cli_cmd cmd_recommend;
extern const cli_cmd cmd_check;
extern const cli_cmd cmd_report;
extern const cli_cmd cmd_export;

/* Set by SIGINT/SIGTERM; commands stop reading when it is non-zero. */
extern volatile sig_atomic_t cli_stop;
void cli_install_signals(void);
/* Set by SIGHUP once cli_install_hup() ran (capture: re-read the labels). */
extern volatile sig_atomic_t cli_hup;
void cli_install_hup(void);

/* Print "segscope: msg" on stderr. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Capture options shared by the commands that read traffic. */
enum {
    CAPOPT_FIRST = 1000,
    CAPOPT_SNAPLEN, CAPOPT_BUFFER, CAPOPT_NOPROMISC, CAPOPT_DURATION, CAPOPT_COUNT,
    CAPOPT_MAXFLOWS, CAPOPT_TCP_TO, CAPOPT_TCP_CLOSED_TO, CAPOPT_UDP_TO, CAPOPT_OTHER_TO,
    CAPOPT_ACTIVE_TO, CAPOPT_NO_VLAN_KEY, CAPOPT_NO_VNI_KEY,
    CAPOPT_THREADS, CAPOPT_PROGRESS, CAPOPT_NO_PROGRESS, CAPOPT_USER, CAPOPT_LAST
};
#define CAPOPT_SHORT "r:i:f:c:s:B:"
#define CAPOPT_LONG \
    {"read", required_argument, NULL, 'r'}, \
    {"interface", required_argument, NULL, 'i'}, \
    {"filter", required_argument, NULL, 'f'}, \
    {"snaplen", required_argument, NULL, 's'}, \
    {"buffer-size", required_argument, NULL, 'B'}, \
    {"no-promisc", no_argument, NULL, CAPOPT_NOPROMISC}, \
    {"duration", required_argument, NULL, CAPOPT_DURATION}, \
    {"count", required_argument, NULL, 'c'}, \
    {"max-flows", required_argument, NULL, CAPOPT_MAXFLOWS}, \
    {"tcp-timeout", required_argument, NULL, CAPOPT_TCP_TO}, \
    {"tcp-closed-timeout", required_argument, NULL, CAPOPT_TCP_CLOSED_TO}, \
    {"udp-timeout", required_argument, NULL, CAPOPT_UDP_TO}, \
    {"other-timeout", required_argument, NULL, CAPOPT_OTHER_TO}, \
    {"active-timeout", required_argument, NULL, CAPOPT_ACTIVE_TO}, \
    {"no-vlan-key", no_argument, NULL, CAPOPT_NO_VLAN_KEY}, \
    {"no-vni-key", no_argument, NULL, CAPOPT_NO_VNI_KEY}, \
    {"threads", required_argument, NULL, CAPOPT_THREADS}, \
    {"progress", no_argument, NULL, CAPOPT_PROGRESS}, \
    {"no-progress", no_argument, NULL, CAPOPT_NO_PROGRESS}, \
    {"user", required_argument, NULL, CAPOPT_USER}
#define CAPOPT_HELP \
"Input:\n" \
"  -r, --read FILE          read a pcap or pcapng file; repeat for several files\n" \
"                           (read in order as one timeline); '-' is standard input\n" \
"  -i, --interface IFACE    capture live on IFACE (needs root or CAP_NET_RAW)\n" \
"  -f, --filter EXPR        BPF filter (tcpdump syntax), for files and interfaces\n" \
"  -s, --snaplen N          live: bytes kept per packet (default 262144)\n" \
"  -B, --buffer-size MIB    live: kernel capture buffer in MiB\n" \
"      --no-promisc         live: do not put the interface in promiscuous mode\n" \
"      --duration SEC       live: stop after SEC seconds\n" \
"  -c, --count N            stop after N packets\n" \
"Flow table:\n" \
"      --max-flows N        flows kept at once; the least recently used are\n" \
"                           exported early above this (default 2000000)\n" \
"      --tcp-timeout SEC    idle timeout of open TCP flows (default 300)\n" \
"      --tcp-closed-timeout SEC  idle timeout after FIN both ways or RST (default 10)\n" \
"      --udp-timeout SEC    idle timeout of UDP flows (default 120)\n" \
"      --other-timeout SEC  idle timeout of other protocols (default 60)\n" \
"      --active-timeout SEC split flows longer than SEC (default 3600, 0 = never)\n" \
"      --no-vlan-key        merge the same 5-tuple seen on different VLANs\n" \
"      --no-vni-key         merge the same 5-tuple seen in different tunnels\n" \
"Running:\n" \
"      --threads N          worker threads (default 1), flows spread by address hash\n" \
"      --progress           status line on standard error every second (default\n" \
"                           when standard error is a terminal); --no-progress: never\n" \
"      --user USER          live capture as root: become USER once the interfaces\n" \
"                           are open, before any packet is parsed (default nobody;\n" \
"                           --user root keeps root)\n"

/* Handle one shared option. 1 = handled, 0 = not a capture option, -1 = bad value (reported). */
int capopt_handle(eng_cfg *cfg, int opt, const char *arg);
/* After parsing: check that there is an input. 0 ok, -1 reported. */
int capopt_finish(eng_cfg *cfg);

/* Parse a non-negative number (seconds may have decimals). -1 if invalid. */
int cli_parse_u64(const char *s, unsigned long long *v);
int cli_parse_secs(const char *s, double *v);

/* Open -o FILE for writing ("-" or NULL = stdout). NULL with a message on failure. */
FILE *cli_open_out(const char *path);
int cli_close_out(FILE *f, const char *path);

#endif
