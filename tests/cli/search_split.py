#!/usr/bin/env python3
"""Writes a small pcap of one TCP connection whose data exercises stream search:
  1-3  the handshake (client 10.0.0.1:40000 -> server 10.0.0.2:80)
  4    "GET /?q=SECRET-"                  the pattern SECRET-TOKEN begins here ...
  5    "TOKEN HTTP/1.1\\r\\n"              ... and ends here (offset -7)
  6    the same as 5 again                 a retransmission: its bytes are not searched twice
  7    "Late ALONE-MARK "                  after a gap: the segment before it comes late, so
                                       the stream starts again here
  8    "Host: b\\r\\n\\r\\n"               the late segment, inside the gap: searched alone
  9    "tail ALONE-"                       continues 7
  10   "MARK"                              after 100 lost bytes: not joined to 9
Usage: search_split.py OUT.pcap
"""
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def packet(src, sport, dst, dport, seq, ack, flags, data=b""):
    sip, dip = bytes(map(int, src.split("."))), bytes(map(int, dst.split(".")))
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + data
    pseudo = sip + dip + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, sip, dip)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = b"\x00\x11\x22\x33\x44\x55" + b"\x66\x77\x88\x99\xaa\xbb" + b"\x08\x00"
    return eth + ip + tcp


def main():
    c, s = ("10.0.0.1", 40000), ("10.0.0.2", 80)
    cs, ss = 1000, 5000  # initial sequence numbers
    SYN, ACK, PSH = 0x02, 0x10, 0x08
    seg = [b"GET /?q=SECRET-", b"TOKEN HTTP/1.1\r\n", b"Host: b\r\n\r\n", b"Late ALONE-MARK ",
           b"tail ALONE-", b"MARK"]
    o = [cs + 1]
    for d in seg:
        o.append(o[-1] + len(d))
    pkts = [
        packet(*c, *s, cs, 0, SYN),
        packet(*s, *c, ss, cs + 1, SYN | ACK),
        packet(*c, *s, cs + 1, ss + 1, ACK),
        packet(*c, *s, o[0], ss + 1, ACK | PSH, seg[0]),
        packet(*c, *s, o[1], ss + 1, ACK | PSH, seg[1]),
        packet(*c, *s, o[1], ss + 1, ACK | PSH, seg[1]),
        packet(*c, *s, o[3], ss + 1, ACK | PSH, seg[3]),  # "Late ..." is segment 4
        packet(*c, *s, o[2], ss + 1, ACK | PSH, seg[2]),  # segment 3 arrives late
        packet(*c, *s, o[4], ss + 1, ACK | PSH, seg[4]),
        packet(*c, *s, o[5] + 100, ss + 1, ACK | PSH, seg[5]),  # 100 bytes lost before it
    ]
    with open(sys.argv[1], "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, p in enumerate(pkts):
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(p), len(p)))
            f.write(p)


if __name__ == "__main__":
    main()
