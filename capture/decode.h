/*
 * decode.h - packet decoder: link-layer frame -> pkt_meta.
 *
 * Decoding is pure: dec_packet() reads the frame through bounds-checked
 * readers (rd.h), fills a pkt_meta and returns a status.  It keeps no
 * state and allocates nothing; the flow table changes only after a
 * successful decode.  Tunnels are unwrapped down to the innermost IP
 * header, which is the one that names the flow:
 *
 *   link:  Ethernet, Linux cooked v1/v2, raw IP, BSD loopback/null,
 *          PPP, Cisco HDLC, NFLOG
 *   L2.5:  802.1Q / 802.1ad (any depth, the first DEC_MAX_VLAN recorded),
 *          MPLS label stacks, PPPoE sessions, Cisco VN-Tag
 *   tunnels: GRE (incl. ERSPAN II/III and transparent Ethernet bridging),
 *          VXLAN (UDP 4789), Geneve (UDP 6081), GTP-U (UDP 2152),
 *          Teredo (UDP 3544), CAPWAP data (UDP 5247), AYIYA (UDP 5072),
 *          IP-in-IP, 6in4, 4in6, 6in6
 *   IP:    IPv4 (options), IPv6 (extension header chain, bounded)
 *   L4:    TCP, UDP, SCTP ports; ICMP/ICMPv6 type, code and echo id;
 *          any other protocol by number.
 *
 * Counting rules: a frame yields at most one pkt_meta, for its innermost
 * flow.  ICMP errors are not looked into (the quoted header does not make
 * a flow).  Fragments: the first fragment carries ports; later fragments
 * have no L4 header and are flagged DEC_FRAG_LATER with their IP id so
 * the flow table can match them to the first one.
 */
#ifndef SEGSCOPE_DECODE_H
#define SEGSCOPE_DECODE_H

#include <stddef.h>
#include <stdint.h>

/* Link types, numbered as LINKTYPE_* in the pcap/pcapng file formats. */
enum {
    DEC_LINK_NULL = 0,      /* BSD loopback, host-order 4-byte family */
    DEC_LINK_ETHERNET = 1,
    DEC_LINK_PPP = 9,
    DEC_LINK_RAW = 101,     /* raw IPv4 or IPv6 (DLT_RAW) */
    DEC_LINK_C_HDLC = 104,  /* Cisco HDLC */
    DEC_LINK_LOOP = 108,    /* OpenBSD loopback, network-order family */
    DEC_LINK_LINUX_SLL = 113,
    DEC_LINK_IPV4 = 228,
    DEC_LINK_IPV6 = 229,
    DEC_LINK_NFLOG = 239,
    DEC_LINK_LINUX_SLL2 = 276,
};

/* 1 if the decoder understands this link type. */
int dec_link_supported(int linktype);
/* Human-readable name of a link type ("EN10MB"...), or "unknown". */
const char *dec_link_name(int linktype);

/*
 * Result of dec_packet().  DEC_OK and DEC_NOT_IP are not errors; every
 * other value is a reason a frame was skipped, and each has a name
 * (dec_status_name) used by the --stats counters.
 */
typedef enum dec_status {
    DEC_OK = 0,             /* pkt_meta filled */
    DEC_NOT_IP,             /* ARP, LLDP, STP, ... : no IP inside (counted, not an error) */
    DEC_TRUNC_LINK,         /* link header cut short */
    DEC_TRUNC_VLAN,
    DEC_TRUNC_MPLS,
    DEC_TRUNC_PPPOE,
    DEC_TRUNC_TUNNEL,       /* GRE/ERSPAN/VXLAN/Geneve/GTP/... header cut short */
    DEC_TRUNC_IP,           /* IP header cut short */
    DEC_TRUNC_L4,           /* TCP/UDP/ICMP header cut short */
    DEC_BAD_IP_VERSION,
    DEC_BAD_IP_HLEN,        /* IHL < 5, or header longer than the packet */
    DEC_BAD_IP_LEN,         /* total/payload length smaller than the header */
    DEC_BAD_TCP_HLEN,       /* data offset < 5 */
    DEC_BAD_EXT_HDR,        /* IPv6 extension header malformed */
    DEC_TOO_DEEP,           /* more nested layers than DEC_MAX_DEPTH */
    DEC_UNSUPPORTED_LINK,   /* link type not handled */
    DEC_STATUS_COUNT
} dec_status;

const char *dec_status_name(dec_status s);

#define DEC_MAX_VLAN  4     /* VLAN tags recorded in the key */
#define DEC_MAX_DEPTH 16    /* nested headers (tags+tunnels+IP) before DEC_TOO_DEEP */

enum dec_frag {
    DEC_FRAG_NONE = 0,      /* not a fragment */
    DEC_FRAG_FIRST = 1,     /* offset 0, more fragments follow: has L4 header */
    DEC_FRAG_LATER = 2,     /* offset > 0: no L4 header; match by ip_id */
};

enum dec_tunnel {
    DEC_TUN_NONE = 0, DEC_TUN_GRE, DEC_TUN_ERSPAN, DEC_TUN_VXLAN,
    DEC_TUN_GENEVE, DEC_TUN_GTPU, DEC_TUN_TEREDO, DEC_TUN_CAPWAP,
    DEC_TUN_AYIYA, DEC_TUN_IPIP, DEC_TUN_MPLS, DEC_TUN_PPPOE,
};

/*
 * What the decoder learned about one frame: the innermost flow.
 * Addresses are 16 bytes; IPv4 uses the first 4 and zeroes the rest.
 * Pointers point into the frame passed to dec_packet().
 */
typedef struct pkt_meta {
    uint8_t ip_version;         /* 4 or 6 */
    uint8_t proto;              /* IP protocol number of the innermost L4 */
    uint8_t ip_layer;           /* 1 = not tunnelled, 2 = inside one tunnel... */
    uint8_t n_vlan;             /* VLAN tags recorded (<= DEC_MAX_VLAN) */
    uint16_t vlan[DEC_MAX_VLAN];/* VLAN ids, outermost first, all tags in the frame */
    uint32_t vni;               /* VXLAN VNI / Geneve VNI / GRE key / ERSPAN session, if has_vni */
    uint8_t has_vni;
    uint8_t tunnel;             /* enum dec_tunnel: outermost tunnel unwrapped */
    uint8_t frag;               /* enum dec_frag */
    uint8_t tcp_flags;          /* TCP flags byte (FIN=0x01 SYN=0x02 RST=0x04 PSH=0x08 ACK=0x10 URG=0x20 ECE=0x40 CWR=0x80) */
    uint8_t src[16], dst[16];   /* innermost IP addresses */
    uint16_t sport, dport;      /* TCP/UDP/SCTP ports; for ICMP echo: id in both, else 0 */
    uint8_t icmp_type, icmp_code;
    uint8_t has_ports;          /* 1 if sport/dport came from an L4 header */
    uint8_t has_mac;
    uint8_t src_mac[6], dst_mac[6]; /* innermost Ethernet header, if has_mac */
    uint32_t ip_id;             /* IPv4 id or IPv6 fragment id (for fragments) */
    const uint8_t *l3;          /* innermost IP header */
    size_t l3_len;              /* bytes from l3 to the end of the IP packet as captured (clamped to IP length) */
    const uint8_t *l4;          /* L4 header (NULL for DEC_FRAG_LATER) */
    size_t l4_len;              /* bytes from l4 to the end of the IP packet as captured */
    const uint8_t *payload;     /* L4 payload (after TCP/UDP header), may be NULL */
    size_t payload_len;
} pkt_meta;

/*
 * Decode one captured frame of the given link type.
 * Returns DEC_OK with *m filled, or another status (then *m is
 * unspecified).  Never reads outside [data, data+caplen).
 */
dec_status dec_packet(int linktype, const uint8_t *data, size_t caplen, pkt_meta *m);

#endif
