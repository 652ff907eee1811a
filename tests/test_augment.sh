#!/bin/sh
# tests/test_augment.sh — `evsnn train --augment` on Fashion-MNIST (the Debian package): an
# augmented run differs from a plain one and repeats itself exactly; 2 epochs equal 1 epoch,
# a checkpoint and a resume, bit for bit (the draws come from seed, epoch and sample); bad
# specifications and inputs it cannot shift are refused with exit 2 and a message naming
# the option. The shift itself is tests/test_io_transform.c's. TAP output.
. tests/tap.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
need_fmnist "augmentation"
train() { # train EPOCHS OUT [options...]
    ep=$1; out=$2; shift 2
    "$EVSNN" train --arch 8C5-AP2-BN-10 --input 1x28x28 --data fashion-mnist --max-train 96 --max-test 32 \
        --steps 4 --batch 32 --epochs "$ep" --seed 2 --quiet -o "$out" "$@" >/dev/null
}
check "train 2 epochs with --augment shift:2,flip" train 2 "$tmp/a.h5" --augment shift:2,flip
check "the same run again" train 2 "$tmp/a2.h5" --augment shift:2,flip
check "... gives the same model" h5diff -q "$tmp/a.h5" "$tmp/a2.h5"
check "train 2 epochs without augmentation" train 2 "$tmp/p.h5"
check "the augmented model differs from the plain one" sh -c "! h5diff -q '$tmp/a.h5' '$tmp/p.h5' >/dev/null"
check "shift alone differs from shift and flip" sh -c "'$EVSNN' train --arch 8C5-AP2-BN-10 --input 1x28x28 --data fashion-mnist --max-train 96 --max-test 32 --steps 4 --batch 32 --epochs 2 --seed 2 --quiet -o '$tmp/s.h5' --augment shift:2 >/dev/null && ! h5diff -q '$tmp/a.h5' '$tmp/s.h5' >/dev/null"
check "1 epoch with a checkpoint" train 1 "$tmp/b1.h5" --augment shift:2,flip --checkpoint "$tmp/ck.h5"
check "resumed to 2 epochs" train 2 "$tmp/b.h5" --augment shift:2,flip --resume "$tmp/ck.h5"
check "the resumed model equals the uninterrupted one" h5diff -q "$tmp/a.h5" "$tmp/b.h5"
refused() { # refused DESCRIPTION PATTERN OPTIONS...: exit 2, the pattern on stderr
    d=$1; p=$2; shift 2
    "$EVSNN" train --data fashion-mnist --max-train 32 --max-test 32 --steps 2 --epochs 1 --quiet -o "$tmp/x.h5" \
        "$@" >/dev/null 2>"$tmp/err"
    rc=$?
    if [ $rc = 2 ] && grep -q -- "$p" "$tmp/err" && [ ! -f "$tmp/x.h5" ]; then ok "$d"; else notok "$d (exit $rc: $(cat "$tmp/err"))"; fi
}
refused "shift:0 is refused" "--augment 'shift:0'" --arch 8C5-10 --input 1x28x28 --augment shift:0
refused "an unknown augmentation is refused" "--augment 'blur'" --arch 8C5-10 --input 1x28x28 --augment blur
refused "a shift as large as the image is refused" "shift 28 is not below" --arch 8C5-10 --input 1x28x28 --augment shift:28
refused "rate-coded images are refused" "not direct-coded" --arch 8C5-10 --input 1x28x28 --encoding rate --augment shift:1
refused "an input without its image shape is refused" "give --input" --arch 784-10 --augment flip
echo "1..$n"
