/*
 * export.c - reading a policy for export, and the normalised JSON writer
 * (see export.h).  policy.h validates and answers rules and refs; json-c
 * reads what policy.h keeps to itself: the member strings of each
 * segment (re-parsed with policy_prefix_parse, so exactly what the
 * validator accepted) and the rules' dst_names.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "reports/escape.h"
#include "reports/export.h"

#define EXPORT_MAX_FILE (256u << 20)    /* bytes of a policy read at most */

/* One segment's members by family. */
typedef struct xseg {
    policy_prefix *v4, *v6;     /* members */
    size_t n4, n6;              /* members of each family */
} xseg;

/* One rule's destination names. */
typedef struct xrule {
    char **names;               /* dst_names (valid UTF-8 copies) */
    size_t n;                   /* names held */
} xrule;

struct export_policy {
    char *source;               /* the file name */
    policy *p;                  /* the validated policy */
    xseg *segs;                 /* per segment */
    xrule *rules;               /* per rule */
};

/* ASCII whitespace trimmed into buf, as the validator does before parsing a member. */
static const char *
strip(const char *s, char *buf, size_t len)
{
    while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || (s[n - 1] >= '\t' && s[n - 1] <= '\r')))
        n--;
    if (n >= len)
        n = len - 1;
    memcpy(buf, s, n);
    buf[n] = 0;
    return buf;
}

const policy *
export_get_policy(const export_policy *x)
{
    return x->p;
}

const char *
export_source(const export_policy *x)
{
    return x->source;
}

const policy_prefix *
export_members(const export_policy *x, int seg, int ipv, size_t *n)
{
    *n = ipv == 4 ? x->segs[seg].n4 : x->segs[seg].n6;
    return ipv == 4 ? x->segs[seg].v4 : x->segs[seg].v6;
}

const char *const *
export_rule_names(const export_policy *x, int rule, size_t *n)
{
    *n = x->rules[rule].n;
    return (const char *const *)x->rules[rule].names;
}

static const char *
ref_str(const export_policy *x, const policy_ref *r, char *buf, size_t len)
{
    char pb[64];
    switch (r->kind) {
    case POLICY_REF_SEG: snprintf(buf, len, "%s", policy_segment_id(x->p, r->seg)); break;
    case POLICY_REF_ANY: snprintf(buf, len, "any"); break;
    case POLICY_REF_INTERNET: snprintf(buf, len, "internet"); break;
    default: snprintf(buf, len, "cidr:%s", policy_prefix_str(&r->cidr, pb, sizeof(pb)));
    }
    return buf;
}

const char *
export_rule_text(const export_policy *x, int rule, char *buf, size_t len)
{
    const policy_rule *ru = policy_rule_get(x->p, rule);
    char s[80], d[80];
    size_t o = (size_t)snprintf(buf, len, "R%d: %s -> %s ", rule + 1, ref_str(x, &ru->src, s, sizeof(s)),
                                ref_str(x, &ru->dst, d, sizeof(d)));
#define PUT(...) do { if (o < len) o += (size_t)snprintf(buf + o, len - o, __VA_ARGS__); } while (0)
    if (ru->proto == POLICY_ICMP)
        PUT("icmp");
    else if (ru->proto == POLICY_ANY && !ru->n_ports)
        PUT("any");
    else {
        PUT("%s/", ru->proto == POLICY_TCP ? "tcp" : ru->proto == POLICY_UDP ? "udp" : "any");
        if (!ru->n_ports)
            PUT("any");
        for (int k = 0; k < ru->n_ports; k++) {
            if (ru->ports[k][0] == ru->ports[k][1])
                PUT("%s%u", k ? "," : "", ru->ports[k][0]);
            else
                PUT("%s%u-%u", k ? "," : "", ru->ports[k][0], ru->ports[k][1]);
        }
    }
    if (ru->app && *ru->app)
        PUT(" %s", ru->app);
#undef PUT
    return buf;
}

void
export_free(export_policy *x)
{
    if (!x)
        return;
    int ns = x->p ? policy_n_segments(x->p) : 0, nr = x->p ? policy_n_rules(x->p) : 0;
    for (int i = 0; x->segs && i < ns; i++) {
        free(x->segs[i].v4);
        free(x->segs[i].v6);
    }
    for (int i = 0; x->rules && i < nr; i++) {
        for (size_t k = 0; k < x->rules[i].n; k++)
            free(x->rules[i].names[k]);
        free(x->rules[i].names);
    }
    free(x->segs);
    free(x->rules);
    policy_free(x->p);
    free(x->source);
    free(x);
}

export_policy *
export_parse(const char *text, size_t len, const char *name, char *err, size_t errlen)
{
    export_policy *x = calloc(1, sizeof(*x));
    json_object *doc = NULL;
    if (!x || !(x->source = esc_utf8_dup(name))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (!(x->p = policy_parse(text, len, name, err, errlen)))
        goto fail;
    doc = json_tokener_parse(text);
    int ns = policy_n_segments(x->p), nr = policy_n_rules(x->p);
    x->segs = calloc((size_t)ns + 1, sizeof(xseg));
    x->rules = calloc((size_t)nr + 1, sizeof(xrule));
    json_object *segs = NULL, *rules = NULL;
    if (!doc || !x->segs || !x->rules || !json_object_object_get_ex(doc, "segments", &segs) ||
        !json_object_object_get_ex(doc, "rules", &rules)) {
        snprintf(err, errlen, "%s: out of memory", name);
        goto fail;
    }
    for (int i = 0; i < ns; i++) {
        json_object *s = json_object_array_get_idx(segs, (size_t)i), *mem = NULL;
        json_object_object_get_ex(s, "members", &mem);
        size_t nm = mem ? json_object_array_length(mem) : 0;
        xseg *g = &x->segs[i];
        g->v4 = calloc(nm + 1, sizeof(policy_prefix));
        g->v6 = calloc(nm + 1, sizeof(policy_prefix));
        if (!g->v4 || !g->v6) {
            snprintf(err, errlen, "%s: out of memory", name);
            goto fail;
        }
        for (size_t k = 0; k < nm; k++) {
            policy_prefix pp;
            const char *ms = json_object_get_string(json_object_array_get_idx(mem, k));
            char buf[80];
            if (!ms || policy_prefix_parse(strip(ms, buf, sizeof(buf)), &pp) < 0)
                continue;           /* the validator accepted it: cannot happen */
            if (pp.ipv == 4)
                g->v4[g->n4++] = pp;
            else
                g->v6[g->n6++] = pp;
        }
    }
    for (int i = 0; i < nr; i++) {
        json_object *r = json_object_array_get_idx(rules, (size_t)i), *dn = NULL;
        if (!json_object_object_get_ex(r, "dst_names", &dn) || !json_object_is_type(dn, json_type_array))
            continue;
        size_t n = json_object_array_length(dn);
        x->rules[i].names = calloc(n + 1, sizeof(char *));
        if (!x->rules[i].names) {
            snprintf(err, errlen, "%s: out of memory", name);
            goto fail;
        }
        for (size_t k = 0; k < n; k++) {
            json_object *v = json_object_array_get_idx(dn, k);
            if (!json_object_is_type(v, json_type_string))
                continue;
            char *c = esc_utf8_dup(json_object_get_string(v));
            if (!c) {
                snprintf(err, errlen, "%s: out of memory", name);
                goto fail;
            }
            x->rules[i].names[x->rules[i].n++] = c;
        }
    }
    json_object_put(doc);
    return x;
fail:
    if (doc)
        json_object_put(doc);
    export_free(x);
    return NULL;
}

export_policy *
export_load(const char *path, char *err, size_t errlen)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    int bad = 0;
    while (buf) {
        if (n + 1 >= cap) {
            char *nb = cap < EXPORT_MAX_FILE ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                snprintf(err, errlen, "%s: %s", path, cap < EXPORT_MAX_FILE ? "out of memory" : "file too large");
                bad = 1;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (!got) {
            if (ferror(f)) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                bad = 1;
            }
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    if (!buf)
        snprintf(err, errlen, "%s: out of memory", path);
    if (!buf || bad) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    export_policy *x = export_parse(buf, n, strcmp(path, "-") == 0 ? "<stdin>" : path, err, errlen);
    free(buf);
    return x;
}

const export_format *
export_find_format(const char *name)
{
    if (!strcmp(name, "nftables") || !strcmp(name, "nft"))
        return &export_fmt_nft;
    if (!strcmp(name, "iptables"))
        return &export_fmt_ipt;
    if (!strcmp(name, "ip6tables"))
        return &export_fmt_ip6t;
    if (!strcmp(name, "json"))
        return &export_fmt_json;
    return NULL;
}

/* ---- normalised JSON ------------------------------------------------------------ */

static json_object *
ref_json(const export_policy *x, const policy_ref *r)
{
    char b[96];
    if (r->kind != POLICY_REF_SEG)
        return json_object_new_string(ref_str(x, r, b, sizeof(b)));
    char *id = esc_utf8_dup(policy_segment_id(x->p, r->seg));  /* whole: ids can be long */
    json_object *o = json_object_new_string(id ? id : "");
    free(id);
    return o;
}

static int
json_write(FILE *out, const export_policy *x)
{
    const policy *p = x->p;
    char b[64];
    json_object *doc = json_object_new_object(), *segs = json_object_new_array(), *rules = json_object_new_array();
    json_object_object_add(doc, "schema", json_object_new_string(POLICY_SCHEMA));
    json_object_object_add(doc, "generator", json_object_new_string("segscope " PACKAGE_VERSION " export"));
    for (int i = 0; i < policy_n_segments(p); i++) {
        json_object *s = json_object_new_object(), *mem = json_object_new_array();
        char *id = esc_utf8_dup(policy_segment_id(p, i)), *nm = esc_utf8_dup(policy_segment_name(p, i));
        json_object_object_add(s, "id", json_object_new_string(id ? id : ""));
        if (nm && *nm)
            json_object_object_add(s, "name", json_object_new_string(nm));
        free(id);
        free(nm);
        for (int fam = 4; fam <= 6; fam += 2) {
            size_t n;
            const policy_prefix *v = export_members(x, i, fam, &n);
            for (size_t k = 0; k < n; k++)
                json_object_array_add(mem, json_object_new_string(policy_prefix_str(&v[k], b, sizeof(b))));
        }
        json_object_object_add(s, "members", mem);
        json_object_array_add(segs, s);
    }
    for (int i = 0; i < policy_n_rules(p); i++) {
        const policy_rule *ru = policy_rule_get(p, i);
        json_object *r = json_object_new_object();
        json_object_object_add(r, "src", ref_json(x, &ru->src));
        json_object_object_add(r, "dst", ref_json(x, &ru->dst));
        json_object_object_add(r, "proto", json_object_new_string(ru->proto == POLICY_TCP ? "tcp" :
                                                                  ru->proto == POLICY_UDP ? "udp" :
                                                                  ru->proto == POLICY_ICMP ? "icmp" : "any"));
        if (ru->proto != POLICY_ICMP) {
            json_object *ports = json_object_new_array();
            for (int k = 0; k < ru->n_ports; k++) {
                if (ru->ports[k][0] == ru->ports[k][1]) {
                    json_object_array_add(ports, json_object_new_int(ru->ports[k][0]));
                } else {
                    json_object *pr = json_object_new_array();
                    json_object_array_add(pr, json_object_new_int(ru->ports[k][0]));
                    json_object_array_add(pr, json_object_new_int(ru->ports[k][1]));
                    json_object_array_add(ports, pr);
                }
            }
            json_object_object_add(r, "ports", ports);
        }
        if (ru->app) {
            char *a = esc_utf8_dup(ru->app);
            json_object_object_add(r, "app", json_object_new_string(a ? a : ""));
            free(a);
        }
        size_t nn;
        const char *const *names = export_rule_names(x, i, &nn);
        if (nn) {
            json_object *a = json_object_new_array();
            for (size_t k = 0; k < nn; k++)
                json_object_array_add(a, json_object_new_string(names[k]));
            json_object_object_add(r, "dst_names", a);
        }
        json_object_array_add(rules, r);
    }
    json_object_object_add(doc, "segments", segs);
    json_object_object_add(doc, "rules", rules);
    json_object_object_add(doc, "default", json_object_new_string("deny"));
    const char *txt = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE);
    int rc = txt && fputs(txt, out) >= 0 && fputc('\n', out) != EOF ? 0 : -1;
    json_object_put(doc);
    return rc || ferror(out) ? -1 : 0;
}

const export_format export_fmt_json = {
    .name = "json",
    .desc = "the policy normalised (segscope.policy/v1, only the format's keys)",
    .write = json_write,
};
