#!/bin/sh
# data/temporal.sh [EVSNN] — seed 004 §4.1, the spike-timing task, four ways (`make temporal`).
#
# A 100-1000-1 network sees one Poisson input sample (100 channels, spike probability 0.5 per
# step, 100 steps) and its output membrane is trained (mean squared error per step) towards a
# ramp that reaches 1.1 x the final threshold at step 75 and is 0 afterwards. SGD with
# momentum 0.9, learning rate 1e-3, fast sigmoid slope 5, 1,000 iterations (seed 004 Table 3
# and its published notebook):
#   flt32   full precision, beta 0.6, threshold 1
#   bin1    binarized, beta 0.15, threshold 1     -> unstable: fires almost every step
#   bin50   binarized, beta 0.15, threshold 50   -> silent: only the bias lifts the membrane
#   tha     binarized, beta 0.15, thresholds annealed 5 -> 50 (alpha 5e-3)  -> fires near 75
# Writes, under TEMPORAL_OUT (default out/temporal): NAME.jsonl (a line every 100 iterations:
# loss, thresholds, hidden rate, output spike steps), NAME.txt (final trace: step, target,
# membrane, spike) and seed004_fig4_temporal_task.png (gnuplot, when installed).
set -eu
EVSNN=${1:-bin/evsnn}
out=${TEMPORAL_OUT:-out/temporal}
mkdir -p "$out"
common="--arch 100-1000-1 --data temporal:p=0.5,every=100 --epochs 1000 --optim sgd --momentum 0.9
        --lr 1e-3 --surrogate fast_sigmoid:k=5 --seed 1 --threads 1 --quiet"
run() {
    name=$1; shift
    # shellcheck disable=SC2086 # $common is a list of options
    "$EVSNN" train $common "$@" -o "$out/$name.h5" --trace "$out/$name.txt" >"$out/$name.jsonl"
    printf '%-6s %s\n' "$name" "$(tail -n 1 "$out/$name.jsonl")"
}
run flt32 --beta 0.6 --threshold 1
run bin1 --binarize --beta 0.15 --threshold 1
run bin50 --binarize --beta 0.15 --threshold 50
run tha --binarize --beta 0.15 --tha 5:50:0.005 --tha-centre current

command -v gnuplot >/dev/null 2>&1 || { echo "gnuplot not installed: no figure" >&2; exit 0; }
png="$out/seed004_fig4_temporal_task.png"
# panel NAME TITLE THRESHOLD SPIKE_MARK_HEIGHT: one gnuplot panel of a final trace
panel() {
    printf 'set title "%s"\n' "$2"
    printf 'plot "%s" u 1:2 w l dt 2 lc rgb "gray" t "target", "" u 1:3 w l lc rgb "blue" t "u", ' "$out/$1.txt"
    printf '"" u 1:($4 > 0 ? %s : 1/0) w p pt 7 ps 0.6 lc rgb "black" t "spike", ' "$4"
    printf '%s w l dt 3 lc rgb "red" t "threshold %s"\n' "$3" "$3"
}
{
    echo 'set terminal pngcairo noenhanced size 1400,380 font ",10"'
    echo "set output \"$png.tmp\""
    echo 'set multiplot layout 1,4 title "seed 004 §4.1: output membrane after 1,000 iterations (dashed: target; dots: output spikes)"'
    echo 'set xlabel "time step"; set ylabel "membrane potential u (units of the input current)"; set xrange [0:99]; set key top left'
    panel flt32 "(a) full precision, θ = 1" 1 1.2
    panel bin1 "(b) binarized, θ = 1" 1 1.2
    panel bin50 "(c) binarized, θ = 50" 50 58
    panel tha "(d) binarized, θ annealed 5 → 50" 50 58
    echo 'unset multiplot'
} | gnuplot
mv "$png.tmp" "$png"
echo "figure: $png"
