#!/usr/bin/python3
"""Train kagen's keyword-spotting demo models: models/kws.onnx
("cnn-trad-fpool3") and models/kws-ds.onnx (DS-CNN, MLPerf Tiny style).

Data: Free Spoken Digit Dataset (Z. Jackson et al., doi:10.5281/zenodo.1342401,
CC BY-SA 4.0), ../shared/data/fsdd/recordings/{digit}_{speaker}_{i}.wav,
speakers jackson, nicolas, theo, yweweler, lucas; optionally extra training
speakers prepared by kws_data.py (asterisk "allison", CC BY-SA 3.0; espeak-ng
and flite synthetic digits) -- chosen by cross-validation (--extras).
Features come from the Go front-end (`kagen features`, replay.DefaultKWSSpec:
8 kHz, 1 s windows, 25 ms Hann frames every 10 ms, 40 HTK log-mel bands,
98 frames x 40), exported once into WORK/kws/ as several sets:

  clip, clip_n20, clip_n10   one centred window per FSDD clip, clean and with
                             white noise 20 / 10 dB below the clip (replay's
                             --noise-snr)
  speed, speed_n15           the same for the speed-perturbed clips (x0.9, x1.1)
  stream, stream_n20, stream_n5
                             the clips played back to back in a seeded random
                             order with 0.6 s gaps (silence, or noise at 20 / 5
                             dB SNR), windows every 0.25 s: keyword windows at
                             natural shifts (label = the clip covering the
                             window centre) and _silence_ windows between clips
  noise                      noise-only traces (all _silence_)
  extra_*                    the same for the extra speakers (--extras)

Training (per epoch, seeded): --epoch-size windows drawn from the training
speakers' sets (a --silence share from the _silence_ windows), then in
Python on the un-normalised log-mel: random gain (+-gain-db: adds a constant,
clamped at ln(log_floor), exact for the front-end's log-mel), random time
shift (+-shift frames, circular), light time/frequency masking; then the
normalisation (per mel band mean/std of the training windows, stored in the
model). AdamW, one-cycle cosine schedule, label smoothing, early stopping on
10% of the training clips (by clip, all their variants held aside).

  --cv      leave-one-speaker-out over the five FSDD speakers: test = the
            held-out speaker's clean clips (one centred window per clip, as
            `kagen eval` on a clip folder), also reported with 10 dB noise
            and on a noisy stream (with _silence_). Writes
            results/kws_cv_ARCH[_TAG].json.
  --final   trains on the FSDD speakers but theo (kept out for the demo and
            replay) plus --extras, reports theo, exports ONNX (opset 13, static
            [1,1,98,40], metadata_props "kagen.frontend" with the norm).

Usage (the Makefile runs exactly these for the shipped models):
  /usr/bin/python3 tools/train/kws_data.py
  /usr/bin/python3 tools/train/kws.py --arch trad --cv --extras allison,espeak,flite \
      --eq-db 6 --extra-weight 0.5 --epochs 10 --tag ext05_eq6_e10
  /usr/bin/python3 tools/train/kws.py --arch trad --final --extras allison,espeak,flite \
      --eq-db 6 --extra-weight 0.5 --epochs 10 --out models/kws.onnx
  /usr/bin/python3 tools/train/kws.py --arch ds --cv --extras allison,espeak,flite \
      --eq-db 6 --extra-weight 0.5 --width 160 --ds-blocks 5 --ds-pool 1,2 \
      --tag w160_b5_p12_ext05_eq6
  /usr/bin/python3 tools/train/kws.py --arch ds --final --extras allison,espeak,flite \
      --eq-db 6 --extra-weight 0.5 --width 160 --ds-blocks 5 --ds-pool 1,2 \
      --out models/kws-ds.onnx
Honk res8 and the keyword transformer (issue 18), with the robust recipe
(--robust: kws_data.py's speed/pitch/room-augmented FSDD copies and
synth-more voices; --masks 2: SpecAugment twice); --cv --final ships the
fold holding out theo (see models/README.md for the runs made):
  /usr/bin/python3 tools/train/kws.py --arch res8 --cv --final --robust --masks 2 --eq-db 6 \
      --extra-weight 0.5 --extras allison,espeak,flite --epochs 10 --epoch-size 2560 --batch 64 \
      --tag robust --out models/kws-res8.onnx
  (--arch kwt ... --out models/kws-kwt.onnx for the transformer; --only SPEAKERS runs some
  folds, --merge A.json,B.json joins runs of disjoint folds)
The first DS-CNN (64 channels, 4 blocks, no pooling: the DS defaults) was
  /usr/bin/python3 tools/train/kws.py --arch ds --cv --extras "" --tag none
"""

import argparse
import glob
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402  (first: sets OMP_WAIT_POLICY before torch loads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

CLASSES = ["_silence_"] + [str(d) for d in range(10)]
SPEAKERS = ["jackson", "lucas", "nicolas", "theo", "yweweler"]
EXTRA = ["allison", "espeak", "flite"]
LOG_FLOOR = 1e-6
LN_FLOOR = float(np.log(LOG_FLOOR))
FRAMES, MELS = 98, 40


def make_spec(norm=None):
    """replay.DefaultKWSSpec()."""
    s = {
        "version": 1,
        "task": "kws",
        "sample_rate": 8000,
        "window": 8000,
        "hop": 4000,
        "features": {"type": "logmel", "frame_length": 200, "frame_hop": 80, "n_fft": 256, "n_mels": MELS,
                     "fmin": 20, "fmax": 4000, "window_fn": "hann", "mel_scale": "htk", "log_floor": LOG_FLOOR},
        "classes": CLASSES,
        "input_shape": [1, 1, FRAMES, MELS],
    }
    if norm is not None:
        s["norm"] = norm
    return s


# ---------------------------------------------------------------- models

class CNNTradFPool3(nn.Module):
    """Sainath & Parada (2015) cnn-trad-fpool3 with BatchNorm: conv 64 20x8,
    max-pool 1x3 (frequency), conv 64 10x4, linear low-rank layer, dense
    128, output. rank 28 instead of the original 32 keeps the file under
    5 MB (35840 x 32 weights alone are 4.6 MB)."""

    def __init__(self, n_classes=11, rank=28, dropout=0.3):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 64, (20, 8), bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.pool = nn.MaxPool2d((1, 3))
        self.conv2 = nn.Conv2d(64, 64, (10, 4), bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        t, f = FRAMES - 19 - 9, (MELS - 7) // 3 - 3
        self.drop = nn.Dropout(dropout)
        self.lin = nn.Linear(64 * t * f, rank, bias=False)
        self.dnn = nn.Linear(rank, 128)
        self.out = nn.Linear(128, n_classes)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn1(self.conv1(x))))
        x = torch.relu(self.bn2(self.conv2(x)))
        x = self.lin(self.drop(torch.flatten(x, 1)))
        x = self.drop(torch.relu(self.dnn(x)))
        return self.out(x)


class DSCNN(nn.Module):
    """MLPerf Tiny KWS DS-CNN: conv `width` 10x4 + BN + ReLU, `blocks`
    depthwise-separable blocks (depthwise 3x3 + BN + ReLU, pointwise 1x1 +
    BN + ReLU), global average pooling, dense. MLPerf's 49x10 MFCC input
    (20 ms frame hop) gives 25x5 maps after its stride-2 conv; on our 98x40
    log-mel (10 ms hop) the first conv strides (4, 2) by default: 25x20
    maps, the same 40 ms time step (stride 2x2 would give 49x20 maps and
    train 2.6x slower on this CPU). `pool_after` lists the (1-based)
    blocks followed by a 2x2 max-pool (stride 2), which widens the
    receptive field of the later blocks (our engine has fast max-pool and
    stride-1 depthwise kernels, no fast strided depthwise). The defaults
    (64 channels, 4 blocks, no pooling) are the first shipped model."""

    def __init__(self, n_classes=11, width=64, dropout=0.4, blocks=4, pool_after=(), stride=(4, 2)):
        super().__init__()
        layers = [nn.Conv2d(1, width, (10, 4), stride=tuple(stride), padding=(4, 1), bias=False), nn.BatchNorm2d(width),
                  nn.ReLU(), nn.Dropout(0.2)]
        for b in range(1, blocks + 1):
            layers += [nn.Conv2d(width, width, 3, padding=1, groups=width, bias=False), nn.BatchNorm2d(width),
                       nn.ReLU(),
                       nn.Conv2d(width, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
            if b in pool_after:
                layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.drop = nn.Dropout(dropout)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(width, n_classes)

    def forward(self, x):
        x = self.pool(self.drop(self.features(x)))
        return self.fc(torch.flatten(x, 1))


class Res8(nn.Module):
    """Honk res8 (Tang & Lin 2018, "Deep residual learning for small-footprint
    keyword spotting"; castorini/honk model.py): conv 3x3 (45 maps) + ReLU,
    average pool 4x3 (98x40 -> 24x13), then `layers` 3x3 convolutions (45
    maps, padding 1, no bias) each followed by ReLU and a BatchNorm without
    affine parameters, a residual connection around every pair (after the
    ReLU of the pair's second conv, before its BatchNorm, as in Honk),
    global average pooling, dense. Input: our 98x40 log-mel instead of
    Honk's 101x40 MFCC."""

    def __init__(self, n_classes=11, maps=45, layers=6, pool=(4, 3), dropout=0.0):
        super().__init__()
        self.conv0 = nn.Conv2d(1, maps, 3, padding=1, bias=False)
        self.pool = nn.AvgPool2d(pool)
        self.convs = nn.ModuleList([nn.Conv2d(maps, maps, 3, padding=1, bias=False) for _ in range(layers)])
        self.bns = nn.ModuleList([nn.BatchNorm2d(maps, affine=False) for _ in range(layers)])
        self.drop = nn.Dropout(dropout)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.out = nn.Linear(maps, n_classes)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv0(x)))
        old = x
        for i, (conv, bn) in enumerate(zip(self.convs, self.bns), start=1):
            y = torch.relu(conv(x))
            if i % 2 == 0:
                x = y + old
                old = x
            else:
                x = y
            x = bn(x)
        return self.out(self.drop(torch.flatten(self.gap(x), 1)))


class KWT(nn.Module):
    """A small keyword transformer (after Berg et al. 2021, KWT): the 98x40
    log-mel cut into patches of `patch` frames x 40 bands (a linear patch
    embedding, written as a strided convolution), learned positional
    embeddings, `layers` pre-norm encoder layers (multi-head self-attention
    with `heads` heads, MLP of 2x width with GELU), a final LayerNorm,
    mean over the tokens, dense. Attention is written out (MatMul, Softmax)
    so that the exported graph uses only opset-13 operators kagen runs."""

    def __init__(self, n_classes=11, dim=64, layers=4, heads=4, patch=2, mlp=2, dropout=0.1):
        super().__init__()
        self.embed = nn.Conv2d(1, dim, (patch, MELS), stride=(patch, MELS))
        self.tokens = FRAMES // patch
        self.pos = nn.Parameter(torch.randn(1, self.tokens, dim) * 0.02)
        self.blocks = nn.ModuleList([EncoderLayer(dim, heads, mlp, dropout) for _ in range(layers)])
        self.norm = nn.LayerNorm(dim)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(dim, n_classes)

    def forward(self, x):
        x = self.embed(x)  # [B, dim, T, 1]
        x = torch.flatten(x, 2).transpose(1, 2) + self.pos  # [B, T, dim]
        for b in self.blocks:
            x = b(x)
        x = self.norm(x).mean(1)
        return self.out(self.drop(x))


class EncoderLayer(nn.Module):
    def __init__(self, dim, heads, mlp, dropout):
        super().__init__()
        self.heads, self.dh = heads, dim // heads
        self.ln1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.ln2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, mlp * dim)
        self.fc2 = nn.Linear(mlp * dim, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        B, T, D = x.shape
        q, k, v = self.qkv(self.ln1(x)).reshape(B, T, 3, self.heads, self.dh).permute(2, 0, 3, 1, 4)
        a = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * (self.dh ** -0.5), dim=-1)
        h = torch.matmul(a, v).transpose(1, 2).reshape(B, T, D)
        x = x + self.drop(self.proj(h))
        return x + self.drop(self.fc2(nn.functional.gelu(self.fc1(self.ln2(x)))))


def build(args):
    if args.arch == "trad":
        return CNNTradFPool3(len(CLASSES), args.rank, args.dropout)
    if args.arch == "res8":
        return Res8(len(CLASSES), args.width, args.res_layers, dropout=args.dropout)
    if args.arch == "kwt":
        return KWT(len(CLASSES), args.width, args.kwt_layers, args.kwt_heads, args.kwt_patch, dropout=args.dropout)
    return DSCNN(len(CLASSES), args.width, args.dropout, args.ds_blocks, ds_pool(args), ds_stride(args))


def ds_pool(args):
    return tuple(int(b) for b in args.ds_pool.split(",") if b)


def ds_stride(args):
    return tuple(int(v) for v in args.ds_stride.split(","))


# ---------------------------------------------------------------- data

class Set:
    """One exported feature set with per-window group, clip id and label."""

    def __init__(self, name, X, y, g, meta):
        self.name, self.X, self.y = name, X, y
        self.groups = C.group_names(g, meta)
        self.clip = np.array([clip_id(w["file"]) for w in meta["window_list"]], dtype=object)


def clip_id(path):
    """7_jackson_32.wav, 7_jackson_32_sp0.9.wav -> 7_jackson_32; other
    files: their base name."""
    b = os.path.basename(path)
    b = b[:-4] if b.lower().endswith(".wav") else b
    p = b.split("_")
    return "_".join(p[:3]) if len(p) >= 3 else b


def export_sets(args):
    spec = make_spec()
    w = os.path.join(C.WORK, "kws")
    fsdd = os.path.join(C.DATA, "fsdd", "recordings")
    audio = os.path.join(C.WORK, "audio")
    speed = os.path.join(audio, "fsdd-speed")
    extra = [p for p in [os.path.join(audio, "asterisk"), os.path.join(audio, "synth")]
             if glob.glob(os.path.join(p, "*.wav"))]
    noise = sorted(glob.glob(os.path.join(audio, "noise", "*.wav")))
    if not os.path.isdir(speed) or not noise:
        raise SystemExit(f"{audio}: run tools/train/kws_data.py first")
    stream = ["--gap", "0.6", "--hop", "2000", "--shuffle"]
    jobs = [
        ("clip", [fsdd], ["--one-per-clip"]),
        ("clip_n20", [fsdd], ["--one-per-clip", "--noise-snr", "20", "--seed", "11"]),
        ("clip_n10", [fsdd], ["--one-per-clip", "--noise-snr", "10", "--seed", "12"]),
        ("speed", [speed], ["--one-per-clip"]),
        ("speed_n15", [speed], ["--one-per-clip", "--noise-snr", "15", "--seed", "13"]),
        ("stream", [fsdd], stream + ["--seed", "21"]),
        ("stream_n20", [fsdd], stream + ["--seed", "22", "--noise-snr", "20"]),
        ("stream_n5", [fsdd], stream + ["--seed", "23", "--noise-snr", "5"]),
        ("noise", noise, ["--hop", "4000"]),
    ]
    if extra:
        jobs += [
            ("extra_clip", extra, ["--one-per-clip"]),
            ("extra_clip_n15", extra, ["--one-per-clip", "--noise-snr", "15", "--seed", "31"]),
            ("extra_stream_n20", extra, stream + ["--seed", "32", "--noise-snr", "20"]),
        ]
    if args.robust:
        aug = os.path.join(audio, "fsdd-aug")
        more = os.path.join(audio, "synth-more")
        if not glob.glob(os.path.join(aug, "*.wav")):
            raise SystemExit(f"{aug}: run tools/train/kws_data.py first (--robust needs fsdd-aug and synth-more)")
        jobs += [
            ("aug", [aug], ["--one-per-clip"]),
            ("aug_n15", [aug], ["--one-per-clip", "--noise-snr", "15", "--seed", "14"]),
            ("extra_more", [more], ["--one-per-clip"]),
            ("extra_more_n15", [more], ["--one-per-clip", "--noise-snr", "15", "--seed", "33"]),
        ]
    sets = {}
    for name, data, opts in jobs:
        X, y, g, meta = C.features(spec, data, os.path.join(w, name), *opts)
        sets[name] = Set(name, X, y, g, meta)
        C.log(f"set {name}: {len(y)} windows, groups {sorted(set(sets[name].groups))}, "
              f"silence {int((y == 0).sum())}")
    return sets


# per-epoch sampling weights of the keyword sources (silence: --silence share)
KW_SOURCES = {"clip": 1.0, "clip_n20": 0.7, "clip_n10": 0.7, "speed": 1.0, "speed_n15": 0.7,
              "stream": 0.7, "stream_n20": 0.7, "stream_n5": 0.5,
              "extra_clip": 1.0, "extra_clip_n15": 1.0, "extra_stream_n20": 0.7,
              # --robust: speed/pitch/room-augmented FSDD clips and more synthetic voices
              "aug": 1.5, "aug_n15": 1.0, "extra_more": 1.5, "extra_more_n15": 1.0}
SIL_SOURCES = {"stream": 1.0, "stream_n20": 1.0, "stream_n5": 1.0, "noise": 0.7, "extra_stream_n20": 0.5}


def pools(sets, groups, exclude_clips):
    """Index pools {(set, 'kw'|'sil'): indices} of windows whose group is in
    groups and whose clip is not in exclude_clips."""
    out = {}
    for name, s in sets.items():
        m = np.isin(s.groups, list(groups))
        if name == "noise":
            m = np.ones(len(s.y), bool)
        if exclude_clips:
            m &= ~np.isin(s.clip, list(exclude_clips))
        if name in KW_SOURCES:
            idx = np.nonzero(m & (s.y != 0))[0]
            if len(idx):
                out[(name, "kw")] = idx
        if name in SIL_SOURCES:
            idx = np.nonzero(m & (s.y == 0))[0]
            if len(idx):
                out[(name, "sil")] = idx
    return out


def sample_epoch(sets, pool, n, sil_share, rng, extra_weight):
    """Draw n (set, index) pairs: sil_share from silence pools, the rest
    from keyword pools, each pool by its weight."""
    def draw(kind, weights, k):
        keys = [key for key in pool if key[1] == kind]
        w = np.array([weights[key[0]] * (extra_weight if key[0].startswith("extra") else 1.0) for key in keys])
        w = w / w.sum()
        counts = rng.multinomial(k, w)
        res = []
        for key, c in zip(keys, counts):
            if c:
                res += [(key[0], int(i)) for i in rng.choice(pool[key], size=c, replace=c > len(pool[key]))]
        return res
    k_sil = int(round(n * sil_share))
    items = draw("kw", KW_SOURCES, n - k_sil) + draw("sil", SIL_SOURCES, k_sil)
    order = rng.permutation(len(items))
    return [items[i] for i in order]


def gather(sets, items):
    X = np.stack([sets[s].X[i] for s, i in items])
    y = np.array([sets[s].y[i] for s, i in items], dtype=np.int64)
    return X, y


def augment(X, rng, args):
    """Un-normalised log-mel [B,1,T,F]: gain, shift, masks."""
    X = X.copy()
    B = len(X)
    # Gain g multiplies every power by g^2: ln-mel + 2 ln g, except energies
    # at the floor (digital silence stays silent); the same for a random
    # equaliser (a smooth per-band offset: a linear filter changes each mel
    # band's energy by about its gain there), simulating other microphones.
    off = np.zeros((B, 1, 1, MELS), np.float64)
    if args.gain_db:
        off += rng.uniform(-args.gain_db, args.gain_db, size=(B, 1, 1, 1))
    if args.eq_db:
        f = np.linspace(0, 1, MELS)
        tilt = rng.uniform(-1, 1, size=(B, 1)) * (f - 0.5) * 2
        bump = sum(rng.uniform(-1, 1, size=(B, 1)) * np.cos(np.pi * k * f + rng.uniform(0, 2 * np.pi, size=(B, 1)))
                   for k in (1, 2, 3)) / 3
        off += (args.eq_db * (0.5 * tilt + 0.5 * bump)).reshape(B, 1, 1, MELS)
    if args.gain_db or args.eq_db:
        live = X > np.float32(LN_FLOOR + 1e-4)
        X = np.where(live, np.maximum(X + (off * np.log(10) / 10).astype(np.float32), np.float32(LN_FLOOR)), X)
    if args.shift:
        for b in range(B):
            k = int(rng.integers(-args.shift, args.shift + 1))
            if k:
                X[b] = np.roll(X[b], k, axis=1)
    return X


def mask(Xn, rng, args):
    """Time and frequency masks on normalised features (set to 0, the mean)."""
    B = len(Xn)
    for b in range(B):
        for _ in range(args.masks):
            if args.freq_mask and rng.random() < 0.5:
                w = int(rng.integers(1, args.freq_mask + 1))
                f0 = int(rng.integers(0, MELS - w))
                Xn[b, :, :, f0:f0 + w] = 0
            if args.time_mask and rng.random() < 0.5:
                w = int(rng.integers(1, args.time_mask + 1))
                t0 = int(rng.integers(0, FRAMES - w))
                Xn[b, :, t0:t0 + w, :] = 0
    return Xn


def fit(args, sets, train_groups, seed, tag, time_budget):
    """Train on train_groups (speakers, + extras), early stopping on 10% of
    their FSDD clips. Returns (model, norm, info)."""
    C.seed_all(seed)
    rng = np.random.default_rng(seed)
    clip = sets["clip"]
    fsdd_train = np.isin(clip.groups, [g for g in train_groups if g in SPEAKERS])
    ids = sorted(set(clip.clip[fsdd_train]))
    val_ids = set(rng.choice(ids, size=max(1, int(len(ids) * args.val_frac)), replace=False).tolist())
    pool = pools(sets, train_groups, val_ids)
    # validation: the held-aside clips, clean and 10 dB, + silence windows of their streams
    vx, vy = [], []
    for name in ["clip", "clip_n10"]:
        m = np.isin(sets[name].clip, list(val_ids))
        vx.append(sets[name].X[m])
        vy.append(sets[name].y[m])
    s = sets["stream_n20"]
    m = np.isin(s.clip, list(val_ids)) & (s.y == 0)
    vx.append(s.X[m][: len(val_ids) // 2])
    vy.append(s.y[m][: len(val_ids) // 2])
    vX, vY = np.concatenate(vx), np.concatenate(vy)
    # normalisation: one epoch's sample of the training distribution, no augmentation
    nx, _ = gather(sets, sample_epoch(sets, pool, 3000, args.silence, np.random.default_rng(seed + 1),
                                      args.extra_weight))
    norm = C.norm_stats(nx)
    del nx
    vX = C.apply_norm(vX, norm)
    C.log(f"[{tag}] train groups {train_groups}; pools "
          + ", ".join(f"{k[0]}/{k[1]}={len(v)}" for k, v in pool.items())
          + f"; validation {len(vY)} windows ({len(val_ids)} clips)")

    def batches(ep):
        items = sample_epoch(sets, pool, args.epoch_size, args.silence, rng, args.extra_weight)
        for i in range(0, len(items) - args.batch + 1, args.batch):
            xb, yb = gather(sets, items[i:i + args.batch])
            xb = C.apply_norm(augment(xb, rng, args), norm)
            yield mask(xb, rng, args), yb

    model = build(args)
    cl = True
    if cl:
        model = model.to(memory_format=torch.channels_last)
    info = C.train_loop(model, batches, (vX, vY), epochs=args.epochs, lr=args.lr, weight_decay=args.weight_decay,
                        patience=args.patience, label_smoothing=args.label_smoothing, min_epochs=args.min_epochs,
                        channels_last=cl, time_budget=time_budget, log_prefix=f"[{tag}] ")
    return model, norm, info


def evaluate(model, norm, s, mask_, args):
    logits = C.predict(model, C.apply_norm(s.X[mask_], norm), channels_last=True)
    return C.metrics(s.y[mask_], logits.argmax(1), CLASSES)


def test_speaker(model, norm, sets, spk, args):
    r = {}
    for name in ["clip", "clip_n10", "stream_n20"]:
        s = sets[name]
        r[name] = evaluate(model, norm, s, s.groups == spk, args)
    return r


def extras(args):
    return [e for e in args.extras.split(",") if e]


def run_cv(args, sets):
    res = []
    t0 = time.time()
    for k, spk in enumerate(SPEAKERS):
        if args.only and spk not in args.only.split(","):
            continue
        train = [s for s in SPEAKERS if s != spk] + extras(args)
        C.log(f"-- fold {k + 1}/{len(SPEAKERS)}: test {spk}")
        model, norm, info = fit(args, sets, train, args.seed + 100 + k, f"fold {k + 1}", args.fold_budget)
        r = test_speaker(model, norm, sets, spk, args)
        if args.final and spk == args.keep_out:
            # the fold holding out the kept-out speaker trains exactly what
            # --final would (same speakers and extras): ship it
            args.final_result = export_final(args, sets, model, norm, info, info["seconds"])
        C.log(f"fold {k + 1} ({spk}): clips {100*r['clip']['accuracy']:.1f}% of {r['clip']['n']}, "
              f"10 dB {100*r['clip_n10']['accuracy']:.1f}%, stream(20 dB) {100*r['stream_n20']['accuracy']:.1f}% "
              f"(silence recall {100*r['stream_n20']['per_class']['_silence_']:.1f}%); "
              f"best epoch {info['best_epoch']}/{info['epochs_run']}, {info['seconds']:.0f} s")
        res.append({"fold": k + 1, "groups": [spk], "test": r["clip"], "test_n10": r["clip_n10"],
                    "test_stream_n20": r["stream_n20"], "best_epoch": info["best_epoch"],
                    "epochs_run": info["epochs_run"], "seconds": info["seconds"]})
    out = {"arch": args.arch, "extras": extras(args),
           "args": {k: v for k, v in vars(args).items() if k != "final_result"}, "seconds": time.time() - t0}
    summarise(out, res)
    C.log(f"CV time {time.time() - t0:.0f} s")
    return out


def summarise(out, res):
    """Fill out["folds"] and the summaries (clean, 10 dB, noisy stream)."""
    out["folds"] = sorted(res, key=lambda f: f["fold"])
    for key, title in [("test", "clean clips"), ("test_n10", "clips + 10 dB noise"),
                       ("test_stream_n20", "stream, 20 dB noise, with _silence_")]:
        out["summary" if key == "test" else "summary_" + key[5:]] = s = C.summarise_folds(out["folds"], CLASSES, key)
        C.print_summary(s, CLASSES, f"KWS {out['arch']} LOSO ({title}), extras {out['extras'] or 'none'}")


def merge_cv(paths, dest):
    """Join CV result files of disjoint folds (runs with --only, e.g. two
    processes of one thread each) into one with the summaries over all."""
    parts = [json.load(open(p)) for p in paths]
    out = {"arch": parts[0]["arch"], "extras": parts[0]["extras"], "args": parts[0]["args"],
           "merged_from": [os.path.basename(p) for p in paths], "seconds": sum(p["seconds"] for p in parts)}
    for p in parts[1:]:
        a, b = dict(p["args"]), dict(out["args"])
        for k in ("only", "tag", "threads", "final", "out"):
            a.pop(k, None), b.pop(k, None)
        if a != b:
            raise SystemExit(f"--merge: {p['merged_from'] if 'merged_from' in p else ''} runs differ: "
                             + ", ".join(f"{k}={a.get(k)!r}/{b.get(k)!r}" for k in sorted(set(a) | set(b))
                                         if a.get(k) != b.get(k)))
    res = [f for p in parts for f in p["folds"]]
    if len({f["fold"] for f in res}) != len(res):
        raise SystemExit("--merge: the files share folds")
    summarise(out, res)
    C.save_json(out, dest)


def run_final(args, sets):
    keep = args.keep_out
    train = [s for s in SPEAKERS if s != keep] + extras(args)
    C.log(f"-- final: train {train}, kept out {keep}")
    t0 = time.time()
    model, norm, info = fit(args, sets, train, args.seed + 1000, "final", args.final_budget)
    return export_final(args, sets, model, norm, info, time.time() - t0)


def export_final(args, sets, model, norm, info, secs):
    """Report the kept-out speaker and export model (trained on the other
    FSDD speakers + extras) to args.out."""
    keep = args.keep_out
    train = [s for s in SPEAKERS if s != keep] + extras(args)
    r = test_speaker(model, norm, sets, keep, args)
    for name, m in r.items():
        C.log(f"kept-out {keep} ({name}): {100*m['accuracy']:.1f}% of {m['n']}")
    C.log(C.format_confusion(r["clip"]["confusion"], CLASSES))
    spec = make_spec(norm)
    model = model.to(memory_format=torch.contiguous_format)
    nparams = C.count_params(model)
    macs = C.count_macs(model, spec["input_shape"])
    C.log(f"parameters {nparams}, MACs {macs}")
    name = {"trad": "cnn-trad-fpool3", "ds": "DS-CNN", "res8": "Honk res8", "kwt": "keyword transformer"}[args.arch]
    doc = (f"kagen keyword demo: {name} over 98x40 log-mel; classes _silence_, 0-9; trained on FSDD speakers "
           f"{','.join(s for s in train if s in SPEAKERS)} (Free Spoken Digit Dataset, Z. Jackson et al., "
           f"doi:10.5281/zenodo.1342401, CC BY-SA 4.0)"
           + (f" and {','.join(extras(args))}" if extras(args) else "")
           + (" (asterisk-core-sounds-en, CC BY-SA 3.0)" if "allison" in extras(args) else "")
           + "; tools/train/kws.py")
    size = C.export_onnx(model, spec, args.out, doc)
    return {"out": args.out, "bytes": size, "params": nparams, "macs": macs, "train": train, "kept_out": keep,
            "kept_out_metrics": r, "best_epoch": info["best_epoch"], "epochs_run": info["epochs_run"],
            "seconds": secs, "history": info["history"], "args": dict(vars(args)), "spec": spec}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", choices=["trad", "ds", "res8", "kwt"], default="trad")
    ap.add_argument("--robust", action="store_true",
                    help="also train on kws_data.py's fsdd-aug (speed, pitch, room) and synth-more (more voices) sets")
    ap.add_argument("--masks", type=int, default=1, help="SpecAugment: time and frequency masks per window (each p=0.5)")
    ap.add_argument("--res-layers", type=int, default=6, help="res8: residual-stack 3x3 convolutions")
    ap.add_argument("--kwt-layers", type=int, default=4, help="kwt: encoder layers")
    ap.add_argument("--kwt-heads", type=int, default=4, help="kwt: attention heads")
    ap.add_argument("--kwt-patch", type=int, default=2, help="kwt: frames per patch (x 40 bands)")
    ap.add_argument("--cv", action="store_true")
    ap.add_argument("--final", action="store_true")
    ap.add_argument("--extras", default="", help="extra training speakers: comma list of " + ",".join(EXTRA))
    ap.add_argument("--extra-weight", type=float, default=1.0, help="sampling weight of the extra speakers' sets")
    ap.add_argument("--keep-out", default="theo")
    ap.add_argument("--rank", type=int, default=28, help="trad: low-rank linear units")
    ap.add_argument("--width", type=int, default=None, help="ds: channels (64); res8: maps (45); kwt: model width (64)")
    ap.add_argument("--ds-blocks", type=int, default=4, help="ds: depthwise-separable blocks")
    ap.add_argument("--ds-pool", default="", help="ds: comma list of blocks (1-based) followed by a 2x2 max-pool")
    ap.add_argument("--ds-stride", default="4,2", help="ds: stride (time,frequency) of the first conv")
    ap.add_argument("--dropout", type=float, default=None)
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--epoch-size", type=int, default=None, help="windows drawn per epoch")
    ap.add_argument("--min-epochs", type=int, default=4)
    ap.add_argument("--patience", type=int, default=6)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--weight-decay", type=float, default=1e-2)
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--silence", type=float, default=0.15, help="share of _silence_ windows per epoch")
    ap.add_argument("--val-frac", type=float, default=0.1)
    ap.add_argument("--gain-db", type=float, default=10)
    ap.add_argument("--eq-db", type=float, default=0, help="max random equaliser gain per band in dB")
    ap.add_argument("--shift", type=int, default=10, help="max time shift in frames (10 ms)")
    ap.add_argument("--freq-mask", type=int, default=4)
    ap.add_argument("--time-mask", type=int, default=10)
    ap.add_argument("--fold-budget", type=float, default=None, help="safety limit, seconds per CV fold")
    ap.add_argument("--final-budget", type=float, default=None, help="safety limit, seconds for the final training")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default="", help="CV: run only the folds of these held-out speakers (pilots)")
    ap.add_argument("--tag", default="", help="suffix of the CV results file")
    ap.add_argument("--merge", default="", help="comma list of CV result files of disjoint folds to join "
                    "into results/kws_cv_ARCH_TAG.json (no training)")
    ap.add_argument("--out", default=None)
    ap.add_argument("--results", default=os.path.join(C.HERE, "results"))
    args = ap.parse_args()
    trad = args.arch == "trad"
    defaults = {"dropout": 0.3 if trad else 0.1, "epochs": 8 if trad else 24, "epoch_size": 2560,
                "lr": 2e-3 if trad else 5e-3, "width": {"ds": 64, "res8": 45, "kwt": 64}.get(args.arch, 64)}
    if args.arch == "res8":
        defaults.update(dropout=0.0, epochs=20, lr=5e-3)
    if args.arch == "kwt":
        defaults.update(dropout=0.1, epochs=30, lr=2e-3)
    for k, v in defaults.items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    if args.out is None:
        args.out = os.path.join(C.REPO, "models", {"trad": "kws.onnx", "ds": "kws-ds.onnx", "res8": "kws-res8.onnx",
                                                   "kwt": "kws-kwt.onnx"}[args.arch])
    for e in extras(args):
        if e not in EXTRA:
            ap.error(f"--extras: unknown {e!r}, expected some of {EXTRA}")
    if args.merge:
        merge_cv(args.merge.split(","), os.path.join(args.results, f"kws_cv_{args.arch}" + (f"_{args.tag}" if args.tag else "") + ".json"))
        return
    if not (args.cv or args.final):
        ap.error("give --cv and/or --final")
    C.print_command()
    C.set_threads(args.threads)
    C.seed_all(args.seed)
    sets = export_sets(args)
    if args.cv:
        r = run_cv(args, sets)
        tag = args.arch + (f"_{args.tag}" if args.tag else "")
        C.save_json(r, os.path.join(args.results, f"kws_cv_{tag}.json"))
    if args.final:
        r = getattr(args, "final_result", None) or run_final(args, sets)
        C.save_json(r, os.path.join(args.results, f"kws_final_{args.arch}.json"))


if __name__ == "__main__":
    main()
