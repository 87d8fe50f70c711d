#!/usr/bin/env python3
"""Clustering quality of `capsift cluster` against tshark's dissection.

Each packet tshark dissects as PROTO gets a true type: the values of the label fields
(the first occurrence of each), and, with --direction PORT, whether it went to that port
(a request) or came from it (a response). capsift's cluster of each packet comes from
`capsift cluster --json --members`. Prints homogeneity, completeness and V-measure over the
packets both have (scikit-learn's definitions, computed here), one JSON line.

usage: cluster_quality.py CAPSIFT PROTO FIELD[,FIELD...] [--direction PORT] FILE... [-- OPTS]
"""
import json
import math
import subprocess
import sys
from collections import Counter


def entropy(counts, n):
    return -sum(c / n * math.log(c / n) for c in counts.values() if c)


def scores(pairs):
    n = len(pairs)
    if n == 0:
        return 1.0, 1.0, 1.0
    truth = Counter(t for t, _ in pairs)
    pred = Counter(p for _, p in pairs)
    joint = Counter(pairs)
    h_k, h_c = entropy(truth, n), entropy(pred, n)
    h_k_given_c = -sum(v / n * math.log(v / pred[p]) for (t, p), v in joint.items())
    h_c_given_k = -sum(v / n * math.log(v / truth[t]) for (t, p), v in joint.items())
    hom = 1.0 if h_k == 0 else 1 - h_k_given_c / h_k
    com = 1.0 if h_c == 0 else 1 - h_c_given_k / h_c
    v = 0.0 if hom + com == 0 else 2 * hom * com / (hom + com)
    return hom, com, v


def labels(path, proto, fields, port):
    cmd = ['tshark', '-n', '-r', path, '-Y', proto, '-T', 'fields', '-E', 'separator=\t',
           '-E', 'occurrence=f', '-e', 'frame.number', '-e', 'tcp.dstport', '-e', 'udp.dstport']
    for f in fields:
        cmd += ['-e', f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    got = {}
    for line in out.splitlines():
        c = line.split('\t')
        label = '/'.join(c[3:])
        if port is not None:
            label += '/request' if (c[1] or c[2]) == str(port) else '/response'
        got[int(c[0])] = label
    return got


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    capsift, proto, fields = argv[1], argv[2], argv[3].split(',')
    rest = argv[4:]
    port = None
    if rest and rest[0] == '--direction':
        port, rest = int(rest[1]), rest[2:]
    opts = []
    if '--' in rest:
        i = rest.index('--')
        rest, opts = rest[:i], rest[i + 1:]
    files = rest
    truth = {f: labels(f, proto, fields, port) for f in files}
    out = subprocess.run([capsift, 'cluster', '--json', '--members'] + opts + files,
                         capture_output=True, text=True)
    if out.returncode not in (0, 1):
        sys.exit('capsift cluster failed: ' + out.stderr)
    lines = out.stdout.splitlines()
    pairs = []
    clusters = 0
    for line in lines[1:]:
        c = json.loads(line)
        clusters += 1
        for f, n in c['packets']:
            t = truth.get(f, {}).get(n)
            if t is not None:
                pairs.append((t, c['id']))
    h, c, v = scores(pairs)
    print(json.dumps({'proto': proto, 'packets': len(pairs),
                      'types': len(set(t for t, _ in pairs)), 'clusters': clusters,
                      'homogeneity': round(h, 4), 'completeness': round(c, 4),
                      'v_measure': round(v, 4)}))


if __name__ == '__main__':
    main(sys.argv)
