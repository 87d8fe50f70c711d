#!/usr/bin/env python3
"""Agreement of capsift classify and tshark with the Lua dissector capsift wrote.

usage: classify_agree.py CAPSIFT DB LUA PCAP

Runs `capsift classify --json --members --no-update --db DB PCAP` and
`tshark -X lua_script:LUA -r PCAP -T fields -e frame.number -e capsift.type`, and compares the
label of every packet either of them labels (a packet one labels and the other does not is a
disagreement). TCP segments with data that tshark hands to no dissector (keep-alives, one
byte of no data; segments it calls out of order) are left out and counted. Prints "agree=A
packets=N labelled=L unlabelled_by_capsift=U undissected=K" and exits 0; the caller holds the
level.
"""
import json
import subprocess
import sys


def main():
    capsift, db, lua, pcap = sys.argv[1:5]
    out = subprocess.run([capsift, "classify", "--json", "--members", "--no-update", "--db", db,
                          pcap], capture_output=True, text=True)
    if out.returncode not in (0, 1):
        sys.exit("classify failed: " + out.stderr)
    ours = {}
    unlabelled = 0
    for line in out.stdout.splitlines()[1:]:
        row = json.loads(line)
        for _, n, _sim in row.get("packets", []):
            if row["signature"] is None:
                unlabelled += 1
            else:
                ours[n] = row["signature"]
    ts = subprocess.run(["tshark", "-n", "-r", pcap, "-X", "lua_script:" + lua, "-T", "fields",
                         "-e", "frame.number", "-e", "capsift.type", "-e", "frame.protocols",
                         "-e", "tcp.len", "-e", "tcp.analysis.keep_alive"],
                        capture_output=True, text=True)
    if ts.returncode != 0:
        sys.exit("tshark failed: " + ts.stderr)
    theirs = {}
    undissected = set()
    for line in ts.stdout.splitlines():
        cols = line.split("\t")
        if len(cols) > 4 and (cols[4] or cols[2].endswith(":tcp") and cols[3] not in ("", "0")):
            undissected.add(int(cols[0]))
        elif len(cols) > 1 and cols[1]:
            # a frame tshark dissects twice (two PDUs) shows the names joined by commas
            theirs[int(cols[0])] = cols[1].split(",")[0]
    frames = (set(ours) | set(theirs)) - undissected
    same = sum(1 for f in frames if ours.get(f) == theirs.get(f))
    agree = same / len(frames) if frames else 1.0
    print("agree=%.4f packets=%d labelled=%d unlabelled_by_capsift=%d undissected=%d"
          % (agree, len(frames), len(ours), unlabelled, len(undissected & set(ours))))


if __name__ == "__main__":
    main()
