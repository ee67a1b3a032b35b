#!/usr/bin/python3
"""Export the small test models used by bench/ (kagen vs ONNX Runtime vs GoMLX).

Run with Debian's PyTorch (python3-torch, python3-onnx), not a venv's python:

    /usr/bin/python3 tools/export/export_bench_models.py [--out bench/testdata] [--seed 0]

Writes, with ONNX opset 13 and static shapes:

  conv1d.onnx  Conv1d stack on a [1,6,128] input: 6->64->128->128 channels,
               kernel 5, BatchNorm, ReLU, MaxPool, global average pool,
               Linear to 5.
  cnn2d.onnx   keyword-spotting "cnn-trad-fpool3" shapes: input [1,1,101,40]
               (time x freq), conv 64 filters 20x8, ReLU, max-pool (1,3) over
               frequency, conv 64 filters 10x4, ReLU, flatten, Linear to 11.
  small.onnx   a tiny Conv-Conv-Gemm net on a [1,3,16,16] input.

Everything is seeded (torch.manual_seed), BatchNorm running statistics are
randomised so that they are not an identity, and models are exported in eval
mode (the exporter folds BatchNorm into the preceding Conv). For each model it
prints the input/output shapes, the parameter count, the MAC count (Conv,
Linear) and the file size.
"""

import argparse
import os
import shlex
import sys

import torch
import torch.nn as nn

OPSET = 13
MAX_BYTES = 5 * 1024 * 1024


class Conv1dNet(nn.Module):
    def __init__(self):
        super().__init__()
        chans = [6, 64, 128, 128]
        layers = []
        for i in range(3):
            layers += [
                nn.Conv1d(chans[i], chans[i + 1], kernel_size=5, padding=2),
                nn.BatchNorm1d(chans[i + 1]),
                nn.ReLU(),
            ]
            if i < 2:
                layers.append(nn.MaxPool1d(2))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.fc = nn.Linear(128, 5)

    def forward(self, x):
        x = self.pool(self.features(x))
        return self.fc(torch.flatten(x, 1))


class CNN2d(nn.Module):
    """cnn-trad-fpool3 (Sainath & Parada 2015) shapes, one dense layer to 11."""

    def __init__(self, dense_in):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 64, kernel_size=(20, 8))
        self.pool = nn.MaxPool2d(kernel_size=(1, 3))
        self.conv2 = nn.Conv2d(64, 64, kernel_size=(10, 4))
        self.fc = nn.Linear(dense_in, 11)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = torch.relu(self.conv2(x))
        return self.fc(torch.flatten(x, 1))


class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.fc = nn.Linear(8 * 8 * 8, 10)

    def forward(self, x):
        x = torch.relu(self.c1(x))
        x = torch.relu(self.c2(x))
        return self.fc(torch.flatten(x, 1))


def count_macs(model, x):
    """MACs of Conv and Linear layers for one forward pass on x."""
    macs = [0]

    def conv_hook(m, inp, out):
        k = m.weight[0].numel()  # (C_in/groups) * prod(kernel)
        macs[0] += out.numel() * k

    def linear_hook(m, inp, out):
        macs[0] += out.numel() * m.in_features

    hooks = []
    for m in model.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d)):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return macs[0]


def randomise_bn(model):
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            with torch.no_grad():
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)


def export(model, shape, path):
    model.eval()
    randomise_bn(model)
    x = torch.randn(*shape)
    with torch.no_grad():
        y = model(x)
    torch.onnx.export(
        model, x, path,
        opset_version=OPSET,
        input_names=["input"],
        output_names=["output"],
        do_constant_folding=True,
        dynamic_axes=None,  # static shapes
    )
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m)
    ops = sorted({n.op_type for n in m.graph.node})
    params = sum(p.numel() for p in model.parameters())
    macs = count_macs(model, x)
    size = os.path.getsize(path)
    print(f"{os.path.basename(path)}: input {list(shape)} -> output {list(y.shape)}; "
          f"{params} params, {macs} MACs ({macs / 1e6:.1f} M), {size} bytes; ops {ops}")
    if size > MAX_BYTES:
        print(f"WARNING: {path} is larger than {MAX_BYTES} bytes", file=sys.stderr)
    return size


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "testdata"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print("command:", shlex.join([sys.executable] + sys.argv))
    print(f"torch {torch.__version__}, opset {OPSET}, seed {args.seed}")
    out = os.path.normpath(args.out)
    os.makedirs(out, exist_ok=True)

    torch.manual_seed(args.seed)
    export(Conv1dNet(), (1, 6, 128), os.path.join(out, "conv1d.onnx"))

    # conv1: [1,64,82,33] -> pool (1,3): [1,64,82,11] -> conv2: [1,64,73,8].
    torch.manual_seed(args.seed + 1)
    dense_in = 64 * 73 * 8
    export(CNN2d(dense_in), (1, 1, 101, 40), os.path.join(out, "cnn2d.onnx"))

    torch.manual_seed(args.seed + 2)
    export(SmallNet(), (1, 3, 16, 16), os.path.join(out, "small.onnx"))


if __name__ == "__main__":
    main()
