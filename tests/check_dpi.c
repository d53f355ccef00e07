/*
 * check_dpi.c - application-protocol detection (analyzer/dpi.c) and
 * Community ID (analyzer/communityid.c).  Packets are raw IPv4 datagrams
 * built here and decoded with dec_packet(DEC_LINK_RAW), so a flow is a
 * bare struct: DPI only uses its ext pointer.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/communityid.h"
#include "analyzer/dpi.h"
#include "capture/decode.h"
#include "tests/suites.h"

/* ---- Community ID: the spec's baseline (community-id-spec/baseline) ---- */

/* One vector: addresses as text, ports (ICMP: type and code), expected id. */
typedef struct cid_vec {
    uint16_t seed;              /* Community ID seed */
    int proto;                  /* IP protocol */
    const char *src, *dst;      /* endpoints as text (IPv4 or IPv6) */
    uint16_t sport, dport;      /* ports, or ICMP type and code */
    const char *want;           /* the published Community ID */
} cid_vec;

static const cid_vec cid_vectors[] = {
    /* baseline/README.md, "Default settings" */
    {0, 6, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:wCb3OG7yAFWelaUydu0D+125CLM="},
    {0, 6, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:wCb3OG7yAFWelaUydu0D+125CLM="},
    {0, 17, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg="},
    {0, 17, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg="},
    {0, 132, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8="},
    {0, 132, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8="},
    {0, 1, "1.2.3.4", "5.6.7.8", 8, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0="},
    {0, 1, "5.6.7.8", "1.2.3.4", 0, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0="},
    {0, 1, "1.2.3.4", "5.6.7.8", 11, 0, "1:f/YiSyWqczrTgfUCZlBUnvHRcPk="},
    {0, 58, "fe80:0001:0203:0405:0607:0809:0A0B:0C0D", "fe80:1011:1213:1415:1617:1819:1A1B:1C1D",
     128, 0, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo="},
    {0, 58, "fe80:1011:1213:1415:1617:1819:1A1B:1C1D", "fe80:0001:0203:0405:0607:0809:0A0B:0C0D",
     129, 0, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo="},
    {0, 58, "fe80:0001:0203:0405:0607:0809:0A0B:0C0D", "fe80:1011:1213:1415:1617:1819:1A1B:1C1D",
     146, 0, "1:fYC8+pz24E+EhANP1EZhpX0Dw10="},
    {0, 46, "1.2.3.4", "5.6.7.8", 0, 0, "1:ikv3kmf89luf73WPz1jOs49S768="},
    {0, 46, "5.6.7.8", "1.2.3.4", 0, 0, "1:ikv3kmf89luf73WPz1jOs49S768="},
    {0, 46, "fe80:0001:0203:0405:0607:0809:0A0B:0C0D", "fe80:1011:1213:1415:1617:1819:1A1B:1C1D",
     0, 0, "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0="},
    {0, 46, "fe80:1011:1213:1415:1617:1819:1A1B:1C1D", "fe80:0001:0203:0405:0607:0809:0A0B:0C0D",
     0, 0, "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0="},
    /* "A custom seed=1 value" */
    {1, 6, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="},
    {1, 17, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:OShq+iKDAMVouh/4bMxB9Sz4amw="},
    {1, 132, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:uitchpn5MMGAQKBJh7bIr/bAr7s="},
    {1, 1, "5.6.7.8", "1.2.3.4", 0, 0, "1:9pr4ZGTICiuZoIh90RRYE2RyXpU="},
    {1, 1, "1.2.3.4", "5.6.7.8", 11, 0, "1:1DD7cWGC/Yg91YGsQeni8du3pIA="},
    {1, 58, "fe80:1011:1213:1415:1617:1819:1A1B:1C1D", "fe80:0001:0203:0405:0607:0809:0A0B:0C0D",
     129, 0, "1:IO27GQzPuCtNnwFvjWALMHu5tJE="},
    {1, 58, "fe80:0001:0203:0405:0607:0809:0A0B:0C0D", "fe80:1011:1213:1415:1617:1819:1A1B:1C1D",
     146, 0, "1:Cv4IKJe56BNkF0MBW2YxQ3Nwc3s="},
    {1, 46, "5.6.7.8", "1.2.3.4", 0, 0, "1:/buhqeOmaRCopOZFy9HnoJd5XW8="},
    {1, 46, "fe80:0001:0203:0405:0607:0809:0A0B:0C0D", "fe80:1011:1213:1415:1617:1819:1A1B:1C1D",
     0, 0, "1:j6EyyfBzL4vWKHFXgUqb5Az3OxM="},
    /* baseline_deflt.json (from pcaps/combined.pcap; ICMP rows as type, code) */
    {0, 58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 0, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="},
    {0, 58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 0, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="},
    {0, 58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0, "1:2ObVBgIn28oZvibYZhZMBgh7WdQ="},
    {0, 58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4, "1:hLZd0XGWojozrvxqE0dWB1iM6R0="},
    {0, 58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 0, "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0="},
    {0, 58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 0, "1:pkvHqCL88/tg1k4cPigmZXUtL00="},
    {0, 1, "192.168.0.89", "192.168.0.1", 8, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="},
    {0, 1, "192.168.0.1", "192.168.0.89", 0, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="},
    {0, 1, "10.0.0.1", "10.0.0.2", 11, 0, "1:YHxtAirCG//0OzkcVAukqKQN9xM="},
    {0, 6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
    {0, 6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
    {0, 132, "192.168.170.8", "192.168.170.56", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="},
    {0, 6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
    {0, 17, "8.8.8.8", "192.168.1.52", 53, 54585, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
    {0, 46, "10.1.12.1", "10.1.12.2", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="},
};

START_TEST(test_communityid_vectors)
{
    const cid_vec *v = &cid_vectors[_i];
    uint8_t s[16] = {0}, d[16] = {0};
    int v6 = strchr(v->src, ':') != NULL;
    ck_assert_int_eq(inet_pton(v6 ? AF_INET6 : AF_INET, v->src, s), 1);
    ck_assert_int_eq(inet_pton(v6 ? AF_INET6 : AF_INET, v->dst, d), 1);
    char out[COMMUNITYID_LEN];
    communityid_v1(v->seed, v6 ? 6 : 4, s, d, (uint8_t)v->proto, v->sport, v->dport, out);
    ck_assert_str_eq(out, v->want);
}
END_TEST

START_TEST(test_sha1)
{
    /* FIPS 180-1 appendix A: SHA1("abc") */
    static const uint8_t want[20] = {
        0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e,
        0x25, 0x71, 0x78, 0x50, 0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d,
    };
    uint8_t got[20];
    dpi_sha1("abc", 3, got);
    ck_assert_mem_eq(got, want, 20);
}
END_TEST

/* ---- packets built here ---- */

/* A raw IPv4 packet of proto with l4 (header + payload) appended; returns its length. */
static size_t
mk_ip(uint8_t *buf, const char *src, const char *dst, int proto, const uint8_t *l4, size_t l4len)
{
    size_t tot = 20 + l4len;
    memset(buf, 0, 20);
    buf[0] = 0x45;
    buf[2] = (uint8_t)(tot >> 8);
    buf[3] = (uint8_t)tot;
    buf[4] = 0x12;
    buf[5] = 0x34;
    buf[8] = 64;
    buf[9] = (uint8_t)proto;
    inet_pton(AF_INET, src, buf + 12);
    inet_pton(AF_INET, dst, buf + 16);
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += (uint32_t)(buf[i] << 8 | buf[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    buf[10] = (uint8_t)(~sum >> 8);
    buf[11] = (uint8_t)~sum;
    memcpy(buf + 20, l4, l4len);
    return tot;
}

/* UDP header + payload into out; returns its length. */
static size_t
mk_udp(uint8_t *out, uint16_t sport, uint16_t dport, const uint8_t *pl, size_t plen)
{
    size_t len = 8 + plen;
    out[0] = (uint8_t)(sport >> 8); out[1] = (uint8_t)sport;
    out[2] = (uint8_t)(dport >> 8); out[3] = (uint8_t)dport;
    out[4] = (uint8_t)(len >> 8); out[5] = (uint8_t)len;
    out[6] = out[7] = 0;
    memcpy(out + 8, pl, plen);
    return len;
}

/* A DNS query for name (dotted) of type A; returns its length. */
static size_t
mk_dns_query(uint8_t *out, const char *name)
{
    static const uint8_t hdr[12] = {0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    size_t n = 12;
    memcpy(out, hdr, 12);
    while (*name) {
        const char *dot = strchr(name, '.');
        size_t l = dot ? (size_t)(dot - name) : strlen(name);
        out[n++] = (uint8_t)l;
        memcpy(out + n, name, l);
        n += l;
        name += l + (dot ? 1 : 0);
    }
    out[n++] = 0;
    out[n++] = 0; out[n++] = 1;     /* type A */
    out[n++] = 0; out[n++] = 1;     /* class IN */
    return n;
}

/* Decode buf as a raw IP packet into m. */
static void
decode_raw(const uint8_t *buf, size_t len, pkt_meta *m)
{
    ck_assert_int_eq(dec_packet(DEC_LINK_RAW, buf, len, m), DEC_OK);
}

static dpi *
mk_dpi(unsigned max_str)
{
    dpi_cfg cfg;
    char err[256];
    dpi_cfg_default(&cfg);
    if (max_str)
        cfg.max_str = max_str;
    dpi *d = dpi_create(&cfg, err, sizeof(err));
    ck_assert_msg(d != NULL, "dpi_create: %s", err);
    return d;
}

/* One DNS query through DPI; returns the flow's info (flow kept in *f). */
static const dpi_info *
dns_flow(dpi *d, flow *f, const char *qname)
{
    uint8_t dns[600], udp[700], ip[800];
    pkt_meta m;
    size_t n = mk_dns_query(dns, qname);
    n = mk_udp(udp, 40000, 53, dns, n);
    n = mk_ip(ip, "10.0.0.1", "10.0.0.53", 17, udp, n);
    decode_raw(ip, n, &m);
    memset(f, 0, sizeof(*f));
    dpi_packet(d, f, 1, &m, 1700000000000000000ULL);
    dpi_flow_end(d, f);
    return dpi_get(f);
}

START_TEST(test_dns_query_detected)
{
    dpi *d = mk_dpi(0);
    flow f;
    const dpi_info *i = dns_flow(d, &f, "www.example.com");
    ck_assert_ptr_nonnull(i);
    ck_assert_int_ne(i->status, DPI_DETECTING);
    ck_assert_str_eq(i->app, "DNS");
    ck_assert_str_eq(dpi_proto_name(d, i->app_id), "DNS");
    ck_assert_str_eq(dpi_str(i, DPI_S_DNS_QUERY), "www.example.com");
    ck_assert_ptr_null(dpi_str(i, DPI_S_SNI));
    ck_assert_ptr_null(i->nflow);               /* nDPI state freed */
    ck_assert_int_eq(i->pkts, 1);
    ck_assert_int_eq(i->truncated, 0);
    const dpi_stats *st = dpi_get_stats(d);
    ck_assert_uint_eq(st->live, 0);
    ck_assert_uint_eq(st->peak_live, 1);
    ck_assert_uint_ge(st->state_bytes_freed, dpi_ndpi_flow_size());
    dpi_release(d, &f);
    ck_assert_ptr_null(f.ext);
    dpi_free(d);
}
END_TEST

START_TEST(test_string_cap)
{
    dpi *d = mk_dpi(8);
    flow f;
    const dpi_info *i = dns_flow(d, &f, "averylongname.example.com");
    ck_assert_ptr_nonnull(i);
    ck_assert_str_eq(i->app, "DNS");
    ck_assert_str_eq(dpi_str(i, DPI_S_DNS_QUERY), "averylon");
    ck_assert_int_eq(i->truncated, 1);
    ck_assert_uint_eq(dpi_get_stats(d)->str_truncated, 1);
    dpi_release(d, &f);
    dpi_free(d);
}
END_TEST

START_TEST(test_user_agent_cap)
{
    /* An HTTP request whose User-Agent is longer than DPI_STR_MAX. */
    dpi *d = mk_dpi(0);
    char req[1200], ua[400];
    memset(ua, 'x', sizeof(ua) - 1);
    ua[sizeof(ua) - 1] = '\0';
    int rl = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: www.example.com\r\n"
                      "User-Agent: %s\r\nAccept: */*\r\n\r\n", ua);
    uint8_t tcp[1400], ip[1500];
    memset(tcp, 0, 20);
    tcp[0] = 0xc3; tcp[1] = 0x50;       /* 50000 */
    tcp[2] = 0; tcp[3] = 80;
    tcp[7] = 1;                         /* seq 1 */
    tcp[11] = 1;                        /* ack 1 */
    tcp[12] = 0x50;
    tcp[13] = 0x18;                     /* PSH ACK */
    tcp[14] = 0xff;
    memcpy(tcp + 20, req, (size_t)rl);
    size_t n = mk_ip(ip, "10.0.0.1", "10.0.0.80", 6, tcp, 20 + (size_t)rl);
    pkt_meta m;
    decode_raw(ip, n, &m);
    flow f;
    memset(&f, 0, sizeof(f));
    dpi_packet(d, &f, 1, &m, 1700000000000000000ULL);
    dpi_flow_end(d, &f);
    const dpi_info *i = dpi_get(&f);
    ck_assert_ptr_nonnull(i);
    ck_assert_msg(strncmp(i->app, "HTTP", 4) == 0, "app %s", i->app);
    ck_assert_str_eq(dpi_str(i, DPI_S_HTTP_HOST), "www.example.com");
    const char *got = dpi_str(i, DPI_S_USER_AGENT);
    ck_assert_ptr_nonnull(got);
    ck_assert_uint_eq(strlen(got), DPI_STR_MAX);
    ck_assert_int_eq(strncmp(got, ua, DPI_STR_MAX), 0);
    ck_assert_int_ge(i->truncated, 1);
    dpi_release(d, &f);
    dpi_free(d);
}
END_TEST

/* One UDP packet between high ports with 40 bytes nobody recognises,
   built in ip (m points into it). */
static void
opaque_udp(uint8_t ip[128], pkt_meta *m)
{
    uint8_t pl[40], udp[64];
    for (size_t k = 0; k < sizeof(pl); k++)
        pl[k] = (uint8_t)(k * 37 + 11);
    size_t n = mk_udp(udp, 45678, 51234, pl, sizeof(pl));
    n = mk_ip(ip, "10.0.0.1", "10.0.0.2", 17, udp, n);
    decode_raw(ip, n, m);
}

START_TEST(test_packed_state)
{
    /* Opaque UDP: packed after its first packet, unpacked by the second. */
    dpi *d = mk_dpi(0);
    uint8_t ip[128];
    pkt_meta m;
    opaque_udp(ip, &m);
    flow f;
    memset(&f, 0, sizeof(f));
    const dpi_stats *st = dpi_get_stats(d);
    dpi_packet(d, &f, 1, &m, 1700000000000000000ULL);
    ck_assert_int_eq(dpi_get(&f)->status, DPI_PACKED);
    ck_assert_uint_eq(st->packed, 1);
    ck_assert_uint_eq(st->live, 0);
    ck_assert_uint_gt(st->packed_bytes, 0);
    ck_assert_uint_lt(st->packed_bytes, dpi_ndpi_flow_size() / 2);
    dpi_packet(d, &f, 0, &m, 1700000000001000000ULL);
    ck_assert_int_eq(dpi_get(&f)->status, DPI_DETECTING);
    ck_assert_uint_eq(st->packed, 0);
    ck_assert_uint_eq(st->packed_bytes, 0);
    ck_assert_uint_eq(st->live, 1);
    ck_assert_uint_eq(st->peak_packed, 1);
    ck_assert_int_eq(dpi_get(&f)->pkts, 2);
    dpi_flow_end(d, &f);
    ck_assert_int_eq(dpi_get(&f)->status, DPI_GIVEN_UP);
    ck_assert_uint_eq(st->live, 0);
    dpi_release(d, &f);

    /* Released while packed (no flow end): nothing leaks (ASan/valgrind). */
    memset(&f, 0, sizeof(f));
    dpi_packet(d, &f, 1, &m, 1700000000002000000ULL);
    ck_assert_int_eq(dpi_get(&f)->status, DPI_PACKED);
    ck_assert_uint_eq(st->packed, 1);
    dpi_release(d, &f);
    ck_assert_ptr_null(f.ext);
    ck_assert_uint_eq(st->packed, 0);
    ck_assert_uint_eq(st->packed_bytes, 0);
    dpi_free(d);
}
END_TEST

START_TEST(test_budget_giveup)
{
    /* Opaque UDP between high ports: given up once past the UDP budget. */
    dpi *d = mk_dpi(0);
    uint8_t ip[128];
    pkt_meta m;
    opaque_udp(ip, &m);
    flow f;
    memset(&f, 0, sizeof(f));
    for (int k = 0; k < 30; k++)
        dpi_packet(d, &f, 1, &m, 1700000000000000000ULL + (uint64_t)k * 1000000u);
    const dpi_info *i = dpi_get(&f);
    ck_assert_ptr_nonnull(i);
    ck_assert_int_eq(i->status, DPI_GIVEN_UP);
    ck_assert_int_eq(i->pkts, 25);              /* 24 + the one that went over */
    ck_assert_ptr_null(i->nflow);
    ck_assert_str_eq(i->app, "Unknown");
    ck_assert_uint_eq(dpi_get_stats(d)->packets, 25);
    ck_assert_uint_eq(dpi_get_stats(d)->unknown, 1);
    dpi_flow_end(d, &f);                        /* nothing left to do */
    ck_assert_uint_eq(dpi_get_stats(d)->given_up, 1);
    dpi_release(d, &f);
    dpi_free(d);
}
END_TEST

START_TEST(test_flow_end_giveup_and_frags)
{
    dpi *d = mk_dpi(0);
    uint8_t pl[4] = {1, 2, 3, 4}, udp[16], ip[64];
    size_t n = mk_udp(udp, 45678, 51234, pl, sizeof(pl));
    n = mk_ip(ip, "10.0.0.1", "10.0.0.2", 17, udp, n);
    pkt_meta m;
    decode_raw(ip, n, &m);
    flow f;
    memset(&f, 0, sizeof(f));
    pkt_meta later = m;
    later.frag = DEC_FRAG_LATER;
    dpi_packet(d, &f, 1, &later, 1);            /* not fed, no state made */
    ck_assert_ptr_null(f.ext);
    ck_assert_uint_eq(dpi_get_stats(d)->frags_skipped, 1);
    dpi_packet(d, &f, 1, &m, 2);
    ck_assert_int_eq(dpi_get(&f)->status, DPI_PACKED);  /* one packet: state packed */
    ck_assert_uint_eq(dpi_get_stats(d)->live, 0);
    ck_assert_uint_eq(dpi_get_stats(d)->packed, 1);
    dpi_flow_end(d, &f);
    ck_assert_int_eq(dpi_get(&f)->status, DPI_GIVEN_UP);
    ck_assert_ptr_nonnull(dpi_get(&f)->app);
    ck_assert_uint_eq(dpi_get_stats(d)->live, 0);
    dpi_release(d, &f);
    dpi_release(d, &f);                            /* twice is fine */
    dpi_free(d);
    dpi_free(NULL);
}
END_TEST

START_TEST(test_ext_for_ident)
{
    dpi *d = mk_dpi(0);
    flow f;
    memset(&f, 0, sizeof(f));
    dpi_info *i = dpi_ext(d, &f);
    ck_assert_ptr_nonnull(i);
    ck_assert_int_eq(i->status, DPI_NO_STATE);
    ck_assert_ptr_eq(dpi_ext(d, &f), i);
    ck_assert_ptr_null(dpi_str(i, DPI_S_SNI));
    dpi_release(d, &f);
    dpi_free(d);
}
END_TEST

START_TEST(test_names)
{
    char buf[256];
    ck_assert_str_eq(dpi_confidence_name(DPI_CONF_DPI), "DPI");
    ck_assert_str_eq(dpi_confidence_name(DPI_CONF_PORT), "Match by port");
    ck_assert_str_eq(dpi_confidence_name(99), "Unknown");
    ck_assert_str_eq(dpi_risk_names(0, buf, sizeof(buf)), "");
    dpi_risk_names((1ULL << 1) | (1ULL << 2), buf, sizeof(buf));
    ck_assert_ptr_nonnull(strchr(buf, ';'));
    dpi_risk_names(~0ULL, buf, 16);             /* truncated, still terminated */
    ck_assert_uint_lt(strlen(buf), 16);
}
END_TEST

START_TEST(test_bad_ndpi_dir)
{
    dpi_cfg cfg;
    char err[256];
    dpi_cfg_default(&cfg);
    cfg.ndpi_dir = "/nonexistent/segscope-ndpi";
    ck_assert_ptr_null(dpi_create(&cfg, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "not a directory"));
}
END_TEST

Suite *
suite_dpi(void)
{
    Suite *s = suite_create("dpi");
    TCase *tc = tcase_create("communityid");
    tcase_add_loop_test(tc, test_communityid_vectors, 0,
                        (int)(sizeof(cid_vectors) / sizeof(cid_vectors[0])));
    tcase_add_test(tc, test_sha1);
    suite_add_tcase(s, tc);
    tc = tcase_create("ndpi");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_dns_query_detected);
    tcase_add_test(tc, test_string_cap);
    tcase_add_test(tc, test_user_agent_cap);
    tcase_add_test(tc, test_budget_giveup);
    tcase_add_test(tc, test_packed_state);
    tcase_add_test(tc, test_flow_end_giveup_and_frags);
    tcase_add_test(tc, test_ext_for_ident);
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_bad_ndpi_dir);
    suite_add_tcase(s, tc);
    return s;
}
