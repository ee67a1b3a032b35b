package approx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/engine/onnx"
)

// rnnProjCase is one recurrent node of TestRNNKnobsMatchReference.
type rnnProjCase struct {
	op, dir                   string
	seq, batch, input, hidden int
	lbr                       bool
	bias, h0, c0, peep        bool
	lens                      []int
}

func (c rnnProjCase) String() string {
	s := fmt.Sprintf("%s_%s_s%db%di%dh%d", c.op, c.dir, c.seq, c.batch, c.input, c.hidden)
	if c.lbr {
		s += "_lbr"
	}
	for i, on := range []bool{c.bias, c.h0, c.c0, c.peep} {
		if on {
			s += "_" + [...]string{"B", "h0", "c0", "P"}[i]
		}
	}
	if c.lens != nil {
		s += fmt.Sprintf("_lens%v", c.lens)
	}
	return s
}

// build returns c's model (constant weights and optional inputs, X the
// only graph input; outputs Y, Y_h and for an LSTM Y_c) and its
// definition for ReferenceRNN.
func (c rnnProjCase) build(t testing.TB, seed uint64) (*engine.Model, *RNNRef) {
	return c.buildThreads(t, seed, 1)
}

// buildThreads is build with sessions of the given number of threads.
func (c rnnProjCase) buildThreads(t testing.TB, seed uint64, threads int) (*engine.Model, *RNNRef) {
	t.Helper()
	g := map[string]int{"LSTM": 4, "GRU": 3, "RNN": 1}[c.op]
	dirs := 1
	if c.dir == "bidirectional" {
		dirs = 2
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	rnd := func(n int, scale float32) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = (rng.Float32()*2 - 1) * scale
		}
		return v
	}
	gh := g * c.hidden
	ref := &RNNRef{Op: c.op, Direction: c.dir, Seq: c.seq, Batch: c.batch, Input: c.input, Hidden: c.hidden, LinearBeforeReset: c.lbr,
		W: rnd(dirs*gh*c.input, 1.5/float32(math.Sqrt(float64(c.input)))), R: rnd(dirs*gh*c.hidden, 1.5/float32(math.Sqrt(float64(c.hidden)))), Lens: c.lens}
	fl := func(name string, v []float32, dims ...int64) *onnx.Tensor {
		return &onnx.Tensor{Name: name, DataType: 1, Dims: dims, Floats: v}
	}
	d, gh64, h64 := int64(dirs), int64(gh), int64(c.hidden)
	inits := []*onnx.Tensor{fl("W", ref.W, d, gh64, int64(c.input)), fl("R", ref.R, d, gh64, h64)}
	names := []string{"x", "W", "R", "", "", "", "", ""}
	if c.bias {
		ref.B = rnd(dirs*2*gh, 0.5)
		inits = append(inits, fl("B", ref.B, d, 2*gh64))
		names[3] = "B"
	}
	if c.lens != nil {
		l := make([]int64, len(c.lens))
		for i, v := range c.lens {
			l[i] = int64(v)
		}
		inits = append(inits, &onnx.Tensor{Name: "lens", DataType: 6, Dims: []int64{int64(c.batch)}, Ints: l})
		names[4] = "lens"
	}
	if c.h0 {
		ref.H0 = rnd(dirs*c.batch*c.hidden, 0.8)
		inits = append(inits, fl("h0", ref.H0, d, int64(c.batch), h64))
		names[5] = "h0"
	}
	if c.c0 {
		ref.C0 = rnd(dirs*c.batch*c.hidden, 0.8)
		inits = append(inits, fl("c0", ref.C0, d, int64(c.batch), h64))
		names[6] = "c0"
	}
	if c.peep {
		ref.P = rnd(dirs*3*c.hidden, 0.5)
		inits = append(inits, fl("P", ref.P, d, 3*h64))
		names[7] = "P"
	}
	for len(names) > 3 && names[len(names)-1] == "" {
		names = names[:len(names)-1]
	}
	attrs := []*onnx.Attribute{{Name: "hidden_size", Type: onnx.AttrInt, I: h64}}
	if c.dir != "" {
		attrs = append(attrs, &onnx.Attribute{Name: "direction", Type: onnx.AttrString, S: []byte(c.dir)})
	}
	if c.lbr {
		attrs = append(attrs, &onnx.Attribute{Name: "linear_before_reset", Type: onnx.AttrInt, I: 1})
	}
	outs := []string{"y", "yh"}
	if c.op == "LSTM" {
		outs = append(outs, "yc")
	}
	var vis []*onnx.ValueInfo
	for _, o := range outs {
		vis = append(vis, &onnx.ValueInfo{Name: o, IsTensor: true})
	}
	m := &onnx.Model{Opsets: map[string]int64{"": 14}, Graph: &onnx.Graph{
		Inputs: []*onnx.ValueInfo{{Name: "x", ElemType: 1, HasShape: true, IsTensor: true,
			Dims: []onnx.Dim{{Value: int64(c.seq), Known: true}, {Value: int64(c.batch), Known: true}, {Value: int64(c.input), Known: true}}}},
		Initializers: inits,
		Nodes:        []*onnx.Node{{Name: "rnn", OpType: c.op, Inputs: names, Outputs: outs, Attrs: attrs}},
		Outputs:      vis,
	}}
	mod, err := engine.LoadBytes(onnx.Encode(m), engine.Options{Name: c.String(), Threads: threads})
	if err != nil {
		t.Fatal(err)
	}
	return mod, ref
}

// rnnProjCases span the shapes of the recurrent knobs' tests: hidden
// 8..128 (the LSTMs of 64 and 128 units and the GRUs of 128 also reduce
// the recurrent product, rnnPrecisionR), input
// 3..256, sequences of 1..64 steps, batches of 1..3, every direction,
// with and without biases, initial states, peepholes and sequence
// lengths, and both GRU forms.
var rnnProjCases = []rnnProjCase{
	{op: "LSTM", seq: 16, batch: 1, input: 64, hidden: 64, bias: true}, // har-lstm's shape
	{op: "LSTM", dir: "reverse", seq: 5, batch: 2, input: 3, hidden: 8, h0: true, c0: true, peep: true},
	{op: "LSTM", dir: "bidirectional", seq: 9, batch: 3, input: 20, hidden: 16, bias: true, h0: true, lens: []int{9, 4, 1}},
	{op: "LSTM", seq: 4, batch: 1, input: 128, hidden: 128, bias: true, peep: true, c0: true},
	{op: "LSTM", dir: "bidirectional", seq: 64, batch: 2, input: 40, hidden: 12},
	{op: "GRU", seq: 1, batch: 1, input: 256, hidden: 32, bias: true},
	{op: "GRU", dir: "bidirectional", seq: 12, batch: 2, input: 7, hidden: 128, lbr: true, bias: true, h0: true, lens: []int{12, 5}},
	{op: "GRU", dir: "reverse", seq: 64, batch: 1, input: 16, hidden: 24},
	{op: "GRU", seq: 8, batch: 3, input: 33, hidden: 128, bias: true, h0: true},
	{op: "RNN", seq: 10, batch: 2, input: 5, hidden: 8, bias: true, h0: true},
}

// rnnTolerance is the largest difference from ReferenceRNN allowed to a
// knob's kernel (outputs are states in [-1, 1]; measured at most 3e-7):
// float32 against float64 arithmetic; for int8 also room for an
// activation code flipped by that rounding (one code step of one term:
// 1/127 of the range times a weight), which the cases here never hit.
func rnnTolerance(k Knob) float64 {
	if k.Prec == INT8 {
		return 5e-3
	}
	return 1e-5
}

// TestRNNKnobsMatchReference runs every knob offered on each recurrent
// node of rnnProjCases (the hold, reduction sampling of the input
// projection, fp16 and int8, and their compositions) and compares Y, Y_h
// and Y_c with ReferenceRNN; a knob must change the output. The exact
// kernel must match the reference too.
func TestRNNKnobsMatchReference(t *testing.T) {
	for ci, c := range rnnProjCases {
		m, ref := c.build(t, uint64(ci+1))
		a := New(m)
		step := -1
		for _, n := range a.Nodes() {
			if n.Op == c.op {
				step = n.Step
			}
		}
		rng := rand.New(rand.NewPCG(11, uint64(ci)))
		x := make([]float32, c.seq*c.batch*c.input)
		for i := range x {
			x[i] = (rng.Float32()*2 - 1) * 1.2
		}
		in := []*engine.Tensor{engine.NewFloat(x, c.seq, c.batch, c.input)}
		s := m.NewSession()
		knobs := a.Applicable(step)
		var reds, precs, holdPrecs int
		for _, k := range knobs {
			switch {
			case k.Shape == Red:
				reds++
			case k.Shape == Full && k.Prec != FP32:
				precs++
			case k.Shape == Hold && k.Prec != FP32:
				holdPrecs++
			}
		}
		wantPrecs := 2
		if c.hidden < 128 {
			wantPrecs = 1 // fp16 of W alone does not pay: int8 only
		}
		wantReds := 3 * (1 + wantPrecs)
		if c.input < 4 {
			wantReds = 0 // too few terms to sample
		}
		if precs != wantPrecs || reds != wantReds || (c.seq >= 4 && holdPrecs == 0) {
			t.Fatalf("%s: offered %v, want int8 (fp16 from 128 units), red:R in each precision and the holds in each", c, knobs)
		}
		exact, err := s.RunWith(in, nil)
		if err != nil {
			t.Fatal(err)
		}
		exactY := append([]float32(nil), exact[0].F...)
		for _, k := range knobs {
			t.Run(fmt.Sprintf("%s/%s", c, k), func(t *testing.T) {
				sel, err := a.Prepare(a.NewConfig().With(step, k))
				if err != nil {
					t.Fatal(err)
				}
				out, err := s.RunWith(in, sel)
				if err != nil {
					t.Fatal(err)
				}
				wy, wh, wc := ReferenceRNN(ref, k, x)
				tol := rnnTolerance(k)
				for i, pair := range [][2][]float32{{out[0].F, wy}, {out[1].F, wh}, {nil, wc}} {
					if i == 2 {
						if c.op != "LSTM" {
							continue
						}
						pair[0] = out[2].F
					}
					if d := maxAbsDiff(pair[0], pair[1]); d > tol {
						t.Fatalf("output %d: %.3g from the reference (tolerance %.3g)", i, d, tol)
					}
				}
				if !k.IsExact() && maxAbsDiff(out[0].F, exactY) < 1e-7 {
					t.Fatal("the knob changed nothing")
				}
			})
		}
		s.Close()
	}
}

// maxAbsDiff is the largest |a[i]-b[i]|, +Inf on a length mismatch or NaN.
func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		e := math.Abs(float64(a[i]) - float64(b[i]))
		if math.IsNaN(e) {
			return math.Inf(1)
		}
		d = max(d, e)
	}
	return d
}

// TestRNNKnobsSwitchWithoutAllocating switches one session among exact
// and several recurrent knobs between inferences: once each kernel has
// run, no run allocates (so none replans: a plan is allocated).
func TestRNNKnobsSwitchWithoutAllocating(t *testing.T) {
	for ci, c := range []rnnProjCase{rnnProjCases[0], rnnProjCases[2], rnnProjCases[6], rnnProjCases[8]} {
		m, _ := c.build(t, uint64(ci+1))
		a := New(m)
		step := -1
		for _, n := range a.Nodes() {
			if n.Op == c.op {
				step = n.Step
			}
		}
		var sels []engine.Selector
		sels = append(sels, nil)
		for _, ks := range []string{"int8", "fp16", "red:0.5", "red:0.6+int8", "red:0.75+fp16", "hold:2:0+int8", "hold:2:1+fp16", "hold:2:0"} {
			k, err := ParseKnob(ks)
			if err != nil {
				t.Fatal(err)
			}
			if k.Prec == FP16 && c.hidden < 128 {
				continue // not offered
			}
			sel, err := a.Prepare(a.NewConfig().With(step, k))
			if err != nil {
				t.Fatal(err)
			}
			sels = append(sels, sel)
		}
		x := make([]float32, c.seq*c.batch*c.input)
		in := []*engine.Tensor{engine.NewFloat(x, c.seq, c.batch, c.input)}
		s := m.NewSession()
		for _, sel := range sels {
			if _, err := s.RunWith(in, sel); err != nil {
				t.Fatal(err)
			}
		}
		i := 0
		if allocs := testing.AllocsPerRun(2*len(sels), func() {
			s.RunWith(in, sels[i%len(sels)])
			i++
		}); allocs != 0 {
			t.Fatalf("%s: switching recurrent knobs allocates %.1f times per inference", c, allocs)
		}
		s.Close()
	}
}

// TestRNNKnobsThreads runs recurrent knobs (int8 and fp16 of both
// projections, sampling, the hold) at 2 and 3 threads: their GEMMs go
// through the session's pool with the bits of one thread and no
// allocation per run.
func TestRNNKnobsThreads(t *testing.T) {
	knobs := []string{"int8", "fp16", "red:0.5+int8", "red:0.75+fp16", "hold:2:0+int8", "hold:3:1+fp16"}
	for ci, c := range []rnnProjCase{rnnProjCases[0], rnnProjCases[6], rnnProjCases[8]} {
		run := func(threads int) [][]float32 {
			m, _ := c.buildThreads(t, uint64(ci+1), threads)
			a := New(m)
			step := -1
			for _, n := range a.Nodes() {
				if n.Op == c.op {
					step = n.Step
				}
			}
			rng := rand.New(rand.NewPCG(3, uint64(ci)))
			in := []*engine.Tensor{engine.NewFloat(randFloats(rng, c.seq*c.batch*c.input), c.seq, c.batch, c.input)}
			s := m.NewSession()
			defer s.Close()
			var outs [][]float32
			for _, ks := range knobs {
				k, _ := ParseKnob(ks)
				if k.Prec == FP16 && c.hidden < 128 {
					continue // not offered
				}
				sel, err := a.Prepare(a.NewConfig().With(step, k))
				if err != nil {
					t.Fatal(err)
				}
				out, err := s.RunWith(in, sel)
				if err != nil {
					t.Fatal(err)
				}
				outs = append(outs, append([]float32(nil), out[0].F...))
				if threads > 1 && !raceBuild {
					if allocs := testing.AllocsPerRun(5, func() { s.RunWith(in, sel) }); allocs != 0 {
						t.Errorf("%s, threads %d, %s: %v allocations per run", c, threads, ks, allocs)
					}
				}
			}
			return outs
		}
		want := run(1)
		for _, threads := range []int{2, 3} {
			for i, got := range run(threads) {
				for j := range got {
					if math.Float32bits(got[j]) != math.Float32bits(want[i][j]) {
						t.Fatalf("%s, threads %d, knob %d: element %d is %v, %v at one thread", c, threads, i, j, got[j], want[i][j])
					}
				}
			}
		}
	}
}

// TestRNNComputedWeightsOfferHoldOnly: a recurrent node whose W is
// computed (a graph input) is offered the hold alone, as the precision
// and sampling knobs convert W once, when their kernel is built.
func TestRNNComputedWeightsOfferHoldOnly(t *testing.T) {
	c := rnnProjCases[0]
	_, ref := c.build(t, 1)
	dim := func(d ...int) (out []onnx.Dim) {
		for _, x := range d {
			out = append(out, onnx.Dim{Value: int64(x), Known: true})
		}
		return out
	}
	gh := 4 * c.hidden
	m := &onnx.Model{Opsets: map[string]int64{"": 14}, Graph: &onnx.Graph{
		Inputs: []*onnx.ValueInfo{
			{Name: "x", ElemType: 1, HasShape: true, IsTensor: true, Dims: dim(c.seq, c.batch, c.input)},
			{Name: "W", ElemType: 1, HasShape: true, IsTensor: true, Dims: dim(1, gh, c.input)},
		},
		Initializers: []*onnx.Tensor{{Name: "R", DataType: 1, Dims: []int64{1, int64(gh), int64(c.hidden)}, Floats: ref.R}},
		Nodes: []*onnx.Node{{Name: "rnn", OpType: "LSTM", Inputs: []string{"x", "W", "R"}, Outputs: []string{"y"},
			Attrs: []*onnx.Attribute{{Name: "hidden_size", Type: onnx.AttrInt, I: int64(c.hidden)}}}},
		Outputs: []*onnx.ValueInfo{{Name: "y", IsTensor: true}},
	}}
	mod, err := engine.LoadBytes(onnx.Encode(m), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := New(mod)
	found := false
	for _, n := range a.Nodes() {
		if n.Op != "LSTM" {
			continue
		}
		found = true
		ks := a.Applicable(n.Step)
		for _, k := range ks[1:] {
			if k.Shape != Hold || k.Prec != FP32 {
				t.Fatalf("offered %v on a node with computed W; want the holds alone", ks)
			}
		}
		if len(ks) != 1+9 {
			t.Fatalf("offered %v, want exact and 9 holds", ks)
		}
	}
	if !found {
		t.Fatal("no LSTM node")
	}
}
