# Shared helpers for bench/*.sh: timing with medians, peak memory, the benchmark captures.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DATA=${BENCH_DATA:-$HERE/data}
CAPSIFT=${CAPSIFT:-$ROOT/build/capsift}
RUNS=${RUNS:-5}
SHARED_BENCH=${SHARED_BENCH:-$ROOT/../shared/bench}
mkdir -p "$DATA"

# big_capture NAME SIZE_MB: makes $DATA/NAME from the shared corpus once, prints its path.
big_capture() {
    local out=$DATA/$1
    if [ ! -s "$out" ]; then
        echo "making $out ($2 MB) ..." >&2
        "$SHARED_BENCH/make-big-capture.sh" "$out" "$2" >&2
    fi
    echo "$out"
}

# measure LABEL CMD...: runs CMD $RUNS times (stdout discarded) after one warm-up run, and
# prints "LABEL median_seconds peak_rss_kb". The result is kept in $M_SEC and $M_KB.
measure() {
    local label=$1; shift
    "$@" >/dev/null 2>&1 || true
    local times=() kb=0 t k tf
    tf=$(mktemp)
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -o "$tf" -f "%e %M" "$@" >/dev/null 2>&1 || true
        read -r t k < <(tail -n 1 "$tf") # after "Command exited with non-zero status"
        times+=("$t")
        if [ "$k" -gt "$kb" ]; then kb=$k; fi
    done
    rm -f "$tf"
    M_SEC=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    M_KB=$kb
    printf '%-44s %8.3f s %9d KB\n' "$label" "$M_SEC" "$M_KB"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'; }
