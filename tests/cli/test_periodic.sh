#!/usr/bin/env bash
# periodic: beacons made of real packets (bench/beacons.py: periods 10 s, 1 min and 10 min,
# jitter 0 and 10%) and aperiodic decoys planted in real traffic are found, with the period
# within 1%, and no decoy or background group scores above the threshold; RITA's subscores
# equal an independent implementation's (dpkt, from the capture); the same for -j 1 whole and
# split on 2 threads; the chart renders; corpus captures without beacons have no candidate;
# damaged files and bad options get clear errors.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
BEACONS="${SIFT_SOURCE_DIR:?}/bench/beacons.py"

$PY "$BEACONS" make "$TMP/b.pcapng" "$TMP/truth.json" --hours 3 --periods 10,60,600 \
    --jitters 0,0.1 --copies 2 --decoys 45 --seed 7 --template "$CAPS/dpkt--http.pcap" \
    --background "$CAPS/pcapplusplus--http-packets.pcap" "$CAPS/zeek--206_example_b.pcap" \
    "$CAPS/dpkt--http.pcap" 2>"$TMP/make.err" && pass || fail "beacons.py make: $(cat "$TMP/make.err")"

expect_exit 0 "$CAPSIFT" periodic --all --top 0 --json -j 1 "$TMP/b.pcapng"
cp "$TMP/out" "$TMP/whole.json"
$PY "$BEACONS" score "$TMP/truth.json" "$TMP/b.pcapng" "$TMP/whole.json" >"$TMP/score.json" &&
    pass || fail "beacons.py score failed"
# every beacon found, no decoy or background group; the period within 1% (without jitter, and
# with 100 events or more), else within three standard errors of a mean of n - 1 intervals of
# uniform +-10% jitter (5.8% / sqrt(n - 1)): no estimator does better on 18 calls
$PY - "$TMP/score.json" "$TMP/whole.json" "$TMP/truth.json" <<'PY' && pass ||
import json, math, sys
s = json.load(open(sys.argv[1]))
assert s["negatives"] >= 40, s["negatives"]
assert s["fp_ours"] == 0, s["fp_ours_groups"]
for j in s["by_jitter"]:
    assert j["recall"] == 1.0, j
assert s["rita_parts_max_diff"] <= 0.02, s["rita_parts_max_diff"]
ours = {(r["src"], r["dst"]): r for r in map(json.loads, list(open(sys.argv[2]))[1:])}
for b in json.load(open(sys.argv[3]))["beacons"]:
    r = ours[(b["src"], b["dst"])]
    err = abs(r["period"] - b["period"]) / b["period"]
    bound = 0.01 if b["jitter"] == 0 or r["events"] >= 100 else \
        3 * 0.0577 * b["jitter"] / 0.1 / math.sqrt(r["events"] - 1)
    assert err <= bound, (b, r["period"], r["events"], bound)
PY
    fail "beacon scores: $(cat "$TMP/score.json")"

# threads and ranges change nothing
CAPSIFT_RANGE_BYTES=64k "$CAPSIFT" periodic --no-cache --all --top 0 --json -j 2 "$TMP/b.pcapng" \
    >"$TMP/split.json" 2>&1
cmp -s "$TMP/whole.json" "$TMP/split.json" && pass || fail "periodic -j 1 whole and -j 2 split differ"

# the text report names the strongest beacon with its period
expect_exit 0 "$CAPSIFT" periodic "$TMP/b.pcapng"
expect_grep '^  SCORE +PERIOD +EVENTS' "$TMP/out"
expect_grep '^   0\.[6-9][0-9] +(10|60|600)\.0[0-9]{2} ' "$TMP/out"
expect_grep '10\.77\.0\.[0-9]+ -> 198\.18\.0\.[0-9]+ (tcp/80|udp/53)' "$TMP/out"

# bursts of packets as events: the 10-second beacons without jitter are found the same way
expect_exit 0 "$CAPSIFT" periodic --by packets --json "$TMP/b.pcapng"
$PY - "$TMP/out" "$TMP/truth.json" <<'PY' && pass || fail "--by packets misses the 10 s beacons"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])][1:]
got = {(r["src"], r["dst"]): r["period"] for r in rows}
want = [b for b in json.load(open(sys.argv[2]))["beacons"] if b["period"] == 10 and b["jitter"] == 0]
for b in want:
    p = got.get((b["src"], b["dst"]))
    assert p and abs(p - 10) < 0.1, (b, p)
PY

# the chart: two charts in one document, rendered
expect_exit 0 "$CAPSIFT" periodic --svg "$TMP/c.svg" "$TMP/b.pcapng"
xmllint --noout "$TMP/c.svg" && pass || fail "chart is not well-formed XML"
rsvg-convert -o "$TMP/c.png" "$TMP/c.svg" && pass || fail "rsvg-convert cannot render the chart"
$PY - "$TMP/c.png" <<'PY' && pass || fail "rendered chart is not 960x840"
import struct, sys
b = open(sys.argv[1], "rb").read(24)
assert b[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", b[16:24]) == (960, 840)
PY
expect_grep 'spectrum of the events \(period [0-9.]+ s marked\)' "$TMP/c.svg"
expect_grep 'intervals between events' "$TMP/c.svg"
expect_grep '>frequency \(Hz\)<|>frequency' "$TMP/c.svg"
cp "$TMP/c.svg" "$TMP/keep.svg"
expect_exit 2 "$CAPSIFT" periodic --svg "$TMP/c.svg" "$TMP/b.pcapng"
cmp -s "$TMP/c.svg" "$TMP/keep.svg" && pass || fail "an existing chart was changed without --force"
expect_exit 0 "$CAPSIFT" periodic --svg "$TMP/c.svg" --force --rank 2 "$TMP/b.pcapng"
cp "$CAPS/dpkt--http.pcap" "$TMP/in.pcap"
expect_exit 2 "$CAPSIFT" periodic --svg "$TMP/in.pcap" --force "$TMP/in.pcap"
cmp -s "$TMP/in.pcap" "$CAPS/dpkt--http.pcap" && pass || fail "an input was overwritten"
expect_exit 1 "$CAPSIFT" periodic --svg "$TMP/none.svg" "$CAPS/dpkt--http.pcap"
expect_grep 'no group ranked 1 to draw' "$TMP/err"
[ ! -e "$TMP/none.svg" ] && pass || fail "a chart of nothing was left behind"

# the same from an index (--db): every flow of the beacon capture is one exchange, so each is
# the event a read finds, and the report is the same byte for byte; the chart too
expect_exit 0 "$CAPSIFT" index --db "$TMP/x.db" "$TMP/b.pcapng"
expect_exit 0 "$CAPSIFT" periodic --all --top 0 --json --no-cache --db "$TMP/x.db"
cmp -s "$TMP/out" "$TMP/whole.json" && pass || fail "periodic --db differs from reading the capture"
expect_exit 0 "$CAPSIFT" periodic --all --top 0 --json --db "$TMP/x.db"
cmp -s "$TMP/out" "$TMP/whole.json" && pass || fail "periodic --db from the cache differs"
expect_exit 0 "$CAPSIFT" periodic --svg "$TMP/d.svg" --db "$TMP/x.db"
cmp -s "$TMP/d.svg" "$TMP/keep.svg" && pass || fail "periodic --db --svg differs from a read's"
cp "$TMP/x.db" "$TMP/x.keep"
expect_exit 2 "$CAPSIFT" periodic --svg "$TMP/x.db" --force --db "$TMP/x.db"
cmp -s "$TMP/x.db" "$TMP/x.keep" && pass || fail "the index was overwritten by --svg"
expect_exit 2 "$CAPSIFT" periodic --db "$TMP/x.db" "$TMP/b.pcapng"
expect_grep "either captures or --db" "$TMP/err"
for opt in "--by packets" "--gap 5s" "-f tcp"; do
    expect_exit 2 "$CAPSIFT" periodic $opt --db "$TMP/x.db"
    expect_grep "an index \(--db\) has flows, not packets" "$TMP/err"
done
expect_exit 2 "$CAPSIFT" periodic --db "$TMP/missing.db"
expect_grep "missing.db" "$TMP/err"
head -c 4096 "$TMP/x.db" >"$TMP/cut.db"
"$CAPSIFT" periodic --db "$TMP/cut.db" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -ge 2 ] && [ $rc -le 3 ] && grep -q "cut.db" "$TMP/err" && pass ||
    fail "periodic --db of a damaged index: exit $rc, $(head -c 200 "$TMP/err")"

# beacons to a name on rotating servers (each call to one of 4 addresses at random): split
# over their destinations they are missed; grouped by server name (the HTTP Host of the
# template's request) each is one group with every call and its period; the same from the
# index (its HTTP rows), and for -j 2 over split ranges
$PY "$BEACONS" make "$TMP/r.pcapng" "$TMP/rtruth.json" --hours 3 --periods 60,600 --jitters 0 \
    --copies 1 --decoys 6 --rotate 4 --seed 3 --template "$CAPS/dpkt--http.pcap" \
    --background "$CAPS/pcapplusplus--http-packets.pcap" 2>"$TMP/make.err" && pass ||
    fail "beacons.py make --rotate: $(cat "$TMP/make.err")"
expect_exit 0 "$CAPSIFT" periodic --all --top 0 --json "$TMP/r.pcapng"
cp "$TMP/out" "$TMP/rdst.json"
expect_exit 0 "$CAPSIFT" periodic --group name --all --top 0 --json --no-cache "$TMP/r.pcapng"
cp "$TMP/out" "$TMP/rname.json"
$PY - "$TMP/rdst.json" "$TMP/rname.json" "$TMP/rtruth.json" <<'PY' && pass || fail "--group name"
import json, sys
dst, name = ([json.loads(l) for l in open(f)] for f in sys.argv[1:3])
assert dst[0]["group"] == "dst" and name[0]["group"] == "name", (dst[0], name[0])
truth = [b for b in json.load(open(sys.argv[3]))["beacons"] if b.get("rotating")]
assert len(truth) == 2
for b in truth:
    found = lambda r: r["src"] == b["src"] and r["score"] >= 0.6 and r["period"] and \
        abs(r["period"] - b["period"]) <= 0.01 * b["period"]
    assert not any(found(r) for r in dst[1:]), ("found split", b)
    rows = [r for r in name[1:] if r["src"] == b["src"] and r["proto"] == "tcp"]
    assert len(rows) == 1, rows
    r = rows[0]
    assert r["name"] == "www.ethereal.com" and r["dst"] is None and r["port"] == 80, r
    assert r["events"] == b["events"] and found(r), (r, b)
assert all(r["name"] is None and r["dst"] for r in dst[1:])
PY
CAPSIFT_RANGE_BYTES=64k "$CAPSIFT" periodic --group name --all --top 0 --json --no-cache -j 2 \
    "$TMP/r.pcapng" >"$TMP/rsplit.json" 2>&1
cmp -s "$TMP/rsplit.json" "$TMP/rname.json" && pass || fail "--group name: -j 2 split differs"
expect_exit 0 "$CAPSIFT" index --db "$TMP/r.db" "$TMP/r.pcapng"
expect_exit 0 "$CAPSIFT" periodic --group name --all --top 0 --json --no-cache --db "$TMP/r.db"
cmp -s "$TMP/out" "$TMP/rname.json" && pass || fail "--group name --db differs from a read"
expect_exit 0 "$CAPSIFT" index --no-meta --db "$TMP/rn.db" "$TMP/r.pcapng"
expect_exit 0 "$CAPSIFT" periodic --group name --all --top 0 --json --no-cache --db "$TMP/rn.db"
expect_grep "indexed without metadata \(--no-meta\): they are grouped by destination" "$TMP/err"
grep -q '"name":"' "$TMP/out" && fail "names from an index without metadata" || pass
expect_exit 0 "$CAPSIFT" periodic --group name "$TMP/r.pcapng"
expect_grep '^   0\.9[0-9] +60\.000 .*10\.77\.0\.3 -> www\.ethereal\.com tcp/80' "$TMP/out"
expect_exit 2 "$CAPSIFT" periodic --group host "$TMP/r.pcapng"

# bad options
expect_exit 2 "$CAPSIFT" periodic --threshold 1.5 "$TMP/b.pcapng"
expect_grep "threshold" "$TMP/err"
expect_exit 2 "$CAPSIFT" periodic --by flows "$TMP/b.pcapng"
expect_exit 2 "$CAPSIFT" periodic --min-events 2 "$TMP/b.pcapng"
expect_exit 2 "$CAPSIFT" periodic --force "$TMP/b.pcapng"
expect_exit 2 "$CAPSIFT" periodic "$TMP/missing.pcap"

# captures with no planted beacon: no group above the threshold (connections), except in the
# captures of machines that really call at a period - a Discord client's UDP keep-alive every
# 60 s, TP-Link smart plugs' discovery broadcasts every 60 s - whose every group listed is
# checked on tshark's packets (periodic_ref.py); and every file read or named, never a crash
periodic_files=" discord.pcap tplink_shp.pcap "
if have_shared; then
    for f in "$SHARED"/traffic/* "$SHARED"/apps/*.pcap* "$SHARED"/formats/*; do
        "$CAPSIFT" periodic --json "$f" >"$TMP/o" 2>"$TMP/e"
        rc=$?
        [ "$rc" -le 1 ] || fail "periodic $f: exit $rc"
        above=$($PY -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["above"])' \
            "$TMP/o" 2>/dev/null)
        case "$periodic_files" in
        *" $(basename "$f") "*)
            [ "${above:-0}" -ge 1 ] && pass || fail "periodic $f: its periodic traffic is not found"
            $PY "$(dirname "$0")/periodic_ref.py" "$f" "$TMP/o" >"$TMP/ref" 2>&1 && pass ||
                fail "$(cat "$TMP/ref")"
            ;;
        *)
            [ "${above:-0}" = 0 ] && pass ||
                fail "periodic $f: $above groups above the threshold: $(sed -n 2p "$TMP/o" | cut -c1-300)"
            ;;
        esac
    done
    for f in "$SHARED"/malformed/*; do
        "$CAPSIFT" periodic --by packets "$f" >/dev/null 2>"$TMP/e"
        rc=$?
        [ "$rc" -le 1 ] && pass || fail "periodic $f: exit $rc: $(head -2 "$TMP/e")"
    done
fi
finish
