#!/usr/bin/python3
"""Export kagen's model zoo: architectures engineers bring, as ONNX.

Run with Debian's PyTorch (torch 1.13, torchvision 0.14, torchaudio 0.13):

    apt-get install -y python3-torch python3-torchvision python3-torchaudio python3-onnx
    /usr/bin/python3 bench/zoo/export.py             # every model into bench/.cache/zoo/
    /usr/bin/python3 bench/zoo/export.py --list      # the table of bench/zoo/README.md
    /usr/bin/python3 bench/zoo/export.py resnet18 lstm_kws --out /tmp/zoo

Use /usr/bin/python3, not a python3 earlier on PATH (it would not see the
Debian packages).

Every model has random weights, seeded by its name (so a model's file does
not depend on which other models are exported), with the statistics of every
BatchNorm (running mean and variance) and the affine parameters of every
normalisation layer set to non-trivial random values, and parameters a
library initialises to a constant (zero biases, a ViT's zero head, ConvNeXt's
1e-6 layer scale) replaced by random ones, so that a wrong kernel anywhere
shows in the output. Shapes are static (no dynamic axes), batch 1; the
graphs keep the shape arithmetic the exporter writes (Shape, Gather,
ConstantOfShape, Slice ... feeding a Pad or a Reshape), as users' exports do.
The files are byte-for-byte reproducible.

torch 1.13's exporter needed two workarounds, both in the models rather than
the exporter: Conv2d(padding="same") does not export (aten::_convolution_mode),
so DS-CNN's stride-1 depthwise convs use padding=1 (the same thing); and
nn.TransformerEncoderLayer in eval mode under no_grad takes a fused "fast
path" (aten::_transformer_encoder_layer_fwd) that does not export, so the
export runs with autograd on.

A model whose inputs need more than the comparison's defaults (seeded
standard normal floats, zero integers, false booleans, the declared shape)
gets a sidecar NAME.inputs.json read by bench/cmd/peers:

    {"inputs": {"lengths": {"shape": [1], "values": [80]},
                "h":       {"shape": [2, 1, 64], "fill": "zeros"}}}

"values" is the flat list of the input's elements (one value is repeated),
"fill" is "normal" (default for floats) or "zeros", "shape" overrides the
declared shape (needed for dynamic dimensions).
"""

import argparse
import json
import math
import os
import sys
import time
import warnings
import zlib

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", ".cache", "zoo"))

MODELS = []  # filled by @model, in the order of the README


class Spec:
    def __init__(self, name, source, opset, inputs, build, outputs=None, sidecar=None, note="", lsuv=False):
        self.name = name
        self.source = source
        self.opset = opset
        # inputs: list of (name, shape, dtype, example) where example is a
        # function(generator) -> tensor used for tracing (None: randn).
        self.inputs = inputs
        self.build = build
        self.outputs = outputs or ["output"]
        self.sidecar = sidecar  # dict of per-input overrides, or None
        self.note = note
        self.lsuv = lsuv


# What each model exercises (the notes column of --list).
NOTES = {
    "resnet18": "BatchNorm folded into Conv by the exporter",
    "mobilenet_v2": "ReLU6 as Clip",
    "mobilenet_v3_small": "HardSwish, HardSigmoid, squeeze-excite",
    "efficientnet_b0": "SiLU (Sigmoid, Mul), squeeze-excite",
    "shufflenet_v2": "channel split (Slice), shuffle (Reshape, Transpose)",
    "squeezenet1_1": "fire modules (Concat), no Gemm",
    "regnet_y_400mf": "grouped Conv, squeeze-excite",
    "densenet121": "BatchNormalization before Conv (not folded), Concat",
    "googlenet": "inception Concat, MaxPool ceil mode",
    "convnext_tiny": "depthwise 7x7, LayerNorm2d decomposed (ReduceMean, Sub, Pow, Sqrt, Div), GELU via Erf, layer scale",
    "vit_small": "class token (Expand), LayerNormalization, attention MatMul and Softmax",
    "mlperf_resnet8": "Keras 'same' padding: asymmetric Pad whose pads are shape arithmetic (ConstantOfShape, Slice, ...)",
    "mlperf_mobilenet_v1_025_vww": "depthwise, asymmetric Pad as in mlperf_resnet8",
    "mlperf_dscnn_kws": "asymmetric Pad (rows 4/5, columns 1/1) before the (10,4) stride-2 Conv",
    "mlperf_autoencoder_ad": "BatchNormalization after Gemm",
    "lstm_kws": "LSTM x2, zero initial states built by Expand; LSUV-scaled",
    "bigru_kws": "bidirectional GRU; LSUV-scaled",
    "crnn": "2-layer bidirectional LSTM, LogSoftmax; LSUV-scaled",
    "tcn": "dilated Conv1d, Slice (chomp); weight norm folded by the exporter",
    "transformer_kws": "bool input, key padding mask (Where), LayerNorm decomposed",
    "mlp_gelu_ln": "LayerNormalization, GELU via Erf",
    "mlp_gelu_ln_op13": "LayerNorm decomposed",
    "unet_tiny": "ConvTranspose2d, Resize (nearest), Concat",
    "gpt_tiny": "int64 input (Gather), QKV Split, causal mask (Where), batched MatMul, LayerNormalization",
    "wav2letter": "large-kernel Conv1d (250-2000 channels), LogSoftmax; LSUV-scaled",
    "deepspeech": "bidirectional RNN (ReLU), Clip (hardtanh); LSUV-scaled",
    "convtasnet": "8003 samples: padded to the stride and sliced back; ConvTranspose1d, PReLU, GroupNorm (InstanceNormalization)",
    "wav2vec2_tiny": "GroupNorm (InstanceNormalization), grouped positional Conv with Slice, LayerNormalization, GELU",
    "conformer": "int64 lengths (traced with 100, the mask's width; compared with 80) -> padding mask (GreaterOrEqual, Where), depthwise Conv1d, GLU, 2 outputs (one int64)",
}


def model(name, source, opset, inputs, outputs=None, sidecar=None, lsuv=False):
    """Registers the decorated builder (returning an nn.Module) as a zoo model."""

    def deco(fn):
        MODELS.append(Spec(name, source, opset, inputs, fn, outputs, sidecar, NOTES.get(name, ""), lsuv))
        return fn

    return deco


def seed_of(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


# ---------------------------------------------------------------------------
# Making random weights non-trivial


@torch.no_grad()
def randomise(m, gen, calib, lsuv=False):
    """Sets normalisation statistics and constant-initialised parameters to
    seeded random values (see the module docstring).

    BatchNorm statistics: one eval-mode pass over the calibration batch
    `calib` (a list of input tensors, or None) sets each BatchNorm's running
    mean and variance, just before it runs, to the per-channel mean and
    variance of its actual input, then perturbs them (mean + 0.2 sd N(0,1),
    variance x U(0.6, 1.4)). Activations thus keep a sensible scale through
    deep random networks (instead of vanishing or exploding), and a kernel
    that ignores the statistics is still wrong by a visible margin. Without
    a calibration batch: mean N(0, 0.2^2), variance U(0.5, 1.5).

    lsuv (for models without normalisation, whose random outputs would
    otherwise be nearly constant): in the same pass, each Conv and Linear
    layer's weight and bias are divided by the standard deviation of its
    output, so that every layer's output has unit spread (Mishkin & Matas,
    "All you need is a good init", 2016)."""
    for name, p in m.named_parameters():
        flat = p.detach().reshape(-1)
        if "layer_scale" in name:  # ConvNeXt: 1e-6 would hide the block
            p.copy_(torch.rand(p.shape, generator=gen) * 0.4 + 0.1)
        elif flat.numel() > 1 and bool((flat == flat[0]).all()):
            v = float(flat[0])
            if p.dim() >= 2 and v == 0.0:  # a zero weight matrix (ViT head, class token)
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(fan_in))
            elif v == 0.0:  # zero bias or shift
                p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
            else:  # constant scale (norm weights: 1)
                p.copy_(v * (torch.rand(p.shape, generator=gen) + 0.5))
        elif flat.numel() == 1 and float(flat[0]) == 0.0:
            p.copy_(torch.randn(p.shape, generator=gen) * 0.1)

    bns = [mod for mod in m.modules() if isinstance(mod, nn.modules.batchnorm._BatchNorm) and mod.running_mean is not None]
    if calib is None:
        for bn in bns:
            bn.running_mean.copy_(torch.randn(bn.running_mean.shape, generator=gen) * 0.2)
            bn.running_var.copy_(torch.rand(bn.running_var.shape, generator=gen) + 0.5)
        return

    def pre(bn, inp):
        x = inp[0].transpose(0, 1).reshape(inp[0].shape[1], -1)
        mean, var = x.mean(1), x.var(1)
        bn.running_mean.copy_(mean + 0.2 * var.sqrt() * torch.randn(mean.shape, generator=gen))
        bn.running_var.copy_(var * (0.6 + 0.8 * torch.rand(var.shape, generator=gen)) + bn.eps)

    def post(layer, inp, out):
        sd = float(out.std())
        if sd > 0:
            layer.weight.div_(sd)
            if layer.bias is not None:
                layer.bias.div_(sd)
            return out / sd

    hooks = [bn.register_forward_pre_hook(pre) for bn in bns]
    if lsuv:
        hooks += [l.register_forward_hook(post) for l in m.modules() if isinstance(l, (nn.Conv1d, nn.Conv2d, nn.Linear))]
    if not hooks:
        return
    m.eval()
    m(*calib)
    for h in hooks:
        h.remove()


CALIB_BATCH = 8


# ---------------------------------------------------------------------------
# Building blocks of the hand-written models


class SamePad2d(nn.Module):
    """TensorFlow/Keras padding="same": pad_total = max((ceil(n/s)-1)*s + k - n, 0),
    the smaller half before. With stride 2 it is asymmetric, as in the MLPerf
    Tiny Keras references."""

    def __init__(self, kernel, stride, size):
        super().__init__()
        pads = []
        for k, s, n in zip(kernel, stride, size):
            out = -(-n // s)
            total = max((out - 1) * s + k - n, 0)
            pads.append((total // 2, total - total // 2))
        (t, b), (l, r) = pads
        self.pad = nn.ZeroPad2d((l, r, t, b))

    def forward(self, x):
        return self.pad(x)


def conv_same(cin, cout, k, s, size, groups=1, bias=True):
    """Conv2d with Keras "same" padding for an input of spatial size `size`;
    returns the layers and the output size."""
    k = (k, k) if isinstance(k, int) else k
    s = (s, s) if isinstance(s, int) else s
    out = tuple(-(-n // st) for n, st in zip(size, s))
    layers = [SamePad2d(k, s, size), nn.Conv2d(cin, cout, k, s, groups=groups, bias=bias)]
    return layers, out


class ResNet8(nn.Module):
    """MLPerf Tiny image classification (CIFAR-10) reference ResNet-8
    (eembc/energyrunner reference_submissions/image_classification)."""

    def __init__(self, num_classes=10):
        super().__init__()
        size = (32, 32)
        l, size = conv_same(3, 16, 3, 1, size)
        self.stem = nn.Sequential(*l, nn.BatchNorm2d(16), nn.ReLU())
        self.stages = nn.ModuleList()
        cin = 16
        for cout, stride in [(16, 1), (32, 2), (64, 2)]:
            l1, s1 = conv_same(cin, cout, 3, stride, size)
            l2, s2 = conv_same(cout, cout, 3, 1, s1)
            stage = nn.Module()
            stage.body = nn.Sequential(*l1, nn.BatchNorm2d(cout), nn.ReLU(), *l2, nn.BatchNorm2d(cout))
            if stride != 1:
                ls, _ = conv_same(cin, cout, 1, stride, size)
                stage.short = nn.Sequential(*ls)
            else:
                stage.short = nn.Identity()
            self.stages.append(stage)
            cin, size = cout, s2
        self.pool = nn.AvgPool2d(8)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.stem(x)
        for st in self.stages:
            x = F.relu(st.body(x) + st.short(x))
        x = torch.flatten(self.pool(x), 1)
        return F.softmax(self.fc(x), dim=1)


class MobileNetV1VWW(nn.Module):
    """MLPerf Tiny visual wake words reference: MobileNetV1 with width 0.25 on
    96x96 RGB, 2 classes, Keras "same" padding."""

    def __init__(self, alpha=0.25, num_classes=2):
        super().__init__()
        size = (96, 96)
        c = int(32 * alpha)
        l, size = conv_same(3, c, 3, 2, size, bias=False)
        layers = [*l, nn.BatchNorm2d(c), nn.ReLU()]
        cfg = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
        for f, s in cfg:
            f = int(f * alpha)
            l, size = conv_same(c, c, 3, s, size, groups=c, bias=False)
            layers += [*l, nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, f, 1, bias=False), nn.BatchNorm2d(f), nn.ReLU()]
            c = f
        self.features = nn.Sequential(*layers)
        self.pool = nn.AvgPool2d(size)
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        x = torch.flatten(self.pool(self.features(x)), 1)
        return F.softmax(self.fc(x), dim=1)


class DSCNN(nn.Module):
    """MLPerf Tiny keyword spotting reference DS-CNN (small): 49x10 MFCC,
    Conv 64 (10,4) stride 2 with Keras "same" padding (4 rows above, 5
    below, 1 column each side), 4 depthwise-separable blocks, average pool,
    12 classes."""

    def __init__(self, num_classes=12):
        super().__init__()
        size = (49, 10)
        l, size = conv_same(1, 64, (10, 4), (2, 2), size)
        layers = [*l, nn.BatchNorm2d(64), nn.ReLU()]
        for _ in range(4):
            layers += [
                nn.Conv2d(64, 64, 3, padding=1, groups=64),  # "same" at stride 1
                nn.BatchNorm2d(64),
                nn.ReLU(),
                nn.Conv2d(64, 64, 1),
                nn.BatchNorm2d(64),
                nn.ReLU(),
            ]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AvgPool2d(size)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = torch.flatten(self.pool(self.features(x)), 1)
        return F.softmax(self.fc(x), dim=1)


class DenseAutoencoder(nn.Module):
    """MLPerf Tiny anomaly detection reference (ToyADMOS): 640 inputs (5
    frames of 128 log-mel bins), Dense 128 + BatchNorm + ReLU x4, bottleneck
    8, Dense 128 + BatchNorm + ReLU x4, Dense 640."""

    def __init__(self):
        super().__init__()
        dims = [640, 128, 128, 128, 128, 8, 128, 128, 128, 128]
        layers = []
        for a, b in zip(dims, dims[1:]):
            layers += [nn.Linear(a, b), nn.BatchNorm1d(b), nn.ReLU()]
        layers.append(nn.Linear(128, 640))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class LSTMClassifier(nn.Module):
    """Two-layer LSTM over 40 MFCC features, last step -> 12 classes."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(40, 64, num_layers=2, batch_first=True)
        self.fc = nn.Linear(64, 12)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.fc(y[:, -1])


class BiGRUClassifier(nn.Module):
    """Bidirectional GRU, mean over time -> 12 classes."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(40, 48, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(96, 12)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.fc(y.mean(dim=1))


class CRNN(nn.Module):
    """Text-line recogniser: conv/BN/ReLU/pool stack on a 32x128 grey image,
    columns as time steps into a 2-layer bidirectional LSTM, per-step
    log-softmax over 37 symbols (CTC)."""

    def __init__(self, num_classes=37):
        super().__init__()

        def block(a, b, pool):
            return [nn.Conv2d(a, b, 3, padding=1), nn.BatchNorm2d(b), nn.ReLU(), nn.MaxPool2d(pool)]

        self.cnn = nn.Sequential(*block(1, 32, 2), *block(32, 64, 2), *block(64, 96, (2, 1)), *block(96, 96, (2, 1)))
        self.rnn = nn.LSTM(96 * 2, 64, num_layers=2, bidirectional=True)
        self.fc = nn.Linear(128, num_classes)

    def forward(self, x):
        x = self.cnn(x)  # B, C, H, W
        b, c, h, w = x.shape
        x = x.reshape(b, c * h, w).permute(2, 0, 1)  # W (time), B, C*H
        y, _ = self.rnn(x)
        return F.log_softmax(self.fc(y), dim=2)


class Chomp1d(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.n = n

    def forward(self, x):
        return x[:, :, : -self.n].contiguous()


class TCN(nn.Module):
    """Temporal convolutional network (Bai, Kolter, Koltun 2018; locuslab/TCN):
    residual blocks of two weight-normed dilated causal Conv1d (padding (k-1)d
    on both sides, the right part chomped off by slicing), dilations 1..8."""

    def __init__(self, cin=8, ch=32, k=3, levels=4, num_classes=10):
        super().__init__()
        self.blocks = nn.ModuleList()
        for i in range(levels):
            d = 2**i
            pad = (k - 1) * d
            a = cin if i == 0 else ch
            blk = nn.Module()
            blk.net = nn.Sequential(
                nn.utils.weight_norm(nn.Conv1d(a, ch, k, padding=pad, dilation=d)),
                Chomp1d(pad),
                nn.ReLU(),
                nn.utils.weight_norm(nn.Conv1d(ch, ch, k, padding=pad, dilation=d)),
                Chomp1d(pad),
                nn.ReLU(),
            )
            blk.down = nn.Conv1d(a, ch, 1) if a != ch else nn.Identity()
            self.blocks.append(blk)
        self.fc = nn.Linear(ch, num_classes)

    def forward(self, x):
        for b in self.blocks:
            x = F.relu(b.net(x) + b.down(x))
        return self.fc(x[:, :, -1])


class TransformerKWS(nn.Module):
    """Keyword transformer (KWT-like): 98 frames of 40 MFCC, linear patch
    embedding, class token, learned positions, 2 pre-norm
    nn.TransformerEncoderLayer (d 64, 4 heads, GELU), class token -> 12.
    A boolean key padding mask (True = padded frame) is a second input."""

    def __init__(self, frames=98, feats=40, d=64):
        super().__init__()
        self.embed = nn.Linear(feats, d)
        self.cls = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, frames + 1, d) * 0.02)
        layer = nn.TransformerEncoderLayer(d, 4, 128, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
        self.enc = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(d), enable_nested_tensor=False)
        self.fc = nn.Linear(d, 12)

    def forward(self, x, pad_mask):
        x = self.embed(x)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        mask = torch.cat([torch.zeros_like(pad_mask[:, :1]), pad_mask], dim=1)
        x = self.enc(x, src_key_padding_mask=mask)
        return self.fc(x[:, 0])


class MLP(nn.Module):
    """MLP: Linear -> LayerNorm -> GELU, twice, then Linear."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(64, 128),
            nn.LayerNorm(128),
            nn.GELU(),
            nn.Linear(128, 128),
            nn.LayerNorm(128),
            nn.GELU(),
            nn.Linear(128, 10),
        )

    def forward(self, x):
        return self.net(x)


class UNetTiny(nn.Module):
    """Small U-Net: two down levels (MaxPool), one up by ConvTranspose2d
    stride 2, one by nearest Upsample, skip concatenations, 1x1 head."""

    def __init__(self, c=16, classes=3):
        super().__init__()

        def dbl(a, b):
            return nn.Sequential(
                nn.Conv2d(a, b, 3, padding=1), nn.BatchNorm2d(b), nn.ReLU(), nn.Conv2d(b, b, 3, padding=1), nn.BatchNorm2d(b), nn.ReLU()
            )

        self.e1, self.e2, self.mid = dbl(3, c), dbl(c, 2 * c), dbl(2 * c, 4 * c)
        self.up2 = nn.ConvTranspose2d(4 * c, 2 * c, 2, stride=2)
        self.d2 = dbl(4 * c, 2 * c)
        self.up1 = nn.Upsample(scale_factor=2, mode="nearest")
        self.d1 = dbl(3 * c, c)
        self.head = nn.Conv2d(c, classes, 1)

    def forward(self, x):
        a = self.e1(x)
        b = self.e2(F.max_pool2d(a, 2))
        m = self.mid(F.max_pool2d(b, 2))
        y = self.d2(torch.cat([self.up2(m), b], 1))
        y = self.d1(torch.cat([self.up1(y), a], 1))
        return self.head(y)


class GPTTiny(nn.Module):
    """Decoder-only language model: int64 token ids -> embedding + learned
    positions, 2 pre-norm blocks of causal multi-head self-attention written
    out (Q/K/V split of one projection, QK^T / sqrt(d), a constant causal
    mask, softmax, .V) and a GELU MLP, tied output head -> next-token logits."""

    def __init__(self, vocab=512, ctx=32, d=64, heads=4, layers=2):
        super().__init__()
        self.heads = heads
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.randn(1, ctx, d) * 0.02)
        self.blocks = nn.ModuleList()
        for _ in range(layers):
            b = nn.Module()
            b.ln1, b.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            b.qkv, b.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
            b.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
            self.blocks.append(b)
        self.lnf = nn.LayerNorm(d)
        self.register_buffer("causal", torch.triu(torch.ones(ctx, ctx, dtype=torch.bool), diagonal=1))

    def forward(self, ids):
        B, T = ids.shape
        x = self.tok(ids) + self.pos[:, :T]
        h = self.heads
        for b in self.blocks:
            q, k, v = b.qkv(b.ln1(x)).split(x.shape[-1], dim=2)
            q = q.reshape(B, T, h, -1).transpose(1, 2)
            k = k.reshape(B, T, h, -1).transpose(1, 2)
            v = v.reshape(B, T, h, -1).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
            att = att.masked_fill(self.causal[:T, :T], float("-inf")).softmax(-1)
            y = (att @ v).transpose(1, 2).reshape(B, T, -1)
            x = x + b.proj(y)
            x = x + b.mlp(b.ln2(x))
        return self.lnf(x) @ self.tok.weight.t()


class FirstOutput(nn.Module):
    """Keeps the first element of a model's tuple output (torchaudio's
    Wav2Vec2Model returns (features, lengths))."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, *a):
        return self.m(*a)[0]


# ---------------------------------------------------------------------------
# The zoo. Inputs: (name, shape, dtype, example generator or None).

import torchvision.models as tv  # noqa: E402
import torchaudio.models as ta  # noqa: E402

IMG = lambda s: [("input", [1, 3, s, s], "float32", None)]  # noqa: E731


@model("resnet18", "torchvision.models.resnet18", 13, IMG(224))
def _():
    return tv.resnet18()


@model("mobilenet_v2", "torchvision.models.mobilenet_v2", 13, IMG(224))
def _():
    return tv.mobilenet_v2()


@model("mobilenet_v3_small", "torchvision.models.mobilenet_v3_small", 17, IMG(224))
def _():
    return tv.mobilenet_v3_small()


@model("efficientnet_b0", "torchvision.models.efficientnet_b0", 13, IMG(224))
def _():
    return tv.efficientnet_b0()


@model("shufflenet_v2", "torchvision.models.shufflenet_v2_x1_0", 13, IMG(224))
def _():
    return tv.shufflenet_v2_x1_0()


@model("squeezenet1_1", "torchvision.models.squeezenet1_1", 17, IMG(224))
def _():
    return tv.squeezenet1_1()


@model("regnet_y_400mf", "torchvision.models.regnet_y_400mf", 13, IMG(224))
def _():
    return tv.regnet_y_400mf()


@model("densenet121", "torchvision.models.densenet121", 17, IMG(160))
def _():
    return tv.densenet121()


@model("googlenet", "torchvision.models.googlenet (no aux heads)", 13, IMG(160))
def _():
    return tv.googlenet(aux_logits=False, init_weights=True)


@model("convnext_tiny", "torchvision.models.convnext_tiny", 13, IMG(160))
def _():
    return tv.convnext_tiny()


@model(
    "vit_small",
    "torchvision.models.VisionTransformer(image_size=96, patch_size=16, num_layers=4, num_heads=3, hidden_dim=192, mlp_dim=768)",
    17,
    IMG(96),
)
def _():
    return tv.VisionTransformer(image_size=96, patch_size=16, num_layers=4, num_heads=3, hidden_dim=192, mlp_dim=768)


@model("mlperf_resnet8", "MLPerf Tiny IC ResNet-8 (CIFAR-10), in torch", 13, IMG(32))
def _():
    return ResNet8()


@model("mlperf_mobilenet_v1_025_vww", "MLPerf Tiny VWW MobileNetV1 0.25, in torch", 13, IMG(96))
def _():
    return MobileNetV1VWW()


@model("mlperf_dscnn_kws", "MLPerf Tiny KWS DS-CNN (small), in torch", 13, [("input", [1, 1, 49, 10], "float32", None)])
def _():
    return DSCNN()


@model("mlperf_autoencoder_ad", "MLPerf Tiny AD dense autoencoder, in torch", 17, [("input", [1, 640], "float32", None)])
def _():
    return DenseAutoencoder()


@model("lstm_kws", "2-layer LSTM classifier", 13, [("input", [1, 50, 40], "float32", None)], lsuv=True)
def _():
    return LSTMClassifier()


@model("bigru_kws", "bidirectional GRU classifier", 17, [("input", [1, 50, 40], "float32", None)], lsuv=True)
def _():
    return BiGRUClassifier()


@model("crnn", "CRNN text recogniser (conv + BiLSTM + CTC head)", 13, [("input", [1, 1, 32, 128], "float32", None)], lsuv=True)
def _():
    return CRNN()


@model("tcn", "TCN (locuslab), dilated causal Conv1d with chomp", 13, [("input", [1, 8, 256], "float32", None)])
def _():
    return TCN()


PAD_MASK = [0] * 90 + [1] * 8  # the last 8 of 98 frames are padding


@model(
    "transformer_kws",
    "KWT-like keyword transformer (nn.TransformerEncoder, pre-norm, GELU), bool padding mask",
    13,
    [("input", [1, 98, 40], "float32", None), ("pad_mask", [1, 98], "bool", lambda g: torch.tensor([PAD_MASK], dtype=torch.bool))],
    sidecar={"pad_mask": {"shape": [1, 98], "values": PAD_MASK}},
)
def _():
    return TransformerKWS()


@model("mlp_gelu_ln", "MLP with LayerNorm and GELU", 17, [("input", [1, 64], "float32", None)])
def _():
    return MLP()


@model("mlp_gelu_ln_op13", "the same MLP at opset 13", 13, [("input", [1, 64], "float32", None)])
def _():
    return MLP()


@model("unet_tiny", "small U-Net (ConvTranspose2d, nearest Upsample, skips)", 13, IMG(64))
def _():
    return UNetTiny()


def _gpt_ids():
    g = torch.Generator().manual_seed(seed_of("gpt_tiny.ids"))
    return torch.randint(0, 512, (1, 32), generator=g)


GPT_IDS = _gpt_ids().reshape(-1).tolist()


@model(
    "gpt_tiny",
    "decoder-only LM, int64 token ids, causal attention written out",
    17,
    [("ids", [1, 32], "int64", lambda g: torch.tensor([GPT_IDS]))],
    outputs=["logits"],
    sidecar={"ids": {"shape": [1, 32], "values": GPT_IDS}},
)
def _():
    return GPTTiny()


@model("wav2letter", "torchaudio.models.Wav2Letter(num_classes=40, input_type='mfcc', num_features=13)", 13, [("input", [1, 13, 100], "float32", None)], lsuv=True)
def _():
    return ta.Wav2Letter(num_classes=40, input_type="mfcc", num_features=13)


@model("deepspeech", "torchaudio.models.DeepSpeech(n_feature=40, n_hidden=128, n_class=29)", 13, [("input", [1, 1, 100, 40], "float32", None)], lsuv=True)
def _():
    return ta.DeepSpeech(n_feature=40, n_hidden=128, n_class=29)


@model(
    "convtasnet",
    "torchaudio.models.ConvTasNet(enc_num_feats=64, msk_num_feats=32, msk_num_hidden_feats=64, msk_num_layers=4, msk_num_stacks=2)",
    13,
    [("input", [1, 1, 8003], "float32", None)],
)
def _():
    return ta.ConvTasNet(
        num_sources=2, enc_kernel_size=16, enc_num_feats=64, msk_kernel_size=3, msk_num_feats=32, msk_num_hidden_feats=64, msk_num_layers=4, msk_num_stacks=2
    )


@model(
    "wav2vec2_tiny",
    "torchaudio.models.wav2vec2_model, group-norm extractor 5x64 ch, 2 layers d 64, 4 heads, CTC head 29",
    17,
    [("input", [1, 16000], "float32", None)],
)
def _():
    m = ta.wav2vec2_model(
        extractor_mode="group_norm",
        extractor_conv_layer_config=[(64, 10, 5), (64, 3, 2), (64, 3, 2), (64, 3, 2), (64, 2, 2)],
        extractor_conv_bias=False,
        encoder_embed_dim=64,
        encoder_projection_dropout=0.0,
        encoder_pos_conv_kernel=16,
        encoder_pos_conv_groups=4,
        encoder_num_layers=2,
        encoder_num_heads=4,
        encoder_attention_dropout=0.0,
        encoder_ff_interm_features=128,
        encoder_ff_interm_dropout=0.0,
        encoder_dropout=0.0,
        encoder_layer_norm_first=False,
        encoder_layer_drop=0.0,
        aux_num_out=29,
    )
    return FirstOutput(m)


@model(
    "conformer",
    "torchaudio.models.Conformer(input_dim=80, num_heads=4, ffn_dim=128, num_layers=2, depthwise_conv_kernel_size=15)",
    17,
    [("input", [1, 100, 80], "float32", None), ("lengths", [1], "int64", lambda g: torch.tensor([100]))],
    outputs=["output", "output_lengths"],
    sidecar={"lengths": {"shape": [1], "values": [80]}},
)
def _():
    return ta.Conformer(input_dim=80, num_heads=4, ffn_dim=128, num_layers=2, depthwise_conv_kernel_size=15)


# ---------------------------------------------------------------------------


DTYPES = {"float32": torch.float32, "int64": torch.int64, "bool": torch.bool}


def export(spec, out_dir, verbose):
    import onnx

    torch.manual_seed(seed_of(spec.name))
    gen = torch.Generator().manual_seed(seed_of(spec.name) + 1)
    m = spec.build()
    m.eval()
    calib = None
    if all(dt == "float32" for _, _, dt, _ in spec.inputs):
        calib = [torch.randn([CALIB_BATCH] + shape[1:], generator=gen) for _, shape, _, _ in spec.inputs]
    randomise(m, gen, calib, spec.lsuv)
    args = []
    for name, shape, dtype, example in spec.inputs:
        if example is not None:
            args.append(example(gen))
        else:
            args.append(torch.randn(shape, generator=gen, dtype=DTYPES[dtype]))
    path = os.path.join(out_dir, spec.name + ".onnx")
    tmp = path + ".tmp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings on shapes used as constants
        with torch.no_grad():
            ref = m(*args)
        # Exported with autograd on and parameters requiring grad: that keeps
        # nn.TransformerEncoderLayer and nn.MultiheadAttention off their
        # inference "fast path" (aten::_transformer_encoder_layer_fwd), which
        # torch 1.13's exporter cannot export.
        torch.onnx.export(
            m,
            tuple(args),
            tmp,
            opset_version=spec.opset,
            input_names=[i[0] for i in spec.inputs],
            output_names=spec.outputs,
            do_constant_folding=True,
        )
    mp = onnx.load(tmp)
    onnx.checker.check_model(mp)
    os.replace(tmp, path)
    side = os.path.join(out_dir, spec.name + ".inputs.json")
    if spec.sidecar:
        lines = [f" {json.dumps(k)}: {json.dumps(v)}" for k, v in spec.sidecar.items()]
        with open(side, "w") as f:
            f.write('{"inputs": {\n' + ",\n".join(lines) + "\n}}\n")
    elif os.path.exists(side):
        os.remove(side)
    refs = ref if isinstance(ref, (tuple, list)) else (ref,)
    stats = ", ".join(
        f"{tuple(r.shape)} std {float(r.std()):.3g}" if r.is_floating_point() else f"{tuple(r.shape)} {r.dtype}" for r in refs if torch.is_tensor(r)
    )
    ops = sorted({n.op_type for n in mp.graph.node})
    return os.path.getsize(path), stats, ops


def table():
    print("| model | source | inputs | opset | notes |")
    print("| --- | --- | --- | --- | --- |")
    for s in MODELS:
        ins = ", ".join(f"`{n}` {dt} {list(sh)}" for n, sh, dt, _ in s.inputs)
        if s.sidecar:
            ins += " (sidecar)"
        print(f"| `{s.name}` | {s.source} | {ins} | {s.opset} | {s.note} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="*", help="names to export (default: all)")
    ap.add_argument("--out", default=DEFAULT_OUT, help="output directory (default bench/.cache/zoo)")
    ap.add_argument("--list", action="store_true", help="print the model table (markdown) and exit")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print op types of each model")
    a = ap.parse_args()
    if a.list:
        table()
        return 0
    torch.set_num_threads(a.threads)
    names = {s.name for s in MODELS}
    for n in a.models:
        if n not in names:
            print(f"export.py: unknown model {n!r}; have {', '.join(sorted(names))}", file=sys.stderr)
            return 2
    os.makedirs(a.out, exist_ok=True)
    print(f"torch {torch.__version__}, writing into {a.out}")
    failed = []
    t_all = time.time()
    for s in MODELS:
        if a.models and s.name not in a.models:
            continue
        t0 = time.time()
        try:
            size, stats, ops = export(s, a.out, a.verbose)
        except Exception as e:  # keep going: report every model that fails
            failed.append(s.name)
            msg = str(e).strip().splitlines()
            print(f"FAIL {s.name}: {type(e).__name__}: {msg[0] if msg else ''}", flush=True)
            continue
        print(f"ok   {s.name:30s} opset {s.opset}  {size / 1e6:6.2f} MB  {time.time() - t0:5.1f} s  out {stats}", flush=True)
        if a.verbose:
            print("     ops:", " ".join(ops))
    print(f"{len(failed)} failed{': ' + ' '.join(failed) if failed else ''}; {time.time() - t_all:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
