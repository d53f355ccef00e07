/*
 * graphrec.h - the workload graph's records and their binary encoding.
 *
 * The graph (graph.h stores it in RocksDB) has three kinds of record:
 *
 *   node     one workload, keyed by its address: the MACs it sent from,
 *            its identities (names learnt from DNS, DHCP, Kerberos...),
 *            user labels, GeoIP data for external addresses, whether it
 *            is internal, first/last seen, and counters as client and as
 *            server.
 *   edge     one service used by one client: (client address, server
 *            address, IP protocol, server port or ICMP type, application
 *            protocol name), with flows, packets and bytes each way,
 *            first/last seen, the distinct UTC days it was seen, a few
 *            example server names (Internet destinations) and how the
 *            client end of its flows was decided.
 *   capture  one ingest run: its inputs, frames, time window, when.
 *
 * This module is pure (no I/O): it turns records into keys and values and
 * back, and merges two records of the same key ("accumulation").  Every
 * decoder reads through rd.h's bounds-checked readers and returns a
 * status; a value it cannot read is reported, never trusted.
 *
 * Encoding (all integers unsigned LEB128 "varints" unless noted; a string
 * is a varint length then that many bytes, no NUL, shorter than its cap):
 *
 *   node key     'N' family(1: 4|6) address(4|16)
 *   node value   version(1) flags(1: bit0 internal, bit1 has geo)
 *                first_ns last_ns
 *                client flows pkts bytes, server flows pkts bytes
 *                n_mac(1) { mac(6) first_ns last_ns }
 *                n_ident(1) { kind value source first_ns last_ns }
 *                n_label(1) { key value }
 *                [geo: country(str) asn org(str)]
 *   edge key     'E' family address(client) family address(server)
 *                proto(1) port(2, big-endian) app(rest of the key)
 *   edge value   version(1) flows pkts_c2s pkts_s2c bytes_c2s bytes_s2c
 *                first_ns last_ns flows_handshake flows_heuristic
 *                [risk: version 2 and later]
 *                days_before n_day(1) first_day {day - previous day}
 *                n_name(1) { name }
 *   capture key  'C' id(8, big-endian: wall-clock start in ns)
 *   capture value version(1) state(1) start_ns end_ns first_ns last_ns
 *                frames bytes decoded flows flushes
 *                n_input(1) { kind(1: 0 file, 1 interface) name size }
 *                segscope_version(str)
 *
 * Keys sort by kind, then address (IPv4 before IPv6, numerically), so an
 * iteration lists hosts in address order and edges grouped by client.
 * Value layouts change only with GRAPHREC_VERSION, by adding fields:
 * encoders write GRAPHREC_VERSION, decoders read every version from
 * GRAPHREC_VERSION_MIN on (a field added later is zero in an older
 * value); a value of another version is reported as GRAPHREC_BAD_VERSION.
 * History: 1 first layout; 2 adds the edge's nDPI risk bitmap.
 */
#ifndef SEGSCOPE_GRAPHREC_H
#define SEGSCOPE_GRAPHREC_H

#include <stddef.h>
#include <stdint.h>

#define GRAPHREC_VERSION 2      /* version byte of every value written */
#define GRAPHREC_VERSION_MIN 1  /* oldest version the decoders read */

/* Caps: a record never holds more than this (merges keep the most recent). */
#define GRAPH_MAX_MACS    4     /* MACs per node */
#define GRAPH_MAX_IDENTS  16    /* identities per node */
#define GRAPH_MAX_LABELS  16    /* labels per node */
#define GRAPH_MAX_DAYS    64    /* days listed per edge (older ones are only counted) */
#define GRAPH_MAX_NAMES   4     /* example server names per edge */
#define GRAPH_MAX_INPUTS  64    /* inputs per capture record */
/* String buffer sizes, NUL included: longer strings are cut to fit. */
#define GRAPH_KIND_LEN    24    /* identity kind ("hostname") */
#define GRAPH_SOURCE_LEN  24    /* identity source ("dhcp") */
#define GRAPH_VALUE_LEN   256   /* identity value (a DNS name fits) */
#define GRAPH_LKEY_LEN    64    /* label key */
#define GRAPH_LVAL_LEN    128   /* label value */
#define GRAPH_APP_LEN     32    /* application protocol name ("TLS") */
#define GRAPH_NAME_LEN    256   /* example server name */
#define GRAPH_ORG_LEN     128   /* GeoIP organisation */
#define GRAPH_INPUT_LEN   256   /* capture input name (the end of a long path is kept) */
#define GRAPH_VER_LEN     16    /* segscope version string */
/* Largest key and value any record encodes to (buffers of this size always fit). */
#define GRAPHREC_KEY_MAX  (1 + 2 * 17 + 3 + GRAPH_APP_LEN)
#define GRAPHREC_VAL_MAX  32768

/* Status of a decoder. */
typedef enum graphrec_status {
    GRAPHREC_OK = 0,            /* decoded */
    GRAPHREC_BAD_KEY,           /* key of the wrong kind or length */
    GRAPHREC_BAD_VERSION,       /* value written by another record version */
    GRAPHREC_TRUNC,             /* value ends inside a field */
    GRAPHREC_BAD_VALUE,         /* a field out of range, or trailing bytes */
} graphrec_status;

const char *graphrec_status_name(graphrec_status s);

/* Record kinds: the first byte of every key. */
enum {
    GRAPHREC_NODE = 'N',
    GRAPHREC_EDGE = 'E',
    GRAPHREC_CAPTURE = 'C',
    GRAPHREC_META = 'M',        /* database metadata (graph.c) */
};

/* A workload's address. */
typedef struct graph_addr {
    uint8_t family;             /* 4 or 6 */
    uint8_t a[16];              /* IPv4 in the first 4 bytes, the rest zero */
} graph_addr;

/* Traffic of a node in one role. */
typedef struct graph_counts {
    uint64_t flows;             /* flow records */
    uint64_t pkts;              /* packets of those flows, both directions */
    uint64_t bytes;             /* wire bytes of those flows, both directions */
} graph_counts;

/* A source MAC address a node's packets came from (its own, or a router's). */
typedef struct graph_mac {
    uint8_t mac[6];             /* the address */
    uint64_t first_ns, last_ns; /* first and last flow that showed it */
} graph_mac;

/* One identity of a node: a name and where it was learnt. */
typedef struct graph_ident {
    char kind[GRAPH_KIND_LEN];  /* what the value is ("hostname", "user"...) */
    char value[GRAPH_VALUE_LEN];/* the name */
    char source[GRAPH_SOURCE_LEN]; /* protocol it came from ("dhcp", "dns"...) */
    uint64_t first_ns, last_ns; /* first and last time it was seen */
} graph_ident;

/* One user label of a node. */
typedef struct graph_label {
    char key[GRAPH_LKEY_LEN];   /* "role" */
    char value[GRAPH_LVAL_LEN]; /* "web" */
} graph_label;

/* GeoIP data of an external address. */
typedef struct graph_geo {
    char country[3];            /* ISO 3166 code, "" if unknown */
    uint32_t asn;               /* autonomous system number, 0 if unknown */
    char org[GRAPH_ORG_LEN];    /* AS organisation, "" if unknown */
} graph_geo;

/* A node: one workload.  A plain value (no pointers): copy it freely. */
typedef struct graph_node {
    graph_addr addr;            /* the key */
    uint8_t internal;           /* 1 internal address space, 0 external */
    uint8_t has_geo;            /* geo is set */
    uint8_t n_mac, n_ident, n_label; /* entries used in the arrays below */
    uint64_t first_ns, last_ns; /* first and last packet of its flows, ns since the epoch */
    graph_counts as_client;     /* flows where it was the client */
    graph_counts as_server;     /* flows where it was the server */
    graph_mac mac[GRAPH_MAX_MACS];
    graph_ident ident[GRAPH_MAX_IDENTS];
    graph_label label[GRAPH_MAX_LABELS];
    graph_geo geo;              /* if has_geo */
} graph_node;

/*
 * The distinct UTC days (days since 1970-01-01) an edge was seen: the
 * GRAPH_MAX_DAYS most recent are listed; older distinct days are counted
 * in `before` when they fall off the list.  A day older than every listed
 * one, arriving when the list is full, is taken as already counted.
 */
typedef struct graph_days {
    uint32_t before;            /* distinct days older than day[0], no longer listed */
    uint32_t n;                 /* days listed */
    uint32_t day[GRAPH_MAX_DAYS]; /* ascending */
} graph_days;

/* What names an edge. */
typedef struct graph_edge_key {
    graph_addr client, server;  /* the two ends */
    uint8_t proto;              /* IP protocol */
    uint16_t port;              /* server port; ICMP/ICMPv6: type; else 0 */
    char app[GRAPH_APP_LEN];    /* nDPI master protocol name, "Unknown" if none */
} graph_edge_key;

/* An edge: one service used by one client.  A plain value. */
typedef struct graph_edge {
    graph_edge_key k;           /* the key */
    uint64_t flows;             /* flow records */
    uint64_t pkts[2];           /* [0] client -> server, [1] server -> client */
    uint64_t bytes[2];          /* wire bytes, same */
    uint64_t first_ns, last_ns; /* first and last packet */
    uint64_t flows_handshake;   /* flows whose client was seen opening (SYN, SYN+ACK) */
    uint64_t flows_heuristic;   /* flows whose client was guessed (ports, first packet) */
    uint64_t risk;              /* OR of its flows' nDPI risk bitmaps (bit n = ndpi_risk_enum n;
                                   names: dpi_risk_names()); 0 in records older than version 2 */
    graph_days days;            /* distinct UTC days seen */
    uint32_t n_name;            /* names used */
    char name[GRAPH_MAX_NAMES][GRAPH_NAME_LEN]; /* server names seen (SNI, Host, DNS), first ones kept */
} graph_edge;

/* State of a capture run. */
enum graph_capture_state {
    GRAPH_CAPTURE_RUNNING = 0,  /* still going, or killed (last flush) */
    GRAPH_CAPTURE_COMPLETE,     /* every input read to its end */
    GRAPH_CAPTURE_STOPPED,      /* stopped by a signal or a limit */
    GRAPH_CAPTURE_FAILED,       /* an input failed midway */
    GRAPH_CAPTURE_STATE_COUNT
};

/* One input of a capture run. */
typedef struct graph_input {
    uint8_t kind;               /* 0 file, 1 interface */
    char name[GRAPH_INPUT_LEN]; /* path or interface name */
    uint64_t size;              /* file size in bytes (0 for stdin and interfaces) */
} graph_input;

/* One ingest run ("segscope capture"). */
typedef struct graph_capture {
    uint64_t id;                /* the key: wall-clock start, ns since the epoch */
    uint8_t state;              /* enum graph_capture_state */
    uint64_t start_ns, end_ns;  /* wall clock: start, last flush */
    uint64_t first_ns, last_ns; /* time window of the packets */
    uint64_t frames, bytes;     /* frames read and their wire bytes */
    uint64_t decoded;           /* frames accounted in flows */
    uint64_t flows;             /* flow records folded into the graph */
    uint64_t flushes;           /* write batches committed */
    uint32_t n_input;           /* inputs used */
    graph_input input[GRAPH_MAX_INPUTS];
    char version[GRAPH_VER_LEN];/* segscope version that wrote it */
} graph_capture;

const char *graph_capture_state_name(int state);

/* ---- addresses and days ---------------------------------------------- */

/* Fill a from 4 or 16 bytes of version ver (4 or 6). */
void graph_addr_set(graph_addr *a, const uint8_t *bytes, int ver);
/* Compare like the keys sort: family, then bytes. */
int graph_addr_cmp(const graph_addr *x, const graph_addr *y);
/* The UTC day number of a time in ns since the epoch. */
static inline uint32_t graph_day(uint64_t ns) { return (uint32_t)(ns / 86400000000000ULL); }
/* Add one day to the set (see graph_days). */
void graph_days_add(graph_days *d, uint32_t day);
/* Add every day of add into d. */
void graph_days_merge(graph_days *d, const graph_days *add);
/* Distinct days: before + n. */
static inline uint32_t graph_days_count(const graph_days *d) { return d->before + d->n; }

/* Copy s into dst of size len, cut at len-1 bytes (at a UTF-8 boundary), the rest zeroed. */
void graph_strcpy(char *dst, size_t len, const char *s);

/* ---- keys ----------------------------------------------------------------- */

/* Each returns the key length written into buf (GRAPHREC_KEY_MAX bytes are enough). */
size_t graphrec_node_key(const graph_addr *a, uint8_t *buf);
size_t graphrec_edge_key(const graph_edge_key *k, uint8_t *buf);
size_t graphrec_capture_key(uint64_t id, uint8_t *buf);
/* Decode a key of the given kind. */
graphrec_status graphrec_node_key_decode(const uint8_t *key, size_t len, graph_addr *a);
graphrec_status graphrec_edge_key_decode(const uint8_t *key, size_t len, graph_edge_key *k);
graphrec_status graphrec_capture_key_decode(const uint8_t *key, size_t len, uint64_t *id);

/* ---- values ------------------------------------------------------------- */

/* Encode a value into buf (cap bytes; GRAPHREC_VAL_MAX always fits).
   Returns its length, or 0 if cap is too small. */
size_t graphrec_node_encode(const graph_node *n, uint8_t *buf, size_t cap);
size_t graphrec_edge_encode(const graph_edge *e, uint8_t *buf, size_t cap);
size_t graphrec_capture_encode(const graph_capture *c, uint8_t *buf, size_t cap);

/*
 * Decode a value into *out.  The key fields of *out (addr, k, id) are
 * left as they are: decode the key separately.  On failure *out is
 * partly filled and must not be used.
 */
graphrec_status graphrec_node_decode(const uint8_t *val, size_t len, graph_node *out);
graphrec_status graphrec_edge_decode(const uint8_t *val, size_t len, graph_edge *out);
graphrec_status graphrec_capture_decode(const uint8_t *val, size_t len, graph_capture *out);

/* ---- accumulation ------------------------------------------------------- */

/* An empty node or edge with its key set (counters zero, times unset). */
void graph_node_init(graph_node *n, const graph_addr *a);
void graph_edge_init(graph_edge *e, const graph_edge_key *k);
/* Widen [*first, *last] to cover [f, l]; 0 means unset. */
void graph_widen(uint64_t *first, uint64_t *last, uint64_t f, uint64_t l);
/* a += b. */
void graph_counts_add(graph_counts *a, const graph_counts *b);

/*
 * Fold add into into (same key): counters are summed, first/last seen
 * take the min/max, days are united, risk bitmaps OR-ed; MACs and identities are united (a
 * full list drops its least recently seen entry for a newer one); labels
 * are set by key (add's value wins); names are united, the first ones
 * kept; geo is taken from add when add has it, the internal flag always.
 * Lists stay in a canonical order (MACs by first seen, identities by
 * kind/value/source, labels by key), so the result does not depend on how
 * updates were batched.
 */
void graph_node_merge(graph_node *into, const graph_node *add);
void graph_edge_merge(graph_edge *into, const graph_edge *add);

/* Add or refresh one MAC, identity, label or name (the rules of the merge). */
void graph_node_add_mac(graph_node *n, const uint8_t mac[6], uint64_t first_ns, uint64_t last_ns);
void graph_node_add_ident(graph_node *n, const char *kind, const char *value, const char *source,
                          uint64_t first_ns, uint64_t last_ns);
void graph_node_set_label(graph_node *n, const char *key, const char *value);
void graph_edge_add_name(graph_edge *e, const char *name);

#endif
