/*
 * graphq.c - filters of the graph query commands (see graphq.h).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/graphq.h"
#include "reports/graphfmt.h"

/* ---- address set ----------------------------------------------------------- */

/* Open addressing over graph_addr; family 0 marks an empty slot. */
struct gq_set {
    graph_addr *slot;           /* cap slots */
    size_t cap;                 /* a power of two */
    size_t n;                   /* used */
};

static uint32_t
addr_hash(const graph_addr *a)
{
    uint32_t h = 2166136261u ^ a->family;
    for (int i = 0; i < (a->family == 6 ? 16 : 4); i++)
        h = (h ^ a->a[i]) * 16777619u;
    return h ^ (h >> 16);
}

static gq_set *
set_create(void)
{
    gq_set *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->cap = 256;
    if (!(s->slot = calloc(s->cap, sizeof(*s->slot)))) {
        free(s);
        return NULL;
    }
    return s;
}

static void
set_free(gq_set *s)
{
    if (!s)
        return;
    free(s->slot);
    free(s);
}

static int
set_has(const gq_set *s, const graph_addr *a)
{
    if (!s)
        return 0;
    for (size_t i = addr_hash(a) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (s->slot[i].family == 0)
            return 0;
        if (graph_addr_cmp(&s->slot[i], a) == 0)
            return 1;
    }
}

static int set_add(gq_set *s, const graph_addr *a);

static int
set_grow(gq_set *s)
{
    gq_set bigger = { calloc(s->cap * 2, sizeof(graph_addr)), s->cap * 2, 0 };
    if (!bigger.slot)
        return -1;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slot[i].family)
            set_add(&bigger, &s->slot[i]);
    free(s->slot);
    *s = bigger;
    return 0;
}

static int
set_add(gq_set *s, const graph_addr *a)
{
    if ((s->n + 1) * 2 > s->cap && set_grow(s) < 0)
        return -1;
    size_t i;
    for (i = addr_hash(a) & (s->cap - 1); s->slot[i].family; i = (i + 1) & (s->cap - 1))
        if (graph_addr_cmp(&s->slot[i], a) == 0)
            return 0;
    s->slot[i] = *a;
    s->n++;
    return 0;
}

/* ---- parsing ----------------------------------------------------------------- */

int
gq_addr_parse(const char *s, graph_addr *a)
{
    uint8_t b[16];
    memset(a, 0, sizeof(*a));
    if (inet_pton(AF_INET, s, b) == 1) {
        graph_addr_set(a, b, 4);
        return 0;
    }
    if (inet_pton(AF_INET6, s, b) == 1) {
        graph_addr_set(a, b, 6);
        return 0;
    }
    return -1;
}

int
gq_proto_parse(const char *s)
{
    static const struct { const char *name; int num; } names[] = {
        { "icmp", 1 }, { "igmp", 2 }, { "tcp", 6 }, { "udp", 17 }, { "gre", 47 },
        { "esp", 50 }, { "ah", 51 }, { "icmpv6", 58 }, { "icmp6", 58 }, { "ospf", 89 },
        { "pim", 103 }, { "vrrp", 112 }, { "sctp", 132 },
    };
    unsigned long long n;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(s, names[i].name) == 0)
            return names[i].num;
    if (cli_parse_u64(s, &n) == 0 && n <= 255)
        return (int)n;
    return -1;
}

void
gq_filter_init(gq_filter *f)
{
    memset(f, 0, sizeof(*f));
    f->proto = -1;
    f->port = -1;
}

void
gq_filter_free(gq_filter *f)
{
    labels_free(f->labels);
    set_free(f->labelled);
    set_free(f->ends);
    f->labels = NULL;
    f->labelled = f->ends = NULL;
}

int
gq_option(gq_filter *f, int opt, const char *arg)
{
    char err[512];
    unsigned long long n;
    switch (opt) {
    case GQ_OPT_ADDR:
        if (gq_addr_parse(arg, &f->addr) < 0) {
            cli_err("--addr: '%s' is not an IPv4 or IPv6 address", arg);
            return -1;
        }
        f->has_addr = 1;
        return 1;
    case GQ_OPT_CIDR:
        if (netclass_parse_cidr(arg, &f->cidr, err, sizeof(err)) < 0) {
            cli_err("--cidr: %s", err);
            return -1;
        }
        f->has_cidr = 1;
        return 1;
    case GQ_OPT_LABEL: {
        const char *eq = strchr(arg, '=');
        if (!eq || eq == arg) {
            cli_err("--label: '%s' is not KEY=VALUE", arg);
            return -1;
        }
        size_t kl = (size_t)(eq - arg);
        if (kl >= sizeof(f->label_key)) {
            cli_err("--label: key too long");
            return -1;
        }
        memcpy(f->label_key, arg, kl);
        f->label_key[kl] = '\0';
        f->label_value = eq + 1;
        f->has_label = 1;
        return 1;
    }
    case GQ_OPT_PROTO:
        if ((f->proto = gq_proto_parse(arg)) < 0) {
            cli_err("--proto: '%s' is not tcp, udp, icmp, icmpv6, sctp... or 0..255", arg);
            return -1;
        }
        return 1;
    case GQ_OPT_PORT:
        if (cli_parse_u64(arg, &n) < 0 || n > 65535) {
            cli_err("--port: '%s' must be 0..65535", arg);
            return -1;
        }
        f->port = (int)n;
        return 1;
    case GQ_OPT_APP:
        f->app = arg;
        return 1;
    case GQ_OPT_LABELS:
        labels_free(f->labels);
        if (!(f->labels = labels_load(arg, err, sizeof(err)))) {
            cli_err("%s", err);
            return -2;
        }
        return 1;
    default:
        return 0;
    }
}

int
gq_has_edge_filter(const gq_filter *f)
{
    return f->proto >= 0 || f->port >= 0 || f->app != NULL;
}

/* ---- matching ---------------------------------------------------------------- */

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

void
gq_apply_labels(const gq_filter *f, graph_node *n)
{
    if (!f->labels)
        return;
    const char *names[GRAPH_MAX_IDENTS];
    int nn = 0;
    for (unsigned i = 0; i < n->n_ident; i++)
        if (is_name_kind(n->ident[i].kind))
            names[nn++] = n->ident[i].value;
    n->n_label = 0;
    labels_match(f->labels, n->addr.a, n->addr.family, names, nn, set_label, n);
}

static int
has_label(const gq_filter *f, const graph_node *n)
{
    for (unsigned i = 0; i < n->n_label; i++)
        if (strcmp(n->label[i].key, f->label_key) == 0 &&
            strcmp(n->label[i].value, f->label_value) == 0)
            return 1;
    return 0;
}

static int
in_cidr(const gq_filter *f, const graph_addr *a)
{
    return netclass_cidr_match(&f->cidr, a->a, a->family);
}

int
gq_node_match(const gq_filter *f, const graph_node *n)
{
    if (f->has_addr && graph_addr_cmp(&f->addr, &n->addr) != 0)
        return 0;
    if (f->has_cidr && !in_cidr(f, &n->addr))
        return 0;
    if (f->has_label && !has_label(f, n))
        return 0;
    return 1;
}

int
gq_edge_match(const gq_filter *f, const graph_edge *e)
{
    if (f->proto >= 0 && e->k.proto != f->proto)
        return 0;
    if (f->port >= 0 && e->k.port != f->port)
        return 0;
    if (f->app && strcasecmp(e->k.app, f->app) != 0)
        return 0;
    return 1;
}

int
gq_edge_ends_match(const gq_filter *f, const graph_edge *e)
{
    if (f->has_addr && graph_addr_cmp(&f->addr, &e->k.client) != 0 &&
        graph_addr_cmp(&f->addr, &e->k.server) != 0)
        return 0;
    if (f->has_cidr && !in_cidr(f, &e->k.client) && !in_cidr(f, &e->k.server))
        return 0;
    if (f->has_label && !set_has(f->labelled, &e->k.client) && !set_has(f->labelled, &e->k.server))
        return 0;
    return 1;
}

int
gq_node_has_edge(const gq_filter *f, const graph_node *n)
{
    return !gq_has_edge_filter(f) || set_has(f->ends, &n->addr);
}

/* What a preparing walk fills. */
typedef struct prep {
    gq_filter *f;               /* the filter */
    gq_set *set;                /* the set being filled */
    int oom;                    /* an insertion failed */
} prep;

static int
prep_node(void *ctx, const graph_node *n)
{
    prep *p = ctx;
    graph_node *copy = NULL;
    const graph_node *use = n;
    if (p->f->labels) {
        if (!(copy = malloc(sizeof(*copy)))) {
            p->oom = 1;
            return 1;
        }
        *copy = *n;
        gq_apply_labels(p->f, copy);
        use = copy;
    }
    if (has_label(p->f, use) && set_add(p->set, &n->addr) < 0)
        p->oom = 1;
    free(copy);
    return p->oom;
}

static int
prep_edge(void *ctx, const graph_edge *e)
{
    prep *p = ctx;
    if (gq_edge_match(p->f, e) &&
        (set_add(p->set, &e->k.client) < 0 || set_add(p->set, &e->k.server) < 0))
        p->oom = 1;
    return p->oom;
}

int
gq_prepare(gq_filter *f, graph *g, int want_labelled, int want_ends, char *err, size_t errlen)
{
    prep p = { f, NULL, 0 };
    if (want_labelled && f->has_label) {
        if (!(p.set = f->labelled = set_create()))
            goto oom;
        if (graph_foreach_node(g, prep_node, &p, err, errlen) < 0)
            return -1;
        if (p.oom)
            goto oom;
    }
    if (want_ends && gq_has_edge_filter(f)) {
        if (!(p.set = f->ends = set_create()))
            goto oom;
        if (graph_foreach_edge(g, prep_edge, &p, err, errlen) < 0)
            return -1;
        if (p.oom)
            goto oom;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

int
gq_parse_args(int argc, char **argv, const char *cmd, const char *usage, gq_filter *f,
              gq_args *a)
{
    static const struct option longopts[] = {
        GQ_LONG,
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt, r;
    a->db = a->out_path = NULL;
    a->fmt = GRAPHFMT_TEXT;
    gq_filter_init(f);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        if ((r = gq_option(f, opt, optarg)) != 0) {
            if (r < 0) {
                gq_filter_free(f);
                return r == -2 ? EXIT_INPUT : EXIT_USAGE;
            }
            continue;
        }
        switch (opt) {
        case GQ_OPT_DB: a->db = optarg; break;
        case GQ_OPT_FORMAT:
            if ((a->fmt = graphfmt_parse(optarg)) < 0) {
                cli_err("--format: '%s' is not text, csv or json", optarg);
                gq_filter_free(f);
                return EXIT_USAGE;
            }
            break;
        case 'o': a->out_path = optarg; break;
        case 'h': fputs(usage, stdout); gq_filter_free(f); return 0;
        default:
            fputs(usage, stderr);
            gq_filter_free(f);
            return EXIT_USAGE;
        }
    }
    if (optind < argc || !a->db) {
        if (optind < argc)
            cli_err("unexpected argument '%s'", argv[optind]);
        else
            cli_err("%s: --db DIR is required", cmd);
        gq_filter_free(f);
        return EXIT_USAGE;
    }
    return -1;
}
