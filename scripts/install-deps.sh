#!/usr/bin/env bash
# Installs the Debian packages capsift needs to build, test, run the demo and the benchmarks.
# Idempotent: installs only what is missing. Usage: scripts/install-deps.sh [--bench]
set -euo pipefail

build_pkgs=(build-essential cmake ninja-build pkg-config clang clang-format
    libpcap-dev libsqlite3-dev libzstd-dev zlib1g-dev libxxhash-dev libfftw3-dev
    libndpi-dev libhyperscan-dev libcmocka-dev libgcrypt20-dev libsndfile1-dev zstd gzip go-md2man)
# Peers measured by bench/ and used by the tests as references.
peer_pkgs=(tshark wireshark-common tcpdump tcpreplay libtrace-tools libndpi-bin python3 python3-dpkt time bc)
# The tests' references: rsvg-convert renders the SVG charts (with the fonts their text is drawn
# in), sox makes signals of known frequencies, scipy computes their spectra independently.
check_pkgs=(librsvg2-bin fonts-dejavu-core libxml2-utils sox python3-scipy)

pkgs=("${build_pkgs[@]}" "${peer_pkgs[@]}" "${check_pkgs[@]}")
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: need root or sudo for apt-get" >&2; exit 1; }
    SUDO=sudo
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# wireshark-common asks whether non-root users may capture; answer no, without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
