/*
 * check_decode.c - unit tests of the packet decoder (capture/decode.c).
 *
 * Frames are built byte by byte here (fb_* and the layer builders below),
 * never taken from captures, so each test says exactly what is on the
 * wire.  The main table (decode_cases) gives, for each frame, the status
 * and every pkt_meta field dec_packet() must produce; other tests cut
 * frames at every byte (the status must name the layer that was cut) and
 * mutate them (nothing may be read outside the frame, checked by copying
 * each frame into a buffer of exactly its size for ASan).
 */
#define _POSIX_C_SOURCE 200809L     /* inet_pton */

#include <check.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/decode.h"

/* ------------------------------------------------------------------ */
/* Frame builder                                                       */
/* ------------------------------------------------------------------ */

typedef struct fb {
    uint8_t b[2048];
    size_t n;
} fb;

static void
fb_u8(fb *f, unsigned v)
{
    ck_assert_uint_lt(f->n, sizeof f->b);
    f->b[f->n++] = (uint8_t)v;
}

static void
fb_be16(fb *f, unsigned v)
{
    fb_u8(f, v >> 8);
    fb_u8(f, v & 0xff);
}

static void
fb_le16(fb *f, unsigned v)
{
    fb_u8(f, v & 0xff);
    fb_u8(f, v >> 8);
}

static void
fb_be32(fb *f, uint32_t v)
{
    fb_be16(f, v >> 16);
    fb_be16(f, v & 0xffff);
}

static void
fb_fill(fb *f, unsigned v, size_t n)
{
    while (n--)
        fb_u8(f, v);
}

static void
fb_set16(fb *f, size_t at, unsigned v)
{
    f->b[at] = (uint8_t)(v >> 8);
    f->b[at + 1] = (uint8_t)v;
}

#define O4S 0x0a000001u     /* outer IPv4 10.0.0.1 -> 10.0.0.2 */
#define O4D 0x0a000002u
#define I4S 0xc0a80101u     /* inner IPv4 192.168.1.1 -> 192.168.1.2 */
#define I4D 0xc0a80102u
#define J4S 0xac100001u     /* third IPv4 172.16.0.1 -> 172.16.0.2 */
#define J4D 0xac100002u

/* Ethernet with MACs 02:..:01 -> 02:..:02 (outer) */
static void
eth(fb *f, unsigned type)
{
    static const uint8_t mac[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };
    for (size_t i = 0; i < 12; i++)
        fb_u8(f, mac[i]);
    fb_be16(f, type);
}

/* Inner Ethernet, MACs 06:..:0a -> 06:..:0b */
static void
ieth(fb *f, unsigned type)
{
    static const uint8_t mac[12] = { 6, 0, 0, 0, 0, 0xb, 6, 0, 0, 0, 0, 0xa };
    for (size_t i = 0; i < 12; i++)
        fb_u8(f, mac[i]);
    fb_be16(f, type);
}

static void
vlan(fb *f, unsigned id, unsigned type)
{
    fb_be16(f, 0xa000 | id);        /* PCP 5 must not leak into the id */
    fb_be16(f, type);
}

/* IPv4 header without options, total length patched by ip4_end(). */
static size_t
ip4(fb *f, unsigned proto, uint32_t src, uint32_t dst)
{
    size_t at = f->n;
    fb_u8(f, 0x45);
    fb_u8(f, 0);
    fb_be16(f, 0);
    fb_be16(f, 0);                  /* id */
    fb_be16(f, 0);                  /* flags, offset */
    fb_u8(f, 64);
    fb_u8(f, proto);
    fb_be16(f, 0);
    fb_be32(f, src);
    fb_be32(f, dst);
    return at;
}

static void
ip4_end(fb *f, size_t at)
{
    fb_set16(f, at + 2, (unsigned)(f->n - at));
}

/* IPv6 header 2001:db8:<net>::1 -> 2001:db8:<net>::2, plen by ip6_end(). */
static void
ip6_addr(fb *f, unsigned net, unsigned host)
{
    fb_be16(f, 0x2001);
    fb_be16(f, 0x0db8);
    fb_be16(f, net);
    fb_fill(f, 0, 9);
    fb_u8(f, host);
}

static size_t
ip6(fb *f, unsigned nh, unsigned net)
{
    size_t at = f->n;
    fb_be32(f, 0x60000000);
    fb_be16(f, 0);
    fb_u8(f, nh);
    fb_u8(f, 64);
    ip6_addr(f, net, 1);
    ip6_addr(f, net, 2);
    return at;
}

static void
ip6_end(fb *f, size_t at)
{
    fb_set16(f, at + 4, (unsigned)(f->n - at - 40));
}

/* TCP, 20 bytes, flags PSH|ACK unless said */
static void
tcpf(fb *f, unsigned sp, unsigned dp, unsigned flags)
{
    fb_be16(f, sp);
    fb_be16(f, dp);
    fb_be32(f, 1);
    fb_be32(f, 2);
    fb_u8(f, 0x50);
    fb_u8(f, flags);
    fb_be16(f, 1000);
    fb_be32(f, 0);
}

static void
tcp(fb *f, unsigned sp, unsigned dp)
{
    tcpf(f, sp, dp, 0x18);
}

static size_t
udp(fb *f, unsigned sp, unsigned dp)
{
    size_t at = f->n;
    fb_be16(f, sp);
    fb_be16(f, dp);
    fb_be16(f, 0);
    fb_be16(f, 0);
    return at;
}

static void
udp_end(fb *f, size_t at)
{
    fb_set16(f, at + 4, (unsigned)(f->n - at));
}

static void
pay(fb *f, size_t n)
{
    fb_fill(f, 0xab, n);
}

/* Complete IP packets. */
static void
v4tcp(fb *f, uint32_t s, uint32_t d, size_t plen)
{
    size_t at = ip4(f, 6, s, d);
    tcp(f, 1234, 80);
    pay(f, plen);
    ip4_end(f, at);
}

static void
v4udp(fb *f, uint32_t s, uint32_t d, size_t plen)
{
    size_t at = ip4(f, 17, s, d), u = udp(f, 5000, 53);
    pay(f, plen);
    udp_end(f, u);
    ip4_end(f, at);
}

static void
v6tcp(fb *f, unsigned net, size_t plen)
{
    size_t at = ip6(f, 6, net);
    tcp(f, 1234, 80);
    pay(f, plen);
    ip6_end(f, at);
}

static void
v6udp(fb *f, unsigned net, size_t plen)
{
    size_t at = ip6(f, 17, net), u = udp(f, 5000, 53);
    pay(f, plen);
    udp_end(f, u);
    ip6_end(f, at);
}

/* ------------------------------------------------------------------ */
/* Frames: link layers                                                 */
/* ------------------------------------------------------------------ */

#define B(name) static void name(fb *f)

B(b_eth_v4_tcp) { eth(f, 0x0800); v4tcp(f, O4S, O4D, 10); }
B(b_eth_v6_udp) { eth(f, 0x86dd); v6udp(f, 1, 12); }
B(b_eth_arp) { eth(f, 0x0806); fb_fill(f, 1, 28); }
B(b_eth_short) { fb_fill(f, 2, 13); }
B(b_eth_pppoe_disc) { eth(f, 0x8863); fb_fill(f, 0x11, 20); }
B(b_eth_len_stp)
{
    eth(f, 38);
    fb_u8(f, 0x42); fb_u8(f, 0x42); fb_u8(f, 0x03);
    fb_fill(f, 0, 35);
}
B(b_eth_len_snap_v4)
{
    eth(f, 0);
    size_t at = f->n;
    fb_u8(f, 0xaa); fb_u8(f, 0xaa); fb_u8(f, 0x03);
    fb_u8(f, 0); fb_u8(f, 0); fb_u8(f, 0); fb_be16(f, 0x0800);
    v4tcp(f, O4S, O4D, 3);
    fb_set16(f, 12, (unsigned)(f->n - at));
    fb_fill(f, 0, 6);               /* padding after the 802.3 length */
}
B(b_eth_len_snap_cdp)
{
    eth(f, 20);
    fb_u8(f, 0xaa); fb_u8(f, 0xaa); fb_u8(f, 0x03);
    fb_u8(f, 0); fb_u8(f, 0); fb_u8(f, 0x0c); fb_be16(f, 0x2000);
    fb_fill(f, 0, 12);
}
B(b_eth_len_snap_trunc)
{
    eth(f, 8);
    fb_u8(f, 0xaa); fb_u8(f, 0xaa); fb_u8(f, 0x03); fb_u8(f, 0);
}
B(b_eth_len_1501) { eth(f, 1501); v4tcp(f, O4S, O4D, 0); }

static void
sll(fb *f, unsigned proto)
{
    fb_be16(f, 0);                  /* to us */
    fb_be16(f, 1);                  /* ARPHRD_ETHER */
    fb_be16(f, 6);
    fb_fill(f, 0x11, 6);
    fb_fill(f, 0, 2);
    fb_be16(f, proto);
}

B(b_sll_v4_tcp) { sll(f, 0x0800); v4tcp(f, O4S, O4D, 7); }
B(b_sll_vlan_v6) { sll(f, 0x8100); vlan(f, 42, 0x86dd); v6udp(f, 1, 0); }
B(b_sll_short) { fb_fill(f, 0, 15); }
B(b_sll_llc_stp) { sll(f, 0x0004); fb_u8(f, 0x42); fb_u8(f, 0x42); fb_u8(f, 3); fb_fill(f, 0, 35); }
B(b_sll_novell) { sll(f, 0x0001); fb_fill(f, 0xff, 30); }

static void
sll2(fb *f, unsigned proto)
{
    fb_be16(f, proto);
    fb_be16(f, 0);
    fb_be32(f, 3);                  /* ifindex */
    fb_be16(f, 1);
    fb_u8(f, 4);                    /* outgoing */
    fb_u8(f, 6);
    fb_fill(f, 0x22, 8);
}

B(b_sll2_v6_tcp) { sll2(f, 0x86dd); v6tcp(f, 1, 9); }
B(b_sll2_short) { fb_fill(f, 0, 19); }

B(b_raw_v4_udp) { v4udp(f, O4S, O4D, 4); }
B(b_raw_v6_tcp) { v6tcp(f, 1, 0); }
B(b_raw_bad) { fb_u8(f, 0x55); fb_fill(f, 0, 39); }
B(b_raw_empty) { (void)f; }

B(b_null_le_v4) { fb_u8(f, 2); fb_fill(f, 0, 3); v4tcp(f, O4S, O4D, 1); }
B(b_null_be_v4) { fb_be32(f, 2); v4tcp(f, O4S, O4D, 1); }
B(b_null_le_v6_24) { fb_u8(f, 24); fb_fill(f, 0, 3); v6tcp(f, 1, 2); }
B(b_null_le_v6_28) { fb_u8(f, 28); fb_fill(f, 0, 3); v6tcp(f, 1, 2); }
B(b_null_be_v6_30) { fb_be32(f, 30); v6tcp(f, 1, 2); }
B(b_null_unknown) { fb_u8(f, 0x6c); fb_fill(f, 0, 3); v4tcp(f, O4S, O4D, 1); }
B(b_null_short) { fb_fill(f, 0, 3); }
B(b_loop_v4) { fb_be32(f, 2); v4udp(f, O4S, O4D, 0); }
B(b_loop_le) { fb_u8(f, 2); fb_fill(f, 0, 3); v4udp(f, O4S, O4D, 0); }

B(b_ppp_v4) { fb_u8(f, 0xff); fb_u8(f, 0x03); fb_be16(f, 0x0021); v4tcp(f, O4S, O4D, 5); }
B(b_ppp_v6_noac) { fb_be16(f, 0x0057); v6udp(f, 1, 5); }
B(b_ppp_pfc) { fb_u8(f, 0xff); fb_u8(f, 0x03); fb_u8(f, 0x21); v4tcp(f, O4S, O4D, 5); }
B(b_ppp_mpls)
{
    fb_u8(f, 0xff); fb_u8(f, 0x03); fb_be16(f, 0x0281);
    fb_be32(f, (100u << 12) | 0x100 | 64);
    v4tcp(f, O4S, O4D, 5);
}
B(b_ppp_lcp) { fb_u8(f, 0xff); fb_u8(f, 0x03); fb_be16(f, 0xc021); fb_fill(f, 1, 10); }
B(b_ppp_empty) { (void)f; }
B(b_ppp_chdlc) { fb_u8(f, 0x0f); fb_u8(f, 0); fb_be16(f, 0x0800); v4tcp(f, O4S, O4D, 5); }
B(b_ppp_ff_only) { fb_u8(f, 0xff); fb_u8(f, 0x03); }

B(b_chdlc_v4) { fb_u8(f, 0x0f); fb_u8(f, 0); fb_be16(f, 0x0800); v4tcp(f, O4S, O4D, 5); }
B(b_chdlc_mpls)
{
    fb_u8(f, 0x8f); fb_u8(f, 0); fb_be16(f, 0x8847);
    fb_be32(f, (16u << 12) | 0x100 | 1);
    v6tcp(f, 1, 5);
}
B(b_chdlc_slarp) { fb_u8(f, 0x8f); fb_u8(f, 0); fb_be16(f, 0x8035); fb_fill(f, 0, 20); }
B(b_chdlc_short) { fb_u8(f, 0x0f); fb_u8(f, 0); fb_u8(f, 8); }

/* NFLOG: header, a 4-byte prefix TLV, a 1-byte padded TLV, then payload. */
static void
nflog_head(fb *f, unsigned family)
{
    fb_u8(f, family);
    fb_u8(f, 0);
    fb_be16(f, 5);
    fb_le16(f, 8); fb_le16(f, 1); fb_fill(f, 0, 4);      /* packet header */
    fb_le16(f, 5); fb_le16(f, 10); fb_u8(f, 'x'); fb_fill(f, 0, 3);
}

static size_t
nflog_payload(fb *f)
{
    size_t at = f->n;
    fb_le16(f, 0);
    fb_le16(f, 9);
    return at;
}

static void
nflog_end(fb *f, size_t at)
{
    size_t len = f->n - at;
    f->b[at] = (uint8_t)len;
    f->b[at + 1] = (uint8_t)(len >> 8);
    fb_fill(f, 0, (4 - len % 4) % 4);
}

B(b_nflog_v4)
{
    nflog_head(f, 2);
    size_t at = nflog_payload(f);
    v4tcp(f, O4S, O4D, 1);          /* 41 bytes: padded to 44 */
    nflog_end(f, at);
}
B(b_nflog_v6)
{
    nflog_head(f, 10);
    size_t at = nflog_payload(f);
    v6udp(f, 1, 3);
    nflog_end(f, at);
}
B(b_nflog_unspec_v4)
{
    nflog_head(f, 0);
    size_t at = nflog_payload(f);
    v4udp(f, O4S, O4D, 3);
    nflog_end(f, at);
}
B(b_nflog_nopayload) { nflog_head(f, 2); }
B(b_nflog_tlv_short) { nflog_head(f, 2); fb_le16(f, 2); fb_le16(f, 9); fb_fill(f, 0, 40); }
B(b_nflog_tlv_overrun) { nflog_head(f, 2); fb_le16(f, 100); fb_le16(f, 11); fb_fill(f, 0, 8); }
B(b_nflog_snap)
{
    nflog_head(f, 2);
    size_t at = nflog_payload(f);
    v4tcp(f, O4S, O4D, 20);
    nflog_end(f, at);
    f->b[at] = 200;                 /* longer than what was captured */
}
B(b_nflog_hdr_short) { fb_u8(f, 2); fb_u8(f, 0); fb_u8(f, 0); }

/* ------------------------------------------------------------------ */
/* Frames: tags, labels, PPPoE                                         */
/* ------------------------------------------------------------------ */

B(b_vlan1) { eth(f, 0x8100); vlan(f, 100, 0x0800); v4tcp(f, O4S, O4D, 2); }
B(b_qinq) { eth(f, 0x88a8); vlan(f, 10, 0x8100); vlan(f, 20, 0x0800); v4tcp(f, O4S, O4D, 2); }
B(b_vlan9100) { eth(f, 0x9100); vlan(f, 30, 0x86dd); v6udp(f, 1, 2); }
B(b_vlan6)
{
    eth(f, 0x8100);
    for (unsigned i = 1; i <= 6; i++)
        vlan(f, i, i < 6 ? 0x8100 : 0x0800);
    v4tcp(f, O4S, O4D, 2);
}
B(b_vlan15)
{
    eth(f, 0x8100);
    for (unsigned i = 1; i <= 15; i++)
        vlan(f, i, i < 15 ? 0x8100 : 0x0800);
    v4tcp(f, O4S, O4D, 2);
}
B(b_vlan20)
{
    eth(f, 0x8100);
    for (unsigned i = 1; i <= 20; i++)
        vlan(f, i, i < 20 ? 0x8100 : 0x0800);
    v4tcp(f, O4S, O4D, 2);
}
B(b_vlan_trunc) { eth(f, 0x8100); fb_be16(f, 7); }
B(b_vlan_snap)
{
    eth(f, 0x8100);
    vlan(f, 5, 0);
    size_t at = f->n;
    fb_u8(f, 0xaa); fb_u8(f, 0xaa); fb_u8(f, 0x03);
    fb_u8(f, 0); fb_u8(f, 0); fb_u8(f, 0xf8); fb_be16(f, 0x0800);
    v4udp(f, O4S, O4D, 1);
    fb_set16(f, at - 2, (unsigned)(f->n - at));
}
B(b_vntag) { eth(f, 0x8926); fb_be32(f, 0x80010002); fb_be16(f, 0x8100); vlan(f, 11, 0x0800); v4tcp(f, O4S, O4D, 0); }
B(b_vntag_short) { eth(f, 0x8926); fb_be32(f, 0); fb_u8(f, 0x81); }

static void
label(fb *f, unsigned l, int bos)
{
    fb_be32(f, (l << 12) | (bos ? 0x100u : 0) | 64);
}

B(b_mpls1) { eth(f, 0x8847); label(f, 100, 1); v4tcp(f, O4S, O4D, 4); }
B(b_mpls3_v6) { eth(f, 0x8847); label(f, 1, 0); label(f, 2, 0); label(f, 3, 1); v6tcp(f, 1, 4); }
B(b_mpls_mc) { eth(f, 0x8848); label(f, 7, 1); v4udp(f, O4S, O4D, 4); }
B(b_mpls_trunc) { eth(f, 0x8847); label(f, 1, 0); fb_be16(f, 0); }
B(b_mpls_nopayload) { eth(f, 0x8847); label(f, 1, 1); }
B(b_mpls_pw)
{
    eth(f, 0x8847);
    label(f, 99, 1);
    fb_be32(f, 0);                  /* control word */
    ieth(f, 0x0800);
    v4tcp(f, I4S, I4D, 4);
}
B(b_mpls_pw_trunc) { eth(f, 0x8847); label(f, 99, 1); fb_be16(f, 0); }
B(b_mpls_nibble5) { eth(f, 0x8847); label(f, 99, 1); fb_u8(f, 0x50); fb_fill(f, 0, 30); }
B(b_mpls_deep)
{
    eth(f, 0x8847);
    for (int i = 0; i < 20; i++)
        label(f, 16 + (unsigned)i, i == 19);
    v4tcp(f, O4S, O4D, 0);
}
B(b_vlan_mpls) { eth(f, 0x8100); vlan(f, 300, 0x8847); label(f, 5, 1); v4tcp(f, O4S, O4D, 1); }

static size_t
pppoe(fb *f, unsigned proto)
{
    size_t at;
    fb_u8(f, 0x11);
    fb_u8(f, 0);
    fb_be16(f, 0x1234);
    at = f->n;
    fb_be16(f, 0);
    fb_be16(f, proto);
    return at;
}

static void
pppoe_end(fb *f, size_t at)
{
    fb_set16(f, at, (unsigned)(f->n - at - 2));
}

B(b_pppoe_v4)
{
    eth(f, 0x8864);
    size_t at = pppoe(f, 0x0021);
    v4tcp(f, O4S, O4D, 3);
    pppoe_end(f, at);
    fb_fill(f, 0, 7);               /* Ethernet padding */
}
B(b_pppoe_v6_qinq)
{
    eth(f, 0x88a8);
    vlan(f, 3704, 0x8100);
    vlan(f, 2474, 0x8864);
    size_t at = pppoe(f, 0x0057);
    v6udp(f, 1, 3);
    pppoe_end(f, at);
}
B(b_pppoe_trunc) { eth(f, 0x8864); fb_u8(f, 0x11); fb_u8(f, 0); fb_be16(f, 1); }
B(b_pppoe_lcp) { eth(f, 0x8864); size_t at = pppoe(f, 0xc021); fb_fill(f, 1, 10); pppoe_end(f, at); }
B(b_pppoe_len0) { eth(f, 0x8864); pppoe(f, 0x0021); v4tcp(f, O4S, O4D, 3); }
B(b_pppoe_code) { eth(f, 0x8864); fb_u8(f, 0x11); fb_u8(f, 0x09); fb_be16(f, 0); fb_be16(f, 0); }

/* ------------------------------------------------------------------ */
/* Frames: IPv4                                                        */
/* ------------------------------------------------------------------ */

B(b_ip4_ihl4) { eth(f, 0x0800); size_t at = ip4(f, 6, O4S, O4D); tcp(f, 1, 2); ip4_end(f, at); f->b[at] = 0x44; }
B(b_ip4_ihl0) { eth(f, 0x0800); size_t at = ip4(f, 6, O4S, O4D); tcp(f, 1, 2); ip4_end(f, at); f->b[at] = 0x40; }
B(b_ip4_tot_small) { eth(f, 0x0800); size_t at = ip4(f, 6, O4S, O4D); tcp(f, 1, 2); fb_set16(f, at + 2, 10); }
B(b_ip4_tot_lt_hlen)
{
    eth(f, 0x0800);
    size_t at = ip4(f, 6, O4S, O4D);
    fb_be32(f, 0x01010101);         /* 4 bytes of options: IHL 6 */
    tcp(f, 1, 2);
    f->b[at] = 0x46;
    fb_set16(f, at + 2, 20);
}
B(b_ip4_short) { eth(f, 0x0800); size_t at = ip4(f, 6, O4S, O4D); (void)at; f->n -= 1; }
B(b_ip4_opt_trunc) { eth(f, 0x0800); size_t at = ip4(f, 6, O4S, O4D); f->b[at] = 0x46; fb_set16(f, at + 2, 44); }
/* Options whose length byte is 0 or 1 (would loop a naive walker). */
B(b_ip4_opt_len0)
{
    eth(f, 0x0800);
    size_t at = ip4(f, 6, O4S, O4D);
    fb_u8(f, 0x44); fb_u8(f, 0); fb_u8(f, 0x83); fb_u8(f, 1);
    fb_u8(f, 0x07); fb_u8(f, 0); fb_u8(f, 0x01); fb_u8(f, 0);
    f->b[at] = 0x47;
    tcp(f, 1234, 80);
    pay(f, 6);
    ip4_end(f, at);
}
B(b_ip4_pad)
{
    eth(f, 0x0800);
    size_t at = ip4(f, 6, O4S, O4D);
    tcpf(f, 1234, 80, 0x10);
    ip4_end(f, at);
    fb_fill(f, 0, 6);               /* 54 -> 60 byte minimum frame */
}
B(b_ip4_snaplen) { eth(f, 0x0800); size_t at = ip4(f, 6, O4S, O4D); tcp(f, 1234, 80); pay(f, 26); fb_set16(f, at + 2, 1500); }
B(b_ip4_tso) { eth(f, 0x0800); ip4(f, 6, O4S, O4D); tcp(f, 1234, 80); pay(f, 100); }
B(b_ip4_frag_first)
{
    eth(f, 0x0800);
    size_t at = ip4(f, 17, O4S, O4D), u = udp(f, 5000, 53);
    pay(f, 24);
    udp_end(f, u);
    fb_set16(f, u + 4, 3000);       /* the whole datagram */
    ip4_end(f, at);
    fb_set16(f, at + 4, 0xbeef);
    fb_set16(f, at + 6, 0x2000);    /* MF, offset 0 */
}
B(b_ip4_frag_later)
{
    eth(f, 0x0800);
    size_t at = ip4(f, 17, O4S, O4D);
    pay(f, 40);
    ip4_end(f, at);
    fb_set16(f, at + 4, 0xbeef);
    fb_set16(f, at + 6, 0x2000 | 4);    /* MF, offset 32 */
}
B(b_ip4_frag_last)
{
    eth(f, 0x0800);
    size_t at = ip4(f, 6, O4S, O4D);
    pay(f, 40);
    ip4_end(f, at);
    fb_set16(f, at + 4, 7);
    fb_set16(f, at + 6, 0x4000 | 185);  /* DF set, offset 1480, last */
}
B(b_ip4_df) { eth(f, 0x0800); size_t at = ip4(f, 6, O4S, O4D); tcp(f, 1234, 80); ip4_end(f, at); fb_set16(f, at + 6, 0x4000); }
B(b_ip4_wrongver) { eth(f, 0x0800); v6tcp(f, 1, 0); }
B(b_ip6_wrongver) { eth(f, 0x86dd); v4tcp(f, O4S, O4D, 20); }

/* ------------------------------------------------------------------ */
/* Frames: IPv6 extension headers                                      */
/* ------------------------------------------------------------------ */

static void
ext(fb *f, unsigned nh, unsigned hl)     /* generic (hl+1)*8 bytes */
{
    fb_u8(f, nh);
    fb_u8(f, hl);
    fb_fill(f, 1, (size_t)hl * 8 + 6);
}

static void
frag6(fb *f, unsigned nh, unsigned off, int more, uint32_t id)
{
    fb_u8(f, nh);
    fb_u8(f, 0);
    fb_be16(f, (off << 3) | (more ? 1u : 0));
    fb_be32(f, id);
}

B(b_ip6_ext)
{
    eth(f, 0x86dd);
    size_t at = ip6(f, 0, 1);
    ext(f, 60, 0);
    ext(f, 43, 1);
    ext(f, 6, 0);
    tcp(f, 1234, 80);
    pay(f, 3);
    ip6_end(f, at);
}
B(b_ip6_frag_first)
{
    eth(f, 0x86dd);
    size_t at = ip6(f, 44, 1);
    frag6(f, 17, 0, 1, 0xdeadbeef);
    size_t u = udp(f, 5000, 53);
    pay(f, 16);
    udp_end(f, u);
    fb_set16(f, u + 4, 4000);
    ip6_end(f, at);
}
B(b_ip6_frag_later)
{
    eth(f, 0x86dd);
    size_t at = ip6(f, 0, 1);
    ext(f, 44, 0);
    frag6(f, 6, 100, 0, 0x01020304);
    pay(f, 32);
    ip6_end(f, at);
}
B(b_ip6_atomic)
{
    eth(f, 0x86dd);
    size_t at = ip6(f, 44, 1);
    frag6(f, 6, 0, 0, 77);
    tcp(f, 1234, 80);
    ip6_end(f, at);
}
B(b_ip6_ah)
{
    eth(f, 0x86dd);
    size_t at = ip6(f, 51, 1);
    fb_u8(f, 6); fb_u8(f, 4); fb_fill(f, 0, 22);    /* (4 + 2) * 4 = 24 */
    tcp(f, 1234, 80);
    pay(f, 1);
    ip6_end(f, at);
}
B(b_ip6_esp) { eth(f, 0x86dd); size_t at = ip6(f, 60, 1); ext(f, 50, 0); fb_fill(f, 9, 40); ip6_end(f, at); }
B(b_ip6_none) { eth(f, 0x86dd); size_t at = ip6(f, 59, 1); ip6_end(f, at); }
B(b_ip6_mobility) { eth(f, 0x86dd); size_t at = ip6(f, 135, 1); ext(f, 59, 1); ip6_end(f, at); }
B(b_ip6_hip_shim6) { eth(f, 0x86dd); size_t at = ip6(f, 139, 1); ext(f, 140, 2); ext(f, 17, 0); udp_end(f, udp(f, 1, 2)); ip6_end(f, at); }

static void
ip6_chain(fb *f, int n)
{
    eth(f, 0x86dd);
    size_t at = ip6(f, 60, 1);
    for (int i = 0; i < n; i++)
        ext(f, i + 1 < n ? 60 : 17, 0);
    size_t u = udp(f, 5000, 53);
    udp_end(f, u);
    ip6_end(f, at);
}

B(b_ip6_ext16) { ip6_chain(f, 16); }
B(b_ip6_ext17) { ip6_chain(f, 17); }
B(b_ip6_ext_overrun)
{
    eth(f, 0x86dd);
    size_t at = ip6(f, 0, 1);
    ext(f, 6, 0);
    tcp(f, 1234, 80);
    ip6_end(f, at);
    f->b[at + 41] = 10;             /* 88 bytes in a 28-byte payload */
}
B(b_ip6_ext_snap)
{
    eth(f, 0x86dd);
    size_t at = ip6(f, 0, 1);
    fb_u8(f, 6);
    fb_u8(f, 10);
    fb_fill(f, 0, 20);              /* captured part of an 88-byte header */
    fb_set16(f, at + 4, 1000);
}
B(b_ip6_short) { eth(f, 0x86dd); ip6(f, 6, 1); f->n -= 1; }
B(b_ip6_jumbo) { eth(f, 0x86dd); ip6(f, 0, 1); ext(f, 6, 0); tcp(f, 1234, 80); pay(f, 5); }

/* ------------------------------------------------------------------ */
/* Frames: transports                                                  */
/* ------------------------------------------------------------------ */

B(b_tcp_doff4) { eth(f, 0x0800); size_t at = ip4(f, 6, O4S, O4D); tcp(f, 1, 2); ip4_end(f, at); f->b[at + 32] = 0x40; }
B(b_tcp_19) { eth(f, 0x0800); size_t at = ip4(f, 6, O4S, O4D); tcp(f, 1, 2); f->n--; ip4_end(f, at); }
B(b_tcp_ports_only) { eth(f, 0x0800); size_t at = ip4(f, 6, O4S, O4D); fb_be32(f, 0x00010002); ip4_end(f, at); }
B(b_tcp_opts)
{
    eth(f, 0x0800);
    size_t at = ip4(f, 6, O4S, O4D);
    tcpf(f, 1234, 80, 0x02);
    fb_be32(f, 0x020405b4);         /* MSS */
    fb_be32(f, 0x01010402);         /* NOP NOP SACK-permitted */
    pay(f, 3);
    ip4_end(f, at);
    f->b[at + 32] = 0x70;
}
B(b_tcp_opt_snap)
{
    eth(f, 0x0800);
    size_t at = ip4(f, 6, O4S, O4D);
    tcpf(f, 1234, 80, 0x02);
    fb_be32(f, 0x020405b4);
    f->b[at + 32] = 0xf0;           /* 60-byte header, 24 captured */
    fb_set16(f, at + 2, 80);
}
B(b_udp_7) { eth(f, 0x0800); size_t at = ip4(f, 17, O4S, O4D); fb_fill(f, 0, 7); ip4_end(f, at); }
B(b_udp_len3) { eth(f, 0x0800); size_t at = ip4(f, 17, O4S, O4D), u = udp(f, 5000, 53); pay(f, 20); fb_set16(f, u + 4, 3); ip4_end(f, at); }
B(b_udp_len_big) { eth(f, 0x0800); size_t at = ip4(f, 17, O4S, O4D), u = udp(f, 5000, 53); pay(f, 20); fb_set16(f, u + 4, 600); ip4_end(f, at); }
B(b_udp_len_small) { eth(f, 0x0800); size_t at = ip4(f, 17, O4S, O4D), u = udp(f, 5000, 53); pay(f, 20); fb_set16(f, u + 4, 12); ip4_end(f, at); }
B(b_sctp)
{
    eth(f, 0x0800);
    size_t at = ip4(f, 132, O4S, O4D);
    fb_be16(f, 2905); fb_be16(f, 36412); fb_be32(f, 0xabcdef01); fb_be32(f, 0);
    pay(f, 16);
    ip4_end(f, at);
}
B(b_sctp_short) { eth(f, 0x0800); size_t at = ip4(f, 132, O4S, O4D); fb_fill(f, 1, 11); ip4_end(f, at); }
B(b_icmp_echo)
{
    eth(f, 0x0800);
    size_t at = ip4(f, 1, O4S, O4D);
    fb_u8(f, 8); fb_u8(f, 0); fb_be16(f, 0); fb_be16(f, 0x4242); fb_be16(f, 1);
    pay(f, 56);
    ip4_end(f, at);
}
B(b_icmp_unreach)
{
    eth(f, 0x0800);
    size_t at = ip4(f, 1, O4S, O4D);
    fb_u8(f, 3); fb_u8(f, 3); fb_be16(f, 0); fb_be32(f, 0);
    v4udp(f, O4D, O4S, 0);          /* quoted: must not become the flow */
    ip4_end(f, at);
}
B(b_icmp_short) { eth(f, 0x0800); size_t at = ip4(f, 1, O4S, O4D); fb_u8(f, 8); fb_u8(f, 0); fb_u8(f, 0); ip4_end(f, at); }
B(b_icmp_echo_short) { eth(f, 0x0800); size_t at = ip4(f, 1, O4S, O4D); fb_u8(f, 0); fb_fill(f, 0, 5); ip4_end(f, at); }
B(b_icmp6_echo_reply)
{
    eth(f, 0x86dd);
    size_t at = ip6(f, 58, 1);
    fb_u8(f, 129); fb_u8(f, 0); fb_be16(f, 0); fb_be16(f, 0x0777); fb_be16(f, 3);
    pay(f, 8);
    ip6_end(f, at);
}
B(b_icmp6_ns) { eth(f, 0x86dd); size_t at = ip6(f, 58, 1); fb_u8(f, 135); fb_u8(f, 0); fb_fill(f, 0, 22); ip6_end(f, at); }
B(b_ospf) { eth(f, 0x0800); size_t at = ip4(f, 89, O4S, O4D); fb_fill(f, 2, 44); ip4_end(f, at); }

/* ------------------------------------------------------------------ */
/* Frames: tunnels                                                     */
/* ------------------------------------------------------------------ */

/* Outer Ethernet + IPv4 of protocol proto; returns the IP offset. */
static size_t
outer4(fb *f, unsigned proto)
{
    eth(f, 0x0800);
    return ip4(f, proto, O4S, O4D);
}

B(b_gre_v4) { size_t o = outer4(f, 47); fb_be16(f, 0); fb_be16(f, 0x0800); v4udp(f, I4S, I4D, 6); ip4_end(f, o); }
B(b_gre_cks)
{
    size_t o = outer4(f, 47);
    fb_be16(f, 0xb000); fb_be16(f, 0x86dd);
    fb_be32(f, 0); fb_be32(f, 0x01020304); fb_be32(f, 99);
    v6tcp(f, 2, 6);
    ip4_end(f, o);
}
B(b_gre_short) { size_t o = outer4(f, 47); fb_be16(f, 0); ip4_end(f, o); }
B(b_gre_key_missing) { size_t o = outer4(f, 47); fb_be16(f, 0x2000); fb_be16(f, 0x0800); fb_be16(f, 0); ip4_end(f, o); }
B(b_gre_teb) { size_t o = outer4(f, 47); fb_be16(f, 0); fb_be16(f, 0x6558); ieth(f, 0x0800); v4tcp(f, I4S, I4D, 6); ip4_end(f, o); }
B(b_gre_teb_vlan) { size_t o = outer4(f, 47); fb_be16(f, 0); fb_be16(f, 0x6558); ieth(f, 0x8100); vlan(f, 77, 0x0800); v4tcp(f, I4S, I4D, 6); ip4_end(f, o); }
B(b_erspan2)
{
    size_t o = outer4(f, 47);
    fb_be16(f, 0x1000); fb_be16(f, 0x88be); fb_be32(f, 5);
    fb_be16(f, 0x1000 | 12); fb_be16(f, 0x2000 | 0x155); fb_be32(f, 0);
    ieth(f, 0x0800);
    v4tcp(f, I4S, I4D, 6);
    ip4_end(f, o);
}
B(b_erspan1) { size_t o = outer4(f, 47); fb_be16(f, 0); fb_be16(f, 0x88be); ieth(f, 0x0800); v4tcp(f, I4S, I4D, 6); ip4_end(f, o); }
B(b_erspan3_o)
{
    size_t o = outer4(f, 47);
    fb_be16(f, 0x1000); fb_be16(f, 0x22eb); fb_be32(f, 5);
    fb_be16(f, 0x2000); fb_be16(f, 0x3ff); fb_be32(f, 0x12345678);
    fb_be16(f, 0); fb_be16(f, 0x0001);                  /* O */
    fb_fill(f, 0xee, 8);                                /* platform specific */
    ieth(f, 0x86dd);
    v6udp(f, 2, 6);
    ip4_end(f, o);
}
B(b_erspan3)
{
    size_t o = outer4(f, 47);
    fb_be16(f, 0); fb_be16(f, 0x22eb);
    fb_be16(f, 0x2000); fb_be16(f, 0x001); fb_be32(f, 0x12345678);
    fb_be16(f, 0); fb_be16(f, 0x0000);
    ieth(f, 0x0800);
    v4tcp(f, I4S, I4D, 6);
    ip4_end(f, o);
}
B(b_erspan_trunc) { size_t o = outer4(f, 47); fb_be16(f, 0x1000); fb_be16(f, 0x88be); fb_be32(f, 5); fb_be32(f, 0x10000001); ip4_end(f, o); }
B(b_erspan3_o_trunc)
{
    size_t o = outer4(f, 47);
    fb_be16(f, 0); fb_be16(f, 0x22eb);
    fb_be16(f, 0x2000); fb_be16(f, 1); fb_be32(f, 0); fb_be16(f, 0); fb_be16(f, 1);
    fb_fill(f, 0, 4);
    ip4_end(f, o);
}
B(b_gre_mpls) { size_t o = outer4(f, 47); fb_be16(f, 0); fb_be16(f, 0x8847); label(f, 3, 1); v4tcp(f, I4S, I4D, 6); ip4_end(f, o); }
B(b_gre_inner_trunc) { size_t o = outer4(f, 47); fb_be16(f, 0x2000); fb_be16(f, 0x0800); fb_be32(f, 9); fb_fill(f, 0x45, 10); ip4_end(f, o); }
B(b_gre_arp) { size_t o = outer4(f, 47); fb_be16(f, 0); fb_be16(f, 0x6558); ieth(f, 0x0806); fb_fill(f, 0, 28); ip4_end(f, o); }
B(b_gre_ver2) { size_t o = outer4(f, 47); fb_be16(f, 2); fb_be16(f, 0x0800); v4tcp(f, I4S, I4D, 0); ip4_end(f, o); }
B(b_gre_routing) { size_t o = outer4(f, 47); fb_be16(f, 0x4000); fb_be16(f, 0x0800); fb_be32(f, 0); v4tcp(f, I4S, I4D, 0); ip4_end(f, o); }
B(b_gre_pptp)
{
    size_t o = outer4(f, 47);
    fb_be16(f, 0x3081); fb_be16(f, 0x880b);
    fb_be16(f, 44); fb_be16(f, 0x0c01);                 /* payload length, call id */
    fb_be32(f, 7); fb_be32(f, 6);                       /* sequence, ack */
    fb_u8(f, 0xff); fb_u8(f, 0x03); fb_be16(f, 0x0021);
    v4tcp(f, I4S, I4D, 0);
    ip4_end(f, o);
}
B(b_gre_ppp_v0) { size_t o = outer4(f, 47); fb_be16(f, 0); fb_be16(f, 0x880b); fb_be16(f, 0x0021); v4tcp(f, I4S, I4D, 0); ip4_end(f, o); }

static void
gre_nest(fb *f, int levels)
{
    size_t at[16];
    at[0] = outer4(f, 47);
    for (int i = 1; i <= levels; i++) {
        fb_be16(f, 0);
        fb_be16(f, 0x0800);
        at[i] = ip4(f, i < levels ? 47 : 6, J4S, J4D);
    }
    tcp(f, 1234, 80);
    for (int i = levels; i >= 0; i--)
        ip4_end(f, at[i]);
}

B(b_gre_nest7) { gre_nest(f, 7); }
B(b_gre_nest8) { gre_nest(f, 8); }

/* Outer Ethernet + IPv4 + UDP; returns the offsets for *_end. */
static void
outer_udp(fb *f, unsigned sp, unsigned dp, size_t *o, size_t *u)
{
    *o = outer4(f, 17);
    *u = udp(f, sp, dp);
}

static void
outer_udp_end(fb *f, size_t o, size_t u)
{
    udp_end(f, u);
    ip4_end(f, o);
}

static void
vxlan_hdr(fb *f, unsigned flags, uint32_t vni)
{
    fb_u8(f, flags);
    fb_fill(f, 0, 3);
    fb_be32(f, vni << 8);
}

B(b_vxlan)
{
    size_t o, u;
    outer_udp(f, 50000, 4789, &o, &u);
    vxlan_hdr(f, 0x08, 123);
    ieth(f, 0x8100);
    vlan(f, 9, 0x0800);
    v4tcp(f, I4S, I4D, 5);
    outer_udp_end(f, o, u);
}
B(b_vxlan_noi) { size_t o, u; outer_udp(f, 50000, 4789, &o, &u); vxlan_hdr(f, 0, 123); ieth(f, 0x0800); v4tcp(f, I4S, I4D, 5); outer_udp_end(f, o, u); }
B(b_vxlan_sport) { size_t o, u; outer_udp(f, 4789, 50000, &o, &u); vxlan_hdr(f, 0x08, 1); ieth(f, 0x0800); v4tcp(f, I4S, I4D, 5); outer_udp_end(f, o, u); }
B(b_vxlan_garbage) { size_t o, u; outer_udp(f, 50000, 4789, &o, &u); vxlan_hdr(f, 0x08, 1); fb_fill(f, 0x33, 6); outer_udp_end(f, o, u); }
B(b_vxlan_trunc) { size_t o, u; outer_udp(f, 50000, 4789, &o, &u); fb_be32(f, 0x08000000); outer_udp_end(f, o, u); }
B(b_vxlan_arp) { size_t o, u; outer_udp(f, 50000, 4789, &o, &u); vxlan_hdr(f, 0x08, 1); ieth(f, 0x0806); fb_fill(f, 0, 28); outer_udp_end(f, o, u); }
B(b_vxlan_dns) { size_t o, u; outer_udp(f, 53, 4789, &o, &u); vxlan_hdr(f, 0x08, 1); ieth(f, 0x0800); v4tcp(f, I4S, I4D, 5); outer_udp_end(f, o, u); }
B(b_vxlan_inner_trunc) { size_t o, u; outer_udp(f, 50000, 4789, &o, &u); vxlan_hdr(f, 0x08, 1); ieth(f, 0x0800); fb_fill(f, 0x45, 12); outer_udp_end(f, o, u); }
B(b_vxlan_gre)
{
    size_t o, u;
    outer_udp(f, 50000, 4789, &o, &u);
    vxlan_hdr(f, 0x08, 5000);
    ieth(f, 0x0800);
    size_t i = ip4(f, 47, I4S, I4D);
    fb_be16(f, 0x2000); fb_be16(f, 0x0800); fb_be32(f, 7);
    v4tcp(f, J4S, J4D, 1);
    ip4_end(f, i);
    outer_udp_end(f, o, u);
}

B(b_geneve)
{
    size_t o, u;
    outer_udp(f, 40000, 6081, &o, &u);
    fb_u8(f, 0x02); fb_u8(f, 0); fb_be16(f, 0x6558); fb_be32(f, 0xabcd00);
    fb_fill(f, 0x01, 8);            /* 2 words of options */
    ieth(f, 0x0800);
    v4tcp(f, I4S, I4D, 2);
    outer_udp_end(f, o, u);
}
B(b_geneve_ip) { size_t o, u; outer_udp(f, 40000, 6081, &o, &u); fb_u8(f, 0); fb_u8(f, 0); fb_be16(f, 0x86dd); fb_be32(f, 0x000100); v6udp(f, 2, 2); outer_udp_end(f, o, u); }
B(b_geneve_ver1) { size_t o, u; outer_udp(f, 40000, 6081, &o, &u); fb_u8(f, 0x40); fb_u8(f, 0); fb_be16(f, 0x6558); fb_be32(f, 0x100); ieth(f, 0x0800); v4tcp(f, I4S, I4D, 2); outer_udp_end(f, o, u); }
B(b_geneve_opt_trunc) { size_t o, u; outer_udp(f, 40000, 6081, &o, &u); fb_u8(f, 0x3f); fb_u8(f, 0); fb_be16(f, 0x6558); fb_be32(f, 0x100); fb_fill(f, 0, 20); outer_udp_end(f, o, u); }

static size_t
gtp_hdr(fb *f, unsigned flags, unsigned type)
{
    size_t at = f->n;
    fb_u8(f, flags);
    fb_u8(f, type);
    fb_be16(f, 0);
    fb_be32(f, 0x11223344);
    return at;
}

static void
gtp_end(fb *f, size_t at)
{
    fb_set16(f, at + 2, (unsigned)(f->n - at - 8));
}

B(b_gtp)
{
    size_t o, u;
    outer_udp(f, 2152, 2152, &o, &u);
    size_t g = gtp_hdr(f, 0x30, 0xff);
    v4tcp(f, I4S, I4D, 4);
    gtp_end(f, g);
    outer_udp_end(f, o, u);
}
B(b_gtp_seq_v6)
{
    size_t o, u;
    outer_udp(f, 33000, 2152, &o, &u);
    size_t g = gtp_hdr(f, 0x32, 0xff);
    fb_be16(f, 9); fb_u8(f, 0); fb_u8(f, 0x85);    /* next: E is clear */
    v6udp(f, 2, 4);
    gtp_end(f, g);
    outer_udp_end(f, o, u);
}
B(b_gtp_ext)
{
    size_t o, u;
    outer_udp(f, 2152, 2152, &o, &u);
    size_t g = gtp_hdr(f, 0x34, 0xff);
    fb_be16(f, 0); fb_u8(f, 0); fb_u8(f, 0x85);
    fb_u8(f, 1); fb_u8(f, 0x09); fb_u8(f, 0x01); fb_u8(f, 0xc0);     /* PDU session */
    fb_u8(f, 2); fb_fill(f, 0, 6); fb_u8(f, 0);                       /* 8 bytes, last */
    v4tcp(f, I4S, I4D, 4);
    gtp_end(f, g);
    outer_udp_end(f, o, u);
}
B(b_gtp_ext_len0)
{
    size_t o, u;
    outer_udp(f, 2152, 2152, &o, &u);
    size_t g = gtp_hdr(f, 0x34, 0xff);
    fb_be16(f, 0); fb_u8(f, 0); fb_u8(f, 0x85);
    fb_u8(f, 0); fb_fill(f, 0, 3);
    v4tcp(f, I4S, I4D, 4);
    gtp_end(f, g);
    outer_udp_end(f, o, u);
}
B(b_gtp_echo) { size_t o, u; outer_udp(f, 2152, 2152, &o, &u); size_t g = gtp_hdr(f, 0x32, 1); fb_be32(f, 0); gtp_end(f, g); outer_udp_end(f, o, u); }
B(b_gtp_v2) { size_t o, u; outer_udp(f, 2152, 2152, &o, &u); gtp_hdr(f, 0x48, 0xff); v4tcp(f, I4S, I4D, 4); outer_udp_end(f, o, u); }
B(b_gtp_padded)
{
    size_t o, u;
    outer_udp(f, 2152, 2152, &o, &u);
    size_t g = gtp_hdr(f, 0x30, 0xff);
    v4udp(f, I4S, I4D, 4);
    fb_set16(f, g + 2, 20 + 8 + 2); /* the T-PDU ends 2 bytes early */
    outer_udp_end(f, o, u);
}

B(b_teredo)
{
    size_t o, u;
    outer_udp(f, 3544, 50001, &o, &u);
    v6tcp(f, 2, 7);
    outer_udp_end(f, o, u);
}
B(b_teredo_origin)
{
    size_t o, u;
    outer_udp(f, 50001, 3544, &o, &u);
    fb_be16(f, 0); fb_be16(f, 0xffff); fb_be32(f, 0xffffffff);
    v6udp(f, 2, 7);
    outer_udp_end(f, o, u);
}
B(b_teredo_auth)
{
    size_t o, u;
    outer_udp(f, 50001, 3544, &o, &u);
    fb_be16(f, 1); fb_u8(f, 2); fb_u8(f, 3); fb_fill(f, 0x77, 5);
    fb_fill(f, 0x88, 8); fb_u8(f, 0);
    fb_be16(f, 0); fb_be16(f, 0xffff); fb_be32(f, 0xffffffff);
    size_t at = ip6(f, 59, 2);
    ip6_end(f, at);                 /* a bubble */
    outer_udp_end(f, o, u);
}
B(b_teredo_implausible)
{
    size_t o, u;
    outer_udp(f, 3544, 50001, &o, &u);
    size_t at = ip6(f, 6, 2);
    tcp(f, 1234, 80);
    fb_set16(f, at + 4, 21);        /* one byte more than the datagram */
    outer_udp_end(f, o, u);
}
B(b_teredo_v4) { size_t o, u; outer_udp(f, 3544, 50001, &o, &u); v4tcp(f, I4S, I4D, 30); outer_udp_end(f, o, u); }

static void
capwap_hdr(fb *f, unsigned hlen, unsigned t, unsigned extra)
{
    fb_be32(f, (hlen << 19) | (1u << 14) | (1u << 9) | (t << 8) | extra);
    fb_be32(f, 0);
    fb_fill(f, 0, hlen * 4 - 8);
}

B(b_capwap_8023) { size_t o, u; outer_udp(f, 12345, 5247, &o, &u); capwap_hdr(f, 2, 0, 0); ieth(f, 0x0800); v4tcp(f, I4S, I4D, 3); outer_udp_end(f, o, u); }

static void
dot11_hdr(fb *f, unsigned fc0, unsigned fc1)
{
    static const uint8_t a1[6] = { 0xa1, 1, 1, 1, 1, 1 }, a2[6] = { 0xa2, 2, 2, 2, 2, 2 },
                         a3[6] = { 0xa3, 3, 3, 3, 3, 3 };
    fb_u8(f, fc0);
    fb_u8(f, fc1);
    fb_be16(f, 44);
    for (int i = 0; i < 6; i++) fb_u8(f, a1[i]);
    for (int i = 0; i < 6; i++) fb_u8(f, a2[i]);
    for (int i = 0; i < 6; i++) fb_u8(f, a3[i]);
    fb_be16(f, 0x1000);
}

static void
snap(fb *f, unsigned type)
{
    fb_u8(f, 0xaa); fb_u8(f, 0xaa); fb_u8(f, 0x03);
    fb_u8(f, 0); fb_u8(f, 0); fb_u8(f, 0);
    fb_be16(f, type);
}

/* Cisco: frame control byte-swapped (0x0801 = data, To DS), W bit. */
B(b_capwap_80211_cisco)
{
    size_t o, u;
    outer_udp(f, 12380, 5247, &o, &u);
    capwap_hdr(f, 4, 1, 0x20);
    dot11_hdr(f, 0x01, 0x08);
    snap(f, 0x0800);
    v4udp(f, I4S, I4D, 3);
    outer_udp_end(f, o, u);
}
/* RFC order: QoS data (0x88), From DS (0x02): DA = addr1, SA = addr3. */
B(b_capwap_80211_qos)
{
    size_t o, u;
    outer_udp(f, 5247, 12380, &o, &u);
    capwap_hdr(f, 2, 1, 0);
    dot11_hdr(f, 0x88, 0x02);
    fb_le16(f, 0x0005);
    snap(f, 0x86dd);
    v6tcp(f, 2, 3);
    outer_udp_end(f, o, u);
}
B(b_capwap_80211_protected) { size_t o, u; outer_udp(f, 12380, 5247, &o, &u); capwap_hdr(f, 2, 1, 0); dot11_hdr(f, 0x08, 0x41); snap(f, 0x0800); v4udp(f, I4S, I4D, 3); outer_udp_end(f, o, u); }
B(b_capwap_80211_mgmt) { size_t o, u; outer_udp(f, 12380, 5247, &o, &u); capwap_hdr(f, 2, 1, 0); dot11_hdr(f, 0x80, 0x00); fb_fill(f, 0, 30); outer_udp_end(f, o, u); }
B(b_capwap_dtls) { size_t o, u; outer_udp(f, 12380, 5247, &o, &u); fb_be32(f, 0x01000000); fb_fill(f, 0x17, 40); outer_udp_end(f, o, u); }
B(b_capwap_keepalive) { size_t o, u; outer_udp(f, 12380, 5247, &o, &u); capwap_hdr(f, 2, 0, 0x08); fb_fill(f, 0, 12); outer_udp_end(f, o, u); }
B(b_capwap_hlen1) { size_t o, u; outer_udp(f, 12380, 5247, &o, &u); fb_be32(f, 1u << 19); fb_be32(f, 0); ieth(f, 0x0800); v4tcp(f, I4S, I4D, 3); outer_udp_end(f, o, u); }

static void
ayiya_hdr(fb *f, unsigned opcode, unsigned nh)
{
    fb_u8(f, 0x41);                 /* identity 2^4 = 16 bytes */
    fb_u8(f, 0x52);                 /* signature 5 * 4 = 20 bytes */
    fb_u8(f, 0x10 | opcode);
    fb_u8(f, nh);
    fb_be32(f, 0x5a5a5a5a);
    fb_fill(f, 0x66, 16);
    fb_fill(f, 0x77, 20);
}

B(b_ayiya_v6) { size_t o, u; outer_udp(f, 5072, 5072, &o, &u); ayiya_hdr(f, 1, 41); v6tcp(f, 2, 8); outer_udp_end(f, o, u); }
B(b_ayiya_v4) { size_t o, u; outer_udp(f, 40000, 5072, &o, &u); ayiya_hdr(f, 1, 4); v4udp(f, I4S, I4D, 8); outer_udp_end(f, o, u); }
B(b_ayiya_heartbeat) { size_t o, u; outer_udp(f, 5072, 5072, &o, &u); ayiya_hdr(f, 0, 59); outer_udp_end(f, o, u); }
B(b_ayiya_trunc) { size_t o, u; outer_udp(f, 5072, 5072, &o, &u); fb_u8(f, 0xf1); fb_u8(f, 0); fb_u8(f, 1); fb_u8(f, 41); fb_fill(f, 0, 50); outer_udp_end(f, o, u); }

B(b_ipip) { size_t o = outer4(f, 4); v4tcp(f, I4S, I4D, 3); ip4_end(f, o); }
B(b_6in4) { size_t o = outer4(f, 41); v6udp(f, 2, 3); ip4_end(f, o); }
B(b_4in6) { eth(f, 0x86dd); size_t o = ip6(f, 4, 1); v4tcp(f, I4S, I4D, 3); ip6_end(f, o); }
B(b_6in6in6)
{
    eth(f, 0x86dd);
    size_t o = ip6(f, 41, 1), i = ip6(f, 60, 2);
    ext(f, 41, 0);
    v6tcp(f, 3, 3);
    ip6_end(f, i);
    ip6_end(f, o);
}
B(b_ipip_trunc) { size_t o = outer4(f, 4); fb_fill(f, 0x45, 10); ip4_end(f, o); }
B(b_ipip_later_frag)
{
    size_t o = outer4(f, 4);
    size_t i = ip4(f, 17, I4S, I4D);
    pay(f, 16);
    ip4_end(f, i);
    fb_set16(f, i + 6, 100);
    fb_set16(f, i + 4, 0x5151);
    ip4_end(f, o);
}

/* ------------------------------------------------------------------ */
/* The table                                                           */
/* ------------------------------------------------------------------ */

/* What pkt_meta must hold when st is DEC_OK (only st is checked else). */
typedef struct expect {
    dec_status st;
    uint8_t ipv, proto, layer, tunnel, frag, ports, vni_set, mac;
    uint8_t flags, itype, icode, nvlan;
    uint16_t sport, dport;
    uint32_t vni, ipid;
    uint16_t vlan[DEC_MAX_VLAN];
    const char *src, *dst;
    size_t plen;
} expect;

typedef struct dcase {
    const char *name;
    int link;
    void (*build)(fb *f);
    expect e;
} dcase;

#define ETH DEC_LINK_ETHERNET
#define A4O .src = "10.0.0.1", .dst = "10.0.0.2"
#define A4I .src = "192.168.1.1", .dst = "192.168.1.2"
#define A4J .src = "172.16.0.1", .dst = "172.16.0.2"
#define A6O .src = "2001:db8:1::1", .dst = "2001:db8:1::2"
#define A6I .src = "2001:db8:2::1", .dst = "2001:db8:2::2"
#define A6J .src = "2001:db8:3::1", .dst = "2001:db8:3::2"
/* the usual transports of the builders */
#define TCP_PORTS .proto = 6, .ports = 1, .sport = 1234, .dport = 80
#define TCP80 TCP_PORTS, .flags = 0x18
#define UDP53 .proto = 17, .ports = 1, .sport = 5000, .dport = 53
#define ERR(s) { .st = (s) }

static const dcase decode_cases[] = {
    /* link layers */
    { "eth_v4_tcp", ETH, b_eth_v4_tcp, { .ipv = 4, .layer = 1, TCP80, A4O, .mac = 1, .plen = 10 } },
    { "eth_v6_udp", ETH, b_eth_v6_udp, { .ipv = 6, .layer = 1, UDP53, A6O, .mac = 1, .plen = 12 } },
    { "eth_arp", ETH, b_eth_arp, ERR(DEC_NOT_IP) },
    { "eth_short", ETH, b_eth_short, ERR(DEC_TRUNC_LINK) },
    { "eth_pppoe_discovery", ETH, b_eth_pppoe_disc, ERR(DEC_NOT_IP) },
    { "eth_8023_stp", ETH, b_eth_len_stp, ERR(DEC_NOT_IP) },
    { "eth_8023_snap_v4", ETH, b_eth_len_snap_v4, { .ipv = 4, .layer = 1, TCP80, A4O, .mac = 1, .plen = 3 } },
    { "eth_8023_snap_cdp", ETH, b_eth_len_snap_cdp, ERR(DEC_NOT_IP) },
    { "eth_8023_snap_trunc", ETH, b_eth_len_snap_trunc, ERR(DEC_TRUNC_LINK) },
    { "eth_type_1501", ETH, b_eth_len_1501, ERR(DEC_NOT_IP) },
    { "sll_v4_tcp", DEC_LINK_LINUX_SLL, b_sll_v4_tcp, { .ipv = 4, .layer = 1, TCP80, A4O, .plen = 7 } },
    { "sll_vlan_v6", DEC_LINK_LINUX_SLL, b_sll_vlan_v6, { .ipv = 6, .layer = 1, UDP53, A6O, .nvlan = 1, .vlan = { 42 } } },
    { "sll_short", DEC_LINK_LINUX_SLL, b_sll_short, ERR(DEC_TRUNC_LINK) },
    { "sll_llc_stp", DEC_LINK_LINUX_SLL, b_sll_llc_stp, ERR(DEC_NOT_IP) },
    { "sll_novell", DEC_LINK_LINUX_SLL, b_sll_novell, ERR(DEC_NOT_IP) },
    { "sll2_v6_tcp", DEC_LINK_LINUX_SLL2, b_sll2_v6_tcp, { .ipv = 6, .layer = 1, TCP80, A6O, .plen = 9 } },
    { "sll2_short", DEC_LINK_LINUX_SLL2, b_sll2_short, ERR(DEC_TRUNC_LINK) },
    { "raw101_v4_udp", DEC_LINK_RAW, b_raw_v4_udp, { .ipv = 4, .layer = 1, UDP53, A4O, .plen = 4 } },
    { "raw12_v6_tcp", 12, b_raw_v6_tcp, { .ipv = 6, .layer = 1, TCP80, A6O } },
    { "raw14_v4_udp", 14, b_raw_v4_udp, { .ipv = 4, .layer = 1, UDP53, A4O, .plen = 4 } },
    { "raw_bad_version", DEC_LINK_RAW, b_raw_bad, ERR(DEC_BAD_IP_VERSION) },
    { "raw_empty", DEC_LINK_RAW, b_raw_empty, ERR(DEC_TRUNC_IP) },
    { "ipv4_link", DEC_LINK_IPV4, b_raw_v4_udp, { .ipv = 4, .layer = 1, UDP53, A4O, .plen = 4 } },
    { "ipv4_link_v6_packet", DEC_LINK_IPV4, b_raw_v6_tcp, ERR(DEC_BAD_IP_VERSION) },
    { "ipv6_link", DEC_LINK_IPV6, b_raw_v6_tcp, { .ipv = 6, .layer = 1, TCP80, A6O } },
    { "ipv6_link_v4_packet", DEC_LINK_IPV6, b_raw_v4_udp, ERR(DEC_BAD_IP_VERSION) },
    { "null_le_v4", DEC_LINK_NULL, b_null_le_v4, { .ipv = 4, .layer = 1, TCP80, A4O, .plen = 1 } },
    { "null_be_v4", DEC_LINK_NULL, b_null_be_v4, { .ipv = 4, .layer = 1, TCP80, A4O, .plen = 1 } },
    { "null_le_v6_24", DEC_LINK_NULL, b_null_le_v6_24, { .ipv = 6, .layer = 1, TCP80, A6O, .plen = 2 } },
    { "null_le_v6_28", DEC_LINK_NULL, b_null_le_v6_28, { .ipv = 6, .layer = 1, TCP80, A6O, .plen = 2 } },
    { "null_be_v6_30", DEC_LINK_NULL, b_null_be_v6_30, { .ipv = 6, .layer = 1, TCP80, A6O, .plen = 2 } },
    { "null_unknown_family", DEC_LINK_NULL, b_null_unknown, ERR(DEC_NOT_IP) },
    { "null_short", DEC_LINK_NULL, b_null_short, ERR(DEC_TRUNC_LINK) },
    { "loop_v4", DEC_LINK_LOOP, b_loop_v4, { .ipv = 4, .layer = 1, UDP53, A4O } },
    { "loop_host_order", DEC_LINK_LOOP, b_loop_le, ERR(DEC_NOT_IP) },
    { "ppp_v4", DEC_LINK_PPP, b_ppp_v4, { .ipv = 4, .layer = 1, TCP80, A4O, .plen = 5 } },
    { "ppp_v6_no_addr_ctrl", DEC_LINK_PPP, b_ppp_v6_noac, { .ipv = 6, .layer = 1, UDP53, A6O, .plen = 5 } },
    { "ppp_pfc", DEC_LINK_PPP, b_ppp_pfc, { .ipv = 4, .layer = 1, TCP80, A4O, .plen = 5 } },
    { "ppp_mpls", DEC_LINK_PPP, b_ppp_mpls, { .ipv = 4, .layer = 1, TCP80, A4O, .tunnel = DEC_TUN_MPLS, .plen = 5 } },
    { "ppp_lcp", DEC_LINK_PPP, b_ppp_lcp, ERR(DEC_NOT_IP) },
    { "ppp_empty", DEC_LINK_PPP, b_ppp_empty, ERR(DEC_TRUNC_LINK) },
    { "ppp_addr_ctrl_only", DEC_LINK_PPP, b_ppp_ff_only, ERR(DEC_TRUNC_LINK) },
    { "ppp_carrying_chdlc", DEC_LINK_PPP, b_ppp_chdlc, { .ipv = 4, .layer = 1, TCP80, A4O, .plen = 5 } },
    { "chdlc_v4", DEC_LINK_C_HDLC, b_chdlc_v4, { .ipv = 4, .layer = 1, TCP80, A4O, .plen = 5 } },
    { "chdlc_mpls_v6", DEC_LINK_C_HDLC, b_chdlc_mpls, { .ipv = 6, .layer = 1, TCP80, A6O, .tunnel = DEC_TUN_MPLS, .plen = 5 } },
    { "chdlc_slarp", DEC_LINK_C_HDLC, b_chdlc_slarp, ERR(DEC_NOT_IP) },
    { "chdlc_short", DEC_LINK_C_HDLC, b_chdlc_short, ERR(DEC_TRUNC_LINK) },
    { "nflog_v4", DEC_LINK_NFLOG, b_nflog_v4, { .ipv = 4, .layer = 1, TCP80, A4O, .plen = 1 } },
    { "nflog_v6", DEC_LINK_NFLOG, b_nflog_v6, { .ipv = 6, .layer = 1, UDP53, A6O, .plen = 3 } },
    { "nflog_unspec_family", DEC_LINK_NFLOG, b_nflog_unspec_v4, { .ipv = 4, .layer = 1, UDP53, A4O, .plen = 3 } },
    { "nflog_no_payload", DEC_LINK_NFLOG, b_nflog_nopayload, ERR(DEC_NOT_IP) },
    { "nflog_tlv_len_2", DEC_LINK_NFLOG, b_nflog_tlv_short, ERR(DEC_TRUNC_LINK) },
    { "nflog_tlv_overrun", DEC_LINK_NFLOG, b_nflog_tlv_overrun, ERR(DEC_TRUNC_LINK) },
    { "nflog_snaplen", DEC_LINK_NFLOG, b_nflog_snap, { .ipv = 4, .layer = 1, TCP80, A4O, .plen = 20 } },
    { "nflog_header_short", DEC_LINK_NFLOG, b_nflog_hdr_short, ERR(DEC_TRUNC_LINK) },
    { "unsupported_link", 147, b_eth_v4_tcp, ERR(DEC_UNSUPPORTED_LINK) },
    { "unsupported_link_negative", -1, b_eth_v4_tcp, ERR(DEC_UNSUPPORTED_LINK) },

    /* tags, labels, PPPoE */
    { "vlan", ETH, b_vlan1, { .ipv = 4, .layer = 1, TCP80, A4O, .mac = 1, .nvlan = 1, .vlan = { 100 }, .plen = 2 } },
    { "qinq_88a8", ETH, b_qinq, { .ipv = 4, .layer = 1, TCP80, A4O, .mac = 1, .nvlan = 2, .vlan = { 10, 20 }, .plen = 2 } },
    { "qinq_9100", ETH, b_vlan9100, { .ipv = 6, .layer = 1, UDP53, A6O, .mac = 1, .nvlan = 1, .vlan = { 30 }, .plen = 2 } },
    { "vlan_6_tags", ETH, b_vlan6, { .ipv = 4, .layer = 1, TCP80, A4O, .mac = 1, .nvlan = 4, .vlan = { 1, 2, 3, 4 }, .plen = 2 } },
    { "vlan_15_tags", ETH, b_vlan15, { .ipv = 4, .layer = 1, TCP80, A4O, .mac = 1, .nvlan = 4, .vlan = { 1, 2, 3, 4 }, .plen = 2 } },
    { "vlan_20_tags", ETH, b_vlan20, ERR(DEC_TOO_DEEP) },
    { "vlan_trunc", ETH, b_vlan_trunc, ERR(DEC_TRUNC_VLAN) },
    { "vlan_8023_snap", ETH, b_vlan_snap, { .ipv = 4, .layer = 1, UDP53, A4O, .mac = 1, .nvlan = 1, .vlan = { 5 }, .plen = 1 } },
    { "vntag", ETH, b_vntag, { .ipv = 4, .layer = 1, TCP80, A4O, .mac = 1, .nvlan = 1, .vlan = { 11 } } },
    { "vntag_short", ETH, b_vntag_short, ERR(DEC_TRUNC_VLAN) },
    { "mpls", ETH, b_mpls1, { .ipv = 4, .layer = 1, TCP80, A4O, .mac = 1, .tunnel = DEC_TUN_MPLS, .plen = 4 } },
    { "mpls_3_labels_v6", ETH, b_mpls3_v6, { .ipv = 6, .layer = 1, TCP80, A6O, .mac = 1, .tunnel = DEC_TUN_MPLS, .plen = 4 } },
    { "mpls_multicast", ETH, b_mpls_mc, { .ipv = 4, .layer = 1, UDP53, A4O, .mac = 1, .tunnel = DEC_TUN_MPLS, .plen = 4 } },
    { "mpls_trunc_label", ETH, b_mpls_trunc, ERR(DEC_TRUNC_MPLS) },
    { "mpls_no_payload", ETH, b_mpls_nopayload, ERR(DEC_TRUNC_MPLS) },
    { "mpls_pw_ethernet", ETH, b_mpls_pw, { .ipv = 4, .layer = 1, TCP80, A4I, .mac = 1, .tunnel = DEC_TUN_MPLS, .plen = 4 } },
    { "mpls_pw_trunc", ETH, b_mpls_pw_trunc, ERR(DEC_TRUNC_MPLS) },
    { "mpls_nibble_5", ETH, b_mpls_nibble5, ERR(DEC_NOT_IP) },
    { "mpls_20_labels", ETH, b_mpls_deep, ERR(DEC_TOO_DEEP) },
    { "vlan_mpls", ETH, b_vlan_mpls, { .ipv = 4, .layer = 1, TCP80, A4O, .mac = 1, .tunnel = DEC_TUN_MPLS, .nvlan = 1, .vlan = { 300 }, .plen = 1 } },
    { "pppoe_v4_padded", ETH, b_pppoe_v4, { .ipv = 4, .layer = 1, TCP80, A4O, .mac = 1, .tunnel = DEC_TUN_PPPOE, .plen = 3 } },
    { "pppoe_v6_qinq", ETH, b_pppoe_v6_qinq, { .ipv = 6, .layer = 1, UDP53, A6O, .mac = 1, .tunnel = DEC_TUN_PPPOE, .nvlan = 2, .vlan = { 3704, 2474 }, .plen = 3 } },
    { "pppoe_trunc", ETH, b_pppoe_trunc, ERR(DEC_TRUNC_PPPOE) },
    { "pppoe_lcp", ETH, b_pppoe_lcp, ERR(DEC_NOT_IP) },
    { "pppoe_length_0", ETH, b_pppoe_len0, ERR(DEC_TRUNC_PPPOE) },
    { "pppoe_not_session_code", ETH, b_pppoe_code, ERR(DEC_NOT_IP) },

    /* IPv4 */
    { "ip4_ihl_4", ETH, b_ip4_ihl4, ERR(DEC_BAD_IP_HLEN) },
    { "ip4_ihl_0", ETH, b_ip4_ihl0, ERR(DEC_BAD_IP_HLEN) },
    { "ip4_total_10", ETH, b_ip4_tot_small, ERR(DEC_BAD_IP_LEN) },
    { "ip4_total_lt_ihl", ETH, b_ip4_tot_lt_hlen, ERR(DEC_BAD_IP_LEN) },
    { "ip4_short", ETH, b_ip4_short, ERR(DEC_TRUNC_IP) },
    { "ip4_options_cut", ETH, b_ip4_opt_trunc, ERR(DEC_TRUNC_IP) },
    { "ip4_options_len_0_1", ETH, b_ip4_opt_len0, { .ipv = 4, .layer = 1, TCP80, A4O, .mac = 1, .plen = 6 } },
    { "ip4_ethernet_padding", ETH, b_ip4_pad, { .ipv = 4, .layer = 1, TCP_PORTS, .flags = 0x10, A4O, .mac = 1, .plen = 0 } },
    { "ip4_snaplen", ETH, b_ip4_snaplen, { .ipv = 4, .layer = 1, TCP80, A4O, .mac = 1, .plen = 26 } },
    { "ip4_total_0_tso", ETH, b_ip4_tso, { .ipv = 4, .layer = 1, TCP80, A4O, .mac = 1, .plen = 100 } },
    { "ip4_frag_first", ETH, b_ip4_frag_first, { .ipv = 4, .layer = 1, UDP53, A4O, .mac = 1, .frag = DEC_FRAG_FIRST, .ipid = 0xbeef, .plen = 24 } },
    { "ip4_frag_later", ETH, b_ip4_frag_later, { .ipv = 4, .layer = 1, .proto = 17, A4O, .mac = 1, .frag = DEC_FRAG_LATER, .ipid = 0xbeef } },
    { "ip4_frag_last", ETH, b_ip4_frag_last, { .ipv = 4, .layer = 1, .proto = 6, A4O, .mac = 1, .frag = DEC_FRAG_LATER, .ipid = 7 } },
    { "ip4_df_not_frag", ETH, b_ip4_df, { .ipv = 4, .layer = 1, TCP80, A4O, .mac = 1 } },
    { "ip4_type_v6_packet", ETH, b_ip4_wrongver, ERR(DEC_BAD_IP_VERSION) },
    { "ip6_type_v4_packet", ETH, b_ip6_wrongver, ERR(DEC_BAD_IP_VERSION) },

    /* IPv6 */
    { "ip6_ext_chain", ETH, b_ip6_ext, { .ipv = 6, .layer = 1, TCP80, A6O, .mac = 1, .plen = 3 } },
    { "ip6_frag_first", ETH, b_ip6_frag_first, { .ipv = 6, .layer = 1, UDP53, A6O, .mac = 1, .frag = DEC_FRAG_FIRST, .ipid = 0xdeadbeef, .plen = 16 } },
    { "ip6_frag_later", ETH, b_ip6_frag_later, { .ipv = 6, .layer = 1, .proto = 6, A6O, .mac = 1, .frag = DEC_FRAG_LATER, .ipid = 0x01020304 } },
    { "ip6_atomic_frag", ETH, b_ip6_atomic, { .ipv = 6, .layer = 1, TCP80, A6O, .mac = 1, .ipid = 77 } },
    { "ip6_ah", ETH, b_ip6_ah, { .ipv = 6, .layer = 1, TCP80, A6O, .mac = 1, .plen = 1 } },
    { "ip6_esp", ETH, b_ip6_esp, { .ipv = 6, .layer = 1, .proto = 50, A6O, .mac = 1 } },
    { "ip6_no_next", ETH, b_ip6_none, { .ipv = 6, .layer = 1, .proto = 59, A6O, .mac = 1 } },
    { "ip6_mobility", ETH, b_ip6_mobility, { .ipv = 6, .layer = 1, .proto = 59, A6O, .mac = 1 } },
    { "ip6_hip_shim6", ETH, b_ip6_hip_shim6, { .ipv = 6, .layer = 1, .proto = 17, .ports = 1, .sport = 1, .dport = 2, A6O, .mac = 1 } },
    { "ip6_16_ext", ETH, b_ip6_ext16, { .ipv = 6, .layer = 1, UDP53, A6O, .mac = 1 } },
    { "ip6_17_ext", ETH, b_ip6_ext17, ERR(DEC_TOO_DEEP) },
    { "ip6_ext_past_plen", ETH, b_ip6_ext_overrun, ERR(DEC_BAD_EXT_HDR) },
    { "ip6_ext_snaplen", ETH, b_ip6_ext_snap, ERR(DEC_TRUNC_IP) },
    { "ip6_short", ETH, b_ip6_short, ERR(DEC_TRUNC_IP) },
    { "ip6_jumbo", ETH, b_ip6_jumbo, { .ipv = 6, .layer = 1, TCP80, A6O, .mac = 1, .plen = 5 } },

    /* transports */
    { "tcp_doff_4", ETH, b_tcp_doff4, ERR(DEC_BAD_TCP_HLEN) },
    { "tcp_19_bytes", ETH, b_tcp_19, ERR(DEC_TRUNC_L4) },
    { "tcp_ports_only", ETH, b_tcp_ports_only, ERR(DEC_TRUNC_L4) },
    { "tcp_options", ETH, b_tcp_opts, { .ipv = 4, .layer = 1, TCP_PORTS, .flags = 0x02, A4O, .mac = 1, .plen = 3 } },
    { "tcp_options_snaplen", ETH, b_tcp_opt_snap, { .ipv = 4, .layer = 1, TCP_PORTS, .flags = 0x02, A4O, .mac = 1 } },
    { "udp_7_bytes", ETH, b_udp_7, ERR(DEC_TRUNC_L4) },
    { "udp_len_3", ETH, b_udp_len3, { .ipv = 4, .layer = 1, UDP53, A4O, .mac = 1, .plen = 20 } },
    { "udp_len_600", ETH, b_udp_len_big, { .ipv = 4, .layer = 1, UDP53, A4O, .mac = 1, .plen = 20 } },
    { "udp_len_12", ETH, b_udp_len_small, { .ipv = 4, .layer = 1, UDP53, A4O, .mac = 1, .plen = 4 } },
    { "sctp", ETH, b_sctp, { .ipv = 4, .layer = 1, .proto = 132, .ports = 1, .sport = 2905, .dport = 36412, A4O, .mac = 1, .plen = 16 } },
    { "sctp_short", ETH, b_sctp_short, ERR(DEC_TRUNC_L4) },
    { "icmp_echo", ETH, b_icmp_echo, { .ipv = 4, .layer = 1, .proto = 1, .itype = 8, .sport = 0x4242, .dport = 0x4242, A4O, .mac = 1, .plen = 56 } },
    { "icmp_unreach_quoting_udp", ETH, b_icmp_unreach, { .ipv = 4, .layer = 1, .proto = 1, .itype = 3, .icode = 3, A4O, .mac = 1, .plen = 28 } },
    { "icmp_3_bytes", ETH, b_icmp_short, ERR(DEC_TRUNC_L4) },
    { "icmp_echo_6_bytes", ETH, b_icmp_echo_short, ERR(DEC_TRUNC_L4) },
    { "icmp6_echo_reply", ETH, b_icmp6_echo_reply, { .ipv = 6, .layer = 1, .proto = 58, .itype = 129, .sport = 0x777, .dport = 0x777, A6O, .mac = 1, .plen = 8 } },
    { "icmp6_ns", ETH, b_icmp6_ns, { .ipv = 6, .layer = 1, .proto = 58, .itype = 135, A6O, .mac = 1, .plen = 16 } },
    { "ospf", ETH, b_ospf, { .ipv = 4, .layer = 1, .proto = 89, A4O, .mac = 1 } },

    /* GRE, ERSPAN */
    { "gre_v4", ETH, b_gre_v4, { .ipv = 4, .layer = 2, UDP53, A4I, .mac = 1, .tunnel = DEC_TUN_GRE, .plen = 6 } },
    { "gre_csum_key_seq_v6", ETH, b_gre_cks, { .ipv = 6, .layer = 2, TCP80, A6I, .mac = 1, .tunnel = DEC_TUN_GRE, .vni_set = 1, .vni = 0x01020304, .plen = 6 } },
    { "gre_short", ETH, b_gre_short, ERR(DEC_TRUNC_TUNNEL) },
    { "gre_key_missing", ETH, b_gre_key_missing, ERR(DEC_TRUNC_TUNNEL) },
    { "gre_teb", ETH, b_gre_teb, { .ipv = 4, .layer = 2, TCP80, A4I, .mac = 1, .tunnel = DEC_TUN_GRE, .plen = 6 } },
    { "gre_teb_vlan", ETH, b_gre_teb_vlan, { .ipv = 4, .layer = 2, TCP80, A4I, .mac = 1, .tunnel = DEC_TUN_GRE, .nvlan = 1, .vlan = { 77 }, .plen = 6 } },
    { "erspan2", ETH, b_erspan2, { .ipv = 4, .layer = 2, TCP80, A4I, .mac = 1, .tunnel = DEC_TUN_ERSPAN, .vni_set = 1, .vni = 0x155, .plen = 6 } },
    { "erspan1", ETH, b_erspan1, { .ipv = 4, .layer = 2, TCP80, A4I, .mac = 1, .tunnel = DEC_TUN_ERSPAN, .plen = 6 } },
    { "erspan3_o", ETH, b_erspan3_o, { .ipv = 6, .layer = 2, UDP53, A6I, .mac = 1, .tunnel = DEC_TUN_ERSPAN, .vni_set = 1, .vni = 0x3ff, .plen = 6 } },
    { "erspan3", ETH, b_erspan3, { .ipv = 4, .layer = 2, TCP80, A4I, .mac = 1, .tunnel = DEC_TUN_ERSPAN, .vni_set = 1, .vni = 1, .plen = 6 } },
    { "erspan2_trunc", ETH, b_erspan_trunc, ERR(DEC_TRUNC_TUNNEL) },
    { "erspan3_subheader_trunc", ETH, b_erspan3_o_trunc, ERR(DEC_TRUNC_TUNNEL) },
    { "gre_mpls", ETH, b_gre_mpls, { .ipv = 4, .layer = 2, TCP80, A4I, .mac = 1, .tunnel = DEC_TUN_GRE, .plen = 6 } },
    /* inner failures: the outer GRE flow */
    { "gre_inner_ip_trunc", ETH, b_gre_inner_trunc, { .ipv = 4, .layer = 1, .proto = 47, A4O, .mac = 1 } },
    { "gre_teb_arp", ETH, b_gre_arp, { .ipv = 4, .layer = 1, .proto = 47, A4O, .mac = 1 } },
    { "gre_version_2", ETH, b_gre_ver2, { .ipv = 4, .layer = 1, .proto = 47, A4O, .mac = 1 } },
    { "gre_routing", ETH, b_gre_routing, { .ipv = 4, .layer = 1, .proto = 47, A4O, .mac = 1 } },
    { "gre_pptp", ETH, b_gre_pptp, { .ipv = 4, .layer = 2, TCP80, A4I, .mac = 1, .tunnel = DEC_TUN_GRE } },
    { "gre_v0_ppp", ETH, b_gre_ppp_v0, { .ipv = 4, .layer = 1, .proto = 47, A4O, .mac = 1 } },
    { "gre_nested_7", ETH, b_gre_nest7, { .ipv = 4, .layer = 8, TCP80, A4J, .mac = 1, .tunnel = DEC_TUN_GRE } },
    { "gre_nested_8", ETH, b_gre_nest8, ERR(DEC_TOO_DEEP) },

    /* UDP tunnels */
    { "vxlan", ETH, b_vxlan, { .ipv = 4, .layer = 2, TCP80, A4I, .mac = 1, .tunnel = DEC_TUN_VXLAN, .vni_set = 1, .vni = 123, .nvlan = 1, .vlan = { 9 }, .plen = 5 } },
    { "vxlan_no_i_flag", ETH, b_vxlan_noi, { .ipv = 4, .layer = 2, TCP80, A4I, .mac = 1, .tunnel = DEC_TUN_VXLAN, .plen = 5 } },
    { "vxlan_src_port_only", ETH, b_vxlan_sport, { .ipv = 4, .layer = 1, .proto = 17, .ports = 1, .sport = 4789, .dport = 50000, A4O, .mac = 1, .plen = 8 + 14 + 40 + 5 } },
    { "vxlan_garbage", ETH, b_vxlan_garbage, { .ipv = 4, .layer = 1, .proto = 17, .ports = 1, .sport = 50000, .dport = 4789, A4O, .mac = 1, .plen = 14 } },
    { "vxlan_trunc", ETH, b_vxlan_trunc, { .ipv = 4, .layer = 1, .proto = 17, .ports = 1, .sport = 50000, .dport = 4789, A4O, .mac = 1, .plen = 4 } },
    { "vxlan_arp", ETH, b_vxlan_arp, { .ipv = 4, .layer = 1, .proto = 17, .ports = 1, .sport = 50000, .dport = 4789, A4O, .mac = 1, .plen = 8 + 14 + 28 } },
    { "vxlan_from_dns_port", ETH, b_vxlan_dns, { .ipv = 4, .layer = 1, .proto = 17, .ports = 1, .sport = 53, .dport = 4789, A4O, .mac = 1, .plen = 8 + 14 + 40 + 5 } },
    { "vxlan_inner_ip_trunc", ETH, b_vxlan_inner_trunc, { .ipv = 4, .layer = 1, .proto = 17, .ports = 1, .sport = 50000, .dport = 4789, A4O, .mac = 1, .plen = 8 + 14 + 12 } },
    { "vxlan_gre", ETH, b_vxlan_gre, { .ipv = 4, .layer = 3, TCP80, A4J, .mac = 1, .tunnel = DEC_TUN_VXLAN, .vni_set = 1, .vni = 7, .plen = 1 } },
    { "geneve_eth", ETH, b_geneve, { .ipv = 4, .layer = 2, TCP80, A4I, .mac = 1, .tunnel = DEC_TUN_GENEVE, .vni_set = 1, .vni = 0xabcd, .plen = 2 } },
    { "geneve_ip", ETH, b_geneve_ip, { .ipv = 6, .layer = 2, UDP53, A6I, .mac = 1, .tunnel = DEC_TUN_GENEVE, .vni_set = 1, .vni = 1, .plen = 2 } },
    { "geneve_version_1", ETH, b_geneve_ver1, { .ipv = 4, .layer = 1, .proto = 17, .ports = 1, .sport = 40000, .dport = 6081, A4O, .mac = 1, .plen = 8 + 14 + 40 + 2 } },
    { "geneve_options_trunc", ETH, b_geneve_opt_trunc, { .ipv = 4, .layer = 1, .proto = 17, .ports = 1, .sport = 40000, .dport = 6081, A4O, .mac = 1, .plen = 28 } },
    { "gtpu", ETH, b_gtp, { .ipv = 4, .layer = 2, TCP80, A4I, .mac = 1, .tunnel = DEC_TUN_GTPU, .plen = 4 } },
    { "gtpu_seq_v6", ETH, b_gtp_seq_v6, { .ipv = 6, .layer = 2, UDP53, A6I, .mac = 1, .tunnel = DEC_TUN_GTPU, .plen = 4 } },
    { "gtpu_ext_headers", ETH, b_gtp_ext, { .ipv = 4, .layer = 2, TCP80, A4I, .mac = 1, .tunnel = DEC_TUN_GTPU, .plen = 4 } },
    { "gtpu_ext_len_0", ETH, b_gtp_ext_len0, { .ipv = 4, .layer = 1, .proto = 17, .ports = 1, .sport = 2152, .dport = 2152, A4O, .mac = 1, .plen = 12 + 4 + 44 } },
    { "gtpu_echo", ETH, b_gtp_echo, { .ipv = 4, .layer = 1, .proto = 17, .ports = 1, .sport = 2152, .dport = 2152, A4O, .mac = 1, .plen = 12 } },
    { "gtp_v2", ETH, b_gtp_v2, { .ipv = 4, .layer = 1, .proto = 17, .ports = 1, .sport = 2152, .dport = 2152, A4O, .mac = 1, .plen = 8 + 44 } },
    { "gtpu_length_clamps", ETH, b_gtp_padded, { .ipv = 4, .layer = 2, UDP53, A4I, .mac = 1, .tunnel = DEC_TUN_GTPU, .plen = 2 } },
    { "teredo", ETH, b_teredo, { .ipv = 6, .layer = 2, TCP80, A6I, .mac = 1, .tunnel = DEC_TUN_TEREDO, .plen = 7 } },
    { "teredo_origin", ETH, b_teredo_origin, { .ipv = 6, .layer = 2, UDP53, A6I, .mac = 1, .tunnel = DEC_TUN_TEREDO, .plen = 7 } },
    { "teredo_auth_bubble", ETH, b_teredo_auth, { .ipv = 6, .layer = 2, .proto = 59, A6I, .mac = 1, .tunnel = DEC_TUN_TEREDO } },
    { "teredo_implausible", ETH, b_teredo_implausible, { .ipv = 4, .layer = 1, .proto = 17, .ports = 1, .sport = 3544, .dport = 50001, A4O, .mac = 1, .plen = 60 } },
    { "teredo_ipv4_inside", ETH, b_teredo_v4, { .ipv = 4, .layer = 1, .proto = 17, .ports = 1, .sport = 3544, .dport = 50001, A4O, .mac = 1, .plen = 70 } },
    { "capwap_8023", ETH, b_capwap_8023, { .ipv = 4, .layer = 2, TCP80, A4I, .mac = 1, .tunnel = DEC_TUN_CAPWAP, .plen = 3 } },
    { "capwap_80211_cisco", ETH, b_capwap_80211_cisco, { .ipv = 4, .layer = 2, UDP53, A4I, .mac = 1, .tunnel = DEC_TUN_CAPWAP, .plen = 3 } },
    { "capwap_80211_qos", ETH, b_capwap_80211_qos, { .ipv = 6, .layer = 2, TCP80, A6I, .mac = 1, .tunnel = DEC_TUN_CAPWAP, .plen = 3 } },
    { "capwap_80211_protected", ETH, b_capwap_80211_protected, { .ipv = 4, .layer = 1, .proto = 17, .ports = 1, .sport = 12380, .dport = 5247, A4O, .mac = 1, .plen = 8 + 24 + 8 + 31 } },
    { "capwap_80211_mgmt", ETH, b_capwap_80211_mgmt, { .ipv = 4, .layer = 1, .proto = 17, .ports = 1, .sport = 12380, .dport = 5247, A4O, .mac = 1, .plen = 8 + 24 + 30 } },
    { "capwap_dtls", ETH, b_capwap_dtls, { .ipv = 4, .layer = 1, .proto = 17, .ports = 1, .sport = 12380, .dport = 5247, A4O, .mac = 1, .plen = 44 } },
    { "capwap_keepalive", ETH, b_capwap_keepalive, { .ipv = 4, .layer = 1, .proto = 17, .ports = 1, .sport = 12380, .dport = 5247, A4O, .mac = 1, .plen = 20 } },
    { "capwap_hlen_1", ETH, b_capwap_hlen1, { .ipv = 4, .layer = 1, .proto = 17, .ports = 1, .sport = 12380, .dport = 5247, A4O, .mac = 1, .plen = 8 + 14 + 43 } },
    { "ayiya_v6", ETH, b_ayiya_v6, { .ipv = 6, .layer = 2, TCP80, A6I, .mac = 1, .tunnel = DEC_TUN_AYIYA, .plen = 8 } },
    { "ayiya_v4", ETH, b_ayiya_v4, { .ipv = 4, .layer = 2, UDP53, A4I, .mac = 1, .tunnel = DEC_TUN_AYIYA, .plen = 8 } },
    { "ayiya_heartbeat", ETH, b_ayiya_heartbeat, { .ipv = 4, .layer = 1, .proto = 17, .ports = 1, .sport = 5072, .dport = 5072, A4O, .mac = 1, .plen = 44 } },
    { "ayiya_identity_trunc", ETH, b_ayiya_trunc, { .ipv = 4, .layer = 1, .proto = 17, .ports = 1, .sport = 5072, .dport = 5072, A4O, .mac = 1, .plen = 54 } },

    /* IP in IP */
    { "ipip", ETH, b_ipip, { .ipv = 4, .layer = 2, TCP80, A4I, .mac = 1, .tunnel = DEC_TUN_IPIP, .plen = 3 } },
    { "6in4", ETH, b_6in4, { .ipv = 6, .layer = 2, UDP53, A6I, .mac = 1, .tunnel = DEC_TUN_IPIP, .plen = 3 } },
    { "4in6", ETH, b_4in6, { .ipv = 4, .layer = 2, TCP80, A4I, .mac = 1, .tunnel = DEC_TUN_IPIP, .plen = 3 } },
    { "6in6in6", ETH, b_6in6in6, { .ipv = 6, .layer = 3, TCP80, A6J, .mac = 1, .tunnel = DEC_TUN_IPIP, .plen = 3 } },
    { "ipip_inner_trunc", ETH, b_ipip_trunc, { .ipv = 4, .layer = 1, .proto = 4, A4O, .mac = 1 } },
    { "ipip_inner_later_frag", ETH, b_ipip_later_frag, { .ipv = 4, .layer = 2, .proto = 17, A4I, .mac = 1, .tunnel = DEC_TUN_IPIP, .frag = DEC_FRAG_LATER, .ipid = 0x5151 } },
};

#define N_CASES (sizeof decode_cases / sizeof decode_cases[0])

/* ------------------------------------------------------------------ */
/* Checks                                                              */
/* ------------------------------------------------------------------ */

static void
addr(const char *text, int v, uint8_t out[16])
{
    memset(out, 0, 16);
    ck_assert_int_eq(inet_pton(v == 4 ? AF_INET : AF_INET6, text, out), 1);
}

/* Structural invariants of any DEC_OK result on the frame [p, p+n). */
static void
check_invariants(const pkt_meta *m, const uint8_t *p, size_t n)
{
    ck_assert(m->ip_version == 4 || m->ip_version == 6);
    ck_assert_uint_ge(m->ip_layer, 1);
    ck_assert_uint_le(m->n_vlan, DEC_MAX_VLAN);
    ck_assert_uint_le(m->tunnel, DEC_TUN_PPPOE);
    ck_assert_uint_le(m->frag, DEC_FRAG_LATER);
    ck_assert(m->l3 != NULL && m->l3 >= p && m->l3 <= p + n);
    ck_assert_uint_le(m->l3_len, (size_t)(p + n - m->l3));
    ck_assert_uint_ge(m->l3_len, m->ip_version == 4 ? 20 : 40);
    if (m->ip_version == 4)
        for (int i = 4; i < 16; i++)
            ck_assert(m->src[i] == 0 && m->dst[i] == 0);
    if (m->frag == DEC_FRAG_LATER) {
        ck_assert_ptr_null(m->l4);
        ck_assert_uint_eq(m->has_ports, 0);
    } else {
        ck_assert_ptr_nonnull(m->l4);
        ck_assert(m->l4 >= m->l3 && m->l4 + m->l4_len == m->l3 + m->l3_len);
    }
    if (m->payload != NULL) {
        ck_assert(m->l4 != NULL && m->payload >= m->l4);
        ck_assert(m->payload + m->payload_len <= m->l4 + m->l4_len);
    } else {
        ck_assert_uint_eq(m->payload_len, 0);
    }
    if (m->has_ports)
        ck_assert(m->proto == 6 || m->proto == 17 || m->proto == 132);
    if (m->has_vni)
        ck_assert_uint_ne(m->tunnel, DEC_TUN_NONE);
}

/* Decode a copy of f in a buffer of exactly its size (for ASan). */
static dec_status
decode_exact(int link, const uint8_t *frame, size_t n, pkt_meta *m, uint8_t **copy)
{
    *copy = n ? malloc(n) : NULL;
    if (n)
        memcpy(*copy, frame, n);
    return dec_packet(link, *copy, n, m);
}

START_TEST(test_decode_table)
{
    const dcase *c = &decode_cases[_i];
    const expect *e = &c->e;
    fb f = { .n = 0 };
    pkt_meta m;
    uint8_t *buf, a[16];
    dec_status st;

    c->build(&f);
    st = decode_exact(c->link, f.b, f.n, &m, &buf);
    ck_assert_msg(st == e->st, "%s: status %s, expected %s", c->name,
                  dec_status_name(st), dec_status_name(e->st));
    if (st == DEC_OK) {
        check_invariants(&m, buf, f.n);
        ck_assert_msg(m.ip_version == e->ipv, "%s: ip_version %u", c->name, m.ip_version);
        ck_assert_msg(m.proto == e->proto, "%s: proto %u", c->name, m.proto);
        ck_assert_msg(m.ip_layer == e->layer, "%s: ip_layer %u", c->name, m.ip_layer);
        ck_assert_msg(m.tunnel == e->tunnel, "%s: tunnel %u", c->name, m.tunnel);
        ck_assert_msg(m.frag == e->frag, "%s: frag %u", c->name, m.frag);
        ck_assert_msg(m.has_ports == e->ports, "%s: has_ports %u", c->name, m.has_ports);
        ck_assert_msg(m.sport == e->sport && m.dport == e->dport,
                      "%s: ports %u %u", c->name, m.sport, m.dport);
        ck_assert_msg(m.tcp_flags == e->flags, "%s: tcp_flags %#x", c->name, m.tcp_flags);
        ck_assert_msg(m.icmp_type == e->itype && m.icmp_code == e->icode,
                      "%s: icmp %u/%u", c->name, m.icmp_type, m.icmp_code);
        ck_assert_msg(m.has_vni == e->vni_set, "%s: has_vni %u", c->name, m.has_vni);
        if (e->vni_set)
            ck_assert_msg(m.vni == e->vni, "%s: vni %#x", c->name, m.vni);
        ck_assert_msg(m.has_mac == e->mac, "%s: has_mac %u", c->name, m.has_mac);
        ck_assert_msg(m.ip_id == e->ipid, "%s: ip_id %#x", c->name, m.ip_id);
        ck_assert_msg(m.payload_len == e->plen, "%s: payload_len %zu, expected %zu",
                      c->name, m.payload_len, e->plen);
        ck_assert_msg(m.n_vlan == e->nvlan, "%s: n_vlan %u", c->name, m.n_vlan);
        for (int i = 0; i < e->nvlan; i++)
            ck_assert_msg(m.vlan[i] == e->vlan[i], "%s: vlan[%d] %u", c->name, i, m.vlan[i]);
        ck_assert_ptr_nonnull(e->src);
        addr(e->src, e->ipv, a);
        ck_assert_msg(memcmp(m.src, a, 16) == 0, "%s: src", c->name);
        addr(e->dst, e->ipv, a);
        ck_assert_msg(memcmp(m.dst, a, 16) == 0, "%s: dst", c->name);
    }
    free(buf);
}
END_TEST

/* Every case's frame cut at every length: in bounds, sane, never DEC_OK
 * with a flow deeper than the whole frame's. */
START_TEST(test_decode_prefixes)
{
    const dcase *c = &decode_cases[_i];
    fb f = { .n = 0 };
    pkt_meta m;
    uint8_t *buf;

    c->build(&f);
    for (size_t n = 0; n < f.n; n++) {
        dec_status st = decode_exact(c->link, f.b, n, &m, &buf);
        ck_assert_int_lt(st, DEC_STATUS_COUNT);
        if (st == DEC_OK)
            check_invariants(&m, buf, n);
        free(buf);
    }
}
END_TEST

/* Every byte of every case set to 0x00, 0xff, and flipped. */
START_TEST(test_decode_mutations)
{
    const dcase *c = &decode_cases[_i];
    fb f = { .n = 0 };
    pkt_meta m;
    uint8_t *buf;

    c->build(&f);
    for (size_t i = 0; i < f.n; i++) {
        uint8_t orig = f.b[i];
        const uint8_t vals[3] = { 0x00, 0xff, (uint8_t)(orig ^ 0x5a) };
        for (int k = 0; k < 3; k++) {
            f.b[i] = vals[k];
            dec_status st = decode_exact(c->link, f.b, f.n, &m, &buf);
            ck_assert_int_lt(st, DEC_STATUS_COUNT);
            if (st == DEC_OK)
                check_invariants(&m, buf, f.n);
            free(buf);
        }
        f.b[i] = orig;
    }
}
END_TEST

/* Cut a frame at every byte: the status must name the layer cut. */
typedef struct cut {
    size_t below;           /* lengths < below ... */
    dec_status st;          /* ... give this status */
    uint8_t layer;          /* and, when DEC_OK, this ip_layer */
} cut;

typedef struct cut_case {
    const char *name;
    void (*build)(fb *f);
    cut cuts[8];
} cut_case;

B(b_cut_vlan) { eth(f, 0x8100); vlan(f, 1, 0x0800); v4tcp(f, O4S, O4D, 0); }
B(b_cut_mpls) { eth(f, 0x8847); label(f, 1, 1); v6udp(f, 1, 0); }
B(b_cut_pppoe) { eth(f, 0x8864); size_t at = pppoe(f, 0x0021); v4udp(f, O4S, O4D, 0); pppoe_end(f, at); }
B(b_cut_gre) { size_t o = outer4(f, 47); fb_be16(f, 0x2000); fb_be16(f, 0x0800); fb_be32(f, 1); v4tcp(f, I4S, I4D, 0); ip4_end(f, o); }
B(b_cut_vxlan) { size_t o, u; outer_udp(f, 10000, 4789, &o, &u); vxlan_hdr(f, 8, 1); ieth(f, 0x0800); v4tcp(f, I4S, I4D, 0); outer_udp_end(f, o, u); }
B(b_cut_ip6ext) { eth(f, 0x86dd); size_t at = ip6(f, 0, 1); ext(f, 44, 0); frag6(f, 17, 0, 1, 1); udp_end(f, udp(f, 1, 2)); ip6_end(f, at); }

static const cut_case cut_cases[] = {
    { "eth_vlan_ip4_tcp", b_cut_vlan, { { 14, DEC_TRUNC_LINK, 0 }, { 18, DEC_TRUNC_VLAN, 0 },
        { 38, DEC_TRUNC_IP, 0 }, { 58, DEC_TRUNC_L4, 0 }, { SIZE_MAX, DEC_OK, 1 } } },
    { "eth_mpls_ip6_udp", b_cut_mpls, { { 14, DEC_TRUNC_LINK, 0 }, { 19, DEC_TRUNC_MPLS, 0 },
        { 58, DEC_TRUNC_IP, 0 }, { 66, DEC_TRUNC_L4, 0 }, { SIZE_MAX, DEC_OK, 1 } } },
    { "eth_pppoe_ip4_udp", b_cut_pppoe, { { 14, DEC_TRUNC_LINK, 0 }, { 22, DEC_TRUNC_PPPOE, 0 },
        { 42, DEC_TRUNC_IP, 0 }, { 50, DEC_TRUNC_L4, 0 }, { SIZE_MAX, DEC_OK, 1 } } },
    /* inside GRE, a cut inner packet leaves the outer GRE flow */
    { "eth_ip4_gre_ip4_tcp", b_cut_gre, { { 14, DEC_TRUNC_LINK, 0 }, { 34, DEC_TRUNC_IP, 0 },
        { 42, DEC_TRUNC_TUNNEL, 0 }, { 82, DEC_OK, 1 }, { SIZE_MAX, DEC_OK, 2 } } },
    /* inside UDP, anything cut leaves the outer UDP flow */
    { "eth_ip4_udp_vxlan_eth_ip4_tcp", b_cut_vxlan, { { 14, DEC_TRUNC_LINK, 0 }, { 34, DEC_TRUNC_IP, 0 },
        { 42, DEC_TRUNC_L4, 0 }, { 104, DEC_OK, 1 }, { SIZE_MAX, DEC_OK, 2 } } },
    { "eth_ip6_frag_udp", b_cut_ip6ext, { { 14, DEC_TRUNC_LINK, 0 }, { 70, DEC_TRUNC_IP, 0 },
        { 78, DEC_TRUNC_L4, 0 }, { SIZE_MAX, DEC_OK, 1 } } },
};

START_TEST(test_decode_cuts)
{
    const cut_case *c = &cut_cases[_i];
    fb f = { .n = 0 };
    pkt_meta m;
    uint8_t *buf;

    c->build(&f);
    for (size_t n = 0; n <= f.n; n++) {
        const cut *k = c->cuts;
        while (n >= k->below)
            k++;
        dec_status st = decode_exact(ETH, f.b, n, &m, &buf);
        ck_assert_msg(st == k->st, "%s cut at %zu: %s, expected %s", c->name, n,
                      dec_status_name(st), dec_status_name(k->st));
        if (st == DEC_OK) {
            check_invariants(&m, buf, n);
            ck_assert_msg(m.ip_layer == k->layer, "%s cut at %zu: layer %u",
                          c->name, n, m.ip_layer);
        }
        free(buf);
    }
}
END_TEST

/* Lengths and pointers, which the table checks only through payload_len. */
START_TEST(test_decode_lengths)
{
    fb f = { .n = 0 };
    pkt_meta m;

    /* 54-byte frame padded to 60: the padding is not IP */
    b_ip4_pad(&f);
    ck_assert_int_eq(dec_packet(ETH, f.b, f.n, &m), DEC_OK);
    ck_assert_ptr_eq(m.l3, f.b + 14);
    ck_assert_uint_eq(m.l3_len, 40);
    ck_assert_ptr_eq(m.l4, f.b + 34);
    ck_assert_uint_eq(m.l4_len, 20);
    ck_assert_ptr_eq(m.payload, f.b + 54);
    ck_assert_uint_eq(m.payload_len, 0);

    /* total length 1500, 80 captured: as captured */
    f.n = 0;
    b_ip4_snaplen(&f);
    ck_assert_int_eq(dec_packet(ETH, f.b, f.n, &m), DEC_OK);
    ck_assert_uint_eq(m.l3_len, 20 + 20 + 26);
    ck_assert_uint_eq(m.l4_len, 20 + 26);

    /* IPv6 extension headers: l4 after them */
    f.n = 0;
    b_ip6_ext(&f);
    ck_assert_int_eq(dec_packet(ETH, f.b, f.n, &m), DEC_OK);
    ck_assert_uint_eq(m.l3_len, 40 + 8 + 16 + 8 + 20 + 3);
    ck_assert_ptr_eq(m.l4, f.b + 14 + 40 + 32);
    ck_assert_uint_eq(m.l4_len, 23);

    /* UDP length 12 in a 28-byte IP payload */
    f.n = 0;
    b_udp_len_small(&f);
    ck_assert_int_eq(dec_packet(ETH, f.b, f.n, &m), DEC_OK);
    ck_assert_uint_eq(m.l4_len, 28);
    ck_assert_ptr_eq(m.payload, f.b + 42);
    ck_assert_uint_eq(m.payload_len, 4);

    /* TCP options cut by the snap length: no payload */
    f.n = 0;
    b_tcp_opt_snap(&f);
    ck_assert_int_eq(dec_packet(ETH, f.b, f.n, &m), DEC_OK);
    ck_assert_ptr_null(m.payload);
    ck_assert_uint_eq(m.l4_len, 24);

    /* later fragment: no L4 */
    f.n = 0;
    b_ip4_frag_later(&f);
    ck_assert_int_eq(dec_packet(ETH, f.b, f.n, &m), DEC_OK);
    ck_assert_ptr_null(m.l4);
    ck_assert_ptr_null(m.payload);
    ck_assert_uint_eq(m.l3_len, 60);

    /* tunnel: l3 is the inner header */
    f.n = 0;
    b_gtp(&f);
    ck_assert_int_eq(dec_packet(ETH, f.b, f.n, &m), DEC_OK);
    ck_assert_ptr_eq(m.l3, f.b + 14 + 20 + 8 + 8);
    ck_assert_uint_eq(m.l3_len, 44);

    /* fallback: l3/l4 are the outer UDP flow's again */
    f.n = 0;
    b_vxlan_garbage(&f);
    ck_assert_int_eq(dec_packet(ETH, f.b, f.n, &m), DEC_OK);
    ck_assert_ptr_eq(m.l3, f.b + 14);
    ck_assert_ptr_eq(m.l4, f.b + 34);
    ck_assert_ptr_eq(m.payload, f.b + 42);

    /* NULL frame */
    ck_assert_int_eq(dec_packet(ETH, NULL, 0, &m), DEC_TRUNC_LINK);
    ck_assert_int_eq(dec_packet(DEC_LINK_RAW, NULL, 0, &m), DEC_TRUNC_IP);
}
END_TEST

/* The innermost Ethernet's MACs, and 802.11's DA/SA. */
START_TEST(test_decode_macs)
{
    static const uint8_t o_dst[6] = { 2, 0, 0, 0, 0, 2 }, o_src[6] = { 2, 0, 0, 0, 0, 1 };
    static const uint8_t i_dst[6] = { 6, 0, 0, 0, 0, 0xb }, i_src[6] = { 6, 0, 0, 0, 0, 0xa };
    static const uint8_t a1[6] = { 0xa1, 1, 1, 1, 1, 1 }, a2[6] = { 0xa2, 2, 2, 2, 2, 2 },
                         a3[6] = { 0xa3, 3, 3, 3, 3, 3 };
    fb f = { .n = 0 };
    pkt_meta m;

    b_eth_v4_tcp(&f);
    ck_assert_int_eq(dec_packet(ETH, f.b, f.n, &m), DEC_OK);
    ck_assert_mem_eq(m.dst_mac, o_dst, 6);
    ck_assert_mem_eq(m.src_mac, o_src, 6);

    f.n = 0;
    b_vxlan(&f);
    ck_assert_int_eq(dec_packet(ETH, f.b, f.n, &m), DEC_OK);
    ck_assert_mem_eq(m.dst_mac, i_dst, 6);
    ck_assert_mem_eq(m.src_mac, i_src, 6);

    /* fallback restores the outer MACs */
    f.n = 0;
    b_vxlan_arp(&f);
    ck_assert_int_eq(dec_packet(ETH, f.b, f.n, &m), DEC_OK);
    ck_assert_mem_eq(m.dst_mac, o_dst, 6);

    f.n = 0;
    b_mpls_pw(&f);
    ck_assert_int_eq(dec_packet(ETH, f.b, f.n, &m), DEC_OK);
    ck_assert_mem_eq(m.src_mac, i_src, 6);

    /* To DS: DA = addr3, SA = addr2 */
    f.n = 0;
    b_capwap_80211_cisco(&f);
    ck_assert_int_eq(dec_packet(ETH, f.b, f.n, &m), DEC_OK);
    ck_assert_mem_eq(m.dst_mac, a3, 6);
    ck_assert_mem_eq(m.src_mac, a2, 6);

    /* From DS: DA = addr1, SA = addr3 */
    f.n = 0;
    b_capwap_80211_qos(&f);
    ck_assert_int_eq(dec_packet(ETH, f.b, f.n, &m), DEC_OK);
    ck_assert_mem_eq(m.dst_mac, a1, 6);
    ck_assert_mem_eq(m.src_mac, a3, 6);

    /* no Ethernet at all */
    f.n = 0;
    b_raw_v4_udp(&f);
    ck_assert_int_eq(dec_packet(DEC_LINK_RAW, f.b, f.n, &m), DEC_OK);
    ck_assert_uint_eq(m.has_mac, 0);
}
END_TEST

/* A flow found inside a tunnel after an IPv6 outer must not keep IPv6
 * address bytes in the IPv4 address. */
START_TEST(test_decode_v4_after_v6)
{
    fb f = { .n = 0 };
    pkt_meta m;
    uint8_t a[16];

    b_4in6(&f);
    ck_assert_int_eq(dec_packet(ETH, f.b, f.n, &m), DEC_OK);
    addr("192.168.1.1", 4, a);
    ck_assert_mem_eq(m.src, a, 16);
}
END_TEST

START_TEST(test_status_names)
{
    for (int i = 0; i < DEC_STATUS_COUNT; i++) {
        const char *n = dec_status_name((dec_status)i);
        ck_assert_ptr_nonnull(n);
        ck_assert_str_ne(n, "unknown");
        for (const char *p = n; *p; p++)
            ck_assert(( *p >= 'a' && *p <= 'z') || *p == '_' || (*p >= '0' && *p <= '9'));
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(n, dec_status_name((dec_status)j));
    }
    ck_assert_str_eq(dec_status_name(DEC_OK), "ok");
    ck_assert_str_eq(dec_status_name(DEC_NOT_IP), "not_ip");
    ck_assert_str_eq(dec_status_name(DEC_TRUNC_LINK), "truncated_link");
    ck_assert_str_eq(dec_status_name(DEC_TRUNC_VLAN), "truncated_vlan");
    ck_assert_str_eq(dec_status_name(DEC_TOO_DEEP), "too_deep");
    ck_assert_str_eq(dec_status_name(DEC_STATUS_COUNT), "unknown");
    ck_assert_str_eq(dec_status_name((dec_status)-1), "unknown");
}
END_TEST

START_TEST(test_link_names)
{
    static const struct { int lt; const char *name; } links[] = {
        { 0, "NULL" }, { 1, "EN10MB" }, { 9, "PPP" }, { 101, "RAW" }, { 12, "RAW" },
        { 14, "RAW" }, { 104, "C_HDLC" }, { 108, "LOOP" }, { 113, "LINUX_SLL" },
        { 228, "IPV4" }, { 229, "IPV6" }, { 239, "NFLOG" }, { 276, "LINUX_SLL2" },
    };
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        ck_assert_int_eq(dec_link_supported(links[i].lt), 1);
        ck_assert_str_eq(dec_link_name(links[i].lt), links[i].name);
    }
    ck_assert_int_eq(dec_link_supported(105), 0);     /* 802.11 */
    ck_assert_int_eq(dec_link_supported(-1), 0);
    ck_assert_str_eq(dec_link_name(127), "unknown");
}
END_TEST

Suite *
suite_decode(void)
{
    Suite *s = suite_create("decode");
    TCase *tc = tcase_create("table");

    tcase_add_loop_test(tc, test_decode_table, 0, (int)N_CASES);
    tcase_add_loop_test(tc, test_decode_cuts, 0,
                        (int)(sizeof cut_cases / sizeof cut_cases[0]));
    tcase_add_test(tc, test_decode_lengths);
    tcase_add_test(tc, test_decode_macs);
    tcase_add_test(tc, test_decode_v4_after_v6);
    tcase_add_test(tc, test_status_names);
    tcase_add_test(tc, test_link_names);
    suite_add_tcase(s, tc);

    tc = tcase_create("robustness");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_decode_prefixes, 0, (int)N_CASES);
    tcase_add_loop_test(tc, test_decode_mutations, 0, (int)N_CASES);
    suite_add_tcase(s, tc);
    return s;
}
