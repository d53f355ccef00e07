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
[ -d ../shared ] && SEGSCOPE_SHARED=${SEGSCOPE_SHARED:-$(cd .. && pwd)/shared} && export SEGSCOPE_SHARED
mode=${1:-demo}
case "$mode" in demo|test) ;; *) echo "usage: $0 [demo|test]" >&2; exit 2 ;; esac

# Debian packages: build tools and the libraries segscope links, plus what
# the tests use (python3 for the reference comparisons).
PKGS="build-essential autoconf automake libtool pkg-config
 libpcap-dev libndpi-dev libmaxminddb-dev librocksdb-dev libjson-c-dev check
 python3 tcpreplay iproute2 procps"
# The report's map is laid out by Graphviz (libgvc).
PKGS="$PKGS libgraphviz-dev"
# Tests only: the firewall tools that validate the exports (nft -c,
# iptables-restore --test), Graphviz's dot for the DOT output, and
# Chromium to load the HTML report as a person would.
if [ "$mode" = test ]; then PKGS="$PKGS nftables iptables graphviz chromium"; fi

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
    [ $rc = 0 ] || exit $rc
    # The same suite again on a build from the release tarball, with
    # AddressSanitizer and UndefinedBehaviorSanitizer (make distcheck).
    echo "== make distcheck: the release tarball, built with ASan and UBSan, runs every test"
    [ -d ../shared ] && SEGSCOPE_SHARED=${SEGSCOPE_SHARED:-$(cd .. && pwd)/shared} && export SEGSCOPE_SHARED
    make -s distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-sanitizers > distcheck.out 2>&1 || rc=$?
    grep -E '^(PASS|FAIL|SKIP|ERROR|XPASS|XFAIL):|^# |archives ready|^=+$' distcheck.out | grep -v '^=*$' || true
    if [ $rc != 0 ]; then
        tail -n 40 distcheck.out
        for log in segscope-*/_build/sub/tests/*.log; do
            [ -f "$log" ] || continue
            grep -q -E ':test-result: (FAIL|ERROR)' "${log%.log}.trs" 2>/dev/null && { echo "--- $log"; cat "$log"; }
        done
    fi
    exit $rc
fi

echo "== running segscope on data/sample.pcap (one day of a small network)"
rm -rf out
mkdir -p out
./segscope flows -q -r data/sample.pcap -o out/flows.csv
./segscope capture -r data/sample.pcap --db out/db
./segscope recommend --db out/db -o out/policy.json
./segscope recommend --db out/db --format text -o out/policy.txt
if ./segscope --help | grep -q "^  report"; then
    ./segscope report --db out/db --policy out/policy.json -o out/report.html
fi
if ./segscope --help | grep -q "^  export"; then
    ./segscope export --policy out/policy.json --format nftables -o out/policy.nft
fi
echo
./segscope stats --db out/db | sed -n '1,12p'
echo
head -1 out/policy.txt
echo
echo "Busiest flows by bytes:"
awk -F, 'NR>1 {printf "%14d  %s %s:%s -> %s:%s\n", $11+$13, $1, $6, $7, $8, $9}' out/flows.csv |
    sort -rn | head -5
echo
echo "Output in $(pwd)/out:"
for f in out/*; do
    case $f in
        out/flows.csv) d="one record per flow (A = client)" ;;
        out/db) d="the workload graph (RocksDB): segscope hosts|edges|stats --db out/db" ;;
        out/policy.json) d="recommended policy (segscope.policy/v1)" ;;
        out/policy.txt) d="the same, for people: segments, rules, review list, blast radius" ;;
        out/report.html) d="audit report: open it in a browser" ;;
        out/policy.nft) d="nftables rules of the policy" ;;
        *) d= ;;
    esac
    printf "  %-18s %s\n" "$f" "$d"
done
echo "Manual: man ./segscope.1"
