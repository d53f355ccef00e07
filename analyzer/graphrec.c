/*
 * graphrec.c - the workload graph's records and their encoding (see graphrec.h).
 *
 * Writers append to a wr_t that refuses to grow past its buffer (and then
 * stays failed), so an encoder never writes out of bounds and reports a
 * short buffer as length 0.  Readers are rd.h's; every getter's status is
 * checked and turned into a graphrec_status.
 */
#include <string.h>

#include "analyzer/graphrec.h"
#include "capture/rd.h"

/* ---- writer ----------------------------------------------------------- */

/* An append-only window over a caller's buffer. */
typedef struct wr {
    uint8_t *p;                 /* the buffer */
    size_t cap;                 /* its size */
    size_t len;                 /* bytes written */
    int overflow;               /* a write did not fit: the output is void */
} wr_t;

static void
wr_bytes(wr_t *w, const void *src, size_t n)
{
    if (w->overflow || w->cap - w->len < n) {
        w->overflow = 1;
        return;
    }
    memcpy(w->p + w->len, src, n);
    w->len += n;
}

static void
wr_u8(wr_t *w, uint8_t v)
{
    wr_bytes(w, &v, 1);
}

static void
wr_varint(wr_t *w, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    do {
        b[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            b[n] |= 0x80;
        n++;
    } while (v);
    wr_bytes(w, b, n);
}

/* A string: varint length, then its bytes. */
static void
wr_str(wr_t *w, const char *s)
{
    size_t n = strlen(s);
    wr_varint(w, n);
    wr_bytes(w, s, n);
}

static size_t
wr_done(const wr_t *w)
{
    return w->overflow ? 0 : w->len;
}

/* ---- reader helpers ----------------------------------------------------- */

/* Read a varint; 0 if cut short or longer than 64 bits (cursor unchanged). */
static RD_MUST int
rd_varint(rd_t *r, uint64_t *v)
{
    uint64_t x = 0;
    size_t off = r->off;
    for (int shift = 0; shift < 64; shift += 7) {
        uint8_t b;
        if (!rd_u8(r, &b)) {
            r->off = off;
            return 0;
        }
        if (shift == 63 && b > 1) {
            r->off = off;
            return 0;
        }
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 1;
        }
    }
    r->off = off;
    return 0;
}

/* A decoding in progress: the reader and the first error met. */
typedef struct dec {
    rd_t r;                     /* the value */
    graphrec_status st;         /* GRAPHREC_OK until something fails */
    uint8_t ver;                /* the value's version (GRAPHREC_VERSION_MIN..GRAPHREC_VERSION) */
} dec_t;

static uint64_t
d_varint(dec_t *d)
{
    uint64_t v = 0;
    if (d->st == GRAPHREC_OK && !rd_varint(&d->r, &v)) {
        /* A varint that does not end within 10 bytes is malformed, not cut. */
        d->st = rd_left(&d->r) >= 10 ? GRAPHREC_BAD_VALUE : GRAPHREC_TRUNC;
        v = 0;
    }
    return v;
}

static uint32_t
d_u32(dec_t *d)
{
    uint64_t v = d_varint(d);
    if (v > UINT32_MAX && d->st == GRAPHREC_OK)
        d->st = GRAPHREC_BAD_VALUE;
    return (uint32_t)v;
}

static uint8_t
d_u8(dec_t *d)
{
    uint8_t v = 0;
    if (d->st == GRAPHREC_OK && !rd_u8(&d->r, &v))
        d->st = GRAPHREC_TRUNC;
    return v;
}

static void
d_bytes(dec_t *d, void *dst, size_t n)
{
    if (d->st == GRAPHREC_OK && !rd_copy(&d->r, dst, n)) {
        d->st = GRAPHREC_TRUNC;
        memset(dst, 0, n);
    }
}

/* A string into dst[cap]: too long or holding a NUL is a bad value. */
static void
d_str(dec_t *d, char *dst, size_t cap)
{
    dst[0] = '\0';
    uint64_t n = d_varint(d);
    if (d->st != GRAPHREC_OK)
        return;
    if (n >= cap) {
        d->st = GRAPHREC_BAD_VALUE;
        return;
    }
    if (!rd_copy(&d->r, dst, (size_t)n)) {
        d->st = GRAPHREC_TRUNC;
        dst[0] = '\0';
        return;
    }
    dst[n] = '\0';
    if (memchr(dst, '\0', (size_t)n)) {
        d->st = GRAPHREC_BAD_VALUE;
        dst[0] = '\0';
    }
}

/* A count of list entries, at most max. */
static uint8_t
d_count(dec_t *d, unsigned max)
{
    uint8_t n = d_u8(d);
    if (n > max && d->st == GRAPHREC_OK)
        d->st = GRAPHREC_BAD_VALUE;
    return d->st == GRAPHREC_OK ? n : 0;
}

/* Start: the version byte must be one we read. */
static void
d_begin(dec_t *d, const uint8_t *val, size_t len)
{
    d->r = rd_make(val, len);
    d->st = GRAPHREC_OK;
    d->ver = d_u8(d);
    if (d->st == GRAPHREC_OK && (d->ver < GRAPHREC_VERSION_MIN || d->ver > GRAPHREC_VERSION))
        d->st = GRAPHREC_BAD_VERSION;
}

/* End: every byte must have been used. */
static graphrec_status
d_end(dec_t *d)
{
    if (d->st == GRAPHREC_OK && rd_left(&d->r) != 0)
        d->st = GRAPHREC_BAD_VALUE;
    return d->st;
}

/* ---- names ------------------------------------------------------------ */

const char *
graphrec_status_name(graphrec_status s)
{
    switch (s) {
    case GRAPHREC_OK: return "ok";
    case GRAPHREC_BAD_KEY: return "bad key";
    case GRAPHREC_BAD_VERSION: return "unknown record version";
    case GRAPHREC_TRUNC: return "truncated";
    case GRAPHREC_BAD_VALUE: return "bad value";
    }
    return "?";
}

const char *
graph_capture_state_name(int state)
{
    static const char *const names[GRAPH_CAPTURE_STATE_COUNT] = {
        "running", "complete", "stopped", "failed",
    };
    return state >= 0 && state < GRAPH_CAPTURE_STATE_COUNT ? names[state] : "?";
}

/* ---- addresses, days, strings ------------------------------------------ */

void
graph_addr_set(graph_addr *a, const uint8_t *bytes, int ver)
{
    memset(a, 0, sizeof(*a));
    a->family = ver == 6 ? 6 : 4;
    memcpy(a->a, bytes, ver == 6 ? 16 : 4);
}

static size_t
addr_len(const graph_addr *a)
{
    return a->family == 6 ? 16 : 4;
}

int
graph_addr_cmp(const graph_addr *x, const graph_addr *y)
{
    if (x->family != y->family)
        return x->family < y->family ? -1 : 1;
    return memcmp(x->a, y->a, addr_len(x));
}

void
graph_days_add(graph_days *d, uint32_t day)
{
    uint32_t i = 0;
    while (i < d->n && d->day[i] < day)
        i++;
    if (i < d->n && d->day[i] == day)
        return;
    if (d->n == GRAPH_MAX_DAYS) {
        if (i == 0)
            return;             /* older than every listed day: taken as counted */
        /* Drop the oldest (now only counted) to make room. */
        memmove(&d->day[0], &d->day[1], (size_t)(i - 1) * sizeof(d->day[0]));
        d->day[i - 1] = day;
        d->before++;
        return;
    }
    memmove(&d->day[i + 1], &d->day[i], (size_t)(d->n - i) * sizeof(d->day[0]));
    d->day[i] = day;
    d->n++;
}

void
graph_days_merge(graph_days *d, const graph_days *add)
{
    for (uint32_t i = 0; i < add->n && i < GRAPH_MAX_DAYS; i++)
        graph_days_add(d, add->day[i]);
    d->before += add->before;
}

void
graph_strcpy(char *dst, size_t len, const char *s)
{
    if (len == 0)
        return;
    size_t n = s ? strlen(s) : 0;
    if (n >= len) {
        n = len - 1;
        /* Do not cut a UTF-8 sequence in two: back off continuation bytes. */
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    if (n)
        memcpy(dst, s, n);
    memset(dst + n, 0, len - n);    /* no stale bytes: records compare and copy whole */
}

/* ---- keys ---------------------------------------------------------------- */

static void
wr_addr(wr_t *w, const graph_addr *a)
{
    wr_u8(w, a->family);
    wr_bytes(w, a->a, addr_len(a));
}

static int
rd_addr(rd_t *r, graph_addr *a)
{
    uint8_t fam;
    memset(a, 0, sizeof(*a));
    if (!rd_u8(r, &fam) || (fam != 4 && fam != 6))
        return 0;
    a->family = fam;
    return rd_copy(r, a->a, fam == 6 ? 16 : 4);
}

size_t
graphrec_node_key(const graph_addr *a, uint8_t *buf)
{
    wr_t w = { buf, GRAPHREC_KEY_MAX, 0, 0 };
    wr_u8(&w, GRAPHREC_NODE);
    wr_addr(&w, a);
    return wr_done(&w);
}

size_t
graphrec_edge_key(const graph_edge_key *k, uint8_t *buf)
{
    wr_t w = { buf, GRAPHREC_KEY_MAX, 0, 0 };
    uint8_t port[2] = { (uint8_t)(k->port >> 8), (uint8_t)k->port };
    size_t alen = strnlen(k->app, GRAPH_APP_LEN - 1);
    wr_u8(&w, GRAPHREC_EDGE);
    wr_addr(&w, &k->client);
    wr_addr(&w, &k->server);
    wr_u8(&w, k->proto);
    wr_bytes(&w, port, 2);
    wr_bytes(&w, k->app, alen);
    return wr_done(&w);
}

size_t
graphrec_capture_key(uint64_t id, uint8_t *buf)
{
    buf[0] = GRAPHREC_CAPTURE;
    for (int i = 0; i < 8; i++)
        buf[1 + i] = (uint8_t)(id >> (56 - 8 * i));
    return 9;
}

graphrec_status
graphrec_node_key_decode(const uint8_t *key, size_t len, graph_addr *a)
{
    rd_t r = rd_make(key, len);
    uint8_t kind;
    if (!rd_u8(&r, &kind) || kind != GRAPHREC_NODE || !rd_addr(&r, a) || rd_left(&r))
        return GRAPHREC_BAD_KEY;
    return GRAPHREC_OK;
}

graphrec_status
graphrec_edge_key_decode(const uint8_t *key, size_t len, graph_edge_key *k)
{
    rd_t r = rd_make(key, len);
    uint8_t kind;
    memset(k, 0, sizeof(*k));
    if (!rd_u8(&r, &kind) || kind != GRAPHREC_EDGE || !rd_addr(&r, &k->client) ||
        !rd_addr(&r, &k->server) || !rd_u8(&r, &k->proto) || !rd_be16(&r, &k->port))
        return GRAPHREC_BAD_KEY;
    size_t n = rd_left(&r);
    if (n == 0 || n >= GRAPH_APP_LEN || memchr(rd_ptr(&r), '\0', n))
        return GRAPHREC_BAD_KEY;
    memcpy(k->app, rd_ptr(&r), n);
    k->app[n] = '\0';
    return GRAPHREC_OK;
}

graphrec_status
graphrec_capture_key_decode(const uint8_t *key, size_t len, uint64_t *id)
{
    if (len != 9 || key[0] != GRAPHREC_CAPTURE)
        return GRAPHREC_BAD_KEY;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | key[1 + i];
    *id = v;
    return GRAPHREC_OK;
}

/* ---- nodes --------------------------------------------------------------- */

enum { NODE_F_INTERNAL = 1, NODE_F_GEO = 2 };

size_t
graphrec_node_encode(const graph_node *n, uint8_t *buf, size_t cap)
{
    wr_t w = { buf, cap, 0, 0 };
    wr_u8(&w, GRAPHREC_VERSION);
    wr_u8(&w, (uint8_t)((n->internal ? NODE_F_INTERNAL : 0) | (n->has_geo ? NODE_F_GEO : 0)));
    wr_varint(&w, n->first_ns);
    wr_varint(&w, n->last_ns);
    const graph_counts *c[2] = { &n->as_client, &n->as_server };
    for (int i = 0; i < 2; i++) {
        wr_varint(&w, c[i]->flows);
        wr_varint(&w, c[i]->pkts);
        wr_varint(&w, c[i]->bytes);
    }
    unsigned nm = n->n_mac < GRAPH_MAX_MACS ? n->n_mac : GRAPH_MAX_MACS;
    wr_u8(&w, (uint8_t)nm);
    for (unsigned i = 0; i < nm; i++) {
        wr_bytes(&w, n->mac[i].mac, 6);
        wr_varint(&w, n->mac[i].first_ns);
        wr_varint(&w, n->mac[i].last_ns);
    }
    unsigned ni = n->n_ident < GRAPH_MAX_IDENTS ? n->n_ident : GRAPH_MAX_IDENTS;
    wr_u8(&w, (uint8_t)ni);
    for (unsigned i = 0; i < ni; i++) {
        wr_str(&w, n->ident[i].kind);
        wr_str(&w, n->ident[i].value);
        wr_str(&w, n->ident[i].source);
        wr_varint(&w, n->ident[i].first_ns);
        wr_varint(&w, n->ident[i].last_ns);
    }
    unsigned nl = n->n_label < GRAPH_MAX_LABELS ? n->n_label : GRAPH_MAX_LABELS;
    wr_u8(&w, (uint8_t)nl);
    for (unsigned i = 0; i < nl; i++) {
        wr_str(&w, n->label[i].key);
        wr_str(&w, n->label[i].value);
    }
    if (n->has_geo) {
        wr_str(&w, n->geo.country);
        wr_varint(&w, n->geo.asn);
        wr_str(&w, n->geo.org);
    }
    return wr_done(&w);
}

graphrec_status
graphrec_node_decode(const uint8_t *val, size_t len, graph_node *n)
{
    dec_t d;
    graph_addr a = n->addr;
    memset(n, 0, sizeof(*n));
    n->addr = a;
    d_begin(&d, val, len);
    uint8_t flags = d_u8(&d);
    if (flags & ~(NODE_F_INTERNAL | NODE_F_GEO) && d.st == GRAPHREC_OK)
        d.st = GRAPHREC_BAD_VALUE;
    n->internal = (flags & NODE_F_INTERNAL) != 0;
    n->has_geo = (flags & NODE_F_GEO) != 0;
    n->first_ns = d_varint(&d);
    n->last_ns = d_varint(&d);
    graph_counts *c[2] = { &n->as_client, &n->as_server };
    for (int i = 0; i < 2; i++) {
        c[i]->flows = d_varint(&d);
        c[i]->pkts = d_varint(&d);
        c[i]->bytes = d_varint(&d);
    }
    n->n_mac = d_count(&d, GRAPH_MAX_MACS);
    for (unsigned i = 0; i < n->n_mac; i++) {
        d_bytes(&d, n->mac[i].mac, 6);
        n->mac[i].first_ns = d_varint(&d);
        n->mac[i].last_ns = d_varint(&d);
    }
    n->n_ident = d_count(&d, GRAPH_MAX_IDENTS);
    for (unsigned i = 0; i < n->n_ident; i++) {
        d_str(&d, n->ident[i].kind, sizeof(n->ident[i].kind));
        d_str(&d, n->ident[i].value, sizeof(n->ident[i].value));
        d_str(&d, n->ident[i].source, sizeof(n->ident[i].source));
        n->ident[i].first_ns = d_varint(&d);
        n->ident[i].last_ns = d_varint(&d);
    }
    n->n_label = d_count(&d, GRAPH_MAX_LABELS);
    for (unsigned i = 0; i < n->n_label; i++) {
        d_str(&d, n->label[i].key, sizeof(n->label[i].key));
        d_str(&d, n->label[i].value, sizeof(n->label[i].value));
    }
    if (n->has_geo) {
        d_str(&d, n->geo.country, sizeof(n->geo.country));
        n->geo.asn = d_u32(&d);
        d_str(&d, n->geo.org, sizeof(n->geo.org));
    }
    return d_end(&d);
}

/* ---- edges --------------------------------------------------------------- */

size_t
graphrec_edge_encode(const graph_edge *e, uint8_t *buf, size_t cap)
{
    wr_t w = { buf, cap, 0, 0 };
    wr_u8(&w, GRAPHREC_VERSION);
    wr_varint(&w, e->flows);
    wr_varint(&w, e->pkts[0]);
    wr_varint(&w, e->pkts[1]);
    wr_varint(&w, e->bytes[0]);
    wr_varint(&w, e->bytes[1]);
    wr_varint(&w, e->first_ns);
    wr_varint(&w, e->last_ns);
    wr_varint(&w, e->flows_handshake);
    wr_varint(&w, e->flows_heuristic);
    wr_varint(&w, e->risk);
    wr_varint(&w, e->days.before);
    uint32_t nd = e->days.n < GRAPH_MAX_DAYS ? e->days.n : GRAPH_MAX_DAYS;
    wr_u8(&w, (uint8_t)nd);
    for (uint32_t i = 0; i < nd; i++)
        wr_varint(&w, i == 0 ? e->days.day[0] : e->days.day[i] - e->days.day[i - 1]);
    uint32_t nn = e->n_name < GRAPH_MAX_NAMES ? e->n_name : GRAPH_MAX_NAMES;
    wr_u8(&w, (uint8_t)nn);
    for (uint32_t i = 0; i < nn; i++)
        wr_str(&w, e->name[i]);
    return wr_done(&w);
}

graphrec_status
graphrec_edge_decode(const uint8_t *val, size_t len, graph_edge *e)
{
    dec_t d;
    graph_edge_key k = e->k;
    memset(e, 0, sizeof(*e));
    e->k = k;
    d_begin(&d, val, len);
    e->flows = d_varint(&d);
    e->pkts[0] = d_varint(&d);
    e->pkts[1] = d_varint(&d);
    e->bytes[0] = d_varint(&d);
    e->bytes[1] = d_varint(&d);
    e->first_ns = d_varint(&d);
    e->last_ns = d_varint(&d);
    e->flows_handshake = d_varint(&d);
    e->flows_heuristic = d_varint(&d);
    if (d.ver >= 2)
        e->risk = d_varint(&d);
    e->days.before = d_u32(&d);
    e->days.n = d_count(&d, GRAPH_MAX_DAYS);
    uint64_t day = 0;
    for (uint32_t i = 0; i < e->days.n; i++) {
        uint64_t step = d_varint(&d);
        /* Strictly ascending: every step after the first is at least 1. */
        if ((i > 0 && step == 0) || step > UINT32_MAX || day + step > UINT32_MAX) {
            if (d.st == GRAPHREC_OK)
                d.st = GRAPHREC_BAD_VALUE;
            break;
        }
        day += step;
        e->days.day[i] = (uint32_t)day;
    }
    e->n_name = d_count(&d, GRAPH_MAX_NAMES);
    for (uint32_t i = 0; i < e->n_name; i++)
        d_str(&d, e->name[i], sizeof(e->name[i]));
    return d_end(&d);
}

/* ---- captures ------------------------------------------------------------ */

size_t
graphrec_capture_encode(const graph_capture *c, uint8_t *buf, size_t cap)
{
    wr_t w = { buf, cap, 0, 0 };
    wr_u8(&w, GRAPHREC_VERSION);
    wr_u8(&w, c->state);
    wr_varint(&w, c->start_ns);
    wr_varint(&w, c->end_ns);
    wr_varint(&w, c->first_ns);
    wr_varint(&w, c->last_ns);
    wr_varint(&w, c->frames);
    wr_varint(&w, c->bytes);
    wr_varint(&w, c->decoded);
    wr_varint(&w, c->flows);
    wr_varint(&w, c->flushes);
    uint32_t ni = c->n_input < GRAPH_MAX_INPUTS ? c->n_input : GRAPH_MAX_INPUTS;
    wr_u8(&w, (uint8_t)ni);
    for (uint32_t i = 0; i < ni; i++) {
        wr_u8(&w, c->input[i].kind);
        wr_str(&w, c->input[i].name);
        wr_varint(&w, c->input[i].size);
    }
    wr_str(&w, c->version);
    return wr_done(&w);
}

graphrec_status
graphrec_capture_decode(const uint8_t *val, size_t len, graph_capture *c)
{
    dec_t d;
    uint64_t id = c->id;
    memset(c, 0, sizeof(*c));
    c->id = id;
    d_begin(&d, val, len);
    c->state = d_u8(&d);
    if (c->state >= GRAPH_CAPTURE_STATE_COUNT && d.st == GRAPHREC_OK)
        d.st = GRAPHREC_BAD_VALUE;
    c->start_ns = d_varint(&d);
    c->end_ns = d_varint(&d);
    c->first_ns = d_varint(&d);
    c->last_ns = d_varint(&d);
    c->frames = d_varint(&d);
    c->bytes = d_varint(&d);
    c->decoded = d_varint(&d);
    c->flows = d_varint(&d);
    c->flushes = d_varint(&d);
    c->n_input = d_count(&d, GRAPH_MAX_INPUTS);
    for (uint32_t i = 0; i < c->n_input; i++) {
        c->input[i].kind = d_u8(&d);
        if (c->input[i].kind > 1 && d.st == GRAPHREC_OK)
            d.st = GRAPHREC_BAD_VALUE;
        d_str(&d, c->input[i].name, sizeof(c->input[i].name));
        c->input[i].size = d_varint(&d);
    }
    d_str(&d, c->version, sizeof(c->version));
    return d_end(&d);
}

/* ---- accumulation --------------------------------------------------------- */

void
graph_node_init(graph_node *n, const graph_addr *a)
{
    memset(n, 0, sizeof(*n));
    n->addr = *a;
}

void
graph_edge_init(graph_edge *e, const graph_edge_key *k)
{
    memset(e, 0, sizeof(*e));
    e->k = *k;
}

void
graph_widen(uint64_t *first, uint64_t *last, uint64_t f, uint64_t l)
{
    if (f && (*first == 0 || f < *first))
        *first = f;
    if (l > *last)
        *last = l;
}

void
graph_counts_add(graph_counts *a, const graph_counts *b)
{
    a->flows += b->flows;
    a->pkts += b->pkts;
    a->bytes += b->bytes;
}

/*
 * Lists are kept in a canonical order, so a record's bytes do not depend
 * on how its updates were batched: MACs by first seen (then address),
 * identities by kind, value and source, labels by key.  They are short
 * (at most 16): insertion sort after each change.
 */
static int
mac_before(const graph_mac *x, const graph_mac *y)
{
    if (x->first_ns != y->first_ns)
        return x->first_ns < y->first_ns;
    return memcmp(x->mac, y->mac, 6) < 0;
}

static void
sort_macs(graph_node *n)
{
    for (unsigned i = 1; i < n->n_mac; i++)
        for (unsigned j = i; j > 0 && mac_before(&n->mac[j], &n->mac[j - 1]); j--) {
            graph_mac t = n->mac[j];
            n->mac[j] = n->mac[j - 1];
            n->mac[j - 1] = t;
        }
}

static int
ident_cmp(const graph_ident *x, const graph_ident *y)
{
    int c = strcmp(x->kind, y->kind);
    if (!c)
        c = strcmp(x->value, y->value);
    if (!c)
        c = strcmp(x->source, y->source);
    return c;
}

static void
sort_idents(graph_node *n)
{
    for (unsigned i = 1; i < n->n_ident; i++)
        for (unsigned j = i; j > 0 && ident_cmp(&n->ident[j], &n->ident[j - 1]) < 0; j--) {
            graph_ident t = n->ident[j];
            n->ident[j] = n->ident[j - 1];
            n->ident[j - 1] = t;
        }
}

static void
sort_labels(graph_node *n)
{
    for (unsigned i = 1; i < n->n_label; i++)
        for (unsigned j = i; j > 0 && strcmp(n->label[j].key, n->label[j - 1].key) < 0; j--) {
            graph_label t = n->label[j];
            n->label[j] = n->label[j - 1];
            n->label[j - 1] = t;
        }
}

void
graph_node_add_mac(graph_node *n, const uint8_t mac[6], uint64_t first_ns, uint64_t last_ns)
{
    unsigned i, oldest = 0;
    for (i = 0; i < n->n_mac; i++)
        if (memcmp(n->mac[i].mac, mac, 6) == 0) {
            graph_widen(&n->mac[i].first_ns, &n->mac[i].last_ns, first_ns, last_ns);
            sort_macs(n);
            return;
        }
    if (n->n_mac < GRAPH_MAX_MACS) {
        i = n->n_mac++;
    } else {
        for (i = 1; i < GRAPH_MAX_MACS; i++)
            if (n->mac[i].last_ns < n->mac[oldest].last_ns)
                oldest = i;
        if (n->mac[oldest].last_ns >= last_ns)
            return;
        i = oldest;
    }
    memcpy(n->mac[i].mac, mac, 6);
    n->mac[i].first_ns = first_ns;
    n->mac[i].last_ns = last_ns;
    sort_macs(n);
}

void
graph_node_add_ident(graph_node *n, const char *kind, const char *value, const char *source,
                     uint64_t first_ns, uint64_t last_ns)
{
    graph_ident id;
    unsigned i, oldest = 0;
    /* Compare as stored (cut to the caps). */
    graph_strcpy(id.kind, sizeof(id.kind), kind);
    graph_strcpy(id.value, sizeof(id.value), value);
    graph_strcpy(id.source, sizeof(id.source), source);
    if (!id.value[0])
        return;
    for (i = 0; i < n->n_ident; i++) {
        graph_ident *x = &n->ident[i];
        if (strcmp(x->kind, id.kind) == 0 && strcmp(x->value, id.value) == 0 &&
            strcmp(x->source, id.source) == 0) {
            graph_widen(&x->first_ns, &x->last_ns, first_ns, last_ns);
            return;
        }
    }
    if (n->n_ident < GRAPH_MAX_IDENTS) {
        i = n->n_ident++;
    } else {
        for (i = 1; i < GRAPH_MAX_IDENTS; i++)
            if (n->ident[i].last_ns < n->ident[oldest].last_ns)
                oldest = i;
        if (n->ident[oldest].last_ns >= last_ns)
            return;
        i = oldest;
    }
    id.first_ns = first_ns;
    id.last_ns = last_ns;
    n->ident[i] = id;
    sort_idents(n);
}

void
graph_node_set_label(graph_node *n, const char *key, const char *value)
{
    char k[GRAPH_LKEY_LEN];
    graph_strcpy(k, sizeof(k), key);
    if (!k[0])
        return;
    unsigned i;
    for (i = 0; i < n->n_label; i++)
        if (strcmp(n->label[i].key, k) == 0)
            break;
    if (i == n->n_label) {
        if (n->n_label == GRAPH_MAX_LABELS)
            return;
        n->n_label++;
        memcpy(n->label[i].key, k, sizeof(k));
    }
    graph_strcpy(n->label[i].value, sizeof(n->label[i].value), value);
    sort_labels(n);
}

void
graph_node_merge(graph_node *into, const graph_node *add)
{
    graph_widen(&into->first_ns, &into->last_ns, add->first_ns, add->last_ns);
    graph_counts_add(&into->as_client, &add->as_client);
    graph_counts_add(&into->as_server, &add->as_server);
    for (unsigned i = 0; i < add->n_mac && i < GRAPH_MAX_MACS; i++)
        graph_node_add_mac(into, add->mac[i].mac, add->mac[i].first_ns, add->mac[i].last_ns);
    for (unsigned i = 0; i < add->n_ident && i < GRAPH_MAX_IDENTS; i++) {
        const graph_ident *x = &add->ident[i];
        graph_node_add_ident(into, x->kind, x->value, x->source, x->first_ns, x->last_ns);
    }
    for (unsigned i = 0; i < add->n_label && i < GRAPH_MAX_LABELS; i++)
        graph_node_set_label(into, add->label[i].key, add->label[i].value);
    if (add->has_geo) {
        into->has_geo = 1;
        into->geo = add->geo;
    }
    into->internal = add->internal;
}

void
graph_edge_add_name(graph_edge *e, const char *name)
{
    char s[GRAPH_NAME_LEN];
    graph_strcpy(s, sizeof(s), name);
    if (!s[0] || e->n_name >= GRAPH_MAX_NAMES)
        return;
    for (uint32_t i = 0; i < e->n_name; i++)
        if (strcmp(e->name[i], s) == 0)
            return;
    memcpy(e->name[e->n_name++], s, sizeof(s));
}

void
graph_edge_merge(graph_edge *into, const graph_edge *add)
{
    into->flows += add->flows;
    for (int i = 0; i < 2; i++) {
        into->pkts[i] += add->pkts[i];
        into->bytes[i] += add->bytes[i];
    }
    graph_widen(&into->first_ns, &into->last_ns, add->first_ns, add->last_ns);
    into->flows_handshake += add->flows_handshake;
    into->flows_heuristic += add->flows_heuristic;
    into->risk |= add->risk;
    graph_days_merge(&into->days, &add->days);
    for (uint32_t i = 0; i < add->n_name && i < GRAPH_MAX_NAMES; i++)
        graph_edge_add_name(into, add->name[i]);
}
