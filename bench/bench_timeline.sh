#!/usr/bin/env bash
# capsift timeline on the ~1.1 GB make-big-capture.sh file, in packets per second, against
# tshark -q -z io,stat (the same packets and bytes per interval) and a dpkt loop that bins the
# same counts, in one run: the totals (-j 1, -j 2), per application (-j 2, the flows with nDPI)
# and per host (-j 2); and the cost of the window statistics: --window 1h at 100 ms intervals
# (36,000 intervals a window) against the default (the empty intervals within a window after
# each busy one are computed, so a longer window costs more on sparse traffic). Every run computes (no result cache).
# Env: RUNS (default 5), BIG_MB, CAPSIFT.
. "$(dirname "$0")/lib.sh"
export CAPSIFT_NO_CACHE=1
BIG=$(big_capture big.pcap "${BIG_MB:-1100}")
packets=$("$CAPSIFT" info --json "$BIG" | sed 's/.*"packets":\([0-9]*\).*/\1/')
echo "== timeline: $(du -hL "$BIG" | cut -f1) pcap, $packets packets, $(nproc) cores, median of $RUNS"
cat "$BIG" >/dev/null

rate() { awk -v p="$packets" -v s="$1" 'BEGIN { printf "%.2f M packets/s", p / s / 1e6 }'; }

# The file's packets span ten years (the corpus' captures, shifted): tshark's io,stat keeps
# every interval from the first packet's, so at 1 s it was killed for memory at 24 GiB (also with
# every protocol off). At 1 h (90,866 intervals) it runs; with every protocol off it still counts
# frames and bytes, its fastest form, so that is the peer. Full dissection is timed on the first
# 200,000 packets.
measure "tshark -q -z io,stat,3600 --disable-protocol ALL" tshark -n -q -r "$BIG" \
    --disable-protocol ALL -z io,stat,3600
tshark=$M_SEC
echo "  -> $(rate "$M_SEC")"
SMALL=$DATA/big-200k.pcap
[ -s "$SMALL" ] || editcap -r "$BIG" "$SMALL" 1-200000
measure "tshark -q -z io,stat,3600, 200k packets" tshark -n -q -r "$SMALL" -z io,stat,3600
full=$M_SEC
measure "capsift timeline -j 1 --interval 1h, 200k" "$CAPSIFT" timeline -j 1 --interval 1h \
    --json "$SMALL"
echo "  -> $(ratio "$full" "$M_SEC")x faster than tshark io,stat with full dissection"
PY=/usr/bin/python3
if $PY -c 'import dpkt' 2>/dev/null; then
    RUNS=1 measure "python3 dpkt: packets and bytes per hour" $PY -c '
import sys, dpkt
bins = {}
with open(sys.argv[1], "rb") as f:
    for ts, buf in dpkt.pcap.Reader(f):
        k = int(ts) // 3600
        p, b = bins.get(k, (0, 0))
        bins[k] = (p + 1, b + len(buf))
print(len(bins))' "$BIG"
    dpkt_sec=$M_SEC
fi
measure "capsift timeline -j 1 --interval 1h" "$CAPSIFT" timeline -j 1 --interval 1h --json "$BIG"
echo "  -> $(rate "$M_SEC"); $(ratio "$tshark" "$M_SEC")x faster than tshark io,stat" \
    "${dpkt_sec:+, $(ratio "$dpkt_sec" "$M_SEC")x faster than dpkt}"
measure "capsift timeline -j 2 --interval 1h" "$CAPSIFT" timeline -j 2 --interval 1h --json "$BIG"
echo "  -> $(rate "$M_SEC"); $(ratio "$tshark" "$M_SEC")x faster than tshark io,stat"
measure "capsift timeline -j 2 --interval 1h --by app" "$CAPSIFT" timeline -j 2 --interval 1h \
    --by app --json "$BIG"
echo "  -> $(rate "$M_SEC"); $(ratio "$tshark" "$M_SEC")x faster than tshark io,stat"
measure "capsift timeline -j 2 --interval 1h --by host" "$CAPSIFT" timeline -j 2 --interval 1h \
    --by host --json "$BIG"
echo "  -> $(rate "$M_SEC"); $(ratio "$tshark" "$M_SEC")x faster than tshark io,stat"
# 1 s: 327 million intervals, of which 252,485 are listed (the rest repeat an empty one)
measure "capsift timeline -j 2 (1 s)" "$CAPSIFT" timeline -j 2 --json "$BIG"
echo "  -> $(rate "$M_SEC"), where tshark io,stat,1 runs out of 24 GiB"
measure "capsift timeline -j 2 --interval 100ms" "$CAPSIFT" timeline -j 2 --interval 100ms \
    --json "$BIG"
short=$M_SEC
measure "capsift timeline -j 2 --interval 100ms --window 1h" "$CAPSIFT" timeline -j 2 \
    --interval 100ms --window 1h --json "$BIG"
echo "  -> $(ratio "$M_SEC" "$short")x the time of the default 60-interval window" \
    "(O(1) per interval, but every empty interval within a window after a busy one counts)"
