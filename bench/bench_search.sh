#!/usr/bin/env bash
# bench_search.sh [BIG_CAPTURE]
# capsift search on a make-big-capture.sh file (default bench/data/big.pcap, 1.1 GB, made when
# missing), in one run:
#  - bench_search: the matcher alone on the file's first 256 MB of payloads, one thread, with
#    1,000 and 10,000 literals in three mixes, in GB/s of payload against a sequential memmem
#    loop over the same payloads (whose matches must agree); compile time; the warm start;
#  - the command end to end: 10,000 indicator-like literals (names that occur nowhere and ten
#    common strings) per packet on one and two threads and per stream, with --count; one
#    pattern against tshark's `tcp.payload contains` and python3-dpkt's `in` loop (the peers,
#    once each: they take minutes); the command's warm start (a second run of a 10,000-pattern
#    set, the database read from the cache) on a small capture;
#  - the index's payload store (capsift index --payloads, once) searched with --db: each
#    distinct payload once, against the per-packet search of the capture.
# Median wall time and peak RSS, with ratios.
# Env: CAPSIFT, RUNS (default 3), PEER_RUNS (default 1: one run each; 0 leaves them out).
RUNS=${RUNS:-3}
. "$(dirname "$0")/lib.sh"
big=${1:-$(big_capture big.pcap 1100)}
PEER_RUNS=${PEER_RUNS:-1}
BENCH_SEARCH=${BENCH_SEARCH:-$ROOT/build/bench/bench_search}

packets=$("$CAPSIFT" info --json "$big" | python3 -c 'import json,sys; print(json.load(sys.stdin)["packets"])')
echo "file: $big ($(du -mL "$big" | cut -f1) MB, $packets packets), median of $RUNS"

echo "## the matcher alone (bench_search)"
"$BENCH_SEARCH" "$big" 256 1024

echo "## the command"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work/10k.txt" <<'PY'
import random, sys
r = random.Random(7)
abc = "abcdefghijklmnopqrstuvwxyz0123456789."
names = {"".join(r.choice(abc) for _ in range(r.randint(8, 16))) for _ in range(9990)}
common = ["User-Agent", "HTTP/1.1 200", "Content-Type", "Set-Cookie", "google", "Accept-Encoding",
          "keep-alive", "Mozilla/5.0", "text/html", "Server:"]
open(sys.argv[1], "w").write("\n".join(sorted(names) + common) + "\n")
PY
n10k=$(wc -l <"$work/10k.txt")
export CAPSIFT_CACHE_DIR=$work/cache
payload=$("$CAPSIFT" search --per-packet --count -e User-Agent "$big" 2>&1 >/dev/null | sed -nE 's/.* payloads \(([^)]*)\).*/\1/p')
echo "payload searched: $payload"
gbs() { awk -v t="$1" -v b="$(du -bL "$big" | cut -f1)" 'BEGIN { printf "%.2f", b / t / 1e9 }'; }
measure "capsift search --per-packet -j 1 ($n10k patterns)" "$CAPSIFT" search --per-packet --count -j 1 -F "$work/10k.txt" "$big"
s1=$M_SEC
echo "  -> $(gbs "$M_SEC") GB/s of capture on one core"
measure "capsift search --per-packet -j 2 ($n10k patterns)" "$CAPSIFT" search --per-packet --count -j 2 -F "$work/10k.txt" "$big"
echo "  -> $(gbs "$M_SEC") GB/s of capture; second core $(ratio "$s1" "$M_SEC")x"
measure "capsift search per stream -j 2 ($n10k patterns)" "$CAPSIFT" search --count -j 2 -F "$work/10k.txt" "$big"
echo "  -> $(gbs "$M_SEC") GB/s of capture (one file: one worker)"
measure "capsift search --per-packet --json -j 2 (User-Agent)" "$CAPSIFT" search --per-packet --json -j 2 -e User-Agent "$big"
one=$M_SEC
hits=$("$CAPSIFT" search --per-packet --json -q -e User-Agent "$big" | wc -l)
# once LABEL OUT CMD...: one timed run (the peers take minutes), stdout kept in OUT
once() {
    local label=$1 out=$2; shift 2
    /usr/bin/time -o "$work/time" -f "%e %M" "$@" >"$out" 2>/dev/null || true
    read -r M_SEC M_KB < <(tail -n 1 "$work/time")
    printf '%-44s %8.3f s %9d KB\n' "$label" "$M_SEC" "$M_KB"
}
if [ "$PEER_RUNS" -gt 0 ]; then
    once "tshark -Y 'tcp.payload contains \"User-Agent\"'" "$work/th" tshark -n -r "$big" \
        -o tcp.desegment_tcp_streams:FALSE -T fields -e frame.number \
        -Y 'tcp.payload contains "User-Agent" or udp.payload contains "User-Agent"'
    echo "  -> capsift is $(ratio "$M_SEC" "$one")x faster; hits: capsift $hits, tshark $(wc -l <"$work/th")"
    echo "User-Agent" >"$work/one.txt"
    py=/usr/bin/python3 # Debian's, where python3-dpkt is installed
    [ -x $py ] || py=python3
    once "python3-dpkt 'in' loop (User-Agent)" "$work/dp" $py "$HERE/search_dpkt.py" "$big" "$work/one.txt"
    echo "  -> capsift is $(ratio "$M_SEC" "$one")x faster; hits: dpkt $(cat "$work/dp")"
fi

echo "## the index's payload store: search --db"
/usr/bin/time -o "$work/time" -f "%e %M" "$CAPSIFT" index -q -j 2 --payloads --db "$work/big.db" "$big" >/dev/null 2>&1
read -r t _ < <(tail -n 1 "$work/time")
printf '%-44s %8.3f s (once; the index %s MB)\n' "capsift index --payloads -j 2" "$t" "$(du -m "$work/big.db" | cut -f1)"
measure "capsift search --db ($n10k patterns)" "$CAPSIFT" search --db "$work/big.db" --count -F "$work/10k.txt"
echo "  -> $(ratio "$s1" "$M_SEC")x search --per-packet -j 1 of the capture"
measure "capsift search --db --json (User-Agent)" "$CAPSIFT" search --db "$work/big.db" --json -e User-Agent
dbhits=$("$CAPSIFT" search --db "$work/big.db" --json -q -e User-Agent | wc -l)
echo "  -> $(ratio "$one" "$M_SEC")x search --per-packet -j 2 of the capture; hits: $dbhits (per packet: $hits)"
rm -f "$work/big.db"

echo "## the command's warm start: $n10k patterns on a small capture"
small=$ROOT/tests/captures/dpkt--http.pcap
rm -rf "$CAPSIFT_CACHE_DIR"
/usr/bin/time -f "%e" -o "$work/t1" "$CAPSIFT" search -F "$work/10k.txt" "$small" >/dev/null 2>"$work/e1"
/usr/bin/time -f "%e" -o "$work/t2" "$CAPSIFT" search -F "$work/10k.txt" "$small" >/dev/null 2>"$work/e2"
echo "first run $(tail -1 "$work/t1") s: $(sed -nE 's/.*(database [^;]*)$/\1/p' "$work/e1" | tail -1)"
echo "second run $(tail -1 "$work/t2") s: $(sed -nE 's/.*(database [^;]*)$/\1/p' "$work/e2" | tail -1) (goal < 100 ms)"
