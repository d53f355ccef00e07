/*
 * model.h - the in-memory workload graph the recommender works on.
 *
 * A model holds hosts (an address, whether it is internal, its names
 * and labels) and directed edges client -> server per service (IP
 * protocol, server port, application) with what was observed on them:
 * flows, packets and bytes each way, first and last seen, days seen.
 * It is filled once (from the graph database by model_load_db(), or by
 * tests and benchmarks through model_host_add()/model_edge_add()), then
 * model_finish() merges duplicate edges and builds the adjacency lists;
 * after that it is read-only and the algorithms (segment.h, rules.h,
 * blast.h) only read it.
 *
 * Strings (names, label keys and values, application names) are interned:
 * every distinct string has one id, and id 0 is the empty string.
 */
#ifndef SEGSCOPE_MODEL_H
#define SEGSCOPE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define MODEL_NONE UINT32_MAX

/* One host (a node of the graph). */
typedef struct model_host {
    uint8_t addr[16];           /* IPv4 in the first 4 bytes, rest zero */
    uint8_t ipv;                /* 4 or 6 */
    uint8_t internal;           /* 1: RFC 1918 / ULA / link-local, or labelled internal */
    uint8_t alive;              /* 1: sent at least one packet (set by model_finish) */
    uint8_t pad_;               /* unused */
    uint32_t attr_off, attr_n;  /* its names and labels: model_host_attrs() */
    uint32_t out_off, out_n;    /* edges where it is the client: model_out() */
    uint32_t in_off, in_n;      /* edges where it is the server: model_in() */
} model_host;

/* What an attribute of a host is. */
enum model_attr_kind {
    MODEL_ATTR_NAME = 0,        /* a name: key = where it came from (dns, dhcp, sni...) */
    MODEL_ATTR_LABEL = 1,       /* a user label: key = value */
};

/* One name or label of a host. */
typedef struct model_attr {
    uint32_t host;              /* host index */
    uint32_t key;               /* string id: name source ("dns", "dhcp"...) or label key */
    uint32_t value;             /* string id: the name, or the label value */
    uint8_t kind;               /* enum model_attr_kind */
} model_attr;

/* One edge: a service of `server` used by `client`. */
typedef struct model_edge {
    uint32_t client, server;    /* host indices */
    uint32_t app;               /* string id of the application (0 = unknown) */
    uint16_t port;              /* server port (0 for ICMP and port-less protocols) */
    uint8_t proto;              /* IP protocol number */
    uint8_t pad_;               /* unused */
    uint32_t days;              /* distinct days with traffic */
    uint64_t flows;             /* flow records */
    uint64_t pkts[2];           /* [0] client -> server, [1] server -> client */
    uint64_t bytes[2];          /* same, wire bytes */
    uint64_t first_ns, last_ns; /* first and last seen, ns since the epoch */
} model_edge;

typedef struct model model;

/* An empty model, or NULL on allocation failure. */
model *model_create(void);
/* NULL is fine. */
void model_free(model *m);

/*
 * The index of the host with this address, added if new (internal is
 * then set from the address ranges).  addr has 16 bytes (IPv4 in the
 * first 4).  MODEL_NONE on allocation failure.
 */
uint32_t model_host_add(model *m, const uint8_t *addr, int ipv);
/* The index of a host, or MODEL_NONE. */
uint32_t model_host_find(const model *m, const uint8_t *addr, int ipv);
/* Mark a host internal or not (overrides the address ranges). */
void model_host_set_internal(model *m, uint32_t h, int internal);
/* Add a name (src: "dns", "dhcp", "sni"...) or a label (key=value). 0, or -1 on OOM. */
int model_host_name(model *m, uint32_t h, const char *src, const char *name);
int model_host_label(model *m, uint32_t h, const char *key, const char *value);
/* Add an edge; edges with the same (client, server, proto, port, app) are merged by model_finish. 0 or -1. */
int model_edge_add(model *m, const model_edge *e);
/* Intern a string: its id, or MODEL_NONE on OOM. */
uint32_t model_intern(model *m, const char *s);
/* The id of a string already interned, or MODEL_NONE. */
uint32_t model_str_find(const model *m, const char *s);
/* The string of an id ("" for 0 or an unknown id). */
const char *model_str(const model *m, uint32_t id);

/* Merge duplicate edges, sort attributes, build adjacency, set alive. 0 or -1 (OOM). */
int model_finish(model *m);

uint32_t model_n_hosts(const model *m);
uint32_t model_n_edges(const model *m);
const model_host *model_host_get(const model *m, uint32_t h);
const model_edge *model_edge_get(const model *m, uint32_t e);
/* Edge indices where h is the client (resp. server); *n gets the count. After model_finish. */
const uint32_t *model_out(const model *m, uint32_t h, uint32_t *n);
const uint32_t *model_in(const model *m, uint32_t h, uint32_t *n);
/* The names and labels of h (sorted by kind, key, value); *n gets the count. After model_finish. */
const model_attr *model_host_attrs(const model *m, uint32_t h, uint32_t *n);
/* The value of label `key` of h, or NULL. */
const char *model_host_label_get(const model *m, uint32_t h, const char *key);

/* 1 if the address is in RFC 1918, ULA (fc00::/7), loopback or link-local space. */
int model_addr_private(const uint8_t *addr, int ipv);
/* 1 if the address is unspecified (0.0.0.0/8, ::), broadcast or multicast: never a workload. */
int model_addr_special(const uint8_t *addr, int ipv);
/* Address as text (RFC 5952 for IPv6) into buf; returns buf. */
const char *model_addr_str(const uint8_t *addr, int ipv, char *buf, size_t len);
/* Parse an address: 0 with addr (16 bytes) and *ipv set, -1 if not an address. */
int model_addr_parse(const char *s, uint8_t *addr, int *ipv);
/* Bytes of memory held, for benchmarks. */
size_t model_mem(const model *m);

/* Load every node and edge of the graph database in dir (read-only). NULL with a
   one-line reason in err on failure. Defined in recommender/load_db.c. */
model *model_load_db(const char *dir, char *err, size_t errlen);

struct labels;
/* Apply a labels file (analyzer/labels.h) to every host of m, matched by
   address and by the names the host has; then model_finish(m).  0, or -1
   when memory ran out. */
int model_apply_labels(model *m, const struct labels *lab);

#endif
