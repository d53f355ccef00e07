/*
 * report.c - build the audit report (see report.h).
 *
 * How it works:
 *
 *  1. The model (recommender/model.h) is loaded from the database and the
 *     labels file applied on top, as "segscope recommend" does.
 *  2. The policy is either read from a file or recommended in-process:
 *     rec_run() then rec_write_json() into memory, so both paths parse
 *     the same segscope.policy/v1 text (policy.h validates it and answers
 *     "does the policy admit this connection"; json-c reads the extra
 *     keys only the recommender writes).
 *  3. One pass over the database's nodes keeps a compact record per host
 *     (address, segment under the policy, best name, geo, counters) and
 *     fills the inventory; one pass over its edges asks the policy about
 *     every observed (client, server, service): the first rule that
 *     admits it gets its flows as evidence, the rest is blocked traffic;
 *     the risk classifier (risk.h) judges each edge; external peers and
 *     unnamed devices gather what they need.
 *  4. Blast radius, per workload (an internal host that sent traffic):
 *     flat = every other workload; observed = the workloads it used as
 *     servers; policy = the workloads some rule lets it open a connection
 *     to (any service).  Workloads whose addresses match the same rules
 *     as sources share one computation (sorted by that rule list).
 *  5. The map folds rules per (source, destination) and folds the edges
 *     of hubs (nodes used by, or reaching, at least hub_threshold others)
 *     into annotations, so that a person sees the application structure.
 *  6. Tables are filled in a fixed order with sorted rows.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "analyzer/dpi.h"
#include "analyzer/graph.h"
#include "analyzer/labels.h"
#include "capture/engine.h"
#include "recommender/policy.h"
#include "reports/escape.h"
#include "reports/report.h"
#include "reports/risk.h"

#define REPORT_MAX_POLICY (256u << 20)  /* bytes of a policy file read at most */
#define REPORT_MAX_TABLES 24            /* tables of a report */
#define REPORT_MAP_MAX 80               /* segments drawn at most */
#define NO_HOST UINT32_MAX

/* One graph node as the report keeps it. */
typedef struct rhost {
    graph_addr addr;            /* the key */
    char astr[48];              /* address as text */
    uint8_t internal;           /* internal address space */
    uint8_t special;            /* unspecified, broadcast or multicast: never a workload */
    uint8_t named;              /* has a name (DHCP, DNS, NetBIOS, machine principal...) */
    uint8_t labelled;           /* has a label */
    uint8_t crown;              /* labelled crown_jewel=true */
    uint8_t workload;           /* internal, not special, sent traffic */
    uint8_t high_risk;          /* a high-risk edge touches it */
    uint8_t n_svc;              /* services in svc[] */
    int seg;                    /* policy segment, -1 if none */
    char *name;                 /* best name, or NULL */
    char *hint;                 /* for an unnamed host: what else is known (vendor, agent), or NULL */
    char *edge_name;            /* a server name seen on edges to it (SNI, Host), or NULL */
    char country[3];            /* GeoIP country, "" if unknown */
    uint32_t asn;               /* GeoIP ASN, 0 if unknown */
    char *org;                  /* AS organisation, or NULL */
    uint64_t first_ns, last_ns; /* first and last packet */
    graph_counts as_client, as_server; /* counters from the node */
    uint64_t out_flows, in_flows, ext_bytes; /* external host: flows from / to internal hosts, bytes */
    char svc[4][40];            /* unnamed internal host: services it offered */
    double reach;               /* workload: one-hop reach under the policy */
    uint32_t observed;          /* workload: distinct workloads it used */
} rhost;

/* Observed traffic admitted by one rule. */
typedef struct racc {
    uint64_t flows, pkts, bytes; /* observed traffic it admits */
    uint64_t first_ns, last_ns; /* first and last seen */
    uint32_t pairs;             /* distinct (client, server) */
    uint32_t lc, ls;            /* last pair counted */
    uint32_t n_ex;              /* examples in ex[] */
    uint32_t ex[2][2];          /* example (client, server) host indices */
} racc;

/* One observed edge kept for a table (risky or blocked). */
typedef struct rflow {
    uint32_t c, s;              /* host indices */
    uint8_t proto;              /* IP protocol */
    uint16_t port;              /* server port */
    char app[GRAPH_APP_LEN];    /* application */
    uint64_t flows, bytes;      /* counters */
    uint64_t last_ns;           /* last seen */
    int rule;                   /* admitting rule, -1 if denied */
    int sev;                    /* worst risk severity (risky only) */
    uint8_t n_risk;             /* risks in risk[] */
    uint8_t risk[RISK_MAX_PER_EDGE]; /* risk catalogue indices, worst first */
    uint64_t ndpi_risk;         /* nDPI risk bitmap of the edge's flows (risky only) */
} rflow;

/* Per risk kind totals. */
typedef struct risk_acc {
    uint32_t edges, allowed;    /* edges, of which admitted by the policy */
    uint64_t flows, bytes;      /* their traffic */
} risk_acc;

/* A growing array of rflow with a cap. */
typedef struct rflows {
    rflow *v;                   /* the rows */
    size_t n, cap, max;         /* used, allocated, most kept */
    uint64_t dropped;           /* not kept past max */
} rflows;

struct report {
    report_cfg cfg;             /* the inputs */
    report_summary sum;         /* headline numbers */
    char *policy_source;        /* owned text of sum.policy_source */
    char *db;                   /* owned text of sum.db */
    model *m;                   /* the workload model */
    labels *lab;                /* labels file, or NULL */
    policy *p;                  /* the policy */
    json_object *doc;           /* the policy document (extra keys) */
    rhost *hosts;               /* graph nodes, address order */
    size_t n_hosts, cap_hosts;  /* hosts used, allocated */
    racc *racc;                 /* per rule */
    risk_acc *risk;             /* per risk kind */
    rflows risky, blocked;      /* edges kept for tables */
    graph_capture *caps;        /* captures, oldest first */
    size_t n_caps, cap_caps;    /* captures used, allocated */
    rtable *tables[REPORT_MAX_TABLES]; /* the tables, in reading order (owned) */
    size_t n_tables;            /* tables used */
    report_map map;             /* the map (points into the arrays below) */
    report_map_node *mnodes;    /* map nodes (owned) */
    report_map_edge *medges;    /* map edges (owned) */
    char **pool;                /* strings owned for the map */
    size_t n_pool, cap_pool;    /* pool strings used, allocated */
    uint32_t *by_src;           /* rule indices grouped by source segment (ascending in a group) */
    uint32_t *by_src_off;       /* group of segment q: by_src[by_src_off[q] .. by_src_off[q + 1]) */
    uint32_t *generic;          /* rules whose source is not a segment (any, internet, cidr) */
    uint32_t n_generic;         /* rules in generic[] */
    double *seg_blast;          /* mean reach per segment */
    uint32_t *seg_workloads;    /* workloads per segment */
    int oom;                    /* an allocation failed */
};

const char *
report_generator(void)
{
    return "segscope " PACKAGE_VERSION;
}

void
report_cfg_default(report_cfg *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    rec_cfg_default(&cfg->rec);
    cfg->max_rows = 1000;
    cfg->max_kept = 100000;
}

/* ---- small helpers ------------------------------------------------------------ */

static char *
pool_str(report *r, const char *s)
{
    if (r->n_pool == r->cap_pool) {
        size_t nc = r->cap_pool ? 2 * r->cap_pool : 64;
        char **p = realloc(r->pool, nc * sizeof(*p));
        if (!p) {
            r->oom = 1;
            return (char *)"";
        }
        r->pool = p;
        r->cap_pool = nc;
    }
    char *d = esc_utf8_dup(s);
    if (!d) {
        r->oom = 1;
        return (char *)"";
    }
    return r->pool[r->n_pool++] = d;
}

static const char *
addr_text(const graph_addr *a, char *buf, size_t len)
{
    return model_addr_str(a->a, a->family, buf, len);
}

static int
host_cmp_key(const void *k, const void *e)
{
    return graph_addr_cmp(k, &((const rhost *)e)->addr);
}

/* Index of the host with this address, or NO_HOST. */
static uint32_t
host_find(const report *r, const graph_addr *a)
{
    const rhost *h = bsearch(a, r->hosts, r->n_hosts, sizeof(rhost), host_cmp_key);
    return h ? (uint32_t)(h - r->hosts) : NO_HOST;
}

/* "ws-0001 (10.50.0.7)" or "10.50.0.7" into buf. */
static const char *
host_label(const rhost *h, char *buf, size_t len)
{
    if (h->name)
        snprintf(buf, len, "%s (%s)", h->name, h->astr);
    else if (h->edge_name)
        snprintf(buf, len, "%s (%s)", h->edge_name, h->astr);
    else
        snprintf(buf, len, "%s", h->astr);
    return buf;
}

/* Where a host is, for tables: its segment, "internet", "internal (no segment)". */
static const char *
host_where(const report *r, const rhost *h)
{
    if (h->seg >= 0)
        return policy_segment_id(r->p, h->seg);
    if (h->internal)
        return "(no segment)";
    return "internet";
}

/* "tcp/443" for a service into buf. */
static const char *
svc_text(int proto, int port, char *buf, size_t len)
{
    char tmp[16];
    const char *pn = rules_proto_name(proto == 58 ? 1 : proto, tmp, sizeof(tmp));
    if (proto == 6 || proto == 17)
        snprintf(buf, len, "%s/%d", pn, port);
    else if (proto == 1 || proto == 58)
        snprintf(buf, len, "%s", proto == 58 ? "icmpv6" : "icmp");
    else
        snprintf(buf, len, "%s", pn);
    return buf;
}

/* A rule's service: "tcp/80,443 HTTP", "udp/any", "icmp", "any". */
static const char *
rule_svc(const policy_rule *ru, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = 0;
#define PUT(...) do { if (o < len) o += (size_t)snprintf(buf + o, len - o, __VA_ARGS__); } while (0)
    if (ru->proto == POLICY_ANY)
        PUT("any");
    else if (ru->proto == POLICY_ICMP)
        PUT("icmp");
    else {
        PUT("%s/", ru->proto == POLICY_TCP ? "tcp" : "udp");
        if (!ru->n_ports)
            PUT("any");
        for (int i = 0; i < ru->n_ports && i < 6; i++) {
            if (ru->ports[i][0] == ru->ports[i][1])
                PUT("%s%u", i ? "," : "", ru->ports[i][0]);
            else
                PUT("%s%u-%u", i ? "," : "", ru->ports[i][0], ru->ports[i][1]);
        }
        if (ru->n_ports > 6)
            PUT(",...");
    }
    if (ru->app && *ru->app)
        PUT(" %s", ru->app);
#undef PUT
    if (o >= len && len > 4)
        memcpy(buf + len - 4, "...", 4);
    return buf;
}

static const char *
ref_text(const report *r, const policy_ref *ref, char *buf, size_t len)
{
    switch (ref->kind) {
    case POLICY_REF_SEG: snprintf(buf, len, "%s", policy_segment_id(r->p, ref->seg)); break;
    case POLICY_REF_ANY: snprintf(buf, len, "any"); break;
    case POLICY_REF_INTERNET: snprintf(buf, len, "internet"); break;
    default: {
        char pb[64];
        snprintf(buf, len, "cidr:%s", policy_prefix_str(&ref->cidr, pb, sizeof(pb)));
    }
    }
    return buf;
}

/* Does a policy reference match a host? */
static int
ref_matches(const policy_ref *ref, const rhost *h)
{
    switch (ref->kind) {
    case POLICY_REF_ANY: return 1;
    case POLICY_REF_SEG: return h->seg == ref->seg;
    case POLICY_REF_INTERNET: return h->seg < 0 && !policy_addr_private(h->addr.a, h->addr.family);
    default: return policy_prefix_contains(&ref->cidr, h->addr.a, h->addr.family);
    }
}

static int
is_true(const char *v)
{
    return v && (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "1") == 0);
}

/* JSON helpers over the (untrusted) policy document. */
static json_object *
jget(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

static const char *
jstr(json_object *o, const char *key)
{
    json_object *v = jget(o, key);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int
jnum(json_object *o, const char *key, double *out)
{
    json_object *v = jget(o, key);
    if (!v || !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
        return 0;
    *out = json_object_get_double(v);
    return isfinite(*out);
}

static json_object *
jarr(json_object *o, const char *key)
{
    json_object *v = jget(o, key);
    return v && json_object_is_type(v, json_type_array) ? v : NULL;
}

static json_object *
jidx(json_object *a, size_t i)
{
    return a && i < json_object_array_length(a) ? json_object_array_get_idx(a, i) : NULL;
}

static rtable *
add_table(report *r, const char *id, const char *title, const char *intro, const rt_col *cols, size_t n)
{
    if (r->n_tables >= REPORT_MAX_TABLES) {
        r->oom = 1;
        return NULL;
    }
    rtable *t = rt_create(id, title, intro, cols, n);
    if (!t) {
        r->oom = 1;
        return NULL;
    }
    if (r->cfg.max_rows)
        rt_set_show(t, r->cfg.max_rows);
    r->tables[r->n_tables++] = t;
    return t;
}

static int
flows_push(rflows *a, const rflow *f)
{
    if (a->n >= a->max) {
        a->dropped++;
        return 0;
    }
    if (a->n == a->cap) {
        size_t nc = a->cap ? 2 * a->cap : 256;
        rflow *v = realloc(a->v, nc * sizeof(*v));
        if (!v)
            return -1;
        a->v = v;
        a->cap = nc;
    }
    a->v[a->n++] = *f;
    return 0;
}

/* ---- step 1 and 2: model, labels, policy -------------------------------------- */


/* Read a whole file ("-" = stdin) into a NUL-terminated buffer. */
static char *
read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            if (cap >= REPORT_MAX_POLICY) {
                snprintf(err, errlen, "%s: larger than %u MiB", path, REPORT_MAX_POLICY >> 20);
                free(buf);
                buf = NULL;
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                snprintf(err, errlen, "%s: out of memory", path);
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                free(buf);
                buf = NULL;
            }
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    if (buf) {
        buf[n] = 0;
        *len = n;
    }
    return buf;
}

/* The policy text: the file, or the in-process recommendation. NULL with err set. */
static char *
policy_text(report *r, size_t *len, char *err, size_t errlen)
{
    if (r->cfg.policy_path) {
        r->policy_source = esc_utf8_dup(strcmp(r->cfg.policy_path, "-") == 0 ? "standard input"
                                                                      : r->cfg.policy_path);
        return read_file(r->cfg.policy_path, len, err, errlen);
    }
    char src[128];
    snprintf(src, sizeof(src), "recommended by %s from this database (segscope recommend)",
             report_generator());
    r->policy_source = esc_utf8_dup(src);
    recommendation *rec = rec_run(r->m, &r->cfg.rec);
    if (!rec) {
        snprintf(err, errlen, "out of memory recommending a policy");
        return NULL;
    }
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    int rc = f ? rec_write_json(rec, f) : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    rec_free(rec);
    if (rc < 0) {
        free(buf);
        snprintf(err, errlen, "out of memory writing the recommended policy");
        return NULL;
    }
    *len = n;
    return buf;
}

/* ---- step 3: nodes ---------------------------------------------------------------- */

/* Rank of an identity kind as a name of its host (lower is better), or 0 if not a name. */
static int
name_rank(const graph_ident *id)
{
    static const char *const order[] = { "dhcp_hostname", "dhcp_fqdn", "dns", "netbios", "mdns",
                                         "llmnr", "krb_user", NULL };
    for (int i = 0; order[i]; i++)
        if (strcmp(id->kind, order[i]) == 0) {
            if (strcmp(id->kind, "krb_user") == 0) {    /* machine principals only: "WS-01$@REALM" */
                const char *at = strchr(id->value, '@');
                size_t n = at ? (size_t)(at - id->value) : strlen(id->value);
                if (n < 2 || id->value[n - 1] != '$')
                    return 0;
            }
            return id->value[0] ? i + 1 : 0;
        }
    return 0;
}

/* Collecting the labels of a node: stored ones, then the labels file's. */
typedef struct nlab {
    char key[16][GRAPH_LKEY_LEN + 1]; /* label keys */
    char *val[16];              /* their values (owned) */
    int n;                      /* labels held */
    int oom;                    /* an allocation failed */
} nlab;

static void
nlab_set(nlab *l, const char *key, const char *value)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->key[i], key) == 0) {
            char *v = strdup(value);
            if (!v) {
                l->oom = 1;
                return;
            }
            free(l->val[i]);
            l->val[i] = v;
            return;
        }
    if (l->n >= 16)
        return;
    snprintf(l->key[l->n], sizeof(l->key[0]), "%s", key);
    if (!(l->val[l->n] = strdup(value))) {
        l->oom = 1;
        return;
    }
    l->n++;
}

static void
on_file_label(const char *key, const char *value, void *ctx)
{
    nlab_set(ctx, key, value);
}

static int
nlab_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Node pass state. */
typedef struct node_ctx {
    report *r;                  /* the report being built */
    rtable *inv;                /* the inventory table */
} node_ctx;

static int
on_node(void *ctx, const graph_node *n)
{
    node_ctx *c = ctx;
    report *r = c->r;
    if (r->n_hosts == r->cap_hosts) {
        size_t nc = r->cap_hosts ? 2 * r->cap_hosts : 1024;
        rhost *v = realloc(r->hosts, nc * sizeof(*v));
        if (!v) {
            r->oom = 1;
            return 1;
        }
        r->hosts = v;
        r->cap_hosts = nc;
    }
    rhost *h = &r->hosts[r->n_hosts++];
    memset(h, 0, sizeof(*h));
    h->addr = n->addr;
    addr_text(&n->addr, h->astr, sizeof(h->astr));
    h->internal = n->internal;
    h->special = (uint8_t)model_addr_special(n->addr.a, n->addr.family);
    h->seg = policy_segment_of(r->p, n->addr.a, n->addr.family);
    h->first_ns = n->first_ns;
    h->last_ns = n->last_ns;
    h->as_client = n->as_client;
    h->as_server = n->as_server;
    uint32_t mh = model_host_find(r->m, n->addr.a, n->addr.family);
    h->workload = h->internal && !h->special && mh != MODEL_NONE && model_host_get(r->m, mh)->alive;
    if (n->has_geo) {
        memcpy(h->country, n->geo.country, sizeof(h->country));
        h->country[2] = 0;
        h->asn = n->geo.asn;
        if (n->geo.org[0] && !(h->org = esc_utf8_dup(n->geo.org)))
            r->oom = 1;
    }

    /* the best name, and hints for unnamed hosts */
    int best = 0, bi = -1;
    for (int i = 0; i < n->n_ident && i < GRAPH_MAX_IDENTS; i++) {
        int k = name_rank(&n->ident[i]);
        if (k && (!best || k < best)) {
            best = k;
            bi = i;
        }
    }
    if (bi >= 0) {
        char v[GRAPH_VALUE_LEN];
        snprintf(v, sizeof(v), "%s", n->ident[bi].value);
        if (strcmp(n->ident[bi].kind, "krb_user") == 0) {
            char *at = strchr(v, '@');
            if (at)
                *at = 0;
        }
        h->named = 1;
        if (!(h->name = esc_utf8_dup(v)))
            r->oom = 1;
    } else if (n->n_ident) {
        /* what an unnamed host is known by: the first identity that is not a MAC */
        for (int i = 0; i < n->n_ident && i < GRAPH_MAX_IDENTS; i++)
            if (strcmp(n->ident[i].kind, "dhcp_mac") != 0) {
                char v[GRAPH_VALUE_LEN + GRAPH_KIND_LEN + 4];
                snprintf(v, sizeof(v), "%s: %s", n->ident[i].kind, n->ident[i].value);
                if (!(h->hint = esc_utf8_dup(v)))
                    r->oom = 1;
                break;
            }
    }

    /* labels: stored, then the labels file's on top */
    nlab l;
    memset(&l, 0, sizeof(l));
    for (int i = 0; i < n->n_label && i < GRAPH_MAX_LABELS; i++)
        nlab_set(&l, n->label[i].key, n->label[i].value);
    if (r->lab) {
        const char *names[GRAPH_MAX_IDENTS];
        int nn = 0;
        for (int i = 0; i < n->n_ident && i < GRAPH_MAX_IDENTS; i++)
            if (name_rank(&n->ident[i]))
                names[nn++] = n->ident[i].value;
        uint8_t a[16];
        memcpy(a, n->addr.a, 16);
        if (labels_match(r->lab, a, n->addr.family, names, nn, on_file_label, &l) < 0)
            r->oom = 1;
    }
    h->labelled = l.n > 0;
    for (int i = 0; i < l.n; i++)
        if (strcmp(l.key[i], "crown_jewel") == 0 && is_true(l.val[i]))
            h->crown = 1;
    if (l.oom)
        r->oom = 1;

    /* the inventory: internal hosts that are workloads or carry anything */
    if (h->internal && !h->special) {
        rtable *t = c->inv;
        char buf[GRAPH_VALUE_LEN + 64];
        rt_row(t);
        rt_str(t, h->astr);
        rt_str(t, h->name);
        rt_str(t, host_where(r, h));
        rt_list_begin(t);
        for (int i = 0; i < n->n_ident && i < GRAPH_MAX_IDENTS; i++) {
            snprintf(buf, sizeof(buf), "%s [%s via %s]", n->ident[i].value, n->ident[i].kind,
                     n->ident[i].source);
            rt_item(t, buf);
        }
        /* labels sorted by key */
        int order[16];
        for (int i = 0; i < l.n; i++)
            order[i] = i;
        for (int i = 1; i < l.n; i++)
            for (int k = i; k > 0 && nlab_cmp(l.key[order[k]], l.key[order[k - 1]]) < 0; k--) {
                int x = order[k];
                order[k] = order[k - 1];
                order[k - 1] = x;
            }
        rt_list_begin(t);
        for (int i = 0; i < l.n; i++) {
            snprintf(buf, sizeof(buf), "%s=%s", l.key[order[i]], l.val[order[i]]);
            rt_item(t, buf);
        }
        rt_list_begin(t);
        for (int i = 0; i < n->n_mac && i < GRAPH_MAX_MACS; i++) {
            const uint8_t *m = n->mac[i].mac;
            snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
            rt_item(t, buf);
        }
        rt_time(t, n->first_ns);
        rt_time(t, n->last_ns);
        rt_int(t, n->as_client.flows);
        rt_int(t, n->as_server.flows);
        rt_bytes(t, n->as_client.bytes + n->as_server.bytes);
    }
    for (int i = 0; i < l.n; i++)
        free(l.val[i]);
    return r->oom ? 1 : 0;
}

static int
on_capture(void *ctx, const graph_capture *gc)
{
    report *r = ctx;
    if (r->n_caps == r->cap_caps) {
        size_t nc = r->cap_caps ? 2 * r->cap_caps : 16;
        graph_capture *v = realloc(r->caps, nc * sizeof(*v));
        if (!v) {
            r->oom = 1;
            return 1;
        }
        r->caps = v;
        r->cap_caps = nc;
    }
    r->caps[r->n_caps++] = *gc;
    return 0;
}

/* ---- the rule index --------------------------------------------------------------- */

/*
 * policy_allows() tries every rule in order; with tens of thousands of
 * rules and millions of edges that is too slow.  The rules a connection
 * c -> s can match are: those from c's segment to s's segment, those from
 * c's segment to a destination that is not a segment (internet, any,
 * cidr), and the few whose source is not a segment.  The rules of a
 * source segment are kept sorted by (destination segment, rule), the
 * non-segment destinations first, so both runs are found by binary
 * search; rule_first() merges the three runs in rule order and applies
 * policy_allows()' tests to each (e2e_report.sh checks the two agree).
 */

/* Destination key of a rule: its destination segment, or -1. */
static long
dst_key(const policy_rule *ru)
{
    return ru->dst.kind == POLICY_REF_SEG ? ru->dst.seg : -1;
}

static int
by_src_cmp(const void *pa, const void *pb, void *ctx)
{
    const policy *p = ctx;
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    long ka = dst_key(policy_rule_get(p, (int)a)), kb = dst_key(policy_rule_get(p, (int)b));
    if (ka != kb)
        return ka < kb ? -1 : 1;
    return a < b ? -1 : a > b;
}

static int
index_rules(report *r)
{
    int nseg = policy_n_segments(r->p), nrule = policy_n_rules(r->p);
    r->by_src_off = calloc((size_t)nseg + 2, sizeof(uint32_t));
    r->by_src = malloc(((size_t)nrule + 1) * sizeof(uint32_t));
    r->generic = malloc(((size_t)nrule + 1) * sizeof(uint32_t));
    uint32_t *fill = calloc((size_t)nseg + 1, sizeof(uint32_t));
    if (!r->by_src_off || !r->by_src || !r->generic || !fill) {
        free(fill);
        return -1;
    }
    for (int i = 0; i < nrule; i++) {
        const policy_rule *ru = policy_rule_get(r->p, i);
        if (ru->src.kind == POLICY_REF_SEG)
            r->by_src_off[ru->src.seg + 1]++;
        else
            r->generic[r->n_generic++] = (uint32_t)i;
    }
    for (int q = 0; q < nseg; q++)
        r->by_src_off[q + 1] += r->by_src_off[q];
    for (int i = 0; i < nrule; i++) {
        const policy_rule *ru = policy_rule_get(r->p, i);
        if (ru->src.kind == POLICY_REF_SEG)
            r->by_src[r->by_src_off[ru->src.seg] + fill[ru->src.seg]++] = (uint32_t)i;
    }
    free(fill);
    for (int q = 0; q < nseg; q++)
        qsort_r(r->by_src + r->by_src_off[q], r->by_src_off[q + 1] - r->by_src_off[q], sizeof(uint32_t),
                by_src_cmp, r->p);
    return 0;
}

/* Does rule ru admit a connection c -> s (policy_allows' tests for one rule)? */
static int
rule_admits(const policy_rule *ru, const rhost *c, const rhost *s, int proto, int port)
{
    if (proto == 58)
        proto = POLICY_ICMP;
    if (ru->proto != POLICY_ANY && ru->proto != proto)
        return 0;
    if (!ref_matches(&ru->src, c) || !ref_matches(&ru->dst, s))
        return 0;
    if (proto == POLICY_ICMP || ru->n_ports == 0)
        return 1;
    for (int k = 0; k < ru->n_ports; k++)
        if (port >= ru->ports[k][0] && port <= ru->ports[k][1])
            return 1;
    return 0;
}

/* The run of source segment q's rules whose destination key is key: [*lo, *hi). */
static void
dst_run(const report *r, int q, long key, uint32_t *lo, uint32_t *hi)
{
    uint32_t a = r->by_src_off[q], b = r->by_src_off[q + 1];
    while (a < b) {                 /* first with key >= wanted */
        uint32_t m = a + (b - a) / 2;
        if (dst_key(policy_rule_get(r->p, (int)r->by_src[m])) < key)
            a = m + 1;
        else
            b = m;
    }
    *lo = a;
    b = r->by_src_off[q + 1];
    while (a < b) {                 /* first with key > wanted */
        uint32_t m = a + (b - a) / 2;
        if (dst_key(policy_rule_get(r->p, (int)r->by_src[m])) <= key)
            a = m + 1;
        else
            b = m;
    }
    *hi = a;
}

/* The first rule admitting c -> s, as policy_allows() answers it; -1 if none. */
static int
rule_first(const report *r, const rhost *c, const rhost *s, int proto, int port)
{
    const uint32_t *run[3];
    uint32_t n[3] = { 0, 0, 0 }, at[3] = { 0, 0, 0 };
    run[0] = r->generic;
    n[0] = r->n_generic;
    run[1] = run[2] = r->by_src;
    if (c->seg >= 0) {
        uint32_t lo, hi;
        dst_run(r, c->seg, -1, &lo, &hi);
        run[1] = r->by_src + lo;
        n[1] = hi - lo;
        if (s->seg >= 0) {
            dst_run(r, c->seg, s->seg, &lo, &hi);
            run[2] = r->by_src + lo;
            n[2] = hi - lo;
        }
    }
    for (;;) {
        int best = -1;
        for (int k = 0; k < 3; k++)
            if (at[k] < n[k] && (best < 0 || run[k][at[k]] < run[best][at[best]]))
                best = k;
        if (best < 0)
            return -1;
        uint32_t i = run[best][at[best]++];
        if (rule_admits(policy_rule_get(r->p, (int)i), c, s, proto, port))
            return (int)i;
    }
}

/* ---- step 3: edges ---------------------------------------------------------------- */

static int
on_edge(void *ctx, const graph_edge *e)
{
    report *r = ctx;
    uint32_t ci = host_find(r, &e->k.client), si = host_find(r, &e->k.server);
    if (ci == NO_HOST || si == NO_HOST)
        return 0;                   /* a node that did not decode: counted as corrupt already */
    rhost *c = &r->hosts[ci], *s = &r->hosts[si];
    uint64_t bytes = e->bytes[0] + e->bytes[1];
    int rule = rule_first(r, c, s, e->k.proto, e->k.port);
    if (rule >= 0) {
        racc *a = &r->racc[rule];
        a->flows += e->flows;
        a->pkts += e->pkts[0] + e->pkts[1];
        a->bytes += bytes;
        if (e->first_ns && (!a->first_ns || e->first_ns < a->first_ns))
            a->first_ns = e->first_ns;
        if (e->last_ns > a->last_ns)
            a->last_ns = e->last_ns;
        /* edges come sorted by client then server: a pair's edges are contiguous */
        if (!a->pairs || a->lc != ci || a->ls != si) {
            a->pairs++;
            a->lc = ci;
            a->ls = si;
            if (a->n_ex < 2) {
                a->ex[a->n_ex][0] = ci;
                a->ex[a->n_ex][1] = si;
                a->n_ex++;
            }
        }
        r->sum.flows_allowed += e->flows;
    } else {
        r->sum.flows_denied += e->flows;
        r->sum.edges_denied++;
    }

    rflow f;
    memset(&f, 0, sizeof(f));
    f.c = ci;
    f.s = si;
    f.proto = e->k.proto;
    f.port = e->k.port;
    snprintf(f.app, sizeof(f.app), "%s", e->k.app);
    f.flows = e->flows;
    f.bytes = bytes;
    f.last_ns = e->last_ns;
    f.rule = rule;
    if (rule < 0 && flows_push(&r->blocked, &f) < 0) {
        r->oom = 1;
        return 1;
    }

    risk_edge re = { .proto = e->k.proto, .port = e->k.port, .app = e->k.app,
                     .client_internal = c->internal, .server_internal = s->internal,
                     .bytes_s2c = e->bytes[1], .ndpi_risk = e->risk };
    int rk[RISK_MAX_PER_EDGE];
    int nr = risk_classify(&re, rk);
    if (nr > 0) {
        f.n_risk = (uint8_t)nr;
        f.ndpi_risk = e->risk;
        for (int i = 0; i < nr; i++) {
            f.risk[i] = (uint8_t)rk[i];
            risk_acc *ra = &r->risk[rk[i]];
            ra->edges++;
            ra->flows += e->flows;
            ra->bytes += bytes;
            if (rule >= 0)
                ra->allowed++;
        }
        f.sev = risk_get(rk[0])->sev;
        r->sum.risky[f.sev]++;
        if (rule >= 0)
            r->sum.risky_allowed[f.sev]++;
        if (f.sev == RISK_HIGH)
            c->high_risk = s->high_risk = 1;
        if (flows_push(&r->risky, &f) < 0) {
            r->oom = 1;
            return 1;
        }
    }

    /* external peers */
    if (c->internal && !s->internal) {
        s->out_flows += e->flows;
        s->ext_bytes += bytes;
    } else if (!c->internal && s->internal) {
        c->in_flows += e->flows;
        c->ext_bytes += bytes;
    }
    /* names of servers seen on edges (SNI, Host), not the names asked of a resolver */
    int dns = e->k.port == 53 || e->k.port == 5353 || e->k.port == 5355 || strcmp(e->k.app, "DNS") == 0;
    if (!dns && !s->name && !s->edge_name && e->n_name && e->name[0][0] &&
        !(s->edge_name = esc_utf8_dup(e->name[0]))) {
        r->oom = 1;
        return 1;
    }
    /* services offered by unnamed internal hosts */
    if (s->internal && !s->named && s->n_svc < 4 && e->bytes[1]) {
        char sv[40], tmp[24];
        snprintf(sv, sizeof(sv), "%s %s", svc_text(e->k.proto, e->k.port, tmp, sizeof(tmp)),
                 strcmp(e->k.app, "Unknown") ? e->k.app : "");
        size_t L = strlen(sv);
        while (L && sv[L - 1] == ' ')
            sv[--L] = 0;
        int dup = 0;
        for (int i = 0; i < s->n_svc; i++)
            dup |= strcmp(s->svc[i], sv) == 0;
        if (!dup)
            snprintf(s->svc[s->n_svc++], sizeof(s->svc[0]), "%s", sv);
    }
    return 0;
}

/* ---- step 4: blast radius ------------------------------------------------------------- */

/*
 * A workload and the rules whose source matches it: every rule of its
 * segment (a segment source matches exactly its members) plus the
 * matching rules whose source is not a segment.
 */
typedef struct wsig {
    uint32_t host;              /* rhost index */
    int seg;                    /* its segment, -1 if none */
    uint32_t n;                 /* matching non-segment-source rules in rules[] */
    uint32_t *rules;            /* their indices, ascending */
} wsig;

static int
wsig_cmp(const void *pa, const void *pb)
{
    const wsig *a = pa, *b = pb;
    if (a->seg != b->seg)
        return a->seg < b->seg ? -1 : 1;
    uint32_t n = a->n < b->n ? a->n : b->n;
    for (uint32_t i = 0; i < n; i++)
        if (a->rules[i] != b->rules[i])
            return a->rules[i] < b->rules[i] ? -1 : 1;
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    return a->host < b->host ? -1 : a->host > b->host;
}

static int
wsig_same(const wsig *a, const wsig *b)
{
    return a->seg == b->seg && a->n == b->n && (a->n == 0 || memcmp(a->rules, b->rules, a->n * sizeof(uint32_t)) == 0);
}

static int
compute_blast(report *r)
{
    size_t nw = 0;
    for (size_t i = 0; i < r->n_hosts; i++)
        nw += r->hosts[i].workload;
    r->sum.workloads = (uint32_t)nw;
    int nseg = policy_n_segments(r->p), nrule = policy_n_rules(r->p);
    r->seg_blast = calloc((size_t)nseg + 1, sizeof(double));
    r->seg_workloads = calloc((size_t)nseg + 1, sizeof(uint32_t));
    uint32_t *wl = malloc((nw + 1) * sizeof(uint32_t));     /* workload -> host */
    uint32_t *mark = calloc(nw + 1, sizeof(uint32_t));      /* generation per workload */
    uint32_t *segoff = calloc((size_t)nseg + 2, sizeof(uint32_t)); /* workloads by segment */
    uint32_t *byseg = malloc((nw + 1) * sizeof(uint32_t));
    uint32_t *widx = malloc((r->n_hosts + 1) * sizeof(uint32_t)); /* host -> workload */
    wsig *sig = calloc(nw + 1, sizeof(wsig));
    uint32_t *mmark = calloc((size_t)model_n_hosts(r->m) + 1, sizeof(uint32_t));
    int ok = r->seg_blast && r->seg_workloads && wl && mark && segoff && byseg && widx && sig && mmark;
    if (!ok)
        goto out;
    size_t k = 0;
    for (size_t i = 0; i < r->n_hosts; i++) {
        widx[i] = NO_HOST;
        if (r->hosts[i].workload) {
            widx[i] = (uint32_t)k;
            wl[k++] = (uint32_t)i;
            if (r->hosts[i].seg >= 0)
                segoff[r->hosts[i].seg + 1]++;
        }
    }
    for (int q = 0; q < nseg; q++)
        segoff[q + 1] += segoff[q];
    {
        uint32_t *fill = calloc((size_t)nseg + 1, sizeof(uint32_t));
        if (!fill) {
            ok = 0;
            goto out;
        }
        for (size_t w = 0; w < nw; w++) {
            int q = r->hosts[wl[w]].seg;
            if (q >= 0)
                byseg[segoff[q] + fill[q]++] = (uint32_t)w;
        }
        free(fill);
    }

    /* observed: distinct workloads used as servers */
    uint32_t gen = 0;
    for (size_t w = 0; w < nw; w++) {
        rhost *h = &r->hosts[wl[w]];
        uint32_t mh = model_host_find(r->m, h->addr.a, h->addr.family), cnt;
        if (mh == MODEL_NONE)
            continue;
        const uint32_t *out = model_out(r->m, mh, &cnt);
        gen++;
        for (uint32_t j = 0; j < cnt; j++) {
            uint32_t sv = model_edge_get(r->m, out[j])->server;
            const model_host *x = model_host_get(r->m, sv);
            if (sv == mh || mmark[sv] == gen || !x->internal || !x->alive || model_addr_special(x->addr, x->ipv))
                continue;
            mmark[sv] = gen;
            h->observed++;
        }
    }

    /* policy: the rules matching each workload as a source */
    (void)nrule;
    for (size_t w = 0; w < nw; w++) {
        const rhost *h = &r->hosts[wl[w]];
        sig[w].host = wl[w];
        sig[w].seg = h->seg;
        for (uint32_t k = 0; k < r->n_generic; k++)
            if (ref_matches(&policy_rule_get(r->p, (int)r->generic[k])->src, h)) {
                uint32_t *v = realloc(sig[w].rules, (sig[w].n + 1) * sizeof(uint32_t));
                if (!v) {
                    ok = 0;
                    goto out;
                }
                sig[w].rules = v;
                v[sig[w].n++] = r->generic[k];
            }
    }
    qsort(sig, nw, sizeof(wsig), wsig_cmp);
    gen = 0;
    for (size_t w = 0; w < nw;) {
        size_t end = w + 1;
        while (end < nw && wsig_same(&sig[end], &sig[w]))
            end++;
        /* the workloads reachable by this rule list: the segment's rules, then the others */
        gen++;
        uint32_t reach = 0;
        uint32_t g0 = sig[w].seg >= 0 ? r->by_src_off[sig[w].seg] : 0;
        uint32_t ng = sig[w].seg >= 0 ? r->by_src_off[sig[w].seg + 1] - g0 : 0;
        for (uint32_t i = 0; i < ng + sig[w].n && reach < nw; i++) {
            uint32_t ri = i < ng ? r->by_src[g0 + i] : sig[w].rules[i - ng];
            const policy_ref *d = &policy_rule_get(r->p, (int)ri)->dst;
            if (d->kind == POLICY_REF_SEG) {
                for (uint32_t j = segoff[d->seg]; j < segoff[d->seg + 1]; j++)
                    if (mark[byseg[j]] != gen) {
                        mark[byseg[j]] = gen;
                        reach++;
                    }
            } else {
                for (size_t j = 0; j < nw; j++)
                    if (mark[j] != gen && ref_matches(d, &r->hosts[wl[j]])) {
                        mark[j] = gen;
                        reach++;
                    }
            }
        }
        for (size_t i = w; i < end; i++) {
            uint32_t self = widx[sig[i].host];
            r->hosts[sig[i].host].reach = reach - (mark[self] == gen ? 1 : 0);
        }
        w = end;
    }

    /* means */
    double flat = nw ? (double)(nw - 1) : 0, so = 0, sp = 0;
    for (size_t w = 0; w < nw; w++) {
        rhost *h = &r->hosts[wl[w]];
        so += h->observed;
        sp += h->reach;
        if (h->seg >= 0) {
            r->seg_blast[h->seg] += h->reach;
            r->seg_workloads[h->seg]++;
        }
    }
    for (int q = 0; q < nseg; q++)
        if (r->seg_workloads[q])
            r->seg_blast[q] /= r->seg_workloads[q];
    r->sum.blast_flat = flat;
    r->sum.blast_observed = nw ? so / (double)nw : 0;
    r->sum.blast_policy = nw ? sp / (double)nw : 0;
    r->sum.blast_reduction = flat > 0 ? 1 - r->sum.blast_policy / flat : 0;
out:
    for (size_t w = 0; sig && w < nw; w++)
        free(sig[w].rules);
    free(sig);
    free(wl);
    free(mark);
    free(segoff);
    free(byseg);
    free(widx);
    free(mmark);
    if (!ok)
        r->oom = 1;
    return ok ? 0 : -1;
}

/* ---- step 5: the map ------------------------------------------------------------------- */

/* A distinct service text and how often it occurs, for hub annotations. */
typedef struct svcount {
    const char *s;              /* the service text */
    uint32_t n;                 /* rules with it */
} svcount;

static int
svcount_cmp(const void *pa, const void *pb)
{
    const svcount *a = pa, *b = pb;
    if (a->n != b->n)
        return a->n > b->n ? -1 : 1;
    return strcmp(a->s, b->s);
}

/* "udp/123 NTP, tcp/22 SSH +3 more" from rule services (distinct, most frequent first). */
static const char *
join_services(report *r, const char **svc, size_t n, size_t show)
{
    svcount *v = calloc(n + 1, sizeof(*v));
    size_t nv = 0;
    if (!v) {
        r->oom = 1;
        return "";
    }
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < nv && strcmp(v[j].s, svc[i]) != 0)
            j++;
        if (j == nv)
            v[nv++].s = svc[i];
        v[j].n++;
    }
    qsort(v, nv, sizeof(*v), svcount_cmp);
    char buf[512];
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < nv && i < show && o < sizeof(buf); i++)
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? ", " : "", v[i].s);
    if (nv > show && o < sizeof(buf))
        snprintf(buf + o, sizeof(buf) - o, " +%zu more", nv - show);
    free(v);
    return pool_str(r, buf);
}

/* A drawn rule and the (from, to) pair of its edge. */
typedef struct pair_rule {
    uint64_t key;               /* from * (nodes + 1) + to */
    uint32_t rule;              /* rule index */
} pair_rule;

static int
pair_rule_cmp(const void *pa, const void *pb)
{
    const pair_rule *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return a->rule < b->rule ? -1 : a->rule > b->rule;
}

static int
build_map(report *r)
{
    int nseg = policy_n_segments(r->p), nrule = policy_n_rules(r->p);
    /* which segments are drawn: all, or the REPORT_MAP_MAX with most workloads and rules */
    int *drawn = calloc((size_t)nseg + 1, sizeof(int));      /* segment -> node index, or -1 */
    uint32_t *deg = calloc((size_t)nseg + 1, sizeof(uint32_t));
    int ok = drawn && deg;
    if (!ok)
        goto out;
    for (int i = 0; i < nrule; i++) {
        const policy_rule *ru = policy_rule_get(r->p, i);
        if (ru->src.kind == POLICY_REF_SEG) deg[ru->src.seg]++;
        if (ru->dst.kind == POLICY_REF_SEG) deg[ru->dst.seg]++;
    }
    int limit = nseg;
    if (nseg > REPORT_MAP_MAX) {
        /* rank by workloads + rules, keep the top REPORT_MAP_MAX (ties: document order) */
        int *ord = malloc((size_t)nseg * sizeof(int));
        if (!ord) {
            ok = 0;
            goto out;
        }
        for (int q = 0; q < nseg; q++)
            ord[q] = q;
        for (int a = 1; a < nseg; a++)
            for (int b = a; b > 0; b--) {
                uint64_t x = (uint64_t)r->seg_workloads[ord[b]] + deg[ord[b]];
                uint64_t y = (uint64_t)r->seg_workloads[ord[b - 1]] + deg[ord[b - 1]];
                if (x <= y)
                    break;
                int t = ord[b];
                ord[b] = ord[b - 1];
                ord[b - 1] = t;
            }
        for (int q = 0; q < nseg; q++)
            drawn[q] = -1;
        for (int q = 0; q < REPORT_MAP_MAX; q++)
            drawn[ord[q]] = 1;
        free(ord);
        limit = REPORT_MAP_MAX;
        r->map.omitted_segments = (uint32_t)(nseg - REPORT_MAP_MAX);
    } else {
        for (int q = 0; q < nseg; q++)
            drawn[q] = 1;
    }
    /* nodes: drawn segments in document order, then internet, any, cidr refs as they occur */
    size_t maxn = (size_t)limit + 2 + (size_t)nrule * 2;
    r->mnodes = calloc(maxn + 1, sizeof(report_map_node));
    r->medges = calloc((size_t)nrule + 1, sizeof(report_map_edge));
    if (!r->mnodes || !r->medges) {
        ok = 0;
        goto out;
    }
    uint32_t nn = 0;
    for (int q = 0; q < nseg; q++) {
        if (drawn[q] < 0)
            continue;
        drawn[q] = (int)nn;
        report_map_node *x = &r->mnodes[nn++];
        x->id = pool_str(r, policy_segment_id(r->p, q));
        x->name = pool_str(r, policy_segment_name(r->p, q));
        x->hosts = r->seg_workloads[q];
        x->blast_policy = r->seg_blast[q];
        json_object *js = jidx(jarr(r->doc, "segments"), (size_t)q);
        json_object *fl = jarr(js, "flags");
        for (size_t i = 0; fl && i < json_object_array_length(fl); i++) {
            const char *f = json_object_get_string(json_object_array_get_idx(fl, i));
            if (!f) continue;
            if (strcmp(f, "user-devices") == 0) x->flags |= RMAP_CLIENTS;
            if (strcmp(f, "infrastructure") == 0) x->flags |= RMAP_INFRA;
            if (strcmp(f, "scanner") == 0) x->flags |= RMAP_SCANNER;
        }
    }
    for (size_t i = 0; i < r->n_hosts; i++) {
        rhost *h = &r->hosts[i];
        if (h->seg < 0 || drawn[h->seg] < 0)
            continue;
        report_map_node *x = &r->mnodes[drawn[h->seg]];
        if (h->crown)
            x->flags |= RMAP_CROWN;
        if (h->high_risk)
            x->flags |= RMAP_RISKY;
        if (h->workload && x->n_examples < 3) {
            /* the host part of a DNS name is enough to recognise a member */
            char shortname[64];
            snprintf(shortname, sizeof(shortname), "%s", h->name ? h->name : h->astr);
            char *dot = h->name ? strchr(shortname, '.') : NULL;
            if (dot && dot != shortname)
                *dot = 0;
            x->examples[x->n_examples++] = pool_str(r, shortname);
        }
    }
    /* node of a reference */
    int inet = -1, any = -1;
    uint32_t *from = malloc(((size_t)nrule + 1) * sizeof(uint32_t));
    uint32_t *to = malloc(((size_t)nrule + 1) * sizeof(uint32_t));
    if (!from || !to) {
        free(from);
        free(to);
        ok = 0;
        goto out;
    }
    for (int i = 0; i < nrule; i++) {
        const policy_rule *ru = policy_rule_get(r->p, i);
        for (int side = 0; side < 2; side++) {
            const policy_ref *ref = side ? &ru->dst : &ru->src;
            uint32_t node = NO_HOST;
            if (ref->kind == POLICY_REF_SEG) {
                if (drawn[ref->seg] >= 0)
                    node = (uint32_t)drawn[ref->seg];
            } else if (ref->kind == POLICY_REF_INTERNET || ref->kind == POLICY_REF_ANY) {
                int *slot = ref->kind == POLICY_REF_INTERNET ? &inet : &any;
                if (*slot < 0) {
                    *slot = (int)nn;
                    report_map_node *x = &r->mnodes[nn++];
                    x->id = ref->kind == POLICY_REF_INTERNET ? "internet" : "any";
                    x->name = ref->kind == POLICY_REF_INTERNET ? "the Internet" : "any address";
                    x->flags = RMAP_INTERNET;
                }
                node = (uint32_t)*slot;
            } else {
                char b[80];
                ref_text(r, ref, b, sizeof(b));
                uint32_t j;
                for (j = 0; j < nn; j++)
                    if (strcmp(r->mnodes[j].id, b) == 0)
                        break;
                if (j == nn) {
                    report_map_node *x = &r->mnodes[nn++];
                    x->id = pool_str(r, b);
                    x->name = "address block";
                    x->flags = RMAP_INTERNET;
                }
                node = j;
            }
            (side ? to : from)[i] = node;
        }
    }
    /* exposure */
    for (int i = 0; i < nrule; i++) {
        const policy_rule *ru = policy_rule_get(r->p, i);
        if ((ru->src.kind == POLICY_REF_INTERNET || ru->src.kind == POLICY_REF_ANY) && to[i] != NO_HOST &&
            !(r->mnodes[to[i]].flags & RMAP_INTERNET))
            r->mnodes[to[i]].flags |= RMAP_EXPOSED;
    }
    /*
     * edges: rules folded per (from, to).  The drawn rules are sorted by
     * (pair, rule): each pair's rules are then contiguous (grp_start,
     * grp_n), and the edges are ordered by their first rule.
     */
    uint32_t ne = 0, nd = 0;
    pair_rule *pv = malloc(((size_t)nrule + 1) * sizeof(pair_rule));
    uint32_t *grp_start = malloc(((size_t)nrule + 1) * sizeof(uint32_t));
    uint32_t *grp_n = malloc(((size_t)nrule + 1) * sizeof(uint32_t));
    const char **svcs = calloc((size_t)nrule + 1, sizeof(char *));
    const char **v = calloc((size_t)nrule + 1, sizeof(char *));
    uint8_t *folded = calloc((size_t)nrule + 1, 1);
    uint32_t *cnt = calloc(nn + 1, sizeof(uint32_t));
    report_map_edge *ev = calloc((size_t)nrule + 1, sizeof(report_map_edge));
    if (!pv || !grp_start || !grp_n || !svcs || !v || !folded || !cnt || !ev) {
        ok = 0;
        goto edges_out;
    }
    for (int i = 0; i < nrule; i++)
        if (from[i] != NO_HOST && to[i] != NO_HOST && from[i] != to[i]) {   /* not inside a segment */
            pv[nd].key = (uint64_t)from[i] * (nn + 1) + to[i];
            pv[nd].rule = (uint32_t)i;
            nd++;
        }
    qsort(pv, nd, sizeof(pair_rule), pair_rule_cmp);
    for (uint32_t k = 0; k < nd; k++) {
        if (!k || pv[k].key != pv[k - 1].key) {
            grp_start[ne] = k;
            grp_n[ne] = 0;
            ne++;
        }
        grp_n[ne - 1]++;
    }
    for (uint32_t g = 0; g < ne; g++) {
        report_map_edge *x = &ev[g];
        uint32_t first = pv[grp_start[g]].rule;
        x->from = from[first];
        x->to = to[first];
        size_t nv = 0;
        for (uint32_t k = grp_start[g]; k < grp_start[g] + grp_n[g]; k++) {
            uint32_t i = pv[k].rule;
            const policy_rule *ru = policy_rule_get(r->p, (int)i);
            char b[160];
            svcs[i] = v[nv++] = pool_str(r, rule_svc(ru, b, sizeof(b)));
            x->n_rules++;
            x->flows += r->racc[i].flows;
            int lat = ru->proto == POLICY_ANY || ((ru->proto == POLICY_TCP || ru->proto == POLICY_UDP) &&
                                                 ru->n_ports == 0);
            for (int q = 0; q < ru->n_ports && !lat; q++)
                lat = rules_lateral(ru->proto, ru->ports[q][0], ru->ports[q][1]);
            x->lateral |= lat;
            /* the worst risk of the rule's services, judged like observed connections */
            risk_edge re = { .proto = (uint8_t)(ru->proto == POLICY_ANY ? 6 : ru->proto), .app = ru->app,
                             .client_internal = !(r->mnodes[x->from].flags & RMAP_INTERNET),
                             .server_internal = !(r->mnodes[x->to].flags & RMAP_INTERNET), .bytes_s2c = 1 };
            for (int q = 0; q < (ru->n_ports ? ru->n_ports : 1); q++) {
                int rk[RISK_MAX_PER_EDGE];
                re.port = ru->n_ports ? ru->ports[q][0] : 0;
                if (risk_classify(&re, rk) > 0 && risk_get(rk[0])->sev > x->risk)
                    x->risk = risk_get(rk[0])->sev;
            }
        }
        x->services = join_services(r, v, nv, 2);
    }
    /* hubs: first nodes used by many (their in-edges fold), then nodes reaching many */
    uint32_t H = (nn + 3) / 4;
    if (H < 6)
        H = 6;
    r->map.hub_threshold = H;
    for (int pass = 0; pass < 2; pass++) {
        memset(cnt, 0, (nn + 1) * sizeof(uint32_t));
        for (uint32_t g = 0; g < ne; g++) {
            const report_map_edge *x = &ev[g];
            if (folded[g] || ((r->mnodes[x->from].flags | r->mnodes[x->to].flags) & RMAP_INTERNET))
                continue;
            cnt[pass == 0 ? x->to : x->from]++;
        }
        for (uint32_t q = 0; q < nn; q++) {
            if (cnt[q] < H)
                continue;
            size_t nv = 0;
            int lat = 0;
            for (uint32_t g = 0; g < ne; g++) {
                const report_map_edge *x = &ev[g];
                if (folded[g] || (pass == 0 ? x->to : x->from) != q ||
                    ((r->mnodes[x->from].flags | r->mnodes[x->to].flags) & RMAP_INTERNET))
                    continue;
                folded[g] = 1;
                lat |= x->lateral;
                for (uint32_t k = grp_start[g]; k < grp_start[g] + grp_n[g]; k++)
                    v[nv++] = svcs[pv[k].rule];
            }
            if (pass == 0) {
                r->mnodes[q].hub_in = cnt[q];
                r->mnodes[q].hub_in_services = join_services(r, v, nv, 2);
            } else {
                r->mnodes[q].hub_out = cnt[q];
                r->mnodes[q].hub_out_services = join_services(r, v, nv, 2);
                r->mnodes[q].hub_out_lateral = lat;
            }
        }
    }
    /* keep the edges that were not folded, in order of their first rule */
    uint32_t kept = 0;
    for (uint32_t g = 0; g < ne; g++)
        if (!folded[g]) {
            grp_n[kept] = pv[grp_start[g]].rule;  /* first rule, the sort key */
            r->medges[kept++] = ev[g];
        }
    for (uint32_t a = 1; a < kept; a++)         /* insertion sort by first rule: few edges */
        for (uint32_t b = a; b > 0 && grp_n[b] < grp_n[b - 1]; b--) {
            report_map_edge t = r->medges[b];
            r->medges[b] = r->medges[b - 1];
            r->medges[b - 1] = t;
            uint32_t u = grp_n[b];
            grp_n[b] = grp_n[b - 1];
            grp_n[b - 1] = u;
        }
edges_out:
    free(pv);
    free(grp_start);
    free(grp_n);
    free(svcs);
    free(v);
    free(folded);
    free(cnt);
    free(ev);
    free(from);
    free(to);
    if (!ok)
        goto out;
    r->map.nodes = r->mnodes;
    r->map.n_nodes = nn;
    r->map.edges = r->medges;
    r->map.n_edges = kept;
out:
    free(drawn);
    free(deg);
    if (!ok)
        r->oom = 1;
    return ok ? 0 : -1;
}

/* ---- step 6: tables -------------------------------------------------------------------- */

/* Most flows first, then by hosts, protocol, port and application. */
static int
rflow_blocked_cmp(const void *pa, const void *pb, void *ctx)
{
    const rflow *a = pa, *b = pb;
    const report *r = ctx;
    if (a->flows != b->flows)
        return a->flows > b->flows ? -1 : 1;
    int c = graph_addr_cmp(&r->hosts[a->c].addr, &r->hosts[b->c].addr);
    if (c)
        return c;
    c = graph_addr_cmp(&r->hosts[a->s].addr, &r->hosts[b->s].addr);
    if (c)
        return c;
    if (a->proto != b->proto)
        return a->proto < b->proto ? -1 : 1;
    if (a->port != b->port)
        return a->port < b->port ? -1 : 1;
    return strcmp(a->app, b->app);
}

static int
rflow_risk_cmp(const void *pa, const void *pb, void *ctx)
{
    const rflow *a = pa, *b = pb;
    if (a->sev != b->sev)
        return a->sev > b->sev ? -1 : 1;
    if ((a->rule >= 0) != (b->rule >= 0))
        return a->rule >= 0 ? -1 : 1;           /* still allowed first: those need action */
    if (a->risk[0] != b->risk[0])
        return a->risk[0] < b->risk[0] ? -1 : 1;
    return rflow_blocked_cmp(pa, pb, ctx);
}

static void
note_more(rtable *t, uint64_t dropped, const char *what)
{
    if (!dropped)
        return;
    char b[160];
    snprintf(b, sizeof(b), "%" PRIu64 " more %s not kept (the report keeps the first %zu).", dropped,
             what, rt_nrows(t));
    rt_set_note(t, b);
}

static const char *
app_or_dash(const char *app)
{
    return app && *app && strcmp(app, "Unknown") ? app : "";
}

static void
findings_add(rtable *t, const char *level, const char *text)
{
    rt_row(t);
    rt_str(t, level);
    rt_str(t, text);
}

static void
table_findings(report *r, rtable *t)
{
    report_summary *s = &r->sum;
    char b[1024], n1[32], n2[32];
    if (s->workloads) {
        snprintf(b, sizeof(b), "The policy (%u segments, %u allow rules, default deny) cuts what one "
                 "compromised workload can reach from %.0f to %.1f workloads on average (-%.0f%%).",
                 s->segments, s->rules, s->blast_flat, s->blast_policy, 100 * s->blast_reduction);
        findings_add(t, s->blast_reduction >= 0.5 ? "good" : "medium", b);
    }
    uint64_t tot = s->flows_allowed + s->flows_denied;
    if (tot) {
        if (s->flows_denied)
            snprintf(b, sizeof(b), "It admits %.2f%% of the observed flows; %s flows on %s "
                     "client-server-service triples would be blocked (see Blocked traffic).",
                     100.0 * (double)s->flows_allowed / (double)tot, rt_fmt_int(s->flows_denied, n1, sizeof(n1)),
                     rt_fmt_int(s->edges_denied, n2, sizeof(n2)));
        else
            snprintf(b, sizeof(b), "It admits every observed flow (%s).", rt_fmt_int(tot, n1, sizeof(n1)));
        findings_add(t, s->flows_denied ? "medium" : "good", b);
    }
    /* risks, worst first */
    for (int sev = RISK_HIGH; sev >= RISK_MEDIUM; sev--) {
        size_t o = 0;
        int any = 0;
        b[0] = 0;
        for (int i = 0; i < risk_count() && o < sizeof(b); i++) {
            const risk_def *d = risk_get(i);
            if (d->sev != sev || !r->risk[i].edges)
                continue;
            o += (size_t)snprintf(b + o, sizeof(b) - o, "%s%s: %u connection%s (%u still allowed)",
                                  any ? "; " : "", d->title, r->risk[i].edges,
                                  r->risk[i].edges == 1 ? "" : "s", r->risk[i].allowed);
            any = 1;
        }
        if (any) {
            char full[1100];
            snprintf(full, sizeof(full), "%s-risk flows: %s.", sev == RISK_HIGH ? "High" : "Medium", b);
            findings_add(t, sev == RISK_HIGH ? "high" : "medium", full);
        }
    }
    if (!s->risky[RISK_HIGH] && !s->risky[RISK_MEDIUM])
        findings_add(t, "good", "No high- or medium-risk flows were seen (judged from nDPI's flow risks, "
                     "application names and ports).");
    /* the widest reach under the policy */
    const report_map_node *worst = NULL;
    for (uint32_t i = 0; i < r->map.n_nodes; i++) {
        const report_map_node *x = &r->map.nodes[i];
        if (!(x->flags & RMAP_INTERNET) && x->hosts && (!worst || x->blast_policy > worst->blast_policy))
            worst = x;
    }
    if (worst && worst->blast_policy > 0) {
        snprintf(b, sizeof(b), "Widest reach left: the %u workload%s of %s can each open connections "
                 "to %.0f workloads%s%s.", worst->hosts, worst->hosts == 1 ? "" : "s", worst->id,
                 worst->blast_policy, worst->hub_out ? " over " : "",
                 worst->hub_out ? worst->hub_out_services : "");
        findings_add(t, worst->blast_policy > 0.25 * s->blast_flat ? "medium" : "info", b);
    }
    /* exposure */
    {
        size_t o = 0;
        uint32_t n = 0;
        char list[600];
        list[0] = 0;
        for (uint32_t i = 0; i < r->map.n_nodes; i++)
            if (r->map.nodes[i].flags & RMAP_EXPOSED) {
                if (n < 6 && o < sizeof(list))
                    o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", n ? ", " : "", r->map.nodes[i].id);
                n++;
            }
        if (n) {
            snprintf(b, sizeof(b), "%u segment%s reachable from the Internet: %s%s.", n,
                     n == 1 ? " is" : "s are", list, n > 6 ? ", ..." : "");
            findings_add(t, "info", b);
        }
    }
    if (s->unknown_devices) {
        snprintf(b, sizeof(b), "%u internal device%s no name and no label (see Unknown devices).",
                 s->unknown_devices, s->unknown_devices == 1 ? " has" : "s have");
        findings_add(t, "medium", b);
    }
    if (s->crown_segments && s->attack_paths) {
        snprintf(b, sizeof(b), "%u attack path%s still lead%s from user devices or the Internet to crown jewels "
                 "(see Attack paths).", s->attack_paths, s->attack_paths == 1 ? "" : "s",
                 s->attack_paths == 1 ? "s" : "");
        findings_add(t, "high", b);
    } else if (s->crown_segments) {
        findings_add(t, "good", "No attack path leads from user devices or the Internet to a crown jewel.");
    } else {
        findings_add(t, "info", "No crown jewels are labelled (label hosts crown_jewel=true with --labels "
                     "to see attack paths).");
    }
}

static void
table_risks(report *r, rtable *t)
{
    int order[64];
    int n = 0;
    for (int sev = RISK_HIGH; sev >= RISK_LOW; sev--)
        for (int i = 0; i < risk_count() && n < 64; i++)
            if (risk_get(i)->sev == sev && r->risk[i].edges)
                order[n++] = i;
    for (int k = 0; k < n; k++) {
        const risk_def *d = risk_get(order[k]);
        const risk_acc *a = &r->risk[order[k]];
        rt_row(t);
        rt_str(t, risk_sev_name(d->sev));
        rt_str(t, d->id);
        rt_str(t, d->title);
        rt_int(t, a->edges);
        rt_int(t, a->allowed);
        rt_int(t, a->flows);
        rt_bytes(t, a->bytes);
        rt_str(t, d->why);
    }
    rt_set_note(t, risk_not_assessed());
    rt_set_empty(t, "No risky flows.");
}

static void
table_risky_flows(report *r, rtable *t)
{
    qsort_r(r->risky.v, r->risky.n, sizeof(rflow), rflow_risk_cmp, r);
    char b[GRAPH_VALUE_LEN + 64], sv[32];
    for (size_t i = 0; i < r->risky.n; i++) {
        const rflow *f = &r->risky.v[i];
        const rhost *c = &r->hosts[f->c], *s = &r->hosts[f->s];
        rt_row(t);
        rt_str(t, risk_sev_name(f->sev));
        rt_list_begin(t);
        for (int k = 0; k < f->n_risk; k++)
            rt_item(t, risk_get(f->risk[k])->title);
        /* nDPI's risks that fired, by nDPI's names (in bit order) */
        rt_list_begin(t);
        for (int bit = 0; bit < 64; bit++) {
            char nm[256];
            if ((f->ndpi_risk >> bit & 1) && *dpi_risk_names(1ULL << bit, nm, sizeof(nm)))
                rt_item(t, nm);
        }
        rt_str(t, host_label(c, b, sizeof(b)));
        rt_str(t, host_where(r, c));
        rt_str(t, host_label(s, b, sizeof(b)));
        rt_str(t, host_where(r, s));
        rt_str(t, svc_text(f->proto, f->port, sv, sizeof(sv)));
        rt_str(t, app_or_dash(f->app));
        rt_int(t, f->flows);
        rt_bytes(t, f->bytes);
        rt_time(t, f->last_ns);
        rt_str(t, f->rule >= 0 ? "allowed" : "blocked");
    }
    note_more(t, r->risky.dropped, "risky connections");
    rt_set_empty(t, "No risky flows.");
}

static int
blast_cmp(const void *pa, const void *pb, void *ctx)
{
    const report *r = ctx;
    const rhost *a = &r->hosts[*(const uint32_t *)pa], *b = &r->hosts[*(const uint32_t *)pb];
    if (a->reach != b->reach)
        return a->reach > b->reach ? -1 : 1;
    if (a->observed != b->observed)
        return a->observed > b->observed ? -1 : 1;
    return graph_addr_cmp(&a->addr, &b->addr);
}

static void
table_blast(report *r, rtable *t, const double *seg_lateral)
{
    uint32_t *idx = malloc((r->n_hosts + 1) * sizeof(uint32_t));
    size_t n = 0;
    if (!idx) {
        r->oom = 1;
        return;
    }
    for (size_t i = 0; i < r->n_hosts; i++)
        if (r->hosts[i].workload)
            idx[n++] = (uint32_t)i;
    qsort_r(idx, n, sizeof(uint32_t), blast_cmp, r);
    char b[GRAPH_VALUE_LEN + 64];
    for (size_t i = 0; i < n; i++) {
        const rhost *h = &r->hosts[idx[i]];
        rt_row(t);
        rt_str(t, host_label(h, b, sizeof(b)));
        rt_str(t, host_where(r, h));
        rt_int(t, (uint64_t)r->sum.blast_flat);
        rt_int(t, h->observed);
        rt_int(t, (uint64_t)h->reach);
        rt_num(t, r->sum.blast_flat > 0 ? 1 - h->reach / r->sum.blast_flat : 0);
        if (seg_lateral)
            rt_num(t, h->seg >= 0 ? seg_lateral[h->seg] : 0);
    }
    free(idx);
    rt_set_empty(t, "No internal workload sent traffic.");
}

static void
table_blocked(report *r, rtable *t)
{
    qsort_r(r->blocked.v, r->blocked.n, sizeof(rflow), rflow_blocked_cmp, r);
    char b[GRAPH_VALUE_LEN + 64], sv[32];
    for (size_t i = 0; i < r->blocked.n; i++) {
        const rflow *f = &r->blocked.v[i];
        const rhost *c = &r->hosts[f->c], *s = &r->hosts[f->s];
        rt_row(t);
        rt_str(t, host_label(c, b, sizeof(b)));
        rt_str(t, host_where(r, c));
        rt_str(t, host_label(s, b, sizeof(b)));
        rt_str(t, host_where(r, s));
        rt_str(t, svc_text(f->proto, f->port, sv, sizeof(sv)));
        rt_str(t, app_or_dash(f->app));
        rt_int(t, f->flows);
        rt_bytes(t, f->bytes);
        rt_time(t, f->last_ns);
    }
    note_more(t, r->blocked.dropped, "blocked connections");
    rt_set_empty(t, "The policy admits every observed connection.");
}

static void
table_paths(report *r, rtable *t)
{
    json_object *ap = jarr(r->doc, "attack_paths");
    size_t n = ap ? json_object_array_length(ap) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_array_get_idx(ap, i);
        json_object *path = jarr(o, "path"), *via = jarr(o, "via");
        if (!path)
            continue;
        size_t np = json_object_array_length(path);
        rt_row(t);
        rt_str(t, np ? json_object_get_string(json_object_array_get_idx(path, 0)) : "");
        rt_str(t, np ? json_object_get_string(json_object_array_get_idx(path, np - 1)) : "");
        rt_int(t, np ? np - 1 : 0);
        rt_list_begin(t);
        for (size_t k = 0; k < np; k++)
            rt_item(t, json_object_get_string(json_object_array_get_idx(path, k)));
        rt_list_begin(t);
        for (size_t k = 0; via && k < json_object_array_length(via); k++)
            rt_item(t, json_object_get_string(json_object_array_get_idx(via, k)));
    }
    r->sum.attack_paths = (uint32_t)rt_nrows(t);
    if (!r->sum.crown_segments)
        rt_set_empty(t, "No crown jewels are labelled: label hosts crown_jewel=true (--labels) to see the "
                     "paths an attacker could take to them.");
    else if (!ap)
        rt_set_empty(t, "The policy document lists no attack paths (segscope recommend computes them).");
    else
        rt_set_empty(t, "No path leads from user devices or the Internet to a crown jewel under this policy.");
}

static void
table_segments(report *r, rtable *t, const double *seg_lateral)
{
    int nseg = policy_n_segments(r->p), nrule = policy_n_rules(r->p);
    json_object *segs = jarr(r->doc, "segments");
    uint32_t *cnt = calloc(2 * ((size_t)nseg + 1), sizeof(uint32_t));   /* out, in per segment */
    if (!cnt) {
        r->oom = 1;
        return;
    }
    for (int i = 0; i < nrule; i++) {
        const policy_rule *ru = policy_rule_get(r->p, i);
        if (ru->src.kind == POLICY_REF_SEG)
            cnt[2 * ru->src.seg]++;
        if (ru->dst.kind == POLICY_REF_SEG)
            cnt[2 * ru->dst.seg + 1]++;
    }
    for (int q = 0; q < nseg; q++) {
        json_object *js = jidx(segs, (size_t)q);
        uint32_t out = cnt[2 * q], in = cnt[2 * q + 1];
        rt_row(t);
        rt_str(t, policy_segment_id(r->p, q));
        rt_str(t, policy_segment_name(r->p, q));
        rt_int(t, r->seg_workloads[q]);
        rt_list_begin(t);
        json_object *mem = jarr(js, "members");
        for (size_t i = 0; mem && i < json_object_array_length(mem); i++)
            rt_item(t, json_object_get_string(json_object_array_get_idx(mem, i)));
        rt_list_begin(t);
        json_object *fl = jarr(js, "flags");
        for (size_t i = 0; fl && i < json_object_array_length(fl); i++)
            rt_item(t, json_object_get_string(json_object_array_get_idx(fl, i)));
        double conf = 0;
        char cb[16] = "";
        if (jnum(js, "confidence", &conf))
            snprintf(cb, sizeof(cb), "%.2f", conf);
        rt_str(t, cb);
        rt_int(t, out);
        rt_int(t, in);
        rt_num(t, r->seg_blast[q]);
        if (seg_lateral)
            rt_num(t, seg_lateral[q]);
        rt_str(t, jstr(js, "explanation"));
    }
    free(cnt);
    rt_set_empty(t, "The policy has no segments.");
}

static void
table_rules(report *r, rtable *t)
{
    int nrule = policy_n_rules(r->p);
    json_object *rules = jarr(r->doc, "rules");
    char b[GRAPH_VALUE_LEN * 2 + 64], b2[GRAPH_VALUE_LEN + 64], sv[160];
    for (int i = 0; i < nrule; i++) {
        const policy_rule *ru = policy_rule_get(r->p, i);
        json_object *jr = jidx(rules, (size_t)i);
        const racc *a = &r->racc[i];
        rt_row(t);
        rt_int(t, (uint64_t)i + 1);
        rt_str(t, ref_text(r, &ru->src, b, sizeof(b)));
        rt_str(t, ref_text(r, &ru->dst, b, sizeof(b)));
        policy_rule tmp = *ru;
        tmp.app = NULL;
        rt_str(t, rule_svc(&tmp, sv, sizeof(sv)));
        rt_str(t, ru->app ? ru->app : "");
        rt_str(t, jstr(jr, "basis"));
        int lat = ru->proto == POLICY_ANY || ((ru->proto == POLICY_TCP || ru->proto == POLICY_UDP) && !ru->n_ports);
        for (int k = 0; k < ru->n_ports && !lat; k++)
            lat = rules_lateral(ru->proto, ru->ports[k][0], ru->ports[k][1]);
        rt_str(t, lat ? "lateral" : "");
        rt_int(t, a->flows);
        rt_bytes(t, a->bytes);
        rt_int(t, a->pairs);
        rt_time(t, a->first_ns);
        rt_time(t, a->last_ns);
        rt_list_begin(t);
        for (uint32_t k = 0; k < a->n_ex; k++) {
            host_label(&r->hosts[a->ex[k][0]], b2, sizeof(b2));
            char b3[GRAPH_VALUE_LEN + 64];
            snprintf(b, sizeof(b), "%s -> %s", b2, host_label(&r->hosts[a->ex[k][1]], b3, sizeof(b3)));
            rt_item(t, b);
        }
        rt_list_begin(t);
        json_object *dn = jarr(jr, "dst_names");
        for (size_t k = 0; dn && k < json_object_array_length(dn) && k < 8; k++)
            rt_item(t, json_object_get_string(json_object_array_get_idx(dn, k)));
    }
    rt_set_empty(t, "The policy has no rules: it denies everything.");
}

static void
table_review(report *r, rtable *t)
{
    json_object *rv = jarr(r->doc, "review");
    size_t n = rv ? json_object_array_length(rv) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_array_get_idx(rv, i), *ev = jget(o, "evidence");
        double v = 0;
        char sv[64];
        rt_row(t);
        rt_str(t, jstr(o, "reason"));
        rt_str(t, jstr(o, "src"));
        rt_str(t, jstr(o, "host"));
        rt_str(t, jstr(o, "dst"));
        const char *pr = jstr(o, "proto");
        if (jnum(o, "probes", &v))
            snprintf(sv, sizeof(sv), "%.0f ports probed", v);
        else if (jnum(o, "port", &v))
            snprintf(sv, sizeof(sv), "%s/%.0f", pr ? pr : "?", v);
        else
            snprintf(sv, sizeof(sv), "%s", pr ? pr : "");
        rt_str(t, sv);
        rt_str(t, jstr(o, "app"));
        rt_int(t, jnum(ev, "flows", &v) && v > 0 ? (uint64_t)v : 0);
        rt_int(t, jnum(ev, "host_pairs", &v) && v > 0 ? (uint64_t)v : 0);
        rt_str(t, jstr(ev, "last_seen"));
        rt_list_begin(t);
        json_object *ex = jarr(ev, "examples");
        for (size_t k = 0; ex && k < json_object_array_length(ex) && k < 3; k++) {
            json_object *p = json_object_array_get_idx(ex, k);
            if (!json_object_is_type(p, json_type_array) || json_object_array_length(p) != 2)
                continue;
            char b[160];
            snprintf(b, sizeof(b), "%.70s -> %.70s", json_object_get_string(json_object_array_get_idx(p, 0)),
                     json_object_get_string(json_object_array_get_idx(p, 1)));
            rt_item(t, b);
        }
    }
    r->sum.review = (uint32_t)n;
    double om = 0;
    if (jnum(r->doc, "review_omitted", &om) && om > 0) {
        char b[96];
        snprintf(b, sizeof(b), "%.0f more entries are not in the policy document.", om);
        rt_set_note(t, b);
    }
    rt_set_empty(t, rv ? "Nothing to review: every observed service became a rule."
                       : "The policy document has no review list (segscope recommend writes one).");
}

static void
table_unknown(report *r, rtable *t)
{
    for (size_t i = 0; i < r->n_hosts; i++) {
        rhost *h = &r->hosts[i];
        if (!h->internal || h->special || h->named || h->labelled)
            continue;
        if (!h->as_client.flows && !h->as_server.flows)
            continue;
        r->sum.unknown_devices++;
        rt_row(t);
        rt_str(t, h->astr);
        rt_str(t, host_where(r, h));
        rt_str(t, h->hint ? h->hint : h->edge_name ? h->edge_name : "");
        rt_list_begin(t);
        for (int k = 0; k < h->n_svc; k++)
            rt_item(t, h->svc[k]);
        rt_int(t, h->as_client.flows);
        rt_int(t, h->as_server.flows);
        rt_time(t, h->first_ns);
        rt_time(t, h->last_ns);
    }
    rt_set_empty(t, "Every internal device that sent or received traffic has a name or a label.");
}

/* External peers grouped by (country, ASN). */
typedef struct peer_grp {
    const char *country;        /* "" unknown */
    uint32_t asn;               /* 0 unknown */
    const char *org;            /* "" unknown */
    uint32_t addrs;             /* external addresses */
    uint64_t out_flows, in_flows, bytes; /* flows from internal hosts, to them; bytes */
    uint32_t first;             /* first host index (for examples) */
} peer_grp;

static int
peer_key_cmp(const void *pa, const void *pb, void *ctx)
{
    const report *r = ctx;
    const rhost *a = &r->hosts[*(const uint32_t *)pa], *b = &r->hosts[*(const uint32_t *)pb];
    int c = strcmp(a->country, b->country);
    if (c)
        return c;
    if (a->asn != b->asn)
        return a->asn < b->asn ? -1 : 1;
    uint64_t fa = a->out_flows + a->in_flows, fb = b->out_flows + b->in_flows;
    if (fa != fb)
        return fa > fb ? -1 : 1;
    return graph_addr_cmp(&a->addr, &b->addr);
}

static int
peer_grp_cmp(const void *pa, const void *pb)
{
    const peer_grp *a = pa, *b = pb;
    uint64_t fa = a->out_flows + a->in_flows, fb = b->out_flows + b->in_flows;
    if (fa != fb)
        return fa > fb ? -1 : 1;
    int c = strcmp(a->country, b->country);
    if (c)
        return c;
    return a->asn < b->asn ? -1 : a->asn > b->asn;
}

static void
table_peers(report *r, rtable *t)
{
    uint32_t *idx = malloc((r->n_hosts + 1) * sizeof(uint32_t));
    peer_grp *g = calloc(r->n_hosts + 1, sizeof(peer_grp));
    size_t n = 0, ng = 0;
    if (!idx || !g) {
        free(idx);
        free(g);
        r->oom = 1;
        return;
    }
    char seen[1024] = "";           /* distinct country codes, 3 bytes each */
    size_t nseen = 0;
    for (size_t i = 0; i < r->n_hosts; i++) {
        rhost *h = &r->hosts[i];
        if (h->internal || h->special || (!h->out_flows && !h->in_flows))
            continue;
        idx[n++] = (uint32_t)i;
        if (h->country[0]) {
            int dup = 0;
            for (size_t k = 0; k < nseen; k++)
                dup |= memcmp(seen + 3 * k, h->country, 2) == 0;
            if (!dup && 3 * (nseen + 1) < sizeof(seen)) {
                memcpy(seen + 3 * nseen, h->country, 2);
                nseen++;
            }
        }
    }
    r->sum.external_peers = (uint32_t)n;
    r->sum.countries = (uint32_t)nseen;
    qsort_r(idx, n, sizeof(uint32_t), peer_key_cmp, r);
    for (size_t i = 0; i < n; i++) {
        const rhost *h = &r->hosts[idx[i]];
        if (!ng || strcmp(g[ng - 1].country, h->country) || g[ng - 1].asn != h->asn) {
            g[ng].country = h->country;
            g[ng].asn = h->asn;
            g[ng].org = h->org ? h->org : "";
            g[ng].first = (uint32_t)i;
            ng++;
        }
        peer_grp *x = &g[ng - 1];
        x->addrs++;
        x->out_flows += h->out_flows;
        x->in_flows += h->in_flows;
        x->bytes += h->ext_bytes;
        if (!x->org[0] && h->org)
            x->org = h->org;
    }
    qsort(g, ng, sizeof(peer_grp), peer_grp_cmp);
    char b[GRAPH_VALUE_LEN + 64];
    for (size_t k = 0; k < ng; k++) {
        const peer_grp *x = &g[k];
        rt_row(t);
        rt_str(t, x->country[0] ? x->country : "unknown");
        rt_str(t, x->asn ? (snprintf(b, sizeof(b), "AS%" PRIu32, x->asn), b) : "unknown");
        rt_str(t, x->org);
        rt_int(t, x->addrs);
        rt_int(t, x->out_flows);
        rt_int(t, x->in_flows);
        rt_bytes(t, x->bytes);
        rt_list_begin(t);
        for (uint32_t e = 0; e < x->addrs && e < 5; e++)
            rt_item(t, host_label(&r->hosts[idx[x->first + e]], b, sizeof(b)));
    }
    free(idx);
    free(g);
    rt_set_note(t, "Country and ASN come from the GeoIP databases given to segscope capture "
                "(--geoip); \"unknown\" when none had the address.");
    rt_set_empty(t, "No traffic with external addresses.");
}

static void
table_captures(report *r, rtable *t)
{
    for (size_t i = 0; i < r->n_caps; i++) {
        const graph_capture *c = &r->caps[i];
        rt_row(t);
        rt_time(t, c->start_ns);
        rt_str(t, graph_capture_state_name(c->state));
        rt_list_begin(t);
        for (uint32_t k = 0; k < c->n_input && k < GRAPH_MAX_INPUTS; k++)
            rt_item(t, c->input[k].name);
        rt_int(t, c->frames);
        rt_int(t, c->flows);
        rt_time(t, c->first_ns);
        rt_time(t, c->last_ns);
    }
    rt_set_empty(t, "No capture records.");
}

static const rt_col cols_findings[] = {
    {"level", "Level", RT_STR, RT_H_BADGE}, {"finding", "Finding", RT_STR, RT_H_WRAP},
};
static const rt_col cols_risks[] = {
    {"severity", "Severity", RT_STR, RT_H_BADGE}, {"risk", "Id", RT_STR, RT_H_MONO},
    {"title", "Risk", RT_STR, 0}, {"connections", "Connections", RT_INT, RT_H_NUM},
    {"still_allowed", "Still allowed", RT_INT, RT_H_NUM}, {"flows", "Flows", RT_INT, RT_H_NUM},
    {"bytes", "Bytes", RT_BYTES, RT_H_NUM}, {"why", "Why it matters", RT_STR, RT_H_WRAP},
};
static const rt_col cols_risky[] = {
    {"severity", "Severity", RT_STR, RT_H_BADGE}, {"risks", "Risks", RT_LIST, 0},
    {"ndpi_risks", "nDPI risks", RT_LIST, 0}, {"client", "Client", RT_STR, RT_H_MONO}, {"client_segment", "Client segment", RT_STR, 0},
    {"server", "Server", RT_STR, RT_H_MONO}, {"server_segment", "Server segment", RT_STR, 0},
    {"service", "Service", RT_STR, RT_H_MONO}, {"app", "App", RT_STR, 0},
    {"flows", "Flows", RT_INT, RT_H_NUM}, {"bytes", "Bytes", RT_BYTES, RT_H_NUM},
    {"last_seen", "Last seen", RT_TIME, 0}, {"policy", "Policy", RT_STR, RT_H_BADGE},
};
static const rt_col cols_blast[] = {
    {"workload", "Workload", RT_STR, RT_H_MONO}, {"segment", "Segment", RT_STR, 0},
    {"flat", "Before: flat", RT_INT, RT_H_NUM}, {"observed", "Used", RT_INT, RT_H_NUM},
    {"policy", "After: policy", RT_INT, RT_H_NUM | RT_H_BAR}, {"reduction", "Reduction", RT_PCT, RT_H_NUM},
    {"lateral_policy", "Lateral reach (policy)", RT_NUM, RT_H_NUM},
};
static const rt_col cols_blocked[] = {
    {"client", "Client", RT_STR, RT_H_MONO}, {"client_segment", "Client segment", RT_STR, 0},
    {"server", "Server", RT_STR, RT_H_MONO}, {"server_segment", "Server segment", RT_STR, 0},
    {"service", "Service", RT_STR, RT_H_MONO}, {"app", "App", RT_STR, 0},
    {"flows", "Flows", RT_INT, RT_H_NUM}, {"bytes", "Bytes", RT_BYTES, RT_H_NUM},
    {"last_seen", "Last seen", RT_TIME, 0},
};
static const rt_col cols_paths[] = {
    {"entry", "Entry", RT_STR, 0}, {"target", "Crown jewel", RT_STR, 0}, {"hops", "Hops", RT_INT, RT_H_NUM},
    {"path", "Path", RT_LIST, 0}, {"via", "Via", RT_LIST, RT_H_MONO},
};
static const rt_col cols_segments[] = {
    {"id", "Segment", RT_STR, 0}, {"name", "Name", RT_STR, 0}, {"workloads", "Workloads", RT_INT, RT_H_NUM},
    {"members", "Members", RT_LIST, RT_H_MONO}, {"flags", "Kind", RT_LIST, 0},
    {"confidence", "Confidence", RT_STR, RT_H_NUM}, {"rules_out", "Rules out", RT_INT, RT_H_NUM},
    {"rules_in", "Rules in", RT_INT, RT_H_NUM}, {"blast_policy", "Reach (policy)", RT_NUM, RT_H_NUM},
    {"lateral_policy", "Lateral reach (policy)", RT_NUM, RT_H_NUM},
    {"explanation", "Why", RT_STR, RT_H_WRAP},
};
static const rt_col cols_rules[] = {
    {"rule", "#", RT_INT, RT_H_NUM}, {"src", "From", RT_STR, 0}, {"dst", "To", RT_STR, 0},
    {"service", "Service", RT_STR, RT_H_MONO}, {"app", "App", RT_STR, 0}, {"basis", "Basis", RT_STR, 0},
    {"lateral", "Lateral", RT_STR, RT_H_BADGE}, {"flows", "Flows", RT_INT, RT_H_NUM},
    {"bytes", "Bytes", RT_BYTES, RT_H_NUM}, {"host_pairs", "Host pairs", RT_INT, RT_H_NUM},
    {"first_seen", "First seen", RT_TIME, 0}, {"last_seen", "Last seen", RT_TIME, 0},
    {"examples", "Examples", RT_LIST, RT_H_MONO}, {"dst_names", "Destination names", RT_LIST, 0},
};
static const rt_col cols_review[] = {
    {"reason", "Reason", RT_STR, RT_H_BADGE}, {"src", "From", RT_STR, 0}, {"host", "Host", RT_STR, RT_H_MONO},
    {"dst", "To", RT_STR, 0}, {"service", "Service", RT_STR, RT_H_MONO}, {"app", "App", RT_STR, 0},
    {"flows", "Flows", RT_INT, RT_H_NUM}, {"host_pairs", "Host pairs", RT_INT, RT_H_NUM},
    {"last_seen", "Last seen", RT_STR, 0}, {"examples", "Examples", RT_LIST, RT_H_MONO},
};
static const rt_col cols_inventory[] = {
    {"addr", "Address", RT_STR, RT_H_MONO}, {"name", "Name", RT_STR, 0}, {"segment", "Segment", RT_STR, 0},
    {"identities", "Identities [kind via source]", RT_LIST, RT_H_WRAP}, {"labels", "Labels", RT_LIST, 0},
    {"macs", "MACs", RT_LIST, RT_H_MONO}, {"first_seen", "First seen", RT_TIME, 0},
    {"last_seen", "Last seen", RT_TIME, 0}, {"flows_client", "Flows as client", RT_INT, RT_H_NUM},
    {"flows_server", "Flows as server", RT_INT, RT_H_NUM}, {"bytes", "Bytes", RT_BYTES, RT_H_NUM},
};
static const rt_col cols_unknown[] = {
    {"addr", "Address", RT_STR, RT_H_MONO}, {"segment", "Segment", RT_STR, 0},
    {"hint", "Known by", RT_STR, RT_H_WRAP}, {"services", "Services offered", RT_LIST, RT_H_MONO},
    {"flows_client", "Flows as client", RT_INT, RT_H_NUM}, {"flows_server", "Flows as server", RT_INT, RT_H_NUM},
    {"first_seen", "First seen", RT_TIME, 0}, {"last_seen", "Last seen", RT_TIME, 0},
};
static const rt_col cols_peers[] = {
    {"country", "Country", RT_STR, 0}, {"asn", "ASN", RT_STR, RT_H_MONO}, {"org", "Organisation", RT_STR, 0},
    {"addresses", "Addresses", RT_INT, RT_H_NUM}, {"flows_out", "Flows out", RT_INT, RT_H_NUM},
    {"flows_in", "Flows in", RT_INT, RT_H_NUM}, {"bytes", "Bytes", RT_BYTES, RT_H_NUM},
    {"examples", "Busiest addresses", RT_LIST, RT_H_MONO},
};
static const rt_col cols_captures[] = {
    {"started", "Started", RT_TIME, 0}, {"state", "State", RT_STR, 0}, {"inputs", "Inputs", RT_LIST, RT_H_MONO},
    {"frames", "Frames", RT_INT, RT_H_NUM}, {"flows", "Flows", RT_INT, RT_H_NUM},
    {"first_packet", "First packet", RT_TIME, 0}, {"last_packet", "Last packet", RT_TIME, 0},
};
#define NCOLS(c) (sizeof(c) / sizeof((c)[0]))

static int
build_tables(report *r, rtable *inventory)
{
    int nseg = policy_n_segments(r->p);
    /* transitive (lateral) blast radius per segment, from the document */
    double *lat = NULL;
    json_object *br = jget(r->doc, "blast_radius"), *per = jget(br, "segments");
    if (jnum(br, "lateral_flat", &r->sum.lateral_flat) && jnum(br, "lateral_policy", &r->sum.lateral_policy) &&
        per && (lat = calloc((size_t)nseg + 1, sizeof(double)))) {
        r->sum.has_lateral = 1;
        jnum(br, "lateral_reduction", &r->sum.lateral_reduction);
        for (int q = 0; q < nseg; q++)
            jnum(jget(per, policy_segment_id(r->p, q)), "lateral_policy", &lat[q]);
    }
    {
        uint8_t *crown = calloc((size_t)nseg + 1, 1);
        if (!crown) {
            free(lat);
            r->oom = 1;
            return -1;
        }
        for (size_t i = 0; i < r->n_hosts; i++)
            if (r->hosts[i].seg >= 0 && r->hosts[i].crown && !crown[r->hosts[i].seg]++)
                r->sum.crown_segments++;
        free(crown);
    }

    rtable *findings = add_table(r, "findings", "Findings",
        "What a reader should know first.", cols_findings, NCOLS(cols_findings));
    rtable *risks = add_table(r, "risks", "Risky flows by kind",
        "Risks judged from nDPI's flow risks, the application nDPI named, the port and the direction "
        "of each observed connection (client, server, service). \"Still allowed\": connections the "
        "policy admits.",
        cols_risks, NCOLS(cols_risks));
    rtable *risky = add_table(r, "risky_flows", "Risky flows",
        "Each risky connection, worst first; those the policy still allows come first within a severity.",
        cols_risky, NCOLS(cols_risky));
    rtable *blast = add_table(r, "blast_radius", "Blast radius per workload",
        "How many other workloads one compromised workload can open a connection to: before (a flat "
        "network), what it actually used, and after (under the policy), worst first.",
        cols_blast, NCOLS(cols_blast) - (lat ? 0 : 1));
    rtable *blocked = add_table(r, "blocked", "Blocked traffic",
        "Observed connections the policy would deny: check each before enforcing.",
        cols_blocked, NCOLS(cols_blocked));
    rtable *paths = add_table(r, "attack_paths", "Attack paths to crown jewels",
        "Chains of allowed rules from user devices or the Internet to a segment holding a host labelled "
        "crown_jewel=true.", cols_paths, NCOLS(cols_paths));
    rt_col segc[NCOLS(cols_segments)];
    size_t nsegc = 0;
    for (size_t i = 0; i < NCOLS(cols_segments); i++)
        if (lat || strcmp(cols_segments[i].id, "lateral_policy") != 0)
            segc[nsegc++] = cols_segments[i];
    rtable *segs = add_table(r, "segments", "Segments",
        "Groups of workloads that get the same rules. Reach: mean workloads one member can connect to "
        "under the policy.", segc, nsegc);
    rtable *rules = add_table(r, "rules", "Rules and their evidence",
        "Allow rules (default deny; replies implied). Evidence: the observed traffic each rule admits "
        "(the first rule that matches a connection gets it).", cols_rules, NCOLS(cols_rules));
    rtable *review = add_table(r, "review", "Review list",
        "Traffic the recommender did not turn into rules, with its reason.", cols_review, NCOLS(cols_review));
    rtable *unknown = add_table(r, "unknown_devices", "Unknown devices",
        "Internal devices with traffic but no name (DHCP, DNS, NetBIOS, Kerberos...) and no label: "
        "unmanaged or unexpected.", cols_unknown, NCOLS(cols_unknown));
    if (inventory) {
        if (r->n_tables >= REPORT_MAX_TABLES)
            r->oom = 1;
        else
            r->tables[r->n_tables++] = inventory;
    }
    rtable *peers = add_table(r, "external_peers", "External peers by country and ASN",
        "Addresses outside the internal space that internal hosts talked to (out) or that talked to "
        "them (in).", cols_peers, NCOLS(cols_peers));
    rtable *caps = add_table(r, "captures", "Captures ingested",
        "The capture runs that filled the database.", cols_captures, NCOLS(cols_captures));
    if (r->oom || !findings || !risks || !risky || !blast || !blocked || !paths || !segs || !rules ||
        !review || !unknown || !peers || !caps) {
        free(lat);
        r->oom = 1;
        return -1;
    }
    table_risks(r, risks);
    table_risky_flows(r, risky);
    table_blast(r, blast, lat);
    table_blocked(r, blocked);
    table_paths(r, paths);
    table_segments(r, segs, lat);
    table_rules(r, rules);
    table_review(r, review);
    table_unknown(r, unknown);
    table_peers(r, peers);
    table_captures(r, caps);
    table_findings(r, findings);
    free(lat);
    for (size_t i = 0; i < r->n_tables; i++)
        if (rt_oom(r->tables[i]))
            r->oom = 1;
    return r->oom ? -1 : 0;
}

/* ---- the whole build --------------------------------------------------------------- */

report *
report_build(const report_cfg *cfg, int *code, char *err, size_t errlen)
{
    report *r = calloc(1, sizeof(*r));
    rtable *inv = NULL;
    graph *g = NULL;
    char *text = NULL;
    *code = EXIT_RUNTIME;
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->cfg = *cfg;
    r->risky.max = r->blocked.max = cfg->max_kept ? cfg->max_kept : SIZE_MAX;
    if (cfg->labels_path && !(r->lab = labels_load(cfg->labels_path, err, errlen))) {
        *code = EXIT_INPUT;
        goto fail;
    }
    if (!(r->m = model_load_db(cfg->db, err, errlen))) {
        *code = strstr(err, "out of memory") ? EXIT_RUNTIME : EXIT_INPUT;
        goto fail;
    }
    if (r->lab && model_apply_labels(r->m, r->lab) < 0) {
        snprintf(err, errlen, "out of memory applying labels");
        goto fail;
    }
    size_t len = 0;
    if (!(text = policy_text(r, &len, err, errlen))) {
        *code = cfg->policy_path ? EXIT_INPUT : EXIT_RUNTIME;
        goto fail;
    }
    if (!r->policy_source) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    const char *pname = cfg->policy_path ? cfg->policy_path : "recommended policy";
    if (!(r->p = policy_parse(text, len, pname, err, errlen))) {
        *code = EXIT_INPUT;
        goto fail;
    }
    r->doc = json_tokener_parse(text);     /* valid: policy_parse accepted it */
    {
        /* the per-segment host lists of a recommendation are not shown (the inventory is): drop them */
        json_object *segs = jarr(r->doc, "segments");
        for (size_t i = 0; segs && i < json_object_array_length(segs); i++) {
            json_object *o = json_object_array_get_idx(segs, i);
            if (json_object_is_type(o, json_type_object))
                json_object_object_del(o, "hosts");
        }
    }
    free(text);
    text = NULL;
    int nrule = policy_n_rules(r->p);
    r->racc = calloc((size_t)nrule + 1, sizeof(racc));
    r->risk = calloc((size_t)risk_count() + 1, sizeof(risk_acc));
    inv = rt_create("inventory", "Inventory",
                    "Every internal host with its identities, the kind of each and the protocol it was "
                    "learnt from, its labels and MAC addresses.", cols_inventory, NCOLS(cols_inventory));
    if (!r->racc || !r->risk || !inv) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (cfg->max_rows)
        rt_set_show(inv, cfg->max_rows);
    rt_set_empty(inv, "No internal hosts.");

    if (index_rules(r) < 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    /* the database */
    if (!(g = graph_open(cfg->db, GRAPH_READ, code, err, errlen)))
        goto fail;
    graph_stats st;
    node_ctx nc = { .r = r, .inv = inv };
    if (graph_get_stats(g, &st, err, errlen) < 0 ||
        graph_foreach_capture(g, on_capture, r, err, errlen) < 0 ||
        graph_foreach_node(g, on_node, &nc, err, errlen) < 0 ||
        (!r->oom && graph_foreach_edge(g, on_edge, r, err, errlen) < 0)) {
        *code = EXIT_INPUT;
        goto fail;
    }
    r->sum.corrupt = graph_corrupt(g);
    graph_close(g);
    g = NULL;
    if (r->oom || rt_oom(inv)) {
        snprintf(err, errlen, "out of memory reading %s", cfg->db);
        goto fail;
    }
    if (!(r->db = esc_utf8_dup(cfg->db))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    r->sum.db = r->db;
    r->sum.policy_source = r->policy_source;
    r->sum.first_ns = st.first_ns;
    r->sum.last_ns = st.last_ns;
    r->sum.captures = st.captures;
    r->sum.packets = st.pkts;
    r->sum.bytes = st.bytes;
    r->sum.flows = st.flows;
    r->sum.hosts = st.nodes;
    r->sum.hosts_internal = st.nodes_internal;
    r->sum.hosts_external = st.nodes_external;
    r->sum.edges = st.edges;
    r->sum.segments = (uint32_t)policy_n_segments(r->p);
    r->sum.rules = (uint32_t)nrule;

    if (compute_blast(r) < 0 || build_map(r) < 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    rtable *inv_owned = inv;
    inv = NULL;                     /* build_tables takes it */
    if (build_tables(r, inv_owned) < 0) {
        int taken = 0;
        for (size_t i = 0; i < r->n_tables; i++)
            taken |= r->tables[i] == inv_owned;
        if (!taken)
            rt_free(inv_owned);
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    *code = 0;
    return r;
fail:
    free(text);
    rt_free(inv);
    graph_close(g);
    report_free(r);
    return NULL;
}

void
report_free(report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_hosts; i++) {
        free(r->hosts[i].name);
        free(r->hosts[i].hint);
        free(r->hosts[i].edge_name);
        free(r->hosts[i].org);
    }
    free(r->hosts);
    for (size_t i = 0; i < r->n_tables; i++)
        rt_free(r->tables[i]);
    for (size_t i = 0; i < r->n_pool; i++)
        free(r->pool[i]);
    free(r->pool);
    free(r->mnodes);
    free(r->medges);
    free(r->racc);
    free(r->risk);
    free(r->risky.v);
    free(r->blocked.v);
    free(r->caps);
    free(r->seg_blast);
    free(r->seg_workloads);
    free(r->by_src);
    free(r->by_src_off);
    free(r->generic);
    free(r->policy_source);
    free(r->db);
    if (r->doc)
        json_object_put(r->doc);
    policy_free(r->p);
    labels_free(r->lab);
    model_free(r->m);
    free(r);
}

const report_summary *
report_get_summary(const report *r)
{
    return &r->sum;
}

const report_map *
report_get_map(const report *r)
{
    return &r->map;
}

size_t
report_n_tables(const report *r)
{
    return r->n_tables;
}

const rtable *
report_table(const report *r, size_t i)
{
    return i < r->n_tables ? r->tables[i] : NULL;
}

const rtable *
report_table_find(const report *r, const char *id)
{
    for (size_t i = 0; i < r->n_tables; i++)
        if (strcmp(rt_id(r->tables[i]), id) == 0)
            return r->tables[i];
    return NULL;
}
