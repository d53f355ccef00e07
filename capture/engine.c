/*
 * engine.c - the capture pipeline (see engine.h).
 *
 * How it works: the calling thread reads frames from the sources in
 * order, applies the filter and decodes each frame.  Worker 0 is the
 * calling thread itself: frames whose flow hashes to it are accounted in
 * its flow table and the hooks called right away (with one worker, every
 * frame).  With N workers there are N threads in all, the reader and N-1
 * others, so N threads use N cores: the frames of workers 1..N-1 are
 * appended with their decoded view to the current batch of the worker
 * their flow hashes to (the view's pointers kept as offsets into the
 * frame, so the worker need not decode it again); full batches go to that
 * worker's queue (a mutex and condition variable per batch, not per
 * packet), and the worker accounts each frame in its own flow table and
 * calls the hooks with its own context.  The reader also reads and
 * decodes every frame, so its worker gets a smaller share of the flow-hash
 * space (READER_WEIGHT).  A fixed pool of batches gives back-pressure: a
 * reader that gets ahead of the workers waits for a batch to come back.
 */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture/engine.h"
#include "capture/pcapfile.h"

/* A batch's frames and records (~400 KB with mixed traffic) stay well
   inside a core's L2, and 64 batches a worker (64 Ki frames, some 40 ms of
   work) absorb the bursts of costly flows that stall one side: with 4
   batches of 4,096 frames the reader waited 0.3 s and the worker 0.45 s
   of a 2.6 s run over bench/span.sh's mixed capture; with 16 of 4,096 or
   64 of 1,024, 0.02-0.16 s each.  Only the batches in use are touched. */
#define BATCH_PKTS 1024
#define BATCH_BYTES (1u << 18)          /* >= PF_MAX_CAPLEN */
#define BATCHES_PER_WORKER 64
#define PREFETCH_AHEAD 4                /* frames */
/* Share of the flow-hash space of worker 0 (the reader), against 1 for each
   other worker: reading and decoding every frame costs the reader about a
   third of what accounting a share of flows costs (DPI included), measured
   with bench/span.sh on mixed traffic. */
#define READER_WEIGHT 0.75

/* One frame in a batch; its bytes are at data + off. */
typedef struct batch_pkt {
    uint64_t ts_ns;
    uint32_t len, off;
    pkt_meta m;                         /* decoded; l3, l4, payload as offsets from the frame + 1 (0 = NULL) */
} batch_pkt;

/* Frames on their way from the reader to one worker. */
typedef struct batch {
    struct batch *next;
    int n;                              /* frames in pk[] */
    int end;                            /* no more batches after this one */
    uint64_t end_ns;                    /* with end: the last timestamp of the input */
    size_t used;                        /* bytes of data[] used */
    batch_pkt pk[BATCH_PKTS];
    uint8_t data[BATCH_BYTES];
} batch;

/* One worker: a flow table and the consumer's context.  Its fields come
   in three groups, each on cache lines of its own (the engine is allocated
   64-byte aligned): what the worker thread writes per packet, the queue
   both threads take the mutex for, and what the reading thread writes per
   packet.  Sharing a line between the first and the last made the reader
   miss on every frame. */
typedef struct worker {
    struct eng *e;
    int id;
    flowtab *ft;
    void *ctx;                          /* hook context */
    pthread_t th;
    int started;
    uint64_t decoded, frag_unmatched;
    uint64_t active;                    /* flows in its table after its last batch (atomic) */
    _Alignas(64) pthread_mutex_t mu;
    pthread_cond_t cv;
    batch *qhead, *qtail;               /* queued batches */
    _Alignas(64) batch *fill;           /* batch the reader is filling */
    char pad[64 - sizeof(batch *)];     /* keep the next worker's fields off this line */
} worker;

struct eng {
    eng_cfg cfg;
    eng_hooks hooks;
    pf_file *files[ENG_MAX_INPUTS];
    live *ifaces[ENG_MAX_INPUTS];
    capfilter *bpf;
    int nw;                             /* workers (worker 0 is the reading thread) */
    uint32_t split0;                    /* flow hashes below this go to worker 0 */
    worker w[ENG_MAX_THREADS];
    pthread_mutex_t pool_mu;            /* free batches */
    pthread_cond_t pool_cv;
    batch *pool;
    eng_stats st;
    pthread_mutex_t pub_mu;             /* guards pub */
    eng_stats pub;                      /* st as the reading thread last published it */
    flowtab_stats ftsum;
    uint64_t bpf_unusable;
    uint64_t t_start, t_last_progress;  /* monotonic ns */
    uint64_t total_bytes;               /* of all files, 0 if unknown */
    int progress_shown;
};

void
eng_cfg_default(eng_cfg *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    live_cfg_default(&cfg->live);
    flowtab_cfg_default(&cfg->ft);
    cfg->threads = 1;
}

static uint64_t
mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void
on_flow_end(void *ctx, flow *f)
{
    worker *w = ctx;
    if (w->e->hooks.flow_end)
        w->e->hooks.flow_end(w->ctx, f);
}

eng *
eng_create(const eng_cfg *cfg, const eng_hooks *hooks, int *code, char *err, size_t errlen)
{
    char why[512];
    eng *e = aligned_alloc(64, (sizeof(*e) + 63) / 64 * 64);     /* see struct worker */
    *code = EXIT_RUNTIME;
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    memset(e, 0, sizeof(*e));
    e->cfg = *cfg;
    if (hooks)
        e->hooks = *hooks;
    e->nw = cfg->threads < 1 ? 1 : cfg->threads > ENG_MAX_THREADS ? ENG_MAX_THREADS : cfg->threads;
    if (!e->hooks.worker_ctx)
        e->nw = 1;
    e->split0 = e->nw == 1 ? UINT32_MAX
              : (uint32_t)(4294967296.0 * READER_WEIGHT / (READER_WEIGHT + e->nw - 1));
    pthread_mutex_init(&e->pool_mu, NULL);
    pthread_cond_init(&e->pool_cv, NULL);
    pthread_mutex_init(&e->pub_mu, NULL);
    if (cfg->filter && cfg->filter[0]) {
        e->bpf = capfilter_create(cfg->filter);
        if (!e->bpf) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    for (int i = 0; i < cfg->nfiles; i++) {
        const char *name = strcmp(cfg->files[i], "-") == 0 ? "<stdin>" : cfg->files[i];
        e->files[i] = pf_open(cfg->files[i], why, sizeof(why));
        if (!e->files[i]) {
            snprintf(err, errlen, "%s: %s", name, why);
            *code = EXIT_INPUT;
            goto fail;
        }
        int64_t sz = pf_size(e->files[i]);
        if (sz > 0 && (i == 0 || e->total_bytes))
            e->total_bytes += (uint64_t)sz;
        else
            e->total_bytes = 0;
        int lt = pf_linktype(e->files[i]);
        if (lt >= 0 && !dec_link_supported(lt)) {
            snprintf(err, errlen, "%s: unsupported link type %d (%s)", name, lt, dec_link_name(lt));
            *code = EXIT_INPUT;
            goto fail;
        }
        if (e->bpf && lt >= 0 && capfilter_check(e->bpf, lt, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "%s", why);
            *code = EXIT_USAGE;
            goto fail;
        }
    }
    live_cfg lc = cfg->live;
    /* Non-blocking reads and our own poll(): a blocking read on an idle
       interface (TPACKET_V3) may not return for a signal or --duration. */
    lc.nonblock = 1;
    for (int i = 0; i < cfg->nifaces; i++) {
        int perm;
        e->ifaces[i] = live_open(cfg->ifaces[i], &lc, &perm, why, sizeof(why));
        if (!e->ifaces[i]) {
            snprintf(err, errlen, "%s: %s", cfg->ifaces[i], why);
            *code = perm ? EXIT_PERM : EXIT_INPUT;
            goto fail;
        }
    }
    for (int i = 0; i < e->nw; i++) {
        worker *w = &e->w[i];
        w->e = e;
        w->id = i;
        w->ctx = e->hooks.worker_ctx ? e->hooks.worker_ctx(e->hooks.ctx, i, e->nw) : e->hooks.ctx;
        pthread_mutex_init(&w->mu, NULL);
        pthread_cond_init(&w->cv, NULL);
        flowtab_cfg fc = cfg->ft;       /* the flow budget is shared by the workers */
        fc.max_flows = cfg->ft.max_flows / (uint64_t)e->nw ? cfg->ft.max_flows / (uint64_t)e->nw : 1;
        w->ft = flowtab_create(&fc, on_flow_end, w);
        if (!w->ft) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    if (e->nw > 1) {
        for (int i = 0; i < (e->nw - 1) * BATCHES_PER_WORKER; i++) {
            batch *b = malloc(sizeof(*b));
            if (!b) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            b->next = e->pool;
            e->pool = b;
        }
    }
    return e;
fail:
    eng_free(e);
    return NULL;
}

void
eng_free(eng *e)
{
    if (!e)
        return;
    for (int i = 0; i < ENG_MAX_INPUTS; i++) {
        pf_close(e->files[i]);
        live_close(e->ifaces[i]);
    }
    capfilter_free(e->bpf);
    for (int i = 0; i < e->nw; i++) {
        worker *w = &e->w[i];
        flowtab_free(w->ft);
        free(w->fill);
        while (w->qhead) {
            batch *b = w->qhead;
            w->qhead = b->next;
            free(b);
        }
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
    }
    while (e->pool) {
        batch *b = e->pool;
        e->pool = b->next;
        free(b);
    }
    pthread_mutex_destroy(&e->pool_mu);
    pthread_cond_destroy(&e->pool_cv);
    pthread_mutex_destroy(&e->pub_mu);
    free(e);
}

/* Account one decoded frame in worker w. */
static void
worker_account(worker *w, const pkt_meta *m, uint64_t ts_ns, uint32_t len)
{
    int from_client;
    flow *f = flowtab_packet(w->ft, m, ts_ns, len, &from_client);
    if (!f) {
        w->frag_unmatched++;
        return;
    }
    w->decoded++;
    if (w->e->hooks.packet)
        w->e->hooks.packet(w->ctx, f, from_client, m, ts_ns, len);
}

/* Symmetric hash of (addresses, protocol): both directions and every
   fragment of a flow go to the same worker. */
static unsigned
worker_of(const eng *e, const pkt_meta *m)
{
    uint64_t x = 0, y = 0, a, b;
    for (int i = 0; i < 16; i += 8) {
        memcpy(&a, m->src + i, 8);
        memcpy(&b, m->dst + i, 8);
        x ^= a + b;
        y ^= a ^ b;
    }
    uint64_t h = (x * 0x9E3779B97F4A7C15ULL) ^ (y * 0xC2B2AE3D27D4EB4FULL) ^ m->proto;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 32;
    uint32_t u = (uint32_t)h;
    if (u < e->split0)
        return 0;
    return 1 + (unsigned)((uint64_t)(u - e->split0) * (uint64_t)(e->nw - 1) /
                          ((uint64_t)UINT32_MAX + 1 - e->split0));
}

static batch *
batch_get(eng *e)
{
    pthread_mutex_lock(&e->pool_mu);
    while (!e->pool)
        pthread_cond_wait(&e->pool_cv, &e->pool_mu);
    batch *b = e->pool;
    e->pool = b->next;
    pthread_mutex_unlock(&e->pool_mu);
    b->next = NULL;
    b->n = 0;
    b->end = 0;
    b->used = 0;
    return b;
}

static void
batch_put(eng *e, batch *b)
{
    pthread_mutex_lock(&e->pool_mu);
    b->next = e->pool;
    e->pool = b;
    pthread_cond_signal(&e->pool_cv);
    pthread_mutex_unlock(&e->pool_mu);
}

static void
worker_push(worker *w, batch *b)
{
    pthread_mutex_lock(&w->mu);
    if (w->qtail)
        w->qtail->next = b;
    else
        w->qhead = b;
    w->qtail = b;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Hand every worker the frames already batched for it. */
static void
push_partial(eng *e)
{
    for (int i = 1; i < e->nw; i++) {
        worker *w = &e->w[i];
        if (w->fill && w->fill->n) {
            worker_push(w, w->fill);
            w->fill = NULL;
        }
    }
}

/* A pointer into frame as it travels in a batch: offset + 1, or 0 for NULL. */
static const uint8_t *
meta_off(const uint8_t *frame, const uint8_t *ptr)
{
    return ptr ? (const uint8_t *)(uintptr_t)(ptr - frame + 1) : NULL;
}

/* Back from meta_off, against the frame's copy in the batch. */
static const uint8_t *
meta_ptr(const uint8_t *frame, const uint8_t *off)
{
    return off ? frame + ((uintptr_t)off - 1) : NULL;
}

static void *
worker_main(void *arg)
{
    worker *w = arg;
    eng *e = w->e;
    char name[16];
    snprintf(name, sizeof(name), "segscope-w%d", w->id);
    pthread_setname_np(pthread_self(), name);     /* for top -H, perf */
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (!w->qhead) {
            struct timespec dl;
            clock_gettime(CLOCK_REALTIME, &dl);
            dl.tv_sec += 1;
            if (pthread_cond_timedwait(&w->cv, &w->mu, &dl) == ETIMEDOUT && e->cfg.nifaces) {
                /* Idle live capture: expire flows by wall-clock time. */
                pthread_mutex_unlock(&w->mu);
                flowtab_expire(w->ft, (uint64_t)dl.tv_sec * 1000000000ULL);
                pthread_mutex_lock(&w->mu);
            }
        }
        batch *b = w->qhead;
        w->qhead = b->next;
        if (!w->qhead)
            w->qtail = NULL;
        pthread_mutex_unlock(&w->mu);

        for (int i = 0; i < b->n; i++) {
            batch_pkt *p = &b->pk[i];
            const uint8_t *frame = b->data + p->off;
            if (i + PREFETCH_AHEAD < b->n) {
                /* The reader's core wrote the batch: start fetching the
                   record and the first lines of a frame a few ahead. */
                const batch_pkt *q = &b->pk[i + PREFETCH_AHEAD];
                __builtin_prefetch(q + 1);
                for (size_t o = q->off; o < b->used && o < q->off + 256u; o += 64)
                    __builtin_prefetch(b->data + o);
            }
            p->m.l3 = meta_ptr(frame, p->m.l3);
            p->m.l4 = meta_ptr(frame, p->m.l4);
            p->m.payload = meta_ptr(frame, p->m.payload);
            worker_account(w, &p->m, p->ts_ns, p->len);
        }
        int end = b->end;
        uint64_t end_ns = b->end_ns;
        __atomic_store_n(&w->active, flowtab_get_stats(w->ft)->active, __ATOMIC_RELAXED);
        batch_put(e, b);
        if (end) {
            /* Flows idle at the end of the input end as idle, as they
               would with one worker, whose clock saw every packet. */
            flowtab_expire(w->ft, end_ns);
            break;
        }
    }
    flowtab_flush(w->ft);
    return NULL;
}

/* Account a decoded frame here (worker 0) or queue it for its worker. */
static void
eng_dispatch(eng *e, const pf_packet *p, uint32_t caplen, const pkt_meta *m)
{
    unsigned wi = worker_of(e, m);
    if (wi == 0) {
        worker_account(&e->w[0], m, p->ts_ns, p->len);
        return;
    }
    worker *w = &e->w[wi];
    batch *b = w->fill;
    if (b && (b->n == BATCH_PKTS || BATCH_BYTES - b->used < caplen)) {
        worker_push(w, b);
        b = w->fill = NULL;
    }
    if (!b)
        b = w->fill = batch_get(e);
    batch_pkt *bp = &b->pk[b->n++];
    /* The batch was last written by the worker's core: ask for the lines of
       a later record and of the data ahead, for writing, before they are due. */
    if (b->n + PREFETCH_AHEAD < BATCH_PKTS) {
        const char *r = (const char *)(bp + PREFETCH_AHEAD);
        __builtin_prefetch(r, 1);
        __builtin_prefetch(r + 64, 1);
        __builtin_prefetch(r + 128, 1);
    }
    if (b->used + 1152 <= BATCH_BYTES) {
        __builtin_prefetch(b->data + b->used + 1024, 1);
        __builtin_prefetch(b->data + b->used + 1088, 1);
    }
    bp->ts_ns = p->ts_ns;
    bp->len = p->len;
    bp->off = (uint32_t)b->used;
    bp->m = *m;
    bp->m.l3 = meta_off(p->data, m->l3);
    bp->m.l4 = meta_off(p->data, m->l4);
    bp->m.payload = meta_off(p->data, m->payload);
    memcpy(b->data + b->used, p->data, caplen);
    b->used += caplen;
}

/* Read one frame: count, filter, decode, account or dispatch. */
static void
eng_frame(eng *e, const pf_packet *p)
{
    eng_stats *st = &e->st;
    st->frames++;
    st->bytes += p->len;
    if (st->first_ns == 0 || p->ts_ns < st->first_ns)
        st->first_ns = p->ts_ns;
    if (p->ts_ns > st->last_ns)
        st->last_ns = p->ts_ns;
    if (!dec_link_supported(p->linktype)) {
        st->skipped[DEC_UNSUPPORTED_LINK]++;
        return;
    }
    if (e->bpf) {
        int r = capfilter_match(e->bpf, p);
        if (r <= 0) {
            st->filtered++;
            if (r < 0)
                e->bpf_unusable++;
            return;
        }
    }
    uint32_t caplen = p->caplen;
    if (caplen > BATCH_BYTES)
        caplen = BATCH_BYTES;
    if (caplen > p->len && p->len > 0)
        st->bad_caplen++;
    pkt_meta m;
    dec_status ds = dec_packet(p->linktype, p->data, caplen, &m);
    if (ds != DEC_OK) {
        st->skipped[ds]++;
        return;
    }
    if (e->hooks.frame)
        e->hooks.frame(e->hooks.ctx, &m, p->ts_ns);
    if (e->nw == 1)
        worker_account(&e->w[0], &m, p->ts_ns, p->len);
    else
        eng_dispatch(e, p, caplen, &m);
}

/* ---- progress ----------------------------------------------------------- */

/* Publish the reading thread's counters for eng_stats_snapshot(). */
static void
eng_publish(eng *e)
{
    pthread_mutex_lock(&e->pub_mu);
    e->pub = e->st;
    pthread_mutex_unlock(&e->pub_mu);
}

void
eng_stats_snapshot(eng *e, eng_stats *out)
{
    pthread_mutex_lock(&e->pub_mu);
    *out = e->pub;
    pthread_mutex_unlock(&e->pub_mu);
}

static uint64_t
files_offset(const eng *e)
{
    uint64_t n = 0;
    for (int i = 0; i < e->cfg.nfiles; i++)
        if (e->files[i])
            n += pf_offset(e->files[i]);
    return n;
}

static uint64_t
flows_now(const eng *e)
{
    uint64_t n = flowtab_get_stats(e->w[0].ft)->active;    /* this thread's table */
    for (int i = 1; i < e->nw; i++)
        n += __atomic_load_n(&e->w[i].active, __ATOMIC_RELAXED);
    return n;
}

static void
eng_progress(eng *e, int final)
{
    uint64_t now = mono_ns();
    if (!final && now - e->t_last_progress < 1000000000ULL)
        return;
    static uint64_t last_frames, last_bytes, last_t;
    double dt = last_t ? (double)(now - last_t) / 1e9 : (double)(now - e->t_start) / 1e9;
    if (dt <= 0)
        dt = 1e-9;
    double pps = (double)(e->st.frames - last_frames) / dt;
    double mbps = (double)(e->st.bytes - last_bytes) * 8 / dt / 1e6;
    last_frames = e->st.frames;
    last_bytes = e->st.bytes;
    last_t = now;
    e->t_last_progress = now;
    char extra[128] = "";
    if (e->hooks.status)
        e->hooks.status(e->hooks.ctx, extra, sizeof(extra));
    fprintf(stderr, "\r\033[K");
    if (e->cfg.nfiles && e->total_bytes) {
        uint64_t off = files_offset(e);
        double frac = (double)off / (double)e->total_bytes;
        double el = (double)(now - e->t_start) / 1e9;
        double eta = frac > 0.001 ? el / frac - el : 0;
        fprintf(stderr, "segscope: %3.0f%% %.1f/%.1f MB  %.0fk pkt/s  flows %llu  ETA %d:%02d",
                frac * 100, off / 1e6, e->total_bytes / 1e6, pps / 1e3,
                (unsigned long long)flows_now(e), (int)eta / 60, (int)eta % 60);
    } else {
        uint64_t drops = 0;
        for (int i = 0; i < e->cfg.nifaces; i++) {
            uint64_t r, d, f;
            if (live_stats(e->ifaces[i], &r, &d, &f) == 0)
                drops += d + f;
        }
        fprintf(stderr, "segscope: %llu pkts  %.0f pkt/s  %.1f Mbit/s  drops %llu  flows %llu",
                (unsigned long long)e->st.frames, pps, mbps, (unsigned long long)drops,
                (unsigned long long)flows_now(e));
    }
    if (extra[0])
        fprintf(stderr, "  %s", extra);
    if (final)
        fprintf(stderr, "\r\033[K");
    e->progress_shown = 1;
}

/* ---- sources ------------------------------------------------------------ */

static int
run_files(eng *e, volatile sig_atomic_t *stop, char *err, size_t errlen)
{
    char why[512];
    for (int i = 0; i < e->cfg.nfiles; i++) {
        pf_file *f = e->files[i];
        const char *name = strcmp(e->cfg.files[i], "-") == 0 ? "<stdin>" : e->cfg.files[i];
        pf_packet p;
        int rc;
        while ((rc = pf_next(f, &p, why, sizeof(why))) == 1) {
            eng_frame(e, &p);
            if ((stop && *stop) ||
                (e->cfg.max_packets && e->st.frames >= e->cfg.max_packets))
                return 0;
            if ((e->st.frames & 4095) == 0) {
                eng_publish(e);
                if (e->cfg.progress)
                    eng_progress(e, 0);
            }
        }
        e->st.files_read++;
        if (rc < 0) {
            snprintf(err, errlen, "%s: %s", name, why);
            return EXIT_INPUT;
        }
    }
    return 0;
}

static int
run_live(eng *e, volatile sig_atomic_t *stop, char *err, size_t errlen)
{
    char why[512];
    int n = e->cfg.nifaces;
    struct pollfd pfd[ENG_MAX_INPUTS];
    uint64_t t0 = mono_ns(), t_expire = t0;
    uint64_t limit = e->cfg.duration_s > 0 ? (uint64_t)(e->cfg.duration_s * 1e9) : 0;
    for (;;) {
        if (stop && *stop)
            break;
        if (limit && mono_ns() - t0 >= limit)
            break;
        eng_publish(e);
        if (e->cfg.progress)
            eng_progress(e, 0);
        int any = 0;
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < 256; k++) {     /* a batch per interface per round */
                pf_packet p;
                int rc = live_next(e->ifaces[i], &p, why, sizeof(why));
                if (rc == 0)
                    break;
                if (rc < 0) {
                    snprintf(err, errlen, "%s: %s", live_name(e->ifaces[i]), why);
                    return EXIT_INPUT;
                }
                any = 1;
                eng_frame(e, &p);
                if (e->cfg.max_packets && e->st.frames >= e->cfg.max_packets)
                    return 0;
            }
        }
        uint64_t tm = mono_ns();
        if (!any || tm - t_expire >= 1000000000ULL) {
            /* Frames of a slow link must not wait in a batch for it to fill
               (a worker would account them late, after a flush they belong
               to).  Worker 0 is this thread: expire its flows by wall-clock
               time when idle, and every second when its share is quiet. */
            push_partial(e);
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            flowtab_expire(e->w[0].ft, (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec);
            t_expire = tm;
        }
        if (!any) {
            {
                int m = 0;
                for (int i = 0; i < n; i++) {
                    int fd = live_fd(e->ifaces[i]);
                    if (fd >= 0) {
                        pfd[m].fd = fd;
                        pfd[m].events = POLLIN;
                        m++;
                    }
                }
                if (m) {
                    poll(pfd, (nfds_t)m, 100);
                } else {
                    struct timespec ts = { 0, 10000000 };
                    nanosleep(&ts, NULL);
                }
            }
        }
    }
    return 0;
}

/* As root with live interfaces open: become drop_user (default nobody). */
static int
drop_privileges(eng *e, char *err, size_t errlen)
{
    const char *user = e->cfg.drop_user ? e->cfg.drop_user : "nobody";
    if (!e->cfg.nifaces || geteuid() != 0 || !user[0])
        return 0;
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        snprintf(err, errlen, "--user: no such user '%s'", user);
        return EXIT_USAGE;
    }
    if (e->cfg.own_dir && chown(e->cfg.own_dir, pw->pw_uid, pw->pw_gid) != 0) {
        snprintf(err, errlen, "%s: cannot hand to user %s: %s", e->cfg.own_dir, user, strerror(errno));
        return EXIT_RUNTIME;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        snprintf(err, errlen, "cannot become user %s: %s", user, strerror(errno));
        return EXIT_RUNTIME;
    }
    if (setuid(0) == 0) {
        snprintf(err, errlen, "privileges could not be dropped");
        return EXIT_RUNTIME;
    }
    return 0;
}

int
eng_run(eng *e, volatile sig_atomic_t *stop, char *err, size_t errlen)
{
    int rc = drop_privileges(e, err, errlen);
    if (rc)
        return rc;
    e->t_start = mono_ns();
    if (e->nw > 1) {
        for (int i = 1; i < e->nw; i++) {
            if (pthread_create(&e->w[i].th, NULL, worker_main, &e->w[i]) != 0) {
                snprintf(err, errlen, "cannot start worker thread: %s", strerror(errno));
                rc = EXIT_RUNTIME;
                break;
            }
            e->w[i].started = 1;
        }
    }
    if (rc == 0 && e->cfg.nfiles)
        rc = run_files(e, stop, err, errlen);
    if (rc == 0 && e->cfg.nifaces)
        rc = run_live(e, stop, err, errlen);
    if (e->cfg.progress && e->progress_shown)
        eng_progress(e, 1);
    for (int i = 0; i < e->cfg.nifaces; i++) {
        uint64_t r, d, f;
        if (e->ifaces[i] && live_stats(e->ifaces[i], &r, &d, &f) == 0) {
            e->st.kernel_recv += r;
            e->st.kernel_drop += d;
            e->st.if_drop += f;
        }
    }
    for (int i = 1; i < e->nw; i++) {
        worker *w = &e->w[i];
        if (!w->started)
            continue;
        batch *b = w->fill ? w->fill : batch_get(e);
        w->fill = NULL;
        b->end = 1;
        b->end_ns = e->st.last_ns;
        worker_push(w, b);
    }
    flowtab_expire(e->w[0].ft, e->st.last_ns);     /* while the others end theirs */
    flowtab_flush(e->w[0].ft);
    for (int i = 1; i < e->nw; i++)
        if (e->w[i].started)
            pthread_join(e->w[i].th, NULL);
    for (int i = 0; i < e->nw; i++) {
        e->st.decoded += e->w[i].decoded;
        e->st.frag_unmatched += e->w[i].frag_unmatched;
        e->w[i].decoded = e->w[i].frag_unmatched = 0;
    }
    eng_publish(e);
    return rc;
}

const eng_stats *
eng_get_stats(const eng *e)
{
    return &e->st;
}

int
eng_threads(const eng *e)
{
    return e->nw;
}

const flowtab_stats *
eng_flow_stats(const eng *e)
{
    eng *m = (eng *)e;                  /* the sum is a cache */
    memset(&m->ftsum, 0, sizeof(m->ftsum));
    for (int i = 0; i < e->nw; i++) {
        const flowtab_stats *s = flowtab_get_stats(e->w[i].ft);
        m->ftsum.created += s->created;
        m->ftsum.active += s->active;
        m->ftsum.peak += s->peak;
        for (int k = 0; k < 5; k++)
            m->ftsum.ended[k] += s->ended[k];
        m->ftsum.frag_matched += s->frag_matched;
        m->ftsum.frag_unmatched += s->frag_unmatched;
    }
    return &m->ftsum;
}

static uint64_t
skipped_total(const eng_stats *st)
{
    uint64_t n = st->frag_unmatched;
    for (int i = 1; i < DEC_STATUS_COUNT; i++)
        n += st->skipped[i];
    return n;
}

void
eng_print_stats(const eng *e, FILE *out)
{
    const eng_stats *st = &e->st;
    const flowtab_stats *fs = eng_flow_stats(e);
    fprintf(out, "frames_read %llu\n", (unsigned long long)st->frames);
    fprintf(out, "bytes_read %llu\n", (unsigned long long)st->bytes);
    fprintf(out, "frames_filtered %llu\n", (unsigned long long)st->filtered);
    fprintf(out, "frames_decoded %llu\n", (unsigned long long)st->decoded);
    fprintf(out, "frames_skipped %llu\n", (unsigned long long)skipped_total(st));
    for (int i = 1; i < DEC_STATUS_COUNT; i++)
        fprintf(out, "skipped_%s %llu\n", dec_status_name((dec_status)i),
                (unsigned long long)st->skipped[i]);
    fprintf(out, "skipped_fragment_unmatched %llu\n", (unsigned long long)st->frag_unmatched);
    fprintf(out, "caplen_over_len %llu\n", (unsigned long long)st->bad_caplen);
    uint64_t oversnap = 0, skipped_blocks = 0;
    for (int i = 0; i < e->cfg.nfiles; i++)
        if (e->files[i]) {
            oversnap += pf_oversnap_records(e->files[i]);
            skipped_blocks += pf_skipped_blocks(e->files[i]);
        }
    fprintf(out, "records_over_snaplen %llu\n", (unsigned long long)oversnap);
    fprintf(out, "pcapng_blocks_skipped %llu\n", (unsigned long long)skipped_blocks);
    fprintf(out, "filter_unusable_linktype %llu\n", (unsigned long long)e->bpf_unusable);
    fprintf(out, "fragments_matched %llu\n", (unsigned long long)fs->frag_matched);
    fprintf(out, "flows_created %llu\n", (unsigned long long)fs->created);
    fprintf(out, "flows_peak %llu\n", (unsigned long long)fs->peak);
    for (int i = 0; i < 5; i++)
        fprintf(out, "flows_ended_%s %llu\n", flow_end_name(i), (unsigned long long)fs->ended[i]);
    fprintf(out, "flow_record_bytes %zu\n", flowtab_record_size());
    fprintf(out, "threads %d\n", e->nw);
    if (e->cfg.nifaces) {
        fprintf(out, "kernel_received %llu\n", (unsigned long long)st->kernel_recv);
        fprintf(out, "kernel_dropped %llu\n", (unsigned long long)st->kernel_drop);
        fprintf(out, "interface_dropped %llu\n", (unsigned long long)st->if_drop);
    }
}

void
eng_print_summary(const eng *e, FILE *out)
{
    const eng_stats *st = &e->st;
    const flowtab_stats *fs = eng_flow_stats(e);
    fprintf(out, "segscope: %llu frames read, %llu decoded, %llu filtered, %llu skipped",
            (unsigned long long)st->frames, (unsigned long long)st->decoded,
            (unsigned long long)st->filtered, (unsigned long long)skipped_total(st));
    int first = 1;
    for (int i = 1; i < DEC_STATUS_COUNT; i++) {
        if (!st->skipped[i])
            continue;
        fprintf(out, "%s%s %llu", first ? " (" : ", ", dec_status_name((dec_status)i),
                (unsigned long long)st->skipped[i]);
        first = 0;
    }
    if (st->frag_unmatched) {
        fprintf(out, "%sfragment_unmatched %llu", first ? " (" : ", ",
                (unsigned long long)st->frag_unmatched);
        first = 0;
    }
    if (!first)
        fputc(')', out);
    fprintf(out, "; %llu flows (%llu evicted early, %llu split by active timeout)",
            (unsigned long long)fs->created, (unsigned long long)fs->ended[FLOW_END_EVICTED],
            (unsigned long long)fs->ended[FLOW_END_ACTIVE]);
    if (e->cfg.nifaces)
        fprintf(out, "; kernel dropped %llu", (unsigned long long)(st->kernel_drop + st->if_drop));
    fputc('\n', out);
}
