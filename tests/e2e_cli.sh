#!/bin/sh
# The command line as a user meets it: help, exit codes, one-line errors
# naming the input, stdin, several files as one timeline, filters, formats.
. "$(dirname "$0")/lib.sh"
S=$SEGSCOPE
SAMPLE=$top_srcdir/data/sample.pcap

expect_exit 0 "--help" -- "$S" --help
expect_grep "flows" "$TMP/out" "--help lists the flows command"
expect_exit 0 "--version" -- "$S" --version
expect_exit 2 "no command" -- "$S"
expect_exit 2 "unknown command" -- "$S" frobnicate
expect_exit 0 "flows --help" -- "$S" flows --help
expect_grep "max-flows" "$TMP/out" "flows --help documents --max-flows"
expect_exit 2 "flows without input" -- "$S" flows
expect_exit 2 "bad --max-flows" -- "$S" flows -r "$SAMPLE" --max-flows abc
expect_exit 2 "bad BPF filter" -- "$S" flows -r "$SAMPLE" -f "tcp and and"
expect_grep "filter" "$TMP/err" "bad filter message names the filter"

# Bad inputs: one line, naming the file and the reason, exit 3.
printf '' > "$TMP/empty.pcap"
expect_exit 3 "empty file" -- "$S" flows -r "$TMP/empty.pcap"
expect_grep "empty.pcap: " "$TMP/err" "empty file error names the file"
[ "$(wc -l < "$TMP/err")" = 1 ] && pass "empty file error is one line" || fail "empty file error is not one line: $(cat "$TMP/err")"
echo "this is not a capture at all" > "$TMP/text.pcap"
expect_exit 3 "not a capture" -- "$S" flows -r "$TMP/text.pcap"
expect_grep "not a pcap" "$TMP/err" "not-a-capture reason"
expect_exit 3 "missing file" -- "$S" flows -r "$TMP/nope.pcap"
expect_grep "nope.pcap: " "$TMP/err" "missing file named"
head -c 10 "$SAMPLE" > "$TMP/hdr.pcap"
expect_exit 3 "truncated file header" -- "$S" flows -r "$TMP/hdr.pcap"
head -c 100000 "$SAMPLE" > "$TMP/cut.pcap"
expect_exit 3 "truncated record" -- "$S" flows -r "$TMP/cut.pcap" -o "$TMP/cut.csv"
expect_grep "truncated" "$TMP/err" "truncated record reason"
[ "$(wc -l < "$TMP/cut.csv")" -gt 1 ] && pass "flows before the truncation are still written" || fail "no flows written from a truncated file"
# Unsupported link type: a pcap header with link type 147 (USER0) and one record.
"$PYTHON" - "$TMP/user0.pcap" <<'PY'
import struct, sys
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 147))
    f.write(struct.pack("<IIII", 1, 0, 4, 4) + b"abcd")
PY
expect_exit 3 "unsupported link type" -- "$S" flows -r "$TMP/user0.pcap"
expect_grep "link type" "$TMP/err" "unsupported link type reason"

# The sample: stdin equals a file; two files are one timeline.
"$S" flows -q -r "$SAMPLE" -o "$TMP/a.csv"; rc=$?
[ $rc = 0 ] && pass "flows on the sample" || fail "flows on the sample: exit $rc"
"$S" flows -q -r - < "$SAMPLE" > "$TMP/b.csv"
cmp -s "$TMP/a.csv" "$TMP/b.csv" && pass "-r - (stdin) gives the same flows" || fail "stdin differs from file"
"$S" flows -q -r "$SAMPLE" -r "$SAMPLE" --stats -o "$TMP/c.csv" 2> "$TMP/stats"
f1=$(grep -c . "$TMP/a.csv")
expect_grep "^frames_read " "$TMP/stats" "--stats prints frames_read"
fr1=$("$S" flows -r "$SAMPLE" --stats -o /dev/null 2>&1 | awk '$1=="frames_read"{print $2}')
fr2=$(awk '$1=="frames_read"{print $2}' "$TMP/stats")
[ "$fr2" = $((fr1 * 2)) ] && pass "two files: twice the frames ($fr2)" || fail "two files: frames $fr2, wanted $((fr1 * 2))"

# Filter: only port 53 flows remain.
"$S" flows -q -r "$SAMPLE" -f "udp port 53" -o "$TMP/dns.csv"
bad=$(awk -F, 'NR>1 && $7!=53 && $9!=53' "$TMP/dns.csv" | wc -l)
n=$(($(wc -l < "$TMP/dns.csv") - 1))
[ "$n" -gt 0 ] && [ "$bad" = 0 ] && pass "BPF filter keeps only port 53 ($n flows)" || fail "filter: $n flows, $bad not port 53"

# JSON Lines parse and agree with the CSV count.
"$S" flows -q -r "$SAMPLE" --format json -o "$TMP/a.json"
"$PYTHON" -c '
import json, sys
n = sum(1 for line in open(sys.argv[1]) if json.loads(line)["proto"])
sys.exit(0 if n == int(sys.argv[2]) else 1)' "$TMP/a.json" "$((f1 - 1))" && pass "JSON lines parse, one per flow" || fail "JSON output"

# --max-flows: eviction is counted and nothing is lost.
"$S" flows -r "$SAMPLE" --max-flows 10 --stats -o "$TMP/ev.csv" 2> "$TMP/ev.stats"
ev=$(awk '$1=="flows_ended_evicted"{print $2}' "$TMP/ev.stats")
pk=$(awk '$1=="flows_peak"{print $2}' "$TMP/ev.stats")
[ "${ev:-0}" -gt 0 ] && [ "$pk" -le 10 ] && pass "--max-flows 10 evicts ($ev) and peaks at $pk" || fail "--max-flows: evicted $ev peak $pk"
sum() { awk -F, 'NR>1{p+=$10+$12; b+=$11+$13} END{print p, b}' "$1"; }
[ "$(sum "$TMP/ev.csv")" = "$(sum "$TMP/a.csv")" ] && pass "evicted flows keep every packet and byte" || fail "eviction lost packets: $(sum "$TMP/ev.csv") vs $(sum "$TMP/a.csv")"

# Live capture without privilege or on a missing interface: clear error.
expect_exit 3 "missing interface" -- "$S" flows -i segscope-no-such-if0 --duration 1
expect_grep "segscope-no-such-if0" "$TMP/err" "missing interface named"
finish
