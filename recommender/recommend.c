/*
 * recommend.c - run the recommender and write its policy (see recommend.h).
 *
 * The JSON document is segscope.policy/v1 (policy.h) and every addition
 * is an extra key the format allows: per segment "explanation",
 * "confidence", "flags", "hosts" (address, confidence, names); per rule
 * "basis", "lateral", "evidence" (flows, packets, bytes, first/last seen,
 * days seen, host pairs, example pairs), "dst_names"/"dst_addrs" for
 * Internet egress; and at the top "review", "blast_radius",
 * "attack_paths" and "summary".  Strings that came from traffic (names)
 * are escaped by json-c in JSON and by esc_text() in the text summary.
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "recommender/policy.h"
#include "recommender/recommend.h"
#include "reports/escape.h"

/* The result of a run. */
struct recommendation {
    const model *m;             /* the input (not owned) */
    rec_cfg cfg;                /* the knobs used */
    segmentation *seg;          /* owned */
    rules *rules;               /* owned */
    blast *blast;               /* owned */
};

void
rec_cfg_default(rec_cfg *cfg)
{
    seg_cfg_default(&cfg->seg);
    rules_cfg_default(&cfg->rules);
    cfg->max_paths = 50;
    cfg->max_review = 1000;
    cfg->host_details = 1;
}

recommendation *
rec_run(const model *m, const rec_cfg *cfg)
{
    recommendation *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->m = m;
    if (cfg)
        r->cfg = *cfg;
    else
        rec_cfg_default(&r->cfg);
    r->seg = seg_build(m, &r->cfg.seg);
    if (r->seg)
        r->rules = rules_build(m, r->seg, &r->cfg.rules);
    if (r->rules)
        r->blast = blast_compute(m, r->seg, r->rules, r->cfg.max_paths);
    if (!r->blast) {
        rec_free(r);
        return NULL;
    }
    return r;
}

void
rec_free(recommendation *r)
{
    if (!r)
        return;
    blast_free(r->blast);
    rules_free(r->rules);
    seg_free(r->seg);
    free(r);
}

const segmentation *
rec_segments(const recommendation *r)
{
    return r->seg;
}
const rules *
rec_rules(const recommendation *r)
{
    return r->rules;
}
const blast *
rec_blast(const recommendation *r)
{
    return r->blast;
}

/* ---- helpers ---------------------------------------------------------------- */

static const char *
iso_time(uint64_t ns, char *buf, size_t len)
{
    if (!ns) {
        snprintf(buf, len, "-");
        return buf;
    }
    time_t t = (time_t)(ns / 1000000000ULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

static const char *
ref_id(const recommendation *r, uint32_t x)
{
    if (x == RULE_INTERNET)
        return "internet";
    if (x == SEG_NONE)
        return "-";
    return seg_id(r->seg, x);
}

static const char *
host_str(const recommendation *r, uint32_t h, char *buf, size_t len)
{
    const model_host *x = model_host_get(r->m, h);
    return model_addr_str(x->addr, x->ipv, buf, len);
}

static json_object *
jstr(const char *s)
{
    return json_object_new_string(s ? s : "");
}

static json_object *
evidence_json(const recommendation *r, const rule_ev *ev)
{
    char a[64], b[64];
    json_object *o = json_object_new_object();
    json_object_object_add(o, "flows", json_object_new_int64((int64_t)ev->flows));
    json_object_object_add(o, "packets", json_object_new_int64((int64_t)ev->pkts));
    json_object_object_add(o, "bytes", json_object_new_int64((int64_t)ev->bytes));
    json_object_object_add(o, "first_seen", jstr(iso_time(ev->first_ns, a, sizeof(a))));
    json_object_object_add(o, "last_seen", jstr(iso_time(ev->last_ns, a, sizeof(a))));
    json_object_object_add(o, "days_seen", json_object_new_int64(ev->days));
    json_object_object_add(o, "host_pairs", json_object_new_int64(ev->pairs));
    json_object *ex = json_object_new_array();
    for (uint32_t i = 0; i < ev->n_ex; i++) {
        json_object *p = json_object_new_array();
        json_object_array_add(p, jstr(host_str(r, ev->ex[i][0], a, sizeof(a))));
        json_object_array_add(p, jstr(host_str(r, ev->ex[i][1], b, sizeof(b))));
        json_object_array_add(ex, p);
    }
    json_object_object_add(o, "examples", ex);
    return o;
}

static const char *
flag_names(unsigned f, char *buf, size_t len)
{
    static const struct { unsigned bit; const char *name; } fl[] = {
        {SEG_F_INFRA, "infrastructure"}, {SEG_F_INTERNET_IN, "internet-facing"},
        {SEG_F_CLIENTS, "user-devices"}, {SEG_F_CROWN, "crown-jewel"},
        {SEG_F_LABELLED, "labelled"}, {SEG_F_SCANNER, "scanner"},
    };
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
        if ((f & fl[i].bit) && o + strlen(fl[i].name) + 2 < len)
            o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? "," : "", fl[i].name);
    return buf;
}

static json_object *
ports_json(const rule *ru)
{
    json_object *a = json_object_new_array();
    if (ru->lo == ru->hi) {
        json_object_array_add(a, json_object_new_int(ru->lo));
    } else {
        json_object *p = json_object_new_array();
        json_object_array_add(p, json_object_new_int(ru->lo));
        json_object_array_add(p, json_object_new_int(ru->hi));
        json_object_array_add(a, p);
    }
    return a;
}

/* ---- JSON --------------------------------------------------------------------- */

int
rec_write_json(const recommendation *r, FILE *out)
{
    const model *m = r->m;
    char buf[256], b2[64];
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "schema", jstr(POLICY_SCHEMA));
    json_object_object_add(doc, "generator", jstr("segscope " PACKAGE_VERSION " recommend"));
    json_object_object_add(doc, "default", jstr("deny"));

    /* segments */
    json_object *segs = json_object_new_array();
    uint32_t ns = seg_count(r->seg);
    for (uint32_t q = 0; q < ns; q++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", jstr(seg_id(r->seg, q)));
        json_object_object_add(o, "name", jstr(seg_name(r->seg, q)));
        uint32_t nb, nm;
        const cidr_block *bl = seg_blocks(r->seg, q, &nb);
        json_object *mem = json_object_new_array();
        for (uint32_t i = 0; i < nb; i++)
            json_object_array_add(mem, jstr(policy_prefix_str(&bl[i].pfx, buf, sizeof(buf))));
        json_object_object_add(o, "members", mem);
        const uint32_t *hosts = seg_members(r->seg, q, &nm);
        double mc = 0;
        for (uint32_t i = 0; i < nm; i++)
            mc += seg_host_conf(r->seg, hosts[i]);
        json_object_object_add(o, "host_count", json_object_new_int64(nm));
        json_object_object_add(o, "confidence", json_object_new_double(nm ? mc / nm : 0));
        json_object *fl = json_object_new_array();
        flag_names(seg_flags(r->seg, q), buf, sizeof(buf));
        for (char *t = strtok(buf, ","); t; t = strtok(NULL, ","))
            json_object_array_add(fl, jstr(t));
        json_object_object_add(o, "flags", fl);
        json_object_object_add(o, "explanation", jstr(seg_why(r->seg, q)));
        if (r->cfg.host_details) {
            json_object *hl = json_object_new_array();
            for (uint32_t i = 0; i < nm; i++) {
                json_object *h = json_object_new_object();
                json_object_object_add(h, "addr", jstr(host_str(r, hosts[i], b2, sizeof(b2))));
                json_object_object_add(h, "confidence", json_object_new_double(seg_host_conf(r->seg, hosts[i])));
                uint32_t na;
                const model_attr *a = model_host_attrs(m, hosts[i], &na);
                json_object *names = NULL;
                for (uint32_t k = 0; k < na; k++) {
                    if (a[k].kind != MODEL_ATTR_NAME)
                        continue;
                    if (!names)
                        names = json_object_new_array();
                    if (json_object_array_length(names) < 8)
                        json_object_array_add(names, jstr(model_str(m, a[k].value)));
                }
                if (names)
                    json_object_object_add(h, "names", names);
                json_object_array_add(hl, h);
            }
            json_object_object_add(o, "hosts", hl);
        }
        json_object_array_add(segs, o);
    }
    json_object_object_add(doc, "segments", segs);

    /* rules */
    json_object *rl = json_object_new_array();
    uint32_t nr = rules_count(r->rules);
    for (uint32_t i = 0; i < nr; i++) {
        const rule *ru = rules_get(r->rules, i);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "src", jstr(ref_id(r, ru->src)));
        json_object_object_add(o, "dst", jstr(ref_id(r, ru->dst)));
        json_object_object_add(o, "proto", jstr(rules_proto_name(ru->proto, buf, sizeof(buf))));
        if (ru->proto != 1)
            json_object_object_add(o, "ports", ports_json(ru));
        if (ru->app)
            json_object_object_add(o, "app", jstr(model_str(m, ru->app)));
        json_object_object_add(o, "basis", jstr(rules_basis_name(ru->basis)));
        json_object_object_add(o, "lateral", json_object_new_boolean(rules_lateral(ru->proto, ru->lo, ru->hi)));
        if (ru->lo != ru->hi)
            json_object_object_add(o, "ports_seen", json_object_new_int64(ru->n_ports_seen));
        if (ru->n_names) {
            json_object *a = json_object_new_array();
            for (uint32_t k = 0; k < ru->n_names; k++)
                json_object_array_add(a, jstr(model_str(m, ru->names[k])));
            json_object_object_add(o, "dst_names", a);
        }
        if (ru->n_addrs) {
            json_object *a = json_object_new_array();
            for (uint32_t k = 0; k < ru->n_addrs; k++)
                json_object_array_add(a, jstr(host_str(r, ru->addrs[k], b2, sizeof(b2))));
            json_object_object_add(o, "dst_addrs", a);
        }
        json_object_object_add(o, "evidence", evidence_json(r, &ru->ev));
        json_object_array_add(rl, o);
    }
    json_object_object_add(doc, "rules", rl);

    /* review */
    json_object *rv = json_object_new_array();
    uint32_t nv = rules_review_count(r->rules);
    for (uint32_t i = 0; i < nv && (!r->cfg.max_review || i < r->cfg.max_review); i++) {
        const review *v = rules_review_get(r->rules, i);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "reason", jstr(rules_reason_name(v->reason)));
        if (v->src_host != MODEL_NONE)
            json_object_object_add(o, "host", jstr(host_str(r, v->src_host, b2, sizeof(b2))));
        json_object_object_add(o, "src", jstr(ref_id(r, v->src)));
        if (v->reason == REVIEW_SCANNER) {
            json_object_object_add(o, "probes", json_object_new_int64(v->ports));
        } else {
            json_object_object_add(o, "dst", jstr(ref_id(r, v->dst)));
            json_object_object_add(o, "proto", jstr(rules_proto_name(v->proto, buf, sizeof(buf))));
            if (v->proto == 6 || v->proto == 17)
                json_object_object_add(o, "port", json_object_new_int(v->port));
            if (v->app)
                json_object_object_add(o, "app", jstr(model_str(m, v->app)));
        }
        json_object_object_add(o, "evidence", evidence_json(r, &v->ev));
        json_object_array_add(rv, o);
    }
    json_object_object_add(doc, "review", rv);
    if (r->cfg.max_review && nv > r->cfg.max_review)
        json_object_object_add(doc, "review_omitted", json_object_new_int64(nv - r->cfg.max_review));

    /* blast radius */
    const blast_summary *bs = blast_get_summary(r->blast);
    json_object *br = json_object_new_object();
    json_object_object_add(br, "hosts", json_object_new_int64(bs->hosts));
    json_object_object_add(br, "one_hop_flat", json_object_new_double(bs->flat));
    json_object_object_add(br, "one_hop_observed", json_object_new_double(bs->observed));
    json_object_object_add(br, "one_hop_policy", json_object_new_double(bs->policy));
    json_object_object_add(br, "lateral_flat", json_object_new_double(bs->lateral_flat));
    json_object_object_add(br, "lateral_observed", json_object_new_double(bs->lateral_observed));
    json_object_object_add(br, "lateral_policy", json_object_new_double(bs->lateral_policy));
    json_object_object_add(br, "reduction", json_object_new_double(bs->reduction));
    json_object_object_add(br, "lateral_reduction", json_object_new_double(bs->lateral_reduction));
    json_object_object_add(br, "internet_exposed_segments", json_object_new_int64(bs->exposed_segments));
    json_object_object_add(br, "internet_exposed_hosts", json_object_new_int64(bs->exposed_hosts));
    json_object *per = json_object_new_object();
    for (uint32_t q = 0; q < ns; q++) {
        const blast_seg *x = blast_get_seg(r->blast, q);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "one_hop_observed", json_object_new_double(x->observed));
        json_object_object_add(o, "one_hop_policy", json_object_new_double(x->policy));
        json_object_object_add(o, "lateral_observed", json_object_new_double(x->lateral_observed));
        json_object_object_add(o, "lateral_policy", json_object_new_double(x->lateral_policy));
        json_object_object_add(per, seg_id(r->seg, q), o);
    }
    json_object_object_add(br, "segments", per);
    json_object_object_add(doc, "blast_radius", br);

    /* attack paths */
    json_object *ap = json_object_new_array();
    for (uint32_t i = 0; i < blast_n_paths(r->blast); i++) {
        const blast_path *p = blast_get_path(r->blast, i);
        json_object *o = json_object_new_object();
        json_object *path = json_object_new_array();
        if (p->from_internet)
            json_object_array_add(path, jstr("internet"));
        for (uint32_t k = 0; k < p->n; k++)
            json_object_array_add(path, jstr(seg_id(r->seg, p->seg[k])));
        json_object_object_add(o, "path", path);
        json_object *via = json_object_new_array();
        uint32_t hops = p->from_internet ? p->n : p->n - 1;
        for (uint32_t k = 0; k < hops; k++) {
            const rule *ru = rules_get(r->rules, p->rule[k]);
            if (ru->lo == ru->hi || ru->proto == 1)
                snprintf(buf, sizeof(buf), "%s/%u", rules_proto_name(ru->proto, b2, sizeof(b2)), ru->lo);
            else
                snprintf(buf, sizeof(buf), "%s/%u-%u", rules_proto_name(ru->proto, b2, sizeof(b2)), ru->lo, ru->hi);
            if (ru->proto == 1)
                snprintf(buf, sizeof(buf), "icmp");
            json_object_array_add(via, jstr(buf));
        }
        json_object_object_add(o, "via", via);
        json_object_array_add(ap, o);
    }
    json_object_object_add(doc, "attack_paths", ap);

    /* summary */
    json_object *sm = json_object_new_object();
    json_object_object_add(sm, "segments", json_object_new_int64(ns));
    json_object_object_add(sm, "rules", json_object_new_int64(nr));
    json_object_object_add(sm, "review", json_object_new_int64(nv));
    json_object_object_add(sm, "min_support", json_object_new_int64((int64_t)r->cfg.rules.min_support));
    json_object_object_add(doc, "summary", sm);

    const char *txt = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
                                                          JSON_C_TO_STRING_SPACED |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE);
    int rc = fputs(txt, out) < 0 || fputc('\n', out) == EOF ? -1 : 0;
    json_object_put(doc);
    return rc;
}

/* ---- text ---------------------------------------------------------------------- */

int
rec_write_text(const recommendation *r, FILE *out)
{
    const model *m = r->m;
    char buf[256], b2[64], b3[64];
    uint32_t ns = seg_count(r->seg), nr = rules_count(r->rules), nv = rules_review_count(r->rules);
    const blast_summary *bs = blast_get_summary(r->blast);
    fprintf(out, "Recommended segmentation: %u segment%s, %u rule%s (default deny), %u item%s to review\n\n",
            ns, ns == 1 ? "" : "s", nr, nr == 1 ? "" : "s", nv, nv == 1 ? "" : "s");
    fprintf(out, "Segments\n");
    for (uint32_t q = 0; q < ns; q++) {
        uint32_t nm, nb;
        const uint32_t *hosts = seg_members(r->seg, q, &nm);
        const cidr_block *bl = seg_blocks(r->seg, q, &nb);
        double mc = 0;
        for (uint32_t i = 0; i < nm; i++)
            mc += seg_host_conf(r->seg, hosts[i]);
        fprintf(out, "  %s  (%u host%s, confidence %.2f%s%s)\n", seg_id(r->seg, q), nm, nm == 1 ? "" : "s",
                nm ? mc / nm : 0, seg_flags(r->seg, q) ? ", " : "",
                flag_names(seg_flags(r->seg, q), buf, sizeof(buf)));
        fprintf(out, "      members:");
        for (uint32_t i = 0; i < nb && i < 8; i++)
            fprintf(out, " %s", policy_prefix_str(&bl[i].pfx, buf, sizeof(buf)));
        if (nb > 8)
            fprintf(out, " ... (%u blocks)", nb);
        fprintf(out, "\n      why: ");
        esc_text(out, seg_why(r->seg, q));
        fprintf(out, "\n");
    }
    fprintf(out, "\nRules (src -> dst  service  basis  flows  pairs  last seen)\n");
    for (uint32_t i = 0; i < nr; i++) {
        const rule *ru = rules_get(r->rules, i);
        if (ru->proto == 1)
            snprintf(b2, sizeof(b2), "icmp");
        else if (ru->lo == ru->hi)
            snprintf(b2, sizeof(b2), "%s/%u", rules_proto_name(ru->proto, buf, sizeof(buf)), ru->lo);
        else
            snprintf(b2, sizeof(b2), "%s/%u-%u", rules_proto_name(ru->proto, buf, sizeof(buf)), ru->lo, ru->hi);
        fprintf(out, "  %s -> %s  %s", ref_id(r, ru->src), ref_id(r, ru->dst), b2);
        if (ru->app) {
            fprintf(out, " (");
            esc_text(out, model_str(m, ru->app));
            fprintf(out, ")");
        }
        fprintf(out, "  %s  %llu  %u  %s", rules_basis_name(ru->basis), (unsigned long long)ru->ev.flows,
                ru->ev.pairs, iso_time(ru->ev.last_ns, b3, sizeof(b3)));
        if (ru->n_names) {
            fprintf(out, "  names:");
            for (uint32_t k = 0; k < ru->n_names && k < 4; k++) {
                fputc(' ', out);
                esc_text(out, model_str(m, ru->names[k]));
            }
            if (ru->n_names > 4)
                fprintf(out, " ...");
        }
        fprintf(out, "\n");
    }
    fprintf(out, "\nReview (not turned into rules)\n");
    for (uint32_t i = 0; i < nv && i < 50; i++) {
        const review *v = rules_review_get(r->rules, i);
        if (v->reason == REVIEW_SCANNER) {
            fprintf(out, "  scanner %s (%s): %u probes, %llu flows, %u host pairs\n",
                    host_str(r, v->src_host, b2, sizeof(b2)), ref_id(r, v->src), v->ports,
                    (unsigned long long)v->ev.flows, v->ev.pairs);
            continue;
        }
        fprintf(out, "  %-10s %s -> %s  %s/%u  %llu flow%s, %u pair%s",
                rules_reason_name(v->reason), ref_id(r, v->src), ref_id(r, v->dst),
                rules_proto_name(v->proto, buf, sizeof(buf)), v->port, (unsigned long long)v->ev.flows,
                v->ev.flows == 1 ? "" : "s", v->ev.pairs, v->ev.pairs == 1 ? "" : "s");
        if (v->ev.n_ex)
            fprintf(out, "  e.g. %s -> %s", host_str(r, v->ev.ex[0][0], b2, sizeof(b2)),
                    host_str(r, v->ev.ex[0][1], b3, sizeof(b3)));
        fprintf(out, "\n");
    }
    if (nv > 50)
        fprintf(out, "  ... %u more (see --format json)\n", nv - 50);
    fprintf(out, "\nBlast radius (mean other hosts reachable per host, %u hosts)\n", bs->hosts);
    fprintf(out, "  one hop:               flat %.1f | observed %.1f | policy %.1f  (reduction %.0f%%)\n",
            bs->flat, bs->observed, bs->policy, 100 * bs->reduction);
    fprintf(out, "  lateral, transitively: flat %.1f | observed %.1f | policy %.1f  (reduction %.0f%%)\n",
            bs->lateral_flat, bs->lateral_observed, bs->lateral_policy, 100 * bs->lateral_reduction);
    fprintf(out, "  reachable from the Internet: %u segment%s, %u host%s\n", bs->exposed_segments,
            bs->exposed_segments == 1 ? "" : "s", bs->exposed_hosts, bs->exposed_hosts == 1 ? "" : "s");
    if (!bs->crown_segments) {
        fprintf(out, "  attack paths: no crown jewels labelled (label hosts crown_jewel=true)\n");
    } else {
        fprintf(out, "  attack paths to crown jewels (%u):\n", blast_n_paths(r->blast));
        for (uint32_t i = 0; i < blast_n_paths(r->blast); i++) {
            const blast_path *p = blast_get_path(r->blast, i);
            fprintf(out, "    %s", p->from_internet ? "internet" : "");
            for (uint32_t k = 0; k < p->n; k++)
                fprintf(out, "%s%s", (k || p->from_internet) ? " -> " : "", seg_id(r->seg, p->seg[k]));
            fprintf(out, "\n");
        }
    }
    return ferror(out) ? -1 : 0;
}
