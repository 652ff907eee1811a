#!/bin/sh
# tests/test_h5py.sh — evsnn's HDF5 files through Debian's python3-h5py (tests/test_h5py_raster.py):
# strings as str, units and axes on every dataset, one spelling of format_version, and a
# layer's spike raster rebuilt from the trace's attributes alone, equal to what evsnn run
# counted. Needs ../shared (N-MNIST, for a trace with a real bin width) and h5py: skipped
# without them, a failure under CI=true. TAP output.
. tests/tap.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
PY=
for p in /usr/bin/python3 python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import h5py, numpy' 2>/dev/null; then PY=$p; break; fi
done
d=../shared/datasets/nmnist-small/test100.txt
if [ -z "$PY" ] || [ ! -f "$d" ]; then
    why="python3-h5py is not installed (make deps installs it)"; [ -f "$d" ] || why="$d not found"
    if [ "$CI" = true ]; then notok "h5py reading: $why (CI=true)"; else skip "h5py reading" "$why"; fi
    echo "1..$n"; exit 0
fi
"$EVSNN" init --arch 2312-40-10 --seed 5 -o "$tmp/m.h5" >/dev/null 2>&1
"$EVSNN" run --model "$tmp/m.h5" --data "$d" --count 6 --steps 30 --per-sample --record "$tmp/t.h5" >"$tmp/run.jsonl" 2>"$tmp/err"
check "run --record on N-MNIST" test $? -eq 0
"$EVSNN" data convert "$d" "$tmp/e.h5" --count 2 >/dev/null 2>&1
"$EVSNN" train --arch 20-8-4 --data synth:classes=4,train=32,test=16,T=5 --epochs 1 --checkpoint "$tmp/c.h5" \
    -o "$tmp/m2.h5" --quiet >/dev/null 2>&1
"$PY" tests/test_h5py_raster.py "$tmp/t.h5" "$tmp/run.jsonl" "$tmp/m.h5" "$tmp/e.h5" "$tmp/c.h5" >"$tmp/py" 2>"$tmp/pyerr"
# its TAP lines, numbered on into this script's
while IFS= read -r line; do
    case $line in
    "ok "*) ok "${line#ok * - }" ;;
    "not ok "*) notok "${line#not ok * - }" ;;
    esac
done <"$tmp/py"
[ -s "$tmp/pyerr" ] && { notok "the h5py reader ran without errors"; sed 's/^/# /' "$tmp/pyerr" | tail -5; }
echo "1..$n"
