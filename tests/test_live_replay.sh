#!/bin/sh
# tests/test_live_replay.sh — `evsnn replay` against `evsnn serve` on 127.0.0.1 (ephemeral
# ports): the predictions streamed back for real N-MNIST samples equal, sample for sample
# (class and every output spike count), those of offline inference of the same model on the
# same samples (`evsnn run --data ... --per-sample`); bad usage exits 2. TAP output.
. tests/tap.sh
DATA=../shared/datasets/nmnist-small/test100.txt
tmp=$(mktemp -d)
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

"$EVSNN" replay --help >"$tmp/help" 2>&1; check "replay --help exits 0" [ $? -eq 0 ]
"$EVSNN" replay "$DATA" >/dev/null 2>"$tmp/err"; rc=$?
check "replay without --to is a usage error (exit 2)" [ $rc -eq 2 ]
"$EVSNN" serve --help >/dev/null 2>&1; check "serve --help exits 0" [ $? -eq 0 ]
"$EVSNN" serve --arch 10-2 --listen nonsense >/dev/null 2>"$tmp/err"; rc=$?
check "serve --listen nonsense exits 2 naming the option" sh -c "[ $rc -eq 2 ] && grep -q -- '--listen' '$tmp/err'"

if [ ! -r "$DATA" ]; then
    if [ "$CI" = true ]; then notok "N-MNIST replay: $DATA missing (CI=true: shared data required)"; echo "1..$n"; exit 0; fi
    skip "N-MNIST replay equals offline inference" "$DATA not found (run beside ../shared)"
    echo "1..$n"; exit 0
fi

"$EVSNN" init --arch 2312-64-10 --input 2x34x34 --threshold 0.3 --seed 7 -o "$tmp/m.h5" >/dev/null
"$EVSNN" serve --model "$tmp/m.h5" >"$tmp/serve.out" 2>"$tmp/serve.err" &
srv=$!
i=0
while [ ! -s "$tmp/serve.out" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
port=$(sed -n 's/.*"tcp":\([0-9]*\).*/\1/p' "$tmp/serve.out" | head -n1)
check "serve prints its ephemeral TCP port" [ -n "$port" ]

"$EVSNN" replay "$DATA" --to "127.0.0.1:$port" --speed max --count 30 >"$tmp/replay.out" 2>"$tmp/replay.err"
check "replay of 30 samples exits 0" [ $? -eq 0 ]
"$EVSNN" run --model "$tmp/m.h5" --data "$DATA" --count 30 --per-sample --threads 1 >"$tmp/run.out" 2>"$tmp/run.err"
check "offline run exits 0" [ $? -eq 0 ]
# (sample, class, counts) of each: the same 30 lines
sed -n 's/^{"sample":\([0-9]*\),"label":[0-9-]*,"class":\([0-9]*\),"correct":[a-z]*,"counts":\(\[[0-9,]*\]\).*/\1 \2 \3/p' "$tmp/replay.out" | sort -n >"$tmp/a"
sed -n 's/^{"sample":\([0-9]*\),"label":[0-9-]*,"class":\([0-9]*\),"counts":\(\[[0-9,]*\]\).*/\1 \2 \3/p' "$tmp/run.out" | sort -n >"$tmp/b"
check "30 predictions streamed back" [ "$(wc -l <"$tmp/a")" -eq 30 ]
check "replay predictions equal offline inference (class and every count)" cmp -s "$tmp/a" "$tmp/b"
check "the network fired (not two silent runs)" sh -c "grep -v '\[0,0,0,0,0,0,0,0,0,0\]' '$tmp/a' | grep -q ."
check "replay summary counts 30 labelled samples" grep -q '"samples":30,"predictions":30,"labelled":30' "$tmp/replay.out"

"$EVSNN" replay "$DATA" --to "127.0.0.1:$port" --speed max --count 2 --steps 50 >/dev/null 2>"$tmp/mis.err"; rc=$?
check "a window length the server does not run is refused with the reason (exit 1)" sh -c "[ $rc -eq 1 ] && grep -q '50 steps per window; this server runs 100' '$tmp/mis.err'"

# real-time pacing: 3 samples of ~0.3 s each take at least ~0.6 s of wall time
"$EVSNN" replay "$DATA" --to "127.0.0.1:$port" --count 3 --quiet >"$tmp/rt.out" 2>&1
check "real-time replay is paced by the recording's clock" sh -c "awk -F'\"wall_s\":' '{split(\$2,a,\",\"); exit !(a[1] > 0.6)}' '$tmp/rt.out'"

kill -TERM "$srv"; wait "$srv"; rc=$?; srv=
check "serve drains on SIGTERM and exits 0" [ $rc -eq 0 ]
check "serve's summary counts the replayed windows" grep -q '"windows":33' "$tmp/serve.out"
check "serve counts the three replay connections" sh -c "grep -q '\"connections\":3,' '$tmp/serve.out'"
echo "1..$n"
