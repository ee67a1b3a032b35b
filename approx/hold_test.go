package approx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/engine/onnx"
)

// rnnModel builds a forward LSTM or GRU of seq steps, batch items, input
// features and hidden units with seeded random weights, bias and initial
// state, whose outputs are Y [seq, 1, batch, hidden] and Y_h.
func rnnModel(t testing.TB, op string, seq, batch, input, hidden int, seed uint64) *engine.Model {
	t.Helper()
	gates := map[string]int{"LSTM": 4, "GRU": 3}[op]
	rng := rand.New(rand.NewPCG(seed, 1))
	w := func(name string, dims ...int64) *onnx.Tensor {
		n := int64(1)
		for _, d := range dims {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = (rng.Float32()*2 - 1) * 0.6
		}
		return &onnx.Tensor{Name: name, DataType: 1, Dims: dims, Floats: v}
	}
	dim := func(d ...int) (out []onnx.Dim) {
		for _, x := range d {
			out = append(out, onnx.Dim{Value: int64(x), Known: true})
		}
		return out
	}
	g, h := int64(gates), int64(hidden)
	m := &onnx.Model{Opsets: map[string]int64{"": 14}, Graph: &onnx.Graph{
		Inputs: []*onnx.ValueInfo{{Name: "x", ElemType: 1, HasShape: true, IsTensor: true, Dims: dim(seq, batch, input)}},
		Initializers: []*onnx.Tensor{w("W", 1, g*h, int64(input)), w("R", 1, g*h, h), w("B", 1, 2*g*h),
			{Name: "h0", DataType: 1, Dims: []int64{1, int64(batch), h}, Floats: holdH0(batch * hidden)}},
		Nodes: []*onnx.Node{{Name: "rnn", OpType: op, Inputs: []string{"x", "W", "R", "B", "", "h0"}, Outputs: []string{"y", "yh"},
			Attrs: []*onnx.Attribute{{Name: "hidden_size", Type: onnx.AttrInt, I: h}}}},
		Outputs: []*onnx.ValueInfo{{Name: "y", IsTensor: true}, {Name: "yh", IsTensor: true}},
	}}
	mod, err := engine.LoadBytes(onnx.Encode(m), engine.Options{Name: op})
	if err != nil {
		t.Fatal(err)
	}
	return mod
}

// holdH0 is the models' initial hidden state.
func holdH0(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 0.3 * float32(math.Sin(float64(i)))
	}
	return v
}

// TestHoldMatchesReference runs LSTMs and GRUs of several lengths, batch
// sizes and widths under every hold:S:O offered and compares them with
// ReferenceHold over the exact model of the kept steps (the same weights,
// a shorter sequence); a knob must change the output.
func TestHoldMatchesReference(t *testing.T) {
	for _, c := range []struct {
		op                        string
		seq, batch, input, hidden int
	}{
		{"LSTM", 8, 1, 3, 4}, {"LSTM", 13, 3, 5, 16}, {"GRU", 8, 2, 4, 5}, {"GRU", 11, 1, 6, 32},
	} {
		m := rnnModel(t, c.op, c.seq, c.batch, c.input, c.hidden, 5)
		a := New(m)
		step := -1
		for _, n := range a.Nodes() {
			if n.Op == c.op {
				step = n.Step
			}
		}
		rng := rand.New(rand.NewPCG(9, uint64(c.seq)))
		x := randFloats(rng, c.seq*c.batch*c.input)
		bh := c.batch * c.hidden
		s := m.NewSession()
		exactOut, err := s.RunWith([]*engine.Tensor{engine.NewFloat(x, c.seq, c.batch, c.input)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		exactY := append([]float32(nil), exactOut[0].F...)
		// The exact model of the kept steps: same weights (same seed).
		exact := func(kept []int) ([][]float32, []float32) {
			sub := rnnModel(t, c.op, len(kept), c.batch, c.input, c.hidden, 5)
			xs := make([]float32, 0, len(kept)*c.batch*c.input)
			for _, tt := range kept {
				xs = append(xs, x[tt*c.batch*c.input:(tt+1)*c.batch*c.input]...)
			}
			ss := sub.NewSession()
			defer ss.Close()
			o, err := ss.RunWith([]*engine.Tensor{engine.NewFloat(xs, len(kept), c.batch, c.input)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			y := make([][]float32, len(kept))
			for j := range y {
				y[j] = append([]float32(nil), o[0].F[j*bh:(j+1)*bh]...)
			}
			return y, append([]float32(nil), o[1].F...)
		}
		h0 := holdH0(bh)
		var knobs []Knob
		for _, k := range a.Applicable(step) {
			if k.Shape == Hold && k.Prec == FP32 {
				knobs = append(knobs, k)
			}
		}
		if len(knobs) != 9 {
			t.Fatalf("%s: offered %v, want hold:S:O for S in 2..4", c.op, knobs)
		}
		for _, k := range knobs {
			t.Run(fmt.Sprintf("%s seq%d batch%d in%d h%d %s", c.op, c.seq, c.batch, c.input, c.hidden, k), func(t *testing.T) {
				sel, err := a.Prepare(a.NewConfig().With(step, k))
				if err != nil {
					t.Fatal(err)
				}
				out, err := s.RunWith([]*engine.Tensor{engine.NewFloat(x, c.seq, c.batch, c.input)}, sel)
				if err != nil {
					t.Fatal(err)
				}
				wantY, wantH := ReferenceHold(c.seq, k, h0, exact)
				for tt := 0; tt < c.seq; tt++ {
					if d := maxRelDiff(out[0].F[tt*bh:(tt+1)*bh], wantY[tt]); d > 1e-5 {
						t.Fatalf("step %d: %.3g from the reference", tt, d)
					}
				}
				if d := maxRelDiff(out[1].F, wantH); d > 1e-5 {
					t.Fatalf("last state: %.3g from the reference", d)
				}
				if maxRelDiff(out[0].F, exactY) < 1e-6 {
					t.Fatal("the hold changed nothing")
				}
			})
		}
		// Switching between exact and two holds allocates nothing.
		s1, _ := a.Prepare(a.NewConfig().With(step, knobs[0]))
		s2, _ := a.Prepare(a.NewConfig().With(step, knobs[len(knobs)-1]))
		in := []*engine.Tensor{engine.NewFloat(x, c.seq, c.batch, c.input)}
		i := 0
		if allocs := testing.AllocsPerRun(10, func() {
			s.RunWith(in, []engine.Selector{nil, s1, s2}[i%3])
			i++
		}); allocs != 0 {
			t.Fatalf("%s: switching holds allocates %.1f times per inference", c.op, allocs)
		}
		s.Close()
	}
}
