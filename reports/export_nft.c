/*
 * export_nft.c - a policy as an nftables script (see export.h).
 *
 * Layout of the script:
 *
 *   table inet segscope            (created if missing, then deleted and
 *   delete table inet segscope      defined again: one atomic replacement)
 *   table inet segscope {
 *     set private4/private6        RFC 1918 and ULA, for "internet"
 *     set segments4/segments6      every segment's members, for "internet"
 *     set seg<N>_<id>_v4/_v6       one per segment and family with members
 *     chain forward { policy drop; ct state established,related accept;
 *                     one rule per policy rule and address family }
 *   }
 *
 * A rule is written for each family both of its ends can match (a
 * segment without IPv6 members gets no IPv6 rule); a rule between "any"
 * and "any" is family-less.  ICMP is icmp for IPv4 and ipv6-icmp for
 * IPv6, as policy.h counts ICMPv6 as ICMP.  Protocol "any" with ports
 * matches TCP and UDP on those ports (th dport) and ICMP.  Set names are
 * built from the segment's index and an identifier-safe copy of its id;
 * everything else from the document is in comments, escaped.
 */
#include <string.h>

#include "reports/escape.h"
#include "reports/export.h"

#define NFT_COMMENT_MAX 128     /* bytes nft accepts in a rule comment */

static void
set_name(FILE *out, const export_policy *x, int seg, int fam)
{
    fprintf(out, "seg%d_", seg + 1);
    esc_ident(out, policy_segment_id(export_get_policy(x), seg), 24);
    fprintf(out, "_v%d", fam);
}

static void
elements(FILE *out, const policy_prefix *v, size_t n)
{
    char b[64];
    fputs(" elements = { ", out);
    for (size_t k = 0; k < n; k++) {
        if (k)
            fputs(k % 6 ? ", " : ",\n\t\t\t", out);
        fputs(policy_prefix_str(&v[k], b, sizeof(b)), out);
    }
    fputs(" }", out);
}

/* Can reference r match addresses of family fam? */
static int
ref_has(const export_policy *x, const policy_ref *r, int fam)
{
    size_t n;
    switch (r->kind) {
    case POLICY_REF_SEG: export_members(x, r->seg, fam, &n); return n > 0;
    case POLICY_REF_CIDR: return r->cidr.ipv == fam;
    default: return 1;
    }
}

/* The match of one end ("saddr"/"daddr") in family fam (nothing for "any"). */
static void
ref_match(FILE *out, const export_policy *x, const policy_ref *r, int fam, const char *dir)
{
    const char *ip = fam == 4 ? "ip" : "ip6";
    char b[64];
    switch (r->kind) {
    case POLICY_REF_SEG:
        fprintf(out, "%s %s @", ip, dir);
        set_name(out, x, r->seg, fam);
        fputc(' ', out);
        break;
    case POLICY_REF_INTERNET:
        fprintf(out, "%s %s != @private%d %s %s != @segments%d ", ip, dir, fam, ip, dir, fam);
        break;
    case POLICY_REF_CIDR:
        fprintf(out, "%s %s %s ", ip, dir, policy_prefix_str(&r->cidr, b, sizeof(b)));
        break;
    default:
        break;
    }
}

static void
ports(FILE *out, const policy_rule *ru)
{
    fputs("{ ", out);
    for (int k = 0; k < ru->n_ports; k++) {
        if (k)
            fputs(", ", out);
        if (ru->ports[k][0] == ru->ports[k][1])
            fprintf(out, "%u", ru->ports[k][0]);
        else
            fprintf(out, "%u-%u", ru->ports[k][0], ru->ports[k][1]);
    }
    fputs(" }", out);
}

static void
comment(FILE *out, const export_policy *x, int i)
{
    char b[600];
    fputs(" comment \"", out);
    esc_nft_comment(out, export_rule_text(x, i, b, sizeof(b)), NFT_COMMENT_MAX);
    fputs("\"\n", out);
}

/* One rule's lines for family fam (0: family-less, "any" to "any"). */
static void
rule_lines(FILE *out, const export_policy *x, int i, int fam)
{
    const policy_rule *ru = policy_rule_get(export_get_policy(x), i);
    const char *icmp = fam == 4 ? "icmp" : fam == 6 ? "ipv6-icmp" : "{ icmp, ipv6-icmp }";
    /* the service parts this rule needs: up to two lines */
    for (int part = 0; part < 2; part++) {
        if (part == 1 && !(ru->proto == POLICY_ANY && ru->n_ports))
            break;
        fputc('\t', out);
        fputc('\t', out);
        if (fam) {
            ref_match(out, x, &ru->src, fam, "saddr");
            ref_match(out, x, &ru->dst, fam, "daddr");
        }
        switch (ru->proto) {
        case POLICY_TCP:
        case POLICY_UDP:
            if (ru->n_ports) {
                fprintf(out, "%s dport ", ru->proto == POLICY_TCP ? "tcp" : "udp");
                ports(out, ru);
                fputc(' ', out);
            } else {
                fprintf(out, "meta l4proto %s ", ru->proto == POLICY_TCP ? "tcp" : "udp");
            }
            break;
        case POLICY_ICMP:
            fprintf(out, "meta l4proto %s ", icmp);
            break;
        default:
            if (ru->n_ports && part == 0) {
                fputs("meta l4proto { tcp, udp } th dport ", out);
                ports(out, ru);
                fputc(' ', out);
            } else if (ru->n_ports) {
                fprintf(out, "meta l4proto %s ", icmp);
            } else if (!fam) {
                fputs("meta nfproto { ipv4, ipv6 } ", out);
            }
            break;
        }
        fputs("accept", out);
        comment(out, x, i);
    }
}

static int
nft_write(FILE *out, const export_policy *x)
{
    const policy *p = export_get_policy(x);
    int ns = policy_n_segments(p), nr = policy_n_rules(p);
    char b[600];
    fputs("#!/usr/sbin/nft -f\n# segscope.policy/v1 exported by segscope " PACKAGE_VERSION " from ", out);
    esc_text(out, export_source(x));
    fprintf(out, "\n# %d segments, %d allow rules, default deny (forwarded traffic).\n"
                 "# Load with: nft -f FILE (replaces the table inet segscope only).\n\n", ns, nr);
    fputs("table inet segscope\ndelete table inet segscope\n\ntable inet segscope {\n", out);
    fputs("\t# internal address space (RFC 1918, ULA): \"internet\" is outside it and outside every segment\n"
          "\tset private4 { type ipv4_addr; flags interval; elements = { 10.0.0.0/8, 172.16.0.0/12, "
          "192.168.0.0/16 } }\n"
          "\tset private6 { type ipv6_addr; flags interval; elements = { fc00::/7 } }\n", out);
    for (int fam = 4; fam <= 6; fam += 2) {
        fprintf(out, "\tset segments%d { type %s; flags interval; auto-merge;", fam,
                fam == 4 ? "ipv4_addr" : "ipv6_addr");
        size_t total = 0;
        for (int s = 0; s < ns; s++) {
            size_t n;
            export_members(x, s, fam, &n);
            total += n;
        }
        if (total) {
            fputs(" elements = { ", out);
            size_t k = 0;
            for (int s = 0; s < ns; s++) {
                size_t n;
                const policy_prefix *v = export_members(x, s, fam, &n);
                for (size_t j = 0; j < n; j++, k++) {
                    if (k)
                        fputs(k % 6 ? ", " : ",\n\t\t\t", out);
                    fputs(policy_prefix_str(&v[j], b, sizeof(b)), out);
                }
            }
            fputs(" }", out);
        }
        fputs(" }\n", out);
    }
    for (int s = 0; s < ns; s++) {
        fprintf(out, "\n\t# segment %d: ", s + 1);
        esc_text(out, policy_segment_id(p, s));
        if (*policy_segment_name(p, s)) {
            fputs(" (", out);
            esc_text(out, policy_segment_name(p, s));
            fputc(')', out);
        }
        fputc('\n', out);
        for (int fam = 4; fam <= 6; fam += 2) {
            size_t n;
            const policy_prefix *v = export_members(x, s, fam, &n);
            if (!n)
                continue;
            fputs("\tset ", out);
            set_name(out, x, s, fam);
            fprintf(out, " { type %s; flags interval; auto-merge;", fam == 4 ? "ipv4_addr" : "ipv6_addr");
            elements(out, v, n);
            fputs(" }\n", out);
        }
    }
    fputs("\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n"
          "\t\tct state established,related accept\n\t\tct state invalid drop\n", out);
    for (int i = 0; i < nr; i++) {
        const policy_rule *ru = policy_rule_get(p, i);
        size_t nn;
        const char *const *names = export_rule_names(x, i, &nn);
        fputs("\t\t# ", out);
        esc_text(out, export_rule_text(x, i, b, sizeof(b)));
        fputc('\n', out);
        if (nn) {
            fputs("\t\t# destination names seen:", out);
            for (size_t k = 0; k < nn && k < 8; k++) {
                fputc(' ', out);
                esc_text(out, names[k]);
            }
            fputs(nn > 8 ? " ...\n" : "\n", out);
        }
        if (ru->src.kind == POLICY_REF_ANY && ru->dst.kind == POLICY_REF_ANY) {
            rule_lines(out, x, i, 0);
            continue;
        }
        int any = 0;
        for (int fam = 4; fam <= 6; fam += 2)
            if (ref_has(x, &ru->src, fam) && ref_has(x, &ru->dst, fam)) {
                rule_lines(out, x, i, fam);
                any = 1;
            }
        if (!any)
            fputs("\t\t# (no addresses: a segment of this rule has no members in a family both ends share)\n", out);
    }
    fputs("\t}\n}\n", out);
    return ferror(out) ? -1 : 0;
}

const export_format export_fmt_nft = {
    .name = "nftables",
    .desc = "an nftables script (nft -f FILE): table inet segscope, a set per segment",
    .write = nft_write,
};
