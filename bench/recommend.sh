#!/bin/sh
# bench/recommend.sh - segscope recommend on a synthetic graph of HOSTS hosts
# and EDGES edges (default 100,000 and 2,000,000).
#
#   bench/recommend.sh [HOSTS] [EDGES]
#
# bench/gengraph.c writes the graph straight into a database
# (bench/out/graph-HOSTS-EDGES, kept between runs); then
#   segscope recommend --db DB -o bench/out/policy.json
# runs under /usr/bin/time -v.  Printed: wall time and peak RSS of recommend,
# segments, rules, review items.  Exit 1 if peak RSS exceeds 4 GiB.
# Run from the build tree after `make` (libsegscope.a is linked).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
S=${SEGSCOPE:-$top/segscope}
nh=${1:-100000}
ne=${2:-2000000}
out=$top/bench/out
db=$out/graph-$nh-$ne
mkdir -p "$out"
libs=$(sed -n 's/^\(PCAP\|NDPI\|MAXMINDDB\|ROCKSDB\|JSONC\)_LIBS = //p' "$top/Makefile" | tr '\n' ' ')
cc -O2 -I"$top" -include "$top/config.h" -o "$out/gengraph" "$top/bench/gengraph.c" \
    "$top/libsegscope.a" $libs -lm -lpthread
if [ ! -d "$db" ]; then
    start=$(date +%s)
    "$out/gengraph" "$db" "$nh" "$ne"
    echo "generated in $(( $(date +%s) - start )) s"
fi
/usr/bin/time -v "$S" recommend --db "$db" -o "$out/policy.json" 2> "$out/recommend.time" || {
    cat "$out/recommend.time" >&2
    exit 1
}
grep '^segscope:' "$out/recommend.time" || true
awk -F': ' '/Elapsed \(wall clock\)/{n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]}
            /Maximum resident set size/{r=$2/1024}
            END{printf "recommend: %d hosts, %d edges: %.1f s, peak RSS %.0f MiB\n", '"$nh"', '"$ne"', s, r;
                exit (r > 4096) ? 1 : 0}' "$out/recommend.time"
