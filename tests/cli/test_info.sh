#!/usr/bin/env bash
# capsift info on the bundled captures: output, JSON keys, exit codes, stdin, directories.
. "$(dirname "$0")/lib.sh"

# text output of a plain pcap (values from capinfos)
expect_exit 0 "$CAPSIFT" info "$CAPS/dpkt--http.pcap"
expect_grep '^Packets: +43$' "$TMP/out"
expect_grep '^Format: +pcap 2.4, little-endian, microseconds' "$TMP/out"
expect_grep '^First packet: +2004-05-13T10:17:07.311224Z \(1084443427.311224\)$' "$TMP/out"
expect_grep '^Duration: +30.393704 s$' "$TMP/out"
expect_grep '^File size: +25,803 bytes' "$TMP/out"
expect_grep '^Data rate: +6.60 kbit/s$' "$TMP/out"
# first and last packet times as capinfos gives them, in UTC and in a zone east of it (capinfos
# shows each with its first packet's precision, capsift with the file's: compared to the shorter)
if command -v capinfos >/dev/null; then
    for tz in UTC Asia/Kolkata; do
        for f in dpkt--http.pcap ndpi--dtls.pcap gopacket--le-test902.pcapng; do
            want=$(TZ=$tz capinfos -a -e "$CAPS/$f" | sed -n 's/^\(First\|Last\) packet time: *//p')
            TZ=$tz "$CAPSIFT" info --time-format local "$CAPS/$f" >"$TMP/tz" 2>&1
            got=$(sed -n 's/^\(First\|Last\) packet: *\([^ ]*\) .*/\2/p' "$TMP/tz")
            python3 - "$want" "$got" <<'PY' && pass || fail "$f in $tz: capsift '$got', capinfos '$want'"
import sys, re
want, got = sys.argv[1].splitlines(), sys.argv[2].splitlines()
assert len(want) == len(got) == 2
for w, g in zip(want, got):
    g = re.sub(r"(Z|[+-]\d\d:\d\d)$", "", g).replace("T", " ")
    assert g[:len(w)] == w and len(g) >= len(w), (w, g)
PY
        done
    done
fi

# JSON: required keys and values, one object per file
expect_exit 0 "$CAPSIFT" info --json "$CAPS/ndpi--dtls.pcap" "$CAPS/zeek--mime-header-size-limit.pcap.gz" \
    "$CAPS/gopacket--le-test902.pcapng"
python3 - "$TMP/out" <<'PY' && pass || fail "info --json content"
import json, sys
from decimal import Decimal
rows = [json.loads(l, parse_float=Decimal) for l in open(sys.argv[1])]
assert len(rows) == 3, rows
for r in rows:
    for k in ("file", "format", "compression", "packets", "bytes_captured", "bytes_wire",
              "first_ts", "last_ts", "link_types", "errors"):
        assert k in r, (k, r)
a, b, c = rows
assert a["format"] == "pcapng" and a["packets"] == 24 and a["link_types"] == [1], a
assert str(a["first_ts"]) == "1545143424.891780000" and str(a["last_ts"]) == "1715267278.694728712", a
assert a["first_time"] == "2018-12-18T14:30:24.891780000Z", a
assert a["link_type_names"] == ["EN10MB"] and a["file_size"] == 39340, a
assert b["compression"] == "gzip" and b["format"] == "pcap" and b["packets"] == 44, b
assert str(b["first_ts"]) == "1777577852.342122", b
assert str(c["first_ts"]) == "1519128000.19531250", c     # if_tsresol 2^-8, exact
assert all(r["errors"] == [] and r["status"] == "ok" for r in rows)
PY

# zstd, snoop and stdin (plain and compressed)
expect_exit 0 "$CAPSIFT" info --json "$CAPS/pcapplusplus--solaris.snoop"
expect_grep '"format":"snoop".*"packets":250' "$TMP/out"
expect_exit 0 "$CAPSIFT" info --json - <"$CAPS/zeek--206_example_b.pcap"
expect_grep '"file":"-".*"packets":1556' "$TMP/out"
expect_exit 0 "$CAPSIFT" info --json - <"$CAPS/zeek--mime-header-size-limit.pcap.gz"
expect_grep '"compression":"gzip".*"packets":44' "$TMP/out"

# damaged: exit 1, partial results, offset and message
expect_exit 1 "$CAPSIFT" info --json "$CAPS/dpkt--truncated_dns_2.pcap"
expect_grep '"status":"damaged".*"packets":1,.*"errors":\[\{"offset":240,"message":"last record header is cut short' "$TMP/out"
# ... and one line on stderr too, for a script that reads only stdout (flows, stats alike)
for cmd in "info --json" "flows --json" "stats --json" "flows --csv"; do
    # shellcheck disable=SC2086
    expect_exit 1 "$CAPSIFT" $cmd "$CAPS/dpkt--truncated_dns_2.pcap"
    [ "$(wc -l <"$TMP/err")" = 1 ] && pass || fail "$cmd: $(wc -l <"$TMP/err") lines on stderr"
    expect_grep "^capsift ${cmd%% *}: .*dpkt--truncated_dns_2.pcap: at byte 240: last record header is cut short" "$TMP/err"
done
expect_exit 1 "$CAPSIFT" info "$CAPS/libpcap--linktype-reserved-field-not-zero.pcap"
expect_grep 'reserved bits set' "$TMP/err"
expect_grep 'libpcap--linktype-reserved-field-not-zero.pcap' "$TMP/err"
expect_exit 1 "$CAPSIFT" info "$CAPS/SOURCES.md"
expect_grep 'not a pcap, pcapng or snoop capture' "$TMP/err"

# a directory: every capture under it, other files left out, a total line
expect_exit 1 "$CAPSIFT" info -j 2 "$CAPS"
ncaps=$(find "$CAPS" -type f ! -name SOURCES.md | wc -l) # every file there but SOURCES.md
expect_grep "^Total: +$ncaps files" "$TMP/out"
n_dir=$(grep -c '^File:' "$TMP/out")
[ "$n_dir" -eq "$ncaps" ] && pass || fail "directory gave $n_dir files, wanted $ncaps"

# -j 1 and -j 2 give identical output
"$CAPSIFT" info --json -j 1 "$CAPS" >"$TMP/j1" 2>/dev/null
"$CAPSIFT" info --json -j 2 "$CAPS" >"$TMP/j2" 2>/dev/null
cmp -s "$TMP/j1" "$TMP/j2" && pass || fail "-j 1 and -j 2 differ"

# BPF filters: the same packets tcpdump -r selects (counts taken once with tcpdump 4.99)
count_filtered() { "$CAPSIFT" info --json -f "$2" "$CAPS/$1" | sed 's/.*"packets":\([0-9]*\).*/\1/'; }
for spec in "zeek--206_example_b.pcap|tcp port 80 and tcp[tcpflags] & tcp-syn != 0|4" \
            "pcapplusplus--http-packets.pcap|tcp port 8868|280" \
            "pcapplusplus--http-packets.pcap|src host 172.16.210.84|1869" \
            "dpkt--http.pcap|udp|2" "dpkt--http.pcap|tcp port 80|41"; do
    IFS='|' read -r file expr want <<<"$spec"
    got=$(count_filtered "$file" "$expr")
    [ "$got" = "$want" ] && pass || fail "filter '$expr' on $file: $got packets, tcpdump says $want"
done
expect_exit 2 "$CAPSIFT" info -f 'tcp port 80 andd' "$CAPS/dpkt--http.pcap"
expect_grep "bad filter 'tcp port 80 andd'" "$TMP/err"

# usage errors: exit 2 with a message
expect_exit 2 "$CAPSIFT" info
expect_grep 'no input files' "$TMP/err"
expect_exit 2 "$CAPSIFT" info --bogus "$CAPS/dpkt--http.pcap"
expect_exit 2 "$CAPSIFT" info -j 0 "$CAPS/dpkt--http.pcap"
expect_exit 2 "$CAPSIFT" info /nonexistent/file.pcap
expect_grep 'nonexistent/file.pcap' "$TMP/err"
expect_exit 2 "$CAPSIFT" nosuchcommand
expect_exit 0 "$CAPSIFT" info --help
expect_grep '^usage: capsift info' "$TMP/out"
expect_exit 0 "$CAPSIFT" help info
expect_exit 0 "$CAPSIFT" --version
expect_grep '^capsift [0-9]+\.[0-9]+\.[0-9]+' "$TMP/out"
expect_exit 0 "$CAPSIFT" --help

# output to a full device fails loudly
if [ -w /dev/full ]; then
    "$CAPSIFT" info "$CAPS/dpkt--http.pcap" >/dev/full 2>"$TMP/err"; rc=$?
    [ "$rc" -eq 3 ] && pass || fail "writing to /dev/full gave exit $rc"
    expect_grep 'cannot write' "$TMP/err"
fi

# --hash: each file's digests (of the file as stored, compressed or not), equal to sha256sum,
# sha1sum, md5sum and capinfos' RIPEMD-160
for f in "$CAPS"/*.pcap "$CAPS"/*.pcapng "$CAPS"/*.gz "$CAPS"/*.zst; do
    "$CAPSIFT" info --hash all --json "$f" >"$TMP/out" 2>"$TMP/err"
    want="$(sha256sum <"$f" | cut -d' ' -f1) $(sha1sum <"$f" | cut -d' ' -f1) $(md5sum <"$f" | cut -d' ' -f1)"
    keys="sha256 sha1 md5"
    if command -v capinfos >/dev/null && capinfos -H "$f" >"$TMP/ci" 2>/dev/null; then
        want="$want $(sed -n 's/^RIPEMD160: *//p' "$TMP/ci")"
        keys="$keys ripemd160"
    fi
    got=$(python3 -c '
import json, sys
h = json.loads(open(sys.argv[1]).readline())["hashes"]
print(" ".join(h[k] for k in sys.argv[2].split()))' "$TMP/out" "$keys" 2>&1)
    [ "$got" = "$want" ] && pass || fail "--hash all on $f: '$got', want '$want'"
done
expect_exit 0 "$CAPSIFT" info --hash sha256,md5,sha256 "$CAPS/dpkt--http.pcap"
expect_grep "^SHA-256: +$(sha256sum <"$CAPS/dpkt--http.pcap" | cut -d' ' -f1)$" "$TMP/out"
[ "$(grep -c '^SHA-256:' "$TMP/out")" = 1 ] && pass || fail "a digest named twice is printed twice"
expect_exit 2 "$CAPSIFT" info --hash sha3 "$CAPS/dpkt--http.pcap"
expect_grep "'sha3' is not a digest" "$TMP/err"
expect_exit 1 "$CAPSIFT" info --hash sha256 - <"$CAPS/dpkt--http.pcap"
expect_grep 'standard input cannot be hashed' "$TMP/err"
# the filter of the run is part of the summary
expect_exit 0 "$CAPSIFT" info -f 'tcp port 80' "$CAPS/dpkt--http.pcap"
expect_grep "^Filter: +tcp port 80 " "$TMP/out"
expect_exit 0 "$CAPSIFT" info --json "$CAPS/dpkt--http.pcap"
expect_grep '"filter":null' "$TMP/out"

# packet comments keep tshark's frame numbers when the file is read in ranges
if command -v editcap >/dev/null; then
    editcap -F pcapng -a 5:"fifth packet" -a 40:fortieth -a 41:"forty, one" \
        "$CAPS/dpkt--http.pcap" "$TMP/cm.pcapng" 2>/dev/null
    expect_exit 0 "$CAPSIFT" info --no-cache -j 1 "$TMP/cm.pcapng"
    expect_grep '^Packet comments: +3$' "$TMP/out"
    expect_grep '^  packet 40: fortieth$' "$TMP/out"
    expect_grep '^  packet 41: forty, one$' "$TMP/out"
    cp "$TMP/out" "$TMP/whole"
    CAPSIFT_RANGE_BYTES=4k "$CAPSIFT" info --no-cache -j 4 "$TMP/cm.pcapng" >"$TMP/out" 2>&1
    cmp -s "$TMP/whole" "$TMP/out" && pass || fail "comments read in ranges differ from a whole read"
fi

finish
