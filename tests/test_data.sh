#!/bin/sh
# tests/test_data.sh — `evsnn data info|convert|show` end to end (TAP). Expected figures come
# from the datasets' SOURCE.md and from file sizes (N-MNIST: 5 bytes per event), not from evsnn.
bin=${EVSNN_BIN:-bin/evsnn}
S=../shared/datasets
tmp=$(mktemp -d /tmp/evsnn-data-XXXXXX); trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
no() { n=$((n + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); if [ "$CI" = true ]; then echo "not ok $n - $1 (shared data missing under CI)"; else echo "ok $n - $1 # SKIP ../shared not found"; fi; }
check() { if eval "$2"; then ok "$1"; else no "$1"; fi; }

check "data --help exits 0" "$bin data --help >/dev/null"
check "data without a subcommand exits 2" "! $bin data >/dev/null 2>&1 && [ \$($bin data >/dev/null 2>&1; echo \$?) -eq 2 ]"
$bin data info "$tmp/none.aedat" >/dev/null 2>"$tmp/err"; rc=$?
check "missing file: exit 2, message names it" "[ $rc -eq 2 ] && grep -q 'none.aedat' '$tmp/err'"
$bin data info --steps zero x >/dev/null 2>"$tmp/err"; rc=$?
check "bad option value: exit 2" "[ $rc -eq 2 ] && grep -q -- '--steps' '$tmp/err'"

printf '#!AER-DAT2.0\r\n\000\000\000\002\000\000\000\012\001' > "$tmp/cut.aedat"
$bin data info "$tmp/cut.aedat" >/dev/null 2>"$tmp/err"; rc=$?
check "truncated AEDAT: exit 2, file and offset named" "[ $rc -eq 2 ] && grep -q 'cut.aedat: offset 22' '$tmp/err'"

if [ -r "$S/dvs128-aedat2/alex_walking_again.aedat" ]; then
  out=$($bin data info "$S/dvs128-aedat2/alex_walking_again.aedat")
  check "info AEDAT 2.0: 19,182 events (SOURCE.md)" "echo '$out' | grep -q '\"total\":19182,'"
  check "info AEDAT 2.0: time range (SOURCE.md)" "echo '$out' | grep -q '\"time_range_us\":\[41306606,48193156\]'"
  check "info AEDAT 2.0: seed-004 shape 2x32x32, 100 steps of 5 ms" "echo '$out' | grep -q '\"shape\":\[2,32,32\],\"steps\":100,\"dt_us\":5000'"
  $bin data show "$S/dvs128-aedat2/alex_walking_again.aedat" -o "$tmp/f.png" >/dev/null 2>"$tmp/err"
  check "show: event frame PNG" "[ \"\$(head -c 4 '$tmp/f.png' | tail -c 3)\" = PNG ]"
  $bin data show "$S/dvs128-aedat2/alex_walking_again.aedat" --binned --window-us 0:500000 -o "$tmp/b.png" >/dev/null 2>"$tmp/err"
  check "show --binned: PNG" "[ \"\$(head -c 4 '$tmp/b.png' | tail -c 3)\" = PNG ]"
else for i in 1 2 3 4 5; do skip "AEDAT 2.0 commands"; done; fi

if [ -r "$S/nmnist-small/test100.txt" ]; then
  total=0
  for id in $(seq 60001 60100); do total=$((total + $(stat -c %s "$S/nmnist-small/bin/$id.bs2") / 5)); done
  $bin data convert "$S/nmnist-small/test100.txt" "$tmp/t100.h5" >"$tmp/conv" 2>"$tmp/err"
  check "convert N-MNIST list to an evsnn event file" "grep -q '\"samples\":100' '$tmp/conv' && [ -f '$tmp/t100.h5' ] && ! ls '$tmp'/t100.h5.tmp* >/dev/null 2>&1"
  out=$($bin data info "$tmp/t100.h5")
  check "converted file: format, 100 samples, $total events (= file sizes / 5)" "echo '$out' | grep -q '\"format\":\"evsnn-events\"' && echo '$out' | grep -q '\"total\":$total,'"
  check "converted file: 34x34 geometry kept" "echo '$out' | grep -q '\"width\":34,\"height\":34'"
  out=$($bin data info "$S/nmnist-small" --split test)
  check "folder of lists: --split test picks test100 (100 samples)" "echo '$out' | grep -q '\"samples\":100,'"
else for i in 1 2 3 4; do skip "N-MNIST commands"; done; fi

if [ -r "$S/mnist/t10k-images-idx3-ubyte.gz" ]; then
  $bin data show "$S/mnist/t10k-images-idx3-ubyte.gz" --sample 0 -o "$tmp/m.png" >"$tmp/show" 2>"$tmp/err"
  check "show MNIST image 0 (label 7)" "grep -q '\"label\":7' '$tmp/show' && [ \"\$(head -c 4 '$tmp/m.png' | tail -c 3)\" = PNG ]"
  $bin data convert "$S/mnist/t10k-images-idx3-ubyte.gz" "$tmp/x.h5" >/dev/null 2>"$tmp/err"; rc=$?
  check "convert refuses images (exit 2)" "[ $rc -eq 2 ] && [ ! -e '$tmp/x.h5' ]"
else for i in 1 2; do skip "MNIST commands"; done; fi
echo "1..$n"
