#!/usr/bin/python3
"""Writes single-node depthwise convolution models (Conv with group = channels,
bias, then Clip(0, 6) as in MobileNet) for the shapes of MobileNetV1/V2/V3,
EfficientNet-B0 and MNASNet at 224x224 and of MLPerf VWW MobileNetV1-0.25 at
96x96, to measure kagen against ONNX Runtime per node (issue #17):

    /usr/bin/python3 bench/dw/gen.py bench/dw/shapes
    bench/peers.sh --ort-lib LIB --engines kagen,ort --runs 50 bench/dw/shapes/*.onnx
    python3 bench/dw/table.py < peers-output.jsonl   # GMAC/s per shape

Each model is named dw_c<channels>_<size>_k<kernel>s<stride>.onnx.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# channels, input size (square), kernel, stride
SHAPES = [
    (32, 112, 3, 1),   # MobileNetV2/V1 first depthwise
    (96, 112, 3, 2),   # MobileNetV2 block 2
    (144, 56, 3, 1),   # MobileNetV2
    (144, 56, 3, 2),   # MobileNetV2 56 -> 28
    (240, 28, 5, 1),   # EfficientNet-B0 / MNASNet 5x5
    (480, 14, 5, 1),   # EfficientNet-B0 / MNASNet
    (672, 14, 5, 2),   # EfficientNet-B0 14 -> 7
    (960, 7, 3, 1),    # MobileNetV2 last depthwise
    (960, 7, 5, 1),    # MobileNetV3 / MNASNet 5x5 at 7x7
    (8, 48, 3, 1),     # VWW MobileNetV1-0.25 at 96x96
    (16, 48, 3, 2),    # VWW
    (128, 6, 3, 1),    # VWW
]


def model(c, size, k, s, rng):
    pad = k // 2
    out = (size + 2 * pad - k) // s + 1
    w = rng.standard_normal((c, 1, k, k)).astype(np.float32) / k
    b = rng.standard_normal(c).astype(np.float32) * 0.1
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["y"], group=c, kernel_shape=[k, k],
                         strides=[s, s], pads=[pad, pad, pad, pad]),
        helper.make_node("Clip", ["y", "lo", "hi"], ["z"]),
    ]
    g = helper.make_graph(
        nodes, "dw",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, size, size])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, c, out, out])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b"),
         numpy_helper.from_array(np.array(0, np.float32), "lo"),
         numpy_helper.from_array(np.array(6, np.float32), "hi")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m, c * out * out * k * k


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "shapes")
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(1)
    for c, size, k, s in SHAPES:
        m, macs = model(c, size, k, s, rng)
        name = f"dw_c{c}_{size}_k{k}s{s}.onnx"
        onnx.save(m, os.path.join(d, name))
        print(f"{name}\t{macs / 1e6:.2f} MMAC")


if __name__ == "__main__":
    main()
