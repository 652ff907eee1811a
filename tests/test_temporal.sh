#!/bin/sh
# tests/test_temporal.sh — seed 004 §4.1 reproduced (data/temporal.sh): after 1,000 SGD
# iterations the full-precision net fires around the target step 75; binarized with θ = 1 it
# fires at almost every step; with θ = 50 nothing fires (hidden or output); with θ annealed
# 5 → 50 the output fires a few spikes close to step 75. TAP output.
. tests/tap.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
if ! TEMPORAL_OUT="$tmp" sh data/temporal.sh "$EVSNN" >"$tmp/log" 2>&1; then
    notok "data/temporal.sh runs"; sed 's/^/# /' "$tmp/log"; echo "1..$n"; exit 0
fi
ok "data/temporal.sh runs"
# spikes NAME: the output spike steps of the last JSON line, one per line; fails (prints
# nothing) when that line has no output_spike_steps field, so no check passes on its absence
spikes() {
    f=$(tail -n 1 "$tmp/$1.jsonl" | grep -o '"output_spike_steps":\[[0-9,]*\]') || return 1
    echo "$f" | sed 's/.*\[//; s/\]//' | tr ',' '\n' | grep -v '^$' || true
}
count() { l=$(spikes "$1") || return 1; echo "$l" | grep -c . || true; }
# count_is NAME OP N: the run's output spike count compared with N (test's -eq, -ge, -le)
count_is() { c=$(count "$1") || return 1; test "$c" "$2" "$3"; }
within() { l=$(spikes "$1") || return 1; [ -n "$l" ] && [ -z "$(echo "$l" | awk -v lo="$2" -v hi="$3" '$1 < lo || $1 > hi')" ]; }
check "full precision: output spikes, all in steps 50..80" within flt32 50 80
check "binarized θ = 1: fires at 80 or more of 100 steps (unstable)" count_is bin1 -ge 80
check "binarized θ = 50: no output spike" count_is bin50 -eq 0
check "binarized θ = 50: hidden layer silent" grep -q '"iteration":1000,.*"hidden_rate":0\(\.0\)\{0,1\},' "$tmp/bin50.jsonl"
check "binarized θ = 50: the membrane settles to a constant (bias only)" \
    sh -c "awk '\$1 >= 5 { print \$3 }' '$tmp/bin50.txt' | sort -u | awk 'NR == 1 { lo = \$1 } { hi = \$1 } END { exit !(hi - lo < 0.01) }'"
check "annealed 5 → 50: at most 5 output spikes" count_is tha -le 5
check "annealed 5 → 50: spikes close to the target" within tha 55 80
check "annealed 5 → 50: threshold within 1% of 50 at the end" grep -q '"iteration":1000,.*"thresholds":\[49\.[5-9]' "$tmp/tha.jsonl"
if command -v gnuplot >/dev/null 2>&1; then check "figure written" test -s "$tmp/seed004_fig4_temporal_task.png"
elif [ "$CI" = true ]; then notok "figure written (gnuplot missing; CI=true: gnuplot-nox is in DEB_PKGS)"
else skip "figure written" "gnuplot not installed"; fi
echo "1..$n"
