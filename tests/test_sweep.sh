#!/bin/sh
# tests/test_sweep.sh — evsnn sweep and evsnn plot end to end on the synthetic task:
# the 2 x 2 study's table (CSV and HDF5 rows, read back by h5dump), resume skipping
# finished trials, resume after a run killed mid-study (finished rows kept as they were,
# every trial once), a failing trial recorded as failed without stopping the others, the
# figures written and non-empty, bad study files rejected with the line. TAP output.
. tests/tap.sh
. tests/study_csv.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# columns used below by number: 1 trial, 2 status, 9 beta, 10 theta, 14 accuracy, 18 cycles,
# 19 latency_us, 22 fps_per_w, 40 and 41 cycles_0 and cycles_1

# 1. the tiny 2 x 2 study
if "$EVSNN" sweep data/tiny.study -o "$tmp/s" --quiet >"$tmp/out" 2>"$tmp/err"; then ok "sweep data/tiny.study exits 0"
else notok "sweep data/tiny.study exits 0"; sed 's/^/# /' "$tmp/err"; fi
check "4 ok rows in study.csv" test "$(rows "$tmp/s/study.csv" ok)" -eq 4
check "one JSON line per trial and a summary" test "$(grep -c '^{"trial":' "$tmp/out")" -eq 4
check "summary says 4 ran" grep -q '"ran":4,"failed":0,"skipped":0' "$tmp/out"
# the HDF5 table through h5dump: 4 trials, accuracy within [0, 1], FPS/W > 0
h5dump -d /trials/accuracy -d /trials/fps_per_w -d /trials/surrogate "$tmp/s/study.h5" >"$tmp/h5" 2>&1
check "study.h5 holds 4 trials" grep -q 'DATASPACE  SIMPLE { ( 4 ) / ( 4 ) }' "$tmp/h5"
check "study.h5 surrogates as in the grid (fast_sigmoid twice, then atan twice)" \
  sh -c "grep -A4 'DATASET \"/trials/surrogate\"' '$tmp/h5' >/dev/null && grep -o '\"fast_sigmoid\"\|\"atan\"' '$tmp/h5' | tr '\n' ' ' | grep -q '^\"fast_sigmoid\" \"fast_sigmoid\" \"atan\" \"atan\" $'"
awk "$CSV"'NR > 1 { csv($0); if (!(f[14] >= 0 && f[14] <= 1) || !(f[22] > 0) || !(f[18] > 0)) bad = 1 } END { exit bad }' "$tmp/s/study.csv"
check "accuracy in [0, 1], cycles and FPS/W positive" test $? -eq 0
# the synthetic task is learnable: the best trial beats chance (4 classes: 25%) clearly
best=$(awk "$CSV"'NR > 1 { csv($0); if (f[14] > m) m = f[14] } END { print m }' "$tmp/s/study.csv")
check "best accuracy $best above 0.4 (chance 0.25)" awk "BEGIN { exit !($best > 0.4) }"
check "per-trial series, histograms and membrane traces" \
  sh -c "test -s '$tmp/s/trials/0003.series' && test -s '$tmp/s/trials/0003.hist' && test -s '$tmp/s/trials/0003.mem'"
# the training series has one line per step: 4 epochs x ceil(64/16) batches = 16
check "series has 16 steps" test "$(grep -vc '^#' "$tmp/s/trials/0000.series")" -eq 16

# 2. resume: nothing left to run
cp "$tmp/s/study.csv" "$tmp/before.csv"
"$EVSNN" sweep data/tiny.study -o "$tmp/s" --quiet >"$tmp/out2" 2>&1
check "second run skips all 4 trials" grep -q '"ran":0,"failed":0,"skipped":4' "$tmp/out2"
check "second run leaves the table as it was" cmp -s "$tmp/before.csv" "$tmp/s/study.csv"

# 3. figures
if "$EVSNN" plot "$tmp/s" >"$tmp/plot" 2>"$tmp/err"; then ok "plot exits 0"; else notok "plot exits 0"; sed 's/^/# /' "$tmp/err"; fi
for f in seed000_fig1_slope seed004_fig4_membrane seed004_fig5_activity seed004_fig6_loss; do
  check "$f.png written, non-empty, a PNG" sh -c "test -s '$tmp/s/plots/$f.png' && head -c 8 '$tmp/s/plots/$f.png' | od -An -c | grep -q 'P   N   G'"
done
check "beta x theta maps skipped with a reason (one beta, one theta)" grep -q 'seed000_fig2_accuracy: the study has fewer than two' "$tmp/plot"

# 4. a beta x theta grid with a failing architecture: 2 x 2 maps, failed rows kept
cat >"$tmp/bt.study" <<EOF
name = "bt"; train = { epochs = 1; batch = 16; lr = 0.01; }; hw = { samples = 2; };
axes = { dataset = ["synth:classes=4,train=32,test=16,T=8"]; arch = ["100-16-4", "100-16-2"];
         beta = [0.5, 0.9]; theta = [1.0, 1.5]; };
EOF
"$EVSNN" sweep "$tmp/bt.study" -o "$tmp/bt" --quiet >"$tmp/out3" 2>&1; rc=$?
check "a study with failing trials still exits 0" test $rc -eq 0
check "4 ok and 4 failed rows (2 outputs for 4 classes)" \
  sh -c "test $(rows "$tmp/bt/study.csv" ok) -eq 4 && test $(rows "$tmp/bt/study.csv" failed) -eq 4"
check "failed rows carry the error" grep -q 'failed.*4 classes but the network has 2 outputs' "$tmp/bt/study.csv"
"$EVSNN" plot "$tmp/bt" >"$tmp/plot2" 2>&1
check "beta x theta heat maps written" sh -c "test -s '$tmp/bt/plots/seed000_fig2_accuracy.png' && test -s '$tmp/bt/plots/seed000_fig2_latency.png'"
# the heat map's data are the means of the ok rows: cell (beta 0.5, theta 1.5) by awk from the CSV
want=$(awk "$CSV"'{ csv($0) } f[2] == "ok" && f[9] + 0 == 0.5 && f[10] + 0 == 1.5 { s += f[19]; m++ } END { printf "%.4g", s / m }' "$tmp/bt/study.csv")
got=$(awk '$1 == 0 && $2 == 1 { printf "%.4g", $3 }' "$tmp/bt/plots/seed000_fig2_latency.dat")
check "latency map cell (beta 0.5, theta 1.5) = mean of its rows ($got vs $want)" test "$got" = "$want"
# the built-in accelerator runs layers in lock-step: a sample's latency is the sum of its
# layers' cycles (columns 40, 41: cycles_0, cycles_1), for every ok row
awk "$CSV"'{ csv($0) } f[2] == "ok" { n++; if (f[40] + f[41] != f[18] + 0 || !(f[40] > 0)) bad = 1 } END { exit bad || n != 4 }' "$tmp/bt/study.csv"
check "lock-step latency = sum of the per-layer cycles" test $? -eq 0
"$EVSNN" sweep "$tmp/bt.study" -o "$tmp/bt" --quiet --retry-failed >"$tmp/out4" 2>&1
check "--retry-failed reruns only the failed trials" grep -q '"ran":4,"failed":4,"skipped":4' "$tmp/out4"

# 5. a run killed mid-study resumes: finished rows unchanged, every trial exactly once
cat >"$tmp/slow.study" <<EOF
name = "slow"; train = { epochs = 3; batch = 16; lr = 0.01; }; hw = { samples = 2; };
axes = { dataset = ["synth:classes=4,train=384,test=32,T=16"]; arch = ["100-64-4"];
         slope = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]; };
EOF
"$EVSNN" sweep "$tmp/slow.study" -o "$tmp/k" --quiet --threads 1 >/dev/null 2>&1 &
pid=$!
i=0
while [ $i -lt 600 ]; do
  [ -f "$tmp/k/study.csv" ] && [ "$(rows "$tmp/k/study.csv" ok)" -ge 1 ] && break
  sleep 0.05; i=$((i + 1))
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
done_before=$(rows "$tmp/k/study.csv" ok)
cp "$tmp/k/study.csv" "$tmp/k_before.csv"
check "killed run left a complete table ($done_before rows)" sh -c "test $done_before -ge 1 && test $done_before -lt 6"
# temporaries of a process that no longer runs (a kill mid-write) go at the resume; the pid
# is that of a finished shell, so surely dead
dead=$(sh -c 'echo $$')
: >"$tmp/k/study.csv.tmp.$dead"; : >"$tmp/k/trials/0001.hist.tmp.$dead"
"$EVSNN" sweep "$tmp/slow.study" -o "$tmp/k" --quiet >"$tmp/out5" 2>&1
check "resume skips the $done_before finished trials" grep -q "\"skipped\":$done_before," "$tmp/out5"
check "all 6 trials once after resume" test "$(cut -d, -f1 "$tmp/k/study.csv" | sed 1d | sort -u | wc -l)" -eq 6
# rows finished before the kill are byte for byte the same (their train_s would differ if rerun)
check "finished rows kept as they were" sh -c "sed 1d '$tmp/k_before.csv' | while IFS= read -r l; do grep -qxF \"\$l\" '$tmp/k/study.csv' || exit 1; done"
check "no temporary files left behind" sh -c "test -z \"\$(find '$tmp/k' -name '*.tmp.*')\""

# 6. bad input
printf 'axes = { arch = ["100-16-4"];\n  slop = [1.0]; };\n' >"$tmp/bad.study"
"$EVSNN" sweep "$tmp/bad.study" -o "$tmp/bad" >"$tmp/o" 2>"$tmp/e"; rc=$?
check "unknown key: exit 2" test $rc -eq 2
check "error names file, line and key" grep -q "bad.study:2: axes.slop: unknown key" "$tmp/e"
"$EVSNN" sweep data/tiny.study >/dev/null 2>"$tmp/e"; rc=$?
check "missing -o: exit 2" test $rc -eq 2
"$EVSNN" plot "$tmp/nothing" >/dev/null 2>"$tmp/e"; rc=$?
check "plot of a directory without a table: exit 2" test $rc -eq 2
check "sweep --help documents --budget and MPI" sh -c "'$EVSNN' sweep --help | grep -q -- '--budget' && '$EVSNN' sweep --help | grep -q mpirun"
echo "1..$n"
