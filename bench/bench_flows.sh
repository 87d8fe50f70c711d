#!/usr/bin/env bash
# bench_flows.sh [CAPTURE] [BIG_CAPTURE]
# Compares `capsift flows` with `tshark -q -z conv,ip` and a python3-dpkt 5-tuple loop on the
# same file in the same run: median of 3 wall times and the peak RSS (/usr/bin/time), printed
# with ratios. Then measures the single-thread packet rate on a big capture with application
# detection on and off. Defaults: bench/data/flows100.pcap (the first 400 000 packets of a
# make-big-capture.sh file, made here when missing) and bench/data/big.pcap.
# Env: CAPSIFT (the binary; default build/capsift), RUNS (default 3).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$here/..
data=$here/data
C=${CAPSIFT:-$root/build/capsift}
runs=${RUNS:-3}
export CAPSIFT_NO_CACHE=1 # every run computes (bench_cache.sh measures the cache)
big=${2:-$data/big.pcap}
f=${1:-$data/flows100.pcap}
mkdir -p "$data"
if [ ! -f "$f" ]; then
  if [ ! -f "$big" ]; then
    "$root/../shared/bench/make-big-capture.sh" "$big" 1100
  fi
  editcap -F pcap -r "$big" "$f" 1-400000
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# measure NAME CMD...: sets T (median seconds) and M (peak RSS kB of that run)
measure() {
  local name=$1; shift
  : >"$tmp/times"
  for i in $(seq 1 "$runs"); do
    /usr/bin/time -f "%e %M" -o "$tmp/t" "$@" >/dev/null 2>"$tmp/err" || {
      echo "$name failed: $(tail -3 "$tmp/err")" >&2; exit 1; }
    cat "$tmp/t" >>"$tmp/times"
  done
  read -r T M < <(sort -n "$tmp/times" | sed -n "$(( (runs + 1) / 2 ))p")
  printf "  %-34s %8.2f s %9.1f MB\n" "$name" "$T" "$(echo "$M / 1024" | bc -l)"
}

packets=$("$C" info --json "$f" | python3 -c 'import json,sys; print(json.load(sys.stdin)["packets"])')
echo "file: $f ($(du -mL "$f" | cut -f1) MB, $packets packets), median of $runs"
measure "tshark -q -z conv,ip" tshark -r "$f" -q -z conv,ip; ts_t=$T; ts_m=$M
py=/usr/bin/python3; [ -x $py ] || py=python3
measure "python3-dpkt 5-tuple loop" $py "$here/flows_dpkt.py" "$f"; py_t=$T; py_m=$M
measure "capsift flows -j 1" "$C" flows -j 1 "$f"; c1_t=$T; c1_m=$M
measure "capsift flows (all cores)" "$C" flows "$f"; cn_t=$T; cn_m=$M
measure "capsift flows --no-app -j 1" "$C" flows --no-app -j 1 "$f"; c0_t=$T
r() { echo "scale=1; $1 / $2" | bc -l; }
echo "ratios (capsift flows -j 1 with application detection):"
echo "  vs tshark: $(r "$ts_t" "$c1_t")x faster, $(r "$ts_m" "$c1_m")x less memory (goal: 30x, 10x)"
echo "  vs dpkt:   $(r "$py_t" "$c1_t")x faster"
echo "  all cores: $(r "$ts_t" "$cn_t")x faster than tshark, $(r "$ts_m" "$cn_m")x less memory"

if [ -f "$big" ]; then
  bp=$("$C" info --json "$big" | python3 -c 'import json,sys; print(json.load(sys.stdin)["packets"])')
  echo "file: $big ($(du -mL "$big" | cut -f1) MB, $bp packets), median of $runs"
  measure "capsift flows -j 1" "$C" flows -j 1 "$big"
  echo "  -> $(echo "scale=2; $bp / $T / 1000000" | bc -l) M packets/s (goal: 3)"
  one_t=$T
  measure "capsift flows -j 2" "$C" flows -j 2 "$big"
  echo "  -> $(echo "scale=2; $bp / $T / 1000000" | bc -l) M packets/s; second core: $(r "$one_t" "$T")x"
  measure "capsift flows --no-app -j 1" "$C" flows --no-app -j 1 "$big"
  echo "  -> $(echo "scale=2; $bp / $T / 1000000" | bc -l) M packets/s (goal: 10), printing every flow"
  measure "capsift flows --no-app -j 1 --top 1" "$C" flows --no-app -j 1 --top 1 "$big"
  echo "  -> $(echo "scale=2; $bp / $T / 1000000" | bc -l) M packets/s: the flows themselves, one row printed"
  one_t=$T
  measure "capsift flows --no-app -j 2 --top 1" "$C" flows --no-app -j 2 --top 1 "$big"
  echo "  -> $(echo "scale=2; $bp / $T / 1000000" | bc -l) M packets/s; second core: $(r "$one_t" "$T")x"
  measure "capsift info -j 1 (reader only)" "$C" info -j 1 "$big"
  echo "  -> $(echo "scale=2; $bp / $T / 1000000" | bc -l) M packets/s"
  # the same packets as pcapng (what Wireshark writes), split across workers the same way
  ng=${big%.pcap}.pcapng
  [ -f "$ng" ] || editcap -F pcapng "$big" "$ng"
  echo "file: $ng ($(du -mL "$ng" | cut -f1) MB, the same packets), median of $runs"
  measure "capsift flows -j 1 --top 1 (pcapng)" "$C" flows -j 1 --top 1 "$ng"
  one_t=$T
  measure "capsift flows -j 2 --top 1 (pcapng)" "$C" flows -j 2 --top 1 "$ng"
  echo "  -> second core: $(r "$one_t" "$T")x (goal: 1.8x)"
fi
