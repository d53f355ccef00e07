#!/usr/bin/env python3
"""gen_ident_pcap.py - write a capture whose identities are hostile strings.

Every identity source segscope parses (DNS with a CNAME chain, mDNS,
LLMNR, NBNS, DHCP hostname/FQDN/vendor, TLS SNI, HTTP Host/User-Agent/
Server, Kerberos AS-REQ, SSH banner) carries a value built to break a
report: HTML/script, a spreadsheet formula, quotes, newlines, a NUL and
bytes that are not UTF-8.  Also a few malformed messages (a DNS
compression loop, a forward pointer, a truncated DHCP option) that must be
counted and skipped.  Only the standard library (struct) is used, so CI
needs nothing extra.

usage: gen_ident_pcap.py OUT.pcap [--expect OUT.json]

--expect writes what segscope idents should report: a list of
[address, kind, value-as-latin-1] triples (bytes mapped 1:1 to code points).
"""
import json
import struct
import sys

SCRIPT = b"<script>alert(1)</script>"
FORMULA = b"=cmd|' /C calc'!A0"
QUOTES = b"say \"hi\" it's"
NEWLINE = b"line1\nline2\r\nline3"
BADUTF8 = b"caf\xe9-\xff\xfe-\xc3("

MAC_CLIENT = bytes.fromhex("020000000001")
MAC_SERVER = bytes.fromhex("020000000002")
T0 = 1700000000


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(s):
    return bytes(int(x) for x in s.split("."))


def ip6(s):
    # enough of inet_pton for the literals below ("a:b::c")
    head, _, tail = s.partition("::")
    h = [int(x, 16) for x in head.split(":") if x]
    t = [int(x, 16) for x in tail.split(":") if x]
    words = h + [0] * (8 - len(h) - len(t)) + t
    return struct.pack("!8H", *words)


def eth(src, dst, ethertype, payload):
    return dst + src + struct.pack("!H", ethertype) + payload


def ipv4(src, dst, proto, payload, ident=1):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0, 64, proto, 0, ip4(src), ip4(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def ipv6(src, dst, nh, payload):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, 64, ip6(src), ip6(dst)) + payload


def udp(sp, dp, payload):
    return struct.pack("!HHHH", sp, dp, 8 + len(payload), 0) + payload


def tcp(sp, dp, payload, flags=0x18, seq=1000):
    return struct.pack("!HHIIBBHHH", sp, dp, seq, 1, 5 << 4, flags, 65535, 0, 0) + payload


class Pcap:
    def __init__(self):
        self.frames = []

    def add(self, frame):
        self.frames.append(frame)

    def udp4(self, src, dst, sp, dp, payload, smac=MAC_SERVER, dmac=MAC_CLIENT):
        self.add(eth(smac, dmac, 0x0800, ipv4(src, dst, 17, udp(sp, dp, payload))))

    def udp6(self, src, dst, sp, dp, payload, smac=MAC_SERVER, dmac=MAC_CLIENT):
        self.add(eth(smac, dmac, 0x86DD, ipv6(src, dst, 17, udp(sp, dp, payload))))

    def tcp4(self, src, dst, sp, dp, payload, smac=MAC_CLIENT, dmac=MAC_SERVER):
        self.add(eth(smac, dmac, 0x0800, ipv4(src, dst, 6, tcp(sp, dp, payload))))

    def write(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
            for i, fr in enumerate(self.frames):
                f.write(struct.pack("<IIII", T0 + i, 0, len(fr), len(fr)) + fr)


# ---- DNS -------------------------------------------------------------------

def dns_name(labels):
    out = b""
    for lab in labels:
        assert 0 < len(lab) < 64
        out += bytes([len(lab)]) + lab
    return out + b"\0"


def dns_rr(name, rtype, rdata, cls=1):
    return name + struct.pack("!HHIH", rtype, cls, 60, len(rdata)) + rdata


def dns_msg(qname, answers, flags=0x8180, additional=()):
    hdr = struct.pack("!HHHHHH", 0x1234, flags, 1, len(answers), 0, len(additional))
    return hdr + qname + struct.pack("!HH", 1, 1) + b"".join(answers) + b"".join(additional)


def main():
    out = sys.argv[1]
    expect_path = sys.argv[sys.argv.index("--expect") + 1] if "--expect" in sys.argv else None
    p = Pcap()
    expect = []

    def exp(addr, kind, value):
        expect.append([addr, kind, value.decode("latin-1")])

    # DNS: www.example.com CNAME <script>.cdn.example CNAME =cmd... A 203.0.113.10
    q = dns_name([b"www", b"example", b"com"])
    c1 = dns_name([SCRIPT, b"cdn", b"example"])
    c2 = dns_name([FORMULA, QUOTES, NEWLINE, BADUTF8])
    p.udp4("192.0.2.53", "192.168.10.5", 53, 40000, dns_msg(q, [
        dns_rr(b"\xc0\x0c", 5, c1),
        dns_rr(c1, 5, c2),
        dns_rr(c2, 1, ip4("203.0.113.10")),
    ]))
    for v in (b"www.example.com", SCRIPT + b".cdn.example", b".".join([FORMULA, QUOTES, NEWLINE, BADUTF8])):
        exp("203.0.113.10", "dns", v)
    # AAAA over IPv6 with a NUL byte in a label (stored as '?')
    q6 = dns_name([b"nul\0byte", b"example"])
    p.udp6("2001:db8::53", "2001:db8::5", 53, 40001,
           dns_msg(q6, [dns_rr(b"\xc0\x0c", 28, ip6("2001:db8::10"))]))
    exp("2001:db8::10", "dns", b"nul?byte.example")
    # Malformed: a compression loop, and a forward pointer (both skipped, counted)
    loop = struct.pack("!HHHHHH", 1, 0x8180, 1, 1, 0, 0) + b"\x01a\xc0\x0c" + struct.pack("!HH", 1, 1)
    p.udp4("192.0.2.53", "192.168.10.5", 53, 40002, loop + dns_rr(b"\xc0\x0c", 1, ip4("203.0.113.99")))
    fwd = struct.pack("!HHHHHH", 1, 0x8180, 1, 1, 0, 0) + b"\xc0\x20" + struct.pack("!HH", 1, 1)
    p.udp4("192.0.2.53", "192.168.10.5", 53, 40003, fwd + dns_rr(b"\xc0\x0c", 1, ip4("203.0.113.98")))

    # mDNS response (cache-flush class) and LLMNR response
    mname = dns_name([b"=HYPERLINK(\"http://x\")", b"local"])
    p.udp4("192.168.10.7", "224.0.0.251", 5353, 5353,
           struct.pack("!HHHHHH", 0, 0x8400, 0, 1, 0, 0) + dns_rr(mname, 1, ip4("192.168.10.7"), cls=0x8001))
    exp("192.168.10.7", "mdns", b"=HYPERLINK(\"http://x\").local")
    lname = dns_name([b"llmnr" + SCRIPT])
    p.udp4("192.168.10.8", "192.168.10.5", 5355, 50000,
           dns_msg(lname, [dns_rr(b"\xc0\x0c", 1, ip4("192.168.10.8"))], flags=0x8000))
    exp("192.168.10.8", "llmnr", b"llmnr" + SCRIPT)

    # NBNS registration of "EVIL\"<NAME>" (unique, workstation)
    raw = b'EVIL"<NAME>'.ljust(15, b" ") + b"\x00"
    enc = bytes(b for c in raw for b in (0x41 + (c >> 4), 0x41 + (c & 15)))
    nbname = bytes([32]) + enc + b"\0"
    reg = struct.pack("!HHHHHH", 7, 0x2910, 1, 0, 0, 1) + nbname + struct.pack("!HH", 0x20, 1)
    reg += b"\xc0\x0c" + struct.pack("!HHIH", 0x20, 1, 300000, 6) + struct.pack("!H", 0) + ip4("192.168.10.9")
    p.udp4("192.168.10.9", "192.168.10.255", 137, 137, reg)
    exp("192.168.10.9", "netbios", b'EVIL"<NAME>')

    # DHCP: REQUEST (hostname, FQDN, vendor) then ACK leasing 192.168.10.20
    chaddr = bytes.fromhex("0a0b0c0d0e0f") + b"\0" * 10

    def bootp(op, yiaddr, opts):
        return (struct.pack("!BBBBIHH4s4s4s4s16s", op, 1, 6, 0, 0xCAFE, 0, 0, b"\0" * 4, ip4(yiaddr),
                            b"\0" * 4, b"\0" * 4, chaddr) + b"\0" * 192 + struct.pack("!I", 0x63825363) + opts + b"\xff")
    opts = (b"\x35\x01\x03" + b"\x32\x04" + ip4("192.168.10.20") +
            b"\x0c" + bytes([len(FORMULA)]) + FORMULA +
            b"\x51" + bytes([3 + len(SCRIPT)]) + b"\x00\x00\x00" + SCRIPT +
            b"\x3c" + bytes([len(BADUTF8)]) + BADUTF8)
    p.udp4("0.0.0.0", "255.255.255.255", 68, 67, bootp(1, "0.0.0.0", opts),
           smac=bytes.fromhex("0a0b0c0d0e0f"), dmac=b"\xff" * 6)
    p.udp4("192.168.10.1", "192.168.10.20", 67, 68, bootp(2, "192.168.10.20", b"\x35\x01\x05"))
    exp("192.168.10.20", "dhcp_hostname", FORMULA)
    exp("192.168.10.20", "dhcp_fqdn", SCRIPT)
    exp("192.168.10.20", "dhcp_vendor", BADUTF8)
    exp("192.168.10.20", "dhcp_mac", b"0a:0b:0c:0d:0e:0f")
    # Malformed DHCP: an option running past the end
    p.udp4("0.0.0.0", "255.255.255.255", 68, 67, bootp(1, "0.0.0.0", b"\x35\x01\x01\x0c\x40abc")[:-1],
           smac=bytes.fromhex("0a0b0c0d0e0f"), dmac=b"\xff" * 6)

    # TLS ClientHello with SNI
    sni = SCRIPT + b"." + QUOTES.replace(b" ", b"")
    ext_sni = struct.pack("!HHHBH", 0, len(sni) + 5, len(sni) + 3, 0, len(sni)) + sni
    body = struct.pack("!H", 0x0303) + b"\x11" * 32 + b"\x00" + struct.pack("!HH", 2, 0x1301) + b"\x01\x00"
    body += struct.pack("!H", len(ext_sni)) + ext_sni
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    p.tcp4("192.168.10.5", "198.51.100.7", 50001, 443, b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs)
    exp("198.51.100.7", "sni", sni)

    # HTTP request and response
    ua = FORMULA + b" " + SCRIPT + b" " + BADUTF8
    host = b"\"quoted\".example"
    req = b"GET / HTTP/1.1\r\nHost: " + host + b":8080\r\nUser-Agent: " + ua + b"\r\nAccept: */*\r\n\r\n"
    p.tcp4("192.168.10.5", "198.51.100.8", 50002, 8080, req)
    server = b"\"><img src=x onerror=alert(1)>"
    p.tcp4("198.51.100.8", "192.168.10.5", 8080, 50002, b"HTTP/1.1 200 OK\r\nServer: " + server + b"\r\n\r\n",
           smac=MAC_SERVER, dmac=MAC_CLIENT)
    exp("198.51.100.8", "http_host", host)
    exp("192.168.10.5", "user_agent", ua)
    exp("198.51.100.8", "http_server", server)

    # Kerberos AS-REQ over UDP: cname <script>..., realm with quote and newline
    def der(tag, content):
        n = len(content)
        if n < 0x80:
            ln = bytes([n])
        elif n < 0x100:
            ln = b"\x81" + bytes([n])
        else:
            ln = b"\x82" + struct.pack("!H", n)
        return bytes([tag]) + ln + content

    def ctx(n, content):
        return der(0xA0 | n, content)

    realm = b"EVIL\"REALM\n.ORG"
    cname = der(0x30, ctx(0, der(0x02, b"\x01")) + ctx(1, der(0x30, der(0x1B, SCRIPT))))
    reqbody = der(0x30, ctx(0, der(0x03, b"\x00\x40\x81\x00\x10")) + ctx(1, cname) + ctx(2, der(0x1B, realm)) +
                  ctx(3, der(0x30, ctx(0, der(0x02, b"\x02")) + ctx(1, der(0x30, der(0x1B, b"krbtgt") + der(0x1B, realm))))) +
                  ctx(7, der(0x02, b"\x01\x02\x03\x04")) + ctx(8, der(0x30, der(0x02, b"\x12"))))
    asreq = der(0x6A, der(0x30, ctx(1, der(0x02, b"\x05")) + ctx(2, der(0x02, b"\x0a")) + ctx(4, reqbody)))
    p.udp4("192.168.10.5", "192.168.10.2", 50003, 88, asreq, smac=MAC_CLIENT, dmac=MAC_SERVER)
    exp("192.168.10.5", "krb_user", SCRIPT + b"@" + realm)
    exp("192.168.10.2", "krb_realm", realm)

    # SSH banners on a non-standard port, both ways
    p.tcp4("192.168.10.5", "192.168.10.3", 50004, 2222, b"SSH-2.0-" + SCRIPT + BADUTF8 + b"\r\n")
    p.tcp4("192.168.10.3", "192.168.10.5", 2222, 50004, b"SSH-2.0-" + FORMULA + b"\r\n", smac=MAC_SERVER, dmac=MAC_CLIENT)
    exp("192.168.10.5", "ssh_banner", b"SSH-2.0-" + SCRIPT + BADUTF8)
    exp("192.168.10.3", "ssh_banner", b"SSH-2.0-" + FORMULA)

    p.write(out)
    if expect_path:
        with open(expect_path, "w") as f:
            json.dump(expect, f, indent=1)


if __name__ == "__main__":
    main()
