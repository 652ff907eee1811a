#!/bin/sh
# tests/test_quickstart.sh — the README's quick start, every command's stdout parsed as JSON
# (tests/test_quickstart_json.py; Python's json module). TAP output.
for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null 2>&1; then exec "$p" tests/test_quickstart_json.py; fi
done
if [ "$CI" = true ]; then echo "not ok 1 - python3 missing"; else echo "ok 1 - quick start # SKIP python3 missing"; fi
echo "1..1"
