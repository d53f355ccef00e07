/*
 * graphfmt.c - writers of the workload graph (see graphfmt.h).
 *
 * Text cells are built with open_memstream so that strings from traffic
 * pass through esc_text exactly as elsewhere, and the escaped width is
 * what the column widths are computed from.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "analyzer/dpi.h"
#include "reports/escape.h"
#include "reports/flowfmt.h"
#include "reports/graphfmt.h"

#define TBL_MAX_COLS 16         /* columns of a text table */
#define RISKS_LEN 2048          /* every nDPI risk name joined fits */

/* A text table held until printed. */
typedef struct tbl {
    size_t ncols;               /* columns */
    char **cells;               /* nrows * ncols strings, row-major */
    size_t nrows, cap;          /* rows held, rows allocated */
    size_t width[TBL_MAX_COLS]; /* widest cell per column */
    int oom;                    /* an allocation failed: rows were lost */
} tbl;

struct graphfmt {
    FILE *out;                  /* destination */
    graphfmt_kind kind;         /* format */
    graphfmt_what what;         /* hosts or edges */
    tbl t;                      /* text rows */
};

int
graphfmt_parse(const char *name)
{
    if (strcmp(name, "text") == 0) return GRAPHFMT_TEXT;
    if (strcmp(name, "csv") == 0) return GRAPHFMT_CSV;
    if (strcmp(name, "json") == 0) return GRAPHFMT_JSON;
    return -1;
}

const char *
graphfmt_time(uint64_t ns, char *buf, size_t len)
{
    struct tm tm;
    time_t t = (time_t)(ns / 1000000000u);
    if (ns == 0 || !gmtime_r(&t, &tm)) {
        snprintf(buf, len, "-");
        return buf;
    }
    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

const char *
graphfmt_service(uint8_t proto, uint16_t port, char *buf, size_t len)
{
    char tmp[16];
    const char *name = flowfmt_proto_name(proto, tmp, sizeof(tmp));
    if (proto == 6 || proto == 17 || proto == 132 || proto == 1 || proto == 58)
        snprintf(buf, len, "%s/%u", name, port);
    else
        snprintf(buf, len, "%s", name);
    return buf;
}

/* "123", "4.5K", "67M": bytes for people. */
static const char *
human(uint64_t n, char *buf, size_t len)
{
    static const char units[] = "KMGTPE";
    if (n < 1000) {
        snprintf(buf, len, "%" PRIu64, n);
        return buf;
    }
    double v = (double)n;
    int u = -1;
    while (v >= 1000 && u < 5) {
        v /= 1024;
        u++;
    }
    snprintf(buf, len, v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
    return buf;
}

static const char *
mac_str(const uint8_t *m, char *buf, size_t len)
{
    snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return buf;
}

static const char *
addr_str(const graph_addr *a, char *buf, size_t len)
{
    return flowfmt_addr(a->a, a->family, buf, len);
}

/* ---- text tables -------------------------------------------------------------- */

/* Add a row of n cells (taken: freed by the table). */
static void
tbl_row(tbl *t, char **cells, size_t n)
{
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        char **c = realloc(t->cells, cap * t->ncols * sizeof(*c));
        if (!c) {
            t->oom = 1;
            for (size_t i = 0; i < n; i++)
                free(cells[i]);
            return;
        }
        t->cells = c;
        t->cap = cap;
    }
    for (size_t i = 0; i < t->ncols; i++) {
        char *s = i < n ? cells[i] : NULL;
        t->cells[t->nrows * t->ncols + i] = s;
        size_t w = s ? strlen(s) : 0;
        if (w > t->width[i])
            t->width[i] = w;
    }
    t->nrows++;
}

static void
tbl_print(tbl *t, FILE *out)
{
    for (size_t r = 0; r < t->nrows; r++) {
        /* The last non-empty cell ends the line: no trailing blanks. */
        size_t last = 0;
        for (size_t c = 0; c < t->ncols; c++)
            if (t->cells[r * t->ncols + c] && t->cells[r * t->ncols + c][0])
                last = c;
        for (size_t c = 0; c <= last; c++) {
            const char *s = t->cells[r * t->ncols + c];
            if (!s)
                s = "";
            if (c == last)
                fputs(s, out);
            else
                fprintf(out, "%-*s  ", (int)t->width[c], s);
        }
        fputc('\n', out);
    }
}

static void
tbl_free(tbl *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof(*t));
}

/* A string builder over open_memstream. */
typedef struct sb {
    FILE *f;                    /* the stream */
    char *buf;                  /* its buffer, after sb_take */
    size_t len;                 /* its length */
} sb;

static FILE *
sb_open(sb *b)
{
    b->buf = NULL;
    b->len = 0;
    b->f = open_memstream(&b->buf, &b->len);
    return b->f;
}

/* The string built (malloc'd; NULL on failure). */
static char *
sb_take(sb *b)
{
    if (!b->f)
        return NULL;
    if (fclose(b->f) != 0) {
        free(b->buf);
        return NULL;
    }
    return b->buf;
}

static char *
cell(const char *s)
{
    return strdup(s ? s : "");
}

/* A cell of traffic-controlled text, escaped for a terminal. */
static char *
cell_esc(const char *s)
{
    sb b;
    if (!sb_open(&b))
        return NULL;
    esc_text(b.f, s);
    return sb_take(&b);
}

static char *
cell_u64(uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%" PRIu64, v);
    return strdup(buf);
}

/* ---- node details shared by the formats ------------------------------------------- */

/* 1 if an identity kind names the host. */
static int
is_name_kind(const char *kind)
{
    static const char *const names[] = {
        "dns", "sni", "http_host", "dhcp_hostname", "dhcp_fqdn", "netbios", "llmnr", "mdns",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(kind, names[i]) == 0)
            return 1;
    return 0;
}

/* Distinct names of a host, up to max, joined by ", " with " +N" for the rest (escaped). */
static char *
node_names(const graph_node *n, int max)
{
    sb b;
    if (!sb_open(&b))
        return NULL;
    int shown = 0, more = 0;
    for (unsigned i = 0; i < n->n_ident; i++) {
        if (!is_name_kind(n->ident[i].kind))
            continue;
        int dup = 0;
        for (unsigned j = 0; j < i; j++)
            dup |= is_name_kind(n->ident[j].kind) && strcmp(n->ident[j].value, n->ident[i].value) == 0;
        if (dup)
            continue;
        if (shown == max) {
            more++;
            continue;
        }
        if (shown++)
            fputs(", ", b.f);
        esc_text(b.f, n->ident[i].value);
    }
    if (more)
        fprintf(b.f, " +%d", more);
    return sb_take(&b);
}

/* Joined with sep; esc: 1 = through esc_text (text), 0 = raw (CSV escapes the whole cell). */
static char *
node_labels(const graph_node *n, const char *sep, int esc)
{
    sb b;
    if (!sb_open(&b))
        return NULL;
    for (unsigned i = 0; i < n->n_label; i++) {
        if (i)
            fputs(sep, b.f);
        if (esc) {
            esc_text(b.f, n->label[i].key);
            fputc('=', b.f);
            esc_text(b.f, n->label[i].value);
        } else {
            fprintf(b.f, "%s=%s", n->label[i].key, n->label[i].value);
        }
    }
    return sb_take(&b);
}

static char *
node_idents(const graph_node *n, const char *sep)
{
    sb b;
    if (!sb_open(&b))
        return NULL;
    for (unsigned i = 0; i < n->n_ident; i++)
        fprintf(b.f, "%s%s=%s", i ? sep : "", n->ident[i].kind, n->ident[i].value);
    return sb_take(&b);
}

static char *
node_macs(const graph_node *n, const char *sep)
{
    sb b;
    char m[32];
    if (!sb_open(&b))
        return NULL;
    for (unsigned i = 0; i < n->n_mac; i++)
        fprintf(b.f, "%s%s", i ? sep : "", mac_str(n->mac[i].mac, m, sizeof(m)));
    return sb_take(&b);
}

static char *
node_geo_text(const graph_node *n)
{
    sb b;
    if (!sb_open(&b))
        return NULL;
    if (n->has_geo) {
        esc_text(b.f, n->geo.country);
        if (n->geo.asn)
            fprintf(b.f, "%sAS%u ", n->geo.country[0] ? " " : "", n->geo.asn);
        esc_text(b.f, n->geo.org);
    }
    return sb_take(&b);
}

static char *
edge_names(const graph_edge *e, const char *sep, int esc)
{
    sb b;
    if (!sb_open(&b))
        return NULL;
    for (unsigned i = 0; i < e->n_name; i++) {
        if (i)
            fputs(sep, b.f);
        if (esc)
            esc_text(b.f, e->name[i]);
        else
            fputs(e->name[i], b.f);
    }
    return sb_take(&b);
}

/* ---- writers -------------------------------------------------------------------- */

static const char *const host_text_cols[] = {
    "ADDRESS", "CLASS", "CLIENT", "SERVER", "BYTES", "FIRST SEEN", "LAST SEEN",
    "MAC", "NAMES", "LABELS", "GEO",
};
static const char *const edge_text_cols[] = {
    "CLIENT", "SERVER", "SERVICE", "APP", "FLOWS", "PKTS", "BYTES C>S", "BYTES S>C",
    "DAYS", "FIRST SEEN", "LAST SEEN", "GUESSED", "NAMES", "RISKS",
};
#define N_HOST_TEXT (sizeof(host_text_cols) / sizeof(host_text_cols[0]))
#define N_EDGE_TEXT (sizeof(edge_text_cols) / sizeof(edge_text_cols[0]))

static const char host_csv_header[] =
    "addr,internal,first_seen,last_seen,client_flows,client_pkts,client_bytes,"
    "server_flows,server_pkts,server_bytes,macs,identities,labels,country,asn,as_org\n";
static const char edge_csv_header[] =
    "client,server,proto,port,app,flows,pkts_c2s,pkts_s2c,bytes_c2s,bytes_s2c,"
    "first_seen,last_seen,days,flows_handshake,flows_heuristic,names,risks\n";

graphfmt *
graphfmt_create(FILE *out, graphfmt_kind kind, graphfmt_what what)
{
    graphfmt *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->out = out;
    w->kind = kind;
    w->what = what;
    if (kind == GRAPHFMT_TEXT) {
        const char *const *cols = what == GRAPHFMT_HOSTS ? host_text_cols : edge_text_cols;
        size_t n = what == GRAPHFMT_HOSTS ? N_HOST_TEXT : N_EDGE_TEXT;
        char *cells[TBL_MAX_COLS];
        w->t.ncols = n;
        for (size_t i = 0; i < n; i++)
            cells[i] = cell(cols[i]);
        tbl_row(&w->t, cells, n);
    } else if (kind == GRAPHFMT_CSV) {
        fputs(what == GRAPHFMT_HOSTS ? host_csv_header : edge_csv_header, out);
    }
    return w;
}

static void
json_line(FILE *out, json_object *o)
{
    fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), out);
    fputc('\n', out);
    json_object_put(o);
}

static json_object *
json_ts(uint64_t ns)
{
    char buf[32];
    return json_object_new_string(flowfmt_ts(ns, buf, sizeof(buf)));
}

static json_object *
json_counts(const graph_counts *c)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "flows", json_object_new_int64((int64_t)c->flows));
    json_object_object_add(o, "pkts", json_object_new_int64((int64_t)c->pkts));
    json_object_object_add(o, "bytes", json_object_new_int64((int64_t)c->bytes));
    return o;
}

static void
node_json(FILE *out, const graph_node *n)
{
    char buf[64];
    json_object *o = json_object_new_object();
    json_object_object_add(o, "addr", json_object_new_string(addr_str(&n->addr, buf, sizeof(buf))));
    json_object_object_add(o, "internal", json_object_new_boolean(n->internal));
    json_object_object_add(o, "first_seen", json_ts(n->first_ns));
    json_object_object_add(o, "last_seen", json_ts(n->last_ns));
    json_object_object_add(o, "as_client", json_counts(&n->as_client));
    json_object_object_add(o, "as_server", json_counts(&n->as_server));
    json_object *macs = json_object_new_array();
    for (unsigned i = 0; i < n->n_mac; i++) {
        json_object *m = json_object_new_object();
        json_object_object_add(m, "mac", json_object_new_string(mac_str(n->mac[i].mac, buf, sizeof(buf))));
        json_object_object_add(m, "first_seen", json_ts(n->mac[i].first_ns));
        json_object_object_add(m, "last_seen", json_ts(n->mac[i].last_ns));
        json_object_array_add(macs, m);
    }
    json_object_object_add(o, "macs", macs);
    json_object *ids = json_object_new_array();
    for (unsigned i = 0; i < n->n_ident; i++) {
        const graph_ident *x = &n->ident[i];
        json_object *m = json_object_new_object();
        json_object_object_add(m, "kind", json_object_new_string(x->kind));
        json_object_object_add(m, "value", json_object_new_string(x->value));
        json_object_object_add(m, "source", json_object_new_string(x->source));
        json_object_object_add(m, "first_seen", json_ts(x->first_ns));
        json_object_object_add(m, "last_seen", json_ts(x->last_ns));
        json_object_array_add(ids, m);
    }
    json_object_object_add(o, "identities", ids);
    json_object *labels = json_object_new_object();
    for (unsigned i = 0; i < n->n_label; i++)
        json_object_object_add(labels, n->label[i].key, json_object_new_string(n->label[i].value));
    json_object_object_add(o, "labels", labels);
    if (n->has_geo) {
        json_object *g = json_object_new_object();
        json_object_object_add(g, "country", json_object_new_string(n->geo.country));
        json_object_object_add(g, "asn", json_object_new_int64(n->geo.asn));
        json_object_object_add(g, "as_org", json_object_new_string(n->geo.org));
        json_object_object_add(o, "geo", g);
    } else {
        json_object_object_add(o, "geo", NULL);
    }
    json_line(out, o);
}

static void
node_csv(FILE *out, const graph_node *n)
{
    char a[64], t1[32], t2[32];
    char *macs = node_macs(n, ";"), *ids = node_idents(n, ";"), *labels = node_labels(n, ";", 0);
    fprintf(out, "%s,%d,%s,%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",",
            addr_str(&n->addr, a, sizeof(a)), n->internal,
            flowfmt_ts(n->first_ns, t1, sizeof(t1)), flowfmt_ts(n->last_ns, t2, sizeof(t2)),
            n->as_client.flows, n->as_client.pkts, n->as_client.bytes,
            n->as_server.flows, n->as_server.pkts, n->as_server.bytes);
    fputs(macs ? macs : "", out);
    fputc(',', out);
    esc_csv(out, ids ? ids : "");
    fputc(',', out);
    esc_csv(out, labels ? labels : "");
    fputc(',', out);
    if (n->has_geo) {
        esc_csv(out, n->geo.country);
        fprintf(out, ",%u,", n->geo.asn);
        esc_csv(out, n->geo.org);
    } else {
        fputs(",,", out);
    }
    fputc('\n', out);
    free(macs);
    free(ids);
    free(labels);
}

static int
node_text(graphfmt *w, const graph_node *n)
{
    char buf[64];
    char *c[N_HOST_TEXT];
    size_t i = 0;
    c[i++] = cell(addr_str(&n->addr, buf, sizeof(buf)));
    c[i++] = cell(n->internal ? "internal" : "external");
    c[i++] = cell_u64(n->as_client.flows);
    c[i++] = cell_u64(n->as_server.flows);
    c[i++] = cell(human(n->as_client.bytes + n->as_server.bytes, buf, sizeof(buf)));
    c[i++] = cell(graphfmt_time(n->first_ns, buf, sizeof(buf)));
    c[i++] = cell(graphfmt_time(n->last_ns, buf, sizeof(buf)));
    if (n->n_mac) {
        char m[32];
        snprintf(buf, sizeof(buf), "%s%s", mac_str(n->mac[0].mac, m, sizeof(m)), n->n_mac > 1 ? " +" : "");
        c[i++] = cell(buf);
    } else {
        c[i++] = cell("");
    }
    c[i++] = node_names(n, 3);
    c[i++] = node_labels(n, ",", 1);
    c[i++] = node_geo_text(n);
    for (size_t k = 0; k < i; k++)
        if (!c[k]) {
            for (size_t j = 0; j < i; j++)
                free(c[j]);
            return -1;
        }
    tbl_row(&w->t, c, i);
    return w->t.oom ? -1 : 0;
}

int
graphfmt_node(graphfmt *w, const graph_node *n)
{
    switch (w->kind) {
    case GRAPHFMT_TEXT: return node_text(w, n);
    case GRAPHFMT_CSV: node_csv(w->out, n); return 0;
    case GRAPHFMT_JSON: node_json(w->out, n); return 0;
    }
    return 0;
}

static void
edge_json(FILE *out, const graph_edge *e)
{
    char buf[64];
    json_object *o = json_object_new_object();
    json_object_object_add(o, "client", json_object_new_string(addr_str(&e->k.client, buf, sizeof(buf))));
    json_object_object_add(o, "server", json_object_new_string(addr_str(&e->k.server, buf, sizeof(buf))));
    json_object_object_add(o, "proto", json_object_new_string(flowfmt_proto_name(e->k.proto, buf, sizeof(buf))));
    json_object_object_add(o, "port", json_object_new_int(e->k.port));
    json_object_object_add(o, "app", json_object_new_string(e->k.app));
    json_object_object_add(o, "flows", json_object_new_int64((int64_t)e->flows));
    json_object_object_add(o, "pkts_c2s", json_object_new_int64((int64_t)e->pkts[0]));
    json_object_object_add(o, "pkts_s2c", json_object_new_int64((int64_t)e->pkts[1]));
    json_object_object_add(o, "bytes_c2s", json_object_new_int64((int64_t)e->bytes[0]));
    json_object_object_add(o, "bytes_s2c", json_object_new_int64((int64_t)e->bytes[1]));
    json_object_object_add(o, "first_seen", json_ts(e->first_ns));
    json_object_object_add(o, "last_seen", json_ts(e->last_ns));
    json_object_object_add(o, "days", json_object_new_int64(graph_days_count(&e->days)));
    json_object_object_add(o, "flows_handshake", json_object_new_int64((int64_t)e->flows_handshake));
    json_object_object_add(o, "flows_heuristic", json_object_new_int64((int64_t)e->flows_heuristic));
    json_object *names = json_object_new_array();
    for (unsigned i = 0; i < e->n_name; i++)
        json_object_array_add(names, json_object_new_string(e->name[i]));
    json_object_object_add(o, "names", names);
    char risks[RISKS_LEN];
    json_object_object_add(o, "risks", json_object_new_string(dpi_risk_names(e->risk, risks, sizeof(risks))));
    json_line(out, o);
}

static void
edge_csv(FILE *out, const graph_edge *e)
{
    char c[64], s[64], p[16], t1[32], t2[32];
    fprintf(out, "%s,%s,%s,%u,", addr_str(&e->k.client, c, sizeof(c)),
            addr_str(&e->k.server, s, sizeof(s)), flowfmt_proto_name(e->k.proto, p, sizeof(p)),
            e->k.port);
    esc_csv(out, e->k.app);
    fprintf(out, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%s,%s,%u,%" PRIu64
            ",%" PRIu64 ",", e->flows, e->pkts[0], e->pkts[1], e->bytes[0], e->bytes[1],
            flowfmt_ts(e->first_ns, t1, sizeof(t1)), flowfmt_ts(e->last_ns, t2, sizeof(t2)),
            graph_days_count(&e->days), e->flows_handshake, e->flows_heuristic);
    char *names = edge_names(e, ";", 0);
    esc_csv(out, names ? names : "");
    free(names);
    char risks[RISKS_LEN];
    fputc(',', out);
    esc_csv(out, dpi_risk_names(e->risk, risks, sizeof(risks)));
    fputc('\n', out);
}

static int
edge_text(graphfmt *w, const graph_edge *e)
{
    char buf[64];
    char *c[N_EDGE_TEXT];
    size_t i = 0;
    c[i++] = cell(addr_str(&e->k.client, buf, sizeof(buf)));
    c[i++] = cell(addr_str(&e->k.server, buf, sizeof(buf)));
    c[i++] = cell(graphfmt_service(e->k.proto, e->k.port, buf, sizeof(buf)));
    c[i++] = cell_esc(e->k.app);
    c[i++] = cell_u64(e->flows);
    c[i++] = cell_u64(e->pkts[0] + e->pkts[1]);
    c[i++] = cell(human(e->bytes[0], buf, sizeof(buf)));
    c[i++] = cell(human(e->bytes[1], buf, sizeof(buf)));
    c[i++] = cell_u64(graph_days_count(&e->days));
    c[i++] = cell(graphfmt_time(e->first_ns, buf, sizeof(buf)));
    c[i++] = cell(graphfmt_time(e->last_ns, buf, sizeof(buf)));
    c[i++] = cell_u64(e->flows_heuristic);
    c[i++] = edge_names(e, ", ", 1);
    char risks[RISKS_LEN];
    c[i++] = cell_esc(dpi_risk_names(e->risk, risks, sizeof(risks)));
    for (size_t k = 0; k < i; k++)
        if (!c[k]) {
            for (size_t j = 0; j < i; j++)
                free(c[j]);
            return -1;
        }
    tbl_row(&w->t, c, i);
    return w->t.oom ? -1 : 0;
}

int
graphfmt_edge(graphfmt *w, const graph_edge *e)
{
    switch (w->kind) {
    case GRAPHFMT_TEXT: return edge_text(w, e);
    case GRAPHFMT_CSV: edge_csv(w->out, e); return 0;
    case GRAPHFMT_JSON: edge_json(w->out, e); return 0;
    }
    return 0;
}

void
graphfmt_finish(graphfmt *w)
{
    if (!w)
        return;
    if (w->kind == GRAPHFMT_TEXT) {
        tbl_print(&w->t, w->out);
        tbl_free(&w->t);
    }
    free(w);
}

/* ---- stats ---------------------------------------------------------------------- */

static char *
capture_inputs(const graph_capture *c, int esc)
{
    sb b;
    if (!sb_open(&b))
        return NULL;
    for (uint32_t i = 0; i < c->n_input; i++) {
        if (i)
            fputs(", ", b.f);
        if (esc)
            esc_text(b.f, c->input[i].name);
        else
            fputs(c->input[i].name, b.f);
        if (c->input[i].kind == 1)
            fputs(" (interface)", b.f);
        else if (c->input[i].size)
            fprintf(b.f, " (%" PRIu64 " bytes)", c->input[i].size);
    }
    return sb_take(&b);
}

static void
stats_text(FILE *out, const char *dir, const graph_stats *st, const graph_capture *caps,
           size_t n_caps, const graphfmt_app *apps, size_t n_apps)
{
    char t1[32], t2[32];
    fputs("database ", out);
    esc_text(out, dir);
    fputc('\n', out);
    fprintf(out, "schema %u\n", st->schema);
    fprintf(out, "created %s\n", graphfmt_time(st->created_ns, t1, sizeof(t1)));
    fprintf(out, "first_seen %s\n", graphfmt_time(st->first_ns, t1, sizeof(t1)));
    fprintf(out, "last_seen %s\n", graphfmt_time(st->last_ns, t1, sizeof(t1)));
    fprintf(out, "captures %" PRIu64 "\n", st->captures);
    fprintf(out, "hosts %" PRIu64 "\n", st->nodes);
    fprintf(out, "hosts_internal %" PRIu64 "\n", st->nodes_internal);
    fprintf(out, "hosts_external %" PRIu64 "\n", st->nodes_external);
    fprintf(out, "edges %" PRIu64 "\n", st->edges);
    fprintf(out, "flows %" PRIu64 "\n", st->flows);
    fprintf(out, "packets %" PRIu64 "\n", st->pkts);
    fprintf(out, "bytes %" PRIu64 "\n", st->bytes);
    fprintf(out, "corrupt_records %" PRIu64 "\n", st->corrupt);

    tbl t;
    static const char *const ccols[] = { "STARTED", "STATE", "FRAMES", "FLOWS", "FLUSHES",
                                         "FIRST PACKET", "LAST PACKET", "INPUTS" };
    memset(&t, 0, sizeof(t));
    t.ncols = 8;
    char *c[8];
    for (size_t i = 0; i < 8; i++)
        c[i] = cell(ccols[i]);
    tbl_row(&t, c, 8);
    for (size_t k = 0; k < n_caps; k++) {
        const graph_capture *cp = &caps[k];
        c[0] = cell(graphfmt_time(cp->start_ns, t1, sizeof(t1)));
        c[1] = cell(graph_capture_state_name(cp->state));
        c[2] = cell_u64(cp->frames);
        c[3] = cell_u64(cp->flows);
        c[4] = cell_u64(cp->flushes);
        c[5] = cell(graphfmt_time(cp->first_ns, t1, sizeof(t1)));
        c[6] = cell(graphfmt_time(cp->last_ns, t2, sizeof(t2)));
        c[7] = capture_inputs(cp, 1);
        tbl_row(&t, c, 8);
    }
    fputs("\nCaptures:\n", out);
    tbl_print(&t, out);
    tbl_free(&t);

    static const char *const acols[] = { "APP", "EDGES", "FLOWS", "BYTES" };
    t.ncols = 4;
    for (size_t i = 0; i < 4; i++)
        c[i] = cell(acols[i]);
    tbl_row(&t, c, 4);
    for (size_t k = 0; k < n_apps; k++) {
        char h[32];
        c[0] = cell_esc(apps[k].name);
        c[1] = cell_u64(apps[k].edges);
        c[2] = cell_u64(apps[k].flows);
        c[3] = cell(human(apps[k].bytes, h, sizeof(h)));
        tbl_row(&t, c, 4);
    }
    fputs("\nTop applications (by flows):\n", out);
    tbl_print(&t, out);
    tbl_free(&t);
}

static void
stats_json(FILE *out, const char *dir, const graph_stats *st, const graph_capture *caps,
           size_t n_caps, const graphfmt_app *apps, size_t n_apps)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "database", json_object_new_string(dir));
    json_object_object_add(o, "schema", json_object_new_int64(st->schema));
    json_object_object_add(o, "created", json_ts(st->created_ns));
    json_object_object_add(o, "first_seen", json_ts(st->first_ns));
    json_object_object_add(o, "last_seen", json_ts(st->last_ns));
    json_object_object_add(o, "hosts", json_object_new_int64((int64_t)st->nodes));
    json_object_object_add(o, "hosts_internal", json_object_new_int64((int64_t)st->nodes_internal));
    json_object_object_add(o, "hosts_external", json_object_new_int64((int64_t)st->nodes_external));
    json_object_object_add(o, "edges", json_object_new_int64((int64_t)st->edges));
    json_object_object_add(o, "flows", json_object_new_int64((int64_t)st->flows));
    json_object_object_add(o, "packets", json_object_new_int64((int64_t)st->pkts));
    json_object_object_add(o, "bytes", json_object_new_int64((int64_t)st->bytes));
    json_object_object_add(o, "corrupt_records", json_object_new_int64((int64_t)st->corrupt));
    json_object *ca = json_object_new_array();
    for (size_t k = 0; k < n_caps; k++) {
        const graph_capture *cp = &caps[k];
        json_object *c = json_object_new_object();
        json_object_object_add(c, "started", json_ts(cp->start_ns));
        json_object_object_add(c, "ended", json_ts(cp->end_ns));
        json_object_object_add(c, "state", json_object_new_string(graph_capture_state_name(cp->state)));
        json_object_object_add(c, "frames", json_object_new_int64((int64_t)cp->frames));
        json_object_object_add(c, "bytes", json_object_new_int64((int64_t)cp->bytes));
        json_object_object_add(c, "decoded", json_object_new_int64((int64_t)cp->decoded));
        json_object_object_add(c, "flows", json_object_new_int64((int64_t)cp->flows));
        json_object_object_add(c, "flushes", json_object_new_int64((int64_t)cp->flushes));
        json_object_object_add(c, "first_packet", json_ts(cp->first_ns));
        json_object_object_add(c, "last_packet", json_ts(cp->last_ns));
        json_object_object_add(c, "segscope_version", json_object_new_string(cp->version));
        json_object *in = json_object_new_array();
        for (uint32_t i = 0; i < cp->n_input; i++) {
            json_object *x = json_object_new_object();
            json_object_object_add(x, "kind", json_object_new_string(cp->input[i].kind ? "interface" : "file"));
            json_object_object_add(x, "name", json_object_new_string(cp->input[i].name));
            json_object_object_add(x, "size", json_object_new_int64((int64_t)cp->input[i].size));
            json_object_array_add(in, x);
        }
        json_object_object_add(c, "inputs", in);
        json_object_array_add(ca, c);
    }
    json_object_object_add(o, "captures", ca);
    json_object *aa = json_object_new_array();
    for (size_t k = 0; k < n_apps; k++) {
        json_object *a = json_object_new_object();
        json_object_object_add(a, "app", json_object_new_string(apps[k].name));
        json_object_object_add(a, "edges", json_object_new_int64((int64_t)apps[k].edges));
        json_object_object_add(a, "flows", json_object_new_int64((int64_t)apps[k].flows));
        json_object_object_add(a, "bytes", json_object_new_int64((int64_t)apps[k].bytes));
        json_object_array_add(aa, a);
    }
    json_object_object_add(o, "top_apps", aa);
    json_line(out, o);
}

void
graphfmt_stats(FILE *out, graphfmt_kind kind, const char *dir, const graph_stats *st,
               const graph_capture *caps, size_t n_caps, const graphfmt_app *apps, size_t n_apps)
{
    if (kind == GRAPHFMT_JSON)
        stats_json(out, dir, st, caps, n_caps, apps, n_apps);
    else
        stats_text(out, dir, st, caps, n_caps, apps, n_apps);
}
