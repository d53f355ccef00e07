/*
 * check_graph.c - the workload graph: record encoding round trips,
 * corrupt records (every truncation, bad version, bad fields, random
 * bytes), day counting, merges, the RocksDB store (accumulation, schema
 * refusal, foreign directories, the writer lock, corrupt records skipped)
 * and the aggregator (flows folded, forced flushes; shards folded by two
 * threads give the database one thread gives; reads skipped for keys a
 * run never wrote into a database without records, and only then).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/graph.h"
#include "analyzer/graphagg.h"
#include "analyzer/graphrec.h"
#include "capture/engine.h"
#include "tests/suites.h"

#define DAY_NS 86400000000000ULL

static graph_addr
ga(const char *s)
{
    graph_addr a;
    uint8_t b[16];
    if (inet_pton(AF_INET, s, b) == 1) {
        graph_addr_set(&a, b, 4);
    } else {
        ck_assert_int_eq(inet_pton(AF_INET6, s, b), 1);
        graph_addr_set(&a, b, 6);
    }
    return a;
}

/* A node with every field used. */
static void
full_node(graph_node *n, const char *addr)
{
    graph_addr a = ga(addr);
    static const uint8_t mac1[6] = { 0, 0x50, 0x56, 1, 2, 3 }, mac2[6] = { 0, 0x50, 0x56, 4, 5, 6 };
    graph_node_init(n, &a);
    n->internal = 1;
    n->first_ns = 1710115251890031000ULL;
    n->last_ns = 1710115257801784000ULL;
    n->as_client = (graph_counts){ 3, 40, 12345 };
    n->as_server = (graph_counts){ 1, 7, UINT64_MAX / 3 };
    graph_node_add_mac(n, mac1, 10, 20);
    graph_node_add_mac(n, mac2, 15, 25);
    graph_node_add_ident(n, "dhcp_hostname", "ws-12", "dhcp", 100, 200);
    graph_node_add_ident(n, "dns", "ws-12.corp.example", "dns", 110, 210);
    graph_node_set_label(n, "role", "workstation");
    graph_node_set_label(n, "env", "prod");
    n->has_geo = 1;
    strcpy(n->geo.country, "DE");
    n->geo.asn = 3320;
    strcpy(n->geo.org, "Deutsche Telekom AG");
}

static void
full_edge(graph_edge *e)
{
    graph_edge_key k;
    memset(&k, 0, sizeof(k));
    k.client = ga("10.0.0.1");
    k.server = ga("93.184.216.34");
    k.proto = 6;
    k.port = 443;
    strcpy(k.app, "TLS");
    graph_edge_init(e, &k);
    e->flows = 5;
    e->pkts[0] = 50;
    e->pkts[1] = 60;
    e->bytes[0] = 5000;
    e->bytes[1] = 600000;
    e->first_ns = 19793 * DAY_NS + 5;
    e->last_ns = 19795 * DAY_NS + 7;
    e->flows_handshake = 4;
    e->flows_heuristic = 1;
    e->risk = (1ULL << 7) | (1ULL << 63);   /* the highest bit too: a 10-byte varint */
    graph_days_add(&e->days, 19793);
    graph_days_add(&e->days, 19795);
    graph_edge_add_name(e, "example.com");
    graph_edge_add_name(e, "www.example.com");
}

static void
full_capture(graph_capture *c)
{
    memset(c, 0, sizeof(*c));
    c->id = 1764337000000000000ULL;
    c->state = GRAPH_CAPTURE_COMPLETE;
    c->start_ns = c->id;
    c->end_ns = c->id + 5;
    c->first_ns = 1;
    c->last_ns = 2;
    c->frames = 15651;
    c->bytes = 3575591;
    c->decoded = 15651;
    c->flows = 4040;
    c->flushes = 3;
    c->n_input = 2;
    strcpy(c->input[0].name, "data/sample.pcap");
    c->input[0].size = 3575591;
    c->input[1].kind = 1;
    strcpy(c->input[1].name, "eth1");
    strcpy(c->version, "0.1.0");
}

/* ---- encoding ---------------------------------------------------------------- */

START_TEST(test_node_roundtrip)
{
    static graph_node n, d;
    uint8_t key[GRAPHREC_KEY_MAX], val[GRAPHREC_VAL_MAX];
    const char *addrs[] = { "10.1.2.3", "2001:db8::42", "0.0.0.0", "ff02::1" };
    for (size_t i = 0; i < 4; i++) {
        full_node(&n, addrs[i]);
        size_t kl = graphrec_node_key(&n.addr, key);
        size_t vl = graphrec_node_encode(&n, val, sizeof(val));
        ck_assert_uint_gt(vl, 0);
        ck_assert_uint_eq(kl, n.addr.family == 6 ? 18 : 6);
        memset(&d, 0xa5, sizeof(d));
        ck_assert_int_eq(graphrec_node_key_decode(key, kl, &d.addr), GRAPHREC_OK);
        ck_assert_int_eq(graphrec_node_decode(val, vl, &d), GRAPHREC_OK);
        ck_assert_mem_eq(&d, &n, sizeof(n));
    }
    /* An empty node is small. */
    graph_addr a = ga("10.0.0.1");
    graph_node_init(&n, &a);
    ck_assert_uint_le(graphrec_node_encode(&n, val, sizeof(val)), 16);
    /* Too small a buffer: 0, nothing written past it. */
    full_node(&n, "10.1.2.3");
    ck_assert_uint_eq(graphrec_node_encode(&n, val, 10), 0);
}
END_TEST

START_TEST(test_edge_roundtrip)
{
    static graph_edge e, d;
    uint8_t key[GRAPHREC_KEY_MAX], val[GRAPHREC_VAL_MAX];
    full_edge(&e);
    size_t kl = graphrec_edge_key(&e.k, key);
    size_t vl = graphrec_edge_encode(&e, val, sizeof(val));
    ck_assert_uint_gt(vl, 0);
    memset(&d, 0x5a, sizeof(d));
    ck_assert_int_eq(graphrec_edge_key_decode(key, kl, &d.k), GRAPHREC_OK);
    ck_assert_int_eq(graphrec_edge_decode(val, vl, &d), GRAPHREC_OK);
    ck_assert_mem_eq(&d, &e, sizeof(e));
    ck_assert_uint_eq(graph_days_count(&d.days), 2);
    /* IPv6, ICMPv6 type as port, a long app name cut to fit. */
    memset(&e.k, 0, sizeof(e.k));
    e.k.client = ga("fe80::1");
    e.k.server = ga("ff02::2");
    e.k.proto = 58;
    e.k.port = 133;
    graph_strcpy(e.k.app, sizeof(e.k.app), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij");
    ck_assert_uint_eq(strlen(e.k.app), GRAPH_APP_LEN - 1);
    kl = graphrec_edge_key(&e.k, key);
    ck_assert_int_eq(graphrec_edge_key_decode(key, kl, &d.k), GRAPHREC_OK);
    ck_assert_mem_eq(&d.k, &e.k, sizeof(e.k));
    /* Keys sort by client: a client's edges are one prefix. */
    uint8_t k2[GRAPHREC_KEY_MAX], nk[GRAPHREC_KEY_MAX];
    size_t nl = graphrec_node_key(&e.k.client, nk);
    graphrec_edge_key(&e.k, k2);
    ck_assert_mem_eq(k2 + 1, nk + 1, nl - 1);
}
END_TEST

START_TEST(test_capture_roundtrip)
{
    static graph_capture c, d;
    uint8_t key[GRAPHREC_KEY_MAX], val[GRAPHREC_VAL_MAX];
    full_capture(&c);
    size_t kl = graphrec_capture_key(c.id, key);
    size_t vl = graphrec_capture_encode(&c, val, sizeof(val));
    ck_assert_uint_gt(vl, 0);
    memset(&d, 0x11, sizeof(d));
    ck_assert_int_eq(graphrec_capture_key_decode(key, kl, &d.id), GRAPHREC_OK);
    ck_assert_int_eq(graphrec_capture_decode(val, vl, &d), GRAPHREC_OK);
    ck_assert_mem_eq(&d, &c, sizeof(c));
    /* The biggest record fits GRAPHREC_VAL_MAX. */
    c.n_input = GRAPH_MAX_INPUTS;
    for (int i = 0; i < GRAPH_MAX_INPUTS; i++) {
        memset(c.input[i].name, 'x', GRAPH_INPUT_LEN - 1);
        c.input[i].name[GRAPH_INPUT_LEN - 1] = '\0';
        c.input[i].size = UINT64_MAX;
    }
    ck_assert_uint_gt(graphrec_capture_encode(&c, val, sizeof(val)), 0);
}
END_TEST

/* Every proper prefix of a valid value is refused; so is every value with a byte changed to
   a bad version. Returns how many prefixes were checked. */
typedef graphrec_status (*decode_fn)(const uint8_t *, size_t, void *);

static graphrec_status dec_node(const uint8_t *v, size_t n, void *o) { return graphrec_node_decode(v, n, o); }
static graphrec_status dec_edge(const uint8_t *v, size_t n, void *o) { return graphrec_edge_decode(v, n, o); }
static graphrec_status dec_cap(const uint8_t *v, size_t n, void *o) { return graphrec_capture_decode(v, n, o); }

static void
check_truncations(const uint8_t *val, size_t vl, decode_fn fn, void *out)
{
    for (size_t n = 0; n < vl; n++) {
        /* A copy of exactly n bytes, so ASan sees any read past it. */
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, val, n);
        graphrec_status st = fn(cut, n, out);
        free(cut);
        ck_assert_msg(st == GRAPHREC_TRUNC || st == GRAPHREC_BAD_VALUE,
                      "prefix of %zu/%zu bytes gave %s", n, vl, graphrec_status_name(st));
    }
}

START_TEST(test_corrupt_records)
{
    static graph_node n;
    static graph_edge e;
    static graph_capture c;
    uint8_t val[GRAPHREC_VAL_MAX];
    size_t vl;

    full_node(&n, "10.1.2.3");
    vl = graphrec_node_encode(&n, val, sizeof(val));
    check_truncations(val, vl, dec_node, &n);
    val[0] = GRAPHREC_VERSION + 1;
    ck_assert_int_eq(graphrec_node_decode(val, vl, &n), GRAPHREC_BAD_VERSION);
    val[0] = 0;
    ck_assert_int_eq(graphrec_node_decode(val, vl, &n), GRAPHREC_BAD_VERSION);
    val[0] = GRAPHREC_VERSION;
    val[vl] = 0;                /* a trailing byte */
    ck_assert_int_eq(graphrec_node_decode(val, vl + 1, &n), GRAPHREC_BAD_VALUE);
    val[1] = 0x80;              /* unknown flag */
    ck_assert_int_eq(graphrec_node_decode(val, vl, &n), GRAPHREC_BAD_VALUE);

    full_edge(&e);
    vl = graphrec_edge_encode(&e, val, sizeof(val));
    check_truncations(val, vl, dec_edge, &e);
    val[0] = 7;
    ck_assert_int_eq(graphrec_edge_decode(val, vl, &e), GRAPHREC_BAD_VERSION);

    full_capture(&c);
    vl = graphrec_capture_encode(&c, val, sizeof(val));
    check_truncations(val, vl, dec_cap, &c);
    val[1] = GRAPH_CAPTURE_STATE_COUNT;     /* unknown state */
    ck_assert_int_eq(graphrec_capture_decode(val, vl, &c), GRAPHREC_BAD_VALUE);

    /* Hand-made bad values. */
    static const uint8_t overlong[] = { GRAPHREC_VERSION, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                        0xff, 0xff, 0xff, 0xff, 0x01 };
    ck_assert_int_eq(graphrec_edge_decode(overlong, sizeof(overlong), &e), GRAPHREC_BAD_VALUE);
    /* Edge: counters 0, days: before 0, 2 days, second step 0 (not ascending). */
    static const uint8_t dupday[] = { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 5, 0, 0 };
    ck_assert_int_eq(graphrec_edge_decode(dupday, sizeof(dupday), &e), GRAPHREC_BAD_VALUE);
    static const uint8_t okday[] = { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 5, 1, 0 };
    ck_assert_int_eq(graphrec_edge_decode(okday, sizeof(okday), &e), GRAPHREC_OK);
    ck_assert_uint_eq(e.days.day[1], 6);
    /* Too many days, too many names. */
    static const uint8_t manydays[] = { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, GRAPH_MAX_DAYS + 1 };
    ck_assert_int_eq(graphrec_edge_decode(manydays, sizeof(manydays), &e), GRAPHREC_BAD_VALUE);
    static const uint8_t manynames[] = { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, GRAPH_MAX_NAMES + 1 };
    ck_assert_int_eq(graphrec_edge_decode(manynames, sizeof(manynames), &e), GRAPHREC_BAD_VALUE);
    /* A name with a NUL inside, a name longer than its cap. */
    static const uint8_t nulname[] = { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 'a', 0, 'b' };
    ck_assert_int_eq(graphrec_edge_decode(nulname, sizeof(nulname), &e), GRAPHREC_BAD_VALUE);
    static const uint8_t longname[] = { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x80, 0x02 };
    ck_assert_int_eq(graphrec_edge_decode(longname, sizeof(longname), &e), GRAPHREC_BAD_VALUE);
    /* Bad keys. */
    static const uint8_t k1[] = { 'N', 5, 1, 2, 3, 4 }, k2[] = { 'N', 4, 1, 2, 3 },
                         k3[] = { 'E', 4, 1, 2, 3, 4, 4, 5, 6, 7, 8, 6, 0, 80 },
                         k4[] = { 'X', 4, 1, 2, 3, 4 };
    graph_addr a;
    graph_edge_key ek;
    uint64_t id;
    ck_assert_int_eq(graphrec_node_key_decode(k1, sizeof(k1), &a), GRAPHREC_BAD_KEY);
    ck_assert_int_eq(graphrec_node_key_decode(k2, sizeof(k2), &a), GRAPHREC_BAD_KEY);
    ck_assert_int_eq(graphrec_node_key_decode(k4, sizeof(k4), &a), GRAPHREC_BAD_KEY);
    ck_assert_int_eq(graphrec_edge_key_decode(k3, sizeof(k3), &ek), GRAPHREC_BAD_KEY); /* no app */
    ck_assert_int_eq(graphrec_capture_key_decode(k4, sizeof(k4), &id), GRAPHREC_BAD_KEY);
}
END_TEST

/* A varint into b at *n (the records' encoding), for hand-made values. */
static void
put_varint(uint8_t *b, size_t *n, uint64_t v)
{
    do {
        b[(*n)++] = (uint8_t)((v & 0x7f) | (v >> 7 ? 0x80 : 0));
        v >>= 7;
    } while (v);
}

/* full_edge() as a version 1 value (before the risk bitmap was stored), written by hand. */
static size_t
edge_v1_value(uint8_t *b)
{
    size_t n = 0;
    b[n++] = 1;
    const uint64_t head[] = { 5, 50, 60, 5000, 600000, 19793 * DAY_NS + 5, 19795 * DAY_NS + 7, 4, 1,
                              0 /* days before */ };
    for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++)
        put_varint(b, &n, head[i]);
    b[n++] = 2;                 /* days: 19793, +2 */
    put_varint(b, &n, 19793);
    put_varint(b, &n, 2);
    b[n++] = 2;                 /* names */
    b[n++] = 11;
    memcpy(b + n, "example.com", 11);
    n += 11;
    b[n++] = 15;
    memcpy(b + n, "www.example.com", 15);
    n += 15;
    return n;
}

/* A value of an older record version decodes, the fields it lacks zero; re-encoded it is the
   current version and keeps everything. */
START_TEST(test_edge_old_version)
{
    static graph_edge e, d;
    uint8_t val[GRAPHREC_VAL_MAX], val2[GRAPHREC_VAL_MAX];
    ck_assert_int_eq(GRAPHREC_VERSION_MIN, 1);
    ck_assert_int_ge(GRAPHREC_VERSION, 2);
    full_edge(&e);
    e.risk = 0;
    size_t vl = edge_v1_value(val);
    memset(&d, 0x5a, sizeof(d));
    d.k = e.k;
    ck_assert_int_eq(graphrec_edge_decode(val, vl, &d), GRAPHREC_OK);
    ck_assert_uint_eq(d.risk, 0);
    ck_assert_mem_eq(&d, &e, sizeof(e));
    /* Every prefix of the old value is refused too. */
    check_truncations(val, vl, dec_edge, &d);
    /* The same bytes claiming the current version lack the risk field: never OK. */
    val[0] = GRAPHREC_VERSION;
    ck_assert_int_ne(graphrec_edge_decode(val, vl, &d), GRAPHREC_OK);
    /* Re-encoded: current version, one byte longer (risk 0), decodes to the same record. */
    size_t l2 = graphrec_edge_encode(&e, val2, sizeof(val2));
    ck_assert_uint_eq(val2[0], GRAPHREC_VERSION);
    ck_assert_uint_eq(l2, vl + 1);
    ck_assert_int_eq(graphrec_edge_decode(val2, l2, &d), GRAPHREC_OK);
    ck_assert_mem_eq(&d, &e, sizeof(e));
    /* Nodes and captures did not change layout: their version 1 values decode. */
    static graph_node n, nd;
    full_node(&n, "10.1.2.3");
    vl = graphrec_node_encode(&n, val, sizeof(val));
    val[0] = 1;
    nd.addr = n.addr;
    ck_assert_int_eq(graphrec_node_decode(val, vl, &nd), GRAPHREC_OK);
    ck_assert_mem_eq(&nd, &n, sizeof(n));
}
END_TEST

/* Random bytes never crash a decoder (ASan/valgrind make this a memory check). */
START_TEST(test_random_bytes)
{
    static graph_node n;
    static graph_edge e;
    static graph_capture c;
    uint32_t x = 12345;
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(round % 97);
        uint8_t *buf = malloc(len ? len : 1);
        for (size_t i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (uint8_t)(x >> 16);
        }
        if (len)
            buf[0] = GRAPHREC_VERSION;      /* get past the version byte most of the time */
        (void)graphrec_node_decode(buf, len, &n);
        (void)graphrec_edge_decode(buf, len, &e);
        (void)graphrec_capture_decode(buf, len, &c);
        (void)graphrec_edge_key_decode(buf, len, &e.k);
        free(buf);
    }
}
END_TEST

/* ---- days and merges --------------------------------------------------------- */

START_TEST(test_days)
{
    graph_days d;
    memset(&d, 0, sizeof(d));
    graph_days_add(&d, 10);
    graph_days_add(&d, 5);
    graph_days_add(&d, 10);
    graph_days_add(&d, 7);
    ck_assert_uint_eq(graph_days_count(&d), 3);
    ck_assert_uint_eq(d.day[0], 5);
    ck_assert_uint_eq(d.day[2], 10);
    /* 100 distinct days in random order: 64 listed, the rest counted. */
    memset(&d, 0, sizeof(d));
    for (uint32_t i = 0; i < 100; i++)
        graph_days_add(&d, 20000 + (i * 37) % 100);
    ck_assert_uint_eq(d.n, GRAPH_MAX_DAYS);
    ck_assert_uint_le(graph_days_count(&d), 100);
    /* In order (the usual case) the count is exact. */
    memset(&d, 0, sizeof(d));
    for (uint32_t i = 0; i < 100; i++) {
        graph_days_add(&d, 20000 + i);
        graph_days_add(&d, 20000 + i);
    }
    ck_assert_uint_eq(graph_days_count(&d), 100);
    ck_assert_uint_eq(d.before, 100 - GRAPH_MAX_DAYS);
    ck_assert_uint_eq(d.day[0], 20000 + 100 - GRAPH_MAX_DAYS);
    for (uint32_t i = 1; i < d.n; i++)
        ck_assert_uint_lt(d.day[i - 1], d.day[i]);
    /* A day older than every listed one, with the list full: taken as counted. */
    graph_days_add(&d, 100);
    ck_assert_uint_eq(graph_days_count(&d), 100);
    /* A newer one drops the oldest into `before`. */
    graph_days_add(&d, 30000);
    ck_assert_uint_eq(graph_days_count(&d), 101);
    ck_assert_uint_eq(d.day[d.n - 1], 30000);
    /* The UTC day of a time. */
    ck_assert_uint_eq(graph_day(0), 0);
    ck_assert_uint_eq(graph_day(DAY_NS - 1), 0);
    ck_assert_uint_eq(graph_day(1710115251890031000ULL), 19793);   /* 2024-03-11 */
}
END_TEST

START_TEST(test_merge)
{
    static graph_node a, b;
    static graph_edge e, f;
    full_node(&a, "10.1.2.3");
    b = a;
    graph_node_merge(&a, &b);
    ck_assert_uint_eq(a.as_client.flows, 6);
    ck_assert_uint_eq(a.as_server.pkts, 14);
    ck_assert_uint_eq(a.n_mac, 2);
    ck_assert_uint_eq(a.n_ident, 2);
    ck_assert_uint_eq(a.n_label, 2);
    ck_assert_uint_eq(a.first_ns, b.first_ns);
    /* Times widen; 0 is unset. */
    graph_node_init(&b, &a.addr);
    b.first_ns = 5;
    b.last_ns = UINT64_MAX;
    b.internal = 0;
    graph_node_set_label(&b, "role", "server");
    graph_node_merge(&a, &b);
    ck_assert_uint_eq(a.first_ns, 5);
    ck_assert_uint_eq(a.last_ns, UINT64_MAX);
    ck_assert_uint_eq(a.internal, 0);
    ck_assert_str_eq(a.label[0].key, "env");        /* labels in key order */
    ck_assert_str_eq(a.label[1].key, "role");
    ck_assert_str_eq(a.label[1].value, "server");   /* same key: the newer value */
    ck_assert_uint_eq(a.has_geo, 1);                /* b has none: kept */
    /* MACs: at the cap the least recently seen gives way to a newer one. */
    for (uint8_t i = 0; i < 10; i++) {
        uint8_t m[6] = { 2, 0, 0, 0, 0, i };
        graph_node_add_mac(&a, m, 1000 + i, 1000 + i);
    }
    ck_assert_uint_eq(a.n_mac, GRAPH_MAX_MACS);
    for (unsigned i = 0; i < a.n_mac; i++)
        ck_assert_uint_ge(a.mac[i].last_ns, 1000 + 10 - GRAPH_MAX_MACS);
    /* Identities likewise; the same one only widens. */
    for (int i = 0; i < 40; i++) {
        char v[32];
        snprintf(v, sizeof(v), "name%d", i);
        graph_node_add_ident(&a, "dns", v, "dns", 300 + (uint64_t)i, 300 + (uint64_t)i);
    }
    ck_assert_uint_eq(a.n_ident, GRAPH_MAX_IDENTS);
    graph_node_add_ident(&a, "dns", "name39", "dns", 1, 5000);
    int found = 0;
    for (unsigned i = 0; i < a.n_ident; i++)
        if (strcmp(a.ident[i].value, "name39") == 0) {
            found = 1;
            ck_assert_uint_eq(a.ident[i].first_ns, 1);
            ck_assert_uint_eq(a.ident[i].last_ns, 5000);
        }
    ck_assert_int_eq(found, 1);
    for (unsigned i = 1; i < a.n_ident; i++)      /* identities in canonical order */
        ck_assert_int_lt(strcmp(a.ident[i - 1].value, a.ident[i].value), 0);

    /* Edges: merging an edge into itself doubles every counter, keeps times, days, names. */
    full_edge(&e);
    f = e;
    graph_edge_merge(&e, &f);
    ck_assert_uint_eq(e.flows, 10);
    ck_assert_uint_eq(e.pkts[0], 100);
    ck_assert_uint_eq(e.bytes[1], 1200000);
    ck_assert_uint_eq(e.flows_handshake, 8);
    ck_assert_uint_eq(e.flows_heuristic, 2);
    ck_assert_uint_eq(e.risk, f.risk);              /* risks are OR-ed, not summed */
    f.risk = 1ULL << 36;
    graph_edge_merge(&e, &f);
    ck_assert_uint_eq(e.risk, (1ULL << 7) | (1ULL << 63) | (1ULL << 36));
    f.risk = 0;
    graph_edge_merge(&e, &f);
    ck_assert_uint_eq(e.risk, (1ULL << 7) | (1ULL << 63) | (1ULL << 36));
    ck_assert_uint_eq(e.first_ns, f.first_ns);
    ck_assert_uint_eq(graph_days_count(&e.days), 2);
    ck_assert_uint_eq(e.n_name, 2);
    /* Names: the first ones are kept. */
    for (int i = 0; i < 10; i++) {
        char v[32];
        snprintf(v, sizeof(v), "h%d.example", i);
        graph_edge_add_name(&e, v);
    }
    ck_assert_uint_eq(e.n_name, GRAPH_MAX_NAMES);
    ck_assert_str_eq(e.name[0], "example.com");
    /* A string cut at its cap never splits a UTF-8 character. */
    char s[4];
    graph_strcpy(s, sizeof(s), "ab\xc3\xa9");
    ck_assert_str_eq(s, "ab");
}
END_TEST

/* ---- the store ----------------------------------------------------------------- */

static char tmpdir[256];

static void
mk_tmp(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "%s/check_graph.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
rm_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            char p[1024];
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
            rm_tree(p);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* The name of a database under tmpdir. */
static const char *
dbpath(const char *name)
{
    static char p[512];
    snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
    return p;
}

/* What a walk saw. */
typedef struct seen {
    int nodes, edges, caps;
    uint64_t flows;
} seen;

static int count_node(void *ctx, const graph_node *n) { (void)n; ((seen *)ctx)->nodes++; return 0; }
static int count_edge(void *ctx, const graph_edge *e) { ((seen *)ctx)->edges++; ((seen *)ctx)->flows += e->flows; return 0; }
static int count_cap(void *ctx, const graph_capture *c) { (void)c; ((seen *)ctx)->caps++; return 0; }
static int stop_at_first(void *ctx, const graph_node *n) { (void)n; ((seen *)ctx)->nodes++; return 7; }

START_TEST(test_store_accumulates)
{
    static graph_node n, got;
    static graph_edge e, ge;
    static graph_capture c;
    char err[512];
    int code;
    mk_tmp();
    const char *db = dbpath("db");

    for (int run = 1; run <= 2; run++) {
        graph *g = graph_open(db, GRAPH_WRITE, &code, err, sizeof(err));
        ck_assert_msg(g != NULL, "%s", err);
        graph_batch *b = graph_batch_create(g);
        /* Read-modify-write, as the aggregator does. */
        full_node(&n, "10.1.2.3");
        int r = graph_get_node(g, &n.addr, &got);
        ck_assert_int_eq(r, run == 1 ? 0 : 1);
        if (r == 1) {
            graph_node_merge(&got, &n);
            ck_assert_int_eq(graph_batch_put_node(b, &got), 0);
        } else {
            ck_assert_int_eq(graph_batch_put_node(b, &n), 0);
        }
        full_node(&n, "2001:db8::1");
        if (graph_get_node(g, &n.addr, &got) == 1)
            graph_node_merge(&n, &got);
        ck_assert_int_eq(graph_batch_put_node(b, &n), 0);
        full_edge(&e);
        if (graph_get_edge(g, &e.k, &ge) == 1) {
            graph_edge_merge(&ge, &e);
            e = ge;
        }
        ck_assert_int_eq(graph_batch_put_edge(b, &e), 0);
        full_capture(&c);
        c.id += (uint64_t)run;
        ck_assert_int_eq(graph_batch_put_capture(b, &c), 0);
        ck_assert_uint_eq(graph_batch_count(b), 4);
        ck_assert_int_eq(graph_batch_commit(b, err, sizeof(err)), 0);
        ck_assert_uint_eq(graph_batch_count(b), 0);
        graph_batch_free(b);
        graph_close(g);
    }

    graph *g = graph_open(db, GRAPH_READ, &code, err, sizeof(err));
    ck_assert_msg(g != NULL, "%s", err);
    seen s = { 0 };
    ck_assert_int_eq(graph_foreach_node(g, count_node, &s, err, sizeof(err)), 0);
    ck_assert_int_eq(graph_foreach_edge(g, count_edge, &s, err, sizeof(err)), 0);
    ck_assert_int_eq(graph_foreach_capture(g, count_cap, &s, err, sizeof(err)), 0);
    ck_assert_int_eq(s.nodes, 2);
    ck_assert_int_eq(s.edges, 1);
    ck_assert_int_eq(s.caps, 2);
    ck_assert_uint_eq(s.flows, 10);     /* 5 flows, captured twice */
    graph_addr a = ga("10.1.2.3");
    ck_assert_int_eq(graph_get_node(g, &a, &got), 1);
    ck_assert_uint_eq(got.as_client.flows, 6);
    ck_assert_uint_eq(got.n_ident, 2);
    /* A walk stops when the callback says so. */
    memset(&s, 0, sizeof(s));
    ck_assert_int_eq(graph_foreach_node(g, stop_at_first, &s, err, sizeof(err)), 7);
    ck_assert_int_eq(s.nodes, 1);
    /* The edges of one client. */
    memset(&s, 0, sizeof(s));
    a = ga("10.0.0.1");
    ck_assert_int_eq(graph_foreach_edge_from(g, &a, count_edge, &s, err, sizeof(err)), 0);
    ck_assert_int_eq(s.edges, 1);
    a = ga("10.0.0.2");
    memset(&s, 0, sizeof(s));
    ck_assert_int_eq(graph_foreach_edge_from(g, &a, count_edge, &s, err, sizeof(err)), 0);
    ck_assert_int_eq(s.edges, 0);
    graph_stats st;
    ck_assert_int_eq(graph_get_stats(g, &st, err, sizeof(err)), 0);
    ck_assert_uint_eq(st.schema, GRAPH_SCHEMA);
    ck_assert_uint_eq(st.nodes, 2);
    ck_assert_uint_eq(st.nodes_internal, 2);
    ck_assert_uint_eq(st.edges, 1);
    ck_assert_uint_eq(st.captures, 2);
    ck_assert_uint_eq(st.flows, 10);
    ck_assert_uint_eq(st.bytes, 2 * 605000);
    /* A reader cannot commit. */
    graph_batch *b = graph_batch_create(g);
    ck_assert_int_eq(graph_batch_commit(b, err, sizeof(err)), -1);
    graph_batch_free(b);
    graph_close(g);
    rm_tree(tmpdir);
}
END_TEST

/* Collects node addresses (their last byte) in walk order. */
typedef struct order {
    int n;
    uint8_t last[64];
    uint64_t flows[64];
} order;

static int
node_order(void *ctx, const graph_node *n)
{
    order *o = ctx;
    if (o->n < 64) {
        o->last[o->n] = n->addr.a[n->addr.family == 4 ? 3 : 15];
        o->flows[o->n] = n->as_client.flows;
    }
    o->n++;
    return 0;
}

/* A commit sorts the puts of a batch, keeps the last put of a key, and is all or nothing. */
START_TEST(test_store_batch_order)
{
    static graph_node n, got;
    static graph_edge e;
    static graph_capture c;
    char err[512], addr[32];
    int code;
    mk_tmp();
    const char *db = dbpath("db");
    size_t ingest_min = graph_debug_set_ingest_min(0);     /* every commit ingests a file */
    graph *g = graph_open(db, GRAPH_WRITE, &code, err, sizeof(err));
    ck_assert_msg(g != NULL, "%s", err);
    graph_batch *b = graph_batch_create(g);
    /* An empty batch commits. */
    ck_assert_int_eq(graph_batch_commit(b, err, sizeof(err)), 0);
    /* Kinds mixed, keys out of order, one key put three times. */
    static const int put[] = { 9, 3, 7, 3, 1, 8, 2, 3, 5 };
    full_capture(&c);
    ck_assert_int_eq(graph_batch_put_capture(b, &c), 0);
    for (size_t i = 0; i < sizeof(put) / sizeof(put[0]); i++) {
        snprintf(addr, sizeof(addr), "10.0.0.%d", put[i]);
        full_node(&n, addr);
        n.as_client.flows = 100 + i;
        ck_assert_int_eq(graph_batch_put_node(b, &n), 0);
        if (i == 4) {
            full_edge(&e);
            ck_assert_int_eq(graph_batch_put_edge(b, &e), 0);
        }
    }
    full_node(&n, "2001:db8::4");
    ck_assert_int_eq(graph_batch_put_node(b, &n), 0);
    ck_assert_uint_eq(graph_batch_count(b), 12);
    ck_assert_int_eq(graph_batch_commit(b, err, sizeof(err)), 0);
    ck_assert_uint_eq(graph_batch_count(b), 0);
    ck_assert_uint_eq(graph_batch_bytes(b), 0);

    /* A reader opened beside the writer sees the commit. */
    graph *r = graph_open(db, GRAPH_READ, &code, err, sizeof(err));
    ck_assert_msg(r != NULL, "%s", err);
    order o = { 0 };
    ck_assert_int_eq(graph_foreach_node(r, node_order, &o, err, sizeof(err)), 0);
    ck_assert_int_eq(o.n, 8);
    static const uint8_t want[] = { 1, 2, 3, 5, 7, 8, 9, 4 };
    for (int i = 0; i < 8; i++)
        ck_assert_uint_eq(o.last[i], want[i]);
    ck_assert_uint_eq(o.flows[2], 100 + 7);     /* 10.0.0.3: its last put */
    seen s = { 0 };
    ck_assert_int_eq(graph_foreach_edge(r, count_edge, &s, err, sizeof(err)), 0);
    ck_assert_int_eq(graph_foreach_capture(r, count_cap, &s, err, sizeof(err)), 0);
    ck_assert_int_eq(s.edges, 1);
    ck_assert_int_eq(s.caps, 1);
    graph_close(r);

    /* A later commit replaces the record of a key. */
    full_node(&n, "10.0.0.3");
    n.as_client.flows = 42;
    ck_assert_int_eq(graph_batch_put_node(b, &n), 0);
    ck_assert_int_eq(graph_batch_commit(b, err, sizeof(err)), 0);
    graph_addr a = ga("10.0.0.3");
    ck_assert_int_eq(graph_get_node(g, &a, &got), 1);
    ck_assert_uint_eq(got.as_client.flows, 42);

    /* A commit that cannot write its file fails whole and leaves nothing. */
    char tmpf[600];
    snprintf(tmpf, sizeof(tmpf), "%s", graph_batch_file(b));
    ck_assert_int_eq(mkdir(tmpf, 0755), 0);
    full_node(&n, "10.0.0.3");
    n.as_client.flows = 43;
    ck_assert_int_eq(graph_batch_put_node(b, &n), 0);
    full_node(&n, "10.0.0.77");
    ck_assert_int_eq(graph_batch_put_node(b, &n), 0);
    ck_assert_int_eq(graph_batch_commit(b, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "write failed") != NULL && strchr(err, '\n') == NULL, "%s", err);
    ck_assert_uint_eq(graph_batch_count(b), 0);
    ck_assert_int_eq(graph_get_node(g, &a, &got), 1);
    ck_assert_uint_eq(got.as_client.flows, 42);
    graph_addr a77 = ga("10.0.0.77");
    ck_assert_int_eq(graph_get_node(g, &a77, &got), 0);
    ck_assert_int_eq(rmdir(tmpf), 0);
    /* Then many small commits, each seen at once. */
    for (int i = 0; i < 40; i++) {
        snprintf(addr, sizeof(addr), "10.0.1.%d", i);
        full_node(&n, addr);
        ck_assert_int_eq(graph_batch_put_node(b, &n), 0);
        ck_assert_int_eq(graph_batch_commit(b, err, sizeof(err)), 0);
        ck_assert_int_eq(graph_get_node(g, &n.addr, &got), 1);
    }
    ck_assert_int_eq(graph_batch_commit(b, err, sizeof(err)), 0);
    /* Small batches through the write-ahead log, between ingested ones. */
    graph_debug_set_ingest_min(ingest_min);
    for (int v = 50; v <= 52; v++) {
        full_node(&n, "10.0.0.3");
        n.as_client.flows = (uint64_t)v;
        ck_assert_int_eq(graph_batch_put_node(b, &n), 0);
    }
    ck_assert_int_eq(graph_batch_commit(b, err, sizeof(err)), 0);
    ck_assert_int_eq(graph_get_node(g, &a, &got), 1);
    ck_assert_uint_eq(got.as_client.flows, 52);
    graph_debug_set_ingest_min(0);
    full_node(&n, "10.0.0.3");
    n.as_client.flows = 42;
    ck_assert_int_eq(graph_batch_put_node(b, &n), 0);
    ck_assert_int_eq(graph_batch_commit(b, err, sizeof(err)), 0);
    graph_debug_set_ingest_min(ingest_min);
    graph_batch_free(b);
    graph_close(g);
    /* No temporary file is left. */
    ck_assert_int_eq(access(tmpf, F_OK), -1);
    g = graph_open(db, GRAPH_READ, &code, err, sizeof(err));
    ck_assert_msg(g != NULL, "%s", err);
    graph_stats st;
    ck_assert_int_eq(graph_get_stats(g, &st, err, sizeof(err)), 0);
    ck_assert_uint_eq(st.nodes, 8 + 40);
    ck_assert_uint_eq(st.edges, 1);
    ck_assert_uint_eq(st.captures, 1);
    ck_assert_int_eq(graph_get_node(g, &a, &got), 1);
    ck_assert_uint_eq(got.as_client.flows, 42);
    graph_close(g);
    rm_tree(tmpdir);
}
END_TEST

/* The parts of a parts test: capture record; edges; nodes 10.2.0.x; none; nodes 10.3.x.y (in
   key order: capture < edge < node keys).  Puts out of order, one key twice. */
#define PART_NODES 600
static void
fill_parts(graph_batch **p, uint64_t flows)
{
    static graph_node n;
    static graph_edge e;
    static graph_capture c;
    char addr[32];
    full_capture(&c);
    ck_assert_int_eq(graph_batch_put_capture(p[0], &c), 0);
    for (int i = 0; i < 3; i++) {
        full_edge(&e);
        e.k.port = (uint16_t)(443 - i);
        e.flows = flows;
        ck_assert_int_eq(graph_batch_put_edge(p[1], &e), 0);
    }
    for (int i = PART_NODES - 1; i >= 0; i--) {
        snprintf(addr, sizeof(addr), i < 200 ? "10.2.0.%d" : "10.3.%d.%d", i < 200 ? i : i / 100, i % 100);
        full_node(&n, addr);
        n.as_client.flows = flows;
        ck_assert_int_eq(graph_batch_put_node(p[i < 200 ? 2 : 4], &n), 0);
    }
    full_node(&n, "10.3.5.5");
    n.as_client.flows = flows + 1;          /* the last put of a key wins */
    ck_assert_int_eq(graph_batch_put_node(p[4], &n), 0);
}

/* Sums what a database holds: records, and flows of nodes and edges. */
static void
check_parts_db(graph *g, int nodes, int edges, int caps, uint64_t node_flows)
{
    char err[512];
    seen s = { 0 };
    ck_assert_int_eq(graph_foreach_node(g, count_node, &s, err, sizeof(err)), 0);
    ck_assert_int_eq(graph_foreach_edge(g, count_edge, &s, err, sizeof(err)), 0);
    ck_assert_int_eq(graph_foreach_capture(g, count_cap, &s, err, sizeof(err)), 0);
    ck_assert_int_eq(s.nodes, nodes);
    ck_assert_int_eq(s.edges, edges);
    ck_assert_int_eq(s.caps, caps);
    graph_stats st;
    ck_assert_int_eq(graph_get_stats(g, &st, err, sizeof(err)), 0);
    ck_assert_uint_eq(st.corrupt, 0);
    if (!nodes)
        return;
    static graph_node got;
    char addr[32];
    uint64_t sum = 0;
    for (int i = 0; i < PART_NODES; i++) {
        snprintf(addr, sizeof(addr), i < 200 ? "10.2.0.%d" : "10.3.%d.%d", i < 200 ? i : i / 100, i % 100);
        graph_addr a = ga(addr);
        ck_assert_int_eq(graph_get_node(g, &a, &got), 1);
        sum += got.as_client.flows;
    }
    ck_assert_uint_eq(sum, node_flows);
}

/* A new database open for writing, with five batches of it in p. */
static graph *
parts_open(graph_batch *p[5])
{
    char err[512];
    int code;
    mk_tmp();
    graph *g = graph_open(dbpath("db"), GRAPH_WRITE, &code, err, sizeof(err));
    ck_assert_msg(g != NULL, "%s", err);
    for (int i = 0; i < 5; i++)
        ck_assert_ptr_nonnull(p[i] = graph_batch_create(g));
    return g;
}

static void
parts_close(graph *g, graph_batch *p[5])
{
    for (int i = 0; i < 5; i++)
        graph_batch_free(p[i]);
    graph_close(g);
}

/* A batch committed as parts over disjoint key ranges: as SST files (one
   per part, ingested together) and through the write-ahead log. */
START_TEST(test_store_parts)
{
    char err[512];
    int code;
    graph_batch *p[5];
    graph *g = parts_open(p);
    ck_assert_str_ne(graph_batch_file(p[0]), graph_batch_file(p[1]));
    /* Files: 600 nodes of some 250 bytes are well over 1 KB. */
    size_t ingest_min = graph_debug_set_ingest_min(1024);
    fill_parts(p, 10);
    ck_assert_uint_gt(graph_batch_bytes(p[2]) + graph_batch_bytes(p[4]), 1024);
    ck_assert_int_eq(graph_batch_commit_parts(p, 5, err, sizeof(err)), 0);
    for (int i = 0; i < 5; i++) {
        ck_assert_uint_eq(graph_batch_count(p[i]), 0);
        ck_assert_int_eq(access(graph_batch_file(p[i]), F_OK), -1);
    }
    check_parts_db(g, PART_NODES, 3, 1, PART_NODES * 10 + 1);
    /* Again over the same keys: the new records replace the old. */
    fill_parts(p, 20);
    ck_assert_int_eq(graph_batch_commit_parts(p, 5, err, sizeof(err)), 0);
    check_parts_db(g, PART_NODES, 3, 1, PART_NODES * 20 + 1);
    /* A small total: one write through the log. */
    graph_debug_set_ingest_min(64u << 20);
    fill_parts(p, 30);
    ck_assert_int_eq(graph_batch_commit_parts(p, 5, err, sizeof(err)), 0);
    check_parts_db(g, PART_NODES, 3, 1, PART_NODES * 30 + 1);
    graph_debug_set_ingest_min(ingest_min);
    parts_close(g, p);
    /* What a reader sees after the writer closed. */
    g = graph_open(dbpath("db"), GRAPH_READ, &code, err, sizeof(err));
    ck_assert_msg(g != NULL, "%s", err);
    check_parts_db(g, PART_NODES, 3, 1, PART_NODES * 30 + 1);
    graph_close(g);
    rm_tree(tmpdir);
}
END_TEST

/* A commit of parts fails whole: one part's file that cannot be written,
   or parts out of key order, leave none of the parts in the database. */
START_TEST(test_store_parts_fail)
{
    char err[512];
    int code;
    graph_batch *p[5];
    graph *g = parts_open(p);
    size_t ingest_min = graph_debug_set_ingest_min(1024);
    /* Part 4's file cannot be written (a directory is in its way): the
       other parts' files are removed, none ingested. */
    ck_assert_int_eq(mkdir(graph_batch_file(p[4]), 0755), 0);
    fill_parts(p, 10);
    ck_assert_int_eq(graph_batch_commit_parts(p, 5, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "write failed") != NULL && strchr(err, '\n') == NULL, "%s", err);
    for (int i = 0; i < 5; i++) {
        ck_assert_uint_eq(graph_batch_count(p[i]), 0);
        if (i != 4)
            ck_assert_int_eq(access(graph_batch_file(p[i]), F_OK), -1);
    }
    check_parts_db(g, 0, 0, 0, 0);
    ck_assert_int_eq(rmdir(graph_batch_file(p[4])), 0);
    /* Parts out of key order: the nodes of part 2 above those of part 4. */
    fill_parts(p, 10);
    graph_batch *swapped[5] = { p[0], p[1], p[4], p[3], p[2] };
    ck_assert_int_eq(graph_batch_commit_parts(swapped, 5, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "overlap") != NULL, "%s", err);
    check_parts_db(g, 0, 0, 0, 0);
    /* The same parts in order then commit. */
    fill_parts(p, 10);
    ck_assert_int_eq(graph_batch_commit_parts(p, 5, err, sizeof(err)), 0);
    check_parts_db(g, PART_NODES, 3, 1, PART_NODES * 10 + 1);
    graph_debug_set_ingest_min(ingest_min);
    parts_close(g, p);
    rm_tree(tmpdir);
}
END_TEST

/* Checksum of every file under a directory (names and bytes). */
static uint64_t
tree_sum(const char *path)
{
    uint64_t h = 1469598103934665603ULL;
    DIR *d = opendir(path);
    ck_assert_ptr_nonnull(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char p[1024];
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
        uint64_t hn = 1469598103934665603ULL;
        for (const char *c = de->d_name; *c; c++)
            hn = (hn ^ (uint8_t)*c) * 1099511628211ULL;
        FILE *f = fopen(p, "rb");
        ck_assert_ptr_nonnull(f);
        int ch;
        while ((ch = fgetc(f)) != EOF)
            hn = (hn ^ (uint8_t)ch) * 1099511628211ULL;
        fclose(f);
        h ^= hn;    /* order-independent */
    }
    closedir(d);
    return h;
}

START_TEST(test_store_refuses)
{
    char err[512];
    int code;
    uint8_t v[16];
    mk_tmp();

    /* Missing: a reader refuses, a writer creates. */
    ck_assert_ptr_null(graph_open(dbpath("none"), GRAPH_READ, &code, err, sizeof(err)));
    ck_assert_int_eq(code, EXIT_INPUT);

    /* A directory that is not a RocksDB. */
    mkdir(dbpath("other"), 0755);
    FILE *f = fopen(dbpath("other/notes.txt"), "w");
    fputs("hello\n", f);
    fclose(f);
    ck_assert_ptr_null(graph_open(dbpath("other"), GRAPH_WRITE, &code, err, sizeof(err)));
    ck_assert_int_eq(code, EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(err, "not a segscope database"));
    ck_assert_int_eq(access(dbpath("other/CURRENT"), F_OK), -1);   /* nothing created */

    /* A file, not a directory. */
    ck_assert_ptr_null(graph_open(dbpath("other/notes.txt"), GRAPH_WRITE, &code, err, sizeof(err)));
    ck_assert_int_eq(code, EXIT_INPUT);

    /* A RocksDB with other keys and no schema. */
    ck_assert_int_eq(graph_debug_put_raw(dbpath("foreign"), "hello", 5, "world", 5, err, sizeof(err)), 0);
    ck_assert_ptr_null(graph_open(dbpath("foreign"), GRAPH_WRITE, &code, err, sizeof(err)));
    ck_assert_int_eq(code, EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(err, "schema key"));

    /* A newer schema: refused read and write, and not a byte changed. */
    graph *g = graph_open(dbpath("newer"), GRAPH_WRITE, &code, err, sizeof(err));
    ck_assert_msg(g != NULL, "%s", err);
    graph_close(g);
    size_t n = graph_schema_encode(GRAPH_SCHEMA + 1, 1, v);
    ck_assert_int_eq(graph_debug_put_raw(dbpath("newer"), graph_schema_key, strlen(graph_schema_key),
                                         v, n, err, sizeof(err)), 0);
    uint64_t before = tree_sum(dbpath("newer"));
    ck_assert_ptr_null(graph_open(dbpath("newer"), GRAPH_WRITE, &code, err, sizeof(err)));
    ck_assert_int_eq(code, EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(err, "newer"));
    ck_assert_ptr_null(graph_open(dbpath("newer"), GRAPH_READ, &code, err, sizeof(err)));
    ck_assert_int_eq(code, EXIT_INPUT);
    ck_assert_uint_eq(tree_sum(dbpath("newer")), before);

    /* One writer at a time; readers are welcome meanwhile. */
    graph *w = graph_open(dbpath("busy"), GRAPH_WRITE, &code, err, sizeof(err));
    ck_assert_msg(w != NULL, "%s", err);
    ck_assert_ptr_null(graph_open(dbpath("busy"), GRAPH_WRITE, &code, err, sizeof(err)));
    ck_assert_int_eq(code, EXIT_INPUT);
    ck_assert_msg(strstr(err, "database is in use by another process") != NULL, "%s", err);
    graph *r = graph_open(dbpath("busy"), GRAPH_READ, &code, err, sizeof(err));
    ck_assert_msg(r != NULL, "%s", err);
    graph_close(r);
    graph_close(w);
    rm_tree(tmpdir);
}
END_TEST

/* A database of the older schema with an old edge record: read as it is (read-only: not a byte
   changed), its edge with no risks; a writer raises the schema, keeping the creation time. */
START_TEST(test_store_old_schema)
{
    static graph_edge e, d;
    char err[512];
    int code;
    uint8_t v[16], key[GRAPHREC_KEY_MAX], val[GRAPHREC_VAL_MAX];
    mk_tmp();
    const char *db = dbpath("old");
    size_t n = graph_schema_encode(GRAPH_SCHEMA_MIN, 1234567, v);
    ck_assert_int_lt(GRAPH_SCHEMA_MIN, GRAPH_SCHEMA);
    ck_assert_int_eq(graph_debug_put_raw(db, graph_schema_key, strlen(graph_schema_key), v, n,
                                         err, sizeof(err)), 0);
    full_edge(&e);
    e.risk = 0;
    size_t kl = graphrec_edge_key(&e.k, key);
    size_t vl = edge_v1_value(val);
    ck_assert_int_eq(graph_debug_put_raw(db, key, kl, val, vl, err, sizeof(err)), 0);
    uint64_t before = tree_sum(db);

    graph *g = graph_open(db, GRAPH_READ, &code, err, sizeof(err));
    ck_assert_msg(g != NULL, "%s", err);
    graph_stats st;
    ck_assert_int_eq(graph_get_stats(g, &st, err, sizeof(err)), 0);
    ck_assert_uint_eq(st.schema, GRAPH_SCHEMA_MIN);
    ck_assert_uint_eq(st.edges, 1);
    ck_assert_uint_eq(st.corrupt, 0);
    ck_assert_int_eq(graph_get_edge(g, &e.k, &d), 1);
    ck_assert_mem_eq(&d, &e, sizeof(e));
    graph_close(g);
    ck_assert_uint_eq(tree_sum(db), before);

    /* A writer: the schema is raised, the old record merges with a new one. */
    g = graph_open(db, GRAPH_WRITE, &code, err, sizeof(err));
    ck_assert_msg(g != NULL, "%s", err);
    ck_assert_int_eq(graph_get_edge(g, &e.k, &d), 1);
    e.risk = 1ULL << 20;
    graph_edge_merge(&d, &e);
    graph_batch *b = graph_batch_create(g);
    ck_assert_int_eq(graph_batch_put_edge(b, &d), 0);
    ck_assert_int_eq(graph_batch_commit(b, err, sizeof(err)), 0);
    graph_batch_free(b);
    graph_close(g);
    g = graph_open(db, GRAPH_READ, &code, err, sizeof(err));
    ck_assert_msg(g != NULL, "%s", err);
    ck_assert_int_eq(graph_get_stats(g, &st, err, sizeof(err)), 0);
    ck_assert_uint_eq(st.schema, GRAPH_SCHEMA);
    ck_assert_uint_eq(st.created_ns, 1234567);
    ck_assert_int_eq(graph_get_edge(g, &e.k, &d), 1);
    ck_assert_uint_eq(d.flows, 10);
    ck_assert_uint_eq(d.risk, 1ULL << 20);
    graph_close(g);

    /* Older than the oldest readable schema: refused. */
    n = graph_schema_encode(GRAPH_SCHEMA_MIN - 1, 1, v);
    ck_assert_int_eq(graph_debug_put_raw(dbpath("older"), graph_schema_key, strlen(graph_schema_key), v, n,
                                         err, sizeof(err)), 0);
    ck_assert_ptr_null(graph_open(dbpath("older"), GRAPH_READ, &code, err, sizeof(err)));
    ck_assert_int_eq(code, EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(err, "older"));
    rm_tree(tmpdir);
}
END_TEST

START_TEST(test_store_skips_corrupt)
{
    static graph_node n;
    char err[512];
    int code;
    mk_tmp();
    const char *db = dbpath("db");
    graph *g = graph_open(db, GRAPH_WRITE, &code, err, sizeof(err));
    ck_assert_msg(g != NULL, "%s", err);
    graph_batch *b = graph_batch_create(g);
    full_node(&n, "10.0.0.1");
    graph_batch_put_node(b, &n);
    full_node(&n, "10.0.0.3");
    graph_batch_put_node(b, &n);
    ck_assert_int_eq(graph_batch_commit(b, err, sizeof(err)), 0);
    graph_batch_free(b);
    graph_close(g);
    /* Between them: a node of a future version, a truncated one, a bad key. */
    uint8_t key[GRAPHREC_KEY_MAX];
    graph_addr a = ga("10.0.0.2");
    size_t kl = graphrec_node_key(&a, key);
    ck_assert_int_eq(graph_debug_put_raw(db, key, kl, "\x09\x00", 2, err, sizeof(err)), 0);
    a = ga("10.0.0.4");
    kl = graphrec_node_key(&a, key);
    ck_assert_int_eq(graph_debug_put_raw(db, key, kl, "\x01\x01\x80", 3, err, sizeof(err)), 0);
    ck_assert_int_eq(graph_debug_put_raw(db, "N\x07", 2, "\x01", 1, err, sizeof(err)), 0);

    g = graph_open(db, GRAPH_READ, &code, err, sizeof(err));
    ck_assert_msg(g != NULL, "%s", err);
    seen s = { 0 };
    ck_assert_int_eq(graph_foreach_node(g, count_node, &s, err, sizeof(err)), 0);
    ck_assert_int_eq(s.nodes, 2);
    ck_assert_uint_eq(graph_corrupt(g), 3);
    a = ga("10.0.0.2");
    ck_assert_int_eq(graph_get_node(g, &a, &n), -1);
    graph_stats st;
    ck_assert_int_eq(graph_get_stats(g, &st, err, sizeof(err)), 0);
    ck_assert_uint_eq(st.nodes, 2);
    ck_assert_uint_eq(st.corrupt, 3);
    graph_close(g);
    rm_tree(tmpdir);
}
END_TEST

/* ---- the aggregator ------------------------------------------------------------ */

/* The aggregator configuration of these tests: defaults, no timed flush, nc. */
static void
agg_cfg(graphagg_cfg *cfg, netclass *nc)
{
    graphagg_cfg_default(cfg);
    cfg->flush_interval_s = 0;
    cfg->nc = nc;
}

/* An aggregator over g for the run numbered id (cap->id). */
static graphagg *
agg_new(graph *g, const graphagg_cfg *cfg, graph_capture *cap, uint64_t id)
{
    char err[512];
    cap->id = id;
    graphagg *a = graphagg_create(g, cfg, cap, err, sizeof(err));
    ck_assert_msg(a != NULL, "%s", err);
    return a;
}

/* A flow as the flow table would end it. */
static flow
mkflow(const char *c, uint16_t cport, const char *s, uint16_t sport, uint8_t proto,
       uint64_t first_ns, uint64_t last_ns, int origin)
{
    flow f;
    memset(&f, 0, sizeof(f));
    f.key.ip_version = 4;
    f.key.proto = proto;
    inet_pton(AF_INET, c, f.key.a);
    inet_pton(AF_INET, s, f.key.b);
    f.key.pa = cport;
    f.key.pb = sport;
    f.client_is_b = 0;
    f.d[0].pkts = 3;
    f.d[0].bytes = 300;
    f.d[1].pkts = 2;
    f.d[1].bytes = 2000;
    f.first_ns = first_ns;
    f.last_ns = last_ns;
    f.origin = (uint8_t)origin;
    return f;
}

START_TEST(test_aggregator)
{
    static graph_edge e;
    static graph_node n;
    static graph_capture cap;
    char err[512];
    int code;
    mk_tmp();
    const char *db = dbpath("db");
    netclass *nc = netclass_create();
    graph *g = graph_open(db, GRAPH_WRITE, &code, err, sizeof(err));
    ck_assert_msg(g != NULL, "%s", err);
    graphagg_cfg cfg;
    agg_cfg(&cfg, nc);
    cfg.max_edges = 3;          /* the 4th distinct edge forces a flush */
    memset(&cap, 0, sizeof(cap));
    graphagg *a = agg_new(g, &cfg, &cap, 42);

    uint64_t t = 19793 * DAY_NS;
    flow f = mkflow("10.0.0.1", 50000, "10.0.0.2", 443, 6, t + 1, t + 2, FLOW_ORIGIN_HANDSHAKE);
    graphagg_flow(a, &f, "TLS", -1, "internal.example", 1ULL << 7); /* internal server: no name kept */
    f = mkflow("10.0.0.1", 50001, "10.0.0.2", 443, 6, t + DAY_NS, t + DAY_NS + 5, FLOW_ORIGIN_PORT);
    graphagg_flow(a, &f, "TLS", -1, NULL, 0);
    f = mkflow("10.0.0.1", 50002, "93.184.216.34", 443, 6, t + 3, t + 4, FLOW_ORIGIN_HANDSHAKE);
    graphagg_flow(a, &f, "TLS", -1, "example.com", 0);
    f = mkflow("10.0.0.1", 7, "10.0.0.9", 7, 1, t + 3, t + 4, FLOW_ORIGIN_FIRST);
    graphagg_flow(a, &f, "ICMP", 0, NULL, 0);                  /* echo reply first: type 8 */
    f = mkflow("10.0.0.1", 0, "10.0.0.9", 0, 17, t + 3, t + 4, FLOW_ORIGIN_PORT);
    graphagg_flow(a, &f, NULL, -1, NULL, 0);                   /* 4th edge: forced flush */
    ck_assert_uint_eq(graphagg_get_stats(a)->flushes_forced, 1);
    f = mkflow("10.0.0.1", 50004, "10.0.0.2", 443, 6, t + 1, t + 2, FLOW_ORIGIN_HANDSHAKE);
    graphagg_flow(a, &f, "TLS", -1, NULL, 1ULL << 36);          /* risks OR-ed across flushes */
    /* 100 days later on the first edge: does not fit the day bitmap, forces a flush. */
    f = mkflow("10.0.0.1", 50003, "10.0.0.2", 443, 6, t + 100 * DAY_NS, t + 100 * DAY_NS, FLOW_ORIGIN_HANDSHAKE);
    graphagg_flow(a, &f, "TLS", -1, NULL, 1ULL << 5);
    graphagg_flow(a, &f, "TLS", -1, NULL, 1ULL << 7);
    ck_assert_uint_eq(graphagg_get_stats(a)->flushes_forced, 2);
    graph_addr ad = ga("10.0.0.2");
    graphagg_ident(a, &ad, "dns", "web.corp.example", "dns", t, t, 0);
    graph_addr nowhere = ga("10.9.9.9");
    graphagg_ident(a, &nowhere, "dns", "ghost.example", "dns", t, t, 0);
    ck_assert_int_eq(graphagg_finish(a, GRAPH_CAPTURE_COMPLETE), 0);
    ck_assert_uint_eq(graphagg_get_stats(a)->flows, 8);
    ck_assert_uint_eq(graphagg_get_stats(a)->idents_dropped, 1);

    graph_edge_key k;
    memset(&k, 0, sizeof(k));
    k.client = ga("10.0.0.1");
    k.server = ga("10.0.0.2");
    k.proto = 6;
    k.port = 443;
    strcpy(k.app, "TLS");
    ck_assert_int_eq(graph_get_edge(g, &k, &e), 1);
    ck_assert_uint_eq(e.flows, 5);
    ck_assert_uint_eq(e.pkts[0], 15);
    ck_assert_uint_eq(e.bytes[1], 10000);
    ck_assert_uint_eq(e.flows_handshake, 4);
    ck_assert_uint_eq(e.flows_heuristic, 1);
    ck_assert_uint_eq(e.risk, (1ULL << 5) | (1ULL << 7) | (1ULL << 36));
    ck_assert_uint_eq(graph_days_count(&e.days), 3);
    ck_assert_uint_eq(e.n_name, 0);
    ck_assert_uint_eq(e.first_ns, t + 1);
    ck_assert_uint_eq(e.last_ns, t + 100 * DAY_NS);
    k.server = ga("93.184.216.34");
    ck_assert_int_eq(graph_get_edge(g, &k, &e), 1);
    ck_assert_uint_eq(e.n_name, 1);
    ck_assert_str_eq(e.name[0], "example.com");
    k.server = ga("10.0.0.9");
    k.proto = 1;
    k.port = 8;
    strcpy(k.app, "ICMP");
    ck_assert_int_eq(graph_get_edge(g, &k, &e), 1);
    k.proto = 17;
    k.port = 0;
    strcpy(k.app, "Unknown");
    ck_assert_int_eq(graph_get_edge(g, &k, &e), 1);

    ck_assert_int_eq(graph_get_node(g, &ad, &n), 1);
    ck_assert_uint_eq(n.as_server.flows, 5);
    ck_assert_uint_eq(n.as_client.flows, 0);
    ck_assert_uint_eq(n.internal, 1);
    ck_assert_uint_eq(n.n_ident, 1);
    ck_assert_str_eq(n.ident[0].value, "web.corp.example");
    ck_assert_int_eq(graph_get_node(g, &nowhere, &n), 0);
    graph_addr ext = ga("93.184.216.34");
    ck_assert_int_eq(graph_get_node(g, &ext, &n), 1);
    ck_assert_uint_eq(n.internal, 0);
    graph_addr cl = ga("10.0.0.1");
    ck_assert_int_eq(graph_get_node(g, &cl, &n), 1);
    ck_assert_uint_eq(n.as_client.flows, 8);
    ck_assert_uint_eq(n.as_client.bytes, 8 * 2300);

    graph_stats st;
    ck_assert_int_eq(graph_get_stats(g, &st, err, sizeof(err)), 0);
    ck_assert_uint_eq(st.flows, 8);
    ck_assert_uint_eq(st.captures, 1);
    graphagg_free(a);
    graph_close(g);
    netclass_free(nc);
    rm_tree(tmpdir);
}
END_TEST

/* A preflush handing over more identities than the node cap: no nested flush, all kept. */
static void
many_idents(void *ctx, graphagg *a)
{
    (void)ctx;
    for (int i = 1; i <= 10; i++) {
        char s[32];
        graph_addr ad;
        snprintf(s, sizeof(s), "10.1.0.%d", i);
        ad = ga(s);
        graphagg_ident(a, &ad, "dns", s, "dns", 5, 6, 1);
    }
}

START_TEST(test_aggregator_caps)
{
    static graph_capture cap;
    char err[512];
    int code;
    mk_tmp();
    netclass *nc = netclass_create();
    graph *g = graph_open(dbpath("db"), GRAPH_WRITE, &code, err, sizeof(err));
    ck_assert_msg(g != NULL, "%s", err);
    graphagg_cfg cfg;
    agg_cfg(&cfg, nc);
    cfg.max_nodes = 4;
    cfg.preflush = many_idents;
    memset(&cap, 0, sizeof(cap));
    graphagg *a = agg_new(g, &cfg, &cap, 7);
    /* Flows over 6 hosts with a cap of 4 nodes: flushes are forced between flows. */
    for (int i = 0; i < 3; i++) {
        char c[32], sv[32];
        snprintf(c, sizeof(c), "10.2.0.%d", i);
        snprintf(sv, sizeof(sv), "10.3.0.%d", i);
        flow f = mkflow(c, 1000, sv, 80, 6, DAY_NS, DAY_NS + 1, FLOW_ORIGIN_HANDSHAKE);
        graphagg_flow(a, &f, "HTTP", -1, NULL, 0);
    }
    ck_assert_int_eq(graphagg_finish(a, GRAPH_CAPTURE_COMPLETE), 0);
    ck_assert_uint_ge(graphagg_get_stats(a)->flushes_forced, 1);
    graph_stats st;
    ck_assert_int_eq(graph_get_stats(g, &st, err, sizeof(err)), 0);
    ck_assert_uint_eq(st.nodes, 16);        /* 6 with traffic, 10 from identities */
    ck_assert_uint_eq(st.edges, 3);
    ck_assert_uint_eq(st.flows, 3);
    graphagg_free(a);
    graph_close(g);
    netclass_free(nc);
    rm_tree(tmpdir);
}
END_TEST

/* The flows of the shard test: 400 flows over 7 clients and 5 servers,
   3 days, MACs, a name.  Odd flows go to shard 1, even ones to shard 0;
   the odd flows of client 10.4.1.1 are 100 days later, so its edges'
   days from the two shards do not fit one bitmap (a spill). */
static flow
shard_flow(int i, const char **name)
{
    char c[32], sv[32];
    snprintf(c, sizeof(c), "10.4.%d.1", i % 7);
    snprintf(sv, sizeof(sv), i % 5 == 4 ? "93.184.216.%d" : "10.5.%d.1", i % 5);
    uint64_t t = 19000 * DAY_NS + (uint64_t)(i % 3) * DAY_NS + (uint64_t)i;
    if (i % 2 == 1 && i % 7 == 1)
        t += 100 * DAY_NS;
    flow f = mkflow(c, (uint16_t)(1024 + i), sv, i % 3 ? 443 : 80, 6, t, t + 5,
                    i % 4 ? FLOW_ORIGIN_HANDSHAKE : FLOW_ORIGIN_PORT);
    f.d[0].has_mac = 1;
    memcpy(f.d[0].mac, "\x02\x00\x00\x00\x00", 5);
    f.d[0].mac[5] = (uint8_t)(i % 3);
    f.d[0].first_ns = t;
    *name = i % 5 == 4 ? "www.example.com" : NULL;
    return f;
}

/* One thread folding every other flow into its shard. */
typedef struct shard_job {
    graphagg_shard *s;          /* its shard */
    int parity;                 /* flows i with i % 2 == parity */
} shard_job;

static void *
shard_run(void *arg)
{
    shard_job *j = arg;
    for (int i = j->parity; i < 400; i += 2) {
        const char *name;
        flow f = shard_flow(i, &name);
        graphagg_shard_flow(j->s, &f, i % 3 ? "TLS" : "HTTP", -1, name, 0);
    }
    return NULL;
}

/* Every record of a database, encoded, in key order, into buf; returns bytes. */
typedef struct dump_ctx {
    uint8_t *buf;               /* the dump */
    size_t len, cap;            /* used, allocated */
} dump_ctx;

static int
dump_node(void *ctx, const graph_node *n)
{
    dump_ctx *d = ctx;
    ck_assert_uint_le(d->len + GRAPHREC_VAL_MAX, d->cap);
    d->len += graphrec_node_encode(n, d->buf + d->len, GRAPHREC_VAL_MAX);
    return 0;
}

static int
dump_edge(void *ctx, const graph_edge *e)
{
    dump_ctx *d = ctx;
    ck_assert_uint_le(d->len + GRAPHREC_VAL_MAX, d->cap);
    d->len += graphrec_edge_encode(e, d->buf + d->len, GRAPHREC_VAL_MAX);
    return 0;
}

static void
dump_db(const char *dir, dump_ctx *d)
{
    char err[512];
    int code;
    graph *g = graph_open(dir, GRAPH_READ, &code, err, sizeof(err));
    ck_assert_msg(g != NULL, "%s", err);
    ck_assert_int_eq(graph_foreach_node(g, dump_node, d, err, sizeof(err)), 0);
    ck_assert_int_eq(graph_foreach_edge(g, dump_edge, d, err, sizeof(err)), 0);
    graph_close(g);
}

/* More application names than the aggregator's table holds (1,024): the
   flows past it are counted and stored under "Unknown", none lost. */
START_TEST(test_aggregator_many_apps)
{
    static graph_capture cap;
    char err[512];
    int code;
    mk_tmp();
    netclass *nc = netclass_create();
    graph *g = graph_open(dbpath("db"), GRAPH_WRITE, &code, err, sizeof(err));
    ck_assert_msg(g != NULL, "%s", err);
    graphagg_cfg cfg;
    agg_cfg(&cfg, nc);
    memset(&cap, 0, sizeof(cap));
    graphagg *a = agg_new(g, &cfg, &cap, 8);
    enum { NAPPS = 1100 };
    static char names[NAPPS][16];
    for (int i = 0; i < NAPPS; i++) {
        snprintf(names[i], sizeof(names[i]), "App%d", i);
        flow f = mkflow("10.4.0.1", (uint16_t)(2000 + i), "10.5.0.1", 80, 6, DAY_NS, DAY_NS + 1,
                        FLOW_ORIGIN_HANDSHAKE);
        graphagg_flow(a, &f, names[i], -1, NULL, 0);
    }
    ck_assert_int_eq(graphagg_finish(a, GRAPH_CAPTURE_COMPLETE), 0);
    ck_assert_uint_eq(graphagg_get_stats(a)->apps_dropped, NAPPS - 1023);
    graph_stats st;
    ck_assert_int_eq(graph_get_stats(g, &st, err, sizeof(err)), 0);
    ck_assert_uint_eq(st.flows, NAPPS);
    ck_assert_uint_eq(st.edges, 1024);      /* 1,023 names and "Unknown" */
    graphagg_free(a);
    graph_close(g);
    netclass_free(nc);
    rm_tree(tmpdir);
}
END_TEST

START_TEST(test_aggregator_shards)
{
    static graph_capture cap;
    char err[512];
    int code;
    mk_tmp();
    netclass *nc = netclass_create();
    graphagg_cfg cfg;
    agg_cfg(&cfg, nc);
    memset(&cap, 0, sizeof(cap));
    cap.id = 9;

    /* One thread, one window. */
    graph *g = graph_open(dbpath("one"), GRAPH_WRITE, &code, err, sizeof(err));
    ck_assert_msg(g != NULL, "%s", err);
    graphagg *a = graphagg_create(g, &cfg, &cap, err, sizeof(err));
    ck_assert_msg(a != NULL, "%s", err);
    for (int i = 0; i < 400; i++) {
        const char *name;
        flow f = shard_flow(i, &name);
        graphagg_flow(a, &f, i % 3 ? "TLS" : "HTTP", -1, name, 0);
    }
    ck_assert_int_eq(graphagg_finish(a, GRAPH_CAPTURE_COMPLETE), 0);
    ck_assert_uint_eq(graphagg_get_stats(a)->flows, 400);
    graphagg_free(a);
    graph_close(g);

    /* Two threads, two shards: with the default caps (one window, where
       client 10.4.1.1's edges spill), then with caps small enough that the
       shards wait for the background flusher. */
    for (int run = 0; run < 2; run++) {
        g = graph_open(dbpath(run ? "small" : "two"), GRAPH_WRITE, &code, err, sizeof(err));
        ck_assert_msg(g != NULL, "%s", err);
        if (run)
            cfg.max_nodes = cfg.max_edges = 32;
        a = graphagg_create(g, &cfg, &cap, err, sizeof(err));
        ck_assert_msg(a != NULL, "%s", err);
        shard_job job[2];
        pthread_t th[2];
        for (int k = 0; k < 2; k++) {
            job[k].s = graphagg_shard_create(a, 2);
            job[k].parity = k;
            ck_assert_ptr_nonnull(job[k].s);
        }
        ck_assert_int_eq(graphagg_start(a, err, sizeof(err)), 0);
        for (int k = 0; k < 2; k++)
            ck_assert_int_eq(pthread_create(&th[k], NULL, shard_run, &job[k]), 0);
        for (int k = 0; k < 2; k++)
            pthread_join(th[k], NULL);
        ck_assert_int_eq(graphagg_finish(a, GRAPH_CAPTURE_COMPLETE), 0);
        const graphagg_stats *st = graphagg_get_stats(a);
        ck_assert_uint_eq(st->flows, 400);
        if (run)
            ck_assert_uint_ge(st->flushes_forced, 1);
        else
            ck_assert_uint_eq(st->flushes, 1);     /* its two batches count as one flush */
        graphagg_free(a);
        graph_close(g);
    }

    static uint8_t b1[1 << 20], b2[1 << 20];
    dump_ctx d1 = { b1, 0, sizeof(b1) };
    dump_db(dbpath("one"), &d1);
    ck_assert_uint_gt(d1.len, 0);
    for (int run = 0; run < 2; run++) {
        dump_ctx d2 = { b2, 0, sizeof(b2) };
        dump_db(dbpath(run ? "small" : "two"), &d2);
        ck_assert_uint_eq(d1.len, d2.len);
        ck_assert_int_eq(memcmp(b1, b2, d1.len), 0);
    }
    netclass_free(nc);
    rm_tree(tmpdir);
}
END_TEST

/* Flow i of the parts test: PARTS_FLOWS clients (some IPv6), 37 servers,
   so that a flush holds enough nodes and edges for two parts (8,192). */
#define PARTS_FLOWS 4200
static flow
parts_flow(int i)
{
    char c[64], sv[32];
    snprintf(c, sizeof(c), "10.8.%d.%d", i / 200, i % 200);
    snprintf(sv, sizeof(sv), "10.9.0.%d", i % 40);
    uint64_t t = 19900 * DAY_NS + (uint64_t)i;
    flow f = mkflow(c, (uint16_t)(2000 + i), sv, i % 2 ? 443 : 53, i % 2 ? 6 : 17, t, t + 5,
                    FLOW_ORIGIN_HANDSHAKE);
    if (i % 10 == 3) {
        snprintf(c, sizeof(c), "2001:db8::%x", i);
        f.key.ip_version = 6;
        inet_pton(AF_INET6, c, f.key.a);
        inet_pton(AF_INET6, "2001:db8:ffff::1", f.key.b);
    }
    return f;
}

/* Fold the parts test's flows: with shards, into nshards of them (from this thread). */
static void
fold_parts_flows(graphagg *a, graphagg_shard **sh, int nshards)
{
    for (int i = 0; i < PARTS_FLOWS; i++) {
        flow f = parts_flow(i);
        const char *app = i % 3 ? "TLS" : "DNS";
        if (nshards)
            graphagg_shard_flow(sh[i % nshards], &f, app, -1, NULL, 0);
        else
            graphagg_flow(a, &f, app, -1, NULL, 0);
    }
}

/*
 * A flush split into parts, one per shard (two), written by two threads:
 * the database one aggregator without shards writes, into a new database
 * (reads skipped) and then again into the same one (records read and
 * merged); the counters alike.
 */
START_TEST(test_aggregator_parts)
{
    static graph_capture cap;
    char err[512];
    int code;
    mk_tmp();
    netclass *nc = netclass_create();
    graphagg_cfg cfg;
    agg_cfg(&cfg, nc);
    graphagg_stats st[2];
    for (int run = 0; run < 2; run++) {
        for (int pass = 0; pass < 2; pass++) {
            graph *g = graph_open(dbpath(run ? "two" : "one"), GRAPH_WRITE, &code, err, sizeof(err));
            ck_assert_msg(g != NULL, "%s", err);
            graphagg *a = agg_new(g, &cfg, &cap, 20 + (uint64_t)pass);
            graphagg_shard *sh[2];
            for (int k = 0; run && k < 2; k++)
                ck_assert_ptr_nonnull(sh[k] = graphagg_shard_create(a, 2));
            fold_parts_flows(a, sh, run ? 2 : 0);
            ck_assert_int_eq(graphagg_finish(a, GRAPH_CAPTURE_COMPLETE), 0);
            st[run] = *graphagg_get_stats(a);
            graphagg_free(a);
            graph_close(g);
        }
        ck_assert_uint_eq(st[run].flows, PARTS_FLOWS);
        ck_assert_uint_eq(st[run].nodes_new, 0);    /* the second pass found them all */
        ck_assert_uint_eq(st[run].nodes_written, PARTS_FLOWS + 37); /* 36 IPv4 servers, 1 IPv6 */
        ck_assert_uint_eq(st[run].edges_written, PARTS_FLOWS);
    }
    ck_assert_uint_eq(st[0].batch_bytes_max, st[1].batch_bytes_max);
    ck_assert_uint_ge(st[0].batch_bytes_max, GRAPH_INGEST_MIN_BYTES);   /* SST files */
    ck_assert_uint_eq(st[0].reads_skipped, st[1].reads_skipped);
    size_t cap_bytes = 16u << 20;
    uint8_t *b1 = malloc(cap_bytes), *b2 = malloc(cap_bytes);
    ck_assert(b1 && b2);
    dump_ctx d1 = { b1, 0, cap_bytes }, d2 = { b2, 0, cap_bytes };
    dump_db(dbpath("one"), &d1);
    dump_db(dbpath("two"), &d2);
    ck_assert_uint_gt(d1.len, 0);
    ck_assert_uint_eq(d1.len, d2.len);
    ck_assert_int_eq(memcmp(b1, b2, d1.len), 0);
    free(b1);
    free(b2);
    netclass_free(nc);
    rm_tree(tmpdir);
}
END_TEST

/* The flows of the skipped-reads test: 3 clients, 2 servers, 6 edges; an ICMP one. */
static void
fold_skip_flows(graphagg *a)
{
    uint64_t t = 19800 * DAY_NS;
    for (int i = 0; i < 3; i++) {
        char c[32];
        snprintf(c, sizeof(c), "10.6.0.%d", i + 1);
        flow f = mkflow(c, (uint16_t)(40000 + i), "10.7.0.1", 443, 6, t + 1, t + 2, FLOW_ORIGIN_HANDSHAKE);
        graphagg_flow(a, &f, "TLS", -1, NULL, 0);
        f = mkflow(c, (uint16_t)(41000 + i), "93.184.216.34", 53, 17, t + 3, t + 4, FLOW_ORIGIN_PORT);
        graphagg_flow(a, &f, i == 2 ? "ICMP" : "DNS", -1, "ns.example", 0);
    }
}

/* What the skipped-reads test expects after `runs` folds of fold_skip_flows
   (and, with extra, the one flow between two other hosts). */
static void
check_skip_db(graph *g, uint64_t runs, int extra)
{
    static graph_edge e;
    static graph_node n;
    graph_edge_key k;
    char err[512];
    memset(&k, 0, sizeof(k));
    k.client = ga("10.6.0.2");
    k.server = ga("10.7.0.1");
    k.proto = 6;
    k.port = 443;
    strcpy(k.app, "TLS");
    ck_assert_int_eq(graph_get_edge(g, &k, &e), 1);
    ck_assert_uint_eq(e.flows, runs);
    ck_assert_uint_eq(e.pkts[0], 3 * runs);
    ck_assert_uint_eq(e.bytes[1], 2000 * runs);
    k.client = ga("10.6.0.3");
    k.server = ga("93.184.216.34");
    k.proto = 17;
    k.port = 53;
    strcpy(k.app, "ICMP");
    ck_assert_int_eq(graph_get_edge(g, &k, &e), 1);
    ck_assert_uint_eq(e.flows, runs);
    ck_assert_uint_eq(e.n_name, 1);
    graph_addr ad = ga("10.7.0.1");
    ck_assert_int_eq(graph_get_node(g, &ad, &n), 1);
    ck_assert_uint_eq(n.as_server.flows, 3 * runs);
    ad = ga("10.6.0.1");
    ck_assert_int_eq(graph_get_node(g, &ad, &n), 1);
    ck_assert_uint_eq(n.as_client.flows, 2 * runs);
    ck_assert_uint_eq(n.as_client.bytes, 2 * 2300 * runs);
    graph_stats st;
    ck_assert_int_eq(graph_get_stats(g, &st, err, sizeof(err)), 0);
    ck_assert_uint_eq(st.nodes, 5 + (extra ? 2 : 0));
    ck_assert_uint_eq(st.edges, 6 + (extra ? 1 : 0));
    ck_assert_uint_eq(st.flows, 6 * runs + (extra ? 1 : 0));
    ck_assert_uint_eq(st.corrupt, 0);
}

/*
 * Reads skipped for keys never written: into a new database, the first
 * flush reads nothing and a second flush of the same keys reads them all
 * and merges (counts doubled); a database that had records at its open,
 * or a handle another aggregator wrote through, never skips.
 */
START_TEST(test_aggregator_skips_reads)
{
    static graph_capture cap;
    char err[512];
    int code;
    mk_tmp();
    netclass *nc = netclass_create();
    graphagg_cfg cfg;
    agg_cfg(&cfg, nc);
    memset(&cap, 0, sizeof(cap));

    /* A new database. */
    graph *g = graph_open(dbpath("db"), GRAPH_WRITE, &code, err, sizeof(err));
    ck_assert_msg(g != NULL, "%s", err);
    ck_assert_int_eq(graph_no_records_at_open(g), 1);
    graphagg *a = agg_new(g, &cfg, &cap, 1);
    fold_skip_flows(a);
    ck_assert_int_eq(graphagg_flush(a), 0);
    const graphagg_stats *st = graphagg_get_stats(a);
    ck_assert_uint_eq(st->reads_skipped, 5 + 6);    /* every key */
    ck_assert_uint_eq(st->nodes_new, 5);
    ck_assert_uint_eq(st->edges_new, 6);
    check_skip_db(g, 1, 0);
    /* The same keys again, and two new nodes and an edge: only those skip. */
    fold_skip_flows(a);
    flow f = mkflow("10.6.0.9", 1, "10.7.0.9", 80, 6, DAY_NS, DAY_NS + 1, FLOW_ORIGIN_HANDSHAKE);
    graphagg_flow(a, &f, "HTTP", -1, NULL, 0);
    ck_assert_int_eq(graphagg_finish(a, GRAPH_CAPTURE_COMPLETE), 0);
    ck_assert_uint_eq(st->reads_skipped, 5 + 6 + 3);
    ck_assert_uint_eq(st->nodes_new, 7);
    ck_assert_uint_eq(st->edges_new, 7);
    ck_assert_uint_eq(st->nodes_written, 5 + 7);
    ck_assert_uint_eq(st->edges_written, 6 + 7);
    check_skip_db(g, 2, 1);
    graphagg_free(a);
    /* A second aggregator on the same handle: the records are the first one's, never skip. */
    a = agg_new(g, &cfg, &cap, 2);
    fold_skip_flows(a);
    ck_assert_int_eq(graphagg_finish(a, GRAPH_CAPTURE_COMPLETE), 0);
    ck_assert_uint_eq(graphagg_get_stats(a)->reads_skipped, 0);
    ck_assert_uint_eq(graphagg_get_stats(a)->nodes_new, 0);
    ck_assert_uint_eq(graphagg_get_stats(a)->edges_new, 0);
    check_skip_db(g, 3, 1);
    graphagg_free(a);
    graph_close(g);

    /* Reopened: it has records, so nothing skips, and every count merges. */
    g = graph_open(dbpath("db"), GRAPH_WRITE, &code, err, sizeof(err));
    ck_assert_msg(g != NULL, "%s", err);
    ck_assert_int_eq(graph_no_records_at_open(g), 0);
    a = agg_new(g, &cfg, &cap, 3);
    fold_skip_flows(a);
    ck_assert_int_eq(graphagg_flush(a), 0);
    fold_skip_flows(a);
    ck_assert_int_eq(graphagg_finish(a, GRAPH_CAPTURE_COMPLETE), 0);
    ck_assert_uint_eq(graphagg_get_stats(a)->reads_skipped, 0);
    ck_assert_uint_eq(graphagg_get_stats(a)->nodes_new, 0);
    ck_assert_uint_eq(graphagg_get_stats(a)->edges_new, 0);
    check_skip_db(g, 5, 1);
    graphagg_free(a);
    graph_close(g);
    g = graph_open(dbpath("db"), GRAPH_READ, &code, err, sizeof(err));
    ck_assert_msg(g != NULL, "%s", err);
    ck_assert_int_eq(graph_no_records_at_open(g), 0);
    check_skip_db(g, 5, 1);
    graph_close(g);

    /* Only schema and capture records (a run that folded nothing): it still skips. */
    g = graph_open(dbpath("empty"), GRAPH_WRITE, &code, err, sizeof(err));
    ck_assert_msg(g != NULL, "%s", err);
    a = agg_new(g, &cfg, &cap, 4);
    ck_assert_int_eq(graphagg_finish(a, GRAPH_CAPTURE_COMPLETE), 0);
    graphagg_free(a);
    graph_close(g);
    g = graph_open(dbpath("empty"), GRAPH_WRITE, &code, err, sizeof(err));
    ck_assert_msg(g != NULL, "%s", err);
    ck_assert_int_eq(graph_no_records_at_open(g), 1);
    a = agg_new(g, &cfg, &cap, 5);
    fold_skip_flows(a);
    ck_assert_int_eq(graphagg_flush(a), 0);
    fold_skip_flows(a);
    ck_assert_int_eq(graphagg_finish(a, GRAPH_CAPTURE_COMPLETE), 0);
    ck_assert_uint_eq(graphagg_get_stats(a)->reads_skipped, 5 + 6);
    check_skip_db(g, 2, 0);
    graphagg_free(a);
    graph_close(g);

    /* A database with a node record only (written raw): nothing skips. */
    uint8_t key[GRAPHREC_KEY_MAX], val[GRAPHREC_VAL_MAX];
    static graph_node rn;
    graph_addr ad = ga("10.6.0.1");
    graph_node_init(&rn, &ad);
    rn.as_client.flows = 1;
    size_t klen = graphrec_node_key(&rn.addr, key), vlen = graphrec_node_encode(&rn, val, sizeof(val));
    uint8_t sch[16];
    size_t slen = graph_schema_encode(GRAPH_SCHEMA, 1, sch);
    ck_assert_int_eq(graph_debug_put_raw(dbpath("one"), graph_schema_key, strlen(graph_schema_key),
                                         sch, slen, err, sizeof(err)), 0);
    ck_assert_int_eq(graph_debug_put_raw(dbpath("one"), key, klen, val, vlen, err, sizeof(err)), 0);
    g = graph_open(dbpath("one"), GRAPH_WRITE, &code, err, sizeof(err));
    ck_assert_msg(g != NULL, "%s", err);
    ck_assert_int_eq(graph_no_records_at_open(g), 0);
    a = agg_new(g, &cfg, &cap, 6);
    fold_skip_flows(a);
    ck_assert_int_eq(graphagg_finish(a, GRAPH_CAPTURE_COMPLETE), 0);
    ck_assert_uint_eq(graphagg_get_stats(a)->reads_skipped, 0);
    ck_assert_uint_eq(graphagg_get_stats(a)->nodes_new, 4);
    ck_assert_int_eq(graph_get_node(g, &ad, &rn), 1);
    ck_assert_uint_eq(rn.as_client.flows, 1 + 2);
    graphagg_free(a);
    graph_close(g);
    netclass_free(nc);
    rm_tree(tmpdir);
}
END_TEST

Suite *
suite_graph(void)
{
    Suite *s = suite_create("graph");
    TCase *tc = tcase_create("records");
    tcase_add_test(tc, test_node_roundtrip);
    tcase_add_test(tc, test_edge_roundtrip);
    tcase_add_test(tc, test_capture_roundtrip);
    tcase_add_test(tc, test_corrupt_records);
    tcase_add_test(tc, test_edge_old_version);
    tcase_add_test(tc, test_random_bytes);
    tcase_add_test(tc, test_days);
    tcase_add_test(tc, test_merge);
    suite_add_tcase(s, tc);
    TCase *db = tcase_create("store");
    tcase_set_timeout(db, 60);
    tcase_add_test(db, test_store_accumulates);
    tcase_add_test(db, test_store_batch_order);
    tcase_add_test(db, test_store_parts);
    tcase_add_test(db, test_store_parts_fail);
    tcase_add_test(db, test_store_refuses);
    tcase_add_test(db, test_store_old_schema);
    tcase_add_test(db, test_store_skips_corrupt);
    tcase_add_test(db, test_aggregator);
    tcase_add_test(db, test_aggregator_caps);
    tcase_add_test(db, test_aggregator_many_apps);
    tcase_add_test(db, test_aggregator_shards);
    tcase_add_test(db, test_aggregator_parts);
    tcase_add_test(db, test_aggregator_skips_reads);
    suite_add_tcase(s, db);
    return s;
}
