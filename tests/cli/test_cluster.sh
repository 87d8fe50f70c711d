#!/usr/bin/env bash
# capsift cluster: message types against tshark's dissection of real captures of six protocols
# (homogeneity and completeness held at the level reached), --exact agreeing with the LSH join,
# field boundaries against tshark's PDML held too, the JSON's packets numbered as tshark numbers
# them (--by flow: each direction's first), continuation segments in their messages' clusters,
# text payloads clustered as text, damaged and missing inputs, bad options.
. "$(dirname "$0")/lib.sh"
HERE=$(dirname "$0")
HTTP_CAP=$CAPS/dpkt--http.pcap

# options and help
expect_exit 0 "$CAPSIFT" cluster --help
expect_grep 'threshold J' "$TMP/out"
expect_exit 2 "$CAPSIFT" cluster --threshold 0 "$CAPS/dpkt--http.pcap"
expect_grep 'threshold' "$TMP/err"
expect_exit 2 "$CAPSIFT" cluster --threshold 1.5 "$CAPS/dpkt--http.pcap"
expect_exit 2 "$CAPSIFT" cluster --bytes 16 --positions 32 "$CAPS/dpkt--http.pcap"
expect_grep 'positions 32 is more than the 16 bytes' "$TMP/err"
expect_exit 2 "$CAPSIFT" cluster --treshold 0.5 "$CAPS/dpkt--http.pcap"
expect_grep 'threshold' "$TMP/err"
expect_exit 2 "$CAPSIFT" cluster
expect_exit 2 "$CAPSIFT" cluster "$TMP/missing.pcap"
expect_grep 'missing.pcap' "$TMP/err"

# a bundled capture: HTTP requests and responses apart, as text; packets numbered from 1
expect_exit 0 "$CAPSIFT" cluster --json --members "$CAPS/dpkt--http.pcap"
cp "$TMP/out" "$TMP/http.json"
python3 - "$TMP/http.json" "$CAPS/dpkt--http.pcap" <<'PY' && pass || fail "cluster --json on dpkt--http.pcap"
import json, subprocess, sys
lines = open(sys.argv[1]).read().splitlines()
head = json.loads(lines[0])
clusters = [json.loads(l) for l in lines[1:]]
assert head["clusters"] == len(clusters) >= 2, head
assert sum(c["size"] for c in clusters) == head["packets"], head
http = [c for c in clusters if c["port"] == 80]
assert {c["dir"] for c in http} == {"client", "server"}, http
assert all(c["text"] for c in http if c["example_ascii"].startswith(("GET", "HTTP"))), http
# every packet once, each a packet tshark shows with a payload on that port
out = subprocess.run(["tshark", "-n", "-r", sys.argv[2], "-Y", "tcp.len > 0 or udp.length > 8",
                      "-T", "fields", "-e", "frame.number"], capture_output=True, text=True).stdout
with_payload = {int(x) for x in out.split()}
seen = [n for c in clusters for f, n in c["packets"]]
assert len(seen) == len(set(seen)) == head["packets"], (len(seen), head)
assert set(seen) <= with_payload, sorted(set(seen) - with_payload)[:5]
PY
# --db alone: the index's payload store is the input, and gives what reading the files gives
"$CAPSIFT" index -q --payloads --db "$TMP/ix.db" "$CAPS" >/dev/null 2>&1
expect_exit 0 "$CAPSIFT" cluster --db "$TMP/ix.db" --json --members
cp "$TMP/out" "$TMP/from_db.json"
mapfile -t indexed < <(python3 -c 'import sqlite3, sys
for (p,) in sqlite3.connect(sys.argv[1]).execute("select path from files where status != ? order by path", ("error",)):
    print(p)' "$TMP/ix.db")
"$CAPSIFT" cluster --json --members "${indexed[@]}" >"$TMP/from_files.json" 2>/dev/null
cmp -s "$TMP/from_db.json" "$TMP/from_files.json" && [ -s "$TMP/from_db.json" ] && pass ||
    fail "cluster --db and cluster over the indexed files differ"
expect_exit 2 "$CAPSIFT" cluster --db "$TMP/ix.db" --by flow
"$CAPSIFT" index -q --db "$TMP/nopay.db" "$HTTP_CAP" >/dev/null 2>&1
expect_exit 2 "$CAPSIFT" cluster --db "$TMP/nopay.db"
expect_grep 'indexed without their payloads' "$TMP/err"
expect_exit 2 "$CAPSIFT" cluster --db "$TMP/none.db"
expect_grep 'none.db: no such index' "$TMP/err"
# --by flow: a unit per direction of a flow, its packet the first of that direction
expect_exit 0 "$CAPSIFT" cluster --by flow --json --members "$CAPS/dpkt--http.pcap"
python3 - "$TMP/out" "$CAPS/dpkt--http.pcap" <<'PY' && pass || fail "cluster --by flow on dpkt--http.pcap"
import json, subprocess, sys
clusters = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()[1:]]
seen = sorted(n for c in clusters for f, n in c["packets"])
out = subprocess.run(["tshark", "-n", "-r", sys.argv[2], "-Y", "tcp.len > 0 or udp.length > 8",
                      "-T", "fields", "-e", "frame.number", "-e", "tcp.stream", "-e", "udp.stream",
                      "-e", "ip.src", "-e", "ipv6.src"], capture_output=True, text=True).stdout
first = {}
for line in out.splitlines():
    c = line.split("\t")
    first.setdefault(("t" + c[1] if c[1] else "u" + c[2], c[3] or c[4]), int(c[0]))
assert seen == sorted(first.values()), (seen, sorted(first.values()))
assert sum(c["size"] for c in clusters) == len(first)
PY
expect_exit 0 "$CAPSIFT" cluster "$CAPS/dpkt--http.pcap"
expect_grep '^#0 (tcp|udp)/[0-9]+ (client|server): ' "$TMP/out"
expect_grep '    example: ' "$TMP/out"

# a damaged file: what was read is clustered, exit 1, the damage named
if have_shared; then
    expect_exit 1 "$CAPSIFT" cluster "$SHARED/malformed/dpkt--truncated_dns_2.pcap"
    expect_grep 'truncated_dns_2.pcap' "$TMP/err"
fi

if ! have_shared || ! command -v tshark >/dev/null; then
    finish
    exit
fi

# quality against tshark's types: PROTO FIELDS DIRECTION-PORT MIN-HOMOGENEITY MIN-COMPLETENESS
# FILES... (the levels reached now, a little below: a drop fails)
quality() {
    local proto=$1 fields=$2 port=$3 hmin=$4 cmin=$5; shift 5
    local dirarg=()
    [ "$port" != - ] && dirarg=(--direction "$port")
    local r
    r=$(python3 "$HERE/cluster_quality.py" "$CAPSIFT" "$proto" "$fields" "${dirarg[@]}" "$@" 2>&1)
    python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert r["packets"] > 0 and r["homogeneity"] >= float(sys.argv[2]) and \
    r["completeness"] >= float(sys.argv[3]), r' "$r" "$hmin" "$cmin" && pass ||
        fail "$proto: $r (wanted homogeneity >= $hmin, completeness >= $cmin)"
}
T=$SHARED/traffic
quality modbus modbus.func_code 502 0.99 0.99 "$T/iti-ics--ModbusTCP.pcap"
quality s7comm s7comm.header.rosctr,s7comm.param.func - 0.99 0.99 \
    "$T/iti-ics--s7comm_varservice_libnodavedemo_bench.pcap"
quality enip enip.command 44818 0.99 0.99 "$T/iti-ics--EthernetIP-CIP.pcap"
quality dnp3 dnp3.al.func - 0.99 0.6 "$T/iti-ics--DNP3-TestDataPart1.pcap"
quality smb2 smb2.cmd,smb2.flags.response - 0.99 0.99 "$T/zeek--smb3_multichannel.pcap" \
    "$SHARED/apps/smb_deletefile.pcap" "$T/suricata-verify--smb2-async-read--input.pcap"
quality dns dns.flags.response,dns.qry.type - 0.7 0.6 "$SHARED/apps/dns-tunnel-iodine.pcap" \
    "$SHARED/apps/bad-dns-traffic.pcap"

# continuations: SMB2's READ data joins the READ responses; counted in the JSON, said in the text
SMB3=$T/zeek--smb3_multichannel.pcap
expect_exit 0 "$CAPSIFT" cluster --json "$SMB3"
python3 - "$TMP/out" <<'PY' && pass || fail "cluster --json continuations on $SMB3"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
head, clusters = json.loads(lines[0]), [json.loads(l) for l in lines[1:]]
assert head["continued"] > 0 and sum(c["continuations"] for c in clusters) == head["continued"], head
assert all(c["continuations"] < c["distinct"] for c in clusters), clusters
# a cluster's view is of its messages: those with continuations still show SMB2's header
joined = [c for c in clusters if c["continuations"]]
assert joined and all(c["example"][8:16] == "fe534d42" and c["fields"][4]["kind"] == "constant"
                      for c in joined), joined
PY
expect_exit 0 "$CAPSIFT" cluster --top 1 "$SMB3"
expect_grep 'of the distinct, [0-9]+ are segments that continue its messages' "$TMP/out"

# field boundaries against tshark's PDML on the small captures: PROTO MIN-PRECISION MIN-RECALL FILE
boundaries() {
    local r
    r=$(python3 "$HERE/cluster_fields.py" "$CAPSIFT" "$1" "$4" 2>&1)
    python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert r["packets"] > 0 and r["precision"] >= float(sys.argv[2]) and \
    r["recall"] >= float(sys.argv[3]), r' "$r" "$2" "$3" && pass ||
        fail "$1 boundaries: $r (wanted precision >= $2, recall >= $3)"
}
boundaries dnp3 0.4 0.85 "$T/iti-ics--DNP3-TestDataPart1.pcap"
boundaries modbus 0.55 0.99 "$SHARED/apps/modbus.pcap"
boundaries s7comm 0.45 0.93 "$SHARED/apps/s7comm.pcap"
boundaries enip 0.25 0.9 "$SHARED/apps/ethernetIP.pcap"

# --exact compares every pair: the same clusters as the LSH candidates give
for f in "$T/iti-ics--ModbusTCP.pcap" "$SHARED/apps/dns-tunnel-iodine.pcap"; do
    "$CAPSIFT" cluster --json --members "$f" | tail -n +2 >"$TMP/lsh"
    "$CAPSIFT" cluster --json --members --exact "$f" | tail -n +2 >"$TMP/exact"
    if cmp -s "$TMP/lsh" "$TMP/exact" && [ -s "$TMP/lsh" ]; then pass; else fail "--exact differs on $f"; fi
done
# the type field found is Modbus's function code, at offset 7
"$CAPSIFT" cluster --json "$T/iti-ics--ModbusTCP.pcap" | tail -n +2 >"$TMP/mb"
expect_grep '"type_offset":7,"type":"04"' "$TMP/mb"
if grep -q '"type_offset":[^7n]' "$TMP/mb"; then fail "Modbus clusters merged by another offset"; else pass; fi
finish
