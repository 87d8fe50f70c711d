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
from datetime import datetime, timezone
from decimal import Decimal
keys = ("file src sport dst dport proto vlan app packets bytes packets_ab packets_ba bytes_ab "
        "bytes_ba first_ts first_time last_ts last_time duration tcp_flags").split()
lines = open(sys.argv[1]).read().splitlines()
rows = [json.loads(l, parse_float=Decimal) for l in lines]
assert rows, "no rows"
def iso(t):  # exact: the file's six decimals, UTC
    sec, frac = str(t).split(".")
    return datetime.fromtimestamp(int(sec), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + frac + "Z"
for r in rows:
    assert list(r) == keys, list(r)  # every row the same fields, in the same order
    assert r["packets"] == r["packets_ab"] + r["packets_ba"]
    assert r["bytes"] == r["bytes_ab"] + r["bytes_ba"]
    assert r["first_time"] == iso(r["first_ts"]) and r["last_time"] == iso(r["last_ts"]), r
    assert r["duration"] == r["last_ts"] - r["first_ts"], r
    assert r["vlan"] is None, r  # not part of the key without --vlan
    assert (r["tcp_flags"] is None) == (r["proto"] != "tcp"), r
assert any(r["app"] == "HTTP" for r in rows), [r["app"] for r in rows]
PY
# the CSV carries the JSON's fields, in the same order, with the same values
run flows --csv "$T/dpkt--http.pcap"
python3 - "$tmp/out" <<'PY' || bad "CSV fields are not the JSON's"
import csv, json, subprocess, sys, os
rows = list(csv.DictReader(open(sys.argv[1])))
js = [json.loads(l) for l in subprocess.run([os.environ["CAPSIFT"], "flows", "--json",
      os.environ["SIFT_TEST_CAPTURES"] + "/dpkt--http.pcap"], capture_output=True, text=True).stdout.splitlines()]
assert len(rows) == len(js) > 0
for c, j in zip(rows, js):
    assert list(c) == list(j), (list(c), list(j))
    for k, v in j.items():
        want = "" if v is None else str(v)
        assert c[k] == want or float(c[k]) == float(v), (k, c[k], v)
PY
# the first and last packet time of each TCP conversation are tshark's (frame.time_epoch)
if command -v tshark >/dev/null; then
  tshark -r "$T/dpkt--http.pcap" -Y tcp -T fields -e tcp.stream -e frame.time_epoch 2>/dev/null |
    awk '{ sub(/000$/, "", $2) } !($1 in f) { f[$1] = $2 } { l[$1] = $2 }
         END { for (s in f) print f[s], l[s] }' |
    LC_ALL=C sort >"$tmp/tshark_times"
  run flows --csv "$T/dpkt--http.pcap"
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
      $col["proto"] == "tcp" { print $col["first_ts"], $col["last_ts"] }' "$tmp/out" |
    LC_ALL=C sort >"$tmp/our_times"
  [ -s "$tmp/our_times" ] && cmp -s "$tmp/our_times" "$tmp/tshark_times" ||
    bad "flow times differ from tshark's: $(diff "$tmp/our_times" "$tmp/tshark_times" | head -4)"
fi
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
