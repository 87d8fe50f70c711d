#!/usr/bin/env bash
# Runs every benchmark script in bench/ (bench_*.sh), one after the other.
set -euo pipefail
cd "$(dirname "$0")"
for b in bench_*.sh; do
    echo "### $b"
    bash "$b"
done
