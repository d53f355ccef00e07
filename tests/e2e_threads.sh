#!/bin/sh
# segscope capture --threads: the database holds exactly the same hosts and
# edges (identities, MACs, labels included) with one worker or two, with one
# flush at the end or many along the way; the progress line shows the
# database's flushes; SIGHUP re-reads the labels file (a bad file is
# refused and the labels in use are kept).
. "$(dirname "$0")/lib.sh"
S=$SEGSCOPE
SAMPLE=$top_srcdir/data/sample.pcap

# dump DB NAME: sorted hosts and edges of DB into $TMP/NAME.{h,e}
dump() {
    "$S" hosts --db "$1" --format csv | LC_ALL=C sort > "$TMP/$2.h" &&
    "$S" edges --db "$1" --format csv | LC_ALL=C sort > "$TMP/$2.e"
}
# same A B WHAT: the dumps A and B are byte-identical
same() {
    if cmp -s "$TMP/$1.h" "$TMP/$2.h" && cmp -s "$TMP/$1.e" "$TMP/$2.e"; then
        pass "$3 ($(wc -l < "$TMP/$1.h") host lines, $(wc -l < "$TMP/$1.e") edge lines)"
    else
        fail "$3: $(diff "$TMP/$1.h" "$TMP/$2.h" | head -3) $(diff "$TMP/$1.e" "$TMP/$2.e" | head -3)"
    fi
}

inputs=$SAMPLE
ENT=$SEGSCOPE_SHARED/scenarios/enterprise-1/train.pcap
if [ -f "$ENT" ]; then inputs="$inputs $ENT"; else echo "note: $ENT not found, sample only"; fi
i=0
for f in $inputs; do
    i=$((i + 1))
    for t in 1 2; do
        expect_exit 0 "capture --threads $t $(basename "$f")" -- \
            "$S" capture -q --stats --threads $t -r "$f" --db "$TMP/db$i-$t"
        cp "$TMP/err" "$TMP/stats$i-$t"
        dump "$TMP/db$i-$t" "d$i-$t"
    done
    same "d$i-1" "d$i-2" "$(basename "$f"): the same database with --threads 1 and 2"
    [ "$(awk '$1=="threads"{print $2}' "$TMP/stats$i-2")" = 2 ] && pass "--stats says threads 2" ||
        fail "threads: $(grep threads "$TMP/stats$i-2")"
    grep -q "^dpi_worker 1" "$TMP/stats$i-2" && pass "a DPI module per worker" || fail "no dpi_worker 1 in --stats"
done
grep -q "dns=" "$TMP/d1-2.h" && grep -q "dhcp_hostname=" "$TMP/d1-2.h" &&
    pass "identities (DNS, DHCP) with two workers" || fail "identities missing: $(head -3 "$TMP/d1-2.h")"

# Many flushes along the way, two workers, a bad label file...: still the same.
"$PYTHON" "$top_srcdir/tests/slowcat.py" "$SAMPLE" 262144 0.1 |
    "$S" capture -v --threads 2 --flush-interval 0.3 --progress -r - --db "$TMP/dbslow" 2> "$TMP/slow.err"
n=$(grep -c "flush [0-9]*:" "$TMP/slow.err")
[ "$n" -ge 3 ] && pass "a slow feed is flushed along the way ($n flushes)" || fail "flushes: $n"
dump "$TMP/dbslow" slow
same d1-1 slow "flushed $n times by two workers = once by one"
grep -q "db flushes [0-9]*, writes [0-9]*" "$TMP/slow.err" && pass "the progress line shows database flushes and writes" ||
    fail "progress line: $(tr '\r' '\n' < "$TMP/slow.err" | grep pkt | head -2)"

# SIGHUP re-reads --labels.  The capture reads a FIFO fed slowly.
L=$TMP/labels.txt
echo "10.0.0.0/8 env=old" > "$L"
mkfifo "$TMP/fifo"
"$PYTHON" "$top_srcdir/tests/slowcat.py" "$SAMPLE" 65536 0.15 "$TMP/fifo" &
feeder=$!
"$S" capture -v --stats --threads 2 --flush-interval 0.3 --labels "$L" -r "$TMP/fifo" --db "$TMP/dbhup" \
    2> "$TMP/hup.err" &
pid=$!
wait_for() {    # wait_for PATTERN: up to 10 s for PATTERN in hup.err
    k=0
    while [ $k -lt 100 ] && ! grep -q "$1" "$TMP/hup.err"; do sleep 0.1; k=$((k + 1)); done
    grep -q "$1" "$TMP/hup.err"
}
wait_for "flush 2:" && pass "capture with --labels is flushing" || fail "no flush: $(cat "$TMP/hup.err")"
echo "10.0.0.0/8 env=" > "$L"                          # not a valid rule
kill -HUP $pid
wait_for "keeping the labels" && pass "SIGHUP with a bad labels file: refused, old labels kept" ||
    fail "bad file on SIGHUP: $(cat "$TMP/hup.err")"
echo "10.0.0.0/8 env=new" > "$L"
kill -HUP $pid
wait_for "SIGHUP: re-read" && pass "SIGHUP re-reads the labels file" || fail "no re-read: $(cat "$TMP/hup.err")"
wait $pid
rc=$?
wait $feeder 2>/dev/null
[ $rc = 0 ] && pass "the capture survives SIGHUP and completes" || fail "capture exit $rc: $(tail -3 "$TMP/hup.err")"
grep -q "^labels_reloaded 1$" "$TMP/hup.err" && pass "--stats counts one reload" || fail "$(grep labels_reloaded "$TMP/hup.err")"
"$S" hosts --db "$TMP/dbhup" --format csv > "$TMP/hup.h"
grep -q "env=new" "$TMP/hup.h" && pass "the new label landed" || fail "no env=new: $(head -3 "$TMP/hup.h")"
grep -q "env=old" "$TMP/hup.h" && pass "hosts not seen since the reload keep the old one" ||
    echo "note: every host was written again after the reload"
"$S" stats --db "$TMP/dbhup" | grep -q "complete" && pass "the capture is complete" || fail "capture state"
finish
