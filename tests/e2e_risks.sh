#!/bin/sh
# nDPI's flow risks through the workload graph, on the shared nDPI 4.2
# captures (none written here):
#  1. every capture whose ndpiReader expected output has a "[Risk: ...]" is
#     captured into a fresh database; the risks "segscope edges" lists per
#     edge equal the union of ndpiReader's risks of the same flows
#     (tests/compare_risks.py: matching rules and thresholds);
#  2. captures with obsolete TLS, a known-bad JA3, clear-text credentials
#     (POP3, FTP) and SMBv1 in one database: edges CSV/JSON carry the names,
#     and the report (JSON, HTML, Markdown, CSV) lists the findings and, per
#     risky flow, the nDPI risks that fired; the same database gives the
#     same bytes twice.
. "$(dirname "$0")/lib.sh"
need_shared
S=$SEGSCOPE
N=$SEGSCOPE_SHARED/data/pcaps/ndpi
[ -d "$N/expected" ] && [ -d "$N/ndpi-4.2-example" ] ||
    skip_all "no nDPI captures with expected outputs under $N"

# ---- 1. per edge: segscope's risks = ndpiReader's -----------------------------
if "$PYTHON" "$top_srcdir/tests/compare_risks.py" --shared "$SEGSCOPE_SHARED" --segscope "$S" \
        --captures-with-risks > "$TMP/cmp.out" 2>&1; then
    pass "edge risks agree with ndpiReader: $(grep -E '^edge groups agreeing' "$TMP/cmp.out")"
else
    fail "edge risks vs ndpiReader (exit $?):"
    cat "$TMP/cmp.out"
fi
grep -E '^(DIFF|PASS|FAIL|captures|risk names)' "$TMP/cmp.out"

# ---- 2. one database, the report --------------------------------------------------
caps=""
for c in smbv1.pcap pop3.pcap ftp_failed.pcap KakaoTalk_talk.pcap; do
    [ -f "$N/$c" ] || skip_all "$N/$c missing"
    caps="$caps -r $N/$c"
done
DB=$TMP/db
# shellcheck disable=SC2086
expect_exit 0 "capture SMBv1, POP3, FTP, KakaoTalk TLS with --ndpi-dir" -- \
    "$S" capture -q --db "$DB" --ndpi-dir "$N/ndpi-4.2-example" $caps
"$S" edges --db "$DB" --format csv > "$TMP/e.csv" || fail "edges csv: exit $?"
"$S" edges --db "$DB" --format json > "$TMP/e.json" || fail "edges json: exit $?"
"$S" edges --db "$DB" > "$TMP/e.txt" || fail "edges text: exit $?"
"$PYTHON" - "$TMP/e.csv" "$TMP/e.json" <<'EOF' && pass "edges: risks in CSV and JSON agree and carry the expected names" || fail "edges: risks"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
objs = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8") if l.strip()]
assert rows and len(rows) == len(objs), (len(rows), len(objs))
for r, o in zip(rows, objs):
    assert r["risks"] == o["risks"], (r, o)
def risks(app, port):
    return {n for r in rows if r["app"] == app and r["port"] == str(port) for n in r["risks"].split(";") if n}
want = {("SMBv1", 445): {"SMB Insecure Version", "Unsafe Protocol"},
        ("POP3", 110): {"Clear-Text Credentials", "Unsafe Protocol"},
        ("FTP_CONTROL", 21): {"Clear-Text Credentials", "Unsafe Protocol"},
        ("TLS", 443): {"Obsolete TLS Version (1.1 or older)", "Possibly Malicious JA3 Fingerprint"}}
for (app, port), names in want.items():
    got = risks(app, port)
    assert names <= got, (app, port, got)
assert any(r["risks"] == "" for r in rows), "every edge has a risk?"
EOF
expect_grep "RISKS" "$TMP/e.txt" "edges text has a RISKS column"
expect_grep "SMB Insecure Version" "$TMP/e.txt" "edges text lists the SMB risk"

for f in json html md; do
    expect_exit 0 "report --format $f" -- "$S" report -q --db "$DB" -o "$TMP/r.$f"
done
expect_exit 0 "report --format csv" -- "$S" report -q --db "$DB" -o "$TMP/csv/"
"$PYTHON" - "$TMP/r.json" <<'EOF' && pass "report JSON: the nDPI findings and each risky flow's nDPI risks" || fail "report JSON"
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
t = d["tables"]
kinds = {r["risk"]: r for r in t["risks"]["rows"]}
for k in ("smbv1", "cleartext-credentials", "obsolete-tls", "malicious-ja3", "weak-tls-cipher", "bad-certificate"):
    assert k in kinds, (k, sorted(kinds))
assert kinds["smbv1"]["severity"] == "high" and kinds["cleartext-credentials"]["severity"] == "high"
assert kinds["cleartext-credentials"]["connections"] == 2, kinds["cleartext-credentials"]   # POP3, FTP
rows = t["risky_flows"]["rows"]
def row(app, port):
    m = [r for r in rows if r["app"] == app and r["service"] == "tcp/%d" % port]
    assert len(m) == 1, (app, port, m)
    return m[0]
smb = row("SMBv1", 445)
assert "SMB Insecure Version" in smb["ndpi_risks"] and smb["risks"][0] == "SMBv1 (obsolete)", smb
for app, port in (("POP3", 110), ("FTP_CONTROL", 21)):
    r = row(app, port)
    assert "Clear-Text Credentials" in r["ndpi_risks"] and "Clear-text credentials seen" in r["risks"], r
    assert r["severity"] == "high", r
tls = [r for r in rows if "Possibly Malicious JA3 Fingerprint" in r["ndpi_risks"]]
assert tls and tls[0]["severity"] == "high" and "Known-bad TLS fingerprint (JA3)" in tls[0]["risks"], tls
assert any("Obsolete TLS Version (1.1 or older)" in r["ndpi_risks"] and "Obsolete TLS (1.1 or older)" in r["risks"]
           for r in rows)
# worst first
sev = {"high": 3, "medium": 2, "low": 1}
assert [sev[r["severity"]] for r in rows] == sorted((sev[r["severity"]] for r in rows), reverse=True)
f = " ".join(r["finding"] for r in t["findings"]["rows"])
for s in ("SMBv1 (obsolete)", "Clear-text credentials seen", "Known-bad TLS fingerprint (JA3)", "Obsolete TLS (1.1 or older)"):
    assert s in f, (s, f)
EOF
for s in "Clear-text credentials seen" "SMB Insecure Version" "Possibly Malicious JA3 Fingerprint" \
         "Obsolete TLS (1.1 or older)" "nDPI risks"; do
    expect_grep "$s" "$TMP/r.html" "report HTML lists '$s'"
    expect_grep "$s" "$TMP/r.md" "report Markdown lists '$s'"
done
expect_grep "Clear-Text Credentials" "$TMP/csv/risky_flows.csv" "report CSV: risky flows carry nDPI's risks"
head -1 "$TMP/csv/risky_flows.csv" | grep -q "ndpi_risks" && pass "report CSV: an ndpi_risks column" ||
    fail "report CSV header: $(head -1 "$TMP/csv/risky_flows.csv")"
"$S" report -q --db "$DB" -o "$TMP/r2.json" && "$S" report -q --db "$DB" -o "$TMP/r2.html" &&
    cmp -s "$TMP/r.json" "$TMP/r2.json" && cmp -s "$TMP/r.html" "$TMP/r2.html" &&
    pass "report: the same bytes twice" || fail "report output differs between runs"

# Captured again into the same database: risks are OR-ed, not doubled or lost.
# shellcheck disable=SC2086
"$S" capture -q --db "$DB" --ndpi-dir "$N/ndpi-4.2-example" $caps || fail "second capture: exit $?"
"$S" edges --db "$DB" --format csv > "$TMP/e2.csv"
"$PYTHON" - "$TMP/e.csv" "$TMP/e2.csv" <<'EOF' && pass "a second capture keeps each edge's risks" || fail "risks changed on a second capture"
import csv, sys
def risks(p):
    return [(r["client"], r["server"], r["proto"], r["port"], r["app"], r["risks"], int(r["flows"]))
            for r in csv.DictReader(open(p, newline="", encoding="utf-8"))]
a, b = risks(sys.argv[1]), risks(sys.argv[2])
assert [x[:6] for x in a] == [x[:6] for x in b]
assert [2 * x[6] for x in a] == [x[6] for x in b]
EOF
finish
