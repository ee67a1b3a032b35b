package onnx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

func TestDecodeModel(t *testing.T) {
	unknown := pb{}.int(999, 7).str(1000, "future").fixed32(1001, 1).fixed64(1002, 2).group(1003, pb{}.int(1, 1))
	subgraph := pb{}.msg(1, node("", "Identity", []string{"a"}, []string{"b"}))
	attrs := []pb{
		pb{}.str(1, "alpha").int(20, int64(AttrFloat)).fixed32(2, math.Float32bits(0.25)),
		pb{}.str(1, "axis").int(20, int64(AttrInt)).int(3, -1),
		pb{}.str(1, "mode").int(20, int64(AttrString)).str(4, "constant").str(13, "doc"),
		pb{}.str(1, "value").int(20, int64(AttrTensor)).msg(5, floatTensor("c", []int64{2}, 1, 2)),
		pb{}.str(1, "body").int(20, int64(AttrGraph)).msg(6, subgraph),
		pb{}.str(1, "scales").int(20, int64(AttrFloats)).packedFixed32(7, math.Float32bits(1), math.Float32bits(2)),
		pb{}.str(1, "scales2").int(20, int64(AttrFloats)).fixed32(7, math.Float32bits(3)).fixed32(7, math.Float32bits(4)),
		pb{}.str(1, "perm").int(20, int64(AttrInts)).packedVarints(8, 0, 2, 1).int(8, -3),
		pb{}.str(1, "names").int(20, int64(AttrStrings)).strs(9, "a", "", "c"),
		pb{}.str(1, "branches").int(20, int64(AttrGraphs)).msgs(11, subgraph, subgraph),
		pb{}.str(1, "ref").int(20, int64(AttrInt)).str(21, "outer"),
		pb{}.str(1, "old").int(3, 5), // no type: implied INT
		append(pb{}.str(1, "future"), unknown...),
	}
	graph := pb{}.str(2, "main").
		msg(1, append(node("n0", "Custom", []string{"x", ""}, []string{"y"}, attrs...).str(7, "com.example"), unknown...)).
		msg(1, node("", "Relu", []string{"y"}, []string{"z"}).str(7, "ai.onnx")).
		msg(5, append(floatTensor("w", []int64{2, 1}, 3, 4), unknown...)).
		msg(15, pb{}.msg(1, floatTensor("sv", []int64{1}, 1))).
		msg(11, append(valueInfo("x", dtFloat, "N", 3), unknown...)).
		msg(11, pb{}.str(1, "seq").msg(2, pb{}.msg(4, pb{}))). // sequence type
		msg(11, pb{}.str(1, "scalar").msg(2, pb{}.msg(1, pb{}.int(1, dtInt64).msg(2, pb{})))).
		msg(11, pb{}.str(1, "unranked").msg(2, pb{}.msg(1, pb{}.int(1, dtInt64)))).
		msg(12, valueInfo("z", dtFloat16, "N", 3)).
		msg(13, valueInfo("y", dtFloat, 0, "")).
		msg(14, pb{}.str(1, "annotation"))
	graph = append(graph, unknown...)
	data := pb{}.int(1, 7).
		str(2, "prod").str(3, "1.2").str(4, "ai.kagen").int(5, 42).str(6, "doc").
		msg(8, pb{}.str(1, "ai.onnx").int(2, 13)).
		msg(8, pb{}.str(1, "com.example").int(2, 1)).
		msg(14, pb{}.str(1, "author").str(2, "me")).
		msg(14, pb{}.str(1, "license")).
		msg(20, pb{}.msg(1, subgraph)). // training_info
		msg(25, pb{}.str(1, "fn")).     // functions
		msg(7, graph)
	data = append(data, unknown...)

	m, err := Decode(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if m.IRVersion != 7 || m.ProducerName != "prod" || m.ProducerVersion != "1.2" || m.Domain != "ai.kagen" || m.ModelVersion != 42 {
		t.Errorf("model header = %d %q %q %q %d", m.IRVersion, m.ProducerName, m.ProducerVersion, m.Domain, m.ModelVersion)
	}
	if want := map[string]int64{"": 13, "com.example": 1}; !reflect.DeepEqual(m.Opsets, want) || m.Opset() != 13 {
		t.Errorf("opsets = %v, Opset() = %d", m.Opsets, m.Opset())
	}
	if want := map[string]string{"author": "me", "license": ""}; !reflect.DeepEqual(m.Metadata, want) {
		t.Errorf("metadata = %v", m.Metadata)
	}
	g := m.Graph
	if g.Name != "main" || len(g.Nodes) != 2 || len(g.Initializers) != 1 || g.SparseInitializers != 1 {
		t.Fatalf("graph %q: %d nodes, %d initializers, %d sparse", g.Name, len(g.Nodes), len(g.Initializers), g.SparseInitializers)
	}
	n := g.Nodes[0]
	if n.Name != "n0" || n.OpType != "Custom" || n.Domain != "com.example" || n.Index != 0 ||
		!reflect.DeepEqual(n.Inputs, []string{"x", ""}) || !reflect.DeepEqual(n.Outputs, []string{"y"}) {
		t.Errorf("node 0 = %+v", n)
	}
	if n := g.Nodes[1]; n.OpType != "Relu" || n.Domain != "" || n.Index != 1 || len(n.Attrs) != 0 {
		t.Errorf("node 1 = %+v", n)
	}
	wantSub := &Graph{Nodes: []*Node{{OpType: "Identity", Inputs: []string{"a"}, Outputs: []string{"b"}}}}
	want := []*Attribute{
		{Name: "alpha", Type: AttrFloat, F: 0.25},
		{Name: "axis", Type: AttrInt, I: -1},
		{Name: "mode", Type: AttrString, S: []byte("constant")},
		{Name: "value", Type: AttrTensor, T: &Tensor{Name: "c", DataType: dtFloat, Dims: []int64{2}, Floats: []float32{1, 2}}},
		{Name: "body", Type: AttrGraph, HasGraph: true, G: wantSub},
		{Name: "scales", Type: AttrFloats, Floats: []float32{1, 2}},
		{Name: "scales2", Type: AttrFloats, Floats: []float32{3, 4}},
		{Name: "perm", Type: AttrInts, Ints: []int64{0, 2, 1, -3}},
		{Name: "names", Type: AttrStrings, Strings: [][]byte{[]byte("a"), {}, []byte("c")}},
		{Name: "branches", Type: AttrGraphs, HasGraph: true, Graphs: []*Graph{wantSub, wantSub}},
		{Name: "ref", Type: AttrInt, RefAttrName: "outer"},
		{Name: "old", Type: AttrInt, I: 5},
		{Name: "future"},
	}
	if len(n.Attrs) != len(want) {
		t.Fatalf("%d attributes, want %d", len(n.Attrs), len(want))
	}
	for i, a := range n.Attrs {
		if !reflect.DeepEqual(a, want[i]) {
			t.Errorf("attribute %d = %+v, want %+v", i, a, want[i])
		}
	}
	if w := g.Initializers[0]; w.Name != "w" || !reflect.DeepEqual(w.Floats, []float32{3, 4}) {
		t.Errorf("initializer = %+v", w)
	}
	vis := []*ValueInfo{
		{Name: "x", ElemType: dtFloat, Dims: []Dim{{Param: "N"}, {Value: 3, Known: true}}, HasShape: true, IsTensor: true, Kind: TypeTensor},
		{Name: "seq", Kind: TypeSequence},
		{Name: "scalar", ElemType: dtInt64, HasShape: true, IsTensor: true, Kind: TypeTensor},
		{Name: "unranked", ElemType: dtInt64, IsTensor: true, Kind: TypeTensor},
		{Name: "z", ElemType: dtFloat16, Dims: []Dim{{Param: "N"}, {Value: 3, Known: true}}, HasShape: true, IsTensor: true, Kind: TypeTensor},
		{Name: "y", ElemType: dtFloat, Dims: []Dim{{Value: 0, Known: true}, {}}, HasShape: true, IsTensor: true, Kind: TypeTensor},
	}
	got := append(append(append([]*ValueInfo{}, g.Inputs...), g.Outputs...), g.ValueInfo...)
	if len(got) != len(vis) {
		t.Fatalf("%d value infos, want %d", len(got), len(vis))
	}
	for i, vi := range got {
		if !reflect.DeepEqual(vi, vis[i]) {
			t.Errorf("value info %d = %+v, want %+v", i, vi, vis[i])
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	truncInts := pb{}.str(1, "pads").int(20, int64(AttrInts)).bytes(8, []byte{1, 0x80})
	tests := []struct {
		name string
		data []byte
		want string // substring of the error
	}{
		{"empty", nil, "onnx: model: no graph"},
		{"not protobuf", []byte("hello world"), "onnx: model: "},
		{"varint 11 bytes", append(pb{}.int(1, 1)[:1], bytes.Repeat([]byte{0xff}, 10)...), "model: field 1 (wire type 0) at byte 0: variable length integer overflow"},
		{"field number 0", []byte{0x00, 0x01}, "model: bad field tag at byte 0"},
		{"length past end", pb{}.bytes(7, []byte("abc"))[:4], "model: truncated field 7 at byte 0: length 3, only 2 bytes left: unexpected EOF"},
		{"huge length", append(pb{0x3a}, protowire.AppendVarint(nil, 1<<62)...), "unexpected EOF"},
		{"graph wire type", pb{}.int(7, 1), "model: field 7 (graph) has wrong wire type 0 at byte 1"},
		{"ir_version wire type", pb{}.str(1, "x"), "model: field 1 (ir_version) has wrong wire type 2"},
		{"stray end group", []byte{0x0c}, "model: field 1 (wire type 4) at byte 0"},
		{"unmatched group", pb{}.group(9, nil)[:1], "model: field 9 (wire type 3) at byte 0: unexpected EOF"},
		{"deep groups", bytes.Repeat([]byte{0x4b}, 20000), "model: field 9 (wire type 3) at byte 0"},
		{"two graphs", model(testGraph()).msg(7, testGraph()), "model: second graph at byte"},
		{"opset twice", model(testGraph()).msg(8, pb{}.str(1, "ai.onnx").int(2, 11)), `model.opset_import[1]: domain "" imported twice, as versions 17 and 11`},
		{"truncated packed ints", model(pb{}.msg(1, nil).msg(1, node("conv1", "Conv", nil, nil, truncInts))),
			`onnx: graph.node[1] "conv1" (Conv) attribute "pads": ints: truncated packed ints at byte 53: unexpected EOF`},
		{"unnamed attribute", model(pb{}.msg(1, node("", "Conv", nil, nil, pb{}.int(3, 1).str(3, "x")))),
			`onnx: graph.node[0] (Conv) attribute[0]: field 3 (i) has wrong wire type 2`},
		{"packed floats length", model(pb{}.msg(1, node("", "X", nil, nil, pb{}.str(1, "f").bytes(7, []byte{1, 2, 3})))),
			`attribute "f": floats: packed length 3 at byte`},
		{"attribute f wire type", model(pb{}.msg(1, node("", "X", nil, nil, pb{}.str(1, "f").int(2, 3)))),
			`attribute "f": field 2 (f) has wrong wire type 0`},
		{"bad initializer", model(pb{}.msg(5, pb{}.str(tfName, "w").int(tfDataType, dtFloat).dims(2).fixed32(tfFloatData, 0))),
			`onnx: graph.initializer[0]: tensor "w": float_data holds 1 elements, dims [2] need 2`},
		{"bad attribute tensor", model(pb{}.msg(1, node("c", "Constant", nil, nil, pb{}.str(1, "value").msg(5, pb{}.str(tfName, "v").int(tfDataType, 14))))),
			`onnx: graph.node[0] "c" (Constant) attribute "value": tensor "v": unsupported data type 14`},
		{"value info", model(pb{}.msg(11, pb{}.str(1, "x").msg(2, pb{}.msg(1, pb{}.msg(2, pb{}.msg(1, pb{}.str(1, "bad"))))))),
			`onnx: graph.input[0] "x" type shape dim[0]: field 1 (dim_value) has wrong wire type 2`},
		{"sparse wire type", model(pb{}.int(15, 1)), "graph: field 15 (sparse_initializer) has wrong wire type 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Decode(tt.data, Limits{})
			if err == nil {
				t.Fatalf("no error, model %+v", m)
			}
			if !strings.HasPrefix(err.Error(), "onnx: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestTruncatedModel decodes every strict prefix of a valid model: each must
// fail cleanly.
func TestTruncatedModel(t *testing.T) {
	data := model(testGraph().msg(1, node("c", "Constant", nil, []string{"k"},
		pb{}.str(1, "value").int(20, int64(AttrTensor)).msg(5, pb{}.str(tfName, "k").int(tfDataType, dtInt64).dims(3).packedVarints(tfInt64Data, 1, 1<<40, 3)))))
	if _, err := Decode(data, Limits{}); err != nil {
		t.Fatal(err)
	}
	for i := range data {
		if m, err := Decode(data[:i], Limits{}); err == nil {
			t.Fatalf("prefix of %d bytes decoded without error: %+v", i, m)
		} else if !strings.HasPrefix(err.Error(), "onnx: ") {
			t.Fatalf("prefix of %d bytes: error %q lacks the onnx: prefix", i, err)
		}
	}
	if _, err := Decode(data[:len(data)-1], Limits{}); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("error %v does not wrap io.ErrUnexpectedEOF", err)
	}
}

// TestNestedGraphDepth checks that graphs in attributes are decoded down to
// Limits.MaxDepth levels and that deeper nesting is refused, naming the path.
func TestNestedGraphDepth(t *testing.T) {
	nest := func(levels int) pb {
		g := pb{}.msg(1, node("", "Relu", []string{"x"}, []string{"y"}))
		for i := range levels {
			g = pb{}.msg(1, node(fmt.Sprintf("if%d", levels-1-i), "If", nil, nil, pb{}.str(1, "then_branch").int(20, int64(AttrGraph)).msg(6, g)))
		}
		return g
	}
	m, err := Decode(model(nest(16)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	g := m.Graph
	for range 16 {
		if n := g.Nodes[0]; n.OpType != "If" || n.Attrs[0].G == nil {
			t.Fatalf("node = %+v", n)
		}
		g = g.Nodes[0].Attrs[0].G
	}
	if g.Nodes[0].OpType != "Relu" {
		t.Fatalf("innermost node = %+v", g.Nodes[0])
	}
	_, err = Decode(model(nest(2000)), Limits{})
	if err == nil || !strings.Contains(err.Error(), "graphs nested deeper than 16 levels") ||
		!strings.HasPrefix(err.Error(), `onnx: graph.node[0] "if0" (If) attribute "then_branch" graph.node[0] "if1" (If)`) {
		t.Fatalf("error %v", err)
	}
	if _, err = Decode(model(nest(3)), Limits{MaxDepth: 2}); err == nil {
		t.Fatal("MaxDepth 2 decoded 3 levels")
	}
	bad := model(pb{}.msg(1, node("loop", "Loop", nil, nil, pb{}.str(1, "body").int(20, int64(AttrGraph)).
		msg(6, pb{}.msg(5, pb{}.str(tfName, "w").int(tfDataType, dtFloat).dims(2).fixed32(tfFloatData, 0))))))
	if _, err = Decode(bad, Limits{}); err == nil || !strings.Contains(err.Error(),
		`onnx: graph.node[0] "loop" (Loop) attribute "body" graph.initializer[0]: tensor "w": float_data holds 1 elements`) {
		t.Fatalf("error %v", err)
	}
	twice := model(pb{}.msg(1, node("", "If", nil, nil, pb{}.str(1, "g").msg(6, nil).msg(6, nil))))
	if _, err = Decode(twice, Limits{}); err == nil || !strings.Contains(err.Error(), "second graph") {
		t.Fatalf("error %v", err)
	}
}

func TestTypeKinds(t *testing.T) {
	for num, want := range map[int]TypeKind{1: TypeTensor, 4: TypeSequence, 5: TypeMap, 7: TypeOpaque, 8: TypeSparseTensor, 9: TypeOptional} {
		m, err := Decode(model(pb{}.msg(11, pb{}.str(1, "v").msg(2, pb{}.msg(protowire.Number(num), pb{})))), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if vi := m.Graph.Inputs[0]; vi.Kind != want || vi.IsTensor != (want == TypeTensor) {
			t.Errorf("field %d: kind %v, tensor %v", num, vi.Kind, vi.IsTensor)
		}
	}
	if s := TypeSequence.String(); s != "sequence" {
		t.Errorf("TypeSequence is %q", s)
	}
}

func TestAttrTypeString(t *testing.T) {
	for typ, want := range map[AttrType]string{AttrFloat: "FLOAT", AttrInts: "INTS", AttrTypeProtos: "TYPE_PROTOS", 99: "AttrType(99)", -1: "AttrType(-1)"} {
		if got := typ.String(); got != want {
			t.Errorf("AttrType(%d).String() = %q, want %q", int32(typ), got, want)
		}
	}
}
