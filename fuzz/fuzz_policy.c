/*
 * fuzz_policy.c - fuzz the policy reader (recommender/policy.c): the
 * segscope.policy/v1 JSON that "segscope check --policy" loads.
 *
 * The input is the document.  policy_parse() must either give a policy
 * or one line of error naming the input ("fuzz: ..."); a policy it gives
 * must answer every query: each segment's id, each rule's port ranges
 * sorted, merged and within 0..65535, policy_allows() for a few address
 * pairs, and each rule's CIDR printing back to a prefix that parses to
 * itself.  The first line of the input is also tried as a prefix.
 * Seeds: fuzz/corpus/policy/ (shared scenarios' policies, cut down);
 * dictionary: fuzz/policy.dict.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "recommender/policy.h"

/* A CIDR prints to text that parses back to the same prefix. */
static void
fz_prefix_roundtrip(const policy_prefix *pp)
{
    char buf[64];
    policy_prefix back;
    FUZZ_ASSERT(pp->ipv == 4 || pp->ipv == 6);
    FUZZ_ASSERT(pp->len <= (pp->ipv == 4 ? 32 : 128));
    policy_prefix_str(pp, buf, sizeof buf);
    FUZZ_ASSERT(policy_prefix_parse(buf, &back) == 0);
    FUZZ_ASSERT(back.ipv == pp->ipv && back.len == pp->len &&
                memcmp(back.addr, pp->addr, pp->ipv == 4 ? 4 : 16) == 0);
}

int
fuzz_policy(const uint8_t *data, size_t size)
{
    char err[512];
    static const uint8_t a4[4][16] = {
        { 10, 1, 2, 3 }, { 192, 168, 1, 1 }, { 8, 8, 8, 8 }, { 172, 16, 0, 1 },
    };
    static const uint8_t a6[2][16] = {
        { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5 },
        { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
    };

    /* The first line as a prefix, alone. */
    char line[128];
    size_t ll = 0;
    while (ll < size && ll < sizeof line - 1 && data[ll] != '\n')
        ll++;
    memcpy(line, data, ll);
    line[ll] = '\0';
    policy_prefix pp;
    if (policy_prefix_parse(line, &pp) == 0)
        fz_prefix_roundtrip(&pp);

    err[0] = '\0';
    policy *p = policy_parse((const char *)data, size, "fuzz", err, sizeof err);
    if (!p) {
        FUZZ_ASSERT(strncmp(err, "fuzz: ", 6) == 0 && strchr(err, '\n') == NULL);
        return 0;
    }
    int ns = policy_n_segments(p), nr = policy_n_rules(p);
    FUZZ_ASSERT(ns >= 0 && nr >= 0);
    for (int i = 0; i < ns; i++) {
        FUZZ_ASSERT(policy_segment_id(p, i) != NULL && policy_segment_id(p, i)[0] != '\0');
        FUZZ_ASSERT(policy_segment_name(p, i) != NULL);
    }
    for (int i = 0; i < nr; i++) {
        const policy_rule *r = policy_rule_get(p, i);
        FUZZ_ASSERT(r != NULL);
        const policy_ref *ref[2] = { &r->src, &r->dst };
        for (int k = 0; k < 2; k++) {
            if (ref[k]->kind == POLICY_REF_SEG)
                FUZZ_ASSERT(ref[k]->seg >= 0 && ref[k]->seg < ns);
            else if (ref[k]->kind == POLICY_REF_CIDR)
                fz_prefix_roundtrip(&ref[k]->cidr);
        }
        FUZZ_ASSERT(r->n_ports >= 0 && (r->n_ports == 0 || r->ports != NULL));
        for (int k = 0; k < r->n_ports; k++) {
            FUZZ_ASSERT(r->ports[k][0] <= r->ports[k][1]);
            if (k > 0)   /* sorted and merged: no overlap, no adjacency */
                FUZZ_ASSERT(r->ports[k][0] > r->ports[k - 1][1]);
        }
    }
    for (int s = 0; s < 6; s++)
        for (int d = 0; d < 6; d++) {
            const uint8_t *sa = s < 4 ? a4[s] : a6[s - 4], *da = d < 4 ? a4[d] : a6[d - 4];
            int sv = s < 4 ? 4 : 6, dv = d < 4 ? 4 : 6;
            static const int protos[] = { 6, 17, 1, 58, 132 };
            for (int k = 0; k < 5; k++) {
                int rule = policy_allows(p, sa, sv, da, dv, protos[k], 443);
                FUZZ_ASSERT(rule >= -1 && rule < nr);
            }
            int seg = policy_segment_of(p, sa, sv);
            FUZZ_ASSERT(seg >= -1 && seg < ns);
        }
    policy_free(p);
    return 0;
}

FUZZ_ENTRY(fuzz_policy)
