#!/usr/bin/env bash
# Signatures: capsift cluster --save keeps the clusters in the index; capsift classify labels
# the packets of the capture they were learnt from as the clustering grouped them, and counts
# usage, last-seen time and confidence; the Lua dissector written by --lua and by signatures
# lua labels packets in tshark as classify does (at least 99% of the packets, on the capture
# learnt from and on a second capture of the protocol); a TCP stream's later segments get their
# message's signature; signatures list, rename, delete and export; a taken name, an existing
# dissector file, locked, damaged and foreign databases.
. "$(dirname "$0")/lib.sh"
HERE=$(dirname "$0")
DB=$TMP/sig.db
HTTP=$CAPS/arkime--arkime_synthetic.pcap

# options and help
for c in classify signatures; do
    expect_exit 0 "$CAPSIFT" $c --help
done
expect_grep 'min-similarity S' "$TMP/out"
expect_exit 2 "$CAPSIFT" classify --db "$TMP/none.db" "$HTTP"
expect_grep 'none.db: no such index' "$TMP/err"
expect_exit 2 "$CAPSIFT" signatures delete x --db "$TMP/none.db"
[ ! -e "$TMP/none.db" ] && pass || fail "classify or signatures created a database"
expect_exit 2 "$CAPSIFT" classify --min-similarity 2 --db "$DB" "$HTTP"
expect_exit 2 "$CAPSIFT" signatures rename onlyone --db "$DB"
expect_exit 2 "$CAPSIFT" cluster --save --db "$DB"

# learn from a bundled capture of many protocols: a signature a cluster of 2 packets or more
expect_exit 0 "$CAPSIFT" cluster --json --members --save web --db "$DB" "$HTTP"
expect_grep 'saved [0-9]+ signatures as web' "$TMP/err"
cp "$TMP/out" "$TMP/clusters.json"
expect_exit 0 "$CAPSIFT" signatures export --db "$DB"
cp "$TMP/out" "$TMP/export.json"
# classify on the same capture: every packet of a saved cluster gets that cluster's signature
expect_exit 0 "$CAPSIFT" classify --json --members --db "$DB" "$HTTP"
cp "$TMP/out" "$TMP/classify.json"
python3 - "$TMP/clusters.json" "$TMP/export.json" "$TMP/classify.json" <<'PY' && pass || fail "classify of the capture learnt from"
import json, sys
clusters = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()[1:]]
sigs = [json.loads(l) for l in open(sys.argv[2])]
rows = [json.loads(l) for l in open(sys.argv[3])]
head, rows = rows[0], rows[1:]
saved = {"web-%d" % c["id"]: c for c in clusters if c["size"] >= 2}
assert {s["name"] for s in sigs} <= set(saved) and len(sigs) >= 2, (len(sigs), len(saved))
for s in sigs:
    c = saved[s["name"]]
    assert (s["proto"], s["port"], s["dir"], s["learnt_packets"]) == \
        (c["proto"], c["port"], c["dir"], c["size"]), (s, c)
    assert s["mask"] and all(bytes.fromhex(c["example"])[o] == int(v, 16) for o, v in s["mask"])
    assert len(s["sketch"]) == 512 and s["usage"] == 0 and s["confidence"] == 0.5
label = {n: r["signature"] for r in rows for f, n, sim in r["packets"]}
assert len(label) == head["packets"] == sum(r["size"] for r in rows), head
agree = total = 0
for s in sigs:
    for f, n in saved[s["name"]]["packets"]:
        total += 1
        agree += label[n] == s["name"]
assert agree >= 0.99 * total, (agree, total)
PY
# the run counted: usage as classified, a last-seen time, confidence up a fifth of the way
expect_exit 0 "$CAPSIFT" signatures list --json --db "$DB"
python3 - "$TMP/classify.json" "$TMP/out" <<'PY' && pass || fail "classify's usage in the index"
import json, sys
size = {r["signature"]: r["size"] for r in map(json.loads, open(sys.argv[1])) if r.get("signature")}
for s in map(json.loads, open(sys.argv[2])):
    assert s["usage"] == size[s["name"]], s
    if s["usage"]:
        assert s["last_seen"] and abs(s["confidence"] - 0.6) < 1e-4, s
    else:
        assert s["last_seen"] is None and abs(s["confidence"] - 0.4) < 1e-4, s
PY
cp "$TMP/out" "$TMP/after1.json"
# --no-update changes nothing; a capture with none of these parts changes nothing either
expect_exit 0 "$CAPSIFT" classify --no-update --db "$DB" "$HTTP"
expect_grep 'packets with payloads: .* labelled by' "$TMP/out"
expect_exit 0 "$CAPSIFT" classify --db "$DB" "$CAPS/ndpi--dtls.pcap"
expect_exit 0 "$CAPSIFT" classify --no-update --json --db "$DB" "$CAPS/ndpi--dtls.pcap"
expect_grep '"signature":null,.*"nearest":"web-[0-9]+","nearest_similarity":0\.[0-9]{4}' "$TMP/out"
expect_exit 0 "$CAPSIFT" signatures list --json --db "$DB"
cmp -s "$TMP/out" "$TMP/after1.json" && pass || fail "a run that saw none of the parts changed the signatures"
# a second --save of the same name: refused before reading, nothing changed
expect_exit 2 "$CAPSIFT" cluster --save web --db "$DB" "$TMP/missing.pcap"
expect_grep 'signatures named web exist already' "$TMP/err"
expect_exit 0 "$CAPSIFT" signatures list --json --db "$DB"
cmp -s "$TMP/out" "$TMP/after1.json" && pass || fail "a refused --save changed the signatures"
# text list; rename a set (names follow), one signature; delete
expect_exit 0 "$CAPSIFT" signatures --db "$DB"
expect_grep '^NAME +PART +TYPE' "$TMP/out"
expect_grep '^web-[0-9]+ +(tcp|udp)/[0-9]+ +(client|server)' "$TMP/out"
one=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["name"])' "$TMP/after1.json")
expect_exit 2 "$CAPSIFT" signatures rename web "$one" --db "$DB"
expect_grep 'exists already' "$TMP/err"
expect_exit 0 "$CAPSIFT" signatures rename web http --db "$DB"
expect_exit 0 "$CAPSIFT" signatures list http --json --db "$DB"
[ "$(wc -l <"$TMP/out")" -eq "$(wc -l <"$TMP/after1.json")" ] && pass || fail "rename of a set"
expect_grep "\"name\":\"http-${one#web-}\"" "$TMP/out"
expect_exit 0 "$CAPSIFT" signatures rename "http-${one#web-}" get --db "$DB"
expect_exit 0 "$CAPSIFT" signatures list get --db "$DB"
expect_exit 1 "$CAPSIFT" signatures delete nothing --db "$DB"
expect_grep 'no signature or set named nothing' "$TMP/err"
expect_exit 0 "$CAPSIFT" signatures delete get --db "$DB"
expect_exit 1 "$CAPSIFT" signatures list get --db "$DB"
# the dissector: an existing file is kept unless --force, the index is never the output
echo keep >"$TMP/keep.lua"
expect_exit 2 "$CAPSIFT" signatures lua "$TMP/keep.lua" --db "$DB"
[ "$(cat "$TMP/keep.lua")" = keep ] && pass || fail "signatures lua replaced a file without --force"
expect_exit 2 "$CAPSIFT" signatures lua "$DB" --force --db "$DB"
expect_exit 0 "$CAPSIFT" signatures lua "$TMP/keep.lua" --force --db "$DB"
expect_grep 'DissectorTable.get' "$TMP/keep.lua"
expect_exit 2 "$CAPSIFT" cluster --lua "$HTTP" --force "$HTTP"
# a refused dissector file creates no index
echo keep >"$TMP/keep.lua"
expect_exit 2 "$CAPSIFT" cluster --save fresh --db "$TMP/fresh.db" --lua "$TMP/keep.lua" "$HTTP"
[ ! -e "$TMP/fresh.db" ] && [ "$(cat "$TMP/keep.lua")" = keep ] && pass ||
    fail "cluster --save with a refused --lua created the index or changed the file"
# a damaged capture: what was read is labelled, exit 1
if have_shared; then
    expect_exit 1 "$CAPSIFT" classify --no-update --db "$DB" "$SHARED/malformed/dpkt--truncated_dns_2.pcap"
fi

# databases: none yet, locked, damaged, someone else's, a damaged row
cp "$DB" "$TMP/plain.db"
expect_exit 0 "$CAPSIFT" signatures delete http --db "$TMP/plain.db"
expect_exit 2 "$CAPSIFT" classify --db "$TMP/plain.db" "$HTTP"
expect_grep 'no signatures; learn some with capsift cluster --save' "$TMP/err"
"$CAPSIFT" signatures list --json --db "$DB" >"$TMP/before_lock.json"
python3 -c '
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE"); open(sys.argv[2], "w").close(); time.sleep(8)' "$DB" "$TMP/locked" &
lock=$!
while [ ! -e "$TMP/locked" ]; do sleep 0.05; done
expect_exit 3 "$CAPSIFT" classify --db "$DB" "$HTTP"
expect_grep 'sig.db: the database is locked by another process' "$TMP/err"
kill "$lock" 2>/dev/null; wait "$lock" 2>/dev/null
expect_exit 0 "$CAPSIFT" signatures list --json --db "$DB"
cmp -s "$TMP/out" "$TMP/before_lock.json" && pass || fail "a locked run changed the signatures"
head -c 10000 /dev/urandom >"$TMP/junk.db"
sum_before=$(md5sum <"$TMP/junk.db")
expect_exit 3 "$CAPSIFT" classify --db "$TMP/junk.db" "$HTTP"
expect_grep 'junk.db: not a capsift index, or a damaged one' "$TMP/err"
expect_exit 3 "$CAPSIFT" cluster --save x --db "$TMP/junk.db" "$HTTP"
[ "$(md5sum <"$TMP/junk.db")" = "$sum_before" ] && pass || fail "a damaged database was modified"
python3 -c 'import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute("create table t(x)")' "$TMP/other.db"
expect_exit 3 "$CAPSIFT" signatures --db "$TMP/other.db"
expect_grep 'other.db: an SQLite database, but not a capsift index' "$TMP/err"
python3 - "$DB" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("update signatures set fields = x'00'")
c.commit()
PY
expect_exit 3 "$CAPSIFT" classify --db "$DB" "$HTTP"
expect_grep 'signature row [0-9]+ is damaged' "$TMP/err"

# tshark with the dissector labels as classify does, on the capture learnt from and on a
# second capture of the protocol: PROTO LEARN SECOND
if have_shared; then
    agree() {
        local name=$1 learn=$2 second=$3 db=$TMP/$1.db lua=$TMP/$1.lua
        "$CAPSIFT" cluster --save "$name" --db "$db" --lua "$lua" "$learn" >/dev/null 2>"$TMP/err" ||
            fail "cluster --save $name"
        for f in "$learn" "$second"; do
            r=$(python3 "$HERE/classify_agree.py" "$CAPSIFT" "$db" "$lua" "$f" 2>&1)
            echo "classify vs tshark -X lua_script ($name, $(basename "$f")): $r"
            python3 -c 'import sys; d = dict(x.split("=") for x in sys.argv[1].split())
assert float(d["agree"]) >= 0.99 and int(d["labelled"]) > 0, d' "$r" && pass ||
                fail "$name $(basename "$f"): $r"
        done
    }
    agree enip "$SHARED/traffic/iti-ics--EthernetIP-CIP.pcap" "$SHARED/apps/ethernetIP.pcap"
    agree dns "$SHARED/apps/dns-tunnel-iodine.pcap" "$SHARED/apps/bad-dns-traffic.pcap"
    agree smb2 "$SHARED/traffic/zeek--smb3_multichannel.pcap" "$SHARED/apps/smb_deletefile.pcap"

    # a stream's later segments (READ data after its response's header) get their message's
    # signature, as cluster put them in its cluster: classify agrees with the clustering on the
    # packets of the saved clusters (0.73 before continuations were labelled)
    SMB3=$SHARED/traffic/zeek--smb3_multichannel.pcap
    expect_exit 0 "$CAPSIFT" cluster --json --members --save smb3 --db "$TMP/smb3.db" "$SMB3"
    cp "$TMP/out" "$TMP/smb3-clusters.json"
    expect_exit 0 "$CAPSIFT" classify --json --members --no-update --db "$TMP/smb3.db" "$SMB3"
    python3 - "$TMP/smb3-clusters.json" "$TMP/out" <<'PY' && pass || fail "classify's continuations on $SMB3"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[2]).read().splitlines()]
head, rows = rows[0], rows[1:]
assert head["continued"] > 0 and head["continued"] == sum(
    r.get("continuations", 0) for r in rows if r["signature"]), head
label = {n: r["signature"] for r in rows for _, n, _ in r.get("packets", [])}
saved = {r["signature"] for r in rows if r["signature"]}
cluster = {}
for l in open(sys.argv[1]).read().splitlines()[1:]:
    c = json.loads(l)
    for _, n in c["packets"]:
        cluster[n] = "smb3-%d" % c["id"]
keys = [n for n in cluster if cluster[n] in saved]
same = sum(label.get(n) == cluster[n] for n in keys) / len(keys)
assert same >= 0.99, (same, len(keys))
PY
    expect_exit 0 "$CAPSIFT" classify --no-update --db "$TMP/smb3.db" "$SMB3"
    expect_grep 'of the labelled, [0-9,]+ are segments that continue a labelled message' "$TMP/out"
    # the dissector labels them alike in one pass and in two (where the first builds no tree,
    # and the second dissects every frame again)
    for n in 1 2; do
        opt=()
        [ $n = 2 ] && opt=(-2)
        tshark -n "${opt[@]}" -r "$SMB3" -X lua_script:"$TMP/smb2.lua" -T fields -e frame.number \
            -e capsift.type -e capsift.continuation >"$TMP/pass$n" 2>/dev/null
    done
    [ "$(grep -c $'\t1$' "$TMP/pass1")" -gt 0 ] && cmp -s "$TMP/pass1" "$TMP/pass2" && pass ||
        fail "the dissector's continuations in one pass and in two"
fi
finish
