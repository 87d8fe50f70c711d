#!/usr/bin/env python3
"""capsift meta against tshark, the reference dissector: for each capture, the sets of
(flow, value) of DNS query names, A and AAAA answers, HTTP hosts, URIs and user agents, TLS
server names, JA3 and JA3S, and SSH versions, as tshark's fields give them and as capsift meta
--json does. A flow is its two (address, port) ends and its transport, unordered.

tshark reassembles TCP; capsift reads each message from the segment it begins in. Values that
only tshark has are therefore allowed where capsift counted the message as cut at a segment's
end (the summary on stderr), or where the message began in a segment tshark reassembled with
others (tshark gives the value at a frame without the value's own first bytes). Everything
else is a difference, printed; the exit status is 1 when there is any.

usage: meta_tshark.py CAPSIFT FILE...   (-v: print the differences allowed, too)
"""
import concurrent.futures
import ipaddress
import json
import os
import subprocess
import sys

FIELDS = {
    # key: (tshark display filter, tshark field, capsift proto, capsift json key)
    "dns.qry.name": ("dns.flags.opcode == 0", "dns.qry.name", "dns", ("query", "more_queries")),
    "dns.a": ("dns.a", "dns.a", "dns", "answers"),
    "dns.aaaa": ("dns.aaaa", "dns.aaaa", "dns", "answers"),
    "http.host": ("http.request", "http.host", "http", "host"),
    "http.request.uri": ("http.request", "http.request.uri", "http", "uri"),
    "http.user_agent": ("http.request", "http.user_agent", "http", "user_agent"),
    "tls.sni": ("tls.handshake.type == 1", "tls.handshake.extensions_server_name", "tls",
                "server_name"),
    "tls.ja3": ("tls.handshake.type == 1", "tls.handshake.ja3", "tls", "ja3"),
    "tls.ja3s": ("tls.handshake.type == 2", "tls.handshake.ja3s", "tls", "ja3s"),
    "ssh.protocol": ("ssh.protocol", "ssh.protocol", "ssh", ("client", "server")),
}


ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def addr(a):
    try:
        ip = ipaddress.ip_address(a)
    except ValueError:
        return a
    if ip.version == 6 and ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    return str(ip)


def flow(a, ap, b, bp, transport):
    return (frozenset([(addr(a), int(ap)), (addr(b), int(bp))]), transport)


def last(v):
    return v.split(",")[-1] if v else v


def tshark_values(path):
    """{field: set of (flow, value)} and the frames each came from."""
    out = {k: set() for k in FIELDS}
    out["tunneled"] = set()  # (key, flow, value) inside a tunnel capsift does not open
    cols = ["frame.protocols", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport",
            "udp.srcport", "udp.dstport", "dns.count.answers", "dns.resp.type", "dns.flags.opcode"]
    cols += sorted({f[1] for f in FIELDS.values()})
    cmd = ["tshark", "-n", "-r", path, "-Y",
           "dns || mdns || llmnr || http.request || tls.handshake || ssh.protocol",
           "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=\x1f",
           "-o", "tcp.analyze_sequence_numbers:TRUE"]
    for c in cols:
        cmd += ["-e", c]
    res = subprocess.run(cmd, capture_output=True, text=True, errors="surrogateescape")
    for line in res.stdout.splitlines():
        v = dict(zip(cols, line.split("\t")))
        layers = v["frame.protocols"].split(":")
        inner6 = "ipv6" in layers and ("ip" not in layers or
                                       layers[::-1].index("ipv6") < layers[::-1].index("ip"))
        src = (v["ipv6.src"] if inner6 else v["ip.src"]).split("\x1f")[-1]
        dst = (v["ipv6.dst"] if inner6 else v["ip.dst"]).split("\x1f")[-1]
        if v["tcp.srcport"]:
            fl = flow(src, v["tcp.srcport"].split("\x1f")[-1], dst,
                      v["tcp.dstport"].split("\x1f")[-1], "tcp")
        elif v["udp.srcport"]:
            fl = flow(src, v["udp.srcport"].split("\x1f")[-1], dst,
                      v["udp.dstport"].split("\x1f")[-1], "udp")
        else:
            continue
        for key, (_, field, _, _) in FIELDS.items():
            vals = [x for x in v.get(field, "").split("\x1f") if x]
            if key in ("dns.a", "dns.aaaa"):
                # only the answer section's records (tshark's field has the others' too)
                want = "1" if key == "dns.a" else "28"
                types = v["dns.resp.type"].split("\x1f") if v["dns.resp.type"] else []
                nans = int((v["dns.count.answers"] or "0").split("\x1f")[0])
                k = sum(1 for t in types[:nans] if t == want)
                vals = vals[:k]
            if key == "dns.qry.name" and v["dns.flags.opcode"].split("\x1f")[0] != "0":
                continue
            if key.startswith("dns") or key == "tls.sni":
                # names are case-insensitive in ASCII only (RFC 4343)
                vals = [no_ufffd_runs(x.translate(ASCII_LOWER)).rstrip(".") if x != "<Root>" else "."
                        for x in vals]
            for x in vals:
                out[key].add((fl, x))
                if "openvpn" in layers or "capwap.data" in layers:
                    out["tunneled"].add((key, fl, x))
    return out


def no_ufffd_runs(x):
    """tshark and Python's decoder replace a broken UTF-8 sequence by different numbers of
    U+FFFD: a run of them counts as one."""
    while "\ufffd\ufffd" in x:
        x = x.replace("\ufffd\ufffd", "\ufffd")
    return x


def dns_name(x):
    """A name as tshark shows it: capsift's \\DDD escapes of bytes past ASCII that are not
    UTF-8 (kept as sent otherwise) become the bytes, which tshark shows as U+FFFD."""
    if "\\" not in x:
        return x
    b, i = bytearray(), 0
    while i < len(x):
        if x[i] == "\\" and x[i + 1:i + 4].isdigit() and int(x[i + 1:i + 4]) >= 128:
            b.append(int(x[i + 1:i + 4]))
            i += 4
        elif x[i] == "\\" and i + 1 < len(x):
            b += ("\\" + x[i + 1]).encode()
            i += 2
        else:
            b += x[i].encode("utf-8", "surrogateescape")
            i += 1
    return no_ufffd_runs(b.decode("utf-8", "replace"))


def capsift_values(capsift, path):
    res = subprocess.run([capsift, "meta", "--no-cache", "--json", path], capture_output=True,
                         text=True, errors="surrogateescape")
    out = {k: set() for k in FIELDS}
    for line in res.stdout.splitlines():
        r = json.loads(line)
        fl = flow(r["src"], r["sport"], r["dst"], r["dport"], r["transport"])
        for key, (_, _, proto, jkey) in FIELDS.items():
            if r["proto"] != proto:
                continue
            for k in (jkey if isinstance(jkey, tuple) else (jkey,)):
                v = r.get(k)
                vals = v if isinstance(v, list) else [v] if v is not None else []
                for x in vals:
                    if key == "dns.a" and ":" in x or key == "dns.aaaa" and ":" not in x:
                        continue
                    if key in ("dns.a", "dns.aaaa") and not any(c.isdigit() for c in x):
                        continue
                    if key.startswith("dns.a"):
                        try:
                            ipaddress.ip_address(x)
                        except ValueError:
                            continue
                    if key == "dns.qry.name":
                        x = dns_name(x)
                    if key == "http.request.uri":
                        x = x.split(" ")[0]  # tshark ends a request target at a space
                    out[key].add((fl, x))
    return out, res.stderr, res.returncode


def main():
    verbose = "-v" in sys.argv
    args = [a for a in sys.argv[1:] if a != "-v"]
    capsift, files = args[0], args[1:]
    bad = 0
    totals = {k: [0, 0] for k in FIELDS}
    def both(path):
        return tshark_values(path), capsift_values(capsift, path)
    jobs = max(1, min(4, os.cpu_count() or 1))
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:  # the work is in subprocesses
        results = list(pool.map(both, files))
    for path, (t, (c, err, rc)) in zip(files, results):
        if rc not in (0, 1):
            print(f"{path}: capsift meta exited {rc}: {err.strip()}")
            bad += 1
            continue
        cut = "cut at a segment" in err
        for key in FIELDS:
            totals[key][0] += len(t[key])
            totals[key][1] += len(t[key] & c[key])
            only_t, only_c = t[key] - c[key], c[key] - t[key]
            # capsift parses HTTP, TLS and SSH on any port; tshark on its registered ones
            for what, diff in (("tshark only", only_t), ("capsift only", only_c)):
                if not diff:
                    continue
                allowed = what == "tshark only" and cut
                # QUIC: tshark decrypts the Initial packets' ClientHello; capsift does not
                quic = all(fl[1] == "udp" for fl, _ in diff) and key.startswith("tls")
                # an F5 capture whose segments begin with the box's own preamble
                f5 = path.endswith("zeek--mixed-vlan-mpls.pcap") and key.startswith("http")
                # TLS inside OpenVPN's control channel, 802.11 frames inside CAPWAP: tunnels
                # tshark opens and capsift does not
                tunnel = all((key, fl, v) in t["tunneled"] for fl, v in diff)
                allowed = allowed or (what == "tshark only" and (quic or f5 or tunnel))
                if what == "capsift only" and not key.startswith("dns"):
                    allowed = True  # dissected on a port tshark does not try
                if not allowed:
                    bad += 1
                if not allowed or verbose:
                    for fl, v in sorted(diff, key=str)[:5]:
                        ends = " ".join(f"{a}:{p}" for a, p in sorted(fl[0]))
                        print(f"{path}: {key}: {what}{' (allowed)' if allowed else ''}: "
                              f"{fl[1]} {ends} {v!r}")
    for key, (n, same) in totals.items():
        print(f"{key}: tshark {n}, the same in capsift {same}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
