# info_notes.py CAPSIFT FILE...: what capsift info --json says a pcapng file says of itself
# equals capinfos' lines (section hardware, OS, application, comment; each interface's name,
# description, capture filter, OS and number of statistics blocks) and tshark's frame
# comments (their frame numbers, texts and count). Files of one section only (capinfos lists
# every interface under each section) that capinfos reads. Prints a line per file checked;
# exits 1 on a difference or when no file had notes to compare.
import json, re, subprocess, sys

capsift, files = sys.argv[1], sys.argv[2:]


def capinfos(path):
    p = subprocess.run(["capinfos", path], capture_output=True, text=True)
    if p.returncode != 0:
        return None, None  # a file capinfos refuses (capsift reads it up to the damage)
    out = p.stdout
    sec = {}
    for key, field in (("Capture hardware", "hardware"), ("Capture oper-sys", "os"),
                       ("Capture application", "application"), ("Capture comment", "comment")):
        m = re.search(r"^%s: +(.*)$" % re.escape(key), out, re.M)
        sec[field] = m.group(1).rstrip() if m else None
    ifaces = []
    for block in re.split(r"^Interface #\d+ info:\n", out, flags=re.M)[1:]:
        def get(k):
            m = re.search(r"^ +%s = (.*)$" % re.escape(k), block, re.M)
            return m.group(1).rstrip() if m else None
        n = get("Number of stat entries")
        ifaces.append({"name": get("Name"), "description": get("Description"),
                       "filter": get("Filter string"), "os": get("Operating system"),
                       "stats": int(n) if n else 0})
    return sec, ifaces


def tshark_comments(path):
    out = subprocess.run(["tshark", "-r", path, "-Y", "frame.comment", "-T", "fields", "-e",
                          "frame.number", "-e", "frame.comment"], capture_output=True,
                         text=True).stdout
    rows = []
    for line in out.splitlines():
        num, _, texts = line.partition("\t")
        for t in texts.split(","):  # several comments of one frame
            rows.append((int(num), t))
    return rows


bad = checked = 0
for path in files:
    p = subprocess.run([capsift, "info", "--json", "--no-cache", path], capture_output=True,
                       text=True)
    info = json.loads(p.stdout.splitlines()[0])
    if info.get("sections") != 1 or info["status"] == "error":
        continue
    want_sec, want_if = capinfos(path)
    if want_sec is None:
        continue
    got_sec = info["section_notes"][0] if info["section_notes"] else {}
    got_if = [{"name": f["name"], "description": f["description"], "filter": f["filter"],
               "os": f["os"], "stats": f["statistics"]["blocks"] if f["statistics"] else 0}
              for f in info["interface_notes"]]
    wrong = []
    def same(want, got):  # capinfos prints a value up to its first line break
        if want is None or got is None:
            return want == got
        return got == want or (len(got) == 255 and want.startswith(got)) or \
            (len(want) < len(got) and got.startswith(want))
    for k, v in want_sec.items():
        if not same(v, got_sec.get(k) or None):
            wrong.append(f"section {k}: capinfos {v!r}, capsift {got_sec.get(k)!r}")
    if len(got_if) != len(want_if) or not all(
            w["stats"] == g["stats"] and all(same(w[k], g[k]) for k in w if k != "stats")
            for w, g in zip(want_if, got_if)):
        wrong.append(f"interfaces: capinfos {want_if}, capsift {got_if}")
    want_c = tshark_comments(path)
    got_c = [(c["packet"], c["text"]) for c in info["comments"]]
    if info["comments_total"] != len(want_c) or got_c != want_c[:len(got_c)] or \
            len(got_c) != min(16, len(want_c)):
        wrong.append(f"comments: tshark {len(want_c)} {want_c[:3]}, capsift "
                     f"{info['comments_total']} {got_c[:3]}")
    for w in wrong:
        print(f"  {path}: {w}", file=sys.stderr)
    print(f"{path}: {len(wrong)} differences")
    bad += len(wrong) > 0
    checked += any(want_sec.values()) or any(any(f.values()) for f in want_if)
sys.exit(1 if bad or not checked else 0)
