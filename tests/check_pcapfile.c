/*
 * check_pcapfile.c - unit tests for capture/pcapfile.c.
 *
 * Each test builds a small capture in a temporary file, either from a
 * literal byte array or with the little builder below (which writes
 * integers in the byte order asked for and frames pcapng blocks), opens
 * it with pf_open() and checks every packet, or checks that a malformed
 * file fails with the expected message.  The shared runner calls
 * suite_pcapfile().
 */
#define _POSIX_C_SOURCE 200809L

#include "capture/pcapfile.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* A growable byte buffer that writes integers in a chosen byte order. */
typedef struct bb {
    uint8_t *p;     /* bytes */
    size_t n;       /* bytes used */
    size_t cap;     /* bytes allocated */
    int be;         /* write big-endian */
} bb;

static void
bb_bytes(bb *b, const void *src, size_t n)
{
    if (b->n + n > b->cap) {
        size_t ncap = b->cap ? b->cap : 256;
        while (ncap < b->n + n)
            ncap *= 2;
        b->p = realloc(b->p, ncap);
        ck_assert_ptr_nonnull(b->p);
        b->cap = ncap;
    }
    if (src)
        memcpy(b->p + b->n, src, n);
    else
        memset(b->p + b->n, 0, n);
    b->n += n;
}

static void
bb_u8(bb *b, uint8_t v)
{
    bb_bytes(b, &v, 1);
}

static void
bb_u16(bb *b, uint16_t v)
{
    uint8_t x[2];

    if (b->be) { x[0] = (uint8_t)(v >> 8); x[1] = (uint8_t)v; }
    else { x[0] = (uint8_t)v; x[1] = (uint8_t)(v >> 8); }
    bb_bytes(b, x, 2);
}

static void
bb_put32(bb *b, size_t at, uint32_t v)
{
    uint8_t *x = b->p + at;

    if (b->be) {
        x[0] = (uint8_t)(v >> 24); x[1] = (uint8_t)(v >> 16);
        x[2] = (uint8_t)(v >> 8); x[3] = (uint8_t)v;
    } else {
        x[0] = (uint8_t)v; x[1] = (uint8_t)(v >> 8);
        x[2] = (uint8_t)(v >> 16); x[3] = (uint8_t)(v >> 24);
    }
}

static void
bb_u32(bb *b, uint32_t v)
{
    bb_bytes(b, NULL, 4);
    bb_put32(b, b->n - 4, v);
}

static void
bb_free(bb *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* pcap file header. */
static void
bb_pcap_hdr(bb *b, uint32_t magic, uint16_t major, uint16_t minor,
            uint32_t snaplen, uint32_t network)
{
    bb_u32(b, magic);
    bb_u16(b, major);
    bb_u16(b, minor);
    bb_u32(b, 0);
    bb_u32(b, 0);
    bb_u32(b, snaplen);
    bb_u32(b, network);
}

/* pcap record whose data is caplen bytes of fill. */
static void
bb_pcap_rec(bb *b, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t len,
            uint8_t fill)
{
    bb_u32(b, sec);
    bb_u32(b, frac);
    bb_u32(b, caplen);
    bb_u32(b, len);
    for (uint32_t i = 0; i < caplen; i++)
        bb_u8(b, fill);
}

/* Start a pcapng block; returns its offset for bb_block_end(). */
static size_t
bb_block_begin(bb *b, uint32_t type)
{
    size_t at = b->n;

    bb_u32(b, type);
    bb_u32(b, 0);
    return at;
}

/* Pad to 4, append the trailer and patch the leading length. */
static void
bb_block_end(bb *b, size_t at)
{
    while (b->n % 4)
        bb_u8(b, 0);
    bb_u32(b, (uint32_t)(b->n - at + 4));
    bb_put32(b, at + 4, (uint32_t)(b->n - at));
}

static void
bb_shb(bb *b)
{
    size_t at = bb_block_begin(b, 0x0A0D0D0A);

    bb_u32(b, 0x1A2B3C4D);
    bb_u16(b, 1);
    bb_u16(b, 0);
    bb_u32(b, 0xFFFFFFFF);
    bb_u32(b, 0xFFFFFFFF);
    bb_block_end(b, at);
}

/* IDB; tsresol < 0 means no if_tsresol option, tsoffset 0 none. */
static void
bb_idb(bb *b, uint16_t linktype, uint32_t snaplen, int tsresol, int64_t tsoffset)
{
    size_t at = bb_block_begin(b, 1);

    bb_u16(b, linktype);
    bb_u16(b, 0);
    bb_u32(b, snaplen);
    bb_u16(b, 2);                   /* if_name, to be skipped */
    bb_u16(b, 3);
    bb_bytes(b, "et0\0", 4);
    if (tsresol >= 0) {
        bb_u16(b, 9);
        bb_u16(b, 1);
        bb_u8(b, (uint8_t)tsresol);
        bb_bytes(b, NULL, 3);
    }
    if (tsoffset != 0) {
        uint64_t u = (uint64_t)tsoffset;
        bb_u16(b, 14);
        bb_u16(b, 8);
        if (b->be) { bb_u32(b, (uint32_t)(u >> 32)); bb_u32(b, (uint32_t)u); }
        else { bb_u32(b, (uint32_t)u); bb_u32(b, (uint32_t)(u >> 32)); }
    }
    bb_u16(b, 0);
    bb_u16(b, 0);
    bb_block_end(b, at);
}

static void
bb_epb(bb *b, uint32_t ifid, uint64_t ts, uint32_t caplen, uint32_t len, uint8_t fill)
{
    size_t at = bb_block_begin(b, 6);

    bb_u32(b, ifid);
    bb_u32(b, (uint32_t)(ts >> 32));
    bb_u32(b, (uint32_t)ts);
    bb_u32(b, caplen);
    bb_u32(b, len);
    for (uint32_t i = 0; i < caplen; i++)
        bb_u8(b, fill);
    bb_block_end(b, at);
}

/* A temporary file holding n bytes; returns its malloc'd path. */
static char *
write_tmp(const void *p, size_t n)
{
    const char *dir = getenv("TMPDIR");
    char *path;
    FILE *fp;
    int fd;

    if (!dir || !*dir)
        dir = "/tmp";
    path = malloc(strlen(dir) + 32);
    ck_assert_ptr_nonnull(path);
    sprintf(path, "%s/pf_testXXXXXX", dir);
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    fp = fdopen(fd, "wb");
    ck_assert_ptr_nonnull(fp);
    if (n)
        ck_assert_uint_eq(fwrite(p, 1, n, fp), n);
    ck_assert_int_eq(fclose(fp), 0);
    return path;
}

static pf_file *
open_bytes(const void *p, size_t n, char **path, char *err, size_t errlen)
{
    *path = write_tmp(p, n);
    return pf_open(*path, err, errlen);
}

static void
drop_tmp(char *path)
{
    unlink(path);
    free(path);
}

/* pf_open() on these bytes must fail with a message containing want. */
static void
expect_open_fail(const void *p, size_t n, const char *want)
{
    char err[256] = "", *path;
    pf_file *f = open_bytes(p, n, &path, err, sizeof err);

    ck_assert_msg(f == NULL, "pf_open succeeded, expected \"%s\"", want);
    ck_assert_msg(strstr(err, want) != NULL, "error \"%s\" lacks \"%s\"", err, want);
    ck_assert_ptr_null(strchr(err, '\n'));
    drop_tmp(path);
}

/* The file opens, gives npkts packets, then fails with want (twice). */
static void
expect_next_fail(const void *p, size_t n, int npkts, const char *want)
{
    char err[256] = "", *path;
    pf_file *f = open_bytes(p, n, &path, err, sizeof err);
    pf_packet pkt;

    ck_assert_msg(f != NULL, "pf_open failed: %s", err);
    for (int i = 0; i < npkts; i++)
        ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 1);
    ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), -1);
    ck_assert_msg(strstr(err, want) != NULL, "error \"%s\" lacks \"%s\"", err, want);
    err[0] = 0;
    ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), -1);
    ck_assert_msg(strstr(err, want) != NULL, "second error \"%s\" lacks \"%s\"", err, want);
    pf_close(f);
    drop_tmp(path);
}

/* Little-endian microsecond pcap, two Ethernet packets, as raw bytes. */
static const uint8_t pcap_le_us[] = {
    0xd4, 0xc3, 0xb2, 0xa1, 0x02, 0x00, 0x04, 0x00,     /* magic, 2.4 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,     /* zone, sigfigs */
    0xff, 0xff, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,     /* snaplen 65535, EN10MB */
    0x10, 0x00, 0x00, 0x00, 0x40, 0x42, 0x0f, 0x00,     /* 16 s, 1000000 us (kept) */
    0x04, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x00,     /* caplen 4, len 60 */
    0xde, 0xad, 0xbe, 0xef,
    0x11, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,     /* 17 s, 1 us */
    0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
    0xca, 0xfe,
};

START_TEST(test_pcap_us_le)
{
    char err[256], *path;
    pf_file *f = open_bytes(pcap_le_us, sizeof pcap_le_us, &path, err, sizeof err);
    pf_packet pkt;

    ck_assert_msg(f != NULL, "%s", err);
    ck_assert_str_eq(pf_format(f), "pcap");
    ck_assert_int_eq(pf_linktype(f), 1);
    ck_assert_int_eq(pf_size(f), (int64_t)sizeof pcap_le_us);
    ck_assert_uint_eq(pf_offset(f), 24);
    ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 1);
    ck_assert_uint_eq(pkt.ts_ns, UINT64_C(16) * 1000000000 + UINT64_C(1000000) * 1000);
    ck_assert_uint_eq(pkt.caplen, 4);
    ck_assert_uint_eq(pkt.len, 60);
    ck_assert_int_eq(pkt.linktype, 1);
    ck_assert_mem_eq(pkt.data, "\xde\xad\xbe\xef", 4);
    ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 1);
    ck_assert_uint_eq(pkt.ts_ns, UINT64_C(17000001000));
    ck_assert_mem_eq(pkt.data, "\xca\xfe", 2);
    ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 0);
    ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 0);
    ck_assert_uint_eq(pf_offset(f), sizeof pcap_le_us);
    ck_assert_uint_eq(pf_skipped_blocks(f), 0);
    pf_close(f);
    drop_tmp(path);
}
END_TEST

/* µs and ns pcap in both byte orders. */
START_TEST(test_pcap_variants)
{
    for (int be = 0; be < 2; be++) {
        for (int ns = 0; ns < 2; ns++) {
            bb b = { .be = be };
            char err[256], *path;
            pf_file *f;
            pf_packet pkt;

            bb_pcap_hdr(&b, ns ? 0xa1b23c4d : 0xa1b2c3d4, 2, 4, 96, 113);
            bb_pcap_rec(&b, 1600000000, 123456, 10, 1500, 0xaa);
            bb_pcap_rec(&b, 1600000001, 7, 3, 3, 0xbb);
            f = open_bytes(b.p, b.n, &path, err, sizeof err);
            ck_assert_msg(f != NULL, "%s", err);
            ck_assert_str_eq(pf_format(f), ns ? "pcap-ns" : "pcap");
            ck_assert_int_eq(pf_linktype(f), 113);
            ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 1);
            ck_assert_uint_eq(pkt.ts_ns, UINT64_C(1600000000000000000) +
                              (ns ? 123456u : 123456000u));
            ck_assert_uint_eq(pkt.caplen, 10);
            ck_assert_uint_eq(pkt.len, 1500);
            ck_assert_int_eq(pkt.linktype, 113);
            ck_assert_uint_eq(pkt.data[9], 0xaa);
            ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 1);
            ck_assert_uint_eq(pkt.ts_ns, UINT64_C(1600000001000000000) + (ns ? 7u : 7000u));
            ck_assert_uint_eq(pkt.data[0], 0xbb);
            ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 0);
            ck_assert_uint_eq(pf_oversnap_records(f), 0);
            pf_close(f);
            drop_tmp(path);
            bb_free(&b);
        }
    }
}
END_TEST

/* FCS bits in the link-type word; caplen > len; caplen > snaplen. */
START_TEST(test_pcap_fcs_oversnap)
{
    bb b = { 0 };
    char err[256], *path;
    pf_file *f;
    pf_packet pkt;

    bb_pcap_hdr(&b, 0xa1b2c3d4, 2, 4, 64, 0x24000001);
    bb_pcap_rec(&b, 1, 0, 8, 4, 1);         /* caplen > len: accepted */
    bb_pcap_rec(&b, 2, 0, 100, 100, 2);     /* caplen > snaplen 64: counted */
    f = open_bytes(b.p, b.n, &path, err, sizeof err);
    ck_assert_msg(f != NULL, "%s", err);
    ck_assert_int_eq(pf_linktype(f), 1);
    ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 1);
    ck_assert_uint_eq(pkt.caplen, 8);
    ck_assert_uint_eq(pkt.len, 4);
    ck_assert_int_eq(pkt.linktype, 1);
    ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 1);
    ck_assert_uint_eq(pkt.caplen, 100);
    ck_assert_uint_eq(pf_oversnap_records(f), 1);
    ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 0);
    pf_close(f);
    drop_tmp(path);
    bb_free(&b);
}
END_TEST

/* Before version 2.3 the two length fields are the other way round. */
START_TEST(test_pcap_old_version)
{
    bb b = { 0 };
    char err[256], *path;
    pf_file *f;
    pf_packet pkt;

    bb_pcap_hdr(&b, 0xa1b2c3d4, 2, 0, 0, 0);
    bb_u32(&b, 5); bb_u32(&b, 0);
    bb_u32(&b, 9000); bb_u32(&b, 3);        /* len 9000, caplen 3 */
    bb_bytes(&b, "abc", 3);
    f = open_bytes(b.p, b.n, &path, err, sizeof err);
    ck_assert_msg(f != NULL, "%s", err);
    ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 1);
    ck_assert_uint_eq(pkt.caplen, 3);
    ck_assert_uint_eq(pkt.len, 9000);
    ck_assert_mem_eq(pkt.data, "abc", 3);
    ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 0);
    pf_close(f);
    drop_tmp(path);
    bb_free(&b);
}
END_TEST

/* Kuznetzov's modified pcap: 8 more bytes in each record header. */
START_TEST(test_pcap_kuznetzov)
{
    bb b = { .be = 1 };
    char err[256], *path;
    pf_file *f;
    pf_packet pkt;

    bb_pcap_hdr(&b, 0xa1b2cd34, 2, 4, 65535, 1);
    for (int i = 0; i < 2; i++) {
        bb_u32(&b, 100 + (uint32_t)i); bb_u32(&b, 0);
        bb_u32(&b, 2); bb_u32(&b, 2);
        bb_u32(&b, 3); bb_u16(&b, 0x0800); bb_u8(&b, 0); bb_u8(&b, 0);
        bb_bytes(&b, "xy", 2);
    }
    f = open_bytes(b.p, b.n, &path, err, sizeof err);
    ck_assert_msg(f != NULL, "%s", err);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 1);
        ck_assert_uint_eq(pkt.ts_ns, (100 + (uint64_t)i) * 1000000000u);
        ck_assert_mem_eq(pkt.data, "xy", 2);
    }
    ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 0);
    pf_close(f);
    drop_tmp(path);
    bb_free(&b);
}
END_TEST

/*
 * pcapng, both byte orders: two IDBs with different link types and
 * timestamp units, EPBs on both, an SPB, an obsolete PB, and an NRB, an
 * ISB and an unknown block that are skipped.
 */
START_TEST(test_pcapng_mixed)
{
    for (int be = 0; be < 2; be++) {
        bb b = { .be = be };
        char err[256], *path;
        pf_file *f;
        pf_packet pkt;
        size_t at;

        bb_shb(&b);
        at = bb_block_begin(&b, 4);         /* NRB before the IDBs */
        bb_u32(&b, 0);
        bb_block_end(&b, at);
        bb_idb(&b, 1, 0, -1, 0);            /* Ethernet, microseconds */
        bb_idb(&b, 101, 128, 9, 0);         /* raw IP, nanoseconds */
        bb_idb(&b, 113, 0, 0x80 | 10, -3);  /* SLL, 2^-10 s, offset -3 s */
        bb_epb(&b, 0, UINT64_C(1700000000123456), 5, 60, 0x11);
        at = bb_block_begin(&b, 0x12345678);    /* unknown */
        bb_u32(&b, 42);
        bb_block_end(&b, at);
        bb_epb(&b, 1, UINT64_C(1700000001987654321), 3, 3, 0x22);
        at = bb_block_begin(&b, 3);         /* SPB: interface 0 */
        bb_u32(&b, 7);
        bb_bytes(&b, "spbdata", 7);
        bb_block_end(&b, at);
        bb_epb(&b, 2, (UINT64_C(1700000010) << 10) | 512, 1, 1, 0x33);
        at = bb_block_begin(&b, 2);         /* obsolete PB on interface 1 */
        bb_u16(&b, 1); bb_u16(&b, 0);
        bb_u32(&b, 0); bb_u32(&b, 42);
        bb_u32(&b, 2); bb_u32(&b, 20);
        bb_bytes(&b, "pb", 2);
        bb_block_end(&b, at);
        at = bb_block_begin(&b, 5);         /* ISB */
        bb_u32(&b, 0); bb_u32(&b, 0); bb_u32(&b, 0);
        bb_block_end(&b, at);

        f = open_bytes(b.p, b.n, &path, err, sizeof err);
        ck_assert_msg(f != NULL, "%s", err);
        ck_assert_str_eq(pf_format(f), "pcapng");
        ck_assert_int_eq(pf_linktype(f), 1);
        ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 1);
        ck_assert_uint_eq(pkt.ts_ns, UINT64_C(1700000000123456000));
        ck_assert_int_eq(pkt.linktype, 1);
        ck_assert_uint_eq(pkt.caplen, 5);
        ck_assert_uint_eq(pkt.len, 60);
        ck_assert_uint_eq(pkt.data[4], 0x11);
        ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 1);
        ck_assert_uint_eq(pkt.ts_ns, UINT64_C(1700000001987654321));
        ck_assert_int_eq(pkt.linktype, 101);
        ck_assert_uint_eq(pkt.caplen, 3);
        ck_assert_uint_eq(pkt.data[2], 0x22);
        ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 1);   /* SPB */
        ck_assert_uint_eq(pkt.ts_ns, UINT64_C(1700000001987654321));
        ck_assert_int_eq(pkt.linktype, 1);
        ck_assert_uint_eq(pkt.caplen, 7);
        ck_assert_uint_eq(pkt.len, 7);
        ck_assert_mem_eq(pkt.data, "spbdata", 7);
        ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 1);
        ck_assert_uint_eq(pkt.ts_ns, UINT64_C(1700000007500000000));
        ck_assert_int_eq(pkt.linktype, 113);
        ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 1);   /* PB */
        ck_assert_uint_eq(pkt.ts_ns, 42);
        ck_assert_int_eq(pkt.linktype, 101);
        ck_assert_uint_eq(pkt.caplen, 2);
        ck_assert_uint_eq(pkt.len, 20);
        ck_assert_mem_eq(pkt.data, "pb", 2);
        ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 0);
        ck_assert_uint_eq(pf_skipped_blocks(f), 3);
        ck_assert_uint_eq(pf_offset(f), b.n);
        pf_close(f);
        drop_tmp(path);
        bb_free(&b);
    }
}
END_TEST

/* A new section (other byte order) forgets the old interfaces. */
START_TEST(test_pcapng_sections)
{
    bb b = { .be = 1 }, c = { .be = 0 };
    char err[256], *path;
    pf_file *f;
    pf_packet pkt;

    bb_shb(&b);
    bb_idb(&b, 1, 0, -1, 0);
    bb_idb(&b, 1, 0, -1, 0);
    bb_epb(&b, 1, 1000000, 1, 1, 1);
    bb_shb(&c);
    bb_idb(&c, 228, 0, 9, 0);
    bb_epb(&c, 0, 5, 1, 1, 2);
    bb_epb(&c, 1, 5, 1, 1, 3);              /* interface 1 is gone */
    bb_bytes(&b, c.p, c.n);
    f = open_bytes(b.p, b.n, &path, err, sizeof err);
    ck_assert_msg(f != NULL, "%s", err);
    ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 1);
    ck_assert_uint_eq(pkt.ts_ns, 1000000000);
    ck_assert_int_eq(pkt.linktype, 1);
    ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 1);
    ck_assert_uint_eq(pkt.ts_ns, 5);
    ck_assert_int_eq(pkt.linktype, 228);
    ck_assert_int_eq(pf_linktype(f), 1);
    ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "refers to interface 1"));
    pf_close(f);
    drop_tmp(path);
    bb_free(&b);
    bb_free(&c);
}
END_TEST

/* A 2 MiB packet makes the read buffer grow. */
START_TEST(test_pcapng_big_block)
{
    bb b = { 0 };
    char err[256], *path;
    pf_file *f;
    pf_packet pkt;
    uint32_t big = 2u << 20;

    bb_shb(&b);
    bb_idb(&b, 1, 0, -1, 0);
    bb_epb(&b, 0, 1, 10, 10, 9);
    bb_epb(&b, 0, 2, big, big, 7);
    bb_epb(&b, 0, 3, 10, 10, 8);
    f = open_bytes(b.p, b.n, &path, err, sizeof err);
    ck_assert_msg(f != NULL, "%s", err);
    ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 1);
    ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 1);
    ck_assert_uint_eq(pkt.caplen, big);
    ck_assert_uint_eq(pkt.data[0], 7);
    ck_assert_uint_eq(pkt.data[big - 1], 7);
    ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 1);
    ck_assert_uint_eq(pkt.data[9], 8);
    ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 0);
    pf_close(f);
    drop_tmp(path);
    bb_free(&b);
}
END_TEST

/* A pcap of several MiB: records straddle the 1 MiB buffer boundaries. */
static void
build_large(bb *b, int *npkts)
{
    uint32_t i, n = 0, sz;

    bb_pcap_hdr(b, 0xa1b2c3d4, 2, 4, 65535, 1);
    for (i = 0; b->n < (5u << 20); i++) {
        sz = (i * 7919u) % 1600u;
        bb_pcap_rec(b, i, i % 1000000u, sz, sz + 4, (uint8_t)i);
        n++;
    }
    *npkts = (int)n;
}

static void
check_large(pf_file *f, int npkts)
{
    char err[256];
    pf_packet pkt;
    uint32_t i;

    for (i = 0; i < (uint32_t)npkts; i++) {
        uint32_t sz = (i * 7919u) % 1600u;
        ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 1);
        ck_assert_uint_eq(pkt.caplen, sz);
        ck_assert_uint_eq(pkt.len, sz + 4);
        ck_assert_uint_eq(pkt.ts_ns, (uint64_t)i * 1000000000u + (i % 1000000u) * 1000u);
        if (sz) {
            ck_assert_uint_eq(pkt.data[0], (uint8_t)i);
            ck_assert_uint_eq(pkt.data[sz - 1], (uint8_t)i);
        }
    }
    ck_assert_int_eq(pf_next(f, &pkt, err, sizeof err), 0);
}

START_TEST(test_large_file)
{
    bb b = { 0 };
    char err[256], *path;
    pf_file *f;
    int n;

    build_large(&b, &n);
    f = open_bytes(b.p, b.n, &path, err, sizeof err);
    ck_assert_msg(f != NULL, "%s", err);
    check_large(f, n);
    ck_assert_uint_eq(pf_offset(f), b.n);
    pf_close(f);
    drop_tmp(path);
    bb_free(&b);
}
END_TEST

/* The same file through a pipe on standard input ("-"). */
START_TEST(test_stdin_pipe)
{
    bb b = { 0 };
    char err[256];
    pf_file *f;
    int n, fds[2], saved, status;
    pid_t pid;

    build_large(&b, &n);
    ck_assert_int_eq(pipe(fds), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        size_t off = 0;
        close(fds[0]);
        while (off < b.n) {     /* odd-sized writes so reads come up short */
            size_t chunk = b.n - off < 40000 ? b.n - off : 40000;
            ssize_t w = write(fds[1], b.p + off, chunk);
            if (w <= 0)
                _exit(1);
            off += (size_t)w;
        }
        _exit(0);
    }
    close(fds[1]);
    saved = dup(STDIN_FILENO);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(dup2(fds[0], STDIN_FILENO), 0);
    close(fds[0]);
    f = pf_open("-", err, sizeof err);
    ck_assert_msg(f != NULL, "%s", err);
    ck_assert_int_eq(pf_size(f), -1);
    check_large(f, n);
    ck_assert_uint_eq(pf_offset(f), b.n);
    pf_close(f);
    ck_assert_int_ge(dup2(saved, STDIN_FILENO), 0);
    close(saved);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    bb_free(&b);
}
END_TEST

/* ---- files that pf_open() must refuse ---- */

START_TEST(test_bad_open)
{
    static const uint8_t http[] = "GET / HTTP/1.1\r\n";
    static const uint8_t shb_short[] = { 0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0x00, 0x00, 0x00,
                                         0x4d, 0x3c, 0x2b, 0x1a, 0x01, 0x00 };
    static const uint8_t bad_bom[] = { 0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0x00, 0x00, 0x00,
                                       0x11, 0x22, 0x33, 0x44, 0x01, 0x00, 0x00, 0x00 };
    char err[256];

    expect_open_fail("", 0, "empty file");
    expect_open_fail(http, sizeof http - 1, "not a pcap or pcapng file (magic 0x47455420)");
    expect_open_fail("\xd4\xc3", 2, "not a pcap or pcapng file");
    expect_open_fail(pcap_le_us, 10, "truncated file header (10 of 24 bytes)");
    expect_open_fail(pcap_le_us, 4, "truncated file header");
    expect_open_fail(shb_short, sizeof shb_short, "truncated file header");
    expect_open_fail(shb_short, 6, "truncated file header");
    expect_open_fail(bad_bom, sizeof bad_bom, "byte-order magic 0x44332211");

    ck_assert_ptr_null(pf_open("/nonexistent/dir/x.pcap", err, sizeof err));
    ck_assert_str_eq(err, strerror(ENOENT));
    ck_assert_ptr_null(pf_open("/", err, sizeof err));
    ck_assert_str_eq(err, strerror(EISDIR));
}
END_TEST

START_TEST(test_bad_pcap_version)
{
    bb b = { 0 };

    bb_pcap_hdr(&b, 0xa1b2c3d4, 1, 0, 0, 1);
    expect_open_fail(b.p, b.n, "unsupported pcap version 1.0");
    bb_free(&b);
}
END_TEST

/* ---- files that open but break later ---- */

START_TEST(test_truncated_pcap)
{
    bb b = { 0 };

    /* record header cut short */
    expect_next_fail(pcap_le_us, sizeof pcap_le_us - 10, 1,
                     "truncated record header at byte 44 (8 of 16 bytes)");
    /* data cut short */
    expect_next_fail(pcap_le_us, sizeof pcap_le_us - 1, 1,
                     "truncated packet record at byte 44 (header says 2 bytes, 1 left)");
    bb_pcap_hdr(&b, 0xa1b2c3d4, 2, 4, 65535, 1);
    bb_pcap_rec(&b, 1, 0, 1514, 1514, 0);
    b.n -= 1314;
    expect_next_fail(b.p, b.n, 0,
                     "truncated packet record at byte 24 (header says 1514 bytes, 200 left)");
    bb_free(&b);
}
END_TEST

START_TEST(test_oversize_pcap)
{
    bb b = { 0 };

    bb_pcap_hdr(&b, 0xa1b2c3d4, 2, 4, 65535, 1);
    bb_pcap_rec(&b, 1, 0, 4, 4, 0);
    bb_u32(&b, 2); bb_u32(&b, 0);
    bb_u32(&b, 262145); bb_u32(&b, 262145);
    expect_next_fail(b.p, b.n, 1, "record too large at byte 44");
    bb_free(&b);
}
END_TEST

/* A valid SHB and IDB, then the caller's blocks. */
static void
ng_start(bb *b)
{
    bb_shb(b);
    bb_idb(b, 1, 0, -1, 0);
}

START_TEST(test_bad_pcapng_blocks)
{
    bb b = { 0 };
    size_t at, first;

    /* block length not a multiple of 4 */
    ng_start(&b);
    bb_epb(&b, 0, 1, 4, 4, 0);
    at = b.n;
    bb_epb(&b, 0, 1, 4, 4, 0);
    bb_put32(&b, at + 4, 34);
    expect_next_fail(b.p, b.n, 1, "block length 34 is not a multiple of 4");
    bb_free(&b);

    /* block shorter than 12 */
    ng_start(&b);
    at = bb_block_begin(&b, 0x99);
    bb_put32(&b, at + 4, 8);
    expect_next_fail(b.p, b.n, 0, "block length 8 is less than the minimum 12");
    bb_free(&b);

    /* trailer does not match */
    ng_start(&b);
    at = b.n;
    bb_epb(&b, 0, 1, 4, 4, 0);
    bb_put32(&b, b.n - 4, 40);
    {
        char want[128];
        snprintf(want, sizeof want, "Enhanced Packet Block at byte %zu: trailing length 40"
                 " does not match leading length 36", at);
        expect_next_fail(b.p, b.n, 0, want);
    }
    bb_free(&b);

    /* EPB on an interface that does not exist */
    ng_start(&b);
    bb_epb(&b, 0, 1, 4, 4, 0);
    bb_epb(&b, 3, 1, 4, 4, 0);
    expect_next_fail(b.p, b.n, 1, "refers to interface 3, but the section defines 1");
    bb_free(&b);

    /* captured length larger than the block */
    ng_start(&b);
    at = b.n;
    bb_epb(&b, 0, 1, 4, 4, 0);
    bb_put32(&b, at + 20, 400);
    expect_next_fail(b.p, b.n, 0, "captured length 400 exceeds the block");
    bb_free(&b);

    /* block cut short at the end of the file */
    ng_start(&b);
    first = b.n;
    bb_epb(&b, 0, 1, 100, 100, 0);
    b.n -= 50;
    {
        char want[128];
        snprintf(want, sizeof want, "truncated Enhanced Packet Block at byte %zu"
                 " (header says 132 bytes, 82 left)", first);
        expect_next_fail(b.p, b.n, 0, want);
    }
    bb_free(&b);

    /* block header cut short */
    ng_start(&b);
    bb_u32(&b, 6);
    bb_u16(&b, 0);
    expect_next_fail(b.p, b.n, 0, "truncated block header");
    bb_free(&b);

    /* oversize block */
    ng_start(&b);
    at = bb_block_begin(&b, 6);
    bb_put32(&b, at + 4, (16u << 20) + 4);
    expect_next_fail(b.p, b.n, 0, "record too large");
    bb_free(&b);

    /* SPB before any IDB */
    bb_shb(&b);
    at = bb_block_begin(&b, 3);
    bb_u32(&b, 0);
    bb_block_end(&b, at);
    expect_next_fail(b.p, b.n, 0, "before any Interface Description Block");
    bb_free(&b);

    /* IDB option running past the block */
    bb_shb(&b);
    at = bb_block_begin(&b, 1);
    bb_u16(&b, 1); bb_u16(&b, 0); bb_u32(&b, 0);
    bb_u16(&b, 9); bb_u16(&b, 200);
    bb_u32(&b, 0);
    bb_block_end(&b, at);
    expect_open_fail(b.p, b.n, "overruns the block");
    bb_free(&b);
}
END_TEST

/* The ns pcap that ends in the middle of packet 2 (shape of a real fuzz file). */
START_TEST(test_truncated_ns_pcap)
{
    bb b = { 0 };

    bb_pcap_hdr(&b, 0xa1b23c4d, 2, 4, 0, 0x40000000);
    bb_pcap_rec(&b, 1, 1882137472, 20, 524501, 0);  /* invalid ns fraction */
    bb_u32(&b, 2);
    expect_next_fail(b.p, b.n, 1, "truncated record header at byte 60 (4 of 16 bytes)");
    bb_free(&b);
}
END_TEST

Suite *
suite_pcapfile(void)
{
    Suite *s = suite_create("pcapfile");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_pcap_us_le);
    tcase_add_test(tc, test_pcap_variants);
    tcase_add_test(tc, test_pcap_fcs_oversnap);
    tcase_add_test(tc, test_pcap_old_version);
    tcase_add_test(tc, test_pcap_kuznetzov);
    tcase_add_test(tc, test_pcapng_mixed);
    tcase_add_test(tc, test_pcapng_sections);
    tcase_add_test(tc, test_pcapng_big_block);
    tcase_add_test(tc, test_large_file);
    tcase_add_test(tc, test_stdin_pipe);
    tcase_add_test(tc, test_bad_open);
    tcase_add_test(tc, test_bad_pcap_version);
    tcase_add_test(tc, test_truncated_pcap);
    tcase_add_test(tc, test_oversize_pcap);
    tcase_add_test(tc, test_bad_pcapng_blocks);
    tcase_add_test(tc, test_truncated_ns_pcap);
    suite_add_tcase(s, tc);
    return s;
}
