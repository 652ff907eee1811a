#!/bin/sh
# tests/test_limits_cli.sh — limits the command line checks before it allocates
# (issue "hostile input, exhausted resources"): the memory estimate against --max-memory,
# shapes whose sizes overflow 32 bits, and zero-event samples (a 1 µs window of N-MNIST,
# which has no event there) that used to be undefined behaviour. TAP output.
. tests/tap.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
NMNIST=../shared/datasets/nmnist-small/test100.txt

# run CODE DESC ARGS...: the exit status, stderr kept in $tmp/err
run() {
    code=$1; desc=$2; shift 2
    "$EVSNN" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
    if [ "$rc" -eq "$code" ]; then ok "$desc"; else notok "$desc (exit $rc, expected $code)"; sed 's/^/# /' "$tmp/err" | head -n 5; fi
}

# 700-3000-20: (700·3000 + 3000 + 3000·20 + 20) = 2,163,020 parameters × 4 bytes = 8.25 MiB
run 2 "run over --max-memory is refused" run --arch 700-3000-20 --max-memory 10M
check "the refusal names the estimate, the parameters and the limit" \
  grep -q 'this needs about .* (parameters 8.3 MiB, .*above the limit of 10.0 MiB (--max-memory 10M)' "$tmp/err"
run 0 "the same run within --max-memory 64M" run --arch 700-3000-20 --steps 20 --batch 4 --max-memory 64M
run 2 "--max-memory with a bad unit" run --arch 10-2 --max-memory 10Q
# 10^8 inputs: 4 × 10^9 bytes of parameters alone; the Bernoulli inputs of 16 samples in
# flight (8 per thread) add 44 GiB: refused before anything is touched
run 2 "run --arch 99999999-10 is refused by the estimate (default limit)" run --arch 99999999-10 --max-memory 8G
check "... naming its inputs" grep -q 'inputs [0-9.]* GiB' "$tmp/err"
run 2 "init of a too large network is refused" init --arch 50000000-10 --max-memory 1G -o "$tmp/big.h5"
check "... and writes nothing" test ! -e "$tmp/big.h5"

# 64-bit shape products: 65537·65536·1 = 4,295,032,832 values wraps to 65,536 in 32 bits
run 2 "init --input 65537x65536x1 is refused, not a wrong model" init --arch 65536-10 --input 65537x65536x1 -o "$tmp/w.h5"
check "... naming the product and the limit" grep -q 'has 4295032832 values, above the limit of 2147483648' "$tmp/err"
check "... and writes nothing" test ! -e "$tmp/w.h5"
run 2 "init --input 1x100000x100000" init --arch 10-2 --input 1x100000x100000 -o "$tmp/w.h5"
check "... names the limit on H" grep -q 'H = 100000 is above the limit of 65536' "$tmp/err"

# zero-event samples (UBSan under make asan: memcpy from NULL, offset on NULL)
if [ -r "$NMNIST" ]; then
  "$EVSNN" init --arch 2312-10 --input 2x34x34 -o "$tmp/m.h5" >/dev/null 2>&1
  run 0 "run on N-MNIST with a 1 µs window (samples without events)" run --model "$tmp/m.h5" --data "$NMNIST" --count 5 --window-us 0:1
  check "... 0 input events" grep -q '"input_events":0,' "$tmp/out"
  run 0 "eval with the same window" eval --model "$tmp/m.h5" --data "$NMNIST" --max 5 --window-us 0:1
  run 0 "train with the same window" train --arch 2312-10 --data "$NMNIST" --split-at 4 --max-train 4 --max-test 4 \
    --window-us 0:1 --epochs 1 --batch 4 --threads 1 --quiet -o "$tmp/z.h5"
elif [ "$CI" = true ]; then notok "$NMNIST missing (CI=true)"
else skip "zero-event samples" "$NMNIST not found"; fi
echo "1..$n"
