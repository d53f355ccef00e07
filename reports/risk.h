/*
 * risk.h - risky flows, judged from what the workload graph stores.
 *
 * The graph keeps, per edge, the service (IP protocol, server port), the
 * application nDPI named, which ends are internal and the traffic
 * counts; it does not keep nDPI's per-flow risk bitmap, TLS/SSH versions
 * or JA3 hashes.  So the risks here are derived from the application
 * name, the port and the direction: clear-text logins (Telnet, FTP,
 * rsh), obsolete protocols (SMBv1), unauthenticated protocols (TFTP,
 * SNMP v1/v2c, industrial protocols), clear-text HTTP, remote
 * administration reachable from the Internet, anonymisers and remote
 * access tools, known protocols on unusual ports and unidentified
 * protocols.  Each risk has a fixed id, a severity and an explanation.
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
} risk_edge;

#define RISK_MAX_PER_EDGE 4     /* risks one edge can have at most */

/* The risks of an edge: their indices into the catalogue, worst first. Returns the count. */
int risk_classify(const risk_edge *e, int out[RISK_MAX_PER_EDGE]);
/* The catalogue. */
int risk_count(void);
const risk_def *risk_get(int i);
/* "high", "medium", "low". */
const char *risk_sev_name(int sev);
/* What cannot be judged from the graph (one sentence for the report). */
const char *risk_not_assessed(void);

#endif
