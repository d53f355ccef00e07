#!/bin/sh
# segscope report end to end: usage errors; a capture whose identities are
# hostile strings (tests/gen_ident_pcap.py) captured into a database and
# reported in every format: no raw <script> in HTML or Markdown, no CSV
# cell a spreadsheet would run as a formula, valid JSON, DOT that Graphviz
# accepts; the same database and policy give the same bytes; a report
# from a policy file equals the in-process one.  With the shared
# scenarios: enterprise-1 reported with crown jewels labelled, its
# numbers checked against segscope recommend's.
. "$(dirname "$0")/lib.sh"
S=$SEGSCOPE

expect_exit 0 "report --help" -- "$S" report --help
expect_grep "max-rows" "$TMP/out" "report --help documents --max-rows"
expect_exit 2 "report without --db" -- "$S" report -o "$TMP/x.html"
expect_exit 2 "report: bad --format" -- "$S" report --db "$TMP/x" --format pdf -o "$TMP/x.pdf"
expect_exit 2 "report: unknown extension" -- "$S" report --db "$TMP/x" -o "$TMP/x.pdf"
expect_exit 2 "report: csv to standard output" -- "$S" report --db "$TMP/x" --format csv -o -
expect_exit 3 "report: missing database" -- "$S" report --db "$TMP/nope" -o "$TMP/x.html"

# ---- hostile names ---------------------------------------------------------
"$PYTHON" "$top_srcdir/tests/gen_ident_pcap.py" "$TMP/hostile.pcap" || skip_all "gen_ident_pcap.py failed"
DB=$TMP/db
expect_exit 0 "capture the hostile capture" -- "$S" capture -q --db "$DB" -r "$TMP/hostile.pcap"
printf '192.168.10.5 role=client crown_jewel=false owner="<script>alert(2)</script>"\n' > "$TMP/labels.txt"
expect_exit 3 "report: bad --policy" -- "$S" report --db "$DB" --policy "$TMP/nope.json" -o "$TMP/x.html"
for f in html md json dot; do
    expect_exit 0 "report --format $f (hostile names)" -- "$S" report -q --db "$DB" --labels "$TMP/labels.txt" -o "$TMP/r.$f"
done
expect_exit 0 "report --format csv -o DIR/" -- "$S" report -q --db "$DB" --labels "$TMP/labels.txt" -o "$TMP/csv/"
expect_exit 0 "report --format csv -o PREFIX" -- "$S" report -q --db "$DB" --format csv -o "$TMP/pre"
[ -f "$TMP/pre-inventory.csv" ] && pass "csv -o PREFIX writes PREFIX-TABLE.csv" || fail "no $TMP/pre-inventory.csv"

if grep -qi "<script" "$TMP/r.html"; then fail "html: a raw <script> from traffic"; else pass "html: no raw <script>"; fi
# Markdown escapes markup characters with a backslash (CommonMark): "\<script\>" is text
if grep -Eqi '(^|[^\\])<script' "$TMP/r.md"; then fail "md: an unescaped <script>"; else pass "md: no unescaped <script>"; fi
grep -q "&lt;script&gt;" "$TMP/r.html" && pass "html: the hostile names are there, escaped" || fail "html: hostile names missing"
grep -q "<svg" "$TMP/r.html" && pass "html: the map is inline SVG" || fail "html: no <svg> map"
if grep -Eq '(src|href)="(https?:)?//' "$TMP/r.html"; then fail "html fetches from the network"; else pass "html: no network fetch"; fi
"$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1], encoding="utf-8")); assert d["schema"]=="segscope.report/v1"' \
    "$TMP/r.json" && pass "json: valid, strict UTF-8" || fail "json: not valid"
"$PYTHON" - "$TMP/csv" <<'EOF' && pass "csv: no cell begins with = + - @ (formula injection)" || fail "csv: formula injection"
import csv, glob, sys
bad = 0
files = glob.glob(sys.argv[1] + "/*.csv")
assert len(files) >= 10, files
for f in files:
    for row in csv.reader(open(f, newline="", encoding="utf-8")):
        for c in row:
            if c[:1] in ("=", "+", "-", "@", "\t", "\r"):
                print("bad cell in %s: %r" % (f, c))
                bad += 1
sys.exit(1 if bad else 0)
EOF
grep -q "calc" "$TMP/csv/inventory.csv" && pass "csv: the formula-like names are kept, neutralised" || fail "csv: hostile names missing"
if command -v dot >/dev/null 2>&1; then
    dot -Tsvg "$TMP/r.dot" -o "$TMP/r.svg" 2>"$TMP/dot.err" && pass "dot -Tsvg accepts the DOT" ||
        fail "dot -Tsvg: $(head -c 300 "$TMP/dot.err")"
else
    echo "SKIP: dot (graphviz) not installed: DOT not checked with dot -Tsvg"
fi

# ---- determinism ------------------------------------------------------------
for f in html md json dot; do
    "$S" report -q --db "$DB" --labels "$TMP/labels.txt" -o "$TMP/again.$f"
    cmp -s "$TMP/r.$f" "$TMP/again.$f" && pass "$f: same database and policy, same bytes" || fail "$f: output differs between runs"
done
"$S" report -q --db "$DB" --labels "$TMP/labels.txt" -o "$TMP/csv2/"
diff -r "$TMP/csv" "$TMP/csv2" >/dev/null && pass "csv: same bytes" || fail "csv: output differs between runs"
"$S" recommend -q --db "$DB" --labels "$TMP/labels.txt" -o "$TMP/p.json"
"$S" report -q --db "$DB" --labels "$TMP/labels.txt" --policy "$TMP/p.json" -o "$TMP/fromfile.json"
grep -v '"policy":' "$TMP/r.json" > "$TMP/a"
grep -v '"policy":' "$TMP/fromfile.json" > "$TMP/b"
cmp -s "$TMP/a" "$TMP/b" && pass "report --policy (recommend's file) equals the in-process report" ||
    fail "report --policy differs from the in-process report"

# ---- the exports of the hostile policy -----------------------------------------
expect_exit 0 "export nftables (hostile names)" -- "$S" export --policy "$TMP/p.json" --format nftables -o "$TMP/p.nft"
expect_exit 0 "export iptables (hostile names)" -- "$S" export --policy "$TMP/p.json" --format iptables -o "$TMP/p.ipt"
if command -v nft >/dev/null 2>&1 && command -v ip >/dev/null 2>&1 && [ "$(id -u)" = 0 ] &&
   ip netns add "segscope-rep-$$" 2>/dev/null; then
    ip netns exec "segscope-rep-$$" nft -c -f "$TMP/p.nft" 2>"$TMP/nft.err" && pass "nft -c accepts the export" ||
        fail "nft -c: $(head -c 400 "$TMP/nft.err")"
    if command -v iptables-restore >/dev/null 2>&1; then
        ip netns exec "segscope-rep-$$" iptables-restore --test < "$TMP/p.ipt" 2>"$TMP/ipt.err" &&
            pass "iptables-restore --test accepts the export" || fail "iptables-restore: $(head -c 400 "$TMP/ipt.err")"
    fi
    ip netns del "segscope-rep-$$"
else
    echo "SKIP: nft, ip or root (network namespace) missing: exports not checked by nft (see e2e_export.sh)"
fi

# ---- a real network: the enterprise scenario ------------------------------------
SCEN=$SEGSCOPE_SHARED/scenarios/enterprise-1
if [ -f "$SCEN/train.pcap" ]; then
    EDB=$TMP/ent
    expect_exit 0 "enterprise-1: capture train.pcap" -- "$S" capture -q --db "$EDB" -r "$SCEN/train.pcap"
    printf 'name:*db-p* crown_jewel=true\nname:*-db-p0* crown_jewel=true\n' > "$TMP/crown.txt"
    expect_exit 0 "enterprise-1: report html" -- "$S" report --db "$EDB" --labels "$TMP/crown.txt" -o "$TMP/ent.html"
    expect_grep "blast radius" "$TMP/err" "enterprise-1: report prints a summary"
    expect_exit 0 "enterprise-1: report json" -- "$S" report -q --db "$EDB" --labels "$TMP/crown.txt" -o "$TMP/ent.json"
    "$S" recommend -q --db "$EDB" --labels "$TMP/crown.txt" -o "$TMP/ent-policy.json"
    "$S" check -q --policy "$TMP/ent-policy.json" --db "$EDB" --list --format json -o "$TMP/ent-check.json"
    "$PYTHON" - "$TMP/ent.json" "$TMP/ent-policy.json" "$TMP/ent-check.json" <<'EOF' && pass "enterprise-1: the report agrees with segscope recommend" || fail "enterprise-1: report and recommend disagree"
import json, sys
r = json.load(open(sys.argv[1])); p = json.load(open(sys.argv[2]))
s = r["summary"]; t = r["tables"]
ok = True
def want(cond, what):
    global ok
    print(("PASS" if cond else "FAIL") + ": " + what)
    ok &= bool(cond)
want(s["segments"] == len(p["segments"]), "segments %d" % s["segments"])
want(s["rules"] == len(p["rules"]), "rules %d" % s["rules"])
want(abs(s["blast_policy"] - p["blast_radius"]["one_hop_policy"]) < 0.5,
     "blast radius after %.2f vs recommend %.2f" % (s["blast_policy"], p["blast_radius"]["one_hop_policy"]))
want(s["blast_reduction"] > 0.5, "blast radius reduced by %.0f%%" % (100 * s["blast_reduction"]))
want(len(t["rules"]["rows"]) == len(p["rules"]), "a row per rule")
want(sum(x["flows"] for x in t["rules"]["rows"]) == s["flows_allowed"], "rule evidence sums to the admitted flows")
want(s["flows_allowed"] + s["flows_blocked"] == s["flows"], "every observed flow admitted or blocked")
want(len(t["attack_paths"]["rows"]) == len(p.get("attack_paths", [])), "attack paths %d" % len(t["attack_paths"]["rows"]))
want(any("crown-jewel" in n["flags"] for n in r["map"]["nodes"]), "a crown jewel on the map")
want(len(t["inventory"]["rows"]) > 200, "inventory of %d hosts" % len(t["inventory"]["rows"]))
want(any(i.endswith("[dhcp_hostname via dhcp]") for row in t["inventory"]["rows"] for i in row["identities"]),
     "identities say where they came from")
# the report's verdicts (its own rule index) are segscope check's (policy_allows): same flows per rule
c = json.load(open(sys.argv[3]))
per = {}
for f in c["flows"]:
    if f["verdict"] == "allow":
        per[f["rule"]] = per.get(f["rule"], 0) + f["flows"]
mine = {row["rule"] - 1: row["flows"] for row in t["rules"]["rows"] if row["flows"]}
want(per == mine, "rule evidence equals segscope check --db's verdicts (%d rules with traffic)" % len(per))
sys.exit(0 if ok else 1)
EOF
else
    echo "SKIP: shared scenarios not found at $SEGSCOPE_SHARED/scenarios (set SEGSCOPE_SHARED)"
fi
finish
