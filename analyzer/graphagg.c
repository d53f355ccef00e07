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
 * A flush walks both maps in key order (sorted first, by a radix sort on
 * the keys' leading bytes, see key_sort: RocksDB's memtable
 * takes a batch of ascending keys several times faster than one in hash
 * order, and point reads in key order hit the same blocks: reading an
 * existing database's records in hash order made flushes up to twice as
 * slow; a large batch is then written as a file, which needs key order
 * anyway); for each
 * delta it reads the stored record (one point read, served mostly by the
 * bloom filter for new keys), merges the delta into it, and puts the
 * result into one batch with the capture record, freeing the delta; one
 * synced commit.  Only this process writes the database (graph.h's
 * lock), so the read-modify-write cannot race.
 *
 * Parallel flush.  With shards (worker threads), a flush is split into as
 * many parts (write_parts), each a run of the sorted deltas of about
 * equal length (edges first, then nodes: their keys sort in that order),
 * of at least AGG_PART_MIN records: the final flush ran alone for a
 * seventh of a two-thread capture while the workers' cores idled.  Each
 * part reads, merges, annotates and puts its deltas into a batch of its
 * own, with its own scratch records and counters; the parts' batches are
 * key ranges in order (the capture record in part 0, below every node
 * and edge key), committed as one (graph_batch_commit_parts: one SST file
 * per part, written at once, one atomic ingestion).  The written-key set
 * is only read meanwhile: each part lists the hashes it would add, added
 * after the join (keys are unique within a window, so no part misses a
 * hash another would add).  Without shards there is one part, on the
 * flushing thread: the same code, no thread.
 *
 * Skipped reads.  When the database held no node and no edge record at
 * its open (graph_no_records_at_open: a new database, or one with only
 * the schema and capture records), a node or edge key is stored iff this
 * run wrote it in an earlier flush.  A set of 64-bit hashes of the keys
 * written (agg_seen) then tells most new keys apart without a read: a
 * key whose hash is absent is new; a hash present (the key, or rarely a
 * collision) reads as before.  The set holds at most AGG_SEEN_MAX
 * hashes: at the cap, on OOM, or if records were put through g by
 * anything else, it is dropped for good and every key is read again, so
 * correctness never depends on it.
 *
 * Shards (threads).  A shard has maps of its own and its own table of
 * application names, guarded by its mutex, which its worker takes per
 * ended flow and the flusher per flush.  The flusher swaps the shard's
 * maps for empty ones (spare, preallocated) under that mutex and, with
 * the mutex released, moves every entry into the aggregator's maps:
 * entries new to them are relinked, others merged (counters added, times
 * widened, MACs and names united) and freed.  An edge whose days do not
 * fit the aggregator's entry (possible only if two shards fold the same
 * edge across more than 64 days) waits on a spill list and is written by
 * a second batch of the same flush.  The background flusher is a thread
 * waiting on a condition variable until the interval has passed or a
 * shard asks; graphagg_flush itself is serialised by flush_mu.
 *
 * Node pointers.  An edge delta remembers its client and server node
 * deltas (cn, sn), resolved at its first fold, so that later flows of the
 * edge skip two address hashes and lookups (mostly cache misses).  They
 * point into the edge's own maps, where a node delta lives as long as the
 * edges: a flush's parts (part_run) or maps_clear free both; merge_edge,
 * the one place an edge changes maps (relinked, spilled or freed, while
 * shards_take may be moving and freeing the nodes), resets them without
 * following them, and fold_flow resolves them again when NULL.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyzer/graphagg.h"

#define AGG_MAX_APPS 1024       /* distinct application names per run (and per shard) */
#define AGG_MAX_IDENTS 64       /* identities held per node delta (a record keeps GRAPH_MAX_IDENTS) */
#define AGG_MAX_SHARDS 64       /* shards per aggregator */
#define AGG_APP_CACHE 128       /* app_index's cache of name pointers (a power of two) */
#define AGG_MIN_SHARD_CAP 16    /* smallest cap of a shard's map */
#define AGG_SEEN_MAX ((size_t)1 << 22) /* keys the written-key set holds (its table: 64 MB at most) */
#define AGG_SEEN_MIN_SLOTS ((size_t)1 << 12) /* its first table */
#define AGG_PART_MIN 4096       /* fewest records a flush part gets (see "Parallel flush") */

/* A flush's parts are key ranges in this order, part 0 first (write_parts). */
_Static_assert(GRAPHREC_CAPTURE < GRAPHREC_EDGE && GRAPHREC_EDGE < GRAPHREC_NODE,
               "capture, edge and node keys sort in this order");

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
    uint32_t hash;              /* hash_addr(&addr) */
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
    uint16_t app;               /* index into the owner's application names */
} agg_ekey;

/* What a window adds to one edge. */
typedef struct agg_edge {
    struct agg_edge *next;      /* hash chain */
    agg_ekey k;                 /* the key */
    uint32_t hash;              /* hash of k */
    uint32_t day_base;          /* day of bit 0 of day_bits */
    uint64_t day_bits;          /* days seen: bit i = day_base + i */
    uint64_t flows;             /* flow records */
    uint64_t pkts[2], bytes[2]; /* [0] client -> server, [1] server -> client */
    uint64_t first_ns, last_ns; /* first and last packet */
    uint64_t hs, heur;          /* flows with the client seen opening / guessed */
    uint64_t risk;              /* OR of the flows' nDPI risk bitmaps */
    char (*names)[GRAPH_NAME_LEN]; /* GRAPH_MAX_NAMES slots, allocated with the first name */
    struct agg_node *cn, *sn;   /* its client and server node deltas in the same maps, or NULL
                                   (see "Node pointers" above) */
    uint8_t n_name;             /* names used */
} agg_edge;

/* The delta maps of one flush window (the aggregator's, or a shard's). */
typedef struct agg_maps {
    agg_node **nb;              /* node buckets */
    size_t nb_n;                /* their count (a power of two) */
    size_t n_nodes;             /* node deltas */
    agg_edge **eb;              /* edge buckets */
    size_t eb_n;                /* their count (a power of two) */
    size_t n_edges;             /* edge deltas */
    size_t n_names;             /* name blocks allocated */
    size_t n_idents;            /* identities held */
} agg_maps;

/* Application names by index: an edge key holds the index. */
typedef struct agg_apps {
    char name[AGG_MAX_APPS][GRAPH_APP_LEN]; /* names seen, by index */
    const char *ptr[AGG_MAX_APPS]; /* the pointer each was last given as (a fast path) */
    unsigned n;                 /* entries used */
    const char *cache_ptr[AGG_APP_CACHE]; /* pointers looked up lately, by a hash of the pointer */
    uint16_t cache_idx[AGG_APP_CACHE]; /* the index each gave */
} agg_apps;

/*
 * The 64-bit hashes of the node and edge keys this run wrote, while the
 * database had no node and no edge record when it was opened (see
 * "Skipped reads" above).  Open addressing, linear probing, 0 = empty.
 */
typedef struct agg_seen {
    uint64_t *slot;             /* the table */
    size_t n_slot;              /* its size (a power of two, or 0) */
    size_t n;                   /* hashes held */
    int on;                     /* absent hash = key not stored (off for good once the cap is hit) */
} agg_seen;

/* One worker's deltas (see "Shards" above). */
struct graphagg_shard {
    graphagg *a;                /* the owner */
    pthread_mutex_t mu;         /* guards m, apps, flows, apps_dropped, taken */
    pthread_cond_t cv;          /* broadcast when the flusher took m (or failed) */
    agg_maps m;                 /* deltas folded since the last take */
    agg_apps apps;              /* names of m's edge keys */
    uint64_t flows;             /* flows folded into m */
    uint64_t apps_dropped;      /* flows whose application name did not fit apps */
    uint64_t taken;             /* takes so far */
    size_t max_nodes, max_edges; /* caps of m */
    /* The flusher's own (under the owner's flush_mu): */
    agg_maps spare;             /* empty maps swapped in at the next take */
    uint16_t xlat[AGG_MAX_APPS]; /* shard app index -> owner app index */
    unsigned xlat_n;            /* entries of xlat filled */
};

/*
 * One thread's share of a flush: a run of the deltas in key order, and
 * what writing them needs of its own (see "Parallel flush" above).
 */
typedef struct agg_part {
    graphagg *a;                /* the owner (read-only during the flush, but for seen, see below) */
    graph_batch *batch;         /* this part's records; reused for every flush */
    graph_node *rec_node;       /* scratch: stored node being updated */
    graph_edge *rec_edge;       /* scratch: stored edge being updated */
    const struct key_ref *ev, *nv; /* its edges and its nodes, in key order */
    size_t n_ev, n_nv;          /* their counts */
    uint64_t *added;            /* seen hashes of the keys it put new, added after the join */
    size_t n_added;             /* added[] used */
    graphagg_stats st;          /* its flush counters, added to the owner's after the join */
    const char *why;            /* why it failed, or NULL */
    pthread_t t;                /* its thread (parts 1 on) */
    int started;                /* t was started */
    uint8_t enc[GRAPHREC_VAL_MAX];  /* scratch: a stored node, encoded */
    uint8_t enc2[GRAPHREC_VAL_MAX]; /* scratch: the same after the merge */
} agg_part;

struct graphagg {
    graph *g;                   /* the database (GRAPH_WRITE) */
    graphagg_cfg cfg;           /* configuration */
    graph_capture cap;          /* this run's capture record */
    agg_part *part[AGG_MAX_SHARDS]; /* a flush's parts, made as needed and reused; part[0]'s
                                   batch also carries the capture record */
    agg_maps m;                 /* the deltas of this window */
    agg_apps apps;              /* application names of m's edge keys */
    agg_edge *spill;            /* edges to write by a second batch (see above) */
    agg_seen seen;              /* keys written by this run, to skip reads of new keys */
    uint64_t ticks;             /* graphagg_tick calls */
    uint64_t next_flush_ns;     /* monotonic time of the next timed flush */
    int in_flush;               /* inside graphagg_flush: the caps wait (no nested flush) */
    int failed;                 /* a flush failed: stop (read with __atomic_load_n) */
    pthread_mutex_t err_mu;     /* guards err when threads fail */
    char err[512];              /* why */
    graphagg_stats st;          /* counters */
    uint64_t pub_flushes;       /* st.flushes for graphagg_progress (atomic) */
    uint64_t pub_records;       /* st.nodes_written + st.edges_written, likewise */
    pthread_mutex_t flush_mu;   /* one flush at a time */
    graphagg_shard *shard[AGG_MAX_SHARDS]; /* shards, if any */
    int n_shards;               /* shard[] used */
    /* The background flusher: */
    pthread_t bg;               /* its thread */
    pthread_mutex_t bg_mu;      /* guards the three below */
    pthread_cond_t bg_cv;       /* signalled for a request or the stop */
    int bg_running;             /* started and not yet joined */
    int bg_req;                 /* a shard asks for a flush */
    int bg_stop;                /* graphagg_finish: end the thread */
};

static uint64_t
mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t
wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* A hash of n key bytes, eight at a time (keys are zeroed before they are
   filled), finished with MurmurHash3's fmix64 so that the low bits, which
   pick the bucket, depend on every byte. */
static uint64_t
hash64_bytes(const void *p, size_t n, uint64_t seed)
{
    const uint8_t *b = p;
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ n ^ seed, v;
    while (n >= 8) {
        memcpy(&v, b, 8);
        h = (h ^ v) * 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
        b += 8;
        n -= 8;
    }
    v = 0;
    memcpy(&v, b, n);
    h ^= v;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static uint32_t
hash_bytes(const void *p, size_t n)
{
    return (uint32_t)hash64_bytes(p, n, 0);
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

static int
is_failed(const graphagg *a)
{
    return __atomic_load_n(&a->failed, __ATOMIC_ACQUIRE);
}

static void
fail(graphagg *a, const char *msg)
{
    pthread_mutex_lock(&a->err_mu);
    if (!a->failed)
        snprintf(a->err, sizeof(a->err), "%s", msg);
    __atomic_store_n(&a->failed, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&a->err_mu);
}

void
graphagg_cfg_default(graphagg_cfg *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->flush_interval_s = 10;
    cfg->max_nodes = 262144;
    cfg->max_edges = 524288;
}

/* ---- maps ---------------------------------------------------------------- */

/* Empty maps with 1024 buckets each. 0, or -1 on OOM (m then freeable). */
static int
maps_init(agg_maps *m)
{
    memset(m, 0, sizeof(*m));
    m->nb_n = 1024;
    m->eb_n = 1024;
    m->nb = calloc(m->nb_n, sizeof(*m->nb));
    m->eb = calloc(m->eb_n, sizeof(*m->eb));
    return m->nb && m->eb ? 0 : -1;
}

/* Free a node delta with its identities. */
static void
node_free(agg_node *n)
{
    agg_ident *id = n->idents;
    while (id) {
        agg_ident *in = id->next;
        free(id);
        id = in;
    }
    free(n);
}

/* Free an edge delta with its names. */
static void
edge_free(agg_edge *e)
{
    free(e->names);
    free(e);
}

/* Empty m without freeing its deltas (freed otherwise); the buckets stay. */
static void
maps_forget(agg_maps *m)
{
    if (m->nb)
        memset(m->nb, 0, m->nb_n * sizeof(*m->nb));
    if (m->eb)
        memset(m->eb, 0, m->eb_n * sizeof(*m->eb));
    m->n_nodes = m->n_edges = m->n_names = m->n_idents = 0;
}

/* Free every delta of m; the buckets stay, empty. */
static void
maps_clear(agg_maps *m)
{
    for (size_t i = 0; m->nb && i < m->nb_n; i++)
        for (agg_node *n = m->nb[i], *next; n; n = next) {
            next = n->next;
            node_free(n);
        }
    for (size_t i = 0; m->eb && i < m->eb_n; i++)
        for (agg_edge *e = m->eb[i], *next; e; e = next) {
            next = e->next;
            edge_free(e);
        }
    maps_forget(m);
}

static void
maps_free(agg_maps *m)
{
    maps_clear(m);
    free(m->nb);
    free(m->eb);
    m->nb = NULL;
    m->eb = NULL;
}

static size_t
maps_mem(const agg_maps *m)
{
    return m->n_nodes * sizeof(agg_node) + m->n_edges * sizeof(agg_edge) +
           m->n_names * GRAPH_MAX_NAMES * GRAPH_NAME_LEN + m->n_idents * sizeof(agg_ident) +
           (m->nb_n + m->eb_n) * sizeof(void *);
}

/* Double a bucket array when it holds more entries than buckets (no-op on OOM). */
static void
grow_nodes(agg_maps *m)
{
    size_t n = m->nb_n * 2;
    agg_node **nb = calloc(n, sizeof(*nb));
    if (!nb)
        return;
    for (size_t i = 0; i < m->nb_n; i++)
        for (agg_node *x = m->nb[i], *next; x; x = next) {
            next = x->next;
            x->next = nb[x->hash & (n - 1)];
            nb[x->hash & (n - 1)] = x;
        }
    free(m->nb);
    m->nb = nb;
    m->nb_n = n;
}

static void
grow_edges(agg_maps *m)
{
    size_t n = m->eb_n * 2;
    agg_edge **eb = calloc(n, sizeof(*eb));
    if (!eb)
        return;
    for (size_t i = 0; i < m->eb_n; i++)
        for (agg_edge *x = m->eb[i], *next; x; x = next) {
            next = x->next;
            x->next = eb[x->hash & (n - 1)];
            eb[x->hash & (n - 1)] = x;
        }
    free(m->eb);
    m->eb = eb;
    m->eb_n = n;
}

static agg_node *
node_find(const agg_maps *m, const graph_addr *addr, uint32_t h)
{
    for (agg_node *n = m->nb[h & (m->nb_n - 1)]; n; n = n->next)
        if (n->hash == h && addr_eq(&n->addr, addr))
            return n;
    return NULL;
}

/* Link a node delta (hash set) into m. */
static void
node_link(agg_maps *m, agg_node *n)
{
    if (++m->n_nodes > m->nb_n)
        grow_nodes(m);
    agg_node **b = &m->nb[n->hash & (m->nb_n - 1)];
    n->next = *b;
    *b = n;
}

/* The node delta of addr in m, added if new; NULL on OOM (a failed). */
static agg_node *
node_get(graphagg *a, agg_maps *m, const graph_addr *addr)
{
    uint32_t h = hash_addr(addr);
    agg_node *n = node_find(m, addr, h);
    if (n)
        return n;
    n = calloc(1, sizeof(*n));
    if (!n) {
        fail(a, "out of memory");
        return NULL;
    }
    n->addr = *addr;
    n->hash = h;
    node_link(m, n);
    return n;
}

int
graphagg_has_node(const graphagg *a, const graph_addr *addr)
{
    const agg_node *n = node_find(&a->m, addr, hash_addr(addr));
    return n ? n->create : 0;
}

static agg_edge *
edge_find(const agg_maps *m, const agg_ekey *k, uint32_t h)
{
    for (agg_edge *e = m->eb[h & (m->eb_n - 1)]; e; e = e->next)
        if (e->hash == h && memcmp(&e->k, k, sizeof(*k)) == 0)
            return e;
    return NULL;
}

static void
edge_link(agg_maps *m, agg_edge *e)
{
    if (++m->n_edges > m->eb_n)
        grow_edges(m);
    agg_edge **b = &m->eb[e->hash & (m->eb_n - 1)];
    e->next = *b;
    *b = e;
}

static agg_edge *
edge_add(graphagg *a, agg_maps *m, const agg_ekey *k, uint32_t h)
{
    agg_edge *e = calloc(1, sizeof(*e));
    if (!e) {
        fail(a, "out of memory");
        return NULL;
    }
    e->k = *k;
    e->hash = h;
    edge_link(m, e);
    return e;
}

/* Index of an application name in t, added if new; -1 if new and t is
   full.  The last entry is kept for "Unknown", so that a full table still
   has an index for the flows it drops. */
static int
app_lookup(agg_apps *t, const char *name)
{
    for (unsigned i = 0; i < t->n; i++)
        if (t->ptr[i] == name || strcmp(t->name[i], name) == 0) {
            t->ptr[i] = name;
            return (int)i;
        }
    if (t->n >= AGG_MAX_APPS - 1 && (t->n == AGG_MAX_APPS || strcmp(name, "Unknown") != 0))
        return -1;
    graph_strcpy(t->name[t->n], GRAPH_APP_LEN, name);
    t->ptr[t->n] = name;
    return (int)t->n++;
}

/*
 * Index of an application name in t, added if new; the "Unknown" index if
 * t is full.  First through a cache by pointer: a name pointer is taken
 * to keep its text (as ptr[] already is), so it gives the index it gave
 * before.  app_lookup's scan cost some 400 instructions a flow with a
 * few dozen names (a strcmp per name before the match).
 */
static uint16_t
app_index(agg_apps *t, const char *name, uint64_t *dropped)
{
    if (!name || !name[0])
        name = "Unknown";
    size_t c = (size_t)(((uint64_t)(uintptr_t)name * 0x9E3779B97F4A7C15ULL) >> 32) &
               (AGG_APP_CACHE - 1);
    if (t->cache_ptr[c] == name)
        return t->cache_idx[c];
    int i = app_lookup(t, name);
    if (i < 0) {
        (*dropped)++;
        return app_index(t, "Unknown", dropped);
    }
    t->cache_ptr[c] = name;
    t->cache_idx[c] = (uint16_t)i;
    return (uint16_t)i;
}

/* ---- the written-key set (see "Skipped reads" above) ------------------------------ */

#define SEEN_SEED_NODE 0x6e6f6465ULL   /* keeps node and edge hashes apart */
#define SEEN_SEED_EDGE 0x65646765ULL

static uint64_t
seen_hash_node(const graph_addr *a)
{
    uint64_t h = hash64_bytes(a, 1 + (a->family == 6 ? 16 : 4), SEEN_SEED_NODE);
    return h ? h : 1;
}

/* An edge delta's key: its app index stands for the name (one index per name in a run). */
static uint64_t
seen_hash_edge(const agg_ekey *k)
{
    uint64_t h = hash64_bytes(k, sizeof(*k), SEEN_SEED_EDGE);
    return h ? h : 1;
}

/* Stop skipping reads, for the rest of the run. */
static void
seen_off(agg_seen *s)
{
    free(s->slot);
    s->slot = NULL;
    s->n_slot = s->n = 0;
    s->on = 0;
}

/* The slot of h in table t of n slots (a power of two): where it is, or the empty one where it goes. */
static size_t
seen_slot(const uint64_t *t, size_t n, uint64_t h)
{
    size_t i = (size_t)h & (n - 1);
    while (t[i] && t[i] != h)
        i = (i + 1) & (n - 1);
    return i;
}

static int
seen_has(const agg_seen *s, uint64_t h)
{
    return s->n_slot && s->slot[seen_slot(s->slot, s->n_slot, h)] == h;
}

/* Make room for want hashes in all (at most half full); off if want is over the cap or on OOM. */
static void
seen_reserve(agg_seen *s, size_t want)
{
    if (!s->on)
        return;
    if (want > AGG_SEEN_MAX) {
        seen_off(s);
        return;
    }
    size_t n = s->n_slot ? s->n_slot : AGG_SEEN_MIN_SLOTS;
    while (n < 2 * want)
        n *= 2;
    if (n == s->n_slot)
        return;
    uint64_t *t = calloc(n, sizeof(*t));
    if (!t) {
        seen_off(s);
        return;
    }
    for (size_t i = 0; i < s->n_slot; i++)
        if (s->slot[i])
            t[seen_slot(t, n, s->slot[i])] = s->slot[i];
    free(s->slot);
    s->slot = t;
    s->n_slot = n;
}

/* Remember hash h of a key put into the batch. */
static void
seen_add(agg_seen *s, uint64_t h)
{
    if (!s->on)
        return;
    if (2 * (s->n + 1) > s->n_slot) {
        seen_reserve(s, s->n + 1);
        if (!s->on)
            return;
    }
    size_t i = seen_slot(s->slot, s->n_slot, h);
    if (s->slot[i] != h) {
        s->slot[i] = h;
        s->n++;
    }
}

/* ---- graphagg ------------------------------------------------------------- */

/* NULL is fine. */
static void
part_free(agg_part *p)
{
    if (!p)
        return;
    graph_batch_free(p->batch);
    free(p->rec_node);
    free(p->rec_edge);
    free(p);
}

/* A flush part writing into a's database; NULL on OOM. */
static agg_part *
part_new(graphagg *a)
{
    agg_part *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->a = a;
    p->batch = graph_batch_create(a->g);
    p->rec_node = malloc(sizeof(graph_node));
    p->rec_edge = malloc(sizeof(graph_edge));
    if (!p->batch || !p->rec_node || !p->rec_edge) {
        part_free(p);
        return NULL;
    }
    return p;
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
    pthread_mutex_init(&a->err_mu, NULL);
    pthread_mutex_init(&a->flush_mu, NULL);
    pthread_mutex_init(&a->bg_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->bg_cv, &ca);
    pthread_condattr_destroy(&ca);
    a->g = g;
    a->cfg = *cfg;
    if (!a->cfg.max_nodes)
        a->cfg.max_nodes = 262144;
    if (!a->cfg.max_edges)
        a->cfg.max_edges = 524288;
    a->cap = *cap;
    if (maps_init(&a->m) < 0 || !(a->part[0] = part_new(a)))
        goto oom;
    a->next_flush_ns = mono_ns() + (uint64_t)(a->cfg.flush_interval_s * 1e9);
    a->seen.on = graph_no_records_at_open(g) && graph_record_puts(g) == 0;
    /* The run is on record from its start. */
    a->cap.end_ns = wall_ns();
    if (graph_batch_put_capture(a->part[0]->batch, &a->cap) < 0 ||
        graph_batch_commit(a->part[0]->batch, err, errlen) < 0) {
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

static void
bg_stop(graphagg *a)
{
    pthread_mutex_lock(&a->bg_mu);
    int running = a->bg_running;
    a->bg_stop = 1;
    pthread_cond_broadcast(&a->bg_cv);
    pthread_mutex_unlock(&a->bg_mu);
    if (running) {
        pthread_join(a->bg, NULL);
        a->bg_running = 0;
    }
}

void
graphagg_free(graphagg *a)
{
    if (!a)
        return;
    bg_stop(a);
    maps_free(&a->m);
    while (a->spill) {
        agg_edge *e = a->spill;
        a->spill = e->next;
        edge_free(e);
    }
    for (int i = 0; i < a->n_shards; i++) {
        graphagg_shard *s = a->shard[i];
        maps_free(&s->m);
        maps_free(&s->spare);
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        free(s);
    }
    for (int i = 0; i < AGG_MAX_SHARDS; i++)
        part_free(a->part[i]);
    seen_off(&a->seen);
    pthread_mutex_destroy(&a->err_mu);
    pthread_mutex_destroy(&a->flush_mu);
    pthread_mutex_destroy(&a->bg_mu);
    pthread_cond_destroy(&a->bg_cv);
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

void
graphagg_progress(const graphagg *a, uint64_t *flushes, uint64_t *records)
{
    *flushes = __atomic_load_n(&a->pub_flushes, __ATOMIC_RELAXED);
    *records = __atomic_load_n(&a->pub_records, __ATOMIC_RELAXED);
}

int
graphagg_failed(const graphagg *a)
{
    return is_failed(a);
}

const char *
graphagg_error(const graphagg *a)
{
    return a->err;
}

size_t
graphagg_mem(const graphagg *a)
{
    size_t n = maps_mem(&a->m);
    for (int i = 0; i < a->n_shards; i++)    /* racy with running workers: an estimate */
        n += maps_mem(&a->shard[i]->m) + maps_mem(&a->shard[i]->spare);
    return n;
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

/* 1 if the days of add fit into e's bitmap. */
static int
days_fit_edge(const agg_edge *e, const agg_edge *add)
{
    if (!add->day_bits)
        return 1;
    return days_fit(e, add->day_base, add->day_base + bits_top(add->day_bits));
}

/* Add the days of add to e (they fit). */
static void
days_put_edge(agg_edge *e, const agg_edge *add)
{
    if (!add->day_bits)
        return;
    days_put(e, add->day_base, add->day_base);      /* sets the base low enough */
    e->day_bits |= add->day_bits << (add->day_base - e->day_base);
}

/* ---- folding ------------------------------------------------------------------- */

/* A MAC seen from first to last on node n (the most recent GRAPH_MAX_MACS are kept). */
static void
node_add_mac(agg_node *n, const uint8_t mac[6], uint64_t first, uint64_t last)
{
    unsigned i, oldest = 0;
    for (i = 0; i < n->n_mac; i++)
        if (memcmp(n->mac[i].mac, mac, 6) == 0) {
            graph_widen(&n->mac[i].first_ns, &n->mac[i].last_ns, first, last);
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
    n->mac[i].first_ns = first;
    n->mac[i].last_ns = last;
}

/* Add name (if new and room) to e's names; m counts name blocks. */
static void
edge_add_name(agg_maps *m, agg_edge *e, const char *name)
{
    if (e->n_name >= GRAPH_MAX_NAMES)
        return;
    if (!e->names) {
        e->names = calloc(GRAPH_MAX_NAMES, GRAPH_NAME_LEN);
        if (!e->names)
            return;         /* an example name lost, nothing else */
        m->n_names++;
    }
    char s[GRAPH_NAME_LEN];
    graph_strcpy(s, sizeof(s), name);
    for (unsigned i = 0; i < e->n_name; i++)
        if (strcmp(e->names[i], s) == 0)
            return;
    memcpy(e->names[e->n_name++], s, sizeof(s));
}

/* Only if it is the first packet of its direction: the source MAC of a flow direction. */
static void
fold_packet(graphagg *a, agg_maps *m, const pkt_meta *m_, uint64_t ts_ns)
{
    graph_addr src;
    graph_addr_set(&src, m_->src, m_->ip_version);
    agg_node *n = node_get(a, m, &src);
    if (!n)
        return;
    n->create = 1;
    node_add_mac(n, m_->src_mac, ts_ns, ts_ns);
}

/* 1 if graphagg_packet/graphagg_shard_packet has something to record. */
static int
packet_wanted(const flow *f, int from_client, const pkt_meta *m)
{
    return m->has_mac && f->d[from_client ? 0 : 1].pkts == 1;
}

void
graphagg_packet(graphagg *a, const flow *f, int from_client, const pkt_meta *m, uint64_t ts_ns)
{
    if (!packet_wanted(f, from_client, m) || is_failed(a))
        return;
    if (a->m.n_nodes >= a->cfg.max_nodes && !a->in_flush) {
        a->st.flushes_forced++;
        if (graphagg_flush(a) < 0)
            return;
    }
    fold_packet(a, &a->m, m, ts_ns);
    if (a->m.n_nodes > a->st.peak_nodes)
        a->st.peak_nodes = a->m.n_nodes;
}

/* Flow f on node delta n, as client or server. */
static void
node_fold(agg_node *n, int server, const flow *f)
{
    graph_counts *c = server ? &n->as_server : &n->as_client;
    const flow_dir *d = &f->d[server ? 1 : 0];
    n->create = 1;
    c->flows++;
    c->pkts += f->d[0].pkts + f->d[1].pkts;
    c->bytes += f->d[0].bytes + f->d[1].bytes;
    graph_widen(&n->first_ns, &n->last_ns, f->first_ns, f->last_ns);
    if (d->has_mac)     /* the source MAC of the first packet it sent */
        node_add_mac(n, d->mac, d->first_ns, d->first_ns);
}

/* A flow about to be folded: its edge key (but the app) and its days. */
typedef struct agg_fold {
    agg_ekey k;                 /* the edge key; k.app set by the caller */
    uint32_t h;                 /* its hash, once k.app is set */
    uint32_t d0, d1;            /* the flow's first and last day (at most 64 days) */
} agg_fold;

static void
fold_prepare(const flow *f, int icmp_type, agg_fold *x)
{
    agg_ekey *k = &x->k;
    memset(k, 0, sizeof(*k));
    graph_addr_set(&k->c, flow_caddr(f), f->key.ip_version);
    graph_addr_set(&k->s, flow_saddr(f), f->key.ip_version);
    k->proto = f->key.proto;
    if (k->proto == 1 || k->proto == 58) {
        /* ICMP: the type; echo flows (identifier in the ports) as echo request. */
        int t = icmp_type;
        if (t < 0 && (f->key.pa || f->key.pb))
            t = k->proto == 1 ? 8 : 128;
        if ((k->proto == 1 && t == 0) || (k->proto == 58 && t == 129))
            t = k->proto == 1 ? 8 : 128;     /* a reply seen first: the request's type */
        k->port = t < 0 ? 0 : (uint16_t)t;
    } else {
        k->port = flow_sport(f);
    }
    x->d0 = graph_day(f->first_ns);
    x->d1 = graph_day(f->last_ns);
    if (x->d1 < x->d0)
        x->d1 = x->d0;
    if (x->d1 - x->d0 > 63)
        x->d0 = x->d1 - 63;     /* a flow longer than 64 days: its last 64 */
}

/* 1 if folding x (whose edge delta in m is e, or NULL) into m needs a flush first
   (a cap, or days that do not fit). */
static int
fold_needs_room(const agg_maps *m, size_t max_nodes, size_t max_edges, const agg_fold *x,
                const agg_edge *e)
{
    return (e && !days_fit(e, x->d0, x->d1)) || (!e && m->n_edges >= max_edges) ||
           m->n_nodes + 2 > max_nodes;
}

/* Fold flow f into m (room was made; e: x's edge delta in m, or NULL). 1 folded, 0 out of memory. */
static int
fold_flow(graphagg *a, agg_maps *m, const agg_fold *x, agg_edge *e, const flow *f,
          const char *server_name, uint64_t risk)
{
    if (!e && !(e = edge_add(a, m, &x->k, x->h)))
        return 0;
    e->flows++;
    for (int i = 0; i < 2; i++) {
        e->pkts[i] += f->d[i].pkts;
        e->bytes[i] += f->d[i].bytes;
    }
    graph_widen(&e->first_ns, &e->last_ns, f->first_ns, f->last_ns);
    if (f->origin == FLOW_ORIGIN_HANDSHAKE || f->origin == FLOW_ORIGIN_SYNACK)
        e->hs++;
    else
        e->heur++;
    e->risk |= risk;
    days_put(e, x->d0, x->d1);
    if (server_name && server_name[0] && e->n_name < GRAPH_MAX_NAMES &&
        !netclass_is_internal(a->cfg.nc, x->k.s.a, x->k.s.family))
        edge_add_name(m, e, server_name);
    if (!e->cn && !(e->cn = node_get(a, m, &x->k.c)))
        return 1;
    node_fold(e->cn, 0, f);
    if (!e->sn && !(e->sn = node_get(a, m, &x->k.s)))
        return 1;
    node_fold(e->sn, 1, f);
    return 1;
}

void
graphagg_flow(graphagg *a, const flow *f, const char *app, int icmp_type,
              const char *server_name, uint64_t risk)
{
    agg_fold x;
    if (is_failed(a))
        return;
    fold_prepare(f, icmp_type, &x);
    x.k.app = app_index(&a->apps, app, &a->st.apps_dropped);
    x.h = hash_bytes(&x.k, sizeof(x.k));
    /* Make room first, so that a flush never holds part of this flow. */
    agg_edge *e = edge_find(&a->m, &x.k, x.h);
    if (fold_needs_room(&a->m, a->cfg.max_nodes, a->cfg.max_edges, &x, e)) {
        a->st.flushes_forced++;
        if (graphagg_flush(a) < 0)
            return;
        e = edge_find(&a->m, &x.k, x.h);    /* the maps were emptied */
    }
    if (!fold_flow(a, &a->m, &x, e, f, server_name, risk))
        return;
    a->st.flows++;
    a->cap.flows++;
    if (a->m.n_nodes > a->st.peak_nodes)
        a->st.peak_nodes = a->m.n_nodes;
    if (a->m.n_edges > a->st.peak_edges)
        a->st.peak_edges = a->m.n_edges;
}

void
graphagg_ident(graphagg *a, const graph_addr *addr, const char *kind, const char *value,
               const char *source, uint64_t first_ns, uint64_t last_ns, int create)
{
    if (is_failed(a) || !value || !value[0])
        return;
    if (a->m.n_nodes >= a->cfg.max_nodes && !a->in_flush && !node_find(&a->m, addr, hash_addr(addr))) {
        a->st.flushes_forced++;
        if (graphagg_flush(a) < 0)
            return;
    }
    agg_node *n = node_get(a, &a->m, addr);
    if (!n)
        return;
    if (a->m.n_nodes > a->st.peak_nodes)
        a->st.peak_nodes = a->m.n_nodes;
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
            graph_widen(&x->id.first_ns, &x->id.last_ns, first_ns, last_ns);
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
    a->m.n_idents++;
}

/* ---- shards -------------------------------------------------------------------- */

graphagg_shard *
graphagg_shard_create(graphagg *a, int nshards)
{
    if (a->n_shards == AGG_MAX_SHARDS || a->bg_running)
        return NULL;
    graphagg_shard *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    if (maps_init(&s->m) < 0 || maps_init(&s->spare) < 0) {
        maps_free(&s->m);
        maps_free(&s->spare);
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->a = a;
    if (nshards < 1)
        nshards = 1;
    s->max_nodes = a->cfg.max_nodes / (size_t)nshards;
    s->max_edges = a->cfg.max_edges / (size_t)nshards;
    if (s->max_nodes < AGG_MIN_SHARD_CAP)
        s->max_nodes = AGG_MIN_SHARD_CAP;
    if (s->max_edges < AGG_MIN_SHARD_CAP)
        s->max_edges = AGG_MIN_SHARD_CAP;
    a->shard[a->n_shards++] = s;
    return s;
}

static void bg_request(graphagg *a);

/*
 * s is full: have its maps taken, then return (s->mu held throughout,
 * but released while waiting).  Without a background flusher, flush here.
 */
static void
shard_make_room(graphagg_shard *s)
{
    graphagg *a = s->a;
    uint64_t t = s->taken;
    pthread_mutex_lock(&a->bg_mu);
    int bg = a->bg_running && !a->bg_stop;
    pthread_mutex_unlock(&a->bg_mu);
    if (!bg) {
        pthread_mutex_unlock(&s->mu);
        graphagg_flush(a);
        pthread_mutex_lock(&s->mu);
        return;
    }
    bg_request(a);
    while (s->taken == t && !is_failed(a))
        pthread_cond_wait(&s->cv, &s->mu);
}

void
graphagg_shard_flow(graphagg_shard *s, const flow *f, const char *app, int icmp_type,
                    const char *server_name, uint64_t risk)
{
    graphagg *a = s->a;
    agg_fold x;
    if (is_failed(a))
        return;
    fold_prepare(f, icmp_type, &x);
    pthread_mutex_lock(&s->mu);
    x.k.app = app_index(&s->apps, app, &s->apps_dropped);
    x.h = hash_bytes(&x.k, sizeof(x.k));
    agg_edge *e = edge_find(&s->m, &x.k, x.h);
    if (fold_needs_room(&s->m, s->max_nodes, s->max_edges, &x, e)) {
        shard_make_room(s);
        e = edge_find(&s->m, &x.k, x.h);    /* s->m was taken */
    }
    if (!is_failed(a) && fold_flow(a, &s->m, &x, e, f, server_name, risk))
        s->flows++;
    pthread_mutex_unlock(&s->mu);
}

/* Move node delta n (unlinked) into a's maps. */
static void
merge_node(graphagg *a, agg_node *n)
{
    agg_node *x = node_find(&a->m, &n->addr, n->hash);
    if (!x) {
        node_link(&a->m, n);
        return;
    }
    x->create |= n->create;
    graph_widen(&x->first_ns, &x->last_ns, n->first_ns, n->last_ns);
    graph_counts_add(&x->as_client, &n->as_client);
    graph_counts_add(&x->as_server, &n->as_server);
    for (unsigned i = 0; i < n->n_mac; i++)
        node_add_mac(x, n->mac[i].mac, n->mac[i].first_ns, n->mac[i].last_ns);
    while (n->idents) {             /* shards hold none; kept general */
        agg_ident *id = n->idents;
        n->idents = id->next;
        id->next = x->idents;
        x->idents = id;
        a->m.n_idents++;
    }
    free(n);
}

/* Move edge delta e (unlinked, key in a's app indices, hash set) into a's maps. */
static void
merge_edge(graphagg *a, agg_edge *e)
{
    e->cn = e->sn = NULL;           /* they point into the maps e leaves */
    agg_edge *x = edge_find(&a->m, &e->k, e->hash);
    if (!x) {
        edge_link(&a->m, e);
        if (e->names)
            a->m.n_names++;
        return;
    }
    if (!days_fit_edge(x, e)) {
        e->next = a->spill;
        a->spill = e;
        return;
    }
    x->flows += e->flows;
    for (int i = 0; i < 2; i++) {
        x->pkts[i] += e->pkts[i];
        x->bytes[i] += e->bytes[i];
    }
    graph_widen(&x->first_ns, &x->last_ns, e->first_ns, e->last_ns);
    x->hs += e->hs;
    x->heur += e->heur;
    x->risk |= e->risk;
    days_put_edge(x, e);
    for (unsigned i = 0; i < e->n_name; i++)
        edge_add_name(&a->m, x, e->names[i]);
    free(e->names);
    free(e);
}

/* Run fn(arg) on a thread of its own if want and one can be had (1: join
   it), else here and now (0): the same result either way, only slower. */
static int
beside(int want, pthread_t *th, void *(*fn)(void *), void *arg)
{
    if (want && pthread_create(th, NULL, fn, arg) == 0)
        return 1;
    fn(arg);
    return 0;
}

/* Swap shard s's maps for its spare (flush_mu held): their deltas, in *t,
   are the caller's to move into a's maps (take_nodes, take_edges). */
static void
shard_swap(graphagg *a, graphagg_shard *s, agg_maps *t)
{
    pthread_mutex_lock(&s->mu);
    *t = s->m;
    s->m = s->spare;
    uint64_t flows = s->flows, dropped = s->apps_dropped;
    s->flows = s->apps_dropped = 0;
    for (; s->xlat_n < s->apps.n; s->xlat_n++)
        s->xlat[s->xlat_n] = app_index(&a->apps, s->apps.name[s->xlat_n], &a->st.apps_dropped);
    s->taken++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);

    a->st.flows += flows;
    a->cap.flows += flows;
    a->st.apps_dropped += dropped;
}

/* Move the node deltas of t into a's maps (touching a's node map only). */
static void
take_nodes(graphagg *a, agg_maps *t)
{
    for (size_t i = 0; i < t->nb_n; i++) {
        for (agg_node *n = t->nb[i], *next; n; n = next) {
            next = n->next;
            merge_node(a, n);
        }
        t->nb[i] = NULL;
    }
}

/* Move the edge deltas of t, taken from shard s, into a's maps (touching
   a's edge map and spill list only). */
static void
take_edges(graphagg *a, const graphagg_shard *s, agg_maps *t)
{
    for (size_t i = 0; i < t->eb_n; i++) {
        for (agg_edge *e = t->eb[i], *next; e; e = next) {
            next = e->next;
            e->k.app = s->xlat[e->k.app];
            e->hash = hash_bytes(&e->k, sizeof(e->k));
            merge_edge(a, e);
        }
        t->eb[i] = NULL;
    }
}

/* The node deltas of n taken maps, for a thread of their own. */
typedef struct take_job {
    graphagg *a;
    agg_maps *t;
    int n;
} take_job;

static void *
take_nodes_main(void *arg)
{
    take_job *j = arg;
    for (int i = 0; i < j->n; i++)
        take_nodes(j->a, &j->t[i]);
    return NULL;
}

/*
 * Take every shard's maps and move their deltas into a's (flush_mu held).
 * Node and edge deltas go to disjoint maps (an edge's node pointers are
 * reset, never followed, by merge_edge): with several shards, the nodes
 * move on a thread of their own while this one moves the edges, since the
 * final flush of a threaded capture runs while the workers' cores idle.
 */
static void
shards_take(graphagg *a)
{
    agg_maps t[AGG_MAX_SHARDS];
    int n = a->n_shards;
    for (int i = 0; i < n; i++)
        shard_swap(a, a->shard[i], &t[i]);
    take_job j = { a, t, n };
    pthread_t th;
    int started = beside(n > 1, &th, take_nodes_main, &j);
    for (int i = 0; i < n; i++)
        take_edges(a, a->shard[i], &t[i]);
    if (started)
        pthread_join(th, NULL);
    for (int i = 0; i < n; i++) {
        t[i].n_nodes = t[i].n_edges = t[i].n_names = t[i].n_idents = 0;
        a->shard[i]->spare = t[i];  /* empty again: the next take swaps it in */
    }
}

/* ---- flushing ------------------------------------------------------------------ */

/*
 * graph_node_init and graph_edge_init for a record about to be filled and
 * encoded: zero all but the entry arrays, which the record functions and
 * the encoder use only up to their counts (n_mac, n_ident, n_label,
 * n_name, days.n).  A node's arrays are some 8 KB, written per new node.
 */
static void
node_init_light(graph_node *n, const graph_addr *a)
{
    memset(n, 0, offsetof(graph_node, mac));
    memset(&n->geo, 0, sizeof(n->geo));
    n->addr = *a;
}

static void
edge_init_light(graph_edge *e, const graph_edge_key *k)
{
    memset(e, 0, offsetof(graph_edge, name));
    e->k = *k;
}

/* Node delta n merged into what the database holds, into p's batch; 0 put, 1 skipped, -1 error. */
static int
flush_node(agg_part *p, const agg_node *n)
{
    const graphagg *a = p->a;
    graph_node *rec = p->rec_node;
    uint64_t kh = 0;
    int r;
    if (a->seen.on && !seen_has(&a->seen, (kh = seen_hash_node(&n->addr)))) {
        r = 0;                      /* never written, so not stored */
        p->st.reads_skipped++;
    } else {
        r = graph_get_node(a->g, &n->addr, rec);
    }
    if (r == 0 && !n->create) {
        for (agg_ident *x = n->idents; x; x = x->next)
            p->st.idents_dropped++;
        return 1;
    }
    if (r < 0)
        p->st.corrupt_replaced++;
    if (r <= 0) {
        node_init_light(rec, &n->addr);
        p->st.nodes_new++;
    }
    /* Only identities for a stored node: skip the write if nothing changes. */
    size_t before = 0;
    if (r == 1 && !n->create)
        before = graphrec_node_encode(rec, p->enc, sizeof(p->enc));
    /* The delta, merged as graph_node_merge() merges a record (without
       building one: a graph_node is kilobytes, mostly identity slots). */
    graph_widen(&rec->first_ns, &rec->last_ns, n->first_ns, n->last_ns);
    graph_counts_add(&rec->as_client, &n->as_client);
    graph_counts_add(&rec->as_server, &n->as_server);
    for (unsigned i = 0; i < n->n_mac; i++)
        graph_node_add_mac(rec, n->mac[i].mac, n->mac[i].first_ns, n->mac[i].last_ns);
    rec->internal = (uint8_t)netclass_is_internal(a->cfg.nc, n->addr.a, n->addr.family);
    for (agg_ident *x = n->idents; x; x = x->next)
        graph_node_add_ident(rec, x->id.kind, x->id.value, x->id.source,
                             x->id.first_ns, x->id.last_ns);
    if (a->cfg.annotate)
        a->cfg.annotate(a->cfg.ctx, rec);
    if (before) {
        size_t after = graphrec_node_encode(rec, p->enc2, sizeof(p->enc2));
        if (after == before && memcmp(p->enc, p->enc2, after) == 0) {
            p->st.nodes_unchanged++;
            return 1;
        }
    }
    if (graph_batch_put_node(p->batch, rec) < 0)
        return -1;
    p->st.nodes_written++;
    if (r != 1 && a->seen.on)
        p->added[p->n_added++] = kh;    /* seen_add after the join: the set is read meanwhile */
    return 0;
}

static int
flush_edge(agg_part *p, const agg_edge *e)
{
    const graphagg *a = p->a;
    graph_edge *rec = p->rec_edge;
    graph_edge_key k;
    memset(&k, 0, sizeof(k));
    k.client = e->k.c;
    k.server = e->k.s;
    k.proto = e->k.proto;
    k.port = e->k.port;
    memcpy(k.app, a->apps.name[e->k.app], GRAPH_APP_LEN);
    uint64_t kh = 0;
    int r;
    if (a->seen.on && !seen_has(&a->seen, (kh = seen_hash_edge(&e->k)))) {
        r = 0;                      /* never written, so not stored */
        p->st.reads_skipped++;
    } else {
        r = graph_get_edge(a->g, &k, rec);
    }
    if (r < 0)
        p->st.corrupt_replaced++;
    if (r <= 0) {
        edge_init_light(rec, &k);
        p->st.edges_new++;
    }
    /* The delta, merged as graph_edge_merge() merges a record. */
    rec->flows += e->flows;
    for (int i = 0; i < 2; i++) {
        rec->pkts[i] += e->pkts[i];
        rec->bytes[i] += e->bytes[i];
    }
    graph_widen(&rec->first_ns, &rec->last_ns, e->first_ns, e->last_ns);
    rec->flows_handshake += e->hs;
    rec->flows_heuristic += e->heur;
    rec->risk |= e->risk;
    for (uint64_t bits = e->day_bits; bits; bits &= bits - 1)
        graph_days_add(&rec->days, e->day_base + (uint32_t)__builtin_ctzll(bits));
    for (unsigned i = 0; i < e->n_name; i++)
        graph_edge_add_name(rec, e->names[i]);
    if (graph_batch_put_edge(p->batch, rec) < 0)
        return -1;
    p->st.edges_written++;
    if (r != 1 && a->seen.on)
        p->added[p->n_added++] = kh;    /* seen_add after the join: the set is read meanwhile */
    return 0;
}

/*
 * A delta to write, with the first 16 bytes of its key for key_sort: the
 * key's bytes less the zeros that pad an IPv4 address to 16, which every
 * key with the same bytes before them has, so that the order stands
 * (IPv4 edges: client, server, proto, port and app rank, all of it).
 */
typedef struct key_ref {
    uint64_t hi, lo;            /* those bytes, big-endian; zeros past the key's end */
    const void *d;              /* the agg_node or agg_edge */
    uint32_t app_rank;          /* an edge: position of its app name in byte order */
} key_ref;

/* Key bytes of a at b (the family, then 4 or 16 address bytes); their count. */
static size_t
key_addr(uint8_t *b, const graph_addr *a)
{
    b[0] = a->family;
    if (a->family == 6) {
        memcpy(b + 1, a->a, 16);
        return 17;
    }
    memcpy(b + 1, a->a, 4);
    return 5;
}

static uint64_t
be64(const uint8_t *b)
{
    uint64_t v;
    memcpy(&v, b, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static void
node_ref(key_ref *r, const agg_node *n)
{
    uint8_t b[24] = { 0 };
    key_addr(b, &n->addr);
    *r = (key_ref){ be64(b), be64(b + 8), n, 0 };
}

static void
edge_ref(key_ref *r, const agg_edge *e, uint32_t app_rank)
{
    uint8_t b[48] = { 0 };
    size_t o = key_addr(b, &e->k.c);
    o += key_addr(b + o, &e->k.s);
    b[o] = e->k.proto;
    b[o + 1] = (uint8_t)(e->k.port >> 8);
    b[o + 2] = (uint8_t)e->k.port;
    b[o + 3] = (uint8_t)(app_rank >> 8);
    b[o + 4] = (uint8_t)app_rank;
    *r = (key_ref){ be64(b), be64(b + 8), e, app_rank };
}

/* Order of node keys (graphrec_node_key: family, then the address bytes). */
static int
node_cmp(const void *x, const void *y)
{
    const agg_node *p = ((const key_ref *)x)->d, *q = ((const key_ref *)y)->d;
    return memcmp(&p->addr, &q->addr, sizeof(p->addr));
}

/* Order of edge keys (graphrec_edge_key: client, server, proto, port, app name). */
static int
edge_cmp(const void *x, const void *y)
{
    const key_ref *rp = x, *rq = y;
    const agg_edge *p = rp->d, *q = rq->d;
    int c = memcmp(&p->k.c, &q->k.c, sizeof(p->k.c));
    if (!c)
        c = memcmp(&p->k.s, &q->k.s, sizeof(p->k.s));
    if (!c)
        c = (int)p->k.proto - (int)q->k.proto;
    if (!c)
        c = (int)p->k.port - (int)q->k.port;
    if (!c)
        c = (rp->app_rank > rq->app_rank) - (rp->app_rank < rq->app_rank);
    return c;
}

/* Byte b of r's 16 key bytes, from the last (0) to the first (15). */
static unsigned
key_byte(const key_ref *r, int b)
{
    return (unsigned)(((b < 8 ? r->lo : r->hi) >> (8 * (b & 7))) & 255);
}

/*
 * Sort v[0..n) into key order (cmp: the full order): a stable LSD radix
 * sort on the bytes of hi and lo that are not the same in every entry,
 * then qsort over each run of equal hi and lo (IPv6 keys alike in their
 * first 16 bytes).  qsort alone made some 17 calls of cmp per entry.  tmp
 * has room for n entries.
 */
static void
key_sort(key_ref *v, key_ref *tmp, size_t n, int (*cmp)(const void *, const void *))
{
    uint64_t dh = 0, dl = 0;    /* bits that differ from v[0]'s somewhere */
    key_ref *src = v, *dst = tmp;
    for (size_t i = 1; i < n; i++) {
        dh |= v[i].hi ^ v[0].hi;
        dl |= v[i].lo ^ v[0].lo;
    }
    for (int b = 0; b < 16; b++) {
        if (!(((b < 8 ? dl : dh) >> (8 * (b & 7))) & 255))
            continue;               /* one value in this byte: the order stands */
        size_t c[256] = { 0 }, sum = 0;
        for (size_t i = 0; i < n; i++)
            c[key_byte(&src[i], b)]++;
        for (int d = 0; d < 256; d++) {
            size_t k = c[d];
            c[d] = sum;
            sum += k;
        }
        for (size_t i = 0; i < n; i++)
            dst[c[key_byte(&src[i], b)]++] = src[i];
        key_ref *t = src;
        src = dst;
        dst = t;
    }
    if (src != v)
        memcpy(v, src, n * sizeof(*v));
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && v[j].hi == v[i].hi && v[j].lo == v[i].lo; j++)
            ;
        if (j - i > 1)
            qsort(v + i, j - i, sizeof(*v), cmp);
    }
}

/* An application name and its index, to rank the names. */
typedef struct app_ref {
    const char *name;           /* the name */
    uint16_t idx;               /* its index in the run's table */
} app_ref;

static int
app_cmp(const void *x, const void *y)
{
    return strcmp(((const app_ref *)x)->name, ((const app_ref *)y)->name);
}

/*
 * Part p's edges, then its nodes (key order: capture < edge < node keys),
 * into its batch; then free them, here rather than after the commit, so
 * that the parts share that work too (the caller forgets the maps; a
 * flush that fails is not retried, so nothing needs them then either).
 */
static void
part_run(agg_part *p)
{
    for (size_t k = 0; k < p->n_ev && !p->why; k++)
        if (flush_edge(p, p->ev[k].d) < 0)
            p->why = "cannot encode an edge record";
    for (size_t k = 0; k < p->n_nv && !p->why; k++)
        if (flush_node(p, p->nv[k].d) < 0)
            p->why = "cannot encode a node record";
    for (size_t k = 0; k < p->n_ev; k++)
        edge_free((agg_edge *)p->ev[k].d);
    for (size_t k = 0; k < p->n_nv; k++)
        node_free((agg_node *)p->nv[k].d);
}

static void *
part_main(void *arg)
{
    graph_thread_setup();
    part_run(arg);
    return NULL;
}

/* Parts for a flush of n records: one per worker thread (shard), but none
   of fewer than AGG_PART_MIN records (a thread costs more than it saves). */
static int
parts_for(const graphagg *a, size_t n)
{
    size_t k = a->n_shards > 1 ? (size_t)a->n_shards : 1;
    if (k > n / AGG_PART_MIN)
        k = n / AGG_PART_MIN;
    return k ? (int)k : 1;
}

/*
 * Write the sorted edges ev[0..ne) and nodes nv[0..nn) as k parts of
 * about equal counts of the whole sequence (edges first: their keys sort
 * below the nodes'), part 0 on this thread and each other on one of its
 * own; then add the parts' counters and written keys to a's.  0, or -1
 * with a failed.
 */
static int
write_parts(graphagg *a, int k, const key_ref *ev, size_t ne, const key_ref *nv, size_t nn)
{
    size_t t = ne + nn;
    uint64_t *added = NULL;
    if (a->seen.on && !(added = malloc((t ? t : 1) * sizeof(*added))))
        seen_off(&a->seen);         /* correctness never depends on it */
    for (int i = 0; i < k; i++) {
        agg_part *p = a->part[i];
        size_t lo = t * (size_t)i / (size_t)k, hi = t * (size_t)(i + 1) / (size_t)k;
        size_t elo = lo < ne ? lo : ne, ehi = hi < ne ? hi : ne;
        p->ev = ev + elo;
        p->n_ev = ehi - elo;
        p->nv = nv + (lo - elo);
        p->n_nv = (hi - ehi) - (lo - elo);
        p->added = added ? added + lo : NULL;
        p->n_added = 0;
        memset(&p->st, 0, sizeof(p->st));
        p->why = NULL;
    }
    for (int i = 1; i < k; i++)
        a->part[i]->started = beside(1, &a->part[i]->t, part_main, a->part[i]);
    part_run(a->part[0]);
    for (int i = 1; i < k; i++)
        if (a->part[i]->started)
            pthread_join(a->part[i]->t, NULL);
    /* Every part has ended: the set may change now. */
    const char *why = NULL;
    for (int i = 0; i < k; i++) {
        agg_part *p = a->part[i];
        if (!why)
            why = p->why;
        a->st.reads_skipped += p->st.reads_skipped;
        a->st.idents_dropped += p->st.idents_dropped;
        a->st.corrupt_replaced += p->st.corrupt_replaced;
        a->st.nodes_new += p->st.nodes_new;
        a->st.nodes_unchanged += p->st.nodes_unchanged;
        a->st.nodes_written += p->st.nodes_written;
        a->st.edges_new += p->st.edges_new;
        a->st.edges_written += p->st.edges_written;
        for (size_t x = 0; x < p->n_added; x++)
            seen_add(&a->seen, p->added[x]);
    }
    free(added);
    if (why) {
        fail(a, why);
        return -1;
    }
    return 0;
}

/* The node deltas of m listed (v) and sorted (tmp: as many scratch refs), maybe on a thread of their own. */
typedef struct sort_job {
    const agg_maps *m;
    key_ref *v, *tmp;
    size_t n;                   /* out: refs in v */
} sort_job;

static void *
sort_nodes_main(void *arg)
{
    sort_job *j = arg;
    size_t i = 0;
    for (size_t b = 0; b < j->m->nb_n; b++)
        for (const agg_node *n = j->m->nb[b]; n; n = n->next)
            node_ref(&j->v[i++], n);
    key_sort(j->v, j->tmp, i, node_cmp);
    j->n = i;
    return NULL;
}

/* Write a's maps (in key order) and the capture record in one batch (of parts), commit; the maps are then empty. */
static int
write_window(graphagg *a)
{
    char why[512];
    size_t nn = a->m.n_nodes, ne = a->m.n_edges, j = 0;
    key_ref *nv = malloc((nn ? nn : 1) * sizeof(*nv));
    key_ref *ev = malloc((ne ? ne : 1) * sizeof(*ev));
    key_ref *tmp = malloc((nn + ne ? nn + ne : 1) * sizeof(*tmp));
    int k = parts_for(a, nn + ne);
    for (int p = 0; p < k; p++)
        if (!a->part[p] && !(a->part[p] = part_new(a)))
            k = 0;
    if (!nv || !ev || !tmp || !k) {
        free(nv);
        free(ev);
        free(tmp);
        fail(a, "out of memory");
        return -1;
    }
    /* Nodes are listed and sorted on a thread of their own when the flush
       has parts to spare them (the edges meanwhile here). */
    sort_job sj = { &a->m, nv, tmp + ne, 0 };
    pthread_t th;
    int started = beside(k > 1, &th, sort_nodes_main, &sj);
    uint32_t rank[AGG_MAX_APPS];
    app_ref ar[AGG_MAX_APPS];
    for (unsigned x = 0; x < a->apps.n; x++) {
        ar[x].name = a->apps.name[x];
        ar[x].idx = (uint16_t)x;
    }
    qsort(ar, a->apps.n, sizeof(ar[0]), app_cmp);
    for (unsigned x = 0; x < a->apps.n; x++)
        rank[ar[x].idx] = x;
    for (size_t b = 0; b < a->m.eb_n; b++)
        for (agg_edge *e = a->m.eb[b]; e; e = e->next)
            edge_ref(&ev[j++], e, rank[e->k.app]);
    key_sort(ev, tmp, j, edge_cmp);
    if (started)
        pthread_join(th, NULL);
    size_t i = sj.n;
    free(tmp);
    /* The set stands for the database only if this run put every node and edge record so far. */
    if (a->seen.on && graph_record_puts(a->g) != a->st.nodes_written + a->st.edges_written)
        seen_off(&a->seen);
    seen_reserve(&a->seen, a->seen.n + i + j < AGG_SEEN_MAX ? a->seen.n + i + j : AGG_SEEN_MAX);
    int rc = write_parts(a, k, ev, j, nv, i);
    maps_forget(&a->m);             /* the parts freed every delta */
    free(nv);
    free(ev);
    if (rc < 0)
        return -1;
    a->cap.end_ns = wall_ns();
    a->cap.flushes++;
    /* Part 0 holds the lowest keys: the capture record's goes there. */
    if (graph_batch_put_capture(a->part[0]->batch, &a->cap) < 0) {
        fail(a, "cannot encode the capture record");
        return -1;
    }
    graph_batch *parts[AGG_MAX_SHARDS];
    size_t bytes = 0;
    for (int p = 0; p < k; p++) {
        parts[p] = a->part[p]->batch;
        bytes += graph_batch_bytes(parts[p]);
    }
    if (graph_batch_commit_parts(parts, (size_t)k, why, sizeof(why)) < 0) {
        a->cap.flushes--;
        fail(a, why);
        return -1;
    }
    if (bytes > a->st.batch_bytes_max)
        a->st.batch_bytes_max = bytes;
    return 0;
}

/* Wake every worker waiting for its shard to be taken (after a failure). */
static void
wake_shards(graphagg *a)
{
    for (int i = 0; i < a->n_shards; i++) {
        pthread_mutex_lock(&a->shard[i]->mu);
        pthread_cond_broadcast(&a->shard[i]->cv);
        pthread_mutex_unlock(&a->shard[i]->mu);
    }
}

int
graphagg_flush(graphagg *a)
{
    if (is_failed(a))
        return -1;
    pthread_mutex_lock(&a->flush_mu);
    uint64_t t0 = mono_ns();
    shards_take(a);
    if (a->m.n_nodes > a->st.peak_nodes)
        a->st.peak_nodes = a->m.n_nodes;
    if (a->m.n_edges > a->st.peak_edges)
        a->st.peak_edges = a->m.n_edges;
    a->in_flush = 1;
    if (a->cfg.preflush)
        a->cfg.preflush(a->cfg.ctx, a);
    a->in_flush = 0;
    int rc = is_failed(a) ? -1 : write_window(a);
    while (rc == 0 && a->spill) {
        /* Edges whose days did not fit: a second batch of this flush. */
        agg_edge *list = a->spill;
        a->spill = NULL;
        while (list) {
            agg_edge *e = list;
            list = e->next;
            merge_edge(a, e);
        }
        rc = write_window(a);
    }
    if (rc == 0) {
        a->st.flushes++;
        __atomic_store_n(&a->pub_flushes, a->st.flushes, __ATOMIC_RELAXED);
        __atomic_store_n(&a->pub_records, a->st.nodes_written + a->st.edges_written,
                         __ATOMIC_RELAXED);
        uint64_t t1 = mono_ns();
        double secs = (double)(t1 - t0) / 1e9;
        a->st.flush_secs += secs;
        if (secs > a->st.flush_secs_max)
            a->st.flush_secs_max = secs;
        __atomic_store_n(&a->next_flush_ns, t1 + (uint64_t)(a->cfg.flush_interval_s * 1e9),
                         __ATOMIC_RELAXED);
        if (a->cfg.postflush)
            a->cfg.postflush(a->cfg.ctx, a);
    }
    pthread_mutex_unlock(&a->flush_mu);
    if (rc < 0)
        wake_shards(a);
    return rc;
}

int
graphagg_tick(graphagg *a)
{
    if (is_failed(a))
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
    bg_stop(a);
    a->cap.state = (uint8_t)state;
    return graphagg_flush(a);
}

/* ---- the background flusher ------------------------------------------------------ */

static void
bg_request(graphagg *a)
{
    pthread_mutex_lock(&a->bg_mu);
    a->bg_req = 1;
    pthread_cond_signal(&a->bg_cv);
    pthread_mutex_unlock(&a->bg_mu);
}

static void *
bg_main(void *arg)
{
    graphagg *a = arg;
    pthread_setname_np(pthread_self(), "segscope-flush");   /* for top -H, perf */
    graph_thread_setup();
    pthread_mutex_lock(&a->bg_mu);
    while (!a->bg_stop) {
        int timed = a->cfg.flush_interval_s > 0;
        if (!a->bg_req) {
            if (timed) {
                /* next_flush_ns is written by graphagg_flush under flush_mu;
                   a stale read only moves this wake-up. */
                uint64_t due = __atomic_load_n(&a->next_flush_ns, __ATOMIC_RELAXED);
                struct timespec ts = { (time_t)(due / 1000000000ULL), (long)(due % 1000000000ULL) };
                pthread_cond_timedwait(&a->bg_cv, &a->bg_mu, &ts);
            } else {
                pthread_cond_wait(&a->bg_cv, &a->bg_mu);
            }
        }
        if (a->bg_stop)
            break;
        int forced = a->bg_req;
        if (!forced && (!timed || mono_ns() < __atomic_load_n(&a->next_flush_ns, __ATOMIC_RELAXED)))
            continue;
        a->bg_req = 0;
        pthread_mutex_unlock(&a->bg_mu);
        if (forced) {
            pthread_mutex_lock(&a->flush_mu);
            a->st.flushes_forced++;
            pthread_mutex_unlock(&a->flush_mu);
        }
        if (graphagg_flush(a) < 0) {
            pthread_mutex_lock(&a->bg_mu);
            break;                  /* failed: the workers see it and stop */
        }
        pthread_mutex_lock(&a->bg_mu);
    }
    pthread_mutex_unlock(&a->bg_mu);
    return NULL;
}

int
graphagg_start(graphagg *a, char *err, size_t errlen)
{
    pthread_mutex_lock(&a->bg_mu);
    int rc = 0;
    if (!a->bg_running) {
        if (pthread_create(&a->bg, NULL, bg_main, a) != 0) {
            snprintf(err, errlen, "cannot start the database flusher thread");
            rc = -1;
        } else {
            a->bg_running = 1;
        }
    }
    pthread_mutex_unlock(&a->bg_mu);
    return rc;
}
