#!/bin/sh
# Live capture end to end: a veth pair in a network namespace of the test's
# own; tcpreplay sends the sample capture into one end, segscope captures on
# the other, and the flows must equal those of an offline run on the same
# file (packets and bytes per 5-tuple: replay compresses time, so records
# that idle timeouts split offline are summed).  Also checks --threads 2
# and the privilege drop.  Skipped, saying so, without root, network
# namespaces or tcpreplay.
. "$(dirname "$0")/lib.sh"
S=$SEGSCOPE
SAMPLE=$top_srcdir/data/sample.pcap
[ "$(id -u)" = 0 ] || skip_all "live capture test needs root (network namespaces)"
command -v tcpreplay >/dev/null || skip_all "tcpreplay not installed (Debian package tcpreplay)"
command -v ip >/dev/null || skip_all "ip (iproute2) not installed"
NS=segscope-test-$$
ip netns add "$NS" 2>/dev/null || skip_all "network namespaces not permitted here"
trap 'ip netns del "$NS" 2>/dev/null; rm -rf "$TMP"' EXIT
in_ns() { ip netns exec "$NS" "$@"; }
in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
in_ns ip link add sgs-tx type veth peer name sgs-rx
in_ns ip link set sgs-tx mtu 9000 up
in_ns ip link set sgs-rx mtu 9000 up
in_ns ip link set lo up

"$S" flows -q --no-dpi -r "$SAMPLE" -o "$TMP/offline.csv" || fail "offline run"

# live_run NAME [extra options]: capture on sgs-rx while the sample is replayed.
live_run() {
    name=$1; shift
    rm -f "$TMP/$name.ready"
    in_ns "$S" flows --no-dpi -i sgs-rx --duration 60 --stats -o "$TMP/$name.csv" "$@" 2> "$TMP/$name.err" &
    pid=$!
    sleep 1.5
    in_ns tcpreplay -q -i sgs-tx --pps 20000 "$SAMPLE" > "$TMP/$name.replay" 2>&1 || fail "tcpreplay: $(cat "$TMP/$name.replay")"
    sleep 1
    kill -INT $pid
    wait $pid
    echo $?
}

# Sum packets and bytes per (proto, unordered endpoints) and compare.
cmp_flows() {
    "$PYTHON" - "$1" "$2" <<'PY'
import csv, sys
def load(p):
    d = {}
    for r in csv.DictReader(open(p)):
        ea, eb = (r["addr_a"], r["port_a"]), (r["addr_b"], r["port_b"])
        k = (r["proto"], min(ea, eb), max(ea, eb))
        fwd = ea <= eb
        ab = (int(r["pkts_a_to_b"]), int(r["bytes_a_to_b"]))
        ba = (int(r["pkts_b_to_a"]), int(r["bytes_b_to_a"]))
        if not fwd:
            ab, ba = ba, ab
        v = d.setdefault(k, [0, 0, 0, 0])
        v[0] += ab[0]; v[1] += ab[1]; v[2] += ba[0]; v[3] += ba[1]
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
diff = [k for k in set(a) | set(b) if a.get(k) != b.get(k)]
print("%d keys offline, %d live, %d differ" % (len(a), len(b), len(diff)))
for k in sorted(diff)[:10]:
    print("  ", k, a.get(k), b.get(k))
sys.exit(1 if diff else 0)
PY
}

rc=$(live_run live1)
[ "$rc" = 0 ] && pass "live capture exits 0 on SIGINT" || fail "live capture exit $rc: $(cat "$TMP/live1.err")"
drops=$(awk '$1=="kernel_dropped"{print $2}' "$TMP/live1.err")
echo "kernel_dropped=$drops"
if cmp_flows "$TMP/offline.csv" "$TMP/live1.csv" > "$TMP/cmp1"; then
    pass "live flows equal offline flows ($(cat "$TMP/cmp1"))"
elif [ "${drops:-0}" != 0 ]; then
    echo "SKIP: kernel dropped $drops packets; comparison not meaningful: $(head -3 "$TMP/cmp1")"
else
    fail "live flows differ: $(cat "$TMP/cmp1")"
fi

rc=$(live_run live2 --threads 2)
if cmp_flows "$TMP/offline.csv" "$TMP/live2.csv" > "$TMP/cmp2"; then
    pass "live flows with --threads 2 equal offline flows"
else
    fail "--threads 2 live flows differ: $(cat "$TMP/cmp2")"
fi

# Privilege drop: as root, segscope becomes nobody before parsing packets.
# A slow link with --threads 2: 300 frames never fill a batch for the other
# worker, yet they must reach it, end by the short timeouts and be flushed
# before a SIGKILL (frames used to wait for a full batch of 1,024).
pkts_of() { "$S" edges --db "$1" --format csv | awk -F, 'NR>1{n+=$7+$8} END{print n+0}'; }
"$S" capture -q -c 300 -r "$SAMPLE" --db "$TMP/slow.off" || fail "offline capture of 300 frames"
want=$(pkts_of "$TMP/slow.off")
in_ns "$S" capture -q -i sgs-rx --threads 2 --flush-interval 1 --udp-timeout 1 --tcp-timeout 1 \
    --tcp-closed-timeout 1 --other-timeout 1 --db "$TMP/slow.db" 2> "$TMP/slow.err" &
pid=$!
sleep 1.5
in_ns tcpreplay -q -i sgs-tx --pps 2000 --limit 300 "$SAMPLE" > "$TMP/slow.replay" 2>&1 || fail "tcpreplay: $(cat "$TMP/slow.replay")"
got=0
i=0
while [ $i -lt 100 ] && [ "$got" != "$want" ]; do
    sleep 0.1
    got=$(pkts_of "$TMP/slow.db" 2>/dev/null || echo 0)
    i=$((i + 1))
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
[ "$got" = "$want" ] && pass "--threads 2 on a slow link: all $want packets flushed within seconds" ||
    fail "--threads 2 on a slow link: $got of $want packets in the database after 10 s: $(cat "$TMP/slow.err")"

in_ns "$S" flows --no-dpi -i sgs-rx --duration 3 -o "$TMP/drop.csv" 2> "$TMP/drop.err" &
pid=$!
sleep 1.5
user=$(ps -o user= -p "$(pgrep -f "drop.csv" | head -1)" 2>/dev/null | tr -d ' ')
wait $pid
[ "$user" = nobody ] && pass "live capture runs as nobody after opening the interface" || fail "capture ran as '$user'"
finish
