package onnx

import (
	"reflect"
	"testing"
)

func TestEncodeRoundTrip(t *testing.T) {
	m := &Model{Opsets: map[string]int64{"": 17}, Graph: &Graph{
		Inputs: []*ValueInfo{{Name: "x", ElemType: 1, HasShape: true, IsTensor: true,
			Dims: []Dim{{Value: 1, Known: true}, {Param: "time"}, {Value: 4, Known: true}}}},
		Initializers: []*Tensor{{Name: "w", DataType: 1, Dims: []int64{4, 2}, Floats: []float32{1, 2, 3, 4, 5, 6, 7, 8}}},
		Nodes:        []*Node{{Name: "mm", OpType: "MatMul", Inputs: []string{"x", "w"}, Outputs: []string{"y"}}},
		Outputs:      []*ValueInfo{{Name: "y", IsTensor: true}},
	}}
	back, err := Decode(Encode(m), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if back.Opset() != 17 || len(back.Graph.Nodes) != 1 || back.Graph.Nodes[0].OpType != "MatMul" {
		t.Fatalf("decoded %+v", back.Graph)
	}
	in := back.Graph.Inputs[0]
	if in.Name != "x" || len(in.Dims) != 3 || in.Dims[1].Param != "time" || in.Dims[1].Known || in.Dims[2].Value != 4 {
		t.Errorf("input %+v", in)
	}
	if w := back.Graph.Initializers[0]; !reflect.DeepEqual(w.Floats, m.Graph.Initializers[0].Floats) || !reflect.DeepEqual(w.Dims, []int64{4, 2}) {
		t.Errorf("initializer %+v", w)
	}
}
