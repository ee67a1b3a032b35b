package engine

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/engine/onnx"
)

// rnnCase is one LSTM, GRU or RNN model.
type rnnCase struct {
	op                        string // LSTM, GRU or RNN
	dir                       string // "" is the default (forward)
	layout                    int
	seq, batch, input, hidden int
	lens                      []int64 // sequence_lens; nil: absent
	lensInput                 bool    // sequence_lens as a graph input
	lbr, inputForget          bool
	clip                      float32
	acts                      []string
	alpha, beta               []float32
	bias, h0, c0, peep        bool
	computedW                 bool // W, R and B as graph inputs
	outs                      [3]bool
	opset                     int64
}

func (c rnnCase) String() string {
	s := fmt.Sprintf("%s_%s_l%d_s%db%di%dh%d", c.op, c.dir, c.layout, c.seq, c.batch, c.input, c.hidden)
	if c.lens != nil {
		s += fmt.Sprintf("_lens%v", c.lens)
	}
	if c.lbr {
		s += "_lbr"
	}
	if c.inputForget {
		s += "_if"
	}
	if c.clip > 0 {
		s += fmt.Sprintf("_clip%g", c.clip)
	}
	if c.acts != nil {
		s += "_" + strings.Join(c.acts, "-")
	}
	for i, on := range []bool{c.bias, c.h0, c.c0, c.peep, c.computedW} {
		if on {
			s += "_" + [...]string{"B", "h0", "c0", "P", "W"}[i]
		}
	}
	return s + fmt.Sprintf("_out%v", c.outs)
}

func attrStrings(name string, v ...string) *onnx.Attribute {
	a := &onnx.Attribute{Name: name, Type: onnx.AttrStrings}
	for _, s := range v {
		a.Strings = append(a.Strings, []byte(s))
	}
	return a
}

func attrFloats(name string, v ...float32) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrFloats, Floats: v}
}

func attrString(name, v string) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrString, S: []byte(v)}
}

// inputInt32 adds an INT32 graph input.
func (b *builder) inputInt32(name string, shape ...int) *builder {
	b.input(name, shape...)
	b.m.Graph.Inputs[len(b.m.Graph.Inputs)-1].ElemType = int32(Int32)
	return b
}

// initInt32 adds an INT32 initializer.
func (b *builder) initInt32(name string, data []int64, shape ...int) *builder {
	b.initInts(name, data, shape...)
	b.m.Graph.Initializers[len(b.m.Graph.Initializers)-1].DataType = int32(Int32)
	return b
}

// rnnModel builds c's model; data gives the values of X, W, R, B,
// initial_h, initial_c and P by name (random when absent).
func rnnModel(t testing.TB, c rnnCase, rng *rand.Rand, data map[string][]float32, opts Options) (*Model, []*Tensor, error) {
	g := map[string]int{"LSTM": 4, "GRU": 3, "RNN": 1}[c.op]
	dirs := 1
	if c.dir == "bidirectional" {
		dirs = 2
	}
	opset := c.opset
	if opset == 0 {
		opset = 14
	}
	b := newBuilder(opset)
	vals := func(name string, n int, scale float32) []float32 {
		if v, ok := data[name]; ok {
			return v
		}
		v := randFloats(rng, n)
		for i := range v {
			v[i] *= scale
		}
		return v
	}
	var feed []*Tensor
	add := func(name string, constant bool, v []float32, shape ...int) {
		if constant {
			b.init(name, v, shape...)
			return
		}
		b.input(name, shape...)
		feed = append(feed, NewFloat(v, shape...))
	}
	xs := []int{c.seq, c.batch, c.input}
	state := []int{dirs, c.batch, c.hidden}
	if c.layout == 1 {
		xs = []int{c.batch, c.seq, c.input}
		state = []int{c.batch, dirs, c.hidden}
	}
	add("X", false, vals("X", numel(xs), 1), xs...)
	add("W", !c.computedW, vals("W", dirs*g*c.hidden*c.input, 0.6), dirs, g*c.hidden, c.input)
	add("R", !c.computedW, vals("R", dirs*g*c.hidden*c.hidden, 0.6), dirs, g*c.hidden, c.hidden)
	ins := []string{"X", "W", "R", "", "", "", "", ""}
	if c.bias {
		add("B", !c.computedW, vals("B", dirs*2*g*c.hidden, 0.5), dirs, 2*g*c.hidden)
		ins[3] = "B"
	}
	if c.lens != nil {
		if c.lensInput {
			b.inputInt32("lens", c.batch)
			feed = append(feed, &Tensor{DType: Int32, Shape: []int{c.batch}, I: c.lens})
		} else {
			b.initInt32("lens", c.lens, c.batch)
		}
		ins[4] = "lens"
	}
	if c.h0 {
		add("h0", true, vals("h0", numel(state), 1), state...)
		ins[5] = "h0"
	}
	if c.c0 {
		add("c0", false, vals("c0", numel(state), 1), state...)
		ins[6] = "c0"
	}
	if c.peep {
		add("P", true, vals("P", dirs*3*c.hidden, 0.5), dirs, 3*c.hidden)
		ins[7] = "P"
	}
	for len(ins) > 3 && ins[len(ins)-1] == "" {
		ins = ins[:len(ins)-1]
	}
	attrs := []*onnx.Attribute{attrInt("hidden_size", c.hidden)}
	if c.dir != "" {
		attrs = append(attrs, attrString("direction", c.dir))
	}
	if c.layout != 0 {
		attrs = append(attrs, attrInt("layout", c.layout))
	}
	if c.lbr {
		attrs = append(attrs, attrInt("linear_before_reset", 1))
	}
	if c.inputForget {
		attrs = append(attrs, attrInt("input_forget", 1))
	}
	if c.clip != 0 {
		attrs = append(attrs, attrFloat("clip", c.clip))
	}
	if c.acts != nil {
		attrs = append(attrs, attrStrings("activations", c.acts...))
	}
	if c.alpha != nil {
		attrs = append(attrs, attrFloats("activation_alpha", c.alpha...))
	}
	if c.beta != nil {
		attrs = append(attrs, attrFloats("activation_beta", c.beta...))
	}
	outs := []string{"", "", ""}
	var names []string
	for i, on := range c.outs {
		if on {
			outs[i] = [...]string{"Y", "Y_h", "Y_c"}[i]
			names = append(names, outs[i])
		}
	}
	for len(outs) > 0 && outs[len(outs)-1] == "" {
		outs = outs[:len(outs)-1]
	}
	b.m.Graph.Nodes = append(b.m.Graph.Nodes, &onnx.Node{Name: "rnn", OpType: c.op, Inputs: ins, Outputs: outs, Attrs: attrs})
	b.output(names...)
	m, err := loadDecoded(b.m, "test", opts)
	return m, feed, err
}

// rnnActNames are the activations the recurrent ops allow.
var rnnActNames = []string{"Relu", "Tanh", "Sigmoid", "Affine", "LeakyRelu", "ThresholdedRelu", "ScaledTanh", "HardSigmoid", "Elu", "Softsign", "Softplus"}

func TestRNNFastMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	var cases []rnnCase
	for _, op := range []string{"RNN", "GRU", "GRU-lbr", "LSTM"} {
		for _, dir := range []string{"forward", "reverse", "bidirectional"} {
			for layout := 0; layout < 2; layout++ {
				for _, bh := range [][2]int{{1, 8}, {3, 5}, {2, 16}, {4, 13}} {
					c := rnnCase{op: op, dir: dir, layout: layout, seq: 1 + rng.IntN(5), batch: bh[0], input: 1 + rng.IntN(6), hidden: bh[1]}
					if op == "GRU-lbr" {
						c.op, c.lbr = "GRU", true
					}
					c.outs = [3]bool{true, true, c.op == "LSTM"}
					switch rng.IntN(3) {
					case 0: // absent
					case 1: // full
						c.lens = make([]int64, c.batch)
						for i := range c.lens {
							c.lens[i] = int64(c.seq)
						}
					case 2: // mixed, zero included when batch > 1
						c.lens = make([]int64, c.batch)
						for i := range c.lens {
							c.lens[i] = int64(rng.IntN(c.seq + 1))
						}
						c.lens[0] = int64(c.seq)
						c.lensInput = rng.IntN(2) == 0
					}
					c.bias, c.h0 = rng.IntN(3) > 0, rng.IntN(2) == 0
					c.computedW = rng.IntN(3) == 0
					if c.op == "LSTM" {
						c.c0, c.peep, c.inputForget = rng.IntN(2) == 0, rng.IntN(2) == 0, rng.IntN(4) == 0
						c.outs = [3]bool{rng.IntN(2) == 0, rng.IntN(2) == 0, true}
					} else if rng.IntN(3) == 0 {
						c.outs = [3]bool{rng.IntN(2) == 0, true, false}
					}
					if rng.IntN(3) == 0 {
						c.clip = 0.3 + rng.Float32()
					}
					cases = append(cases, c)
				}
			}
		}
	}
	// Every activation in every slot, with alpha and beta.
	for i := range rnnActNames {
		for _, op := range []string{"RNN", "GRU", "LSTM"} {
			k := map[string]int{"RNN": 1, "GRU": 2, "LSTM": 3}[op]
			c := rnnCase{op: op, dir: "bidirectional", seq: 3, batch: 2, input: 3, hidden: 4, bias: true, h0: true, outs: [3]bool{true, true, op == "LSTM"}}
			for j := 0; j < 2*k; j++ {
				c.acts = append(c.acts, rnnActNames[(i+j)%len(rnnActNames)])
			}
			if i%2 == 0 {
				c.alpha, c.beta = []float32{0.7, 1.3, 0.2, 0.9, 0.4, 1.1}, []float32{0.3, 0.6, -0.2, 0.1}
			}
			c.lens = []int64{3, 2}
			cases = append(cases, c)
		}
	}
	for _, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			m, feed, err := rnnModel(t, c, rng, nil, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := m.steps[0].kernel.(*rnnKernel); !ok {
				t.Fatalf("fast kernel not used: %T", m.steps[0].kernel)
			}
			checkAgainstReference(t, m, feed, 2e-5)
		})
	}
}

// TestRNNThreads checks the kernel with two threads against one.
func TestRNNThreads(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, c := range []rnnCase{
		{op: "LSTM", dir: "bidirectional", seq: 7, batch: 5, input: 40, hidden: 37, bias: true, peep: true, outs: [3]bool{true, true, true}},
		{op: "GRU", dir: "reverse", layout: 1, seq: 6, batch: 9, input: 20, hidden: 64, bias: true, lens: []int64{6, 1, 0, 3, 6, 5, 2, 4, 6}, outs: [3]bool{true, true, false}},
		{op: "RNN", seq: 30, batch: 1, input: 200, hidden: 48, computedW: true, outs: [3]bool{true, true, false}},
	} {
		t.Run(c.String(), func(t *testing.T) {
			m1, feed, err := rnnModel(t, c, rand.New(rand.NewPCG(1, 1)), nil, Options{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			m2, _, err := rnnModel(t, c, rand.New(rand.NewPCG(1, 1)), nil, Options{Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			_ = rng
			want, err := m1.NewSession().Run(feed)
			if err != nil {
				t.Fatal(err)
			}
			s2 := m2.NewSession()
			defer s2.Close()
			got, err := s2.Run(feed)
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				compareFloats(t, got[i].F, want[i].F, 1e-5)
			}
			checkAgainstReference(t, m2, feed, 2e-5)
		})
	}
}

// rnnRunBoth runs m with its kernels and with the references and returns both
// results.
func rnnRunBoth(t *testing.T, m *Model, feed []*Tensor) (fast, ref []*Tensor) {
	t.Helper()
	fast, err := m.NewSession().Run(feed)
	if err != nil {
		t.Fatal(err)
	}
	ref, err = m.NewSession().RunWith(feed, referenceSelector{m})
	if err != nil {
		t.Fatal(err)
	}
	return fast, ref
}

// TestRNNHandComputed pins the formulas with values worked out by hand
// (with Python's math module) from the ONNX equations.
func TestRNNHandComputed(t *testing.T) {
	type want struct {
		name string
		c    rnnCase
		data map[string][]float32
		outs [][]float64
	}
	cases := []want{
		{
			// RNN, hidden 2, input 1, Tanh: Ht = tanh(x*W^T + Ht-1*R^T + Wb + Rb)
			// with W = [0.5, -0.25], R = [[0.1, 0.2], [0.3, -0.4]],
			// Wb+Rb = [0.05+0.01, -0.1+0.02] = [0.06, -0.08], H0 = [0.2, -0.3].
			// t=0, x=1:  a0 = 0.5 + (0.1*0.2 + 0.2*-0.3) + 0.06 = 0.52
			//            a1 = -0.25 + (0.3*0.2 + -0.4*-0.3) - 0.08 = -0.15
			//            H1 = [tanh(0.52), tanh(-0.15)] = [0.477700012, -0.148885034]
			// t=1, x=-2: a0 = -1 + 0.1*0.477700012 + 0.2*-0.148885034 + 0.06 = -0.922007006
			//            a1 = 0.5 + 0.3*0.477700012 - 0.4*-0.148885034 - 0.08 = 0.622864017
			//            H2 = [tanh(a0), tanh(a1)] = [-0.726845492, 0.553118975]
			name: "rnn",
			c:    rnnCase{op: "RNN", seq: 2, batch: 1, input: 1, hidden: 2, bias: true, h0: true, outs: [3]bool{true, true, false}},
			data: map[string][]float32{"X": {1, -2}, "W": {0.5, -0.25}, "R": {0.1, 0.2, 0.3, -0.4}, "B": {0.05, -0.1, 0.01, 0.02}, "h0": {0.2, -0.3}},
			outs: [][]float64{{0.47770001216849795, -0.148885033623318, -0.7268454923432931, 0.5531189750252653}, {-0.7268454923432931, 0.5531189750252653}},
		},
		{
			// LSTM, hidden 1, input 1, gates [i o f c], peepholes [i o f]:
			// W = [0.5, -0.5, 0.25, 1], R = [0.1, 0.2, -0.3, 0.4],
			// Wb+Rb = [0.1, 0.1, 0.2, -0.05], P = [0.5, -0.5, 0.25], H0 = 0.1, C0 = -0.2.
			// t=0, x=1: i = sig(0.5 + 0.1*0.1 + 0.1 + 0.5*-0.2) = sig(0.51) = 0.624806474
			//           f = sig(0.25 - 0.3*0.1 + 0.2 + 0.25*-0.2) = sig(0.37) = 0.591458978
			//           c~ = tanh(1 + 0.4*0.1 - 0.05) = tanh(0.99) = 0.757362324
			//           C = 0.591458978*-0.2 + 0.624806474*0.757362324 = 0.354913088
			//           o = sig(-0.5 + 0.2*0.1 + 0.1 - 0.5*0.354913088) = sig(-0.557456544) = 0.364136170
			//           H = 0.364136170*tanh(0.354913088) = 0.124070479
			// t=1, x=0.5: i = sig(0.25 + 0.1*H + 0.1 + 0.5*C) = sig(0.539863592) = 0.631780685
			//           f = sig(0.125 - 0.3*H + 0.2 + 0.25*C) = sig(0.376507128) = 0.593030389
			//           c~ = tanh(0.5 + 0.4*H - 0.05) = tanh(0.499628191) = 0.461824699
			//           C = 0.593030389*0.354913088 + 0.631780685*0.461824699 = 0.502246172
			//           o = sig(-0.25 + 0.2*H + 0.1 - 0.5*C) = sig(-0.376308990) = 0.407017431
			//           H = 0.407017431*tanh(0.502246172) = 0.188807986
			name: "lstm",
			c:    rnnCase{op: "LSTM", seq: 2, batch: 1, input: 1, hidden: 1, bias: true, h0: true, c0: true, peep: true, outs: [3]bool{true, true, true}},
			data: map[string][]float32{"X": {1, 0.5}, "W": {0.5, -0.5, 0.25, 1}, "R": {0.1, 0.2, -0.3, 0.4},
				"B": {0.1, 0, 0.2, -0.1, 0, 0.1, 0, 0.05}, "P": {0.5, -0.5, 0.25}, "h0": {0.1}, "c0": {-0.2}},
			outs: [][]float64{{0.12407047865749986, 0.18880798645149494}, {0.18880798645149494}, {0.5022461715359898}},
		},
		{
			// GRU, hidden 1, input 1, gates [z r h], linear_before_reset 0:
			// W = [0.5, -0.5, 1], R = [0.3, 0.2, -0.6], Wb = [0.1, -0.1, 0.2], Rb = [0.05, 0, 0.3], H0 = 0.4.
			// t=0, x=1: z = sig(0.5 + 0.3*0.4 + 0.15) = sig(0.77) = 0.683520894
			//           r = sig(-0.5 + 0.2*0.4 - 0.1) = sig(-0.52) = 0.372852234
			//           h~ = tanh(1 + (0.372852234*0.4)*-0.6 + 0.3 + 0.2) = tanh(1.410515464) = 0.887603544
			//           H = (1-z)*0.887603544 + z*0.4 = 0.554316334
			// t=1, x=-1: z = sig(-0.5 + 0.3*H + 0.15) = sig(-0.183705100) = 0.454202449
			//           r = sig(0.5 + 0.2*H - 0.1) = sig(0.510863267) = 0.625008823
			//           h~ = tanh(-1 + (r*H)*-0.6 + 0.5) = tanh(-0.707871559) = -0.609340408
			//           H = (1-z)*h~ + z*0.554316334 = -0.080804666
			name: "gru",
			c:    rnnCase{op: "GRU", seq: 2, batch: 1, input: 1, hidden: 1, bias: true, h0: true, outs: [3]bool{true, true, false}},
			data: map[string][]float32{"X": {1, -1}, "W": {0.5, -0.5, 1}, "R": {0.3, 0.2, -0.6}, "B": {0.1, -0.1, 0.2, 0.05, 0, 0.3}, "h0": {0.4}},
			outs: [][]float64{{0.5543163337213455, -0.08080466640042355}, {-0.08080466640042355}},
		},
		{
			// The same GRU with linear_before_reset 1: h~ = tanh(x*Wh + Wbh + r*(H*Rh + Rbh)).
			// t=0: h~ = tanh(1 + 0.2 + 0.372852234*(0.4*-0.6 + 0.3)) = tanh(1.222371134) = 0.840352224
			//      H = (1-0.683520894)*0.840352224 + 0.683520894*0.4 = 0.539362278
			// t=1: z = sig(-0.5 + 0.3*H + 0.15) = sig(-0.188191317) = 0.453090535
			//      r = sig(0.5 + 0.2*H - 0.1) = sig(0.507872456) = 0.624307596
			//      h~ = tanh(-1 + 0.2 + r*(H*-0.6 + 0.3)) = tanh(-0.814744502) = -0.672199251
			//      H = (1-z)*h~ + z*0.539362278 = -0.123252190
			name: "gru_lbr",
			c:    rnnCase{op: "GRU", seq: 2, batch: 1, input: 1, hidden: 1, bias: true, h0: true, lbr: true, outs: [3]bool{true, true, false}},
			data: map[string][]float32{"X": {1, -1}, "W": {0.5, -0.5, 1}, "R": {0.3, 0.2, -0.6}, "B": {0.1, -0.1, 0.2, 0.05, 0, 0.3}, "h0": {0.4}},
			outs: [][]float64{{0.5393622782119851, -0.12325218984827213}, {-0.12325218984827213}},
		},
	}
	for _, w := range cases {
		t.Run(w.name, func(t *testing.T) {
			m, feed, err := rnnModel(t, w.c, nil, w.data, Options{})
			if err != nil {
				t.Fatal(err)
			}
			fast, ref := rnnRunBoth(t, m, feed)
			for i, o := range w.outs {
				want := make([]float32, len(o))
				for j, v := range o {
					want[j] = float32(v)
				}
				compareFloats(t, fast[i].F, want, 1e-6)
				compareFloats(t, ref[i].F, want, 1e-6)
			}
		})
	}
}

// TestRNNSequenceLens pins the sequence_lens semantics: zeros in Y past a
// sequence's end, Y_h and Y_c from its last valid step (zeros when empty),
// the reverse direction reading each sequence backwards from its end.
func TestRNNSequenceLens(t *testing.T) {
	// RNN with hidden 1, input 1, W = 1, R = 0, Relu: Ht = relu(xt), so Y
	// shows which step each output came from.
	c := rnnCase{op: "RNN", dir: "bidirectional", seq: 3, batch: 3, input: 1, hidden: 1, lens: []int64{3, 2, 0},
		acts: []string{"Relu", "Relu"}, h0: true, outs: [3]bool{true, true, false}}
	// X[t][b]: batch item b holds 10*(b+1) + t.
	data := map[string][]float32{"X": {10, 20, 30, 11, 21, 31, 12, 22, 32}, "W": {1, 1}, "R": {0, 0}, "h0": {5, 5, 5, 5, 5, 5}}
	m, feed, err := rnnModel(t, c, nil, data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fast, ref := rnnRunBoth(t, m, feed)
	// Y [seq, dirs, batch, 1]. Forward: item 0 all steps, item 1 steps
	// 0-1, item 2 none. Reverse: the output of the step reading X[t] is at
	// t, for t < len.
	wantY := []float32{
		10, 20, 0, 10, 20, 0, // t=0: forward, reverse
		11, 21, 0, 11, 21, 0, // t=1
		12, 0, 0, 12, 0, 0, // t=2
	}
	// Y_h: forward ends at t = len-1, reverse at t = 0; empty: zeros.
	wantYh := []float32{12, 21, 0, 10, 20, 0}
	for _, got := range [][]*Tensor{fast, ref} {
		compareFloats(t, got[0].F, wantY, 0)
		compareFloats(t, got[1].F, wantYh, 0)
	}
}

// TestRNNActivationParams checks how activation_alpha and activation_beta
// are consumed, and the defaults.
func TestRNNActivationParams(t *testing.T) {
	c := rnnCase{op: "LSTM", dir: "bidirectional", seq: 1, batch: 1, input: 1, hidden: 1, outs: [3]bool{false, true, false},
		acts:  []string{"LeakyRelu", "tanh", "ScaledTanh", "HardSigmoid", "elu", "Affine"},
		alpha: []float32{0.5, 2, 0.3}, beta: []float32{0.7}}
	m, _, err := rnnModel(t, c, rand.New(rand.NewPCG(1, 2)), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := m.steps[0].n.params.(*rnnParams)
	want := [2][3]rnnAct{
		{{rnnActLeakyRelu, 0.5, 0}, {rnnActTanh, 0, 0}, {rnnActScaledTanh, 2, 0.7}},
		{{rnnActHardSigmoid, 0.3, 0.5}, {rnnActElu, 1, 0}, {rnnActAffine, 0, 0}},
	}
	if p.acts != want {
		t.Fatalf("activations %+v, want %+v", p.acts, want)
	}
	// The activation formulas at a few points.
	for _, tc := range []struct {
		a    rnnAct
		x, y float64
	}{
		{rnnAct{rnnActRelu, 0, 0}, -1, 0}, {rnnAct{rnnActRelu, 0, 0}, 2, 2},
		{rnnAct{rnnActAffine, 2, 1}, 3, 7},
		{rnnAct{rnnActLeakyRelu, 0.1, 0}, -2, -0.2},
		{rnnAct{rnnActThresholdedRelu, 1, 0}, 1, 0}, {rnnAct{rnnActThresholdedRelu, 1, 0}, 1.5, 1.5},
		{rnnAct{rnnActScaledTanh, 2, 0.5}, 0, 0},
		{rnnAct{rnnActHardSigmoid, 0.2, 0.5}, 1, 0.7}, {rnnAct{rnnActHardSigmoid, 0.2, 0.5}, 10, 1},
		{rnnAct{rnnActElu, 1, 0}, 0, 0}, {rnnAct{rnnActElu, 2, 0}, 3, 3},
		{rnnAct{rnnActSoftsign, 0, 0}, 3, 0.75},
		{rnnAct{rnnActSoftplus, 0, 0}, 0, 0.6931471805599453}, // log(2)
		{rnnAct{rnnActSoftplus, 0, 0}, 1000, 1000},
		{rnnAct{rnnActSigmoid, 0, 0}, 0, 0.5},
	} {
		if got := tc.a.f(tc.x); abs64(got-tc.y) > 1e-7 {
			t.Errorf("%+v at %g = %g, want %g", tc.a, tc.x, got, tc.y)
		}
	}
	// Without hidden_size, R gives it.
	b := newBuilder(14).input("X", 2, 1, 3).init("W", make([]float32, 3*5*3), 1, 15, 3).init("R", make([]float32, 3*5*5), 1, 15, 5).
		node("GRU", []string{"X", "W", "R"}, []string{"", "Y_h"}).output("Y_h")
	if m := b.load(t, Options{}); !equalShapes(m.outputs[0].Shape, []int{1, 1, 5}) {
		t.Fatalf("Y_h %v, want [1 1 5]", m.outputs[0].Shape)
	}
	// RNN accepts the schema's two-entry default list with one direction.
	c = rnnCase{op: "RNN", seq: 1, batch: 1, input: 1, hidden: 1, acts: []string{"Tanh", "Tanh"}, outs: [3]bool{false, true, false}}
	if _, _, err := rnnModel(t, c, rand.New(rand.NewPCG(1, 2)), nil, Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestRNNErrors(t *testing.T) {
	base := rnnCase{op: "LSTM", seq: 2, batch: 1, input: 3, hidden: 4, outs: [3]bool{true, true, false}}
	tests := []struct {
		name string
		edit func(b *onnx.Model)
		opts Options
		want string
	}{
		{"W shape", func(m *onnx.Model) { m.Graph.Initializers[0].Dims = []int64{1, 12, 4} }, Options{}, "W [1 12 4] must have shape"},
		{"hidden_size", func(m *onnx.Model) { m.Graph.Nodes[0].Attrs[0].I = 5 }, Options{}, "W [1 16 3] must have shape [num_directions=1, 4*hidden_size=20"},
		{"hidden_size zero", func(m *onnx.Model) { m.Graph.Nodes[0].Attrs[0].I = 0 }, Options{}, "hidden_size 0"},
		{"direction", func(m *onnx.Model) {
			m.Graph.Nodes[0].Attrs = append(m.Graph.Nodes[0].Attrs, attrString("direction", "sideways"))
		}, Options{}, `direction "sideways"`},
		{"activation", func(m *onnx.Model) {
			m.Graph.Nodes[0].Attrs = append(m.Graph.Nodes[0].Attrs, attrStrings("activations", "Sigmoid", "Tanh", "Gelu"))
		}, Options{}, `activations[2] "Gelu"`},
		{"activation count", func(m *onnx.Model) {
			m.Graph.Nodes[0].Attrs = append(m.Graph.Nodes[0].Attrs, attrStrings("activations", "Sigmoid", "Tanh"))
		}, Options{}, "activations lists 2 functions, expected 3"},
		{"layout value", func(m *onnx.Model) {
			m.Graph.Nodes[0].Attrs = append(m.Graph.Nodes[0].Attrs, attrInt("layout", 2))
		}, Options{}, "layout 2"},
		{"layout opset", func(m *onnx.Model) {
			m.Opsets[""] = 13
			m.Graph.Nodes[0].Attrs = append(m.Graph.Nodes[0].Attrs, attrInt("layout", 0))
		}, Options{}, "layout needs opset 14"},
		{"clip", func(m *onnx.Model) {
			m.Graph.Nodes[0].Attrs = append(m.Graph.Nodes[0].Attrs, attrFloat("clip", -1))
		}, Options{}, "clip -1 must be positive"},
		{"X rank", func(m *onnx.Model) { m.Graph.Inputs[0].Dims = m.Graph.Inputs[0].Dims[:2] }, Options{}, "X [2 1] must have rank 3"},
		{"too many outputs", func(m *onnx.Model) { m.Graph.Nodes[0].Outputs = append(m.Graph.Nodes[0].Outputs, "a", "b") }, Options{}, "outputs, expected at most 3"},
		{"size limit", func(m *onnx.Model) {
			// X and Y fit in 512 KB, the input projection (4x Y) does not.
			m.Graph.Inputs[0].Dims[0].Value = 1 << 12
			m.Graph.Inputs[0].Dims[1].Value = 4
		}, Options{MaxBytes: 1 << 19}, "work memory of"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBuilder(14)
			b.input("X", base.seq, base.batch, base.input).
				init("W", randFloats(rand.New(rand.NewPCG(1, 1)), 16*3), 1, 16, 3).
				init("R", randFloats(rand.New(rand.NewPCG(1, 1)), 16*4), 1, 16, 4).
				node("LSTM", []string{"X", "W", "R"}, []string{"Y", "Y_h"}, attrInt("hidden_size", 4)).output("Y", "Y_h")
			tc.edit(b.m)
			_, err := loadDecoded(b.m, "test", tc.opts)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"Y_node"`) {
				t.Fatalf("error %q does not say %q and name the node", err, tc.want)
			}
		})
	}
	// sequence_lens must be an integer tensor; B of the wrong shape.
	c := base
	c.lens = []int64{1}
	c.bias = true
	m := func(edit func(*onnx.Model)) error {
		b := newBuilder(14)
		b.input("X", 2, 1, 3).init("W", make([]float32, 48), 1, 16, 3).init("R", make([]float32, 64), 1, 16, 4).
			init("B", make([]float32, 32), 1, 32).init("lens", []float32{1}, 1).
			node("LSTM", []string{"X", "W", "R", "B", "lens"}, []string{"Y"}, attrInt("hidden_size", 4)).output("Y")
		edit(b.m)
		_, err := loadDecoded(b.m, "test", Options{})
		return err
	}
	if err := m(func(*onnx.Model) {}); err == nil || !strings.Contains(err.Error(), "sequence_lens has type FLOAT") {
		t.Fatalf("float sequence_lens: %v", err)
	}
	if err := m(func(m *onnx.Model) {
		m.Graph.Initializers[3] = &onnx.Tensor{Name: "lens", DataType: int32(Int32), Ints: []int64{1}, Dims: []int64{1}}
		m.Graph.Initializers[2].Dims = []int64{1, 30}
		m.Graph.Initializers[2].Floats = make([]float32, 30)
	}); err == nil || !strings.Contains(err.Error(), "B [1 30] must have shape") {
		t.Fatalf("B shape: %v", err)
	}
}

// TestRNNOpsets runs the ops at the opsets whose schemas differ (GRU 3 and
// 7 without layout, 14 with it) and checks that layout 1 equals layout 0
// with transposed tensors.
func TestRNNOpsets(t *testing.T) {
	for _, opset := range []int64{7, 9, 13, 14, 21} {
		c := rnnCase{op: "GRU", lbr: true, dir: "bidirectional", seq: 3, batch: 2, input: 2, hidden: 3, bias: true, outs: [3]bool{true, true, false}, opset: opset}
		m, feed, err := rnnModel(t, c, rand.New(rand.NewPCG(uint64(opset), 1)), nil, Options{})
		if err != nil {
			t.Fatalf("opset %d: %v", opset, err)
		}
		checkAgainstReference(t, m, feed, 2e-5)
	}
	// Layout 1 is layout 0 with batch and sequence swapped.
	rng := rand.New(rand.NewPCG(3, 3))
	seq, batch, in, h := 4, 3, 2, 5
	x0 := randFloats(rng, seq*batch*in)
	h0 := randFloats(rng, 2*batch*h)
	x1 := make([]float32, len(x0))
	for t := 0; t < seq; t++ {
		for b := 0; b < batch; b++ {
			copy(x1[(b*seq+t)*in:(b*seq+t+1)*in], x0[(t*batch+b)*in:(t*batch+b+1)*in])
		}
	}
	h1 := make([]float32, len(h0))
	for d := 0; d < 2; d++ {
		for b := 0; b < batch; b++ {
			copy(h1[(b*2+d)*h:(b*2+d+1)*h], h0[(d*batch+b)*h:(d*batch+b+1)*h])
		}
	}
	w, r := randFloats(rng, 2*4*h*in), randFloats(rng, 2*4*h*h)
	run := func(layout int, x, hi []float32) []*Tensor {
		c := rnnCase{op: "LSTM", dir: "bidirectional", layout: layout, seq: seq, batch: batch, input: in, hidden: h, h0: true, lens: []int64{4, 2, 3}, outs: [3]bool{true, true, true}}
		m, feed, err := rnnModel(t, c, nil, map[string][]float32{"X": x, "W": w, "R": r, "h0": hi}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		out, err := m.NewSession().Run(feed)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	a, b := run(0, x0, h0), run(1, x1, h1)
	for t0 := 0; t0 < seq; t0++ {
		for d := 0; d < 2; d++ {
			for bb := 0; bb < batch; bb++ {
				o0 := ((t0*2+d)*batch + bb) * h
				o1 := ((bb*seq+t0)*2 + d) * h
				compareFloats(t, b[0].F[o1:o1+h], a[0].F[o0:o0+h], 1e-6)
			}
		}
	}
	for d := 0; d < 2; d++ {
		for bb := 0; bb < batch; bb++ {
			o0, o1 := (d*batch+bb)*h, (bb*2+d)*h
			compareFloats(t, b[1].F[o1:o1+h], a[1].F[o0:o0+h], 1e-6)
			compareFloats(t, b[2].F[o1:o1+h], a[2].F[o0:o0+h], 1e-6)
		}
	}
}

// TestRNNMACs checks the work the recurrent ops report: both projections
// of every step and direction.
func TestRNNMACs(t *testing.T) {
	c := rnnCase{op: "LSTM", dir: "bidirectional", seq: 5, batch: 3, input: 7, hidden: 4, outs: [3]bool{false, true, false}}
	m, _, err := rnnModel(t, c, rand.New(rand.NewPCG(1, 1)), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.MACs(), int64(2*5*3*16*(7+4)); got != want {
		t.Fatalf("MACs %d, want %d", got, want)
	}
}

// TestRNNRunAllocatesNothing checks the steady-state promise with one and
// two threads, packed and computed weights.
func TestRNNRunAllocatesNothing(t *testing.T) {
	for _, threads := range []int{1, 2} {
		for _, c := range []rnnCase{
			{op: "LSTM", dir: "bidirectional", seq: 5, batch: 3, input: 16, hidden: 24, bias: true, peep: true, h0: true, c0: true, lens: []int64{5, 0, 3}, outs: [3]bool{true, true, true}},
			{op: "GRU", dir: "reverse", layout: 1, seq: 4, batch: 2, input: 8, hidden: 16, bias: true, computedW: true, outs: [3]bool{true, true, false}},
			{op: "GRU", lbr: true, seq: 4, batch: 2, input: 8, hidden: 16, bias: true, outs: [3]bool{false, true, false}},
			{op: "RNN", seq: 6, batch: 1, input: 8, hidden: 9, outs: [3]bool{true, false, false}},
		} {
			t.Run(fmt.Sprintf("t%d_%v", threads, c), func(t *testing.T) {
				m, feed, err := rnnModel(t, c, rand.New(rand.NewPCG(5, 5)), nil, Options{Threads: threads})
				if err != nil {
					t.Fatal(err)
				}
				s := m.NewSession()
				defer s.Close()
				if _, err := s.Run(feed); err != nil {
					t.Fatal(err)
				}
				if raceBuild && threads > 1 {
					return // sync.Pool allocates under -race
				}
				if a := testing.AllocsPerRun(20, func() { s.Run(feed) }); a != 0 {
					t.Fatalf("Run allocates %.1f times per call", a)
				}
			})
		}
	}
}

// BenchmarkLSTM compares the kernel with the reference on a
// bidirectional LSTM of speech-model size.
func BenchmarkLSTM(b *testing.B) {
	c := rnnCase{op: "LSTM", dir: "bidirectional", seq: 50, batch: 1, input: 64, hidden: 128, bias: true, outs: [3]bool{true, true, false}}
	m, feed, err := rnnModel(b, c, rand.New(rand.NewPCG(1, 1)), nil, Options{})
	if err != nil {
		b.Fatal(err)
	}
	s := m.NewSession()
	b.Run("fast", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			s.Run(feed)
		}
	})
	b.Run("reference", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			s.RunWith(feed, referenceSelector{m})
		}
	})
}
