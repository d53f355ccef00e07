/*
 * pcap_floor.c - the floor every benchmark is measured against: a plain
 * libpcap pcap_next_ex() loop that only counts packets and bytes.
 *
 *   pcap_floor FILE
 */
#include <pcap.h>
#include <stdio.h>

int
main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    if (argc != 2) {
        fprintf(stderr, "usage: pcap_floor FILE\n");
        return 2;
    }
    pcap_t *p = pcap_open_offline(argv[1], err);
    if (!p) {
        fprintf(stderr, "pcap_floor: %s\n", err);
        return 3;
    }
    struct pcap_pkthdr *h;
    const u_char *d;
    unsigned long long n = 0, bytes = 0;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
        n++;
        bytes += h->len;
    }
    pcap_close(p);
    printf("%llu packets %llu bytes\n", n, bytes);
    return rc == PCAP_ERROR ? 1 : 0;
}
