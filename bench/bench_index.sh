#!/usr/bin/env bash
# capsift index on the ~1.1 GB capture: time and packets/s, database size against the capture,
# re-index of the unchanged file, query latency percentiles, and the naive way (one INSERT per
# row in autocommit) against the index's batched writes, all in one run.
. "$(dirname "$0")/lib.sh"
BIG=$(big_capture big.pcap "${BIG_MB:-1100}")
BI=${BENCH_INDEX:-$ROOT/build/bench/bench_index}
DB=$DATA/bench-index.db
cat "$BIG" >/dev/null
packets=$("$CAPSIFT" info --json "$BIG" | sed 's/.*"packets":\([0-9]*\).*/\1/')
echo "== capsift index: $(du -hL "$BIG" | cut -f1) pcap, $packets packets, $(nproc) cores"
times=()
for _ in $(seq "$RUNS"); do
    rm -f "$DB" "$DB-wal" "$DB-shm"
    t0=$(date +%s.%N)
    "$CAPSIFT" index --db "$DB" -q "$BIG" >/dev/null
    times+=("$(echo "$(date +%s.%N) - $t0" | bc)")
done
med=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
printf 'capsift index (fresh database)               %8.3f s  %.2f M packets/s\n' "$med" \
    "$(echo "$packets / $med / 1000000" | bc -l)"
dbsize=$(stat -c %s "$DB"); capsize=$(stat -L -c %s "$BIG")
printf 'database size: %.1f MB, %.2f%% of the capture\n' "$(echo "$dbsize / 1000000" | bc -l)" \
    "$(echo "100 * $dbsize / $capsize" | bc -l)"
measure "capsift index again (unchanged file)" "$CAPSIFT" index --db "$DB" -q "$BIG"
measure "capsift flows --no-cache (for scale)" "$CAPSIFT" flows --no-cache "$BIG"
"$BI" queries "$DB" 2000
"$BI" inserts "$DB"
