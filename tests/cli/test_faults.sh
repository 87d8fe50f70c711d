#!/usr/bin/env bash
# Faults a forensics tool must survive without losing anything: outputs that name the inputs or
# the database, existing files, devices and FIFOs, full disks, read-only targets, foreign files
# where capsift keeps its own. Each case checks the exit status, the message, and that every
# file capsift did not create is byte for byte what it was.
. "$(dirname "$0")/lib.sh"

sql() { python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute(sys.argv[2]).fetchone()[0])' "$@"; }
digest() { md5sum <"$1"; }
# unchanged FILE DIGEST WHAT: FILE still exists with the digest taken before.
unchanged() {
    if [ -f "$1" ] && [ "$(digest "$1")" = "$2" ]; then pass; else fail "$3: $1 was changed or removed"; fi
}
no_temp_left() {
    local left
    left=$(find "$1" -maxdepth 1 -name '.*.capsift-*' | head -3)
    [ -z "$left" ] && pass || fail "temporary files left behind: $left"
}

cp "$CAPS/pcapplusplus--http-packets.pcap" "$TMP/src.pcap"
cp "$CAPS/dpkt--http.pcap" "$TMP/src2.pcap"
"$CAPSIFT" index --db "$TMP/ix.db" -q "$TMP/src.pcap" "$TMP/src2.pcap" >/dev/null
src=$(digest "$TMP/src.pcap")

# --- extract -w naming an input, the database, its WAL: refused, with or without --force
for force in "" --force; do
    expect_exit 3 "$CAPSIFT" extract $force --db "$TMP/ix.db" 'tcp' -w "$TMP/src.pcap"
    expect_grep 'src.pcap: is .*src.pcap, which is read by this run; nothing written' "$TMP/err"
    unchanged "$TMP/src.pcap" "$src" "extract -w the source $force"
    # nothing matches: the source is not replaced by an empty capture either
    expect_exit 3 "$CAPSIFT" extract $force --db "$TMP/ix.db" 'port 1' -w "$TMP/src.pcap"
    unchanged "$TMP/src.pcap" "$src" "extract -w the source, nothing matching $force"
    db=$(digest "$TMP/ix.db")
    expect_exit 3 "$CAPSIFT" extract $force --db "$TMP/ix.db" 'tcp' -w "$TMP/ix.db"
    expect_grep 'ix.db: is .*ix.db, which is read by this run' "$TMP/err"
    unchanged "$TMP/ix.db" "$db" "extract -w the database $force"
    [ "$(sql "$TMP/ix.db" 'pragma integrity_check')" = ok ] && pass || fail "database damaged"
done
# the source through a symbolic link is still the source
ln -s "$TMP/src.pcap" "$TMP/link.pcap"
expect_exit 3 "$CAPSIFT" extract --force --db "$TMP/ix.db" 'tcp' -w "$TMP/link.pcap"
unchanged "$TMP/src.pcap" "$src" "extract -w a link to the source"
[ -L "$TMP/link.pcap" ] && pass || fail "the link was replaced"

# --- a source that changed since indexing, named as the output: refused before writing
cp "$TMP/src2.pcap" "$TMP/stale.pcap"
"$CAPSIFT" index --db "$TMP/stale.db" -q "$TMP/stale.pcap" >/dev/null
printf 'x' | dd of="$TMP/stale.pcap" bs=1 seek=100 conv=notrunc 2>/dev/null
touch -d '2001-01-01' "$TMP/stale.pcap"
stale=$(digest "$TMP/stale.pcap")
expect_exit 3 "$CAPSIFT" extract --force --db "$TMP/stale.db" 'tcp' -w "$TMP/stale.pcap"
unchanged "$TMP/stale.pcap" "$stale" "extract -w a stale source"
# a stale source with an unrelated existing output: the output stays as it was
echo "evidence" >"$TMP/keep.txt"
keep=$(digest "$TMP/keep.txt")
expect_exit 3 "$CAPSIFT" extract --force --db "$TMP/stale.db" 'tcp' -w "$TMP/keep.txt"
expect_grep 'stale.pcap: the file changed since it was indexed' "$TMP/err"
unchanged "$TMP/keep.txt" "$keep" "a failed extract"
no_temp_left "$TMP"

# --- an existing output: kept without --force, replaced with it
expect_exit 3 "$CAPSIFT" extract --db "$TMP/ix.db" 'tcp' -w "$TMP/keep.txt"
expect_grep 'keep.txt: exists; nothing written \(give --force to replace it\)' "$TMP/err"
unchanged "$TMP/keep.txt" "$keep" "extract without --force"
expect_exit 0 "$CAPSIFT" extract --force --db "$TMP/ix.db" 'port 8868' -w "$TMP/keep.txt"
n=$(tcpdump -r "$TMP/keep.txt" 2>/dev/null | wc -l)
[ "$n" = 280 ] && pass || fail "extract --force wrote $n packets, not 280"
# a new file gets the usual mode (0666 less the umask), not a temporary file's 0600
(umask 022; "$CAPSIFT" extract --db "$TMP/ix.db" 'port 8868' -w "$TMP/mode.pcap" 2>/dev/null)
[ "$(stat -c %a "$TMP/mode.pcap")" = 644 ] && pass || fail "new output mode $(stat -c %a "$TMP/mode.pcap")"
expect_exit 3 "$CAPSIFT" extract --db "$TMP/ix.db" 'tcp' -w "$TMP"
expect_grep 'is a directory' "$TMP/err"

# --- devices and FIFOs are written in place and never removed
expect_exit 0 "$CAPSIFT" extract --db "$TMP/ix.db" 'tcp' -w /dev/null
[ -c /dev/null ] && pass || fail "/dev/null is no longer a device"
expect_exit 3 "$CAPSIFT" extract --db "$TMP/ix.db" 'port 1 and port 2 and tcp and udp' -w /dev/full
[ -c /dev/full ] && pass || fail "/dev/full is no longer a device"
expect_grep '/dev/full: cannot write the output: No space left on device' "$TMP/err"
mkfifo "$TMP/fifo"
tcpdump -r "$TMP/fifo" 2>/dev/null | wc -l >"$TMP/fifo.count" &
reader=$!
expect_exit 0 "$CAPSIFT" extract --db "$TMP/ix.db" 'port 8868' -w "$TMP/fifo"
wait "$reader"
[ "$(cat "$TMP/fifo.count")" = 280 ] && pass || fail "FIFO reader saw $(cat "$TMP/fifo.count") packets"
[ -p "$TMP/fifo" ] && pass || fail "the FIFO was removed"

# --- a full disk while extracting: exit 3, the existing output untouched, no temporary file
( ulimit -f 200; trap '' XFSZ; exec "$CAPSIFT" extract --force --db "$TMP/ix.db" 'tcp' -w "$TMP/keep.txt" ) >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" = 3 ] && pass || fail "extract on a full disk: exit $rc"
expect_grep 'keep.txt: cannot write the output: File too large' "$TMP/err"
[ "$(tcpdump -r "$TMP/keep.txt" 2>/dev/null | wc -l)" = 280 ] && pass || fail "full disk changed the output"
no_temp_left "$TMP"

# --- a directory the user cannot write
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    mkdir -m 755 "$TMP/ro"
    chmod 755 "$TMP"
    chmod 644 "$TMP/ix.db"
    setpriv --reuid=65534 --regid=65534 --clear-groups "$CAPSIFT" extract --db "$TMP/ix.db" 'tcp' -w "$TMP/ro/x.pcap" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    [ "$rc" = 3 ] && pass || fail "read-only directory: exit $rc"
    expect_grep 'ro/x.pcap: cannot create the output: Permission denied' "$TMP/err"
fi

# --- index: a database that is someone else's file is refused and left as it was
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("create table t(x)"); c.commit()' "$TMP/other.db"
other=$(digest "$TMP/other.db")
expect_exit 3 "$CAPSIFT" index --db "$TMP/other.db" "$TMP/src.pcap"
unchanged "$TMP/other.db" "$other" "index into a foreign database"
expect_exit 3 "$CAPSIFT" index --db "$TMP/src.pcap" "$TMP/src2.pcap"
unchanged "$TMP/src.pcap" "$src" "index --db naming a capture"

# --- cache: a foreign file or database where the cache lives is never changed or removed
mkdir "$TMP/cache"
path=$(CAPSIFT_CACHE_DIR="$TMP/cache" "$CAPSIFT" cache path)
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("create table notes(x)"); c.execute("insert into notes values (1)"); c.commit()' "$path"
notes=$(digest "$path")
CAPSIFT_CACHE_DIR="$TMP/cache" "$CAPSIFT" flows "$TMP/src.pcap" >"$TMP/out" 2>"$TMP/err"
[ $? = 0 ] && pass || fail "flows with a foreign cache database failed"
expect_grep 'not a capsift cache' "$TMP/err"
unchanged "$path" "$notes" "flows with a foreign cache database"
expect_exit 3 env CAPSIFT_CACHE_DIR="$TMP/cache" "$CAPSIFT" cache clear
expect_grep 'not a capsift cache' "$TMP/err"
unchanged "$path" "$notes" "cache clear of a foreign database"
echo "my notes" >"$path"
notes=$(digest "$path")
expect_exit 3 env CAPSIFT_CACHE_DIR="$TMP/cache" "$CAPSIFT" cache clear
unchanged "$path" "$notes" "cache clear of a foreign file"
# a cache on a full disk: the command still answers, the message says the cache is off
rm -f "$path"
CAPSIFT_CACHE_DIR="$TMP/cache" "$CAPSIFT" flows "$TMP/src.pcap" >"$TMP/want" 2>/dev/null
rm -f "$path"*
( ulimit -f 1; trap '' XFSZ; CAPSIFT_CACHE_DIR="$TMP/cache" exec "$CAPSIFT" flows "$TMP/src.pcap" ) 2>"$TMP/err" | cat >"$TMP/out"
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] && cmp -s "$TMP/out" "$TMP/want" && pass || fail "flows with a full cache disk: exit $rc"
expect_grep 'cache.db: .*the persistent cache is off for this run' "$TMP/err"

finish
