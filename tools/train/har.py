#!/usr/bin/python3
"""Train kagen's activity-recognition models (models/har.onnx,
har-mobilenet.onnx, har-lstm.onnx).

Data: smartphone 6-axis IMU traces of ../shared/data/har-spsw (Matey-Sanz,
Casteleyn, Granell, Data in Brief 51 (2023) 109809, CC BY 4.0), subjects
s01-s19, files DATA/sNN/sNN_EE_sp.csv. Features come from the Go front-end
(`kagen features`): resampled to 50 Hz, orientation-invariant imu-orient
channels (acc/gyro along gravity, across gravity, norms), windows of
--window samples.

Models (--arch):
  cnn        har.onnx: four Conv1d+BatchNorm+ReLU blocks (max-pool after the
             first three), global average pooling, dropout, Linear to the 5
             classes.
  mobilenet  har-mobilenet.onnx: MobileNetV2 in 1-D (Sandler et al. 2018):
             conv stem, the 17 inverted residual blocks of MobileNetV2's
             table (1x1 expansion, depthwise k=5, linear 1x1 projection,
             ReLU6, identity shortcuts) at width 0.3, a final 1x1 conv to
             128 channels, global average pooling, Linear: 52 convolutions.
  lstm       har-lstm.onnx: DeepConvLSTM (Ordonez & Roggen 2016): four
             Conv1d layers of 64 channels (max-pool 2 after the first and
             third), a two-layer LSTM of 64 units over the 16 steps, the
             last step through Linear. Exported as two ONNX LSTM nodes.

Steps (all seeded; Debian's PyTorch; 2 threads, 1 for the newer architectures):
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
  /usr/bin/python3 tools/train/har.py --arch mobilenet --cv --window 64 --threads 1
  /usr/bin/python3 tools/train/har.py --arch mobilenet --final --window 64 --threads 1 --out models/har-mobilenet.onnx
  /usr/bin/python3 tools/train/har.py --arch lstm --cv --window 64 --threads 1
  /usr/bin/python3 tools/train/har.py --arch lstm --final --window 64 --threads 1 --out models/har-lstm.onnx
Results: results/har_cv_[ARCH_]w64.json and results/har_final[_ARCH].json
(no ARCH for cnn). --final also writes 32
kept-out windows and PyTorch's logits as an ONNX backend test and runs
`kagen conformance` on it (the engine against PyTorch, rtol 1e-4).

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


def _ch(c, mult, div=8):
    """MobileNetV2's channel rounding: c*mult to a multiple of div, never
    below 90% of c*mult."""
    v = max(div, int(c * mult + div / 2) // div * div)
    return v + div if v < 0.9 * c * mult else v


class InvertedResidual(nn.Module):
    """MobileNetV2's block in 1-D: 1x1 expansion (omitted when t=1),
    depthwise kxk with the block's stride, linear 1x1 projection, each with
    BatchNorm; ReLU6 after the first two; identity shortcut when the stride
    is 1 and the channels match."""

    def __init__(self, cin, cout, stride, t, kernel):
        super().__init__()
        hid = cin * t
        layers = []
        if t != 1:
            layers += [nn.Conv1d(cin, hid, 1, bias=False), nn.BatchNorm1d(hid), nn.ReLU6()]
        layers += [nn.Conv1d(hid, hid, kernel, stride, kernel // 2, groups=hid, bias=False), nn.BatchNorm1d(hid),
                   nn.ReLU6(), nn.Conv1d(hid, cout, 1, bias=False), nn.BatchNorm1d(cout)]
        self.conv = nn.Sequential(*layers)
        self.res = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.conv(x) if self.res else self.conv(x)


# MobileNetV2's (expansion t, channels c, blocks n, first stride s) table
# (Sandler et al. 2018, table 2); the 1-D version keeps the 17 blocks and
# the strides that fit a 64-sample window (the 32x reduction of the
# 224x224 network would leave 2 samples: the stem and the 64-channel stage
# keep stride 1, so 64 samples end as 8).
MBV2_TABLE = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 1), (6, 96, 3, 1), (6, 160, 3, 2),
              (6, 320, 1, 1)]


class HARMobileNet(nn.Module):
    """MobileNetV2 in 1-D: conv stem, 17 inverted residual blocks (52
    convolutions with the stem and the final 1x1), global average pooling,
    dropout, Linear. width scales every channel count; kernel is the
    depthwise kernel."""

    def __init__(self, width=0.3, kernel=5, n_classes=5, dropout=0.2, last=128):
        super().__init__()
        cin = _ch(32, width)
        layers = [nn.Conv1d(len(CHANNELS), cin, 3, 1, 1, bias=False), nn.BatchNorm1d(cin), nn.ReLU6()]
        for t, c, n, s in MBV2_TABLE:
            cout = _ch(c, width)
            for i in range(n):
                layers.append(InvertedResidual(cin, cout, s if i == 0 else 1, t, kernel))
                cin = cout
        layers += [nn.Conv1d(cin, last, 1, bias=False), nn.BatchNorm1d(last), nn.ReLU6()]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(last, n_classes)

    def forward(self, x):
        x = self.pool(self.features(x))
        return self.fc(self.drop(torch.flatten(x, 1)))


class HARConvLSTM(nn.Module):
    """DeepConvLSTM (Ordonez & Roggen 2016) for the 64-sample window: four
    Conv1d+BatchNorm+ReLU layers (max-pool 2 after the second and the
    fourth, so the recurrent layers see 16 steps of 80 ms), a two-layer
    LSTM, the last step's hidden state through dropout and Linear."""

    def __init__(self, width=64, hidden=64, kernel=5, n_classes=5, dropout=0.3, layers=2):
        super().__init__()
        c = [len(CHANNELS), width, width, width, width]
        conv = []
        for i in range(4):
            conv += [nn.Conv1d(c[i], c[i + 1], kernel, padding=kernel // 2, bias=False), nn.BatchNorm1d(c[i + 1]),
                     nn.ReLU()]
            if i in (0, 2):
                conv.append(nn.MaxPool1d(2))
        self.features = nn.Sequential(*conv)
        self.lstm = nn.LSTM(width, hidden, num_layers=layers, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(hidden, n_classes)

    def forward(self, x):
        x = self.features(x).transpose(1, 2)  # [B, T, C]
        out, _ = self.lstm(x)
        return self.fc(self.drop(out[:, -1]))


ARCHS = {
    "cnn": lambda a: HARNet(a.width, a.kernel, len(CLASSES), a.dropout),
    "mobilenet": lambda a: HARMobileNet(a.width_mult, a.kernel, len(CLASSES), a.dropout, a.last),
    "lstm": lambda a: HARConvLSTM(a.width, a.hidden, a.kernel, len(CLASSES), a.dropout, a.lstm_layers),
}

# Per-architecture defaults of the flags left unset (None) on the command line.
# The two newer architectures train on windows every 16 samples (every 8 for
# the CNN) in batches of 128 for 8 epochs: a fraction of the CNN's work per fold, because
# a 52-layer network and an LSTM cost several times more per window to train
# on this shared 2-core machine.
_TRAIN = {"cnn": {"train_hop": 8, "epochs": 30, "min_epochs": 8, "patience": 10, "batch": 64},
          "new": {"train_hop": 16, "epochs": 8, "min_epochs": 5, "patience": 3, "batch": 128}}
ARCH_DEFAULTS = {
    "cnn": {"width": 128, "kernel": 7, "dropout": 0.3, "lr": 2e-3, **_TRAIN["cnn"]},
    "mobilenet": {"width": 0, "kernel": 5, "dropout": 0.2, "lr": 4e-3, **_TRAIN["new"]},
    "lstm": {"width": 64, "kernel": 5, "dropout": 0.3, "lr": 3e-3, **_TRAIN["new"]},
}

DESCRIPTION = {
    "cnn": "1-D CNN",
    "mobilenet": "1-D MobileNetV2 (17 inverted residual blocks, depthwise convolutions)",
    "lstm": "DeepConvLSTM (4 Conv1d layers, 2-layer LSTM)",
}


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


def mixup(xb, yb, rng, alpha):
    """mixup (Zhang et al. 2018) on a normalised minibatch: each window
    mixed with another of the batch with a weight lam ~ Beta(alpha, alpha)
    (per window, the larger of lam and 1-lam kept on the window itself),
    the one-hot labels mixed alike (soft targets)."""
    lam = rng.beta(alpha, alpha, size=len(xb)).astype(np.float32)
    lam = np.maximum(lam, 1 - lam)
    perm = rng.permutation(len(xb))
    xm = lam[:, None, None] * xb + (1 - lam[:, None, None]) * xb[perm]
    onehot = np.eye(len(CLASSES), dtype=np.float32)[yb]
    ym = lam[:, None] * onehot + (1 - lam[:, None]) * onehot[perm]
    return xm.astype(np.float32), ym


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
            if args.mixup:
                yield mixup(xb, ytr[b], rng, args.mixup)
            else:
                yield xb, ytr[b]

    model = ARCHS[args.arch](args)
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


def run_cv(args, X, y, groups, on_hop, partial=None):
    """Cross-validation; the folds done so far are saved to partial (if given)
    after each fold, so that an interrupted run keeps them."""
    folds = C.group_folds(ALL_SUBJECTS, args.folds, seed=args.seed)
    res = []
    t0 = time.time()
    only = {int(v) for v in args.only_folds.split(",") if v}
    for k, test_g in enumerate(folds):
        if only and k + 1 not in only:
            continue
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
        if partial:
            C.save_json({"window": args.window, "hop": args.hop, "train_hop": args.train_hop, "partial": True,
                         "folds": res, "args": vars(args), "seconds": time.time() - t0}, partial)
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
    doc = (f"kagen HAR demo: {DESCRIPTION[args.arch]} over imu-orient channels, {args.window} samples at {RATE} Hz; trained on "
           f"{','.join(train_all)} (early stopping on {','.join(val_g)}) of the smartphone/smartwatch HAR dataset "
           f"(Matey-Sanz, Casteleyn, Granell, Data in Brief 51 (2023) 109809, doi:10.1016/j.dib.2023.109809, CC BY 4.0); "
           f"tools/train/har.py")
    size = C.export_onnx(model, spec, args.out, doc)
    ref = write_reference(model, C.apply_norm(X[np.isin(groups, keep) & on_hop], norm), args.out, args.ref_windows)
    torch.save(model.state_dict(), os.path.join(C.WORK, f"har_{args.arch}_final.pt"))
    C.write_spec(spec, os.path.splitext(args.out)[0] + ".spec.json") if args.write_spec else None
    return {"out": args.out, "bytes": size, "params": nparams, "macs": macs, "train": train_g, "val": val_g,
            "kept_out": keep, "kept_out_metrics": m, "best_epoch": info["best_epoch"],
            "epochs_run": info["epochs_run"], "seconds": secs, "history": info["history"], "args": vars(args),
            "spec": spec, "reference": ref}


def write_reference(model, Xn, onnx_path, n):
    """Check that kagen's engine computes what PyTorch computes: n kept-out
    windows (normalised as replay normalises them, evenly spread) and
    PyTorch's logits for them as ONNX backend test cases
    (WORK/reference/NAME/{model.onnx,test_data_set_K/{input_0,output_0}.pb}),
    run by `kagen conformance` (rtol 1e-4, atol 1e-5). Returns the command,
    its verdict and the largest logit."""
    import shutil
    import onnx.numpy_helper as nh

    name = os.path.splitext(os.path.basename(onnx_path))[0]
    d = os.path.join(C.WORK, "reference", name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    shutil.copy(onnx_path, os.path.join(d, "model.onnx"))
    idx = np.linspace(0, len(Xn) - 1, n).round().astype(int)
    model.eval()
    big = 0.0
    for k, i in enumerate(idx):
        x = Xn[i:i + 1]
        with torch.no_grad():
            out = model(torch.from_numpy(x)).numpy()
        big = max(big, float(np.abs(out).max()))
        t = os.path.join(d, f"test_data_set_{k}")
        os.makedirs(t)
        for fn, arr, nm in [("input_0.pb", x, "input"), ("output_0.pb", out, "logits")]:
            with open(os.path.join(t, fn), "wb") as f:
                f.write(nh.from_array(arr, nm).SerializeToString())
    txt = C.kagen("conformance", d)
    return {"command": f"kagen conformance {os.path.relpath(d, C.HERE)}", "windows": int(n), "output": txt.strip(),
            "max_abs_logit": big}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cv", action="store_true", help="run the leave-subjects-out cross-validation")
    ap.add_argument("--final", action="store_true", help="train the shipped model and export it")
    ap.add_argument("--window", type=int, default=64, help="window in samples at 50 Hz")
    ap.add_argument("--hop", type=int, default=0, help="spec hop (evaluation stride), default window/2")
    ap.add_argument("--train-hop", type=int, default=None, help="stride of the training windows")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--val-subjects", type=int, default=2, help="training subjects held aside for early stopping")
    ap.add_argument("--train-subjects", default=",".join(ALL_SUBJECTS[:16]))
    ap.add_argument("--keep-out", default="s17,s18,s19")
    ap.add_argument("--arch", choices=sorted(ARCHS), default="cnn",
                    help="cnn (har.onnx), mobilenet (har-mobilenet.onnx) or lstm (har-lstm.onnx)")
    ap.add_argument("--width", type=int, default=None, help="channels (cnn: last conv; lstm: every conv)")
    ap.add_argument("--width-mult", type=float, default=0.3, help="mobilenet: MobileNetV2 width multiplier")
    ap.add_argument("--last", type=int, default=128, help="mobilenet: channels of the final 1x1 convolution")
    ap.add_argument("--hidden", type=int, default=64, help="lstm: hidden units per LSTM layer")
    ap.add_argument("--lstm-layers", type=int, default=2, help="lstm: stacked LSTM layers")
    ap.add_argument("--kernel", type=int, default=None, help="convolution kernel (mobilenet: depthwise)")
    ap.add_argument("--dropout", type=float, default=None)
    ap.add_argument("--only-folds", default="", help="run only these CV folds (1-based, comma-separated; pilots)")
    ap.add_argument("--tag", default="", help="suffix of the results file names")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--min-epochs", type=int, default=None)
    ap.add_argument("--patience", type=int, default=None)
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--weight-decay", type=float, default=1e-2)
    ap.add_argument("--label-smoothing", type=float, default=0.05)
    ap.add_argument("--gain", type=float, default=0.15, help="max relative gain change (augmentation)")
    ap.add_argument("--mixup", type=float, default=0.0,
                    help="mixup alpha (0: off): windows and labels mixed within each minibatch")
    ap.add_argument("--jitter", type=float, default=0.03, help="Gaussian noise std in normalised units")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(C.REPO, "models", "har.onnx"))
    ap.add_argument("--results", default=os.path.join(C.HERE, "results"))
    ap.add_argument("--ref-windows", type=int, default=32,
                    help="kept-out windows checked against PyTorch with kagen conformance (--final)")
    ap.add_argument("--write-spec", action="store_true", help="also write OUT.spec.json")
    args = ap.parse_args()
    for k, v in ARCH_DEFAULTS[args.arch].items():
        if getattr(args, k) is None:
            setattr(args, k, v)
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
    arch = "" if args.arch == "cnn" else args.arch + "_"
    tag = f"{arch}w{args.window}" + (f"_{args.tag}" if args.tag else "")
    if args.cv:
        out = os.path.join(args.results, f"har_cv_{tag}.json")
        r = run_cv(args, X, y, groups, on_hop, partial=out)
        C.save_json(r, out)
    if args.final:
        r = run_final(args, X, y, groups, on_hop)
        name = "har_final.json" if args.arch == "cnn" else f"har_final_{args.arch}" + (f"_{args.tag}" if args.tag else "") + ".json"
        C.save_json(r, os.path.join(args.results, name))


if __name__ == "__main__":
    main()
