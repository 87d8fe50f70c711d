#!/usr/bin/env bash
# The result cache: capsift flows, stats, timeline and periodic on the ~1.1 GB capture, computed
# (--no-cache), first run on an empty cache (fingerprint the file, compute, store), and answered
# from the cache (the library's per-file pass states, printed as a read prints them; periodic's
# scored groups too); capsift info, the same; then the library micro-benchmark (bench_cache:
# L1/L2 ops/s and latency percentiles).
#   CAPSIFT=build/capsift BENCH_CACHE_BIN=build/bench/bench_cache bench/bench_cache.sh
. "$(dirname "$0")/lib.sh"
BIG=$(big_capture big.pcap 1100)
export CAPSIFT_CACHE_DIR=$(mktemp -d)
trap 'rm -rf "$CAPSIFT_CACHE_DIR"' EXIT
unset CAPSIFT_NO_CACHE

# hit_ms CMD...: the median of 20 in-process timings of CMD (/usr/bin/time has 10 ms
# resolution), in ms.
hit_ms() {
    python3 - "$@" <<'PY'
import subprocess, sys, time
t = []
for _ in range(20):
    s = time.perf_counter()
    subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
    t.append(time.perf_counter() - s)
t.sort()
print("%.1f" % (1000 * t[len(t) // 2]))
PY
}

echo "capture: $BIG ($(stat -c %s "$BIG") bytes); cache: $CAPSIFT_CACHE_DIR; median of $RUNS runs"
for cmd in flows stats "timeline --interval 1h --by host" periodic; do
    name=${cmd%% *}
    "$CAPSIFT" $cmd --no-cache "$BIG" >"$CAPSIFT_CACHE_DIR/$name.out"
    out_bytes=$(stat -c %s "$CAPSIFT_CACHE_DIR/$name.out")
    measure "capsift $name --no-cache" "$CAPSIFT" $cmd --no-cache "$BIG"
    t_nocache=$M_SEC
    measure "capsift $name, first run (empty cache)" \
        sh -c '"$0" cache clear >/dev/null && exec "$0" "$@"' "$CAPSIFT" $cmd "$BIG"
    t_first=$M_SEC
    measure "capsift $name, cache hit" "$CAPSIFT" $cmd "$BIG"
    t_hit=$M_SEC
    "$CAPSIFT" $cmd "$BIG" | cmp -s - "$CAPSIFT_CACHE_DIR/$name.out" && same=identical || same=DIFFERENT
    t_hit_ms=$(hit_ms "$CAPSIFT" $cmd "$BIG")
    echo "capsift $name: output $out_bytes bytes, $same from cache; hit ${t_hit_ms} ms (median of 20);" \
        "first run / hit: $(ratio "$t_first" "$(awk -v m="$t_hit_ms" 'BEGIN{print m/1000}')")x," \
        "--no-cache / hit: $(ratio "$t_nocache" "$(awk -v m="$t_hit_ms" 'BEGIN{print m/1000}')")x," \
        "first run / --no-cache: $(ratio "$t_first" "$t_nocache") (fingerprint and store)"
    # the entry holds states, not text: a hit prints as a read does, so part of it is printing
    [ "$name" = flows ] &&
        echo "capsift flows --top 1: hit $(hit_ms "$CAPSIFT" flows --top 1 "$BIG") ms" \
            "(median of 20; the same entry, loaded without printing every flow)"
done

# info is cached per file as its pass states, but never hashes a file itself (it reads less
# than the hash would): the first run after a clear reads; once flows has taken the
# fingerprint, info stores, and later runs are hits
"$CAPSIFT" info --no-cache "$BIG" >"$CAPSIFT_CACHE_DIR/info.out"
measure "capsift info --no-cache" "$CAPSIFT" info --no-cache "$BIG"
t_nocache=$M_SEC
measure "capsift info, empty cache (no fingerprint)" \
    sh -c '"$0" cache clear >/dev/null && "$0" info "$1"' "$CAPSIFT" "$BIG"
"$CAPSIFT" flows --top 1 "$BIG" >/dev/null # takes the fingerprint
"$CAPSIFT" info "$BIG" >/dev/null          # stores
measure "capsift info, cache hit" "$CAPSIFT" info "$BIG"
"$CAPSIFT" info "$BIG" | cmp -s - "$CAPSIFT_CACHE_DIR/info.out" && same=identical || same=DIFFERENT
t_hit_ms=$(hit_ms "$CAPSIFT" info "$BIG")
echo "capsift info: $same from cache; hit ${t_hit_ms} ms (median of 20);" \
    "--no-cache / hit: $(ratio "$t_nocache" "$(awk -v m="$t_hit_ms" 'BEGIN{print m/1000}')")x"
"$CAPSIFT" cache stats

BIN=${BENCH_CACHE_BIN:-$(dirname "$CAPSIFT")/bench/bench_cache}
if [ -x "$BIN" ]; then
    "$BIN" "$CAPSIFT_CACHE_DIR"
else
    echo "($BIN not built: no micro-benchmark)"
fi
