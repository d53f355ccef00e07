#!/usr/bin/env python3
"""Build a large mixed-protocol capture for benchmarks.

  mkmixed.py OUT.pcap TARGET_PACKETS SOURCE.pcap...

Concatenates the classic-pcap Ethernet sources (others are skipped) over
and over until TARGET_PACKETS, rewriting IPv4 addresses in every copy
(the second and third octets of source and destination get the copy
number added) so each copy makes new flows.  Timestamps are rewritten to
one increasing timeline, 20 microseconds apart.  Standard library only.
"""
import struct
import sys


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return None
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        e = "<"
    elif magic in (0xd4c3b2a1, 0x4d3cb2a1):
        e = ">"
    else:
        return None
    nsec = magic in (0xa1b23c4d, 0x4d3cb2a1)
    link = struct.unpack(e + "I", data[20:24])[0] & 0xffff
    if link != 1:
        return None
    pkts, off = [], 24
    while off + 16 <= len(data):
        sec, frac, cap, wire = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        if cap > 262144 or off + cap > len(data):
            break
        us = frac // 1000 if nsec else frac
        pkts.append((sec * 1000000 + us, wire, data[off:off + cap]))
        off += cap
    return pkts


def rewrite(frame, k):
    if k == 0 or len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return frame
    b = bytearray(frame)
    for base in (26, 30):
        v = (b[base + 1] << 8 | b[base + 2]) + k
        b[base + 1] = (v >> 8) & 0xff
        b[base + 2] = v & 0xff
    return bytes(b)


def main():
    out, target, srcs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    corpus = []
    for s in srcs:
        p = read_pcap(s)
        if p:
            base = p[0][0]
            corpus.extend((t - base, w, d) for t, w, d in p)
    if not corpus:
        sys.exit("mkmixed: no usable classic Ethernet pcap among the sources")
    n, copy, ts = 0, 0, 1700000000 * 1000000
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
        while n < target:
            for _rel, wire, d in corpus:
                ts += 20
                d = rewrite(d, copy)
                f.write(struct.pack("<IIII", ts // 1000000, ts % 1000000, len(d), wire) + d)
                n += 1
                if n >= target:
                    break
            copy += 1
    print("%s: %d packets, %d copies of %d source packets" % (out, n, copy, len(corpus)))


if __name__ == "__main__":
    main()
