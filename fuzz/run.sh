#!/bin/sh
# run.sh - run one libFuzzer target, gently, and keep what it finds.
#
#   fuzz/run.sh TARGET [SECONDS]      fuzz for SECONDS (default 600)
#   fuzz/run.sh -merge TARGET         fold new coverage into fuzz/corpus/TARGET
#
# Run from the build tree of "./configure CC=clang --enable-fuzzing && make
# fuzz".  The working corpus is fuzz/run/corpus/TARGET (started from the
# committed fuzz/corpus/TARGET and, if fuzz/seed.sh made them, the big seeds
# in fuzz/run/seeds/TARGET); crashes, leaks and timeouts go to
# fuzz/run/artifacts/TARGET/ (with libFuzzer's log, fuzz-0.log).  The fuzzer runs under nice -n 19 with one
# job and one worker (the machine is shared), 2 GiB RSS limit.
# A crash found: fix it, then copy the artifact to
# tests/fuzz-regress/TARGET/<what-it-was> so make check replays it.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
merge=0
[ "${1:-}" = -merge ] && { merge=1; shift; }
t=${1:?usage: fuzz/run.sh [-merge] TARGET [SECONDS]}
secs=${2:-600}
bin=$PWD/fuzz/fuzz_$t
[ -x "$bin" ] || { echo "run.sh: no $bin here (./configure CC=clang --enable-fuzzing && make fuzz)" >&2; exit 1; }
work=$PWD/fuzz/run/corpus/$t
art=$PWD/fuzz/run/artifacts/$t
mkdir -p "$work" "$art"
if [ $merge = 1 ]; then
    # Keep the committed corpus small: only inputs that add coverage.
    new=$(mktemp -d)
    nice -n 19 "$bin" -merge=1 -rss_limit_mb=2048 "$new" "$src/fuzz/corpus/$t" "$work"
    rm -rf "$src/fuzz/corpus/$t"
    mv "$new" "$src/fuzz/corpus/$t"
    chmod 755 "$src/fuzz/corpus/$t"
    echo "fuzz/corpus/$t: $(ls "$src/fuzz/corpus/$t" | wc -l) files, $(du -sh --apparent-size "$src/fuzz/corpus/$t" | cut -f1)"
    exit 0
fi
seeds=
[ -d "fuzz/run/seeds/$t" ] && seeds=$PWD/fuzz/run/seeds/$t
[ -d "$src/fuzz/run/seeds/$t" ] && seeds=$src/fuzz/run/seeds/$t
dict=
[ -f "$src/fuzz/$t.dict" ] && dict=-dict=$src/fuzz/$t.dict
# libFuzzer's -jobs writes fuzz-0.log to the current directory: one per target.
cd "$art"
# shellcheck disable=SC2086
exec nice -n 19 "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=25 \
    -jobs=1 -workers=1 -print_final_stats=1 -artifact_prefix="$art/" $dict \
    "$work" "$src/fuzz/corpus/$t" $seeds
