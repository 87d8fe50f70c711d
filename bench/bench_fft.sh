#!/usr/bin/env bash
# The FFT layer of capsift spectrum (bench_fft): a 1,048,576-point real FFT with a fresh plan
# each time and with the plan reused, Hann-windowed with and without the window cache; beside
# it, in the same run, numpy's and scipy's rfft of the same size (the peer analysts script
# with), and capsift spectrum against scipy.signal.welch on a 60 s, 1 MHz float32 signal.
# Env: BENCH_BIN (default build/bench), CAPSIFT.
. "$(dirname "$0")/lib.sh"
BIN=${BENCH_BIN:-$ROOT/build/bench}
echo "== fft: 1,048,576 points, median of 21"
"$BIN/bench_fft" 1048576 21
PY=/usr/bin/python3
if $PY -c 'import numpy, scipy' 2>/dev/null; then
    $PY - <<'PY'
import time
import numpy as np
import scipy.fft
x = np.sin(2 * np.pi * 0.1234 * np.arange(1048576)) + np.random.default_rng(1).random(1048576) - 0.5
for name, f in (("numpy.fft.rfft", np.fft.rfft), ("scipy.fft.rfft", scipy.fft.rfft)):
    t = []
    for _ in range(21):
        t0 = time.perf_counter()
        f(x)
        t.append(time.perf_counter() - t0)
    print(f"{name + ' (peer)':<46} {sorted(t)[10] * 1e3:9.3f} ms")
PY
    SIG=$(mktemp --suffix=.f32)
    trap 'rm -f "$SIG"' EXIT
    $PY -c 'import numpy as np, sys; (np.random.default_rng(2).standard_normal(60_000_000) * 0.1).astype("<f4").tofile(sys.argv[1])' "$SIG"
    measure "capsift spectrum, 60 M samples (240 MB)" "$CAPSIFT" spectrum --format f32 --rate 1e6 "$SIG"
    ours=$M_SEC
    measure "scipy.signal.welch, the same (np.fromfile)" $PY -c '
import sys, numpy as np
from scipy.signal import welch
welch(np.fromfile(sys.argv[1], dtype="<f4").astype(np.float64), fs=1e6, nperseg=4096)' "$SIG"
    echo "  -> capsift spectrum $(ratio "$M_SEC" "$ours")x faster than scipy, in constant memory"
fi
