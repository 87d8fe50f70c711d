#!/usr/bin/python3
"""Checks a group capsift periodic found in a capture against tshark's packets.

  periodic_ref.py CAPTURE PERIODIC.json

For every group listed (after the first line), the group's events are rebuilt from tshark's
fields with the same rule (a 5-tuple's first packet, a TCP SYN without ACK, or a packet after
60 s of silence in the 5-tuple; from the source to the destination's port; events less than a
second apart are one), and the group must really be periodic at the period found: each interval
divided by the periods it spans (a missed call is two), their median within 1% of the period
and three quarters of the intervals within 10% of it. Exits 1 naming the
first group that is not.
"""
import json
import statistics
import subprocess
import sys

cap, res = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(res)][1:]
out = subprocess.run(
    ["tshark", "-r", cap, "-T", "fields", "-E", "separator=\t", "-e", "frame.time_epoch",
     "-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst", "-e", "tcp.srcport",
     "-e", "tcp.dstport", "-e", "udp.srcport", "-e", "udp.dstport", "-e", "tcp.flags"],
    capture_output=True, text=True, check=True).stdout
last = {}
events = {}
for line in out.splitlines():
    f = line.split("\t")
    if len(f) < 10:
        continue
    ts = float(f[0])
    src = (f[1] or f[3]).split(",")[-1]
    dst = (f[2] or f[4]).split(",")[-1]
    if f[5]:
        proto, sp, dp = "tcp", int(f[5]), int(f[6])
    elif f[7]:
        proto, sp, dp = "udp", int(f[7].split(",")[0]), int(f[8].split(",")[0])
    else:
        continue
    tup = (proto,) + tuple(sorted([(src, sp), (dst, dp)]))
    syn = proto == "tcp" and (int(f[9], 16) & 0x12) == 0x02
    prev = last.get(tup)
    last[tup] = ts
    if prev is None or syn or ts - prev >= 60:
        events.setdefault((src, dst, proto, dp), []).append(ts)
for r in rows:
    key = (r["src"], r["dst"], r["proto"], r["port"])
    ts = sorted(events.get(key, []))
    joined = []
    for t in ts:
        if not joined or t - joined[-1] >= 1:
            joined.append(t)
    d = [b - a for a, b in zip(joined, joined[1:])]
    p = r["period"]
    if not d or not p:
        sys.exit(f"{cap}: {r['group']}: no events or no period in tshark's packets")
    # an interval of about k periods is k - 1 calls missed: compare it per period
    per = [x / round(x / p) for x in d if round(x / p) >= 1]
    med = statistics.median(per) if per else 0
    near = sum(abs(x - p) <= 0.1 * p for x in per) / len(d)
    if abs(med - p) > 0.01 * p or near < 0.75:
        sys.exit(f"{cap}: {r['group']}: period {p}, tshark's intervals per period: median {med:.3f}, "
                 f"{near:.0%} within 10%")
    print(f"{r['group']}: period {p} s, tshark median {med:.3f} s, {near:.0%} within 10%")
