#!/bin/sh
# segscope export end to end: usage errors and malformed policies; a
# policy built to break firewall syntax (quotes, braces, newlines, shell
# and formula characters, a 300-byte segment id, non-ASCII bytes, every
# kind of reference, protocol "any" with ports, long port lists, IPv4 and
# IPv6) exported to nftables, iptables and ip6tables and checked by the
# tools themselves (nft -c -f, iptables-restore --test, ip6tables-restore
# --test) inside a network namespace of the test's own; the normalised
# JSON validated again and stable; with the shared scenarios, the
# recommended policy of small-1 and enterprise-1 likewise.  Checks that
# need nft/iptables, ip and root are skipped with a message otherwise.
. "$(dirname "$0")/lib.sh"
S=$SEGSCOPE

expect_exit 0 "export --help" -- "$S" export --help
expect_grep "nftables" "$TMP/out" "export --help lists nftables"
expect_exit 2 "export without --policy" -- "$S" export --format nftables
expect_exit 2 "export without --format" -- "$S" export --policy "$TMP/x.json"
expect_exit 2 "export: bad --format" -- "$S" export --policy "$TMP/x.json" --format pf
expect_exit 3 "export: missing policy" -- "$S" export --policy "$TMP/nope.json" --format nftables
printf '{"schema": "segscope.policy/v1", "default": "allow", "segments": [], "rules": []}' > "$TMP/bad.json"
expect_exit 3 "export: malformed policy" -- "$S" export --policy "$TMP/bad.json" --format nftables
expect_grep "bad.json" "$TMP/err" "the error names the file"

"$PYTHON" - "$TMP/evil.json" <<'EOF'
import json, sys
evil = 'x" accept; } } table ip evil { chain c { \\ \n\r\t<script>alert(1)</script> =cmd|\' /C calc\'!A0 %s $(id) `id` caf\u00e9 \u202e ' + 'A' * 300
db = "db" + evil[:40]
doc = {"schema": "segscope.policy/v1", "default": "deny",
       "segments": [{"id": evil, "name": evil, "members": ["10.1.0.0/24", "fd00::1"]},
                    {"id": db, "members": ["10.2.0.5", "10.2.0.6/31"]},
                    {"id": "v6only", "members": ["fd01::/64"]},
                    {"id": "empty", "members": []}],
       "rules": [{"src": evil, "dst": db, "proto": "tcp", "ports": [5432, [6000, 6010]], "app": evil},
                 {"src": evil, "dst": "internet", "proto": "tcp", "ports": [443], "dst_names": [evil, "a.example"]},
                 {"src": "internet", "dst": db, "proto": "tcp", "ports": [443]},
                 {"src": "any", "dst": "any", "proto": "icmp"},
                 {"src": "cidr:192.168.0.0/16", "dst": db, "proto": "any"},
                 {"src": "cidr:192.168.0.0/16", "dst": "v6only", "proto": "any"},
                 {"src": "v6only", "dst": evil, "proto": "udp", "ports": list(range(1, 40, 2))},
                 {"src": "any", "dst": db, "proto": "any", "ports": [53]},
                 {"src": "empty", "dst": db, "proto": "tcp", "ports": [22]},
                 {"src": "v6only", "dst": "internet", "proto": "udp"},
                 {"src": "any", "dst": "any", "proto": "any"}]}
json.dump(doc, open(sys.argv[1], "w"))
EOF
for f in nftables iptables ip6tables json; do
    expect_exit 0 "export --format $f (hostile policy)" -- "$S" export --policy "$TMP/evil.json" --format $f -o "$TMP/out.$f"
done
# Nothing from the document outside comments: the only quotes are comment delimiters.
if grep -v '^[[:space:]]*#' "$TMP/out.nftables" | sed 's/comment "[^"]*"$//' | grep -q '"'; then
    fail "nftables: a quote outside a comment"
else
    pass "nftables: strings only inside comments"
fi
if grep -v '^#' "$TMP/out.iptables" | sed 's/--comment "[^"]*"//' | grep -q '"'; then
    fail "iptables: a quote outside a comment"
else
    pass "iptables: strings only inside comments"
fi
awk -F'--comment "' 'NF > 1 { split($2, a, "\""); if (length(a[1]) > 255) bad = 1 } END { exit bad }' "$TMP/out.iptables" &&
    pass "iptables: comments within 255 bytes" || fail "iptables: a comment longer than 255 bytes"
awk -F'comment "' 'NF > 1 { split($2, a, "\""); if (length(a[1]) > 128) bad = 1 } END { exit bad }' "$TMP/out.nftables" &&
    pass "nftables: comments within 128 bytes" || fail "nftables: a comment longer than 128 bytes"
expect_exit 0 "the normalised JSON is a valid policy" -- "$S" export --policy "$TMP/evil.json" --format json -o "$TMP/evil2.json"
"$S" export --policy "$TMP/evil.json" --format json -o "$TMP/n1.json"
"$S" export --policy "$TMP/n1.json" --format json -o "$TMP/n2.json"
cmp -s "$TMP/n1.json" "$TMP/n2.json" && pass "normalising is idempotent" || fail "normalised JSON changes when normalised again"

# The tools themselves, in a network namespace of our own.
NS=segscope-export-$$
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null 2>&1 || ! ip netns add "$NS" 2>/dev/null; then
    echo "SKIP: no root or no 'ip netns': nft/iptables syntax checks skipped"
    finish
    exit $?
fi
trap 'ip netns del "$NS" 2>/dev/null; rm -rf "$TMP"' EXIT
nsrun() { ip netns exec "$NS" "$@"; }

# check_exports NAME POLICY
check_exports() {
    "$S" export --policy "$2" --format nftables -o "$TMP/c.nft" &&
    "$S" export --policy "$2" --format iptables -o "$TMP/c.ipt" &&
    "$S" export --policy "$2" --format ip6tables -o "$TMP/c.ip6t" || { fail "$1: export failed"; return; }
    if command -v nft >/dev/null 2>&1; then
        nsrun nft -c -f "$TMP/c.nft" 2>"$TMP/nft.err" && pass "$1: nft -c -f accepts the nftables export" ||
            fail "$1: nft -c: $(head -c 400 "$TMP/nft.err")"
        # loaded for real, then the table is there with its chain policy
        if nsrun nft -f "$TMP/c.nft" 2>"$TMP/nft.err" && nsrun nft list chain inet segscope forward > "$TMP/chain" 2>&1 &&
           grep -q "policy drop" "$TMP/chain"; then
            pass "$1: nft -f loads it (chain forward, policy drop)"
            nsrun nft -f "$TMP/c.nft" 2>"$TMP/nft.err" && pass "$1: loading it again replaces the table" ||
                fail "$1: second load: $(head -c 300 "$TMP/nft.err")"
            nsrun nft delete table inet segscope
        else
            fail "$1: nft -f: $(head -c 400 "$TMP/nft.err")"
        fi
    else
        echo "SKIP: nft not installed (apt-get install nftables)"
    fi
    if command -v iptables-restore >/dev/null 2>&1; then
        nsrun iptables-restore --test < "$TMP/c.ipt" 2>"$TMP/ipt.err" && pass "$1: iptables-restore --test accepts it" ||
            fail "$1: iptables-restore: $(head -c 400 "$TMP/ipt.err")"
        nsrun ip6tables-restore --test < "$TMP/c.ip6t" 2>"$TMP/ipt.err" && pass "$1: ip6tables-restore --test accepts it" ||
            fail "$1: ip6tables-restore: $(head -c 400 "$TMP/ipt.err")"
    else
        echo "SKIP: iptables-restore not installed (apt-get install iptables)"
    fi
}

check_exports "hostile policy" "$TMP/evil.json"
SCEN=$SEGSCOPE_SHARED/scenarios
for name in small-1 enterprise-1; do
    if [ -f "$SCEN/$name/train.pcap" ]; then
        "$S" capture -q --db "$TMP/db-$name" -r "$SCEN/$name/train.pcap" &&
        "$S" recommend -q --db "$TMP/db-$name" -o "$TMP/$name.json" || { fail "$name: capture/recommend"; continue; }
        check_exports "$name" "$TMP/$name.json"
    else
        echo "SKIP: $name not found in $SCEN"
    fi
done
finish
