#!/usr/bin/env bash
# capsift bench --quick --json on the bundled captures: every entry runs and its values are
# sane (fp rate near the target, recall, accuracy, fields present). Never a timing threshold,
# not even a speedup above 1 (a timing comparison, which a loaded machine or a sanitizer build
# turns over: bloom's was 0.91 under ASan beside other jobs): the machine is shared.
. "$(dirname "$0")/lib.sh"

expect_exit 0 "$CAPSIFT" bench --quick --json
cp "$TMP/out" "$TMP/bench.json"
python3 - "$TMP/bench.json" <<'PY' && pass || fail "bench --quick --json values"
import json, math, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows[r["name"]] = r
assert sorted(rows) == ["bloom", "lsh", "patcache", "patterns", "rolling"], sorted(rows)
for name, r in rows.items():
    for k in ("name", "ops_per_s", "baseline_ops_per_s", "speedup", "claim", "memory_bytes"):
        assert k in r, (name, k)
    assert r["ops_per_s"] > 0 and r["baseline_ops_per_s"] > 0, name
    assert math.isclose(r["speedup"], r["ops_per_s"] / r["baseline_ops_per_s"], rel_tol=1e-3), name
    assert r["claim"], name
    assert r["memory_bytes"] > 0, name
b = rows["bloom"]
assert b["keys"] == 1e6, b["keys"]
assert 0 < b["fp_rate"] <= 1.5 * b["fp_target"], (b["fp_rate"], b["fp_target"])
assert b["fp_trials"] > 100000
assert b["memory_bytes"] < b["baseline_memory_bytes"]
assert b["p50_ns"] <= b["p95_ns"] <= b["p99_ns"]
l = rows["lsh"]
assert l["sets"] == 10000
assert l["recall"] >= 0.95, l["recall"]
assert l["exact_pairs"] > 0 and l["found_pairs"] <= l["exact_pairs"] <= l["candidates"] * 2
assert l["found_pairs"] <= l["candidates"]
assert l["bands"] * l["rows"] <= l["k"]
assert l["time_s"] <= l["time_verified_s"]
p = rows["patterns"]  # the entry fails when the compiled set and memmem disagree
assert p["patterns"] == 10 and p["payloads"] > 1000 and p["pairs_checked"] > 0, p
assert p["gbps"] > 0 and p["baseline_gbps"] > 0 and p["speedup_1000"] > 0, p
c = rows["patcache"]  # every warm start must come from the cache, or the entry fails
assert c["patterns"] == 1000 and c["compile_ms"] > 0 and c["warm_ms"] > 0, c
assert c["speedup"] > 0 and c["memory_tier_speedup"] > 0, c
r = rows["rolling"]
assert r["window"] == 1000
assert r["speedup"] > 0 and r["median_speedup"] > 0, (r["speedup"], r["median_speedup"])
assert r["max_rel_err_mean"] < 1e-9 and r["max_rel_err_variance"] < 1e-6
assert r["max_rel_err_median"] <= r["quantile_alpha"] * 1.0001
PY

# one entry by name, human output with the claim beside our figure
expect_exit 0 "$CAPSIFT" bench --quick rolling
expect_grep '^rolling: ' "$TMP/out"
expect_grep 'claim +rolling statistics vs recomputing each window: 5-10x' "$TMP/out"
expect_grep 'speedup [0-9.]+x' "$TMP/out"

# listing, usage errors, missing data
expect_exit 0 "$CAPSIFT" bench --list
expect_grep '^bloom ' "$TMP/out"
expect_grep '^lsh ' "$TMP/out"
expect_exit 0 "$CAPSIFT" bench --help
expect_grep 'usage: capsift bench' "$TMP/out"
expect_exit 2 "$CAPSIFT" bench nosuchentry
expect_grep "no bench entry named 'nosuchentry'" "$TMP/err"
expect_exit 2 "$CAPSIFT" bench --threads 0
expect_exit 1 "$CAPSIFT" bench --quick --data "$TMP/empty-dir-that-does-not-exist" bloom
expect_grep 'capture directory' "$TMP/err"

finish
