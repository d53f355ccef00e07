/*
 * live.c - live capture and BPF through libpcap (see live.h).
 */
#include <errno.h>
#include <pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/live.h"

struct live {
    pcap_t *p;
    char *name;
    int linktype;           /* LINKTYPE_* of the interface */
    uint64_t ts_mult;       /* 1 for ns timestamps, 1000 for us */
};

/* libpcap speaks DLT_*; files and the decoder speak LINKTYPE_*. They
   differ only for a few historical values. */
static int
dlt_to_linktype(int dlt)
{
    switch (dlt) {
    case DLT_RAW: return 101;
#ifdef DLT_LOOP
    case DLT_LOOP: return 108;
#endif
    default: return dlt;
    }
}

static int
linktype_to_dlt(int lt)
{
    switch (lt) {
    case 101: return DLT_RAW;
#ifdef DLT_LOOP
    case 108: return DLT_LOOP;
#endif
    default: return lt;
    }
}

void
live_cfg_default(live_cfg *cfg)
{
    cfg->snaplen = 262144;
    cfg->promisc = 1;
    cfg->buffer_mib = 0;
    cfg->timeout_ms = 200;
    cfg->nonblock = 0;
}

live *
live_open(const char *iface, const live_cfg *cfg, int *perm, char *err, size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    *perm = 0;
    live *l = calloc(1, sizeof(*l));
    if (!l || !(l->name = strdup(iface))) {
        snprintf(err, errlen, "out of memory");
        free(l);
        return NULL;
    }
    l->p = pcap_create(iface, ebuf);
    if (!l->p) {
        snprintf(err, errlen, "%s", ebuf);
        goto fail;
    }
    pcap_set_snaplen(l->p, cfg->snaplen);
    pcap_set_promisc(l->p, cfg->promisc);
    pcap_set_timeout(l->p, cfg->timeout_ms);
    pcap_set_tstamp_precision(l->p, PCAP_TSTAMP_PRECISION_NANO);
    if (cfg->buffer_mib > 0)
        pcap_set_buffer_size(l->p, cfg->buffer_mib * 1024 * 1024);
    int rc = pcap_activate(l->p);
    if (rc < 0) {
        if (rc == PCAP_ERROR_PERM_DENIED || rc == PCAP_ERROR_PROMISC_PERM_DENIED) {
            *perm = 1;
            snprintf(err, errlen, "permission denied (run as root or give the binary CAP_NET_RAW: setcap cap_net_raw+ep segscope)");
        } else if (rc == PCAP_ERROR_NO_SUCH_DEVICE) {
            snprintf(err, errlen, "no such interface");
        } else {
            snprintf(err, errlen, "%s", pcap_geterr(l->p));
        }
        goto fail;
    }
    l->linktype = dlt_to_linktype(pcap_datalink(l->p));
    if (cfg->nonblock && pcap_setnonblock(l->p, 1, ebuf) != 0) {
        snprintf(err, errlen, "%s", ebuf);
        goto fail;
    }
    l->ts_mult = pcap_get_tstamp_precision(l->p) == PCAP_TSTAMP_PRECISION_NANO ? 1 : 1000;
    return l;
fail:
    live_close(l);
    return NULL;
}

int
live_next(live *l, pf_packet *pkt, char *err, size_t errlen)
{
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc = pcap_next_ex(l->p, &h, &data);
    if (rc == 1) {
        pkt->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ULL + (uint64_t)h->ts.tv_usec * l->ts_mult;
        pkt->caplen = h->caplen;
        pkt->len = h->len;
        pkt->linktype = l->linktype;
        pkt->data = data;
        return 1;
    }
    if (rc == 0)
        return 0;
    snprintf(err, errlen, "%s", rc == PCAP_ERROR_BREAK ? "interrupted" : pcap_geterr(l->p));
    return -1;
}

int
live_stats(live *l, uint64_t *recv, uint64_t *drop, uint64_t *ifdrop)
{
    struct pcap_stat st;
    if (pcap_stats(l->p, &st) != 0)
        return -1;
    *recv = st.ps_recv;
    *drop = st.ps_drop;
    *ifdrop = st.ps_ifdrop;
    return 0;
}

int
live_fd(live *l)
{
    return pcap_get_selectable_fd(l->p);
}

const char *
live_name(const live *l)
{
    return l->name;
}

void
live_close(live *l)
{
    if (!l)
        return;
    if (l->p)
        pcap_close(l->p);
    free(l->name);
    free(l);
}

/* ---- BPF ---------------------------------------------------------------- */

#define BPF_MAX_LINKTYPES 8

struct capfilter {
    char *expr;
    int n;
    struct {
        int linktype;
        int ok;                     /* compiled */
        struct bpf_program prog;
    } lt[BPF_MAX_LINKTYPES];
};

capfilter *
capfilter_create(const char *expr)
{
    capfilter *b = calloc(1, sizeof(*b));
    if (!b || !(b->expr = strdup(expr))) {
        free(b);
        return NULL;
    }
    return b;
}

/* The compiled program for a link type, compiling on first use. */
static int
bpf_for(capfilter *b, int linktype, char *err, size_t errlen)
{
    for (int i = 0; i < b->n; i++)
        if (b->lt[i].linktype == linktype)
            return b->lt[i].ok ? i : -1;
    if (b->n == BPF_MAX_LINKTYPES) {
        snprintf(err, errlen, "too many link types for one filter");
        return -1;
    }
    int i = b->n++;
    b->lt[i].linktype = linktype;
    pcap_t *dead = pcap_open_dead(linktype_to_dlt(linktype), 262144);
    if (!dead) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (pcap_compile(dead, &b->lt[i].prog, b->expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, errlen, "bad filter '%s': %s", b->expr, pcap_geterr(dead));
        pcap_close(dead);
        return -1;
    }
    pcap_close(dead);
    b->lt[i].ok = 1;
    return i;
}

int
capfilter_check(capfilter *b, int linktype, char *err, size_t errlen)
{
    return bpf_for(b, linktype, err, errlen) < 0 ? -1 : 0;
}

int
capfilter_match(capfilter *b, const pf_packet *pkt)
{
    char err[256];
    int i = bpf_for(b, pkt->linktype, err, sizeof(err));
    if (i < 0)
        return -1;
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof(h));
    h.caplen = pkt->caplen;
    h.len = pkt->len;
    return pcap_offline_filter(&b->lt[i].prog, &h, pkt->data) != 0;
}

void
capfilter_free(capfilter *b)
{
    if (!b)
        return;
    for (int i = 0; i < b->n; i++)
        if (b->lt[i].ok)
            pcap_freecode(&b->lt[i].prog);
    free(b->expr);
    free(b);
}
