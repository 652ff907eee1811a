#!/usr/bin/env python3
"""tests/test_quickstart_json.py — every command of README.md's quick start, as written there,
prints JSON a standard parser reads: each stdout line is one JSON document (Python's json
module, not evsnn's writer). The files the commands write go to a directory whose name holds
a single and a double quote, a space and non-ASCII letters, so every path in the output goes
through the escaping; the paths come back equal. Two more commands the README names beside
them run too: `hw dse` and `replay` against the quick start's `serve`. Only the training
length is cut (--epochs 25 -> 2) to keep the suite short. TAP output; needs ../shared (its
N-MNIST sample): skipped without it, a failure under CI=true."""
import json, os, re, shlex, signal, subprocess, sys, tempfile

evsnn = os.path.abspath(os.environ.get("EVSNN_BIN", "bin/evsnn"))
n = 0
def tap(ok, desc):
    global n
    n += 1
    print(("ok %d - %s" if ok else "not ok %d - %s") % (n, desc), flush=True)

if not os.path.exists("../shared/datasets/nmnist-small/test100.txt"):
    if os.environ.get("CI") == "true":
        tap(False, "../shared/datasets/nmnist-small is missing (CI=true)")
    else:
        print("ok 1 - quick start # SKIP ../shared/datasets/nmnist-small not found"); n = 1
    print("1..%d" % n); sys.exit(0)

readme = open("README.md", encoding="utf-8").read()
block = readme.split("## Quick start", 1)[1].split("\n\n|", 1)[0]
cmds, cur = [], ""
for line in block.splitlines():
    line = line.strip()
    if not line: continue
    cur += " " + line.split("  #", 1)[0].rstrip("\\").strip() if line.endswith("\\") or cur else line.split("  #", 1)[0]
    if line.endswith("\\"): continue
    cmds.append(cur.strip()); cur = ""
cmds = [c for c in cmds if c.startswith("bin/evsnn")]
tap(len(cmds) >= 10, "README's quick start has its %d evsnn commands" % len(cmds))

work = tempfile.mkdtemp()
weird = os.path.join(work, "q'uo\"te é ü")
os.makedirs(os.path.join(weird, "out"))
# the files the quick start writes, now in the weird directory
names = ["dvs.h5", "nmnist.h5", "trace.h5", "out/nmnist", "out/tiny"]

def rewrite(argv):
    out = []
    for a in argv:
        if a == "bin/evsnn": a = evsnn
        elif a in names: a = os.path.join(weird, a)
        elif a.startswith("../shared") or a.startswith("data/"): a = os.path.abspath(a)
        out.append(a)
    if "--epochs" in out: out[out.index("--epochs") + 1] = "2"
    return out

def check_lines(desc, text, want_paths=()):
    lines = [l for l in text.splitlines() if l.strip()]
    docs, bad = [], None
    for l in lines:
        try: docs.append(json.loads(l))
        except ValueError as e: bad = "%s: %.80s" % (e, l); break
    tap(bool(lines) and bad is None, "%s: %d line(s) of JSON%s" % (desc, len(lines), "" if bad is None else " (" + bad + ")"))
    if want_paths and docs:
        flat = json.dumps(docs, ensure_ascii=False)
        tap(all(p in flat.replace("\\\\", "\\") or json.dumps(p, ensure_ascii=False)[1:-1] in flat for p in want_paths),
            "%s: the quoted non-ASCII path comes back as it was" % desc)
    return docs

serve_port = None
for c in cmds:
    for part in c.split("&&"):
        argv = rewrite(shlex.split(part))
        desc = " ".join(shlex.split(part)[1:3])
        paths = [a for a in argv if a.startswith(weird)]
        if argv[1] == "serve":
            p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=work)
            hello = p.stdout.readline()
            try: serve_port = json.loads(hello)["listening"]["tcp"]
            except (ValueError, KeyError, TypeError): serve_port = None
            if serve_port:
                r = subprocess.run([evsnn, "replay", os.path.abspath("../shared/datasets/nmnist-small/test100.txt"),
                                    "--to", "127.0.0.1:%d" % serve_port, "--count", "5", "--speed", "max"],
                                   capture_output=True, text=True, cwd=work, timeout=300)
                tap(r.returncode == 0, "replay to the quick start's serve exits 0")
                check_lines("replay", r.stdout)
            p.send_signal(signal.SIGTERM)
            out, err = p.communicate(timeout=60)
            tap(p.returncode == 0, "serve drains on SIGTERM")
            check_lines("serve", hello + out, paths)
            continue
        r = subprocess.run(argv, capture_output=True, text=True, cwd=work, timeout=900)
        tap(r.returncode == 0, "%s exits 0%s" % (desc, "" if r.returncode == 0 else ": " + r.stderr.strip()[-200:]))
        if "--help" in argv: continue  # help is text for people, the one output that is not JSON
        check_lines(desc, r.stdout, paths)
        if argv[1] == "hw" and "--trace" in argv:
            r = subprocess.run([evsnn, "hw", "dse", "--trace", os.path.join(weird, "trace.h5"), "--max-pes", "4",
                                "--accel", os.path.abspath("data/snn-dse.cfg")], capture_output=True, text=True, cwd=work)
            tap(r.returncode == 0, "hw dse exits 0")
            d = check_lines("hw dse", r.stdout, [os.path.join(weird, "trace.h5")])
            if d:
                tap(all(isinstance(p["total_pes"], int) and isinstance(p["latency_cycles"], (int, float)) for p in d[0]["pareto"]),
                    "hw dse: PE counts are integers, latencies numbers")
            r = subprocess.run([evsnn, "hw", "--trace", os.path.join(weird, "trace.h5")], capture_output=True, text=True, cwd=work)
            d = check_lines("hw (built-in accelerator)", r.stdout)
            if d:
                tap(d[0]["accel"] is None and isinstance(d[0]["latency_cycles"]["p99"], int),
                    "hw: no --accel is null, cycle percentiles are integers (no %.6g rounding)")
tap(serve_port is not None, "serve printed its ports as JSON")
subprocess.run(["rm", "-rf", work])
print("1..%d" % n)
