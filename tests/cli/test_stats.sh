#!/usr/bin/env bash
# capsift stats end to end: packet totals of the hierarchy's link, network and transport levels
# against tshark -z io,phs (expected files committed, see gen_flows_expected.sh), -j 1 and -j 2
# identical on every capture, no crash on the malformed corpus.
set -u
C=${CAPSIFT:?set CAPSIFT to the capsift binary}
T=${SIFT_TEST_CAPTURES:?}
S=${SIFT_SHARED_CAPTURES:-}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/flows_lib.sh"

"$C" stats --interval 3x "$T/dpkt--http.pcap" >/dev/null 2>&1; [ $? -eq 2 ] || bad "--interval 3x should exit 2"

for f in "$T"/*; do
  [ -f "$f" ] || continue
  case $f in *.md) continue ;; esac
  same_j stats "$f" --json
  same_j stats "$f" --interval 500ms
done

# The timeline adds up, intervals parse, the sizes add up.
run stats --json --interval 100ms "$T/dpkt--http.pcap"
python3 - "$tmp/out" <<'PY' || bad "stats JSON totals"
import json, sys
from datetime import datetime, timezone
from decimal import Decimal
o = json.loads(open(sys.argv[1]).readline(), parse_float=Decimal)
assert o["interval"] == Decimal("0.1"), o["interval"]
assert sum(t["packets"] for t in o["timeline"]) == o["packets"]
for t in o["timeline"]:  # starts on the interval grid, ISO and epoch the same instant
    assert t["start_ts"] % Decimal("0.1") == 0, t
    sec, frac = str(t["start_ts"]).split(".")
    iso = datetime.fromtimestamp(int(sec), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + frac + "Z"
    assert t["start_time"] == iso, (t, iso)
    assert t["bits_per_s"] == 80 * t["bytes"], t
assert sum(s["packets"] for s in o["sizes"]) == o["packets"]
assert sum(s["bytes"] for s in o["sizes"]) == o["bytes"]
top = [h for h in o["hierarchy"] if ":" not in h["path"]]
assert sum(h["packets"] for h in top) == o["packets"]
assert any(h["path"].endswith(":HTTP") for h in o["hierarchy"]), o["hierarchy"]
PY
run stats --total "$T/dpkt--http.pcap" "$T/pcapplusplus--http-packets.pcap"
grep -q '^File: *(total)' "$tmp/out" || bad "--total printed no total"

if [ -z "$S" ] || [ ! -d "$S/traffic" ]; then
  echo "shared corpus absent: skipping its checks"
  exit $fail
fi

# Files whose hierarchy (levels 1-3, layers the decoder names) matches tshark's exactly.
exact="iti-ics--DNP3-TestDataPart1.pcap iti-ics--EthernetIP-CIP.pcap iti-ics--ModbusTCP.pcap
iti-ics--Sample_File_GOOSE.pcap iti-ics--melsoft_variant_clean.pcap
iti-ics--s7comm_varservice_libnodavedemo_bench.pcap iti-ics--wrapup.pcapng ndpi--6in4tunnel.pcap
ndpi--vxlan.pcap pcapplusplus--4KHttpRequests.pcap pcapplusplus--example2.pcap
pcapplusplus--http-packets.pcap pcapplusplus--tls2.pcap suricata-verify--decode-sll2-02--input.pcap
suricata-verify--denial6-5.pcap suricata-verify--filecontainer-smb.pcap
suricata-verify--smb2-async-read--input.pcap suricata-verify--tls-subjectaltname--input.pcap
zeek--206_example_b.pcap zeek--Teredo.pcap zeek--gre-aruba.pcap zeek--gre-within-gre.pcap
zeek--mixed-vlan-mpls.pcap zeek--smb3_multichannel.pcap zeek--ssh.pcap"
for n in $exact; do
  run stats --json --no-app "$S/traffic/$n"
  phs_of_json <"$tmp/out" | known_layers >"$tmp/phs"
  known_layers <"$here/expected/$n.phs" >"$tmp/want"
  cmp -s "$tmp/phs" "$tmp/want" ||
    bad "hierarchy differs from tshark: $n: $(diff "$tmp/phs" "$tmp/want" | head -5)"
done

for f in "$S"/traffic/* "$S"/formats/* "$S"/malformed/*; do
  [ -f "$f" ] || continue
  same_j stats "$f" --json
done
exit $fail
