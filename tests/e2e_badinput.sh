#!/bin/sh
# Bad input matrix: every kind of broken input segscope can be handed, and
# what it must do with each.  A rejected input gives exit status 3
# (EXIT_INPUT, segscope.1 EXIT STATUS) and exactly one line on standard
# error naming the input and the reason; an accepted oddity is counted in
# --stats.  Cases that write a database check that a rejected run leaves
# the database directory as it was (checksums of its files, RocksDB's own
# LOG files aside).  Cases whose command does not exist yet in this build
# ("segscope --help" does not list it) print SKIP and do not fail.
. "$(dirname "$0")/lib.sh"
S=$SEGSCOPE
SAMPLE=$top_srcdir/data/sample.pcap
B=$TMP/bad
mkdir -p "$B"
n_skip=0
skip() { n_skip=$((n_skip + 1)); echo "SKIP: $*"; }
has_cmd() { "$S" --help 2>/dev/null | grep -q "^  $1 "; }
has_opt() { "$S" "$1" --help 2>/dev/null | grep -q -- "$2"; }

# rejected WHAT CODE NAME REASON -- command...
# The command must exit CODE with one line on stderr that names NAME
# (the input) and matches the extended regex REASON.
rejected() {
    what=$1; code=$2; name=$3; reason=$4; shift 5
    "$@" >"$TMP/out" 2>"$TMP/err"
    got=$?
    lines=$(wc -l < "$TMP/err")
    if [ "$got" != "$code" ]; then
        fail "$what: exit $got, wanted $code; stderr: $(head -c 300 "$TMP/err")"
    elif [ "$lines" != 1 ]; then
        fail "$what: $lines lines on stderr, wanted 1: $(head -c 300 "$TMP/err")"
    elif ! grep -qF -- "$name" "$TMP/err"; then
        fail "$what: error does not name '$name': $(cat "$TMP/err")"
    elif ! grep -qE -- "$reason" "$TMP/err"; then
        fail "$what: error does not say /$reason/: $(cat "$TMP/err")"
    else
        pass "$what (exit $got: $(cat "$TMP/err"))"
    fi
}

# stat_is STATSFILE NAME VALUE WHAT
stat_is() {
    v=$(awk -v k="$2" '$1==k{print $2}' "$1")
    if [ "$v" = "$3" ]; then pass "$4 ($2 $v)"; else fail "$4: $2 is '${v}', wanted $3"; fi
}

# ---- the bad files, made here ------------------------------------------------
"$PYTHON" - "$B" "$SAMPLE" <<'PY'
import struct, sys
out, sample = sys.argv[1], sys.argv[2]

def frame(sport=1234, dport=53, size=100):
    """Ethernet + IPv4 + UDP, size bytes in all."""
    udp_len = size - 14 - 20
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 1, 0, 64, 17, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    udp = struct.pack(">HHHH", sport, dport, udp_len, 0) + b"x" * (udp_len - 8)
    return b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00" + ip + udp

def pcap(recs, link=1, snaplen=65535):
    b = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, snaplen, link)
    for i, r in enumerate(recs):
        data, caplen, wlen = r if isinstance(r, tuple) else (r, len(r), len(r))
        b += struct.pack("<IIII", 1700000000 + i, 0, caplen, wlen) + data
    return b

def blk(t, body):
    body += b"\0" * (-len(body) % 4)
    return struct.pack("<II", t, len(body) + 12) + body + struct.pack("<I", len(body) + 12)

SHB = blk(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
def idb(link=1, snaplen=262144):
    return blk(1, struct.pack("<HHI", link, 0, snaplen))
def epb(data, ifid=0):
    return blk(6, struct.pack("<IIIII", ifid, 0, 1000000, len(data), len(data)) + data)

def w(name, data):
    open(out + "/" + name, "wb").write(data)

w("text.pcap", b"this is not a capture at all\n")
w("empty.pcap", b"")
w("hdr.pcap", open(sample, "rb").read()[:10])
w("ng-hdr.pcapng", SHB[:20])
w("cut-record.pcap", pcap([frame(), frame(1235)])[:-30])
w("cut-rechdr.pcap", pcap([frame()]) + struct.pack("<III", 1, 0, 60)[:7])
w("oversnap.pcap", pcap([frame(size=100)], snaplen=64))
w("caplen-over-len.pcap", pcap([(frame(size=100), 100, 60)]))
w("huge.pcap", pcap([]) + struct.pack("<IIII", 1, 0, 300000, 300000) + b"\0" * 64)
w("user0.pcap", pcap([b"abcd"], link=147))
w("unknown-blocks.pcapng", SHB + idb() + blk(0x0BAD, b"custom") + epb(frame())
  + blk(0x40000BAD, b"custom, not to copy") + blk(4, struct.pack("<HH", 0, 0))
  + blk(5, struct.pack("<III", 0, 0, 0)) + epb(frame(1235)))
w("mixed-link.pcapng", SHB + idb() + idb(147) + epb(frame()) + epb(b"abcd", 1))
w("badlen.pcapng", SHB + idb() + struct.pack("<II", 6, 29) + b"\0" * 21)
w("trailer.pcapng", SHB + idb() + epb(frame())[:-4] + struct.pack("<I", 4))
w("bad-iface.pcapng", SHB + idb() + epb(frame(), ifid=5))
w("bad-bom.pcapng", SHB[:8] + b"\x01\x02\x03\x04" + SHB[12:])
PY

# ---- capture files -----------------------------------------------------------
F="$S flows -q -o $TMP/flows.csv"
rejected "not a capture" 3 text.pcap "not a pcap or pcapng file" -- $F -r "$B/text.pcap"
rejected "zero-length file" 3 empty.pcap "empty file" -- $F -r "$B/empty.pcap"
rejected "truncated pcap file header" 3 hdr.pcap "truncated file header" -- $F -r "$B/hdr.pcap"
rejected "truncated pcapng section header" 3 ng-hdr.pcapng "truncated file header" -- $F -r "$B/ng-hdr.pcapng"
rejected "truncated record" 3 cut-record.pcap "truncated packet record at byte [0-9]+" -- $F -r "$B/cut-record.pcap"
[ "$(grep -c . "$TMP/flows.csv")" = 2 ] && pass "truncated record: the flow before it is written" ||
    fail "truncated record: flows before the damage not written: $(cat "$TMP/flows.csv")"
rejected "truncated record header" 3 cut-rechdr.pcap "truncated record header at byte 140 \(7 of 16 bytes\)" -- $F -r "$B/cut-rechdr.pcap"
rejected "record above the 256 KiB cap" 3 huge.pcap "record too large at byte 24" -- $F -r "$B/huge.pcap"
rejected "unsupported link type" 3 user0.pcap "unsupported link type 147" -- $F -r "$B/user0.pcap"
rejected "pcapng block length not a multiple of 4" 3 badlen.pcapng "not a multiple of 4" -- $F -r "$B/badlen.pcapng"
rejected "pcapng trailer length mismatch" 3 trailer.pcapng "does not match" -- $F -r "$B/trailer.pcapng"
rejected "pcapng packet on an undefined interface" 3 bad-iface.pcapng "refers to interface 5" -- $F -r "$B/bad-iface.pcapng"
rejected "pcapng bad byte-order magic" 3 bad-bom.pcapng "byte-order magic" -- $F -r "$B/bad-bom.pcapng"
rejected "missing file" 3 nope.pcap "No such file or directory" -- $F -r "$B/nope.pcap"
mkdir -p "$B/dir.pcap"
rejected "a directory given as a file" 3 dir.pcap "Is a directory" -- $F -r "$B/dir.pcap"
if [ "$(id -u)" = 0 ]; then
    skip "unreadable file (chmod 000): running as root, which reads it anyway (the directory case covers an unreadable input)"
else
    cp "$SAMPLE" "$B/noperm.pcap" && chmod 000 "$B/noperm.pcap"
    rejected "unreadable file (chmod 000)" 3 noperm.pcap "Permission denied" -- $F -r "$B/noperm.pcap"
fi
# A bad file among good ones is still named, and nothing is read before the check.
rejected "second of two files is bad" 3 text.pcap "not a pcap or pcapng file" -- $F -r "$SAMPLE" -r "$B/text.pcap"

# Accepted and counted (documented in segscope.1, DECODING).
"$S" flows -q --stats -r "$B/oversnap.pcap" -o "$TMP/o.csv" 2>"$TMP/stats"; rc=$?
[ $rc = 0 ] && pass "record longer than the snap length: accepted" || fail "oversnap: exit $rc"
stat_is "$TMP/stats" records_over_snaplen 1 "record longer than the snap length is counted"
stat_is "$TMP/stats" frames_decoded 1 "record longer than the snap length is decoded whole"
"$S" flows -q --stats -r "$B/caplen-over-len.pcap" -o "$TMP/o.csv" 2>"$TMP/stats"; rc=$?
[ $rc = 0 ] && pass "caplen > len: accepted" || fail "caplen > len: exit $rc"
stat_is "$TMP/stats" caplen_over_len 1 "caplen > len is counted"
"$S" flows -q --stats -r "$B/unknown-blocks.pcapng" -o "$TMP/o.csv" 2>"$TMP/stats"; rc=$?
[ $rc = 0 ] && pass "pcapng with unknown block types: accepted" || fail "unknown blocks: exit $rc"
stat_is "$TMP/stats" pcapng_blocks_skipped 4 "pcapng unknown, custom, name-resolution and statistics blocks are counted"
stat_is "$TMP/stats" frames_decoded 2 "pcapng packets around unknown blocks are read"
"$S" flows -q --stats -r "$B/mixed-link.pcapng" -o "$TMP/o.csv" 2>"$TMP/stats"; rc=$?
[ $rc = 0 ] && pass "pcapng with a second interface of an unsupported link type: accepted" || fail "mixed link: exit $rc"
stat_is "$TMP/stats" skipped_unsupported_link 1 "packets of the unsupported interface are counted"

# ---- databases (segscope capture --db) ------------------------------------------
# db_sum DIR: checksums of the database's files, RocksDB's info logs aside.
db_sum() { (cd "$1" && find . -type f ! -name 'LOG*' | LC_ALL=C sort | xargs sha256sum 2>/dev/null); }
# unchanged WHAT DIR BEFORE
unchanged() {
    db_sum "$2" > "$TMP/after.sum"
    if cmp -s "$3" "$TMP/after.sum"; then pass "$1: database left as it was"
    else fail "$1: database changed: $(diff "$3" "$TMP/after.sum" | head -5)"; fi
}

if ! has_cmd capture; then
    skip "database cases: no 'segscope capture' command in this build"
else
    DB=$TMP/db
    "$S" capture -q --db "$DB" -r "$SAMPLE" >/dev/null 2>"$TMP/err"; rc=$?
    [ $rc = 0 ] && pass "capture --db makes a database" || fail "capture --db: exit $rc: $(cat "$TMP/err")"
    db_sum "$DB" > "$TMP/before.sum"

    # In use: a first capture holds the database while it waits on its input.
    mkfifo "$TMP/fifo"
    "$S" capture -q --db "$DB" -r - < "$TMP/fifo" >/dev/null 2>"$TMP/holder.err" &
    holder=$!
    exec 7>"$TMP/fifo"                     # keep the pipe open: the holder waits
    head -c 24 "$SAMPLE" >&7               # a pcap header, then nothing yet
    i=0                                    # until the holder has RocksDB's LOCK open (<= 10 s)
    while [ $i -lt 100 ] && kill -0 $holder 2>/dev/null &&
          ! ls -l /proc/$holder/fd 2>/dev/null | grep -q "$DB/LOCK"; do
        sleep 0.1; i=$((i + 1))
    done
    # RocksDB goes on writing its files for a moment after taking the lock
    # (OPTIONS, MANIFEST, a new WAL): wait until they settle (<= 10 s).
    db_sum "$DB" > "$TMP/held.sum"
    i=0
    while [ $i -lt 20 ]; do
        sleep 0.5
        db_sum "$DB" > "$TMP/held2.sum"
        cmp -s "$TMP/held.sum" "$TMP/held2.sum" && break
        mv "$TMP/held2.sum" "$TMP/held.sum"
        i=$((i + 1))
    done
    rejected "database in use by another segscope" 3 "$DB" "in use" -- "$S" capture -q --db "$DB" -r "$SAMPLE"
    unchanged "database in use" "$DB" "$TMP/held.sum"
    exec 7>&-                              # end of input: the holder finishes
    wait $holder; rc=$?
    [ $rc = 0 ] && pass "the holder finishes cleanly" || fail "holder: exit $rc: $(cat "$TMP/holder.err")"
    db_sum "$DB" > "$TMP/before.sum"

    # Not a database: a regular file, a directory of other things.
    echo hello > "$TMP/notadb"
    rejected "database path is a regular file" 3 notadb "." -- "$S" capture -q --db "$TMP/notadb" -r "$SAMPLE"
    mkdir -p "$TMP/junkdb" && echo hello > "$TMP/junkdb/CURRENT"
    rejected "database directory with junk in it" 3 junkdb "." -- "$S" capture -q --db "$TMP/junkdb" -r "$SAMPLE"

    # A database written by a newer segscope (schema version above ours).
    if [ -x "$top_builddir/tests/graphtool" ]; then
        cp -r "$DB" "$TMP/newdb"
        "$top_builddir/tests/graphtool" set-schema "$TMP/newdb" 99 || fail "graphtool set-schema failed"
        db_sum "$TMP/newdb" > "$TMP/new.sum"
        rejected "database of a newer schema" 3 newdb "schema|newer" -- "$S" capture -q --db "$TMP/newdb" -r "$SAMPLE"
        unchanged "database of a newer schema" "$TMP/newdb" "$TMP/new.sum"
    else
        skip "database of a newer schema: tests/graphtool not built"
    fi

    # A record that does not decode is counted and skipped, never fatal.
    if [ -x "$top_builddir/tests/graphtool" ]; then
        cp -r "$DB" "$TMP/corruptdb"
        # An edge key (10.0.0.1 -> 10.0.0.2 tcp/80 "HTTP") whose value is garbage.
        "$top_builddir/tests/graphtool" put-raw "$TMP/corruptdb" 45040a000001040a00000206005048545450 01ffffffffffffffffffffff ||
            fail "graphtool put-raw failed"
        "$S" stats --db "$TMP/corruptdb" > "$TMP/out" 2>"$TMP/err"; rc=$?
        [ $rc = 0 ] && pass "database with a corrupt record: stats still works" || fail "stats on a corrupt record: exit $rc: $(cat "$TMP/err")"
        c=$(awk '$1=="corrupt_records"{print $2}' "$TMP/out")
        [ "${c:-0}" -ge 1 ] && pass "database with a corrupt record: counted (corrupt_records $c)" ||
            fail "corrupt record not counted: corrupt_records '$c'"
        "$S" capture -q --db "$TMP/corruptdb" -r "$SAMPLE" >/dev/null 2>"$TMP/err"; rc=$?
        [ $rc = 0 ] && pass "capture into a database with a corrupt record" || fail "capture over a corrupt record: exit $rc: $(cat "$TMP/err")"
    fi

    # Bad side inputs must be refused before the database is touched.
    if has_opt capture --labels; then
        printf 'this line is not a label\n\0\377garbage\n' > "$B/labels.bad"
        rejected "malformed labels file" 3 labels.bad "." -- "$S" capture -q --db "$DB" -r "$SAMPLE" --labels "$B/labels.bad"
        unchanged "malformed labels file" "$DB" "$TMP/before.sum"
        rejected "missing labels file" 3 nolabels "No such file" -- "$S" capture -q --db "$DB" -r "$SAMPLE" --labels "$B/nolabels"
        unchanged "missing labels file" "$DB" "$TMP/before.sum"
    else
        skip "malformed labels file: no 'capture --labels' in this build"
    fi
    if has_opt capture --geoip; then
        MM=$SEGSCOPE_SHARED/data/mmdb/bad-data/libmaxminddb
        if [ -d "$MM" ]; then
            for m in "$MM"/*.mmdb; do
                n=$(basename "$m")
                "$S" capture -q --db "$DB" -r "$SAMPLE" --geoip "$m" >/dev/null 2>"$TMP/err"; rc=$?
                if [ $rc = 3 ]; then
                    if [ "$(wc -l < "$TMP/err")" = 1 ] && grep -qF "$n" "$TMP/err"; then
                        pass "corrupt MaxMind DB $n: refused (exit 3: $(cat "$TMP/err"))"
                    else
                        fail "corrupt MaxMind DB $n: exit 3 but the error is not one line naming it: $(head -c 300 "$TMP/err")"
                    fi
                    unchanged "corrupt MaxMind DB $n" "$DB" "$TMP/before.sum"
                elif [ $rc = 0 ]; then
                    # libmaxminddb opens some of these; their lookups fail and are counted.
                    pass "corrupt MaxMind DB $n: opened, lookups survived (exit 0)"
                    db_sum "$DB" > "$TMP/before.sum"
                else
                    fail "corrupt MaxMind DB $n: exit $rc: $(head -c 300 "$TMP/err")"
                fi
            done
        else
            skip "corrupt MaxMind DBs: $MM not found"
        fi
        rejected "MaxMind DB that is not one" 3 text.pcap "." -- "$S" capture -q --db "$DB" -r "$SAMPLE" --geoip "$B/text.pcap"
        unchanged "MaxMind DB that is not one" "$DB" "$TMP/before.sum"
    else
        skip "corrupt MaxMind DBs: no 'capture --geoip' in this build"
    fi
    # A bad capture file with --db: refused before anything is written.
    rejected "bad capture file with --db" 3 text.pcap "not a pcap" -- "$S" capture -q --db "$DB" -r "$B/text.pcap"
    unchanged "bad capture file with --db" "$DB" "$TMP/before.sum"
fi

# ---- policies (segscope check --policy) -----------------------------------------------
if ! has_cmd check; then
    skip "policy cases: no 'segscope check' command in this build"
else
    printf '{"schema": "segscope.policy/v1", "segments": [' > "$B/cut.json"
    printf '{"schema": "segscope.policy/v9", "segments": [], "rules": [], "default": "deny"}\n' > "$B/schema.json"
    printf '{"schema": "segscope.policy/v1", "segments": [], "rules": [{"src": "nosuch", "dst": "any"}], "default": "deny"}\n' > "$B/ref.json"
    printf '{"schema": "segscope.policy/v1", "segments": [{"id": "a", "members": ["10.0.0.300"]}], "rules": [], "default": "deny"}\n' > "$B/addr.json"
    for p in cut.json schema.json ref.json addr.json; do
        rejected "malformed policy $p" 3 "$p" "." -- "$S" check -q --policy "$B/$p" -r "$SAMPLE"
    done
    rejected "missing policy" 3 nopolicy.json "No such file|cannot open" -- "$S" check -q --policy "$B/nopolicy.json" -r "$SAMPLE"
    if [ -n "${DB:-}" ] && [ -d "$DB" ]; then
        db_sum "$DB" > "$TMP/before.sum"
        rejected "malformed policy against a database" 3 ref.json "unknown segment" -- "$S" check -q --policy "$B/ref.json" --db "$DB"
        unchanged "malformed policy against a database" "$DB" "$TMP/before.sum"
    fi
fi

echo "$n_skip cases skipped"
finish
