/*
 * capopt.c - options shared by the commands that read traffic (see cli.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

volatile sig_atomic_t cli_stop;

static void
on_signal(int sig)
{
    (void)sig;
    cli_stop = 1;
}

void
cli_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

volatile sig_atomic_t cli_hup;

static void
on_hup(int sig)
{
    (void)sig;
    cli_hup = 1;
}

void
cli_install_hup(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_hup;
    sa.sa_flags = SA_RESTART;   /* a read from a pipe goes on */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
}

void
cli_err(const char *fmt, ...)
{
    va_list ap;
    fputs("segscope: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int
cli_parse_u64(const char *s, unsigned long long *v)
{
    char *end;
    if (!s || !*s || *s == '-')
        return -1;
    errno = 0;
    *v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    return 0;
}

int
cli_parse_secs(const char *s, double *v)
{
    char *end;
    if (!s || !*s)
        return -1;
    errno = 0;
    *v = strtod(s, &end);
    if (errno || *end || !(*v >= 0) || *v > 1e9)
        return -1;
    return 0;
}

static int
set_timeout(uint64_t *dst, const char *name, const char *arg)
{
    double d;
    if (cli_parse_secs(arg, &d) < 0) {
        cli_err("--%s: '%s' is not a number of seconds", name, arg);
        return -1;
    }
    *dst = (uint64_t)(d * 1e9);
    return 1;
}

/* --no-progress given: do not turn progress on for a terminal. */
static int progress_set;

int
capopt_handle(eng_cfg *cfg, int opt, const char *arg)
{
    unsigned long long n;
    double d;
    switch (opt) {
    case 'r':
        if (cfg->nfiles == ENG_MAX_INPUTS) {
            cli_err("too many files (at most %d)", ENG_MAX_INPUTS);
            return -1;
        }
        cfg->files[cfg->nfiles++] = arg;
        return 1;
    case 'i':
        if (cfg->nifaces == ENG_MAX_INPUTS) {
            cli_err("too many interfaces (at most %d)", ENG_MAX_INPUTS);
            return -1;
        }
        cfg->ifaces[cfg->nifaces++] = arg;
        return 1;
    case 'f':
        cfg->filter = arg;
        return 1;
    case 's':
        if (cli_parse_u64(arg, &n) < 0 || n < 64 || n > 262144) {
            cli_err("--snaplen: '%s' must be 64..262144", arg);
            return -1;
        }
        cfg->live.snaplen = (int)n;
        return 1;
    case 'B':
        if (cli_parse_u64(arg, &n) < 0 || n < 1 || n > 65536) {
            cli_err("--buffer-size: '%s' must be 1..65536 MiB", arg);
            return -1;
        }
        cfg->live.buffer_mib = (int)n;
        return 1;
    case CAPOPT_NOPROMISC:
        cfg->live.promisc = 0;
        return 1;
    case CAPOPT_DURATION:
        if (cli_parse_secs(arg, &d) < 0) {
            cli_err("--duration: '%s' is not a number of seconds", arg);
            return -1;
        }
        cfg->duration_s = d;
        return 1;
    case 'c':
        if (cli_parse_u64(arg, &n) < 0) {
            cli_err("--count: '%s' is not a number", arg);
            return -1;
        }
        cfg->max_packets = n;
        return 1;
    case CAPOPT_MAXFLOWS:
        if (cli_parse_u64(arg, &n) < 0 || n < 1) {
            cli_err("--max-flows: '%s' must be a positive number", arg);
            return -1;
        }
        cfg->ft.max_flows = n;
        return 1;
    case CAPOPT_TCP_TO: return set_timeout(&cfg->ft.tcp_idle_ns, "tcp-timeout", arg);
    case CAPOPT_TCP_CLOSED_TO: return set_timeout(&cfg->ft.tcp_closed_ns, "tcp-closed-timeout", arg);
    case CAPOPT_UDP_TO: return set_timeout(&cfg->ft.udp_idle_ns, "udp-timeout", arg);
    case CAPOPT_OTHER_TO: return set_timeout(&cfg->ft.other_idle_ns, "other-timeout", arg);
    case CAPOPT_ACTIVE_TO: return set_timeout(&cfg->ft.active_ns, "active-timeout", arg);
    case CAPOPT_NO_VLAN_KEY:
        cfg->ft.key_vlan = 0;
        return 1;
    case CAPOPT_NO_VNI_KEY:
        cfg->ft.key_vni = 0;
        return 1;
    case CAPOPT_THREADS:
        if (cli_parse_u64(arg, &n) < 0 || n < 1 || n > ENG_MAX_THREADS) {
            cli_err("--threads: '%s' must be 1..%d", arg, ENG_MAX_THREADS);
            return -1;
        }
        cfg->threads = (int)n;
        return 1;
    case CAPOPT_PROGRESS:
        cfg->progress = 1;
        progress_set = 1;
        return 1;
    case CAPOPT_NO_PROGRESS:
        cfg->progress = 0;
        progress_set = 1;
        return 1;
    case CAPOPT_USER:
        cfg->drop_user = strcmp(arg, "root") == 0 ? "" : arg;
        return 1;
    default:
        return 0;
    }
}

int
capopt_finish(eng_cfg *cfg)
{
    if (cfg->nfiles == 0 && cfg->nifaces == 0) {
        cli_err("no input: give -r FILE or -i IFACE (see --help)");
        return -1;
    }
    if (!progress_set && isatty(STDERR_FILENO))
        cfg->progress = 1;
    int stdin_seen = 0;
    for (int i = 0; i < cfg->nfiles; i++)
        if (strcmp(cfg->files[i], "-") == 0 && stdin_seen++) {
            cli_err("-r - (standard input) can be given only once");
            return -1;
        }
    return 0;
}

FILE *
cli_open_out(const char *path)
{
    if (!path || strcmp(path, "-") == 0)
        return stdout;
    FILE *f = fopen(path, "w");
    if (!f)
        cli_err("%s: %s", path, strerror(errno));
    return f;
}

int
cli_close_out(FILE *f, const char *path)
{
    int bad = ferror(f);
    if (f == stdout)
        bad |= fflush(f) != 0;
    else
        bad |= fclose(f) != 0;
    if (bad) {
        cli_err("%s: write error: %s", path && strcmp(path, "-") ? path : "<stdout>",
                strerror(errno));
        return -1;
    }
    return 0;
}
