package onnx

import (
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// pb is a tiny protobuf encoder for building test inputs. Its methods
// never write into the spare capacity of b, so a prefix can be extended in
// several ways.
type pb []byte

func (b pb) clip() pb { return b[:len(b):len(b)] }

func (b pb) varint(num protowire.Number, v uint64) pb {
	b = protowire.AppendTag(b.clip(), num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func (b pb) int(num protowire.Number, v int64) pb { return b.varint(num, uint64(v)) }

func (b pb) fixed32(num protowire.Number, v uint32) pb {
	b = protowire.AppendTag(b.clip(), num, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, v)
}

func (b pb) fixed64(num protowire.Number, v uint64) pb {
	b = protowire.AppendTag(b.clip(), num, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, v)
}

func (b pb) bytes(num protowire.Number, v []byte) pb {
	b = protowire.AppendTag(b.clip(), num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func (b pb) str(num protowire.Number, s string) pb { return b.bytes(num, []byte(s)) }

func (b pb) strs(num protowire.Number, ss ...string) pb {
	for _, s := range ss {
		b = b.str(num, s)
	}
	return b
}

func (b pb) msg(num protowire.Number, m pb) pb { return b.bytes(num, m) }

func (b pb) msgs(num protowire.Number, ms ...pb) pb {
	for _, m := range ms {
		b = b.msg(num, m)
	}
	return b
}

// group appends an (unknown) group field holding m.
func (b pb) group(num protowire.Number, m pb) pb {
	b = protowire.AppendTag(b.clip(), num, protowire.StartGroupType)
	return protowire.AppendTag(append(b, m...), num, protowire.EndGroupType)
}

func (b pb) packedVarints(num protowire.Number, vs ...uint64) pb {
	var p []byte
	for _, v := range vs {
		p = protowire.AppendVarint(p, v)
	}
	return b.bytes(num, p)
}

func (b pb) packedFixed32(num protowire.Number, vs ...uint32) pb {
	var p []byte
	for _, v := range vs {
		p = protowire.AppendFixed32(p, v)
	}
	return b.bytes(num, p)
}

func (b pb) packedFixed64(num protowire.Number, vs ...uint64) pb {
	var p []byte
	for _, v := range vs {
		p = protowire.AppendFixed64(p, v)
	}
	return b.bytes(num, p)
}

func (b pb) dims(dims ...int64) pb {
	var vs []uint64
	for _, d := range dims {
		vs = append(vs, uint64(d))
	}
	return b.packedVarints(tfDims, vs...)
}

// floatTensor returns a FLOAT TensorProto with packed float_data.
func floatTensor(name string, dims []int64, vals ...float32) pb {
	var bits []uint32
	for _, v := range vals {
		bits = append(bits, math.Float32bits(v))
	}
	return pb{}.dims(dims...).int(tfDataType, dtFloat).packedFixed32(tfFloatData, bits...).str(tfName, name)
}

// node returns a NodeProto.
func node(name, op string, in, out []string, attrs ...pb) pb {
	return pb{}.strs(1, in...).strs(2, out...).str(3, name).str(4, op).msgs(5, attrs...)
}

// intsAttr returns an INTS AttributeProto with packed ints.
func intsAttr(name string, vs ...int64) pb {
	var u []uint64
	for _, v := range vs {
		u = append(u, uint64(v))
	}
	return pb{}.str(1, name).int(20, int64(AttrInts)).packedVarints(8, u...)
}

// valueInfo returns a tensor ValueInfoProto; dims are int64 or string.
func valueInfo(name string, elem int32, dims ...any) pb {
	var shape pb
	for _, d := range dims {
		switch d := d.(type) {
		case int:
			shape = shape.msg(1, pb{}.int(1, int64(d)))
		case string:
			shape = shape.msg(1, pb{}.str(2, d))
		}
	}
	tt := pb{}.int(1, int64(elem)).msg(2, shape)
	return pb{}.str(1, name).msg(2, pb{}.msg(1, tt))
}

// model returns a ModelProto importing ai.onnx opset 17, with graph last so
// that every strict prefix of it is invalid.
func model(graph pb) pb {
	return pb{}.int(1, 8).str(2, "kagen-test").msg(8, pb{}.str(1, "").int(2, 17)).msg(7, graph)
}

// testGraph is a small valid graph exercising most decoded fields.
func testGraph() pb {
	return pb{}.str(2, "g").
		msg(1, node("conv1", "Conv", []string{"x", "w"}, []string{"y"},
			intsAttr("pads", 1, 1, 1, 1),
			pb{}.str(1, "strides").int(20, int64(AttrInts)).int(8, 1).int(8, 1), // unpacked
			pb{}.str(1, "group").int(20, int64(AttrInt)).int(3, 1))).
		msg(1, node("relu", "Relu", []string{"y"}, []string{"z"})).
		msg(5, floatTensor("w", []int64{1, 1, 1, 1}, 0.5)).
		msg(11, valueInfo("x", dtFloat, "N", 1, 4, 4)).
		msg(11, valueInfo("w", dtFloat, 1, 1, 1, 1)).
		msg(12, valueInfo("z", dtFloat, "N", 1, 4, 4))
}
