#!/bin/sh
# The workload graph end to end: capture into a database, agree with
# "segscope flows", accumulate (a second capture doubles every counter),
# refuse databases of a newer schema (untouched) and foreign directories,
# one writer at a time (readers welcome), corrupt records skipped, filters
# and formats of hosts/edges/stats.
. "$(dirname "$0")/lib.sh"
S=$SEGSCOPE
SAMPLE=$top_srcdir/data/sample.pcap
TOOL=$top_builddir/tests/graphtool
DB=$TMP/db

# Checksums of every file in a directory.
tree_sum() { (cd "$1" && find . -type f | LC_ALL=C sort | xargs sha256sum); }
stat_of() { awk -v k="$2" '$1==k{print $2}' "$1"; }

expect_exit 0 "capture --help" -- "$S" capture --help
expect_grep "flush-interval" "$TMP/out" "capture --help documents --flush-interval"
expect_exit 2 "capture without --db" -- "$S" capture -r "$SAMPLE"
expect_exit 2 "hosts without --db" -- "$S" hosts
expect_exit 2 "edges: bad --format" -- "$S" edges --db "$DB" --format xml
expect_exit 2 "edges: bad --proto" -- "$S" edges --db "$DB" --proto bogus
expect_exit 3 "stats of a missing database" -- "$S" stats --db "$TMP/nope"
expect_exit 3 "capture of a missing file leaves no database" -- "$S" capture -r "$TMP/nope.pcap" --db "$TMP/nodb"
[ ! -e "$TMP/nodb" ] && pass "no database created for a bad input" || fail "a database was created for a bad input"

# 1. One capture: stats agree with segscope flows.
expect_exit 0 "capture the sample" -- "$S" capture -r "$SAMPLE" --db "$DB"
expect_grep "hosts" "$TMP/err" "capture prints a summary"
"$S" flows -q -r "$SAMPLE" -o "$TMP/flows.csv"
want=$(awk -F, 'NR>1{n++; p+=$10+$12; b+=$11+$13} END{print n, p, b}' "$TMP/flows.csv")
"$S" stats --db "$DB" > "$TMP/stats1" 2>&1 || fail "stats exit $?"
got="$(stat_of "$TMP/stats1" flows) $(stat_of "$TMP/stats1" packets) $(stat_of "$TMP/stats1" bytes)"
[ "$got" = "$want" ] && pass "stats flows/packets/bytes agree with segscope flows ($got)" || fail "stats $got, flows $want"
[ "$(stat_of "$TMP/stats1" schema)" = 2 ] && pass "schema 2" || fail "schema: $(cat "$TMP/stats1")"
[ "$(stat_of "$TMP/stats1" captures)" = 1 ] && pass "one capture recorded" || fail "captures: $(stat_of "$TMP/stats1" captures)"
expect_grep "sample.pcap (3575591 bytes)" "$TMP/stats1" "the capture lists its file and size"
expect_grep "complete" "$TMP/stats1" "the capture is complete"
"$S" edges --db "$DB" --format csv > "$TMP/e1.csv"
"$S" hosts --db "$DB" --format csv > "$TMP/h1.csv"
[ $(($(wc -l < "$TMP/e1.csv") - 1)) = "$(stat_of "$TMP/stats1" edges)" ] && pass "edges lists every edge" || fail "edges: $(wc -l < "$TMP/e1.csv") lines"
[ $(($(wc -l < "$TMP/h1.csv") - 1)) = "$(stat_of "$TMP/stats1" hosts)" ] && pass "hosts lists every host" || fail "hosts: $(wc -l < "$TMP/h1.csv") lines"
# Every flow has a client and a server: the node counters add up to the edges'.
"$PYTHON" - "$TMP/h1.csv" "$TMP/e1.csv" <<'PY' && pass "host counters add up to the edges" || fail "host counters do not add up"
import csv, sys
h = list(csv.DictReader(open(sys.argv[1]))); e = list(csv.DictReader(open(sys.argv[2])))
cf = sum(int(r["client_flows"]) for r in h); sf = sum(int(r["server_flows"]) for r in h)
ef = sum(int(r["flows"]) for r in e)
cb = sum(int(r["client_bytes"]) for r in h)
eb = sum(int(r["bytes_c2s"]) + int(r["bytes_s2c"]) for r in e)
sys.exit(0 if cf == sf == ef and cb == eb else 1)
PY

# 2. The same file again: every counter exactly doubled, nothing else changed.
expect_exit 0 "capture the sample again" -- "$S" capture -q -r "$SAMPLE" --db "$DB"
"$S" edges --db "$DB" --format csv > "$TMP/e2.csv"
"$S" hosts --db "$DB" --format csv > "$TMP/h2.csv"
"$PYTHON" - "$TMP/e1.csv" "$TMP/e2.csv" "$TMP/h1.csv" "$TMP/h2.csv" > "$TMP/double" 2>&1 <<'PY'
import csv, sys
def check(a, b, counters, same):
    a = list(csv.DictReader(open(a))); b = list(csv.DictReader(open(b)))
    if len(a) != len(b):
        print("rows", len(a), len(b)); return False
    ok = True
    for x, y in zip(a, b):
        for k in counters:
            if int(y[k]) != 2 * int(x[k]):
                print("not doubled", k, x, y); ok = False
        for k in same:
            if x[k] != y[k]:
                print("changed", k, x[k], y[k]); ok = False
    return ok
e = check(sys.argv[1], sys.argv[2],
          ["flows", "pkts_c2s", "pkts_s2c", "bytes_c2s", "bytes_s2c", "flows_handshake", "flows_heuristic"],
          ["client", "server", "proto", "port", "app", "first_seen", "last_seen", "days", "names"])
h = check(sys.argv[3], sys.argv[4],
          ["client_flows", "client_pkts", "client_bytes", "server_flows", "server_pkts", "server_bytes"],
          ["addr", "internal", "first_seen", "last_seen", "macs", "identities", "labels"])
print(len(open(sys.argv[1]).readlines()) - 1, "edges")
sys.exit(0 if e and h else 1)
PY
[ $? = 0 ] && pass "second capture doubles every edge and host counter ($(tail -1 "$TMP/double"))" || fail "doubling: $(head -c 600 "$TMP/double")"
"$S" stats --db "$DB" > "$TMP/stats2"
[ "$(stat_of "$TMP/stats2" captures)" = 2 ] && pass "two captures recorded" || fail "captures after two runs: $(stat_of "$TMP/stats2" captures)"

# 3. Formats and filters.
"$S" edges --db "$DB" --format json > "$TMP/e.json"
"$PYTHON" -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if len(rows) == int(sys.argv[2]) and all("app" in r and "days" in r for r in rows) else 1)' \
    "$TMP/e.json" "$(stat_of "$TMP/stats1" edges)" && pass "edges JSON lines parse" || fail "edges JSON"
"$S" hosts --db "$DB" --format json > "$TMP/h.json"
"$PYTHON" -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if rows and all(isinstance(r["internal"], bool) and "identities" in r for r in rows) else 1)' \
    "$TMP/h.json" && pass "hosts JSON lines parse" || fail "hosts JSON"
"$S" stats --db "$DB" --format json > "$TMP/s.json"
"$PYTHON" -c '
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if s["schema"] == 2 and len(s["captures"]) == 2 and s["top_apps"] else 1)' "$TMP/s.json" \
    && pass "stats JSON parses" || fail "stats JSON"
"$S" edges --db "$DB" --format csv --proto udp --port 53 > "$TMP/dns.csv"
bad=$(awk -F, 'NR>1 && ($3!="udp" || $4!=53)' "$TMP/dns.csv" | wc -l)
n=$(($(wc -l < "$TMP/dns.csv") - 1))
[ "$n" -gt 0 ] && [ "$bad" = 0 ] && pass "--proto udp --port 53 ($n edges)" || fail "--proto/--port: $n edges, $bad wrong"
"$S" edges --db "$DB" --format csv --app dns > "$TMP/app.csv"
bad=$(awk -F, 'NR>1 && $5!="DNS"' "$TMP/app.csv" | wc -l)
[ "$(wc -l < "$TMP/app.csv")" -gt 1 ] && [ "$bad" = 0 ] && pass "--app is case-insensitive" || fail "--app dns"
"$S" edges --db "$DB" --format csv --addr 10.10.0.10 > "$TMP/addr.csv"
bad=$(awk -F, 'NR>1 && $1!="10.10.0.10" && $2!="10.10.0.10"' "$TMP/addr.csv" | wc -l)
[ "$(wc -l < "$TMP/addr.csv")" -gt 1 ] && [ "$bad" = 0 ] && pass "--addr matches either end" || fail "--addr"
"$S" hosts --db "$DB" --format csv --cidr 10.10.0.0/24 > "$TMP/cidr.csv"
bad=$(awk -F, 'NR>1 && $1 !~ /^10\.10\.0\./' "$TMP/cidr.csv" | wc -l)
[ "$(wc -l < "$TMP/cidr.csv")" -gt 1 ] && [ "$bad" = 0 ] && pass "hosts --cidr" || fail "hosts --cidr"
"$S" hosts --db "$DB" --format csv --proto tcp --port 88 > "$TMP/krb.csv"
expect_grep "^10.10.0.10," "$TMP/krb.csv" "hosts --port 88 lists the KDC"
expect_exit 2 "--cidr with host bits" -- "$S" hosts --db "$DB" --cidr 10.10.0.1/24
# Labels applied at query time, and stored by a capture.
printf '10.10.0.10 role=dc env=prod\n10.11.0.0/24 role=shop-app\n' > "$TMP/labels.txt"
"$S" hosts --db "$DB" --format csv --labels "$TMP/labels.txt" --label role=dc > "$TMP/dc.csv"
[ "$(wc -l < "$TMP/dc.csv")" = 2 ] && grep -q "^10.10.0.10,.*role=dc" "$TMP/dc.csv" && pass "hosts --labels FILE --label role=dc" || fail "query-time labels: $(cat "$TMP/dc.csv")"
"$S" edges --db "$DB" --format csv --labels "$TMP/labels.txt" --label role=dc > "$TMP/dce.csv"
bad=$(awk -F, 'NR>1 && $1!="10.10.0.10" && $2!="10.10.0.10"' "$TMP/dce.csv" | wc -l)
[ "$(wc -l < "$TMP/dce.csv")" -gt 1 ] && [ "$bad" = 0 ] && pass "edges --label matches either end" || fail "edges --label"
expect_exit 3 "a missing labels file" -- "$S" hosts --db "$DB" --labels "$TMP/none.txt"
expect_exit 0 "capture with --labels" -- "$S" capture -q -r "$SAMPLE" --db "$TMP/lab" --labels "$TMP/labels.txt"
"$S" hosts --db "$TMP/lab" --format csv --label role=shop-app > "$TMP/shop.csv"
[ "$(wc -l < "$TMP/shop.csv")" -gt 1 ] && pass "labels stored at capture time" || fail "stored labels: $(cat "$TMP/shop.csv")"
"$S" hosts --db "$DB" > "$TMP/hosts.txt"
expect_grep "^ADDRESS  *CLASS" "$TMP/hosts.txt" "hosts text has a header"

# The records do not depend on how writes were batched: many flushes = one.
expect_exit 0 "capture with frequent flushes" -- "$S" capture -q -r "$SAMPLE" --db "$TMP/often" --flush-interval 0.01
expect_exit 0 "capture with one flush" -- "$S" capture -q -r "$SAMPLE" --db "$TMP/once" --flush-interval 0
"$S" edges --db "$TMP/often" --format csv > "$TMP/often.e"; "$S" edges --db "$TMP/once" --format csv > "$TMP/once.e"
"$S" hosts --db "$TMP/often" --format csv > "$TMP/often.h"; "$S" hosts --db "$TMP/once" --format csv > "$TMP/once.h"
cmp -s "$TMP/often.e" "$TMP/once.e" && cmp -s "$TMP/often.h" "$TMP/once.h" \
    && pass "hosts and edges are the same whatever the flush interval" || fail "flush batching changes the records"

# GeoIP data for external addresses (MaxMind's test databases).
MMDB=$SEGSCOPE_SHARED/data/mmdb
if [ -f "$MMDB/GeoLite2-City-Test.mmdb" ] && [ -f "$MMDB/GeoLite2-ASN-Test.mmdb" ]; then
    "$PYTHON" - "$TMP/geo.pcap" <<'PY'
import struct, sys
def ip(s): return bytes(int(x) for x in s.split("."))
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
def udp(src, dst, sport, dport, payload=b"x" * 8):
    u = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(u), 1, 0, 64, 17, 0, ip(src), ip(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00" + h + u
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i, (a, b, sp, dp) in enumerate([("10.0.0.1", "81.2.69.142", 40000, 5000),
                                        ("10.0.0.1", "1.128.0.1", 40001, 5001)]):
        p = udp(a, b, sp, dp)
        f.write(struct.pack("<IIII", 1710115200 + i, 0, len(p), len(p)) + p)
PY
    expect_exit 0 "capture with --geoip" -- "$S" capture -q -r "$TMP/geo.pcap" --db "$TMP/geo" \
        --geoip "$MMDB/GeoLite2-City-Test.mmdb" --geoip "$MMDB/GeoLite2-ASN-Test.mmdb" --internal 1.128.0.0/16
    "$S" hosts --db "$TMP/geo" --format csv > "$TMP/geo.csv"
    grep -q '^81.2.69.142,0,.*,GB,0,$' "$TMP/geo.csv" && pass "GeoIP country of an external host" || fail "geo: $(cat "$TMP/geo.csv")"
    grep -q '^1.128.0.1,1,.*,,,,$' "$TMP/geo.csv" && pass "--internal: no GeoIP for an internal host" || fail "--internal: $(cat "$TMP/geo.csv")"
    expect_exit 0 "capture with --geoip, ASN" -- "$S" capture -q -r "$TMP/geo.pcap" --db "$TMP/geo2" \
        --geoip "$MMDB/GeoLite2-ASN-Test.mmdb"
    "$S" hosts --db "$TMP/geo2" --format csv > "$TMP/geo2.csv"
    grep -q '^1.128.0.1,0,.*,1221,Telstra Pty Ltd$' "$TMP/geo2.csv" && pass "GeoIP AS number and organisation" || fail "asn: $(cat "$TMP/geo2.csv")"
else
    echo "SKIP: GeoIP test databases not found under $MMDB"
fi

# 4. A newer schema: refused with exit 3, the directory left byte-identical.
cp -r "$DB" "$TMP/newer"
"$TOOL" set-schema "$TMP/newer" 99 || fail "graphtool set-schema"
tree_sum "$TMP/newer" > "$TMP/sum1"
expect_exit 3 "capture into a newer schema" -- "$S" capture -r "$SAMPLE" --db "$TMP/newer"
expect_grep "schema version 99 is newer" "$TMP/err" "newer schema message"
[ "$(wc -l < "$TMP/err")" = 1 ] && pass "newer schema: one line" || fail "newer schema: $(cat "$TMP/err")"
expect_exit 3 "stats of a newer schema" -- "$S" stats --db "$TMP/newer"
expect_exit 3 "edges of a newer schema" -- "$S" edges --db "$TMP/newer"
tree_sum "$TMP/newer" > "$TMP/sum2"
cmp -s "$TMP/sum1" "$TMP/sum2" && pass "newer-schema database left byte-identical" || fail "newer-schema database changed: $(diff "$TMP/sum1" "$TMP/sum2")"

# 4b. An older schema (1: edge records without nDPI risks) is read as it is, and
#     raised to the current schema by a writer, its old records kept.
"$TOOL" put-raw "$TMP/older" 45040a000001040a0000020601bb544c53 01010202646400000100000000 || fail "graphtool put-raw"
"$TOOL" set-schema "$TMP/older" 1 || fail "graphtool set-schema"
tree_sum "$TMP/older" > "$TMP/sum1"
expect_exit 0 "edges of a schema 1 database" -- "$S" edges --db "$TMP/older" --format csv
[ "$(tail -n +2 "$TMP/out")" = "10.0.0.1,10.0.0.2,tcp,443,TLS,1,2,2,100,100,0.000000000,0.000000000,0,1,0,," ] &&
    pass "a version 1 edge record: no risks" || fail "old edge: $(cat "$TMP/out" "$TMP/err")"
"$S" stats --db "$TMP/older" > "$TMP/stats5" 2>&1
[ "$(stat_of "$TMP/stats5" schema)" = 1 ] && pass "schema 1 read as it is" || fail "schema: $(cat "$TMP/stats5")"
tree_sum "$TMP/older" > "$TMP/sum2"
cmp -s "$TMP/sum1" "$TMP/sum2" && pass "reading a schema 1 database changes nothing" || fail "schema 1 database changed by a reader"
expect_exit 0 "capture into a schema 1 database" -- "$S" capture -q -r "$SAMPLE" --db "$TMP/older"
"$S" stats --db "$TMP/older" > "$TMP/stats5" 2>&1
[ "$(stat_of "$TMP/stats5" schema)" = 2 ] && pass "a writer raises the schema to 2" || fail "schema: $(cat "$TMP/stats5")"
[ "$(stat_of "$TMP/stats5" corrupt_records)" = 0 ] && "$S" edges --db "$TMP/older" --format csv | grep -q '^10.0.0.1,10.0.0.2,tcp,443,TLS,1,' &&
    pass "the old edge record is kept" || fail "old edge lost: $(cat "$TMP/stats5")"

# 5. Not a segscope database.
mkdir "$TMP/notdb" && echo hello > "$TMP/notdb/file.txt"
expect_exit 3 "capture into a directory that is not a database" -- "$S" capture -r "$SAMPLE" --db "$TMP/notdb"
expect_grep "not a segscope database" "$TMP/err" "not-a-database message"
[ ! -e "$TMP/notdb/CURRENT" ] && pass "foreign directory untouched" || fail "foreign directory written"
"$TOOL" put-raw "$TMP/foreign" 68656c6c6f 776f726c64
expect_exit 3 "a RocksDB without the schema key" -- "$S" stats --db "$TMP/foreign"
expect_grep "schema key" "$TMP/err" "foreign RocksDB message"

# 6. Corrupt records are counted and skipped.
cp -r "$DB" "$TMP/corrupt"
"$TOOL" put-raw "$TMP/corrupt" 45040a0a000a040a0a000b06005054657374 0901
"$TOOL" put-raw "$TMP/corrupt" 4e04c0a80001 01
expect_exit 0 "edges of a database with a corrupt record" -- "$S" edges --db "$TMP/corrupt" --format csv
[ $(($(wc -l < "$TMP/out") - 1)) = "$(stat_of "$TMP/stats1" edges)" ] && pass "corrupt edge skipped, the others listed" || fail "corrupt: $(wc -l < "$TMP/out") lines"
expect_grep "corrupt records skipped" "$TMP/err" "corrupt records reported"
"$S" stats --db "$TMP/corrupt" > "$TMP/stats3" 2>/dev/null
[ "$(stat_of "$TMP/stats3" corrupt_records)" = 2 ] && pass "stats counts 2 corrupt records" || fail "corrupt_records: $(stat_of "$TMP/stats3" corrupt_records)"
expect_exit 0 "capture over a corrupt record" -- "$S" capture -q -r "$SAMPLE" --db "$TMP/corrupt"

# 7. One writer at a time; readers are welcome meanwhile.
mkfifo "$TMP/fifo"
"$S" capture -q -r "$TMP/fifo" --db "$TMP/busy" > "$TMP/busy.out" 2>&1 &
pid=$!
exec 3> "$TMP/fifo"
head -c 24 "$SAMPLE" >&3            # the file header: the capture opens the database
i=0
while [ $i -lt 100 ] && ! "$S" stats --db "$TMP/busy" > /dev/null 2>&1; do sleep 0.1; i=$((i + 1)); done
expect_exit 3 "a second writer" -- "$S" capture -r "$SAMPLE" --db "$TMP/busy"
[ "$(cat "$TMP/err")" = "segscope: $TMP/busy: database is in use by another process" ] \
    && pass "in-use message" || fail "in-use message: $(cat "$TMP/err")"
expect_exit 0 "a reader while the writer runs" -- "$S" stats --db "$TMP/busy"
tail -c +25 "$SAMPLE" >&3
exec 3>&-
wait $pid
rc=$?
[ $rc = 0 ] && pass "the first writer finishes" || fail "first writer: exit $rc: $(cat "$TMP/busy.out")"
"$S" stats --db "$TMP/busy" > "$TMP/stats4"
[ "$(stat_of "$TMP/stats4" flows)" = "$(stat_of "$TMP/stats1" flows)" ] && pass "the FIFO capture holds every flow" || fail "FIFO capture: $(stat_of "$TMP/stats4" flows) flows"
finish
