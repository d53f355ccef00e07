#!/bin/sh
# The HTML report as a person sees it: loaded in headless Chromium, it
# must render with no console message (no script error, no blocked
# fetch: the page has none), with the map (an <svg>) and the tables in
# the rendered DOM, and the hostile names as text.  A screenshot is kept
# in tests/report-browser.png for a look.  Uses the enterprise-1 scenario
# when the shared corpus is there, else the hostile-names capture.  Skips
# when Chromium is not installed (Debian: apt-get install chromium).
. "$(dirname "$0")/lib.sh"
S=$SEGSCOPE
CHROMIUM=
for c in chromium chromium-browser google-chrome; do
    command -v "$c" >/dev/null 2>&1 && { CHROMIUM=$c; break; }
done
[ -n "$CHROMIUM" ] || skip_all "Chromium not installed (apt-get install chromium): the report is not checked in a browser"

# browse URL OUT.dom LOG [extra flags...]: headless Chromium, own profile, no network chatter.
browse() {
    url=$1; dom=$2; log=$3; shift 3
    prof=$(mktemp -d "$TMP/profile.XXXXXX")
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$prof" --enable-logging=stderr --v=0 "$@" "$url" > "$dom" 2> "$log"
}

# The report: a real network when the corpus is there, else hostile names.
SCEN=$SEGSCOPE_SHARED/scenarios/enterprise-1
if [ -f "$SCEN/train.pcap" ]; then
    "$S" capture -q --db "$TMP/db" -r "$SCEN/train.pcap" || skip_all "capture of enterprise-1 failed"
    what=enterprise-1
else
    "$PYTHON" "$top_srcdir/tests/gen_ident_pcap.py" "$TMP/h.pcap" && "$S" capture -q --db "$TMP/db" -r "$TMP/h.pcap" ||
        skip_all "no capture to report"
    what="hostile names"
fi
expect_exit 0 "report ($what) as HTML" -- "$S" report -q --db "$TMP/db" -o "$TMP/report.html"

# A page that does throw, to prove console messages are caught at all.
printf '<!DOCTYPE html><title>x</title><script>undefined_function()</script>\n' > "$TMP/bad.html"
browse "file://$TMP/bad.html" "$TMP/bad.dom" "$TMP/bad.log" --dump-dom
grep -q "CONSOLE" "$TMP/bad.log" && pass "the harness sees console errors (a page that throws)" ||
    echo "NOTE: this Chromium does not log console messages to stderr; console check is weaker"

browse "file://$TMP/report.html" "$TMP/report.dom" "$TMP/report.log" --dump-dom
if [ ! -s "$TMP/report.dom" ]; then
    fail "Chromium rendered nothing: $(tail -c 400 "$TMP/report.log")"
    finish
    exit $?
fi
if grep -E "CONSOLE|Uncaught|Refused to" "$TMP/report.log" > "$TMP/console"; then
    fail "console messages while rendering the report: $(head -c 400 "$TMP/console")"
else
    pass "the report renders with no console message"
fi
"$PYTHON" - "$TMP/report.dom" <<'EOF' && pass "rendered DOM: the map (svg with segments), summary, findings and every table" || fail "rendered DOM incomplete"
import re, sys
dom = open(sys.argv[1], encoding="utf-8", errors="replace").read()
ok = True
def want(cond, what):
    global ok
    print(("  ok: " if cond else "  MISSING: ") + what)
    ok &= bool(cond)
want(re.search(r"<svg[^>]*>", dom) is not None, "an <svg> map")
want(len(re.findall(r'class="cluster"', dom)) >= 2, "segments drawn as clusters in the map")
want('id="summary"' in dom and 'class="card' in dom, "the summary cards")
want('id="t-findings"' in dom, "the findings")
for t in ("risks", "risky_flows", "blast_radius", "blocked", "attack_paths", "segments", "rules", "review",
          "unknown_devices", "inventory", "external_peers", "captures"):
    want('id="t-%s"' % t in dom, "section " + t)
want(dom.count("<table") >= 8, "tables (%d)" % dom.count("<table"))
want("<script" not in dom.lower(), "no script element")
sys.exit(0 if ok else 1)
EOF

# Hostile names in a browser: shown as text, nothing runs.
if "$PYTHON" "$top_srcdir/tests/gen_ident_pcap.py" "$TMP/hostile.pcap" &&
   "$S" capture -q --db "$TMP/hdb" -r "$TMP/hostile.pcap" && "$S" report -q --db "$TMP/hdb" -o "$TMP/hostile.html"; then
    browse "file://$TMP/hostile.html" "$TMP/hostile.dom" "$TMP/hostile.log" --dump-dom
    if grep -E "CONSOLE|Uncaught|Refused to" "$TMP/hostile.log" > "$TMP/console"; then
        fail "hostile names: console messages: $(head -c 400 "$TMP/console")"
    else
        pass "hostile names: no console message (no script ran)"
    fi
    grep -q "&lt;script&gt;alert(1)&lt;/script&gt;" "$TMP/hostile.dom" && ! grep -qi "<script" "$TMP/hostile.dom" &&
        pass "hostile names: shown as text in the rendered DOM" || fail "hostile names: not rendered as text"
else
    fail "hostile capture or report failed"
fi

browse "file://$TMP/report.html" "$TMP/shot.out" "$TMP/shot.log" --hide-scrollbars --window-size=1400,2400 \
    --screenshot="$TMP/report.png"
if [ -s "$TMP/report.png" ]; then
    cp "$TMP/report.png" "$top_builddir/tests/report-browser.png" 2>/dev/null
    pass "screenshot taken (tests/report-browser.png)"
else
    fail "no screenshot: $(tail -c 300 "$TMP/shot.log")"
fi
finish
