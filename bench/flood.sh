#!/bin/sh
# bench/flood.sh - a flood of distinct flows against a small flow table.
#
#   bench/flood.sh [N] [MAX_FLOWS]      (default 5000000 flows, --max-flows 100000)
#
# bench/genflows.c writes bench/out/flood-N-{udp,syn}.pcap: N distinct flows
# of one packet each (UDP, then TCP SYN).  Each is read by
#   segscope flows --no-dpi --max-flows MAX_FLOWS --stats
# and by segscope capture --db (DPI on: capture has no --no-dpi) under
# /usr/bin/time -v.  Reported: wall time, peak RSS, flows created, flows
# evicted early (flows_ended_evicted of --stats), the table's peak, and
# whether every flow reached the output (records == N; for capture, the
# database's edge count and graph_flows_folded == N).  Exit 1 if a flow was lost.
# Run from the build tree after `make`; needs about 380 MB of disk per pcap.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
S=${SEGSCOPE:-$top/segscope}
n=${1:-5000000}
max=${2:-100000}
out=$top/bench/out
mkdir -p "$out"
cc -O2 -o "$out/genflows" "$top/bench/genflows.c"
lost=0

# stat NAME FILE: a --stats counter
stat() { awk -v k="$1" '$1==k{print $2}' "$2"; }
# timev FILE: "seconds peak_rss_MiB" from /usr/bin/time -v output
timev() {
    awk -F': ' '/Elapsed \(wall clock\)/{n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]}
                /Maximum resident set size/{r=$2/1024} END{printf "%.1f %.0f", s, r}' "$1"
}

printf "%-44s %8s %9s %10s %10s %8s %10s %s\n" run seconds rss_MiB created evicted peak records ok
for kind in udp syn; do
    pcap=$out/flood-$n-$kind.pcap
    if [ ! -f "$pcap" ]; then
        flag=; [ $kind = syn ] && flag=-t
        "$out/genflows" "$n" $flag -o "$pcap"
    fi
    cat "$pcap" > /dev/null                # from the page cache, like the other benches

    /usr/bin/time -v -o "$out/flood.time" "$S" flows -q --no-dpi --max-flows "$max" --stats \
        -r "$pcap" -o "$out/flood.csv" 2> "$out/flood.stats"
    recs=$(($(wc -l < "$out/flood.csv") - 1))
    ok=yes; [ "$recs" = "$n" ] || { ok=NO; lost=1; }
    set -- $(timev "$out/flood.time")
    printf "%-44s %8s %9s %10s %10s %8s %10s %s\n" "flows $kind --max-flows $max" "$1" "$2" \
        "$(stat flows_created "$out/flood.stats")" "$(stat flows_ended_evicted "$out/flood.stats")" \
        "$(stat flows_peak "$out/flood.stats")" "$recs" "$ok"
    rm -f "$out/flood.csv"

    if "$S" --help 2>/dev/null | grep -q '^  capture '; then
        db=$out/flood-db
        rm -rf "$db"
        /usr/bin/time -v -o "$out/flood.time" "$S" capture -q --max-flows "$max" --stats \
            --db "$db" -r "$pcap" > /dev/null 2> "$out/flood.stats" || true
        edges=$("$S" stats --db "$db" 2>/dev/null | awk '$1=="edges"{print $2}' || true)
        folded=$(stat graph_flows_folded "$out/flood.stats")
        ok=yes; [ "$edges" = "$n" ] && [ "$folded" = "$n" ] || { ok=NO; lost=1; }
        set -- $(timev "$out/flood.time")
        printf "%-44s %8s %9s %10s %10s %8s %10s %s\n" "capture --db $kind --max-flows $max" "$1" "$2" \
            "$(stat flows_created "$out/flood.stats")" "$(stat flows_ended_evicted "$out/flood.stats")" \
            "$(stat flows_peak "$out/flood.stats")" "${edges:-?}" "$ok"
        rm -rf "$db"
    fi
done
exit $lost
