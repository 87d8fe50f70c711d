#!/usr/bin/env bash
# bench_match.sh [BIG_CAPTURE]
# capsift match in one run: the blocked Bloom filter against an exact hash set on 1 M keys
# (`capsift bench bloom`: lookups/s and the measured false-positive rate); loading a list of
# 1,000,000 indicators (half addresses, half names, with ranges) as text, CSV and a STIX 2.1
# bundle, and again from the result cache (a repeated run); `capsift match` with that list on a make-big-capture.sh file (default
# bench/data/big.pcap, made when missing) against `capsift meta` (the read it needs) and tshark
# matching 1,000 of the addresses with `ip.addr in {...}` (once: it takes minutes); and
# capsift match --db on an index of the capture (capsift index, once) against the capture.
# Env: CAPSIFT, RUNS (default 3), PEER_RUNS (default 1; 0 leaves tshark out).
RUNS=${RUNS:-3}
. "$(dirname "$0")/lib.sh"
big=${1:-$(big_capture big.pcap 1100)}
PEER_RUNS=${PEER_RUNS:-1}
export CAPSIFT_NO_CACHE=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "## the Bloom filter (capsift bench bloom)"
"$CAPSIFT" bench bloom 2>/dev/null | sed -n '/^bloom/,$p'

# the list: addresses and names of the capture's flows, and absent ones up to 1 M
"$CAPSIFT" flows --json --no-app "$big" 2>/dev/null >"$work/flows.json"
python3 - "$work" <<'PY'
import ipaddress, json, random, sys
work = sys.argv[1]
r = random.Random(1)
present, names = set(), set()
for l in open(f"{work}/flows.json"):
    f = json.loads(l)
    present.update((f["src"], f["dst"]))
    for m in f.get("meta") or []:
        for k in ("query", "server_name", "host"):
            v = m.get(k)
            v = (v or "").lower().rstrip(".")
            if v and ".." not in v and v[0] != "." and all(c.isalnum() or c in ".-_" for c in v):
                names.add(v)
present = sorted(present)
lines = present[::2] + sorted(names)[::2]
lines += [f"{a}/24" for a in present[1::50] if ":" not in a]
abc = "abcdefghijklmnopqrstuvwxyz0123456789"
while len(lines) < 1000000:
    lines.append(str(ipaddress.ip_address(r.getrandbits(32))))
    lines.append("".join(r.choice(abc) for _ in range(r.randint(5, 12))) + ".example")
r.shuffle(lines)
lines = lines[:1000000]
open(f"{work}/1m.txt", "w").write("\n".join(lines) + "\n")
open(f"{work}/1m.csv", "w").write("indicator\n" + "\n".join(lines) + "\n")
json.dump({"type": "bundle", "objects": [{"type": "indicator", "pattern":
           f"[{'domain-name' if l[-1].isalpha() else ('ipv6-addr' if ':' in l else 'ipv4-addr')}:value = '{l}']"}
           for l in lines]}, open(f"{work}/1m.json", "w"))
addrs = [a for a in present if a and ":" not in a][:1000]
open(f"{work}/tshark.flt", "w").write("ip.addr in {" + ", ".join(addrs) + "}")
PY
echo "## loading 1,000,000 indicators"
small=$ROOT/tests/captures/dpkt--http.pcap
for ext in txt csv json; do
    measure "capsift match --ioc 1m.$ext (load, small capture)" "$CAPSIFT" match -q --ioc "$work/1m.$ext" "$small"
    if [ "$ext" = txt ]; then txt=$M_SEC; fi
done
# a repeated run: the built lists read back from the result cache (a cache of this run's own)
cached=(env -u CAPSIFT_NO_CACHE CAPSIFT_CACHE_DIR="$work/cache" "$CAPSIFT" match -q --ioc "$work/1m.txt" "$small")
"${cached[@]}" >/dev/null 2>&1 || true
measure "capsift match --ioc 1m.txt (from the cache)" "${cached[@]}"
echo "  -> $(ratio "$txt" "$M_SEC")x faster than building the lists"

echo "## matching on $(basename "$big")"
measure "capsift meta --json -j 2 (the read match needs)" "$CAPSIFT" meta --json -j 2 -p dns,http,tls "$big"
base=$M_SEC
measure "capsift match -j 2 --ioc 1m.txt" "$CAPSIFT" match --json -j 2 --ioc "$work/1m.txt" "$big"
files=$M_SEC
echo "  -> $("$CAPSIFT" match --json -q -j 2 --ioc "$work/1m.txt" "$big" | wc -l) matches; $(ratio "$M_SEC" "$base")x the metadata read"
if [ "$PEER_RUNS" -gt 0 ]; then
    /usr/bin/time -o "$work/time" -f "%e %M" tshark -n -r "$big" -Y "$(cat "$work/tshark.flt")" -T fields -e frame.number >"$work/th" 2>/dev/null || true
    read -r t kb < <(tail -n 1 "$work/time")
    printf '%-44s %8.3f s %9d KB\n' "tshark -Y 'ip.addr in {1000 addresses}'" "$t" "$kb"
    echo "  -> $(wc -l <"$work/th") packets; capsift match with 1,000 times the indicators is $(ratio "$t" "$M_SEC")x faster"
fi

echo "## matching on an index of $(basename "$big") (match --db)"
/usr/bin/time -o "$work/time" -f "%e %M" "$CAPSIFT" index -q -j 2 --db "$work/big.db" "$big" >/dev/null 2>&1
read -r t _ < <(tail -n 1 "$work/time")
printf '%-44s %8.3f s (once)\n' "capsift index -j 2" "$t"
"$CAPSIFT" match --json -q -j 2 --ioc "$work/1m.txt" "$big" >"$work/mf"
measure "capsift match --db --ioc 1m.txt" "$CAPSIFT" match --json --ioc "$work/1m.txt" --db "$work/big.db"
"$CAPSIFT" match --json -q --ioc "$work/1m.txt" --db "$work/big.db" >"$work/md"
echo "  -> $(ratio "$files" "$M_SEC")x match of the capture; $(wc -l <"$work/md") matches (the capture: $(wc -l <"$work/mf"))"
