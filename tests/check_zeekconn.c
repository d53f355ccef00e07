/*
 * check_zeekconn.c - Zeek conn.log writer: conn_state and history from the
 * TCP flags of each direction, service names, and the file layout.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "reports/flowfmt.h"
#include "reports/zeekconn.h"
#include "tests/suites.h"

enum { FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10 };

/* A TCP (or other proto) flow with these per-direction packets, flags and payload. */
static flow
mkflow(int proto, uint64_t opkts, uint8_t oflags, uint64_t opay,
       uint64_t rpkts, uint8_t rflags, uint64_t rpay)
{
    flow f;
    memset(&f, 0, sizeof(f));
    f.key.proto = (uint8_t)proto;
    f.key.ip_version = 4;
    inet_pton(AF_INET, "10.0.0.1", f.key.a);
    inet_pton(AF_INET, "10.0.0.2", f.key.b);
    f.key.pa = 40000;
    f.key.pb = 80;
    f.d[0].pkts = opkts; f.d[0].tcp_flags = oflags; f.d[0].payload_bytes = opay;
    f.d[1].pkts = rpkts; f.d[1].tcp_flags = rflags; f.d[1].payload_bytes = rpay;
    f.d[0].ip_bytes = opkts * 40 + opay;
    f.d[1].ip_bytes = rpkts * 40 + rpay;
    f.first_ns = 1700000000123456789ULL;
    f.last_ns = f.first_ns + 1500000000ULL;
    return f;
}

/* One flow shape and what Zeek would say of it. */
typedef struct state_case {
    int proto;                          /* IP protocol */
    uint64_t op; uint8_t of; uint64_t opay; /* originator: packets, flags, payload bytes */
    uint64_t rp; uint8_t rf; uint64_t rpay; /* responder: the same */
    const char *state, *history;        /* expected conn_state and history */
} state_case;

static const state_case state_cases[] = {
    /* a normal connection with data, closed both ways */
    {6, 5, SYN | ACK | PSH | FIN, 100, 4, SYN | ACK | PSH | FIN, 500, "SF", "ShADadFf"},
    /* SYN, no answer */
    {6, 3, SYN, 0, 0, 0, 0, "S0", "S"},
    /* SYN answered by RST */
    {6, 1, SYN, 0, 1, RST | ACK, 0, "REJ", "Sr"},
    /* established, never closed */
    {6, 3, SYN | ACK, 10, 2, SYN | ACK, 10, "S1", "ShADd"},
    /* established, originator aborts */
    {6, 4, SYN | ACK | RST, 10, 2, SYN | ACK, 10, "RSTO", "ShADdR"},
    /* established, responder aborts */
    {6, 3, SYN | ACK, 10, 3, SYN | ACK | RST, 10, "RSTR", "ShADdr"},
    /* originator: SYN then RST, no SYN-ACK */
    {6, 2, SYN | RST, 0, 0, 0, 0, "RSTOS0", "SR"},
    /* responder SYN-ACK then RST, no SYN seen */
    {6, 0, 0, 0, 2, SYN | ACK | RST, 0, "RSTRH", "hr"},
    /* originator SYN then FIN, no answer */
    {6, 2, SYN | FIN, 0, 0, 0, 0, "SH", "SF"},
    /* responder SYN-ACK then FIN only */
    {6, 0, 0, 0, 2, SYN | ACK | FIN, 0, "SHR", "hf"},
    /* established, only the originator closed */
    {6, 4, SYN | ACK | FIN, 10, 2, SYN | ACK, 10, "S2", "ShADdF"},
    /* established, only the responder closed */
    {6, 3, SYN | ACK, 10, 3, SYN | ACK | FIN, 10, "S3", "ShADdf"},
    /* mid-stream, no SYN */
    {6, 3, ACK | PSH, 10, 3, ACK | PSH, 10, "OTH", "ADad"},
    /* UDP */
    {17, 1, 0, 30, 1, 0, 80, "SF", "Dd"},
    {17, 2, 0, 30, 0, 0, 0, "S0", "D"},
    {17, 0, 0, 0, 1, 0, 30, "SHR", "d"},
    /* ICMP */
    {1, 2, 0, 0, 2, 0, 0, "OTH", "Dd"},
};

START_TEST(test_state_history)
{
    const state_case *c = &state_cases[_i];
    flow f = mkflow(c->proto, c->op, c->of, c->opay, c->rp, c->rf, c->rpay);
    char h[16];
    ck_assert_str_eq(zeekconn_state(&f), c->state);
    ck_assert_str_eq(zeekconn_history(&f, h, sizeof(h)), c->history);
}
END_TEST

START_TEST(test_service)
{
    char buf[64];
    ck_assert_str_eq(zeekconn_service("TLS", 6, buf, sizeof(buf)), "ssl");
    ck_assert_str_eq(zeekconn_service("DNS", 17, buf, sizeof(buf)), "dns");
    ck_assert_str_eq(zeekconn_service("HTTP", 6, buf, sizeof(buf)), "http");
    ck_assert_str_eq(zeekconn_service("Kerberos", 6, buf, sizeof(buf)), "krb_tcp");
    ck_assert_str_eq(zeekconn_service("Kerberos", 17, buf, sizeof(buf)), "krb");
    ck_assert_str_eq(zeekconn_service("BitTorrent", 6, buf, sizeof(buf)), "bittorrent");
    ck_assert_ptr_null(zeekconn_service("Unknown", 6, buf, sizeof(buf)));
    ck_assert_ptr_null(zeekconn_service(NULL, 6, buf, sizeof(buf)));
}
END_TEST

/* The log text written for one flow. */
static char *
write_log(const flow *f, const zeekconn_aux *aux)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    zeekconn *w = zeekconn_create(out);
    ck_assert_ptr_nonnull(w);
    zeekconn_write(w, f, aux);
    zeekconn_free(w);
    fclose(out);
    return text;
}

START_TEST(test_layout)
{
    flow f = mkflow(6, 5, SYN | ACK | PSH | FIN, 100, 4, SYN | ACK | PSH | FIN, 500);
    zeekconn_aux aux = { .service = "http" };
    char *text = write_log(&f, &aux);
    ck_assert_ptr_nonnull(strstr(text, "#separator \\x09\n#set_separator\t,\n"
                                 "#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"));
    ck_assert_ptr_nonnull(strstr(text, "\n#fields\tts\tuid\tid.orig_h\tid.orig_p\t"));
    ck_assert_ptr_nonnull(strstr(text, "\n#types\ttime\tstring\taddr\tport\t"));
    ck_assert_ptr_nonnull(strstr(text, "\n#close\t"));
    /* The record: every field after uid. */
    char *line = strstr(text, "\n1700000000.123456\tC");
    ck_assert_ptr_nonnull(line);
    char *tab = strchr(line + 1, '\t');
    ck_assert_ptr_nonnull(tab);
    ck_assert_uint_eq((size_t)(tab - line - 1), strlen("1700000000.123456"));
    char *rest = strchr(tab + 1, '\t');
    ck_assert_ptr_nonnull(rest);
    ck_assert_uint_eq((size_t)(rest - tab - 1), 18);    /* uid: C + 17 */
    ck_assert_int_eq(strncmp(rest, "\t10.0.0.1\t40000\t10.0.0.2\t80\ttcp\thttp\t1.500000\t100\t500\t"
                             "SF\t-\t-\t0\tShADadFf\t5\t300\t4\t660\t-\n",
                             strlen("\t10.0.0.1\t40000\t10.0.0.2\t80\ttcp\thttp\t1.500000\t100\t500\t"
                                    "SF\t-\t-\t0\tShADadFf\t5\t300\t4\t660\t-\n")), 0);
    free(text);

    /* Zero duration: duration and byte counts unset; ICMP ports are type/counterpart. */
    flow g = mkflow(1, 1, 0, 0, 0, 0, 0);
    g.last_ns = g.first_ns;
    zeekconn_aux ia = { .has_icmp = 1, .icmp_type = 8, .icmp_code = 0 };
    text = write_log(&g, &ia);
    ck_assert_ptr_nonnull(strstr(text, "\t10.0.0.1\t8\t10.0.0.2\t0\ticmp\t-\t-\t-\t-\tOTH\t-\t-\t0\tD\t1\t40\t0\t0\t-\n"));
    free(text);
}
END_TEST

/* flowfmt_addr (the address columns here and in flows/hosts/edges output)
   writes IPv4 by hand: it must print what inet_ntop prints, for every
   octet value in every position, and IPv6 as inet_ntop does. */
START_TEST(test_addr_format)
{
    char got[64], want[INET6_ADDRSTRLEN];
    uint8_t a[16];
    for (unsigned v = 0; v < 256; v++)
        for (int pos = 0; pos < 4; pos++) {
            for (int k = 0; k < 4; k++)
                a[k] = (uint8_t)(k == pos ? v : (v * 7 + (unsigned)k * 13) % 256);
            inet_ntop(AF_INET, a, want, sizeof(want));
            ck_assert_str_eq(flowfmt_addr(a, 4, got, sizeof(got)), want);
        }
    inet_pton(AF_INET6, "2001:db8::1:0:0:1", a);
    ck_assert_str_eq(flowfmt_addr(a, 6, got, sizeof(got)), "2001:db8::1:0:0:1");
    inet_pton(AF_INET, "255.255.255.255", a);
    ck_assert_str_eq(flowfmt_addr(a, 4, got, sizeof(got)), "255.255.255.255");
    ck_assert_str_eq(flowfmt_addr(a, 4, got, 15), "?");     /* too short for it */
}
END_TEST

Suite *
suite_zeekconn(void)
{
    Suite *s = suite_create("zeekconn");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_state_history, 0,
                        (int)(sizeof(state_cases) / sizeof(state_cases[0])));
    tcase_add_test(tc, test_service);
    tcase_add_test(tc, test_layout);
    tcase_add_test(tc, test_addr_format);
    suite_add_tcase(s, tc);
    return s;
}
