/*
 * netclass.h - which addresses are internal (our own address space).
 *
 * An address is internal when it falls in one of the built-in special
 * ranges below or in a range the user added (--internal CIDR).  Everything
 * else is external: only external addresses are looked up in GeoIP.
 *
 *   class        IPv4                          IPv6
 *   private      10/8, 172.16/12, 192.168/16   fc00::/7 (ULA, RFC 4193)
 *                (RFC 1918)
 *   cgnat        100.64/10 (RFC 6598)          -
 *   link-local   169.254/16                    fe80::/10
 *   loopback     127/8                         ::1/128
 *   multicast    224/4                         ff00::/8
 *   unspecified  0/8 ("this network")          ::/128
 *   broadcast    255.255.255.255/32            -
 *   user         --internal additions          --internal additions
 *
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are classified by the IPv4
 * address they carry.  The CIDR parser here is shared with labels.c.
 */
#ifndef SEGSCOPE_NETCLASS_H
#define SEGSCOPE_NETCLASS_H

#include <stddef.h>
#include <stdint.h>

/* The class of an address; NETCLASS_EXTERNAL is the only external one. */
typedef enum netclass_kind {
    NETCLASS_EXTERNAL = 0,      /* public address space */
    NETCLASS_PRIVATE,           /* RFC 1918, ULA */
    NETCLASS_CGNAT,             /* RFC 6598 shared address space */
    NETCLASS_LINK_LOCAL,        /* 169.254/16, fe80::/10 */
    NETCLASS_LOOPBACK,          /* 127/8, ::1 */
    NETCLASS_MULTICAST,         /* 224/4, ff00::/8 */
    NETCLASS_UNSPECIFIED,       /* 0/8, :: */
    NETCLASS_BROADCAST,         /* 255.255.255.255 */
    NETCLASS_USER,              /* a --internal CIDR */
    NETCLASS_COUNT
} netclass_kind;

/* One network: an address and a prefix length. */
typedef struct netclass_cidr {
    uint8_t addr[16];           /* network address, host bits zero; IPv4 in the first 4 bytes */
    uint8_t ver;                /* 4 or 6 */
    uint8_t plen;               /* prefix length, 0..32 or 0..128 */
} netclass_cidr;

typedef struct netclass netclass;

/* A classifier with the built-in ranges only.  NULL on allocation failure. */
netclass *netclass_create(void);
/* NULL is fine. */
void netclass_free(netclass *nc);

/*
 * Add a user range ("10.20.0.0/16", "2001:db8::/32", or a single address).
 * Returns 0, or -1 with a one-line reason in err (the table is unchanged).
 */
int netclass_add(netclass *nc, const char *cidr, char *err, size_t errlen);

/* The class of addr (4 or 16 bytes per ver); built-in ranges take precedence. */
netclass_kind netclass_classify(const netclass *nc, const uint8_t *addr, int ver);
/* 1 if addr is internal (any class but NETCLASS_EXTERNAL), else 0. */
int netclass_is_internal(const netclass *nc, const uint8_t *addr, int ver);
/* "external", "private", "cgnat", "link-local", ... */
const char *netclass_name(netclass_kind k);
/* User ranges added so far. */
size_t netclass_n_user(const netclass *nc);

/*
 * Parse "ADDR" or "ADDR/LEN" (IPv4 dotted quad or IPv6 text).  A bare
 * address is a /32 or /128.  Host bits set below the prefix are an error
 * (a typo guard: "10.1.2.3/24").  Returns 0, or -1 with a reason in err.
 */
int netclass_parse_cidr(const char *s, netclass_cidr *out, char *err, size_t errlen);
/* 1 if addr (of version ver) lies in c. */
int netclass_cidr_match(const netclass_cidr *c, const uint8_t *addr, int ver);

#endif
