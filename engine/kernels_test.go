package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/kagen-ai/kagen/engine/onnx"
)

// convCase is one convolution shape.
type convCase struct {
	c, h, w, m     int // 1-D when h == 0
	kh, kw         int
	sh, sw, dh, dw int
	pads           []int
	group          int
	bias, relu     bool
	autoPad        string
}

func (c convCase) String() string {
	return fmt.Sprintf("c%d_%dx%d_m%d_k%dx%d_s%d%d_d%d%d_p%v_g%d_b%v_r%v_%s", c.c, c.h, c.w, c.m, c.kh, c.kw, c.sh, c.sw, c.dh, c.dw, c.pads, c.group, c.bias, c.relu, c.autoPad)
}

func convModel(t testing.TB, c convCase, rng *rand.Rand) (*Model, []*Tensor) {
	b := newBuilder(13)
	oneD := c.h == 0
	inShape := []int{1, c.c, c.h, c.w}
	wShape := []int{c.m, c.c / c.group, c.kh, c.kw}
	attrs := []*onnx.Attribute{attrInt("group", c.group)}
	if oneD {
		inShape = []int{1, c.c, c.w}
		wShape = []int{c.m, c.c / c.group, c.kw}
		attrs = append(attrs, attrInts("strides", c.sw), attrInts("dilations", c.dw))
	} else {
		attrs = append(attrs, attrInts("strides", c.sh, c.sw), attrInts("dilations", c.dh, c.dw))
	}
	if c.autoPad != "" {
		attrs = append(attrs, &onnx.Attribute{Name: "auto_pad", Type: 3, S: []byte(c.autoPad)})
	} else if c.pads != nil {
		attrs = append(attrs, attrInts("pads", c.pads...))
	}
	b.input("x", inShape...).init("w", randFloats(rng, numel(wShape)), wShape...)
	ins := []string{"x", "w"}
	if c.bias {
		b.init("b", randFloats(rng, c.m), c.m)
		ins = append(ins, "b")
	}
	out := "y"
	if c.relu {
		out = "conv"
	}
	b.node("Conv", ins, []string{out}, attrs...)
	if c.relu {
		b.node("Relu", []string{"conv"}, []string{"y"})
	}
	b.output("y")
	m := b.load(t, Options{})
	return m, []*Tensor{NewFloat(randFloats(rng, numel(inShape)), inShape...)}
}

func TestConvFastMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []convCase{
		{c: 1, h: 5, w: 5, m: 1, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, group: 1},
		{c: 3, h: 8, w: 7, m: 5, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pads: []int{1, 1, 1, 1}, group: 1, bias: true},
		{c: 4, h: 9, w: 11, m: 6, kh: 3, kw: 2, sh: 2, sw: 3, dh: 1, dw: 1, pads: []int{0, 1, 2, 0}, group: 2, bias: true, relu: true},
		{c: 6, h: 10, w: 10, m: 6, kh: 3, kw: 3, sh: 1, sw: 1, dh: 2, dw: 2, pads: []int{2, 2, 2, 2}, group: 6, bias: true},
		{c: 8, h: 7, w: 6, m: 8, kh: 5, kw: 5, sh: 2, sw: 2, dh: 1, dw: 1, pads: []int{2, 2, 2, 2}, group: 8, relu: true},
		{c: 16, h: 5, w: 5, m: 24, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, group: 1, bias: true, relu: true},
		{c: 1, h: 101, w: 40, m: 64, kh: 20, kw: 8, sh: 1, sw: 1, dh: 1, dw: 1, group: 1, bias: true, relu: true},
		{c: 64, h: 20, w: 11, m: 64, kh: 10, kw: 4, sh: 1, sw: 1, dh: 1, dw: 1, group: 1, bias: true, relu: true},
		{c: 5, h: 6, w: 9, m: 7, kh: 3, kw: 3, sh: 2, sw: 2, dh: 1, dw: 1, group: 1, autoPad: "SAME_UPPER"},
		{c: 5, h: 6, w: 9, m: 7, kh: 4, kw: 2, sh: 3, sw: 1, dh: 1, dw: 1, group: 1, autoPad: "SAME_LOWER"},
		{c: 6, w: 128, m: 64, kw: 5, sw: 1, dw: 1, pads: []int{2, 2}, group: 1, bias: true, relu: true},
		{c: 64, w: 33, m: 128, kw: 5, sw: 2, dw: 1, pads: []int{2, 2}, group: 1, bias: true},
		{c: 12, w: 30, m: 12, kw: 3, sw: 1, dw: 3, pads: []int{3, 3}, group: 12},
		{c: 9, w: 17, m: 6, kw: 3, sw: 1, dw: 1, group: 3, autoPad: "VALID"},
		{c: 16, h: 6, w: 5, m: 16, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pads: []int{1, 1, 1, 1}, group: 16, bias: true, relu: true},    // depthwise, short rows: flat
		{c: 4, h: 5, w: 16, m: 4, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pads: []int{1, 1, 1, 1}, group: 4, relu: true},                  // depthwise, rows of whole vectors
		{c: 4, w: 9, m: 4, kw: 3, sw: 1, dw: 2, pads: []int{1, 3}, group: 4, bias: true},                                                    // 1-D depthwise, flat
		{c: 160, h: 6, w: 5, m: 160, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pads: []int{1, 1, 1, 1}, group: 160, bias: true, relu: true}, // flat, two groups of planes
		{c: 40, h: 25, w: 20, m: 40, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pads: []int{1, 1, 1, 1}, group: 40, relu: true},              // flat, four groups, no bias
		{c: 20, h: 12, w: 10, m: 20, kh: 5, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pads: []int{2, 1, 2, 1}, group: 20, bias: true},              // flat, 5x3 taps
		// Column stride 2: the padded copy split into two phases by
		// vec.Deinterleave (kws-ds's first convolution, then left pads 0
		// to 3, 1-D, one input column).
		{c: 1, h: 98, w: 40, m: 160, kh: 10, kw: 4, sh: 4, sw: 2, dh: 1, dw: 1, pads: []int{4, 1, 4, 1}, group: 1, bias: true, relu: true},
		{c: 3, h: 7, w: 12, m: 5, kh: 3, kw: 3, sh: 1, sw: 2, dh: 1, dw: 1, pads: []int{0, 0, 1, 1}, group: 1},
		{c: 2, h: 6, w: 13, m: 4, kh: 2, kw: 5, sh: 2, sw: 2, dh: 1, dw: 1, pads: []int{1, 3, 0, 2}, group: 1, bias: true},
		{c: 2, h: 5, w: 8, m: 3, kh: 3, kw: 3, sh: 1, sw: 2, dh: 1, dw: 2, pads: []int{1, 2, 1, 2}, group: 1},
		{c: 3, w: 31, m: 8, kw: 4, sw: 2, dw: 1, pads: []int{3, 1}, group: 1, relu: true},
		{c: 2, h: 4, w: 1, m: 3, kh: 3, kw: 3, sh: 1, sw: 2, dh: 1, dw: 1, pads: []int{1, 1, 1, 1}, group: 1},
	}
	for i := 0; i < 20; i++ { // random shapes with ragged edges
		g := 1 + rng.IntN(3)
		c := convCase{c: g * (1 + rng.IntN(4)), h: 3 + rng.IntN(12), w: 3 + rng.IntN(12), m: g * (1 + rng.IntN(9)),
			kh: 1 + rng.IntN(3), kw: 1 + rng.IntN(3), sh: 1 + rng.IntN(2), sw: 1 + rng.IntN(2), dh: 1 + rng.IntN(2), dw: 1 + rng.IntN(2),
			group: g, bias: rng.IntN(2) == 0, relu: rng.IntN(2) == 0}
		c.pads = []int{rng.IntN(2), rng.IntN(3), rng.IntN(2), rng.IntN(3)}
		cases = append(cases, c)
	}
	for _, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			m, in := convModel(t, c, rng)
			if c.relu && m.steps[0].n.act.on == false {
				t.Fatal("Relu was not fused")
			}
			checkAgainstReference(t, m, in, 1e-5)
		})
	}
}

func TestGemmAndMatMulFastMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	type gc struct {
		m, k, n        int
		transA, transB bool
		alpha, beta    float32
		bias           []int // shape of C, nil for none
		relu           bool
	}
	cases := []gc{
		{1, 37376, 11, false, false, 1, 1, []int{11}, false},
		{1, 128, 5, false, true, 1, 1, []int{5}, true},
		{3, 7, 5, true, false, 0.5, 2, []int{1, 5}, false},
		{4, 9, 13, true, true, 1, 0.5, []int{4, 1}, true},
		{5, 16, 16, false, false, 1, 1, []int{}, false},
		{6, 17, 33, false, true, 2, 1, nil, false},
		{2, 3, 4, false, false, 1, 1, []int{2, 4}, false},
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("gemm%d", i), func(t *testing.T) {
			b := newBuilder(13)
			as := []int{c.m, c.k}
			if c.transA {
				as = []int{c.k, c.m}
			}
			bs := []int{c.k, c.n}
			if c.transB {
				bs = []int{c.n, c.k}
			}
			b.input("a", as...).init("b", randFloats(rng, numel(bs)), bs...)
			ins := []string{"a", "b"}
			if c.bias != nil {
				b.init("c", randFloats(rng, numel(c.bias)), c.bias...)
				ins = append(ins, "c")
			}
			b.node("Gemm", ins, []string{"g"}, attrInt("transA", b2i(c.transA)), attrInt("transB", b2i(c.transB)), attrFloat("alpha", c.alpha), attrFloat("beta", c.beta))
			last := "g"
			if c.relu {
				b.node("Relu", []string{"g"}, []string{"y"})
				last = "y"
			}
			m := b.output(last).load(t, Options{})
			checkAgainstReference(t, m, []*Tensor{NewFloat(randFloats(rng, numel(as)), as...)}, 1e-5)
		})
	}
	for i, s := range [][2][]int{{{3, 4, 5}, {5, 6}}, {{1, 64}, {64, 10}}, {{7}, {7, 3}}, {{2, 3, 4}, {4}}} {
		t.Run(fmt.Sprintf("matmul%d", i), func(t *testing.T) {
			m := newBuilder(13).input("a", s[0]...).init("b", randFloats(rng, numel(s[1])), s[1]...).
				node("MatMul", []string{"a", "b"}, []string{"y"}).output("y").load(t, Options{})
			checkAgainstReference(t, m, []*Tensor{NewFloat(randFloats(rng, numel(s[0])), s[0]...)}, 1e-5)
		})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestBatchNormFolding checks that folding BatchNormalization into the
// preceding Conv gives the unfolded result.
func TestBatchNormFolding(t *testing.T) {
	build := func() *builder {
		rng := rand.New(rand.NewPCG(5, 6))
		b := newBuilder(13).input("x", 1, 3, 6, 6).
			init("w", randFloats(rng, 4*3*9), 4, 3, 3, 3).init("bias", randFloats(rng, 4), 4).
			init("s", randFloats(rng, 4), 4).init("sh", randFloats(rng, 4), 4).init("mu", randFloats(rng, 4), 4)
		v := randFloats(rng, 4)
		for i := range v {
			v[i] = v[i]*v[i] + 0.1
		}
		return b.init("var", v, 4).
			node("Conv", []string{"x", "w", "bias"}, []string{"c"}).
			node("BatchNormalization", []string{"c", "s", "sh", "mu", "var"}, []string{"bn"}).
			node("Relu", []string{"bn"}, []string{"y"}).output("y")
	}
	m := build().load(t, Options{})
	if len(m.steps) != 1 {
		t.Fatalf("expected Conv+BN+Relu to become one step, got %d", len(m.steps))
	}
	x := NewFloat(randFloats(rand.New(rand.NewPCG(9, 9)), 108), 1, 3, 6, 6)
	got, err := m.NewSession().Run([]*Tensor{x})
	if err != nil {
		t.Fatal(err)
	}
	// The unfolded graph, evaluated node by node with the references.
	g, err := buildGraph(build().m, &Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inferAndFold(g, &Options{}); err != nil {
		t.Fatal(err)
	}
	vals := map[*value]*Tensor{g.inputs[0]: x}
	for _, n := range g.nodes {
		in := make([]*Tensor, len(n.in))
		for i, v := range n.in {
			if v.constant != nil {
				in[i] = v.constant
			} else {
				in[i] = vals[v]
			}
		}
		out := []*Tensor{allocTensor(n.out[0])}
		n.def.eval(n, in, out)
		vals[n.out[0]] = out[0]
	}
	compareFloats(t, got[0].F, vals[g.outputs[0]].F, 1e-5)
}

// TestRunAllocatesNothing checks the steady-state promise.
func TestRunAllocatesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	m, in := convModel(t, convCase{c: 3, h: 12, w: 10, m: 8, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pads: []int{1, 1, 1, 1}, group: 1, bias: true, relu: true}, rng)
	s := m.NewSession()
	if _, err := s.Run(in); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(20, func() { s.Run(in) }); a != 0 {
		t.Fatalf("Run allocates %.0f times per call", a)
	}
	// A whole network with pooling, dense layers and views.
	b := newBuilder(13).input("x", 1, 6, 64).
		init("w1", randFloats(rng, 16*6*5), 16, 6, 5).init("w2", randFloats(rng, 16*8*3), 16, 8, 3).
		init("fc", randFloats(rng, 16*5), 16, 5).init("fb", randFloats(rng, 5), 5).
		node("Conv", []string{"x", "w1"}, []string{"c1"}, attrInts("pads", 2, 2)).
		node("Relu", []string{"c1"}, []string{"r1"}).
		node("MaxPool", []string{"r1"}, []string{"p1"}, attrInts("kernel_shape", 2), attrInts("strides", 2)).
		node("Conv", []string{"p1", "w2"}, []string{"c2"}, attrInts("pads", 1, 1), attrInt("group", 2)).
		node("GlobalAveragePool", []string{"c2"}, []string{"g"}).
		node("Flatten", []string{"g"}, []string{"f"}).
		node("Gemm", []string{"f", "fc", "fb"}, []string{"logits"}).
		node("Softmax", []string{"logits"}, []string{"y"}).output("y")
	m = b.load(t, Options{})
	s = m.NewSession()
	x := []*Tensor{NewFloat(randFloats(rng, 6*64), 1, 6, 64)}
	if _, err := s.Run(x); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(20, func() { s.Run(x) }); a != 0 {
		t.Fatalf("Run of a small network allocates %.0f times per call", a)
	}
	checkAgainstReference(t, m, x, 1e-5)
}

func TestPoolFastMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	type pc struct {
		op    string
		shape []int
		attrs []*onnx.Attribute
	}
	cases := []pc{
		{"MaxPool", []int{1, 64, 82, 33}, []*onnx.Attribute{attrInts("kernel_shape", 1, 3), attrInts("strides", 1, 3)}},
		{"MaxPool", []int{1, 3, 5, 9}, []*onnx.Attribute{attrInts("kernel_shape", 1, 3), attrInts("strides", 1, 3)}},                           // flat, 45 windows: a tail
		{"MaxPool", []int{1, 5, 30}, []*onnx.Attribute{attrInts("kernel_shape", 2), attrInts("strides", 2)}},                                   // flat, windows of 2
		{"MaxPool", []int{1, 3, 25, 20}, []*onnx.Attribute{attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2)}},                         // 2x2: eight and two per row
		{"MaxPool", []int{2, 2, 7, 11}, []*onnx.Attribute{attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2)}},                          // 2x2: four and one
		{"MaxPool", []int{1, 6, 12, 10}, []*onnx.Attribute{attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2)}},                         // 2x2: rows of five, two fours
		{"MaxPool", []int{2, 3, 13, 35}, []*onnx.Attribute{attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2)}},                         // 2x2: two eights and one moved back
		{"MaxPool", []int{1, 2, 7, 11}, []*onnx.Attribute{attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2), attrInt("ceil_mode", 1)}}, // partial last window: general path
		{"MaxPool", []int{2, 3, 9, 10}, []*onnx.Attribute{attrInts("kernel_shape", 3, 3), attrInts("strides", 2, 2), attrInts("pads", 1, 1, 1, 1)}},
		{"MaxPool", []int{1, 3, 9, 10}, []*onnx.Attribute{attrInts("kernel_shape", 3, 2), attrInts("dilations", 2, 3), attrInt("ceil_mode", 1)}},
		{"MaxPool", []int{1, 5, 31}, []*onnx.Attribute{attrInts("kernel_shape", 2), attrInts("strides", 2)}},
		{"MaxPool", []int{1, 4, 12, 17}, []*onnx.Attribute{attrInts("kernel_shape", 2, 4), attrInts("strides", 1, 3), attrInts("pads", 1, 2, 0, 3), attrInt("ceil_mode", 1)}},
		{"MaxPool", []int{1, 3, 8, 9}, []*onnx.Attribute{attrInts("kernel_shape", 1, 3), attrInts("strides", 1, 2), attrInts("pads", 0, 1, 0, 1)}},
		{"MaxPool", []int{1, 3, 5, 4}, []*onnx.Attribute{attrInts("kernel_shape", 3, 5), attrInts("pads", 1, 2, 1, 2)}},
		{"AveragePool", []int{1, 4, 9, 10}, []*onnx.Attribute{attrInts("kernel_shape", 3, 3), attrInts("strides", 2, 2), attrInts("pads", 1, 1, 1, 1)}},
		{"AveragePool", []int{1, 4, 9, 10}, []*onnx.Attribute{attrInts("kernel_shape", 3, 3), attrInts("strides", 2, 2), attrInts("pads", 1, 1, 1, 1), attrInt("count_include_pad", 1)}},
		{"AveragePool", []int{1, 4, 10, 11}, []*onnx.Attribute{attrInts("kernel_shape", 3, 4), attrInts("strides", 2, 3), attrInts("pads", 0, 1, 2, 2), attrInt("count_include_pad", 1), attrInt("ceil_mode", 1)}},
		{"AveragePool", []int{1, 7, 25}, []*onnx.Attribute{attrInts("kernel_shape", 4), attrInts("strides", 3), attrInts("pads", 1, 2), attrInt("ceil_mode", 1)}},
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("%s%d", c.op, i), func(t *testing.T) {
			m := newBuilder(19).input("x", c.shape...).node(c.op, []string{"x"}, []string{"y"}, c.attrs...).output("y").load(t, Options{})
			if _, ok := m.steps[0].kernel.(*poolKernel); !ok {
				t.Fatalf("fast kernel not used: %T", m.steps[0].kernel)
			}
			checkAgainstReference(t, m, []*Tensor{NewFloat(randFloats(rng, numel(c.shape)), c.shape...)}, 1e-6)
		})
	}
}
