#!/usr/bin/env python3
"""The naive peer of `capsift search --per-packet`: a python3-dpkt loop testing each TCP and
UDP payload for each pattern with `in` (literal patterns, one per line of PATTERNS), printing
the number of (packet, pattern) hits, as a typical Python script does it."""
import sys

import dpkt


def main(path, patterns):
    with open(patterns, "rb") as f:
        pats = [line.rstrip(b"\n") for line in f if line.strip()]
    hits = 0
    with open(path, "rb") as f:
        for _, buf in dpkt.pcap.Reader(f):
            try:
                ip = dpkt.ethernet.Ethernet(buf).data
            except dpkt.dpkt.UnpackError:
                continue
            if not isinstance(ip, (dpkt.ip.IP, dpkt.ip6.IP6)):
                continue
            l4 = ip.data
            if not isinstance(l4, (dpkt.tcp.TCP, dpkt.udp.UDP)):
                continue
            data = bytes(l4.data)
            if data:
                hits += sum(p in data for p in pats)
    print(hits)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
