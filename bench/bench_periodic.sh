#!/usr/bin/env bash
# The beacon benchmark: bench/beacons.py plants beacons made of real packets (periods 10 s to
# 1 h, uniform jitter 0 to 50%, three of each) and 300 aperiodic decoys in 12 hours of real
# corpus traffic, then reports recall by jitter and false positives for capsift periodic (its
# threshold) and for RITA's four-subscore method computed by beacons.py from the capture (at
# the threshold that keeps its false positives at 1%, and at 0.8), with the time of each; and
# capsift periodic on the ~1.1 GB make-big-capture.sh file in packets per second.
# Env: RUNS (default 5), BIG_MB, CAPSIFT.
. "$(dirname "$0")/lib.sh"
export CAPSIFT_NO_CACHE=1
PY=/usr/bin/python3
B=$DATA/beacons
mkdir -p "$B"
if [ ! -s "$B/b12.pcapng" ]; then
    bg=()
    for f in "$ROOT/../shared/captures/traffic"/*; do # real traffic of a sane span (not decades apart)
        s=$(capinfos -u -T -r -M "$f" 2>/dev/null | cut -f2)
        awk -v s="$s" 'BEGIN { exit !(s > 1 && s < 12000) }' && bg+=("$f")
    done
    $PY "$(dirname "$0")/beacons.py" make "$B/b12.pcapng" "$B/b12.json" --hours 12 \
        --template "$(dirname "$0")/../tests/captures/dpkt--http.pcap" --background "${bg[@]}"
fi
packets=$("$CAPSIFT" info --json "$B/b12.pcapng" | sed 's/.*"packets":\([0-9]*\).*/\1/')
echo "== periodic: beacon benchmark, $(du -hL "$B/b12.pcapng" | cut -f1), $packets packets, 12 h, $(nproc) cores, median of $RUNS"
measure "capsift periodic --all (conn)" "$CAPSIFT" periodic --all --top 0 --json "$B/b12.pcapng"
ours=$M_SEC
"$CAPSIFT" periodic --all --top 0 --json "$B/b12.pcapng" >"$B/b12.out"
# the result cache: the file's pass state and each group's score, keyed by their content
CACHE=$(mktemp -d)
CAPSIFT_CACHE_DIR=$CACHE CAPSIFT_NO_CACHE= "$CAPSIFT" periodic --all --top 0 --json "$B/b12.pcapng" \
    >/dev/null
CAPSIFT_CACHE_DIR=$CACHE CAPSIFT_NO_CACHE= measure "capsift periodic, answered from the cache" \
    "$CAPSIFT" periodic --all --top 0 --json "$B/b12.pcapng"
CAPSIFT_CACHE_DIR=$CACHE CAPSIFT_NO_CACHE= "$CAPSIFT" periodic --all --top 0 --json "$B/b12.pcapng" |
    cmp -s - "$B/b12.out" && same=identical || same=DIFFERENT
echo "  -> $(ratio "$ours" "$M_SEC")x faster, output $same; cache $(du -sh "$CACHE" | cut -f1)"
rm -rf "$CACHE"
t0=$(date +%s.%N)
$PY "$(dirname "$0")/beacons.py" score "$B/b12.json" "$B/b12.pcapng" "$B/b12.out" >"$B/b12.score"
t1=$(date +%s.%N)
rita=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
printf '  RITA baseline (beacons.py, dpkt, one run): %.2f s (%.1fx capsift)\n' "$rita" \
    "$(awk -v r="$rita" -v o="$ours" 'BEGIN { print r / o }')"
$PY - "$B/b12.score" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"  negatives {s['negatives']} (decoys {s['decoys']} and background groups)")
print(f"  false positives: capsift {s['fp_ours']} ({s['fp_ours'] / s['negatives']:.1%}) at "
      f"{s['threshold']}; RITA {s['fp_rita']} at {s['rita_threshold']}, {s['fp_rita_0.8']} at 0.8")
print("  jitter  beacons  recall  period<=1%  RITA@1%FP  RITA@0.8")
for j in s["by_jitter"]:
    print(f"  {j['jitter']:6.0%}  {j['beacons']:7d}  {j['recall']:6.3f}  {j['period_within_1pct']:10.3f}"
          f"  {j['rita_recall']:9.3f}  {j['rita_recall_0.8']:8.3f}")
print(f"  RITA subscores, capsift against beacons.py: max difference {s['rita_parts_max_diff']}")
PY
# from an index of the same capture (--db): the flows are the events, no capture read
[ -s "$B/b12.db" ] || "$CAPSIFT" index -q --db "$B/b12.db" "$B/b12.pcapng" >/dev/null
measure "capsift periodic --all --db (its index)" "$CAPSIFT" periodic --all --top 0 --json \
    --db "$B/b12.db"
"$CAPSIFT" periodic --all --top 0 --json --db "$B/b12.db" | cmp -s - "$B/b12.out" &&
    same="identical to the read's" || same="not the read's (flows with several exchanges)"
echo "  -> reading the capture / --db: $(ratio "$ours" "$M_SEC")x; output $same"
BIG=$(big_capture big.pcap "${BIG_MB:-1100}")
bp=$("$CAPSIFT" info --json "$BIG" | sed 's/.*"packets":\([0-9]*\).*/\1/')
echo "== periodic: $(du -hL "$BIG" | cut -f1) pcap, $bp packets"
for j in 1 2; do
    measure "capsift periodic -j $j" "$CAPSIFT" periodic -j $j "$BIG"
    awk -v p="$bp" -v s="$M_SEC" 'BEGIN { printf "  -> %.2f M packets/s\n", p / s / 1e6 }'
done
