/*
 * rules.c - allow rules between segments (see rules.h).
 *
 * How it works
 * ------------
 * 1. Sorting the evidence.  Every edge of the model (client -> server,
 *    protocol, port, application) is mapped to (segment of the client,
 *    segment of the server); an external address maps to "internet".
 *    Edges that are not evidence of a service go to the review list:
 *    edges of a scanner (segment.h), TCP/ICMP edges the server never
 *    answered, and edges to an internal address that never sent a packet.
 *    Traffic between two external addresses is ignored.
 *
 * 2. Candidates.  What is left is summed per (source segment, destination
 *    segment, protocol, port): flows, packets, bytes, first/last seen,
 *    days, distinct host pairs, a few example pairs, and for Internet
 *    destinations the names they were reached by (TLS SNI, HTTP Host,
 *    DNS) or, failing names, their addresses.  ICMP has no port.
 *
 * 3. Support.  A candidate becomes a rule when
 *      - it was seen in at least min_support flows (default 2), or
 *      - it only consists of hosts talking to themselves, or
 *      - (between two different segments, not from the Internet) it is
 *        corroborated: the source segment uses the same service with at
 *        least `corroborate` (2) other segments, or at least that many
 *        other segments use this destination's service.  A jump host seen
 *        once on SSH to a database, but routinely on SSH to many other
 *        segments, is doing its job; a workstation seen once on SSH to a
 *        database, where nobody else does that, is not.
 *    Everything else goes to the review list (reason "rare") with its
 *    evidence.  Traffic inside one segment (other than a host with
 *    itself) and Internet ingress are never corroborated: they need
 *    min_support flows of their own.
 *
 * 4. Generalisation, only with evidence.  When one (source, destination,
 *    protocol) has at least range_min_ports (4) distinct accepted ports
 *    >= 1024 carried by the same application (RPC's dynamic ports, a
 *    passive FTP range), they become one port range: 49152-65535 when
 *    they all lie in the IANA dynamic range, else the observed lowest to
 *    highest.  A single-port rule inside a range of the same source,
 *    destination and protocol is then redundant and folded into it.
 *
 * 5. Order.  Rules are sorted by source, destination, protocol and port
 *    (the Internet last) so that the policy reads segment by segment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recommender/rules.h"

/* The result. */
struct rules {
    rule *r;                    /* rules */
    uint32_t n, cap;            /* rules used, allocated */
    review *v;                  /* review entries */
    uint32_t nv, capv;          /* review entries used, allocated */
};

void
rules_cfg_default(rules_cfg *cfg)
{
    cfg->min_support = 2;
    cfg->corroborate = 2;
    cfg->range_min_ports = 4;
}

const char *
rules_basis_name(int b)
{
    switch (b) {
    case RULE_SEEN: return "seen";
    case RULE_LOCAL: return "local";
    case RULE_CORROBORATED: return "corroborated";
    default: return "?";
    }
}

const char *
rules_reason_name(int r)
{
    switch (r) {
    case REVIEW_RARE: return "rare";
    case REVIEW_SCANNER: return "scanner";
    case REVIEW_UNANSWERED: return "unanswered";
    case REVIEW_DEAD: return "dead";
    case REVIEW_PROTO: return "protocol";
    default: return "?";
    }
}

const char *
rules_proto_name(int proto, char *buf, size_t len)
{
    if (proto == 6)
        return "tcp";
    if (proto == 17)
        return "udp";
    if (proto == 1 || proto == 58)
        return "icmp";
    snprintf(buf, len, "%d", proto);
    return buf;
}

int
rules_lateral(int proto, int lo, int hi)
{
    static const int tcp[] = { 445, 139, 3389, 22, 5985, 5986, 135, 1433, 3306, 5432, 1521, 27017,
                               6379, 5900, 23 };
    if (proto != 6)
        return 0;
    for (size_t i = 0; i < sizeof(tcp) / sizeof(tcp[0]); i++)
        if (tcp[i] >= lo && tcp[i] <= hi)
            return 1;
    return hi >= 49152 && lo >= 1024;   /* RPC dynamic ports */
}

void
rules_free(rules *r)
{
    if (!r)
        return;
    free(r->r);
    free(r->v);
    free(r);
}

uint32_t
rules_count(const rules *r)
{
    return r->n;
}
const rule *
rules_get(const rules *r, uint32_t i)
{
    return i < r->n ? &r->r[i] : NULL;
}
uint32_t
rules_review_count(const rules *r)
{
    return r->nv;
}
const review *
rules_review_get(const rules *r, uint32_t i)
{
    return i < r->nv ? &r->v[i] : NULL;
}

/* ---- candidates ------------------------------------------------------------ */

/* A candidate rule being summed. */
typedef struct cand {
    uint32_t src, dst;          /* segment or RULE_INTERNET */
    uint8_t proto;              /* IP protocol (ICMPv6 folded into 1) */
    uint16_t port;              /* server port (0 for ICMP) */
    uint32_t app;               /* app of the edge with most flows */
    uint64_t app_flows;         /* its flows */
    uint64_t self_flows;        /* flows of hosts with themselves */
    rule_ev ev;                 /* evidence */
    uint32_t n_names, names[RULE_MAX_NAMES]; /* Internet destination names (string ids) */
    uint32_t n_addrs, addrs[RULE_MAX_NAMES]; /* unnamed Internet destinations (hosts) */
    int reason;                 /* -1: candidate; else a review reason for set-aside traffic */
    uint32_t scanner;           /* scanner host (REVIEW_SCANNER), else MODEL_NONE */
    uint32_t ports;             /* scanner: distinct ports (approximate) */
    int accepted;               /* rule basis + 1 once decided, 0 = review */
} cand;

/* A hash from candidate key to index. */
typedef struct cmap {
    uint64_t *k1;               /* src << 32 | dst */
    uint64_t *k2;               /* reason+1 << 40 | scanner-ish << 24 | proto << 16 | port */
    uint32_t *v;                /* index + 1, 0 = empty */
    size_t cap, n;              /* slots (a power of two), entries */
} cmap;

static uint64_t
hmix(uint64_t a, uint64_t b)
{
    uint64_t x = a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL + (a << 6) + (a >> 2));
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 29;
    return x;
}

static int
cmap_grow(cmap *m)
{
    size_t nc = m->cap ? m->cap * 2 : 1024;
    uint64_t *k1 = malloc(nc * 8), *k2 = malloc(nc * 8);
    uint32_t *v = calloc(nc, 4);
    if (!k1 || !k2 || !v) {
        free(k1);
        free(k2);
        free(v);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->v[i]) {
            size_t h = hmix(m->k1[i], m->k2[i]) & (nc - 1);
            while (v[h])
                h = (h + 1) & (nc - 1);
            k1[h] = m->k1[i];
            k2[h] = m->k2[i];
            v[h] = m->v[i];
        }
    free(m->k1);
    free(m->k2);
    free(m->v);
    m->k1 = k1;
    m->k2 = k2;
    m->v = v;
    m->cap = nc;
    return 0;
}

/* Slot value pointer for a key (0 if new). NULL on OOM. */
static uint32_t *
cmap_slot(cmap *m, uint64_t a, uint64_t b)
{
    if ((m->n + 1) * 2 > m->cap && cmap_grow(m) < 0)
        return NULL;
    size_t h = hmix(a, b) & (m->cap - 1);
    while (m->v[h]) {
        if (m->k1[h] == a && m->k2[h] == b)
            return &m->v[h];
        h = (h + 1) & (m->cap - 1);
    }
    m->k1[h] = a;
    m->k2[h] = b;
    return &m->v[h];
}

static void
cmap_free(cmap *m)
{
    free(m->k1);
    free(m->k2);
    free(m->v);
}

static void
ev_add(rule_ev *ev, const model_edge *e, int new_pair)
{
    ev->flows += e->flows;
    ev->pkts += e->pkts[0] + e->pkts[1];
    ev->bytes += e->bytes[0] + e->bytes[1];
    if (e->first_ns && (!ev->first_ns || e->first_ns < ev->first_ns))
        ev->first_ns = e->first_ns;
    if (e->last_ns > ev->last_ns)
        ev->last_ns = e->last_ns;
    if (e->days > ev->days)
        ev->days = e->days;
    if (new_pair) {
        ev->pairs++;
        if (ev->n_ex < RULE_MAX_EXAMPLES) {
            ev->ex[ev->n_ex][0] = e->client;
            ev->ex[ev->n_ex][1] = e->server;
            ev->n_ex++;
        }
    }
}

static void
ev_merge(rule_ev *into, const rule_ev *add)
{
    into->flows += add->flows;
    into->pkts += add->pkts;
    into->bytes += add->bytes;
    if (add->first_ns && (!into->first_ns || add->first_ns < into->first_ns))
        into->first_ns = add->first_ns;
    if (add->last_ns > into->last_ns)
        into->last_ns = add->last_ns;
    if (add->days > into->days)
        into->days = add->days;
    into->pairs += add->pairs;
    for (uint32_t i = 0; i < add->n_ex && into->n_ex < RULE_MAX_EXAMPLES; i++) {
        into->ex[into->n_ex][0] = add->ex[i][0];
        into->ex[into->n_ex][1] = add->ex[i][1];
        into->n_ex++;
    }
}

static int
ref_rank(uint32_t x)
{
    return x == RULE_INTERNET ? 1 : 0;
}

static int
rule_cmp(const void *pa, const void *pb)
{
    const rule *a = pa, *b = pb;
    if (ref_rank(a->src) != ref_rank(b->src))
        return ref_rank(a->src) - ref_rank(b->src);
    if (a->src != b->src)
        return a->src < b->src ? -1 : 1;
    if (ref_rank(a->dst) != ref_rank(b->dst))
        return ref_rank(a->dst) - ref_rank(b->dst);
    if (a->dst != b->dst)
        return a->dst < b->dst ? -1 : 1;
    if (a->proto != b->proto)
        return a->proto < b->proto ? -1 : 1;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    return a->hi < b->hi ? 1 : a->hi > b->hi ? -1 : 0;   /* wider range first */
}

static int
review_cmp(const void *pa, const void *pb)
{
    const review *a = pa, *b = pb;
    if (a->reason != b->reason)
        return a->reason < b->reason ? -1 : 1;
    if (a->ev.flows != b->ev.flows)
        return a->ev.flows > b->ev.flows ? -1 : 1;
    if (a->src != b->src)
        return a->src < b->src ? -1 : 1;
    if (a->dst != b->dst)
        return a->dst < b->dst ? -1 : 1;
    if (a->proto != b->proto)
        return a->proto < b->proto ? -1 : 1;
    return a->port < b->port ? -1 : a->port > b->port;
}

/* Count of distinct "other" segments in a sorted key list; helper for corroboration. */
typedef struct habit {
    uint64_t key;               /* segment << 24 | proto << 16 | port (of the side kept) */
    uint32_t other;             /* the segment on the other side */
} habit;

static int
habit_cmp(const void *pa, const void *pb)
{
    const habit *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return a->other < b->other ? -1 : a->other > b->other;
}

/* Distinct `other` values of key in the sorted array, not counting x and y. */
static uint32_t
habit_count(const habit *h, size_t n, uint64_t key, uint32_t x, uint32_t y)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (h[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint32_t c = 0, last = UINT32_MAX;
    for (size_t i = lo; i < n && h[i].key == key; i++) {
        if (h[i].other == last)
            continue;
        last = h[i].other;
        if (h[i].other != x && h[i].other != y)
            c++;
    }
    return c;
}

static int
push_rule(rules *r, const rule *x)
{
    if (r->n == r->cap) {
        uint32_t nc = r->cap ? r->cap * 2 : 64;
        rule *nr = realloc(r->r, nc * sizeof(rule));
        if (!nr)
            return -1;
        r->r = nr;
        r->cap = nc;
    }
    r->r[r->n++] = *x;
    return 0;
}

static int
push_review(rules *r, const review *x)
{
    if (r->nv == r->capv) {
        uint32_t nc = r->capv ? r->capv * 2 : 64;
        review *nr = realloc(r->v, nc * sizeof(review));
        if (!nr)
            return -1;
        r->v = nr;
        r->capv = nc;
    }
    r->v[r->nv++] = *x;
    return 0;
}

static int
is_icmp(int proto)
{
    return proto == 1 || proto == 58;
}

rules *
rules_build(const model *m, const segmentation *s, const rules_cfg *cfg_in)
{
    rules_cfg cfg;
    if (cfg_in)
        cfg = *cfg_in;
    else
        rules_cfg_default(&cfg);
    if (cfg.min_support < 1)
        cfg.min_support = 1;
    rules *r = calloc(1, sizeof(*r));
    cmap map = {0};
    cand *c = NULL;
    size_t nc = 0, capc = 0;
    habit *hs = NULL, *hd = NULL;
    if (!r)
        return NULL;

    /* 1-2: sort the evidence into candidates and set-aside traffic */
    uint32_t ne = model_n_edges(m);
    const model_edge *prev = NULL;
    for (uint32_t i = 0; i < ne; i++) {
        const model_edge *e = model_edge_get(m, i);
        const model_host *hc = model_host_get(m, e->client), *hsv = model_host_get(m, e->server);
        if (!hc->internal && !hsv->internal)
            continue;
        if (model_addr_special(hc->addr, hc->ipv) || model_addr_special(hsv->addr, hsv->ipv))
            continue;           /* broadcast, multicast, unspecified: not governed by the policy */
        uint32_t src = hc->internal ? seg_of(s, e->client) : RULE_INTERNET;
        uint32_t dst = hsv->internal ? seg_of(s, e->server) : RULE_INTERNET;
        int reason = -1;
        uint32_t scanner = MODEL_NONE;
        if ((seg_host_flags(s, e->client) & SEG_HOST_SCANNER) && e->flows <= 2) {
            reason = REVIEW_SCANNER;
            scanner = e->client;
        } else if (hsv->internal && (seg_host_flags(s, e->server) & SEG_HOST_DEAD)) {
            reason = REVIEW_DEAD;
        } else if ((e->proto == 6 || is_icmp(e->proto)) && e->pkts[1] == 0) {
            reason = REVIEW_UNANSWERED;
        } else if (e->proto != 6 && e->proto != 17 && !is_icmp(e->proto)) {
            reason = REVIEW_PROTO;
        }
        if (src == SEG_NONE || (dst == SEG_NONE && reason < 0))
            continue;
        int proto = is_icmp(e->proto) ? 1 : e->proto;
        int port = proto == 1 ? 0 : e->port;
        uint64_t k1 = reason == REVIEW_SCANNER ? (uint64_t)src << 32 : ((uint64_t)src << 32) | dst;
        uint64_t k2 = reason == REVIEW_SCANNER
                          ? ((uint64_t)(reason + 1) << 56) | scanner
                          : ((uint64_t)(reason + 1) << 56) | ((uint64_t)proto << 16) | (uint64_t)port;
        uint32_t *slot = cmap_slot(&map, k1, k2);
        if (!slot)
            goto oom;
        if (!*slot) {
            if (nc == capc) {
                size_t ncap = capc ? capc * 2 : 256;
                cand *n2 = realloc(c, ncap * sizeof(cand));
                if (!n2)
                    goto oom;
                c = n2;
                capc = ncap;
            }
            memset(&c[nc], 0, sizeof(cand));
            c[nc].src = src;
            c[nc].dst = dst;
            c[nc].proto = (uint8_t)proto;
            c[nc].port = (uint16_t)port;
            c[nc].reason = reason;
            c[nc].scanner = scanner;
            nc++;
            *slot = (uint32_t)nc;
            map.n++;
        }
        cand *x = &c[*slot - 1];
        int new_pair = !(prev && prev->client == e->client && prev->server == e->server &&
                         prev->proto == e->proto && (is_icmp(e->proto) || prev->port == e->port));
        if (reason == REVIEW_SCANNER)
            new_pair = !(prev && prev->client == e->client && prev->server == e->server);
        prev = e;
        ev_add(&x->ev, e, new_pair);
        if (reason == REVIEW_SCANNER)
            x->ports++;
        if (e->client == e->server)
            x->self_flows += e->flows;
        if (e->flows > x->app_flows && e->app) {
            x->app = e->app;
            x->app_flows = e->flows;
        }
        if (dst == RULE_INTERNET && reason < 0) {
            uint32_t na;
            const model_attr *a = model_host_attrs(m, e->server, &na);
            int named = 0;
            for (uint32_t k = 0; k < na; k++) {
                if (a[k].kind != MODEL_ATTR_NAME)
                    continue;
                const char *src_kind = model_str(m, a[k].key);
                if (strcmp(src_kind, "server_name") && strcmp(src_kind, "sni") && strcmp(src_kind, "dns") &&
                    strcmp(src_kind, "http_host"))
                    continue;
                named = 1;
                uint32_t q;
                for (q = 0; q < x->n_names; q++)
                    if (x->names[q] == a[k].value)
                        break;
                if (q == x->n_names && x->n_names < RULE_MAX_NAMES)
                    x->names[x->n_names++] = a[k].value;
            }
            if (!named && x->n_addrs < RULE_MAX_NAMES) {
                uint32_t q;
                for (q = 0; q < x->n_addrs; q++)
                    if (x->addrs[q] == e->server)
                        break;
                if (q == x->n_addrs)
                    x->addrs[x->n_addrs++] = e->server;
            }
        }
    }

    /* 3: support.  Habits: (src, proto, port) -> dst segments; (dst, proto, port) -> src segments. */
    hs = malloc((nc ? nc : 1) * sizeof(habit));
    hd = malloc((nc ? nc : 1) * sizeof(habit));
    if (!hs || !hd)
        goto oom;
    size_t nhs = 0, nhd = 0;
    for (size_t i = 0; i < nc; i++) {
        const cand *x = &c[i];
        if (x->reason >= 0 || x->src == RULE_INTERNET || x->src == x->dst)
            continue;
        uint64_t svc = ((uint64_t)x->proto << 16) | x->port;
        if (x->dst != RULE_INTERNET)
            hs[nhs++] = (habit){ .key = ((uint64_t)x->src << 24) | svc, .other = x->dst };
        hd[nhd++] = (habit){ .key = ((uint64_t)x->dst << 24) | svc, .other = x->src };
    }
    qsort(hs, nhs, sizeof(habit), habit_cmp);
    qsort(hd, nhd, sizeof(habit), habit_cmp);
    for (size_t i = 0; i < nc; i++) {
        cand *x = &c[i];
        if (x->reason >= 0)
            continue;
        if (x->ev.flows >= cfg.min_support) {
            x->accepted = RULE_SEEN + 1;
        } else if (x->self_flows == x->ev.flows) {
            x->accepted = RULE_LOCAL + 1;
        } else if (x->src != x->dst && x->src != RULE_INTERNET) {
            uint64_t svc = ((uint64_t)x->proto << 16) | x->port;
            uint32_t a = habit_count(hs, nhs, ((uint64_t)x->src << 24) | svc, x->src, x->dst);
            /* for egress: other segments using the Internet on this service */
            uint32_t b = habit_count(hd, nhd, ((uint64_t)x->dst << 24) | svc, x->src, x->dst);
            if (a >= cfg.corroborate || b >= cfg.corroborate)
                x->accepted = RULE_CORROBORATED + 1;
        }
    }

    /* 4: port ranges per (src, dst, proto, app) over accepted high ports */
    for (size_t i = 0; i < nc; i++) {
        cand *x = &c[i];
        if (x->reason >= 0 || !x->accepted)
            continue;
        rule ru;
        memset(&ru, 0, sizeof(ru));
        ru.src = x->src;
        ru.dst = x->dst;
        ru.proto = x->proto;
        ru.lo = ru.hi = x->port;
        ru.app = x->app;
        ru.basis = x->accepted - 1;
        ru.n_ports_seen = 1;
        ru.ev = x->ev;
        ru.n_names = x->n_names;
        memcpy(ru.names, x->names, sizeof(ru.names));
        ru.n_addrs = x->n_addrs;
        memcpy(ru.addrs, x->addrs, sizeof(ru.addrs));
        if (push_rule(r, &ru) < 0)
            goto oom;
    }
    if (r->n)
        qsort(r->r, r->n, sizeof(rule), rule_cmp);
    {
        uint32_t i = 0, w = 0;
        while (i < r->n) {
            uint32_t j = i;
            while (j < r->n && r->r[j].src == r->r[i].src && r->r[j].dst == r->r[i].dst &&
                   r->r[j].proto == r->r[i].proto)
                j++;
            /* within [i, j): high ports by app */
            if (r->r[i].proto == 6 || r->r[i].proto == 17) {
                for (uint32_t a = i; a < j; a++) {
                    if (r->r[a].lo < 1024 || r->r[a].app == 0 || r->r[a].n_ports_seen == 0)
                        continue;
                    uint32_t cnt = 0, lo = 65535, hi = 0;
                    for (uint32_t b = a; b < j; b++)
                        if (r->r[b].lo >= 1024 && r->r[b].app == r->r[a].app && r->r[b].n_ports_seen) {
                            cnt++;
                            if (r->r[b].lo < lo) lo = r->r[b].lo;
                            if (r->r[b].hi > hi) hi = r->r[b].hi;
                        }
                    if (cnt < cfg.range_min_ports)
                        continue;
                    if (lo >= 49152) {
                        lo = 49152;
                        hi = 65535;
                    }
                    for (uint32_t b = a + 1; b < j; b++)
                        if (r->r[b].lo >= 1024 && r->r[b].app == r->r[a].app && r->r[b].n_ports_seen) {
                            ev_merge(&r->r[a].ev, &r->r[b].ev);
                            r->r[b].n_ports_seen = 0;   /* folded */
                        }
                    r->r[a].lo = (uint16_t)lo;
                    r->r[a].hi = (uint16_t)hi;
                    r->r[a].n_ports_seen = cnt;
                }
            }
            /* fold single ports shadowed by a range of the same group */
            for (uint32_t a = i; a < j; a++) {
                if (!r->r[a].n_ports_seen)
                    continue;
                for (uint32_t b = i; b < j; b++) {
                    if (b == a || !r->r[b].n_ports_seen || r->r[b].lo == r->r[b].hi)
                        continue;
                    if (r->r[a].lo == r->r[a].hi && r->r[a].lo >= r->r[b].lo && r->r[a].hi <= r->r[b].hi) {
                        ev_merge(&r->r[b].ev, &r->r[a].ev);
                        r->r[b].n_ports_seen++;
                        r->r[a].n_ports_seen = 0;
                        break;
                    }
                }
            }
            for (uint32_t a = i; a < j; a++)
                if (r->r[a].n_ports_seen)
                    r->r[w++] = r->r[a];
            i = j;
        }
        r->n = w;
    }
    if (r->n)
        qsort(r->r, r->n, sizeof(rule), rule_cmp);

    /* review list */
    for (size_t i = 0; i < nc; i++) {
        const cand *x = &c[i];
        if (x->reason < 0 && x->accepted)
            continue;
        review v;
        memset(&v, 0, sizeof(v));
        v.src = x->src;
        v.dst = x->reason == REVIEW_SCANNER ? SEG_NONE : x->dst;
        v.src_host = x->scanner;
        v.proto = x->proto;
        v.port = x->port;
        v.ports = x->ports;
        v.app = x->app;
        v.reason = x->reason < 0 ? REVIEW_RARE : x->reason;
        v.ev = x->ev;
        if (push_review(r, &v) < 0)
            goto oom;
    }
    if (r->nv)
        qsort(r->v, r->nv, sizeof(review), review_cmp);
    free(c);
    free(hs);
    free(hd);
    cmap_free(&map);
    return r;
oom:
    free(c);
    free(hs);
    free(hd);
    cmap_free(&map);
    rules_free(r);
    return NULL;
}
