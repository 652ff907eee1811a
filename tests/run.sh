#!/bin/sh
# tests/run.sh DIR — run every test program in DIR (cmocka, TAP output) and every
# tests/*.sh script (TAP too), then print one truthful summary line:
#   N passed, N failed, N skipped
# A program that crashes or exits non-zero without reporting a failure counts as one failure;
# so does one whose TAP plan (`1..N`, first or last line) is missing, repeated, or names
# more or fewer tests than it reported (a script that stopped early).
dir=$1
pass=0; fail=0; skip=0
export CMOCKA_MESSAGE_OUTPUT=TAP
log=$(mktemp); trap 'rm -f "$log"' EXIT
run_one() {
    name=$1; shift
    "$@" >"$log" 2>&1; rc=$?
    p=$(grep -c '^ok ' "$log" | head -n1); p=${p:-0}
    s=$(grep -c '^ok .*# [Ss][Kk][Ii][Pp]' "$log"); s=${s:-0}
    f=$(grep -c '^not ok ' "$log"); f=${f:-0}
    plans=$(grep -c '^1\.\.[0-9][0-9]*' "$log"); plans=${plans:-0}
    plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$log" | head -n1)
    ran=$((p + f))
    p=$((p - s))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $name exited with status $rc" >>"$log"; fi
    if [ "$plans" -ne 1 ]; then
        f=$((f + 1)); echo "not ok - $name printed $plans TAP plans (1..N), expected one" >>"$log"
    elif [ "$plan" -ne "$ran" ]; then
        f=$((f + 1)); echo "not ok - $name planned $plan tests (1..$plan) but reported $ran" >>"$log"
    fi
    if [ "$f" -ne 0 ] || [ -n "$VERBOSE" ]; then cat "$log"; fi
    grep '^ok .*# [Ss][Kk][Ii][Pp]' "$log" | sed "s|^|$name: |"
    printf '%-28s %3d passed, %d failed, %d skipped\n' "$name" "$p" "$f" "$s"
    pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
}
for t in "$dir"/test_*; do
    case "$t" in *.o|*.d) continue;; esac
    [ -x "$t" ] || continue
    run_one "$(basename "$t")" "$t"
done
for t in tests/test_*.sh; do
    [ -f "$t" ] || continue
    run_one "$(basename "$t")" sh "$t"
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
