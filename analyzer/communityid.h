/*
 * communityid.h - Community ID v1 flow hashes
 * (https://github.com/corelight/community-id-spec).
 *
 *   sha1(seed:2 BE . saddr . daddr . proto:1 . 0:1 . sport:2 BE . dport:2 BE)
 *
 * with the endpoints ordered so that the smaller (address, port) comes
 * first, base64-encoded and prefixed "1:".  Ports are used for TCP, UDP
 * and SCTP; ICMP and ICMPv6 map (type, code) to ports the way Zeek does
 * (a request/reply type pairs with its counterpart; any other type is
 * one-way: (type, code), never reordered); other protocols hash no ports.
 */
#ifndef SEGSCOPE_COMMUNITYID_H
#define SEGSCOPE_COMMUNITYID_H

#include <stddef.h>
#include <stdint.h>

/* Room for "1:" + 28 base64 characters + NUL. */
#define COMMUNITYID_LEN 31

/*
 * The Community ID of a flow seen from src to dst (addresses of 4 bytes
 * for ip_version 4, else 16).  For proto 1/58, sport and dport are the
 * ICMP type and code of a packet sent by src.  Writes it to out (at least
 * COMMUNITYID_LEN bytes) and returns out.
 */
char *communityid_v1(uint16_t seed, int ip_version, const uint8_t *src, const uint8_t *dst,
                     uint8_t proto, uint16_t sport, uint16_t dport, char *out);

/*
 * Zeek's ICMP "counterpart" types (ICMP4_counterpart / ICMP6_counterpart):
 * 1 with *other set for a type that has one (echo request -> reply...),
 * 0 for a one-way type.  v6: ICMPv6 numbering.
 */
int communityid_icmp_counterpart(int v6, uint8_t type, uint16_t *other);

#endif
