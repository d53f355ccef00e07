/*
 * cmd_check.c - "segscope check": replay traffic against a policy.
 *
 * Every flow (from captures through the capture engine, or every edge of
 * a graph database) is judged by its client -> server direction, the way
 * the policy's rules are written: the client's and the server's segments,
 * the protocol and the server port.  Denied flows are grouped by the rule
 * that is missing (source segment, destination segment, protocol, port).
 * Flows to broadcast or multicast addresses, or from an unspecified
 * address, are not judged (a segmentation policy does not govern them)
 * and are counted as ignored.  Exit status 4 (EXIT_DENIED) when anything
 * would be denied.
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/graph.h"
#include "cli/cli.h"
#include "recommender/model.h"
#include "recommender/policy.h"

/* One distinct (client, server, proto, port) judged. */
typedef struct tuple {
    uint8_t src[16], dst[16];   /* addresses */
    uint8_t sv, dv;             /* IP versions */
    uint8_t proto;              /* IP protocol */
    uint16_t port;              /* server port (0 for ICMP) */
    uint64_t flows;             /* flows with this tuple */
    int rule;                   /* allowing rule, or -1 */
} tuple;

/* One missing rule: denied tuples grouped. */
typedef struct missing {
    int src, dst;               /* segments; -1 = none (internet or unsegmented), see src_inet */
    uint8_t src_inet, dst_inet; /* 1: the end is an Internet address */
    uint8_t proto;              /* IP protocol (ICMPv6 folded into 1) */
    uint16_t port;              /* server port (0 for ICMP) */
    uint64_t flows;             /* denied flows */
    uint32_t tuples;            /* distinct denied tuples */
    uint32_t example;           /* index of one tuple */
} missing;

/* State of a check run. */
typedef struct check_ctx {
    const policy *pol;          /* the policy */
    tuple *t;                   /* distinct tuples (hash table slots) */
    uint8_t *used;              /* slot in use */
    size_t cap, n;              /* slots, tuples */
    uint64_t permitted, denied, ignored; /* flows by verdict; ignored: not judged */
    int oom;                    /* an allocation failed */
} check_ctx;

static uint32_t
tuple_hash(const tuple *x)
{
    uint32_t h = 2166136261u;
    const uint8_t *parts[2] = { x->src, x->dst };
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 16; i++)
            h = (h ^ parts[k][i]) * 16777619u;
    h = (h ^ x->proto) * 16777619u;
    h = (h ^ (x->port & 0xff)) * 16777619u;
    h = (h ^ (x->port >> 8)) * 16777619u;
    return h ^ (uint32_t)(x->sv << 4 | x->dv);
}

static int
tuple_eq(const tuple *a, const tuple *b)
{
    return a->sv == b->sv && a->dv == b->dv && a->proto == b->proto && a->port == b->port &&
           memcmp(a->src, b->src, 16) == 0 && memcmp(a->dst, b->dst, 16) == 0;
}

static int
grow(check_ctx *c)
{
    size_t nc = c->cap ? c->cap * 2 : 4096;
    tuple *nt = malloc(nc * sizeof(tuple));
    uint8_t *nu = calloc(nc, 1);
    if (!nt || !nu) {
        free(nt);
        free(nu);
        return -1;
    }
    for (size_t i = 0; i < c->cap; i++)
        if (c->used[i]) {
            size_t h = tuple_hash(&c->t[i]) & (nc - 1);
            while (nu[h])
                h = (h + 1) & (nc - 1);
            nu[h] = 1;
            nt[h] = c->t[i];
        }
    free(c->t);
    free(c->used);
    c->t = nt;
    c->used = nu;
    c->cap = nc;
    return 0;
}

static const char *
proto_name(int proto)
{
    return proto == 6 ? "tcp" : proto == 17 ? "udp" : proto == 1 ? "icmp" : "ip";
}

/* Multicast, broadcast (limited, or a UDP/ICMP .255 of a /24) or from an unspecified address. */
static int
not_judged(const uint8_t *src, int sv, const uint8_t *dst, int dv, int proto)
{
    static const uint8_t zero[16];
    if (memcmp(src, zero, sv == 4 ? 4 : 16) == 0)
        return 1;
    if (dv == 4)
        return (dst[0] & 0xf0) == 0xe0 || (dst[0] == 255 && dst[1] == 255 && dst[2] == 255 && dst[3] == 255) ||
               (dst[3] == 255 && proto != 6);
    return dst[0] == 0xff;
}

/* Judge flows of one tuple. */
static void
judge(check_ctx *c, const uint8_t *src, int sv, const uint8_t *dst, int dv, int proto, int port,
      uint64_t flows)
{
    if (not_judged(src, sv, dst, dv, proto)) {
        c->ignored += flows;
        return;
    }
    tuple k;
    memset(&k, 0, sizeof(k));
    memcpy(k.src, src, sv == 4 ? 4 : 16);
    memcpy(k.dst, dst, dv == 4 ? 4 : 16);
    k.sv = (uint8_t)sv;
    k.dv = (uint8_t)dv;
    k.proto = (uint8_t)(proto == 58 ? 1 : proto);
    k.port = (uint16_t)(k.proto == 1 ? 0 : port);
    if ((c->n + 1) * 2 > c->cap && grow(c) < 0) {
        c->oom = 1;
        return;
    }
    size_t h = tuple_hash(&k) & (c->cap - 1);
    while (c->used[h] && !tuple_eq(&c->t[h], &k))
        h = (h + 1) & (c->cap - 1);
    if (!c->used[h]) {
        c->used[h] = 1;
        k.rule = policy_allows(c->pol, k.src, k.sv, k.dst, k.dv, k.proto, k.port);
        c->t[h] = k;
        c->n++;
    }
    c->t[h].flows += flows;
    if (c->t[h].rule >= 0)
        c->permitted += flows;
    else
        c->denied += flows;
}

static void
on_flow(void *ctx, flow *f)
{
    judge(ctx, flow_caddr(f), f->key.ip_version, flow_saddr(f), f->key.ip_version, f->key.proto,
          flow_sport(f), 1);
}

static int
on_edge(void *ctx, const graph_edge *e)
{
    check_ctx *c = ctx;
    judge(c, e->k.client.a, e->k.client.family, e->k.server.a, e->k.server.family, e->k.proto,
          e->k.port, e->flows ? e->flows : 1);
    return c->oom;
}

static const char *
seg_ref(const policy *p, int seg, int inet)
{
    if (seg >= 0)
        return policy_segment_id(p, seg);
    return inet ? "internet" : "(no segment)";
}

/* Order of missing-rule groups: by (src, dst, ends, proto, port). */
static int
group_cmp(const void *pa, const void *pb)
{
    const missing *a = pa, *b = pb;
    if (a->src != b->src)
        return a->src < b->src ? -1 : 1;
    if (a->dst != b->dst)
        return a->dst < b->dst ? -1 : 1;
    if (a->src_inet != b->src_inet)
        return a->src_inet < b->src_inet ? -1 : 1;
    if (a->dst_inet != b->dst_inet)
        return a->dst_inet < b->dst_inet ? -1 : 1;
    if (a->proto != b->proto)
        return a->proto < b->proto ? -1 : 1;
    return a->port < b->port ? -1 : a->port > b->port;
}

static int
missing_cmp(const void *pa, const void *pb)
{
    const missing *a = pa, *b = pb;
    if (a->flows != b->flows)
        return a->flows > b->flows ? -1 : 1;
    if (a->src != b->src)
        return a->src < b->src ? -1 : 1;
    if (a->dst != b->dst)
        return a->dst < b->dst ? -1 : 1;
    if (a->proto != b->proto)
        return a->proto < b->proto ? -1 : 1;
    return a->port < b->port ? -1 : a->port > b->port;
}

static const char check_usage[] =
    "usage: segscope check --policy FILE (-r FILE... | -i IFACE... | --db DIR) [OPTIONS]\n"
    "\n"
    "Replay traffic against a segscope.policy/v1 policy: every flow is judged by\n"
    "its client -> server direction; denied flows are grouped by the missing rule.\n"
    "Exit status 4 when anything would be denied, 0 when everything is permitted.\n"
    "\n"
    "Options:\n"
    "  -p, --policy FILE        the policy (JSON, segscope.policy/v1)\n"
    "      --db DIR             judge the edges of a graph database instead of traffic\n"
    "      --list               also list every distinct (client, server, proto, port)\n"
    "                           with its verdict\n"
    "      --format FMT         text (default) or json\n"
    "  -o, --output FILE        write to FILE instead of standard output\n"
    "  -q, --quiet              no summary line on standard error\n"
    CAPOPT_HELP;

static int
check_exec(int argc, char **argv)
{
    enum { OPT_DB = CAPOPT_LAST + 1, OPT_LIST, OPT_FORMAT };
    static const struct option longopts[] = {
        CAPOPT_LONG,
        {"policy", required_argument, NULL, 'p'},
        {"db", required_argument, NULL, OPT_DB},
        {"list", no_argument, NULL, OPT_LIST},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    eng_cfg cfg;
    const char *pol_path = NULL, *db = NULL, *out_path = NULL;
    int list = 0, json = 0, quiet = 0, opt, r;
    eng_cfg_default(&cfg);
    optind = 1;
    while ((opt = getopt_long(argc, argv, CAPOPT_SHORT "p:o:qh", longopts, NULL)) != -1) {
        if ((r = capopt_handle(&cfg, opt, optarg)) < 0)
            return EXIT_USAGE;
        if (r > 0)
            continue;
        switch (opt) {
        case 'p': pol_path = optarg; break;
        case OPT_DB: db = optarg; break;
        case OPT_LIST: list = 1; break;
        case OPT_FORMAT:
            if (strcmp(optarg, "text") == 0)
                json = 0;
            else if (strcmp(optarg, "json") == 0)
                json = 1;
            else {
                cli_err("--format: '%s' is not text or json", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'o': out_path = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(check_usage, stdout); return 0;
        default:
            fputs(check_usage, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_err("unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    if (!pol_path) {
        cli_err("check needs --policy FILE (see segscope check --help)");
        return EXIT_USAGE;
    }
    if (db && (cfg.nfiles || cfg.nifaces)) {
        cli_err("give either --db or -r/-i, not both");
        return EXIT_USAGE;
    }
    if (!db && capopt_finish(&cfg) < 0)
        return EXIT_USAGE;
    char err[1024];
    policy *pol = policy_load(pol_path, err, sizeof(err));
    if (!pol) {
        cli_err("%s", err);
        return EXIT_INPUT;
    }
    check_ctx c = { .pol = pol };
    int rc = 0;
    if (db) {
        int code;
        graph *g = graph_open(db, GRAPH_READ, &code, err, sizeof(err));
        if (!g) {
            cli_err("%s", err);
            policy_free(pol);
            return code;
        }
        if (graph_foreach_edge(g, on_edge, &c, err, sizeof(err)) < 0) {
            cli_err("%s", err);
            rc = EXIT_INPUT;
        }
        graph_close(g);
    } else {
        int code;
        eng_hooks hooks = { .flow_end = on_flow, .ctx = &c };
        eng *e = eng_create(&cfg, &hooks, &code, err, sizeof(err));
        if (!e) {
            cli_err("%s", err);
            policy_free(pol);
            return code;
        }
        cli_install_signals();
        rc = eng_run(e, &cli_stop, err, sizeof(err));
        if (rc)
            cli_err("%s", err);
        eng_free(e);
    }
    if (c.oom) {
        cli_err("out of memory");
        rc = EXIT_RUNTIME;
    }
    /* group the denied tuples by missing rule: one record per denied tuple,
       sorted by group, then runs summed */
    missing *ms = NULL;
    size_t nm = 0, nd = 0;
    for (size_t i = 0; i < c.cap && !rc; i++)
        nd += c.used[i] && c.t[i].rule < 0;
    if (!rc && nd && !(ms = malloc(nd * sizeof(missing)))) {
        cli_err("out of memory");
        rc = EXIT_RUNTIME;
    }
    for (size_t i = 0; i < c.cap && ms; i++) {
        if (!c.used[i] || c.t[i].rule >= 0)
            continue;
        const tuple *t = &c.t[i];
        int ss = policy_segment_of(pol, t->src, t->sv), ds = policy_segment_of(pol, t->dst, t->dv);
        ms[nm++] = (missing){ .src = ss, .dst = ds,
                              .src_inet = (uint8_t)(ss < 0 && !policy_addr_private(t->src, t->sv)),
                              .dst_inet = (uint8_t)(ds < 0 && !policy_addr_private(t->dst, t->dv)),
                              .proto = t->proto, .port = t->port, .flows = t->flows, .tuples = 1,
                              .example = (uint32_t)i };
    }
    if (nm)
        qsort(ms, nm, sizeof(missing), group_cmp);
    size_t w = 0;
    for (size_t k = 0; k < nm; k++) {
        if (w && group_cmp(&ms[w - 1], &ms[k]) == 0) {
            ms[w - 1].flows += ms[k].flows;
            ms[w - 1].tuples++;
        } else {
            ms[w++] = ms[k];
        }
    }
    nm = w;
    if (nm)
        qsort(ms, nm, sizeof(missing), missing_cmp);
    FILE *out = rc ? NULL : cli_open_out(out_path);
    if (!rc && !out)
        rc = EXIT_RUNTIME;
    char a[64], b[64], pb[16];
    if (out && !json) {
        fprintf(out, "%s: %llu flows judged: %llu permitted, %llu denied (%llu not judged: broadcast/multicast)\n",
                pol_path, (unsigned long long)(c.permitted + c.denied), (unsigned long long)c.permitted,
                (unsigned long long)c.denied, (unsigned long long)c.ignored);
        if (nm)
            fprintf(out, "Missing rules (src -> dst proto/port: denied flows, distinct pairs, example):\n");
        for (size_t k = 0; k < nm; k++) {
            const tuple *t = &c.t[ms[k].example];
            fprintf(out, "  %s -> %s %s/%u: %llu flow%s, %u pair%s, e.g. %s -> %s\n",
                    seg_ref(pol, ms[k].src, ms[k].src_inet), seg_ref(pol, ms[k].dst, ms[k].dst_inet),
                    proto_name(ms[k].proto),
                    ms[k].port, (unsigned long long)ms[k].flows, ms[k].flows == 1 ? "" : "s", ms[k].tuples,
                    ms[k].tuples == 1 ? "" : "s", model_addr_str(t->src, t->sv, a, sizeof(a)),
                    model_addr_str(t->dst, t->dv, b, sizeof(b)));
        }
        if (list) {
            fprintf(out, "Flows (verdict client server proto port flows):\n");
            for (size_t i = 0; i < c.cap; i++) {
                if (!c.used[i])
                    continue;
                const tuple *t = &c.t[i];
                fprintf(out, "%s %s %s %s %s %llu\n", t->rule >= 0 ? "allow" : "deny",
                        model_addr_str(t->src, t->sv, a, sizeof(a)), model_addr_str(t->dst, t->dv, b, sizeof(b)),
                        proto_name(t->proto),
                        t->proto == 1 ? "-" : (snprintf(pb, sizeof(pb), "%u", t->port), pb),
                        (unsigned long long)t->flows);
            }
        }
    } else if (out) {
        json_object *doc = json_object_new_object();
        json_object_object_add(doc, "policy", json_object_new_string(pol_path));
        json_object_object_add(doc, "permitted", json_object_new_int64((int64_t)c.permitted));
        json_object_object_add(doc, "denied", json_object_new_int64((int64_t)c.denied));
        json_object_object_add(doc, "ignored", json_object_new_int64((int64_t)c.ignored));
        json_object *ma = json_object_new_array();
        for (size_t k = 0; k < nm; k++) {
            const tuple *t = &c.t[ms[k].example];
            json_object *o = json_object_new_object();
            json_object_object_add(o, "src", json_object_new_string(seg_ref(pol, ms[k].src, ms[k].src_inet)));
            json_object_object_add(o, "dst", json_object_new_string(seg_ref(pol, ms[k].dst, ms[k].dst_inet)));
            json_object_object_add(o, "proto", json_object_new_string(
                proto_name(ms[k].proto)));
            if (ms[k].proto != 1)
                json_object_object_add(o, "port", json_object_new_int(ms[k].port));
            json_object_object_add(o, "flows", json_object_new_int64((int64_t)ms[k].flows));
            json_object_object_add(o, "pairs", json_object_new_int64(ms[k].tuples));
            json_object *ex = json_object_new_array();
            json_object_array_add(ex, json_object_new_string(model_addr_str(t->src, t->sv, a, sizeof(a))));
            json_object_array_add(ex, json_object_new_string(model_addr_str(t->dst, t->dv, b, sizeof(b))));
            json_object_object_add(o, "example", ex);
            json_object_array_add(ma, o);
        }
        json_object_object_add(doc, "missing_rules", ma);
        if (list) {
            json_object *fa = json_object_new_array();
            for (size_t i = 0; i < c.cap; i++) {
                if (!c.used[i])
                    continue;
                const tuple *t = &c.t[i];
                json_object *o = json_object_new_object();
                json_object_object_add(o, "verdict", json_object_new_string(t->rule >= 0 ? "allow" : "deny"));
                json_object_object_add(o, "src", json_object_new_string(model_addr_str(t->src, t->sv, a, sizeof(a))));
                json_object_object_add(o, "dst", json_object_new_string(model_addr_str(t->dst, t->dv, b, sizeof(b))));
                json_object_object_add(o, "proto", json_object_new_string(
                    proto_name(t->proto)));
                if (t->proto != 1)
                    json_object_object_add(o, "port", json_object_new_int(t->port));
                json_object_object_add(o, "flows", json_object_new_int64((int64_t)t->flows));
                if (t->rule >= 0)
                    json_object_object_add(o, "rule", json_object_new_int(t->rule));
                json_object_array_add(fa, o);
            }
            json_object_object_add(doc, "flows", fa);
        }
        fputs(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                      JSON_C_TO_STRING_NOSLASHESCAPE), out);
        fputc('\n', out);
        json_object_put(doc);
    }
    if (out && cli_close_out(out, out_path) < 0 && !rc)
        rc = EXIT_RUNTIME;
    if (!quiet && !rc)
        fprintf(stderr, "segscope: %llu permitted, %llu denied, %zu missing rule%s\n",
                (unsigned long long)c.permitted, (unsigned long long)c.denied, nm, nm == 1 ? "" : "s");
    if (!rc && c.denied)
        rc = EXIT_DENIED;
    free(ms);
    free(c.t);
    free(c.used);
    policy_free(pol);
    return rc;
}

const cli_cmd cmd_check = {
    .name = "check",
    .summary = "replay traffic against a policy and list what it would deny",
    .usage = check_usage,
    .exec = check_exec,
};
