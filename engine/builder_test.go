package engine

import (
	"math/rand/v2"
	"testing"

	"github.com/kagen-ai/kagen/engine/onnx"
)

// builder assembles decoded ONNX models for tests.
type builder struct{ m *onnx.Model }

func newBuilder(opset int64) *builder {
	return &builder{m: &onnx.Model{Opsets: map[string]int64{"": opset}, Graph: &onnx.Graph{}}}
}

func (b *builder) input(name string, shape ...int) *builder {
	vi := &onnx.ValueInfo{Name: name, ElemType: int32(Float32), HasShape: true, IsTensor: true}
	for _, d := range shape {
		vi.Dims = append(vi.Dims, onnx.Dim{Value: int64(d), Known: true})
	}
	b.m.Graph.Inputs = append(b.m.Graph.Inputs, vi)
	return b
}

func (b *builder) init(name string, data []float32, shape ...int) *builder {
	t := &onnx.Tensor{Name: name, DataType: int32(Float32), Floats: data}
	for _, d := range shape {
		t.Dims = append(t.Dims, int64(d))
	}
	b.m.Graph.Initializers = append(b.m.Graph.Initializers, t)
	return b
}

func (b *builder) initInts(name string, data []int64, shape ...int) *builder {
	t := &onnx.Tensor{Name: name, DataType: int32(Int64), Ints: data}
	for _, d := range shape {
		t.Dims = append(t.Dims, int64(d))
	}
	b.m.Graph.Initializers = append(b.m.Graph.Initializers, t)
	return b
}

func (b *builder) node(op string, ins, outs []string, attrs ...*onnx.Attribute) *builder {
	b.m.Graph.Nodes = append(b.m.Graph.Nodes, &onnx.Node{Name: outs[0] + "_node", OpType: op, Inputs: ins, Outputs: outs, Attrs: attrs, Index: len(b.m.Graph.Nodes)})
	return b
}

func (b *builder) output(names ...string) *builder {
	for _, n := range names {
		b.m.Graph.Outputs = append(b.m.Graph.Outputs, &onnx.ValueInfo{Name: n, IsTensor: true})
	}
	return b
}

func (b *builder) load(t testing.TB, opts Options) *Model {
	t.Helper()
	m, err := loadDecoded(b.m, "test", opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func attrInts(name string, v ...int) *onnx.Attribute {
	a := &onnx.Attribute{Name: name, Type: 7}
	for _, x := range v {
		a.Ints = append(a.Ints, int64(x))
	}
	return a
}

func attrInt(name string, v int) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: 2, I: int64(v)}
}

func attrFloat(name string, v float32) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: 1, F: v}
}

func randFloats(rng *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = rng.Float32()*2 - 1
	}
	return out
}

// referenceSelector runs every node with its reference implementation.
type referenceSelector struct{ m *Model }

func (r referenceSelector) Kernel(step int) Kernel {
	st := r.m.steps[step]
	if st.kernel == nil {
		return nil
	}
	return evalKernel{st.n}
}

// checkAgainstReference runs m with its fast kernels and with the reference
// implementations and compares the outputs within a relative tolerance.
func checkAgainstReference(t *testing.T, m *Model, inputs []*Tensor, tol float64) {
	t.Helper()
	fast, err := m.NewSession().Run(inputs)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := m.NewSession().RunWith(inputs, referenceSelector{m})
	if err != nil {
		t.Fatal(err)
	}
	for i := range ref {
		compareFloats(t, fast[i].F, ref[i].F, tol)
	}
}

func compareFloats(t *testing.T, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d elements, want %d", len(got), len(want))
	}
	scale := 1e-3
	for _, w := range want {
		scale = max(scale, abs64(float64(w)))
	}
	for i := range want {
		if d := abs64(float64(got[i]) - float64(want[i])); d > tol*scale || d != d {
			t.Fatalf("element %d: got %g, want %g (|d| %g > %g)", i, got[i], want[i], d, tol*scale)
		}
	}
}

func abs64(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
