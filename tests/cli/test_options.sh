#!/usr/bin/env bash
# Option values: every command parses sizes, durations and counts with one checked parser, so a
# value that would wrap, round to zero or read as "no limit" is refused with exit 2 and a
# message naming the option and the range, never taken silently.
. "$(dirname "$0")/lib.sh"
F="$CAPS/dpkt--http.pcap"

# bad CMD... -- MESSAGE: exit 2 with MESSAGE on stderr
bad() {
    local args=() msg
    while [ "$1" != -- ]; do args+=("$1"); shift; done
    msg=$2
    expect_exit 2 "$CAPSIFT" "${args[@]}"
    expect_grep "$msg" "$TMP/err"
}
bad flows --no-cache --top -1 "$F" -- "flows: --top needs a whole number"
bad flows --no-cache --top 18446744073709551616 "$F" -- "--top must be from 0 to 18446744073709551615"
bad flows --no-cache --max-flows 0 "$F" -- "--max-flows must be from 1 to"
bad flows --no-cache --max-flows -1 "$F" -- "--max-flows needs a whole number"
bad flows --no-cache --idle-timeout 1e-12 "$F" -- "--idle-timeout needs a duration"
bad flows --no-cache --idle-timeout 0.0000000001 "$F" -- "--idle-timeout must be from 0.000001 s"
bad flows --no-cache --idle-timeout -5 "$F" -- "--idle-timeout needs a duration"
bad stats --no-cache --interval 0ms "$F" -- "--interval must be from"
bad stats --no-cache --max-keys 0 "$F" -- "--max-keys must be from 1"
bad stats --no-cache --top 1.5 "$F" -- "--top needs a whole number"
bad index --db "$TMP/i.db" --max-size 18446744073709552k "$F" -- "--max-size must be from 1 B to"
bad index --db "$TMP/i.db" --max-size -1 "$F" -- "--max-size needs a size"
bad index --db "$TMP/i.db" --busy-timeout 0 "$F" -- "--busy-timeout must be from 1 to 3600000"
bad query --db "$TMP/i.db" --limit -1 -- "--limit needs a whole number"
bad query --db "$TMP/i.db" --limit 0 -- "--limit must be from 1"
bad info -j 0 "$F" -- "-j must be from 1 to 1024"
bad info -j 2x "$F" -- "-j needs a whole number"
bad bench --seed -3 -- "--seed needs a whole number"
[ ! -e "$TMP/i.db" ] && pass || fail "a refused option still created the database"

# the forms the parser accepts do what they say
expect_exit 0 "$CAPSIFT" flows --no-cache --top 1k "$F"
expect_exit 0 "$CAPSIFT" flows --no-cache --idle-timeout 2m "$F"
expect_exit 0 "$CAPSIFT" stats --no-cache --interval 1.5s --json "$F"
expect_grep '"interval":1.5,' "$TMP/out"
# --max-size: a file larger than the limit is left out and counted, one within it is read
size=$(stat -c %s "$F")
expect_exit 0 "$CAPSIFT" index --db "$TMP/m.db" --max-size "$((size - 1))" "$F"
expect_grep '1 left out' "$TMP/out"
expect_exit 0 "$CAPSIFT" index --db "$TMP/m2.db" --max-size 1MiB "$F"
expect_grep 'indexed 1 file ' "$TMP/out"

# filters: a long one is compiled once per link type (unoptimised past 256 terms) and matches
# what its short equivalent matches; one past 500 terms is refused before anything is read
many=$(python3 -c 'print(" or ".join(["host 65.54.95.14"] + ["host 10.9.%d.%d" % (i >> 8, i & 255) for i in range(299)]))')
expect_exit 0 "$CAPSIFT" flows --no-cache -j 2 -f "$many" "$CAPS/zeek--206_example_b.pcap"
cp "$TMP/out" "$TMP/many.out"
expect_exit 0 "$CAPSIFT" flows --no-cache -f "host 65.54.95.14" "$CAPS/zeek--206_example_b.pcap"
cmp -s "$TMP/out" "$TMP/many.out" && [ -s "$TMP/out" ] && pass || fail "a 300-term filter matches differently"
huge=$(python3 -c 'print(" or ".join("host 10.9.%d.%d" % (i >> 8, i & 255) for i in range(5000)))')
bad info -f "$huge" "$F" -- "filter of 5000 terms and .* characters is too large: at most 500 terms"
bad info -f "tcp port" "$F" -- "bad filter 'tcp port': .*syntax error"

# flow limits: --max-flows or what --memory allows; reaching one keeps the flows up to it,
# names the limit, and exits 1 in flows, stats and index alike
expect_exit 1 "$CAPSIFT" flows --no-cache --max-flows 2 "$F"
expect_grep 'the flow limit of 2 flows was reached: [1-9][0-9]* packets of further flows are not counted; raise --max-flows' "$TMP/err"
[ "$(wc -l <"$TMP/out")" = 3 ] && pass || fail "flows --max-flows 2 printed $(wc -l <"$TMP/out") lines"
expect_exit 1 "$CAPSIFT" stats --no-cache --max-flows 1 "$F"
expect_grep 'the flow limit of 1 flows was reached: [1-9][0-9]* packets' "$TMP/err"
expect_exit 1 "$CAPSIFT" index --db "$TMP/cap.db" --max-flows 1 "$F"
expect_grep 'the flow limit of 1 flows was reached: [1-9][0-9]* packets of further flows are not counted \(raise --memory or --max-flows\)' "$TMP/out"
bad flows --no-cache --memory 1M "$F" -- "--memory must be from 64.0 MB"
bad flows --no-cache --memory lots "$F" -- "--memory needs a size"
expect_exit 0 "$CAPSIFT" flows --no-cache --memory 100M "$F"

finish
