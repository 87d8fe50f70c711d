#!/usr/bin/env bash
# What `cmake --install` (and `make install`) puts under a prefix: the program, which runs from
# anywhere, `capsift bench` on the captures installed with it, the man pages, and the
# libraries a program builds against with pkg-config (shared, and static with its
# dependencies from `pkg-config --static`) or with CMake's find_package.
. "$(dirname "$0")/lib.sh"
BUILD=${SIFT_BUILD_DIR:?}
SRC=${SIFT_SOURCE_DIR:?}
P="$TMP/prefix"
cmake --install "$BUILD" --prefix "$P" >"$TMP/install.log" 2>&1 && pass ||
    { fail "cmake --install: $(tail -3 "$TMP/install.log")"; finish; exit; }
for f in bin/capsift include/capsift/capsift.h share/capsift/captures/dpkt--http.pcap \
    share/capsift/captures/SOURCES.md; do
    [ -e "$P/$f" ] && pass || fail "$f not installed"
done
libdir=$(dirname "$(find "$P" -name libcapsift.a | head -1)")
[ -f "$libdir/libcapsift.a" ] && [ -e "$libdir/libcapsift.so" ] && pass || fail "libraries not installed"
if command -v go-md2man >/dev/null; then
    for page in capsift capsift-flows capsift-info capsift-query; do
        [ -s "$P/share/man/man1/$page.1" ] && pass || fail "man page $page.1 not installed"
    done
    man -l "$P/share/man/man1/capsift-flows.1" 2>/dev/null | grep -q -- '--time-format' && pass ||
        fail "capsift-flows(1) does not render"
fi

# the installed program, from another directory, with its own data
cd "$TMP" || exit 1
expect_exit 0 "$P/bin/capsift" info --json "$P/share/capsift/captures/dpkt--http.pcap"
expect_grep '"packets":43' "$TMP/out"
SIFT_TEST_CAPTURES='' expect_exit 0 env -u SIFT_TEST_CAPTURES "$P/bin/capsift" bench --quick --json bloom
expect_grep '"name":"bloom"' "$TMP/out"

# programs against the installed library (sanitizer builds link the sanitizer runtime too)
flags=()
[ "${SIFT_SANITIZE:-OFF}" = ON ] && flags=(-fsanitize=address,undefined)
export PKG_CONFIG_PATH="$libdir/pkgconfig"
prog="$SRC/tests/install/count_packets.c"
want="$P/share/capsift/captures/dpkt--http.pcap 43"
# shellcheck disable=SC2046
if cc "${flags[@]}" -o "$TMP/shared" "$prog" $(pkg-config --cflags --libs capsift) 2>"$TMP/cc.err"; then
    [ "$(LD_LIBRARY_PATH="$libdir" "$TMP/shared" "$P/share/capsift/captures/dpkt--http.pcap")" = "$want" ] &&
        pass || fail "the program linked to libcapsift.so counts wrong"
else
    fail "cannot build against the shared library: $(head -3 "$TMP/cc.err")"
fi
# shellcheck disable=SC2046
if cc "${flags[@]}" -o "$TMP/static" "$prog" $(pkg-config --cflags capsift) "$libdir/libcapsift.a" \
    $(pkg-config --static --libs capsift | sed 's/-lcapsift\b//') 2>"$TMP/cc.err"; then
    [ "$("$TMP/static" "$P/share/capsift/captures/dpkt--http.pcap")" = "$want" ] && pass ||
        fail "the program linked to libcapsift.a counts wrong"
    ldd "$TMP/static" | grep -q libcapsift && fail "the static program needs libcapsift.so" || pass
else
    fail "cannot build against the static library with pkg-config --static: $(head -3 "$TMP/cc.err")"
fi
if cmake -S "$SRC/tests/install" -B "$TMP/cm" -G Ninja -DCMAKE_PREFIX_PATH="$P" \
    -DCMAKE_C_FLAGS="${flags[*]}" >"$TMP/cm.log" 2>&1 && ninja -C "$TMP/cm" >>"$TMP/cm.log" 2>&1; then
    for kind in static shared; do
        [ "$(LD_LIBRARY_PATH="$libdir" "$TMP/cm/count_packets_$kind" "$P/share/capsift/captures/dpkt--http.pcap")" = "$want" ] &&
            pass || fail "find_package(capsift): capsift::$kind counts wrong"
    done
else
    fail "find_package(capsift) build failed: $(tail -5 "$TMP/cm.log")"
fi
finish
