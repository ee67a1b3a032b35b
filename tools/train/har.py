#!/usr/bin/python3
"""Train kagen's activity-recognition demo model (models/har.onnx).

Data: smartphone 6-axis IMU traces of ../shared/data/har-spsw (Matey-Sanz,
Casteleyn, Granell, Data in Brief 51 (2023) 109809, CC BY 4.0), subjects
s01-s19, files DATA/sNN/sNN_EE_sp.csv. Features come from the Go front-end
(`kagen features`): resampled to 50 Hz, orientation-invariant imu-orient
channels (acc/gyro along gravity, across gravity, norms), windows of
--window samples.

Model: 1-D CNN, four Conv1d+BatchNorm+ReLU blocks (max-pool after the first
three), global average pooling, dropout, Linear to the 5 classes.

Steps (all seeded; Debian's PyTorch; 2 threads):
  --cv      leave-subjects-out cross-validation: the 19 subjects in 5 folds;
            each fold trains on the other subjects (two of them held aside
            as the early-stopping validation set), tests on the fold's
            subjects at the spec hop. Writes results/har_cv_wWINDOW.json.
  --final   trains on --train-subjects (s01-s16; s17-s19 kept out for the
            demo trace and the replay/controller evaluation) with the same
            procedure (two training subjects for early stopping), reports
            accuracy on --keep-out, exports ONNX (opset 13, static shape
            [1,6,window]) with the spec and the normalisation computed on the
            training subjects under metadata_props "kagen.frontend".

Usage (from anywhere; the Makefile runs exactly these):
  /usr/bin/python3 tools/train/har.py --cv --window 64
  /usr/bin/python3 tools/train/har.py --final --window 64 --out models/har.onnx

Training windows are cut every --train-hop samples (overlapping windows,
augmentation), evaluation windows every spec hop (--hop, default window/2),
as a replayed stream would be. Augmentation: random gains of the
acceleration and of the angular-rate channels (exact: the imu-orient
channels scale with the raw axes) and Gaussian jitter.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402  (first: sets OMP_WAIT_POLICY before torch loads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

CLASSES = ["SEATED", "STANDING_UP", "WALKING", "TURNING", "SITTING_DOWN"]
CHANNELS = ["acc_along_g", "acc_across_g", "acc_norm", "gyro_along_g", "gyro_across_g", "gyro_norm"]
ACC = [0, 1, 2]
GYRO = [3, 4, 5]
RATE = 50
ALL_SUBJECTS = [f"s{i:02d}" for i in range(1, 20)]


def make_spec(window, hop, norm=None):
    """replay.DefaultHARSpec() with the given window and hop."""
    s = {
        "version": 1,
        "task": "har",
        "sample_rate": RATE,
        "channels": CHANNELS,
        "window": window,
        "hop": hop,
        "features": {"type": "imu-orient", "acc_columns": ["x_acc", "y_acc", "z_acc"],
                     "gyro_columns": ["x_gyro", "y_gyro", "z_gyro"]},
        "classes": CLASSES,
        "input_shape": [1, len(CHANNELS), window],
    }
    if norm is not None:
        s["norm"] = norm
    return s


class HARNet(nn.Module):
    def __init__(self, width=128, kernel=7, n_classes=5, dropout=0.3):
        super().__init__()
        chans = [len(CHANNELS), width // 2, width, width, width]
        ks = [kernel, kernel, 5, 5]
        layers = []
        for i in range(4):
            layers += [nn.Conv1d(chans[i], chans[i + 1], ks[i], padding=ks[i] // 2, bias=False),
                       nn.BatchNorm1d(chans[i + 1]), nn.ReLU()]
            if i < 3:
                layers.append(nn.MaxPool1d(2))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(width, n_classes)

    def forward(self, x):
        x = self.pool(self.features(x))
        return self.fc(self.drop(torch.flatten(x, 1)))


def load(args):
    spec = make_spec(args.window, args.hop)
    out = os.path.join(C.WORK, f"har_w{args.window}_h{args.train_hop}")
    data = os.path.join(C.DATA, "har-spsw", "DATA")
    X, y, g, meta = C.features(spec, [data], out, "--match", "*_sp.csv", "--hop", args.train_hop)
    groups = C.group_names(g, meta)
    starts = np.array([round(w["start"] * RATE) for w in meta["window_list"]])
    on_hop = (starts % args.hop) == 0  # the windows a stream at the spec hop yields
    files = np.array([w["file"] for w in meta["window_list"]])
    return X, y, groups, on_hop, files


def augment(xb, rng, gain, jitter):
    """xb: un-normalised [B,C,T] features. Gain on acc and gyro channels."""
    B = len(xb)
    ga = rng.uniform(1 - gain, 1 + gain, size=(B, 1, 1)).astype(np.float32)
    gg = rng.uniform(1 - gain, 1 + gain, size=(B, 1, 1)).astype(np.float32)
    xb = xb.copy()
    xb[:, ACC] *= ga
    xb[:, GYRO] *= gg
    return xb


def fit(args, X, y, groups, train_g, val_g, seed, tag):
    """Train on windows of train_g subjects, early-stop on val_g subjects
    (at the spec hop is not needed for validation: all windows). Returns
    (model, norm, info)."""
    C.seed_all(seed)
    tr = np.isin(groups, train_g)
    va = np.isin(groups, val_g)
    norm = C.norm_stats(X[tr])
    Xtr, ytr = X[tr], y[tr]
    Xva, yva = C.apply_norm(X[va], norm), y[va]
    rng = np.random.default_rng(seed)

    def batches(ep):
        idx = rng.permutation(len(Xtr))
        for i in range(0, len(idx) - args.batch + 1, args.batch):
            b = idx[i:i + args.batch]
            xb = augment(Xtr[b], rng, args.gain, args.jitter)
            xb = C.apply_norm(xb, norm)
            if args.jitter:
                xb += rng.normal(0, args.jitter, size=xb.shape).astype(np.float32)
            yield xb, ytr[b]

    model = HARNet(args.width, args.kernel, len(CLASSES), args.dropout)
    info = C.train_loop(model, batches, (Xva, yva), epochs=args.epochs, lr=args.lr,
                        weight_decay=args.weight_decay, patience=args.patience,
                        label_smoothing=args.label_smoothing, min_epochs=args.min_epochs,
                        log_prefix=f"[{tag}] ")
    return model, norm, info


def pick_val(train_g, k, seed):
    rng = np.random.default_rng(seed)
    return sorted(rng.choice(sorted(train_g), size=k, replace=False).tolist())


def evaluate(model, norm, X, y, mask):
    logits = C.predict(model, C.apply_norm(X[mask], norm))
    return C.metrics(y[mask], logits.argmax(1), CLASSES)


def run_cv(args, X, y, groups, on_hop):
    folds = C.group_folds(ALL_SUBJECTS, args.folds, seed=args.seed)
    res = []
    t0 = time.time()
    for k, test_g in enumerate(folds):
        train_all = [s for s in ALL_SUBJECTS if s not in test_g]
        val_g = pick_val(train_all, args.val_subjects, args.seed + k)
        train_g = [s for s in train_all if s not in val_g]
        C.log(f"-- fold {k + 1}/{len(folds)}: test {test_g}, early-stopping validation {val_g}")
        model, norm, info = fit(args, X, y, groups, train_g, val_g, args.seed + 100 + k, f"fold {k + 1}")
        m = evaluate(model, norm, X, y, np.isin(groups, test_g) & on_hop)
        m_all = evaluate(model, norm, X, y, np.isin(groups, test_g))
        C.log(f"fold {k + 1}: test {100*m['accuracy']:.1f}% of {m['n']} windows at hop {args.hop} "
              f"(balanced {100*m['balanced_accuracy']:.1f}%; {100*m_all['accuracy']:.1f}% at hop {args.train_hop}); "
              f"best epoch {info['best_epoch']}/{info['epochs_run']}, {info['seconds']:.0f} s")
        res.append({"fold": k + 1, "groups": test_g, "val_groups": val_g, "test": m, "test_train_hop": m_all,
                    "best_epoch": info["best_epoch"], "epochs_run": info["epochs_run"], "seconds": info["seconds"]})
    s = C.summarise_folds(res, CLASSES)
    C.print_summary(s, CLASSES, f"HAR CV window {args.window} hop {args.hop} ({len(folds)} folds by subject)")
    C.log(f"CV time {time.time() - t0:.0f} s")
    return {"window": args.window, "hop": args.hop, "train_hop": args.train_hop, "summary": s, "folds": res,
            "args": vars(args), "seconds": time.time() - t0}


def run_final(args, X, y, groups, on_hop):
    train_all = args.train_subjects.split(",")
    keep = args.keep_out.split(",")
    val_g = pick_val(train_all, args.val_subjects, args.seed)
    train_g = [s for s in train_all if s not in val_g]
    C.log(f"-- final: train {train_g}, early-stopping validation {val_g}, kept out {keep}")
    t0 = time.time()
    model, norm, info = fit(args, X, y, groups, train_g, val_g, args.seed + 1000, "final")
    secs = time.time() - t0
    m = evaluate(model, norm, X, y, np.isin(groups, keep) & on_hop)
    C.log(f"kept-out subjects {keep}: {100*m['accuracy']:.1f}% of {m['n']} windows at hop {args.hop} "
          f"(balanced {100*m['balanced_accuracy']:.1f}%)")
    for c, r in m["per_class"].items():
        C.log(f"   recall {c:>13}: {100*r:.1f}%" if r is not None else f"   recall {c:>13}: -")
    C.log(C.format_confusion(m["confusion"], CLASSES))
    spec = make_spec(args.window, args.hop, norm)
    nparams = C.count_params(model)
    macs = C.count_macs(model, spec["input_shape"])
    C.log(f"parameters {nparams}, MACs {macs}")
    doc = (f"kagen HAR demo: 1-D CNN over imu-orient channels, {args.window} samples at {RATE} Hz; trained on "
           f"{','.join(train_all)} (early stopping on {','.join(val_g)}) of the smartphone/smartwatch HAR dataset "
           f"(Matey-Sanz, Casteleyn, Granell, Data in Brief 51 (2023) 109809, doi:10.1016/j.dib.2023.109809, CC BY 4.0); "
           f"tools/train/har.py")
    size = C.export_onnx(model, spec, args.out, doc)
    C.write_spec(spec, os.path.splitext(args.out)[0] + ".spec.json") if args.write_spec else None
    return {"out": args.out, "bytes": size, "params": nparams, "macs": macs, "train": train_g, "val": val_g,
            "kept_out": keep, "kept_out_metrics": m, "best_epoch": info["best_epoch"],
            "epochs_run": info["epochs_run"], "seconds": secs, "history": info["history"], "args": vars(args),
            "spec": spec}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cv", action="store_true", help="run the leave-subjects-out cross-validation")
    ap.add_argument("--final", action="store_true", help="train the shipped model and export it")
    ap.add_argument("--window", type=int, default=64, help="window in samples at 50 Hz")
    ap.add_argument("--hop", type=int, default=0, help="spec hop (evaluation stride), default window/2")
    ap.add_argument("--train-hop", type=int, default=8, help="stride of the training windows")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--val-subjects", type=int, default=2, help="training subjects held aside for early stopping")
    ap.add_argument("--train-subjects", default=",".join(ALL_SUBJECTS[:16]))
    ap.add_argument("--keep-out", default="s17,s18,s19")
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--kernel", type=int, default=7)
    ap.add_argument("--dropout", type=float, default=0.3)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--min-epochs", type=int, default=8)
    ap.add_argument("--patience", type=int, default=10)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-2)
    ap.add_argument("--label-smoothing", type=float, default=0.05)
    ap.add_argument("--gain", type=float, default=0.15, help="max relative gain change (augmentation)")
    ap.add_argument("--jitter", type=float, default=0.03, help="Gaussian noise std in normalised units")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(C.REPO, "models", "har.onnx"))
    ap.add_argument("--results", default=os.path.join(C.HERE, "results"))
    ap.add_argument("--write-spec", action="store_true", help="also write OUT.spec.json")
    args = ap.parse_args()
    if args.hop == 0:
        args.hop = args.window // 2
    if args.hop % args.train_hop:
        ap.error("--hop must be a multiple of --train-hop")
    if not (args.cv or args.final):
        ap.error("give --cv and/or --final")
    C.print_command()
    C.set_threads(args.threads)
    C.seed_all(args.seed)
    X, y, groups, on_hop, _ = load(args)
    C.log(f"features: X {X.shape}, {on_hop.sum()} windows at hop {args.hop}; per class "
          + ", ".join(f"{c}={int((y == i).sum())}" for i, c in enumerate(CLASSES)))
    tag = f"w{args.window}"
    if args.cv:
        r = run_cv(args, X, y, groups, on_hop)
        C.save_json(r, os.path.join(args.results, f"har_cv_{tag}.json"))
    if args.final:
        r = run_final(args, X, y, groups, on_hop)
        C.save_json(r, os.path.join(args.results, "har_final.json"))


if __name__ == "__main__":
    main()
