#!/usr/bin/env bash
# Bytes per flow: peak memory of flows, stats and index on 2 M single-packet flows (a scan),
# with and without application detection, against tshark's conversation table on the same
# file, all in one run. The goal: at most 200 bytes a flow without application state.
#   CAPSIFT=build/capsift bench/bench_memory.sh        (FLOWS=N for another count)
. "$(dirname "$0")/lib.sh"
N=${FLOWS:-2000000}
CAP=$DATA/flows-$N.pcap
[ -s "$CAP" ] || python3 "$HERE/make_flows_capture.py" "$CAP" "$N"
RUNS=${RUNS:-1}
# the process itself: the same command on a capture of one flow
python3 "$HERE/make_flows_capture.py" "$DATA/flows-1.pcap" 1
base() { /usr/bin/time -f %M "$@" "$DATA/flows-1.pcap" 2>&1 >/dev/null | tail -1; }
per_flow() { # LABEL CMD...
    local label=$1; shift
    local b; b=$(base "$@")
    measure "$label" "$@" "$CAP"
    printf '%-44s %8.0f bytes/flow (process baseline %d KB)\n' "  per flow" \
        "$(echo "($M_KB - $b) * 1024 / $N" | bc -l)" "$b"
}
echo "== memory per flow: $N single-packet flows, $(du -h "$CAP" | cut -f1)"
per_flow "capsift flows --no-app" "$CAPSIFT" flows --no-cache --no-app -j 1
per_flow "capsift flows (nDPI)" "$CAPSIFT" flows --no-cache -j 1
per_flow "capsift stats --no-app" "$CAPSIFT" stats --no-cache --no-app -j 1
per_flow "capsift stats (nDPI)" "$CAPSIFT" stats --no-cache -j 1
rm -f "$DATA"/mem.db*
per_flow "capsift index --no-app" sh -c 'rm -f "$0"/mem.db*; exec "$1" index -q --no-app --db "$0"/mem.db "$2"' "$DATA" "$CAPSIFT"
per_flow "capsift index (nDPI)" sh -c 'rm -f "$0"/mem.db*; exec "$1" index -q --db "$0"/mem.db "$2"' "$DATA" "$CAPSIFT"
rm -f "$DATA"/mem.db*
if command -v tshark >/dev/null; then
    per_flow "tshark -q -z conv,udp" tshark -q -z conv,udp -r
fi
