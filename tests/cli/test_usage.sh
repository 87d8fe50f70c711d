#!/usr/bin/env bash
# Usage: every command's --help (from its option table) and what a bad invocation gets: the
# message, prefixed "capsift CMD:", and exit status 2, before anything is read or written.
. "$(dirname "$0")/lib.sh"
F="$CAPS/dpkt--http.pcap"
DOCS="${SIFT_SOURCE_DIR:?}/docs"

commands=$("$CAPSIFT" --help | awk '/^commands:/ {on = 1; next} on && /^  [a-z]/ {print $1}')
[ "$(echo "$commands" | wc -w)" -ge 8 ] && pass || fail "capsift --help lists: $commands"
for cmd in $commands; do
    expect_exit 0 "$CAPSIFT" "$cmd" --help
    cp "$TMP/out" "$TMP/help"
    expect_grep "^usage: capsift $cmd" "$TMP/help"
    expect_grep '^  -h, --help  +this help$' "$TMP/help"
    expect_grep '^exit status: 0 ' "$TMP/help"
    [ ! -s "$TMP/err" ] && pass || fail "$cmd --help wrote to stderr"
    expect_exit 0 "$CAPSIFT" help "$cmd"
    cmp -s "$TMP/out" "$TMP/help" && pass || fail "capsift help $cmd differs from $cmd --help"
    expect_exit 0 "$CAPSIFT" "$cmd" -h
    cmp -s "$TMP/out" "$TMP/help" && pass || fail "$cmd -h differs from $cmd --help"
    # no line past 79 columns, and every option --help names is on the command's page
    awk 'length > 79 {exit 1}' "$TMP/help" && pass || fail "$cmd --help has lines past 79 columns"
    for opt in $(grep -oE '^  (-[a-zA-Z], )?--[a-z-]+' "$TMP/help" | grep -oE -- '--[a-z-]+'); do
        [ "$opt" = --help ] && continue
        grep -qF -- "$opt" "$DOCS/capsift-$cmd.md" && pass ||
            fail "docs/capsift-$cmd.md does not mention $opt"
    done
done

# bad CODE CMD ARGS... -- REGEX: exit CODE, stderr is one line "capsift CMD: ..." matching REGEX
bad() {
    local code=$1 args=() msg
    shift
    while [ "$1" != -- ]; do args+=("$1"); shift; done
    msg=$2
    expect_exit "$code" "$CAPSIFT" "${args[@]}"
    [ "$(wc -l <"$TMP/err")" = 1 ] && pass || fail "${args[*]}: $(wc -l <"$TMP/err") lines on stderr"
    expect_grep "^capsift ${args[0]}: $msg" "$TMP/err"
    [ ! -s "$TMP/out" ] && pass || fail "${args[*]}: wrote to stdout"
}
bad 2 flows --limit 5 "$F" -- "'--limit' is an option of query, not of flows; did you mean '--top'\\?"
bad 2 stats --limit 5 "$F" -- "'--limit' is an option of query, not of stats; did you mean '--top'\\?"
bad 2 query --top 5 -- "'--top' is an option of flows, stats, timeline, periodic, cluster and classify, not of query; did you mean '--limit'\\?"
bad 2 flows --jsno "$F" -- "unknown option '--jsno'; did you mean '--json'\\?"
bad 2 stats --intreval 1s "$F" -- "unknown option '--intreval'; did you mean '--interval'\\?"
bad 2 flows --frobnicate "$F" -- "unknown option '--frobnicate' \\(see 'capsift flows --help'\\)"
bad 2 flows -x "$F" -- "unknown option '-x'"
bad 2 flows -w out.pcap "$F" -- "'-w' is an option of search and extract, not of flows"
bad 2 info --csv "$F" -- "'--csv' is an option of flows, meta, search, match, diff and query, not of info"
bad 2 flows --no "$F" -- "'--no' is ambiguous: --no-app, --no-meta, --no-cache"
bad 2 flows --json --csv "$F" -- "--json and --csv cannot be used together"
bad 2 query --csv --json -- "--csv and --json cannot be used together"
bad 2 flows --json=yes "$F" -- "--json takes no value"
bad 2 flows "$F" --top -- "--top needs a value \\(N\\)"
bad 2 info "$F" -j -- "-j needs a value \\(N\\)"
bad 2 flows --sort size "$F" -- "--sort takes packets, bytes, start or duration, not 'size'"
bad 2 index --hash md5 "$F" -- "--hash takes xxh3 or sha256, not 'md5'"
bad 2 query --group-by vlan -- "--group-by takes host, port, app or file, not 'vlan'"
bad 2 flows -- "no input files \\(see 'capsift flows --help'\\)"
bad 2 index -- "no input files"
bad 2 info -r -- "-r needs a value \\(FILE\\)"
bad 2 flows "$TMP/missing.pcap" -- "$TMP/missing.pcap: "
bad 2 query 'port 80' tcp -- "give the expression as one argument"
bad 2 query --db "$TMP/none.db" -- "$TMP/none.db: no such index; run capsift index first"
bad 2 extract 'port 80' -- "give one EXPRESSION and -w OUT"
bad 2 cache -- "say stats, clear or path"
bad 2 cache stats --csv -- "'--csv' is an option of"
bad 2 bench nosuch -- "no bench entry named 'nosuch'"
bad 2 bench --seed x -- "--seed needs a whole number"
expect_exit 2 "$CAPSIFT" nosuch
expect_grep "^capsift: unknown command 'nosuch' \(see 'capsift --help'\)" "$TMP/err"
expect_exit 2 "$CAPSIFT" flow "$F"
expect_grep "^capsift: unknown command 'flow'; did you mean 'flows'\?" "$TMP/err"
expect_exit 2 "$CAPSIFT" help stat
expect_grep "did you mean 'stats'\?" "$TMP/err"
expect_exit 2 "$CAPSIFT"
expect_grep '^usage: capsift COMMAND' "$TMP/err"
[ ! -e "$TMP/none.db" ] && [ ! -e out.pcap ] && pass || fail "a refused invocation wrote a file"

# -r is an input like a name after the options, in the order given; options may follow files
expect_exit 0 "$CAPSIFT" flows --no-cache "$F" "$CAPS/zeek--206_example_b.pcap"
cp "$TMP/out" "$TMP/two"
expect_exit 0 "$CAPSIFT" flows --no-cache -r "$F" -r "$CAPS/zeek--206_example_b.pcap"
cmp -s "$TMP/out" "$TMP/two" && pass || fail "flows -r A -r B differs from flows A B"
expect_exit 0 "$CAPSIFT" flows -r "$F" "$CAPS/zeek--206_example_b.pcap" --no-cache
cmp -s "$TMP/out" "$TMP/two" && pass || fail "flows -r A B --no-cache differs from flows A B"
expect_exit 0 "$CAPSIFT" info --json -r "$F"
expect_grep '"packets":' "$TMP/out"
expect_exit 0 "$CAPSIFT" index --db "$TMP/r.db" -q -r "$F"
expect_exit 0 "$CAPSIFT" query --db "$TMP/r.db" --json --limit 1
[ "$(wc -l <"$TMP/out")" = 1 ] && pass || fail "index -r indexed nothing"
# a unique prefix of a long option is that option (getopt's rule), and --opt=value works
expect_exit 0 "$CAPSIFT" flows --no-cache --js --top=2 "$F"
[ "$(wc -l <"$TMP/out")" = 2 ] && head -1 "$TMP/out" | grep -q '^{' && pass || fail "--js --top=2"

finish
