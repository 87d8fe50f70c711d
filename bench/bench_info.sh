#!/usr/bin/env bash
# capsift info against capinfos, tcpdump, tracestats and a plain dd read, on a ~1.1 GB capture
# built from the real traffic corpus; then on its gzip -1 and zstd -1 forms against zcat and
# zstdcat. Warm page cache, median of $RUNS runs, peak memory from /usr/bin/time.
#   bench/bench_info.sh            (BIG_MB=1100 RUNS=5 by default)
. "$(dirname "$0")/lib.sh"
BIG=$(big_capture big.pcap "${BIG_MB:-1100}")
[ -s "$BIG.gz" ] || gzip -1 -k -c "$BIG" >"$BIG.gz"
[ -s "$BIG.zst" ] || zstd -q -1 -c "$BIG" >"$BIG.zst"
cat "$BIG" "$BIG.gz" "$BIG.zst" >/dev/null   # warm the page cache

echo "== capsift info: $(du -h "$BIG" | cut -f1) pcap, $("$CAPSIFT" info --json "$BIG" | sed 's/.*"packets":\([0-9]*\).*/\1/') packets, $(nproc) cores"
measure "dd if=F of=/dev/null bs=1M" dd if="$BIG" of=/dev/null bs=1M; dd=$M_SEC
measure "capinfos -c F" capinfos -c "$BIG"; capinfos=$M_SEC; capinfos_kb=$M_KB
measure "tcpdump -r F -w /dev/null" tcpdump -r "$BIG" -w /dev/null; tcpdump=$M_SEC
if command -v tracestats >/dev/null; then
    measure "tracestats pcapfile:F" tracestats "pcapfile:$BIG"; tracestats=$M_SEC
fi
measure "capsift info -j 1 F" "$CAPSIFT" info -j 1 "$BIG"; one=$M_SEC
measure "capsift info F (all cores)" "$CAPSIFT" info "$BIG"; all=$M_SEC; all_kb=$M_KB
echo "capsift info vs capinfos -c: $(ratio "$capinfos" "$all")x faster (-j 1: $(ratio "$capinfos" "$one")x)"
echo "capsift info vs tcpdump -w /dev/null: $(ratio "$tcpdump" "$all")x faster"
[ -n "${tracestats:-}" ] && echo "capsift info vs tracestats: $(ratio "$tracestats" "$all")x faster"
echo "capsift info time / dd time: $(ratio "$all" "$dd") (-j 1: $(ratio "$one" "$dd")); peak memory $((all_kb / 1024)) MB (capinfos $((capinfos_kb / 1024)) MB)"

echo "== compressed input"
measure "zcat F.gz > /dev/null" zcat "$BIG.gz"; zcat=$M_SEC
measure "capinfos -c F.gz" capinfos -c "$BIG.gz"; capgz=$M_SEC
measure "capsift info F.gz" "$CAPSIFT" info "$BIG.gz"; sgz=$M_SEC; sgz_kb=$M_KB
measure "zstdcat F.zst > /dev/null" zstdcat "$BIG.zst"; zstdcat=$M_SEC
measure "capsift info F.zst" "$CAPSIFT" info "$BIG.zst"; szst=$M_SEC; szst_kb=$M_KB
echo "gzip: capsift info vs zcat: $(ratio "$zcat" "$sgz")x, vs capinfos: $(ratio "$capgz" "$sgz")x faster; peak $((sgz_kb / 1024)) MB"
echo "zstd: capsift info vs zstdcat: $(ratio "$zstdcat" "$szst")x faster; peak $((szst_kb / 1024)) MB"
