#!/usr/bin/env python3
"""Checks `capsift spectrum --json --bins` against scipy.signal.welch on the same samples.

usage: spectrum_ref.py SPECTRUM_JSON SIGNAL KIND [FREQ...]

KIND says how scipy reads SIGNAL: wav, csv:COL,COL (columns from 1; a header line skipped), or
raw:s16:CHANNELS / raw:f32:CHANNELS. Every bin of every channel must be scipy's density
(relative 1e-4, above a floor of 1e-9 of the largest bin), and when FREQ are given (one per
channel) the channel's strongest peak must be within one bin of it. Prints one line; exit 1 on a
difference.
"""
import json
import sys

import numpy as np
from scipy.io import wavfile
from scipy.signal import welch


def fail(msg):
    print("FAIL " + msg)
    sys.exit(1)


def samples(path, kind):
    """Frames x channels as floats, scaled as libsndfile scales integer samples."""
    if kind == "wav":
        _, x = wavfile.read(path)
        if x.dtype == np.uint8:
            x = (x.astype(np.float64) - 128) / 128
        elif x.dtype == np.int16:
            x = x / 32768.0
        elif x.dtype == np.int32:  # 32-bit, and 24-bit left-justified by scipy
            x = x / 2147483648.0
        else:
            x = x.astype(np.float64)
    elif kind.startswith("csv:"):
        cols = [int(c) - 1 for c in kind[4:].split(",")]
        x = np.loadtxt(path, delimiter=",", skiprows=1, usecols=cols, ndmin=2)
    else:
        _, fmt, ch = kind.split(":")
        dt = "<i2" if fmt == "s16" else "<f4"
        x = np.fromfile(path, dtype=dt).astype(np.float64)
        if fmt == "s16":
            x = x / 32768.0
        x = x.reshape(-1, int(ch))
    return x.reshape(len(x), -1)


r = json.loads(open(sys.argv[1]).readline())
x = samples(sys.argv[2], sys.argv[3])
freqs = [float(f) for f in sys.argv[4:]]
if x.shape[1] != r["nchannels"] or len(x) != r["frames"]:
    fail(f"{r['nchannels']} channels, {r['frames']} frames; scipy {x.shape[1]}, {len(x)}")
win = {"rect": "boxcar"}.get(r["window"], r["window"])
for c, sp in enumerate(r["spectra"]):
    f, p = welch(x[:, c], fs=r["rate"], window=win, nperseg=r["nfft"], noverlap=r["overlap"],
                 detrend="constant", scaling="density")
    got = np.array(sp["psd"])
    if len(got) != len(p):
        fail(f"channel {c + 1}: {len(got)} bins, scipy {len(p)}")
    floor = 1e-9 * p.max()
    bad = np.abs(got - p) > 1e-4 * np.abs(p) + floor
    if bad.any():
        k = int(np.argmax(bad))
        fail(f"channel {c + 1} bin {k}: {got[k]}, scipy {p[k]}")
    if freqs:
        if not sp["peaks"]:
            fail(f"channel {c + 1}: no peak")
        top = sp["peaks"][0]["freq"]
        if abs(top - freqs[c]) > r["bin_hz"]:
            fail(f"channel {c + 1}: peak at {top} Hz, want {freqs[c]} within {r['bin_hz']}")
print(f"ok {r['nchannels']} channels, {len(p)} bins, {r['segments']} segments")
