/*
 * check_report.c - reports and exports: the bounded escapers and UTF-8
 * repair, the risk classifier, report tables, the report of a small
 * hand-made database under a hand-written policy (blast radius, blocked
 * traffic, risks, unknown devices, peers, determinism, every format),
 * and the nftables/iptables writers on a small policy.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/dpi.h"
#include "analyzer/graph.h"
#include "reports/escape.h"
#include "reports/export.h"
#include "reports/layout.h"
#include "reports/report.h"
#include "reports/risk.h"
#include "reports/rtable.h"
#include "tests/suites.h"

/* What a writer produced, as a string (caller frees). */
typedef struct memout {
    char *buf;                  /* the text (malloc'ed by open_memstream) */
    size_t len;                 /* its length */
    FILE *f;                    /* the stream writing it */
} memout;

static void
mo_open(memout *m)
{
    m->buf = NULL;
    m->len = 0;
    m->f = open_memstream(&m->buf, &m->len);
    ck_assert_ptr_nonnull(m->f);
}

static char *
mo_close(memout *m)
{
    ck_assert_int_eq(fclose(m->f), 0);
    return m->buf;
}

/* ---- escapers ------------------------------------------------------------------- */

START_TEST(test_esc_bounded)
{
    memout m;
    mo_open(&m);
    size_t n = esc_nft_comment(m.f, "ab\"cd", 5);     /* "ab" + \x22 is 6 bytes: stops before */
    char *s = mo_close(&m);
    ck_assert_str_eq(s, "ab");
    ck_assert_uint_eq(n, 2);
    free(s);

    mo_open(&m);
    esc_nft_comment(m.f, "x\"y\\z\n", 100);
    s = mo_close(&m);
    ck_assert_str_eq(s, "x\\x22y\\x5cz\\x0a");
    free(s);

    mo_open(&m);
    esc_ipt_comment(m.f, "a\"b'c%d\\e\xc3\xa9", 100);
    s = mo_close(&m);
    ck_assert_str_eq(s, "a%22b%27c%25d%5Ce%C3%A9");
    free(s);

    mo_open(&m);
    n = esc_ipt_comment(m.f, "aa\"", 4);
    s = mo_close(&m);
    ck_assert_str_eq(s, "aa");
    ck_assert_uint_eq(n, 2);
    free(s);

    mo_open(&m);
    esc_ident(m.f, "seg-web.prod\"; drop", 10);
    s = mo_close(&m);
    ck_assert_str_eq(s, "seg_web_pr");
    free(s);
}
END_TEST

START_TEST(test_utf8_dup)
{
    static const struct { const char *in, *out; } cases[] = {
        {"plain", "plain"},
        {"caf\xc3\xa9", "caf\xc3\xa9"},
        {"caf\xe9", "caf\xef\xbf\xbd"},                         /* latin-1 byte */
        {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},               /* overlong '/' */
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* a surrogate */
        {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* past U+10FFFF */
        {"\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd"},               /* cut at the end */
        {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},               /* an emoji */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *s = esc_utf8_dup(cases[i].in);
        ck_assert_msg(strcmp(s, cases[i].out) == 0, "case %zu", i);
        free(s);
    }
    char *s = esc_utf8_dup(NULL);
    ck_assert_str_eq(s, "");
    free(s);
}
END_TEST

/* ---- risks ---------------------------------------------------------------------- */

/* The id of the worst risk of an edge, or "" if none. */
static const char *
worst(int proto, int port, const char *app, int ci, int si, uint64_t answered)
{
    risk_edge e = { .proto = (uint8_t)proto, .port = (uint16_t)port, .app = app, .client_internal = ci,
                    .server_internal = si, .bytes_s2c = answered };
    int r[RISK_MAX_PER_EDGE];
    int n = risk_classify(&e, r);
    return n ? risk_get(r[0])->id : "";
}

START_TEST(test_risk_classify)
{
    ck_assert_str_eq(worst(6, 23, "Telnet", 1, 1, 10), "telnet");
    ck_assert_str_eq(worst(6, 23, "Unknown", 1, 1, 10), "telnet");
    ck_assert_str_eq(worst(6, 21, "FTP_CONTROL", 1, 1, 10), "ftp");
    ck_assert_str_eq(worst(6, 445, "SMBv1", 1, 1, 10), "smbv1");
    ck_assert_str_eq(worst(6, 22, "SSH", 0, 1, 10), "admin-from-internet");
    ck_assert_str_eq(worst(6, 22, "SSH", 0, 1, 0), "");          /* never answered: a probe */
    ck_assert_str_eq(worst(6, 22, "SSH", 1, 1, 10), "");
    ck_assert_str_eq(worst(6, 2222, "SSH", 1, 1, 10), "unusual-port");
    ck_assert_str_eq(worst(6, 502, "Modbus", 1, 1, 10), "ics");
    ck_assert_str_eq(worst(6, 502, "Modbus", 0, 1, 10), "ics-from-internet");
    ck_assert_str_eq(worst(17, 161, "SNMP", 1, 1, 10), "snmp-community");
    ck_assert_str_eq(worst(6, 80, "HTTP", 1, 1, 10), "http-cleartext");
    ck_assert_str_eq(worst(6, 80, "HTTP", 1, 0, 10), "http-internet");
    ck_assert_str_eq(worst(6, 443, "TLS", 1, 0, 10), "");
    ck_assert_str_eq(worst(17, 389, "LDAP", 1, 1, 10), "");
    ck_assert_str_eq(worst(6, 9999, "Unknown", 1, 1, 10), "unidentified");
    ck_assert_str_eq(worst(6, 9999, "", 1, 1, 0), "");
    ck_assert_str_eq(worst(6, 443, "Tor", 1, 0, 10), "tor");
    /* worst first when there are several */
    risk_edge e = { .proto = 6, .port = 8023, .app = "Telnet", .client_internal = 0, .server_internal = 1,
                    .bytes_s2c = 1 };
    int r[RISK_MAX_PER_EDGE];
    int n = risk_classify(&e, r);
    ck_assert_int_ge(n, 2);
    for (int i = 1; i < n; i++)
        ck_assert_int_ge(risk_get(r[i - 1])->sev, risk_get(r[i])->sev);
    for (int i = 0; i < risk_count(); i++) {
        ck_assert_ptr_nonnull(risk_get(i)->id);
        ck_assert_ptr_nonnull(risk_get(i)->why);
    }
    ck_assert_ptr_null(risk_get(risk_count()));
}
END_TEST

/*
 * nDPI 4.2's ndpi_risk_enum (ndpi_typedefs.h), written out here since only
 * analyzer/dpi.c includes nDPI: the names risk.c looks bits up by must be
 * the library's names of these values.
 */
static const struct { int bit; const char *name; } ndpi42[] = {
    {1, "XSS Attack"}, {2, "SQL Injection"}, {3, "RCE Injection"}, {4, "Binary Application Transfer"},
    {5, "Known Protocol on Non Standard Port"}, {6, "Self-signed Certificate"},
    {7, "Obsolete TLS Version (1.1 or older)"}, {8, "Weak TLS Cipher"}, {9, "TLS Expired Certificate"},
    {10, "TLS Certificate Mismatch"}, {11, "HTTP Suspicious User-Agent"}, {12, "HTTP Numeric IP Address"},
    {13, "HTTP Suspicious URL"}, {14, "HTTP Suspicious Header"}, {15, "TLS (probably) Not Carrying HTTPS"},
    {16, "Suspicious DGA Domain name"}, {17, "Malformed Packet"},
    {18, "SSH Obsolete Client Version/Cipher"}, {19, "SSH Obsolete Server Version/Cipher"},
    {20, "SMB Insecure Version"}, {21, "TLS Suspicious ESNI Usage"}, {22, "Unsafe Protocol"},
    {23, "Suspicious DNS Traffic"}, {24, "Missing SNI TLS Extension"}, {25, "HTTP Suspicious Content"},
    {26, "Risky ASN"}, {27, "Risky Domain Name"}, {28, "Possibly Malicious JA3 Fingerprint"},
    {29, "Possibly Malicious SSL Cert. SHA1 Fingerprint"}, {30, "Desktop/File Sharing Session"},
    {31, "Uncommon TLS ALPN"}, {32, "TLS Certificate Validity Too Long"}, {33, "TLS Suspicious Extension"},
    {34, "TLS Fatal Alert"}, {35, "Suspicious Entropy"}, {36, "Clear-Text Credentials"},
    {37, "DNS Packet Larger Than 512 bytes"}, {38, "Fragmented DNS Message"},
    {39, "Text Contains Non-Printable Characters"}, {40, "Possible Exploit Detected"},
    {41, "TLS Certificate About To Expire"},
};
#define N_NDPI42 (sizeof(ndpi42) / sizeof(ndpi42[0]))

/* The id of the worst risk of an edge with nDPI risk bits, or "". */
static const char *
worst_ndpi(int port, const char *app, uint64_t bits)
{
    risk_edge e = { .proto = 6, .port = (uint16_t)port, .app = app, .client_internal = 1,
                    .server_internal = 1, .bytes_s2c = 10, .ndpi_risk = bits };
    int r[RISK_MAX_PER_EDGE];
    int n = risk_classify(&e, r);
    return n ? risk_get(r[0])->id : "";
}

START_TEST(test_risk_ndpi)
{
    char nm[256];
    uint64_t mapped = 0;
    /* Every entry's name is the linked nDPI's name of one bit, and that bit is nDPI 4.2's value. */
    for (int k = 0; k < risk_ndpi_count(); k++) {
        const char *name;
        int r;
        int bit = risk_ndpi_entry(k, &name, &r);
        ck_assert_msg(bit > 0 && bit < 64, "nDPI has no risk named \"%s\"", name);
        ck_assert_str_eq(dpi_risk_names(1ULL << bit, nm, sizeof(nm)), name);
        ck_assert_ptr_nonnull(risk_get(r));
        size_t i = 0;
        while (i < N_NDPI42 && strcmp(ndpi42[i].name, name) != 0)
            i++;
        ck_assert_msg(i < N_NDPI42, "\"%s\" is not an nDPI 4.2 risk", name);
        ck_assert_int_eq(bit, ndpi42[i].bit);
        ck_assert_msg(!(mapped >> bit & 1), "bit %d mapped twice", bit);
        mapped |= 1ULL << bit;
    }
    ck_assert_int_eq(risk_ndpi_entry(risk_ndpi_count(), NULL, NULL), -1);
    /* ... and every risk the linked nDPI names is mapped (a new one is a decision). */
    for (int b = 0; b < 64; b++)
        if (*dpi_risk_names(1ULL << b, nm, sizeof(nm)))
            ck_assert_msg(mapped >> b & 1, "nDPI risk %d (%s) is not in risk.c's ndpi_map", b, nm);
    ck_assert_uint_eq((uint64_t)__builtin_popcountll(mapped), N_NDPI42);

    /* Findings driven by the bits, on edges whose name and port raise nothing. */
    ck_assert_str_eq(worst_ndpi(443, "TLS", 0), "");
    ck_assert_str_eq(worst_ndpi(443, "TLS", 1ULL << 7), "obsolete-tls");
    ck_assert_str_eq(worst_ndpi(443, "TLS", 1ULL << 8), "weak-tls-cipher");
    ck_assert_str_eq(worst_ndpi(443, "TLS", (1ULL << 7) | (1ULL << 28)), "malicious-ja3");
    ck_assert_str_eq(worst_ndpi(443, "TLS", 1ULL << 29), "malicious-certificate");
    ck_assert_str_eq(worst_ndpi(443, "TLS", 1ULL << 6), "bad-certificate");
    ck_assert_str_eq(worst_ndpi(443, "TLS", 1ULL << 24), "tls-anomaly");
    ck_assert_str_eq(worst_ndpi(22, "SSH", 1ULL << 19), "obsolete-ssh");
    ck_assert_str_eq(worst_ndpi(445, "SMBv23", 1ULL << 20), "smbv1");
    ck_assert_str_eq(worst_ndpi(110, "POP3", (1ULL << 22) | (1ULL << 36)), "cleartext-credentials");
    ck_assert_str_eq(worst_ndpi(80, "HTTP", 1ULL << 2), "web-attack");
    ck_assert_str_eq(worst_ndpi(80, "HTTP", 1ULL << 40), "exploit");
    ck_assert_str_eq(worst_ndpi(80, "HTTP", 1ULL << 4), "binary-transfer");
    ck_assert_str_eq(worst_ndpi(53, "DNS", 1ULL << 16), "dga-domain");
    ck_assert_str_eq(worst_ndpi(443, "TLS", 1ULL << 27), "risky-domain");
    ck_assert_str_eq(worst_ndpi(8080, "HTTP", 1ULL << 5), "http-cleartext");
    ck_assert_str_eq(worst_ndpi(443, "TLS", 1ULL << 5), "unusual-port");
    ck_assert_str_eq(worst_ndpi(443, "TLS", 1ULL << 63), "");   /* a bit nDPI does not name */
    /* Many risks: the worst kept, worst first, each once. */
    risk_edge e = { .proto = 6, .port = 23, .app = "Telnet", .client_internal = 0, .server_internal = 1,
                    .bytes_s2c = 1, .ndpi_risk = ~0ULL };
    int r[RISK_MAX_PER_EDGE];
    int n = risk_classify(&e, r);
    ck_assert_int_eq(n, RISK_MAX_PER_EDGE);
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(risk_get(r[i])->sev, RISK_HIGH);
        for (int j = 0; j < i; j++)
            ck_assert_int_lt(r[j], r[i]);
    }
}
END_TEST

/* ---- tables --------------------------------------------------------------------- */

START_TEST(test_rtable)
{
    static const rt_col cols[] = {
        {"name", "Name", RT_STR, 0}, {"n", "N", RT_INT, RT_H_NUM}, {"l", "L", RT_LIST, 0},
        {"t", "T", RT_TIME, 0}, {"p", "P", RT_PCT, 0},
    };
    rtable *t = rt_create("x", "X", "intro", cols, 5);
    ck_assert_ptr_nonnull(t);
    rt_row(t);
    rt_str(t, "caf\xe9");
    rt_int(t, 7);
    rt_list_begin(t);
    rt_item(t, "a");
    rt_item(t, "b");
    rt_time(t, 1710115251000000000ULL);
    rt_num(t, 0.5);
    rt_row(t);
    rt_str(t, NULL);
    rt_int(t, 9);                   /* the rest of the row left unset */
    ck_assert_uint_eq(rt_nrows(t), 2);
    ck_assert_str_eq(rt_get(t, 0, 0)->s, "caf\xef\xbf\xbd");
    ck_assert_uint_eq(rt_get(t, 0, 2)->n, 2);
    ck_assert_str_eq(rt_get(t, 1, 0)->s, "");
    ck_assert_ptr_null(rt_get(t, 1, 2));
    ck_assert(rt_col_max(t, 1) == 9);
    ck_assert(!rt_oom(t));
    rt_str(t, "too many");          /* a cell of the wrong type is a visible error */
    ck_assert(rt_oom(t));
    rt_free(t);
    rt_free(NULL);

    char b[64];
    ck_assert_str_eq(rt_fmt_int(1234567, b, sizeof(b)), "1,234,567");
    ck_assert_str_eq(rt_fmt_int(12, b, sizeof(b)), "12");
    ck_assert_str_eq(rt_fmt_bytes(999, b, sizeof(b)), "999 B");
    ck_assert_str_eq(rt_fmt_bytes(5700000, b, sizeof(b)), "5.70 MB");
    ck_assert_str_eq(rt_fmt_bytes(22245939, b, sizeof(b)), "22.2 MB");
    ck_assert_str_eq(rt_fmt_time(0, b, sizeof(b)), "-");
    ck_assert_str_eq(rt_fmt_time(1710115251000000000ULL, b, sizeof(b)), "2024-03-11T00:00:51Z");
}
END_TEST

/* ---- a report of a small database ------------------------------------------------- */

static char tmpdir[256];

static graph_addr
ga(const char *s)
{
    graph_addr a;
    uint8_t b[16];
    ck_assert_int_eq(inet_pton(AF_INET, s, b), 1);
    graph_addr_set(&a, b, 4);
    return a;
}

static void
put_node(graph_batch *b, const char *addr, int internal, const char *hostname)
{
    graph_node n;
    graph_addr a = ga(addr);
    graph_node_init(&n, &a);
    n.internal = (uint8_t)internal;
    if (!internal) {
        n.has_geo = 1;
        memcpy(n.geo.country, "US", 3);
        n.geo.asn = 15169;
        snprintf(n.geo.org, sizeof(n.geo.org), "Google LLC");
    }
    n.first_ns = 1710115200000000000ULL;
    n.last_ns = 1710118800000000000ULL;
    n.as_client.flows = 1;
    if (hostname)
        graph_node_add_ident(&n, "dhcp_hostname", hostname, "dhcp", n.first_ns, n.last_ns);
    ck_assert_int_eq(graph_batch_put_node(b, &n), 0);
}

static void
put_edge(graph_batch *b, const char *c, const char *s, int proto, int port, const char *app, uint64_t flows,
         uint64_t risk)
{
    graph_edge e;
    graph_edge_key k;
    memset(&k, 0, sizeof(k));
    k.client = ga(c);
    k.server = ga(s);
    k.proto = (uint8_t)proto;
    k.port = (uint16_t)port;
    snprintf(k.app, sizeof(k.app), "%s", app);
    graph_edge_init(&e, &k);
    e.flows = flows;
    e.pkts[0] = e.pkts[1] = 2 * flows;
    e.bytes[0] = e.bytes[1] = 100 * flows;
    e.first_ns = 1710115200000000000ULL;
    e.last_ns = 1710118800000000000ULL;
    e.risk = risk;
    graph_days_add(&e.days, graph_day(e.first_ns));
    ck_assert_int_eq(graph_batch_put_edge(b, &e), 0);
}

static const char small_policy[] =
    "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\",\n"
    " \"segments\": [{\"id\": \"ws\", \"members\": [\"10.0.0.0/24\"]},\n"
    "              {\"id\": \"db\", \"name\": \"<b>db</b>\", \"members\": [\"10.0.1.1\"]}],\n"
    " \"rules\": [{\"src\": \"ws\", \"dst\": \"db\", \"proto\": \"tcp\", \"ports\": [5432], \"app\": \"PostgreSQL\"},\n"
    "           {\"src\": \"ws\", \"dst\": \"internet\", \"proto\": \"udp\", \"ports\": [53], \"dst_names\": [\"x\\\"y\"]}]}\n";

static void
setup_db(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "%s/check_report.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    char db[300], err[256];
    int code;
    snprintf(db, sizeof(db), "%s/db", tmpdir);
    graph *g = graph_open(db, GRAPH_WRITE, &code, err, sizeof(err));
    ck_assert_msg(g != NULL, "%s", err);
    graph_batch *b = graph_batch_create(g);
    put_node(b, "10.0.0.1", 1, "ws-1");
    put_node(b, "10.0.0.2", 1, NULL);
    put_node(b, "10.0.1.1", 1, "<script>db</script>");
    put_node(b, "8.8.8.8", 0, NULL);
    put_edge(b, "10.0.0.1", "10.0.1.1", 6, 5432, "PostgreSQL", 10, 0);
    put_edge(b, "10.0.0.2", "10.0.1.1", 6, 23, "Telnet", 3, (1ULL << 36) | (1ULL << 22));
    put_edge(b, "10.0.0.1", "8.8.8.8", 17, 53, "DNS", 5, 0);
    ck_assert_int_eq(graph_batch_commit(b, err, sizeof(err)), 0);
    graph_batch_free(b);
    graph_close(g);
    char pol[300];
    snprintf(pol, sizeof(pol), "%s/policy.json", tmpdir);
    FILE *f = fopen(pol, "w");
    ck_assert_ptr_nonnull(f);
    fputs(small_policy, f);
    fclose(f);
}

static void
rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[600];
    if (!d)
        return;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rm_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static report *
build(void)
{
    char db[300], pol[300], err[512];
    int code;
    snprintf(db, sizeof(db), "%s/db", tmpdir);
    snprintf(pol, sizeof(pol), "%s/policy.json", tmpdir);
    report_cfg cfg;
    report_cfg_default(&cfg);
    cfg.db = db;
    cfg.policy_path = pol;
    report *r = report_build(&cfg, &code, err, sizeof(err));
    ck_assert_msg(r != NULL, "report_build: %s", err);
    return r;
}

/* The cell (row, column id) of a table as text. */
static const rt_cell *
cell(const rtable *t, size_t row, const char *col)
{
    for (size_t c = 0; c < rt_ncols(t); c++)
        if (!strcmp(rt_colinfo(t, c)->id, col))
            return rt_get(t, row, c);
    ck_abort_msg("no column %s in %s", col, rt_id(t));
    return NULL;
}

START_TEST(test_report_small)
{
    setup_db();
    report *r = build();
    const report_summary *s = report_get_summary(r);
    ck_assert_uint_eq(s->workloads, 3);           /* 10.0.0.1, 10.0.0.2, 10.0.1.1 */
    ck_assert(s->blast_flat == 2);
    ck_assert(s->blast_policy > 0.66 && s->blast_policy < 0.67); /* (1 + 1 + 0) / 3 */
    ck_assert_uint_eq(s->segments, 2);
    ck_assert_uint_eq(s->rules, 2);
    ck_assert_uint_eq(s->flows_allowed, 15);
    ck_assert_uint_eq(s->flows_denied, 3);        /* the Telnet */
    ck_assert_uint_eq(s->risky[RISK_HIGH], 1);
    ck_assert_uint_eq(s->risky_allowed[RISK_HIGH], 0);
    ck_assert_uint_eq(s->unknown_devices, 1);     /* 10.0.0.2 */
    ck_assert_uint_eq(s->external_peers, 1);
    ck_assert_uint_eq(s->countries, 1);
    const rtable *peers = report_table_find(r, "external_peers");
    ck_assert_uint_eq(rt_nrows(peers), 1);
    ck_assert_str_eq(cell(peers, 0, "country")->s, "US");
    ck_assert_str_eq(cell(peers, 0, "asn")->s, "AS15169");
    ck_assert_str_eq(cell(peers, 0, "org")->s, "Google LLC");
    ck_assert_uint_eq(cell(peers, 0, "flows_out")->u, 5);
    const rtable *unknown = report_table_find(r, "unknown_devices");
    ck_assert_uint_eq(rt_nrows(unknown), 1);
    ck_assert_str_eq(cell(unknown, 0, "addr")->s, "10.0.0.2");

    const rtable *rules = report_table_find(r, "rules");
    ck_assert_uint_eq(rt_nrows(rules), 2);
    ck_assert_uint_eq(cell(rules, 0, "flows")->u, 10);
    ck_assert_uint_eq(cell(rules, 1, "flows")->u, 5);
    ck_assert_uint_eq(cell(rules, 1, "dst_names")->n, 1);
    const rtable *blocked = report_table_find(r, "blocked");
    ck_assert_uint_eq(rt_nrows(blocked), 1);
    ck_assert_str_eq(cell(blocked, 0, "service")->s, "tcp/23");
    const rtable *risky = report_table_find(r, "risky_flows");
    ck_assert_str_eq(cell(risky, 0, "severity")->s, "high");
    ck_assert_str_eq(cell(risky, 0, "policy")->s, "blocked");
    /* the Telnet edge: its name and nDPI's clear-text credentials; nDPI's risks by name, bit order */
    const rt_cell *rk = cell(risky, 0, "risks"), *nd = cell(risky, 0, "ndpi_risks");
    ck_assert_uint_eq(rk->n, 3);
    ck_assert_str_eq(rk->v[0], "Telnet (clear-text login)");
    ck_assert_str_eq(rk->v[1], "Clear-text credentials seen");
    ck_assert_str_eq(rk->v[2], "Protocol nDPI rates unsafe");
    ck_assert_uint_eq(nd->n, 2);
    ck_assert_str_eq(nd->v[0], "Unsafe Protocol");
    ck_assert_str_eq(nd->v[1], "Clear-Text Credentials");
    const rtable *kinds = report_table_find(r, "risks");
    ck_assert_uint_eq(rt_nrows(kinds), 3);
    ck_assert_str_eq(cell(kinds, 1, "risk")->s, "cleartext-credentials");
    const rtable *blast = report_table_find(r, "blast_radius");
    ck_assert_uint_eq(rt_nrows(blast), 3);
    ck_assert_uint_eq(cell(blast, 2, "policy")->u, 0);  /* the database, last */
    const report_map *m = report_get_map(r);
    ck_assert_uint_eq(m->n_nodes, 3);             /* ws, db, internet */
    ck_assert_uint_eq(m->n_edges, 2);

    /* every format, twice: the same bytes */
    for (size_t i = 0; report_formats[i]; i++) {
        const report_format *fmt = report_formats[i];
        if (fmt->multi)
            continue;
        char *out[2];
        for (int k = 0; k < 2; k++) {
            report *rr = k ? build() : r;
            memout mo;
            char err[256];
            mo_open(&mo);
            ck_assert_int_eq(report_write(rr, fmt, mo.f, NULL, err, sizeof(err)), 0);
            out[k] = mo_close(&mo);
            if (k)
                report_free(rr);
        }
        ck_assert_msg(strcmp(out[0], out[1]) == 0, "format %s differs between runs", fmt->name);
        /* JSON keeps names as they are (json-c escapes what JSON needs); the others must not */
        if (fmt != &report_fmt_json)
            ck_assert_msg(strstr(out[0], "<script>") == NULL, "format %s has a raw <script>", fmt->name);
        free(out[0]);
        free(out[1]);
    }
    /* csv: one file per table */
    char dir[300], path[400], err[256];
    snprintf(dir, sizeof(dir), "%s/csv/", tmpdir);
    ck_assert_int_eq(report_write(r, &report_fmt_csv, NULL, dir, err, sizeof(err)), 0);
    snprintf(path, sizeof(path), "%s/csv/risky_flows.csv", tmpdir);
    ck_assert_int_eq(access(path, R_OK), 0);
    snprintf(path, sizeof(path), "%s/pre.csv", tmpdir);
    ck_assert_int_eq(report_write(r, &report_fmt_csv, NULL, path, err, sizeof(err)), 0);
    snprintf(path, sizeof(path), "%s/pre-summary.csv", tmpdir);
    ck_assert_int_eq(access(path, R_OK), 0);
    ck_assert_int_lt(report_write(r, &report_fmt_csv, NULL, "-", err, sizeof(err)), 0);
    report_free(r);
    report_free(NULL);
    rm_tree(tmpdir);
}
END_TEST

START_TEST(test_report_errors)
{
    report_cfg cfg;
    char err[512];
    int code;
    report_cfg_default(&cfg);
    cfg.db = "/nonexistent/segscope-db";
    ck_assert_ptr_null(report_build(&cfg, &code, err, sizeof(err)));
    ck_assert_int_eq(code, 3);
    setup_db();
    char db[300], pol[300];
    snprintf(db, sizeof(db), "%s/db", tmpdir);
    snprintf(pol, sizeof(pol), "%s/missing.json", tmpdir);
    cfg.db = db;
    cfg.policy_path = pol;
    ck_assert_ptr_null(report_build(&cfg, &code, err, sizeof(err)));
    ck_assert_int_eq(code, 3);
    ck_assert(strstr(err, "missing.json") != NULL);
    rm_tree(tmpdir);
    ck_assert_ptr_eq(report_find_format("html"), &report_fmt_html);
    ck_assert_ptr_eq(report_format_for_path("a/b.report.md"), &report_fmt_md);
    ck_assert_ptr_null(report_format_for_path("a.d/report"));
    ck_assert_ptr_null(report_find_format("pdf"));
}
END_TEST

START_TEST(test_layout)
{
    static const char dot[] = "digraph { a [label=<x &lt;script&gt;>]; a -> b [label=\"l\"]; }";
    char err[256];
    size_t len = 0;
    char *svg = layout_svg(dot, strlen(dot), "dot", &len, err, sizeof(err));
    if (!svg) {
        /* Graphviz without its plugins: the report says so instead of a map */
        ck_assert(strstr(err, "Graphviz") != NULL);
        return;
    }
    ck_assert(strncmp(svg, "<svg", 4) == 0);
    ck_assert(strstr(svg, "<script") == NULL);
    ck_assert(strstr(svg, "<!--") == NULL);
    ck_assert_uint_eq(strlen(svg), len);
    free(svg);
    ck_assert_ptr_null(layout_svg("digraph {", 9, "dot", &len, err, sizeof(err)));
}
END_TEST

/* ---- exports -------------------------------------------------------------------- */

static char *
export_to_string(const export_format *f, const export_policy *x)
{
    memout m;
    mo_open(&m);
    ck_assert_int_eq(f->write(m.f, x), 0);
    return mo_close(&m);
}

START_TEST(test_export)
{
    char err[512];
    export_policy *x = export_parse(small_policy, strlen(small_policy), "t.json", err, sizeof(err));
    ck_assert_msg(x != NULL, "%s", err);
    char *nft = export_to_string(&export_fmt_nft, x);
    ck_assert(strstr(nft, "table inet segscope {") != NULL);
    ck_assert(strstr(nft, "policy drop;") != NULL);
    ck_assert(strstr(nft, "ct state established,related accept") != NULL);
    ck_assert(strstr(nft, "set seg1_ws_v4 { type ipv4_addr; flags interval; auto-merge; elements = { 10.0.0.0/24 } }"));
    ck_assert(strstr(nft, "ip saddr @seg1_ws_v4 ip daddr @seg2_db_v4 tcp dport { 5432 } accept comment "
                          "\"R1: ws -> db tcp/5432 PostgreSQL\""));
    ck_assert(strstr(nft, "ip saddr @seg1_ws_v4 ip daddr != @private4 ip daddr != @segments4 udp dport { 53 }"));
    ck_assert(strstr(nft, "# destination names seen: x\\x22y") != NULL);
    ck_assert(strstr(nft, "ip6 ") == NULL);       /* no IPv6 members: no IPv6 rules */
    char *ipt = export_to_string(&export_fmt_ipt, x);
    ck_assert(strstr(ipt, "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n") != NULL);
    ck_assert(strstr(ipt, "-A SEGSCOPE -s 10.0.0.0/24 -j SS-S1\n") != NULL);
    ck_assert(strstr(ipt, "-A SS-S1 -d 10.0.1.1 -p tcp --dport 5432  -m comment --comment "
                          "\"R1: ws -> db tcp/5432 PostgreSQL\" -j ACCEPT\n") != NULL);
    ck_assert(strstr(ipt, "-A SS-I2 -d 10.0.0.0/8 -j RETURN\n") != NULL);
    ck_assert(strstr(ipt, "-A SS-I2 -d 10.0.1.1 -j RETURN\n") != NULL);
    ck_assert(strstr(ipt, "COMMIT\n") != NULL);
    char *js = export_to_string(&export_fmt_json, x);
    export_policy *y = export_parse(js, strlen(js), "normalised", err, sizeof(err));
    ck_assert_msg(y != NULL, "normalised JSON does not validate: %s", err);
    char *js2 = export_to_string(&export_fmt_json, y);
    ck_assert_str_eq(js, js2);                    /* normalising is idempotent */
    free(nft);
    free(ipt);
    free(js);
    free(js2);
    export_free(x);
    export_free(y);
    export_free(NULL);
    ck_assert_ptr_null(export_parse("{}", 2, "bad.json", err, sizeof(err)));
    ck_assert(strstr(err, "bad.json") != NULL);
    ck_assert_ptr_eq(export_find_format("nft"), &export_fmt_nft);
    ck_assert_ptr_null(export_find_format("pf"));
}
END_TEST

Suite *
suite_report(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("report");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_esc_bounded);
    tcase_add_test(tc, test_utf8_dup);
    tcase_add_test(tc, test_risk_classify);
    tcase_add_test(tc, test_risk_ndpi);
    tcase_add_test(tc, test_rtable);
    tcase_add_test(tc, test_report_small);
    tcase_add_test(tc, test_report_errors);
    tcase_add_test(tc, test_layout);
    tcase_add_test(tc, test_export);
    suite_add_tcase(s, tc);
    return s;
}
