# Helpers for the CLI tests: sourced by tests/cli/test_*.sh.
set -u
CAPSIFT=${CAPSIFT:?CAPSIFT must name the capsift binary}
CAPS=${SIFT_TEST_CAPTURES:?}
SHARED=${SIFT_SHARED_CAPTURES:-}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0
passes=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { passes=$((passes + 1)); }

# expect_exit CODE CMD...: runs CMD, checks its exit status, keeps stdout/stderr in $TMP/out, err.
expect_exit() {
    local want=$1; shift
    "$@" >"$TMP/out" 2>"$TMP/err"
    local got=$?
    if [ "$got" -ne "$want" ]; then
        fail "exit $got (wanted $want): $*"; sed 's/^/  stderr: /' "$TMP/err" | head -5 >&2
    else
        pass
    fi
}

# expect_grep PATTERN FILE: FILE contains PATTERN (extended regex).
expect_grep() {
    if grep -qE -- "$1" "$2"; then pass; else fail "'$1' not in $2: $(head -c 300 "$2")"; fi
}

have_shared() { [ -n "$SHARED" ] && [ -f "$SHARED/MANIFEST.tsv" ]; }

finish() {
    echo "$passes passed, $failures failed"
    [ "$failures" -eq 0 ]
}
