/*
 * segment.h - grouping workloads into segments.
 *
 * A segment holds the internal hosts that play the same role for the
 * same application in the same environment.  User labels (role, app,
 * env) decide where given; everything else is inferred from behaviour
 * (which services a host offers and uses, and with whom), backed by
 * subnets and names.  segment.c opens with how it works.
 *
 * The result is read-only: for each segment its hosts, a readable name,
 * a unique id, an explanation, a confidence per member and the address
 * blocks (cidr.h) that make up its members in a policy.
 */
#ifndef SEGSCOPE_SEGMENT_H
#define SEGSCOPE_SEGMENT_H

#include <stdint.h>

#include "recommender/cidr.h"
#include "recommender/model.h"

#define SEG_NONE UINT32_MAX

/* Knobs; seg_cfg_default() documents the defaults. */
typedef struct seg_cfg {
    double join;                /* behaviour similarity to join a group (0.5) */
    double peer_merge;          /* shared-peer overlap that merges subnet groups (0.5) */
    int rounds;                 /* refinement rounds over peer groups (3) */
    int use_labels;             /* labels role/app/env decide membership (1) */
    int use_names;              /* name tokens merge groups and name segments (1) */
    cidr_cfg cidr;              /* member blocks */
} seg_cfg;

void seg_cfg_default(seg_cfg *cfg);

/* Why a host's edges are set aside (seg_host_flags). */
enum {
    SEG_HOST_SCANNER = 1,       /* touched many hosts on many ports, mostly once: a scanner */
    SEG_HOST_DEAD = 2,          /* internal address that never sent a packet */
    SEG_HOST_LABELLED = 4,      /* placed by user labels */
};

/* What a segment is (seg_flags). */
enum {
    SEG_F_INFRA = 1,            /* offers services used by a large share of hosts */
    SEG_F_INTERNET_IN = 2,      /* receives connections from the Internet */
    SEG_F_CLIENTS = 4,          /* offers nothing of note, uses services: user devices */
    SEG_F_CROWN = 8,            /* a member is labelled crown_jewel=true */
    SEG_F_LABELLED = 16,        /* made from user labels */
    SEG_F_SCANNER = 32,         /* holds a scanner */
};

typedef struct segmentation segmentation;

/* Segment the internal hosts of a finished model. NULL on OOM. */
segmentation *seg_build(const model *m, const seg_cfg *cfg);
/* NULL is fine. */
void seg_free(segmentation *s);

uint32_t seg_count(const segmentation *s);
/* The segment of a host, or SEG_NONE (external, dead, ...). */
uint32_t seg_of(const segmentation *s, uint32_t host);
/* SEG_HOST_* flags of a host. */
unsigned seg_host_flags(const segmentation *s, uint32_t host);
/* 0..1: how well the host fits its segment. */
double seg_host_conf(const segmentation *s, uint32_t host);
/* Members (host indices, ascending); *n gets the count. */
const uint32_t *seg_members(const segmentation *s, uint32_t seg, uint32_t *n);
const char *seg_id(const segmentation *s, uint32_t seg);     /* "seg-web-shop" */
const char *seg_name(const segmentation *s, uint32_t seg);   /* "web-shop" */
const char *seg_why(const segmentation *s, uint32_t seg);    /* one-paragraph explanation */
unsigned seg_flags(const segmentation *s, uint32_t seg);
/* The member blocks; *n gets the count. */
const cidr_block *seg_blocks(const segmentation *s, uint32_t seg, uint32_t *n);

/*
 * Name tokens of a host name, for naming and matching: the first label of
 * a DNS name, split at '-', '_' and '.', lower-cased, trailing digits
 * removed, empty and all-digit tokens dropped.  Writes up to max tokens
 * of at most 31 bytes into tok; returns the count.
 */
int seg_name_tokens(const char *name, char tok[][32], int max);

#endif
