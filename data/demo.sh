#!/bin/sh
# data/demo.sh EVSNN — what `make demo` runs: the main job on defaults it ships.
# Today: build the DVS128 network of seed 004 and the SHD network, and run the
# event-driven engine on synthetic event input, printing the JSON summaries.
set -eu
EVSNN=${1:-bin/evsnn}
out=${DEMO_OUT:-out/demo}
mkdir -p "$out"
echo "== evsnn demo: writing models and summaries under $out/" >&2
"$EVSNN" init --arch 16C5-AP2-32C5-AP2-800-11 --input 2x32x32 --seed 1 -o "$out/dvs128.h5"
echo "== DVS128 network (seed 004), Bernoulli events p = 0.05, 100 steps, batch 8" >&2
"$EVSNN" run --model "$out/dvs128.h5" --steps 100 --batch 8 --input-rate 0.05 | tee "$out/dvs128-run.json"
echo "== SHD network 700-3000-20, beta 0.95, p = 0.05, 100 steps, batch 32" >&2
"$EVSNN" run --arch 700-3000-20 --beta 0.95 --steps 100 --batch 32 --input-rate 0.05 | tee "$out/shd-run.json"
echo "== done: see README.md for what the fields mean" >&2
