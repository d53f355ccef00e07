/*
 * cmd_capture.c - "segscope capture": read traffic into the workload graph.
 *
 * The engine's hooks run, per packet on the worker that holds its flow:
 * DPI (dpi_packet) and identities (ident_packet, only for the packets
 * ident_wants); per ended flow: the end of DPI (dpi_flow_end), the fold
 * of the flow into the worker's graph shard with its application name
 * (graphagg_shard_flow: its edge, its nodes, the first-packet MAC of each
 * direction), then dpi_release.  Each worker (--threads) has its own DPI module,
 * identity table and graph shard, so the per-packet path takes no lock
 * shared between workers: the identity table's mutex is the worker's own
 * and is contended only by the flusher, the shard's is taken per flow.
 * DHCP is the exception: a REQUEST and its ACK travel between different
 * addresses, so they may reach different workers, in any order; DHCP
 * packets are therefore read on the engine's reading thread (the frame
 * hook), in input order, into one more identity table.
 *
 * The graph is written by graphagg's background flusher, every
 * --flush-interval seconds and at the end: it takes every shard's deltas,
 * then (cap_preflush) re-reads the labels file if SIGHUP asked, hands
 * over the identities of every table, and gives each node written its
 * labels and GeoIP data (cap_annotate).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "analyzer/dpi.h"
#include "analyzer/geo.h"
#include "analyzer/graphagg.h"
#include "analyzer/ident.h"
#include "analyzer/labels.h"
#include "analyzer/netclass.h"
#include "cli/cli.h"

#define CAPTURE_MAX_GEOIP 16    /* --geoip files */
#define CAPTURE_MAX_INTERNAL 1024 /* --internal ranges */

/* An identity table shared by one producer thread and the flusher. */
typedef struct cap_ident {
    ident *id;                  /* the table */
    pthread_mutex_t mu;         /* taken by the producer per identity packet, by the flusher per flush */
    uint64_t last_ns;           /* latest packet time given to the table (under mu) */
    uint64_t mark;              /* flusher: records last seen before this were handed over */
    uint64_t locked;            /* packets given to the table (under mu) */
} cap_ident;

struct capture_ctx;

/* One worker's state (the engine's hook context of worker i). */
typedef struct cap_worker {
    _Alignas(64) struct capture_ctx *c; /* the capture (each worker on lines of its own) */
    dpi *dpi;                   /* application detection */
    cap_ident id;               /* identities from this worker's packets */
    graphagg_shard *shard;      /* this worker's graph deltas */
} cap_worker;

/* Everything the hooks and callbacks need. */
typedef struct capture_ctx {
    eng *e;                     /* the capture engine */
    cap_worker w[ENG_MAX_THREADS]; /* workers */
    int nw;                     /* w[] used */
    cap_ident dhcp;             /* DHCP identities, from the reading thread */
    labels *labels;             /* --labels, or NULL */
    const char *labels_path;    /* --labels */
    uint64_t label_reloads;     /* labels files re-read on SIGHUP */
    geo *geo;                   /* GeoIP databases (maybe none) */
    netclass *nc;               /* internal address space */
    graphagg *agg;              /* the graph being written */
    int verbose;                /* -v: a line per flush */
    uint64_t handing_mark;      /* during a hand-over: the table's mark */
} capture_ctx;

static int
is_dhcp(const pkt_meta *m)
{
    return m->proto == 17 && m->has_ports && (m->sport == 67 || m->sport == 68) &&
           (m->dport == 67 || m->dport == 68);
}

/* Reading thread, every frame: DHCP into the one table that sees it in input order. */
static void
cap_frame(void *ctx, const pkt_meta *m, uint64_t ts_ns)
{
    capture_ctx *c = ctx;
    if (graphagg_failed(c->agg))
        cli_stop = 1;               /* the flusher failed: stop reading */
    if (!is_dhcp(m))
        return;
    pthread_mutex_lock(&c->dhcp.mu);
    ident_packet(c->dhcp.id, NULL, 0, m, ts_ns);
    c->dhcp.last_ns = ts_ns;
    c->dhcp.locked++;
    pthread_mutex_unlock(&c->dhcp.mu);
}

static void
cap_packet(void *ctx, flow *f, int from_client, const pkt_meta *m, uint64_t ts_ns, uint32_t wire_len)
{
    cap_worker *w = ctx;
    (void)wire_len;
    dpi_packet(w->dpi, f, from_client, m, ts_ns);
    if (ident_wants(w->id.id, m) && !is_dhcp(m)) {
        pthread_mutex_lock(&w->id.mu);
        ident_packet(w->id.id, f, from_client, m, ts_ns);
        w->id.last_ns = ts_ns;
        w->id.locked++;
        pthread_mutex_unlock(&w->id.mu);
    }
}

/*
 * The edge's application: nDPI's master protocol ("TLS" of "TLS.Google"),
 * else its application protocol.  NetBIOS is only SMB's framing on 445:
 * "NetBIOS.SMBv23" is SMBv23, like the flows nDPI names "SMBv23" alone.
 */
static const char *
flow_app(dpi *d, const dpi_info *i)
{
    if (!i)
        return "Unknown";
    uint16_t id = i->master_id ? i->master_id : i->app_id;
    if (!id)
        return "Unknown";
    const char *name = dpi_proto_name(d, id);
    if (i->master_id && i->app_id && strcmp(name, "NetBIOS") == 0)
        name = dpi_proto_name(d, i->app_id);
    return name;
}

static void
cap_flow_end(void *ctx, flow *f)
{
    cap_worker *w = ctx;
    dpi_flow_end(w->dpi, f);
    const dpi_info *i = dpi_get(f);
    const char *name = NULL;
    if (i) {
        name = dpi_str(i, DPI_S_SNI);
        if (!name)
            name = dpi_str(i, DPI_S_HTTP_HOST);
        if (!name)
            name = dpi_str(i, DPI_S_DNS_QUERY);
    }
    graphagg_shard_flow(w->shard, f, flow_app(w->dpi, i), i && i->has_icmp ? i->icmp_type : -1, name,
                        i ? i->risk : 0);
    dpi_release(w->dpi, f);
    if (graphagg_failed(w->c->agg))
        cli_stop = 1;
}

/* Progress line (reading thread): what the database got so far. */
static void
cap_status(void *ctx, char *buf, size_t len)
{
    capture_ctx *c = ctx;
    uint64_t flushes, records;
    graphagg_progress(c->agg, &flushes, &records);
    snprintf(buf, len, "db flushes %llu, writes %llu", (unsigned long long)flushes,
             (unsigned long long)records);
}

static void *
cap_worker_ctx(void *ctx, int i, int n)
{
    capture_ctx *c = ctx;
    (void)n;
    return &c->w[i];
}

/* The protocol an identity kind was learnt from. */
static const char *
ident_source(int kind)
{
    switch (kind) {
    case IDENT_DNS: return "dns";
    case IDENT_SNI: return "tls";
    case IDENT_HTTP_HOST: case IDENT_USER_AGENT: case IDENT_HTTP_SERVER: return "http";
    case IDENT_DHCP_HOSTNAME: case IDENT_DHCP_FQDN: case IDENT_DHCP_VENDOR:
    case IDENT_DHCP_MAC: return "dhcp";
    case IDENT_NETBIOS: return "netbios";
    case IDENT_LLMNR: return "llmnr";
    case IDENT_MDNS: return "mdns";
    case IDENT_KRB_USER: case IDENT_KRB_REALM: return "kerberos";
    case IDENT_SSH_BANNER: return "ssh";
    }
    return "?";
}

/*
 * Identities go to the graph at each flush: those learnt or seen again
 * since the last flush, and every one of an address whose traffic this
 * flush writes (an address named before its first flow ended gets its
 * names then).  An identity never creates a node by itself.  An address
 * known to several tables gets each table's records: the graph merges
 * equal identities, widening their times.
 */
static void
hand_ident(const ident_addr *ia, void *ctx)
{
    capture_ctx *c = ctx;
    graph_addr a;
    graph_addr_set(&a, ia->addr, ia->ver);
    int all = graphagg_has_node(c->agg, &a);
    for (uint32_t i = 0; i < ia->n_rec; i++) {
        const ident_rec *r = &ia->rec[i];
        if (all || r->last_ns >= c->handing_mark)
            graphagg_ident(c->agg, &a, ident_kind_name(r->kind), r->value, ident_source(r->kind),
                           r->first_ns, r->last_ns, 0);
    }
}

/* Hand table t over (flusher thread), holding its mutex: its producer waits meanwhile. */
static void
hand_table(capture_ctx *c, cap_ident *t)
{
    pthread_mutex_lock(&t->mu);
    c->handing_mark = t->mark;
    ident_foreach_addr(t->id, hand_ident, c);
    t->mark = t->last_ns;
    pthread_mutex_unlock(&t->mu);
}

/* SIGHUP: re-read the labels file; on error keep the labels in use. */
static void
reload_labels(capture_ctx *c)
{
    char err[1024];
    cli_hup = 0;
    if (!c->labels_path) {
        cli_err("SIGHUP: no --labels file to re-read");
        return;
    }
    labels *l = labels_load(c->labels_path, err, sizeof(err));
    if (!l) {
        cli_err("%s (SIGHUP: keeping the labels read before)", err);
        return;
    }
    labels_free(c->labels);
    c->labels = l;
    c->label_reloads++;
    if (c->verbose)
        fprintf(stderr, "segscope: SIGHUP: re-read %s\n", c->labels_path);
}

/* Before each flush (flusher thread): labels, the capture's counters, every identity. */
static void
cap_preflush(void *ctx, graphagg *a)
{
    capture_ctx *c = ctx;
    if (cli_hup)
        reload_labels(c);
    /* The engine's counters as last published (exact at the last flush,
       which runs after eng_run). */
    eng_stats st;
    eng_stats_snapshot(c->e, &st);
    graph_capture *cap = graphagg_capture(a);
    cap->frames = st.frames;
    cap->bytes = st.bytes;
    cap->decoded = st.decoded;
    cap->first_ns = st.first_ns;
    cap->last_ns = st.last_ns;
    for (int i = 0; i < c->nw; i++)
        hand_table(c, &c->w[i].id);
    hand_table(c, &c->dhcp);
}

/* After each flush (flusher thread): -v. */
static void
cap_postflush(void *ctx, graphagg *a)
{
    capture_ctx *c = ctx;
    const graphagg_stats *s = graphagg_get_stats(a);
    if (!c->verbose)
        return;
    fprintf(stderr, "segscope: flush %llu: %llu flows so far, %llu nodes and %llu edges written\n",
            (unsigned long long)s->flushes, (unsigned long long)s->flows,
            (unsigned long long)s->nodes_written, (unsigned long long)s->edges_written);
}

/* 1 if an identity kind names the host (label rules "name:GLOB" match these). */
static int
is_name_kind(const char *kind)
{
    static const char *const names[] = {
        "dns", "sni", "http_host", "dhcp_hostname", "dhcp_fqdn", "netbios", "llmnr", "mdns",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(kind, names[i]) == 0)
            return 1;
    return 0;
}

static void
set_label(const char *key, const char *value, void *ctx)
{
    graph_node_set_label(ctx, key, value);
}

/* Labels from the labels file (replacing the stored ones), GeoIP for external addresses. */
static void
cap_annotate(void *ctx, graph_node *n)
{
    capture_ctx *c = ctx;
    if (c->labels) {
        const char *names[GRAPH_MAX_IDENTS];
        int nn = 0;
        for (unsigned i = 0; i < n->n_ident; i++)
            if (is_name_kind(n->ident[i].kind))
                names[nn++] = n->ident[i].value;
        n->n_label = 0;
        labels_match(c->labels, n->addr.a, n->addr.family, names, nn, set_label, n);
    }
    if (c->geo && !n->internal && geo_n_databases(c->geo) > 0) {
        geo_info gi;
        if (geo_lookup(c->geo, n->addr.a, n->addr.family, &gi) > 0) {
            n->has_geo = 1;
            graph_strcpy(n->geo.country, sizeof(n->geo.country), gi.country_iso);
            n->geo.asn = gi.asn;
            graph_strcpy(n->geo.org, sizeof(n->geo.org), gi.as_org);
        }
    }
}

static uint64_t
wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The capture record of this run: inputs and start. */
static void
fill_capture(graph_capture *cap, const eng_cfg *cfg)
{
    memset(cap, 0, sizeof(*cap));
    cap->id = cap->start_ns = wall_ns();
    cap->state = GRAPH_CAPTURE_RUNNING;
    graph_strcpy(cap->version, sizeof(cap->version), PACKAGE_VERSION);
    for (int i = 0; i < cfg->nfiles && cap->n_input < GRAPH_MAX_INPUTS; i++) {
        graph_input *in = &cap->input[cap->n_input++];
        const char *name = cfg->files[i];
        struct stat st;
        in->kind = 0;
        if (strcmp(name, "-") == 0) {
            graph_strcpy(in->name, sizeof(in->name), "<stdin>");
            continue;
        }
        /* Keep the end of a long path: it names the file. */
        size_t len = strlen(name);
        graph_strcpy(in->name, sizeof(in->name),
                     len >= sizeof(in->name) ? name + len - (sizeof(in->name) - 1) : name);
        if (stat(name, &st) == 0 && S_ISREG(st.st_mode))
            in->size = (uint64_t)st.st_size;
    }
    for (int i = 0; i < cfg->nifaces && cap->n_input < GRAPH_MAX_INPUTS; i++) {
        graph_input *in = &cap->input[cap->n_input++];
        in->kind = 1;
        graph_strcpy(in->name, sizeof(in->name), cfg->ifaces[i]);
    }
}

static void
print_stats(const capture_ctx *c, FILE *out)
{
    const graphagg_stats *s = graphagg_get_stats(c->agg);
    uint64_t done = 0, kept = 0, locked = c->dhcp.locked;
    eng_print_stats(c->e, out);
    for (int i = 0; i < c->nw; i++) {
        const dpi_stats *ds = dpi_get_stats(c->w[i].dpi);
        if (c->nw > 1)
            fprintf(out, "dpi_worker %d\n", i);
        dpi_print_stats(c->w[i].dpi, out);
        done += ds->detected + ds->given_up;
        kept += ds->kept_bytes;
        locked += c->w[i].id.locked;
    }
    fprintf(out, "ident_packets %llu\n", (unsigned long long)locked);
    fprintf(out, "labels_reloaded %llu\n", (unsigned long long)c->label_reloads);
    fprintf(out, "graph_flows_folded %llu\n", (unsigned long long)s->flows);
    fprintf(out, "graph_flushes %llu\n", (unsigned long long)s->flushes);
    fprintf(out, "graph_flushes_forced %llu\n", (unsigned long long)s->flushes_forced);
    fprintf(out, "graph_nodes_written %llu\n", (unsigned long long)s->nodes_written);
    fprintf(out, "graph_edges_written %llu\n", (unsigned long long)s->edges_written);
    fprintf(out, "graph_nodes_new %llu\n", (unsigned long long)s->nodes_new);
    fprintf(out, "graph_edges_new %llu\n", (unsigned long long)s->edges_new);
    fprintf(out, "graph_corrupt_replaced %llu\n", (unsigned long long)s->corrupt_replaced);
    fprintf(out, "graph_reads_skipped %llu\n", (unsigned long long)s->reads_skipped);
    fprintf(out, "graph_idents %llu\n", (unsigned long long)s->idents);
    fprintf(out, "graph_idents_without_node %llu\n", (unsigned long long)s->idents_dropped);
    fprintf(out, "graph_nodes_unchanged %llu\n", (unsigned long long)s->nodes_unchanged);
    fprintf(out, "graph_apps_dropped %llu\n", (unsigned long long)s->apps_dropped);
    fprintf(out, "graph_peak_node_deltas %llu\n", (unsigned long long)s->peak_nodes);
    fprintf(out, "graph_peak_edge_deltas %llu\n", (unsigned long long)s->peak_edges);
    fprintf(out, "graph_batch_bytes_max %llu\n", (unsigned long long)s->batch_bytes_max);
    fprintf(out, "graph_flush_seconds %.3f\n", s->flush_secs);
    fprintf(out, "graph_flush_seconds_max %.3f\n", s->flush_secs_max);
    /* What one tracked flow costs once its detection is over. */
    fprintf(out, "flow_bytes_after_detection %llu\n",
            (unsigned long long)(flowtab_record_size() + (done ? kept / done : dpi_info_size())));
}

static const char capture_usage[] =
    "usage: segscope capture (-r FILE... | -i IFACE...) --db DIR [OPTIONS]\n"
    "\n"
    "Read traffic into the workload graph database DIR (created if missing):\n"
    "hosts with their names, labels and GeoIP data, and client -> server\n"
    "edges per service and application.  Capturing into the same database\n"
    "again adds to what it holds.\n"
    "\n"
    "Graph:\n"
    "      --db DIR             the graph database (a directory)\n"
    "      --labels FILE        label hosts from FILE (format in segscope(1)); SIGHUP\n"
    "                           re-reads it, for the hosts written from the next flush on\n"
    "      --geoip DB           a MaxMind database (country, city or ASN); repeat for\n"
    "                           several (default: *.mmdb in /usr/share/GeoIP, /var/lib/GeoIP)\n"
    "      --internal CIDR      also treat CIDR as internal address space; repeat\n"
    "      --flush-interval SEC write to the database every SEC seconds (default 10;\n"
    "                           0 = only at the end)\n"
    "      --ndpi-dir DIR       load nDPI's protos.txt, categories.txt... from DIR\n"
    "Output:\n"
    "  -v, --verbose            a line on standard error per flush\n"
    "      --stats              print every counter on standard error at the end\n"
    "  -q, --quiet              no summary on standard error\n"
    CAPOPT_HELP;

/* Parsed command line. */
typedef struct capture_opts {
    const char *db;             /* --db */
    const char *labels;         /* --labels */
    const char *ndpi_dir;       /* --ndpi-dir */
    const char *geoip[CAPTURE_MAX_GEOIP]; /* --geoip */
    int n_geoip;                /* geoip[] used */
    const char *internal[CAPTURE_MAX_INTERNAL]; /* --internal */
    int n_internal;             /* internal[] used */
    double flush_s;             /* --flush-interval */
    int verbose;                /* -v */
    int stats;                  /* --stats */
    int quiet;                  /* -q */
} capture_opts;

static int
parse(int argc, char **argv, eng_cfg *cfg, capture_opts *o)
{
    enum { OPT_DB = CAPOPT_LAST + 1, OPT_LABELS, OPT_GEOIP, OPT_INTERNAL, OPT_FLUSH, OPT_STATS,
           OPT_NDPI_DIR };
    static const struct option longopts[] = {
        CAPOPT_LONG,
        {"db", required_argument, NULL, OPT_DB},
        {"labels", required_argument, NULL, OPT_LABELS},
        {"geoip", required_argument, NULL, OPT_GEOIP},
        {"internal", required_argument, NULL, OPT_INTERNAL},
        {"flush-interval", required_argument, NULL, OPT_FLUSH},
        {"ndpi-dir", required_argument, NULL, OPT_NDPI_DIR},
        {"verbose", no_argument, NULL, 'v'},
        {"stats", no_argument, NULL, OPT_STATS},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt, r;
    optind = 1;
    while ((opt = getopt_long(argc, argv, CAPOPT_SHORT "vqh", longopts, NULL)) != -1) {
        if ((r = capopt_handle(cfg, opt, optarg)) < 0)
            return EXIT_USAGE;
        if (r > 0)
            continue;
        switch (opt) {
        case OPT_DB: o->db = optarg; break;
        case OPT_LABELS: o->labels = optarg; break;
        case OPT_NDPI_DIR: o->ndpi_dir = optarg; break;
        case OPT_GEOIP:
            if (o->n_geoip == CAPTURE_MAX_GEOIP) {
                cli_err("--geoip: at most %d databases", CAPTURE_MAX_GEOIP);
                return EXIT_USAGE;
            }
            o->geoip[o->n_geoip++] = optarg;
            break;
        case OPT_INTERNAL:
            if (o->n_internal == CAPTURE_MAX_INTERNAL) {
                cli_err("--internal: too many ranges (use fewer, wider ones)");
                return EXIT_USAGE;
            }
            o->internal[o->n_internal++] = optarg;
            break;
        case OPT_FLUSH:
            if (cli_parse_secs(optarg, &o->flush_s) < 0) {
                cli_err("--flush-interval: '%s' is not a number of seconds", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'v': o->verbose = 1; break;
        case OPT_STATS: o->stats = 1; break;
        case 'q': o->quiet = 1; break;
        case 'h': fputs(capture_usage, stdout); return -1;
        default:
            fputs(capture_usage, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_err("unexpected argument '%s' (inputs are given with -r or -i)", argv[optind]);
        return EXIT_USAGE;
    }
    if (!o->db) {
        cli_err("capture: --db DIR is required");
        return EXIT_USAGE;
    }
    if (capopt_finish(cfg) < 0)
        return EXIT_USAGE;
    return 0;
}

static int
cap_ident_init(cap_ident *t, const ident_cfg *ic)
{
    pthread_mutex_init(&t->mu, NULL);
    t->id = ident_create(ic);
    return t->id ? 0 : -1;
}

static void
cap_ident_free(cap_ident *t)
{
    ident_free(t->id);
    pthread_mutex_destroy(&t->mu);
}

static int
capture_exec(int argc, char **argv)
{
    eng_cfg cfg;
    capture_opts o;
    char err[1024];
    int code, rc;

    eng_cfg_default(&cfg);
    memset(&o, 0, sizeof(o));
    o.flush_s = 10;
    if ((rc = parse(argc, argv, &cfg, &o)) != 0)
        return rc < 0 ? 0 : rc;

    capture_ctx c;              /* a slot per possible worker: some 8 KB */
    _Static_assert(sizeof(capture_ctx) < 16384, "capture_ctx lives on the stack");
    graph *g = NULL;
    memset(&c, 0, sizeof(c));
    c.verbose = o.verbose;
    c.labels_path = o.labels;
    c.nw = cfg.threads < 1 ? 1 : cfg.threads > ENG_MAX_THREADS ? ENG_MAX_THREADS : cfg.threads;
    rc = EXIT_RUNTIME;

    /* Everything that can be refused is checked before the database is touched. */
    ident_cfg ic;
    ident_cfg_default(&ic);
    ic.track_macs = 0;          /* graphagg records MACs once per flow direction */
    int oom = !(c.nc = netclass_create()) || cap_ident_init(&c.dhcp, &ic) < 0;
    for (int i = 0; i < c.nw && !oom; i++) {
        c.w[i].c = &c;
        oom = cap_ident_init(&c.w[i].id, &ic) < 0;
    }
    if (oom) {
        cli_err("out of memory");
        goto out;
    }
    for (int i = 0; i < o.n_internal; i++)
        if (netclass_add(c.nc, o.internal[i], err, sizeof(err)) < 0) {
            cli_err("--internal: %s", err);
            rc = EXIT_USAGE;
            goto out;
        }
    if (o.labels && !(c.labels = labels_load(o.labels, err, sizeof(err)))) {
        cli_err("%s", err);
        rc = EXIT_INPUT;
        goto out;
    }
    if (!(c.geo = geo_open(o.geoip, o.n_geoip, err, sizeof(err)))) {
        cli_err("%s", err);
        rc = EXIT_INPUT;
        goto out;
    }
    dpi_cfg dc;
    dpi_cfg_default(&dc);
    dc.ndpi_dir = o.ndpi_dir;
    for (int i = 0; i < c.nw; i++)
        if (!(c.w[i].dpi = dpi_create(&dc, err, sizeof(err)))) {
            cli_err("%s", err);
            rc = o.ndpi_dir ? EXIT_INPUT : EXIT_RUNTIME;
            goto out;
        }
    eng_hooks hooks = { .packet = cap_packet, .flow_end = cap_flow_end, .ctx = &c,
                        .worker_ctx = cap_worker_ctx, .status = cap_status, .frame = cap_frame };
    cfg.own_dir = o.db;         /* live as root: the DB is handed to --user before the drop */
    if (!(c.e = eng_create(&cfg, &hooks, &code, err, sizeof(err)))) {
        cli_err("%s", err);
        rc = code;
        goto out;
    }
    if (!(g = graph_open(o.db, GRAPH_WRITE, &code, err, sizeof(err)))) {
        cli_err("%s", err);
        rc = code;
        goto out;
    }
    if (o.verbose) {
        char buf[512];
        fprintf(stderr, "segscope: GeoIP: %s\n", geo_describe(c.geo, buf, sizeof(buf)));
    }

    graph_capture cap;
    graphagg_cfg ac;
    fill_capture(&cap, &cfg);
    graphagg_cfg_default(&ac);
    ac.flush_interval_s = o.flush_s;
    ac.nc = c.nc;
    ac.preflush = cap_preflush;
    ac.annotate = cap_annotate;
    ac.postflush = cap_postflush;
    ac.ctx = &c;
    if (!(c.agg = graphagg_create(g, &ac, &cap, err, sizeof(err)))) {
        cli_err("%s", err);
        goto out;
    }
    for (int i = 0; i < eng_threads(c.e); i++)
        if (!(c.w[i].shard = graphagg_shard_create(c.agg, eng_threads(c.e)))) {
            cli_err("out of memory");
            goto out;
        }
    if (graphagg_start(c.agg, err, sizeof(err)) < 0) {
        cli_err("%s", err);
        goto out;
    }

    cli_install_signals();
    cli_install_hup();
    rc = eng_run(c.e, &cli_stop, err, sizeof(err));
    if (rc)
        cli_err("%s", err);
    int state = rc ? GRAPH_CAPTURE_FAILED
                   : cli_stop || (cfg.max_packets && eng_get_stats(c.e)->frames >= cfg.max_packets)
                         ? GRAPH_CAPTURE_STOPPED : GRAPH_CAPTURE_COMPLETE;
    if (cfg.nifaces && !rc && !graphagg_failed(c.agg))
        state = GRAPH_CAPTURE_STOPPED;      /* live capture ends only by a limit or a signal */
    if (graphagg_finish(c.agg, state) < 0) {
        cli_err("%s", graphagg_error(c.agg));
        rc = EXIT_RUNTIME;
    }
    if (o.stats)
        print_stats(&c, stderr);
    if (!o.quiet) {
        graph_stats gs;
        eng_print_summary(c.e, stderr);
        if (graph_get_stats(g, &gs, err, sizeof(err)) == 0)
            fprintf(stderr, "segscope: %llu frames, %llu flows into %s: it now holds %llu hosts, "
                    "%llu edges, %llu captures\n",
                    (unsigned long long)eng_get_stats(c.e)->frames,
                    (unsigned long long)graphagg_get_stats(c.agg)->flows, o.db,
                    (unsigned long long)gs.nodes, (unsigned long long)gs.edges,
                    (unsigned long long)gs.captures);
    }
out:
    graphagg_free(c.agg);
    graph_close(g);
    eng_free(c.e);
    for (int i = 0; i < c.nw; i++) {
        dpi_free(c.w[i].dpi);
        cap_ident_free(&c.w[i].id);
    }
    cap_ident_free(&c.dhcp);
    geo_free(c.geo);
    labels_free(c.labels);
    netclass_free(c.nc);
    return rc;
}

const cli_cmd cmd_capture = {
    .name = "capture",
    .summary = "read traffic into the workload graph database",
    .usage = capture_usage,
    .exec = capture_exec,
};
