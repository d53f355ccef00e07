/*
 * graphagg.c - folding a capture into the workload graph (see graphagg.h).
 *
 * How it works.  Two chained hash maps hold the deltas of the current
 * flush window: agg_node per address, agg_edge per (client, server,
 * proto, port, app).  A delta holds only what a window adds: counters,
 * first/last seen, MACs, identities handed over, and for edges the days
 * seen as a 64-bit bitmap from a base day and the first few server
 * names.  A flow whose days do not fit its edge's bitmap (a window that
 * spans more than 64 days of capture time) forces a flush first, as does
 * a map at its cap: nothing is ever dropped.
 *
 * A flush walks both maps; for each delta it reads the stored record
 * (one point read, served mostly by the bloom filter for new keys), merges
 * the delta into it with graphrec's merge, and puts the result into one
 * batch with the capture record; one synced commit; then the maps are
 * emptied.  Only this process writes the database (graph.h's lock), so
 * the read-modify-write cannot race.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyzer/graphagg.h"

#define AGG_MAX_APPS 1024       /* distinct application names per run */
#define AGG_MAX_IDENTS 64       /* identities held per node delta (a record keeps GRAPH_MAX_IDENTS) */

/* An identity handed over for a node, until the flush. */
typedef struct agg_ident {
    struct agg_ident *next;     /* next of the same node */
    graph_ident id;             /* the identity */
} agg_ident;

/* What a window adds to one node. */
typedef struct agg_node {
    struct agg_node *next;      /* hash chain */
    agg_ident *idents;          /* identities handed over */
    graph_addr addr;            /* the key */
    uint8_t create;             /* traffic saw it: write it even if the database lacks it */
    uint8_t n_mac;              /* mac[] used */
    uint64_t first_ns, last_ns; /* first and last packet of its flows (0 = none yet) */
    graph_counts as_client;     /* flows where it was the client */
    graph_counts as_server;     /* flows where it was the server */
    graph_mac mac[GRAPH_MAX_MACS]; /* source MACs seen */
} agg_node;

/* An edge delta's key: zeroed before it is filled, compared with memcmp. */
typedef struct agg_ekey {
    graph_addr c, s;            /* client, server */
    uint8_t proto;              /* IP protocol */
    uint16_t port;              /* server port or ICMP type */
    uint16_t app;               /* index into the run's application names */
} agg_ekey;

/* What a window adds to one edge. */
typedef struct agg_edge {
    struct agg_edge *next;      /* hash chain */
    agg_ekey k;                 /* the key */
    uint32_t day_base;          /* day of bit 0 of day_bits */
    uint64_t day_bits;          /* days seen: bit i = day_base + i */
    uint64_t flows;             /* flow records */
    uint64_t pkts[2], bytes[2]; /* [0] client -> server, [1] server -> client */
    uint64_t first_ns, last_ns; /* first and last packet */
    uint64_t hs, heur;          /* flows with the client seen opening / guessed */
    char (*names)[GRAPH_NAME_LEN]; /* GRAPH_MAX_NAMES slots, allocated with the first name */
    uint8_t n_name;             /* names used */
} agg_edge;

struct graphagg {
    graph *g;                   /* the database (GRAPH_WRITE) */
    graphagg_cfg cfg;           /* configuration */
    graph_capture cap;          /* this run's capture record */
    graph_batch *batch;         /* reused for every flush */
    agg_node **nb;              /* node buckets */
    size_t nb_n;                /* their count (a power of two) */
    size_t n_nodes;             /* node deltas */
    agg_edge **eb;              /* edge buckets */
    size_t eb_n;                /* their count (a power of two) */
    size_t n_edges;             /* edge deltas */
    size_t n_names;             /* name blocks allocated */
    size_t n_idents;            /* identities held */
    char apps[AGG_MAX_APPS][GRAPH_APP_LEN]; /* application names seen, by index */
    const char *app_ptr[AGG_MAX_APPS]; /* the pointer each was last given as (a fast path) */
    unsigned n_apps;            /* entries used */
    graph_node *rec_node;       /* scratch: stored node being updated */
    graph_node *delta_node;     /* scratch: a node delta as a record */
    graph_edge *rec_edge;       /* scratch: stored edge being updated */
    graph_edge *delta_edge;     /* scratch: an edge delta as a record */
    uint8_t enc[GRAPHREC_VAL_MAX];  /* scratch: a stored node, encoded */
    uint8_t enc2[GRAPHREC_VAL_MAX]; /* scratch: the same after the merge */
    uint64_t ticks;             /* graphagg_tick calls */
    uint64_t next_flush_ns;     /* monotonic time of the next timed flush */
    int in_flush;               /* inside graphagg_flush: the caps wait (no nested flush) */
    int failed;                 /* a flush failed: stop */
    char err[512];              /* why */
    graphagg_stats st;          /* counters */
};

static uint64_t
mono_ns(void)
{
    struct timespec ts;
#ifdef CLOCK_MONOTONIC_COARSE
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
#else
    clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t
wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* FNV-1a over a key. */
static uint32_t
hash_bytes(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h ^ (h >> 15);
}

static uint32_t
hash_addr(const graph_addr *a)
{
    return hash_bytes(a, 1 + (a->family == 6 ? 16 : 4));
}

static int
addr_eq(const graph_addr *x, const graph_addr *y)
{
    return x->family == y->family && memcmp(x->a, y->a, x->family == 6 ? 16 : 4) == 0;
}

void
graphagg_cfg_default(graphagg_cfg *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->flush_interval_s = 10;
    cfg->max_nodes = 262144;
    cfg->max_edges = 524288;
}

graphagg *
graphagg_create(graph *g, const graphagg_cfg *cfg, const graph_capture *cap,
                char *err, size_t errlen)
{
    graphagg *a = calloc(1, sizeof(*a));
    if (errlen)
        err[0] = '\0';
    if (!a)
        goto oom;
    a->g = g;
    a->cfg = *cfg;
    if (!a->cfg.max_nodes)
        a->cfg.max_nodes = 262144;
    if (!a->cfg.max_edges)
        a->cfg.max_edges = 524288;
    a->cap = *cap;
    a->nb_n = 1024;
    a->eb_n = 1024;
    a->nb = calloc(a->nb_n, sizeof(*a->nb));
    a->eb = calloc(a->eb_n, sizeof(*a->eb));
    a->rec_node = malloc(sizeof(graph_node));
    a->delta_node = malloc(sizeof(graph_node));
    a->rec_edge = malloc(sizeof(graph_edge));
    a->delta_edge = malloc(sizeof(graph_edge));
    a->batch = graph_batch_create(g);
    if (!a->nb || !a->eb || !a->rec_node || !a->delta_node || !a->rec_edge ||
        !a->delta_edge || !a->batch)
        goto oom;
    a->next_flush_ns = mono_ns() + (uint64_t)(a->cfg.flush_interval_s * 1e9);
    /* The run is on record from its start. */
    a->cap.end_ns = wall_ns();
    if (graph_batch_put_capture(a->batch, &a->cap) < 0 ||
        graph_batch_commit(a->batch, err, errlen) < 0) {
        if (!err[0])
            snprintf(err, errlen, "cannot encode the capture record");
        graphagg_free(a);
        return NULL;
    }
    return a;
oom:
    snprintf(err, errlen, "out of memory");
    graphagg_free(a);
    return NULL;
}

/* Empty both maps. */
static void
clear_deltas(graphagg *a)
{
    for (size_t i = 0; i < a->nb_n; i++) {
        agg_node *n = a->nb[i];
        while (n) {
            agg_node *next = n->next;
            agg_ident *id = n->idents;
            while (id) {
                agg_ident *in = id->next;
                free(id);
                id = in;
            }
            free(n);
            n = next;
        }
        a->nb[i] = NULL;
    }
    for (size_t i = 0; i < a->eb_n; i++) {
        agg_edge *e = a->eb[i];
        while (e) {
            agg_edge *next = e->next;
            free(e->names);
            free(e);
            e = next;
        }
        a->eb[i] = NULL;
    }
    a->n_nodes = a->n_edges = a->n_names = a->n_idents = 0;
}

void
graphagg_free(graphagg *a)
{
    if (!a)
        return;
    if (a->nb && a->eb)
        clear_deltas(a);
    free(a->nb);
    free(a->eb);
    free(a->rec_node);
    free(a->delta_node);
    free(a->rec_edge);
    free(a->delta_edge);
    graph_batch_free(a->batch);
    free(a);
}

graph_capture *
graphagg_capture(graphagg *a)
{
    return &a->cap;
}

const graphagg_stats *
graphagg_get_stats(const graphagg *a)
{
    return &a->st;
}

int
graphagg_failed(const graphagg *a)
{
    return a->failed;
}

const char *
graphagg_error(const graphagg *a)
{
    return a->err;
}

size_t
graphagg_mem(const graphagg *a)
{
    return a->n_nodes * sizeof(agg_node) + a->n_edges * sizeof(agg_edge) +
           a->n_names * GRAPH_MAX_NAMES * GRAPH_NAME_LEN + a->n_idents * sizeof(agg_ident) +
           (a->nb_n + a->eb_n) * sizeof(void *);
}

/* ---- maps ---------------------------------------------------------------- */

/* Double a bucket array when it holds more entries than buckets (no-op on OOM). */
static void
grow_nodes(graphagg *a)
{
    size_t n = a->nb_n * 2;
    agg_node **nb = calloc(n, sizeof(*nb));
    if (!nb)
        return;
    for (size_t i = 0; i < a->nb_n; i++)
        for (agg_node *x = a->nb[i], *next; x; x = next) {
            next = x->next;
            uint32_t h = hash_addr(&x->addr) & (uint32_t)(n - 1);
            x->next = nb[h];
            nb[h] = x;
        }
    free(a->nb);
    a->nb = nb;
    a->nb_n = n;
}

static void
grow_edges(graphagg *a)
{
    size_t n = a->eb_n * 2;
    agg_edge **eb = calloc(n, sizeof(*eb));
    if (!eb)
        return;
    for (size_t i = 0; i < a->eb_n; i++)
        for (agg_edge *x = a->eb[i], *next; x; x = next) {
            next = x->next;
            uint32_t h = hash_bytes(&x->k, sizeof(x->k)) & (uint32_t)(n - 1);
            x->next = eb[h];
            eb[h] = x;
        }
    free(a->eb);
    a->eb = eb;
    a->eb_n = n;
}

static void
fail(graphagg *a, const char *msg)
{
    if (!a->failed)
        snprintf(a->err, sizeof(a->err), "%s", msg);
    a->failed = 1;
}

/* The node delta of addr, added if new (after a forced flush at the cap); NULL on OOM. */
static agg_node *
node_get(graphagg *a, const graph_addr *addr)
{
    uint32_t h = hash_addr(addr);
    for (agg_node *n = a->nb[h & (a->nb_n - 1)]; n; n = n->next)
        if (addr_eq(&n->addr, addr))
            return n;
    if (a->n_nodes >= a->cfg.max_nodes && !a->in_flush) {
        a->st.flushes_forced++;
        if (graphagg_flush(a) < 0)
            return NULL;
    }
    agg_node *n = calloc(1, sizeof(*n));
    if (!n) {
        fail(a, "out of memory");
        return NULL;
    }
    n->addr = *addr;
    if (++a->n_nodes > a->nb_n)
        grow_nodes(a);
    agg_node **b = &a->nb[h & (a->nb_n - 1)];
    n->next = *b;
    *b = n;
    if (a->n_nodes > a->st.peak_nodes)
        a->st.peak_nodes = a->n_nodes;
    return n;
}

int
graphagg_has_node(const graphagg *a, const graph_addr *addr)
{
    for (const agg_node *n = a->nb[hash_addr(addr) & (a->nb_n - 1)]; n; n = n->next)
        if (addr_eq(&n->addr, addr))
            return n->create;
    return 0;
}

static agg_edge *
edge_find(graphagg *a, const agg_ekey *k, uint32_t h)
{
    for (agg_edge *e = a->eb[h & (a->eb_n - 1)]; e; e = e->next)
        if (memcmp(&e->k, k, sizeof(*k)) == 0)
            return e;
    return NULL;
}

static agg_edge *
edge_add(graphagg *a, const agg_ekey *k, uint32_t h)
{
    agg_edge *e = calloc(1, sizeof(*e));
    if (!e) {
        fail(a, "out of memory");
        return NULL;
    }
    e->k = *k;
    if (++a->n_edges > a->eb_n)
        grow_edges(a);
    agg_edge **b = &a->eb[h & (a->eb_n - 1)];
    e->next = *b;
    *b = e;
    if (a->n_edges > a->st.peak_edges)
        a->st.peak_edges = a->n_edges;
    return e;
}

/* Index of an application name, added if new; the "Unknown" index if the table is full. */
static uint16_t
app_index(graphagg *a, const char *name)
{
    if (!name || !name[0])
        name = "Unknown";
    for (unsigned i = 0; i < a->n_apps; i++)
        if (a->app_ptr[i] == name || strcmp(a->apps[i], name) == 0) {
            a->app_ptr[i] = name;
            return (uint16_t)i;
        }
    if (a->n_apps == AGG_MAX_APPS) {
        a->st.apps_dropped++;
        return app_index(a, "Unknown");
    }
    graph_strcpy(a->apps[a->n_apps], GRAPH_APP_LEN, name);
    a->app_ptr[a->n_apps] = name;
    return (uint16_t)a->n_apps++;
}

/* ---- days of an edge delta ----------------------------------------------------- */

static uint32_t
bits_top(uint64_t bits)
{
    return 63u - (uint32_t)__builtin_clzll(bits);
}

/* 1 if days [lo, hi] fit the bitmap with what it holds. */
static int
days_fit(const agg_edge *e, uint32_t lo, uint32_t hi)
{
    if (!e->day_bits)
        return hi - lo < 64;
    uint32_t mn = lo < e->day_base ? lo : e->day_base;
    uint32_t top = e->day_base + bits_top(e->day_bits);
    uint32_t mx = hi > top ? hi : top;
    return mx - mn < 64;
}

static void
days_put(agg_edge *e, uint32_t lo, uint32_t hi)
{
    if (!e->day_bits) {
        e->day_base = lo;
    } else if (lo < e->day_base) {
        e->day_bits <<= (e->day_base - lo);
        e->day_base = lo;
    }
    for (uint32_t d = lo; d <= hi; d++)
        e->day_bits |= 1ULL << (d - e->day_base);
}

/* ---- folding ------------------------------------------------------------------- */

static void
widen(uint64_t *first, uint64_t *last, uint64_t f, uint64_t l)
{
    if (f && (*first == 0 || f < *first))
        *first = f;
    if (l > *last)
        *last = l;
}

static void
node_add_mac(agg_node *n, const uint8_t mac[6], uint64_t ts)
{
    unsigned i, oldest = 0;
    for (i = 0; i < n->n_mac; i++)
        if (memcmp(n->mac[i].mac, mac, 6) == 0) {
            widen(&n->mac[i].first_ns, &n->mac[i].last_ns, ts, ts);
            return;
        }
    if (n->n_mac < GRAPH_MAX_MACS) {
        i = n->n_mac++;
    } else {
        for (i = 1; i < GRAPH_MAX_MACS; i++)
            if (n->mac[i].last_ns < n->mac[oldest].last_ns)
                oldest = i;
        i = oldest;
    }
    memcpy(n->mac[i].mac, mac, 6);
    n->mac[i].first_ns = n->mac[i].last_ns = ts;
}

void
graphagg_packet(graphagg *a, const flow *f, int from_client, const pkt_meta *m, uint64_t ts_ns)
{
    /* Once per flow direction: its first packet. */
    if (!m->has_mac || f->d[from_client ? 0 : 1].pkts != 1 || a->failed)
        return;
    graph_addr src;
    graph_addr_set(&src, m->src, m->ip_version);
    agg_node *n = node_get(a, &src);
    if (!n)
        return;
    n->create = 1;
    node_add_mac(n, m->src_mac, ts_ns);
}

static void
node_fold(graphagg *a, const graph_addr *addr, int server, const flow *f)
{
    agg_node *n = node_get(a, addr);
    if (!n)
        return;
    graph_counts *c = server ? &n->as_server : &n->as_client;
    n->create = 1;
    c->flows++;
    c->pkts += f->d[0].pkts + f->d[1].pkts;
    c->bytes += f->d[0].bytes + f->d[1].bytes;
    widen(&n->first_ns, &n->last_ns, f->first_ns, f->last_ns);
}

void
graphagg_flow(graphagg *a, const flow *f, const char *app, int icmp_type,
              const char *server_name)
{
    agg_ekey k;
    if (a->failed)
        return;
    memset(&k, 0, sizeof(k));
    graph_addr_set(&k.c, flow_caddr(f), f->key.ip_version);
    graph_addr_set(&k.s, flow_saddr(f), f->key.ip_version);
    k.proto = f->key.proto;
    if (k.proto == 1 || k.proto == 58) {
        /* ICMP: the type; echo flows (identifier in the ports) as echo request. */
        int t = icmp_type;
        if (t < 0 && (f->key.pa || f->key.pb))
            t = k.proto == 1 ? 8 : 128;
        if ((k.proto == 1 && t == 0) || (k.proto == 58 && t == 129))
            t = k.proto == 1 ? 8 : 128;     /* a reply seen first: the request's type */
        k.port = t < 0 ? 0 : (uint16_t)t;
    } else {
        k.port = flow_sport(f);
    }
    k.app = app_index(a, app);

    uint32_t d0 = graph_day(f->first_ns), d1 = graph_day(f->last_ns);
    if (d1 < d0)
        d1 = d0;
    if (d1 - d0 > 63)
        d0 = d1 - 63;       /* a flow longer than 64 days: its last 64 */

    /* Make room first, so that a flush never holds part of this flow. */
    uint32_t h = hash_bytes(&k, sizeof(k));
    agg_edge *e = edge_find(a, &k, h);
    if ((e && !days_fit(e, d0, d1)) || (!e && a->n_edges >= a->cfg.max_edges) ||
        a->n_nodes + 2 > a->cfg.max_nodes) {
        a->st.flushes_forced++;
        if (graphagg_flush(a) < 0)
            return;
        e = NULL;
    }
    if (!e && !(e = edge_add(a, &k, h)))
        return;
    e->flows++;
    for (int i = 0; i < 2; i++) {
        e->pkts[i] += f->d[i].pkts;
        e->bytes[i] += f->d[i].bytes;
    }
    widen(&e->first_ns, &e->last_ns, f->first_ns, f->last_ns);
    if (f->origin == FLOW_ORIGIN_HANDSHAKE || f->origin == FLOW_ORIGIN_SYNACK)
        e->hs++;
    else
        e->heur++;
    days_put(e, d0, d1);
    if (server_name && server_name[0] && e->n_name < GRAPH_MAX_NAMES &&
        !netclass_is_internal(a->cfg.nc, k.s.a, k.s.family)) {
        if (!e->names) {
            e->names = calloc(GRAPH_MAX_NAMES, GRAPH_NAME_LEN);
            if (e->names)
                a->n_names++;
        }
        if (e->names) {
            char s[GRAPH_NAME_LEN];
            int dup = 0;
            graph_strcpy(s, sizeof(s), server_name);
            for (unsigned i = 0; i < e->n_name; i++)
                dup |= strcmp(e->names[i], s) == 0;
            if (!dup)
                memcpy(e->names[e->n_name++], s, sizeof(s));
        }
    }
    a->st.flows++;
    a->cap.flows++;
    node_fold(a, &k.c, 0, f);
    node_fold(a, &k.s, 1, f);
}

void
graphagg_ident(graphagg *a, const graph_addr *addr, const char *kind, const char *value,
               const char *source, uint64_t first_ns, uint64_t last_ns, int create)
{
    if (a->failed || !value || !value[0])
        return;
    agg_node *n = node_get(a, addr);
    if (!n)
        return;
    a->st.idents++;
    if (create)
        n->create = 1;
    /* The same identity again only widens its times. */
    graph_ident id;
    graph_strcpy(id.kind, sizeof(id.kind), kind);
    graph_strcpy(id.value, sizeof(id.value), value);
    graph_strcpy(id.source, sizeof(id.source), source);
    unsigned count = 0;
    for (agg_ident *x = n->idents; x; x = x->next, count++)
        if (strcmp(x->id.kind, id.kind) == 0 && strcmp(x->id.value, id.value) == 0 &&
            strcmp(x->id.source, id.source) == 0) {
            widen(&x->id.first_ns, &x->id.last_ns, first_ns, last_ns);
            return;
        }
    if (count >= AGG_MAX_IDENTS)
        return;     /* the record keeps GRAPH_MAX_IDENTS anyway */
    agg_ident *x = malloc(sizeof(*x));
    if (!x) {
        fail(a, "out of memory");
        return;
    }
    x->id = id;
    x->id.first_ns = first_ns;
    x->id.last_ns = last_ns;
    x->next = n->idents;
    n->idents = x;
    a->n_idents++;
}

/* ---- flushing ------------------------------------------------------------------ */

/* Node delta n as a record, merged into what the database holds; 0 put, 1 skipped, -1 error. */
static int
flush_node(graphagg *a, const agg_node *n)
{
    graph_node *rec = a->rec_node, *d = a->delta_node;
    int r = graph_get_node(a->g, &n->addr, rec);
    if (r == 0 && !n->create) {
        for (agg_ident *x = n->idents; x; x = x->next)
            a->st.idents_dropped++;
        return 1;
    }
    if (r < 0)
        a->st.corrupt_replaced++;
    if (r <= 0) {
        graph_node_init(rec, &n->addr);
        a->st.nodes_new++;
    }
    /* Only identities for a stored node: skip the write if nothing changes. */
    size_t before = 0;
    if (r == 1 && !n->create)
        before = graphrec_node_encode(rec, a->enc, sizeof(a->enc));
    graph_node_init(d, &n->addr);
    d->internal = (uint8_t)netclass_is_internal(a->cfg.nc, n->addr.a, n->addr.family);
    d->first_ns = n->first_ns;
    d->last_ns = n->last_ns;
    d->as_client = n->as_client;
    d->as_server = n->as_server;
    d->n_mac = n->n_mac;
    memcpy(d->mac, n->mac, sizeof(d->mac));
    graph_node_merge(rec, d);
    for (agg_ident *x = n->idents; x; x = x->next)
        graph_node_add_ident(rec, x->id.kind, x->id.value, x->id.source,
                             x->id.first_ns, x->id.last_ns);
    if (a->cfg.annotate)
        a->cfg.annotate(a->cfg.ctx, rec);
    if (before) {
        size_t after = graphrec_node_encode(rec, a->enc2, sizeof(a->enc2));
        if (after == before && memcmp(a->enc, a->enc2, after) == 0) {
            a->st.nodes_unchanged++;
            return 1;
        }
    }
    if (graph_batch_put_node(a->batch, rec) < 0)
        return -1;
    a->st.nodes_written++;
    return 0;
}

static int
flush_edge(graphagg *a, const agg_edge *e)
{
    graph_edge *rec = a->rec_edge, *d = a->delta_edge;
    graph_edge_key k;
    memset(&k, 0, sizeof(k));
    k.client = e->k.c;
    k.server = e->k.s;
    k.proto = e->k.proto;
    k.port = e->k.port;
    memcpy(k.app, a->apps[e->k.app], GRAPH_APP_LEN);
    int r = graph_get_edge(a->g, &k, rec);
    if (r < 0)
        a->st.corrupt_replaced++;
    if (r <= 0) {
        graph_edge_init(rec, &k);
        a->st.edges_new++;
    }
    graph_edge_init(d, &k);
    d->flows = e->flows;
    memcpy(d->pkts, e->pkts, sizeof(d->pkts));
    memcpy(d->bytes, e->bytes, sizeof(d->bytes));
    d->first_ns = e->first_ns;
    d->last_ns = e->last_ns;
    d->flows_handshake = e->hs;
    d->flows_heuristic = e->heur;
    for (uint64_t bits = e->day_bits; bits; bits &= bits - 1)
        graph_days_add(&d->days, e->day_base + (uint32_t)__builtin_ctzll(bits));
    for (unsigned i = 0; i < e->n_name; i++)
        graph_edge_add_name(d, e->names[i]);
    graph_edge_merge(rec, d);
    if (graph_batch_put_edge(a->batch, rec) < 0)
        return -1;
    a->st.edges_written++;
    return 0;
}

int
graphagg_flush(graphagg *a)
{
    char why[512];
    if (a->failed)
        return -1;
    uint64_t t0 = mono_ns();
    a->in_flush = 1;
    if (a->cfg.preflush)
        a->cfg.preflush(a->cfg.ctx, a);
    a->in_flush = 0;
    if (a->failed)
        return -1;
    for (size_t i = 0; i < a->nb_n; i++)
        for (agg_node *n = a->nb[i]; n; n = n->next)
            if (flush_node(a, n) < 0) {
                fail(a, "cannot encode a node record");
                return -1;
            }
    for (size_t i = 0; i < a->eb_n; i++)
        for (agg_edge *e = a->eb[i]; e; e = e->next)
            if (flush_edge(a, e) < 0) {
                fail(a, "cannot encode an edge record");
                return -1;
            }
    a->cap.end_ns = wall_ns();
    a->cap.flushes++;
    if (graph_batch_put_capture(a->batch, &a->cap) < 0) {
        fail(a, "cannot encode the capture record");
        return -1;
    }
    size_t bytes = graph_batch_bytes(a->batch);
    if (graph_batch_commit(a->batch, why, sizeof(why)) < 0) {
        a->cap.flushes--;
        fail(a, why);
        return -1;
    }
    if (bytes > a->st.batch_bytes_max)
        a->st.batch_bytes_max = bytes;
    clear_deltas(a);
    a->st.flushes++;
    uint64_t t1 = mono_ns();
    double secs = (double)(t1 - t0) / 1e9;
    a->st.flush_secs += secs;
    if (secs > a->st.flush_secs_max)
        a->st.flush_secs_max = secs;
    a->next_flush_ns = t1 + (uint64_t)(a->cfg.flush_interval_s * 1e9);
    return 0;
}

int
graphagg_tick(graphagg *a)
{
    if (a->failed)
        return -1;
    if (a->cfg.flush_interval_s <= 0 || (++a->ticks & 15) != 0)
        return 0;
    if (mono_ns() < a->next_flush_ns)
        return 0;
    return graphagg_flush(a) == 0 ? 1 : -1;
}

int
graphagg_finish(graphagg *a, int state)
{
    a->cap.state = (uint8_t)state;
    return graphagg_flush(a);
}
