/*
 * model.c - the recommender's in-memory workload graph (see model.h).
 *
 * Hosts live in an array with an open-addressing hash from address to
 * index; strings in an interning table (one copy each, a hash to find
 * them); edges and attributes in plain arrays that model_finish() sorts:
 * edges by (client, server, proto, port, app) so duplicates merge, then
 * two index arrays (by client, by server) give each host's out- and
 * in-edges as one contiguous run (compressed sparse rows).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recommender/model.h"

/* The model: everything is owned here. */
struct model {
    model_host *hosts;          /* host records */
    uint32_t n_hosts, cap_hosts; /* used, allocated */
    uint32_t *hidx;             /* hash slots: host index + 1, 0 = empty */
    uint32_t hidx_cap;          /* slots (a power of two) */
    model_edge *edges;          /* edge records (merged by model_finish) */
    uint32_t n_edges, cap_edges; /* used, allocated */
    model_attr *attrs;          /* names and labels of all hosts */
    uint32_t n_attrs, cap_attrs; /* used, allocated */
    uint32_t *out_idx;          /* edge indices grouped by client */
    uint32_t *in_idx;           /* edge indices grouped by server */
    char **strs;                /* interned strings; strs[0] = "" */
    uint32_t n_strs, cap_strs;  /* used, allocated */
    uint32_t *sidx;             /* string hash slots: id + 1, 0 = empty */
    uint32_t sidx_cap;          /* slots (a power of two) */
    size_t str_bytes;           /* bytes of string text held */
    int finished;               /* model_finish ran */
};

static uint32_t
hash_bytes(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;   /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static int
grow(void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    uint32_t nc = *cap ? *cap : 16;
    while (nc < need)
        nc *= 2;
    void *p = realloc(*arr, (size_t)nc * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = nc;
    return 0;
}

model *
model_create(void)
{
    model *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    if (model_intern(m, "") != 0) {
        model_free(m);
        return NULL;
    }
    return m;
}

void
model_free(model *m)
{
    if (!m)
        return;
    for (uint32_t i = 0; i < m->n_strs; i++)
        free(m->strs[i]);
    free(m->strs);
    free(m->sidx);
    free(m->hosts);
    free(m->hidx);
    free(m->edges);
    free(m->attrs);
    free(m->out_idx);
    free(m->in_idx);
    free(m);
}

/* ---- strings ---------------------------------------------------------- */

static int
str_rehash(model *m, uint32_t cap)
{
    uint32_t *t = calloc(cap, sizeof(*t));
    if (!t)
        return -1;
    for (uint32_t i = 0; i < m->n_strs; i++) {
        uint32_t h = hash_bytes((const uint8_t *)m->strs[i], strlen(m->strs[i])) & (cap - 1);
        while (t[h])
            h = (h + 1) & (cap - 1);
        t[h] = i + 1;
    }
    free(m->sidx);
    m->sidx = t;
    m->sidx_cap = cap;
    return 0;
}

uint32_t
model_str_find(const model *m, const char *s)
{
    if (!s || !*s)
        return 0;
    if (!m->sidx_cap)
        return MODEL_NONE;
    uint32_t h = hash_bytes((const uint8_t *)s, strlen(s)) & (m->sidx_cap - 1);
    while (m->sidx[h]) {
        if (strcmp(m->strs[m->sidx[h] - 1], s) == 0)
            return m->sidx[h] - 1;
        h = (h + 1) & (m->sidx_cap - 1);
    }
    return MODEL_NONE;
}

uint32_t
model_intern(model *m, const char *s)
{
    if (!s)
        s = "";
    if (m->n_strs > 0) {
        uint32_t id = model_str_find(m, s);
        if (id != MODEL_NONE)
            return id;
    }
    if ((uint64_t)(m->n_strs + 1) * 2 > m->sidx_cap &&
        str_rehash(m, m->sidx_cap ? m->sidx_cap * 2 : 64) < 0)
        return MODEL_NONE;
    if (grow((void **)&m->strs, &m->cap_strs, m->n_strs + 1, sizeof(char *)) < 0)
        return MODEL_NONE;
    char *c = strdup(s);
    if (!c)
        return MODEL_NONE;
    uint32_t id = m->n_strs++;
    m->strs[id] = c;
    m->str_bytes += strlen(s) + 1;
    uint32_t h = hash_bytes((const uint8_t *)s, strlen(s)) & (m->sidx_cap - 1);
    while (m->sidx[h])
        h = (h + 1) & (m->sidx_cap - 1);
    m->sidx[h] = id + 1;
    return id;
}

const char *
model_str(const model *m, uint32_t id)
{
    return id < m->n_strs ? m->strs[id] : "";
}

/* ---- addresses -------------------------------------------------------- */

int
model_addr_private(const uint8_t *a, int ipv)
{
    if (ipv == 4)
        return a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
               (a[0] == 192 && a[1] == 168) || a[0] == 127 ||
               (a[0] == 169 && a[1] == 254);
    static const uint8_t lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return (a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||
           memcmp(a, lo, 16) == 0;
}

int
model_addr_special(const uint8_t *a, int ipv)
{
    static const uint8_t zero[16];
    if (ipv == 4)
        return a[0] == 0 || (a[0] & 0xf0) == 0xe0 || (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255);
    return a[0] == 0xff || memcmp(a, zero, 16) == 0;
}

const char *
model_addr_str(const uint8_t *addr, int ipv, char *buf, size_t len)
{
    if (!inet_ntop(ipv == 6 ? AF_INET6 : AF_INET, addr, buf, (socklen_t)len))
        snprintf(buf, len, "?");
    return buf;
}

int
model_addr_parse(const char *s, uint8_t *addr, int *ipv)
{
    memset(addr, 0, 16);
    if (inet_pton(AF_INET, s, addr) == 1) {
        *ipv = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, s, addr) == 1) {
        *ipv = 6;
        return 0;
    }
    return -1;
}

/* ---- hosts ------------------------------------------------------------ */

static uint32_t
host_hash(const uint8_t *addr, int ipv)
{
    return hash_bytes(addr, ipv == 4 ? 4 : 16) ^ (uint32_t)ipv;
}

static int
host_rehash(model *m, uint32_t cap)
{
    uint32_t *t = calloc(cap, sizeof(*t));
    if (!t)
        return -1;
    for (uint32_t i = 0; i < m->n_hosts; i++) {
        uint32_t h = host_hash(m->hosts[i].addr, m->hosts[i].ipv) & (cap - 1);
        while (t[h])
            h = (h + 1) & (cap - 1);
        t[h] = i + 1;
    }
    free(m->hidx);
    m->hidx = t;
    m->hidx_cap = cap;
    return 0;
}

uint32_t
model_host_find(const model *m, const uint8_t *addr, int ipv)
{
    if (!m->hidx_cap)
        return MODEL_NONE;
    uint32_t h = host_hash(addr, ipv) & (m->hidx_cap - 1);
    while (m->hidx[h]) {
        const model_host *x = &m->hosts[m->hidx[h] - 1];
        if (x->ipv == ipv && memcmp(x->addr, addr, 16) == 0)
            return m->hidx[h] - 1;
        h = (h + 1) & (m->hidx_cap - 1);
    }
    return MODEL_NONE;
}

uint32_t
model_host_add(model *m, const uint8_t *addr, int ipv)
{
    uint8_t a[16] = {0};
    memcpy(a, addr, ipv == 4 ? 4 : 16);
    uint32_t i = model_host_find(m, a, ipv);
    if (i != MODEL_NONE)
        return i;
    if ((uint64_t)(m->n_hosts + 1) * 2 > m->hidx_cap &&
        host_rehash(m, m->hidx_cap ? m->hidx_cap * 2 : 1024) < 0)
        return MODEL_NONE;
    if (grow((void **)&m->hosts, &m->cap_hosts, m->n_hosts + 1, sizeof(model_host)) < 0)
        return MODEL_NONE;
    i = m->n_hosts++;
    model_host *x = &m->hosts[i];
    memset(x, 0, sizeof(*x));
    memcpy(x->addr, a, 16);
    x->ipv = (uint8_t)ipv;
    x->internal = (uint8_t)model_addr_private(a, ipv);
    uint32_t h = host_hash(a, ipv) & (m->hidx_cap - 1);
    while (m->hidx[h])
        h = (h + 1) & (m->hidx_cap - 1);
    m->hidx[h] = i + 1;
    m->finished = 0;
    return i;
}

void
model_host_set_internal(model *m, uint32_t h, int internal)
{
    if (h < m->n_hosts)
        m->hosts[h].internal = internal ? 1 : 0;
}

static int
add_attr(model *m, uint32_t h, int kind, const char *key, const char *value)
{
    if (h >= m->n_hosts)
        return -1;
    uint32_t k = model_intern(m, key), v = model_intern(m, value);
    if (k == MODEL_NONE || v == MODEL_NONE)
        return -1;
    if (grow((void **)&m->attrs, &m->cap_attrs, m->n_attrs + 1, sizeof(model_attr)) < 0)
        return -1;
    m->attrs[m->n_attrs++] = (model_attr){ .host = h, .key = k, .value = v, .kind = (uint8_t)kind };
    m->finished = 0;
    return 0;
}

int
model_host_name(model *m, uint32_t h, const char *src, const char *name)
{
    if (!name || !*name)
        return 0;
    return add_attr(m, h, MODEL_ATTR_NAME, src ? src : "", name);
}

int
model_host_label(model *m, uint32_t h, const char *key, const char *value)
{
    return add_attr(m, h, MODEL_ATTR_LABEL, key, value ? value : "");
}

/* ---- edges ------------------------------------------------------------ */

int
model_edge_add(model *m, const model_edge *e)
{
    if (e->client >= m->n_hosts || e->server >= m->n_hosts)
        return -1;
    if (grow((void **)&m->edges, &m->cap_edges, m->n_edges + 1, sizeof(model_edge)) < 0)
        return -1;
    m->edges[m->n_edges++] = *e;
    m->finished = 0;
    return 0;
}

static int
edge_cmp(const void *pa, const void *pb)
{
    const model_edge *a = pa, *b = pb;
    if (a->client != b->client) return a->client < b->client ? -1 : 1;
    if (a->server != b->server) return a->server < b->server ? -1 : 1;
    if (a->proto != b->proto) return a->proto < b->proto ? -1 : 1;
    if (a->port != b->port) return a->port < b->port ? -1 : 1;
    if (a->app != b->app) return a->app < b->app ? -1 : 1;
    return 0;
}

static int
attr_cmp(const void *pa, const void *pb)
{
    const model_attr *a = pa, *b = pb;
    if (a->host != b->host) return a->host < b->host ? -1 : 1;
    if (a->kind != b->kind) return a->kind < b->kind ? -1 : 1;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    if (a->value != b->value) return a->value < b->value ? -1 : 1;
    return 0;
}

int
model_finish(model *m)
{
    /* merge duplicate edges */
    if (m->n_edges)
        qsort(m->edges, m->n_edges, sizeof(model_edge), edge_cmp);
    uint32_t w = 0;
    for (uint32_t i = 0; i < m->n_edges; i++) {
        if (w > 0 && edge_cmp(&m->edges[w - 1], &m->edges[i]) == 0) {
            model_edge *d = &m->edges[w - 1];
            const model_edge *s = &m->edges[i];
            d->flows += s->flows;
            for (int k = 0; k < 2; k++) {
                d->pkts[k] += s->pkts[k];
                d->bytes[k] += s->bytes[k];
            }
            if (s->first_ns && (!d->first_ns || s->first_ns < d->first_ns))
                d->first_ns = s->first_ns;
            if (s->last_ns > d->last_ns)
                d->last_ns = s->last_ns;
            if (s->days > d->days)
                d->days = s->days;
        } else {
            m->edges[w++] = m->edges[i];
        }
    }
    m->n_edges = w;
    /* attributes: sort, drop duplicates */
    if (m->n_attrs)
        qsort(m->attrs, m->n_attrs, sizeof(model_attr), attr_cmp);
    w = 0;
    for (uint32_t i = 0; i < m->n_attrs; i++)
        if (w == 0 || attr_cmp(&m->attrs[w - 1], &m->attrs[i]) != 0)
            m->attrs[w++] = m->attrs[i];
    m->n_attrs = w;
    for (uint32_t h = 0; h < m->n_hosts; h++) {
        m->hosts[h].attr_n = m->hosts[h].out_n = m->hosts[h].in_n = 0;
        m->hosts[h].alive = 0;
    }
    for (uint32_t i = 0; i < m->n_attrs; i++) {
        model_host *x = &m->hosts[m->attrs[i].host];
        if (x->attr_n++ == 0)
            x->attr_off = i;
    }
    /* adjacency (edges are sorted by client, so out-edges are runs already) */
    free(m->out_idx);
    free(m->in_idx);
    m->out_idx = malloc(((size_t)m->n_edges + 1) * sizeof(uint32_t));
    m->in_idx = malloc(((size_t)m->n_edges + 1) * sizeof(uint32_t));
    if (!m->out_idx || !m->in_idx)
        return -1;
    for (uint32_t i = 0; i < m->n_edges; i++) {
        const model_edge *e = &m->edges[i];
        m->hosts[e->client].out_n++;
        m->hosts[e->server].in_n++;
        if (e->pkts[0])
            m->hosts[e->client].alive = 1;
        if (e->pkts[1])
            m->hosts[e->server].alive = 1;
    }
    uint32_t oo = 0, io = 0;
    for (uint32_t h = 0; h < m->n_hosts; h++) {
        m->hosts[h].out_off = oo;
        m->hosts[h].in_off = io;
        oo += m->hosts[h].out_n;
        io += m->hosts[h].in_n;
        m->hosts[h].out_n = m->hosts[h].in_n = 0;
    }
    for (uint32_t i = 0; i < m->n_edges; i++) {
        model_host *c = &m->hosts[m->edges[i].client], *s = &m->hosts[m->edges[i].server];
        m->out_idx[c->out_off + c->out_n++] = i;
        m->in_idx[s->in_off + s->in_n++] = i;
    }
    m->finished = 1;
    return 0;
}

uint32_t
model_n_hosts(const model *m)
{
    return m->n_hosts;
}
uint32_t
model_n_edges(const model *m)
{
    return m->n_edges;
}

const model_host *
model_host_get(const model *m, uint32_t h)
{
    return h < m->n_hosts ? &m->hosts[h] : NULL;
}

const model_edge *
model_edge_get(const model *m, uint32_t e)
{
    return e < m->n_edges ? &m->edges[e] : NULL;
}

const uint32_t *
model_out(const model *m, uint32_t h, uint32_t *n)
{
    *n = m->hosts[h].out_n;
    return m->out_idx + m->hosts[h].out_off;
}

const uint32_t *
model_in(const model *m, uint32_t h, uint32_t *n)
{
    *n = m->hosts[h].in_n;
    return m->in_idx + m->hosts[h].in_off;
}

const model_attr *
model_host_attrs(const model *m, uint32_t h, uint32_t *n)
{
    *n = m->hosts[h].attr_n;
    return *n ? m->attrs + m->hosts[h].attr_off : m->attrs;
}

const char *
model_host_label_get(const model *m, uint32_t h, const char *key)
{
    uint32_t k = model_str_find(m, key), n;
    if (k == MODEL_NONE)
        return NULL;
    const model_attr *a = model_host_attrs(m, h, &n);
    for (uint32_t i = 0; i < n; i++)
        if (a[i].kind == MODEL_ATTR_LABEL && a[i].key == k)
            return model_str(m, a[i].value);
    return NULL;
}

size_t
model_mem(const model *m)
{
    return sizeof(*m) + (size_t)m->cap_hosts * sizeof(model_host) +
           (size_t)m->hidx_cap * 4 + (size_t)m->cap_edges * sizeof(model_edge) +
           (size_t)m->n_edges * 8 + (size_t)m->cap_attrs * sizeof(model_attr) +
           (size_t)m->cap_strs * sizeof(char *) + (size_t)m->sidx_cap * 4 + m->str_bytes;
}
