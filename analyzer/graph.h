/*
 * graph.h - the persistent workload graph, stored in RocksDB.
 *
 * A graph database is a RocksDB directory holding the records of
 * graphrec.h (nodes, edges, captures) and a schema key.  graph.c is the
 * only file that includes RocksDB's headers.
 *
 * Opening:
 *   GRAPH_READ   opens read-only: it never writes a byte into the
 *                directory, and works while a capture holds the database
 *                (it sees what that capture had committed when opened).
 *   GRAPH_WRITE  takes RocksDB's lock (one writer at a time: a second one
 *                gets "DIR: database is in use by another process"),
 *                creates the database if the directory is missing or
 *                empty, and writes the schema key into a new database.
 * Both refuse, with exit code EXIT_INPUT and a one-line reason, a
 * directory that is not a RocksDB, a RocksDB without segscope's schema
 * key that holds other keys, and a database whose schema version is newer
 * than GRAPH_SCHEMA (a newer segscope wrote it) or older than
 * GRAPH_SCHEMA_MIN: such a database is checked read-only first and never
 * modified.  A schema from GRAPH_SCHEMA_MIN on is read as it is (its
 * records decode: graphrec.h reads older record versions); a writer
 * raises its schema key to GRAPH_SCHEMA (keeping its creation time),
 * since it then writes records an older segscope cannot read, and that
 * segscope refuses a newer schema instead of skipping them as corrupt.
 *
 * Writing is by batches (graph_batch): a batch is committed atomically
 * and durably (synced), so a process killed at any point leaves every
 * committed batch and nothing of the others.  A batch of at least
 * GRAPH_INGEST_MIN_BYTES is written, sorted by key, as one SST file that
 * RocksDB ingests (cheaper than a memtable insert per record); a smaller
 * one goes through the memtable and the write-ahead log.  A large batch
 * can be built as parts over disjoint key ranges, one per thread, and
 * committed as one (graph_batch_commit_parts): each part's file is then
 * written by a thread of its own and one ingestion takes them all.
 * Counters accumulate by read-modify-write: graph_get_* the current
 * record, merge (graphrec.h), put; this is safe because the writer is
 * alone.
 *
 * Threads: point reads (graph_get_*) and filling distinct batches of one
 * graph may run in several threads at once (after graph_thread_setup);
 * a commit, walks and the rest, one thread at a time.
 *
 * Reading: graph_foreach_* walk records in key order and hand each,
 * decoded, to a callback.  A record that does not decode is counted
 * (graph_corrupt()) and skipped, never fatal.
 */
#ifndef SEGSCOPE_GRAPH_H
#define SEGSCOPE_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/graphrec.h"

#define GRAPH_SCHEMA 2          /* database layout this segscope writes (2: edge records carry nDPI risks) */
#define GRAPH_SCHEMA_MIN 1      /* oldest layout it reads (and upgrades when it writes) */
#define GRAPH_INGEST_MIN_BYTES (256u << 10) /* batches of this many bytes or more are ingested as an SST file */

enum graph_mode {
    GRAPH_READ = 0,             /* read-only, shared */
    GRAPH_WRITE = 1,            /* one writer, creates if missing */
};

typedef struct graph graph;

/*
 * Open the database in dir.  NULL on failure with a one-line message
 * "DIR: reason" in err and *code set to an exit code (EXIT_INPUT for a
 * database that is missing, foreign, newer or in use; EXIT_RUNTIME for
 * other failures).
 */
graph *graph_open(const char *dir, int mode, int *code, char *err, size_t errlen);
/* Set up the calling thread for database work (graph_open does it for its
   caller; call it first in any other thread that reads or writes). */
void graph_thread_setup(void);
/* Close (a writer's memtable is flushed to disk first).  NULL is fine. */
void graph_close(graph *g);
/* The directory it was opened with. */
const char *graph_dir(const graph *g);
/* Records skipped because they did not decode, since the open. */
uint64_t graph_corrupt(const graph *g);
/*
 * 1 if g is a writer that found no node and no edge record when it
 * opened the database (a new one, or one with only schema and capture
 * records); 0 otherwise (readers too).  Found by a bounded seek on each
 * key prefix at the open.  Since the writer holds the lock, a node or
 * edge key is then stored iff it was put through a committed batch of g:
 * lets graphagg skip point reads of keys it never wrote.
 */
int graph_no_records_at_open(const graph *g);
/* Node and edge records put into batches of g since the open (committed or not). */
uint64_t graph_record_puts(const graph *g);

/* ---- reading --------------------------------------------------------------- */

/* Callbacks get each record decoded; return 0 to go on, non-zero to stop. */
typedef int (*graph_node_fn)(void *ctx, const graph_node *n);
typedef int (*graph_edge_fn)(void *ctx, const graph_edge *e);
typedef int (*graph_capture_fn)(void *ctx, const graph_capture *c);

/*
 * Walk every node (by address), edge (by client, server, proto, port,
 * app) or capture (oldest first).  Returns 0 when all were seen, the
 * callback's non-zero value if it stopped the walk, or -1 on a read error
 * (message in err).
 */
int graph_foreach_node(graph *g, graph_node_fn fn, void *ctx, char *err, size_t errlen);
int graph_foreach_edge(graph *g, graph_edge_fn fn, void *ctx, char *err, size_t errlen);
int graph_foreach_capture(graph *g, graph_capture_fn fn, void *ctx, char *err, size_t errlen);
/* Edges whose client is a (a prefix scan). */
int graph_foreach_edge_from(graph *g, const graph_addr *a, graph_edge_fn fn, void *ctx,
                            char *err, size_t errlen);

/* One record: 1 found (decoded into *out), 0 absent, -1 corrupt (counted) or read error. */
int graph_get_node(graph *g, const graph_addr *a, graph_node *out);
int graph_get_edge(graph *g, const graph_edge_key *k, graph_edge *out);

/* What a database holds (one pass over it). */
typedef struct graph_stats {
    uint32_t schema;            /* schema version */
    uint64_t created_ns;        /* when the database was created (wall clock) */
    uint64_t nodes;             /* node records */
    uint64_t nodes_internal;    /* of which internal */
    uint64_t nodes_external;    /* of which external */
    uint64_t edges;             /* edge records */
    uint64_t captures;          /* capture records */
    uint64_t flows;             /* summed over edges */
    uint64_t pkts;              /* summed over edges, both ways */
    uint64_t bytes;             /* summed over edges, both ways */
    uint64_t first_ns, last_ns; /* time window of the edges (0 if none) */
    uint64_t corrupt;           /* records that did not decode */
} graph_stats;

/* Fill *st. 0, or -1 on a read error (message in err). */
int graph_get_stats(graph *g, graph_stats *st, char *err, size_t errlen);

/* ---- writing (GRAPH_WRITE) ------------------------------------------------- */

typedef struct graph_batch graph_batch;

/* An empty batch for g; NULL on allocation failure. */
graph_batch *graph_batch_create(graph *g);
/* NULL is fine. */
void graph_batch_free(graph_batch *b);
/* Add a put of one record (replacing any record of its key when committed,
   the last put of a key in a batch winning); puts may come in any order.
   0 or -1 (encoding). */
int graph_batch_put_node(graph_batch *b, const graph_node *n);
int graph_batch_put_edge(graph_batch *b, const graph_edge *e);
int graph_batch_put_capture(graph_batch *b, const graph_capture *c);
/* Records in the batch. */
size_t graph_batch_count(const graph_batch *b);
/* Bytes of keys and values in the batch. */
size_t graph_batch_bytes(const graph_batch *b);
/*
 * Commit the batch atomically and durably and empty it (see the top).
 * 0, or -1 with a one-line reason in err (then nothing of it was
 * written).
 */
int graph_batch_commit(graph_batch *b, char *err, size_t errlen);
/*
 * Commit parts[0..n) (n >= 1, batches of one graph) as one batch,
 * atomically and durably, and empty them all: what graph_batch_commit
 * does for one.  Every key of a part must be below every key of the
 * next non-empty part (parts are key ranges, in order; empty parts are
 * fine), else the commit fails.  A large total is written as one SST
 * file per non-empty part, the files at once in threads of their own,
 * and ingested together.  0, or -1 with a reason in err (then nothing of
 * any part was written).
 */
int graph_batch_commit_parts(graph_batch *const *parts, size_t n, char *err, size_t errlen);

/* ---- for tests ------------------------------------------------------------- */

/*
 * Write one raw key/value into dir, bypassing every check (the schema
 * too): lets tests make a database of another schema version or with a
 * corrupt record.  0, or -1 with a reason in err.
 */
int graph_debug_put_raw(const char *dir, const void *key, size_t klen,
                        const void *val, size_t vlen, char *err, size_t errlen);
/* Set the batch size from which commits ingest an SST file (all of them
   from 0); returns the previous one.  Not thread-safe. */
size_t graph_debug_set_ingest_min(size_t bytes);
/* The temporary SST file a commit of b writes (lets a test make it fail). */
const char *graph_batch_file(const graph_batch *b);
/* The schema key and the encoding of a schema version (value buffer of 16 bytes). */
extern const char graph_schema_key[];
size_t graph_schema_encode(uint32_t version, uint64_t created_ns, uint8_t *buf);

#endif
