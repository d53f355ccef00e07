/*
 * fuzz_graphrec.c - fuzz the decoders of the graph's DB records
 * (analyzer/graphrec.c): what "segscope capture --db" reads back from
 * RocksDB, which a damaged or hostile database can fill with anything.
 *
 * Input: one byte that picks the decoder (byte % 6: node key, edge key,
 * capture key, node value, edge value, capture value), then the bytes.
 * What the decoders promise, checked here:
 *   - a key that decodes encodes back to the same bytes (keys are canonical);
 *   - a value that decodes can be encoded (in GRAPHREC_VAL_MAX bytes), and
 *     that encoding decodes to a record that encodes the same way again;
 *   - list counts stay within their caps and strings are terminated;
 *   - merging the record into itself and into an empty record keeps all
 *     that (the accumulation "segscope capture" does on every flush).
 */
#include <string.h>

#include "analyzer/graphrec.h"
#include "fuzz/fuzz.h"

/* A string field is terminated within its buffer. */
#define FUZZ_STR_OK(s) FUZZ_ASSERT(memchr((s), '\0', sizeof(s)) != NULL)

static uint8_t fz_buf1[GRAPHREC_VAL_MAX], fz_buf2[GRAPHREC_VAL_MAX];

static void
fz_node_check(const graph_node *n)
{
    FUZZ_ASSERT(n->n_mac <= GRAPH_MAX_MACS && n->n_ident <= GRAPH_MAX_IDENTS &&
                n->n_label <= GRAPH_MAX_LABELS);
    for (unsigned i = 0; i < n->n_ident; i++) {
        FUZZ_STR_OK(n->ident[i].kind);
        FUZZ_STR_OK(n->ident[i].value);
        FUZZ_STR_OK(n->ident[i].source);
    }
    for (unsigned i = 0; i < n->n_label; i++) {
        FUZZ_STR_OK(n->label[i].key);
        FUZZ_STR_OK(n->label[i].value);
    }
    FUZZ_STR_OK(n->geo.country);
    FUZZ_STR_OK(n->geo.org);
}

static void
fz_edge_check(const graph_edge *e)
{
    FUZZ_ASSERT(e->days.n <= GRAPH_MAX_DAYS && e->n_name <= GRAPH_MAX_NAMES);
    for (uint32_t i = 1; i < e->days.n; i++)
        FUZZ_ASSERT(e->days.day[i] > e->days.day[i - 1]);
    for (uint32_t i = 0; i < e->n_name; i++)
        FUZZ_STR_OK(e->name[i]);
    FUZZ_STR_OK(e->k.app);
}

/* Encode, decode the encoding, encode again: both encodings equal. */
static void
fz_node_roundtrip(const graph_node *n)
{
    static graph_node back;
    fz_node_check(n);
    size_t l1 = graphrec_node_encode(n, fz_buf1, sizeof fz_buf1);
    FUZZ_ASSERT(l1 > 0);
    back.addr = n->addr;
    FUZZ_ASSERT(graphrec_node_decode(fz_buf1, l1, &back) == GRAPHREC_OK);
    size_t l2 = graphrec_node_encode(&back, fz_buf2, sizeof fz_buf2);
    FUZZ_ASSERT(l2 == l1 && memcmp(fz_buf1, fz_buf2, l1) == 0);
}

static void
fz_edge_roundtrip(const graph_edge *e)
{
    static graph_edge back;
    fz_edge_check(e);
    size_t l1 = graphrec_edge_encode(e, fz_buf1, sizeof fz_buf1);
    FUZZ_ASSERT(l1 > 0);
    back.k = e->k;
    FUZZ_ASSERT(graphrec_edge_decode(fz_buf1, l1, &back) == GRAPHREC_OK);
    size_t l2 = graphrec_edge_encode(&back, fz_buf2, sizeof fz_buf2);
    FUZZ_ASSERT(l2 == l1 && memcmp(fz_buf1, fz_buf2, l1) == 0);
}

static void
fz_capture_roundtrip(const graph_capture *c)
{
    static graph_capture back;
    FUZZ_ASSERT(c->n_input <= GRAPH_MAX_INPUTS && c->state < GRAPH_CAPTURE_STATE_COUNT);
    for (uint32_t i = 0; i < c->n_input; i++)
        FUZZ_STR_OK(c->input[i].name);
    FUZZ_STR_OK(c->version);
    size_t l1 = graphrec_capture_encode(c, fz_buf1, sizeof fz_buf1);
    FUZZ_ASSERT(l1 > 0);
    back.id = c->id;
    FUZZ_ASSERT(graphrec_capture_decode(fz_buf1, l1, &back) == GRAPHREC_OK);
    size_t l2 = graphrec_capture_encode(&back, fz_buf2, sizeof fz_buf2);
    FUZZ_ASSERT(l2 == l1 && memcmp(fz_buf1, fz_buf2, l1) == 0);
    FUZZ_ASSERT(graph_capture_state_name(c->state) != NULL);
}

int
fuzz_graphrec(const uint8_t *data, size_t size)
{
    static graph_node node, acc_node;
    static graph_edge edge, acc_edge;
    static graph_capture cap;
    uint8_t key[GRAPHREC_KEY_MAX];
    graphrec_status st;

    if (size < 1)
        return 0;
    int op = data[0] % 6;
    const uint8_t *p = data + 1;
    size_t n = size - 1;

    switch (op) {
    case 0: {
        graph_addr a;
        st = graphrec_node_key_decode(p, n, &a);
        if (st == GRAPHREC_OK) {
            size_t kl = graphrec_node_key(&a, key);
            FUZZ_ASSERT(kl == n && memcmp(key, p, n) == 0);
        }
        break;
    }
    case 1: {
        graph_edge_key k;
        st = graphrec_edge_key_decode(p, n, &k);
        if (st == GRAPHREC_OK) {
            FUZZ_STR_OK(k.app);
            size_t kl = graphrec_edge_key(&k, key);
            FUZZ_ASSERT(kl == n && memcmp(key, p, n) == 0);
        }
        break;
    }
    case 2: {
        uint64_t id;
        st = graphrec_capture_key_decode(p, n, &id);
        if (st == GRAPHREC_OK) {
            size_t kl = graphrec_capture_key(id, key);
            FUZZ_ASSERT(kl == n && memcmp(key, p, n) == 0);
        }
        break;
    }
    case 3: {
        graph_addr a;
        memset(&a, 0, sizeof a);
        a.family = 4;
        node.addr = a;
        st = graphrec_node_decode(p, n, &node);
        if (st != GRAPHREC_OK)
            break;
        fz_node_roundtrip(&node);
        graph_node_init(&acc_node, &a);
        graph_node_merge(&acc_node, &node);     /* into an empty record */
        fz_node_roundtrip(&acc_node);
        graph_node_merge(&acc_node, &node);     /* into itself (same key) */
        fz_node_roundtrip(&acc_node);
        break;
    }
    case 4: {
        graph_edge_key k;
        memset(&k, 0, sizeof k);
        k.client.family = k.server.family = 4;
        graph_strcpy(k.app, sizeof k.app, "Unknown");
        edge.k = k;
        st = graphrec_edge_decode(p, n, &edge);
        if (st != GRAPHREC_OK)
            break;
        fz_edge_roundtrip(&edge);
        graph_edge_init(&acc_edge, &k);
        graph_edge_merge(&acc_edge, &edge);
        fz_edge_roundtrip(&acc_edge);
        graph_edge_merge(&acc_edge, &edge);
        fz_edge_roundtrip(&acc_edge);
        break;
    }
    default:
        cap.id = 1;
        st = graphrec_capture_decode(p, n, &cap);
        if (st == GRAPHREC_OK)
            fz_capture_roundtrip(&cap);
        break;
    }
    FUZZ_ASSERT(strcmp(graphrec_status_name(st), "") != 0);
    return 0;
}

FUZZ_ENTRY(fuzz_graphrec)
