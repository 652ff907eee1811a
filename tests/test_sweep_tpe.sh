#!/bin/sh
# tests/test_sweep_tpe.sh — evsnn sweep with search = "tpe" and prune = "median" end to end
# on the synthetic task (data/tpe_synth.study): the same study and seed give the same table;
# the first n_startup trials are random search's and the others are not; a run killed in the
# middle of the TPE phase and resumed gives the table of an uninterrupted run; pruned rows
# obey the median rule, checked here from the table alone; the objective column and the
# best trial for a latency objective; bad settings rejected with file, line and key. TAP.
. tests/tap.sh
. tests/study_csv.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
S=data/tpe_synth.study

# 1. a TPE study runs, and runs the same twice
if "$EVSNN" sweep $S -o "$tmp/a" --quiet >"$tmp/out" 2>"$tmp/err"; then ok "sweep $S exits 0"
else notok "sweep $S exits 0"; sed 's/^/# /' "$tmp/err"; fi
na=$(rows "$tmp/a/study.csv" ok); np=$(rows "$tmp/a/study.csv" pruned)
check "14 rows, ok or pruned ($na ok, $np pruned)" test $((na + np)) -eq 14
check "some trials were pruned" test "$np" -ge 1
check "summary names the best trial by accuracy" grep -q '"pruned":'"$np"',"objective":"accuracy","best":{"trial":' "$tmp/out"
"$EVSNN" sweep $S -o "$tmp/b" --quiet >/dev/null 2>&1
table_sans_time "$tmp/a/study.csv" >"$tmp/a.txt"; table_sans_time "$tmp/b/study.csv" >"$tmp/b.txt"
check "the same study and seed give the same table (all columns but train_s)" cmp -s "$tmp/a.txt" "$tmp/b.txt"

# 2. the first 4 trials (n_startup) are random search's draws, the other 10 TPE's proposals
"$EVSNN" sweep $S --list >"$tmp/list" 2>"$tmp/lerr"
check "--list prints the 4 random trials and says the rest depend on results" \
  sh -c "test \$(wc -l < '$tmp/list') -eq 4 && grep -q 'proposed from results' '$tmp/lerr'"
"$EVSNN" sweep $S -o "$tmp/r" --search random --quiet >/dev/null 2>&1
awk "$TABLE"'{ print f[c["key"]] }' "$tmp/a/study.csv" >"$tmp/ka"
awk "$TABLE"'{ print f[c["key"]] }' "$tmp/r/study.csv" >"$tmp/kr"
head -n 4 "$tmp/ka" >"$tmp/ka4"; head -n 4 "$tmp/kr" >"$tmp/kr4"
check "trials 0-3 equal random search's (same seed)" sh -c "test -s '$tmp/ka4' && cmp -s '$tmp/ka4' '$tmp/kr4'"
check "trials 4-13 differ from random search's" sh -c "test \$(tail -n 10 '$tmp/ka' | grep -cxFf '$tmp/kr') -eq 0"

# 3. the median rule, checked from the table: a pruned trial stopped at epoch e (1 < e < 3)
# with accuracy below the median of epoch_acc[e] over the ok trials before it (at least 3
# of them); an ok trial was at or above that median at epoch 2. Rows are in trial order.
awk "$TABLE"'
function median(v, n,   i, j, t) { for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
  return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
function med_at(e,   k, m, v, p) { m = 0; for (k = 1; k <= nok; k++) { split(curve[k], p, ";"); v[++m] = p[e] } return m >= 3 ? median(v, m) : "" }
{ st = f[c["status"]]; e = f[c["epochs"]] + 0; n = split(f[c["epoch_acc"]], a, ";")
  if (n != e) { print "trial " f[1] ": " n " accuracies for " e " epochs"; bad = 1 }
  m = med_at(2)
  if (st == "pruned") { pr++
    if (e != 2 || m == "" || !(a[2] + 0 < m + 0) || f[c["latency_us"]] != "" || f[c["objective"]] != "") { print "pruned trial " f[1] " at epoch " e ": " a[2] " vs median " m; bad = 1 } }
  else if (st == "ok") { if (m != "" && a[2] + 0 < m + 0) { print "ok trial " f[1] " below the median " m; bad = 1 }
    if (f[c["objective"]] != f[c["accuracy"]]) { print "objective of trial " f[1]; bad = 1 }
    curve[++nok] = f[c["epoch_acc"]] } }
END { exit bad || pr == 0 }' "$tmp/a/study.csv" >"$tmp/rule" 2>&1
check "pruned and ok rows obey the median rule (recomputed from the table)" test $? -eq 0
sed 's/^/# /' "$tmp/rule"
check "pruned trials keep their training series" \
  sh -c "id=\$(grep -m1 '^[0-9]*,pruned,' '$tmp/a/study.csv' | cut -d, -f1); test -s '$tmp/a/trials/'\$(printf %04d \$id)'.series'"

# 4. killed in the TPE phase and resumed = uninterrupted. Slower trials, so that the kill
# lands after the random start (4 trials) and before the end (12).
sed -e 's/train=128,test=32,T=10/train=512,test=32,T=16/' -e 's/budget = 14/budget = 12/' -e 's/100-32-4/100-64-4/' \
    -e "s|\"accel.cfg\"|\"$PWD/data/accel.cfg\"|" $S >"$tmp/slow.study"
"$EVSNN" sweep "$tmp/slow.study" -o "$tmp/u" --quiet --threads 1 >/dev/null 2>&1
"$EVSNN" sweep "$tmp/slow.study" -o "$tmp/k" --quiet --threads 1 >/dev/null 2>&1 &
pid=$!
i=0
while [ $i -lt 1200 ]; do
  [ -f "$tmp/k/study.csv" ] && [ $(($(rows "$tmp/k/study.csv" ok) + $(rows "$tmp/k/study.csv" pruned))) -ge 6 ] && break
  sleep 0.05; i=$((i + 1))
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
before=$(($(rows "$tmp/k/study.csv" ok) + $(rows "$tmp/k/study.csv" pruned)))
check "killed in the TPE phase ($before of 12 rows)" sh -c "test $before -ge 6 && test $before -lt 12"
"$EVSNN" sweep "$tmp/slow.study" -o "$tmp/k" --quiet --threads 1 >"$tmp/out4" 2>&1
check "resume skips the $before finished trials" grep -q "\"skipped\":$before," "$tmp/out4"
table_sans_time "$tmp/u/study.csv" >"$tmp/u.txt"; table_sans_time "$tmp/k/study.csv" >"$tmp/k.txt"
nu=$(($(rows "$tmp/u/study.csv" ok) + $(rows "$tmp/u/study.csv" pruned)))
check "killed + resumed table equals the uninterrupted one ($nu of 12 rows ok or pruned; all columns but train_s)" \
  sh -c "test $nu -eq 12 && cmp -s '$tmp/u.txt' '$tmp/k.txt'"

# 5. minimise latency: the objective column is latency_us and the best trial its minimum
cat >"$tmp/lat.study" <<EOF
name = "lat"; search = "tpe"; budget = 8; seed = 2; objective = "latency"; tpe = { n_startup = 4; };
train = { epochs = 1; batch = 16; lr = 0.01; }; hw = { samples = 2; };
axes = { dataset = ["synth:classes=4,train=64,test=16,T=8"]; arch = ["100-16-4"];
         theta = { min = 0.5; max = 3.0; }; beta = { min = 0.3; max = 0.95; }; };
EOF
"$EVSNN" sweep "$tmp/lat.study" -o "$tmp/l" --quiet >"$tmp/out5" 2>&1
best=$(grep -o '"best":{"trial":[0-9]*' "$tmp/out5" | grep -o '[0-9]*$')
want=$(awk "$TABLE"'f[c["status"]] == "ok" { if (f[c["objective"]] != f[c["latency_us"]]) bad = 1
  if (m == "" || f[c["latency_us"]] + 0 < m) { m = f[c["latency_us"]] + 0; t = f[1] } } END { print bad ? "bad" : t }' "$tmp/l/study.csv")
check "latency objective: best trial $best is the lowest latency_us ($want)" test "$best" = "$want"

# 6. bad settings: file, line and key
printf 'search = "tpe"; budget = 4;\ntpe = {\n  gamma = 1.5; };\naxes = { arch = ["100-16-4"]; };\n' >"$tmp/bad1.study"
"$EVSNN" sweep "$tmp/bad1.study" -o "$tmp/x" >/dev/null 2>"$tmp/e"; rc=$?
check "gamma outside (0, 1): exit 2, file, line and key" sh -c "test $rc -eq 2 && grep -q 'bad1.study:3: tpe.gamma: gamma must lie in (0, 1)' '$tmp/e'"
printf 'search = "tpe"; budget = 4;\naxes = { arch = ["100-16-4"];\n  beta = { kind = "normal"; min = 0.1; max = 0.9; }; };\n' >"$tmp/bad2.study"
"$EVSNN" sweep "$tmp/bad2.study" -o "$tmp/x" >/dev/null 2>"$tmp/e"; rc=$?
check "unknown parameter kind: exit 2, file, line and key" sh -c "test $rc -eq 2 && grep -q \"bad2.study:3: axes.beta.kind: unknown parameter kind 'normal'\" '$tmp/e'"
"$EVSNN" sweep data/tiny.study -o "$tmp/x" --search tpe >/dev/null 2>"$tmp/e"; rc=$?
check "--search on a grid study: exit 2" sh -c "test $rc -eq 2 && grep -q 'only a random or TPE study' '$tmp/e'"
echo "1..$n"
