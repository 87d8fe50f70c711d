#!/usr/bin/env python3
"""capsift search --per-packet against two references on one capture:
  - a plain scan (bytes.find / re) of the TCP and UDP payloads tshark dissects, per pattern:
    the same (packet, pattern) pairs, and for literals the same first offset and match count
    (overlapping matches counted, as Hyperscan reports every end);
  - tshark's own 'tcp.payload contains' / 'udp.payload contains' filter for a few patterns,
    on every other capture (it is a second read of the file);
and capsift search --db (on one and on three threads, the same output) on an index of all of
them (capsift index --payloads, read in ranges on four workers): every row the same as
--per-packet's, time, flow and offset included.
Compared are the packets with one IP layer and one TCP or UDP layer: capsift searches the
innermost transport payload, tshark's fields hold every layer's (a tunnel's outer UDP too), and
capsift also searches SCTP data and ICMP bodies, which tshark has no payload field for.
Usage: search_ref.py CAPSIFT WORKDIR CAPTURE...; prints what differs, exit 1 when anything does.
"""
import json
import os
import re
import subprocess
import sys

# (capsift's spelling, the reference: bytes for a literal, a compiled regex otherwise, caseless)
PATTERNS = [
    ("HTTP/1.1", b"HTTP/1.1", False),
    ("|0d 0a 0d 0a|", b"\r\n\r\n", False),
    ('"host:"i', b"host:", True),
    ("User-Agent", b"User-Agent", False),
    ("|16 03|", b"\x16\x03", False),
    ("|00 00 00 00|", b"\x00\x00\x00\x00", False),
    ("google", b"google", False),
    ("|fe|SMB", b"\xfeSMB", False),
    ("a\\|b", b"a|b", False),
    ("/Content-Length: *[0-9]+/i", re.compile(rb"Content-Length: *[0-9]+", re.I), True),
    ("/\\x01\\x00\\x00\\x01\\x00\\x00/", re.compile(rb"\x01\x00\x00\x01\x00\x00"), False),
]
# tshark's display filter for some of them, by index: the packets it selects are those that
# match any of them
TSHARK = {
    0: 'tcp.payload contains "HTTP/1.1" or udp.payload contains "HTTP/1.1"',
    1: "tcp.payload contains 0d:0a:0d:0a or udp.payload contains 0d:0a:0d:0a",
    7: "tcp.payload contains fe:53:4d:42 or udp.payload contains fe:53:4d:42",
}
TSHARK_FILTER = " or ".join(f"({f})" for f in TSHARK.values())
TSHARK_OPTS = ["-n", "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
               "-o", "tcp.desegment_tcp_streams:FALSE"]


def count_overlapping(hay, needle):
    n, i = 0, hay.find(needle)
    first = i
    while i >= 0:
        n += 1
        i = hay.find(needle, i + 1)
    return first, n


def reference(capture):
    out = subprocess.run(["tshark", *TSHARK_OPTS, "-r", capture, "-T", "fields", "-E",
                          "occurrence=l", "-e", "frame.number", "-e", "frame.encap_type", "-e", "frame.protocols", "-e",
                          "tcp.payload", "-e", "udp.payload"], capture_output=True, text=True,
                         check=False).stdout
    exp, comparable, number = {}, set(), {}
    for line in out.splitlines():
        f = line.split("\t")
        if not f[1]:
            continue  # tshark 4 numbers pcapng custom blocks as frames; capsift counts packets
        chain = f[2].split(":")
        number[int(f[0])] = frame = len(number) + 1
        ips = sum(p in ("ip", "ipv6") for p in chain)
        l4 = sum(p in ("tcp", "udp") for p in chain)
        if ips != 1 or l4 != 1 or any(p in ("icmp", "icmpv6", "sctp") for p in chain):
            continue
        comparable.add(frame)
        payload = next((x for x in f[3:] if x), None)
        if not payload:
            continue
        b = bytes.fromhex(payload)
        low = b.lower()
        for k, (_, ref, caseless) in enumerate(PATTERNS):
            if isinstance(ref, bytes):
                first, n = count_overlapping(low if caseless else b, ref.lower() if caseless else ref)
                if n:
                    exp[(frame, k)] = (first, n)
            elif ref.search(b):
                exp[(frame, k)] = None
    return exp, comparable, number


def write_patterns(work):
    pfile = f"{work}/patterns.txt"
    with open(pfile, "w") as f:
        f.write("# the reference's patterns\n")
        for text, _, _ in PATTERNS:
            f.write(text + "\n")
    return pfile


def search_db(capsift, work, captures):
    """The rows of search --db on an index of the captures, by file (its real path)."""
    db = f"{work}/search-ref.db"
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.unlink(db + suffix)
    env = dict(os.environ, CAPSIFT_RANGE_BYTES="65536")
    index = subprocess.run([capsift, "index", "-q", "--payloads", "-j", "4", "--db", db,
                            *captures], capture_output=True, text=True, check=False, env=env)
    runs = [subprocess.run([capsift, "search", "--db", db, "--json", "-q", "-j", j, "-F",
                            write_patterns(work)], capture_output=True, text=True, check=False)
            for j in ("1", "3")]
    run = runs[0]
    if index.returncode not in (0, 1) or run.returncode != 0:
        print(f"index exited {index.returncode}, search --db {run.returncode}: "
              f"{index.stderr[:200]} {run.stderr[:200]}")
        return None
    if runs[1].returncode != 0 or runs[1].stdout != run.stdout:
        print(f"search --db -j 3 differs from -j 1 (exit {runs[1].returncode})")
        return None
    rows = {}
    for line in run.stdout.splitlines():
        r = json.loads(line)
        rows.setdefault(r.pop("file"), []).append(json.dumps(r, sort_keys=True))
    return rows


def check(capsift, capture, work, with_filter, db_rows):
    pfile = write_patterns(work)
    index = {text: k for k, (text, _, _) in enumerate(PATTERNS)}
    run = subprocess.run([capsift, "search", "--per-packet", "--json", "-q", "-F", pfile, capture],
                         capture_output=True, text=True, check=False)
    if run.returncode not in (0, 1):
        print(f"{capture}: capsift search exited {run.returncode}: {run.stderr[:300]}")
        return 1
    bad = 0
    if db_rows is not None:
        mine = sorted(json.dumps({k: v for k, v in json.loads(l).items() if k != "file"},
                                 sort_keys=True) for l in run.stdout.splitlines())
        theirs = sorted(db_rows.get(os.path.realpath(capture), []))
        if mine != theirs:
            bad += 1
            print(f"{capture}: --db gives {len(theirs)} rows, --per-packet {len(mine)}; "
                  f"--db only {sorted(set(theirs) - set(mine))[:2]}, "
                  f"--per-packet only {sorted(set(mine) - set(theirs))[:2]}")
    got = {}
    for line in run.stdout.splitlines():
        r = json.loads(line)
        got[(r["packet"], index[r["pattern"]])] = (r["offset"], r["count"])
    exp, comparable, number = reference(capture)
    got = {key: v for key, v in got.items() if key[0] in comparable}
    for key in sorted(set(exp) | set(got)):
        e, g = exp.get(key, "absent"), got.get(key, "absent")
        if e == "absent" or g == "absent" or (e is not None and e != g):
            bad += 1
            if bad <= 10:
                print(f"{capture}: packet {key[0]} pattern {PATTERNS[key[1]][0]!r}: "
                      f"reference {e}, capsift {g}")
    if with_filter:
        out = subprocess.run(["tshark", *TSHARK_OPTS, "-r", capture, "-Y", TSHARK_FILTER, "-T",
                              "fields", "-e", "frame.number"], capture_output=True, text=True,
                             check=False).stdout
        want = {number[int(x)] for x in out.split()} & comparable
        have = {p for (p, j) in got if j in TSHARK}
        if want != have:
            bad += 1
            print(f"{capture}: {TSHARK_FILTER}: tshark only {sorted(want - have)[:10]}, "
                  f"capsift only {sorted(have - want)[:10]}")
    print(f"{capture}: {len(got)} hits, {len(exp)} expected, {bad} differences "
          f"({len(comparable)} packets compared)")
    return bad


def main():
    capsift, work, captures = sys.argv[1], sys.argv[2], sys.argv[3:]
    db_rows = search_db(capsift, work, captures)
    # every capture against the plain scan; tshark's filter, a second read, on every other one
    bad = sum(check(capsift, c, work, k % 2 == 0, db_rows) for k, c in enumerate(captures))
    return 1 if bad or db_rows is None else 0


if __name__ == "__main__":
    sys.exit(main())
