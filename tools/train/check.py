#!/usr/bin/python3
"""Check the shipped demo models (models/*.onnx) with kagen itself.

For each model:
  1. reads the front-end spec from its metadata_props "kagen.frontend"
     (onnx), checks the graph (onnx.checker), static input shape = the
     spec's input_shape, the file size (<= 5 MB);
  2. front-end consistency: exports the kept-out data with `kagen features`
     twice, once with the model's spec (normalised by Go) and once without
     its norm, applies the norm as the training scripts do (common.apply_norm)
     and compares (max abs difference);
  3. accuracy with kagen's engine and front-end on the kept-out data:
     `kagen eval MODEL --data DIR --json` (HAR: the smartphone traces of
     s17-s19 copied into WORK/eval/har-keptout; KWS: theo's 500 FSDD clips
     copied into WORK/eval/theo, one window per clip);
  4. `kagen inspect MODEL` for parameters and MACs.
Writes results/check.json and prints everything.

Usage: /usr/bin/python3 tools/train/check.py [--models har,har-mobilenet,har-lstm,kws,kws-ds]
"""

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402

KEPT = {"har": ["s17", "s18", "s19"], "kws": ["theo"]}


def eval_dirs():
    d = os.path.join(C.WORK, "eval")
    har = os.path.join(d, "har-keptout")
    theo = os.path.join(d, "theo")
    for p in [har, theo]:
        if os.path.isdir(p):
            shutil.rmtree(p)
        os.makedirs(p)
    for s in KEPT["har"]:
        for f in sorted(glob.glob(os.path.join(C.DATA, "har-spsw", "DATA", s, f"{s}_*_sp.csv"))):
            shutil.copy(f, har)
    for f in sorted(glob.glob(os.path.join(C.DATA, "fsdd", "recordings", "*_theo_*.wav"))):
        shutil.copy(f, theo)
    return {"har": har, "kws": theo}


def model_spec(path):
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    props = {p.key: p.value for p in m.metadata_props}
    spec = json.loads(props[C.SPEC_KEY])
    dims = [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
    assert dims == spec["input_shape"], (dims, spec["input_shape"])
    return spec, m.opset_import[0].version


def has_command(name):
    out = subprocess.run([C.kagen_bin(), "help"], capture_output=True, text=True).stdout
    return re.search(rf"^\s+{name}\s", out, re.M) is not None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="har,har-mobilenet,har-lstm,kws,kws-ds")
    ap.add_argument("--out", default=os.path.join(C.HERE, "results", "check.json"))
    args = ap.parse_args()
    C.print_command()
    dirs = eval_dirs()
    can_eval = has_command("eval")
    res = {}
    for name in args.models.split(","):
        path = os.path.join(C.REPO, "models", name + ".onnx")
        spec, opset = model_spec(path)
        task = spec["task"]
        size = os.path.getsize(path)
        r = {"file": os.path.relpath(path, C.REPO), "bytes": size, "opset": opset, "input_shape": spec["input_shape"],
             "kept_out": KEPT[task]}
        C.log(f"== {name}: {size} bytes, opset {opset}, input {spec['input_shape']}, task {task}")
        assert size <= C.MAX_MODEL_BYTES
        # front-end consistency on the kept-out data
        opts = ["--one-per-clip"] if task == "kws" else []
        w = os.path.join(C.WORK, "check", name)
        raw_spec = {k: v for k, v in spec.items() if k != "norm"}
        Xg, yg, _, _ = C.features(spec, [dirs[task]], w + "-norm", *opts, cache=False)
        Xr, yr, _, _ = C.features(raw_spec, [dirs[task]], w + "-raw", *opts, cache=False)
        Xp = C.apply_norm(Xr, spec["norm"])
        diff = float(np.abs(Xg - Xp).max())
        assert (yg == yr).all()
        C.log(f"front-end: {len(yg)} windows; Go-normalised vs training normalisation: max abs diff {diff:.3g}")
        r["norm_max_abs_diff"] = diff
        r["windows"] = int(len(yg))
        # inspect
        out = C.kagen("inspect", path, quiet=True)
        mm = re.search(r"(\d+) parameters, (\d+) MACs per inference", out)
        if mm:
            r["params"], r["macs"] = int(mm.group(1)), int(mm.group(2))
            C.log(f"inspect: {r['params']} parameters, {r['macs']} MACs per inference")
        # accuracy with kagen's engine
        if can_eval:
            cmd = ["eval", path, "--data", dirs[task], "--json"]
            ev = json.loads(C.kagen(*cmd, quiet=True))
            r["eval_command"] = "kagen " + " ".join(os.path.relpath(c, C.REPO) if os.path.isabs(c) else c for c in cmd)
            r["eval"] = ev
            acc = ev.get("accuracy", ev.get("Accuracy"))
            C.log(f"kagen eval on {KEPT[task]}: accuracy {100*acc:.2f}% of {ev.get('n', ev.get('N'))} windows")
            txt = C.kagen("eval", path, "--data", dirs[task], quiet=True)
            C.log(txt)
        else:
            C.log("kagen eval is not available in this checkout: accuracy not measured with the engine")
        res[name] = r
    C.save_json(res, args.out)


if __name__ == "__main__":
    main()
