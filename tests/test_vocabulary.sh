#!/bin/sh
# tests/test_vocabulary.sh — one name per meaning across commands, the older names still
# accepted; `evsnn train --data synth --epochs 2` complete with the defaults it announces;
# a text file is "not a recognised dataset format"; data info's per-class counts are
# class_counts; snnTorch's straight_through_estimator is a surrogate name. TAP output.
. tests/tap.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ev=$EVSNN; case $ev in /*) ;; *) ev="$PWD/$EVSNN";; esac

( cd "$tmp" && "$ev" train --data synth --epochs 2 >train.out 2>train.err ); rc=$?
check "train --data synth --epochs 2 runs with no --arch and no -o" test $rc -eq 0
check "it says which architecture it chose" grep -q "no --arch given: 100-64-4" "$tmp/train.err"
check "it says where the model goes" grep -q "the model goes to model.h5" "$tmp/train.err"
check "and the model is there" test -s "$tmp/model.h5"
check "two epoch lines and a done line" test "$(grep -c '"epoch":' "$tmp/train.out")" -eq 2
"$ev" train --data synth:classes=3 --epochs 1 -o "$tmp/c3.h5" >/dev/null 2>"$tmp/err"
check "the default architecture follows the synthetic classes" grep -q "100-64-3" "$tmp/err"
"$ev" train --data "$tmp/none.idx" --epochs 1 >/dev/null 2>"$tmp/err"
check "a real dataset still needs --arch (exit 2, named)" sh -c "grep -q -- '--arch is required' '$tmp/err'"

"$ev" data info README.md >/dev/null 2>"$tmp/err"; rc=$?
check "data info README.md exits 2" test $rc -eq 2
check "and says it is not a recognised dataset format" grep -q "README.md: not a recognised dataset format" "$tmp/err"
check "not an AEDAT decoder error" sh -c "! grep -qi 'truncated\|record' '$tmp/err'"
printf '#!AER-DAT1.0\r\n' >"$tmp/a1.aedat"
"$ev" data info "$tmp/a1.aedat" >/dev/null 2>"$tmp/err"
check "an AEDAT 1.0 file with its version line is still read as one" sh -c "! grep -q 'not a recognised' '$tmp/err'"

if [ -f ../shared/datasets/nmnist-small/test100.txt ] || [ "$CI" = true ]; then
    d=../shared/datasets/nmnist-small/test100.txt
    "$ev" data info "$d" --count 20 >"$tmp/i.json" 2>"$tmp/err"
    check "data info names its per-class counts class_counts" grep -q '"class_counts":\[' "$tmp/i.json"
    check "and no longer 'labels'" sh -c "! grep -q '\"labels\":' '$tmp/i.json'"
    "$ev" data info "$d" --max-samples 20 >"$tmp/j.json" 2>"$tmp/err"
    check "--max-samples is --count's older name (the same counts)" \
        test "$(grep -o '"class_counts":\[[0-9,]*\]' "$tmp/i.json")" = "$(grep -o '"class_counts":\[[0-9,]*\]' "$tmp/j.json")"
    "$ev" train --arch 2312-10 --data "$d" --split-at 50 --train-count 20 --test-count 10 --epochs 1 --steps 10 -o "$tmp/n.h5" >"$tmp/t1" 2>/dev/null
    check "train --train-count/--test-count" test $? -eq 0
    "$ev" train --arch 2312-10 --data "$d" --split-at 50 --max-train 20 --max-test 10 --epochs 1 --steps 10 -o "$tmp/n2.h5" >"$tmp/t2" 2>/dev/null
    check "train --max-train/--max-test (older names) give the same run" sh -c "[ \"\$(grep -o '\"train_loss\":[^,]*' '$tmp/t1')\" = \"\$(grep -o '\"train_loss\":[^,]*' '$tmp/t2')\" ]"
    "$ev" eval --model "$tmp/n.h5" --data "$d" --split-at 50 --count 7 >"$tmp/e1" 2>/dev/null
    check "eval --count" grep -q '"samples":7,' "$tmp/e1"
    "$ev" eval --model "$tmp/n.h5" --data "$d" --split-at 50 --max 7 >"$tmp/e2" 2>/dev/null
    check "eval --max (older name)" grep -q '"samples":7,' "$tmp/e2"
    "$ev" eval --model "$tmp/n.h5" --data "$d" --downsample 2 >/dev/null 2>"$tmp/err"
    check "eval on data of another shape does not suggest --input (it has none)" sh -c "grep -q 'the model takes 2312' '$tmp/err' && ! grep -q -- '--input' '$tmp/err'"
else
    skip "dataset vocabulary" "../shared/datasets/nmnist-small not found"
fi

"$ev" run --arch 8C3-AP2-10 --input 2x12x12 --steps 10 --batch 3 --record "$tmp/t.h5" >/dev/null 2>&1
"$ev" hw --trace "$tmp/t.h5" --count 2 >"$tmp/h1" 2>/dev/null
check "hw --count" grep -q '"samples":2,' "$tmp/h1"
"$ev" hw --trace "$tmp/t.h5" --samples 2 >"$tmp/h2" 2>/dev/null
check "hw --samples (older name)" grep -q '"samples":2,' "$tmp/h2"
"$ev" serve --help | grep -q -- '--dt-us US'
check "serve documents --dt-us like the other commands" test $? -eq 0

"$ev" train --data synth --epochs 1 --surrogate straight_through_estimator -o "$tmp/s.h5" >"$tmp/s1" 2>"$tmp/err"
check "snnTorch's straight_through_estimator is accepted" test $? -eq 0
"$ev" train --data synth --epochs 1 --surrogate straight_through -o "$tmp/s2.h5" >"$tmp/s2" 2>&1
check "and trains as straight_through does (the same losses)" \
    test "$(grep -o '"train_loss":[^,]*,"train_acc":[^,]*' "$tmp/s1")" = "$(grep -o '"train_loss":[^,]*,"train_acc":[^,]*' "$tmp/s2")"
echo "1..$n"
