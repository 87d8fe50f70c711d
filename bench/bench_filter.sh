#!/usr/bin/env bash
# Long BPF filters ("host A or host B or ..."): capsift compiles each (filter, link type) once
# per run and shares it among workers; tcpdump compiles once per file. Both on the same files
# in one run. Past 256 terms capsift compiles without libpcap's optimiser, past 500 it refuses.
#   CAPSIFT=build/capsift bench/bench_filter.sh
. "$(dirname "$0")/lib.sh"
F=$ROOT/tests/captures/pcapplusplus--http-packets.pcap
RUNS=${RUNS:-3}
echo "== long filters on $(basename "$F") and on the $(ls "$ROOT/tests/captures" | wc -l) bundled captures"
for n in 50 200 400; do
    expr=$(python3 -c "import sys; n = int(sys.argv[1]); print(' or '.join('host 10.%d.%d.%d' % (i >> 16 & 255, i >> 8 & 255, i & 255) for i in range(n)))" "$n")
    measure "tcpdump -r F -w /dev/null ($n terms)" tcpdump -r "$F" -w /dev/null "$expr"
    td=$M_SEC
    measure "capsift info -f ($n terms)" "$CAPSIFT" info -f "$expr" "$F"
    cs=$M_SEC
    measure "capsift info -f ($n terms) -j 2, every file" "$CAPSIFT" info -j 2 -f "$expr" "$ROOT/tests/captures"
    echo "  $n terms: capsift vs tcpdump on one file: $(ratio "$td" "$cs")x"
done
