#!/usr/bin/env python3
"""Writes a pcap of N single-packet UDP flows (distinct source addresses and ports, no
payload): the worst case for flow tables, as in a scan. Usage: make_flows_capture.py OUT N"""
import struct, sys
n = int(sys.argv[2])
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    eth = bytes.fromhex('001122334455' '66778899aabb' '0800')
    out = []
    for i in range(n):
        src = 0x0a000000 | (i >> 8 & 0xffff) << 8 | (i & 0xff)
        ip = struct.pack('>BBHHHBBHII', 0x45, 0, 28, 0, 0, 64, 17, 0, src, 0xc0a80001)
        udp = struct.pack('>HHHH', 1024 + (i >> 24), 53, 8, 0)
        pkt = eth + ip + udp
        out.append(struct.pack('<IIII', 1700000000 + i // 100000, i % 1000000, len(pkt), len(pkt)) + pkt)
        if len(out) == 100000:
            f.write(b''.join(out)); out = []
    f.write(b''.join(out))
