#!/usr/bin/env python3
"""capsift diff against a profile computed in Python from what `capsift flows --json` says of
each side (its flows, applications and DNS, TLS and HTTP rows): the same rows, keys and counts.
Usage: diff_ref.py CAPSIFT THRESHOLD_PERCENT A B; exit 1 when anything differs."""
import collections
import ipaddress
import json
import subprocess
import sys



def packed(a):
    ip = ipaddress.ip_address(a)
    return (b"\0" * 10 + b"\xff\xff" + ip.packed) if ip.version == 4 else ip.packed


def endpoint(a, port, ports):
    s = str(ipaddress.ip_address(a))
    if not ports:
        return s
    return f"[{s}]:{port}" if ":" in s else f"{s}:{port}"


def profile(capsift, side):
    out = subprocess.run([capsift, "flows", "--json", "--no-cache", side], capture_output=True,
                         text=True, check=False).stdout
    p = collections.defaultdict(lambda: [0, 0, 0])

    def add(kind, key, packets=0, nbytes=0):
        c = p[(kind, key)]
        c[0] += 1
        c[1] += packets
        c[2] += nbytes
    for f in map(json.loads, out.splitlines()):
        if f["src"] is None or f["proto"] in ("arp", "ether"):
            continue
        pk, by = f["packets"], f["bytes"]
        proto = f["proto"]
        ports = proto in ("tcp", "udp", "sctp")
        hosts = {str(ipaddress.ip_address(f["src"])), str(ipaddress.ip_address(f["dst"]))}
        for h in hosts:
            add("host", h, pk, by)
        if ports:
            add("port", f"{proto}/{f['dport']}", pk, by)
        add("app", f["app"] or "Unknown", pk, by)
        lo = sorted([(packed(f["src"]), f["sport"], f["src"]),
                     (packed(f["dst"]), f["dport"], f["dst"])])
        add("flow", f"{proto} {endpoint(lo[0][2], lo[0][1], ports)} - "
                    f"{endpoint(lo[1][2], lo[1][1], ports)}", pk, by)
        for m in f.get("meta") or []:
            names = []
            if m["proto"] == "tls":
                for k in ("ja3", "ja3s"):
                    if m.get(k):
                        add(k, m[k])
                names.append(m.get("server_name"))
            elif m["proto"] == "http":
                h = m.get("host")  # without its port and IPv6 brackets
                if h and h.startswith("["):
                    h = h[1:h.index("]")] if "]" in h else None
                elif h and h.count(":") == 1:
                    h = h.split(":", 1)[0]
                names.append(h)
            elif m["proto"] == "dns":
                names.append(m.get("query"))
                names += m.get("more_queries") or []
            for n in names:
                if n:
                    n = n.lower()
                    n = n[:-1] if n.endswith(".") else n
                    if n:
                        add("domain", n)
    return p


def main():
    capsift, threshold, a, b = sys.argv[1], float(sys.argv[2]) / 100, sys.argv[3], sys.argv[4]
    pa, pb = profile(capsift, a), profile(capsift, b)
    want = set()
    for key in set(pa) | set(pb):
        ca, cb = pa.get(key, [0, 0, 0]), pb.get(key, [0, 0, 0])
        if key not in pb:
            change = "only_a"
        elif key not in pa:
            change = "only_b"
        else:
            x, y = (ca[2], cb[2]) if ca[2] or cb[2] else (ca[0], cb[0])
            change = "more" if y > x * (1 + threshold) else "less" if y * (1 + threshold) < x else None
        if change:
            want.add((key[0], key[1], change, *ca, *cb))
    run = subprocess.run([capsift, "diff", "--json", "-q", "--no-cache", "--threshold",
                          sys.argv[2], a, b], capture_output=True, text=True, check=False)
    got = set()
    for r in map(json.loads, run.stdout.splitlines()):
        got.add((r["kind"], r["key"], r["change"], r["a_flows"], r["a_packets"], r["a_bytes"],
                 r["b_flows"], r["b_packets"], r["b_bytes"]))
    if got != want or run.returncode not in (0, 1):
        print(f"exit {run.returncode}; {len(got)} rows, {len(want)} expected; capsift only "
              f"{sorted(got - want)[:4]}, reference only {sorted(want - got)[:4]}")
        return 1
    kinds = collections.Counter(k for k, *_ in want)
    print(f"{len(want)} differences: {dict(kinds)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
