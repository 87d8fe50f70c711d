#!/usr/bin/env bash
# bench_diff.sh [A B]
# capsift diff of two 1 GB captures in one run. By default A is bench/data/big.pcap (1.1 GB)
# and B bench/data/big-1000.pcap (1.0 GB), both from make-big-capture.sh (made when missing):
# B holds the same rounds of rewritten corpus traffic as A but one fewer, so most flows are on
# both sides and a round's worth on A only, as "yesterday against today" usually is.
#  - capsift diff of the two files (all kinds, and --no-app), median of RUNS;
#  - capsift index of both, then diff of the two indexes (the repeated question, answered
#    from the index);
#  - the peers, once each (they take minutes): python3-dpkt flow tables of both compared as
#    sets (diff_dpkt.py, whose flow and host counts are printed beside capsift's), and tshark
#    conversation statistics (-z conv,tcp -z conv,udp) of both files, what an analyst would
#    compare by hand.
# Env: CAPSIFT, RUNS (default 3), PEER_RUNS (default 1; 0 leaves the peers out).
RUNS=${RUNS:-3}
. "$(dirname "$0")/lib.sh"
a=${1:-$(big_capture big.pcap 1100)}
b=${2:-$(big_capture big-1000.pcap 1000)}
PEER_RUNS=${PEER_RUNS:-1}
export CAPSIFT_NO_CACHE=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "A: $a ($(du -mL "$a" | cut -f1) MB), B: $b ($(du -mL "$b" | cut -f1) MB), median of $RUNS"

# counts KIND...: "kind change count" lines of a --json diff on stdin
counts() { python3 -c '
import collections, json, sys
c = collections.Counter((r["kind"], r["change"]) for r in map(json.loads, sys.stdin))
print("; ".join(f"{k} {ch} {n}" for (k, ch), n in sorted(c.items()) if k in sys.argv[1:]))' "$@"; }

measure "capsift diff -j 2 A B" "$CAPSIFT" diff --json -j 2 "$a" "$b"
files=$M_SEC
measure "capsift diff -j 2 --no-app A B" "$CAPSIFT" diff --json -j 2 --no-app "$a" "$b"
"$CAPSIFT" diff --json -q -j 2 "$a" "$b" >"$work/d.json"
echo "  -> $(wc -l <"$work/d.json") differences: $(counts flow host <"$work/d.json")"

/usr/bin/time -o "$work/time" -f "%e %M" "$CAPSIFT" index -q -j 2 --db "$work/a.db" "$a" >/dev/null 2>&1
read -r ia _ < <(tail -n 1 "$work/time")
/usr/bin/time -o "$work/time" -f "%e %M" "$CAPSIFT" index -q -j 2 --db "$work/b.db" "$b" >/dev/null 2>&1
read -r ib _ < <(tail -n 1 "$work/time")
printf '%-44s %8.3f s\n' "capsift index A, then B (once each)" "$(awk -v x="$ia" -v y="$ib" 'BEGIN { print x + y }')"
measure "capsift diff A.db B.db" "$CAPSIFT" diff --json "$work/a.db" "$work/b.db"
"$CAPSIFT" diff --json -q "$work/a.db" "$work/b.db" >"$work/dd.json"
if cmp -s <(sort "$work/d.json") <(sort "$work/dd.json"); then same="the same rows"; else same="ROWS DIFFER"; fi
echo "  -> $(ratio "$files" "$M_SEC")x the diff of the files; $same as the diff of the files"

if [ "$PEER_RUNS" -gt 0 ]; then
    py=/usr/bin/python3 # Debian's, where python3-dpkt is installed
    [ -x $py ] || py=python3
    /usr/bin/time -o "$work/time" -f "%e %M" $py "$HERE/diff_dpkt.py" "$a" "$b" >"$work/dp" 2>/dev/null || true
    read -r t kb < <(tail -n 1 "$work/time")
    printf '%-44s %8.3f s %9d KB\n' "python3-dpkt flow tables compared" "$t" "$kb"
    echo "  -> capsift diff is $(ratio "$t" "$files")x faster; dpkt: $(cat "$work/dp")"
    /usr/bin/time -o "$work/time" -f "%e %M" sh -c 'for f; do tshark -n -q -r "$f" -z conv,tcp -z conv,udp; done' \
        sh "$a" "$b" >"$work/th" 2>/dev/null || true
    read -r t kb < <(tail -n 1 "$work/time")
    printf '%-44s %8.3f s %9d KB\n' "tshark -z conv,tcp -z conv,udp of A and B" "$t" "$kb"
    echo "  -> capsift diff is $(ratio "$t" "$files")x faster"
fi
