/*
 * graphagg.h - folding a capture into the workload graph.
 *
 * During a capture, ended flows and first packets are folded into
 * in-memory deltas (a hash map of node deltas keyed by address and one of
 * edge deltas keyed like edges); nothing is read from the database then.
 * A flush turns the deltas into records: for each delta, read the stored
 * record (if any), merge the delta into it (graphrec.h), let the caller
 * annotate nodes (identities, labels, GeoIP), and put the result into one
 * write batch, committed atomically with the run's capture record.
 *
 * Flushes happen every flush_interval seconds of wall clock (checked by
 * graphagg_tick, which the capture calls per packet and per flow), when a
 * delta map reaches its cap, and at the end (graphagg_finish).  A process
 * killed between flushes loses only what it folded since the last one;
 * what was committed is whole (one batch per flush).
 *
 * Flows are folded when they end (so a flow still open at a flush is
 * accounted at a later one); its client and server are the flow table's.
 *
 * Threads.  The functions above are for one thread.  A multi-threaded
 * capture gives each worker a shard (graphagg_shard_create): the worker
 * folds into its shard's own delta maps, taking the shard's mutex once
 * per ended flow, never per packet.  A background flusher (graphagg_start) flushes every
 * flush_interval seconds: it takes each shard's maps in turn (swapping in
 * empty ones under that shard's mutex, a pointer swap), merges them into
 * its own and writes them as above, while the workers go on.  A shard at
 * its cap asks for a flush and waits until its maps were taken.  A flush
 * writes its records in as many threads as there are shards (the
 * workers' cores, otherwise idle at the final flush).  With
 * shards, call graphagg_packet/graphagg_flow/graphagg_tick not at all, and
 * graphagg_ident only from the preflush callback.
 */
#ifndef SEGSCOPE_GRAPHAGG_H
#define SEGSCOPE_GRAPHAGG_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/graph.h"
#include "analyzer/netclass.h"
#include "capture/flowtab.h"

typedef struct graphagg graphagg;

/* Called at the start of each flush, before the deltas are written: hand
   identities over with graphagg_ident() and update graphagg_capture(). */
typedef void (*graphagg_preflush_fn)(void *ctx, graphagg *a);
/* Called for each node about to be written (stored record + delta merged):
   set labels, GeoIP data...  With shards, a flush calls it from several
   threads at once (one per shard, see graphagg.c "Parallel flush"), each
   with its own node: it may change n, but must only read state shared
   with the other calls (or guard it); the preflush callback, which runs
   before, on one thread, may change such state. */
typedef void (*graphagg_annotate_fn)(void *ctx, graph_node *n);

typedef struct graphagg_cfg {
    double flush_interval_s;    /* seconds of wall clock between flushes (0 = only at the end) */
    size_t max_nodes;           /* node deltas held before a flush is forced (default 262144) */
    size_t max_edges;           /* edge deltas held before a flush is forced (default 524288) */
    const netclass *nc;         /* internal address space (required) */
    graphagg_preflush_fn preflush; /* or NULL */
    graphagg_annotate_fn annotate; /* or NULL */
    graphagg_preflush_fn postflush; /* after each committed flush, or NULL */
    void *ctx;                  /* for the callbacks */
} graphagg_cfg;

void graphagg_cfg_default(graphagg_cfg *cfg);

typedef struct graphagg_stats {
    uint64_t flows;             /* flows folded */
    uint64_t flushes;           /* batches committed */
    uint64_t flushes_forced;    /* of which forced by a full delta map or a wide day span */
    uint64_t nodes_written;     /* node records put, summed over flushes */
    uint64_t edges_written;     /* edge records put, summed over flushes */
    uint64_t nodes_new;         /* nodes the database did not have */
    uint64_t edges_new;         /* edges the database did not have */
    uint64_t corrupt_replaced;  /* stored records that did not decode, replaced by the delta */
    uint64_t reads_skipped;     /* point reads skipped: keys this run never wrote, into a
                                   database that had no node or edge record at its open */
    uint64_t idents;            /* identities handed over */
    uint64_t idents_dropped;    /* identities for addresses with no node (not created) */
    uint64_t nodes_unchanged;   /* nodes touched only by known identities: not rewritten */
    uint64_t apps_dropped;      /* flows whose application name could not be interned */
    uint64_t peak_nodes;        /* most node deltas held at once */
    uint64_t peak_edges;        /* most edge deltas held at once */
    uint64_t batch_bytes_max;   /* largest batch committed */
    double flush_secs;          /* wall time spent flushing */
    double flush_secs_max;      /* longest flush */
} graphagg_stats;

/*
 * An aggregator writing into g (opened GRAPH_WRITE) for the capture run
 * described by *cap (copied; its id must be set, state running).  The
 * capture record is written at once.  NULL on failure (message in err).
 */
graphagg *graphagg_create(graph *g, const graphagg_cfg *cfg, const graph_capture *cap,
                          char *err, size_t errlen);
/* Frees without flushing (see graphagg_finish). NULL is fine. */
void graphagg_free(graphagg *a);

/* The run's capture record, to update before a flush (inputs, frames...). */
graph_capture *graphagg_capture(graphagg *a);

/*
 * One accounted packet (engine packet hook): records the source MAC of the
 * first packet of each flow direction at once.  Optional: graphagg_flow
 * records the same MACs from the flow record (flow_dir.mac); this only
 * makes a node exist before its first flow ends.
 */
void graphagg_packet(graphagg *a, const flow *f, int from_client, const pkt_meta *m, uint64_t ts_ns);

/*
 * Fold an ended flow: its edge, its two nodes with the source MAC of each
 * direction's first packet.  app: application protocol name ("TLS"; NULL or ""
 * = "Unknown"); icmp_type: for ICMP flows, the type to use as port (-1 =
 * unknown: echo flows use echo request); server_name: a name the client
 * used for the server (SNI, HTTP Host...), kept for external servers, or
 * NULL; risk: the flow's nDPI risk bitmap (dpi_info.risk), OR-ed into
 * the edge's.  May flush first (forced).
 */
void graphagg_flow(graphagg *a, const flow *f, const char *app, int icmp_type,
                   const char *server_name, uint64_t risk);

/*
 * An identity of an address (from the preflush callback, or at any time):
 * merged into its node at the next flush.  create: make the node if the
 * database has none (else the identity is dropped and counted).
 */
void graphagg_ident(graphagg *a, const graph_addr *addr, const char *kind, const char *value,
                    const char *source, uint64_t first_ns, uint64_t last_ns, int create);

/* 1 if traffic of addr was folded since the last flush (its node will be written). */
int graphagg_has_node(const graphagg *a, const graph_addr *addr);

/* Flush if the interval has passed.  1 flushed, 0 not due, -1 failed. */
int graphagg_tick(graphagg *a);
/* Flush now. 0, or -1 (see graphagg_error). */
int graphagg_flush(graphagg *a);
/* Final flush with the capture record in state `state` (enum graph_capture_state). 0 or -1. */
int graphagg_finish(graphagg *a, int state);
/* Non-zero once a flush failed; the message then. */
int graphagg_failed(const graphagg *a);
const char *graphagg_error(const graphagg *a);

/* The statistics; with a background flusher, read them after graphagg_finish(). */
const graphagg_stats *graphagg_get_stats(const graphagg *a);
/* Flushes committed and records written so far: safe from any thread. */
void graphagg_progress(const graphagg *a, uint64_t *flushes, uint64_t *records);
/* Bytes held by the deltas now (for --stats and benchmarks). */
size_t graphagg_mem(const graphagg *a);

/* ---- threads (see the top of this file) ---- */

typedef struct graphagg_shard graphagg_shard;

/*
 * A shard of a's deltas for one worker thread, owned by a (freed with
 * it).  Create every shard before graphagg_start().  Its caps are a's
 * divided by nshards (at least 16 each).  NULL on allocation failure.
 */
graphagg_shard *graphagg_shard_create(graphagg *a, int nshards);
/* graphagg_flow for a shard; only its worker calls it. */
void graphagg_shard_flow(graphagg_shard *s, const flow *f, const char *app, int icmp_type,
                         const char *server_name, uint64_t risk);
/*
 * Start the background flusher: a thread that flushes every
 * flush_interval_s seconds (never, if 0) and whenever a shard is full.
 * The preflush/postflush callbacks then run on that thread, annotate on
 * it and on the flush's other parts' threads.
 * graphagg_finish() stops it before the last flush.  0, or -1 (err).
 */
int graphagg_start(graphagg *a, char *err, size_t errlen);

#endif
