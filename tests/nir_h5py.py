#!/usr/bin/env python3
"""tests/nir_h5py.py - NIR files through h5py, independently of evsnn's own reader and writer.

  nir_h5py.py write FIXTURE OUT.nir   write a fixture graph as the `nir` library 1.0.x's
                                      nir.write lays it out (h5py; see io/README.md "NIR graphs")
  nir_h5py.py check FILE.nir          read FILE as nir.read does (h5py, byte strings decoded)
                                      and check what nir.read needs: every node's datasets are
                                      exactly its NIR 1.0 fields, and the shapes agree along every
                                      edge (NIR's type check); prints one JSON line, exits 1 on error

The layout follows nir/serialization.py of the nir 1.0.x releases: /version a string, /node
the graph's dict written recursively (a str becomes a variable-length UTF-8 string dataset, a
numpy array a dataset of its own dtype, a dict a group, anything else a dataset h5py makes
from it; an empty metadata dict is skipped); /node/edges is the list of (source, target)
name tuples, which h5py stores as an N x 2 array of variable-length strings.

The fixtures mimic snnTorch's export_to_nir (nodes named "0", "1", ... and "input"/"output",
Linear -> Affine, Leaky -> LIF with tau = dt/(1 - beta), r = tau/dt, dt = 1e-4, scalar
parameters for a scalar beta) with weights k/64, so that floats are exact. Used by
tests/test_nir.sh; needs python3-h5py (Debian).
"""
import json
import sys

import h5py
import numpy as np

DT = 1e-4  # what snnTorch's export_to_nir assumes


def write_recursive(group, node):
    for k, v in node.items():
        if k == "metadata":
            if v != {}:
                write_recursive(group.create_group(k), v)
        elif isinstance(v, str):
            group.create_dataset(k, data=v, dtype=h5py.string_dtype())
        elif isinstance(v, np.ndarray):
            group.create_dataset(k, data=v, dtype=v.dtype)
        elif isinstance(v, dict):
            write_recursive(group.create_group(str(k)), v)
        else:
            group.create_dataset(k, data=v)


def nir_write(path, nodes, edges, metadata=None):
    graph = {"nodes": nodes, "edges": edges, "metadata": metadata or {}, "type": "NIRGraph"}
    with h5py.File(path, "w") as f:
        f.create_dataset("version", data="1.0.7")
        write_recursive(f.create_group("node"), graph)


def weights(out, inp, seed):
    o = np.arange(out)[:, None]
    i = np.arange(inp)[None, :]
    return (((o * 7 + i * 3 + seed) % 17 - 5) / 64.0).astype(np.float32)


def bias(out, seed):
    return ((((np.arange(out) * 5 + seed) % 7) - 3) / 64.0).astype(np.float32)


def leaky(beta, threshold=1.0, shape=None):
    """snnTorch's Leaky -> nir.LIF: 0-d float32 parameters for a scalar beta, or arrays."""
    b = np.float32(beta) if shape is None else np.full(shape, beta, dtype=np.float32)
    vt = np.float32(threshold) if shape is None else np.full(shape, threshold, dtype=np.float32)
    tau = DT / (1 - b)
    r = tau / DT
    return {"type": "LIF", "tau": tau, "r": r, "v_leak": np.zeros_like(b), "v_threshold": vt,
            "v_reset": np.zeros_like(vt)}


def fixture(name):
    """(nodes, edges) of a named fixture."""
    if name in ("snntorch_dense", "missing_node", "unknown_type", "shape_mismatch", "dangling_edge", "cycle", "li_readout"):
        nodes = {
            "input": {"type": "Input", "shape": np.array([1, 12])},       # batch dimension kept
            "0": {"type": "Affine", "weight": weights(8, 12, 1), "bias": bias(8, 1)},
            "1": leaky(0.5),
            "2": {"type": "Affine", "weight": weights(4, 8, 2), "bias": bias(4, 2)},
            "3": leaky(0.75),
            "output": {"type": "Output", "shape": np.array([1, 4])},
        }
        edges = [("2", "3"), ("input", "0"), ("3", "output"), ("1", "2"), ("0", "1")]  # shuffled
        if name == "missing_node":
            del nodes["2"]
        elif name == "unknown_type":
            nodes["1"]["type"] = "Quantum"
        elif name == "shape_mismatch":
            nodes["2"]["weight"] = weights(4, 9, 2)
        elif name == "dangling_edge":
            # the last edge ends in a node that leads nowhere; the Output is left unconnected
            nodes["sink"] = {"type": "Affine", "weight": weights(3, 4, 3), "bias": bias(3, 3)}
            edges[edges.index(("3", "output"))] = ("3", "sink")
        elif name == "cycle":
            nodes["rec"] = {"type": "Linear", "weight": weights(8, 8, 4)}
            edges += [("1", "rec"), ("rec", "0")]
        elif name == "li_readout":
            nodes["3"] = {"type": "LI", "tau": np.float32(4e-4), "r": np.float32(4), "v_leak": np.float32(0)}
        return nodes, edges
    if name == "conv":
        # conv 2->4 3x3 padding 1 on 2x10x10, avg pool 2 of currents, LIF per neuron,
        # flatten 4x5x5, Affine 100 -> 3, LIF; the way nir_graph.infer_types leaves it.
        nodes = {
            "input": {"type": "Input", "shape": np.array([2, 10, 10])},
            "0": {"type": "Conv2d", "input_shape": np.array([10, 10]),
                  "weight": weights(4, 18, 5).reshape(4, 2, 3, 3), "stride": np.array([1, 1]),
                  "padding": np.array([1, 1]), "dilation": np.array([1, 1]), "groups": 1, "bias": bias(4, 5)},
            "1": {"type": "AvgPool2d", "kernel_size": np.array([2, 2]), "stride": np.array([2, 2]),
                  "padding": np.array([0, 0])},
            "2": leaky(0.5, 0.5, (4, 5, 5)),
            "3": {"type": "Flatten", "input_type": np.array([4, 5, 5]), "start_dim": 0, "end_dim": -1},
            "4": {"type": "Affine", "weight": weights(3, 100, 6), "bias": bias(3, 6)},
            "5": leaky(0.75, 1.0, (3,)),
            "output": {"type": "Output", "shape": np.array([3])},
        }
        edges = [("input", "0"), ("0", "1"), ("1", "2"), ("2", "3"), ("3", "4"), ("4", "5"), ("5", "output")]
        return nodes, edges
    raise SystemExit(f"nir_h5py.py: unknown fixture '{name}'")


# The datasets nir.read hands each node type's constructor (NIR 1.0 node fields; "metadata" is
# a group). Optional ones may be absent.
FIELDS = {
    "Input": ({"shape"}, set()),
    "Output": ({"shape"}, set()),
    "Affine": ({"weight", "bias"}, set()),
    "Linear": ({"weight"}, set()),
    "Conv2d": ({"weight", "stride", "padding", "dilation", "groups", "bias"}, {"input_shape"}),
    "AvgPool2d": ({"kernel_size", "stride", "padding"}, set()),
    "SumPool2d": ({"kernel_size", "stride", "padding"}, set()),
    "Flatten": ({"start_dim", "end_dim"}, {"input_type"}),
    "LIF": ({"tau", "r", "v_leak", "v_threshold"}, {"v_reset"}),
    "IF": ({"r", "v_threshold"}, {"v_reset"}),
    "CubaLIF": ({"tau_syn", "tau_mem", "r", "v_leak", "v_threshold"}, {"v_reset", "w_in"}),
}


def conv_out(size, pad, dil, k, stride):
    return (size + 2 * pad - dil * (k - 1) - 1) // stride + 1


def out_shape(kind, nd, in_shape):
    """Output shape of a node as NIR's type inference computes it; also its declared input."""
    if kind == "Input":
        return None, list(nd["shape"])
    if kind == "Output":
        return list(nd["shape"]), list(nd["shape"])
    if kind in ("Affine", "Linear"):
        w = nd["weight"]
        return [w.shape[1]], [w.shape[0]]
    if kind == "Conv2d":
        w = nd["weight"]
        hw = list(nd["input_shape"]) if "input_shape" in nd else in_shape[1:]
        pad, st, dil = nd["padding"], nd["stride"], nd["dilation"]
        return [w.shape[1], *hw], [w.shape[0]] + [conv_out(hw[i], pad[i], dil[i], w.shape[2 + i], st[i]) for i in range(2)]
    if kind in ("AvgPool2d", "SumPool2d"):
        k, st, pad = nd["kernel_size"], nd["stride"], nd["padding"]
        return in_shape, [in_shape[0]] + [conv_out(in_shape[1 + i], pad[i], 1, k[i], st[i]) for i in range(2)]
    if kind == "Flatten":
        it = list(nd["input_type"]) if "input_type" in nd else in_shape
        s, e = int(nd["start_dim"]), int(nd["end_dim"])
        e = e if e >= 0 else len(it) + e
        return it, it[:s] + [int(np.prod(it[s:e + 1]))] + it[e + 1:]
    shape = list(np.shape(nd["v_threshold"]))  # neurons: the shape of their parameters
    return shape, shape


def check(path):
    with h5py.File(path, "r") as f:
        version = f["version"][()]
        assert isinstance(version, bytes), "/version is not a string"
        g = f["node"]
        assert g["type"][()] == b"NIRGraph", "/node/type is not NIRGraph"
        nodes = {}
        for name, grp in g["nodes"].items():
            t = grp["type"][()]
            assert isinstance(t, bytes), f"node {name}: type is not a string"
            kind = t.decode("utf8")
            assert kind in FIELDS, f"node {name}: type {kind} not expected here"
            have = {k for k, v in grp.items() if isinstance(v, h5py.Dataset)} - {"type"}
            groups = {k for k, v in grp.items() if isinstance(v, h5py.Group)}
            need, opt = FIELDS[kind]
            assert need <= have, f"node {name} ({kind}): missing {sorted(need - have)}"
            assert have <= need | opt, f"node {name} ({kind}): unexpected datasets {sorted(have - need - opt)} (nir.read would refuse them)"
            assert groups <= {"metadata"}, f"node {name}: unexpected groups {sorted(groups)}"
            nodes[name] = (kind, {k: grp[k][()] for k in have})
        edges = [(a.decode("utf8"), b.decode("utf8")) for a, b in g["edges"][()]]
    shapes = {}
    order = [n for n, (k, _) in nodes.items() if k == "Input"]
    done = set()
    while order:
        name = order.pop()
        kind, nd = nodes[name]
        srcs = [a for a, b in edges if b == name]
        in_shape = shapes[srcs[0]] if srcs else None
        declared, out = out_shape(kind, nd, in_shape)
        if in_shape is not None and declared is not None:
            assert list(map(int, declared)) == list(map(int, in_shape)), f"type mismatch into {name} ({kind}): {in_shape} -> {declared}"
        shapes[name] = [int(x) for x in out]
        done.add(name)
        order += [b for a, b in edges if a == name and b not in done]
    assert done == set(nodes), f"nodes not reached from the input: {sorted(set(nodes) - done)}"
    print(json.dumps({"ok": True, "version": version.decode("utf8"), "nodes": {n: k for n, (k, _) in nodes.items()},
                      "edges": edges, "shapes": shapes,
                      "weights": {n: list(nd["weight"].shape) for n, (k, nd) in nodes.items() if "weight" in nd}}))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "write":
        nodes, edges = fixture(sys.argv[2])
        nir_write(sys.argv[3], nodes, edges)
    elif len(sys.argv) == 3 and sys.argv[1] == "check":
        try:
            check(sys.argv[2])
        except (AssertionError, KeyError) as e:
            print(json.dumps({"ok": False, "error": str(e)}))
            sys.exit(1)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
