#!/usr/bin/env bash
# The result cache through the program: the library's cache of pass states, one entry per file
# and set of passes (and periodic's scored groups). Repeated flows/stats/info runs are hits with byte-identical output (and the
# same exit status and messages for damaged files and limits reached), whatever the output
# options and -j; changed inputs and result-changing options are misses; --no-cache bypasses;
# stdin is never stored; a damaged or unusable cache file never fails a command; cache clear
# empties. Over the whole corpus, runs answered from the cache print what reads print.
. "$(dirname "$0")/lib.sh"
unset CAPSIFT_NO_CACHE
export CAPSIFT_CACHE_DIR=$TMP/cache

# counter NAME: a field of `capsift cache stats --json`
counter() {
    "$CAPSIFT" cache stats --json >"$TMP/stats.json" 2>/dev/null
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
        "$TMP/stats.json" "$1"
}

# want NAME VALUE: the counter has that value
want() {
    local got
    got=$(counter "$1")
    if [ "$got" = "$2" ]; then pass; else fail "cache stats $1 is $got, wanted $2"; fi
}

# ref_run CMD...: a reference run (a read): its exit status in ref_rc, its output kept
ref_run() {
    "$@" >"$TMP/ref.out" 2>"$TMP/ref.err"
    ref_rc=$?
}
# like_ref WHAT CMD...: CMD exits, prints and says on stderr what the reference run did
like_ref() {
    local what=$1 rc
    shift
    "$@" >"$TMP/got.out" 2>"$TMP/got.err"
    rc=$?
    if [ "$rc" = "$ref_rc" ] && cmp -s "$TMP/got.out" "$TMP/ref.out" &&
        cmp -s "$TMP/got.err" "$TMP/ref.err"; then
        pass
    else
        fail "$what: exit $rc and output differ from a read (exit $ref_rc)"
        diff "$TMP/got.out" "$TMP/ref.out" | head -5 >&2
    fi
}

F=$TMP/a.pcap
cp "$CAPS/zeek--206_example_b.pcap" "$F"
touch -d '2020-01-01 00:00:00' "$F"

# flows: the first run stores the file's states, the second answers from L2 with the same bytes
expect_exit 0 "$CAPSIFT" flows "$F"
cp "$TMP/out" "$TMP/flows.1"
want misses 1
want puts 1
expect_exit 0 "$CAPSIFT" flows "$F"
cmp -s "$TMP/out" "$TMP/flows.1" && pass || fail "flows: cached output differs"
want l2_hits 1
want puts 1
# the capture, and the capsift executable (part of every key) unless it was built just now
fps=$(counter fingerprints)
[ "$fps" -ge 1 ] && [ "$fps" -le 2 ] && pass || fail "cache stats fingerprints is $fps"
[ -s "$TMP/flows.1" ] && pass || fail "flows printed nothing"

# --no-cache computes again, the same output, and neither looks up nor stores
expect_exit 0 "$CAPSIFT" flows --no-cache "$F"
cmp -s "$TMP/out" "$TMP/flows.1" && pass || fail "flows --no-cache differs"
CAPSIFT_NO_CACHE=1 "$CAPSIFT" flows "$F" >/dev/null 2>&1
want hits 1
want misses 1

# an entry holds the file's states, not an output: every format, sort, --top and -j answer
# from it, as they would from a read
for opt in "--json --no-meta" "--csv" "--top 3" "--sort bytes" "--json --no-meta -j 1"; do
    expect_exit 0 "$CAPSIFT" flows $opt "$F"
    cp "$TMP/out" "$TMP/flows.opt"
    expect_exit 0 "$CAPSIFT" flows --no-cache $opt "$F"
    cmp -s "$TMP/out" "$TMP/flows.opt" && pass || fail "flows $opt: cached output differs"
done
want hits 6
want misses 1
want puts 1
# a config that changes the result is another entry
expect_exit 0 "$CAPSIFT" flows --no-app --json --no-meta "$F"
cp "$TMP/out" "$TMP/flows.noapp"
expect_exit 0 "$CAPSIFT" flows --no-app --json --no-meta "$F"
cmp -s "$TMP/out" "$TMP/flows.noapp" && pass || fail "flows --no-app: cached output differs"
cmp -s "$TMP/flows.noapp" "$TMP/flows.opt" && fail "flows --no-app answered with detection" || pass
want misses 2
want puts 2

# stats (and the flows it is built on): another entry; text, JSON and --top from it
for opt in "" "--json" "--top 2"; do
    expect_exit 0 "$CAPSIFT" stats $opt "$F"
    cp "$TMP/out" "$TMP/stats.1"
    expect_exit 0 "$CAPSIFT" stats $opt "$F"
    cmp -s "$TMP/out" "$TMP/stats.1" && pass || fail "stats $opt: cached output differs"
    expect_exit 0 "$CAPSIFT" stats --no-cache $opt "$F"
    cmp -s "$TMP/out" "$TMP/stats.1" && pass || fail "stats $opt: uncached output differs"
done
want hits 12
want misses 3
want puts 3
for opt in "--interval 1m" "--max-keys 2"; do
    expect_exit 0 "$CAPSIFT" stats --json $opt "$F"
    cp "$TMP/out" "$TMP/stats.2"
    expect_exit 0 "$CAPSIFT" stats --json --no-cache $opt "$F"
    cmp -s "$TMP/out" "$TMP/stats.2" && pass || fail "stats $opt: cached output differs"
done
want misses 5

# a new mtime with the same content: read again, same fingerprint, still a hit
touch -d '2021-01-01 00:00:00' "$F"
expect_exit 0 "$CAPSIFT" flows "$F"
cmp -s "$TMP/out" "$TMP/flows.1" && pass || fail "flows after touch differs"
want hits 13

# changed content under the same name: a miss, and the new answer
cp "$CAPS/pcapplusplus--http-packets.pcap" "$F"
touch -d '2020-01-01 00:00:00' "$F"
expect_exit 0 "$CAPSIFT" flows "$F"
cp "$TMP/out" "$TMP/flows.2"
want misses 6
expect_exit 0 "$CAPSIFT" flows --no-cache "$F"
cmp -s "$TMP/out" "$TMP/flows.2" && pass || fail "flows of the changed file differs from uncached"
cmp -s "$TMP/flows.1" "$TMP/flows.2" && fail "changed file gave the old answer" || pass

# a directory: an entry per file; the total (stats --total) is merged from them as from reads.
# Entries are keyed by content, not name: the capture added there has the content $F had
# when stats ran on it, so it answers too
mkdir "$TMP/dir"
cp "$CAPS/ndpi--dtls.pcap" "$CAPS/dpkt--http.pcap" "$TMP/dir/"
touch -d '2020-01-01 00:00:00' "$TMP/dir"/*
expect_exit 0 "$CAPSIFT" stats "$TMP/dir"
cp "$TMP/out" "$TMP/dir.1"
want misses 8
expect_exit 0 "$CAPSIFT" stats "$TMP/dir"
cmp -s "$TMP/out" "$TMP/dir.1" && pass || fail "stats DIR: cached output differs"
want hits 15
cp "$CAPS/zeek--206_example_b.pcap" "$TMP/dir/"
touch -d '2020-01-01 00:00:00' "$TMP/dir"/*
expect_exit 0 "$CAPSIFT" stats --total "$TMP/dir"
cp "$TMP/out" "$TMP/dir.2"
want hits 18
want misses 8
expect_exit 0 "$CAPSIFT" stats --total --no-cache "$TMP/dir"
cmp -s "$TMP/out" "$TMP/dir.2" && pass || fail "stats --total DIR: cached output differs"
cmp -s "$TMP/dir.2" "$TMP/dir.1" && fail "a capture added to DIR gave the old answer" || pass

# standard input is never stored; a damaged file is, and its answer comes back with the same
# exit status and messages; so does a flow limit reached
puts=$(counter puts)
expect_exit 0 "$CAPSIFT" flows - <"$CAPS/dpkt--http.pcap"
expect_exit 0 "$CAPSIFT" flows - <"$CAPS/dpkt--http.pcap"
want puts "$puts"
for opt in "" "--max-flows 2"; do
    D=$CAPS/dpkt--truncated_dns_2.pcap
    [ -n "$opt" ] && D=$CAPS/dpkt--http.pcap
    ref_run "$CAPSIFT" flows --no-cache $opt "$D"
    for k in 1 2; do
        like_ref "flows $opt $D run $k" "$CAPSIFT" flows $opt "$D"
    done
    [ "$ref_rc" = 1 ] && pass || fail "flows $opt $D exits $ref_rc"
done
expect_grep 'flow limit' "$TMP/got.err"
want puts $((puts + 2))
expect_exit 2 "$CAPSIFT" flows "$TMP/does-not-exist.pcap"
want puts $((puts + 2))

# cache clear empties it
expect_exit 0 "$CAPSIFT" cache clear
expect_grep '^cleared ' "$TMP/out"
want l2_entries 0
want fingerprints 0
want hits 0
expect_exit 0 "$CAPSIFT" flows "$F"
want misses 1

# a damaged cache file (garbage after the header): the command still answers, with a warning;
# clear removes it (someone else's file there is never removed: tests/cli/test_faults.sh)
head -c 4000 /dev/urandom | dd of="$CAPSIFT_CACHE_DIR/cache.db" bs=1 seek=100 conv=notrunc 2>/dev/null
rm -f "$CAPSIFT_CACHE_DIR/cache.db-wal" "$CAPSIFT_CACHE_DIR/cache.db-shm"
expect_exit 0 "$CAPSIFT" flows "$F"
cmp -s "$TMP/out" "$TMP/flows.2" && pass || fail "flows with a damaged cache file differs"
expect_grep 'warning: cache: .*(not a database|malformed).*off for this run' "$TMP/err"
expect_exit 0 "$CAPSIFT" stats "$F"
want l2_on False
expect_exit 0 "$CAPSIFT" cache clear
expect_grep '^removed ' "$TMP/out"
expect_exit 0 "$CAPSIFT" flows "$F"
[ -s "$TMP/err" ] && fail "warning after the damaged file was removed" || pass
want l2_on True
want puts 1

# an unusable location (a regular file where the directory should be; a read-only directory
# for other users than root): answers as usual, with a warning
CAPSIFT_CACHE_DIR=$F/cache expect_exit 0 "$CAPSIFT" flows "$F"
cmp -s "$TMP/out" "$TMP/flows.2" && pass || fail "flows with an unusable cache location differs"
expect_grep 'warning: cache: cannot create' "$TMP/err"
mkdir -p "$TMP/ro" && chmod 555 "$TMP/ro"
CAPSIFT_CACHE_DIR=$TMP/ro expect_exit 0 "$CAPSIFT" flows "$F"
cmp -s "$TMP/out" "$TMP/flows.2" && pass || fail "flows with a read-only cache directory differs"
chmod 755 "$TMP/ro"

# usage
expect_exit 2 "$CAPSIFT" cache
expect_exit 2 "$CAPSIFT" cache frobnicate
expect_exit 0 "$CAPSIFT" cache path
expect_grep "^$CAPSIFT_CACHE_DIR/cache.db\$" "$TMP/out"

# -j is not in the key: a result stored by a run split over 8 threads in small ranges answers
# a run on one thread, and equals what that run computes
G=$TMP/j.pcap
cp "$CAPS/pcapplusplus--http-packets.pcap" "$G"
for cmd in flows stats; do
    CAPSIFT_RANGE_BYTES=64k "$CAPSIFT" $cmd -j 8 "$G" >"$TMP/j8" 2>&1
    hits=$(counter hits)
    "$CAPSIFT" $cmd -j 1 "$G" >"$TMP/j1.hit" 2>&1
    want hits $((hits + 1))
    "$CAPSIFT" $cmd --no-cache -j 1 "$G" >"$TMP/j1" 2>&1
    if cmp -s "$TMP/j1" "$TMP/j1.hit" && cmp -s "$TMP/j1" "$TMP/j8"; then
        pass
    else
        fail "$cmd: the result cached from -j 8 differs from a -j 1 run"
    fi
done
# info: one entry per file (the library's cache of pass states): a second run reads nothing
# and prints the same, text and JSON, for -j 1 and -j 8; a damaged file's problems, exit status
# and messages come back too; a changed file is read again; stdin is never cached
expect_exit 0 "$CAPSIFT" cache clear
I=$TMP/info
mkdir "$I"
cp "$CAPS/pcapplusplus--http-packets.pcap" "$CAPS/dpkt--http.pcap" "$CAPS/ndpi--dtls.pcap" "$I/"
cp "$CAPS/dpkt--truncated_dns_2.pcap" "$I/damaged.pcap"
touch -d '2020-01-01 00:00:00' "$I"/* # a file written in the last 2 s has no memo entry
# info reads less than a fingerprint would: it caches files whose fingerprint another command
# has taken (here flows, which stores its own 4 entries)
"$CAPSIFT" info "$I" >/dev/null 2>&1
want puts 0
"$CAPSIFT" flows "$I" >/dev/null 2>&1
want puts 4
for opt in "" "--json"; do
    ref_run "$CAPSIFT" info --no-cache $opt "$I"
    for j in 8 1; do
        CAPSIFT_RANGE_BYTES=64k like_ref "info $opt -j $j from the cache" "$CAPSIFT" info -j $j $opt "$I"
    done
done
[ "$ref_rc" = 1 ] && pass || fail "info of a damaged file exits $ref_rc"
# an entry is a file's states, whatever the output format or -j: stored once, then answered
want puts 8
want misses 8
want hits 12
# a changed file is read again, the others answer from the cache
cp "$CAPS/zeek--206_example_b.pcap" "$I/dpkt--http.pcap"
touch -d '2020-01-02 00:00:00' "$I/dpkt--http.pcap"
"$CAPSIFT" info --json "$I" >"$TMP/info.out" 2>/dev/null
"$CAPSIFT" info --no-cache --json "$I" >"$TMP/info.ref" 2>/dev/null
cmp -s "$TMP/info.out" "$TMP/info.ref" && pass || fail "info after a change differs from a read"
want hits 15
want puts 8
# standard input is read every time
"$CAPSIFT" info - <"$CAPS/dpkt--http.pcap" >/dev/null 2>&1
"$CAPSIFT" info - <"$CAPS/dpkt--http.pcap" >/dev/null 2>&1
want puts 8
want hits 15
CAPSIFT_NO_CACHE=1 "$CAPSIFT" info "$I" >/dev/null 2>&1
want hits 15

# flows --json with each flow's metadata runs the metadata pass too: a set of passes of its
# own, stored once and answered from then on
before_m=$(counter misses) before_h=$(counter hits)
expect_exit 0 "$CAPSIFT" flows --json "$CAPS/dpkt--http.pcap"
cp "$TMP/out" "$TMP/flows.meta"
expect_exit 0 "$CAPSIFT" flows --json "$CAPS/dpkt--http.pcap"
cmp -s "$TMP/out" "$TMP/flows.meta" && grep -q '"meta":\[{' "$TMP/out" && pass ||
    fail "flows --json with metadata: cached output differs"
[ $(($(counter misses) - before_m)) = 1 ] && [ $(($(counter hits) - before_h)) = 1 ] && pass ||
    fail "flows --json with metadata: not one miss then one hit"

# the whole corpus: every file answered from the cache prints what reading it prints
# (flows first: info caches only files whose fingerprints are known)
if have_shared; then
    for cmd in flows stats info; do
        "$CAPSIFT" $cmd --json -j 2 "$SHARED" >/dev/null 2>&1
        ref_run "$CAPSIFT" $cmd --json --no-cache -j 2 "$SHARED"
        before=$(counter hits)
        like_ref "$cmd over the corpus from the cache" "$CAPSIFT" $cmd --json -j 2 "$SHARED"
        hits=$(($(counter hits) - before))
        [ "$hits" -gt 700 ] && pass || fail "$cmd over the corpus: only $hits answers from the cache"
        [ "$(grep -c '"file"' "$TMP/ref.out")" -gt 700 ] && pass ||
            fail "$cmd over the corpus: too few files"
    done
    # one report over every file: each file's state answered, and periodic's scored groups
    for cmd in "periodic --json --all --top 0" "timeline --json --by port --top 5 --interval 1h"; do
        "$CAPSIFT" $cmd -j 2 "$SHARED" >/dev/null 2>&1
        ref_run "$CAPSIFT" $cmd --no-cache -j 2 "$SHARED"
        before=$(counter hits)
        like_ref "$cmd over the corpus from the cache" "$CAPSIFT" $cmd -j 2 "$SHARED"
        hits=$(($(counter hits) - before))
        [ "$hits" -gt 700 ] && pass || fail "$cmd over the corpus: only $hits answers from the cache"
        [ "$(wc -c <"$TMP/ref.out")" -gt 10000 ] && pass || fail "$cmd over the corpus: little output"
    done
fi
finish
