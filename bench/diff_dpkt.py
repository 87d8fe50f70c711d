#!/usr/bin/env python3
"""The naive peer of `capsift diff A B`: the python3-dpkt flow tables of both captures
(flows_dpkt.py) compared as sets, and the bytes of the flows on both sides against a
threshold, as a script written for the question would do it."""
import sys

from flows_dpkt import flow_table


def main(a_path, b_path, threshold=100.0):
    a, b = flow_table(a_path), flow_table(b_path)
    hosts_a = {h for k in a for h in (k[0][0], k[1][0])}
    hosts_b = {h for k in b for h in (k[0][0], k[1][0])}
    changed = 0
    for k in a.keys() & b.keys():
        x, y = a[k][1], b[k][1]
        if y > x * (1 + threshold / 100) or y < x / (1 + threshold / 100):
            changed += 1
    print(f"flows only_a {len(a.keys() - b.keys())} only_b {len(b.keys() - a.keys())} "
          f"changed {changed}; hosts only_a {len(hosts_a - hosts_b)} only_b {len(hosts_b - hosts_a)}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
