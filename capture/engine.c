/*
 * engine.c - the capture pipeline (see engine.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture/engine.h"
#include "capture/pcapfile.h"

struct eng {
    eng_cfg cfg;
    eng_hooks hooks;
    pf_file *files[ENG_MAX_INPUTS];
    live *ifaces[ENG_MAX_INPUTS];
    capfilter *bpf;
    flowtab *ft;
    eng_stats st;
    uint64_t bpf_unusable;          /* packets whose link type the filter can't compile for */
};

void
eng_cfg_default(eng_cfg *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    live_cfg_default(&cfg->live);
    flowtab_cfg_default(&cfg->ft);
}

static void
on_flow_end(void *ctx, flow *f)
{
    eng *e = ctx;
    if (e->hooks.flow_end)
        e->hooks.flow_end(e->hooks.ctx, f);
}

eng *
eng_create(const eng_cfg *cfg, const eng_hooks *hooks, int *code, char *err, size_t errlen)
{
    char why[512];
    eng *e = calloc(1, sizeof(*e));
    *code = EXIT_RUNTIME;
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->cfg = *cfg;
    if (hooks)
        e->hooks = *hooks;
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
    lc.nonblock = cfg->nifaces > 1;
    for (int i = 0; i < cfg->nifaces; i++) {
        int perm;
        e->ifaces[i] = live_open(cfg->ifaces[i], &lc, &perm, why, sizeof(why));
        if (!e->ifaces[i]) {
            snprintf(err, errlen, "%s: %s", cfg->ifaces[i], why);
            *code = perm ? EXIT_PERM : EXIT_INPUT;
            goto fail;
        }
    }
    e->ft = flowtab_create(&cfg->ft, on_flow_end, e);
    if (!e->ft) {
        snprintf(err, errlen, "out of memory");
        goto fail;
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
    flowtab_free(e->ft);
    free(e);
}

/* Account one frame. */
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
    if (e->bpf) {
        int r = capfilter_match(e->bpf, p);
        if (r == 0) {
            st->filtered++;
            return;
        }
        if (r < 0) {
            st->filtered++;
            e->bpf_unusable++;
            return;
        }
    }
    uint32_t caplen = p->caplen;
    if (caplen > p->len && p->len > 0)
        st->bad_caplen++;
    pkt_meta m;
    dec_status ds = dec_packet(p->linktype, p->data, caplen, &m);
    if (ds != DEC_OK) {
        st->skipped[ds]++;
        return;
    }
    int from_client;
    flow *f = flowtab_packet(e->ft, &m, p->ts_ns, p->len, &from_client);
    if (!f) {
        st->frag_unmatched++;
        return;
    }
    st->decoded++;
    if (e->hooks.packet)
        e->hooks.packet(e->hooks.ctx, f, from_client, &m, p->ts_ns, p->len);
}

static uint64_t
mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

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
            if (!dec_link_supported(p.linktype)) {
                e->st.frames++;
                e->st.bytes += p.len;
                e->st.skipped[DEC_UNSUPPORTED_LINK]++;
                continue;
            }
            eng_frame(e, &p);
            if ((stop && *stop) ||
                (e->cfg.max_packets && e->st.frames >= e->cfg.max_packets))
                return 0;
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
    uint64_t t0 = mono_ns();
    uint64_t limit = e->cfg.duration_s > 0 ? (uint64_t)(e->cfg.duration_s * 1e9) : 0;
    for (;;) {
        if (stop && *stop)
            break;
        if (limit && mono_ns() - t0 >= limit)
            break;
        int any = 0;
        for (int i = 0; i < n; i++) {
            /* Drain what is there, at most a batch per interface. */
            for (int k = 0; k < 256; k++) {
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
        if (!any) {
            /* Idle: let the flow table expire by wall-clock time too. */
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            flowtab_expire(e->ft, (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec);
            if (n > 1) {
                int m = 0;
                for (int i = 0; i < n; i++) {
                    int fd = live_fd(e->ifaces[i]);
                    if (fd >= 0) {
                        pfd[m].fd = fd;
                        pfd[m].events = POLLIN;
                        m++;
                    }
                }
                if (m)
                    poll(pfd, (nfds_t)m, 100);
            }
        }
    }
    return 0;
}

int
eng_run(eng *e, volatile sig_atomic_t *stop, char *err, size_t errlen)
{
    int rc = 0;
    if (e->cfg.nfiles)
        rc = run_files(e, stop, err, errlen);
    if (rc == 0 && e->cfg.nifaces)
        rc = run_live(e, stop, err, errlen);
    for (int i = 0; i < e->cfg.nifaces; i++) {
        uint64_t r, d, f;
        if (e->ifaces[i] && live_stats(e->ifaces[i], &r, &d, &f) == 0) {
            e->st.kernel_recv += r;
            e->st.kernel_drop += d;
            e->st.if_drop += f;
        }
    }
    flowtab_flush(e->ft);
    return rc;
}

const eng_stats *
eng_get_stats(const eng *e)
{
    return &e->st;
}

const flowtab_stats *
eng_flow_stats(const eng *e)
{
    return flowtab_get_stats(e->ft);
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
    const flowtab_stats *fs = flowtab_get_stats(e->ft);
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
    fprintf(out, "filter_unusable_linktype %llu\n", (unsigned long long)e->bpf_unusable);
    fprintf(out, "fragments_matched %llu\n", (unsigned long long)fs->frag_matched);
    fprintf(out, "flows_created %llu\n", (unsigned long long)fs->created);
    fprintf(out, "flows_peak %llu\n", (unsigned long long)fs->peak);
    for (int i = 0; i < 5; i++)
        fprintf(out, "flows_ended_%s %llu\n", flow_end_name(i), (unsigned long long)fs->ended[i]);
    fprintf(out, "flow_record_bytes %zu\n", flowtab_record_size());
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
    const flowtab_stats *fs = flowtab_get_stats(e->ft);
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
