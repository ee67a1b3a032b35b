package onnx

import (
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Encode serializes a model into ONNX protobuf bytes: the fields Decode
// reads, so that Decode(Encode(m)) gives m back. Tests and tools use it to
// write models they build.
func Encode(m *Model) []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, 8)
	for d, v := range m.Opsets {
		var o []byte
		o = appendString(o, 1, d)
		o = protowire.AppendTag(o, 2, protowire.VarintType)
		o = protowire.AppendVarint(o, uint64(v))
		b = appendBytes(b, 8, o)
	}
	return appendBytes(b, 7, encodeGraph(m.Graph))
}

func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	return appendBytes(b, num, []byte(s))
}

func appendVarint(b []byte, num protowire.Number, v int64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

func encodeGraph(g *Graph) []byte {
	var b []byte
	for _, n := range g.Nodes {
		var nb []byte
		for _, s := range n.Inputs {
			nb = appendString(nb, 1, s)
		}
		for _, s := range n.Outputs {
			nb = appendString(nb, 2, s)
		}
		nb = appendString(nb, 3, n.Name)
		nb = appendString(nb, 4, n.OpType)
		if n.Domain != "" {
			nb = appendString(nb, 7, n.Domain)
		}
		for _, a := range n.Attrs {
			nb = appendBytes(nb, 5, encodeAttr(a))
		}
		b = appendBytes(b, 1, nb)
	}
	b = appendString(b, 2, g.Name)
	for _, t := range g.Initializers {
		b = appendBytes(b, 5, encodeTensor(t))
	}
	for _, vi := range g.Inputs {
		b = appendBytes(b, 11, encodeValueInfo(vi))
	}
	for _, vi := range g.Outputs {
		b = appendBytes(b, 12, encodeValueInfo(vi))
	}
	return b
}

func encodeAttr(a *Attribute) []byte {
	var b []byte
	b = appendString(b, 1, a.Name)
	b = appendVarint(b, 20, int64(a.Type))
	switch a.Type {
	case AttrFloat:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.F))
	case AttrInt:
		b = appendVarint(b, 3, a.I)
	case AttrString:
		b = appendBytes(b, 4, a.S)
	case AttrTensor:
		b = appendBytes(b, 5, encodeTensor(a.T))
	case AttrGraph:
		b = appendBytes(b, 6, encodeGraph(a.G))
	case AttrFloats:
		var p []byte
		for _, f := range a.Floats {
			p = protowire.AppendFixed32(p, math.Float32bits(f))
		}
		b = appendBytes(b, 7, p)
	case AttrInts:
		var p []byte
		for _, v := range a.Ints {
			p = protowire.AppendVarint(p, uint64(v))
		}
		b = appendBytes(b, 8, p)
	}
	return b
}

func encodeTensor(t *Tensor) []byte {
	var b []byte
	for _, d := range t.Dims {
		b = appendVarint(b, 1, d)
	}
	b = appendVarint(b, 2, int64(t.DataType))
	b = appendString(b, 8, t.Name)
	switch {
	case t.DataType == dtFloat:
		var p []byte
		for _, f := range t.Floats {
			p = protowire.AppendFixed32(p, math.Float32bits(f))
		}
		b = appendBytes(b, 4, p)
	case t.DataType == dtInt64:
		var p []byte
		for _, v := range t.Ints {
			p = protowire.AppendVarint(p, uint64(v))
		}
		b = appendBytes(b, 7, p)
	default: // int32_data carries the narrower integer types and BOOL
		var p []byte
		for _, v := range t.Ints {
			p = protowire.AppendVarint(p, uint64(v))
		}
		b = appendBytes(b, 5, p)
	}
	return b
}

func encodeValueInfo(vi *ValueInfo) []byte {
	var shape []byte
	for _, d := range vi.Dims {
		var db []byte
		if d.Known {
			db = appendVarint(db, 1, d.Value)
		} else {
			db = appendString(db, 2, d.Param)
		}
		shape = appendBytes(shape, 1, db)
	}
	var tt []byte
	tt = appendVarint(tt, 1, int64(vi.ElemType))
	if vi.HasShape {
		tt = appendBytes(tt, 2, shape)
	}
	var b []byte
	b = appendString(b, 1, vi.Name)
	return appendBytes(b, 2, appendBytes(nil, 1, tt))
}
