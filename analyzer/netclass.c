/*
 * netclass.c - internal address space (see netclass.h).
 *
 * The built-in ranges are a short fixed table checked first; user ranges
 * are a bounded array searched linearly (a site lists a few dozen).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/netclass.h"

#define NETCLASS_MAX_USER 65536     /* --internal ranges accepted */

/* A built-in range and its class. */
typedef struct builtin_range {
    netclass_cidr net;              /* the range */
    netclass_kind kind;             /* its class */
} builtin_range;

static const builtin_range builtin[] = {
    { { { 10 }, 4, 8 }, NETCLASS_PRIVATE },
    { { { 172, 16 }, 4, 12 }, NETCLASS_PRIVATE },
    { { { 192, 168 }, 4, 16 }, NETCLASS_PRIVATE },
    { { { 100, 64 }, 4, 10 }, NETCLASS_CGNAT },
    { { { 169, 254 }, 4, 16 }, NETCLASS_LINK_LOCAL },
    { { { 127 }, 4, 8 }, NETCLASS_LOOPBACK },
    { { { 224 }, 4, 4 }, NETCLASS_MULTICAST },
    { { { 0 }, 4, 8 }, NETCLASS_UNSPECIFIED },
    { { { 255, 255, 255, 255 }, 4, 32 }, NETCLASS_BROADCAST },
    { { { 0xfc }, 6, 7 }, NETCLASS_PRIVATE },
    { { { 0xfe, 0x80 }, 6, 10 }, NETCLASS_LINK_LOCAL },
    { { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 6, 128 }, NETCLASS_LOOPBACK },
    { { { 0xff }, 6, 8 }, NETCLASS_MULTICAST },
    { { { 0 }, 6, 128 }, NETCLASS_UNSPECIFIED },
};
#define N_BUILTIN (sizeof(builtin) / sizeof(builtin[0]))

static const char *const kind_names[NETCLASS_COUNT] = {
    "external", "private", "cgnat", "link-local", "loopback",
    "multicast", "unspecified", "broadcast", "user",
};

/* The classifier: built-in table plus the user's ranges. */
struct netclass {
    netclass_cidr *user;            /* --internal ranges, in the order added */
    size_t n_user;                  /* entries used */
    size_t cap_user;                /* entries allocated */
};

netclass *
netclass_create(void)
{
    return calloc(1, sizeof(netclass));
}

void
netclass_free(netclass *nc)
{
    if (!nc)
        return;
    free(nc->user);
    free(nc);
}

const char *
netclass_name(netclass_kind k)
{
    return (unsigned)k < NETCLASS_COUNT ? kind_names[k] : "?";
}

size_t
netclass_n_user(const netclass *nc)
{
    return nc ? nc->n_user : 0;
}

int
netclass_cidr_match(const netclass_cidr *c, const uint8_t *addr, int ver)
{
    if (c->ver != ver)
        return 0;
    unsigned full = c->plen / 8, rest = c->plen % 8;
    if (memcmp(c->addr, addr, full) != 0)
        return 0;
    if (rest) {
        uint8_t mask = (uint8_t)(0xff << (8 - rest));
        if ((addr[full] & mask) != c->addr[full])
            return 0;
    }
    return 1;
}

int
netclass_parse_cidr(const char *s, netclass_cidr *out, char *err, size_t errlen)
{
    char buf[INET6_ADDRSTRLEN + 8];
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    unsigned long plen = 0;

    memset(out, 0, sizeof(*out));
    if (alen == 0 || alen >= sizeof(buf))
        goto bad;
    memcpy(buf, s, alen);
    buf[alen] = '\0';
    if (inet_pton(AF_INET, buf, out->addr) == 1)
        out->ver = 4;
    else if (inet_pton(AF_INET6, buf, out->addr) == 1)
        out->ver = 6;
    else
        goto bad;
    unsigned maxlen = out->ver == 4 ? 32 : 128;
    if (slash) {
        const char *p = slash + 1;
        if (*p < '0' || *p > '9' || strlen(p) > 3)
            goto bad;
        for (; *p; p++) {
            if (*p < '0' || *p > '9')
                goto bad;
            plen = plen * 10 + (unsigned long)(*p - '0');
        }
        if (plen > maxlen)
            goto bad;
    } else {
        plen = maxlen;
    }
    out->plen = (uint8_t)plen;
    /* Host bits must be zero. */
    for (unsigned bit = (unsigned)plen; bit < maxlen; bit++)
        if (out->addr[bit / 8] & (0x80 >> (bit % 8))) {
            snprintf(err, errlen, "bad CIDR '%s' (host bits set below /%lu)", s, plen);
            return -1;
        }
    return 0;
bad:
    snprintf(err, errlen, "bad CIDR '%s'", s);
    return -1;
}

int
netclass_add(netclass *nc, const char *cidr, char *err, size_t errlen)
{
    netclass_cidr c;
    if (netclass_parse_cidr(cidr, &c, err, errlen) < 0)
        return -1;
    if (nc->n_user == nc->cap_user) {
        if (nc->cap_user >= NETCLASS_MAX_USER) {
            snprintf(err, errlen, "too many internal ranges (at most %d)", NETCLASS_MAX_USER);
            return -1;
        }
        size_t cap = nc->cap_user ? nc->cap_user * 2 : 8;
        netclass_cidr *u = realloc(nc->user, cap * sizeof(*u));
        if (!u) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        nc->user = u;
        nc->cap_user = cap;
    }
    nc->user[nc->n_user++] = c;
    return 0;
}

netclass_kind
netclass_classify(const netclass *nc, const uint8_t *addr, int ver)
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (ver == 6 && memcmp(addr, mapped, 12) == 0) {
        addr += 12;
        ver = 4;
    }
    if (ver != 4 && ver != 6)
        return NETCLASS_EXTERNAL;
    for (size_t i = 0; i < N_BUILTIN; i++)
        if (netclass_cidr_match(&builtin[i].net, addr, ver))
            return builtin[i].kind;
    if (nc)
        for (size_t i = 0; i < nc->n_user; i++)
            if (netclass_cidr_match(&nc->user[i], addr, ver))
                return NETCLASS_USER;
    return NETCLASS_EXTERNAL;
}

int
netclass_is_internal(const netclass *nc, const uint8_t *addr, int ver)
{
    return netclass_classify(nc, addr, ver) != NETCLASS_EXTERNAL;
}
