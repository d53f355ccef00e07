/*
 * policy.c - reading, validating and matching segscope.policy/v1 (policy.h).
 *
 * Validation follows the benchmark scorer rule by rule, so a document
 * segscope accepts is one the scorer accepts and the other way round.
 * Segment membership is answered from one sorted array of disjoint
 * address ranges (the overlap check guarantees they are disjoint) by
 * binary search; rules are then tried in order.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recommender/policy.h"

/* One member range of a segment: [lo, hi] in one family. */
typedef struct prange {
    uint8_t lo[16], hi[16];     /* first and last address (big-endian) */
    uint8_t ipv;                /* 4 or 6 */
    int seg;                    /* segment index */
    policy_prefix pfx;          /* the member as written (for messages) */
} prange;

/* One segment as read. */
typedef struct pseg {
    char *id;                   /* unique id */
    char *name;                 /* optional name, "" when absent */
} pseg;

/* A parsed policy. */
struct policy {
    pseg *segs;                 /* segments in document order */
    int n_segs;                 /* segments */
    policy_rule *rules;         /* rules in document order */
    int n_rules;                /* rules */
    prange *ranges;             /* every member range, sorted by (ipv, lo) */
    int n_ranges;               /* ranges */
};

/* ---- prefixes --------------------------------------------------------- */

int
policy_prefix_parse(const char *s, policy_prefix *out)
{
    char buf[80];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n + 1);
    char *slash = strchr(buf, '/');
    long len = -1;
    if (slash) {
        *slash = 0;
        const char *d = slash + 1;
        if (!*d || strlen(d) > 3)
            return -1;
        len = 0;
        for (; *d; d++) {
            if (*d < '0' || *d > '9')
                return -1;
            len = len * 10 + (*d - '0');
        }
    }
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, buf, out->addr) == 1)
        out->ipv = 4;
    else if (inet_pton(AF_INET6, buf, out->addr) == 1)
        out->ipv = 6;
    else
        return -1;
    int max = out->ipv == 4 ? 32 : 128;
    if (len < 0)
        len = max;
    if (len > max)
        return -1;
    out->len = (uint8_t)len;
    /* no host bits */
    for (int b = (int)len; b < max; b++)
        if (out->addr[b / 8] & (0x80 >> (b % 8)))
            return -1;
    return 0;
}

int
policy_prefix_contains(const policy_prefix *p, const uint8_t *addr, int ipv)
{
    if (p->ipv != ipv)
        return 0;
    int full = p->len / 8, rem = p->len % 8;
    if (memcmp(p->addr, addr, (size_t)full) != 0)
        return 0;
    if (rem && ((p->addr[full] ^ addr[full]) & (uint8_t)(0xff << (8 - rem))))
        return 0;
    return 1;
}

const char *
policy_prefix_str(const policy_prefix *p, char *buf, size_t len)
{
    char a[INET6_ADDRSTRLEN];
    if (!inet_ntop(p->ipv == 6 ? AF_INET6 : AF_INET, p->addr, a, sizeof(a)))
        snprintf(a, sizeof(a), "?");
    if (p->len == (p->ipv == 4 ? 32 : 128))
        snprintf(buf, len, "%s", a);
    else
        snprintf(buf, len, "%s/%u", a, p->len);
    return buf;
}

static void
prefix_range(const policy_prefix *p, uint8_t *lo, uint8_t *hi)
{
    int n = p->ipv == 4 ? 4 : 16;
    memset(lo, 0, 16);
    memset(hi, 0, 16);
    for (int b = 0; b < n * 8; b++) {
        uint8_t bit = (uint8_t)(0x80 >> (b % 8));
        if (b < p->len) {
            if (p->addr[b / 8] & bit) {
                lo[b / 8] |= bit;
                hi[b / 8] |= bit;
            }
        } else {
            hi[b / 8] |= bit;
        }
    }
}

int
policy_addr_private(const uint8_t *a, int ipv)
{
    if (ipv == 4)
        return a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168);
    return (a[0] & 0xfe) == 0xfc;
}

/* ---- errors ----------------------------------------------------------- */

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* A string from the document made safe for a one-line message: control bytes become '?'. */
static const char *
clean(const char *s, char *buf, size_t len)
{
    size_t k = 0;
    for (; s && *s && k + 1 < len; s++)
        buf[k++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
    buf[k] = 0;
    return buf;
}

/* ---- freeing ---------------------------------------------------------- */

void
policy_free(policy *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n_segs; i++) {
        free(p->segs[i].id);
        free(p->segs[i].name);
    }
    for (int i = 0; i < p->n_rules; i++) {
        free(p->rules[i].ports);
        free(p->rules[i].app);
    }
    free(p->segs);
    free(p->rules);
    free(p->ranges);
    free(p);
}

/* ---- parsing ---------------------------------------------------------- */

static int
range_cmp(const void *pa, const void *pb)
{
    const prange *a = pa, *b = pb;
    if (a->ipv != b->ipv)
        return a->ipv < b->ipv ? -1 : 1;
    int c = memcmp(a->lo, b->lo, 16);
    if (c)
        return c;
    return memcmp(a->hi, b->hi, 16);
}

static int
port_cmp(const void *pa, const void *pb)
{
    const uint16_t *a = pa, *b = pb;
    if (a[0] != b[0])
        return a[0] < b[0] ? -1 : 1;
    return a[1] < b[1] ? -1 : a[1] > b[1];
}

static int
find_seg(const policy *p, const char *id)
{
    for (int i = 0; i < p->n_segs; i++)
        if (strcmp(p->segs[i].id, id) == 0)
            return i;
    return -1;
}

/* Like Python's str.strip() for ASCII whitespace, into buf. */
static const char *
strip(const char *s, char *buf, size_t len)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f' || *s == '\v')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r' ||
                 s[n - 1] == '\f' || s[n - 1] == '\v'))
        n--;
    if (n >= len)
        n = len - 1;
    memcpy(buf, s, n);
    buf[n] = 0;
    return buf;
}

static int
parse_ref(policy *p, json_object *v, policy_ref *r, const char *name, const char *at,
          char *err, size_t errlen)
{
    if (!v || json_object_get_type(v) != json_type_string || !json_object_get_string_len(v)) {
        seterr(err, errlen, "%s: %s: SEGREF must be a non-empty string", name, at);
        return -1;
    }
    const char *s = json_object_get_string(v);
    memset(r, 0, sizeof(*r));
    if (strcmp(s, "any") == 0) {
        r->kind = POLICY_REF_ANY;
    } else if (strcmp(s, "internet") == 0) {
        r->kind = POLICY_REF_INTERNET;
    } else if (strncmp(s, "cidr:", 5) == 0) {
        char buf[80];
        r->kind = POLICY_REF_CIDR;
        if (policy_prefix_parse(strip(s + 5, buf, sizeof(buf)), &r->cidr) < 0) {
            char cb[64];
            seterr(err, errlen, "%s: %s: '%s' is not an IP address or CIDR prefix without host bits",
                   name, at, clean(s + 5, cb, sizeof(cb)));
            return -1;
        }
    } else {
        r->kind = POLICY_REF_SEG;
        r->seg = find_seg(p, s);
        if (r->seg < 0) {
            char cb[84];
            seterr(err, errlen, "%s: %s: unknown segment '%s' (not a segment id, any, internet or cidr:...)",
                   name, at, clean(s, cb, sizeof(cb)));
            return -1;
        }
    }
    return 0;
}

static int
is_int(json_object *v)
{
    return v && json_object_get_type(v) == json_type_int;
}

static int
parse_ports(json_object *v, policy_rule *r, const char *name, const char *at, char *err, size_t errlen)
{
    r->ports = NULL;
    r->n_ports = 0;
    if (!v || json_object_get_type(v) == json_type_null)
        return 0;
    if (json_object_get_type(v) != json_type_array) {
        seterr(err, errlen, "%s: %s: \"ports\" must be a list of ports and [lo, hi] ranges", name, at);
        return -1;
    }
    size_t n = json_object_array_length(v);
    if (n == 0)
        return 0;
    r->ports = calloc(n, sizeof(*r->ports));
    if (!r->ports) {
        seterr(err, errlen, "%s: out of memory", name);
        return -1;
    }
    for (size_t k = 0; k < n; k++) {
        json_object *e = json_object_array_get_idx(v, k);
        int64_t lo, hi;
        if (is_int(e)) {
            lo = hi = json_object_get_int64(e);
        } else if (e && json_object_get_type(e) == json_type_array && json_object_array_length(e) == 2 &&
                   is_int(json_object_array_get_idx(e, 0)) && is_int(json_object_array_get_idx(e, 1))) {
            lo = json_object_get_int64(json_object_array_get_idx(e, 0));
            hi = json_object_get_int64(json_object_array_get_idx(e, 1));
        } else {
            seterr(err, errlen, "%s: %s: ports[%zu] must be an integer or [lo, hi]", name, at, k);
            return -1;
        }
        if (lo < 0 || hi > 65535 || lo > hi) {
            seterr(err, errlen, "%s: %s: ports[%zu] is outside 0-65535 or has lo > hi", name, at, k);
            return -1;
        }
        r->ports[k][0] = (uint16_t)lo;
        r->ports[k][1] = (uint16_t)hi;
    }
    /* sort and merge */
    qsort(r->ports, n, sizeof(*r->ports), port_cmp);
    size_t w = 0;
    for (size_t k = 0; k < n; k++) {
        if (w && r->ports[k][0] <= (uint32_t)r->ports[w - 1][1] + 1) {
            if (r->ports[k][1] > r->ports[w - 1][1])
                r->ports[w - 1][1] = r->ports[k][1];
        } else {
            r->ports[w][0] = r->ports[k][0];
            r->ports[w][1] = r->ports[k][1];
            w++;
        }
    }
    r->n_ports = (int)w;
    return 0;
}

static int
parse_segments(policy *p, json_object *segs, const char *name, char *err, size_t errlen)
{
    size_t n = json_object_array_length(segs), nr = 0;
    p->segs = calloc(n ? n : 1, sizeof(*p->segs));
    if (!p->segs)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        json_object *s = json_object_array_get_idx(segs, i), *v;
        if (!s || json_object_get_type(s) != json_type_object) {
            seterr(err, errlen, "%s: segments[%zu] must be an object", name, i);
            return -1;
        }
        if (!json_object_object_get_ex(s, "id", &v) || json_object_get_type(v) != json_type_string) {
            seterr(err, errlen, "%s: segments[%zu]: \"id\" must be a non-empty string", name, i);
            return -1;
        }
        const char *id = json_object_get_string(v);
        char tmp[8], cid[84];
        clean(id, cid, sizeof(cid));
        if (!*strip(id, tmp, sizeof(tmp))) {
            seterr(err, errlen, "%s: segments[%zu]: \"id\" must be a non-empty string", name, i);
            return -1;
        }
        if (strcmp(id, "any") == 0 || strcmp(id, "internet") == 0 || strncmp(id, "cidr:", 5) == 0) {
            seterr(err, errlen, "%s: segments[%zu]: id '%s' is reserved (any, internet, cidr:...)", name, i, cid);
            return -1;
        }
        if (find_seg(p, id) >= 0) {
            seterr(err, errlen, "%s: segments[%zu]: duplicate segment id '%s'", name, i, cid);
            return -1;
        }
        const char *nm = "";
        if (json_object_object_get_ex(s, "name", &v)) {
            if (json_object_get_type(v) != json_type_string) {
                seterr(err, errlen, "%s: segments[%zu] (%s): \"name\" must be a string", name, i, cid);
                return -1;
            }
            nm = json_object_get_string(v);
        }
        p->segs[p->n_segs].id = strdup(id);
        p->segs[p->n_segs].name = strdup(nm);
        p->n_segs++;
        if (!p->segs[p->n_segs - 1].id || !p->segs[p->n_segs - 1].name)
            goto oom;
        if (!json_object_object_get_ex(s, "members", &v) || json_object_get_type(v) != json_type_array) {
            seterr(err, errlen, "%s: segments[%zu] (%s): \"members\" must be a list of IP addresses or CIDR prefixes",
                   name, i, cid);
            return -1;
        }
        size_t nm_ = json_object_array_length(v);
        prange *nrng = realloc(p->ranges, (nr + nm_ + 1) * sizeof(prange));
        if (!nrng)
            goto oom;
        p->ranges = nrng;
        for (size_t j = 0; j < nm_; j++) {
            json_object *mv = json_object_array_get_idx(v, j);
            char buf[80];
            if (!mv || json_object_get_type(mv) != json_type_string) {
                seterr(err, errlen, "%s: segments[%zu] (%s): members[%zu]: expected a string", name, i, cid, j);
                return -1;
            }
            prange *r = &p->ranges[nr];
            if (policy_prefix_parse(strip(json_object_get_string(mv), buf, sizeof(buf)), &r->pfx) < 0) {
                char cm[64];
                seterr(err, errlen,
                       "%s: segments[%zu] (%s): members[%zu]: '%s' is not an IP address or CIDR prefix without host bits",
                       name, i, cid, j, clean(json_object_get_string(mv), cm, sizeof(cm)));
                return -1;
            }
            prefix_range(&r->pfx, r->lo, r->hi);
            r->ipv = r->pfx.ipv;
            r->seg = p->n_segs - 1;
            nr++;
        }
    }
    p->n_ranges = (int)nr;
    if (nr)
        qsort(p->ranges, nr, sizeof(prange), range_cmp);
    /* overlaps: sweep keeping the range with the largest end so far */
    const prange *best = NULL;
    for (size_t k = 0; k < nr; k++) {
        const prange *cur = &p->ranges[k];
        if (best && best->ipv == cur->ipv && memcmp(cur->lo, best->hi, 16) <= 0 && best->seg != cur->seg) {
            char a[64], b[64], c1[84], c2[84];
            seterr(err, errlen, "%s: segments '%s' and '%s' overlap (%s and %s share addresses); "
                   "an address may belong to at most one segment", name, clean(p->segs[best->seg].id, c1, sizeof(c1)),
                   clean(p->segs[cur->seg].id, c2, sizeof(c2)), policy_prefix_str(&best->pfx, a, sizeof(a)),
                   policy_prefix_str(&cur->pfx, b, sizeof(b)));
            return -1;
        }
        if (!best || best->ipv != cur->ipv || memcmp(cur->hi, best->hi, 16) > 0)
            best = cur;
    }
    return 0;
oom:
    seterr(err, errlen, "%s: out of memory", name);
    return -1;
}

static int
parse_rules(policy *p, json_object *rules, const char *name, char *err, size_t errlen)
{
    size_t n = json_object_array_length(rules);
    p->rules = calloc(n ? n : 1, sizeof(*p->rules));
    if (!p->rules) {
        seterr(err, errlen, "%s: out of memory", name);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        json_object *r = json_object_array_get_idx(rules, i), *v = NULL;
        char at[64];
        policy_rule *pr = &p->rules[p->n_rules];
        snprintf(at, sizeof(at), "rules[%zu]", i);
        if (!r || json_object_get_type(r) != json_type_object) {
            seterr(err, errlen, "%s: %s must be an object", name, at);
            return -1;
        }
        p->n_rules++;
        char at2[80];
        snprintf(at2, sizeof(at2), "%s.src", at);
        if (parse_ref(p, json_object_object_get_ex(r, "src", &v) ? v : NULL, &pr->src, name, at2, err, errlen) < 0)
            return -1;
        snprintf(at2, sizeof(at2), "%s.dst", at);
        if (parse_ref(p, json_object_object_get_ex(r, "dst", &v) ? v : NULL, &pr->dst, name, at2, err, errlen) < 0)
            return -1;
        const char *proto = json_object_object_get_ex(r, "proto", &v) && json_object_get_type(v) == json_type_string
                                ? json_object_get_string(v) : NULL;
        if (proto && strcmp(proto, "tcp") == 0)
            pr->proto = POLICY_TCP;
        else if (proto && strcmp(proto, "udp") == 0)
            pr->proto = POLICY_UDP;
        else if (proto && strcmp(proto, "icmp") == 0)
            pr->proto = POLICY_ICMP;
        else if (proto && strcmp(proto, "any") == 0)
            pr->proto = POLICY_ANY;
        else {
            seterr(err, errlen, "%s: %s: \"proto\" must be one of tcp, udp, icmp, any", name, at);
            return -1;
        }
        if (parse_ports(json_object_object_get_ex(r, "ports", &v) ? v : NULL, pr, name, at, err, errlen) < 0)
            return -1;
        if (json_object_object_get_ex(r, "app", &v) && json_object_get_type(v) != json_type_null) {
            if (json_object_get_type(v) != json_type_string) {
                seterr(err, errlen, "%s: %s: \"app\" must be a string", name, at);
                return -1;
            }
            pr->app = strdup(json_object_get_string(v));
        }
    }
    return 0;
}

policy *
policy_parse(const char *text, size_t len, const char *name, char *err, size_t errlen)
{
    json_tokener *tok = json_tokener_new();
    if (!tok) {
        seterr(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    json_object *doc = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    if (!doc || jerr != json_tokener_success) {
        if (jerr == json_tokener_continue)
            seterr(err, errlen, "%s: not valid JSON: unexpected end of input", name);
        else
            seterr(err, errlen, "%s: not valid JSON: %s (at byte %zu)", name, json_tokener_error_desc(jerr),
                   (size_t)json_tokener_get_parse_end(tok));
        json_object_put(doc);
        json_tokener_free(tok);
        return NULL;
    }
    /* nothing but white space may follow the document */
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    for (size_t i = end; i < len; i++)
        if (text[i] != ' ' && text[i] != '\n' && text[i] != '\r' && text[i] != '\t') {
            seterr(err, errlen, "%s: not valid JSON: extra data after the document (at byte %zu)", name, i);
            json_object_put(doc);
            return NULL;
        }
    policy *p = calloc(1, sizeof(*p));
    json_object *v;
    if (!p) {
        seterr(err, errlen, "%s: out of memory", name);
        goto fail;
    }
    if (json_object_get_type(doc) != json_type_object) {
        seterr(err, errlen, "%s: top level must be a JSON object", name);
        goto fail;
    }
    if (!json_object_object_get_ex(doc, "schema", &v) || json_object_get_type(v) != json_type_string ||
        strcmp(json_object_get_string(v), POLICY_SCHEMA) != 0) {
        seterr(err, errlen, "%s: \"schema\" must be \"%s\"", name, POLICY_SCHEMA);
        goto fail;
    }
    if (!json_object_object_get_ex(doc, "default", &v) || json_object_get_type(v) != json_type_string ||
        strcmp(json_object_get_string(v), "deny") != 0) {
        seterr(err, errlen, "%s: \"default\" must be \"deny\"", name);
        goto fail;
    }
    if (!json_object_object_get_ex(doc, "segments", &v) || json_object_get_type(v) != json_type_array) {
        seterr(err, errlen, "%s: \"segments\" must be a list", name);
        goto fail;
    }
    if (parse_segments(p, v, name, err, errlen) < 0)
        goto fail;
    if (!json_object_object_get_ex(doc, "rules", &v) || json_object_get_type(v) != json_type_array) {
        seterr(err, errlen, "%s: \"rules\" must be a list", name);
        goto fail;
    }
    if (parse_rules(p, v, name, err, errlen) < 0)
        goto fail;
    json_object_put(doc);
    return p;
fail:
    json_object_put(doc);
    policy_free(p);
    return NULL;
}

policy *
policy_load(const char *path, char *err, size_t errlen)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        seterr(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int rerr = ferror(f);
    if (f != stdin)
        fclose(f);
    if (!buf) {
        seterr(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    if (rerr) {
        free(buf);
        seterr(err, errlen, "%s: read error", path);
        return NULL;
    }
    policy *p = policy_parse(buf, n, path, err, errlen);
    free(buf);
    return p;
}

/* ---- queries ---------------------------------------------------------- */

int
policy_n_segments(const policy *p)
{
    return p->n_segs;
}
int
policy_n_rules(const policy *p)
{
    return p->n_rules;
}

const char *
policy_segment_id(const policy *p, int seg)
{
    return seg >= 0 && seg < p->n_segs ? p->segs[seg].id : "";
}

const char *
policy_segment_name(const policy *p, int seg)
{
    return seg >= 0 && seg < p->n_segs ? p->segs[seg].name : "";
}

const policy_rule *
policy_rule_get(const policy *p, int i)
{
    return i >= 0 && i < p->n_rules ? &p->rules[i] : NULL;
}

int
policy_segment_of(const policy *p, const uint8_t *addr, int ipv)
{
    uint8_t a[16] = {0};
    memcpy(a, addr, ipv == 4 ? 4 : 16);
    int lo = 0, hi = p->n_ranges - 1, best = -1;
    while (lo <= hi) {             /* last range with (ipv, lo) <= (ipv, a) */
        int mid = (lo + hi) / 2;
        const prange *r = &p->ranges[mid];
        int c = r->ipv != ipv ? (r->ipv < ipv ? -1 : 1) : memcmp(r->lo, a, 16);
        if (c <= 0) {
            best = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    if (best >= 0 && p->ranges[best].ipv == ipv && memcmp(a, p->ranges[best].hi, 16) <= 0)
        return p->ranges[best].seg;
    return -1;
}

static int
ref_matches(const policy_ref *r, const uint8_t *addr, int ipv, int seg)
{
    switch (r->kind) {
    case POLICY_REF_ANY: return 1;
    case POLICY_REF_SEG: return seg == r->seg;
    case POLICY_REF_CIDR: return policy_prefix_contains(&r->cidr, addr, ipv);
    default: return seg < 0 && !policy_addr_private(addr, ipv);
    }
}

int
policy_allows(const policy *p, const uint8_t *src, int src_ipv,
              const uint8_t *dst, int dst_ipv, int proto, int port)
{
    if (proto == 58)
        proto = POLICY_ICMP;
    int ss = policy_segment_of(p, src, src_ipv), sd = policy_segment_of(p, dst, dst_ipv);
    for (int i = 0; i < p->n_rules; i++) {
        const policy_rule *r = &p->rules[i];
        if (r->proto != POLICY_ANY && r->proto != proto)
            continue;
        if (!ref_matches(&r->src, src, src_ipv, ss) || !ref_matches(&r->dst, dst, dst_ipv, sd))
            continue;
        if (proto == POLICY_ICMP || r->n_ports == 0)
            return i;
        for (int k = 0; k < r->n_ports; k++)
            if (port >= r->ports[k][0] && port <= r->ports[k][1])
                return i;
    }
    return -1;
}
