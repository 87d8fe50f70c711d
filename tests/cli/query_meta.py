# The metadata terms of capsift query against the metadata itself: for values taken from the
# rows `capsift flows --json` gives each flow, the flows a query selects from an index of the same
# files must be exactly those with a matching row, worked out here independently (names on
# labels, case rules, contains, globs, the SSH software part).
#
#   query_meta.py CAPSIFT DB FILE...   (DB indexed from exactly these files)
# Exit status 0 when every query agrees, 1 with the differences on stderr.
import fnmatch, json, os, re, subprocess, sys
from concurrent.futures import ThreadPoolExecutor

PER_TERM = 25  # values tried per term, spread over the sorted distinct values


def flow_key(f):
    return (os.path.realpath(f["file"]), f["src"], f["sport"], f["dst"], f["dport"], f["proto"],
            f["first_ts"])


def name_norm(v, http=False):
    v = re.sub(r"[A-Z]", lambda m: m.group(0).lower(), v)
    if http:
        if v.startswith("["):
            v = v[1:v.index("]")] if "]" in v else ""
        elif v.count(":") == 1:
            v = v.split(":")[0]
    if len(v) > 1 and v.endswith(".") and not v.endswith("\\."):
        v = v[:-1]
    return v


def labels_under(name, suffix):
    """name is under suffix by one label at least ("*.suffix")."""
    return name.endswith("." + suffix)


def lower_ascii(s):
    return re.sub(r"[A-Z]", lambda m: m.group(0).lower(), s)


def spread(values):
    v = sorted(values)
    if len(v) <= PER_TERM:
        return v
    return [v[i * len(v) // PER_TERM] for i in range(PER_TERM)]


def main():
    capsift, db, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    out = subprocess.run([capsift, "flows", "--no-cache", "--json", *files],
                         capture_output=True, text=True)
    flows = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
    rows = [(flow_key(f), r) for f in flows for r in (f.get("meta") or [])]
    for k, r in rows:
        r["_flow"] = k  # for the terms that combine with the flow's own fields

    def names(r):
        """(kind, name) pairs of a row: what the names table holds."""
        if r["proto"] == "dns":
            for q in [r.get("query")] + (r.get("more_queries") or []):
                if q:
                    yield "dns", name_norm(q)
        elif r["proto"] == "tls":
            if r.get("server_name"):
                yield "sni", name_norm(r["server_name"])
            for n in r.get("san_dns") or []:
                yield "cert.san", name_norm(n)
        elif r["proto"] == "http" and r.get("host"):
            yield "http.host", name_norm(r["host"], http=True)

    cases = []  # (expression, predicate over a row)
    by_kind = {}
    for _, r in rows:
        for k, n in names(r):
            by_kind.setdefault(k, set()).add(n)
    for kind, values in sorted(by_kind.items()):
        cases.append((f"{kind} '*'", lambda r, k=kind: any(kk == k for kk, _ in names(r))))
        for n in spread(values):
            if any(c in n for c in "*?"):  # a name asked for with a '*' is a pattern here
                continue
            up = n.upper()  # any case, a trailing dot: the same name
            cases.append((f"{kind} '{up}.'" if not n.endswith(".") else f"{kind} '{up}'",
                          lambda r, k=kind, n=n: (k, n) in names(r)))
            cases.append((f"name '{n}'", lambda r, n=n: any(x == n for _, x in names(r))))
            parts = n.split(".")
            if len(parts) >= 3:
                suffix = ".".join(parts[-2:])
                cases.append((f"{kind} '*.{suffix}'",
                              lambda r, k=kind, s=suffix: any(
                                  kk == k and labels_under(x, s) for kk, x in names(r))))
                first, rest = n.split(".", 1)
                if len(first) > 2 and "\\" not in n:
                    lab = first[:2] + "*"  # inside a label: never across a dot
                    cases.append((f"{kind} '{lab}.{rest}'",
                                  lambda r, k=kind, lab=lab, rest=rest: any(
                                      kk == k and "." in x and x.split(".", 1)[1] == rest
                                      and fnmatch.fnmatchcase(x.split(".", 1)[0], lab)
                                      for kk, x in names(r))))

    def text_values(proto, field):
        return {r[field] for _, r in rows if r["proto"] == proto and r.get(field)}

    for term, proto, field in [("uri", "http", "uri"), ("ua", "http", "user_agent"),
                               ("http.method", "http", "method"),
                               ("cert.subject", "tls", "subject"),
                               ("cert.issuer", "tls", "issuer")]:
        for v in spread(text_values(proto, field)):
            if "'" in v:
                continue
            glob = any(c in v for c in "*?[")
            if not glob:
                cases.append((f"{term} '{v}'",
                              lambda r, p=proto, f=field, v=v: r["proto"] == p and r.get(f) == v))
            piece = v[len(v) // 3: len(v) // 3 + 6]
            if piece.strip() and "'" not in piece:
                cases.append((f"{term} contains '{piece.swapcase()}'",
                              lambda r, p=proto, f=field, s=piece: r["proto"] == p and r.get(f)
                              and lower_ascii(s) in lower_ascii(r[f])))
    for term, proto, field in [("ja3", "tls", "ja3"), ("ja3s", "tls", "ja3s"),
                               ("hassh", "ssh", "hassh"), ("hassh.server", "ssh", "hasshServer"),
                               ("cert.sha1", "tls", "cert_sha1")]:
        for v in spread(text_values(proto, field)):
            cases.append((f"{term} {v.upper()}",
                          lambda r, p=proto, f=field, v=v: r["proto"] == p and r.get(f) == v))
    for term, field in [("ssh.client", "client"), ("ssh.server", "server")]:
        for v in spread(text_values("ssh", field)):
            m = re.match(r"SSH-[^-]*-(.*)", v)
            soft = m.group(1) if m else v
            if any(c in soft for c in "*?['"):
                continue
            pat = soft[:6] + "*"
            cases.append((f"{term} '{pat}'",
                          lambda r, f=field, pat=pat: r["proto"] == "ssh" and r.get(f) and (
                              fnmatch.fnmatchcase(r[f], pat) or
                              fnmatch.fnmatchcase(r[f], "SSH-*-" + pat))))
    # combined with the flow terms: DNS over TCP, names of flows to port 443
    cases.append(("dns '*' and not udp",
                  lambda r: r["proto"] == "dns" and r["_flow"][5] != "udp" and any(names(r))))
    cases.append(("name '*' and port 443",
                  lambda r: any(names(r)) and 443 in (r["_flow"][2], r["_flow"][4])))

    def run(case):
        expr, pred = case
        want = {k for k, r in rows if pred(r)}
        q = subprocess.run([capsift, "query", "--db", db, "--json", expr],
                           capture_output=True, text=True)
        if q.returncode != 0:
            return expr, None, q.stderr.strip()
        got = {flow_key(json.loads(l)) for l in q.stdout.splitlines() if l.startswith("{")}
        return expr, want, got

    bad = 0
    with ThreadPoolExecutor(max_workers=4) as ex:
        results = list(ex.map(run, cases))
    for expr, want, got in results:
        if want is None:
            print(f"{expr}: {got}", file=sys.stderr)
            bad += 1
        elif want != got:
            bad += 1
            print(f"{expr}: {len(want)} flows with such a row, query gave {len(got)}; "
                  f"missing {sorted(want - got)[:2]}, extra {sorted(got - want)[:2]}",
                  file=sys.stderr)
    matched = sum(1 for _, w, g in results if w and w == g)
    print(f"{len(results)} queries, {matched} with matches, {bad} differ")
    if matched < len(results) // 2:
        print("too few queries matched anything: the comparison proves little", file=sys.stderr)
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
