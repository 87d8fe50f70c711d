#!/usr/bin/env python3
"""Checks `capsift timeline --json` against tshark's packets, computed here independently.

usage: timeline_ref.py TIMELINE_JSON TSHARK_FIELDS [--by host]

TSHARK_FIELDS: lines of `tshark -T fields -E occurrence=a -E separator=/t -e frame.time_epoch
-e frame.len -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst` (the innermost addresses are the last of
each list). Every interval from the first packet's to the last's must be in the series with
tshark's packets and bytes, empty ones as zero; the window statistics (mean, standard deviation,
least, greatest; the percentile within the sketch's 1% of the exact sample of that rank), the
deviations and the flags are recomputed from those counts. With --by host, each group listed
must have tshark's counts per interval for packets that have that address at either end.
Prints one line and exits 1 on the first difference.
"""
import json
import math
import sys
from collections import defaultdict
from decimal import Decimal


def fail(msg):
    print("FAIL " + msg)
    sys.exit(1)


def close(a, b):  # JSON has six decimals
    return abs(a - b) <= 1e-6 + 1e-9 * abs(b)


def expand(series):
    """Every interval: a point with repeat R stands for itself and the R after it."""
    out = []
    for p in series:
        out.append(p)
        for k in range(p["repeat"]):
            q = dict(p, repeat=0)
            q["start_ts"] = None  # checked by its place
            out.append(q)
    return out


def check_series(name, series, counts, lo, hi, wint, z, pct):
    series = expand(series)
    want = list(range(lo, hi + 1))
    if len(series) != len(want):
        fail(f"{name}: {len(series)} intervals, want {len(want)}")
    pk, by = [], []
    for p, idx in zip(series, want):
        got_idx = idx if p["start_ts"] is None else round(Decimal(str(p["start_ts"])) * 10**9 / ivl_ns)
        c = counts.get(idx, (0, 0))
        if got_idx != idx or (p["packets"], p["bytes"]) != c:
            fail(f"{name}: interval {idx}: {got_idx} {p['packets']} {p['bytes']}, want {c}")
        pk.append(c[0])
        by.append(c[1])
    min_prev = 5 if wint >= 5 else max(wint, 2)
    for key, values, flag in (("window_packets", pk, "flag_packets"),
                              ("window_bytes", by, "flag_bytes")):
        for i, p in enumerate(series):
            w = values[max(0, i - wint + 1):i + 1]
            prev = values[max(0, i - wint):i]
            n = len(w)
            mean = sum(w) / n
            sd = math.sqrt(sum((x - mean) ** 2 for x in w) / (n - 1)) if n > 1 else 0.0
            st = p[key]
            for k, v in (("mean", mean), ("sd", sd), ("min", min(w)), ("max", max(w))):
                # the running sums round: about 1e-7 of the window's values for the deviation
                if not close(st[k], v) and not (k == "sd" and abs(st[k] - v) <= 1e-6 * max(w)):
                    fail(f"{name} {key} {i}: {k} {st[k]}, want {v}")
            exact = sorted(w)[math.floor(pct / 100 * (n - 1))]
            if abs(st["pct"] - exact) > 0.0101 * exact + 1e-9:
                fail(f"{name} {key} {i}: pct {st['pct']}, want about {exact}")
            want_flag = None
            if len(prev) >= min_prev:
                pm = sum(prev) / len(prev)
                psd = math.sqrt(sum((x - pm) ** 2 for x in prev) / (len(prev) - 1))
                zz = (values[i] - pm) / max(psd, 1.0)
                if st["z"] is None or not close(st["z"], zz):
                    fail(f"{name} {key} {i}: z {st['z']}, want {zz}")
                want_flag = "high" if zz > z else "low" if zz < -z else None
                if abs(abs(zz) - z) < 1e-9:  # at the threshold: rounding decides
                    want_flag = p[flag]
            elif st["z"] is not None:
                fail(f"{name} {key} {i}: z {st['z']} from a window too short")
            if p[flag] != want_flag:
                fail(f"{name} {key} {i}: flag {p[flag]}, want {want_flag}")


args = sys.argv[1:]
by_host = "--by" in args
report = json.loads(open(args[0]).read().splitlines()[0])
ivl_ns = round(Decimal(str(report["interval"])) * 10**9)
total = {}
hosts = defaultdict(dict)
noip = {}
npk = 0
for line in open(args[1]):
    f = line.rstrip("\n").split("\t")
    if not f[0]:
        continue
    ns = int(Decimal(f[0]) * 10**9)
    ln = int(f[1])
    idx = ns // ivl_ns
    npk += 1
    a, b = total.get(idx, (0, 0))
    total[idx] = (a + 1, b + ln)
    src = (f[4] or f[2]).split(",")[-1] if len(f) > 5 else ""
    dst = (f[5] or f[3]).split(",")[-1] if len(f) > 5 else ""
    if not src and not dst:  # capsift's "(no flow)": packets without an IP layer
        a, b = noip.get(idx, (0, 0))
        noip[idx] = (a + 1, b + ln)
    for h in {src, dst} - {""}:
        a, b = hosts[h].get(idx, (0, 0))
        hosts[h][idx] = (a + 1, b + ln)
if report["packets"] != npk:
    fail(f"{report['packets']} packets, tshark {npk}")
lo, hi = min(total), max(total)
wint, z, pct = report["window_intervals"], report["z"], report["percentile"]
check_series("total", report["series"], total, lo, hi, wint, z, pct)
groups = report.get("groups", [])
if by_host:
    if not groups:
        fail("no groups")
    for g in groups:
        counts = noip if g["group"] == "(no flow)" else hosts.get(g["group"], {})
        check_series(g["group"], g["series"], counts, lo, hi, wint, z, pct)
print(f"ok {len(report['series'])} intervals, {len(groups)} groups")
