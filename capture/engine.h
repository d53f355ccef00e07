/*
 * engine.h - the capture pipeline: sources -> filter -> decoder -> flow table.
 *
 * An engine reads capture files in the order given (one timeline) or live
 * interfaces, applies the BPF filter, decodes each frame and accounts it
 * in the flow table.  Consumers hook in twice: once per accounted packet
 * (to look inside it, e.g. DPI) and once per flow record that ends.
 * Every frame is counted exactly once: decoded into a flow, filtered out,
 * or skipped under a named reason (engine_stats).
 *
 * Threads: with cfg.threads = N > 1 the calling thread reads and decodes
 * frames and hands them, in batches, to N workers chosen by a symmetric
 * hash of (addresses, protocol) -- not ports, so that later IP fragments,
 * which have none, reach the worker holding their flow.  Each worker has
 * its own flow table and its own hook context (hooks.worker_ctx), so the
 * per-packet path takes no lock; consumers merge their per-worker results
 * after eng_run().  Without hooks.worker_ctx the engine runs one worker.
 */
#ifndef SEGSCOPE_ENGINE_H
#define SEGSCOPE_ENGINE_H

#include <signal.h>
#include <stdio.h>
#include <stdint.h>

#include "capture/decode.h"
#include "capture/flowtab.h"
#include "capture/live.h"

#define ENG_MAX_INPUTS 64

#define ENG_MAX_THREADS 64

typedef struct eng_cfg {
    const char *files[ENG_MAX_INPUTS];  /* capture files, "-" = stdin */
    int nfiles;
    const char *ifaces[ENG_MAX_INPUTS]; /* live interfaces */
    int nifaces;
    const char *filter;                 /* BPF expression or NULL */
    live_cfg live;
    double duration_s;                  /* live: stop after this long (0 = no limit) */
    uint64_t max_packets;               /* stop after this many packets (0 = no limit) */
    flowtab_cfg ft;
    int threads;                        /* workers (default 1) */
    int progress;                       /* status line on stderr every second */
    const char *drop_user;              /* live, as root: user to become when eng_run
                                           starts (NULL: "nobody"; "" = stay root) */
    const char *own_dir;                /* directory handed to drop_user first (the DB) */
} eng_cfg;

void eng_cfg_default(eng_cfg *cfg);

typedef struct eng_hooks {
    /* A packet accounted in flow f (from_client: its direction). ctx is the
       worker's context (see worker_ctx). */
    void (*packet)(void *ctx, flow *f, int from_client, const pkt_meta *m,
                   uint64_t ts_ns, uint32_t wire_len);
    /* A flow record ended (see flowtab_export_fn). */
    void (*flow_end)(void *ctx, flow *f);
    void *ctx;
    /* Optional: the context of worker i (0 <= i < n), called once per worker
       before any packet.  Needed for threads > 1; the hooks of worker i then
       run on that worker's thread only. */
    void *(*worker_ctx)(void *ctx, int i, int n);
    /* Optional: extra text for the progress line (e.g. "db writes 12");
       called on the reading thread with hooks.ctx. */
    void (*status)(void *ctx, char *buf, size_t len);
    /* Optional: every decoded frame, on the reading thread, in input order,
       before it is accounted or handed to a worker (ctx is hooks.ctx).  For
       the few packets whose meaning depends on packets of other flows (a
       DHCP ACK on its REQUEST), which threads may see out of order; keep it
       cheap, it runs for every frame. */
    void (*frame)(void *ctx, const pkt_meta *m, uint64_t ts_ns);
} eng_hooks;

typedef struct eng_stats {
    uint64_t frames;                    /* frames read from all sources */
    uint64_t bytes;                     /* their wire length */
    uint64_t filtered;                  /* rejected by the BPF filter */
    uint64_t decoded;                   /* accounted in a flow */
    uint64_t skipped[DEC_STATUS_COUNT]; /* by decoder status (DEC_OK unused) */
    uint64_t frag_unmatched;            /* later fragments with no flow */
    uint64_t bad_caplen;                /* caplen > len (clamped and used) */
    uint64_t files_read;
    uint64_t kernel_recv, kernel_drop, if_drop; /* live: pcap_stats, summed */
    uint64_t first_ns, last_ns;         /* time window of the data */
} eng_stats;

/* Exit codes shared by all commands (documented in segscope.1). */
enum {
    EXIT_OK_ = 0,
    EXIT_RUNTIME = 1,       /* internal or resource error */
    EXIT_USAGE = 2,         /* bad command line */
    EXIT_INPUT = 3,         /* unreadable, malformed or unsupported input */
    EXIT_DENIED = 4,        /* segscope check: some flows would be denied */
    EXIT_PERM = 5,          /* live capture not permitted */
};

typedef struct eng eng;

/*
 * Open every source (so a missing or bad file is reported before any
 * work).  NULL on failure with a one-line message "NAME: reason" in err
 * and *code set to an exit code.
 */
eng *eng_create(const eng_cfg *cfg, const eng_hooks *hooks, int *code, char *err, size_t errlen);
/*
 * Run until every source ends, max_packets or duration is reached, or
 * *stop becomes non-zero.  All flows are then flushed through the hook.
 * Returns 0, or an exit code with "NAME: reason" in err when a source
 * failed midway (flows read before the failure are still flushed).
 */
int eng_run(eng *e, volatile sig_atomic_t *stop, char *err, size_t errlen);
const eng_stats *eng_get_stats(const eng *e);
/*
 * A copy of the counters for another thread (e.g. a database flusher)
 * while eng_run() goes on: as the reading thread last published them
 * (every 4096 frames, and each round of a live capture), exact once
 * eng_run() returned.
 */
void eng_stats_snapshot(eng *e, eng_stats *out);
/* Flow table counters, summed over the workers. */
const flowtab_stats *eng_flow_stats(const eng *e);
/* Workers actually used. */
int eng_threads(const eng *e);
/* Print every counter, one per line ("--stats"). */
void eng_print_stats(const eng *e, FILE *out);
/* Print the one-line summary. */
void eng_print_summary(const eng *e, FILE *out);
void eng_free(eng *e);

#endif
