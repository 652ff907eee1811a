# tests/tap.sh — sourced by the shell tests (`. tests/tap.sh`, run from the repository root
# as tests/run.sh does): the binary under test and the TAP line helpers. Each test script
# prints "1..$n" at its end.
EVSNN=${EVSNN_BIN:-bin/evsnn}
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check() { desc=$1; shift; if "$@"; then ok "$desc"; else notok "$desc"; fi; }
# need_fmnist WHAT: return when Debian's Fashion-MNIST is installed; else end the script, as a
# failure under CI (CI=true) and as a skip of WHAT elsewhere.
need_fmnist() {
    f=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
    [ -f "$f" ] && return 0
    if [ "${CI:-}" = true ]; then notok "Fashion-MNIST from the Debian package ($f is missing)"
    else skip "$1 on Fashion-MNIST" "$f is absent (apt-get install dataset-fashion-mnist)"; fi
    echo "1..$n"
    exit 0
}
