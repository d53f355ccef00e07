/*
 * blast.c - blast radius (see blast.h).
 *
 * How it works
 * ------------
 * Everything is computed over segments, never over pairs of hosts: all
 * hosts of a segment have the same rights under the policy, so a
 * segment-level answer, weighted by segment sizes, is exact for the
 * policy and a close summary for the observed traffic.  With S segments
 * and R rules the cost is O(S * (S + R)) time and O(S + R) memory, which
 * stays small for 100,000 hosts (they fall into far fewer segments).
 *
 *   one hop, flat       every other internal host: N - 1.
 *   one hop, observed   per host, the distinct internal servers it used
 *                       (usable edges, not itself); averaged per segment.
 *   one hop, policy     the hosts of every segment some rule from the
 *                       segment reaches (its own segment minus itself when
 *                       a rule allows it).
 *   lateral             breadth-first search from each segment over the
 *                       directed segment graph whose arcs are lateral
 *                       services (rules_lateral()): arcs from rules for
 *                       the policy, from observed edges for "observed".
 *                       A segment reached counts all its hosts (the start
 *                       segment counts its other hosts if reached back).
 *   attack paths        breadth-first search over every rule (any service
 *                       may be exploited) from each entry: segments of
 *                       user devices (SEG_F_CLIENTS) and the Internet
 *                       (through ingress rules), to each crown-jewel
 *                       segment: the shortest path, with the rule of each
 *                       hop.
 */
#include <stdlib.h>
#include <string.h>

#include "recommender/blast.h"

/* The result. */
struct blast {
    blast_summary sum;          /* totals */
    blast_seg *seg;             /* per segment */
    uint32_t n_seg;             /* segments */
    blast_path *paths;          /* attack paths */
    uint32_t n_paths;           /* paths kept */
};

void
blast_free(blast *b)
{
    if (!b)
        return;
    free(b->seg);
    free(b->paths);
    free(b);
}

const blast_summary *
blast_get_summary(const blast *b)
{
    return &b->sum;
}
const blast_seg *
blast_get_seg(const blast *b, uint32_t i)
{
    return i < b->n_seg ? &b->seg[i] : NULL;
}
uint32_t
blast_n_paths(const blast *b)
{
    return b->n_paths;
}
const blast_path *
blast_get_path(const blast *b, uint32_t i)
{
    return i < b->n_paths ? &b->paths[i] : NULL;
}

/* A directed graph over segments in compressed rows. */
typedef struct sgraph {
    uint32_t *off;              /* n + 1 offsets */
    uint32_t *to;               /* targets */
    uint32_t *rule;             /* rule index of each arc (or UINT32_MAX) */
} sgraph;

/* One arc before packing. */
typedef struct arc {
    uint32_t from, to, rule;    /* segments and the rule */
} arc;

static int
arc_cmp(const void *pa, const void *pb)
{
    const arc *a = pa, *b = pb;
    if (a->from != b->from)
        return a->from < b->from ? -1 : 1;
    if (a->to != b->to)
        return a->to < b->to ? -1 : 1;
    return a->rule < b->rule ? -1 : a->rule > b->rule;
}

static int
sgraph_build(sgraph *g, arc *arcs, size_t na, uint32_t n)
{
    if (na)
        qsort(arcs, na, sizeof(arc), arc_cmp);
    size_t w = 0;
    for (size_t i = 0; i < na; i++)
        if (w == 0 || arcs[w - 1].from != arcs[i].from || arcs[w - 1].to != arcs[i].to)
            arcs[w++] = arcs[i];
    g->off = calloc((size_t)n + 1, sizeof(uint32_t));
    g->to = malloc((w ? w : 1) * sizeof(uint32_t));
    g->rule = malloc((w ? w : 1) * sizeof(uint32_t));
    if (!g->off || !g->to || !g->rule)
        return -1;
    for (size_t i = 0; i < w; i++)
        g->off[arcs[i].from + 1]++;
    for (uint32_t i = 0; i < n; i++)
        g->off[i + 1] += g->off[i];
    for (size_t i = 0; i < w; i++) {
        g->to[i] = arcs[i].to;
        g->rule[i] = arcs[i].rule;
    }
    return 0;
}

static void
sgraph_free(sgraph *g)
{
    free(g->off);
    free(g->to);
    free(g->rule);
}

/* Hosts reachable from segment s (BFS); queue and seen are scratch of n entries. */
static double
reach(const sgraph *g, uint32_t s, const uint32_t *size, uint32_t *queue, uint32_t *seen, uint32_t stamp)
{
    uint32_t qh = 0, qt = 0;
    double hosts = 0;
    for (uint32_t k = g->off[s]; k < g->off[s + 1]; k++)
        if (seen[g->to[k]] != stamp) {
            seen[g->to[k]] = stamp;
            queue[qt++] = g->to[k];
        }
    while (qh < qt) {
        uint32_t u = queue[qh++];
        hosts += u == s ? (double)size[u] - 1 : (double)size[u];
        for (uint32_t k = g->off[u]; k < g->off[u + 1]; k++)
            if (seen[g->to[k]] != stamp) {
                seen[g->to[k]] = stamp;
                queue[qt++] = g->to[k];
            }
    }
    return hosts;
}

static int
push_arc(arc **a, size_t *n, size_t *cap, uint32_t from, uint32_t to, uint32_t rule)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        arc *na = realloc(*a, nc * sizeof(arc));
        if (!na)
            return -1;
        *a = na;
        *cap = nc;
    }
    (*a)[(*n)++] = (arc){ from, to, rule };
    return 0;
}

blast *
blast_compute(const model *m, const segmentation *s, const rules *r, uint32_t max_paths)
{
    uint32_t ns = seg_count(s), nr = rules_count(r);
    blast *b = calloc(1, sizeof(*b));
    uint32_t *size = calloc(ns + 1, sizeof(uint32_t));
    uint32_t *queue = malloc((ns + 2) * sizeof(uint32_t));
    uint32_t *seen = calloc(ns + 2, sizeof(uint32_t));
    uint32_t *parent = malloc((ns + 2) * sizeof(uint32_t));
    uint32_t *prule = malloc((ns + 2) * sizeof(uint32_t));
    uint32_t *mark = calloc(ns + 2, sizeof(uint32_t));
    arc *arcs = NULL;
    size_t na = 0, capa = 0;
    sgraph all = {0}, lat = {0}, obs = {0};
    if (!b || !size || !queue || !seen || !parent || !prule || !mark)
        goto oom;
    b->n_seg = ns;
    b->seg = calloc(ns + 1, sizeof(blast_seg));
    if (!b->seg)
        goto oom;
    uint64_t total = 0;
    for (uint32_t q = 0; q < ns; q++) {
        seg_members(s, q, &size[q]);
        total += size[q];
    }
    b->sum.hosts = (uint32_t)total;
    double flat = total ? (double)total - 1 : 0;

    /* policy graphs: all rules, lateral rules */
    for (uint32_t i = 0; i < nr; i++) {
        const rule *ru = rules_get(r, i);
        if (ru->src >= ns || ru->dst >= ns)
            continue;
        if (push_arc(&arcs, &na, &capa, ru->src, ru->dst, i) < 0)
            goto oom;
    }
    if (sgraph_build(&all, arcs, na, ns) < 0)
        goto oom;
    na = 0;
    for (uint32_t i = 0; i < nr; i++) {
        const rule *ru = rules_get(r, i);
        if (ru->src >= ns || ru->dst >= ns || !rules_lateral(ru->proto, ru->lo, ru->hi))
            continue;
        if (push_arc(&arcs, &na, &capa, ru->src, ru->dst, i) < 0)
            goto oom;
    }
    if (sgraph_build(&lat, arcs, na, ns) < 0)
        goto oom;
    /* observed lateral graph, and observed one-hop reach per host */
    na = 0;
    uint32_t nh = model_n_hosts(m);
    for (uint32_t h = 0; h < nh; h++) {
        uint32_t sh = seg_of(s, h);
        if (sh == SEG_NONE)
            continue;
        uint32_t cnt, distinct = 0, last = MODEL_NONE;
        const uint32_t *out = model_out(m, h, &cnt);
        for (uint32_t k = 0; k < cnt; k++) {
            const model_edge *e = model_edge_get(m, out[k]);
            uint32_t sd = seg_of(s, e->server);
            if (sd == SEG_NONE || e->server == h)
                continue;
            if (e->server != last) {
                distinct++;
                last = e->server;
            }
            if (rules_lateral(e->proto, e->port, e->port) && push_arc(&arcs, &na, &capa, sh, sd, UINT32_MAX) < 0)
                goto oom;
        }
        b->seg[sh].observed += distinct;
    }
    if (sgraph_build(&obs, arcs, na, ns) < 0)
        goto oom;

    /* per segment */
    uint32_t stamp = 0;
    double s_obs = 0, s_pol = 0, s_lo = 0, s_lp = 0;
    for (uint32_t q = 0; q < ns; q++) {
        blast_seg *x = &b->seg[q];
        x->flat = flat;
        x->observed = size[q] ? x->observed / size[q] : 0;
        double pol = 0;
        for (uint32_t k = all.off[q]; k < all.off[q + 1]; k++)
            pol += all.to[k] == q ? (double)size[q] - 1 : (double)size[all.to[k]];
        x->policy = pol;
        x->lateral_policy = reach(&lat, q, size, queue, seen, ++stamp);
        x->lateral_observed = reach(&obs, q, size, queue, seen, ++stamp);
        s_obs += x->observed * size[q];
        s_pol += x->policy * size[q];
        s_lo += x->lateral_observed * size[q];
        s_lp += x->lateral_policy * size[q];
    }
    if (total) {
        b->sum.flat = flat;
        b->sum.observed = s_obs / (double)total;
        b->sum.policy = s_pol / (double)total;
        b->sum.lateral_flat = flat;
        b->sum.lateral_observed = s_lo / (double)total;
        b->sum.lateral_policy = s_lp / (double)total;
        b->sum.reduction = flat > 0 ? 1.0 - b->sum.policy / flat : 0;
        b->sum.lateral_reduction = flat > 0 ? 1.0 - b->sum.lateral_policy / flat : 0;
    }
    /* Internet exposure */
    for (uint32_t i = 0; i < nr; i++) {
        const rule *ru = rules_get(r, i);
        if (ru->src == RULE_INTERNET && ru->dst < ns && !mark[ru->dst]) {
            mark[ru->dst] = 1;
            b->sum.exposed_segments++;
            b->sum.exposed_hosts += size[ru->dst];
        }
    }
    for (uint32_t q = 0; q < ns; q++)
        if (seg_flags(s, q) & SEG_F_CROWN)
            b->sum.crown_segments++;

    /* attack paths: entries are user-device segments and the Internet (virtual node ns) */
    if (b->sum.crown_segments && max_paths) {
        b->paths = calloc(max_paths, sizeof(blast_path));
        if (!b->paths)
            goto oom;
        for (uint32_t entry = 0; entry <= ns && b->n_paths < max_paths; entry++) {
            if (entry < ns && !(seg_flags(s, entry) & SEG_F_CLIENTS))
                continue;
            if (entry == ns && !b->sum.exposed_segments)
                continue;
            ++stamp;
            uint32_t qh = 0, qt = 0;
            seen[entry] = stamp;
            parent[entry] = UINT32_MAX;
            queue[qt++] = entry;
            while (qh < qt) {
                uint32_t u = queue[qh++];
                if (u != entry && (seg_flags(s, u) & SEG_F_CROWN) && b->n_paths < max_paths) {
                    blast_path p;
                    memset(&p, 0, sizeof(p));
                    uint32_t chain[BLAST_MAX_HOPS + 2], crule[BLAST_MAX_HOPS + 2], k = 0;
                    for (uint32_t v = u; v != UINT32_MAX && k < BLAST_MAX_HOPS + 2; v = parent[v]) {
                        chain[k] = v;
                        crule[k] = prule[v];
                        k++;
                    }
                    if (k <= BLAST_MAX_HOPS + 1) {
                        p.from_internet = entry == ns;
                        uint32_t start = p.from_internet ? 1 : 0;   /* the Internet is not a segment */
                        for (uint32_t j = 0; j + start < k; j++)
                            p.seg[j] = chain[k - 1 - start - j];
                        p.n = k - start;
                        for (uint32_t j = 0; j + 1 < k; j++)
                            p.rule[j] = crule[k - 2 - j];
                        b->paths[b->n_paths++] = p;
                    }
                }
                if (u == ns) {
                    for (uint32_t i = 0; i < nr; i++) {
                        const rule *ru = rules_get(r, i);
                        if (ru->src == RULE_INTERNET && ru->dst < ns && seen[ru->dst] != stamp) {
                            seen[ru->dst] = stamp;
                            parent[ru->dst] = u;
                            prule[ru->dst] = i;
                            queue[qt++] = ru->dst;
                        }
                    }
                    continue;
                }
                for (uint32_t k = all.off[u]; k < all.off[u + 1]; k++)
                    if (seen[all.to[k]] != stamp) {
                        seen[all.to[k]] = stamp;
                        parent[all.to[k]] = u;
                        prule[all.to[k]] = all.rule[k];
                        queue[qt++] = all.to[k];
                    }
            }
        }
    }
    sgraph_free(&all);
    sgraph_free(&lat);
    sgraph_free(&obs);
    free(arcs);
    free(size);
    free(queue);
    free(seen);
    free(parent);
    free(prule);
    free(mark);
    return b;
oom:
    sgraph_free(&all);
    sgraph_free(&lat);
    sgraph_free(&obs);
    free(arcs);
    free(size);
    free(queue);
    free(seen);
    free(parent);
    free(prule);
    free(mark);
    blast_free(b);
    return NULL;
}
