#!/bin/sh
# The recommender end to end on the shared scenarios that ship pcaps:
# capture day 1 (train.pcap) into a fresh database, recommend a policy,
# score it against the scenario's truth with the benchmark's score.py
# (which also validates the format: exit 2 on any violation), and replay
# day 2 (test.pcap) with "segscope check": its verdict on every truth flow
# must equal the scorer's.  Also: usage errors, the text format, check's
# exit codes and malformed policies.  Skips when shared/ is absent.
. "$(dirname "$0")/lib.sh"
S=$SEGSCOPE
SCEN=$SEGSCOPE_SHARED/scenarios
SCORE=$SCEN/tools/score.py
[ -f "$SCORE" ] && [ -f "$SCEN/small-1/train.pcap" ] ||
    skip_all "shared scenarios not found at $SCEN (set SEGSCOPE_SHARED)"

expect_exit 0 "recommend --help" -- "$S" recommend --help
expect_grep "min-support" "$TMP/out" "recommend --help documents --min-support"
expect_exit 2 "recommend without --db" -- "$S" recommend
expect_exit 2 "recommend: bad --format" -- "$S" recommend --db "$TMP/x" --format xml
expect_exit 2 "recommend: bad --min-support" -- "$S" recommend --db "$TMP/x" --min-support 0
expect_exit 3 "recommend: missing database" -- "$S" recommend --db "$TMP/nope"
expect_exit 2 "check without --policy" -- "$S" check -r "$SCEN/small-1/test.pcap"
expect_exit 3 "check: missing policy" -- "$S" check --policy "$TMP/nope.json" -r "$SCEN/small-1/test.pcap"
printf '{"schema": "segscope.policy/v1", "default": "allow", "segments": [], "rules": []}' > "$TMP/bad.json"
expect_exit 3 "check: malformed policy" -- "$S" check --policy "$TMP/bad.json" -r "$SCEN/small-1/test.pcap"
expect_grep "bad.json: \"default\" must be \"deny\"" "$TMP/err" "the error names the file and the problem"

# Scenario NAME: capture, recommend, score, check.
scenario() {
    name=$1
    dir=$SCEN/$name
    [ -f "$dir/train.pcap" ] || { echo "SKIP: $name has no pcaps"; return; }
    db=$TMP/db-$name
    pol=$TMP/$name.json
    expect_exit 0 "$name: capture train.pcap" -- "$S" capture -q --db "$db" -r "$dir/train.pcap"
    expect_exit 0 "$name: recommend" -- "$S" recommend --db "$db" -o "$pol"
    expect_grep "segments" "$TMP/err" "$name: recommend prints a summary"
    "$PYTHON" "$SCORE" --truth "$dir/truth.json" --policy "$pol" --json > "$TMP/score.json" 2> "$TMP/score.err"
    rc=$?
    if [ $rc != 0 ]; then
        fail "$name: score.py exit $rc: $(head -c 300 "$TMP/score.err")"
        return
    fi
    pass "$name: score.py accepts the policy"
    echo "$name: $(tail -1 "$TMP/score.err")"
    "$PYTHON" - "$TMP/score.json" "$name" <<'EOF' || n_fail=$((n_fail + 1))
import json, sys
m = json.load(open(sys.argv[1]))
want = [("legit_allowed_seen", ">=", 0.99), ("legit_allowed", ">=", 0.95),
        ("attacks_blocked", ">=", 0.90), ("over_permission", "<=", 0.25), ("ari", ">=", 0.8)]
bad = 0
for k, op, v in want:
    ok = m[k] >= v if op == ">=" else m[k] <= v
    print("%s: %s: %s %.4f (want %s %s)" % ("PASS" if ok else "FAIL", sys.argv[2], k, m[k], op, v))
    bad += not ok
sys.exit(1 if bad else 0)
EOF
    [ $? = 0 ] && n_pass=$((n_pass + 1))
    "$S" check -q --policy "$pol" -r "$dir/test.pcap" --list --format json -o "$TMP/check.json"
    rc=$?
    [ $rc = 4 ] && pass "$name: check of test.pcap denies something (the attack): exit 4" ||
        fail "$name: check of test.pcap exit $rc, wanted 4"
    if "$PYTHON" "$top_srcdir/tests/verdicts.py" "$SCORE" "$dir/truth.json" "$pol" "$TMP/check.json" > "$TMP/v.out"; then
        pass "$name: check agrees with score.py on every truth flow ($(tail -1 "$TMP/v.out"))"
    else
        fail "$name: check and score.py disagree: $(head -5 "$TMP/v.out" | tr '\n' ';')"
    fi
    "$S" check -q --policy "$pol" --db "$db" > "$TMP/checkdb.out"
    rc=$?
    { [ $rc = 0 ] || [ $rc = 4 ]; } && pass "$name: check --db runs (exit $rc)" || fail "$name: check --db exit $rc"
    expect_exit 0 "$name: recommend --format text" -- "$S" recommend -q --db "$db" --format text
    expect_grep "Blast radius" "$TMP/out" "$name: the text summary has the blast radius"
}

scenario small-1
scenario enterprise-1

# A policy allowing everything: check exits 0.
cat > "$TMP/flat.json" <<'EOF'
{"schema": "segscope.policy/v1", "default": "deny", "segments": [],
 "rules": [{"src": "any", "dst": "any", "proto": "any"}]}
EOF
expect_exit 0 "check: an allow-all policy denies nothing" -- "$S" check -q --policy "$TMP/flat.json" -r "$SCEN/small-1/test.pcap"
finish
