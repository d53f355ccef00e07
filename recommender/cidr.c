/*
 * cidr.c - address blocks for segment members (see cidr.h for how it works).
 */
#include <stdlib.h>
#include <string.h>

#include "recommender/cidr.h"

void
cidr_cfg_default(cidr_cfg *cfg)
{
    cfg->min_block = 64;
    cfg->density = 4;
    cfg->pool_min = 8;
    cfg->exact = 0;
}

static int
addr_cmp(const void *pa, const void *pb)
{
    const cidr_addr *a = pa, *b = pb;
    if (a->ipv != b->ipv)
        return a->ipv < b->ipv ? -1 : 1;
    return memcmp(a->addr, b->addr, 16);
}

/* Output under construction. */
typedef struct cidr_out {
    cidr_block *b;              /* blocks */
    size_t n, cap;              /* used, allocated */
    int oom;                    /* an allocation failed */
} cidr_out;

static void
emit(cidr_out *o, const uint8_t *addr, int ipv, int len, int owner, uint32_t hosts)
{
    if (o->n == o->cap) {
        size_t nc = o->cap ? o->cap * 2 : 64;
        cidr_block *nb = realloc(o->b, nc * sizeof(*nb));
        if (!nb) {
            o->oom = 1;
            return;
        }
        o->b = nb;
        o->cap = nc;
    }
    cidr_block *b = &o->b[o->n++];
    memset(b, 0, sizeof(*b));
    memcpy(b->pfx.addr, addr, 16);
    b->pfx.ipv = (uint8_t)ipv;
    b->pfx.len = (uint8_t)len;
    b->owner = owner;
    b->hosts = hosts;
}

static void
set_bit(uint8_t *a, int bit, int v)
{
    uint8_t m = (uint8_t)(0x80 >> (bit % 8));
    if (v)
        a[bit / 8] |= m;
    else
        a[bit / 8] &= (uint8_t)~m;
}

static int
get_bit(const uint8_t *a, int bit)
{
    return (a[bit / 8] >> (7 - bit % 8)) & 1;
}

/*
 * Addresses a[lo..hi) all lie inside prefix (pfx, len).  Emit pure,
 * supported subtrees.
 */
static void
descend(cidr_out *o, const cidr_addr *a, size_t lo, size_t hi, uint8_t *pfx, int len,
        int ipv, const cidr_cfg *cfg, int dom)
{
    int bits = ipv == 4 ? 32 : 128;
    int owner = a[lo].owner, pure = owner >= 0;
    for (size_t i = lo + 1; i < hi && pure; i++)
        if (a[i].owner != owner)
            pure = 0;
    if (pure) {
        int span = bits - len;  /* block holds 2^span addresses */
        uint64_t size = span >= 63 ? UINT64_MAX : (1ULL << span);
        uint64_t cnt = hi - lo;
        if (cfg->exact ? span == 0 : (size <= cfg->min_block || size <= cnt * cfg->density)) {
            emit(o, pfx, ipv, len, owner, (uint32_t)cnt);
            return;
        }
    }
    if (len == bits)
        return;                 /* a single address, not pure: owned by -1 or conflicting */
    /* split: find the first address with bit `len` set */
    size_t mid = lo;
    while (mid < hi && !get_bit(a[mid].addr, len))
        mid++;
    if (mid > lo) {
        set_bit(pfx, len, 0);
        descend(o, a, lo, mid, pfx, len + 1, ipv, cfg, dom);
    } else if (dom >= 0) {
        set_bit(pfx, len, 0);   /* empty half of a pool: the pool's segment */
        emit(o, pfx, ipv, len + 1, dom, 0);
    }
    if (mid < hi) {
        set_bit(pfx, len, 1);
        descend(o, a, mid, hi, pfx, len + 1, ipv, cfg, dom);
        set_bit(pfx, len, 0);
    } else if (dom >= 0) {
        set_bit(pfx, len, 1);
        emit(o, pfx, ipv, len + 1, dom, 0);
        set_bit(pfx, len, 0);
    }
}

/* The segment holding most of a[lo..hi) if it is a pool: >= half of them and >= cfg->pool_min. */
static int
dominant(const cidr_addr *a, size_t lo, size_t hi, const cidr_cfg *cfg)
{
    if (cfg->exact || !cfg->pool_min)
        return -1;
    int best = -1;
    size_t best_n = 0;
    for (size_t i = lo; i < hi; i++) {
        if (a[i].owner < 0 || a[i].owner == best)
            continue;
        size_t n = 0;
        for (size_t j = lo; j < hi; j++)
            n += a[j].owner == a[i].owner;
        if (n > best_n) {
            best_n = n;
            best = a[i].owner;
        }
        if (best_n * 2 >= hi - lo)
            break;
    }
    return best_n * 2 >= hi - lo && best_n >= cfg->pool_min ? best : -1;
}

long
cidr_blocks(cidr_addr *a, size_t n, const cidr_cfg *cfg, cidr_block **out)
{
    cidr_cfg def;
    if (!cfg) {
        cidr_cfg_default(&def);
        cfg = &def;
    }
    *out = NULL;
    if (n == 0)
        return 0;
    qsort(a, n, sizeof(*a), addr_cmp);
    /* the same address with two owners belongs to none */
    for (size_t i = 1; i < n; i++)
        if (addr_cmp(&a[i - 1], &a[i]) == 0 && a[i - 1].owner != a[i].owner)
            a[i - 1].owner = a[i].owner = -1;
    cidr_out o = {0};
    size_t i = 0;
    while (i < n) {
        int ipv = a[i].ipv, root = ipv == 4 ? 24 : 64;
        uint8_t pfx[16] = {0};
        memcpy(pfx, a[i].addr, (size_t)root / 8);
        size_t j = i + 1;
        while (j < n && a[j].ipv == ipv && memcmp(a[j].addr, pfx, (size_t)root / 8) == 0)
            j++;
        descend(&o, a, i, j, pfx, root, ipv, cfg, dominant(a, i, j, cfg));
        i = j;
    }
    if (o.oom) {
        free(o.b);
        return -1;
    }
    *out = o.b;
    return (long)o.n;
}
