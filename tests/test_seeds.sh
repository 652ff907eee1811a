#!/bin/sh
# tests/test_seeds.sh — data/seed004_seeds.sh: the per-epoch mean ± sd over seed directories
# (against figures computed by hand from the logs written here), only rows present in every
# directory, the figure written whole, and its usage errors. TAP output.
. tests/tap.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/s1" "$tmp/s2"
log() { # log FILE EPOCH ACC...: one line per epoch, shaped as `evsnn train --log` writes them
    f=$1; shift; e=1
    for a in "$@"; do
        echo "{\"epoch\":$e,\"step\":$((e * 10)),\"train_loss\":0.5,\"test_acc\":$a,\"test_silent\":[0.5,0.25,0.0]}" >>"$f"
        e=$((e + 1))
    done
}
log "$tmp/s1/tha_adam.jsonl" 0.80 0.85
log "$tmp/s2/tha_adam.jsonl" 0.82 0.86
log "$tmp/s1/bsnn.jsonl" 0.70 0.75   # only in one directory: not in the table
data/seed004_seeds.sh "$tmp/fig.png" "$tmp/s1" "$tmp/s2" >"$tmp/out" 2>"$tmp/err"
check "runs on two seed directories" [ $? = 0 ]
# epoch 1: (80 + 82) / 2 = 81, sd √((1 + 1) / 1) = 1.41; epoch 2: 85.5, √((0.25 + 0.25) / 1) = 0.71
printf 'tha_adam 1 81.00 1.41 2\ntha_adam 2 85.50 0.71 2\n' >"$tmp/want"
check "mean and sd (n - 1) per epoch, the row in every directory only" cmp -s "$tmp/want" "$tmp/out"
if command -v gnuplot >/dev/null 2>&1; then
    check "the figure is a PNG" sh -c "head -c 8 '$tmp/fig.png' | od -An -c | grep -q 'P   N   G'"
    check "no temporary file left" [ ! -e "$tmp/fig.png.tmp" ]
elif [ "${CI:-}" = true ]; then notok "gnuplot is installed"
else skip "the figure" "gnuplot is not installed"; fi
data/seed004_seeds.sh "$tmp/x.png" >/dev/null 2>"$tmp/err"
check "no directory: usage, exit 2" sh -c "[ $? = 2 ] && grep -q usage '$tmp/err'"
mkdir "$tmp/empty"
data/seed004_seeds.sh "$tmp/x.png" "$tmp/s1" "$tmp/empty" >/dev/null 2>"$tmp/err"
check "no row common to the directories: exit 1 and a message" sh -c "[ $? = 1 ] && grep -q 'no row' '$tmp/err' && [ ! -e '$tmp/x.png' ]"
echo "1..$n"
