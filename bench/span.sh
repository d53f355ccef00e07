#!/bin/sh
# bench/span.sh - SPAN-port throughput of segscope, side by side with the floor
# (a plain libpcap pcap_next_ex loop, bench/pcap_floor.c) and nDPI's own
# ndpiReader, on three inputs it builds itself (in bench/out, reused):
#
#   mixed  MIXED packets of real traffic (bench/mkmixed.py over the shared nDPI
#          captures, or data/sample.pcap without them): ~200-300k flows
#   short  FLOWS one-packet UDP flows from 65,536 clients to one server
#          (bench/genflows.c -H), all alive at once: the flow-table worst case
#   bulk   16 TCP flows of full-size (1514-byte) frames (genflows -s), ~1 GB
#
#   bench/span.sh [MIXED] [FLOWS]         (default 3500000 3000000)
#   env: REPEAT=N   runs per program, best kept (default 3; ndpiReader runs once)
#        NDPI=0     skip ndpiReader (it needs minutes and ~10 GB on short)
#        CALLGRIND=0  skip the callgrind section
#
# Every file is read once first so that every program reads it from the page
# cache.  Per program: wall seconds, CPU seconds (user + system, which tells
# a loaded machine apart) and peak RSS (/usr/bin/time -f "%e %M %U %S"),
# packets/s, the ratio of its wall time to the floor's and to ndpiReader's.
# Then: capture --threads 2 against single-threaded capture (packet rate),
# memory per live flow on short (peak RSS / flows, and --stats), and
# callgrind instructions per packet (total Ir / packets, valgrind) on the
# first 200,000 packets of mixed for the floor, ndpiReader and capture.
# capture writes a fresh database each run (bench/out/span-db).  Run from the
# build tree after `make`.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
S=${SEGSCOPE:-$top/segscope}
shared=${SEGSCOPE_SHARED:-$top/../shared}
nmixed=${1:-3500000}
nflows=${2:-3000000}
REPEAT=${REPEAT:-3}
NDPI=${NDPI:-1}
CALLGRIND=${CALLGRIND:-1}
out=$top/bench/out
db=$out/span-db
mkdir -p "$out"
command -v ndpiReader > /dev/null || NDPI=0
command -v valgrind > /dev/null || CALLGRIND=0
[ -x /usr/bin/time ] || { echo "bench/span.sh: needs /usr/bin/time (Debian package time)" >&2; exit 1; }
cc -O2 -o "$out/pcap_floor" "$top/bench/pcap_floor.c" $(pkg-config --cflags --libs libpcap)
cc -O2 -o "$out/genflows" "$top/bench/genflows.c"

# ---- inputs ---------------------------------------------------------------
mixed=$out/mixed-$nmixed.pcap
if [ ! -f "$mixed" ]; then
    if [ -d "$shared/data/pcaps/ndpi" ]; then src=$(ls "$shared"/data/pcaps/ndpi/*.pcap); else src=$top/data/sample.pcap; fi
    python3 "$top/bench/mkmixed.py" "$mixed" "$nmixed" $src
fi
short=$out/short-$nflows.pcap
[ -f "$short" ] || "$out/genflows" "$nflows" -H 65536 -o "$short"
bulk=$out/bulk-16.pcap
[ -f "$bulk" ] || "$out/genflows" 16 -t -p 41000 -s 1514 -P 5001 -o "$bulk"
# A budget above every input's flow count: every flow stays alive (none evicted).
maxflows="--max-flows $((nflows + nflows / 2))"

# run NAME CMD...: best of REPEAT runs as "seconds rss_kib cpu_seconds" in $out/span.NAME;
# the last run's stderr in $out/span.NAME.err.  A failed run is reported.
run() {
    name=$1; shift
    best=
    n=$REPEAT
    case $name in *.ndpi) n=1 ;; esac
    i=0
    while [ $i -lt "$n" ]; do
        rm -rf "$db"
        if ! /usr/bin/time -f "%e %M %U %S" -o "$out/span.time" "$@" > /dev/null 2> "$out/span.$name.err"; then
            echo "bench/span.sh: $name failed: $(tail -2 "$out/span.$name.err")" >&2
        fi
        r=$(tail -1 "$out/span.time" | awk '{t = $1 < 0.01 ? 0.01 : $1; printf "%s %s %.2f", t, $2, $3 + $4}')
        if [ -z "$best" ] || [ "$(echo "${r%% *} < ${best%% *}" | bc)" = 1 ]; then best=$r; fi
        i=$((i + 1))
    done
    echo "$best" > "$out/span.$name"
}
stat_of() { awk -v k="$1" '$1==k{s+=$2} END{print s+0}' "$2"; }

load0=$(cut -d' ' -f1-3 /proc/loadavg)
for input in mixed short bulk; do
    eval f=\$$input
    cat "$f" > /dev/null
    pk=$("$out/pcap_floor" "$f" | cut -d' ' -f1)
    run "$input.floor" "$out/pcap_floor" "$f"
    # Without NDPI=1 no ndpiReader row: not one left from an earlier run.
    if [ "$NDPI" = 1 ]; then run "$input.ndpi" ndpiReader -q -i "$f"; else rm -f "$out/span.$input.ndpi"; fi
    run "$input.nodpi" "$S" flows -q --no-dpi $maxflows --stats -r "$f" -o /dev/null
    run "$input.flows" "$S" flows -q $maxflows -r "$f" -o /dev/null
    run "$input.cap1" "$S" capture -q --stats $maxflows -r "$f" --db "$db"
    run "$input.cap2" "$S" capture -q --stats --threads 2 $maxflows -r "$f" --db "$db"
    # What two cores give two independent processes on this machine: two
    # single-threaded captures of the same file at once (the ceiling of
    # --threads 2 when the two cores share caches or a physical core).
    run "$input.pair" sh -c 'rm -rf "$3.a" "$3.b"; "$1" capture -q $4 -r "$2" --db "$3.a" &
        "$1" capture -q $4 -r "$2" --db "$3.b"; wait; rm -rf "$3.a" "$3.b"' sh "$S" "$f" "$db" "$maxflows"
    echo "$pk $(stat_of flows_created "$out/span.$input.nodpi.err")" > "$out/span.$input.info"
done
rm -rf "$db"

# ---- the table ------------------------------------------------------------
ratio() { [ -s "$2" ] && echo "$1 $(cut -d' ' -f1 "$2")" | awk '{printf "%.2f", $1 / $2}' || echo -; }
echo "segscope $("$S" --version | cut -d' ' -f2), $(nproc) CPUs, load average before: $load0, after: $(cut -d' ' -f1-3 /proc/loadavg)"
for input in mixed short bulk; do
    eval f=\$$input
    read pk nf < "$out/span.$input.info"
    printf "\n%s: %s, %s packets, %s flows, %.0f MB\n" "$input" "$(basename "$f")" "$pk" "$nf" \
        "$(echo "$(stat -c %s "$f") / 1000000" | bc -l)"
    printf "%-30s %8s %8s %12s %9s %8s %8s\n" program seconds cpu_s packets/s rss_MiB x_floor x_ndpi
    for p in floor ndpi nodpi flows cap1 cap2; do
        r=$out/span.$input.$p
        [ -s "$r" ] || continue
        case $p in
        floor) name=pcap_floor ;;
        ndpi) name="ndpiReader -q" ;;
        nodpi) name="segscope flows --no-dpi" ;;
        flows) name="segscope flows" ;;
        cap1) name="segscope capture" ;;
        cap2) name="segscope capture --threads 2" ;;
        esac
        read t rss cpu < "$r"
        printf "%-30s %8.2f %8.2f %12.0f %9.1f %8s %8s\n" "$name" "$t" "$cpu" "$(echo "$pk / $t" | bc -l)" \
            "$(echo "$rss / 1024" | bc -l)" "$(ratio "$t" "$out/span.$input.floor")" \
            "$(ratio "$t" "$out/span.$input.ndpi")"
    done
    read t1 x y < "$out/span.$input.cap1"
    read t2 x y < "$out/span.$input.cap2"
    printf "capture --threads 2 / single-threaded packet rate: %.2f\n" "$(echo "$t1 / $t2" | bc -l)"
    if [ -s "$out/span.$input.pair" ]; then
        read tp x y < "$out/span.$input.pair"
        printf "two single-threaded captures at once / one alone, packet rate (this machine's ceiling for 2 threads): %.2f\n" \
            "$(echo "2 * $t1 / $tp" | bc -l)"
    fi
done

# ---- memory per live flow (short: every flow alive until the end) -----------
read pk nf < "$out/span.short.info"
printf "\nmemory per live flow on short (%s flows alive at the end):\n" "$nf"
for p in ndpi nodpi flows cap1 cap2; do
    r=$out/span.short.$p
    [ -s "$r" ] || continue
    read t rss cpu < "$r"
    case $p in
    ndpi) name="ndpiReader -q" ;;
    nodpi) name="segscope flows --no-dpi" ;;
    flows) name="segscope flows" ;;
    cap1) name="segscope capture" ;;
    cap2) name="segscope capture --threads 2" ;;
    esac
    printf "  %-30s peak RSS / flows = %.0f bytes\n" "$name" "$(echo "$rss * 1024 / $nf" | bc -l)"
done
e=$out/span.short.cap1.err
printf "  capture --stats: flow_record_bytes %s, nDPI state %s bytes/flow while detecting (%s packed, after one packet), kept after detection %s bytes/flow, flow_bytes_after_detection %s, flows_peak %s\n" \
    "$(stat_of flow_record_bytes "$e")" \
    "$(echo "$(stat_of dpi.state_bytes_freed "$e") / $(stat_of dpi.flows "$e")" | bc)" \
    "$(echo "$(stat_of dpi.peak_packed_bytes "$e") / ($(stat_of dpi.peak_packed_states "$e") + 1)" | bc)" \
    "$(echo "$(stat_of dpi.kept_bytes "$e") / $(stat_of dpi.flows "$e")" | bc)" \
    "$(stat_of flow_bytes_after_detection "$e")" "$(stat_of flows_peak "$e")"

# ---- callgrind: instructions per packet ---------------------------------------
if [ "$CALLGRIND" = 1 ]; then
    slice=$out/mixed-slice-200000.pcap
    [ -f "$slice" ] || python3 - "$mixed" "$slice" 200000 <<'PY'
import struct, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(src, "rb") as f, open(dst, "wb") as o:
    h = f.read(24)
    e = "<" if struct.unpack("<I", h[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    o.write(h)
    for _ in range(n):
        r = f.read(16)
        if len(r) < 16:
            break
        o.write(r + f.read(struct.unpack(e + "IIII", r)[2]))
PY
    spk=$("$out/pcap_floor" "$slice" | cut -d' ' -f1)
    ir() {
        valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 > /dev/null |
            awk '/Collected/{gsub(",", "", $4); print $4}'
    }
    fl=$(ir "$out/pcap_floor" "$slice")
    printf "\ncallgrind on the first %s packets of mixed (instructions per packet, ratio to the floor):\n" "$spk"
    printf "  %-44s %8.0f %6.2f\n" pcap_floor "$(echo "$fl / $spk" | bc -l)" 1
    if command -v ndpiReader > /dev/null; then
        n=$(ir ndpiReader -q -i "$slice")
        printf "  %-44s %8.0f %6.2f\n" "ndpiReader -q" "$(echo "$n / $spk" | bc -l)" "$(echo "$n / $fl" | bc -l)"
    fi
    rm -rf "$db"
    c=$(ir "$S" capture -q --flush-interval 0 -r "$slice" --db "$db")
    rm -rf "$db"
    printf "  %-44s %8.0f %6.2f\n" "segscope capture (one flush, at the end)" "$(echo "$c / $spk" | bc -l)" \
        "$(echo "$c / $fl" | bc -l)"
fi
