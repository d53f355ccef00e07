/*
 * dpi.h - application-protocol detection with nDPI 4.2.
 *
 * This module is the only one that talks to nDPI (dpi.c is the only file
 * that includes its headers).  One dpi handle holds one nDPI detection
 * module; give each worker thread its own handle.
 *
 * How a flow is classified (this mirrors nDPI 4.2's ndpiReader, so the
 * two agree on the protocol of a flow):
 *   1. Every packet of the flow except non-first IP fragments is handed to
 *      ndpi_detection_process_packet() as its L3 packet (the innermost IP
 *      header for tunnelled flows), with its timestamp in ms.  Between
 *      the first packet and the second, nDPI's ~700-byte state is kept
 *      packed (its non-zero words only), so flows that never get a second
 *      packet hold little; it is unpacked when the second packet comes.
 *   2. Once nDPI names an application protocol, detection goes on while
 *      ndpi_extra_dissection_possible() says more metadata may come (e.g.
 *      the TLS server hello for JA3S, the DNS response), within the packet
 *      budget.
 *   3. The budget is counted over both directions: after more than
 *      max_tcp_pkts (TCP), max_udp_pkts (UDP) or max_other_pkts packets
 *      detection stops; a flow still Unknown then is given up
 *      (ndpi_detection_giveup, which guesses by port/IP when cfg.guess).
 *   4. A flow that ends while detection is still going on is given up
 *      the same way by dpi_flow_end().
 * When detection ends, what is kept (protocol ids and names, category,
 * confidence, risks, and the names nDPI extracted) is copied into the
 * flow's small dpi_info and nDPI's per-flow state is freed at once, so a
 * long capture holds nDPI state only for flows still being detected.
 *
 * Ownership of flow->ext: the analyzer's per-flow state is a dpi_info,
 * created by the first dpi_packet() (or dpi_ext()) and freed by
 * dpi_release().  Its `ident` field belongs to the identity module and
 * nothing here reads or frees it: that module must release its state and
 * clear `ident` before dpi_release() is called.
 */
#ifndef SEGSCOPE_DPI_H
#define SEGSCOPE_DPI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "capture/decode.h"
#include "capture/flowtab.h"

/* Default cap of a string copied out of a packet, in bytes (without NUL). */
#define DPI_STR_MAX 255

/* Strings nDPI extracts from a flow, kept in dpi_info (dpi_str()). */
enum dpi_str {
    DPI_S_SNI = 0,          /* TLS/QUIC client hello server name */
    DPI_S_HTTP_HOST,        /* HTTP Host header */
    DPI_S_USER_AGENT,       /* HTTP (or QUIC) User-Agent */
    DPI_S_DNS_QUERY,        /* DNS/mDNS/LLMNR query name */
    DPI_S_JA3C,             /* TLS JA3 of the client hello (md5 hex) */
    DPI_S_JA3S,             /* TLS JA3S of the server hello (md5 hex) */
    DPI_S_SSH_CLIENT,       /* SSH client banner ("SSH-2.0-OpenSSH_8.2") */
    DPI_S_SSH_SERVER,       /* SSH server banner */
    DPI_S_KRB_PRINCIPAL,    /* Kerberos client: "user@REALM", or "host$@REALM" for a machine */
    DPI_S_DHCP_HOSTNAME,    /* DHCP option 12 */
    DPI_S_DHCP_CLASS,       /* DHCP option 60 (vendor class identifier) */
    DPI_STR_COUNT
};

/* How sure nDPI is (nDPI 4.2's ndpi_confidence_t, renumbered here). */
enum dpi_confidence {
    DPI_CONF_UNKNOWN = 0,   /* not classified */
    DPI_CONF_PORT,          /* guessed from the L4 ports */
    DPI_CONF_IP,            /* guessed from the addresses */
    DPI_CONF_CACHE,         /* DPI result carried over from a related flow */
    DPI_CONF_DPI,           /* deep packet inspection */
};

/* Where a flow's detection stands. */
enum dpi_status {
    DPI_DETECTING = 0,      /* nDPI state live; nothing below is final */
    DPI_DETECTED,           /* nDPI named the protocol by itself */
    DPI_GIVEN_UP,           /* ended by giveup (budget spent or flow ended) */
    DPI_NO_STATE,           /* created by dpi_ext() only: never saw a packet */
    DPI_PACKED,             /* one packet seen; nDPI state packed (step 1 above) */
};

/*
 * What DPI keeps about one flow: flow->ext points to this.  Names (app,
 * master_name, category) point into the dpi handle and stay valid until
 * dpi_free(); strings are owned by the dpi_info.
 */
typedef struct dpi_info {
    void *ident;                /* reserved for the identity module (never touched here) */
    void *nflow;                /* nDPI per-flow state while DPI_DETECTING, packed
                                   while DPI_PACKED; else NULL */
    const char *app;            /* "TLS.Google" as ndpiReader prints it; NULL while detecting */
    const char *category;       /* nDPI category name ("Web"); NULL while detecting */
    char *strs;                 /* the enum dpi_str strings, packed, NUL-terminated; NULL if none */
    uint64_t risk;              /* nDPI flow-risk bitmap (bit n = ndpi_risk_enum n) */
    uint16_t master_id;         /* nDPI master protocol id (e.g. 91 TLS), 0 if none */
    uint16_t app_id;            /* nDPI application protocol id (e.g. 126 Google) */
    uint16_t category_id;       /* nDPI category id */
    uint16_t pkts;              /* packets handed to nDPI */
    uint16_t soff[DPI_STR_COUNT]; /* 1 + offset of each string in strs; 0 = absent */
    uint8_t status;             /* enum dpi_status */
    uint8_t confidence;         /* enum dpi_confidence */
    uint8_t guessed;            /* 1 if giveup guessed the protocol */
    uint8_t truncated;          /* strings cut at the cap */
    uint8_t has_icmp;           /* icmp_* below are set (ICMP/ICMPv6 flows) */
    uint8_t icmp_type;          /* type and code of the first ICMP packet seen */
    uint8_t icmp_code;
    uint8_t icmp_from_client;   /* 1 if that packet went client -> server */
} dpi_info;

typedef struct dpi_cfg {
    const char *ndpi_dir;       /* load protos.txt, categories.txt, risky_domains.txt,
                                   ja3_fingerprints.csv, sha1_fingerprints.csv from here
                                   (those that exist); NULL = none */
    unsigned max_tcp_pkts;      /* TCP budget, both directions (default 80, as ndpiReader) */
    unsigned max_udp_pkts;      /* UDP budget (default 24, as ndpiReader) */
    unsigned max_other_pkts;    /* other protocols (default 80); budgets are capped at 60000 */
    unsigned max_str;           /* cap of each kept string (default DPI_STR_MAX) */
    int guess;                  /* let giveup guess by port/IP (default 1, as ndpiReader) */
} dpi_cfg;

typedef struct dpi_stats {
    uint64_t flows;             /* flows handed to nDPI (got nDPI state) */
    uint64_t packets;           /* packets handed to nDPI */
    uint64_t frags_skipped;     /* non-first fragments not handed over */
    uint64_t detected;          /* flows classified by DPI before any giveup */
    uint64_t given_up;          /* flows ended by giveup */
    uint64_t guessed;           /* of those, protocol guessed by port/IP */
    uint64_t unknown;           /* flows left Unknown */
    uint64_t live;              /* nDPI flow states alive (unpacked) now */
    uint64_t peak_live;         /* most alive at once */
    uint64_t packed;            /* flows whose nDPI state is packed now (one packet seen) */
    uint64_t peak_packed;       /* most packed at once */
    uint64_t packed_bytes;      /* bytes those packed states take now */
    uint64_t peak_packed_bytes; /* most bytes they took at once */
    uint64_t state_bytes_freed; /* bytes of nDPI flow state freed (struct + its buffers) */
    uint64_t kept_bytes;        /* bytes of dpi_info + strings of flows classified */
    uint64_t str_truncated;     /* strings cut at max_str */
    uint64_t alloc_failed;      /* allocations that failed (flow left without DPI) */
    uint64_t names_dropped;     /* protocol names not interned (table full) */
} dpi_stats;

typedef struct dpi dpi;

void dpi_cfg_default(dpi_cfg *cfg);
/* NULL on failure with a one-line reason in err ("protos.txt: cannot load"). */
dpi *dpi_create(const dpi_cfg *cfg, char *err, size_t errlen);
/* Frees the handle; flows must have been released first (names die here). NULL is fine. */
void dpi_free(dpi *d);

/*
 * Hand one accounted packet of flow f to nDPI (engine packet hook).
 * from_client: its direction; m: its decoded view (m->l3 is the IP header
 * nDPI reads); ts_ns: capture time.  Does nothing once detection ended.
 */
void dpi_packet(dpi *d, flow *f, int from_client, const pkt_meta *m, uint64_t ts_ns);
/* The flow ended: finish detection (giveup if still going) and keep the result in f->ext. */
void dpi_flow_end(dpi *d, flow *f);
/* f's dpi_info, or NULL if it has none. */
const dpi_info *dpi_get(const flow *f);
/* f's dpi_info, created empty (status DPI_NO_STATE) if absent; NULL on OOM. For the identity module. */
dpi_info *dpi_ext(dpi *d, flow *f);
/* Free f->ext (and any nDPI state left) and set it to NULL; d is the handle
   that made it. ident must already be NULL. */
void dpi_release(dpi *d, flow *f);
/* One kept string, or NULL if nDPI did not extract it. */
const char *dpi_str(const dpi_info *i, enum dpi_str which);

/* "DPI", "Match by port"... as ndpiReader prints it. */
const char *dpi_confidence_name(int confidence);
/* Risk names joined by ';' into buf (truncated to len); "" for none. Returns buf. */
const char *dpi_risk_names(uint64_t risk, char *buf, size_t len);
/* Name of an nDPI protocol id ("TLS"), "Unknown" if out of range. */
const char *dpi_proto_name(dpi *d, uint16_t id);

const dpi_stats *dpi_get_stats(const dpi *d);
/* Print every counter, one per line ("--stats"). */
void dpi_print_stats(const dpi *d, FILE *out);
/* Bytes of one dpi_info (without its strings). */
size_t dpi_info_size(void);
/* Bytes of nDPI's per-flow state struct (without its buffers). */
size_t dpi_ndpi_flow_size(void);

/* SHA-1 of len bytes (nDPI's implementation), for communityid.c. */
void dpi_sha1(const void *data, size_t len, uint8_t out[20]);

#endif
