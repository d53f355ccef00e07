/*
 * export_ipt.c - a policy as iptables-restore / ip6tables-restore input
 * (see export.h).  No ipset: members are expanded into -s/-d.
 *
 * Layout (the filter table is replaced as a whole when restored):
 *
 *   FORWARD     policy DROP; established/related accepted; jump SEGSCOPE
 *   SEGSCOPE    rules whose source is "any" or a cidr: expanded here;
 *               -s <block> -j SS-S<n> for each block of each source
 *               segment; -j SS-FROMINET when a rule's source is "internet"
 *   SS-S<n>     the rules of source segment n, one line per destination
 *               block (and service chunk)
 *   SS-I<r>     rule r's destination is "internet": RETURN for the private
 *               ranges and every segment block, then ACCEPT
 *   SS-FROMINET RETURN for private ranges and segment blocks (the source is
 *               not the Internet), then the rules from "internet"
 *
 * All verdicts are ACCEPT (or RETURN to keep looking), so the order of
 * lines does not change what is allowed: the union of the rules, as in
 * the policy.  multiport takes 15 ports (a range counts two): longer
 * lists are split.  Comments (--comment, 255 bytes) name the rule, the
 * pair and the service, escaped by esc_ipt_comment().
 */
#include <string.h>

#include "reports/escape.h"
#include "reports/export.h"

#define IPT_COMMENT_MAX 255     /* bytes the comment match keeps */
#define MPORT_MAX 15            /* ports one multiport match takes */

/* One address family's view. */
typedef struct ipt {
    FILE *out;                  /* where to write */
    const export_policy *x;     /* the policy with its members */
    const policy *p;            /* the same, validated */
    int fam;                    /* 4 or 6 */
} ipt;

static void
comment(ipt *w, int i)
{
    char b[600];
    fputs(" -m comment --comment \"", w->out);
    esc_ipt_comment(w->out, export_rule_text(w->x, i, b, sizeof(b)), IPT_COMMENT_MAX);
    fputc('"', w->out);
}

/*
 * Write "-A CHAIN <pre> <service> <comment> -j TARGET" for rule i, one
 * line per chunk of ports (and TCP/UDP/ICMP for protocol "any").
 */
static void
service_lines(ipt *w, const char *chain, const char *pre, int i, const char *target)
{
    const policy_rule *ru = policy_rule_get(w->p, i);
    const char *icmp = w->fam == 4 ? "icmp" : "ipv6-icmp";
    const char *protos[3];
    int np = 0;
    if (ru->proto == POLICY_TCP) protos[np++] = "tcp";
    else if (ru->proto == POLICY_UDP) protos[np++] = "udp";
    else if (ru->proto == POLICY_ICMP) protos[np++] = icmp;
    else if (ru->n_ports) { protos[np++] = "tcp"; protos[np++] = "udp"; protos[np++] = icmp; }
    else protos[np++] = NULL;                   /* every protocol */
    for (int q = 0; q < np; q++) {
        int ported = protos[q] && (!strcmp(protos[q], "tcp") || !strcmp(protos[q], "udp")) && ru->n_ports;
        int k = 0;
        do {
            fprintf(w->out, "-A %s %s", chain, pre);
            if (protos[q])
                fprintf(w->out, "-p %s ", protos[q]);
            if (ported) {
                if (ru->n_ports == 1 && ru->ports[0][0] == ru->ports[0][1]) {
                    fprintf(w->out, "--dport %u ", ru->ports[0][0]);
                    k = 1;
                } else {
                    fputs("-m multiport --dports ", w->out);
                    int used = 0, first = 1;
                    while (k < ru->n_ports) {
                        int cost = ru->ports[k][0] == ru->ports[k][1] ? 1 : 2;
                        if (used + cost > MPORT_MAX)
                            break;
                        if (ru->ports[k][0] == ru->ports[k][1])
                            fprintf(w->out, "%s%u", first ? "" : ",", ru->ports[k][0]);
                        else
                            fprintf(w->out, "%s%u:%u", first ? "" : ",", ru->ports[k][0], ru->ports[k][1]);
                        used += cost;
                        first = 0;
                        k++;
                    }
                    fputc(' ', w->out);
                }
            }
            comment(w, i);
            fprintf(w->out, " -j %s\n", target);
        } while (ported && k < ru->n_ports);
    }
}

/* The blocks of a reference in this family (segments), or one prefix (cidr). */
static const policy_prefix *
blocks(ipt *w, const policy_ref *r, size_t *n)
{
    if (r->kind == POLICY_REF_SEG)
        return export_members(w->x, r->seg, w->fam, n);
    if (r->kind == POLICY_REF_CIDR) {
        *n = r->cidr.ipv == w->fam;
        return &r->cidr;
    }
    *n = 0;
    return NULL;
}

/* Lines of rule i in chain, with "pre" already matching the source. */
static void
dst_lines(ipt *w, const char *chain, const char *pre, int i)
{
    const policy_rule *ru = policy_rule_get(w->p, i);
    char b[64], m[160];
    if (ru->dst.kind == POLICY_REF_ANY) {
        service_lines(w, chain, pre, i, "ACCEPT");
    } else if (ru->dst.kind == POLICY_REF_INTERNET) {
        char target[32];
        snprintf(target, sizeof(target), "SS-I%d", i + 1);
        service_lines(w, chain, pre, i, target);
    } else {
        size_t n;
        const policy_prefix *v = blocks(w, &ru->dst, &n);
        for (size_t k = 0; k < n; k++) {
            snprintf(m, sizeof(m), "%s-d %s ", pre, policy_prefix_str(&v[k], b, sizeof(b)));
            service_lines(w, chain, m, i, "ACCEPT");
        }
    }
}

/* RETURN lines for the private ranges and every segment block (dir "-s" or "-d"). */
static void
not_internet(ipt *w, const char *chain, const char *dir)
{
    char b[64];
    static const char *const priv4[] = { "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", NULL };
    static const char *const priv6[] = { "fc00::/7", NULL };
    for (const char *const *p = w->fam == 4 ? priv4 : priv6; *p; p++)
        fprintf(w->out, "-A %s %s %s -j RETURN\n", chain, dir, *p);
    for (int s = 0; s < policy_n_segments(w->p); s++) {
        size_t n;
        const policy_prefix *v = export_members(w->x, s, w->fam, &n);
        for (size_t k = 0; k < n; k++)
            fprintf(w->out, "-A %s %s %s -j RETURN\n", chain, dir, policy_prefix_str(&v[k], b, sizeof(b)));
    }
}

static int
ipt_write_fam(FILE *out, const export_policy *x, int fam)
{
    ipt w = { .out = out, .x = x, .p = export_get_policy(x), .fam = fam };
    int ns = policy_n_segments(w.p), nr = policy_n_rules(w.p);
    char b[64], chain[32], pre[160];
    fprintf(out, "# segscope.policy/v1 exported by segscope " PACKAGE_VERSION " from ");
    esc_text(out, export_source(x));
    fprintf(out, "\n# %s: %d segments, %d allow rules, default deny (forwarded traffic).\n"
                 "# Load with: %s < FILE (replaces the filter table).\n",
            fam == 4 ? "IPv4" : "IPv6", ns, nr, fam == 4 ? "iptables-restore" : "ip6tables-restore");
    for (int s = 0; s < ns; s++) {
        fprintf(out, "# SS-S%d: segment ", s + 1);
        esc_text(out, policy_segment_id(w.p, s));
        fputc('\n', out);
    }
    fputs("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:SEGSCOPE - [0:0]\n", out);
    /* which chains exist */
    int from_inet = 0;
    for (int s = 0; s < ns; s++) {
        int used = 0;
        size_t n;
        export_members(x, s, fam, &n);
        for (int i = 0; i < nr && n; i++) {
            const policy_rule *ru = policy_rule_get(w.p, i);
            used |= ru->src.kind == POLICY_REF_SEG && ru->src.seg == s;
        }
        if (used)
            fprintf(out, ":SS-S%d - [0:0]\n", s + 1);
    }
    for (int i = 0; i < nr; i++) {
        const policy_rule *ru = policy_rule_get(w.p, i);
        if (ru->dst.kind == POLICY_REF_INTERNET)
            fprintf(out, ":SS-I%d - [0:0]\n", i + 1);
        from_inet |= ru->src.kind == POLICY_REF_INTERNET;
    }
    if (from_inet)
        fputs(":SS-FROMINET - [0:0]\n", out);
    fputs("-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n"
          "-A FORWARD -m conntrack --ctstate INVALID -j DROP\n"
          "-A FORWARD -j SEGSCOPE\n", out);
    /* sources that are not segments */
    for (int i = 0; i < nr; i++) {
        const policy_rule *ru = policy_rule_get(w.p, i);
        if (ru->src.kind == POLICY_REF_ANY) {
            dst_lines(&w, "SEGSCOPE", "", i);
        } else if (ru->src.kind == POLICY_REF_CIDR && ru->src.cidr.ipv == fam) {
            snprintf(pre, sizeof(pre), "-s %s ", policy_prefix_str(&ru->src.cidr, b, sizeof(b)));
            dst_lines(&w, "SEGSCOPE", pre, i);
        }
    }
    /* dispatch by source segment */
    for (int s = 0; s < ns; s++) {
        int used = 0;
        for (int i = 0; i < nr; i++) {
            const policy_rule *ru = policy_rule_get(w.p, i);
            used |= ru->src.kind == POLICY_REF_SEG && ru->src.seg == s;
        }
        size_t n;
        const policy_prefix *v = export_members(x, s, fam, &n);
        if (!used || !n)
            continue;
        for (size_t k = 0; k < n; k++)
            fprintf(out, "-A SEGSCOPE -s %s -j SS-S%d\n", policy_prefix_str(&v[k], b, sizeof(b)), s + 1);
        snprintf(chain, sizeof(chain), "SS-S%d", s + 1);
        for (int i = 0; i < nr; i++) {
            const policy_rule *ru = policy_rule_get(w.p, i);
            if (ru->src.kind == POLICY_REF_SEG && ru->src.seg == s)
                dst_lines(&w, chain, "", i);
        }
    }
    if (from_inet) {
        fputs("-A SEGSCOPE -j SS-FROMINET\n", out);
        not_internet(&w, "SS-FROMINET", "-s");
        for (int i = 0; i < nr; i++)
            if (policy_rule_get(w.p, i)->src.kind == POLICY_REF_INTERNET)
                dst_lines(&w, "SS-FROMINET", "", i);
    }
    for (int i = 0; i < nr; i++) {
        if (policy_rule_get(w.p, i)->dst.kind != POLICY_REF_INTERNET)
            continue;
        snprintf(chain, sizeof(chain), "SS-I%d", i + 1);
        not_internet(&w, chain, "-d");
        fprintf(out, "-A %s", chain);
        comment(&w, i);
        fputs(" -j ACCEPT\n", out);
    }
    fputs("COMMIT\n", out);
    return ferror(out) ? -1 : 0;
}

static int
ipt_write(FILE *out, const export_policy *x)
{
    return ipt_write_fam(out, x, 4);
}

static int
ip6t_write(FILE *out, const export_policy *x)
{
    return ipt_write_fam(out, x, 6);
}

const export_format export_fmt_ipt = {
    .name = "iptables",
    .desc = "IPv4 rules for iptables-restore (no ipset; a chain per source segment)",
    .write = ipt_write,
};

const export_format export_fmt_ip6t = {
    .name = "ip6tables",
    .desc = "IPv6 rules for ip6tables-restore",
    .write = ip6t_write,
};
