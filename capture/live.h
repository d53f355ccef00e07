/*
 * live.h - libpcap behind one header: live interfaces and BPF filters.
 *
 * This is the only file of segscope that includes <pcap.h>.  Capture
 * files are read by pcapfile.c (libpcap refuses pcapng files whose
 * interfaces differ in link type or snap length); BPF filters are
 * compiled here per link type and applied to packets of any source.
 */
#ifndef SEGSCOPE_LIVE_H
#define SEGSCOPE_LIVE_H

#include <stddef.h>
#include <stdint.h>
#include "capture/pcapfile.h"

typedef struct live_cfg {
    int snaplen;            /* bytes kept per packet (default 262144) */
    int promisc;            /* promiscuous mode (default 1) */
    int buffer_mib;         /* kernel buffer in MiB (0 = libpcap default) */
    int timeout_ms;         /* read timeout, so stop requests are seen (default 200) */
    int nonblock;           /* non-blocking reads (several interfaces polled together) */
} live_cfg;

typedef struct live live;

void live_cfg_default(live_cfg *cfg);
/* Open and activate an interface. On failure NULL, a one-line reason in
   err and *perm set to 1 when the failure is a lack of privilege. */
live *live_open(const char *iface, const live_cfg *cfg, int *perm, char *err, size_t errlen);
/* 1 = a packet, 0 = no packet within the timeout, -1 = error (reason in err). */
int live_next(live *l, pf_packet *pkt, char *err, size_t errlen);
/* Kernel counters: received, dropped by the kernel, dropped by the interface. */
int live_stats(live *l, uint64_t *recv, uint64_t *drop, uint64_t *ifdrop);
int live_fd(live *l);       /* selectable descriptor, or -1 */
const char *live_name(const live *l);
void live_close(live *l);

typedef struct capfilter capfilter;
/* Compile lazily per link type; NULL only on allocation failure. An invalid
   expression is reported by bpf_check(). */
capfilter *capfilter_create(const char *expr);
/* Check that the expression compiles for link type (e.g. Ethernet). 0 ok, -1 with reason. */
int capfilter_check(capfilter *b, int linktype, char *err, size_t errlen);
/* 1 if the packet passes (or the filter cannot apply to this link type: counted by caller as -1). */
int capfilter_match(capfilter *b, const pf_packet *pkt);
void capfilter_free(capfilter *b);

#endif
