/*
 * communityid.c - Community ID v1 (see communityid.h).  SHA-1 comes from
 * nDPI through dpi_sha1(), so no second crypto library is linked.
 */
#include <string.h>

#include "analyzer/communityid.h"
#include "analyzer/dpi.h"

int
communityid_icmp_counterpart(int v6, uint8_t type, uint16_t *other)
{
    static const uint8_t v4[][2] = {
        {8, 0}, {0, 8},         /* echo request / reply */
        {13, 14}, {14, 13},     /* timestamp */
        {15, 16}, {16, 15},     /* information */
        {10, 9},                /* router solicitation -> advertisement (one way only) */
        {17, 18}, {18, 17},     /* address mask */
    };
    static const uint8_t v6t[][2] = {
        {128, 129}, {129, 128}, /* echo */
        {133, 134}, {134, 133}, /* router solicitation / advertisement */
        {135, 136}, {136, 135}, /* neighbor solicitation / advertisement */
        {130, 131}, {131, 130}, /* multicast listener query / report */
        {139, 140}, {140, 139}, /* node information query / response */
        {144, 145}, {145, 144}, /* home agent address discovery */
    };
    const uint8_t (*tab)[2] = v6 ? v6t : v4;
    size_t n = v6 ? sizeof(v6t) / sizeof(v6t[0]) : sizeof(v4) / sizeof(v4[0]);
    for (size_t i = 0; i < n; i++)
        if (tab[i][0] == type) {
            *other = tab[i][1];
            return 1;
        }
    return 0;
}

static void
base64(const uint8_t *in, size_t len, char *out)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len) v |= in[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

char *
communityid_v1(uint16_t seed, int ip_version, const uint8_t *src, const uint8_t *dst,
               uint8_t proto, uint16_t sport, uint16_t dport, char *out)
{
    size_t alen = ip_version == 6 ? 16 : 4;
    int ports = proto == 6 || proto == 17 || proto == 132 || proto == 1 || proto == 58;
    int one_way = 0;

    if (proto == 1 || proto == 58) {
        uint16_t other;
        if (communityid_icmp_counterpart(proto == 58, (uint8_t)sport, &other))
            dport = other;
        else
            one_way = 1;
    }
    /* Order the endpoints: the smaller (address, port) first. */
    int c = memcmp(src, dst, alen);
    if (!one_way && (c > 0 || (c == 0 && sport > dport))) {
        const uint8_t *ta = src; src = dst; dst = ta;
        uint16_t tp = sport; sport = dport; dport = tp;
    }

    uint8_t buf[2 + 16 + 16 + 2 + 4];
    size_t n = 0;
    buf[n++] = (uint8_t)(seed >> 8);
    buf[n++] = (uint8_t)seed;
    memcpy(buf + n, src, alen); n += alen;
    memcpy(buf + n, dst, alen); n += alen;
    buf[n++] = proto;
    buf[n++] = 0;
    if (ports) {
        buf[n++] = (uint8_t)(sport >> 8);
        buf[n++] = (uint8_t)sport;
        buf[n++] = (uint8_t)(dport >> 8);
        buf[n++] = (uint8_t)dport;
    }
    uint8_t digest[20];
    dpi_sha1(buf, n, digest);
    out[0] = '1';
    out[1] = ':';
    base64(digest, sizeof(digest), out + 2);
    return out;
}
