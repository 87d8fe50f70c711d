# l2conv.py CAPSIFT FILE...: capsift flows --layer2 gives, per pair of MAC addresses, the
# frames and bytes tshark -z conv,eth gives for the frames without IP (capsift keeps one flow
# per EtherType of a pair: they are added up here). Exits 1 on a difference.
import collections, json, re, subprocess, sys

capsift, files = sys.argv[1], sys.argv[2:]
bad = pairs = 0
for path in files:
    out = subprocess.run(["tshark", "-n", "-r", path, "-q", "-z", "conv,eth,not ip and not ipv6"],
                         capture_output=True, text=True).stdout
    want = {}
    unit = {"bytes": 1, "kB": 1000, "MB": 1000000}  # tshark truncates larger counts to these
    for m in re.finditer(r"^(\S+)\s+<->\s+(\S+)\s+\d+ \d+ \S+\s+\d+ \d+ \S+\s+(\d+) (\d+) (\S+)",
                         out, re.M):
        want[tuple(sorted(m.group(1, 2)))] = (int(m.group(3)), int(m.group(4)), unit[m.group(5)])
    got = collections.defaultdict(lambda: [0, 0])
    out = subprocess.run([capsift, "flows", "--layer2", "--no-cache", "--json", path],
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        r = json.loads(line)
        if r["sport"] is None:  # a layer-2 flow
            g = got[tuple(sorted((r["src"], r["dst"])))]
            g[0] += r["packets"]
            g[1] += r["bytes"]
    got = {k: (v[0], v[1] // want[k][2] if k in want else v[1], want[k][2] if k in want else 1)
           for k, v in got.items()}
    wrong = [(k, want.get(k), got.get(k)) for k in set(want) | set(got) if want.get(k) != got.get(k)]
    for k, w, g in wrong[:5]:
        print(f"  {path}: {k}: tshark {w}, capsift {g}", file=sys.stderr)
    print(f"{path}: {len(want)} MAC pairs, {len(wrong)} differ")
    bad += len(wrong) > 0
    pairs += len(want)
sys.exit(1 if bad or not pairs else 0)
