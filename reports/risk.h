/*
 * risk.h - risky flows, judged from what the workload graph stores.
 *
 * The graph keeps, per edge, the service (IP protocol, server port), the
 * application nDPI named, which ends are internal, the traffic counts
 * and the OR of nDPI's per-flow risk bitmaps (graph_edge.risk).  Risks
 * come from both:
 *   - nDPI's own flow risks: clear-text credentials, obsolete TLS/SSH,
 *     weak TLS ciphers, insecure SMB, known-bad JA3 or certificate
 *     fingerprints (with --ndpi-dir), bad certificates, DGA and block
 *     listed domains, web attacks in URLs, exploits, executables
 *     downloaded, suspicious HTTP/DNS, TLS anomalies;
 *   - the application name, the port and the direction: clear-text logins
 *     (Telnet, FTP, rsh), obsolete protocols (SMBv1), unauthenticated
 *     protocols (TFTP, SNMP v1/v2c, industrial protocols), clear-text HTTP,
 *     administration reachable from the Internet, anonymisers and remote
 *     access tools, known protocols on unusual ports, unidentified
 *     protocols.
 * Each risk has a fixed id, a severity and an explanation; one risk may
 * be raised by nDPI bits and by names (SMBv1, unusual ports).
 *
 * nDPI's bits are not numbered here: only analyzer/dpi.c includes nDPI.
 * The catalogue names the nDPI risks it uses as nDPI names them
 * (ndpi_risk2str(), as dpi_risk_names() prints them), and the bits are
 * found by those names once, at the first use.
 */
#ifndef SEGSCOPE_RISK_H
#define SEGSCOPE_RISK_H

#include <stdint.h>

/* Severity, higher is worse. */
enum risk_sev { RISK_LOW = 1, RISK_MEDIUM = 2, RISK_HIGH = 3 };

/* One kind of risk. */
typedef struct risk_def {
    const char *id;             /* stable machine name ("telnet") */
    int sev;                    /* enum risk_sev */
    const char *title;          /* a few words for people */
    const char *why;            /* why it matters, one sentence */
} risk_def;

/* What the classifier looks at: one edge of the graph. */
typedef struct risk_edge {
    uint8_t proto;              /* IP protocol */
    uint16_t port;              /* server port (ICMP: type) */
    const char *app;            /* nDPI application name ("" or "Unknown" if none) */
    int client_internal;        /* 1 if the client is in the internal address space */
    int server_internal;        /* same for the server */
    uint64_t bytes_s2c;         /* bytes the server sent (0: it never answered) */
    uint64_t ndpi_risk;         /* nDPI risk bitmap of its flows (graph_edge.risk), 0 if none */
} risk_edge;

#define RISK_MAX_PER_EDGE 8     /* risks one edge reports at most (the worst ones) */

/* The risks of an edge: their indices into the catalogue, worst first. Returns the count. */
int risk_classify(const risk_edge *e, int out[RISK_MAX_PER_EDGE]);
/* The catalogue. */
int risk_count(void);
const risk_def *risk_get(int i);
/* "high", "medium", "low". */
const char *risk_sev_name(int sev);
/* What cannot be judged from the graph (one sentence for the report). */
const char *risk_not_assessed(void);

/*
 * The nDPI risks the catalogue uses: entry k (0 <= k < risk_ndpi_count())
 * is nDPI's risk named *name, raising catalogue risk *risk; its bit
 * number in nDPI's bitmap, or -1 if the nDPI linked has no risk of that
 * name.  Returns the bit.  (For the tests and for people: classify uses
 * the same table.)
 */
int risk_ndpi_count(void);
int risk_ndpi_entry(int k, const char **name, int *risk);

#endif
