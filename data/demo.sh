#!/bin/sh
# data/demo.sh EVSNN — what `make demo` runs: train → evaluate → accelerator model.
#
# 1. train a small binarized SNN with threshold annealing (seed 004's network and schedule)
#    on Fashion-MNIST from the Debian package dataset-fashion-mnist (installed by make deps),
#    on a short budget; without the package, on evsnn's built-in synthetic task;
# 2. evaluate it on held-out images: accuracy, firing rates, silent neurons, spike-count
#    histograms, model size in bits;
# 3. record the evaluation's event traces and replay them through the accelerator model
#    (SNN-DSE-compatible configuration): latency, FPS, energy, FPS/W, queue occupancy.
# Outputs go to out/demo/ (DEMO_OUT overrides). DEMO_TRAIN sets the training images.
set -eu
EVSNN=${1:-bin/evsnn}
out=${DEMO_OUT:-out/demo}
mkdir -p "$out"
say() { printf '== %s\n' "$*" >&2; }

if [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    data=fashion-mnist
    ntrain=${DEMO_TRAIN:-3000}
    say "training seed 004's binarized 16C5-AP2-64C5-AP2-1024-10 with threshold annealing on $ntrain Fashion-MNIST images (3 epochs, T = 15)"
    "$EVSNN" train --arch 16C5-AP2-64C5-AP2-1024-10 --input 1x28x28 --data "$data" \
        --train-count "$ntrain" --test-count 1000 --steps 15 --epochs 3 --batch 32 \
        --binarize --latent-clamp 1 --beta 0.99 --tha 10:12:0.02,30:40:0.02,40:40:0.1 \
        --surrogate fast_sigmoid:k=0.5 --lr 1e-3 \
        --seed 1 --quiet -o "$out/model.h5" | tee "$out/train.jsonl"
    say "evaluating on 1000 Fashion-MNIST test images"
    "$EVSNN" eval --model "$out/model.h5" --data "$data" --count 1000 | tee "$out/eval.json"
    say "recording 16 test images' event traces"
    "$EVSNN" run --model "$out/model.h5" --data "$data" --split test --count 16 --record "$out/trace.h5" >"$out/run.json"
else
    say "dataset-fashion-mnist is not installed: training on the built-in synthetic task instead"
    "$EVSNN" train --arch 100-64-4 --data synth:classes=4 --epochs 5 --binarize --latent-clamp 1 \
        --tha 2:6:0.01 --seed 1 --quiet -o "$out/model.h5" | tee "$out/train.jsonl"
    "$EVSNN" eval --model "$out/model.h5" --data synth:classes=4 | tee "$out/eval.json"
    "$EVSNN" run --model "$out/model.h5" --steps 100 --batch 16 --input-rate 0.1 --record "$out/trace.h5" >"$out/run.json"
fi
say "accelerator model (data/snn-dse.cfg: the SNN-DSE RTL, cycle-exact) on the recorded traces"
"$EVSNN" hw --trace "$out/trace.h5" --accel data/snn-dse.cfg --plot "$out/hw" | tee "$out/hw.json"
say "done: $out/ holds the model, the JSON results and the plots ($out/hw-occupancy.png, $out/hw-latency.png)"
