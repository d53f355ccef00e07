/*
 * segment.c - grouping workloads into segments (see segment.h).
 *
 * How it works
 * ------------
 * The goal is one segment per (role, application, environment): the web
 * servers of the shop in production, the office workstations, the domain
 * controllers.  Nothing in the traffic says "role"; what it shows is what
 * each host does: the services it offers (protocol and port, and who
 * uses them) and the services it uses (and from whom).  Hosts with the
 * same role behave alike, so grouping by behaviour recovers roles.  The
 * steps:
 *
 * 1. Evidence.  Only internal hosts that sent at least one packet are
 *    segmented (an address that never answers is "dead"; broadcast,
 *    multicast and unspecified addresses are never workloads).  Edges are
 *    set aside when they cannot describe a role: a TCP or ICMP edge the
 *    server never answered, an edge to a dead host, and the probes of a
 *    scanner (a client that touched >= 16 ports on >= 4 hosts, >= 80% of
 *    them in a single flow; its edges of one or two flows are probes, its
 *    own DNS, NTP or syslog are kept).  A host's traffic with itself is
 *    left out too.
 *
 * 2. Behaviour, refined over peers (colour refinement, as in the
 *    Weisfeiler-Lehman test and in the role classification of Tan et al.,
 *    USENIX ATC 2003).  Each host gets a set of features
 *        (direction, protocol, service port, colour of the peer)
 *    where the service port is the server's port (ports >= 49152 are one
 *    "dynamic" class), and the colour of a peer is its group from the
 *    previous round ("internet" for external peers; in round 0 every
 *    internal peer has the same colour, so round 0 groups hosts by the
 *    ports they offer and use).  Features are weighted by inverse
 *    document frequency, log((n+1)/df): a service everybody uses (DNS,
 *    the monitoring ping) weighs almost nothing, so shared infrastructure
 *    is not glue that pulls unrelated hosts together, while a rare
 *    service (RDP to the jump hosts) sets its users apart.  A feature
 *    seen in a single flow counts a quarter (one-off flows are weak
 *    evidence of a role).  Within each group of the previous round, hosts
 *    with identical features are taken together, largest first, and join
 *    the most similar cluster built so far when the similarity is at
 *    least `join` (0.5), else start one.  The similarity of a host with a
 *    cluster is the smaller of "explained" (the weighted share of the
 *    host's features that at least 20% of the cluster shows) and "core"
 *    (the weighted share of the cluster's features shown by half its
 *    members that the host shows): a workstation that never printed is
 *    still a workstation, one that RDPs to the jump hosts is not.  A
 *    second pass moves each group to its most similar cluster under the
 *    final centroids, and a third merges clusters whose centroids are
 *    alike (weighted Ruzicka similarity >= join).  Rounds stop when the
 *    number of groups no longer changes, or after `rounds` (3).
 *
 * 3. Location and identity.  Refinement cannot tell apart two copies of
 *    the same structure (the app tier of the shop and the app tier of
 *    HR look alike).  So each behaviour group is cut into parts by /26
 *    (IPv4) or /64 (IPv6) subnet, and parts are merged again when they
 *    talk to the same peers: the overlap of their peer sets (peers with
 *    at least two flows), each peer weighted by the inverse of the share
 *    of the group's parts that talk to it, so that peers every part talks
 *    to (its infrastructure) count for nothing, is at least `peer_merge`
 *    (0.5) of the smaller set.  Office workstations spread over several
 *    /24s come back together; the shop's app servers and HR's stay apart.
 *    Names then decide where they speak: parts whose hosts share a name
 *    stem (web-shop-p01, web-shop-p02: "web-shop-p") merge, parts named
 *    differently never merge on peers alone; groups that behaviour kept
 *    apart merge when their hosts are mostly (>= 80%) named alike and
 *    offer the same services (Jaccard >= 0.5 over services with two
 *    flows or more); a group splits when it holds another name family
 *    (ITADM-01, ITADM-02 among WS-0001...).  Finally a host with no
 *    behaviour of its own (it used nothing and offered nothing but ICMP:
 *    switched off that day, or seen only by a scanner) follows its name
 *    stem, or else the group that holds at least half of its /24.
 *
 * 4. Labels.  A host with a user label `role` (and optionally `app` and
 *    `env`) goes to the segment of that label triple, whatever its
 *    behaviour; labelled hosts keep that colour in every round, so they
 *    still shape their peers' groups, and are never merged or split.
 *
 * 5. Presentation.  A segment is named from the name tokens most of its
 *    hosts share (DHCP, NetBIOS, Kerberos, DNS names) or, failing names,
 *    from the service it offers; each member gets a confidence (its
 *    similarity with its cluster; 0.3 for a host placed without
 *    behaviour) and each segment flags and an explanation.  Member
 *    address blocks come from cidr.h.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recommender/segment.h"

#define COLOUR_INTERNET 0xfffffffeu
#define FEAT_SCANNER 0xffffffffffffffffULL
#define PORT_DYNAMIC 49152

/* One segment of the result. */
typedef struct seginfo {
    uint32_t mem_off, mem_n;    /* its members in members[] */
    uint32_t blk_off, blk_n;    /* its blocks in blocks[] */
    char *id, *name, *why;      /* owned strings */
    unsigned flags;             /* SEG_F_* */
    uint32_t minhost;           /* member with the smallest address (ordering) */
} seginfo;

/* The result of seg_build. */
struct segmentation {
    uint32_t n_hosts;           /* hosts in the model */
    uint32_t *seg;              /* per host: segment or SEG_NONE */
    unsigned char *hflags;      /* per host: SEG_HOST_* */
    float *conf;                /* per host: confidence */
    seginfo *segs;              /* segments */
    uint32_t n_segs;            /* segments */
    uint32_t *members;          /* members of all segments, grouped */
    cidr_block *blocks;         /* blocks of all segments, grouped */
    uint32_t n_blocks;          /* blocks */
};

void
seg_cfg_default(seg_cfg *cfg)
{
    cfg->join = 0.5;
    cfg->peer_merge = 0.5;
    cfg->rounds = 3;
    cfg->use_labels = 1;
    cfg->use_names = 1;
    cidr_cfg_default(&cfg->cidr);
}

/* ---- small containers --------------------------------------------------- */

/* An open-addressing map from a 64-bit key to a 32-bit value. */
typedef struct u64map {
    uint64_t *keys;             /* keys; slot empty when used[] is 0 */
    uint32_t *vals;             /* values */
    uint8_t *used;              /* 1 = slot in use */
    size_t cap, n;              /* slots (power of two), entries */
} u64map;

static uint64_t
mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static int
u64map_init(u64map *m, size_t hint)
{
    size_t cap = 64;
    while (cap < hint * 2)
        cap *= 2;
    m->keys = malloc(cap * sizeof(uint64_t));
    m->vals = malloc(cap * sizeof(uint32_t));
    m->used = calloc(cap, 1);
    m->cap = cap;
    m->n = 0;
    return m->keys && m->vals && m->used ? 0 : -1;
}

static void
u64map_done(u64map *m)
{
    free(m->keys);
    free(m->vals);
    free(m->used);
    memset(m, 0, sizeof(*m));
}

/* Pointer to the value of key, inserting val0 if absent; NULL on OOM. */
static uint32_t *
u64map_get(u64map *m, uint64_t key, uint32_t val0, int *added)
{
    if ((m->n + 1) * 2 > m->cap) {
        u64map nm;
        if (u64map_init(&nm, m->cap) < 0) {
            u64map_done(&nm);
            return NULL;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->used[i]) {
                size_t h = mix64(m->keys[i]) & (nm.cap - 1);
                while (nm.used[h])
                    h = (h + 1) & (nm.cap - 1);
                nm.used[h] = 1;
                nm.keys[h] = m->keys[i];
                nm.vals[h] = m->vals[i];
            }
        nm.n = m->n;
        u64map_done(m);
        *m = nm;
    }
    size_t h = mix64(key) & (m->cap - 1);
    while (m->used[h]) {
        if (m->keys[h] == key) {
            if (added)
                *added = 0;
            return &m->vals[h];
        }
        h = (h + 1) & (m->cap - 1);
    }
    m->used[h] = 1;
    m->keys[h] = key;
    m->vals[h] = val0;
    m->n++;
    if (added)
        *added = 1;
    return &m->vals[h];
}

static uint32_t *
u64map_find(const u64map *m, uint64_t key)
{
    if (!m->cap)
        return NULL;
    size_t h = mix64(key) & (m->cap - 1);
    while (m->used[h]) {
        if (m->keys[h] == key)
            return &m->vals[h];
        h = (h + 1) & (m->cap - 1);
    }
    return NULL;
}

/* Union-find over uint32 indices. */
static uint32_t
uf_find(uint32_t *p, uint32_t x)
{
    while (p[x] != x) {
        p[x] = p[p[x]];
        x = p[x];
    }
    return x;
}

static void
uf_union(uint32_t *p, uint32_t a, uint32_t b)
{
    a = uf_find(p, a);
    b = uf_find(p, b);
    if (a != b) {
        if (a < b)
            p[b] = a;
        else
            p[a] = b;
    }
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- evidence ------------------------------------------------------------- */

/* Per-host facts used throughout. */
typedef struct hinfo {
    uint32_t local;             /* index among segmented hosts, or SEG_NONE */
    uint32_t colour;            /* current group */
    uint32_t fixed;             /* label group + 1, or 0 */
    uint32_t deg;               /* distinct internal partners over usable edges */
} hinfo;

/* Is the edge evidence of a role? */
static int
edge_usable(const model *m, const unsigned char *hflags, const model_edge *e)
{
    if (e->client == e->server)
        return 0;
    if (hflags[e->client] & SEG_HOST_DEAD)
        return 0;
    if ((hflags[e->client] & SEG_HOST_SCANNER) && e->flows <= 2)
        return 0;               /* a probe; the scanner's own DNS, NTP... are kept */
    if (hflags[e->server] & SEG_HOST_DEAD)
        return 0;
    if ((e->proto == 6 || e->proto == 1 || e->proto == 58) && e->pkts[1] == 0)
        return 0;
    (void)m;
    return 1;
}

static void
find_scanners_and_dead(const model *m, unsigned char *hflags)
{
    uint32_t n = model_n_hosts(m);
    uint32_t *ports = NULL, cap = 0;
    for (uint32_t h = 0; h < n; h++) {
        const model_host *x = model_host_get(m, h);
        if (!x->internal)
            continue;
        if (!x->alive) {
            hflags[h] |= SEG_HOST_DEAD;
            continue;
        }
        uint32_t no;
        const uint32_t *out = model_out(m, h, &no);
        if (no < 16)
            continue;
        if (no > cap) {
            uint32_t *np = realloc(ports, no * sizeof(uint32_t));
            if (!np)
                break;
            ports = np;
            cap = no;
        }
        uint32_t k = 0, single = 0, servers = 0, last = MODEL_NONE;
        for (uint32_t i = 0; i < no; i++) {
            const model_edge *e = model_edge_get(m, out[i]);
            if (!model_host_get(m, e->server)->internal)
                continue;
            ports[k++] = ((uint32_t)e->proto << 16) | e->port;
            if (e->flows <= 1)
                single++;
            if (e->server != last) {     /* out-edges are sorted by server */
                servers++;
                last = e->server;
            }
        }
        if (k < 16)
            continue;
        qsort(ports, k, sizeof(uint32_t), cmp_u32);
        uint32_t distinct = 0;
        for (uint32_t i = 0; i < k; i++)
            if (i == 0 || ports[i] != ports[i - 1])
                distinct++;
        if (distinct >= 16 && servers >= 4 && single * 5 >= k * 4)
            hflags[h] |= SEG_HOST_SCANNER;
    }
    free(ports);
}

/* ---- features ------------------------------------------------------------- */

static uint64_t
feat_key(int dir, int proto, int port, uint32_t colour)
{
    if (proto == 1 || proto == 58)
        port = 0;               /* ICMP: the type is not a service */
    if (port >= PORT_DYNAMIC)
        port = PORT_DYNAMIC;
    return ((uint64_t)dir << 57) | ((uint64_t)proto << 49) | ((uint64_t)port << 32) | colour;
}

/* Feature lists of all local hosts of one round. */
typedef struct featset {
    uint32_t *off;              /* per local host: start in fid[]/x[] (n+1 entries) */
    uint32_t *fid;              /* feature ids, sorted per host */
    float *x;                   /* strength per entry: 1 or 0.25 */
    double *w;                  /* weight per feature id */
    uint32_t n_feat;            /* distinct features */
} featset;

static void
featset_free(featset *f)
{
    free(f->off);
    free(f->fid);
    free(f->x);
    free(f->w);
    memset(f, 0, sizeof(*f));
}

/* (key, flows) pairs of one host, before sorting. */
typedef struct kv {
    uint64_t key;               /* feature key */
    uint64_t flows;             /* flows behind it */
} kv;

static int
kv_cmp(const void *a, const void *b)
{
    uint64_t x = ((const kv *)a)->key, y = ((const kv *)b)->key;
    return x < y ? -1 : x > y;
}

static int
build_features(const model *m, const unsigned char *hflags, const hinfo *hi,
               const uint32_t *locals, uint32_t nl, int round, featset *fs)
{
    memset(fs, 0, sizeof(*fs));
    u64map ids = {0};
    size_t total = 0, cap = 0;
    kv *tmp = NULL;
    uint32_t tcap = 0;
    fs->off = malloc(((size_t)nl + 1) * sizeof(uint32_t));
    if (!fs->off || u64map_init(&ids, 1024) < 0)
        goto oom;
    for (uint32_t li = 0; li < nl; li++) {
        uint32_t h = locals[li], no, ni;
        const uint32_t *out = model_out(m, h, &no), *in = model_in(m, h, &ni);
        if (no + ni + 1 > tcap) {
            tcap = no + ni + 1;
            kv *nt = realloc(tmp, tcap * sizeof(kv));
            if (!nt)
                goto oom;
            tmp = nt;
        }
        uint32_t k = 0;
        for (int dir = 0; dir < 2; dir++) {
            const uint32_t *list = dir ? in : out;
            uint32_t cnt = dir ? ni : no;
            for (uint32_t i = 0; i < cnt; i++) {
                const model_edge *e = model_edge_get(m, list[i]);
                if (!edge_usable(m, hflags, e))
                    continue;
                uint32_t peer = dir ? e->client : e->server;
                uint32_t col;
                if (!model_host_get(m, peer)->internal)
                    col = COLOUR_INTERNET;
                else if (hi[peer].local == SEG_NONE)
                    continue;
                else
                    col = round == 0 && !hi[peer].fixed ? 0 : hi[peer].colour;
                tmp[k].key = feat_key(dir, e->proto, e->port, col);
                tmp[k].flows = e->flows;
                k++;
            }
        }
        if (hflags[h] & SEG_HOST_SCANNER) {
            tmp[k].key = FEAT_SCANNER;
            tmp[k].flows = 2;
            k++;
        }
        qsort(tmp, k, sizeof(kv), kv_cmp);
        uint32_t w = 0;
        for (uint32_t i = 0; i < k; i++) {
            if (w && tmp[w - 1].key == tmp[i].key)
                tmp[w - 1].flows += tmp[i].flows;
            else
                tmp[w++] = tmp[i];
        }
        if (total + w > cap) {
            size_t nc = cap ? cap * 2 : 4096;
            while (nc < total + w)
                nc *= 2;
            uint32_t *nf = realloc(fs->fid, nc * sizeof(uint32_t));
            if (!nf)
                goto oom;
            fs->fid = nf;
            float *nx = realloc(fs->x, nc * sizeof(float));
            if (!nx)
                goto oom;
            fs->x = nx;
            cap = nc;
        }
        fs->off[li] = (uint32_t)total;
        for (uint32_t i = 0; i < w; i++) {
            int added;
            uint32_t *id = u64map_get(&ids, tmp[i].key, (uint32_t)ids.n, &added);
            if (!id)
                goto oom;
            fs->fid[total] = *id;
            fs->x[total] = tmp[i].flows >= 2 ? 1.0f : 0.25f;
            total++;
        }
        /* sort this host's fids (keys were sorted, ids are not) */
        for (uint32_t i = fs->off[li] + 1; i < total; i++) {
            uint32_t f = fs->fid[i];
            float xv = fs->x[i];
            uint32_t j = i;
            while (j > fs->off[li] && fs->fid[j - 1] > f) {
                fs->fid[j] = fs->fid[j - 1];
                fs->x[j] = fs->x[j - 1];
                j--;
            }
            fs->fid[j] = f;
            fs->x[j] = xv;
        }
    }
    fs->off[nl] = (uint32_t)total;
    fs->n_feat = (uint32_t)ids.n;
    fs->w = calloc(fs->n_feat ? fs->n_feat : 1, sizeof(double));
    if (!fs->w)
        goto oom;
    uint32_t *df = calloc(fs->n_feat ? fs->n_feat : 1, sizeof(uint32_t));
    if (!df)
        goto oom;
    for (size_t i = 0; i < total; i++)
        df[fs->fid[i]]++;
    for (uint32_t f = 0; f < fs->n_feat; f++)
        fs->w[f] = log((double)(nl + 1) / (double)df[f]);
    free(df);
    free(tmp);
    u64map_done(&ids);
    return 0;
oom:
    free(tmp);
    u64map_done(&ids);
    featset_free(fs);
    return -1;
}

/* ---- clustering one round ------------------------------------------------ */

/* A group of local hosts with identical features. */
typedef struct sgroup {
    uint32_t first;             /* position in the order[] array */
    uint32_t size;              /* hosts */
    uint32_t prev;              /* previous colour */
    uint32_t minl;              /* smallest local index (ties) */
} sgroup;

static const featset *g_fs;     /* for qsort comparators only (set and cleared around the call) */
static const uint32_t *g_prev;

static int
host_sig_cmp(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    if (g_prev[a] != g_prev[b])
        return g_prev[a] < g_prev[b] ? -1 : 1;
    uint32_t na = g_fs->off[a + 1] - g_fs->off[a], nb = g_fs->off[b + 1] - g_fs->off[b];
    uint32_t n = na < nb ? na : nb;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t fa = g_fs->fid[g_fs->off[a] + i], fb = g_fs->fid[g_fs->off[b] + i];
        if (fa != fb)
            return fa < fb ? -1 : 1;
        float xa = g_fs->x[g_fs->off[a] + i], xb = g_fs->x[g_fs->off[b] + i];
        if (xa != xb)
            return xa < xb ? -1 : 1;
    }
    if (na != nb)
        return na < nb ? -1 : 1;
    return a < b ? -1 : a > b;
}

static int
same_sig(const featset *fs, uint32_t a, uint32_t b)
{
    uint32_t na = fs->off[a + 1] - fs->off[a], nb = fs->off[b + 1] - fs->off[b];
    if (na != nb)
        return 0;
    return memcmp(fs->fid + fs->off[a], fs->fid + fs->off[b], na * sizeof(uint32_t)) == 0 &&
           memcmp(fs->x + fs->off[a], fs->x + fs->off[b], na * sizeof(float)) == 0;
}

static int
group_cmp(const void *pa, const void *pb)
{
    const sgroup *a = pa, *b = pb;
    if (a->prev != b->prev)
        return a->prev < b->prev ? -1 : 1;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    return a->minl < b->minl ? -1 : a->minl > b->minl;
}

/* A cluster under construction: its centroid is cnt(feature) / n. */
typedef struct clus {
    double n;                   /* hosts */
    uint32_t *fid;              /* features any member has */
    uint32_t nf, capf;          /* features, allocated */
} clus;

/* Shared state of one clustering round. */
typedef struct cround {
    const featset *fs;          /* the features */
    clus *cl;                   /* clusters */
    u64map cnt;                 /* (cluster, feature) -> index into cntv */
    double *cntv;               /* summed strength of a feature over a cluster's members */
    size_t cntv_cap;            /* allocated entries of cntv */
} cround;

/* Share of members of cluster c with feature f (strength-weighted). */
static double
cr_p(const cround *r, uint32_t c, uint32_t f)
{
    uint32_t *pv = u64map_find(&r->cnt, ((uint64_t)c << 32) | f);
    return pv ? r->cntv[*pv] / r->cl[c].n : 0;
}

/*
 * Similarity of a feature set (gf, gx, gn) with cluster c, 0..1: the
 * smaller of
 *   explained  the weighted share of the host's features that at least
 *              20% of the cluster also shows (extra services set a host
 *              apart in proportion to their weight), and
 *   core       the weighted share of the cluster's core features (shown
 *              by at least half its members) that the host shows.
 * Tolerant of hosts that use only part of what their group uses (one
 * workstation prints, another does not), strict about what is rare.
 */
static double
cr_sim(const cround *r, uint32_t c, const uint32_t *gf, const float *gx, uint32_t gn)
{
    const featset *fs = r->fs;
    double e_num = 0, e_den = 0, c_num = 0, c_den = 0;
    for (uint32_t i = 0; i < gn; i++) {
        double w = fs->w[gf[i]] * gx[i];
        double p = cr_p(r, c, gf[i]);
        e_den += w;
        e_num += w * (p >= 0.2 ? 1.0 : p / 0.2);
    }
    const clus *k = &r->cl[c];
    for (uint32_t i = 0; i < k->nf; i++) {
        double p = cr_p(r, c, k->fid[i]);
        if (p < 0.5)
            continue;
        double w = fs->w[k->fid[i]];
        c_den += w;
        /* binary search: gf is sorted */
        uint32_t lo = 0, hi = gn;
        while (lo < hi) {
            uint32_t mid = (lo + hi) / 2;
            if (gf[mid] < k->fid[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < gn && gf[lo] == k->fid[i])
            c_num += w;
    }
    double ex = e_den > 1e-12 ? e_num / e_den : 1.0;
    double co = c_den > 1e-12 ? c_num / c_den : 1.0;
    return ex < co ? ex : co;
}

/* Add `size` hosts with features (gf, gx, gn) to cluster c. 0 or -1. */
static int
cr_join(cround *r, uint32_t c, const uint32_t *gf, const float *gx, uint32_t gn, uint32_t size,
        uint32_t **inv, uint32_t *inv_n, uint32_t *inv_cap)
{
    for (uint32_t i = 0; i < gn; i++) {
        int added;
        uint32_t *pv = u64map_get(&r->cnt, ((uint64_t)c << 32) | gf[i], 0, &added);
        if (!pv)
            return -1;
        if (added) {
            *pv = (uint32_t)(r->cnt.n - 1);
            if (r->cnt.n > r->cntv_cap) {
                size_t nc = r->cntv_cap ? r->cntv_cap * 2 : 4096;
                double *nv = realloc(r->cntv, nc * sizeof(double));
                if (!nv)
                    return -1;
                r->cntv = nv;
                r->cntv_cap = nc;
            }
            r->cntv[*pv] = 0;
            clus *k = &r->cl[c];
            if (k->nf == k->capf) {
                uint32_t ncap = k->capf ? k->capf * 2 : 16;
                uint32_t *nf = realloc(k->fid, ncap * sizeof(uint32_t));
                if (!nf)
                    return -1;
                k->fid = nf;
                k->capf = ncap;
            }
            k->fid[k->nf++] = gf[i];
            uint32_t f = gf[i];
            if (inv_n[f] == inv_cap[f]) {
                uint32_t ncap = inv_cap[f] ? inv_cap[f] * 2 : 4;
                uint32_t *ni = realloc(inv[f], ncap * sizeof(uint32_t));
                if (!ni)
                    return -1;
                inv[f] = ni;
                inv_cap[f] = ncap;
            }
            inv[f][inv_n[f]++] = c;
        }
        r->cntv[*pv] += (double)size * gx[i];
    }
    r->cl[c].n += size;
    return 0;
}

/* Candidate clusters for a feature set: those sharing one of its heaviest features, and `largest`. */
static uint32_t
cr_candidates(const featset *fs, const uint32_t *gf, const float *gx, uint32_t gn, uint32_t first_cl,
              uint32_t largest, uint32_t *const *inv, const uint32_t *inv_n, uint32_t *mark,
              uint32_t stamp, uint32_t *cand, uint32_t max)
{
    uint32_t nc = 0;
    if (largest != UINT32_MAX) {
        cand[nc++] = largest;
        mark[largest] = stamp;
    }
    uint32_t top[8];
    int nt = 0;
    for (uint32_t i = 0; i < gn; i++) {
        double wi = fs->w[gf[i]] * gx[i];
        if (wi <= 0.01)
            continue;
        if (nt < 8) {
            top[nt++] = i;
        } else {
            int lo = 0;
            for (int k = 1; k < 8; k++)
                if (fs->w[gf[top[k]]] * gx[top[k]] < fs->w[gf[top[lo]]] * gx[top[lo]])
                    lo = k;
            if (fs->w[gf[top[lo]]] * gx[top[lo]] < wi)
                top[lo] = i;
        }
    }
    for (int k = 0; k < nt && nc < max; k++) {
        uint32_t f = gf[top[k]];
        for (uint32_t j = 0; j < inv_n[f] && nc < max; j++) {
            uint32_t c = inv[f][j];
            if (c >= first_cl && mark[c] != stamp) {
                mark[c] = stamp;
                cand[nc++] = c;
            }
        }
    }
    return nc;
}

/*
 * Split every previous colour of the local hosts into clusters.  prev[li]
 * is the previous colour; new colours go to next[li]; conf[li] gets the
 * host's similarity with its cluster.  Two passes: groups of identical
 * hosts, largest first, join the most similar cluster built so far (or
 * start one); then each group moves to its most similar cluster given the
 * final centroids, and clusters left empty are dropped.  Returns the
 * number of clusters, or -1 on OOM.
 */
static long
cluster_round(const featset *fs, uint32_t nl, const uint32_t *prev, const uint32_t *fixed,
              double join, uint32_t *next, float *conf)
{
    enum { MAXCAND = 48 };
    long ret = -1;
    size_t nn = nl ? nl : 1;
    uint32_t *order = malloc(nn * sizeof(uint32_t));
    sgroup *groups = malloc(nn * sizeof(sgroup));
    uint32_t *gcl = malloc(nn * sizeof(uint32_t));
    float *gsim = malloc(nn * sizeof(float));
    uint32_t *gfirst = malloc(nn * sizeof(uint32_t));
    uint32_t *mark = malloc(nn * sizeof(uint32_t));
    uint32_t *cand = malloc((MAXCAND + 1) * sizeof(uint32_t));
    uint32_t *remap = malloc(nn * sizeof(uint32_t));
    double *newn = calloc(nn, sizeof(double));
    uint32_t **inv = calloc(fs->n_feat ? fs->n_feat : 1, sizeof(uint32_t *));
    uint32_t *inv_n = calloc(fs->n_feat ? fs->n_feat : 1, sizeof(uint32_t));
    uint32_t *inv_cap = calloc(fs->n_feat ? fs->n_feat : 1, sizeof(uint32_t));
    cround r = { .fs = fs };
    r.cl = calloc(nn, sizeof(clus));
    uint32_t ncl = 0, ng = 0;
    if (!order || !groups || !gcl || !gsim || !gfirst || !mark || !cand || !remap || !newn || !inv ||
        !inv_n || !inv_cap || !r.cl || u64map_init(&r.cnt, nl * 4 + 64) < 0)
        goto done;
    for (uint32_t i = 0; i < nl; i++) {
        order[i] = i;
        mark[i] = UINT32_MAX;
    }
    g_fs = fs;
    g_prev = prev;
    qsort(order, nl, sizeof(uint32_t), host_sig_cmp);
    g_fs = NULL;
    g_prev = NULL;
    for (uint32_t i = 0; i < nl; i++) {
        uint32_t li = order[i];
        if (ng && groups[ng - 1].prev == prev[li] && same_sig(fs, order[groups[ng - 1].first], li)) {
            groups[ng - 1].size++;
            if (li < groups[ng - 1].minl)
                groups[ng - 1].minl = li;
        } else {
            groups[ng++] = (sgroup){ .first = i, .size = 1, .prev = prev[li], .minl = li };
        }
    }
    qsort(groups, ng, sizeof(sgroup), group_cmp);
    /* pass 1: greedy */
    uint32_t prev_colour = UINT32_MAX, first_cl = 0, largest = UINT32_MAX, stamp = 0;
    for (uint32_t gi = 0; gi < ng; gi++) {
        const sgroup *g = &groups[gi];
        uint32_t rep = order[g->first];
        const uint32_t *gf = fs->fid + fs->off[rep];
        const float *gx = fs->x + fs->off[rep];
        uint32_t gn = fs->off[rep + 1] - fs->off[rep];
        if (g->prev != prev_colour) {
            prev_colour = g->prev;
            first_cl = ncl;
            largest = UINT32_MAX;
        }
        gfirst[gi] = first_cl;
        uint32_t best = UINT32_MAX;
        double best_sim = -1;
        if (!fixed[rep]) {
            uint32_t nc = cr_candidates(fs, gf, gx, gn, first_cl, largest, inv, inv_n, mark, ++stamp,
                                        cand, MAXCAND);
            for (uint32_t k = 0; k < nc; k++) {
                double sim = cr_sim(&r, cand[k], gf, gx, gn);
                if (sim > best_sim || (sim == best_sim && cand[k] < best)) {
                    best_sim = sim;
                    best = cand[k];
                }
            }
            if (best != UINT32_MAX && best_sim < join)
                best = UINT32_MAX;
        }
        if (best == UINT32_MAX) {
            best = ncl++;
            best_sim = 1.0;
        }
        if (cr_join(&r, best, gf, gx, gn, g->size, inv, inv_n, inv_cap) < 0)
            goto done;
        if (largest == UINT32_MAX || r.cl[best].n > r.cl[largest].n)
            largest = best;
        gcl[gi] = best;
        gsim[gi] = (float)best_sim;
    }
    /* pass 2: each group to its most similar cluster under the final centroids */
    for (uint32_t gi = 0; gi < ng; gi++) {
        const sgroup *g = &groups[gi];
        uint32_t rep = order[g->first];
        if (fixed[rep])
            continue;
        const uint32_t *gf = fs->fid + fs->off[rep];
        const float *gx = fs->x + fs->off[rep];
        uint32_t gn = fs->off[rep + 1] - fs->off[rep];
        uint32_t nc = cr_candidates(fs, gf, gx, gn, gfirst[gi], gcl[gi], inv, inv_n, mark, ++stamp,
                                    cand, MAXCAND);
        uint32_t best = gcl[gi];
        double best_sim = cr_sim(&r, best, gf, gx, gn);
        for (uint32_t k = 0; k < nc; k++) {
            double sim = cr_sim(&r, cand[k], gf, gx, gn);
            if (sim > best_sim + 1e-9 && sim >= join) {
                best_sim = sim;
                best = cand[k];
            }
        }
        gcl[gi] = best;
        gsim[gi] = (float)best_sim;
    }
    /* pass 3: rebuild the centroids from the final assignment, then merge
       clusters whose centroids are alike (weighted Ruzicka similarity >=
       join), whatever their previous colour: a group that differs only in
       how many of its members use some service is one group, and a split
       that an earlier round made on thin evidence is undone */
    {
        cround r2 = { .fs = fs };
        r2.cl = calloc(ncl ? ncl : 1, sizeof(clus));
        uint32_t *uf = malloc((ncl ? ncl : 1) * sizeof(uint32_t));
        uint32_t *cprev = malloc((ncl ? ncl : 1) * sizeof(uint32_t));
        uint32_t *i2 = calloc(fs->n_feat ? fs->n_feat : 1, sizeof(uint32_t));
        uint32_t **v2 = calloc(fs->n_feat ? fs->n_feat : 1, sizeof(uint32_t *));
        uint32_t *c2 = calloc(fs->n_feat ? fs->n_feat : 1, sizeof(uint32_t));
        int ok = r2.cl && uf && cprev && i2 && v2 && c2 && u64map_init(&r2.cnt, nl * 4 + 64) == 0;
        for (uint32_t gi = 0; ok && gi < ng; gi++) {
            const sgroup *g = &groups[gi];
            uint32_t rep = order[g->first];
            cprev[gcl[gi]] = g->prev;
            if (cr_join(&r2, gcl[gi], fs->fid + fs->off[rep], fs->x + fs->off[rep],
                        fs->off[rep + 1] - fs->off[rep], g->size, v2, i2, c2) < 0)
                ok = 0;
        }
        for (uint32_t c = 0; ok && c < ncl; c++)
            uf[c] = c;
        /* candidates: clusters sharing one of a's heaviest features (labelled
           clusters never merge) */
        uint8_t *cfix = calloc(ncl ? ncl : 1, 1);
        uint32_t *mk = malloc((ncl ? ncl : 1) * sizeof(uint32_t));
        if (!cfix || !mk)
            ok = 0;
        for (uint32_t gi = 0; ok && gi < ng; gi++)
            if (fixed[order[groups[gi].first]])
                cfix[gcl[gi]] = 1;
        for (uint32_t c = 0; ok && c < ncl; c++)
            mk[c] = UINT32_MAX;
        for (uint32_t a = 0; ok && a < ncl; a++) {
            if (r2.cl[a].n == 0 || cfix[a] || uf_find(uf, a) != a)
                continue;
            const clus *ka = &r2.cl[a];
            uint32_t top[8];
            int nt = 0;
            for (uint32_t i = 0; i < ka->nf; i++) {
                double wi = fs->w[ka->fid[i]] * cr_p(&r2, a, ka->fid[i]);
                if (wi <= 0.01)
                    continue;
                if (nt < 8) {
                    top[nt++] = ka->fid[i];
                } else {
                    int lo = 0;
                    for (int k = 1; k < 8; k++)
                        if (fs->w[top[k]] * cr_p(&r2, a, top[k]) < fs->w[top[lo]] * cr_p(&r2, a, top[lo]))
                            lo = k;
                    if (fs->w[top[lo]] * cr_p(&r2, a, top[lo]) < wi)
                        top[lo] = ka->fid[i];
                }
            }
            uint32_t seen_b = 0;
            for (int t = 0; t < nt; t++) {
                for (uint32_t j = 0; j < i2[top[t]] && seen_b < 300; j++) {
                    uint32_t b = v2[top[t]][j];
                    if (b <= a || mk[b] == a || r2.cl[b].n == 0 || cfix[b] || uf_find(uf, b) != b)
                        continue;
                    mk[b] = a;
                    seen_b++;
                    double num = 0, den = 0;
                    for (int side = 0; side < 2; side++) {
                        const clus *k = &r2.cl[side ? b : a];
                        for (uint32_t i = 0; i < k->nf; i++) {
                            uint32_t f = k->fid[i];
                            double pa = cr_p(&r2, a, f), pb = cr_p(&r2, b, f);
                            if (side && pa > 0)
                                continue;   /* counted from a's side */
                            num += fs->w[f] * (pa < pb ? pa : pb);
                            den += fs->w[f] * (pa > pb ? pa : pb);
                        }
                    }
                    double sim = den > 1e-12 ? num / den : 1.0;
                    if (sim >= join)
                        uf[b] = a;
                }
            }
        }
        free(cfix);
        free(mk);
        if (ok)
            for (uint32_t gi = 0; gi < ng; gi++)
                gcl[gi] = uf_find(uf, gcl[gi]);
        for (uint32_t f = 0; v2 && f < fs->n_feat; f++)
            free(v2[f]);
        if (r2.cl)
            for (uint32_t c = 0; c < ncl; c++)
                free(r2.cl[c].fid);
        free(r2.cl);
        free(r2.cntv);
        u64map_done(&r2.cnt);
        free(uf);
        free(cprev);
        free(i2);
        free(v2);
        free(c2);
        if (!ok)
            goto done;
    }
    /* renumber non-empty clusters in order of first use */
    for (uint32_t c = 0; c < ncl; c++)
        remap[c] = UINT32_MAX;
    uint32_t used = 0;
    for (uint32_t gi = 0; gi < ng; gi++)
        if (remap[gcl[gi]] == UINT32_MAX)
            remap[gcl[gi]] = used++;
    for (uint32_t gi = 0; gi < ng; gi++) {
        const sgroup *g = &groups[gi];
        for (uint32_t i = 0; i < g->size; i++) {
            uint32_t li = order[g->first + i];
            next[li] = remap[gcl[gi]];
            conf[li] = gsim[gi] > 1.0f ? 1.0f : gsim[gi];
        }
    }
    ret = used;
done:
    if (inv)
        for (uint32_t f = 0; f < fs->n_feat; f++)
            free(inv[f]);
    if (r.cl)
        for (uint32_t c = 0; c < ncl; c++)
            free(r.cl[c].fid);
    free(r.cl);
    free(r.cntv);
    u64map_done(&r.cnt);
    free(inv);
    free(inv_n);
    free(inv_cap);
    free(order);
    free(groups);
    free(gcl);
    free(gsim);
    free(gfirst);
    free(mark);
    free(cand);
    free(remap);
    free(newn);
    return ret;
}

/* ---- names ---------------------------------------------------------------- */

int
seg_name_tokens(const char *name, char tok[][32], int max)
{
    int n = 0;
    const char *p = name;
    const char *dot = strchr(name, '.');
    const char *end = dot ? dot : name + strlen(name);
    /* a bare "HOST$" Kerberos machine name */
    if (end > name && end[-1] == '$')
        end--;
    while (p < end && n < max) {
        char t[32];
        int k = 0;
        while (p < end && *p != '-' && *p != '_' && *p != '.' && *p != ' ') {
            char c = *p++;
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            if (k < 31 && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
                t[k++] = c;
        }
        p++;
        while (k > 0 && t[k - 1] >= '0' && t[k - 1] <= '9')
            k--;
        t[k] = 0;
        if (k == 0)
            continue;
        memcpy(tok[n++], t, (size_t)k + 1);
    }
    return n;
}

/* Is this name attribute a host name (not a user, agent or vendor string)? */
static int
name_source_ok(const char *src)
{
    static const char *const bad[] = { "user_agent", "http_server", "ssh_banner", "dhcp_vendor",
                                       "dhcp_mac", "krb_user", "krb_realm", "user", "vendor", "mac",
                                       "realm", "agent", "banner", "server" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (strcmp(src, bad[i]) == 0)
            return 0;
    return 1;
}

/* Preference of a name source (lower is better). */
static int
name_rank(const char *src)
{
    static const char *const order[] = { "hostname", "dhcp_hostname", "netbios", "krb_user", "principal",
                                         "dhcp_fqdn", "llmnr", "mdns", "dns", "ptr" };
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        if (strcmp(src, order[i]) == 0)
            return (int)i;
    return 20;
}

/* The most host-like name of h (DHCP/NetBIOS/Kerberos names first, then DNS, then
   server names; of names from one source the most specific, with the most tokens:
   "shop-web-p01" rather than the service name "shop"), or NULL. */
static const char *
host_best_name(const model *m, uint32_t h)
{
    uint32_t n;
    const model_attr *a = model_host_attrs(m, h, &n);
    int best = -1, best_rank = 99, best_nt = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (a[i].kind != MODEL_ATTR_NAME || !name_source_ok(model_str(m, a[i].key)))
            continue;
        int r = name_rank(model_str(m, a[i].key));
        char tk[8][32];
        int nt = seg_name_tokens(model_str(m, a[i].value), tk, 8);
        if (nt == 0)
            continue;
        if (r < best_rank || (r == best_rank && nt > best_nt)) {
            best_rank = r;
            best_nt = nt;
            best = (int)i;
        }
    }
    return best < 0 ? NULL : model_str(m, a[best].value);
}

/* The name stem of a host: its tokens joined by '-' (from its best name), "" if none. */
static void
host_stem(const model *m, uint32_t h, char *out, size_t len)
{
    const char *name = host_best_name(m, h);
    out[0] = 0;
    if (!name)
        return;
    char tok[8][32];
    int nt = seg_name_tokens(name, tok, 8);
    size_t o = 0;
    for (int k = 0; k < nt && o + 1 < len; k++)
        o += (size_t)snprintf(out + o, len - o, "%s%s", k ? "-" : "", tok[k]);
}

/* 1 if the host's best name is numbered (its first label ends in a digit: "ITADM-02"). */
static int
host_numbered(const model *m, uint32_t h)
{
    const char *name = host_best_name(m, h);
    if (!name)
        return 0;
    size_t n = strcspn(name, ".");
    if (n && name[n - 1] == '$')
        n--;
    return n && name[n - 1] >= '0' && name[n - 1] <= '9';
}

/* ---- result helpers -------------------------------------------------------- */

static char *
xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    return d;
}

void
seg_free(segmentation *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->n_segs; i++) {
        free(s->segs[i].id);
        free(s->segs[i].name);
        free(s->segs[i].why);
    }
    free(s->segs);
    free(s->seg);
    free(s->hflags);
    free(s->conf);
    free(s->members);
    free(s->blocks);
    free(s);
}

uint32_t
seg_count(const segmentation *s)
{
    return s->n_segs;
}

uint32_t
seg_of(const segmentation *s, uint32_t h)
{
    return h < s->n_hosts ? s->seg[h] : SEG_NONE;
}

unsigned
seg_host_flags(const segmentation *s, uint32_t h)
{
    return h < s->n_hosts ? s->hflags[h] : 0;
}

double
seg_host_conf(const segmentation *s, uint32_t h)
{
    return h < s->n_hosts ? s->conf[h] : 0;
}

const uint32_t *
seg_members(const segmentation *s, uint32_t i, uint32_t *n)
{
    *n = s->segs[i].mem_n;
    return s->members + s->segs[i].mem_off;
}

const char *
seg_id(const segmentation *s, uint32_t i)
{
    return s->segs[i].id;
}
const char *
seg_name(const segmentation *s, uint32_t i)
{
    return s->segs[i].name;
}
const char *
seg_why(const segmentation *s, uint32_t i)
{
    return s->segs[i].why;
}
unsigned
seg_flags(const segmentation *s, uint32_t i)
{
    return s->segs[i].flags;
}

const cidr_block *
seg_blocks(const segmentation *s, uint32_t i, uint32_t *n)
{
    *n = s->segs[i].blk_n;
    return s->blocks + s->segs[i].blk_off;
}

/* ---- step 3: subnet parts merged by shared peers and names --------------- */

/* Subnet key of a host: /26 for IPv4, /64 for IPv6. */
static uint64_t
subnet_key(const model_host *x)
{
    uint64_t k = 0;
    if (x->ipv == 4) {
        k = ((uint64_t)x->addr[0] << 24) | ((uint64_t)x->addr[1] << 16) | ((uint64_t)x->addr[2] << 8) |
            (x->addr[3] & 0xc0);
        return k | (1ULL << 40);
    }
    for (int i = 0; i < 8; i++)
        k = (k << 8) | x->addr[i];
    return mix64(k) | 1;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorted distinct internal peers of a set of hosts over usable edges, those
   with at least min_flows flows in all (malloc'ed; NULL on OOM). */
static uint32_t *
peers_of(const model *m, const unsigned char *hflags, const hinfo *hi, const uint32_t *hosts,
         uint32_t n, uint64_t min_flows, uint32_t *np)
{
    size_t cap = 16, k = 0;
    uint64_t *p = malloc(cap * sizeof(uint64_t));
    if (!p)
        return NULL;
    for (uint32_t i = 0; i < n; i++) {
        for (int dir = 0; dir < 2; dir++) {
            uint32_t cnt;
            const uint32_t *list = dir ? model_in(m, hosts[i], &cnt) : model_out(m, hosts[i], &cnt);
            for (uint32_t j = 0; j < cnt; j++) {
                const model_edge *e = model_edge_get(m, list[j]);
                if (!edge_usable(m, hflags, e))
                    continue;
                uint32_t peer = dir ? e->client : e->server;
                if (hi[peer].local == SEG_NONE)
                    continue;
                if (k == cap) {
                    cap *= 2;
                    uint64_t *q = realloc(p, cap * sizeof(uint64_t));
                    if (!q) {
                        free(p);
                        return NULL;
                    }
                    p = q;
                }
                p[k++] = ((uint64_t)peer << 32) | (e->flows > 0xffffffffULL ? 0xffffffffULL : e->flows);
            }
        }
    }
    qsort(p, k, sizeof(uint64_t), cmp_u64);
    uint32_t *out = malloc((k ? k : 1) * sizeof(uint32_t));
    if (!out) {
        free(p);
        return NULL;
    }
    size_t w = 0, i = 0;
    while (i < k) {
        uint32_t peer = (uint32_t)(p[i] >> 32);
        uint64_t flows = 0;
        for (; i < k && (uint32_t)(p[i] >> 32) == peer; i++)
            flows += p[i] & 0xffffffffULL;
        if (flows >= min_flows)
            out[w++] = peer;
    }
    free(p);
    *np = (uint32_t)w;
    return out;
}

/* ---- seg_build ------------------------------------------------------------- */

/* A final segment under construction. */
typedef struct pre {
    uint32_t key;               /* component root (host index) or label group */
    uint32_t minhost;           /* member with the smallest address */
} pre;

static const model *g_m;

static int
host_addr_cmp(const void *pa, const void *pb)
{
    const model_host *a = model_host_get(g_m, *(const uint32_t *)pa);
    const model_host *b = model_host_get(g_m, *(const uint32_t *)pb);
    if (a->ipv != b->ipv)
        return a->ipv < b->ipv ? -1 : 1;
    return memcmp(a->addr, b->addr, 16);
}

/* Text buffer with a cap. */
typedef struct sbuf {
    char *s;                    /* text, NUL-terminated */
    size_t n, cap;              /* length, allocated */
} sbuf;

static void
sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        size_t room = b->cap - b->n;
        va_start(ap, fmt);
        int k = b->s ? vsnprintf(b->s + b->n, room, fmt, ap) : -1;
        va_end(ap);
        if (k >= 0 && (size_t)k < room) {
            b->n += (size_t)k;
            return;
        }
        size_t nc = b->cap ? b->cap * 2 : 256;
        while (k >= 0 && nc < b->n + (size_t)k + 1)
            nc *= 2;
        char *ns = realloc(b->s, nc);
        if (!ns)
            return;
        b->s = ns;
        b->cap = nc;
        if (b->n == 0)
            b->s[0] = 0;
    }
}

/* A service summary entry for naming and explanations. */
typedef struct svc_count {
    uint32_t key;               /* proto << 16 | port */
    uint32_t app;               /* most seen application */
    uint32_t clients;           /* distinct peers (approximate: edges) */
    uint64_t flows;             /* flows */
} svc_count;

static int
svc_cmp(const void *a, const void *b)
{
    const svc_count *x = a, *y = b;
    if (x->clients != y->clients)
        return x->clients > y->clients ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

/* Services offered (dir 1) or used (dir 0) by members, most used first. */
static uint32_t
segment_services(const model *m, const unsigned char *hflags, const uint32_t *mem, uint32_t n,
                 int dir, svc_count *out, uint32_t max)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t cnt;
        const uint32_t *list = dir ? model_in(m, mem[i], &cnt) : model_out(m, mem[i], &cnt);
        for (uint32_t j = 0; j < cnt; j++) {
            const model_edge *e = model_edge_get(m, list[j]);
            if (!edge_usable(m, hflags, e))
                continue;
            int port = (e->proto == 1 || e->proto == 58) ? 0 : (e->port >= PORT_DYNAMIC ? PORT_DYNAMIC : e->port);
            uint32_t key = ((uint32_t)e->proto << 16) | (uint32_t)port;
            uint32_t q;
            for (q = 0; q < k; q++)
                if (out[q].key == key)
                    break;
            if (q == k) {
                if (k == max)
                    continue;
                out[k++] = (svc_count){ .key = key, .app = e->app, .clients = 0, .flows = 0 };
            }
            out[q].clients++;
            out[q].flows += e->flows;
            if (!out[q].app)
                out[q].app = e->app;
        }
    }
    qsort(out, k, sizeof(svc_count), svc_cmp);
    return k;
}

static const char *
svc_label(const model *m, const svc_count *c, char *buf, size_t len)
{
    int proto = (int)(c->key >> 16), port = (int)(c->key & 0xffff);
    const char *app = model_str(m, c->app);
    const char *pn = proto == 6 ? "tcp" : proto == 17 ? "udp" : (proto == 1 || proto == 58) ? "icmp" : "ip";
    if (proto == 1 || proto == 58)
        snprintf(buf, len, "icmp");
    else if (port == PORT_DYNAMIC)
        snprintf(buf, len, "%s/dynamic%s%s%s", pn, *app ? " (" : "", app, *app ? ")" : "");
    else
        snprintf(buf, len, "%s/%d%s%s%s", pn, port, *app && strcmp(app, "Unknown") ? " (" : "",
                 strcmp(app, "Unknown") ? app : "", *app && strcmp(app, "Unknown") ? ")" : "");
    return buf;
}

/* Lower-case [a-z0-9-] slug of s into out. */
static void
slug(const char *s, char *out, size_t len)
{
    size_t k = 0;
    int dash = 1;
    for (; *s && k + 1 < len; s++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            out[k++] = c;
            dash = 0;
        } else if (!dash) {
            out[k++] = '-';
            dash = 1;
        }
    }
    while (k && out[k - 1] == '-')
        k--;
    out[k] = 0;
}

/* Common name tokens of the members (in >= half of the named members), joined by '-'. */
static void
common_tokens(const model *m, const uint32_t *mem, uint32_t n, char *out, size_t len)
{
    enum { MAXT = 64 };
    char toks[MAXT][32];
    uint32_t cnt[MAXT];
    int nt = 0;
    uint32_t named = 0;
    out[0] = 0;
    for (uint32_t i = 0; i < n; i++) {
        char stem[256];
        host_stem(m, mem[i], stem, sizeof(stem));
        if (!stem[0])
            continue;
        named++;
        char tk[8][32];
        int k = seg_name_tokens(stem, tk, 8);
        for (int a = 0; a < k; a++) {
            int dup = 0;
            for (int b = 0; b < a; b++)
                if (strcmp(tk[a], tk[b]) == 0)
                    dup = 1;
            if (dup)
                continue;
            int q;
            for (q = 0; q < nt; q++)
                if (strcmp(toks[q], tk[a]) == 0)
                    break;
            if (q == nt) {
                if (nt == MAXT)
                    continue;
                memcpy(toks[nt], tk[a], 32);
                cnt[nt++] = 0;
            }
            cnt[q]++;
        }
    }
    size_t o = 0;
    for (int q = 0; q < nt; q++)
        if (named && cnt[q] * 2 > named && o + strlen(toks[q]) + 2 < len)
            o += (size_t)snprintf(out + o, len - o, "%s%s", o ? "-" : "", toks[q]);
}

static const char *
proto_port_name(int proto, int port)
{
    static const struct { int proto, port; const char *name; } known[] = {
        {17, 53, "dns"}, {6, 53, "dns"}, {6, 88, "kerberos"}, {17, 123, "ntp"}, {17, 67, "dhcp"},
        {17, 514, "syslog"}, {6, 445, "smb"}, {6, 3389, "rdp"}, {6, 22, "ssh"}, {6, 443, "https"},
        {6, 80, "http"}, {6, 8080, "http-alt"}, {6, 5432, "postgres"}, {6, 3306, "mysql"},
        {6, 1433, "mssql"}, {6, 1521, "oracle"}, {6, 27017, "mongodb"}, {6, 6379, "redis"},
        {6, 502, "modbus"}, {6, 631, "ipp"}, {6, 9100, "printer"}, {17, 161, "snmp"},
        {6, 389, "ldap"}, {6, 636, "ldaps"}, {6, 873, "rsync"}, {6, 25, "smtp"}, {6, 135, "rpc"},
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (known[i].proto == proto && known[i].port == port)
            return known[i].name;
    return NULL;
}

static const uint32_t *g_key; /* for by_key_cmp only (set and cleared around the call) */

/* Order indices by g_key[index], then by index. */
static int
by_key_cmp(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    if (g_key[a] != g_key[b])
        return g_key[a] < g_key[b] ? -1 : 1;
    return a < b ? -1 : a > b;
}

/* FNV-1a hash of a host's name stem, 0 if it has none. */
static uint64_t
stem_hash(const model *m, uint32_t h)
{
    char st[64];
    host_stem(m, h, st, sizeof(st));
    if (!st[0])
        return 0;
    uint64_t x = 1469598103934665603ULL;
    for (const char *c = st; *c; c++)
        x = (x ^ (uint8_t)*c) * 1099511628211ULL;
    return x | 1;
}

/* One group for name_merge. */
typedef struct ngroup {
    uint32_t root;              /* union-find root (local index) */
    uint64_t stem;              /* dominant stem hash, 0 if none */
    uint32_t *svc;              /* offered services (proto << 16 | port), sorted */
    uint32_t n_svc;             /* entries in svc */
} ngroup;

static int
ngroup_cmp(const void *pa, const void *pb)
{
    const ngroup *a = pa, *b = pb;
    if (a->stem != b->stem)
        return a->stem < b->stem ? -1 : 1;
    return a->root < b->root ? -1 : a->root > b->root;
}

/* Sorted-set Jaccard of two service lists. */
static double
svc_jaccard(const ngroup *a, const ngroup *b)
{
    if (!a->n_svc && !b->n_svc)
        return 1.0;
    uint32_t i = 0, j = 0, inter = 0;
    while (i < a->n_svc && j < b->n_svc) {
        if (a->svc[i] == b->svc[j]) {
            inter++;
            i++;
            j++;
        } else if (a->svc[i] < b->svc[j]) {
            i++;
        } else {
            j++;
        }
    }
    return (double)inter / (double)(a->n_svc + b->n_svc - inter);
}

/* See the comment at the call in seg_build.  uf[] holds roots on entry and on exit. */
static int
name_merge(const model *m, const unsigned char *hflags, const hinfo *hi, const uint32_t *locals,
           uint32_t nl, const uint32_t *fixed, uint32_t *uf)
{
    int rc = -1;
    uint64_t *sh = calloc(nl, sizeof(uint64_t));
    uint32_t *ord = malloc(nl * sizeof(uint32_t));
    ngroup *g = calloc(nl, sizeof(ngroup));
    uint32_t ng = 0;
    u64map cnt = {0};
    if (!sh || !ord || !g || u64map_init(&cnt, nl + 16) < 0)
        goto out;
    for (uint32_t li = 0; li < nl; li++) {
        ord[li] = li;
        if (!fixed[li])
            sh[li] = stem_hash(m, locals[li]);
        if (sh[li]) {
            uint32_t *c = u64map_get(&cnt, mix64(sh[li] ^ ((uint64_t)uf[li] << 1)), 0, NULL);
            if (!c)
                goto out;
            (*c)++;
        }
    }
    /* members by root */
    g_key = uf;
    qsort(ord, nl, sizeof(uint32_t), by_key_cmp);
    g_key = NULL;
    uint32_t i = 0;
    while (i < nl) {
        uint32_t j = i, named = 0, best = 0;
        uint64_t bs = 0;
        while (j < nl && uf[ord[j]] == uf[ord[i]])
            j++;
        for (uint32_t k = i; k < j; k++) {
            uint32_t li = ord[k];
            if (!sh[li])
                continue;
            named++;
            uint32_t c = *u64map_find(&cnt, mix64(sh[li] ^ ((uint64_t)uf[li] << 1)));
            if (c > best) {
                best = c;
                bs = sh[li];
            }
        }
        if (best >= 1 && best * 5 >= named * 4 && !fixed[ord[i]]) {
            ngroup *x = &g[ng++];
            x->root = uf[ord[i]];
            x->stem = bs;
            svc_count sc[64];
            uint32_t nh = j - i;
            uint32_t *mem = malloc(nh * sizeof(uint32_t));
            if (!mem)
                goto out;
            for (uint32_t k = 0; k < nh; k++)
                mem[k] = locals[ord[i + k]];
            uint32_t n = segment_services(m, hflags, mem, nh, 1, sc, 64);
            free(mem);
            x->svc = malloc((n ? n : 1) * sizeof(uint32_t));
            if (!x->svc)
                goto out;
            for (uint32_t k = 0; k < n; k++) {
                int proto = (int)(sc[k].key >> 16);
                if (proto == 1 || proto == 58 || sc[k].flows < 2)
                    continue;   /* ICMP, and one-off flows, say nothing of a role */
                x->svc[x->n_svc++] = sc[k].key;
            }
            qsort(x->svc, x->n_svc, sizeof(uint32_t), cmp_u32);
        }
        i = j;
    }
    (void)hi;
    qsort(g, ng, sizeof(ngroup), ngroup_cmp);
    for (uint32_t a = 0; a < ng; a++)
        for (uint32_t b = a + 1; b < ng && g[b].stem == g[a].stem; b++)
            if (svc_jaccard(&g[a], &g[b]) >= 0.5)
                uf_union(uf, g[a].root, g[b].root);
    for (uint32_t li = 0; li < nl; li++)
        uf[li] = uf_find(uf, li);
    rc = 0;
out:
    for (uint32_t k = 0; g && k < ng; k++)
        free(g[k].svc);
    free(g);
    free(sh);
    free(ord);
    u64map_done(&cnt);
    return rc;
}

/* 1 if h uses no service and offers none but ICMP (over usable edges). */
static int
host_weak(const model *m, const unsigned char *hflags, uint32_t h)
{
    uint32_t n;
    const uint32_t *out = model_out(m, h, &n);
    for (uint32_t i = 0; i < n; i++)
        if (edge_usable(m, hflags, model_edge_get(m, out[i])))
            return 0;
    const uint32_t *in = model_in(m, h, &n);
    for (uint32_t i = 0; i < n; i++) {
        const model_edge *e = model_edge_get(m, in[i]);
        if (edge_usable(m, hflags, e) && e->proto != 1 && e->proto != 58)
            return 0;
    }
    return 1;
}

/* See the comment at the call in seg_build.  uf[] holds roots. */
static int
attach_weak(const model *m, const unsigned char *hflags, const hinfo *hi, const uint32_t *locals,
            uint32_t nl, const uint32_t *fixed, uint32_t *uf, float *conf, int use_names)
{
    int rc = -1;
    uint8_t *weak = calloc(nl ? nl : 1, 1);
    u64map bystem = {0}, cnt = {0}, tot = {0}, best = {0};
    if (!weak || u64map_init(&bystem, 64) < 0 || u64map_init(&cnt, nl + 16) < 0 ||
        u64map_init(&tot, 64) < 0 || u64map_init(&best, 64) < 0)
        goto out;
    uint32_t nweak = 0;
    for (uint32_t li = 0; li < nl; li++)
        if (!fixed[li] && host_weak(m, hflags, locals[li])) {
            weak[li] = 1;
            nweak++;
        }
    if (!nweak)
        goto done;
    /* strong hosts: stem -> group, and per /24 the group counts */
    for (uint32_t li = 0; li < nl; li++) {
        if (weak[li])
            continue;
        if (use_names) {
            uint64_t st = stem_hash(m, locals[li]);
            if (st && !u64map_get(&bystem, st, uf[li], NULL))
                goto out;
        }
        const model_host *x = model_host_get(m, locals[li]);
        uint64_t net = (subnet_key(x) & ~0xffULL) ^ (x->ipv == 6 ? 0x6ULL : 0);  /* /24 */
        uint32_t *t = u64map_get(&tot, net, 0, NULL);
        uint32_t *c = u64map_get(&cnt, mix64(net ^ ((uint64_t)uf[li] << 40)), 0, NULL);
        if (!t || !c)
            goto out;
        (*t)++;
        (*c)++;
        int added;
        uint32_t *b = u64map_get(&best, net, li, &added);
        if (!b)
            goto out;
        if (!added && *c > *u64map_find(&cnt, mix64(net ^ ((uint64_t)uf[*b] << 40))))
            *b = li;
    }
    for (uint32_t li = 0; li < nl; li++) {
        if (!weak[li])
            continue;
        uint32_t to = UINT32_MAX;
        if (use_names) {
            uint64_t st = stem_hash(m, locals[li]);
            uint32_t *g = st ? u64map_find(&bystem, st) : NULL;
            if (g)
                to = *g;
        }
        if (to == UINT32_MAX) {
            const model_host *x = model_host_get(m, locals[li]);
            uint64_t net = (subnet_key(x) & ~0xffULL) ^ (x->ipv == 6 ? 0x6ULL : 0);
            uint32_t *b = u64map_find(&best, net), *t = u64map_find(&tot, net);
            if (b && t) {
                uint32_t c = *u64map_find(&cnt, mix64(net ^ ((uint64_t)uf[*b] << 40)));
                if (c >= 2 && c * 2 >= *t)
                    to = uf[*b];
            }
        }
        if (to != UINT32_MAX) {
            uf[li] = to;
            conf[li] = 0.3f;
        }
    }
done:
    rc = 0;
out:
    (void)hi;
    free(weak);
    u64map_done(&bystem);
    u64map_done(&cnt);
    u64map_done(&tot);
    u64map_done(&best);
    return rc;
}

segmentation *
seg_build(const model *m, const seg_cfg *cfg_in)
{
    seg_cfg cfg;
    if (cfg_in)
        cfg = *cfg_in;
    else
        seg_cfg_default(&cfg);
    uint32_t n = model_n_hosts(m);
    segmentation *s = calloc(1, sizeof(*s));
    hinfo *hi = calloc(n ? n : 1, sizeof(hinfo));
    uint32_t *locals = malloc((n ? n : 1) * sizeof(uint32_t));
    uint32_t *prev = NULL, *next = NULL, *fixed = NULL, *uf = NULL;
    float *conf = NULL;
    featset fs = {0};
    u64map labels = {0};
    pre *pres = NULL;
    if (!s || !hi || !locals)
        goto oom;
    s->n_hosts = n;
    s->seg = malloc((n ? n : 1) * sizeof(uint32_t));
    s->hflags = calloc(n ? n : 1, 1);
    s->conf = calloc(n ? n : 1, sizeof(float));
    if (!s->seg || !s->hflags || !s->conf || u64map_init(&labels, 64) < 0)
        goto oom;
    for (uint32_t h = 0; h < n; h++)
        s->seg[h] = SEG_NONE;

    /* 1. evidence */
    find_scanners_and_dead(m, s->hflags);
    uint32_t nl = 0;
    for (uint32_t h = 0; h < n; h++) {
        const model_host *x = model_host_get(m, h);
        hi[h].local = SEG_NONE;
        if (!x->internal || (s->hflags[h] & SEG_HOST_DEAD) || model_addr_special(x->addr, x->ipv))
            continue;
        hi[h].local = nl;
        locals[nl++] = h;
    }
    /* partner degree over usable edges (for peer weights) */
    for (uint32_t li = 0; li < nl; li++) {
        uint32_t np;
        uint32_t *p = peers_of(m, s->hflags, hi, &locals[li], 1, 1, &np);
        if (!p)
            goto oom;
        uint32_t self = 0;
        for (uint32_t i = 0; i < np; i++)
            if (p[i] == locals[li])
                self = 1;
        hi[locals[li]].deg = np - self;
        free(p);
    }

    /* 4. labels: fixed groups */
    prev = calloc(nl ? nl : 1, sizeof(uint32_t));
    next = calloc(nl ? nl : 1, sizeof(uint32_t));
    fixed = calloc(nl ? nl : 1, sizeof(uint32_t));
    conf = calloc(nl ? nl : 1, sizeof(float));
    uf = malloc((nl ? nl : 1) * sizeof(uint32_t));
    if (!prev || !next || !fixed || !conf || !uf)
        goto oom;
    uint32_t n_label_groups = 0;
    char **label_names = NULL;
    if (cfg.use_labels) {
        uint32_t krole = model_str_find(m, "role");
        for (uint32_t li = 0; li < nl && krole != MODEL_NONE; li++) {
            const char *role = model_host_label_get(m, locals[li], "role");
            if (!role || !*role)
                continue;
            const char *app = model_host_label_get(m, locals[li], "app");
            const char *env = model_host_label_get(m, locals[li], "env");
            uint64_t key = ((uint64_t)model_str_find(m, role) << 42) ^
                           ((uint64_t)(app ? model_str_find(m, app) : 0) << 21) ^
                           (uint64_t)(env ? model_str_find(m, env) : 0);
            int added;
            uint32_t *g = u64map_get(&labels, key, n_label_groups, &added);
            if (!g)
                goto oom;
            if (added) {
                char buf[256];
                snprintf(buf, sizeof(buf), "%s%s%s%s%s", role, app ? "-" : "", app ? app : "",
                         env ? "-" : "", env ? env : "");
                char **nn = realloc(label_names, (n_label_groups + 1) * sizeof(char *));
                if (!nn)
                    goto oom;
                label_names = nn;
                label_names[n_label_groups] = xstrdup(buf);
                n_label_groups++;
            }
            fixed[li] = *g + 1;
            s->hflags[locals[li]] |= SEG_HOST_LABELLED;
        }
    }
    /* initial colours: one for all unlabelled hosts (0), one per label group */
    for (uint32_t li = 0; li < nl; li++) {
        prev[li] = fixed[li];
        hi[locals[li]].fixed = fixed[li];
        hi[locals[li]].colour = fixed[li] ? 0x80000000u | fixed[li] : 0;
        conf[li] = 1.0f;
    }

    /* 2. rounds of refinement */
    long last = -1;
    for (int round = 0; round < cfg.rounds; round++) {
        if (build_features(m, s->hflags, hi, locals, nl, round, &fs) < 0)
            goto oom;
        long k = cluster_round(&fs, nl, prev, fixed, cfg.join, next, conf);
        featset_free(&fs);
        if (k < 0)
            goto oom;
        for (uint32_t li = 0; li < nl; li++) {
            prev[li] = next[li];
            hi[locals[li]].colour = fixed[li] ? 0x80000000u | fixed[li] : next[li];
        }
        if (k == last)
            break;
        last = k;
    }

    /* 3. subnet parts, merged by shared peers and names */
    for (uint32_t li = 0; li < nl; li++)
        uf[li] = li;
    {
        /* union by (colour, subnet) */
        u64map first = {0};
        if (u64map_init(&first, nl + 16) < 0)
            goto oom;
        for (uint32_t li = 0; li < nl; li++) {
            uint64_t key = mix64(((uint64_t)hi[locals[li]].colour << 32) ^ subnet_key(model_host_get(m, locals[li])));
            if (fixed[li])
                key = mix64(0x5151ULL ^ fixed[li]);
            int added;
            uint32_t *f = u64map_get(&first, key, li, &added);
            if (!f) {
                u64map_done(&first);
                goto oom;
            }
            if (!added)
                uf_union(uf, *f, li);
        }
        u64map_done(&first);
    }
    {
        /* per colour: the parts, their peer sets, pairwise merge */
        uint32_t *bycol = malloc((nl ? nl : 1) * sizeof(uint32_t));
        if (!bycol)
            goto oom;
        for (uint32_t li = 0; li < nl; li++)
            bycol[li] = li;
        /* sort locals by colour, then index */
        g_key = prev;
        qsort(bycol, nl, sizeof(uint32_t), by_key_cmp);
        g_key = NULL;
        uint32_t i = 0;
        while (i < nl) {
            uint32_t j = i;
            while (j < nl && prev[bycol[j]] == prev[bycol[i]])
                j++;
            if (fixed[bycol[i]]) {
                i = j;
                continue;
            }
            /* parts: roots among bycol[i..j) */
            uint32_t nparts = 0;
            uint32_t *roots = malloc((j - i) * sizeof(uint32_t));
            if (!roots) {
                free(bycol);
                goto oom;
            }
            for (uint32_t q = i; q < j; q++) {
                uint32_t r = uf_find(uf, bycol[q]);
                uint32_t t;
                for (t = 0; t < nparts; t++)
                    if (roots[t] == r)
                        break;
                if (t == nparts)
                    roots[nparts++] = r;
                if (nparts > 512)
                    break;
            }
            if (nparts > 1 && nparts <= 512) {
                uint32_t **ps = calloc(nparts, sizeof(uint32_t *));
                uint32_t *pn = calloc(nparts, sizeof(uint32_t));
                double *pw = calloc(nparts, sizeof(double));
                char (*stem)[64] = calloc(nparts, 64);
                uint32_t *hosts = malloc((j - i) * sizeof(uint32_t));
                if (!ps || !pn || !pw || !stem || !hosts) {
                    free(ps); free(pn); free(pw); free(stem); free(hosts); free(roots); free(bycol);
                    goto oom;
                }
                for (uint32_t t = 0; t < nparts; t++) {
                    uint32_t nh = 0;
                    int stem_ok = 1;
                    for (uint32_t q = i; q < j; q++)
                        if (uf_find(uf, bycol[q]) == roots[t]) {
                            hosts[nh++] = locals[bycol[q]];
                            if (cfg.use_names && stem_ok) {
                                char st[64];
                                host_stem(m, locals[bycol[q]], st, sizeof(st));
                                if (!st[0] || (stem[t][0] && strcmp(stem[t], st) != 0))
                                    stem_ok = 0;
                                else
                                    memcpy(stem[t], st, 64);
                            }
                        }
                    if (!stem_ok)
                        stem[t][0] = 0;
                    ps[t] = peers_of(m, s->hflags, hi, hosts, nh, 2, &pn[t]);  /* one-off flows are no link */
                    if (!ps[t])
                        pn[t] = 0;
                }
                /* peer weights: inverse frequency over the parts of this colour, so a
                   peer every part talks to (its infrastructure) counts for nothing */
                u64map pc = {0};
                if (u64map_init(&pc, 256) < 0) {
                    free(ps); free(pn); free(pw); free(stem); free(hosts); free(roots); free(bycol);
                    goto oom;
                }
                for (uint32_t t = 0; t < nparts; t++)
                    for (uint32_t q = 0; q < pn[t]; q++) {
                        uint32_t *c = u64map_get(&pc, ps[t][q], 0, NULL);
                        if (c)
                            (*c)++;
                    }
#define PEER_W(p) (log((double)nparts / (double)*u64map_find(&pc, (p))))
                for (uint32_t t = 0; t < nparts; t++)
                    for (uint32_t q = 0; q < pn[t]; q++)
                        pw[t] += PEER_W(ps[t][q]);
                for (uint32_t a = 0; a < nparts; a++)
                    for (uint32_t b = a + 1; b < nparts; b++) {
                        if (uf_find(uf, roots[a]) == uf_find(uf, roots[b]))
                            continue;
                        int merge = 0;
                        if (stem[a][0] && strcmp(stem[a], stem[b]) == 0) {
                            merge = 1;
                        } else if (stem[a][0] && stem[b][0]) {
                            merge = 0;  /* both named, differently: names tell them apart */
                        } else {
                            double wab = 0;
                            uint32_t x = 0, y = 0;
                            while (x < pn[a] && y < pn[b]) {
                                if (ps[a][x] == ps[b][y]) {
                                    wab += PEER_W(ps[a][x]);
                                    x++;
                                    y++;
                                } else if (ps[a][x] < ps[b][y]) {
                                    x++;
                                } else {
                                    y++;
                                }
                            }
                            double mn = pw[a] < pw[b] ? pw[a] : pw[b];
                            merge = mn <= 1e-9 ? 1 : wab / mn >= cfg.peer_merge;
                        }
                        if (merge)
                            uf_union(uf, roots[a], roots[b]);
                    }
#undef PEER_W
                u64map_done(&pc);
                for (uint32_t t = 0; t < nparts; t++)
                    free(ps[t]);
                free(ps); free(pn); free(pw); free(stem); free(hosts);
            }
            free(roots);
            i = j;
        }
        free(bycol);
    }

    /* names join groups of one role that behaviour kept apart: groups whose
       hosts are mostly (>= 80%) named alike and that offer the
       same services (Jaccard >= 0.5 over protocol/port) are one group */
    for (uint32_t li = 0; li < nl; li++)
        uf[li] = uf_find(uf, li);
    if (cfg.use_names && nl > 1 &&
        name_merge(m, s->hflags, hi, locals, nl, fixed, uf) < 0)
        goto oom;

    /* names split a group when they form several families (ITADM-01,
       ITADM-02 among WS-0001...): each name stem other than the group's most
       common one becomes its own group when it has two hosts, or one with a
       numbered name beside a numbered majority; hosts without a name, or
       with a name of their own, stay */
    for (uint32_t li = 0; li < nl; li++)
        uf[li] = uf_find(uf, li);
    if (cfg.use_names) {
        u64map stemc = {0}, first = {0}, best = {0}, named = {0};
        uint64_t *sh = malloc((nl ? nl : 1) * sizeof(uint64_t));
        if (!sh || u64map_init(&stemc, nl + 16) < 0 || u64map_init(&first, nl + 16) < 0 ||
            u64map_init(&best, nl + 16) < 0 || u64map_init(&named, nl + 16) < 0) {
            free(sh);
            u64map_done(&stemc);
            u64map_done(&first);
            u64map_done(&best);
            u64map_done(&named);
            goto oom;
        }
        for (uint32_t li = 0; li < nl; li++) {
            char st[64];
            sh[li] = 0;
            if (fixed[li])
                continue;
            host_stem(m, locals[li], st, sizeof(st));
            if (!st[0])
                continue;
            uint64_t h = 1469598103934665603ULL;
            for (const char *c = st; *c; c++)
                h = (h ^ (uint8_t)*c) * 1099511628211ULL;
            sh[li] = h | 1;
            uint32_t *c = u64map_get(&stemc, mix64(sh[li] ^ ((uint64_t)uf[li] << 1)), 0, NULL);
            if (c)
                (*c)++;
            uint32_t *nn = u64map_get(&named, uf[li], 0, NULL);
            if (nn)
                (*nn)++;
        }
        /* the most common stem of each group */
        for (uint32_t li = 0; li < nl; li++) {
            if (!sh[li])
                continue;
            uint32_t cnt = *u64map_find(&stemc, mix64(sh[li] ^ ((uint64_t)uf[li] << 1)));
            int added;
            uint32_t *b = u64map_get(&best, uf[li], li, &added);
            if (b && !added) {
                uint32_t bc = *u64map_find(&stemc, mix64(sh[*b] ^ ((uint64_t)uf[*b] << 1)));
                if (cnt > bc)
                    *b = li;
            }
        }
        uint32_t *newroot = malloc((nl ? nl : 1) * sizeof(uint32_t));
        for (uint32_t li = 0; newroot && li < nl; li++) {
            newroot[li] = uf[li];
            if (!sh[li])
                continue;
            uint32_t cnt = *u64map_find(&stemc, mix64(sh[li] ^ ((uint64_t)uf[li] << 1)));
            uint32_t b = *u64map_find(&best, uf[li]);
            if (sh[b] == sh[li])
                continue;
            /* a family of one splits off only when it is numbered like a
               uniform majority (ITADM-02 among WS-0001...: another family,
               not a host with a name of its own like "alice-laptop") */
            uint32_t bc = *u64map_find(&stemc, mix64(sh[b] ^ ((uint64_t)uf[b] << 1)));
            uint32_t nn = *u64map_find(&named, uf[li]);
            if (cnt < 2 && !(bc >= 3 && bc * 5 >= nn * 4 && host_numbered(m, locals[li]) &&
                             host_numbered(m, locals[b])))
                continue;
            uint32_t *f = u64map_get(&first, mix64(sh[li] ^ ((uint64_t)uf[li] << 1)), li, NULL);
            if (f)
                newroot[li] = nl + *f;  /* a fresh group id (roots are < nl) */
        }
        if (newroot)
            memcpy(uf, newroot, nl * sizeof(uint32_t));
        free(newroot);
        free(sh);
        u64map_done(&stemc);
        u64map_done(&first);
        u64map_done(&best);
        u64map_done(&named);
    }

    /* hosts without behaviour (nothing used, nothing offered but ICMP: a
       workstation that was off, a host only the scanner saw) follow their
       name, or else the group that holds most of their /24 */
    if (attach_weak(m, s->hflags, hi, locals, nl, fixed, uf, conf, cfg.use_names) < 0)
        goto oom;

    /* final segments: one per group */
    {
        u64map rootseg = {0};
        if (u64map_init(&rootseg, 256) < 0)
            goto oom;
        uint32_t ns = 0;
        pres = malloc((nl ? nl : 1) * sizeof(pre));
        if (!pres) {
            u64map_done(&rootseg);
            goto oom;
        }
        g_m = m;
        for (uint32_t li = 0; li < nl; li++) {
            int added;
            uint32_t *sg = u64map_get(&rootseg, uf[li], ns, &added);
            if (!sg) {
                u64map_done(&rootseg);
                goto oom;
            }
            if (added) {
                pres[ns].key = uf[li];
                pres[ns].minhost = locals[li];
                ns++;
            } else if (host_addr_cmp(&locals[li], &pres[*sg].minhost) < 0) {
                pres[*sg].minhost = locals[li];
            }
            s->seg[locals[li]] = *sg;
        }
        u64map_done(&rootseg);
        /* order segments by their smallest address */
        uint32_t *ord = malloc((ns ? ns : 1) * sizeof(uint32_t));
        uint32_t *rank = malloc((ns ? ns : 1) * sizeof(uint32_t));
        if (!ord || !rank) {
            free(ord);
            free(rank);
            goto oom;
        }
        uint32_t *mins = malloc((ns ? ns : 1) * sizeof(uint32_t));
        if (!mins) {
            free(ord);
            free(rank);
            goto oom;
        }
        for (uint32_t q = 0; q < ns; q++)
            mins[q] = pres[q].minhost;
        qsort(mins, ns, sizeof(uint32_t), host_addr_cmp);
        /* map minhost -> new rank */
        for (uint32_t q = 0; q < ns; q++) {
            uint32_t lo = 0, hi2 = ns;
            while (lo < hi2) {
                uint32_t mid = (lo + hi2) / 2;
                if (host_addr_cmp(&mins[mid], &pres[q].minhost) < 0)
                    lo = mid + 1;
                else
                    hi2 = mid;
            }
            rank[q] = lo;
        }
        free(mins);
        free(ord);
        s->n_segs = ns;
        s->segs = calloc(ns ? ns : 1, sizeof(seginfo));
        s->members = malloc((nl ? nl : 1) * sizeof(uint32_t));
        if (!s->segs || !s->members) {
            free(rank);
            goto oom;
        }
        for (uint32_t li = 0; li < nl; li++) {
            s->seg[locals[li]] = rank[s->seg[locals[li]]];
            s->segs[s->seg[locals[li]]].mem_n++;
            s->conf[locals[li]] = fixed[li] ? 1.0f : conf[li];
        }
        free(rank);
        uint32_t off = 0;
        for (uint32_t q = 0; q < ns; q++) {
            s->segs[q].mem_off = off;
            off += s->segs[q].mem_n;
            s->segs[q].mem_n = 0;
        }
        for (uint32_t li = 0; li < nl; li++) {
            seginfo *si = &s->segs[s->seg[locals[li]]];
            s->members[si->mem_off + si->mem_n++] = locals[li];
        }
        for (uint32_t q = 0; q < ns; q++)
            qsort(s->members + s->segs[q].mem_off, s->segs[q].mem_n, sizeof(uint32_t), host_addr_cmp);
        g_m = NULL;
    }

    /* 5. names, flags, explanations */
    {
        uint32_t n_int = nl ? nl : 1;
        char **used = calloc(s->n_segs ? s->n_segs : 1, sizeof(char *));
        if (!used)
            goto oom;
        for (uint32_t q = 0; q < s->n_segs; q++) {
            seginfo *si = &s->segs[q];
            const uint32_t *mem = s->members + si->mem_off;
            char name[160] = "", buf[96];
            svc_count off_svc[16], use_svc[16];
            uint32_t noff = segment_services(m, s->hflags, mem, si->mem_n, 1, off_svc, 16);
            uint32_t nuse = segment_services(m, s->hflags, mem, si->mem_n, 0, use_svc, 16);
            uint32_t lg = fixed[hi[mem[0]].local];
            if (lg) {
                snprintf(name, sizeof(name), "%s", label_names[lg - 1]);
                si->flags |= SEG_F_LABELLED;
            } else if (cfg.use_names) {
                common_tokens(m, mem, si->mem_n, name, sizeof(name));
            }
            /* flags */
            for (uint32_t i = 0; i < si->mem_n; i++) {
                uint32_t cnt;
                const uint32_t *in = model_in(m, mem[i], &cnt);
                for (uint32_t j = 0; j < cnt; j++) {
                    const model_edge *e = model_edge_get(m, in[j]);
                    if (edge_usable(m, s->hflags, e) && !model_host_get(m, e->client)->internal)
                        si->flags |= SEG_F_INTERNET_IN;
                }
                const char *cj = model_host_label_get(m, mem[i], "crown_jewel");
                if (cj && (strcmp(cj, "true") == 0 || strcmp(cj, "yes") == 0 || strcmp(cj, "1") == 0))
                    si->flags |= SEG_F_CROWN;
                if (s->hflags[mem[i]] & SEG_HOST_SCANNER)
                    si->flags |= SEG_F_SCANNER;
            }
            /* infrastructure: its services are used by a quarter of all hosts */
            {
                uint32_t np;
                uint32_t *p = peers_of(m, s->hflags, hi, mem, si->mem_n, 1, &np);
                if (p && np * 4 >= n_int && noff > 0)
                    si->flags |= SEG_F_INFRA;
                free(p);
            }
            int offers_tcp = 0, uses_inet = 0;
            for (uint32_t i = 0; i < noff; i++) {
                int proto = (int)(off_svc[i].key >> 16);
                if (proto == 6 && off_svc[i].flows >= 2)
                    offers_tcp = 1;     /* a one-off connection in does not make a server */
            }
            for (uint32_t i = 0; i < si->mem_n && !uses_inet; i++) {
                uint32_t cnt;
                const uint32_t *out = model_out(m, mem[i], &cnt);
                for (uint32_t j = 0; j < cnt; j++) {
                    const model_edge *e = model_edge_get(m, out[j]);
                    if (e->proto == 6 && !model_host_get(m, e->server)->internal && e->pkts[1] > 0)
                        uses_inet = 1;
                }
            }
            const char *role = model_host_label_get(m, mem[0], "role");
            if ((!offers_tcp && uses_inet) || (role && strcmp(role, "workstation") == 0))
                si->flags |= SEG_F_CLIENTS;
            /* name from services when names gave nothing */
            if (!name[0]) {
                if (noff > 0) {
                    /* first offered service that is not monitoring noise */
                    uint32_t pick = 0;
                    for (uint32_t i = 0; i < noff; i++) {
                        int proto = (int)(off_svc[i].key >> 16), port = (int)(off_svc[i].key & 0xffff);
                        if (proto == 1 || proto == 58 || (proto == 17 && port == 161))
                            continue;
                        pick = i;
                        break;
                    }
                    int proto = (int)(off_svc[pick].key >> 16), port = (int)(off_svc[pick].key & 0xffff);
                    const char *pn = proto_port_name(proto, port);
                    const char *app = model_str(m, off_svc[pick].app);
                    if (pn)
                        snprintf(name, sizeof(name), "%s-servers", pn);
                    else if (*app && strcmp(app, "Unknown"))
                        snprintf(name, sizeof(name), "%s-servers", app);
                    else if (proto == 1 || proto == 58)
                        snprintf(name, sizeof(name), "hosts");
                    else
                        snprintf(name, sizeof(name), "%s%d-servers", proto == 6 ? "tcp" : proto == 17 ? "udp" : "ip",
                                 port);
                } else if (nuse > 0) {
                    int proto = (int)(use_svc[0].key >> 16), port = (int)(use_svc[0].key & 0xffff);
                    const char *pn = proto_port_name(proto, port);
                    snprintf(name, sizeof(name), "%s-clients", pn ? pn : "hosts");
                } else {
                    snprintf(name, sizeof(name), "hosts");
                }
                if (si->flags & SEG_F_SCANNER)
                    snprintf(name, sizeof(name), "scanner");
            }
            char sl[160];
            slug(name, sl, sizeof(sl));
            if (!sl[0])
                snprintf(sl, sizeof(sl), "hosts");
            si->name = xstrdup(sl);
            /* unique id */
            char id[192];
            snprintf(id, sizeof(id), "seg-%s", sl);
            for (int k = 2;; k++) {
                int clash = 0;
                for (uint32_t r = 0; r < q; r++)
                    if (strcmp(used[r], id) == 0)
                        clash = 1;
                if (!clash)
                    break;
                snprintf(id, sizeof(id), "seg-%s-%d", sl, k);
            }
            si->id = xstrdup(id);
            used[q] = si->id;
            /* explanation */
            sbuf why = {0};
            double mc = 0;
            for (uint32_t i = 0; i < si->mem_n; i++)
                mc += s->conf[mem[i]];
            if (si->flags & SEG_F_LABELLED)
                sb_printf(&why, "%u host%s labelled %s", si->mem_n, si->mem_n == 1 ? "" : "s", name);
            else
                sb_printf(&why, "%u host%s with the same behaviour (mean confidence %.2f)", si->mem_n,
                          si->mem_n == 1 ? "" : "s", mc / si->mem_n);
            if (noff) {
                sb_printf(&why, "; offers");
                for (uint32_t i = 0; i < noff && i < 4; i++)
                    sb_printf(&why, "%s %s", i ? "," : "", svc_label(m, &off_svc[i], buf, sizeof(buf)));
            }
            if (nuse) {
                sb_printf(&why, "; uses");
                for (uint32_t i = 0; i < nuse && i < 4; i++)
                    sb_printf(&why, "%s %s", i ? "," : "", svc_label(m, &use_svc[i], buf, sizeof(buf)));
            }
            if (!(si->flags & SEG_F_LABELLED) && cfg.use_names) {
                char tok[160];
                common_tokens(m, mem, si->mem_n, tok, sizeof(tok));
                if (tok[0])
                    sb_printf(&why, "; names share '%s'", tok);
            }
            if (si->flags & SEG_F_INFRA)
                sb_printf(&why, "; shared infrastructure (talks with a quarter of all hosts or more)");
            if (si->flags & SEG_F_INTERNET_IN)
                sb_printf(&why, "; receives connections from the Internet");
            if (si->flags & SEG_F_SCANNER)
                sb_printf(&why, "; scanner: its probes are not evidence of services");
            si->why = why.s ? why.s : xstrdup("");
        }
        free(used);
    }

    /* member blocks */
    {
        size_t na = 0;
        for (uint32_t h = 0; h < n; h++)
            if (model_host_get(m, h)->internal)
                na++;
        cidr_addr *ca = malloc((na ? na : 1) * sizeof(cidr_addr));
        if (!ca)
            goto oom;
        na = 0;
        for (uint32_t h = 0; h < n; h++) {
            const model_host *x = model_host_get(m, h);
            if (!x->internal || (s->hflags[h] & SEG_HOST_DEAD) || model_addr_special(x->addr, x->ipv))
                continue;       /* a dead address says nothing: a block may cover it */
            memcpy(ca[na].addr, x->addr, 16);
            ca[na].ipv = x->ipv;
            ca[na].owner = s->seg[h] == SEG_NONE ? -1 : (int)s->seg[h];
            na++;
        }
        cidr_block *blk = NULL;
        long nb = cidr_blocks(ca, na, &cfg.cidr, &blk);
        free(ca);
        if (nb < 0)
            goto oom;
        /* group by owner (stable: blocks are in address order) */
        s->blocks = malloc(((size_t)nb + 1) * sizeof(cidr_block));
        if (!s->blocks) {
            free(blk);
            goto oom;
        }
        for (long b = 0; b < nb; b++)
            s->segs[blk[b].owner].blk_n++;
        uint32_t off = 0;
        for (uint32_t q = 0; q < s->n_segs; q++) {
            s->segs[q].blk_off = off;
            off += s->segs[q].blk_n;
            s->segs[q].blk_n = 0;
        }
        for (long b = 0; b < nb; b++) {
            seginfo *si = &s->segs[blk[b].owner];
            s->blocks[si->blk_off + si->blk_n++] = blk[b];
        }
        s->n_blocks = (uint32_t)nb;
        free(blk);
    }

    for (uint32_t g = 0; g < n_label_groups; g++)
        free(label_names[g]);
    free(label_names);
    free(pres);
    free(hi);
    free(locals);
    free(prev);
    free(next);
    free(fixed);
    free(conf);
    free(uf);
    u64map_done(&labels);
    return s;
oom:
    free(pres);
    free(hi);
    free(locals);
    free(prev);
    free(next);
    free(fixed);
    free(conf);
    free(uf);
    u64map_done(&labels);
    featset_free(&fs);
    seg_free(s);
    return NULL;
}
