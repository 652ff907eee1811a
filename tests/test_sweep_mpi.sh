#!/bin/sh
# tests/test_sweep_mpi.sh — the MPI build (make MPI=1) under mpirun with 2 ranks:
#   * the tiny study gives the same table as the one-process run (every column but the
#     measured train_s), trials handed out to both ranks;
#   * a TPE study with pruning: every trial proposed by rank 0, both ranks working;
#   * data-parallel training: 2 ranks, each with half of every minibatch (one gradient
#     slot each), end with the same weights as one process with 2 slots — the same sums in
#     the same order, so bit for bit (h5dump at 9 significant digits), also for an odd
#     batch whose halves differ in size; and the epoch lines say the same: test_loss,
#     train_loss and train_acc equal the one-process figures (not rank 0's shard).
# Skipped without mpicc/mpirun (a failure under CI=true). TAP output.
. tests/tap.sh
if ! command -v mpicc >/dev/null 2>&1 || ! command -v mpirun >/dev/null 2>&1; then
  if [ "$CI" = true ]; then echo "not ok 1 - mpicc/mpirun missing (CI=true: openmpi-bin and libopenmpi-dev are in DEB_PKGS)"; echo "1..1"; exit 1; fi
  echo "ok 1 # SKIP mpicc/mpirun not installed (make deps installs openmpi-bin libopenmpi-dev)"; echo "1..1"; exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# A plain MPI build whatever build runs this test: under `make asan` the environment carries
# that make's command line (BUILD, OPT, SANFLAGS, ... in MAKEFLAGS and as variables of their
# own); OpenMPI itself is not leak-free under LeakSanitizer, so the MPI binary is the release
# one (build/mpi).
if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u BUILD -u OPT -u SANFLAGS -u EXTRA_CFLAGS -u OMPFLAGS -u CC \
     ${MAKE:-make} --no-print-directory -j2 MPI=1 build >"$tmp/build" 2>&1; then ok "make MPI=1 builds"
else notok "make MPI=1 builds"; tail -n 20 "$tmp/build" | sed 's/^/# /'; echo "1..$n"; exit 1; fi
MPIEVSNN=build/mpi/bin/evsnn
MPIRUN="mpirun --allow-run-as-root --oversubscribe -n 2"
# the one-process references run the same binary (one rank): under `make asan` $EVSNN is the
# sanitizer build (-O1, no FMA clones), whose arithmetic differs in the last bits
MPIONE="mpirun --allow-run-as-root --oversubscribe -n 1"
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1

# every column of the HDF5 table except the measured train_s
dump() { for d in trial status variant dataset arch accel surrogate slope beta theta threshold binarize seed \
                  accuracy loss train_loss cycles latency_us fps energy_uj fps_per_w n_layers rate silent layer_cycles key error; do
           h5dump -m %.17g -d "/trials/$d" "$1" | sed 1d; done; }

$MPIONE "$MPIEVSNN" sweep data/tiny.study -o "$tmp/one" --quiet >/dev/null 2>&1
$MPIRUN "$MPIEVSNN" sweep data/tiny.study -o "$tmp/two" --quiet >"$tmp/out" 2>"$tmp/err"; rc=$?
if [ $rc -eq 0 ]; then ok "mpirun -n 2 evsnn sweep exits 0"; else notok "mpirun -n 2 evsnn sweep exits 0 ($rc)"; sed 's/^/# /' "$tmp/err" | head; fi
check "2 ranks reported" grep -q '"ranks":2' "$tmp/out"
check "rank 1 ran trials" grep -q '"rank":1' "$tmp/out"
dump "$tmp/one/study.h5" >"$tmp/one.txt"; dump "$tmp/two/study.h5" >"$tmp/two.txt"
check "same table as one process (all columns but train_s)" sh -c "grep -q accuracy '$tmp/one.txt' && cmp -s '$tmp/one.txt' '$tmp/two.txt'"
check "the table has 4 ok rows" test "$(grep -c '^[0-9]*,ok,' "$tmp/two/study.csv")" -eq 4

# a TPE study on 2 ranks: rank 0 proposes every trial from the rows finished so far, the
# running one counted as the worst; its first 4 trials (n_startup) are the random start,
# the same as in one process, and every proposal is a trial of its own
$MPIRUN "$MPIEVSNN" sweep data/tpe_synth.study -o "$tmp/tpe" --quiet >"$tmp/tout" 2>"$tmp/terr"; rc=$?
if [ $rc -eq 0 ]; then ok "mpirun -n 2 evsnn sweep (TPE, median rule) exits 0"; else notok "mpirun -n 2 TPE sweep exits 0 ($rc)"; sed 's/^/# /' "$tmp/terr" | head; fi
check "TPE: 14 rows ok or pruned, rank 1 ran trials" \
  sh -c "test \$(grep -c '^[0-9]*,\(ok\|pruned\),' '$tmp/tpe/study.csv') -eq 14 && grep -q '\"rank\":1' '$tmp/tout'"
$MPIONE "$MPIEVSNN" sweep data/tpe_synth.study -o "$tmp/tpe1" --quiet >/dev/null 2>&1
. tests/study_csv.sh
awk "$TABLE"'{ print f[c["key"]] }' "$tmp/tpe/study.csv" >"$tmp/k2"; awk "$TABLE"'{ print f[c["key"]] }' "$tmp/tpe1/study.csv" >"$tmp/k1"
head -n 4 "$tmp/k1" >"$tmp/k14"; head -n 4 "$tmp/k2" >"$tmp/k24"
check "TPE: 14 distinct trials, the first 4 as in one process" \
  sh -c "test \$(sort -u '$tmp/k2' | wc -l) -eq 14 && test -s '$tmp/k14' && cmp -s '$tmp/k14' '$tmp/k24'"

# data-parallel training equivalence
# same_field NAME A B: every epoch line of A and of B has NAME, and the values agree
same_field() {
  grep '"epoch":' "$2" | grep -o "\"$1\":[^,]*" >"$tmp/f1"; grep '"epoch":' "$3" | grep -o "\"$1\":[^,]*" >"$tmp/f2"
  e1=$(grep -c '"epoch":' "$2"); e2=$(grep -c '"epoch":' "$3")
  [ "$e1" -gt 0 ] && [ "$(wc -l <"$tmp/f1")" -eq "$e1" ] && [ "$(wc -l <"$tmp/f2")" -eq "$e2" ] && cmp -s "$tmp/f1" "$tmp/f2"
}
W="--arch 100-32-4 --data synth:classes=4,train=96,test=32,T=10 --epochs 2 --lr 0.01 --threads 1 --quiet"
wdump() { for d in /layers/0/weight /layers/0/bias /layers/1/weight /layers/1/bias; do h5dump -m %.9g -d $d "$1" | sed 1d; done; }
for B in 16 15; do
  $MPIONE "$MPIEVSNN" train $W --batch $B --slots 2 -o "$tmp/s$B.h5" >"$tmp/s$B.json" 2>&1
  $MPIRUN "$MPIEVSNN" train $W --batch $B --slots 1 -o "$tmp/m$B.h5" >"$tmp/m$B.json" 2>"$tmp/m$B.err"; rc=$?
  check "mpirun -n 2 evsnn train (batch $B) exits 0" test $rc -eq 0
  check "one model file, one summary line (rank 0 writes)" test "$(grep -c '"done":true' "$tmp/m$B.json")" -eq 1
  wdump "$tmp/s$B.h5" >"$tmp/ws"; wdump "$tmp/m$B.h5" >"$tmp/wm"
  check "batch $B: 2-rank weights equal the 1-process weights bit for bit" sh -c "test -s '$tmp/ws' && cmp -s '$tmp/ws' '$tmp/wm'"
  # the weights did move: training happened
  "$EVSNN" init --arch 100-32-4 --seed 1 -o "$tmp/init.h5" >/dev/null 2>&1
  wdump "$tmp/init.h5" >"$tmp/wi"
  check "batch $B: the weights changed from their initial values" sh -c "! cmp -s '$tmp/wi' '$tmp/wm'"
  # the epoch figures are the whole batch's: test loss (every rank evaluates all), training
  # loss (a per-sample mean over the epoch, each batch weighted by its size) and accuracy
  check "batch $B: same test loss per epoch" same_field test_loss "$tmp/s$B.json" "$tmp/m$B.json"
  check "batch $B: same train loss per epoch" same_field train_loss "$tmp/s$B.json" "$tmp/m$B.json"
  check "batch $B: same train accuracy per epoch" same_field train_acc "$tmp/s$B.json" "$tmp/m$B.json"
done
echo "1..$n"
