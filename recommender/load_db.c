/*
 * load_db.c - model_load_db(): fill a model from the workload graph database.
 *
 * Part of the model module (model.h): reads every node (address, internal
 * flag, host-name identities, labels) and every edge of the database
 * through graph.h's read API, then finishes the model.  Identities that
 * are not names of the host (user agents, banners, vendor strings, user
 * principals) are left out; a Kerberos machine principal ("WS-0001$") is
 * a name.  Example server names of an edge (SNI, Host, DNS) become names
 * of its server, which is how Internet destinations get their names.
 */
#include <stdio.h>
#include <string.h>

#include "analyzer/graph.h"
#include "capture/engine.h"
#include "analyzer/labels.h"
#include "recommender/model.h"

/* Loading state. */
typedef struct load_ctx {
    model *m;                   /* being filled */
    int oom;                    /* an allocation failed */
} load_ctx;

/* Is an identity a name of the host it is attached to? */
static int
ident_is_name(const graph_ident *id)
{
    static const char *const no[] = { "user_agent", "http_server", "ssh_banner", "dhcp_vendor",
                                      "dhcp_mac", "krb_realm", "user", "vendor", "mac", "realm",
                                      "os", "banner", "agent" };
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (strcmp(id->kind, no[i]) == 0)
            return 0;
    if (strcmp(id->kind, "krb_user") == 0 || strcmp(id->kind, "principal") == 0) {
        size_t n = strlen(id->value);
        const char *at = strchr(id->value, '@');
        if (at)
            n = (size_t)(at - id->value);
        return n > 1 && id->value[n - 1] == '$';
    }
    return 1;
}

static int
on_node(void *ctx, const graph_node *n)
{
    load_ctx *c = ctx;
    uint32_t h = model_host_add(c->m, n->addr.a, n->addr.family);
    if (h == MODEL_NONE) {
        c->oom = 1;
        return 1;
    }
    model_host_set_internal(c->m, h, n->internal);
    for (int i = 0; i < n->n_ident && i < GRAPH_MAX_IDENTS; i++) {
        const graph_ident *id = &n->ident[i];
        if (!ident_is_name(id))
            continue;
        char v[GRAPH_VALUE_LEN];
        snprintf(v, sizeof(v), "%s", id->value);
        char *at = strchr(v, '@');     /* "WS-0001$@REALM" -> "WS-0001$" */
        if (at)
            *at = 0;
        if (model_host_name(c->m, h, id->kind, v) < 0) {
            c->oom = 1;
            return 1;
        }
    }
    for (int i = 0; i < n->n_label && i < GRAPH_MAX_LABELS; i++)
        if (model_host_label(c->m, h, n->label[i].key, n->label[i].value) < 0) {
            c->oom = 1;
            return 1;
        }
    return 0;
}

static int
on_edge(void *ctx, const graph_edge *ge)
{
    load_ctx *c = ctx;
    model_edge e;
    memset(&e, 0, sizeof(e));
    e.client = model_host_add(c->m, ge->k.client.a, ge->k.client.family);
    e.server = model_host_add(c->m, ge->k.server.a, ge->k.server.family);
    e.app = model_intern(c->m, strcmp(ge->k.app, "Unknown") == 0 ? "" : ge->k.app);
    if (e.client == MODEL_NONE || e.server == MODEL_NONE || e.app == MODEL_NONE) {
        c->oom = 1;
        return 1;
    }
    e.proto = ge->k.proto;
    e.port = ge->k.port;
    e.flows = ge->flows;
    e.pkts[0] = ge->pkts[0];
    e.pkts[1] = ge->pkts[1];
    e.bytes[0] = ge->bytes[0];
    e.bytes[1] = ge->bytes[1];
    e.first_ns = ge->first_ns;
    e.last_ns = ge->last_ns;
    e.days = graph_days_count(&ge->days);
    if (model_edge_add(c->m, &e) < 0) {
        c->oom = 1;
        return 1;
    }
    /* names on a DNS edge are the names asked about, not the resolver's */
    int dns = ge->k.port == 53 || ge->k.port == 5353 || ge->k.port == 5355 ||
              strcmp(ge->k.app, "DNS") == 0 || strcmp(ge->k.app, "MDNS") == 0 || strcmp(ge->k.app, "LLMNR") == 0;
    for (uint32_t i = 0; i < ge->n_name && i < GRAPH_MAX_NAMES && !dns; i++)
        if (ge->name[i][0] && model_host_name(c->m, e.server, "server_name", ge->name[i]) < 0) {
            c->oom = 1;
            return 1;
        }
    return 0;
}

model *
model_load_db(const char *dir, char *err, size_t errlen)
{
    int code;
    graph *g = graph_open(dir, GRAPH_READ, &code, err, errlen);
    if (!g)
        return NULL;
    load_ctx c = { .m = model_create() };
    if (!c.m) {
        snprintf(err, errlen, "%s: out of memory", dir);
        graph_close(g);
        return NULL;
    }
    int r = graph_foreach_node(g, on_node, &c, err, errlen);
    if (r == 0)
        r = graph_foreach_edge(g, on_edge, &c, err, errlen);
    graph_close(g);
    if (c.oom) {
        snprintf(err, errlen, "%s: out of memory loading the graph", dir);
        model_free(c.m);
        return NULL;
    }
    if (r != 0) {
        model_free(c.m);
        return NULL;
    }
    if (model_finish(c.m) < 0) {
        snprintf(err, errlen, "%s: out of memory", dir);
        model_free(c.m);
        return NULL;
    }
    return c.m;
}

/* Labels applied to one host. */
typedef struct lab_ctx {
    model *m;                   /* the model */
    uint32_t h;                 /* the host */
    int oom;                    /* an allocation failed */
} lab_ctx;

static void
on_label(const char *key, const char *value, void *ctx)
{
    lab_ctx *c = ctx;
    if (model_host_label(c->m, c->h, key, value) < 0)
        c->oom = 1;
}

int
model_apply_labels(model *m, const labels *lab)
{
    uint32_t n = model_n_hosts(m);
    for (uint32_t h = 0; h < n; h++) {
        const model_host *x = model_host_get(m, h);
        uint32_t na;
        const model_attr *a = model_host_attrs(m, h, &na);
        const char *names[32];
        int nn = 0;
        for (uint32_t i = 0; i < na && nn < 32; i++)
            if (a[i].kind == MODEL_ATTR_NAME)
                names[nn++] = model_str(m, a[i].value);
        lab_ctx c = { .m = m, .h = h };
        uint8_t addr[16];
        memcpy(addr, x->addr, 16);
        if (labels_match(lab, addr, x->ipv, names, nn, on_label, &c) < 0 || c.oom)
            return -1;
    }
    return model_finish(m);
}
