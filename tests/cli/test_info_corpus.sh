#!/usr/bin/env bash
# capsift info on every file of the shared corpus: packet counts equal capinfos' (MANIFEST.tsv)
# for each file capinfos read without error; for the others a clear outcome and no crash; the
# notes of pcapng files equal what capinfos and tshark show.
. "$(dirname "$0")/lib.sh"
have_shared || { echo "shared corpus not found: skipped"; exit 77; }

# both manifests: the corpus (formats, malformed, traffic) and apps/, whose paths start apps/
mapfile -t files < <(for m in "$SHARED/MANIFEST.tsv" "$SHARED/apps/MANIFEST.tsv"; do
    [ -f "$m" ] && cut -f1 "$m" | tail -n +2; done | sed "s|^|$SHARED/|")
"$CAPSIFT" info --json -j 2 "${files[@]}" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" -le 1 ] && pass || fail "info over the corpus exited $rc"

python3 - "$SHARED/MANIFEST.tsv" "$TMP/out" "$SHARED" "$SHARED/apps/MANIFEST.tsv" <<'PY' || failures=$((failures + 1))
import csv, json, os, sys
manifest = {}
for m in (sys.argv[1], sys.argv[4]):
    if os.path.exists(m):
        manifest.update({r["path"]: r for r in csv.DictReader(open(m), delimiter="\t")})
rows = {}
for line in open(sys.argv[2]):
    r = json.loads(line)
    rows[r["file"][len(sys.argv[3]) + 1:]] = r
bad = 0
for path, m in manifest.items():
    r = rows.get(path)
    if r is None:
        print("no output for", path); bad += 1; continue
    if m["capinfos_status"] == "ok":
        if r.get("packets") != int(m["packets_capinfos"]):
            print("count differs:", path, r.get("packets"), "capinfos", m["packets_capinfos"]); bad += 1
    elif r["status"] == "ok" and r.get("packets") != int(m.get("packets_header_walk") or -1):
        # capinfos failed; a clean read must at least agree with the header walk
        print("clean read disagrees with the header walk:", path, r.get("packets")); bad += 1
    if r["status"] != "ok" and not r["errors"]:
        print("damaged without a message:", path); bad += 1
    for e in r["errors"]:
        if not e["message"]:
            print("empty message:", path); bad += 1
ok = sum(1 for m in manifest.values() if m["capinfos_status"] == "ok")
print(f"{len(manifest)} files, {ok} compared with capinfos, {bad} problems")
sys.exit(1 if bad else 0)
PY
[ $? -eq 0 ] && pass

# what pcapng files say of themselves: sections, interfaces, statistics blocks and packet
# comments as capinfos and tshark give them, on every one-section pcapng file they read
mapfile -t ngs < <(printf '%s\n' "${files[@]}" "$CAPS"/*.pcapng | grep '\.pcapng$')
python3 "$(dirname "$0")/info_notes.py" "$CAPSIFT" "${ngs[@]}" >"$TMP/notes" 2>&1 && pass ||
    fail "info's pcapng notes differ from capinfos or tshark: $(grep '^  ' "$TMP/notes" | head -3)"

finish
