#!/bin/sh
# quickstart.sh - set up segscope on Debian 12 and run it.
#
#   ./quickstart.sh          install what is missing, build, and run the main
#                            job on the bundled sample capture (data/sample.pcap)
#   ./quickstart.sh test     install what is missing, build, and run every test
#
# Run as root (or with sudo available) on a fresh Debian 12 machine; it is
# safe to run again.  Nothing is installed outside Debian's packages.
set -eu
cd "$(dirname "$0")"
mode=${1:-demo}
case "$mode" in demo|test) ;; *) echo "usage: $0 [demo|test]" >&2; exit 2 ;; esac

# Debian packages: build tools and the libraries segscope links, plus what
# the tests use (python3 for the reference comparisons).
PKGS="build-essential autoconf automake libtool pkg-config
 libpcap-dev libndpi-dev libmaxminddb-dev librocksdb-dev libjson-c-dev check
 python3 tcpreplay iproute2 procps"

missing=
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "== installing Debian packages:$missing"
    SUDO=
    [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

echo "== building"
[ -x configure ] || autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
[ -f Makefile ] || ./configure -q
make -s -j"$(nproc)" >/dev/null

if [ "$mode" = test ]; then
    echo "== running the test suite (make check)"
    rc=0
    make -s -j"$(nproc)" check >/dev/null 2>&1 || rc=$?
    # Automake's harness keeps each test's output in its .log: show the
    # closing lines (Check's summary, pass/fail counts) and failures in full.
    for log in tests/*.log; do
        [ "$log" = tests/test-suite.log ] && continue
        echo "--- $log"
        case "$(sed -n 's/^:test-result: //p' "${log%.log}.trs" 2>/dev/null | head -1)" in
            FAIL|ERROR) cat "$log" ;;
            *) grep -E '^[0-9]+%: Checks|passed, [0-9]+ failed|^SKIP|^captures ' "$log" || tail -n 3 "$log" ;;
        esac
    done
    [ -f test-suite.log ] && sed -n '1,12p' test-suite.log
    exit $rc
fi

echo "== running segscope on data/sample.pcap"
mkdir -p out
./segscope flows -r data/sample.pcap -o out/flows.csv
echo
echo "Flows: $(($(wc -l < out/flows.csv) - 1)) records in out/flows.csv (one per flow, A = client)."
echo "Busiest flows by bytes:"
awk -F, 'NR>1 {printf "%14d  %s %s:%s -> %s:%s\n", $11+$13, $1, $6, $7, $8, $9}' out/flows.csv |
    sort -rn | head -5
echo
echo "Output: $(pwd)/out/flows.csv   Manual: man ./segscope.1"
