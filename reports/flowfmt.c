/*
 * flowfmt.c - CSV and JSON Lines writers of flow records (see flowfmt.h).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "reports/escape.h"
#include "reports/flowfmt.h"

struct flowfmt {
    FILE *out;
    flowfmt_kind kind;
    char **extra;
    int n_extra;
};

static const char *core_cols[] = {
    "proto", "ip_version", "ip_layer", "vlan", "vni",
    "addr_a", "port_a", "addr_b", "port_b",
    "pkts_a_to_b", "bytes_a_to_b", "pkts_b_to_a", "bytes_b_to_a",
    "frag_pkts_a_to_b", "frag_bytes_a_to_b", "frag_pkts_b_to_a", "frag_bytes_b_to_a",
    "first_ts", "last_ts", "duration", "tcp_flags_a", "tcp_flags_b",
    "client_by", "end",
};
#define N_CORE (int)(sizeof(core_cols) / sizeof(core_cols[0]))

int
flowfmt_parse(const char *name)
{
    if (strcmp(name, "csv") == 0) return FLOWFMT_CSV;
    if (strcmp(name, "json") == 0) return FLOWFMT_JSON;
    if (strcmp(name, "zeek") == 0) return FLOWFMT_ZEEK;
    return -1;
}

const char *
flowfmt_proto_name(int proto, char *buf, size_t len)
{
    switch (proto) {
    case 1: return "icmp";
    case 2: return "igmp";
    case 6: return "tcp";
    case 17: return "udp";
    case 47: return "gre";
    case 50: return "esp";
    case 51: return "ah";
    case 58: return "icmpv6";
    case 89: return "ospf";
    case 103: return "pim";
    case 112: return "vrrp";
    case 132: return "sctp";
    default:
        snprintf(buf, len, "%d", proto);
        return buf;
    }
}

/* Decimal digits of v at p; returns the end (no terminator). */
static char *
put_u64(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* IPv4 in dotted-quad form by hand: glibc's inet_ntop formats each octet
   with sprintf (some 1,800 instructions an address, most of the cost of a
   flow record's line).  IPv6 (RFC 5952 zero compression) stays with it. */
const char *
flowfmt_addr(const uint8_t *a, int ip_version, char *buf, size_t len)
{
    if (ip_version != 6 && len >= 16) {
        char *p = buf;
        for (int i = 0; i < 4; i++) {
            if (i)
                *p++ = '.';
            p = put_u64(p, a[i]);
        }
        *p = '\0';
        return buf;
    }
    if (!inet_ntop(ip_version == 6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)len))
        snprintf(buf, len, "?");
    return buf;
}

const char *
flowfmt_tcp_flags(uint8_t flags, char *buf, size_t len)
{
    static const char letters[] = "FSRPAUEC";
    size_t n = 0;
    for (int i = 0; i < 8 && n + 1 < len; i++)
        if (flags & (1u << i))
            buf[n++] = letters[i];
    buf[n] = '\0';
    return buf;
}

const char *
flowfmt_ts(uint64_t ns, char *buf, size_t len)
{
    snprintf(buf, len, "%" PRIu64 ".%09" PRIu64, (uint64_t)(ns / 1000000000u), (uint64_t)(ns % 1000000000u));
    return buf;
}

flowfmt *
flowfmt_create(FILE *out, flowfmt_kind kind, const char *const *extra, int n_extra)
{
    flowfmt *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->out = out;
    w->kind = kind;
    if (n_extra > 0) {
        w->extra = calloc((size_t)n_extra, sizeof(char *));
        if (!w->extra) {
            free(w);
            return NULL;
        }
        for (int i = 0; i < n_extra; i++)
            if (!(w->extra[i] = strdup(extra[i]))) {
                w->n_extra = i;
                flowfmt_free(w);
                return NULL;
            }
    }
    w->n_extra = n_extra;
    if (kind == FLOWFMT_CSV) {
        for (int i = 0; i < N_CORE; i++)
            fprintf(out, "%s%s", i ? "," : "", core_cols[i]);
        for (int i = 0; i < n_extra; i++)
            fprintf(out, ",%s", w->extra[i]);
        fputc('\n', out);
    }
    return w;
}

/* v into buf as a string. */
static void
set_u64(char *buf, uint64_t v)
{
    *put_u64(buf, v) = '\0';
}

/* ns as "sec.nnnnnnnnn" into buf. */
static void
set_ts(char *buf, uint64_t ns)
{
    char *p = put_u64(buf, ns / 1000000000u);
    uint64_t frac = ns % 1000000000u;
    *p++ = '.';
    for (int i = 8; i >= 0; i--) {
        p[i] = (char)('0' + frac % 10);
        frac /= 10;
    }
    p[9] = '\0';
}

/* The core column values of a flow, as strings in bufs.  This runs once
   per flow record, so numbers are formatted without printf. */
static void
core_values(const flow *f, char bufs[N_CORE][64])
{
    const flow_dir *c = &f->d[0], *s = &f->d[1];
    char tmp[64];
    const char *pn = flowfmt_proto_name(f->key.proto, tmp, sizeof(tmp));
    memcpy(bufs[0], pn, strlen(pn) + 1);
    set_u64(bufs[1], f->key.ip_version);
    set_u64(bufs[2], f->ip_layer);
    char *v = bufs[3];
    for (int i = 0; i < f->n_vlan && i < DEC_MAX_VLAN; i++) {
        if (i)
            *v++ = '.';
        v = put_u64(v, f->vlan[i]);
    }
    *v = '\0';
    if (f->has_vni)
        set_u64(bufs[4], f->vni);
    else
        bufs[4][0] = '\0';
    flowfmt_addr(flow_caddr(f), f->key.ip_version, bufs[5], 64);
    set_u64(bufs[6], flow_cport(f));
    flowfmt_addr(flow_saddr(f), f->key.ip_version, bufs[7], 64);
    set_u64(bufs[8], flow_sport(f));
    set_u64(bufs[9], c->pkts);
    set_u64(bufs[10], c->bytes);
    set_u64(bufs[11], s->pkts);
    set_u64(bufs[12], s->bytes);
    set_u64(bufs[13], c->frag_pkts);
    set_u64(bufs[14], c->frag_bytes);
    set_u64(bufs[15], s->frag_pkts);
    set_u64(bufs[16], s->frag_bytes);
    set_ts(bufs[17], f->first_ns);
    set_ts(bufs[18], f->last_ns);
    if (f->last_ns >= f->first_ns) {
        set_ts(bufs[19], f->last_ns - f->first_ns);
    } else {
        bufs[19][0] = '-';
        set_ts(bufs[19] + 1, f->first_ns - f->last_ns);
    }
    flowfmt_tcp_flags(c->tcp_flags, bufs[20], 64);
    flowfmt_tcp_flags(s->tcp_flags, bufs[21], 64);
    const char *o = flow_origin_name(f->origin), *e = flow_end_name(f->end);
    memcpy(bufs[22], o, strlen(o) + 1);
    memcpy(bufs[23], e, strlen(e) + 1);
}

/* Columns that are numbers in JSON. */
static int
core_is_number(int i)
{
    return i == 1 || i == 2 || i == 4 || i == 6 || i == 8 || (i >= 9 && i <= 16);
}

void
flowfmt_write(flowfmt *w, const flow *f, const char *const *extra_vals)
{
    char bufs[N_CORE][64];
    core_values(f, bufs);
    if (w->kind == FLOWFMT_CSV) {
        /* One fwrite for the core columns (none of them needs quoting). */
        char line[N_CORE * 64];
        size_t n = 0;
        for (int i = 0; i < N_CORE; i++) {
            size_t l = strlen(bufs[i]);
            if (i)
                line[n++] = ',';
            memcpy(line + n, bufs[i], l);
            n += l;
        }
        fwrite(line, 1, n, w->out);
        for (int i = 0; i < w->n_extra; i++) {
            fputc(',', w->out);
            if (extra_vals && extra_vals[i])
                esc_csv(w->out, extra_vals[i]);
        }
        fputc('\n', w->out);
        return;
    }
    /* JSON Lines: one object per flow. */
    json_object *o = json_object_new_object();
    for (int i = 0; i < N_CORE; i++) {
        json_object *v;
        if (bufs[i][0] == '\0' && (i == 3 || i == 4))
            v = NULL;
        else if (core_is_number(i))
            v = json_object_new_int64((int64_t)strtoull(bufs[i], NULL, 10));
        else
            v = json_object_new_string(bufs[i]);
        json_object_object_add(o, core_cols[i], v);
    }
    for (int i = 0; i < w->n_extra; i++) {
        const char *s = extra_vals ? extra_vals[i] : NULL;
        json_object_object_add(o, w->extra[i], s && *s ? json_object_new_string(s) : NULL);
    }
    fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), w->out);
    fputc('\n', w->out);
    json_object_put(o);
}

void
flowfmt_free(flowfmt *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->n_extra; i++)
        free(w->extra[i]);
    free(w->extra);
    free(w);
}
