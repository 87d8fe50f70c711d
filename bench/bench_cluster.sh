#!/usr/bin/env bash
# capsift cluster: the join on 1,000 and 10,000 payloads with LSH candidates against every pair
# (--exact), a million payloads on two threads with recall measured on a sample and the memory
# taken (bench_cluster, on the 1.19 GB capture and on the corpus's application captures); the
# command end to end on the big capture; and beside it, in the same run, the peer analysts
# script with: python3-dpkt reading the payloads and comparing every pair of the first 2,000
# distinct ones by the Jaccard similarity of their byte 3-grams.
# Env: BENCH_BIN (default build/bench), CAPSIFT.
. "$(dirname "$0")/lib.sh"
BIN=${BENCH_BIN:-$ROOT/build/bench}
BIG=$(big_capture big.pcap 1200)
APPS=$ROOT/../shared/captures/apps
MODBUS=$ROOT/../shared/captures/traffic/iti-ics--ModbusTCP.pcap

echo "== bench_cluster: the big capture's payloads, topped up to 1,000,000, 2 threads"
"$BIN/bench_cluster" "$BIG" 1000000 2
echo "== bench_cluster: the corpus's application captures (text-heavy), 2 threads"
"$BIN/bench_cluster" "$APPS" 1000000 2

echo "== capsift cluster end to end"
measure "capsift cluster $(basename "$BIG") -j 2" "$CAPSIFT" cluster -j 2 "$BIG"
measure "capsift cluster ModbusTCP (11,826 distinct)" "$CAPSIFT" cluster -j 2 "$MODBUS"
ours=$M_SEC
measure "capsift cluster --exact ModbusTCP" "$CAPSIFT" cluster --exact -j 2 "$MODBUS"

PY=/usr/bin/python3
if $PY -c 'import dpkt' 2>/dev/null; then
    cat >"$DATA/cluster_dpkt.py" <<'PY'
import sys, time
import dpkt
t0 = time.perf_counter()
seen, order = set(), []
with open(sys.argv[1], "rb") as f:
    for ts, buf in dpkt.pcap.Reader(f):
        try:
            ip = dpkt.ethernet.Ethernet(buf).data
            l4 = ip.data
            data = bytes(l4.data)
        except Exception:
            continue
        if data and data not in seen:
            seen.add(data)
            order.append(data[:128])
t1 = time.perf_counter()
sets = [frozenset(p[i:i + 3] for i in range(len(p) - 2)) for p in order[:2000]]
joined = 0
for i in range(len(sets)):
    a = sets[i]
    for j in range(i + 1, len(sets)):
        b = sets[j]
        u = len(a | b)
        if u and len(a & b) / u >= 0.9:
            joined += 1
t2 = time.perf_counter()
print(f"python3-dpkt: read {len(order)} distinct payloads in {t1 - t0:.3f} s; "
      f"all pairs of the first {len(sets)}: {t2 - t1:.3f} s ({joined} pairs at 0.9)")
PY
    measure "python3-dpkt read + all pairs of 2,000 (peer)" $PY "$DATA/cluster_dpkt.py" "$MODBUS"
    echo "ratio: python3-dpkt (2,000 payloads) / capsift cluster (11,826): $(ratio "$M_SEC" "$ours")"
    $PY "$DATA/cluster_dpkt.py" "$MODBUS"
else
    echo "python3-dpkt not installed: peer skipped"
fi
