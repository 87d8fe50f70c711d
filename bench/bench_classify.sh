#!/usr/bin/env bash
# capsift classify: signatures learnt by cluster --save, then packets labelled with them, on the
# 1.19 GB capture (end to end, two threads, memory) and on a capture of one protocol; and beside
# it, in the same run, the peer that labels the same way (tshark with the Lua dissector capsift
# wrote, -X lua_script) and tshark's own Modbus dissector, on the same file.
# Env: CAPSIFT.
. "$(dirname "$0")/lib.sh"
BIG=$(big_capture big.pcap 1200)
MODBUS=$ROOT/../shared/captures/traffic/iti-ics--ModbusTCP.pcap
DB=$DATA/classify.db
LUA=$DATA/classify.lua

rm -f "$DB" "$DB-wal" "$DB-shm"
echo "== learning: capsift cluster --save on the big capture"
measure "capsift cluster --save $(basename "$BIG") -j 2" \
    sh -c "rm -f '$DB' '$DB-wal' '$DB-shm'; '$CAPSIFT' cluster -q --save big --db '$DB' -j 2 '$BIG' >/dev/null"
"$CAPSIFT" signatures lua "$LUA" --force --db "$DB"
echo "signatures: $("$CAPSIFT" signatures --db "$DB" | tail -n +2 | wc -l)"

echo "== labelling"
measure "capsift classify $(basename "$BIG") -j 2" "$CAPSIFT" classify --no-update -j 2 --db "$DB" "$BIG"

echo "== one protocol: signatures learnt from ModbusTCP, its packets labelled"
MDB=$DATA/classify-modbus.db
MLUA=$DATA/classify-modbus.lua
rm -f "$MDB" "$MDB-wal" "$MDB-shm"
"$CAPSIFT" cluster -q --save modbus --db "$MDB" --lua "$MLUA" --force "$MODBUS" >/dev/null
measure "capsift classify ModbusTCP -j 2" "$CAPSIFT" classify --no-update -j 2 --db "$MDB" "$MODBUS"
ours=$M_SEC
measure "tshark -X lua_script ModbusTCP (peer)" \
    tshark -n -r "$MODBUS" -X "lua_script:$MLUA" -T fields -e frame.number -e capsift.type
echo "ratio: tshark with the dissector / capsift classify (ModbusTCP): $(ratio "$M_SEC" "$ours")"
measure "tshark modbus.func_code ModbusTCP (peer)" \
    tshark -n -r "$MODBUS" -T fields -e frame.number -e modbus.func_code
echo "ratio: tshark's own Modbus dissector / capsift classify (ModbusTCP): $(ratio "$M_SEC" "$ours")"
