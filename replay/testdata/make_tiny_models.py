#!/usr/bin/python3
"""Writes tiny_har.onnx and tiny_kws.onnx: untrained models with a kagen.frontend
spec, used by the replay and workbench tests. Deterministic (fixed seed).

Run: /usr/bin/python3 replay/testdata/make_tiny_models.py
"""
import json, os
import numpy as np
import onnx
from onnx import helper, TensorProto, numpy_helper

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)

def model(name, spec, in_shape, nclass):
    c = in_shape[1]
    w = rng.standard_normal((8, c) + tuple([3] * (len(in_shape) - 2))).astype(np.float32) * 0.3
    fc = rng.standard_normal((8, nclass)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1] * (2 * (len(in_shape) - 2))),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("GlobalAveragePool", ["r"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "fc"], ["y"]),
    ]
    g = helper.make_graph(nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, nclass])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(fc, "fc")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    helper.set_model_props(m, {"kagen.frontend": json.dumps(spec)})
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(here, name + ".onnx"))

har = {"version": 1, "task": "har", "sample_rate": 50,
       "channels": ["acc_along_g", "acc_across_g", "acc_norm", "gyro_along_g", "gyro_across_g", "gyro_norm"],
       "window": 64, "hop": 32,
       "features": {"type": "imu-orient", "acc_columns": ["x_acc", "y_acc", "z_acc"], "gyro_columns": ["x_gyro", "y_gyro", "z_gyro"]},
       "classes": ["SEATED", "STANDING_UP", "WALKING", "TURNING", "SITTING_DOWN"]}
model("tiny_har", har, [1, 6, 64], 5)
