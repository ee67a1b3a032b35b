#!/usr/bin/python3
"""Cuts the shipped keyword models (models/kws.onnx, models/kws-ds.onnx) into
one model per compute node (a Conv with the Relu after it, a MaxPool, a
MatMul), to time kagen against ONNX Runtime node by node without ORT's
profiler, whose overhead swamps the 5-50 us nodes of kws-ds (issue #17):

    /usr/bin/python3 bench/kws/split.py /tmp/kwsnodes
    bench/peers.sh --engines kagen,ort --runs 300 --threads 1 --ort-spin=false /tmp/kwsnodes/*.onnx

Each part is named <model>_<index>_<op>.onnx. Note that a single-node model
makes ORT reorder to and from its blocked (NCHWc) layout around the node,
which inside the whole model it does once.
"""
import os
import sys

import onnx
import onnx.utils

here = os.path.dirname(os.path.abspath(__file__))
models = os.path.join(here, "..", "..", "models")


def parts(path):
    m = onnx.load(path)
    nodes = m.graph.node
    i = 0
    while i < len(nodes):
        n = nodes[i]
        if n.op_type in ("Conv", "MaxPool", "MatMul"):
            out = n.output[0]
            if i + 1 < len(nodes) and nodes[i + 1].op_type == "Relu":
                out = nodes[i + 1].output[0]
            yield i, n, n.input[0], out
        i += 1


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "/tmp/kwsnodes"
    os.makedirs(outdir, exist_ok=True)
    for name in ("kws", "kws-ds"):
        src = os.path.join(models, name + ".onnx")
        for i, n, x, y in parts(src):
            dst = os.path.join(outdir, "%s_%02d_%s.onnx" % (name, i, n.op_type))
            onnx.utils.extract_model(src, dst, [x], [y])
            print(dst, n.name)


main()
