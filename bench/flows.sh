#!/bin/sh
# bench/flows.sh - speed and memory of `segscope flows` against the floor,
# a plain libpcap pcap_next_ex loop over the same file (from the page cache).
#
#   bench/flows.sh [PACKETS]        (default 3500000)
#
# Builds bench/out/mixed.pcap from the shared nDPI captures (or from
# data/sample.pcap when ../shared is absent) with bench/mkmixed.py, then
# runs each program three times and reports the best run; peak RSS from
# /usr/bin/time when present.  Run from the build tree after `make`.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
shared=${SEGSCOPE_SHARED:-$top/../shared}
n=${1:-3500000}
out=$top/bench/out
mkdir -p "$out"
cc -O2 -o "$out/pcap_floor" "$top/bench/pcap_floor.c" $(pkg-config --cflags --libs libpcap)
mixed=$out/mixed-$n.pcap
if [ ! -f "$mixed" ]; then
    if [ -d "$shared/data/pcaps/ndpi" ]; then src=$(ls "$shared"/data/pcaps/ndpi/*.pcap); else src=$top/data/sample.pcap; fi
    python3 "$top/bench/mkmixed.py" "$mixed" "$n" $src
fi
cat "$mixed" > /dev/null

# best_of CMD...: prints "seconds maxrss_kib"
best_of() {
    best=
    for i in 1 2 3; do
        if [ -x /usr/bin/time ]; then
            /usr/bin/time -f "%e %M" -o "$out/time" "$@" > /dev/null 2>&1 || true
            r=$(cat "$out/time" | tail -1)
        else
            s=$(date +%s.%N); "$@" > /dev/null 2>&1 || true; e=$(date +%s.%N)
            r="$(echo "$e - $s" | bc) 0"
        fi
        t=${r% *}
        if [ -z "$best" ] || [ "$(echo "$t < ${best% *}" | bc)" = 1 ]; then best=$r; fi
    done
    echo "$best"
}

pk=$("$out/pcap_floor" "$mixed" | cut -d' ' -f1)
floor=$(best_of "$out/pcap_floor" "$mixed")
flows=$(best_of "$top/segscope" flows -q --no-dpi -r "$mixed" -o /dev/null)
nflows=$("$top/segscope" flows --no-dpi -r "$mixed" --stats -o /dev/null 2>&1 | awk '$1=="flows_created"{print $2}')
printf "input: %s, %s packets, %s flows\n" "$mixed" "$pk" "$nflows"
printf "%-28s %10s %14s %12s %8s\n" program seconds packets/s peak_rss_MiB ratio
for row in "pcap_floor:$floor" "segscope flows --no-dpi:$flows"; do
    name=${row%%:*}; v=${row#*:}; t=${v% *}; rss=${v#* }
    printf "%-28s %10.3f %14.0f %12.1f %8.2f\n" "$name" "$t" "$(echo "$pk / $t" | bc -l)" \
        "$(echo "$rss / 1024" | bc -l)" "$(echo "$t / ${floor% *}" | bc -l)"
done
