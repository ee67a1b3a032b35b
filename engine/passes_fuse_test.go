package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// fuseCase is a small graph from input x (and s, when set) to output y, and
// what fusion must make of it.
type fuseCase struct {
	name  string
	x     []int // shape of input x
	s     []int // shape of input s, or nil
	build func(b *builder, rng *rand.Rand)
	steps int    // steps after fusion
	fused string // a node name the first step's Fused must contain ("": none)
	fn    actFn  // the function the fused node must carry
}

// conv adds Conv(in) -> out with random weights and bias, m output
// channels, a k x k kernel (padded to keep the size), the given stride and
// group.
func conv(b *builder, rng *rand.Rand, in, out string, c, m, k, stride, group int) {
	w := out + "_w"
	b.init(w, randFloats(rng, m*c/group*k*k), m, c/group, k, k).init(out+"_b", randFloats(rng, m), m)
	b.node("Conv", []string{in, w, out + "_b"}, []string{out}, attrInts("kernel_shape", k, k),
		attrInts("pads", k/2, k/2, k/2, k/2), attrInts("strides", stride, stride), attrInt("group", group))
}

// silu adds Mul(in, Sigmoid(in)) -> out, the gate first when swap.
func silu(b *builder, in, out string, swap bool) {
	b.node("Sigmoid", []string{in}, []string{out + "_sig"})
	ins := []string{in, out + "_sig"}
	if swap {
		ins[0], ins[1] = ins[1], ins[0]
	}
	b.node("Mul", ins, []string{out})
}

// gelu adds x*(1+erf(x/sqrt 2))/2 as PyTorch exports it -> out (the
// halving first when halfFirst); the Erf's output is out+"_erf".
func gelu(b *builder, in, out string, halfFirst bool) {
	b.init(out+"_sqrt2", []float32{float32(math.Sqrt2)}).init(out+"_one", []float32{1}).init(out+"_half", []float32{0.5})
	b.node("Div", []string{in, out + "_sqrt2"}, []string{out + "_d"})
	b.node("Erf", []string{out + "_d"}, []string{out + "_erf"})
	b.node("Add", []string{out + "_erf", out + "_one"}, []string{out + "_a"})
	if halfFirst {
		b.node("Mul", []string{out + "_half", in}, []string{out + "_h"})
		b.node("Mul", []string{out + "_a", out + "_h"}, []string{out})
		return
	}
	b.node("Mul", []string{in, out + "_a"}, []string{out + "_m"})
	b.node("Mul", []string{out + "_m", out + "_half"}, []string{out})
}

func bn(b *builder, rng *rand.Rand, in, out string, c int) {
	vr := randFloats(rng, c)
	for i := range vr {
		vr[i] = vr[i]*vr[i] + 0.1
	}
	b.init(out+"_s", randFloats(rng, c), c).init(out+"_b", randFloats(rng, c), c).init(out+"_m", randFloats(rng, c), c).init(out+"_v", vr, c)
	b.node("BatchNormalization", []string{in, out + "_s", out + "_b", out + "_m", out + "_v"}, []string{out})
}

func clip(b *builder, in, out string, lo, hi float32) {
	b.init(out+"_lo", []float32{lo}).init(out+"_hi", []float32{hi})
	b.node("Clip", []string{in, out + "_lo", out + "_hi"}, []string{out})
}

var fuseCases = []fuseCase{
	{name: "conv_silu", x: []int{1, 3, 9, 10}, steps: 1, fused: "y_sig", fn: actSiLU, build: func(b *builder, rng *rand.Rand) {
		conv(b, rng, "x", "c", 3, 8, 3, 1, 1)
		silu(b, "c", "y", false)
	}},
	{name: "conv_silu_gate_first", x: []int{1, 3, 9, 10}, steps: 1, fused: "y_sig", fn: actSiLU, build: func(b *builder, rng *rand.Rand) {
		conv(b, rng, "x", "c", 3, 8, 3, 2, 1)
		silu(b, "c", "y", true)
	}},
	{name: "conv_bn_silu", x: []int{1, 4, 7, 7}, steps: 1, fused: "y_sig", fn: actSiLU, build: func(b *builder, rng *rand.Rand) {
		conv(b, rng, "x", "c", 4, 6, 1, 1, 1)
		bn(b, rng, "c", "n", 6)
		silu(b, "n", "y", false)
	}},
	{name: "depthwise_silu", x: []int{1, 8, 12, 16}, steps: 1, fused: "y_sig", fn: actSiLU, build: func(b *builder, rng *rand.Rand) {
		conv(b, rng, "x", "c", 8, 8, 3, 1, 8)
		silu(b, "c", "y", false)
	}},
	{name: "depthwise_flat_hardswish", x: []int{1, 8, 6, 5}, steps: 1, fused: "y_node", fn: actHardSwish, build: func(b *builder, rng *rand.Rand) {
		conv(b, rng, "x", "c", 8, 8, 3, 1, 8)
		b.node("HardSwish", []string{"c"}, []string{"y"})
	}},
	{name: "depthwise_stride2_relu_sigmoid", x: []int{1, 8, 11, 11}, steps: 1, fused: "y_node", fn: actSigmoid, build: func(b *builder, rng *rand.Rand) {
		conv(b, rng, "x", "c", 8, 8, 5, 2, 8)
		b.node("Relu", []string{"c"}, []string{"r"})
		b.node("Sigmoid", []string{"r"}, []string{"y"})
	}},
	{name: "conv_hardsigmoid_mul", x: []int{1, 3, 8, 8}, steps: 1, fused: "y_hs", fn: actHardSwish, build: func(b *builder, rng *rand.Rand) {
		conv(b, rng, "x", "c", 3, 5, 3, 1, 1)
		b.node("HardSigmoid", []string{"c"}, []string{"y_hs"}, attrFloat("alpha", 0.25), attrFloat("beta", 0.4))
		b.node("Mul", []string{"y_hs", "c"}, []string{"y"})
	}},
	{name: "conv_relu6_tanh", x: []int{1, 3, 8, 8}, steps: 1, fused: "y_node", fn: actTanh, build: func(b *builder, rng *rand.Rand) {
		conv(b, rng, "x", "c", 3, 5, 3, 1, 1)
		clip(b, "c", "r", 0, 6)
		b.node("Tanh", []string{"r"}, []string{"y"})
	}},
	{name: "conv_hardsigmoid", x: []int{1, 3, 8, 8}, steps: 1, fused: "y_node", fn: actHardSigmoid, build: func(b *builder, rng *rand.Rand) {
		conv(b, rng, "x", "c", 3, 5, 1, 1, 1)
		b.node("HardSigmoid", []string{"c"}, []string{"y"})
	}},
	{name: "gemm_silu", x: []int{3, 20}, steps: 1, fused: "y_sig", fn: actSiLU, build: func(b *builder, rng *rand.Rand) {
		b.init("w", randFloats(rng, 20*7), 20, 7).init("bias", randFloats(rng, 7), 7)
		b.node("Gemm", []string{"x", "w", "bias"}, []string{"g"})
		silu(b, "g", "y", false)
	}},
	{name: "matmul_hardswish", x: []int{2, 3, 16}, steps: 1, fused: "y_node", fn: actHardSwish, build: func(b *builder, rng *rand.Rand) {
		b.init("w", randFloats(rng, 16*9), 16, 9)
		b.node("MatMul", []string{"x", "w"}, []string{"g"})
		b.node("HardSwish", []string{"g"}, []string{"y"})
	}},
	{name: "batched_matmul_tanh", x: []int{2, 3, 16}, s: []int{2, 16, 5}, steps: 1, fused: "y_node", fn: actTanh, build: func(b *builder, rng *rand.Rand) {
		b.node("MatMul", []string{"x", "s"}, []string{"g"})
		b.node("Tanh", []string{"g"}, []string{"y"})
	}},
	{name: "bn_relu", x: []int{2, 6, 5, 7}, steps: 1, fused: "y_node", build: func(b *builder, rng *rand.Rand) {
		bn(b, rng, "x", "n", 6)
		b.node("Relu", []string{"n"}, []string{"y"})
	}},
	{name: "concat_bn_clip", x: []int{1, 3, 4, 4}, s: []int{1, 2, 4, 4}, steps: 2, build: func(b *builder, rng *rand.Rand) {
		b.node("Concat", []string{"x", "s"}, []string{"cat"}, attrInt("axis", 1))
		bn(b, rng, "cat", "n", 5)
		clip(b, "n", "y", 0, 0.5)
	}},
	{name: "bn_silu_1d", x: []int{2, 4, 33}, steps: 1, fused: "y_sig", fn: actSiLU, build: func(b *builder, rng *rand.Rand) {
		bn(b, rng, "x", "n", 4)
		silu(b, "n", "y", false)
	}},
	{name: "add_relu", x: []int{1, 6, 70, 70}, s: []int{1, 6, 70, 70}, steps: 1, fused: "y_node", build: func(b *builder, rng *rand.Rand) {
		b.node("Add", []string{"x", "s"}, []string{"a"})
		b.node("Relu", []string{"a"}, []string{"y"})
	}},
	{name: "add_silu", x: []int{3, 17}, s: []int{3, 17}, steps: 1, fused: "y_sig", fn: actSiLU, build: func(b *builder, rng *rand.Rand) {
		b.node("Add", []string{"s", "x"}, []string{"a"})
		silu(b, "a", "y", true)
	}},
	{name: "se_mul_relu", x: []int{2, 5, 3, 4}, s: []int{2, 5, 1, 1}, steps: 1, fused: "y_node", build: func(b *builder, rng *rand.Rand) {
		b.node("Mul", []string{"x", "s"}, []string{"m"})
		b.node("Relu", []string{"m"}, []string{"y"})
	}},
	{name: "se_mul_scale_first_hardswish", x: []int{2, 5, 3, 4}, s: []int{1, 5, 1, 1}, steps: 1, fused: "y_node", fn: actHardSwish, build: func(b *builder, rng *rand.Rand) {
		b.node("Mul", []string{"s", "x"}, []string{"m"})
		b.node("HardSwish", []string{"m"}, []string{"y"})
	}},
	{name: "se_mul_rank3_scale", x: []int{2, 5, 3, 4}, s: []int{5, 1, 1}, steps: 1, fused: "y_node", build: func(b *builder, rng *rand.Rand) {
		b.node("Mul", []string{"x", "s"}, []string{"m"})
		clip(b, "m", "y", -0.2, 0.3)
	}},
	{name: "standalone_silu", x: []int{2, 3, 50}, steps: 1, fused: "y_sig", fn: actSiLU, build: func(b *builder, rng *rand.Rand) {
		silu(b, "x", "y", true)
	}},
	{name: "standalone_hardswish_pattern", x: []int{2, 3, 50}, steps: 1, fused: "y_hs", fn: actHardSwish, build: func(b *builder, rng *rand.Rand) {
		b.node("HardSigmoid", []string{"x"}, []string{"y_hs"}, attrFloat("alpha", 1.0/6), attrFloat("beta", 0.5))
		b.node("Mul", []string{"x", "y_hs"}, []string{"y"})
	}},

	{name: "gemm_gelu_erf", x: []int{3, 20}, steps: 1, fused: "y_node", fn: actGelu, build: func(b *builder, rng *rand.Rand) {
		b.init("w", randFloats(rng, 20*7), 20, 7).init("bias", randFloats(rng, 7), 7)
		b.node("Gemm", []string{"x", "w", "bias"}, []string{"g"})
		gelu(b, "g", "y", false)
	}},
	{name: "standalone_gelu_half_first", x: []int{2, 40}, steps: 1, fused: "y_erf", fn: actGelu, build: func(b *builder, rng *rand.Rand) {
		gelu(b, "x", "y", true)
	}},
	{name: "conv_gelu_op", x: []int{1, 3, 8, 8}, steps: 1, fused: "y_node", fn: actGelu, build: func(b *builder, rng *rand.Rand) {
		conv(b, rng, "x", "c", 3, 5, 3, 1, 1)
		b.node("Gelu", []string{"c"}, []string{"y"})
	}},
	{name: "gelu_erf_read_elsewhere", x: []int{2, 40}, steps: 6, build: func(b *builder, rng *rand.Rand) {
		gelu(b, "x", "y0", false)
		b.node("Add", []string{"y0", "y0_erf"}, []string{"y"})
	}},

	// What must not fuse.
	{name: "gate_is_output", x: []int{1, 3, 6, 6}, steps: 3, build: func(b *builder, rng *rand.Rand) {
		conv(b, rng, "x", "c", 3, 4, 3, 1, 1)
		silu(b, "c", "y", false)
		b.output("y_sig")
	}},
	{name: "conv_read_twice", x: []int{1, 3, 6, 6}, steps: 3, build: func(b *builder, rng *rand.Rand) {
		conv(b, rng, "x", "c", 3, 4, 3, 1, 1)
		b.node("Sigmoid", []string{"c"}, []string{"g"})
		b.node("Add", []string{"g", "c"}, []string{"y"})
	}},
	{name: "conv_is_output", x: []int{1, 3, 6, 6}, steps: 2, build: func(b *builder, rng *rand.Rand) {
		conv(b, rng, "x", "c", 3, 4, 3, 1, 1)
		b.node("Tanh", []string{"c"}, []string{"y"})
		b.output("c")
	}},
	{name: "gate_of_another_tensor", x: []int{1, 3, 6, 6}, s: []int{1, 4, 6, 6}, steps: 2, fused: "g_node", fn: actSigmoid, build: func(b *builder, rng *rand.Rand) {
		conv(b, rng, "x", "c", 3, 4, 3, 1, 1)
		b.node("Sigmoid", []string{"c"}, []string{"g"})
		b.node("Mul", []string{"s", "g"}, []string{"y"})
	}},
	{name: "broadcast_add_relu", x: []int{2, 5, 3, 4}, s: []int{4}, steps: 2, build: func(b *builder, rng *rand.Rand) {
		b.node("Add", []string{"x", "s"}, []string{"a"})
		b.node("Relu", []string{"a"}, []string{"y"})
	}},
	{name: "add_read_twice", x: []int{2, 5}, s: []int{2, 5}, steps: 3, build: func(b *builder, rng *rand.Rand) {
		b.node("Add", []string{"x", "s"}, []string{"a"})
		b.node("Relu", []string{"a"}, []string{"r"})
		b.node("Mul", []string{"a", "r"}, []string{"y"})
	}},
	{name: "se_mul_alone", x: []int{2, 5, 3, 4}, s: []int{2, 5, 1, 1}, steps: 1, build: func(b *builder, rng *rand.Rand) {
		b.node("Mul", []string{"x", "s"}, []string{"y"})
	}},
	{name: "mul_per_row_not_channel", x: []int{2, 5, 3, 4}, s: []int{3, 1}, steps: 2, build: func(b *builder, rng *rand.Rand) {
		b.node("Mul", []string{"x", "s"}, []string{"m"})
		b.node("Relu", []string{"m"}, []string{"y"})
	}},
	{name: "sigmoid_after_sigmoid", x: []int{1, 3, 6, 6}, steps: 2, fused: "s1_node", fn: actSigmoid, build: func(b *builder, rng *rand.Rand) {
		conv(b, rng, "x", "c", 3, 4, 3, 1, 1)
		b.node("Sigmoid", []string{"c"}, []string{"s1"})
		b.node("Sigmoid", []string{"s1"}, []string{"y"})
	}},
	{name: "relu_after_silu", x: []int{1, 3, 6, 6}, steps: 2, fused: "y1_sig", fn: actSiLU, build: func(b *builder, rng *rand.Rand) {
		conv(b, rng, "x", "c", 3, 4, 3, 1, 1)
		silu(b, "c", "y1", false)
		b.node("Relu", []string{"y1"}, []string{"y"})
	}},
	{name: "convtranspose_keeps_sigmoid", x: []int{1, 3, 5, 5}, steps: 2, build: func(b *builder, rng *rand.Rand) {
		b.init("w", randFloats(rng, 3*4*3*3), 3, 4, 3, 3)
		b.node("ConvTranspose", []string{"x", "w"}, []string{"c"})
		b.node("Sigmoid", []string{"c"}, []string{"y"})
	}},
}

// withoutFusion loads b with neither fusion pass (tests in this package do
// not run in parallel).
func withoutFusion(t *testing.T, b *builder) *Model {
	t.Helper()
	saved := pipeline
	defer func() { pipeline = saved }()
	pipeline = nil
	for _, p := range saved {
		if p.name != "fuse-elementwise" && p.name != "fuse-activation" {
			pipeline = append(pipeline, p)
		}
	}
	return b.load(t, Options{})
}

// fuseInputs draws the inputs of c, wide enough to reach both ends of the
// clamps and hard sigmoids, with a NaN, infinities and zeros.
func fuseInputs(c fuseCase, rng *rand.Rand) []*Tensor {
	in := []*Tensor{NewFloat(randFloats(rng, numel(c.x)), c.x...)}
	if c.s != nil {
		in = append(in, NewFloat(randFloats(rng, numel(c.s)), c.s...))
	}
	for _, t := range in {
		for i := range t.F {
			t.F[i] *= 5
		}
	}
	if c.s == nil && len(in[0].F) > 8 {
		f := in[0].F
		f[1], f[3], f[5], f[7] = float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0
	}
	return in
}

func TestFusionMatchesUnfused(t *testing.T) {
	for _, c := range fuseCases {
		t.Run(c.name, func(t *testing.T) {
			mk := func() *builder {
				b := newBuilder(14)
				b.input("x", c.x...)
				if c.s != nil {
					b.input("s", c.s...)
				}
				c.build(b, rand.New(rand.NewPCG(21, 22)))
				return b.output("y")
			}
			fused := mk().load(t, Options{})
			plain := withoutFusion(t, mk())
			if len(fused.steps) != c.steps {
				var ops []string
				for _, st := range fused.steps {
					ops = append(ops, st.n.op+"["+st.n.act.from+"]")
				}
				t.Fatalf("%d steps %v, want %d", len(fused.steps), ops, c.steps)
			}
			found := c.fused == ""
			for _, st := range fused.steps {
				if c.fused != "" && strings.Contains(st.n.act.from, c.fused) {
					found = true
					if st.n.act.fn != c.fn {
						t.Errorf("step %s fused %v, want %v", st.n.name, st.n.act.fn, c.fn)
					}
				}
				if c.fused == "" && st.n.act.fn != actIdentity && !strings.HasPrefix(c.name, "gate") {
					t.Errorf("step %s fused %v (%s), want no function", st.n.name, st.n.act.fn, st.n.act.from)
				}
			}
			if !found {
				t.Errorf("no step fused %q", c.fused)
			}
			rng := rand.New(rand.NewPCG(23, 24))
			for _, in := range [][]*Tensor{fuseInputs(c, rng), fuseInputs(c, rng)} {
				want, err := plain.NewSession().RunWith(in, referenceSelector{plain})
				if err != nil {
					t.Fatal(err)
				}
				for threads := 1; threads <= 2; threads++ {
					s := fused.NewSession()
					if threads == 2 {
						fused2 := mk().load(t, Options{Threads: 2})
						s = fused2.NewSession()
					}
					got, err := s.Run(in)
					if err != nil {
						t.Fatal(err)
					}
					sameFloatsNaN(t, fmt.Sprintf("threads %d", threads), got[0].F, want[0].F, 1e-5)
				}
				ref, err := fused.NewSession().RunWith(in, referenceSelector{fused})
				if err != nil {
					t.Fatal(err)
				}
				sameFloatsNaN(t, "fused reference", ref[0].F, want[0].F, 1e-5)
			}
		})
	}
}

// sameFloatsNaN compares within rtol of the largest finite expected value,
// with NaN where the expected value is NaN and equal infinities.
func sameFloatsNaN(t *testing.T, what string, got, want []float32, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d elements, want %d", what, len(got), len(want))
	}
	scale := 1e-3
	for _, w := range want {
		if !math.IsInf(float64(w), 0) && w == w {
			scale = max(scale, math.Abs(float64(w)))
		}
	}
	for i, w := range want {
		g := got[i]
		switch {
		case w != w:
			if g == g {
				t.Fatalf("%s: element %d is %g, want NaN", what, i, g)
			}
		case math.IsInf(float64(w), 0):
			if g != w {
				t.Fatalf("%s: element %d is %g, want %g", what, i, g, w)
			}
		case math.Abs(float64(g)-float64(w)) > rtol*scale || g != g:
			t.Fatalf("%s: element %d is %g, want %g", what, i, g, w)
		}
	}
}

// TestFusionNonFloat checks that integer chains keep their nodes.
func TestFusionNonFloat(t *testing.T) {
	b := newBuilder(14)
	b.elemInput("x", Int32, 2, 3).elemInput("s", Int32, 2, 3)
	b.node("Add", []string{"x", "s"}, []string{"a"})
	b.node("Relu", []string{"a"}, []string{"y"})
	m := b.output("y").load(t, Options{})
	if len(m.steps) != 2 || m.steps[0].n.def != opTable["Add"] {
		t.Fatalf("integer Add+Relu: %d steps, def fused %v", len(m.steps), m.steps[0].n.def != opTable["Add"])
	}
}

// TestFusedRunAllocatesNothing runs a chain of every fused kind with one
// and two threads.
func TestFusedRunAllocatesNothing(t *testing.T) {
	for threads := 1; threads <= 2; threads++ {
		rng := rand.New(rand.NewPCG(31, 32))
		b := newBuilder(14)
		b.input("x", 1, 4, 20, 20).input("s", 1, 8, 20, 20)
		conv(b, rng, "x", "c", 4, 8, 3, 1, 1)
		silu(b, "c", "c1", false)
		conv(b, rng, "c1", "d", 8, 8, 3, 1, 8)
		b.node("HardSwish", []string{"d"}, []string{"d1"})
		b.node("Add", []string{"d1", "s"}, []string{"a"})
		b.node("Relu", []string{"a"}, []string{"a1"})
		b.node("GlobalAveragePool", []string{"a1"}, []string{"p"})
		b.node("Sigmoid", []string{"p"}, []string{"g"})
		b.node("Mul", []string{"a1", "g"}, []string{"m"})
		b.node("Tanh", []string{"m"}, []string{"m1"})
		b.node("Concat", []string{"m1", "s"}, []string{"cat"}, attrInt("axis", 1))
		bn(b, rng, "cat", "n", 16)
		b.node("Relu", []string{"n"}, []string{"n1"})
		silu(b, "n1", "y", false)
		m := b.output("y").load(t, Options{Threads: threads})
		in := []*Tensor{NewFloat(randFloats(rng, 4*400), 1, 4, 20, 20), NewFloat(randFloats(rng, 8*400), 1, 8, 20, 20)}
		s := m.NewSession()
		if _, err := s.Run(in); err != nil {
			t.Fatal(err)
		}
		if a := testing.AllocsPerRun(20, func() { s.Run(in) }); a != 0 {
			t.Errorf("threads %d: %v allocations per run", threads, a)
		}
		checkAgainstReference(t, m, in, 1e-5)
		s.Close()
	}
}
