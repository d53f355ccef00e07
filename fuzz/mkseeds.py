#!/usr/bin/python3
"""mkseeds.py - make fuzz seeds from real captures (python3 stdlib only).

    fuzz/mkseeds.py OUTDIR CAPTURE...

writes
  OUTDIR/decode/<sha1>    one byte naming the link type (its index in
                          fuzz_decode_links[] of fuzz/fuzz_decode.c) then
                          one frame; every frame of every capture, deduplicated
  OUTDIR/pcapfile/<sha1>  each capture cut to its first records (at most
                          --cut bytes), plus synthetic variants of the format
                          (big-endian, nanosecond and Kuznetzov pcap; pcapng
                          with Simple/obsolete Packet Blocks, unknown blocks,
                          if_tsresol/if_tsoffset, two sections, big-endian)

The big seed sets stay out of the tree: fuzz/seed.sh builds them, and
fuzz/run.sh -merge's them into the small committed fuzz/corpus/<target>/.
"""
import argparse
import hashlib
import os
import struct
import sys

# Must match fuzz_decode_links[] in fuzz/fuzz_decode.c.
LINKS = [1, 113, 276, 101, 12, 14, 228, 229, 0, 108, 9, 104, 239, 147]


def read_capture(path):
    """(linktype, [(ts_sec, ts_usec, linktype, frame)]) from a pcap or pcapng file."""
    data = open(path, "rb").read()
    if len(data) < 24:
        return []
    magic_le = struct.unpack("<I", data[:4])[0]
    magic_be = struct.unpack(">I", data[:4])[0]
    if magic_be == 0x0A0D0D0A:
        return read_pcapng(data)
    for end in ("<", ">"):
        m = struct.unpack(end + "I", data[:4])[0]
        if m in (0xA1B2C3D4, 0xA1B23C4D, 0xA1B2CD34):
            hl = 24 if m == 0xA1B2CD34 else 16
            link = struct.unpack(end + "I", data[20:24])[0] & 0xFFFF
            out, off = [], 24
            while off + hl <= len(data):
                sec, frac, caplen, wlen = struct.unpack(end + "IIII", data[off:off + 16])
                if off + hl + caplen > len(data) or caplen > 262144:
                    break
                out.append((sec, frac if m != 0xA1B23C4D else frac // 1000, link,
                            data[off + hl:off + hl + caplen]))
                off += hl + caplen
            return out
    del magic_le
    return []


def read_pcapng(data):
    out, off, end, ifs = [], 0, "<", []
    while off + 12 <= len(data):
        btype = struct.unpack(end + "I", data[off:off + 4])[0]
        if btype == 0x0A0D0D0A:
            bom = data[off + 8:off + 12]
            end = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            ifs = []
        blen = struct.unpack(end + "I", data[off + 4:off + 8])[0]
        if blen < 12 or off + blen > len(data):
            break
        body = data[off + 8:off + blen - 4]
        if btype == 1 and len(body) >= 8:
            ifs.append(struct.unpack(end + "H", body[:2])[0])
        elif btype == 6 and len(body) >= 20:
            ifid, hi, lo, caplen, _ = struct.unpack(end + "IIIII", body[:20])
            if ifid < len(ifs) and 20 + caplen <= len(body):
                ts = (hi << 32 | lo)
                out.append((ts // 1000000, ts % 1000000, ifs[ifid], body[20:20 + caplen]))
        elif btype == 3 and len(body) >= 4 and ifs:
            wlen = struct.unpack(end + "I", body[:4])[0]
            out.append((0, 0, ifs[0], body[4:4 + min(wlen, len(body) - 4)]))
        off += blen
    return out


def write_seed(outdir, data):
    name = hashlib.sha1(data).hexdigest()[:20]
    path = os.path.join(outdir, name)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
        return 1
    return 0


# ---- writers for the pcapfile seeds ----------------------------------------

def pcap_file(recs, link, end="<", magic=0xA1B2C3D4, version=(2, 4), snaplen=65535):
    out = [struct.pack(end + "IHHiIII", magic, version[0], version[1], 0, 0, snaplen, link)]
    for sec, usec, _, frame in recs:
        frac = usec * 1000 if magic == 0xA1B23C4D else usec
        out.append(struct.pack(end + "IIII", sec, frac, len(frame), len(frame) + 4))
        if magic == 0xA1B2CD34:
            out.append(struct.pack(end + "IHBB", 0, 0, 0, 0))
        out.append(frame)
    return b"".join(out)


def ng_block(end, btype, body):
    body += b"\0" * (-len(body) % 4)
    n = len(body) + 12
    return struct.pack(end + "II", btype, n) + body + struct.pack(end + "I", n)


def ng_opt(end, code, val):
    return struct.pack(end + "HH", code, len(val)) + val + b"\0" * (-len(val) % 4)


def pcapng_file(recs, link, end="<", tsresol=None, tsoffset=None, kinds=("epb",),
                extra_blocks=True, sections=1):
    out = []
    for s in range(sections):
        out.append(ng_block(end, 0x0A0D0D0A, struct.pack(end + "IHHq", 0x1A2B3C4D, 1, 0, -1)
                            + ng_opt(end, 3, b"segscope fuzz seed") + ng_opt(end, 0, b"")))
        opts = b""
        if tsresol is not None:
            opts += ng_opt(end, 9, bytes([tsresol]))
        if tsoffset is not None:
            opts += ng_opt(end, 14, struct.pack(end + "q", tsoffset))
        if opts:
            opts += ng_opt(end, 0, b"")
        out.append(ng_block(end, 1, struct.pack(end + "HHI", link, 0, 262144) + opts))
        if extra_blocks:
            out.append(ng_block(end, 4, struct.pack(end + "HH", 1, 8) + bytes([10, 0, 0, 1])
                                + b"host\0\0\0\0" + struct.pack(end + "HH", 0, 0)))
            out.append(ng_block(end, 0x0BAD, b"custom block body"))
        for i, (sec, usec, _, frame) in enumerate(recs):
            kind = kinds[i % len(kinds)]
            ts = sec * 1000000 + usec
            if kind == "epb":
                out.append(ng_block(end, 6, struct.pack(end + "IIIII", 0, ts >> 32, ts & 0xFFFFFFFF,
                                                        len(frame), len(frame)) + frame
                                    + ng_opt(end, 1, b"comment") + ng_opt(end, 0, b"")))
            elif kind == "spb":
                out.append(ng_block(end, 3, struct.pack(end + "I", len(frame)) + frame))
            elif kind == "pb":
                out.append(ng_block(end, 2, struct.pack(end + "HHIIII", 0, 0, ts >> 32,
                                                        ts & 0xFFFFFFFF, len(frame), len(frame))
                                    + frame))
        if extra_blocks:
            out.append(ng_block(end, 5, struct.pack(end + "III", 0, 0, 0)))
            out.append(ng_block(end, 10, struct.pack(end + "II", 0x544c534b, 4) + b"keys"))
    return b"".join(out)


def cut(recs, limit):
    out, n = [], 0
    for r in recs:
        n += len(r[3]) + 16
        if out and n > limit:
            break
        out.append(r)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("captures", nargs="+")
    ap.add_argument("--cut", type=int, default=3000, help="bytes of records per pcapfile seed")
    ap.add_argument("--max-frames", type=int, default=300, help="decode seeds per capture")
    a = ap.parse_args()
    ddir = os.path.join(a.outdir, "decode")
    pdir = os.path.join(a.outdir, "pcapfile")
    os.makedirs(ddir, exist_ok=True)
    os.makedirs(pdir, exist_ok=True)
    nd = np = 0
    variants_done = False
    for path in a.captures:
        try:
            recs = read_capture(path)
        except (OSError, struct.error) as e:
            print("%s: skipped (%s)" % (path, e), file=sys.stderr)
            continue
        for _, _, link, frame in recs[:a.max_frames]:
            if link in LINKS:
                nd += write_seed(ddir, bytes([LINKS.index(link)]) + frame)
        raw = open(path, "rb").read()
        if len(raw) <= a.cut:
            np += write_seed(pdir, raw)
        elif recs:
            part = cut(recs, a.cut)
            first = raw[:4]
            if first == b"\x0a\x0d\x0d\x0a":
                np += write_seed(pdir, pcapng_file(part, part[0][2], extra_blocks=False))
            else:
                np += write_seed(pdir, pcap_file(part, part[0][2]))
        # Synthetic format variants, from the first capture with a few Ethernet frames.
        eth = [r for r in recs if r[2] == 1][:6]
        if not variants_done and len(eth) >= 3:
            variants_done = True
            for v in (pcap_file(eth, 1, ">"), pcap_file(eth, 1, "<", 0xA1B23C4D),
                      pcap_file(eth, 1, ">", 0xA1B23C4D), pcap_file(eth, 1, "<", 0xA1B2CD34),
                      pcap_file(eth, 1, "<", version=(2, 2)), pcap_file(eth, 1, snaplen=64),
                      pcapng_file(eth, 1, kinds=("epb", "spb", "pb")),
                      pcapng_file(eth, 1, ">", kinds=("epb", "pb")),
                      pcapng_file(eth, 1, tsresol=9, tsoffset=-3600),
                      pcapng_file(eth, 1, ">", tsresol=0x80 | 20),
                      pcapng_file(eth, 1, sections=2)):
                np += write_seed(pdir, v)
    print("%d decode seeds, %d pcapfile seeds in %s" % (nd, np, a.outdir))


if __name__ == "__main__":
    main()
