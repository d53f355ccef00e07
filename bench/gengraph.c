/*
 * gengraph.c - a synthetic workload graph for bench/recommend.sh.
 *
 *   gengraph DIR [HOSTS] [EDGES]      (default 100000 hosts, 2000000 edges)
 *
 * Writes straight into a graph database (graph.h), in batches, a network
 * shaped like an enterprise: 5% Internet addresses; of the internal hosts
 * 1% infrastructure (domain controllers, file servers, monitoring, jump
 * hosts, backup), 20% servers in three-tier applications (web, app,
 * database: 10 hosts an application, one /26 per tier), the rest
 * workstations in /24 pools.  Workstations use the infrastructure, a few
 * applications and the Internet; tiers talk to the next tier; monitoring
 * pings everything; jump hosts SSH into servers.  Each host is named
 * (role-app-NN) as DHCP/DNS would.  Edges are drawn until EDGES are made;
 * the generator is deterministic (a fixed xorshift seed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/graph.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

/* One host of the synthetic network. */
typedef struct ghost {
    graph_addr a;               /* its address */
    int role;                   /* enum role */
    int app;                    /* application number (servers) */
} ghost;

enum role { R_INET, R_DC, R_FS, R_MON, R_JUMP, R_BKP, R_WEB, R_APP, R_DB, R_WS, R_COUNT };
static const char *const role_name[] = { "inet", "dc", "fs", "mon", "jump", "bkp", "web", "app", "db", "ws" };

static graph *g;
static graph_batch *b;
static char err[512];
static uint64_t n_edges;

static void
flush_if(size_t n)
{
    if (graph_batch_count(b) >= n && graph_batch_commit(b, err, sizeof(err)) < 0) {
        fprintf(stderr, "gengraph: %s\n", err);
        exit(1);
    }
}

static void
put_edge(const ghost *c, const ghost *s, int proto, int port, const char *app, uint64_t flows)
{
    graph_edge_key k;
    memset(&k, 0, sizeof(k));
    k.client = c->a;
    k.server = s->a;
    k.proto = (uint8_t)proto;
    k.port = (uint16_t)port;
    snprintf(k.app, sizeof(k.app), "%s", app);
    graph_edge *e = malloc(sizeof(*e));
    graph_edge_init(e, &k);
    e->flows = flows;
    e->pkts[0] = e->pkts[1] = flows * 5;
    e->bytes[0] = e->bytes[1] = flows * 800;
    e->first_ns = 1710115200000000000ULL + (rnd() % 3600) * 1000000000ULL;
    e->last_ns = e->first_ns + 80000ULL * 1000000000ULL;
    graph_days_add(&e->days, graph_day(e->first_ns));
    if (graph_batch_put_edge(b, e) < 0) {
        fprintf(stderr, "gengraph: cannot encode an edge\n");
        exit(1);
    }
    free(e);
    n_edges++;
    flush_if(20000);
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: gengraph DIR [HOSTS] [EDGES]\n");
        return 2;
    }
    uint64_t nh = argc > 2 ? strtoull(argv[2], NULL, 10) : 100000;
    uint64_t ne = argc > 3 ? strtoull(argv[3], NULL, 10) : 2000000;
    int code;
    g = graph_open(argv[1], GRAPH_WRITE, &code, err, sizeof(err));
    if (!g) {
        fprintf(stderr, "gengraph: %s\n", err);
        return 1;
    }
    b = graph_batch_create(g);
    ghost *h = calloc(nh, sizeof(ghost));
    uint64_t n_inet = nh / 20, n_infra = nh / 100, n_srv = nh / 5;
    uint64_t n_apps = n_srv / 10;
    uint64_t i = 0;
    /* addresses: Internet 100.x (outside RFC 1918), infra 10.0.x, servers 10.1.x, workstations 10.2.x+ */
    for (; i < n_inet; i++) {
        uint8_t a[4] = { (uint8_t)(20 + i / 65536 % 100), (uint8_t)(i / 256 % 256), (uint8_t)(i % 256), 7 };
        graph_addr_set(&h[i].a, a, 4);
        h[i].role = R_INET;
    }
    for (uint64_t k = 0; k < n_infra; k++, i++) {
        uint8_t a[4] = { 10, 0, (uint8_t)(k / 200), (uint8_t)(10 + k % 200) };
        graph_addr_set(&h[i].a, a, 4);
        h[i].role = k < 10 ? R_DC : k < 20 ? R_FS : k < 24 ? R_MON : k < 30 ? R_JUMP : R_BKP;
    }
    uint64_t first_srv = i;
    for (uint64_t k = 0; k < n_apps * 10 && i < nh; k++, i++) {
        uint64_t app = k / 10, tier = k % 10 < 4 ? 0 : k % 10 < 8 ? 1 : 2;
        /* one /24 per application, one /26 per tier */
        uint8_t a[4] = { 10, (uint8_t)(1 + app / 256), (uint8_t)(app % 256), (uint8_t)(tier * 64 + 10 + k % 10) };
        graph_addr_set(&h[i].a, a, 4);
        h[i].role = tier == 0 ? R_WEB : tier == 1 ? R_APP : R_DB;
        h[i].app = (int)app;
    }
    uint64_t first_ws = i;
    for (uint64_t k = 0; i < nh; k++, i++) {
        uint8_t a[4] = { 10, (uint8_t)(100 + k / 250 / 256), (uint8_t)(k / 250 % 256), (uint8_t)(2 + k % 250) };
        graph_addr_set(&h[i].a, a, 4);
        h[i].role = R_WS;
    }
    /* nodes */
    for (i = 0; i < nh; i++) {
        graph_node *n = malloc(sizeof(*n));
        graph_node_init(n, &h[i].a);
        n->internal = h[i].role != R_INET;
        n->first_ns = 1710115200000000000ULL;
        n->last_ns = n->first_ns + 86000ULL * 1000000000ULL;
        char name[64];
        if (h[i].role == R_WEB || h[i].role == R_APP || h[i].role == R_DB) {
            char tag[8];            /* the application as letters: 0 -> "aa", 1 -> "ab"... */
            int ap = h[i].app;
            tag[0] = (char)('a' + ap / 676 % 26);
            tag[1] = (char)('a' + ap / 26 % 26);
            tag[2] = (char)('a' + ap % 26);
            tag[3] = 0;
            snprintf(name, sizeof(name), "%s-%s-%02llu", role_name[h[i].role], tag, (unsigned long long)(i % 10));
        }
        else
            snprintf(name, sizeof(name), "%s-%05llu", role_name[h[i].role], (unsigned long long)i);
        graph_node_add_ident(n, h[i].role == R_INET ? "sni" : "dhcp_hostname", name,
                             h[i].role == R_INET ? "tls" : "dhcp", n->first_ns, n->last_ns);
        if (graph_batch_put_node(b, n) < 0) {
            fprintf(stderr, "gengraph: cannot encode a node\n");
            return 1;
        }
        free(n);
        flush_if(20000);
    }
    ghost *dc = &h[n_inet], *fs = &h[n_inet + 10], *mon = &h[n_inet + 20], *jump = &h[n_inet + 24],
          *bkp = &h[n_inet + 30];
    uint64_t n_ws = nh - first_ws;
    /* servers: tiers, infrastructure, monitoring, jump, backup */
    for (i = first_srv; i < first_ws; i++) {
        ghost *x = &h[i];
        uint64_t base = first_srv + (uint64_t)x->app * 10;
        if (x->role == R_WEB)
            for (int t = 4; t < 8; t++)
                put_edge(x, &h[base + t], 6, 8080, "HTTP", 50);
        if (x->role == R_APP)
            for (int t = 8; t < 10; t++)
                put_edge(x, &h[base + t], 6, 5432, "PostgreSQL", 80);
        if (x->role == R_DB)
            put_edge(&bkp[rnd() % 5], x, 6, 873, "RSYNC", 1);
        put_edge(x, &dc[rnd() % 10], 17, 53, "DNS", 40);
        put_edge(&mon[rnd() % 4], x, 1, 8, "ICMP", 96);
        put_edge(&mon[rnd() % 4], x, 17, 161, "SNMP", 96);
        put_edge(&jump[rnd() % 6], x, 6, 22, "SSH", 1 + rnd() % 3);
    }
    /* workstations until the edge budget is spent */
    for (uint64_t k = 0; n_edges < ne; k++) {
        ghost *w = &h[first_ws + k % n_ws];
        switch (k / n_ws) {
        case 0: put_edge(w, &dc[rnd() % 10], 17, 53, "DNS", 30); break;
        case 1: put_edge(w, &dc[rnd() % 10], 6, 88, "Kerberos", 6); break;
        case 2: put_edge(w, &dc[rnd() % 10], 6, 389, "LDAP", 4); break;
        case 3: put_edge(w, &fs[rnd() % 10], 6, 445, "SMBv23", 8); break;
        case 4: put_edge(&mon[rnd() % 4], w, 1, 8, "ICMP", 24); break;
        default:
            if (rnd() % 3 == 0)
                put_edge(w, &h[first_srv + (rnd() % n_apps) * 10 + rnd() % 4], 6, 443, "TLS", 1 + rnd() % 5);
            else
                put_edge(w, &h[rnd() % n_inet], 6, 443, "TLS", 1 + rnd() % 4);
        }
    }
    flush_if(1);
    graph_batch_free(b);
    graph_close(g);
    free(h);
    printf("gengraph: %llu hosts (%llu internal), %llu edges into %s\n", (unsigned long long)nh,
           (unsigned long long)(nh - n_inet), (unsigned long long)n_edges, argv[1]);
    return 0;
}
