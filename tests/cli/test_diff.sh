#!/usr/bin/env bash
# capsift diff: against a profile computed from capsift flows --json (diff_ref.py) on real
# captures and directories; a host taken out of a capture by tshark is on one side only and
# nothing else is; doubled traffic crosses a 50% threshold and not a 100% one; -j and ranges
# do not change the result; an index as either side gives what its captures give.
. "$(dirname "$0")/lib.sh"
HERE=$(dirname "$0")
f="$CAPS/dpkt--http.pcap"
g="$CAPS/pcapplusplus--http-packets.pcap"

# a capture against itself: nothing
expect_exit 0 "$CAPSIFT" diff --json "$f" "$f"
[ ! -s "$TMP/out" ] && pass || fail "a capture differs from itself: $(head -3 "$TMP/out")"

# against the reference
python3 "$HERE/diff_ref.py" "$CAPSIFT" 100 "$f" "$g" >"$TMP/ref" 2>&1 && pass ||
    { fail "diff of two captures differs from the reference"; cat "$TMP/ref" >&2; }
if have_shared && [ "${SIFT_SANITIZE:-OFF}" != ON ]; then
    python3 "$HERE/diff_ref.py" "$CAPSIFT" 50 "$CAPS" "$SHARED/traffic" >"$TMP/ref" 2>&1 && pass ||
        { fail "diff of two directories differs from the reference"; cat "$TMP/ref" >&2; }
fi

# a connection taken out by tshark: its flow on side A only, and nothing else (its server's
# port, 31600, serves the other connections too)
tshark -r "$g" -Y '!(ip.addr == 172.16.30.190 && tcp.port == 8870)' -F pcap -w "$TMP/less.pcap" 2>/dev/null
expect_exit 0 "$CAPSIFT" diff --json -q --kind flow,port "$g" "$TMP/less.pcap"
python3 - "$TMP/out" <<'PY' && pass || fail "the connection taken out is not the difference"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [(r["kind"], r["key"], r["change"], r["b_flows"]) for r in rows] == \
    [("flow", "tcp 172.16.30.190:8870 - 172.16.210.84:31600", "only_a", 0)], rows
assert rows[0]["a_packets"] > 100, rows
PY

# doubled traffic: the same capture twice on side B
mkdir -p "$TMP/two"
cp "$f" "$TMP/two/1.pcap"
cp "$f" "$TMP/two/2.pcap"
"$CAPSIFT" diff --json -q --threshold 100 "$f" "$TMP/two" >"$TMP/d100"
"$CAPSIFT" diff --json -q --threshold 50 --kind host "$f" "$TMP/two" >"$TMP/d50"
python3 - "$TMP/d100" "$TMP/d50" <<'PY' && pass || fail "thresholds"
import json, sys
d100 = [json.loads(l) for l in open(sys.argv[1])]
d50 = [json.loads(l) for l in open(sys.argv[2])]
assert d100 == [], d100  # twice is not more than twice
assert len(d50) == 4 and all(r["change"] == "more" and r["b_bytes"] == 2 * r["a_bytes"] for r in d50), d50
PY

# -j and ranges do not change it
"$CAPSIFT" diff --json -q --no-cache -j 1 "$f" "$g" >"$TMP/w"
CAPSIFT_RANGE_BYTES=65536 "$CAPSIFT" diff --json -q --no-cache -j 4 "$f" "$g" >"$TMP/s"
cmp -s "$TMP/w" "$TMP/s" && [ -s "$TMP/w" ] && pass || fail "diff differs split in ranges"

# indexes as sides: the same differences as the captures they index, either side or both
a_side=$f b_side=$g
if have_shared && [ "${SIFT_SANITIZE:-OFF}" != ON ]; then a_side=$CAPS b_side=$SHARED/traffic; fi
"$CAPSIFT" index -q --db "$TMP/a.db" "$a_side" >/dev/null 2>&1
"$CAPSIFT" index -q --db "$TMP/b.db" "$b_side" >/dev/null 2>&1
"$CAPSIFT" diff --json -q --threshold 50 "$a_side" "$b_side" >"$TMP/dc" 2>/dev/null
for pair in "a.db b.db" "a.db B" "A b.db"; do
    set -- $pair
    x=$TMP/$1 y=$TMP/$2
    [ "$1" = A ] && x=$a_side
    [ "$2" = B ] && y=$b_side
    "$CAPSIFT" diff --json -q --threshold 50 "$x" "$y" >"$TMP/di" 2>/dev/null
    cmp -s "$TMP/dc" "$TMP/di" && [ -s "$TMP/dc" ] && pass ||
        fail "diff of $pair differs from the captures': $(diff "$TMP/dc" "$TMP/di" | head -4)"
done
expect_exit 0 "$CAPSIFT" diff --json "$TMP/a.db" "$TMP/a.db"
[ ! -s "$TMP/out" ] && pass || fail "an index differs from itself"
expect_exit 2 "$CAPSIFT" diff -f tcp "$TMP/a.db" "$g"
expect_grep "a.db: an index has flows, not packets" "$TMP/err"
python3 -c "import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute('create table t(x)')" "$TMP/other.db"
expect_exit 3 "$CAPSIFT" diff "$TMP/other.db" "$g"
expect_grep "other.db: an SQLite database, but not a capsift index" "$TMP/err"

# usage
expect_exit 2 "$CAPSIFT" diff "$f"
expect_grep "give two captures" "$TMP/err"
expect_exit 2 "$CAPSIFT" diff --kind hosts "$f" "$g"
expect_grep "unknown kind 'hosts'" "$TMP/err"
expect_exit 2 "$CAPSIFT" diff "$f" "$TMP/absent.pcap"
expect_exit 1 "$CAPSIFT" diff "$f" "$CAPS/dpkt--truncated_dns_2.pcap"
expect_exit 0 "$CAPSIFT" diff --help
expect_grep "JA3S" "$TMP/out"

finish
