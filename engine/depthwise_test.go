package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// dwCase is one depthwise convolution: c channels of h x w, a square
// kernel k, stride s, pads (top, left, bottom, right), with or without
// bias, followed by a fused activation: "" none, "relu", "clip" (0, 6).
type dwCase struct {
	c, h, w, k, s int
	pads          [4]int
	bias          bool
	act           string
	dil           int  // dilation; 0 is 1
	d1            bool // a 1-D convolution over w (h is 1; pads[1] and pads[3] left and right)
}

func (c dwCase) String() string {
	if c.d1 {
		return fmt.Sprintf("1d_c%d_%d_k%d_s%d_d%d_p%d,%d_b%v_%s", c.c, c.w, c.k, c.s, max(1, c.dil), c.pads[1], c.pads[3], c.bias, c.act)
	}
	return fmt.Sprintf("c%d_%dx%d_k%d_s%d_d%d_p%v_b%v_%s", c.c, c.h, c.w, c.k, c.s, max(1, c.dil), c.pads, c.bias, c.act)
}

func (c dwCase) model(t testing.TB, rng *rand.Rand, opts Options) (*Model, []*Tensor) {
	b := newBuilder(13)
	if c.d1 {
		c.h = 1
		b.input("x", 1, c.c, c.w).init("w", randFloats(rng, c.c*c.k), c.c, 1, c.k)
	} else {
		b.input("x", 1, c.c, c.h, c.w).init("w", randFloats(rng, c.c*c.k*c.k), c.c, 1, c.k, c.k)
	}
	ins := []string{"x", "w"}
	if c.bias {
		b.init("b", randFloats(rng, c.c), c.c)
		ins = append(ins, "b")
	}
	out := "y"
	if c.act != "" {
		out = "conv"
	}
	if c.d1 {
		b.node("Conv", ins, []string{out}, attrInt("group", c.c), attrInts("kernel_shape", c.k),
			attrInts("strides", c.s), attrInts("pads", c.pads[1], c.pads[3]), attrInts("dilations", max(1, c.dil)))
	} else {
		b.node("Conv", ins, []string{out}, attrInt("group", c.c), attrInts("kernel_shape", c.k, c.k),
			attrInts("strides", c.s, c.s), attrInts("pads", c.pads[0], c.pads[1], c.pads[2], c.pads[3]),
			attrInts("dilations", max(1, c.dil), max(1, c.dil)))
	}
	switch c.act {
	case "relu":
		b.node("Relu", []string{"conv"}, []string{"y"})
	case "clip":
		b.init("lo", []float32{0}).init("hi", []float32{0.5})
		b.node("Clip", []string{"conv", "lo", "hi"}, []string{"y"})
	}
	b.output("y")
	m := b.load(t, opts)
	if c.act != "" && !m.steps[0].n.act.on {
		t.Fatalf("%s: the activation was not fused", c)
	}
	if c.d1 {
		return m, []*Tensor{NewFloat(randFloats(rng, c.c*c.w), 1, c.c, c.w)}
	}
	return m, []*Tensor{NewFloat(randFloats(rng, c.c*c.h*c.w), 1, c.c, c.h, c.w)}
}

// dwCases are the shapes the depthwise tests run: the MobileNet,
// EfficientNet and VWW shapes (smaller channel counts), then odd channel
// counts, sizes from 1x1 up, asymmetric pads, 3x3 and 5x5, strides 1 and
// 2, bias or none, every activation.
func dwCases(rng *rand.Rand) []dwCase {
	cases := []dwCase{
		{c: 3, h: 112, w: 112, k: 3, s: 2, pads: [4]int{1, 1, 1, 1}, bias: true, act: "clip"},
		{c: 5, h: 56, w: 56, k: 3, s: 1, pads: [4]int{1, 1, 1, 1}, bias: true, act: "clip"},
		{c: 7, h: 28, w: 28, k: 5, s: 1, pads: [4]int{2, 2, 2, 2}, bias: true, act: "relu"},
		{c: 9, h: 14, w: 14, k: 5, s: 2, pads: [4]int{2, 2, 2, 2}, bias: true},
		{c: 11, h: 7, w: 7, k: 5, s: 1, pads: [4]int{2, 2, 2, 2}},
		{c: 8, h: 48, w: 48, k: 3, s: 2, pads: [4]int{0, 0, 1, 1}, bias: true, act: "relu"}, // TF SAME at stride 2
		{c: 17, h: 3, w: 3, k: 3, s: 1, pads: [4]int{1, 1, 1, 1}, bias: true, act: "clip"},
		{c: 1, h: 1, w: 1, k: 3, s: 2, pads: [4]int{1, 1, 1, 1}},
		{c: 2, h: 1, w: 1, k: 5, s: 1, pads: [4]int{2, 2, 2, 2}, bias: true},
		{c: 3, h: 2, w: 3, k: 3, s: 2, pads: [4]int{1, 0, 0, 1}, act: "clip"},
		{c: 33, h: 31, w: 33, k: 5, s: 2, pads: [4]int{1, 2, 0, 2}, bias: true},
		{c: 300, h: 6, w: 6, k: 3, s: 2, pads: [4]int{1, 1, 1, 1}, bias: true}, // several groups of planes
		{c: 5, h: 15, w: 16, k: 3, s: 2, pads: [4]int{2, 1, 2, 3}, dil: 2, act: "relu"},
		{c: 5, h: 13, w: 12, k: 5, s: 2, pads: [4]int{0, 3, 4, 1}, dil: 3, bias: true},
		{c: 5, h: 13, w: 12, k: 3, s: 1, pads: [4]int{2, 2, 2, 2}, dil: 2, bias: true},
		// kws-ds's maps (vec.DepthwiseSame3 on AVX-512: every tail block
		// of vectors, with and without bias and clamp).
		{c: 160, h: 25, w: 20, k: 3, s: 1, pads: [4]int{1, 1, 1, 1}, bias: true, act: "relu"},
		{c: 19, h: 12, w: 10, k: 3, s: 1, pads: [4]int{1, 1, 1, 1}, bias: true, act: "clip"},
		{c: 21, h: 6, w: 5, k: 3, s: 1, pads: [4]int{1, 1, 1, 1}},
		{c: 4, h: 1, w: 20, k: 3, s: 1, pads: [4]int{1, 1, 1, 1}, act: "relu"},
		{c: 3, h: 9, w: 1, k: 3, s: 1, pads: [4]int{1, 1, 1, 1}, bias: true},
	}
	// 1-D: a MobileNet for IMU windows (192 channels of 8-32 steps, k5,
	// strides 1 and 2), odd lengths and pads, dilations, one step.
	cases = append(cases,
		dwCase{d1: true, c: 192, w: 16, k: 5, s: 2, pads: [4]int{0, 2, 0, 2}, bias: true, act: "clip"},
		dwCase{d1: true, c: 192, w: 16, k: 5, s: 1, pads: [4]int{0, 2, 0, 2}, bias: true, act: "clip"},
		dwCase{d1: true, c: 48, w: 64, k: 5, s: 2, pads: [4]int{0, 2, 0, 2}, bias: true, act: "relu"},
		dwCase{d1: true, c: 7, w: 1, k: 3, s: 2, pads: [4]int{0, 1, 0, 1}},
		dwCase{d1: true, c: 5, w: 2, k: 5, s: 1, pads: [4]int{0, 2, 0, 2}, bias: true},
		dwCase{d1: true, c: 9, w: 33, k: 3, s: 2, pads: [4]int{0, 0, 0, 1}, dil: 2, act: "clip"},
		dwCase{d1: true, c: 300, w: 9, k: 5, s: 2, pads: [4]int{0, 3, 0, 1}, bias: true},
		dwCase{d1: true, c: 3, w: 40, k: 7, s: 1, pads: [4]int{0, 3, 0, 3}, dil: 3},
	)
	for i := 0; i < 30; i++ {
		k := 1 + rng.IntN(7)
		c := dwCase{d1: true, c: 1 + rng.IntN(40), w: 1 + rng.IntN(50), k: k, s: 1 + rng.IntN(2), dil: 1 + rng.IntN(2), bias: rng.IntN(2) == 0}
		c.act = []string{"", "relu", "clip"}[rng.IntN(3)]
		c.pads[1], c.pads[3] = rng.IntN(k), rng.IntN(k)
		if c.w+c.pads[1]+c.pads[3] < (k-1)*c.dil+1 {
			continue
		}
		cases = append(cases, c)
	}
	for i := 0; i < 60; i++ {
		k := 3 + 2*rng.IntN(2)
		c := dwCase{c: 1 + 2*rng.IntN(8), h: 1 + rng.IntN(24), w: 1 + rng.IntN(40), k: k, s: 1 + rng.IntN(2), bias: rng.IntN(2) == 0}
		c.act = []string{"", "relu", "clip"}[rng.IntN(3)]
		for j := range c.pads {
			c.pads[j] = rng.IntN(k)
		}
		if (c.h+c.pads[0]+c.pads[2]) < k || (c.w+c.pads[1]+c.pads[3]) < k {
			continue
		}
		cases = append(cases, c)
	}
	return cases
}

// TestDepthwiseMatchesReference compares the depthwise kernel with the
// reference Conv over dwCases, at one and two threads (whose outputs must
// be the same bits).
func TestDepthwiseMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 1))
	for _, c := range dwCases(rng) {
		t.Run(c.String(), func(t *testing.T) {
			seed := rng.Uint64()
			m, in := c.model(t, rand.New(rand.NewPCG(seed, 0)), Options{})
			k, ok := m.steps[0].kernel.(*depthwiseKernel)
			if !ok {
				t.Fatalf("kernel %T, want the depthwise kernel", m.steps[0].kernel)
			}
			if c.d1 && k.flat == nil {
				t.Fatal("a 1-D depthwise convolution is not computed flat, several channels a call")
			}
			checkAgainstReference(t, m, in, 1e-5)
			m2, in2 := c.model(t, rand.New(rand.NewPCG(seed, 0)), Options{Threads: 2})
			s1, s2 := m.NewSession(), m2.NewSession()
			defer s2.Close()
			a, err := s1.Run(in)
			if err != nil {
				t.Fatal(err)
			}
			b, err := s2.Run(in2)
			if err != nil {
				t.Fatal(err)
			}
			for i := range a[0].F {
				if math.Float32bits(a[0].F[i]) != math.Float32bits(b[0].F[i]) {
					t.Fatalf("element %d: %v at one thread, %v at two", i, a[0].F[i], b[0].F[i])
				}
			}
		})
	}
}

// TestDepthwiseNaNInf checks that NaN and infinities in the input reach
// exactly the outputs whose receptive field holds them, as in the
// reference, through the clamp.
func TestDepthwiseNaNInf(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 2))
	for _, c := range []dwCase{
		{c: 3, h: 20, w: 21, k: 3, s: 1, pads: [4]int{1, 1, 1, 1}, bias: true, act: "clip"},
		{c: 3, h: 7, w: 7, k: 5, s: 1, pads: [4]int{2, 2, 2, 2}, act: "relu"},
		{c: 3, h: 20, w: 21, k: 3, s: 2, pads: [4]int{1, 1, 1, 1}, bias: true, act: "clip"},
		{c: 3, h: 14, w: 14, k: 5, s: 2, pads: [4]int{2, 2, 2, 2}, bias: true},
	} {
		t.Run(c.String(), func(t *testing.T) {
			m, in := c.model(t, rng, Options{})
			x := in[0].F
			x[5] = float32(math.NaN())
			x[c.h*c.w+c.w+3] = float32(math.Inf(1))
			x[2*c.h*c.w+c.h*c.w-1] = float32(math.Inf(-1))
			fast, err := m.NewSession().Run(in)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := m.NewSession().RunWith(in, referenceSelector{m})
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range ref[0].F {
				got := fast[0].F[i]
				if math.IsNaN(float64(want)) != math.IsNaN(float64(got)) || math.IsInf(float64(want), 0) && got != want {
					t.Fatalf("element %d: got %v, want %v", i, got, want)
				}
			}
		})
	}
}

// TestDepthwiseNoAllocs checks that steady-state runs allocate nothing at
// one and two threads, on every path (flat, rows, stride 2, general).
func TestDepthwiseNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 3))
	for _, c := range []dwCase{
		{c: 32, h: 56, w: 56, k: 3, s: 1, pads: [4]int{1, 1, 1, 1}, bias: true, act: "clip"},
		{c: 32, h: 14, w: 14, k: 5, s: 1, pads: [4]int{2, 2, 2, 2}, bias: true},
		{c: 32, h: 56, w: 56, k: 3, s: 2, pads: [4]int{1, 1, 1, 1}, act: "relu"},
		{c: 32, h: 30, w: 30, k: 3, s: 3, pads: [4]int{1, 1, 1, 1}},
	} {
		for _, threads := range []int{1, 2} {
			if threads > 1 && raceBuild {
				continue // sync.Pool allocates under -race
			}
			m, in := c.model(t, rng, Options{Threads: threads})
			s := m.NewSession()
			if _, err := s.Run(in); err != nil {
				t.Fatal(err)
			}
			if a := testing.AllocsPerRun(20, func() { s.Run(in) }); a != 0 {
				t.Errorf("%s, %d threads: %v allocations per run", c, threads, a)
			}
			s.Close()
		}
	}
}

// BenchmarkDepthwise times the depthwise kernel on MobileNet, EfficientNet
// and VWW shapes at one thread (GMAC/s printed as a metric); bench/dw
// compares the same shapes with ONNX Runtime.
func BenchmarkDepthwise(b *testing.B) {
	for _, c := range []dwCase{
		{c: 32, h: 112, w: 112, k: 3, s: 1, pads: [4]int{1, 1, 1, 1}, bias: true, act: "clip"},
		{c: 96, h: 112, w: 112, k: 3, s: 2, pads: [4]int{1, 1, 1, 1}, bias: true, act: "clip"},
		{c: 144, h: 56, w: 56, k: 3, s: 1, pads: [4]int{1, 1, 1, 1}, bias: true, act: "clip"},
		{c: 144, h: 56, w: 56, k: 3, s: 2, pads: [4]int{1, 1, 1, 1}, bias: true, act: "clip"},
		{c: 240, h: 28, w: 28, k: 5, s: 1, pads: [4]int{2, 2, 2, 2}, bias: true, act: "clip"},
		{c: 480, h: 14, w: 14, k: 5, s: 1, pads: [4]int{2, 2, 2, 2}, bias: true, act: "clip"},
		{c: 672, h: 14, w: 14, k: 5, s: 2, pads: [4]int{2, 2, 2, 2}, bias: true, act: "clip"},
		{c: 960, h: 7, w: 7, k: 3, s: 1, pads: [4]int{1, 1, 1, 1}, bias: true, act: "clip"},
		{c: 960, h: 7, w: 7, k: 5, s: 1, pads: [4]int{2, 2, 2, 2}, bias: true, act: "clip"},
		{c: 16, h: 48, w: 48, k: 3, s: 2, pads: [4]int{1, 1, 1, 1}, bias: true, act: "clip"},
		{c: 128, h: 6, w: 6, k: 3, s: 1, pads: [4]int{1, 1, 1, 1}, bias: true, act: "clip"},
	} {
		b.Run(c.String(), func(b *testing.B) {
			m, in := c.model(b, rand.New(rand.NewPCG(1, 1)), Options{})
			s := m.NewSession()
			s.Run(in)
			oh := (c.h+c.pads[0]+c.pads[2]-c.k)/c.s + 1
			ow := (c.w+c.pads[1]+c.pads[3]-c.k)/c.s + 1
			macs := float64(c.c * oh * ow * c.k * c.k)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s.Run(in)
			}
			b.ReportMetric(macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
}
