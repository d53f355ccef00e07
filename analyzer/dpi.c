/*
 * dpi.c - application-protocol detection with nDPI 4.2 (see dpi.h).
 *
 * The only file of segscope that includes nDPI's headers.  Written
 * against nDPI 4.2 (Debian libndpi-dev 4.2): process_packet takes five
 * arguments, giveup takes enable_guess, ndpi_flow_struct is one block
 * (no separate src/dst id structs), and the TLS SNI lives in
 * host_server_name.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ndpi/ndpi_api.h>

#include "analyzer/dpi.h"
#include "capture/pool.h"

/* Interned names: open addressing over a power-of-two table. */
#define NAMES_SLOTS 8192u
#define NAMES_MAX   (NAMES_SLOTS / 2)
/* Packed nDPI states (see state_pack): structs up to 1 KiB are packed,
   larger ones never; their blocks come from pools by size, 16 bytes apart. */
#define PACK_MAX_WORDS 128u
#define PACK_CLASS 16u
#define PACK_CLASSES ((16u + PACK_MAX_WORDS * 8u) / PACK_CLASS + 1u)
/* Names of (master, app) protocol pairs already formatted: direct-mapped. */
#define PAIR_SLOTS 1024u

/* One formatted "master.app" name (ndpi_protocol2name depends on the pair only). */
typedef struct pair_name {
    uint32_t key;               /* master << 16 | app, + 1 (0 = empty) */
    const char *name;           /* interned */
} pair_name;

struct dpi {
    struct ndpi_detection_module_struct *mod;   /* the detection module */
    dpi_cfg cfg;                /* copy of the configuration */
    dpi_stats st;               /* counters */
    uint64_t last_ms;           /* latest packet time handed to nDPI (never goes back) */
    size_t nflow_size;          /* ndpi_detection_get_sizeof_ndpi_flow_struct() */
    void *spare;                /* one nDPI flow struct kept for the next flow (or NULL) */
    pool *infos;                /* the dpi_info records */
    pool *packed[PACK_CLASSES]; /* packed states by size class (created when first needed) */
    char **names;               /* NAMES_SLOTS interned strings (NULL = free slot) */
    uint32_t n_names;           /* slots used */
    pair_name pairs[PAIR_SLOTS]; /* app names by protocol pair, a cache */
    const char *cat_names[NDPI_PROTOCOL_NUM_CATEGORIES]; /* interned category names, a cache */
};

static void *
flow_malloc(size_t size)
{
    return malloc(size);
}

void
dpi_cfg_default(dpi_cfg *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_tcp_pkts = 80;
    cfg->max_udp_pkts = 24;
    cfg->max_other_pkts = 80;
    cfg->max_str = DPI_STR_MAX;
    cfg->guess = 1;
}

/* The configuration files ndpiReader's tests load, in the order it loads them. */
enum { NF_PROTOS, NF_CATEGORIES, NF_RISKY, NF_JA3, NF_SHA1, NF_COUNT };
static const char *const ndpi_files[NF_COUNT] = {
    "protos.txt", "categories.txt", "risky_domains.txt",
    "ja3_fingerprints.csv", "sha1_fingerprints.csv",
};

static int
load_file(struct ndpi_detection_module_struct *mod, int which, const char *path)
{
    switch (which) {
    case NF_PROTOS: return ndpi_load_protocols_file(mod, path);
    case NF_CATEGORIES: return ndpi_load_categories_file(mod, path);
    case NF_RISKY: return ndpi_load_risk_domain_file(mod, path);
    case NF_JA3: return ndpi_load_malicious_ja3_file(mod, path);
    case NF_SHA1: return ndpi_load_malicious_sha1_file(mod, path);
    }
    return -1;
}

/* Load whichever of the five files exist in dir. 0, or -1 with err. */
static int
load_dir(struct ndpi_detection_module_struct *mod, const char *dir, char *err, size_t errlen)
{
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "%s: not a directory", dir);
        return -1;
    }
    for (int i = 0; i < NF_COUNT; i++) {
        char path[4096];
        int n = snprintf(path, sizeof(path), "%s/%s", dir, ndpi_files[i]);
        if (n < 0 || (size_t)n >= sizeof(path)) {
            snprintf(err, errlen, "%s: path too long", dir);
            return -1;
        }
        if (access(path, F_OK) != 0)
            continue;
        if (access(path, R_OK) != 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            return -1;
        }
        if (load_file(mod, i, path) < 0) {
            snprintf(err, errlen, "%s: nDPI could not load it", path);
            return -1;
        }
    }
    return 0;
}

dpi *
dpi_create(const dpi_cfg *cfg, char *err, size_t errlen)
{
    dpi *d = calloc(1, sizeof(*d));
    if (!d)
        goto oom;
    if (cfg)
        d->cfg = *cfg;
    else
        dpi_cfg_default(&d->cfg);
    d->nflow_size = ndpi_detection_get_sizeof_ndpi_flow_struct();
    if (d->cfg.max_str == 0 || d->cfg.max_str > 4096)
        d->cfg.max_str = DPI_STR_MAX;
    /* dpi_info.pkts saturates at UINT16_MAX: keep budgets below it. */
    if (d->cfg.max_tcp_pkts > 60000) d->cfg.max_tcp_pkts = 60000;
    if (d->cfg.max_udp_pkts > 60000) d->cfg.max_udp_pkts = 60000;
    if (d->cfg.max_other_pkts > 60000) d->cfg.max_other_pkts = 60000;
    d->names = calloc(NAMES_SLOTS, sizeof(char *));
    d->infos = pool_create(sizeof(dpi_info));
    if (!d->names || !d->infos)
        goto oom;
    /* nDPI's default allocator adds every allocation to one global counter
       with an atomic instruction: a cache line all workers write.  Flow
       states (the most frequent allocation) come from malloc directly;
       ndpi_free() and ndpi_flow_free() release them with free(). */
    set_ndpi_flow_malloc(flow_malloc);
    d->mod = ndpi_init_detection_module(ndpi_no_prefs);
    if (!d->mod) {
        snprintf(err, errlen, "nDPI: cannot create a detection module");
        goto fail;
    }
    NDPI_PROTOCOL_BITMASK all;
    NDPI_BITMASK_SET_ALL(all);
    ndpi_set_protocol_detection_bitmask2(d->mod, &all);
    if (d->cfg.ndpi_dir && load_dir(d->mod, d->cfg.ndpi_dir, err, errlen) < 0)
        goto fail;
    ndpi_finalize_initialization(d->mod);
    return d;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    dpi_free(d);
    return NULL;
}

void
dpi_free(dpi *d)
{
    if (!d)
        return;
    if (d->mod)
        ndpi_exit_detection_module(d->mod);
    if (d->names) {
        for (uint32_t i = 0; i < NAMES_SLOTS; i++)
            free(d->names[i]);
        free(d->names);
    }
    free(d->spare);
    pool_free(d->infos);
    for (unsigned c = 0; c < PACK_CLASSES; c++)
        pool_free(d->packed[c]);
    free(d);
}

/* FNV-1a, for the name table. */
static uint32_t
str_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* A copy of s owned by the handle (the same pointer for equal strings). */
static const char *
intern(dpi *d, const char *s)
{
    if (!s)
        s = "";
    uint32_t i = str_hash(s) & (NAMES_SLOTS - 1);
    while (d->names[i]) {
        if (strcmp(d->names[i], s) == 0)
            return d->names[i];
        i = (i + 1) & (NAMES_SLOTS - 1);
    }
    if (d->n_names >= NAMES_MAX || !(d->names[i] = strdup(s))) {
        d->st.names_dropped++;
        return "?";
    }
    d->n_names++;
    return d->names[i];
}

static int
is_proto(ndpi_protocol p, uint16_t id)
{
    return p.master_protocol == id || p.app_protocol == id;
}

static size_t
slen(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/*
 * Bytes nDPI holds for one flow: the struct and the buffers
 * ndpi_free_flow_data() releases (same conditions as it uses).
 */
static size_t
nflow_bytes(const struct ndpi_flow_struct *nf)
{
    size_t n = ndpi_detection_get_sizeof_ndpi_flow_struct();
    n += slen(nf->http.url) + slen(nf->http.content_type) + slen(nf->http.request_content_type) +
         slen(nf->http.user_agent) + slen(nf->http.detected_os) + slen(nf->http.nat_ip);
    if (nf->kerberos_buf.pktbuf)
        n += nf->kerberos_buf.pktbuf_maxlen;
    const uint16_t *st = nf->detected_protocol_stack;
    for (int i = 0; i < 2; i++) {
        if (st[i] == NDPI_PROTOCOL_TLS || st[i] == NDPI_PROTOCOL_DTLS || st[i] == NDPI_PROTOCOL_QUIC) {
            n += slen(nf->protos.tls_quic.server_names) + slen(nf->protos.tls_quic.alpn) +
                 slen(nf->protos.tls_quic.tls_supported_versions) +
                 slen(nf->protos.tls_quic.issuerDN) + slen(nf->protos.tls_quic.subjectDN) +
                 slen(nf->protos.tls_quic.encrypted_sni.esni);
            break;
        }
    }
    if (nf->l4_proto == IPPROTO_TCP && nf->l4.tcp.tls.message.buffer)
        n += nf->l4.tcp.tls.message.buffer_len;
    if (nf->l4_proto == IPPROTO_UDP && nf->l4.udp.quic_reasm_buf)
        n += nf->l4.udp.quic_reasm_buf_len;
    return n;
}

/* Strings gathered before they are packed into dpi_info.strs. */
typedef struct strset {
    const char *s[DPI_STR_COUNT];   /* NUL-terminated source, NULL = absent */
    char krb[160];                  /* the composed Kerberos principal */
} strset;

/* Copy the strings of ss into one block owned by i, each capped at max. */
static void
pack_strings(dpi *d, dpi_info *i, strset *ss)
{
    size_t total = 0, len[DPI_STR_COUNT];
    for (int k = 0; k < DPI_STR_COUNT; k++) {
        len[k] = 0;
        if (!ss->s[k] || !ss->s[k][0]) {
            ss->s[k] = NULL;
            continue;
        }
        len[k] = strnlen(ss->s[k], d->cfg.max_str + 1);
        if (len[k] > d->cfg.max_str) {
            len[k] = d->cfg.max_str;
            d->st.str_truncated++;
            if (i->truncated < UINT8_MAX)
                i->truncated++;
        }
        total += len[k] + 1;
    }
    if (total == 0)
        return;
    if (!(i->strs = malloc(total))) {
        d->st.alloc_failed++;
        return;
    }
    size_t off = 0;
    for (int k = 0; k < DPI_STR_COUNT; k++) {
        if (!ss->s[k])
            continue;
        memcpy(i->strs + off, ss->s[k], len[k]);
        i->strs[off + len[k]] = '\0';
        i->soff[k] = (uint16_t)(off + 1);
        off += len[k] + 1;
    }
    d->st.kept_bytes += total;
}

/* nDPI's fixed-size char arrays are NUL-terminated by nDPI; be safe anyway. */
#define FIXED(arr) (memchr((arr), '\0', sizeof(arr)) ? (const char *)(arr) : NULL)

/* What ndpiReader's process_ndpi_collected_info() keeps, for our columns. */
static void
collect(dpi *d, dpi_info *i, struct ndpi_flow_struct *nf, ndpi_protocol p)
{
    char name[128];
    strset ss;
    memset(ss.s, 0, sizeof(ss.s));

    i->master_id = p.master_protocol;
    i->app_id = p.app_protocol;
    i->category_id = (uint16_t)p.category;
    /* Formatting the name (snprintf) and interning it cost more than the
       rest of a short flow's end: both names are cached. */
    uint32_t key = ((uint32_t)p.master_protocol << 16 | p.app_protocol) + 1;
    pair_name *pn = &d->pairs[(key * 2654435761u) >> 22];     /* 10 bits: PAIR_SLOTS */
    if (pn->key != key) {
        pn->name = intern(d, ndpi_protocol2name(d->mod, p, name, sizeof(name)));
        pn->key = key;
    }
    i->app = pn->name;
    if ((unsigned)p.category < NDPI_PROTOCOL_NUM_CATEGORIES) {
        const char **cn = &d->cat_names[p.category];
        if (!*cn)
            *cn = intern(d, ndpi_category_get_name(d->mod, p.category));
        i->category = *cn;
    } else {
        i->category = intern(d, ndpi_category_get_name(d->mod, p.category));
    }
    i->confidence = nf->confidence < NDPI_CONFIDENCE_MAX ? (uint8_t)nf->confidence : DPI_CONF_UNKNOWN;
    i->risk = nf->risk;

    const char *host = FIXED(nf->host_server_name);
    if (is_proto(p, NDPI_PROTOCOL_TLS) || is_proto(p, NDPI_PROTOCOL_DTLS) ||
        is_proto(p, NDPI_PROTOCOL_QUIC)) {
        ss.s[DPI_S_SNI] = host;
        ss.s[DPI_S_JA3C] = FIXED(nf->protos.tls_quic.ja3_client);
        ss.s[DPI_S_JA3S] = FIXED(nf->protos.tls_quic.ja3_server);
    } else if (is_proto(p, NDPI_PROTOCOL_HTTP) || is_proto(p, NDPI_PROTOCOL_HTTP_CONNECT) ||
               is_proto(p, NDPI_PROTOCOL_HTTP_PROXY)) {
        ss.s[DPI_S_HTTP_HOST] = host;
    } else if (is_proto(p, NDPI_PROTOCOL_DNS) || is_proto(p, NDPI_PROTOCOL_MDNS) ||
               is_proto(p, NDPI_PROTOCOL_LLMNR)) {
        ss.s[DPI_S_DNS_QUERY] = host;
    } else if (is_proto(p, NDPI_PROTOCOL_DHCP)) {
        ss.s[DPI_S_DHCP_HOSTNAME] = host;
        ss.s[DPI_S_DHCP_CLASS] = FIXED(nf->protos.dhcp.class_ident);
    } else if (is_proto(p, NDPI_PROTOCOL_SSH)) {
        ss.s[DPI_S_SSH_CLIENT] = FIXED(nf->protos.ssh.client_signature);
        ss.s[DPI_S_SSH_SERVER] = FIXED(nf->protos.ssh.server_signature);
    } else if (is_proto(p, NDPI_PROTOCOL_KERBEROS)) {
        const char *user = FIXED(nf->protos.kerberos.username);
        const char *hostn = FIXED(nf->protos.kerberos.hostname);
        const char *realm = FIXED(nf->protos.kerberos.domain);
        char *out = ss.krb;
        size_t cap = sizeof(ss.krb);
        /* nDPI strips the '$' of machine accounts into hostname: put it back. */
        if (user && user[0])
            snprintf(out, cap, "%s%s%s", user, realm && realm[0] ? "@" : "", realm ? realm : "");
        else if (hostn && hostn[0])
            snprintf(out, cap, "%s$%s%s", hostn, realm && realm[0] ? "@" : "", realm ? realm : "");
        else
            out[0] = '\0';
        ss.s[DPI_S_KRB_PRINCIPAL] = out;
    }
    ss.s[DPI_S_USER_AGENT] = nf->http.user_agent;
    pack_strings(d, i, &ss);
    d->st.kept_bytes += sizeof(dpi_info);
}

/* An nDPI flow struct, uninitialised: the spare one, else a new one. */
static void *
state_alloc(dpi *d)
{
    void *nf = d->spare;
    if (nf)
        d->spare = NULL;
    else
        nf = ndpi_flow_malloc(d->nflow_size);
    return nf;
}

/* Give back a flow struct whose buffers are freed or handed over: kept as
   the spare (a flow's state is made and dropped at least once per flow,
   more with packing), else freed. */
static void
state_release(dpi *d, void *nf)
{
    if (!d->spare)
        d->spare = nf;
    else
        ndpi_free(nf);
}

/* Detection is over: keep the result and free nDPI's state. */
static void
finish(dpi *d, dpi_info *i, ndpi_protocol p, int gave_up)
{
    struct ndpi_flow_struct *nf = i->nflow;
    if (gave_up) {
        uint8_t guessed = 0;
        p = ndpi_detection_giveup(d->mod, nf, d->cfg.guess ? 1 : 0, &guessed);
        i->guessed = guessed;
        d->st.given_up++;
        if (guessed)
            d->st.guessed++;
    } else {
        d->st.detected++;
    }
    collect(d, i, nf, p);
    if (p.app_protocol == NDPI_PROTOCOL_UNKNOWN && p.master_protocol == NDPI_PROTOCOL_UNKNOWN)
        d->st.unknown++;
    i->status = gave_up ? DPI_GIVEN_UP : DPI_DETECTED;
    d->st.state_bytes_freed += nflow_bytes(nf);
    ndpi_free_flow_data(nf);
    state_release(d, nf);
    i->nflow = NULL;
    d->st.live--;
}

dpi_info *
dpi_ext(dpi *d, flow *f)
{
    if (!f->ext) {
        dpi_info *i = pool_get(d->infos);
        if (!i)
            return NULL;
        i->status = DPI_NO_STATE;
        f->ext = i;
    }
    return f->ext;
}

/*
 * Between its first and second packet a flow's nDPI state is kept packed:
 * only the 8-byte words of ndpi_flow_struct that are not zero, with a
 * bitmap of where they go (after one packet the ~700-byte struct is mostly
 * zeros).  Flows that never get a second packet (scans, lone queries, the
 * bulk of a flood) then hold a fraction of nDPI's state, and the full state
 * of such a flow is remade, used and freed at once, while it is hot.  nDPI
 * sees every packet in capture order, exactly as without packing (its
 * caches shared between flows depend on that order).  The struct holds no
 * pointer into itself, so it may come back at another address.
 */

typedef struct dpi_packed {
    uint64_t map[PACK_MAX_WORDS / 64]; /* bit k: word k of the struct is stored */
    uint64_t w[];               /* the stored words, in order */
} dpi_packed;

/* The size class of a packed state of nz words, and its pool (created on first use; NULL on OOM). */
static unsigned
pack_class(size_t nz)
{
    return (unsigned)((sizeof(dpi_packed) + nz * 8 + PACK_CLASS - 1) / PACK_CLASS);
}

static pool *
pack_pool(dpi *d, unsigned c)
{
    if (!d->packed[c])
        d->packed[c] = pool_create((size_t)c * PACK_CLASS);
    return d->packed[c];
}

/* The number of words stored in pk. */
static size_t
pack_words(const dpi_packed *pk)
{
    size_t n = 0;
    for (size_t b = 0; b < PACK_MAX_WORDS / 64; b++)
        n += (size_t)__builtin_popcountll(pk->map[b]);
    return n;
}

/* Give i nDPI state. 0, or -1 (counted) when out of memory. */
static int
state_new(dpi *d, dpi_info *i)
{
    struct ndpi_flow_struct *nf = state_alloc(d);
    if (!nf) {
        d->st.alloc_failed++;
        return -1;
    }
    memset(nf, 0, d->nflow_size);
    i->nflow = nf;
    i->status = DPI_DETECTING;
    d->st.flows++;
    if (++d->st.live > d->st.peak_live)
        d->st.peak_live = d->st.live;
    return 0;
}

/* Pack i's nDPI state (DPI_DETECTING -> DPI_PACKED); left as it is when out of memory. */
static void
state_pack(dpi *d, dpi_info *i)
{
    size_t nw = d->nflow_size / 8, nz = 0;
    const uint64_t *src = i->nflow;
    uint64_t map[PACK_MAX_WORDS / 64] = { 0 }, tmp[PACK_MAX_WORDS];
    if (d->nflow_size % 8 != 0 || nw > PACK_MAX_WORDS)
        return;
    for (size_t k = 0; k < nw; k += 4) {   /* most words are zero: skip them four at a time */
        size_t end = k + 4 <= nw ? k + 4 : nw;
        if (end == k + 4 && (src[k] | src[k + 1] | src[k + 2] | src[k + 3]) == 0)
            continue;
        for (size_t j = k; j < end; j++)
            if (src[j]) {
                map[j / 64] |= 1ULL << (j % 64);
                tmp[nz++] = src[j];
            }
    }
    pool *pp = pack_pool(d, pack_class(nz));
    dpi_packed *pk = pp ? pool_get(pp) : NULL;
    if (!pk)
        return;
    memcpy(pk->map, map, sizeof(map));
    memcpy(pk->w, tmp, nz * 8);
    state_release(d, i->nflow); /* the struct only: its buffers are now the packed words' */
    i->nflow = pk;
    i->status = DPI_PACKED;
    d->st.live--;
    d->st.packed++;
    d->st.packed_bytes += sizeof(*pk) + nz * 8;
    if (d->st.packed > d->st.peak_packed)
        d->st.peak_packed = d->st.packed;
    if (d->st.packed_bytes > d->st.peak_packed_bytes)
        d->st.peak_packed_bytes = d->st.packed_bytes;
}

/* Write pk's words into dst (nw words); the number of stored words. */
static size_t
unpack_into(const dpi_packed *pk, uint64_t *dst, size_t nw)
{
    size_t o = 0;
    memset(dst, 0, nw * 8);
    for (size_t b = 0; b < PACK_MAX_WORDS / 64; b++)
        for (uint64_t m = pk->map[b]; m; m &= m - 1)
            dst[b * 64 + (size_t)__builtin_ctzll(m)] = pk->w[o++];
    return o;
}

/* Unpack i's nDPI state (DPI_PACKED -> DPI_DETECTING). -1 when out of memory (i unchanged). */
static int
state_unpack(dpi *d, dpi_info *i)
{
    dpi_packed *pk = i->nflow;
    uint64_t *dst = state_alloc(d);
    if (!dst) {
        d->st.alloc_failed++;
        return -1;
    }
    size_t nz = unpack_into(pk, dst, d->nflow_size / 8);
    d->st.packed--;
    d->st.packed_bytes -= sizeof(*pk) + nz * 8;
    if (++d->st.live > d->st.peak_live)
        d->st.peak_live = d->st.live;
    pool_put(d->packed[pack_class(nz)], pk);
    i->nflow = dst;
    i->status = DPI_DETECTING;
    return 0;
}

/* Free a packed state and the nDPI buffers its words point to. */
static void
packed_free(dpi *d, dpi_packed *pk)
{
    uint64_t *dst = ndpi_flow_malloc(d->nflow_size);
    if (dst) {
        unpack_into(pk, dst, d->nflow_size / 8);
        ndpi_flow_free(dst);
    }
    size_t nz = pack_words(pk);
    d->st.packed--;
    d->st.packed_bytes -= sizeof(*pk) + nz * 8;
    pool_put(d->packed[pack_class(nz)], pk);
}

void
dpi_packet(dpi *d, flow *f, int from_client, const pkt_meta *m, uint64_t ts_ns)
{
    dpi_info *i = f->ext;
    if (i && i->status != DPI_DETECTING && i->status != DPI_NO_STATE && i->status != DPI_PACKED)
        return;
    if (m->frag == DEC_FRAG_LATER) {
        d->st.frags_skipped++;
        return;
    }
    if (!m->l3 || m->l3_len == 0)
        return;
    if (!i) {
        if (!(i = dpi_ext(d, f))) {
            d->st.alloc_failed++;
            return;
        }
    }
    if (i->status == DPI_NO_STATE && state_new(d, i) != 0)
        return;
    if (i->status == DPI_PACKED && state_unpack(d, i) != 0)
        return;
    if (!i->has_icmp && (m->proto == 1 || m->proto == 58)) {
        i->has_icmp = 1;
        i->icmp_type = m->icmp_type;
        i->icmp_code = m->icmp_code;
        i->icmp_from_client = from_client ? 1 : 0;
    }

    /* ndpiReader never lets time go backwards for nDPI. */
    uint64_t ms = ts_ns / 1000000u;
    if (ms < d->last_ms)
        ms = d->last_ms;
    d->last_ms = ms;

    unsigned budget = m->proto == 6 ? d->cfg.max_tcp_pkts
                    : m->proto == 17 ? d->cfg.max_udp_pkts : d->cfg.max_other_pkts;
    if (i->pkts < UINT16_MAX)
        i->pkts++;
    d->st.packets++;
    size_t len = m->l3_len > 65535 ? 65535 : m->l3_len;
    ndpi_protocol p = ndpi_detection_process_packet(d->mod, i->nflow, m->l3,
                                                    (unsigned short)len, ms);
    int enough = i->pkts > budget;
    if (!enough && p.app_protocol == NDPI_PROTOCOL_UNKNOWN) {
        if (i->pkts == 1)
            state_pack(d, i);
        return;
    }
    if (!enough && ndpi_extra_dissection_possible(d->mod, i->nflow)) {
        if (i->pkts == 1)
            state_pack(d, i);
        return;     /* named, but more metadata may come */
    }
    finish(d, i, p, p.app_protocol == NDPI_PROTOCOL_UNKNOWN);
}

void
dpi_flow_end(dpi *d, flow *f)
{
    dpi_info *i = f->ext;
    if (i && i->status == DPI_PACKED && state_unpack(d, i) != 0)
        return;
    if (!i || i->status != DPI_DETECTING)
        return;
    ndpi_protocol none = { NDPI_PROTOCOL_UNKNOWN, NDPI_PROTOCOL_UNKNOWN, NDPI_PROTOCOL_CATEGORY_UNSPECIFIED };
    finish(d, i, none, 1);
}

const dpi_info *
dpi_get(const flow *f)
{
    return f->ext;
}

void
dpi_release(dpi *d, flow *f)
{
    dpi_info *i = f->ext;
    if (!i)
        return;
    if (i->status == DPI_PACKED) {
        packed_free(d, i->nflow);   /* only if the flow never reached dpi_flow_end */
    } else if (i->nflow) {
        ndpi_flow_free(i->nflow);   /* same */
        d->st.live--;
    }
    free(i->strs);
    pool_put(d->infos, i);
    f->ext = NULL;
}

const char *
dpi_str(const dpi_info *i, enum dpi_str which)
{
    if (!i || !i->strs || which < 0 || which >= DPI_STR_COUNT || i->soff[which] == 0)
        return NULL;
    return i->strs + i->soff[which] - 1;
}

const char *
dpi_confidence_name(int confidence)
{
    static const char *const names[] = {
        "Unknown", "Match by port", "Match by IP", "DPI (cache)", "DPI",
    };
    if (confidence < 0 || confidence >= (int)(sizeof(names) / sizeof(names[0])))
        return "Unknown";
    return names[confidence];
}

const char *
dpi_risk_names(uint64_t risk, char *buf, size_t len)
{
    size_t n = 0;
    if (len == 0)
        return buf;
    buf[0] = '\0';
    for (int b = 1; b < NDPI_MAX_RISK && b < 64; b++) {
        if (!(risk & (1ULL << b)))
            continue;
        int w = snprintf(buf + n, len - n, "%s%s", n ? ";" : "", ndpi_risk2str((ndpi_risk_enum)b));
        if (w < 0 || (size_t)w >= len - n) {
            buf[n] = '\0';
            break;
        }
        n += (size_t)w;
    }
    return buf;
}

const char *
dpi_proto_name(dpi *d, uint16_t id)
{
    const char *s = ndpi_get_proto_name(d->mod, id);
    return s ? s : "Unknown";
}

const dpi_stats *
dpi_get_stats(const dpi *d)
{
    return &d->st;
}

void
dpi_print_stats(const dpi *d, FILE *out)
{
    const dpi_stats *s = &d->st;
    fprintf(out, "dpi.flows %" PRIu64 "\n", s->flows);
    fprintf(out, "dpi.packets %" PRIu64 "\n", s->packets);
    fprintf(out, "dpi.frags_skipped %" PRIu64 "\n", s->frags_skipped);
    fprintf(out, "dpi.detected %" PRIu64 "\n", s->detected);
    fprintf(out, "dpi.given_up %" PRIu64 "\n", s->given_up);
    fprintf(out, "dpi.guessed %" PRIu64 "\n", s->guessed);
    fprintf(out, "dpi.unknown %" PRIu64 "\n", s->unknown);
    fprintf(out, "dpi.live_states %" PRIu64 "\n", s->live);
    fprintf(out, "dpi.peak_live_states %" PRIu64 "\n", s->peak_live);
    fprintf(out, "dpi.packed_states %" PRIu64 "\n", s->packed);
    fprintf(out, "dpi.peak_packed_states %" PRIu64 "\n", s->peak_packed);
    fprintf(out, "dpi.packed_bytes %" PRIu64 "\n", s->packed_bytes);
    fprintf(out, "dpi.peak_packed_bytes %" PRIu64 "\n", s->peak_packed_bytes);
    fprintf(out, "dpi.state_bytes_freed %" PRIu64 "\n", s->state_bytes_freed);
    fprintf(out, "dpi.kept_bytes %" PRIu64 "\n", s->kept_bytes);
    fprintf(out, "dpi.str_truncated %" PRIu64 "\n", s->str_truncated);
    fprintf(out, "dpi.alloc_failed %" PRIu64 "\n", s->alloc_failed);
    fprintf(out, "dpi.names_dropped %" PRIu64 "\n", s->names_dropped);
}

size_t
dpi_info_size(void)
{
    return sizeof(dpi_info);
}

size_t
dpi_ndpi_flow_size(void)
{
    return ndpi_detection_get_sizeof_ndpi_flow_struct();
}

void
dpi_sha1(const void *data, size_t len, uint8_t out[20])
{
    ndpi_string_sha1_hash(data, len, out);
}
