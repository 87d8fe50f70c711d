#!/usr/bin/env python3
"""The naive peer of `capsift flows`: a python3-dpkt loop keyed by the bidirectional 5-tuple
(packets and bytes per flow), as a typical Python capture analyser does it."""
import socket
import sys

import dpkt


def flow_table(path):
    """{(low end, high end, protocol): [packets, bytes, first ts, last ts]}"""
    flows = {}
    with open(path, "rb") as f:
        for ts, buf in dpkt.pcap.Reader(f):
            try:
                eth = dpkt.ethernet.Ethernet(buf)
            except dpkt.dpkt.UnpackError:
                continue
            ip = eth.data
            if not isinstance(ip, (dpkt.ip.IP, dpkt.ip6.IP6)):
                continue
            l4 = ip.data
            sport = getattr(l4, "sport", 0)
            dport = getattr(l4, "dport", 0)
            a, b = (ip.src, sport), (ip.dst, dport)
            key = (a, b, ip.p) if a <= b else (b, a, ip.p)
            st = flows.get(key)
            if st is None:
                flows[key] = st = [0, 0, ts, ts]
            st[0] += 1
            st[1] += len(buf)
            st[3] = ts
    return flows


def main(path):
    print(len(flow_table(path)), "flows")


if __name__ == "__main__":
    main(sys.argv[1])
