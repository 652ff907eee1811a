#!/bin/sh
# tests/test_live_page.sh — the live page of `evsnn serve --http` loads in headless Chromium
# (Debian's `chromium`), its script polls /v1/live and draws the spike raster: the DOM after
# the script ran carries the window it drew and the number of spikes drawn, and a screenshot
# is taken. Chromium is installed only under CI=true (by this test, with apt-get) when
# absent; elsewhere the test skips with the reason. The browser runs with no network beyond
# 127.0.0.1 and a fresh profile. Traffic: `evsnn replay` of real N-MNIST samples. TAP output.
. tests/tap.sh
DATA=../shared/datasets/nmnist-small/test100.txt
tmp=$(mktemp -d)
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

browser=$(command -v chromium || command -v chromium-browser)
if [ -z "$browser" ] && [ "$CI" = true ]; then
    echo "# CI: installing Debian's chromium for this test"
    SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null 2>&1
    browser=$(command -v chromium)
fi
if [ -z "$browser" ]; then
    if [ "$CI" = true ]; then notok "live page in headless Chromium: chromium could not be installed"; echo "1..$n"; exit 0; fi
    skip "live page in headless Chromium" "chromium is not installed (apt-get install chromium; CI installs it)"
    echo "1..$n"; exit 0
fi
if [ ! -r "$DATA" ]; then
    if [ "$CI" = true ]; then notok "live page: $DATA missing (CI=true: shared data required)"; echo "1..$n"; exit 0; fi
    skip "live page in headless Chromium" "$DATA not found (run beside ../shared)"
    echo "1..$n"; exit 0
fi

"$EVSNN" init --arch 2312-64-10 --input 2x34x34 --threshold 0.3 --seed 3 -o "$tmp/m.h5" >/dev/null
"$EVSNN" serve --model "$tmp/m.h5" --http 127.0.0.1:0 --accel data/accel.cfg >"$tmp/serve.out" 2>"$tmp/serve.err" &
srv=$!
i=0
while [ ! -s "$tmp/serve.out" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
tcp=$(sed -n 's/.*"tcp":\([0-9]*\).*/\1/p' "$tmp/serve.out" | head -n1)
http=$(sed -n 's/.*"http":\([0-9]*\).*/\1/p' "$tmp/serve.out" | head -n1)
check "serve prints its ephemeral HTTP port" [ -n "$http" ]
"$EVSNN" replay "$DATA" --to "127.0.0.1:$tcp" --speed max --count 10 --quiet >/dev/null 2>&1
check "traffic replayed" [ $? -eq 0 ]

flags="--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
--disable-component-update --disable-sync --disable-extensions --disable-dev-shm-usage --hide-scrollbars"
# DOM after the page's script has run (virtual time lets its fetch and timers complete)
timeout 60 "$browser" $flags --user-data-dir="$tmp/profile1" --virtual-time-budget=3000 --dump-dom \
    "http://127.0.0.1:$http/" >"$tmp/dom.html" 2>"$tmp/chromium1.err"
check "the page loads in headless Chromium" grep -q '<canvas id="raster"' "$tmp/dom.html"
drawn=$(sed -n 's/.*data-drawn="\([0-9]*\)".*/\1/p' "$tmp/dom.html" | head -n1)
check "its script fetched /v1/live and drew spikes on the raster (drawn=${drawn:-none})" [ "${drawn:-0}" -gt 0 ]
check "the stats line shows the replayed windows" grep -q 'windows 10 ' "$tmp/dom.html"
queues=$(sed -n 's/.*data-queues="\([0-9]*\)".*/\1/p' "$tmp/dom.html" | head -n1)
check "the queue-occupancy panel drew the accelerator model's layers (queues=${queues:-none})" [ "${queues:-0}" -eq 2 ]

timeout 60 "$browser" $flags --user-data-dir="$tmp/profile2" --virtual-time-budget=3000 --window-size=1200,760 \
    --screenshot="$tmp/live.png" "http://127.0.0.1:$http/" >/dev/null 2>"$tmp/chromium2.err"
check "a screenshot is written (PNG)" sh -c "[ -s '$tmp/live.png' ] && head -c 8 '$tmp/live.png' | od -An -c | grep -q 'P   N   G'"
[ -n "$LIVE_SCREENSHOT" ] && cp "$tmp/live.png" "$LIVE_SCREENSHOT"

kill -TERM "$srv"; wait "$srv"; rc=$?; srv=
check "serve exits 0 after SIGTERM" [ $rc -eq 0 ]
echo "1..$n"
