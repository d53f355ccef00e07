/*
 * pcapfile.c - reader for pcap and pcapng capture files.
 *
 * How it works.  The file is read with read(2) into one buffer that starts
 * at 1 MiB and may grow up to PF_MAX_BLOCK for a large pcapng block.
 * [start, end) of the buffer holds bytes read but not yet consumed; base is
 * the file offset of buf[0], so base + start is the offset of the next
 * record.  pf_fill(n) makes n bytes available at start: it slides the
 * unconsumed tail to the front when the record would not fit (or too little
 * room is left for a large read), grows the buffer if n is larger than it,
 * and then reads until n bytes are there or the file ends.  A record is
 * parsed in place and handed out as a pointer into the buffer; consuming it
 * only moves start.  read(2) returns what a pipe has, so a live writer
 * ("tcpdump -w - | segscope -r -") is not held up until a whole megabyte
 * has arrived, which fread() would do.
 *
 * pcap: a 24-byte file header, then records of a 16-byte header (24 for
 * the Kuznetzov variant) and caplen bytes.  Files older than version 2.3
 * store caplen and len the other way round; 2.3 files are ambiguous and
 * are swapped when caplen > len.  This is what libpcap and Wireshark do.
 *
 * pcapng: a sequence of blocks: type, total length, body, total length
 * again.  The byte order is set by each Section Header Block; a new section
 * forgets the interfaces of the previous one.  Interface Description
 * Blocks give the link type, snap length and timestamp unit (if_tsresol)
 * and offset (if_tsoffset) of each interface; packet blocks refer to an
 * interface by index.  Every block is checked (length a multiple of 4, at
 * least the minimum for its type, at most PF_MAX_BLOCK, trailer equal to
 * header) before its body is parsed through an rd_t over the body only.
 */
#define _POSIX_C_SOURCE 200809L

#include "capture/pcapfile.h"
#include "capture/rd.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define PF_BUF_INIT (1u << 18)      /* initial read buffer */
#define PF_BUF_MAX PF_MAX_BLOCK     /* the buffer never grows past this */
#define PF_MIN_READ (64u << 10)     /* slide the tail down rather than read less */
#define PF_MAX_IFACES 65536u        /* interfaces per pcapng section */
#define PF_NS 1000000000u           /* nanoseconds per second */

/* pcap magic numbers, as read in the byte order of the writer. */
#define PF_MAGIC_US 0xa1b2c3d4u     /* microsecond timestamps */
#define PF_MAGIC_NS 0xa1b23c4du     /* nanosecond timestamps */
#define PF_MAGIC_KUZ 0xa1b2cd34u    /* Kuznetzov's patched libpcap */

/* pcapng block types. */
#define PF_BT_SHB 0x0A0D0D0Au       /* Section Header Block (palindromic) */
#define PF_BT_IDB 0x00000001u       /* Interface Description Block */
#define PF_BT_PB 0x00000002u        /* Packet Block (obsolete) */
#define PF_BT_SPB 0x00000003u       /* Simple Packet Block */
#define PF_BT_NRB 0x00000004u       /* Name Resolution Block */
#define PF_BT_ISB 0x00000005u       /* Interface Statistics Block */
#define PF_BT_EPB 0x00000006u       /* Enhanced Packet Block */
#define PF_BT_DSB 0x0000000Au       /* Decryption Secrets Block */
#define PF_BOM 0x1A2B3C4Du          /* SHB byte-order magic */

/* IDB option codes. */
#define PF_OPT_END 0                /* opt_endofopt */
#define PF_OPT_TSRESOL 9            /* if_tsresol, 1 byte */
#define PF_OPT_TSOFFSET 14          /* if_tsoffset, 8 bytes, signed seconds */

/* File formats. */
typedef enum pf_kind {
    PF_KIND_PCAP,                   /* classic pcap, microseconds (also Kuznetzov) */
    PF_KIND_PCAP_NS,                /* classic pcap, nanoseconds */
    PF_KIND_PCAPNG                  /* pcapng */
} pf_kind;

/* How a classic pcap stores caplen and len (see the top of the file). */
typedef enum pf_lenorder {
    PF_LEN_NORMAL,                  /* caplen then len (version 2.4 and later) */
    PF_LEN_SWAPPED,                 /* len then caplen (before 2.3, and 543.x) */
    PF_LEN_MAYBE                    /* 2.3: swapped if caplen > len */
} pf_lenorder;

/* One interface of the current pcapng section, from its IDB. */
typedef struct pf_iface {
    int linktype;                   /* LINKTYPE_* */
    uint32_t snaplen;               /* snap length, 0 = no limit */
    uint64_t units;                 /* timestamp units per second (if_tsresol) */
    uint64_t offset_ns;             /* if_tsoffset in ns, two's complement */
} pf_iface;

/* An open capture file. */
struct pf_file {
    int fd;                         /* descriptor read from */
    int own_fd;                     /* 1 if pf_close() closes fd (not stdin) */
    int64_t size;                   /* file size, -1 if not a regular file */
    uint8_t *buf;                   /* read buffer */
    size_t cap;                     /* bytes allocated in buf */
    size_t start;                   /* first unconsumed byte in buf */
    size_t end;                     /* one past the last byte read into buf */
    uint64_t base;                  /* file offset of buf[0] */
    int eof;                        /* read(2) has returned 0 */
    int read_errno;                 /* errno of a failed read, 0 if none */
    pf_kind kind;                   /* format */
    int big_endian;                 /* file (pcap) or section (pcapng) is big-endian */
    int linktype;                   /* link type of the first interface, -1 if none */
    uint32_t snaplen;               /* pcap: snap length of the file header */
    size_t rec_hdr;                 /* pcap: record header size, 16 or 24 */
    pf_lenorder lenorder;           /* pcap: order of caplen and len */
    uint32_t frac_ns;               /* pcap: ns per unit of the fraction field */
    pf_iface *ifs;                  /* pcapng: interfaces of the current section */
    size_t n_ifs;                   /* pcapng: interfaces defined */
    size_t cap_ifs;                 /* pcapng: slots allocated in ifs */
    uint64_t last_ts;               /* timestamp of the last packet (for SPBs) */
    uint64_t skipped;               /* pcapng blocks skipped */
    uint64_t oversnap;              /* records longer than their snap length */
    int failed;                     /* an error was returned; errmsg holds it */
    char errmsg[256];               /* the error, one line */
};

static void
pf_copy_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

/* Record an error in f (sticky) and return -1. */
static int __attribute__((format(printf, 2, 3)))
pf_fail(pf_file *f, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(f->errmsg, sizeof f->errmsg, fmt, ap);
    va_end(ap);
    f->failed = 1;
    return -1;
}

/* File offset of the next unconsumed byte. */
static inline uint64_t
pf_pos(const pf_file *f)
{
    return f->base + f->start;
}

/* Bytes available at start. */
static inline size_t
pf_avail(const pf_file *f)
{
    return f->end - f->start;
}

/* pf_fill() when the n bytes are not all in the buffer yet. */
static int
pf_fill_more(pf_file *f, size_t n)
{
    if (f->read_errno)
        return -1;
    if (f->eof)
        return 0;
    if (f->cap - f->start < n || f->cap - f->end < PF_MIN_READ) {
        size_t keep = pf_avail(f);
        if (f->start > 0) {
            memmove(f->buf, f->buf + f->start, keep);
            f->base += f->start;
            f->start = 0;
            f->end = keep;
        }
    }
    if (f->cap < n) {
        size_t ncap = f->cap;
        uint8_t *nbuf;
        while (ncap < n)
            ncap *= 2;
        if (ncap > PF_BUF_MAX)
            ncap = PF_BUF_MAX;
        nbuf = realloc(f->buf, ncap);
        if (!nbuf) {
            f->read_errno = ENOMEM;
            return -1;
        }
        f->buf = nbuf;
        f->cap = ncap;
    }
    while (pf_avail(f) < n) {
        ssize_t got = read(f->fd, f->buf + f->end, f->cap - f->end);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            f->read_errno = errno;
            return -1;
        }
        if (got == 0) {
            f->eof = 1;
            return 0;
        }
        f->end += (size_t)got;
    }
    return 1;
}

/*
 * Make n bytes (n <= PF_BUF_MAX) available at buf + start.  Returns 1 if
 * they are, 0 if the file ended first (pf_avail() says how many there
 * are), -1 on a read or allocation error (f->read_errno).  Inline for the
 * usual case of a record already in the buffer.
 */
static inline int
pf_fill(pf_file *f, size_t n)
{
    if (pf_avail(f) >= n)
        return 1;
    return pf_fill_more(f, n);
}

static int
pf_read_error(pf_file *f)
{
    return pf_fail(f, "read error at byte %" PRIu64 ": %s", pf_pos(f),
                   strerror(f->read_errno));
}

/* Byte-order-aware getters for the file or section being read. */
static inline RD_MUST int
pf_u16(const pf_file *f, rd_t *r, uint16_t *v)
{
    return f->big_endian ? rd_be16(r, v) : rd_le16(r, v);
}

static inline RD_MUST int
pf_u32(const pf_file *f, rd_t *r, uint32_t *v)
{
    return f->big_endian ? rd_be32(r, v) : rd_le32(r, v);
}

static inline RD_MUST int
pf_u64(const pf_file *f, rd_t *r, uint64_t *v)
{
    uint32_t a, b;

    if (rd_left(r) < 8 || !pf_u32(f, r, &a) || !pf_u32(f, r, &b))
        return 0;
    *v = f->big_endian ? ((uint64_t)a << 32 | b) : ((uint64_t)b << 32 | a);
    return 1;
}

/*
 * Convert t timestamp units (units per second) to ns.  Exact for every
 * power of ten; for powers of two above 2^34 the fraction is truncated to
 * 34 bits first, still well below a nanosecond.
 */
static uint64_t
pf_units_to_ns(uint64_t t, uint64_t units)
{
    uint64_t sec = t / units, frac = t % units, ns;

    if (units <= PF_NS) {
        if (PF_NS % units == 0)
            ns = frac * (PF_NS / units);
        else
            ns = frac * PF_NS / units;  /* frac < 2^30: fits */
    } else if (units % PF_NS == 0) {
        ns = frac / (units / PF_NS);
    } else {
        unsigned sh = 0;
        while ((units >> sh) > (UINT64_C(1) << 34))
            sh++;
        ns = (frac >> sh) * PF_NS / (units >> sh);
    }
    return sec * PF_NS + ns;
}

/* ------------------------------------------------------------------ */
/* classic pcap                                                        */

/* Parse the 24-byte pcap file header; magic already identified. */
static int
pf_pcap_open(pf_file *f, uint32_t magic)
{
    uint16_t major, minor;
    uint32_t m, zone, sigfigs, snaplen, network;
    rd_t r;

    if (pf_fill(f, 24) < 0)
        return pf_read_error(f);
    if (pf_avail(f) < 24)
        return pf_fail(f, "truncated file header (%zu of 24 bytes)", pf_avail(f));
    r = rd_make(f->buf + f->start, 24);
    if (!pf_u32(f, &r, &m) || !pf_u16(f, &r, &major) || !pf_u16(f, &r, &minor) ||
        !pf_u32(f, &r, &zone) || !pf_u32(f, &r, &sigfigs) ||
        !pf_u32(f, &r, &snaplen) || !pf_u32(f, &r, &network))
        return pf_fail(f, "truncated file header");
    (void)zone;
    (void)sigfigs;
    if (major < 2)
        return pf_fail(f, "unsupported pcap version %u.%u", major, minor);
    if (major == 543 || (major == 2 && minor < 3))
        f->lenorder = PF_LEN_SWAPPED;
    else if (major == 2 && minor == 3)
        f->lenorder = PF_LEN_MAYBE;
    else
        f->lenorder = PF_LEN_NORMAL;
    f->kind = magic == PF_MAGIC_NS ? PF_KIND_PCAP_NS : PF_KIND_PCAP;
    f->frac_ns = magic == PF_MAGIC_NS ? 1 : 1000;
    f->rec_hdr = magic == PF_MAGIC_KUZ ? 24 : 16;
    f->snaplen = snaplen;
    /* The top 4 bits carry FCS information; the link type is the low 16. */
    f->linktype = (int)((network & 0x0FFFFFFFu) & 0xFFFFu);
    f->start += 24;
    return 0;
}

static int
pf_pcap_next(pf_file *f, pf_packet *pkt)
{
    uint64_t at = pf_pos(f);
    size_t hl = f->rec_hdr, left;
    uint32_t sec, frac, caplen, len, tmp;
    rd_t r;
    int rc;

    rc = pf_fill(f, hl);
    if (rc < 0)
        return pf_read_error(f);
    if (rc == 0) {
        if (pf_avail(f) == 0)
            return 0;
        return pf_fail(f, "truncated record header at byte %" PRIu64
                       " (%zu of %zu bytes)", at, pf_avail(f), hl);
    }
    r = rd_make(f->buf + f->start, hl);
    if (!pf_u32(f, &r, &sec) || !pf_u32(f, &r, &frac) ||
        !pf_u32(f, &r, &caplen) || !pf_u32(f, &r, &len))
        return pf_fail(f, "truncated record header at byte %" PRIu64, at);
    if (f->lenorder == PF_LEN_SWAPPED ||
        (f->lenorder == PF_LEN_MAYBE && caplen > len)) {
        tmp = caplen;
        caplen = len;
        len = tmp;
    }
    if (caplen > PF_MAX_CAPLEN)
        return pf_fail(f, "record too large at byte %" PRIu64
                       " (caplen %" PRIu32 " > %u)", at, caplen, PF_MAX_CAPLEN);
    rc = pf_fill(f, hl + caplen);
    if (rc < 0)
        return pf_read_error(f);
    if (rc == 0) {
        left = pf_avail(f) - hl;
        return pf_fail(f, "truncated packet record at byte %" PRIu64
                       " (header says %" PRIu32 " bytes, %zu left)", at, caplen, left);
    }
    if (f->snaplen != 0 && caplen > f->snaplen)
        f->oversnap++;
    pkt->ts_ns = (uint64_t)sec * PF_NS + (uint64_t)frac * f->frac_ns;
    pkt->caplen = caplen;
    pkt->len = len;
    pkt->linktype = f->linktype;
    pkt->data = f->buf + f->start + hl;
    f->last_ts = pkt->ts_ns;
    f->start += hl + caplen;
    return 1;
}

/* ------------------------------------------------------------------ */
/* pcapng                                                              */

/* Name of a block type for messages (buf used for unknown types). */
static const char *
pf_block_name(uint32_t type, char *buf, size_t len)
{
    switch (type) {
    case PF_BT_SHB: return "Section Header Block";
    case PF_BT_IDB: return "Interface Description Block";
    case PF_BT_PB: return "Packet Block";
    case PF_BT_SPB: return "Simple Packet Block";
    case PF_BT_NRB: return "Name Resolution Block";
    case PF_BT_ISB: return "Interface Statistics Block";
    case PF_BT_EPB: return "Enhanced Packet Block";
    case PF_BT_DSB: return "Decryption Secrets Block";
    default:
        snprintf(buf, len, "block of type 0x%08" PRIx32, type);
        return buf;
    }
}

/* Smallest valid total length of a block of this type. */
static uint32_t
pf_block_min(uint32_t type)
{
    switch (type) {
    case PF_BT_SHB: return 28;      /* 12 + BOM, version, section length */
    case PF_BT_IDB: return 20;      /* 12 + link type, reserved, snaplen */
    case PF_BT_PB: return 32;       /* 12 + 20 bytes of fixed fields */
    case PF_BT_EPB: return 32;
    case PF_BT_SPB: return 16;      /* 12 + original length */
    default: return 12;
    }
}

/* Body of a Section Header Block: check it, start a new section. */
static int
pf_ng_shb(pf_file *f, rd_t *body, uint64_t at)
{
    uint32_t bom;
    uint16_t major, minor;

    if (!pf_u32(f, body, &bom) || !pf_u16(f, body, &major) ||
        !pf_u16(f, body, &minor))
        return pf_fail(f, "Section Header Block at byte %" PRIu64 " too short", at);
    if (major != 1)
        return pf_fail(f, "unsupported pcapng version %u.%u in Section Header Block"
                       " at byte %" PRIu64, major, minor, at);
    f->n_ifs = 0;
    return 0;
}

/* Body of an Interface Description Block: add an interface. */
static int
pf_ng_idb(pf_file *f, rd_t *body, uint64_t at)
{
    uint16_t linktype, reserved, code, olen;
    uint32_t snaplen;
    uint64_t units = 1000000, offset_ns = 0;
    pf_iface *ifc;
    rd_t val;

    if (!pf_u16(f, body, &linktype) || !pf_u16(f, body, &reserved) ||
        !pf_u32(f, body, &snaplen))
        return pf_fail(f, "Interface Description Block at byte %" PRIu64 " too short", at);
    (void)reserved;
    while (rd_left(body) >= 4) {
        if (!pf_u16(f, body, &code) || !pf_u16(f, body, &olen))
            break;
        if (code == PF_OPT_END)
            break;
        if (!rd_sub(body, olen, &val))
            return pf_fail(f, "option %u of Interface Description Block at byte %" PRIu64
                           " overruns the block (length %u, %zu left)",
                           code, at, olen, rd_left(body));
        if (olen % 4 && !rd_skip(body, 4 - olen % 4))
            break;                  /* padding missing at the very end: harmless */
        if (code == PF_OPT_TSRESOL && olen >= 1) {
            uint8_t v;
            if (!rd_u8(&val, &v))
                continue;
            if (v & 0x80) {
                if ((v & 0x7f) > 63)
                    return pf_fail(f, "unsupported if_tsresol 0x%02x in Interface"
                                   " Description Block at byte %" PRIu64, v, at);
                units = UINT64_C(1) << (v & 0x7f);
            } else {
                if (v > 19)
                    return pf_fail(f, "unsupported if_tsresol 0x%02x in Interface"
                                   " Description Block at byte %" PRIu64, v, at);
                units = 1;
                while (v--)
                    units *= 10;
            }
        } else if (code == PF_OPT_TSOFFSET && olen == 8) {
            uint64_t s;
            if (pf_u64(f, &val, &s))
                offset_ns = s * PF_NS;  /* wraps: two's complement of a signed value */
        }
    }
    if (f->n_ifs >= PF_MAX_IFACES)
        return pf_fail(f, "too many interfaces in section (limit %u) at byte %" PRIu64,
                       PF_MAX_IFACES, at);
    if (f->n_ifs == f->cap_ifs) {
        size_t ncap = f->cap_ifs ? f->cap_ifs * 2 : 8;
        pf_iface *n = realloc(f->ifs, ncap * sizeof *n);
        if (!n)
            return pf_fail(f, "out of memory at byte %" PRIu64, at);
        f->ifs = n;
        f->cap_ifs = ncap;
    }
    ifc = &f->ifs[f->n_ifs++];
    ifc->linktype = linktype;
    ifc->snaplen = snaplen;
    ifc->units = units;
    ifc->offset_ns = offset_ns;
    if (f->linktype < 0)
        f->linktype = linktype;
    return 0;
}

/* Body of an EPB or obsolete PB: fill *pkt. */
static int
pf_ng_epb(pf_file *f, rd_t *body, uint64_t at, uint32_t type, pf_packet *pkt)
{
    const char *name = type == PF_BT_EPB ? "Enhanced Packet Block" : "Packet Block";
    uint32_t ifid, hi, lo, caplen, len;
    uint16_t ifid16, drops;
    const pf_iface *ifc;
    int ok;

    if (type == PF_BT_EPB) {
        ok = pf_u32(f, body, &ifid);
    } else {
        ok = pf_u16(f, body, &ifid16) && pf_u16(f, body, &drops);
        ifid = ifid16;
        (void)drops;
    }
    if (!ok || !pf_u32(f, body, &hi) || !pf_u32(f, body, &lo) ||
        !pf_u32(f, body, &caplen) || !pf_u32(f, body, &len))
        return pf_fail(f, "%s at byte %" PRIu64 " too short", name, at);
    if (ifid >= f->n_ifs)
        return pf_fail(f, "%s at byte %" PRIu64 " refers to interface %" PRIu32
                       ", but the section defines %zu", name, at, ifid, f->n_ifs);
    if (caplen > rd_left(body))
        return pf_fail(f, "%s at byte %" PRIu64 ": captured length %" PRIu32
                       " exceeds the block (%zu bytes of data)", name, at, caplen,
                       rd_left(body));
    ifc = &f->ifs[ifid];
    if (ifc->snaplen != 0 && caplen > ifc->snaplen)
        f->oversnap++;
    pkt->ts_ns = pf_units_to_ns((uint64_t)hi << 32 | lo, ifc->units) + ifc->offset_ns;
    pkt->caplen = caplen;
    pkt->len = len;
    pkt->linktype = ifc->linktype;
    pkt->data = rd_ptr(body);
    f->last_ts = pkt->ts_ns;
    return 1;
}

/* Body of a Simple Packet Block: interface 0, no timestamp of its own. */
static int
pf_ng_spb(pf_file *f, rd_t *body, uint64_t at, pf_packet *pkt)
{
    uint32_t len, caplen;
    const pf_iface *ifc;

    if (!pf_u32(f, body, &len))
        return pf_fail(f, "Simple Packet Block at byte %" PRIu64 " too short", at);
    if (f->n_ifs == 0)
        return pf_fail(f, "Simple Packet Block at byte %" PRIu64
                       " before any Interface Description Block", at);
    ifc = &f->ifs[0];
    caplen = len;
    if (ifc->snaplen != 0 && caplen > ifc->snaplen)
        caplen = ifc->snaplen;
    if (caplen > rd_left(body))
        return pf_fail(f, "Simple Packet Block at byte %" PRIu64 ": captured length %"
                       PRIu32 " exceeds the block (%zu bytes of data)", at, caplen,
                       rd_left(body));
    pkt->ts_ns = f->last_ts;
    pkt->caplen = caplen;
    pkt->len = len;
    pkt->linktype = ifc->linktype;
    pkt->data = rd_ptr(body);
    return 1;
}

/*
 * Read and process one pcapng block.  Returns 1 if it was a packet (*pkt
 * filled), 2 for any other block, 0 at a clean end of file, -1 on error.
 */
static int
pf_ng_block(pf_file *f, pf_packet *pkt)
{
    uint64_t at = pf_pos(f);
    uint32_t type, len, trailer, bom;
    char nbuf[48];
    const char *name;
    rd_t r, body;
    int rc;

    rc = pf_fill(f, 8);
    if (rc < 0)
        return pf_read_error(f);
    if (rc == 0) {
        if (pf_avail(f) == 0)
            return 0;
        if (at == 0)
            return pf_fail(f, "truncated file header (%zu of at least 28 bytes)", pf_avail(f));
        return pf_fail(f, "truncated block header at byte %" PRIu64 " (%zu of 8 bytes)",
                       at, pf_avail(f));
    }
    r = rd_make(f->buf + f->start, pf_avail(f));
    if (!pf_u32(f, &r, &type))
        return pf_fail(f, "truncated block header at byte %" PRIu64, at);
    if (type == PF_BT_SHB) {
        /* The byte-order magic decides how to read the length. */
        rc = pf_fill(f, 12);
        if (rc < 0)
            return pf_read_error(f);
        if (rc == 0) {
            if (at == 0)
                return pf_fail(f, "truncated file header (%zu of at least 28 bytes)",
                               pf_avail(f));
            return pf_fail(f, "truncated Section Header Block at byte %" PRIu64
                           " (%zu of at least 28 bytes)", at, pf_avail(f));
        }
        r = rd_make(f->buf + f->start + 8, 4);
        if (!rd_le32(&r, &bom))
            return pf_fail(f, "truncated Section Header Block at byte %" PRIu64, at);
        if (bom == PF_BOM)
            f->big_endian = 0;
        else if (bom == 0x4D3C2B1Au)
            f->big_endian = 1;
        else
            return pf_fail(f, "bad byte-order magic 0x%08" PRIx32 " in Section Header"
                           " Block at byte %" PRIu64, bom, at);
    }
    r = rd_make(f->buf + f->start + 4, 4);
    if (!pf_u32(f, &r, &len))
        return pf_fail(f, "truncated block header at byte %" PRIu64, at);
    name = pf_block_name(type, nbuf, sizeof nbuf);
    if (len % 4 != 0)
        return pf_fail(f, "%s at byte %" PRIu64 ": block length %" PRIu32
                       " is not a multiple of 4", name, at, len);
    if (len < pf_block_min(type))
        return pf_fail(f, "%s at byte %" PRIu64 ": block length %" PRIu32
                       " is less than the minimum %" PRIu32, name, at, len,
                       pf_block_min(type));
    if (len > PF_MAX_BLOCK)
        return pf_fail(f, "record too large: %s at byte %" PRIu64 " has length %"
                       PRIu32 " (limit %u)", name, at, len, PF_MAX_BLOCK);
    rc = pf_fill(f, len);
    if (rc < 0)
        return pf_read_error(f);
    if (rc == 0) {
        if (at == 0)
            return pf_fail(f, "truncated file header (Section Header Block says %" PRIu32
                           " bytes, %zu present)", len, pf_avail(f));
        return pf_fail(f, "truncated %s at byte %" PRIu64 " (header says %" PRIu32
                       " bytes, %zu left)", name, at, len, pf_avail(f));
    }
    r = rd_make(f->buf + f->start + len - 4, 4);
    if (!pf_u32(f, &r, &trailer))
        return pf_fail(f, "truncated %s at byte %" PRIu64, name, at);
    if (trailer != len)
        return pf_fail(f, "%s at byte %" PRIu64 ": trailing length %" PRIu32
                       " does not match leading length %" PRIu32, name, at, trailer, len);
    body = rd_make(f->buf + f->start + 8, len - 12);
    switch (type) {
    case PF_BT_SHB:
        rc = pf_ng_shb(f, &body, at);
        break;
    case PF_BT_IDB:
        rc = pf_ng_idb(f, &body, at);
        break;
    case PF_BT_EPB:
    case PF_BT_PB:
        rc = pf_ng_epb(f, &body, at, type, pkt);
        break;
    case PF_BT_SPB:
        rc = pf_ng_spb(f, &body, at, pkt);
        break;
    default:
        f->skipped++;
        rc = 0;
        break;
    }
    if (rc < 0)
        return -1;
    f->start += len;
    return rc == 1 ? 1 : 2;
}

/*
 * Read the first Section Header Block, then any blocks up to the first
 * IDB, stopping before a packet block, so pf_linktype() is known.
 */
static int
pf_ng_open(pf_file *f)
{
    pf_packet dummy;
    uint32_t type;
    rd_t r;
    int rc;

    f->kind = PF_KIND_PCAPNG;
    if (pf_ng_block(f, &dummy) < 0)
        return -1;
    while (f->linktype < 0) {
        rc = pf_fill(f, 8);
        if (rc <= 0)
            break;                  /* end of file or error: pf_next() reports it */
        r = rd_make(f->buf + f->start, 4);
        if (!pf_u32(f, &r, &type))
            break;
        if (type == PF_BT_EPB || type == PF_BT_SPB || type == PF_BT_PB)
            break;
        rc = pf_ng_block(f, &dummy);
        if (rc < 0)
            return -1;
        if (rc == 0)
            break;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* public API                                                          */

pf_file *
pf_open(const char *path, char *err, size_t errlen)
{
    pf_file *f;
    struct stat st;
    uint32_t le, be;
    rd_t r;
    int rc;

    f = calloc(1, sizeof *f);
    if (!f) {
        pf_copy_err(err, errlen, strerror(ENOMEM));
        return NULL;
    }
    f->fd = -1;
    f->linktype = -1;
    f->size = -1;
    if (strcmp(path, "-") == 0) {
        f->fd = STDIN_FILENO;
    } else {
        f->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (f->fd < 0) {
            pf_fail(f, "%s", strerror(errno));
            goto err;
        }
        f->own_fd = 1;
    }
    if (fstat(f->fd, &st) == 0 && S_ISREG(st.st_mode)) {
        f->size = (int64_t)st.st_size;
#ifdef POSIX_FADV_SEQUENTIAL
        (void)posix_fadvise(f->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    }
    f->buf = malloc(PF_BUF_INIT);
    if (!f->buf) {
        pf_fail(f, "%s", strerror(ENOMEM));
        goto err;
    }
    f->cap = PF_BUF_INIT;

    rc = pf_fill(f, 4);
    if (rc < 0) {
        pf_fail(f, "%s", strerror(f->read_errno));
        goto err;
    }
    if (rc == 0) {
        if (pf_avail(f) == 0)
            pf_fail(f, "empty file");
        else
            pf_fail(f, "not a pcap or pcapng file (only %zu bytes)", pf_avail(f));
        goto err;
    }
    r = rd_make(f->buf, 4);
    if (!rd_le32(&r, &le))
        goto err;
    r = rd_make(f->buf, 4);
    if (!rd_be32(&r, &be))
        goto err;
    if (be == PF_BT_SHB) {
        if (pf_ng_open(f) < 0)
            goto err;
    } else if (be == PF_MAGIC_US || be == PF_MAGIC_NS || be == PF_MAGIC_KUZ) {
        f->big_endian = 1;
        if (pf_pcap_open(f, be) < 0)
            goto err;
    } else if (le == PF_MAGIC_US || le == PF_MAGIC_NS || le == PF_MAGIC_KUZ) {
        f->big_endian = 0;
        if (pf_pcap_open(f, le) < 0)
            goto err;
    } else {
        pf_fail(f, "not a pcap or pcapng file (magic 0x%08" PRIx32 ")", be);
        goto err;
    }
    f->failed = 0;
    return f;

err:
    pf_copy_err(err, errlen, f->errmsg[0] ? f->errmsg : "cannot open");
    pf_close(f);
    return NULL;
}

int
pf_next(pf_file *f, pf_packet *pkt, char *err, size_t errlen)
{
    int rc;

    if (!f->failed) {
        if (f->kind == PF_KIND_PCAPNG) {
            do
                rc = pf_ng_block(f, pkt);
            while (rc == 2);
        } else {
            rc = pf_pcap_next(f, pkt);
        }
        if (rc >= 0)
            return rc;
    }
    pf_copy_err(err, errlen, f->errmsg);
    return -1;
}

uint64_t
pf_offset(const pf_file *f)
{
    return pf_pos(f);
}

int64_t
pf_size(const pf_file *f)
{
    return f->size;
}

const char *
pf_format(const pf_file *f)
{
    switch (f->kind) {
    case PF_KIND_PCAP_NS: return "pcap-ns";
    case PF_KIND_PCAPNG: return "pcapng";
    case PF_KIND_PCAP: break;
    }
    return "pcap";
}

int
pf_linktype(const pf_file *f)
{
    return f->linktype;
}

uint64_t
pf_skipped_blocks(const pf_file *f)
{
    return f->skipped;
}

uint64_t
pf_oversnap_records(const pf_file *f)
{
    return f->oversnap;
}

void
pf_close(pf_file *f)
{
    if (!f)
        return;
    if (f->own_fd && f->fd >= 0)
        close(f->fd);
    free(f->buf);
    free(f->ifs);
    free(f);
}
