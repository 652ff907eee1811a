#!/bin/sh
# tests/test_install.sh — the library as a product (LIBRARY.md): `make install` into a fresh
# prefix, then, against the installed tree only, the example program of LIBRARY.md compiled
# with `pkg-config --cflags --libs evsnn` (shared) and `--static`, run on a model and an IDX
# file this test writes, its spike counts equal to `evsnn run --per-sample`; the soname, the
# reserved prefixes of every exported symbol, the man pages and the bash completion.
# The build directory and sanitizer flags are those of the suite (make check passes them),
# so nothing is rebuilt. TAP output.
. tests/tap.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
B=${EVSNN_BUILD:-build/release}
pre="$tmp/prefix"
unset MAKEFLAGS MFLAGS MAKELEVEL
make --no-print-directory install-run BUILD="$B" OPT="${EVSNN_OPT:--O3 -g}" SANFLAGS="$EVSNN_SANFLAGS" \
    PREFIX="$pre" >"$tmp/install.log" 2>&1
rc=$?
check "make install-run into a fresh prefix" test $rc -eq 0
[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/install.log" | tail -20
for f in bin/evsnn lib/libevsnn.a lib/libevsnn.so lib/libevsnn.so.0 lib/pkgconfig/evsnn.pc include/evsnn/evsnn.h \
         include/evsnn/sim/engine.h include/evsnn/io/dataset.h include/evsnn/hw/hw.h share/man/man1/evsnn.1 \
         share/man/man1/evsnn-train.1 share/bash-completion/completions/evsnn share/evsnn/snn-dse.cfg; do
    check "installed $f" test -e "$pre/$f"
done
check "internal headers stay private" sh -c "! test -e '$pre/include/evsnn/io/ds_impl.h' && ! test -e '$pre/include/evsnn/io/h5util.h'"
check "libevsnn.so carries the soname libevsnn.so.0" sh -c "readelf -d '$pre/lib/libevsnn.so' | grep -q 'SONAME.*\[libevsnn.so.0\]'"

# Every symbol the shared library exports begins with a reserved prefix of include/evsnn/evsnn.h.
prefixes="$(sed -n 's/^ \* Reserved prefixes: //p' "$pre/include/evsnn/evsnn.h") $(sed -n 's/^ \* Reserved names: //p' "$pre/include/evsnn/evsnn.h")"
nm -D --defined-only "$pre/lib/libevsnn.so" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' >"$tmp/syms"
bad=$(while read -r s; do
    hit=0; for p in $prefixes; do case $s in "$p"*) hit=1; break;; esac; done
    case $s in _init|_fini|_edata|_end|__bss_start|.gomp_critical_user_*|__odr_asan*) hit=1;; esac  # linker, OpenMP, ASan names
    [ $hit = 1 ] || echo "$s"; done <"$tmp/syms")
check "exported symbols ($(wc -l <"$tmp/syms")) all begin with a reserved prefix" test -z "$bad"
[ -z "$bad" ] || echo "$bad" | head | sed 's/^/# unreserved: /'

# The example of LIBRARY.md, as written there.
sed -n '/^```c$/,/^```$/p' LIBRARY.md | sed '1d;$d' >"$tmp/spike_counts.c"
check "LIBRARY.md holds the example program" grep -q 'model_load' "$tmp/spike_counts.c"
export PKG_CONFIG_PATH="$pre/lib/pkgconfig"
cflags=$(pkg-config --cflags evsnn) && libs=$(pkg-config --libs evsnn)
check "pkg-config --cflags --libs evsnn" test -n "$libs"
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror $EVSNN_SANFLAGS -o "$tmp/ex_shared" "$tmp/spike_counts.c" $cflags $libs 2>"$tmp/cc.err"
check "the example builds against the installed shared library" test $? -eq 0
sed 's/^/# /' "$tmp/cc.err" | head -5
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror $EVSNN_SANFLAGS -o "$tmp/ex_static" "$tmp/spike_counts.c" \
    $(pkg-config --cflags --static evsnn) "$pre/lib/libevsnn.a" $(pkg-config --libs --static evsnn | sed 's/-levsnn//') 2>"$tmp/cc2.err"
check "the example builds against the installed static library (pkg-config --static)" test $? -eq 0
sed 's/^/# /' "$tmp/cc2.err" | head -5
check "the shared build needs libevsnn.so.0" sh -c "readelf -d '$tmp/ex_shared' | grep -q 'NEEDED.*libevsnn.so.0'"

# A model and a 5-image IDX file (28×28 uint8, labels 0..4), written here byte by byte.
"$pre/bin/evsnn" init --arch 784-10 --input 784 --steps 20 --seed 4 -o "$tmp/m.h5" >/dev/null 2>&1
awk 'BEGIN { printf "%c%c%c%c", 0, 0, 8, 3; printf "%c%c%c%c%c%c%c%c%c%c%c%c", 0,0,0,5, 0,0,0,28, 0,0,0,28;
             for (i = 0; i < 5 * 784; i++) printf "%c", (i * 37 + int(i / 784) * 11) % 256 }' >"$tmp/t-images-idx3-ubyte"
awk 'BEGIN { printf "%c%c%c%c%c%c%c%c", 0, 0, 8, 1, 0, 0, 0, 5; for (i = 0; i < 5; i++) printf "%c", i }' >"$tmp/t-labels-idx1-ubyte"
LD_LIBRARY_PATH="$pre/lib" "$tmp/ex_shared" "$tmp/m.h5" "$tmp/t-images-idx3-ubyte" 5 >"$tmp/ex.out" 2>"$tmp/ex.err"
check "the example runs (shared)" test $? -eq 0
sed 's/^/# /' "$tmp/ex.err" | head -5
"$tmp/ex_static" "$tmp/m.h5" "$tmp/t-images-idx3-ubyte" 5 >"$tmp/ex2.out" 2>&1
check "static and shared builds print the same" cmp -s "$tmp/ex.out" "$tmp/ex2.out"
check "it prints 5 samples" test "$(grep -c '^sample ' "$tmp/ex.out")" -eq 5
"$pre/bin/evsnn" run --model "$tmp/m.h5" --data "$tmp/t-images-idx3-ubyte" --per-sample --batch 5 2>/dev/null |
    sed -n 's/^{"sample":\([0-9]*\),"label":\([-0-9]*\),"class":[0-9]*,"counts":\[\([0-9,]*\)\]}$/sample \1 label \2 counts \3/p' |
    tr ',' ' ' >"$tmp/run.out"
sed 's/ class [0-9]*$//' "$tmp/ex.out" >"$tmp/ex.counts"
check "its spike counts equal evsnn run --per-sample" sh -c "test -s '$tmp/run.out' && cmp -s '$tmp/ex.counts' '$tmp/run.out'"
check "the network fired at all" sh -c "grep -q 'counts.*[1-9]' '$tmp/ex.out'"

# Man pages and completion.
check "evsnn-train.1 is the train command's page" sh -c "grep -q '^\.TH EVSNN-TRAIN' '$pre/share/man/man1/evsnn-train.1' && grep -q 'surrogate' '$pre/share/man/man1/evsnn-train.1'"
check "evsnn.1 lists the commands" grep -q 'replay' "$pre/share/man/man1/evsnn.1"
if command -v bash >/dev/null 2>&1; then
    out=$(PATH="$pre/bin:$PATH" bash -c '. "$1"; COMP_WORDS=(evsnn run --input-r); COMP_CWORD=2; _evsnn; echo "${COMPREPLY[*]}"' _ \
        "$pre/share/bash-completion/completions/evsnn")
    check "bash completion: 'evsnn run --input-r' completes to --input-rate" test "$out" = "--input-rate"
    out=$(PATH="$pre/bin:$PATH" bash -c '. "$1"; COMP_WORDS=(evsnn tr); COMP_CWORD=1; _evsnn; echo "${COMPREPLY[*]}"' _ \
        "$pre/share/bash-completion/completions/evsnn")
    check "bash completion: 'evsnn tr' completes to train" test "$out" = "train"
fi
"$pre/bin/evsnn" --version >"$tmp/v" && "$pre/bin/evsnn" -V >"$tmp/v2"
check "--version and -V name the version and the build's MPI and SIMD" sh -c "cmp -s '$tmp/v' '$tmp/v2' && grep -q '^evsnn [0-9]' '$tmp/v' && grep -q '^MPI: ' '$tmp/v' && grep -q '^SIMD: ' '$tmp/v'"
echo "1..$n"
