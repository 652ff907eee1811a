#!/bin/sh
# tests/test_nir.sh — `evsnn nir import|export|info` and NIR graphs wherever a model goes
# (run, eval, hw, serve; told apart by content, not by name): exit codes, one-line errors
# naming the node, nothing written on failure, the same spikes and accuracy from a model
# and its NIR export. With python3-h5py (Debian), NIR files written by tests/nir_h5py.py as
# the nir library's nir.write lays them out (snnTorch's conventions: scalar parameters,
# batch dimensions, shuffled edges) are imported, and evsnn's exports are read back the way
# nir.read reads them; without it those checks skip, except under CI=true. TAP output.
. tests/tap.sh
tmp=$(mktemp -d)
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# expect_exit CODE DESC ARGS...: exit status CODE; for 2, exactly one 'evsnn' line on stderr
expect_exit() {
    code=$1; desc=$2; shift 2
    "$EVSNN" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
    if [ "$rc" -ne "$code" ]; then notok "$desc (exit $rc, expected $code)"; sed 's/^/# /' "$tmp/err"; return; fi
    if [ "$code" -eq 2 ] && { [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -q '^evsnn' "$tmp/err"; }; then
        notok "$desc (not one 'evsnn' line on stderr)"; sed 's/^/# /' "$tmp/err"; return
    fi
    ok "$desc"
}
spikes() { grep -o '"spikes":[0-9]*' "$1" | tr '\n' ' '; }

expect_exit 0 "nir --help" nir --help
check "nir --help documents import, export and info" sh -c "grep -q 'nir import' '$tmp/out' && grep -q 'nir export' '$tmp/out' && grep -q 'nir info' '$tmp/out'"
expect_exit 2 "nir without a verb" nir
expect_exit 2 "nir with an unknown verb" nir frobnicate x
expect_exit 2 "nir import without -o" nir import "$tmp/none.nir"
expect_exit 2 "nir import of a missing file" nir import "$tmp/none.nir" -o "$tmp/x.h5"
expect_exit 2 "nir import --dt 0" nir import "$tmp/none.nir" -o "$tmp/x.h5" --dt 0
expect_exit 2 "nir import --reset bogus" nir import "$tmp/none.nir" -o "$tmp/x.h5" --reset bogus

# evsnn → NIR → evsnn: same spikes; a subtract-reset model warns and keeps its reset in metadata
"$EVSNN" init --arch 4C3-AP2-8C3-72-10 --input 2x10x10 --padding same --threshold 0.3 --seed 4 -o "$tmp/m.h5" >/dev/null 2>&1
expect_exit 0 "nir export of a conv model" nir export "$tmp/m.h5" -o "$tmp/m.nir"
check "export prints its JSON summary" grep -q '"nodes":12,"edges":11' "$tmp/out"
check "export warns that subtract reset is not NIR's" grep -q "warning: layers conv1, conv2, fc3, fc4: reset 'subtract'" "$tmp/err"
check "no temporary file left" sh -c "! ls '$tmp' | grep -q tmp"
expect_exit 0 "nir info of the export" nir info "$tmp/m.nir"
check "info lists nodes, edges, order and the mapping" sh -c "grep -q '\"type\":\"Conv2d\"' '$tmp/out' && grep -q '\"edges\":\[\[\"input\",\"conv1\"\]' '$tmp/out' && grep -q '\"order\":\[\"input\"' '$tmp/out' && grep -q '\"imports\":true' '$tmp/out'"
check "info shows the evsnn_reset metadata" grep -q '"evsnn_reset":{"dtype":"string","shape":\[\],"value":"subtract"}' "$tmp/out"
expect_exit 0 "nir import of the export" nir import "$tmp/m.nir" -o "$tmp/back.h5"
check "the reset comes back from the metadata" grep -q '"reset":"subtract","reset_from":"metadata"' "$tmp/out"
"$EVSNN" run --model "$tmp/m.h5" --steps 20 --batch 3 --input-rate 0.2 --seed 3 >"$tmp/r1" 2>/dev/null
"$EVSNN" run --model "$tmp/m.nir" --steps 20 --batch 3 --input-rate 0.2 --seed 3 >"$tmp/r2" 2>"$tmp/r2.err"
"$EVSNN" run --model "$tmp/back.h5" --steps 20 --batch 3 --input-rate 0.2 --seed 3 >"$tmp/r3" 2>/dev/null
check "run takes the .nir file and says it imported it" grep -q "note: $tmp/m.nir is a NIR graph" "$tmp/r2.err"
check "model, its NIR file and the re-imported model give the same spikes" sh -c "[ -n \"\$(grep -o '\"spikes\":[1-9]' '$tmp/r1')\" ] && [ '$(spikes "$tmp/r1")' = '$(spikes "$tmp/r2")' ] && [ '$(spikes "$tmp/r1")' = '$(spikes "$tmp/r3")' ]"
expect_exit 0 "--reset zero overrides the metadata" nir import "$tmp/m.nir" -o "$tmp/z.h5" --reset zero
check "the layers report --reset" grep -q '"reset":"zero","reset_from":"--reset"' "$tmp/out"
expect_exit 2 "more --reset values than layers" nir import "$tmp/m.nir" -o "$tmp/zz.h5" --reset zero,zero,zero,zero,zero
check "nothing written after the refusal" [ ! -e "$tmp/zz.h5" ]

# detected by content, not by name
cp "$tmp/m.nir" "$tmp/graph.h5"; cp "$tmp/m.h5" "$tmp/model.nir"
"$EVSNN" run --model "$tmp/graph.h5" --steps 20 --batch 3 --input-rate 0.2 --seed 3 >"$tmp/r4" 2>/dev/null
"$EVSNN" run --model "$tmp/model.nir" --steps 20 --batch 3 --input-rate 0.2 --seed 3 >"$tmp/r5" 2>/dev/null
check "a NIR graph named .h5 and a model named .nir both run, by content" sh -c "[ '$(spikes "$tmp/r1")' = '$(spikes "$tmp/r4")' ] && [ '$(spikes "$tmp/r1")' = '$(spikes "$tmp/r5")' ]"
expect_exit 2 "nir import of an evsnn model file" nir import "$tmp/m.h5" -o "$tmp/no.h5"
check "nothing written" [ ! -e "$tmp/no.h5" ]

# hw, eval and serve take the NIR graph too
expect_exit 0 "hw --model NET.nir" hw --model "$tmp/m.nir" --accel data/snn-dse.cfg --samples 2 --steps 10
check "hw reports cycles" grep -q '"cycles' "$tmp/out"
"$EVSNN" train --arch 60-24-3 --data synth:classes=3,train=48,test=24,T=12 --epochs 1 --batch 16 --seed 2 --quiet -o "$tmp/t.h5" >/dev/null 2>&1
"$EVSNN" nir export "$tmp/t.h5" -o "$tmp/t.nir" >/dev/null 2>&1
"$EVSNN" eval --model "$tmp/t.h5" --data synth:classes=3,train=48,test=24,T=12 >"$tmp/e1" 2>/dev/null
expect_exit 0 "eval --model NET.nir" eval --model "$tmp/t.nir" --data synth:classes=3,train=48,test=24,T=12
check "eval of the model and of its NIR export agree" sh -c "[ -n \"\$(grep -o '\"accuracy\":[0-9.]*' '$tmp/e1')\" ] && [ \"\$(grep -o '\"accuracy\":[0-9.]*' '$tmp/e1')\" = \"\$(grep -o '\"accuracy\":[0-9.]*' '$tmp/out')\" ]"
"$EVSNN" serve --model "$tmp/t.nir" --listen 127.0.0.1:0 >"$tmp/serve.out" 2>"$tmp/serve.err" &
srv=$!
i=0
while [ ! -s "$tmp/serve.out" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "serve --model NET.nir listens" grep -q '"tcp":[0-9]' "$tmp/serve.out"
kill -TERM "$srv"; wait "$srv"; rc=$?; srv=
check "serve exits 0 on SIGTERM" [ $rc -eq 0 ]

# an export NIR 1.0 cannot hold: refused naming the layer, nothing written
"$EVSNN" init --arch 4C3-MP2-10 --input 1x8x8 -o "$tmp/mp.h5" >/dev/null 2>&1
expect_exit 2 "export of max pooling is refused" nir export "$tmp/mp.h5" -o "$tmp/mp.nir"
check "the refusal names the layer" grep -q "layer conv1: max pooling has no NIR node" "$tmp/err"
check "nothing written" [ ! -e "$tmp/mp.nir" ]

# NIR files written with h5py, laid out as nir.write does
PY=
for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import h5py' 2>/dev/null; then PY=$p; break; fi
done
if [ -z "$PY" ]; then
    if [ "$CI" = true ]; then notok "python3-h5py missing (CI=true: required; make deps installs it)"; echo "1..$n"; exit 0; fi
    skip "NIR files written by h5py" "python3-h5py not installed (make deps installs it)"
    echo "1..$n"; exit 0
fi
W="$PY tests/nir_h5py.py"
$W check "$tmp/m.nir" >"$tmp/chk" 2>&1
check "the export reads as nir.read reads it (fields per node type, shapes along every edge)" grep -q '"ok": true' "$tmp/chk"
check "Affine weights are [out, in], Conv2d [out, in, kh, kw]" sh -c "grep -q '\"fc3\": \[72, 200\]' '$tmp/chk' && grep -q '\"conv1\": \[4, 2, 3, 3\]' '$tmp/chk'"
$W check "$tmp/t.nir" >"$tmp/chk2" 2>&1
check "a dense export reads as nir.read reads it" grep -q '"ok": true' "$tmp/chk2"

$W write snntorch_dense "$tmp/s.nir"
expect_exit 0 "import of an snnTorch-style graph (scalars, batch dimension, shuffled edges)" nir import "$tmp/s.nir" -o "$tmp/s.h5"
check "it maps to 12-8-4 with β = 1 − dt/τ" sh -c "grep -q '\"arch\":\"12-8-4\",\"input\":\[12,1,1\]' '$tmp/out' && grep -q '\"beta\":0.5,' '$tmp/out' && grep -q '\"beta\":0.75,' '$tmp/out'"
check "the import says it chose the zero reset" grep -q "note: reset zero" "$tmp/err"
expect_exit 0 "run --model on the h5py-written graph" run --model "$tmp/s.nir" --steps 10 --batch 2
expect_exit 0 "--dt 5e-5 gives β = 1 − 0.5·(1 − β)" nir import "$tmp/s.nir" -o "$tmp/s2.h5" --dt 5e-5
check "β 0.75 and 0.875" sh -c "grep -q '\"beta\":0.75,' '$tmp/out' && grep -q '\"beta\":0.875,' '$tmp/out'"
$W write conv "$tmp/c.nir"
expect_exit 0 "import of a conv graph (per-neuron arrays, pooling of currents, Flatten)" nir import "$tmp/c.nir" -o "$tmp/c.h5"
check "it maps to 4C3-AP2-100-3 with same padding" sh -c "grep -q '\"arch\":\"4C3-AP2-100-3\"' '$tmp/out' && grep -q '\"padding\":\"same\"' '$tmp/out'"

for bad in "missing_node:no node '2' in /node/nodes (missing node)" \
           "unknown_type:node '1': type 'Quantum' is not a NIR 1.0 node type" \
           "shape_mismatch:node '2' (Affine): weight is 4x9 (takes 9 values), but '1' (LIF) gives 8" \
           "dangling_edge:node 'sink' (Affine): the edge '3' -> 'sink' leads nowhere" \
           "cycle:the graph has a cycle: '0' -> '1' -> 'rec' -> '0'" \
           "li_readout:node '3' (LI) is not supported by evsnn"; do
    name=${bad%%:*}; msg=${bad#*:}
    $W write "$name" "$tmp/$name.nir"
    expect_exit 2 "$name: import exits 2 with one line" nir import "$tmp/$name.nir" -o "$tmp/$name.h5"
    check "$name: the message names the node" grep -qF "$msg" "$tmp/err"
    check "$name: nothing written" [ ! -e "$tmp/$name.h5" ]
    expect_exit 2 "$name: run --model refuses it too" run --model "$tmp/$name.nir" --steps 5
done
echo "1..$n"
