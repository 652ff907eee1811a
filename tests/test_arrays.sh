#!/bin/sh
# tests/test_arrays.sh — real-valued inputs written by NumPy itself (Debian's python3-numpy):
# .npy arrays of float32 [N, C, H, W] and [N, features] with labels beside them, and a
# float32 IDX file; `evsnn data info` reports the values NumPy computes, `evsnn run
# --data` feeds them as they are (direct coding). Skipped without numpy (a failure under
# CI=true, where make deps installs it). TAP output.
. tests/tap.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
PY=
for p in /usr/bin/python3 python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import numpy' 2>/dev/null; then PY=$p; break; fi
done
if [ -z "$PY" ]; then
    if [ "$CI" = true ]; then notok "python3-numpy missing (CI=true: make deps installs it)"; echo "1..$n"; exit 0; fi
    skip "NumPy-written arrays" "python3-numpy is not installed (make deps installs it)"; echo "1..$n"; exit 0
fi

"$PY" - "$tmp" <<'PYEOF'
import sys, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(7)
x = (rng.standard_normal((6, 2, 3, 4)) * 3).astype('<f4')     # normalised images, negative values too
np.save(d + '/img.npy', x)
np.save(d + '/img_labels.npy', np.array([0, 1, 2, 1, 0, 2], dtype=np.int64))
f = rng.uniform(-1, 1, (5, 7)).astype(np.float32)              # feature vectors
np.save(d + '/x_feat.npy', f)
np.save(d + '/y_feat.npy', np.array([3, 0, 1, 2, 3], dtype=np.uint8))
# IDX type 0x0D (float32, big-endian) written from the same features
with open(d + '/feat-images-idx3-ubyte', 'wb') as o:
    o.write(bytes([0, 0, 0x0D, 2]) + np.array(f.shape, dtype='>u4').tobytes() + f.astype('>f4').tobytes())
with open(d + '/stats', 'w') as o:
    for a in (x, f):
        o.write('%.9g %.9g %.9g\n' % (a.min(), a.astype(np.float64).mean(), a.max()))
PYEOF

field() { "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval('d' + sys.argv[2]))" "$1" "$2"; }
close() { "$PY" -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); sys.exit(0 if abs(a-b) <= 1e-6*max(1,abs(b)) else 1)" "$1" "$2"; }

"$EVSNN" data info "$tmp/img.npy" >"$tmp/i.json" 2>"$tmp/err"
check "data info reads a float32 [N,C,H,W] .npy" test $? -eq 0
check "its shape is C,H,W = 2,3,4" test "$(field "$tmp/i.json" "['shape']")" = "[2, 3, 4]"
check "value type float32" test "$(field "$tmp/i.json" "['value_type']")" = float32
set -- $(sed -n 1p "$tmp/stats")
check "min equals NumPy's" close "$(field "$tmp/i.json" "['values']['min']")" "$1"
check "mean equals NumPy's" close "$(field "$tmp/i.json" "['values']['mean']")" "$2"
check "max equals NumPy's (values used as they are, not /255)" close "$(field "$tmp/i.json" "['values']['max']")" "$3"
check "labels from img_labels.npy: 3 classes" test "$(field "$tmp/i.json" "['classes']")" = 3

"$EVSNN" data info "$tmp/x_feat.npy" >"$tmp/f.json" 2>"$tmp/err"
check "data info reads a [N, features] .npy with y_feat.npy labels" test "$(field "$tmp/f.json" "['classes']")" = 4
"$EVSNN" data info "$tmp/feat-images-idx3-ubyte" >"$tmp/g.json" 2>"$tmp/err"
check "a float32 IDX file (type 0x0D) is read" test $? -eq 0
set -- $(sed -n 2p "$tmp/stats")
check "IDX float32 mean equals NumPy's" close "$(field "$tmp/g.json" "['values']['mean']")" "$2"
check "npy and IDX of the same features agree" test "$(field "$tmp/f.json" "['values']")" = "$(field "$tmp/g.json" "['values']")"

"$EVSNN" run --arch 24-10-3 --input 2x3x4 --data "$tmp/img.npy" --steps 5 --batch 3 >"$tmp/r.json" 2>"$tmp/err"
check "run --data img.npy (direct coding of real values)" test $? -eq 0
check "run reports an accuracy on the .npy labels" sh -c "grep -q '\"accuracy\"' '$tmp/r.json'"
"$EVSNN" run --arch 7-5-4 --data "$tmp/x_feat.npy" --steps 4 --batch 5 >"$tmp/r2.json" 2>"$tmp/err"
check "run --data x_feat.npy (dense input of 7 features)" test $? -eq 0
echo "1..$n"
