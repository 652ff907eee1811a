# tests/tap.sh — sourced by the shell tests (`. tests/tap.sh`, run from the repository root
# as tests/run.sh does): the binary under test and the TAP line helpers. Each test script
# prints "1..$n" at its end.
EVSNN=${EVSNN_BIN:-bin/evsnn}
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check() { desc=$1; shift; if "$@"; then ok "$desc"; else notok "$desc"; fi; }
