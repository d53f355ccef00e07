/*
 * zeekconn.h - flow records as a Zeek conn.log (ASCII/TSV writer format).
 *
 * The header (#separator \x09, #set_separator, #empty_field, #unset_field,
 * #path conn, #open, #fields, #types) is written at creation and #close at
 * the end, so zeek-cut and Zeek's own readers take the file.  Records come
 * in the order flows end, as in Zeek.
 *
 * What is derived, and how close it is to Zeek:
 *   uid          "C" + 17 base62 characters from a hash of the flow (stable
 *                for the same input, not Zeek's random uids).
 *   proto        tcp, udp, icmp (also ICMPv6), else unknown_transport.
 *   id.*_p       ports; for ICMP the type of the first packet and its
 *                counterpart type (echo request 8 -> 0) or, for one-way
 *                types, its code, as Zeek does.
 *   service      given by the caller (zeekconn_service() maps nDPI names).
 *   duration, orig_bytes, resp_bytes   unset ("-") when the flow lasted 0 s,
 *                as Zeek does.  Bytes are L4 payload bytes as captured
 *                (Zeek counts TCP bytes from sequence numbers, so
 *                retransmissions and missed segments differ).
 *   conn_state, history   from the TCP flags seen in each direction (see
 *                zeekconn_state/zeekconn_history): segscope keeps the
 *                union of flags per direction, not their order, so
 *                history letters come in the canonical order S h A D a d
 *                F f R r, and retransmission/gap letters never appear.
 *   local_orig, local_resp, tunnel_parents   unset; missed_bytes 0.
 *   orig/resp_ip_bytes   IP bytes as captured (Zeek: IP total length).
 */
#ifndef SEGSCOPE_ZEEKCONN_H
#define SEGSCOPE_ZEEKCONN_H

#include <stdint.h>
#include <stdio.h>

#include "capture/flowtab.h"

/* Per-flow facts the flow record does not hold. */
typedef struct zeekconn_aux {
    const char *service;        /* Zeek service name, NULL or "" = unset */
    int has_icmp;               /* icmp_type/icmp_code below are known */
    uint8_t icmp_type, icmp_code; /* of the flow's first ICMP packet (client's) */
} zeekconn_aux;

typedef struct zeekconn zeekconn;

/* Write the header to out; NULL on OOM. */
zeekconn *zeekconn_create(FILE *out);
/* One conn.log line for flow f. aux may be NULL. */
void zeekconn_write(zeekconn *w, const flow *f, const zeekconn_aux *aux);
/* Write the #close line and free. NULL is fine. */
void zeekconn_free(zeekconn *w);

/* Zeek's conn_state (S0, S1, SF, REJ, S2, S3, RSTO, RSTR, RSTOS0, RSTRH, SH, SHR, OTH). */
const char *zeekconn_state(const flow *f);
/* Zeek's history letters into buf (at least 16 bytes); returns buf. */
const char *zeekconn_history(const flow *f, char *buf, size_t len);
/*
 * Zeek's service name for an nDPI protocol name ("TLS" -> "ssl",
 * "Kerberos" over TCP -> "krb_tcp", others lowercased); NULL for
 * "Unknown" or NULL.  buf holds the result when it is computed.
 */
const char *zeekconn_service(const char *ndpi_name, int ip_proto, char *buf, size_t len);

#endif
