/*
 * check_recommend.c - the recommender: policy parsing (valid and each
 * invalid case), rule matching, CIDR member generation, name tokens and
 * segment naming, rule support, blast radius.  Models are built here by
 * hand, so these tests do not depend on captures.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recommender/blast.h"
#include "recommender/cidr.h"
#include "recommender/model.h"
#include "recommender/policy.h"
#include "recommender/rules.h"
#include "recommender/segment.h"
#include "tests/suites.h"

static const char valid_doc[] =
    "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"extra\": {\"x\": 1},\n"
    " \"segments\": [\n"
    "  {\"id\": \"web\", \"name\": \"web tier\", \"members\": [\"10.1.2.0/28\", \"10.1.3.7\"]},\n"
    "  {\"id\": \"db\", \"members\": [\" 10.1.9.0/24 \", \"fd00::5\"]},\n"
    "  {\"id\": \"empty\", \"members\": []}],\n"
    " \"rules\": [\n"
    "  {\"src\": \"web\", \"dst\": \"db\", \"proto\": \"tcp\", \"ports\": [5432, [6000, 6010], 6011], \"app\": \"PostgreSQL\"},\n"
    "  {\"src\": \"internet\", \"dst\": \"web\", \"proto\": \"tcp\", \"ports\": [443]},\n"
    "  {\"src\": \"any\", \"dst\": \"db\", \"proto\": \"icmp\", \"ports\": [8]},\n"
    "  {\"src\": \"cidr:192.168.0.0/16\", \"dst\": \"web\", \"proto\": \"any\"},\n"
    "  {\"src\": \"web\", \"dst\": \"internet\", \"proto\": \"udp\", \"ports\": [], \"app\": null, \"dst_names\": [\"a.example\"]}],\n"
    " \"review\": []}\n";

static policy *
load_valid(void)
{
    char err[512];
    policy *p = policy_parse(valid_doc, strlen(valid_doc), "t.json", err, sizeof(err));
    ck_assert_msg(p != NULL, "valid policy rejected: %s", err);
    return p;
}

START_TEST(test_policy_valid)
{
    policy *p = load_valid();
    ck_assert_int_eq(policy_n_segments(p), 3);
    ck_assert_int_eq(policy_n_rules(p), 5);
    ck_assert_str_eq(policy_segment_id(p, 0), "web");
    ck_assert_str_eq(policy_segment_name(p, 0), "web tier");
    ck_assert_str_eq(policy_segment_name(p, 1), "");
    const policy_rule *r = policy_rule_get(p, 0);
    ck_assert_int_eq(r->proto, POLICY_TCP);
    ck_assert_int_eq(r->n_ports, 2);            /* 6000-6010 and 6011 merged */
    ck_assert_int_eq(r->ports[1][0], 6000);
    ck_assert_int_eq(r->ports[1][1], 6011);
    ck_assert_str_eq(r->app, "PostgreSQL");
    ck_assert_int_eq(policy_rule_get(p, 4)->n_ports, 0);
    ck_assert_int_eq(policy_rule_get(p, 3)->src.kind, POLICY_REF_CIDR);
    policy_free(p);
    policy_free(NULL);
}
END_TEST

/* Each invalid document and a piece of the one-line error it must give. */
static const struct {
    const char *doc;
    const char *msg;
} invalid[] = {
    { "", "not valid JSON" },
    { "{\"schema\": ", "not valid JSON" },
    { "[]", "top level must be a JSON object" },
    { "{\"schema\": \"segscope.policy/v2\", \"default\": \"deny\", \"segments\": [], \"rules\": []}", "\"schema\"" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"allow\", \"segments\": [], \"rules\": []}", "\"default\"" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"rules\": []}", "\"segments\" must be a list" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"segments\": []}", "\"rules\" must be a list" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"segments\": [1], \"rules\": []}",
      "segments[0] must be an object" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"segments\": [{\"id\": \" \", \"members\": []}], \"rules\": []}",
      "non-empty string" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"segments\": [{\"id\": \"any\", \"members\": []}], \"rules\": []}",
      "reserved" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"segments\": [{\"id\": \"cidr:x\", \"members\": []}], \"rules\": []}",
      "reserved" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"segments\": [{\"id\": \"a\", \"members\": []}, "
      "{\"id\": \"a\", \"members\": []}], \"rules\": []}", "duplicate segment id 'a'" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"segments\": [{\"id\": \"a\", \"name\": 5, \"members\": []}], \"rules\": []}",
      "\"name\" must be a string" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"segments\": [{\"id\": \"a\"}], \"rules\": []}",
      "\"members\" must be a list" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"segments\": [{\"id\": \"a\", \"members\": [\"10.1.2.3/28\"]}], \"rules\": []}",
      "members[0]: '10.1.2.3/28'" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"segments\": [{\"id\": \"a\", \"members\": [\"10.0.0.0/33\"]}], \"rules\": []}",
      "members[0]" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"segments\": [{\"id\": \"a\", \"members\": [7]}], \"rules\": []}",
      "expected a string" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"segments\": [{\"id\": \"a\", \"members\": [\"10.0.0.0/24\"]}, "
      "{\"id\": \"b\", \"members\": [\"10.0.0.128/25\"]}], \"rules\": []}", "overlap" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"segments\": [], \"rules\": [3]}",
      "rules[0] must be an object" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"segments\": [], \"rules\": [{\"src\": \"nope\", \"dst\": \"any\", \"proto\": \"tcp\"}]}",
      "unknown segment 'nope'" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"segments\": [], \"rules\": [{\"src\": \"any\", \"proto\": \"tcp\"}]}",
      "rules[0].dst" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"segments\": [], \"rules\": [{\"src\": \"cidr:10.0.0.1/8\", \"dst\": \"any\", \"proto\": \"tcp\"}]}",
      "rules[0].src" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"segments\": [], \"rules\": [{\"src\": \"any\", \"dst\": \"any\", \"proto\": \"sctp\"}]}",
      "\"proto\" must be one of" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"segments\": [], \"rules\": [{\"src\": \"any\", \"dst\": \"any\", \"proto\": \"tcp\", \"ports\": 80}]}",
      "\"ports\" must be a list" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"segments\": [], \"rules\": [{\"src\": \"any\", \"dst\": \"any\", \"proto\": \"tcp\", \"ports\": [true]}]}",
      "ports[0] must be an integer" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"segments\": [], \"rules\": [{\"src\": \"any\", \"dst\": \"any\", \"proto\": \"tcp\", \"ports\": [80.0]}]}",
      "ports[0] must be an integer" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"segments\": [], \"rules\": [{\"src\": \"any\", \"dst\": \"any\", \"proto\": \"tcp\", \"ports\": [[90, 80]]}]}",
      "lo > hi" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"segments\": [], \"rules\": [{\"src\": \"any\", \"dst\": \"any\", \"proto\": \"tcp\", \"ports\": [65536]}]}",
      "outside 0-65535" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"segments\": [], \"rules\": [{\"src\": \"any\", \"dst\": \"any\", \"proto\": \"tcp\", \"app\": 1}]}",
      "\"app\" must be a string" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"segments\": [], \"rules\": []} x", "extra data" },
    { "{\"schema\": \"segscope.policy/v1\", \"default\": \"deny\", \"segments\": [{\"id\": \"a\\nb\", \"members\": []}, "
      "{\"id\": \"a\\nb\", \"members\": []}], \"rules\": []}", "duplicate segment id 'a?b'" },
};

START_TEST(test_policy_invalid)
{
    char err[512];
    err[0] = 0;
    policy *p = policy_parse(invalid[_i].doc, strlen(invalid[_i].doc), "bad.json", err, sizeof(err));
    ck_assert_msg(p == NULL, "case %d accepted", _i);
    ck_assert_msg(strncmp(err, "bad.json: ", 10) == 0, "case %d: message does not name the file: %s", _i, err);
    ck_assert_msg(strstr(err, invalid[_i].msg) != NULL, "case %d: '%s' lacks '%s'", _i, err, invalid[_i].msg);
    ck_assert_msg(strchr(err, '\n') == NULL, "case %d: message is not one line", _i);
}
END_TEST

START_TEST(test_policy_load_missing)
{
    char err[512];
    ck_assert_ptr_null(policy_load("/nonexistent/p.json", err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/p.json: cannot open"));
}
END_TEST

static int
allows(const policy *p, const char *src, const char *dst, int proto, int port)
{
    uint8_t a[16] = {0}, b[16] = {0};
    int va = strchr(src, ':') ? 6 : 4, vb = strchr(dst, ':') ? 6 : 4;
    inet_pton(va == 4 ? AF_INET : AF_INET6, src, a);
    inet_pton(vb == 4 ? AF_INET : AF_INET6, dst, b);
    return policy_allows(p, a, va, b, vb, proto, port);
}

START_TEST(test_rule_matching)
{
    policy *p = load_valid();
    uint8_t a[16] = {0};
    inet_pton(AF_INET, "10.1.2.15", a);
    ck_assert_int_eq(policy_segment_of(p, a, 4), 0);
    inet_pton(AF_INET, "10.1.2.16", a);
    ck_assert_int_eq(policy_segment_of(p, a, 4), -1);
    ck_assert_int_eq(allows(p, "10.1.2.3", "10.1.9.200", 6, 5432), 0);
    ck_assert_int_eq(allows(p, "10.1.2.3", "10.1.9.200", 6, 6005), 0);
    ck_assert_int_eq(allows(p, "10.1.2.3", "10.1.9.200", 6, 6012), -1);
    ck_assert_int_eq(allows(p, "10.1.2.3", "10.1.9.200", 17, 5432), -1);    /* wrong protocol */
    ck_assert_int_eq(allows(p, "10.1.9.200", "10.1.2.3", 6, 5432), -1);     /* wrong direction */
    ck_assert_int_eq(allows(p, "10.1.2.3", "fd00::5", 6, 5432), 0);
    /* internet: not private, not in a segment */
    ck_assert_int_eq(allows(p, "8.8.8.8", "10.1.3.7", 6, 443), 1);
    ck_assert_int_eq(allows(p, "10.9.9.9", "10.1.3.7", 6, 443), -1);        /* private, no segment */
    ck_assert_int_eq(allows(p, "fd12::1", "10.1.3.7", 6, 443), -1);         /* ULA */
    /* icmp ignores ports; any matches everything */
    ck_assert_int_eq(allows(p, "10.9.9.9", "10.1.9.1", 1, 0), 2);
    ck_assert_int_eq(allows(p, "10.9.9.9", "fd00::5", 58, 0), 2);
    /* cidr: and proto any */
    ck_assert_int_eq(allows(p, "192.168.4.4", "10.1.2.1", 132, 9), 3);
    ck_assert_int_eq(allows(p, "192.168.4.4", "10.1.2.1", 17, 53), 3);
    /* egress with any port */
    ck_assert_int_eq(allows(p, "10.1.2.1", "1.1.1.1", 17, 53), 4);
    ck_assert_int_eq(allows(p, "10.1.2.1", "10.1.9.1", 17, 53), -1);        /* a segment is not internet */
    policy_free(p);
}
END_TEST

/* ---- CIDR members ----------------------------------------------------------- */

static cidr_addr
ca(const char *s, int owner)
{
    cidr_addr x;
    memset(&x, 0, sizeof(x));
    x.ipv = strchr(s, ':') ? 6 : 4;
    inet_pton(x.ipv == 4 ? AF_INET : AF_INET6, s, x.addr);
    x.owner = owner;
    return x;
}

static int
has_block(const cidr_block *b, long n, const char *want, int owner)
{
    char buf[64];
    for (long i = 0; i < n; i++)
        if (strcmp(policy_prefix_str(&b[i].pfx, buf, sizeof(buf)), want) == 0 && b[i].owner == owner)
            return 1;
    return 0;
}

START_TEST(test_cidr_blocks)
{
    cidr_cfg cfg;
    cidr_cfg_default(&cfg);
    cfg.pool_min = 0;
    /* two servers of one segment alone in their /24: one supported /26 */
    cidr_addr a1[] = { ca("10.0.1.10", 0), ca("10.0.1.11", 0) };
    cidr_block *b = NULL;
    long n = cidr_blocks(a1, 2, &cfg, &b);
    ck_assert_int_eq(n, 1);
    ck_assert(has_block(b, n, "10.0.1.0/26", 0));
    free(b);
    /* a host of another segment in between: blocks go around it, never over it */
    cidr_addr a2[] = { ca("10.0.2.10", 0), ca("10.0.2.11", 1), ca("10.0.2.12", 0), ca("10.0.2.13", 0) };
    n = cidr_blocks(a2, 4, &cfg, &b);
    ck_assert_int_gt(n, 1);
    ck_assert(has_block(b, n, "10.0.2.11", 1));
    for (long i = 0; i < n; i++) {
        uint8_t x[16] = {0};
        inet_pton(AF_INET, "10.0.2.11", x);
        if (b[i].owner == 0)
            ck_assert(!policy_prefix_contains(&b[i].pfx, x, 4));
    }
    free(b);
    /* owner -1 is never covered; a block never spans two /24s */
    cidr_addr a3[] = { ca("10.0.3.1", 2), ca("10.0.3.2", -1), ca("10.0.4.1", 2) };
    n = cidr_blocks(a3, 3, &cfg, &b);
    ck_assert(has_block(b, n, "10.0.3.0/31", 2));
    ck_assert(has_block(b, n, "10.0.4.0/26", 2));
    for (long i = 0; i < n; i++) {
        uint8_t x[16] = {0};
        inet_pton(AF_INET, "10.0.3.2", x);
        ck_assert(!policy_prefix_contains(&b[i].pfx, x, 4));
    }
    free(b);
    /* a pool: the dominant segment of a /24 also gets its empty parts */
    cidr_cfg_default(&cfg);
    cidr_addr a4[20];
    char ip[32];
    for (int i = 0; i < 19; i++) {
        snprintf(ip, sizeof(ip), "10.0.5.%d", 10 + i);
        a4[i] = ca(ip, 3);
    }
    a4[19] = ca("10.0.5.30", 4);
    a4[12] = ca("10.0.5.99", 3);
    n = cidr_blocks(a4, 20, &cfg, &b);
    ck_assert(has_block(b, n, "10.0.5.128/25", 3));
    ck_assert(has_block(b, n, "10.0.5.30/31", 4));
    free(b);
    /* exact: one address each */
    cfg.exact = 1;
    cidr_addr a5[] = { ca("fd00::1", 0), ca("fd00::2", 0) };
    n = cidr_blocks(a5, 2, &cfg, &b);
    ck_assert_int_eq(n, 2);
    ck_assert(has_block(b, n, "fd00::1", 0));
    free(b);
}
END_TEST

/* ---- names ------------------------------------------------------------------- */

START_TEST(test_name_tokens)
{
    char t[8][32];
    ck_assert_int_eq(seg_name_tokens("web-payroll-prod-01.corp.example", t, 8), 3);
    ck_assert_str_eq(t[0], "web");
    ck_assert_str_eq(t[1], "payroll");
    ck_assert_str_eq(t[2], "prod");
    ck_assert_int_eq(seg_name_tokens("WS-0042$", t, 8), 1);
    ck_assert_str_eq(t[0], "ws");
    ck_assert_int_eq(seg_name_tokens("shop_app_p01", t, 8), 3);
    ck_assert_str_eq(t[2], "p");
    ck_assert_int_eq(seg_name_tokens("12345", t, 8), 0);
    ck_assert_int_eq(seg_name_tokens("", t, 8), 0);
}
END_TEST

/* ---- a small network, built by hand ------------------------------------------ */

static uint32_t
host(model *m, const char *ip, const char *name)
{
    uint8_t a[16];
    int v;
    ck_assert_int_eq(model_addr_parse(ip, a, &v), 0);
    uint32_t h = model_host_add(m, a, v);
    if (name)
        model_host_name(m, h, "dhcp_hostname", name);
    return h;
}

static void
edge(model *m, uint32_t c, uint32_t s, int proto, int port, const char *app, uint64_t flows)
{
    model_edge e;
    memset(&e, 0, sizeof(e));
    e.client = c;
    e.server = s;
    e.proto = (uint8_t)proto;
    e.port = (uint16_t)port;
    e.app = model_intern(m, app);
    e.flows = flows;
    e.pkts[0] = e.pkts[1] = 3 * flows;
    e.bytes[0] = e.bytes[1] = 300 * flows;
    e.first_ns = 1710115200000000000ULL;
    e.last_ns = e.first_ns + 3600000000000ULL;
    e.days = 1;
    ck_assert_int_eq(model_edge_add(m, &e), 0);
}

/*
 * 6 workstations, 2 web servers, 1 database, 1 DNS server, 1 admin host,
 * and the Internet.  Workstations browse the web tier and the Internet;
 * the web tier queries the database; everybody uses DNS; the admin host
 * SSHes once into the database, and once a workstation copies a file
 * from another one over SMB.
 */
static model *
small_net(uint32_t *ws, uint32_t *web, uint32_t *db, uint32_t *dns, uint32_t *adm, uint32_t *inet)
{
    model *m = model_create();
    char ip[32], nm[32];
    for (int i = 0; i < 6; i++) {
        snprintf(ip, sizeof(ip), "10.0.1.%d", 10 + i);
        snprintf(nm, sizeof(nm), "WS-%04d", i + 1);
        ws[i] = host(m, ip, nm);
    }
    web[0] = host(m, "10.0.2.10", "shop-web-p01");
    web[1] = host(m, "10.0.2.11", "shop-web-p02");
    *db = host(m, "10.0.3.10", "shop-db-p01");
    *dns = host(m, "10.0.4.10", "ns01");
    *adm = host(m, "10.0.5.10", "adm01");
    *inet = host(m, "93.184.216.34", NULL);
    model_host_name(m, *inet, "sni", "www.example.com");
    for (int i = 0; i < 6; i++) {
        edge(m, ws[i], web[i % 2], 6, 443, "TLS", 5);
        edge(m, ws[i], *inet, 6, 443, "TLS", 3);
        edge(m, ws[i], *dns, 17, 53, "DNS", 20);
    }
    for (int i = 0; i < 2; i++) {
        edge(m, web[i], *db, 6, 5432, "PostgreSQL", 40);
        edge(m, web[i], *dns, 17, 53, "DNS", 10);
    }
    edge(m, *db, *dns, 17, 53, "DNS", 4);
    edge(m, *adm, *dns, 17, 53, "DNS", 4);
    edge(m, *adm, web[0], 6, 22, "SSH", 3);
    edge(m, *adm, web[1], 6, 22, "SSH", 3);
    edge(m, *adm, *dns, 6, 22, "SSH", 3);
    edge(m, *adm, *db, 6, 22, "SSH", 1);         /* once, but the admin does SSH elsewhere */
    edge(m, ws[0], ws[1], 6, 445, "SMBv23", 1);  /* once, workstation to workstation */
    edge(m, *inet, web[0], 6, 443, "TLS", 30);
    ck_assert_int_eq(model_finish(m), 0);
    return m;
}

START_TEST(test_segments_and_names)
{
    uint32_t ws[6], web[2], db, dns, adm, inet;
    model *m = small_net(ws, web, &db, &dns, &adm, &inet);
    segmentation *s = seg_build(m, NULL);
    ck_assert_ptr_nonnull(s);
    for (int i = 1; i < 6; i++)
        ck_assert_uint_eq(seg_of(s, ws[i]), seg_of(s, ws[0]));
    ck_assert_uint_eq(seg_of(s, web[0]), seg_of(s, web[1]));
    ck_assert_uint_ne(seg_of(s, web[0]), seg_of(s, ws[0]));
    ck_assert_uint_ne(seg_of(s, db), seg_of(s, web[0]));
    ck_assert_uint_ne(seg_of(s, dns), seg_of(s, db));
    ck_assert_uint_eq(seg_of(s, inet), SEG_NONE);
    ck_assert_str_eq(seg_name(s, seg_of(s, ws[0])), "ws");
    ck_assert_str_eq(seg_name(s, seg_of(s, web[0])), "shop-web-p");
    ck_assert_str_eq(seg_id(s, seg_of(s, web[0])), "seg-shop-web-p");
    ck_assert(seg_flags(s, seg_of(s, web[0])) & SEG_F_INTERNET_IN);
    ck_assert(seg_flags(s, seg_of(s, ws[0])) & SEG_F_CLIENTS);
    /* workstations own the supported block around them, so a new one at .40 falls in */
    uint32_t nb;
    const cidr_block *b = seg_blocks(s, seg_of(s, ws[0]), &nb);
    uint8_t x[16] = {0};
    inet_pton(AF_INET, "10.0.1.40", x);
    int in = 0;
    for (uint32_t i = 0; i < nb; i++)
        in |= policy_prefix_contains(&b[i].pfx, x, 4);
    ck_assert(in);
    ck_assert(seg_host_conf(s, ws[0]) > 0.5);
    ck_assert(strlen(seg_why(s, seg_of(s, ws[0]))) > 10);
    /* without names the service names them */
    seg_cfg cfg;
    seg_cfg_default(&cfg);
    cfg.use_names = 0;
    segmentation *s2 = seg_build(m, &cfg);
    ck_assert_str_eq(seg_name(s2, seg_of(s2, db)), "postgres-servers");
    ck_assert_str_eq(seg_name(s2, seg_of(s2, dns)), "dns-servers");
    seg_free(s2);
    seg_free(s);
    model_free(m);
}
END_TEST

START_TEST(test_labels_win)
{
    uint32_t ws[6], web[2], db, dns, adm, inet;
    model *m = small_net(ws, web, &db, &dns, &adm, &inet);
    model_host_label(m, ws[0], "role", "kiosk");
    model_host_label(m, ws[1], "role", "kiosk");
    model_host_label(m, db, "crown_jewel", "true");
    ck_assert_int_eq(model_finish(m), 0);
    segmentation *s = seg_build(m, NULL);
    ck_assert_uint_eq(seg_of(s, ws[0]), seg_of(s, ws[1]));
    ck_assert_uint_ne(seg_of(s, ws[0]), seg_of(s, ws[2]));
    ck_assert_str_eq(seg_name(s, seg_of(s, ws[0])), "kiosk");
    ck_assert(seg_flags(s, seg_of(s, ws[0])) & SEG_F_LABELLED);
    ck_assert(seg_flags(s, seg_of(s, db)) & SEG_F_CROWN);
    seg_free(s);
    model_free(m);
}
END_TEST

static const rule *
find_rule(const rules *r, uint32_t src, uint32_t dst, int proto, int port)
{
    for (uint32_t i = 0; i < rules_count(r); i++) {
        const rule *x = rules_get(r, i);
        if (x->src == src && x->dst == dst && x->proto == proto && port >= x->lo && port <= x->hi)
            return x;
    }
    return NULL;
}

START_TEST(test_rules_support)
{
    uint32_t ws[6], web[2], db, dns, adm, inet;
    model *m = small_net(ws, web, &db, &dns, &adm, &inet);
    segmentation *s = seg_build(m, NULL);
    rules *r = rules_build(m, s, NULL);
    uint32_t sws = seg_of(s, ws[0]), sweb = seg_of(s, web[0]), sdb = seg_of(s, db), sdns = seg_of(s, dns),
             sadm = seg_of(s, adm);
    const rule *x = find_rule(r, sweb, sdb, 6, 5432);
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(x->basis, RULE_SEEN);
    ck_assert_uint_eq(x->ev.flows, 80);
    ck_assert_uint_eq(x->ev.pairs, 2);
    ck_assert_ptr_nonnull(find_rule(r, sws, sdns, 17, 53));
    ck_assert_ptr_nonnull(find_rule(r, RULE_INTERNET, sweb, 6, 443));
    x = find_rule(r, sws, RULE_INTERNET, 6, 443);
    ck_assert_ptr_nonnull(x);
    ck_assert_uint_eq(x->n_names, 1);
    ck_assert_str_eq(model_str(m, x->names[0]), "www.example.com");
    /* nothing the traffic did not show */
    ck_assert_ptr_null(find_rule(r, sws, sdb, 6, 5432));
    ck_assert_ptr_null(find_rule(r, RULE_INTERNET, sdb, 6, 443));
    /* one SMB flow between two workstations: review, not a rule */
    ck_assert_ptr_null(find_rule(r, sws, sws, 6, 445));
    int reviewed = 0;
    for (uint32_t i = 0; i < rules_review_count(r); i++) {
        const review *v = rules_review_get(r, i);
        if (v->src == sws && v->dst == sws && v->port == 445 && v->reason == REVIEW_RARE)
            reviewed = 1;
    }
    ck_assert(reviewed);
    /* one SSH flow to the database, corroborated by the admin's SSH habit */
    x = find_rule(r, sadm, sdb, 6, 22);
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(x->basis, RULE_CORROBORATED);
    rules_free(r);
    /* --min-support 1: every flow becomes a rule */
    rules_cfg rc;
    rules_cfg_default(&rc);
    rc.min_support = 1;
    r = rules_build(m, s, &rc);
    ck_assert_ptr_nonnull(find_rule(r, sws, sws, 6, 445));
    /* blast radius: the policy reaches fewer hosts than a flat network */
    blast *b = blast_compute(m, s, r, 10);
    const blast_summary *bs = blast_get_summary(b);
    ck_assert_uint_eq(bs->hosts, 11);
    ck_assert(bs->flat == 10.0);
    ck_assert(bs->policy < bs->flat);
    ck_assert(bs->reduction > 0);
    ck_assert_uint_eq(bs->exposed_segments, 1);
    blast_free(b);
    rules_free(r);
    seg_free(s);
    model_free(m);
}
END_TEST

START_TEST(test_dynamic_port_range)
{
    model *m = model_create();
    uint32_t a = host(m, "10.0.0.1", "dc01"), b = host(m, "10.0.0.2", "dc02");
    for (int i = 0; i < 6; i++)
        edge(m, a, b, 6, 49700 + 13 * i, "DCE_RPC", 2);
    edge(m, a, b, 6, 135, "DCE_RPC", 5);
    ck_assert_int_eq(model_finish(m), 0);
    segmentation *s = seg_build(m, NULL);
    rules *r = rules_build(m, s, NULL);
    const rule *x = find_rule(r, seg_of(s, a), seg_of(s, b), 6, 60000);
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(x->lo, 49152);
    ck_assert_int_eq(x->hi, 65535);
    ck_assert_uint_eq(x->n_ports_seen, 6);
    ck_assert_ptr_nonnull(find_rule(r, seg_of(s, a), seg_of(s, b), 6, 135));
    ck_assert(rules_lateral(6, 49152, 65535));
    ck_assert(!rules_lateral(6, 443, 443));
    rules_free(r);
    seg_free(s);
    model_free(m);
}
END_TEST

Suite *
suite_recommend(void)
{
    Suite *s = suite_create("recommend");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_policy_valid);
    tcase_add_loop_test(tc, test_policy_invalid, 0, (int)(sizeof(invalid) / sizeof(invalid[0])));
    tcase_add_test(tc, test_policy_load_missing);
    tcase_add_test(tc, test_rule_matching);
    tcase_add_test(tc, test_cidr_blocks);
    tcase_add_test(tc, test_name_tokens);
    tcase_add_test(tc, test_segments_and_names);
    tcase_add_test(tc, test_labels_win);
    tcase_add_test(tc, test_rules_support);
    tcase_add_test(tc, test_dynamic_port_range);
    suite_add_tcase(s, tc);
    return s;
}
