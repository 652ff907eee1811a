#!/bin/sh
# tests/test_bench_json.sh — the benchmarks' result lines are JSON documents, one per line,
# read back with Python's json module (not the library that wrote them). bench_io in its
# quick mode (`bench_io WORD` runs only the workloads whose name contains WORD), three ways,
# about a second in all:
#   evt3    the generated EVT 3.0 stream (4,000,000 events, the generator's count): keys in
#           the bench's order, counts as integers, and reals exact enough that events_per_s
#           is events / seconds and mb_per_s bytes / seconds / 1e6 to 1e-12
#   aedat4  from a directory without ../shared: two "skipped" lines, the path as a string
#   aedat4  on the real DVXplorer sample (../shared): 111,954 events (the count an independent
#           decoder gives, tests/test_io_aedat4.c) and the file's size in bytes; skipped
#           without ../shared (a failure under CI=true)
# No timing is checked. TAP output.
. tests/tap.sh
BENCH_IO=${EVSNN_BUILD:-build/release}/tests/bench_io
case $BENCH_IO in /*) ;; *) BENCH_IO=$(pwd)/$BENCH_IO ;; esac   # it also runs from elsewhere
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# lines FILE CHECK: every line of FILE is one JSON object; then the Python expression CHECK
# holds over L (the list of decoded lines, keys in file order).
lines() {
    python3 - "$1" "$2" <<'PYEOF'
import json, sys
text = open(sys.argv[1], encoding='utf-8').read()
if not text.endswith('\n'):
    sys.exit('output does not end with a newline')
class Obj(list): pass                     # an object's (key, value) pairs in file order
L = []
for k, line in enumerate(text.split('\n')[:-1], 1):
    try:
        d = json.loads(line, object_pairs_hook=Obj)
    except ValueError as e:
        sys.exit('line %d is not one JSON document: %s: %r' % (k, e, line))
    if not isinstance(d, Obj) or len(dict(d)) != len(d):
        sys.exit('line %d is not an object with distinct keys: %r' % (k, line))
    L.append(d)
keys = lambda d: [k for k, _ in d]
val = lambda d, k: dict(d)[k]
isint = lambda v: isinstance(v, int) and not isinstance(v, bool)
isreal = lambda v: isinstance(v, float)
close = lambda a, b: abs(a - b) <= 1e-12 * abs(b)
DECODE = ['bench', 'events', 'bytes', 'seconds', 'events_per_s', 'mb_per_s', 'target_events_per_s']
READ = ['bench', 'samples', 'events', 'seconds', 'events_per_s']
ok = eval('(' + sys.argv[2] + ')')  # the check may span lines
if not ok:
    sys.exit('check failed: %s\nlines: %r' % (sys.argv[2], L))
PYEOF
}

"$BENCH_IO" evt3 >"$tmp/evt3" 2>"$tmp/err"
check "bench_io evt3 runs" test $? -eq 0
check "its lines parse, keys in the bench's order" lines "$tmp/evt3" \
    "len(L) == 1 and keys(L[0]) == DECODE and val(L[0], 'bench') == 'decode_evt3_generated'"
check "counts are integers, times and rates reals" lines "$tmp/evt3" \
    "all(isint(val(L[0], k)) for k in ('events', 'bytes', 'target_events_per_s')) and
     all(isreal(val(L[0], k)) for k in ('seconds', 'events_per_s', 'mb_per_s')) and
     val(L[0], 'events') == 4000000 and val(L[0], 'target_events_per_s') == 50000000"
check "reals round-trip: rates are the counts over the printed seconds" lines "$tmp/evt3" \
    "close(val(L[0], 'events_per_s'), val(L[0], 'events') / val(L[0], 'seconds')) and
     close(val(L[0], 'mb_per_s'), val(L[0], 'bytes') / val(L[0], 'seconds') / 1e6)"

mkdir -p "$tmp/a/b"
(cd "$tmp/a/b" && "$BENCH_IO" aedat4) >"$tmp/skip" 2>"$tmp/err"
check "bench_io aedat4 without ../shared runs" test $? -eq 0
check "it prints one skipped line per workload, the path as a string" lines "$tmp/skip" \
    "[keys(d) for d in L] == [['bench', 'skipped']] * 2 and
     [val(d, 'bench') for d in L] == ['decode_aedat4_dvxplorer', 'read_aedat4_file'] and
     val(L[1], 'skipped') == '../shared/datasets/aedat4-sample/tonic_sample.aedat4 not found'"

sample=../shared/datasets/aedat4-sample/tonic_sample.aedat4
if [ -r "$sample" ]; then
    "$BENCH_IO" aedat4 >"$tmp/real" 2>"$tmp/err"
    check "bench_io aedat4 on the real DVXplorer sample runs" test $? -eq 0
    size=$(wc -c <"$sample")
    check "its decode and read lines parse with the sample's counts" lines "$tmp/real" \
        "len(L) == 2 and keys(L[0]) == DECODE and keys(L[1]) == READ and
         val(L[0], 'bench') == 'decode_aedat4_dvxplorer' and val(L[1], 'bench') == 'read_aedat4_file' and
         val(L[0], 'events') == 111954 and val(L[1], 'events') == 111954 and val(L[1], 'samples') == 1 and
         val(L[0], 'bytes') == $size and all(isreal(val(d, 'seconds')) for d in L)"
elif [ "$CI" = true ]; then
    notok "$sample is missing (CI=true)"
else
    skip "bench_io aedat4 on the real DVXplorer sample" "$sample not found"
fi
echo "1..$n"
