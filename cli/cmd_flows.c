/*
 * cmd_flows.c - "segscope flows": one record per bidirectional flow.
 *
 * With DPI (the default) every packet also goes to the analyzer's nDPI
 * module and each record gains the DPI columns below; --no-dpi leaves the
 * engine's packet hook unset, so flow accounting runs as fast as without
 * an analyzer.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/communityid.h"
#include "analyzer/dpi.h"
#include "cli/cli.h"
#include "reports/flowfmt.h"
#include "reports/zeekconn.h"

/* Extra columns written with DPI on, in this order (see flows_dpi_values). */
static const char *const dpi_cols[] = {
    "app", "master_proto", "app_proto", "category", "confidence", "risks",
    "sni", "http_host", "user_agent", "dns_query", "ja3c", "ja3s",
    "ssh_client", "ssh_server", "krb_principal", "dhcp_hostname", "dhcp_class",
    "community_id",
};
#define N_DPI_COLS (int)(sizeof(dpi_cols) / sizeof(dpi_cols[0]))

/* The state of one worker of a "segscope flows" run, handed to the engine
   hooks: its own DPI module, the writer shared by all workers. */
typedef struct flows_ctx {
    flowfmt *w;                 /* CSV/JSON writer, or NULL for Zeek */
    zeekconn *z;                /* Zeek conn.log writer, or NULL */
    dpi *d;                     /* this worker's DPI, NULL with --no-dpi */
    pthread_mutex_t *mu;        /* serialises writes with several workers, else NULL */
} flows_ctx;

/* One context per worker (--threads). */
static flows_ctx flows_wk[ENG_MAX_THREADS];

static void *
flows_worker_ctx(void *ctx, int i, int n)
{
    (void)ctx;
    (void)n;
    return &flows_wk[i];
}

static void
flows_on_packet(void *ctx, flow *f, int from_client, const pkt_meta *m, uint64_t ts_ns,
                uint32_t wire_len)
{
    flows_ctx *c = ctx;
    (void)wire_len;
    dpi_packet(c->d, f, from_client, m, ts_ns);
}

/* Community ID of f; ICMP uses the type/code DPI saw on the first packet. */
static const char *
flows_community_id(const flow *f, const dpi_info *i, char *out)
{
    int p = f->key.proto;
    if ((p == 1 || p == 58) && i && i->has_icmp) {
        int fc = i->icmp_from_client;
        return communityid_v1(0, f->key.ip_version, fc ? flow_caddr(f) : flow_saddr(f),
                              fc ? flow_saddr(f) : flow_caddr(f), (uint8_t)p,
                              i->icmp_type, i->icmp_code, out);
    }
    return communityid_v1(0, f->key.ip_version, flow_caddr(f), flow_saddr(f), (uint8_t)p,
                          flow_cport(f), flow_sport(f), out);
}

/* Fill vals[N_DPI_COLS] for f (pointers into i, the dpi handle or the buffers). */
static void
flows_dpi_values(flows_ctx *c, const flow *f, const dpi_info *i, const char **vals,
                 char *risks, size_t risks_len, char *cid)
{
    static const enum dpi_str strcol[] = {
        DPI_S_SNI, DPI_S_HTTP_HOST, DPI_S_USER_AGENT, DPI_S_DNS_QUERY, DPI_S_JA3C,
        DPI_S_JA3S, DPI_S_SSH_CLIENT, DPI_S_SSH_SERVER, DPI_S_KRB_PRINCIPAL,
        DPI_S_DHCP_HOSTNAME, DPI_S_DHCP_CLASS,
    };
    for (int k = 0; k < N_DPI_COLS; k++)
        vals[k] = NULL;
    if (i && i->app) {
        vals[0] = i->app;
        vals[1] = i->master_id ? dpi_proto_name(c->d, i->master_id) : NULL;
        vals[2] = i->app_id ? dpi_proto_name(c->d, i->app_id) : NULL;
        vals[3] = i->category;
        vals[4] = dpi_confidence_name(i->confidence);
        vals[5] = dpi_risk_names(i->risk, risks, risks_len);
        for (int k = 0; k < (int)(sizeof(strcol) / sizeof(strcol[0])); k++)
            vals[6 + k] = dpi_str(i, strcol[k]);
    }
    vals[N_DPI_COLS - 1] = flows_community_id(f, i, cid);
}

static void
flows_on_end(void *ctx, flow *f)
{
    flows_ctx *c = ctx;
    if (c->d)
        dpi_flow_end(c->d, f);
    const dpi_info *i = dpi_get(f);
    /* The columns are worked out (Community ID, risk names) before the
       output lock: only the write itself is serialised between workers. */
    const char *vals[N_DPI_COLS];
    char risks[1024], cid[COMMUNITYID_LEN];
    if (!c->z && c->d)
        flows_dpi_values(c, f, i, vals, risks, sizeof(risks), cid);
    if (c->mu)
        pthread_mutex_lock(c->mu);
    if (c->z) {
        zeekconn_aux aux = {0};
        char svc[64];
        if (i && i->app) {
            uint16_t id = i->master_id ? i->master_id : i->app_id;
            aux.service = zeekconn_service(id ? dpi_proto_name(c->d, id) : NULL,
                                           f->key.proto, svc, sizeof(svc));
        }
        if (i && i->has_icmp) {
            aux.has_icmp = 1;
            aux.icmp_type = i->icmp_type;
            aux.icmp_code = i->icmp_code;
        }
        zeekconn_write(c->z, f, &aux);
    } else {
        flowfmt_write(c->w, f, c->d ? vals : NULL);
    }
    if (c->mu)
        pthread_mutex_unlock(c->mu);
    dpi_release(c->d, f);
}

static void
flows_free_dpi(int n)
{
    for (int k = 0; k < n; k++) {
        dpi_free(flows_wk[k].d);
        flows_wk[k].d = NULL;
    }
}

static const char flows_usage[] =
    "usage: segscope flows (-r FILE... | -i IFACE...) [OPTIONS]\n"
    "\n"
    "Write one record per bidirectional flow; end A is the client.\n"
    "\n"
    "Output:\n"
    "  -o, --output FILE        write to FILE instead of standard output\n"
    "      --format FMT         csv (default), json (one object per line) or\n"
    "                           zeek (a Zeek conn.log)\n"
    "      --stats              print every counter on standard error at the end\n"
    "  -q, --quiet              no summary line on standard error\n"
    "Application protocols (nDPI):\n"
    "      --no-dpi             flow accounting only: no DPI columns, no service\n"
    "      --ndpi-dir DIR       load nDPI's protos.txt, categories.txt,\n"
    "                           risky_domains.txt, ja3_fingerprints.csv and\n"
    "                           sha1_fingerprints.csv from DIR (those present)\n"
    CAPOPT_HELP;

static int
flows_exec(int argc, char **argv)
{
    enum { OPT_FORMAT = CAPOPT_LAST + 1, OPT_STATS, OPT_NO_DPI, OPT_NDPI_DIR };
    static const struct option longopts[] = {
        CAPOPT_LONG,
        {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"stats", no_argument, NULL, OPT_STATS},
        {"quiet", no_argument, NULL, 'q'},
        {"no-dpi", no_argument, NULL, OPT_NO_DPI},
        {"ndpi-dir", required_argument, NULL, OPT_NDPI_DIR},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    eng_cfg cfg;
    dpi_cfg dcfg;
    const char *out_path = NULL;
    int fmt = FLOWFMT_CSV, stats = 0, quiet = 0, use_dpi = 1, opt, r;

    eng_cfg_default(&cfg);
    dpi_cfg_default(&dcfg);
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
            if (fmt < 0) {
                cli_err("--format: '%s' is not csv, json or zeek", optarg);
                return EXIT_USAGE;
            }
            break;
        case OPT_STATS: stats = 1; break;
        case OPT_NO_DPI: use_dpi = 0; break;
        case OPT_NDPI_DIR: dcfg.ndpi_dir = optarg; break;
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
    if (!use_dpi && dcfg.ndpi_dir) {
        cli_err("--ndpi-dir needs DPI (drop --no-dpi)");
        return EXIT_USAGE;
    }

    char err[1024];
    int code;
    int nw = cfg.threads > 0 ? cfg.threads : 1;
    pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
    memset(flows_wk, 0, sizeof(flows_wk));
    for (int k = 0; use_dpi && k < nw; k++)
        if (!(flows_wk[k].d = dpi_create(&dcfg, err, sizeof(err)))) {
            cli_err("%s", err);
            flows_free_dpi(nw);
            return dcfg.ndpi_dir ? EXIT_INPUT : EXIT_RUNTIME;
        }
    flows_ctx ctx = flows_wk[0];
    eng_hooks hooks = { .flow_end = flows_on_end, .ctx = &flows_wk[0],
                        .worker_ctx = flows_worker_ctx };
    if (use_dpi)
        hooks.packet = flows_on_packet;
    eng *e = eng_create(&cfg, &hooks, &code, err, sizeof(err));
    if (!e) {
        cli_err("%s", err);
        flows_free_dpi(nw);
        return code;
    }
    FILE *out = cli_open_out(out_path);
    if (!out) {
        eng_free(e);
        flows_free_dpi(nw);
        return EXIT_RUNTIME;
    }
    if (fmt == FLOWFMT_ZEEK)
        ctx.z = zeekconn_create(out);
    else
        ctx.w = flowfmt_create(out, (flowfmt_kind)fmt, use_dpi ? dpi_cols : NULL,
                               use_dpi ? N_DPI_COLS : 0);
    if (!ctx.w && !ctx.z) {
        cli_err("out of memory");
        eng_free(e);
        flows_free_dpi(nw);
        return EXIT_RUNTIME;
    }
    for (int k = 0; k < nw; k++) {
        flows_wk[k].w = ctx.w;
        flows_wk[k].z = ctx.z;
        flows_wk[k].mu = eng_threads(e) > 1 ? &out_mu : NULL;
    }
    cli_install_signals();
    int rc = eng_run(e, &cli_stop, err, sizeof(err));
    flowfmt_free(ctx.w);
    zeekconn_free(ctx.z);
    if (cli_close_out(out, out_path) < 0 && rc == 0)
        rc = EXIT_RUNTIME;
    if (stats) {
        eng_print_stats(e, stderr);
        for (int k = 0; k < nw; k++)
            if (flows_wk[k].d) {
                if (nw > 1)
                    fprintf(stderr, "dpi_worker %d\n", k);
                dpi_print_stats(flows_wk[k].d, stderr);
            }
    }
    if (!quiet)
        eng_print_summary(e, stderr);
    if (rc)
        cli_err("%s", err);
    eng_free(e);
    flows_free_dpi(nw);
    return rc;
}

const cli_cmd cmd_flows = {
    .name = "flows",
    .summary = "write one record per bidirectional flow (CSV, JSON or Zeek conn.log)",
    .usage = flows_usage,
    .exec = flows_exec,
};
