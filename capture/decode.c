/*
 * decode.c - packet decoder: link-layer frame -> pkt_meta (see decode.h).
 *
 * One function per protocol layer, outermost first, each reading its
 * header through a bounds-checked cursor (rd.h) the way its RFC draws it.
 * A header of fixed size (Ethernet, a VLAN tag, IPv4 with its options,
 * the fixed IPv6 header, TCP, UDP, SCTP) is taken whole with one check,
 * rd_hdr(), and its fields read at their offsets.  Ethernet carrying
 * IPv4, most frames, goes straight to dec_ipv4() without the ethertype
 * switch.
 * A layer hands the next one a reader that ends where its own length
 * field says the layer ends, so trailing Ethernet padding or a bogus inner
 * length can never be read as payload.  Nothing is allocated and nothing
 * is kept between calls.
 *
 * Nesting.  Every tag, label, tunnel header and IP header entered bumps a
 * depth counter; past DEC_MAX_DEPTH the frame is DEC_TOO_DEEP.  That is
 * what stops a VLAN flood or GRE-in-GRE-in-... from walking forever (and
 * bounds the recursion of these functions).  IPv6 extension headers have
 * their own bound of DEC_MAX_DEPTH per IPv6 header.
 *
 * Tunnels and their failures.  When a tunnel is unwrapped, ip_layer grows,
 * m->tunnel keeps the outermost tunnel kind and the flow becomes the
 * inner one.  If what is inside a tunnel does not decode -- a UDP payload
 * on port 4789 that is not really VXLAN, a GTP echo, ARP inside VXLAN, an
 * inner IP header cut short by the snap length -- the frame is reported
 * as the outer flow (the UDP, GRE or IP-in-IP flow that carried it) with
 * DEC_OK, restored from a copy of pkt_meta taken before the tunnel.  This
 * is what tshark does when its heuristics fail, and a frame that crossed
 * the wire in a real outer flow should be counted in it rather than
 * dropped.  Two exceptions: DEC_TOO_DEEP always propagates (a nesting
 * attack is not a flow), and a GRE or ERSPAN header that is itself cut
 * short is DEC_TRUNC_TUNNEL, as a short TCP header is DEC_TRUNC_L4.  UDP
 * tunnel headers cut short fall back to the UDP flow like any other
 * non-tunnel payload.  m->vni is the innermost tunnel's identifier.
 */
#include "decode.h"
#include "rd.h"

#include <string.h>

/* Decoder state for one frame. */
typedef struct dec_state {
    pkt_meta *m;        /* what we learn (the caller's) */
    int depth;          /* nested headers entered so far */
} dec_state;

/*
 * For the tunnel decoders called from dec_l4() and dec_udp(): inlined
 * there, their stack frames (a pkt_meta copy to fall back to) would be
 * set up for every plain TCP or UDP packet too.
 */
#define DEC_OUT_OF_LINE __attribute__((noinline))

/* Enter one nested layer (tag, label, tunnel, IP header). */
#define DEC_ENTER(s) do { \
        if (++(s)->depth > DEC_MAX_DEPTH) return DEC_TOO_DEEP; \
    } while (0)

#define ETH_IPV4    0x0800
#define ETH_IPV6    0x86dd
#define ETH_VLAN    0x8100
#define ETH_QINQ    0x88a8
#define ETH_QINQ_OLD 0x9100
#define ETH_VNTAG   0x8926
#define ETH_MPLS    0x8847
#define ETH_MPLS_MC 0x8848
#define ETH_PPPOE_S 0x8864
#define ETH_TEB     0x6558      /* transparent Ethernet bridging */
#define ETH_ERSPAN2 0x88be
#define ETH_ERSPAN3 0x22eb
#define ETH_PPP     0x880b

#define PPP_IPV4    0x0021
#define PPP_IPV6    0x0057
#define PPP_MPLS    0x0281
#define PPP_MPLS_MC 0x0283

#define IPP_ICMP    1
#define IPP_IPV4    4
#define IPP_TCP     6
#define IPP_UDP     17
#define IPP_IPV6    41
#define IPP_GRE     47
#define IPP_ICMPV6  58
#define IPP_SCTP    132

static dec_status dec_ether(dec_state *s, rd_t *r);
static dec_status dec_ethertype(dec_state *s, rd_t *r, uint16_t type);
static dec_status dec_ip(dec_state *s, rd_t *r);
static dec_status dec_ipv4(dec_state *s, rd_t *r);
static dec_status dec_ipv6(dec_state *s, rd_t *r);
static dec_status dec_chdlc(dec_state *s, rd_t *r);

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* Record the kind of a tunnel being unwrapped, if it is the outermost. */
static inline void
dec_tunnel(pkt_meta *m, int kind)
{
    if (m->tunnel == DEC_TUN_NONE)
        m->tunnel = (uint8_t)kind;
}

static inline void
dec_vni(pkt_meta *m, uint32_t vni)
{
    m->vni = vni;
    m->has_vni = 1;
}

/*
 * Start a frame: clear what only some frames set (tags, tunnel, MACs,
 * the IP layer count).  The rest of pkt_meta is set on the way to every
 * DEC_OK: the addresses, ip_id, frag and l3 by the IP decoders, proto and
 * the transport fields by dec_l4() or the later-fragment path (through
 * dec_l4_reset()).  Cheaper than zeroing the whole struct per frame.
 */
static inline void
dec_meta_start(pkt_meta *m)
{
    m->ip_layer = 0;
    m->n_vlan = 0;
    memset(m->vlan, 0, sizeof m->vlan);
    m->vni = 0;
    m->has_vni = 0;
    m->tunnel = DEC_TUN_NONE;
    m->has_mac = 0;
    memset(m->src_mac, 0, sizeof m->src_mac);
    memset(m->dst_mac, 0, sizeof m->dst_mac);
}

/*
 * End of a tunnel: keep the inner flow if it decoded, else put the outer
 * flow back (see the comment at the top).  Returns the frame's status.
 */
static dec_status
dec_inner_done(pkt_meta *m, const pkt_meta *outer, dec_status st)
{
    if (st == DEC_OK || st == DEC_TOO_DEEP)
        return st;
    *m = *outer;
    return DEC_OK;
}

/* ------------------------------------------------------------------ */
/* Layer 2                                                             */
/* ------------------------------------------------------------------ */

/*
 * IEEE 802.2 LLC + SNAP (RFC 1042): only SNAP with an Ethernet OUI
 * carries an ethertype.
 *
 *   +------+------+------+------+------+------+------+------+
 *   | DSAP | SSAP | Ctrl |       OUI          |  EtherType  |
 *   | 0xAA | 0xAA | 0x03 | 00-00-00/00-00-F8  |             |
 *   +------+------+------+------+------+------+------+------+
 */
static dec_status
dec_llc(dec_state *s, rd_t *r)
{
    uint8_t dsap, ssap, ctrl, oui[3];
    uint16_t type;

    if (!rd_u8(r, &dsap) || !rd_u8(r, &ssap) || !rd_u8(r, &ctrl))
        return DEC_TRUNC_LINK;
    if (dsap != 0xaa || ssap != 0xaa || ctrl != 0x03)
        return DEC_NOT_IP;          /* STP, IPX, NetBIOS... */
    if (!rd_copy(r, oui, 3) || !rd_be16(r, &type))
        return DEC_TRUNC_LINK;
    if (oui[0] != 0 || oui[1] != 0 || (oui[2] != 0 && oui[2] != 0xf8))
        return DEC_NOT_IP;          /* vendor protocol id (CDP...) */
    return dec_ethertype(s, r, type);
}

/*
 * The 16-bit field after the MACs (or a tag): <= 1500 is an IEEE 802.3
 * length followed by LLC, >= 0x0600 an Ethernet II type.
 */
static dec_status
dec_type_or_len(dec_state *s, rd_t *r, uint16_t tl)
{
    if (tl >= 0x0600)
        return dec_ethertype(s, r, tl);
    if (tl > 1500)
        return DEC_NOT_IP;
    rd_t llc;
    if (!rd_sub(r, tl, &llc))       /* shorter than said: snap length */
        llc = rd_rest(r);
    return dec_llc(s, &llc);
}

/*
 * Ethernet II / IEEE 802.3 (innermost MACs are recorded).
 *
 *   +-----------------+-----------------+-------------+----------
 *   |  Destination 6  |    Source 6     | Type/Len 2  | payload
 *   +-----------------+-----------------+-------------+----------
 */
static dec_status
dec_ether(dec_state *s, rd_t *r)
{
    pkt_meta *m = s->m;
    const uint8_t *h;
    uint16_t tl;

    if (!rd_hdr(r, 14, &h))
        return DEC_TRUNC_LINK;
    memcpy(m->dst_mac, h, 6);
    memcpy(m->src_mac, h + 6, 6);
    m->has_mac = 1;
    tl = rd_at_be16(h, 12);
    if (tl == ETH_IPV4)             /* the common case, without the dispatch */
        return dec_ipv4(s, r);
    return dec_type_or_len(s, r, tl);
}

/*
 * IEEE 802.1Q / 802.1ad tag (also the pre-standard 0x9100 QinQ type).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-----+-+-----------------------+-------------------------------+
 *  | PCP |D|         VID           |        Type / Length          |
 *  +-----+-+-----------------------+-------------------------------+
 */
static dec_status
dec_vlan(dec_state *s, rd_t *r)
{
    pkt_meta *m = s->m;
    const uint8_t *h;

    DEC_ENTER(s);
    if (!rd_hdr(r, 4, &h))
        return DEC_TRUNC_VLAN;
    if (m->n_vlan < DEC_MAX_VLAN)
        m->vlan[m->n_vlan++] = rd_at_be16(h, 0) & 0x0fff;
    return dec_type_or_len(s, r, rd_at_be16(h, 2));
}

/*
 * Cisco VN-Tag (IEEE 802.1Qbh pre-standard), after type 0x8926:
 *
 *  +-+-+---------------------------+-+-+-+---+---------------------+
 *  |d|p|       dst VIF id          |l|r|ver|     src VIF id       |
 *  +-+-+---------------------------+-+-+-+---+---------------------+
 *  |          Type                 |
 *  +-------------------------------+
 */
static dec_status
dec_vntag(dec_state *s, rd_t *r)
{
    uint16_t type;

    DEC_ENTER(s);
    if (!rd_skip(r, 4) || !rd_be16(r, &type))
        return DEC_TRUNC_VLAN;
    return dec_type_or_len(s, r, type);
}

/*
 * MPLS label stack (RFC 3032), one entry per label up to S = 1:
 *
 *   0                   1                   2                   3
 *  +---------------------------------------+-----+-+---------------+
 *  |                Label                  | TC  |S|      TTL      |
 *  +---------------------------------------+-----+-+---------------+
 *
 * MPLS does not say what it carries: guess by the first nibble, IPv4,
 * IPv6, or 0 for an Ethernet pseudowire control word (RFC 4385:
 * 0000 | flags | frg | length | sequence) followed by an Ethernet frame.
 */
static dec_status
dec_mpls(dec_state *s, rd_t *r)
{
    uint32_t lse;
    uint8_t first;

    dec_tunnel(s->m, DEC_TUN_MPLS);
    do {
        DEC_ENTER(s);
        if (!rd_be32(r, &lse))
            return DEC_TRUNC_MPLS;
    } while (!(lse & 0x100));

    if (!rd_peek_u8(r, 0, &first))
        return DEC_TRUNC_MPLS;
    switch (first >> 4) {
    case 4:
        return dec_ipv4(s, r);
    case 6:
        return dec_ipv6(s, r);
    case 0:
        if (!rd_skip(r, 4))
            return DEC_TRUNC_MPLS;
        return dec_ether(s, r);
    default:
        return DEC_NOT_IP;
    }
}

/* PPP protocol numbers (RFC 1661 + IANA) that carry IP or MPLS. */
static dec_status
dec_ppp_proto(dec_state *s, rd_t *r, uint16_t proto)
{
    switch (proto) {
    case PPP_IPV4:
        return dec_ipv4(s, r);
    case PPP_IPV6:
        return dec_ipv6(s, r);
    case PPP_MPLS:
    case PPP_MPLS_MC:
        return dec_mpls(s, r);
    default:
        return DEC_NOT_IP;          /* LCP, IPCP, CCP... */
    }
}

/*
 * PPPoE session stage (RFC 2516), type 0x8864:
 *
 *   0                   1                   2                   3
 *  +-------+-------+---------------+-------------------------------+
 *  |  VER  | TYPE  |     CODE      |          SESSION_ID           |
 *  +-------+-------+---------------+-------------------------------+
 *  |            LENGTH             |  PPP protocol  |  payload...
 *  +-------------------------------+----------------+
 */
static dec_status
dec_pppoe(dec_state *s, rd_t *r)
{
    uint16_t len, proto;
    uint8_t vt, code;
    rd_t body;

    DEC_ENTER(s);
    if (!rd_u8(r, &vt) || !rd_u8(r, &code) || !rd_skip(r, 2) ||
        !rd_be16(r, &len))
        return DEC_TRUNC_PPPOE;
    if (vt != 0x11 || code != 0)
        return DEC_NOT_IP;
    if (!rd_sub(r, len, &body))     /* cut by the snap length */
        body = rd_rest(r);
    if (!rd_be16(&body, &proto))
        return DEC_TRUNC_PPPOE;
    dec_tunnel(s->m, DEC_TUN_PPPOE);
    return dec_ppp_proto(s, &body, proto);
}

/*
 * Ethertype dispatch, shared by Ethernet, tags, SLL, Cisco HDLC, GRE and
 * Geneve.  Anything without IP below it is DEC_NOT_IP.
 */
static dec_status
dec_ethertype(dec_state *s, rd_t *r, uint16_t type)
{
    switch (type) {
    case ETH_IPV4:
        return dec_ipv4(s, r);
    case ETH_IPV6:
        return dec_ipv6(s, r);
    case ETH_VLAN:
    case ETH_QINQ:
    case ETH_QINQ_OLD:
        return dec_vlan(s, r);
    case ETH_VNTAG:
        return dec_vntag(s, r);
    case ETH_MPLS:
    case ETH_MPLS_MC:
        return dec_mpls(s, r);
    case ETH_PPPOE_S:
        return dec_pppoe(s, r);
    default:
        return DEC_NOT_IP;          /* ARP, LLDP, PPPoE discovery... */
    }
}

/* ------------------------------------------------------------------ */
/* Link types                                                          */
/* ------------------------------------------------------------------ */

/*
 * BSD loopback (LINKTYPE_NULL: 4-byte family in the capturing host's
 * byte order; LINKTYPE_LOOP: network order).  AF_INET is 2 everywhere,
 * AF_INET6 is 24 (NetBSD/OpenBSD), 28 (FreeBSD) or 30 (Darwin).
 */
static dec_status
dec_loopback(dec_state *s, rd_t *r, int host_order)
{
    uint32_t fam;

    if (!rd_be32(r, &fam))
        return DEC_TRUNC_LINK;
    /* Host order: a family is small, so whichever order gives one wins. */
    if (host_order && (fam & 0xffff0000u))
        fam = ((fam & 0xff) << 24) | ((fam & 0xff00) << 8) |
              ((fam >> 8) & 0xff00) | (fam >> 24);
    switch (fam) {
    case 2:
        return dec_ipv4(s, r);
    case 24:
    case 28:
    case 30:
        return dec_ipv6(s, r);
    default:
        return DEC_NOT_IP;
    }
}

/*
 * PPP in HDLC-like framing (RFC 1662): optional address 0xff and control
 * 0x03, then the protocol, one byte if compressed (RFC 1661 6.5: a
 * protocol number's low byte is odd, its high byte even).
 */
static dec_status
dec_ppp(dec_state *s, rd_t *r)
{
    uint8_t b0, b1;
    uint16_t proto;

    if (!rd_peek_u8(r, 0, &b0))
        return DEC_TRUNC_LINK;
    if (b0 == 0xff && rd_peek_u8(r, 1, &b1) && b1 == 0x03)
        if (!rd_skip(r, 2))
            return DEC_TRUNC_LINK;
    if (!rd_peek_u8(r, 0, &b0))
        return DEC_TRUNC_LINK;
    if (b0 & 1) {
        if (!rd_skip(r, 1))
            return DEC_TRUNC_LINK;
        proto = b0;
    } else if (!rd_be16(r, &proto)) {
        return DEC_TRUNC_LINK;
    }
    return dec_ppp_proto(s, r, proto);
}

/* LINKTYPE_PPP; Cisco routers also write Cisco HDLC frames there. */
static dec_status
dec_ppp_link(dec_state *s, rd_t *r)
{
    uint8_t b0;

    if (!rd_peek_u8(r, 0, &b0))
        return DEC_TRUNC_LINK;
    if (b0 == 0x0f || b0 == 0x8f)
        return dec_chdlc(s, r);
    return dec_ppp(s, r);
}

/*
 * Cisco HDLC:
 *  +---------+---------+-------------------+
 *  | Address | Control |  Protocol (type)  |
 *  | 0x0f/8f |  0x00   |                   |
 *  +---------+---------+-------------------+
 */
static dec_status
dec_chdlc(dec_state *s, rd_t *r)
{
    uint16_t type;

    if (!rd_skip(r, 2) || !rd_be16(r, &type))
        return DEC_TRUNC_LINK;
    return dec_ethertype(s, r, type);   /* SLARP 0x8035 is not IP */
}

/* Linux cooked protocol field: an ethertype, or 4 for an 802.2 frame. */
static dec_status
dec_sll_proto(dec_state *s, rd_t *r, uint16_t proto)
{
    if (proto == 0x0004)
        return dec_llc(s, r);
    if (proto < 0x0600)
        return DEC_NOT_IP;          /* 802.3 Novell, CAN, ... */
    return dec_ethertype(s, r, proto);
}

/*
 * Linux cooked capture v1 (LINKTYPE_LINUX_SLL), 16 bytes:
 *  | pkt type 2 | ARPHRD 2 | addr len 2 | address 8 | protocol 2 |
 */
static dec_status
dec_sll(dec_state *s, rd_t *r)
{
    uint16_t proto;

    if (!rd_skip(r, 14) || !rd_be16(r, &proto))
        return DEC_TRUNC_LINK;
    return dec_sll_proto(s, r, proto);
}

/*
 * Linux cooked capture v2 (LINKTYPE_LINUX_SLL2), 20 bytes:
 *  | protocol 2 | reserved 2 | ifindex 4 | ARPHRD 2 | pkt type 1 |
 *  | addr len 1 | address 8 |
 */
static dec_status
dec_sll2(dec_state *s, rd_t *r)
{
    uint16_t proto;

    if (!rd_be16(r, &proto) || !rd_skip(r, 18))
        return DEC_TRUNC_LINK;
    return dec_sll_proto(s, r, proto);
}

/*
 * Linux NFLOG (LINKTYPE_NFLOG): a 4-byte header, then TLVs whose length
 * and type are little-endian (host order of the capturing Linux box, in
 * practice LE); length counts the 4-byte TLV header, and each TLV is
 * padded to 4 bytes.  TLV type 9 (NFULA_PAYLOAD) is the IP packet.
 *
 *  +--------+---------+--------------+
 *  | family | version | resource id  |      family: 2 IPv4, 10 IPv6
 *  +--------+---------+--------------+
 *  | tlv length (LE)  | tlv type (LE)|  value ... padding
 *  +------------------+--------------+
 */
static dec_status
dec_nflog(dec_state *s, rd_t *r)
{
    uint8_t family;
    uint16_t len, type;
    rd_t val;

    if (!rd_u8(r, &family) || !rd_skip(r, 3))
        return DEC_TRUNC_LINK;
    while (rd_left(r) > 0) {        /* each TLV takes >= 4 bytes */
        if (!rd_le16(r, &len) || !rd_le16(r, &type) || len < 4)
            return DEC_TRUNC_LINK;
        if ((type & 0x3fff) == 9) {
            if (!rd_sub(r, len - 4u, &val))     /* snap length */
                val = rd_rest(r);
            if (family == 2)
                return dec_ipv4(s, &val);
            if (family == 10)
                return dec_ipv6(s, &val);
            return dec_ip(s, &val);
        }
        if (!rd_skip(r, ((len + 3u) & ~3u) - 4u))
            return DEC_TRUNC_LINK;
    }
    return DEC_NOT_IP;              /* no payload TLV */
}

/* ------------------------------------------------------------------ */
/* Tunnels                                                             */
/* ------------------------------------------------------------------ */

/*
 * ERSPAN type II header (draft-foschiano-erspan), 8 bytes after GRE:
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-------+-----------------------+-----+---+-+-------------------+
 *  |  Ver  |          VLAN         | COS | En|T|    Session ID     |
 *  +-------+-----------------------+-----+---+-+-------------------+
 *  |      Reserved         |                 Index                 |
 *  +-----------------------+---------------------------------------+
 */
static dec_status
dec_erspan2(rd_t *r, uint32_t *session)
{
    uint16_t w;

    if (!rd_skip(r, 2) || !rd_be16(r, &w) || !rd_skip(r, 4))
        return DEC_TRUNC_TUNNEL;
    *session = w & 0x03ff;
    return DEC_OK;
}

/*
 * ERSPAN type III header, 12 bytes, then an 8-byte platform specific
 * subheader when O is set:
 *
 *  +-------+-----------------------+-----+---+-+-------------------+
 *  |  Ver  |          VLAN         | COS |BSO|T|     Session ID    |
 *  +-------+-----------------------+-----+---+-+-------------------+
 *  |                          Timestamp                            |
 *  +-------------------------------+-+---------+-----------+-+---+-+
 *  |             SGT               |P|    FT   |   Hw ID   |D|Gra|O|
 *  +-------------------------------+-+---------+-----------+-+---+-+
 */
static dec_status
dec_erspan3(rd_t *r, uint32_t *session)
{
    uint16_t w, last;

    if (!rd_skip(r, 2) || !rd_be16(r, &w) || !rd_skip(r, 6) ||
        !rd_be16(r, &last))
        return DEC_TRUNC_TUNNEL;
    if ((last & 1) && !rd_skip(r, 8))
        return DEC_TRUNC_TUNNEL;
    *session = w & 0x03ff;
    return DEC_OK;
}

/*
 * GRE (RFC 2784 with the RFC 2890 key and sequence number; version 1 is
 * PPTP's enhanced GRE, RFC 2637, whose key is payload length + call id):
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+---------+-+-------+-+-------------------------------+
 *  |C|R|K|S|s|Recur    |A| Flags |Ver|       Protocol Type         |
 *  +-+-+-+-+-+---------+-+-------+-+-------------------------------+
 *  |      Checksum (optional)      |       Reserved1 (Optional)    |
 *  +-------------------------------+-------------------------------+
 *  |                         Key (optional)                        |
 *  +---------------------------------------------------------------+
 *  |                 Sequence Number (Optional)                    |
 *  +---------------------------------------------------------------+
 *  |          Acknowledgment Number (optional, version 1)          |
 *  +---------------------------------------------------------------+
 *
 * The protocol type is an ethertype, plus 0x6558 (an Ethernet frame),
 * 0x88be (ERSPAN II, or type I when S is clear: no ERSPAN header at all)
 * and 0x22eb (ERSPAN III).
 */
static DEC_OUT_OF_LINE dec_status
dec_gre(dec_state *s, rd_t *r)
{
    pkt_meta *m = s->m;
    uint16_t flags, proto;
    uint32_t key = 0, session = 0;
    int ver, kind = DEC_TUN_GRE, has_id = 0;
    dec_status st;

    DEC_ENTER(s);
    if (!rd_be16(r, &flags) || !rd_be16(r, &proto))
        return DEC_TRUNC_TUNNEL;
    ver = flags & 7;
    if (ver > 1 || (flags & 0x4000))
        return DEC_OK;              /* unknown version, RFC 1701 routing:
                                     * the GRE flow itself */
    if ((flags & 0x8000) && !rd_skip(r, 4))
        return DEC_TRUNC_TUNNEL;
    if ((flags & 0x2000) && !rd_be32(r, &key))
        return DEC_TRUNC_TUNNEL;
    if ((flags & 0x1000) && !rd_skip(r, 4))
        return DEC_TRUNC_TUNNEL;
    if (ver == 1 && (flags & 0x0080) && !rd_skip(r, 4))
        return DEC_TRUNC_TUNNEL;
    if (ver == 0 && (flags & 0x2000))
        has_id = 1;

    if (proto == ETH_ERSPAN2) {
        kind = DEC_TUN_ERSPAN;
        if (flags & 0x1000) {       /* type II; type I has no header */
            if ((st = dec_erspan2(r, &session)) != DEC_OK)
                return st;
            has_id = 1;
            key = session;
        }
    } else if (proto == ETH_ERSPAN3) {
        kind = DEC_TUN_ERSPAN;
        if ((st = dec_erspan3(r, &session)) != DEC_OK)
            return st;
        has_id = 1;
        key = session;
    }

    pkt_meta outer = *m;
    dec_tunnel(m, kind);
    if (has_id)
        dec_vni(m, key);
    switch (proto) {
    case ETH_TEB:
    case ETH_ERSPAN2:
    case ETH_ERSPAN3:
        st = dec_ether(s, r);
        break;
    case ETH_PPP:
        st = ver == 1 ? dec_ppp(s, r) : DEC_NOT_IP;
        break;
    default:
        st = dec_ethertype(s, r, proto);
        break;
    }
    return dec_inner_done(m, &outer, st);
}

/*
 * VXLAN (RFC 7348), UDP destination port 4789:
 *
 *  +-+-+-+-+-+-+-+-+-----------------------------------------------+
 *  |R|R|R|R|I|R|R|R|            Reserved                           |
 *  +-+-+-+-+-+-+-+-+-------------------------------+---------------+
 *  |                VXLAN Network Identifier (VNI) |   Reserved    |
 *  +-----------------------------------------------+---------------+
 *  then an Ethernet frame.
 */
static dec_status
dec_vxlan(dec_state *s, rd_t *r)
{
    uint8_t flags;
    uint32_t w;

    DEC_ENTER(s);
    if (!rd_u8(r, &flags) || !rd_skip(r, 3) || !rd_be32(r, &w))
        return DEC_TRUNC_TUNNEL;
    dec_tunnel(s->m, DEC_TUN_VXLAN);
    if (flags & 0x08)
        dec_vni(s->m, w >> 8);
    return dec_ether(s, r);
}

/*
 * Geneve (RFC 8926), UDP destination port 6081:
 *
 *  +---+-----------+-+-+-----------+-------------------------------+
 *  |Ver|  Opt Len  |O|C|    Rsvd.  |          Protocol Type        |
 *  +---+-----------+-+-+-----------+-------------------------------+
 *  |        Virtual Network Identifier (VNI)       |    Reserved   |
 *  +-----------------------------------------------+---------------+
 *  |        Variable-Length Options (Opt Len 4-byte words)         |
 *  +---------------------------------------------------------------+
 */
static dec_status
dec_geneve(dec_state *s, rd_t *r)
{
    uint8_t vo, flags;
    uint16_t proto;
    uint32_t w;

    DEC_ENTER(s);
    if (!rd_u8(r, &vo) || !rd_u8(r, &flags) || !rd_be16(r, &proto) ||
        !rd_be32(r, &w))
        return DEC_TRUNC_TUNNEL;
    if ((vo >> 6) != 0)
        return DEC_NOT_IP;
    if (!rd_skip(r, (size_t)(vo & 0x3f) * 4))
        return DEC_TRUNC_TUNNEL;
    dec_tunnel(s->m, DEC_TUN_GENEVE);
    dec_vni(s->m, w >> 8);
    if (proto == ETH_TEB)
        return dec_ether(s, r);
    return dec_ethertype(s, r, proto);
}

/*
 * GTP-U version 1 (3GPP TS 29.281), UDP port 2152:
 *
 *  +-----+--+-+-+-+--+---------------+-------------------------------+
 *  | Ver |PT|*|E|S|PN| Message Type  |            Length             |
 *  +-----+--+-+-+-+--+---------------+-------------------------------+
 *  |                 Tunnel Endpoint Identifier                      |
 *  +---------------------------------+---------------+---------------+
 *  |   Sequence Number (if E|S|PN)   |  N-PDU Number | Next Ext Type |
 *  +---------------------------------+---------------+---------------+
 *  extension headers: | len (4-byte units) | contents... | next type |
 *
 * Length counts the bytes after the first 8.  Message type 0xff (G-PDU)
 * carries a user IP packet.
 */
static dec_status
dec_gtpu(dec_state *s, rd_t *r)
{
    uint8_t flags, type, next, elen;
    uint16_t len;
    rd_t body;

    DEC_ENTER(s);
    if (!rd_u8(r, &flags) || !rd_u8(r, &type) || !rd_be16(r, &len) ||
        !rd_skip(r, 4))
        return DEC_TRUNC_TUNNEL;
    if ((flags >> 5) != 1 || !(flags & 0x10))
        return DEC_NOT_IP;          /* GTPv0, GTPv2-C, GTP' */
    if (!rd_sub(r, len, &body))
        body = rd_rest(r);          /* snap length */
    if (flags & 0x07) {
        if (!rd_skip(&body, 3) || !rd_u8(&body, &next))
            return DEC_TRUNC_TUNNEL;
        /* Only if E is set does next mean anything. */
        if (!(flags & 0x04))
            next = 0;
        while (next != 0) {         /* each one is >= 4 bytes: terminates */
            if (!rd_u8(&body, &elen) || elen == 0 ||
                !rd_skip(&body, (size_t)elen * 4 - 2) || !rd_u8(&body, &next))
                return DEC_TRUNC_TUNNEL;
        }
    }
    if (type != 0xff)
        return DEC_NOT_IP;          /* echo, error indication, end marker */
    dec_tunnel(s->m, DEC_TUN_GTPU);
    return dec_ip(s, &body);
}

/*
 * Teredo (RFC 4380), UDP port 3544: optional authentication and origin
 * indication headers, then an IPv6 packet.
 *
 *  authentication:  | 0x0001 | ID-len | AU-len | client id | auth value |
 *                   | nonce (8) | confirmation (1) |
 *  origin:          | 0x0000 | obfuscated port (2) | obfuscated addr (4) |
 *
 * Nothing else marks a Teredo packet, so the IPv6 header must look
 * right: version 6 and a payload length that fits in the UDP datagram
 * (wire is the UDP payload length on the wire, not as captured).
 */
static dec_status
dec_teredo(dec_state *s, rd_t *r, size_t wire)
{
    size_t start = rd_left(r), used;
    uint16_t ind, plen;
    uint8_t idlen, aulen, first;

    DEC_ENTER(s);
    if (rd_peek_be16(r, 0, &ind) && ind == 0x0001) {
        if (!rd_skip(r, 2) || !rd_u8(r, &idlen) || !rd_u8(r, &aulen) ||
            !rd_skip(r, (size_t)idlen + aulen + 9))
            return DEC_TRUNC_TUNNEL;
    }
    if (rd_peek_be16(r, 0, &ind) && ind == 0x0000) {
        if (!rd_skip(r, 8))
            return DEC_TRUNC_TUNNEL;
    }
    if (rd_left(r) < 40 || !rd_peek_u8(r, 0, &first) ||
        !rd_peek_be16(r, 4, &plen))
        return DEC_TRUNC_TUNNEL;
    used = start - rd_left(r);
    if ((first >> 4) != 6 || used > wire || 40u + plen > wire - used)
        return DEC_NOT_IP;
    dec_tunnel(s->m, DEC_TUN_TEREDO);
    return dec_ipv6(s, r);
}

/*
 * IEEE 802.11 data frame (as carried by CAPWAP), then LLC/SNAP.
 *
 *  | FC 2 | Dur 2 | Addr1 6 | Addr2 6 | Addr3 6 | Seq 2 | [Addr4 6] |
 *  | [QoS 2] | [HT control 4] | LLC/SNAP | ...
 *
 * FC byte 0: subtype(4) type(2) version(2); byte 1: flags, ToDS 0x01,
 * FromDS 0x02, Protected 0x40, Order 0x80.  DA/SA depend on ToDS/FromDS.
 * A non-first fragment (tshark decodes some anyway) fails the LLC test.
 */
static dec_status
dec_ieee80211(dec_state *s, rd_t *r)
{
    static const int dst_of[4] = { 0, 2, 0, 2 }, src_of[4] = { 1, 1, 2, 3 };
    pkt_meta *m = s->m;
    uint8_t fc0, fc1, t, a[4][6];
    uint16_t qos = 0;
    int ds;

    if (!rd_u8(r, &fc0) || !rd_u8(r, &fc1) || !rd_skip(r, 2) ||
        !rd_copy(r, a[0], 6) || !rd_copy(r, a[1], 6) ||
        !rd_copy(r, a[2], 6) || !rd_skip(r, 2))
        return DEC_TRUNC_LINK;
    /*
     * Cisco access points send the frame control byte-swapped (tshark's
     * CAPWAP "swap frame control" is on by default).  Take whichever
     * order makes a version 0 data frame, the swapped one if both do.
     */
    if ((fc1 & 0x0f) == 0x08 || (fc0 & 0x0f) != 0x08) {
        t = fc0;
        fc0 = fc1;
        fc1 = t;
    }
    if ((fc0 & 0x0f) != 0x08)
        return DEC_NOT_IP;          /* management, control, bad version */
    if ((fc0 & 0x40) || (fc1 & 0x40))
        return DEC_NOT_IP;          /* null data, encrypted */
    ds = fc1 & 3;
    if (ds == 3 && !rd_copy(r, a[3], 6))
        return DEC_TRUNC_LINK;
    if (fc0 & 0x80) {               /* QoS data */
        if (!rd_le16(r, &qos))
            return DEC_TRUNC_LINK;
        if (qos & 0x80)
            return DEC_NOT_IP;      /* A-MSDU */
        if ((fc1 & 0x80) && !rd_skip(r, 4))
            return DEC_TRUNC_LINK;
    }
    memcpy(m->dst_mac, a[dst_of[ds]], 6);   /* DA/SA by ToDS/FromDS */
    memcpy(m->src_mac, a[src_of[ds]], 6);
    m->has_mac = 1;
    return dec_llc(s, r);
}

/*
 * CAPWAP data channel (RFC 5415), UDP port 5247:
 *
 *   0                   1                   2                   3
 *  +-------+-------+---------+---------+---------+-+-+-+-+-+-+-----+
 *  |Version| Type  |  HLEN   |   RID   | WBID    |T|F|L|W|M|K|Flags|
 *  +-------+-------+---------+---------+---------+-+-+-+-+-+-+-----+
 *  |          Fragment ID          |     Frag Offset         |Rsvd |
 *  +-------------------------------+-------------------------+-----+
 *  | (optional) Radio MAC Address, Wireless Specific Information   |
 *  +---------------------------------------------------------------+
 *
 * HLEN is the whole header in 4-byte words.  T = 0: the payload is an
 * 802.3 frame; T = 1 with WBID 1: an IEEE 802.11 frame.
 */
static dec_status
dec_capwap(dec_state *s, rd_t *r)
{
    uint8_t pre;
    uint16_t fragoff;
    uint32_t w;
    size_t hlen;

    DEC_ENTER(s);
    if (!rd_be32(r, &w) || !rd_skip(r, 2) || !rd_be16(r, &fragoff))
        return DEC_TRUNC_TUNNEL;
    pre = (uint8_t)(w >> 24);
    if (pre != 0)
        return DEC_NOT_IP;          /* DTLS (type 1) or unknown version */
    hlen = ((w >> 19) & 0x1f) * 4;
    if (hlen < 8)
        return DEC_TRUNC_TUNNEL;
    if (!rd_skip(r, hlen - 8))
        return DEC_TRUNC_TUNNEL;
    if ((w & 0x80) && (fragoff >> 3) != 0)
        return DEC_NOT_IP;          /* later fragment */
    if (w & 0x08)
        return DEC_NOT_IP;          /* keep-alive */
    dec_tunnel(s->m, DEC_TUN_CAPWAP);
    if (!(w & 0x100))
        return dec_ether(s, r);
    if (((w >> 9) & 0x1f) == 1)
        return dec_ieee80211(s, r);
    return DEC_NOT_IP;
}

/*
 * AYIYA, "Anything In Anything" (draft-massar-v6ops-ayiya), UDP 5072:
 *
 *  +-------+-------+-------+-------+-------+-------+---------------+
 *  | IDLen | IDType| SigLen|HshMeth|AutMeth| OpCode|  Next Header  |
 *  +-------+-------+-------+-------+-------+-------+---------------+
 *  |                          Epoch Time                           |
 *  +---------------------------------------------------------------+
 *  | Identity (2^IDLen bytes) | Signature (SigLen * 4 bytes) | payload
 *
 * OpCode 1 (forward) carries a packet of IP protocol Next Header.
 */
static dec_status
dec_ayiya(dec_state *s, rd_t *r)
{
    uint8_t b0, b1, b2, nh;

    DEC_ENTER(s);
    if (!rd_u8(r, &b0) || !rd_u8(r, &b1) || !rd_u8(r, &b2) ||
        !rd_u8(r, &nh) || !rd_skip(r, 4) ||
        !rd_skip(r, ((size_t)1 << (b0 >> 4)) + (size_t)(b1 >> 4) * 4))
        return DEC_TRUNC_TUNNEL;
    if ((b2 & 0x0f) != 1)
        return DEC_NOT_IP;
    dec_tunnel(s->m, DEC_TUN_AYIYA);
    if (nh == IPP_IPV4)
        return dec_ipv4(s, r);
    if (nh == IPP_IPV6)
        return dec_ipv6(s, r);
    return DEC_NOT_IP;
}

/* Tunnel kind of a UDP port, or DEC_TUN_NONE. */
static int
dec_udp_port_kind(uint16_t port)
{
    switch (port) {
    case 4789: return DEC_TUN_VXLAN;
    case 6081: return DEC_TUN_GENEVE;
    case 2152: return DEC_TUN_GTPU;
    case 3544: return DEC_TUN_TEREDO;
    case 5247: return DEC_TUN_CAPWAP;
    case 5072: return DEC_TUN_AYIYA;
    default:   return DEC_TUN_NONE;
    }
}

/*
 * UDP tunnels.  VXLAN and Geneve are matched on the destination port
 * only (their source port is a flow hash); the others on either port.
 * Like tshark, which tries the lower port first, a tunnel port is not
 * tried when the other port is a well-known one (< 1024): a DNS reply
 * to port 4789 is DNS.  Returns the tunnel kind to try, or DEC_TUN_NONE.
 */
static inline int
dec_udp_tunnel_kind(uint16_t sport, uint16_t dport)
{
    int kind = dec_udp_port_kind(dport);
    uint16_t other = sport;

    if (kind == DEC_TUN_NONE) {
        kind = dec_udp_port_kind(sport);
        other = dport;
        if (kind == DEC_TUN_NONE || kind == DEC_TUN_VXLAN ||
            kind == DEC_TUN_GENEVE)
            return DEC_TUN_NONE;
    }
    if (other < 1024 && dec_udp_port_kind(other) == DEC_TUN_NONE)
        return DEC_TUN_NONE;
    return kind;
}

/*
 * Try the UDP payload r as a tunnel of the given kind.  *m holds the UDP
 * flow on entry and again on return if the payload turns out not to be
 * the tunnel.
 */
static DEC_OUT_OF_LINE dec_status
dec_udp_tunnel(dec_state *s, rd_t *r, int kind, size_t wire)
{
    pkt_meta *m = s->m;
    pkt_meta outer = *m;
    dec_status st;

    switch (kind) {
    case DEC_TUN_VXLAN:  st = dec_vxlan(s, r); break;
    case DEC_TUN_GENEVE: st = dec_geneve(s, r); break;
    case DEC_TUN_GTPU:   st = dec_gtpu(s, r); break;
    case DEC_TUN_TEREDO: st = dec_teredo(s, r, wire); break;
    case DEC_TUN_CAPWAP: st = dec_capwap(s, r); break;
    default:             st = dec_ayiya(s, r); break;
    }
    return dec_inner_done(m, &outer, st);
}

/* ------------------------------------------------------------------ */
/* Layer 4                                                             */
/* ------------------------------------------------------------------ */

/*
 * TCP (RFC 9293):
 *
 *  +-------------------------------+-------------------------------+
 *  |          Source Port          |       Destination Port        |
 *  +-------------------------------+-------------------------------+
 *  |                        Sequence Number                        |
 *  |                    Acknowledgment Number                      |
 *  +-------+-------+---------------+-------------------------------+
 *  |  Data |       |C|E|U|A|P|R|S|F|                               |
 *  | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 *  +-------+-------+---------------+-------------------------------+
 *  |           Checksum            |         Urgent Pointer        |
 *  +-------------------------------+-------------------------------+
 *
 * The whole 20-byte fixed header must be captured, else DEC_TRUNC_L4.
 * (tshark still counts a header cut after the ports; we do not, as the
 * flags, which the flow state needs, are then missing.)  Options cut by
 * the snap length are fine: there is just no payload.
 */
static dec_status
dec_tcp(dec_state *s, rd_t *r)
{
    pkt_meta *m = s->m;
    const uint8_t *h;
    size_t hlen;

    if (!rd_hdr(r, 20, &h))
        return DEC_TRUNC_L4;
    m->sport = rd_at_be16(h, 0);
    m->dport = rd_at_be16(h, 2);
    hlen = (size_t)(h[12] >> 4) * 4;
    if (hlen < 20)
        return DEC_BAD_TCP_HLEN;
    m->tcp_flags = h[13];
    m->has_ports = 1;
    if (rd_skip(r, hlen - 20)) {
        m->payload = rd_ptr(r);
        m->payload_len = rd_left(r);
    }
    return DEC_OK;
}

/*
 * UDP (RFC 768):
 *  | Source Port | Destination Port | Length | Checksum | data ...
 *
 * The payload ends where Length says when that is sane (8 <= Length
 * and within the captured IP payload), else at the end of the IP packet.
 */
static dec_status
dec_udp(dec_state *s, rd_t *r)
{
    pkt_meta *m = s->m;
    const uint8_t *h;
    uint16_t len;
    size_t wire;
    int kind;
    rd_t body;

    if (!rd_hdr(r, 8, &h))
        return DEC_TRUNC_L4;
    m->sport = rd_at_be16(h, 0);
    m->dport = rd_at_be16(h, 2);
    len = rd_at_be16(h, 4);
    m->has_ports = 1;
    wire = len >= 8 ? len - 8u : rd_left(r);
    if (len < 8 || !rd_sub(r, len - 8u, &body))
        body = rd_rest(r);
    m->payload = rd_ptr(&body);
    m->payload_len = rd_left(&body);
    kind = dec_udp_tunnel_kind(m->sport, m->dport);
    if (kind == DEC_TUN_NONE)
        return DEC_OK;
    return dec_udp_tunnel(s, &body, kind, wire);
}

/*
 * SCTP common header (RFC 9260):
 *  | Source Port | Destination Port | Verification Tag | Checksum |
 */
static dec_status
dec_sctp(dec_state *s, rd_t *r)
{
    pkt_meta *m = s->m;
    const uint8_t *h;

    if (!rd_hdr(r, 12, &h))
        return DEC_TRUNC_L4;
    m->sport = rd_at_be16(h, 0);
    m->dport = rd_at_be16(h, 2);
    m->has_ports = 1;
    m->payload = rd_ptr(r);
    m->payload_len = rd_left(r);
    return DEC_OK;
}

/*
 * ICMP (RFC 792) / ICMPv6 (RFC 4443):
 *  | Type | Code | Checksum | rest of header (4) | ...
 * Echo request/reply: the rest is Identifier + Sequence; the identifier
 * goes into both ports (has_ports stays 0).  Errors quote an IP header
 * that is not looked into.
 */
static dec_status
dec_icmp(dec_state *s, rd_t *r, int v6)
{
    pkt_meta *m = s->m;
    uint16_t id;
    uint8_t t;

    if (!rd_u8(r, &m->icmp_type) || !rd_u8(r, &m->icmp_code) ||
        !rd_skip(r, 2))
        return DEC_TRUNC_L4;
    t = m->icmp_type;
    if (v6 ? (t == 128 || t == 129) : (t == 8 || t == 0)) {
        if (!rd_be16(r, &id))
            return DEC_TRUNC_L4;
        m->sport = m->dport = id;
        if (!rd_skip(r, 2))
            return DEC_TRUNC_L4;
        m->payload = rd_ptr(r);
        m->payload_len = rd_left(r);
    } else if (rd_skip(r, 4)) {
        m->payload = rd_ptr(r);
        m->payload_len = rd_left(r);
    }
    return DEC_OK;
}

/* IP in IP (RFC 2003), 6in4 (RFC 4213), 4in6 / 6in6 (RFC 2473). */
static DEC_OUT_OF_LINE dec_status
dec_ipip(dec_state *s, rd_t *r, int inner_v4)
{
    pkt_meta *m = s->m;
    pkt_meta outer = *m;
    dec_status st;

    dec_tunnel(m, DEC_TUN_IPIP);
    st = inner_v4 ? dec_ipv4(s, r) : dec_ipv6(s, r);
    return dec_inner_done(m, &outer, st);
}

/*
 * Forget the transport fields of an outer layer: an IP header inside a
 * UDP tunnel must not inherit the tunnel's ports, flags or payload when
 * its own L4 has none (ICMP errors, ESP, later fragments...).
 */
static void
dec_l4_reset(pkt_meta *m)
{
    m->sport = m->dport = 0;
    m->has_ports = 0;
    m->tcp_flags = 0;
    m->icmp_type = m->icmp_code = 0;
    m->l4 = NULL;
    m->l4_len = 0;
    m->payload = NULL;
    m->payload_len = 0;
}

/*
 * The IP payload, len bytes at p (what the IP header's length leaves of
 * the capture), of protocol proto: a transport or a tunnel.  Taking the
 * bytes rather than the IP layer's reader lets the IP decoders end with
 * a plain jump here.
 */
static dec_status
dec_l4(dec_state *s, const uint8_t *p, size_t len, uint8_t proto)
{
    pkt_meta *m = s->m;
    rd_t r = rd_make(p, len);

    dec_l4_reset(m);
    m->proto = proto;
    m->l4 = p;
    m->l4_len = len;
    switch (proto) {
    case IPP_TCP:
        return dec_tcp(s, &r);
    case IPP_UDP:
        return dec_udp(s, &r);
    case IPP_SCTP:
        return dec_sctp(s, &r);
    case IPP_ICMP:
        return dec_icmp(s, &r, 0);
    case IPP_ICMPV6:
        return dec_icmp(s, &r, 1);
    case IPP_IPV4:
        return dec_ipip(s, &r, 1);
    case IPP_IPV6:
        return dec_ipip(s, &r, 0);
    case IPP_GRE:
        return dec_gre(s, &r);
    default:
        return DEC_OK;              /* ESP, OSPF, ...: by number only */
    }
}

/* ------------------------------------------------------------------ */
/* Layer 3                                                             */
/* ------------------------------------------------------------------ */

/*
 * IPv4 (RFC 791):
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-------+-------+---------------+-------------------------------+
 *  |Version|  IHL  |Type of Service|          Total Length         |
 *  +-------+-------+---------------+-----+-------------------------+
 *  |         Identification        |Flags|      Fragment Offset    |
 *  +---------------+---------------+-----+-------------------------+
 *  |  Time to Live |    Protocol   |         Header Checksum       |
 *  +---------------+---------------+-------------------------------+
 *  |                       Source Address                          |
 *  |                    Destination Address                        |
 *  |                    Options (IHL > 5)                          |
 *  +---------------------------------------------------------------+
 *
 * Options are skipped as a block (IHL says how long), never walked.
 * Total Length ends the packet (Ethernet padding is not payload); a
 * total length beyond the capture is snap-length truncation and is kept
 * as captured; 0 is what TSO-offloading hosts capture, taken as "all".
 */
static dec_status
dec_ipv4(dec_state *s, rd_t *r)
{
    pkt_meta *m = s->m;
    const uint8_t *h;
    size_t cap = rd_left(r), hlen, len;
    uint8_t vihl, proto;
    uint16_t tot, frag;
    rd_t body;

    DEC_ENTER(s);
    if (!rd_peek_u8(r, 0, &vihl))
        return DEC_TRUNC_IP;
    if ((vihl >> 4) != 4)
        return DEC_BAD_IP_VERSION;
    hlen = (size_t)(vihl & 0x0f) * 4;
    if (hlen < 20)
        return DEC_BAD_IP_HLEN;
    if (!rd_hdr(r, hlen, &h))       /* options are skipped with it */
        return DEC_TRUNC_IP;
    tot = rd_at_be16(h, 2);
    frag = rd_at_be16(h, 6);
    proto = h[9];
    len = tot == 0 ? cap : tot;
    if (len < hlen)
        return DEC_BAD_IP_LEN;
    if (len > cap)
        len = cap;
    if (!rd_sub(r, len - hlen, &body))
        return DEC_TRUNC_IP;        /* cannot happen: len <= cap */

    memcpy(m->src, h + 12, 4);
    memcpy(m->dst, h + 16, 4);
    memset(m->src + 4, 0, 12);
    memset(m->dst + 4, 0, 12);
    m->ip_version = 4;
    m->ip_layer++;
    m->ip_id = rd_at_be16(h, 4);
    m->l3 = h;
    m->l3_len = len;
    m->frag = DEC_FRAG_NONE;
    if ((frag & 0x1fff) != 0) {
        m->frag = DEC_FRAG_LATER;
        dec_l4_reset(m);
        m->proto = proto;
        return DEC_OK;
    }
    if (frag & 0x2000)
        m->frag = DEC_FRAG_FIRST;
    return dec_l4(s, rd_ptr(&body), rd_left(&body), proto);
}

/*
 * IPv6 (RFC 8200), fixed header:
 *
 *  +-------+---------------+---------------------------------------+
 *  |Version| Traffic Class |           Flow Label                  |
 *  +-------+---------------+-------+---------------+---------------+
 *  |         Payload Length        |  Next Header  |   Hop Limit   |
 *  +-------------------------------+---------------+---------------+
 *  |              Source Address (128), Destination Address (128)  |
 *  +---------------------------------------------------------------+
 *
 * then extension headers, each | Next Header | Hdr Ext Len | ... |:
 * (Hdr Ext Len + 1) * 8 bytes for hop-by-hop (0), routing (43),
 * destination options (60), mobility (135), HIP (139), shim6 (140);
 * (Payload Len + 2) * 4 for AH (51); fragment (44) is 8 bytes:
 *
 *  | Next Header | Reserved | Fragment Offset (13) |Res|M|
 *  |                      Identification (32)            |
 *
 * ESP (50) and No Next Header (59) end the walk.  A payload length of 0
 * with a hop-by-hop header is a jumbogram (RFC 2675): as captured.
 */
static dec_status
dec_ipv6(dec_state *s, rd_t *r)
{
    pkt_meta *m = s->m;
    const uint8_t *h;
    size_t cap = rd_left(r), len, elen;
    uint32_t fid;
    uint16_t plen, fo;
    uint8_t v, nh, nnh, hl;
    int n;
    dec_status bad;
    rd_t body;

    DEC_ENTER(s);
    if (cap < 4 || !rd_peek_u8(r, 0, &v))   /* the version's 32-bit word */
        return DEC_TRUNC_IP;
    if ((v >> 4) != 6)
        return DEC_BAD_IP_VERSION;
    if (!rd_hdr(r, 40, &h))
        return DEC_TRUNC_IP;
    plen = rd_at_be16(h, 4);
    nh = h[6];
    memcpy(m->src, h + 8, 16);
    memcpy(m->dst, h + 24, 16);
    len = (plen == 0 && nh == 0) ? cap : 40u + plen;
    /* Running off the declared length is malformed, off the capture not. */
    bad = len <= cap ? DEC_BAD_EXT_HDR : DEC_TRUNC_IP;
    if (len > cap)
        len = cap;

    m->ip_version = 6;
    m->ip_layer++;
    m->ip_id = 0;
    m->frag = DEC_FRAG_NONE;
    m->l3 = h;
    m->l3_len = len;
    if (!rd_sub(r, len - 40, &body))
        return DEC_TRUNC_IP;        /* cannot happen: len <= cap */

    for (n = 0;; n++) {
        switch (nh) {
        case 0:
        case 43:
        case 51:
        case 60:
        case 135:
        case 139:
        case 140:
            if (n >= DEC_MAX_DEPTH)
                return DEC_TOO_DEEP;
            if (!rd_peek_u8(&body, 0, &nnh) || !rd_peek_u8(&body, 1, &hl))
                return bad;
            elen = nh == 51 ? ((size_t)hl + 2) * 4 : ((size_t)hl + 1) * 8;
            if (!rd_skip(&body, elen))
                return bad;
            nh = nnh;
            break;
        case 44:
            if (n >= DEC_MAX_DEPTH)
                return DEC_TOO_DEEP;
            if (!rd_u8(&body, &nnh) || !rd_skip(&body, 1) ||
                !rd_be16(&body, &fo) || !rd_be32(&body, &fid))
                return bad;
            m->ip_id = fid;
            nh = nnh;
            if ((fo >> 3) != 0) {
                m->frag = DEC_FRAG_LATER;
                dec_l4_reset(m);
                m->proto = nh;
                return DEC_OK;
            }
            if (fo & 1)
                m->frag = DEC_FRAG_FIRST;
            break;
        default:                    /* transport, ESP (50), none (59) */
            return dec_l4(s, rd_ptr(&body), rd_left(&body), nh);
        }
    }
}

/* A raw IP packet: the version nibble says which. */
static dec_status
dec_ip(dec_state *s, rd_t *r)
{
    uint8_t first;

    if (!rd_peek_u8(r, 0, &first))
        return DEC_TRUNC_IP;
    switch (first >> 4) {
    case 4:
        return dec_ipv4(s, r);
    case 6:
        return dec_ipv6(s, r);
    default:
        return DEC_BAD_IP_VERSION;
    }
}

/* ------------------------------------------------------------------ */
/* API                                                                 */
/* ------------------------------------------------------------------ */

int
dec_link_supported(int linktype)
{
    return strcmp(dec_link_name(linktype), "unknown") != 0;
}

const char *
dec_link_name(int linktype)
{
    switch (linktype) {
    case DEC_LINK_NULL:       return "NULL";
    case DEC_LINK_ETHERNET:   return "EN10MB";
    case DEC_LINK_PPP:        return "PPP";
    case DEC_LINK_RAW:
    case 12:
    case 14:                  return "RAW";
    case DEC_LINK_C_HDLC:     return "C_HDLC";
    case DEC_LINK_LOOP:       return "LOOP";
    case DEC_LINK_LINUX_SLL:  return "LINUX_SLL";
    case DEC_LINK_IPV4:       return "IPV4";
    case DEC_LINK_IPV6:       return "IPV6";
    case DEC_LINK_NFLOG:      return "NFLOG";
    case DEC_LINK_LINUX_SLL2: return "LINUX_SLL2";
    default:                  return "unknown";
    }
}

const char *
dec_status_name(dec_status st)
{
    static const char *const names[DEC_STATUS_COUNT] = {
        [DEC_OK] = "ok",
        [DEC_NOT_IP] = "not_ip",
        [DEC_TRUNC_LINK] = "truncated_link",
        [DEC_TRUNC_VLAN] = "truncated_vlan",
        [DEC_TRUNC_MPLS] = "truncated_mpls",
        [DEC_TRUNC_PPPOE] = "truncated_pppoe",
        [DEC_TRUNC_TUNNEL] = "truncated_tunnel",
        [DEC_TRUNC_IP] = "truncated_ip",
        [DEC_TRUNC_L4] = "truncated_l4",
        [DEC_BAD_IP_VERSION] = "bad_ip_version",
        [DEC_BAD_IP_HLEN] = "bad_ip_hlen",
        [DEC_BAD_IP_LEN] = "bad_ip_len",
        [DEC_BAD_TCP_HLEN] = "bad_tcp_hlen",
        [DEC_BAD_EXT_HDR] = "bad_ext_hdr",
        [DEC_TOO_DEEP] = "too_deep",
        [DEC_UNSUPPORTED_LINK] = "unsupported_link",
    };

    if ((unsigned)st >= DEC_STATUS_COUNT || names[st] == NULL)
        return "unknown";
    return names[st];
}

dec_status
dec_packet(int linktype, const uint8_t *data, size_t caplen, pkt_meta *m)
{
    static const uint8_t empty[1];
    dec_state s = { m, 0 };
    rd_t r;

    if (data == NULL) {             /* keep pointer arithmetic defined */
        data = empty;
        caplen = 0;
    }
    r = rd_make(data, caplen);
    dec_meta_start(m);
    if (linktype == DEC_LINK_ETHERNET)  /* most captures: before the switch */
        return dec_ether(&s, &r);
    switch (linktype) {
    case DEC_LINK_LINUX_SLL:
        return dec_sll(&s, &r);
    case DEC_LINK_LINUX_SLL2:
        return dec_sll2(&s, &r);
    case DEC_LINK_RAW:
    case 12:                        /* DLT_RAW on most BSDs */
    case 14:                        /* DLT_RAW on OpenBSD */
        return dec_ip(&s, &r);
    case DEC_LINK_IPV4:
        return dec_ipv4(&s, &r);
    case DEC_LINK_IPV6:
        return dec_ipv6(&s, &r);
    case DEC_LINK_NULL:
        return dec_loopback(&s, &r, 1);
    case DEC_LINK_LOOP:
        return dec_loopback(&s, &r, 0);
    case DEC_LINK_PPP:
        return dec_ppp_link(&s, &r);
    case DEC_LINK_C_HDLC:
        return dec_chdlc(&s, &r);
    case DEC_LINK_NFLOG:
        return dec_nflog(&s, &r);
    default:
        return DEC_UNSUPPORTED_LINK;
    }
}
