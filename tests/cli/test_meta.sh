#!/usr/bin/env bash
# capsift meta: DNS, HTTP, TLS and SSH values against tshark's fields (meta_tshark.py) on the
# bundled captures and the traffic and application corpus; fields and pairing on a known capture; options and
# bad input; no crash on the malformed corpus.
. "$(dirname "$0")/lib.sh"
HERE=$(dirname "$0")
files=("$CAPS"/*.pcap*)
if have_shared; then files+=("$SHARED"/traffic/*); fi
agree=("${files[@]}")
# the application captures too, once (values do not change under the sanitizers, which the
# conformance test and the malformed corpus below run meta under)
if have_shared && [ "${SIFT_SANITIZE:-OFF}" != ON ]; then agree+=("$SHARED"/apps/*); fi
if command -v tshark >/dev/null; then
    python3 "$HERE/meta_tshark.py" "$CAPSIFT" "${agree[@]}" >"$TMP/agree" 2>&1 && pass ||
        { fail "capsift meta and tshark differ"; grep -v '^[a-z.]*: tshark' "$TMP/agree" | head -20 >&2; }
    # the comparison itself can fail: a lower-cased URI is a difference
    python3 - "$HERE/meta_tshark.py" "$CAPSIFT" "$CAPS/dpkt--http.pcap" <<'PY' && pass || fail "the tshark comparison cannot fail"
import importlib.util, sys
spec = importlib.util.spec_from_file_location("m", sys.argv[1]); m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
real = m.capsift_values
def mutated(capsift, path):
    out, err, rc = real(capsift, path)
    out["http.request.uri"] = {(f, v.upper()) for f, v in out["http.request.uri"]}
    return out, err, rc
m.capsift_values = mutated
sys.argv = ["x", sys.argv[2], sys.argv[3]]
sys.exit(0 if m.main() == 1 else 1)
PY
fi

# TLS server certificates against tshark (which reassembles TCP) and Python's X.509 decoder
if command -v tshark >/dev/null; then
    python3 "$HERE/meta_cert_tshark.py" "$CAPSIFT" "${agree[@]}" >"$TMP/certs" 2>&1 && pass ||
        { fail "capsift meta's certificates and tshark's differ"; grep -v '^capsift only' "$TMP/certs" | head -20 >&2; }
    # the comparison can fail: a certificate's SHA-1 changed is a difference
    python3 - "$HERE/meta_cert_tshark.py" "$CAPSIFT" "$CAPS/arkime--arkime_synthetic.pcap" <<'PY' && pass || fail "the certificate comparison cannot fail"
import importlib.util, sys
spec = importlib.util.spec_from_file_location("m", sys.argv[1]); m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
real = m.capsift_certs
def mutated(rows):
    rows = real(rows)
    for r in rows.values():
        r["cert_sha1"] = "0" * 40
    return rows
m.capsift_certs = mutated
sys.argv = ["x", sys.argv[2], sys.argv[3]]
sys.exit(0 if m.main() == 1 else 1)
PY
fi

# DHCP against tshark, on the corpus captures with DHCP
if have_shared && command -v tshark >/dev/null; then
    python3 "$HERE/meta_dhcp_tshark.py" "$CAPSIFT" "$SHARED"/formats/pcapng-testgen--* \
        "$SHARED"/formats/gopacket--le-test902.pcapng \
        "$SHARED"/apps/{android,iphone,teams,signal,wa_voice,whatsapp_login_call}.pcap >"$TMP/dhcp" 2>&1 &&
        pass || { fail "capsift meta -p dhcp and tshark differ"; head -20 "$TMP/dhcp" >&2; }
fi
# one HTTP request with its response, and the DNS transaction, of dpkt--http.pcap
expect_exit 0 "$CAPSIFT" meta --no-cache --json "$CAPS/dpkt--http.pcap"
python3 - "$TMP/out" <<'PY' && pass || fail "dpkt--http.pcap rows"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
dns = [r for r in rows if r["proto"] == "dns"]
http = [r for r in rows if r["proto"] == "http"]
assert len(dns) == 1 and dns[0]["query"] == "pagead2.googlesyndication.com", dns
assert dns[0]["answers"][-1] == "216.239.59.99" and dns[0]["rcode_name"] == "NOERROR"
assert dns[0]["rtt"] > 0 and dns[0]["qtype_name"] == "A"
h = [r for r in http if r["host"] == "www.ethereal.com"][0]
assert h["method"] == "GET" and h["uri"] == "/download.html" and h["status_code"] == 200, h
assert h["response_body_len"] == 18070 and h["dport"] == 80, h
PY
# body lengths count a retransmitted segment once and stop at the Content-Length: 816,896
# bytes in a capture with 56 retransmissions (zeek--206_example_b.pcap), a response of 471
# sent twice, a response of length 0 whose segment came again
body_len() { # FILE SPORT: the response body lengths of the HTTP rows from client port SPORT
    "$CAPSIFT" meta --no-cache -p http --json "$1" 2>/dev/null |
        python3 -c 'import json, sys
print(" ".join(str(r["response_body_len"]) for r in map(json.loads, sys.stdin) if r["sport"] == int(sys.argv[1])))' "$2"
}
[ "$(body_len "$CAPS/zeek--206_example_b.pcap" 3254)" = "816896 206024" ] && pass ||
    fail "206_example_b.pcap body lengths: $(body_len "$CAPS/zeek--206_example_b.pcap" 3254)"
if have_shared; then
    [ "$(body_len "$SHARED/traffic/suricata-verify--tls-subjectaltname--input.pcap" 60066)" = 471 ] &&
        pass || fail "a retransmitted response counted twice"
    [ "$(body_len "$SHARED/traffic/pcapplusplus--example2.pcap" 55203)" = "14817 0 0" ] &&
        pass || fail "example2.pcap body lengths: Content-Length, 0 and a 304"
fi
# TLS fingerprints as tshark computes them, from a bundled capture
expect_exit 0 "$CAPSIFT" meta --no-cache -p tls --csv "$CAPS/ndpi--dtls.pcap"
head -1 "$TMP/out" | grep -q '^proto,file,ts,time,src' && pass || fail "meta --csv header"
# flows --json gives each flow its transactions: every row of meta in exactly one flow, at the
# flow with its addresses and ports; --no-meta leaves them out
python3 - "$CAPSIFT" "${files[@]}" <<'PY' && pass || fail "flows --json metadata differs from meta's rows"
import json, subprocess, sys
capsift, files = sys.argv[1], sys.argv[2:]
def lines(*args):
    out = subprocess.run([capsift, *args, "--no-cache", "--json", *files], capture_output=True, text=True).stdout
    return [json.loads(l) for l in out.splitlines()]
flow_keys = ("file", "src", "sport", "dst", "dport", "transport", "rtt")
want = sorted(json.dumps({**{k: v for k, v in r.items() if k not in flow_keys}, "at": [r[k] for k in flow_keys[:5]]}, sort_keys=True)
              for r in lines("meta"))
got = sorted(json.dumps({**m, "at": [f[k] for k in flow_keys[:5]]}, sort_keys=True)
             for f in lines("flows", "--no-app") for m in f["meta"])
assert want and want == got, (len(want), len(got), [x for x in want if x not in got][:2], [x for x in got if x not in want][:2])
assert all("meta" not in f for f in lines("flows", "--no-app", "--no-meta"))
PY
# the options
expect_exit 2 "$CAPSIFT" meta --csv "$CAPS/dpkt--http.pcap"
grep -q "needs one --proto" "$TMP/err" && pass || fail "--csv without --proto"
expect_exit 2 "$CAPSIFT" meta -p dnss "$CAPS/dpkt--http.pcap"
grep -q "unknown protocol 'dnss'" "$TMP/err" && pass || fail "unknown --proto"
expect_exit 0 "$CAPSIFT" meta --no-cache -p http,dns --max-per-flow 1 "$CAPS/pcapplusplus--http-packets.pcap"
grep -q "past a cap" "$TMP/err" && pass || fail "--max-per-flow 1 counts what it left out"
expect_exit 0 "$CAPSIFT" meta -p ssh --json "$CAPS/dpkt--http.pcap"
[ ! -s "$TMP/out" ] && pass || fail "no ssh rows in an HTTP capture"
# the result cache answers as the run did
d=$TMP/cache; mkdir -p "$d"
CAPSIFT_CACHE_DIR=$d "$CAPSIFT" meta --json "$CAPS/dpkt--http.pcap" >"$TMP/a" 2>&1
CAPSIFT_CACHE_DIR=$d "$CAPSIFT" meta --json "$CAPS/dpkt--http.pcap" >"$TMP/b" 2>&1
cmp -s "$TMP/a" "$TMP/b" && [ -s "$TMP/a" ] && pass || fail "meta from the cache differs"
if have_shared; then
    "$CAPSIFT" meta --no-cache --json -j 2 "$SHARED"/malformed >"$TMP/out" 2>"$TMP/err"
    rc=$?
    [ "$rc" -le 1 ] && pass || fail "meta over the malformed corpus exited $rc"
fi
finish
