#!/usr/bin/env bash
# capsift timeline: every interval's packets and bytes as tshark reads them, the window
# statistics, deviations and flags recomputed from them (timeline_ref.py), per host too; groups
# that add up (flows, applications) and agree with capsift flows; long gaps listed once; the SVG
# chart rendered; bad options and inputs refused without a crash.
. "$(dirname "$0")/lib.sh"
HERE=$(dirname "$0")

# fields FILE OUT: tshark's times, lengths and addresses of every packet
fields() {
    tshark -r "$1" -T fields -E occurrence=a -E separator=/t -e frame.time_epoch -e frame.len \
        -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst >"$2" 2>/dev/null
}

# check FILE ARGS...: the JSON of timeline ARGS on FILE against tshark
check() {
    local f=$1; shift
    "$CAPSIFT" timeline --json "$@" "$f" >"$TMP/tl.json" 2>"$TMP/tl.err" || {
        fail "timeline $* $f: exit $?: $(head -c 200 "$TMP/tl.err")"
        return
    }
    local r
    r=$(python3 "$HERE/timeline_ref.py" "$TMP/tl.json" "$TMP/fields" "$@" 2>&1 | tail -1)
    case $r in ok*) pass ;; *) fail "timeline $* $f: $r" ;; esac
}

# Captures without tunnels or ICMP errors, whose innermost addresses tshark and the flows agree
# on: every interval, at 1 s with the defaults (a window of 60 intervals, z 3, 95th percentile)
# and at 100 ms with a window of 3 intervals, z 2 and the median, per host.
files=("$CAPS/dpkt--http.pcap" "$CAPS/pcapplusplus--http-packets.pcap" "$CAPS/ndpi--http.pcapng"
    "$CAPS/tcpdump--tcp-handshake-nano.pcap")
if have_shared; then
    for f in iti-ics--ModbusTCP.pcap pcapplusplus--tls2.pcap \
        ndpi--dnscrypt-v1-and-resolver-pings.pcap suricata-verify--filecontainer-smb.pcap \
        iti-ics--Sample_File_GOOSE.pcap; do
        files+=("$SHARED/traffic/$f")
    done
fi
for f in "${files[@]}"; do
    fields "$f" "$TMP/fields"
    check "$f"
    check "$f" --interval 100ms --window 300ms --z 2 --percentile 50 --by host --top 4
done

# The flags are not all quiet: a real capture with bursts has some, as recomputed above.
if have_shared; then
    n=$("$CAPSIFT" timeline --json --flagged "$SHARED/traffic/pcapplusplus--tls2.pcap" |
        python3 -c 'import json,sys; print(len(json.load(sys.stdin)["series"]))')
    [ "$n" -ge 3 ] && pass || fail "tls2: $n flagged intervals"
    "$CAPSIFT" timeline --svg "$TMP/tls2.svg" "$SHARED/traffic/pcapplusplus--tls2.pcap" >/dev/null
    [ "$(grep -c "<circle" "$TMP/tls2.svg")" -ge $((n + 1)) ] && pass ||
        fail "tls2 chart: not every flagged interval marked" # and the legend's
fi

# A gap of two hours between two halves of a capture: the empty intervals after a whole window of
# them are one point with their number (repeat), and expanded they are every interval.
editcap -r "$CAPS/dpkt--http.pcap" "$TMP/a.pcap" 1-20 2>/dev/null
editcap -r "$CAPS/dpkt--http.pcap" "$TMP/b0.pcap" 21-43 2>/dev/null
editcap -t 7200 "$TMP/b0.pcap" "$TMP/b.pcap" 2>/dev/null
mergecap -F pcap -w "$TMP/gap.pcap" "$TMP/a.pcap" "$TMP/b.pcap"
fields "$TMP/gap.pcap" "$TMP/fields"
check "$TMP/gap.pcap" --by host
"$CAPSIFT" timeline --json "$TMP/gap.pcap" >"$TMP/gap.json"
python3 - "$TMP/gap.json" <<'PY' && pass || fail "the gap is not one point"
import json, sys
s = json.load(open(sys.argv[1]))["series"]
assert len(s) < 300 and max(p["repeat"] for p in s) > 7000, [len(s)]
PY

# Groups: a packet is in one flow (or "(no flow)"), and the flows of an application add up to
# the application's group, as capsift flows names them.
for f in "$CAPS/arkime--arkime_synthetic.pcap" "$CAPS/zeek--mixed-vlan-mpls.pcap" \
    "$CAPS/pcapplusplus--http-packets.pcap"; do
    for by in flow app; do
        "$CAPSIFT" timeline --json --interval 1h --by $by --top 0 "$f" >"$TMP/g.$by" 2>&1
    done
    "$CAPSIFT" flows --json "$f" >"$TMP/flows.json" 2>/dev/null
    python3 - "$TMP/g.flow" "$TMP/g.app" "$TMP/flows.json" <<'PY' && pass || fail "groups of $f"
import json, sys
from collections import Counter
def cells(series):
    out = {}
    for p in series:
        if p["packets"]:
            out[p["start_ts"]] = (p["packets"], p["bytes"])
    return out
for path in sys.argv[1:3]:
    r = json.loads(open(path).readline())
    tot = Counter()
    for g in r["groups"]:
        for k, (pk, by) in cells(g["series"]).items():
            tot[(k, 0)] += pk
            tot[(k, 1)] += by
    want = Counter()
    for k, (pk, by) in cells(r["series"]).items():
        want[(k, 0)] += pk
        want[(k, 1)] += by
    assert tot == want, (path, sorted((tot - want).items())[:3], sorted((want - tot).items())[:3])
app = Counter()
for line in open(sys.argv[3]):
    f = json.loads(line)
    if "packets" in f:
        app[f.get("app") or "Unknown"] += f["packets"]
r = json.loads(open(sys.argv[2]).readline())
got = {g["group"]: g["packets"] for g in r["groups"] if g["group"] != "(no flow)"}
assert got == dict(app), (sorted(got.items())[:5], sorted(app.items())[:5])
PY
done

# The chart: well-formed SVG that renders, with the axis labels and legend; an existing file is
# kept without --force; an input is never written over.
expect_exit 0 "$CAPSIFT" timeline --svg "$TMP/c.svg" "$CAPS/dpkt--http.pcap"
xmllint --noout "$TMP/c.svg" && pass || fail "chart is not well-formed XML"
rsvg-convert -o "$TMP/c.png" "$TMP/c.svg" && pass || fail "rsvg-convert cannot render the chart"
python3 - "$TMP/c.png" <<'PY' && pass || fail "chart PNG is not 960x420"
import struct, sys
d = open(sys.argv[1], "rb").read(24)
assert d[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", d[16:24]) == (960, 420)
PY
for want in "bit/s" "time \(UTC\), from 2004-05-13 10:17:07" "window mean" "10:17:20"; do
    expect_grep "$want" "$TMP/c.svg"
done
"$CAPSIFT" timeline --by app --metric packets --svg "$TMP/apps.svg" "$CAPS/arkime--arkime_synthetic.pcap" \
    >/dev/null 2>&1
rsvg-convert -o "$TMP/apps.png" "$TMP/apps.svg" && pass || fail "per-app chart does not render"
expect_grep "pkt/s" "$TMP/apps.svg"
expect_grep ">HTTP<" "$TMP/apps.svg"
cp "$TMP/c.svg" "$TMP/keep.svg"
expect_exit 2 "$CAPSIFT" timeline --svg "$TMP/keep.svg" "$CAPS/ndpi--http.pcapng"
expect_grep "exists" "$TMP/err"
cmp -s "$TMP/c.svg" "$TMP/keep.svg" && pass || fail "an existing chart was changed"
expect_exit 0 "$CAPSIFT" timeline --force --svg "$TMP/keep.svg" "$CAPS/ndpi--http.pcapng"
cmp -s "$TMP/c.svg" "$TMP/keep.svg" && fail "--force did not replace the chart" || pass
cp "$CAPS/dpkt--http.pcap" "$TMP/in.pcap"
expect_exit 2 "$CAPSIFT" timeline --force --svg "$TMP/in.pcap" "$TMP/in.pcap"
cmp -s "$CAPS/dpkt--http.pcap" "$TMP/in.pcap" && pass || fail "an input was written over"
ls -A "$TMP" | grep -q capsift- && fail "a temporary file was left" || pass

# --total: one report over the files; -f: the packets tcpdump's filter keeps; --max-keys: the
# counts past it summed as other, a message and exit 1; --metric packets; --svg - to stdout.
f1=$CAPS/dpkt--http.pcap f2=$CAPS/pcapplusplus--http-packets.pcap
"$CAPSIFT" timeline --json --total "$f1" "$f2" >"$TMP/t.json"
[ "$(wc -l <"$TMP/t.json")" -eq 1 ] && pass || fail "--total: not one report"
want=$(($(tcpdump -r "$f1" 2>/dev/null | wc -l) + $(tcpdump -r "$f2" 2>/dev/null | wc -l)))
expect_grep "\"file\":\"\(total\)\",\"packets\":$want," "$TMP/t.json"
want=$(tcpdump -r "$f2" 'tcp port 80' 2>/dev/null | wc -l)
"$CAPSIFT" timeline --json -f 'tcp port 80' "$f2" >"$TMP/t.json"
expect_grep "\"packets\":$want," "$TMP/t.json"
expect_exit 1 "$CAPSIFT" timeline --json --by host --max-keys 5 "$f2"
expect_grep "more than 5 \(group, interval\) counts" "$TMP/err"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["other"]["packets"] > 0' \
    "$TMP/out" && pass || fail "--max-keys: nothing counted as other"
expect_exit 0 "$CAPSIFT" timeline --metric packets "$f1"
expect_grep "pkt/s" "$TMP/out"
expect_exit 0 "$CAPSIFT" timeline --svg - "$f1"
head -c 100 "$TMP/out" | grep -q "<?xml" && pass || fail "--svg -: no SVG on stdout"
expect_grep "^File: " "$TMP/err"

# Bad options: a usage error naming the option.
expect_exit 2 "$CAPSIFT" timeline --by nothing "$CAPS/dpkt--http.pcap"
expect_exit 2 "$CAPSIFT" timeline --z abc "$CAPS/dpkt--http.pcap"
expect_grep "[-]-z" "$TMP/err"
expect_exit 2 "$CAPSIFT" timeline --percentile 150 "$CAPS/dpkt--http.pcap"
expect_exit 2 "$CAPSIFT" timeline --interval 0 "$CAPS/dpkt--http.pcap"
expect_exit 2 "$CAPSIFT" timeline --force "$CAPS/dpkt--http.pcap"
expect_exit 2 "$CAPSIFT" timeline --interval 1us --window 1000s "$CAPS/dpkt--http.pcap"
expect_grep "[-]-window holds more than" "$TMP/err"
# a window beyond the span is the span: the same numbers
"$CAPSIFT" timeline --json --window 1000000000s "$CAPS/dpkt--http.pcap" >"$TMP/w1"
"$CAPSIFT" timeline --json --window 31s "$CAPS/dpkt--http.pcap" | sed 's/"window_intervals":31,/"window_intervals":1000000000,/' >"$TMP/w2"
cmp -s "$TMP/w1" "$TMP/w2" && pass || fail "a window beyond the span differs from the span"
expect_exit 2 "$CAPSIFT" timeline -f "not a filter (" "$CAPS/dpkt--http.pcap"
expect_exit 2 "$CAPSIFT" timeline "$TMP/missing.pcap"

# Damaged files: results or a message, exit 0 or 1, never a crash, with every grouping (one run
# over the directory: a crash or a hang on any file fails it).
if have_shared; then
    for by in total app host flow port; do
        timeout 300 "$CAPSIFT" timeline --by $by --json "$SHARED/malformed" >"$TMP/out" 2>"$TMP/err"
        rc=$?
        [ $rc -le 1 ] && pass || fail "timeline --by $by malformed/: exit $rc: $(tail -c 300 "$TMP/err")"
        n=$(grep -c '"file"' "$TMP/out")
        [ "$n" -ge 250 ] && pass || fail "timeline --by $by malformed/: $n reports"
    done
fi
finish
