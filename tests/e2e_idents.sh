#!/bin/sh
# segscope idents: who is who, end to end.
#  1. A crafted capture (tests/gen_ident_pcap.py) whose every identity is a
#     hostile string: each must come out exactly, and escaped, in text, CSV
#     and JSON.  Needs nothing but python3.
#  2. Labels, --internal and GeoIP options, and their errors.
#  3. Real captures of the shared corpus, one per identity source, checked
#     against what tshark shows in them (skipped without the corpus).
. "$(dirname "$0")/lib.sh"
S=$SEGSCOPE

# ---- 1. hostile names ---------------------------------------------------------
"$PYTHON" "$top_srcdir/tests/gen_ident_pcap.py" "$TMP/h.pcap" --expect "$TMP/h.expect" ||
    fail "gen_ident_pcap.py"
for fmt in text csv json; do
    expect_exit 0 "idents --format $fmt on the hostile capture" -- \
        "$S" idents -q --no-geoip -r "$TMP/h.pcap" --format $fmt -o "$TMP/h.$fmt"
done
"$S" idents -q --no-geoip -r "$TMP/h.pcap" --stats -o /dev/null 2> "$TMP/h.stats"
"$PYTHON" - "$TMP" <<'PY' && pass "hostile names: exact and escaped in text, CSV and JSON" || fail "hostile names (see above)"
import csv, json, sys
tmp = sys.argv[1]
expect = [(a, k, v.encode("latin-1")) for a, k, v in json.load(open(tmp + "/h.expect"))]
bad = []

# JSON Lines: strict UTF-8, one object per line; exact bytes via value or value_hex
raw = open(tmp + "/h.json", "rb").read()
try:
    text = raw.decode("utf-8")
except UnicodeDecodeError as e:
    bad.append("JSON output is not UTF-8: %s" % e)
    text = raw.decode("utf-8", "replace")
got = {}
for line in text.splitlines():
    o = json.loads(line)
    for i in o["identities"]:
        v = bytes.fromhex(i["value_hex"]) if "value_hex" in i else i["value"].encode("utf-8")
        got.setdefault((o["addr"], i["kind"]), []).append(v)
for a, k, v in expect:
    if v not in got.get((a, k), []):
        bad.append("JSON: %s %s %r missing (have %r)" % (a, k, v, got.get((a, k))))

# CSV: RFC 4180; a cell starting with = + - @ is prefixed with ' ; bytes exact otherwise
rows = list(csv.DictReader(open(tmp + "/h.csv", encoding="latin-1", newline="")))
for a, k, v in expect:
    want = v.decode("latin-1")
    if want[:1] in ("=", "+", "-", "@", "\t", "\r"):
        want = "'" + want
    if not any(r["addr"] == a and r["kind"] == k and r["value"] == want for r in rows):
        bad.append("CSV: %s %s %r missing" % (a, k, want))
for r in rows:
    for col, cell in r.items():
        if cell and cell[0] in "=+-@":
            bad.append("CSV: formula cell %s=%r" % (col, cell))

# text: printable ASCII lines only, one line per identity, values \xNN-escaped
t = open(tmp + "/h.text", "rb").read()
for n, line in enumerate(t.split(b"\n"), 1):
    if any(c < 0x20 or c > 0x7e for c in line):
        bad.append("text line %d has a raw control or non-ASCII byte: %r" % (n, line))
def esc(b):
    return "".join(chr(c) if 0x20 <= c < 0x7f and c not in (0x22, 0x5c) else "\\x%02x" % c for c in b)
tt = t.decode("ascii", "replace")
for a, k, v in expect:
    if esc(v) not in tt:
        bad.append("text: %s %s escaped as %r not found" % (a, k, esc(v)))
idlines = [l for l in tt.splitlines() if l.startswith("    ") and "(" in l and "x," in l]
if len(idlines) != len(set((a, k, v) for a, k, v in expect)):
    bad.append("text: %d identity lines, want %d" % (len(idlines), len(expect)))

# the malformed messages were counted, not stored
st = dict(l.split(" ", 1) for l in open(tmp + "/h.stats").read().splitlines() if " " in l)
if int(st.get("ident_malformed_dns", 0)) < 2 or int(st.get("ident_malformed_dhcp", 0)) < 1:
    bad.append("malformed counters: dns %s dhcp %s" % (st.get("ident_malformed_dns"), st.get("ident_malformed_dhcp")))
if "203.0.113.99" in text or "203.0.113.98" in text:
    bad.append("an address from a malformed DNS message was stored")
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
PY

# ---- 2. options ---------------------------------------------------------------------
expect_exit 0 "idents --help" -- "$S" idents --help
expect_grep "--labels" "$TMP/out" "idents --help documents --labels"
expect_exit 0 "--help lists idents" -- "$S" --help
expect_grep "idents" "$TMP/out" "--help lists the idents command"
expect_exit 2 "idents without input" -- "$S" idents
expect_exit 2 "bad --internal" -- "$S" idents -r "$TMP/h.pcap" --internal 10.0.0.0/33
expect_grep "bad CIDR '10.0.0.0/33'" "$TMP/err" "bad --internal names the CIDR"
expect_exit 2 "bad --format" -- "$S" idents -r "$TMP/h.pcap" --format xml
expect_exit 3 "bad labels file" -- "$S" idents -r "$TMP/h.pcap" --labels "$top_srcdir/tests/data/labels-bad.txt"
expect_grep "labels-bad.txt:3: bad CIDR '10.0.0.0/33'" "$TMP/err" "labels error names file and line"
[ "$(wc -l < "$TMP/err")" = 1 ] && pass "labels error is one line" || fail "labels error: $(cat "$TMP/err")"
expect_exit 3 "missing --geoip file" -- "$S" idents -r "$TMP/h.pcap" --geoip "$TMP/none.mmdb"
expect_grep "none.mmdb: " "$TMP/err" "missing GeoIP database named"
expect_exit 3 "--geoip not a database" -- "$S" idents -r "$TMP/h.pcap" --geoip "$TMP/h.pcap"
expect_grep "h.pcap: not a usable GeoIP database" "$TMP/err" "bad GeoIP database named"

cat > "$TMP/labels.txt" <<'EOF'
# test labels
192.168.10.0/24   env=lab
192.168.10.20     role=laptop
name:*.cdn.example     app="content delivery"
198.51.100.0/24   owner=partner
EOF
"$S" idents -q --no-geoip -r "$TMP/h.pcap" --labels "$TMP/labels.txt" --internal 198.51.100.0/24 \
    --format json -o "$TMP/l.json"
"$PYTHON" - "$TMP/l.json" <<'PY' && pass "labels (CIDR, /32, name glob) and --internal" || fail "labels/--internal"
import json, sys
h = {o["addr"]: o for o in map(json.loads, open(sys.argv[1], encoding="utf-8"))}
ok = (h["192.168.10.20"]["labels"] == {"env": "lab", "role": "laptop"} and
      h["192.168.10.5"]["labels"] == {"env": "lab"} and
      h["203.0.113.10"]["labels"] == {"app": "content delivery"} and
      h["198.51.100.7"]["class"] == "user" and h["198.51.100.7"]["internal"] is True and
      h["198.51.100.7"]["labels"] == {"owner": "partner"} and
      h["203.0.113.10"]["class"] == "external" and h["192.168.10.5"]["class"] == "private")
if not ok:
    for a in ("192.168.10.20", "192.168.10.5", "203.0.113.10", "198.51.100.7"):
        print(" ", a, h.get(a, {}).get("class"), h.get(a, {}).get("labels"))
sys.exit(0 if ok else 1)
PY

# ---- 3. the shared corpus -------------------------------------------------------------
if [ ! -d "$SEGSCOPE_SHARED/data/pcaps" ]; then
    echo "SKIP: shared corpus not found at $SEGSCOPE_SHARED (set SEGSCOPE_SHARED): real-capture checks not run"
    finish
    exit $?
fi
P=$SEGSCOPE_SHARED/data/pcaps
MMDB=$SEGSCOPE_SHARED/data/mmdb

# check CAPTURE [idents options] -- ADDR|KIND|VALUE ... : every triple must be reported
check() {
    cap=$1; shift
    opts=
    while [ "$1" != "--" ]; do opts="$opts $1"; shift; done
    shift
    name=$(basename "$cap")
    if [ ! -f "$P/$cap" ]; then fail "$name: not in the corpus"; return; fi
    # shellcheck disable=SC2086
    "$S" idents -q --no-geoip $opts -r "$P/$cap" --format json -o "$TMP/c.json" 2> "$TMP/c.err" ||
        { fail "$name: exit $? $(head -c 200 "$TMP/c.err")"; return; }
    for t in "$@"; do
        if "$PYTHON" - "$TMP/c.json" "$t" <<'PY'
import json, sys
addr, kind, value = sys.argv[2].split("|", 2)
for o in map(json.loads, open(sys.argv[1], encoding="utf-8")):
    if o["addr"] != addr:
        continue
    if kind == "label":
        k, v = value.split("=", 1)
        sys.exit(0 if o["labels"].get(k) == v else 1)
    if kind == "asn":
        sys.exit(0 if (o.get("geo") or {}).get("asn") == int(value) else 1)
    sys.exit(0 if any(i["kind"] == kind and i["value"] == value for i in o["identities"]) else 1)
sys.exit(1)
PY
        then pass "$name: $t"; else fail "$name: $t not reported"; fi
    done
}
# absent CAPTURE ADDR KIND VALUE : must not be reported
absent() {
    "$S" idents -q --no-geoip -r "$P/$1" --format csv -o "$TMP/a.csv"
    if grep -q "^$2,.*,$3,$4," "$TMP/a.csv"; then fail "$1: $2 $3 $4 reported"; else pass "$1: no $3 $4 on $2"; fi
}

# DNS: the queried name and every CNAME on the chain, on the answered address
check ndpi/iphone.pcap -- \
    "23.45.74.46|dns|www.icloud.com" "23.45.74.46|dns|www-cdn.icloud.com.akadns.net" \
    "23.45.74.46|dns|www.icloud.com.edgekey.net" "23.45.74.46|dns|e4478.a.akamaiedge.net"
check ext/zeek__wikipedia.pcap -- \
    "208.80.152.2|dns|meta.wikimedia.org" "208.80.152.2|dns|text.pmtpa.wikimedia.org"
# DHCP: hostname and MAC on the leased address (REQUEST + ACK)
check ext/csanders__dhcp_nolease_initialization.pcapng -- \
    "192.168.1.10|dhcp_hostname|ubuntu2" "192.168.1.10|dhcp_mac|00:0c:29:59:fd:21"
check ndpi/alexa-app.pcapng -- \
    "172.16.42.216|dhcp_hostname|android-1c1335ec95a27318" "172.16.42.216|dhcp_vendor|dhcpcd-5.5.6" \
    "172.16.42.216|dhcp_mac|78:f8:82:d3:fb:c2"
check ext/zeek__dhcp.pcap -- "128.2.6.189|dhcp_hostname|btest.is.cool"
absent ext/zeek__dhcp.pcap 192.168.211.194 dhcp_hostname btest.is.cool     # that REQUEST was NAKed
# Kerberos: principals on the client, realm on the KDC
check ndpi/kerberos.pcap -- \
    "172.16.8.201|krb_user|theresa.johnson@HAPPYCRAFT" "172.16.8.201|krb_user|JOHNSON-PC\$@HAPPYCRAFT.ORG" \
    "172.16.8.8|krb_realm|HAPPYCRAFT.ORG"
check ext/zeek__kinit.pcap -- "192.168.1.31|krb_user|valid_client_principal@VLADG.NET"
# SSH banners, both ends
check ext/zeek__sshguess.pcap -- \
    "192.168.56.1|ssh_banner|SSH-2.0-OpenSSH_6.2" "192.168.56.103|ssh_banner|SSH-2.0-OpenSSH_6.7p1 Debian-3"
# TLS SNI on the server address, IPv4 and IPv6
check ndpi/443-curl.pcap -- "178.62.197.130|sni|www.ntop.org"
check ndpi/http_ipv6.pcap -- "2a03:b0c0:3:d0::70:1001|sni|www.ntop.org"
# HTTP Host/Server on the server, User-Agent on the client
check ext/csanders__http_espn.pcapng -- \
    "199.181.132.250|http_host|www.espn.com" "199.181.132.250|http_server|Apache" \
    "172.16.0.122|user_agent|Mozilla/5.0 (X11; U; Linux i686; en-US; rv:1.9.1.8) Gecko/20100214 Ubuntu/9.10 (karmic) Firefox/3.5.8"
# NetBIOS: a datagram's source name, a name query response, a node status response, a registration
check ndpi/netbios.pcap -- "10.0.5.9|netbios|NVR9" "10.0.5.1|netbios|GURU" "10.0.4.24|netbios|GUNNAR"
check ndpi/zoom.pcap -- "192.168.1.117|netbios|LUCAS-IMAC"
# mDNS answers, IPv4 and IPv6
check ext/zeek__mdns.pcap -- \
    "10.0.2.7|mdns|johanna-QEMU-Virtual-Machine.local" \
    "fd52:429e:c03c:8235:883c:d6ff:fee1:4dc4|mdns|johanna-QEMU-Virtual-Machine.local"
# Labels by name (a DHCP hostname) and GeoIP ASN of an external address
printf '192.168.1.0/24 env=lab\nname:ubuntu* role=workstation\n' > "$TMP/l2.txt"
check ext/csanders__dhcp_nolease_initialization.pcapng --labels "$TMP/l2.txt" -- \
    "192.168.1.10|label|env=lab" "192.168.1.10|label|role=workstation"
if [ -f "$MMDB/GeoLite2-ASN-Test.mmdb" ]; then
    "$S" idents -q -r "$P/ndpi/iphone.pcap" --geoip "$MMDB/GeoLite2-ASN-Test.mmdb" --format json -o "$TMP/g.json"
    "$PYTHON" - "$TMP/g.json" <<'PY' && pass "iphone.pcap: 23.45.74.46 is AS35994 Akamai; no geo for internal addresses" || fail "GeoIP enrichment"
import json, sys
h = {o["addr"]: o for o in map(json.loads, open(sys.argv[1], encoding="utf-8"))}
g = h["23.45.74.46"]["geo"] or {}
ok = g.get("asn") == 35994 and g.get("as_org", "").startswith("Akamai")
ok = ok and all(o["geo"] is None for o in h.values() if o["internal"])
sys.exit(0 if ok else 1)
PY
fi
# Every capture of the corpus: no crash, exit 0 (or 3 for the ones with broken files)
n=0; bad=0
for f in "$P"/ndpi/*.pcap* "$P"/ext/*.pcap*; do
    n=$((n + 1))
    "$S" idents -q --no-geoip -r "$f" -o /dev/null 2> "$TMP/e"; rc=$?
    [ $rc = 0 ] || [ $rc = 3 ] || { bad=$((bad + 1)); echo "  $(basename "$f"): exit $rc $(head -c 200 "$TMP/e")"; }
done
[ $bad = 0 ] && pass "idents on all $n captures: no crash" || fail "idents crashed on $bad of $n captures"
finish
