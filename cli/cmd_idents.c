/*
 * cmd_idents.c - "segscope idents": what segscope knows about who is who.
 *
 * Runs the capture engine with the identity table (analyzer/ident.h) on
 * every packet, then prints, per address, its identities with where they
 * came from and when, its labels (--labels) and, for external addresses,
 * its GeoIP/ASN data.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/geo.h"
#include "analyzer/ident.h"
#include "analyzer/labels.h"
#include "analyzer/netclass.h"
#include "cli/cli.h"
#include "reports/identfmt.h"

#define IDENTS_MAX_GEOIP 16     /* --geoip files */

/* Kinds whose values are names of the address (matched by name: rules). */
static int
kind_is_name(int kind)
{
    switch (kind) {
    case IDENT_DNS: case IDENT_MDNS: case IDENT_LLMNR: case IDENT_NETBIOS:
    case IDENT_DHCP_HOSTNAME: case IDENT_DHCP_FQDN: case IDENT_SNI: case IDENT_HTTP_HOST:
        return 1;
    default:
        return 0;
    }
}

/* State of one run. */
typedef struct idents_ctx {
    ident *id;                  /* the identity table */
    const ident_addr **hosts;   /* addresses, collected after the run */
    size_t n_hosts;             /* hosts[] used */
    identfmt_label *lab;        /* labels of the host being written */
    int n_lab, cap_lab;         /* lab[] used, allocated */
    int lab_oom;                /* a label could not be stored */
} idents_ctx;

static void
on_packet(void *ctx, flow *f, int from_client, const pkt_meta *m, uint64_t ts_ns, uint32_t wire_len)
{
    idents_ctx *c = ctx;
    (void)wire_len;
    ident_packet(c->id, f, from_client, m, ts_ns);
}

static void
collect(const ident_addr *a, void *ctx)
{
    idents_ctx *c = ctx;
    c->hosts[c->n_hosts++] = a;
}

static int
host_cmp(const void *x, const void *y)
{
    const ident_addr *a = *(const ident_addr *const *)x, *b = *(const ident_addr *const *)y;
    if (a->ver != b->ver)
        return a->ver < b->ver ? -1 : 1;
    return memcmp(a->addr, b->addr, 16);
}

static void
on_label(const char *key, const char *value, void *ctx)
{
    idents_ctx *c = ctx;
    if (c->n_lab == c->cap_lab) {
        int cap = c->cap_lab ? c->cap_lab * 2 : 8;
        identfmt_label *n = realloc(c->lab, (size_t)cap * sizeof(*n));
        if (!n) {
            c->lab_oom = 1;
            return;
        }
        c->lab = n;
        c->cap_lab = cap;
    }
    c->lab[c->n_lab].key = key;
    c->lab[c->n_lab].value = value;
    c->n_lab++;
}

static void
print_stats(const ident *id, const geo *g, FILE *out)
{
    const ident_stats *st = ident_get_stats(id);
    char buf[1024];
    for (int p = 0; p < IDENT_P_COUNT; p++) {
        fprintf(out, "ident_parsed_%s %" PRIu64 "\n", ident_proto_name(p), st->parsed[p]);
        fprintf(out, "ident_malformed_%s %" PRIu64 "\n", ident_proto_name(p), st->malformed[p]);
        fprintf(out, "ident_partial_%s %" PRIu64 "\n", ident_proto_name(p), st->partial[p]);
    }
    for (int k = 0; k < IDENT_KIND_COUNT; k++)
        fprintf(out, "ident_learnt_%s %" PRIu64 "\n", ident_kind_name(k), st->learnt[k]);
    fprintf(out, "ident_addresses %" PRIu64 "\n", st->addrs);
    fprintf(out, "ident_records %" PRIu64 "\n", st->records);
    fprintf(out, "ident_addresses_dropped %" PRIu64 "\n", st->addr_dropped);
    fprintf(out, "ident_records_dropped %" PRIu64 "\n", st->rec_dropped);
    fprintf(out, "ident_macs_dropped %" PRIu64 "\n", st->mac_dropped);
    fprintf(out, "ident_values_truncated %" PRIu64 "\n", st->value_truncated);
    fprintf(out, "ident_out_of_memory %" PRIu64 "\n", st->oom);
    if (g) {
        const geo_stats *gs = geo_get_stats(g);
        fprintf(out, "geoip_databases %u\n", gs->databases);
        fprintf(out, "geoip_skipped_files %u\n", gs->skipped_files);
        fprintf(out, "geoip_lookups %" PRIu64 "\n", gs->lookups);
        fprintf(out, "geoip_found %" PRIu64 "\n", gs->found);
        fprintf(out, "geoip_not_found %" PRIu64 "\n", gs->not_found);
        fprintf(out, "geoip_lookup_errors %" PRIu64 "\n", gs->lookup_errors);
        fprintf(out, "geoip: %s\n", geo_describe(g, buf, sizeof(buf)));
    } else {
        fprintf(out, "geoip: disabled (--no-geoip)\n");
    }
}

static const char idents_usage[] =
    "usage: segscope idents (-r FILE... | -i IFACE...) [OPTIONS]\n"
    "\n"
    "Print what the traffic says about who each address is: names from DNS,\n"
    "mDNS, LLMNR, NetBIOS, DHCP, TLS SNI and HTTP, Kerberos principals, SSH\n"
    "banners, user agents, MACs; with the user's labels and GeoIP/ASN data.\n"
    "\n"
    "Enrichment:\n"
    "      --labels FILE        label addresses from FILE (see LABELS in segscope(1))\n"
    "      --geoip DB           a MaxMind DB (City, Country or ASN); repeat for several;\n"
    "                           default: every *.mmdb in /usr/share/GeoIP, /var/lib/GeoIP\n"
    "      --no-geoip           no GeoIP lookups\n"
    "      --internal CIDR      also treat CIDR as internal (no GeoIP); repeatable\n"
    "Output:\n"
    "  -o, --output FILE        write to FILE instead of standard output\n"
    "      --format FMT         text (default), csv or json (one object per address)\n"
    "      --all                also list addresses with nothing but a MAC\n"
    "      --max-addrs N        addresses kept in the identity table (default 1000000)\n"
    "      --stats              print every counter on standard error at the end\n"
    "  -q, --quiet              no summary line on standard error\n"
    CAPOPT_HELP;

static int
idents_exec(int argc, char **argv)
{
    enum {
        OPT_FORMAT = CAPOPT_LAST + 1, OPT_STATS, OPT_LABELS, OPT_GEOIP, OPT_NO_GEOIP,
        OPT_INTERNAL, OPT_ALL, OPT_MAX_ADDRS,
    };
    static const struct option longopts[] = {
        CAPOPT_LONG,
        {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"labels", required_argument, NULL, OPT_LABELS},
        {"geoip", required_argument, NULL, OPT_GEOIP},
        {"no-geoip", no_argument, NULL, OPT_NO_GEOIP},
        {"internal", required_argument, NULL, OPT_INTERNAL},
        {"all", no_argument, NULL, OPT_ALL},
        {"max-addrs", required_argument, NULL, OPT_MAX_ADDRS},
        {"stats", no_argument, NULL, OPT_STATS},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    eng_cfg cfg;
    ident_cfg icfg;
    const char *out_path = NULL, *labels_path = NULL;
    const char *geoip[IDENTS_MAX_GEOIP];
    int n_geoip = 0, no_geoip = 0, all = 0;
    int fmt = IDENTFMT_TEXT, stats = 0, quiet = 0, opt, r, rc = EXIT_RUNTIME;
    char err[1024];
    unsigned long long n;
    netclass *nc = netclass_create();
    labels *lab = NULL;
    geo *g = NULL;
    eng *e = NULL;
    FILE *out = NULL;
    identfmt *w = NULL;
    idents_ctx ctx;

    memset(&ctx, 0, sizeof(ctx));
    eng_cfg_default(&cfg);
    ident_cfg_default(&icfg);
    if (!nc) {
        cli_err("out of memory");
        return EXIT_RUNTIME;
    }
    optind = 1;
    while ((opt = getopt_long(argc, argv, CAPOPT_SHORT "o:qh", longopts, NULL)) != -1) {
        if ((r = capopt_handle(&cfg, opt, optarg)) < 0)
            goto usage_err;
        if (r > 0)
            continue;
        switch (opt) {
        case 'o': out_path = optarg; break;
        case OPT_FORMAT:
            if ((fmt = identfmt_parse(optarg)) < 0) {
                cli_err("--format: '%s' is not text, csv or json", optarg);
                goto usage_err;
            }
            break;
        case OPT_LABELS: labels_path = optarg; break;
        case OPT_GEOIP:
            if (n_geoip == IDENTS_MAX_GEOIP) {
                cli_err("--geoip: at most %d databases", IDENTS_MAX_GEOIP);
                goto usage_err;
            }
            geoip[n_geoip++] = optarg;
            break;
        case OPT_NO_GEOIP: no_geoip = 1; break;
        case OPT_INTERNAL:
            if (netclass_add(nc, optarg, err, sizeof(err)) < 0) {
                cli_err("--internal: %s", err);
                goto usage_err;
            }
            break;
        case OPT_ALL: all = 1; break;
        case OPT_MAX_ADDRS:
            if (cli_parse_u64(optarg, &n) < 0 || n < 1) {
                cli_err("--max-addrs: '%s' must be a positive number", optarg);
                goto usage_err;
            }
            icfg.max_addrs = n;
            break;
        case OPT_STATS: stats = 1; break;
        case 'q': quiet = 1; break;
        case 'h':
            fputs(idents_usage, stdout);
            netclass_free(nc);
            return 0;
        default:
            fputs(idents_usage, stderr);
            goto usage_err;
        }
    }
    if (optind < argc) {
        cli_err("unexpected argument '%s' (inputs are given with -r or -i)", argv[optind]);
        goto usage_err;
    }
    if (no_geoip && n_geoip) {
        cli_err("--geoip and --no-geoip contradict each other");
        goto usage_err;
    }
    if (capopt_finish(&cfg) < 0)
        goto usage_err;

    /* Enrichment sources first: a bad labels file or database is an input error. */
    if (labels_path && !(lab = labels_load(labels_path, err, sizeof(err)))) {
        cli_err("%s", err);
        rc = EXIT_INPUT;
        goto done;
    }
    if (!no_geoip && !(g = geo_open(geoip, n_geoip, err, sizeof(err)))) {
        cli_err("%s", err);
        rc = EXIT_INPUT;
        goto done;
    }
    if (!(ctx.id = ident_create(&icfg))) {
        cli_err("out of memory");
        goto done;
    }
    int code;
    eng_hooks hooks = { .packet = on_packet, .ctx = &ctx };
    if (!(e = eng_create(&cfg, &hooks, &code, err, sizeof(err)))) {
        cli_err("%s", err);
        rc = code;
        goto done;
    }
    if (!(out = cli_open_out(out_path)))
        goto done;
    if (!(w = identfmt_create(out, (identfmt_kind)fmt))) {
        cli_err("out of memory");
        goto done;
    }
    cli_install_signals();
    rc = eng_run(e, &cli_stop, err, sizeof(err));
    if (rc)
        cli_err("%s", err);     /* what was read before the failure is still written */

    const ident_stats *st = ident_get_stats(ctx.id);
    ctx.hosts = malloc((st->addrs ? st->addrs : 1) * sizeof(*ctx.hosts));
    if (!ctx.hosts) {
        cli_err("out of memory");
        rc = EXIT_RUNTIME;
        goto done;
    }
    ident_foreach_addr(ctx.id, collect, &ctx);
    qsort(ctx.hosts, ctx.n_hosts, sizeof(*ctx.hosts), host_cmp);
    size_t written = 0;
    for (size_t i = 0; i < ctx.n_hosts; i++) {
        const ident_addr *a = ctx.hosts[i];
        const char *names[64];
        int n_names = 0;
        for (uint32_t k = 0; k < a->n_rec && n_names < 64; k++)
            if (kind_is_name(a->rec[k].kind))
                names[n_names++] = a->rec[k].value;
        ctx.n_lab = 0;
        if (lab && labels_match(lab, a->addr, a->ver, names, n_names, on_label, &ctx) < 0)
            ctx.lab_oom = 1;
        netclass_kind cls = netclass_classify(nc, a->addr, a->ver);
        geo_info gi;
        int have_geo = 0;
        if (g && cls == NETCLASS_EXTERNAL && geo_n_databases(g) > 0)
            have_geo = geo_lookup(g, a->addr, a->ver, &gi) > 0;
        if (!all && a->n_rec == 0 && ctx.n_lab == 0 && !have_geo)
            continue;
        identfmt_host h = {
            .a = a, .cls = netclass_name(cls), .internal = cls != NETCLASS_EXTERNAL,
            .labels = ctx.lab, .n_labels = ctx.n_lab, .geo = have_geo ? &gi : NULL,
        };
        identfmt_write(w, &h);
        written++;
    }
    if (ctx.lab_oom) {
        cli_err("out of memory while matching labels (some labels are missing)");
        rc = EXIT_RUNTIME;
    }
    if (cli_close_out(out, out_path) < 0 && rc == 0)
        rc = EXIT_RUNTIME;
    out = NULL;
    if (stats) {
        eng_print_stats(e, stderr);
        print_stats(ctx.id, g, stderr);
    }
    if (!quiet) {
        eng_print_summary(e, stderr);
        fprintf(stderr, "idents: %zu addresses written (%" PRIu64 " seen, %" PRIu64
                " identities)%s%s\n", written, st->addrs, st->records,
                g ? "; " : "", g ? geo_describe(g, err, sizeof(err)) : "");
    }
    goto done;

usage_err:
    rc = EXIT_USAGE;
done:
    if (out)
        cli_close_out(out, out_path);
    identfmt_free(w);
    eng_free(e);
    free(ctx.hosts);
    free(ctx.lab);
    ident_free(ctx.id);
    geo_free(g);
    labels_free(lab);
    netclass_free(nc);
    return rc;
}

const cli_cmd cmd_idents = {
    .name = "idents",
    .summary = "print who each address is: names, principals, banners, labels, GeoIP",
    .usage = idents_usage,
    .exec = idents_exec,
};
