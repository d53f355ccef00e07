#!/bin/sh
# seed.sh - build the big fuzz seed sets from the shared captures.
#
#   fuzz/seed.sh [OUTDIR]        (default: fuzz/run/seeds, not committed)
#
# Every capture under $SEGSCOPE_SHARED/data/pcaps (default ../shared next to
# the source tree) and data/sample.pcap goes through fuzz/mkseeds.py:
# OUTDIR/decode/ gets one seed per distinct frame, OUTDIR/pcapfile/ the
# captures cut short plus synthetic format variants.  fuzz/run.sh merges
# these into the small committed corpora fuzz/corpus/<target>/.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/fuzz/run/seeds}
shared=${SEGSCOPE_SHARED:-$src/../shared}
[ -d "$shared/data/pcaps" ] || { echo "seed.sh: no captures at $shared/data/pcaps (set SEGSCOPE_SHARED)" >&2; exit 1; }
mkdir -p "$out"
find "$shared/data/pcaps" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) |
    sort | xargs /usr/bin/python3 "$src/fuzz/mkseeds.py" "$out" "$src/data/sample.pcap"
