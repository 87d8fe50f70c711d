# TLS server certificates: capsift meta against tshark, which reassembles TCP. For each flow,
# the SHA-1 of the first certificate of the server's Certificate message (tshark's
# tls.handshake.certificate, hashed here) must be capsift's cert_sha1; the fields capsift
# decodes from it are checked against Python's own X.509 decoder (OpenSSL's) on the bytes tshark
# gave: subject and issuer attributes, the DNS names of the subject alternative name, the
# validity dates.
#
#   meta_cert_tshark.py CAPSIFT FILE...
# Exit status 0 when they agree, 1 with the differences on stderr.
import datetime, hashlib, json, os, ssl, subprocess, sys, tempfile
from concurrent.futures import ThreadPoolExecutor


def tshark_certs(path):
    """{(server port, client port): DER of the first certificate} per flow."""
    out = subprocess.run(
        ["tshark", "-n", "-r", path, "-Y", "tls.handshake.type == 2 || tls.handshake.type == 11",
         "-T", "fields", "-e", "frame.number", "-e", "tcp.srcport", "-e", "tcp.dstport", "-e",
         "tls.handshake.type", "-e", "tls.handshake.certificate"],
        capture_output=True, text=True)
    certs, servers = {}, set()
    for line in out.stdout.splitlines():
        f = line.split("\t")
        if len(f) < 5 or not f[1]:
            continue  # DTLS (no TCP ports), which capsift does not read certificates from
        # flows by their ports (addresses differ in tunnels and anonymised files)
        key = (int(f[1].split(",")[-1]), int(f[2].split(",")[-1]))
        types = f[3].split(",")
        if "2" in types:
            servers.add(key)
        if "11" in types and f[4] and key in servers:  # a client's certificate is not asked for
            certs.setdefault(key, bytes.fromhex(f[4].split(",")[0].replace(":", "")))
    return certs


def capsift_tls(capsift, paths):
    """capsift's TLS rows of every file, in one run: {file: [row...]}."""
    out = subprocess.run([capsift, "meta", "--no-cache", "-p", "tls", "--json", *paths],
                         capture_output=True, text=True)
    rows = {}
    for line in out.stdout.splitlines():
        r = json.loads(line)
        rows.setdefault(r["file"], []).append(r)
    return rows


def capsift_certs(rows):
    """{(server port, client port): row} of the rows with a certificate."""
    certs = {}
    for r in rows:
        if r.get("cert_sha1"):
            certs.setdefault((r["dport"], r["sport"]), r)
    return certs


def decoded(der):
    """Python's view of a certificate (OpenSSL underneath), or None."""
    with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as t:
        t.write(ssl.DER_cert_to_PEM_cert(der))
    try:
        return ssl._ssl._test_decode_cert(t.name)
    except Exception:
        return None
    finally:
        os.unlink(t.name)


SHORT = {"commonName": "CN", "organizationName": "O", "countryName": "C", "localityName": "L",
         "stateOrProvinceName": "ST", "organizationalUnitName": "OU",
         "emailAddress": "emailAddress", "domainComponent": "DC", "serialNumber": "serialNumber"}


def attrs(rdns):
    """Python's subject/issuer as a set of "X=value", for the attributes capsift names."""
    return {f"{SHORT[k]}={v}" for rdn in rdns for k, v in rdn if k in SHORT}


def unescape(s):
    """capsift's RFC 4514 text back into attribute values: split at unescaped ',' and '+'."""
    parts, cur, i = [], "", 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            nxt = s[i + 1:i + 3]
            if all(ch in "0123456789ABCDEF" for ch in nxt) and len(nxt) == 2:
                cur += chr(int(nxt, 16))
                i += 3
                continue
            cur += s[i + 1]
            i += 2
            continue
        if c in ",+":
            parts.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    parts.append(cur)
    return {p for p in parts if p.split("=", 1)[0] in SHORT.values()}


def iso(t):
    return datetime.datetime.fromtimestamp(ssl.cert_time_to_seconds(t), datetime.timezone.utc) \
        .strftime("%Y-%m-%dT%H:%M:%SZ")


# TLS inside tunnels capsift does not open (docs/capsift-meta.md)
TUNNELS = ("openvpn", "capwap")


def check(path, rows):
    want, got = tshark_certs(path), capsift_certs(rows)
    bad, only = [], []
    if any(t in os.path.basename(path) for t in TUNNELS):
        return len(want), [], []
    for key, der in sorted(want.items()):
        sha1 = hashlib.sha1(der).hexdigest()
        r = got.get(key)
        if not r:
            bad.append(f"{path}: {key}: no certificate (tshark: {sha1})")
            continue
        if r["cert_sha1"] != sha1:
            bad.append(f"{path}: {key}: sha1 {r['cert_sha1']}, tshark {sha1}")
            continue
        d = decoded(der)
        if d is None:
            continue  # Python cannot read it either
        for field in ("subject", "issuer"):
            if unescape(r[field] or "") != attrs(d.get(field, ())):
                bad.append(f"{path}: {key}: {field} {r[field]!r}, python {attrs(d.get(field, ()))}")
        sans = sorted(v for k, v in d.get("subjectAltName", ()) if k == "DNS")
        mine = r["san_dns"] or []
        if len(sans) <= 64 and sorted(mine) != sans:
            bad.append(f"{path}: {key}: san {mine[:3]}..., python {sans[:3]}...")
        for field, py in (("not_valid_before", "notBefore"), ("not_valid_after", "notAfter")):
            if py in d and r[field] != iso(d[py]):
                bad.append(f"{path}: {key}: {field} {r[field]}, python {iso(d[py])}")
    # tshark dissects a Certificate message once the whole message is there, on ports it takes
    # for TLS; capsift reads the server's own certificate (the first) once its bytes are in, on
    # any port: these it has alone (docs/capsift-meta.md)
    only = [f"{path}: {k}: {got[k]['subject']}" for k in got if k not in want]
    return len(want), bad, only


def main():
    capsift, files = sys.argv[1], sys.argv[2:]
    tls = capsift_tls(capsift, files)
    # tshark only where capsift saw a ServerHello: meta_tshark.py compares the hellos (JA3S)
    # themselves on every file, so a file whose hello capsift missed fails there
    hello = [f for f in files if any(r.get("version") for r in tls.get(f, []))]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        results = list(ex.map(lambda f: check(f, tls.get(f, [])), hello))
    total = sum(n for n, _, _ in results)
    bad = [b for _, bs, _ in results for b in bs]
    only = [o for _, _, os_ in results for o in os_]
    for b in bad:
        print(b, file=sys.stderr)
    for o in only:
        print(f"capsift only: {o}")
    print(f"{total} certificates in {len(files)} files, {len(bad)} differences, "
          f"{len(only)} that tshark does not dissect")
    if total == 0:
        print("no certificates: the comparison proves nothing", file=sys.stderr)
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
