/*
 * check_ident.c - the identity table and its parsers, on hand-built messages.
 *
 * Each parser is fed a valid message, then every prefix of it and bit-flipped
 * copies (each in an exact-size heap buffer, so ASan/valgrind catch any
 * read past the end), then messages that break one rule each.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/ident.h"
#include "tests/suites.h"

/* ---- helpers ---------------------------------------------------------------- */

/* A pkt_meta for a UDP (17) or TCP (6) packet with the given payload. */
static pkt_meta
mk(int proto, const char *src, const char *dst, uint16_t sp, uint16_t dp, const void *pl, size_t n)
{
    pkt_meta m;
    memset(&m, 0, sizeof(m));
    m.proto = (uint8_t)proto;
    m.ip_version = strchr(src, ':') ? 6 : 4;
    ck_assert_int_eq(inet_pton(m.ip_version == 4 ? AF_INET : AF_INET6, src, m.src), 1);
    ck_assert_int_eq(inet_pton(m.ip_version == 4 ? AF_INET : AF_INET6, dst, m.dst), 1);
    m.sport = sp;
    m.dport = dp;
    m.has_ports = 1;
    m.payload = pl;
    m.payload_len = n;
    return m;
}

static void
feed(ident *id, int proto, const char *src, const char *dst, uint16_t sp, uint16_t dp,
     const void *pl, size_t n)
{
    /* exact-size copy: an overread is a heap overflow */
    uint8_t *copy = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, pl, n);
    pkt_meta m = mk(proto, src, dst, sp, dp, copy, n);
    ident_packet(id, NULL, 1, &m, 1000000000ULL);
    free(copy);
}

/* 1 if addr has a record (kind, value). */
static int
has(const ident *id, const char *addr, ident_kind kind, const char *value)
{
    uint8_t a[16] = { 0 };
    int ver = strchr(addr, ':') ? 6 : 4;
    ck_assert_int_eq(inet_pton(ver == 4 ? AF_INET : AF_INET6, addr, a), 1);
    const ident_addr *e = ident_lookup(id, a, ver);
    if (!e)
        return 0;
    for (uint32_t i = 0; i < e->n_rec; i++)
        if (e->rec[i].kind == kind && strcmp(e->rec[i].value, value) == 0)
            return 1;
    return 0;
}

static uint32_t
n_recs(const ident *id, const char *addr)
{
    uint8_t a[16] = { 0 };
    int ver = strchr(addr, ':') ? 6 : 4;
    ck_assert_int_eq(inet_pton(ver == 4 ? AF_INET : AF_INET6, addr, a), 1);
    const ident_addr *e = ident_lookup(id, a, ver);
    return e ? e->n_rec : 0;
}

/* Every prefix and single-byte corruption of msg: no crash, no overread. */
static void
torture(int proto, const char *src, const char *dst, uint16_t sp, uint16_t dp,
        const uint8_t *msg, size_t n)
{
    ident *id = ident_create(NULL);
    ck_assert_ptr_nonnull(id);
    for (size_t k = 0; k <= n; k++)
        feed(id, proto, src, dst, sp, dp, msg, k);
    uint8_t *c = malloc(n);
    ck_assert_ptr_nonnull(c);
    static const uint8_t vals[] = { 0x00, 0xff, 0xc0, 0x3f, 0x80, 0x7f };
    for (size_t i = 0; i < n; i++)
        for (size_t v = 0; v < sizeof(vals); v++) {
            memcpy(c, msg, n);
            c[i] = vals[v];
            feed(id, proto, src, dst, sp, dp, c, n);
        }
    free(c);
    ident_free(id);
}

/* ---- DNS builders -------------------------------------------------------------- */

/* A message being built. */
typedef struct buf {
    uint8_t b[2048];            /* bytes */
    size_t n;                   /* used */
} buf;

static void
put(buf *b, const void *p, size_t n)
{
    ck_assert_uint_le(b->n + n, sizeof(b->b));
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

static void
put16(buf *b, unsigned v)
{
    uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };
    put(b, x, 2);
}

static void
put32(buf *b, uint32_t v)
{
    uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    put(b, x, 4);
}

static void
put8(buf *b, unsigned v)
{
    uint8_t x = (uint8_t)v;
    put(b, &x, 1);
}

/* "www.example.com" -> labels */
static void
put_name(buf *b, const char *name)
{
    while (*name) {
        const char *dot = strchr(name, '.');
        size_t n = dot ? (size_t)(dot - name) : strlen(name);
        put8(b, (unsigned)n);
        put(b, name, n);
        name += n + (dot ? 1 : 0);
    }
    put8(b, 0);
}

static void
dns_hdr(buf *b, unsigned flags, unsigned qd, unsigned an, unsigned ns, unsigned ar)
{
    b->n = 0;
    put16(b, 0x4242);
    put16(b, flags);
    put16(b, qd);
    put16(b, an);
    put16(b, ns);
    put16(b, ar);
}

static void
rr_head(buf *b, unsigned type, unsigned cls, unsigned rdlen)
{
    put16(b, type);
    put16(b, cls);
    put32(b, 300);
    put16(b, rdlen);
}

/* A response: www.example.com CNAME edge.cdn.example CNAME e1.cdn.example, A x2, AAAA. */
static void
dns_chain(buf *b)
{
    dns_hdr(b, 0x8180, 1, 5, 0, 0);
    put_name(b, "www.example.com");             /* at offset 12 */
    put16(b, 1);
    put16(b, 1);
    put16(b, 0xc00c);                           /* www.example.com CNAME edge.cdn.example */
    rr_head(b, 5, 1, 18);
    size_t edge = b->n;
    put_name(b, "edge.cdn.example");
    put16(b, (unsigned)(0xc000 | edge));        /* edge.cdn.example CNAME e1.cdn.example */
    rr_head(b, 5, 1, 5);
    size_t e1 = b->n;
    put8(b, 2);
    put(b, "e1", 2);
    put16(b, (unsigned)(0xc000 | (edge + 5)));  /* "cdn.example" inside edge's name */
    put16(b, (unsigned)(0xc000 | e1));          /* e1 A 203.0.113.1 */
    rr_head(b, 1, 1, 4);
    put(b, "\xcb\x00\x71\x01", 4);
    put16(b, (unsigned)(0xc000 | e1));          /* e1 A 203.0.113.2 */
    rr_head(b, 1, 1, 4);
    put(b, "\xcb\x00\x71\x02", 4);
    put16(b, (unsigned)(0xc000 | e1));          /* e1 AAAA 2001:db8::1 */
    rr_head(b, 28, 1, 16);
    put(b, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
}

START_TEST(dns_cname_chain)
{
    buf b;
    dns_chain(&b);
    ident *id = ident_create(NULL);
    feed(id, 17, "192.0.2.53", "10.0.0.5", 53, 33333, b.b, b.n);
    const char *addrs[] = { "203.0.113.1", "203.0.113.2", "2001:db8::1" };
    for (int i = 0; i < 3; i++) {
        ck_assert_msg(has(id, addrs[i], IDENT_DNS, "www.example.com"), "%s: query name", addrs[i]);
        ck_assert(has(id, addrs[i], IDENT_DNS, "edge.cdn.example"));
        ck_assert(has(id, addrs[i], IDENT_DNS, "e1.cdn.example"));
        ck_assert_uint_eq(n_recs(id, addrs[i]), 3);
    }
    /* the DNS server and client learn nothing from this */
    ck_assert_uint_eq(n_recs(id, "192.0.2.53"), 0);
    ck_assert_uint_eq(ident_get_stats(id)->parsed[IDENT_P_DNS], 1);
    ck_assert_uint_eq(ident_get_stats(id)->malformed[IDENT_P_DNS], 0);
    /* the same again: counted, not duplicated */
    feed(id, 17, "192.0.2.53", "10.0.0.5", 53, 33333, b.b, b.n);
    uint8_t a[4] = { 203, 0, 113, 1 };
    const ident_addr *e = ident_lookup(id, a, 4);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->n_rec, 3);
    ck_assert_uint_eq(e->rec[0].count, 2);
    /* a query (QR=0) on port 53 teaches nothing and is not counted */
    b.b[2] &= 0x7f;
    feed(id, 17, "10.0.0.5", "192.0.2.53", 33333, 53, b.b, b.n);
    ck_assert_uint_eq(ident_get_stats(id)->parsed[IDENT_P_DNS], 2);
    ident_free(id);
    dns_chain(&b);
    torture(17, "192.0.2.53", "10.0.0.5", 53, 33333, b.b, b.n);
}
END_TEST

START_TEST(dns_tcp_and_reverse)
{
    buf m, t;
    /* PTR 10.2.0.192.in-addr.arpa -> host.example over TCP, two messages in one segment */
    dns_hdr(&m, 0x8580, 1, 1, 0, 0);
    put_name(&m, "10.2.0.192.in-addr.arpa");
    put16(&m, 12);
    put16(&m, 1);
    put16(&m, 0xc00c);
    rr_head(&m, 12, 1, 14);
    put_name(&m, "host.example");
    t.n = 0;
    put16(&t, (unsigned)m.n);
    put(&t, m.b, m.n);
    put16(&t, (unsigned)m.n);
    put(&t, m.b, m.n);
    ident *id = ident_create(NULL);
    feed(id, 6, "192.0.2.53", "10.0.0.5", 53, 40000, t.b, t.n);
    ck_assert(has(id, "192.0.2.10", IDENT_DNS, "host.example"));
    ck_assert_uint_eq(ident_get_stats(id)->parsed[IDENT_P_DNS], 2);
    /* a message cut by the segment end: partial, not malformed */
    feed(id, 6, "192.0.2.53", "10.0.0.5", 53, 40000, t.b, 2 + m.n - 3);
    ck_assert_uint_eq(ident_get_stats(id)->partial[IDENT_P_DNS], 1);
    ck_assert_uint_eq(ident_get_stats(id)->malformed[IDENT_P_DNS], 0);
    ident_free(id);
    torture(6, "192.0.2.53", "10.0.0.5", 53, 40000, t.b, t.n);
}
END_TEST

/* Messages that break one naming rule each: all malformed, none stored. */
START_TEST(dns_bad_names)
{
    ident *id = ident_create(NULL);
    buf b;
    int n_bad = 0;

    /* 1. a pointer to itself */
    dns_hdr(&b, 0x8180, 1, 0, 0, 0);
    put16(&b, 0xc00c);
    put32(&b, 0x00010001);
    feed(id, 17, "192.0.2.53", "10.0.0.5", 53, 1000, b.b, b.n);
    n_bad++;
    /* 2. a forward pointer */
    dns_hdr(&b, 0x8180, 1, 1, 0, 0);
    put16(&b, 0xc012);
    put32(&b, 0x00010001);
    put_name(&b, "a.example");
    rr_head(&b, 1, 1, 4);
    put32(&b, 0x01020304);
    feed(id, 17, "192.0.2.53", "10.0.0.5", 53, 1000, b.b, b.n);
    n_bad++;
    /* 3. a backward loop through a label: "a" + pointer back to it */
    dns_hdr(&b, 0x8180, 1, 0, 0, 0);
    put8(&b, 1);
    put8(&b, 'a');
    put16(&b, 0xc00c);
    put32(&b, 0x00010001);
    feed(id, 17, "192.0.2.53", "10.0.0.5", 53, 1000, b.b, b.n);
    n_bad++;
    /* 4. a 64-byte label (length byte 0x40: reserved label type) */
    dns_hdr(&b, 0x8180, 1, 0, 0, 0);
    put8(&b, 64);
    for (int i = 0; i < 64; i++)
        put8(&b, 'x');
    put8(&b, 0);
    put32(&b, 0x00010001);
    feed(id, 17, "192.0.2.53", "10.0.0.5", 53, 1000, b.b, b.n);
    n_bad++;
    /* 5. a name longer than 255 bytes: 5 labels of 63 */
    dns_hdr(&b, 0x8180, 1, 0, 0, 0);
    for (int l = 0; l < 5; l++) {
        put8(&b, 63);
        for (int i = 0; i < 63; i++)
            put8(&b, 'y');
    }
    put8(&b, 0);
    put32(&b, 0x00010001);
    feed(id, 17, "192.0.2.53", "10.0.0.5", 53, 1000, b.b, b.n);
    n_bad++;
    /* 6. an A record with 5 bytes of data */
    dns_hdr(&b, 0x8180, 0, 1, 0, 0);
    put_name(&b, "five.example");
    rr_head(&b, 1, 1, 5);
    put(&b, "\x01\x02\x03\x04\x05", 5);
    feed(id, 17, "192.0.2.53", "10.0.0.5", 53, 1000, b.b, b.n);
    n_bad++;
    /* 7. rdlength past the end */
    dns_hdr(&b, 0x8180, 0, 1, 0, 0);
    put_name(&b, "long.example");
    rr_head(&b, 1, 1, 400);
    put32(&b, 0x01020304);
    feed(id, 17, "192.0.2.53", "10.0.0.5", 53, 1000, b.b, b.n);
    n_bad++;
    ck_assert_uint_eq(ident_get_stats(id)->malformed[IDENT_P_DNS], (uint64_t)n_bad);
    ck_assert_uint_eq(ident_get_stats(id)->records, 0);
    /* a 63-byte label and a 253-character name are fine */
    dns_hdr(&b, 0x8180, 0, 1, 0, 0);
    for (int l = 0; l < 3; l++) {
        put8(&b, 63);
        for (int i = 0; i < 63; i++)
            put8(&b, 'z');
    }
    put8(&b, 61);
    for (int i = 0; i < 61; i++)
        put8(&b, 'w');
    put8(&b, 0);
    rr_head(&b, 1, 1, 4);
    put32(&b, 0xcb007107);
    feed(id, 17, "192.0.2.53", "10.0.0.5", 53, 1000, b.b, b.n);
    uint8_t a[4] = { 203, 0, 113, 7 };
    const ident_addr *e = ident_lookup(id, a, 4);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->rec[0].len, 253);
    /* NXDOMAIN: parsed, nothing learnt */
    dns_chain(&b);
    b.b[3] = 0x83;
    feed(id, 17, "192.0.2.53", "10.0.0.5", 53, 1000, b.b, b.n);
    ck_assert_uint_eq(n_recs(id, "203.0.113.1"), 0);
    ident_free(id);
}
END_TEST

START_TEST(mdns_llmnr)
{
    buf b;
    ident *id = ident_create(NULL);
    /* mDNS: an unsolicited response, cache-flush class, in the additional section */
    dns_hdr(&b, 0x8400, 0, 0, 0, 1);
    put_name(&b, "printer.local");
    rr_head(&b, 1, 0x8001, 4);
    put32(&b, 0xc0a80107);
    feed(id, 17, "192.168.1.7", "224.0.0.251", 5353, 5353, b.b, b.n);
    ck_assert(has(id, "192.168.1.7", IDENT_MDNS, "printer.local"));
    /* LLMNR response from 5355 */
    dns_hdr(&b, 0x8000, 1, 1, 0, 0);
    put_name(&b, "WORKSTATION7");
    put32(&b, 0x00010001);
    put16(&b, 0xc00c);
    rr_head(&b, 28, 1, 16);
    put(&b, "\xfe\x80\0\0\0\0\0\0\0\0\0\0\0\0\0\x07", 16);
    feed(id, 17, "fe80::7", "fe80::5", 5355, 50000, b.b, b.n);
    ck_assert(has(id, "fe80::7", IDENT_LLMNR, "WORKSTATION7"));
    /* an LLMNR query (to 5355) is not an answer */
    ck_assert_uint_eq(ident_get_stats(id)->parsed[IDENT_P_LLMNR], 1);
    ck_assert_uint_eq(ident_get_stats(id)->parsed[IDENT_P_MDNS], 1);
    ident_free(id);
}
END_TEST

/* ---- NetBIOS --------------------------------------------------------------------- */

static void
nb_name(buf *b, const char *name, uint8_t suffix)
{
    uint8_t raw[16];
    memset(raw, ' ', 15);
    memcpy(raw, name, strlen(name));
    raw[15] = suffix;
    put8(b, 32);
    for (int i = 0; i < 16; i++) {
        put8(b, 'A' + (raw[i] >> 4));
        put8(b, 'A' + (raw[i] & 15));
    }
    put8(b, 0);
}

START_TEST(netbios)
{
    buf b;
    ident *id = ident_create(NULL);
    /* registration of a unique workstation name */
    dns_hdr(&b, 0x2910, 1, 0, 0, 1);
    nb_name(&b, "FILESRV01", 0x00);
    put32(&b, 0x00200001);
    put16(&b, 0xc00c);
    rr_head(&b, 0x20, 1, 6);
    put16(&b, 0x0000);
    put32(&b, 0x0a000009);
    feed(id, 17, "10.0.0.9", "10.0.0.255", 137, 137, b.b, b.n);
    ck_assert(has(id, "10.0.0.9", IDENT_NETBIOS, "FILESRV01"));
    /* a group name (G bit) and a <1d> name teach nothing */
    dns_hdr(&b, 0x2910, 1, 0, 0, 1);
    nb_name(&b, "WORKGROUP", 0x00);
    put32(&b, 0x00200001);
    put16(&b, 0xc00c);
    rr_head(&b, 0x20, 1, 6);
    put16(&b, 0x8000);
    put32(&b, 0x0a00000a);
    feed(id, 17, "10.0.0.10", "10.0.0.255", 137, 137, b.b, b.n);
    dns_hdr(&b, 0x2910, 1, 0, 0, 1);
    nb_name(&b, "WORKGROUP", 0x1d);
    put32(&b, 0x00200001);
    put16(&b, 0xc00c);
    rr_head(&b, 0x20, 1, 6);
    put16(&b, 0x0000);
    put32(&b, 0x0a00000a);
    feed(id, 17, "10.0.0.10", "10.0.0.255", 137, 137, b.b, b.n);
    ck_assert_uint_eq(n_recs(id, "10.0.0.10"), 0);
    /* a positive name query response names the answered address */
    dns_hdr(&b, 0x8500, 0, 1, 0, 0);
    nb_name(&b, "DC01", 0x20);
    rr_head(&b, 0x20, 1, 12);
    put16(&b, 0x0000);
    put32(&b, 0x0a000002);
    put16(&b, 0x0000);
    put32(&b, 0x0a000102);
    feed(id, 17, "10.0.0.1", "10.0.0.5", 137, 137, b.b, b.n);
    ck_assert(has(id, "10.0.0.2", IDENT_NETBIOS, "DC01"));
    ck_assert(has(id, "10.0.1.2", IDENT_NETBIOS, "DC01"));
    /* a datagram's source name names its sender */
    b.n = 0;
    put8(&b, 0x11);
    put8(&b, 0x02);
    put16(&b, 1);
    put32(&b, 0x0a00000b);
    put16(&b, 138);
    put16(&b, 100);
    put16(&b, 0);
    nb_name(&b, "LAPTOP-11", 0x00);
    nb_name(&b, "WORKGROUP", 0x1e);
    feed(id, 17, "10.0.0.11", "10.0.0.255", 138, 138, b.b, b.n);
    ck_assert(has(id, "10.0.0.11", IDENT_NETBIOS, "LAPTOP-11"));
    torture(17, "10.0.0.11", "10.0.0.255", 138, 138, b.b, b.n);
    ident_free(id);
}
END_TEST

/* ---- DHCP ------------------------------------------------------------------------- */

static void
bootp(buf *b, int op, uint32_t xid, const char *ciaddr, const char *yiaddr, const char *giaddr,
      const uint8_t mac[6])
{
    uint8_t a[4];
    b->n = 0;
    put8(b, (unsigned)op);
    put8(b, 1);
    put8(b, 6);
    put8(b, 0);
    put32(b, xid);
    put16(b, 0);
    put16(b, 0);
    inet_pton(AF_INET, ciaddr, a);
    put(b, a, 4);
    inet_pton(AF_INET, yiaddr, a);
    put(b, a, 4);
    put32(b, 0);
    inet_pton(AF_INET, giaddr, a);
    put(b, a, 4);
    put(b, mac, 6);
    for (int i = 0; i < 10 + 192; i++)
        put8(b, 0);
    put32(b, 0x63825363);
}

static void
opt(buf *b, unsigned code, const void *v, size_t n)
{
    put8(b, code);
    put8(b, (unsigned)n);
    put(b, v, n);
}

START_TEST(dhcp)
{
    static const uint8_t mac[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
    buf b;
    ident *id = ident_create(NULL);
    /* REQUEST from 0.0.0.0 with hostname, FQDN (wire format), vendor, requested address */
    bootp(&b, 1, 0x1111, "0.0.0.0", "0.0.0.0", "0.0.0.0", mac);
    opt(&b, 53, "\x03", 1);
    opt(&b, 50, "\x0a\x00\x00\x32", 4);
    opt(&b, 12, "laptop-50", 9);
    opt(&b, 81, "\x04\x00\x00\x09laptop-50\x07" "example\x00", 21);
    opt(&b, 60, "MSFT 5.0", 8);
    put8(&b, 255);
    feed(id, 17, "0.0.0.0", "255.255.255.255", 68, 67, b.b, b.n);
    ck_assert_uint_eq(ident_get_stats(id)->records, 0);     /* not leased yet */
    buf req = b;
    /* ACK: the names go to yiaddr, with the MAC */
    bootp(&b, 2, 0x1111, "0.0.0.0", "10.0.0.50", "0.0.0.0", mac);
    opt(&b, 53, "\x05", 1);
    put8(&b, 255);
    feed(id, 17, "10.0.0.1", "10.0.0.50", 67, 68, b.b, b.n);
    ck_assert(has(id, "10.0.0.50", IDENT_DHCP_HOSTNAME, "laptop-50"));
    ck_assert(has(id, "10.0.0.50", IDENT_DHCP_FQDN, "laptop-50.example"));
    ck_assert(has(id, "10.0.0.50", IDENT_DHCP_VENDOR, "MSFT 5.0"));
    ck_assert(has(id, "10.0.0.50", IDENT_DHCP_MAC, "00:11:22:33:44:55"));
    /* a NAK leases nothing */
    bootp(&b, 1, 0x2222, "0.0.0.0", "0.0.0.0", "0.0.0.0", mac);
    opt(&b, 53, "\x03", 1);
    opt(&b, 50, "\x0a\x00\x00\x33", 4);
    opt(&b, 12, "nakked", 6);
    put8(&b, 255);
    feed(id, 17, "0.0.0.0", "255.255.255.255", 68, 67, b.b, b.n);
    bootp(&b, 2, 0x2222, "0.0.0.0", "0.0.0.0", "0.0.0.0", mac);
    opt(&b, 53, "\x06", 1);
    put8(&b, 255);
    feed(id, 17, "10.0.0.1", "255.255.255.255", 67, 68, b.b, b.n);
    ck_assert_uint_eq(n_recs(id, "10.0.0.51"), 0);
    /* a renewing client (ciaddr set) names itself at once */
    bootp(&b, 1, 0x3333, "10.0.0.60", "0.0.0.0", "0.0.0.0", mac);
    opt(&b, 53, "\x03", 1);
    opt(&b, 12, "renewer", 7);
    put8(&b, 255);
    feed(id, 17, "10.0.0.60", "10.0.0.1", 68, 67, b.b, b.n);
    ck_assert(has(id, "10.0.0.60", IDENT_DHCP_HOSTNAME, "renewer"));
    /* a relayed DISCOVER does not name the relay */
    bootp(&b, 1, 0x4444, "0.0.0.0", "0.0.0.0", "10.9.0.1", mac);
    opt(&b, 53, "\x01", 1);
    opt(&b, 12, "relayed", 7);
    put8(&b, 255);
    feed(id, 17, "10.9.0.1", "10.0.0.1", 67, 67, b.b, b.n);
    ck_assert_uint_eq(n_recs(id, "10.9.0.1"), 0);
    /* an option running past the end: malformed */
    bootp(&b, 1, 0x5555, "10.0.0.61", "0.0.0.0", "0.0.0.0", mac);
    opt(&b, 53, "\x03", 1);
    put8(&b, 12);
    put8(&b, 40);
    put(&b, "short", 5);
    feed(id, 17, "10.0.0.61", "10.0.0.1", 68, 67, b.b, b.n);
    ck_assert_uint_eq(ident_get_stats(id)->malformed[IDENT_P_DHCP], 1);
    ck_assert_uint_eq(n_recs(id, "10.0.0.61"), 0);
    ident_free(id);
    torture(17, "0.0.0.0", "255.255.255.255", 68, 67, req.b, req.n);
}
END_TEST

/* ---- Kerberos ---------------------------------------------------------------------- */

/* DER TLV with a short or 1-byte long length. */
static void
der(buf *b, unsigned tag, const buf *content)
{
    put8(b, tag);
    if (content->n < 0x80) {
        put8(b, (unsigned)content->n);
    } else {
        put8(b, 0x81);
        put8(b, (unsigned)content->n);
    }
    put(b, content->b, content->n);
}

static void
der_raw(buf *b, unsigned tag, const void *p, size_t n)
{
    buf c = { .n = 0 };
    put(&c, p, n);
    der(b, tag, &c);
}

/* An AS-REQ for user@realm: [APPLICATION 10] SEQUENCE { [1] pvno, [2] type, [4] req-body } */
static void
as_req(buf *out, const char *user, const char *user2, const char *realm)
{
    buf strs = { .n = 0 }, seq = { .n = 0 }, ctx1 = { .n = 0 }, pn = { .n = 0 }, tmp = { .n = 0 };
    buf body = { .n = 0 }, bseq = { .n = 0 }, kdc = { .n = 0 }, top = { .n = 0 }, tseq = { .n = 0 };
    der_raw(&strs, 0x1b, user, strlen(user));
    if (user2)
        der_raw(&strs, 0x1b, user2, strlen(user2));
    der(&seq, 0x30, &strs);
    der(&ctx1, 0xa1, &seq);
    der_raw(&tmp, 0x02, "\x01", 1);
    der(&pn, 0xa0, &tmp);
    put(&pn, ctx1.b, ctx1.n);
    buf pnseq = { .n = 0 };
    der(&pnseq, 0x30, &pn);
    /* req-body: [0] kdc-options, [1] cname, [2] realm */
    tmp.n = 0;
    der_raw(&tmp, 0x03, "\x00\x40\x00\x00\x10", 5);
    der(&body, 0xa0, &tmp);
    der(&body, 0xa1, &pnseq);
    tmp.n = 0;
    der_raw(&tmp, 0x1b, realm, strlen(realm));
    der(&body, 0xa2, &tmp);
    der(&bseq, 0x30, &body);
    tmp.n = 0;
    der_raw(&tmp, 0x02, "\x05", 1);
    der(&kdc, 0xa1, &tmp);
    tmp.n = 0;
    der_raw(&tmp, 0x02, "\x0a", 1);
    der(&kdc, 0xa2, &tmp);
    der(&kdc, 0xa4, &bseq);
    der(&tseq, 0x30, &kdc);
    der(&top, 0x6a, &tseq);
    *out = top;
}

START_TEST(kerberos)
{
    buf b, t;
    ident *id = ident_create(NULL);
    as_req(&b, "alice", NULL, "CORP.EXAMPLE");
    feed(id, 17, "10.0.0.5", "10.0.0.2", 50000, 88, b.b, b.n);
    ck_assert(has(id, "10.0.0.5", IDENT_KRB_USER, "alice@CORP.EXAMPLE"));
    ck_assert(has(id, "10.0.0.2", IDENT_KRB_REALM, "CORP.EXAMPLE"));
    /* a machine account over TCP, with the 4-byte length */
    as_req(&b, "WS42$", NULL, "CORP.EXAMPLE");
    t.n = 0;
    put32(&t, (uint32_t)b.n);
    put(&t, b.b, b.n);
    feed(id, 6, "10.0.0.6", "10.0.0.2", 50001, 88, t.b, t.n);
    ck_assert(has(id, "10.0.0.6", IDENT_KRB_USER, "WS42$@CORP.EXAMPLE"));
    /* a service principal: components joined with '/' */
    as_req(&b, "host", "ws42.corp.example", "CORP.EXAMPLE");
    feed(id, 17, "10.0.0.7", "10.0.0.2", 50002, 88, b.b, b.n);
    ck_assert(has(id, "10.0.0.7", IDENT_KRB_USER, "host/ws42.corp.example@CORP.EXAMPLE"));
    /* a segment cut inside the message: partial; a continuation segment: nothing */
    feed(id, 6, "10.0.0.6", "10.0.0.2", 50001, 88, t.b, t.n - 10);
    ck_assert_uint_eq(ident_get_stats(id)->partial[IDENT_P_KRB], 1);
    feed(id, 6, "10.0.0.6", "10.0.0.2", 50001, 88, t.b + 20, t.n - 20);
    ck_assert_uint_eq(ident_get_stats(id)->partial[IDENT_P_KRB], 1);
    ck_assert_uint_eq(ident_get_stats(id)->malformed[IDENT_P_KRB], 0);
    /* a cname that is not a SEQUENCE: malformed */
    as_req(&b, "bob", NULL, "CORP.EXAMPLE");
    for (size_t i = 0; i + 1 < b.n; i++)
        if (b.b[i] == 0xa1 && b.b[i + 2] == 0x30 && b.b[i + 4] == 0xa0) {
            b.b[i + 2] = 0x31;
            break;
        }
    feed(id, 17, "10.0.0.8", "10.0.0.2", 50003, 88, b.b, b.n);
    ck_assert_uint_eq(ident_get_stats(id)->malformed[IDENT_P_KRB], 1);
    ck_assert_uint_eq(n_recs(id, "10.0.0.8"), 0);
    ident_free(id);
    as_req(&b, "alice", NULL, "CORP.EXAMPLE");
    torture(17, "10.0.0.5", "10.0.0.2", 50000, 88, b.b, b.n);
    torture(6, "10.0.0.6", "10.0.0.2", 50001, 88, t.b, t.n);
}
END_TEST

/* ---- SSH, HTTP, TLS ------------------------------------------------------------------------ */

START_TEST(ssh)
{
    ident *id = ident_create(NULL);
    static const char c[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
    static const char s[] = "Welcome\r\nto the box\r\nSSH-2.0-dropbear_2022.83\r\n";
    feed(id, 6, "10.0.0.5", "10.0.0.3", 50000, 2200, c, strlen(c));
    feed(id, 6, "10.0.0.3", "10.0.0.5", 22, 50001, s, strlen(s));
    ck_assert(has(id, "10.0.0.5", IDENT_SSH_BANNER, "SSH-2.0-OpenSSH_9.2p1 Debian-2"));
    ck_assert(has(id, "10.0.0.3", IDENT_SSH_BANNER, "SSH-2.0-dropbear_2022.83"));
    /* "SSH-x" without a version digit is not a banner */
    feed(id, 6, "10.0.0.9", "10.0.0.3", 50002, 2200, "SSH-hello\r\n", 11);
    ck_assert_uint_eq(n_recs(id, "10.0.0.9"), 0);
    ident_free(id);
    torture(6, "10.0.0.3", "10.0.0.5", 22, 50001, (const uint8_t *)s, strlen(s));
}
END_TEST

START_TEST(http)
{
    ident *id = ident_create(NULL);
    static const char req[] =
        "GET /x HTTP/1.1\r\nhost: www.example.org:8080\r\nUser-Agent:  curl/8.0 \r\nAccept: */*\r\n\r\n";
    static const char req6[] = "POST / HTTP/1.1\r\nHost: [2001:db8::80]:80\r\n\r\n";
    static const char resp[] = "HTTP/1.1 200 OK\r\nDate: x\r\nServer: nginx/1.22\r\n\r\nbody";
    static const char cut[] = "GET / HTTP/1.1\r\nHost: cut.example\r\nUser-Agent: par";
    feed(id, 6, "10.0.0.5", "198.51.100.1", 50000, 8080, req, strlen(req));
    feed(id, 6, "2001:db8::5", "2001:db8::80", 50000, 80, req6, strlen(req6));
    feed(id, 6, "198.51.100.1", "10.0.0.5", 8080, 50000, resp, strlen(resp));
    feed(id, 6, "10.0.0.5", "198.51.100.2", 50001, 80, cut, strlen(cut));
    ck_assert(has(id, "198.51.100.1", IDENT_HTTP_HOST, "www.example.org"));
    ck_assert(has(id, "10.0.0.5", IDENT_USER_AGENT, "curl/8.0"));
    ck_assert(has(id, "2001:db8::80", IDENT_HTTP_HOST, "[2001:db8::80]"));
    ck_assert(has(id, "198.51.100.1", IDENT_HTTP_SERVER, "nginx/1.22"));
    ck_assert(has(id, "198.51.100.2", IDENT_HTTP_HOST, "cut.example"));
    ck_assert_uint_eq(ident_get_stats(id)->partial[IDENT_P_HTTP], 1);
    ck_assert_uint_eq(ident_get_stats(id)->parsed[IDENT_P_HTTP], 4);
    /* not a method: nothing */
    feed(id, 6, "10.0.0.5", "198.51.100.3", 50002, 80, "GETX / HTTP/1.1\r\nHost: no\r\n\r\n", 29);
    ck_assert_uint_eq(n_recs(id, "198.51.100.3"), 0);
    ident_free(id);
    torture(6, "10.0.0.5", "198.51.100.1", 50000, 8080, (const uint8_t *)req, strlen(req));
}
END_TEST

static void
client_hello(buf *out, const char *sni, int sidlen)
{
    buf ext = { .n = 0 }, body = { .n = 0 };
    put16(&ext, 0x000a);                /* supported_groups first */
    put16(&ext, 4);
    put16(&ext, 2);
    put16(&ext, 0x001d);
    if (sni) {
        size_t n = strlen(sni);
        put16(&ext, 0);
        put16(&ext, (unsigned)(n + 5));
        put16(&ext, (unsigned)(n + 3));
        put8(&ext, 0);
        put16(&ext, (unsigned)n);
        put(&ext, sni, n);
    }
    put16(&body, 0x0303);
    for (int i = 0; i < 32; i++)
        put8(&body, 0x22);
    put8(&body, (unsigned)sidlen);
    for (int i = 0; i < sidlen; i++)
        put8(&body, 0x33);
    put16(&body, 2);
    put16(&body, 0x1301);
    put8(&body, 1);
    put8(&body, 0);
    put16(&body, (unsigned)ext.n);
    put(&body, ext.b, ext.n);
    out->n = 0;
    put8(out, 22);
    put16(out, 0x0301);
    put16(out, (unsigned)(body.n + 4));
    put8(out, 1);
    put8(out, 0);
    put16(out, (unsigned)body.n);
    put(out, body.b, body.n);
}

START_TEST(tls_sni)
{
    buf b;
    ident *id = ident_create(NULL);
    client_hello(&b, "api.example.net", 32);
    feed(id, 6, "10.0.0.5", "198.51.100.9", 50000, 443, b.b, b.n);
    ck_assert(has(id, "198.51.100.9", IDENT_SNI, "api.example.net"));
    ck_assert_uint_eq(n_recs(id, "10.0.0.5"), 0);
    /* without SNI: parsed, no name */
    client_hello(&b, NULL, 0);
    feed(id, 6, "10.0.0.5", "198.51.100.10", 50001, 443, b.b, b.n);
    ck_assert_uint_eq(ident_get_stats(id)->parsed[IDENT_P_TLS], 2);
    /* cut before the name: partial */
    client_hello(&b, "late.example.net", 0);
    feed(id, 6, "10.0.0.5", "198.51.100.11", 50002, 443, b.b, b.n - 12);
    ck_assert_uint_eq(ident_get_stats(id)->partial[IDENT_P_TLS], 1);
    ck_assert_uint_eq(n_recs(id, "198.51.100.11"), 0);
    /* session id longer than 32: malformed */
    client_hello(&b, "x.example", 33);
    feed(id, 6, "10.0.0.5", "198.51.100.12", 50003, 443, b.b, b.n);
    ck_assert_uint_eq(ident_get_stats(id)->malformed[IDENT_P_TLS], 1);
    ident_free(id);
    client_hello(&b, "api.example.net", 32);
    torture(6, "10.0.0.5", "198.51.100.9", 50000, 443, b.b, b.n);
}
END_TEST

/* ---- the table ------------------------------------------------------------------------ */

START_TEST(caps_and_values)
{
    ident_cfg cfg;
    ident_cfg_default(&cfg);
    cfg.max_recs = 2;
    cfg.max_addrs = 2;
    ident *id = ident_create(&cfg);
    uint8_t a1[4] = { 10, 0, 0, 1 }, a2[4] = { 10, 0, 0, 2 }, a3[4] = { 10, 0, 0, 3 };
    ck_assert_int_eq(ident_add(id, a1, 4, IDENT_DNS, "one", 3, 5), 1);
    ck_assert_int_eq(ident_add(id, a1, 4, IDENT_DNS, "two", 3, 3), 1);
    ck_assert_int_eq(ident_add(id, a1, 4, IDENT_DNS, "three", 5, 4), 0);
    ck_assert_int_eq(ident_add(id, a1, 4, IDENT_DNS, "one", 3, 9), 1);    /* existing: updated */
    ck_assert_int_eq(ident_add(id, a2, 4, IDENT_SNI, "x", 1, 1), 1);
    ck_assert_int_eq(ident_add(id, a3, 4, IDENT_SNI, "y", 1, 1), 0);
    const ident_stats *st = ident_get_stats(id);
    ck_assert_uint_eq(st->rec_dropped, 1);
    ck_assert_uint_eq(st->addr_dropped, 1);
    ck_assert_uint_eq(st->addrs, 2);
    ck_assert_uint_eq(st->records, 3);
    const ident_addr *e = ident_lookup(id, a1, 4);
    ck_assert_uint_eq(e->rec[0].first_ns, 5);
    ck_assert_uint_eq(e->rec[0].last_ns, 9);
    ck_assert_uint_eq(e->rec[0].count, 2);
    /* values: capped at 255 bytes, NUL stored as '?', other bytes as given */
    ident_clear(id);
    ck_assert_ptr_null(ident_lookup(id, a1, 4));
    ck_assert_uint_eq(st->addrs, 0);
    char big[400];
    memset(big, 'q', sizeof(big));
    ck_assert_int_eq(ident_add(id, a1, 4, IDENT_USER_AGENT, big, sizeof(big), 1), 1);
    ck_assert_int_eq(ident_add(id, a1, 4, IDENT_USER_AGENT, "a\0b\xff\n", 5, 1), 1);
    e = ident_lookup(id, a1, 4);
    ck_assert_uint_eq(e->rec[0].len, IDENT_VALUE_MAX);
    ck_assert_uint_eq(strlen(e->rec[0].value), IDENT_VALUE_MAX);
    ck_assert_str_eq(e->rec[1].value, "a?b\xff\n");
    ck_assert_uint_eq(st->value_truncated, 1);
    /* 0.0.0.0 and :: are nobody */
    uint8_t z[16] = { 0 };
    ck_assert_int_eq(ident_add(id, z, 4, IDENT_DNS, "zero", 4, 1), 0);
    ck_assert_int_eq(ident_add(id, z, 6, IDENT_DNS, "zero", 4, 1), 0);
    ident_free(id);
    ident_free(NULL);
}
END_TEST

/* Context of the foreach test. */
typedef struct fe_ctx {
    int n_rec, n_addr;          /* callbacks seen */
    char order[8][16];          /* addresses of the first records, in call order */
} fe_ctx;

static void
fe_rec(const uint8_t *addr, int ver, const ident_rec *r, void *ctx)
{
    fe_ctx *c = ctx;
    (void)r;
    if (c->n_rec < 8)
        inet_ntop(ver == 4 ? AF_INET : AF_INET6, addr, c->order[c->n_rec], 16);
    c->n_rec++;
}

static void
fe_addr(const ident_addr *a, void *ctx)
{
    fe_ctx *c = ctx;
    (void)a;
    c->n_addr++;
}

START_TEST(foreach_and_macs)
{
    ident *id = ident_create(NULL);
    uint8_t b1[4] = { 192, 168, 1, 2 }, b2[4] = { 192, 168, 1, 1 };
    uint8_t m1[6] = { 2, 0, 0, 0, 0, 1 }, bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    ident_add(id, b1, 4, IDENT_DNS, "b", 1, 1);
    ident_add(id, b2, 4, IDENT_DNS, "a", 1, 1);
    ident_add(id, b1, 4, IDENT_SNI, "c", 1, 1);
    for (int i = 0; i < 6; i++) {
        m1[5] = (uint8_t)i;
        ident_add_mac(id, b1, 4, m1);
        ident_add_mac(id, b1, 4, m1);       /* repeated: once */
    }
    ident_add_mac(id, b2, 4, bc);           /* broadcast: ignored */
    fe_ctx c;
    memset(&c, 0, sizeof(c));
    ident_foreach(id, fe_rec, &c);
    ident_foreach_addr(id, fe_addr, &c);
    ck_assert_int_eq(c.n_rec, 3);
    ck_assert_int_eq(c.n_addr, 2);
    ck_assert_str_eq(c.order[0], "192.168.1.2");    /* first seen first */
    ck_assert_str_eq(c.order[1], "192.168.1.2");
    ck_assert_str_eq(c.order[2], "192.168.1.1");
    const ident_addr *e = ident_lookup(id, b1, 4);
    ck_assert_uint_eq(e->n_mac, IDENT_MAX_MAC);
    ck_assert_uint_eq(ident_get_stats(id)->mac_dropped, 4);  /* 2 MACs refused, twice each */
    ck_assert_uint_eq(ident_lookup(id, b2, 4)->n_mac, 0);
    ck_assert_int_eq(ident_kind_parse("krb_user"), IDENT_KRB_USER);
    ck_assert_int_eq(ident_kind_parse("nope"), -1);
    ck_assert_str_eq(ident_kind_name(IDENT_HTTP_SERVER), "http_server");
    ck_assert_str_eq(ident_proto_name(IDENT_P_KRB), "kerberos");
    /* many addresses: the hash table grows and finds them all */
    for (uint32_t i = 0; i < 5000; i++) {
        uint8_t a[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
        ident_add(id, a, 4, IDENT_DNS, "n", 1, 1);
    }
    for (uint32_t i = 0; i < 5000; i += 7) {
        uint8_t a[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
        ck_assert_ptr_nonnull(ident_lookup(id, a, 4));
    }
    ident_free(id);
}
END_TEST

/* Random payloads on every port a parser listens on: no crash, no overread. */
START_TEST(random_payloads)
{
    static const uint16_t ports[] = { 53, 5353, 5355, 137, 138, 67, 88, 22, 80, 443 };
    ident *id = ident_create(NULL);
    uint32_t x = 12345;
    uint8_t p[600];
    for (int round = 0; round < 3000; round++) {
        size_t n = (size_t)(round % 600);
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            p[i] = (uint8_t)(x >> 16);
        }
        if (n > 0 && round % 4 == 0)
            p[0] = 0x16;        /* reach the TLS parser */
        if (n > 4 && round % 4 == 1)
            memcpy(p, "GET ", 4);
        uint16_t port = ports[round % 10];
        int proto = round % 3 == 0 ? 6 : 17;
        feed(id, proto, "10.1.0.1", "10.1.0.2", port, (uint16_t)(port == 67 ? 68 : 40000), p, n);
        feed(id, proto, "10.1.0.2", "10.1.0.1", 40000, port, p, n);
    }
    ident_free(id);
}
END_TEST

Suite *
suite_ident(void)
{
    Suite *s = suite_create("ident");
    TCase *tc = tcase_create("parsers");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, dns_cname_chain);
    tcase_add_test(tc, dns_tcp_and_reverse);
    tcase_add_test(tc, dns_bad_names);
    tcase_add_test(tc, mdns_llmnr);
    tcase_add_test(tc, netbios);
    tcase_add_test(tc, dhcp);
    tcase_add_test(tc, kerberos);
    tcase_add_test(tc, ssh);
    tcase_add_test(tc, http);
    tcase_add_test(tc, tls_sni);
    tcase_add_test(tc, random_payloads);
    suite_add_tcase(s, tc);
    TCase *tt = tcase_create("table");
    tcase_add_test(tt, caps_and_values);
    tcase_add_test(tt, foreach_and_macs);
    suite_add_tcase(s, tt);
    return s;
}
