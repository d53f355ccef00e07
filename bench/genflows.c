/*
 * genflows.c - write a pcap of N distinct flows, one packet each, fast.
 *
 *   genflows N [-t] [-p PKTS] [-H HOSTS] [-s BYTES] [-P PORT] [-o FILE]
 *
 * Flow i (0 <= i < N, N <= 2^32) goes from 10.x.y.z (the 24 low bits of i)
 * port 1024 + (i >> 24) to 192.168.0.1 port 53 (UDP) or 80 (-t: TCP SYN),
 * so every flow is distinct up to 2^24 * 64512 flows.  -p sends each flow
 * PKTS packets, round-robin over all flows (a flow's packets are then far
 * apart, the worst case for an LRU table).  Ethernet, 60-byte frames,
 * timestamps 1 us apart from 2024-01-01, so no flow idles out within
 * 100 s of traffic.  Records are assembled in a 1 MiB buffer: 5 million
 * flows (380 MB) take a few seconds, mostly disk.
 *
 * For bench/span.sh:
 *   -H HOSTS  the flows come from HOSTS clients only (flow i from client
 *             i % HOSTS, 10.x.y.z as above, port 1024 + (i / HOSTS) %
 *             64512): many short flows between fewer hosts, as on a SPAN
 *             port (N must not exceed HOSTS * 64512);
 *   -s BYTES  frames of BYTES bytes (60..1514) with a zero-filled payload;
 *             with -t a flow's first packet is its SYN (60 bytes), the
 *             next ones ACK+PSH segments with in-order sequence numbers;
 *   -P PORT   the server port (default 53, or 80 with -t).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FRAME 60                            /* Ethernet minimum, no FCS */
#define MAX_FRAME 1514                      /* Ethernet maximum, no FCS */

static void
put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static void
put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v;
}

/* IPv4 header checksum over 20 bytes. */
static uint16_t
ip_sum(const uint8_t *h)
{
    uint32_t s = 0;
    for (int i = 0; i < 20; i += 2)
        s += (uint32_t)(h[i] << 8 | h[i + 1]);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static void
usage(void)
{
    fprintf(stderr, "usage: genflows N [-t] [-p PKTS] [-H HOSTS] [-s BYTES] [-P PORT] [-o FILE]\n");
    exit(2);
}

/* A record template: pcap header, Ethernet, IPv4, UDP or TCP, payload zeros. */
typedef struct tmpl {
    uint8_t b[16 + MAX_FRAME];
    size_t len;                             /* bytes of the record */
} tmpl;

static void
tmpl_make(tmpl *t, int tcp, uint8_t tcp_flags, size_t frame, uint16_t port)
{
    memset(t, 0, sizeof(*t));
    t->len = 16 + frame;
    put_le32(t->b + 8, (uint32_t)frame);
    put_le32(t->b + 12, (uint32_t)frame);
    uint8_t *f = t->b + 16;
    memcpy(f, "\x00\x11\x22\x33\x44\x55\x00\x66\x77\x88\x99\xaa\x08\x00", 14);
    uint8_t *ip = f + 14;
    size_t l4len = frame - 14 - 20;
    ip[0] = 0x45;
    /* Minimum frames carry padding, not payload. */
    put_be16(ip + 2, (uint16_t)(frame == FRAME ? (tcp ? 40 : 28) : 20 + l4len));
    ip[8] = 64;
    ip[9] = tcp ? 6 : 17;
    ip[12] = 10;
    ip[16] = 192; ip[17] = 168; ip[18] = 0; ip[19] = 1;
    uint8_t *l4 = ip + 20;
    put_be16(l4 + 2, port);
    if (tcp) {
        l4[12] = 5 << 4;
        l4[13] = tcp_flags;
        put_be16(l4 + 14, 64240);
    } else {
        put_be16(l4 + 4, (uint16_t)(frame == FRAME ? 8 : l4len));
    }
}

int
main(int argc, char **argv)
{
    uint64_t n = 0, pkts = 1, hosts = 0;
    unsigned long size = FRAME, port = 0;
    int tcp = 0, opt;
    const char *path = NULL;

    while ((opt = getopt(argc, argv, "tp:o:H:s:P:")) != -1) {
        switch (opt) {
        case 't': tcp = 1; break;
        case 'p': pkts = strtoull(optarg, NULL, 10); break;
        case 'o': path = optarg; break;
        case 'H': hosts = strtoull(optarg, NULL, 10); break;
        case 's': size = strtoul(optarg, NULL, 10); break;
        case 'P': port = strtoul(optarg, NULL, 10); break;
        default: usage();
        }
    }
    if (optind != argc - 1 || pkts < 1 || size < FRAME || size > MAX_FRAME || port > 65535)
        usage();
    n = strtoull(argv[optind], NULL, 10);
    if (n < 1 || n > UINT32_MAX || (hosts && (hosts > (1u << 24) || n > hosts * 64512)))
        usage();
    if (!port)
        port = tcp ? 80 : 53;
    FILE *out = path ? fopen(path, "wb") : stdout;
    if (!out) {
        perror(path);
        return 1;
    }

    uint8_t hdr[24];
    put_le32(hdr, 0xa1b2c3d4);
    hdr[4] = 2; hdr[5] = 0; hdr[6] = 4; hdr[7] = 0;
    memset(hdr + 8, 0, 8);
    put_le32(hdr + 16, 262144);
    put_le32(hdr + 20, 1);                  /* Ethernet */
    fwrite(hdr, 1, sizeof hdr, out);

    /* Templates: the first packet of a flow, and the next ones (bigger with
       -s; TCP ACK+PSH after the SYN).  Per packet only addresses, ports,
       IP id, sequence number and time change. */
    static tmpl first, next;
    tmpl_make(&first, tcp, 0x02, tcp ? FRAME : size, (uint16_t)port);
    tmpl_make(&next, tcp, tcp ? 0x18 : 0, size, (uint16_t)port);
    size_t seg = size - 14 - 20 - (tcp ? 20 : 8);  /* payload bytes of a "next" TCP segment */

    static uint8_t buf[1 << 20];
    size_t used = 0;
    uint64_t sec = 1704067200, usec = 0;    /* 2024-01-01T00:00:00Z */
    for (uint64_t p = 0; p < pkts; p++)
        for (uint64_t i = 0; i < n; i++) {
            tmpl *t = p == 0 ? &first : &next;
            uint8_t *ip = t->b + 16 + 14, *l4 = ip + 20;
            uint64_t client = hosts ? i % hosts : i;
            uint64_t sport = hosts ? 1024 + (i / hosts) % 64512 : 1024 + (i >> 24);
            put_le32(t->b, (uint32_t)sec);
            put_le32(t->b + 4, (uint32_t)usec);
            if (++usec == 1000000) {
                usec = 0;
                sec++;
            }
            ip[13] = (uint8_t)(client >> 16);
            ip[14] = (uint8_t)(client >> 8);
            ip[15] = (uint8_t)client;
            put_be16(ip + 4, (uint16_t)p);
            ip[10] = ip[11] = 0;
            put_be16(ip + 10, ip_sum(ip));
            put_be16(l4, (uint16_t)sport);
            if (tcp && p > 0) {
                uint32_t seq = (uint32_t)(1 + (p - 1) * seg);
                l4[4] = (uint8_t)(seq >> 24); l4[5] = (uint8_t)(seq >> 16);
                l4[6] = (uint8_t)(seq >> 8); l4[7] = (uint8_t)seq;
            }
            if (used + t->len > sizeof buf) {
                if (fwrite(buf, 1, used, out) != used) {
                    perror("write");
                    return 1;
                }
                used = 0;
            }
            memcpy(buf + used, t->b, t->len);
            used += t->len;
        }
    if (fwrite(buf, 1, used, out) != used || fclose(out) != 0) {
        perror("write");
        return 1;
    }
    return 0;
}
