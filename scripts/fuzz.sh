#!/usr/bin/env bash
# Runs one libFuzzer target of `make fuzz` for a while:  scripts/fuzz.sh TARGET [SECONDS] [JOBS]
#   TARGET: reader, decode, pipeline, filter, options or query (fuzz/fuzz_TARGET.c)
# The working corpus grows in build-fuzz/corpus/TARGET, seeded from fuzz/corpus/TARGET and, for
# the targets that read capture bytes, the bundled and shared captures. Crashes land in
# build-fuzz/artifacts/TARGET/: minimise one with `build-fuzz/fuzz/fuzz_TARGET -minimize_crash=1
# FILE`, fix the bug, and commit the input to fuzz/corpus/TARGET/ as a regression seed.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh TARGET [SECONDS] [JOBS]}
secs=${2:-600}
jobs=${3:-1}
bin=${FUZZ_BUILD:-build-fuzz}/fuzz/fuzz_$target
[ -x "$bin" ] || { echo "fuzz.sh: $bin not built; run 'make fuzz' first" >&2; exit 2; }
work=${FUZZ_BUILD:-build-fuzz}/corpus/$target
art=${FUZZ_BUILD:-build-fuzz}/artifacts/$target
mkdir -p "$work" "$art"
seeds=()
[ -d fuzz/corpus/"$target" ] && seeds+=(fuzz/corpus/"$target")
case $target in
reader | decode | pipeline)
    seeds+=(tests/captures)
    for d in malformed formats; do [ -d ../shared/captures/$d ] && seeds+=(../shared/captures/$d); done
    ;;
esac
dict=()
[ -f "fuzz/$target.dict" ] && dict=(-dict="fuzz/$target.dict")
par=()
[ "$jobs" -gt 1 ] && par=(-fork="$jobs")
exec "$bin" "$work" "${seeds[@]}" "${dict[@]}" "${par[@]}" -max_total_time="$secs" \
    -artifact_prefix="$art/" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
