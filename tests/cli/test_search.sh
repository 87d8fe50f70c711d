#!/usr/bin/env bash
# capsift search: per-packet results against a plain scan and tshark's 'contains' filters
# (search_ref.py) on real captures; a pattern split across TCP segments found per stream only,
# with retransmissions and gaps handled as documented (search_split.py); the pattern errors;
# the database cache; -w; --count; --db, the index's payloads, gives --per-packet's rows.
. "$(dirname "$0")/lib.sh"
HERE=$(dirname "$0")
export CAPSIFT_CACHE_DIR="$TMP/cache"

# ---- against the references ----
ref=("$CAPS"/*.pcap "$CAPS"/*.pcapng)
if have_shared; then # the traffic corpus, with the bundled captures of other formats
    ref=("$CAPS"/{pcapng-testgen--le-difficult-test202,ndpi--http,gopacket--le-test902}.pcapng
        "$CAPS"/{tcpdump--LINKTYPE_IPV6,pcapplusplus--sll2,libpcap--http_PPI}.pcap)
    if [ "${SIFT_SANITIZE:-OFF}" != ON ]; then
        ref+=("$SHARED"/traffic/*)
    else
        ref+=("$SHARED"/traffic/{pcapplusplus--example2.pcap,zeek--smb3_multichannel.pcap})
    fi
fi
python3 "$HERE/search_ref.py" "$CAPSIFT" "$TMP" "${ref[@]}" >"$TMP/ref" 2>&1 && pass ||
    { fail "search differs from the references"; grep -v " 0 differences" "$TMP/ref" | head -20 >&2; }
# ... and the comparison sees a difference: a capsift that loses one hit fails it
cat >"$TMP/lossy" <<EOF
#!/usr/bin/env bash
"$CAPSIFT" "\$@" | sed 1d
EOF
chmod +x "$TMP/lossy"
if python3 "$HERE/search_ref.py" "$TMP/lossy" "$TMP" "$CAPS/dpkt--http.pcap" >/dev/null 2>&1; then
    fail "the reference comparison cannot fail"
else
    pass
fi
# ... nor one whose --db loses a hit
cat >"$TMP/lossy-db" <<EOF
#!/usr/bin/env bash
if [ "\$2" = --db ]; then "$CAPSIFT" "\$@" | sed 1d; else "$CAPSIFT" "\$@"; fi
EOF
chmod +x "$TMP/lossy-db"
if python3 "$HERE/search_ref.py" "$TMP/lossy-db" "$TMP" "$CAPS/dpkt--http.pcap" >/dev/null 2>&1; then
    fail "the --db comparison cannot fail"
else
    pass
fi

# ---- --db: the index's payload store ----
f=$CAPS/dpkt--http.pcap
"$CAPSIFT" index -q --db "$TMP/np.db" "$f" >/dev/null 2>&1 # without --payloads
expect_exit 0 "$CAPSIFT" search --db "$TMP/np.db" --json -e GET
expect_grep "1 of the index's files were indexed without --payloads: not searched" "$TMP/err"
[ ! -s "$TMP/out" ] && pass || fail "a file without payloads gave hits"
expect_exit 0 "$CAPSIFT" index --payloads --db "$TMP/np.db" "$f" # now asked for: read again
expect_grep "^indexed 1 file " "$TMP/out"
"$CAPSIFT" search --per-packet --csv -q -e GET -e "|0d 0a|" "$f" | sed 's|^[^,]*,||' >"$TMP/want"
expect_exit 0 "$CAPSIFT" search --db "$TMP/np.db" --csv -e GET -e "|0d 0a|"
sed 's|^[^,]*,||' "$TMP/out" >"$TMP/got"
[ "$(wc -l <"$TMP/want")" -gt 5 ] && cmp -s "$TMP/want" "$TMP/got" && pass ||
    fail "search --db after --payloads: $(diff "$TMP/want" "$TMP/got" | head -3)"
"$CAPSIFT" search --per-packet --count --csv -q -e GET -e "|0d 0a|" -e absent-here "$f" >"$TMP/want"
expect_exit 0 "$CAPSIFT" search --db "$TMP/np.db" --count --csv -e GET -e "|0d 0a|" -e absent-here
cmp -s "$TMP/want" "$TMP/out" && pass || fail "search --db --count: $(cat "$TMP/out")"
expect_exit 2 "$CAPSIFT" search --db "$TMP/np.db" -e GET "$f"
expect_grep "either captures or --db" "$TMP/err"
expect_exit 2 "$CAPSIFT" search --db "$TMP/np.db" -e GET -f tcp
expect_exit 2 "$CAPSIFT" search --db "$TMP/np.db" -e GET -w "$TMP/x.pcap"
expect_grep "capsift extract" "$TMP/err"
expect_exit 2 "$CAPSIFT" search --db "$TMP/absent.db" -e GET
# payloads an earlier layout stored without their packets: said, exit 1, and read again
python3 - "$TMP/np.db" <<'PY' && pass || fail "making a layout 4 index"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript("""drop table payload_packets; alter table payload_refs drop column ord;
alter table files drop column payloads; update files set layout = 4;
update meta set value = 'capsift-index/4' where key = 'schema';""")
PY
expect_exit 1 "$CAPSIFT" search --db "$TMP/np.db" -e GET
expect_grep "stored by an earlier capsift, without the packets that carry them" "$TMP/err"
expect_exit 0 "$CAPSIFT" index --payloads --db "$TMP/np.db" "$f"
expect_grep "^indexed 1 file " "$TMP/out"
expect_exit 0 "$CAPSIFT" search --db "$TMP/np.db" --csv -e GET -e "|0d 0a|"
sed 's|^[^,]*,||' "$TMP/out" >"$TMP/got"
"$CAPSIFT" search --per-packet --csv -q -e GET -e "|0d 0a|" "$f" | sed 's|^[^,]*,||' >"$TMP/want"
cmp -s "$TMP/want" "$TMP/got" && pass || fail "search --db after converting layout 4"

# ---- the query language's payload terms: contains, matches ----
qcaps=("$CAPS"/dpkt--http.pcap "$CAPS"/pcapplusplus--http-packets.pcap "$CAPS"/ndpi--http.pcapng
    "$CAPS"/tcpdump--tcp-handshake-nano.pcap "$CAPS"/arkime--arkime_synthetic.pcap)
if have_shared && [ "${SIFT_SANITIZE:-OFF}" != ON ]; then qcaps=("$SHARED"/traffic); fi
"$CAPSIFT" index -q --payloads --db "$TMP/q.db" "${qcaps[@]}" >/dev/null 2>&1
qexprs=('contains "GET /"' "contains '|0d 0a 0d 0a|'" 'matches "/HTTP\/1\.[01] [45][0-9][0-9]/"')
qpats=('GET /' '|0d 0a 0d 0a|' '/HTTP\/1\.[01] [45][0-9][0-9]/')
for k in 0 1 2; do
    expr=${qexprs[$k]} pat=${qpats[$k]}
    "$CAPSIFT" query --db "$TMP/q.db" --json "$expr" >"$TMP/qq" 2>"$TMP/err"
    "$CAPSIFT" search --per-packet --json -q -e "$pat" "${qcaps[@]}" >"$TMP/qs" 2>/dev/null
    python3 - "$TMP/qq" "$TMP/qs" <<'PY' && pass || fail "query '$expr' differs from search's flows"
import json, os, sys
def key(r, a, b):
    return (os.path.realpath(r["file"]), r.get("proto", r.get("transport"))) + \
        tuple(sorted([(r["src"], r[a]), (r["dst"], r[b])], key=str))
q = {key(r, "sport", "dport") for r in map(json.loads, open(sys.argv[1]))}
s = {key(r, "sport", "dport") for r in map(json.loads, open(sys.argv[2]))}
assert q and q == s, (len(q), len(s), sorted(q - s, key=str)[:2], sorted(s - q, key=str)[:2])
PY
done
n_all=$("$CAPSIFT" query --db "$TMP/q.db" --json 'tcp' | wc -l)
n_in=$("$CAPSIFT" query --db "$TMP/q.db" --json 'tcp and contains "HTTP/1."' | wc -l)
n_out=$("$CAPSIFT" query --db "$TMP/q.db" --json 'tcp and not contains "HTTP/1."' | wc -l)
[ "$n_in" -gt 0 ] && [ "$n_out" -gt 0 ] && [ $((n_in + n_out)) = "$n_all" ] && pass ||
    fail "contains and not contains: $n_in + $n_out != $n_all"
expect_exit 0 "$CAPSIFT" extract --db "$TMP/q.db" -w "$TMP/qx.pcap" 'contains "GET /"'
want=$("$CAPSIFT" query --db "$TMP/q.db" --json 'contains "GET /"' |
    python3 -c 'import json, sys; print(sum(json.loads(l)["packets"] for l in sys.stdin))')
got=$(capinfos -Mc "$TMP/qx.pcap" 2>/dev/null | awk '/Number of packets/ { print $NF }')
[ "$got" = "$want" ] && pass || fail "extract 'contains': $got packets, the flows have $want"
expect_exit 2 "$CAPSIFT" query --db "$TMP/q.db" 'matches abc'
expect_grep "matches takes a regular expression" "$TMP/err"
"$CAPSIFT" index -q --db "$TMP/np2.db" "$f" >/dev/null 2>&1
expect_exit 3 "$CAPSIFT" query --db "$TMP/np2.db" 'contains GET'
expect_grep "indexed without their payloads' packets" "$TMP/err"

# ---- streams ----
python3 "$HERE/search_split.py" "$TMP/split.pcap"
# tshark's reassembled stream holds the split pattern (the reference that it is there)
tshark -r "$TMP/split.pcap" -qz follow,tcp,raw,0 2>/dev/null |
    python3 -c 'import sys; h = "".join(l.strip() for l in sys.stdin if all(c in "0123456789abcdef" for c in l.strip())); sys.exit(0 if b"SECRET-TOKEN" in bytes.fromhex(h) else 1)' &&
    pass || fail "tshark's stream of split.pcap lacks SECRET-TOKEN"
pats=(-e SECRET-TOKEN -e HTTP/1.1 -e ALONE-MARK -e "Host: b")
hits() { # MODE...: "packet:offset:pattern" per hit
    "$CAPSIFT" search --json -q "$@" "${pats[@]}" "$TMP/split.pcap" |
        python3 -c 'import json, sys; print(" ".join("%d:%d:%s" % (r["packet"], r["offset"], r["pattern"]) for r in map(json.loads, sys.stdin)))'
}
got=$(hits)
want="5:-7:SECRET-TOKEN 5:6:HTTP/1.1 7:5:ALONE-MARK 8:0:Host: b"
[ "$got" = "$want" ] && pass || fail "stream hits: '$got', wanted '$want'"
got=$(hits --per-packet)
want="5:6:HTTP/1.1 6:6:HTTP/1.1 7:5:ALONE-MARK 8:0:Host: b"
[ "$got" = "$want" ] && pass || fail "per-packet hits: '$got', wanted '$want'"
got=$(hits -j 4 --no-cache)
want="5:-7:SECRET-TOKEN 5:6:HTTP/1.1 7:5:ALONE-MARK 8:0:Host: b"
[ "$got" = "$want" ] && pass || fail "stream hits -j 4: '$got'"

# On real traffic a stream search finds every per-packet hit but those in segments tshark
# calls retransmissions or out of order (bytes seen before) and those whose match began in
# bytes already seen.
if have_shared; then
    for f in "$SHARED"/traffic/{pcapplusplus--example2.pcap,zeek--smb3_multichannel.pcap,suricata-verify--filecontainer-smb.pcap}; do
        printf '%s\n' "HTTP/1.1" "|fe|SMB" "|ff|SMB" "|0d 0a 0d 0a|" >"$TMP/p"
        "$CAPSIFT" search --json -q --per-packet -F "$TMP/p" "$f" >"$TMP/pp"
        "$CAPSIFT" search --json -q -F "$TMP/p" "$f" >"$TMP/st"
        tshark -n -r "$f" -Y "tcp.analysis.retransmission or tcp.analysis.out_of_order or tcp.analysis.spurious_retransmission" \
            -T fields -e frame.number >"$TMP/rtx" 2>/dev/null
        python3 - "$TMP/pp" "$TMP/st" "$TMP/rtx" <<'PY' && pass || fail "$f: stream and per-packet hits disagree"
import json, sys
key = lambda r: (r["packet"], r["pattern"])
pp = {key(r): r for r in map(json.loads, open(sys.argv[1]))}
st = {key(r): r for r in map(json.loads, open(sys.argv[2]))}
rtx = {int(x) for x in open(sys.argv[3]).read().split()}
missing = [k for k in pp if k not in st and k[0] not in rtx]
extra = [k for k in st if k not in pp and st[k]["offset"] >= 0]
if missing or extra or not pp:
    print("per-packet only:", missing[:5], "stream only, not split:", extra[:5], file=sys.stderr)
    sys.exit(1)
PY
    done
fi

# ---- patterns and their errors ----
expect_exit 2 "$CAPSIFT" search "$CAPS/dpkt--http.pcap"
expect_grep "no pattern" "$TMP/err"
expect_exit 2 "$CAPSIFT" search -e "ok" -e "GET |0d 0x|" "$CAPS/dpkt--http.pcap"
expect_grep "^capsift search: -e:2: GET \|0d 0x\|: 'x' at column 10 is not a hex digit" "$TMP/err"
expect_exit 2 "$CAPSIFT" search -e "/(unclosed/" "$CAPS/dpkt--http.pcap"
expect_grep "^capsift search: -e:1: /\(unclosed/: " "$TMP/err"
printf '# rules\nfine\n\n"unterminated\n' >"$TMP/rules"
expect_exit 2 "$CAPSIFT" search -F "$TMP/rules" "$CAPS/dpkt--http.pcap"
expect_grep "rules:4: \"unterminated: the opening quote is never closed" "$TMP/err"
expect_exit 2 "$CAPSIFT" search -F "$TMP/absent" "$CAPS/dpkt--http.pcap"
expect_grep "absent: No such file" "$TMP/err"
expect_exit 2 "$CAPSIFT" search -e '/HTTP$/' "$CAPS/dpkt--http.pcap"
expect_grep "needs the end of the data" "$TMP/err"
expect_exit 0 "$CAPSIFT" search --per-packet -e '/HTTP$/' "$CAPS/dpkt--http.pcap"
expect_exit 2 "$CAPSIFT" search -e x --max-hits 0 "$CAPS/dpkt--http.pcap"
expect_exit 0 "$CAPSIFT" search --help
expect_grep "Hyperscan" "$TMP/out"

# -i, quoted and regex flags find the same packets as their spelled-out forms
a=$("$CAPSIFT" search --json -q -i -e "content-type" "$CAPS/pcapplusplus--http-packets.pcap" | wc -l)
b=$("$CAPSIFT" search --json -q -e '"CONTENT-TYPE"i' "$CAPS/pcapplusplus--http-packets.pcap" | wc -l)
c=$("$CAPSIFT" search --json -q -e '/content-type/i' "$CAPS/pcapplusplus--http-packets.pcap" | wc -l)
[ "$a" -gt 100 ] && [ "$a" = "$b" ] && [ "$a" = "$c" ] && pass || fail "-i $a, quoted $b, regex $c"

# a filter leaves packets out, not their numbers; patterns from standard input
f="$CAPS/pcapplusplus--http-packets.pcap"
"$CAPSIFT" search --json -q -e "HTTP/1.1 200" "$f" | grep '"src":"172.16.210.84"' >"$TMP/all"
printf 'HTTP/1.1 200\n' | "$CAPSIFT" search --json -q -F - -f "src host 172.16.210.84" "$f" >"$TMP/flt"
cmp -s "$TMP/all" "$TMP/flt" && [ -s "$TMP/all" ] && pass || fail "-f changed the packet numbers or hits"

# ---- the database cache ----
f="$CAPS/pcapplusplus--http-packets.pcap"
"$CAPSIFT" search -e cache-probe-1 -e '/x[0-9]{3}y/' "$f" >/dev/null 2>"$TMP/e1"
"$CAPSIFT" search -e cache-probe-1 -e '/x[0-9]{3}y/' "$f" >/dev/null 2>"$TMP/e2"
"$CAPSIFT" search --no-cache -e cache-probe-1 -e '/x[0-9]{3}y/' "$f" >/dev/null 2>"$TMP/e3"
"$CAPSIFT" search --per-packet -e cache-probe-1 -e '/x[0-9]{3}y/' "$f" >/dev/null 2>"$TMP/e4"
grep -q "database compiled" "$TMP/e1" && grep -q "database from the cache" "$TMP/e2" &&
    grep -q "database compiled" "$TMP/e3" && grep -q "database compiled" "$TMP/e4" && pass ||
    fail "cache: $(cat "$TMP"/e[1-4])"
# a damaged cache file: a warning, the database compiled, the same hits
"$CAPSIFT" search --json -q -e HTTP/1.1 "$f" >"$TMP/h1"
head -c 8192 /dev/urandom >"$CAPSIFT_CACHE_DIR/cache.db"
rm -f "$CAPSIFT_CACHE_DIR"/cache.db-*
expect_exit 0 "$CAPSIFT" search --json -e HTTP/1.1 "$f"
cmp -s "$TMP/out" "$TMP/h1" && [ -s "$TMP/h1" ] && pass || fail "hits differ with a damaged cache"
expect_grep "warning: cache" "$TMP/err"
rm -f "$CAPSIFT_CACHE_DIR"/cache.db*

# ---- --count and --max-hits ----
"$CAPSIFT" search --json -q -e HTTP/1.1 -e '"host:"i' "$f" >"$TMP/h"
"$CAPSIFT" search --json -q --count -e HTTP/1.1 -e '"host:"i' "$f" >"$TMP/c"
python3 - "$TMP/h" "$TMP/c" <<'PY' && pass || fail "--count totals differ from the hits"
import json, sys
hits = [json.loads(l) for l in open(sys.argv[1])]
for t in map(json.loads, open(sys.argv[2])):
    mine = [h for h in hits if h["pattern"] == t["pattern"]]
    assert mine and t["packets"] == len(mine) and t["matches"] == sum(h["count"] for h in mine), t
    assert t["source"] == "-e" and t["line"] in (1, 2)
PY
expect_exit 1 "$CAPSIFT" search --json --max-hits 5 -e HTTP/1.1 "$f"
[ "$(wc -l <"$TMP/out")" = 5 ] && pass || fail "--max-hits 5 gave $(wc -l <"$TMP/out") rows"
expect_grep "limit of 5 hits was reached" "$TMP/err"

# ---- -w: the matching packets as a capture ----
expect_exit 0 "$CAPSIFT" search -q -e "HTTP/1.1 200" -w "$TMP/m.pcap" "$f"
n=$("$CAPSIFT" search --json -q -e "HTTP/1.1 200" "$f" | python3 -c 'import json,sys; print(len({json.loads(l)["packet"] for l in sys.stdin}))')
m=$(tshark -r "$TMP/m.pcap" -o tcp.desegment_tcp_streams:FALSE -Y 'tcp.payload contains "HTTP/1.1 200"' 2>/dev/null | wc -l)
t=$(tshark -r "$TMP/m.pcap" 2>/dev/null | wc -l)
[ "$n" -gt 10 ] && [ "$m" = "$n" ] && [ "$t" = "$n" ] && pass || fail "-w: $n hits, $t written, $m matching"
expect_exit 3 "$CAPSIFT" search -q -e "HTTP/1.1 200" -w "$TMP/m.pcap" "$f"
expect_grep "exists" "$TMP/err"
expect_exit 0 "$CAPSIFT" search -q --force -e "HTTP/1.1 200" -w "$TMP/m.pcap" "$f"
cp "$f" "$TMP/in.pcap"
expect_exit 3 "$CAPSIFT" search -q --force -e "HTTP" -w "$TMP/in.pcap" "$TMP/in.pcap"
cmp -s "$f" "$TMP/in.pcap" && pass || fail "-w over the input changed it"
# --flows: every packet of the matching 5-tuples, as tshark finds them in the input
expect_exit 0 "$CAPSIFT" search -q --flows -e "HTTP/1.1 404" -w "$TMP/fl.pcap" "$f"
"$CAPSIFT" search --json -q -e "HTTP/1.1 404" "$f" >"$TMP/fh"
tuples() { tshark -n -r "$1" -T fields -e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport 2>/dev/null; }
tuples "$f" >"$TMP/in.t"
tuples "$TMP/fl.pcap" >"$TMP/out.t"
python3 - "$TMP/fh" "$TMP/in.t" "$TMP/out.t" <<'PY' && pass || fail "--flows wrote other packets than those of the matching flows"
import json, sys
canon = lambda a, b, c, d: tuple(sorted([(a, str(b)), (c, str(d))]))
flows = {canon(r["src"], r["sport"], r["dst"], r["dport"]) for r in map(json.loads, open(sys.argv[1]))}
rows = lambda p: [canon(*l.split("\t")) for l in open(p).read().splitlines()]
want = [t for t in rows(sys.argv[2]) if t in flows]
got = rows(sys.argv[3])
assert len(flows) > 1 and len(want) > len(flows) and got == want, (len(flows), len(want), len(got))
PY
expect_exit 2 "$CAPSIFT" search --flows -e x "$f"

# files of two link types: a pcapng holding the packets of both
expect_exit 0 "$CAPSIFT" search -q -e "|00|" -w "$TMP/two.pcapng" "$CAPS/tcpdump--LINKTYPE_IPV4.pcap" "$CAPS/dpkt--http.pcap"
capinfos -t "$TMP/two.pcapng" 2>/dev/null | grep -q "pcapng" && pass || fail "-w of two link types is not a pcapng"
n=$("$CAPSIFT" search --json -q -e "|00|" "$CAPS/tcpdump--LINKTYPE_IPV4.pcap" "$CAPS/dpkt--http.pcap" | python3 -c 'import json,sys; print(len({(json.loads(l)["file"], json.loads(l)["packet"]) for l in sys.stdin}))')
t=$(capinfos -Mc "$TMP/two.pcapng" 2>/dev/null | awk '/Number of packets/ {print $NF}')
[ "$n" -gt 0 ] && [ "$t" = "$n" ] && pass || fail "-w of two link types: $n hits, $t written"

# ---- damaged inputs: hits up to the damage, exit 1 ----
if have_shared; then
    expect_exit 1 "$CAPSIFT" search --json -q -e "|00 00|" "$SHARED/malformed"
fi
expect_exit 1 "$CAPSIFT" search --json -e "|00|" "$CAPS/dpkt--truncated_dns_2.pcap"
expect_grep "cut short" "$TMP/err"

finish
