#!/usr/bin/env bash
# bench_meta.sh [BIG_CAPTURE]
# The metadata pass on a make-big-capture.sh file (default bench/data/big.pcap, 1.1 GB, made
# when missing), in one run: `capsift flows --json` with each flow's DNS, HTTP, TLS and SSH
# metadata against `--no-meta`, on one and two threads, without and with application
# detection; `capsift meta` (one row per transaction); and `tshark -T fields` with the ten
# fields tests/cli/meta_tshark.py compares (once: it takes minutes); `capsift index` with and
# without the metadata (metadata rows stored per second) and queries on the metadata terms of
# that index. Median wall time and peak RSS, with ratios. Every command prints all its rows as
# JSON.
# Env: CAPSIFT (the binary; default build/capsift), RUNS (default 3), TSHARK_RUNS (default 1;
# 0 leaves tshark out).
RUNS=${RUNS:-3}
. "$(dirname "$0")/lib.sh"
export CAPSIFT_NO_CACHE=1 # every run computes
big=${1:-$(big_capture big.pcap 1100)}

packets=$("$CAPSIFT" info --json "$big" | python3 -c 'import json,sys; print(json.load(sys.stdin)["packets"])')
rows=$("$CAPSIFT" meta --json "$big" 2>/dev/null | wc -l)
flows=$("$CAPSIFT" flows --no-app --json --no-meta "$big" 2>/dev/null | wc -l)
echo "file: $big ($(du -mL "$big" | cut -f1) MB, $packets packets, $flows flows, $rows metadata rows), median of $RUNS"
mpps() { awk -v p="$packets" -v t="$1" 'BEGIN { printf "%.2f", p / t / 1e6 }'; }

# with_without LABEL OPTIONS...: flows --json OPTIONS with and without metadata
with_without() {
    local label=$1; shift
    measure "capsift flows --json --no-meta $label" "$CAPSIFT" flows --json --no-meta "$@" "$big"
    local off=$M_SEC
    measure "capsift flows --json $label" "$CAPSIFT" flows --json "$@" "$big"
    echo "  -> $(mpps "$M_SEC") M packets/s; metadata costs $(ratio "$M_SEC" "$off")x (goal: at most 1.3x)"
}
with_without "--no-app -j 1" --no-app -j 1
with_without "--no-app -j 2" --no-app -j 2
with_without "-j 2" -j 2
measure "capsift meta --json -j 1" "$CAPSIFT" meta --json -j 1 "$big"
m1=$M_SEC
measure "capsift meta --json -j 2" "$CAPSIFT" meta --json -j 2 "$big"
m2=$M_SEC m2_kb=$M_KB
echo "  -> $(mpps "$m2") M packets/s; second core $(ratio "$m1" "$m2")x"

# the index: a new database each run, with and without the metadata tables
db=$DATA/bench_meta.db
index_fresh() { # LABEL OPTIONS...
    measure "$1" bash -c 'rm -f "$1" "$1-wal" "$1-shm"; exec "$0" index -q --db "$1" "${@:2}"' \
        "$CAPSIFT" "$db" "${@:2}" "$big"
}
index_fresh "capsift index --no-meta -j 2" --no-meta -j 2
ioff=$M_SEC
index_fresh "capsift index -j 2" -j 2
stored=$("$CAPSIFT" index --db "$db" --json -q "$big" >/dev/null 2>&1; python3 -c '
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(sum(c.execute(f"select count(*) from {t}").fetchone()[0] for t in ("dns", "http", "tls", "ssh", "dhcp")),
      c.execute("select count(*) from names").fetchone()[0])' "$db")
read -r mrows mnames <<<"$stored"
echo "  -> $mrows metadata rows and $mnames names stored: $(awk -v r="$mrows" -v t="$M_SEC" 'BEGIN { printf "%.0f", r / t }') rows/s over the whole run, $(awk -v r="$mrows" -v a="$M_SEC" -v b="$ioff" 'BEGIN { if (a > b) printf "%.0f", r / (a - b); else print "inf" }') rows/s for the time the metadata adds; the metadata costs the index $(ratio "$M_SEC" "$ioff")x"
name=$(python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
r = c.execute("select name from names where kind = 2 group by name order by count(*) desc limit 1").fetchone()
print(".".join(reversed(r[0].split("."))) if r else "example.com")' "$db")
suffix=${name#*.}
measure "capsift query 'sni $name'" "$CAPSIFT" query --db "$db" --json "sni $name"
measure "capsift query 'name *.$suffix'" "$CAPSIFT" query --db "$db" --json "name *.$suffix"
measure "capsift query 'ua contains mozilla'" "$CAPSIFT" query --db "$db" --json "ua contains mozilla"
rm -f "$db" "$db-wal" "$db-shm"

if [ "${TSHARK_RUNS:-1}" = 0 ]; then
    echo "TSHARK_RUNS=0: the comparison with tshark is left out"
elif command -v tshark >/dev/null; then
    fields=(-e dns.qry.name -e dns.a -e dns.aaaa -e http.host -e http.request.uri
        -e http.user_agent -e tls.handshake.extensions_server_name -e tls.handshake.ja3
        -e tls.handshake.ja3s -e ssh.protocol)
    RUNS=${TSHARK_RUNS:-1} measure "tshark -T fields (the 10 fields)" \
        tshark -n -r "$big" -Y "dns || http.request || tls.handshake || ssh.protocol" -T fields "${fields[@]}"
    echo "  -> $(mpps "$M_SEC") M packets/s; capsift meta -j 2 is $(ratio "$M_SEC" "$m2")x faster with $(ratio "$M_KB" "$m2_kb")x less memory, capsift meta -j 1 $(ratio "$M_SEC" "$m1")x faster"
else
    echo "tshark not installed: the comparison with it is left out"
fi
