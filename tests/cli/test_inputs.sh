#!/usr/bin/env bash
# Directory inputs: nothing that may be evidence is skipped without a word. Captures with a
# damaged start, unreadable files and subdirectories are inputs with errors (exit 1) while the
# rest of the tree is still read; links are followed, each real file read once; a summary line
# counts what was left out and why. The same rules hold for info, flows and index.
. "$(dirname "$0")/lib.sh"

chmod 755 "$TMP"
D=$TMP/d
mkdir -p "$D/sub" "$D/locked"
cp "$CAPS/dpkt--http.pcap" "$D/a.pcap"
cp "$CAPS/ndpi--dtls.pcap" "$D/sub/b"                  # no extension: found by its magic
cp "$CAPS/zeek--206_example_b.pcap" "$TMP/outside.pcap"
ln -s ../../outside.pcap "$D/sub/link.pcap"            # a link out of the tree: followed
ln -s a.pcap "$D/again.pcap"                           # the same file twice: read once
ln -s .. "$D/sub/loop"                                 # a loop: walked once
ln -s nowhere "$D/broken"                              # a link to nothing
printf 'garbage, not a capture' >"$D/damaged.pcap"     # capture name, damaged start
echo notes >"$D/readme.txt"                            # not a capture
touch "$D/.hidden.pcap"                                # hidden
cp "$CAPS/dpkt--http.pcap" "$D/locked/c.pcap"
cp "$CAPS/dpkt--http.pcap" "$D/noperm.pcap"
chmod 000 "$D/noperm.pcap" "$D/locked"
chmod 644 "$TMP/outside.pcap"

as_user() {
    if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
        setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
    else
        "$@"
    fi
}

as_user "$CAPSIFT" info --json "$D" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" = 1 ] && pass || fail "info over the tree: exit $rc, wanted 1"
python3 - "$TMP/out" "$D" <<'PY' && pass || fail "info over the tree: wrong inputs"
import json, sys
rows = {json.loads(l)["file"][len(sys.argv[2]) + 1:]: json.loads(l) for l in open(sys.argv[1])}
want_ok = {"a.pcap", "sub/b", "sub/link.pcap"}
want_err = {"damaged.pcap", "locked", "noperm.pcap"}
ok = {k for k, r in rows.items() if r["status"] == "ok"}
err = {k for k, r in rows.items() if r["status"] != "ok"}
if ok != want_ok or err != want_err:
    print("ok:", sorted(ok), "errors:", sorted(err)); sys.exit(1)
PY
expect_grep 'damaged.pcap: not a pcap, pcapng or snoop capture' "$TMP/err"
expect_grep 'locked: cannot open: Permission denied' "$TMP/err"
expect_grep 'noperm.pcap: cannot open: Permission denied' "$TMP/err"
expect_grep 'left out of the directories given: 1 not captures, 1 hidden, 1 named twice \(links\), 1 directories reached again \(links\), 1 broken links' "$TMP/err"

# flows reads the same inputs, and the readable ones whole
as_user "$CAPSIFT" flows --no-cache --json "$D" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" = 1 ] && pass || fail "flows over the tree: exit $rc, wanted 1"
expect_grep 'locked: cannot open: Permission denied' "$TMP/err"
n=$(as_user "$CAPSIFT" flows --no-cache --json "$D/a.pcap" "$D/sub/b" "$TMP/outside.pcap" 2>/dev/null | wc -l)
[ "$(wc -l <"$TMP/out")" = "$n" ] && pass || fail "flows over the tree: $(wc -l <"$TMP/out") rows, the readable files give $n"

# index: failed inputs counted, the rest indexed
mkdir -m 777 "$TMP/db"
as_user "$CAPSIFT" index --db "$TMP/db/i.db" "$D" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" = 1 ] && pass || fail "index over the tree: exit $rc, wanted 1"
expect_grep 'indexed 3 files .* 3 failed' "$TMP/out"
expect_grep 'left out of the directories given' "$TMP/err"
if grep -q 'locked: .*locked:' "$TMP/err"; then fail "index names a file twice in one message"; else pass; fi
as_user "$CAPSIFT" index --json --db "$TMP/db/j.db" "$D" >"$TMP/out" 2>/dev/null
expect_grep '"walk":\{"not_captures":1,"hidden":1,"duplicates":1,"dirs_again":1,"broken_links":1,"not_files":0,"too_deep":0,"unreadable_dirs":1\}' "$TMP/out"

# a directory with nothing readable still says so
mkdir "$TMP/empty" && echo x >"$TMP/empty/notes.txt"
expect_exit 2 "$CAPSIFT" info "$TMP/empty"
expect_grep 'no capture files found there' "$TMP/err"
expect_grep '1 not captures' "$TMP/err"

# file names that are not UTF-8: --json lines stay strict UTF-8 JSON, the bytes recoverable
mkdir "$TMP/names"
name=$(printf 'bad\xff\xfe-\xc3\xa9-\xed\xa0\x80.pcap')
cp "$CAPS/dpkt--http.pcap" "$TMP/names/$name"
"$CAPSIFT" index --json --db "$TMP/names.db" "$TMP/names" >"$TMP/idx.json" 2>/dev/null
for cmd in "info --json" "flows --no-cache --json" "stats --no-cache --json"; do
    "$CAPSIFT" $cmd "$TMP/names" >"$TMP/out" 2>/dev/null
    python3 - "$TMP/out" "$TMP/names/$name" <<'PY' && pass || fail "$cmd: file names not valid JSON"
import json, os, sys
want = os.fsencode(sys.argv[2])
lines = open(sys.argv[1], "rb").read().splitlines()
assert lines
for l in lines:
    r = json.loads(l.decode("utf-8"))   # strict: raises on raw bytes
    if "file" in r:
        assert r["file"].encode("utf-8", "surrogateescape") == want, r["file"]
PY
done
python3 -c 'import json,sys; [json.loads(l.decode("utf-8")) for l in open(sys.argv[1],"rb")]' "$TMP/idx.json" \
    && pass || fail "index --json: not valid JSON"

chmod 755 "$D/locked"; chmod 644 "$D/noperm.pcap"
finish
