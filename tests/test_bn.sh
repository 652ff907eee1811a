#!/bin/sh
# tests/test_bn.sh — batch normalisation from the command line: a binarized conv net with BN
# on Fashion-MNIST (the Debian package) trains; a run of 2 epochs equals 1 epoch, a checkpoint
# and a resume, bit for bit (h5diff: parameters and running statistics); `eval` (BN with the
# running statistics) and `run` (BN folded into per-channel thresholds) give the same
# accuracy; the accelerator model and the float fold take the model too. TAP output.
. tests/tap.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
need_fmnist "batch normalisation"
train() { # train EPOCHS OUT [options...]
    ep=$1; out=$2; shift 2
    "$EVSNN" train --arch 8C5-AP2-BN-16C5-AP2-BN-256-10 --input 1x28x28 --data fashion-mnist \
        --max-train 192 --max-test 128 --steps 6 --epochs "$ep" --batch 32 --binarize --latent-clamp 1 \
        --beta 0.87 --threshold 1.5,1.5,3 --surrogate fast_sigmoid:k=0.5 --lr 1e-2 --seed 3 --quiet \
        -o "$out" "$@"
}
check "train a binarized BN conv net, 2 epochs" train 2 "$tmp/a.h5"
check "train 1 epoch with a checkpoint" train 1 "$tmp/b1.h5" --checkpoint "$tmp/ck.h5"
check "resume it to 2 epochs" train 2 "$tmp/b.h5" --resume "$tmp/ck.h5"
check "resumed model equals the uninterrupted one (parameters, BN statistics)" h5diff -q "$tmp/a.h5" "$tmp/b.h5"
check "the model file holds BN's running statistics" sh -c "h5dump -H '$tmp/a.h5' | grep -q bn_running_var"
momentum() { h5dump -a /layers/0/bn_momentum "$1" | sed -n 's/^ *(0): *//p'; }
check "--bn-momentum 0.01 trains and is recorded in the model file" sh -c \
    "'$EVSNN' train --arch 8C5-AP2-BN-10 --input 1x28x28 --data fashion-mnist --max-train 64 --max-test 32 --steps 4 --epochs 1 --bn-momentum 0.01 --quiet -o '$tmp/m.h5' >/dev/null"
check "... as 0.01 (PyTorch's 0.1 without the option)" test "$(momentum "$tmp/m.h5")" = 0.01 -a "$(momentum "$tmp/a.h5")" = 0.1
check "the running statistics differ from momentum 0.1's" sh -c "'$EVSNN' train --arch 8C5-AP2-BN-10 --input 1x28x28 --data fashion-mnist --max-train 64 --max-test 32 --steps 4 --epochs 1 --quiet -o '$tmp/m1.h5' >/dev/null && ! h5diff -q '$tmp/m.h5' '$tmp/m1.h5' /layers/0/bn_running_var"
check "--bn-momentum 0 is refused, exit 2" sh -c "'$EVSNN' train --bn-momentum 0 2>'$tmp/bm.err'; test \$? = 2 && grep -q 'bn-momentum' '$tmp/bm.err'"
acc() { grep -o '"accuracy":[0-9.e-]*' "$1" | head -n 1 | cut -d: -f2; }
"$EVSNN" eval --model "$tmp/a.h5" --data fashion-mnist --max 128 >"$tmp/eval.json" 2>"$tmp/eval.err"
"$EVSNN" run --model "$tmp/a.h5" --data fashion-mnist --split test --count 128 >"$tmp/run.json" 2>"$tmp/run.err"
check "eval reports an accuracy" test -n "$(acc "$tmp/eval.json")"
check "run (BN folded) gives eval's accuracy (BN unfolded)" test "$(acc "$tmp/eval.json")" = "$(acc "$tmp/run.json")"
check "run says it folded BN into thresholds" grep -q 'per-channel thresholds' "$tmp/run.err"
check "the folded model's trace goes through the accelerator model" sh -c "'$EVSNN' run --model '$tmp/a.h5' --data fashion-mnist --encoding rate --count 4 --record '$tmp/tr.h5' >/dev/null 2>&1 && '$EVSNN' hw --trace '$tmp/tr.h5' --accel data/snn-dse.cfg >'$tmp/hw.json' 2>/dev/null"
check "a float BN model folds into its weights" sh -c "'$EVSNN' train --arch 8C5-AP2-BN-256-10 --input 1x28x28 --data fashion-mnist --max-train 64 --max-test 64 --steps 4 --epochs 1 --quiet -o '$tmp/f.h5' >/dev/null && '$EVSNN' run --model '$tmp/f.h5' --data fashion-mnist --split test --count 8 2>&1 >/dev/null | grep -q 'into the weights'"
echo "1..$n"
