#!/bin/sh
# tests/test_plots.sh — every command that draws goes through one gnuplot helper: no shell
# (paths with quotes, spaces, non-ASCII, '$(...)' and a leading '<' are file names, never
# commands), gnuplot's messages in a log that the error names, a PNG renamed into place
# only when gnuplot succeeded. Skipped without gnuplot (a failure under CI=true). TAP output.
. tests/tap.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
if ! command -v gnuplot >/dev/null 2>&1; then
    if [ "$CI" = true ]; then notok "gnuplot missing (CI=true: make deps installs gnuplot-nox)"; echo "1..$n"; exit 0; fi
    skip "figures" "gnuplot is not installed (make deps installs gnuplot-nox)"; echo "1..$n"; exit 0
fi
is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }
cd "$tmp" || exit 1
ev=$EVSNN; case $ev in /*) ;; *) ev="$OLDPWD/$EVSNN";; esac
study="$OLDPWD/data/tiny.study"

d="q'dir é \$(touch pwned) \`touch pwned2\`"
"$ev" sweep "$study" -o "$d" >/dev/null 2>"$tmp/err"
check "sweep into a directory named with quotes, non-ASCII and \$(...)" test $? -eq 0
"$ev" plot "$d" >"$tmp/plot.json" 2>"$tmp/err"
rc=$?
check "evsnn plot on it exits 0" test $rc -eq 0
[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/err"
check "seed000_fig1_slope.png is a PNG" is_png "$d/plots/seed000_fig1_slope.png"
check "seed004_fig5_activity.png is a PNG" is_png "$d/plots/seed004_fig5_activity.png"
check "the script is kept beside the figure" test -s "$d/plots/seed000_fig1_slope.gp"
check "no shell ran: no file 'pwned' appeared anywhere" sh -c "! find '$tmp' -name 'pwned*' | grep -q ."
check "no temporary PNG left behind" sh -c "! find '$tmp' -name '*.tmp*' | grep -q ."

# A file name that begins with '<' is read as a file, not as gnuplot's '<command'.
mkdir -p "<x" && printf '0 0 8 3\n' >/dev/null
"$ev" init --arch 8C3-AP2-10 --input 2x12x12 -o m.h5 >/dev/null 2>&1
"$ev" run --model m.h5 --steps 10 --batch 2 --record "<x/t.h5" >/dev/null 2>"$tmp/err"
"$ev" hw --trace "<x/t.h5" --plot "<x/hw" >/dev/null 2>"$tmp/err"
rc=$?
check "hw --plot under a directory named '<x'" test $rc -eq 0
[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/err"
check "hw-occupancy.png and hw-latency.png written" sh -c "head -c 8 '<x/hw-occupancy.png' | grep -q PNG && head -c 8 '<x/hw-latency.png' | grep -q PNG"
"$ev" hw dse --trace "<x/t.h5" --max-pes 4 --plot "|dse.png" >/dev/null 2>"$tmp/err"
check "hw dse --plot '|dse.png' writes that file (not a pipe)" sh -c "test -s '|dse.png' && head -c 8 '|dse.png' | grep -q PNG"

# gnuplot's own failure (a real one: no room to write the PNG, file size limit 0, so gnuplot
# is ended by SIGXFSZ): exit 1, the message names the log, no PNG and no temporary left.
( ulimit -f 0; "$ev" hw --trace "<x/t.h5" --plot "$tmp/lim" 2>&1 >/dev/null; echo "rc=$?" ) | cat >"$tmp/err"
check "a figure gnuplot cannot write fails with exit 1" grep -q '^rc=1$' "$tmp/err"
check "the message names gnuplot's log" grep -q "messages are in $tmp/lim-occupancy.png.log" "$tmp/err"
check "and leaves no figure" sh -c "! ls '$tmp' | grep -q -e '^lim-occupancy.png$' -e tmp"
# a log that cannot be written is named too
"$ev" hw --trace "<x/t.h5" --plot "$tmp/no/such/dir/hw" >/dev/null 2>"$tmp/err"
check "a figure in a missing directory fails with exit 1" test $? -eq 1
check "the message names the log it could not write" grep -q "cannot write gnuplot's log .*/no/such/dir/hw-occupancy.png.log" "$tmp/err"
# gnuplot absent: said so, exit 1
mkdir -p nogp && ln -s "$(command -v cat)" nogp/cat
PATH="$tmp/nogp" "$ev" hw --trace "<x/t.h5" --plot "$tmp/nogp/hw" >/dev/null 2>"$tmp/err"
check "without gnuplot on PATH: exit 1" test $? -eq 1
check "and the message says gnuplot cannot run" grep -q "cannot run gnuplot" "$tmp/err"
echo "1..$n"
