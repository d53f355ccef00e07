/*
 * check_flowtab.c - flow table: keys, client choice, timeouts, eviction,
 * fragments.  Packets are pkt_meta records built here, so these tests do
 * not depend on the decoder.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "capture/flowtab.h"
#include "tests/suites.h"

#define S 1000000000ULL

/* Flows exported by the table under test, copied. */
typedef struct sink {
    flow got[64];
    int n;
} sink;

static void
sink_fn(void *ctx, flow *f)
{
    sink *s = ctx;
    if (s->n < 64)
        s->got[s->n++] = *f;
}

static pkt_meta
mk(const char *src, uint16_t sport, const char *dst, uint16_t dport, int proto, uint8_t flags)
{
    pkt_meta m;
    memset(&m, 0, sizeof(m));
    m.ip_version = 4;
    m.ip_layer = 1;
    m.proto = (uint8_t)proto;
    inet_pton(AF_INET, src, m.src);
    inet_pton(AF_INET, dst, m.dst);
    m.sport = sport;
    m.dport = dport;
    m.has_ports = 1;
    m.tcp_flags = flags;
    return m;
}

static flowtab *
mktab(sink *s, uint64_t max_flows)
{
    flowtab_cfg cfg;
    flowtab_cfg_default(&cfg);
    if (max_flows)
        cfg.max_flows = max_flows;
    memset(s, 0, sizeof(*s));
    return flowtab_create(&cfg, sink_fn, s);
}

START_TEST(test_handshake_client)
{
    sink s;
    flowtab *t = mktab(&s, 0);
    int fc;
    pkt_meta syn = mk("10.0.0.2", 40000, "10.0.0.1", 80, 6, 0x02);
    pkt_meta synack = mk("10.0.0.1", 80, "10.0.0.2", 40000, 6, 0x12);
    pkt_meta ack = mk("10.0.0.2", 40000, "10.0.0.1", 80, 6, 0x10);
    flow *f1 = flowtab_packet(t, &syn, 1 * S, 60, &fc);
    ck_assert_int_eq(fc, 1);
    flow *f2 = flowtab_packet(t, &synack, 1 * S + 10, 60, &fc);
    ck_assert_ptr_eq(f1, f2);
    ck_assert_int_eq(fc, 0);
    flowtab_packet(t, &ack, 1 * S + 20, 54, &fc);
    flowtab_flush(t);
    ck_assert_int_eq(s.n, 1);
    flow *f = &s.got[0];
    ck_assert_int_eq(f->origin, FLOW_ORIGIN_HANDSHAKE);
    ck_assert_int_eq(flow_cport(f), 40000);
    ck_assert_int_eq(flow_sport(f), 80);
    ck_assert_int_eq(f->d[0].pkts, 2);
    ck_assert_int_eq(f->d[0].bytes, 114);
    ck_assert_int_eq(f->d[1].pkts, 1);
    ck_assert_int_eq(f->d[0].tcp_flags, 0x12);
    ck_assert_int_eq(f->d[1].tcp_flags, 0x12);
    ck_assert_int_eq(f->end, FLOW_END_EOF);
    flowtab_free(t);
}
END_TEST

/* Mid-stream: first packet from the server port; the port heuristic names the client. */
START_TEST(test_midstream_port_heuristic)
{
    sink s;
    flowtab *t = mktab(&s, 0);
    int fc;
    pkt_meta a = mk("10.0.0.1", 443, "10.0.0.2", 51000, 6, 0x18);
    flowtab_packet(t, &a, 1 * S, 100, &fc);
    ck_assert_int_eq(fc, 0);
    flowtab_flush(t);
    ck_assert_int_eq(s.got[0].origin, FLOW_ORIGIN_PORT);
    ck_assert_int_eq(flow_sport(&s.got[0]), 443);
    ck_assert_int_eq(s.got[0].d[1].pkts, 1);
    flowtab_free(t);
}
END_TEST

/* A SYN+ACK seen first: its receiver is the client. */
START_TEST(test_synack_first)
{
    sink s;
    flowtab *t = mktab(&s, 0);
    int fc;
    pkt_meta a = mk("10.0.0.1", 5000, "10.0.0.2", 6000, 6, 0x12);
    flowtab_packet(t, &a, 1 * S, 60, &fc);
    ck_assert_int_eq(fc, 0);
    flowtab_flush(t);
    ck_assert_int_eq(s.got[0].origin, FLOW_ORIGIN_SYNACK);
    ck_assert_int_eq(flow_cport(&s.got[0]), 6000);
    flowtab_free(t);
}
END_TEST

/* A guess overridden by a later SYN swaps the counters. */
START_TEST(test_late_syn_overrides)
{
    sink s;
    flowtab *t = mktab(&s, 0);
    int fc;
    pkt_meta a = mk("10.0.0.1", 5000, "10.0.0.2", 6000, 6, 0x10); /* guessed client: .1 */
    pkt_meta syn = mk("10.0.0.2", 6000, "10.0.0.1", 5000, 6, 0x02);
    flowtab_packet(t, &a, 1 * S, 60, &fc);
    ck_assert_int_eq(fc, 1);
    flowtab_packet(t, &syn, 2 * S, 70, &fc);
    ck_assert_int_eq(fc, 1);
    flowtab_flush(t);
    ck_assert_int_eq(s.n, 1);
    ck_assert_int_eq(s.got[0].origin, FLOW_ORIGIN_HANDSHAKE);
    ck_assert_int_eq(flow_cport(&s.got[0]), 6000);
    ck_assert_int_eq(s.got[0].d[0].bytes, 70);
    ck_assert_int_eq(s.got[0].d[1].bytes, 60);
    flowtab_free(t);
}
END_TEST

START_TEST(test_udp_idle_timeout)
{
    sink s;
    flowtab *t = mktab(&s, 0);
    int fc;
    pkt_meta q = mk("10.0.0.2", 53000, "10.0.0.53", 53, 17, 0);
    flowtab_packet(t, &q, 1 * S, 80, &fc);
    flowtab_expire(t, 100 * S);
    ck_assert_int_eq(s.n, 0);
    flowtab_expire(t, 122 * S);
    ck_assert_int_eq(s.n, 1);
    ck_assert_int_eq(s.got[0].end, FLOW_END_IDLE);
    ck_assert_int_eq(flowtab_get_stats(t)->active, 0);
    flowtab_free(t);
}
END_TEST

/* After RST the short timeout applies; a new SYN on a closed flow starts a new record. */
START_TEST(test_tcp_close_and_reuse)
{
    sink s;
    flowtab *t = mktab(&s, 0);
    int fc;
    pkt_meta syn = mk("10.0.0.2", 40000, "10.0.0.1", 22, 6, 0x02);
    pkt_meta rst = mk("10.0.0.1", 22, "10.0.0.2", 40000, 6, 0x14);
    flowtab_packet(t, &syn, 1 * S, 60, &fc);
    flowtab_packet(t, &rst, 1 * S + 5, 60, &fc);
    flowtab_packet(t, &syn, 2 * S, 60, &fc);
    ck_assert_int_eq(s.n, 1);
    ck_assert_int_eq(s.got[0].end, FLOW_END_CLOSED);
    flowtab_packet(t, &rst, 2 * S + 5, 60, &fc);
    flowtab_expire(t, 13 * S);
    ck_assert_int_eq(s.n, 2);
    ck_assert_int_eq(flowtab_get_stats(t)->created, 2);
    flowtab_free(t);
}
END_TEST

START_TEST(test_active_timeout_splits)
{
    sink s;
    flowtab_cfg cfg;
    flowtab_cfg_default(&cfg);
    cfg.active_ns = 10 * S;
    cfg.udp_idle_ns = 100 * S;
    memset(&s, 0, sizeof(s));
    flowtab *t = flowtab_create(&cfg, sink_fn, &s);
    int fc;
    pkt_meta q = mk("10.0.0.2", 5000, "10.0.0.3", 5001, 17, 0);
    for (int i = 0; i < 25; i++)
        flowtab_packet(t, &q, (uint64_t)(1 + i) * S, 100, &fc);
    flowtab_flush(t);
    ck_assert_int_eq(s.n, 3);
    ck_assert_int_eq(s.got[0].end, FLOW_END_ACTIVE);
    ck_assert_int_eq(s.got[0].d[0].pkts, 10);
    ck_assert_int_eq(s.got[2].end, FLOW_END_EOF);
    ck_assert_int_eq(s.got[0].d[0].pkts + s.got[1].d[0].pkts + s.got[2].d[0].pkts, 25);
    flowtab_free(t);
}
END_TEST

/* max_flows: the least recently used flow is exported, never lost. */
START_TEST(test_eviction_lru)
{
    sink s;
    flowtab *t = mktab(&s, 2);
    int fc;
    pkt_meta a = mk("10.0.0.1", 1000, "10.0.0.9", 53, 17, 0);
    pkt_meta b = mk("10.0.0.2", 1000, "10.0.0.9", 53, 17, 0);
    pkt_meta c = mk("10.0.0.3", 1000, "10.0.0.9", 53, 17, 0);
    flowtab_packet(t, &a, 1 * S, 70, &fc);
    flowtab_packet(t, &b, 2 * S, 70, &fc);
    flowtab_packet(t, &a, 3 * S, 70, &fc);      /* a is now more recent than b */
    flowtab_packet(t, &c, 4 * S, 70, &fc);
    ck_assert_int_eq(s.n, 1);
    ck_assert_int_eq(s.got[0].end, FLOW_END_EVICTED);
    ck_assert_int_eq(flow_cport(&s.got[0]), 1000);
    ck_assert_int_eq(s.got[0].key.a[3] == 2 || s.got[0].key.b[3] == 2, 1);
    flowtab_flush(t);
    ck_assert_int_eq(s.n, 3);
    const flowtab_stats *st = flowtab_get_stats(t);
    ck_assert_int_eq(st->ended[FLOW_END_EVICTED], 1);
    ck_assert_int_eq(st->peak, 2);
    flowtab_free(t);
}
END_TEST

START_TEST(test_fragments)
{
    sink s;
    flowtab *t = mktab(&s, 0);
    int fc;
    pkt_meta first = mk("10.0.0.2", 5353, "10.0.0.3", 9999, 17, 0);
    first.frag = DEC_FRAG_FIRST;
    first.ip_id = 77;
    pkt_meta later = first;
    later.frag = DEC_FRAG_LATER;
    later.sport = later.dport = 0;
    later.has_ports = 0;
    pkt_meta stray = later;
    stray.ip_id = 78;
    ck_assert_ptr_nonnull(flowtab_packet(t, &first, 1 * S, 1514, &fc));
    ck_assert_ptr_nonnull(flowtab_packet(t, &later, 1 * S + 1, 600, &fc));
    ck_assert_ptr_null(flowtab_packet(t, &stray, 1 * S + 2, 600, &fc));
    flowtab_flush(t);
    ck_assert_int_eq(s.n, 1);
    ck_assert_int_eq(s.got[0].d[0].pkts + s.got[0].d[1].pkts, 2);
    ck_assert_int_eq(s.got[0].d[0].frag_pkts + s.got[0].d[1].frag_pkts, 1);
    ck_assert_int_eq(s.got[0].d[0].frag_bytes + s.got[0].d[1].frag_bytes, 600);
    ck_assert_int_eq(flowtab_get_stats(t)->frag_unmatched, 1);
    flowtab_free(t);
}
END_TEST

START_TEST(test_vlan_key)
{
    sink s;
    int fc;
    pkt_meta a = mk("10.0.0.1", 1000, "10.0.0.9", 80, 6, 0x02);
    pkt_meta b = a;
    a.n_vlan = 1; a.vlan[0] = 300;
    b.n_vlan = 1; b.vlan[0] = 50;
    flowtab *t = mktab(&s, 0);
    flowtab_packet(t, &a, 1 * S, 60, &fc);
    flowtab_packet(t, &b, 1 * S, 60, &fc);
    ck_assert_int_eq(flowtab_get_stats(t)->created, 2);
    flowtab_free(t);

    flowtab_cfg cfg;
    flowtab_cfg_default(&cfg);
    cfg.key_vlan = 0;
    t = flowtab_create(&cfg, sink_fn, &s);
    flowtab_packet(t, &a, 1 * S, 60, &fc);
    flowtab_packet(t, &b, 1 * S, 60, &fc);
    ck_assert_int_eq(flowtab_get_stats(t)->created, 1);
    flowtab_free(t);
}
END_TEST

/* Flush exports in creation order; many flows exercise hash growth. */
static uint64_t order_last, order_n;
static int order_ok;

static void
order_fn(void *ctx, flow *f)
{
    (void)ctx;
    if (f->seq <= order_last)
        order_ok = 0;
    order_last = f->seq;
    order_n++;
}

START_TEST(test_flush_order_and_growth)
{
    flowtab_cfg cfg;
    flowtab_cfg_default(&cfg);
    order_last = order_n = 0;
    order_ok = 1;
    flowtab *t = flowtab_create(&cfg, order_fn, NULL);
    int fc;
    for (int i = 0; i < 5000; i++) {
        /* Touch flows out of creation order so LRU order != creation order. */
        pkt_meta m = mk("10.0.0.1", (uint16_t)(1024 + (i * 7919) % 5000), "10.0.0.2", 80, 6, 0x02);
        ck_assert_ptr_nonnull(flowtab_packet(t, &m, (uint64_t)i, 60, &fc));
    }
    ck_assert_int_eq(flowtab_get_stats(t)->active, 5000);
    flowtab_flush(t);
    ck_assert_int_eq(order_n, 5000);
    ck_assert_int_eq(order_ok, 1);
    ck_assert_int_eq(flowtab_get_stats(t)->active, 0);
    ck_assert_int_eq(flowtab_get_stats(t)->ended[FLOW_END_EOF], 5000);
    flowtab_free(t);
}
END_TEST

Suite *
suite_flowtab(void)
{
    Suite *s = suite_create("flowtab");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_handshake_client);
    tcase_add_test(tc, test_midstream_port_heuristic);
    tcase_add_test(tc, test_synack_first);
    tcase_add_test(tc, test_late_syn_overrides);
    tcase_add_test(tc, test_udp_idle_timeout);
    tcase_add_test(tc, test_tcp_close_and_reuse);
    tcase_add_test(tc, test_active_timeout_splits);
    tcase_add_test(tc, test_eviction_lru);
    tcase_add_test(tc, test_fragments);
    tcase_add_test(tc, test_vlan_key);
    tcase_add_test(tc, test_flush_order_and_growth);
    suite_add_tcase(s, tc);
    return s;
}
