#!/usr/bin/env bash
# capsift flows end to end: conversation counts and per-conversation packet counts against
# tshark (expected files committed, see gen_flows_expected.sh), -j 1 and -j 2 identical on
# every capture, no crash on the malformed corpus. docs/flows-vs-tshark.md explains the files
# that are not compared exactly.
set -u
C=${CAPSIFT:?set CAPSIFT to the capsift binary}
T=${SIFT_TEST_CAPTURES:?}
S=${SIFT_SHARED_CAPTURES:-}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/flows_lib.sh"

# usage errors
"$C" flows --sort nope x >/dev/null 2>&1; [ $? -eq 2 ] || bad "--sort nope should exit 2"
"$C" flows -f 'tcp port' "$T/dpkt--http.pcap" >/dev/null 2>&1; [ $? -eq 2 ] || bad "bad filter should exit 2"
"$C" flows >/dev/null 2>&1; [ $? -eq 2 ] || bad "no input should exit 2"

# bundled captures
for f in "$T"/*; do
  [ -f "$f" ] || continue
  case $f in *.md) continue ;; esac
  same_j flows "$f" --json
  same_j flows "$f" --csv --no-app
  same_j flows "$f" --sort bytes --top 5
done

# JSON keys, a filter, the limit message, the idle timeout
run flows --json "$T/dpkt--http.pcap"
python3 - "$tmp/out" <<'PY' || bad "JSON keys"
import json, sys
keys = "src dst sport dport proto app packets bytes packets_ab packets_ba bytes_ab bytes_ba first_ts last_ts tcp_flags file".split()
rows = [json.loads(l) for l in open(sys.argv[1])]
assert rows, "no rows"
for r in rows:
    assert sorted(r) == sorted(keys), sorted(r)
    assert r["packets"] == r["packets_ab"] + r["packets_ba"]
    assert r["bytes"] == r["bytes_ab"] + r["bytes_ba"]
assert any(r["app"] == "HTTP" for r in rows), [r["app"] for r in rows]
PY
run flows --csv -f 'tcp port 80' "$T/dpkt--http.pcap"
[ "$(tail -n +2 "$tmp/out" | grep -vc ',tcp,')" = 0 ] || bad "filter let other flows through"
"$C" flows --max-flows 1 "$T/pcapplusplus--http-packets.pcap" >/dev/null 2>"$tmp/err"
grep -q -- '--max-flows' "$tmp/err" || bad "no limit message naming --max-flows"
run flows --csv --no-app "$T/dpkt--http.pcap"; n0=$(wc -l <"$tmp/out")
run flows --csv --no-app --idle-timeout 0.000001 "$T/dpkt--http.pcap"; n1=$(wc -l <"$tmp/out")
[ "$n1" -gt "$n0" ] || bad "--idle-timeout did not split flows ($n0 vs $n1 rows)"

if [ -z "$S" ] || [ ! -d "$S/traffic" ]; then
  echo "shared corpus absent: skipping its checks"
  exit $fail
fi

# Files whose TCP and UDP conversations match tshark's exactly.
exact="iti-ics--DNP3-TestDataPart1.pcap iti-ics--EthernetIP-CIP.pcap iti-ics--ModbusTCP.pcap
iti-ics--Sample_File_GOOSE.pcap iti-ics--melsoft_variant_clean.pcap
iti-ics--s7comm_varservice_libnodavedemo_bench.pcap iti-ics--wrapup.pcapng ndpi--6in4tunnel.pcap
pcapplusplus--4KHttpRequests.pcap pcapplusplus--example2.pcap pcapplusplus--http-packets.pcap
pcapplusplus--tls2.pcap suricata-verify--decode-sll2-02--input.pcap
suricata-verify--denial6-5.pcap suricata-verify--filecontainer-smb.pcap
suricata-verify--smb2-async-read--input.pcap suricata-verify--tls-subjectaltname--input.pcap
zeek--206_example_b.pcap zeek--gre-aruba.pcap zeek--gre-within-gre.pcap
zeek--mixed-vlan-mpls.pcap zeek--smb3_multichannel.pcap zeek--ssh.pcap"
for n in $exact; do
  run flows --csv --no-app "$S/traffic/$n"
  conv_of_csv <"$tmp/out" >"$tmp/conv"
  cmp -s "$tmp/conv" "$here/expected/$n.conv" ||
    bad "conversations differ from tshark: $n: $(diff "$tmp/conv" "$here/expected/$n.conv" | head -5)"
done

# Every corpus file: -j 1 and -j 2 identical, no crash (malformed included).
for f in "$S"/traffic/* "$S"/formats/* "$S"/malformed/*; do
  [ -f "$f" ] || continue
  same_j flows "$f" --json
done
exit $fail
