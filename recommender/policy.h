/*
 * policy.h - segscope.policy/v1 documents: strict reader and matcher.
 *
 * The format (see segscope.1 and shared/scenarios/POLICY.md):
 *
 *   { "schema": "segscope.policy/v1",
 *     "segments": [ {"id": "seg-web", "name": "...", "members": ["10.1.2.3", "10.1.2.0/28"]} ],
 *     "rules": [ {"src": SEGREF, "dst": SEGREF, "proto": "tcp", "ports": [443, [8000, 8100]]} ],
 *     "default": "deny" }
 *
 * SEGREF is a segment id, "any", "internet" (an address in no RFC 1918 or
 * ULA range and in no segment) or "cidr:PREFIX".  A rule allows
 * connections initiated from src to dst (replies implied); ports omitted
 * or [] mean any port; ICMP ignores ports.  Unknown keys are ignored.
 *
 * policy_parse() validates like the benchmark's scorer: any violation is
 * one line "FILE: where: what is wrong" and no policy.  policy_allows()
 * gives the same verdict as the scorer for every (src, dst, proto, port).
 */
#ifndef SEGSCOPE_POLICY_H
#define SEGSCOPE_POLICY_H

#include <stddef.h>
#include <stdint.h>

#define POLICY_SCHEMA "segscope.policy/v1"

/* An IPv4 or IPv6 prefix; addr has its host bits clear. */
typedef struct policy_prefix {
    uint8_t addr[16];           /* IPv4 in the first 4 bytes */
    uint8_t ipv;                /* 4 or 6 */
    uint8_t len;                /* prefix length */
} policy_prefix;

/* What a SEGREF names. */
enum policy_ref_kind { POLICY_REF_SEG, POLICY_REF_ANY, POLICY_REF_INTERNET, POLICY_REF_CIDR };

/* One end of a rule. */
typedef struct policy_ref {
    int kind;                   /* enum policy_ref_kind */
    int seg;                    /* segment index (POLICY_REF_SEG) */
    policy_prefix cidr;         /* the prefix (POLICY_REF_CIDR) */
} policy_ref;

/* Protocols of a rule; POLICY_ANY matches all three. */
enum policy_proto { POLICY_TCP = 6, POLICY_UDP = 17, POLICY_ICMP = 1, POLICY_ANY = 0 };

/* One allow rule, as read. */
typedef struct policy_rule {
    policy_ref src, dst;        /* the two ends */
    int proto;                  /* enum policy_proto */
    uint16_t (*ports)[2];       /* inclusive [lo, hi] ranges, sorted and merged; NULL = any */
    int n_ports;                /* ranges in ports */
    char *app;                  /* informational, or NULL */
} policy_rule;

typedef struct policy policy;

/*
 * Read and validate a policy from a file ("-" = standard input) or from a
 * string (name is used in messages).  NULL on any error with one line in
 * err: "NAME: where: what".
 */
policy *policy_load(const char *path, char *err, size_t errlen);
policy *policy_parse(const char *text, size_t len, const char *name, char *err, size_t errlen);
/* NULL is fine. */
void policy_free(policy *p);

int policy_n_segments(const policy *p);
const char *policy_segment_id(const policy *p, int seg);
const char *policy_segment_name(const policy *p, int seg);  /* "" when absent */
int policy_n_rules(const policy *p);
const policy_rule *policy_rule_get(const policy *p, int i);

/* The segment holding an address, or -1. */
int policy_segment_of(const policy *p, const uint8_t *addr, int ipv);
/* 1 if the address is RFC 1918 (IPv4) or ULA fc00::/7 (IPv6). */
int policy_addr_private(const uint8_t *addr, int ipv);
/*
 * The first rule that allows a connection from src to dst (proto: IP
 * protocol number; port: destination port, ignored for ICMP), or -1 when
 * the default deny applies.  ICMPv6 counts as ICMP.
 */
int policy_allows(const policy *p, const uint8_t *src, int src_ipv,
                  const uint8_t *dst, int dst_ipv, int proto, int port);

/* Parse "10.1.2.0/28" or "fd00::5" strictly (no host bits). 0 or -1. */
int policy_prefix_parse(const char *s, policy_prefix *out);
/* 1 if the prefix contains the address. */
int policy_prefix_contains(const policy_prefix *p, const uint8_t *addr, int ipv);
/* Prefix as text ("10.1.2.0/28"; a full-length prefix without "/N"). */
const char *policy_prefix_str(const policy_prefix *p, char *buf, size_t len);

#endif
