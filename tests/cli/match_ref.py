#!/usr/bin/env python3
"""capsift match against an exact hash-set lookup in Python, on the flows and metadata capsift
flows --json gives for the same captures: lists made of addresses and names taken from those
flows (a third of each, some parent domains, /24 and /64 ranges of some addresses) mixed with
N absent random addresses and names, as text, CSV and a STIX 2.1 bundle. The three formats
must give the same matches, and those the reference's; so must `capsift match --db` on an
index of the same captures (capsift index), whose files are named by their real paths.
Usage: match_ref.py CAPSIFT WORKDIR N_ABSENT CAPTURE...; exit 1 when anything differs.
"""
import ipaddress
import json
import os
import random
import re
import subprocess
import sys

NAME_FIELDS = {  # (proto, field) -> where
    ("dns", "query"): "dns.query", ("dns", "more_queries"): "dns.query",
    ("dns", "answers"): "dns.answer", ("tls", "server_name"): "tls.sni",
    ("tls", "san_dns"): "cert.san", ("http", "host"): "http.host",
}


def values(flow):
    """(where, value) of a flow as match reads them: addresses, then names of its rows."""
    yield "src", flow["src"]
    yield "dst", flow["dst"]
    for row in flow.get("meta") or []:
        for (proto, field), where in NAME_FIELDS.items():
            if row["proto"] != proto or row.get(field) is None:
                continue
            v = row[field]
            for item in v if isinstance(v, list) else [v]:
                yield where, item


def addr(s):
    try:
        return ipaddress.ip_address(s)
    except ValueError:
        return None


def normalise(where, v):
    """The address or name the value stands for, as match takes it, and the value it shows."""
    if addr(v):
        return addr(v), str(addr(v))
    if where == "dns.answer" and " " in v:
        v = v.rsplit(" ", 1)[1]
    if where == "http.host":
        if v.startswith("[") and "]" in v:
            inner = v[1:v.index("]")]
            if addr(inner):
                return addr(inner), str(addr(inner))
        if ":" in v:
            v = v.split(":", 1)[0]
            if addr(v):
                return addr(v), str(addr(v))
    return (v.lower()[:-1] if v.endswith(".") else v.lower(), v) if v else (None, None)


def main():
    capsift, work, n_absent, captures = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    out = subprocess.run([capsift, "flows", "--json", "--no-cache", *captures],
                         capture_output=True, text=True, check=False).stdout
    flows = [json.loads(l) for l in out.splitlines()]
    addrs, names = set(), set()
    for f in flows:
        for where, v in values(f):
            n = normalise(where, v)[0]
            if isinstance(n, str):
                names.add(n)
            elif n is not None:
                addrs.add(n)
    r = random.Random(42)
    hostname = re.compile(r"^(?=.{1,253}$)([a-z0-9_-]{1,63}\.)*[a-z0-9_-]{1,63}$")
    addrs, names = sorted(addrs, key=str), sorted(n for n in names if hostname.match(n))
    ioc_addrs = set(addrs[::3])
    ioc_names = set(names[::3])
    ioc_names |= {n.split(".", 1)[1] for n in names[1::7] if n.count(".") >= 2}
    nets = {ipaddress.ip_network(f"{a}/{24 if a.version == 4 else 64}", strict=False)
            for a in addrs[1::11]}
    abc = "abcdefghijklmnopqrstuvwxyz0123456789-"
    for _ in range(n_absent // 2):
        ioc_addrs.add(ipaddress.ip_address(r.getrandbits(32)))
        ioc_names.add("".join(r.choice(abc) for _ in range(r.randint(5, 12))) + "." +
                      r.choice(["com", "net", "org", "example", "info"]))
    lines = [str(a) for a in sorted(ioc_addrs, key=str)] + [str(n) for n in nets] + sorted(ioc_names)
    r.shuffle(lines)
    with open(f"{work}/iocs.txt", "w") as f:
        f.write("# generated\n" + "\n".join(lines) + "\n")
    with open(f"{work}/iocs.csv", "w") as f:
        f.write("first_seen,indicator,comment\n")
        f.write("".join(f'2024-01-01,"{l}",from the corpus\n' for l in lines))
    with open(f"{work}/iocs.json", "w") as f:
        objs = []
        for i, l in enumerate(lines):
            kind = "domain-name" if not addr(l.split("/")[0]) else \
                ("ipv6-addr" if ":" in l else "ipv4-addr")
            objs.append({"type": "indicator", "spec_version": "2.1", "id": f"indicator--{i}",
                         "pattern": f"[{kind}:value = '{l}']", "pattern_type": "stix"})
        objs.append({"type": "indicator", "id": "indicator--x", "pattern_type": "stix",
                     "pattern": "[file:hashes.'SHA-256' = 'aa']"})
        f.write('{"type": "bundle", "id": "bundle--1", "objects": [\n')  # an object a line
        f.write(",\n".join(json.dumps(o) for o in objs) + "]}\n")

    # the reference: exact sets, the name and each domain it lies in, the most specific range
    exp = set()
    for f in flows:
        for where, v in values(f):
            n, shown = normalise(where, v)
            if n is None:
                continue
            hit = None
            if isinstance(n, str):
                labels = n.split(".")
                hit = next((".".join(labels[i:]) for i in range(len(labels))
                            if ".".join(labels[i:]) in ioc_names), None)
            else:
                if n in ioc_addrs:
                    hit = str(n)
                else:
                    inside = [net for net in nets if net.version == n.version and n in net]
                    hit = str(max(inside, key=lambda x: x.prefixlen)) if inside else None
            if hit:
                exp.add((f["file"], f["src"], f["sport"], f["dst"], f["dport"], f["first_ts"],
                         where, shown, hit))
    bad = 0
    db = f"{work}/match-ref.db"
    index = subprocess.run([capsift, "index", "-q", "--db", db, *captures], capture_output=True,
                           text=True, check=False)
    if index.returncode not in (0, 1):
        print(f"capsift index exited {index.returncode}: {index.stderr[:300]}")
        return 1
    runs = [(ext, ["--ioc", f"{work}/iocs.{ext}", *captures]) for ext in ("txt", "csv", "json")]
    runs.append(("--db", ["--ioc", f"{work}/iocs.txt", "--db", db]))
    for ext, args in runs:
        run = subprocess.run([capsift, "match", "--json", "-q", "--no-cache", *args],
                             capture_output=True, text=True, check=False)
        if run.returncode not in (0, 1):
            print(f"{ext}: capsift match exited {run.returncode}: {run.stderr[:300]}")
            return 1
        got = set()
        for l in run.stdout.splitlines():
            m = json.loads(l)
            got.add((m["file"], m["src"], m["sport"], m["dst"], m["dport"], m["flow_first_ts"],
                     m["where"], m["value"], m["indicator"]))
        if ext == "--db":  # the index names files by their real paths
            got = {(os.path.realpath(g[0]),) + g[1:] for g in got}
            exp_db = {(os.path.realpath(e[0]),) + e[1:] for e in exp}
            if got != exp_db:
                bad += 1
                print(f"--db: {len(got)} matches, {len(exp_db)} expected; capsift only "
                      f"{sorted(got - exp_db, key=str)[:3]}, reference only "
                      f"{sorted(exp_db - got, key=str)[:3]}")
            continue
        if got != exp:
            bad += 1
            print(f"{ext}: {len(got)} matches, {len(exp)} expected; capsift only "
                  f"{sorted(got - exp, key=str)[:3]}, reference only {sorted(exp - got, key=str)[:3]}")
    kinds = {w for (_, _, _, _, _, _, w, _, _) in exp}
    print(f"{len(lines)} indicators, {len(flows)} flows: {len(exp)} matches expected "
          f"({', '.join(sorted(kinds))}), {bad} of the three formats and --db differ")
    if len(exp) < 50 or not {"src", "dst", "dns.query", "tls.sni"} <= kinds:
        print("too few matches to show anything")
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
