package main

import (
	"encoding/binary"
	"math"
)

// A minimal protobuf writer, just enough to emit a one-node ONNX model
// (ModelProto / GraphProto / NodeProto / ValueInfoProto / TensorProto) so the
// SGEMM comparison needs neither Python nor generated ONNX bindings.

type pb []byte

func (b pb) tag(field, wire int) pb { return binary.AppendUvarint(b, uint64(field<<3|wire)) }

func (b pb) varint(field int, v uint64) pb {
	return binary.AppendUvarint(b.tag(field, 0), v)
}

func (b pb) bytes(field int, v []byte) pb {
	b = binary.AppendUvarint(b.tag(field, 2), uint64(len(v)))
	return append(b, v...)
}

func (b pb) str(field int, s string) pb { return b.bytes(field, []byte(s)) }

// valueInfo encodes a ValueInfoProto for a float tensor of static shape.
func valueInfo(name string, shape []int) []byte {
	var dims pb
	for _, d := range shape {
		dims = dims.bytes(1, pb(nil).varint(1, uint64(d))) // Dimension.dim_value
	}
	tensorType := pb(nil).varint(1, onnxFloat).bytes(2, dims) // elem_type, shape
	typ := pb(nil).bytes(1, tensorType)                       // TypeProto.tensor_type
	return pb(nil).str(1, name).bytes(2, typ)
}

// floatInitializer encodes a TensorProto holding data as raw little-endian bytes.
func floatInitializer(name string, shape []int, data []float32) []byte {
	var t pb
	for _, d := range shape {
		t = t.varint(1, uint64(d)) // dims
	}
	t = t.varint(2, onnxFloat) // data_type
	t = t.str(8, name)         // name
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return t.bytes(9, raw) // raw_data
}

// matMulModel returns an ONNX model (opset 13) computing Y = A x B with
// A [m,k] and Y [m,n]. With constB nil, B [k,n] is a second graph input;
// otherwise B is an initializer (which lets ORT pre-pack it).
func matMulModel(m, k, n int, constB []float32) []byte {
	node := pb(nil).str(1, "A").str(1, "B").str(2, "Y").str(3, "matmul").str(4, "MatMul")
	g := pb(nil).bytes(1, node).str(2, "sgemm")
	if constB != nil {
		g = g.bytes(5, floatInitializer("B", []int{k, n}, constB))
	}
	g = g.bytes(11, valueInfo("A", []int{m, k}))
	if constB == nil {
		g = g.bytes(11, valueInfo("B", []int{k, n}))
	}
	g = g.bytes(12, valueInfo("Y", []int{m, n}))
	opset := pb(nil).str(1, "").varint(2, 13)
	return pb(nil).
		varint(1, 7).          // ir_version
		str(2, "kagen-bench"). // producer_name
		bytes(7, g).           // graph
		bytes(8, opset)        // opset_import
}
