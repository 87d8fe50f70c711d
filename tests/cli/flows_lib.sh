# Shared by test_flows.sh and test_stats.sh: a temporary directory, a runner that fails on a
# crash or sanitizer report, the -j check, and normalisers that turn capsift output into the
# format of tests/cli/expected (see gen_flows_expected.sh). Needs C set to the binary.

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# Runs capsift, fails on a crash or a sanitizer report; the output is in $tmp/out.
run() {
  "$C" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ $rc -ge 3 ] || grep -qE 'Sanitizer|runtime error' "$tmp/err"; then
    bad "capsift $* exited $rc: $(head -c 600 "$tmp/err")"
  fi
  return 0
}

# same_j CMD FILE ARGS...: -j 1 and -j 2 give the same output.
same_j() {
  local cmd=$1 f=$2; shift 2
  run "$cmd" "$@" -j 1 "$f"; mv "$tmp/out" "$tmp/j1"
  run "$cmd" "$@" -j 2 "$f"
  cmp -s "$tmp/j1" "$tmp/out" || bad "-j 1 and -j 2 differ: $cmd $* $f"
}

# Layer names the decoder gives (Wireshark's names); hierarchy paths made only of these are
# compared with tshark's, others (protocols the decoder does not name) are left out.
KNOWN_LAYERS='^(eth|llc|vlan|mpls|sll|null|ppp|pppoes|chdlc|wlan|radiotap|ppi|nflog|raw|ip|ipv6|arp|icmp|icmpv6|tcp|udp|sctp|gre|erspan|vxlan|geneve|gtp|teredo|esp|ah)(:(eth|llc|vlan|mpls|sll|null|ppp|pppoes|chdlc|wlan|radiotap|ppi|nflog|raw|ip|ipv6|arp|icmp|icmpv6|tcp|udp|sctp|gre|erspan|vxlan|geneve|gtp|teredo|esp|ah))* '

# capsift flows --csv on stdin -> "tcp|udp EP EP FRAMES" sorted (columns found by name)
conv_of_csv() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
      $col["proto"] == "tcp" || $col["proto"] == "udp" {
      a = $col["src"] ":" $col["sport"]; b = $col["dst"] ":" $col["dport"]
      if (a > b) { t = a; a = b; b = t }
      print $col["proto"], a, b, $col["packets"] }' | LC_ALL=C sort
}

# capsift stats --json on stdin -> "path frames bytes" of the first three levels, sorted
phs_of_json() {
  python3 -c '
import json, sys
for line in sys.stdin:
    for h in json.loads(line)["hierarchy"]:
        if h["path"].count(":") <= 2:
            print(h["path"], h["packets"], h["bytes"])' | LC_ALL=C sort
}

known_layers() {
  grep -E "$KNOWN_LAYERS" || true
}
