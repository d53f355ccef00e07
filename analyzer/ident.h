/*
 * ident.h - who each end of a flow is: an in-memory identity table.
 *
 * ident_packet() looks at the payload of each packet and learns names of
 * addresses from small, cleartext protocols it parses itself (no DPI
 * library), so identities are found even in flows a classifier gives up on:
 *
 *   kind           from                                     on the address of
 *   dns            DNS answer A/AAAA (and PTR) records,      the answered address
 *                  UDP/TCP 53; every name on the CNAME
 *                  chain from the query name
 *   mdns           mDNS (5353) answer A/AAAA/PTR records     the answered address
 *   llmnr          LLMNR (5355) answer A/AAAA records        the answered address
 *   netbios        NBNS (137) registrations and positive     the NB address
 *                  name query responses; NBDS (138)           the datagram sender
 *                  datagram source names
 *   dhcp_hostname  DHCP option 12                            the leased address
 *   dhcp_fqdn      DHCP option 81                            the leased address
 *   dhcp_vendor    DHCP option 60 (client messages)          the leased address
 *   dhcp_mac       DHCP client hardware address (chaddr)     the leased address
 *   krb_user       Kerberos AS-REQ/AS-REP cname@realm        the client
 *   krb_realm      Kerberos AS-REQ realm                     the KDC (server)
 *   ssh_banner     "SSH-2.0-..." identification line          its sender
 *   http_host      HTTP request Host (port removed)          the server
 *   user_agent     HTTP request User-Agent                   the client
 *   http_server    HTTP response Server                      the server
 *   sni            TLS ClientHello server_name               the server
 *
 * "The leased address" is, for a client message, ciaddr when set, else the
 * IP source when not 0.0.0.0; a REQUEST's hostname/FQDN/vendor wait (keyed
 * by xid and chaddr, in a small bounded cache) for the server's ACK, whose
 * yiaddr then gets them with the MAC.  So a NAKed request names nothing.
 *
 * Only what one packet carries is parsed: there is no TCP reassembly.  A
 * DNS or Kerberos message over TCP counts when its length prefix and the
 * whole message are in one segment; a ClientHello or HTTP header cut by a
 * segment boundary is parsed as far as it goes ("partial" counter).
 * Malformed messages are counted per protocol, never fatal.
 *
 * Values are stored as given (no escaping: that is the output's job),
 * capped at IDENT_VALUE_MAX bytes (longer ones are cut and counted).  The
 * one byte not kept as given is NUL, which would end the C string: it is
 * stored as '?'.  Everything that grows is capped: addresses (max_addrs),
 * records per address (max_recs), MACs per address (IDENT_MAX_MAC);
 * refusals are counted in ident_stats.
 *
 * Not thread-safe: one ident per capture thread.  With the engine's
 * per-worker hooks (packets spread by address), a DHCP REQUEST and its ACK
 * can reach different workers; give DHCP to a single ident, or such leases
 * are named only through ciaddr or the client's source address.  (segscope
 * capture feeds DHCP to one table from the engine's reading thread, in
 * input order, and every other identity packet to its worker's table.)
 */
#ifndef SEGSCOPE_IDENT_H
#define SEGSCOPE_IDENT_H

#include <stddef.h>
#include <stdint.h>

#include "capture/decode.h"
#include "capture/flowtab.h"

#define IDENT_VALUE_MAX 255     /* bytes kept of a value (without the NUL) */
#define IDENT_MAX_MAC 4         /* MAC addresses kept per IP address */

/* Where an identity came from. */
typedef enum ident_kind {
    IDENT_DNS = 0,
    IDENT_SNI,
    IDENT_HTTP_HOST,
    IDENT_DHCP_HOSTNAME,
    IDENT_DHCP_FQDN,
    IDENT_DHCP_VENDOR,
    IDENT_DHCP_MAC,
    IDENT_NETBIOS,
    IDENT_LLMNR,
    IDENT_MDNS,
    IDENT_KRB_USER,
    IDENT_KRB_REALM,
    IDENT_SSH_BANNER,
    IDENT_USER_AGENT,
    IDENT_HTTP_SERVER,
    IDENT_KIND_COUNT
} ident_kind;

/* The protocols parsed, for the per-protocol counters. */
typedef enum ident_proto {
    IDENT_P_DNS = 0,
    IDENT_P_MDNS,
    IDENT_P_LLMNR,
    IDENT_P_NBNS,
    IDENT_P_NBDS,
    IDENT_P_DHCP,
    IDENT_P_KRB,
    IDENT_P_SSH,
    IDENT_P_HTTP,
    IDENT_P_TLS,
    IDENT_P_COUNT
} ident_proto;

/* One identity of an address: a (kind, value) pair and when it was seen. */
typedef struct ident_rec {
    uint8_t kind;               /* enum ident_kind */
    uint8_t len;                /* bytes in value, not counting the NUL */
    char *value;                /* NUL-terminated, owned by the table, bytes as given */
    uint64_t first_ns;          /* first packet that gave it */
    uint64_t last_ns;           /* latest packet that gave it */
    uint64_t count;             /* packets that gave it */
} ident_rec;

/* Everything known about one address (a read-only view into the table). */
typedef struct ident_addr {
    uint8_t addr[16];           /* IPv4 in the first 4 bytes, rest zero */
    uint8_t ver;                /* 4 or 6 */
    uint8_t n_mac;              /* MACs in mac[] */
    uint8_t mac[IDENT_MAX_MAC][6]; /* source MACs of its packets, first seen first */
    uint32_t n_rec;             /* records in rec[] */
    const ident_rec *rec;       /* its identities, in the order learnt */
} ident_addr;

/* Limits, set at creation. */
typedef struct ident_cfg {
    uint64_t max_addrs;         /* addresses held (default 1,000,000) */
    uint32_t max_recs;          /* records per address (default 32, at most 65535) */
    int track_macs;             /* record source MACs of every packet (default 1) */
} ident_cfg;

/* Counters; never reset by ident_clear(). */
typedef struct ident_stats {
    uint64_t parsed[IDENT_P_COUNT];     /* messages parsed, per protocol */
    uint64_t malformed[IDENT_P_COUNT];  /* messages that broke a rule (skipped) */
    uint64_t partial[IDENT_P_COUNT];    /* messages cut by a TCP segment boundary */
    uint64_t learnt[IDENT_KIND_COUNT];  /* identity observations, per kind */
    uint64_t addrs;                     /* addresses held now */
    uint64_t records;                   /* records held now */
    uint64_t addr_dropped;              /* new addresses refused at max_addrs */
    uint64_t rec_dropped;               /* new records refused at max_recs */
    uint64_t mac_dropped;               /* MACs beyond IDENT_MAX_MAC */
    uint64_t value_truncated;           /* values cut to IDENT_VALUE_MAX */
    uint64_t oom;                       /* allocation failures (the item is dropped) */
} ident_stats;

typedef struct ident ident;

void ident_cfg_default(ident_cfg *cfg);
/* cfg NULL = defaults.  NULL on allocation failure. */
ident *ident_create(const ident_cfg *cfg);
/* NULL is fine. */
void ident_free(ident *id);

/*
 * Learn from one packet of flow f (from_client: its direction, as given
 * by the flow table) seen at ts_ns.  m must be the packet's decoded
 * metadata; payload bytes are read through bounds-checked readers only.
 * f may be NULL (the direction then comes from the ports).
 */
void ident_packet(ident *id, const flow *f, int from_client, const pkt_meta *m, uint64_t ts_ns);
/*
 * 1 if ident_packet() would look inside this packet (its ports or first
 * payload byte are those of a parsed protocol), 0 if it would ignore it.
 * Cheap and read-only: a caller sharing the table with another thread
 * takes its lock only for the packets this accepts.
 */
int ident_wants(const ident *id, const pkt_meta *m);

/*
 * Add one observation by hand (tests, or other modules with their own
 * sources).  value is len bytes (need not be NUL-terminated).  Returns 1 if
 * stored or updated, 0 if refused by a cap.
 */
int ident_add(ident *id, const uint8_t *addr, int ver, ident_kind kind,
              const void *value, size_t len, uint64_t ts_ns);
/* Record a source MAC for an address (capped per address). */
void ident_add_mac(ident *id, const uint8_t *addr, int ver, const uint8_t mac[6]);

/* Per record.  addr is 4 or 16 bytes per ver. */
typedef void (*ident_rec_fn)(const uint8_t *addr, int ver, const ident_rec *r, void *ctx);
/* Per address, MACs included. */
typedef void (*ident_addr_fn)(const ident_addr *a, void *ctx);

/* Every record of every address, addresses in the order first seen. */
void ident_foreach(const ident *id, ident_rec_fn fn, void *ctx);
/* Every address (also those with MACs but no records), in the order first seen. */
void ident_foreach_addr(const ident *id, ident_addr_fn fn, void *ctx);
/*
 * What is known about addr, or NULL.  The view stays valid until the next
 * ident_packet/ident_add/ident_add_mac/ident_clear/ident_free.
 */
const ident_addr *ident_lookup(const ident *id, const uint8_t *addr, int ver);
/* Forget every address and record (e.g. after flushing them to a store).
   DHCP requests still waiting for their ACK are kept. */
void ident_clear(ident *id);

const ident_stats *ident_get_stats(const ident *id);
/* "dns", "sni", "http_host", ... ; "?" if out of range. */
const char *ident_kind_name(int kind);
/* Inverse of ident_kind_name; -1 if unknown. */
int ident_kind_parse(const char *name);
/* "dns", "mdns", "llmnr", "nbns", "nbds", "dhcp", "kerberos", "ssh", "http", "tls". */
const char *ident_proto_name(int proto);

#endif
