#!/usr/bin/env bash
# capsift match: against an exact hash-set lookup (match_ref.py) on real captures with lists of
# corpus addresses and names mixed with absent ones, in text, CSV and STIX 2.1; the lookups'
# rules (case, trailing dots, domains a name lies in, nested ranges); bad lists named with
# their line; -j and ranges do not change the result; --db (an index of the captures) gives
# the same matches; the built lists are read back from the cache, a damaged entry built again.
. "$(dirname "$0")/lib.sh"
HERE=$(dirname "$0")

caps=("$CAPS"/*.pcap "$CAPS"/*.pcapng "$CAPS"/*.gz "$CAPS"/*.zst)
absent=1000000
if [ "${SIFT_SANITIZE:-OFF}" = ON ]; then
    absent=50000
    have_shared && caps+=("$SHARED"/traffic/{pcapplusplus--tls2.pcap,suricata-verify--tls-subjectaltname--input.pcap,pcapplusplus--example2.pcap})
elif have_shared; then
    caps+=("$SHARED"/traffic/*)
fi
python3 "$HERE/match_ref.py" "$CAPSIFT" "$TMP" "$absent" "${caps[@]}" >"$TMP/ref" 2>&1 && pass ||
    { fail "match differs from the exact lookup"; tail -5 "$TMP/ref" >&2; }
# the comparison sees a difference: a capsift that loses a match fails it
cat >"$TMP/lossy" <<EOS
#!/usr/bin/env bash
if [ "\$1" = match ]; then "$CAPSIFT" "\$@" | sed 1d; else "$CAPSIFT" "\$@"; fi
EOS
chmod +x "$TMP/lossy"
python3 "$HERE/match_ref.py" "$TMP/lossy" "$TMP" 10 "${caps[@]:0:8}" >/dev/null 2>&1 &&
    fail "the reference comparison cannot fail" || pass

# ---- the rules of a lookup, on a capture whose flows are known ----
f="$CAPS/dpkt--http.pcap" # 145.254.160.237 -> 65.208.228.223:80 www.ethereal.com; DNS
printf '%s\n' "WWW.Ethereal.COM." "googlesyndication.com" "65.208.228.0/24" "65.208.228.223" \
    "*.akadns.net" "216.239.59.99" "0.0.0.0/0" >"$TMP/l.txt"
"$CAPSIFT" match --json -q --ioc "$TMP/l.txt" "$f" >"$TMP/m"
python3 - "$TMP/m" <<'PY' && pass || fail "lookup rules"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
got = {(r["where"], r["value"], r["indicator"]) for r in rows}
want = {
    ("http.host", "www.ethereal.com", "WWW.Ethereal.COM."),      # case and trailing dot
    ("dns.query", "pagead2.googlesyndication.com", "googlesyndication.com"),  # a domain it lies in
    ("dst", "65.208.228.223", "65.208.228.223"),                 # the address before its range
    ("dns.answer", "pagead.google.akadns.net", "*.akadns.net"),
    ("dns.answer", "216.239.59.99", "216.239.59.99"),
    ("src", "145.254.160.237", "0.0.0.0/0"),                     # the widest range, nothing else
}
missing = want - got
assert not missing, missing
assert all(r["line"] >= 1 and r["list"].endswith("l.txt") for r in rows)
# the most specific range: 65.208.228.0/24 is never shown where the address itself matched
assert not any(r["indicator"] == "65.208.228.0/24" for r in rows), rows
PY

# ---- bad lists ----
printf '10.0.0.1\n# ok\n10.0.0.0/33\n' >"$TMP/bad.txt"
expect_exit 2 "$CAPSIFT" match --ioc "$TMP/bad.txt" "$f"
expect_grep "bad.txt:3: 10.0.0.0/33: an IPv4 prefix is 0 to 32 bits" "$TMP/err"
printf 'evil..example\n' >"$TMP/bad2.txt"
expect_exit 2 "$CAPSIFT" match --ioc "$TMP/bad2.txt" "$f"
expect_grep "bad2.txt:1: evil..example: an empty label" "$TMP/err"
printf 'indicator\nhttp://x/y\n' >"$TMP/bad.csv"
expect_exit 2 "$CAPSIFT" match --ioc "$TMP/bad.csv" "$f"
expect_grep "bad.csv:2: http://x/y: " "$TMP/err"
printf '{"type": "bundle", "objects": [{"pattern": "[ipv4-addr:value = ' >"$TMP/cut.json"
expect_exit 2 "$CAPSIFT" match --ioc "$TMP/cut.json" "$f"
expect_grep "cut.json:1: a string that never ends" "$TMP/err"
expect_exit 2 "$CAPSIFT" match --ioc "$TMP/absent.txt" "$f"
expect_grep "absent.txt: No such file" "$TMP/err"
expect_exit 2 "$CAPSIFT" match "$f"
expect_grep "no indicators" "$TMP/err"
printf '# nothing\n' >"$TMP/empty.txt"
expect_exit 2 "$CAPSIFT" match --ioc "$TMP/empty.txt" "$f"
expect_grep "hold no indicator" "$TMP/err"
expect_exit 2 "$CAPSIFT" match --ioc "$TMP/l.txt" --db "$TMP/absent.db"
expect_grep "absent.db" "$TMP/err"
"$CAPSIFT" index -q --db "$TMP/one.db" "$f" >/dev/null 2>&1
expect_exit 2 "$CAPSIFT" match --ioc "$TMP/l.txt" --db "$TMP/one.db" "$f"
expect_grep "either captures or --db" "$TMP/err"
expect_exit 2 "$CAPSIFT" match --ioc "$TMP/l.txt" --db "$TMP/one.db" -f tcp
expect_grep "an index .--db. has flows, not packets" "$TMP/err"
# an index without metadata: its addresses only, and said so
"$CAPSIFT" index -q --no-meta --db "$TMP/nometa.db" "$f" >/dev/null 2>&1
expect_exit 0 "$CAPSIFT" match --json --ioc "$TMP/l.txt" --db "$TMP/nometa.db"
expect_grep "1 of the index's files were indexed without metadata" "$TMP/err"
python3 - "$TMP/out" <<'PY' && pass || fail "an index without metadata"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert rows and {r["where"] for r in rows} <= {"src", "dst"}, rows
PY
expect_exit 0 "$CAPSIFT" match --help
expect_grep "STIX" "$TMP/out"

# ---- -j and ranges do not change what is found ----
big="$CAPS/pcapplusplus--http-packets.pcap"
printf '172.16.0.0/12\n' >"$TMP/r.txt"
"$CAPSIFT" match --json -q --no-cache -j 1 --ioc "$TMP/r.txt" "$big" >"$TMP/w"
CAPSIFT_RANGE_BYTES=65536 "$CAPSIFT" match --json -q --no-cache -j 4 --ioc "$TMP/r.txt" "$big" >"$TMP/s"
cmp -s "$TMP/w" "$TMP/s" && [ -s "$TMP/w" ] && pass || fail "match differs split in ranges"

# ---- the built lists in the cache: read back, not built again; a damaged entry built again ----
export CAPSIFT_CACHE_DIR="$TMP/cache"
mkdir -p "$CAPSIFT_CACHE_DIR"
expect_exit 0 "$CAPSIFT" match --json --ioc "$TMP/r.txt" --ioc "$TMP/l.txt" "$big"
expect_grep "indicators .* loaded in" "$TMP/err"
cp "$TMP/out" "$TMP/m1"
expect_exit 0 "$CAPSIFT" match --json --ioc "$TMP/r.txt" --ioc "$TMP/l.txt" "$big"
expect_grep "indicators .* read from the cache in" "$TMP/err"
cmp -s "$TMP/m1" "$TMP/out" && [ -s "$TMP/m1" ] && pass || fail "matches differ from the cache: $(diff "$TMP/m1" "$TMP/out" | head -4)"
python3 - "$CAPSIFT_CACHE_DIR/cache.db" <<'PY' && pass || fail "damaging the cached lists"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
n = 0
for vid, v in c.execute("select vid, value from cache_values").fetchall():
    if v.startswith(b"capsift-iocs/"):
        v = bytearray(v)
        v[len(v) // 2] ^= 0x20  # one bit, in the middle
        c.execute("update cache_values set value = ? where vid = ?", (bytes(v), vid))
        n += 1
c.commit()
assert n == 1, n
PY
expect_exit 0 "$CAPSIFT" match --json --ioc "$TMP/r.txt" --ioc "$TMP/l.txt" "$big"
expect_grep "indicators .* loaded in" "$TMP/err"
cmp -s "$TMP/m1" "$TMP/out" && pass || fail "a damaged cache entry changed the matches"
expect_exit 0 "$CAPSIFT" match --json --no-cache --ioc "$TMP/r.txt" --ioc "$TMP/l.txt" "$big"
expect_grep "indicators .* loaded in" "$TMP/err"

# ---- a damaged input: what was read is matched, exit 1 ----
expect_exit 1 "$CAPSIFT" match --json --ioc "$TMP/r.txt" "$CAPS/dpkt--truncated_dns_2.pcap"

finish
