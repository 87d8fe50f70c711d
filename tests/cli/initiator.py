# initiator.py CAPSIFT FILE...: for each TCP and UDP flow of each file, the initiator and the
# history capsift gives equal what tshark's fields say, worked out here from the rules in
# docs/capsift-flows.md: the first SYN's sender (no ACK) starts the flow, else the receiver of
# the first SYN+ACK, else the other side when one port only is below 1024 (or the side of
# DHCP's client port 68 or 546), else the first packet's sender; history letters once per side, in the order first seen. Files
# must have one IP layer (no tunnels). Prints one line per file checked; exits 1 on a mismatch.
import json, subprocess, sys

capsift, files = sys.argv[1], sys.argv[2:]
FIELDS = ["ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "tcp.srcport", "tcp.dstport", "tcp.flags",
          "tcp.len", "tcp.window_size_value", "udp.srcport", "udp.dstport", "udp.length"]


def tshark_packets(path):
    cmd = ["tshark", "-r", path, "-n", "-Y", "not icmp and not icmpv6", "-T", "fields", "-E",
           "separator=\t", "-E", "occurrence=f"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout  # a cut file: exit 2
    for line in out.splitlines():
        v = dict(zip(FIELDS, line.split("\t")))
        src, dst = v["ip.src"] or v["ipv6.src"], v["ip.dst"] or v["ipv6.dst"]
        if v["tcp.srcport"] and v["tcp.flags"]:
            yield ("tcp", src, int(v["tcp.srcport"]), dst, int(v["tcp.dstport"]),
                   int(v["tcp.flags"], 16), int(v["tcp.len"] or 0),
                   int(v["tcp.window_size_value"] or 1))
        elif v["udp.srcport"] and v["udp.length"]:
            yield ("udp", src, int(v["udp.srcport"]), dst, int(v["udp.dstport"]), 0,
                   int(v["udp.length"]) - 8, 1)


def letters(proto, flags, length, win):
    syn, ack, fin, rst = flags & 2, flags & 16, flags & 1, flags & 4
    out = []
    if proto == "tcp":
        if syn:
            out.append("H" if ack else "S")
        if fin:
            out.append("F")
        if rst:
            out.append("R")
    if length > 0:
        out.append("D")
    elif proto == "tcp" and ack and not (syn or fin or rst):
        out.append("A")
    if proto == "tcp" and win == 0 and not (syn or rst):
        out.append("W")
    return out


def expected(path):
    flows = {}
    for proto, src, sp, dst, dp, flags, length, win in tshark_packets(path):
        a, b = (src, sp), (dst, dp)
        key = (proto,) + tuple(sorted([a, b]))
        f = flows.setdefault(key, {"first": a, "by": 0, "init": a, "events": []})
        if f["by"] == 0 and not f["events"]:  # a new flow: the port rule
            if (sp < 1024) != (dp < 1024):
                f["by"], f["init"] = 1, (a if dp < 1024 else b)
            elif sp != dp and (sp in (68, 546) or dp in (68, 546)):
                f["by"], f["init"] = 1, (a if sp in (68, 546) else b)  # DHCP's client
        by, init = 0, None
        if proto == "tcp" and flags & 0x16 == 0x02:
            by, init = 3, a
        elif proto == "tcp" and flags & 0x16 == 0x12:
            by, init = 2, b
        if by > f["by"]:
            f["by"], f["init"] = by, init
        for c in letters(proto, flags, length, win):
            if (a, c) not in f["events"]:
                f["events"].append((a, c))
    result = {}
    for key, f in flows.items():
        init = f["init"]
        hist = "^" if f["first"] != init and f["events"] else ""
        hist += "".join(c if who == init else c.lower() for who, c in f["events"])
        result[key] = (init, hist)
    return result


bad = 0
for path in files:
    want = expected(path)
    out = subprocess.run([capsift, "flows", "--json", "--no-app", path], capture_output=True,
                         text=True).stdout
    got = {}
    for line in out.splitlines():
        r = json.loads(line)
        if r["proto"] in ("tcp", "udp"):
            a, b = (r["src"], r["sport"]), (r["dst"], r["dport"])
            got[(r["proto"],) + tuple(sorted([a, b]))] = (a, r["history"] or "")
    wrong = [(k, want.get(k), got.get(k)) for k in set(want) | set(got) if want.get(k) != got.get(k)]
    for k, w, g in wrong[:5]:
        print(f"  {path}: {k}: tshark says {w}, capsift {g}", file=sys.stderr)
    print(f"{path}: {len(want)} flows, {len(wrong)} differ")
    bad += len(wrong) > 0
sys.exit(1 if bad else 0)
