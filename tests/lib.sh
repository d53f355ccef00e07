# lib.sh - helpers for the end-to-end tests (sourced).
# Automake runs tests with top_srcdir, top_builddir, SEGSCOPE and
# SEGSCOPE_SHARED set; defaults let a test run by hand from the build tree.
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$PWD}"
: "${SEGSCOPE:=$top_builddir/segscope}"
: "${SEGSCOPE_SHARED:=$top_srcdir/../shared}"
PYTHON=${PYTHON:-python3}
[ -x /usr/bin/python3 ] && PYTHON=${PYTHON_OVERRIDE:-/usr/bin/python3}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/segscope-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
n_pass=0
n_fail=0

pass() { n_pass=$((n_pass + 1)); echo "PASS: $*"; }
fail() { n_fail=$((n_fail + 1)); echo "FAIL: $*"; }
skip_all() { echo "SKIP: $*"; exit 77; }
need_shared() { [ -d "$SEGSCOPE_SHARED/data" ] || skip_all "shared corpus not found at $SEGSCOPE_SHARED (set SEGSCOPE_SHARED)"; }

# expect_exit CODE DESCRIPTION -- command...
expect_exit() {
    want=$1; what=$2; shift 3
    "$@" >"$TMP/out" 2>"$TMP/err"
    got=$?
    if [ "$got" = "$want" ]; then pass "$what (exit $got)"; else fail "$what: exit $got, wanted $want; stderr: $(head -c 300 "$TMP/err")"; fi
}
# expect_grep PATTERN FILE DESCRIPTION
expect_grep() {
    if grep -q -- "$1" "$2"; then pass "$3"; else fail "$3: '$1' not in $(head -c 300 "$2")"; fi
}
finish() {
    echo "$n_pass passed, $n_fail failed"
    [ "$n_fail" = 0 ]
}
