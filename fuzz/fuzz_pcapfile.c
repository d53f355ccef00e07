/*
 * fuzz_pcapfile.c - fuzz pcap/pcapng reading, alone and end to end.
 *
 * The input is a whole capture file.  It is written to an anonymous
 * memory file (memfd; a temporary file where there is none) and read
 *
 *   1. by pf_open()/pf_next() to the end, checking what pcapfile.h
 *      promises: caplen within PF_MAX_CAPLEN, every packet byte readable,
 *      the offset moving forward and never past the file, an error sticky;
 *   2. by the whole pipeline: an engine (reader, decoder, a flow table of
 *      8 flows so eviction happens, the CSV and JSON writers to /dev/null),
 *      checking that every frame is counted once and every flow begun is
 *      ended.
 *
 * Seeds: fuzz/corpus/pcapfile/ (small captures and cut-down real ones).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture/engine.h"
#include "capture/pcapfile.h"
#include "fuzz/fuzz.h"
#include "reports/flowfmt.h"

/* The pipeline's consumer: counts what the hooks see and writes records. */
typedef struct fuzz_sink {
    flowfmt *csv, *json;        /* writers to /dev/null */
    uint64_t packets;           /* packet hook calls */
    uint64_t flows;             /* flow_end hook calls */
} fuzz_sink;

static FILE *fuzz_devnull;      /* opened once per process */

static void
fuzz_on_packet(void *ctx, flow *f, int from_client, const pkt_meta *m,
               uint64_t ts_ns, uint32_t wire_len)
{
    fuzz_sink *s = ctx;
    (void)ts_ns;
    (void)wire_len;
    FUZZ_ASSERT(f != NULL && m != NULL && (from_client == 0 || from_client == 1));
    s->packets++;
}

static void
fuzz_on_flow_end(void *ctx, flow *f)
{
    fuzz_sink *s = ctx;
    FUZZ_ASSERT(f->end <= FLOW_END_EOF);
    FUZZ_ASSERT(f->d[0].pkts + f->d[1].pkts > 0);
    if (s->csv)
        flowfmt_write(s->csv, f, NULL);
    if (s->json)
        flowfmt_write(s->json, f, NULL);
    s->flows++;
}

/* Write the input to a file of its own; the path names it. -1 on failure. */
static int
fuzz_make_file(const uint8_t *data, size_t size, char *path, size_t pathlen)
{
    int fd = -1;
#ifdef MFD_CLOEXEC
    fd = memfd_create("segscope-fuzz", MFD_CLOEXEC);
#endif
    if (fd >= 0) {
        snprintf(path, pathlen, "/proc/self/fd/%d", fd);
    } else {
        snprintf(path, pathlen, "%s/segscope-fuzz-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        fd = mkstemp(path);
        if (fd < 0)
            return -1;
        unlink(path);           /* reopened through /proc while fd lives */
        snprintf(path, pathlen, "/proc/self/fd/%d", fd);
    }
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    return fd;
}

/* Part 1: the reader alone. */
static void
fuzz_reader(const char *path, size_t size)
{
    char err[256], err2[256];
    pf_file *f = pf_open(path, err, sizeof err);
    pf_packet p;
    uint64_t last = 0;
    int rc;

    if (!f) {
        FUZZ_ASSERT(err[0] != '\0' && strchr(err, '\n') == NULL);
        return;
    }
    FUZZ_ASSERT(pf_size(f) == (int64_t)size);
    FUZZ_ASSERT(strcmp(pf_format(f), "pcap") == 0 || strcmp(pf_format(f), "pcap-ns") == 0 ||
                strcmp(pf_format(f), "pcapng") == 0);
    while ((rc = pf_next(f, &p, err, sizeof err)) == 1) {
        unsigned sum = 0;
        FUZZ_ASSERT(p.caplen <= PF_MAX_CAPLEN);
        FUZZ_ASSERT(p.caplen == 0 || p.data != NULL);
        for (uint32_t i = 0; i < p.caplen; i++)   /* every byte must be readable */
            sum += p.data[i];
        (void)sum;
        FUZZ_ASSERT(pf_offset(f) > last && pf_offset(f) <= size);
        last = pf_offset(f);
    }
    FUZZ_ASSERT(rc == 0 || rc == -1);
    FUZZ_ASSERT(pf_offset(f) <= size);
    if (rc < 0) {
        FUZZ_ASSERT(err[0] != '\0' && strchr(err, '\n') == NULL);
        FUZZ_ASSERT(pf_next(f, &p, err2, sizeof err2) == -1 && strcmp(err, err2) == 0);
    }
    (void)pf_skipped_blocks(f);
    (void)pf_oversnap_records(f);
    pf_close(f);
}

/* Part 2: the whole pipeline over the same file. */
static void
fuzz_pipeline(const char *path)
{
    eng_cfg cfg;
    fuzz_sink sink = {0};
    eng_hooks hooks = { .packet = fuzz_on_packet, .flow_end = fuzz_on_flow_end, .ctx = &sink };
    char err[1024];
    int code;

    eng_cfg_default(&cfg);
    cfg.files[0] = path;
    cfg.nfiles = 1;
    cfg.ft.max_flows = 8;
    eng *e = eng_create(&cfg, &hooks, &code, err, sizeof err);
    if (!e) {
        FUZZ_ASSERT(code == EXIT_INPUT && err[0] != '\0');
        return;
    }
    if (!fuzz_devnull)
        fuzz_devnull = fopen("/dev/null", "w");
    if (fuzz_devnull) {
        sink.csv = flowfmt_create(fuzz_devnull, FLOWFMT_CSV, NULL, 0);
        sink.json = flowfmt_create(fuzz_devnull, FLOWFMT_JSON, NULL, 0);
    }
    int rc = eng_run(e, NULL, err, sizeof err);
    FUZZ_ASSERT(rc == 0 || rc == EXIT_INPUT);

    const eng_stats *st = eng_get_stats(e);
    const flowtab_stats *fs = eng_flow_stats(e);
    uint64_t counted = st->decoded + st->filtered + st->frag_unmatched;
    for (int i = 1; i < DEC_STATUS_COUNT; i++)
        counted += st->skipped[i];
    FUZZ_ASSERT(counted == st->frames);         /* every frame exactly once */
    FUZZ_ASSERT(sink.packets == st->decoded);
    uint64_t ended = 0;
    for (int i = 0; i < 5; i++)
        ended += fs->ended[i];
    FUZZ_ASSERT(ended == fs->created && sink.flows == fs->created);
    FUZZ_ASSERT(fs->active == 0 && fs->peak <= 8);

    flowfmt_free(sink.csv);
    flowfmt_free(sink.json);
    eng_print_stats(e, fuzz_devnull ? fuzz_devnull : stderr);
    eng_print_summary(e, fuzz_devnull ? fuzz_devnull : stderr);
    eng_free(e);
}

int
fuzz_pcapfile(const uint8_t *data, size_t size)
{
    char path[256];
    int fd = fuzz_make_file(data, size, path, sizeof path);
    if (fd < 0)
        return 0;
    fuzz_reader(path, size);
    fuzz_pipeline(path);
    close(fd);
    return 0;
}

FUZZ_ENTRY(fuzz_pcapfile)
