/*
 * flowtab.h - bounded table of bidirectional flows.
 *
 * A flow is keyed by its canonical 5-tuple: the two (address, port) ends
 * sorted so that both directions of a conversation find the same entry,
 * plus the IP protocol and, optionally, the VLAN tag stack and the tunnel
 * VNI as context for overlapping address spaces.  Each flow counts
 * packets, bytes (wire length), fragments and timestamps per direction.
 *
 * Which end is the client:
 *   1. the sender of the first TCP SYN without ACK (origin "handshake");
 *   2. else, when the first TCP packet seen is a SYN+ACK, its receiver
 *      ("synack");
 *   3. else (a capture that starts mid-stream, or UDP/other), a port
 *      heuristic: the end whose port is a well-known service port
 *      (< 1024), or failing that the end whose port is not ephemeral
 *      (< 32768 against >= 32768), is the server ("port"); and
 *   4. failing all that, the sender of the first packet ("first").
 * A later SYN without ACK (the first one seen) overrides 2-4.
 *
 * Expiry: a flow ends after an idle timeout that depends on its protocol
 * and state (TCP after FIN from both ends or RST closes sooner), or when
 * it has lasted the active timeout (the record is exported and a new one
 * begins).  With max_flows reached, the least recently used flow is
 * exported early ("evicted").  Ended flows are always handed to the export
 * callback before they are freed: none is ever lost.
 *
 * Fragments: a first fragment records (addresses, protocol, IP id) ->
 * flow in a small fragment cache; later fragments with the same id are
 * counted in that flow (pkts/bytes and frag_pkts/frag_bytes).  A later
 * fragment with no known first fragment is counted as unmatched.
 */
#ifndef SEGSCOPE_FLOWTAB_H
#define SEGSCOPE_FLOWTAB_H

#include <stdint.h>
#include "capture/decode.h"

typedef struct flow_key {
    uint8_t a[16], b[16];       /* canonical ends: (a,pa) < (b,pb) */
    uint16_t pa, pb;            /* ports (ICMP echo: identifier) */
    uint32_t vni;               /* tunnel id when keyed by tunnel, else 0 */
    uint16_t vlan[DEC_MAX_VLAN];/* VLAN stack when keyed by VLAN, else 0 */
    uint8_t proto;              /* IP protocol */
    uint8_t ip_version;         /* 4 or 6 */
    uint8_t n_vlan;             /* tags in vlan[] */
    uint8_t has_vni;
    uint8_t pad_[4];            /* zero: the key is seven 8-byte words (hashed and compared as such) */
} flow_key;

/* Counters of one direction. */
typedef struct flow_dir {
    uint64_t pkts;              /* packets, fragments included */
    uint64_t bytes;             /* wire length (pcap len) of those packets */
    uint64_t frag_pkts;         /* of which non-first IP fragments */
    uint64_t frag_bytes;
    uint64_t first_ns, last_ns; /* first and last packet, in arrival order */
    uint8_t tcp_flags;          /* OR of TCP flags seen */
    uint8_t has_mac;            /* mac is set: the first packet had an Ethernet header */
    uint8_t mac[6];             /* source MAC of the first packet (in what was padding) */
    uint64_t payload_bytes;     /* L4 payload bytes as captured (pkt_meta payload_len) */
    uint64_t ip_bytes;          /* IP packet bytes as captured (pkt_meta l3_len) */
} flow_dir;

enum flow_origin {              /* how the client end was chosen */
    FLOW_ORIGIN_HANDSHAKE = 0,  /* sender of the first SYN without ACK */
    FLOW_ORIGIN_SYNACK,         /* receiver of the first SYN+ACK */
    FLOW_ORIGIN_PORT,           /* port heuristic */
    FLOW_ORIGIN_FIRST,          /* sender of the first packet */
};

enum flow_end {                 /* why a flow record ended */
    FLOW_END_IDLE = 0,          /* idle timeout */
    FLOW_END_CLOSED,            /* TCP FIN/RST, then the short timeout */
    FLOW_END_ACTIVE,            /* active timeout: record split */
    FLOW_END_EVICTED,           /* max_flows reached: exported early */
    FLOW_END_EOF,               /* end of input */
};

typedef struct flow flow;
struct flow {
    flow_key key;
    flow_dir d[2];              /* d[0]: client->server, d[1]: server->client */
    uint64_t first_ns, last_ns; /* first and last packet in arrival order */
    uint64_t seq;               /* creation order, from 1 */
    flow *prev, *next;          /* LRU list of its timeout class */
    void *ext;                  /* owned by the flow's consumer (e.g. DPI state) */
    uint32_t hash;
    uint8_t client_is_b;        /* 0: key.a is the client; 1: key.b is */
    uint8_t origin;             /* enum flow_origin */
    uint8_t ip_layer;           /* ip_layer of the first packet */
    uint8_t tunnel;             /* enum dec_tunnel of the first packet */
    uint8_t cls;                /* timeout class (internal) */
    uint8_t fin_mask;           /* bit per direction that sent FIN */
    uint8_t rst;                /* RST seen */
    uint8_t end;                /* enum flow_end, set before export */
    uint8_t n_vlan;             /* VLAN stack of the first packet */
    uint8_t has_vni;
    uint16_t vlan[DEC_MAX_VLAN];
    uint32_t vni;
};

/* Client and server addresses/ports of a flow. */
static inline const uint8_t *flow_caddr(const flow *f) { return f->client_is_b ? f->key.b : f->key.a; }
static inline const uint8_t *flow_saddr(const flow *f) { return f->client_is_b ? f->key.a : f->key.b; }
static inline uint16_t flow_cport(const flow *f) { return f->client_is_b ? f->key.pb : f->key.pa; }
static inline uint16_t flow_sport(const flow *f) { return f->client_is_b ? f->key.pa : f->key.pb; }
const char *flow_origin_name(int origin);
const char *flow_end_name(int end);

typedef struct flowtab_cfg {
    uint64_t tcp_idle_ns;       /* established TCP (default 300 s) */
    uint64_t tcp_closed_ns;     /* after FIN both ways or RST (default 10 s) */
    uint64_t udp_idle_ns;       /* UDP (default 120 s) */
    uint64_t other_idle_ns;     /* ICMP and others (default 60 s) */
    uint64_t active_ns;         /* active timeout (default 3600 s); 0 = none */
    uint64_t max_flows;         /* LRU eviction above this (default 2,000,000) */
    int key_vlan;               /* VLAN stack part of the key (default 1) */
    int key_vni;                /* tunnel VNI part of the key (default 1) */
} flowtab_cfg;

void flowtab_cfg_default(flowtab_cfg *cfg);

typedef struct flowtab_stats {
    uint64_t created;           /* flow records begun */
    uint64_t active;            /* flows in the table now */
    uint64_t peak;              /* most flows in the table at once */
    uint64_t ended[5];          /* by enum flow_end */
    uint64_t frag_matched;      /* later fragments counted in a flow */
    uint64_t frag_unmatched;    /* later fragments with no first fragment seen */
} flowtab_stats;

/* Called once for every flow record that ends, just before it is freed.
   f->end says why. The callee owns and must release f->ext. */
typedef void (*flowtab_export_fn)(void *ctx, flow *f);

typedef struct flowtab flowtab;

/* NULL on allocation failure. */
flowtab *flowtab_create(const flowtab_cfg *cfg, flowtab_export_fn fn, void *ctx);
/* Frees the table and its flows without exporting them (see flowtab_flush). NULL is fine. */
void flowtab_free(flowtab *t);

/*
 * Account one decoded packet seen at ts_ns with wire length wire_len.
 * Returns its flow and sets *from_client, or NULL when the packet is a
 * later fragment with no known first fragment (counted).  May end other
 * flows (idle, eviction) through the export callback first.
 */
flow *flowtab_packet(flowtab *t, const pkt_meta *m, uint64_t ts_ns,
                     uint32_t wire_len, int *from_client);
/* End every idle flow given the current time (also done inside flowtab_packet). */
void flowtab_expire(flowtab *t, uint64_t now_ns);
/* End every flow (FLOW_END_EOF), exporting them in creation order. */
void flowtab_flush(flowtab *t);
const flowtab_stats *flowtab_get_stats(const flowtab *t);
/* Bytes of one flow record, for the man page and benchmarks. */
size_t flowtab_record_size(void);

#endif
