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
        "bytes_ba first_ts first_time last_ts last_time duration tcp_flags state history meta").split()
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
    assert r["vlan"] is None, r  # untagged
    assert (r["tcp_flags"] is None) == (r["proto"] != "tcp"), r
assert any(r["app"] == "HTTP" for r in rows), [r["app"] for r in rows]
# each flow's transactions: the DNS lookup, the two HTTP requests
assert sorted(m["proto"] for r in rows for m in r["meta"]) == ["dns", "http", "http"], rows
assert all(m["ts"] >= r["first_ts"] for r in rows for m in r["meta"]), rows
PY
# Who started each flow and its history, against tshark's fields (files with one IP layer)
init_files=("$T/dpkt--http.pcap")
if [ -d "$S/traffic" ]; then
  for f in pcapplusplus--tls2 pcapplusplus--http-packets pcapplusplus--4KHttpRequests \
    iti-ics--ModbusTCP zeek--ssh zeek--smb3_multichannel suricata-verify--denial6-5 \
    pcapplusplus--example2; do init_files+=("$S/traffic/$f.pcap"); done
fi
python3 "$(dirname "$0")/initiator.py" "$C" "${init_files[@]}" >/dev/null ||
  bad "initiator or history differs from tshark's packets"
# Zeek's conn.log for this trace gives these states and histories (where its connections and
# capsift's flows coincide: Zeek starts a new connection after a close, capsift does not)
if [ -f "$S/traffic/zeek--Teredo.pcap" ]; then
  run flows --csv "$S/traffic/zeek--Teredo.pcap"
  for want in "1580,67.228.110.120,80,SF,ShADadFf" "1920,192.168.2.1,53,SF,Dd" \
    "137,192.168.2.255,137,S0,D" "68,255.255.255.255,67,S0,D" "138,192.168.2.255,138,S0,D" \
    "3797,83.170.1.38,32900,SF,Dd"; do
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
      { print $c["sport"] "," $c["dst"] "," $c["dport"] "," $c["state"] "," $c["history"] }' \
      "$tmp/out" | grep -qx "$want" || bad "Teredo: no flow $want"
  done
fi
# Packets in no flow are reported, one line per file on stderr: as many as tshark finds with
# no IP layer, by what they carried instead (tshark counts pcapng custom blocks as frames and
# decodes link type 2, which capsift does not: those two files are left out)
unplaced_files=("$T"/*.pcap* "$T"/*.snoop "$T"/*.ntar)
[ -d "$S/traffic" ] && unplaced_files+=("$S"/traffic/*)
for f in "${unplaced_files[@]}"; do
  case $f in *le-difficult-test202* | *test007.ntar) continue ;; esac
  want=$(tshark -r "$f" -Y 'not ip and not ipv6' 2>/dev/null | wc -l)
  run flows --no-cache "$f"
  got=$(grep -o ': [0-9,]* packets\? \(is\|are\) in no flow' "$tmp/err" | tr -dc 0-9)
  [ "${got:-0}" = "$want" ] || bad "$f: ${got:-0} packets in no flow, tshark has $want with no IP"
done
run flows --no-cache "$T/pcapplusplus--solaris.snoop"
for n in "41 ARP" "15 EtherType 0x6007" "7 STP (LLC)" "1 DEC MOP"; do
  want=${n%% *}
  case $n in *ARP) tf='eth.type == 0x0806' ;; *0x6007) tf='eth.type == 0x6007' ;;
    *STP*) tf='llc.dsap == 0x42' ;; *MOP) tf='eth.type == 0x6002' ;; esac
  [ "$(tshark -r "$T/pcapplusplus--solaris.snoop" -Y "$tf" 2>/dev/null | wc -l)" = "$want" ] &&
    grep -q "$n" "$tmp/err" || bad "solaris.snoop: no '$n' in: $(cat "$tmp/err")"
done
run flows --no-cache -q "$T/pcapplusplus--solaris.snoop"
[ -s "$tmp/err" ] && bad "-q still notes the packets in no flow"
# --layer2: the frames without IP between two MAC addresses, as tshark -z conv,eth counts them
l2_files=("$T/pcapplusplus--solaris.snoop" "$T/arkime--arkime_synthetic.pcap")
[ -d "$S/traffic" ] && l2_files+=("$S"/traffic/*)
python3 "$(dirname "$0")/l2conv.py" "$C" "${l2_files[@]}" >/dev/null ||
  bad "layer-2 flows differ from tshark's Ethernet conversations"
run flows --no-cache --layer2 "$T/pcapplusplus--solaris.snoop"
[ -s "$tmp/err" ] && bad "--layer2: packets with Ethernet still reported in no flow"
run flows --no-cache --layer2 --csv "$T/pcapplusplus--solaris.snoop"
grep -q '^[^,]*,00:10:5a:1f:16:ce,,ff:ff:ff:ff:ff:ff,,arp,,,3,180,' "$tmp/out" || bad "--layer2: no ARP flow"
# the CSV carries the JSON's fields, in the same order, with the same values
run flows --csv "$T/dpkt--http.pcap"
python3 - "$tmp/out" <<'PY' || bad "CSV fields are not the JSON's"
import csv, json, subprocess, sys, os
rows = list(csv.DictReader(open(sys.argv[1])))
js = [json.loads(l) for l in subprocess.run([os.environ["CAPSIFT"], "flows", "--json", "--no-meta",
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
