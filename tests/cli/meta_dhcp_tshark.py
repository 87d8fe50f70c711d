#!/usr/bin/env python3
"""capsift meta's DHCP rows against tshark's dhcp fields: per capture, the sets of client MACs,
host names, vendor classes, requested addresses and addresses servers gave (yiaddr). A reply
cut inside its options by the snaplen is dissected by tshark to no field at all; capsift reads
its header, so values only capsift has are allowed in a file where tshark had such a frame.

usage: meta_dhcp_tshark.py CAPSIFT FILE..."""
import concurrent.futures
import json
import os
import subprocess
import sys

KEYS = ("mac", "host_name", "assigned_addr", "requested_addr", "client_software")


def tshark_values(path):
    out = {k: set() for k in KEYS}
    fields = ["dhcp.type", "dhcp.hw.mac_addr", "dhcp.option.hostname", "dhcp.ip.your",
              "dhcp.option.requested_ip_address", "dhcp.option.vendor_class_id"]
    cmd = ["tshark", "-n", "-r", path, "-Y", "dhcp", "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=f"]
    for f in fields:
        cmd += ["-e", f]
    res = subprocess.run(cmd, capture_output=True, text=True, errors="surrogateescape")
    blank = False
    for line in res.stdout.splitlines():
        op, mac, host, your, req, vendor = (line.split("\t") + [""] * 6)[:6]
        if not op:
            blank = True  # dissected to nothing
            continue
        for k, v in (("mac", mac), ("host_name", host), ("requested_addr", req),
                     ("client_software", vendor)):
            if v:
                out[k].add(v)
        if op == "2" and your and your != "0.0.0.0":
            out["assigned_addr"].add(your)
    return out, blank


def main():
    capsift, files = sys.argv[1], sys.argv[2:]
    bad, total = 0, 0
    def both(path):
        res = subprocess.run([capsift, "meta", "--no-cache", "--json", "-p", "dhcp", path],
                             capture_output=True, text=True, errors="surrogateescape")
        return tshark_values(path), res
    with concurrent.futures.ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1))) as pool:
        results = list(pool.map(both, files))  # the work is in subprocesses
    for path, ((t, blank), res) in zip(files, results):
        c = {k: set() for k in KEYS}
        for r in map(json.loads, res.stdout.splitlines()):
            for k in KEYS:
                if r[k] is not None:
                    c[k].add(r[k])
        for k in KEYS:
            total += len(c[k] & t[k])
            if t[k] - c[k] or (c[k] - t[k] and not blank):
                bad += 1
                print(f"{path}: {k}: tshark {sorted(t[k])}, capsift {sorted(c[k])}")
    print(f"dhcp values the same in tshark and capsift: {total}")
    return 1 if bad or total == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
