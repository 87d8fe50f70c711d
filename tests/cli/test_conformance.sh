#!/usr/bin/env bash
# Results never depend on -j or on how a file is split: info, flows and stats (without
# application detection) over the bundled captures and the shared corpus give byte-identical
# output, messages included, read whole on one thread and split into small ranges
# (CAPSIFT_RANGE_BYTES) on 2 and 8. With nDPI, a flow whose classification spans a range
# boundary can still differ (see docs/capsift-flows.md); that is checked by test_flows on whole
# files.
. "$(dirname "$0")/lib.sh"

dirs=("$CAPS")
if have_shared; then
    for d in traffic formats malformed; do dirs+=("$SHARED/$d"); done
fi
for d in "${dirs[@]}"; do
    for cmd in "info --json" "flows --no-cache --no-app --json" "stats --no-cache --no-app --json"; do
        "$CAPSIFT" $cmd -j 1 "$d" >"$TMP/whole" 2>&1
        for spec in "64k 2" "4k 2" "4k 8"; do
            read -r range threads <<<"$spec"
            CAPSIFT_RANGE_BYTES=$range "$CAPSIFT" $cmd -j "$threads" "$d" >"$TMP/split" 2>&1
            if cmp -s "$TMP/whole" "$TMP/split" && [ -s "$TMP/whole" ]; then
                pass
            else
                fail "$cmd $d: -j 1 whole and -j $threads in $range ranges differ"
                diff "$TMP/whole" "$TMP/split" | head -4 >&2
            fi
        done
    done
done
finish
