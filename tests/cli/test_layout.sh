#!/usr/bin/env bash
# The layout CONTRIBUTING.md states, checked against the includes: modules depend one way,
# the CLI uses the public headers only, capsift.h includes every public header, and inside
# the index only the SQLite backend (st_sqlite*) knows SQLite.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"

# module -> the modules whose internal headers it may include (besides its own)
declare -A allowed=(
    [common]="" [blocks]="common" [cache]="common" [meta]="common" [io]="common"
    [decode]="common io"
    [flow]="common io decode" [engine]="common io decode flow"
    [analyze]="common io decode flow engine"
    [search]="common" [ioc]="common" [store]="common io decode flow engine blocks cache"
)
for dir in lib/*/; do
    m=$(basename "$dir")
    if [ -z "${allowed[$m]+set}" ]; then
        fail "lib/$m is not in CONTRIBUTING's layering"
        continue
    fi
    while IFS=: read -r file inc; do
        dep=$(sed -E 's|.*#include "([a-z_]+)/.*|\1|' <<<"$inc")
        if [ "$dep" = "$m" ] || [[ " ${allowed[$m]} " == *" $dep "* ]]; then
            pass
        else
            fail "$file includes $dep, which lies to the right of $m"
        fi
    done < <(grep -HE '^#include "[a-z_]+/' "$dir"*.[ch] || true)
done

if grep -lE '^#include "' cli/*.c | xargs grep -hE '^#include "' | grep -vqE '^#include "cli\.h"'; then
    fail "the CLI includes a library-internal header"
else
    pass
fi

for h in include/capsift/*.h; do
    name=$(basename "$h")
    [ "$name" = capsift.h ] && continue
    if grep -q "#include <capsift/$name>" include/capsift/capsift.h; then pass; else
        fail "capsift.h does not include $name"; fi
done

# the storage backend is the one place of lib/store that speaks SQLite
others=$(grep -lE '#include <sqlite3\.h>|sqlite3_' lib/store/*.[ch] | grep -v '/st_sqlite' || true)
if [ -z "$others" ]; then pass; else fail "SQLite outside the index's backend: $others"; fi
if grep -q 'sqlite3' lib/store/pass_index.c lib/store/st_update.c lib/store/st_writer.c \
    lib/store/st_extract.c lib/store/st_backend.h; then
    fail "the index pass, update, writer or extraction names SQLite"
else
    pass
fi

# every "next protocol" switch is in the decoder's tables: no decoder switches on a number
if grep -nE '^\s*switch \((type|proto|linktype|af|port|next)\)' lib/decode/*.c; then
    fail "a decoder dispatches by switch instead of lib/decode/dec_next.c"
else
    pass
fi

# pass states are opaque: every pass the library exports has its state struct out of the
# public headers (only declared there)
for pass in $(grep -ohE 'const sift_pass_t sift_[a-z]+_pass' include/capsift/*.h | sed -E 's/.*sift_([a-z]+)_pass/\1/'); do
    st="sift_${pass}"
    if grep -qE "^(typedef )?struct $st \{" include/capsift/*.h; then
        fail "the state of the $pass pass is defined in a public header"
    else
        pass
    fi
done

# output is data: no command writes JSON by hand (a quoted key in a format string), and only
# cli/options.c calls getopt
if grep -nE '\\"[a-z_]+\\":' cli/*.c; then
    fail "a command formats JSON by hand instead of through cli/output.c"
else
    pass
fi
if grep -ln 'getopt' cli/*.c | grep -v '^cli/options.c$'; then
    fail "a command parses its options itself instead of through cli_parse"
else
    pass
fi
finish
