/*
 * blast.h - blast radius: what a compromised workload can reach.
 *
 * For each segment (and so for each of its hosts), blast_compute() counts
 * the internal hosts reachable
 *   - in one hop, over any service: in a flat network (everything), in
 *     what was observed (the distinct servers each host used), and under
 *     the recommended policy (hosts of every segment a rule lets it reach);
 *   - transitively, hopping only over lateral-movement services (SMB,
 *     RDP, SSH, WinRM, RPC, databases, VNC, telnet: rules_lateral()): in
 *     a flat network, over the observed segment graph, and under policy;
 * and lists attack paths under the policy from every user-device or
 * Internet-facing segment to every crown-jewel segment (a member labelled
 * crown_jewel=true).  blast.c opens with how it works.
 */
#ifndef SEGSCOPE_BLAST_H
#define SEGSCOPE_BLAST_H

#include <stdint.h>

#include "recommender/model.h"
#include "recommender/rules.h"
#include "recommender/segment.h"

#define BLAST_MAX_HOPS 8

/* Reach of one segment's hosts (counts of other internal hosts). */
typedef struct blast_seg {
    double flat;                /* one hop, flat network: all other hosts */
    double observed;            /* one hop, observed: mean distinct internal servers per member */
    double policy;              /* one hop under the policy */
    double lateral_observed;    /* transitive over lateral services, observed segment graph */
    double lateral_policy;      /* transitive over lateral services, under the policy */
} blast_seg;

/* One attack path: segments from an entry to a crown jewel, and the rule of each hop. */
typedef struct blast_path {
    uint32_t from_internet;     /* 1: the entry is the Internet (hop 0 is an ingress rule) */
    uint32_t n;                 /* segments on the path */
    uint32_t seg[BLAST_MAX_HOPS + 1]; /* segment indices, entry first */
    uint32_t rule[BLAST_MAX_HOPS];    /* rule index of each hop (n - 1 hops, or n with from_internet) */
} blast_path;

/* Totals over all hosts. */
typedef struct blast_summary {
    uint32_t hosts;             /* internal hosts in a segment */
    double flat, observed, policy;            /* mean one-hop reach per host */
    double lateral_flat, lateral_observed, lateral_policy; /* mean transitive lateral reach */
    double reduction;           /* 1 - policy / flat (one hop) */
    double lateral_reduction;   /* 1 - lateral_policy / lateral_flat */
    uint32_t exposed_segments;  /* segments the Internet may reach */
    uint32_t exposed_hosts;     /* their hosts */
    uint32_t crown_segments;    /* segments holding crown jewels */
} blast_summary;

typedef struct blast blast;

/* Compute; at most max_paths attack paths are kept. NULL on OOM. */
blast *blast_compute(const model *m, const segmentation *s, const rules *r, uint32_t max_paths);
/* NULL is fine. */
void blast_free(blast *b);

const blast_summary *blast_get_summary(const blast *b);
const blast_seg *blast_get_seg(const blast *b, uint32_t seg);
uint32_t blast_n_paths(const blast *b);
const blast_path *blast_get_path(const blast *b, uint32_t i);

#endif
