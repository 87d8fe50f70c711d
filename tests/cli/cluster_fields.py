#!/usr/bin/env python3
"""Field boundaries of `capsift cluster` against tshark's dissection (PDML pos/size).

For each packet of PROTO (tshark's display filter) in the files: the true boundaries are the
offsets, within the transport payload's first POSITIONS bytes, where a field tshark shows
(a leaf field of a protocol above the transport) begins or ends; the inferred ones are where a
field of the packet's cluster (capsift cluster --json --members, its `fields`) begins. Offset 0
and the end of the range are not counted (every method gets them). Prints micro-averaged
precision and recall over the packets, one JSON line.

usage: cluster_fields.py CAPSIFT PROTO FILE... [--positions N]
"""
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

TRANSPORTS = {"tcp", "udp", "sctp"}
SKIP = {"geninfo", "frame", "eth", "ip", "ipv6", "tcp", "udp", "sctp", "vlan", "sll", "fake-field-wrapper", "_ws.malformed", "_ws.expert"}


def truth_boundaries(path, proto, positions):
    cmd = ["tshark", "-n", "-r", path, "-Y", proto, "-T", "pdml"]
    out = subprocess.run(cmd, capture_output=True, check=True).stdout
    got = {}
    for pkt in ET.fromstring(out).iter("packet"):
        num, start, bounds = None, None, set()
        for p in pkt.findall("proto"):
            name = p.get("name")
            if name == "geninfo":
                for f in p.iter("field"):
                    if f.get("name") == "num":
                        num = int(f.get("show"))
            elif name in TRANSPORTS:
                start = int(p.get("pos")) + int(p.get("size"))
            elif name not in SKIP and start is not None:
                for f in p.iter("field"):
                    if len(f.findall("field")) or not f.get("size") or not f.get("pos"):
                        continue
                    pos, size = int(f.get("pos")) - start, int(f.get("size"))
                    if size <= 0 or pos < 0:
                        continue
                    for b in (pos, pos + size):
                        if 0 < b < positions:
                            bounds.add(b)
        if num is not None and start is not None:
            got[num] = bounds
    return got


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    capsift, proto, rest = argv[1], argv[2], argv[3:]
    positions = 32
    if "--positions" in rest:
        i = rest.index("--positions")
        positions = int(rest[i + 1])
        rest = rest[:i] + rest[i + 2:]
    files = rest
    truth = {f: truth_boundaries(f, proto, positions) for f in files}
    out = subprocess.run([capsift, "cluster", "--json", "--members", "--positions", str(positions)]
                         + files, capture_output=True, text=True).stdout.splitlines()
    tp = fp = fn = packets = 0
    for line in out[1:]:
        c = json.loads(line)
        inferred = {f["offset"] for f in c["fields"] if 0 < f["offset"] < positions}
        end = min(c["min_len"], positions)
        for f, n in c["packets"]:
            t = truth.get(f, {}).get(n)
            if t is None:
                continue
            t = {b for b in t if b < end}
            packets += 1
            tp += len(t & inferred)
            fp += len(inferred - t)
            fn += len(t - inferred)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    print(json.dumps({"proto": proto, "packets": packets, "precision": round(prec, 4),
                      "recall": round(rec, 4)}))


if __name__ == "__main__":
    main(sys.argv)
