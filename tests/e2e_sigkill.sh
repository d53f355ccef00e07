#!/bin/sh
# A capture killed with SIGKILL loses at most its last flush window: the
# database opens, holds what was flushed before the kill, and every record
# in it is consistent; the next capture into it works.
. "$(dirname "$0")/lib.sh"
S=$SEGSCOPE
SAMPLE=$top_srcdir/data/sample.pcap
DB=$TMP/db
stat_of() { awk -v k="$2" '$1==k{print $2}' "$1"; }

# Feed the sample slowly (about 12 s) into a capture that flushes every second.
"$PYTHON" "$top_srcdir/tests/slowcat.py" "$SAMPLE" 65536 0.2 |
    "$S" capture -v --flush-interval 1 -r - --db "$DB" 2> "$TMP/cap.err" &
# $! is the last command of the pipeline: the capture.
pid=$!
i=0
flows=0
while [ $i -lt 150 ]; do
    if "$S" stats --db "$DB" > "$TMP/stats" 2>/dev/null; then
        flows=$(stat_of "$TMP/stats" flows)
        [ "${flows:-0}" -gt 0 ] && break
    fi
    sleep 0.1
    i=$((i + 1))
done
[ "${flows:-0}" -gt 0 ] && pass "a reader sees flushed flows while the capture runs ($flows)" || fail "no flush seen: $(cat "$TMP/cap.err")"
sleep 1
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
grep -q "flush 1:" "$TMP/cap.err" && pass "-v reports flushes" || fail "no flush line: $(cat "$TMP/cap.err")"
grep -q "flows into" "$TMP/cap.err" && fail "the capture finished before the kill (feed too fast?)" || pass "killed mid-capture"

expect_exit 0 "stats after SIGKILL" -- "$S" stats --db "$DB"
cp "$TMP/out" "$TMP/stats.after"
after=$(stat_of "$TMP/stats.after" flows)
[ "${after:-0}" -ge "$flows" ] && pass "the flushed flows survived ($after >= $flows)" || fail "flows after kill: $after < $flows"
[ "$(stat_of "$TMP/stats.after" corrupt_records)" = 0 ] && pass "no corrupt record" || fail "corrupt records after kill"
expect_grep "running" "$TMP/stats.after" "the killed capture is on record as running"
# Consistency: the edges and hosts agree with each other and with stats.
"$S" edges --db "$DB" --format csv > "$TMP/e.csv" && "$S" hosts --db "$DB" --format csv > "$TMP/h.csv"
"$PYTHON" - "$TMP/h.csv" "$TMP/e.csv" "$after" <<'PY' && pass "hosts and edges consistent after the kill" || fail "inconsistent after the kill"
import csv, sys
h = list(csv.DictReader(open(sys.argv[1]))); e = list(csv.DictReader(open(sys.argv[2])))
ef = sum(int(r["flows"]) for r in e)
ok = ef == int(sys.argv[3]) == sum(int(r["client_flows"]) for r in h) == sum(int(r["server_flows"]) for r in h)
ends = {r["client"] for r in e} | {r["server"] for r in e}
ok = ok and ends <= {r["addr"] for r in h}
sys.exit(0 if ok else 1)
PY
# The lock died with the process: a new capture completes and adds everything.
expect_exit 0 "capture into the database after the kill" -- "$S" capture -q -r "$SAMPLE" --db "$DB"
total=$("$S" flows -q -r "$SAMPLE" | awk 'END{print NR - 1}')
"$S" stats --db "$DB" > "$TMP/stats.final"
[ "$(stat_of "$TMP/stats.final" flows)" = $((after + total)) ] && pass "the next capture adds its $total flows" || fail "after recapture: $(stat_of "$TMP/stats.final" flows), wanted $((after + total))"
finish
