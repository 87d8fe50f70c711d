#!/usr/bin/env bash
# Results never depend on -j or on how a file is split. info, flows, meta, search (packet by
# packet and per stream), match, timeline (per application and per flow, every group), periodic
# (bursts, every group scored), cluster (with every packet listed), classify (every packet's
# label) and stats (with application detection, and flows and stats
# without it; flows with layer-2 flows) and the index (its query output and the packets extract writes
# from its positions) over the bundled captures and every directory of the shared corpus give byte-identical output, messages included: read whole on
# one thread, and split into ranges (CAPSIFT_RANGE_BYTES) of 64 KiB on 2 threads and of 4 KiB
# on 8. A result cache hit must not stand in for a run, so every run has --no-cache.
. "$(dirname "$0")/lib.sh"

dirs=("$CAPS")
if have_shared; then
    for d in traffic formats malformed apps; do dirs+=("$SHARED/$d"); done
fi
specs=("64k 2" "4k 8")

# compare NAME: the files $TMP/whole and $TMP/split
compare() {
    if cmp -s "$TMP/whole" "$TMP/split" && [ -s "$TMP/whole" ]; then
        pass
    else
        fail "$1"
        diff "$TMP/whole" "$TMP/split" | head -4 | cut -c1-300 >&2
    fi
}

printf '%s\n' "HTTP/1.1" "|0d 0a 0d 0a|" '"host:"i' "|00 00 00 00|" "/Content-Length: *[0-9]+/i" \
    >"$TMP/patterns"
printf '%s\n' 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 fe80::/10 com net org arpa >"$TMP/iocs"
cmds=("info --no-cache --json" "flows --no-cache --json" "stats --no-cache --json"
    "flows --no-cache --no-app --json" "stats --no-cache --no-app --json"
    "flows --no-cache --no-app --layer2 --json" "meta --no-cache --json"
    "timeline --no-cache --json --by app --top 0"
    "timeline --no-cache --json --by flow --top 0 --interval 100ms"
    "periodic --no-cache --json --all --top 0 --by packets" "cluster --json --members")
# search and match ride on the passes above (their own merges are split under the sanitizers
# by unit/test_search, test_match and test_diff), and so do periodic's grouping by name (its
# joins split under the sanitizers by test_periodic) and cluster's flow units (split into 4 KiB
# ranges under the sanitizers by unit/test_cluster): the plain build checks them here
if [ "${SIFT_SANITIZE:-OFF}" != ON ]; then
    cmds+=("search --no-cache --json -q --per-packet -F $TMP/patterns"
        "search --no-cache --json -q -F $TMP/patterns" "match --no-cache --json -q --ioc $TMP/iocs"
        "periodic --no-cache --json --all --top 0 --group name" "cluster --json --members --by flow"
        "classify --json --members --no-update --db $TMP/sig.db")
    # classify's signatures: learnt from the bundled captures, read by every directory
    "$CAPSIFT" cluster --save conf --db "$TMP/sig.db" "$CAPS" >/dev/null 2>&1 # 1: a damaged one
    [ "$("$CAPSIFT" signatures --db "$TMP/sig.db" 2>/dev/null | wc -l)" -gt 10 ] ||
        fail "cluster --save over $CAPS saved no signatures"
fi
for d in "${dirs[@]}"; do
    for cmd in "${cmds[@]}"; do
        "$CAPSIFT" $cmd -j 1 "$d" >"$TMP/whole" 2>&1
        for spec in "${specs[@]}"; do
            read -r range threads <<<"$spec"
            CAPSIFT_RANGE_BYTES=$range "$CAPSIFT" $cmd -j "$threads" "$d" >"$TMP/split" 2>&1
            compare "$cmd $d: -j 1 whole and -j $threads in $range ranges differ"
        done
    done
done

# The index: a database built whole on one thread and one built from ranges, with every flow's
# positions spilled in segments of 64 bytes, answer alike.
index_view() { # DB OUT: every flow as query lists it, its metadata rows, the packets extract gives
    "$CAPSIFT" query --db "$1" --json >"$2" 2>&1
    python3 - "$1" >>"$2" 2>&1 <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
flow = "fi.path, hex(f.src), f.sport, hex(f.dst), f.dport, f.proto, f.first_ns"
for t in ("dns", "http", "tls", "ssh", "dhcp", "names"):
    cols = [r[1] for r in c.execute(f"pragma table_info({t})") if r[1] not in ("id", "flow_id")]
    rows = c.execute(f"select {flow}, " + ", ".join(f'm."{x}"' for x in cols) +
                     f" from {t} m join flows f on f.id = m.flow_id join files fi on fi.id = f.file_id")
    out = sorted(map(repr, rows))
    print(t, len(out))
    print("\n".join(out))
PY
    "$CAPSIFT" extract --db "$1" -w "$TMP/x.pcap" --force "packets >= 0" >>"$2" 2>&1
    md5sum <"$TMP/x.pcap" >>"$2"
}
for d in "${dirs[@]}"; do
    rm -f "$TMP"/w.db* "$TMP"/s.db*
    "$CAPSIFT" index --db "$TMP/w.db" -j 1 "$d" >/dev/null 2>&1
    index_view "$TMP/w.db" "$TMP/whole"
    for spec in "${specs[@]}"; do
        read -r range threads <<<"$spec"
        rm -f "$TMP"/s.db*
        CAPSIFT_RANGE_BYTES=$range CAPSIFT_SEGMENT_BYTES=64 \
            "$CAPSIFT" index --db "$TMP/s.db" -j "$threads" "$d" >/dev/null 2>&1
        index_view "$TMP/s.db" "$TMP/split"
        compare "index $d: -j 1 whole and -j $threads in $range ranges differ"
    done
done
finish
