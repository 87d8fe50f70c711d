#!/usr/bin/python3
"""The beacon benchmark: beacons with known periods and jitter, and aperiodic decoys, planted
in real traffic; then recall and false positives of `capsift periodic` and of RITA's method.

  beacons.py make OUT.pcapng TRUTH.json [--hours H] [--periods 10,60,...] [--jitters 0,0.1,...]
                 [--copies N] [--decoys N] [--seed S] [--rotate N] --template CAP --background CAP...
  beacons.py score TRUTH.json OUT.pcapng PERIODIC.json [--threshold T]

Every planted event is made of real packets: the first TCP connection of the template capture
(its first 12 packets: handshake, request, the start of the answer) or its first UDP exchange
(a DNS query and answer), rewritten to the group's addresses and a new source port, at the
event's time plus the packets' own offsets. A beacon's intervals are the period times
(1 + u), u uniform in [-jitter, +jitter]. Decoys are bursty but aperiodic: Poisson arrivals
at a mean interval between 10 s and 1 h (log-uniform), bursts of several connections a few
seconds apart at Poisson times, or on/off activity. The background captures are shifted into
the window with editcap -t and everything is merged with mergecap.

With --rotate N, one more TCP beacon per period (no jitter) calls one of N servers chosen at
random each time, as a name served by rotating addresses is called: its truth entry lists
them (dsts) and is "rotating"; `capsift periodic --group name` finds it as one group (the
template's HTTP Host), the score command, keyed by destination, counts it as missed.

RITA's beacon score is computed here from the capture itself (dpkt), as RITA computes it from
Zeek's connections: a connection is a TCP SYN, or a UDP packet of a 5-tuple silent for 60 s;
groups are (source, destination, protocol, destination port); the four subscores of
capsift/periodic.h, 0.25 each.
"""
import argparse
import json
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile

import dpkt


def template_packets(path):
    """(tcp packets, udp packets) of the template: lists of (offset s, Ethernet object)."""
    tcp, udp = [], []
    tcp_key = udp_key = None
    with open(path, "rb") as f:
        t0 = None
        for ts, buf in dpkt.pcap.Reader(f):
            e = dpkt.ethernet.Ethernet(buf)
            ip = e.data
            if not isinstance(ip, dpkt.ip.IP):
                continue
            l4 = ip.data
            key = frozenset([(ip.src, getattr(l4, "sport", 0)), (ip.dst, getattr(l4, "dport", 0))])
            if isinstance(l4, dpkt.tcp.TCP):
                if tcp_key is None and (l4.flags & 0x12) == 0x02:
                    tcp_key, t0 = key, ts
                if key == tcp_key and len(tcp) < 12:
                    tcp.append((ts - t0, e))
            elif isinstance(l4, dpkt.udp.UDP):
                if udp_key is None:
                    udp_key, u0 = key, ts
                if key == udp_key and len(udp) < 2:
                    udp.append((ts - u0, e))
    if not tcp or not udp:
        sys.exit(f"{path}: needs a TCP connection from its SYN and a UDP exchange")
    return tcp, udp


def event_packets(tmpl, t, src, dst, sport):
    """The template's packets at time t, from src:sport to dst (and back)."""
    client = tmpl[0][1].data.src
    out = []
    for off, e in tmpl:
        e2 = dpkt.ethernet.Ethernet(bytes(e))
        ip = e2.data
        fwd = ip.src == client
        ip.src, ip.dst = (src, dst) if fwd else (dst, src)
        l4 = ip.data
        if fwd:
            l4.sport = sport
        else:
            l4.dport = sport
        ip.sum = 0
        l4.sum = 0
        ip.data = l4
        out.append((t + off, bytes(e2)))
    return out


def beacon_times(rng, start, end, period, jitter):
    t = start + rng.uniform(0, period)
    times = []
    while t < end:
        times.append(t)
        t += period * (1 + rng.uniform(-jitter, jitter))
    return times


def decoy_times(rng, start, end, kind):
    mean = math.exp(rng.uniform(math.log(10), math.log(3600)))
    times = []
    if kind == "poisson":
        t = start + rng.expovariate(1 / mean)
        while t < end:
            times.append(t)
            t += rng.expovariate(1 / mean)
    elif kind == "bursts":
        t = start + rng.expovariate(1 / (4 * mean))
        while t < end:
            u = t
            for _ in range(1 + int(rng.expovariate(1 / 3))):
                if u < end:
                    times.append(u)
                u += 1.5 + rng.expovariate(1 / 4)
            t += rng.expovariate(1 / (4 * mean))
    else:  # on/off: Poisson at a tenth of the mean while on, nothing while off
        t, on = start, rng.random() < 0.5
        while t < end:
            span = rng.expovariate(1 / (1800 if on else 3600))
            if on:
                u = t + rng.expovariate(10 / mean)
                while u < min(t + span, end):
                    times.append(u)
                    u += rng.expovariate(10 / mean)
            t += span
            on = not on
    return times


def addr(prefix, i):
    return socket.inet_aton(f"{prefix}.{i // 250}.{1 + i % 250}")


def make(a):
    rng = random.Random(a.seed)
    tcp, udp = template_packets(a.template)
    start = 1700000000.0
    end = start + a.hours * 3600
    periods = [float(x) for x in a.periods.split(",")]
    jitters = [float(x) for x in a.jitters.split(",")]
    truth = {"start": start, "end": end, "beacons": [], "decoys": []}
    packets = []
    gi = 0

    def plant(times, kind_list, entry, rotate=1):
        """rotate > 1: each call goes to one of that many servers, chosen at random (a name
        served by rotating addresses); only for the TCP template, whose request names its host."""
        nonlocal gi
        tmpl = tcp if gi % 2 == 0 else udp
        src, dst = addr("10.77", gi), addr("198.18", gi)
        dsts = [addr(f"198.{19 + r}", gi) for r in range(rotate)] if tmpl is tcp and rotate > 1 else [dst]
        l4 = tmpl[0][1].data.data
        port = l4.dport
        for k, t in enumerate(times):
            d = dsts[rng.randrange(len(dsts))] if len(dsts) > 1 else dst
            packets.extend(event_packets(tmpl, t, src, d, 20000 + (k * 7 + gi) % 40000))
        entry.update(src=socket.inet_ntoa(src), dst=socket.inet_ntoa(dst),
                     proto="tcp" if tmpl is tcp else "udp", port=port, events=len(times))
        if len(dsts) > 1:
            entry["dsts"] = [socket.inet_ntoa(d) for d in dsts]
        kind_list.append(entry)
        gi += 1

    for p in periods:
        for j in jitters:
            for _ in range(a.copies):
                plant(beacon_times(rng, start, end, p, j), truth["beacons"],
                      {"period": p, "jitter": j})
    for p in periods if a.rotate > 1 else []:  # beacons to a name on rotating servers
        gi += gi % 2  # the TCP template
        plant(beacon_times(rng, start, end, p, 0.0), truth["beacons"],
              {"period": p, "jitter": 0.0, "rotating": True}, a.rotate)
    kinds = ["poisson", "bursts", "onoff"]
    for d in range(a.decoys):
        kind = kinds[d % 3]
        plant(decoy_times(rng, start, end, kind), truth["decoys"], {"kind": kind})
    packets.sort(key=lambda x: x[0])
    with tempfile.TemporaryDirectory() as tmp:
        planted = os.path.join(tmp, "planted.pcap")
        with open(planted, "wb") as f:
            w = dpkt.pcap.Writer(f, nano=True)
            for ts, buf in packets:
                w.writepkt(buf, ts=ts)
        parts = [planted]
        for i, bg in enumerate(a.background):
            first = subprocess.run(["capinfos", "-a", "-T", "-r", "-S", bg], capture_output=True,
                                   text=True).stdout.split()
            t0 = float(first[-1]) if first else start
            shift = start + rng.uniform(0, (end - start) * 0.9) - t0
            out = os.path.join(tmp, f"bg{i}.pcapng")
            subprocess.run(["editcap", "-F", "pcapng", "-t", f"{shift:.6f}", bg, out], check=True,
                           capture_output=True)
            parts.append(out)
        merged = os.path.join(tmp, "merged.pcapng")
        subprocess.run(["mergecap", "-F", "pcapng", "-w", merged] + parts, check=True)
        truth["background"] = a.background
        truth["packets_planted"] = len(packets)
        with open(os.path.join(tmp, "truth.json"), "w") as f:
            json.dump(truth, f, indent=1)
        # into place only when whole (a rename: nothing half-written where they go)
        for src, dst in ((merged, a.out), (os.path.join(tmp, "truth.json"), a.truth)):
            fd, part = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(dst)), prefix=".beacons-")
            os.close(fd)
            shutil.move(src, part)
            os.replace(part, dst)


# ---- RITA's score, from the capture ----

def quantile(v, q):
    pos = q * (len(v) - 1)
    i = int(pos)
    if i + 1 >= len(v):
        return v[-1]
    return v[i] + (pos - i) * (v[i + 1] - v[i])


def dispersion(v):
    v = sorted(v)
    q1, q2, q3 = quantile(v, .25), quantile(v, .5), quantile(v, .75)
    skew = (q3 + q1 - 2 * q2) / (q3 - q1) if q3 != q1 and q2 != q1 and q2 != q3 else 0
    m = quantile(sorted(abs(x - q2) for x in v), .5)
    madm = max(0, 1 - m / q2) if q2 > 0 else (1 if m == 0 else 0)
    return 1 - abs(skew), madm


def rita_scores(path, span):
    """{(src, dst, proto, port): rita score} for groups of 6 connections or more."""
    conns = {}  # group -> [(ts, orig bytes)]
    last = {}  # 5-tuple -> (last ts, index of its connection in the group)
    with open(path, "rb") as f:
        for ts, buf in dpkt.pcapng.Reader(f):
            try:
                ip = dpkt.ethernet.Ethernet(buf).data
            except Exception:
                continue
            if not isinstance(ip, dpkt.ip.IP):
                continue
            l4 = ip.data
            if isinstance(l4, dpkt.tcp.TCP):
                proto = "tcp"
            elif isinstance(l4, dpkt.udp.UDP):
                proto = "udp"
            else:
                continue
            a, b = (ip.src, l4.sport), (ip.dst, l4.dport)
            tup = (min(a, b), max(a, b), proto)
            seen = last.get(tup)
            new = (proto == "tcp" and (l4.flags & 0x12) == 0x02) or \
                (proto == "udp" and (seen is None or ts - seen[0] >= 60))
            if new:
                g = (socket.inet_ntoa(ip.src), socket.inet_ntoa(ip.dst), proto, l4.dport)
                conns.setdefault(g, []).append([ts, 0])
                seen = (ts, g, a)
            if seen is None:
                continue
            last[tup] = (ts, seen[1], seen[2])
            if a == seen[2]:
                conns[seen[1]][-1][1] += len(buf)
    out = {}
    first_h, last_h = math.floor(span[0] / 3600), math.floor(span[1] / 3600)
    H = last_h - first_h + 1
    for g, c in conns.items():
        c.sort()
        if len(c) < 6:
            continue
        ts = [x[0] for x in c]
        d = [ts[i + 1] - ts[i] for i in range(len(ts) - 1)]
        sk, md = dispersion(d)
        rts = (sk + md) / 2
        sizes = [x[1] for x in c]
        ssk, smd = dispersion(sizes)
        vals = sorted(sizes)
        mode = max(set(vals), key=lambda v: (vals.count(v), -v))
        rds = (ssk + smd + max(0, min(1, 1 - mode / 65535))) / 3
        cov = min(1, (ts[-1] - ts[0]) / (span[1] - span[0]))
        hours = [math.floor(t / 3600) for t in ts]
        cons = len(set(hours)) / (hours[-1] - hours[0] + 1)
        rdur = max(cov, cons)
        counts = {}
        for h in hours:
            counts[h] = counts.get(h, 0) + 1
        mean = len(ts) / H
        var = max(0, sum(v * v for v in counts.values()) / H - mean * mean)
        cvs = max(0, min(1, 1 - math.sqrt(var) / mean))
        freq = {0: H - len(counts)}
        for v in counts.values():
            freq[v] = freq.get(v, 0) + 1
        top = sorted(freq.values(), reverse=True) + [0]
        rhist = max(cvs, (top[0] + top[1]) / H)
        out[g] = {"rita": 0.25 * (rts + rds + rdur + rhist), "rita_ts": rts, "rita_ds": rds,
                  "rita_dur": rdur, "rita_hist": rhist}
    return out


def score(a):
    truth = json.load(open(a.truth))
    ours = {}
    with open(a.periodic) as f:
        head = json.loads(f.readline())
        for line in f:
            r = json.loads(line)
            ours[(r["src"], r["dst"], r["proto"], r["port"])] = r
    rita = rita_scores(a.capture, (head["first_ts"], head["last_ts"]))
    beacons = {(b["src"], b["dst"], b["proto"], b["port"]): b for b in truth["beacons"]}
    decoys = {(d["src"], d["dst"], d["proto"], d["port"]): d for d in truth["decoys"]}
    negatives = [g for g in set(ours) | set(rita) if g not in beacons]
    # RITA at the threshold that keeps its false positives at 1% or less on these negatives
    neg_rita = sorted((rita[g]["rita"] for g in negatives if g in rita), reverse=True)
    k = int(0.01 * len(neg_rita))
    rita_th = neg_rita[k] + 1e-9 if len(neg_rita) > k else 0.0
    result = {"threshold": a.threshold, "rita_threshold": round(rita_th, 4),
              "negatives": len(negatives), "decoys": len(decoys), "by_jitter": []}
    fp_ours = [g for g in negatives if g in ours and ours[g]["score"] >= a.threshold]
    fp_rita = [g for g in negatives if g in rita and rita[g]["rita"] >= rita_th]
    fp_rita8 = [g for g in negatives if g in rita and rita[g]["rita"] >= 0.8]
    result["fp_ours"] = len(fp_ours)
    result["fp_rita"] = len(fp_rita)
    result["fp_rita_0.8"] = len(fp_rita8)
    result["fp_ours_groups"] = [" ".join(map(str, g)) for g in sorted(fp_ours)]
    for j in sorted({b["jitter"] for b in truth["beacons"]}):
        group = [g for g, b in beacons.items() if b["jitter"] == j]
        hit = [g for g in group if g in ours and ours[g]["score"] >= a.threshold]
        close = [g for g in hit if ours[g]["period"] and
                 abs(ours[g]["period"] - beacons[g]["period"]) <= 0.01 * beacons[g]["period"]]
        rhit = [g for g in group if g in rita and rita[g]["rita"] >= rita_th]
        rhit8 = [g for g in group if g in rita and rita[g]["rita"] >= 0.8]
        result["by_jitter"].append({"jitter": j, "beacons": len(group), "recall": len(hit) / len(group),
                                    "period_within_1pct": len(close) / len(group),
                                    "rita_recall": len(rhit) / len(group),
                                    "rita_recall_0.8": len(rhit8) / len(group),
                                    "missed": [" ".join(map(str, g)) + f" P={beacons[g]['period']}"
                                               for g in group if g not in hit]})
    # our RITA subscores against this independent implementation
    worst = 0.0
    for g in beacons:
        if g in ours and g in rita:
            for k2 in ("rita_ts", "rita_ds", "rita_dur", "rita_hist"):
                worst = max(worst, abs(ours[g][k2] - rita[g][k2]))
    result["rita_parts_max_diff"] = round(worst, 4)
    json.dump(result, sys.stdout, indent=1)
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("out")
    m.add_argument("truth")
    m.add_argument("--hours", type=float, default=12)
    m.add_argument("--periods", default="10,30,60,300,900,3600")
    m.add_argument("--jitters", default="0,0.1,0.2,0.3,0.5")
    m.add_argument("--copies", type=int, default=3)
    m.add_argument("--decoys", type=int, default=300)
    m.add_argument("--seed", type=int, default=1)
    m.add_argument("--template", required=True)
    m.add_argument("--background", nargs="*", default=[])
    m.add_argument("--rotate", type=int, default=1,
                   help="also one TCP beacon per period calling one of N servers at random")
    s = sub.add_parser("score")
    s.add_argument("truth")
    s.add_argument("capture")
    s.add_argument("periodic")
    s.add_argument("--threshold", type=float, default=0.6)
    a = ap.parse_args()
    make(a) if a.cmd == "make" else score(a)


if __name__ == "__main__":
    main()
