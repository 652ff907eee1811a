#!/bin/sh
# tests/test_aedat4_cli.sh — today's event-camera formats from the command line, on
# 127.0.0.1 (ephemeral ports): `data info` of the real DVXplorer AEDAT 4.0 recording (events
# decoded, IMU and trigger streams counted); the live path: `evsnn replay --wire aedat4`
# sends the file to `evsnn serve` as DV's network output does, and every tumbling window the
# server returns equals `evsnn run --data` on the same 100 ms of the file (class and every
# output count); refusals with reasons; a Prophesee EVT 3.0 RAW file written here in the
# documented layout. TAP output.
. tests/tap.sh
DATA=../shared/datasets/aedat4-sample/tonic_sample.aedat4
tmp=$(mktemp -d)
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# EVT 3.0, little-endian 16-bit words: time high 7 (0x8007), y 10 (0x000A), time low 5
# (0x6005), ON x 3 (0x2803), vector base x 100 OFF (0x3064), VECT_8 bits 0, 1 (0x5003):
# events (28677 µs: 3,10 ON; 100,10 OFF; 101,10 OFF)
printf '%% evt 3.0\n%% format EVT3;height=720;width=1280\n%% end\n\007\200\012\000\005\140\003\050\144\060\003\120' >"$tmp/r.raw"
"$EVSNN" data info "$tmp/r.raw" >"$tmp/raw.json" 2>"$tmp/raw.err"
check "data info reads an EVT 3.0 RAW file" grep -q '"format":"evt3".*"sensor":{"width":1280,"height":720' "$tmp/raw.json"
check "its three events: one ON" grep -q '"events":{"total":3,.*"on_fraction":0.3333' "$tmp/raw.json"
check "RAW streams: 3 CD events decoded" grep -q '"streams":\[{"id":null,"type":"CD","elements":3,"decoded":true}' "$tmp/raw.json"

printf 'not an AEDAT 4 file\n' >"$tmp/x.txt"
"$EVSNN" replay "$tmp/x.txt" --wire aedat4 --to 127.0.0.1:1 >/dev/null 2>"$tmp/err"; rc=$?
check "replay --wire aedat4 of another file: exit 2 naming the magic line" sh -c "[ $rc -eq 2 ] && grep -q 'AER-DAT4.0' '$tmp/err'"
"$EVSNN" replay "$tmp/x.txt" --wire aedat4 --dt-us 5 --to 127.0.0.1:1 >/dev/null 2>"$tmp/err"; rc=$?
check "dataset options with --wire aedat4: usage error" sh -c "[ $rc -eq 2 ] && grep -q 'do not apply' '$tmp/err'"
"$EVSNN" replay "$tmp/x.txt" --wire udp --to 127.0.0.1:1 >/dev/null 2>&1; rc=$?
check "an unknown --wire: usage error" [ $rc -eq 2 ]

if [ ! -r "$DATA" ]; then
    if [ "$CI" = true ]; then notok "AEDAT 4.0 sample: $DATA missing (CI=true: shared data required)"; echo "1..$n"; exit 0; fi
    skip "AEDAT 4.0 sample through data info, serve and replay" "$DATA not found (run beside ../shared)"
    echo "1..$n"
    exit 0
fi

"$EVSNN" data info "$DATA" >"$tmp/info.json" 2>"$tmp/info.err"
check "data info on the AEDAT 4.0 sample exits 0" [ $? -eq 0 ]
check "format aedat4, DVXplorer sensor 320x240" grep -q '"format":"aedat4".*"sensor":{"width":320,"height":240,"polarities":2}' "$tmp/info.json"
check "111954 events, as the file's data table states" grep -q '"events":{"total":111954,' "$tmp/info.json"
check "streams: EVTS decoded, IMUS (59 packets, 475 samples) and TRIG skipped" grep -q '"streams":\[{"id":0,"type":"EVTS","packets":59,"elements":111954,"decoded":true},{"id":2,"type":"IMUS","packets":59,"elements":475,"decoded":false},{"id":3,"type":"TRIG","packets":0,"elements":0,"decoded":false}\]' "$tmp/info.json"

"$EVSNN" init --arch 1536-64-10 --input 2x24x32 --threshold 0.3 --seed 7 -o "$tmp/m.h5" >/dev/null
"$EVSNN" serve --model "$tmp/m.h5" --dt 1000 >"$tmp/serve.out" 2>"$tmp/serve.err" &
srv=$!
i=0
while [ ! -s "$tmp/serve.out" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
port=$(sed -n 's/.*"tcp":\([0-9]*\).*/\1/p' "$tmp/serve.out" | head -n1)
check "serve prints its ephemeral TCP port" [ -n "$port" ]

"$EVSNN" replay "$DATA" --wire aedat4 --to "127.0.0.1:$port" --speed max >"$tmp/replay.out" 2>"$tmp/replay.err"
check "replay --wire aedat4 exits 0" [ $? -eq 0 ]
check "every packet and event sent, every event binned, none dropped" \
    grep -q '"windows":6,"packets_sent":118,"bytes_sent":945243,"events_sent":111954,"events_binned":111954,"dropped":0' "$tmp/replay.out"
# window k = [t_first + k·100 ms, + 100 ms) with 1 ms steps = run --data --window-us k·100000:(k+1)·100000
: >"$tmp/a"; : >"$tmp/b"
for k in 0 1 2 3 4 5; do
    sed -n "s/^{\"window\":$k,\"tag\":[0-9]*,\"class\":\([0-9]*\),\"counts\":\(\[[0-9,]*\]\).*/$k \1 \2/p" "$tmp/replay.out" >>"$tmp/a"
    "$EVSNN" run --model "$tmp/m.h5" --data "$DATA" --downsample 10 --window-us $((k * 100000)):$(((k + 1) * 100000)) \
        --per-sample --threads 1 >"$tmp/run.out" 2>>"$tmp/run.err"
    sed -n "s/^{\"sample\":0,\"label\":-1,\"class\":\([0-9]*\),\"counts\":\(\[[0-9,]*\]\).*/$k \1 \2/p" "$tmp/run.out" >>"$tmp/b"
done
check "six windows streamed back" [ "$(wc -l <"$tmp/a")" -eq 6 ]
check "each window equals evsnn run --data on the same 100 ms (class and every count)" cmp -s "$tmp/a" "$tmp/b"
check "the network fired (not silent runs)" sh -c "grep -v '\[0,0,0,0,0,0,0,0,0,0\]' '$tmp/a' | grep -q ."

# the recording spans 0.59 s: real-time replay takes at least about that long
"$EVSNN" replay "$DATA" --wire aedat4 --to "127.0.0.1:$port" --quiet >"$tmp/rt.out" 2>&1
check "real-time replay is paced by the event packets' timestamps" sh -c "awk -F'\"wall_s\":' '{split(\$2,a,\",\"); exit !(a[1] > 0.5)}' '$tmp/rt.out'"
kill -TERM "$srv"; wait "$srv"; rc=$?; srv=
check "serve drains on SIGTERM and exits 0" [ $rc -eq 0 ]

# a model whose input the DVXplorer sensor does not divide: refused with the reason
"$EVSNN" init --arch 2048-10 --input 2x32x32 --seed 7 -o "$tmp/m32.h5" >/dev/null
"$EVSNN" serve --model "$tmp/m32.h5" >"$tmp/serve2.out" 2>"$tmp/serve2.err" &
srv=$!
i=0
while [ ! -s "$tmp/serve2.out" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
port=$(sed -n 's/.*"tcp":\([0-9]*\).*/\1/p' "$tmp/serve2.out" | head -n1)
"$EVSNN" replay "$DATA" --wire aedat4 --to "127.0.0.1:$port" --speed max >/dev/null 2>"$tmp/mis.err"; rc=$?
check "a sensor the model cannot take is refused with the reason (exit 1)" sh -c "[ $rc -eq 1 ] && grep -q 'sensor 320x240 is not an integer multiple of the model input 32x32' '$tmp/mis.err'"
kill -TERM "$srv"; wait "$srv"; srv=
echo "1..$n"
