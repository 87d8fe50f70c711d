#!/usr/bin/env bash
# capsift spectrum: signals of known frequencies made by sox (WAV of every sample format, raw
# samples) and here (CSV, noise of known power); every bin equal to scipy.signal.welch's on the
# same samples, for every window and overlap; the strongest peaks within one bin; the SNR of a
# tone in white noise; constant memory on a long signal; the chart rendered; measured plans kept
# as FFTW wisdom; bad input refused.
. "$(dirname "$0")/lib.sh"
HERE=$(dirname "$0")
PY=/usr/bin/python3 # Debian's, with scipy

# check SIGNAL KIND FREQS ARGS...: the JSON of spectrum ARGS against scipy
check() {
    local sig=$1 kind=$2 freqs=$3; shift 3
    "$CAPSIFT" spectrum --json --bins "$@" "$sig" >"$TMP/sp.json" 2>"$TMP/sp.err" || {
        fail "spectrum $* $sig: exit $?: $(head -c 200 "$TMP/sp.err")"
        return
    }
    local r
    # shellcheck disable=SC2086 # the frequencies are words
    r=$($PY "$HERE/spectrum_ref.py" "$TMP/sp.json" "$sig" "$kind" $freqs 2>&1 | tail -1)
    case $r in ok*) pass ;; *) fail "spectrum $* $sig: $r" ;; esac
}

# WAV: 8-bit unsigned, 16, 24 and 32-bit integer, 32 and 64-bit float; two channels, 1 kHz and
# 3 kHz at half scale.
for fmt in "-b 8" "-b 16" "-b 24" "-b 32" "-e floating-point -b 32" "-e floating-point -b 64"; do
    name=$(echo "$fmt" | tr -d ' -')
    # shellcheck disable=SC2086
    sox -n -r 48000 $fmt -c 2 "$TMP/$name.wav" synth 1.5 sine 1000 sine 3000 vol 0.5 2>/dev/null
    check "$TMP/$name.wav" wav "1000 3000"
    "$CAPSIFT" spectrum --json "$TMP/$name.wav" >"$TMP/sp.json"
    expect_grep '"sample_format":"(PCM|float) ' "$TMP/sp.json"
done
# a sine of amplitude A has the power A^2 / 2: 0.125 at half scale
"$CAPSIFT" spectrum --json "$TMP/b16.wav" | $PY -c '
import json, sys
for s in json.load(sys.stdin)["spectra"]:
    assert abs(s["peaks"][0]["power"] - 0.125) < 0.125 * 0.05, s["peaks"][0]' && pass ||
    fail "a half-scale sine is not 0.125 of power"
# one tone between bins, at 8 kHz: found within a bin, interpolated closer than that
sox -n -r 8000 -b 16 "$TMP/t.wav" synth 4 sine 1234.5 2>/dev/null
check "$TMP/t.wav" wav "1234.5"
"$CAPSIFT" spectrum --json "$TMP/t.wav" | $PY -c '
import json, sys
r = json.load(sys.stdin)
f = r["spectra"][0]["peaks"][0]["freq"]
assert abs(f - 1234.5) < r["bin_hz"] / 4, f' && pass || fail "1234.5 Hz not interpolated within a quarter bin"

# every window, overlaps from none to 0.9, sizes not powers of two
for w in hann hamming blackman rect; do
    for ov in 0 0.5 0.9; do
        check "$TMP/b16.wav" wav "1000 3000" --window $w --overlap $ov --size 3000
    done
done
check "$TMP/b16.wav" wav "1000 3000" --size 1024

# raw little-endian samples
sox -n -r 16000 -t raw -e signed -b 16 -c 2 "$TMP/s.s16" synth 1 sine 440 sine 2000 2>/dev/null
check "$TMP/s.s16" raw:s16:2 "440 2000" --format s16 --channels 2 --rate 16000
sox -n -r 16000 -t raw -e floating-point -b 32 "$TMP/s.f32" synth 1 sine 700 2>/dev/null
check "$TMP/s.f32" raw:f32:1 "700" --format f32 --rate 16000

# CSV with a header and a time column: columns 2 and 3; and a tone in white noise of known
# power: 0.5 sin + N(0, 0.05^2) has an SNR of 10 log10(0.125 / 0.0025) = 17.0 dB
$PY - "$TMP/s.csv" <<'PY'
import math, random, sys
random.seed(7)
with open(sys.argv[1], "w") as f:
    f.write("time,a,b\n")
    for i in range(20000):
        t = i / 10000
        a = 0.5 * math.sin(2 * math.pi * 250 * t) + random.gauss(0, 0.05)
        b = 0.25 * math.sin(2 * math.pi * 1500 * t + 1)
        f.write(f"{t:.5f},{a:.9f},{b:.9f}\n")
PY
check "$TMP/s.csv" csv:2,3 "250 1500" --rate 10000 --column 2 --column 3
"$CAPSIFT" spectrum --json --rate 10000 --column 2 "$TMP/s.csv" | $PY -c '
import json, sys
s = json.load(sys.stdin)["spectra"][0]
assert abs(s["snr_db"] - 17.0) < 1.0, s["snr_db"]
assert abs(s["noise_floor_db"] - 10 * __import__("math").log10(0.0025 / 5000)) < 1.0, s' \
    && pass || fail "SNR of a 0.5 tone in noise of 0.05 is not about 17 dB"

# a long signal in constant memory: 16 M float samples (64 MB) read in blocks
if [ "${SIFT_SANITIZE:-OFF}" != ON ]; then
    head -c 67108864 /dev/urandom >"$TMP/long.f32"
    /usr/bin/time -f "%M" -o "$TMP/rss" "$CAPSIFT" spectrum --format s16 --rate 1e6 "$TMP/long.f32" \
        >/dev/null
    [ "$(cat "$TMP/rss")" -lt 40000 ] && pass || fail "64 MB signal: $(cat "$TMP/rss") KB"
    rm -f "$TMP/long.f32"
fi

# the chart
expect_exit 0 "$CAPSIFT" spectrum --svg "$TMP/sp.svg" "$TMP/b16.wav"
xmllint --noout "$TMP/sp.svg" && pass || fail "spectrum chart is not well-formed"
rsvg-convert -o "$TMP/sp.png" "$TMP/sp.svg" && pass || fail "spectrum chart does not render"
for want in "frequency \(Hz\)" "dB/Hz" "channel 2" "<circle" "kHz"; do
    expect_grep "$want" "$TMP/sp.svg"
done
expect_exit 0 "$CAPSIFT" spectrum --svg - "$TMP/b16.wav"
head -c 100 "$TMP/out" | grep -q "<?xml" && pass || fail "--svg -: no SVG on stdout"
expect_grep "^Channel 2" "$TMP/err"
expect_exit 2 "$CAPSIFT" spectrum --svg "$TMP/sp.svg" "$TMP/b16.wav"
expect_grep "exists" "$TMP/err"
expect_exit 2 "$CAPSIFT" spectrum --force --svg "$TMP/b16.wav" "$TMP/b16.wav"
check "$TMP/b16.wav" wav "1000 3000" # the input is unchanged

# measured plans kept as FFTW wisdom in the cache's directory: the first run writes it, later
# runs plan from it, and the numbers are those of estimated plans (--no-cache: no wisdom)
W=$TMP/wisdom
CAPSIFT_CACHE_DIR=$W "$CAPSIFT" spectrum --json "$TMP/b16.wav" >"$TMP/w1" 2>&1
grep -q '^(fftw-3' "$W/fftw-wisdom" && pass || fail "no FFTW wisdom saved in the cache directory"
cp "$W/fftw-wisdom" "$TMP/w.saved"
CAPSIFT_CACHE_DIR=$W "$CAPSIFT" spectrum --json "$TMP/b16.wav" >"$TMP/w2" 2>&1
cmp -s "$W/fftw-wisdom" "$TMP/w.saved" && pass || fail "wisdom written again with nothing new"
CAPSIFT_CACHE_DIR=$TMP/wisdom2 "$CAPSIFT" spectrum --json --no-cache "$TMP/b16.wav" >"$TMP/w3" 2>&1
[ ! -e "$TMP/wisdom2" ] && pass || fail "--no-cache made a cache directory"
$PY - "$TMP/w1" "$TMP/w2" "$TMP/w3" <<'PY' && pass || fail "measured plans give other numbers"
import json, sys
a, b, c = (json.load(open(f)) for f in sys.argv[1:])
def peaks(j):
    return [(p["freq"], p["bin"], p["psd_db"]) for s in j["spectra"] for p in s["peaks"]]
assert a == b, "wisdom run differs"
assert peaks(a) == peaks(c), (peaks(a), peaks(c))
for s, t in zip(a["spectra"], c["spectra"]):
    assert abs(s["total_power"] - t["total_power"]) <= 1e-9 * abs(t["total_power"])
PY
# damaged wisdom is a warning, measured again and replaced; an unusable directory too
echo "not wisdom" >"$W/fftw-wisdom"
CAPSIFT_CACHE_DIR=$W expect_exit 0 "$CAPSIFT" spectrum --json "$TMP/b16.wav"
expect_grep "not FFTW wisdom" "$TMP/err"
cmp -s "$TMP/out" "$TMP/w1" && pass || fail "spectrum after damaged wisdom differs"
grep -q '^(fftw-3' "$W/fftw-wisdom" && pass || fail "damaged wisdom not replaced"
: >"$TMP/plainfile"
CAPSIFT_CACHE_DIR=$TMP/plainfile/sub expect_exit 0 "$CAPSIFT" spectrum --json "$TMP/b16.wav"
expect_grep "cannot create" "$TMP/err"
[ -f "$TMP/plainfile" ] && [ ! -s "$TMP/plainfile" ] && pass || fail "a file in the way was touched"

# bad input: a message naming the file and what is wrong
expect_exit 1 "$CAPSIFT" spectrum "$TMP/s.csv"
expect_grep "rate" "$TMP/err"
printf 'a,b\n1,2\n3,x\n' >"$TMP/bad.csv"
expect_exit 1 "$CAPSIFT" spectrum --rate 10 "$TMP/bad.csv"
expect_grep "line 3, column 2" "$TMP/err"
printf '1,2\n3\n' >"$TMP/ragged.csv"
expect_exit 1 "$CAPSIFT" spectrum --rate 10 "$TMP/ragged.csv"
expect_exit 1 "$CAPSIFT" spectrum --rate 10 --column 9 "$TMP/s.csv"
expect_grep "no column 9" "$TMP/err"
$PY -c 'import struct, sys
v = [0.5, float("nan"), 0.25, float("inf")] * 2048
open(sys.argv[1], "wb").write(struct.pack("<%df" % len(v), *v))' "$TMP/nan.f32"
expect_exit 1 "$CAPSIFT" spectrum --format f32 --rate 1000 "$TMP/nan.f32"
expect_grep "4096 samples are not numbers" "$TMP/err"
expect_grep "^Channel 1" "$TMP/out"
head -c 7 /dev/urandom >"$TMP/odd.s16"
expect_exit 1 "$CAPSIFT" spectrum --format s16 --rate 8000 "$TMP/odd.s16"
expect_grep "whole frames" "$TMP/err"
expect_exit 1 "$CAPSIFT" spectrum "$CAPS/dpkt--http.pcap"
expect_grep "not WAV" "$TMP/err"
expect_exit 1 "$CAPSIFT" spectrum --size 1000000 "$TMP/t.wav"
expect_exit 1 "$CAPSIFT" spectrum "$TMP"
head -c 100 "$TMP/b16.wav" >"$TMP/cut.wav"
expect_exit 1 "$CAPSIFT" spectrum "$TMP/cut.wav"
expect_exit 2 "$CAPSIFT" spectrum "$TMP/missing.wav"
expect_exit 2 "$CAPSIFT" spectrum --rate -5 "$TMP/t.wav"
expect_exit 2 "$CAPSIFT" spectrum --overlap 1 "$TMP/t.wav"
expect_exit 2 "$CAPSIFT" spectrum --window kaiser "$TMP/t.wav"
expect_exit 2 "$CAPSIFT" spectrum
# capture files of the corpus are not signals: refused, never a crash
for f in "$CAPS"/*; do
    "$CAPSIFT" spectrum --rate 1000 "$f" >/dev/null 2>&1
    rc=$?
    [ $rc -le 1 ] && pass || fail "spectrum $f: exit $rc"
done
finish
