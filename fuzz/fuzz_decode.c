/*
 * fuzz_decode.c - fuzz the packet decoder (capture/decode.c).
 *
 * Input: one byte that picks the link type (fuzz_decode_links[byte % N]),
 * then the frame.  The frame is decoded twice (decoding is pure, so both
 * results must be equal) and a DEC_OK result is checked against what
 * decode.h promises: every pointer in pkt_meta lies inside the frame, the
 * layers nest (l3 <= l4 <= payload), counts stay within their arrays.
 * Seeds: fuzz/corpus/decode/, made by fuzz/seed.sh from real captures.
 */
#include <string.h>

#include "capture/decode.h"
#include "fuzz/fuzz.h"
#include "reports/flowfmt.h"

/* Every link type dec_packet() handles, plus one it does not (147, USER0). */
static const int fuzz_decode_links[] = {
    DEC_LINK_ETHERNET, DEC_LINK_LINUX_SLL, DEC_LINK_LINUX_SLL2, DEC_LINK_RAW,
    12, 14, DEC_LINK_IPV4, DEC_LINK_IPV6, DEC_LINK_NULL, DEC_LINK_LOOP,
    DEC_LINK_PPP, DEC_LINK_C_HDLC, DEC_LINK_NFLOG, 147,
};
#define FUZZ_N_LINKS (sizeof(fuzz_decode_links) / sizeof(fuzz_decode_links[0]))

/* 1 if [p, p+n) lies inside [lo, hi). */
static int
fuzz_inside(const uint8_t *p, size_t n, const uint8_t *lo, const uint8_t *hi)
{
    return p >= lo && p <= hi && n <= (size_t)(hi - p);
}

static void
fuzz_decode_check(const pkt_meta *m, const uint8_t *frame, size_t len)
{
    const uint8_t *end = frame + len;
    char buf[64];

    FUZZ_ASSERT(m->ip_version == 4 || m->ip_version == 6);
    FUZZ_ASSERT(m->ip_layer >= 1);
    FUZZ_ASSERT(m->n_vlan <= DEC_MAX_VLAN);
    FUZZ_ASSERT(m->frag <= DEC_FRAG_LATER);
    FUZZ_ASSERT(m->tunnel <= DEC_TUN_PPPOE);
    FUZZ_ASSERT(m->l3 != NULL && fuzz_inside(m->l3, m->l3_len, frame, end));
    if (m->ip_version == 4) {
        static const uint8_t zero[12];
        FUZZ_ASSERT(memcmp(m->src + 4, zero, 12) == 0 && memcmp(m->dst + 4, zero, 12) == 0);
    }
    if (m->frag == DEC_FRAG_LATER)
        FUZZ_ASSERT(m->l4 == NULL && !m->has_ports);
    if (m->l4) {
        FUZZ_ASSERT(m->l4 >= m->l3 && fuzz_inside(m->l4, m->l4_len, m->l3, m->l3 + m->l3_len));
    }
    if (m->payload) {
        FUZZ_ASSERT(m->l4 != NULL && m->payload >= m->l4);
        FUZZ_ASSERT(fuzz_inside(m->payload, m->payload_len, m->l4, m->l4 + m->l4_len));
    }
    FUZZ_ASSERT(flowfmt_addr(m->src, m->ip_version, buf, sizeof buf)[0] != '\0');
    FUZZ_ASSERT(flowfmt_addr(m->dst, m->ip_version, buf, sizeof buf)[0] != '\0');
}

/* 1 if two results are the same, field by field (padding is not compared). */
static int
fuzz_meta_equal(const pkt_meta *a, const pkt_meta *b)
{
    return a->ip_version == b->ip_version && a->proto == b->proto &&
           a->ip_layer == b->ip_layer && a->n_vlan == b->n_vlan &&
           memcmp(a->vlan, b->vlan, a->n_vlan * sizeof a->vlan[0]) == 0 &&
           a->has_vni == b->has_vni && (!a->has_vni || a->vni == b->vni) &&
           a->tunnel == b->tunnel && a->frag == b->frag && a->tcp_flags == b->tcp_flags &&
           memcmp(a->src, b->src, 16) == 0 && memcmp(a->dst, b->dst, 16) == 0 &&
           a->sport == b->sport && a->dport == b->dport &&
           a->icmp_type == b->icmp_type && a->icmp_code == b->icmp_code &&
           a->has_ports == b->has_ports && a->has_mac == b->has_mac &&
           (!a->has_mac || (memcmp(a->src_mac, b->src_mac, 6) == 0 &&
                            memcmp(a->dst_mac, b->dst_mac, 6) == 0)) &&
           a->ip_id == b->ip_id && a->l3 == b->l3 && a->l3_len == b->l3_len &&
           a->l4 == b->l4 && a->l4_len == b->l4_len &&
           a->payload == b->payload && a->payload_len == b->payload_len;
}

int
fuzz_decode(const uint8_t *data, size_t size)
{
    pkt_meta m1, m2;
    dec_status s1, s2;

    if (size < 1)
        return 0;
    int link = fuzz_decode_links[data[0] % FUZZ_N_LINKS];
    const uint8_t *frame = data + 1;
    size_t len = size - 1;

    memset(&m1, 0xAA, sizeof m1);
    s1 = dec_packet(link, frame, len, &m1);
    FUZZ_ASSERT((unsigned)s1 < DEC_STATUS_COUNT);
    FUZZ_ASSERT(strcmp(dec_status_name(s1), "unknown") != 0);
    FUZZ_ASSERT((s1 == DEC_UNSUPPORTED_LINK) == !dec_link_supported(link));
    if (s1 != DEC_OK)
        return 0;
    fuzz_decode_check(&m1, frame, len);

    /* Pure: the same frame decodes the same way whatever *m held before. */
    memset(&m2, 0x55, sizeof m2);
    s2 = dec_packet(link, frame, len, &m2);
    FUZZ_ASSERT(s2 == s1);
    FUZZ_ASSERT(fuzz_meta_equal(&m1, &m2));
    return 0;
}

FUZZ_ENTRY(fuzz_decode)
