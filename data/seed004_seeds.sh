#!/bin/sh
# data/seed004_seeds.sh PNG DIR... — seed 004 Table 1 over several seeds: for each row (a
# ROW.jsonl training log) found in every DIR (data/seed004_table1.sh's TABLE1_OUT of one seed
# each, or any directories of `evsnn train --log` files named alike), the test accuracy per
# epoch as mean ± sd over the DIRs, on stdout as "row epoch mean sd n" (accuracy in %, sd
# with n − 1) and drawn into PNG (gnuplot, when installed).
set -eu
[ $# -ge 2 ] || { echo "usage: data/seed004_seeds.sh PNG DIR..." >&2; exit 2; }
png=$1; shift
tmp=$(mktemp -d); trap 'rm -rf "$tmp" "$png.tmp"' EXIT
rows=""
for log in "$1"/*.jsonl; do
    row=$(basename "$log" .jsonl)
    for d in "$@"; do [ -f "$d/$row.jsonl" ] || continue 2; done
    rows="$rows $row"
    for d in "$@"; do
        grep '"epoch"' "$d/$row.jsonl" | sed 's/.*"epoch":\([0-9]*\),.*"test_acc":\([0-9.e-]*\).*/\1 \2/'
    done | awk -v row="$row" '{ s[$1] += 100 * $2; q[$1] += 1e4 * $2 * $2; c[$1]++; if ($1 > m) m = $1 }
        END { for (e = 1; e <= m; e++) if (c[e]) { mu = s[e] / c[e]; v = c[e] > 1 ? (q[e] - c[e] * mu * mu) / (c[e] - 1) : 0;
              printf "%s %d %.2f %.2f %d\n", row, e, mu, (v > 0 ? sqrt(v) : 0), c[e] } }' >"$tmp/$row.dat"
    cat "$tmp/$row.dat"
done
[ -n "$rows" ] || { echo "seed004_seeds.sh: no row is in every directory" >&2; exit 1; }
command -v gnuplot >/dev/null 2>&1 || { echo "gnuplot not installed: no figure" >&2; exit 0; }
gnuplot <<EOF
set terminal pngcairo size 800,520 font ",11" noenhanced
set output "$png.tmp"
set title "seed 004 Table 1 rows on Fashion-MNIST: test accuracy, mean ± sd over $# seeds"
set xlabel "epoch"
set ylabel "test accuracy (%)"
set key bottom right
set grid
plot for [r in "$rows"] "$tmp/".r.".dat" u 2:3:4 w yerrorlines pt 7 ps 0.6 t r
EOF
mv "$png.tmp" "$png"
echo "$png" >&2
