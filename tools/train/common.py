#!/usr/bin/python3
"""Shared helpers for the kagen demo-model training scripts (har.py, kws.py).

Run the scripts with Debian's PyTorch and onnx (python3-torch, python3-onnx),
i.e. /usr/bin/python3, from anywhere; paths default to this checkout.

What lives here:
  - kagen():            runs the Go CLI (`kagen features ...`), the single
                        source of truth for features; built once into the
                        work directory from this checkout (or $KAGEN).
  - load_features():    reads X.npy, y.npy, g.npy and meta.json.
  - norm_stats(), apply_norm():
                        per-channel (IMU) or per-feature-row (audio) mean and
                        std over the training windows, applied exactly as
                        replay applies spec.norm: float32((x - mean) / std)
                        with the row index on axis 1 (IMU [N,C,T]) or the
                        last axis (audio [N,1,frames,features]).
  - group_folds():      leave-groups-out folds (by subject or speaker).
  - metrics():          accuracy, per-class recall, confusion matrix.
  - train_loop():       minibatch training with early stopping on a
                        validation set, best weights restored.
  - export_onnx():      opset 13, static shapes, metadata_props
                        "kagen.frontend" = the spec JSON (with norm), checked
                        with onnx.checker.

Every script prints the exact command line it was run with and seeds
Python, NumPy and torch.
"""

import json
import math
import os

# OpenMP threads that spin while waiting make PyTorch 10x slower on a shared,
# oversubscribed machine; wait passively instead (before torch loads OpenMP).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import random
import shlex
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn

OPSET = 13
SPEC_KEY = "kagen.frontend"
MAX_MODEL_BYTES = 5_000_000

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
DATA = os.environ.get("KAGEN_DATA", os.path.abspath(os.path.join(REPO, "..", "shared", "data")))
WORK = os.environ.get("KAGEN_TRAIN_WORK", os.path.join(HERE, "work"))


def log(*a):
    print(*a, flush=True)


def print_command():
    """Print the exact command this script was run with."""
    log("command: " + " ".join(shlex.quote(a) for a in [sys.executable] + sys.argv))
    log("cwd: " + os.getcwd())


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def set_threads(n=2):
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass


# ---------------------------------------------------------------- kagen CLI

_KAGEN = None


def kagen_bin():
    """Path of the kagen binary: $KAGEN, else built from this checkout into
    WORK/kagen (rebuilt on every run of a script, which takes seconds when
    nothing changed)."""
    global _KAGEN
    if _KAGEN:
        return _KAGEN
    if os.environ.get("KAGEN"):
        _KAGEN = os.environ["KAGEN"]
        return _KAGEN
    os.makedirs(WORK, exist_ok=True)
    out = os.path.join(WORK, "kagen")
    log(f"building kagen: go build -o {out} . (in {REPO})")
    subprocess.run(["go", "build", "-o", out, "."], cwd=REPO, check=True)
    _KAGEN = out
    return out


def kagen(*args, quiet=False):
    """Run `kagen ARGS...`, print the command, return its stdout."""
    cmd = [kagen_bin()] + [str(a) for a in args]
    log("$ " + " ".join(shlex.quote(c) for c in cmd))
    t = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit(f"kagen failed with status {p.returncode}")
    if not quiet:
        for line in (p.stdout + p.stderr).splitlines():
            log("  " + line[:300])
    log(f"  ({time.time() - t:.1f} s)")
    return p.stdout


def write_spec(spec, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(spec, f, indent=2)
        f.write("\n")
    return path


def features(spec, data, out, *opts, cache=True):
    """Export features with `kagen features` unless out/ already holds an
    export made with the same spec, data and options. Returns the loaded
    features (see load_features)."""
    spec_path = os.path.join(out + ".spec.json")
    key = json.dumps({"spec": spec, "data": list(data), "opts": [str(o) for o in opts]}, sort_keys=True)
    stamp = os.path.join(out, ".key")
    if not (cache and os.path.exists(stamp) and open(stamp).read() == key):
        write_spec(spec, spec_path)
        args = ["features", "--spec", spec_path]
        for d in data:
            args += ["--data", d]
        args += ["-o", out] + list(opts)
        kagen(*args)
        with open(stamp, "w") as f:
            f.write(key)
    else:
        log(f"features: reusing {out}")
    return load_features(out)


def load_features(d):
    """X (float32), y (int64), g (int64 group index), meta (dict) from a
    `kagen features` output directory; meta['groups'] names the groups and
    meta['window_list'] describes each window."""
    X = np.load(os.path.join(d, "X.npy"))
    y = np.load(os.path.join(d, "y.npy"))
    g = np.load(os.path.join(d, "g.npy"))
    with open(os.path.join(d, "meta.json")) as f:
        meta = json.load(f)
    assert len(X) == len(y) == len(g) == len(meta["window_list"]), d
    return X, y, g, meta


def group_names(g, meta):
    """Group name (subject or speaker) of every window."""
    names = np.array(meta["groups"], dtype=object)
    return names[g]


# ---------------------------------------------------------- normalisation

def norm_axes(X):
    """Reduction axes for the statistics: all but the channel axis (IMU
    [N,C,T]: axis 1) or the feature axis (audio [N,1,frames,F]: last)."""
    if X.ndim == 3:
        return (0, 2)
    return tuple(range(X.ndim - 1))


def norm_stats(X):
    """Mean and std (float64 lists) per channel / feature row."""
    ax = norm_axes(X)
    Xd = X.astype(np.float64)
    mean = Xd.mean(axis=ax)
    std = Xd.std(axis=ax)
    std = np.maximum(std, 1e-6)
    return {"mean": [float(v) for v in mean], "std": [float(v) for v in std]}


def apply_norm(X, norm):
    """float32((x - mean[i]) * (1/std[i])), i the channel (axis 1 of IMU
    [N,C,T]) or the feature row (last axis of audio): what replay does."""
    mean = np.asarray(norm["mean"], dtype=np.float64)
    inv = 1.0 / np.asarray(norm["std"], dtype=np.float64)
    if X.ndim == 3:
        shape = (1, -1, 1)
    else:
        shape = (1,) * (X.ndim - 1) + (-1,)
    return ((X.astype(np.float64) - mean.reshape(shape)) * inv.reshape(shape)).astype(np.float32)


# ---------------------------------------------------------------- folds

def group_folds(groups, k, seed=0):
    """Split the sorted unique group names into k folds of (almost) equal
    size after a seeded shuffle. Returns a list of lists of group names."""
    u = sorted(set(groups))
    rng = random.Random(seed)
    rng.shuffle(u)
    folds = [sorted(u[i::k]) for i in range(k)]
    return folds


# ---------------------------------------------------------------- metrics

def confusion(y_true, y_pred, n):
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return cm


def metrics(y_true, y_pred, classes):
    """accuracy, per-class recall (None for absent classes), balanced
    accuracy (mean recall over present classes), confusion (rows: truth)."""
    n = len(classes)
    cm = confusion(y_true, y_pred, n)
    tot = cm.sum()
    acc = float(np.trace(cm) / tot) if tot else float("nan")
    rec = {}
    for i, c in enumerate(classes):
        s = cm[i].sum()
        rec[c] = float(cm[i, i] / s) if s else None
    pres = [v for v in rec.values() if v is not None]
    return {"accuracy": acc, "n": int(tot), "per_class": rec,
            "balanced_accuracy": float(np.mean(pres)) if pres else float("nan"),
            "confusion": cm.tolist()}


def format_confusion(cm, classes):
    w = max(6, max(len(c) for c in classes) + 1)
    lines = ["truth\\pred".ljust(w) + "".join(c[:w - 1].rjust(w) for c in classes)]
    for c, row in zip(classes, cm):
        lines.append(c.ljust(w) + "".join(str(v).rjust(w) for v in row))
    return "\n".join(lines)


def summarise_folds(results, classes, key="test"):
    """Mean, std, min (worst fold) of accuracy and per-class recall across
    fold results [{'fold':.., 'groups':.., key: metrics}]."""
    accs = [r[key]["accuracy"] for r in results]
    out = {"accuracy_mean": float(np.mean(accs)), "accuracy_std": float(np.std(accs)),
           "accuracy_min": float(np.min(accs)), "accuracy_max": float(np.max(accs)),
           "worst_fold": results[int(np.argmin(accs))]["groups"],
           "per_fold": [{"groups": r["groups"], "accuracy": r[key]["accuracy"], "n": r[key]["n"]} for r in results]}
    bal = [r[key]["balanced_accuracy"] for r in results]
    out["balanced_accuracy_mean"] = float(np.mean(bal))
    pc = {}
    for c in classes:
        v = [r[key]["per_class"][c] for r in results if r[key]["per_class"].get(c) is not None]
        if v:
            pc[c] = {"mean": float(np.mean(v)), "std": float(np.std(v)), "min": float(np.min(v))}
    out["per_class"] = pc
    cm = np.sum([np.asarray(r[key]["confusion"]) for r in results], axis=0)
    out["confusion_pooled"] = cm.tolist()
    out["pooled_accuracy"] = float(np.trace(cm) / cm.sum())
    return out


def print_summary(s, classes, title):
    log(f"== {title}: accuracy mean {100*s['accuracy_mean']:.1f}% +- {100*s['accuracy_std']:.1f} "
        f"(min {100*s['accuracy_min']:.1f}%, max {100*s['accuracy_max']:.1f}%; worst fold {','.join(s['worst_fold'])}); "
        f"balanced {100*s['balanced_accuracy_mean']:.1f}%; pooled {100*s['pooled_accuracy']:.1f}%")
    for f in s["per_fold"]:
        log(f"   fold {','.join(f['groups'])}: {100*f['accuracy']:.1f}% of {f['n']}")
    for c, v in s["per_class"].items():
        log(f"   recall {c:>13}: mean {100*v['mean']:.1f}% +- {100*v['std']:.1f} (min {100*v['min']:.1f}%)")
    log(format_confusion(s["confusion_pooled"], classes))


# ---------------------------------------------------------------- training

def predict(model, X, batch=256, channels_last=False):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(X), batch):
            xb = torch.from_numpy(X[i:i + batch])
            if channels_last:
                xb = xb.contiguous(memory_format=torch.channels_last)
            out.append(model(xb).float())
    return torch.cat(out).numpy() if out else np.zeros((0,))


def train_loop(model, make_batches, val, *, epochs, lr, weight_decay, patience, label_smoothing=0.0,
               class_weight=None, min_epochs=1, channels_last=False, time_budget=None, log_prefix="",
               val_metric=None):
    """Train with AdamW and a cosine learning-rate schedule over `epochs`,
    evaluating on val=(X, y) after each epoch; stop after `patience` epochs
    without improvement of the validation score (default: accuracy, ties
    broken by lower loss) or when time_budget seconds are spent; restore the
    best weights. make_batches(epoch) yields (xb, yb) numpy minibatches
    (already normalised and augmented). Returns a dict with the best epoch
    and the history."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps_per_epoch = None
    sched = None
    cw = torch.tensor(class_weight, dtype=torch.float32) if class_weight is not None else None
    lossf = nn.CrossEntropyLoss(weight=cw, label_smoothing=label_smoothing)
    best, best_state, best_epoch, hist = None, None, -1, []
    t0 = time.time()
    for ep in range(epochs):
        model.train()
        tl, tn, tc = 0.0, 0, 0
        batches = list(make_batches(ep))
        if sched is None:
            steps_per_epoch = len(batches)
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps_per_epoch,
                                                        pct_start=0.15, anneal_strategy="cos",
                                                        div_factor=10, final_div_factor=100)
        for xb, yb in batches:
            xt = torch.from_numpy(xb)
            if channels_last:
                xt = xt.contiguous(memory_format=torch.channels_last)
            yt = torch.from_numpy(yb)
            opt.zero_grad(set_to_none=True)
            out = model(xt)
            loss = lossf(out, yt)
            loss.backward()
            opt.step()
            if sched.last_epoch + 1 < sched.total_steps:
                sched.step()
            tl += float(loss) * len(yb)
            tn += len(yb)
            tc += int((out.argmax(1) == (yt.argmax(1) if yt.ndim == 2 else yt)).sum())  # soft (mixup) targets
        rec = {"epoch": ep + 1, "train_loss": tl / tn, "train_acc": tc / tn, "time": time.time() - t0}
        if val is not None and len(val[0]):
            logits = predict(model, val[0], channels_last=channels_last)
            vy = torch.from_numpy(val[1])
            vloss = float(nn.functional.cross_entropy(torch.from_numpy(logits), vy))
            pred = logits.argmax(1)
            vacc = float((pred == val[1]).mean())
            score = val_metric(val[1], pred) if val_metric else vacc
            rec.update(val_loss=vloss, val_acc=vacc, val_score=score)
            key = (score, -vloss)
            if best is None or key > best:
                best, best_epoch = key, ep + 1
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        hist.append(rec)
        msg = f"{log_prefix}epoch {ep + 1:3d}/{epochs} loss {rec['train_loss']:.4f} acc {100*rec['train_acc']:.1f}%"
        if "val_loss" in rec:
            msg += f" | val loss {rec['val_loss']:.4f} acc {100*rec['val_acc']:.1f}%"
            if val_metric:
                msg += f" score {100*rec['val_score']:.1f}%"
            msg += " *" if best_epoch == ep + 1 else ""
        log(msg + f" | {rec['time']:.0f} s")
        if val is not None and ep + 1 >= min_epochs and ep + 1 - best_epoch >= patience:
            log(f"{log_prefix}early stop: no improvement for {patience} epochs, best epoch {best_epoch}")
            break
        if time_budget and time.time() - t0 > time_budget:
            log(f"{log_prefix}time budget {time_budget:.0f} s reached")
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    return {"best_epoch": best_epoch if best_state is not None else len(hist), "epochs_run": len(hist),
            "history": hist, "seconds": time.time() - t0}


# ---------------------------------------------------------------- model info

def count_params(model):
    return sum(p.numel() for p in model.parameters())


def count_macs(model, input_shape):
    """MACs of Conv and Linear layers for one input (hooks)."""
    macs = [0]

    def conv_hook(m, i, o):
        k = m.weight[0].numel()  # in/groups * kernel
        macs[0] += o.numel() * k

    def lin_hook(m, i, o):
        macs[0] += o.numel() * m.in_features

    hs = []
    for m in model.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d)):
            hs.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hs.append(m.register_forward_hook(lin_hook))
    model.eval()
    with torch.no_grad():
        model(torch.zeros(*input_shape))
    for h in hs:
        h.remove()
    return macs[0]


# ---------------------------------------------------------------- export

def export_onnx(model, spec, path, doc=""):
    """Export model (eval mode, batch 1, static shapes, opset 13) to path
    with spec JSON under metadata_props "kagen.frontend"; check it with
    onnx.checker; return the file size."""
    import onnx

    model = model.eval().to(memory_format=torch.contiguous_format)
    shape = spec["input_shape"]
    dummy = torch.zeros(*shape)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    torch.onnx.export(model, dummy, tmp, opset_version=OPSET, input_names=["input"], output_names=["logits"],
                      do_constant_folding=True, training=torch.onnx.TrainingMode.EVAL, dynamic_axes=None)
    m = onnx.load(tmp)
    os.remove(tmp)
    del m.metadata_props[:]
    p = m.metadata_props.add()
    p.key = SPEC_KEY
    p.value = json.dumps(spec, indent=2)
    m.doc_string = doc
    m.producer_name = "kagen tools/train"
    onnx.checker.check_model(m, full_check=True)
    # static shapes: every input and output dimension is a number
    for vi in list(m.graph.input) + list(m.graph.output):
        for d in vi.type.tensor_type.shape.dim:
            assert d.HasField("dim_value"), f"{vi.name}: dynamic dimension {d}"
    onnx.save(m, path)
    size = os.path.getsize(path)
    log(f"wrote {path}: {size} bytes, opset {OPSET}, input {shape}")
    if size > MAX_MODEL_BYTES:
        raise SystemExit(f"{path}: {size} bytes, limit {MAX_MODEL_BYTES}")
    return size


def save_json(obj, path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
    log(f"wrote {path}")
