/*
 * pcapfile.h - reader for pcap and pcapng capture files.
 *
 * segscope reads files itself instead of through libpcap because libpcap
 * refuses pcapng files whose interfaces differ in link type or snap length,
 * and because we want per-packet link types, nanosecond timestamps, a byte
 * offset for progress and one-line errors that say what broke and where.
 * libpcap is still used for live capture and BPF (elsewhere).
 *
 * Formats, detected by magic number (never by file name):
 *   pcap      a1b2c3d4, microsecond timestamps, either byte order
 *   pcap-ns   a1b23c4d, nanosecond timestamps, either byte order
 *   pcap      a1b2cd34 (Kuznetzov "modified" pcap): read, the 8 extra
 *             bytes of each record header are skipped
 *   pcapng    Section Header Blocks in either byte order, any number of
 *             sections; Enhanced, Simple and obsolete Packet Blocks give
 *             packets; every other block type is skipped and counted.
 *
 * The file is read sequentially and never seeked, so "-" (standard input)
 * and pipes work.  Packet data is handed out as a pointer into the
 * reader's buffer (no copy); it stays valid until the next pf_next() or
 * pf_close().  Everything read from the file goes through the bounds-checked
 * cursor of rd.h.  Sizes are capped: a pcap record may hold at most
 * PF_MAX_CAPLEN bytes and a pcapng block at most PF_MAX_BLOCK bytes;
 * anything larger is the error "record too large", never an allocation.
 *
 * Errors are one line, without the file name (the caller prefixes it),
 * and name the byte offset of the record at fault, e.g.
 *   "truncated packet record at byte 123456 (header says 1514 bytes, 200 left)".
 * Once pf_next() has failed, it keeps failing with the same message.
 */
#ifndef SEGSCOPE_PCAPFILE_H
#define SEGSCOPE_PCAPFILE_H

#include <stddef.h>
#include <stdint.h>

/* Largest captured length accepted in a classic pcap record. */
#define PF_MAX_CAPLEN 262144u
/* Largest pcapng block (total length, header and trailer included). */
#define PF_MAX_BLOCK (16u * 1024u * 1024u)

/* An open capture file (opaque). */
typedef struct pf_file pf_file;

/* One packet, as returned by pf_next(). */
typedef struct pf_packet {
    uint64_t ts_ns;        /* timestamp, ns since the epoch (converted from us/ns/if_tsresol/if_tsoffset) */
    uint32_t caplen;       /* bytes in data */
    uint32_t len;          /* original length on the wire */
    int linktype;          /* LINKTYPE_* of this packet's interface */
    const uint8_t *data;   /* valid until the next pf_next() or pf_close() */
} pf_packet;

/*
 * Open a pcap or pcapng file; "-" reads standard input (which is never
 * closed by pf_close).  Reads the file header (pcap) or the first Section
 * Header Block and any blocks before the first packet (pcapng), so
 * pf_linktype() is known on return for ordinary files.  On failure returns
 * NULL and writes a one-line reason (without the file name) into err.
 */
pf_file *pf_open(const char *path, char *err, size_t errlen);

/*
 * Read the next packet into *pkt.  Returns 1 for a packet, 0 at a clean end
 * of file, -1 on error (one-line reason in err).  After -1 every further
 * call returns -1 with the same reason.
 */
int pf_next(pf_file *f, pf_packet *pkt, char *err, size_t errlen);

/* Bytes of the file consumed so far (for progress). */
uint64_t pf_offset(const pf_file *f);
/* File size in bytes, or -1 when it is not a regular file (pipe, stdin). */
int64_t pf_size(const pf_file *f);
/* "pcap", "pcap-ns" or "pcapng". */
const char *pf_format(const pf_file *f);
/* Link type of the first interface (pcap: the header's), or -1 if none yet. */
int pf_linktype(const pf_file *f);
/* pcapng blocks of unknown or ignored types that were skipped. */
uint64_t pf_skipped_blocks(const pf_file *f);
/*
 * Records whose captured length exceeds the snap length of their file
 * header or interface (accepted, up to the hard caps, and counted here).
 */
uint64_t pf_oversnap_records(const pf_file *f);

/* Close the file and free everything; accepts NULL. */
void pf_close(pf_file *f);

#endif
