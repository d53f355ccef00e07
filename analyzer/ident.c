/*
 * ident.c - identity table and the small parsers that feed it (see ident.h).
 *
 * How it works.  The table is a chained hash of addresses (power-of-two
 * buckets, doubled when the load passes 1, seeded at creation so crafted
 * addresses cannot pile into one chain), plus an array of the entries in
 * the order they were first seen, which is the order ident_foreach()
 * walks.  Each entry holds a small array of records, looked up linearly by
 * (kind, value): there are at most max_recs of them.
 *
 * ident_packet() dispatches on the transport and ports (UDP 53/5353/5355/
 * 137/138/67-68/88, TCP 53/88) or, for TCP, on what the payload starts
 * with ("SSH-", a TLS handshake record, an HTTP method or "HTTP/").  Each
 * parser reads through rd.h readers over the payload only; a message that
 * breaks a rule is counted as malformed and contributes nothing, so a
 * half-parsed message never leaves half its names behind.
 *
 * DNS names: labels are at most 63 bytes, a name at most 255 bytes on the
 * wire; a compression pointer must point before itself and at most
 * DNS_MAX_PTRS are followed per name, which bounds the work on loops.
 * A response's A/AAAA owner names are linked back through its CNAME
 * records (query -> cname1 -> cname2 -> A), and the address gets every
 * name on that chain, the query name included.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/ident.h"
#include "capture/rd.h"

_Static_assert(IDENT_VALUE_MAX >= 255, "DHCP and NetBIOS values are copied whole (<= 255 bytes)");

#define DNS_MAX_PTRS 16         /* compression pointers followed per name */
#define DNS_MAX_QD 16           /* questions accepted in one message */
#define DNS_MAX_RR 512          /* resource records walked per message */
#define DNS_MAX_NAMES 96        /* distinct owner/target names kept per message */
#define DNS_MAX_ADDRS 128       /* A/AAAA/PTR answers kept per message */
#define DNS_MAX_CNAME 32        /* CNAME records kept per message */
#define DNS_CHAIN_MAX 10        /* CNAME links followed back from an A record */
#define DNS_TCP_MAX_MSGS 16     /* DNS messages taken from one TCP segment */
#define DNS_NAME_BUF 256        /* a name's text: at most 253 bytes + NUL */
#define DHCP_PEND_SLOTS 64      /* DHCP client messages awaiting their ACK */
#define HTTP_MAX_LINES 128      /* header lines looked at per message */
#define SSH_SCAN_BYTES 1024     /* port 22: bytes searched for the banner line */

/* One address and what is known about it. */
typedef struct ent {
    ident_addr pub;             /* public view; pub.rec = recs */
    ident_rec *recs;            /* records, pub.n_rec used */
    uint32_t cap_rec;           /* records allocated */
    struct ent *hnext;          /* hash chain */
} ent;

/* A DHCP client message's names, waiting for the ACK that gives the address. */
typedef struct dhcp_pend {
    uint32_t xid;               /* transaction id */
    uint8_t chaddr[16];         /* client hardware address field */
    uint8_t used;               /* slot holds a message */
    uint8_t has_req;            /* req_ip is set (option 50) */
    uint8_t req_ip[4];          /* requested address */
    uint8_t len[3];             /* lengths of host, fqdn, vendor */
    char val[3][IDENT_VALUE_MAX]; /* hostname (12), FQDN (81), vendor class (60) */
} dhcp_pend;

/* Names and addresses collected from one DNS message before they are stored. */
typedef struct dns_scratch {
    char name[DNS_MAX_NAMES][DNS_NAME_BUF]; /* interned names (case-insensitive) */
    uint16_t name_len[DNS_MAX_NAMES];   /* their lengths (they may hold NUL bytes) */
    int n_name;                         /* names used */
    struct {
        int name;                       /* index into name[] */
        uint8_t addr[16];               /* the address the record gives */
        uint8_t ver;                    /* 4 or 6 */
    } addr[DNS_MAX_ADDRS];              /* A/AAAA (owner -> addr) and reverse PTR (target -> addr) */
    uint8_t addr_chain[DNS_MAX_ADDRS];  /* 1: follow CNAMEs back from the name (A/AAAA) */
    int n_addr;                         /* addr[] used */
    struct {
        int owner, target;              /* indexes into name[]: owner CNAME target */
    } cname[DNS_MAX_CNAME];             /* CNAME records of the message */
    int n_cname;                        /* cname[] used */
} dns_scratch;

/* The identity table. */
struct ident {
    ident_cfg cfg;              /* limits */
    ent **buckets;              /* hash chains */
    size_t nbuckets;            /* power of two */
    ent **order;                /* entries in the order first seen */
    size_t n_ent;               /* entries held */
    size_t cap_order;           /* order[] allocated */
    uint64_t seed;              /* hash seed */
    ident_stats st;             /* counters */
    dhcp_pend pend[DHCP_PEND_SLOTS]; /* DHCP messages awaiting an ACK */
    dns_scratch dns;            /* per-message scratch of the DNS parser */
};

static const char *const kind_names[IDENT_KIND_COUNT] = {
    "dns", "sni", "http_host", "dhcp_hostname", "dhcp_fqdn", "dhcp_vendor",
    "dhcp_mac", "netbios", "llmnr", "mdns", "krb_user", "krb_realm",
    "ssh_banner", "user_agent", "http_server",
};

static const char *const proto_names[IDENT_P_COUNT] = {
    "dns", "mdns", "llmnr", "nbns", "nbds", "dhcp", "kerberos", "ssh", "http", "tls",
};

const char *
ident_kind_name(int kind)
{
    return kind >= 0 && kind < IDENT_KIND_COUNT ? kind_names[kind] : "?";
}

int
ident_kind_parse(const char *name)
{
    for (int i = 0; i < IDENT_KIND_COUNT; i++)
        if (strcmp(name, kind_names[i]) == 0)
            return i;
    return -1;
}

const char *
ident_proto_name(int proto)
{
    return proto >= 0 && proto < IDENT_P_COUNT ? proto_names[proto] : "?";
}

/* ---- the table ---------------------------------------------------------- */

void
ident_cfg_default(ident_cfg *cfg)
{
    cfg->max_addrs = 1000000;
    cfg->max_recs = 32;
    cfg->track_macs = 1;
}

static uint64_t
make_seed(const void *salt)
{
    uint64_t s = 0;
    if (getentropy(&s, sizeof(s)) != 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)(uintptr_t)salt;
    }
    return s | 1;
}

ident *
ident_create(const ident_cfg *cfg)
{
    ident *id = calloc(1, sizeof(*id));
    if (!id)
        return NULL;
    if (cfg)
        id->cfg = *cfg;
    else
        ident_cfg_default(&id->cfg);
    if (id->cfg.max_recs == 0)
        id->cfg.max_recs = 1;
    if (id->cfg.max_recs > 65535)
        id->cfg.max_recs = 65535;
    id->nbuckets = 1024;
    id->buckets = calloc(id->nbuckets, sizeof(*id->buckets));
    if (!id->buckets)
        goto err;
    id->seed = make_seed(id);
    return id;
err:
    ident_free(id);
    return NULL;
}

static void
ent_free(ent *e)
{
    for (uint32_t i = 0; i < e->pub.n_rec; i++)
        free(e->recs[i].value);
    free(e->recs);
    free(e);
}

void
ident_clear(ident *id)
{
    for (size_t i = 0; i < id->n_ent; i++)
        ent_free(id->order[i]);
    id->n_ent = 0;
    memset(id->buckets, 0, id->nbuckets * sizeof(*id->buckets));
    /* id->pend is kept: a DHCP exchange may straddle a flush */
    id->st.addrs = 0;
    id->st.records = 0;
}

void
ident_free(ident *id)
{
    if (!id)
        return;
    if (id->buckets)
        ident_clear(id);
    free(id->order);
    free(id->buckets);
    free(id);
}

const ident_stats *
ident_get_stats(const ident *id)
{
    return &id->st;
}

static uint64_t
addr_hash(const ident *id, const uint8_t *a16, int ver)
{
    uint64_t w0, w1, h = id->seed ^ (uint64_t)ver;
    memcpy(&w0, a16, 8);
    memcpy(&w1, a16 + 8, 8);
    h ^= w0;
    h *= 0x9e3779b97f4a7c15ULL;
    h ^= h >> 29;
    h ^= w1;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32;
    return h;
}

/* The 16-byte key of an address: IPv4 in the first 4 bytes, rest zero. */
static void
addr_key(uint8_t key[16], const uint8_t *addr, int ver)
{
    memset(key, 0, 16);
    memcpy(key, addr, ver == 4 ? 4 : 16);
}

static ent *
ent_find(const ident *id, const uint8_t key[16], int ver)
{
    size_t b = addr_hash(id, key, ver) & (id->nbuckets - 1);
    for (ent *e = id->buckets[b]; e; e = e->hnext)
        if (e->pub.ver == ver && memcmp(e->pub.addr, key, 16) == 0)
            return e;
    return NULL;
}

static void
grow_buckets(ident *id)
{
    size_t n = id->nbuckets * 2;
    ent **nb = calloc(n, sizeof(*nb));
    if (!nb)
        return;                 /* keep the longer chains */
    for (size_t i = 0; i < id->n_ent; i++) {
        ent *e = id->order[i];
        size_t b = addr_hash(id, e->pub.addr, e->pub.ver) & (n - 1);
        e->hnext = nb[b];
        nb[b] = e;
    }
    free(id->buckets);
    id->buckets = nb;
    id->nbuckets = n;
}

/* Unspecified addresses (0.0.0.0, ::) are nobody. */
static int
addr_is_unspecified(const uint8_t *addr, int ver)
{
    static const uint8_t zero[16];
    return memcmp(addr, zero, ver == 4 ? 4 : 16) == 0;
}

/* Find or create the entry of an address; NULL when refused (counted). */
static ent *
ent_get(ident *id, const uint8_t *addr, int ver)
{
    uint8_t key[16];
    if ((ver != 4 && ver != 6) || addr_is_unspecified(addr, ver))
        return NULL;
    addr_key(key, addr, ver);
    ent *e = ent_find(id, key, ver);
    if (e)
        return e;
    if (id->n_ent >= id->cfg.max_addrs) {
        id->st.addr_dropped++;
        return NULL;
    }
    if (id->n_ent == id->cap_order) {
        size_t cap = id->cap_order ? id->cap_order * 2 : 256;
        ent **o = realloc(id->order, cap * sizeof(*o));
        if (!o) {
            id->st.oom++;
            return NULL;
        }
        id->order = o;
        id->cap_order = cap;
    }
    e = calloc(1, sizeof(*e));
    if (!e) {
        id->st.oom++;
        return NULL;
    }
    memcpy(e->pub.addr, key, 16);
    e->pub.ver = (uint8_t)ver;
    size_t b = addr_hash(id, key, ver) & (id->nbuckets - 1);
    e->hnext = id->buckets[b];
    id->buckets[b] = e;
    id->order[id->n_ent++] = e;
    id->st.addrs++;
    if (id->n_ent > id->nbuckets)
        grow_buckets(id);       /* rehashes every entry, e included */
    return e;
}

int
ident_add(ident *id, const uint8_t *addr, int ver, ident_kind kind,
          const void *value, size_t len, uint64_t ts_ns)
{
    char v[IDENT_VALUE_MAX + 1];
    if ((unsigned)kind >= IDENT_KIND_COUNT || len == 0)
        return 0;
    if (len > IDENT_VALUE_MAX) {
        len = IDENT_VALUE_MAX;
        id->st.value_truncated++;
    }
    memcpy(v, value, len);
    for (size_t i = 0; i < len; i++)
        if (v[i] == '\0')
            v[i] = '?';
    v[len] = '\0';
    id->st.learnt[kind]++;

    ent *e = ent_get(id, addr, ver);
    if (!e)
        return 0;
    for (uint32_t i = 0; i < e->pub.n_rec; i++) {
        ident_rec *r = &e->recs[i];
        if (r->kind == kind && r->len == len && memcmp(r->value, v, len) == 0) {
            r->count++;
            if (ts_ns < r->first_ns)
                r->first_ns = ts_ns;
            if (ts_ns > r->last_ns)
                r->last_ns = ts_ns;
            return 1;
        }
    }
    if (e->pub.n_rec >= id->cfg.max_recs) {
        id->st.rec_dropped++;
        return 0;
    }
    if (e->pub.n_rec == e->cap_rec) {
        uint32_t cap = e->cap_rec ? e->cap_rec * 2 : 4;
        if (cap > id->cfg.max_recs)
            cap = id->cfg.max_recs;
        ident_rec *nr = realloc(e->recs, cap * sizeof(*nr));
        if (!nr) {
            id->st.oom++;
            return 0;
        }
        e->recs = nr;
        e->cap_rec = cap;
        e->pub.rec = nr;
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        id->st.oom++;
        return 0;
    }
    memcpy(copy, v, len + 1);
    ident_rec *r = &e->recs[e->pub.n_rec++];
    r->kind = (uint8_t)kind;
    r->len = (uint8_t)len;
    r->value = copy;
    r->first_ns = r->last_ns = ts_ns;
    r->count = 1;
    id->st.records++;
    return 1;
}

void
ident_add_mac(ident *id, const uint8_t *addr, int ver, const uint8_t mac[6])
{
    static const uint8_t zero[6];
    if ((mac[0] & 1) || memcmp(mac, zero, 6) == 0)
        return;                 /* group (multicast/broadcast) or unset */
    uint8_t key[16];
    if ((ver != 4 && ver != 6) || addr_is_unspecified(addr, ver))
        return;
    addr_key(key, addr, ver);
    ent *e = ent_find(id, key, ver);
    if (e)
        for (int i = 0; i < e->pub.n_mac; i++)
            if (memcmp(e->pub.mac[i], mac, 6) == 0)
                return;
    if (!e && !(e = ent_get(id, addr, ver)))
        return;
    if (e->pub.n_mac >= IDENT_MAX_MAC) {
        id->st.mac_dropped++;
        return;
    }
    memcpy(e->pub.mac[e->pub.n_mac++], mac, 6);
}

void
ident_foreach(const ident *id, ident_rec_fn fn, void *ctx)
{
    for (size_t i = 0; i < id->n_ent; i++) {
        const ent *e = id->order[i];
        for (uint32_t j = 0; j < e->pub.n_rec; j++)
            fn(e->pub.addr, e->pub.ver, &e->recs[j], ctx);
    }
}

void
ident_foreach_addr(const ident *id, ident_addr_fn fn, void *ctx)
{
    for (size_t i = 0; i < id->n_ent; i++)
        fn(&id->order[i]->pub, ctx);
}

const ident_addr *
ident_lookup(const ident *id, const uint8_t *addr, int ver)
{
    uint8_t key[16];
    if (ver != 4 && ver != 6)
        return NULL;
    addr_key(key, addr, ver);
    const ent *e = ent_find(id, key, ver);
    return e ? &e->pub : NULL;
}

/* ---- helpers ------------------------------------------------------------ */

static int
lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int
mem_ieq(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (lower(x[i]) != lower(y[i]))
            return 0;
    return 1;
}

/* 1 if the reader's window starts with the string s (case-sensitive). */
static int
rd_starts(const rd_t *r, const char *s)
{
    size_t n = strlen(s);
    return rd_left(r) >= n && memcmp(rd_ptr(r), s, n) == 0;
}

/* A reader positioned at byte pos of msg's window. */
static int
rd_at(const rd_t *msg, size_t pos, rd_t *out)
{
    *out = rd_make(msg->p, msg->len);
    return rd_skip(out, pos);
}

static void
mac_text(const uint8_t *mac, char out[18])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 6; i++) {
        out[i * 3] = hex[mac[i] >> 4];
        out[i * 3 + 1] = hex[mac[i] & 15];
        out[i * 3 + 2] = i == 5 ? '\0' : ':';
    }
}

/* ---- DNS, mDNS, LLMNR (RFC 1035, 6762, 4795) ------------------------------ */

/*
 * Read the (possibly compressed) name at *pos of msg into out (at least
 * DNS_NAME_BUF bytes), labels joined with '.', the root as "".  On success
 * *pos is just past the name as it appears at *pos.  0 if malformed.
 */
static int
dns_read_name(const rd_t *msg, size_t *pos, char *out, size_t *outlen)
{
    size_t p = *pos, next = 0, n = 0, wire = 1;
    int ptrs = 0;
    for (;;) {
        rd_t r;
        uint8_t len, lo;
        if (!rd_at(msg, p, &r) || !rd_u8(&r, &len))
            return 0;
        if ((len & 0xc0) == 0xc0) {
            if (!rd_u8(&r, &lo))
                return 0;
            size_t target = ((size_t)(len & 0x3f) << 8) | lo;
            if (target >= p || ++ptrs > DNS_MAX_PTRS)
                return 0;       /* forward/self pointer, or too many */
            if (!next)
                next = p + 2;
            p = target;
            continue;
        }
        if (len & 0xc0)
            return 0;           /* extended/obsolete label types */
        if (len == 0) {
            if (!next)
                next = p + 1;
            break;
        }
        wire += (size_t)len + 1;
        if (wire > 255)
            return 0;
        if (n)
            out[n++] = '.';
        if (!rd_copy(&r, out + n, len))
            return 0;
        n += len;
        p += 1 + (size_t)len;
    }
    out[n] = '\0';
    *outlen = n;
    *pos = next;
    return 1;
}

/* Intern a name in the scratch; -1 when full. */
static int
dns_intern(dns_scratch *s, const char *name, size_t len)
{
    for (int i = 0; i < s->n_name; i++)
        if (s->name_len[i] == len && mem_ieq(s->name[i], name, len))
            return i;
    if (s->n_name == DNS_MAX_NAMES)
        return -1;
    memcpy(s->name[s->n_name], name, len + 1);
    s->name_len[s->n_name] = (uint16_t)len;
    return s->n_name++;
}

static int
hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* "4.3.2.1.in-addr.arpa" / 32 nibbles + ".ip6.arpa" -> address.  1 if parsed. */
static int
dns_reverse_addr(const char *name, size_t len, uint8_t addr[16], uint8_t *ver)
{
    static const char v4s[] = ".in-addr.arpa", v6s[] = ".ip6.arpa";
    size_t l4 = sizeof(v4s) - 1, l6 = sizeof(v6s) - 1;
    memset(addr, 0, 16);
    if (len > l4 && mem_ieq(name + len - l4, v4s, l4)) {
        size_t end = len - l4, i = 0;
        int octet = 0;
        for (int k = 3; k >= 0; k--) {
            unsigned v = 0, digits = 0;
            while (i < end && name[i] >= '0' && name[i] <= '9' && digits < 4) {
                v = v * 10 + (unsigned)(name[i++] - '0');
                digits++;
            }
            if (digits == 0 || digits > 3 || v > 255)
                return 0;
            addr[k] = (uint8_t)v;
            octet++;
            if (k > 0) {
                if (i >= end || name[i] != '.')
                    return 0;
                i++;
            }
        }
        if (i != end || octet != 4)
            return 0;
        *ver = 4;
        return 1;
    }
    if (len > l6 && mem_ieq(name + len - l6, v6s, l6)) {
        size_t end = len - l6;
        if (end != 63)
            return 0;           /* 32 nibbles and 31 dots */
        for (int k = 0; k < 32; k++) {
            int h = hexval((unsigned char)name[k * 2]);
            if (h < 0 || (k < 31 && name[k * 2 + 1] != '.'))
                return 0;
            int byte = 15 - k / 2;
            if (k % 2 == 0)
                addr[byte] |= (uint8_t)h;
            else
                addr[byte] |= (uint8_t)(h << 4);
        }
        *ver = 6;
        return 1;
    }
    return 0;
}

/* Store the names collected from one message on their addresses. */
static void
dns_emit(ident *id, ident_kind kind, uint64_t ts)
{
    dns_scratch *s = &id->dns;
    for (int i = 0; i < s->n_addr; i++) {
        int visited[DNS_CHAIN_MAX + 1], nv = 0, cur = s->addr[i].name;
        visited[nv++] = cur;
        if (s->name_len[cur])
            ident_add(id, s->addr[i].addr, s->addr[i].ver, kind, s->name[cur], s->name_len[cur], ts);
        if (!s->addr_chain[i])
            continue;
        while (nv <= DNS_CHAIN_MAX) {
            int prev = -1;
            for (int c = 0; c < s->n_cname && prev < 0; c++)
                if (s->cname[c].target == cur)
                    prev = s->cname[c].owner;
            if (prev < 0)
                break;
            int seen = 0;
            for (int v = 0; v < nv; v++)
                seen |= visited[v] == prev;
            if (seen)
                break;          /* a CNAME loop */
            visited[nv++] = prev;
            cur = prev;
            if (s->name_len[cur])
                ident_add(id, s->addr[i].addr, s->addr[i].ver, kind, s->name[cur], s->name_len[cur], ts);
        }
    }
}

/*
 * One DNS-format message (DNS, mDNS, LLMNR): learn from a response's
 * answer and additional sections.  Queries and error responses teach
 * nothing.
 */
static void
dns_message(ident *id, const rd_t *msg, ident_proto proto, ident_kind kind, uint64_t ts)
{
    dns_scratch *s = &id->dns;
    rd_t r = *msg;
    uint16_t qid, flags, qd, an, ns, ar;
    char name[DNS_NAME_BUF];
    size_t nlen;

    if (!rd_be16(&r, &qid) || !rd_be16(&r, &flags) || !rd_be16(&r, &qd) ||
        !rd_be16(&r, &an) || !rd_be16(&r, &ns) || !rd_be16(&r, &ar)) {
        id->st.malformed[proto]++;
        return;
    }
    if (!(flags & 0x8000) || ((flags >> 11) & 0xf) != 0)
        return;                 /* a query, or not a standard query's response */
    if ((flags & 0xf) != 0) {
        id->st.parsed[proto]++;
        return;                 /* NXDOMAIN, SERVFAIL...: nothing to learn */
    }
    s->n_name = s->n_addr = s->n_cname = 0;
    size_t pos = 12;
    if (qd > DNS_MAX_QD)
        goto bad;
    for (unsigned i = 0; i < qd; i++) {
        if (!dns_read_name(msg, &pos, name, &nlen))
            goto bad;
        pos += 4;               /* qtype, qclass */
        if (pos > msg->len)
            goto bad;
    }
    unsigned total = (unsigned)an + ns + ar;
    if (total > DNS_MAX_RR)
        total = DNS_MAX_RR;
    for (unsigned i = 0; i < total; i++) {
        rd_t rr, rdata;
        uint16_t type, cls, rdlen;
        uint32_t ttl;
        if (!dns_read_name(msg, &pos, name, &nlen) || !rd_at(msg, pos, &rr) ||
            !rd_be16(&rr, &type) || !rd_be16(&rr, &cls) || !rd_be32(&rr, &ttl) ||
            !rd_be16(&rr, &rdlen) || !rd_sub(&rr, rdlen, &rdata))
            goto bad;
        size_t rdpos = pos + 10;
        pos = rr.off;
        if (i >= an && i < (unsigned)an + ns)
            continue;           /* authority section */
        if ((cls & 0x7fff) != 1)
            continue;           /* not IN (mDNS sets the cache-flush bit) */
        if (type == 1 || type == 28) {          /* A, AAAA */
            size_t alen = type == 1 ? 4 : 16;
            if (rdlen != alen)
                goto bad;
            if (s->n_addr == DNS_MAX_ADDRS)
                continue;
            int ni = dns_intern(s, name, nlen);
            if (ni < 0)
                continue;
            memset(s->addr[s->n_addr].addr, 0, 16);
            if (!rd_copy(&rdata, s->addr[s->n_addr].addr, alen))
                goto bad;
            s->addr[s->n_addr].ver = type == 1 ? 4 : 6;
            s->addr[s->n_addr].name = ni;
            s->addr_chain[s->n_addr] = 1;
            s->n_addr++;
        } else if (type == 5 || type == 12) {   /* CNAME, PTR */
            char target[DNS_NAME_BUF];
            size_t tlen, tpos = rdpos;
            if (!dns_read_name(msg, &tpos, target, &tlen) || tpos > rdpos + rdlen)
                goto bad;
            if (type == 5) {
                if (s->n_cname == DNS_MAX_CNAME)
                    continue;
                int o = dns_intern(s, name, nlen), t = dns_intern(s, target, tlen);
                if (o < 0 || t < 0)
                    continue;
                s->cname[s->n_cname].owner = o;
                s->cname[s->n_cname].target = t;
                s->n_cname++;
            } else {
                uint8_t a[16], ver;
                if (s->n_addr == DNS_MAX_ADDRS || !dns_reverse_addr(name, nlen, a, &ver))
                    continue;
                int ti = dns_intern(s, target, tlen);
                if (ti < 0)
                    continue;
                memcpy(s->addr[s->n_addr].addr, a, 16);
                s->addr[s->n_addr].ver = ver;
                s->addr[s->n_addr].name = ti;
                s->addr_chain[s->n_addr] = 0;
                s->n_addr++;
            }
        }
    }
    id->st.parsed[proto]++;
    dns_emit(id, kind, ts);
    return;
bad:
    id->st.malformed[proto]++;
}

/* DNS over TCP: messages with a 2-byte length prefix, each whole in this segment. */
static void
dns_tcp(ident *id, rd_t *pl, uint64_t ts)
{
    for (int i = 0; i < DNS_TCP_MAX_MSGS && rd_left(pl) > 0; i++) {
        uint16_t len;
        rd_t msg;
        if (!rd_be16(pl, &len) || !rd_sub(pl, len, &msg)) {
            id->st.partial[IDENT_P_DNS]++;
            return;
        }
        dns_message(id, &msg, IDENT_P_DNS, IDENT_DNS, ts);
    }
}

/* ---- NetBIOS name and datagram services (RFC 1001/1002) ------------------- */

/*
 * Decode the first label of an NBNS name ("first-level encoding": 32
 * letters A-P for 16 bytes) into the 15-character name, trailing spaces
 * removed, and its suffix byte.  1 if it is a host name worth keeping:
 * suffix 0x00 (workstation) or 0x20 (server), not "*" or __MSBROWSE__.
 */
static int
nb_decode(const char *enc, size_t len, char out[16], size_t *outlen)
{
    uint8_t raw[16];
    if (len < 32 || (len > 32 && enc[32] != '.'))
        return 0;
    for (int i = 0; i < 16; i++) {
        int hi = enc[2 * i] - 'A', lo = enc[2 * i + 1] - 'A';
        if (hi < 0 || hi > 15 || lo < 0 || lo > 15)
            return 0;
        raw[i] = (uint8_t)((hi << 4) | lo);
    }
    if (raw[15] != 0x00 && raw[15] != 0x20)
        return 0;
    size_t n = 15;
    while (n > 0 && (raw[n - 1] == ' ' || raw[n - 1] == '\0'))
        n--;
    if (n == 0 || raw[0] == '*' || raw[0] == 0x01)
        return 0;
    memcpy(out, raw, n);
    out[n] = '\0';
    *outlen = n;
    return 1;
}

/* One NBNS message on UDP 137. */
static void
nbns_message(ident *id, const pkt_meta *m, const rd_t *msg, uint64_t ts)
{
    rd_t r = *msg;
    uint16_t tid, flags, qd, an, ns, ar;
    char name[DNS_NAME_BUF], nb[16];
    size_t nlen, nblen;

    if (!rd_be16(&r, &tid) || !rd_be16(&r, &flags) || !rd_be16(&r, &qd) ||
        !rd_be16(&r, &an) || !rd_be16(&r, &ns) || !rd_be16(&r, &ar)) {
        id->st.malformed[IDENT_P_NBNS]++;
        return;
    }
    int response = (flags & 0x8000) != 0, opcode = (flags >> 11) & 0xf, rcode = flags & 0xf;
    int registration = opcode == 5 || opcode == 8 || opcode == 9 || opcode == 15;
    id->st.parsed[IDENT_P_NBNS]++;
    if (response ? (rcode != 0 || (opcode != 0 && !registration)) : !registration)
        return;                 /* plain query, negative response, release... */
    size_t pos = 12;
    if (qd > DNS_MAX_QD)
        goto bad;
    for (unsigned i = 0; i < qd; i++) {
        if (!dns_read_name(msg, &pos, name, &nlen))
            goto bad;
        pos += 4;
        if (pos > msg->len)
            goto bad;
    }
    unsigned total = (unsigned)an + ns + ar;
    if (total > DNS_MAX_RR)
        total = DNS_MAX_RR;
    for (unsigned i = 0; i < total; i++) {
        rd_t rr, rdata;
        uint16_t type, cls, rdlen;
        uint32_t ttl;
        if (!dns_read_name(msg, &pos, name, &nlen) || !rd_at(msg, pos, &rr) ||
            !rd_be16(&rr, &type) || !rd_be16(&rr, &cls) || !rd_be32(&rr, &ttl) ||
            !rd_be16(&rr, &rdlen) || !rd_sub(&rr, rdlen, &rdata))
            goto bad;
        pos = rr.off;
        if (type == 0x20) {     /* NB: entries of flags(2) + IPv4 address(4) */
            if (!nb_decode(name, nlen, nb, &nblen))
                continue;
            while (rd_left(&rdata) >= 6) {
                uint16_t nbflags;
                uint8_t a[4];
                if (!rd_be16(&rdata, &nbflags) || !rd_copy(&rdata, a, 4))
                    goto bad;
                if (!(nbflags & 0x8000))        /* not a group name */
                    ident_add(id, a, 4, IDENT_NETBIOS, nb, nblen, ts);
            }
        } else if (type == 0x21 && response) {  /* NBSTAT: the responder's own names */
            uint8_t count;
            if (!rd_u8(&rdata, &count))
                goto bad;
            for (unsigned k = 0; k < count; k++) {
                uint8_t raw[16];
                uint16_t nbflags;
                if (!rd_copy(&rdata, raw, 16) || !rd_be16(&rdata, &nbflags))
                    goto bad;
                if ((nbflags & 0x8000) || (raw[15] != 0x00 && raw[15] != 0x20))
                    continue;
                size_t n = 15;
                while (n > 0 && (raw[n - 1] == ' ' || raw[n - 1] == '\0'))
                    n--;
                if (n && raw[0] != '*' && m->ip_version == 4)
                    ident_add(id, m->src, 4, IDENT_NETBIOS, raw, n, ts);
            }
        }
    }
    return;
bad:
    id->st.malformed[IDENT_P_NBNS]++;
}

/* One NetBIOS datagram on UDP 138: the source name names the sender. */
static void
nbds_message(ident *id, const pkt_meta *m, const rd_t *msg, uint64_t ts)
{
    rd_t r = *msg;
    uint8_t type;
    char name[DNS_NAME_BUF], nb[16];
    size_t nlen, nblen, pos = 14;

    if (!rd_u8(&r, &type)) {
        id->st.malformed[IDENT_P_NBDS]++;
        return;
    }
    if (type < 0x10 || type > 0x12)
        return;                 /* errors and queries carry no source name */
    if (!rd_skip(&r, 13) || !dns_read_name(msg, &pos, name, &nlen)) {
        id->st.malformed[IDENT_P_NBDS]++;
        return;
    }
    id->st.parsed[IDENT_P_NBDS]++;
    if (m->ip_version == 4 && nb_decode(name, nlen, nb, &nblen))
        ident_add(id, m->src, 4, IDENT_NETBIOS, nb, nblen, ts);
}

/* ---- DHCP (RFC 2131, 2132, 4702) ------------------------------------------ */

enum { PV_HOST, PV_FQDN, PV_VENDOR };
static const ident_kind pv_kind[3] = { IDENT_DHCP_HOSTNAME, IDENT_DHCP_FQDN, IDENT_DHCP_VENDOR };

/* Option 81: flags, two rcodes, then the name (DNS wire format if E is set). */
static int
dhcp_fqdn(rd_t opt, char *out, size_t *outlen)
{
    uint8_t fl, rc1, rc2;
    if (!rd_u8(&opt, &fl) || !rd_u8(&opt, &rc1) || !rd_u8(&opt, &rc2))
        return 0;
    if (!(fl & 0x04)) {
        size_t n = rd_left(&opt);
        if (n > IDENT_VALUE_MAX)
            n = IDENT_VALUE_MAX;
        if (!rd_copy(&opt, out, n))
            return 0;
        *outlen = n;
        return 1;
    }
    size_t n = 0;
    for (int labels = 0; labels < 128; labels++) {
        uint8_t len;
        if (!rd_u8(&opt, &len))
            break;              /* a partial name (no root label) is allowed */
        if (len == 0)
            break;
        if (len > 63 || n + 1 + len > IDENT_VALUE_MAX)
            return 0;
        if (n)
            out[n++] = '.';
        if (!rd_copy(&opt, out + n, len))
            return 0;
        n += len;
    }
    *outlen = n;
    return 1;
}

static dhcp_pend *
dhcp_slot(ident *id, uint32_t xid, const uint8_t chaddr[16])
{
    uint32_t h = xid;
    for (int i = 0; i < 16; i++)
        h = h * 31 + chaddr[i];
    return &id->pend[h % DHCP_PEND_SLOTS];
}

static void
dhcp_message(ident *id, const pkt_meta *m, const rd_t *msg, uint64_t ts)
{
    rd_t r = *msg;
    uint8_t op, htype, hlen, hops, ciaddr[4], yiaddr[4], siaddr[4], giaddr[4], chaddr[16];
    uint32_t xid, magic;
    uint16_t secs, bflags;
    static const uint8_t zero4[4];

    if (!rd_u8(&r, &op) || !rd_u8(&r, &htype) || !rd_u8(&r, &hlen) || !rd_u8(&r, &hops) ||
        !rd_be32(&r, &xid) || !rd_be16(&r, &secs) || !rd_be16(&r, &bflags) ||
        !rd_copy(&r, ciaddr, 4) || !rd_copy(&r, yiaddr, 4) || !rd_copy(&r, siaddr, 4) ||
        !rd_copy(&r, giaddr, 4) || !rd_copy(&r, chaddr, 16) || !rd_skip(&r, 64 + 128) ||
        !rd_be32(&r, &magic) || magic != 0x63825363 || (op != 1 && op != 2)) {
        id->st.malformed[IDENT_P_DHCP]++;
        return;
    }
    uint8_t type = 0, req[4];
    int has_req = 0;
    char val[3][IDENT_VALUE_MAX];
    size_t vlen[3] = { 0, 0, 0 };
    for (int k = 0; k < 255 && rd_left(&r) > 0; k++) {
        uint8_t code, len;
        rd_t opt;
        if (!rd_u8(&r, &code))
            break;
        if (code == 0)
            continue;
        if (code == 255)
            break;
        if (!rd_u8(&r, &len) || !rd_sub(&r, len, &opt)) {
            id->st.malformed[IDENT_P_DHCP]++;
            return;
        }
        size_t n = len;         /* <= 255 = IDENT_VALUE_MAX */
        switch (code) {
        case 53:
            if (!rd_u8(&opt, &type))
                goto bad;
            break;
        case 50:
            if (len != 4 || !rd_copy(&opt, req, 4))
                goto bad;
            has_req = 1;
            break;
        case 12:
            if (!rd_copy(&opt, val[PV_HOST], n))
                goto bad;
            vlen[PV_HOST] = n;
            break;
        case 60:
            if (!rd_copy(&opt, val[PV_VENDOR], n))
                goto bad;
            vlen[PV_VENDOR] = n;
            break;
        case 81:
            if (!dhcp_fqdn(opt, val[PV_FQDN], &vlen[PV_FQDN]))
                goto bad;
            break;
        default:
            break;
        }
    }
    id->st.parsed[IDENT_P_DHCP]++;

    char mac[18];
    int has_mac = htype == 1 && hlen == 6;
    if (has_mac)
        mac_text(chaddr, mac);
    if (op == 1) {
        /* A client names itself on the address it already uses, if any. */
        const uint8_t *a = NULL;
        if (memcmp(ciaddr, zero4, 4) != 0)
            a = ciaddr;
        else if (m->ip_version == 4 && memcmp(m->src, zero4, 4) != 0 &&
                 memcmp(giaddr, zero4, 4) == 0)
            a = m->src;         /* (a relayed message's source is the relay) */
        if (a) {
            for (int k = 0; k < 3; k++)
                if (vlen[k])
                    ident_add(id, a, 4, pv_kind[k], val[k], vlen[k], ts);
            if (has_mac)
                ident_add(id, a, 4, IDENT_DHCP_MAC, mac, 17, ts);
        }
        /* ... and on the address its ACK will lease. */
        dhcp_pend *p = dhcp_slot(id, xid, chaddr);
        memset(p, 0, sizeof(*p));
        p->used = 1;
        p->xid = xid;
        memcpy(p->chaddr, chaddr, 16);
        p->has_req = (uint8_t)has_req;
        if (has_req)
            memcpy(p->req_ip, req, 4);
        for (int k = 0; k < 3; k++) {
            p->len[k] = (uint8_t)vlen[k];
            memcpy(p->val[k], val[k], vlen[k]);
        }
    } else if (type == 5) {     /* DHCPACK */
        dhcp_pend *p = dhcp_slot(id, xid, chaddr);
        int match = p->used && p->xid == xid && memcmp(p->chaddr, chaddr, 16) == 0;
        const uint8_t *a = NULL;
        if (memcmp(yiaddr, zero4, 4) != 0)
            a = yiaddr;
        else if (memcmp(ciaddr, zero4, 4) != 0)
            a = ciaddr;
        else if (match && p->has_req)
            a = p->req_ip;
        if (!a)
            return;
        if (has_mac)
            ident_add(id, a, 4, IDENT_DHCP_MAC, mac, 17, ts);
        /* A name the server assigns (options 12/81 in the ACK) counts too. */
        for (int k = PV_HOST; k <= PV_FQDN; k++)
            if (vlen[k])
                ident_add(id, a, 4, pv_kind[k], val[k], vlen[k], ts);
        if (match) {
            for (int k = 0; k < 3; k++)
                if (p->len[k])
                    ident_add(id, a, 4, pv_kind[k], p->val[k], p->len[k], ts);
            p->used = 0;
        }
    }
    return;
bad:
    id->st.malformed[IDENT_P_DHCP]++;
}

/* ---- Kerberos (RFC 4120) ---------------------------------------------------- */

/* Read one DER TLV header: single-byte tag, definite length within the window. */
static int
der_tlv(rd_t *r, uint8_t *tag, rd_t *val)
{
    uint8_t t, l;
    size_t len;
    if (!rd_u8(r, &t) || (t & 0x1f) == 0x1f || !rd_u8(r, &l))
        return 0;
    if (l < 0x80) {
        len = l;
    } else {
        int n = l & 0x7f;
        if (n == 0 || n > 4)
            return 0;           /* indefinite or absurd lengths */
        len = 0;
        for (int i = 0; i < n; i++) {
            uint8_t b;
            if (!rd_u8(r, &b))
                return 0;
            len = (len << 8) | b;
        }
    }
    *tag = t;
    return rd_sub(r, len, val);
}

/* The value of context tag [n] inside a SEQUENCE body, unwrapped once. 1 if found. */
static int
der_field(rd_t seq, uint8_t ctx, rd_t *out)
{
    for (int i = 0; i < 32 && rd_left(&seq) > 0; i++) {
        uint8_t tag;
        rd_t v;
        if (!der_tlv(&seq, &tag, &v))
            return 0;
        if (tag == (0xa0 | ctx)) {
            *out = v;
            return 1;
        }
    }
    return 0;
}

/* Unwrap a TLV with the given tag from the whole of r. */
static int
der_expect(rd_t r, uint8_t want, rd_t *out)
{
    uint8_t tag;
    return der_tlv(&r, &tag, out) && tag == want;
}

/* KerberosString (GeneralString 0x1b) -> out. */
static int
krb_string(rd_t r, char *out, size_t cap, size_t *len)
{
    rd_t s;
    if (!der_expect(r, 0x1b, &s))
        return 0;
    size_t n = rd_left(&s) < cap ? rd_left(&s) : cap;
    if (!rd_copy(&s, out, n))
        return 0;
    *len = n;
    return 1;
}

/* PrincipalName ::= SEQUENCE { name-type [0] Int32, name-string [1] SEQUENCE OF KerberosString } */
static int
krb_principal(rd_t r, char *out, size_t cap, size_t *len)
{
    rd_t seq, names, list;
    size_t n = 0;
    if (!der_expect(r, 0x30, &seq) || !der_field(seq, 1, &names) ||
        !der_expect(names, 0x30, &list))
        return 0;
    for (int i = 0; i < 8 && rd_left(&list) > 0; i++) {
        uint8_t tag;
        rd_t s;
        if (!der_tlv(&list, &tag, &s) || tag != 0x1b)
            return 0;
        size_t k = rd_left(&s);
        if (n && n < cap)
            out[n++] = '/';
        if (k > cap - n)
            k = cap - n;
        if (!rd_copy(&s, out + n, k))
            return 0;
        n += k;
    }
    *len = n;
    return n > 0;
}

/* Store "name@REALM" (or the name alone if it already has a realm: an enterprise name). */
static void
krb_user(ident *id, const uint8_t *addr, int ver, const char *name, size_t nlen,
         const char *realm, size_t rlen, uint64_t ts)
{
    char v[2 * IDENT_VALUE_MAX + 2];
    size_t n = nlen;
    memcpy(v, name, nlen);
    if (!memchr(name, '@', nlen) && rlen) {
        v[n++] = '@';
        memcpy(v + n, realm, rlen);
        n += rlen;
    }
    ident_add(id, addr, ver, IDENT_KRB_USER, v, n, ts);
}

/* One Kerberos message: AS-REQ (client -> KDC) or AS-REP (KDC -> client). */
static void
krb_message(ident *id, const pkt_meta *m, rd_t msg, uint64_t ts)
{
    uint8_t tag;
    rd_t app, seq, body, f;
    char name[IDENT_VALUE_MAX], realm[IDENT_VALUE_MAX];
    size_t nlen = 0, rlen = 0;

    if (!der_tlv(&msg, &tag, &app)) {
        id->st.malformed[IDENT_P_KRB]++;
        return;
    }
    if (tag != 0x6a && tag != 0x6b) {
        if (tag >= 0x6a && tag <= 0x7e)
            id->st.parsed[IDENT_P_KRB]++;   /* TGS, AP, KRB-ERROR...: no cleartext client */
        return;
    }
    if (!der_expect(app, 0x30, &seq))
        goto bad;
    if (tag == 0x6a) {          /* AS-REQ: req-body [4] { cname [1], realm [2] } */
        if (!der_field(seq, 4, &f) || !der_expect(f, 0x30, &body))
            goto bad;
        rd_t fr;
        if (der_field(body, 2, &fr) && !krb_string(fr, realm, sizeof(realm), &rlen))
            goto bad;
        rd_t fc;
        if (der_field(body, 1, &fc) && !krb_principal(fc, name, sizeof(name), &nlen))
            goto bad;
        id->st.parsed[IDENT_P_KRB]++;
        if (nlen)
            krb_user(id, m->src, m->ip_version, name, nlen, realm, rlen, ts);
        if (rlen)
            ident_add(id, m->dst, m->ip_version, IDENT_KRB_REALM, realm, rlen, ts);
    } else {                    /* AS-REP: crealm [3], cname [4] */
        rd_t fr, fc;
        if (!der_field(seq, 3, &fr) || !krb_string(fr, realm, sizeof(realm), &rlen) ||
            !der_field(seq, 4, &fc) || !krb_principal(fc, name, sizeof(name), &nlen))
            goto bad;
        id->st.parsed[IDENT_P_KRB]++;
        krb_user(id, m->dst, m->ip_version, name, nlen, realm, rlen, ts);
        if (rlen)
            ident_add(id, m->src, m->ip_version, IDENT_KRB_REALM, realm, rlen, ts);
    }
    return;
bad:
    id->st.malformed[IDENT_P_KRB]++;
}

/*
 * Kerberos over TCP: a 4-byte length, then the message.  A segment is
 * taken as the start of a message only if it looks like one (length with
 * the reserved bit clear, then an APPLICATION tag 10..30): continuation
 * segments of a long message are not counted as anything.
 */
static void
krb_tcp(ident *id, const pkt_meta *m, rd_t *pl, uint64_t ts)
{
    uint32_t len;
    uint8_t tag;
    rd_t msg;
    if (!rd_peek_u8(pl, 4, &tag) || tag < 0x6a || tag > 0x7e || !rd_be32(pl, &len) ||
        (len & 0x80000000u))
        return;
    if (!rd_sub(pl, len, &msg)) {
        id->st.partial[IDENT_P_KRB]++;
        return;
    }
    krb_message(id, m, msg, ts);
}

/* ---- SSH identification string (RFC 4253 section 4.2) --------------------- */

/* r starts at "SSH-": store the line on the sender.  1 if it was a banner. */
static int
ssh_line(ident *id, const pkt_meta *m, rd_t r, uint64_t ts)
{
    const uint8_t *p = rd_ptr(&r);
    size_t n = rd_left(&r), len = 0;
    if (n < 5 || memcmp(p, "SSH-", 4) != 0 || p[4] < '0' || p[4] > '9')
        return 0;
    while (len < n && p[len] != '\r' && p[len] != '\n')
        len++;
    id->st.parsed[IDENT_P_SSH]++;
    ident_add(id, m->src, m->ip_version, IDENT_SSH_BANNER, p, len, ts);
    return 1;
}

/* Port 22: the server may send other lines before its identification line. */
static void
ssh_scan(ident *id, const pkt_meta *m, rd_t r, uint64_t ts)
{
    const uint8_t *p = rd_ptr(&r);
    size_t n = rd_left(&r);
    if (n > SSH_SCAN_BYTES)
        n = SSH_SCAN_BYTES;
    for (size_t i = 0; i + 1 < n; i++)
        if (p[i] == '\n') {
            rd_t at = r;
            if (rd_skip(&at, i + 1) && ssh_line(id, m, at, ts))
                return;
        } else if (p[i] != '\r' && p[i] != '\t' && (p[i] < 0x20 || p[i] > 0x7e)) {
            return;             /* binary: not a banner exchange */
        }
}

/* ---- HTTP/1.x ------------------------------------------------------------------ */

static const char *const http_methods[] = {
    "GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ",
    "TRACE ", "PROPFIND ", "PROPPATCH ", "MKCOL ", "COPY ", "MOVE ", "LOCK ",
    "UNLOCK ", "REPORT ", "SEARCH ", "SUBSCRIBE ", "NOTIFY ", "M-SEARCH ",
};

/*
 * Walk the header lines after the start line.  For each header named in
 * names[] (lower case, with the colon), calls back with the trimmed value.
 * Returns 1 if the blank line ending the header was seen, 0 if the
 * segment ended first.
 */
static int
http_headers(rd_t r, const char *const *names, int n_names,
             void (*cb)(void *ctx, int which, const uint8_t *v, size_t len), void *ctx)
{
    const uint8_t *p = rd_ptr(&r);
    size_t n = rd_left(&r), i = 0;
    /* skip the start line */
    while (i < n && p[i] != '\n')
        i++;
    if (i >= n)
        return 0;
    i++;
    for (int line = 0; line < HTTP_MAX_LINES && i < n; line++) {
        size_t s = i;
        while (i < n && p[i] != '\n')
            i++;
        size_t e = i;           /* end of line (exclusive), before '\n' */
        int complete = i < n;
        if (complete)
            i++;
        if (e > s && p[e - 1] == '\r')
            e--;
        if (e == s)
            return complete;    /* the blank line */
        if (!complete)
            return 0;           /* a header line cut by the segment end */
        for (int k = 0; k < n_names; k++) {
            size_t hl = strlen(names[k]);
            if (e - s >= hl && mem_ieq(p + s, names[k], hl)) {
                size_t vs = s + hl, ve = e;
                while (vs < ve && (p[vs] == ' ' || p[vs] == '\t'))
                    vs++;
                while (ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t'))
                    ve--;
                cb(ctx, k, p + vs, ve - vs);
            }
        }
    }
    return 0;
}

/* Context of the header callbacks: where the values go. */
typedef struct http_ctx {
    ident *id;                  /* the table */
    const pkt_meta *m;          /* the packet (its src/dst name the ends) */
    uint64_t ts;                /* its time */
} http_ctx;

static void
http_req_header(void *ctx, int which, const uint8_t *v, size_t len)
{
    http_ctx *c = ctx;
    if (len == 0)
        return;
    if (which == 0) {           /* Host: the name of the server, without a port */
        size_t n = len;
        if (v[0] == '[') {
            const uint8_t *close = memchr(v, ']', len);
            if (close)
                n = (size_t)(close - v) + 1;
        } else {
            const uint8_t *colon = memchr(v, ':', len);
            if (colon && !memchr(colon + 1, ':', len - (size_t)(colon - v) - 1)) {
                size_t k = (size_t)(colon - v) + 1;
                int digits = k < len;
                for (; k < len; k++)
                    digits &= v[k] >= '0' && v[k] <= '9';
                if (digits)
                    n = (size_t)(colon - v);
            }
        }
        ident_add(c->id, c->m->dst, c->m->ip_version, IDENT_HTTP_HOST, v, n, c->ts);
    } else {
        ident_add(c->id, c->m->src, c->m->ip_version, IDENT_USER_AGENT, v, len, c->ts);
    }
}

static void
http_resp_header(void *ctx, int which, const uint8_t *v, size_t len)
{
    http_ctx *c = ctx;
    (void)which;
    if (len)
        ident_add(c->id, c->m->src, c->m->ip_version, IDENT_HTTP_SERVER, v, len, c->ts);
}

/* 1 if r starts an HTTP request or response (and it was handled). */
static int
http_message(ident *id, const pkt_meta *m, rd_t r, uint64_t ts)
{
    static const char *const req_names[] = { "host:", "user-agent:" };
    static const char *const resp_names[] = { "server:" };
    http_ctx c = { id, m, ts };
    int complete;
    if (rd_starts(&r, "HTTP/1.")) {
        complete = http_headers(r, resp_names, 1, http_resp_header, &c);
    } else {
        size_t k, nm = sizeof(http_methods) / sizeof(http_methods[0]);
        for (k = 0; k < nm; k++)
            if (rd_starts(&r, http_methods[k]))
                break;
        if (k == nm)
            return 0;
        complete = http_headers(r, req_names, 2, http_req_header, &c);
    }
    id->st.parsed[IDENT_P_HTTP]++;
    if (!complete)
        id->st.partial[IDENT_P_HTTP]++;
    return 1;
}

/* ---- TLS ClientHello server_name (RFC 8446 4.1.2, RFC 6066 3) ----------- */

/*
 * r starts with a TLS handshake record.  The record and handshake lengths
 * are clamped to the segment: a ClientHello cut short is parsed as far as
 * it goes and counted as partial if the name was not reached.
 */
static void
tls_message(ident *id, const pkt_meta *m, rd_t r, uint64_t ts)
{
    uint8_t ctype, vmaj, vmin, htype, l1, l2, l3, sidlen, complen;
    uint16_t reclen, cv, cslen, extlen;
    rd_t rec, hs, exts;
    int cut = 0;

    if (!rd_u8(&r, &ctype) || !rd_u8(&r, &vmaj) || !rd_u8(&r, &vmin) || !rd_be16(&r, &reclen))
        return;                 /* too short to tell */
    if (ctype != 22 || vmaj != 3 || vmin > 4)
        return;                 /* not a TLS handshake record */
    if (reclen > rd_left(&r)) {
        cut = 1;
        reclen = (uint16_t)rd_left(&r);
    }
    if (!rd_sub(&r, reclen, &rec) || !rd_u8(&rec, &htype))
        goto short_;
    if (htype != 1)
        return;                 /* ServerHello, Certificate, ...: not ours */
    if (!rd_u8(&rec, &l1) || !rd_u8(&rec, &l2) || !rd_u8(&rec, &l3))
        goto short_;
    size_t hlen = ((size_t)l1 << 16) | ((size_t)l2 << 8) | l3;
    if (hlen > rd_left(&rec)) {
        cut = 1;
        hlen = rd_left(&rec);
    }
    if (!rd_sub(&rec, hlen, &hs) || !rd_be16(&hs, &cv) || !rd_skip(&hs, 32) ||
        !rd_u8(&hs, &sidlen))
        goto short_;
    if (sidlen > 32)
        goto bad;
    if (!rd_skip(&hs, sidlen) || !rd_be16(&hs, &cslen) || !rd_skip(&hs, cslen) ||
        !rd_u8(&hs, &complen) || !rd_skip(&hs, complen))
        goto short_;
    if (rd_left(&hs) == 0) {
        id->st.parsed[IDENT_P_TLS]++;       /* no extensions, no name */
        return;
    }
    if (!rd_be16(&hs, &extlen))
        goto short_;
    if (extlen > rd_left(&hs)) {
        if (!cut)
            goto bad;
        extlen = (uint16_t)rd_left(&hs);
    }
    if (!rd_sub(&hs, extlen, &exts))
        goto short_;
    for (int i = 0; i < 256 && rd_left(&exts) > 0; i++) {
        uint16_t etype, elen, listlen, nlen;
        uint8_t ntype;
        rd_t ext, list;
        if (!rd_be16(&exts, &etype) || !rd_be16(&exts, &elen) || !rd_sub(&exts, elen, &ext))
            goto short_;
        if (etype != 0)
            continue;
        if (!rd_be16(&ext, &listlen) || !rd_sub(&ext, listlen, &list))
            goto bad;
        while (rd_left(&list) > 0) {
            rd_t nm;
            if (!rd_u8(&list, &ntype) || !rd_be16(&list, &nlen) || !rd_sub(&list, nlen, &nm))
                goto bad;
            if (ntype == 0 && nlen > 0) {
                id->st.parsed[IDENT_P_TLS]++;
                ident_add(id, m->dst, m->ip_version, IDENT_SNI, rd_ptr(&nm), nlen, ts);
                return;
            }
        }
        break;
    }
    if (!cut) {
        id->st.parsed[IDENT_P_TLS]++;       /* a whole ClientHello without SNI */
        return;
    }
short_:
    if (cut) {
        id->st.partial[IDENT_P_TLS]++;
        return;
    }
bad:
    id->st.malformed[IDENT_P_TLS]++;
}

/* ---- dispatch ------------------------------------------------------------------ */

int
ident_wants(const ident *id, const pkt_meta *m)
{
    if (!id || !m || (m->ip_version != 4 && m->ip_version != 6))
        return 0;
    if (id->cfg.track_macs && m->has_mac)
        return 1;
    if (!m->has_ports || !m->payload || m->payload_len == 0 || m->frag == DEC_FRAG_LATER)
        return 0;
    uint16_t sp = m->sport, dp = m->dport;
    if (m->proto == 17)
        return sp == 53 || sp == 5353 || sp == 5355 || sp == 137 || dp == 137 ||
               sp == 138 || dp == 138 || ((sp == 67 || sp == 68) && (dp == 67 || dp == 68)) ||
               sp == 88 || dp == 88;
    if (m->proto != 6)
        return 0;
    if (sp == 53 || sp == 88 || dp == 88 || sp == 22 || dp == 22)
        return 1;
    uint8_t c0 = m->payload[0];
    return c0 == 0x16 || (c0 >= 'A' && c0 <= 'Z');
}

void
ident_packet(ident *id, const flow *f, int from_client, const pkt_meta *m, uint64_t ts_ns)
{
    (void)f;
    (void)from_client;
    /* What ident_wants() refuses is never looked at: the two cannot disagree. */
    if (!ident_wants(id, m))
        return;
    if (id->cfg.track_macs && m->has_mac)
        ident_add_mac(id, m->src, m->ip_version, m->src_mac);
    if (!m->has_ports || !m->payload || m->payload_len == 0 || m->frag == DEC_FRAG_LATER)
        return;
    rd_t pl = rd_make(m->payload, m->payload_len);
    uint16_t sp = m->sport, dp = m->dport;

    if (m->proto == 17) {
        if (sp == 53)
            dns_message(id, &pl, IDENT_P_DNS, IDENT_DNS, ts_ns);
        else if (sp == 5353)
            dns_message(id, &pl, IDENT_P_MDNS, IDENT_MDNS, ts_ns);
        else if (sp == 5355)
            dns_message(id, &pl, IDENT_P_LLMNR, IDENT_LLMNR, ts_ns);
        else if (sp == 137 || dp == 137)
            nbns_message(id, m, &pl, ts_ns);
        else if (sp == 138 || dp == 138)
            nbds_message(id, m, &pl, ts_ns);
        else if ((sp == 67 || sp == 68) && (dp == 67 || dp == 68))
            dhcp_message(id, m, &pl, ts_ns);
        else if (sp == 88 || dp == 88)
            krb_message(id, m, pl, ts_ns);
        return;
    }
    if (m->proto != 6)
        return;
    if (sp == 53) {
        dns_tcp(id, &pl, ts_ns);
        return;
    }
    if (sp == 88 || dp == 88) {
        krb_tcp(id, m, &pl, ts_ns);
        return;
    }
    uint8_t c0 = m->payload[0];
    if (c0 == 0x16) {
        tls_message(id, m, pl, ts_ns);
    } else if (c0 == 'S' && rd_starts(&pl, "SSH-")) {
        ssh_line(id, m, pl, ts_ns);
    } else if (c0 >= 'A' && c0 <= 'Z' && http_message(id, m, pl, ts_ns)) {
        /* handled */
    } else if (sp == 22 || dp == 22) {
        ssh_scan(id, m, pl, ts_ns);
    }
}
