# Shared by test_flows.sh and test_stats.sh: normalisers that turn capsift output into the
# format of tests/cli/expected (see gen_flows_expected.sh).

# Layer names the decoder gives (Wireshark's names); hierarchy paths made only of these are
# compared with tshark's, others (protocols the decoder does not name) are left out.
KNOWN_LAYERS='^(eth|llc|vlan|mpls|sll|null|ppp|pppoes|chdlc|wlan|radiotap|ppi|nflog|raw|ip|ipv6|arp|icmp|icmpv6|tcp|udp|sctp|gre|erspan|vxlan|geneve|gtp|teredo|esp|ah)(:(eth|llc|vlan|mpls|sll|null|ppp|pppoes|chdlc|wlan|radiotap|ppi|nflog|raw|ip|ipv6|arp|icmp|icmpv6|tcp|udp|sctp|gre|erspan|vxlan|geneve|gtp|teredo|esp|ah))* '

# capsift flows --csv on stdin -> "tcp|udp EP EP FRAMES" sorted
conv_of_csv() {
  awk -F, 'NR > 1 && ($6 == "tcp" || $6 == "udp") {
      a = $2 ":" $3; b = $4 ":" $5; if (a > b) { t = a; a = b; b = t }
      print $6, a, b, $8 }' | LC_ALL=C sort
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
