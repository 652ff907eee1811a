#!/bin/sh
# data/seed004_table1.sh [EVSNN] — seed 004 Table 1 on Fashion-MNIST, four ways, with the paper's
# network and batch normalisation (16C5-AP2-BN-64C5-AP2-BN-1024-10), batch 128, cosine warm
# restarts every 10 epochs (4690 iterations of 60,000 / 128), the full 60k / 10k sets (Debian
# dataset-fashion-mnist), the settings of the paper's Tables 4 and 5 and its published conf.py:
#   flt32  full precision: beta 0.39, threshold 1.5, fast sigmoid k 7.7, Adam 2e-3, gradient
#          clip 1, weight clip 1, dropout 0.13 on the dense layer
#   bsnn1  binarized, threshold 1: beta 0.82, k 4.3, Adam 1.2e-3, clips, dropout 0.86
#   bsnn   binarized, tuned threshold 9.7: beta 0.87, k 6.7, Adam 1.6e-2, gradient clip,
#          dropout 0.01
#   tha    binarized, thresholds annealed 6.9 -> 14.0 (α 0.037), 10.3 -> 23.1 (0.30),
#          18.0 -> 27.9 (0.10), surrogate centred at the current threshold as the code does,
#          beta 0.87, k 0.2, SGD 8.4e-4 momentum 0.86, dropout 0.65
#   tha_adam the tha row with the bsnn row's optimizer (Adam 1.6e-2, gradient clip 1, dropout
#          0.01): the diagnosis of sim/TRAINING.md, and the best annealed run here
# T = TABLE1_T (default 25; the paper: 100), TABLE1_EPOCHS epochs (default 15; the paper: up
# to 500 with early stopping), seed TABLE1_SEED (default 1). Every run checkpoints each epoch
# and resumes: run the script again after an interruption. Writes, under TABLE1_OUT (default
# out/table1): ROW.jsonl (one line per epoch: losses, accuracies, thresholds, firing rates,
# silent fractions per layer), ROW.h5 (the model), ROW.ckpt, and seed004_table1_fmnist.png
# (test accuracy per epoch, and each layer's silent fraction; gnuplot, when installed).
# TABLE1_ROWS chooses rows (default "tha flt32 bsnn bsnn1"; empty: only the figure).
set -eu
EVSNN=${1:-bin/evsnn}
out=${TABLE1_OUT:-out/table1}
T=${TABLE1_T:-25}
EP=${TABLE1_EPOCHS:-15}
SEED=${TABLE1_SEED:-1}
mkdir -p "$out"
common="--arch 16C5-AP2-BN-64C5-AP2-BN-1024-10 --input 1x28x28 --data fashion-mnist --batch 128
        --steps $T --epochs $EP --cosine 4690 --seed $SEED --quiet"
for row in ${TABLE1_ROWS-tha flt32 bsnn bsnn1}; do
    case $row in
    flt32) opts="--beta 0.39 --threshold 1.5 --surrogate fast_sigmoid:k=7.7 --lr 2e-3 --grad-clip 1
                 --weight-clip 1 --dropout 0,0,0.13" ;;
    bsnn1) opts="--binarize --beta 0.82 --threshold 1 --surrogate fast_sigmoid:k=4.3 --lr 1.2e-3 --grad-clip 1
                 --weight-clip 1 --dropout 0,0,0.86" ;;
    bsnn) opts="--binarize --beta 0.87 --threshold 9.7 --surrogate fast_sigmoid:k=6.7 --lr 1.6e-2 --grad-clip 1
                --dropout 0,0,0.01" ;;
    tha) opts="--binarize --beta 0.87 --tha 6.9:14.0:0.037,10.3:23.1:0.30,18.0:27.9:0.10 --tha-centre current
               --surrogate fast_sigmoid:k=0.2 --optim sgd --lr 8.4e-4 --momentum 0.86 --dropout 0,0,0.65" ;;
    tha_adam) opts="--binarize --beta 0.87 --tha 6.9:14.0:0.037,10.3:23.1:0.30,18.0:27.9:0.10 --tha-centre current
               --surrogate fast_sigmoid:k=0.2 --lr 1.6e-2 --grad-clip 1 --dropout 0,0,0.01" ;;
    *) echo "seed004_table1.sh: unknown row '$row' (flt32, bsnn1, bsnn, tha, tha_adam)" >&2; exit 2 ;;
    esac
    resume=""
    [ -f "$out/$row.ckpt" ] && resume="--resume $out/$row.ckpt"
    if [ -f "$out/$row.jsonl" ] && grep -q "\"epoch\":$EP," "$out/$row.jsonl"; then continue; fi  # done
    # shellcheck disable=SC2086 # option lists
    "$EVSNN" train $common $opts -o "$out/$row.h5" --checkpoint "$out/$row.ckpt" --log "$out/$row.jsonl" $resume >/dev/null
    printf '%-6s %s\n' "$row" "$(grep '"epoch"' "$out/$row.jsonl" | tail -n 1)"
done

command -v gnuplot >/dev/null 2>&1 || { echo "gnuplot not installed: no figure" >&2; exit 0; }
# ROW.dat: epoch, test accuracy, silent fraction of conv1, conv2, fc3 (test set); only the
# rows that have run are drawn
rows=""
for row in tha flt32 bsnn bsnn1 tha_adam; do
    [ -f "$out/$row.jsonl" ] || continue
    rows="$rows $row"
    grep '"epoch"' "$out/$row.jsonl" | sed 's/.*"epoch":\([0-9]*\).*"test_acc":\([0-9.e-]*\).*"test_silent":\[\([^]]*\)\].*/\1 \2 \3/' |
        tr ',' ' ' >"$out/$row.dat"
done
gnuplot <<EOF
set terminal pngcairo size 1200,480 font ",11"
set output "$out/seed004_table1_fmnist.png"
set multiplot layout 1,2 title "seed 004 Table 1 on Fashion-MNIST (16C5-AP2-BN-64C5-AP2-BN-1024-10, T = $T, seed $SEED)"
set xlabel "epoch"
set ylabel "test accuracy (%)"
set key bottom right
set grid
plot for [r in "$rows"] "$out/".r.".dat" u 1:(100*\$2) w lp pt 7 ps 0.6 t r
set ylabel "silent neurons on the test set (%)"
set key top right
plot for [r in "$rows"] "$out/".r.".dat" u 1:(100*\$3) w lp pt 7 ps 0.5 t r." conv1", \
     for [r in "$rows"] "$out/".r.".dat" u 1:(100*\$4) w lp dt 2 pt 5 ps 0.5 t r." conv2"
unset multiplot
EOF
echo "$out/seed004_table1_fmnist.png" >&2
