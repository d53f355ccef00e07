/*
 * flowtab.c - bounded table of bidirectional flows (see flowtab.h).
 *
 * How it works: flows are found through an open-addressing index keyed by
 * the canonical flow_key: a power-of-two array of (flow, hash) slots,
 * linear probing, doubled when more than 3/4 full, deletions by backward
 * shift (no tombstones).  A probe compares the hash kept in the slot before
 * it touches a flow, so looking up a new flow in a table of millions costs
 * one cache miss, not one per flow on a chain.  Each
 * flow is also on one of four LRU lists, one per timeout class (TCP open,
 * TCP closing, UDP, other).  Packets arrive in (nearly) time order, so each
 * list is ordered by last activity and its tail is its oldest flow: expiry
 * walks each tail only while flows there are idle for longer than the
 * class's timeout, which costs nothing when nothing expires.  Eviction at
 * max_flows takes the oldest of the four tails.  Time is the largest
 * packet timestamp seen, so timestamps going backwards cannot resurrect
 * or prematurely expire flows.  At the end of input, flowtab_flush exports
 * what is left in creation order: (seq, flow) pairs gathered by one pass
 * over the index, radix-sorted, each flow exported and freed without the
 * unlinking of a flow that ends alone.  Flow records come from a pool
 * (pool.h): no malloc per flow.
 */
#include <stdlib.h>
#include <string.h>

#include "capture/flowtab.h"
#include "capture/pool.h"

enum { CLS_TCP, CLS_TCP_CLOSED, CLS_UDP, CLS_OTHER, CLS_COUNT };

#define FRAG_SLOTS 4096             /* fragment cache entries (direct-mapped) */
#define FRAG_TTL_NS (30ULL * 1000000000ULL)

/* A first fragment seen recently: later fragments with this id join its flow. */
typedef struct frag_slot {
    uint8_t src[16], dst[16];
    uint32_t ip_id;
    uint8_t proto, ip_version, used;
    uint64_t ts_ns;                 /* when the first fragment was seen */
    flow_key key;                   /* the flow it belongs to */
} frag_slot;

/* One slot of the index: a flow and its hash (NULL f = empty). */
typedef struct ft_slot {
    flow *f;
    uint32_t hash;
} ft_slot;

struct flowtab {
    flowtab_cfg cfg;
    flowtab_export_fn export_fn;
    void *export_ctx;
    pool *recs;                     /* the flow records */
    ft_slot *slots;                 /* the index */
    size_t nslots;                  /* power of two, > 4/3 of the flows */
    flow *head[CLS_COUNT], *tail[CLS_COUNT]; /* LRU per class: head = newest */
    uint64_t idle_ns[CLS_COUNT];
    uint64_t now_ns;                /* largest timestamp seen */
    uint64_t next_expire_ns;        /* next time to walk the tails */
    uint64_t seq;
    flowtab_stats st;
    frag_slot *frags;
};

static const char *origin_names[] = { "handshake", "synack", "port", "first" };
static const char *end_names[] = { "idle", "closed", "active", "evicted", "eof" };

const char *
flow_origin_name(int origin)
{
    return origin >= 0 && origin < 4 ? origin_names[origin] : "?";
}

const char *
flow_end_name(int end)
{
    return end >= 0 && end < 5 ? end_names[end] : "?";
}

void
flowtab_cfg_default(flowtab_cfg *cfg)
{
    const uint64_t s = 1000000000ULL;
    cfg->tcp_idle_ns = 300 * s;
    cfg->tcp_closed_ns = 10 * s;
    cfg->udp_idle_ns = 120 * s;
    cfg->other_idle_ns = 60 * s;
    cfg->active_ns = 3600 * s;
    cfg->max_flows = 2000000;
    cfg->key_vlan = 1;
    cfg->key_vni = 1;
}

size_t
flowtab_record_size(void)
{
    return sizeof(flow);
}

flowtab *
flowtab_create(const flowtab_cfg *cfg, flowtab_export_fn fn, void *ctx)
{
    flowtab *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->cfg = *cfg;
    if (t->cfg.max_flows == 0)
        t->cfg.max_flows = 1;
    t->export_fn = fn;
    t->export_ctx = ctx;
    t->nslots = 1024;
    t->recs = pool_create(sizeof(flow));
    t->slots = calloc(t->nslots, sizeof(*t->slots));
    t->frags = calloc(FRAG_SLOTS, sizeof(*t->frags));
    if (!t->recs || !t->slots || !t->frags)
        goto err;
    t->idle_ns[CLS_TCP] = cfg->tcp_idle_ns;
    t->idle_ns[CLS_TCP_CLOSED] = cfg->tcp_closed_ns;
    t->idle_ns[CLS_UDP] = cfg->udp_idle_ns;
    t->idle_ns[CLS_OTHER] = cfg->other_idle_ns;
    return t;
err:
    flowtab_free(t);
    return NULL;
}

void
flowtab_free(flowtab *t)
{
    if (!t)
        return;
    pool_free(t->recs);             /* every flow left */
    free(t->slots);
    free(t->frags);
    free(t);
}

const flowtab_stats *
flowtab_get_stats(const flowtab *t)
{
    return &t->st;
}

/* The key as 8-byte words (keys are built with memset, so padding is zero). */
#define KEY_WORDS (sizeof(flow_key) / 8)
_Static_assert(sizeof(flow_key) % 8 == 0, "flow_key is hashed and compared in 8-byte words");

/* 64-bit mixing hash over the key's words. */
static uint32_t
key_hash(const flow_key *k)
{
    const uint8_t *p = (const uint8_t *)k;
    uint64_t h = 0x9E3779B97F4A7C15ULL;
    for (size_t i = 0; i < KEY_WORDS; i++) {
        uint64_t v;
        memcpy(&v, p + 8 * i, 8);
        h ^= v;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    h ^= h >> 29;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 32;
    return (uint32_t)h;
}

static int
key_eq(const flow_key *x, const flow_key *y)
{
    const uint8_t *p = (const uint8_t *)x, *q = (const uint8_t *)y;
    uint64_t d = 0;
    for (size_t i = 0; i < KEY_WORDS; i++) {
        uint64_t a, b;
        memcpy(&a, p + 8 * i, 8);
        memcpy(&b, q + 8 * i, 8);
        d |= a ^ b;
    }
    return d == 0;
}

/* Compare ends (addr, port): <0 if the first sorts before the second. */
static int
end_cmp(const uint8_t *a1, uint16_t p1, const uint8_t *a2, uint16_t p2)
{
    int c = memcmp(a1, a2, 16);
    if (c)
        return c;
    return (int)p1 - (int)p2;
}

/* Build the canonical key; *src_is_a says whether the sender is end a. */
static void
key_make(const flowtab *t, const pkt_meta *m, flow_key *k, int *src_is_a)
{
    memset(k, 0, sizeof(*k));
    k->proto = m->proto;
    k->ip_version = m->ip_version;
    if (t->cfg.key_vlan) {
        k->n_vlan = m->n_vlan;
        memcpy(k->vlan, m->vlan, sizeof(k->vlan));
    }
    if (t->cfg.key_vni && m->has_vni) {
        k->has_vni = 1;
        k->vni = m->vni;
    }
    if (end_cmp(m->src, m->sport, m->dst, m->dport) <= 0) {
        memcpy(k->a, m->src, 16);
        memcpy(k->b, m->dst, 16);
        k->pa = m->sport;
        k->pb = m->dport;
        *src_is_a = 1;
    } else {
        memcpy(k->a, m->dst, 16);
        memcpy(k->b, m->src, 16);
        k->pa = m->dport;
        k->pb = m->sport;
        *src_is_a = 0;
    }
}

static void
lru_unlink(flowtab *t, flow *f)
{
    if (f->prev) f->prev->next = f->next; else t->head[f->cls] = f->next;
    if (f->next) f->next->prev = f->prev; else t->tail[f->cls] = f->prev;
    f->prev = f->next = NULL;
}

static void
lru_push(flowtab *t, flow *f, int cls)
{
    f->cls = (uint8_t)cls;
    f->prev = NULL;
    f->next = t->head[cls];
    if (t->head[cls]) t->head[cls]->prev = f; else t->tail[cls] = f;
    t->head[cls] = f;
}

/* Remove f from the index: find its slot, then shift back the entries
   after it that may sit there (linear probing without tombstones). */
static void
hash_unlink(flowtab *t, flow *f)
{
    size_t mask = t->nslots - 1, i = f->hash & mask;
    while (t->slots[i].f != f) {
        if (!t->slots[i].f)
            return;                 /* not indexed (cannot happen) */
        i = (i + 1) & mask;
    }
    for (size_t j = i;;) {
        j = (j + 1) & mask;
        if (!t->slots[j].f)
            break;
        size_t home = t->slots[j].hash & mask;
        /* Entry j may move to i only if its home is not in (i, j]. */
        if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
            continue;
        t->slots[i] = t->slots[j];
        i = j;
    }
    t->slots[i].f = NULL;
}

static void
slot_put(ft_slot *slots, size_t mask, flow *f, uint32_t h)
{
    size_t i = h & mask;
    while (slots[i].f)
        i = (i + 1) & mask;
    slots[i].f = f;
    slots[i].hash = h;
}

/* Double the index.  0 on allocation failure (the old one stays). */
static int
hash_grow(flowtab *t)
{
    size_t n = t->nslots * 2;
    ft_slot *ns = calloc(n, sizeof(*ns));
    if (!ns)
        return 0;
    for (size_t i = 0; i < t->nslots; i++)
        if (t->slots[i].f)
            slot_put(ns, n - 1, t->slots[i].f, t->slots[i].hash);
    free(t->slots);
    t->slots = ns;
    t->nslots = n;
    return 1;
}

/* End a flow: unlink it, export it, free it. */
static void
flow_end(flowtab *t, flow *f, int why)
{
    lru_unlink(t, f);
    hash_unlink(t, f);
    f->end = (uint8_t)why;
    t->st.ended[why]++;
    t->st.active--;
    if (t->export_fn)
        t->export_fn(t->export_ctx, f);
    pool_put(t->recs, f);
}

static uint64_t
last_seen(const flow *f)
{
    return f->last_ns;
}

void
flowtab_expire(flowtab *t, uint64_t now_ns)
{
    if (now_ns > t->now_ns)
        t->now_ns = now_ns;
    now_ns = t->now_ns;
    for (int c = 0; c < CLS_COUNT; c++) {
        flow *f;
        while ((f = t->tail[c]) && last_seen(f) + t->idle_ns[c] < now_ns)
            flow_end(t, f, c == CLS_TCP_CLOSED ? FLOW_END_CLOSED : FLOW_END_IDLE);
    }
    t->next_expire_ns = now_ns + 1000000000ULL;
}

/* Evict the least recently used flow of all classes. */
static void
evict_one(flowtab *t)
{
    flow *old = NULL;
    for (int c = 0; c < CLS_COUNT; c++)
        if (t->tail[c] && (!old || last_seen(t->tail[c]) < last_seen(old)))
            old = t->tail[c];
    if (old)
        flow_end(t, old, FLOW_END_EVICTED);
}

/* Port heuristic: 1 if port p looks like the server side against q. */
static int
port_is_server(uint16_t p, uint16_t q)
{
    if (p < 1024 && q >= 1024) return 1;
    if (p >= 1024 && q < 1024) return 0;
    if (p < 32768 && q >= 32768) return 1;
    return 0;
}

static int
class_of(const flow *f)
{
    if (f->key.proto == 6)
        return (f->rst || f->fin_mask == 3) ? CLS_TCP_CLOSED : CLS_TCP;
    if (f->key.proto == 17)
        return CLS_UDP;
    return CLS_OTHER;
}

/* f just had a packet: to the head of its class's list (already there: nothing to do). */
static void
lru_touch(flowtab *t, flow *f)
{
    int cls = class_of(f);
    if (t->head[cls] == f)
        return;
    lru_unlink(t, f);
    lru_push(t, f, cls);
}

static flow *
flow_new(flowtab *t, const flow_key *k, uint32_t h, const pkt_meta *m, int src_is_a)
{
    if (t->st.active >= t->cfg.max_flows)
        evict_one(t);
    /* The index keeps a quarter free: grow, or make room if it cannot. */
    while ((t->st.active + 1) * 4 > t->nslots * 3 && !hash_grow(t) && t->st.active)
        evict_one(t);
    flow *f = pool_get(t->recs);
    if (!f)
        return NULL;
    f->key = *k;
    f->hash = h;
    f->seq = ++t->seq;
    f->ip_layer = m->ip_layer;
    f->tunnel = m->tunnel;
    f->n_vlan = m->n_vlan;
    memcpy(f->vlan, m->vlan, sizeof(f->vlan));
    f->has_vni = m->has_vni;
    f->vni = m->vni;

    /* Choose the client (see flowtab.h). */
    int src_client;
    if (m->proto == 6 && (m->tcp_flags & 0x12) == 0x02) {
        src_client = 1;
        f->origin = FLOW_ORIGIN_HANDSHAKE;
    } else if (m->proto == 6 && (m->tcp_flags & 0x12) == 0x12) {
        src_client = 0;
        f->origin = FLOW_ORIGIN_SYNACK;
    } else if (m->has_ports && port_is_server(m->sport, m->dport)) {
        src_client = 0;
        f->origin = FLOW_ORIGIN_PORT;
    } else if (m->has_ports && port_is_server(m->dport, m->sport)) {
        src_client = 1;
        f->origin = FLOW_ORIGIN_PORT;
    } else {
        src_client = 1;
        f->origin = FLOW_ORIGIN_FIRST;
    }
    if (m->proto == 1 || m->proto == 58) {
        /* ICMP echo: the requester is the client. */
        if (m->icmp_type == 0 || m->icmp_type == 129)
            src_client = 0;
        else
            src_client = 1;
        f->origin = FLOW_ORIGIN_FIRST;
    }
    f->client_is_b = (uint8_t)(src_client ? !src_is_a : src_is_a);

    slot_put(t->slots, t->nslots - 1, f, h);
    lru_push(t, f, class_of(f));
    t->st.created++;
    t->st.active++;
    if (t->st.active > t->st.peak)
        t->st.peak = t->st.active;
    return f;
}

static flow *
flow_find(flowtab *t, const flow_key *k, uint32_t h)
{
    size_t mask = t->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const ft_slot *s = &t->slots[i];
        if (!s->f)
            return NULL;
        if (s->hash == h && key_eq(&s->f->key, k))
            return s->f;
    }
}

static size_t
frag_index(const pkt_meta *m)
{
    uint32_t h = m->ip_id * 2654435761u;
    for (int i = 0; i < 16; i++)
        h = (h ^ m->src[i] ^ ((uint32_t)m->dst[i] << 8)) * 16777619u;
    return (h ^ m->proto) & (FRAG_SLOTS - 1);
}

static int
frag_match(const frag_slot *s, const pkt_meta *m)
{
    return s->used && s->ip_id == m->ip_id && s->proto == m->proto &&
           s->ip_version == m->ip_version &&
           memcmp(s->src, m->src, 16) == 0 && memcmp(s->dst, m->dst, 16) == 0;
}

static void
dir_add(flow_dir *d, const pkt_meta *m, uint64_t ts, uint32_t len, uint8_t flags)
{
    if (d->pkts == 0) {
        d->first_ns = ts;
        if (m->has_mac) {
            d->has_mac = 1;
            memcpy(d->mac, m->src_mac, 6);
        }
    }
    d->pkts++;
    d->bytes += len;
    d->last_ns = ts;
    d->tcp_flags |= flags;
}

flow *
flowtab_packet(flowtab *t, const pkt_meta *m, uint64_t ts_ns, uint32_t wire_len,
               int *from_client)
{
    if (ts_ns > t->now_ns)
        t->now_ns = ts_ns;
    if (t->now_ns >= t->next_expire_ns)
        flowtab_expire(t, t->now_ns);

    flow_key k;
    int src_is_a;
    uint32_t h;
    flow *f;

    if (m->frag == DEC_FRAG_LATER) {
        frag_slot *s = &t->frags[frag_index(m)];
        if (!frag_match(s, m) || s->ts_ns + FRAG_TTL_NS < t->now_ns) {
            t->st.frag_unmatched++;
            return NULL;
        }
        k = s->key;
        /* Same-address flows (a == b) are ambiguous without ports: a. */
        src_is_a = memcmp(k.a, m->src, 16) == 0;
        h = key_hash(&k);
        f = flow_find(t, &k, h);
        if (!f) {
            t->st.frag_unmatched++;
            return NULL;
        }
        t->st.frag_matched++;
        int fc = (f->client_is_b == 0) == (src_is_a != 0);
        flow_dir *d = &f->d[fc ? 0 : 1];
        dir_add(d, m, ts_ns, wire_len, 0);
        f->last_ns = ts_ns;
        d->frag_pkts++;
        d->frag_bytes += wire_len;
        d->payload_bytes += m->payload_len;
        d->ip_bytes += m->l3_len;
        lru_touch(t, f);
        *from_client = fc;
        return f;
    }

    key_make(t, m, &k, &src_is_a);
    h = key_hash(&k);
    f = flow_find(t, &k, h);

    /* Idle for longer than its timeout: the old record ends, whether or not
       flowtab_expire() got to it yet (so records do not depend on how often
       expiry runs, e.g. per worker thread). */
    if (f && ts_ns > f->last_ns && ts_ns - f->last_ns > t->idle_ns[f->cls]) {
        flow_end(t, f, f->cls == CLS_TCP_CLOSED ? FLOW_END_CLOSED : FLOW_END_IDLE);
        f = NULL;
    }
    /* Active timeout: export what we have and start a new record. */
    if (f && t->cfg.active_ns) {
        if (ts_ns > f->first_ns && ts_ns - f->first_ns >= t->cfg.active_ns) {
            flow_end(t, f, FLOW_END_ACTIVE);
            f = NULL;
        }
    }
    /* A new SYN on a closed TCP flow starts a new record (port reuse). */
    if (f && m->proto == 6 && (m->tcp_flags & 0x12) == 0x02 && f->cls == CLS_TCP_CLOSED) {
        flow_end(t, f, FLOW_END_CLOSED);
        f = NULL;
    }
    if (!f) {
        f = flow_new(t, &k, h, m, src_is_a);
        if (!f)
            return NULL;
    } else if (m->proto == 6 && (m->tcp_flags & 0x12) == 0x02 &&
               f->origin != FLOW_ORIGIN_HANDSHAKE) {
        /* The first SYN seen names the client, whatever we guessed. */
        int want_b = !src_is_a;
        if (want_b != f->client_is_b) {
            flow_dir tmp = f->d[0];
            f->d[0] = f->d[1];
            f->d[1] = tmp;
            f->client_is_b = (uint8_t)want_b;
            f->fin_mask = (uint8_t)(((f->fin_mask & 1) << 1) | ((f->fin_mask >> 1) & 1));
        }
        f->origin = FLOW_ORIGIN_HANDSHAKE;
    }

    if (f->first_ns == 0 && f->d[0].pkts == 0 && f->d[1].pkts == 0)
        f->first_ns = ts_ns;
    f->last_ns = ts_ns;
    int fc = (f->client_is_b == 0) == (src_is_a != 0);
    dir_add(&f->d[fc ? 0 : 1], m, ts_ns, wire_len, m->proto == 6 ? m->tcp_flags : 0);
    f->d[fc ? 0 : 1].payload_bytes += m->payload_len;
    f->d[fc ? 0 : 1].ip_bytes += m->l3_len;
    if (m->proto == 6) {
        if (m->tcp_flags & 0x01)
            f->fin_mask |= (uint8_t)(fc ? 1 : 2);
        if (m->tcp_flags & 0x04)
            f->rst = 1;
    }
    lru_touch(t, f);

    if (m->frag == DEC_FRAG_FIRST) {
        frag_slot *s = &t->frags[frag_index(m)];
        memcpy(s->src, m->src, 16);
        memcpy(s->dst, m->dst, 16);
        s->ip_id = m->ip_id;
        s->proto = m->proto;
        s->ip_version = m->ip_version;
        s->used = 1;
        s->ts_ns = ts_ns;
        s->key = k;
    }
    *from_client = fc;
    return f;
}

/* A flow and its creation number, to sort. */
typedef struct seq_ref {
    uint64_t seq;
    flow *f;
} seq_ref;

/* Sort v[0..n) by seq (LSD radix, 11 bits a pass, as many passes as max
   needs) using tmp[n]; returns the array holding the result. */
static seq_ref *
seq_sort(seq_ref *v, seq_ref *tmp, size_t n, uint64_t max)
{
    enum { BITS = 11, RADIX = 1 << BITS };
    size_t *c = calloc(RADIX, sizeof(*c));
    if (!c)
        return NULL;
    for (unsigned sh = 0; sh < 64 && (max >> sh) != 0; sh += BITS) {
        memset(c, 0, RADIX * sizeof(*c));
        for (size_t i = 0; i < n; i++)
            c[(v[i].seq >> sh) & (RADIX - 1)]++;
        size_t sum = 0;
        for (size_t d = 0; d < RADIX; d++) {
            size_t x = c[d];
            c[d] = sum;
            sum += x;
        }
        for (size_t i = 0; i < n; i++)
            tmp[c[(v[i].seq >> sh) & (RADIX - 1)]++] = v[i];
        seq_ref *sw = v;
        v = tmp;
        tmp = sw;
    }
    free(c);
    return v;
}

/* End of input for f: export and free it.  Only from flowtab_flush, which
   then empties the lists and the index wholesale. */
static void
flow_final(flowtab *t, flow *f)
{
    f->end = FLOW_END_EOF;
    t->st.ended[FLOW_END_EOF]++;
    t->st.active--;
    if (t->export_fn)
        t->export_fn(t->export_ctx, f);
    pool_put(t->recs, f);
}

void
flowtab_flush(flowtab *t)
{
    size_t n = (size_t)t->st.active, i = 0;
    seq_ref *v = n ? malloc(n * sizeof(*v)) : NULL;
    seq_ref *tmp = n ? malloc(n * sizeof(*tmp)) : NULL;
    seq_ref *sorted = NULL;
    if (v && tmp) {
        for (size_t k = 0; k < t->nslots; k++)
            if (t->slots[k].f) {
                v[i].f = t->slots[k].f;
                v[i++].seq = t->slots[k].f->seq;
            }
        sorted = seq_sort(v, tmp, i, t->seq);
    }
    if (n && !sorted) {
        /* No memory to sort: export in LRU order rather than lose flows. */
        for (int c = 0; c < CLS_COUNT; c++)
            while (t->tail[c])
                flow_end(t, t->tail[c], FLOW_END_EOF);
        free(v);
        free(tmp);
        return;
    }
    for (size_t j = 0; j < i; j++) {
        if (j + 8 < i)
            __builtin_prefetch(sorted[j + 8].f);
        flow_final(t, sorted[j].f);
    }
    memset(t->slots, 0, t->nslots * sizeof(*t->slots));
    for (int c = 0; c < CLS_COUNT; c++)
        t->head[c] = t->tail[c] = NULL;
    free(v);
    free(tmp);
}
