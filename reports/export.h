/*
 * export.h - a segscope.policy/v1 policy as rules a firewall loads.
 *
 * export_load() reads a policy document, validates it exactly as
 * "segscope check" does (recommender/policy.h) and keeps, per segment,
 * its member prefixes by address family, and per rule the destination
 * names a recommendation lists (for comments).  The writers are records
 * ({name, desc, write}) like the report's formats:
 *
 *   nft        an nftables script: one table "inet segscope" (replaced
 *              atomically when loaded with nft -f), a named interval set
 *              per segment and family, a forward chain with policy drop,
 *              established/related accepted, one rule per policy rule and
 *              family with a comment naming the pair and the service
 *   iptables   iptables-restore input for IPv4 (no ipset: a chain per
 *              source segment, members expanded into -s/-d)
 *   ip6tables  the same for IPv6, for ip6tables-restore
 *   json       the policy normalised: only the format's keys, ports
 *              merged, members as prefixes
 *
 * "internet" (an address in no RFC 1918/ULA range and in no segment) is
 * written explicitly: nft matches "not in the private ranges and not in
 * any segment"; iptables returns from a chain for those, then accepts.
 * Strings from the document (segment ids and names, destination names:
 * they may come from traffic) reach the output only in comments, through
 * esc_nft_comment()/esc_ipt_comment()/esc_text(); set and chain names are
 * built from indices.
 */
#ifndef SEGSCOPE_EXPORT_H
#define SEGSCOPE_EXPORT_H

#include <stddef.h>
#include <stdio.h>

#include "recommender/policy.h"

typedef struct export_policy export_policy;

/* Read and validate path ("-" = stdin). NULL with one line in err ("FILE: where: what"). */
export_policy *export_load(const char *path, char *err, size_t errlen);
/* The same from text (name is used in messages). */
export_policy *export_parse(const char *text, size_t len, const char *name, char *err, size_t errlen);
/* NULL is fine. */
void export_free(export_policy *x);

const policy *export_get_policy(const export_policy *x);
const char *export_source(const export_policy *x);
/* A segment's members of one family (4 or 6); *n gets the count. */
const policy_prefix *export_members(const export_policy *x, int seg, int ipv, size_t *n);
/* Destination names listed with a rule (dst_names); *n gets the count. */
const char *const *export_rule_names(const export_policy *x, int rule, size_t *n);
/* "R3: seg-a -> seg-b tcp/22,80 SSH" for comments (untrusted: escape it). */
const char *export_rule_text(const export_policy *x, int rule, char *buf, size_t len);

typedef struct export_format {
    const char *name;           /* --format value */
    const char *desc;           /* one line for --help */
    int (*write)(FILE *out, const export_policy *x); /* 0, or -1 on a write error */
} export_format;

extern const export_format export_fmt_nft, export_fmt_ipt, export_fmt_ip6t, export_fmt_json;
/* The format named name ("nftables" or "nft", "iptables", "ip6tables", "json"), or NULL. */
const export_format *export_find_format(const char *name);

#endif
