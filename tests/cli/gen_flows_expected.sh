#!/usr/bin/env bash
# Regenerates tests/cli/expected/*.conv and *.phs from tshark (run by hand, once; the tests
# read the committed files and never need tshark).
#   .conv: one line per TCP/UDP conversation of `tshark -q -z conv,tcp -z conv,udp`:
#          "tcp|udp ENDPOINT ENDPOINT FRAMES", endpoints "addr:port" in string order, sorted
#   .phs:  the first three levels of `tshark -q -z io,phs`: "path frames bytes", sorted
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${1:-$here/../../../shared/captures/traffic}
out=$here/expected
mkdir -p "$out"
for f in "$src"/*; do
  name=$(basename "$f")
  tshark -q -z conv,tcp -z conv,udp -r "$f" 2>/dev/null | awk '
    /^TCP Conversations/ { p = "tcp" } /^UDP Conversations/ { p = "udp" }
    $2 == "<->" && p != "" {
      a = $1; b = $3; if (a > b) { t = a; a = b; b = t }
      print p, a, b, $10 }' | LC_ALL=C sort > "$out/$name.conv"
  tshark -q -z io,phs -r "$f" 2>/dev/null | awk '
    /frames:/ {
      match($0, /^ */); d = RLENGTH / 2; name = $1
      path[d] = name; s = path[0]; for (i = 1; i <= d; i++) s = s ":" path[i]
      split($2, fr, ":"); split($3, by, ":")
      if (d <= 2) print s, fr[2], by[2] }' | LC_ALL=C sort > "$out/$name.phs"
done
