"""tests/test_h5py_raster.py TRACE RUN.jsonl MODEL EVENTS CKPT — read evsnn's files with h5py
only, as a user who never saw evsnn's code would: every string an str (variable-length
UTF-8), every dataset saying its unit and axes, and each layer's spike raster rebuilt from the
trace's attributes alone (the group's layout, shape, channels, the file's T and dt_us), then
checked against what `evsnn run --per-sample` printed for the same samples. TAP output."""
import json, sys
import h5py, numpy as np

trace, run_out, model, events, ckpt = sys.argv[1:6]
n = 0
def tap(ok, desc):
    global n
    n += 1
    print(("ok %d - %s" if ok else "not ok %d - %s") % (n, desc), flush=True)

def strings_and_units(path):
    """(every string attribute is str, datasets without unit/axes)"""
    bad_str, no_unit = [], []
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            for k, v in obj.attrs.items():
                if isinstance(v, bytes): bad_str.append("%s@%s" % (name, k))
            if isinstance(obj, h5py.Dataset) and ("unit" not in obj.attrs and name != "net/name" or "axes" not in obj.attrs):
                no_unit.append(name)
        for k, v in f.attrs.items():
            if isinstance(v, bytes): bad_str.append("/@" + k)
        f.visititems(visit)
    return bad_str, no_unit

for path, what in ((trace, "trace"), (model, "model file"), (events, "event file"), (ckpt, "checkpoint")):
    bad_str, no_unit = strings_and_units(path)
    tap(not bad_str, "%s: every string attribute reads as str in h5py%s" % (what, "" if not bad_str else " (bytes: %s)" % bad_str[:3]))
    tap(not no_unit, "%s: every dataset has unit and axes attributes%s" % (what, "" if not no_unit else " (missing: %s)" % no_unit[:3]))
    with h5py.File(path, "r") as f:
        tap("format_version" in f.attrs and str(f.attrs["format"]).startswith("evsnn-"),
            "%s: format %s, format_version %s" % (what, f.attrs.get("format"), f.attrs.get("format_version")))

with h5py.File(trace, "r") as f:
    T, N, dt = int(f.attrs["T"]), int(f.attrs["n_samples"]), int(f.attrs["dt_us"])
    groups = sorted(f["layers"].values(), key=lambda g: int(g.attrs["index"]))
    tap(len(groups) == int(f.attrs["n_layers"]) and "input" in f, "trace: /input and %d named layer groups" % len(groups))
    tap(dt > 0, "trace: dt_us = %d µs per step (a dataset's bin width)" % dt)

    def raster(g, i):
        """[(step, channel)] of sample i, by the layout the group states"""
        assert "idx[start[i] + off[i, t] : start[i] + off[i, t + 1]]" in g.attrs["layout"]
        s, off, idx = int(g["start"][i]), g["off"][i], g["idx"]
        return [(t, int(c)) for t in range(T) for c in idx[s + off[t]: s + off[t + 1]]]

    run = [json.loads(l) for l in open(run_out)]
    per_sample = [r for r in run if "sample" in r]
    summary = [r for r in run if "layers" in r][0]
    tap(len(per_sample) == N, "run printed %d samples, the trace holds %d" % (len(per_sample), N))
    last = groups[-1]
    C, H, W = (int(x) for x in last.attrs["shape"])
    ok = True
    for i, r in enumerate(per_sample):
        counts = np.zeros(int(last.attrs["channels"]), dtype=int)
        for t, ch in raster(last, i):
            counts[ch] += 1
        ok = ok and counts.tolist() == r["counts"]
    tap(ok, "the output layer's raster rebuilt from the attributes gives run's per-sample spike counts")
    ok = True
    for g, l in zip(groups, summary["layers"]):
        total = sum(len(raster(g, i)) for i in range(N))
        ok = ok and total == l["spikes"] and g.attrs["name"] == l["name"]
    tap(ok, "every layer's raster holds the spikes run counted, under the layer's name")
    g = groups[0]
    C, H, W = (int(x) for x in g.attrs["shape"])
    ev = raster(g, 0)
    tap(all(0 <= ch < C * H * W for _, ch in ev) and C * H * W == int(g.attrs["channels"]),
        "channel ids index the layer's shape %dx%dx%d (c*H*W + y*W + x)" % (C, H, W))
    t_ms = [t * dt / 1000 for t, _ in ev]
    tap(not t_ms or max(t_ms) < T * dt / 1000, "spike times in ms from steps and dt_us lie inside the %g ms window" % (T * dt / 1000))
print("1..%d" % n)
