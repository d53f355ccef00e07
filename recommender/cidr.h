/*
 * cidr.h - address blocks for segment members.
 *
 * Given every known internal address and the segment that owns it (or
 * -1 for an address that belongs to no segment but must not be covered),
 * cidr_blocks() returns prefixes that cover each segment's addresses and
 * widen them where the evidence supports it, so that a new host in the
 * same block falls into the segment:
 *
 *   - a block never holds an address owned by another segment (or by -1),
 *     so the blocks of different segments never overlap;
 *   - a block never spans more than one /24 (IPv4) or /64 (IPv6);
 *   - a block is "supported" when it is small (at most min_block
 *     addresses) or well filled (at least one owned address per `density`
 *     addresses); otherwise it is split in halves and each half is
 *     judged again, halves without known addresses being dropped;
 *   - except in a pool: when one segment holds at least half of the known
 *     addresses of a /24 (/64) and at least pool_min of them (a DHCP pool
 *     of workstations, say), the empty parts of that /24 go to it too.
 *
 * How it works: addresses are sorted; for each /24 (/64) with known
 * addresses, a recursive descent over the binary prefix tree visits only
 * subtrees that contain addresses (found by binary search in the sorted
 * array), emitting a subtree's prefix as soon as it is pure (one owner)
 * and supported.  Cost O(n log n) for n addresses.
 */
#ifndef SEGSCOPE_CIDR_H
#define SEGSCOPE_CIDR_H

#include <stddef.h>
#include <stdint.h>

#include "recommender/policy.h"

/* One known address and its owner. */
typedef struct cidr_addr {
    uint8_t addr[16];           /* IPv4 in the first 4 bytes, rest zero */
    uint8_t ipv;                /* 4 or 6 */
    int owner;                  /* segment index, or -1: belongs to none, never covered */
} cidr_addr;

/* One block of a segment. */
typedef struct cidr_block {
    policy_prefix pfx;          /* the block */
    int owner;                  /* its segment */
    uint32_t hosts;             /* known addresses it holds */
} cidr_block;

/* Knobs (cidr_cfg_default: min_block 64, density 4, pool_min 8). */
typedef struct cidr_cfg {
    uint32_t min_block;         /* a pure block of at most this many addresses is always supported */
    uint32_t density;           /* or one owned address per this many addresses */
    uint32_t pool_min;          /* owned addresses that make a /24 a pool (0 = never) */
    int exact;                  /* 1: no widening, every address its own /32 (/128) */
} cidr_cfg;

void cidr_cfg_default(cidr_cfg *cfg);

/*
 * Compute the blocks of n addresses (the array is sorted in place).
 * Duplicated addresses with different owners are treated as owned by -1.
 * Returns the number of blocks in *out (malloc'ed, caller frees), or -1 on OOM.
 * Blocks come sorted by address.
 */
long cidr_blocks(cidr_addr *addrs, size_t n, const cidr_cfg *cfg, cidr_block **out);

#endif
